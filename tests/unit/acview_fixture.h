/* acview_fixture.h - what the AppConfig plan tests share: a view
 * (core/appconfig.h's lv_acview) over a sorted table, plans applied to it
 * as the engine does, and record and create helpers. Included by
 * test_appconfig.c and test_rollout.c only (each uses every helper). */
#ifndef LV_TEST_ACVIEW_FIXTURE_H
#define LV_TEST_ACVIEW_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/acrec.h"
#include "core/appconfig.h"

static const lv_acrec *tget(void *ctx, const char *key, size_t klen)
{
    return lv_actable_get(ctx, key, klen);
}

static void teach(void *ctx, const char *prefix, size_t plen, lv_acview_fn fn, void *arg)
{
    const lv_actable *t = ctx;
    for (size_t i = lv_actable_seek(t, prefix, plen); i < t->n && lv_acrec_has_prefix(t->r[i], prefix, plen); i++)
        if (!fn(arg, t->r[i]))
            return;
}

typedef struct world {
    lv_actable t;
    lv_acview v;
    int next_id;
    size_t changes;
} world;

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    w->v.get = tget;
    w->v.each = teach;
    w->v.ctx = &w->t;
}

/* Plans and, on success, applies; returns the code and (a ref to) the result. */
static lv_err run(world *w, lv_acreq *q, lv_acrec **result, lv_error *err)
{
    snprintf(q->new_id, sizeof q->new_id, "id%05d", w->next_id++);
    lv_acplan p;
    lv_err rc = lv_ac_plan(&w->v, q, &p, err);
    if (rc != LV_OK) {
        assert_int_equal(p.nputs + p.ndels + p.nchg, 0);
        return rc;
    }
    for (size_t i = 0; i < p.nputs; i++) {
        lv_acrec *old;
        assert_int_equal(lv_actable_put(&w->t, p.puts[i], &old), LV_OK);
        lv_acrec_unref(old);
        p.puts[i] = NULL;
    }
    for (size_t i = 0; i < p.ndels; i++)
        lv_acrec_unref(lv_actable_remove(&w->t, p.dels[i], strlen(p.dels[i])));
    w->changes += p.nchg;
    if (result)
        *result = lv_acrec_ref(p.result);
    p.nputs = 0;
    lv_acplan_free(&p);
    return LV_OK;
}

static lv_acrec *input(char kind, unsigned nf)
{
    lv_acrec *r = lv_acrec_new(kind, nf);
    assert_non_null(r);
    return r;
}

static char *create(world *w, lv_acop op, lv_acrec *in, const char *app, char *idbuf)
{
    lv_acreq q = {.op = op, .in = in, .app = app, .lock = -1};
    lv_acrec *res = NULL;
    lv_error err = {0};
    assert_int_equal(run(w, &q, &res, &err), LV_OK);
    unsigned idf = op == LV_ACOP_CREATE_APP ? AF_ID : op == LV_ACOP_CREATE_ENV ? EF_ID : PF_ID;
    snprintf(idbuf, 8, "%s", lv_acrec_str(res, idf));
    lv_acrec_unref(res);
    return idbuf;
}

#endif
