/* agent.h - lever-agent's runtime: the loopback HTTP API compatible with the
 * AWS Parameters and Secrets Lambda Extension, the cache behind it, the
 * watch threads that keep prefetched prefixes current, and the disk copy.
 * See docs/agent.md. */
#ifndef LV_AGENT_AGENT_H
#define LV_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LVA_LOG_DEBUG = 0, LVA_LOG_INFO, LVA_LOG_WARN, LVA_LOG_ERROR, LVA_LOG_NONE };

typedef struct lva_config {
    const char *upstream;        /* leverd endpoint URL (resolved by the caller) */
    const char *region;          /* signing region */
    const char *profile;         /* shared-credentials profile or NULL */
    const char *listen;          /* HOST:PORT */
    const char *const *prefixes; /* normalised paths ("/a/b", "/") */
    size_t nprefixes;
    const char *cache_dir;       /* NULL: memory only */
    int64_t ttl_ms;              /* on-demand entries; 0 = revalidate every request */
    size_t max_entries;          /* on-demand entries kept; 0 = none */
    const char *token;           /* LEVER_AGENT_TOKEN, or NULL */
    const char *session_token;   /* AWS_SESSION_TOKEN, or NULL */
    unsigned threads;            /* HTTP threads, 0 = CPUs */
    int watch_wait_s;            /* long-poll length, 1-60 */
    int64_t request_timeout_ms;  /* per upstream call */
} lva_config;

typedef struct lva_agent lva_agent;

/* Log threshold for lva_log (process-wide; set once before start). */
void lva_set_log_level(int level);
void lva_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Loads the disk copy (if any), starts the listener, the watch threads and
 * the persister. Does not wait for the upstream: an agent whose upstream
 * is down starts and serves what it has. Returns 0, or -1 with a message. */
int lva_agent_start(const lva_config *cfg, lva_agent **out, char *err, size_t errlen);

/* The port actually bound. */
unsigned lva_agent_port(const lva_agent *a);

/* Stops serving, stops the threads, writes the cache a last time, frees a. */
void lva_agent_stop(lva_agent *a);

/* Prefix normalisation for --prefetch: leading '/', no trailing '/' (except
 * "/" itself), no empty segments. Newly allocated; NULL when p is not a
 * usable path ("", control characters) or out of memory. */
char *lva_norm_prefix(const char *p);

#endif
