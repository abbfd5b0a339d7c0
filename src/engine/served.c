/* served.c - the served-share table (served.h): one lv_served_series per
 * deployment seed, plus a tally of the entities leverd served directly
 * since its last flush. One mutex; every call is O(table) at worst. */
#include "engine/served.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

typedef struct served_entry {
    char *seed;
    uint64_t hash;
    lv_served_series series;
    lv_served_tally *direct;     /* NULL until leverd serves an entity itself */
    int64_t direct_since_ms;
    int64_t used_ms;
} served_entry;

struct lv_served_table {
    pthread_mutex_t mu;
    served_entry *e[LV_SERVED_TABLE_MAX];
    size_t n;
};

static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;

static struct lv_served_table *table(lv_engine *e)
{
    pthread_mutex_lock(&create_mu);
    if (e->served == NULL && (e->served = calloc(1, sizeof *e->served)) != NULL)
        pthread_mutex_init(&e->served->mu, NULL);
    struct lv_served_table *t = e->served;
    pthread_mutex_unlock(&create_mu);
    return t;
}

static uint64_t seed_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void entry_free(served_entry *x)
{
    if (x != NULL) {
        free(x->seed);
        free(x->direct);
        free(x);
    }
}

/* Caller holds mu. The entry of seed; create: made when missing (the
 * least recently used one dropped when the table is full). */
static served_entry *find(struct lv_served_table *t, const char *seed, bool create, int64_t now)
{
    uint64_t h = seed_hash(seed);
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i]->hash == h && strcmp(t->e[i]->seed, seed) == 0)
            return t->e[i];
    if (!create)
        return NULL;
    served_entry *x = calloc(1, sizeof *x);
    if (x == NULL || (x->seed = strdup(seed)) == NULL) {
        free(x);
        return NULL;
    }
    x->hash = h;
    x->used_ms = now;
    if (t->n == LV_SERVED_TABLE_MAX) {
        size_t old = 0;
        for (size_t i = 1; i < t->n; i++)
            if (t->e[i]->used_ms < t->e[old]->used_ms)
                old = i;
        entry_free(t->e[old]);
        t->e[old] = t->e[--t->n];
    }
    t->e[t->n++] = x;
    return x;
}

/* Caller holds mu. Leverd's own counts since direct_since become a report. */
static void flush_direct(served_entry *x, int64_t now)
{
    if (x->direct == NULL || lv_served_tally_empty(x->direct))
        return;
    uint64_t nw, od;
    lv_served_tally_counts(x->direct, &nw, &od);
    lv_served_series_add(&x->series, x->direct_since_ms, now, (double)nw, (double)od);
    lv_served_tally_reset(x->direct);
    x->direct_since_ms = now;
}

void lv_engine_served_report(lv_engine *e, const char *seed, int64_t interval_ms, uint64_t new_n, uint64_t old_n)
{
    struct lv_served_table *t = table(e);
    if (t == NULL || seed == NULL || !lv_served_seed_ok(seed, strlen(seed)) || new_n + old_n == 0)
        return;
    int64_t now = lv_eng_now_ms();
    if (interval_ms < 1)
        interval_ms = 1;
    pthread_mutex_lock(&t->mu);
    served_entry *x = find(t, seed, true, now);
    if (x != NULL) {
        x->used_ms = now;
        lv_served_series_add(&x->series, now - interval_ms, now, (double)new_n, (double)old_n);
    }
    pthread_mutex_unlock(&t->mu);
}

void lv_engine_served_direct(lv_engine *e, const char *seed, const char *entity, bool is_new)
{
    struct lv_served_table *t = table(e);
    if (t == NULL || seed == NULL)
        return;
    int64_t now = lv_eng_now_ms();
    pthread_mutex_lock(&t->mu);
    served_entry *x = find(t, seed, true, now);
    if (x != NULL && x->direct == NULL)
        x->direct = calloc(1, sizeof *x->direct);
    if (x != NULL && x->direct != NULL) {
        x->used_ms = now;
        if (lv_served_tally_empty(x->direct))
            x->direct_since_ms = now;
        lv_served_tally_add(x->direct, entity ? entity : "", entity ? strlen(entity) : 0, is_new);
        if (now - x->direct_since_ms >= LV_SERVED_DIRECT_MS)
            flush_direct(x, now);
    }
    pthread_mutex_unlock(&t->mu);
}

bool lv_engine_served_get(lv_engine *e, const char *seed, lv_served_view *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&create_mu);
    struct lv_served_table *t = e->served;
    pthread_mutex_unlock(&create_mu);
    if (t == NULL)
        return false;
    pthread_mutex_lock(&t->mu);
    served_entry *x = find(t, seed, false, 0);
    if (x != NULL) {
        flush_direct(x, lv_eng_now_ms());
        out->n = lv_served_series_points(&x->series, out->pts, LV_SERVED_BINS);
    }
    pthread_mutex_unlock(&t->mu);
    if (out->n == 0)
        return false;
    /* "lately": the newest bins covering at least LV_SERVED_RECENT_MS, so
     * a bin only one report has reached yet does not stand for everyone */
    double w = 0, wp = 0, span = 0;
    for (size_t i = out->n; i-- > 0 && span < LV_SERVED_RECENT_MS;) {
        double c = out->pts[i].entities * (double)out->pts[i].width_ms;
        w += c;
        wp += c * out->pts[i].percentage;
        span = (double)(out->pts[out->n - 1].t_ms + out->pts[out->n - 1].width_ms - out->pts[i].t_ms);
    }
    out->percentage = w > 0 ? wp / w : out->pts[out->n - 1].percentage;
    out->entities = span > 0 ? w / span : out->pts[out->n - 1].entities;
    return true;
}

void lv_eng_served_free(lv_engine *e)
{
    struct lv_served_table *t = e->served;
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        entry_free(t->e[i]);
    pthread_mutex_destroy(&t->mu);
    free(t);
    e->served = NULL;
}
