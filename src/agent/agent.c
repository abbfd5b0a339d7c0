/* agent.c - lever-agent's :2773 runtime: start and stop (credentials, the
 * disk copy, the listener, the watch and persister threads), the listener's
 * routing, logging, and the helpers the other parts share (agent_int.h):
 * the GET handler (ssmget.c), the watch threads (ssmwatch.c), the disk copy
 * (ssmdisk.c), /healthz and /metrics (ssmstatus.c). One mutex guards all
 * cache state; upstream calls are made without it. */
#include "agent/agent_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "agent/cachefile.h"
#include "json/jw.h"
#include "client/config.h"
#include "client/http.h"
#include "client/rollout.h"
#include "crypto/crypto.h"
#include "http/http.h"

static int g_log_level = LVA_LOG_INFO;

void lva_set_log_level(int level)
{
    g_log_level = level;
}

void lva_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < g_log_level || level < 0 || level > LVA_LOG_ERROR)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one fprintf per line so concurrent threads do not interleave */
    fprintf(stderr, "lever-agent: %s: %s\n", names[level], line);
}

int64_t lva_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lva_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- helpers */

char *lva_norm_prefix(const char *p)
{
    if (p == NULL || *p == '\0')
        return NULL;
    size_t n = strlen(p);
    char *out = malloc(n + 2);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    out[o++] = '/';
    for (const char *c = p; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            free(out);
            return NULL;
        }
        if (*c == '/' && out[o - 1] == '/')
            continue;
        out[o++] = *c;
    }
    if (o > 1 && out[o - 1] == '/')
        o--;
    out[o] = '\0';
    return out;
}

bool lva_under(const char *path, const char *name)
{
    if (strcmp(path, "/") == 0)
        return name[0] == '/';
    size_t pl = strlen(path);
    return strncmp(name, path, pl) == 0 && name[pl] == '/';
}

void lva_send_error(lv_http_response *resp, int status, const char *type, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    lv_buf_reset(&resp->body);
    jw w;
    jw_init(&w, &resp->body);
    jw_obj(&w);
    jw_kstr(&w, "__type", type);
    jw_kstr(&w, "message", msg);
    jw_obj_end(&w);
    if (w.rc != LV_OK) {
        resp->status = 500;
        lv_buf_reset(&resp->body);
    }
}

/* Caller holds mu. */
void lva_upstream_ok_locked(lva_agent *a)
{
    if (a->up_down)
        lva_log(LVA_LOG_INFO, "upstream %s reachable again", a->cfg.upstream);
    a->up_down = false;
    a->up_streak = 0;
    a->up_retry_at = 0;
}

/* Caller holds mu. */
void lva_upstream_failed_locked(lva_agent *a, const char *why)
{
    if (!a->up_down)
        lva_log(LVA_LOG_WARN, "upstream %s unavailable: %s; serving from the cache", a->cfg.upstream, why);
    a->up_down = true;
    int64_t back = OD_BACKOFF_MIN_MS;
    for (unsigned i = 0; i < a->up_streak && back < OD_BACKOFF_MAX_MS; i++)
        back *= 2;
    if (back > OD_BACKOFF_MAX_MS)
        back = OD_BACKOFF_MAX_MS;
    a->up_streak++;
    a->up_retry_at = lva_mono_ms() + back;
    snprintf(a->up_error, sizeof a->up_error, "%s", why);
}

/* GetParameter, optionally for one side of a label rollout
 * (x-lever-rollout-side) and keeping the answer's headers. */
lever_status lva_get_parameter_ex(lva_agent *a, lvc_conn *c, const char *sel, bool decrypt, const char *side,
                                     lv_buf *hdrs, lvc_reply *r, char **json, bool *secure, int64_t *version,
                                     char *err, size_t errlen)
{
    *json = NULL;
    json_t *body = json_pack("{s:s, s:b}", "Name", sel, "WithDecryption", decrypt ? 1 : 0);
    if (body == NULL) {
        snprintf(err, errlen, "out of memory");
        memset(r, 0, sizeof *r);
        return LEVER_E_NOMEM;
    }
    lvc_hdr sh = {LVC_ROLLOUT_SIDE_HEADER, side};
    lever_status st = lvc_call_ex(c, &a->srv, "AmazonSSM.GetParameter", body, &sh, side ? 1 : 0,
                                  a->cfg.request_timeout_ms, r, hdrs, err, errlen);
    json_decref(body);
    if (st != LEVER_OK)
        return st;
    json_t *p = json_object_get(r->body, "Parameter");
    const char *type = json_string_value(json_object_get(p, "Type"));
    if (!json_is_object(p) || !json_is_string(json_object_get(p, "Name"))) {
        snprintf(err, errlen, "GetParameter answer without a Parameter object");
        return LEVER_E_PARSE;
    }
    *secure = type && strcmp(type, "SecureString") == 0;
    *version = json_integer_value(json_object_get(p, "Version"));
    *json = json_dumps(p, PARAM_DUMP);
    if (*json == NULL) {
        snprintf(err, errlen, "out of memory");
        return LEVER_E_NOMEM;
    }
    return LEVER_OK;
}

void lva_free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

/* ---------------------------------------------------------------- routing */

static void handle(void *ctx, const lv_http_request *req, lv_http_response *resp)
{
    lva_agent *a = ctx;
    bool get = strcmp(req->method, "GET") == 0;
    if (strcmp(req->path, GET_PATH) == 0) {
        if (!get) {
            lva_send_error(resp, 405, "MethodNotAllowed", "only GET is served here");
            return;
        }
        lva_handle_get(a, req, resp);
    } else if (strcmp(req->path, "/healthz") == 0 && get) {
        lva_handle_healthz(a, resp);
    } else if (strcmp(req->path, "/metrics") == 0 && get) {
        lva_handle_metrics(a, resp);
    } else {
        lva_send_error(resp, 404, "NotFound", "lever-agent serves GET " GET_PATH ", /healthz and /metrics");
    }
}

/* -------------------------------------------------------------- lifecycle */

static void agent_free(lva_agent *a)
{
    for (size_t i = 0; i < a->nprefixes; i++) {
        free(a->prefixes[i].path);
        lvc_conn_free(a->prefixes[i].conn);
    }
    free(a->prefixes);
    for (size_t i = 0; i < a->npool; i++)
        lvc_conn_free(a->pool[i]);
    lva_table_free(&a->pf);
    lva_table_free(&a->od);
    lvc_server_free(&a->srv);
    memset(a->seal_key, 0, sizeof a->seal_key);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->pool_mu);
    pthread_cond_destroy(&a->cond);
    free(a);
}

static void stop_threads(lva_agent *a)
{
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->mu);
    for (size_t i = 0; i < a->nprefixes; i++)
        if (a->prefixes[i].conn)
            lvc_conn_interrupt(a->prefixes[i].conn);
    for (size_t i = 0; i < a->nprefixes; i++)
        if (a->prefixes[i].th_started)
            pthread_join(a->prefixes[i].th, NULL);
    if (a->persister_started)
        pthread_join(a->persister, NULL);
}

int lva_agent_start(const lva_config *cfg, lva_agent **out, char *err, size_t errlen)
{
    *out = NULL;
    lva_agent *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->cfg = *cfg;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->pool_mu, NULL);
    pthread_cond_init(&a->cond, NULL);
    lva_table_init(&a->pf, 0);
    lva_table_init(&a->od, cfg->max_entries);

    lv_credentials creds;
    char src[512], cerr[512];
    if (lvc_resolve_credentials(NULL, NULL, NULL, cfg->profile, &creds, src, sizeof src, cerr, sizeof cerr) != 0) {
        snprintf(err, errlen, "credentials: %s", cerr);
        agent_free(a);
        return -1;
    }
    lever_status st = lvc_server_init(&a->srv, cfg->upstream, cfg->region, &creds, err, errlen);
    memset(&creds, 0, sizeof creds);
    if (st != LEVER_OK) {
        if (st == LEVER_E_NOMEM)
            snprintf(err, errlen, "out of memory");
        /* lvc_server_init left nothing to free on failure */
        memset(&a->srv, 0, sizeof a->srv);
        agent_free(a);
        return -1;
    }
    lva_log(LVA_LOG_INFO, "upstream %s, credentials from %s", cfg->upstream, src);

    if (cfg->nprefixes) {
        a->prefixes = calloc(cfg->nprefixes, sizeof *a->prefixes);
        if (a->prefixes == NULL) {
            snprintf(err, errlen, "out of memory");
            agent_free(a);
            return -1;
        }
        a->nprefixes = cfg->nprefixes;
        for (size_t i = 0; i < cfg->nprefixes; i++) {
            a->prefixes[i].a = a;
            a->prefixes[i].path = strdup(cfg->prefixes[i]);
            a->prefixes[i].conn = lvc_conn_new_interruptible();
            if (a->prefixes[i].path == NULL || a->prefixes[i].conn == NULL) {
                snprintf(err, errlen, "out of memory");
                agent_free(a);
                return -1;
            }
        }
    }

    if (cfg->cache_dir) {
        if (mkdir(cfg->cache_dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cache dir %s: %s", cfg->cache_dir, strerror(errno));
            agent_free(a);
            return -1;
        }
        char kp[4096];
        lv_error le = {0};
        if (snprintf(kp, sizeof kp, "%s/%s", cfg->cache_dir, LVA_CACHE_KEY_FILE) >= (int)sizeof kp) {
            snprintf(err, errlen, "cache dir path too long");
            agent_free(a);
            return -1;
        }
        if (lv_crypto_master_key_load(kp, a->seal_key, &le) != LV_OK) {
            snprintf(err, errlen, "cache key %s: %s", kp, le.msg);
            agent_free(a);
            return -1;
        }
        a->persist = true;
        lva_load_disk(a);
    }

    lv_http_config hc = {.listen = cfg->listen, .threads = cfg->threads, .max_body = 4096,
                         .max_connections = 1024, .timeout_seconds = 60, .log_name = "lever-agent"};
    lv_error he = {0};
    if (lv_http_start(&hc, handle, a, &a->http, &he) != LV_OK) {
        snprintf(err, errlen, "%s", he.msg);
        agent_free(a);
        return -1;
    }
    for (size_t i = 0; i < a->nprefixes; i++) {
        if (pthread_create(&a->prefixes[i].th, NULL, lva_watch_main, &a->prefixes[i]) != 0) {
            snprintf(err, errlen, "cannot start a watch thread");
            lv_http_stop(a->http);
            stop_threads(a);
            agent_free(a);
            return -1;
        }
        a->prefixes[i].th_started = true;
    }
    if (a->persist) {
        if (pthread_create(&a->persister, NULL, lva_persist_main, a) != 0) {
            snprintf(err, errlen, "cannot start the persister thread");
            lv_http_stop(a->http);
            stop_threads(a);
            agent_free(a);
            return -1;
        }
        a->persister_started = true;
    }
    *out = a;
    return 0;
}

unsigned lva_agent_port(const lva_agent *a)
{
    return lv_http_port(a->http);
}

void lva_agent_stop(lva_agent *a)
{
    if (a == NULL)
        return;
    lv_http_stop(a->http);
    stop_threads(a);
    if (a->persist && a->dirty)
        lva_save(a);
    agent_free(a);
}
