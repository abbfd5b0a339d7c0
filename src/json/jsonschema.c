/* jsonschema.c - compiles a JSON Schema draft-4 document: checks every
 * keyword's form, compiles regular expressions, registers ids and links
 * $refs (JSON pointers and ids within the document, and the built-in
 * meta-schema). Validation itself is jsonschema_validate.c. */
#include "json/jsonschema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/jsonschema_int.h"

struct cctx {
    lv_jsonschema *s;
    lv_error *err;
    lv_buf path;          /* JSON pointer of the schema being compiled */
    js_node **pending;    /* $ref nodes not yet linked */
    size_t n_pending, cap_pending;
};

static lv_err fail(struct cctx *c, const char *fmt, const char *detail)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, detail ? detail : "");
    const char *at = c->path.len ? c->path.data : "(root)";
    return lv_error_set(c->err, LV_E_VALIDATION, "invalid JSON Schema: %s (at %s)", msg, at);
}

static lv_err nomem(struct cctx *c)
{
    return lv_error_set(c->err, LV_E_NOMEM, "out of memory compiling JSON Schema");
}

/* Appends "/seg" (escaped per RFC 6901) to the path; returns the old length. */
static size_t path_push(struct cctx *c, const char *seg)
{
    size_t old = c->path.len;
    lv_buf_putc(&c->path, '/');
    for (const char *p = seg; *p; p++) {
        if (*p == '~')
            lv_buf_puts(&c->path, "~0");
        else if (*p == '/')
            lv_buf_puts(&c->path, "~1");
        else
            lv_buf_putc(&c->path, *p);
    }
    return old;
}

static size_t path_push_index(struct cctx *c, size_t i)
{
    char n[24];
    snprintf(n, sizeof n, "%zu", i);
    return path_push(c, n);
}

static void path_pop(struct cctx *c, size_t old)
{
    c->path.len = old;
    if (c->path.data)
        c->path.data[old] = '\0';
}

/* --- json_t -> node map (open addressing on the pointer) --- */

static size_t ptr_hash(const json_t *j, size_t cap)
{
    uintptr_t v = (uintptr_t)j;
    v ^= v >> 17;
    v *= 0x9E3779B97F4A7C15ull;
    return (size_t)(v >> 7) & (cap - 1);
}

static js_node *seen_get(const lv_jsonschema *s, const json_t *j)
{
    if (s->cap_seen == 0)
        return NULL;
    for (size_t i = ptr_hash(j, s->cap_seen);; i = (i + 1) & (s->cap_seen - 1)) {
        if (s->seen_json[i] == NULL)
            return NULL;
        if (s->seen_json[i] == j)
            return s->seen_node[i];
    }
}

static bool seen_put(lv_jsonschema *s, const json_t *j, js_node *n)
{
    if ((s->n_seen + 1) * 2 > s->cap_seen) {
        size_t cap = s->cap_seen ? s->cap_seen * 2 : 64;
        const json_t **kj = calloc(cap, sizeof *kj);
        js_node **kn = calloc(cap, sizeof *kn);
        if (kj == NULL || kn == NULL) {
            free(kj);
            free(kn);
            return false;
        }
        for (size_t i = 0; i < s->cap_seen; i++) {
            if (s->seen_json[i] == NULL)
                continue;
            size_t k = ptr_hash(s->seen_json[i], cap);
            while (kj[k] != NULL)
                k = (k + 1) & (cap - 1);
            kj[k] = s->seen_json[i];
            kn[k] = s->seen_node[i];
        }
        free(s->seen_json);
        free(s->seen_node);
        s->seen_json = kj;
        s->seen_node = kn;
        s->cap_seen = cap;
    }
    size_t k = ptr_hash(j, s->cap_seen);
    while (s->seen_json[k] != NULL)
        k = (k + 1) & (s->cap_seen - 1);
    s->seen_json[k] = j;
    s->seen_node[k] = n;
    s->n_seen++;
    return true;
}

/* --- resources (ids and document roots) --- */

static js_node *resource_get(const lv_jsonschema *s, const char *uri)
{
    for (size_t i = 0; i < s->n_res; i++)
        if (strcmp(s->res[i].uri, uri) == 0)
            return s->res[i].node;
    return NULL;
}

/* Registers uri (its empty fragment dropped); the first registration wins. */
static bool resource_put(lv_jsonschema *s, const char *uri, js_node *n)
{
    size_t len = strlen(uri);
    if (len > 0 && uri[len - 1] == '#')
        len--;
    char *u = strndup(uri, len);
    if (u == NULL)
        return false;
    if (resource_get(s, u) != NULL) {
        free(u);
        return true;
    }
    if (s->n_res == s->cap_res) {
        size_t cap = s->cap_res ? s->cap_res * 2 : 8;
        struct js_resource *r = realloc(s->res, cap * sizeof *r);
        if (r == NULL) {
            free(u);
            return false;
        }
        s->res = r;
        s->cap_res = cap;
    }
    s->res[s->n_res].uri = u;
    s->res[s->n_res].node = n;
    s->n_res++;
    return true;
}

/* --- keyword readers --- */

static lv_err compile_node(struct cctx *c, const json_t *j, const char *base, int depth,
                           js_node **out);

static lv_err read_count(struct cctx *c, const json_t *j, const char *kw, int64_t *out)
{
    const json_t *v = json_object_get(j, kw);
    *out = -1;
    if (v == NULL)
        return LV_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fail(c, "%s must be a non-negative integer", kw);
    *out = json_integer_value(v);
    return LV_OK;
}

static lv_err read_bool(struct cctx *c, const json_t *j, const char *kw, bool *out)
{
    const json_t *v = json_object_get(j, kw);
    *out = false;
    if (v == NULL)
        return LV_OK;
    if (!json_is_boolean(v))
        return fail(c, "%s must be a boolean", kw);
    *out = json_is_true(v);
    return LV_OK;
}

static lv_err sub(struct cctx *c, const json_t *v, const char *base, int depth, const char *seg,
                  js_node **out)
{
    size_t old = path_push(c, seg);
    lv_err rc = compile_node(c, v, base, depth + 1, out);
    if (rc == LV_OK)
        path_pop(c, old);
    return rc;
}

/* An array of one or more schemas (allOf, anyOf, oneOf, items). */
static lv_err schema_array(struct cctx *c, const json_t *arr, const char *kw, const char *base,
                           int depth, js_node ***out, size_t *n)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(c, "%s must be a non-empty array of schemas", kw);
    size_t cnt = json_array_size(arr);
    js_node **v = calloc(cnt, sizeof *v);
    if (v == NULL)
        return nomem(c);
    *out = v;
    *n = cnt;
    size_t old = path_push(c, kw);
    for (size_t i = 0; i < cnt; i++) {
        size_t o2 = path_push_index(c, i);
        lv_err rc = compile_node(c, json_array_get(arr, i), base, depth + 1, &v[i]);
        if (rc != LV_OK)
            return rc;
        path_pop(c, o2);
    }
    path_pop(c, old);
    return LV_OK;
}

/* An array of one or more distinct strings (required, property dependencies). */
static lv_err string_set(struct cctx *c, const json_t *arr, const char *what)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(c, "%s must be a non-empty array of strings", what);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *a = json_array_get(arr, i);
        if (!json_is_string(a))
            return fail(c, "%s must be a non-empty array of strings", what);
        for (size_t k = 0; k < i && k < 1000; k++)
            if (json_equal(a, json_array_get(arr, k)))
                return fail(c, "%s must not repeat a name", what);
    }
    return LV_OK;
}

static lv_err read_type(struct cctx *c, const json_t *t, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"null", JS_T_NULL},     {"boolean", JS_T_BOOLEAN}, {"object", JS_T_OBJECT},
                 {"array", JS_T_ARRAY},   {"number", JS_T_NUMBER},   {"string", JS_T_STRING},
                 {"integer", JS_T_INTEGER}};
    *out = 0;
    size_t n = json_is_array(t) ? json_array_size(t) : 1;
    if (json_is_array(t) && n == 0)
        return fail(c, "type must be a type name or a non-empty array of them", NULL);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_is_array(t) ? json_array_get(t, i) : t;
        if (!json_is_string(e))
            return fail(c, "type must be a type name or a non-empty array of them", NULL);
        unsigned bit = 0;
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (strcmp(json_string_value(e), names[k].name) == 0)
                bit = names[k].bit;
        if (bit == 0)
            return fail(c, "unknown type \"%s\"", json_string_value(e));
        if (*out & bit)
            return fail(c, "type lists \"%s\" twice", json_string_value(e));
        *out |= bit;
    }
    return LV_OK;
}

static lv_err regex(struct cctx *c, const json_t *v, const char *what, js_regex **out)
{
    char why[200];
    if (!json_is_string(v))
        return fail(c, "%s must be a string", what);
    if (js_regex_compile(json_string_value(v), json_string_length(v), out, why, sizeof why) !=
        LV_OK) {
        if (*out == NULL && strcmp(why, "out of memory") == 0)
            return nomem(c);
        char msg[300];
        snprintf(msg, sizeof msg, "%s is not a valid ECMA-262 regular expression: %s", what, why);
        return fail(c, "%s", msg);
    }
    return LV_OK;
}

static lv_err numbers(struct cctx *c, const json_t *j, js_node *n)
{
    n->minimum = json_object_get(j, "minimum");
    n->maximum = json_object_get(j, "maximum");
    n->multiple_of = json_object_get(j, "multipleOf");
    if (n->minimum && !json_is_number(n->minimum))
        return fail(c, "minimum must be a number", NULL);
    if (n->maximum && !json_is_number(n->maximum))
        return fail(c, "maximum must be a number", NULL);
    if (n->multiple_of && (!json_is_number(n->multiple_of) || json_number_value(n->multiple_of) <= 0))
        return fail(c, "multipleOf must be a number greater than 0", NULL);
    lv_err rc = read_bool(c, j, "exclusiveMinimum", &n->excl_min);
    if (rc == LV_OK)
        rc = read_bool(c, j, "exclusiveMaximum", &n->excl_max);
    if (rc != LV_OK)
        return rc;
    if (json_object_get(j, "exclusiveMinimum") && n->minimum == NULL)
        return fail(c, "exclusiveMinimum needs minimum", NULL);
    if (json_object_get(j, "exclusiveMaximum") && n->maximum == NULL)
        return fail(c, "exclusiveMaximum needs maximum", NULL);
    return LV_OK;
}

static lv_err strings(struct cctx *c, const json_t *j, js_node *n)
{
    lv_err rc = read_count(c, j, "minLength", &n->min_len);
    if (rc == LV_OK)
        rc = read_count(c, j, "maxLength", &n->max_len);
    if (rc != LV_OK)
        return rc;
    const json_t *p = json_object_get(j, "pattern");
    if (p != NULL) {
        size_t old = path_push(c, "pattern");
        if ((rc = regex(c, p, "pattern", &n->pattern)) != LV_OK)
            return rc;
        path_pop(c, old);
        n->pattern_src = json_string_value(p);
    }
    const json_t *f = json_object_get(j, "format");
    if (f != NULL) {
        if (!json_is_string(f))
            return fail(c, "format must be a string", NULL);
        n->format = js_format_lookup(json_string_value(f));
    }
    return LV_OK;
}

static lv_err arrays(struct cctx *c, const json_t *j, const char *base, int depth, js_node *n)
{
    lv_err rc;
    const json_t *items = json_object_get(j, "items");
    if (json_is_array(items)) {
        n->items_tuple = true;
        if ((rc = schema_array(c, items, "items", base, depth, &n->items_arr, &n->n_items)) != LV_OK)
            return rc;
    } else if (items != NULL) {
        if ((rc = sub(c, items, base, depth, "items", &n->items)) != LV_OK)
            return rc;
    }
    const json_t *ai = json_object_get(j, "additionalItems");
    if (json_is_boolean(ai))
        n->additional_items_false = json_is_false(ai);
    else if (ai != NULL && (rc = sub(c, ai, base, depth, "additionalItems", &n->additional_items)) != LV_OK)
        return rc;
    if ((rc = read_count(c, j, "minItems", &n->min_items)) != LV_OK ||
        (rc = read_count(c, j, "maxItems", &n->max_items)) != LV_OK)
        return rc;
    return read_bool(c, j, "uniqueItems", &n->unique_items);
}

/* properties, patternProperties, definitions: an object of schemas. */
static lv_err schema_map(struct cctx *c, const json_t *obj, const char *kw, const char *base,
                         int depth, struct js_prop **out, size_t *n)
{
    if (!json_is_object(obj))
        return fail(c, "%s must be an object of schemas", kw);
    struct js_prop *v = calloc(json_object_size(obj) + 1, sizeof *v);
    if (v == NULL)
        return nomem(c);
    *out = v;
    *n = 0;
    size_t old = path_push(c, kw);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        size_t o2 = path_push(c, key);
        v[*n].key = key;
        lv_err rc = compile_node(c, val, base, depth + 1, &v[*n].node);
        (*n)++;
        if (rc != LV_OK)
            return rc;
        path_pop(c, o2);
    }
    path_pop(c, old);
    return LV_OK;
}

static lv_err objects(struct cctx *c, const json_t *j, const char *base, int depth, js_node *n)
{
    lv_err rc;
    if ((rc = read_count(c, j, "minProperties", &n->min_props)) != LV_OK ||
        (rc = read_count(c, j, "maxProperties", &n->max_props)) != LV_OK)
        return rc;
    n->required = json_object_get(j, "required");
    if (n->required != NULL && (rc = string_set(c, n->required, "required")) != LV_OK)
        return rc;
    const json_t *props = json_object_get(j, "properties");
    if (props && (rc = schema_map(c, props, "properties", base, depth, &n->props, &n->n_props)) != LV_OK)
        return rc;
    const json_t *pp = json_object_get(j, "patternProperties");
    if (pp != NULL) {
        struct js_prop *tmp = NULL;
        size_t cnt = 0;
        rc = schema_map(c, pp, "patternProperties", base, depth, &tmp, &cnt);
        if (rc == LV_OK) {
            n->pprops = calloc(cnt + 1, sizeof *n->pprops);
            if (n->pprops == NULL)
                rc = nomem(c);
        }
        for (size_t i = 0; rc == LV_OK && i < cnt; i++) {
            json_t *key = json_string(tmp[i].key);
            size_t o1 = path_push(c, "patternProperties");
            size_t o2 = path_push(c, tmp[i].key);
            rc = key ? regex(c, key, "a patternProperties name", &n->pprops[i].re) : nomem(c);
            json_decref(key);
            if (rc == LV_OK) {
                path_pop(c, o2);
                path_pop(c, o1);
                n->pprops[i].source = tmp[i].key;
                n->pprops[i].node = tmp[i].node;
                n->n_pprops++;
            }
        }
        free(tmp);
        if (rc != LV_OK)
            return rc;
    }
    const json_t *ap = json_object_get(j, "additionalProperties");
    if (json_is_boolean(ap))
        n->additional_props_false = json_is_false(ap);
    else if (ap != NULL &&
             (rc = sub(c, ap, base, depth, "additionalProperties", &n->additional_props)) != LV_OK)
        return rc;

    const json_t *deps = json_object_get(j, "dependencies");
    if (deps == NULL)
        return LV_OK;
    if (!json_is_object(deps))
        return fail(c, "dependencies must be an object", NULL);
    n->deps = calloc(json_object_size(deps) + 1, sizeof *n->deps);
    if (n->deps == NULL)
        return nomem(c);
    size_t old = path_push(c, "dependencies");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)deps, key, val) {
        struct js_dep *d = &n->deps[n->n_deps++];
        d->key = key;
        size_t o2 = path_push(c, key);
        if (json_is_array(val)) {
            d->names = val;
            rc = string_set(c, val, "a property dependency");
        } else if (json_is_object(val)) {
            rc = compile_node(c, val, base, depth + 1, &d->node);
        } else {
            rc = fail(c, "a dependency must be a schema or an array of property names", NULL);
        }
        if (rc != LV_OK)
            return rc;
        path_pop(c, o2);
    }
    path_pop(c, old);
    return LV_OK;
}

static lv_err combinators(struct cctx *c, const json_t *j, const char *base, int depth, js_node *n)
{
    lv_err rc = LV_OK;
    const json_t *v;
    if ((v = json_object_get(j, "allOf")) &&
        (rc = schema_array(c, v, "allOf", base, depth, &n->all_of, &n->n_all_of)) != LV_OK)
        return rc;
    if ((v = json_object_get(j, "anyOf")) &&
        (rc = schema_array(c, v, "anyOf", base, depth, &n->any_of, &n->n_any_of)) != LV_OK)
        return rc;
    if ((v = json_object_get(j, "oneOf")) &&
        (rc = schema_array(c, v, "oneOf", base, depth, &n->one_of, &n->n_one_of)) != LV_OK)
        return rc;
    if ((v = json_object_get(j, "not")) && (rc = sub(c, v, base, depth, "not", &n->not_)) != LV_OK)
        return rc;
    if ((v = json_object_get(j, "definitions"))) {
        struct js_prop *defs = NULL;
        size_t cnt = 0;
        rc = schema_map(c, v, "definitions", base, depth, &defs, &cnt);
        free(defs);
    }
    return rc;
}

static lv_err compile_node(struct cctx *c, const json_t *j, const char *base, int depth,
                           js_node **out)
{
    lv_jsonschema *s = c->s;
    *out = NULL;
    if (!json_is_object(j))
        return fail(c, "a schema must be an object", NULL);
    if ((*out = seen_get(s, j)) != NULL)
        return LV_OK;
    if (depth > LV_JSONSCHEMA_MAX_DEPTH)
        return fail(c, "schemas are nested too deeply (the limit is %s levels)", "128");
    if (s->n_nodes >= LV_JSONSCHEMA_MAX_NODES)
        return fail(c, "the schema has too many subschemas (the limit is %s)", "20000");

    js_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return nomem(c);
    n->next_alloc = s->nodes;
    s->nodes = n;
    s->n_nodes++;
    n->json = j;
    n->min_len = n->max_len = n->min_items = n->max_items = n->min_props = n->max_props = -1;
    if (!seen_put(s, j, n))
        return nomem(c);
    *out = n;

    const json_t *ref = json_object_get(j, "$ref");
    if (json_is_string(ref)) {
        /* A JSON Reference: its other members are ignored (draft 4). */
        n->base = strdup(base);
        n->ref_uri = js_uri_resolve(base, json_string_value(ref));
        if (n->base == NULL || n->ref_uri == NULL)
            return nomem(c);
        if (c->n_pending == c->cap_pending) {
            size_t cap = c->cap_pending ? c->cap_pending * 2 : 16;
            js_node **p = realloc(c->pending, cap * sizeof *p);
            if (p == NULL)
                return nomem(c);
            c->pending = p;
            c->cap_pending = cap;
        }
        c->pending[c->n_pending++] = n;
        return LV_OK;
    }

    const json_t *id = json_object_get(j, "id");
    if (id != NULL && !json_is_string(id))
        return fail(c, "id must be a string", NULL);
    n->base = id ? js_uri_resolve(base, json_string_value(id)) : strdup(base);
    if (n->base == NULL)
        return nomem(c);
    if (id != NULL && !resource_put(s, n->base, n))
        return nomem(c);
    /* Children resolve against the id without its fragment. */
    char *hash = strchr(n->base, '#');
    char *child_base = hash ? strndup(n->base, (size_t)(hash - n->base)) : strdup(n->base);
    if (child_base == NULL)
        return nomem(c);

    lv_err rc;
    const json_t *t = json_object_get(j, "type");
    const json_t *e = json_object_get(j, "enum");
    if (t != NULL && (rc = read_type(c, t, &n->types)) != LV_OK)
        goto out;
    if (e != NULL) {
        if (!json_is_array(e) || json_array_size(e) == 0) {
            rc = fail(c, "enum must be a non-empty array", NULL);
            goto out;
        }
        n->enum_vals = e;
    }
    if ((rc = numbers(c, j, n)) != LV_OK || (rc = strings(c, j, n)) != LV_OK ||
        (rc = arrays(c, j, child_base, depth, n)) != LV_OK ||
        (rc = objects(c, j, child_base, depth, n)) != LV_OK)
        goto out;
    rc = combinators(c, j, child_base, depth, n);
out:
    free(child_base);
    return rc;
}

/* --- $ref linking --- */

/* Decodes %XX escapes of a URI fragment in place. */
static void percent_decode(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '%' && strchr("0123456789abcdefABCDEF", r[1]) && r[1] &&
            strchr("0123456789abcdefABCDEF", r[2]) && r[2]) {
            char hex[3] = {r[1], r[2], 0};
            *w++ = (char)strtol(hex, NULL, 16);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static lv_err load_meta(struct cctx *c)
{
    json_error_t jerr;
    c->s->meta = json_loads(js_meta_schema_text, 0, &jerr);
    if (c->s->meta == NULL)
        return lv_error_set(c->err, LV_E_INTERNAL, "built-in meta-schema: %s", jerr.text);
    js_node *n;
    return compile_node(c, c->s->meta, JS_META_SCHEMA_URI, 0, &n);
}

/* Walks the JSON pointer ptr (already percent-decoded) from the schema of
 * node root, tracking ids on the way, and compiles what it reaches. */
static lv_err follow_pointer(struct cctx *c, js_node *root, char *ptr, js_node **out)
{
    const json_t *cur = root->json;
    char *base = strdup(root->base);
    if (base == NULL)
        return nomem(c);
    char *h = strchr(base, '#');
    if (h)
        *h = '\0';
    char *p = ptr;
    while (*p == '/') {
        p++;
        char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char seg[1024];
        size_t k = 0;
        if (len >= sizeof seg) {
            free(base);
            return fail(c, "$ref \"%s\" has a pointer segment too long", ptr);
        }
        for (size_t i = 0; i < len; i++) {
            if (p[i] == '~' && i + 1 < len && (p[i + 1] == '0' || p[i + 1] == '1')) {
                seg[k++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                seg[k++] = p[i];
            }
        }
        seg[k] = '\0';
        const json_t *next = NULL;
        if (json_is_object(cur)) {
            next = json_object_get(cur, seg);
        } else if (json_is_array(cur)) {
            char *e = NULL;
            unsigned long idx = strtoul(seg, &e, 10);
            if (k > 0 && *e == '\0' && seg[0] != '-' && (seg[0] != '0' || k == 1))
                next = json_array_get(cur, idx);
        }
        if (next == NULL) {
            free(base);
            return fail(c, "$ref \"%s\" points to nothing", ptr);
        }
        cur = next;
        const json_t *id = json_object_get(cur, "id");
        if (json_is_object(cur) && json_is_string(id)) {
            char *nb = js_uri_resolve(base, json_string_value(id));
            free(base);
            if (nb == NULL)
                return nomem(c);
            base = nb;
            if ((h = strchr(base, '#')) != NULL)
                *h = '\0';
        }
        p += len;
    }
    if (!json_is_object(cur)) {
        free(base);
        return fail(c, "$ref \"%s\" does not point to a schema", ptr);
    }
    lv_buf_reset(&c->path);
    lv_buf_puts(&c->path, ptr);
    lv_err rc = compile_node(c, cur, base, 1, out);
    free(base);
    return rc;
}

static lv_err link_ref(struct cctx *c, js_node *n)
{
    char *uri = strdup(n->ref_uri);
    if (uri == NULL)
        return nomem(c);
    char *frag = strchr(uri, '#');
    if (frag)
        *frag++ = '\0';
    lv_err rc = LV_OK;
    js_node *doc = resource_get(c->s, uri);
    if (doc == NULL && strcmp(uri, JS_META_SCHEMA_URI) == 0 && c->s->meta == NULL) {
        if ((rc = load_meta(c)) != LV_OK)
            goto out;
        doc = resource_get(c->s, uri);
    }
    if (frag != NULL && *frag != '\0' && *frag != '/') {
        /* A location-independent id such as "#foo". */
        frag[-1] = '#';
        n->ref = resource_get(c->s, uri);
        if (n->ref == NULL)
            rc = fail(c, "$ref \"%s\" names no id in this schema", n->ref_uri);
        goto out;
    }
    if (doc == NULL) {
        rc = fail(c, "$ref \"%s\" is not in this schema (references to other documents are "
                     "not fetched)",
                  n->ref_uri);
        goto out;
    }
    if (frag == NULL || *frag == '\0') {
        n->ref = doc;
        goto out;
    }
    percent_decode(frag);
    rc = follow_pointer(c, doc, frag, &n->ref);
out:
    free(uri);
    return rc;
}

static lv_err link_all(struct cctx *c)
{
    while (c->n_pending > 0) {
        js_node *n = c->pending[--c->n_pending];
        lv_err rc = link_ref(c, n);
        if (rc != LV_OK)
            return rc;
    }
    /* A chain of $refs that never reaches a schema would validate forever. */
    for (js_node *n = c->s->nodes; n; n = n->next_alloc) {
        size_t hops = 0;
        for (js_node *m = n; m->ref; m = m->ref)
            if (++hops > c->s->n_nodes) {
                lv_buf_reset(&c->path);
                return fail(c, "$ref \"%s\" is circular", n->ref_uri);
            }
    }
    return LV_OK;
}

lv_err lv_jsonschema_compile(const json_t *schema, lv_jsonschema **out, lv_error *err)
{
    *out = NULL;
    if (schema == NULL)
        return lv_error_set(err, LV_E_VALIDATION, "invalid JSON Schema: no schema");
    lv_jsonschema *s = calloc(1, sizeof *s);
    if (s == NULL || (s->doc = json_deep_copy(schema)) == NULL) {
        free(s);
        return lv_error_set(err, LV_E_NOMEM, "out of memory compiling JSON Schema");
    }
    struct cctx c = {.s = s, .err = err, .path = LV_BUF_INIT};
    c.path.max = 1 << 16;
    lv_err rc;
    if (!json_is_object(s->doc)) {
        rc = fail(&c, "a schema must be an object", NULL);
    } else {
        const json_t *id = json_object_get(s->doc, "id");
        char *base = json_is_string(id) ? js_uri_resolve("", json_string_value(id)) : strdup("");
        if (base == NULL) {
            rc = nomem(&c);
        } else {
            rc = compile_node(&c, s->doc, "", 0, &s->root);
            if (rc == LV_OK && !resource_put(s, "", s->root))
                rc = nomem(&c);
            if (rc == LV_OK && !resource_put(s, base, s->root))
                rc = nomem(&c);
            free(base);
        }
        if (rc == LV_OK)
            rc = link_all(&c);
    }
    lv_buf_free(&c.path);
    free(c.pending);
    if (rc != LV_OK) {
        lv_jsonschema_free(s);
        return rc;
    }
    *out = s;
    return LV_OK;
}

static void free_node(js_node *n)
{
    free(n->base);
    free(n->ref_uri);
    js_regex_free(n->pattern);
    free(n->items_arr);
    free(n->props);
    for (size_t i = 0; i < n->n_pprops; i++)
        js_regex_free(n->pprops[i].re);
    free(n->pprops);
    free(n->deps);
    free(n->all_of);
    free(n->any_of);
    free(n->one_of);
    free(n);
}

void lv_jsonschema_free(lv_jsonschema *s)
{
    if (s == NULL)
        return;
    for (js_node *n = s->nodes, *next; n; n = next) {
        next = n->next_alloc;
        free_node(n);
    }
    for (size_t i = 0; i < s->n_res; i++)
        free(s->res[i].uri);
    free(s->res);
    free(s->seen_json);
    free(s->seen_node);
    json_decref(s->doc);
    json_decref(s->meta);
    free(s);
}
