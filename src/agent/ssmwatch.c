/* ssmwatch.c - the watch thread of each prefetched prefix of lever-agent:
 * lists the prefix, then follows Lever.WatchParameters, fetching each
 * changed value before applying the changes in order; lists again when the
 * watch cannot go on (compacted, revision gone back, a partial apply), and
 * on an upstream without the watch every TTL. */
#include "agent/agent_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* GetParameter. On LEVER_OK *json (malloc'd compact text), secure and
 * version describe the Parameter. */
static lever_status get_parameter(lva_agent *a, lvc_conn *c, const char *sel, bool decrypt, lvc_reply *r,
                                  char **json, bool *secure, int64_t *version, char *err, size_t errlen)
{
    return lva_get_parameter_ex(a, c, sel, decrypt, NULL, NULL, r, json, secure, version, err, errlen);
}


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

void *lva_watch_main(void *arg)
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
