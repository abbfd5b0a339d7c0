/* engine.c - the engine's life cycle and its read side: open (load the
 * store into the index, start the writer and timer threads), close, the
 * read lock, lookups, auxiliary records and counters. The writer is in
 * writer.c, the parameter rules' driver in params.c, watchers in watch.c,
 * timers in timers.c, secrets in secrets.c. */
#include "engine/engine_int.h"
#include "engine/served.h"

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
    pthread_rwlock_rdlock(&e->lock);
    for (size_t i = 0; i < e->naux; i++)
        if (e->aux[i].klen > 0 && e->aux[i].key[0] == kind)
            fn(ctx, e->aux[i].key, e->aux[i].klen, e->aux[i].val, e->aux[i].vlen);
    pthread_rwlock_unlock(&e->lock);
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
        lv_eng_share_user(e, v);
        if ((rc = lv_param_append_version(p, v)) != LV_OK)
            lv_version_unref(v);
        return rc;
    }
    if (k[0] == 'A')
        return lv_eng_ac_load(e, k + 1, klen - 1, val, vlen, lc->err);
    if (k[0] == LV_AUX_ACCESS_KEY || k[0] == LV_AUX_ALARM) {
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

/* ---------- lifecycle ---------- */

lv_err lv_engine_open(const lv_engine_config *cfg, lv_engine **out, lv_error *err)
{
    lv_engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    pthread_rwlock_init(&e->keylock, NULL);
    pthread_rwlock_init(&e->lock, NULL);
    pthread_mutex_init(&e->alock, NULL);
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
    e->shared = strcmp(e->store->ops->scheme, "sqlite") != 0;
    lv_store_set_tombstone_keep(e->store, cfg->feed_retention);
    load_ctx lc = {e, err};
    uint64_t head = 0;
    if ((rc = lv_store_load_at(e->store, load_pair, &lc, &head, err)) != LV_OK)
        goto fail_store;
    /* Revisions are the store's. A store migrated from a lever that
     * numbered its own (Mrevision) may be behind: the first commit
     * consumes the difference, so revisions never go back. */
    e->store_head = head;
    if (e->shared && head > e->revision)
        e->revision = head;
    if ((rc = lv_eng_load_keys(e, err)) != LV_OK)
        goto fail_store;
    /* Every parameter needs at least one version. */
    for (const lv_index_node *n = lv_index_seek(e->index, "", 0); n; n = lv_index_next(n)) {
        const lv_param *p = lv_index_node_param(n);
        if (p->nversions == 0) {
            rc = lv_error_set(err, LV_E_CORRUPT, "parameter %s has no versions in the store", p->name);
            goto fail_store;
        }
        lv_eng_timers_add_param(e, p);
    }
    e->timer_interval_ms = cfg->timer_interval_ms ? cfg->timer_interval_ms : 250;
    pthread_mutex_init(&e->qlock, NULL);
    pthread_cond_init(&e->qcond, NULL);
    pthread_cond_init(&e->done_cond, NULL);
    pthread_cond_init(&e->timer_cond, NULL);
    pthread_cond_init(&e->rev_cond, NULL);
    pthread_mutex_init(&e->wlock, NULL);
    /* Whatever was committed since the snapshot (the key check just
     * written, other nodes' commits): watchers from before now re-list. */
    if (e->shared && (rc = lv_eng_catch_up(e, err)) != LV_OK)
        goto fail_store;
    lv_changelog_set_floor(&e->log, e->revision);
    if (pthread_create(&e->writer, NULL, lv_eng_writer_main, e) != 0) {
        rc = lv_error_set(err, LV_E_INTERNAL, "cannot start the writer thread");
        goto fail_store;
    }
    if (pthread_create(&e->timer, NULL, lv_eng_timer_main, e) != 0) {
        pthread_mutex_lock(&e->qlock);
        e->stopping = true;
        pthread_cond_broadcast(&e->qcond);
        pthread_mutex_unlock(&e->qlock);
        pthread_join(e->writer, NULL);
        rc = lv_error_set(err, LV_E_INTERNAL, "cannot start the timer thread");
        goto fail_store;
    }
    if (e->shared) {
        if (pthread_create(&e->follower, NULL, lv_eng_follower_main, e) != 0)
            fprintf(stderr, "leverd: cannot start the follower thread; other nodes' writes arrive only "
                            "with this node's own commits\n");
        else
            e->follower_started = true;
    }
    *out = e;
    return LV_OK;
fail_store:
    lv_store_close(e->store);
fail_index:
    lv_index_free(e->index);
    lv_actable_free(&e->ac);
fail_log:
    lv_changelog_free(&e->log);
fail_free:
    lv_eng_users_free(e);
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
    pthread_cond_broadcast(&e->rev_cond);
    pthread_mutex_unlock(&e->qlock);
    if (e->follower_started)
        pthread_join(e->follower, NULL);
    pthread_join(e->timer, NULL);
    pthread_join(e->writer, NULL);
    lv_engine_watch_fire_all(e);
    lv_store_close(e->store);
    lv_index_free(e->index);
    lv_actable_free(&e->ac);
    lv_eng_users_free(e);
    lv_changelog_free(&e->log);
    lv_eng_served_free(e);
    for (size_t i = 0; i < e->ntimers; i++)
        free(e->timers[i].key);
    free(e->timers);
    pthread_rwlock_destroy(&e->lock);
    pthread_mutex_destroy(&e->qlock);
    pthread_cond_destroy(&e->qcond);
    pthread_cond_destroy(&e->done_cond);
    pthread_cond_destroy(&e->timer_cond);
    pthread_cond_destroy(&e->rev_cond);
    pthread_mutex_destroy(&e->wlock);
    pthread_mutex_destroy(&e->alock);
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
