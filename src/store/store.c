/* store.c - picks the backend named by a store URI and forwards to it. */
#include "store/store.h"

#include <string.h>

static const lv_store_ops *const backends[] = {&lv_store_sqlite_ops};

lv_err lv_store_open(const char *uri, lv_store **out, lv_error *err)
{
    const char *colon = strchr(uri, ':');
    if (colon == NULL)
        return lv_error_set(err, LV_E_VALIDATION,
                            "store URI \"%s\" must look like <scheme>:<location>, e.g. sqlite:/var/lib/lever/lever.db",
                            uri);
    size_t sl = (size_t)(colon - uri);
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        if (strlen(backends[i]->scheme) == sl && memcmp(backends[i]->scheme, uri, sl) == 0)
            return backends[i]->open(colon + 1, out, err);
    return lv_error_set(err, LV_E_VALIDATION, "unknown store scheme in \"%s\" (known: sqlite)", uri);
}

lv_err lv_store_load(lv_store *s, lv_store_load_fn fn, void *ctx, lv_error *err)
{
    return s->ops->load(s, fn, ctx, err);
}

lv_err lv_store_commit(lv_store *s, const lv_store_op *ops, size_t n, lv_error *err)
{
    return s->ops->commit(s, ops, n, err);
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
