/* rollout_metrics.c - deployments in /metrics (Prometheus text): each
 * environment's latest deployment with its state and percentage, and the
 * rollbacks of each environment, read from the records (so they survive
 * restarts and agree on every node), and the served share this node knows. */
#include "api/appconfig.h"
#include "engine/served.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends s as a Prometheus label value (\, " and newlines escaped). */
static void label(lv_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            lv_buf_putc(b, '\\'), lv_buf_putc(b, *s);
        else if (*s == '\n')
            lv_buf_puts(b, "\\n");
        else
            lv_buf_putc(b, *s);
    }
}

typedef struct env_line {
    lv_buf *state, *pct, *rb, *served;
    lv_engine *e;
    const lv_acview *v;
    unsigned rollbacks;
} env_line;

static bool count_rollbacks(void *arg, const lv_acrec *d)
{
    const char *st = lv_acrec_str(d, DF_STATE);
    ((env_line *)arg)->rollbacks += strcmp(st, "ROLLED_BACK") == 0 || strcmp(st, "REVERTED") == 0;
    return true;
}

static void labels(lv_buf *b, const lv_acrec *app, const lv_acrec *env)
{
    lv_buf_puts(b, "{application=\"");
    label(b, lv_acrec_str(env, EF_APP));
    lv_buf_puts(b, "\",application_name=\"");
    label(b, app ? lv_acrec_str(app, AF_NAME) : "");
    lv_buf_puts(b, "\",environment=\"");
    label(b, lv_acrec_str(env, EF_ID));
    lv_buf_puts(b, "\",environment_name=\"");
    label(b, lv_acrec_str(env, EF_NAME));
    lv_buf_putc(b, '"');
}

/* The served share leverd knows of (engine/served.h), when it knows any. */
static void served_line(env_line *l, const lv_acrec *app, const lv_acrec *env, const lv_acrec *d)
{
    static _Thread_local lv_served_view sv;
    char seed[64];
    snprintf(seed, sizeof seed, "appconfig:%s:%s:%lld", lv_acrec_str(d, DF_APP), lv_acrec_str(d, DF_ENV),
             (long long)lv_acrec_num(d, DF_NUMBER));
    if (!lv_engine_served_get(l->e, seed, &sv))
        return;
    lv_buf_puts(l->served, "lever_deployment_served_percentage");
    labels(l->served, app, env);
    lv_buf_printf(l->served, ",deployment=\"%lld\",profile=\"", (long long)lv_acrec_num(d, DF_NUMBER));
    label(l->served, lv_acrec_str(d, DF_PROFILE));
    lv_buf_printf(l->served, "\"} %.2f\n", sv.percentage);
}

static bool one_env(void *arg, const lv_acrec *env)
{
    env_line *l = arg;
    const char *app_id = lv_acrec_str(env, EF_APP), *env_id = lv_acrec_str(env, EF_ID);
    const lv_acrec *app = lv_ac_get(l->v, "a%s", app_id);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "d%s/%s/", app_id, env_id);
    l->rollbacks = 0;
    l->v->each(l->v->ctx, prefix, strlen(prefix), count_rollbacks, l);
    lv_buf_puts(l->rb, "lever_deployment_rollbacks_total");
    labels(l->rb, app, env);
    lv_buf_printf(l->rb, "} %u\n", l->rollbacks);
    const lv_acrec *d = lv_ac_last_deployment(l->v, app_id, env_id);
    if (d == NULL)
        return true;
    static const char *const states[] = {"DEPLOYING", "BAKING", "COMPLETE", "ROLLED_BACK", "REVERTED"};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        lv_buf_puts(l->state, "lever_deployment_state");
        labels(l->state, app, env);
        lv_buf_printf(l->state, ",deployment=\"%lld\",profile=\"", (long long)lv_acrec_num(d, DF_NUMBER));
        label(l->state, lv_acrec_str(d, DF_PROFILE));
        lv_buf_printf(l->state, "\",state=\"%s\"} %d\n", states[i], strcmp(lv_acrec_str(d, DF_STATE), states[i]) == 0);
    }
    lv_buf_puts(l->pct, "lever_deployment_percentage");
    labels(l->pct, app, env);
    lv_buf_printf(l->pct, ",deployment=\"%lld\",profile=\"", (long long)lv_acrec_num(d, DF_NUMBER));
    label(l->pct, lv_acrec_str(d, DF_PROFILE));
    lv_buf_printf(l->pct, "\"} %g\n", strtod(lv_acrec_str(d, DF_PERCENT), NULL));
    served_line(l, app, env, d);
    return true;
}

/* Label rollouts: each label's newest (the last of its key range). */
typedef struct label_line {
    lv_buf *out;
    const lv_acrec *prev;
} label_line;

static void label_flush(label_line *l)
{
    const lv_acrec *d = l->prev;
    if (d == NULL)
        return;
    lv_buf_puts(l->out, "lever_label_deployment_percentage{region=\"");
    label(l->out, lv_acrec_str(d, DF_APP));
    lv_buf_puts(l->out, "\",name=\"");
    label(l->out, lv_acrec_str(d, DF_ENV));
    lv_buf_puts(l->out, "\",label=\"");
    label(l->out, lv_acrec_str(d, DF_PROFILE));
    lv_buf_printf(l->out, "\",deployment=\"%lld\",state=\"%s\"} %g\n", (long long)lv_acrec_num(d, DF_NUMBER),
                  lv_acrec_str(d, DF_STATE), strtod(lv_acrec_str(d, DF_PERCENT), NULL));
}

static bool one_label(void *arg, const lv_acrec *d)
{
    label_line *l = arg;
    /* same label: the keys agree up to the number */
    if (l->prev != NULL && (l->prev->klen != d->klen || memcmp(l->prev->key, d->key, d->klen - 10) != 0))
        label_flush(l);
    l->prev = d;
    return true;
}

void lv_acapi_metrics(lv_engine *e, lv_buf *out)
{
    lv_buf labels_out = LV_BUF_INIT;
    label_line ll = {&labels_out, NULL};
    lv_buf state = LV_BUF_INIT, pct = LV_BUF_INIT, rb = LV_BUF_INIT, served = LV_BUF_INIT;
    lv_acview v;
    env_line l = {&state, &pct, &rb, &served, e, &v, 0};
    lv_engine_rdlock(e);
    lv_engine_ac_view(e, &v);
    v.each(v.ctx, "e", 1, one_env, &l);
    char lp[2] = {LV_AC_LABEL_DEPLOY, 0};
    v.each(v.ctx, lp, 1, one_label, &ll);
    label_flush(&ll);
    lv_engine_rdunlock(e);
    lv_buf_puts(out, "# HELP lever_deployment_state The state of each environment's latest AppConfig deployment "
                     "(1 for the state it is in).\n# TYPE lever_deployment_state gauge\n");
    if (state.len)
        lv_buf_append(out, state.data, state.len);
    lv_buf_puts(out, "# HELP lever_deployment_percentage PercentageComplete of each environment's latest "
                     "AppConfig deployment.\n# TYPE lever_deployment_percentage gauge\n");
    if (pct.len)
        lv_buf_append(out, pct.data, pct.len);
    lv_buf_puts(out, "# HELP lever_deployment_served_percentage The share of entities served the new version of "
                     "each environment's latest AppConfig deployment, as caches report it and leverd counts it "
                     "(this node, lately).\n# TYPE lever_deployment_served_percentage gauge\n");
    if (served.len)
        lv_buf_append(out, served.data, served.len);
    lv_buf_puts(out, "# HELP lever_deployment_rollbacks_total AppConfig deployments rolled back (StopDeployment, "
                     "alarms, hooks) or reverted, per environment.\n# TYPE lever_deployment_rollbacks_total counter\n");
    if (rb.len)
        lv_buf_append(out, rb.data, rb.len);
    lv_buf_puts(out, "# HELP lever_label_deployment_percentage PercentageComplete of each label's newest rollout "
                     "(its state as a label).\n# TYPE lever_label_deployment_percentage gauge\n");
    if (labels_out.len)
        lv_buf_append(out, labels_out.data, labels_out.len);
    lv_buf_free(&labels_out);
    lv_buf_free(&state);
    lv_buf_free(&pct);
    lv_buf_free(&rb);
    lv_buf_free(&served);
}
