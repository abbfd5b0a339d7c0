/* writer.c - the writer thread and group commit.
 *
 * One writer thread drains a queue of writes in batches. For each write it
 * runs the core rules against the newest state (the batch's own earlier
 * results first, then the index), turns the difference between old and new
 * state into store operations, and after one durable commit swaps the new
 * states into the index under the write lock. Readers therefore only ever
 * see committed data, and N concurrent writers cost one fsync. */
#include "engine/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/changerec.h"
#include "core/record.h"
#include "crypto/crypto.h"
#include "store/store.h"


lv_err lv_eng_grow_arr(void **p, size_t *cap, size_t need, size_t elem)
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

overlay_entry *lv_eng_overlay_find(batch *b, const char *key, size_t len)
{
    for (size_t i = 0; i < b->nov; i++)
        if (b->ov[i].key_len == len && memcmp(b->ov[i].key, key, len) == 0)
            return &b->ov[i];
    return NULL;
}

/* Appends a store op; key/value bytes are copied into the batch. */
lv_err lv_eng_add_op(batch *b, const lv_buf *key, const lv_buf *val)
{
    size_t oldcap = b->cap_ops;
    lv_err rc = lv_eng_grow_arr((void **)&b->ops, &b->cap_ops, b->nops + 1, sizeof *b->ops);
    if (rc != LV_OK)
        return rc;
    if (b->cap_ops != oldcap) {
        size_t c = oldcap * 2; /* two buffers per op */
        rc = lv_eng_grow_arr((void **)&b->bufs, &c, b->cap_ops * 2, sizeof *b->bufs);
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

lv_err lv_eng_add_change(batch *b, lv_change_kind kind, const lv_param *p, uint32_t version)
{
    lv_err rc = lv_eng_grow_arr((void **)&b->changes, &b->cap_changes, b->nchanges + 1, sizeof *b->changes);
    if (rc != LV_OK)
        return rc;
    lv_change *c = &b->changes[b->nchanges++];
    c->kind = kind;
    c->key = p->key; /* copied by the change log */
    c->key_len = p->key_len;
    c->version = version;
    c->time_ms = lv_eng_now_ms();
    return LV_OK;
}

lv_err lv_eng_add_garbage(batch *b, lv_param *p)
{
    lv_err rc = lv_eng_grow_arr((void **)&b->garbage, &b->cap_garbage, b->ngarbage + 1, sizeof *b->garbage);
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
        char kind = op->klen ? ((const char *)op->key)[0] : 0;
        if (!keycheck && (op->klen < 2 || (kind != LV_AUX_ACCESS_KEY && kind != LV_AUX_ALARM)))
            return lv_error_set(err, LV_E_INTERNAL, "raw write of a non-auxiliary record");
        lv_buf k = {(char *)op->key, op->klen, 0, 0};
        lv_buf v = {(char *)(op->val ? op->val : ""), op->vlen, 0, 0};
        lv_err rc = lv_eng_add_op(b, &k, op->val ? &v : NULL);
        if (rc != LV_OK)
            return lv_error_set(err, rc, "out of memory");
    }
    w->stored = w->u.raw.n > 0;
    return LV_OK;
}

/* A copy of cur whose SecureString versions that do not open under the
 * newest master key are re-sealed under it; *next stays NULL when none
 * needed it. Only the envelope changes: no version, label or date does. */
static lv_err plan_one(lv_engine *e, batch *b, lv_write *w, lv_error *err)
{
    if (w->kind == LV_WRITE_RAW)
        return plan_raw(b, w, err);
    if (w->kind == LV_WRITE_APPCONFIG)
        return lv_eng_plan_ac(e, b, w, err);
    return lv_eng_plan_param(e, b, w, err);
}

static void batch_reset(batch *b)
{
    b->nov = b->nops = b->nchanges = b->ngarbage = 0;
    b->nexpired = 0;
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
    free(b->acov);
    free(b->ackeys);
}

static void plan_all(lv_engine *e, batch *b, lv_write *list)
{
    batch_reset(b);
    for (lv_write *w = list; w; w = w->next) {
        lv_error_clear(&w->err);
        w->stored = false;
        size_t before = b->nchanges;
        w->rc = plan_one(e, b, w, &w->err);
        if (w->rc != LV_OK && w->err.msg[0] == '\0')
            lv_error_set(&w->err, w->rc, "%s", w->rc == LV_E_NOMEM ? "out of memory" : "internal error");
        /* Until the commit says which revisions it got: the end of this
         * write's changes in the batch. */
        w->revision = b->nchanges > before ? b->nchanges : 0;
    }
}

/* Drops everything a plan built (a refused or failed commit). */
static void unplan(batch *b, lv_write *list)
{
    for (size_t i = 0; i < b->nov; i++)
        if (b->ov[i].fresh)
            lv_param_free(b->ov[i].state);
    b->nov = 0;
    for (lv_write *w = list; w; w = w->next)
        if (w->kind == LV_WRITE_APPCONFIG) {
            lv_acrec_unref(w->u.ac.result);
            w->u.ac.result = NULL;
        }
    lv_eng_ac_abort(b);
    for (size_t i = 0; i < b->ngarbage; i++)
        lv_param_free(b->garbage[i]);
    b->ngarbage = 0;
    lv_eng_ac_batch_end(b);
}

/* Commits the batch's ops with the revision record (and, on a shared
 * store, the changes' record and the condition that no commit happened
 * since the state the batch was planned from). */
static lv_err commit(lv_engine *e, batch *b, uint64_t *rev, lv_error *err)
{
    if (!e->shared) {
        /* One node: revisions count changes (the store's own commit
         * numbers are not used), as lever always numbered them. */
        lv_err rc = LV_OK;
        if (b->nchanges > 0) {
            unsigned char rv[8];
            lv_record_put_u64(rv, e->revision + b->nchanges);
            lv_buf k = {(char *)"Mrevision", 9, 0, 0}, v = {(char *)rv, 8, 0, 0};
            if ((rc = lv_eng_add_op(b, &k, &v)) != LV_OK)
                return lv_error_set(err, rc, "out of memory");
        }
        *rev = e->revision + b->nchanges;
        return b->nops > 0 ? lv_store_commit(e->store, b->ops, b->nops, err) : LV_OK;
    }
    uint64_t n = b->nchanges ? b->nchanges : 1;
    uint64_t nrev = e->revision - e->store_head + n, expect = e->store_head + nrev;
    unsigned char rv[8];
    lv_record_put_u64(rv, expect);
    lv_buf k = {(char *)"Mrevision", 9, 0, 0}, v = {(char *)rv, 8, 0, 0};
    lv_err rc = lv_eng_add_op(b, &k, &v);
    lv_store_cond cond = {"Mrevision", 9, e->store_head};
    if (rc == LV_OK && b->nchanges > 0) {
        unsigned char ck[3];
        lv_changerec_key(expect, ck);
        lv_buf cv = LV_BUF_INIT, ckb = {(char *)ck, 3, 0, 0};
        rc = lv_changerec_encode(b->changes, b->nchanges, &cv);
        if (rc == LV_OK)
            rc = lv_eng_add_op(b, &ckb, &cv);
        lv_buf_free(&cv);
    }
    if (rc != LV_OK)
        return lv_error_set(err, rc, "out of memory");
    lv_store_batch sb = {b->ops, b->nops, &cond, 1, nrev};
    rc = lv_store_commit_batch(e->store, &sb, rev, err);
    if (rc == LV_OK && *rev != expect)
        fprintf(stderr, "leverd: commit got revision %llu, expected %llu (a commit outside the engine)\n",
                (unsigned long long)*rev, (unsigned long long)expect);
    return rc;
}

enum { MAX_REPLAN = 64 };

/* A shared store: takes the store's commit order before the batch is
 * planned and catches up to the head it names, so that the plan cannot be
 * refused for a commit made in between. Without it, nodes writing at once
 * refuse each other's batches over and over (each refusal costs a round
 * of catch-up and re-planning while the others commit). False when the
 * store cannot be reserved: the batch is then planned optimistically and
 * its commit reports what the store says. */
static bool reserve(lv_engine *e, bool asked)
{
    uint64_t head = 0;
    lv_error err;
    lv_error_clear(&err);
    bool held = lv_store_reserve(e->store, e->store_head, &head, &err) == LV_OK;
    /* asked: a catch-up was asked for (the follower, a reader waiting for
     * a revision) and is done here, where it costs nothing more than the
     * reservation's own (its feed came with it). */
    if (held ? head > e->store_head || asked : asked) {
        lv_error_clear(&err);
        lv_eng_catch_up(e, &err); /* on failure the commit's condition refuses the plan */
    }
    return held;
}

static void process_batch(lv_engine *e, batch *b, lv_write *list)
{
    lv_err rc = LV_OK;
    lv_error cerr;
    lv_error_clear(&cerr);
    uint64_t rev = e->revision; /* when nothing is committed */
    bool unplanned = false;
    for (unsigned attempt = 0;; attempt++) {
        plan_all(e, b, list);
        /* Raw and re-wrap writes store ops without a change event. */
        if (b->nchanges == 0 && b->nops == 0)
            break;
        rc = commit(e, b, &rev, &cerr);
        if (rc != LV_E_CONFLICT || attempt == MAX_REPLAN)
            break;
        /* Another node wrote first: apply its commits and plan again
         * against the fresh state. */
        unplan(b, list);
        pthread_mutex_lock(&e->qlock);
        e->stats.conflicts++;
        pthread_mutex_unlock(&e->qlock);
        lv_error_clear(&cerr);
        if ((rc = lv_eng_catch_up(e, &cerr)) != LV_OK) {
            unplanned = true;
            break;
        }
    }
    if (e->shared)
        lv_store_release(e->store); /* when nothing was committed */
    if (e->shared && rc == LV_OK && b->nops > 0)
        lv_eng_store_health(e, true, NULL);
    else if (e->shared && rc == LV_E_UNAVAILABLE)
        lv_eng_store_health(e, false, cerr.msg);
    /* Room for the replaced states, taken before applying: after the
     * commit, an allocation failure could only leak them. */
    lv_param **old = rc == LV_OK ? calloc(b->nov ? b->nov : 1, sizeof *old) : NULL;
    if (rc == LV_OK && old == NULL) {
        /* Durable already: memory catches up at the next start. */
        fprintf(stderr, "leverd: out of memory applying a committed change\n");
    }
    if (rc != LV_OK) {
        fprintf(stderr, "leverd: commit of %zu changes failed: %s\n", b->nchanges, cerr.msg);
        for (lv_write *w = list; w; w = w->next)
            if (w->rc == LV_OK && (w->revision != 0 || w->stored || unplanned)) {
                if (rc == LV_E_UNAVAILABLE)
                    w->rc = lv_error_set(&w->err, LV_E_UNAVAILABLE,
                                         "The store cannot be reached; retry later (%s).", cerr.msg);
                else if (rc == LV_E_CONFLICT)
                    w->rc = lv_error_set(&w->err, LV_E_CONFLICT,
                                         "Too many concurrent updates from other nodes; retry.");
                else
                    w->rc = lv_error_set(&w->err, LV_E_INTERNAL, "The change could not be stored: %s", cerr.msg);
                w->revision = 0;
            }
        if (!unplanned)
            unplan(b, list);
    } else {
        uint64_t first = rev - b->nchanges + 1;
        for (lv_write *w = list; w; w = w->next)
            if (w->revision != 0)
                w->revision = first + w->revision - 1;
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
            if (old)
                old[i] = prev;
            else
                lv_param_free(prev); /* nobody can hold it: the write lock is ours */
        }
        lv_eng_ac_apply(e, b);
        for (size_t i = 0; i < b->nchanges; i++) {
            b->changes[i].revision = first + i;
            if (lv_changelog_append(&e->log, &b->changes[i]) != LV_OK)
                fprintf(stderr, "leverd: out of memory in the change log\n");
        }
        if (!e->shared) {
            __atomic_store_n(&e->revision, rev, __ATOMIC_RELEASE);
        } else if (b->nops > 0) {
            uint64_t nrev = e->revision - e->store_head + (b->nchanges ? b->nchanges : 1);
            if (e->shared && rev - nrev != e->store_head)
                e->catchup = true; /* commits we have not seen: the feed has them */
            else
                e->store_head = rev;
            /* Read without the lock by lv_engine_revision. */
            __atomic_store_n(&e->revision, rev, __ATOMIC_RELEASE);
        }
        pthread_rwlock_unlock(&e->lock);
        pthread_mutex_lock(&e->qlock);
        for (size_t i = 0; i < b->nov; i++) {
            overlay_entry *oe = &b->ov[i];
            const lv_param *p = oe->state ? oe->state : oe->orig;
            if (p == NULL)
                continue;
            lv_eng_timers_drop_key(e, p->key, p->key_len);
            if (oe->state)
                lv_eng_timers_add_param(e, oe->state);
        }
        e->stats.commits += b->nchanges > 0;
        e->stats.commit_ops += b->nops;
        /* Only now: a reader that sees the count must also see the
         * parameters gone from the index. */
        e->stats.expired += b->nexpired;
        pthread_cond_broadcast(&e->rev_cond);
        pthread_mutex_unlock(&e->qlock);
        /* Before the old states go: the changes' keys point into them. */
        if (b->nchanges > 0)
            lv_eng_notify_changes(e, b->changes, b->nchanges);
        for (size_t i = 0; old && i < b->nov; i++)
            lv_param_free(old[i]);
        for (size_t i = 0; i < b->ngarbage; i++)
            lv_param_free(b->garbage[i]);
        b->ngarbage = 0;
        lv_eng_ac_batch_end(b);
    }
    free(old);
    pthread_mutex_lock(&e->qlock);
    for (lv_write *w = list; w; w = w->next) {
        e->stats.writes++;
        e->stats.write_errors += w->rc != LV_OK;
    }
    pthread_mutex_unlock(&e->qlock);
}

void *lv_eng_writer_main(void *arg)
{
    lv_engine *e = arg;
    batch b;
    memset(&b, 0, sizeof b);
    pthread_mutex_lock(&e->qlock);
    for (;;) {
        while (e->qhead == NULL && !e->stopping && !e->catchup)
            pthread_cond_wait(&e->qcond, &e->qlock);
        /* With writes waiting on a shared store, the reservation below
         * catches up anyway (the feed comes with it): not twice. */
        if (e->catchup && !e->stopping && !(e->shared && e->qhead != NULL)) {
            e->catchup = false;
            pthread_mutex_unlock(&e->qlock);
            lv_error cerr;
            lv_error_clear(&cerr);
            lv_eng_catch_up(e, &cerr);
            pthread_mutex_lock(&e->qlock);
            continue;
        }
        if (e->qhead == NULL && e->stopping)
            break;
        if (e->shared) {
            /* Writes that arrive while this waits for the other nodes'
             * commits join the batch. */
            bool asked = e->catchup;
            e->catchup = false;
            pthread_mutex_unlock(&e->qlock);
            reserve(e, asked);
            pthread_mutex_lock(&e->qlock);
        }
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

