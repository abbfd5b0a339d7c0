/* lever_children.h - Lever.ListPathChildren (docs/console.md): the folders
 * and parameters directly under a path, one page at a time. */
#ifndef LV_API_LEVER_CHILDREN_H
#define LV_API_LEVER_CHILDREN_H

#include "api/ssm.h"

/* Runs Lever.ListPathChildren on the JSON body; on LV_OK out holds the
 * answer {"Path", "Parameters": [...], "Folders": [...], "NextToken"?}. */
lv_err lv_lever_path_children(const lv_ssm_ctx *c, const char *body, size_t len, lv_buf *out, lv_error *err);

#endif
