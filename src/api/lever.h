/* lever.h - lever's own operations (X-Amz-Target: Lever.<Operation>):
 * WatchParameters, the long poll described in docs/watch.md;
 * WatchConfigurations (lever_acwatch.c); the console's ListPathChildren
 * (lever_children.c) and CheckConfiguration (lever_check.c). */
#ifndef LV_API_LEVER_H
#define LV_API_LEVER_H

#include "api/ssm.h"
#include "http/http.h"

/* Whether op is a Lever.* operation this front-end knows. */
bool lv_lever_op_known(const char *op);

/* Handles Lever.<op>. May park the request (lv_http_defer) and answer it
 * later from an engine thread. On an immediate error returns it in err
 * (the router answers); LV_OK means resp was filled or deferred. */
lv_err lv_lever_dispatch(const lv_ssm_ctx *c, const char *op, const char *body,
                         size_t len, lv_http_response *resp, lv_error *err);

#endif
