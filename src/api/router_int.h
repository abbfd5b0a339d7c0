/* router_int.h - the router's state, shared by router.c (dispatch) and
 * router_metrics.c (/metrics and the request-time histogram). Private to
 * src/api. */
#ifndef LV_API_ROUTER_INT_H
#define LV_API_ROUTER_INT_H

#include <stdatomic.h>
#include <time.h>

#include "api/offload.h"
#include "api/router.h"

enum { MAX_OPS = 32 };

struct lv_router {
    lv_engine *engine;
    char account[16];
    lv_credentials root;
    char root_arn[64];
    lv_keystore *keys;
    lv_audit *audit;
    lv_throttle *throttle;
    lv_console *console;          /* NULL: no console */
    lv_alarms *alarms;
    const char *am_token;
    lv_hooks *hooks;
    lv_offload *offload;          /* requests waiting on synchronous hooks */
    lv_offload *writes;           /* shared store: SSM writes, off the event loops */
    atomic_uint_fast64_t denied;
    atomic_uint_fast64_t throttled;
    atomic_uint_fast64_t ok[MAX_OPS + 1];   /* [MAX_OPS] = unknown */
    atomic_uint_fast64_t failed[MAX_OPS + 1];
    atomic_uint_fast64_t auth_failed;
    atomic_uint_fast64_t lat_bucket[8];     /* histogram of handling time */
    atomic_uint_fast64_t lat_sum_us;
    atomic_uint_fast64_t lat_count;
};

/* GET /metrics: Prometheus text. */
void lv_router_metrics(lv_router *r, lv_http_response *resp);
/* Counts one API request that started at t0 (CLOCK_MONOTONIC). */
void lv_router_observe(lv_router *r, const struct timespec *t0);

#endif
