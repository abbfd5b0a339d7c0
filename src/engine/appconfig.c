/* appconfig.c - AppConfig records in the engine: loaded into a sorted
 * table at open ("A"-prefixed store keys), written through the one writer
 * (a plan from core/appconfig.c against the table plus the batch's own
 * earlier records, then store ops in the batch's transaction, then the
 * table swap and the change-log entries of deployments). */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/appconfig.h"

lv_err lv_eng_ac_load(lv_engine *e, const char *key, size_t klen, const void *val, size_t vlen, lv_error *err)
{
    lv_acrec *r, *old;
    lv_err rc = lv_acrec_decode(key, klen, val, vlen, &r, err);
    if (rc != LV_OK)
        return rc;
    if ((rc = lv_actable_put(&e->ac, r, &old)) != LV_OK) {
        lv_acrec_unref(r);
        return lv_error_set(err, rc, "out of memory");
    }
    lv_acrec_unref(old);
    return LV_OK;
}

/* ---------- views ---------- */

static const lv_acrec *table_get(void *ctx, const char *key, size_t klen)
{
    return lv_actable_get(ctx, key, klen);
}

static void table_each(void *ctx, const char *prefix, size_t plen, lv_acview_fn fn, void *arg)
{
    const lv_actable *t = ctx;
    for (size_t i = lv_actable_seek(t, prefix, plen); i < t->n && lv_acrec_has_prefix(t->r[i], prefix, plen); i++)
        if (!fn(arg, t->r[i]))
            return;
}

void lv_engine_ac_view(lv_engine *e, lv_acview *out)
{
    out->get = table_get;
    out->each = table_each;
    out->ctx = &e->ac;
}

/* The writer's view: the batch's records over the table. */
typedef struct batch_view {
    lv_engine *e;
    batch *b;
} batch_view;

static struct ac_overlay *ov_find(batch *b, const char *key, size_t klen)
{
    for (size_t i = b->nacov; i-- > 0;)
        if (b->acov[i].klen == klen && memcmp(b->acov[i].key, key, klen) == 0)
            return &b->acov[i];
    return NULL;
}

static const lv_acrec *batch_get(void *ctx, const char *key, size_t klen)
{
    batch_view *bv = ctx;
    struct ac_overlay *o = ov_find(bv->b, key, klen);
    return o ? o->rec : lv_actable_get(&bv->e->ac, key, klen);
}

static int rec_cmp(const void *a, const void *b)
{
    const lv_acrec *x = *(const lv_acrec *const *)a, *y = *(const lv_acrec *const *)b;
    int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);
    return c ? c : (x->klen < y->klen ? -1 : x->klen > y->klen);
}

static void batch_each(void *ctx, const char *prefix, size_t plen, lv_acview_fn fn, void *arg)
{
    batch_view *bv = ctx;
    batch *b = bv->b;
    bool touched = false;
    for (size_t i = 0; i < b->nacov && !touched; i++)
        touched = b->acov[i].klen >= plen && memcmp(b->acov[i].key, prefix, plen) == 0;
    if (!touched) {
        table_each(&bv->e->ac, prefix, plen, fn, arg);
        return;
    }
    /* Merge: the table's records not overridden, plus the batch's puts. */
    const lv_actable *t = &bv->e->ac;
    size_t lo = lv_actable_seek(t, prefix, plen), hi = lo;
    while (hi < t->n && lv_acrec_has_prefix(t->r[hi], prefix, plen))
        hi++;
    const lv_acrec **all = malloc((hi - lo + b->nacov + 1) * sizeof *all);
    if (all == NULL)
        return; /* out of memory: the plan sees fewer records; it fails safe on quotas only */
    size_t n = 0;
    for (size_t i = lo; i < hi; i++)
        if (ov_find(b, t->r[i]->key, t->r[i]->klen) == NULL)
            all[n++] = t->r[i];
    for (size_t i = 0; i < b->nacov; i++) {
        struct ac_overlay *o = &b->acov[i];
        if (o->rec == NULL || o->klen < plen || memcmp(o->key, prefix, plen) != 0)
            continue;
        if (ov_find(b, o->key, o->klen) != o)
            continue; /* superseded later in the batch */
        all[n++] = o->rec;
    }
    qsort(all, n, sizeof *all, rec_cmp);
    for (size_t i = 0; i < n; i++)
        if (!fn(arg, all[i]))
            break;
    free(all);
}

/* ---------- writes ---------- */

static lv_err ov_add(batch *b, lv_acrec *rec, const char *delkey)
{
    lv_err rc = lv_eng_grow_arr((void **)&b->acov, &b->cap_acov, b->nacov + 1, sizeof *b->acov);
    if (rc != LV_OK)
        return rc;
    struct ac_overlay *o = &b->acov[b->nacov];
    if (rec != NULL) {
        o->key = rec->key;
        o->klen = rec->klen;
    } else if ((o->key = strdup(delkey)) == NULL) {
        return LV_E_NOMEM;
    } else {
        o->klen = strlen(delkey);
    }
    o->rec = rec;
    b->nacov++;
    return LV_OK;
}

static lv_err store_op(batch *b, const char *key, size_t klen, const lv_acrec *rec)
{
    lv_buf k = LV_BUF_INIT, v = LV_BUF_INIT;
    lv_err rc = lv_buf_putc(&k, 'A');
    if (rc == LV_OK)
        rc = lv_buf_append(&k, key, klen);
    if (rc == LV_OK && rec != NULL)
        rc = lv_acrec_encode(rec, &v);
    if (rc == LV_OK)
        rc = lv_eng_add_op(b, &k, rec ? &v : NULL);
    lv_buf_free(&k);
    lv_buf_free(&v);
    return rc;
}

static lv_err add_ac_change(batch *b, lv_acplan_change *c)
{
    lv_err rc = lv_eng_grow_arr((void **)&b->ackeys, &b->cap_ackeys, b->nackeys + 1, sizeof *b->ackeys);
    if (rc == LV_OK)
        rc = lv_eng_grow_arr((void **)&b->changes, &b->cap_changes, b->nchanges + 1, sizeof *b->changes);
    if (rc != LV_OK)
        return rc;
    b->ackeys[b->nackeys++] = c->key; /* ownership moves to the batch */
    lv_change *ch = &b->changes[b->nchanges++];
    ch->kind = c->kind;
    ch->key = c->key;
    ch->key_len = c->klen;
    ch->version = c->number;
    ch->time_ms = lv_eng_now_ms();
    c->key = NULL;
    return LV_OK;
}

lv_err lv_eng_plan_ac(lv_engine *e, batch *b, lv_write *w, lv_error *err)
{
    batch_view bv = {e, b};
    lv_acview v = {batch_get, batch_each, &bv};
    lv_acplan p;
    w->u.ac.result = NULL;
    lv_err rc = lv_ac_plan(&v, w->u.ac.req, &p, err);
    if (rc != LV_OK)
        return rc;
    /* A label rollout that completes moves the label in this batch, so
     * the record and the label are durable together. */
    if (p.move.name != NULL) {
        const char *labels[1] = {p.move.label};
        lv_write lw;
        memset(&lw, 0, sizeof lw);
        lw.kind = LV_WRITE_LABEL;
        lw.region = p.move.region;
        lw.name = p.move.name;
        lw.u.label.version = p.move.version;
        lw.u.label.labels = labels;
        lw.u.label.n = 1;
        if ((rc = lv_eng_plan_param(e, b, &lw, err)) != LV_OK) {
            lv_acplan_free(&p);
            return rc;
        }
    }
    /* Store ops first: should one fail, nothing of this write is in the
     * overlay yet (the ops already added are harmless duplicates of
     * nothing, as the whole batch then fails to commit or is complete). */
    size_t ops_before = b->nops, chg_before = b->nchanges;
    for (size_t i = 0; rc == LV_OK && i < p.nputs; i++)
        rc = store_op(b, p.puts[i]->key, p.puts[i]->klen, p.puts[i]);
    for (size_t i = 0; rc == LV_OK && i < p.ndels; i++)
        rc = store_op(b, p.dels[i], strlen(p.dels[i]), NULL);
    for (size_t i = 0; rc == LV_OK && i < p.nchg; i++)
        rc = add_ac_change(b, &p.chg[i]);
    size_t ov_before = b->nacov;
    for (size_t i = 0; rc == LV_OK && i < p.nputs; i++) {
        if ((rc = ov_add(b, p.puts[i], NULL)) == LV_OK)
            p.puts[i] = NULL; /* the overlay holds the reference now */
    }
    for (size_t i = 0; rc == LV_OK && i < p.ndels; i++)
        rc = ov_add(b, NULL, p.dels[i]);
    if (rc != LV_OK) {
        /* Roll this write back out of the batch. */
        b->nops = ops_before;
        b->nchanges = chg_before;
        for (size_t i = ov_before; i < b->nacov; i++) {
            if (b->acov[i].rec)
                lv_acrec_unref(b->acov[i].rec);
            else
                free(b->acov[i].key);
        }
        b->nacov = ov_before;
        lv_acplan_free(&p);
        return lv_error_set(err, rc, "out of memory");
    }
    w->stored = b->nops > ops_before;
    w->u.ac.result = p.result;
    p.result = NULL;
    for (size_t i = 0; i < p.nputs; i++)
        p.puts[i] = NULL;
    p.nputs = 0;
    lv_acplan_free(&p);
    return LV_OK;
}

lv_err lv_eng_ac_param_changed(lv_engine *e, batch *b, const char *name)
{
    if (e->ac.n == 0 && b->nacov == 0)
        return LV_OK; /* no AppConfig records: nothing can depend on it */
    batch_view bv = {e, b};
    lv_acview v = {batch_get, batch_each, &bv};
    lv_acplan p;
    memset(&p, 0, sizeof p);
    lv_err rc = lv_ac_param_dependents(&v, name, &p);
    for (size_t i = 0; rc == LV_OK && i < p.nchg; i++)
        rc = add_ac_change(b, &p.chg[i]);
    lv_acplan_free(&p);
    return rc;
}

void lv_eng_ac_apply(lv_engine *e, batch *b)
{
    for (size_t i = 0; i < b->nacov; i++) {
        struct ac_overlay *o = &b->acov[i];
        if (o->rec != NULL) {
            lv_acrec *old = NULL;
            if (lv_actable_put(&e->ac, o->rec, &old) != LV_OK) {
                /* Durable already; the next start loads it. */
                fprintf(stderr, "leverd: out of memory applying an AppConfig change\n");
                lv_acrec_unref(o->rec);
            }
            lv_acrec_unref(old);
        } else {
            lv_acrec_unref(lv_actable_remove(&e->ac, o->key, o->klen));
            free(o->key);
        }
    }
    b->nacov = 0;
}

void lv_eng_ac_abort(batch *b)
{
    for (size_t i = 0; i < b->nacov; i++) {
        if (b->acov[i].rec)
            lv_acrec_unref(b->acov[i].rec);
        else
            free(b->acov[i].key);
    }
    b->nacov = 0;
}

void lv_eng_ac_batch_end(batch *b)
{
    lv_eng_ac_abort(b); /* nothing left after an apply */
    for (size_t i = 0; i < b->nackeys; i++)
        free(b->ackeys[i]);
    b->nackeys = 0;
}

lv_err lv_engine_ac_write(lv_engine *e, const lv_acreq *req, lv_acrec **result, uint64_t *revision, lv_error *err)
{
    lv_write w;
    memset(&w, 0, sizeof w);
    w.kind = LV_WRITE_APPCONFIG;
    w.region = "";
    w.name = "";
    w.u.ac.req = req;
    lv_engine_write(e, &w, 1);
    if (w.rc != LV_OK) {
        if (err)
            *err = w.err;
        lv_acrec_unref(w.u.ac.result);
        if (result)
            *result = NULL;
        return w.rc;
    }
    if (revision)
        *revision = w.revision;
    if (result)
        *result = w.u.ac.result;
    else
        lv_acrec_unref(w.u.ac.result);
    return LV_OK;
}
