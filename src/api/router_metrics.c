/* router_metrics.c - GET /metrics (Prometheus text: requests by operation
 * and outcome, refusals, handling time, the engine's counters, hooks,
 * AppConfig and the shared store) and the handling-time histogram. */
#include "api/router_int.h"

#include <stdio.h>

#include "api/appconfig.h"
#include "api/ssm.h"
#include "core/buf.h"

static const double lat_bounds_ms[] = {0.1, 0.5, 1, 5, 10, 50, 100};

void lv_router_metrics(lv_router *r, lv_http_response *resp)
{
    lv_engine_stats st;
    lv_engine_stats_get(r->engine, &st);
    lv_buf *b = &resp->body;
    resp->content_type = "text/plain; version=0.0.4";
    lv_buf_puts(b, "# HELP lever_requests_total API requests by operation and outcome.\n"
                   "# TYPE lever_requests_total counter\n");
    for (int i = 0; i <= lv_ssm_op_count() && i <= MAX_OPS; i++) {
        const char *name = i < lv_ssm_op_count() ? lv_ssm_op_name(i) : "unknown";
        lv_buf_printf(b, "lever_requests_total{operation=\"%s\",outcome=\"ok\"} %llu\n", name,
                      (unsigned long long)atomic_load(&r->ok[i < lv_ssm_op_count() ? i : MAX_OPS]));
        lv_buf_printf(b, "lever_requests_total{operation=\"%s\",outcome=\"error\"} %llu\n", name,
                      (unsigned long long)atomic_load(&r->failed[i < lv_ssm_op_count() ? i : MAX_OPS]));
    }
    lv_buf_printf(b, "# HELP lever_auth_failures_total Requests refused by authentication.\n"
                     "# TYPE lever_auth_failures_total counter\nlever_auth_failures_total %llu\n",
                  (unsigned long long)atomic_load(&r->auth_failed));
    lv_buf_printf(b, "# HELP lever_access_denied_total Requests refused by an access key's policies.\n"
                     "# TYPE lever_access_denied_total counter\nlever_access_denied_total %llu\n"
                     "# HELP lever_throttled_total Requests refused by rate limits.\n"
                     "# TYPE lever_throttled_total counter\nlever_throttled_total %llu\n",
                  (unsigned long long)atomic_load(&r->denied), (unsigned long long)atomic_load(&r->throttled));
    lv_buf_puts(b, "# HELP lever_request_duration_seconds Time to handle an API request.\n"
                   "# TYPE lever_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < 7; i++) {
        cum += atomic_load(&r->lat_bucket[i]);
        lv_buf_printf(b, "lever_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      lat_bounds_ms[i] / 1000.0, (unsigned long long)cum);
    }
    lv_buf_printf(b, "lever_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                  (unsigned long long)atomic_load(&r->lat_count));
    lv_buf_printf(b, "lever_request_duration_seconds_sum %.6f\n",
                  (double)atomic_load(&r->lat_sum_us) / 1e6);
    lv_buf_printf(b, "lever_request_duration_seconds_count %llu\n",
                  (unsigned long long)atomic_load(&r->lat_count));
    lv_buf_printf(b,
                  "# HELP lever_parameters Parameters held, all regions.\n# TYPE lever_parameters gauge\nlever_parameters %llu\n"
                  "# HELP lever_revision Current global revision.\n# TYPE lever_revision gauge\nlever_revision %llu\n"
                  "# HELP lever_commits_total Store transactions (group commits).\n# TYPE lever_commits_total counter\nlever_commits_total %llu\n"
                  "# HELP lever_writes_total Writes handled by the writer.\n# TYPE lever_writes_total counter\nlever_writes_total %llu\n"
                  "# HELP lever_write_errors_total Writes refused or failed.\n# TYPE lever_write_errors_total counter\nlever_write_errors_total %llu\n"
                  "# HELP lever_expired_total Parameters deleted by an Expiration policy.\n# TYPE lever_expired_total counter\nlever_expired_total %llu\n",
                  (unsigned long long)st.params, (unsigned long long)st.revision,
                  (unsigned long long)st.commits, (unsigned long long)st.writes,
                  (unsigned long long)st.write_errors, (unsigned long long)st.expired);
    lv_hooks_metrics(r->hooks, b);
    lv_acapi_metrics(r->engine, b);
    if (lv_engine_shared(r->engine)) {
        int64_t down = 0;
        bool ok = lv_engine_store_ok(r->engine, &down);
        lv_buf_printf(b,
                      "# HELP lever_store_conflicts_total Commits refused because another node wrote first (re-planned).\n"
                      "# TYPE lever_store_conflicts_total counter\nlever_store_conflicts_total %llu\n"
                      "# HELP lever_store_followed_total Other nodes' commits applied from the feed.\n"
                      "# TYPE lever_store_followed_total counter\nlever_store_followed_total %llu\n"
                      "# HELP lever_store_reachable Whether the shared store answered last time.\n"
                      "# TYPE lever_store_reachable gauge\nlever_store_reachable %d\n"
                      "# HELP lever_store_reloads_total Whole-store loads after falling behind the feed's retention.\n"
                      "# TYPE lever_store_reloads_total counter\nlever_store_reloads_total %llu\n",
                      (unsigned long long)st.conflicts, (unsigned long long)st.followed, ok ? 1 : 0,
                      (unsigned long long)st.reloads);
        lv_buf_puts(b, "# HELP lever_store_follow_lag_seconds Other nodes' commits, from their writer's clock to "
                       "applied on this node.\n# TYPE lever_store_follow_lag_seconds histogram\n");
        uint64_t below = 0;
        for (int i = 0; i < LV_FOLLOW_LAG_BUCKETS; i++) {
            below += st.follow_lag[i];
            lv_buf_printf(b, "lever_store_follow_lag_seconds_bucket{le=\"%g\"} %llu\n",
                          lv_engine_follow_lag_ms[i] / 1000.0, (unsigned long long)below);
        }
        lv_buf_printf(b,
                      "lever_store_follow_lag_seconds_bucket{le=\"+Inf\"} %llu\n"
                      "lever_store_follow_lag_seconds_sum %.3f\nlever_store_follow_lag_seconds_count %llu\n",
                      (unsigned long long)st.follow_lag_count, st.follow_lag_sum_ms / 1000.0,
                      (unsigned long long)st.follow_lag_count);
    }
}

void lv_router_observe(lv_router *r, const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t us = (uint64_t)(t1.tv_sec - t0->tv_sec) * 1000000u +
                  (uint64_t)((t1.tv_nsec - t0->tv_nsec) / 1000);
    atomic_fetch_add(&r->lat_sum_us, us);
    atomic_fetch_add(&r->lat_count, 1);
    for (int i = 0; i < 7; i++)
        if ((double)us / 1000.0 <= lat_bounds_ms[i]) {
            atomic_fetch_add(&r->lat_bucket[i], 1);
            break;
        }
}
