/* label_events.c - label rollouts' ON_DEPLOYMENT_* events from their
 * event logs (rollout/label_events.h). Each DEPLOYMENT_STARTED,
 * PERCENTAGE_UPDATED (BAKING when BAKE_TIME_STARTED follows it in the
 * same write), DEPLOYMENT_COMPLETED and ROLLBACK_COMPLETED entry past what
 * was reported is one event, so several writes between two looks are
 * reported step by step, as the change log reports AppConfig ones. */
#include "rollout/label_events.h"

#include <stdlib.h>
#include <string.h>

#include "core/ac_hooks.h"
#include "core/rollout.h"

typedef struct lv_label_seen {
    char *key;        /* the rollout's record key */
    unsigned events;  /* event-log entries reported */
} lv_label_seen;

/* The records under one parameter's prefix, in key order. */
typedef struct recs {
    const lv_acrec **r;
    size_t n, cap;
    bool oom;
} recs;

static bool add_rec(void *arg, const lv_acrec *r)
{
    recs *x = arg;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        const lv_acrec **nr = realloc(x->r, cap * sizeof *nr);
        if (nr == NULL) {
            x->oom = true;
            return false;
        }
        x->r = nr;
        x->cap = cap;
    }
    x->r[x->n++] = r;
    return true;
}

/* Record keys end in "|<10-digit number>": the same label when the rest
 * is equal. */
static bool same_label(const lv_acrec *a, const lv_acrec *b)
{
    return a->klen == b->klen && a->klen > 10 && memcmp(a->key, b->key, a->klen - 10) == 0;
}

static lv_label_seen *find(lv_label_events *le, const char *key)
{
    for (size_t i = 0; i < le->n; i++)
        if (strcmp(le->s[i].key, key) == 0)
            return &le->s[i];
    return NULL;
}

static lv_label_seen *add(lv_label_events *le, const char *key, unsigned events)
{
    if (le->n == le->cap) {
        size_t cap = le->cap ? le->cap * 2 : 16;
        lv_label_seen *ns = realloc(le->s, cap * sizeof *ns);
        if (ns == NULL)
            return NULL;
        le->s = ns;
        le->cap = cap;
    }
    char *k = strdup(key);
    if (k == NULL)
        return NULL;
    le->s[le->n] = (lv_label_seen){k, events};
    return &le->s[le->n++];
}

static void drop(lv_label_events *le, lv_label_seen *s)
{
    free(s->key);
    *s = le->s[--le->n];
}

static bool newest_only(void *arg, const lv_acrec *r)
{
    recs *x = arg;
    if (x->n > 0 && same_label(x->r[x->n - 1], r)) {
        x->r[x->n - 1] = r;
        return true;
    }
    return add_rec(x, r);
}

void lv_label_events_init(lv_label_events *le, const lv_acview *v)
{
    memset(le, 0, sizeof *le);
    recs x = {NULL, 0, 0, false};
    char p[2] = {LV_AC_LABEL_DEPLOY, 0};
    v->each(v->ctx, p, 1, newest_only, &x);
    for (size_t i = 0; i < x.n; i++)
        add(le, x.r[i]->key, lv_acrec_count(x.r[i], DF_EVENTS) / 4);
    free(x.r);
}

void lv_label_events_free(lv_label_events *le)
{
    for (size_t i = 0; i < le->n; i++)
        free(le->s[i].key);
    free(le->s);
    memset(le, 0, sizeof *le);
}

static lv_acrec *as_of(const lv_acrec *d, const char *state, double pct)
{
    lv_acrec *c = lv_acrec_clone(d, NULL);
    char t[32];
    lv_rollout_percent_text(pct, t, sizeof t);
    if (c == NULL || lv_acrec_set_str(c, DF_STATE, state) != LV_OK || lv_acrec_set_str(c, DF_PERCENT, t) != LV_OK) {
        lv_acrec_unref(c);
        return NULL;
    }
    return c;
}

static const char *etype(const lv_acrec *d, unsigned i)
{
    return lv_acrec_item(d, DF_EVENTS, i * 4)->p;
}

/* Reports d's events from index `from` on. */
static void report(const lv_acrec *d, unsigned from, unsigned to, lv_label_event_fn fn, void *arg)
{
    lv_rollout_strategy s;
    lv_rollout_of(d, &s);
    unsigned steps = 0;
    for (unsigned i = 0; i < from; i++)
        steps += strcmp(etype(d, i), "PERCENTAGE_UPDATED") == 0;
    for (unsigned i = from; i < to; i++) {
        const char *t = etype(d, i);
        const char *point = NULL;
        lv_acrec *rec = NULL;
        if (strcmp(t, "DEPLOYMENT_STARTED") == 0) {
            point = LV_HOOK_ON_START;
            rec = as_of(d, "DEPLOYING", 0);
        } else if (strcmp(t, "PERCENTAGE_UPDATED") == 0) {
            bool bake = i + 1 < to && strcmp(etype(d, i + 1), "BAKE_TIME_STARTED") == 0;
            point = bake ? LV_HOOK_ON_BAKING : LV_HOOK_ON_STEP;
            rec = as_of(d, bake ? "BAKING" : "DEPLOYING", lv_rollout_percent(&s, ++steps));
        } else if (strcmp(t, "DEPLOYMENT_COMPLETED") == 0) {
            point = LV_HOOK_ON_COMPLETE;
            rec = as_of(d, "COMPLETE", 100);
        } else if (strcmp(t, "ROLLBACK_COMPLETED") == 0) {
            point = LV_HOOK_ON_ROLLED_BACK;
            rec = lv_acrec_ref(d);
        }
        if (rec != NULL)
            fn(arg, point, rec);
    }
}

void lv_label_events_change(lv_label_events *le, const lv_acview *v, const lv_change *c, lv_label_event_fn fn,
                            void *arg)
{
    const char *nul = memchr(c->key, '\0', c->key_len);
    if (nul == NULL)
        return;
    size_t rl = (size_t)(nul - c->key), nl = c->key_len - rl - 1;
    char prefix[1200];
    if (rl + nl + 4 > sizeof prefix)
        return;
    size_t pl = 0;
    prefix[pl++] = LV_AC_LABEL_DEPLOY;
    memcpy(prefix + pl, c->key, rl);
    pl += rl;
    prefix[pl++] = '|';
    memcpy(prefix + pl, nul + 1, nl);
    pl += nl;
    prefix[pl++] = '|';
    recs x = {NULL, 0, 0, false};
    v->each(v->ctx, prefix, pl, add_rec, &x);
    for (size_t i = 0; i < x.n && !x.oom; i++) {
        const lv_acrec *d = x.r[i];
        bool newest = i + 1 == x.n || !same_label(d, x.r[i + 1]);
        lv_label_seen *s = find(le, d->key);
        /* A newest one not known started after the driver did; an older
         * one not known was reported to its end (or before our time). */
        if (s == NULL && newest)
            s = add(le, d->key, 0);
        if (s == NULL)
            continue;
        unsigned n = lv_acrec_count(d, DF_EVENTS) / 4;
        if (n > s->events)
            report(d, s->events, n, fn, arg);
        s->events = n;
        if (!newest && !lv_ac_in_progress(d))
            drop(le, s);
    }
    free(x.r);
}
