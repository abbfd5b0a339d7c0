/* live.c - liblever's live mode: change subscriptions, and the thread that
 * lists the prefix, then follows Lever.WatchParameters to keep the cache
 * current and calls back on change (with compaction, back-off and the
 * polling fallback). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "client/lever_int.h"
#include "client/parse.h"

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
void lvl_announce(lvc_entry *e, evlist *ev, bool quiet)
{
    int64_t cur = e->value ? e->version : 0;
    if (cur == e->announced)
        return;
    if (!quiet)
        ev_add(ev, e->name, e->value);
    e->announced = cur;
}

/* ---------------------------------------------------------- live mode */

lever_status lever_subscribe(lever *c, const char *key, lever_change_fn fn, void *user, uint64_t *id)
{
    if (fn == NULL)
        return lvl_fail(c, LEVER_E_INVALID, "lever_subscribe: NULL callback");
    char *name = NULL;
    if (key && (name = lvc_full_name(c->prefix, key)) == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
    pthread_mutex_lock(&c->mu);
    if (c->nsubs == c->capsubs) {
        size_t cap = c->capsubs ? c->capsubs * 2 : 8;
        sub *ns = realloc(c->subs, cap * sizeof *ns);
        if (ns == NULL) {
            pthread_mutex_unlock(&c->mu);
            free(name);
            return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
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
        c->prefix_confirmed = lvl_now(c);
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
            lever_status st = lvl_get_param_json(c, c->wconn, false, name, true, &p);
            if (st == LEVER_E_NOT_FOUND)
                p = NULL; /* deleted again since */
            else if (st != LEVER_OK)
                return st;
        }
        pthread_mutex_lock(&c->mu);
        int r = lvc_cache_set(&c->cache, name, p ? json_string_value(json_object_get(p, "Value")) : NULL,
                              p ? json_string_value(json_object_get(p, "Type")) : NULL,
                              p ? (int64_t)json_integer_value(json_object_get(p, "Version")) : 0,
                              lvl_now(c));
        lvc_entry *e = r >= 0 ? lvc_cache_find(&c->cache, name) : NULL;
        if (e)
            lvl_announce(e, ev, false);
        pthread_mutex_unlock(&c->mu);
        if (p)
            json_decref(p);
        if (r < 0)
            return lvl_fail(c, LEVER_E_NOMEM, "out of memory applying a change to %s", name);
    }
    return LEVER_OK;
}

void *lvl_live_main(void *arg)
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
            st = lvl_sync_prefix(c, c->wconn, false, &rev, &ev, first);
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
                lvl_logf(c, LEVER_LOG_DEBUG, "lever: listed %s at revision %llu", c->path,
                      (unsigned long long)rev);
            }
        } else {
            json_t *ans = NULL;
            st = lvl_watch_json(c, c->wconn, false, c->path, true, rev, c->watch_wait_s, &ans);
            if (st == LEVER_OK) {
                set_live(c, true);
                json_t *changes = json_object_get(ans, "Changes");
                lvl_logf(c, LEVER_LOG_DEBUG, "lever: watch from %llu: %zu changes, revision %lld",
                      (unsigned long long)rev, json_array_size(changes),
                      (long long)json_integer_value(json_object_get(ans, "Revision")));
                st = apply_changes(c, changes, &ev);
                json_t *r = json_object_get(ans, "Revision");
                if (st == LEVER_OK && json_is_integer(r)) {
                    uint64_t nr = (uint64_t)json_integer_value(r);
                    if (nr < rev) {
                        /* revisions went backwards: another store behind the
                         * same endpoint; nothing we hold can be trusted */
                        lvl_logf(c, LEVER_LOG_WARN, "lever: server revision %llu is behind ours (%llu); listing again",
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
            lvl_logf(c, LEVER_LOG_ERROR, "lever: out of memory queueing change callbacks; some were dropped");
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
            lvl_logf(c, LEVER_LOG_INFO, "lever: revision %llu compacted on the server; listing %s again",
                  (unsigned long long)rev, c->path);
            need_list = true;
            continue;
        }
        if (st == LEVER_E_UNSUPPORTED) {
            lvl_logf(c, LEVER_LOG_WARN,
                  "lever: the server does not support Lever.WatchParameters; live mode falls back to "
                  "listing %s every %lld ms", c->path, (long long)poll_ms);
            polling = true;
            need_list = true;
            nap(c, poll_ms);
            continue;
        }
        char msg[ERR_MAX];
        lever_last_error(c, msg, sizeof msg);
        lvl_logf(c, LEVER_LOG_WARN, "lever: watch of %s failed (%s); retrying in %lld ms", c->path, msg,
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

