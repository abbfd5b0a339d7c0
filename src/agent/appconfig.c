/* appconfig.c - the request side of lever-agent's AppConfig Agent API: the
 * listener, the entry table, GET .../configurations/{profile} (cache,
 * on-demand fetch, stale answers, ?flag=, Context, Entity-Id), local
 * development mode, /healthz and /metrics of the :2772 listener. */
#include "agent/appconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/accache.h"
#include "agent/acofrep.h"
#include "agent/acint.h"
#include "agent/agent.h"
#include "client/config.h"
#include "json/jw.h"

enum { LOCAL_MAX = 16 << 20 }; /* a local development file */

/* ----------------------------------------------------------- answers */

static void send_error(lv_http_response *resp, int status, const char *type, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    lv_buf_reset(&resp->body);
    jw w;
    jw_init(&w, &resp->body);
    jw_obj(&w);
    jw_kstr(&w, "Message", msg);
    jw_obj_end(&w);
    lv_http_response_header(resp, "x-amzn-ErrorType", type);
    if (w.rc != LV_OK) {
        resp->status = 500;
        lv_buf_reset(&resp->body);
    }
}

static void mark(lv_http_response *resp, const char *state, int64_t age_s)
{
    lv_http_response_header(resp, "X-Lever-Cache", state);
    if (age_s >= 0) {
        char v[48];
        snprintf(v, sizeof v, "age=%" PRId64, age_s);
        lv_http_response_header(resp, "X-Lever-Stale", v);
    }
}

typedef struct want {
    lvac_flags flags;
    lvac_context *ctx;   /* NULL without Context headers */
    const char *entity;  /* the evaluation entity: Entity-Id, else the instance id */
    bool entity_given;   /* Entity-Id (or OFREP's targetingKey) was sent */
    lvac_kind kind;      /* a configuration, or an OFREP evaluation */
    const char *flag;    /* LVAC_OFREP_ONE */
    const lvac_ofrep_ctx *octx;
    const char *if_none_match;
} want;

/* What is served: a configuration's bytes, and for a stored feature-flag
 * document its compiled form and its Context-free rendering. */
typedef struct view {
    const char *data;
    size_t len;
    const char *ctype, *version;
    const lv_flagdoc *fd;
    const char *plain;
    size_t plain_len;
    double percent;  /* a gradual deployment's percentage, < 0 outside one */
    const char *percent_text; /* the same as text */
    bool to;         /* the entity got the deployment's new version */
} view;

/* Says which side of a gradual deployment answered, and at what share:
 * "why did this host get the old configuration" has an answer. */
static void mark_rollout(lv_http_response *resp, const view *v)
{
    if (v->percent < 0)
        return;
    /* formatted once per step (lvc_rollout), not per read */
    lv_http_response_header(resp, "X-Lever-Rollout-Percent", v->percent_text);
    lv_http_response_header(resp, "X-Lever-Rollout-Side", v->to ? "to" : "from");
}

/* Fills resp from a view. */
static void serve(lv_http_response *resp, const view *v, const want *w)
{
    resp->status = 200;
    resp->content_type = NULL;
    lv_buf_reset(&resp->body);
    if (w->kind != LVAC_CONFIG) {
        char etag[80];
        int status = 500;
        if (lvac_ofrep_answer(v->fd, v->data, v->len, w->kind == LVAC_OFREP_ONE ? w->flag : NULL, w->octx,
                              w->if_none_match, &resp->body, &status, etag, sizeof etag) != 0) {
            send_error(resp, 500, "InternalServerException", "out of memory");
            return;
        }
        resp->status = status;
        resp->content_type = "application/json";
        if (etag[0])
            lv_http_response_header(resp, "ETag", etag);
        mark_rollout(resp, v);
        return;
    }
    const char *ctype = v->ctype;
    int rc = LV_OK;
    if (v->fd) {
        ctype = "application/json";
        if (w->flags.n == 0 && w->ctx == NULL && !w->entity_given)
            rc = lv_buf_append(&resp->body, v->plain, v->plain_len);
        else
            rc = lvac_flags_serve(v->fd, &w->flags, w->ctx, w->entity, &resp->body) == 0 ? LV_OK : LV_E_NOMEM;
    } else if (w->flags.n > 0) {
        int status = 500;
        char err[256];
        if (lvac_flags_answer(v->data, v->len, false, &w->flags, w->ctx, w->entity, &resp->body, &status, err,
                              sizeof err) != 0) {
            send_error(resp, status, status == 400 ? "BadRequestException" : "InternalServerException", err);
            return;
        }
        ctype = "application/json";
    } else {
        rc = lv_buf_append(&resp->body, v->data ? v->data : "", v->len);
    }
    if (rc != LV_OK) {
        send_error(resp, 500, "InternalServerException", "out of memory");
        return;
    }
    if (lv_http_response_header(resp, "Content-Type", ctype && *ctype ? ctype : "application/octet-stream") !=
        LV_OK)
        lv_http_response_header(resp, "Content-Type", "application/octet-stream");
    if (v->version && *v->version)
        lv_http_response_header(resp, "Configuration-Version", v->version);
    mark_rollout(resp, v);
}

/* What entity is served from e: during a gradual deployment, its side. */
static view view_of(const acentry *e, const char *entity)
{
    const acside *s = lvac_side_for(e, entity);
    bool rolling = e->rollout.active && e->from.data != NULL;
    return (view){s->data, s->len, s->ctype, s->version, s->fd, s->plain, s->plain_len,
                  rolling ? e->rollout.percent : -1, e->rollout.percent_text, s == &e->cur};
}


static int64_t age_s(int64_t since_ms)
{
    int64_t d = lvac_wall_ms() - since_ms;
    return d > 0 ? d / 1000 : 0;
}

/* Caller holds mu. Serves e if it may be served without asking leverd;
 * stale_ok also serves it (marked stale) when leverd is down. */
static bool try_entry_locked(lvac_agent *a, acentry *e, bool stale_ok, const want *w, lv_http_response *resp)
{
    if (e == NULL || !e->have)
        return false;
    int64_t now = lvac_mono_ms();
    bool current = a->watching || (a->unsupported && now - e->fetched_mono < a->cfg.poll_interval_ms);
    bool backing_off = a->up_down && now < a->up_retry_at;
    if (!current && !backing_off && !stale_ok)
        return false;
    e->used_mono = now;
    view v = view_of(e, w->entity);
    lvac_served_note(a, e, w->entity, v.version);
    serve(resp, &v, w);
    atomic_fetch_add(&a->hits, 1);
    if (current) {
        mark(resp, "hit", -1);
    } else {
        atomic_fetch_add(&a->stale, 1);
        mark(resp, "stale", age_s(e->confirmed_ms));
    }
    return true;
}

static void pass_error(lv_http_response *resp, const lvc_raw *r, const char *err)
{
    resp->status = (int)r->status;
    resp->content_type = "application/json";
    lv_buf_reset(&resp->body);
    if (r->body.len && lv_buf_append(&resp->body, r->body.data, r->body.len) != LV_OK)
        lv_buf_reset(&resp->body);
    if (resp->body.len == 0)
        send_error(resp, (int)r->status, r->code[0] ? r->code : "InternalServerException", err);
    else if (r->code[0])
        lv_http_response_header(resp, "x-amzn-ErrorType", r->code);
}

static void handle_config(lvac_agent *a, const lvac_target *t, const want *w, lv_http_response *resp)
{
    char *key = lvac_entry_key(t->app, t->env, t->profile, "");
    if (key == NULL) {
        send_error(resp, 500, "InternalServerException", "out of memory");
        return;
    }
    pthread_mutex_lock(&a->mu);
    bool done = try_entry_locked(a, lvac_find(a, key), false, w, resp);
    uint64_t watch_rev = a->revision;
    pthread_mutex_unlock(&a->mu);
    if (done) {
        free(key);
        return;
    }
    atomic_fetch_add(&a->misses, 1);
    lvc_conn *c = lvac_conn_get(a);
    char err[512] = "out of memory";
    lvc_raw r = {0};
    uint64_t got = 0;
    lever_status st = c ? lvac_sync_entry(a, c, t->app, t->env, t->profile, true, &r, &got, err, sizeof err)
                        : LEVER_E_NOMEM;
    if (st == LEVER_OK && c) {
        pthread_mutex_lock(&a->mu);
        watch_rev = a->revision > watch_rev ? a->revision : watch_rev;
        pthread_mutex_unlock(&a->mu);
        /* fetched before a change the watch has already applied to the
         * other entries: once more, so this one is not left behind */
        if (got < watch_rev) {
            lvc_raw r2;
            uint64_t got2;
            lvac_sync_entry(a, c, t->app, t->env, t->profile, true, &r2, &got2, err, sizeof err);
            lvc_raw_clear(&r2);
        }
    }
    if (st == LEVER_OK) {
        pthread_mutex_lock(&a->mu);
        lvac_upstream_ok_locked(a);
        acentry *e = lvac_find(a, key);
        if (e && e->have) {
            e->used_mono = lvac_mono_ms();
            view v = view_of(e, w->entity);
            lvac_served_note(a, e, w->entity, v.version);
            serve(resp, &v, w);
            mark(resp, "miss", -1);
        } else {
            /* evicted at once by a crowd of other configurations */
            send_error(resp, 503, "ServiceUnavailableException", "configuration evicted while fetched; retry");
        }
        pthread_mutex_unlock(&a->mu);
    } else if (lvac_is_outage(st, &r)) {
        atomic_fetch_add(&a->upstream_errors, 1);
        pthread_mutex_lock(&a->mu);
        lvac_upstream_failed_locked(a, err);
        done = try_entry_locked(a, lvac_find(a, key), true, w, resp);
        pthread_mutex_unlock(&a->mu);
        if (!done) {
            if (r.status >= 400) {
                pass_error(resp, &r, err);
            } else {
                char msg[1024];
                snprintf(msg, sizeof msg, "upstream unavailable (%s); %s:%s:%s not cached", err, t->app, t->env,
                         t->profile);
                send_error(resp, 503, "ServiceUnavailableException", msg);
            }
        }
    } else {
        /* a definitive answer (not found, bad request, denied): passed on,
         * and what was cached for the key is no longer true */
        pthread_mutex_lock(&a->mu);
        lvac_upstream_ok_locked(a);
        acentry *e = lvac_find(a, key);
        if (e && !e->prefetched) {
            for (size_t i = 0; i < a->n; i++)
                if (a->entries[i] == e) {
                    a->entries[i] = a->entries[--a->n];
                    break;
                }
            lvac_entry_free(e);
            a->dirty = true;
        }
        pthread_mutex_unlock(&a->mu);
        pass_error(resp, &r, err);
    }
    lvac_conn_put(a, c);
    lvc_raw_clear(&r);
    free(key);
}

/* ------------------------------------------------- local development */

/* Finds dir's file for t ("App:Env:Profile" with an optional extension). */
static bool local_find(const char *dir, const lvac_target *t, char *path, size_t cap, char *ctype, size_t ctcap)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        lvac_target ft;
        if (lvac_parse_local_name(de->d_name, &ft, ctype, ctcap) != 0)
            continue;
        if (strcmp(ft.app, t->app) == 0 && strcmp(ft.env, t->env) == 0 && strcmp(ft.profile, t->profile) == 0)
            found = snprintf(path, cap, "%s/%s", dir, de->d_name) < (int)cap;
    }
    closedir(d);
    return found;
}

/* AWS's local development mode: the file is the configuration (read at
 * each request, so an edit is the next answer), no upstream at all. */
static void handle_local(lvac_agent *a, const lvac_target *t, const want *w, lv_http_response *resp)
{
    char path[4096], ctype[128];
    atomic_fetch_add(&a->local_reads, 1);
    if (!local_find(a->cfg.local_dir, t, path, sizeof path, ctype, sizeof ctype)) {
        char msg[600];
        snprintf(msg, sizeof msg, "no file %s:%s:%s in %s", t->app, t->env, t->profile, a->cfg.local_dir);
        send_error(resp, 404, "ResourceNotFoundException", msg);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > LOCAL_MAX) {
        if (fd >= 0)
            close(fd);
        send_error(resp, 500, "InternalServerException", "cannot read the local development file");
        return;
    }
    lv_buf b = LV_BUF_INIT;
    b.max = LOCAL_MAX;
    char chunk[65536];
    ssize_t n;
    bool ok = true;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || lv_buf_append(&b, chunk, (size_t)n) != LV_OK) {
            ok = false;
            break;
        }
    }
    close(fd);
    if (!ok) {
        lv_buf_free(&b);
        send_error(resp, 500, "InternalServerException", "cannot read the local development file");
        return;
    }
    /* The version is the file's modification time, as a deployment would
     * give a new number. */
    char version[64];
    snprintf(version, sizeof version, "%lld.%09ld", (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    /* AWS's local flag files are in the stored form: evaluated here too */
    lv_flagdoc *doc = NULL;
    char *plain = NULL;
    size_t plain_len = 0;
    if (lvac_flags_compile(b.data, b.len, w->entity, &doc, &plain, &plain_len) < 0) {
        lv_buf_free(&b);
        send_error(resp, 500, "InternalServerException", "out of memory");
        return;
    }
    view v = {b.data, b.len, ctype, version, doc, plain, plain_len, -1, NULL, true};
    serve(resp, &v, w);
    lv_flagdoc_free(doc);
    free(plain);
    lv_http_response_header(resp, "X-Lever-Cache", "local");
    lv_buf_free(&b);
}

/* ------------------------------------------------------------ routing */

static void handle_healthz(lvac_agent *a, lv_http_response *resp)
{
    jw w;
    jw_init(&w, &resp->body);
    resp->content_type = "application/json";
    pthread_mutex_lock(&a->mu);
    jw_obj(&w);
    jw_kstr(&w, "status", "ok");
    jw_kstr(&w, "mode", a->cfg.local_dir ? "local" : "upstream");
    jw_kstr(&w, "upstream", a->up_down ? "down" : "up");
    jw_key(&w, "watching");
    jw_bool(&w, a->watching);
    jw_kint(&w, "revision", (int64_t)a->revision);
    jw_kint(&w, "configurations", (int64_t)a->n);
    jw_obj_end(&w);
    pthread_mutex_unlock(&a->mu);
}

static void handle_metrics(lvac_agent *a, lv_http_response *resp)
{
    lv_buf *b = &resp->body;
    resp->content_type = "text/plain; version=0.0.4";
    int rc = 0;
#define M(name, type, help, val)                                                                  \
    rc |= lv_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, \
                        name, (uint64_t)(val)) != LV_OK
    M("lever_agent_appconfig_hits_total", "counter", "Configuration reads answered from the cache.",
      atomic_load(&a->hits));
    M("lever_agent_appconfig_misses_total", "counter", "Configuration reads that asked leverd.",
      atomic_load(&a->misses));
    M("lever_agent_appconfig_stale_answers_total", "counter", "Configuration answers served stale.",
      atomic_load(&a->stale));
    M("lever_agent_appconfig_upstream_errors_total", "counter", "Failed calls to leverd.",
      atomic_load(&a->upstream_errors));
    M("lever_agent_appconfig_refused_total", "counter", "Requests refused for a missing or wrong bearer token.",
      atomic_load(&a->refused));
    M("lever_agent_appconfig_bad_requests_total", "counter", "Malformed requests.", atomic_load(&a->bad_requests));
    M("lever_agent_appconfig_local_reads_total", "counter", "Reads in local development mode.",
      atomic_load(&a->local_reads));
    M("lever_agent_appconfig_cache_saves_total", "counter", "Disk copies written.", atomic_load(&a->saves));
    M("lever_agent_appconfig_cache_save_errors_total", "counter", "Disk copies that could not be written.",
      atomic_load(&a->save_errors));
    M("lever_agent_appconfig_cache_file_rejected", "gauge", "1 when the disk copy found at start was refused.",
      atomic_load(&a->cache_rejected));
    M("lever_agent_appconfig_cache_file_loaded_entries", "gauge", "Configurations loaded from the disk copy.",
      atomic_load(&a->cache_loaded));
    M("lever_agent_appconfig_rollout_side_fetches_total", "counter",
      "Fetches of the previous version's side of a gradual deployment.", atomic_load(&a->side_fetches));
    M("lever_agent_appconfig_rollout_header_errors_total", "counter",
      "Answers whose rollout headers could not be used (served as plain answers).", atomic_load(&a->bad_rollouts));
    pthread_mutex_lock(&a->mu);
    size_t rolling = 0;
    for (size_t i = 0; i < a->n; i++)
        rolling += a->entries[i]->rollout.active && a->entries[i]->from.data != NULL;
    M("lever_agent_appconfig_rollouts", "gauge",
      "Configurations in a gradual deployment, bucketed here between two versions.", rolling);
    M("lever_agent_appconfig_configurations", "gauge", "Configurations held.", a->n);
    M("lever_agent_appconfig_watch_connected", "gauge", "1 while the watch is current.", a->watching ? 1 : 0);
    M("lever_agent_appconfig_watch_revision", "gauge", "Revision the watch is at.", a->revision);
    M("lever_agent_appconfig_watch_reconnects_total", "counter", "Watch failures.", a->reconnects);
    M("lever_agent_appconfig_upstream_up", "gauge", "1 when the last call to leverd succeeded.", a->up_down ? 0 : 1);
    rc |= lv_buf_printf(b, "# HELP lever_agent_appconfig_watch_lag_seconds Commit-to-apply delay of the last "
                           "change.\n# TYPE lever_agent_appconfig_watch_lag_seconds gauge\n"
                           "lever_agent_appconfig_watch_lag_seconds %.3f\n", a->lag_s) != LV_OK;
    pthread_mutex_unlock(&a->mu);
#undef M
    if (rc)
        send_error(resp, 500, "InternalServerException", "out of memory");
}

/* OFREP: POST {"context": {...}} to a profile's URL + /ofrep/v1/evaluate/flags[/KEY]. */
static void ofrep_error(lv_http_response *resp, int status, const char *key, const char *code, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    lv_buf_reset(&resp->body);
    jw w;
    jw_init(&w, &resp->body);
    jw_obj(&w);
    if (key)
        jw_kstr(&w, "key", key);
    jw_kstr(&w, "errorCode", code);
    jw_kstr(&w, "errorDetails", msg);
    jw_obj_end(&w);
}

static void handle_ofrep(lvac_agent *a, const lvac_target *t, const lv_http_request *req, lv_http_response *resp)
{
    const char *key = t->kind == LVAC_OFREP_ONE ? t->flag : NULL;
    if (strcmp(req->method, "POST") != 0) {
        send_error(resp, 405, "MethodNotAllowedException", "OFREP evaluations are POST requests");
        return;
    }
    lvac_ofrep_ctx oc, *octx = &oc;
    char err[256];
    bool invalid = false;
    if (lvac_parse_ofrep(req->body ? req->body : "", req->body_len, octx, &invalid, err, sizeof err) != 0) {
        atomic_fetch_add(&a->bad_requests, 1);
        ofrep_error(resp, 400, key, invalid ? "INVALID_CONTEXT" : "PARSE_ERROR", err);
        return;
    }
    want w = {0};
    w.kind = t->kind;
    w.flag = key;
    w.octx = octx;
    w.if_none_match = lv_http_header_get(req, "If-None-Match");
    /* the context's targetingKey is the entity, for bucketing and for rules */
    const char *entity = octx->entity[0] ? octx->entity : NULL;
    w.entity = entity ? entity : a->instance_id;
    w.entity_given = true; /* OFREP evaluates every time */
    if (a->cfg.local_dir)
        handle_local(a, t, &w, resp);
    else
        handle_config(a, t, &w, resp);
    lvac_context_free(&octx->kv);
}

static void handle(void *ctx, const lv_http_request *req, lv_http_response *resp)
{
    lvac_agent *a = ctx;
    bool get = strcmp(req->method, "GET") == 0;
    if (get && strcmp(req->path, "/healthz") == 0) {
        handle_healthz(a, resp);
        return;
    }
    if (get && strcmp(req->path, "/metrics") == 0) {
        handle_metrics(a, resp);
        return;
    }
    lvac_target t;
    char err[256];
    int pr = lvac_parse_path(req->path, &t, err, sizeof err);
    if (pr == 1) {
        send_error(resp, 404, "ResourceNotFoundException",
                   "lever-agent serves GET /applications/APP/environments/ENV/configurations/PROFILE");
        return;
    }
    if (a->cfg.access_token && !lvac_bearer_ok(lv_http_header_get(req, "Authorization"), a->cfg.access_token)) {
        atomic_fetch_add(&a->refused, 1);
        send_error(resp, 401, "UnauthorizedException", "Authorization: Bearer <ACCESS_TOKEN> required");
        return;
    }
    if (pr != 0) {
        atomic_fetch_add(&a->bad_requests, 1);
        send_error(resp, 400, "BadRequestException", err);
        return;
    }
    if (t.kind != LVAC_CONFIG) {
        handle_ofrep(a, &t, req, resp);
        return;
    }
    if (!get) {
        send_error(resp, 405, "MethodNotAllowedException", "only GET is served here");
        return;
    }
    want wb = {0}, *w = &wb;
    lvac_context cbuf;
    const char *q = req->query ? req->query : "";
    const char *entity = lv_http_header_get(req, "Entity-Id");
    int bad = lvac_parse_query(q, strlen(q), &w->flags, err, sizeof err);
    for (size_t i = 0; i < req->nheaders && bad == 0; i++) {
        if (strcasecmp(req->headers[i].name, "Context") != 0)
            continue;
        if (w->ctx == NULL) {
            w->ctx = &cbuf;
            lvac_context_init(w->ctx);
        }
        bad = lvac_parse_context(req->headers[i].value, w->ctx, err, sizeof err);
    }
    if (bad == 0 && entity && !lvac_entity_ok(entity)) {
        snprintf(err, sizeof err, "Entity-Id must be 1-%d printable ASCII characters", LVAC_ENTITY_MAX);
        bad = -1;
    }
    if (bad != 0) {
        atomic_fetch_add(&a->bad_requests, 1);
        send_error(resp, 400, "BadRequestException", err);
        if (w->ctx)
            lvac_context_free(w->ctx);
        return;
    }
    w->entity = entity ? entity : a->instance_id;
    w->entity_given = entity != NULL;
    if (a->cfg.local_dir)
        handle_local(a, &t, w, resp);
    else
        handle_config(a, &t, w, resp);
    if (w->ctx)
        lvac_context_free(w->ctx);
}

/* ---------------------------------------------------------- lifecycle */

static void agent_free(lvac_agent *a)
{
    for (size_t i = 0; i < a->n; i++)
        lvac_entry_free(a->entries[i]);
    free(a->entries);
    for (size_t i = 0; i < a->npool; i++)
        lvc_conn_free(a->pool[i]);
    lvc_conn_free(a->wconn);
    lvc_server_free(&a->srv);
    memset(a->seal_key, 0, sizeof a->seal_key);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->pool_mu);
    pthread_cond_destroy(&a->cond);
    free(a);
}

static int make_instance_id(lvac_agent *a, char *err, size_t errlen)
{
    if (a->cfg.instance_id) {
        if (!lvac_entity_ok(a->cfg.instance_id) || strlen(a->cfg.instance_id) >= sizeof a->instance_id) {
            snprintf(err, errlen, "instance id must be 1-63 printable ASCII characters");
            return -1;
        }
        snprintf(a->instance_id, sizeof a->instance_id, "%s", a->cfg.instance_id);
        return 0;
    }
    unsigned char rnd[12];
    lv_error le = {0};
    if (lv_crypto_random(rnd, sizeof rnd, &le) != LV_OK) {
        snprintf(err, errlen, "random instance id: %s", le.msg);
        return -1;
    }
    char *p = a->instance_id;
    p += snprintf(p, 8, "agent-");
    for (size_t i = 0; i < sizeof rnd; i++)
        p += snprintf(p, 3, "%02x", rnd[i]);
    return 0;
}

int lvac_start(const lvac_config *cfg, lvac_agent **out, char *err, size_t errlen)
{
    *out = NULL;
    lvac_agent *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->cfg = *cfg;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->pool_mu, NULL);
    pthread_cond_init(&a->cond, NULL);
    if (make_instance_id(a, err, errlen) != 0) {
        agent_free(a);
        return -1;
    }
    if (cfg->local_dir == NULL) {
        lv_credentials creds;
        char src[512], cerr[512];
        if (lvc_resolve_credentials(NULL, NULL, NULL, cfg->profile, &creds, src, sizeof src, cerr, sizeof cerr) !=
            0) {
            snprintf(err, errlen, "credentials: %s", cerr);
            agent_free(a);
            return -1;
        }
        lever_status st = lvc_server_init(&a->srv, cfg->upstream, cfg->region, &creds, err, errlen);
        memset(&creds, 0, sizeof creds);
        if (st != LEVER_OK) {
            if (st == LEVER_E_NOMEM)
                snprintf(err, errlen, "out of memory");
            memset(&a->srv, 0, sizeof a->srv);
            agent_free(a);
            return -1;
        }
        a->wconn = lvc_conn_new_interruptible();
        if (a->wconn == NULL) {
            snprintf(err, errlen, "out of memory");
            agent_free(a);
            return -1;
        }
        pthread_mutex_lock(&a->mu);
        for (size_t i = 0; i < cfg->nprefetch; i++)
            if (lvac_get_or_add(a, cfg->prefetch[i].app, cfg->prefetch[i].env, cfg->prefetch[i].profile,
                                true) == NULL) {
                pthread_mutex_unlock(&a->mu);
                snprintf(err, errlen, "out of memory");
                agent_free(a);
                return -1;
            }
        pthread_mutex_unlock(&a->mu);
        if (cfg->cache_dir) {
            char kp[4096];
            lv_error le = {0};
            if (mkdir(cfg->cache_dir, 0700) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cache dir %s: %s", cfg->cache_dir, strerror(errno));
                agent_free(a);
                return -1;
            }
            if (snprintf(kp, sizeof kp, "%s/cache.key", cfg->cache_dir) >= (int)sizeof kp ||
                lv_crypto_master_key_load(kp, a->seal_key, &le) != LV_OK) {
                snprintf(err, errlen, "cache key %s: %s", kp, le.msg[0] ? le.msg : "path too long");
                agent_free(a);
                return -1;
            }
            a->persist = true;
            lvac_load_disk(a);
        }
    }
    lv_http_config hc = {.listen = cfg->listen, .threads = cfg->threads, .max_body = 65536,
                         .max_connections = 1024, .timeout_seconds = 60, .log_name = "lever-agent"};
    lv_error he = {0};
    if (lv_http_start(&hc, handle, a, &a->http, &he) != LV_OK) {
        if (cfg->listen_optional) {
            lva_log(LVA_LOG_WARN, "AppConfig API not served: %s (set --appconfig-listen to choose another address)",
                    he.msg);
            agent_free(a);
            return 0;
        }
        snprintf(err, errlen, "%s", he.msg);
        agent_free(a);
        return -1;
    }
    if (cfg->local_dir == NULL && lvac_sync_start(a, err, errlen) != 0) {
        lv_http_stop(a->http);
        lvac_sync_stop(a);
        agent_free(a);
        return -1;
    }
    lva_log(LVA_LOG_INFO, "AppConfig API on %s (port %u), %s, %zu prefetched, instance %s", cfg->listen,
            lv_http_port(a->http), cfg->local_dir ? "local development mode" : "watching leverd", cfg->nprefetch,
            a->instance_id);
    *out = a;
    return 0;
}

unsigned lvac_port(const lvac_agent *a)
{
    return lv_http_port(a->http);
}

void lvac_stop(lvac_agent *a)
{
    if (a == NULL)
        return;
    lv_http_stop(a->http);
    lvac_sync_stop(a);
    if (a->persist && a->dirty)
        lvac_save(a);
    agent_free(a);
}
