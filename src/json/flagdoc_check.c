/* flagdoc_check.c - validation of AWS.AppConfig.FeatureFlags documents:
 * AWS's JSON schema (names, lengths, counts, allowed keys) plus what AWS
 * checks beyond it (attribute values against their constraints, variant
 * rules that parse, one default variant, last). Each violation is reported
 * with the JSON pointer of the offending place, which names the flag. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/flagrule.h"
#include "core/pattern.h"
#include "json/flagdoc.h"
#include "json/flagdoc_int.h"

void fd_violation(fd_check *c, const char *where, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->count++;
    if (c->count == 1) {
        int n = snprintf(c->first, sizeof c->first, "%.300s: ", where);
        if (n > 0 && (size_t)n < sizeof c->first)
            snprintf(c->first + n, sizeof c->first - (size_t)n, "%.380s", msg);
    }
    if (c->details == NULL || c->count > LV_FLAGDOC_MAX_DETAILS)
        return;
    if (lv_buf_printf(c->details, "%s: %s\n", where, msg) != LV_OK)
        c->nomem = true;
}

/* Characters (UTF-8 code points) in a string jansson already checked. */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* ^[a-z][a-zA-Z\d_-]{0,63}$ */
bool fd_valid_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 64 || !(k[0] >= 'a' && k[0] <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

void fd_path(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap); /* a pointer cut short is still a fine message */
    va_end(ap);
}

static void path(char *out, size_t cap, const char *base, const char *seg)
{
    fd_path(out, cap, "%s/%s", base, seg);
}

static void path_i(char *out, size_t cap, const char *base, size_t i)
{
    fd_path(out, cap, "%s/%zu", base, i);
}

/* customerDefinedName: ^[^\n]{1,64}$ */
static void check_name(fd_check *c, const char *where, const json_t *v)
{
    if (!json_is_string(v)) {
        fd_violation(c, where, "must be a string");
        return;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    size_t chars = utf8_chars(s, len);
    if (chars < 1 || chars > LV_FLAGDOC_MAX_NAME)
        fd_violation(c, where, "must be 1 to 64 characters long");
    else if (memchr(s, '\n', len) != NULL)
        fd_violation(c, where, "must not contain a line break");
}

static void check_description(fd_check *c, const char *where, const json_t *v)
{
    if (!json_is_string(v))
        fd_violation(c, where, "must be a string");
    else if (utf8_chars(json_string_value(v), json_string_length(v)) > LV_FLAGDOC_MAX_STRING)
        fd_violation(c, where, "must be at most 1024 characters long");
}

static bool is_integral(const json_t *v)
{
    if (json_is_integer(v))
        return true;
    if (!json_is_real(v))
        return false;
    double d = json_real_value(v);
    return d == (double)(long long)d;
}

static double num(const json_t *v)
{
    return json_number_value(v);
}

static bool valid_date(const char *s)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int64_t sec;
    int32_t ns;
    return lv_flagrule_parse_time(s, 10, &sec, &ns);
}

/* ------------------------------------------------------- constraints */

static bool is_attr_value(const json_t *v, const char **why)
{
    if (json_is_string(v)) {
        if (utf8_chars(json_string_value(v), json_string_length(v)) > LV_FLAGDOC_MAX_STRING) {
            *why = "strings are at most 1024 characters long";
            return false;
        }
        return true;
    }
    if (json_is_number(v) || json_is_boolean(v))
        return true;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        int kind = 0; /* 1 strings, 2 numbers */
        json_array_foreach(v, i, e) {
            int k = json_is_string(e) ? 1 : json_is_number(e) ? 2 : 0;
            if (k == 0 || (kind && k != kind)) {
                *why = "an array must hold only strings or only numbers";
                return false;
            }
            kind = k;
            if (k == 1 && utf8_chars(json_string_value(e), json_string_length(e)) > LV_FLAGDOC_MAX_STRING) {
                *why = "strings are at most 1024 characters long";
                return false;
            }
        }
        return true;
    }
    *why = "must be a string, a number, a boolean, or an array of strings or of numbers";
    return false;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
    default: return "null";
    }
}

static bool only_keys(fd_check *c, const char *where, const json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *v;
    bool ok = true;
    json_object_foreach((json_t *)obj, k, v) {
        bool found = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, k) == 0)
                found = true;
        if (!found) {
            char p[512];
            path(p, sizeof p, where, k);
            fd_violation(c, p, "is not allowed here");
            ok = false;
        }
    }
    return ok;
}

/* Checks a string or number constraint object (also array elements). */
static void check_scalar_constraints(fd_check *c, const char *where, const json_t *cons,
                                     const char *type)
{
    char p[512];
    const json_t *req = json_object_get(cons, "required");
    if (req && !json_is_boolean(req)) {
        path(p, sizeof p, where, "required");
        fd_violation(c, p, "must be true or false");
    }
    if (strcmp(type, "string") == 0) {
        static const char *const ok[] = {"type", "required", "pattern", "enum", NULL};
        only_keys(c, where, cons, ok);
        const json_t *pat = json_object_get(cons, "pattern"), *en = json_object_get(cons, "enum");
        if (pat && en)
            fd_violation(c, where, "a string constraint has either a pattern or an enum, not both");
        if (pat) {
            path(p, sizeof p, where, "pattern");
            if (!json_is_string(pat)) {
                fd_violation(c, p, "must be a string");
            } else if (utf8_chars(json_string_value(pat), json_string_length(pat)) > LV_FLAGDOC_MAX_STRING) {
                fd_violation(c, p, "must be at most 1024 characters long");
            } else {
                lv_pattern *re = NULL;
                lv_error e;
                lv_err rc = lv_pattern_compile(json_string_value(pat), json_string_length(pat), &re, &e);
                if (rc == LV_E_NOMEM)
                    c->nomem = true;
                else if (rc != LV_OK)
                    fd_violation(c, p, "%s", e.msg);
                lv_pattern_free(re);
            }
        }
        if (en) {
            path(p, sizeof p, where, "enum");
            if (!json_is_array(en)) {
                fd_violation(c, p, "must be an array");
            } else if (json_array_size(en) > LV_FLAGDOC_MAX_ENUM) {
                fd_violation(c, p, "must have at most 100 values");
            } else {
                size_t i;
                json_t *e;
                json_array_foreach(en, i, e) {
                    if (!(json_is_string(e) && utf8_chars(json_string_value(e), json_string_length(e)) <= LV_FLAGDOC_MAX_STRING) &&
                        !json_is_integer(e)) {
                        char pi[520];
                        path_i(pi, sizeof pi, p, i);
                        fd_violation(c, pi, "enum values are strings (at most 1024 characters) or integers");
                    }
                }
            }
        }
    } else { /* number */
        static const char *const ok[] = {"type", "required", "minimum", "maximum", NULL};
        only_keys(c, where, cons, ok);
        const json_t *mn = json_object_get(cons, "minimum"), *mx = json_object_get(cons, "maximum");
        if (mn && !is_integral(mn)) {
            path(p, sizeof p, where, "minimum");
            fd_violation(c, p, "must be an integer");
        }
        if (mx && !is_integral(mx)) {
            path(p, sizeof p, where, "maximum");
            fd_violation(c, p, "must be an integer");
        }
        if (mn && mx && is_integral(mn) && is_integral(mx) && num(mn) > num(mx))
            fd_violation(c, where, "minimum is greater than maximum");
    }
}

void fd_check_constraints(fd_check *c, const char *where, const json_t *cons)
{
    char p[512];
    if (!json_is_object(cons)) {
        fd_violation(c, where, "must be an object");
        return;
    }
    const json_t *t = json_object_get(cons, "type");
    const char *type = json_string_value(t);
    path(p, sizeof p, where, "type");
    if (type == NULL || (strcmp(type, "string") && strcmp(type, "number") && strcmp(type, "boolean") &&
                         strcmp(type, "array"))) {
        fd_violation(c, p, "must be one of \"string\", \"number\", \"boolean\", \"array\"");
        return;
    }
    if (strcmp(type, "string") == 0 || strcmp(type, "number") == 0) {
        check_scalar_constraints(c, where, cons, type);
    } else if (strcmp(type, "boolean") == 0) {
        static const char *const ok[] = {"type", "required", NULL};
        only_keys(c, where, cons, ok);
        const json_t *req = json_object_get(cons, "required");
        if (req && !json_is_boolean(req)) {
            path(p, sizeof p, where, "required");
            fd_violation(c, p, "must be true or false");
        }
    } else {
        static const char *const ok[] = {"type", "required", "elements", NULL};
        only_keys(c, where, cons, ok);
        const json_t *req = json_object_get(cons, "required");
        if (req && !json_is_boolean(req)) {
            path(p, sizeof p, where, "required");
            fd_violation(c, p, "must be true or false");
        }
        const json_t *el = json_object_get(cons, "elements");
        if (el) {
            path(p, sizeof p, where, "elements");
            const char *et = json_is_object(el) ? json_string_value(json_object_get(el, "type")) : NULL;
            if (!json_is_object(el)) {
                fd_violation(c, p, "must be an object");
            } else if (et == NULL || (strcmp(et, "string") && strcmp(et, "number"))) {
                char pt[520];
                path(pt, sizeof pt, p, "type");
                fd_violation(c, pt, "elements are constrained as \"string\" or \"number\"");
            } else {
                check_scalar_constraints(c, p, el, et);
            }
        }
    }
}

/* A scalar value against string/number constraints (arrays: per element). */
static void value_scalar(fd_check *c, const char *where, const json_t *v, const json_t *cons,
                         const char *type)
{
    if (strcmp(type, "string") == 0) {
        if (!json_is_string(v)) {
            fd_violation(c, where, "must be a string, not %s", type_name(v));
            return;
        }
        const json_t *en = json_object_get(cons, "enum"), *pat = json_object_get(cons, "pattern");
        if (json_is_array(en)) {
            bool found = false;
            size_t i;
            json_t *e;
            json_array_foreach(en, i, e) {
                if (json_is_string(e) && strcmp(json_string_value(e), json_string_value(v)) == 0)
                    found = true;
                if (json_is_integer(e)) {
                    char b[32];
                    snprintf(b, sizeof b, "%lld", (long long)json_integer_value(e));
                    if (strcmp(b, json_string_value(v)) == 0)
                        found = true;
                }
            }
            if (!found)
                fd_violation(c, where, "\"%.100s\" is not one of the enum values", json_string_value(v));
        }
        if (json_is_string(pat)) {
            bool m = false;
            lv_error e;
            /* Found anywhere in the value, as JSON Schema's pattern is. */
            lv_pattern *re = NULL;
            lv_err rc = lv_pattern_compile(json_string_value(pat), json_string_length(pat), &re, &e);
            if (rc == LV_OK)
                rc = lv_pattern_match(re, json_string_value(v), json_string_length(v), &m, &e);
            lv_pattern_free(re);
            if (rc == LV_OK && !m)
                fd_violation(c, where, "\"%.100s\" does not match the pattern %.200s", json_string_value(v),
                             json_string_value(pat));
            else if (rc == LV_E_NOMEM)
                c->nomem = true;
            /* A pattern that does not compile is reported at its definition. */
        }
    } else {
        if (!json_is_number(v)) {
            fd_violation(c, where, "must be a number, not %s", type_name(v));
            return;
        }
        const json_t *mn = json_object_get(cons, "minimum"), *mx = json_object_get(cons, "maximum");
        if (mn && is_integral(mn) && num(v) < num(mn))
            fd_violation(c, where, "%g is less than the minimum %g", num(v), num(mn));
        if (mx && is_integral(mx) && num(v) > num(mx))
            fd_violation(c, where, "%g is greater than the maximum %g", num(v), num(mx));
    }
}

/* An attribute value against its definition (NULL: none, any value). */
static void check_value(fd_check *c, const char *where, const json_t *v, const json_t *def)
{
    const char *why = NULL;
    if (!is_attr_value(v, &why)) {
        fd_violation(c, where, "%s", why);
        return;
    }
    const json_t *cons = def ? json_object_get(def, "constraints") : NULL;
    const char *type = cons ? json_string_value(json_object_get(cons, "type")) : NULL;
    if (type == NULL)
        return;
    if (strcmp(type, "boolean") == 0) {
        if (!json_is_boolean(v))
            fd_violation(c, where, "must be a boolean, not %s", type_name(v));
    } else if (strcmp(type, "array") == 0) {
        if (!json_is_array(v)) {
            fd_violation(c, where, "must be an array, not %s", type_name(v));
            return;
        }
        const json_t *el = json_object_get(cons, "elements");
        const char *et = json_is_object(el) ? json_string_value(json_object_get(el, "type")) : NULL;
        if (et == NULL || (strcmp(et, "string") && strcmp(et, "number")))
            return;
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            char p[520];
            path_i(p, sizeof p, where, i);
            value_scalar(c, p, e, el, et);
        }
    } else if (strcmp(type, "string") == 0 || strcmp(type, "number") == 0) {
        value_scalar(c, where, v, cons, type);
    }
}

/* Attribute values of a flag value or of a variant: keys must be defined
 * attributes, values must satisfy them, required ones must be there. */
void fd_check_attr_values(fd_check *c, const char *where, const json_t *vals,
                          const json_t *attr_defs, const char *const *skip)
{
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach((json_t *)vals, k, v) {
        bool skipped = false;
        for (const char *const *s = skip; s && *s; s++)
            if (strcmp(*s, k) == 0)
                skipped = true;
        if (skipped)
            continue;
        n++;
        char p[512];
        path(p, sizeof p, where, k);
        if (!fd_valid_key(k)) {
            fd_violation(c, p, "attribute names match ^[a-z][a-zA-Z\\d_-]{0,63}$");
            continue;
        }
        const json_t *def = json_object_get(attr_defs, k);
        if (def == NULL) {
            fd_violation(c, p, "the flag defines no attribute \"%s\"", k);
            continue;
        }
        check_value(c, p, v, def);
    }
    if (n > LV_FLAGDOC_MAX_ATTRIBUTES)
        fd_violation(c, where, "has more than 25 attribute values");
    json_object_foreach((json_t *)attr_defs, k, v) {
        const json_t *cons = json_is_object(v) ? json_object_get(v, "constraints") : NULL;
        if (json_is_true(json_object_get(cons, "required")) && json_object_get(vals, k) == NULL)
            fd_violation(c, where, "the required attribute \"%s\" has no value", k);
    }
}

/* The definition of one flag under /flags. */
void fd_check_flag_def(fd_check *c, const char *key, const json_t *def)
{
    char where[512], p[600];
    fd_path(where, sizeof where, "/flags/%s", key);
    if (!fd_valid_key(key)) {
        fd_violation(c, where, "flag keys match ^[a-z][a-zA-Z\\d_-]{0,63}$");
        return;
    }
    if (!json_is_object(def)) {
        fd_violation(c, where, "must be an object");
        return;
    }
    static const char *const ok[] = {"name", "description", "_createdAt", "_updatedAt",
                                     "_deprecation", "attributes", NULL};
    only_keys(c, where, def, ok);
    const json_t *v;
    if ((v = json_object_get(def, "name")) != NULL) {
        path(p, sizeof p, where, "name");
        check_name(c, p, v);
    }
    if ((v = json_object_get(def, "description")) != NULL) {
        path(p, sizeof p, where, "description");
        check_description(c, p, v);
    }
    static const char *const stamps[] = {"_createdAt", "_updatedAt"};
    for (size_t i = 0; i < 2; i++)
        if ((v = json_object_get(def, stamps[i])) != NULL && !json_is_string(v)) {
            path(p, sizeof p, where, stamps[i]);
            fd_violation(c, p, "must be a string");
        }
    if ((v = json_object_get(def, "_deprecation")) != NULL) {
        path(p, sizeof p, where, "_deprecation");
        if (!json_is_object(v)) {
            fd_violation(c, p, "must be an object");
        } else {
            static const char *const dk[] = {"status", "date", NULL};
            only_keys(c, p, v, dk);
            const json_t *st = json_object_get(v, "status"), *dt = json_object_get(v, "date");
            char q[620];
            if (st && !(json_is_string(st) && strcmp(json_string_value(st), "planned") == 0)) {
                path(q, sizeof q, p, "status");
                fd_violation(c, q, "must be \"planned\"");
            }
            if (dt && !(json_is_string(dt) && valid_date(json_string_value(dt)))) {
                path(q, sizeof q, p, "date");
                fd_violation(c, q, "must be a date (YYYY-MM-DD)");
            }
        }
    }
    if ((v = json_object_get(def, "attributes")) != NULL) {
        path(p, sizeof p, where, "attributes");
        if (!json_is_object(v)) {
            fd_violation(c, p, "must be an object");
            return;
        }
        if (json_object_size(v) > LV_FLAGDOC_MAX_ATTRIBUTES)
            fd_violation(c, p, "a flag has at most 25 attributes");
        const char *ak;
        json_t *ad;
        json_object_foreach((json_t *)v, ak, ad) {
            char q[620];
            path(q, sizeof q, p, ak);
            if (strcmp(ak, "enabled") == 0) {
                fd_violation(c, q, "\"enabled\" is reserved and cannot be an attribute");
                continue;
            }
            if (!fd_valid_key(ak)) {
                fd_violation(c, q, "attribute names match ^[a-z][a-zA-Z\\d_-]{0,63}$");
                continue;
            }
            if (!json_is_object(ad)) {
                fd_violation(c, q, "must be an object");
                continue;
            }
            static const char *const adk[] = {"description", "constraints", NULL};
            only_keys(c, q, ad, adk);
            const json_t *d = json_object_get(ad, "description");
            char r[640];
            if (d) {
                path(r, sizeof r, q, "description");
                check_description(c, r, d);
            }
            const json_t *cons = json_object_get(ad, "constraints");
            if (cons) {
                path(r, sizeof r, q, "constraints");
                fd_check_constraints(c, r, cons);
            }
        }
    }
}

void fd_check_variant_common(fd_check *c, const char *where, const json_t *var)
{
    char p[600];
    static const char *const ok[] = {"enabled", "name", "rule", "attributeValues", NULL};
    only_keys(c, where, var, ok);
    const json_t *en = json_object_get(var, "enabled"), *nm = json_object_get(var, "name");
    path(p, sizeof p, where, "enabled");
    if (en == NULL)
        fd_violation(c, p, "is required");
    else if (!json_is_boolean(en))
        fd_violation(c, p, "must be true or false");
    path(p, sizeof p, where, "name");
    if (nm == NULL)
        fd_violation(c, p, "is required");
    else
        check_name(c, p, nm);
}
