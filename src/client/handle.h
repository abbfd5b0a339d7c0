/* handle.h - what liblever's handle (lever.c) lends the modules built on it
 * (appconfig.c): its transport settings, clock, logging, error record, and
 * a slot for the module's own state, freed at lever_close. */
#ifndef LV_CLIENT_HANDLE_H
#define LV_CLIENT_HANDLE_H

#include <stdint.h>

#include "client/http.h"
#include "lever/lever.h"

typedef struct lvc_h_settings {
    int64_t ttl_ms, timeout_ms;
    int watch_wait_s;
    bool live;
} lvc_h_settings;

const lvc_server *lvc_h_server(const lever *c);
void lvc_h_get_settings(const lever *c, lvc_h_settings *out);
int64_t lvc_h_now(const lever *c);
/* lever_options_set_client_id's value, or NULL. */
const char *lvc_h_client_id(const lever *c);
void lvc_h_log(lever *c, lever_log_level level, const char *msg);
/* Records a failure for lever_last_error and returns st. */
lever_status lvc_h_fail(lever *c, lever_status st, const char *msg);

/* The AppConfig state of the handle (appconfig.c), created on first use. */
struct lvc_ac;
struct lvc_ac **lvc_h_ac_slot(lever *c);
/* Stops and frees it; called by lever_close before anything else goes. */
void lvc_ac_close(lever *c);

#endif
