/* guard.h - throttling of console sign-in: every failed attempt takes a
 * token from the bucket of its remote address and from that of the key
 * id it claimed; an attempt is refused while either bucket is empty. */
#ifndef LV_CONSOLE_GUARD_H
#define LV_CONSOLE_GUARD_H

#include <stdbool.h>

#include "core/err.h"

typedef struct lv_guard lv_guard;

typedef struct lv_guard_config {
    double addr_burst, addr_per_s;  /* failures per address: burst, refill per second */
    double key_burst, key_per_s;    /* failures per claimed key id */
} lv_guard_config;

lv_err lv_guard_new(const lv_guard_config *cfg, lv_guard **out, lv_error *err);
void lv_guard_free(lv_guard *g);

/* Whether an attempt from addr for akid may go ahead at now_s (seconds,
 * monotonic); when not, *retry_s says when one may. */
bool lv_guard_allow(lv_guard *g, const char *addr, const char *akid, double now_s, unsigned *retry_s);
/* Counts a failed attempt. */
void lv_guard_failed(lv_guard *g, const char *addr, const char *akid, double now_s);

#endif
