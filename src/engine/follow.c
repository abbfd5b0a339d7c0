/* follow.c - following a shared store: other nodes' commits reach this
 * node's memory through the store's change feed.
 *
 * A follower thread waits on the store (LISTEN/NOTIFY for PostgreSQL, with
 * a periodic timeout as the catch-up for lost notifications) and asks the
 * writer thread to catch up. The catch-up itself runs on the writer
 * thread, between batches or after a refused (LV_E_CONFLICT) commit, so
 * memory has one mutator and a batch is always planned against a state
 * that includes every commit below the revision it is conditional on.
 *
 * The feed hands back records (state, not history): parameters are
 * rebuilt from their "P"/"V" records over the state in memory, AppConfig
 * "A" records replace the table's, aux records ('K' access keys, 'L'
 * alarms) go to their owners through the aux listeners, and each commit's
 * "C" record (core/changerec.h) gives the change-log entries its writer
 * appended, numbered with the store's revisions. Applying is idempotent:
 * a record already in memory is rebuilt to the same state and a change at
 * or below the log's newest revision is not appended twice. */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/changerec.h"
#include "core/record.h"
#include "store/store.h"

enum { WAIT_MS = 500 };

const unsigned lv_engine_follow_lag_ms[LV_FOLLOW_LAG_BUCKETS] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Under qlock: a followed commit whose last change its writer made at t. */
static void observe_lag(lv_engine *e, int64_t t, int64_t now)
{
    uint64_t lag = now > t ? (uint64_t)(now - t) : 0;
    unsigned i = 0;
    while (i < LV_FOLLOW_LAG_BUCKETS && lag > lv_engine_follow_lag_ms[i])
        i++;
    e->stats.follow_lag[i]++;
    e->stats.follow_lag_count++;
    e->stats.follow_lag_sum_ms += lag;
}

/* ---------- store health ---------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lv_eng_store_health(lv_engine *e, bool ok, const char *msg)
{
    pthread_mutex_lock(&e->qlock);
    if (ok && e->store_down)
        fprintf(stderr, "leverd: the store is reachable again (revision %llu)\n",
                (unsigned long long)e->revision);
    else if (!ok && !e->store_down) {
        e->store_down_since = mono_ms();
        fprintf(stderr, "leverd: the store cannot be reached: %s; serving reads from memory\n", msg ? msg : "");
    }
    e->store_down = !ok;
    pthread_mutex_unlock(&e->qlock);
}

bool lv_engine_store_ok(lv_engine *e, int64_t *down_ms)
{
    pthread_mutex_lock(&e->qlock);
    bool ok = !e->store_down;
    if (down_ms)
        *down_ms = ok ? 0 : mono_ms() - e->store_down_since;
    pthread_mutex_unlock(&e->qlock);
    return ok;
}

bool lv_engine_shared(lv_engine *e)
{
    return e->shared;
}

/* ---------- reading the feed ---------- */

typedef struct frec {
    uint64_t rev;
    char *key;
    size_t klen;
    char *val; /* NULL: deleted */
    size_t vlen;
} frec;

typedef struct feed_buf {
    frec *r;
    size_t n, cap;
} feed_buf;

static void feed_free(feed_buf *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->r[i].key);
        free(f->r[i].val);
    }
    free(f->r);
}

static lv_err feed_one(void *ctx, uint64_t rev, const void *key, size_t klen, const void *val, size_t vlen)
{
    feed_buf *f = ctx;
    if (lv_eng_grow_arr((void **)&f->r, &f->cap, f->n + 1, sizeof *f->r) != LV_OK)
        return LV_E_NOMEM;
    frec *r = &f->r[f->n];
    r->key = malloc(klen + 1);
    r->val = val ? malloc(vlen + 1) : NULL;
    if (r->key == NULL || (val && r->val == NULL)) {
        free(r->key);
        free(r->val);
        return LV_E_NOMEM;
    }
    memcpy(r->key, key, klen);
    r->key[klen] = '\0';
    if (val) {
        memcpy(r->val, val, vlen);
        r->val[vlen] = '\0';
    }
    r->klen = klen;
    r->vlen = vlen;
    r->rev = rev;
    f->n++;
    return LV_OK;
}

/* ---------- rebuilding parameters ---------- */

typedef struct pchange {
    char *pk;             /* param key, borrowed from a feed record */
    size_t pkl;
    lv_param *cur;        /* what the index holds (may be NULL) */
    lv_param *next;       /* new state, NULL = deleted */
} pchange;

/* The parameter key of a "P" or "V" record, or false for other kinds. */
static bool param_key_of(const frec *r, size_t *pkl, uint32_t *version, bool *is_v)
{
    if (r->klen < 2)
        return false;
    if (r->key[0] == 'P') {
        *pkl = r->klen - 1;
        *version = 0;
        *is_v = false;
        return true;
    }
    if (r->key[0] != 'V')
        return false;
    lv_error err;
    if (lv_record_split_version_key(r->key + 1, r->klen - 1, pkl, version, &err) != LV_OK)
        return false;
    *is_v = true;
    return true;
}

static const frec *sort_base;

static int pref_cmp(const void *a, const void *b)
{
    const frec *x = &sort_base[*(const size_t *)a], *y = &sort_base[*(const size_t *)b];
    size_t xl, yl;
    uint32_t xv, yv;
    bool xi, yi;
    param_key_of(x, &xl, &xv, &xi);
    param_key_of(y, &yl, &yv, &yi);
    int c = memcmp(x->key + 1, y->key + 1, xl < yl ? xl : yl);
    if (c != 0)
        return c;
    if (xl != yl)
        return xl < yl ? -1 : 1;
    if (xi != yi)
        return xi ? 1 : -1; /* "P" first */
    return xv < yv ? -1 : xv > yv;
}

static int vcmp(const void *a, const void *b)
{
    const lv_version *x = *(lv_version *const *)a, *y = *(lv_version *const *)b;
    return x->version < y->version ? -1 : x->version > y->version;
}

/* The new state of one parameter from its records g[0..n) (sorted: "P"
 * first, then versions ascending) over cur. */
static lv_err rebuild(lv_engine *e, const frec *const *g, size_t n, const lv_param *cur, lv_param **out,
                      lv_error *err)
{
    *out = NULL;
    size_t at = 0;
    lv_param *p = NULL;
    if (g[0]->key[0] == 'P') {
        at = 1;
        if (g[0]->val == NULL)
            return LV_OK; /* deleted, with its versions */
        lv_err rc = lv_record_decode_param(g[0]->key + 1, g[0]->klen - 1, g[0]->val, g[0]->vlen, &p, err);
        if (rc != LV_OK)
            return rc;
    } else if (cur == NULL) {
        return LV_OK; /* versions of a parameter gone meanwhile */
    } else if ((p = lv_param_clone(cur)) == NULL) {
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    } else {
        for (unsigned i = 0; i < p->nversions; i++)
            lv_version_unref(p->versions[i]);
        p->nversions = 0;
    }
    size_t cap = (cur ? cur->nversions : 0) + n + 1, nv = 0;
    lv_version **vs = calloc(cap, sizeof *vs);
    if (vs == NULL) {
        lv_param_free(p);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    lv_err rc = LV_OK;
    for (unsigned i = 0; cur && i < cur->nversions; i++) {
        vs[nv] = cur->versions[i];
        lv_version_ref(vs[nv++]);
    }
    for (size_t j = at; rc == LV_OK && j < n; j++) {
        size_t pkl;
        uint32_t version;
        bool is_v;
        param_key_of(g[j], &pkl, &version, &is_v);
        size_t k = 0;
        while (k < nv && vs[k]->version != version)
            k++;
        lv_version *v = NULL;
        if (g[j]->val != NULL) {
            if ((rc = lv_record_decode_version(g[j]->val, g[j]->vlen, &v, err)) != LV_OK)
                break;
            if (v->version != version) {
                lv_version_unref(v);
                rc = lv_error_set(err, LV_E_CORRUPT, "version record under the wrong key");
                break;
            }
            lv_eng_share_user(e, v);
        }
        if (k < nv) {
            lv_version_unref(vs[k]);
            if (v)
                vs[k] = v;
            else
                vs[k] = vs[--nv];
        } else if (v) {
            vs[nv++] = v;
        }
    }
    if (rc == LV_OK) {
        qsort(vs, nv, sizeof *vs, vcmp);
        for (size_t k = 0; k < nv; k++) {
            if (rc == LV_OK && (rc = lv_param_append_version(p, vs[k])) == LV_OK)
                continue;
            lv_version_unref(vs[k]);
        }
        if (rc != LV_OK)
            lv_error_set(err, rc, "out of memory");
    } else {
        for (size_t k = 0; k < nv; k++)
            lv_version_unref(vs[k]);
    }
    free(vs);
    if (rc != LV_OK || p->nversions == 0) {
        /* No version left is a parameter in the middle of being deleted. */
        lv_param_free(p);
        return rc;
    }
    *out = p;
    return LV_OK;
}

/* ---------- applying ---------- */

typedef struct acchange {
    char *key;            /* borrowed: after the 'A' */
    size_t klen;
    lv_acrec *rec;        /* NULL = deleted */
} acchange;

typedef struct applied {
    pchange *pc;
    size_t npc, cap_pc;
    acchange *ac;
    size_t nac, cap_ac;
    lv_changerec *cr;
    uint64_t *cr_rev;
    size_t ncr;
} applied;

static void applied_free(applied *a, bool built_only)
{
    for (size_t i = 0; i < a->npc; i++)
        if (built_only)
            lv_param_free(a->pc[i].next);
    for (size_t i = 0; i < a->nac; i++)
        if (built_only)
            lv_acrec_unref(a->ac[i].rec);
    for (size_t i = 0; i < a->ncr; i++)
        lv_changerec_free(&a->cr[i]);
    free(a->pc);
    free(a->ac);
    free(a->cr);
    free(a->cr_rev);
}

/* reload: f is a whole snapshot (see reload()): every parameter is
 * rebuilt from its records alone, and the ring of change records, which
 * cannot be numbered, is left out. */
static lv_err build(lv_engine *e, const feed_buf *f, applied *a, bool reload, lv_error *err)
{
    size_t *ix = malloc((f->n ? f->n : 1) * sizeof *ix), np = 0;
    a->cr = calloc(f->n ? f->n : 1, sizeof *a->cr);
    a->cr_rev = calloc(f->n ? f->n : 1, sizeof *a->cr_rev);
    const frec **g = malloc((f->n ? f->n : 1) * sizeof *g);
    lv_err rc = ix && a->cr && a->cr_rev && g ? LV_OK : lv_error_set(err, LV_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == LV_OK && i < f->n; i++) {
        const frec *r = &f->r[i];
        size_t pkl;
        uint32_t version;
        bool is_v;
        if (param_key_of(r, &pkl, &version, &is_v)) {
            ix[np++] = i;
        } else if (r->klen > 1 && r->key[0] == 'A') {
            if ((rc = lv_eng_grow_arr((void **)&a->ac, &a->cap_ac, a->nac + 1, sizeof *a->ac)) != LV_OK)
                break;
            acchange *c = &a->ac[a->nac];
            c->key = r->key + 1;
            c->klen = r->klen - 1;
            c->rec = NULL;
            if (r->val && (rc = lv_acrec_decode(c->key, c->klen, r->val, r->vlen, &c->rec, err)) != LV_OK)
                break;
            a->nac++;
        } else if (r->klen == 3 && r->key[0] == 'C' && r->val && !reload) {
            if ((rc = lv_changerec_decode(r->val, r->vlen, &a->cr[a->ncr], err)) != LV_OK)
                break;
            a->cr_rev[a->ncr++] = r->rev;
        }
    }
    if (rc == LV_OK) {
        sort_base = f->r; /* writer thread only */
        qsort(ix, np, sizeof *ix, pref_cmp);
    }
    for (size_t i = 0; rc == LV_OK && i < np;) {
        size_t pkl, pkl2;
        uint32_t v;
        bool is_v;
        param_key_of(&f->r[ix[i]], &pkl, &v, &is_v);
        size_t j = i, n = 0;
        while (j < np) {
            const frec *r = &f->r[ix[j]];
            param_key_of(r, &pkl2, &v, &is_v);
            if (pkl2 != pkl || memcmp(r->key + 1, f->r[ix[i]].key + 1, pkl) != 0)
                break;
            g[n++] = r;
            j++;
        }
        if ((rc = lv_eng_grow_arr((void **)&a->pc, &a->cap_pc, a->npc + 1, sizeof *a->pc)) != LV_OK)
            break;
        pchange *pc = &a->pc[a->npc];
        pc->pk = f->r[ix[i]].key + 1;
        pc->pkl = pkl;
        pc->cur = lv_index_get(e->index, pc->pk, pkl);
        if ((rc = rebuild(e, g, n, reload ? NULL : pc->cur, &pc->next, err)) != LV_OK)
            break;
        a->npc++;
        i = j;
    }
    if (rc != LV_OK && err->msg[0] == '\0')
        lv_error_set(err, rc, "out of memory");
    free(ix);
    free(g);
    return rc;
}

/* Keeps e->aux current (it is what a full re-delivery would hand out). */
static void aux_update(lv_engine *e, const frec *r)
{
    size_t i = 0;
    while (i < e->naux && !(e->aux[i].klen == r->klen && memcmp(e->aux[i].key, r->key, r->klen) == 0))
        i++;
    if (r->val == NULL) {
        if (i < e->naux) {
            free(e->aux[i].key);
            free(e->aux[i].val);
            e->aux[i] = e->aux[--e->naux];
        }
        return;
    }
    char *k = malloc(r->klen + 1), *v = malloc(r->vlen + 1);
    if (k == NULL || v == NULL || (i == e->naux && lv_eng_grow_arr((void **)&e->aux, &e->cap_aux, e->naux + 1,
                                                                   sizeof *e->aux) != LV_OK)) {
        free(k);
        free(v);
        fprintf(stderr, "leverd: out of memory following an auxiliary record\n");
        return;
    }
    memcpy(k, r->key, r->klen + 1);
    memcpy(v, r->val, r->vlen + 1);
    if (i < e->naux) {
        free(e->aux[i].key);
        free(e->aux[i].val);
    } else {
        e->naux++;
    }
    e->aux[i] = (aux_rec){k, r->klen, v, r->vlen};
}

static void apply(lv_engine *e, const feed_buf *f, applied *a, uint64_t since, uint64_t upto, bool reload)
{
    lv_param **old = calloc(a->npc ? a->npc : 1, sizeof *old);
    size_t nch = 0;
    for (size_t i = 0; i < a->ncr; i++)
        nch += a->cr[i].n;
    lv_change *chg = calloc(nch ? nch : 1, sizeof *chg);
    size_t nnew = 0;
    /* A follower further behind than the ring of change records may have
     * lost some, and a reload has none: watchers from before upto must
     * re-list. */
    bool lost = reload || upto - since >= LV_CHANGEREC_SLOTS;
    pthread_rwlock_wrlock(&e->lock);
    for (size_t i = 0; i < a->npc; i++) {
        pchange *pc = &a->pc[i];
        lv_param *prev = NULL;
        if (pc->next != NULL) {
            if (lv_index_put(e->index, pc->next, &prev) != LV_OK) {
                fprintf(stderr, "leverd: out of memory following a change\n");
                lv_param_free(pc->next);
                pc->next = NULL;
                prev = NULL;
            }
        } else if (pc->cur != NULL) {
            prev = lv_index_remove(e->index, pc->pk, pc->pkl);
        }
        if (old)
            old[i] = prev;
        else
            lv_param_free(prev); /* no reader can hold it: we have the write lock */
    }
    for (size_t i = 0; i < a->nac; i++) {
        acchange *c = &a->ac[i];
        if (c->rec != NULL) {
            lv_acrec *prev = NULL;
            if (lv_actable_put(&e->ac, c->rec, &prev) != LV_OK) {
                fprintf(stderr, "leverd: out of memory following an AppConfig change\n");
                lv_acrec_unref(c->rec);
            }
            lv_acrec_unref(prev);
        } else {
            lv_acrec_unref(lv_actable_remove(&e->ac, c->key, c->klen));
        }
        c->rec = NULL;
    }
    for (size_t i = 0; i < f->n; i++)
        if (f->r[i].klen > 1 && (f->r[i].key[0] == LV_AUX_ACCESS_KEY || f->r[i].key[0] == LV_AUX_ALARM))
            aux_update(e, &f->r[i]);
    if (lost) {
        lv_changelog_set_floor(&e->log, upto);
    } else {
        uint64_t last = lv_changelog_last(&e->log);
        for (size_t i = 0; i < a->ncr; i++) {
            lv_changerec *cr = &a->cr[i];
            for (size_t k = 0; k < cr->n; k++) {
                cr->c[k].revision = a->cr_rev[i] - cr->n + 1 + k;
                if (cr->c[k].revision <= last)
                    continue;
                if (lv_changelog_append(&e->log, &cr->c[k]) != LV_OK)
                    fprintf(stderr, "leverd: out of memory in the change log\n");
                if (chg)
                    chg[nnew++] = cr->c[k];
            }
        }
    }
    e->store_head = upto;
    if (upto > e->revision)
        __atomic_store_n(&e->revision, upto, __ATOMIC_RELEASE);
    pthread_rwlock_unlock(&e->lock);
    pthread_mutex_lock(&e->qlock);
    for (size_t i = 0; i < a->npc; i++) {
        pchange *pc = &a->pc[i];
        lv_eng_timers_drop_key(e, pc->pk, pc->pkl);
        if (pc->next)
            lv_eng_timers_add_param(e, pc->next);
    }
    e->stats.followed += a->ncr;
    int64_t now = wall_ms();
    for (size_t i = 0; !lost && i < a->ncr; i++)
        if (a->cr[i].n > 0 && a->cr_rev[i] > since)
            observe_lag(e, a->cr[i].c[a->cr[i].n - 1].time_ms, now);
    pthread_mutex_unlock(&e->qlock);
    if (nnew > 0)
        lv_eng_notify_changes(e, chg, nnew);
    if (lost)
        lv_eng_wake_watchers(e); /* each answers "compacted": list again */
    pthread_mutex_lock(&e->alock);
    for (size_t i = 0; i < f->n; i++)
        if (f->r[i].klen > 1 && (f->r[i].key[0] == LV_AUX_ACCESS_KEY || f->r[i].key[0] == LV_AUX_ALARM))
            for (size_t l = 0; l < e->naux_listeners; l++)
                e->aux_listeners[l].fn(e->aux_listeners[l].ctx, f->r[i].key, f->r[i].klen, f->r[i].val,
                                       f->r[i].vlen);
    pthread_mutex_unlock(&e->alock);
    for (size_t i = 0; old && i < a->npc; i++)
        lv_param_free(old[i]);
    free(old);
    free(chg);
}

/* ---------- reloading ---------- */

static lv_err load_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    return feed_one(ctx, 0, key, klen, val, vlen);
}

static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c != 0 ? c : (al > bl) - (al < bl);
}

static int frec_cmp(const void *x, const void *y)
{
    const frec *a = x, *b = y;
    return key_cmp(a->key, a->klen, b->key, b->klen);
}

/* Adds a deletion of key (prefix byte, then body) unless one of the first
 * n records (sorted) is that key. */
static lv_err gone_unless_loaded(feed_buf *f, size_t n, char prefix, const char *body, size_t blen, lv_buf *tmp)
{
    lv_buf_reset(tmp);
    if (prefix != '\0' && lv_buf_append(tmp, &prefix, 1) != LV_OK)
        return LV_E_NOMEM;
    if (lv_buf_append(tmp, body, blen) != LV_OK)
        return LV_E_NOMEM;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(f->r[mid].key, f->r[mid].klen, tmp->data, tmp->len);
        if (c == 0)
            return LV_OK;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return feed_one(f, 0, tmp->data, tmp->len, NULL, 0);
}

/* The feed no longer reaches back to this node's position (the store
 * compacted the deletions it would have needed): reads the whole store
 * from one snapshot into f, as if every record had changed at its head
 * (*upto), plus a deletion for everything memory holds that the snapshot
 * does not. Writer thread: memory has no other mutator meanwhile. */
static lv_err reload(lv_engine *e, feed_buf *f, uint64_t *upto, lv_error *err)
{
    uint64_t head = 0;
    lv_err rc = lv_store_load_at(e->store, load_one, f, &head, err);
    if (rc != LV_OK)
        return rc;
    qsort(f->r, f->n, sizeof *f->r, frec_cmp);
    size_t n = f->n;
    lv_buf tmp = LV_BUF_INIT;
    for (const lv_index_node *nd = lv_index_seek(e->index, "", 0); rc == LV_OK && nd; nd = lv_index_next(nd)) {
        const lv_param *p = lv_index_node_param(nd);
        rc = gone_unless_loaded(f, n, 'P', p->key, p->key_len, &tmp);
    }
    for (size_t i = 0; rc == LV_OK && i < e->ac.n; i++)
        rc = gone_unless_loaded(f, n, 'A', e->ac.r[i]->key, e->ac.r[i]->klen, &tmp);
    for (size_t i = 0; rc == LV_OK && i < e->naux; i++)
        rc = gone_unless_loaded(f, n, '\0', e->aux[i].key, e->aux[i].klen, &tmp);
    lv_buf_free(&tmp);
    if (rc != LV_OK)
        return lv_error_set(err, rc, "out of memory");
    for (size_t i = 0; i < f->n; i++)
        f->r[i].rev = head;
    *upto = head;
    return LV_OK;
}

/* Writer thread: brings memory up to the store's head. */
lv_err lv_eng_catch_up(lv_engine *e, lv_error *err)
{
    if (!e->shared)
        return LV_OK;
    feed_buf f = {0};
    uint64_t since = e->store_head, upto = since;
    bool reloading = false;
    lv_err rc = lv_store_feed(e->store, since, feed_one, &f, &upto, err);
    if (rc == LV_E_COMPACTED) {
        fprintf(stderr, "leverd: %s: this node fell behind the change feed; loading the whole store again\n",
                err->msg);
        feed_free(&f);
        memset(&f, 0, sizeof f);
        lv_error_clear(err);
        reloading = true;
        /* Not while holding every node's commits (the writer may have
         * reserved the order): the batch then commits on its conditions. */
        lv_store_release(e->store);
        rc = reload(e, &f, &upto, err);
    }
    if (rc != LV_OK) {
        lv_eng_store_health(e, false, err->msg);
    } else {
        lv_eng_store_health(e, true, NULL);
        applied a;
        memset(&a, 0, sizeof a);
        if ((rc = build(e, &f, &a, reloading, err)) != LV_OK) {
            fprintf(stderr, "leverd: cannot follow the store at revision %llu: %s\n", (unsigned long long)since,
                    err->msg);
            applied_free(&a, true);
        } else {
            if (upto > since || f.n > 0 || reloading)
                apply(e, &f, &a, since, upto, reloading);
            applied_free(&a, false);
            if (reloading) {
                pthread_mutex_lock(&e->qlock);
                e->stats.reloads++;
                pthread_mutex_unlock(&e->qlock);
                fprintf(stderr, "leverd: loaded the store again at revision %llu\n", (unsigned long long)upto);
            }
        }
    }
    feed_free(&f);
    pthread_mutex_lock(&e->qlock);
    e->catchup_gen++;
    pthread_cond_broadcast(&e->rev_cond);
    pthread_mutex_unlock(&e->qlock);
    return rc;
}

/* ---------- the follower thread ---------- */

void *lv_eng_follower_main(void *arg)
{
    lv_engine *e = arg;
    for (;;) {
        pthread_rwlock_rdlock(&e->lock);
        uint64_t since = e->store_head;
        pthread_rwlock_unlock(&e->lock);
        bool woken = false;
        lv_error err;
        lv_error_clear(&err);
        lv_err rc = lv_store_wait(e->store, since, WAIT_MS, &woken, &err);
        if (rc != LV_OK)
            lv_eng_store_health(e, false, err.msg);
        pthread_mutex_lock(&e->qlock);
        if (e->stopping) {
            pthread_mutex_unlock(&e->qlock);
            break;
        }
        /* Woken or not (a timeout is the periodic catch-up): the writer
         * reads the feed, and this thread waits until it has, so a
         * lagging head does not make it spin. */
        uint64_t gen = e->catchup_gen;
        e->catchup = true;
        pthread_cond_signal(&e->qcond);
        while (e->catchup_gen == gen && !e->stopping)
            pthread_cond_wait(&e->rev_cond, &e->qlock);
        pthread_mutex_unlock(&e->qlock);
    }
    return NULL;
}

lv_err lv_engine_wait_revision(lv_engine *e, uint64_t rev, int timeout_ms, lv_error *err)
{
    if (lv_engine_revision(e) >= rev)
        return LV_OK;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&e->qlock);
    bool timed_out = false;
    /* Do not wait for the next notification: read the feed now, once;
     * after that the follower's wake-ups bring what is still missing (a
     * revision nobody committed yet must not make this node poll). */
    if (e->shared && !e->catchup) {
        e->catchup = true;
        pthread_cond_signal(&e->qcond);
    }
    while (lv_engine_revision(e) < rev && e->shared && !e->stopping && !timed_out)
        timed_out = pthread_cond_timedwait(&e->rev_cond, &e->qlock, &dl) != 0;
    pthread_mutex_unlock(&e->qlock);
    uint64_t have = lv_engine_revision(e);
    if (have >= rev)
        return LV_OK;
    return lv_error_set(err, LV_E_UNAVAILABLE,
                        "This node has applied revision %llu; revision %llu (x-lever-revision) is not visible "
                        "here yet. Retry.",
                        (unsigned long long)have, (unsigned long long)rev);
}

lv_err lv_engine_on_aux(lv_engine *e, lv_engine_aux_fn fn, void *ctx)
{
    pthread_mutex_lock(&e->alock);
    lv_err rc = LV_E_LIMIT_EXCEEDED;
    if (e->naux_listeners < sizeof e->aux_listeners / sizeof e->aux_listeners[0]) {
        e->aux_listeners[e->naux_listeners].fn = fn;
        e->aux_listeners[e->naux_listeners].ctx = ctx;
        e->naux_listeners++;
        rc = LV_OK;
    }
    pthread_mutex_unlock(&e->alock);
    return rc;
}

void lv_engine_off_aux(lv_engine *e, lv_engine_aux_fn fn, void *ctx)
{
    pthread_mutex_lock(&e->alock);
    for (size_t i = 0; i < e->naux_listeners; i++)
        if (e->aux_listeners[i].fn == fn && e->aux_listeners[i].ctx == ctx) {
            e->aux_listeners[i] = e->aux_listeners[--e->naux_listeners];
            break;
        }
    pthread_mutex_unlock(&e->alock);
}
