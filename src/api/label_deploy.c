/* label_deploy.c - rollouts of SSM parameter labels (docs/rollouts.md):
 * Lever.StartLabelDeployment, Lever.GetLabelDeployment and
 * Lever.StopLabelDeployment (AWS JSON 1.1), and which version
 * GetParameter NAME:LABEL answers while one runs. The records and their
 * growth are core's (core/appconfig.h LV_AC_LABEL_DEPLOY); the driver
 * (src/rollout) steps them. */
#include "api/label_deploy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/jreq.h"
#include "api/served_report.h"
#include "core/bucket.h"
#include "core/name.h"
#include "hooks/hooks.h"
#include "json/jw.h"

bool lv_label_deploy_op_known(const char *op)
{
    return strcmp(op, "StartLabelDeployment") == 0 || strcmp(op, "GetLabelDeployment") == 0 ||
           strcmp(op, "StopLabelDeployment") == 0;
}

uint32_t lv_label_deploy_serve(lv_engine *e, const char *region, const char *name, const char *label,
                               const char *entity, uint32_t indexed)
{
    return lv_label_deploy_serve_side(e, region, name, label, entity, NULL, indexed, NULL);
}

uint32_t lv_label_deploy_serve_side(lv_engine *e, const char *region, const char *name, const char *label,
                                    const char *entity, const char *side, uint32_t indexed,
                                    lv_label_rollout *info)
{
    lv_acview v;
    lv_engine_ac_view(e, &v);
    const lv_acrec *d = lv_ac_label_deployment(&v, region, name, label);
    if (d == NULL)
        return indexed;
    uint32_t to = (uint32_t)lv_acrec_num(d, DF_VERSION);
    /* COMPLETE moved the label in the same write; a rolled back one left
     * it where it was: the index is right either way. */
    if (!lv_ac_in_progress(d))
        return indexed;
    double pct = strtod(lv_acrec_str(d, DF_PERCENT), NULL);
    if (!lv_acrec_len(d, DF_PREV_VERSION) || pct >= 100)
        return to;
    uint32_t from = (uint32_t)lv_acrec_num(d, DF_PREV_VERSION);
    char seed[1200];
    snprintf(seed, sizeof seed, "ssm:%s:%s:%s:%" PRId64, region, name, label, lv_acrec_num(d, DF_NUMBER));
    if (info != NULL) {
        info->active = true;
        snprintf(info->percent, sizeof info->percent, "%s", lv_acrec_str(d, DF_PERCENT));
        snprintf(info->seed, sizeof info->seed, "%s", seed);
        info->from = from;
        info->to = to;
    }
    if (side != NULL)
        return strcmp(side, "from") == 0 ? from : to;
    /* bucketed here, so counted here (a cache asking for a side reports) */
    bool is_to = lv_bucket_entity_in(seed, entity ? entity : "", pct);
    lv_engine_served_direct(e, seed, entity ? entity : "", is_to);
    return is_to ? to : from;
}

/* ---------- rendering ---------- */

static void kdouble(jw *w, const char *k, double v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%.10g", v);
    jw_key(w, k);
    jw_raw(w, t, (size_t)n);
}

/* AppliedExtensions: the extensions associated with the parameter when
 * the rollout started (core: LV_AC_APPLIED), as GetDeployment answers. */
static void render_applied(lv_engine *e, jw *w, const lv_acrec *d)
{
    lv_acview v;
    lv_engine_rdlock(e);
    lv_engine_ac_view(e, &v);
    const lv_acrec *ar = lv_acrec_ref(lv_ac_get(&v, "%c%s", LV_AC_APPLIED, d->key));
    lv_engine_rdunlock(e);
    jw_key(w, "AppliedExtensions");
    jw_arr(w);
    unsigned na = lv_acrec_count(ar, QF_EXTS);
    for (unsigned i = 0; i + 3 < na;) {
        jw_obj(w);
        jw_kstr(w, "ExtensionId", lv_acrec_item(ar, QF_EXTS, i)->p);
        jw_kstr(w, "ExtensionAssociationId", lv_acrec_item(ar, QF_EXTS, i + 1)->p);
        jw_kint(w, "VersionNumber", strtoll(lv_acrec_item(ar, QF_EXTS, i + 2)->p, NULL, 10));
        unsigned np = (unsigned)strtoul(lv_acrec_item(ar, QF_EXTS, i + 3)->p, NULL, 10);
        i += 4;
        jw_key(w, "Parameters");
        jw_obj(w);
        for (unsigned k = 0; k < np && i + 1 < na; k++, i += 2) {
            jw_key(w, lv_acrec_item(ar, QF_EXTS, i)->p);
            jw_strn(w, lv_acrec_item(ar, QF_EXTS, i + 1)->p, lv_acrec_item(ar, QF_EXTS, i + 1)->n);
        }
        jw_obj_end(w);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    lv_acrec_unref(ar);
}

static void render(jw *w, const lv_acrec *d, lv_engine *e)
{
    jw_obj(w);
    jw_kstr(w, "Name", lv_acrec_str(d, DF_ENV));
    jw_kstr(w, "Label", lv_acrec_str(d, DF_PROFILE));
    jw_kint(w, "DeploymentNumber", lv_acrec_num(d, DF_NUMBER));
    jw_kint(w, "ParameterVersion", lv_acrec_num(d, DF_VERSION));
    if (lv_acrec_len(d, DF_PREV_VERSION))
        jw_kint(w, "PreviousVersion", lv_acrec_num(d, DF_PREV_VERSION));
    jw_kstr(w, "DeploymentStrategyId", lv_acrec_str(d, DF_STRATEGY));
    jw_kint(w, "DeploymentDurationInMinutes", lv_acrec_num(d, DF_DURATION));
    jw_kstr(w, "GrowthType", lv_acrec_str(d, DF_GTYPE));
    kdouble(w, "GrowthFactor", strtod(lv_acrec_str(d, DF_GROWTH), NULL));
    jw_kint(w, "FinalBakeTimeInMinutes", lv_acrec_num(d, DF_BAKE));
    jw_kstr(w, "State", lv_acrec_str(d, DF_STATE));
    kdouble(w, "PercentageComplete", strtod(lv_acrec_str(d, DF_PERCENT), NULL));
    if (lv_acrec_len(d, DF_DESC))
        jw_kstr(w, "Description", lv_acrec_str(d, DF_DESC));
    jw_key(w, "StartedAt");
    jw_time(w, lv_acrec_num(d, DF_STARTED));
    if (lv_acrec_num(d, DF_COMPLETED) > 0) {
        jw_key(w, "CompletedAt");
        jw_time(w, lv_acrec_num(d, DF_COMPLETED));
    }
    jw_key(w, "Monitors");
    jw_arr(w);
    for (unsigned i = 0; i < lv_acrec_count(d, DF_MONITORS); i += 2) {
        jw_obj(w);
        jw_kstr(w, "AlarmArn", lv_acrec_item(d, DF_MONITORS, i)->p);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    /* Newest first, as GetDeployment answers. */
    jw_key(w, "EventLog");
    jw_arr(w);
    unsigned n = lv_acrec_count(d, DF_EVENTS);
    for (unsigned i = n; i >= 4; i -= 4) {
        jw_obj(w);
        jw_kstr(w, "EventType", lv_acrec_item(d, DF_EVENTS, i - 4)->p);
        jw_kstr(w, "TriggeredBy", lv_acrec_item(d, DF_EVENTS, i - 3)->p);
        jw_kstr(w, "Description", lv_acrec_item(d, DF_EVENTS, i - 2)->p);
        jw_key(w, "OccurredAt");
        jw_time(w, strtoll(lv_acrec_item(d, DF_EVENTS, i - 1)->p, NULL, 10));
        jw_obj_end(w);
    }
    jw_arr_end(w);
    char seed[1200];
    snprintf(seed, sizeof seed, "ssm:%s:%s:%s:%" PRId64, lv_acrec_str(d, DF_APP), lv_acrec_str(d, DF_ENV),
             lv_acrec_str(d, DF_PROFILE), lv_acrec_num(d, DF_NUMBER));
    lv_served_render_jw(e, seed, w);
    render_applied(e, w, d);
    jw_obj_end(w);
}

/* ---------- operations ---------- */

typedef struct target {
    lv_buf name;          /* canonical */
    const char *label;
} target;

static lv_err read_target(const lv_ssm_ctx *c, jreq *r, target *t)
{
    (void)c;
    size_t nlen = 0;
    const char *name = jreq_str(r, NULL, "Name", true, 1, LV_NAME_WIRE_MAX, &nlen);
    t->label = jreq_str(r, NULL, "Label", true, 1, 100, NULL);
    if (t->label != NULL && !lv_label_valid(t->label))
        jreq_fail(r, t->label, "label",
                  "Member must be a parameter label: letters, numbers, '.', '-' and '_', not starting with a "
                  "number, aws or ssm");
    lv_error nerr;
    lv_error_clear(&nerr);
    if (name != NULL && lv_name_canonical(name, nlen, &t->name, &nerr) != LV_OK)
        jreq_fail(r, name, "name", nerr.msg);
    return LV_OK;
}

static lv_err start(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    target t = {LV_BUF_INIT, NULL};
    read_target(c, r, &t);
    int64_t ver = 0;
    jreq_int(r, NULL, "ParameterVersion", true, 1, UINT32_MAX, &ver);
    const char *sid = jreq_str(r, NULL, "DeploymentStrategyId", true, 1, 128, NULL);
    const char *desc = jreq_str(r, NULL, "Description", false, 0, 1024, NULL);
    json_t *mons = jreq_array(r, NULL, "Monitors", false, 0, 5);
    lv_acrec *in = lv_acrec_new(LV_AC_LABEL_DEPLOY, DF__N), *tags = lv_acrec_new(LV_AC_TAGS, TF__N);
    lv_err rc = in && tags ? LV_OK : lv_error_set(err, LV_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == LV_OK && mons && i < json_array_size(mons); i++) {
        json_t *m = json_array_get(mons, i);
        const char *arn = jreq_str(r, json_is_object(m) ? m : NULL, "AlarmArn", true, 1, 2048, NULL);
        if (!json_is_object(m))
            jreq_fail(r, "", "monitors", "Member must be a list of {\"AlarmArn\": ...}");
        else if (arn && (lv_acrec_push(in, DF_MONITORS, arn, strlen(arn)) != LV_OK ||
                         lv_acrec_push(in, DF_MONITORS, "", 0) != LV_OK))
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    json_t *tg = json_object_get(r->root, "Tags");
    if (tg != NULL && !json_is_object(tg))
        jreq_fail(r, "", "tags", "Member must be a map of strings");
    const char *k;
    json_t *tv;
    if (json_is_object(tg))
        json_object_foreach(tg, k, tv) {
            if (!json_is_string(tv))
                jreq_fail(r, k, "tags", "Member must be a map of strings");
            else if (rc == LV_OK && (lv_acrec_push(tags, TF_TAGS, k, strlen(k)) != LV_OK ||
                                     lv_acrec_push(tags, TF_TAGS, json_string_value(tv), json_string_length(tv)) !=
                                         LV_OK))
                rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        }
    if (rc == LV_OK)
        rc = jreq_finish(r, err);
    /* The versions, from the index: the new one must exist; the label's
     * current version is the rollback target. */
    char prev[16] = "";
    if (rc == LV_OK) {
        lv_engine_rdlock(c->engine);
        const lv_param *p = lv_engine_get(c->engine, c->region, t.name.data);
        const lv_version *pv = p ? lv_param_find_label(p, t.label) : NULL;
        bool has = p && lv_param_find_version(p, (uint32_t)ver) != NULL;
        if (pv)
            snprintf(prev, sizeof prev, "%u", pv->version);
        lv_engine_rdunlock(c->engine);
        if (p == NULL)
            rc = lv_error_set(err, LV_E_PARAM_NOT_FOUND, "Parameter %s not found.", t.name.data);
        else if (!has)
            rc = lv_error_set(err, LV_E_PARAM_VERSION_NOT_FOUND,
                              "Systems Manager could not find version %" PRId64 " of %s. Verify the version and try "
                              "again.",
                              ver, t.name.data);
    }
    if (rc == LV_OK && (lv_acrec_set_num(in, DF_VERSION, ver) != LV_OK ||
                        lv_acrec_set_str(in, DF_PREV_VERSION, prev) != LV_OK ||
                        lv_acrec_set_str(in, DF_STRATEGY, sid) != LV_OK ||
                        (desc && lv_acrec_set_str(in, DF_DESC, desc) != LV_OK)))
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
    /* PRE_START_DEPLOYMENT webhooks associated with the parameter may
     * veto (the router runs this call on an offload worker then). */
    if (rc == LV_OK && c->hooks != NULL) {
        char vs[24];
        snprintf(vs, sizeof vs, "%" PRId64, ver);
        lv_hooks_target ht;
        memset(&ht, 0, sizeof ht);
        ht.region = c->region;
        ht.param = t.name.data;
        ht.label = t.label;
        ht.version = vs;
        ht.strategy = sid;
        ht.description = desc;
        ht.created_by = c->user_arn;
        rc = lv_hooks_pre(c->hooks, LV_HOOK_PRE_START, &ht, err);
    }
    lv_acrec *res = NULL;
    if (rc == LV_OK) {
        lv_acreq q;
        memset(&q, 0, sizeof q);
        q.op = LV_ACOP_START_LABEL_DEPLOYMENT;
        q.in = in;
        q.tags = tags;
        q.app = c->region;
        q.env = t.name.data;
        q.profile = t.label;
        q.lock = -1;
        q.now_ms = c->now_ms;
        rc = lv_engine_ac_write(c->engine, &q, &res, NULL, err);
    }
    if (rc == LV_OK)
        render(w, res, c->engine);
    lv_acrec_unref(res);
    lv_acrec_unref(in);
    lv_acrec_unref(tags);
    lv_buf_free(&t.name);
    return rc;
}

static lv_err get_or_stop(const lv_ssm_ctx *c, jreq *r, jw *w, bool stop, lv_error *err)
{
    target t = {LV_BUF_INIT, NULL};
    read_target(c, r, &t);
    int64_t number = 0;
    bool given = !stop && jreq_int(r, NULL, "DeploymentNumber", false, 1, INT32_MAX, &number);
    lv_err rc = jreq_finish(r, err);
    lv_acrec *d = NULL;
    if (rc == LV_OK) {
        lv_acview v;
        lv_engine_rdlock(c->engine);
        lv_engine_ac_view(c->engine, &v);
        char key[1200];
        const lv_acrec *x = NULL;
        if (!given)
            x = lv_ac_label_deployment(&v, c->region, t.name.data, t.label);
        else if (lv_ac_label_prefix(c->region, t.name.data, t.label, key, sizeof key - 16))
            x = lv_ac_get(&v, "%s%010" PRId64, key, number);
        d = lv_acrec_ref(x);
        lv_engine_rdunlock(c->engine);
        if (d == NULL)
            rc = lv_error_set(err, LV_E_RESOURCE_NOT_FOUND, "No deployment of label %s of %s%s", t.label,
                              t.name.data, given ? " with that number" : "");
    }
    if (rc == LV_OK && stop) {
        lv_acreq q;
        memset(&q, 0, sizeof q);
        q.op = LV_ACOP_STOP_DEPLOYMENT;
        q.target = d->key;
        q.number = lv_acrec_num(d, DF_NUMBER);
        q.lock = -1;
        q.now_ms = c->now_ms;
        lv_acrec *res = NULL;
        rc = lv_engine_ac_write(c->engine, &q, &res, NULL, err);
        if (rc == LV_E_AC_BAD_REQUEST)
            err->code = rc = LV_E_VALIDATION;
        lv_acrec_unref(d);
        d = res;
    }
    if (rc == LV_OK)
        render(w, d, c->engine);
    lv_acrec_unref(d);
    lv_buf_free(&t.name);
    return rc;
}

lv_err lv_label_deploy_dispatch(const lv_ssm_ctx *c, const char *op, const char *body, size_t len, lv_buf *out,
                                lv_error *err)
{
    jreq r;
    lv_err rc = jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    jw w;
    jw_init(&w, out);
    if (strcmp(op, "StartLabelDeployment") == 0)
        rc = start(c, &r, &w, err);
    else
        rc = get_or_stop(c, &r, &w, strcmp(op, "StopLabelDeployment") == 0, err);
    jreq_free(&r);
    return rc;
}
