/* appconfig.h - lever-agent's AppConfig Agent API: GET
 * /applications/{app}/environments/{env}/configurations/{profile} on its own
 * loopback listener (default 127.0.0.1:2772), configurations cached in
 * memory and on disk, kept current by Lever.WatchConfigurations, served
 * stale while leverd is down; AWS's local development mode. The same
 * process as the parameters API (agent.h). See docs/agent.md, "AppConfig". */
#ifndef LV_AGENT_APPCONFIG_H
#define LV_AGENT_APPCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/acreq.h"

typedef struct lvac_config {
    const char *upstream;          /* leverd endpoint URL */
    const char *region;
    const char *profile;           /* shared-credentials profile or NULL */
    const char *listen;            /* HOST:PORT */
    bool listen_optional;          /* the default address: a failed bind is a warning */
    const lvac_target *prefetch;   /* App:Env:Profile items to load at start */
    size_t nprefetch;
    const char *cache_dir;         /* NULL: memory only */
    const char *access_token;      /* ACCESS_TOKEN: required as "Authorization: Bearer" */
    const char *local_dir;         /* LOCAL_DEVELOPMENT_DIRECTORY or NULL */
    const char *instance_id;       /* entity without Entity-Id; NULL = generated */
    unsigned threads;              /* HTTP threads, 0 = CPUs */
    unsigned max_connections;      /* upstream connections kept for fetches (MAX_CONNECTIONS) */
    int64_t poll_interval_ms;      /* re-check period when leverd has no watch (POLL_INTERVAL) */
    int64_t request_timeout_ms;    /* per upstream call (REQUEST_TIMEOUT) */
    int watch_wait_s;              /* long-poll length, 1-60 */
    size_t max_entries;            /* configurations kept besides the prefetched ones */
    int64_t served_report_ms;      /* served-share reports at least this often in rollouts; 0 = none */
} lvac_config;

typedef struct lvac_agent lvac_agent;

/* Loads the disk copy, starts the listener and the watch thread; does not
 * wait for leverd. *out is NULL (and 0 returned) when the listener was
 * optional and could not bind. Returns 0, or -1 with a message. */
int lvac_start(const lvac_config *cfg, lvac_agent **out, char *err, size_t errlen);

/* The port actually bound. */
unsigned lvac_port(const lvac_agent *a);

/* Stops serving and the threads, writes the disk copy a last time, frees a. */
void lvac_stop(lvac_agent *a);

#endif
