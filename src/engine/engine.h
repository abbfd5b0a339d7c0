/* engine.h - the one orchestrator: owns the in-memory index, the store,
 * the writer thread (group commit), the revision counter, the change log
 * and the policy timers. Front-ends call it with typed requests.
 *
 * Reads: take the read lock, look at the index, release. Nothing a reader
 * sees is ever mutated: writers build new parameter states and swap them
 * in under the write lock, after they are durable.
 * Writes: lv_engine_write blocks until the change is durable and visible
 * (or refused); concurrent writers share one store transaction. */
#ifndef LV_ENGINE_ENGINE_H
#define LV_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/appconfig.h"
#include "core/buf.h"
#include "core/changelog.h"
#include "core/err.h"
#include "core/index.h"
#include "core/param.h"
#include "core/plan.h"

typedef struct lv_engine lv_engine;
struct lv_store_op;

typedef struct lv_engine_config {
    const char *store_uri;        /* "sqlite:/path/lever.db" */
    const char *master_key_path;  /* created when missing */
    size_t changelog_cap;         /* 0 = 100000 */
    unsigned timer_interval_ms;   /* policy timer tick; 0 = 250 */
    uint64_t feed_retention;      /* revisions the store keeps tombstones; 0 = the store's default */
} lv_engine_config;

lv_err lv_engine_open(const lv_engine_config *cfg, lv_engine **out, lv_error *err);
/* Stops the writer and timer threads (after finishing queued writes) and
 * closes the store. */
void lv_engine_close(lv_engine *e);

/* ---- reads ---- */
void lv_engine_rdlock(lv_engine *e);
void lv_engine_rdunlock(lv_engine *e);
/* Under the read lock. */
const lv_param *lv_engine_get(lv_engine *e, const char *region, const char *name);
const lv_index *lv_engine_index(lv_engine *e);
const lv_changelog *lv_engine_changelog(lv_engine *e);
/* Safe with or without the read lock. */
uint64_t lv_engine_revision(lv_engine *e);
/* Decrypts a SecureString version of p into out (appends). */
lv_err lv_engine_decrypt(lv_engine *e, const lv_param *p, const lv_version *v,
                         lv_buf *out, lv_error *err);

/* ---- writes ---- */
typedef enum lv_write_kind {
    LV_WRITE_PUT,
    LV_WRITE_DELETE,
    LV_WRITE_LABEL,
    LV_WRITE_UNLABEL,
    LV_WRITE_ADD_TAGS,
    LV_WRITE_REMOVE_TAGS,
    LV_WRITE_EXPIRE,   /* timer: delete if the Expiration policy is still due */
    LV_WRITE_NOTIFY,   /* timer: record a notification event */
    LV_WRITE_RAW,      /* auxiliary records (access keys): store ops, no change event */
    LV_WRITE_REWRAP,   /* master key rotation: re-seal a parameter's SecureString versions */
    LV_WRITE_APPCONFIG, /* an AppConfig write (core/appconfig.h): region and name unused */
} lv_write_kind;

typedef struct lv_write {
    lv_write_kind kind;
    const char *region;
    const char *name;
    union {
        struct { const lv_put_input *in; lv_put_result res; } put;
        struct { uint32_t version; const char *const *labels; unsigned n; lv_label_result res; } label;
        struct { const lv_tag_in *tags; unsigned n; } tags;
        struct { const char *const *keys; unsigned n; } untag;
        struct { uint32_t version; lv_change_kind event; } timer;
        struct { const struct lv_store_op *ops; size_t n; } raw; /* keys start with an aux kind byte */
        /* result: one reference to the created/updated record (NULL for
         * deletes); the caller unrefs it (lv_acrec_unref). */
        struct { const lv_acreq *req; lv_acrec *result; } ac;
    } u;
    /* results */
    lv_err rc;
    lv_error err;
    uint64_t revision;     /* the change's revision when it changed something */
    /* engine-private */
    bool done;
    bool stored;           /* the write added store ops (raw or re-wrap) */
    struct lv_write *next;
} lv_write;

/* Applies n writes (each independently: one failing does not stop the
 * others) and returns once all are durable or refused; each w[i].rc says
 * which. Returns LV_OK unless the engine is shutting down. */
lv_err lv_engine_write(lv_engine *e, lv_write *w, size_t n);

/* ---- AppConfig records (engine/appconfig.c) ----
 * Under the read lock: a view of every AppConfig record (core/appconfig.h
 * reads through it). Records are immutable; take a reference
 * (lv_acrec_ref) to keep one past the lock. */
void lv_engine_ac_view(lv_engine *e, lv_acview *out);
/* One AppConfig write through the writer (group commit); *result as in
 * lv_write.u.ac. Returns the write's code, err its message. */
lv_err lv_engine_ac_write(lv_engine *e, const lv_acreq *req, lv_acrec **result, uint64_t *revision,
                          lv_error *err);

/* Counters for /metrics. */
enum { LV_FOLLOW_LAG_BUCKETS = 11 };
typedef struct lv_engine_stats {
    uint64_t commits, commit_ops, writes, write_errors;
    uint64_t params;
    uint64_t revision;
    uint64_t expired;
    uint64_t conflicts;   /* commits refused because another node wrote first (re-planned) */
    uint64_t followed;    /* other nodes' commits applied from the feed */
    uint64_t reloads;     /* whole-store loads after falling behind the feed */
    /* Other nodes' commits from their writer's clock to applied here
     * (histogram, upper bounds lv_engine_follow_lag_ms; [n] = above). */
    uint64_t follow_lag[LV_FOLLOW_LAG_BUCKETS + 1];
    uint64_t follow_lag_count, follow_lag_sum_ms;
} lv_engine_stats;
extern const unsigned lv_engine_follow_lag_ms[LV_FOLLOW_LAG_BUCKETS];
void lv_engine_stats_get(lv_engine *e, lv_engine_stats *out);

/* ---- watchers ---- */

/* Called exactly once per watcher, from an engine thread, when a change
 * under its prefix has been committed, its deadline has passed, or the
 * engine is stopping. It must be quick and must not call back into the
 * watcher API. */
typedef void (*lv_watch_fn)(void *ctx);

typedef struct lv_watch_spec {
    const char *key_prefix;   /* "<region>\0<path>", path "/" means all */
    size_t prefix_len;
    bool root;                /* path was "/" */
    bool recursive;
    int64_t deadline_ms;      /* epoch ms */
} lv_watch_spec;

/* Whether the change key (region\0name) falls under spec. */
bool lv_watch_matches(const lv_watch_spec *spec, const char *key, size_t key_len);

/* Registers a watcher for changes after revision `since`, unless the
 * current revision is already past it, in which case nothing is
 * registered and false is returned so the caller re-reads the change log.
 * Returns true when registered (spec is copied). On allocation failure
 * returns false with err set. */
bool lv_engine_watch(lv_engine *e, const lv_watch_spec *spec, uint64_t since,
                     lv_watch_fn fn, void *ctx, lv_error *err);

/* Fires every watcher now (shutdown of the listener). */
void lv_engine_watch_fire_all(lv_engine *e);

/* Consistent copy of the store to path. */
lv_err lv_engine_backup(lv_engine *e, const char *path, lv_error *err);

/* ---- auxiliary records and secrets (access keys, see auth/keystore.h) ----
 * Records whose key starts with an aux kind byte ('K' = access key) are
 * not parameters: the engine keeps them as loaded at open for their owner
 * to read once, and writes them durably through the writer
 * (LV_WRITE_RAW) so they share the store's atomicity and group commit. */
enum { LV_AUX_ACCESS_KEY = 'K', LV_AUX_ALARM = 'L' /* alarm/alarms.h */ };

typedef void (*lv_engine_aux_fn)(void *ctx, const void *key, size_t klen, const void *val,
                                 size_t vlen);
/* Calls fn for each record of kind (as loaded at open, then as followed
 * from other nodes), under the engine's read lock. */
void lv_engine_aux_foreach(lv_engine *e, char kind, lv_engine_aux_fn fn, void *ctx);
/* Durably applies n puts/deletes of aux records (one transaction). */
lv_err lv_engine_aux_write(lv_engine *e, const struct lv_store_op *ops, size_t n, lv_error *err);

/* Called on the writer thread after the engine applied another node's
 * change of an aux record (val NULL: deleted), so the record's owner
 * (keystore, alarms) can refresh its table. Not called for this node's own
 * writes. Must not write through the engine. Register before traffic. */
lv_err lv_engine_on_aux(lv_engine *e, lv_engine_aux_fn fn, void *ctx);
/* Unregisters; once it returns fn is not running and will not be called. */
void lv_engine_off_aux(lv_engine *e, lv_engine_aux_fn fn, void *ctx);

/* ---- several nodes on one store (engine/follow.c) ---- */
/* Whether the store is shared (PostgreSQL): other nodes' commits arrive
 * through the feed. */
bool lv_engine_shared(lv_engine *e);
/* Waits up to timeout_ms until this node has applied revision rev (a
 * client's x-lever-revision); LV_E_UNAVAILABLE (retryable) when it has
 * not by then. */
lv_err lv_engine_wait_revision(lv_engine *e, uint64_t rev, int timeout_ms, lv_error *err);
/* false while the store cannot be reached (reads are then served from
 * memory and may be stale); *down_ms says for how long. */
bool lv_engine_store_ok(lv_engine *e, int64_t *down_ms);

/* Seals / opens a small secret under the master key (HKDF purpose key_id,
 * authenticated aad). Opening tries the new key of an unfinished master
 * key rotation as well as the current one. Append to out. */
lv_err lv_engine_seal(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                      const void *pt, size_t n, lv_buf *out, lv_error *err);
lv_err lv_engine_unseal(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                        const void *env, size_t n, lv_buf *out, lv_error *err);
/* ---- master key rotation (driven by api/admin.c: lv_admin_rotate) ----
 * The new key lives in "<master key file>.next" until every envelope is
 * re-sealed under it; then it is renamed over the master key file. Until
 * that rename both keys open values, so a crash at any instant leaves
 * everything readable, and a restart that finds the .next file finishes
 * the rotation. */
bool lv_engine_rotating(lv_engine *e);
/* Creates the .next key (or keeps an existing one) and seals new values
 * under it from now on. */
lv_err lv_engine_rotate_begin(lv_engine *e, lv_error *err);
/* Re-seals, through the writer in batches, every SecureString version not
 * yet under the newest key; *done counts the parameters rewritten. */
lv_err lv_engine_rewrap_params(lv_engine *e, size_t *done, lv_error *err);
/* After every envelope is re-sealed: re-seals the key check record and
 * renames the .next key over the master key file. */
lv_err lv_engine_rotate_finish(lv_engine *e, lv_error *err);

/* Whether env opens under the newest master key (false: it needs re-wrapping). */
bool lv_engine_sealed_current(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                              const void *env, size_t n);

#endif
