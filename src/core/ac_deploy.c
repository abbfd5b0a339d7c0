/* ac_deploy.c - AppConfig deployments (start, the driver's steps, stop,
 * revert and rollback, the event log) and extensions with their
 * associations, as pure plans over a view.
 *
 * A deployment record carries everything growth needs (strategy values,
 * state, percentage, the steps taken and when the last was, the version
 * served before), so the driver (src/rollout) only says "take step k now"
 * and a repeated or stale step is refused here. */
#include "core/appconfig.h"
#include "core/rollout.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lv_err lv_ac_event(lv_acrec *d, const char *type, const char *by, const char *desc, int64_t ms)
{
    char t[24];
    snprintf(t, sizeof t, "%" PRId64, ms);
    if (lv_acrec_count(d, DF_EVENTS) / 4 >= LV_AC_MAX_EVENTS)
        return LV_OK; /* the oldest events are kept; the state fields stay exact */
    lv_err rc = lv_acrec_push(d, DF_EVENTS, type, strlen(type));
    if (rc == LV_OK)
        rc = lv_acrec_push(d, DF_EVENTS, by, strlen(by));
    if (rc == LV_OK)
        rc = lv_acrec_push(d, DF_EVENTS, desc, strlen(desc));
    if (rc == LV_OK)
        rc = lv_acrec_push(d, DF_EVENTS, t, strlen(t));
    return rc;
}

bool lv_ac_in_progress(const lv_acrec *d)
{
    const char *st = d ? lv_acrec_str(d, DF_STATE) : "";
    return strcmp(st, "DEPLOYING") == 0 || strcmp(st, "BAKING") == 0 || strcmp(st, "VALIDATING") == 0;
}

static lv_err oom(lv_error *err)
{
    return lv_error_set(err, LV_E_NOMEM, "out of memory");
}

/* A copy of a deployment record with every field of this release (records
 * stored by an older one have fewer). */
static lv_acrec *widen(const lv_acrec *cur)
{
    lv_acrec *d = lv_acrec_new(LV_AC_DEPLOY, DF__N);
    if (d == NULL || lv_acrec_set_key(d, cur->key) != LV_OK)
        goto fail;
    for (unsigned i = 0; i < DF__N; i++) {
        if (i < cur->nf) {
            if (lv_acrec_copy_field(d, i, cur, i) != LV_OK)
                goto fail;
        } else {
            lv_acrec_clear(d, i, true);
        }
    }
    return d;
fail:
    lv_acrec_unref(d);
    return NULL;
}

static lv_err set_percent(lv_acrec *d, double p)
{
    char t[32];
    lv_rollout_percent_text(p, t, sizeof t);
    return lv_acrec_set_str(d, DF_PERCENT, t);
}

static bool is_label(const lv_acrec *d)
{
    return d->klen > 0 && d->key[0] == LV_AC_LABEL_DEPLOY;
}

/* A deployment's change: a label rollout's wakes the parameter's watchers
 * (kind LABEL, key "<region>\0<name>", the new version); an AppConfig
 * deployment's is the configuration change of its profile. */
static lv_err dep_change(lv_acplan *out, lv_change_kind kind, const lv_acrec *d)
{
    if (!is_label(d))
        return lv_acplan_change_add(out, kind, lv_acrec_str(d, DF_APP), lv_acrec_str(d, DF_ENV),
                                    lv_acrec_str(d, DF_PROFILE), (uint32_t)lv_acrec_num(d, DF_NUMBER));
    char key[1200];
    int n = snprintf(key, sizeof key, "%s%c%s", lv_acrec_str(d, DF_APP), '\0', lv_acrec_str(d, DF_ENV));
    if (n < 0 || (size_t)n >= sizeof key)
        return LV_E_NOMEM;
    return lv_acplan_change_raw(out, LV_CHANGE_LABEL, key, (size_t)n, (uint32_t)lv_acrec_num(d, DF_VERSION));
}

/* A label rollout that completes moves the label in the same write. */
static lv_err move_label(lv_acplan *out, const lv_acrec *d)
{
    if (!is_label(d))
        return LV_OK;
    out->move.region = strdup(lv_acrec_str(d, DF_APP));
    out->move.name = strdup(lv_acrec_str(d, DF_ENV));
    out->move.label = strdup(lv_acrec_str(d, DF_PROFILE));
    out->move.version = (uint32_t)lv_acrec_num(d, DF_VERSION);
    return out->move.region && out->move.name && out->move.label ? LV_OK : LV_E_NOMEM;
}

/* Takes step k of d at now (k is the next step; the caller checked). Adds
 * the step's events to d and its changes to out; *done tells whether the
 * deployment completed. */
static lv_err take_step(lv_acrec *d, unsigned k, int64_t now, lv_acplan *out, bool *done)
{
    lv_rollout_strategy s;
    lv_rollout_of(d, &s);
    unsigned n = lv_rollout_steps(&s);
    lv_err rc = lv_acrec_set_num(d, DF_STEP, k);
    if (rc == LV_OK)
        rc = lv_acrec_set_num(d, DF_STEP_MS, now);
    *done = false;
    if (rc == LV_OK && k <= n) {
        double p = lv_rollout_percent(&s, k);
        char t[32], desc[96];
        lv_rollout_percent_text(p, t, sizeof t);
        snprintf(desc, sizeof desc, "Configuration available to %.2f%% of clients", p);
        rc = set_percent(d, p);
        if (rc == LV_OK)
            rc = lv_ac_event(d, "PERCENTAGE_UPDATED", "APPCONFIG", desc, now);
        if (rc == LV_OK)
            rc = dep_change(out, LV_CHANGE_AC_STEP, d);
        if (rc == LV_OK && k == n && s.bake_ms > 0) {
            rc = lv_acrec_set_str(d, DF_STATE, "BAKING");
            if (rc == LV_OK)
                rc = lv_ac_event(d, "BAKE_TIME_STARTED", "APPCONFIG", "Final bake time started", now);
            return rc;
        }
        if (rc != LV_OK || k < n)
            return rc;
    }
    if (rc != LV_OK)
        return rc;
    *done = true;
    rc = lv_acrec_set_str(d, DF_STATE, "COMPLETE");
    if (rc == LV_OK)
        rc = lv_acrec_set_num(d, DF_COMPLETED, now);
    if (rc == LV_OK)
        rc = lv_ac_event(d, "DEPLOYMENT_COMPLETED", "APPCONFIG", "Deployment completed", now);
    if (rc == LV_OK)
        rc = dep_change(out, LV_CHANGE_AC_COMPLETE, d);
    if (rc == LV_OK)
        rc = move_label(out, d);
    return rc;
}

/* Takes every step that is due at once (gap 0): a duration of 0, a
 * canary's first share. */
static lv_err take_due_steps(lv_acrec *d, int64_t now, lv_acplan *out, bool *done)
{
    lv_rollout_strategy s;
    lv_rollout_of(d, &s);
    *done = false;
    lv_err rc = LV_OK;
    for (unsigned k = (unsigned)lv_acrec_num(d, DF_STEP) + 1;
         rc == LV_OK && !*done && k <= lv_rollout_last(&s) && lv_rollout_gap_ms(&s, k) == 0; k++)
        rc = take_step(d, k, now, out, done);
    return rc;
}

/* The alarm names the override tag lists ("a,b" or "*"), into DF_OVERRIDE. */
static lv_err set_override(lv_acrec *d, const lv_acrec *tags, bool *any)
{
    *any = false;
    for (unsigned i = 0; tags && i + 1 < lv_acrec_count(tags, TF_TAGS); i += 2) {
        if (strcmp(lv_acrec_item(tags, TF_TAGS, i)->p, LV_AC_OVERRIDE_TAG) != 0)
            continue;
        const char *v = lv_acrec_item(tags, TF_TAGS, i + 1)->p;
        while (*v) {
            size_t len = strcspn(v, ",");
            size_t lo = 0, hi = len;
            while (lo < hi && v[lo] == ' ')
                lo++;
            while (hi > lo && v[hi - 1] == ' ')
                hi--;
            /* "!<alarm>" items are the driver's (lv_ac_rearmed): not a name */
            if (hi > lo && v[lo] != '!') {
                lv_err rc = lv_acrec_push(d, DF_OVERRIDE, v + lo, hi - lo);
                if (rc != LV_OK)
                    return rc;
                *any = true;
            }
            v += len;
            if (*v == ',')
                v++;
        }
    }
    return LV_OK;
}

/* ---------- AppliedExtensions ---------- */

typedef struct applied {
    const char *keys[3];
    unsigned nkeys;
    lv_acrec *rec;
    unsigned found;
    lv_err rc;
} applied;

static bool applied_one(void *arg, const lv_acrec *a)
{
    applied *x = arg;
    const char *rk = lv_acrec_str(a, YF_RESKEY);
    bool match = false;
    for (unsigned i = 0; i < x->nkeys && !match; i++)
        match = strcmp(rk, x->keys[i]) == 0;
    if (!match)
        return true;
    unsigned np = lv_acrec_count(a, YF_PARAMS) / 2;
    char n[16];
    snprintf(n, sizeof n, "%u", np);
    const char *ext = lv_acrec_str(a, YF_EXT), *id = lv_acrec_str(a, YF_ID), *ver = lv_acrec_str(a, YF_EXTVER);
    x->rc = lv_acrec_push(x->rec, QF_EXTS, ext, strlen(ext));
    if (x->rc == LV_OK)
        x->rc = lv_acrec_push(x->rec, QF_EXTS, id, strlen(id));
    if (x->rc == LV_OK)
        x->rc = lv_acrec_push(x->rec, QF_EXTS, ver, strlen(ver));
    if (x->rc == LV_OK)
        x->rc = lv_acrec_push(x->rec, QF_EXTS, n, strlen(n));
    for (unsigned i = 0; x->rc == LV_OK && i < 2 * np; i++) {
        const lv_acstr *v = lv_acrec_item(a, YF_PARAMS, i);
        x->rc = lv_acrec_push(x->rec, QF_EXTS, v->p, v->n);
    }
    x->found++;
    return x->rc == LV_OK;
}

/* Records which extensions apply to the deployment d as it starts: those
 * associated with one of the resource keys (association key order). */
static lv_err put_applied(const lv_acview *v, lv_acplan *out, const lv_acrec *d, const char *k0, const char *k1,
                          const char *k2)
{
    char key[1216];
    snprintf(key, sizeof key, "%c%s", LV_AC_APPLIED, d->key);
    applied x = {{k0, k1, k2}, 0, lv_acrec_new(LV_AC_APPLIED, QF__N), 0, LV_OK};
    x.nkeys = k2 ? 3 : k1 ? 2 : 1;
    if (x.rec == NULL || lv_acrec_set_key(x.rec, key) != LV_OK) {
        lv_acrec_unref(x.rec);
        return LV_E_NOMEM;
    }
    lv_acrec_clear(x.rec, QF_EXTS, true);
    v->each(v->ctx, "X", 1, applied_one, &x);
    if (x.rc != LV_OK || x.found == 0) {
        lv_acrec_unref(x.rec);
        return x.rc;
    }
    return lv_acplan_put(out, x.rec);
}

/* Completes a BAKING deployment early because a new one starts. */
static lv_err finish_baking(const lv_acrec *last, int64_t number, int64_t now, lv_acplan *out)
{
    lv_acrec *b = widen(last);
    char desc[96];
    snprintf(desc, sizeof desc, "Bake time ended early: deployment %" PRId64 " started", number);
    if (b == NULL || lv_acrec_set_str(b, DF_STATE, "COMPLETE") != LV_OK ||
        lv_acrec_set_num(b, DF_COMPLETED, now) != LV_OK ||
        lv_acrec_set_num(b, DF_STEP, lv_acrec_num(b, DF_STEP) + 1) != LV_OK ||
        lv_ac_event(b, "DEPLOYMENT_COMPLETED", "USER", desc, now) != LV_OK ||
        lv_acplan_change_add(out, LV_CHANGE_AC_COMPLETE, lv_acrec_str(b, DF_APP), lv_acrec_str(b, DF_ENV),
                             lv_acrec_str(b, DF_PROFILE), (uint32_t)lv_acrec_num(b, DF_NUMBER)) != LV_OK) {
        lv_acrec_unref(b);
        return LV_E_NOMEM;
    }
    return lv_acplan_put(out, b);
}

static lv_err start(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    const lv_acrec *env, *prof, *strat;
    if (lv_ac_get(v, "a%s", q->app) == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Application %s not found", q->app);
    if ((env = lv_ac_get(v, "e%s/%s", q->app, q->env)) == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Environment %s not found", q->env);
    const char *pid = lv_acrec_str(q->in, DF_PROFILE), *sid = lv_acrec_str(q->in, DF_STRATEGY);
    const char *ver = lv_acrec_str(q->in, DF_VERSION);
    if ((prof = lv_ac_get(v, "p%s/%s", q->app, pid)) == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s not found", pid);
    if ((strat = lv_ac_strategy(v, sid)) == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Deployment strategy %s not found", sid);
    const lv_acrec *hosted = NULL;
    if (lv_ac_location(lv_acrec_str(prof, PF_LOCATION), NULL) == LV_AC_LOC_HOSTED) {
        char *end;
        long long n = strtoll(ver, &end, 10);
        if (*ver == '\0' || *end != '\0' || n < 1 ||
            (hosted = lv_ac_get(v, "h%s/%s/%010lld", q->app, pid, n)) == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Hosted configuration version %s not found", ver);
    }
    /* One deployment per environment: a DEPLOYING one refuses the new
     * one; a BAKING one (already at 100%) completes so the new one can
     * start (docs/decisions.md). */
    const lv_acrec *last = lv_ac_last_deployment(v, q->app, q->env);
    bool baking = last != NULL && strcmp(lv_acrec_str(last, DF_STATE), "BAKING") == 0;
    if (lv_ac_in_progress(last) && !baking)
        return lv_error_set(err, LV_E_AC_CONFLICT,
                            "Deployment %" PRId64 " to environment %s is in progress; a new deployment can start when "
                            "it completes or is stopped.",
                            lv_acrec_num(last, DF_NUMBER), q->env);
    int64_t number = lv_acrec_num(env, EF_LAST_DEPLOY) + 1;
    lv_err rc = baking ? finish_baking(last, number, q->now_ms, out) : LV_OK;
    if (rc != LV_OK)
        return oom(err);
    /* The previous version: what the environment served before, the
     * baking deployment included (it is complete now). */
    const lv_acrec *prev = lv_ac_serving(v, q->app, q->env, pid);
    char key[1200];
    snprintf(key, sizeof key, "d%s/%s/%010" PRId64, q->app, q->env, number);
    lv_acrec *d = lv_acrec_new(LV_AC_DEPLOY, DF__N);
    lv_acrec *ne = lv_acrec_clone(env, NULL);
    bool overridden = false, done = false;
    if (d == NULL || ne == NULL || lv_acrec_set_key(d, key) != LV_OK)
        goto nomem;
    for (unsigned i = 0; i < DF__N; i++)
        lv_acrec_clear(d, i, true);
    /* The strategy's values are copied: editing the strategy later does
     * not change a deployment that already runs. */
    if (lv_acrec_set_str(d, DF_APP, q->app) != LV_OK || lv_acrec_set_str(d, DF_ENV, q->env) != LV_OK ||
        lv_acrec_set_num(d, DF_NUMBER, number) != LV_OK || lv_acrec_set_str(d, DF_PROFILE, pid) != LV_OK ||
        lv_acrec_set_str(d, DF_VERSION, ver) != LV_OK || lv_acrec_set_str(d, DF_STRATEGY, sid) != LV_OK ||
        lv_acrec_copy_field(d, DF_DURATION, strat, SF_DURATION) != LV_OK ||
        lv_acrec_copy_field(d, DF_BAKE, strat, SF_BAKE) != LV_OK ||
        lv_acrec_copy_field(d, DF_GROWTH, strat, SF_GROWTH) != LV_OK ||
        lv_acrec_copy_field(d, DF_GTYPE, strat, SF_GTYPE) != LV_OK ||
        lv_acrec_copy_field(d, DF_CANARY, strat, SF_CANARY) != LV_OK ||
        lv_acrec_copy_field(d, DF_DESC, q->in, DF_DESC) != LV_OK ||
        lv_acrec_copy_field(d, DF_KMS, q->in, DF_KMS) != LV_OK ||
        (hosted && lv_acrec_copy_field(d, DF_LABEL, hosted, HF_LABEL) != LV_OK) ||
        lv_acrec_set_str(d, DF_PREV_VERSION, prev ? lv_acrec_str(prev, DF_VERSION) : "") != LV_OK ||
        lv_acrec_set_num(d, DF_STARTED, q->now_ms) != LV_OK || lv_acrec_set_num(d, DF_STEP_MS, q->now_ms) != LV_OK ||
        lv_acrec_set_num(d, DF_STEP, 0) != LV_OK || lv_acrec_set_str(d, DF_STATE, "DEPLOYING") != LV_OK ||
        lv_acrec_set_num(d, DF_PERCENT, 0) != LV_OK || set_override(d, q->tags, &overridden) != LV_OK)
        goto nomem;
    char desc[700] = "Deployment started";
    if (overridden) {
        size_t len = strlen(desc);
        len += (size_t)snprintf(desc + len, sizeof desc - len, "; alarms exempted by %s:", LV_AC_OVERRIDE_TAG);
        for (unsigned i = 0; i < lv_acrec_count(d, DF_OVERRIDE) && len < sizeof desc; i++)
            len += (size_t)snprintf(desc + len, sizeof desc - len, " %s", lv_acrec_item(d, DF_OVERRIDE, i)->p);
    }
    if (lv_ac_event(d, "DEPLOYMENT_STARTED", "USER", desc, q->now_ms) != LV_OK ||
        lv_acrec_set_num(ne, EF_LAST_DEPLOY, number) != LV_OK)
        goto nomem;
    rc = lv_acplan_change_add(out, LV_CHANGE_AC_STARTED, q->app, q->env, pid, (uint32_t)number);
    /* Steps due at once are taken in this write: an AllAtOnce deployment
     * serves everyone as soon as StartDeployment answers. */
    if (rc == LV_OK)
        rc = take_due_steps(d, q->now_ms, out, &done);
    if (rc == LV_OK)
        rc = lv_acrec_set_str(ne, EF_STATE, done ? "ReadyForDeployment" : "Deploying");
    if (rc != LV_OK)
        goto nomem;
    rc = lv_acplan_put(out, ne);
    ne = NULL;
    if (rc == LV_OK && q->tags && lv_acrec_count(q->tags, TF_TAGS) > 0) {
        char tk[1216];
        snprintf(tk, sizeof tk, "t%s", key);
        rc = lv_acplan_put(out, lv_acrec_clone(q->tags, tk));
    }
    if (rc == LV_OK) {
        char ka[40], ke[40], kp[40];
        snprintf(ka, sizeof ka, "a%s", q->app);
        snprintf(ke, sizeof ke, "e%s/%s", q->app, q->env);
        snprintf(kp, sizeof kp, "p%s/%s", q->app, pid);
        rc = put_applied(v, out, d, ka, ke, kp);
    }
    if (rc != LV_OK)
        goto nomem;
    out->result = lv_acrec_ref(d);
    return lv_acplan_put(out, d) == LV_OK ? LV_OK : oom(err);
nomem:
    lv_acrec_unref(d);
    lv_acrec_unref(ne);
    return oom(err);
}

static const lv_acrec *find_deployment(const lv_acview *v, const lv_acreq *q, const lv_acrec **env, lv_error *err)
{
    *env = NULL;
    if (q->target != NULL) {
        const lv_acrec *d = q->target[0] == LV_AC_LABEL_DEPLOY ? v->get(v->ctx, q->target, strlen(q->target)) : NULL;
        if (d == NULL)
            lv_error_set(err, LV_E_RESOURCE_NOT_FOUND, "Label deployment %s not found", q->target);
        return d;
    }
    if (lv_ac_get(v, "a%s", q->app) == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Application %s not found", q->app), NULL;
    if ((*env = lv_ac_get(v, "e%s/%s", q->app, q->env)) == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Environment %s not found", q->env), NULL;
    const lv_acrec *cur = lv_ac_get(v, "d%s/%s/%010" PRId64, q->app, q->env, q->number);
    if (cur == NULL)
        lv_error_set(err, LV_E_AC_NOT_FOUND, "Deployment %" PRId64 " not found", q->number);
    return cur;
}

/* The driver's step: refused unless it is the next one (a repeated or
 * stale step changes nothing). */
static lv_err step(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    const lv_acrec *env, *cur = find_deployment(v, q, &env, err);
    if (cur == NULL)
        return err->code;
    lv_rollout_strategy s;
    lv_rollout_of(cur, &s);
    int64_t taken = lv_acrec_num(cur, DF_STEP);
    if (!lv_ac_in_progress(cur) || q->step != taken + 1 || q->step > (int64_t)lv_rollout_last(&s))
        return lv_error_set(err, LV_E_AC_CONFLICT,
                            "Deployment %" PRId64 " is %s after step %" PRId64 "; step %" PRId64 " is not its next",
                            q->number, lv_acrec_str(cur, DF_STATE), taken, q->step);
    lv_acrec *d = widen(cur), *ne = NULL;
    bool done = false;
    if (d == NULL || take_step(d, (unsigned)q->step, q->now_ms, out, &done) != LV_OK)
        goto nomem;
    if (done && env != NULL && ((ne = lv_acrec_clone(env, NULL)) == NULL ||
                 lv_acrec_set_str(ne, EF_STATE, "ReadyForDeployment") != LV_OK || lv_acplan_put(out, ne) != LV_OK))
        goto nomem;
    out->result = lv_acrec_ref(d);
    return lv_acplan_put(out, d) == LV_OK ? LV_OK : oom(err);
nomem:
    lv_acrec_unref(d);
    return oom(err);
}

/* StopDeployment (USER), a revert (AllowRevert), and the driver's
 * rollbacks (alarms, tick hooks): the environment serves what it served
 * before the deployment again. */
static lv_err stop(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    const lv_acrec *env, *cur = find_deployment(v, q, &env, err);
    if (cur == NULL)
        return err->code;
    const char *st = lv_acrec_str(cur, DF_STATE);
    bool running = lv_ac_in_progress(cur), auto_rb = q->op == LV_ACOP_ROLLBACK;
    bool revert = !running && !auto_rb && env != NULL && q->allow_revert && strcmp(st, "COMPLETE") == 0;
    if (auto_rb && !running)
        return lv_error_set(err, LV_E_AC_CONFLICT, "Deployment %" PRId64 " is %s; nothing to roll back", q->number, st);
    if (!running && !revert)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                            "Deployment %" PRId64 " is %s; only a deployment in progress can be stopped "
                            "(or a complete one reverted with AllowRevert)",
                            q->number, st);
    if (revert) {
        const lv_acrec *serving = lv_ac_serving(v, q->app, q->env, lv_acrec_str(cur, DF_PROFILE));
        if (q->now_ms - lv_acrec_num(cur, DF_COMPLETED) > LV_AC_REVERT_MS)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                "Deployment %" PRId64 " completed more than 72 hours ago and can no longer be reverted",
                                q->number);
        if (serving != cur)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                "Deployment %" PRId64 " is not what the environment serves for its configuration "
                                "profile any more; only the latest complete deployment can be reverted",
                                q->number);
    }
    const char *by = auto_rb ? (q->by ? q->by : "APPCONFIG") : "USER";
    const char *why = auto_rb ? (q->reason ? q->reason : "Rolled back")
                      : revert ? "Deployment reverted by the user"
                               : "Deployment stopped by the user";
    lv_acrec *d = widen(cur), *ne = env ? lv_acrec_clone(env, NULL) : NULL;
    if (d == NULL || (env && ne == NULL) || lv_acrec_set_str(d, DF_STATE, revert ? "REVERTED" : "ROLLED_BACK") != LV_OK ||
        lv_acrec_set_num(d, DF_PERCENT, 0) != LV_OK || lv_acrec_set_num(d, DF_STEP_MS, q->now_ms) != LV_OK ||
        lv_ac_event(d, "ROLLBACK_STARTED", by, why, q->now_ms) != LV_OK ||
        lv_ac_event(d, revert ? "REVERT_COMPLETED" : "ROLLBACK_COMPLETED", "APPCONFIG",
                    revert ? "Revert completed: the previous version is served again"
                           : "Rollback completed: the previous version is served again",
                    q->now_ms) != LV_OK ||
        (ne && lv_acrec_set_str(ne, EF_STATE, revert ? "Reverted" : "RolledBack") != LV_OK)) {
        lv_acrec_unref(d);
        lv_acrec_unref(ne);
        return oom(err);
    }
    lv_err rc = ne ? lv_acplan_put(out, ne) : LV_OK;
    if (rc == LV_OK)
        rc = dep_change(out, auto_rb || revert ? LV_CHANGE_AC_ROLLED_BACK : LV_CHANGE_AC_STOPPED, d);
    if (rc != LV_OK) {
        lv_acrec_unref(d);
        return oom(err);
    }
    out->result = lv_acrec_ref(d);
    return lv_acplan_put(out, d) == LV_OK ? LV_OK : oom(err);
}

bool lv_ac_rearmed(const lv_acrec *d, const char *alarm)
{
    for (unsigned i = 0; i < lv_acrec_count(d, DF_OVERRIDE); i++) {
        const char *o = lv_acrec_item(d, DF_OVERRIDE, i)->p;
        if (o[0] == '!' && strcmp(o + 1, alarm) == 0)
            return true;
    }
    return false;
}

/* The driver saw an exempted alarm out of ALARM: from now on it counts. */
static lv_err rearm(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    const lv_acrec *env, *cur = find_deployment(v, q, &env, err);
    if (cur == NULL)
        return err->code;
    if (!lv_ac_in_progress(cur))
        return lv_error_set(err, LV_E_AC_CONFLICT, "Deployment %" PRId64 " is %s", q->number,
                            lv_acrec_str(cur, DF_STATE));
    if (q->alarm == NULL || q->alarm[0] == '\0')
        return lv_error_set(err, LV_E_INTERNAL, "rearm: no alarm");
    if (lv_ac_rearmed(cur, q->alarm)) {
        out->result = lv_acrec_ref(cur);
        return LV_OK;
    }
    lv_acrec *d = widen(cur);
    char item[300];
    int il = snprintf(item, sizeof item, "!%s", q->alarm);
    if (il < 0 || (size_t)il >= sizeof item)
        return lv_acrec_unref(d), lv_error_set(err, LV_E_INTERNAL, "rearm: alarm name too long");
    if (d == NULL || lv_acrec_push(d, DF_OVERRIDE, item, (size_t)il) != LV_OK) {
        lv_acrec_unref(d);
        return oom(err);
    }
    out->result = lv_acrec_ref(d);
    return lv_acplan_put(out, d) == LV_OK ? LV_OK : oom(err);
}

bool lv_ac_label_prefix(const char *region, const char *name, const char *label, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%c%s|%s|%s|", LV_AC_LABEL_DEPLOY, region, name, label);
    return n > 0 && (size_t)n < cap;
}

static bool keep_last(void *arg, const lv_acrec *r)
{
    *(const lv_acrec **)arg = r;
    return true;
}

const lv_acrec *lv_ac_label_deployment(const lv_acview *v, const char *region, const char *name, const char *label)
{
    char prefix[1200];
    if (!lv_ac_label_prefix(region, name, label, prefix, sizeof prefix))
        return NULL;
    const lv_acrec *last = NULL;
    v->each(v->ctx, prefix, strlen(prefix), keep_last, &last);
    return last;
}

/* Lever.StartLabelDeployment: the parameter and its versions were checked
 * by the front-end against the index. */
static lv_err start_label(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    const char *sid = lv_acrec_str(q->in, DF_STRATEGY), *ver = lv_acrec_str(q->in, DF_VERSION);
    const lv_acrec *strat = lv_ac_strategy(v, sid);
    if (strat == NULL)
        return lv_error_set(err, LV_E_RESOURCE_NOT_FOUND, "Deployment strategy %s not found", sid);
    if (strcmp(ver, lv_acrec_str(q->in, DF_PREV_VERSION)) == 0)
        return lv_error_set(err, LV_E_VALIDATION, "Label %s of %s is already on version %s", q->profile, q->env,
                            ver);
    const lv_acrec *last = lv_ac_label_deployment(v, q->app, q->env, q->profile);
    if (lv_ac_in_progress(last))
        return lv_error_set(err, LV_E_AC_CONFLICT,
                            "Deployment %" PRId64 " of label %s of %s is in progress; a new one can start when it "
                            "completes or is stopped.",
                            lv_acrec_num(last, DF_NUMBER), q->profile, q->env);
    int64_t number = last ? lv_acrec_num(last, DF_NUMBER) + 1 : 1;
    char prefix[1100], key[1200];
    if (!lv_ac_label_prefix(q->app, q->env, q->profile, prefix, sizeof prefix))
        return lv_error_set(err, LV_E_VALIDATION, "The parameter name is too long");
    snprintf(key, sizeof key, "%s%010" PRId64, prefix, number);
    lv_acrec *d = lv_acrec_new(LV_AC_LABEL_DEPLOY, DF__N);
    bool overridden = false, done = false;
    if (d == NULL || lv_acrec_set_key(d, key) != LV_OK)
        goto nomem;
    for (unsigned i = 0; i < DF__N; i++)
        lv_acrec_clear(d, i, true);
    if (lv_acrec_set_str(d, DF_APP, q->app) != LV_OK || lv_acrec_set_str(d, DF_ENV, q->env) != LV_OK ||
        lv_acrec_set_str(d, DF_PROFILE, q->profile) != LV_OK || lv_acrec_set_num(d, DF_NUMBER, number) != LV_OK ||
        lv_acrec_set_str(d, DF_VERSION, ver) != LV_OK || lv_acrec_set_str(d, DF_STRATEGY, sid) != LV_OK ||
        lv_acrec_copy_field(d, DF_PREV_VERSION, q->in, DF_PREV_VERSION) != LV_OK ||
        lv_acrec_copy_field(d, DF_MONITORS, q->in, DF_MONITORS) != LV_OK ||
        lv_acrec_copy_field(d, DF_DESC, q->in, DF_DESC) != LV_OK ||
        lv_acrec_copy_field(d, DF_DURATION, strat, SF_DURATION) != LV_OK ||
        lv_acrec_copy_field(d, DF_BAKE, strat, SF_BAKE) != LV_OK ||
        lv_acrec_copy_field(d, DF_GROWTH, strat, SF_GROWTH) != LV_OK ||
        lv_acrec_copy_field(d, DF_GTYPE, strat, SF_GTYPE) != LV_OK ||
        lv_acrec_copy_field(d, DF_CANARY, strat, SF_CANARY) != LV_OK ||
        lv_acrec_set_num(d, DF_STARTED, q->now_ms) != LV_OK || lv_acrec_set_num(d, DF_STEP_MS, q->now_ms) != LV_OK ||
        lv_acrec_set_num(d, DF_STEP, 0) != LV_OK || lv_acrec_set_str(d, DF_STATE, "DEPLOYING") != LV_OK ||
        lv_acrec_set_num(d, DF_PERCENT, 0) != LV_OK || set_override(d, q->tags, &overridden) != LV_OK ||
        lv_ac_event(d, "DEPLOYMENT_STARTED", "USER",
                    overridden ? "Label deployment started; alarms exempted by " LV_AC_OVERRIDE_TAG
                               : "Label deployment started",
                    q->now_ms) != LV_OK ||
        dep_change(out, LV_CHANGE_AC_STARTED, d) != LV_OK || take_due_steps(d, q->now_ms, out, &done) != LV_OK)
        goto nomem;
    char kparam[1200];
    snprintf(kparam, sizeof kparam, "%c%s|%s|", LV_AC_LABEL_DEPLOY, q->app, q->env);
    if (put_applied(v, out, d, kparam, NULL, NULL) != LV_OK)
        goto nomem;
    out->result = lv_acrec_ref(d);
    return lv_acplan_put(out, d) == LV_OK ? LV_OK : oom(err);
nomem:
    lv_acrec_unref(d);
    return oom(err);
}

lv_err lv_ac_plan_deploy(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    switch (q->op) {
    case LV_ACOP_START_DEPLOYMENT:
        return start(v, q, out, err);
    case LV_ACOP_START_LABEL_DEPLOYMENT:
        return start_label(v, q, out, err);
    case LV_ACOP_DEPLOY_STEP:
        return step(v, q, out, err);
    case LV_ACOP_REARM_ALARM:
        return rearm(v, q, out, err);
    default:
        return stop(v, q, out, err);
    }
}

/* ---------- extensions and associations ---------- */

typedef struct ext_scan {
    const char *name, *ext_id, *reskey;
    const lv_acrec *found;
    size_t n;
} ext_scan;

static bool same_name(void *arg, const lv_acrec *r)
{
    ext_scan *s = arg;
    if (strcmp(lv_acrec_str(r, XF_NAME), s->name) == 0) {
        s->found = r;
        return false;
    }
    return true;
}

static bool assoc_match(void *arg, const lv_acrec *r)
{
    ext_scan *s = arg;
    if (s->ext_id && strcmp(lv_acrec_str(r, YF_EXT), s->ext_id) == 0 &&
        (s->reskey == NULL || strcmp(lv_acrec_str(r, YF_RESKEY), s->reskey) == 0)) {
        s->found = r;
        s->n++;
    }
    return true;
}

static lv_err put_result(lv_acplan *out, lv_acrec *r, const lv_acreq *q, lv_error *err)
{
    if (r == NULL)
        return oom(err);
    if (q->tags && lv_acrec_count(q->tags, TF_TAGS) > 0) {
        char tk[1216];
        snprintf(tk, sizeof tk, "t%s", r->key);
        if (lv_acplan_put(out, lv_acrec_clone(q->tags, tk)) != LV_OK) {
            lv_acrec_unref(r);
            return oom(err);
        }
    }
    out->result = lv_acrec_ref(r);
    return lv_acplan_put(out, r) == LV_OK ? LV_OK : oom(err);
}

static lv_acrec *with_fields(const lv_acrec *base, char kind, unsigned nf, const char *key, const lv_acrec *in,
                             const unsigned *f, size_t n)
{
    lv_acrec *r = base ? lv_acrec_clone(base, key) : lv_acrec_new(kind, nf);
    if (r == NULL || (base == NULL && lv_acrec_set_key(r, key) != LV_OK))
        goto fail;
    for (size_t i = 0; in != NULL && i < n; i++)
        if (lv_acrec_has(in, f[i]) && lv_acrec_copy_field(r, f[i], in, f[i]) != LV_OK)
            goto fail;
    return r;
fail:
    lv_acrec_unref(r);
    return NULL;
}

lv_err lv_ac_plan_ext(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    char key[1200];
    const lv_acrec *cur;
    static const unsigned xf[] = {XF_NAME, XF_DESC, XF_ACTIONS, XF_PARAMS};
    static const unsigned yf[] = {YF_PARAMS};
    switch (q->op) {
    case LV_ACOP_CREATE_EXT: {
        ext_scan s = {lv_acrec_str(q->in, XF_NAME), NULL, NULL, NULL, 0};
        v->each(v->ctx, "x", 1, same_name, &s);
        if (s.found != NULL) {
            /* A new version of an existing extension needs its number. */
            int64_t latest = lv_acrec_num(s.found, XF_VERSION);
            if (q->lock < 0)
                return lv_error_set(err, LV_E_AC_CONFLICT,
                                    "An extension named %s already exists; pass LatestVersionNumber %" PRId64
                                    " to create a new version of it",
                                    s.name, latest);
            if (q->lock != latest)
                return lv_error_set(err, LV_E_AC_CONFLICT,
                                    "LatestVersionNumber %" PRId64 " does not match the latest version %" PRId64
                                    " of extension %s",
                                    q->lock, latest, s.name);
            lv_acrec *r = with_fields(NULL, LV_AC_EXT, XF__N, s.found->key, q->in, xf, 4);
            if (r == NULL || lv_acrec_copy_field(r, XF_ID, s.found, XF_ID) != LV_OK ||
                lv_acrec_set_num(r, XF_VERSION, latest + 1) != LV_OK) {
                lv_acrec_unref(r);
                return oom(err);
            }
            return put_result(out, r, q, err);
        }
        if (lv_ac_count(v, "x") >= LV_AC_MAX_EXTENSIONS)
            return lv_error_set(err, LV_E_AC_QUOTA, "The number of extensions exceeds the limit of %d for this account",
                                LV_AC_MAX_EXTENSIONS);
        snprintf(key, sizeof key, "x%s", q->new_id);
        lv_acrec *r = with_fields(NULL, LV_AC_EXT, XF__N, key, q->in, xf, 4);
        if (r == NULL || lv_acrec_set_str(r, XF_ID, q->new_id) != LV_OK || lv_acrec_set_num(r, XF_VERSION, 1) != LV_OK) {
            lv_acrec_unref(r);
            return oom(err);
        }
        return put_result(out, r, q, err);
    }
    case LV_ACOP_UPDATE_EXT:
        if ((cur = lv_ac_get(v, "x%s", q->id)) == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Extension %s not found", q->id);
        if (q->lock >= 0 && q->lock != lv_acrec_num(cur, XF_VERSION))
            return lv_error_set(err, LV_E_AC_CONFLICT, "Extension %s has no version %" PRId64, q->id, q->lock);
        {
            static const unsigned uf[] = {XF_DESC, XF_ACTIONS, XF_PARAMS};
            return put_result(out, with_fields(cur, 0, 0, NULL, q->in, uf, 3), q, err);
        }
    case LV_ACOP_DELETE_EXT: {
        if ((cur = lv_ac_get(v, "x%s", q->id)) == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Extension %s not found", q->id);
        ext_scan s = {NULL, q->id, NULL, NULL, 0};
        v->each(v->ctx, "X", 1, assoc_match, &s);
        if (s.n > 0)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                "Cannot delete extension %s because it is still associated with %zu resource(s).",
                                q->id, s.n);
        lv_err rc = lv_acplan_del(out, cur->key);
        const lv_acrec *t = lv_ac_get(v, "t%s", cur->key);
        if (rc == LV_OK && t)
            rc = lv_acplan_del(out, t->key);
        return rc == LV_OK ? LV_OK : oom(err);
    }
    case LV_ACOP_CREATE_ASSOC: {
        const char *ext = lv_acrec_str(q->in, YF_EXT);
        if ((cur = lv_ac_get(v, "x%s", ext)) == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Extension %s not found", ext);
        /* A parameter (key "l<region>|<name>|") is not an AppConfig
         * record: the front-end checked it against the index. */
        if (q->target == NULL ||
            (q->target[0] != LV_AC_LABEL_DEPLOY && v->get(v->ctx, q->target, strlen(q->target)) == NULL))
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Resource %s not found", lv_acrec_str(q->in, YF_RESOURCE));
        if (lv_acrec_has(q->in, YF_EXTVER) && lv_acrec_num(q->in, YF_EXTVER) != lv_acrec_num(cur, XF_VERSION))
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Extension %s has no version %" PRId64, ext,
                                lv_acrec_num(q->in, YF_EXTVER));
        ext_scan s = {NULL, ext, q->target, NULL, 0};
        v->each(v->ctx, "X", 1, assoc_match, &s);
        if (s.n > 0)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Extension %s is already associated with this resource", ext);
        if (lv_ac_count(v, "X") >= LV_AC_MAX_ASSOCS)
            return lv_error_set(err, LV_E_AC_QUOTA,
                                "The number of extension associations exceeds the limit of %d for this account",
                                LV_AC_MAX_ASSOCS);
        /* Parameters an extension requires must be given. */
        unsigned np = lv_acrec_count(cur, XF_PARAMS);
        for (unsigned i = 0; i + 2 < np; i += 3) {
            const char *pn = lv_acrec_item(cur, XF_PARAMS, i)->p;
            if (strcmp(lv_acrec_item(cur, XF_PARAMS, i + 2)->p, "1") != 0)
                continue;
            bool given = false;
            for (unsigned j = 0; j + 1 < lv_acrec_count(q->in, YF_PARAMS) && !given; j += 2)
                given = strcmp(lv_acrec_item(q->in, YF_PARAMS, j)->p, pn) == 0;
            if (!given)
                return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Required parameter %s of extension %s is missing", pn,
                                    ext);
        }
        snprintf(key, sizeof key, "X%s", q->new_id);
        lv_acrec *r = lv_acrec_new(LV_AC_ASSOC, YF__N);
        if (r == NULL || lv_acrec_set_key(r, key) != LV_OK || lv_acrec_set_str(r, YF_ID, q->new_id) != LV_OK ||
            lv_acrec_set_str(r, YF_EXT, ext) != LV_OK || lv_acrec_copy_field(r, YF_EXTVER, cur, XF_VERSION) != LV_OK ||
            lv_acrec_copy_field(r, YF_RESOURCE, q->in, YF_RESOURCE) != LV_OK ||
            lv_acrec_set_str(r, YF_RESKEY, q->target) != LV_OK || lv_acrec_copy_field(r, YF_PARAMS, q->in, YF_PARAMS) != LV_OK) {
            lv_acrec_unref(r);
            return oom(err);
        }
        return put_result(out, r, q, err);
    }
    case LV_ACOP_UPDATE_ASSOC:
        if ((cur = lv_ac_get(v, "X%s", q->id)) == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Extension association %s not found", q->id);
        return put_result(out, with_fields(cur, 0, 0, NULL, q->in, yf, 1), q, err);
    case LV_ACOP_DELETE_ASSOC: {
        if ((cur = lv_ac_get(v, "X%s", q->id)) == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Extension association %s not found", q->id);
        lv_err rc = lv_acplan_del(out, cur->key);
        const lv_acrec *t = lv_ac_get(v, "t%s", cur->key);
        if (rc == LV_OK && t)
            rc = lv_acplan_del(out, t->key);
        return rc == LV_OK ? LV_OK : oom(err);
    }
    default:
        return lv_error_set(err, LV_E_INTERNAL, "unknown appconfig operation");
    }
}
