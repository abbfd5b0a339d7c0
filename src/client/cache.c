/* cache.c - the parameter cache behind liblever's getters (see cache.h);
 * chained hash map that doubles when the load passes 1. */
#include "client/cache.h"

#include <stdlib.h>
#include <string.h>

/* Eight bytes per step: a byte-at-a-time hash was a third of a cached
 * get's time (its multiplies form one long dependency chain). */
static uint64_t hash(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

void lvc_cache_init(lvc_cache *c)
{
    memset(c, 0, sizeof *c);
}

static void entry_free(lvc_entry *e)
{
    free(e->name);
    free(e->value);
    free(e->type);
    free(e);
}

void lvc_cache_free(lvc_cache *c)
{
    for (size_t i = 0; i < c->nslots; i++) {
        lvc_entry *e = c->slots[i];
        while (e) {
            lvc_entry *n = e->next;
            entry_free(e);
            e = n;
        }
    }
    free(c->slots);
    memset(c, 0, sizeof *c);
}

lvc_entry *lvc_cache_find(const lvc_cache *c, const char *name)
{
    if (c->nslots == 0)
        return NULL;
    for (lvc_entry *e = c->slots[hash(name) & (c->nslots - 1)]; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static int grow(lvc_cache *c)
{
    size_t n = c->nslots ? c->nslots * 2 : 64;
    lvc_entry **s = calloc(n, sizeof *s);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < c->nslots; i++) {
        lvc_entry *e = c->slots[i];
        while (e) {
            lvc_entry *next = e->next;
            size_t k = hash(e->name) & (n - 1);
            e->next = s[k];
            s[k] = e;
            e = next;
        }
    }
    free(c->slots);
    c->slots = s;
    c->nslots = n;
    return 0;
}

static bool same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

int lvc_cache_set(lvc_cache *c, const char *name, const char *value, const char *type,
                  int64_t version, int64_t now)
{
    lvc_entry *e = lvc_cache_find(c, name);
    if (e != NULL) {
        int changed = !same(e->value, value) || (value && e->version != version);
        if (changed || !same(e->type, type)) {
            char *v = value ? strdup(value) : NULL;
            char *t = type ? strdup(type) : NULL;
            if ((value && v == NULL) || (type && t == NULL)) {
                free(v);
                free(t);
                return -1;
            }
            free(e->value);
            free(e->type);
            e->value = v;
            e->type = t;
        }
        e->version = value ? version : 0;
        e->confirmed = now;
        e->gen = c->gen;
        return changed;
    }
    if ((c->count + 1 > c->nslots) && grow(c) != 0)
        return -1;
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return -1;
    e->name = strdup(name);
    e->value = value ? strdup(value) : NULL;
    e->type = type ? strdup(type) : NULL;
    if (e->name == NULL || (value && e->value == NULL) || (type && e->type == NULL)) {
        entry_free(e);
        return -1;
    }
    e->version = value ? version : 0;
    e->confirmed = now;
    e->gen = c->gen;
    size_t k = hash(name) & (c->nslots - 1);
    e->next = c->slots[k];
    c->slots[k] = e;
    c->count++;
    /* A first sighting of an absent name is not a visible change. */
    return value != NULL;
}

bool lvc_entry_fresh(const lvc_entry *e, int64_t now, int64_t ttl)
{
    return ttl > 0 && now - e->confirmed < ttl && now >= e->confirmed;
}

void lvc_cache_sync_begin(lvc_cache *c)
{
    c->gen++;
}

void lvc_cache_sync_end(lvc_cache *c, const char *prefix, int64_t now,
                        void (*gone)(const char *name, void *user), void *user)
{
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < c->nslots; i++) {
        for (lvc_entry *e = c->slots[i]; e; e = e->next) {
            if (e->gen == c->gen || strncmp(e->name, prefix, pl) != 0)
                continue;
            if (e->value != NULL && gone)
                gone(e->name, user);
            free(e->value);
            e->value = NULL;
            e->version = 0;
            e->confirmed = now;
            e->gen = c->gen;
        }
    }
}

void lvc_cache_each(const lvc_cache *c, void (*fn)(const lvc_entry *e, void *user), void *user)
{
    for (size_t i = 0; i < c->nslots; i++)
        for (lvc_entry *e = c->slots[i]; e; e = e->next)
            fn(e, user);
}
