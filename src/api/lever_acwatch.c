/* lever_acwatch.c - Lever.WatchConfigurations: the long poll over the
 * change log's AppConfig deployment entries (keys LV_AC_CHANGE_PREFIX
 * "\0<app>/<env>/<profile>"), with the rules of Lever.WatchParameters
 * (docs/watch.md): answer at once when changes after SinceRevision exist,
 * otherwise park until one commits or WaitSeconds pass;
 * RevisionCompactedException when the log no longer reaches back. */
#include "api/lever_acwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/consistency.h"
#include "api/jreq.h"
#include "api/served_report.h"
#include "core/appconfig.h"
#include "engine/served.h"
#include "json/jw.h"

#define JSON11 "application/x-amz-json-1.1"

enum { WATCH_MAX_WAIT = 60, WATCH_MAX_CHANGES = 1000 };

typedef struct acwatch {
    lv_engine *engine;
    lv_watch_spec spec;
    lv_buf prefix;
    uint64_t since;
    int64_t max;
    lv_http_deferred *deferred;
} acwatch;

static bool ac_kind(lv_change_kind k)
{
    return k == LV_CHANGE_AC_STARTED || k == LV_CHANGE_AC_STEP || k == LV_CHANGE_AC_COMPLETE ||
           k == LV_CHANGE_AC_ROLLED_BACK || k == LV_CHANGE_AC_STOPPED || k == LV_CHANGE_AC_CONTENT;
}

static void error_body(lv_buf *out, lv_err rc, const char *msg, const uint64_t *first, const uint64_t *cur)
{
    lv_buf_reset(out);
    jw j;
    jw_init(&j, out);
    jw_obj(&j);
    jw_kstr(&j, "__type", lv_err_aws_code(rc));
    jw_kstr(&j, "message", msg);
    if (first)
        jw_kint(&j, "OldestRevision", (int64_t)*first);
    if (cur)
        jw_kint(&j, "CurrentRevision", (int64_t)*cur);
    jw_obj_end(&j);
}

static lv_err collect(acwatch *w, lv_buf *out, bool *found, lv_error *err)
{
    lv_engine_rdlock(w->engine);
    const lv_changelog *log = lv_engine_changelog(w->engine);
    uint64_t rev = lv_engine_revision(w->engine);
    uint64_t first = lv_changelog_first(log);
    *found = false;
    if (w->since > rev || w->since < lv_changelog_floor(log)) {
        lv_error_set(err, LV_E_COMPACTED,
                     "Revision %llu is no longer in the change log (oldest %llu, current %llu): fetch the "
                     "configurations again and watch from the revision of that answer.",
                     (unsigned long long)w->since, (unsigned long long)first, (unsigned long long)rev);
        error_body(out, LV_E_COMPACTED, err->msg, &first, &rev);
        lv_engine_rdunlock(w->engine);
        return LV_E_COMPACTED;
    }
    jw j;
    lv_buf_reset(out);
    jw_init(&j, out);
    jw_obj(&j);
    jw_key(&j, "Changes");
    jw_arr(&j);
    uint64_t last = rev;
    int64_t n = 0;
    size_t start = lv_changelog_seek(log, w->since);
    for (size_t i = start; i < log->count; i++) {
        const lv_change *c = lv_changelog_at(log, i);
        if (!ac_kind(c->kind) || !lv_watch_matches(&w->spec, c->key, c->key_len))
            continue;
        if (n == w->max) {
            last = lv_changelog_at(log, i - 1)->revision;
            break;
        }
        /* "<app>/<env>/<profile>" after the prefix and its NUL. */
        const char *ids = c->key + LV_AC_CHANGE_PREFIX_LEN;
        size_t il = c->key_len - LV_AC_CHANGE_PREFIX_LEN;
        const char *s1 = memchr(ids, '/', il);
        const char *s2 = s1 ? memchr(s1 + 1, '/', il - (size_t)(s1 + 1 - ids)) : NULL;
        if (s2 == NULL)
            continue;
        jw_obj(&j);
        jw_kint(&j, "Revision", (int64_t)c->revision);
        jw_kstr(&j, "Kind", lv_change_kind_name(c->kind));
        jw_key(&j, "ApplicationId");
        jw_strn(&j, ids, (size_t)(s1 - ids));
        jw_key(&j, "EnvironmentId");
        jw_strn(&j, s1 + 1, (size_t)(s2 - s1 - 1));
        jw_key(&j, "ConfigurationProfileId");
        jw_strn(&j, s2 + 1, il - (size_t)(s2 + 1 - ids));
        jw_kint(&j, "DeploymentNumber", c->version);
        jw_key(&j, "Time");
        jw_time(&j, c->time_ms);
        jw_obj_end(&j);
        n++;
    }
    jw_arr_end(&j);
    jw_kint(&j, "Revision", (int64_t)last);
    jw_obj_end(&j);
    lv_engine_rdunlock(w->engine);
    *found = n > 0;
    return j.rc == LV_OK ? LV_OK : lv_error_set(err, j.rc, "The response could not be built.");
}

static void answer(lv_http_response *resp, lv_err rc, const lv_error *err)
{
    resp->content_type = JSON11;
    resp->status = rc == LV_OK ? 200 : lv_err_http_status(rc);
    if (rc != LV_OK && rc != LV_E_COMPACTED)
        error_body(&resp->body, rc, err->msg, NULL, NULL);
}

static void acwatch_free(acwatch *w)
{
    lv_buf_free(&w->prefix);
    free(w);
}

static void on_wake(void *ctx)
{
    acwatch *w = ctx;
    lv_http_response *resp = lv_http_deferred_response(w->deferred);
    lv_error err;
    lv_error_clear(&err);
    bool found;
    lv_err rc = collect(w, &resp->body, &found, &err);
    answer(resp, rc, &err);
    lv_http_deferred *d = w->deferred;
    acwatch_free(w);
    lv_http_resume(d);
}

/* Resolves a name or id of an application (env: of an environment of it). */
static lv_err resolve(lv_engine *e, const char *app, const char *env, char aid[8], char eid[8], lv_error *err)
{
    lv_acview v;
    lv_err rc = LV_OK;
    lv_engine_rdlock(e);
    lv_engine_ac_view(e, &v);
    const lv_acrec *a = lv_ac_find_app(&v, app);
    const lv_acrec *en = a && env ? lv_ac_find_env(&v, lv_acrec_str(a, AF_ID), env) : NULL;
    if (a == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Application %s not found", app);
    else if (env != NULL && en == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Environment %s not found", env);
    else {
        snprintf(aid, 8, "%s", lv_acrec_str(a, AF_ID));
        snprintf(eid, 8, "%s", en ? lv_acrec_str(en, EF_ID) : "");
    }
    lv_engine_rdunlock(e);
    return rc;
}

/* What the caller served since its previous watch call (the Served
 * member: lever-agent, liblever), within what it may watch. */
static void report_served(lv_engine *e, const json_t *served, const char *aid, const char *eid)
{
    static _Thread_local lv_served_entry got[LV_SERVED_REPORT_MAX];
    size_t n = lv_served_report_decode(served, aid, eid, got, LV_SERVED_REPORT_MAX);
    for (size_t i = 0; i < n; i++)
        lv_engine_served_report(e, got[i].seed, got[i].interval_ms, got[i].new_n, got[i].old_n);
}

lv_err lv_lever_watch_configurations(const lv_ssm_ctx *c, const char *body, size_t len, lv_http_response *resp,
                                     lv_error *err)
{
    jreq r;
    lv_err rc = jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    size_t alen = 0, elen = 0;
    const char *app = jreq_str(&r, NULL, "Application", false, 1, 64, &alen);
    const char *env = jreq_str(&r, NULL, "Environment", false, 1, 64, &elen);
    int64_t since = 0, wait = 20, max = WATCH_MAX_CHANGES;
    jreq_int(&r, NULL, "SinceRevision", true, 0, INT64_MAX, &since);
    jreq_int(&r, NULL, "WaitSeconds", false, 0, WATCH_MAX_WAIT, &wait);
    jreq_int(&r, NULL, "MaxChanges", false, 1, WATCH_MAX_CHANGES, &max);
    if (env != NULL && app == NULL)
        jreq_fail(&r, env, "environment", "Environment needs Application");
    rc = jreq_finish(&r, err);
    char aid[8] = "", eid[8] = "";
    char *appc = app ? strdup(app) : NULL, *envc = env ? strdup(env) : NULL;
    json_t *served = json_incref(json_object_get(r.root, "Served"));
    jreq_free(&r);
    if (rc == LV_OK && ((app && !appc) || (env && !envc)))
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
    if (rc == LV_OK && appc != NULL)
        rc = resolve(c->engine, appc, envc, aid, eid, err);
    free(appc);
    free(envc);
    if (rc == LV_OK && served != NULL)
        report_served(c->engine, served, aid, eid);
    json_decref(served);
    if (rc != LV_OK)
        return rc == LV_E_AC_NOT_FOUND ? lv_error_set(err, LV_E_VALIDATION, "%s", err->msg) : rc;
    acwatch *w = calloc(1, sizeof *w);
    if (w == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    w->engine = c->engine;
    w->since = (uint64_t)since;
    w->max = max;
    rc = lv_buf_append(&w->prefix, LV_AC_CHANGE_PREFIX, LV_AC_CHANGE_PREFIX_LEN);
    if (rc == LV_OK && aid[0])
        rc = lv_buf_printf(&w->prefix, "%s/", aid);
    if (rc == LV_OK && eid[0])
        rc = lv_buf_printf(&w->prefix, "%s/", eid);
    if (rc != LV_OK) {
        acwatch_free(w);
        return lv_error_set(err, rc, "out of memory");
    }
    w->spec.key_prefix = w->prefix.data;
    w->spec.prefix_len = w->prefix.len;
    w->spec.recursive = true;
    w->spec.deadline_ms = c->now_ms + wait * 1000;
    bool found;
    /* A revision another node handed out: wait until this one has it. */
    if (lv_engine_shared(c->engine) && w->since > lv_engine_revision(c->engine)) {
        lv_error werr;
        lv_engine_wait_revision(c->engine, w->since, LV_REVISION_WAIT_MS, &werr);
    }
    rc = collect(w, &resp->body, &found, err);
    if (rc != LV_OK || found || wait == 0) {
        answer(resp, rc, err);
        acwatch_free(w);
        return rc == LV_E_COMPACTED ? LV_OK : rc;
    }
    uint64_t now_rev = lv_engine_revision(c->engine);
    if (now_rev > w->since)
        w->since = now_rev;
    lv_http_deferred *d = lv_http_defer(resp);
    if (d == NULL) {
        acwatch_free(w);
        return lv_error_set(err, LV_E_INTERNAL, "cannot park the request");
    }
    w->deferred = d;
    lv_buf_reset(&lv_http_deferred_response(d)->body);
    if (!lv_engine_watch(c->engine, &w->spec, w->since, on_wake, w, err))
        on_wake(w);
    return LV_OK;
}
