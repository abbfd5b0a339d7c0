/* store.c - picks the backend named by a store URI and forwards to it. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* URI prefixes and the backend each selects. Backends that take the whole
 * URI (libpq parses its own) get it unchanged. */
static const struct {
    const char *prefix;
    const lv_store_ops *ops;
    bool whole_uri;
} schemes[] = {
    {"sqlite:", &lv_store_sqlite_ops, false},
    {"postgres://", &lv_store_postgres_ops, true},
    {"postgresql://", &lv_store_postgres_ops, true},
};

lv_err lv_store_open(const char *uri, lv_store **out, lv_error *err)
{
    *out = NULL;
    if (strchr(uri, ':') == NULL)
        return lv_error_set(err, LV_E_VALIDATION,
                            "store URI \"%s\" must look like <scheme>:<location>, e.g. sqlite:/var/lib/lever/lever.db "
                            "or postgres://lever@db.example:5432/lever",
                            uri);
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
        size_t pl = strlen(schemes[i].prefix);
        if (strncmp(uri, schemes[i].prefix, pl) == 0) {
            lv_err rc = schemes[i].ops->open(schemes[i].whole_uri ? uri : uri + pl, out, err);
            if (rc == LV_OK)
                (*out)->keep = LV_STORE_TOMBSTONE_KEEP;
            return rc;
        }
    }
    /* Never echo the whole URI: a postgres one may carry a password. */
    size_t sl = strcspn(uri, ":");
    return lv_error_set(err, LV_E_VALIDATION, "unknown store scheme \"%.*s\" (known: sqlite:, postgres://, postgresql://)",
                        (int)(sl > 32 ? 32 : sl), uri);
}

lv_err lv_store_load(lv_store *s, lv_store_load_fn fn, void *ctx, lv_error *err)
{
    return s->ops->load(s, fn, ctx, NULL, err);
}

lv_err lv_store_load_at(lv_store *s, lv_store_load_fn fn, void *ctx, uint64_t *rev, lv_error *err)
{
    return s->ops->load(s, fn, ctx, rev, err);
}

lv_err lv_store_commit(lv_store *s, const lv_store_op *ops, size_t n, lv_error *err)
{
    lv_store_batch b = {ops, n, NULL, 0, 1};
    return s->ops->commit(s, &b, NULL, err);
}

lv_err lv_store_commit_batch(lv_store *s, const lv_store_batch *b, uint64_t *rev, lv_error *err)
{
    return s->ops->commit(s, b, rev, err);
}

lv_err lv_store_reserve(lv_store *s, uint64_t since, uint64_t *head, lv_error *err)
{
    if (s->ops->reserve == NULL)
        return lv_error_set(err, LV_E_INTERNAL, "%s: no commit order to reserve", s->ops->scheme);
    return s->ops->reserve(s, since, head, err);
}

void lv_store_release(lv_store *s)
{
    if (s->ops->release != NULL)
        s->ops->release(s);
}

lv_err lv_store_feed(lv_store *s, uint64_t since, lv_store_feed_fn fn, void *ctx, uint64_t *upto, lv_error *err)
{
    return s->ops->feed(s, since, fn, ctx, upto, err);
}

lv_err lv_store_wait(lv_store *s, uint64_t since, int timeout_ms, bool *woken, lv_error *err)
{
    return s->ops->wait(s, since, timeout_ms, woken, err);
}

void lv_store_set_tombstone_keep(lv_store *s, uint64_t keep)
{
    s->keep = keep ? keep : LV_STORE_TOMBSTONE_KEEP;
}

unsigned lv_store_compact_every(uint64_t keep)
{
    if (keep >= 512)
        return 256;
    return keep >= 4 ? (unsigned)(keep / 2) : 1;
}

lv_err lv_store_compact(lv_store *s, uint64_t upto, lv_error *err)
{
    return s->ops->compact(s, upto, err);
}

lv_err lv_store_backup(lv_store *s, const char *path, lv_error *err)
{
    return s->ops->backup(s, path, err);
}

typedef struct import_ctx {
    lv_buf data;          /* keys and values, back to back */
    lv_store_op *ops;     /* pointers into data once it stops moving */
    size_t n, cap;
    size_t *off;          /* per pair: key offset, value offset */
} import_ctx;

static lv_err import_pair(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    import_ctx *ic = ctx;
    if (ic->n == ic->cap) {
        size_t cap = ic->cap ? ic->cap * 2 : 1024;
        lv_store_op *ops = realloc(ic->ops, cap * sizeof *ops);
        if (ops == NULL)
            return LV_E_NOMEM;
        ic->ops = ops;
        size_t *off = realloc(ic->off, cap * 2 * sizeof *off);
        if (off == NULL)
            return LV_E_NOMEM;
        ic->off = off;
        ic->cap = cap;
    }
    ic->off[2 * ic->n] = ic->data.len;
    lv_err rc = lv_buf_append(&ic->data, key, klen);
    ic->off[2 * ic->n + 1] = ic->data.len;
    if (rc == LV_OK)
        rc = lv_buf_append(&ic->data, val, vlen);
    if (rc != LV_OK)
        return rc;
    ic->ops[ic->n] = (lv_store_op){NULL, klen, NULL, vlen};
    ic->n++;
    return LV_OK;
}

static lv_err count_pair(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    ++*(size_t *)ctx;
    return LV_E_VALIDATION; /* one is enough */
}

lv_err lv_store_import(lv_store *dst, lv_store *src, lv_error *err)
{
    size_t present = 0;
    uint64_t head = 0;
    lv_err rc = lv_store_load_at(dst, count_pair, &present, &head, err);
    if (rc != LV_OK && present == 0)
        return rc;
    if (present > 0)
        return lv_error_set(err, LV_E_VALIDATION, "the target store is not empty; restore only into an empty one");
    import_ctx ic = {LV_BUF_INIT, NULL, 0, 0, NULL};
    ic.data.max = (size_t)1 << 30;
    rc = lv_store_load(src, import_pair, &ic, err);
    if (rc != LV_OK && err && err->msg[0] == '\0')
        lv_error_set(err, rc, rc == LV_E_NOMEM ? "out of memory" : "the backup is larger than 1 GiB");
    lv_store_cond *conds = NULL;
    if (rc == LV_OK && ic.n > 0 && (conds = calloc(ic.n, sizeof *conds)) == NULL)
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
    if (rc == LV_OK) {
        /* Each key must still be untouched since the emptiness check. */
        for (size_t i = 0; i < ic.n; i++) {
            ic.ops[i].key = ic.data.data + ic.off[2 * i];
            ic.ops[i].val = ic.data.data + ic.off[2 * i + 1];
            conds[i] = (lv_store_cond){ic.ops[i].key, ic.ops[i].klen, head};
        }
        lv_store_batch b = {ic.ops, ic.n, conds, ic.n, 1};
        rc = lv_store_commit_batch(dst, &b, NULL, err);
    }
    free(conds);
    free(ic.ops);
    free(ic.off);
    lv_buf_free(&ic.data);
    return rc;
}

void lv_store_close(lv_store *s)
{
    if (s != NULL)
        s->ops->close(s);
}
