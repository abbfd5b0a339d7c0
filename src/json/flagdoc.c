/* flagdoc.c - compiling a feature flag document (validation through
 * flagdoc_check.c, variant rules parsed once), evaluating one flag for a
 * context, and the simplified form served to applications. */
#include "json/flagdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/flagdoc_int.h"

typedef struct fd_variant {
    const char *name;     /* borrowed from doc */
    bool enabled;
    lv_flagrule *rule;    /* owned; NULL for the default variant */
    const json_t *attrs;  /* borrowed from doc; NULL when none */
    char *text, *text_v;  /* owned: its served object as JSON, without and with "_variant" */
    char *ofrep;          /* owned: the end of its OFREP evaluation (see lv_flag_result) */
} fd_variant;

typedef struct fd_flag {
    const char *key;      /* borrowed from doc */
    char *seed;           /* "flag:<key>", owned */
    bool enabled;
    json_t *attrs;        /* owned: the attribute values of values.<key> */
    fd_variant *variants; /* owned; NULL for a flag without variants */
    size_t nvariants;
    char *text;           /* owned: a flag without variants, served, as JSON */
    char *ofrep;          /* owned: the end of its OFREP evaluation */
} fd_flag;

struct lv_flagdoc {
    json_t *doc;          /* owned copy */
    fd_flag *flags;       /* document order */
    size_t n;
    struct fd_index {
        const char *key;
        size_t idx;
    } *sorted;            /* by key, for lookups */
};

static const char *const VALUE_META[] = {"enabled", "_createdAt", "_updatedAt", "_variants", NULL};

const char *lv_flag_reason_name(lv_flag_reason r)
{
    switch (r) {
    case LV_FLAG_STATIC: return "STATIC";
    case LV_FLAG_DISABLED: return "DISABLED";
    case LV_FLAG_TARGETING_MATCH: return "TARGETING_MATCH";
    case LV_FLAG_SPLIT: return "SPLIT";
    case LV_FLAG_DEFAULT: return "DEFAULT";
    case LV_FLAG_ERROR: return "ERROR";
    }
    return "UNKNOWN";
}

void lv_flagdoc_free(lv_flagdoc *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++) {
        fd_flag *f = &d->flags[i];
        free(f->seed);
        json_decref(f->attrs);
        free(f->text);
        free(f->ofrep);
        for (size_t v = 0; v < f->nvariants; v++) {
            free(f->variants[v].ofrep);
            lv_flagrule_free(f->variants[v].rule);
            free(f->variants[v].text);
            free(f->variants[v].text_v);
        }
        free(f->variants);
    }
    free(d->flags);
    free(d->sorted);
    json_decref(d->doc);
    free(d);
}

/* The variants of one flag: keys, names (unique), rules (parse), values,
 * and one default variant, last. */
static void compile_variants(fd_check *c, fd_flag *f, const char *where, const json_t *arr,
                             const json_t *attr_defs)
{
    char p[600];
    if (!json_is_array(arr)) {
        fd_violation(c, where, "must be an array");
        return;
    }
    size_t n = json_array_size(arr);
    if (n > LV_FLAGDOC_MAX_VARIANTS) {
        fd_violation(c, where, "a flag has at most 32 variants");
        return;
    }
    if (n == 0) {
        fd_violation(c, where, "needs at least the default variant");
        return;
    }
    f->variants = calloc(n, sizeof *f->variants);
    if (f->variants == NULL) {
        c->nomem = true;
        return;
    }
    f->nvariants = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *var = json_array_get(arr, i);
        fd_path(p, sizeof p, "%s/%zu", where, i);
        if (!json_is_object(var)) {
            fd_violation(c, p, "must be an object");
            continue;
        }
        fd_check_variant_common(c, p, var);
        fd_variant *fv = &f->variants[i];
        fv->name = json_string_value(json_object_get(var, "name"));
        fv->enabled = json_is_true(json_object_get(var, "enabled"));
        for (size_t j = 0; fv->name && j < i; j++)
            if (f->variants[j].name && strcmp(f->variants[j].name, fv->name) == 0) {
                char q[620];
                fd_path(q, sizeof q, "%s/name", p);
                fd_violation(c, q, "another variant of this flag is named \"%.64s\"", fv->name);
            }
        const json_t *rule = json_object_get(var, "rule");
        char q[620];
        fd_path(q, sizeof q, "%s/rule", p);
        if (rule == NULL) {
            if (i + 1 != n)
                fd_violation(c, p, "only the last variant, the default, has no rule");
        } else if (!json_is_string(rule)) {
            fd_violation(c, q, "must be a string");
        } else if (i + 1 == n) {
            fd_violation(c, q, "the last variant is the default and has no rule");
        } else {
            lv_error e;
            lv_err rc = lv_flagrule_parse(json_string_value(rule), json_string_length(rule), &fv->rule, &e);
            if (rc == LV_E_NOMEM)
                c->nomem = true;
            else if (rc != LV_OK)
                fd_violation(c, q, "%s", e.msg);
        }
        const json_t *av = json_object_get(var, "attributeValues");
        fd_path(q, sizeof q, "%s/attributeValues", p);
        if (av != NULL && !json_is_object(av)) {
            fd_violation(c, q, "must be an object");
        } else {
            json_t *empty = av ? NULL : json_object();
            fd_check_attr_values(c, q, av ? av : empty, attr_defs, NULL);
            json_decref(empty);
            fv->attrs = av;
        }
    }
}

static void compile_value(fd_check *c, fd_flag *f, const json_t *val, const json_t *attr_defs)
{
    char where[512], p[600];
    fd_path(where, sizeof where, "/values/%s", f->key);
    if (!json_is_object(val)) {
        fd_violation(c, where, "must be an object");
        return;
    }
    const json_t *en = json_object_get(val, "enabled");
    if (en && !json_is_boolean(en)) {
        fd_path(p, sizeof p, "%s/enabled", where);
        fd_violation(c, p, "must be true or false");
    }
    f->enabled = json_is_true(en);
    static const char *const stamps[] = {"_createdAt", "_updatedAt"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *s = json_object_get(val, stamps[i]);
        if (s && !json_is_string(s)) {
            fd_path(p, sizeof p, "%s/%s", where, stamps[i]);
            fd_violation(c, p, "must be a string");
        }
    }
    const json_t *vars = json_object_get(val, "_variants");
    if (vars) {
        fd_path(p, sizeof p, "%s/_variants", where);
        compile_variants(c, f, p, vars, attr_defs);
        /* Attribute values beside _variants are checked but never served. */
        const char *k;
        json_t *v;
        bool any = false;
        json_object_foreach((json_t *)val, k, v) {
            bool meta = false;
            for (const char *const *m = VALUE_META; *m; m++)
                if (strcmp(*m, k) == 0)
                    meta = true;
            any |= !meta;
        }
        if (any)
            fd_check_attr_values(c, where, val, attr_defs, VALUE_META);
        return;
    }
    fd_check_attr_values(c, where, val, attr_defs, VALUE_META);
    f->attrs = json_object();
    if (f->attrs == NULL) {
        c->nomem = true;
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)val, k, v) {
        bool meta = false;
        for (const char *const *m = VALUE_META; *m; m++)
            if (strcmp(*m, k) == 0)
                meta = true;
        if (!meta && json_object_set(f->attrs, k, v) != 0)
            c->nomem = true;
    }
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct fd_index *)a)->key, ((const struct fd_index *)b)->key);
}

static lv_err finish(fd_check *c, lv_error *err)
{
    if (c->nomem)
        return lv_error_set(err, LV_E_NOMEM, "out of memory validating a feature flag document");
    if (c->count == 0)
        return LV_OK;
    if (c->details && c->count > LV_FLAGDOC_MAX_DETAILS &&
        lv_buf_printf(c->details, "... and %zu more\n", c->count - LV_FLAGDOC_MAX_DETAILS) != LV_OK)
        return lv_error_set(err, LV_E_NOMEM, "out of memory validating a feature flag document");
    return lv_error_set(err, LV_E_VALIDATION, "Invalid feature flag document: %s", c->first);
}

/* The served object of one outcome as JSON text (what json_dumps of
 * lv_flag_result_value gives), made once per flag and variant so serving
 * writes bytes instead of building and dumping a tree per request. */
static char *render_text(bool enabled, const json_t *attrs, const char *variant)
{
    lv_flag_result r;
    memset(&r, 0, sizeof r);
    r.enabled = enabled;
    r.attributes = json_object_size(attrs) ? attrs : NULL;
    r.variant = variant;
    json_t *o = lv_flag_result_value(&r, variant != NULL);
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return t;
}

/* The end of an OFREP evaluation of one outcome: '"variant":"name",'
 * (with a variant) then '"metadata":{...}}', the attributes as OFREP
 * metadata (strings, numbers and booleans as they are, anything else as
 * its JSON text), whether the flag is enabled or not. */
static char *render_ofrep(const json_t *attrs, const char *variant)
{
    json_t *o = json_object(), *m = json_object();
    bool ok = o != NULL && m != NULL && (variant == NULL || json_object_set_new(o, "variant", json_string(variant)) == 0);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)attrs, k, v) {
        if (!ok)
            break;
        json_t *mv;
        if (json_is_string(v) || json_is_number(v) || json_is_boolean(v)) {
            mv = json_incref(v);
        } else {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            mv = t ? json_string(t) : NULL;
            free(t);
        }
        ok = mv != NULL && json_object_set_new(m, k, mv) == 0;
    }
    ok = ok && json_object_set_new(o, "metadata", m) == 0;
    if (!ok)
        json_decref(m);
    char *t = ok ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (t != NULL)
        memmove(t, t + 1, strlen(t)); /* without its '{': it follows "reason" */
    return t;
}

static bool render_texts(lv_flagdoc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        fd_flag *f = &d->flags[i];
        if (f->variants == NULL && ((f->text = render_text(f->enabled, f->attrs, NULL)) == NULL ||
                                    (f->ofrep = render_ofrep(f->attrs, NULL)) == NULL))
            return false;
        for (size_t v = 0; v < f->nvariants; v++) {
            fd_variant *x = &f->variants[v];
            if ((x->text = render_text(x->enabled, x->attrs, NULL)) == NULL ||
                (x->text_v = render_text(x->enabled, x->attrs, x->name)) == NULL ||
                (x->ofrep = render_ofrep(x->attrs, x->name)) == NULL)
                return false;
        }
    }
    return true;
}

lv_err lv_flagdoc_compile(const json_t *doc, lv_flagdoc **out, lv_buf *details, lv_error *err)
{
    *out = NULL;
    fd_check c = {details, 0, false, {0}};
    if (!json_is_object(doc)) {
        fd_violation(&c, "/", "a feature flag document is a JSON object");
        return finish(&c, err);
    }
    lv_flagdoc *d = calloc(1, sizeof *d);
    if (d == NULL || (d->doc = json_deep_copy(doc)) == NULL) {
        free(d);
        return lv_error_set(err, LV_E_NOMEM, "out of memory compiling a feature flag document");
    }
    const json_t *top = d->doc;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)top, k, v) {
        if (strcmp(k, "version") && strcmp(k, "flags") && strcmp(k, "values")) {
            char p[512];
            fd_path(p, sizeof p, "/%s", k);
            fd_violation(&c, p, "is not allowed here (a document has version, flags and values)");
        }
    }
    const json_t *ver = json_object_get(top, "version");
    if (ver == NULL)
        fd_violation(&c, "/version", "is required");
    else if (!(json_is_string(ver) && strcmp(json_string_value(ver), "1") == 0))
        fd_violation(&c, "/version", "must be \"1\"");
    const json_t *flags = json_object_get(top, "flags"), *values = json_object_get(top, "values");
    if (flags && !json_is_object(flags)) {
        fd_violation(&c, "/flags", "must be an object");
        flags = NULL;
    }
    if (values && !json_is_object(values)) {
        fd_violation(&c, "/values", "must be an object");
        values = NULL;
    }
    size_t nflags = flags ? json_object_size(flags) : 0;
    d->flags = calloc(nflags ? nflags : 1, sizeof *d->flags);
    d->sorted = calloc(nflags ? nflags : 1, sizeof *d->sorted);
    if (d->flags == NULL || d->sorted == NULL)
        c.nomem = true;
    if (flags && !c.nomem) {
        json_object_foreach((json_t *)flags, k, v) {
            fd_check_flag_def(&c, k, v);
            fd_flag *f = &d->flags[d->n++];
            f->key = k;
            size_t sl = strlen(k) + 6;
            f->seed = malloc(sl);
            if (f->seed == NULL) {
                c.nomem = true;
                break;
            }
            snprintf(f->seed, sl, "flag:%s", k);
        }
    }
    if (values) {
        json_object_foreach((json_t *)values, k, v) {
            char p[512];
            fd_path(p, sizeof p, "/values/%s", k);
            if (!fd_valid_key(k)) {
                fd_violation(&c, p, "flag keys match ^[a-z][a-zA-Z\\d_-]{0,63}$");
                continue;
            }
            fd_flag *f = NULL;
            for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->flags[i].key, k) == 0)
                    f = &d->flags[i];
            if (f == NULL) {
                fd_violation(&c, p, "has a value but /flags does not define \"%s\"", k);
                continue;
            }
            const json_t *def = json_object_get(flags, k);
            const json_t *attr_defs = json_is_object(def) ? json_object_get(def, "attributes") : NULL;
            json_t *empty = json_is_object(attr_defs) ? NULL : json_object();
            compile_value(&c, f, v, empty ? empty : attr_defs);
            json_decref(empty);
            if (c.nomem)
                break;
        }
    }
    lv_err rc = finish(&c, err);
    if (rc != LV_OK) {
        lv_flagdoc_free(d);
        return rc;
    }
    for (size_t i = 0; i < d->n; i++) {
        d->sorted[i].key = d->flags[i].key;
        d->sorted[i].idx = i;
    }
    qsort(d->sorted, d->n, sizeof *d->sorted, by_key);
    if (!render_texts(d)) {
        lv_flagdoc_free(d);
        return lv_error_set(err, LV_E_NOMEM, "out of memory compiling a feature flag document");
    }
    *out = d;
    return LV_OK;
}

lv_err lv_flagdoc_validate(const json_t *doc, lv_buf *details, lv_error *err)
{
    lv_flagdoc *d = NULL;
    lv_err rc = lv_flagdoc_compile(doc, &d, details, err);
    lv_flagdoc_free(d);
    return rc;
}

lv_err lv_flagdoc_parse(const char *text, size_t len, lv_flagdoc **out, lv_buf *details,
                        lv_error *err)
{
    *out = NULL;
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        if (details)
            (void)lv_buf_printf(details, "/: not valid JSON: %s (line %d, column %d)\n", je.text,
                                je.line, je.column);
        return lv_error_set(err, LV_E_VALIDATION,
                            "Invalid feature flag document: not valid JSON: %s (line %d, column %d)",
                            je.text, je.line, je.column);
    }
    lv_err rc = lv_flagdoc_compile(doc, out, details, err);
    json_decref(doc);
    return rc;
}

size_t lv_flagdoc_count(const lv_flagdoc *d)
{
    return d ? d->n : 0;
}

const char *lv_flagdoc_key(const lv_flagdoc *d, size_t i)
{
    return d && i < d->n ? d->flags[i].key : NULL;
}

static const fd_flag *find(const lv_flagdoc *d, const char *key)
{
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const fd_flag *f = &d->flags[d->sorted[mid].idx];
        int c = strcmp(key, f->key);
        if (c == 0)
            return f;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

bool lv_flagdoc_has_variants(const lv_flagdoc *d, const char *flag)
{
    const fd_flag *f = d && flag ? find(d, flag) : NULL;
    return f && f->variants;
}

void lv_flagdoc_eval(const lv_flagdoc *d, const char *flag, const lv_flag_context *ctx,
                     lv_flag_result *out)
{
    memset(out, 0, sizeof *out);
    const fd_flag *f = d && flag ? find(d, flag) : NULL;
    if (f == NULL) {
        out->reason = LV_FLAG_ERROR;
        out->error_code = "FLAG_NOT_FOUND";
        return;
    }
    if (f->variants == NULL) {
        out->enabled = f->enabled;
        out->attributes = json_object_size(f->attrs) ? f->attrs : NULL;
        out->reason = f->enabled ? LV_FLAG_STATIC : LV_FLAG_DISABLED;
        out->text = out->text_v = f->text;
        out->ofrep = f->ofrep;
        return;
    }
    const fd_variant *def = &f->variants[f->nvariants - 1];
    const fd_variant *chosen = def;
    out->reason = LV_FLAG_DEFAULT;
    if (ctx != NULL) {
        lv_flagrule_memo memo = LV_FLAGRULE_MEMO_INIT;
        for (size_t i = 0; i + 1 < f->nvariants; i++) {
            const fd_variant *v = &f->variants[i];
            bool m = false, split = false;
            lv_error e;
            if (lv_flagrule_eval(v->rule, ctx, f->seed, &memo, &m, &split, &e) != LV_OK) {
                out->reason = LV_FLAG_ERROR;
                out->error_code = "GENERAL";
                break;
            }
            if (m) {
                chosen = v;
                out->reason = split ? LV_FLAG_SPLIT : LV_FLAG_TARGETING_MATCH;
                break;
            }
        }
    }
    out->variant = chosen->name;
    out->enabled = chosen->enabled;
    out->attributes = json_object_size(chosen->attrs) ? chosen->attrs : NULL;
    out->text = chosen->text;
    out->text_v = chosen->text_v;
    out->ofrep = chosen->ofrep;
}

json_t *lv_flag_result_value(const lv_flag_result *r, bool with_variant)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    bool ok = json_object_set_new(o, "enabled", json_boolean(r->enabled)) == 0;
    if (ok && r->enabled && r->attributes) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)r->attributes, k, v) {
            /* Copies, so served objects share nothing with the compiled
             * document that other threads read. */
            if (json_object_set_new(o, k, json_deep_copy(v)) != 0) {
                ok = false;
                break;
            }
        }
    }
    if (ok && with_variant && r->variant)
        ok = json_object_set_new(o, "_variant", json_string(r->variant)) == 0;
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *lv_flagdoc_serve(const lv_flagdoc *d, const lv_flag_context *ctx,
                         const char *const *flags, size_t nflags)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    size_t n = flags ? nflags : d->n;
    for (size_t i = 0; i < n; i++) {
        const char *key = flags ? flags[i] : d->flags[i].key;
        if (key == NULL || (flags && (find(d, key) == NULL || json_object_get(o, key))))
            continue;
        lv_flag_result r;
        lv_flagdoc_eval(d, key, ctx, &r);
        json_t *v = lv_flag_result_value(&r, ctx != NULL);
        if (v == NULL || json_object_set_new(o, key, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

lv_err lv_flagdoc_serve_text(const lv_flagdoc *d, const lv_flag_context *ctx, const char *const *flags,
                             size_t nflags, lv_buf *out)
{
    lv_err rc = lv_buf_putc(out, '{');
    bool first = true;
    size_t n = flags ? nflags : d->n;
    for (size_t i = 0; rc == LV_OK && i < n; i++) {
        const char *key = flags ? flags[i] : d->flags[i].key;
        if (key == NULL || (flags && find(d, key) == NULL))
            continue;
        bool again = false; /* a key asked for twice is served once */
        for (size_t j = 0; flags && j < i && !again; j++)
            again = flags[j] != NULL && strcmp(flags[j], key) == 0;
        if (again)
            continue;
        lv_flag_result r;
        lv_flagdoc_eval(d, key, ctx, &r);
        const char *t = ctx != NULL ? r.text_v : r.text;
        if (t == NULL)
            return LV_E_NOMEM;
        /* keys are [a-z][A-Za-z0-9_-]* (checked when compiled): no escaping */
        if ((!first && (rc = lv_buf_putc(out, ',')) != LV_OK) || (rc = lv_buf_putc(out, '"')) != LV_OK ||
            (rc = lv_buf_puts(out, key)) != LV_OK || (rc = lv_buf_append(out, "\":", 2)) != LV_OK ||
            (rc = lv_buf_puts(out, t)) != LV_OK)
            return rc;
        first = false;
    }
    return rc == LV_OK ? lv_buf_putc(out, '}') : rc;
}

json_t *lv_flagdoc_simplify(const json_t *doc, const lv_flag_context *ctx)
{
    lv_flagdoc *d = NULL;
    if (lv_flagdoc_compile(doc, &d, NULL, NULL) != LV_OK)
        return NULL;
    json_t *o = lv_flagdoc_serve(d, ctx, NULL, 0);
    lv_flagdoc_free(d);
    return o;
}
