/* acentries.c - lever-agent's AppConfig entry table (find, add with the
 * LRU bound, free), upstream health as the handlers see it, the pool of
 * upstream connections, the clocks. Callers hold the agent's mutex where
 * the function says so (acint.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/accache.h"
#include "agent/acint.h"
#include "agent/agent.h"

enum {
    BACKOFF_MIN_MS = 200,
    BACKOFF_MAX_MS = 5000,
};

int64_t lvac_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lvac_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ----------------------------------------------------------- entries */

acentry *lvac_find(lvac_agent *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->entries[i]->key, key) == 0)
            return a->entries[i];
    return NULL;
}

void lvac_side_clear(acside *s)
{
    if (s->data)
        memset(s->data, 0, s->len);
    free(s->data);
    lv_flagdoc_free(s->fd);
    free(s->plain);
    memset(s, 0, sizeof *s);
}

const acside *lvac_side_for(const acentry *e, const char *entity)
{
    if (!e->rollout.active || e->from.data == NULL)
        return &e->cur;
    return lvc_rollout_is_to(&e->rollout, entity) ? &e->cur : &e->from;
}

void lvac_entry_free(acentry *e)
{
    if (e == NULL)
        return;
    free(e->key);
    lvac_side_clear(&e->cur);
    lvac_side_clear(&e->from);
    lvac_served_free(e->served);
    free(e);
}

acentry *lvac_get_or_add(lvac_agent *a, const char *app, const char *env, const char *profile, bool prefetched)
{
    char *key = lvac_entry_key(app, env, profile, "");
    if (key == NULL)
        return NULL;
    acentry *e = lvac_find(a, key);
    if (e) {
        free(key);
        e->prefetched |= prefetched;
        return e;
    }
    size_t ondemand = 0, oldest = SIZE_MAX;
    for (size_t i = 0; i < a->n; i++)
        if (!a->entries[i]->prefetched) {
            ondemand++;
            if (oldest == SIZE_MAX || a->entries[i]->used_mono < a->entries[oldest]->used_mono)
                oldest = i;
        }
    if (!prefetched && ondemand >= a->cfg.max_entries && oldest != SIZE_MAX) {
        lvac_entry_free(a->entries[oldest]);
        a->entries[oldest] = a->entries[--a->n];
        a->dirty = true;
    }
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        acentry **ne = realloc(a->entries, nc * sizeof *ne);
        if (ne == NULL) {
            free(key);
            return NULL;
        }
        a->entries = ne;
        a->cap = nc;
    }
    e = calloc(1, sizeof *e);
    if (e == NULL) {
        free(key);
        return NULL;
    }
    e->key = key;
    snprintf(e->app, sizeof e->app, "%s", app);
    snprintf(e->env, sizeof e->env, "%s", env);
    snprintf(e->profile, sizeof e->profile, "%s", profile);
    e->prefetched = prefetched;
    e->used_mono = lvac_mono_ms();
    a->entries[a->n++] = e;
    return e;
}

void lvac_upstream_ok_locked(lvac_agent *a)
{
    if (a->up_down)
        lva_log(LVA_LOG_INFO, "appconfig: upstream %s reachable again", a->cfg.upstream);
    a->up_down = false;
    a->up_streak = 0;
    a->up_retry_at = 0;
}

void lvac_upstream_failed_locked(lvac_agent *a, const char *why)
{
    if (!a->up_down)
        lva_log(LVA_LOG_WARN, "appconfig: upstream %s unavailable: %s; serving from the cache", a->cfg.upstream,
                why);
    a->up_down = true;
    int64_t back = BACKOFF_MIN_MS;
    for (unsigned i = 0; i < a->up_streak && back < BACKOFF_MAX_MS; i++)
        back *= 2;
    a->up_streak++;
    a->up_retry_at = lvac_mono_ms() + (back > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : back);
}

bool lvac_is_outage(lever_status st, const lvc_raw *r)
{
    if (st == LEVER_E_UNREACHABLE || st == LEVER_E_PARSE || st == LEVER_E_NOMEM)
        return true;
    if (r->status == 0 || r->status >= 500)
        return true;
    return strcmp(r->code, "ThrottlingException") == 0;
}

lvc_conn *lvac_conn_get(lvac_agent *a)
{
    pthread_mutex_lock(&a->pool_mu);
    lvc_conn *c = a->npool ? a->pool[--a->npool] : NULL;
    pthread_mutex_unlock(&a->pool_mu);
    return c ? c : lvc_conn_new();
}

void lvac_conn_put(lvac_agent *a, lvc_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&a->pool_mu);
    size_t max = a->cfg.max_connections < LVAC_POOL_MAX ? a->cfg.max_connections : LVAC_POOL_MAX;
    if (a->npool < max) {
        a->pool[a->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&a->pool_mu);
    lvc_conn_free(c);
}

