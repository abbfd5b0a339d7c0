/* lever.c - liblever's handle: options, layered typed getters over the TTL
 * cache with stale-if-error, the SSM calls tools need, and live mode. */
#include "lever/lever.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "client/cache.h"
#include "client/config.h"
#include "client/handle.h"
#include "client/http.h"
#include "client/parse.h"
#include "client/records.h"

enum { ERR_MAX = 1024, RETRY_AFTER_MS = 1000 };

struct lever_options {
    char *endpoint, *region, *akid, *secret, *token, *profile, *prefix, *env_prefix, *client_id;
    int env_scheme;
    int64_t ttl_ms;
    bool prefetch, live;
    int64_t timeout_ms, connect_ms;
    int watch_wait_s;
    lever_log_fn log;
    void *log_user;
    lever_clock_fn clock;
    void *clock_user;
};

typedef struct sub {
    uint64_t id;
    char *name; /* full name, NULL = every change */
    lever_change_fn fn;
    void *user;
} sub;

typedef struct event {
    char *name;
    char *value; /* NULL: deleted */
} event;

struct lever {
    /* settings, immutable after open */
    char *endpoint, *region, *prefix, *env_prefix, *path; /* path: prefix as an SSM path */
    char *client_id;      /* AppConfig client id, NULL = random (appconfig.c) */
    int env_scheme;
    int64_t ttl_ms, timeout_ms;
    bool prefetch, live;
    int watch_wait_s;
    lever_log_fn log;
    void *log_user;
    lever_clock_fn clock;
    void *clock_user;
    lvc_server srv;

    /* caller-side requests: one kept-alive connection, one request at a time */
    pthread_mutex_t net_mu;
    lvc_conn *conn;

    /* cache, error, subscriptions, live state */
    pthread_mutex_t mu;
    lvc_cache cache;
    bool prefix_listed;
    int64_t prefix_confirmed;
    int64_t retry_at;     /* no network refresh before this (after a failure) */
    bool in_backoff;
    lever_status last_st;
    char last_msg[ERR_MAX];
    sub *subs;
    size_t nsubs, capsubs;
    uint64_t next_sub;
    bool live_ok;         /* watch connected and the cache current */
    uint64_t relists, reconnects;

    /* live thread */
    pthread_mutex_t cb_mu; /* held while callbacks run (unsubscribe waits on it) */
    pthread_mutex_t wait_mu;
    pthread_cond_t wait_cv;
    atomic_bool stopping;
    bool thread_started;
    pthread_t thread;
    lvc_conn *wconn;

    struct lvc_ac *ac;     /* AppConfig configurations (appconfig.c) */
};

/* ---------------------------------------------------------------- misc */

const char *lever_status_str(lever_status s)
{
    switch (s) {
    case LEVER_OK: return "ok";
    case LEVER_E_NOMEM: return "out of memory";
    case LEVER_E_INVALID: return "invalid";
    case LEVER_E_NOT_FOUND: return "not found";
    case LEVER_E_EXISTS: return "already exists";
    case LEVER_E_AUTH: return "authentication failed";
    case LEVER_E_UNREACHABLE: return "server unreachable";
    case LEVER_E_SERVER: return "server error";
    case LEVER_E_PARSE: return "parse error";
    case LEVER_E_COMPACTED: return "revision compacted";
    case LEVER_E_UNSUPPORTED: return "unsupported by the server";
    }
    return "unknown";
}

const char *lever_source_str(lever_source s)
{
    switch (s) {
    case LEVER_SRC_DEFAULT: return "default";
    case LEVER_SRC_ENV: return "env";
    case LEVER_SRC_STORE: return "store";
    case LEVER_SRC_CACHE: return "cache";
    case LEVER_SRC_CACHE_STALE: return "cache-stale";
    }
    return "unknown";
}

void lever_free(void *p)
{
    free(p);
}

void lever_strlist_free(char **list)
{
    lvc_strlist_free(list);
}

static int64_t mono_ms(void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(const lever *c)
{
    return c->clock(c->clock_user);
}

static void logf_(lever *c, lever_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(lever *c, lever_log_level lvl, const char *fmt, ...)
{
    if (c->log == NULL)
        return;
    char msg[ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->log(lvl, msg, c->log_user);
}

/* Records a failure for lever_last_error. Caller must not hold mu. */
static lever_status fail(lever *c, lever_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static lever_status fail(lever *c, lever_status st, const char *fmt, ...)
{
    char msg[ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&c->mu);
    c->last_st = st;
    memcpy(c->last_msg, msg, sizeof msg);
    pthread_mutex_unlock(&c->mu);
    return st;
}

lever_status lever_last_error(lever *c, char *buf, size_t buflen)
{
    pthread_mutex_lock(&c->mu);
    lever_status st = c->last_st;
    if (buf && buflen)
        snprintf(buf, buflen, "%s", c->last_msg);
    pthread_mutex_unlock(&c->mu);
    return st;
}

void lever_clear_error(lever *c)
{
    pthread_mutex_lock(&c->mu);
    c->last_st = LEVER_OK;
    c->last_msg[0] = '\0';
    pthread_mutex_unlock(&c->mu);
}

const char *lever_endpoint(const lever *c) { return c->endpoint; }

/* handle.h: what the AppConfig module borrows */
const lvc_server *lvc_h_server(const lever *c) { return &c->srv; }
int64_t lvc_h_now(const lever *c) { return now_ms(c); }
struct lvc_ac **lvc_h_ac_slot(lever *c) { return &c->ac; }
const char *lvc_h_client_id(const lever *c) { return c->client_id; }
lever_status lvc_h_fail(lever *c, lever_status st, const char *msg) { return fail(c, st, "%s", msg); }
void lvc_h_log(lever *c, lever_log_level level, const char *msg) { logf_(c, level, "%s", msg); }
void lvc_h_get_settings(const lever *c, lvc_h_settings *out)
{
    *out = (lvc_h_settings){c->ttl_ms, c->timeout_ms, c->watch_wait_s, c->live};
}
const char *lever_region(const lever *c) { return c->region; }
const char *lever_prefix(const lever *c) { return c->prefix; }

/* ------------------------------------------------------------- options */

lever_options *lever_options_new(void)
{
    lever_options *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->ttl_ms = 30000;
    o->prefetch = true;
    o->timeout_ms = 5000;
    o->connect_ms = 2000;
    o->watch_wait_s = 20;
    return o;
}

void lever_options_free(lever_options *o)
{
    if (o == NULL)
        return;
    free(o->endpoint);
    free(o->region);
    free(o->akid);
    if (o->secret)
        memset(o->secret, 0, strlen(o->secret));
    free(o->secret);
    free(o->token);
    free(o->profile);
    free(o->prefix);
    free(o->env_prefix);
    free(o->client_id);
    free(o);
}

/* Replaces *dst with a copy of v (NULL clears). */
static lever_status set_str(char **dst, const char *v)
{
    char *n = NULL;
    if (v && (n = strdup(v)) == NULL)
        return LEVER_E_NOMEM;
    free(*dst);
    *dst = n;
    return LEVER_OK;
}

lever_status lever_options_set_endpoint(lever_options *o, const char *url)
{
    return set_str(&o->endpoint, url);
}
lever_status lever_options_set_region(lever_options *o, const char *region)
{
    return set_str(&o->region, region);
}
lever_status lever_options_set_credentials(lever_options *o, const char *akid, const char *secret,
                                           const char *token)
{
    if ((akid == NULL) != (secret == NULL))
        return LEVER_E_INVALID;
    if (set_str(&o->akid, akid) || set_str(&o->secret, secret) || set_str(&o->token, token))
        return LEVER_E_NOMEM;
    return LEVER_OK;
}
lever_status lever_options_set_client_id(lever_options *o, const char *id)
{
    if (id) {
        size_t n = strlen(id);
        if (n == 0 || n > 256)
            return LEVER_E_INVALID;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)id[i] < 0x21 || (unsigned char)id[i] > 0x7e)
                return LEVER_E_INVALID;
    }
    return set_str(&o->client_id, id);
}

lever_status lever_options_set_profile(lever_options *o, const char *profile)
{
    return set_str(&o->profile, profile);
}
lever_status lever_options_set_prefix(lever_options *o, const char *prefix)
{
    return set_str(&o->prefix, prefix);
}
lever_status lever_options_set_env_scheme(lever_options *o, lever_env_scheme s)
{
    if (s != LEVER_ENV_LAST_SEGMENT && s != LEVER_ENV_FULL_PATH && s != LEVER_ENV_NONE)
        return LEVER_E_INVALID;
    o->env_scheme = (int)s;
    return LEVER_OK;
}
lever_status lever_options_set_env_prefix(lever_options *o, const char *p)
{
    return set_str(&o->env_prefix, p);
}
lever_status lever_options_set_cache_ttl_ms(lever_options *o, int64_t ttl)
{
    if (ttl < 0)
        return LEVER_E_INVALID;
    o->ttl_ms = ttl;
    return LEVER_OK;
}
lever_status lever_options_set_prefetch(lever_options *o, bool on)
{
    o->prefetch = on;
    return LEVER_OK;
}
lever_status lever_options_set_live(lever_options *o, bool on)
{
    o->live = on;
    return LEVER_OK;
}
lever_status lever_options_set_timeout_ms(lever_options *o, int64_t request_ms, int64_t connect_ms)
{
    if (request_ms <= 0 || connect_ms <= 0 || request_ms > 3600000 || connect_ms > 3600000)
        return LEVER_E_INVALID;
    o->timeout_ms = request_ms;
    o->connect_ms = connect_ms;
    return LEVER_OK;
}
lever_status lever_options_set_watch_wait_s(lever_options *o, int wait_s)
{
    if (wait_s < 1 || wait_s > 60)
        return LEVER_E_INVALID;
    o->watch_wait_s = wait_s;
    return LEVER_OK;
}
lever_status lever_options_set_log(lever_options *o, lever_log_fn fn, void *user)
{
    o->log = fn;
    o->log_user = user;
    return LEVER_OK;
}
lever_status lever_options_set_clock(lever_options *o, lever_clock_fn fn, void *user)
{
    o->clock = fn;
    o->clock_user = user;
    return LEVER_OK;
}

/* ---------------------------------------------------------- open/close */

static void *live_main(void *arg);

lever_status lever_open(const lever_options *o, lever **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    lever_options defaults_storage;
    if (o == NULL) {
        memset(&defaults_storage, 0, sizeof defaults_storage);
        defaults_storage.ttl_ms = 30000;
        defaults_storage.prefetch = true;
        defaults_storage.timeout_ms = 5000;
        defaults_storage.connect_ms = 2000;
        defaults_storage.watch_wait_s = 20;
        o = &defaults_storage;
    }
    lever *c = calloc(1, sizeof *c);
    if (c == NULL)
        return LEVER_E_NOMEM;
    pthread_mutex_init(&c->net_mu, NULL);
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->cb_mu, NULL);
    pthread_mutex_init(&c->wait_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wait_cv, &ca);
    pthread_condattr_destroy(&ca);
    lvc_cache_init(&c->cache);
    lever_status st = LEVER_E_NOMEM;

    c->env_scheme = o->env_scheme;
    c->ttl_ms = o->ttl_ms;
    c->timeout_ms = o->timeout_ms;
    c->prefetch = o->prefetch;
    c->live = o->live;
    c->watch_wait_s = o->watch_wait_s;
    c->log = o->log;
    c->log_user = o->log_user;
    c->clock = o->clock ? o->clock : mono_ms;
    c->clock_user = o->clock ? o->clock_user : NULL;
    c->endpoint = lvc_resolve_endpoint(o->endpoint);
    c->region = lvc_resolve_region(o->region);
    c->prefix = lvc_norm_prefix(o->prefix);
    c->env_prefix = strdup(o->env_prefix ? o->env_prefix : "");
    if (o->client_id && (c->client_id = strdup(o->client_id)) == NULL)
        goto err;
    if (c->endpoint == NULL || c->region == NULL || c->prefix == NULL || c->env_prefix == NULL)
        goto err;
    /* GetParametersByPath wants "/a/b", not "/a/b/" */
    size_t pl = strlen(c->prefix);
    c->path = pl > 1 ? strndup(c->prefix, pl - 1) : strdup("/");
    if (c->path == NULL)
        goto err;
    if (c->live && pl == 0) {
        snprintf(errbuf, errlen, "live mode needs a prefix to watch");
        st = LEVER_E_INVALID;
        goto err;
    }

    lv_credentials creds;
    char src[256];
    if (lvc_resolve_credentials(o->akid, o->secret, o->token, o->profile, &creds, src, sizeof src,
                                errbuf, errlen) != 0) {
        st = LEVER_E_AUTH;
        goto err;
    }
    st = lvc_server_init(&c->srv, c->endpoint, c->region, &creds, errbuf, errlen);
    memset(&creds, 0, sizeof creds);
    if (st != LEVER_OK)
        goto err;
    c->srv.connect_ms = (long)o->connect_ms;
    st = LEVER_E_NOMEM;
    c->conn = lvc_conn_new();
    if (c->conn == NULL)
        goto err;
    logf_(c, LEVER_LOG_DEBUG, "lever: endpoint %s, region %s, credentials from %s", c->endpoint,
          c->region, src);
    if (c->live) {
        c->wconn = lvc_conn_new_interruptible();
        if (c->wconn == NULL)
            goto err;
        if (pthread_create(&c->thread, NULL, live_main, c) != 0) {
            snprintf(errbuf, errlen, "cannot start the live-mode thread: %s", strerror(errno));
            goto err;
        }
        c->thread_started = true;
    }
    *out = c;
    return LEVER_OK;
err:
    if (st == LEVER_E_NOMEM && errbuf && errlen && errbuf[0] == '\0')
        snprintf(errbuf, errlen, "out of memory");
    lever_close(c);
    return st;
}

void lever_close(lever *c)
{
    if (c == NULL)
        return;
    lvc_ac_close(c);
    if (c->thread_started) {
        atomic_store(&c->stopping, true);
        lvc_conn_interrupt(c->wconn);
        pthread_mutex_lock(&c->wait_mu);
        pthread_cond_broadcast(&c->wait_cv);
        pthread_mutex_unlock(&c->wait_mu);
        pthread_join(c->thread, NULL);
    }
    lvc_conn_free(c->wconn);
    lvc_conn_free(c->conn);
    lvc_server_free(&c->srv);
    lvc_cache_free(&c->cache);
    for (size_t i = 0; i < c->nsubs; i++)
        free(c->subs[i].name);
    free(c->subs);
    free(c->endpoint);
    free(c->region);
    free(c->prefix);
    free(c->env_prefix);
    free(c->client_id);
    free(c->path);
    pthread_mutex_destroy(&c->net_mu);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->cb_mu);
    pthread_mutex_destroy(&c->wait_mu);
    pthread_cond_destroy(&c->wait_cv);
    free(c);
}

/* ------------------------------------------------------------ requests */

/* One call on conn (the caller serialises use of conn). On failure the
 * message is recorded for lever_last_error. *reply must be cleared by the
 * caller whatever the outcome. */
static lever_status call_ex(lever *c, lvc_conn *conn, const char *op, json_t *body, long timeout_ms,
                            lvc_reply *reply, bool record_not_found)
{
    char err[ERR_MAX];
    if (body == NULL) {
        memset(reply, 0, sizeof *reply);
        return fail(c, LEVER_E_NOMEM, "out of memory building %s", op);
    }
    char target[96];
    snprintf(target, sizeof target, "%s%s", strchr(op, '.') ? "" : "AmazonSSM.", op);
    lever_status st = lvc_call(conn, &c->srv, target, body, timeout_ms, reply, err, sizeof err);
    if (st != LEVER_OK && (record_not_found || st != LEVER_E_NOT_FOUND))
        fail(c, st, "%s: %s", op, err);
    return st;
}

static lever_status call(lever *c, lvc_conn *conn, const char *op, json_t *body, long timeout_ms,
                         lvc_reply *reply)
{
    return call_ex(c, conn, op, body, timeout_ms, reply, true);
}

/* A call on the shared caller connection. Consumes body. */
static lever_status call_shared(lever *c, const char *op, json_t *body, lvc_reply *reply)
{
    pthread_mutex_lock(&c->net_mu);
    lever_status st = call(c, c->conn, op, body, (long)c->timeout_ms, reply);
    pthread_mutex_unlock(&c->net_mu);
    if (body)
        json_decref(body);
    return st;
}

/* Follows NextToken for op, appending every element of result_key to acc.
 * req is the request without NextToken (consumed). rev receives the
 * revision header of the first page. */
static lever_status pages(lever *c, lvc_conn *conn, bool shared, const char *op, json_t *req,
                          const char *result_key, json_t *acc, uint64_t *rev)
{
    lever_status st = LEVER_OK;
    if (req == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory building %s", op);
    bool first = true;
    for (int guard = 0;; guard++) {
        if (guard > 1000000) {
            st = fail(c, LEVER_E_SERVER, "%s: paging does not end", op);
            break;
        }
        lvc_reply r;
        if (shared)
            pthread_mutex_lock(&c->net_mu);
        st = call(c, conn, op, req, (long)c->timeout_ms, &r);
        if (shared)
            pthread_mutex_unlock(&c->net_mu);
        if (st != LEVER_OK) {
            lvc_reply_clear(&r);
            break;
        }
        if (first && rev)
            *rev = r.revision;
        first = false;
        json_t *items = json_object_get(r.body, result_key);
        if (items != NULL && json_array_extend(acc, items) != 0) {
            lvc_reply_clear(&r);
            st = fail(c, LEVER_E_NOMEM, "out of memory reading %s", op);
            break;
        }
        const char *tok = json_string_value(json_object_get(r.body, "NextToken"));
        if (tok == NULL || *tok == '\0') {
            lvc_reply_clear(&r);
            break;
        }
        if (json_object_set_new(req, "NextToken", json_string(tok)) != 0) {
            lvc_reply_clear(&r);
            st = fail(c, LEVER_E_NOMEM, "out of memory paging %s", op);
            break;
        }
        lvc_reply_clear(&r);
    }
    json_decref(req);
    return st;
}

static lever_status list_json(lever *c, lvc_conn *conn, bool shared, const char *path,
                              bool recursive, bool decrypt, json_t **out, uint64_t *rev)
{
    json_t *acc = json_array();
    if (acc == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory");
    json_t *req = json_pack("{s:s, s:b, s:b, s:i}", "Path", path, "Recursive", recursive,
                            "WithDecryption", decrypt, "MaxResults", 10);
    lever_status st = pages(c, conn, shared, "GetParametersByPath", req, "Parameters", acc, rev);
    if (st != LEVER_OK) {
        json_decref(acc);
        return st;
    }
    *out = acc;
    return LEVER_OK;
}

lever_status lever_list_path(lever *c, const char *path, bool recursive, bool decrypt,
                             lever_param_list **out, uint64_t *revision)
{
    if (path == NULL || out == NULL)
        return fail(c, LEVER_E_INVALID, "lever_list_path: NULL argument");
    json_t *acc;
    uint64_t rev = 0;
    lever_status st = list_json(c, c->conn, true, path, recursive, decrypt, &acc, &rev);
    if (st != LEVER_OK)
        return st;
    lever_param_list *l = lvc_param_list_from_json(acc, true);
    json_decref(acc);
    if (l == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory");
    *out = l;
    if (revision)
        *revision = rev;
    return LEVER_OK;
}

lever_status lever_history(lever *c, const char *name, bool decrypt, lever_param_list **out)
{
    if (name == NULL || out == NULL)
        return fail(c, LEVER_E_INVALID, "lever_history: NULL argument");
    json_t *acc = json_array();
    if (acc == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory");
    json_t *req = json_pack("{s:s, s:b, s:i}", "Name", name, "WithDecryption", decrypt, "MaxResults", 50);
    lever_status st = pages(c, c->conn, true, "GetParameterHistory", req, "Parameters", acc, NULL);
    if (st == LEVER_OK) {
        lever_param_list *l = lvc_param_list_from_json(acc, false);
        if (l == NULL)
            st = fail(c, LEVER_E_NOMEM, "out of memory");
        else
            *out = l;
    }
    json_decref(acc);
    return st;
}

lever_status lever_describe(lever *c, const char *path, bool recursive, lever_param_list **out)
{
    if (path == NULL || out == NULL)
        return fail(c, LEVER_E_INVALID, "lever_describe: NULL argument");
    json_t *acc = json_array();
    if (acc == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory");
    json_t *req;
    if (strcmp(path, "/") == 0 && recursive)
        req = json_pack("{s:i}", "MaxResults", 50); /* everything */
    else
        req = json_pack("{s:[{s:s, s:s, s:[s]}], s:i}", "ParameterFilters", "Key", "Path", "Option",
                        recursive ? "Recursive" : "OneLevel", "Values", path, "MaxResults", 50);
    lever_status st = pages(c, c->conn, true, "DescribeParameters", req, "Parameters", acc, NULL);
    if (st == LEVER_OK) {
        lever_param_list *l = lvc_param_list_from_json(acc, true);
        if (l == NULL)
            st = fail(c, LEVER_E_NOMEM, "out of memory");
        else
            *out = l;
    }
    json_decref(acc);
    return st;
}

/* GetParameter. A getter asking for a name that does not exist is not a
 * failure (the default applies), so only explicit fetches record it. */
static lever_status get_param_json(lever *c, lvc_conn *conn, bool shared, const char *name,
                                   bool decrypt, json_t **param)
{
    json_t *req = json_pack("{s:s, s:b}", "Name", name, "WithDecryption", decrypt);
    lvc_reply r;
    if (shared)
        pthread_mutex_lock(&c->net_mu);
    lever_status st = call_ex(c, shared ? c->conn : conn, "GetParameter", req, (long)c->timeout_ms, &r,
                              shared);
    if (shared)
        pthread_mutex_unlock(&c->net_mu);
    if (req)
        json_decref(req);
    if (st == LEVER_OK) {
        json_t *p = json_object_get(r.body, "Parameter");
        if (!json_is_object(p) || !json_is_string(json_object_get(p, "Value"))) {
            st = fail(c, LEVER_E_PARSE, "GetParameter %s: answer without Parameter.Value", name);
        } else {
            *param = json_incref(p);
        }
    }
    lvc_reply_clear(&r);
    return st;
}

lever_status lever_fetch(lever *c, const char *name, bool decrypt, lever_param **out)
{
    if (name == NULL || out == NULL)
        return fail(c, LEVER_E_INVALID, "lever_fetch: NULL argument");
    json_t *p;
    lever_status st = get_param_json(c, c->conn, true, name, decrypt, &p);
    if (st != LEVER_OK)
        return st;
    *out = lvc_param_from_json(p);
    json_decref(p);
    return *out ? LEVER_OK : fail(c, LEVER_E_NOMEM, "out of memory");
}

/* Drops what the cache knows about name, so the next get asks again. */
static void forget(lever *c, const char *name)
{
    pthread_mutex_lock(&c->mu);
    lvc_entry *e = lvc_cache_find(&c->cache, name);
    if (e)
        e->confirmed = INT64_MIN / 2;
    /* a listing no longer vouches for this name either */
    if (strncmp(name, c->prefix, strlen(c->prefix)) == 0 && c->prefix[0])
        c->prefix_listed = false;
    pthread_mutex_unlock(&c->mu);
}

static lever_status simple(lever *c, const char *op, json_t *req, json_t **answer)
{
    lvc_reply r;
    lever_status st = call_shared(c, op, req, &r);
    if (st == LEVER_OK && answer)
        *answer = json_incref(r.body);
    lvc_reply_clear(&r);
    return st;
}

lever_status lever_put(lever *c, const char *name, const char *value, const char *type,
                       unsigned flags, const char *description, const char *tier,
                       const char *allowed_pattern, int64_t *version)
{
    if (name == NULL || value == NULL)
        return fail(c, LEVER_E_INVALID, "lever_put: NULL name or value");
    json_t *req = json_pack("{s:s, s:s}", "Name", name, "Value", value);
    if (req == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory");
    int bad = 0;
    if (type)
        bad |= json_object_set_new(req, "Type", json_string(type));
    if (flags & LEVER_PUT_OVERWRITE)
        bad |= json_object_set_new(req, "Overwrite", json_true());
    if (description)
        bad |= json_object_set_new(req, "Description", json_string(description));
    if (tier)
        bad |= json_object_set_new(req, "Tier", json_string(tier));
    if (allowed_pattern)
        bad |= json_object_set_new(req, "AllowedPattern", json_string(allowed_pattern));
    /* A new name needs a Type; an overwrite without one keeps the existing
     * type. Without OVERWRITE the name must be new, so String it is. */
    if (type == NULL && !(flags & LEVER_PUT_OVERWRITE))
        bad |= json_object_set_new(req, "Type", json_string("String"));
    if (bad) {
        json_decref(req);
        return fail(c, LEVER_E_INVALID, "PutParameter: an argument is not valid UTF-8 or memory ran out");
    }
    json_t *again = type == NULL && (flags & LEVER_PUT_OVERWRITE) ? json_deep_copy(req) : NULL;
    json_t *ans = NULL;
    lever_status st = simple(c, "PutParameter", req, &ans);
    if (st == LEVER_E_INVALID && again) {
        /* the name did not exist: create it as a String */
        lever_param *p = NULL;
        lever_status fs = lever_fetch(c, name, false, &p);
        lever_param_free(p);
        if (fs == LEVER_E_NOT_FOUND && json_object_set_new(again, "Type", json_string("String")) == 0) {
            st = simple(c, "PutParameter", again, &ans);
            again = NULL;
        }
    }
    if (again)
        json_decref(again);
    if (st == LEVER_OK) {
        if (version)
            *version = (int64_t)json_integer_value(json_object_get(ans, "Version"));
        json_decref(ans);
    }
    forget(c, name);
    return st;
}

lever_status lever_delete(lever *c, const char *name)
{
    if (name == NULL)
        return fail(c, LEVER_E_INVALID, "lever_delete: NULL name");
    lever_status st = simple(c, "DeleteParameter", json_pack("{s:s}", "Name", name), NULL);
    forget(c, name);
    return st;
}

static json_t *labels_json(const char *const *labels, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (labels[i] == NULL || json_array_append_new(a, json_string(labels[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* InvalidLabels in an answer become an error naming them. */
static lever_status check_invalid_labels(lever *c, const char *op, json_t *ans)
{
    json_t *inv = json_object_get(ans, "InvalidLabels");
    if (!json_is_array(inv) || json_array_size(inv) == 0)
        return LEVER_OK;
    char list[512] = "";
    size_t i;
    json_t *l;
    json_array_foreach(inv, i, l) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", json_string_value(l) ? json_string_value(l) : "?");
    }
    return fail(c, LEVER_E_INVALID, "%s: invalid labels: %s", op, list);
}

lever_status lever_label(lever *c, const char *name, int64_t version, const char *const *labels,
                         size_t nlabels)
{
    if (name == NULL || (labels == NULL && nlabels) || nlabels == 0 || version < 0)
        return fail(c, LEVER_E_INVALID, "lever_label: bad arguments");
    json_t *ls = labels_json(labels, nlabels);
    json_t *req = ls ? json_pack("{s:s, s:o}", "Name", name, "Labels", ls) : NULL;
    if (req && version > 0 && json_object_set_new(req, "ParameterVersion", json_integer(version))) {
        json_decref(req);
        req = NULL;
    }
    json_t *ans = NULL;
    lever_status st = simple(c, "LabelParameterVersion", req, &ans);
    if (st == LEVER_OK) {
        st = check_invalid_labels(c, "LabelParameterVersion", ans);
        json_decref(ans);
    }
    return st;
}

lever_status lever_unlabel(lever *c, const char *name, int64_t version, const char *const *labels,
                           size_t nlabels)
{
    if (name == NULL || (labels == NULL && nlabels) || nlabels == 0 || version <= 0)
        return fail(c, LEVER_E_INVALID, "lever_unlabel: bad arguments (the version is required)");
    json_t *ls = labels_json(labels, nlabels);
    json_t *req = ls ? json_pack("{s:s, s:I, s:o}", "Name", name, "ParameterVersion", (json_int_t)version,
                                 "Labels", ls)
                     : NULL;
    json_t *ans = NULL;
    lever_status st = simple(c, "UnlabelParameterVersion", req, &ans);
    if (st == LEVER_OK) {
        st = check_invalid_labels(c, "UnlabelParameterVersion", ans);
        json_decref(ans);
    }
    return st;
}

static lever_status watch_json(lever *c, lvc_conn *conn, bool shared, const char *path,
                               bool recursive, uint64_t since, int wait_s, json_t **ans)
{
    json_t *req = json_pack("{s:s, s:b, s:I, s:i}", "Path", path, "Recursive", recursive,
                            "SinceRevision", (json_int_t)since, "WaitSeconds", wait_s);
    lvc_reply r;
    long tmo = (long)c->timeout_ms + (long)wait_s * 1000L;
    if (shared)
        pthread_mutex_lock(&c->net_mu);
    lever_status st = call(c, conn, "Lever.WatchParameters", req, tmo, &r);
    if (shared)
        pthread_mutex_unlock(&c->net_mu);
    if (req)
        json_decref(req);
    if (st == LEVER_OK)
        *ans = json_incref(r.body);
    lvc_reply_clear(&r);
    return st;
}

lever_status lever_watch(lever *c, const char *path, bool recursive, uint64_t since, int wait_s,
                         lever_change_list **out, uint64_t *next)
{
    if (path == NULL || out == NULL || wait_s < 0 || wait_s > 60)
        return fail(c, LEVER_E_INVALID, "lever_watch: bad arguments");
    json_t *ans;
    lever_status st = watch_json(c, c->conn, true, path, recursive, since, wait_s, &ans);
    if (st != LEVER_OK)
        return st;
    lever_change_list *l = lvc_change_list_from_json(json_object_get(ans, "Changes"));
    if (next)
        *next = (uint64_t)json_integer_value(json_object_get(ans, "Revision"));
    json_decref(ans);
    if (l == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory");
    *out = l;
    return LEVER_OK;
}

/* ------------------------------------------------------ cache and getters */

typedef struct evlist {
    event *v;
    size_t n, cap;
    bool oom;
} evlist;

static void ev_add(evlist *l, const char *name, const char *value)
{
    if (l == NULL)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        event *nv = realloc(l->v, cap * sizeof *nv);
        if (nv == NULL) {
            l->oom = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    event *e = &l->v[l->n];
    e->name = strdup(name);
    e->value = value ? strdup(value) : NULL;
    if (e->name == NULL || (value && e->value == NULL)) {
        free(e->name);
        free(e->value);
        l->oom = true;
        return;
    }
    l->n++;
}

static void ev_free(evlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* After a live-side update: compares what callbacks last heard about e
 * with its current state, and queues an event when they differ (unless
 * quiet, the first listing). Caller holds mu. */
static void announce(lvc_entry *e, evlist *ev, bool quiet)
{
    int64_t cur = e->value ? e->version : 0;
    if (cur == e->announced)
        return;
    if (!quiet)
        ev_add(ev, e->name, e->value);
    e->announced = cur;
}

/* Replaces the cache's view of the prefix with a listing (array of
 * Parameter objects), all under one lock so concurrent syncs never
 * interleave. ev (may be NULL) collects live events. */
static lever_status apply_listing(lever *c, json_t *params, int64_t now, evlist *ev, bool quiet)
{
    lever_status st = LEVER_OK;
    pthread_mutex_lock(&c->mu);
    lvc_cache_sync_begin(&c->cache);
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p) {
        const char *name = json_string_value(json_object_get(p, "Name"));
        const char *value = json_string_value(json_object_get(p, "Value"));
        if (name == NULL || value == NULL)
            continue;
        if (lvc_cache_set(&c->cache, name, value, json_string_value(json_object_get(p, "Type")),
                          (int64_t)json_integer_value(json_object_get(p, "Version")), now) < 0) {
            st = LEVER_E_NOMEM;
            break;
        }
    }
    if (st == LEVER_OK) {
        lvc_cache_sync_end(&c->cache, c->prefix, now, NULL, NULL);
        c->prefix_listed = true;
        c->prefix_confirmed = now;
        if (ev) {
            size_t pl = strlen(c->prefix);
            for (size_t s = 0; s < c->cache.nslots; s++)
                for (lvc_entry *e = c->cache.slots[s]; e; e = e->next)
                    if (strncmp(e->name, c->prefix, pl) == 0)
                        announce(e, ev, quiet);
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (st != LEVER_OK)
        fail(c, st, "out of memory filling the cache");
    return st;
}

/* Lists the prefix on conn and applies it. rev (may be NULL) gets the
 * listing's revision. */
static lever_status sync_prefix(lever *c, lvc_conn *conn, bool shared, uint64_t *rev, evlist *ev,
                                bool quiet)
{
    json_t *params;
    uint64_t r = 0;
    lever_status st = list_json(c, conn, shared, c->path, true, true, &params, &r);
    if (st != LEVER_OK)
        return st;
    st = apply_listing(c, params, now_ms(c), ev, quiet);
    json_decref(params);
    if (st == LEVER_OK && rev)
        *rev = r;
    return st;
}

lever_status lever_prefetch(lever *c)
{
    if (c->prefix[0] == '\0')
        return fail(c, LEVER_E_INVALID, "lever_prefetch: the handle has no prefix");
    return sync_prefix(c, c->conn, true, NULL, NULL, true);
}

static bool under_prefix(const lever *c, const char *name)
{
    size_t pl = strlen(c->prefix);
    return pl > 0 && strncmp(name, c->prefix, pl) == 0;
}

typedef int (*conv_fn)(const char *v, void *out);

enum { FOUND = 1, ABSENT = 0, UNUSABLE = -1 };

/* What the cache can answer for name right now. Caller holds mu. *e gets
 * the entry (NULL when none). Returns true when the answer is current. */
static bool cache_current(lever *c, const char *name, int64_t now, lvc_entry **e)
{
    *e = lvc_cache_find(&c->cache, name);
    bool under = under_prefix(c, name);
    if (under && c->live_ok)
        return true;
    if (*e && lvc_entry_fresh(*e, now, c->ttl_ms))
        return true;
    /* a recent listing vouches for names it did not contain */
    if (*e == NULL && under && c->prefetch && c->prefix_listed && c->ttl_ms > 0 &&
        now - c->prefix_confirmed < c->ttl_ms && now >= c->prefix_confirmed)
        return true;
    return false;
}

static int convert(lever *c, const char *origin, const char *name, const char *v, conv_fn conv,
                   void *out, const char *what)
{
    if (conv(v, out) == 0)
        return FOUND;
    /* The message must not show the value: it may be a secret. */
    char msg[ERR_MAX];
    snprintf(msg, sizeof msg, "%s %s: value is not a valid %s; ignored", origin, name, what);
    c->last_st = LEVER_E_PARSE;
    memcpy(c->last_msg, msg, sizeof msg);
    return UNUSABLE;
}

/* The store layer of a get. Caller holds nothing. */
static int store_get(lever *c, const char *name, conv_fn conv, void *out, const char *what,
                     lever_source *src, char *warn, size_t warnlen)
{
    lvc_entry *e;
    int rc = ABSENT;
    int64_t now = now_ms(c);
    pthread_mutex_lock(&c->mu);
    if (cache_current(c, name, now, &e)) {
        if (e && e->value) {
            rc = convert(c, "parameter", name, e->value, conv, out, what);
            if (rc == FOUND)
                *src = LEVER_SRC_CACHE;
            else
                snprintf(warn, warnlen, "%s", c->last_msg);
        }
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    pthread_mutex_unlock(&c->mu);

    /* Refresh, one request at a time; recheck first, as another thread may
     * have refreshed while this one waited for the connection. */
    pthread_mutex_lock(&c->net_mu);
    now = now_ms(c);
    pthread_mutex_lock(&c->mu);
    bool current = cache_current(c, name, now, &e);
    bool backoff = !current && c->in_backoff && now < c->retry_at;
    pthread_mutex_unlock(&c->mu);
    lever_status st = LEVER_OK;
    lever_source fresh_src = current ? LEVER_SRC_CACHE : LEVER_SRC_STORE;
    if (!current && !backoff) {
        if (under_prefix(c, name) && c->prefetch && c->ttl_ms > 0) {
            json_t *params;
            st = list_json(c, c->conn, false, c->path, true, true, &params, NULL);
            if (st == LEVER_OK) {
                st = apply_listing(c, params, now_ms(c), NULL, true);
                json_decref(params);
            }
        } else {
            json_t *p = NULL;
            st = get_param_json(c, c->conn, false, name, true, &p);
            if (st == LEVER_OK || st == LEVER_E_NOT_FOUND) {
                pthread_mutex_lock(&c->mu);
                int r = lvc_cache_set(&c->cache, name, p ? json_string_value(json_object_get(p, "Value")) : NULL,
                                      p ? json_string_value(json_object_get(p, "Type")) : NULL,
                                      p ? (int64_t)json_integer_value(json_object_get(p, "Version")) : 0,
                                      now_ms(c));
                pthread_mutex_unlock(&c->mu);
                if (p)
                    json_decref(p);
                st = r < 0 ? fail(c, LEVER_E_NOMEM, "out of memory filling the cache") : LEVER_OK;
            }
        }
        pthread_mutex_lock(&c->mu);
        c->in_backoff = st != LEVER_OK;
        if (c->in_backoff)
            c->retry_at = now_ms(c) + RETRY_AFTER_MS;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&c->net_mu);

    pthread_mutex_lock(&c->mu);
    e = lvc_cache_find(&c->cache, name);
    bool ok = current || (!backoff && st == LEVER_OK);
    if (e && e->value) {
        rc = convert(c, "parameter", name, e->value, conv, out, what);
        if (rc == FOUND)
            *src = ok ? fresh_src : LEVER_SRC_CACHE_STALE;
        else
            snprintf(warn, warnlen, "%s", c->last_msg);
    } else if (!ok && backoff) {
        /* the failure that started the back-off is still the reason */
        if (c->last_st == LEVER_OK) {
            c->last_st = LEVER_E_UNREACHABLE;
            snprintf(c->last_msg, sizeof c->last_msg,
                     "%s: not fetched, the last request to %s failed less than %d ms ago", name,
                     c->endpoint, RETRY_AFTER_MS);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* env > store > default. Returns true when a layer supplied the value. */
static bool resolve(lever *c, const char *key, conv_fn conv, void *out, const char *what,
                    lever_source *src)
{
    lever_source dummy;
    if (src == NULL)
        src = &dummy;
    *src = LEVER_SRC_DEFAULT;
    if (key == NULL || *key == '\0') {
        fail(c, LEVER_E_INVALID, "empty key");
        return false;
    }
    /* Names are built on the stack: a cached get should not allocate. Keys
     * too long for the buffers take the allocating path. */
    char warn[ERR_MAX], envbuf[256], namebuf[512];
    warn[0] = '\0';
    char *env = NULL, *env_heap = NULL;
    long el = lvc_env_name_into(c->prefix, key, c->env_scheme, c->env_prefix, envbuf, sizeof envbuf);
    if (el >= 0)
        env = envbuf;
    else if (el == -2 && (env = env_heap = lvc_env_name(c->prefix, key, c->env_scheme, c->env_prefix)) == NULL) {
        fail(c, LEVER_E_NOMEM, "out of memory mapping %s to an env name", key);
        return false;
    }
    if (env) {
        const char *v = getenv(env);
        if (v != NULL) {
            pthread_mutex_lock(&c->mu);
            int rc = convert(c, "environment variable", env, v, conv, out, what);
            if (rc != FOUND)
                snprintf(warn, sizeof warn, "%s", c->last_msg);
            pthread_mutex_unlock(&c->mu);
            if (rc == FOUND) {
                free(env_heap);
                *src = LEVER_SRC_ENV;
                return true;
            }
            logf_(c, LEVER_LOG_WARN, "lever: %s", warn);
        }
        free(env_heap);
    }
    char *name = namebuf, *name_heap = NULL;
    if (lvc_full_name_into(c->prefix, key, namebuf, sizeof namebuf) < 0 &&
        (name = name_heap = lvc_full_name(c->prefix, key)) == NULL) {
        fail(c, LEVER_E_NOMEM, "out of memory");
        return false;
    }
    warn[0] = '\0';
    int rc = store_get(c, name, conv, out, what, src, warn, sizeof warn);
    free(name_heap);
    if (warn[0])
        logf_(c, LEVER_LOG_WARN, "lever: %s", warn);
    return rc == FOUND;
}

static int conv_str(const char *v, void *out)
{
    char *s = strdup(v);
    if (s == NULL)
        return -1;
    *(char **)out = s;
    return 0;
}
static int conv_int(const char *v, void *out) { return lvc_parse_int(v, out); }
static int conv_double(const char *v, void *out) { return lvc_parse_double(v, out); }
static int conv_bool(const char *v, void *out) { return lvc_parse_bool(v, out); }
static int conv_dur(const char *v, void *out) { return lvc_parse_duration_ms(v, out); }
typedef struct listout {
    char **l;
    size_t n;
} listout;
static int conv_list(const char *v, void *out)
{
    listout *lo = out;
    lo->l = lvc_split_list(v, &lo->n);
    return lo->l ? 0 : -1;
}

char *lever_get_string(lever *c, const char *key, const char *def, lever_source *src)
{
    char *v = NULL;
    if (resolve(c, key, conv_str, &v, "string", src))
        return v;
    if (def == NULL)
        return NULL;
    v = strdup(def);
    if (v == NULL)
        fail(c, LEVER_E_NOMEM, "out of memory copying the default of %s", key);
    return v;
}

int64_t lever_get_int(lever *c, const char *key, int64_t def, lever_source *src)
{
    int64_t v;
    return resolve(c, key, conv_int, &v, "integer", src) ? v : def;
}

double lever_get_double(lever *c, const char *key, double def, lever_source *src)
{
    double v;
    return resolve(c, key, conv_double, &v, "number", src) ? v : def;
}

bool lever_get_bool(lever *c, const char *key, bool def, lever_source *src)
{
    bool v;
    return resolve(c, key, conv_bool, &v, "boolean", src) ? v : def;
}

int64_t lever_get_duration_ms(lever *c, const char *key, int64_t def_ms, lever_source *src)
{
    int64_t v;
    return resolve(c, key, conv_dur, &v, "duration", src) ? v : def_ms;
}

char **lever_get_list(lever *c, const char *key, const char *def, size_t *count, lever_source *src)
{
    listout lo = {NULL, 0};
    if (!resolve(c, key, conv_list, &lo, "list", src)) {
        lo.l = lvc_split_list(def, &lo.n);
        if (lo.l == NULL)
            fail(c, LEVER_E_NOMEM, "out of memory building a list for %s", key);
    }
    if (count)
        *count = lo.l ? lo.n : 0;
    return lo.l;
}

char *lever_env_name(lever *c, const char *key)
{
    return key ? lvc_env_name(c->prefix, key, c->env_scheme, c->env_prefix) : NULL;
}

/* ---------------------------------------------------------- live mode */

lever_status lever_subscribe(lever *c, const char *key, lever_change_fn fn, void *user, uint64_t *id)
{
    if (fn == NULL)
        return fail(c, LEVER_E_INVALID, "lever_subscribe: NULL callback");
    char *name = NULL;
    if (key && (name = lvc_full_name(c->prefix, key)) == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory");
    pthread_mutex_lock(&c->mu);
    if (c->nsubs == c->capsubs) {
        size_t cap = c->capsubs ? c->capsubs * 2 : 8;
        sub *ns = realloc(c->subs, cap * sizeof *ns);
        if (ns == NULL) {
            pthread_mutex_unlock(&c->mu);
            free(name);
            return fail(c, LEVER_E_NOMEM, "out of memory");
        }
        c->subs = ns;
        c->capsubs = cap;
    }
    uint64_t nid = ++c->next_sub;
    c->subs[c->nsubs++] = (sub){nid, name, fn, user};
    pthread_mutex_unlock(&c->mu);
    if (id)
        *id = nid;
    return LEVER_OK;
}

lever_status lever_unsubscribe(lever *c, uint64_t id)
{
    /* cb_mu first: once held, no callback of this handle is running */
    pthread_mutex_lock(&c->cb_mu);
    pthread_mutex_lock(&c->mu);
    lever_status st = LEVER_E_NOT_FOUND;
    for (size_t i = 0; i < c->nsubs; i++) {
        if (c->subs[i].id == id) {
            free(c->subs[i].name);
            c->subs[i] = c->subs[--c->nsubs];
            st = LEVER_OK;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_unlock(&c->cb_mu);
    return st;
}

bool lever_live_connected(lever *c)
{
    pthread_mutex_lock(&c->mu);
    bool v = c->live_ok;
    pthread_mutex_unlock(&c->mu);
    return v;
}

void lever_live_stats(lever *c, uint64_t *relists, uint64_t *reconnects)
{
    pthread_mutex_lock(&c->mu);
    if (relists)
        *relists = c->relists;
    if (reconnects)
        *reconnects = c->reconnects;
    pthread_mutex_unlock(&c->mu);
}

static void dispatch(lever *c, evlist *ev)
{
    if (ev->n == 0)
        return;
    pthread_mutex_lock(&c->cb_mu);
    for (size_t i = 0; i < ev->n && !atomic_load(&c->stopping); i++) {
        /* copy the matching subscribers so callbacks run without mu */
        sub local[16];
        size_t n = 0, done = 0;
        for (;;) {
            pthread_mutex_lock(&c->mu);
            size_t seen = 0;
            n = 0;
            for (size_t s = 0; s < c->nsubs && n < 16; s++) {
                if (c->subs[s].name && strcmp(c->subs[s].name, ev->v[i].name) != 0)
                    continue;
                if (seen++ < done)
                    continue;
                local[n++] = c->subs[s];
            }
            pthread_mutex_unlock(&c->mu);
            for (size_t k = 0; k < n; k++)
                local[k].fn(c, lvc_rel_key(c->prefix, ev->v[i].name), ev->v[i].name, ev->v[i].value,
                            local[k].user);
            done += n;
            if (n < 16)
                break;
        }
    }
    pthread_mutex_unlock(&c->cb_mu);
}

static void set_live(lever *c, bool ok)
{
    pthread_mutex_lock(&c->mu);
    c->live_ok = ok;
    if (ok)
        c->prefix_confirmed = now_ms(c);
    pthread_mutex_unlock(&c->mu);
}

/* Sleeps up to ms, waking early when the handle closes. */
static void nap(lever *c, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&c->wait_mu);
    while (!atomic_load(&c->stopping))
        if (pthread_cond_timedwait(&c->wait_cv, &c->wait_mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&c->wait_mu);
}

/* Applies one watch answer: re-fetches names that were put, marks deleted
 * ones absent. Only the last change per name matters. */
static lever_status apply_changes(lever *c, json_t *changes, evlist *ev)
{
    size_t n = json_array_size(changes);
    for (size_t i = 0; i < n; i++) {
        json_t *ch = json_array_get(changes, i);
        const char *kind = json_string_value(json_object_get(ch, "Kind"));
        const char *name = json_string_value(json_object_get(ch, "Name"));
        if (kind == NULL || name == NULL)
            continue;
        bool put = strcmp(kind, "Put") == 0;
        bool del = strcmp(kind, "Delete") == 0 || strcmp(kind, "Expire") == 0;
        if (!put && !del)
            continue; /* labels, tags, notifications leave the value as it is */
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++) {
            const char *nm = json_string_value(json_object_get(json_array_get(changes, j), "Name"));
            const char *k2 = json_string_value(json_object_get(json_array_get(changes, j), "Kind"));
            later = nm && k2 && strcmp(nm, name) == 0 &&
                    (strcmp(k2, "Put") == 0 || strcmp(k2, "Delete") == 0 || strcmp(k2, "Expire") == 0);
        }
        if (later)
            continue;
        json_t *p = NULL;
        if (put) {
            lever_status st = get_param_json(c, c->wconn, false, name, true, &p);
            if (st == LEVER_E_NOT_FOUND)
                p = NULL; /* deleted again since */
            else if (st != LEVER_OK)
                return st;
        }
        pthread_mutex_lock(&c->mu);
        int r = lvc_cache_set(&c->cache, name, p ? json_string_value(json_object_get(p, "Value")) : NULL,
                              p ? json_string_value(json_object_get(p, "Type")) : NULL,
                              p ? (int64_t)json_integer_value(json_object_get(p, "Version")) : 0,
                              now_ms(c));
        lvc_entry *e = r >= 0 ? lvc_cache_find(&c->cache, name) : NULL;
        if (e)
            announce(e, ev, false);
        pthread_mutex_unlock(&c->mu);
        if (p)
            json_decref(p);
        if (r < 0)
            return fail(c, LEVER_E_NOMEM, "out of memory applying a change to %s", name);
    }
    return LEVER_OK;
}

static void *live_main(void *arg)
{
    lever *c = arg;
    bool need_list = true, first = true, polling = false;
    /* fallback polling period: the cache TTL, but not busier than 1/s */
    const int64_t poll_ms = c->ttl_ms > 1000 ? c->ttl_ms : 1000;
    uint64_t rev = 0;
    int64_t backoff = 100;
    const int64_t backoff_max = 30000;
    while (!atomic_load(&c->stopping)) {
        evlist ev = {0};
        lever_status st;
        if (need_list) {
            st = sync_prefix(c, c->wconn, false, &rev, &ev, first);
            if (st == LEVER_OK && polling) {
                /* no watch on this server: the listing is the poll */
                first = false;
                dispatch(c, &ev);
                ev_free(&ev);
                nap(c, poll_ms);
                continue;
            }
            if (st == LEVER_OK) {
                need_list = false;
                first = false;
                pthread_mutex_lock(&c->mu);
                c->relists++;
                pthread_mutex_unlock(&c->mu);
                logf_(c, LEVER_LOG_DEBUG, "lever: listed %s at revision %llu", c->path,
                      (unsigned long long)rev);
            }
        } else {
            json_t *ans = NULL;
            st = watch_json(c, c->wconn, false, c->path, true, rev, c->watch_wait_s, &ans);
            if (st == LEVER_OK) {
                set_live(c, true);
                json_t *changes = json_object_get(ans, "Changes");
                logf_(c, LEVER_LOG_DEBUG, "lever: watch from %llu: %zu changes, revision %lld",
                      (unsigned long long)rev, json_array_size(changes),
                      (long long)json_integer_value(json_object_get(ans, "Revision")));
                st = apply_changes(c, changes, &ev);
                json_t *r = json_object_get(ans, "Revision");
                if (st == LEVER_OK && json_is_integer(r)) {
                    uint64_t nr = (uint64_t)json_integer_value(r);
                    if (nr < rev) {
                        /* revisions went backwards: another store behind the
                         * same endpoint; nothing we hold can be trusted */
                        logf_(c, LEVER_LOG_WARN, "lever: server revision %llu is behind ours (%llu); listing again",
                              (unsigned long long)nr, (unsigned long long)rev);
                        need_list = true;
                    } else {
                        rev = nr;
                    }
                }
                json_decref(ans);
            }
        }
        if (ev.oom)
            logf_(c, LEVER_LOG_ERROR, "lever: out of memory queueing change callbacks; some were dropped");
        dispatch(c, &ev);
        ev_free(&ev);
        if (atomic_load(&c->stopping))
            break;
        if (st == LEVER_OK) {
            backoff = 100;
            continue;
        }
        set_live(c, false);
        if (st == LEVER_E_COMPACTED) {
            logf_(c, LEVER_LOG_INFO, "lever: revision %llu compacted on the server; listing %s again",
                  (unsigned long long)rev, c->path);
            need_list = true;
            continue;
        }
        if (st == LEVER_E_UNSUPPORTED) {
            logf_(c, LEVER_LOG_WARN,
                  "lever: the server does not support Lever.WatchParameters; live mode falls back to "
                  "listing %s every %lld ms", c->path, (long long)poll_ms);
            polling = true;
            need_list = true;
            nap(c, poll_ms);
            continue;
        }
        char msg[ERR_MAX];
        lever_last_error(c, msg, sizeof msg);
        logf_(c, LEVER_LOG_WARN, "lever: watch of %s failed (%s); retrying in %lld ms", c->path, msg,
              (long long)backoff);
        pthread_mutex_lock(&c->mu);
        c->reconnects++;
        pthread_mutex_unlock(&c->mu);
        /* Watch again from the same revision: a server that restarted and
         * no longer holds the changes since then answers "compacted", so
         * a re-list happens exactly when something may have been missed
         * (and thousands of clients do not all re-list after a blip). */
        nap(c, backoff);
        backoff = backoff * 2 > backoff_max ? backoff_max : backoff * 2;
    }
    set_live(c, false);
    return NULL;
}

/* ------------------------------------------------------------ generic call */

lever_status lever_call_json(lever *c, const char *target, const char *request_json, char **answer_json)
{
    if (c == NULL || target == NULL || answer_json == NULL)
        return c ? fail(c, LEVER_E_INVALID, "lever_call_json: NULL argument") : LEVER_E_INVALID;
    *answer_json = NULL;
    json_error_t je;
    json_t *req = request_json ? json_loads(request_json, 0, &je) : json_object();
    if (req == NULL)
        return fail(c, request_json ? LEVER_E_INVALID : LEVER_E_NOMEM, "request body: %s",
                    request_json ? je.text : "out of memory");
    if (!json_is_object(req)) {
        json_decref(req);
        return fail(c, LEVER_E_INVALID, "request body: not a JSON object");
    }
    json_t *ans = NULL;
    lever_status st = simple(c, target, req, &ans);
    if (st != LEVER_OK)
        return st;
    char *text = json_dumps(ans, JSON_COMPACT);
    json_decref(ans);
    if (text == NULL)
        return fail(c, LEVER_E_NOMEM, "out of memory");
    *answer_json = text;
    return LEVER_OK;
}
