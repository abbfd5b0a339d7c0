/* appconfig_ext.c - extensions (stored and versioned by name), extension
 * associations, and tags on every AppConfig ARN. Calling extensions is
 * the rollouts issue; here they are records. */
#include "api/appconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"

static json_t *render_ext(lv_acapi_ctx *c, const lv_acrec *r, bool summary)
{
    json_t *o = json_object();
    lv_buf arn = LV_BUF_INIT;
    lv_acapi_key_arn(c, r, &arn);
    json_object_set_new(o, "Id", json_string(lv_acrec_str(r, XF_ID)));
    json_object_set_new(o, "Name", json_string(lv_acrec_str(r, XF_NAME)));
    json_object_set_new(o, "VersionNumber", json_integer(lv_acrec_num(r, XF_VERSION)));
    json_object_set_new(o, "Arn", json_string(arn.data ? arn.data : ""));
    if (lv_acrec_len(r, XF_DESC))
        json_object_set_new(o, "Description", json_string(lv_acrec_str(r, XF_DESC)));
    lv_buf_free(&arn);
    if (summary)
        return o;
    json_t *acts = json_object();
    for (unsigned i = 0; i + 4 < lv_acrec_count(r, XF_ACTIONS); i += 5) {
        const char *point = lv_acrec_item(r, XF_ACTIONS, i)->p;
        json_t *list = json_object_get(acts, point);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(acts, point, list);
        }
        json_t *a = json_object();
        static const char *const names[] = {"Name", "Description", "Uri", "RoleArn"};
        for (unsigned k = 0; k < 4; k++)
            if (lv_acrec_item(r, XF_ACTIONS, i + 1 + k)->n)
                json_object_set_new(a, names[k], json_string(lv_acrec_item(r, XF_ACTIONS, i + 1 + k)->p));
        json_array_append_new(list, a);
    }
    json_object_set_new(o, "Actions", acts);
    json_t *params = json_object();
    for (unsigned i = 0; i + 2 < lv_acrec_count(r, XF_PARAMS); i += 3) {
        json_t *p = json_object();
        if (lv_acrec_item(r, XF_PARAMS, i + 1)->n)
            json_object_set_new(p, "Description", json_string(lv_acrec_item(r, XF_PARAMS, i + 1)->p));
        json_object_set_new(p, "Required", json_boolean(strcmp(lv_acrec_item(r, XF_PARAMS, i + 2)->p, "1") == 0));
        json_object_set_new(params, lv_acrec_item(r, XF_PARAMS, i)->p, p);
    }
    json_object_set_new(o, "Parameters", params);
    return o;
}

static json_t *render_assoc(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, bool summary)
{
    json_t *o = json_object();
    lv_buf arn = LV_BUF_INIT, earn = LV_BUF_INIT;
    lv_acapi_key_arn(c, r, &arn);
    const lv_acrec *x = lv_ac_get(v, "x%s", lv_acrec_str(r, YF_EXT));
    if (x != NULL) {
        lv_acapi_key_arn(c, x, &earn);
    } else {
        lv_buf_printf(&earn, "arn:aws:appconfig:%s:%s:extension/%s/%s", c->region, c->account,
                      lv_acrec_str(r, YF_EXT), lv_acrec_str(r, YF_EXTVER));
    }
    json_object_set_new(o, "Id", json_string(lv_acrec_str(r, YF_ID)));
    json_object_set_new(o, "ExtensionArn", json_string(earn.data ? earn.data : ""));
    json_object_set_new(o, "ResourceArn", json_string(lv_acrec_str(r, YF_RESOURCE)));
    lv_buf_free(&earn);
    if (!summary) {
        json_object_set_new(o, "Arn", json_string(arn.data ? arn.data : ""));
        json_object_set_new(o, "ExtensionVersionNumber", json_integer(lv_acrec_num(r, YF_EXTVER)));
        json_t *p = json_object();
        for (unsigned i = 0; i + 1 < lv_acrec_count(r, YF_PARAMS); i += 2)
            json_object_set_new(p, lv_acrec_item(r, YF_PARAMS, i)->p, json_string(lv_acrec_item(r, YF_PARAMS, i + 1)->p));
        json_object_set_new(o, "Parameters", p);
    }
    lv_buf_free(&arn);
    return o;
}

/* Name, id or ARN of an extension -> its id (in out[8]). */
static lv_err resolve_ext(lv_acapi_ctx *c, const lv_acview *v, const char *ident, char out[8], lv_error *err)
{
    const lv_acrec *x = NULL;
    if (strncmp(ident, "arn:", 4) == 0) {
        lv_buf key = LV_BUF_INIT;
        lv_err rc = lv_acapi_arn_key(c, ident, &key, err);
        if (rc == LV_OK && key.data[0] == 'x')
            x = v->get(v->ctx, key.data, key.len);
        lv_buf_free(&key);
        if (rc != LV_OK)
            return rc;
    } else {
        x = lv_ac_get(v, "x%s", ident);
        for (size_t i = lv_actable_seek((const lv_actable *)v->ctx, "x", 1); x == NULL; i++) {
            const lv_actable *t = v->ctx;
            if (i >= t->n || t->r[i]->key[0] != 'x')
                break;
            if (strcmp(lv_acrec_str(t->r[i], XF_NAME), ident) == 0)
                x = t->r[i];
        }
    }
    if (x == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Extension %.200s not found", ident);
    snprintf(out, 8, "%s", lv_acrec_str(x, XF_ID));
    return LV_OK;
}

static lv_err actions_in(lv_acrec *in, const lv_acwire_call *call)
{
    json_t *m = json_object_get(call->in, "Actions");
    if (!json_is_object(m))
        return LV_OK;
    lv_acrec_clear(in, XF_ACTIONS, true);
    const char *point;
    json_t *list;
    json_object_foreach(m, point, list) {
        size_t i;
        json_t *a;
        json_array_foreach(list, i, a) {
            static const char *const names[] = {"Name", "Description", "Uri", "RoleArn"};
            lv_err rc = lv_acrec_push(in, XF_ACTIONS, point, strlen(point));
            for (unsigned k = 0; rc == LV_OK && k < 4; k++) {
                json_t *s = json_object_get(a, names[k]);
                rc = lv_acrec_push(in, XF_ACTIONS, json_is_string(s) ? json_string_value(s) : "",
                                   json_is_string(s) ? json_string_length(s) : 0);
            }
            if (rc != LV_OK)
                return rc;
        }
    }
    return LV_OK;
}

static lv_err params_in(lv_acrec *in, unsigned field, const lv_acwire_call *call, bool values)
{
    json_t *m = json_object_get(call->in, "Parameters");
    if (!json_is_object(m))
        return LV_OK;
    lv_acrec_clear(in, field, true);
    const char *k;
    json_t *p;
    json_object_foreach(m, k, p) {
        lv_err rc = lv_acrec_push(in, field, k, strlen(k));
        if (values) {
            if (rc == LV_OK)
                rc = lv_acrec_push(in, field, json_string_value(p), json_string_length(p));
        } else {
            json_t *d = json_object_get(p, "Description");
            if (rc == LV_OK)
                rc = lv_acrec_push(in, field, json_is_string(d) ? json_string_value(d) : "",
                                   json_is_string(d) ? json_string_length(d) : 0);
            if (rc == LV_OK)
                rc = lv_acrec_push(in, field, json_is_true(json_object_get(p, "Required")) ? "1" : "0", 1);
        }
        if (rc != LV_OK)
            return rc;
    }
    return LV_OK;
}

typedef struct ext_filter {
    const char *name;
    const char *ext_id;
    const char *reskey;
    int64_t version;
} ext_filter;

/* An association with a parameter (key "l<region>|<name>|"): the
 * parameter must exist now; it covers that parameter's label rollouts. */
static lv_err param_exists(lv_acapi_ctx *c, const char *key, lv_error *err)
{
    const char *bar = strchr(key + 1, '|');
    size_t nl = bar ? strlen(bar + 1) : 0;
    if (bar == NULL || nl < 2 || (size_t)(bar - key - 1) >= 64)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Invalid parameter ARN");
    char region[64], name[LV_NAME_MAX + 2];
    snprintf(region, sizeof region, "%.*s", (int)(bar - key - 1), key + 1);
    snprintf(name, sizeof name, "%.*s", (int)(nl - 1), bar + 1);
    lv_engine_rdlock(c->engine);
    bool found = lv_engine_get(c->engine, region, name) != NULL;
    lv_engine_rdunlock(c->engine);
    return found ? LV_OK : lv_error_set(err, LV_E_AC_NOT_FOUND, "Parameter %s not found", name);
}

static json_t *emit_ext(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg)
{
    (void)v;
    const ext_filter *f = arg;
    if (f->name && strcmp(f->name, lv_acrec_str(r, XF_NAME)) != 0)
        return NULL;
    return render_ext(c, r, true);
}

static json_t *emit_assoc(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg)
{
    const ext_filter *f = arg;
    if ((f->ext_id && strcmp(f->ext_id, lv_acrec_str(r, YF_EXT)) != 0) ||
        (f->reskey && strcmp(f->reskey, lv_acrec_str(r, YF_RESKEY)) != 0) ||
        (f->version >= 0 && f->version != lv_acrec_num(r, YF_EXTVER)))
        return NULL;
    return render_assoc(c, v, r, true);
}

static lv_err tags_op(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    lv_buf key = LV_BUF_INIT;
    lv_err rc = lv_acapi_arn_key(c, lv_acapi_str(call, "ResourceArn"), &key, err);
    if (rc != LV_OK) {
        lv_buf_free(&key);
        return rc == LV_E_AC_BAD_REQUEST ? lv_error_set(err, LV_E_AC_NOT_FOUND, "%s", err->msg) : rc;
    }
    if (call->op == ACW_ListTagsForResource) {
        lv_acview v;
        lv_engine_rdlock(c->engine);
        lv_engine_ac_view(c->engine, &v);
        bool exists = v.get(v.ctx, key.data, key.len) != NULL;
        const lv_acrec *t = lv_ac_get(&v, "t%s", key.data);
        json_t *tags = json_object();
        for (unsigned i = 0; i + 1 < lv_acrec_count(t, TF_TAGS); i += 2)
            json_object_set_new(tags, lv_acrec_item(t, TF_TAGS, i)->p, json_string(lv_acrec_item(t, TF_TAGS, i + 1)->p));
        lv_engine_rdunlock(c->engine);
        lv_buf_free(&key);
        if (!exists) {
            json_decref(tags);
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Resource %.200s not found", lv_acapi_str(call, "ResourceArn"));
        }
        json_t *o = json_object();
        json_object_set_new(o, "Tags", tags);
        lv_acapi_reply(c, call, o);
        return LV_OK;
    }
    lv_acreq q;
    memset(&q, 0, sizeof q);
    q.target = key.data;
    q.lock = -1;
    lv_acrec *tags = NULL;
    if (call->op == ACW_TagResource) {
        q.op = LV_ACOP_TAG;
        rc = lv_acapi_tags_in(call, "Tags", &tags, err);
    } else {
        q.op = LV_ACOP_UNTAG;
        tags = lv_acrec_new(LV_AC_TAGS, TF__N);
        json_t *keys = json_object_get(call->in, "TagKeys");
        size_t i;
        json_t *k;
        if (tags == NULL)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        json_array_foreach(keys, i, k) {
            if (rc == LV_OK && lv_acrec_push(tags, TF_TAGS, json_string_value(k), json_string_length(k)) != LV_OK)
                rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        }
    }
    q.tags = tags;
    if (rc == LV_OK && (rc = lv_acapi_write(c, &q, NULL, err)) == LV_OK)
        lv_acapi_reply(c, call, NULL);
    lv_acrec_unref(tags);
    lv_buf_free(&key);
    return rc;
}

lv_err lv_acapi_ext(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    lv_acview v;
    lv_acreq q;
    memset(&q, 0, sizeof q);
    q.lock = -1;
    char id[8] = "";
    lv_acrec *in = NULL, *tags = NULL, *res = NULL;
    lv_buf key = LV_BUF_INIT;
    lv_err rc = LV_OK;
    json_t *out = NULL;
    const char *ident = lv_acapi_str(call, "ExtensionIdentifier");
    switch (call->op) {
    case ACW_TagResource:
    case ACW_UntagResource:
    case ACW_ListTagsForResource:
        return tags_op(c, call, err);
    case ACW_GetExtension:
    case ACW_GetExtensionAssociation: {
        bool ext = call->op == ACW_GetExtension;
        lv_engine_rdlock(c->engine);
        lv_engine_ac_view(c->engine, &v);
        if (ext)
            rc = resolve_ext(c, &v, ident, id, err);
        const lv_acrec *r = rc != LV_OK ? NULL
                            : ext      ? lv_ac_get(&v, "x%s", id)
                                       : lv_ac_get(&v, "X%s", lv_acapi_str(call, "ExtensionAssociationId"));
        if (r != NULL && ext && lv_acapi_has(call, "VersionNumber") &&
            lv_acapi_int(call, "VersionNumber", 0) != lv_acrec_num(r, XF_VERSION))
            r = NULL;
        out = r ? (ext ? render_ext(c, r, false) : render_assoc(c, &v, r, false)) : NULL;
        lv_engine_rdunlock(c->engine);
        if (rc == LV_OK && out == NULL)
            rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "%s not found", ext ? "Extension" : "Extension association");
        break;
    }
    case ACW_ListExtensions: {
        ext_filter f = {lv_acapi_str(call, "Name"), NULL, NULL, -1};
        rc = lv_acapi_list(c, call, "x", emit_ext, &f, &out, err);
        break;
    }
    case ACW_ListExtensionAssociations: {
        ext_filter f = {NULL, NULL, NULL, lv_acapi_int(call, "ExtensionVersionNumber", -1)};
        if (lv_acapi_str(call, "ResourceIdentifier") != NULL &&
            (rc = lv_acapi_arn_key(c, lv_acapi_str(call, "ResourceIdentifier"), &key, err)) != LV_OK)
            break;
        f.reskey = key.data;
        if (ident != NULL) {
            lv_engine_rdlock(c->engine);
            lv_engine_ac_view(c->engine, &v);
            rc = resolve_ext(c, &v, ident, id, err);
            lv_engine_rdunlock(c->engine);
            if (rc != LV_OK)
                break;
            f.ext_id = id;
        }
        rc = lv_acapi_list(c, call, "X", emit_assoc, &f, &out, err);
        break;
    }
    case ACW_CreateExtension:
    case ACW_UpdateExtension:
    case ACW_DeleteExtension:
        if (call->op != ACW_CreateExtension) {
            lv_engine_rdlock(c->engine);
            lv_engine_ac_view(c->engine, &v);
            rc = resolve_ext(c, &v, ident, id, err);
            lv_engine_rdunlock(c->engine);
            if (rc != LV_OK)
                break;
            q.id = id;
        }
        q.op = call->op == ACW_CreateExtension   ? LV_ACOP_CREATE_EXT
               : call->op == ACW_UpdateExtension ? LV_ACOP_UPDATE_EXT
                                                 : LV_ACOP_DELETE_EXT;
        q.lock = call->op == ACW_CreateExtension   ? lv_acapi_int(call, "LatestVersionNumber", -1)
                 : call->op == ACW_UpdateExtension ? lv_acapi_int(call, "VersionNumber", -1)
                                                   : -1;
        in = lv_acrec_new(LV_AC_EXT, XF__N);
        if (in == NULL || lv_acapi_field(in, XF_NAME, call, "Name") != LV_OK ||
            lv_acapi_field(in, XF_DESC, call, "Description") != LV_OK || actions_in(in, call) != LV_OK ||
            params_in(in, XF_PARAMS, call, false) != LV_OK)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        if (rc == LV_OK)
            rc = lv_acapi_tags_in(call, "Tags", &tags, err);
        q.in = in;
        q.tags = tags;
        if (rc == LV_OK && (rc = lv_acapi_write(c, &q, &res, err)) == LV_OK)
            out = res ? render_ext(c, res, false) : NULL;
        break;
    case ACW_CreateExtensionAssociation:
    case ACW_UpdateExtensionAssociation:
    case ACW_DeleteExtensionAssociation:
        q.op = call->op == ACW_CreateExtensionAssociation   ? LV_ACOP_CREATE_ASSOC
               : call->op == ACW_UpdateExtensionAssociation ? LV_ACOP_UPDATE_ASSOC
                                                            : LV_ACOP_DELETE_ASSOC;
        q.id = lv_acapi_str(call, "ExtensionAssociationId");
        in = lv_acrec_new(LV_AC_ASSOC, YF__N);
        if (in == NULL || params_in(in, YF_PARAMS, call, true) != LV_OK)
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        if (rc == LV_OK && q.op == LV_ACOP_CREATE_ASSOC) {
            lv_engine_rdlock(c->engine);
            lv_engine_ac_view(c->engine, &v);
            rc = resolve_ext(c, &v, ident, id, err);
            lv_engine_rdunlock(c->engine);
            if (rc == LV_OK)
                rc = lv_acapi_arn_key(c, lv_acapi_str(call, "ResourceIdentifier"), &key, err);
            if (rc == LV_OK && key.data[0] == LV_AC_LABEL_DEPLOY)
                rc = param_exists(c, key.data, err);
            if (rc == LV_OK && (lv_acrec_set_str(in, YF_EXT, id) != LV_OK ||
                                lv_acapi_field(in, YF_EXTVER, call, "ExtensionVersionNumber") != LV_OK ||
                                lv_acapi_field(in, YF_RESOURCE, call, "ResourceIdentifier") != LV_OK))
                rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
            q.target = key.data;
            if (rc == LV_OK)
                rc = lv_acapi_tags_in(call, "Tags", &tags, err);
        }
        q.in = in;
        q.tags = tags;
        if (rc == LV_OK && (rc = lv_acapi_write(c, &q, &res, err)) == LV_OK && res != NULL) {
            lv_engine_rdlock(c->engine);
            lv_engine_ac_view(c->engine, &v);
            out = render_assoc(c, &v, res, false);
            lv_engine_rdunlock(c->engine);
        }
        break;
    default:
        rc = lv_error_set(err, LV_E_INTERNAL, "not an extension operation");
    }
    if (rc == LV_OK)
        lv_acapi_reply(c, call, out);
    else
        json_decref(out);
    lv_acrec_unref(in);
    lv_acrec_unref(tags);
    lv_acrec_unref(res);
    lv_buf_free(&key);
    return rc;
}
