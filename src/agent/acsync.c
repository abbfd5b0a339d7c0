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
                        const char *side, const char *cur_version, lvc_raw *r, char *err, size_t errlen)
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
        bad = lv_buf_puts(&q, "client_id=") != LV_OK || enc(&q, a->instance_id);
    lever_status st = LEVER_E_NOMEM;
    if (bad) {
        snprintf(err, errlen, "out of memory");
    } else {
        lvc_hdr h[2];
        size_t nh = 0;
        if (LVAC_STORED_DOCS)
            h[nh++] = (lvc_hdr){"X-Lever-Document", "stored"};
        if (side)
            h[nh++] = (lvc_hdr){LVC_ROLLOUT_SIDE_HEADER, side};
        st = lvc_request(c, &a->srv, "appconfig", "GET", path.data, q.data, h, nh, NULL, 0,
                         a->cfg.request_timeout_ms, r, err, errlen);
    }
    lv_buf_free(&path);
    lv_buf_free(&q);
    return st;
}

/* A side from an answer: bytes, content type, version, and for the stored
 * form of a feature-flag profile (leverd marks it) the compiled document.
 * 0, or -1 out of memory (*out empty). */
static int side_of(lvac_agent *a, const lvc_raw *r, acside *out)
{
    memset(out, 0, sizeof *out);
    char doc[32] = "";
    bool stored_form = lvc_raw_header(r, "X-Lever-Document", doc, sizeof doc) && strcmp(doc, "stored") == 0;
    if (!lvc_raw_header(r, "Content-Type", out->ctype, sizeof out->ctype))
        snprintf(out->ctype, sizeof out->ctype, "application/octet-stream");
    if (!lvc_raw_header(r, "Configuration-Version", out->version, sizeof out->version))
        out->version[0] = '\0';
    /* the rendering without Context is the agent's own (no Entity-Id) */
    if (stored_form && lvac_flags_compile(r->body.data ? r->body.data : "", r->body.len, a->instance_id, &out->fd,
                                          &out->plain, &out->plain_len) < 0)
        return -1;
    out->stored_doc = out->fd != NULL;
    out->data = malloc(r->body.len + 1);
    if (out->data == NULL) {
        lvac_side_clear(out);
        return -1;
    }
    if (r->body.len)
        memcpy(out->data, r->body.data, r->body.len);
    out->data[r->body.len] = '\0';
    out->len = r->body.len;
    return 0;
}

/* What is held for an entry, copied out under mu. */
typedef struct held {
    bool present, have, have_from;
    char cur[128], from[128];
} held;

static held held_of(lvac_agent *a, const char *key)
{
    held h = {0};
    pthread_mutex_lock(&a->mu);
    acentry *e = lvac_find(a, key);
    if (e) {
        h.present = true;
        h.have = e->have;
        h.have_from = e->from.data != NULL;
        memcpy(h.cur, e->cur.version, sizeof h.cur);
        memcpy(h.from, e->from.version, sizeof h.from);
    }
    pthread_mutex_unlock(&a->mu);
    return h;
}

enum { APPLY_DONE, APPLY_RETRY };

/* Caller holds mu. Applies one sync to e: nr is the new `to` side (NULL:
 * unchanged), nf the fetched `from` side (NULL: keep the held one, or
 * take the old `to` when take_old is set). APPLY_RETRY when what the
 * decision was based on changed meanwhile. Consumes nr and nf. */
static int apply_locked(lvac_agent *a, acentry *e, const lvc_raw *r, const lvc_rollout *ro, acside *nr, acside *nf,
                        bool take_old, const held *h)
{
    bool want_from = ro->active && ro->from[0];
    if (e->have != h->have || strcmp(e->cur.version, h->cur) != 0 || (e->from.data != NULL) != h->have_from ||
        strcmp(e->from.version, h->from) != 0)
        return APPLY_RETRY;
    if (want_from && nf == NULL && !take_old && !(e->from.data && strcmp(e->from.version, ro->from) == 0))
        return APPLY_RETRY;
    if (want_from && take_old) {
        lvac_side_clear(&e->from);
        e->from = e->cur;                 /* moved, not copied */
        memset(&e->cur, 0, sizeof e->cur);
    } else if (want_from && nf) {
        lvac_side_clear(&e->from);
        e->from = *nf;
        memset(nf, 0, sizeof *nf);
    } else if (!want_from) {
        lvac_side_clear(&e->from);
    }
    if (nr) {
        lvac_side_clear(&e->cur);
        e->cur = *nr;
        memset(nr, 0, sizeof *nr);
    }
    bool changed = nr || nf || take_old || e->rollout.active != ro->active ||
                   (ro->active && (e->rollout.percent != ro->percent || strcmp(e->rollout.seed, ro->seed) != 0));
    e->rollout = *ro;
    e->have = true;
    e->revision = r->revision;
    e->confirmed_ms = lvac_wall_ms();
    e->fetched_mono = lvac_mono_ms();
    if (changed) {
        a->dirty = true;
        pthread_cond_broadcast(&a->cond);
    }
    return APPLY_DONE;
}

lever_status lvac_sync_entry(lvac_agent *a, lvc_conn *c, const char *app, const char *env, const char *profile,
                             bool create, lvc_raw *r_err, uint64_t *revision, char *err, size_t errlen)
{
    memset(r_err, 0, sizeof *r_err);
    *revision = 0;
    char *key = lvac_entry_key(app, env, profile, "");
    if (key == NULL) {
        snprintf(err, errlen, "out of memory");
        return LEVER_E_NOMEM;
    }
    lever_status st = LEVER_OK;
    for (int attempt = 0; attempt < 4; attempt++) {
        held h = held_of(a, key);
        if (!h.present && !create)
            break; /* evicted meanwhile */
        lvc_raw r;
        st = lvac_fetch(a, c, app, env, profile, "to", h.have ? h.cur : "", &r, err, errlen);
        if (st != LEVER_OK) {
            *r_err = r;
            break;
        }
        *revision = r.revision;
        char rerr[256];
        lvc_rollout ro;
        if (lvc_rollout_from_raw(&r, &ro, rerr, sizeof rerr) != 0) {
            atomic_fetch_add(&a->bad_rollouts, 1);
            lva_log(LVA_LOG_WARN, "appconfig: %s:%s:%s: ignoring the rollout headers: %s", app, env, profile, rerr);
        }
        char version[128] = "";
        bool has_v = lvc_raw_header(&r, "Configuration-Version", version, sizeof version);
        bool unchanged = h.have && r.body.len == 0 && (!has_v || strcmp(version, h.cur) == 0);
        const char *served = unchanged ? h.cur : version;
        if (ro.active && ro.from[0] && strcmp(served, ro.to) != 0) {
            /* leverd did not honour the side asked for: what it bucketed
             * the agent to is what everyone here gets */
            atomic_fetch_add(&a->bad_rollouts, 1);
            ro.active = false;
        }
        acside nr = {0}, nf = {0};
        bool got_nr = false, got_nf = false, take_old = false;
        if (!unchanged) {
            if (side_of(a, &r, &nr) != 0) {
                lvc_raw_clear(&r);
                snprintf(err, errlen, "out of memory");
                st = LEVER_E_NOMEM;
                break;
            }
            got_nr = true;
        }
        if (ro.active && ro.from[0] && !(h.have_from && strcmp(h.from, ro.from) == 0)) {
            if (got_nr && h.have && strcmp(h.cur, ro.from) == 0) {
                take_old = true; /* the deployment's start: what was served is the from side */
            } else {
                lvc_raw rf;
                atomic_fetch_add(&a->side_fetches, 1);
                st = lvac_fetch(a, c, app, env, profile, "from", "", &rf, err, errlen);
                if (st == LEVER_OK && side_of(a, &rf, &nf) != 0) {
                    snprintf(err, errlen, "out of memory");
                    st = LEVER_E_NOMEM;
                }
                if (st != LEVER_OK) {
                    lvac_side_clear(&nr);
                    lvc_raw_clear(&r);
                    *r_err = rf;
                    break;
                }
                lvc_raw_clear(&rf);
                got_nf = true;
            }
        }
        pthread_mutex_lock(&a->mu);
        acentry *e = lvac_find(a, key);
        if (e == NULL && create)
            e = lvac_get_or_add(a, app, env, profile, false);
        int res = APPLY_DONE;
        if (e && e->have && r.revision < e->revision)
            *revision = e->revision; /* an answer older than what is held */
        else if (e)
            res = apply_locked(a, e, &r, &ro, got_nr ? &nr : NULL, got_nf ? &nf : NULL, take_old, &h);
        pthread_mutex_unlock(&a->mu);
        lvac_side_clear(&nr);
        lvac_side_clear(&nf);
        lvc_raw_clear(&r);
        if (e == NULL && create) {
            snprintf(err, errlen, "out of memory");
            st = LEVER_E_NOMEM;
        }
        if (res == APPLY_DONE)
            break;
    }
    free(key);
    return st;
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
    char app[LVAC_NAME_MAX + 1], env[LVAC_NAME_MAX + 1], profile[LVAC_NAME_MAX + 1];
} job;

/* Re-validates every held configuration (conditional GetConfiguration:
 * unchanged ones answer an empty body; both sides during a gradual
 * deployment). An outage stops at once. */
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
        memcpy(jobs[i].app, e->app, sizeof e->app);
        memcpy(jobs[i].env, e->env, sizeof e->env);
        memcpy(jobs[i].profile, e->profile, sizeof e->profile);
    }
    pthread_mutex_unlock(&a->mu);
    lever_status st = LEVER_OK;
    for (size_t i = 0; i < n && st == LEVER_OK; i++) {
        lvc_raw r;
        uint64_t rev;
        lever_status fs = lvac_sync_entry(a, a->wconn, jobs[i].app, jobs[i].env, jobs[i].profile, false, &r, &rev,
                                          err, errlen);
        if (fs != LEVER_OK && lvac_is_outage(fs, &r)) {
            st = fs;
        } else if (fs != LEVER_OK) {
            /* gone or refused upstream: the entry no longer answers; the
             * next request asks leverd and passes its error on */
            lva_log(LVA_LOG_WARN, "appconfig: %s:%s:%s: %s", jobs[i].app, jobs[i].env, jobs[i].profile, err);
            char *key = lvac_entry_key(jobs[i].app, jobs[i].env, jobs[i].profile, "");
            pthread_mutex_lock(&a->mu);
            acentry *e = key ? lvac_find(a, key) : NULL;
            if (e)
                e->have = false;
            pthread_mutex_unlock(&a->mu);
            free(key);
        }
        lvc_raw_clear(&r);
    }
    free(jobs);
    return st;
}

/* During a gradual deployment the watch returns at least every served
 * report interval, so leverd hears what was served (acserved.c). */
static int served_wait(lvac_agent *a, int wait)
{
    int64_t r = a->cfg.served_report_ms;
    if (r <= 0 || !lvac_served_pending(a))
        return wait;
    int cap = (int)((r + 999) / 1000);
    return cap < wait ? cap : wait;
}

static void attach_served(lvac_agent *a, json_t *body)
{
    json_t *served = lvac_served_take(a);
    if (served != NULL)
        json_object_set_new(body, "Served", served);
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
                int wait = connected ? served_wait(a, a->cfg.watch_wait_s) : 0;
                json_t *body = json_pack("{s:I, s:i, s:i}", "SinceRevision", (json_int_t)since, "WaitSeconds", wait,
                                         "MaxChanges", 1000);
                if (body != NULL)
                    attach_served(a, body);
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
        lvac_disk_entry d = {e->app, e->env, e->profile, "", e->cur.ctype, e->cur.version, e->cur.data, e->cur.len,
                             e->prefetched, e->cur.stored_doc, e->confirmed_ms, e->revision};
        if (e->rollout.active) {
            d.rolling = true;
            d.percent = e->rollout.percent;
            d.seed = e->rollout.seed;
            d.from_version = e->rollout.from;
            if (e->from.data) {
                d.from_content_type = e->from.ctype;
                d.from_data = e->from.data;
                d.from_len = e->from.len;
                d.from_stored_doc = e->from.stored_doc;
            }
        }
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

/* A side from the disk copy (a stored flag document compiled again). 0 or
 * -1 out of memory. */
static int disk_side(lvac_agent *a, const char *data, size_t len, const char *ctype, const char *version,
                     bool stored_doc, acside *out)
{
    memset(out, 0, sizeof *out);
    if ((out->data = malloc(len + 1)) == NULL)
        return -1;
    memcpy(out->data, data, len);
    out->data[len] = '\0';
    out->len = len;
    out->stored_doc = stored_doc &&
                      lvac_flags_compile(out->data, len, a->instance_id, &out->fd, &out->plain, &out->plain_len) == 0;
    snprintf(out->ctype, sizeof out->ctype, "%s", ctype);
    snprintf(out->version, sizeof out->version, "%s", version);
    return 0;
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
        if (d->entity[0])
            continue; /* an older agent's per-Entity-Id copy: buckets are chosen here now */
        acside cur, from = {0};
        if (disk_side(a, d->data, d->len, d->content_type, d->version, d->stored_doc, &cur) != 0)
            break;
        if (d->rolling && d->from_data &&
            disk_side(a, d->from_data, d->from_len, d->from_content_type, d->from_version, d->from_stored_doc,
                      &from) != 0) {
            lvac_side_clear(&cur);
            break;
        }
        acentry *e = lvac_get_or_add(a, d->app, d->env, d->profile, false);
        if (e == NULL) {
            lvac_side_clear(&cur);
            lvac_side_clear(&from);
            break;
        }
        lvac_side_clear(&e->cur);
        lvac_side_clear(&e->from);
        e->cur = cur;
        e->from = from;
        memset(&e->rollout, 0, sizeof e->rollout);
        if (d->rolling) {
            e->rollout.active = true;
            e->rollout.percent = d->percent;
            lvc_rollout_percent_text(&e->rollout);
            snprintf(e->rollout.seed, sizeof e->rollout.seed, "%s", d->seed);
            snprintf(e->rollout.from, sizeof e->rollout.from, "%s", d->from_version);
            snprintf(e->rollout.to, sizeof e->rollout.to, "%s", d->version);
        }
        e->have = true;
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
