/* appconfig_deploy.c - deployment strategies (custom and predefined) and
 * deployments: StartDeployment (content validated first), GetDeployment
 * with its EventLog, ListDeployments, StopDeployment. */
#include "api/appconfig.h"
#include "api/served_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

json_t *lv_acapi_render_strategy(const lv_acrec *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "Id", json_string(lv_acrec_str(s, SF_ID)));
    json_object_set_new(o, "Name", json_string(lv_acrec_str(s, SF_NAME)));
    if (lv_acrec_len(s, SF_DESC))
        json_object_set_new(o, "Description", json_string(lv_acrec_str(s, SF_DESC)));
    json_object_set_new(o, "DeploymentDurationInMinutes", json_integer(lv_acrec_num(s, SF_DURATION)));
    json_object_set_new(o, "GrowthType", json_string(lv_acrec_str(s, SF_GTYPE)));
    json_object_set_new(o, "GrowthFactor", json_real(strtod(lv_acrec_str(s, SF_GROWTH), NULL)));
    json_object_set_new(o, "FinalBakeTimeInMinutes", json_integer(lv_acrec_num(s, SF_BAKE)));
    json_object_set_new(o, "ReplicateTo", json_string(lv_acrec_str(s, SF_REPLICATE)));
    return o;
}

json_t *lv_acapi_render_deployment(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *d, bool summary)
{
    json_t *o = json_object();
    const lv_acrec *p = lv_ac_get(v, "p%s/%s", lv_acrec_str(d, DF_APP), lv_acrec_str(d, DF_PROFILE));
    json_object_set_new(o, "DeploymentNumber", json_integer(lv_acrec_num(d, DF_NUMBER)));
    json_object_set_new(o, "ConfigurationName", json_string(p ? lv_acrec_str(p, PF_NAME) : ""));
    json_object_set_new(o, "ConfigurationVersion", json_string(lv_acrec_str(d, DF_VERSION)));
    json_object_set_new(o, "DeploymentDurationInMinutes", json_integer(lv_acrec_num(d, DF_DURATION)));
    json_object_set_new(o, "GrowthType", json_string(lv_acrec_str(d, DF_GTYPE)));
    json_object_set_new(o, "GrowthFactor", json_real(strtod(lv_acrec_str(d, DF_GROWTH), NULL)));
    json_object_set_new(o, "FinalBakeTimeInMinutes", json_integer(lv_acrec_num(d, DF_BAKE)));
    json_object_set_new(o, "State", json_string(lv_acrec_str(d, DF_STATE)));
    json_object_set_new(o, "PercentageComplete", json_real(strtod(lv_acrec_str(d, DF_PERCENT), NULL)));
    json_object_set_new(o, "StartedAt", lv_acapi_time(lv_acrec_num(d, DF_STARTED)));
    if (lv_acrec_num(d, DF_COMPLETED) > 0)
        json_object_set_new(o, "CompletedAt", lv_acapi_time(lv_acrec_num(d, DF_COMPLETED)));
    if (lv_acrec_len(d, DF_LABEL))
        json_object_set_new(o, "VersionLabel", json_string(lv_acrec_str(d, DF_LABEL)));
    if (summary)
        return o;
    json_object_set_new(o, "ApplicationId", json_string(lv_acrec_str(d, DF_APP)));
    json_object_set_new(o, "EnvironmentId", json_string(lv_acrec_str(d, DF_ENV)));
    json_object_set_new(o, "DeploymentStrategyId", json_string(lv_acrec_str(d, DF_STRATEGY)));
    json_object_set_new(o, "ConfigurationProfileId", json_string(lv_acrec_str(d, DF_PROFILE)));
    json_object_set_new(o, "ConfigurationLocationUri", json_string(p ? lv_acrec_str(p, PF_LOCATION) : ""));
    if (lv_acrec_len(d, DF_DESC))
        json_object_set_new(o, "Description", json_string(lv_acrec_str(d, DF_DESC)));
    if (lv_acrec_len(d, DF_KMS))
        json_object_set_new(o, "KmsKeyIdentifier", json_string(lv_acrec_str(d, DF_KMS)));
    /* The event log, newest first as AWS answers it. */
    json_t *log = json_array();
    unsigned n = lv_acrec_count(d, DF_EVENTS);
    for (unsigned i = n; i >= 4; i -= 4) {
        json_t *e = json_object();
        json_object_set_new(e, "EventType", json_string(lv_acrec_item(d, DF_EVENTS, i - 4)->p));
        json_object_set_new(e, "TriggeredBy", json_string(lv_acrec_item(d, DF_EVENTS, i - 3)->p));
        json_object_set_new(e, "Description", json_string(lv_acrec_item(d, DF_EVENTS, i - 2)->p));
        json_object_set_new(e, "OccurredAt", lv_acapi_time(strtoll(lv_acrec_item(d, DF_EVENTS, i - 1)->p, NULL, 10)));
        json_array_append_new(log, e);
    }
    json_object_set_new(o, "EventLog", log);
    /* The extensions associated when it started (core: LV_AC_APPLIED). */
    json_t *ax = json_array();
    const lv_acrec *ar = lv_ac_get(v, "%c%s", LV_AC_APPLIED, d->key);
    unsigned na = lv_acrec_count(ar, QF_EXTS);
    for (unsigned i = 0; i + 3 < na;) {
        json_t *e = json_object(), *params = json_object();
        json_object_set_new(e, "ExtensionId", json_string(lv_acrec_item(ar, QF_EXTS, i)->p));
        json_object_set_new(e, "ExtensionAssociationId", json_string(lv_acrec_item(ar, QF_EXTS, i + 1)->p));
        json_object_set_new(e, "VersionNumber", json_integer(strtoll(lv_acrec_item(ar, QF_EXTS, i + 2)->p, NULL, 10)));
        unsigned np = (unsigned)strtoul(lv_acrec_item(ar, QF_EXTS, i + 3)->p, NULL, 10);
        i += 4;
        for (unsigned k = 0; k < np && i + 1 < na; k++, i += 2)
            json_object_set_new(params, lv_acrec_item(ar, QF_EXTS, i)->p,
                                json_stringn(lv_acrec_item(ar, QF_EXTS, i + 1)->p, lv_acrec_item(ar, QF_EXTS, i + 1)->n));
        json_object_set_new(e, "Parameters", params);
        json_array_append_new(ax, e);
    }
    json_object_set_new(o, "AppliedExtensions", ax);
    /* lever's addition: the share of entities actually served the new
     * version, as reported by caches and counted here (docs/rollouts.md) */
    char seed[64];
    snprintf(seed, sizeof seed, "appconfig:%s:%s:%" PRId64, lv_acrec_str(d, DF_APP), lv_acrec_str(d, DF_ENV),
             lv_acrec_num(d, DF_NUMBER));
    lv_served_render_json(c->engine, seed, o);
    return o;
}

static json_t *emit_strategy(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg)
{
    (void)c, (void)v, (void)arg;
    return lv_acapi_render_strategy(r);
}

static json_t *emit_deployment(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg)
{
    (void)arg;
    return lv_acapi_render_deployment(c, v, r, true);
}

/* Newest first: ListDeployments pages from the end. */
static lv_err list_deployments(lv_acapi_ctx *c, lv_acwire_call *call, const char *app, const char *env, lv_error *err)
{
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "d%s/%s/", app, env);
    json_t *out = NULL;
    lv_err rc = lv_acapi_list(c, call, prefix, emit_deployment, NULL, &out, err);
    if (rc != LV_OK) {
        json_decref(out);
        return rc;
    }
    lv_acapi_reply(c, call, out);
    return LV_OK;
}

/* Content checks before a deployment starts (validators, flag rules, the
 * parameter of an ssm-parameter profile). */
static lv_err precheck(lv_acapi_ctx *c, const char *app, const char *prof, const char *ver, lv_error *err)
{
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    const lv_acrec *p = lv_ac_get(&v, "p%s/%s", app, prof);
    lv_acrec *pr = lv_acrec_ref(p), *hr = NULL;
    const char *ssm = NULL;
    lv_err rc = LV_OK;
    lv_buf content = LV_BUF_INIT;
    if (p != NULL && lv_ac_location(lv_acrec_str(p, PF_LOCATION), &ssm) == LV_AC_LOC_HOSTED) {
        char *end;
        long long n = strtoll(ver, &end, 10);
        hr = *end == '\0' ? lv_acrec_ref(lv_ac_get(&v, "h%s/%s/%010lld", app, prof, n)) : NULL;
    } else if (p != NULL && ssm != NULL) {
        const lv_param *prm = lv_engine_get(c->engine, c->region, ssm);
        char *end;
        long long n = strtoll(ver, &end, 10);
        const lv_version *pv = prm == NULL ? NULL
                               : (ver[0] && *end == '\0') ? lv_param_find_version(prm, (uint32_t)n)
                                                          : lv_param_find_label(prm, ver);
        if (pv == NULL)
            rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Parameter %s has no version %s", ssm, ver);
        else if (pv->type == LV_TYPE_SECURE_STRING)
            rc = lv_engine_decrypt(c->engine, prm, pv, &content, err);
        else
            rc = lv_buf_append(&content, pv->value, pv->value_len);
    }
    lv_engine_rdunlock(c->engine);
    /* Missing resources are reported by the plan, under the writer. */
    if (rc == LV_OK && pr != NULL && hr != NULL)
        rc = lv_acapi_validate_content(c, pr, lv_acrec_str(hr, HF_CONTENT), lv_acrec_len(hr, HF_CONTENT), err);
    else if (rc == LV_OK && pr != NULL && ssm != NULL)
        rc = lv_acapi_validate_content(c, pr, content.data ? content.data : "", content.len, err);
    if (content.data)
        memset(content.data, 0, content.len);
    lv_buf_free(&content);
    lv_acrec_unref(pr);
    lv_acrec_unref(hr);
    return rc;
}

lv_err lv_acapi_deploy(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *app = lv_acapi_str(call, "ApplicationId"), *env = lv_acapi_str(call, "EnvironmentId");
    const char *sid = lv_acapi_str(call, "DeploymentStrategyId");
    lv_acreq q;
    memset(&q, 0, sizeof q);
    q.app = app;
    q.env = env;
    q.id = sid;
    q.lock = -1;
    lv_acrec *in = NULL, *tags = NULL, *res = NULL;
    lv_err rc = LV_OK;
    lv_acview v;
    switch (call->op) {
    case ACW_GetDeploymentStrategy: {
        lv_engine_rdlock(c->engine);
        lv_engine_ac_view(c->engine, &v);
        const lv_acrec *s = lv_ac_strategy(&v, sid);
        json_t *o = s ? lv_acapi_render_strategy(s) : NULL;
        lv_engine_rdunlock(c->engine);
        if (o == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Deployment strategy %s not found", sid);
        lv_acapi_reply(c, call, o);
        return LV_OK;
    }
    case ACW_ListDeploymentStrategies: {
        json_t *out = NULL;
        if ((rc = lv_acapi_list(c, call, "s", emit_strategy, NULL, &out, err)) == LV_OK)
            lv_acapi_reply(c, call, out);
        else
            json_decref(out);
        return rc;
    }
    case ACW_CreateDeploymentStrategy:
    case ACW_UpdateDeploymentStrategy:
        q.op = call->op == ACW_CreateDeploymentStrategy ? LV_ACOP_CREATE_STRATEGY : LV_ACOP_UPDATE_STRATEGY;
        in = lv_acrec_new(LV_AC_STRATEGY, SF__N);
        if (in == NULL || lv_acapi_field(in, SF_NAME, call, "Name") != LV_OK ||
            lv_acapi_field(in, SF_DESC, call, "Description") != LV_OK ||
            lv_acapi_field(in, SF_DURATION, call, "DeploymentDurationInMinutes") != LV_OK ||
            lv_acapi_field(in, SF_BAKE, call, "FinalBakeTimeInMinutes") != LV_OK ||
            lv_acapi_field(in, SF_GROWTH, call, "GrowthFactor") != LV_OK ||
            lv_acapi_field(in, SF_GTYPE, call, "GrowthType") != LV_OK ||
            lv_acapi_field(in, SF_REPLICATE, call, "ReplicateTo") != LV_OK)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        if (rc == LV_OK)
            rc = lv_acapi_tags_in(call, "Tags", &tags, err);
        q.in = in;
        q.tags = tags;
        if (rc == LV_OK && (rc = lv_acapi_write(c, &q, &res, err)) == LV_OK)
            lv_acapi_reply(c, call, lv_acapi_render_strategy(res));
        break;
    case ACW_DeleteDeploymentStrategy:
        q.op = LV_ACOP_DELETE_STRATEGY;
        if ((rc = lv_acapi_write(c, &q, NULL, err)) == LV_OK)
            lv_acapi_reply(c, call, NULL);
        break;
    case ACW_StartDeployment: {
        const char *prof = lv_acapi_str(call, "ConfigurationProfileId");
        const char *ver = lv_acapi_str(call, "ConfigurationVersion");
        if ((rc = precheck(c, app, prof, ver, err)) != LV_OK)
            break;
        if (c->hooks != NULL) {
            lv_hooks_target t;
            memset(&t, 0, sizeof t);
            t.app = app;
            t.env = env;
            t.profile = prof;
            t.version = ver;
            t.strategy = sid;
            t.description = lv_acapi_str(call, "Description");
            t.created_by = c->user_arn;
            if ((rc = lv_hooks_pre(c->hooks, LV_HOOK_PRE_START, &t, err)) != LV_OK)
                break;
        }
        q.op = LV_ACOP_START_DEPLOYMENT;
        in = lv_acrec_new(LV_AC_DEPLOY, DF__N);
        if (in == NULL || lv_acapi_field(in, DF_PROFILE, call, "ConfigurationProfileId") != LV_OK ||
            lv_acapi_field(in, DF_VERSION, call, "ConfigurationVersion") != LV_OK ||
            lv_acapi_field(in, DF_STRATEGY, call, "DeploymentStrategyId") != LV_OK ||
            lv_acapi_field(in, DF_DESC, call, "Description") != LV_OK ||
            lv_acapi_field(in, DF_KMS, call, "KmsKeyIdentifier") != LV_OK)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        if (rc == LV_OK)
            rc = lv_acapi_tags_in(call, "Tags", &tags, err);
        q.in = in;
        q.tags = tags;
        if (rc == LV_OK && (rc = lv_acapi_write(c, &q, &res, err)) == LV_OK) {
            lv_engine_rdlock(c->engine);
            lv_engine_ac_view(c->engine, &v);
            json_t *o = lv_acapi_render_deployment(c, &v, res, false);
            lv_engine_rdunlock(c->engine);
            lv_acapi_reply(c, call, o);
        }
        break;
    }
    case ACW_StopDeployment:
        q.op = LV_ACOP_STOP_DEPLOYMENT;
        q.number = lv_acapi_int(call, "DeploymentNumber", 0);
        /* Newer AppConfig models send AllowRevert as the Allow-Revert
         * header; older clients may put it in the body. */
        q.allow_revert = json_is_true(json_object_get(call->in, "AllowRevert"));
        if (!q.allow_revert) {
            const char *ar = lv_http_header_get(c->req, "Allow-Revert");
            q.allow_revert = ar != NULL && strcasecmp(ar, "true") == 0;
        }
        if ((rc = lv_acapi_write(c, &q, &res, err)) == LV_OK) {
            lv_engine_rdlock(c->engine);
            lv_engine_ac_view(c->engine, &v);
            json_t *o = lv_acapi_render_deployment(c, &v, res, false);
            lv_engine_rdunlock(c->engine);
            lv_acapi_reply(c, call, o);
        }
        break;
    case ACW_GetDeployment: {
        int64_t n = lv_acapi_int(call, "DeploymentNumber", 0);
        lv_engine_rdlock(c->engine);
        lv_engine_ac_view(c->engine, &v);
        const lv_acrec *d = lv_ac_get(&v, "d%s/%s/%010" PRId64, app, env, n);
        bool envok = lv_ac_get(&v, "e%s/%s", app, env) != NULL;
        json_t *o = d ? lv_acapi_render_deployment(c, &v, d, false) : NULL;
        lv_engine_rdunlock(c->engine);
        if (o == NULL)
            return envok ? lv_error_set(err, LV_E_AC_NOT_FOUND, "Deployment %" PRId64 " not found", n)
                         : lv_error_set(err, LV_E_AC_NOT_FOUND, "Environment %s not found", env);
        lv_acapi_reply(c, call, o);
        return LV_OK;
    }
    case ACW_ListDeployments: {
        lv_engine_rdlock(c->engine);
        lv_engine_ac_view(c->engine, &v);
        bool envok = lv_ac_get(&v, "e%s/%s", app, env) != NULL;
        lv_engine_rdunlock(c->engine);
        if (!envok)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Environment %s not found", env);
        return list_deployments(c, call, app, env, err);
    }
    default:
        rc = lv_error_set(err, LV_E_INTERNAL, "not a deployment operation");
    }
    lv_acrec_unref(in);
    lv_acrec_unref(tags);
    lv_acrec_unref(res);
    return rc;
}
