/* lever_check.h - Lever.CheckConfiguration (docs/console.md): a draft
 * configuration checked for a profile as leverd would check it when it is
 * stored and deployed, and its feature flags evaluated for a context;
 * nothing is written. */
#ifndef LV_API_LEVER_CHECK_H
#define LV_API_LEVER_CHECK_H

#include "api/ssm.h"

/* Runs Lever.CheckConfiguration on the JSON body; on LV_OK out holds
 * {"Valid", "Violations": [{"Pointer"?, "Reason"}], "Stage"?, "Line"?,
 * "Column"?, "Flags"?: [{"Flag", "Enabled", "Variant"?, "Reason",
 * "ErrorCode"?, "Value"}]}. */
lv_err lv_lever_check_configuration(const lv_ssm_ctx *c, const char *body, size_t len, lv_buf *out,
                                    lv_error *err);

#endif
