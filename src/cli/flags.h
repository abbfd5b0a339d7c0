/* flags.h - `lever flags`: local feature flag tools (validate, eval;
 * flags.c) and edits of a hosted profile's flag document (on, off, attr,
 * variant, show, diff; flags_edit.c). */
#ifndef LV_CLI_FLAGS_H
#define LV_CLI_FLAGS_H

#include "cli/appconfig.h" /* lv_cli_ctx */

/* argv[0] is "flags". Returns the exit status. */
int lv_cli_flags(int argc, char **argv, const lv_cli_ctx *ctx);

/* The edits: argv[1] is on, off, attr, variant, show or diff. */
int lv_cli_flags_edit(int argc, char **argv, const lv_cli_ctx *ctx);
/* Their usage lines. */
const char *lv_cli_flags_edit_usage(void);

#endif
