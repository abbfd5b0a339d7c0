/* agent.c - lever-agent's runtime: the per-prefix watch threads, the
 * persister thread, /healthz and /metrics, start and stop, and the
 * helpers the GET handler (ssmget.c) uses. One mutex guards all cache
 * state; upstream calls are made without it. */
#include "agent/agent_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "agent/cachefile.h"
#include "agent/table.h"
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

/* GetParameter. On LEVER_OK *json (malloc'd compact text), secure and
 * version describe the Parameter. */
static lever_status get_parameter(lva_agent *a, lvc_conn *c, const char *sel, bool decrypt, lvc_reply *r,
                                  char **json, bool *secure, int64_t *version, char *err, size_t errlen)
{
    return lva_get_parameter_ex(a, c, sel, decrypt, NULL, NULL, r, json, secure, version, err, errlen);
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

/* ------------------------------------------------------- healthz/metrics */

typedef struct oldest_ctx {
    lva_agent *a;
    int64_t now;
    int64_t oldest_ms; /* largest age seen */
    bool pf;
} oldest_ctx;

static void oldest_fn(const lva_entry *e, void *user)
{
    oldest_ctx *o = user;
    int64_t conf = e->confirmed_ms;
    if (o->pf) {
        prefix *p = lva_covering(o->a, e->name);
        if (p && p->connected)
            return; /* kept current by the watch: age 0 */
        if (p && p->last_ok_ms > conf)
            conf = p->last_ok_ms;
    }
    if (o->now - conf > o->oldest_ms)
        o->oldest_ms = o->now - conf;
}

static void handle_metrics(lva_agent *a, lv_http_response *resp)
{
    lv_buf *b = &resp->body;
    resp->content_type = "text/plain; version=0.0.4";
    int rc = 0;
#define M(name, type, help, val)                                                                  \
    rc |= lv_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, \
                        name, (uint64_t)(val)) != LV_OK
    M("lever_agent_cache_hits_total", "counter", "Requests answered from the cache.", atomic_load(&a->hits));
    M("lever_agent_cache_misses_total", "counter", "Requests that needed the upstream.", atomic_load(&a->misses));
    M("lever_agent_stale_answers_total", "counter", "Answers served stale (X-Lever-Stale).", atomic_load(&a->stale));
    M("lever_agent_upstream_errors_total", "counter", "Upstream calls that failed (unreachable, 5xx).",
      atomic_load(&a->upstream_errors));
    M("lever_agent_refused_total", "counter", "Requests refused for a missing or wrong token.",
      atomic_load(&a->refused));
    M("lever_agent_bad_requests_total", "counter", "Requests refused for a malformed query.",
      atomic_load(&a->bad_requests));
    M("lever_agent_cache_saves_total", "counter", "Cache snapshots written to disk.", atomic_load(&a->saves));
    M("lever_agent_cache_save_errors_total", "counter", "Cache snapshots that could not be written.",
      atomic_load(&a->save_errors));
    M("lever_agent_cache_file_rejected", "gauge", "1 when the cache file found at start was corrupt and ignored.",
      atomic_load(&a->cache_rejected));
    M("lever_agent_cache_file_loaded_entries", "gauge", "Entries loaded from the cache file at start.",
      atomic_load(&a->cache_loaded_entries));

    pthread_mutex_lock(&a->mu);
    oldest_ctx o = {a, lva_wall_ms(), 0, true};
    lva_table_each(&a->pf, oldest_fn, &o);
    o.pf = false;
    lva_table_each(&a->od, oldest_fn, &o);
    M("lever_agent_upstream_up", "gauge", "1 when the last upstream call succeeded.", a->up_down ? 0 : 1);
    rc |= lv_buf_printf(b, "# HELP lever_agent_cache_entries Entries in the cache.\n"
                           "# TYPE lever_agent_cache_entries gauge\n"
                           "lever_agent_cache_entries{kind=\"prefetch\"} %zu\n"
                           "lever_agent_cache_entries{kind=\"ondemand\"} %zu\n",
                        a->pf.count, a->od.count) != LV_OK;
    M("lever_agent_cache_evictions_total", "counter", "On-demand entries evicted by the LRU bound.",
      a->od.evictions);
    rc |= lv_buf_printf(b, "# HELP lever_agent_oldest_entry_age_seconds Age of the least recently confirmed "
                           "entry (0 while every entry is current).\n"
                           "# TYPE lever_agent_oldest_entry_age_seconds gauge\n"
                           "lever_agent_oldest_entry_age_seconds %.3f\n",
                        (double)o.oldest_ms / 1000.0) != LV_OK;
    rc |= lv_buf_puts(b, "# HELP lever_agent_watch_lag_seconds Commit-to-apply delay of the last change "
                         "applied from the watch.\n# TYPE lever_agent_watch_lag_seconds gauge\n") != LV_OK;
    for (size_t i = 0; i < a->nprefixes; i++)
        rc |= lv_buf_printf(b, "lever_agent_watch_lag_seconds{prefix=\"%s\"} %.3f\n", a->prefixes[i].path,
                            a->prefixes[i].lag_s) != LV_OK;
    rc |= lv_buf_puts(b, "# HELP lever_agent_watch_connected 1 while the prefix's watch is current.\n"
                         "# TYPE lever_agent_watch_connected gauge\n") != LV_OK;
    for (size_t i = 0; i < a->nprefixes; i++)
        rc |= lv_buf_printf(b, "lever_agent_watch_connected{prefix=\"%s\"} %d\n", a->prefixes[i].path,
                            a->prefixes[i].connected ? 1 : 0) != LV_OK;
    rc |= lv_buf_puts(b, "# HELP lever_agent_watch_revision Revision the prefix's watch is at.\n"
                         "# TYPE lever_agent_watch_revision gauge\n") != LV_OK;
    for (size_t i = 0; i < a->nprefixes; i++)
        rc |= lv_buf_printf(b, "lever_agent_watch_revision{prefix=\"%s\"} %" PRIu64 "\n", a->prefixes[i].path,
                            a->prefixes[i].revision) != LV_OK;
    rc |= lv_buf_puts(b, "# HELP lever_agent_watch_relists_total Full listings of the prefix.\n"
                         "# TYPE lever_agent_watch_relists_total counter\n") != LV_OK;
    for (size_t i = 0; i < a->nprefixes; i++)
        rc |= lv_buf_printf(b, "lever_agent_watch_relists_total{prefix=\"%s\"} %" PRIu64 "\n",
                            a->prefixes[i].path, a->prefixes[i].relists) != LV_OK;
    pthread_mutex_unlock(&a->mu);
#undef M
    if (rc)
        lva_send_error(resp, 500, "InternalServerError", "out of memory");
}

static void handle_healthz(lva_agent *a, lv_http_response *resp)
{
    jw w;
    jw_init(&w, &resp->body);
    pthread_mutex_lock(&a->mu);
    jw_obj(&w);
    jw_kstr(&w, "status", "ok");
    jw_kstr(&w, "upstream", a->up_down ? "down" : "up");
    jw_kint(&w, "entries", (int64_t)(a->pf.count + a->od.count));
    jw_key(&w, "prefixes");
    jw_arr(&w);
    for (size_t i = 0; i < a->nprefixes; i++) {
        jw_obj(&w);
        jw_kstr(&w, "path", a->prefixes[i].path);
        jw_key(&w, "loaded");
        jw_bool(&w, a->prefixes[i].loaded);
        jw_key(&w, "watching");
        jw_bool(&w, a->prefixes[i].connected);
        jw_kint(&w, "revision", (int64_t)a->prefixes[i].revision);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    pthread_mutex_unlock(&a->mu);
    if (w.rc != LV_OK)
        lva_send_error(resp, 500, "InternalServerError", "out of memory");
}

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
        handle_healthz(a, resp);
    } else if (strcmp(req->path, "/metrics") == 0 && get) {
        handle_metrics(a, resp);
    } else {
        lva_send_error(resp, 404, "NotFound", "lever-agent serves GET " GET_PATH ", /healthz and /metrics");
    }
}

/* ---------------------------------------------------------------- watch */

static bool stopping(lva_agent *a)
{
    pthread_mutex_lock(&a->mu);
    bool s = a->stop;
    pthread_mutex_unlock(&a->mu);
    return s;
}

/* Sleeps up to ms, waking early on stop. */
static void nap(lva_agent *a, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        if (pthread_cond_timedwait(&a->cond, &a->mu, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&a->mu);
}

typedef struct listed {
    char *name, *json;
    bool secure;
    int64_t version;
} listed;

static void listed_free(listed *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].name);
        lva_free_secret(l[i].json);
    }
    free(l);
}

static bool in_seen(const lva_entry *e, void *user)
{
    void **u = user;
    const char *path = u[0];
    lva_table *seen = u[1];
    return !lva_under(path, e->name) || lva_table_get(seen, e->name, false) != NULL;
}

/* Lists the prefix (every page, decrypted) and replaces its entries. */
static lever_status relist(lva_agent *a, prefix *p, char *err, size_t errlen)
{
    listed *items = NULL;
    size_t n = 0, cap = 0;
    uint64_t revision = 0;
    char *token = NULL;
    lever_status st = LEVER_OK;
    lvc_reply r = {0};
    bool first = true;
    do {
        json_t *body = json_pack("{s:s, s:b, s:b, s:i}", "Path", p->path, "Recursive", 1, "WithDecryption", 1,
                                 "MaxResults", LIST_PAGE);
        if (body && token && json_object_set_new(body, "NextToken", json_string(token)) != 0) {
            json_decref(body);
            body = NULL;
        }
        free(token);
        token = NULL;
        if (body == NULL) {
            st = LEVER_E_NOMEM;
            snprintf(err, errlen, "out of memory");
            break;
        }
        st = lvc_call(p->conn, &a->srv, "AmazonSSM.GetParametersByPath", body, a->cfg.request_timeout_ms, &r, err,
                      errlen);
        json_decref(body);
        if (st != LEVER_OK)
            break;
        if (first)
            revision = r.revision;
        first = false;
        json_t *arr = json_object_get(r.body, "Parameters");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *o = json_array_get(arr, i);
            const char *name = json_string_value(json_object_get(o, "Name"));
            if (name == NULL)
                continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                listed *ni = realloc(items, nc * sizeof *ni);
                if (ni == NULL) {
                    st = LEVER_E_NOMEM;
                    break;
                }
                items = ni;
                cap = nc;
            }
            const char *type = json_string_value(json_object_get(o, "Type"));
            listed l = {strdup(name), json_dumps(o, PARAM_DUMP), type && strcmp(type, "SecureString") == 0,
                        json_integer_value(json_object_get(o, "Version"))};
            if (l.name == NULL || l.json == NULL) {
                free(l.name);
                lva_free_secret(l.json);
                st = LEVER_E_NOMEM;
                break;
            }
            items[n++] = l;
        }
        const char *next = json_string_value(json_object_get(r.body, "NextToken"));
        if (st == LEVER_OK && next && *next && (token = strdup(next)) == NULL)
            st = LEVER_E_NOMEM;
        lvc_reply_clear(&r);
        if (st == LEVER_E_NOMEM)
            snprintf(err, errlen, "out of memory");
    } while (st == LEVER_OK && token != NULL);
    free(token);
    lvc_reply_clear(&r);
    if (st != LEVER_OK) {
        listed_free(items, n);
        return st;
    }

    lva_table seen;
    lva_table_init(&seen, 0);
    int64_t nw = lva_wall_ms(), nm = lva_mono_ms();
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < n && st == LEVER_OK; i++) {
        if (lva_table_put(&a->pf, items[i].name, items[i].name, items[i].json, strlen(items[i].json),
                          items[i].secure, items[i].version, nw, nm) != 0 ||
            lva_table_put(&seen, items[i].name, items[i].name, "", 0, false, 0, 0, 0) != 0)
            st = LEVER_E_NOMEM;
    }
    if (st == LEVER_OK) {
        void *u[2] = {p->path, &seen};
        lva_table_filter(&a->pf, in_seen, u);
        p->revision = revision;
        p->loaded = true;
        p->connected = true;
        p->last_ok_ms = nw;
        p->relists++;
        a->dirty = true;
        lva_upstream_ok_locked(a);
        pthread_cond_broadcast(&a->cond);
    } else {
        snprintf(err, errlen, "out of memory");
    }
    pthread_mutex_unlock(&a->mu);
    lva_table_free(&seen);
    listed_free(items, n);
    if (st == LEVER_OK)
        lva_log(LVA_LOG_INFO, "prefix %s: %zu parameters at revision %" PRIu64, p->path, n, revision);
    return st;
}

typedef struct fetched {
    const char *name; /* borrowed from the change list */
    char *json;
    bool absent, secure;
    int64_t version;
} fetched;

/* Applies one watch answer: fetches the new value of every Put name, then
 * updates the cache in change order. Returns LEVER_OK, or an error with
 * nothing applied (the watch retries from the same revision). */
static lever_status apply_changes(lva_agent *a, prefix *p, json_t *changes, uint64_t next, char *err, size_t errlen)
{
    size_t nc = json_array_size(changes);
    fetched *f = calloc(nc ? nc : 1, sizeof *f);
    if (f == NULL) {
        snprintf(err, errlen, "out of memory");
        return LEVER_E_NOMEM;
    }
    lever_status st = LEVER_OK;
    for (size_t i = 0; i < nc && st == LEVER_OK; i++) {
        json_t *c = json_array_get(changes, i);
        const char *kind = json_string_value(json_object_get(c, "Kind"));
        const char *name = json_string_value(json_object_get(c, "Name"));
        if (kind == NULL || name == NULL || strcmp(kind, "Put") != 0)
            continue;
        bool dup = false; /* one fetch per name gives its latest value */
        for (size_t j = 0; j < i && !dup; j++)
            dup = f[j].name && strcmp(f[j].name, name) == 0;
        if (dup)
            continue;
        f[i].name = name;
        lvc_reply r;
        st = get_parameter(a, p->conn, name, true, &r, &f[i].json, &f[i].secure, &f[i].version, err, errlen);
        if (st == LEVER_E_NOT_FOUND) { /* deleted again since */
            f[i].absent = true;
            st = LEVER_OK;
        }
        lvc_reply_clear(&r);
    }
    if (st != LEVER_OK) {
        for (size_t i = 0; i < nc; i++)
            lva_free_secret(f[i].json);
        free(f);
        return st;
    }
    int64_t nw = lva_wall_ms(), nm = lva_mono_ms();
    double last_time = 0;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < nc; i++) {
        json_t *c = json_array_get(changes, i);
        const char *kind = json_string_value(json_object_get(c, "Kind"));
        const char *name = json_string_value(json_object_get(c, "Name"));
        if (kind == NULL || name == NULL)
            continue;
        last_time = json_number_value(json_object_get(c, "Time"));
        if (strcmp(kind, "Put") == 0) {
            const fetched *src = NULL;
            for (size_t j = 0; j < nc && src == NULL; j++)
                if (f[j].name && strcmp(f[j].name, name) == 0)
                    src = &f[j];
            if (src && !src->absent && src->json) {
                if (lva_table_put(&a->pf, name, name, src->json, strlen(src->json), src->secure, src->version, nw,
                                  nm) != 0)
                    st = LEVER_E_NOMEM;
            } else {
                lva_table_del(&a->pf, name);
            }
            lva_table_del_name(&a->od, name);
        } else if (strcmp(kind, "Delete") == 0 || strcmp(kind, "Expire") == 0) {
            lva_table_del(&a->pf, name);
            lva_table_del_name(&a->od, name);
        } else if (strcmp(kind, "Label") == 0 || strcmp(kind, "Unlabel") == 0) {
            lva_table_del_name(&a->od, name); /* selector answers may have moved */
        }
    }
    if (st == LEVER_OK) {
        p->revision = next;
        p->connected = true;
        p->last_ok_ms = nw;
        p->changes += nc;
        if (nc > 0) {
            double lag = (double)nw / 1000.0 - last_time;
            p->lag_s = lag > 0 ? lag : 0;
            a->dirty = true;
            pthread_cond_broadcast(&a->cond);
        }
        lva_upstream_ok_locked(a);
    } else {
        /* a partial apply: list again rather than trust the cache */
        p->loaded = false;
        snprintf(err, errlen, "out of memory applying changes");
    }
    pthread_mutex_unlock(&a->mu);
    for (size_t i = 0; i < nc; i++)
        lva_free_secret(f[i].json);
    free(f);
    return st;
}

static void *watch_main(void *arg)
{
    prefix *p = arg;
    lva_agent *a = p->a;
    int64_t backoff = 0;
    bool unsupported = false;
    pthread_mutex_lock(&a->mu);
    bool need_list = !p->loaded;
    pthread_mutex_unlock(&a->mu);
    char err[512];
    while (!stopping(a)) {
        lever_status st;
        if (need_list || unsupported) {
            st = relist(a, p, err, sizeof err);
            if (st == LEVER_OK) {
                need_list = false;
                backoff = 0;
                if (unsupported) /* no watch upstream: poll at the TTL */
                    nap(a, a->cfg.ttl_ms > 1000 ? a->cfg.ttl_ms : 1000);
                continue;
            }
        } else {
            pthread_mutex_lock(&a->mu);
            uint64_t since = p->revision;
            /* Until a watch call has succeeded (at start from the disk copy,
             * after an outage) the prefix is served as stale: ask without
             * waiting first, so it is confirmed current at once rather than
             * after a whole idle long poll. */
            int wait = p->connected ? a->cfg.watch_wait_s : 0;
            pthread_mutex_unlock(&a->mu);
            json_t *body = json_pack("{s:s, s:b, s:I, s:i}", "Path", p->path, "Recursive", 1, "SinceRevision",
                                     (json_int_t)since, "WaitSeconds", wait);
            lvc_reply r = {0};
            if (body == NULL) {
                st = LEVER_E_NOMEM;
                snprintf(err, sizeof err, "out of memory");
            } else {
                st = lvc_call(p->conn, &a->srv, "Lever.WatchParameters", body,
                              (long)wait * 1000 + a->cfg.request_timeout_ms, &r, err, sizeof err);
                json_decref(body);
            }
            if (st == LEVER_OK) {
                json_t *rev = json_object_get(r.body, "Revision");
                uint64_t next = json_is_integer(rev) && json_integer_value(rev) >= 0
                                    ? (uint64_t)json_integer_value(rev) : since;
                if (next < since) {
                    lva_log(LVA_LOG_INFO, "prefix %s: upstream revision went back (%" PRIu64 " < %" PRIu64
                            "); listing again", p->path, next, since);
                    need_list = true;
                } else {
                    st = apply_changes(a, p, json_object_get(r.body, "Changes"), next, err, sizeof err);
                    if (st == LEVER_E_NOMEM)
                        need_list = true;
                }
            } else if (st == LEVER_E_COMPACTED) {
                lva_log(LVA_LOG_INFO, "prefix %s: revision %" PRIu64 " compacted upstream; listing again", p->path,
                        since);
                need_list = true;
                st = LEVER_OK;
            } else if (st == LEVER_E_UNSUPPORTED) {
                lva_log(LVA_LOG_WARN, "upstream has no Lever.WatchParameters; polling %s every TTL", p->path);
                unsupported = true;
                st = LEVER_OK;
            }
            lvc_reply_clear(&r);
            if (st == LEVER_OK) {
                backoff = 0;
                continue;
            }
        }
        if (stopping(a))
            break;
        /* a failure: the prefix is served stale until the watch is back */
        pthread_mutex_lock(&a->mu);
        if (p->connected)
            lva_log(LVA_LOG_WARN, "prefix %s: watch lost: %s", p->path, err);
        else
            lva_log(LVA_LOG_DEBUG, "prefix %s: retry failed: %s", p->path, err);
        p->connected = false;
        p->reconnects++;
        atomic_fetch_add(&a->upstream_errors, 1);
        if (st == LEVER_E_UNREACHABLE || st == LEVER_E_SERVER || st == LEVER_E_PARSE)
            lva_upstream_failed_locked(a, err);
        pthread_mutex_unlock(&a->mu);
        backoff = backoff ? backoff * 2 : WATCH_BACKOFF_MIN_MS;
        if (backoff > WATCH_BACKOFF_MAX_MS)
            backoff = WATCH_BACKOFF_MAX_MS;
        nap(a, backoff);
    }
    return NULL;
}

/* ---------------------------------------------------------- persistence */

typedef struct snap_ctx {
    lva_snapshot *s;
    bool pf;
    int rc;
} snap_ctx;

static void snap_fn(const lva_entry *e, void *user)
{
    snap_ctx *c = user;
    if (c->rc == 0 && lva_snapshot_add_entry(c->s, e->key, e->name, e->json, e->json_len, e->secure, c->pf,
                                             e->version, e->confirmed_ms) != 0)
        c->rc = -1;
}

/* Writes the cache to disk now. */
static void save(lva_agent *a)
{
    lva_snapshot s = {0};
    snap_ctx c = {&s, true, 0};
    pthread_mutex_lock(&a->mu);
    s.saved_ms = lva_wall_ms();
    for (size_t i = 0; i < a->nprefixes && c.rc == 0; i++)
        if (a->prefixes[i].loaded &&
            lva_snapshot_add_prefix(&s, a->prefixes[i].path, a->prefixes[i].revision, a->prefixes[i].last_ok_ms))
            c.rc = -1;
    lva_table_each(&a->pf, snap_fn, &c);
    c.pf = false;
    lva_table_each(&a->od, snap_fn, &c);
    a->dirty = false;
    a->last_save_mono = lva_mono_ms();
    pthread_mutex_unlock(&a->mu);

    char err[512] = "out of memory";
    lv_buf out = LV_BUF_INIT;
    int rc = c.rc;
    if (rc == 0)
        rc = lva_cachefile_encode(&s, a->seal_key, &out, err, sizeof err);
    if (rc == 0)
        rc = lva_cachefile_write(a->cfg.cache_dir, out.data, out.len, err, sizeof err);
    lva_snapshot_free(&s);
    lv_buf_free(&out);
    pthread_mutex_lock(&a->mu);
    if (rc == 0) {
        atomic_fetch_add(&a->saves, 1);
        if (a->save_failing)
            lva_log(LVA_LOG_INFO, "cache written to %s again", a->cfg.cache_dir);
        a->save_failing = false;
    } else {
        atomic_fetch_add(&a->save_errors, 1);
        /* one warning per failure streak (a full disk must not flood the log) */
        lva_log(a->save_failing ? LVA_LOG_DEBUG : LVA_LOG_WARN, "cannot write the cache to %s: %s",
                a->cfg.cache_dir, err);
        a->save_failing = true;
        a->dirty = true; /* retried later */
    }
    pthread_mutex_unlock(&a->mu);
}

static void *persist_main(void *arg)
{
    lva_agent *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        int64_t wait = 1000;
        if (a->dirty) {
            int64_t due = a->last_save_mono + (a->save_failing ? SAVE_RETRY_MS : SAVE_DEBOUNCE_MS) - lva_mono_ms();
            if (due <= 0) {
                pthread_mutex_unlock(&a->mu);
                save(a);
                pthread_mutex_lock(&a->mu);
                continue;
            }
            wait = due;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&a->cond, &a->mu, &ts);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Restores the disk copy. A file that fails any check is logged, moved
 * aside and ignored: nothing from it is served. */
static void load_disk(lva_agent *a)
{
    lv_buf raw = LV_BUF_INIT;
    char err[512];
    int rc = lva_cachefile_read(a->cfg.cache_dir, &raw, err, sizeof err);
    if (rc == 1) {
        lva_log(LVA_LOG_INFO, "no cache file in %s yet", a->cfg.cache_dir);
        return;
    }
    lva_snapshot s;
    if (rc == 0)
        rc = lva_cachefile_decode(raw.data ? raw.data : "", raw.len, a->seal_key, &s, err, sizeof err);
    lv_buf_free(&raw);
    if (rc != 0) {
        lva_log(LVA_LOG_ERROR, "cache file %s/%s rejected: %s; ignoring it (moved to %s.corrupt)", a->cfg.cache_dir,
                LVA_CACHE_FILE, err, LVA_CACHE_FILE);
        lva_cachefile_quarantine(a->cfg.cache_dir);
        atomic_store(&a->cache_rejected, 1);
        return;
    }
    int64_t nw = lva_wall_ms(), nm = lva_mono_ms();
    size_t loaded = 0;
    for (size_t i = 0; i < s.nprefixes; i++)
        for (size_t j = 0; j < a->nprefixes; j++)
            if (strcmp(s.prefixes[i].path, a->prefixes[j].path) == 0) {
                a->prefixes[j].loaded = true;
                a->prefixes[j].revision = s.prefixes[i].revision;
                a->prefixes[j].last_ok_ms = s.prefixes[i].confirmed_ms;
            }
    for (size_t i = 0; i < s.nentries; i++) {
        const lva_disk_entry *e = &s.entries[i];
        int64_t age = nw - e->confirmed_ms;
        int64_t mono = nm - (age > 0 ? age : 0); /* the TTL keeps running across restarts */
        int r = 0;
        if (e->prefetched) {
            bool keep = false;
            for (size_t j = 0; j < a->nprefixes && !keep; j++)
                keep = a->prefixes[j].loaded && lva_under(a->prefixes[j].path, e->name);
            if (!keep)
                continue;
            r = lva_table_put(&a->pf, e->key, e->name, e->json, e->json_len, e->secure, e->version,
                              e->confirmed_ms, mono);
        } else if (a->cfg.max_entries > 0) {
            r = lva_table_put(&a->od, e->key, e->name, e->json, e->json_len, e->secure, e->version,
                              e->confirmed_ms, mono);
        }
        if (r != 0) {
            lva_log(LVA_LOG_WARN, "out of memory loading the cache file");
            break;
        }
        loaded++;
    }
    atomic_store(&a->cache_loaded_entries, loaded);
    lva_log(LVA_LOG_INFO, "loaded %zu entries from %s/%s (saved %" PRId64 " s ago)", loaded, a->cfg.cache_dir,
            LVA_CACHE_FILE, (nw - s.saved_ms) / 1000);
    lva_snapshot_free(&s);
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
        load_disk(a);
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
        if (pthread_create(&a->prefixes[i].th, NULL, watch_main, &a->prefixes[i]) != 0) {
            snprintf(err, errlen, "cannot start a watch thread");
            lv_http_stop(a->http);
            stop_threads(a);
            agent_free(a);
            return -1;
        }
        a->prefixes[i].th_started = true;
    }
    if (a->persist) {
        if (pthread_create(&a->persister, NULL, persist_main, a) != 0) {
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
        save(a);
    agent_free(a);
}
