/* getters.c - liblever's typed getters: environment > store (through the
 * TTL cache, prefix listings, stale-if-error with a retry back-off) >
 * default, reporting which layer answered. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/config.h"
#include "client/lever_int.h"
#include "client/parse.h"

enum { RETRY_AFTER_MS = 1000 };

/* Replaces the cache's view of the prefix with a listing (array of
 * Parameter objects), all under one lock so concurrent syncs never
 * interleave. ev (may be NULL) collects live events. */
lever_status lvl_apply_listing(lever *c, json_t *params, int64_t now, evlist *ev, bool quiet)
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
                        lvl_announce(e, ev, quiet);
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (st != LEVER_OK)
        lvl_fail(c, st, "out of memory filling the cache");
    return st;
}

/* Lists the prefix on conn and applies it. rev (may be NULL) gets the
 * listing's revision. */
lever_status lvl_sync_prefix(lever *c, lvc_conn *conn, bool shared, uint64_t *rev, evlist *ev,
                                bool quiet)
{
    json_t *params;
    uint64_t r = 0;
    lever_status st = lvl_list_json(c, conn, shared, c->path, true, true, &params, &r);
    if (st != LEVER_OK)
        return st;
    st = lvl_apply_listing(c, params, lvl_now(c), ev, quiet);
    json_decref(params);
    if (st == LEVER_OK && rev)
        *rev = r;
    return st;
}

lever_status lever_prefetch(lever *c)
{
    if (c->prefix[0] == '\0')
        return lvl_fail(c, LEVER_E_INVALID, "lever_prefetch: the handle has no prefix");
    return lvl_sync_prefix(c, c->conn, true, NULL, NULL, true);
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
    int64_t now = lvl_now(c);
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
    now = lvl_now(c);
    pthread_mutex_lock(&c->mu);
    bool current = cache_current(c, name, now, &e);
    bool backoff = !current && c->in_backoff && now < c->retry_at;
    pthread_mutex_unlock(&c->mu);
    lever_status st = LEVER_OK;
    lever_source fresh_src = current ? LEVER_SRC_CACHE : LEVER_SRC_STORE;
    if (!current && !backoff) {
        if (under_prefix(c, name) && c->prefetch && c->ttl_ms > 0) {
            json_t *params;
            st = lvl_list_json(c, c->conn, false, c->path, true, true, &params, NULL);
            if (st == LEVER_OK) {
                st = lvl_apply_listing(c, params, lvl_now(c), NULL, true);
                json_decref(params);
            }
        } else {
            json_t *p = NULL;
            st = lvl_get_param_json(c, c->conn, false, name, true, &p);
            if (st == LEVER_OK || st == LEVER_E_NOT_FOUND) {
                pthread_mutex_lock(&c->mu);
                int r = lvc_cache_set(&c->cache, name, p ? json_string_value(json_object_get(p, "Value")) : NULL,
                                      p ? json_string_value(json_object_get(p, "Type")) : NULL,
                                      p ? (int64_t)json_integer_value(json_object_get(p, "Version")) : 0,
                                      lvl_now(c));
                pthread_mutex_unlock(&c->mu);
                if (p)
                    json_decref(p);
                st = r < 0 ? lvl_fail(c, LEVER_E_NOMEM, "out of memory filling the cache") : LEVER_OK;
            }
        }
        pthread_mutex_lock(&c->mu);
        c->in_backoff = st != LEVER_OK;
        if (c->in_backoff)
            c->retry_at = lvl_now(c) + RETRY_AFTER_MS;
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
        lvl_fail(c, LEVER_E_INVALID, "empty key");
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
        lvl_fail(c, LEVER_E_NOMEM, "out of memory mapping %s to an env name", key);
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
            lvl_logf(c, LEVER_LOG_WARN, "lever: %s", warn);
        }
        free(env_heap);
    }
    char *name = namebuf, *name_heap = NULL;
    if (lvc_full_name_into(c->prefix, key, namebuf, sizeof namebuf) < 0 &&
        (name = name_heap = lvc_full_name(c->prefix, key)) == NULL) {
        lvl_fail(c, LEVER_E_NOMEM, "out of memory");
        return false;
    }
    warn[0] = '\0';
    int rc = store_get(c, name, conv, out, what, src, warn, sizeof warn);
    free(name_heap);
    if (warn[0])
        lvl_logf(c, LEVER_LOG_WARN, "lever: %s", warn);
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
        lvl_fail(c, LEVER_E_NOMEM, "out of memory copying the default of %s", key);
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
            lvl_fail(c, LEVER_E_NOMEM, "out of memory building a list for %s", key);
    }
    if (count)
        *count = lo.l ? lo.n : 0;
    return lo.l;
}

char *lever_env_name(lever *c, const char *key)
{
    return key ? lvc_env_name(c->prefix, key, c->env_scheme, c->env_prefix) : NULL;
}

