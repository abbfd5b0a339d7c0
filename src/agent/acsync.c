/* acsync.c - the upstream side of lever-agent's AppConfig API: GetConfiguration
 * fetches (SigV4 service appconfig, client_id bucketing), the watch thread
 * that re-validates every held configuration when Lever.WatchConfigurations
 * reports a deployment change (or, on a leverd without it, every
 * POLL_INTERVAL), and the sealed disk copy. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "agent/accache.h"
#include "agent/acint.h"
#include "agent/agent.h"
#include "agent/cachefile.h"

enum {
    WATCH_BACKOFF_MIN_MS = 100,
    WATCH_BACKOFF_MAX_MS = 5000,
    SAVE_DEBOUNCE_MS = 300,
    SAVE_RETRY_MS = 5000,
};

/* RFC 3986 unreserved bytes stay, everything else is %XX (what SigV4's
 * canonical form expects of both path segments and query values). */
static int enc(lv_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == '~';
        char x[3] = {'%', hex[c >> 4], hex[c & 15]};
        if ((keep ? lv_buf_putc(b, (char)c) : lv_buf_append(b, x, 3)) != LV_OK)
            return -1;
    }
    return 0;
}

lever_status lvac_fetch(lvac_agent *a, lvc_conn *c, const char *app, const char *env, const char *profile,
                        const char *client_id, const char *cur_version, lvc_raw *r, char *err, size_t errlen)
{
    lv_buf path = LV_BUF_INIT, q = LV_BUF_INIT;
    memset(r, 0, sizeof *r);
    int bad = lv_buf_puts(&path, "/applications/") != LV_OK || enc(&path, app) ||
              lv_buf_puts(&path, "/environments/") != LV_OK || enc(&path, env) ||
              lv_buf_puts(&path, "/configurations/") != LV_OK || enc(&path, profile);
    /* canonical order: client_configuration_version < client_id */
    if (!bad && cur_version && *cur_version)
        bad = lv_buf_puts(&q, "client_configuration_version=") != LV_OK || enc(&q, cur_version) ||
              lv_buf_putc(&q, '&') != LV_OK;
    if (!bad)
        bad = lv_buf_puts(&q, "client_id=") != LV_OK || enc(&q, client_id);
    lever_status st = LEVER_E_NOMEM;
    if (bad) {
        snprintf(err, errlen, "out of memory");
    } else {
        lvc_hdr h[] = {{"X-Lever-Document", "stored"}};
        st = lvc_request(c, &a->srv, "appconfig", "GET", path.data, q.data, h, LVAC_STORED_DOCS ? 1 : 0, NULL, 0,
                         a->cfg.request_timeout_ms, r, err, errlen);
    }
    lv_buf_free(&path);
    lv_buf_free(&q);
    return st;
}

uint64_t lvac_store(lvac_agent *a, const char *key, const lvc_raw *r, bool conditional)
{
    char ctype[128] = "", version[128] = "", doc[32] = "";
    /* leverd marks the stored form of a feature-flag profile */
    bool stored_form = lvc_raw_header(r, "X-Lever-Document", doc, sizeof doc) && strcmp(doc, "stored") == 0;
    bool has_ct = lvc_raw_header(r, "Content-Type", ctype, sizeof ctype);
    bool has_v = lvc_raw_header(r, "Configuration-Version", version, sizeof version);
    int64_t nw = lvac_wall_ms(), nm = lvac_mono_ms();
    pthread_mutex_lock(&a->mu);
    acentry *e = lvac_find(a, key);
    uint64_t out = r->revision;
    if (e == NULL) {
        pthread_mutex_unlock(&a->mu);
        return out;
    }
    if (e->have && r->revision < e->revision) { /* an answer older than what is held */
        out = e->revision;
        pthread_mutex_unlock(&a->mu);
        return out;
    }
    /* An empty answer to a conditional fetch means "what you have is
     * current" unless it names another version. */
    bool unchanged = conditional && e->have && r->body.len == 0 && (!has_v || strcmp(version, e->version) == 0);
    if (!unchanged) {
        /* We asked for stored documents: a feature-flag profile answers
         * its stored form, compiled once here (any other answer is bytes). */
        lv_flagdoc *fd = NULL;
        char *plain = NULL;
        size_t plain_len = 0;
        const char *ent = e->entity[0] ? e->entity : a->instance_id;
        if (stored_form && lvac_flags_compile(r->body.data ? r->body.data : "", r->body.len, ent, &fd, &plain, &plain_len) < 0) {
            pthread_mutex_unlock(&a->mu);
            lva_log(LVA_LOG_WARN, "appconfig: out of memory compiling %s:%s:%s", e->app, e->env, e->profile);
            return 0;
        }
        lv_flagdoc_free(e->fd);
        free(e->plain);
        e->fd = fd;
        e->plain = plain;
        e->plain_len = plain_len;
        bool stored = fd != NULL;
        char *d = malloc(r->body.len + 1);
        if (d == NULL) {
            pthread_mutex_unlock(&a->mu);
            lva_log(LVA_LOG_WARN, "appconfig: out of memory caching %s:%s:%s", e->app, e->env, e->profile);
            return 0;
        }
        if (r->body.len)
            memcpy(d, r->body.data, r->body.len);
        d[r->body.len] = '\0';
        if (e->data)
            memset(e->data, 0, e->len);
        free(e->data);
        e->data = d;
        e->len = r->body.len;
        snprintf(e->ctype, sizeof e->ctype, "%s", has_ct ? ctype : "application/octet-stream");
        snprintf(e->version, sizeof e->version, "%s", has_v ? version : "");
        e->stored_doc = stored;
        e->have = true;
        a->dirty = true;
        pthread_cond_broadcast(&a->cond);
    }
    e->revision = r->revision;
    e->confirmed_ms = nw;
    e->fetched_mono = nm;
    pthread_mutex_unlock(&a->mu);
    return out;
}

/* ------------------------------------------------------------- watch */

static bool stopping(lvac_agent *a)
{
    pthread_mutex_lock(&a->mu);
    bool s = a->stop;
    pthread_mutex_unlock(&a->mu);
    return s;
}

static void nap(lvac_agent *a, int64_t ms)
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
    while (!a->stop)
        if (pthread_cond_timedwait(&a->cond, &a->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&a->mu);
}

typedef struct job {
    char *key;
    char app[LVAC_NAME_MAX + 1], env[LVAC_NAME_MAX + 1], profile[LVAC_NAME_MAX + 1];
    char entity[LVAC_ENTITY_MAX + 1];
    char version[128];
    bool have;
} job;

/* Re-validates every held configuration (conditional GetConfiguration:
 * unchanged ones answer an empty body). An outage stops at once. */
static lever_status refresh_all(lvac_agent *a, char *err, size_t errlen)
{
    pthread_mutex_lock(&a->mu);
    size_t n = a->n;
    job *jobs = calloc(n ? n : 1, sizeof *jobs);
    if (jobs == NULL) {
        pthread_mutex_unlock(&a->mu);
        snprintf(err, errlen, "out of memory");
        return LEVER_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        acentry *e = a->entries[i];
        jobs[i].key = strdup(e->key);
        memcpy(jobs[i].app, e->app, sizeof e->app);
        memcpy(jobs[i].env, e->env, sizeof e->env);
        memcpy(jobs[i].profile, e->profile, sizeof e->profile);
        memcpy(jobs[i].entity, e->entity, sizeof e->entity);
        memcpy(jobs[i].version, e->version, sizeof e->version);
        jobs[i].have = e->have;
    }
    pthread_mutex_unlock(&a->mu);
    lever_status st = LEVER_OK;
    for (size_t i = 0; i < n && st == LEVER_OK; i++) {
        if (jobs[i].key == NULL) {
            st = LEVER_E_NOMEM;
            snprintf(err, errlen, "out of memory");
            break;
        }
        lvc_raw r;
        const char *id = jobs[i].entity[0] ? jobs[i].entity : a->instance_id;
        lever_status fs = lvac_fetch(a, a->wconn, jobs[i].app, jobs[i].env, jobs[i].profile, id,
                                     jobs[i].have ? jobs[i].version : "", &r, err, errlen);
        if (fs == LEVER_OK) {
            lvac_store(a, jobs[i].key, &r, jobs[i].have);
        } else if (lvac_is_outage(fs, &r)) {
            st = fs;
        } else {
            /* gone or refused upstream: the entry no longer answers; the
             * next request asks leverd and passes its error on */
            lva_log(LVA_LOG_WARN, "appconfig: %s:%s:%s: %s", jobs[i].app, jobs[i].env, jobs[i].profile, err);
            pthread_mutex_lock(&a->mu);
            acentry *e = lvac_find(a, jobs[i].key);
            if (e)
                e->have = false;
            pthread_mutex_unlock(&a->mu);
        }
        lvc_raw_clear(&r);
    }
    for (size_t i = 0; i < n; i++)
        free(jobs[i].key);
    free(jobs);
    return st;
}

static void *watch_main(void *arg)
{
    lvac_agent *a = arg;
    int64_t backoff = 0;
    bool need_sync = true;
    char err[512];
    while (!stopping(a)) {
        lever_status st = LEVER_OK;
        pthread_mutex_lock(&a->mu);
        bool unsupported = a->unsupported, connected = a->watching;
        uint64_t since = a->revision;
        pthread_mutex_unlock(&a->mu);
        if (unsupported) {
            st = refresh_all(a, err, sizeof err);
            if (st == LEVER_OK) {
                pthread_mutex_lock(&a->mu);
                lvac_upstream_ok_locked(a);
                a->relists++;
                pthread_mutex_unlock(&a->mu);
                nap(a, a->cfg.poll_interval_ms);
                continue;
            }
        } else {
            if (need_sync) {
                st = refresh_all(a, err, sizeof err);
                if (st == LEVER_OK)
                    need_sync = false;
            }
            lvc_reply r = {0};
            if (st == LEVER_OK) {
                /* until a watch call succeeds (start, after an outage) ask
                 * without waiting, so entries are confirmed at once */
                int wait = connected ? a->cfg.watch_wait_s : 0;
                json_t *body = json_pack("{s:I, s:i, s:i}", "SinceRevision", (json_int_t)since, "WaitSeconds", wait,
                                         "MaxChanges", 1000);
                if (body == NULL) {
                    st = LEVER_E_NOMEM;
                    snprintf(err, sizeof err, "out of memory");
                } else {
                    st = lvc_call(a->wconn, &a->srv, "Lever.WatchConfigurations", body,
                                  (long)wait * 1000 + a->cfg.request_timeout_ms, &r, err, sizeof err);
                    json_decref(body);
                }
            }
            if (st == LEVER_OK) {
                json_t *rev = json_object_get(r.body, "Revision");
                json_t *changes = json_object_get(r.body, "Changes");
                uint64_t next = json_is_integer(rev) && json_integer_value(rev) >= 0
                                    ? (uint64_t)json_integer_value(rev) : since;
                size_t nc = json_array_size(changes);
                if (next < since) {
                    lva_log(LVA_LOG_INFO, "appconfig: upstream revision went back (%" PRIu64 " < %" PRIu64 ")",
                            next, since);
                    nc = 1; /* re-validate everything */
                }
                if (nc > 0 || !connected)
                    st = refresh_all(a, err, sizeof err);
                if (st == LEVER_OK) {
                    double last = nc ? json_number_value(json_object_get(json_array_get(changes, nc - 1), "Time")) : 0;
                    pthread_mutex_lock(&a->mu);
                    if (!connected)
                        lva_log(LVA_LOG_INFO, "appconfig: watching leverd from revision %" PRIu64, next);
                    a->revision = next;
                    a->watching = true;
                    if (nc && last > 0) {
                        double lag = (double)lvac_wall_ms() / 1000.0 - last;
                        a->lag_s = lag > 0 ? lag : 0;
                    }
                    lvac_upstream_ok_locked(a);
                    a->dirty = true;
                    pthread_cond_broadcast(&a->cond);
                    pthread_mutex_unlock(&a->mu);
                }
            } else if (st == LEVER_E_COMPACTED) {
                json_t *cur = json_object_get(r.body, "CurrentRevision");
                uint64_t next = json_is_integer(cur) && json_integer_value(cur) >= 0
                                    ? (uint64_t)json_integer_value(cur) : 0;
                lva_log(LVA_LOG_INFO, "appconfig: revision %" PRIu64 " compacted upstream; re-validating", since);
                pthread_mutex_lock(&a->mu);
                a->revision = next;
                a->watching = false;
                pthread_mutex_unlock(&a->mu);
                need_sync = true;
                st = LEVER_OK;
            } else if (st == LEVER_E_UNSUPPORTED || st == LEVER_E_AUTH) {
                /* no watch upstream, or a key whose policy does not allow it:
                 * reads still work, so poll rather than look down */
                lva_log(LVA_LOG_WARN, "appconfig: Lever.WatchConfigurations %s (%s); polling every %" PRId64 " ms",
                        st == LEVER_E_AUTH ? "refused" : "not served by the upstream", err, a->cfg.poll_interval_ms);
                pthread_mutex_lock(&a->mu);
                a->unsupported = true;
                a->watching = false;
                pthread_mutex_unlock(&a->mu);
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
        pthread_mutex_lock(&a->mu);
        if (a->watching)
            lva_log(LVA_LOG_WARN, "appconfig: watch lost: %s", err);
        else
            lva_log(LVA_LOG_DEBUG, "appconfig: retry failed: %s", err);
        a->watching = false;
        a->reconnects++;
        atomic_fetch_add(&a->upstream_errors, 1);
        lvac_upstream_failed_locked(a, err);
        pthread_mutex_unlock(&a->mu);
        need_sync = true;
        backoff = backoff ? backoff * 2 : WATCH_BACKOFF_MIN_MS;
        if (backoff > WATCH_BACKOFF_MAX_MS)
            backoff = WATCH_BACKOFF_MAX_MS;
        nap(a, backoff);
    }
    return NULL;
}

/* -------------------------------------------------------- disk copy */

void lvac_save(lvac_agent *a)
{
    lvac_snapshot s = {0};
    int rc = 0;
    pthread_mutex_lock(&a->mu);
    s.saved_ms = lvac_wall_ms();
    s.revision = a->revision;
    for (size_t i = 0; i < a->n && rc == 0; i++) {
        acentry *e = a->entries[i];
        if (!e->have)
            continue;
        lvac_disk_entry d = {e->app, e->env, e->profile, e->entity, e->ctype, e->version, e->data, e->len,
                             e->prefetched, e->stored_doc, e->confirmed_ms, e->revision};
        rc = lvac_snapshot_add(&s, &d);
    }
    a->dirty = false;
    a->last_save_mono = lvac_mono_ms();
    pthread_mutex_unlock(&a->mu);
    char err[512] = "out of memory";
    lv_buf out = LV_BUF_INIT;
    if (rc == 0)
        rc = lvac_cache_encode(&s, a->seal_key, &out, err, sizeof err);
    if (rc == 0)
        rc = lva_cachefile_write_named(a->cfg.cache_dir, LVAC_CACHE_FILE, out.data, out.len, err, sizeof err);
    lvac_snapshot_free(&s);
    if (out.data)
        memset(out.data, 0, out.len);
    lv_buf_free(&out);
    pthread_mutex_lock(&a->mu);
    if (rc == 0) {
        atomic_fetch_add(&a->saves, 1);
        a->save_failing = false;
    } else {
        atomic_fetch_add(&a->save_errors, 1);
        lva_log(a->save_failing ? LVA_LOG_DEBUG : LVA_LOG_WARN, "appconfig: cannot write %s/%s: %s",
                a->cfg.cache_dir, LVAC_CACHE_FILE, err);
        a->save_failing = true;
        a->dirty = true;
    }
    pthread_mutex_unlock(&a->mu);
}

static void *persist_main(void *arg)
{
    lvac_agent *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        int64_t wait = 1000;
        if (a->dirty) {
            int64_t due = a->last_save_mono + (a->save_failing ? SAVE_RETRY_MS : SAVE_DEBOUNCE_MS) - lvac_mono_ms();
            if (due <= 0) {
                pthread_mutex_unlock(&a->mu);
                lvac_save(a);
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

void lvac_load_disk(lvac_agent *a)
{
    lv_buf raw = LV_BUF_INIT;
    char err[512];
    int rc = lva_cachefile_read_named(a->cfg.cache_dir, LVAC_CACHE_FILE, &raw, err, sizeof err);
    if (rc == 1)
        return;
    lvac_snapshot s;
    if (rc == 0)
        rc = lvac_cache_decode(raw.data ? raw.data : "", raw.len, a->seal_key, &s, err, sizeof err);
    lv_buf_free(&raw);
    if (rc != 0) {
        lva_log(LVA_LOG_ERROR, "appconfig: cache file %s/%s rejected: %s; ignoring it (moved to %s.corrupt)",
                a->cfg.cache_dir, LVAC_CACHE_FILE, err, LVAC_CACHE_FILE);
        lva_cachefile_quarantine_named(a->cfg.cache_dir, LVAC_CACHE_FILE);
        atomic_store(&a->cache_rejected, 1);
        return;
    }
    int64_t nw = lvac_wall_ms(), nm = lvac_mono_ms();
    size_t loaded = 0;
    pthread_mutex_lock(&a->mu);
    a->revision = s.revision;
    for (size_t i = 0; i < s.n; i++) {
        const lvac_disk_entry *d = &s.entries[i];
        acentry *e = lvac_get_or_add(a, d->app, d->env, d->profile, d->entity, false);
        if (e == NULL)
            break;
        char *copy = malloc(d->len + 1);
        if (copy == NULL)
            break;
        memcpy(copy, d->data, d->len + 1);
        free(e->data);
        e->data = copy;
        e->len = d->len;
        e->have = true;
        lv_flagdoc_free(e->fd);
        free(e->plain);
        e->fd = NULL;
        e->plain = NULL;
        e->stored_doc = d->stored_doc &&
                        lvac_flags_compile(copy, d->len, d->entity[0] ? d->entity : a->instance_id, &e->fd,
                                           &e->plain, &e->plain_len) == 0;
        snprintf(e->ctype, sizeof e->ctype, "%s", d->content_type);
        snprintf(e->version, sizeof e->version, "%s", d->version);
        e->revision = d->revision;
        e->confirmed_ms = d->confirmed_ms;
        int64_t age = nw - d->confirmed_ms;
        e->fetched_mono = nm - (age > 0 ? age : 0);
        loaded++;
    }
    pthread_mutex_unlock(&a->mu);
    atomic_store(&a->cache_loaded, loaded);
    lva_log(LVA_LOG_INFO, "appconfig: loaded %zu configurations from %s/%s (saved %" PRId64 " s ago)", loaded,
            a->cfg.cache_dir, LVAC_CACHE_FILE, (nw - s.saved_ms) / 1000);
    lvac_snapshot_free(&s);
}

/* -------------------------------------------------------- lifecycle */

int lvac_sync_start(lvac_agent *a, char *err, size_t errlen)
{
    if (pthread_create(&a->watcher, NULL, watch_main, a) != 0) {
        snprintf(err, errlen, "cannot start the AppConfig watch thread");
        return -1;
    }
    a->watcher_started = true;
    if (a->persist) {
        if (pthread_create(&a->persister, NULL, persist_main, a) != 0) {
            snprintf(err, errlen, "cannot start the AppConfig persister thread");
            return -1;
        }
        a->persister_started = true;
    }
    return 0;
}

void lvac_sync_stop(lvac_agent *a)
{
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->mu);
    if (a->wconn)
        lvc_conn_interrupt(a->wconn);
    if (a->watcher_started)
        pthread_join(a->watcher, NULL);
    if (a->persister_started)
        pthread_join(a->persister, NULL);
    a->watcher_started = a->persister_started = false;
}
