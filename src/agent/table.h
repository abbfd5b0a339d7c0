/* table.h - lever-agent's entry table: a hash map from a key to a cached
 * GetParameter answer, with an LRU list that bounds the number of entries.
 * Pure data structure: no locks and no clock of its own (callers pass
 * times); the agent holds its mutex around every call. */
#ifndef LV_AGENT_TABLE_H
#define LV_AGENT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lva_entry {
    char *key;             /* map key (see ssmget.c and ssmwatch.c for the forms) */
    char *name;            /* the parameter's Name */
    char *json;            /* the "Parameter" object as compact JSON text */
    size_t json_len;
    bool secure;           /* Type is SecureString */
    int64_t version;
    int64_t confirmed_ms;  /* wall clock (epoch ms) when the upstream last vouched for it */
    int64_t fetched_mono;  /* monotonic ms of the same moment, for the TTL */
    struct lva_entry *hnext;
    struct lva_entry *newer, *older; /* LRU list */
} lva_entry;

typedef struct lva_table {
    lva_entry **slots;
    size_t nslots;
    size_t count;
    size_t max;            /* 0 = unbounded */
    lva_entry *newest, *oldest;
    uint64_t evictions;
} lva_table;

/* max: the most entries kept (0 = no bound). */
void lva_table_init(lva_table *t, size_t max);
void lva_table_free(lva_table *t);

/* The entry of key or NULL; touch marks it most recently used. Borrowed
 * until the next change of the table. */
lva_entry *lva_table_get(lva_table *t, const char *key, bool touch);

/* Inserts or replaces key's entry (copies every string) as the most
 * recently used one, evicting the least recently used entries beyond max.
 * Returns 0, or -1 when out of memory (the table is unchanged then). */
int lva_table_put(lva_table *t, const char *key, const char *name, const char *json,
                  size_t json_len, bool secure, int64_t version, int64_t confirmed_ms,
                  int64_t fetched_mono);

/* Removes key's entry; returns whether there was one. */
bool lva_table_del(lva_table *t, const char *key);

/* Removes every entry whose name is name; returns how many. */
size_t lva_table_del_name(lva_table *t, const char *name);

/* Calls fn for each entry from the least to the most recently used; fn must
 * not change the table. */
void lva_table_each(const lva_table *t, void (*fn)(const lva_entry *e, void *user), void *user);

/* Removes the entries for which keep returns false; returns how many. */
size_t lva_table_filter(lva_table *t, bool (*keep)(const lva_entry *e, void *user), void *user);

#endif
