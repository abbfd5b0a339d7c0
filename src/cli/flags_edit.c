/* flags_edit.c - `lever flags on|off|attr|variant|show|diff`: edit the
 * feature flag document of a hosted AppConfig profile. Each edit reads the
 * latest hosted version, changes it, validates the result with the
 * server's rules (json/flagdoc.h) before anything is sent, stores it as a
 * new hosted version (locked on the version it started from) and, with
 * --deploy ENV, deploys it. docs/cli.md, docs/flags.md. */
#include "cli/flags.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/appconfig.h"
#include "json/flagdoc.h"
#include "lever/lever.h"

enum { EX_OK = 0, EX_ERROR = 1, EX_USAGE = 2, EX_NOTFOUND = 3 };
enum { OUT_JSON = 2, MAX_ATTRS = 64, ID_MAX = 64 };

typedef struct edit_opts {
    const char *deploy_env, *strategy, *variant, *type, *rule, *description;
    bool wait, unset, remove, rule_set;
    int enabled;           /* -1 unchanged, 0 off, 1 on */
    long position;         /* -1: before the default variant */
    const char *attrs[MAX_ATTRS];
    size_t nattrs;
} edit_opts;

typedef struct fctx {
    lever *c;
    bool json;
    char aid[ID_MAX], pid[ID_MAX];
} fctx;

static int errf(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int errf(int rc, const char *fmt, ...)
{
    va_list ap;
    fputs("lever flags: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return rc;
}

/* ------------------------------------------------------------ versions */

static void versions_path(const fctx *k, char *p, size_t cap)
{
    /* ids are [a-z0-9]: no encoding needed */
    snprintf(p, cap, "/applications/%s/configurationprofiles/%s/hostedconfigurationversions", k->aid, k->pid);
}

/* The newest hosted version number, 0 when there is none. */
static int latest_version(fctx *k, long long *out)
{
    *out = 0;
    char token[2048] = "";
    do {
        char p[4096];
        versions_path(k, p, sizeof p);
        size_t n = strlen(p);
        snprintf(p + n, sizeof p - n, "?max_results=50");
        if (token[0]) {
            n = strlen(p);
            snprintf(p + n, sizeof p - n, "&next_token=");
            n = strlen(p);
            for (const unsigned char *t = (const unsigned char *)token; *t && n + 4 < sizeof p; t++)
                n += (size_t)snprintf(p + n, sizeof p - n, (*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') ||
                                                                  (*t >= '0' && *t <= '9') ? "%c" : "%%%02X", *t);
        }
        json_t *ans;
        int rc = lv_cli_ac_call(k->c, "GET", p, NULL, NULL, 0, &ans, NULL);
        if (rc != EX_OK)
            return rc;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(ans, "Items"), i, it) {
            long long v = (long long)json_integer_value(json_object_get(it, "VersionNumber"));
            if (v > *out)
                *out = v;
        }
        const char *next = json_string_value(json_object_get(ans, "NextToken"));
        snprintf(token, sizeof token, "%s", next ? next : "");
        json_decref(ans);
    } while (token[0]);
    return EX_OK;
}

/* A hosted version's document ("latest" or a number). *num gets its number. */
static int get_document(fctx *k, const char *which, json_t **doc, long long *num)
{
    *doc = NULL;
    long long v = 0;
    if (which == NULL || strcmp(which, "latest") == 0) {
        int rc = latest_version(k, &v);
        if (rc != EX_OK)
            return rc;
        if (v == 0)
            return errf(EX_NOTFOUND, "the profile has no hosted version yet");
    } else {
        char *end;
        v = strtoll(which, &end, 10);
        if (*which == '\0' || *end != '\0' || v <= 0)
            return errf(EX_USAGE, "a version is a number or \"latest\", not '%s'", which);
    }
    char p[512];
    versions_path(k, p, sizeof p);
    size_t n = strlen(p);
    snprintf(p + n, sizeof p - n, "/%lld", v);
    int rc = lv_cli_ac_call(k->c, "GET", p, NULL, NULL, 0, doc, NULL);
    if (rc != EX_OK)
        return rc;
    if (!json_is_object(*doc)) {
        json_decref(*doc);
        *doc = NULL;
        return errf(EX_ERROR, "version %lld is not a JSON feature flag document", v);
    }
    if (num)
        *num = v;
    return EX_OK;
}

/* Validates doc with the server's rules, then stores it as a new hosted
 * version locked on base (0: the profile had none). */
static int put_document(fctx *k, json_t *doc, long long base, const char *what, const edit_opts *o)
{
    lv_buf details = LV_BUF_INIT;
    lv_error err = {0};
    if (lv_flagdoc_validate(doc, &details, &err) != LV_OK) {
        fprintf(stderr, "lever flags: the edited document would be refused; nothing was stored:\n%s",
                details.len ? details.data : err.msg);
        if (details.len == 0)
            fputc('\n', stderr);
        lv_buf_free(&details);
        return EX_ERROR;
    }
    lv_buf_free(&details);
    char *body = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (body == NULL)
        return errf(EX_ERROR, "out of memory");
    char p[512], lock[64], desc[1100];
    versions_path(k, p, sizeof p);
    snprintf(lock, sizeof lock, "Latest-Version-Number: %lld", base);
    snprintf(desc, sizeof desc, "Description: %.1000s", o->description ? o->description : what);
    const char *hdrs[] = {"Content-Type: application/json", desc, base > 0 ? lock : NULL, NULL};
    lever_response *resp = NULL;
    int rc = lv_cli_ac_call(k->c, "POST", p, hdrs, body, strlen(body), NULL, &resp);
    free(body);
    if (rc != EX_OK)
        return rc;
    const char *v = lever_response_header(resp, "Version-Number");
    char ver[64];
    snprintf(ver, sizeof ver, "%s", v ? v : "");
    lever_response_free(resp);
    if (o->deploy_env == NULL) {
        if (k->json)
            printf("{\"VersionNumber\": \"%s\"}\n", ver);
        else
            printf("%s\n", ver);
        return EX_OK;
    }
    if (!k->json)
        printf("version %s\n", ver);
    return lv_cli_ac_deploy(k->c, k->json, k->aid, o->deploy_env, k->pid, ver, o->strategy, o->wait);
}

/* ------------------------------------------------------------ editing */

static json_t *obj_member(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (!json_is_object(o)) {
        o = json_object();
        if (o == NULL || json_object_set_new(parent, key, o) != 0)
            return NULL;
    }
    return o;
}

/* The declared type of attribute name of flag def (NULL: undeclared). */
static const char *declared_type(json_t *def, const char *name)
{
    json_t *a = json_object_get(json_object_get(def, "attributes"), name);
    if (a == NULL)
        return NULL;
    const char *t = json_string_value(json_object_get(json_object_get(a, "constraints"), "type"));
    return t ? t : "";
}

/* VALUE as JSON of the attribute's type. */
static json_t *typed_value(const char *type, const char *text, const char *name)
{
    if (strcmp(type, "number") == 0) {
        char *end;
        double d = strtod(text, &end);
        if (*text == '\0' || *end != '\0') {
            errf(EX_USAGE, "attribute %s is a number: '%s' is not one", name, text);
            return NULL;
        }
        long long ll = strtoll(text, &end, 10);
        return *end == '\0' ? json_integer(ll) : json_real(d);
    }
    if (strcmp(type, "boolean") == 0) {
        if (strcmp(text, "true") == 0)
            return json_true();
        if (strcmp(text, "false") == 0)
            return json_false();
        errf(EX_USAGE, "attribute %s is a boolean: true or false, not '%s'", name, text);
        return NULL;
    }
    if (strcmp(type, "array") == 0) {
        json_t *a = json_loads(text, JSON_DECODE_ANY, NULL);
        if (!json_is_array(a)) {
            json_decref(a);
            errf(EX_USAGE, "attribute %s is an array: give it as JSON ('[\"a\",\"b\"]')", name);
            return NULL;
        }
        return a;
    }
    return json_string(text);
}

static json_t *find_variant(json_t *vars, const char *name, size_t *idx)
{
    size_t i;
    json_t *v;
    json_array_foreach(vars, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        if (n && strcmp(n, name) == 0) {
            if (idx)
                *idx = i;
            return v;
        }
    }
    return NULL;
}

/* The definition and value of flag, creating them when create. */
static int flag_parts(json_t *doc, const char *flag, bool create, json_t **def, json_t **val, bool *created)
{
    json_t *flags = obj_member(doc, "flags"), *values = obj_member(doc, "values");
    if (flags == NULL || values == NULL)
        return errf(EX_ERROR, "out of memory");
    if (json_object_get(doc, "version") == NULL)
        json_object_set_new(doc, "version", json_string("1"));
    *def = json_object_get(flags, flag);
    *created = false;
    if (*def == NULL) {
        if (!create)
            return errf(EX_NOTFOUND, "no flag \"%s\" in the document", flag);
        *def = json_pack("{s:s}", "name", flag);
        if (*def == NULL || json_object_set_new(flags, flag, *def) != 0)
            return errf(EX_ERROR, "out of memory");
        *created = true;
    }
    *val = obj_member(values, flag);
    return *val ? EX_OK : errf(EX_ERROR, "out of memory");
}

static int apply_on_off(json_t *doc, const char *flag, bool on, const edit_opts *o)
{
    json_t *def, *val;
    bool created;
    int rc = flag_parts(doc, flag, true, &def, &val, &created);
    if (rc != EX_OK)
        return rc;
    json_t *vars = json_object_get(val, "_variants");
    if (vars) {
        if (o->variant == NULL)
            return errf(EX_USAGE, "flag %s has variants: name one with --variant NAME (the last is the default)",
                        flag);
        json_t *v = find_variant(vars, o->variant, NULL);
        if (v == NULL)
            return errf(EX_NOTFOUND, "flag %s has no variant \"%s\"", flag, o->variant);
        json_object_set_new(v, "enabled", json_boolean(on));
        return EX_OK;
    }
    if (o->variant)
        return errf(EX_NOTFOUND, "flag %s has no variants", flag);
    if (created)
        fprintf(stderr, "lever flags: new flag %s\n", flag);
    json_object_set_new(val, "enabled", json_boolean(on));
    return EX_OK;
}

static int apply_attr(json_t *doc, const char *flag, const char *name, const char *text, const edit_opts *o)
{
    json_t *def, *val;
    bool created;
    int rc = flag_parts(doc, flag, false, &def, &val, &created);
    if (rc != EX_OK)
        return rc;
    const char *type = declared_type(def, name);
    if (type == NULL && !o->unset) {
        if (o->type == NULL)
            return errf(EX_USAGE, "flag %s declares no attribute %s: add --type string|number|boolean|array to "
                                  "declare it", flag, name);
        json_t *attrs = obj_member(def, "attributes");
        json_t *decl = json_pack("{s:{s:s}}", "constraints", "type", o->type);
        if (attrs == NULL || decl == NULL || json_object_set_new(attrs, name, decl) != 0)
            return errf(EX_ERROR, "out of memory");
        type = o->type;
    } else if (type && o->type && strcmp(type, o->type) != 0) {
        return errf(EX_USAGE, "attribute %s of flag %s is declared as %s, not %s", name, flag, type, o->type);
    }
    json_t *target = val;
    json_t *vars = json_object_get(val, "_variants");
    if (vars || o->variant) {
        json_t *v = vars && o->variant ? find_variant(vars, o->variant, NULL) : NULL;
        if (v == NULL)
            return o->variant ? errf(EX_NOTFOUND, "flag %s has no variant \"%s\"", flag, o->variant)
                              : errf(EX_USAGE, "flag %s has variants: name one with --variant NAME", flag);
        target = obj_member(v, "attributeValues");
        if (target == NULL)
            return errf(EX_ERROR, "out of memory");
    }
    if (o->unset) {
        if (json_object_del(target, name) != 0)
            return errf(EX_NOTFOUND, "flag %s has no value for attribute %s", flag, name);
        return EX_OK;
    }
    json_t *jv = typed_value(type, text, name);
    if (jv == NULL)
        return EX_USAGE;
    json_object_set_new(target, name, jv);
    return EX_OK;
}

static int apply_variant(json_t *doc, const char *flag, const char *name, const edit_opts *o)
{
    json_t *def, *val;
    bool created;
    int rc = flag_parts(doc, flag, false, &def, &val, &created);
    if (rc != EX_OK)
        return rc;
    json_t *vars = json_object_get(val, "_variants");
    if (vars == NULL) {
        /* a plain flag becomes the default variant of a variant list */
        json_t *dv = json_pack("{s:s, s:b}", "name", "default", "enabled", json_is_true(json_object_get(val, "enabled")));
        json_t *av = json_object();
        const char *key;
        json_t *x;
        json_object_foreach(val, key, x) {
            if (strcmp(key, "enabled") != 0)
                json_object_set(av, key, x);
        }
        if (dv == NULL || av == NULL)
            return errf(EX_ERROR, "out of memory");
        if (json_object_size(av))
            json_object_set_new(dv, "attributeValues", av);
        else
            json_decref(av);
        json_object_clear(val);
        vars = json_array();
        json_array_append_new(vars, dv);
        json_object_set_new(val, "_variants", vars);
    }
    size_t idx = 0;
    json_t *v = find_variant(vars, name, &idx);
    if (o->remove) {
        if (v == NULL)
            return errf(EX_NOTFOUND, "flag %s has no variant \"%s\"", flag, name);
        json_array_remove(vars, idx);
        return EX_OK;
    }
    if (v == NULL) {
        if (!o->rule_set && json_array_size(vars) > 0)
            return errf(EX_USAGE, "a new variant needs --rule RULE (only the last, default variant has none)");
        v = json_pack("{s:s, s:b}", "name", name, "enabled", o->enabled != 0);
        size_t n = json_array_size(vars);
        size_t at = o->position >= 0 && (size_t)o->position <= n ? (size_t)o->position : (n ? n - 1 : 0);
        if (v == NULL || json_array_insert_new(vars, at, v) != 0)
            return errf(EX_ERROR, "out of memory");
    } else {
        if (o->enabled >= 0)
            json_object_set_new(v, "enabled", json_boolean(o->enabled));
        if (o->position >= 0 && (size_t)o->position != idx) {
            json_incref(v);
            json_array_remove(vars, idx);
            size_t n = json_array_size(vars);
            json_array_insert_new(vars, (size_t)o->position <= n ? (size_t)o->position : n, v);
        }
    }
    if (o->rule_set) {
        if (o->rule[0])
            json_object_set_new(v, "rule", json_string(o->rule));
        else
            json_object_del(v, "rule");
    }
    for (size_t i = 0; i < o->nattrs; i++) {
        const char *eq = strchr(o->attrs[i], '=');
        char an[128];
        if (eq == NULL || eq == o->attrs[i] || (size_t)(eq - o->attrs[i]) >= sizeof an)
            return errf(EX_USAGE, "--attr takes NAME=VALUE");
        memcpy(an, o->attrs[i], (size_t)(eq - o->attrs[i]));
        an[eq - o->attrs[i]] = '\0';
        const char *type = declared_type(def, an);
        if (type == NULL)
            return errf(EX_USAGE, "flag %s declares no attribute %s (lever flags attr ... --type T declares one)",
                        flag, an);
        json_t *jv = typed_value(type, eq + 1, an);
        json_t *av = jv ? obj_member(v, "attributeValues") : NULL;
        if (av == NULL) {
            json_decref(jv);
            return EX_USAGE;
        }
        json_object_set_new(av, an, jv);
    }
    return EX_OK;
}

/* ------------------------------------------------------------ diff */

static void pointer_append(char *out, size_t cap, const char *key)
{
    size_t n = strlen(out);
    if (n + 1 < cap)
        out[n++] = '/';
    for (const char *p = key; *p && n + 2 < cap; p++) {
        if (*p == '~' || *p == '/') {
            out[n++] = '~';
            out[n++] = *p == '~' ? '0' : '1';
        } else {
            out[n++] = *p;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
}

static void emit(json_t *acc, bool json, const char *op, const char *path, json_t *from, json_t *to)
{
    if (json) {
        json_t *o = json_pack("{s:s, s:s}", "op", op, "path", path);
        if (from)
            json_object_set(o, "from", from);
        if (to)
            json_object_set(o, "to", to);
        json_array_append_new(acc, o);
        return;
    }
    char *a = from ? json_dumps(from, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
    char *b = to ? json_dumps(to, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
    if (strcmp(op, "add") == 0)
        printf("+ %s: %s\n", path, b ? b : "?");
    else if (strcmp(op, "remove") == 0)
        printf("- %s: %s\n", path, a ? a : "?");
    else
        printf("~ %s: %s -> %s\n", path, a ? a : "?", b ? b : "?");
    free(a);
    free(b);
}

static bool named_list(json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(json_object_get(v, "name")))
            return false;
    }
    return json_array_size(a) > 0;
}

static json_t *by_name(json_t *arr, json_t *name, size_t *idx)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_equal(json_object_get(v, "name"), name)) {
            *idx = i;
            return v;
        }
    }
    return NULL;
}

static size_t diff(json_t *acc, bool json, const char *path, json_t *a, json_t *b);

/* Variants are matched by name, so removing one is one line, not a shift
 * of every later index; paths use the index in the version they exist in. */
static size_t diff_named(json_t *acc, bool json, const char *path, json_t *a, json_t *b)
{
    size_t n = 0, i, j;
    json_t *v;
    char sub[2048], idx[32];
    json_array_foreach(a, i, v) {
        json_t *w = by_name(b, json_object_get(v, "name"), &j);
        snprintf(idx, sizeof idx, "%zu", w ? j : i);
        snprintf(sub, sizeof sub, "%s", path);
        pointer_append(sub, sizeof sub, idx);
        if (w == NULL) {
            emit(acc, json, "remove", sub, v, NULL);
            n++;
        } else {
            n += diff(acc, json, sub, v, w);
        }
    }
    json_array_foreach(b, j, v) {
        if (by_name(a, json_object_get(v, "name"), &i) == NULL) {
            snprintf(idx, sizeof idx, "%zu", j);
            snprintf(sub, sizeof sub, "%s", path);
            pointer_append(sub, sizeof sub, idx);
            emit(acc, json, "add", sub, NULL, v);
            n++;
        }
    }
    return n;
}

static size_t diff(json_t *acc, bool json, const char *path, json_t *a, json_t *b)
{
    if (json_equal(a, b))
        return 0;
    size_t n = 0;
    char sub[2048];
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v) {
            snprintf(sub, sizeof sub, "%s", path);
            pointer_append(sub, sizeof sub, k);
            json_t *w = json_object_get(b, k);
            if (w == NULL) {
                emit(acc, json, "remove", sub, v, NULL);
                n++;
            } else {
                n += diff(acc, json, sub, v, w);
            }
        }
        json_object_foreach(b, k, v) {
            if (json_object_get(a, k) == NULL) {
                snprintf(sub, sizeof sub, "%s", path);
                pointer_append(sub, sizeof sub, k);
                emit(acc, json, "add", sub, NULL, v);
                n++;
            }
        }
        return n;
    }
    if (json_is_array(a) && json_is_array(b) && named_list(a) && named_list(b))
        return diff_named(acc, json, path, a, b);
    if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
        for (size_t i = 0; i < json_array_size(a); i++) {
            char idx[32];
            snprintf(idx, sizeof idx, "%zu", i);
            snprintf(sub, sizeof sub, "%s", path);
            pointer_append(sub, sizeof sub, idx);
            n += diff(acc, json, sub, json_array_get(a, i), json_array_get(b, i));
        }
        return n;
    }
    emit(acc, json, "change", path[0] ? path : "/", a, b);
    return 1;
}

static int cmd_diff(fctx *k, const char *v1, const char *v2)
{
    json_t *a = NULL, *b = NULL;
    long long n1 = 0, n2 = 0;
    int rc = get_document(k, v1, &a, &n1);
    if (rc == EX_OK)
        rc = get_document(k, v2, &b, &n2);
    if (rc == EX_OK) {
        json_t *acc = k->json ? json_array() : NULL;
        if (!k->json)
            printf("--- version %lld\n+++ version %lld\n", n1, n2);
        size_t n = diff(acc, k->json, "", a, b);
        if (k->json) {
            char *s = json_dumps(acc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            if (s)
                puts(s);
            free(s);
            json_decref(acc);
        } else if (n == 0) {
            printf("no differences\n");
        }
    }
    json_decref(a);
    json_decref(b);
    return rc;
}

/* ------------------------------------------------------------ entry */

static const char EDIT_USAGE[] =
    "       lever flags on|off APP PROFILE FLAG [--variant V] [EDIT OPTIONS]\n"
    "       lever flags attr APP PROFILE FLAG NAME VALUE [--type T] [--variant V] [EDIT OPTIONS]\n"
    "       lever flags attr APP PROFILE FLAG NAME --unset [--variant V] [EDIT OPTIONS]\n"
    "       lever flags variant APP PROFILE FLAG NAME [--rule RULE] [--on|--off] [--attr NAME=VALUE]...\n"
    "                           [--position N] [--remove] [EDIT OPTIONS]\n"
    "       lever flags show APP PROFILE [VERSION]\n"
    "       lever flags diff APP PROFILE V1 V2\n";

const char *lv_cli_flags_edit_usage(void) { return EDIT_USAGE; }

int lv_cli_flags_edit(int argc, char **argv, const lv_cli_ctx *ctx)
{
    enum { O_DEPLOY = 1000, O_STRATEGY, O_WAIT, O_VARIANT, O_TYPE, O_UNSET, O_RULE, O_ON, O_OFF, O_ATTR,
           O_POSITION, O_REMOVE, O_DESC, O_ENDPOINT, O_REGION, O_PROFILE };
    static const struct option lo[] = {
        {"deploy", required_argument, NULL, O_DEPLOY},   {"strategy", required_argument, NULL, O_STRATEGY},
        {"wait", no_argument, NULL, O_WAIT},             {"variant", required_argument, NULL, O_VARIANT},
        {"type", required_argument, NULL, O_TYPE},       {"unset", no_argument, NULL, O_UNSET},
        {"rule", required_argument, NULL, O_RULE},       {"on", no_argument, NULL, O_ON},
        {"off", no_argument, NULL, O_OFF},               {"attr", required_argument, NULL, O_ATTR},
        {"position", required_argument, NULL, O_POSITION}, {"remove", no_argument, NULL, O_REMOVE},
        {"description", required_argument, NULL, O_DESC}, {"endpoint", required_argument, NULL, O_ENDPOINT},
        {"region", required_argument, NULL, O_REGION},   {"profile", required_argument, NULL, O_PROFILE},
        {"output", required_argument, NULL, 'o'},        {0, 0, 0, 0},
    };
    edit_opts o = {.enabled = -1, .position = -1};
    const char *endpoint = ctx ? ctx->endpoint : NULL, *region = ctx ? ctx->region : NULL;
    const char *cprofile = ctx ? ctx->profile : NULL;
    bool json = ctx && ctx->output == OUT_JSON;
    int ch;
    optind = 0;
    while ((ch = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
        switch (ch) {
        case O_DEPLOY: o.deploy_env = optarg; break;
        case O_STRATEGY: o.strategy = optarg; break;
        case O_WAIT: o.wait = true; break;
        case O_VARIANT: o.variant = optarg; break;
        case O_TYPE:
            if (strcmp(optarg, "string") && strcmp(optarg, "number") && strcmp(optarg, "boolean") &&
                strcmp(optarg, "array"))
                return errf(EX_USAGE, "--type is string, number, boolean or array");
            o.type = optarg;
            break;
        case O_UNSET: o.unset = true; break;
        case O_RULE: o.rule = optarg; o.rule_set = true; break;
        case O_ON: o.enabled = 1; break;
        case O_OFF: o.enabled = 0; break;
        case O_ATTR:
            if (o.nattrs == MAX_ATTRS)
                return errf(EX_USAGE, "too many --attr");
            o.attrs[o.nattrs++] = optarg;
            break;
        case O_POSITION: {
            char *end;
            o.position = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || o.position < 0)
                return errf(EX_USAGE, "--position takes a variant index (0 is the first)");
            break;
        }
        case O_REMOVE: o.remove = true; break;
        case O_DESC: o.description = optarg; break;
        case O_ENDPOINT: endpoint = optarg; break;
        case O_REGION: region = optarg; break;
        case O_PROFILE: cprofile = optarg; break;
        case 'o': json = strcmp(optarg, "json") == 0; break;
        default: return EX_USAGE;
        }
    }
    int n = argc - optind;
    char **a = argv + optind;
    if (n < 1)
        return EX_USAGE;
    const char *sub = a[0];
    bool onoff = strcmp(sub, "on") == 0 || strcmp(sub, "off") == 0;
    int want = onoff ? 4 : strcmp(sub, "attr") == 0 ? (o.unset ? 5 : 6) : strcmp(sub, "variant") == 0 ? 5
             : strcmp(sub, "diff") == 0 ? 5 : strcmp(sub, "show") == 0 ? (n == 4 ? 4 : 3) : -1;
    if (n != want)
        return errf(EX_USAGE, "%s: wrong number of arguments\nusage:\n%s", sub, EDIT_USAGE);
    if (o.wait && o.deploy_env == NULL)
        return errf(EX_USAGE, "--wait goes with --deploy ENV");

    lever_options *lo_ = lever_options_new();
    if (lo_ == NULL)
        return errf(EX_ERROR, "out of memory");
    lever_status st = LEVER_OK;
    if (endpoint)
        st = lever_options_set_endpoint(lo_, endpoint);
    if (st == LEVER_OK && region)
        st = lever_options_set_region(lo_, region);
    if (st == LEVER_OK && cprofile)
        st = lever_options_set_profile(lo_, cprofile);
    fctx k = {.json = json};
    char err[1024] = "";
    if (st == LEVER_OK)
        st = lever_open(lo_, &k.c, err, sizeof err);
    lever_options_free(lo_);
    if (st != LEVER_OK)
        return errf(lv_cli_ac_exit(st), "%s", err[0] ? err : lever_status_str(st));
    lv_cli_ac_error_prefix("lever flags");
    int rc = lv_cli_ac_ids(k.c, a[1], a[2], k.aid, k.pid, sizeof k.aid);
    if (rc == EX_OK && strcmp(sub, "diff") == 0) {
        rc = cmd_diff(&k, a[3], a[4]);
    } else if (rc == EX_OK && strcmp(sub, "show") == 0) {
        json_t *doc;
        if ((rc = get_document(&k, n == 4 ? a[3] : "latest", &doc, NULL)) == EX_OK) {
            char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            if (s)
                puts(s);
            free(s);
            json_decref(doc);
        }
    } else if (rc == EX_OK) {
        long long base = 0;
        json_t *doc = NULL;
        rc = latest_version(&k, &base);
        if (rc == EX_OK && base > 0)
            rc = get_document(&k, "latest", &doc, &base);
        else if (rc == EX_OK)
            doc = json_pack("{s:s, s:{}, s:{}}", "version", "1", "flags", "values");
        char what[512];
        if (rc == EX_OK && doc == NULL)
            rc = errf(EX_ERROR, "out of memory");
        if (rc == EX_OK && onoff) {
            rc = apply_on_off(doc, a[3], strcmp(sub, "on") == 0, &o);
            snprintf(what, sizeof what, "lever flags %s %s%s%s", sub, a[3], o.variant ? " --variant " : "",
                     o.variant ? o.variant : "");
        } else if (rc == EX_OK && strcmp(sub, "attr") == 0) {
            rc = apply_attr(doc, a[3], a[4], o.unset ? NULL : a[5], &o);
            snprintf(what, sizeof what, "lever flags attr %s %s%s", a[3], a[4], o.unset ? " --unset" : "");
        } else if (rc == EX_OK) {
            rc = apply_variant(doc, a[3], a[4], &o);
            snprintf(what, sizeof what, "lever flags variant %s %s%s", a[3], a[4], o.remove ? " --remove" : "");
        }
        if (rc == EX_OK)
            rc = put_document(&k, doc, base, what, &o);
        json_decref(doc);
    }
    lever_close(k.c);
    return rc;
}
