/* appconfig.h - `lever appconfig`: the everyday AppConfig path from the
 * command line (list, push a hosted version, deploy, show what an
 * environment serves). Built on liblever only. docs/cli.md. */
#ifndef LV_CLI_APPCONFIG_H
#define LV_CLI_APPCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lever/lever.h"

/* The global options main.c parsed before the command. */
typedef struct lv_cli_ctx {
    const char *endpoint, *region, *profile;
    int output;  /* 0 auto, 1 table, 2 json, 3 text (main.c's OUT_*) */
} lv_cli_ctx;

#define LV_CLI_APPCONFIG_SYNOPSIS                                                                      \
    "appconfig (ls [APP] | push APP PROFILE FILE|- [--content-type T] [--description D] [--label L] |\n" \
    "        deploy APP ENV PROFILE VERSION [--strategy S] [--wait] | show APP ENV [PROFILE])"
#define LV_CLI_APPCONFIG_HELP                                                                              \
    "AppConfig from the command line (names or ids everywhere). ls: applications, or APP's environments\n" \
    "and configuration profiles. push: store FILE as a new hosted configuration version (prints its\n"     \
    "number). deploy: StartDeployment with a strategy (default AppConfig.AllAtOnce); --wait until every\n" \
    "client gets it (baking or complete; exit 1 if it rolls back). show: the latest deployment of every profile to ENV, or with\n" \
    "PROFILE the bytes ENV serves (as lever-agent would). -o json for scripts."

/* argv[0] is "appconfig". Returns the exit code (docs/cli.md). */
int lv_cli_appconfig(int argc, char **argv, const lv_cli_ctx *ctx);

/* What `lever flags` borrows (flags_edit.c). Errors are printed with the
 * prefix set here ("lever appconfig" by default); the ints are exit codes. */
void lv_cli_ac_error_prefix(const char *prefix);
int lv_cli_ac_exit(lever_status st);
/* One signed appconfig REST call; on a 2xx answer *ans (optional) is the
 * parsed JSON body (NULL when empty or not JSON) and *resp (optional) the
 * response (free with lever_response_free). */
int lv_cli_ac_call(lever *c, const char *method, const char *path, const char *const *hdrs, const void *body,
                   size_t blen, json_t **ans, lever_response **resp);
/* The ids of an application and one of its configuration profiles (names or ids). */
int lv_cli_ac_ids(lever *c, const char *app, const char *profile, char *aid, char *pid, size_t cap);
/* `lever appconfig deploy APP ENV PROFILE VERSION [--strategy S] [--wait]`. */
int lv_cli_ac_deploy(lever *c, bool json, const char *app, const char *env, const char *profile,
                     const char *version, const char *strategy, bool wait);

#endif
