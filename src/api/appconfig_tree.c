/* appconfig_tree.c - applications, environments and configuration
 * profiles: create, get, update, delete, list. */
#include "api/appconfig.h"

#include <stdio.h>
#include <string.h>

static json_t *render_app(const lv_acrec *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "Id", json_string(lv_acrec_str(r, AF_ID)));
    json_object_set_new(o, "Name", json_string(lv_acrec_str(r, AF_NAME)));
    if (lv_acrec_len(r, AF_DESC))
        json_object_set_new(o, "Description", json_string(lv_acrec_str(r, AF_DESC)));
    return o;
}

json_t *lv_acapi_render_env(const lv_acrec *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "ApplicationId", json_string(lv_acrec_str(r, EF_APP)));
    json_object_set_new(o, "Id", json_string(lv_acrec_str(r, EF_ID)));
    json_object_set_new(o, "Name", json_string(lv_acrec_str(r, EF_NAME)));
    if (lv_acrec_len(r, EF_DESC))
        json_object_set_new(o, "Description", json_string(lv_acrec_str(r, EF_DESC)));
    json_object_set_new(o, "State", json_string(lv_acrec_str(r, EF_STATE)));
    json_t *m = json_array();
    for (unsigned i = 0; i + 1 < lv_acrec_count(r, EF_MONITORS); i += 2) {
        json_t *x = json_object();
        json_object_set_new(x, "AlarmArn", json_string(lv_acrec_item(r, EF_MONITORS, i)->p));
        if (lv_acrec_item(r, EF_MONITORS, i + 1)->n)
            json_object_set_new(x, "AlarmRoleArn", json_string(lv_acrec_item(r, EF_MONITORS, i + 1)->p));
        json_array_append_new(m, x);
    }
    json_object_set_new(o, "Monitors", m);
    return o;
}

json_t *lv_acapi_render_profile(const lv_acrec *r, bool summary)
{
    json_t *o = json_object();
    json_object_set_new(o, "ApplicationId", json_string(lv_acrec_str(r, PF_APP)));
    json_object_set_new(o, "Id", json_string(lv_acrec_str(r, PF_ID)));
    json_object_set_new(o, "Name", json_string(lv_acrec_str(r, PF_NAME)));
    json_object_set_new(o, "LocationUri", json_string(lv_acrec_str(r, PF_LOCATION)));
    json_object_set_new(o, "Type", json_string(lv_acrec_str(r, PF_TYPE)));
    json_t *vals = json_array();
    for (unsigned i = 0; i + 1 < lv_acrec_count(r, PF_VALIDATORS); i += 2) {
        if (summary) {
            json_array_append_new(vals, json_string(lv_acrec_item(r, PF_VALIDATORS, i)->p));
            continue;
        }
        json_t *x = json_object();
        json_object_set_new(x, "Type", json_string(lv_acrec_item(r, PF_VALIDATORS, i)->p));
        /* AWS hides validator content in answers. */
        json_object_set_new(x, "Content", json_string(""));
        json_array_append_new(vals, x);
    }
    json_object_set_new(o, summary ? "ValidatorTypes" : "Validators", vals);
    if (!summary) {
        if (lv_acrec_len(r, PF_DESC))
            json_object_set_new(o, "Description", json_string(lv_acrec_str(r, PF_DESC)));
        if (lv_acrec_len(r, PF_ROLE))
            json_object_set_new(o, "RetrievalRoleArn", json_string(lv_acrec_str(r, PF_ROLE)));
        if (lv_acrec_len(r, PF_KMS))
            json_object_set_new(o, "KmsKeyIdentifier", json_string(lv_acrec_str(r, PF_KMS)));
    }
    return o;
}

static json_t *emit_app(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg)
{
    (void)c, (void)v, (void)arg;
    return render_app(r);
}

static json_t *emit_env(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg)
{
    (void)c, (void)v, (void)arg;
    return lv_acapi_render_env(r);
}

static json_t *emit_profile(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg)
{
    (void)c, (void)v;
    const char *type = arg;
    if (type != NULL && strcmp(type, lv_acrec_str(r, PF_TYPE)) != 0)
        return NULL;
    return lv_acapi_render_profile(r, true);
}

/* Monitors [{AlarmArn, AlarmRoleArn}] into flat pairs. */
static lv_err monitors_in(lv_acrec *rec, const lv_acwire_call *call)
{
    json_t *m = json_object_get(call->in, "Monitors");
    if (!json_is_array(m))
        return LV_OK;
    lv_acrec_clear(rec, EF_MONITORS, true);
    size_t i;
    json_t *x;
    json_array_foreach(m, i, x) {
        const char *a = json_string_value(json_object_get(x, "AlarmArn"));
        const char *r = json_string_value(json_object_get(x, "AlarmRoleArn"));
        lv_err rc = lv_acrec_push(rec, EF_MONITORS, a ? a : "", a ? strlen(a) : 0);
        if (rc == LV_OK)
            rc = lv_acrec_push(rec, EF_MONITORS, r ? r : "", r ? strlen(r) : 0);
        if (rc != LV_OK)
            return rc;
    }
    return LV_OK;
}

static lv_err validators_in(lv_acrec *rec, const lv_acwire_call *call)
{
    json_t *m = json_object_get(call->in, "Validators");
    if (!json_is_array(m))
        return LV_OK;
    lv_acrec_clear(rec, PF_VALIDATORS, true);
    size_t i;
    json_t *x;
    json_array_foreach(m, i, x) {
        json_t *t = json_object_get(x, "Type"), *ct = json_object_get(x, "Content");
        lv_err rc = lv_acrec_push(rec, PF_VALIDATORS, json_string_value(t), json_string_length(t));
        if (rc == LV_OK)
            rc = lv_acrec_push(rec, PF_VALIDATORS, json_string_value(ct), json_string_length(ct));
        if (rc != LV_OK)
            return rc;
    }
    return LV_OK;
}

static lv_err one(lv_acapi_ctx *c, const lv_acwire_call *call, const char *what, const char *fmt, const char *a,
                  const char *b, json_t *(*render)(const lv_acrec *), lv_error *err)
{
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    const lv_acrec *r = b ? lv_ac_get(&v, fmt, a, b) : lv_ac_get(&v, fmt, a);
    json_t *o = r ? render(r) : NULL;
    lv_engine_rdunlock(c->engine);
    if (o == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "%s %s not found", what, b ? b : a);
    lv_acapi_reply(c, call, o);
    return LV_OK;
}

static json_t *render_profile_full(const lv_acrec *r)
{
    return lv_acapi_render_profile(r, false);
}

static lv_err parent_exists(lv_acapi_ctx *c, const char *app, lv_error *err)
{
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    bool ok = lv_ac_get(&v, "a%s", app) != NULL;
    lv_engine_rdunlock(c->engine);
    return ok ? LV_OK : lv_error_set(err, LV_E_AC_NOT_FOUND, "Application %s not found", app);
}

static lv_err write_and_reply(lv_acapi_ctx *c, lv_acwire_call *call, lv_acreq *q, json_t *(*render)(const lv_acrec *),
                              lv_error *err)
{
    lv_acrec *res = NULL;
    lv_err rc = lv_acapi_write(c, q, &res, err);
    if (rc == LV_OK) {
        lv_acapi_reply(c, call, res && render ? render(res) : NULL);
        lv_acrec_unref(res);
    }
    return rc;
}

lv_err lv_acapi_tree(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *app = lv_acapi_str(call, "ApplicationId");
    const char *env = lv_acapi_str(call, "EnvironmentId");
    const char *prof = lv_acapi_str(call, "ConfigurationProfileId");
    lv_acreq q;
    memset(&q, 0, sizeof q);
    q.app = app;
    q.env = env;
    q.profile = prof;
    q.lock = -1;
    lv_acrec *in = NULL, *tags = NULL;
    lv_err rc = LV_OK;
    json_t *out = NULL;
    char prefix[32];
    switch (call->op) {
    case ACW_GetApplication:
        return one(c, call, "Application", "a%s", app, NULL, render_app, err);
    case ACW_GetEnvironment:
        if ((rc = parent_exists(c, app, err)) != LV_OK)
            return rc;
        return one(c, call, "Environment", "e%s/%s", app, env, lv_acapi_render_env, err);
    case ACW_GetConfigurationProfile:
        if ((rc = parent_exists(c, app, err)) != LV_OK)
            return rc;
        return one(c, call, "Configuration profile", "p%s/%s", app, prof, render_profile_full, err);
    case ACW_ListApplications:
        rc = lv_acapi_list(c, call, "a", emit_app, NULL, &out, err);
        break;
    case ACW_ListEnvironments:
        if ((rc = parent_exists(c, app, err)) != LV_OK)
            return rc;
        snprintf(prefix, sizeof prefix, "e%s/", app);
        rc = lv_acapi_list(c, call, prefix, emit_env, NULL, &out, err);
        break;
    case ACW_ListConfigurationProfiles:
        if ((rc = parent_exists(c, app, err)) != LV_OK)
            return rc;
        snprintf(prefix, sizeof prefix, "p%s/", app);
        rc = lv_acapi_list(c, call, prefix, emit_profile, (void *)lv_acapi_str(call, "Type"), &out, err);
        break;
    case ACW_CreateApplication:
    case ACW_UpdateApplication:
        q.op = call->op == ACW_CreateApplication ? LV_ACOP_CREATE_APP : LV_ACOP_UPDATE_APP;
        in = lv_acrec_new(LV_AC_APP, AF__N);
        if (in == NULL || lv_acapi_field(in, AF_NAME, call, "Name") != LV_OK ||
            lv_acapi_field(in, AF_DESC, call, "Description") != LV_OK)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        if (rc == LV_OK)
            rc = lv_acapi_tags_in(call, "Tags", &tags, err);
        q.in = in;
        q.tags = tags;
        if (rc == LV_OK)
            rc = write_and_reply(c, call, &q, render_app, err);
        break;
    case ACW_CreateEnvironment:
    case ACW_UpdateEnvironment:
        q.op = call->op == ACW_CreateEnvironment ? LV_ACOP_CREATE_ENV : LV_ACOP_UPDATE_ENV;
        in = lv_acrec_new(LV_AC_ENV, EF__N);
        if (in == NULL || lv_acapi_field(in, EF_NAME, call, "Name") != LV_OK ||
            lv_acapi_field(in, EF_DESC, call, "Description") != LV_OK || monitors_in(in, call) != LV_OK)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        if (rc == LV_OK)
            rc = lv_acapi_tags_in(call, "Tags", &tags, err);
        q.in = in;
        q.tags = tags;
        if (rc == LV_OK)
            rc = write_and_reply(c, call, &q, lv_acapi_render_env, err);
        break;
    case ACW_CreateConfigurationProfile:
    case ACW_UpdateConfigurationProfile:
        q.op = call->op == ACW_CreateConfigurationProfile ? LV_ACOP_CREATE_PROFILE : LV_ACOP_UPDATE_PROFILE;
        in = lv_acrec_new(LV_AC_PROFILE, PF__N);
        if (in == NULL || lv_acapi_field(in, PF_NAME, call, "Name") != LV_OK ||
            lv_acapi_field(in, PF_DESC, call, "Description") != LV_OK ||
            lv_acapi_field(in, PF_LOCATION, call, "LocationUri") != LV_OK ||
            lv_acapi_field(in, PF_ROLE, call, "RetrievalRoleArn") != LV_OK ||
            lv_acapi_field(in, PF_TYPE, call, "Type") != LV_OK ||
            lv_acapi_field(in, PF_KMS, call, "KmsKeyIdentifier") != LV_OK || validators_in(in, call) != LV_OK)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        if (rc == LV_OK)
            rc = lv_acapi_check_validators(c, in, PF_VALIDATORS, err);
        if (rc == LV_OK)
            rc = lv_acapi_tags_in(call, "Tags", &tags, err);
        q.in = in;
        q.tags = tags;
        if (rc == LV_OK)
            rc = write_and_reply(c, call, &q, render_profile_full, err);
        break;
    case ACW_DeleteApplication:
        q.op = LV_ACOP_DELETE_APP;
        rc = write_and_reply(c, call, &q, NULL, err);
        break;
    case ACW_DeleteEnvironment:
        q.op = LV_ACOP_DELETE_ENV;
        rc = write_and_reply(c, call, &q, NULL, err);
        break;
    case ACW_DeleteConfigurationProfile:
        q.op = LV_ACOP_DELETE_PROFILE;
        rc = write_and_reply(c, call, &q, NULL, err);
        break;
    default:
        rc = lv_error_set(err, LV_E_INTERNAL, "not a tree operation");
    }
    if (rc == LV_OK && out != NULL)
        lv_acapi_reply(c, call, out);
    else
        json_decref(out);
    lv_acrec_unref(in);
    lv_acrec_unref(tags);
    return rc;
}
