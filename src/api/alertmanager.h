/* alertmanager.h - the receiver of Prometheus Alertmanager's webhook
 * (POST /alertmanager, bearer token): each alert's labels.alertname names
 * a lever alarm; firing -> ALARM, resolved -> OK. docs/rollouts.md. */
#ifndef LV_API_ALERTMANAGER_H
#define LV_API_ALERTMANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "alarm/alarms.h"
#include "api/audit.h"
#include "core/err.h"
#include "http/http.h"

#define LV_AM_PATH "/alertmanager"

enum { LV_AM_ALERTS_MAX = 10000 };

/* One alarm named by the notification: firing when any of its alerts
 * fires, else resolved. */
typedef struct lv_am_update {
    char *name;
    bool firing;
} lv_am_update;

/* Parses a webhook body (version "4"). On LV_OK *out (free with
 * lv_am_free) holds one entry per distinct alertname, in first-seen
 * order. A malformed body gives LV_E_SERIALIZATION or LV_E_VALIDATION. */
lv_err lv_am_parse(const char *body, size_t len, lv_am_update **out, size_t *n, lv_error *err);
void lv_am_free(lv_am_update *u, size_t n);

typedef struct lv_am_ctx {
    lv_alarms *alarms;
    const char *token;      /* NULL: the receiver is off (404) */
    lv_audit *audit;        /* may be NULL */
    const char *request_id;
} lv_am_ctx;

/* Answers a request for LV_AM_PATH. */
void lv_am_handle(const lv_am_ctx *c, const lv_http_request *req, lv_http_response *resp);

#endif
