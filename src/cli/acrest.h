/* acrest.h - AppConfig's REST-JSON control plane for the lever commands
 * (lever appconfig, lever deploy) over liblever's signed REST call:
 * errors printed as AppConfig sends them, paged List* calls, names
 * resolved to ids the way a person types them. Returns exit codes. */
#ifndef LV_CLI_ACREST_H
#define LV_CLI_ACREST_H

#include <stddef.h>

#include <jansson.h>

#include "cli/exitcodes.h"
#include "lever/lever.h"

/* What error messages start with ("lever" by default). */
void lv_acrest_error_prefix(const char *prefix);

/* The exit code of a call's status and HTTP status. */
int lv_acrest_exit_of(lever_status st, long http);

/* Appends s percent-encoded (a path segment or query value) to the string
 * in out. -1 when it does not fit. */
int lv_acrest_enc(char *out, size_t cap, const char *s);

/* One call; on a 2xx answer *ans (may be NULL) is the parsed JSON body
 * (NULL when empty or not JSON) and *resp (may be NULL) the response.
 * Errors are printed; the return is the exit code. */
int lv_acrest_call(lever *c, const char *method, const char *path, const char *const *hdrs, const void *body,
                   size_t blen, json_t **ans, lever_response **resp);

/* Every item of a paged List* call (Items / NextToken) into *items. */
int lv_acrest_list(lever *c, const char *path, json_t **items);

/* The id of what want names (an id or a name) among path's items. */
int lv_acrest_resolve(lever *c, const char *path, const char *want, const char *what, char *id, size_t cap);
int lv_acrest_app_id(lever *c, const char *app, char *id, size_t cap);
/* kind: "/environments" or "/configurationprofiles" of application aid. */
int lv_acrest_child_id(lever *c, const char *aid, const char *kind, const char *want, const char *what, char *id,
                       size_t cap);

#endif
