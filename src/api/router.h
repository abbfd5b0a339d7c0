/* router.h - the HTTP handler of leverd: health and metrics endpoints,
 * SigV4 authentication, and dispatch to the protocol front-ends. */
#ifndef LV_API_ROUTER_H
#define LV_API_ROUTER_H

#include "alarm/alarms.h"
#include "api/audit.h"
#include "api/throttle.h"
#include "auth/keys.h"
#include "auth/keystore.h"
#include "console/console.h"
#include "engine/engine.h"
#include "http/http.h"
#include "hooks/hooks.h"

typedef struct lv_router lv_router;

typedef struct lv_router_config {
    lv_engine *engine;
    const char *account_id;
    const lv_credentials *root;   /* the root access key */
    lv_keystore *keys;            /* issued keys and their policies; NULL: root only */
    lv_audit *audit;              /* NULL: no audit log */
    lv_throttle *throttle;        /* NULL: no rate limits */
    const lv_console_config *console; /* NULL: no /console/ */
    lv_alarms *alarms;            /* NULL: no alarm operations */
    const char *alertmanager_token; /* NULL: no Alertmanager receiver */
    lv_hooks *hooks;              /* NULL: extension webhooks are not called */
} lv_router_config;

lv_err lv_router_new(const lv_router_config *cfg, lv_router **out, lv_error *err);
void lv_router_free(lv_router *r);
/* Before the listener stops: requests parked on a synchronous hook are
 * finished (the hooks are told to give up) and no more are parked. */
void lv_router_drain(lv_router *r);

/* An lv_http_handler_fn; ctx is the lv_router. */
void lv_router_handle(void *ctx, const lv_http_request *req, lv_http_response *resp);

/* Handles req (POST / with X-Amz-Target) as a call by akid in region,
 * authenticated by the caller (the console's session) instead of by a
 * SigV4 signature: authorisation, throttling, audit and dispatch are
 * those of a signed request by that key. */
void lv_router_handle_as(lv_router *r, const lv_http_request *req, lv_http_response *resp, const char *akid,
                         const char *region);

/* LV_OK when SigV4 would accept akid with this secret (the root key, or
 * an active issued key); LV_E_UNRECOGNIZED_CLIENT otherwise. */
lv_err lv_router_check_key(lv_router *r, const char *akid, const char *secret);
/* Whether akid is still a key SigV4 would accept (root or active). */
bool lv_router_key_active(lv_router *r, const char *akid);
bool lv_router_is_root(const lv_router *r, const char *akid);
/* The account id of every ARN this server answers with. */
const char *lv_router_account(const lv_router *r);

#endif
