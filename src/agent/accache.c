/* accache.c - encode and strictly verify the AppConfig part of lever-agent's
 * disk copy. Framing as cachefile.c (magic line, SHA-256 line, JSON body);
 * every configuration is sealed, since any of them may hold secrets. */
#include "agent/accache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/acreq.h"
#include "client/rollout.h"

#define MAGIC "lever-agent-appconfig 1\n"
#define SHA_TAG "sha256 "
#define SEAL_KEY_ID "lever-agent-appconfig-v1"

static void entry_free(lvac_disk_entry *e)
{
    free(e->app);
    free(e->env);
    free(e->profile);
    free(e->entity);
    free(e->content_type);
    free(e->version);
    if (e->data)
        memset(e->data, 0, e->len);
    free(e->data);
    free(e->seed);
    free(e->from_version);
    free(e->from_content_type);
    if (e->from_data)
        memset(e->from_data, 0, e->from_len);
    free(e->from_data);
    memset(e, 0, sizeof *e);
}

void lvac_snapshot_free(lvac_snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        entry_free(&s->entries[i]);
    free(s->entries);
    memset(s, 0, sizeof *s);
}

int lvac_snapshot_add(lvac_snapshot *s, const lvac_disk_entry *e)
{
    if (s->n == s->cap) {
        size_t n = s->cap ? s->cap * 2 : 16;
        lvac_disk_entry *ne = realloc(s->entries, n * sizeof *ne);
        if (ne == NULL)
            return -1;
        s->entries = ne;
        s->cap = n;
    }
    lvac_disk_entry c = *e;
    c.app = strdup(e->app);
    c.env = strdup(e->env);
    c.profile = strdup(e->profile);
    c.entity = strdup(e->entity ? e->entity : "");
    c.content_type = strdup(e->content_type ? e->content_type : "");
    c.version = strdup(e->version ? e->version : "");
    c.data = malloc(e->len + 1);
    c.seed = c.from_version = c.from_content_type = c.from_data = NULL;
    bool ok = c.app && c.env && c.profile && c.entity && c.content_type && c.version && c.data;
    if (ok && e->rolling) {
        c.seed = strdup(e->seed ? e->seed : "");
        c.from_version = strdup(e->from_version ? e->from_version : "");
        ok = c.seed && c.from_version;
        if (ok && e->from_data) {
            c.from_content_type = strdup(e->from_content_type ? e->from_content_type : "");
            c.from_data = malloc(e->from_len + 1);
            ok = c.from_content_type && c.from_data;
            if (ok) {
                if (e->from_len)
                    memcpy(c.from_data, e->from_data, e->from_len);
                c.from_data[e->from_len] = '\0';
            }
        }
    }
    if (!ok) {
        c.len = 0;
        c.from_len = 0;
        entry_free(&c);
        return -1;
    }
    if (e->len)
        memcpy(c.data, e->data, e->len);
    c.data[e->len] = '\0';
    s->entries[s->n++] = c;
    return 0;
}

char *lvac_entry_key(const char *app, const char *env, const char *profile, const char *entity)
{
    /* per request: pieces copied, not formatted */
    const char *part[4] = {app, env, profile, entity};
    size_t len[4], n = 0;
    for (int i = 0; i < 4; i++)
        n += (len[i] = strlen(part[i])) + 1;
    char *k = malloc(n);
    if (k == NULL)
        return NULL;
    char *p = k;
    for (int i = 0; i < 4; i++) {
        memcpy(p, part[i], len[i]);
        p += len[i];
        *p++ = i < 3 ? '\n' : '\0';
    }
    return k;
}

static int errf(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

static int put(json_t *o, const char *k, json_t *v)
{
    return v == NULL || json_object_set_new(o, k, v) != 0 ? -1 : 0;
}

/* The from side's sealed data is bound to the entry and to its role. */
static char *from_ad(const char *k)
{
    size_t n = strlen(k) + sizeof "\nfrom";
    char *ad = malloc(n);
    if (ad)
        snprintf(ad, n, "%s\nfrom", k);
    return ad;
}

/* "Rollout": {"Percent", "Seed", "From", and with a from side
 * "FromContentType", "FromStoredDocument", "FromSealed"}. */
static int rollout_encode(json_t *o, const lvac_disk_entry *e, const char *k, const unsigned char *key,
                          lv_buf *env, lv_buf *b64, char *err, size_t errlen)
{
    json_t *ro = json_object();
    if (put(o, "Rollout", ro) || put(ro, "Percent", json_real(e->percent)) ||
        put(ro, "Seed", json_string(e->seed ? e->seed : "")) ||
        put(ro, "From", json_string(e->from_version ? e->from_version : "")))
        return errf(err, errlen, "out of memory (or a seed that is not UTF-8) while encoding the AppConfig cache");
    if (e->from_data == NULL)
        return 0;
    char *ad = from_ad(k);
    lv_error le = {0};
    lv_buf_reset(env);
    lv_buf_reset(b64);
    int rc = ad == NULL ? errf(err, errlen, "out of memory")
             : lv_crypto_seal(key, SEAL_KEY_ID, ad, strlen(ad), e->from_data, e->from_len, env, &le) != LV_OK
                 ? errf(err, errlen, le.msg[0] ? le.msg : "sealing failed")
                 : 0;
    free(ad);
    if (rc == 0 && (put(ro, "FromContentType", json_string(e->from_content_type ? e->from_content_type : "")) ||
                    put(ro, "FromStoredDocument", json_boolean(e->from_stored_doc)) ||
                    lv_base64_encode(env->data, env->len, b64) != LV_OK || put(ro, "FromSealed", json_string(b64->data))))
        rc = errf(err, errlen, "out of memory while encoding the AppConfig cache");
    return rc;
}

int lvac_cache_encode(const lvac_snapshot *s, const unsigned char key[LV_MASTER_KEY_LEN], lv_buf *out,
                      char *err, size_t errlen)
{
    json_t *root = json_object(), *ea = json_array();
    lv_buf env = LV_BUF_INIT, b64 = LV_BUF_INIT;
    char *body = NULL, *k = NULL;
    int rc = -1;
    if (root == NULL || ea == NULL || s->revision > (uint64_t)INT64_MAX)
        goto nomem;
    for (size_t i = 0; i < s->n; i++) {
        const lvac_disk_entry *e = &s->entries[i];
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(ea, o) != 0)
            goto nomem;
        free(k);
        k = lvac_entry_key(e->app, e->env, e->profile, e->entity);
        if (k == NULL || e->revision > (uint64_t)INT64_MAX)
            goto nomem;
        if (put(o, "Application", json_string(e->app)) || put(o, "Environment", json_string(e->env)) ||
            put(o, "Profile", json_string(e->profile)) || put(o, "Entity", json_string(e->entity)) ||
            put(o, "ContentType", json_string(e->content_type)) || put(o, "Version", json_string(e->version)) ||
            put(o, "Confirmed", json_integer(e->confirmed_ms)) ||
            put(o, "Revision", json_integer((json_int_t)e->revision)) ||
            put(o, "Prefetched", json_boolean(e->prefetched)) || put(o, "StoredDocument", json_boolean(e->stored_doc)))
            goto nomem;
        lv_error le = {0};
        lv_buf_reset(&env);
        lv_buf_reset(&b64);
        if (lv_crypto_seal(key, SEAL_KEY_ID, k, strlen(k), e->data, e->len, &env, &le) != LV_OK) {
            errf(err, errlen, le.msg[0] ? le.msg : "sealing failed");
            goto out;
        }
        if (lv_base64_encode(env.data, env.len, &b64) != LV_OK || put(o, "Sealed", json_string(b64.data)))
            goto nomem;
        if (e->rolling && rollout_encode(o, e, k, key, &env, &b64, err, errlen) != 0)
            goto out;
    }
    if (put(root, "Saved", json_integer(s->saved_ms)) || put(root, "Revision", json_integer((json_int_t)s->revision)) ||
        json_object_set(root, "Entries", ea))
        goto nomem;
    body = json_dumps(root, JSON_COMPACT);
    if (body == NULL)
        goto nomem;
    size_t blen = strlen(body);
    char hex[65];
    lv_sha256_hex(body, blen, hex);
    if (lv_buf_puts(out, MAGIC) != LV_OK || lv_buf_printf(out, SHA_TAG "%s\n", hex) != LV_OK ||
        lv_buf_append(out, body, blen) != LV_OK)
        goto nomem;
    rc = 0;
    goto out;
nomem:
    errf(err, errlen, "out of memory (or a name that is not UTF-8) while encoding the AppConfig cache");
out:
    free(body);
    free(k);
    json_decref(root);
    json_decref(ea);
    lv_buf_free(&env);
    lv_buf_free(&b64);
    return rc;
}

/* A string field of at most max bytes, without control bytes when names
 * is set (names become map keys joined by '\n'). */
static const char *get_str(const json_t *o, const char *k, size_t max, bool names)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_string(v) || json_string_length(v) > max)
        return NULL;
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return NULL;
    if (names)
        for (const char *c = s; *c; c++)
            if ((unsigned char)*c < 0x20)
                return NULL;
    return s;
}

static int get_int(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int get_bool(const json_t *o, const char *k, bool *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

/* The optional "Rollout" of an entry record into e (strings pointing into
 * the record, the from side's plain text into fpt). NULL, or why not. */
static const char *rollout_decode(const json_t *o, const char *k, const unsigned char *key, lvac_disk_entry *e,
                                  lv_buf *raw, lv_buf *fpt)
{
    const json_t *ro = json_object_get(o, "Rollout");
    if (ro == NULL)
        return NULL;
    const json_t *pv = json_is_object(ro) ? json_object_get(ro, "Percent") : NULL;
    e->seed = (char *)get_str(ro, "Seed", LVC_ROLLOUT_SEED_MAX, true);
    e->from_version = (char *)get_str(ro, "From", LVC_ROLLOUT_VERSION_MAX, true);
    if (!json_is_number(pv) || !(json_number_value(pv) >= 0 && json_number_value(pv) < 100) || !e->seed ||
        !e->seed[0] || !e->from_version)
        return "malformed rollout record";
    e->percent = json_number_value(pv);
    e->rolling = true;
    const json_t *sv = json_object_get(ro, "FromSealed");
    if (e->from_version[0] == '\0')
        return sv == NULL ? NULL : "malformed rollout record";
    e->from_content_type = (char *)get_str(ro, "FromContentType", 255, true);
    if (!json_is_string(sv) || !e->from_content_type || get_bool(ro, "FromStoredDocument", &e->from_stored_doc))
        return "malformed rollout record";
    char *ad = from_ad(k);
    if (ad == NULL)
        return "out of memory";
    lv_error le = {0};
    lv_buf_reset(raw);
    const char *why = NULL;
    if (lv_base64_decode(json_string_value(sv), json_string_length(sv), raw) != LV_OK ||
        raw->len < LV_ENVELOPE_OVERHEAD)
        why = "malformed sealed entry";
    else if (lv_crypto_open(key, SEAL_KEY_ID, ad, strlen(ad), raw->data, raw->len, fpt, &le) != LV_OK)
        why = "a sealed entry does not open with the cache key";
    free(ad);
    if (why == NULL) {
        e->from_data = fpt->data ? fpt->data : "";
        e->from_len = fpt->len;
    }
    return why;
}

int lvac_cache_decode(const char *data, size_t len, const unsigned char key[LV_MASTER_KEY_LEN],
                      lvac_snapshot *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const size_t ml = sizeof MAGIC - 1, tl = sizeof SHA_TAG - 1;
    if (len < ml + tl + 65 || memcmp(data, MAGIC, ml) != 0)
        return errf(err, errlen, "not a lever-agent AppConfig cache file (bad header)");
    const char *h = data + ml;
    if (memcmp(h, SHA_TAG, tl) != 0 || h[tl + 64] != '\n')
        return errf(err, errlen, "bad checksum line");
    char want[65], got[65];
    memcpy(want, h + tl, 64);
    want[64] = '\0';
    const char *body = h + tl + 65;
    size_t blen = len - (size_t)(body - data);
    lv_sha256_hex(body, blen, got);
    if (strcmp(want, got) != 0)
        return errf(err, errlen, "checksum mismatch (file altered or truncated)");

    json_error_t je;
    json_t *root = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &je);
    lv_buf raw = LV_BUF_INIT, pt = LV_BUF_INIT, fpt = LV_BUF_INIT;
    char *k = NULL;
    const char *why = NULL;
    int64_t rev;
    const json_t *ea = json_is_object(root) ? json_object_get(root, "Entries") : NULL;
    if (!json_is_array(ea) || get_int(root, "Saved", &out->saved_ms) || get_int(root, "Revision", &rev) || rev < 0) {
        why = "missing Saved, Revision or Entries";
        goto bad;
    }
    out->revision = (uint64_t)rev;
    for (size_t i = 0; i < json_array_size(ea); i++) {
        const json_t *o = json_array_get(ea, i);
        if (!json_is_object(o)) {
            why = "malformed entry record";
            goto bad;
        }
        lvac_disk_entry e = {0};
        e.app = (char *)get_str(o, "Application", LVAC_NAME_MAX, true);
        e.env = (char *)get_str(o, "Environment", LVAC_NAME_MAX, true);
        e.profile = (char *)get_str(o, "Profile", LVAC_NAME_MAX, true);
        e.entity = (char *)get_str(o, "Entity", LVAC_ENTITY_MAX, true);
        e.content_type = (char *)get_str(o, "ContentType", 255, true);
        e.version = (char *)get_str(o, "Version", 1024, true);
        const json_t *sv = json_object_get(o, "Sealed");
        int64_t erev;
        if (!e.app || !e.app[0] || !e.env || !e.env[0] || !e.profile || !e.profile[0] || !e.entity ||
            !e.content_type || !e.version || !json_is_string(sv) || get_int(o, "Confirmed", &e.confirmed_ms) ||
            get_int(o, "Revision", &erev) || erev < 0 || get_bool(o, "Prefetched", &e.prefetched) ||
            get_bool(o, "StoredDocument", &e.stored_doc)) {
            why = "malformed entry record";
            goto bad;
        }
        e.revision = (uint64_t)erev;
        free(k);
        k = lvac_entry_key(e.app, e.env, e.profile, e.entity);
        if (k == NULL) {
            why = "out of memory";
            goto bad;
        }
        lv_error le = {0};
        lv_buf_reset(&raw);
        lv_buf_reset(&pt);
        if (lv_base64_decode(json_string_value(sv), json_string_length(sv), &raw) != LV_OK ||
            raw.len < LV_ENVELOPE_OVERHEAD) {
            why = "malformed sealed entry";
            goto bad;
        }
        if (lv_crypto_open(key, SEAL_KEY_ID, k, strlen(k), raw.data, raw.len, &pt, &le) != LV_OK) {
            why = "a sealed entry does not open with the cache key";
            goto bad;
        }
        e.data = pt.data ? pt.data : "";
        e.len = pt.len;
        lv_buf_reset(&fpt);
        if ((why = rollout_decode(o, k, key, &e, &raw, &fpt)) != NULL)
            goto bad;
        if (lvac_snapshot_add(out, &e) != 0) {
            why = "out of memory";
            goto bad;
        }
        if (pt.data)
            memset(pt.data, 0, pt.len);
        if (fpt.data)
            memset(fpt.data, 0, fpt.len);
    }
    free(k);
    json_decref(root);
    lv_buf_free(&raw);
    lv_buf_free(&pt);
    lv_buf_free(&fpt);
    return 0;
bad:
    free(k);
    if (pt.data)
        memset(pt.data, 0, pt.len);
    if (fpt.data)
        memset(fpt.data, 0, fpt.len);
    json_decref(root);
    lv_buf_free(&raw);
    lv_buf_free(&pt);
    lv_buf_free(&fpt);
    lvac_snapshot_free(out);
    return errf(err, errlen, why);
}
