/* labelroll.c - both sides of a label rollout in lever-agent's on-demand
 * table and the side of each entity (agent/labelroll.h). */
#include "agent/labelroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lva_lr_entity_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n >= LVA_ENTITY_MAX)
            return false;
    return n > 0;
}

char *lva_lr_key(const char *key, char which)
{
    size_t n = strlen(key);
    char *k = malloc(n + 3);
    if (k == NULL)
        return NULL;
    memcpy(k, key, n);
    k[n] = '\n';
    k[n + 1] = which;
    k[n + 2] = '\0';
    return k;
}

/* "percent\nseed\nfrom\nto" back into a rollout; false when malformed. */
static bool meta_parse(const lva_entry *e, lvc_rollout *ro)
{
    char buf[64 + LVC_ROLLOUT_SEED_MAX + 2 * LVC_ROLLOUT_VERSION_MAX + 8];
    if (e->json_len >= sizeof buf)
        return false;
    memcpy(buf, e->json, e->json_len);
    buf[e->json_len] = '\0';
    char *f[4];
    char *p = buf;
    for (int i = 0; i < 4; i++) {
        f[i] = p;
        p = i < 3 ? strchr(p, '\n') : NULL;
        if (i < 3 && p == NULL)
            return false;
        if (p)
            *p++ = '\0';
    }
    return lvc_rollout_parse(f[0], f[1], f[2], f[3], ro, NULL, 0) == 0 && ro->active;
}

lva_entry *lva_lr_lookup(lva_table *od, const char *key, const char *entity, bool touch, bool *rolling,
                         lva_entry **r_entry)
{
    *rolling = false;
    *r_entry = NULL;
    char *rk = lva_lr_key(key, 'R');
    if (rk == NULL)
        return NULL;
    lva_entry *r = lva_table_get(od, rk, touch);
    free(rk);
    lvc_rollout ro;
    if (r == NULL || !meta_parse(r, &ro))
        return NULL;
    *rolling = true;
    *r_entry = r;
    char *sk = lva_lr_key(key, lvc_rollout_is_to(&ro, entity) ? 'T' : 'F');
    if (sk == NULL)
        return NULL;
    lva_entry *e = lva_table_get(od, sk, touch);
    free(sk);
    return e;
}

void lva_lr_forget(lva_table *od, const char *key)
{
    static const char which[] = "RTF";
    for (int i = 0; i < 3; i++) {
        char *k = lva_lr_key(key, which[i]);
        if (k != NULL)
            lva_table_del(od, k);
        free(k);
    }
}

int lva_lr_store(lva_table *od, const char *key, const char *name, const lvc_rollout *ro, const lva_lr_side *to,
                 const lva_lr_side *from, int64_t confirmed_ms, int64_t fetched_mono)
{
    char pct[40];
    snprintf(pct, sizeof pct, "%.17g", ro->percent);
    size_t ml = strlen(pct) + strlen(ro->seed) + strlen(ro->from) + strlen(ro->to) + 4;
    char *meta = malloc(ml);
    char *rk = lva_lr_key(key, 'R'), *tk = lva_lr_key(key, 'T'), *fk = lva_lr_key(key, 'F');
    int rc = -1;
    if (meta == NULL || rk == NULL || tk == NULL || fk == NULL)
        goto out;
    /* The percentage as leverd sent it would be exact; %.17g of the
     * parsed value reads back to the same double. */
    snprintf(meta, ml, "%s\n%s\n%s\n%s", pct, ro->seed, ro->from, ro->to);
    lva_table_del(od, key);
    /* the sides before the rollout record: a reader never sees the
     * record without both */
    if (lva_table_put(od, tk, name, to->json, to->json_len, to->secure, to->version, confirmed_ms, fetched_mono) != 0 ||
        (from != NULL && lva_table_put(od, fk, name, from->json, from->json_len, from->secure, from->version,
                                       confirmed_ms, fetched_mono) != 0) ||
        lva_table_put(od, rk, name, meta, strlen(meta), to->secure || (from && from->secure), 0, confirmed_ms,
                      fetched_mono) != 0) {
        lva_lr_forget(od, key);
        goto out;
    }
    if (from == NULL)
        lva_table_del(od, fk);
    rc = 0;
out:
    free(meta);
    free(rk);
    free(tk);
    free(fk);
    return rc;
}
