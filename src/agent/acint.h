/* acint.h - state shared by the AppConfig part of lever-agent: the request
 * side (appconfig.c) and the upstream side (acsync.c: fetches, the watch
 * thread, the disk copy). One mutex guards the entries and the watch
 * state; upstream calls are made without it. */
#ifndef LV_AGENT_ACINT_H
#define LV_AGENT_ACINT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/appconfig.h"
#include "client/http.h"
#include "client/rollout.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "core/served.h"
#include "json/flagdoc.h"

#include <jansson.h>

enum { LVAC_POOL_MAX = 64 };

/* Fetches ask feature-flag profiles for their stored document
 * (X-Lever-Document: stored) to evaluate variants here (acflags.c). */
#define LVAC_STORED_DOCS 1

/* One version of a configuration as served: its bytes and, for a stored
 * feature-flag document, the compiled form and its Context-free rendering. */
typedef struct acside {
    char *data;                      /* the configuration's bytes, or NULL when not held */
    size_t len;
    bool stored_doc;                 /* data is a stored flag document, compiled in fd */
    lv_flagdoc *fd;                  /* compiled stored flag document, or NULL */
    char *plain;                     /* fd served for no Context / flag / Entity-Id */
    size_t plain_len;
    char ctype[128];
    char version[128];
} acside;

/* A configuration (application, environment, profile). Outside gradual
 * deployments it has one side, cur. During one (rollout.active) cur is the
 * deployment's `to` version and from the version served before; each
 * request's entity picks its side by the published bucketing
 * (lvc_rollout_is_to), so every entity gets what leverd would give it. */
typedef struct acentry {
    char *key;                       /* lvac_entry_key(app, env, profile, "") */
    char app[LVAC_NAME_MAX + 1], env[LVAC_NAME_MAX + 1], profile[LVAC_NAME_MAX + 1];
    bool have;                       /* cur holds an answer */
    acside cur;
    acside from;                     /* from.data set while rollout.active with a from version */
    lvc_rollout rollout;
    bool prefetched;
    uint64_t revision;               /* x-lever-revision of the answer it came from */
    int64_t confirmed_ms;            /* wall: when leverd last vouched for it */
    int64_t fetched_mono;
    int64_t used_mono;               /* LRU */
    struct lvac_served *served;      /* served-share tally (acserved.c), or NULL */
} acentry;

/* Frees what a side holds and empties it. */
void lvac_side_clear(acside *s);
/* The side entity is served (cur outside deployments). Caller holds mu. */
const acside *lvac_side_for(const acentry *e, const char *entity);

struct lvac_agent {
    lvac_config cfg;
    lvc_server srv;
    lv_http_server *http;
    unsigned char seal_key[LV_MASTER_KEY_LEN];
    bool persist;
    char instance_id[64];

    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    acentry **entries;
    size_t n, cap;
    /* watch state, under mu */
    bool watching;                   /* the watch is current: entries need no revalidation */
    bool unsupported;                /* leverd has no Lever.WatchConfigurations: poll */
    uint64_t revision;               /* changes up to here are applied */
    bool up_down;
    unsigned up_streak;
    int64_t up_retry_at;             /* mono */
    double lag_s;
    uint64_t relists, reconnects;
    /* persistence, under mu */
    bool dirty, save_failing;
    int64_t last_save_mono;

    pthread_t watcher, persister;
    bool watcher_started, persister_started;
    lvc_conn *wconn;                 /* interruptible: watch and refreshes */

    pthread_mutex_t pool_mu;
    lvc_conn *pool[LVAC_POOL_MAX];
    size_t npool;

    atomic_uint_fast64_t hits, misses, stale, upstream_errors, refused, bad_requests, local_reads, saves,
        save_errors, cache_rejected, cache_loaded;
    atomic_uint_fast64_t side_fetches, bad_rollouts; /* from-side fetches; unusable rollout headers */
};

int64_t lvac_mono_ms(void);
int64_t lvac_wall_ms(void);

/* Frees an entry (already out of the table). NULL is a no-op. */
void lvac_entry_free(acentry *e);

/* Caller holds mu. The entry of key, or NULL. */
acentry *lvac_find(lvac_agent *a, const char *key);
/* Caller holds mu. The entry of (app, env, profile), created empty when
 * missing (evicting the least recently used non-prefetched entry beyond
 * max_entries). NULL when out of memory. */
acentry *lvac_get_or_add(lvac_agent *a, const char *app, const char *env, const char *profile, bool prefetched);

/* Caller holds mu. Upstream health as handlers see it. */
void lvac_upstream_ok_locked(lvac_agent *a);
void lvac_upstream_failed_locked(lvac_agent *a, const char *why);

/* Whether a failed call means "leverd is not answering". */
bool lvac_is_outage(lever_status st, const lvc_raw *r);

lvc_conn *lvac_conn_get(lvac_agent *a);
void lvac_conn_put(lvac_agent *a, lvc_conn *c);

/* GetConfiguration for (app, env, profile) as the agent's instance id;
 * side "to" or "from" asks leverd for that side of a gradual deployment
 * (x-lever-rollout-side), NULL for what it buckets the agent to;
 * cur_version non-empty asks for an empty answer when unchanged. */
lever_status lvac_fetch(lvac_agent *a, lvc_conn *c, const char *app, const char *env, const char *profile,
                        const char *side, const char *cur_version, lvc_raw *r, char *err, size_t errlen);

/* Brings the entry of (app, env, profile) up to date with leverd: the
 * `to` side (conditionally on what is held), and during a gradual
 * deployment the `from` side too (kept when held, taken from the old `to`
 * when that is it, else fetched), then both stored at once so no request
 * sees half a deployment. create adds the entry when it is missing (else
 * an evicted entry's answer is dropped). Answers older (by revision) than
 * what the entry holds are ignored. On LEVER_OK *revision is the answer's
 * revision. On an error nothing changes and *r_err holds the failed
 * answer (for passing on; the caller clears it). Takes mu. */
lever_status lvac_sync_entry(lvac_agent *a, lvc_conn *c, const char *app, const char *env, const char *profile,
                             bool create, lvc_raw *r_err, uint64_t *revision, char *err, size_t errlen);

/* The upstream side's threads and the disk copy (acsync.c). */
int lvac_sync_start(lvac_agent *a, char *err, size_t errlen);
void lvac_sync_stop(lvac_agent *a);
void lvac_load_disk(lvac_agent *a);
void lvac_save(lvac_agent *a);

/* Compiles a stored feature-flag document (acflags.c): 0 with *fd and the
 * text served without Context for entity (*plain, malloc'd), 1 when doc is
 * not a flag document, -1 out of memory. */
int lvac_flags_compile(const char *doc, size_t len, const char *entity, lv_flagdoc **fd, char **plain,
                       size_t *plain_len);
/* The served form of fd for a request's flags, Context and entity. */
int lvac_flags_serve(const lv_flagdoc *fd, const lvac_flags *flags, const lvac_context *ctx, const char *entity,
                     lv_buf *out);
/* One flag's OFREP evaluation written onto out (reset first) from the
 * texts compiled with fd: 1 done, 0 an error result (use
 * lvac_flags_ofrep), -1 out of memory. */
int lvac_flags_ofrep_text(const lv_flagdoc *fd, const char *key, const unsigned char *types, const lvac_context *c,
                          const char *entity, lv_buf *out);
/* OFREP evaluations from fd: one flag (key) or {"flags": [...]}; *status
 * 200, 400 or 404 for one flag. 0, or -1 out of memory. */
int lvac_flags_ofrep(const lv_flagdoc *fd, const char *key, const unsigned char *types, const lvac_context *ctx,
                     const char *entity, json_t **out, int *status);

/* The answer body of a feature-flag request (acflags.c): the document of
 * the entry (simplified, or stored when stored is set: evaluated for ctx,
 * which may be NULL, and entity), limited to flags when flags->n > 0. Returns 0, or -1 with
 * *status and a message. */
int lvac_flags_answer(const char *doc, size_t len, bool stored, const lvac_flags *flags,
                      const lvac_context *ctx, const char *entity, lv_buf *out, int *status, char *err,
                      size_t errlen);

/* ---- served share (acserved.c), docs/rollouts.md ---- */
enum { LVAC_SERVED_MAX = 64 };  /* configurations in one report */
/* Caller holds mu. entity was just served version from e. */
void lvac_served_note(lvac_agent *a, acentry *e, const char *entity, const char *version);
void lvac_served_free(struct lvac_served *s);
/* Whether some entry is being counted (the watch then waits at most the
 * report interval). Takes mu. */
bool lvac_served_pending(lvac_agent *a);
/* The report since the previous one, as the Served member's array (new
 * reference), or NULL when there is nothing to say. Takes mu. */
json_t *lvac_served_take(lvac_agent *a);

#endif
