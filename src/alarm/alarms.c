/* alarms.c - the alarm registry of leverd: a sorted table under a mutex,
 * every change made durable through the engine's writer before it is
 * visible, and change listeners called after it. The probes run on their
 * own thread (probe.c). */
#include "alarm/alarms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm/alarms_int.h"
#include "store/store.h"

/* Index of name in the table, or -(insertion point) - 1. Under mu. */
static long find(const lv_alarms *a, const char *name)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(a->v[mid]->rec.name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

lv_alarm_entry *lv_alarms_find_locked(lv_alarms *a, const char *name)
{
    long i = find(a, name);
    return i >= 0 ? a->v[i] : NULL;
}

static lv_err insert(lv_alarms *a, lv_alarm_entry *en)
{
    long i = find(a, en->rec.name);
    if (i >= 0)
        return LV_E_INTERNAL;
    size_t at = (size_t)(-i - 1);
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        lv_alarm_entry **nv = realloc(a->v, cap * sizeof *nv);
        if (nv == NULL)
            return LV_E_NOMEM;
        a->v = nv;
        a->cap = cap;
    }
    memmove(a->v + at + 1, a->v + at, (a->n - at) * sizeof *a->v);
    a->v[at] = en;
    a->n++;
    return LV_OK;
}

static void remove_at(lv_alarms *a, size_t i)
{
    free(a->v[i]);
    memmove(a->v + i, a->v + i + 1, (a->n - i - 1) * sizeof *a->v);
    a->n--;
}

typedef struct load_ctx {
    lv_alarms *a;
    lv_err rc;
    lv_error *err;
} load_ctx;

static void load_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    load_ctx *l = ctx;
    if (l->rc != LV_OK)
        return;
    lv_alarm_entry *en = calloc(1, sizeof *en);
    if (en == NULL) {
        l->rc = lv_error_set(l->err, LV_E_NOMEM, "out of memory");
        return;
    }
    if ((l->rc = lv_alarm_rec_decode(key, klen, val, vlen, &en->rec, l->err)) != LV_OK ||
        (l->rc = insert(l->a, en)) != LV_OK) {
        if (l->rc != LV_E_CORRUPT)
            lv_error_set(l->err, l->rc, "cannot load alarm %s", en->rec.name);
        free(en);
        return;
    }
    en->gen = ++l->a->gen;
}

/* Another node's alarm change, on the engine's writer thread. */
static void follow_aux(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (klen < 1 || ((const char *)key)[0] != LV_AUX_ALARM)
        return;
    lv_error err;
    lv_error_clear(&err);
    if (lv_alarms_apply(ctx, key, klen, val, vlen, &err) != LV_OK)
        fprintf(stderr, "leverd: cannot follow an alarm change: %s\n", err.msg);
}

lv_err lv_alarms_open(lv_engine *e, double time_scale, lv_alarms **out, lv_error *err)
{
    lv_alarms *a = calloc(1, sizeof *a);
    if (a == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    a->engine = e;
    a->scale = time_scale > 0 ? time_scale : 1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->wmu, NULL);
    load_ctx l = {a, LV_OK, err};
    lv_engine_aux_foreach(e, LV_AUX_ALARM, load_one, &l);
    lv_err rc = l.rc;
    if (rc == LV_OK)
        rc = lv_alarms_probe_start(a, err);
    if (rc == LV_OK && lv_engine_on_aux(e, follow_aux, a) != LV_OK) {
        lv_alarms_probe_stop(a);
        rc = lv_error_set(err, LV_E_INTERNAL, "cannot follow alarm changes");
    }
    if (rc != LV_OK) {
        for (size_t i = 0; i < a->n; i++)
            free(a->v[i]);
        free(a->v);
        pthread_mutex_destroy(&a->mu);
        pthread_mutex_destroy(&a->wmu);
        free(a);
        return rc;
    }
    *out = a;
    return LV_OK;
}

void lv_alarms_close(lv_alarms *a)
{
    if (a == NULL)
        return;
    lv_engine_off_aux(a->engine, follow_aux, a);
    lv_alarms_probe_stop(a);
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->wmu);
    free(a);
}

lv_alarm_state lv_alarms_state(lv_alarms *a, const char *name)
{
    if (a == NULL || name == NULL)
        return LV_ALARM_INSUFFICIENT_DATA;
    pthread_mutex_lock(&a->mu);
    lv_alarm_entry *en = lv_alarms_find_locked(a, name);
    lv_alarm_state s = en ? en->rec.state : LV_ALARM_INSUFFICIENT_DATA;
    pthread_mutex_unlock(&a->mu);
    return s;
}

lv_err lv_alarms_on_change(lv_alarms *a, lv_alarms_change_fn fn, void *ctx)
{
    pthread_mutex_lock(&a->mu);
    lv_err rc = LV_OK;
    if (a->nlisteners >= LV_ALARMS_LISTENERS_MAX) {
        rc = LV_E_LIMIT_EXCEEDED;
    } else {
        a->listeners[a->nlisteners].fn = fn;
        a->listeners[a->nlisteners].ctx = ctx;
        a->nlisteners++;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

void lv_alarms_notify(lv_alarms *a, const char *name, lv_alarm_state from, lv_alarm_state to, const char *reason)
{
    if (from == to)
        return;
    pthread_mutex_lock(&a->mu);
    size_t n = a->nlisteners;
    lv_alarms_listener ls[LV_ALARMS_LISTENERS_MAX];
    memcpy(ls, a->listeners, n * sizeof ls[0]);
    pthread_mutex_unlock(&a->mu);
    for (size_t i = 0; i < n; i++)
        ls[i].fn(ls[i].ctx, name, from, to, reason);
}

/* Durably writes rec (or deletes name when rec is NULL). Under wmu. */
static lv_err persist(lv_alarms *a, const char *name, const lv_alarm_rec *rec, lv_error *err)
{
    lv_buf k = LV_BUF_INIT, v = LV_BUF_INIT;
    lv_err rc = lv_alarm_rec_key(name, &k);
    if (rc == LV_OK && rec)
        rc = lv_alarm_rec_encode(rec, &v);
    if (rc != LV_OK) {
        lv_buf_free(&k);
        lv_buf_free(&v);
        return lv_error_set(err, rc, "out of memory");
    }
    lv_store_op op = {k.data, k.len, rec ? (v.data ? v.data : "") : NULL, rec ? v.len : 0};
    rc = lv_engine_aux_write(a->engine, &op, 1, err);
    lv_buf_free(&k);
    lv_buf_free(&v);
    return rc;
}

static bool probe_same(const lv_alarm_probe *x, const lv_alarm_probe *y)
{
    return strcmp(x->url, y->url) == 0 && x->interval_s == y->interval_s && x->threshold == y->threshold &&
           x->timeout_s == y->timeout_s;
}

lv_err lv_alarms_put(lv_alarms *a, const char *name, const lv_alarm_probe *probe, int64_t now_ms, lv_error *err)
{
    static const lv_alarm_probe none;
    if (probe == NULL)
        probe = &none;
    pthread_mutex_lock(&a->wmu);
    pthread_mutex_lock(&a->mu);
    lv_alarm_entry *en = lv_alarms_find_locked(a, name);
    lv_alarm_rec rec;
    lv_alarm_state from = LV_ALARM_INSUFFICIENT_DATA;
    bool full = en == NULL && a->n >= LV_ALARMS_MAX;
    if (en) {
        rec = en->rec;
        from = rec.state;
    }
    pthread_mutex_unlock(&a->mu);
    if (full) {
        pthread_mutex_unlock(&a->wmu);
        return lv_error_set(err, LV_E_LIMIT_EXCEEDED, "The maximum number of alarms (%d) has been reached.",
                            LV_ALARMS_MAX);
    }
    bool keep = en != NULL && probe_same(&rec.probe, probe);
    if (!keep) {
        memset(&rec, 0, sizeof rec);
        snprintf(rec.name, sizeof rec.name, "%s", name);
        rec.probe = *probe;
        rec.state = LV_ALARM_INSUFFICIENT_DATA;
        snprintf(rec.reason, sizeof rec.reason, "%s",
                 probe->url[0] ? "Waiting for the first probe." : "Unchecked: no probe; set by SetAlarmState or Alertmanager.");
        rec.updated_ms = now_ms;
    }
    lv_err rc = persist(a, name, &rec, err);
    if (rc == LV_OK) {
        pthread_mutex_lock(&a->mu);
        en = lv_alarms_find_locked(a, name);
        if (en == NULL) {
            en = calloc(1, sizeof *en);
            if (en != NULL)
                en->rec = rec; /* the name orders the table */
            if (en == NULL || insert(a, en) != LV_OK) {
                free(en);
                en = NULL;
                rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
            }
        }
        if (en && !keep) {
            en->rec = rec;
            en->failures = 0;
            en->gen = ++a->gen; /* results of probes started before are dropped */
            en->next_due_ms = 0;
            en->inflight = false;
        }
        pthread_mutex_unlock(&a->mu);
    }
    pthread_mutex_unlock(&a->wmu);
    if (rc == LV_OK) {
        if (!keep)
            lv_alarms_probe_wake(a);
        lv_alarms_notify(a, name, from, rec.state, rec.reason);
    }
    return rc;
}

lv_err lv_alarms_apply_state(lv_alarms *a, const char *name, uint64_t gen, lv_alarm_state state, const char *reason,
                             int64_t now_ms, lv_error *err)
{
    pthread_mutex_lock(&a->wmu);
    pthread_mutex_lock(&a->mu);
    lv_alarm_entry *en = lv_alarms_find_locked(a, name);
    lv_alarm_rec rec;
    if (en)
        rec = en->rec;
    bool stale = en != NULL && gen != 0 && en->gen != gen;
    pthread_mutex_unlock(&a->mu);
    if (en == NULL || stale) {
        pthread_mutex_unlock(&a->wmu);
        return en == NULL ? lv_error_set(err, LV_E_RESOURCE_NOT_FOUND, "Alarm %s does not exist.", name) : LV_OK;
    }
    lv_alarm_state from = rec.state;
    rec.state = state;
    snprintf(rec.reason, sizeof rec.reason, "%s", reason ? reason : "");
    rec.updated_ms = now_ms;
    lv_err rc = persist(a, name, &rec, err);
    if (rc == LV_OK) {
        pthread_mutex_lock(&a->mu);
        en = lv_alarms_find_locked(a, name);
        if (en) {
            en->rec.state = rec.state;
            memcpy(en->rec.reason, rec.reason, sizeof rec.reason);
            en->rec.updated_ms = rec.updated_ms;
            if (gen == 0)
                en->failures = 0; /* a forced state starts a new count */
        }
        pthread_mutex_unlock(&a->mu);
    }
    pthread_mutex_unlock(&a->wmu);
    if (rc == LV_OK)
        lv_alarms_notify(a, name, from, state, rec.reason);
    return rc;
}

lv_err lv_alarms_set(lv_alarms *a, const char *name, lv_alarm_state state, const char *reason, int64_t now_ms,
                     lv_error *err)
{
    return lv_alarms_apply_state(a, name, 0, state, reason, now_ms, err);
}

lv_err lv_alarms_delete(lv_alarms *a, const char *name, lv_error *err)
{
    pthread_mutex_lock(&a->wmu);
    pthread_mutex_lock(&a->mu);
    lv_alarm_entry *en = lv_alarms_find_locked(a, name);
    lv_alarm_state from = en ? en->rec.state : LV_ALARM_INSUFFICIENT_DATA;
    pthread_mutex_unlock(&a->mu);
    lv_err rc = en == NULL ? lv_error_set(err, LV_E_RESOURCE_NOT_FOUND, "Alarm %s does not exist.", name)
                           : persist(a, name, NULL, err);
    if (rc == LV_OK) {
        pthread_mutex_lock(&a->mu);
        long i = find(a, name);
        if (i >= 0)
            remove_at(a, (size_t)i); /* an in-flight probe finds no entry and is dropped */
        pthread_mutex_unlock(&a->mu);
    }
    pthread_mutex_unlock(&a->wmu);
    if (rc == LV_OK)
        lv_alarms_notify(a, name, from, LV_ALARM_INSUFFICIENT_DATA, "Deleted.");
    return rc;
}

lv_err lv_alarms_describe(lv_alarms *a, const char *const *names, size_t n, lv_alarms_each_fn fn, void *ctx,
                          lv_error *err)
{
    /* Copies first, so fn (which formats JSON) runs without the lock. */
    pthread_mutex_lock(&a->mu);
    size_t cap = n ? n : a->n;
    lv_alarm_rec *recs = malloc((cap ? cap : 1) * sizeof *recs);
    size_t got = 0;
    if (recs != NULL) {
        if (n == 0) {
            for (size_t i = 0; i < a->n; i++)
                recs[got++] = a->v[i]->rec;
        } else {
            for (size_t i = 0; i < n; i++) {
                lv_alarm_entry *en = lv_alarms_find_locked(a, names[i]);
                if (en)
                    recs[got++] = en->rec;
            }
        }
    }
    pthread_mutex_unlock(&a->mu);
    if (recs == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    /* Named ones in name order, each once. */
    if (n > 0) {
        for (size_t i = 1; i < got; i++)
            for (size_t j = i; j > 0 && strcmp(recs[j - 1].name, recs[j].name) > 0; j--) {
                lv_alarm_rec t = recs[j];
                recs[j] = recs[j - 1];
                recs[j - 1] = t;
            }
    }
    for (size_t i = 0; i < got; i++)
        if (i == 0 || strcmp(recs[i - 1].name, recs[i].name) != 0)
            fn(ctx, &recs[i]);
    free(recs);
    return LV_OK;
}

lv_err lv_alarms_apply(lv_alarms *a, const void *key, size_t klen, const void *val, size_t vlen, lv_error *err)
{
    lv_alarm_rec rec;
    memset(&rec, 0, sizeof rec);
    lv_err rc = LV_OK;
    if (val != NULL && (rc = lv_alarm_rec_decode(key, klen, val, vlen, &rec, err)) != LV_OK)
        return rc;
    if (val == NULL) {
        /* The name is the key after its kind byte. */
        size_t n = klen > 1 ? klen - 1 : 0;
        if (n >= sizeof rec.name)
            return lv_error_set(err, LV_E_CORRUPT, "alarm record key too long");
        memcpy(rec.name, (const char *)key + 1, n);
        rec.name[n] = '\0';
    }
    pthread_mutex_lock(&a->mu);
    long i = find(a, rec.name);
    lv_alarm_state from = i >= 0 ? a->v[i]->rec.state : LV_ALARM_INSUFFICIENT_DATA;
    lv_alarm_state to = val ? rec.state : LV_ALARM_INSUFFICIENT_DATA;
    bool wake = false;
    if (val == NULL) {
        if (i >= 0)
            remove_at(a, (size_t)i);
    } else if (i >= 0) {
        lv_alarm_entry *en = a->v[i];
        if (!probe_same(&en->rec.probe, &rec.probe)) {
            en->failures = 0;
            en->gen = ++a->gen;
            en->next_due_ms = 0;
            en->inflight = false;
            wake = true;
        }
        en->rec = rec;
    } else {
        lv_alarm_entry *en = calloc(1, sizeof *en);
        if (en == NULL || (en->rec = rec, insert(a, en)) != LV_OK) {
            free(en);
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        } else {
            en->gen = ++a->gen;
            wake = true;
        }
    }
    pthread_mutex_unlock(&a->mu);
    if (rc == LV_OK) {
        if (wake)
            lv_alarms_probe_wake(a);
        lv_alarms_notify(a, rec.name, from, to, val ? rec.reason : "Deleted.");
    }
    return rc;
}
