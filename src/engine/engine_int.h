/* engine_int.h - what the engine's files share: the engine struct, the
 * writer's batch, and the functions one duty offers the others. Private to
 * src/engine; front-ends use engine.h. */
#ifndef LV_ENGINE_ENGINE_INT_H
#define LV_ENGINE_ENGINE_INT_H

#include <pthread.h>
#include <time.h>

#include "crypto/crypto.h"
#include "engine/engine.h"
#include "store/store.h"

enum { MAX_BATCH = 512 };

typedef struct timer_entry {
    char *key;
    size_t key_len;
    uint32_t version;
    lv_change_kind event; /* EXPIRE or one of the notifications */
    int64_t due_ms;
    bool submitted;
} timer_entry;

typedef struct watcher {
    lv_watch_spec spec;       /* key_prefix owned */
    lv_watch_fn fn;
    void *ctx;
    struct watcher *next;
} watcher;

typedef struct aux_rec {
    char *key;
    size_t klen;
    char *val;
    size_t vlen;
} aux_rec;

typedef struct aux_listener {
    lv_engine_aux_fn fn;
    void *ctx;
} aux_listener;

struct lv_engine {
    lv_store *store;
    /* A shared store (PostgreSQL): other nodes write too, so the engine
     * follows the feed (follow.c) and commits conditionally. */
    bool shared;
    /* The store revision memory reflects: every commit at or below it is
     * applied. Equal to revision except right after opening a store
     * migrated from a lever whose revisions were its own (revision is then
     * ahead; the first commit closes the gap). Writer thread; under lock. */
    uint64_t store_head;
    pthread_t follower;
    bool follower_started;
    bool catchup;                /* qlock: the writer should read the feed */
    uint64_t catchup_gen;        /* qlock: catch-ups done */
    pthread_cond_t rev_cond;     /* qlock: a catch-up or commit happened */
    bool store_down;             /* qlock: the last store access failed */
    int64_t store_down_since;    /* qlock: monotonic ms */
    pthread_mutex_t alock;       /* aux listeners; held while calling them */
    aux_listener aux_listeners[4];
    size_t naux_listeners;
    /* master[0] is the key in the master key file; master[1] the new key
     * of an unfinished rotation (has_next). New envelopes use the newest
     * key; opening tries both, so every value stays readable at every
     * instant of a rotation. keylock guards both. */
    unsigned char master[2][LV_MASTER_KEY_LEN];
    bool has_next;
    pthread_rwlock_t keylock;
    char *master_path;
    char *next_path;             /* master_path ".next" */
    char *keycheck;              /* the "Mkeycheck" envelope as loaded, or NULL */
    size_t keycheck_len;
    aux_rec *aux;                /* aux records as loaded at open */
    size_t naux, cap_aux;
    lv_index *index;
    lv_actable ac;               /* AppConfig records (appconfig.c), under lock */
    lv_changelog log;
    uint64_t revision;
    pthread_rwlock_t lock;       /* index + log + revision */

    pthread_mutex_t qlock;       /* queue, done flags, timers, stats */
    pthread_cond_t qcond;        /* writer waits for work */
    pthread_cond_t done_cond;    /* submitters wait for results */
    lv_write *qhead, *qtail;
    bool stopping;
    bool stopping_watch;
    pthread_t writer;
    pthread_t timer;
    pthread_cond_t timer_cond;
    unsigned timer_interval_ms;
    timer_entry *timers;
    size_t ntimers, timers_cap;
    lv_engine_stats stats;
    pthread_mutex_t wlock;       /* watchers */
    watcher *watchers;
    size_t nwatchers;
    /* Distinct LastModifiedUser strings, shared by every version written
     * by the same caller (writer thread and loader only; never freed
     * before the index). */
    char **users;
    size_t nusers, users_cap;
    struct lv_served_table *served; /* served shares (served.c); made on first use */
};

/* ---------- the writer's batch (writer.c) ---------- */

typedef struct overlay_entry {
    char *key;            /* borrowed from orig or state */
    size_t key_len;
    lv_param *orig;       /* what the index held (may be NULL) */
    lv_param *state;      /* newest state in this batch (NULL = deleted) */
    bool fresh;           /* state was built in this batch */
} overlay_entry;

struct ac_overlay {
    char *key;            /* borrowed from rec, or owned when rec is NULL */
    size_t klen;
    lv_acrec *rec;        /* one reference; NULL = deleted */
};

typedef struct batch {
    overlay_entry *ov;
    size_t nov, cap_ov;
    lv_store_op *ops;
    lv_buf *bufs;         /* storage for op keys/values */
    size_t nops, cap_ops;
    lv_change *changes;
    size_t nchanges, cap_changes;
    lv_param **garbage;   /* intermediate states to free after the batch */
    size_t ngarbage, cap_garbage;
    uint64_t nexpired;    /* expiries planned; counted once they are applied */
    struct ac_overlay *acov; /* AppConfig records put (rec) or deleted (NULL) */
    size_t nacov, cap_acov;
    char **ackeys;        /* owned change-log keys of AppConfig changes */
    size_t nackeys, cap_ackeys;
} batch;

static inline int64_t lv_eng_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* writer.c: batch building blocks and the writer thread. */
lv_err lv_eng_grow_arr(void **p, size_t *cap, size_t need, size_t elem);
overlay_entry *lv_eng_overlay_find(batch *b, const char *key, size_t len);
/* Appends a store op; key/value bytes are copied into the batch. */
lv_err lv_eng_add_op(batch *b, const lv_buf *key, const lv_buf *val);
lv_err lv_eng_add_change(batch *b, lv_change_kind kind, const lv_param *p, uint32_t version);
lv_err lv_eng_add_garbage(batch *b, lv_param *p);
void *lv_eng_writer_main(void *arg);

/* params.c: the parameter writes and the shared LastModifiedUser pool. */
lv_err lv_eng_plan_param(lv_engine *e, batch *b, lv_write *w, lv_error *err);
void lv_eng_share_user(lv_engine *e, lv_version *v);
void lv_eng_users_free(lv_engine *e);

/* appconfig.c: AppConfig writes in the writer and records at load. */
lv_err lv_eng_plan_ac(lv_engine *e, batch *b, lv_write *w, lv_error *err);
/* After the commit: applies the batch's records to the table (write lock
 * held) or, when the commit failed, drops them. */
void lv_eng_ac_apply(lv_engine *e, batch *b);
/* A parameter's labels moved or it went: the configuration changes of
 * the deployments that serve it by label (core/ac_ssm.c). */
lv_err lv_eng_ac_param_changed(lv_engine *e, batch *b, const char *name);
void lv_eng_ac_abort(batch *b);
/* End of batch: frees change keys. */
void lv_eng_ac_batch_end(batch *b);
lv_err lv_eng_ac_load(lv_engine *e, const char *key, size_t klen, const void *val, size_t vlen, lv_error *err);

/* secrets.c: SecureString sealing, master keys and their rotation. */
lv_err lv_eng_build_aad(const char *region, const char *name, uint32_t version, lv_buf *aad);
lv_err lv_eng_seal_value(void *ctx, const char *region, const char *name, uint32_t version,
                         const char *key_id, const char *pt, size_t pt_len, char **out,
                         size_t *out_len, lv_error *err);
lv_err lv_eng_plan_rewrap(lv_engine *e, const lv_param *cur, lv_param **next, lv_error *err);
lv_err lv_eng_load_keys(lv_engine *e, lv_error *err);

/* timers.c: policy timers (qlock held for drop/add). */
void lv_eng_timers_drop_key(lv_engine *e, const char *key, size_t key_len);
void lv_eng_timers_add_param(lv_engine *e, const lv_param *p);
void *lv_eng_timer_main(void *arg);

/* follow.c: the follower thread and catch-up (writer thread). */
void *lv_eng_follower_main(void *arg);
lv_err lv_eng_catch_up(lv_engine *e, lv_error *err);
void lv_eng_store_health(lv_engine *e, bool ok, const char *msg);

/* watch.c: waking watchers. */
void lv_eng_notify_changes(lv_engine *e, const lv_change *c, size_t n);
/* Wakes every registered watcher (history was lost: each answers
 * "compacted" and its client lists again). */
void lv_eng_wake_watchers(lv_engine *e);
void lv_eng_expire_watchers(lv_engine *e, int64_t now);

#endif
