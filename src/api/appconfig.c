/* appconfig.c - the AppConfig front-end's dispatch and what its handler
 * files share: authorisation with appconfig:<Operation> on AppConfig ARNs,
 * input member access, writes with fresh ids, paging, ARNs, replies. */
#include "api/appconfig.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/name.h"
#include "core/token.h"

/* ---------- input members ---------- */

const char *lv_acapi_str(const lv_acwire_call *call, const char *member)
{
    json_t *v = json_object_get(call->in, member);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool lv_acapi_has(const lv_acwire_call *call, const char *member)
{
    return json_object_get(call->in, member) != NULL;
}

int64_t lv_acapi_int(const lv_acwire_call *call, const char *member, int64_t dflt)
{
    json_t *v = json_object_get(call->in, member);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return dflt;
}

lv_err lv_acapi_field(lv_acrec *rec, unsigned i, const lv_acwire_call *call, const char *member)
{
    json_t *v = json_object_get(call->in, member);
    if (v == NULL)
        return LV_OK;
    if (json_is_string(v))
        return lv_acrec_set(rec, i, json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        return lv_acrec_set_num(rec, i, json_integer_value(v));
    if (json_is_real(v)) {
        char b[32];
        snprintf(b, sizeof b, "%g", json_real_value(v));
        return lv_acrec_set_str(rec, i, b);
    }
    if (json_is_boolean(v))
        return lv_acrec_set_str(rec, i, json_is_true(v) ? "1" : "0");
    return LV_OK;
}

lv_err lv_acapi_tags_in(const lv_acwire_call *call, const char *member, lv_acrec **out, lv_error *err)
{
    *out = NULL;
    json_t *m = json_object_get(call->in, member);
    if (!json_is_object(m))
        return LV_OK;
    lv_acrec *t = lv_acrec_new(LV_AC_TAGS, TF__N);
    if (t == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    lv_acrec_clear(t, TF_TAGS, true);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (strncmp(k, "aws:", 4) == 0) {
            lv_acrec_unref(t);
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Tag keys starting with aws: are reserved");
        }
        if (lv_acrec_push(t, TF_TAGS, k, strlen(k)) != LV_OK ||
            lv_acrec_push(t, TF_TAGS, json_string_value(v), json_string_length(v)) != LV_OK) {
            lv_acrec_unref(t);
            return lv_error_set(err, LV_E_NOMEM, "out of memory");
        }
    }
    *out = t;
    return LV_OK;
}

/* ---------- writes, replies, time ---------- */

lv_err lv_acapi_write(lv_acapi_ctx *c, lv_acreq *req, lv_acrec **result, lv_error *err)
{
    unsigned char rnd[7];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return lv_error_set(err, LV_E_AC_INTERNAL, "no randomness for a new id");
    lv_ac_make_id(rnd, req->new_id);
    req->now_ms = c->now_ms;
    uint64_t rev = 0;
    lv_err rc = lv_engine_ac_write(c->engine, req, result, &rev, err);
    if (rc == LV_OK && rev != 0) {
        char b[24];
        snprintf(b, sizeof b, "%llu", (unsigned long long)rev);
        lv_acwire_header(c->resp, "x-lever-change-revision", b);
    }
    return rc;
}

void lv_acapi_reply(lv_acapi_ctx *c, const lv_acwire_call *call, json_t *out)
{
    lv_acwire_answer(call->op, out, NULL, 0, NULL, c->resp);
}

json_t *lv_acapi_time(int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char b[96];
    snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(b);
}

/* ---------- ARNs ---------- */

lv_err lv_acapi_key_arn(lv_acapi_ctx *c, const lv_acrec *r, lv_buf *arn)
{
    lv_err rc = lv_buf_printf(arn, "arn:aws:appconfig:%s:%s:", c->region, c->account);
    if (rc != LV_OK)
        return rc;
    switch (r->kind) {
    case LV_AC_APP:
        return lv_buf_printf(arn, "application/%s", lv_acrec_str(r, AF_ID));
    case LV_AC_ENV:
        return lv_buf_printf(arn, "application/%s/environment/%s", lv_acrec_str(r, EF_APP), lv_acrec_str(r, EF_ID));
    case LV_AC_PROFILE:
        return lv_buf_printf(arn, "application/%s/configurationprofile/%s", lv_acrec_str(r, PF_APP),
                             lv_acrec_str(r, PF_ID));
    case LV_AC_STRATEGY:
        return lv_buf_printf(arn, "deploymentstrategy/%s", lv_acrec_str(r, SF_ID));
    case LV_AC_DEPLOY:
        return lv_buf_printf(arn, "application/%s/environment/%s/deployment/%s", lv_acrec_str(r, DF_APP),
                             lv_acrec_str(r, DF_ENV), lv_acrec_str(r, DF_NUMBER));
    case LV_AC_EXT:
        return lv_buf_printf(arn, "extension/%s/%s", lv_acrec_str(r, XF_ID), lv_acrec_str(r, XF_VERSION));
    case LV_AC_ASSOC:
        return lv_buf_printf(arn, "extensionassociation/%s", lv_acrec_str(r, YF_ID));
    default:
        return lv_buf_puts(arn, "unknown");
    }
}

static bool is_id(const char *s, size_t n)
{
    if (n != 7)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

lv_err lv_acapi_arn_key(lv_acapi_ctx *c, const char *arn, lv_buf *key, lv_error *err)
{
    lv_buf_reset(key);
    /* arn:aws:appconfig:REGION:ACCOUNT:RESOURCE */
    const char *p = arn;
    const char *f[6];
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        p = strchr(p, ':');
        if (p == NULL)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Invalid ARN %.200s", arn);
        p++;
    }
    f[5] = p;
    /* A parameter's ARN: label rollouts of that parameter (associations;
     * docs/rollouts.md). The key is its label rollouts' common prefix. */
    if (strncmp(arn, "arn:", 4) == 0 && strncmp(f[2], "ssm:", 4) == 0) {
        if (strncmp(f[4], c->account, strlen(c->account)) != 0 || f[4][strlen(c->account)] != ':')
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Resource %.200s not found", arn);
        size_t rl = (size_t)(f[4] - f[3] - 1);
        lv_buf name = LV_BUF_INIT;
        lv_error nerr;
        lv_error_clear(&nerr);
        if (rl == 0 || rl > 64 || lv_name_canonical(arn, strlen(arn), &name, &nerr) != LV_OK) {
            lv_buf_free(&name);
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Invalid ARN %.200s: %s", arn,
                                nerr.msg[0] ? nerr.msg : "no region");
        }
        lv_err prc = lv_buf_printf(key, "%c%.*s|%s|", LV_AC_LABEL_DEPLOY, (int)rl, f[3], name.data);
        lv_buf_free(&name);
        return prc == LV_OK ? LV_OK : lv_error_set(err, prc, "out of memory");
    }
    if (strncmp(arn, "arn:", 4) != 0 || strncmp(f[2], "appconfig:", 10) != 0)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Invalid ARN %.200s: not an AppConfig ARN", arn);
    if (strncmp(f[4], c->account, strlen(c->account)) != 0 || f[4][strlen(c->account)] != ':')
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Resource %.200s not found", arn);
    char *parts[8];
    char buf[512];
    if (strlen(f[5]) >= sizeof buf)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Invalid ARN %.200s", arn);
    snprintf(buf, sizeof buf, "%s", f[5]);
    int n = 0;
    for (char *s = buf; s != NULL && n < 8;) {
        parts[n++] = s;
        s = strchr(s, '/');
        if (s)
            *s++ = '\0';
    }
    lv_err rc = LV_E_AC_BAD_REQUEST;
    if (n == 2 && strcmp(parts[0], "application") == 0 && is_id(parts[1], strlen(parts[1])))
        rc = lv_buf_printf(key, "a%s", parts[1]);
    else if (n == 4 && strcmp(parts[0], "application") == 0 && strcmp(parts[2], "environment") == 0 &&
             is_id(parts[1], strlen(parts[1])) && is_id(parts[3], strlen(parts[3])))
        rc = lv_buf_printf(key, "e%s/%s", parts[1], parts[3]);
    else if (n == 4 && strcmp(parts[0], "application") == 0 && strcmp(parts[2], "configurationprofile") == 0 &&
             is_id(parts[1], strlen(parts[1])) && is_id(parts[3], strlen(parts[3])))
        rc = lv_buf_printf(key, "p%s/%s", parts[1], parts[3]);
    else if (n == 6 && strcmp(parts[0], "application") == 0 && strcmp(parts[2], "environment") == 0 &&
             strcmp(parts[4], "deployment") == 0 && is_id(parts[1], 7) && is_id(parts[3], 7)) {
        char *end;
        long long num = strtoll(parts[5], &end, 10);
        rc = *end || num < 1 ? LV_E_AC_BAD_REQUEST : lv_buf_printf(key, "d%s/%s/%010lld", parts[1], parts[3], num);
    } else if (n == 2 && strcmp(parts[0], "deploymentstrategy") == 0 && parts[1][0])
        rc = lv_buf_printf(key, "s%s", parts[1]);
    else if ((n == 2 || n == 3) && strcmp(parts[0], "extension") == 0 && is_id(parts[1], strlen(parts[1])))
        rc = lv_buf_printf(key, "x%s", parts[1]);
    else if (n == 2 && strcmp(parts[0], "extensionassociation") == 0 && is_id(parts[1], strlen(parts[1])))
        rc = lv_buf_printf(key, "X%s", parts[1]);
    if (rc == LV_E_AC_BAD_REQUEST)
        return lv_error_set(err, rc, "Invalid ARN %.200s: lever does not know this resource type", arn);
    return rc == LV_OK ? LV_OK : lv_error_set(err, rc, "out of memory");
}

/* ---------- authorisation ---------- */

lv_err lv_acapi_allow(lv_acapi_ctx *c, int op, lv_error *err, const char *fmt, ...)
{
    char res[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(res, sizeof res, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof res)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "The resource name is too long");
    if (strncmp(res, "arn:", 4) == 0 || strcmp(res, "*") == 0)
        snprintf(c->resource, sizeof c->resource, "%s", res);
    else
        snprintf(c->resource, sizeof c->resource, "arn:aws:appconfig:%s:%s:%s", c->region, c->account, res);
    if (c->authorize == NULL)
        return LV_OK;
    char action[96];
    snprintf(action, sizeof action, "appconfig:%s", lv_acwire_op_name(op));
    return c->authorize(c->authz_ctx, action, c->resource, err);
}

/* The resource each operation acts on, from its input members. */
static lv_err authorize_call(lv_acapi_ctx *c, const lv_acwire_call *call, lv_error *err)
{
    const char *app = lv_acapi_str(call, "ApplicationId");
    if (app == NULL)
        app = lv_acapi_str(call, "Application");
    if (app == NULL)
        app = lv_acapi_str(call, "ApplicationIdentifier");
    const char *env = lv_acapi_str(call, "EnvironmentId");
    if (env == NULL)
        env = lv_acapi_str(call, "Environment");
    if (env == NULL)
        env = lv_acapi_str(call, "EnvironmentIdentifier");
    const char *prof = lv_acapi_str(call, "ConfigurationProfileId");
    const char *conf = lv_acapi_str(call, "Configuration");
    if (conf == NULL)
        conf = lv_acapi_str(call, "ConfigurationProfileIdentifier");
    const char *s;
    int op = call->op;
    if (op == ACW_GetLatestConfiguration)
        return LV_OK; /* the session's resource, checked by the handler */
    if ((s = lv_acapi_str(call, "ResourceArn")) != NULL)
        return lv_acapi_allow(c, op, err, "%s", s);
    if ((s = lv_acapi_str(call, "DeploymentStrategyId")) != NULL && app == NULL)
        return lv_acapi_allow(c, op, err, "deploymentstrategy/%s", s);
    if ((s = lv_acapi_str(call, "ExtensionAssociationId")) != NULL)
        return lv_acapi_allow(c, op, err, "extensionassociation/%s", s);
    if ((s = lv_acapi_str(call, "ExtensionIdentifier")) != NULL && op != ACW_CreateExtensionAssociation &&
        op != ACW_ListExtensionAssociations)
        return strncmp(s, "arn:", 4) == 0 ? lv_acapi_allow(c, op, err, "%s", s)
                                          : lv_acapi_allow(c, op, err, "extension/%s", s);
    if (op == ACW_CreateExtensionAssociation && (s = lv_acapi_str(call, "ResourceIdentifier")) != NULL)
        return lv_acapi_allow(c, op, err, "%s", s);
    if (app == NULL)
        return lv_acapi_allow(c, op, err, "*");
    if (conf != NULL && env != NULL)
        return lv_acapi_allow(c, op, err, "application/%s/environment/%s/configuration/%s", app, env, conf);
    if (env != NULL && lv_acapi_has(call, "DeploymentNumber"))
        return lv_acapi_allow(c, op, err, "application/%s/environment/%s/deployment/%" PRId64, app, env,
                              lv_acapi_int(call, "DeploymentNumber", 0));
    if (env != NULL)
        return lv_acapi_allow(c, op, err, "application/%s/environment/%s", app, env);
    if (prof != NULL && lv_acapi_has(call, "VersionNumber"))
        return lv_acapi_allow(c, op, err, "application/%s/configurationprofile/%s/hostedconfigurationversion/%" PRId64,
                              app, prof, lv_acapi_int(call, "VersionNumber", 0));
    if (prof != NULL)
        return lv_acapi_allow(c, op, err, "application/%s/configurationprofile/%s", app, prof);
    return lv_acapi_allow(c, op, err, "application/%s", app);
}

/* ---------- paging ---------- */

typedef struct page_ctx {
    lv_acapi_ctx *c;
    const lv_acview *v;
    lv_acapi_item_fn emit;
    void *arg;
    json_t *items;
    const char *after;
    size_t after_len;
    int64_t max;
    int64_t n;
    const lv_acrec *last;
    bool more;
} page_ctx;

static bool page_one(void *arg, const lv_acrec *r)
{
    page_ctx *p = arg;
    if (p->after != NULL) {
        int cmp = memcmp(r->key, p->after, r->klen < p->after_len ? r->klen : p->after_len);
        if (cmp < 0 || (cmp == 0 && r->klen <= p->after_len))
            return true;
    }
    json_t *it = p->emit(p->c, p->v, r, p->arg);
    if (it == NULL)
        return true;
    if (p->n == p->max) {
        json_decref(it);
        p->more = true;
        return false;
    }
    json_array_append_new(p->items, it);
    p->n++;
    p->last = r;
    return true;
}

lv_err lv_acapi_list(lv_acapi_ctx *c, const lv_acwire_call *call, const char *prefix, lv_acapi_item_fn emit,
                     void *arg, json_t **out, lv_error *err)
{
    const char *tok = lv_acapi_str(call, "NextToken");
    uint32_t q = lv_token_hash(0, prefix, strlen(prefix));
    q = lv_token_hash(q, lv_acwire_op_name(call->op), strlen(lv_acwire_op_name(call->op)));
    lv_buf pos = LV_BUF_INIT;
    if (tok != NULL && lv_token_decode('C', q, tok, strlen(tok), &pos, err) != LV_OK) {
        lv_buf_free(&pos);
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "The NextToken is not valid for this request");
    }
    page_ctx p = {c, NULL, emit, arg, json_array(), tok ? (pos.data ? pos.data : "") : NULL, pos.len,
                  lv_acapi_int(call, "MaxResults", 50), 0, NULL, false};
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    p.v = &v;
    if (strcmp(prefix, "s") == 0 && tok == NULL) {
        /* Predefined strategies come first, on the first page. */
        for (size_t i = 0; i < lv_ac_predefined_count(); i++) {
            const lv_acrec *r = lv_ac_predefined(i);
            if (r != NULL)
                json_array_append_new(p.items, emit(c, &v, r, arg));
        }
    }
    v.each(v.ctx, prefix, strlen(prefix), page_one, &p);
    lv_buf next = LV_BUF_INIT;
    lv_err rc = LV_OK;
    if (p.more && p.last != NULL)
        rc = lv_token_encode('C', q, p.last->key, p.last->klen, &next);
    lv_engine_rdunlock(c->engine);
    lv_buf_free(&pos);
    *out = json_object();
    json_object_set_new(*out, "Items", p.items);
    if (next.len > 0)
        json_object_set_new(*out, "NextToken", json_string(next.data));
    lv_buf_free(&next);
    return rc == LV_OK ? LV_OK : lv_error_set(err, rc, "out of memory");
}

/* ---------- dispatch ---------- */

lv_err lv_acapi_handle(lv_acapi_ctx *c, lv_acwire_call *call)
{
    lv_error err;
    lv_error_clear(&err);
    c->err_extra = NULL;
    lv_err rc = authorize_call(c, call, &err);
    if (rc == LV_OK) {
        switch (call->op) {
        case ACW_CreateApplication: case ACW_GetApplication: case ACW_UpdateApplication:
        case ACW_DeleteApplication: case ACW_ListApplications:
        case ACW_CreateEnvironment: case ACW_GetEnvironment: case ACW_UpdateEnvironment:
        case ACW_DeleteEnvironment: case ACW_ListEnvironments:
        case ACW_CreateConfigurationProfile: case ACW_GetConfigurationProfile:
        case ACW_UpdateConfigurationProfile: case ACW_DeleteConfigurationProfile:
        case ACW_ListConfigurationProfiles:
            rc = lv_acapi_tree(c, call, &err);
            break;
        case ACW_CreateHostedConfigurationVersion: case ACW_GetHostedConfigurationVersion:
        case ACW_DeleteHostedConfigurationVersion: case ACW_ListHostedConfigurationVersions:
        case ACW_GetConfiguration: case ACW_ValidateConfiguration:
            rc = lv_acapi_hosted(c, call, &err);
            break;
        case ACW_CreateDeploymentStrategy: case ACW_GetDeploymentStrategy: case ACW_UpdateDeploymentStrategy:
        case ACW_DeleteDeploymentStrategy: case ACW_ListDeploymentStrategies:
        case ACW_StartDeployment: case ACW_GetDeployment: case ACW_StopDeployment: case ACW_ListDeployments:
            rc = lv_acapi_deploy(c, call, &err);
            break;
        case ACW_StartConfigurationSession: case ACW_GetLatestConfiguration:
            rc = lv_acapi_data(c, call, &err);
            break;
        default:
            rc = lv_acapi_ext(c, call, &err);
        }
    }
    if (rc != LV_OK) {
        if (err.msg[0] == '\0' || err.code != rc)
            lv_error_set(&err, rc, "%s", rc == LV_E_NOMEM ? "out of memory" : "internal error");
        lv_acwire_error(&err, c->err_extra, c->resp);
        c->err_extra = NULL;
    }
    return rc;
}
