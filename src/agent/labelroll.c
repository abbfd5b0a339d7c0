/* labelroll.c - both sides of a label rollout in lever-agent's on-demand
 * table and the side of each entity (agent/labelroll.h). */
#include "agent/labelroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

/* The rollout record's JSON back into a rollout; false when malformed.
 * Parsed once per record and thread: a read compares the bytes with the
 * last record this thread parsed (a step replaces the record). */
static bool meta_parse(const lva_entry *e, lvc_rollout *ro)
{
    static _Thread_local char last[LVA_LR_META_MAX];
    static _Thread_local size_t last_len;
    static _Thread_local lvc_rollout last_ro;
    if (e->json_len >= sizeof last)
        return false;
    if (last_len == e->json_len && last_len > 0 && memcmp(last, e->json, last_len) == 0) {
        *ro = last_ro;
        return true;
    }
    json_error_t je;
    json_t *o = json_loadb(e->json, e->json_len, 0, &je);
    json_t *r = json_object_get(o, "LeverRollout");
    bool ok = json_is_object(r) &&
              lvc_rollout_parse(json_string_value(json_object_get(r, "Percent")),
                                json_string_value(json_object_get(r, "Seed")),
                                json_string_value(json_object_get(r, "From")),
                                json_string_value(json_object_get(r, "To")), ro, NULL, 0) == 0 &&
              ro->active;
    json_decref(o);
    if (ok) {
        memcpy(last, e->json, e->json_len);
        last_len = e->json_len;
        last_ro = *ro;
    }
    return ok;
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
    /* A Parameter-shaped object (the disk copy keeps only objects with
     * their Name) holding the rollout; %.17g reads back to the same
     * double. */
    json_t *mo = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "Name", name, "LeverRollout", "Percent", pct, "Seed",
                           ro->seed, "From", ro->from, "To", ro->to);
    char *meta = mo ? json_dumps(mo, JSON_COMPACT) : NULL;
    json_decref(mo);
    char *rk = lva_lr_key(key, 'R'), *tk = lva_lr_key(key, 'T'), *fk = lva_lr_key(key, 'F');
    int rc = -1;
    if (meta == NULL || strlen(meta) >= LVA_LR_META_MAX || rk == NULL || tk == NULL || fk == NULL)
        goto out;
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
