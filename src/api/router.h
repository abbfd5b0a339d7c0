/* router.h - the HTTP handler of leverd: health and metrics endpoints,
 * SigV4 authentication, and dispatch to the protocol front-ends. */
#ifndef LV_API_ROUTER_H
#define LV_API_ROUTER_H

#include "api/audit.h"
#include "api/throttle.h"
#include "auth/keys.h"
#include "auth/keystore.h"
#include "engine/engine.h"
#include "http/http.h"

typedef struct lv_router lv_router;

typedef struct lv_router_config {
    lv_engine *engine;
    const char *account_id;
    const lv_credentials *root;   /* the root access key */
    lv_keystore *keys;            /* issued keys and their policies; NULL: root only */
    lv_audit *audit;              /* NULL: no audit log */
    lv_throttle *throttle;        /* NULL: no rate limits */
} lv_router_config;

lv_err lv_router_new(const lv_router_config *cfg, lv_router **out, lv_error *err);
void lv_router_free(lv_router *r);

/* An lv_http_handler_fn; ctx is the lv_router. */
void lv_router_handle(void *ctx, const lv_http_request *req, lv_http_response *resp);

#endif
