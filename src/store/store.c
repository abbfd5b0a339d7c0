/* store.c - picks the backend named by a store URI and forwards to it. */
#include "store/store.h"

#include <string.h>

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
        if (strncmp(uri, schemes[i].prefix, pl) == 0)
            return schemes[i].ops->open(schemes[i].whole_uri ? uri : uri + pl, out, err);
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

lv_err lv_store_feed(lv_store *s, uint64_t since, lv_store_feed_fn fn, void *ctx, uint64_t *upto, lv_error *err)
{
    return s->ops->feed(s, since, fn, ctx, upto, err);
}

lv_err lv_store_wait(lv_store *s, uint64_t since, int timeout_ms, bool *woken, lv_error *err)
{
    return s->ops->wait(s, since, timeout_ms, woken, err);
}

lv_err lv_store_compact(lv_store *s, uint64_t upto, lv_error *err)
{
    return s->ops->compact(s, upto, err);
}

lv_err lv_store_backup(lv_store *s, const char *path, lv_error *err)
{
    return s->ops->backup(s, path, err);
}

void lv_store_close(lv_store *s)
{
    if (s != NULL)
        s->ops->close(s);
}
