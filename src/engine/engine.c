/* engine.c - index ownership, group commit, revisions and policy timers.
 *
 * One writer thread drains a queue of writes in batches. For each write it
 * runs the core rules against the newest state (the batch's own earlier
 * results first, then the index), turns the difference between old and new
 * state into store operations, and after one durable commit swaps the new
 * states into the index under the write lock. Readers therefore only ever
 * see committed data, and N concurrent writers cost one fsync. */
#include "engine/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/record.h"
#include "crypto/crypto.h"
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

struct lv_engine {
    lv_store *store;
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
};

enum { MAX_SHARED_USERS = 1024 };

/* Makes v point at the pool's copy of its user ARN, so a million versions
 * by one caller hold one string. Best effort: on any failure v keeps its
 * own copy. */
static void share_user(lv_engine *e, lv_version *v)
{
    if (v == NULL || v->modified_user == NULL || v->user_shared)
        return;
    char *shared = NULL;
    for (size_t i = 0; i < e->nusers && shared == NULL; i++)
        if (strcmp(e->users[i], v->modified_user) == 0)
            shared = e->users[i];
    if (shared == NULL) {
        if (e->nusers >= MAX_SHARED_USERS)
            return;
        if (e->nusers == e->users_cap) {
            size_t cap = e->users_cap ? e->users_cap * 2 : 8;
            char **nu = realloc(e->users, cap * sizeof *nu);
            if (nu == NULL)
                return;
            e->users = nu;
            e->users_cap = cap;
        }
        if ((shared = strdup(v->modified_user)) == NULL)
            return;
        e->users[e->nusers++] = shared;
    }
    free(v->modified_user);
    v->modified_user = shared;
    v->user_shared = true;
}

static void users_free(lv_engine *e)
{
    for (size_t i = 0; i < e->nusers; i++)
        free(e->users[i]);
    free(e->users);
    e->users = NULL;
    e->nusers = e->users_cap = 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------- SecureString sealing ---------- */

static lv_err build_aad(const char *region, const char *name, uint32_t version, lv_buf *aad)
{
    unsigned char v[4] = {(unsigned char)(version >> 24), (unsigned char)(version >> 16),
                          (unsigned char)(version >> 8), (unsigned char)version};
    lv_err rc = lv_buf_append(aad, region, strlen(region) + 1);
    if (rc == LV_OK)
        rc = lv_buf_append(aad, name, strlen(name) + 1);
    if (rc == LV_OK)
        rc = lv_buf_append(aad, v, 4);
    return rc;
}

lv_err lv_engine_seal(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                      const void *pt, size_t n, lv_buf *out, lv_error *err)
{
    pthread_rwlock_rdlock(&e->keylock);
    lv_err rc = lv_crypto_seal(e->master[e->has_next], key_id, aad, aad_len, pt, n, out, err);
    pthread_rwlock_unlock(&e->keylock);
    return rc;
}

lv_err lv_engine_unseal(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                        const void *env, size_t n, lv_buf *out, lv_error *err)
{
    pthread_rwlock_rdlock(&e->keylock);
    size_t before = out->len;
    lv_err rc = lv_crypto_open(e->master[e->has_next], key_id, aad, aad_len, env, n, out, err);
    if (rc == LV_E_CORRUPT && e->has_next) {
        /* GCM's tag makes a wrong key fail cleanly, so trying the older
         * key of a rotation in progress is safe. */
        out->len = before;
        if (out->data)
            out->data[before] = '\0';
        lv_error_clear(err);
        rc = lv_crypto_open(e->master[0], key_id, aad, aad_len, env, n, out, err);
    }
    pthread_rwlock_unlock(&e->keylock);
    return rc;
}

bool lv_engine_sealed_current(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                              const void *env, size_t n)
{
    lv_buf tmp = LV_BUF_INIT;
    pthread_rwlock_rdlock(&e->keylock);
    bool ok = lv_crypto_open(e->master[e->has_next], key_id, aad, aad_len, env, n, &tmp, NULL) == LV_OK;
    pthread_rwlock_unlock(&e->keylock);
    if (tmp.data)
        memset(tmp.data, 0, tmp.len);
    lv_buf_free(&tmp);
    return ok;
}

static lv_err seal_value(void *ctx, const char *region, const char *name, uint32_t version,
                         const char *key_id, const char *pt, size_t pt_len, char **out,
                         size_t *out_len, lv_error *err)
{
    lv_engine *e = ctx;
    lv_buf aad = LV_BUF_INIT, env = LV_BUF_INIT;
    lv_err rc = build_aad(region, name, version, &aad);
    if (rc == LV_OK)
        rc = lv_engine_seal(e, key_id, aad.data, aad.len, pt, pt_len, &env, err);
    lv_buf_free(&aad);
    if (rc != LV_OK) {
        lv_buf_free(&env);
        return rc;
    }
    *out = lv_buf_steal(&env, out_len);
    return *out ? LV_OK : LV_E_NOMEM;
}

lv_err lv_engine_decrypt(lv_engine *e, const lv_param *p, const lv_version *v, lv_buf *out,
                         lv_error *err)
{
    lv_buf aad = LV_BUF_INIT;
    lv_err rc = build_aad(p->region, p->name, v->version, &aad);
    if (rc == LV_OK)
        rc = lv_engine_unseal(e, v->key_id ? v->key_id : LV_DEFAULT_KEY_ID, aad.data, aad.len,
                              v->value, v->value_len, out, err);
    lv_buf_free(&aad);
    return rc;
}

/* ---------- loading ---------- */

static lv_err grow_aux(lv_engine *e)
{
    if (e->naux < e->cap_aux)
        return LV_OK;
    size_t cap = e->cap_aux ? e->cap_aux * 2 : 16;
    aux_rec *n = realloc(e->aux, cap * sizeof *n);
    if (n == NULL)
        return LV_E_NOMEM;
    e->aux = n;
    e->cap_aux = cap;
    return LV_OK;
}

static void aux_free(lv_engine *e)
{
    for (size_t i = 0; i < e->naux; i++) {
        free(e->aux[i].key);
        if (e->aux[i].val)
            memset(e->aux[i].val, 0, e->aux[i].vlen);
        free(e->aux[i].val);
    }
    free(e->aux);
    e->aux = NULL;
    e->naux = e->cap_aux = 0;
}

void lv_engine_aux_foreach(lv_engine *e, char kind, lv_engine_aux_fn fn, void *ctx)
{
    for (size_t i = 0; i < e->naux; i++)
        if (e->aux[i].klen > 0 && e->aux[i].key[0] == kind)
            fn(ctx, e->aux[i].key, e->aux[i].klen, e->aux[i].val, e->aux[i].vlen);
}

lv_err lv_engine_aux_write(lv_engine *e, const lv_store_op *ops, size_t n, lv_error *err)
{
    lv_write w;
    memset(&w, 0, sizeof w);
    w.kind = LV_WRITE_RAW;
    w.region = "";
    w.name = "";
    w.u.raw.ops = ops;
    w.u.raw.n = n;
    lv_engine_write(e, &w, 1);
    if (w.rc != LV_OK && err != NULL)
        *err = w.err;
    return w.rc;
}

typedef struct load_ctx {
    lv_engine *e;
    lv_error *err;
} load_ctx;

static lv_err load_pair(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    load_ctx *lc = ctx;
    lv_engine *e = lc->e;
    const char *k = key;
    if (klen < 1)
        return lv_error_set(lc->err, LV_E_CORRUPT, "empty key in store");
    if (k[0] == 'M') {
        if (klen == 9 && memcmp(k, "Mrevision", 9) == 0) {
            if (vlen != 8)
                return lv_error_set(lc->err, LV_E_CORRUPT, "bad revision record");
            e->revision = lv_record_get_u64(val);
        } else if (klen == 9 && memcmp(k, "Mkeycheck", 9) == 0) {
            free(e->keycheck);
            if ((e->keycheck = malloc(vlen ? vlen : 1)) == NULL)
                return lv_error_set(lc->err, LV_E_NOMEM, "out of memory");
            memcpy(e->keycheck, val, vlen);
            e->keycheck_len = vlen;
        }
        return LV_OK;
    }
    if (k[0] == 'P') {
        lv_param *p, *old;
        lv_err rc = lv_record_decode_param(k + 1, klen - 1, val, vlen, &p, lc->err);
        if (rc != LV_OK)
            return rc;
        if ((rc = lv_index_put(e->index, p, &old)) != LV_OK) {
            lv_param_free(p);
            return rc;
        }
        lv_param_free(old);
        return LV_OK;
    }
    if (k[0] == 'V') {
        size_t pkl;
        uint32_t version;
        lv_err rc = lv_record_split_version_key(k + 1, klen - 1, &pkl, &version, lc->err);
        if (rc != LV_OK)
            return rc;
        lv_param *p = lv_index_get(e->index, k + 1, pkl);
        if (p == NULL)
            return lv_error_set(lc->err, LV_E_CORRUPT, "version record without its parameter");
        lv_version *v;
        if ((rc = lv_record_decode_version(val, vlen, &v, lc->err)) != LV_OK)
            return rc;
        const lv_version *last = lv_param_latest(p);
        if (v->version != version || (last && last->version >= version) ||
            p->nversions >= LV_MAX_VERSIONS) {
            lv_version_unref(v);
            return lv_error_set(lc->err, LV_E_CORRUPT, "version records out of order for %s", p->name);
        }
        share_user(e, v);
        if ((rc = lv_param_append_version(p, v)) != LV_OK)
            lv_version_unref(v);
        return rc;
    }
    if (k[0] == LV_AUX_ACCESS_KEY) {
        lv_err rc = grow_aux(e);
        if (rc != LV_OK)
            return lv_error_set(lc->err, rc, "out of memory");
        aux_rec *a = &e->aux[e->naux];
        a->key = malloc(klen + 1);
        a->val = malloc(vlen + 1);
        if (a->key == NULL || a->val == NULL) {
            free(a->key);
            free(a->val);
            return lv_error_set(lc->err, LV_E_NOMEM, "out of memory");
        }
        memcpy(a->key, key, klen);
        a->key[klen] = '\0';
        a->klen = klen;
        if (vlen)
            memcpy(a->val, val, vlen);
        a->val[vlen] = '\0';
        a->vlen = vlen;
        e->naux++;
        return LV_OK;
    }
    return LV_OK; /* a record kind from a newer lever */
}

static void expire_watchers(lv_engine *e, int64_t now);

/* ---------- policy timers (engine qlock held) ---------- */

static void timers_drop_key(lv_engine *e, const char *key, size_t key_len)
{
    size_t j = 0;
    for (size_t i = 0; i < e->ntimers; i++) {
        timer_entry *t = &e->timers[i];
        if (t->key_len == key_len && memcmp(t->key, key, key_len) == 0) {
            free(t->key);
            continue;
        }
        e->timers[j++] = *t;
    }
    e->ntimers = j;
}

static void timers_add_param(lv_engine *e, const lv_param *p)
{
    const lv_version *v = lv_param_latest(p);
    if (v == NULL || v->policy == NULL)
        return;
    for (unsigned i = 0; i < v->policy->n; i++) {
        if (e->ntimers == e->timers_cap) {
            size_t cap = e->timers_cap ? e->timers_cap * 2 : 16;
            timer_entry *nt = realloc(e->timers, cap * sizeof *nt);
            if (nt == NULL) {
                fprintf(stderr, "leverd: out of memory scheduling policy of %s\n", p->name);
                return;
            }
            e->timers = nt;
            e->timers_cap = cap;
        }
        timer_entry *t = &e->timers[e->ntimers];
        t->key = malloc(p->key_len);
        if (t->key == NULL)
            return;
        memcpy(t->key, p->key, p->key_len);
        t->key_len = p->key_len;
        t->version = v->version;
        t->due_ms = lv_policy_due(v->policy, i, v->modified_ms);
        t->submitted = false;
        switch (v->policy->p[i].type) {
        case LV_POLICY_EXPIRATION: t->event = LV_CHANGE_EXPIRE; break;
        case LV_POLICY_EXPIRATION_NOTIFICATION: t->event = LV_CHANGE_EXPIRATION_NOTIFICATION; break;
        case LV_POLICY_NO_CHANGE_NOTIFICATION: t->event = LV_CHANGE_NO_CHANGE_NOTIFICATION; break;
        }
        e->ntimers++;
    }
}

/* Each tick, hands due policies to the writer as ordinary writes, so expiry
 * is ordered, durable and logged like any other change. The list holds only
 * parameters with policies, not every parameter. */
static void *timer_main(void *arg)
{
    lv_engine *e = arg;
    pthread_mutex_lock(&e->qlock);
    while (!e->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)e->timer_interval_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&e->timer_cond, &e->qlock, &ts);
        if (e->stopping)
            break;
        pthread_mutex_unlock(&e->qlock);
        expire_watchers(e, now_ms());
        pthread_mutex_lock(&e->qlock);
        if (e->stopping)
            break;
        int64_t now = now_ms();
        for (size_t i = 0; i < e->ntimers && !e->stopping; i++) {
            timer_entry *t = &e->timers[i];
            if (t->submitted || t->due_ms > now)
                continue;
            t->submitted = true;
            char *key = malloc(t->key_len + 1);
            if (key == NULL)
                continue;
            memcpy(key, t->key, t->key_len);
            key[t->key_len] = '\0';
            lv_write w;
            memset(&w, 0, sizeof w);
            w.kind = t->event == LV_CHANGE_EXPIRE ? LV_WRITE_EXPIRE : LV_WRITE_NOTIFY;
            w.region = key;
            w.name = key + strlen(key) + 1;
            w.u.timer.version = t->version;
            w.u.timer.event = t->event;
            pthread_mutex_unlock(&e->qlock);
            lv_engine_write(e, &w, 1);
            pthread_mutex_lock(&e->qlock);
            free(key);
            /* The timer list may have changed while unlocked: restart. */
            i = (size_t)-1;
            now = now_ms();
        }
    }
    pthread_mutex_unlock(&e->qlock);
    return NULL;
}

/* ---------- watchers ---------- */

bool lv_watch_matches(const lv_watch_spec *spec, const char *key, size_t key_len)
{
    if (key_len < spec->prefix_len || memcmp(key, spec->key_prefix, spec->prefix_len) != 0)
        return false;
    if (spec->recursive)
        return true;
    const char *rel = key + spec->prefix_len;
    size_t rl = key_len - spec->prefix_len;
    if (spec->root && rl > 0 && rel[0] == '/') {
        rel++;
        rl--;
    }
    return memchr(rel, '/', rl) == NULL;
}

bool lv_engine_watch(lv_engine *e, const lv_watch_spec *spec, uint64_t since, lv_watch_fn fn,
                     void *ctx, lv_error *err)
{
    watcher *w = calloc(1, sizeof *w);
    char *prefix = w ? malloc(spec->prefix_len + 1) : NULL;
    if (prefix == NULL) {
        free(w);
        lv_error_set(err, LV_E_NOMEM, "out of memory");
        return false;
    }
    memcpy(prefix, spec->key_prefix, spec->prefix_len);
    prefix[spec->prefix_len] = '\0';
    w->spec = *spec;
    w->spec.key_prefix = prefix;
    w->fn = fn;
    w->ctx = ctx;
    pthread_mutex_lock(&e->wlock);
    /* Commits bump the revision before they notify under wlock, so either
     * we see the new revision here or the notifier sees this watcher. */
    pthread_rwlock_rdlock(&e->lock);
    uint64_t rev = e->revision;
    pthread_rwlock_unlock(&e->lock);
    bool registered = rev <= since && !e->stopping_watch;
    if (registered) {
        w->next = e->watchers;
        e->watchers = w;
        e->nwatchers++;
    }
    pthread_mutex_unlock(&e->wlock);
    if (!registered) {
        free(prefix);
        free(w);
        lv_error_clear(err);
    }
    return registered;
}

/* Unlinks the watchers for which pick() says yes and returns them. */
static watcher *take_watchers(lv_engine *e, bool (*pick)(const watcher *, void *), void *arg)
{
    watcher *fired = NULL, **pp = &e->watchers;
    while (*pp) {
        watcher *w = *pp;
        if (pick(w, arg)) {
            *pp = w->next;
            w->next = fired;
            fired = w;
            e->nwatchers--;
        } else {
            pp = &w->next;
        }
    }
    return fired;
}

static void fire(watcher *list)
{
    while (list) {
        watcher *next = list->next;
        list->fn(list->ctx);
        free((char *)list->spec.key_prefix);
        free(list);
        list = next;
    }
}

typedef struct change_span {
    const lv_change *c;
    size_t n;
} change_span;

static bool pick_changed(const watcher *w, void *arg)
{
    const change_span *sp = arg;
    for (size_t i = 0; i < sp->n; i++)
        if (lv_watch_matches(&w->spec, sp->c[i].key, sp->c[i].key_len))
            return true;
    return false;
}

static bool pick_expired(const watcher *w, void *arg)
{
    return w->spec.deadline_ms <= *(const int64_t *)arg;
}

static bool pick_all(const watcher *w, void *arg)
{
    (void)w;
    (void)arg;
    return true;
}

void lv_engine_watch_fire_all(lv_engine *e)
{
    pthread_mutex_lock(&e->wlock);
    e->stopping_watch = true;
    watcher *list = take_watchers(e, pick_all, NULL);
    pthread_mutex_unlock(&e->wlock);
    fire(list);
}

static void notify_changes(lv_engine *e, const lv_change *c, size_t n)
{
    change_span sp = {c, n};
    pthread_mutex_lock(&e->wlock);
    watcher *list = e->nwatchers ? take_watchers(e, pick_changed, &sp) : NULL;
    pthread_mutex_unlock(&e->wlock);
    fire(list);
}

static void expire_watchers(lv_engine *e, int64_t now)
{
    pthread_mutex_lock(&e->wlock);
    watcher *list = e->nwatchers ? take_watchers(e, pick_expired, &now) : NULL;
    pthread_mutex_unlock(&e->wlock);
    fire(list);
}

/* ---------- the writer ---------- */

typedef struct overlay_entry {
    char *key;            /* borrowed from orig or state */
    size_t key_len;
    lv_param *orig;       /* what the index held (may be NULL) */
    lv_param *state;      /* newest state in this batch (NULL = deleted) */
    bool fresh;           /* state was built in this batch */
} overlay_entry;

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
} batch;

static lv_err grow_arr(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return LV_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (np == NULL)
        return LV_E_NOMEM;
    memset((char *)np + *cap * elem, 0, (nc - *cap) * elem);
    *p = np;
    *cap = nc;
    return LV_OK;
}

static overlay_entry *overlay_find(batch *b, const char *key, size_t len)
{
    for (size_t i = 0; i < b->nov; i++)
        if (b->ov[i].key_len == len && memcmp(b->ov[i].key, key, len) == 0)
            return &b->ov[i];
    return NULL;
}

/* Appends a store op; key/value bytes are copied into the batch. */
static lv_err add_op(batch *b, const lv_buf *key, const lv_buf *val)
{
    size_t oldcap = b->cap_ops;
    lv_err rc = grow_arr((void **)&b->ops, &b->cap_ops, b->nops + 1, sizeof *b->ops);
    if (rc != LV_OK)
        return rc;
    if (b->cap_ops != oldcap) {
        size_t c = oldcap * 2; /* two buffers per op */
        rc = grow_arr((void **)&b->bufs, &c, b->cap_ops * 2, sizeof *b->bufs);
        if (rc != LV_OK)
            return rc;
    }
    lv_buf *kb = &b->bufs[b->nops * 2], *vb = &b->bufs[b->nops * 2 + 1];
    lv_buf_reset(kb);
    lv_buf_reset(vb);
    if ((rc = lv_buf_append(kb, key->data, key->len)) != LV_OK)
        return rc;
    if (val != NULL && (rc = lv_buf_append(vb, val->data ? val->data : "", val->len)) != LV_OK)
        return rc;
    b->ops[b->nops].key = kb->data;
    b->ops[b->nops].klen = kb->len;
    b->ops[b->nops].val = val ? (vb->data ? vb->data : "") : NULL;
    b->ops[b->nops].vlen = val ? vb->len : 0;
    b->nops++;
    return LV_OK;
}

static bool tags_equal(const lv_param *a, const lv_param *b)
{
    if (a->ntags != b->ntags)
        return false;
    for (unsigned i = 0; i < a->ntags; i++)
        if (strcmp(a->tags[i].key, b->tags[i].key) != 0 ||
            strcmp(a->tags[i].value, b->tags[i].value) != 0)
            return false;
    return true;
}

/* Store ops that turn old into new (either may be NULL). */
static lv_err emit_diff(batch *b, const lv_param *old, const lv_param *nw)
{
    lv_buf k = LV_BUF_INIT, v = LV_BUF_INIT;
    lv_err rc = LV_OK;
    const lv_param *any = nw ? nw : old;
    if (nw == NULL || old == NULL || !tags_equal(old, nw)) {
        rc = lv_record_param_key(any, &k);
        if (rc == LV_OK && nw != NULL)
            rc = lv_record_encode_param(nw, &v);
        if (rc == LV_OK)
            rc = add_op(b, &k, nw ? &v : NULL);
    }
    unsigned i = 0, j = 0;
    unsigned on = old ? old->nversions : 0, nn = nw ? nw->nversions : 0;
    while (rc == LV_OK && (i < on || j < nn)) {
        const lv_version *ov = i < on ? old->versions[i] : NULL;
        const lv_version *nv = j < nn ? nw->versions[j] : NULL;
        if (nv == NULL || (ov != NULL && ov->version < nv->version)) {
            rc = lv_record_version_key(any, ov->version, &k);
            if (rc == LV_OK)
                rc = add_op(b, &k, NULL);
            i++;
        } else {
            bool same = ov != NULL && ov->version == nv->version;
            if (!same || ov != nv) {
                rc = lv_record_version_key(any, nv->version, &k);
                if (rc == LV_OK)
                    rc = lv_record_encode_version(nv, &v);
                if (rc == LV_OK)
                    rc = add_op(b, &k, &v);
            }
            if (same)
                i++;
            j++;
        }
    }
    lv_buf_free(&k);
    lv_buf_free(&v);
    return rc;
}

static lv_err add_change(batch *b, lv_change_kind kind, const lv_param *p, uint32_t version)
{
    lv_err rc = grow_arr((void **)&b->changes, &b->cap_changes, b->nchanges + 1, sizeof *b->changes);
    if (rc != LV_OK)
        return rc;
    lv_change *c = &b->changes[b->nchanges++];
    c->kind = kind;
    c->key = p->key; /* copied by the change log */
    c->key_len = p->key_len;
    c->version = version;
    c->time_ms = now_ms();
    return LV_OK;
}

static lv_err add_garbage(batch *b, lv_param *p)
{
    lv_err rc = grow_arr((void **)&b->garbage, &b->cap_garbage, b->ngarbage + 1, sizeof *b->garbage);
    if (rc == LV_OK)
        b->garbage[b->ngarbage++] = p;
    return rc;
}

/* Runs the rules for one write against the batch's view. On success the
 * new state is recorded in the overlay along with its store ops. */
/* Store ops of an LV_WRITE_RAW: only aux record kinds may be written this
 * way, so a caller can never bypass the parameter rules. */
static lv_err plan_raw(batch *b, lv_write *w, lv_error *err)
{
    for (size_t i = 0; i < w->u.raw.n; i++) {
        const lv_store_op *op = &w->u.raw.ops[i];
        bool keycheck = op->klen == 9 && memcmp(op->key, "Mkeycheck", 9) == 0;
        if (!keycheck && (op->klen < 2 || ((const char *)op->key)[0] != LV_AUX_ACCESS_KEY))
            return lv_error_set(err, LV_E_INTERNAL, "raw write of a non-auxiliary record");
        lv_buf k = {(char *)op->key, op->klen, 0, 0};
        lv_buf v = {(char *)(op->val ? op->val : ""), op->vlen, 0, 0};
        lv_err rc = add_op(b, &k, op->val ? &v : NULL);
        if (rc != LV_OK)
            return lv_error_set(err, rc, "out of memory");
    }
    w->stored = w->u.raw.n > 0;
    return LV_OK;
}

/* A copy of cur whose SecureString versions that do not open under the
 * newest master key are re-sealed under it; *next stays NULL when none
 * needed it. Only the envelope changes: no version, label or date does. */
static lv_err plan_rewrap(lv_engine *e, const lv_param *cur, lv_param **next, lv_error *err)
{
    *next = NULL;
    lv_buf aad = LV_BUF_INIT, pt = LV_BUF_INIT, env = LV_BUF_INIT;
    lv_err rc = LV_OK;
    for (unsigned i = 0; i < cur->nversions && rc == LV_OK; i++) {
        const lv_version *v = cur->versions[i];
        if (v->type != LV_TYPE_SECURE_STRING)
            continue;
        const char *kid = v->key_id ? v->key_id : LV_DEFAULT_KEY_ID;
        lv_buf_reset(&aad);
        if ((rc = build_aad(cur->region, cur->name, v->version, &aad)) != LV_OK)
            break;
        if (lv_engine_sealed_current(e, kid, aad.data, aad.len, v->value, v->value_len))
            continue;
        lv_buf_reset(&pt);
        lv_buf_reset(&env);
        if ((rc = lv_engine_unseal(e, kid, aad.data, aad.len, v->value, v->value_len, &pt, err)) != LV_OK ||
            (rc = lv_engine_seal(e, kid, aad.data, aad.len, pt.data ? pt.data : "", pt.len, &env, err)) != LV_OK)
            break;
        if (*next == NULL && (*next = lv_param_clone(cur)) == NULL) {
            rc = LV_E_NOMEM;
            break;
        }
        lv_version *nv = lv_param_edit_version(*next, i);
        if (nv == NULL) {
            rc = LV_E_NOMEM;
            break;
        }
        size_t elen;
        char *data = lv_buf_steal(&env, &elen);
        if (data == NULL) {
            rc = LV_E_NOMEM;
            break;
        }
        free(nv->value);
        nv->value = data;
        nv->value_len = elen;
    }
    if (pt.data)
        memset(pt.data, 0, pt.len);
    lv_buf_free(&pt);
    lv_buf_free(&aad);
    lv_buf_free(&env);
    if (rc != LV_OK) {
        lv_param_free(*next);
        *next = NULL;
        if (err && err->msg[0] == '\0')
            lv_error_set(err, rc, "out of memory");
    }
    return rc;
}

static lv_err plan_one(lv_engine *e, batch *b, lv_write *w, lv_error *err)
{
    if (w->kind == LV_WRITE_RAW)
        return plan_raw(b, w, err);
    size_t klen;
    char *key = lv_param_make_key(w->region, w->name, &klen);
    if (key == NULL)
        return LV_E_NOMEM;
    overlay_entry *oe = overlay_find(b, key, klen);
    const lv_param *cur = oe ? oe->state : lv_index_get(e->index, key, klen);
    free(key);
    lv_param *next = NULL;
    lv_err rc = LV_OK;
    lv_change_kind kind = LV_CHANGE_PUT;
    uint32_t version = 0;
    bool changed = true;
    bool event = true;    /* a change watchers see (not a re-wrap) */

    switch (w->kind) {
    case LV_WRITE_PUT:
        rc = lv_plan_put(cur, w->region, w->name, w->u.put.in, seal_value, e, &next,
                         &w->u.put.res, err);
        if (rc == LV_OK)
            share_user(e, next->versions[next->nversions - 1]); /* new, not yet shared */
        version = w->u.put.res.version;
        break;
    case LV_WRITE_DELETE:
        if (cur == NULL)
            return lv_error_set(err, LV_E_PARAM_NOT_FOUND, "Parameter %s not found.", w->name);
        kind = LV_CHANGE_DELETE;
        break;
    case LV_WRITE_LABEL:
        rc = lv_plan_label(cur, w->u.label.version, w->u.label.labels, w->u.label.n, &next,
                           &w->u.label.res, err);
        kind = LV_CHANGE_LABEL;
        version = w->u.label.res.version;
        changed = rc == LV_OK && w->u.label.res.changed;
        break;
    case LV_WRITE_UNLABEL:
        rc = lv_plan_unlabel(cur, w->u.label.version, w->u.label.labels, w->u.label.n, &next,
                             &w->u.label.res, err);
        kind = LV_CHANGE_UNLABEL;
        version = w->u.label.res.version;
        changed = rc == LV_OK && w->u.label.res.changed;
        break;
    case LV_WRITE_ADD_TAGS:
    case LV_WRITE_REMOVE_TAGS:
        if (cur == NULL)
            return lv_error_set(err, LV_E_INVALID_RESOURCE_ID,
                                "The resource ID \"%s\" is not valid. Verify the ID and try again.",
                                w->name);
        if (w->kind == LV_WRITE_ADD_TAGS)
            rc = lv_plan_add_tags(cur, w->u.tags.tags, w->u.tags.n, &next, err);
        else
            rc = lv_plan_remove_tags(cur, w->u.untag.keys, w->u.untag.n, &next, err);
        kind = LV_CHANGE_TAG;
        break;
    case LV_WRITE_EXPIRE:
    case LV_WRITE_NOTIFY: {
        const lv_version *lv = cur ? lv_param_latest(cur) : NULL;
        if (lv == NULL || lv->version != w->u.timer.version)
            return LV_OK; /* changed since the timer was set: nothing to do */
        kind = w->u.timer.event;
        version = lv->version;
        if (w->kind == LV_WRITE_NOTIFY)
            return add_change(b, kind, cur, version);
        break;
    }
    case LV_WRITE_REWRAP:
        if (cur == NULL)
            return LV_OK; /* deleted meanwhile */
        rc = plan_rewrap(e, cur, &next, err);
        changed = rc == LV_OK && next != NULL;
        event = false;
        w->stored = changed;
        break;
    case LV_WRITE_RAW:
        return LV_E_INTERNAL; /* handled above */
    }
    if (rc != LV_OK) {
        lv_param_free(next);
        return rc;
    }
    if (!changed) {
        lv_param_free(next);
        return LV_OK;
    }
    if ((rc = emit_diff(b, cur, next)) != LV_OK ||
        (event && (rc = add_change(b, kind, cur ? cur : next, version)) != LV_OK)) {
        lv_param_free(next);
        return rc;
    }
    if (oe == NULL) {
        if ((rc = grow_arr((void **)&b->ov, &b->cap_ov, b->nov + 1, sizeof *b->ov)) != LV_OK) {
            lv_param_free(next);
            return rc;
        }
        oe = &b->ov[b->nov++];
        oe->orig = (lv_param *)cur;
        oe->fresh = false;
    } else if (oe->fresh && oe->state != NULL) {
        /* Superseded within the batch; its key is still referenced by the
         * change just recorded, so free it after the batch. */
        if ((rc = add_garbage(b, oe->state)) != LV_OK) {
            lv_param_free(next);
            return rc;
        }
    }
    oe->state = next;
    oe->fresh = true;
    const lv_param *kp = next ? next : (oe->orig ? oe->orig : cur);
    oe->key = kp->key;
    oe->key_len = kp->key_len;
    if (w->kind == LV_WRITE_EXPIRE)
        e->stats.expired++;
    return LV_OK;
}

static void batch_reset(batch *b)
{
    b->nov = b->nops = b->nchanges = b->ngarbage = 0;
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->cap_ops * 2; i++)
        lv_buf_free(&b->bufs[i]);
    free(b->bufs);
    free(b->ops);
    free(b->ov);
    free(b->changes);
    free(b->garbage);
}

static void process_batch(lv_engine *e, batch *b, lv_write *list)
{
    batch_reset(b);
    for (lv_write *w = list; w; w = w->next) {
        lv_error_clear(&w->err);
        w->stored = false;
        size_t before = b->nchanges;
        w->rc = plan_one(e, b, w, &w->err);
        if (w->rc != LV_OK && w->err.msg[0] == '\0')
            lv_error_set(&w->err, w->rc, "%s", w->rc == LV_E_NOMEM ? "out of memory" : "internal error");
        w->revision = b->nchanges > before ? e->revision + b->nchanges : 0;
    }
    lv_err rc = LV_OK;
    lv_error cerr;
    lv_error_clear(&cerr);
    /* Room for the replaced states, taken before the commit: after it, an
     * allocation failure could only leak them. */
    lv_param **old = calloc(b->nov ? b->nov : 1, sizeof *old);
    if (old == NULL)
        rc = lv_error_set(&cerr, LV_E_NOMEM, "out of memory");
    if (rc == LV_OK && b->nchanges > 0) {
        unsigned char rev[8];
        lv_record_put_u64(rev, e->revision + b->nchanges);
        lv_buf k = {(char *)"Mrevision", 9, 0, 0}, v = {(char *)rev, 8, 0, 0};
        rc = add_op(b, &k, &v);
    }
    /* Raw and re-wrap writes store ops without a change event. */
    if (rc == LV_OK && b->nops > 0)
        rc = lv_store_commit(e->store, b->ops, b->nops, &cerr);
    if (rc != LV_OK) {
        fprintf(stderr, "leverd: commit of %zu changes failed: %s\n", b->nchanges, cerr.msg);
        for (lv_write *w = list; w; w = w->next)
            if (w->rc == LV_OK && (w->revision != 0 || w->stored)) {
                w->rc = LV_E_INTERNAL;
                lv_error_set(&w->err, LV_E_INTERNAL, "The change could not be stored: %s", cerr.msg);
                w->revision = 0;
            }
        for (size_t i = 0; i < b->nov; i++)
            if (b->ov[i].fresh)
                lv_param_free(b->ov[i].state);
    } else {
        pthread_rwlock_wrlock(&e->lock);
        for (size_t i = 0; i < b->nov; i++) {
            overlay_entry *oe = &b->ov[i];
            lv_param *prev = NULL;
            if (oe->state != NULL) {
                if (lv_index_put(e->index, oe->state, &prev) != LV_OK) {
                    /* The change is durable; the next start will load it. */
                    fprintf(stderr, "leverd: out of memory applying a committed change\n");
                    prev = NULL;
                }
            } else if (oe->orig != NULL) {
                prev = lv_index_remove(e->index, oe->orig->key, oe->orig->key_len);
            }
            old[i] = prev;
        }
        for (size_t i = 0; i < b->nchanges; i++) {
            b->changes[i].revision = e->revision + 1;
            /* Read without the lock by lv_engine_revision. */
            __atomic_store_n(&e->revision, e->revision + 1, __ATOMIC_RELEASE);
            if (lv_changelog_append(&e->log, &b->changes[i]) != LV_OK)
                fprintf(stderr, "leverd: out of memory in the change log\n");
        }
        pthread_rwlock_unlock(&e->lock);
        pthread_mutex_lock(&e->qlock);
        for (size_t i = 0; i < b->nov; i++) {
            overlay_entry *oe = &b->ov[i];
            const lv_param *p = oe->state ? oe->state : oe->orig;
            if (p == NULL)
                continue;
            timers_drop_key(e, p->key, p->key_len);
            if (oe->state)
                timers_add_param(e, oe->state);
        }
        e->stats.commits += b->nchanges > 0;
        e->stats.commit_ops += b->nops;
        pthread_mutex_unlock(&e->qlock);
        /* Before the old states go: the changes' keys point into them. */
        if (b->nchanges > 0)
            notify_changes(e, b->changes, b->nchanges);
        for (size_t i = 0; i < b->nov; i++)
            lv_param_free(old[i]);
    }
    free(old);
    for (size_t i = 0; i < b->ngarbage; i++)
        lv_param_free(b->garbage[i]);
    pthread_mutex_lock(&e->qlock);
    for (lv_write *w = list; w; w = w->next) {
        e->stats.writes++;
        e->stats.write_errors += w->rc != LV_OK;
    }
    pthread_mutex_unlock(&e->qlock);
}

static void *writer_main(void *arg)
{
    lv_engine *e = arg;
    batch b;
    memset(&b, 0, sizeof b);
    pthread_mutex_lock(&e->qlock);
    for (;;) {
        while (e->qhead == NULL && !e->stopping)
            pthread_cond_wait(&e->qcond, &e->qlock);
        if (e->qhead == NULL && e->stopping)
            break;
        lv_write *list = e->qhead, *last = list;
        size_t n = 1;
        while (last->next != NULL && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        e->qhead = last->next;
        if (e->qhead == NULL)
            e->qtail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&e->qlock);
        process_batch(e, &b, list);
        pthread_mutex_lock(&e->qlock);
        for (lv_write *w = list; w;) {
            lv_write *next = w->next;
            w->done = true;
            w = next;
        }
        pthread_cond_broadcast(&e->done_cond);
    }
    pthread_mutex_unlock(&e->qlock);
    batch_free(&b);
    return NULL;
}

lv_err lv_engine_write(lv_engine *e, lv_write *w, size_t n)
{
    pthread_mutex_lock(&e->qlock);
    if (e->stopping) {
        pthread_mutex_unlock(&e->qlock);
        for (size_t i = 0; i < n; i++)
            w[i].rc = lv_error_set(&w[i].err, LV_E_UNAVAILABLE, "The server is shutting down.");
        return LV_E_UNAVAILABLE;
    }
    for (size_t i = 0; i < n; i++) {
        w[i].done = false;
        w[i].next = NULL;
        if (e->qtail)
            e->qtail->next = &w[i];
        else
            e->qhead = &w[i];
        e->qtail = &w[i];
    }
    pthread_cond_signal(&e->qcond);
    for (size_t i = 0; i < n; i++)
        while (!w[i].done)
            pthread_cond_wait(&e->done_cond, &e->qlock);
    pthread_mutex_unlock(&e->qlock);
    return LV_OK;
}

/* ---------- master keys ---------- */

/* A fixed plaintext sealed under the master key and stored as "Mkeycheck":
 * a wrong or regenerated key file is refused at start instead of sealing
 * new values under a key that opens none of the old ones. */
static const char KEYCHECK_ID[] = "lever:keycheck";
static const char KEYCHECK_PT[] = "lever master key check v1";

static bool keycheck_opens(const unsigned char key[LV_MASTER_KEY_LEN], const char *env, size_t n)
{
    lv_buf pt = LV_BUF_INIT;
    bool ok = lv_crypto_open(key, KEYCHECK_ID, "Mkeycheck", 9, env, n, &pt, NULL) == LV_OK &&
              pt.len == sizeof KEYCHECK_PT - 1 && memcmp(pt.data, KEYCHECK_PT, pt.len) == 0;
    lv_buf_free(&pt);
    return ok;
}

static lv_err write_keycheck(lv_engine *e, bool via_writer, lv_error *err)
{
    lv_buf env = LV_BUF_INIT;
    lv_err rc = lv_engine_seal(e, KEYCHECK_ID, "Mkeycheck", 9, KEYCHECK_PT, sizeof KEYCHECK_PT - 1, &env, err);
    if (rc == LV_OK) {
        lv_store_op op = {"Mkeycheck", 9, env.data, env.len};
        rc = via_writer ? lv_engine_aux_write(e, &op, 1, err) : lv_store_commit(e->store, &op, 1, err);
    }
    lv_buf_free(&env);
    return rc;
}

/* Loads the master key (and the new key of an unfinished rotation) after
 * the store, so that a store which already holds sealed data never gets a
 * freshly generated key in place of a missing one. */
static lv_err load_keys(lv_engine *e, lv_error *err)
{
    if (e->keycheck != NULL && access(e->master_path, F_OK) != 0 && errno == ENOENT)
        return lv_error_set(err, LV_E_CORRUPT,
                            "master key file %s is missing, but this store holds data sealed under a master "
                            "key: restore the key file (see docs/security.md) instead of starting with a new one",
                            e->master_path);
    lv_err rc = lv_crypto_master_key_load(e->master_path, e->master[0], err);
    if (rc != LV_OK)
        return rc;
    if (access(e->next_path, F_OK) == 0) {
        if ((rc = lv_crypto_master_key_load(e->next_path, e->master[1], err)) != LV_OK)
            return rc;
        e->has_next = true;
        fprintf(stderr, "leverd: found %s: a master key rotation was interrupted; it will be finished\n",
                e->next_path);
    }
    if (e->keycheck == NULL)
        return write_keycheck(e, false, err);
    if (!keycheck_opens(e->master[0], e->keycheck, e->keycheck_len) &&
        !(e->has_next && keycheck_opens(e->master[1], e->keycheck, e->keycheck_len)))
        return lv_error_set(err, LV_E_CORRUPT,
                            "the master key in %s does not open this store's data (it is not the key the "
                            "store was sealed with)",
                            e->master_path);
    return LV_OK;
}

bool lv_engine_rotating(lv_engine *e)
{
    pthread_rwlock_rdlock(&e->keylock);
    bool r = e->has_next;
    pthread_rwlock_unlock(&e->keylock);
    return r;
}

lv_err lv_engine_rotate_begin(lv_engine *e, lv_error *err)
{
    unsigned char k[LV_MASTER_KEY_LEN];
    /* Creates the file (random, 0600, fsync'd, atomically) when absent. */
    lv_err rc = lv_crypto_master_key_load(e->next_path, k, err);
    if (rc != LV_OK)
        return rc;
    pthread_rwlock_wrlock(&e->keylock);
    memcpy(e->master[1], k, sizeof k);
    e->has_next = true;
    pthread_rwlock_unlock(&e->keylock);
    memset(k, 0, sizeof k);
    return LV_OK;
}

static bool param_needs_rewrap(lv_engine *e, const lv_param *p)
{
    lv_buf aad = LV_BUF_INIT;
    bool stale = false;
    for (unsigned i = 0; i < p->nversions && !stale; i++) {
        const lv_version *v = p->versions[i];
        if (v->type != LV_TYPE_SECURE_STRING)
            continue;
        lv_buf_reset(&aad);
        if (build_aad(p->region, p->name, v->version, &aad) != LV_OK)
            stale = true; /* let the writer retry and report */
        else
            stale = !lv_engine_sealed_current(e, v->key_id ? v->key_id : LV_DEFAULT_KEY_ID, aad.data, aad.len,
                                              v->value, v->value_len);
    }
    lv_buf_free(&aad);
    return stale;
}

lv_err lv_engine_rewrap_params(lv_engine *e, size_t *done, lv_error *err)
{
    enum { BATCH = 128 };
    *done = 0;
    lv_buf cursor = LV_BUF_INIT;
    char *keys[BATCH];
    lv_write w[BATCH];
    lv_err rc = LV_OK;
    for (;;) {
        size_t n = 0;
        lv_engine_rdlock(e);
        const lv_index_node *node = lv_index_seek(e->index, cursor.data ? cursor.data : "", cursor.len);
        for (; node != NULL && n < BATCH; node = lv_index_next(node)) {
            const lv_param *p = lv_index_node_param(node);
            if (cursor.len > 0 && p->key_len == cursor.len && memcmp(p->key, cursor.data, cursor.len) == 0)
                continue;
            lv_buf_reset(&cursor);
            if ((rc = lv_buf_append(&cursor, p->key, p->key_len)) != LV_OK)
                break;
            if (!param_needs_rewrap(e, p))
                continue;
            if ((keys[n] = malloc(p->key_len + 1)) == NULL) {
                rc = LV_E_NOMEM;
                break;
            }
            memcpy(keys[n], p->key, p->key_len);
            keys[n][p->key_len] = '\0';
            n++;
        }
        bool end = node == NULL;
        lv_engine_rdunlock(e);
        for (size_t i = 0; i < n; i++) {
            memset(&w[i], 0, sizeof w[i]);
            w[i].kind = LV_WRITE_REWRAP;
            w[i].region = keys[i];
            w[i].name = keys[i] + strlen(keys[i]) + 1;
        }
        if (rc == LV_OK && n > 0 && (rc = lv_engine_write(e, w, n)) != LV_OK)
            lv_error_set(err, rc, "the server is stopping");
        for (size_t i = 0; i < n; i++) {
            if (rc == LV_OK && w[i].rc != LV_OK) {
                rc = w[i].rc;
                *err = w[i].err;
            }
            *done += w[i].rc == LV_OK && w[i].stored;
            free(keys[i]);
        }
        if (rc != LV_OK || end)
            break;
        /* Tests stretch a rotation to interrupt it (docs/security.md). */
        const char *delay = getenv("LEVER_TEST_REWRAP_DELAY_MS");
        if (delay != NULL && atoi(delay) > 0)
            usleep((useconds_t)atoi(delay) * 1000u);
    }
    if (rc == LV_E_NOMEM && err->msg[0] == '\0')
        lv_error_set(err, rc, "out of memory");
    lv_buf_free(&cursor);
    return rc;
}

lv_err lv_engine_rotate_finish(lv_engine *e, lv_error *err)
{
    if (!lv_engine_rotating(e))
        return LV_OK;
    lv_err rc = write_keycheck(e, true, err);
    if (rc != LV_OK)
        return rc;
    /* The commit point: from here the .next key is the master key. */
    if (rename(e->next_path, e->master_path) != 0)
        return lv_error_set(err, LV_E_IO, "cannot rename %s to %s: %s", e->next_path, e->master_path,
                            strerror(errno));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", e->master_path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    pthread_rwlock_wrlock(&e->keylock);
    memcpy(e->master[0], e->master[1], LV_MASTER_KEY_LEN);
    memset(e->master[1], 0, LV_MASTER_KEY_LEN);
    e->has_next = false;
    pthread_rwlock_unlock(&e->keylock);
    return LV_OK;
}

/* ---------- lifecycle ---------- */

lv_err lv_engine_open(const lv_engine_config *cfg, lv_engine **out, lv_error *err)
{
    lv_engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    pthread_rwlock_init(&e->keylock, NULL);
    lv_err rc = LV_OK;
    if (asprintf(&e->master_path, "%s", cfg->master_key_path) < 0 ||
        asprintf(&e->next_path, "%s.next", cfg->master_key_path) < 0) {
        e->master_path = e->next_path = NULL;
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto fail_free;
    }
    if ((rc = lv_changelog_init(&e->log, cfg->changelog_cap ? cfg->changelog_cap : 100000)) != LV_OK)
        goto fail_free;
    e->index = lv_index_new();
    if (e->index == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto fail_log;
    }
    if ((rc = lv_store_open(cfg->store_uri, &e->store, err)) != LV_OK)
        goto fail_index;
    load_ctx lc = {e, err};
    if ((rc = lv_store_load(e->store, load_pair, &lc, err)) != LV_OK)
        goto fail_store;
    if ((rc = load_keys(e, err)) != LV_OK)
        goto fail_store;
    /* Every parameter needs at least one version. */
    for (const lv_index_node *n = lv_index_seek(e->index, "", 0); n; n = lv_index_next(n)) {
        const lv_param *p = lv_index_node_param(n);
        if (p->nversions == 0) {
            rc = lv_error_set(err, LV_E_CORRUPT, "parameter %s has no versions in the store", p->name);
            goto fail_store;
        }
        timers_add_param(e, p);
    }
    e->timer_interval_ms = cfg->timer_interval_ms ? cfg->timer_interval_ms : 250;
    pthread_rwlock_init(&e->lock, NULL);
    pthread_mutex_init(&e->qlock, NULL);
    pthread_cond_init(&e->qcond, NULL);
    pthread_cond_init(&e->done_cond, NULL);
    pthread_cond_init(&e->timer_cond, NULL);
    pthread_mutex_init(&e->wlock, NULL);
    if (pthread_create(&e->writer, NULL, writer_main, e) != 0) {
        rc = lv_error_set(err, LV_E_INTERNAL, "cannot start the writer thread");
        goto fail_store;
    }
    if (pthread_create(&e->timer, NULL, timer_main, e) != 0) {
        pthread_mutex_lock(&e->qlock);
        e->stopping = true;
        pthread_cond_broadcast(&e->qcond);
        pthread_mutex_unlock(&e->qlock);
        pthread_join(e->writer, NULL);
        rc = lv_error_set(err, LV_E_INTERNAL, "cannot start the timer thread");
        goto fail_store;
    }
    *out = e;
    return LV_OK;
fail_store:
    lv_store_close(e->store);
fail_index:
    lv_index_free(e->index);
fail_log:
    lv_changelog_free(&e->log);
fail_free:
    users_free(e);
    for (size_t i = 0; i < e->ntimers; i++)
        free(e->timers[i].key);
    free(e->timers);
    aux_free(e);
    pthread_rwlock_destroy(&e->keylock);
    memset(e->master, 0, sizeof e->master);
    free(e->master_path);
    free(e->next_path);
    free(e->keycheck);
    free(e);
    return rc;
}

void lv_engine_close(lv_engine *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->qlock);
    e->stopping = true;
    pthread_cond_broadcast(&e->qcond);
    pthread_cond_broadcast(&e->timer_cond);
    pthread_mutex_unlock(&e->qlock);
    pthread_join(e->timer, NULL);
    pthread_join(e->writer, NULL);
    lv_engine_watch_fire_all(e);
    lv_store_close(e->store);
    lv_index_free(e->index);
    users_free(e);
    lv_changelog_free(&e->log);
    for (size_t i = 0; i < e->ntimers; i++)
        free(e->timers[i].key);
    free(e->timers);
    pthread_rwlock_destroy(&e->lock);
    pthread_mutex_destroy(&e->qlock);
    pthread_cond_destroy(&e->qcond);
    pthread_cond_destroy(&e->done_cond);
    pthread_cond_destroy(&e->timer_cond);
    pthread_mutex_destroy(&e->wlock);
    pthread_rwlock_destroy(&e->keylock);
    aux_free(e);
    memset(e->master, 0, sizeof e->master);
    free(e->master_path);
    free(e->next_path);
    free(e->keycheck);
    free(e);
}

void lv_engine_rdlock(lv_engine *e)
{
    pthread_rwlock_rdlock(&e->lock);
}

void lv_engine_rdunlock(lv_engine *e)
{
    pthread_rwlock_unlock(&e->lock);
}

const lv_param *lv_engine_get(lv_engine *e, const char *region, const char *name)
{
    char stackkey[512];
    size_t rl = strlen(region), nl = strlen(name);
    if (rl + nl + 2 <= sizeof stackkey) {
        memcpy(stackkey, region, rl + 1);
        memcpy(stackkey + rl + 1, name, nl + 1);
        return lv_index_get(e->index, stackkey, rl + 1 + nl);
    }
    size_t kl;
    char *k = lv_param_make_key(region, name, &kl);
    if (k == NULL)
        return NULL;
    const lv_param *p = lv_index_get(e->index, k, kl);
    free(k);
    return p;
}

const lv_index *lv_engine_index(lv_engine *e)
{
    return e->index;
}

const lv_changelog *lv_engine_changelog(lv_engine *e)
{
    return &e->log;
}

uint64_t lv_engine_revision(lv_engine *e)
{
    return __atomic_load_n(&e->revision, __ATOMIC_ACQUIRE);
}

void lv_engine_stats_get(lv_engine *e, lv_engine_stats *out)
{
    pthread_mutex_lock(&e->qlock);
    *out = e->stats;
    pthread_mutex_unlock(&e->qlock);
    pthread_rwlock_rdlock(&e->lock);
    out->params = lv_index_count(e->index);
    out->revision = e->revision;
    pthread_rwlock_unlock(&e->lock);
}

lv_err lv_engine_backup(lv_engine *e, const char *path, lv_error *err)
{
    return lv_store_backup(e->store, path, err);
}
