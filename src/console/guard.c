/* guard.c - token buckets in a small fixed table (least recently used
 * entry replaced), one mutex. A full table of fresh entries replaces an
 * old one, so memory stays bounded whatever an attacker sends. */
#include "console/guard.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 512, KEY_MAX = 160 };

typedef struct slot {
    char key[KEY_MAX];   /* "a:<address>" or "k:<akid>"; "" = free */
    double tokens;
    double last_s;
} slot;

struct lv_guard {
    pthread_mutex_t mu;
    lv_guard_config cfg;
    slot s[SLOTS];
};

lv_err lv_guard_new(const lv_guard_config *cfg, lv_guard **out, lv_error *err)
{
    lv_guard *g = calloc(1, sizeof *g);
    if (g == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    pthread_mutex_init(&g->mu, NULL);
    g->cfg = *cfg;
    *out = g;
    return LV_OK;
}

void lv_guard_free(lv_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* The slot of key with its tokens refilled to now; create: take a slot
 * for it when it has none (a new key starts full). */
static slot *get(lv_guard *g, char kind, const char *id, double burst, double rate, double now_s, bool create)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%c:%s", kind, id);
    slot *lru = &g->s[0], *hit = NULL;
    for (size_t i = 0; i < SLOTS && hit == NULL; i++) {
        if (strcmp(g->s[i].key, key) == 0)
            hit = &g->s[i];
        else if (g->s[i].key[0] == '\0' || (lru->key[0] != '\0' && g->s[i].last_s < lru->last_s))
            lru = &g->s[i];
    }
    if (hit == NULL) {
        if (!create)
            return NULL;
        hit = lru;
        snprintf(hit->key, sizeof hit->key, "%s", key);
        hit->tokens = burst;
        hit->last_s = now_s;
    }
    double t = hit->tokens + (now_s > hit->last_s ? (now_s - hit->last_s) * rate : 0);
    hit->tokens = t > burst ? burst : t;
    hit->last_s = now_s;
    return hit;
}

static unsigned wait_s(const slot *x, double rate)
{
    if (x == NULL || x->tokens >= 1)
        return 0;
    return rate > 0 ? (unsigned)ceil((1 - x->tokens) / rate) : 3600;
}

bool lv_guard_allow(lv_guard *g, const char *addr, const char *akid, double now_s, unsigned *retry_s)
{
    pthread_mutex_lock(&g->mu);
    slot *a = get(g, 'a', addr, g->cfg.addr_burst, g->cfg.addr_per_s, now_s, false);
    unsigned wa = wait_s(a, g->cfg.addr_per_s);
    slot *k = get(g, 'k', akid, g->cfg.key_burst, g->cfg.key_per_s, now_s, false);
    unsigned wk = wait_s(k, g->cfg.key_per_s);
    pthread_mutex_unlock(&g->mu);
    *retry_s = wa > wk ? wa : wk;
    return wa == 0 && wk == 0;
}

void lv_guard_failed(lv_guard *g, const char *addr, const char *akid, double now_s)
{
    pthread_mutex_lock(&g->mu);
    slot *a = get(g, 'a', addr, g->cfg.addr_burst, g->cfg.addr_per_s, now_s, true);
    a->tokens -= 1;
    slot *k = get(g, 'k', akid, g->cfg.key_burst, g->cfg.key_per_s, now_s, true);
    k->tokens -= 1;
    pthread_mutex_unlock(&g->mu);
}
