/* index.c - hash table (linear probing, backward-shift deletion) over the
 * nodes of a skip list. The hash answers "this exact name"; the skip list
 * answers "everything under this path, in order". Both point at the same
 * node, so a replace touches one pointer. */
#include "core/index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LEVEL = 24 };

struct lv_index_node {
    lv_param *param;
    unsigned level;
    lv_index_node *next[]; /* level entries */
};

struct lv_index {
    lv_index_node *head;    /* sentinel with MAX_LEVEL links */
    unsigned level;         /* highest level in use */
    uint64_t rng;           /* xorshift state for node levels */
    lv_index_node **slots;  /* hash table */
    size_t nslots;          /* power of two */
    size_t count;
    size_t node_bytes;
};

static uint64_t hash_key(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

lv_index *lv_index_new(void)
{
    lv_index *ix = calloc(1, sizeof *ix);
    if (ix == NULL)
        return NULL;
    ix->head = calloc(1, sizeof *ix->head + MAX_LEVEL * sizeof(lv_index_node *));
    ix->nslots = 1024;
    ix->slots = calloc(ix->nslots, sizeof *ix->slots);
    if (ix->head == NULL || ix->slots == NULL) {
        free(ix->head);
        free(ix->slots);
        free(ix);
        return NULL;
    }
    ix->head->level = MAX_LEVEL;
    ix->level = 1;
    ix->rng = 0x9E3779B97F4A7C15ULL;
    return ix;
}

void lv_index_free(lv_index *ix)
{
    if (ix == NULL)
        return;
    lv_index_node *n = ix->head->next[0];
    while (n != NULL) {
        lv_index_node *next = n->next[0];
        lv_param_free(n->param);
        free(n);
        n = next;
    }
    free(ix->head);
    free(ix->slots);
    free(ix);
}

size_t lv_index_count(const lv_index *ix)
{
    return ix->count;
}

size_t lv_index_memory(const lv_index *ix)
{
    return ix->nslots * sizeof *ix->slots + ix->node_bytes;
}

static size_t slot_of(const lv_index *ix, const char *key, size_t len, bool *found)
{
    size_t mask = ix->nslots - 1;
    size_t i = (size_t)hash_key(key, len) & mask;
    for (;;) {
        lv_index_node *n = ix->slots[i];
        if (n == NULL) {
            *found = false;
            return i;
        }
        if (n->param->key_len == len && memcmp(n->param->key, key, len) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

lv_param *lv_index_get(const lv_index *ix, const char *key, size_t key_len)
{
    bool found;
    size_t i = slot_of(ix, key, key_len, &found);
    return found ? ix->slots[i]->param : NULL;
}

static lv_err grow(lv_index *ix)
{
    size_t nslots = ix->nslots * 2;
    lv_index_node **slots = calloc(nslots, sizeof *slots);
    if (slots == NULL)
        return LV_E_NOMEM;
    for (size_t j = 0; j < ix->nslots; j++) {
        lv_index_node *n = ix->slots[j];
        if (n == NULL)
            continue;
        size_t i = (size_t)hash_key(n->param->key, n->param->key_len) & (nslots - 1);
        while (slots[i] != NULL)
            i = (i + 1) & (nslots - 1);
        slots[i] = n;
    }
    free(ix->slots);
    ix->slots = slots;
    ix->nslots = nslots;
    return LV_OK;
}

static unsigned random_level(lv_index *ix)
{
    uint64_t x = ix->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ix->rng = x;
    unsigned level = 1;
    /* Each level with probability 1/4: two bits per level. */
    while (level < MAX_LEVEL && (x & 3) == 0) {
        level++;
        x >>= 2;
    }
    return level;
}

/* Fills update[] with the last node before key on every level. */
static void find_preds(const lv_index *ix, const char *key, size_t len,
                       lv_index_node **update)
{
    lv_index_node *x = ix->head;
    for (int l = MAX_LEVEL - 1; l >= 0; l--) {
        while (x->next[l] != NULL &&
               key_cmp(x->next[l]->param->key, x->next[l]->param->key_len, key, len) < 0)
            x = x->next[l];
        update[l] = x;
    }
}

lv_err lv_index_put(lv_index *ix, lv_param *p, lv_param **old)
{
    *old = NULL;
    bool found;
    size_t i = slot_of(ix, p->key, p->key_len, &found);
    if (found) {
        *old = ix->slots[i]->param;
        ix->slots[i]->param = p;
        return LV_OK;
    }
    if ((ix->count + 1) * 4 > ix->nslots * 3) {
        if (grow(ix) != LV_OK)
            return LV_E_NOMEM;
        i = slot_of(ix, p->key, p->key_len, &found);
    }
    unsigned level = random_level(ix);
    size_t bytes = sizeof(lv_index_node) + level * sizeof(lv_index_node *);
    lv_index_node *n = malloc(bytes);
    if (n == NULL)
        return LV_E_NOMEM;
    n->param = p;
    n->level = level;
    lv_index_node *update[MAX_LEVEL];
    find_preds(ix, p->key, p->key_len, update);
    for (unsigned l = 0; l < level; l++) {
        n->next[l] = update[l]->next[l];
        update[l]->next[l] = n;
    }
    if (level > ix->level)
        ix->level = level;
    ix->slots[i] = n;
    ix->count++;
    ix->node_bytes += bytes;
    return LV_OK;
}

lv_param *lv_index_remove(lv_index *ix, const char *key, size_t key_len)
{
    bool found;
    size_t i = slot_of(ix, key, key_len, &found);
    if (!found)
        return NULL;
    lv_index_node *n = ix->slots[i];
    /* Backward-shift deletion keeps probe chains intact without tombstones. */
    size_t mask = ix->nslots - 1, j = i;
    ix->slots[i] = NULL;
    for (;;) {
        j = (j + 1) & mask;
        lv_index_node *m = ix->slots[j];
        if (m == NULL)
            break;
        size_t home = (size_t)hash_key(m->param->key, m->param->key_len) & mask;
        /* m may move to the hole at i if its home is not in (i, j]. */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            ix->slots[i] = m;
            ix->slots[j] = NULL;
            i = j;
        }
    }
    lv_index_node *update[MAX_LEVEL];
    find_preds(ix, key, key_len, update);
    for (unsigned l = 0; l < n->level; l++)
        if (update[l]->next[l] == n)
            update[l]->next[l] = n->next[l];
    lv_param *p = n->param;
    ix->node_bytes -= sizeof(lv_index_node) + n->level * sizeof(lv_index_node *);
    free(n);
    ix->count--;
    return p;
}

const lv_index_node *lv_index_seek(const lv_index *ix, const char *key, size_t key_len)
{
    const lv_index_node *x = ix->head;
    for (int l = MAX_LEVEL - 1; l >= 0; l--)
        while (x->next[l] != NULL &&
               key_cmp(x->next[l]->param->key, x->next[l]->param->key_len, key, key_len) < 0)
            x = x->next[l];
    return x->next[0];
}

const lv_index_node *lv_index_next(const lv_index_node *n)
{
    return n->next[0];
}

const lv_param *lv_index_node_param(const lv_index_node *n)
{
    return n->param;
}
