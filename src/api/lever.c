/* lever.c - Lever.WatchParameters: answer at once when the change log
 * already holds matching changes, otherwise park the connection and let
 * the engine wake it on the next matching commit or at the deadline. */
#include "api/lever.h"
#include "api/label_deploy.h"

#include <stdlib.h>
#include <string.h>

#include "api/consistency.h"
#include "api/jreq.h"
#include "api/lever_acwatch.h"
#include "api/lever_check.h"
#include "api/lever_children.h"
#include "json/jw.h"
#include "core/name.h"

#define JSON11 "application/x-amz-json-1.1"

enum { WATCH_MAX_WAIT = 60, WATCH_MAX_CHANGES = 1000 };

typedef struct watch_req {
    lv_engine *engine;
    lv_watch_spec spec;
    lv_buf prefix;
    uint64_t since;
    int64_t max;
    lv_http_deferred *deferred;
    lv_ssm_hide *hide;        /* the caller's listing filter (a copy), or NULL */
} watch_req;

bool lv_lever_op_known(const char *op)
{
    return strcmp(op, "WatchParameters") == 0 || strcmp(op, "WatchConfigurations") == 0 ||
           strcmp(op, "ListPathChildren") == 0 || strcmp(op, "CheckConfiguration") == 0 ||
           lv_label_deploy_op_known(op);
}

static void watch_req_free(watch_req *w)
{
    if (w->hide)
        w->hide->release(w->hide);
    lv_buf_free(&w->prefix);
    free(w);
}

/* Collects the changes after w->since under the prefix into out (the
 * whole response body). Returns LV_E_COMPACTED when the log no longer
 * reaches back to since; *found tells whether any change matched. */
static lv_err collect(watch_req *w, lv_buf *out, bool *found, lv_error *err)
{
    lv_engine_rdlock(w->engine);
    const lv_changelog *log = lv_engine_changelog(w->engine);
    uint64_t rev = lv_engine_revision(w->engine);
    uint64_t first = lv_changelog_first(log);
    lv_err rc = LV_OK;
    *found = false;
    if (w->since > rev || w->since < lv_changelog_floor(log)) {
        rc = lv_error_set(err, LV_E_COMPACTED,
                          "Revision %llu is no longer in the change log (oldest %llu, current %llu): "
                          "list the path again and watch from the revision of that list.",
                          (unsigned long long)w->since, (unsigned long long)first,
                          (unsigned long long)rev);
        lv_buf_reset(out);
        jw j;
        jw_init(&j, out);
        jw_obj(&j);
        jw_kstr(&j, "__type", lv_err_aws_code(LV_E_COMPACTED));
        jw_kstr(&j, "message", err->msg);
        jw_kint(&j, "OldestRevision", (int64_t)first);
        jw_kint(&j, "CurrentRevision", (int64_t)rev);
        jw_obj_end(&j);
        lv_engine_rdunlock(w->engine);
        return rc;
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
        if (!lv_watch_matches(&w->spec, c->key, c->key_len) ||
            lv_ssm_hidden(w->hide, c->key, c->key + strlen(c->key) + 1))
            continue;
        if (n == w->max) {
            last = lv_changelog_at(log, i - 1)->revision;
            break;
        }
        jw_obj(&j);
        jw_kint(&j, "Revision", (int64_t)c->revision);
        jw_kstr(&j, "Kind", lv_change_kind_name(c->kind));
        jw_kstr(&j, "Name", c->key + strlen(c->key) + 1);
        jw_kint(&j, "Version", c->version);
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
    if (j.rc != LV_OK)
        return lv_error_set(err, j.rc, "The response could not be built.");
    return LV_OK;
}

static void answer(lv_http_response *resp, lv_err rc, const lv_error *err)
{
    resp->content_type = JSON11;
    resp->status = rc == LV_OK ? 200 : lv_err_http_status(rc);
    if (rc != LV_OK && rc != LV_E_COMPACTED) {
        lv_buf_reset(&resp->body);
        jw j;
        jw_init(&j, &resp->body);
        jw_obj(&j);
        jw_kstr(&j, "__type", lv_err_aws_code(rc));
        jw_kstr(&j, "message", err->msg);
        jw_obj_end(&j);
    }
}

/* Engine callback: a matching change was committed, the wait is over, or
 * leverd is stopping. Answer with whatever the log holds now. */
static void on_wake(void *ctx)
{
    watch_req *w = ctx;
    lv_http_response *resp = lv_http_deferred_response(w->deferred);
    lv_error err;
    lv_error_clear(&err);
    bool found;
    lv_err rc = collect(w, &resp->body, &found, &err);
    answer(resp, rc, &err);
    lv_http_deferred *d = w->deferred;
    watch_req_free(w);
    lv_http_resume(d);
}

static lv_err watch(const lv_ssm_ctx *c, jreq *r, lv_http_response *resp, lv_error *err)
{
    size_t plen = 0;
    const char *path = jreq_str(r, NULL, "Path", true, 1, LV_NAME_WIRE_MAX, &plen);
    bool recursive = true;
    jreq_bool(r, NULL, "Recursive", &recursive);
    int64_t since = 0, wait = 20, max = WATCH_MAX_CHANGES;
    jreq_int(r, NULL, "SinceRevision", true, 0, INT64_MAX, &since);
    jreq_int(r, NULL, "WaitSeconds", false, 0, WATCH_MAX_WAIT, &wait);
    jreq_int(r, NULL, "MaxChanges", false, 1, WATCH_MAX_CHANGES, &max);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    watch_req *w = calloc(1, sizeof *w);
    if (w == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    w->engine = c->engine;
    if (c->hide != NULL && (w->hide = c->hide->dup(c->hide)) == NULL) {
        free(w);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    w->since = (uint64_t)since;
    w->max = max;
    lv_buf cp = LV_BUF_INIT;
    if ((rc = lv_path_canonical(path, plen, &cp, err)) != LV_OK)
        goto done;
    bool root = strcmp(cp.data, "/") == 0;
    if ((rc = lv_buf_append(&w->prefix, c->region, strlen(c->region) + 1)) != LV_OK ||
        (!root && (rc = lv_buf_append(&w->prefix, cp.data, cp.len)) != LV_OK)) {
        lv_error_set(err, rc, "out of memory");
        goto done;
    }
    w->spec.key_prefix = w->prefix.data;
    w->spec.prefix_len = w->prefix.len;
    w->spec.root = root;
    w->spec.recursive = recursive;
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
        rc = rc == LV_E_COMPACTED ? LV_OK : rc;
        goto done;
    }
    /* Nothing yet: park, and wait for changes after the revision just read. */
    lv_engine_rdlock(c->engine);
    uint64_t now_rev = lv_engine_revision(c->engine);
    lv_engine_rdunlock(c->engine);
    if (now_rev > w->since)
        w->since = now_rev;
    lv_http_deferred *d = lv_http_defer(resp);
    if (d == NULL) {
        rc = lv_error_set(err, LV_E_INTERNAL, "cannot park the request");
        goto done;
    }
    w->deferred = d;
    lv_buf_reset(&lv_http_deferred_response(d)->body);
    lv_buf_free(&cp);
    /* Not registered means a commit slipped in (or no memory, or leverd is
     * stopping): answer from the log right away. */
    if (!lv_engine_watch(c->engine, &w->spec, w->since, on_wake, w, err))
        on_wake(w);
    return LV_OK;
done:
    lv_buf_free(&cp);
    watch_req_free(w);
    return rc;
}

lv_err lv_lever_dispatch(const lv_ssm_ctx *c, const char *op, const char *body, size_t len,
                         lv_http_response *resp, lv_error *err)
{
    if (strcmp(op, "WatchConfigurations") == 0)
        return lv_lever_watch_configurations(c, body, len, resp, err);
    if (strcmp(op, "ListPathChildren") == 0 || strcmp(op, "CheckConfiguration") == 0) {
        lv_err rc = op[0] == 'L' ? lv_lever_path_children(c, body, len, &resp->body, err)
                                 : lv_lever_check_configuration(c, body, len, &resp->body, err);
        if (rc == LV_OK) {
            resp->status = 200;
            resp->content_type = JSON11;
        }
        return rc;
    }
    if (lv_label_deploy_op_known(op)) {
        lv_err rc = lv_label_deploy_dispatch(c, op, body, len, &resp->body, err);
        if (rc == LV_OK) {
            resp->status = 200;
            resp->content_type = JSON11;
        }
        return rc;
    }
    if (strcmp(op, "WatchParameters") != 0)
        return lv_error_set(err, LV_E_UNKNOWN_OPERATION, "Operation Lever.%s is not supported.", op);
    jreq r;
    lv_err rc = jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    rc = watch(c, &r, resp, err);
    jreq_free(&r);
    return rc;
}
