/* policy_iam.c - IAM-shaped identity policies: a strict parser for the
 * subset lever supports and the evaluation rule (explicit deny wins,
 * default deny). Documents come from the root key's holder but are still
 * treated as untrusted input (fuzz_iam_policy). */
#include "auth/policy_iam.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum cond_op {
    OP_STRING_EQUALS,
    OP_STRING_NOT_EQUALS,
    OP_STRING_EQUALS_IC,
    OP_STRING_NOT_EQUALS_IC,
    OP_STRING_LIKE,
    OP_STRING_NOT_LIKE,
    OP_BOOL,
} cond_op;

static const struct {
    const char *name;
    cond_op op;
} cond_ops[] = {
    {"StringEquals", OP_STRING_EQUALS},
    {"StringNotEquals", OP_STRING_NOT_EQUALS},
    {"StringEqualsIgnoreCase", OP_STRING_EQUALS_IC},
    {"StringNotEqualsIgnoreCase", OP_STRING_NOT_EQUALS_IC},
    {"StringLike", OP_STRING_LIKE},
    {"StringNotLike", OP_STRING_NOT_LIKE},
    {"Bool", OP_BOOL},
};

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

typedef struct condition {
    cond_op op;
    char *key;      /* lowercased: IAM condition keys are case-insensitive */
    strlist values;
} condition;

typedef struct statement {
    bool deny;
    bool not_action;
    strlist actions;
    bool not_resource;
    strlist resources;
    condition *conds;
    size_t nconds;
} statement;

struct lv_iam_policy {
    statement *st;
    size_t n;
};

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void lv_iam_policy_free(lv_iam_policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        statement *s = &p->st[i];
        strlist_free(&s->actions);
        strlist_free(&s->resources);
        for (size_t j = 0; j < s->nconds; j++) {
            free(s->conds[j].key);
            strlist_free(&s->conds[j].values);
        }
        free(s->conds);
    }
    free(p->st);
    free(p);
}

/* A string or a non-empty array of strings (IAM accepts both forms). */
static lv_err read_strlist(json_t *v, const char *where, size_t si, strlist *out, lv_error *err)
{
    size_t n = json_is_string(v) ? 1 : json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_string(v) && !json_is_array(v))
        return lv_error_set(err, LV_E_MALFORMED_POLICY,
                            "Statement %zu: %s must be a string or an array of strings.", si, where);
    if (n == 0)
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "Statement %zu: %s must not be empty.", si, where);
    if (n > LV_IAM_MAX_ITEMS)
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "Statement %zu: %s has more than %d entries.", si,
                            where, LV_IAM_MAX_ITEMS);
    out->v = calloc(n, sizeof *out->v);
    if (out->v == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_is_string(v) ? v : json_array_get(v, i);
        if (!json_is_string(e))
            return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                "Statement %zu: every entry of %s must be a string.", si, where);
        const char *s = json_string_value(e);
        if (strlen(s) != json_string_length(e) || *s == '\0')
            return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                "Statement %zu: %s has an empty or NUL-containing entry.", si, where);
        out->v[i] = strdup(s);
        if (out->v[i] == NULL)
            return lv_error_set(err, LV_E_NOMEM, "out of memory");
        out->n = i + 1;
    }
    return LV_OK;
}

/* "*" or "service:pattern" with service in [a-z0-9-]. */
static bool action_ok(const char *a)
{
    if (strcmp(a, "*") == 0)
        return true;
    const char *colon = strchr(a, ':');
    if (colon == NULL || colon == a || colon[1] == '\0')
        return false;
    for (const char *p = a; p < colon; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '*' || *p == '?'))
            return false;
    return true;
}

/* "*" or an ARN-shaped pattern ("arn:" plus at least five ':'-separated parts). */
static bool resource_ok(const char *r)
{
    if (strcmp(r, "*") == 0)
        return true;
    if (strncmp(r, "arn:", 4) != 0)
        return false;
    int colons = 0;
    for (const char *p = r; *p; p++)
        colons += *p == ':';
    return colons >= 5;
}

static lv_err read_conditions(json_t *c, size_t si, statement *s, lv_error *err)
{
    if (!json_is_object(c))
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "Statement %zu: Condition must be an object.", si);
    size_t total = 0;
    const char *opname;
    json_t *block;
    json_object_foreach(c, opname, block) {
        if (!json_is_object(block) || json_object_size(block) == 0)
            return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                "Statement %zu: Condition operator %s must map keys to values.", si, opname);
        total += json_object_size(block);
    }
    if (total > LV_IAM_MAX_ITEMS)
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "Statement %zu: too many condition keys.", si);
    s->conds = calloc(total ? total : 1, sizeof *s->conds);
    if (s->conds == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    json_object_foreach(c, opname, block) {
        size_t k;
        for (k = 0; k < sizeof cond_ops / sizeof *cond_ops; k++)
            if (strcmp(cond_ops[k].name, opname) == 0)
                break;
        if (k == sizeof cond_ops / sizeof *cond_ops)
            return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                "Statement %zu: Condition operator %s is not supported (lever supports "
                                "StringEquals, StringNotEquals, StringEqualsIgnoreCase, "
                                "StringNotEqualsIgnoreCase, StringLike, StringNotLike, Bool).",
                                si, opname);
        const char *key;
        json_t *vals;
        json_object_foreach(block, key, vals) {
            condition *cd = &s->conds[s->nconds];
            cd->op = cond_ops[k].op;
            if (*key == '\0' || strchr(key, ':') == NULL)
                return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                    "Statement %zu: condition key '%s' is not of the form service:Key.", si, key);
            cd->key = strdup(key);
            if (cd->key == NULL)
                return lv_error_set(err, LV_E_NOMEM, "out of memory");
            s->nconds++;
            for (char *p = cd->key; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            /* Bool values may be JSON booleans as well as strings. */
            if (json_is_boolean(vals)) {
                cd->values.v = calloc(1, sizeof *cd->values.v);
                if (cd->values.v == NULL || (cd->values.v[0] = strdup(json_is_true(vals) ? "true" : "false")) == NULL)
                    return lv_error_set(err, LV_E_NOMEM, "out of memory");
                cd->values.n = 1;
            } else {
                lv_err rc = read_strlist(vals, "a condition value", si, &cd->values, err);
                if (rc != LV_OK)
                    return rc;
            }
            if (cd->op == OP_BOOL)
                for (size_t i = 0; i < cd->values.n; i++)
                    if (strcasecmp(cd->values.v[i], "true") != 0 && strcasecmp(cd->values.v[i], "false") != 0)
                        return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                            "Statement %zu: Bool condition on %s needs \"true\" or \"false\".",
                                            si, key);
        }
    }
    return LV_OK;
}

static lv_err read_statement(json_t *o, size_t si, statement *s, lv_error *err)
{
    if (!json_is_object(o))
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "Statement %zu must be an object.", si);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        static const char *const known[] = {"Sid", "Effect", "Action", "NotAction", "Resource",
                                            "NotResource", "Condition", NULL};
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = strcmp(known[i], k) == 0;
        if (!ok)
            return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                "Statement %zu: element %s is not supported in an identity policy.", si, k);
    }
    json_t *sid = json_object_get(o, "Sid");
    if (sid != NULL && !json_is_string(sid))
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "Statement %zu: Sid must be a string.", si);
    const char *effect = json_string_value(json_object_get(o, "Effect"));
    if (effect == NULL || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0))
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "Statement %zu: Effect must be \"Allow\" or \"Deny\".", si);
    s->deny = strcmp(effect, "Deny") == 0;
    json_t *a = json_object_get(o, "Action"), *na = json_object_get(o, "NotAction");
    if ((a == NULL) == (na == NULL))
        return lv_error_set(err, LV_E_MALFORMED_POLICY,
                            "Statement %zu: exactly one of Action and NotAction is required.", si);
    s->not_action = na != NULL;
    lv_err rc = read_strlist(a ? a : na, a ? "Action" : "NotAction", si, &s->actions, err);
    if (rc != LV_OK)
        return rc;
    for (size_t i = 0; i < s->actions.n; i++)
        if (!action_ok(s->actions.v[i]))
            return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                "Statement %zu: action '%s' is not of the form service:Action.", si,
                                s->actions.v[i]);
    json_t *r = json_object_get(o, "Resource"), *nr = json_object_get(o, "NotResource");
    if ((r == NULL) == (nr == NULL))
        return lv_error_set(err, LV_E_MALFORMED_POLICY,
                            "Statement %zu: exactly one of Resource and NotResource is required.", si);
    s->not_resource = nr != NULL;
    if ((rc = read_strlist(r ? r : nr, r ? "Resource" : "NotResource", si, &s->resources, err)) != LV_OK)
        return rc;
    for (size_t i = 0; i < s->resources.n; i++)
        if (!resource_ok(s->resources.v[i]))
            return lv_error_set(err, LV_E_MALFORMED_POLICY,
                                "Statement %zu: resource '%s' must be \"*\" or an ARN.", si, s->resources.v[i]);
    json_t *c = json_object_get(o, "Condition");
    if (c != NULL && (rc = read_conditions(c, si, s, err)) != LV_OK)
        return rc;
    return LV_OK;
}

lv_err lv_iam_policy_parse(const char *text, size_t len, lv_iam_policy **out, lv_error *err)
{
    *out = NULL;
    if (len > LV_IAM_POLICY_MAX_LEN)
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "The policy document is longer than %d bytes.",
                            LV_IAM_POLICY_MAX_LEN);
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL)
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "The policy document is not valid JSON: %s (line %d).",
                            je.text, je.line);
    lv_err rc = LV_OK;
    lv_iam_policy *p = calloc(1, sizeof *p);
    if (p == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto done;
    }
    if (!json_is_object(doc)) {
        rc = lv_error_set(err, LV_E_MALFORMED_POLICY, "The policy document must be a JSON object.");
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) {
        if (strcmp(k, "Version") != 0 && strcmp(k, "Statement") != 0 && strcmp(k, "Id") != 0) {
            rc = lv_error_set(err, LV_E_MALFORMED_POLICY, "Element %s is not supported at the top level.", k);
            goto done;
        }
    }
    json_t *ver = json_object_get(doc, "Version");
    if (ver != NULL && (!json_is_string(ver) || (strcmp(json_string_value(ver), "2012-10-17") != 0 &&
                                                 strcmp(json_string_value(ver), "2008-10-17") != 0))) {
        rc = lv_error_set(err, LV_E_MALFORMED_POLICY, "Version must be \"2012-10-17\" or \"2008-10-17\".");
        goto done;
    }
    json_t *st = json_object_get(doc, "Statement");
    size_t n = json_is_object(st) ? 1 : json_is_array(st) ? json_array_size(st) : 0;
    if (n == 0) {
        rc = lv_error_set(err, LV_E_MALFORMED_POLICY,
                          "Statement must be an object or a non-empty array of objects.");
        goto done;
    }
    if (n > LV_IAM_MAX_STATEMENTS) {
        rc = lv_error_set(err, LV_E_MALFORMED_POLICY, "More than %d statements.", LV_IAM_MAX_STATEMENTS);
        goto done;
    }
    p->st = calloc(n, sizeof *p->st);
    if (p->st == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n && rc == LV_OK; i++) {
        p->n = i + 1;
        rc = read_statement(json_is_object(st) ? st : json_array_get(st, i), i, &p->st[i], err);
    }
done:
    json_decref(doc);
    if (rc != LV_OK) {
        lv_iam_policy_free(p);
        return rc;
    }
    *out = p;
    return LV_OK;
}

static int fold(int c, bool ic)
{
    return ic ? tolower(c) : c;
}

bool lv_iam_glob(const char *pat, const char *s, bool ic)
{
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            mark = s;
        } else if (*pat == '?' || (*pat && fold((unsigned char)*pat, ic) == fold((unsigned char)*s, ic))) {
            pat++;
            s++;
        } else if (star != NULL) {
            pat = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static bool any_glob(const strlist *l, const char *s, bool ic)
{
    for (size_t i = 0; i < l->n; i++)
        if (lv_iam_glob(l->v[i], s, ic))
            return true;
    return false;
}

static const char *ctx_value(const lv_iam_request *req, const char *key)
{
    for (size_t i = 0; i < req->ncond; i++)
        if (strcasecmp(req->cond_keys[i], key) == 0)
            return req->cond_values[i];
    return NULL;
}

/* IAM semantics: values of one key are ORed; a negated operator holds
 * when none matches, and also when the key is absent from the request. */
static bool cond_holds(const condition *c, const char *have)
{
    bool negated = c->op == OP_STRING_NOT_EQUALS || c->op == OP_STRING_NOT_EQUALS_IC ||
                   c->op == OP_STRING_NOT_LIKE;
    if (have == NULL)
        return negated;
    bool any = false;
    for (size_t i = 0; i < c->values.n && !any; i++) {
        const char *want = c->values.v[i];
        switch (c->op) {
        case OP_STRING_EQUALS:
        case OP_STRING_NOT_EQUALS: any = strcmp(want, have) == 0; break;
        case OP_STRING_EQUALS_IC:
        case OP_STRING_NOT_EQUALS_IC: any = strcasecmp(want, have) == 0; break;
        case OP_STRING_LIKE:
        case OP_STRING_NOT_LIKE: any = lv_iam_glob(want, have, false); break;
        case OP_BOOL: any = strcasecmp(want, have) == 0; break;
        }
    }
    return negated ? !any : any;
}

static bool statement_applies(const statement *s, const lv_iam_request *req)
{
    if (any_glob(&s->actions, req->action, true) == s->not_action)
        return false;
    if (any_glob(&s->resources, req->resource, false) == s->not_resource)
        return false;
    for (size_t i = 0; i < s->nconds; i++)
        if (!cond_holds(&s->conds[i], ctx_value(req, s->conds[i].key)))
            return false;
    return true;
}

lv_iam_decision lv_iam_eval(const lv_iam_policy *const *pols, size_t n, const lv_iam_request *req)
{
    bool allowed = false;
    for (size_t i = 0; i < n; i++) {
        const lv_iam_policy *p = pols[i];
        for (size_t j = 0; p && j < p->n; j++) {
            if (!statement_applies(&p->st[j], req))
                continue;
            if (p->st[j].deny)
                return LV_IAM_DENY;
            allowed = true;
        }
    }
    return allowed ? LV_IAM_ALLOW : LV_IAM_IMPLICIT_DENY;
}
