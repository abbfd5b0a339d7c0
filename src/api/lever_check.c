/* lever_check.c - Lever.CheckConfiguration: a dry run of what leverd would
 * say about a draft configuration for a profile, without storing it: JSON
 * syntax (line and column), the feature-flag rules (json/flagdoc.h, the
 * one validator and evaluator, so rule syntax is checked by the same
 * parser that serves flags), the profile's validators as StartDeployment
 * runs them, and, for a feature-flag document with a Context, every flag
 * evaluated for that context. The console's editors call it as you type. */
#include "api/lever_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/appconfig.h"
#include "api/jreq.h"
#include "json/flagdoc.h"

enum { CHECK_MAX_CONTEXT = 64, CHECK_MAX_CONTENT = 2 * 1024 * 1024, CHECK_MAX_VALUE = 1024 };

static void violation(json_t *list, const char *pointer, const char *reason)
{
    json_t *v = json_object();
    if (pointer)
        json_object_set_new(v, "Pointer", json_string(pointer));
    json_object_set_new(v, "Reason", json_string(reason));
    json_array_append_new(list, v);
}

/* flagdoc's details, one "<pointer>: <reason>" a line, as violations. */
static void flag_violations(json_t *list, const lv_buf *details)
{
    const char *s = details->data ? details->data : "";
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        char line[4096];
        snprintf(line, sizeof line, "%.*s", (int)n, s);
        char *sep = line[0] == '/' || line[0] == '\0' ? strstr(line, ": ") : NULL;
        if (sep) {
            *sep = '\0';
            violation(list, line, sep + 2);
        } else if (line[0]) {
            violation(list, NULL, line);
        }
        s += n + (nl ? 1 : 0);
    }
}

/* The request's Context object as flag context pairs; numbers keep their
 * JSON text. */
static lv_err context_in(jreq *r, json_t *obj, lv_flag_kv *kv, char (*num)[32], size_t *n, lv_error *err)
{
    *n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (*n == CHECK_MAX_CONTEXT)
            return lv_error_set(err, LV_E_VALIDATION, "Context has more than %d keys.", CHECK_MAX_CONTEXT);
        lv_flag_kv *x = &kv[*n];
        x->key = k;
        if (json_is_string(v) && json_string_length(v) <= CHECK_MAX_VALUE && strlen(json_string_value(v)) ==
                                                                                  json_string_length(v)) {
            x->value = json_string_value(v);
            x->type = LV_FV_STRING;
        } else if (json_is_boolean(v)) {
            x->value = json_is_true(v) ? "true" : "false";
            x->type = LV_FV_BOOL;
        } else if (json_is_integer(v) || json_is_real(v)) {
            if (json_is_integer(v))
                snprintf(num[*n], sizeof num[*n], "%lld", (long long)json_integer_value(v));
            else
                snprintf(num[*n], sizeof num[*n], "%.17g", json_real_value(v));
            x->value = num[*n];
            x->type = LV_FV_NUMBER;
        } else {
            jreq_fail(r, k, "context", "Member must be a string of at most 1024 characters, a number or a boolean");
            return jreq_finish(r, err);
        }
        (*n)++;
    }
    return LV_OK;
}

static json_t *evaluate(const lv_flagdoc *d, const lv_flag_context *ctx)
{
    json_t *out = json_array();
    for (size_t i = 0; i < lv_flagdoc_count(d); i++) {
        const char *key = lv_flagdoc_key(d, i);
        lv_flag_result res;
        lv_flagdoc_eval(d, key, ctx, &res);
        json_t *o = json_object();
        json_object_set_new(o, "Flag", json_string(key));
        json_object_set_new(o, "Enabled", json_boolean(res.enabled));
        if (res.variant)
            json_object_set_new(o, "Variant", json_string(res.variant));
        json_object_set_new(o, "Reason", json_string(lv_flag_reason_name(res.reason)));
        if (res.error_code)
            json_object_set_new(o, "ErrorCode", json_string(res.error_code));
        json_t *value = lv_flag_result_value(&res, false);
        if (value)
            json_object_set_new(o, "Value", value);
        json_array_append_new(out, o);
    }
    return out;
}

/* The checks on content for profile pr; fills out's Violations. Returns
 * the compiled document when it is a valid feature-flag document. */
static lv_err check(const lv_ssm_ctx *sc, const lv_acrec *pr, const char *content, size_t n, const char *ctype,
                    json_t *out, lv_flagdoc **compiled, lv_error *err)
{
    json_t *list = json_array();
    json_object_set_new(out, "Violations", list);
    bool flags = strcmp(lv_acrec_str(pr, PF_TYPE), "AWS.AppConfig.FeatureFlags") == 0;
    bool schema = false;
    for (unsigned i = 0; i + 1 < lv_acrec_count(pr, PF_VALIDATORS); i += 2)
        schema = schema || strcmp(lv_acrec_item(pr, PF_VALIDATORS, i)->p, "JSON_SCHEMA") == 0;
    bool json = flags || schema || (ctype && strstr(ctype, "json") != NULL);
    if (json) {
        json_error_t je;
        json_t *doc = json_loadb(content, n, JSON_DECODE_ANY | (flags ? JSON_REJECT_DUPLICATES : 0), &je);
        if (doc == NULL) {
            char why[256];
            snprintf(why, sizeof why, "line %d, column %d: %s", je.line, je.column, je.text);
            violation(list, NULL, why);
            json_object_set_new(out, "Line", json_integer(je.line));
            json_object_set_new(out, "Column", json_integer(je.column));
            json_object_set_new(out, "Stage", json_string("Syntax"));
            return LV_OK;
        }
        json_decref(doc);
    }
    if (flags) {
        lv_buf details = LV_BUF_INIT;
        lv_error ferr;
        lv_error_clear(&ferr);
        lv_err rc = lv_flagdoc_parse(content, n, compiled, &details, &ferr);
        if (rc == LV_E_NOMEM) {
            lv_buf_free(&details);
            return lv_error_set(err, rc, "out of memory");
        }
        if (rc != LV_OK) {
            if (details.len == 0)
                violation(list, NULL, ferr.msg);
            flag_violations(list, &details);
            json_object_set_new(out, "Stage", json_string("FeatureFlags"));
        }
        lv_buf_free(&details);
        if (rc != LV_OK)
            return LV_OK;
    }
    /* The profile's validators, exactly as StartDeployment runs them. */
    lv_acapi_ctx ac;
    memset(&ac, 0, sizeof ac);
    ac.engine = sc->engine;
    ac.account = sc->account;
    ac.region = sc->region;
    ac.user_arn = sc->user_arn;
    ac.now_ms = sc->now_ms;
    lv_error verr;
    lv_error_clear(&verr);
    lv_err rc = lv_acapi_validate_content(&ac, pr, content, n, &verr);
    json_decref(ac.err_extra);
    if (rc == LV_E_NOMEM)
        return lv_error_set(err, rc, "out of memory");
    if (rc != LV_OK) {
        violation(list, NULL, verr.msg);
        json_object_set_new(out, "Stage", json_string("Validators"));
        lv_flagdoc_free(*compiled);
        *compiled = NULL;
    }
    return LV_OK;
}

lv_err lv_lever_check_configuration(const lv_ssm_ctx *c, const char *body, size_t len, lv_buf *out,
                                    lv_error *err)
{
    jreq r;
    lv_err rc = jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    size_t clen = 0;
    const char *app = jreq_str(&r, NULL, "Application", true, 1, 128, NULL);
    const char *prof = jreq_str(&r, NULL, "ConfigurationProfile", true, 1, 128, NULL);
    const char *content = jreq_str(&r, NULL, "Content", true, 0, CHECK_MAX_CONTENT, &clen);
    const char *ctype = jreq_str(&r, NULL, "ContentType", false, 0, 255, NULL);
    const char *entity = jreq_str(&r, NULL, "EntityId", false, 0, CHECK_MAX_VALUE, NULL);
    json_t *ctxobj = r.root ? json_object_get(r.root, "Context") : NULL;
    if (ctxobj != NULL && !json_is_object(ctxobj))
        jreq_fail(&r, "Context", "context", "Member must be an object of strings, numbers or booleans");
    lv_flag_kv kv[CHECK_MAX_CONTEXT];
    char num[CHECK_MAX_CONTEXT][32];
    size_t nkv = 0;
    if ((rc = jreq_finish(&r, err)) != LV_OK || (ctxobj && (rc = context_in(&r, ctxobj, kv, num, &nkv, err)) != LV_OK)) {
        jreq_free(&r);
        return rc;
    }
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    lv_acrec *pr = lv_acrec_ref(lv_ac_get(&v, "p%s/%s", app, prof));
    bool appok = lv_ac_get(&v, "a%s", app) != NULL;
    lv_engine_rdunlock(c->engine);
    if (pr == NULL) {
        rc = appok ? lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s not found", prof)
                   : lv_error_set(err, LV_E_AC_NOT_FOUND, "Application %s not found", app);
        jreq_free(&r);
        return rc;
    }
    json_t *o = json_object();
    lv_flagdoc *doc = NULL;
    rc = check(c, pr, content, clen, ctype, o, &doc, err);
    json_object_set_new(o, "Valid", json_boolean(rc == LV_OK && json_array_size(json_object_get(o, "Violations")) == 0));
    if (rc == LV_OK && doc != NULL && (ctxobj != NULL || entity != NULL)) {
        lv_flag_context fc = {kv, nkv, entity};
        json_object_set_new(o, "Flags", evaluate(doc, &fc));
    }
    if (rc == LV_OK) {
        char *text = json_dumps(o, JSON_COMPACT);
        rc = text && lv_buf_puts(out, text) == LV_OK ? LV_OK : lv_error_set(err, LV_E_NOMEM, "out of memory");
        free(text);
    }
    json_decref(o);
    lv_flagdoc_free(doc);
    lv_acrec_unref(pr);
    jreq_free(&r);
    return rc;
}
