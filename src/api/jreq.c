/* jreq.c - typed, constrained access to a parsed JSON request. */
#include "api/jreq.h"

#include "json/flat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lv_err jreq_parse(jreq *r, const char *body, size_t len, lv_error *err)
{
    memset(r, 0, sizeof *r);
    if (len == 0) {
        r->root = json_object();
        return r->root ? LV_OK : lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    json_error_t je;
    r->root = lv_json_load_request(body, len, &je);
    if (r->root == NULL)
        return lv_error_set(err, LV_E_SERIALIZATION,
                            "Could not parse the request body as JSON: %s (line %d, column %d).",
                            je.text, je.line, je.column);
    if (!json_is_object(r->root)) {
        json_decref(r->root);
        r->root = NULL;
        return lv_error_set(err, LV_E_SERIALIZATION, "The request body must be a JSON object.");
    }
    return LV_OK;
}

lv_err jreq_adopt(jreq *r, json_t *root, lv_error *err)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(root))
        return lv_error_set(err, LV_E_SERIALIZATION, "The request body must be a JSON object.");
    r->root = json_incref(root);
    return LV_OK;
}

void jreq_free(jreq *r)
{
    json_decref(r->root);
    r->root = NULL;
    lv_buf_free(&r->verr);
}

/* "MaxResults" -> "maxResults" (also for dotted paths). */
static void camel(const char *field, char *out, size_t cap)
{
    snprintf(out, cap, "%s", field);
    if (out[0])
        out[0] = (char)tolower((unsigned char)out[0]);
}

void jreq_fail(jreq *r, const char *value, const char *path, const char *constraint)
{
    if (r->nverr++ > 0)
        lv_buf_puts(&r->verr, "; ");
    if (value)
        lv_buf_printf(&r->verr, "Value '%s' at '%s' failed to satisfy constraint: %s", value,
                      path, constraint);
    else
        lv_buf_printf(&r->verr, "Value null at '%s' failed to satisfy constraint: %s", path,
                      constraint);
}

/* A list as AWS prints it in a validation message: "[a, b, c]" (strings
 * bare, anything else as compact JSON). */
static void list_text(json_t *arr, lv_buf *out)
{
    lv_buf_putc(out, '[');
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        if (i > 0)
            lv_buf_puts(out, ", ");
        if (json_is_string(e)) {
            lv_buf_append(out, json_string_value(e), json_string_length(e));
        } else {
            char *t = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
            lv_buf_puts(out, t ? t : "?");
            free(t);
        }
    }
    lv_buf_putc(out, ']');
}

static void serr(jreq *r, const char *field, const char *want)
{
    if (r->serr != LV_OK)
        return;
    r->serr = LV_E_SERIALIZATION;
    snprintf(r->smsg, sizeof r->smsg, "The field %s must be %s.", field, want);
}

static json_t *member(jreq *r, json_t *obj, const char *field, bool required)
{
    json_t *v = json_object_get(obj ? obj : r->root, field);
    if (v != NULL && json_is_null(v))
        v = NULL;
    if (v == NULL && required) {
        char path[128];
        camel(field, path, sizeof path);
        jreq_fail(r, NULL, path, "Member must not be null");
    }
    return v;
}

const char *jreq_str(jreq *r, json_t *obj, const char *field, bool required, size_t min,
                     size_t max, size_t *len)
{
    json_t *v = member(r, obj, field, required);
    if (v == NULL)
        return NULL;
    if (!json_is_string(v)) {
        serr(r, field, "a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (len)
        *len = n;
    /* AWS counts characters; for the limits that matter here (ASCII names,
     * descriptions) bytes and characters agree, and values are bounded
     * separately by tier in bytes. */
    if (n < min || (max && n > max)) {
        char path[128], c[96];
        camel(field, path, sizeof path);
        if (n < min)
            snprintf(c, sizeof c, "Member must have length greater than or equal to %zu", min);
        else
            snprintf(c, sizeof c, "Member must have length less than or equal to %zu", max);
        jreq_fail(r, s, path, c);
    }
    return s;
}

const char *jreq_enum(jreq *r, json_t *obj, const char *field, bool required,
                      const char *const *allowed)
{
    const char *s = jreq_str(r, obj, field, required, 0, 0, NULL);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(s, allowed[i]) == 0)
            return s;
    char path[128], c[512];
    camel(field, path, sizeof path);
    size_t off = (size_t)snprintf(c, sizeof c, "Member must satisfy enum value set: [");
    for (size_t i = 0; allowed[i] && off < sizeof c; i++)
        off += (size_t)snprintf(c + off, sizeof c - off, "%s%s", i ? ", " : "", allowed[i]);
    if (off < sizeof c)
        snprintf(c + off, sizeof c - off, "]");
    jreq_fail(r, s, path, c);
    return NULL;
}

bool jreq_bool(jreq *r, json_t *obj, const char *field, bool *out)
{
    json_t *v = member(r, obj, field, false);
    if (v == NULL)
        return false;
    if (!json_is_boolean(v)) {
        serr(r, field, "a boolean");
        return false;
    }
    *out = json_is_true(v);
    return true;
}

bool jreq_int(jreq *r, json_t *obj, const char *field, bool required, int64_t min, int64_t max,
              int64_t *out)
{
    json_t *v = member(r, obj, field, required);
    if (v == NULL)
        return false;
    if (!json_is_integer(v)) {
        serr(r, field, "an integer");
        return false;
    }
    int64_t x = (int64_t)json_integer_value(v);
    char path[128], c[96], val[32];
    camel(field, path, sizeof path);
    snprintf(val, sizeof val, "%lld", (long long)x);
    if (x < min) {
        snprintf(c, sizeof c, "Member must have value greater than or equal to %lld", (long long)min);
        jreq_fail(r, val, path, c);
        return false;
    }
    if (x > max) {
        snprintf(c, sizeof c, "Member must have value less than or equal to %lld", (long long)max);
        jreq_fail(r, val, path, c);
        return false;
    }
    *out = x;
    return true;
}

json_t *jreq_array(jreq *r, json_t *obj, const char *field, bool required, size_t min, size_t max)
{
    json_t *v = member(r, obj, field, required);
    if (v == NULL)
        return NULL;
    if (!json_is_array(v)) {
        serr(r, field, "a list");
        return NULL;
    }
    size_t n = json_array_size(v);
    char path[128], c[96];
    camel(field, path, sizeof path);
    if (n < min || (max && n > max)) {
        if (n < min)
            snprintf(c, sizeof c, "Member must have length greater than or equal to %zu", min);
        else
            snprintf(c, sizeof c, "Member must have length less than or equal to %zu", max);
        lv_buf val = LV_BUF_INIT;
        list_text(v, &val);
        jreq_fail(r, val.data ? val.data : "[]", path, c);
        lv_buf_free(&val);
    }
    return v;
}

const char *jreq_elem_str(jreq *r, json_t *arr, size_t i, const char *path, size_t min, size_t max)
{
    json_t *v = json_array_get(arr, i);
    if (!json_is_string(v)) {
        serr(r, path, "a list of strings");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    char c[96], p[160];
    snprintf(p, sizeof p, "%s.%zu.member", path, i + 1);
    if (n < min) {
        snprintf(c, sizeof c, "Member must have length greater than or equal to %zu", min);
        jreq_fail(r, s, p, c);
        return NULL;
    }
    if (max && n > max) {
        snprintf(c, sizeof c, "Member must have length less than or equal to %zu", max);
        jreq_fail(r, s, p, c);
        return NULL;
    }
    if (strlen(s) != n) {
        jreq_fail(r, "(contains NUL)", p, "Member must not contain NUL characters");
        return NULL;
    }
    return s;
}

lv_err jreq_finish(jreq *r, lv_error *err)
{
    if (r->serr != LV_OK)
        return lv_error_set(err, r->serr, "%s", r->smsg);
    /* AWS's form: "N validation error(s) detected: " then each failed
     * constraint, joined by "; ", and a final period. */
    if (r->nverr)
        return lv_error_set(err, LV_E_VALIDATION, "%u validation error%s detected: %s.", r->nverr,
                            r->nverr > 1 ? "s" : "", r->verr.data);
    return LV_OK;
}
