/* table.c - chained hash map plus an intrusive doubly linked LRU list, so
 * lookups, touches and evictions are all O(1). */
#include "agent/table.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void lva_table_init(lva_table *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max;
}

static void entry_free(lva_entry *e)
{
    if (e == NULL)
        return;
    free(e->key);
    free(e->name);
    if (e->json) /* may be a secret: do not leave it in freed memory */
        memset(e->json, 0, e->json_len);
    free(e->json);
    free(e);
}

void lva_table_free(lva_table *t)
{
    lva_entry *e = t->newest;
    while (e) {
        lva_entry *n = e->older;
        entry_free(e);
        e = n;
    }
    free(t->slots);
    size_t max = t->max;
    memset(t, 0, sizeof *t);
    t->max = max;
}

static void lru_unlink(lva_table *t, lva_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        t->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        t->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_front(lva_table *t, lva_entry *e)
{
    e->newer = NULL;
    e->older = t->newest;
    if (t->newest)
        t->newest->newer = e;
    t->newest = e;
    if (t->oldest == NULL)
        t->oldest = e;
}

static lva_entry **slot_of(const lva_table *t, const char *key)
{
    return &t->slots[hash(key) & (t->nslots - 1)];
}

lva_entry *lva_table_get(lva_table *t, const char *key, bool touch)
{
    if (t->nslots == 0)
        return NULL;
    for (lva_entry *e = *slot_of(t, key); e; e = e->hnext) {
        if (strcmp(e->key, key) == 0) {
            if (touch && t->newest != e) {
                lru_unlink(t, e);
                lru_front(t, e);
            }
            return e;
        }
    }
    return NULL;
}

/* Unhooks e from its hash chain and the LRU list and frees it. */
static void remove_entry(lva_table *t, lva_entry *e)
{
    lva_entry **pp = slot_of(t, e->key);
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(t, e);
    t->count--;
    entry_free(e);
}

static int grow(lva_table *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 64;
    lva_entry **ns = calloc(n, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t i = 0; i < t->nslots; i++) {
        lva_entry *e = t->slots[i];
        while (e) {
            lva_entry *next = e->hnext;
            lva_entry **s = &ns[hash(e->key) & (n - 1)];
            e->hnext = *s;
            *s = e;
            e = next;
        }
    }
    free(t->slots);
    t->slots = ns;
    t->nslots = n;
    return 0;
}

int lva_table_put(lva_table *t, const char *key, const char *name, const char *json,
                  size_t json_len, bool secure, int64_t version, int64_t confirmed_ms,
                  int64_t fetched_mono)
{
    if ((t->nslots == 0 || t->count + 1 > t->nslots) && grow(t) != 0)
        return -1;
    lva_entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return -1;
    e->key = strdup(key);
    e->name = strdup(name);
    e->json = malloc(json_len + 1);
    if (e->key == NULL || e->name == NULL || e->json == NULL) {
        entry_free(e);
        return -1;
    }
    memcpy(e->json, json, json_len);
    e->json[json_len] = '\0';
    e->json_len = json_len;
    e->secure = secure;
    e->version = version;
    e->confirmed_ms = confirmed_ms;
    e->fetched_mono = fetched_mono;

    lva_entry *old = lva_table_get(t, key, false);
    if (old)
        remove_entry(t, old);
    lva_entry **s = slot_of(t, key);
    e->hnext = *s;
    *s = e;
    lru_front(t, e);
    t->count++;
    while (t->max && t->count > t->max && t->oldest) {
        remove_entry(t, t->oldest);
        t->evictions++;
    }
    return 0;
}

bool lva_table_del(lva_table *t, const char *key)
{
    lva_entry *e = lva_table_get(t, key, false);
    if (e == NULL)
        return false;
    remove_entry(t, e);
    return true;
}

static bool not_named(const lva_entry *e, void *user)
{
    return strcmp(e->name, (const char *)user) != 0;
}

size_t lva_table_del_name(lva_table *t, const char *name)
{
    return lva_table_filter(t, not_named, (void *)name);
}

void lva_table_each(const lva_table *t, void (*fn)(const lva_entry *e, void *user), void *user)
{
    for (const lva_entry *e = t->oldest; e; e = e->newer)
        fn(e, user);
}

size_t lva_table_filter(lva_table *t, bool (*keep)(const lva_entry *e, void *user), void *user)
{
    size_t n = 0;
    lva_entry *e = t->oldest;
    while (e) {
        lva_entry *next = e->newer;
        if (!keep(e, user)) {
            remove_entry(t, e);
            n++;
        }
        e = next;
    }
    return n;
}
