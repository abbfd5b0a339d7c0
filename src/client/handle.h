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
/* The env scheme (lever_env_scheme) and env prefix ("" when none) of a
 * handle or of options. */
void lvc_h_env(const lever *c, int *scheme, const char **env_prefix);
void lvc_h_options_env(const lever_options *o, int *scheme, const char **env_prefix);
/* lever_options_set_client_id's value, else the handle's random
 * "liblever-<24 hex>" (never NULL after lever_open). */
const char *lvc_h_client_id(const lever *c);
void lvc_h_log(lever *c, lever_log_level level, const char *msg);
/* Records a failure for lever_last_error and returns st. */
lever_status lvc_h_fail(lever *c, lever_status st, const char *msg);

/* The AppConfig state of the handle (appconfig.c), created on first use. */
struct lvc_ac;
struct lvc_ac **lvc_h_ac_slot(lever *c);
/* Stops and frees it; called by lever_close before anything else goes. */
void lvc_ac_close(lever *c);

/* lever_get_configuration and lever_subscribe_configuration for the
 * flags module: with stored, the stored form of a feature-flag profile
 * (X-Lever-Document: stored, as lever-agent asks), a separate cache entry.
 * have_gen: the generation the caller holds (0: none); when the cached
 * entry is still at it, *out stays NULL (nothing changed, nothing copied). */
lever_status lvc_ac_read(lever *c, const char *app, const char *env, const char *profile, bool stored,
                         uint64_t have_gen, lever_configuration **out, lever_source *src);
lever_status lvc_ac_subscribe(lever *c, const char *app, const char *env, const char *profile, bool stored,
                              lever_configuration_fn fn, void *user, uint64_t *id);
/* Whether leverd marked the answer as the stored form; the generation of
 * the entry it was copied from. */
bool lvc_ac_cfg_stored(const lever_configuration *cfg);
uint64_t lvc_ac_cfg_gen(const lever_configuration *cfg);

#endif
