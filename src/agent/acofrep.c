/* acofrep.c - OFREP request bodies and answers over a feature-flag
 * profile's document: a flag's OFREP value is its "enabled", its variant
 * the evaluated variant, its attributes the metadata (docs/agent.md). */
#include "agent/acofrep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/acint.h"
#include "crypto/crypto.h"

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

int lvac_parse_ofrep(const char *body, size_t len, lvac_ofrep_ctx *out, bool *invalid_context, char *err,
                     size_t errlen)
{
    lvac_context_init(&out->kv);
    out->entity[0] = '\0';
    *invalid_context = false;
    if (len > LVAC_OFREP_BODY_MAX)
        return fail(err, errlen, "request body larger than 64 KiB");
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len)
        return 0; /* no body: no context */
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(err, errlen, "the body is not a JSON object");
    }
    json_t *ctx = json_object_get(root, "context");
    int rc = 0;
    if (ctx != NULL && !json_is_object(ctx) && !json_is_null(ctx)) {
        *invalid_context = true;
        rc = fail(err, errlen, "context must be an object");
        goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(ctx, k, v) {
        char text[LVAC_CTX_VALUE_MAX + 1];
        lvac_vtype ty;
        if (json_is_string(v)) {
            if (json_string_length(v) > LVAC_CTX_VALUE_MAX || strlen(json_string_value(v)) != json_string_length(v)) {
                *invalid_context = true;
                rc = fail(err, errlen, "a context value is longer than 1024 bytes or holds NUL");
                goto out;
            }
            snprintf(text, sizeof text, "%s", json_string_value(v));
            ty = LVAC_V_STRING;
        } else if (json_is_integer(v)) {
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
            ty = LVAC_V_NUMBER;
        } else if (json_is_real(v)) {
            snprintf(text, sizeof text, "%.17g", json_real_value(v));
            ty = LVAC_V_NUMBER;
        } else if (json_is_boolean(v)) {
            snprintf(text, sizeof text, "%s", json_is_true(v) ? "true" : "false");
            ty = LVAC_V_BOOL;
        } else {
            continue; /* nested values: not addressable by AppConfig rules */
        }
        if (strcmp(k, "targetingKey") == 0) {
            if (ty != LVAC_V_STRING || text[0] == '\0' || strlen(text) > LVAC_ENTITY_MAX) {
                *invalid_context = true;
                rc = fail(err, errlen, "targetingKey must be a string of 1-256 bytes");
                goto out;
            }
            memcpy(out->entity, text, strlen(text) + 1); /* <= LVAC_ENTITY_MAX, checked */
            continue;
        }
        size_t kl = strlen(k);
        size_t n0 = out->kv.n;
        if (kl == 0 || kl > LVAC_CTX_KEY_MAX || out->kv.n >= LVAC_MAX_CTX) {
            *invalid_context = true;
            rc = fail(err, errlen, "context keys are 1-128 bytes, at most 64 of them");
            goto out;
        }
        if (lvac_context_set(&out->kv, k, kl, text, strlen(text)) != 0) {
            rc = fail(err, errlen, "out of memory");
            goto out;
        }
        out->type[n0] = (unsigned char)ty;
    }
out:
    if (rc != 0) {
        lvac_context_free(&out->kv);
        out->entity[0] = '\0';
    }
    json_decref(root);
    return rc;
}

/* OFREP metadata values are strings, numbers or booleans: an attribute
 * holding a list travels as its JSON text. */
static json_t *metadata_of(const json_t *flag)
{
    json_t *m = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)flag, k, v) {
        if (m == NULL)
            break;
        if (strcmp(k, "enabled") == 0 || strcmp(k, "_variant") == 0)
            continue;
        json_t *mv = NULL;
        if (json_is_string(v) || json_is_number(v) || json_is_boolean(v)) {
            mv = json_incref(v);
        } else {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            mv = t ? json_string(t) : NULL;
            free(t);
        }
        if (mv == NULL || json_object_set_new(m, k, mv) != 0) {
            json_decref(m);
            m = NULL;
        }
    }
    return m;
}

static json_t *evaluation(const char *key, const json_t *flag)
{
    bool enabled = json_is_true(json_object_get(flag, "enabled"));
    const char *variant = json_string_value(json_object_get(flag, "_variant"));
    json_t *o = json_pack("{s:s, s:b, s:s}", "key", key, "value", enabled,
                          "reason", variant ? "TARGETING_MATCH" : enabled ? "STATIC" : "DISABLED");
    json_t *m = metadata_of(flag);
    if (o == NULL || m == NULL || (variant && json_object_set_new(o, "variant", json_string(variant)) != 0) ||
        json_object_set_new(o, "metadata", m) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *error_of(const char *key, const char *code, const char *details)
{
    return key ? json_pack("{s:s, s:s, s:s}", "key", key, "errorCode", code, "errorDetails", details)
               : json_pack("{s:s, s:s}", "errorCode", code, "errorDetails", details);
}

int lvac_ofrep_answer(const struct lv_flagdoc *fd, const char *doc, size_t len, const char *key,
                      const lvac_ofrep_ctx *ctx, const char *if_none_match, lv_buf *out, int *status, char *etag,
                      size_t etag_cap)
{
    json_t *root = NULL, *ans = NULL;
    *status = 200;
    if (etag && etag_cap)
        etag[0] = '\0';
    if (fd != NULL && key != NULL) {
        /* one flag of a compiled document: its evaluation written from
         * texts made at compile time (errors take the general path) */
        int t = lvac_flags_ofrep_text(fd, key, ctx->type, &ctx->kv, ctx->entity[0] ? ctx->entity : NULL, out);
        if (t != 0)
            return t > 0 ? 0 : -1;
    }
    if (fd == NULL)
        root = json_loadb(doc ? doc : "", len, 0, NULL); /* not inside json_is_object: a macro */
    if (fd) {
        if (lvac_flags_ofrep(fd, key, ctx->type, &ctx->kv, ctx->entity[0] ? ctx->entity : NULL, &ans, status) != 0)
            return -1;
    } else if (!json_is_object(root)) {
        *status = 400;
        ans = error_of(key, "GENERAL", "this configuration profile is not a feature flag document");
    } else if (key) {
        json_t *f = json_object_get(root, key);
        if (!json_is_object(f)) {
            *status = 404;
            ans = error_of(key, "FLAG_NOT_FOUND", "no such flag in this configuration profile");
        } else {
            ans = evaluation(key, f);
        }
    } else {
        json_t *arr = json_array();
        const char *k;
        json_t *f;
        json_object_foreach(root, k, f) {
            json_t *e = json_is_object(f) ? evaluation(k, f) : error_of(k, "PARSE_ERROR", "not a flag object");
            if (arr == NULL || e == NULL || json_array_append_new(arr, e) != 0) {
                json_decref(e);
                json_decref(arr);
                arr = NULL;
                break;
            }
        }
        ans = arr ? json_pack("{s:o}", "flags", arr) : NULL;
    }
    json_decref(root);
    char *text = ans ? json_dumps(ans, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(ans);
    if (text == NULL)
        return -1;
    lv_buf_reset(out);
    if (key == NULL && *status == 200 && etag && etag_cap >= 67) {
        char hex[65];
        lv_sha256_hex(text, strlen(text), hex);
        snprintf(etag, etag_cap, "\"%.64s\"", hex);
        if (if_none_match && strstr(if_none_match, etag) != NULL) {
            *status = 304;
            free(text);
            return 0;
        }
    }
    int rc = lv_buf_puts(out, text) == LV_OK ? 0 : -1;
    free(text);
    return rc;
}
