/* cache.h - liblever's parameter cache: a hash map from full name to the
 * last value seen (or "known absent"), stamped with when it was confirmed.
 * Pure data structure: no locks, no clock of its own (callers pass now). */
#ifndef LV_CLIENT_CACHE_H
#define LV_CLIENT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lvc_entry {
    char *name;
    char *value;        /* NULL when the name is known to be absent */
    char *type;         /* "String"... or NULL */
    int64_t version;
    int64_t confirmed;  /* clock (ms) when the store last confirmed it */
    uint64_t gen;       /* sync generation that last saw it */
    int64_t announced;  /* live mode: version last reported to callbacks (0 = absent) */
    struct lvc_entry *next;
} lvc_entry;

typedef struct lvc_cache {
    lvc_entry **slots;
    size_t nslots;
    size_t count;
    uint64_t gen;
} lvc_cache;

void lvc_cache_init(lvc_cache *c);
void lvc_cache_free(lvc_cache *c);

/* The entry of name, or NULL. Borrowed until the next change. */
lvc_entry *lvc_cache_find(const lvc_cache *c, const char *name);

/* Inserts or replaces name's value (NULL = known absent), confirmed at now,
 * in the current generation. Returns 1 when the visible value changed
 * (new, different value, version, or presence), 0 when not, -1 when out of
 * memory (the cache is unchanged then). */
int lvc_cache_set(lvc_cache *c, const char *name, const char *value, const char *type,
                  int64_t version, int64_t now);

/* Whether e was confirmed less than ttl ms before now (ttl <= 0: never). */
bool lvc_entry_fresh(const lvc_entry *e, int64_t now, int64_t ttl);

/* Re-list support: lvc_cache_sync_begin starts a generation; sets made
 * after it belong to it; lvc_cache_sync_end marks every present entry under
 * prefix that was not set since as absent (confirmed at now) and calls
 * gone(name, user) for each before it changes. */
void lvc_cache_sync_begin(lvc_cache *c);
void lvc_cache_sync_end(lvc_cache *c, const char *prefix, int64_t now,
                        void (*gone)(const char *name, void *user), void *user);

/* Calls fn for each entry (any order); fn must not change the cache. */
void lvc_cache_each(const lvc_cache *c, void (*fn)(const lvc_entry *e, void *user), void *user);

#endif
