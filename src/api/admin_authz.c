/* admin_authz.c - maps an SSM request to the IAM action, resource ARNs and
 * condition keys AWS evaluates for it (GetParametersByPath: the path;
 * GetParameters / DeleteParameters: each name; DescribeParameters: the
 * account-wide "arn:aws:ssm:<region>:<account>:*"), and collects the
 * names the audit log records. */
#include "api/admin_authz.h"

#include <stdlib.h>
#include <string.h>

#include "api/alarm_api.h"
#include "api/label_deploy.h"
#include "core/name.h"

static const char *const mutating_ops[] = {
    "PutParameter", "DeleteParameter", "DeleteParameters", "LabelParameterVersion",
    "UnlabelParameterVersion", "AddTagsToResource", "RemoveTagsFromResource", NULL};

bool lv_authz_ssm_mutating(const char *op)
{
    for (size_t i = 0; mutating_ops[i]; i++)
        if (op[0] == mutating_ops[i][0] && strcmp(op, mutating_ops[i]) == 0)
            return true;
    return false;
}

void lv_authz_req_free(lv_authz_req *r)
{
    for (size_t i = 0; i < r->nres; i++)
        free(r->res[i]);
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->cond_owned);
    memset(r, 0, sizeof *r);
}

static lv_err add_res(lv_authz_req *r, lv_buf *arn)
{
    size_t n;
    char *s = lv_buf_steal(arn, &n);
    if (s == NULL)
        return LV_E_NOMEM;
    r->res[r->nres++] = s;
    return LV_OK;
}

static lv_err add_name(lv_authz_req *r, const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c == NULL)
        return LV_E_NOMEM;
    memcpy(c, s, len);
    c[len] = '\0';
    r->names[r->nnames++] = c;
    return LV_OK;
}

/* The ARN of a name as sent: the selector (":3", ":prod") is not part of
 * the resource. A name that does not canonicalise is used as sent, so a
 * malformed name can still only be allowed by a wildcard that covers it
 * (the handler then refuses it anyway). */
static lv_err name_arn(const char *region, const char *account, const char *in, size_t len, lv_buf *arn)
{
    lv_buf tmp = LV_BUF_INIT, cn = LV_BUF_INIT;
    lv_err rc = lv_buf_append(&tmp, in, len);
    if (rc != LV_OK)
        return rc;
    size_t nlen = len;
    lv_selector sel;
    if (lv_selector_split(tmp.data, len, &nlen, &sel, NULL) != LV_OK)
        nlen = len;
    const char *name = tmp.data;
    if (lv_name_canonical(tmp.data, nlen, &cn, NULL) == LV_OK)
        name = cn.data;
    else
        tmp.data[nlen] = '\0';
    lv_buf_reset(arn);
    rc = lv_name_arn(region, account, name, arn);
    lv_buf_free(&tmp);
    lv_buf_free(&cn);
    return rc;
}

static lv_err one_name(lv_authz_req *r, json_t *v, const char *region, const char *account)
{
    if (!json_is_string(v) || r->nres >= LV_AUTHZ_MAX_RES)
        return LV_OK;
    lv_buf arn = LV_BUF_INIT;
    lv_err rc = name_arn(region, account, json_string_value(v), json_string_length(v), &arn);
    if (rc == LV_OK)
        rc = add_res(r, &arn);
    if (rc == LV_OK)
        rc = add_name(r, json_string_value(v), json_string_length(v));
    lv_buf_free(&arn);
    return rc;
}

/* Names: a required array of at most 10 strings (longer arrays are refused
 * by the handler, so nothing is checked for them). */
static lv_err names_array(lv_authz_req *r, json_t *arr, const char *region, const char *account)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > LV_AUTHZ_MAX_RES)
        return LV_OK;
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!json_is_string(json_array_get(arr, i)))
            return LV_OK;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        lv_err rc = one_name(r, json_array_get(arr, i), region, account);
        if (rc != LV_OK)
            return rc;
    }
    r->checked = true;
    return LV_OK;
}

static lv_err path_res(lv_authz_req *r, json_t *v, const char *region, const char *account)
{
    if (!json_is_string(v))
        return LV_OK;
    const char *in = json_string_value(v);
    size_t len = json_string_length(v);
    lv_buf cp = LV_BUF_INIT, arn = LV_BUF_INIT;
    lv_err rc = LV_OK;
    const char *path = in;
    if (lv_path_canonical(in, len, &cp, NULL) == LV_OK) {
        /* "/a/b/" names the resource "parameter/a/b", as AWS's path ARNs do. */
        if (cp.len > 1)
            cp.data[--cp.len] = '\0';
        path = cp.data;
    }
    rc = lv_buf_printf(&arn, "arn:aws:ssm:%s:%s:parameter%s%s", region, account, path[0] == '/' ? "" : "/",
                       strcmp(path, "/") == 0 ? "" : path);
    if (rc == LV_OK)
        rc = add_res(r, &arn);
    if (rc == LV_OK)
        rc = add_name(r, in, len);
    r->checked = rc == LV_OK;
    lv_buf_free(&cp);
    lv_buf_free(&arn);
    return rc;
}

static void cond(lv_authz_req *r, const char *k, const char *v)
{
    if (r->ncond < LV_AUTHZ_MAX_COND) {
        r->cond_keys[r->ncond] = k;
        r->cond_values[r->ncond] = v;
        r->ncond++;
    }
}

static lv_err bool_cond(lv_authz_req *r, json_t *body, const char *field, const char *key, bool dflt)
{
    json_t *v = body ? json_object_get(body, field) : NULL;
    bool b = json_is_boolean(v) ? json_is_true(v) : dflt;
    cond(r, key, b ? "true" : "false");
    return LV_OK;
}

/* Alarms are resources "arn:aws:cloudwatch:<region>:<account>:alarm:<NAME>",
 * the ARN an environment monitor names; DescribeAlarms of more than 10
 * names, of every alarm, or a body without a usable name asks for
 * "alarm:*". */
static lv_err alarm_res(lv_authz_req *r, const char *op, json_t *body, const char *region, const char *account)
{
    r->mutating = true;
    json_t *one = body ? json_object_get(body, "AlarmName") : NULL;
    json_t *many = body ? json_object_get(body, "AlarmNames") : NULL;
    bool describe = strcmp(op, "DescribeAlarms") == 0;
    size_t n = describe && json_is_array(many) ? json_array_size(many) : 0;
    bool each = describe ? n > 0 && n <= LV_AUTHZ_MAX_RES : json_is_string(one);
    for (size_t i = 0; each && i < n; i++)
        each = json_is_string(json_array_get(many, i));
    lv_err rc = LV_OK;
    for (size_t i = 0; rc == LV_OK && i < (each ? (describe ? n : 1) : 1); i++) {
        json_t *v = each ? (describe ? json_array_get(many, i) : one) : NULL;
        lv_buf arn = LV_BUF_INIT;
        rc = lv_buf_printf(&arn, "arn:aws:cloudwatch:%s:%s:alarm:%s", region, account,
                           v ? json_string_value(v) : "*");
        if (rc == LV_OK)
            rc = add_res(r, &arn);
        if (rc == LV_OK && v)
            rc = add_name(r, json_string_value(v), json_string_length(v));
        lv_buf_free(&arn);
    }
    r->checked = rc == LV_OK;
    return rc;
}

/* Lever.CheckConfiguration: lever:CheckConfiguration on the profile's ARN,
 * audited on every call like the alarm operations. */
static lv_err check_res(lv_authz_req *r, json_t *body, const char *region, const char *account)
{
    r->mutating = true;
    json_t *app = body ? json_object_get(body, "Application") : NULL;
    json_t *prof = body ? json_object_get(body, "ConfigurationProfile") : NULL;
    bool both = json_is_string(app) && json_is_string(prof);
    lv_buf arn = LV_BUF_INIT;
    lv_err rc = lv_buf_printf(&arn, "arn:aws:appconfig:%s:%s:application/%s/configurationprofile/%s", region, account,
                              both ? json_string_value(app) : "*", both ? json_string_value(prof) : "*");
    if (rc == LV_OK)
        rc = add_res(r, &arn);
    lv_buf_free(&arn);
    if (rc == LV_OK && both) {
        lv_buf name = LV_BUF_INIT;
        rc = lv_buf_printf(&name, "%s/%s", json_string_value(app), json_string_value(prof));
        if (rc == LV_OK)
            rc = add_name(r, name.data, name.len);
        lv_buf_free(&name);
    }
    r->checked = rc == LV_OK;
    return rc;
}

lv_err lv_authz_extract(const char *service, const char *op, json_t *body, const char *region,
                        const char *account, lv_authz_req *r)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(body))
        body = NULL;
    bool ssm = strcmp(service, "ssm") == 0;
    snprintf(r->action, sizeof r->action, "%s:%s", service, op);
    lv_err rc = LV_OK;
    json_t *name = body ? json_object_get(body, "Name") : NULL;
    if (!ssm) {
        if (strcmp(op, "WatchParameters") == 0) {
            /* A watch reveals names and versions under a path, as a listing
             * does, so it is authorised as ssm:GetParametersByPath. */
            snprintf(r->action, sizeof r->action, "ssm:GetParametersByPath");
            r->listing = true;
            if (body)
                rc = path_res(r, json_object_get(body, "Path"), region, account);
            bool_cond(r, body, "Recursive", "ssm:Recursive", true);
        } else if (strcmp(op, "WatchConfigurations") == 0) {
            /* A configuration watch reveals deployments: authorised as
             * appconfig:GetConfiguration on what it watches. */
            snprintf(r->action, sizeof r->action, "appconfig:GetConfiguration");
            json_t *app = body ? json_object_get(body, "Application") : NULL;
            json_t *env = body ? json_object_get(body, "Environment") : NULL;
            lv_buf arn = LV_BUF_INIT;
            rc = lv_buf_printf(&arn, "arn:aws:appconfig:%s:%s:application/%s", region, account,
                               json_is_string(app) ? json_string_value(app) : "*");
            if (rc == LV_OK && json_is_string(app) && json_is_string(env))
                rc = lv_buf_printf(&arn, "/environment/%s", json_string_value(env));
            if (rc == LV_OK)
                rc = add_res(r, &arn);
            lv_buf_free(&arn);
            r->checked = rc == LV_OK;
        } else if (strcmp(op, "ListPathChildren") == 0) {
            /* Names and metadata, no values: what DescribeParameters shows. */
            snprintf(r->action, sizeof r->action, "ssm:DescribeParameters");
            r->listing = true;
            lv_buf arn = LV_BUF_INIT;
            rc = lv_buf_printf(&arn, "arn:aws:ssm:%s:%s:*", region, account);
            if (rc == LV_OK)
                rc = add_res(r, &arn);
            lv_buf_free(&arn);
            r->checked = rc == LV_OK;
        } else if (strcmp(op, "CheckConfiguration") == 0) {
            rc = check_res(r, body, region, account);
        } else if (lv_label_deploy_op_known(op)) {
            /* Moving a label through a rollout is labelling it; reading
             * the rollout is reading the parameter. */
            bool get = strcmp(op, "GetLabelDeployment") == 0;
            snprintf(r->action, sizeof r->action, get ? "ssm:GetParameter" : "ssm:LabelParameterVersion");
            r->mutating = !get;
            rc = one_name(r, name, region, account);
            r->checked = rc == LV_OK;
        } else if (lv_alarm_api_op_known(op)) {
            rc = alarm_res(r, op, body, region, account);
        } else {
            r->mutating = true; /* admin operations: root only, always audited */
        }
        return rc;
    }
    r->mutating = lv_authz_ssm_mutating(op);
    if (strcmp(op, "GetParameters") == 0 || strcmp(op, "DeleteParameters") == 0) {
        rc = body ? names_array(r, json_object_get(body, "Names"), region, account) : LV_OK;
    } else if (strcmp(op, "GetParametersByPath") == 0) {
        r->listing = true;
        if (body)
            rc = path_res(r, json_object_get(body, "Path"), region, account);
        bool_cond(r, body, "Recursive", "ssm:Recursive", false);
    } else if (strcmp(op, "DescribeParameters") == 0) {
        /* DescribeParameters has no resource-level permission in AWS. */
        lv_buf arn = LV_BUF_INIT;
        r->listing = true;
        rc = lv_buf_printf(&arn, "arn:aws:ssm:%s:%s:*", region, account);
        if (rc == LV_OK)
            rc = add_res(r, &arn);
        lv_buf_free(&arn);
        r->checked = rc == LV_OK;
    } else if (strcmp(op, "AddTagsToResource") == 0 || strcmp(op, "RemoveTagsFromResource") == 0 ||
               strcmp(op, "ListTagsForResource") == 0) {
        json_t *id = body ? json_object_get(body, "ResourceId") : NULL;
        json_t *type = body ? json_object_get(body, "ResourceType") : NULL;
        if (json_is_string(type) && strcmp(json_string_value(type), "Parameter") == 0 && json_is_string(id)) {
            rc = one_name(r, id, region, account);
            r->checked = rc == LV_OK;
        }
    } else if (json_is_string(name)) {
        /* PutParameter, GetParameter, GetParameterHistory, DeleteParameter,
         * (Un)LabelParameterVersion: the one named parameter. */
        rc = one_name(r, name, region, account);
        r->checked = rc == LV_OK;
        if (strcmp(op, "PutParameter") == 0) {
            bool_cond(r, body, "Overwrite", "ssm:Overwrite", false);
            json_t *pol = json_object_get(body, "Policies");
            if (json_is_string(pol)) {
                r->cond_owned = strdup(json_string_value(pol));
                if (r->cond_owned == NULL)
                    rc = LV_E_NOMEM;
                else
                    cond(r, "ssm:Policies", r->cond_owned);
            }
        }
    }
    return rc;
}
