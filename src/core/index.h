/* index.h - the in-memory index of every parameter: a hash table for name
 * lookups and a skip list for ordered path walks (O(log n + k)). Keys are
 * lv_param keys ("<region>\0<name>"), ordered bytewise. Not thread-safe:
 * the engine serialises writers and excludes them from readers. */
#ifndef LV_CORE_INDEX_H
#define LV_CORE_INDEX_H

#include <stddef.h>

#include "core/err.h"
#include "core/param.h"

typedef struct lv_index lv_index;
typedef struct lv_index_node lv_index_node;

/* NULL on allocation failure. */
lv_index *lv_index_new(void);
/* Frees the index and every parameter it holds. */
void lv_index_free(lv_index *ix);

size_t lv_index_count(const lv_index *ix);

lv_param *lv_index_get(const lv_index *ix, const char *key, size_t key_len);

/* Inserts p, or replaces the parameter with the same key. The replaced
 * parameter (or NULL) is returned in *old, for the caller to free once no
 * reader can see it. The index takes ownership of p. */
lv_err lv_index_put(lv_index *ix, lv_param *p, lv_param **old);

/* Unlinks and returns the parameter with key (caller frees), or NULL. */
lv_param *lv_index_remove(lv_index *ix, const char *key, size_t key_len);

/* Ordered iteration: the first node whose key is >= key (NULL at end). */
const lv_index_node *lv_index_seek(const lv_index *ix, const char *key, size_t key_len);
const lv_index_node *lv_index_next(const lv_index_node *n);
const lv_param *lv_index_node_param(const lv_index_node *n);

/* Approximate bytes used by the index structures (not the parameters). */
size_t lv_index_memory(const lv_index *ix);

#endif
