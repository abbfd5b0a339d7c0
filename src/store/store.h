/* store.h - the storage interface every backend implements.
 *
 * A store is an ordered map of byte keys to byte values with three duties:
 * hand back everything at start (in key order), apply a batch of puts and
 * deletes atomically and durably, and close. It knows nothing of
 * parameters, HTTP or AWS: the engine decides what the keys and values are
 * (see core/record.h). */
#ifndef LV_STORE_STORE_H
#define LV_STORE_STORE_H

#include <stddef.h>

#include "core/err.h"

typedef struct lv_store lv_store;

/* One change in a batch. val == NULL means delete key. */
typedef struct lv_store_op {
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
} lv_store_op;

/* Called once per stored pair, in ascending memcmp order of keys. The
 * pointers are valid only during the call. Returning non-OK stops the load
 * and makes lv_store_load return that code. */
typedef lv_err (*lv_store_load_fn)(void *ctx, const void *key, size_t klen,
                                   const void *val, size_t vlen);

typedef struct lv_store_ops {
    const char *scheme; /* "sqlite", "postgres" */
    lv_err (*open)(const char *location, lv_store **out, lv_error *err);
    lv_err (*load)(lv_store *s, lv_store_load_fn fn, void *ctx, lv_error *err);
    lv_err (*commit)(lv_store *s, const lv_store_op *ops, size_t n,
                     lv_error *err);
    /* Copies a consistent snapshot of the whole store to path. */
    lv_err (*backup)(lv_store *s, const char *path, lv_error *err);
    void (*close)(lv_store *s);
} lv_store_ops;

/* Every backend struct starts with this. */
struct lv_store {
    const lv_store_ops *ops;
};

/* Opens the store named by uri, "<scheme>:<location>", e.g.
 * "sqlite:/var/lib/lever/lever.db". On success *out is owned by the caller
 * and released with lv_store_close(). */
lv_err lv_store_open(const char *uri, lv_store **out, lv_error *err);

/* Feeds every stored pair to fn in key order. */
lv_err lv_store_load(lv_store *s, lv_store_load_fn fn, void *ctx,
                     lv_error *err);

/* Applies all n ops in one transaction: when it returns LV_OK every op is
 * durable (survives power loss / SIGKILL); on error none is applied. Keys
 * within one batch may repeat; the last op for a key wins. */
lv_err lv_store_commit(lv_store *s, const lv_store_op *ops, size_t n,
                       lv_error *err);

lv_err lv_store_backup(lv_store *s, const char *path, lv_error *err);

void lv_store_close(lv_store *s);

/* Backends. */
extern const lv_store_ops lv_store_sqlite_ops;

#endif
