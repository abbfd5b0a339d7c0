/* lever.c - liblever's handle: status names, errors and logging, options,
 * open and close. The SSM calls are in ssm.c, the layered getters over the
 * cache in getters.c, live mode in live.c (lever_int.h is their shared
 * inside). */
#include "lever/lever.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "client/config.h"
#include "client/handle.h"
#include "client/lever_int.h"
#include "client/parse.h"

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

int64_t lvl_now(const lever *c)
{
    return c->clock(c->clock_user);
}

void lvl_logf(lever *c, lever_log_level lvl, const char *fmt, ...)
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
lever_status lvl_fail(lever *c, lever_status st, const char *fmt, ...)
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
int64_t lvc_h_now(const lever *c) { return lvl_now(c); }
struct lvc_ac **lvc_h_ac_slot(lever *c) { return &c->ac; }
const char *lvc_h_client_id(const lever *c) { return c->client_id; }
void lvc_h_env(const lever *c, int *scheme, const char **env_prefix)
{
    *scheme = c->env_scheme;
    *env_prefix = c->env_prefix;
}
void lvc_h_options_env(const lever_options *o, int *scheme, const char **env_prefix)
{
    *scheme = o->env_scheme;
    *env_prefix = o->env_prefix ? o->env_prefix : "";
}
lever_status lvc_h_fail(lever *c, lever_status st, const char *msg) { return lvl_fail(c, st, "%s", msg); }
void lvc_h_log(lever *c, lever_log_level level, const char *msg) { lvl_logf(c, level, "%s", msg); }
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
    if (c->client_id == NULL) {
        /* One id per handle for every bucketed read (configurations and
         * label rollouts alike). */
        unsigned char rnd[12] = {0};
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            memset(rnd, 0, sizeof rnd);
        if ((c->client_id = malloc(sizeof "liblever-" + 2 * sizeof rnd)) == NULL)
            goto err;
        char *p = c->client_id + sprintf(c->client_id, "liblever-");
        for (size_t i = 0; i < sizeof rnd; i++)
            p += sprintf(p, "%02x", rnd[i]);
    }
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
    lvl_logf(c, LEVER_LOG_DEBUG, "lever: endpoint %s, region %s, credentials from %s", c->endpoint,
          c->region, src);
    if (c->live) {
        c->wconn = lvc_conn_new_interruptible();
        if (c->wconn == NULL)
            goto err;
        if (pthread_create(&c->thread, NULL, lvl_live_main, c) != 0) {
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

