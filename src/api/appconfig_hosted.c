/* appconfig_hosted.c - hosted configuration versions, what an environment
 * serves (GetConfiguration, and the data plane through lv_acapi_serve),
 * ValidateConfiguration, and the content validators: JSON Schema
 * (json/jsonschema.h), http(s) validator URLs in place of Lambda, and
 * feature-flag documents (json/flagdoc.h). */
#include "api/appconfig.h"
#include "engine/served.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bucket.h"
#include "core/name.h"

#if __has_include("json/jsonschema.h")
#include "json/jsonschema.h"
#define LV_HAVE_JSONSCHEMA 1
#endif
#if __has_include("json/flagdoc.h")
#include "json/flagdoc.h"
#define LV_HAVE_FLAGDOC 1
#endif

enum { VALIDATOR_TIMEOUT_MS = 5000 };

/* ---------- validators ---------- */

static json_t *details(const char *type, const char *reason, const char *location)
{
    json_t *d = json_object(), *x = json_object(), *arr = json_array();
    json_object_set_new(x, "Type", json_string(type));
    json_object_set_new(x, "Reason", json_string(reason));
    if (location)
        json_object_set_new(x, "Location", json_string(location));
    json_array_append_new(arr, x);
    json_object_set_new(d, "InvalidConfiguration", arr);
    json_t *e = json_object();
    json_object_set_new(e, "Reason", json_string("InvalidConfiguration"));
    json_object_set_new(e, "Details", d);
    return e;
}

static bool http_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

bool lv_acapi_profile_calls_out(lv_engine *e, const char *app, const char *profile)
{
    if (e == NULL || app == NULL || profile == NULL)
        return false;
    bool out = false;
    lv_acview v;
    lv_engine_rdlock(e);
    lv_engine_ac_view(e, &v);
    const lv_acrec *a = lv_ac_find_app(&v, app);
    const lv_acrec *p = a ? lv_ac_find_profile(&v, lv_acrec_str(a, AF_ID), profile) : NULL;
    for (unsigned i = 0; p != NULL && !out && i + 1 < lv_acrec_count(p, PF_VALIDATORS); i += 2)
        out = strcmp(lv_acrec_item(p, PF_VALIDATORS, i)->p, "LAMBDA") == 0;
    lv_engine_rdunlock(e);
    return out;
}

lv_err lv_acapi_check_validators(lv_acapi_ctx *c, const lv_acrec *in, unsigned field, lv_error *err)
{
    (void)c;
    for (unsigned i = 0; i + 1 < lv_acrec_count(in, field); i += 2) {
        const char *type = lv_acrec_item(in, field, i)->p;
        const lv_acstr *content = lv_acrec_item(in, field, i + 1);
        if (strcmp(type, "LAMBDA") == 0) {
            if (!http_url(content->p))
                return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                    "A LAMBDA validator's Content must be an http:// or https:// URL on lever "
                                    "(lever cannot call Lambda; see docs/appconfig.md)");
            continue;
        }
        json_error_t je;
        json_t *schema = json_loadb(content->p, content->n, 0, &je);
        if (!json_is_object(schema)) {
            json_decref(schema);
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "The JSON_SCHEMA validator's Content is not a JSON schema: %s",
                                schema ? "not an object" : je.text);
        }
#ifdef LV_HAVE_JSONSCHEMA
        lv_jsonschema *s = NULL;
        lv_error serr;
        lv_error_clear(&serr);
        if (lv_jsonschema_compile(schema, &s, &serr) != LV_OK) {
            json_decref(schema);
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "The JSON_SCHEMA validator's Content is not a valid draft-4 "
                                "schema: %s", serr.msg);
        }
        lv_jsonschema_free(s);
#endif
        json_decref(schema);
    }
    return LV_OK;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t discard(char *p, size_t a, size_t b, void *u)
{
    (void)p, (void)u;
    return a * b;
}

/* POSTs the content to url: 2xx means valid. */
static lv_err call_validator(const char *url, const char *content, size_t n, const char *ctype, lv_buf *why)
{
    pthread_once(&curl_once, curl_start);
    CURL *h = curl_easy_init();
    if (h == NULL)
        return lv_buf_puts(why, "cannot start an HTTP client"), LV_E_AC_INTERNAL;
    struct curl_slist *hdr = NULL;
    char ct[300];
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype && ctype[0] ? ctype : "application/octet-stream");
    hdr = curl_slist_append(hdr, ct);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, content);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)VALIDATOR_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (cc != CURLE_OK) {
        lv_buf_printf(why, "validator %s did not answer: %s", url, curl_easy_strerror(cc));
        return LV_E_AC_BAD_REQUEST;
    }
    if (status < 200 || status > 299) {
        lv_buf_printf(why, "validator %s answered %ld", url, status);
        return LV_E_AC_BAD_REQUEST;
    }
    return LV_OK;
}

/* The shape AWS requires of a feature-flag document, when json/flagdoc.h
 * is not built in: {"flags": {...}, "values": {...}, "version": "1"}. */
static lv_err flags_check(json_t *doc, lv_buf *why)
{
#ifdef LV_HAVE_FLAGDOC
    lv_error ferr;
    lv_error_clear(&ferr);
    if (lv_flagdoc_validate(doc, why, &ferr) != LV_OK) {
        if (why->len == 0)
            lv_buf_puts(why, ferr.msg);
        return LV_E_AC_BAD_REQUEST;
    }
    return LV_OK;
#else
    if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "flags")) ||
        !json_is_object(json_object_get(doc, "values")) ||
        !json_is_string(json_object_get(doc, "version"))) {
        lv_buf_puts(why, "a feature flag document needs \"flags\" and \"values\" objects and a \"version\"");
        return LV_E_AC_BAD_REQUEST;
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(doc, "values"), k, v) {
        if (json_object_get(json_object_get(doc, "flags"), k) == NULL) {
            lv_buf_printf(why, "values.%s names no flag", k);
            return LV_E_AC_BAD_REQUEST;
        }
    }
    return LV_OK;
#endif
}

lv_err lv_acapi_validate_content(lv_acapi_ctx *c, const lv_acrec *profile, const char *content, size_t n,
                                 lv_error *err)
{
    lv_buf why = LV_BUF_INIT;
    lv_err rc = LV_OK;
    const char *type = "";
    json_t *doc = NULL;
    bool flags = strcmp(lv_acrec_str(profile, PF_TYPE), "AWS.AppConfig.FeatureFlags") == 0;
    if (flags) {
        type = "Syntax";
        json_error_t je;
        if ((doc = json_loadb(content, n, 0, &je)) == NULL) {
            lv_buf_printf(&why, "the document is not JSON: %s", je.text);
            rc = LV_E_AC_BAD_REQUEST;
        } else {
            rc = flags_check(doc, &why);
        }
    }
    for (unsigned i = 0; rc == LV_OK && i + 1 < lv_acrec_count(profile, PF_VALIDATORS); i += 2) {
        const char *vt = lv_acrec_item(profile, PF_VALIDATORS, i)->p;
        const lv_acstr *vc = lv_acrec_item(profile, PF_VALIDATORS, i + 1);
        if (strcmp(vt, "LAMBDA") == 0) {
            type = "Lambda";
            rc = call_validator(vc->p, content, n, NULL, &why);
            continue;
        }
        type = "JsonSchema";
        json_error_t je;
        if (doc == NULL && (doc = json_loadb(content, n, JSON_DECODE_ANY, &je)) == NULL) {
            lv_buf_printf(&why, "the configuration is not JSON: %s", je.text);
            rc = LV_E_AC_BAD_REQUEST;
            break;
        }
#ifdef LV_HAVE_JSONSCHEMA
        json_t *schema = json_loadb(vc->p, vc->n, 0, &je);
        lv_jsonschema *s = NULL;
        lv_error serr;
        lv_error_clear(&serr);
        if (schema == NULL || lv_jsonschema_compile(schema, &s, &serr) != LV_OK) {
            lv_buf_puts(&why, "the profile's JSON schema does not compile");
            rc = LV_E_AC_BAD_REQUEST;
        } else if (!lv_jsonschema_validate(s, doc, &why)) {
            rc = LV_E_AC_BAD_REQUEST;
        }
        lv_jsonschema_free(s);
        json_decref(schema);
#endif
    }
    json_decref(doc);
    if (rc != LV_OK) {
        c->err_extra = details(type, why.data ? why.data : "invalid", NULL);
        lv_error_set(err, rc, "The configuration is not valid: %s", why.data ? why.data : "invalid");
    }
    lv_buf_free(&why);
    return rc;
}

/* ---------- hosted versions ---------- */

static json_t *hosted_summary(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg)
{
    (void)c, (void)v, (void)arg;
    json_t *o = json_object();
    json_object_set_new(o, "ApplicationId", json_string(lv_acrec_str(r, HF_APP)));
    json_object_set_new(o, "ConfigurationProfileId", json_string(lv_acrec_str(r, HF_PROFILE)));
    json_object_set_new(o, "VersionNumber", json_integer(lv_acrec_num(r, HF_VERSION)));
    if (lv_acrec_len(r, HF_DESC))
        json_object_set_new(o, "Description", json_string(lv_acrec_str(r, HF_DESC)));
    json_object_set_new(o, "ContentType", json_string(lv_acrec_str(r, HF_CTYPE)));
    if (lv_acrec_len(r, HF_LABEL))
        json_object_set_new(o, "VersionLabel", json_string(lv_acrec_str(r, HF_LABEL)));
    return o;
}

static void hosted_answer(lv_acapi_ctx *c, const lv_acwire_call *call, const lv_acrec *r)
{
    json_t *o = hosted_summary(c, NULL, r, NULL);
    lv_acwire_answer(call->op, o, lv_acrec_str(r, HF_CONTENT), lv_acrec_len(r, HF_CONTENT),
                     lv_acrec_str(r, HF_CTYPE), c->resp);
}

static lv_err create_hosted(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *app = lv_acapi_str(call, "ApplicationId"), *prof = lv_acapi_str(call, "ConfigurationProfileId");
    if (call->payload_len > LV_AC_MAX_CONTENT) {
        c->err_extra = json_object();
        json_object_set_new(c->err_extra, "Measure", json_string("BYTES"));
        json_object_set_new(c->err_extra, "Limit", json_real(LV_AC_MAX_CONTENT));
        json_object_set_new(c->err_extra, "Size", json_real((double)call->payload_len));
        return lv_error_set(err, LV_E_AC_TOO_LARGE, "The configuration is %zu bytes; the limit is %d bytes",
                            call->payload_len, LV_AC_MAX_CONTENT);
    }
    /* Feature-flag documents are checked before they are stored. */
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    const lv_acrec *p = lv_ac_get(&v, "p%s/%s", app, prof);
    lv_acrec *pref = lv_acrec_ref(p);
    lv_engine_rdunlock(c->engine);
    lv_err rc = LV_OK;
    if (pref != NULL && strcmp(lv_acrec_str(pref, PF_TYPE), "AWS.AppConfig.FeatureFlags") == 0) {
        lv_acrec *bare = lv_acrec_clone(pref, NULL);
        if (bare == NULL)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        else
            lv_acrec_clear(bare, PF_VALIDATORS, true); /* validators run at deployment, as AWS does */
        if (rc == LV_OK)
            rc = lv_acapi_validate_content(c, bare, call->payload ? call->payload : "", call->payload_len, err);
        lv_acrec_unref(bare);
    }
    lv_acrec_unref(pref);
    /* PRE_CREATE_HOSTED_CONFIGURATION_VERSION hooks may refuse the version
     * before anything is written. */
    if (rc == LV_OK && c->hooks != NULL) {
        lv_hooks_target t;
        memset(&t, 0, sizeof t);
        t.app = app;
        t.profile = prof;
        t.content = call->payload ? call->payload : "";
        t.content_len = call->payload_len;
        t.content_type = lv_acapi_str(call, "ContentType");
        t.version_label = lv_acapi_str(call, "VersionLabel");
        t.description = lv_acapi_str(call, "Description");
        t.created_by = c->user_arn;
        rc = lv_hooks_pre(c->hooks, LV_HOOK_PRE_CREATE, &t, err);
    }
    if (rc != LV_OK)
        return rc;
    lv_acrec *in = lv_acrec_new(LV_AC_HOSTED, HF__N);
    if (in == NULL || lv_acapi_field(in, HF_DESC, call, "Description") != LV_OK ||
        lv_acapi_field(in, HF_CTYPE, call, "ContentType") != LV_OK ||
        lv_acapi_field(in, HF_LABEL, call, "VersionLabel") != LV_OK ||
        lv_acrec_set(in, HF_CONTENT, call->payload ? call->payload : "", call->payload_len) != LV_OK) {
        lv_acrec_unref(in);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    lv_acreq q;
    memset(&q, 0, sizeof q);
    q.op = LV_ACOP_CREATE_HOSTED;
    q.in = in;
    q.app = app;
    q.profile = prof;
    q.lock = lv_acapi_int(call, "LatestVersionNumber", -1);
    lv_acrec *res = NULL;
    rc = lv_acapi_write(c, &q, &res, err);
    if (rc == LV_OK)
        hosted_answer(c, call, res);
    lv_acrec_unref(res);
    lv_acrec_unref(in);
    return rc;
}

/* ---------- serving ---------- */

void lv_acapi_served_free(lv_acapi_served *s)
{
    lv_buf_free(&s->content);
}

/* The simplified form of a feature-flag document: {flag: {enabled, attrs}}. */
static lv_err simplify(lv_buf *content)
{
    json_t *doc = json_loadb(content->data ? content->data : "", content->len, 0, NULL);
    if (doc == NULL)
        return LV_OK; /* validated when stored; serve as is */
#ifdef LV_HAVE_FLAGDOC
    json_t *out = lv_flagdoc_simplify(doc, NULL);
#else
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(doc, "values"), k, v) {
        json_t *f = json_object();
        const char *a;
        json_t *x;
        json_object_foreach(v, a, x) {
            if (a[0] != '_')
                json_object_set(f, a, x);
        }
        json_object_set_new(out, k, f);
    }
#endif
    json_decref(doc);
    if (out == NULL)
        return LV_E_NOMEM;
    char *s = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    if (s == NULL)
        return LV_E_NOMEM;
    lv_buf_reset(content);
    lv_err rc = lv_buf_puts(content, s);
    free(s);
    return rc;
}

/* Fills s's content, content type and label with version ver of the
 * profile (read lock held). */
static lv_err load_version(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *p, const char *ver,
                           lv_acapi_served *s, lv_error *err)
{
    const char *ssm = NULL;
    lv_err rc = LV_OK;
    snprintf(s->version, sizeof s->version, "%s", ver);
    if (lv_ac_location(lv_acrec_str(p, PF_LOCATION), &ssm) == LV_AC_LOC_HOSTED) {
        char *end;
        long long n = strtoll(ver, &end, 10);
        const lv_acrec *h = *end == '\0' ? lv_ac_get(v, "h%s/%s/%010lld", s->app, s->profile, n) : NULL;
        if (h == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Hosted configuration version %s not found", ver);
        snprintf(s->content_type, sizeof s->content_type, "%s", lv_acrec_str(h, HF_CTYPE));
        snprintf(s->label, sizeof s->label, "%s", lv_acrec_str(h, HF_LABEL));
        rc = lv_buf_append(&s->content, lv_acrec_str(h, HF_CONTENT), lv_acrec_len(h, HF_CONTENT));
    } else if (ssm != NULL) {
        /* The parameter's version (a number) or label is the version. */
        char sel[600];
        snprintf(sel, sizeof sel, "%s", ssm);
        const lv_param *prm = lv_engine_get(c->engine, c->region, sel);
        const lv_version *pv = NULL;
        if (prm != NULL) {
            char *end;
            long long n = strtoll(ver, &end, 10);
            pv = ver[0] && *end == '\0' ? lv_param_find_version(prm, (uint32_t)n) : lv_param_find_label(prm, ver);
        }
        if (pv == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Parameter %s has no version %s", ssm, ver);
        rc = pv->type == LV_TYPE_SECURE_STRING ? lv_engine_decrypt(c->engine, prm, pv, &s->content, err)
                                               : lv_buf_append(&s->content, pv->value, pv->value_len);
        /* Deployed by label: the version served is the one the label names
         * now (so a client holding the old one is answered the new
         * content), and the label is its Version-Label. */
        s->label[0] = '\0';
        if (pv->version != 0 && !(ver[0] && strspn(ver, "0123456789") == strlen(ver))) {
            snprintf(s->version, sizeof s->version, "%u", pv->version);
            snprintf(s->label, sizeof s->label, "%s", ver);
        }
        snprintf(s->content_type, sizeof s->content_type, "text/plain");
    }
    if (rc == LV_OK && s->content.data == NULL)
        rc = lv_buf_reserve(&s->content, 1);
    return rc;
}

/* Which side of a deployment in progress serves entity (CONTRACTS.md 2). */
static lv_err pick_side(const lv_acrec *d, const char *entity, const char *side, lv_acapi_served *s, bool *to,
                        lv_error *err)
{
    *to = true;
    double pct = strtod(lv_acrec_str(d, DF_PERCENT), NULL);
    if (!lv_ac_in_progress(d) || pct >= 100)
        return LV_OK;
    s->rollout = true;
    snprintf(s->percent, sizeof s->percent, "%s", lv_acrec_str(d, DF_PERCENT));
    snprintf(s->seed, sizeof s->seed, "appconfig:%s:%s:%u", s->app, s->env, s->deployment);
    snprintf(s->from, sizeof s->from, "%s", lv_acrec_str(d, DF_PREV_VERSION));
    snprintf(s->to, sizeof s->to, "%s", lv_acrec_str(d, DF_VERSION));
    if (side != NULL && strcmp(side, "from") != 0 && strcmp(side, "to") != 0)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "x-lever-rollout-side must be from or to");
    if (s->from[0] == '\0')
        return LV_OK; /* nothing to fall back on: everyone gets the new version */
    if (side != NULL)
        *to = strcmp(side, "to") == 0;
    else
        *to = lv_bucket_entity_in(s->seed, entity ? entity : "", pct);
    return LV_OK;
}

lv_err lv_acapi_serve_for(lv_acapi_ctx *c, const char *app, const char *env, const char *profile, bool stored,
                          const char *entity, const char *side, lv_acapi_served *s, lv_error *err)
{
    lv_acview v;
    lv_err rc = LV_OK;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    const lv_acrec *a = lv_ac_find_app(&v, app);
    const lv_acrec *e = a ? lv_ac_find_env(&v, lv_acrec_str(a, AF_ID), env) : NULL;
    const lv_acrec *p = a ? lv_ac_find_profile(&v, lv_acrec_str(a, AF_ID), profile) : NULL;
    if (a == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Application %s not found", app);
    else if (e == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Environment %s not found", env);
    else if (p == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s not found", profile);
    const lv_acrec *d = rc == LV_OK ? lv_ac_serving(&v, lv_acrec_str(a, AF_ID), lv_acrec_str(e, EF_ID),
                                                    lv_acrec_str(p, PF_ID))
                                    : NULL;
    if (rc == LV_OK && d == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s has not been deployed to environment %s",
                          profile, env);
    if (rc == LV_OK) {
        snprintf(s->app, sizeof s->app, "%s", lv_acrec_str(a, AF_ID));
        snprintf(s->env, sizeof s->env, "%s", lv_acrec_str(e, EF_ID));
        snprintf(s->profile, sizeof s->profile, "%s", lv_acrec_str(p, PF_ID));
        s->deployment = (uint32_t)lv_acrec_num(d, DF_NUMBER);
        s->flags = strcmp(lv_acrec_str(p, PF_TYPE), "AWS.AppConfig.FeatureFlags") == 0;
        bool to = true;
        rc = pick_side(d, entity, side, s, &to, err);
        s->side_to = to;
        if (rc == LV_OK)
            rc = load_version(c, &v, p, to ? lv_acrec_str(d, DF_VERSION) : s->from, s, err);
        if (rc == LV_OK && to && lv_acrec_len(d, DF_LABEL))
            snprintf(s->label, sizeof s->label, "%s", lv_acrec_str(d, DF_LABEL));
    }
    lv_engine_rdunlock(c->engine);
    if (rc == LV_OK && s->flags && !stored) {
        snprintf(s->content_type, sizeof s->content_type, "application/json");
        if (simplify(&s->content) != LV_OK)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    if (rc != LV_OK && err->msg[0] == '\0')
        lv_error_set(err, rc, "out of memory");
    return rc;
}

void lv_acapi_served_note(lv_acapi_ctx *c, const lv_acapi_served *s, const char *entity)
{
    if (s->rollout && s->from[0])
        lv_engine_served_direct(c->engine, s->seed, entity ? entity : "", s->side_to);
}

lv_err lv_acapi_serve(lv_acapi_ctx *c, const char *app, const char *env, const char *profile, bool stored,
                      lv_acapi_served *s, lv_error *err)
{
    return lv_acapi_serve_for(c, app, env, profile, stored, NULL, NULL, s, err);
}

static lv_err get_configuration(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *stored = lv_http_header_get(c->req, "X-Lever-Document");
    lv_acapi_served s;
    memset(&s, 0, sizeof s);
    const char *side = lv_http_header_get(c->req, "x-lever-rollout-side");
    lv_err rc = lv_acapi_serve_for(c, lv_acapi_str(call, "Application"), lv_acapi_str(call, "Environment"),
                                   lv_acapi_str(call, "Configuration"), stored && strcmp(stored, "stored") == 0,
                                   lv_acapi_str(call, "ClientId"), side, &s, err);
    /* A client bucketed here is counted here; a cache asking for a side
     * buckets its own entities and reports them (Lever.WatchConfigurations). */
    if (rc == LV_OK && side == NULL)
        lv_acapi_served_note(c, &s, lv_acapi_str(call, "ClientId"));
    if (rc == LV_OK) {
        const char *have = lv_acapi_str(call, "ClientConfigurationVersion");
        bool same = have != NULL && strcmp(have, s.version) == 0;
        json_t *o = json_object();
        json_object_set_new(o, "ConfigurationVersion", json_string(s.version));
        char dep[16];
        snprintf(dep, sizeof dep, "%u", s.deployment);
        lv_acwire_header(c->resp, "x-lever-deployment", dep);
        if (s.rollout) {
            /* A cache can fetch both sides and bucket its own entities
             * with the same function (docs/rollouts.md). */
            lv_acwire_header(c->resp, "x-lever-rollout-percent", s.percent);
            lv_acwire_header(c->resp, "x-lever-rollout-seed", s.seed);
            lv_acwire_header(c->resp, "x-lever-rollout-from", s.from);
            lv_acwire_header(c->resp, "x-lever-rollout-to", s.to);
        }
        /* Says which form the body is, so a cache can tell them apart. */
        if (s.flags && stored && strcmp(stored, "stored") == 0)
            lv_acwire_header(c->resp, "X-Lever-Document", "stored");
        lv_acwire_answer(call->op, o, same ? "" : s.content.data, same ? 0 : s.content.len, s.content_type, c->resp);
    }
    lv_acapi_served_free(&s);
    return rc;
}

static lv_err validate_configuration(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *app = lv_acapi_str(call, "ApplicationId"), *prof = lv_acapi_str(call, "ConfigurationProfileId");
    const char *ver = lv_acapi_str(call, "ConfigurationVersion");
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    const lv_acrec *p = lv_ac_get(&v, "p%s/%s", app, prof);
    char *end;
    long long n = strtoll(ver, &end, 10);
    const lv_acrec *h = p && *end == '\0' ? lv_ac_get(&v, "h%s/%s/%010lld", app, prof, n) : NULL;
    lv_acrec *pr = lv_acrec_ref(p), *hr = lv_acrec_ref(h);
    lv_engine_rdunlock(c->engine);
    lv_err rc = LV_OK;
    if (pr == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s not found", prof);
    else if (hr == NULL && lv_ac_location(lv_acrec_str(pr, PF_LOCATION), NULL) == LV_AC_LOC_HOSTED)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Hosted configuration version %s not found", ver);
    else if (hr != NULL)
        rc = lv_acapi_validate_content(c, pr, lv_acrec_str(hr, HF_CONTENT), lv_acrec_len(hr, HF_CONTENT), err);
    lv_acrec_unref(pr);
    lv_acrec_unref(hr);
    if (rc == LV_OK)
        lv_acapi_reply(c, call, NULL);
    return rc;
}

lv_err lv_acapi_hosted(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *app = lv_acapi_str(call, "ApplicationId"), *prof = lv_acapi_str(call, "ConfigurationProfileId");
    lv_acview v;
    switch (call->op) {
    case ACW_CreateHostedConfigurationVersion:
        return create_hosted(c, call, err);
    case ACW_GetConfiguration:
        return get_configuration(c, call, err);
    case ACW_ValidateConfiguration:
        return validate_configuration(c, call, err);
    case ACW_GetHostedConfigurationVersion: {
        lv_engine_rdlock(c->engine);
        lv_engine_ac_view(c->engine, &v);
        const lv_acrec *h = lv_ac_get(&v, "h%s/%s/%010" PRId64, app, prof, lv_acapi_int(call, "VersionNumber", 0));
        lv_acrec *hr = lv_acrec_ref(h);
        bool parent = lv_ac_get(&v, "p%s/%s", app, prof) != NULL;
        lv_engine_rdunlock(c->engine);
        if (hr == NULL)
            return parent ? lv_error_set(err, LV_E_AC_NOT_FOUND, "Hosted configuration version %" PRId64 " not found",
                                         lv_acapi_int(call, "VersionNumber", 0))
                          : lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s not found", prof);
        hosted_answer(c, call, hr);
        lv_acrec_unref(hr);
        return LV_OK;
    }
    case ACW_DeleteHostedConfigurationVersion: {
        lv_acreq q;
        memset(&q, 0, sizeof q);
        q.op = LV_ACOP_DELETE_HOSTED;
        q.app = app;
        q.profile = prof;
        q.number = lv_acapi_int(call, "VersionNumber", 0);
        q.lock = -1;
        lv_err rc = lv_acapi_write(c, &q, NULL, err);
        if (rc == LV_OK)
            lv_acapi_reply(c, call, NULL);
        return rc;
    }
    case ACW_ListHostedConfigurationVersions: {
        lv_engine_rdlock(c->engine);
        lv_engine_ac_view(c->engine, &v);
        bool parent = lv_ac_get(&v, "p%s/%s", app, prof) != NULL;
        lv_engine_rdunlock(c->engine);
        if (!parent)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s not found", prof);
        char prefix[1200];
        snprintf(prefix, sizeof prefix, "h%s/%s/", app, prof);
        json_t *out = NULL;
        lv_err rc = lv_acapi_list(c, call, prefix, hosted_summary, NULL, &out, err);
        if (rc == LV_OK)
            lv_acapi_reply(c, call, out);
        else
            json_decref(out);
        return rc;
    }
    default:
        return lv_error_set(err, LV_E_INTERNAL, "not a hosted operation");
    }
}
