/* policy.h - parameter policies (Expiration, ExpirationNotification,
 * NoChangeNotification) in typed form, and when each one is due. The JSON
 * document a client sends is parsed by the front-end (api/policy_json.c);
 * core only sees these structs. */
#ifndef LV_CORE_POLICY_H
#define LV_CORE_POLICY_H

#include <stdint.h>

#include "core/err.h"

enum { LV_MAX_POLICIES = 10 };

typedef enum lv_policy_type {
    LV_POLICY_EXPIRATION = 0,
    LV_POLICY_EXPIRATION_NOTIFICATION = 1,
    LV_POLICY_NO_CHANGE_NOTIFICATION = 2,
} lv_policy_type;

typedef struct lv_policy {
    lv_policy_type type;
    int64_t timestamp_ms; /* Expiration: when the parameter goes */
    int64_t amount_ms;    /* Notifications: Before / After, in milliseconds */
} lv_policy;

typedef struct lv_policy_set {
    unsigned n;
    lv_policy p[LV_MAX_POLICIES];
} lv_policy_set;

const char *lv_policy_type_name(lv_policy_type t);

/* Rules across a set: at most one policy of each type, notifications
 * about expiry need an Expiration, an Expiration must lie in the future
 * (now_ms). */
lv_err lv_policy_set_check(const lv_policy_set *s, int64_t now_ms, lv_error *err);

/* When policy i of s, attached to a version last modified at
 * modified_ms, is due (epoch ms); INT64_MAX when never. */
int64_t lv_policy_due(const lv_policy_set *s, unsigned i, int64_t modified_ms);

#endif
