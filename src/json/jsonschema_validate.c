/* jsonschema_validate.c - checks a document against a compiled draft-4
 * schema and reports each violation with the JSON pointer of the value and
 * a reason, within the depth and work bounds of jsonschema.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/jsonschema.h"
#include "json/jsonschema_int.h"

struct vctx {
    lv_jsonschema_violation_fn *fn;
    void *ud;
    size_t count;
    int quiet;            /* > 0 inside anyOf/oneOf/not: nothing is reported */
    int depth;
    size_t steps;
    const char *aborted;  /* the bound that stopped validation, or NULL */
    lv_buf ptr;           /* JSON pointer of the current value */
};

static void report(struct vctx *v, const char *kw, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct vctx *v, const char *kw, const char *fmt, ...)
{
    if (v->quiet > 0)
        return;
    if (++v->count > LV_JSONSCHEMA_MAX_VIOLATIONS || v->fn == NULL)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->fn(v->ud, v->ptr.data ? v->ptr.data : "", kw, msg);
}

static bool abort_with(struct vctx *v, const char *why)
{
    if (v->aborted == NULL)
        v->aborted = why;
    return false;
}

static size_t ptr_push(struct vctx *v, const char *seg)
{
    size_t old = v->ptr.len;
    lv_err rc = lv_buf_putc(&v->ptr, '/');
    for (const char *p = seg; rc == LV_OK && *p; p++)
        rc = *p == '~' ? lv_buf_puts(&v->ptr, "~0")
             : *p == '/' ? lv_buf_puts(&v->ptr, "~1")
                         : lv_buf_putc(&v->ptr, *p);
    if (rc != LV_OK)
        abort_with(v, "out of memory");
    return old;
}

static size_t ptr_push_index(struct vctx *v, size_t i)
{
    char n[24];
    snprintf(n, sizeof n, "%zu", i);
    return ptr_push(v, n);
}

static void ptr_pop(struct vctx *v, size_t old)
{
    v->ptr.len = old;
    if (v->ptr.data)
        v->ptr.data[old] = '\0';
}

/* --- values --- */

int js_num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    /* long double holds every int64 exactly on the platforms lever runs on. */
    long double x = json_is_integer(a) ? (long double)json_integer_value(a) : json_real_value(a);
    long double y = json_is_integer(b) ? (long double)json_integer_value(b) : json_real_value(b);
    return x < y ? -1 : x > y;
}

bool js_json_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return js_num_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *va;
        json_object_foreach((json_t *)a, k, va) {
            const json_t *vb = json_object_get(b, k);
            if (vb == NULL || !js_json_equal(va, vb))
                return false;
        }
        return true;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!js_json_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    default:
        return true; /* true, false, null: the type says it all */
    }
}

/* A hash consistent with js_json_equal (1 and 1.0 hash alike; member order
 * does not matter), so uniqueItems sorts instead of comparing all pairs. */
static uint64_t json_hash(const json_t *j)
{
    uint64_t h = 0xcbf29ce484222325ull;
    switch (json_typeof(j)) {
    case JSON_INTEGER:
    case JSON_REAL: {
        double d = json_number_value(j);
        if (d == 0)
            d = 0; /* -0.0 */
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return bits * 0x9E3779B97F4A7C15ull + 1;
    }
    case JSON_STRING:
        for (size_t i = 0; i < json_string_length(j); i++)
            h = (h ^ (unsigned char)json_string_value(j)[i]) * 0x100000001b3ull;
        return h + 2;
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size(j); i++)
            h = (h ^ json_hash(json_array_get(j, i))) * 0x100000001b3ull;
        return h + 3;
    case JSON_OBJECT: {
        uint64_t sum = 4;
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)j, k, val) {
            uint64_t kh = 0xcbf29ce484222325ull;
            for (const char *p = k; *p; p++)
                kh = (kh ^ (unsigned char)*p) * 0x100000001b3ull;
            sum += (kh ^ json_hash(val)) * 0x9E3779B97F4A7C15ull;
        }
        return sum;
    }
    default:
        return (uint64_t)json_typeof(j) + 5;
    }
}

struct hashed {
    uint64_t h;
    size_t i;
};

static int cmp_hashed(const void *a, const void *b)
{
    const struct hashed *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Finds two equal items; returns false when all are distinct. */
static bool find_duplicate(const json_t *arr, size_t *first, size_t *second, bool *nomem)
{
    size_t n = json_array_size(arr);
    *nomem = false;
    if (n < 2)
        return false;
    struct hashed *v = malloc(n * sizeof *v);
    if (v == NULL) {
        *nomem = true;
        return false;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (struct hashed){json_hash(json_array_get(arr, i)), i};
    qsort(v, n, sizeof *v, cmp_hashed);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        for (size_t k = i + 1; k < n && v[k].h == v[i].h && !found; k++)
            if (js_json_equal(json_array_get(arr, v[i].i), json_array_get(arr, v[k].i))) {
                *first = v[i].i;
                *second = v[k].i;
                found = true;
            }
    free(v);
    return found;
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static bool type_ok(unsigned types, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return types & JS_T_OBJECT;
    case JSON_ARRAY: return types & JS_T_ARRAY;
    case JSON_STRING: return types & JS_T_STRING;
    case JSON_INTEGER: return types & (JS_T_INTEGER | JS_T_NUMBER);
    case JSON_REAL: return types & JS_T_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE: return types & JS_T_BOOLEAN;
    default: return types & JS_T_NULL;
    }
}

static void types_text(unsigned types, char *out, size_t cap)
{
    static const char *const names[] = {"null", "boolean", "object", "array",
                                        "number", "string", "integer"};
    size_t len = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < 7; i++)
        if (types & (1u << i))
            len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s",
                                    len ? " or " : "", names[i]);
}

static void num_text(const json_t *j, char *out, size_t cap)
{
    if (json_is_integer(j))
        snprintf(out, cap, "%lld", (long long)json_integer_value(j));
    else
        snprintf(out, cap, "%.17g", json_real_value(j));
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static bool multiple_ok(const json_t *x, const json_t *m)
{
    if (json_is_integer(x) && json_is_integer(m)) {
        json_int_t d = json_integer_value(m);
        return d == 1 || json_integer_value(x) % d == 0;
    }
    double q = json_number_value(x) / json_number_value(m);
    if (!isfinite(q))
        return false;
    return fabs(q - nearbyint(q)) <= 1e-9 * fmax(1.0, fabs(q));
}

/* --- keywords --- */

static bool v_node(struct vctx *v, const js_node *n, const json_t *j);

#define FAIL()                                                                 \
    do {                                                                       \
        ok = false;                                                            \
        if (v->quiet || v->aborted)                                            \
            return false;                                                      \
    } while (0)

static bool v_number(struct vctx *v, const js_node *n, const json_t *j)
{
    bool ok = true;
    char a[40], b[40];
    if (n->minimum) {
        int c = js_num_cmp(j, n->minimum);
        if (n->excl_min ? c <= 0 : c < 0) {
            num_text(j, a, sizeof a);
            num_text(n->minimum, b, sizeof b);
            report(v, "minimum", "%s is %s the minimum %s", a,
                   n->excl_min ? "not greater than" : "less than", b);
            FAIL();
        }
    }
    if (n->maximum) {
        int c = js_num_cmp(j, n->maximum);
        if (n->excl_max ? c >= 0 : c > 0) {
            num_text(j, a, sizeof a);
            num_text(n->maximum, b, sizeof b);
            report(v, "maximum", "%s is %s the maximum %s", a,
                   n->excl_max ? "not less than" : "greater than", b);
            FAIL();
        }
    }
    if (n->multiple_of && !multiple_ok(j, n->multiple_of)) {
        num_text(j, a, sizeof a);
        num_text(n->multiple_of, b, sizeof b);
        report(v, "multipleOf", "%s is not a multiple of %s", a, b);
        FAIL();
    }
    return ok;
}

static bool v_string(struct vctx *v, const js_node *n, const json_t *j)
{
    bool ok = true;
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    if (n->min_len >= 0 || n->max_len >= 0) {
        size_t chars = utf8_chars(s, len);
        if (n->min_len >= 0 && chars < (uint64_t)n->min_len) {
            report(v, "minLength", "string of %zu characters is shorter than the minimum %lld",
                   chars, (long long)n->min_len);
            FAIL();
        }
        if (n->max_len >= 0 && chars > (uint64_t)n->max_len) {
            report(v, "maxLength", "string of %zu characters is longer than the maximum %lld",
                   chars, (long long)n->max_len);
            FAIL();
        }
    }
    if (n->pattern) {
        int m = js_regex_search(n->pattern, s, len);
        if (m <= 0) {
            if (m < 0)
                report(v, "pattern", "pattern \"%.200s\" could not be evaluated within its "
                       "match limits", n->pattern_src);
            else
                report(v, "pattern", "string does not match the pattern \"%.200s\"",
                       n->pattern_src);
            FAIL();
        }
    }
    if (n->format != JS_F_NONE && !js_format_check(n->format, s, len)) {
        report(v, "format", "string is not a valid %s", js_format_name(n->format));
        FAIL();
    }
    return ok;
}

static bool v_array(struct vctx *v, const js_node *n, const json_t *j)
{
    bool ok = true;
    size_t len = json_array_size(j);
    if (n->min_items >= 0 && len < (uint64_t)n->min_items) {
        report(v, "minItems", "array has %zu items, fewer than the minimum %lld", len,
               (long long)n->min_items);
        FAIL();
    }
    if (n->max_items >= 0 && len > (uint64_t)n->max_items) {
        report(v, "maxItems", "array has %zu items, more than the maximum %lld", len,
               (long long)n->max_items);
        FAIL();
    }
    if (n->unique_items) {
        size_t a = 0, b = 0;
        bool nomem = false;
        if (find_duplicate(j, &a, &b, &nomem)) {
            report(v, "uniqueItems", "items %zu and %zu are equal; items must be unique", a, b);
            FAIL();
        }
        if (nomem)
            return abort_with(v, "out of memory");
    }
    for (size_t i = 0; i < len; i++) {
        const js_node *s = NULL;
        if (!n->items_tuple)
            s = n->items;
        else if (i < n->n_items)
            s = n->items_arr[i];
        else if (n->additional_items_false) {
            report(v, "additionalItems", "array has %zu items; the schema allows at most %zu", len,
                   n->n_items);
            FAIL();
            break;
        } else
            s = n->additional_items;
        if (s == NULL)
            continue;
        size_t old = ptr_push_index(v, i);
        if (!v_node(v, s, json_array_get(j, i)))
            FAIL();
        ptr_pop(v, old);
    }
    return ok;
}

static bool listed(const js_node *n, const char *key)
{
    const json_t *props = json_object_get(n->json, "properties");
    return props != NULL && json_object_get(props, key) != NULL;
}

static bool v_object(struct vctx *v, const js_node *n, const json_t *j)
{
    bool ok = true;
    size_t size = json_object_size(j);
    if (n->min_props >= 0 && size < (uint64_t)n->min_props) {
        report(v, "minProperties", "object has %zu properties, fewer than the minimum %lld",
               size, (long long)n->min_props);
        FAIL();
    }
    if (n->max_props >= 0 && size > (uint64_t)n->max_props) {
        report(v, "maxProperties", "object has %zu properties, more than the maximum %lld",
               size, (long long)n->max_props);
        FAIL();
    }
    for (size_t i = 0; n->required && i < json_array_size(n->required); i++) {
        const char *k = json_string_value(json_array_get(n->required, i));
        if (json_object_get(j, k) == NULL) {
            report(v, "required", "required property \"%.200s\" is missing", k);
            FAIL();
        }
    }
    for (size_t i = 0; i < n->n_deps; i++) {
        const struct js_dep *d = &n->deps[i];
        if (json_object_get(j, d->key) == NULL)
            continue;
        if (d->node && !v_node(v, d->node, j))
            FAIL();
        for (size_t k = 0; d->names && k < json_array_size(d->names); k++) {
            const char *need = json_string_value(json_array_get(d->names, k));
            if (json_object_get(j, need) == NULL) {
                report(v, "dependencies", "property \"%.200s\" requires property \"%.200s\"",
                       d->key, need);
                FAIL();
            }
        }
    }
    for (size_t i = 0; i < n->n_props; i++) {
        const json_t *val = json_object_get(j, n->props[i].key);
        if (val == NULL)
            continue;
        size_t old = ptr_push(v, n->props[i].key);
        bool good = v_node(v, n->props[i].node, val);
        ptr_pop(v, old);
        if (!good)
            FAIL();
    }
    if (n->n_pprops == 0 && !n->additional_props_false && n->additional_props == NULL)
        return ok;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val) {
        bool matched = n->n_props && listed(n, key);
        size_t old = ptr_push(v, key);
        for (size_t i = 0; i < n->n_pprops; i++) {
            int m = js_regex_search(n->pprops[i].re, key, strlen(key));
            if (m < 0) {
                report(v, "patternProperties", "pattern \"%.200s\" could not be evaluated "
                       "within its match limits", n->pprops[i].source);
                FAIL();
            } else if (m > 0) {
                matched = true;
                if (!v_node(v, n->pprops[i].node, val))
                    FAIL();
            }
        }
        if (!matched && n->additional_props_false) {
            report(v, "additionalProperties", "property \"%.200s\" is not allowed", key);
            FAIL();
        } else if (!matched && n->additional_props && !v_node(v, n->additional_props, val)) {
            FAIL();
        }
        ptr_pop(v, old);
    }
    return ok;
}

static bool v_node(struct vctx *v, const js_node *n, const json_t *j)
{
    if (v->aborted)
        return false;
    if (++v->steps > LV_JSONSCHEMA_MAX_STEPS)
        return abort_with(v, "validation needs more work than the limit allows");
    if (v->depth >= LV_JSONSCHEMA_MAX_EVAL_DEPTH)
        return abort_with(v, "validation goes deeper than the limit allows");
    while (n->ref)
        n = n->ref;
    v->depth++;
    /* Keywords return early in quiet mode with a child's segment still on
     * the pointer; it is restored here, once. */
    size_t saved_ptr = v->ptr.len;
    bool ok = true;
    char want[80];

#undef FAIL
#define FAIL()                                                                 \
    do {                                                                       \
        ok = false;                                                            \
        if (v->quiet || v->aborted)                                            \
            goto done;                                                         \
    } while (0)

    if (n->types && !type_ok(n->types, j)) {
        types_text(n->types, want, sizeof want);
        report(v, "type", "expected %s, got %s", want, type_name(j));
        FAIL();
    }
    if (n->enum_vals) {
        bool found = false;
        for (size_t i = 0; i < json_array_size(n->enum_vals) && !found; i++)
            found = js_json_equal(j, json_array_get(n->enum_vals, i));
        if (!found) {
            report(v, "enum", "value is not one of the %zu allowed by enum",
                   json_array_size(n->enum_vals));
            FAIL();
        }
    }
    if (json_is_number(j) && !v_number(v, n, j))
        FAIL();
    else if (json_is_string(j) && !v_string(v, n, j))
        FAIL();
    else if (json_is_array(j) && !v_array(v, n, j))
        FAIL();
    else if (json_is_object(j) && !v_object(v, n, j))
        FAIL();

    for (size_t i = 0; i < n->n_all_of; i++)
        if (!v_node(v, n->all_of[i], j))
            FAIL();
    if (n->n_any_of) {
        bool any = false;
        v->quiet++;
        for (size_t i = 0; i < n->n_any_of && !any && !v->aborted; i++)
            any = v_node(v, n->any_of[i], j);
        v->quiet--;
        if (!any && !v->aborted) {
            report(v, "anyOf", "value matches none of the %zu schemas of anyOf", n->n_any_of);
            FAIL();
        } else if (v->aborted) {
            FAIL();
        }
    }
    if (n->n_one_of) {
        size_t hits = 0;
        v->quiet++;
        for (size_t i = 0; i < n->n_one_of && hits < 2 && !v->aborted; i++)
            hits += v_node(v, n->one_of[i], j);
        v->quiet--;
        if (v->aborted) {
            FAIL();
        } else if (hits != 1) {
            report(v, "oneOf", "value matches %s of the %zu schemas of oneOf; exactly one must "
                   "match", hits ? "more than one" : "none", n->n_one_of);
            FAIL();
        }
    }
    if (n->not_) {
        v->quiet++;
        bool hit = v_node(v, n->not_, j);
        v->quiet--;
        if (v->aborted) {
            FAIL();
        } else if (hit) {
            report(v, "not", "value matches the schema of not");
            FAIL();
        }
    }
done:
    ptr_pop(v, saved_ptr);
    v->depth--;
    return ok && !v->aborted;
}

bool lv_jsonschema_validate_each(const lv_jsonschema *s, const json_t *doc,
                                 lv_jsonschema_violation_fn *fn, void *ud, size_t *count)
{
    struct vctx v = {.fn = fn, .ud = ud, .ptr = LV_BUF_INIT};
    v.ptr.max = 1 << 20;
    bool ok;
    if (doc == NULL) {
        v.aborted = "no document";
        ok = false;
    } else {
        ok = v_node(&v, s->root, doc);
    }
    if (v.aborted) {
        ok = false;
        v.quiet = 0;
        lv_buf_reset(&v.ptr);
        report(&v, "limit", "validation stopped: %s", v.aborted);
    }
    lv_buf_free(&v.ptr);
    if (count)
        *count = v.count;
    return ok;
}

static void append_line(void *ud, const char *pointer, const char *keyword, const char *reason)
{
    (void)keyword;
    lv_buf *b = ud;
    lv_buf_printf(b, "%s: %s\n", *pointer ? pointer : "(root)", reason);
}

bool lv_jsonschema_validate(const lv_jsonschema *s, const json_t *doc, lv_buf *details)
{
    size_t count = 0;
    bool ok = lv_jsonschema_validate_each(s, doc, details ? append_line : NULL, details, &count);
    if (details && count > LV_JSONSCHEMA_MAX_VIOLATIONS)
        lv_buf_printf(details, "(%zu more violations)\n",
                      count - LV_JSONSCHEMA_MAX_VIOLATIONS);
    return ok;
}
