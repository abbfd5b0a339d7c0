/* ssmdisk.c - the disk copy of lever-agent's :2773 cache: the persister
 * thread that writes it (debounced, retried after a failure) and the
 * restore at start (the format is cachefile.c's). */
#include "agent/agent_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/cachefile.h"

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
void lva_save(lva_agent *a)
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

void *lva_persist_main(void *arg)
{
    lva_agent *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        int64_t wait = 1000;
        if (a->dirty) {
            int64_t due = a->last_save_mono + (a->save_failing ? SAVE_RETRY_MS : SAVE_DEBOUNCE_MS) - lva_mono_ms();
            if (due <= 0) {
                pthread_mutex_unlock(&a->mu);
                lva_save(a);
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
void lva_load_disk(lva_agent *a)
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
