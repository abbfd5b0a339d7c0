/* acwatch.c - the watch thread of liblever's AppConfig configurations
 * (Lever.WatchConfigurations, carrying the served-share report): it keeps
 * the subscribed and read configurations current, calling back the
 * subscriptions of those that changed; and subscribe/unsubscribe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "client/appconfig_int.h"

enum { BACKOFF_MIN_MS = 100, BACKOFF_MAX_MS = 5000 };

typedef struct job {
    char *key;
    char app[LVC_AC_NAME_MAX], env[LVC_AC_NAME_MAX], profile[LVC_AC_NAME_MAX];
    bool stored;
} job;

/* Re-validates every watched configuration; calls back for the changed
 * ones. Returns LEVER_OK or the outage that stopped it. */
static lever_status refresh(lever *c, struct lvc_ac *a, char *err, size_t errlen)
{
    pthread_mutex_lock(&a->mu);
    size_t n = 0;
    job *jobs = calloc(a->n ? a->n : 1, sizeof *jobs);
    for (size_t i = 0; jobs && i < a->n; i++) {
        centry *e = a->ents[i];
        if (!e->watched)
            continue;
        jobs[n].key = strdup(e->key);
        memcpy(jobs[n].app, e->app, LVC_AC_NAME_MAX);
        memcpy(jobs[n].env, e->env, LVC_AC_NAME_MAX);
        memcpy(jobs[n].profile, e->profile, LVC_AC_NAME_MAX);
        jobs[n].stored = e->stored;
        n++;
    }
    pthread_mutex_unlock(&a->mu);
    if (jobs == NULL) {
        snprintf(err, errlen, "out of memory");
        return LEVER_E_NOMEM;
    }
    lever_status st = LEVER_OK;
    for (size_t i = 0; i < n && st == LEVER_OK && !atomic_load(&a->stopping); i++) {
        if (jobs[i].key == NULL)
            continue;
        lvc_raw r;
        bool changed = false;
        lever_configuration *snap = NULL;
        lever_status fs = lvc_ac_sync_entry(c, a, a->wconn, NULL, jobs[i].app, jobs[i].env, jobs[i].profile,
                                            jobs[i].stored, jobs[i].key, false, &changed, &snap, &r, err, errlen);
        if (fs != LEVER_OK) {
            if (lvc_ac_outage(fs, &r))
                st = fs;
            lvc_raw_clear(&r);
            continue;
        }
        if (!changed) {
            lever_configuration_free(snap);
            snap = NULL;
        }
        pthread_mutex_lock(&a->mu);
        /* the callbacks of this key, copied so none runs under mu */
        size_t ns = 0;
        csub *calls = changed ? calloc(a->nsubs ? a->nsubs : 1, sizeof *calls) : NULL;
        for (size_t k = 0; calls && k < a->nsubs; k++)
            if (strcmp(a->subs[k].key, jobs[i].key) == 0)
                calls[ns++] = a->subs[k];
        pthread_mutex_unlock(&a->mu);
        if (snap && calls) {
            pthread_mutex_lock(&a->cb_mu);
            for (size_t k = 0; k < ns; k++) {
                /* still subscribed? (unsubscribe waits on cb_mu, so this holds) */
                bool live = false;
                pthread_mutex_lock(&a->mu);
                for (size_t m = 0; m < a->nsubs && !live; m++)
                    live = a->subs[m].id == calls[k].id;
                pthread_mutex_unlock(&a->mu);
                if (live)
                    calls[k].fn(c, jobs[i].app, jobs[i].env, jobs[i].profile, snap, calls[k].user);
            }
            pthread_mutex_unlock(&a->cb_mu);
        }
        free(calls);
        lever_configuration_free(snap);
    }
    for (size_t i = 0; i < n; i++)
        free(jobs[i].key);
    free(jobs);
    return st;
}

static void nap(struct lvc_ac *a, int64_t ms)
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
    if (!atomic_load(&a->stopping))
        pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    pthread_mutex_unlock(&a->mu);
}

/* The Served member of the next watch call (acserved.c). */
static void attach_served(struct lvc_ac *a, json_t *body)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; arr && i < a->n; i++) {
        centry *e = a->ents[i];
        lvc_served_mark_report(&e->served, &e->ro, lvc_ac_side_for(e, a->client_id)->version, arr);
    }
    pthread_mutex_unlock(&a->mu);
    lvc_served_attach(body, arr);
}

static void *watch_main(void *arg)
{
    lever *c = arg;
    struct lvc_ac *a = *lvc_h_ac_slot(c);
    lvc_h_settings set;
    lvc_h_get_settings(c, &set);
    char err[1024];
    int64_t backoff = 0;
    bool need_sync = false;
    while (!atomic_load(&a->stopping)) {
        lever_status st = LEVER_OK;
        if (need_sync && (st = refresh(c, a, err, sizeof err)) == LEVER_OK)
            need_sync = false;
        pthread_mutex_lock(&a->mu);
        bool connected = a->watching;
        uint64_t since = a->revision;
        pthread_mutex_unlock(&a->mu);
        lvc_reply rep = {0};
        if (st == LEVER_OK) {
            int wait = connected ? set.watch_wait_s : 0;
            json_t *body = json_pack("{s:I, s:i, s:i}", "SinceRevision", (json_int_t)since, "WaitSeconds", wait,
                                     "MaxChanges", 1000);
            if (body)
                attach_served(a, body);
            st = body ? lvc_call(a->wconn, lvc_h_server(c), "Lever.WatchConfigurations", body,
                                 (long)wait * 1000 + (long)set.timeout_ms, &rep, err, sizeof err)
                      : LEVER_E_NOMEM;
            json_decref(body);
        }
        if (st == LEVER_OK) {
            json_t *rev = json_object_get(rep.body, "Revision");
            uint64_t next = json_is_integer(rev) && json_integer_value(rev) >= 0 ? (uint64_t)json_integer_value(rev)
                                                                               : since;
            if (json_array_size(json_object_get(rep.body, "Changes")) > 0 || !connected || next < since)
                st = refresh(c, a, err, sizeof err);
            if (st == LEVER_OK) {
                pthread_mutex_lock(&a->mu);
                a->revision = next;
                a->watching = true;
                pthread_mutex_unlock(&a->mu);
                backoff = 0;
            }
        } else if (st == LEVER_E_COMPACTED) {
            json_t *cur = json_object_get(rep.body, "CurrentRevision");
            pthread_mutex_lock(&a->mu);
            a->revision = json_is_integer(cur) && json_integer_value(cur) >= 0 ? (uint64_t)json_integer_value(cur) : 0;
            a->watching = false;
            pthread_mutex_unlock(&a->mu);
            need_sync = true;
            st = LEVER_OK;
        } else if (st == LEVER_E_UNSUPPORTED || st == LEVER_E_AUTH) {
            /* no watch upstream (or not allowed for this key): the cache
             * TTL applies (entries stop being "watched") */
            lvc_h_log(c, LEVER_LOG_WARN, "lever: no Lever.WatchConfigurations for this handle; configurations "
                                         "follow the cache TTL");
            pthread_mutex_lock(&a->mu);
            for (size_t i = 0; i < a->n; i++)
                a->ents[i]->watched = false;
            a->watching = false;
            pthread_mutex_unlock(&a->mu);
            lvc_reply_clear(&rep);
            break;
        }
        lvc_reply_clear(&rep);
        if (st != LEVER_OK && !atomic_load(&a->stopping)) {
            pthread_mutex_lock(&a->mu);
            a->watching = false;
            pthread_mutex_unlock(&a->mu);
            need_sync = true;
            backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
            if (backoff > BACKOFF_MAX_MS)
                backoff = BACKOFF_MAX_MS;
            nap(a, backoff);
        }
    }
    return NULL;
}

lever_status lvc_ac_start_watch(lever *c, struct lvc_ac *a)
{
    pthread_mutex_lock(&a->mu);
    lever_status st = LEVER_OK;
    if (!a->thread_started) {
        if (a->wconn == NULL)
            a->wconn = lvc_conn_new_interruptible();
        if (a->wconn == NULL)
            st = LEVER_E_NOMEM;
        else if (pthread_create(&a->thread, NULL, watch_main, c) != 0)
            st = LEVER_E_NOMEM;
        else
            a->thread_started = true;
    }
    pthread_mutex_unlock(&a->mu);
    return st == LEVER_OK ? st : lvc_h_fail(c, st, "cannot start the configuration watch thread");
}

lever_status lever_subscribe_configuration(lever *c, const char *app, const char *env, const char *profile,
                                           lever_configuration_fn fn, void *user, uint64_t *id)
{
    return lvc_ac_subscribe(c, app, env, profile, false, fn, user, id);
}

lever_status lvc_ac_subscribe(lever *c, const char *app, const char *env, const char *profile, bool stored,
                              lever_configuration_fn fn, void *user, uint64_t *id)
{
    if (fn == NULL)
        return lvc_h_fail(c, LEVER_E_INVALID, "a callback is required");
    lever_configuration *cfg = NULL;
    lever_status st = lvc_ac_read(c, app, env, profile, stored, 0, &cfg, NULL);
    lever_configuration_free(cfg);
    if (st != LEVER_OK)
        return st;
    struct lvc_ac *a = lvc_ac_state(c);
    char *key = lvc_ac_key(app, env, profile, stored), *skey = key ? strdup(key) : NULL;
    if (a == NULL || key == NULL || skey == NULL) {
        free(key);
        free(skey);
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&a->mu);
    centry *e = lvc_ac_find(a, key);
    if (e)
        e->watched = true;
    if (a->nsubs == a->capsubs) {
        size_t nc = a->capsubs ? a->capsubs * 2 : 4;
        csub *ns = realloc(a->subs, nc * sizeof *ns);
        if (ns == NULL) {
            pthread_mutex_unlock(&a->mu);
            free(key);
            free(skey);
            return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
        }
        a->subs = ns;
        a->capsubs = nc;
    }
    uint64_t nid = a->next_id++;
    a->subs[a->nsubs++] = (csub){nid, skey, fn, user};
    pthread_mutex_unlock(&a->mu);
    free(key);
    if (id)
        *id = nid;
    return lvc_ac_start_watch(c, a);
}

lever_status lever_unsubscribe_configuration(lever *c, uint64_t id)
{
    struct lvc_ac *a = *lvc_h_ac_slot(c);
    if (a == NULL)
        return lvc_h_fail(c, LEVER_E_INVALID, "no such subscription");
    pthread_mutex_lock(&a->cb_mu); /* no callback is running after this */
    pthread_mutex_lock(&a->mu);
    bool found = false;
    for (size_t i = 0; i < a->nsubs; i++)
        if (a->subs[i].id == id) {
            free(a->subs[i].key);
            a->subs[i] = a->subs[--a->nsubs];
            found = true;
            break;
        }
    pthread_mutex_unlock(&a->mu);
    pthread_mutex_unlock(&a->cb_mu);
    return found ? LEVER_OK : lvc_h_fail(c, LEVER_E_INVALID, "no such subscription");
}
