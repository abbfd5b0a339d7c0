/* ssmstatus.c - lever-agent's :2773 GET /healthz and /metrics: upstream
 * health, each prefix's watch, the cache's counters and the age of its
 * least recently confirmed entry. */
#include "agent/agent_int.h"

#include <inttypes.h>

#include "json/jw.h"

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

void lva_handle_metrics(lva_agent *a, lv_http_response *resp)
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

void lva_handle_healthz(lva_agent *a, lv_http_response *resp)
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
