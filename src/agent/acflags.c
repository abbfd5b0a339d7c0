/* acflags.c - the feature-flag side of the AppConfig Agent API. Feature-flag
 * profiles are fetched in their stored form (X-Lever-Document: stored) and
 * compiled once (json/flagdoc.h), so the agent evaluates variants for each
 * request's Context and Entity-Id, as AWS's agent does; ?flag=KEY keeps only
 * the named flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/acint.h"

/* A flag context over a request's pairs (borrowed). kv holds cap slots. */
static void context_of(const lvac_context *c, const unsigned char *types, const char *entity, lv_flag_kv *kv,
                       lv_flag_context *out)
{
    size_t n = c ? c->n : 0;
    for (size_t i = 0; i < n; i++)
        kv[i] = (lv_flag_kv){lvac_ctx_key(c, i), lvac_ctx_value(c, i),
                             types ? (lv_flag_vtype)types[i] : LV_FV_STRING};
    *out = (lv_flag_context){kv, n, entity};
}

int lvac_flags_compile(const char *doc, size_t len, const char *entity, lv_flagdoc **fd, char **plain,
                       size_t *plain_len)
{
    *fd = NULL;
    *plain = NULL;
    *plain_len = 0;
    /* cheap test first: a stored flag document is a JSON object with "flags" */
    if (len < 2 || doc[0] != '{' || memmem(doc, len, "\"flags\"", 7) == NULL)
        return 1;
    lv_error e = {0};
    if (lv_flagdoc_parse(doc, len, fd, NULL, &e) != LV_OK) {
        *fd = NULL;
        return 1;
    }
    lv_flag_kv kv[1];
    lv_flag_context ctx;
    context_of(NULL, NULL, entity, kv, &ctx);
    json_t *o = lv_flagdoc_serve(*fd, &ctx, NULL, 0);
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (t == NULL) {
        lv_flagdoc_free(*fd);
        *fd = NULL;
        return -1;
    }
    *plain = t;
    *plain_len = strlen(t);
    return 0;
}

int lvac_flags_serve(const lv_flagdoc *fd, const lvac_flags *flags, const lvac_context *c, const char *entity,
                     lv_buf *out)
{
    lv_flag_kv kv[LVAC_MAX_CTX];
    lv_flag_context ctx;
    context_of(c, NULL, entity, kv, &ctx);
    const char *keys[LVAC_MAX_FLAGS];
    for (size_t i = 0; i < flags->n; i++)
        keys[i] = flags->keys[i];
    return lv_flagdoc_serve_text(fd, &ctx, flags->n ? keys : NULL, flags->n, out) == LV_OK ? 0 : -1;
}

int lvac_flags_answer(const char *doc, size_t len, bool stored, const lvac_flags *flags,
                      const lvac_context *ctx, const char *entity, lv_buf *out, int *status, char *err,
                      size_t errlen)
{
    (void)ctx;
    (void)entity;
    (void)stored;
    json_error_t je;
    json_t *root = json_loadb(doc ? doc : "", len, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        *status = 400;
        snprintf(err, errlen, "?flag= applies to feature flag profiles (this configuration is not a JSON object)");
        return -1;
    }
    json_t *sel = root;
    if (flags->n > 0) {
        sel = json_object();
        for (size_t i = 0; sel && i < flags->n; i++) {
            json_t *v = json_object_get(root, flags->keys[i]);
            if (v && json_object_set(sel, flags->keys[i], v) != 0) {
                json_decref(sel);
                sel = NULL;
            }
        }
    }
    char *text = sel ? json_dumps(sel, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (sel != root)
        json_decref(sel);
    json_decref(root);
    if (text == NULL || lv_buf_puts(out, text) != LV_OK) {
        free(text);
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    free(text);
    return 0;
}

int lvac_flags_ofrep_text(const lv_flagdoc *fd, const char *key, const unsigned char *types, const lvac_context *c,
                          const char *entity, lv_buf *out)
{
    lv_flag_kv kv[LVAC_MAX_CTX];
    lv_flag_context ctx;
    context_of(c, types, entity, kv, &ctx);
    lv_flag_result r;
    lv_flagdoc_eval(fd, key, &ctx, &r);
    if (r.reason == LV_FLAG_ERROR || r.ofrep == NULL)
        return 0;
    /* the bytes json_dumps gives for lvac_flags_ofrep's object; the key
     * is one the document has, so [a-z][A-Za-z0-9_-]*: nothing to escape */
    lv_buf_reset(out);
    lv_err rc = lv_buf_puts(out, "{\"key\":\"");
    if (rc == LV_OK)
        rc = lv_buf_puts(out, key);
    if (rc == LV_OK)
        rc = lv_buf_puts(out, r.enabled ? "\",\"value\":true,\"reason\":\"" : "\",\"value\":false,\"reason\":\"");
    if (rc == LV_OK)
        rc = lv_buf_puts(out, lv_flag_reason_name(r.reason));
    if (rc == LV_OK)
        rc = lv_buf_append(out, "\",", 2);
    if (rc == LV_OK)
        rc = lv_buf_puts(out, r.ofrep);
    return rc == LV_OK ? 1 : -1;
}

int lvac_flags_ofrep(const lv_flagdoc *fd, const char *key, const unsigned char *types, const lvac_context *c,
                     const char *entity, json_t **out, int *status)
{
    lv_flag_kv kv[LVAC_MAX_CTX];
    lv_flag_context ctx;
    context_of(c, types, entity, kv, &ctx);
    size_t n = key ? 1 : lv_flagdoc_count(fd);
    json_t *arr = key ? NULL : json_array();
    *status = 200;
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *k = key ? key : lv_flagdoc_key(fd, i);
        lv_flag_result r;
        lv_flagdoc_eval(fd, k, &ctx, &r);
        json_t *o;
        if (r.reason == LV_FLAG_ERROR) {
            bool nf = r.error_code && strcmp(r.error_code, "FLAG_NOT_FOUND") == 0;
            o = json_pack("{s:s, s:s, s:s}", "key", k, "errorCode", r.error_code ? r.error_code : "GENERAL",
                          "errorDetails", nf ? "no such flag in this configuration profile" : "the flag's rule failed");
            if (key)
                *status = nf ? 404 : 400;
        } else {
            o = json_pack("{s:s, s:b, s:s}", "key", k, "value", r.enabled, "reason", lv_flag_reason_name(r.reason));
            if (o && r.variant)
                json_object_set_new(o, "variant", json_string(r.variant));
            json_t *m = json_object();
            const char *ak;
            json_t *av;
            json_object_foreach((json_t *)r.attributes, ak, av) {
                if (m == NULL)
                    break;
                json_t *mv;
                if (json_is_string(av) || json_is_number(av) || json_is_boolean(av)) {
                    mv = json_incref(av);
                } else {
                    char *t = json_dumps(av, JSON_COMPACT | JSON_ENCODE_ANY);
                    mv = t ? json_string(t) : NULL;
                    free(t);
                }
                if (mv == NULL || json_object_set_new(m, ak, mv) != 0) {
                    json_decref(m);
                    m = NULL;
                }
            }
            if (o == NULL || m == NULL || json_object_set_new(o, "metadata", m) != 0) {
                json_decref(o);
                o = NULL;
            }
        }
        if (o == NULL) {
            json_decref(arr);
            return -1;
        }
        if (key) {
            *out = o;
            return 0;
        }
        if (json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return -1;
        }
    }
    *out = arr ? json_pack("{s:o}", "flags", arr) : NULL;
    return *out ? 0 : -1;
}
