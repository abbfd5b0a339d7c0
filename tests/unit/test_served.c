/* test_served.c - served shares (core/served.c): distinct-entity tallies
 * exact below their cap and unbiased beyond it, series bins that add
 * reports of any length and merge as time passes, the seed shapes; and
 * the Served member's decoder (api/served_report.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/served_report.h"
#include "core/bucket.h"
#include "core/served.h"

static void add(lv_served_tally *t, const char *prefix, int i, bool is_new)
{
    char e[64];
    int n = snprintf(e, sizeof e, "%s%d", prefix, i);
    lv_served_tally_add(t, e, (size_t)n, is_new);
}

static void test_tally_exact(void **state)
{
    (void)state;
    lv_served_tally *t = calloc(1, sizeof *t);
    uint64_t nw, od;
    lv_served_tally_counts(t, &nw, &od);
    assert_true(lv_served_tally_empty(t));
    assert_int_equal(nw + od, 0);
    for (int round = 0; round < 3; round++) /* the same entities again: counted once */
        for (int i = 0; i < 1000; i++)
            add(t, "e-", i, i < 300);
    lv_served_tally_counts(t, &nw, &od);
    assert_int_equal(t->level, 0);
    assert_int_equal(nw, 300);
    assert_int_equal(od, 700);
    /* an entity keeps only its latest side */
    for (int i = 300; i < 400; i++)
        add(t, "e-", i, true);
    lv_served_tally_counts(t, &nw, &od);
    assert_int_equal(nw, 400);
    assert_int_equal(od, 600);
    lv_served_tally_add(t, NULL, 0, true); /* "" is an entity too */
    lv_served_tally_counts(t, &nw, &od);
    assert_int_equal(nw, 401);
    lv_served_tally_reset(t);
    assert_true(lv_served_tally_empty(t));
    free(t);
}

/* 200,000 entities, 37 % new by the published bucketing: the sample keeps
 * at most the cap, the total is within 10 % and the share within 3 points. */
static void test_tally_sampled(void **state)
{
    (void)state;
    lv_served_tally *t = calloc(1, sizeof *t);
    int want_new = 0;
    for (int i = 0; i < 200000; i++) {
        char e[32];
        snprintf(e, sizeof e, "user-%d", i);
        bool in = lv_bucket_entity_in("appconfig:a:e:1", e, 37);
        want_new += in;
        lv_served_tally_add(t, e, strlen(e), in);
    }
    assert_true(t->n <= LV_SERVED_TALLY_CAP);
    assert_true(t->level >= 7);
    uint64_t nw, od;
    lv_served_tally_counts(t, &nw, &od);
    double total = (double)(nw + od), share = 100.0 * (double)nw / total;
    assert_true(fabs(total - 200000) < 20000);
    assert_true(fabs(share - 100.0 * want_new / 200000) < 3);
    free(t);
}

static void test_series(void **state)
{
    (void)state;
    lv_served_series s;
    memset(&s, 0, sizeof s);
    lv_served_point p[LV_SERVED_BINS];
    assert_int_equal(lv_served_series_points(&s, p, LV_SERVED_BINS), 0);
    int64_t t0 = 1700000000000;
    /* two sources over the same second: 100 entities at 10 %, 300 at 50 % */
    lv_served_series_add(&s, t0, t0 + 1000, 10, 90);
    lv_served_series_add(&s, t0, t0 + 1000, 150, 150);
    size_t n = lv_served_series_points(&s, p, LV_SERVED_BINS);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p[i].t_ms, t0 + (int64_t)i * 100);
        assert_int_equal(p[i].width_ms, 100);
        assert_true(fabs(p[i].percentage - 40) < 1e-9);
        assert_true(fabs(p[i].entities - 400) < 1e-9);
    }
    /* a report half in a bin counts half there */
    lv_served_series_add(&s, t0 + 1050, t0 + 1250, 100, 0);
    n = lv_served_series_points(&s, p, LV_SERVED_BINS);
    assert_int_equal(n, 13);
    assert_true(fabs(p[10].entities - 50) < 1e-9);
    assert_true(fabs(p[11].entities - 100) < 1e-9);
    assert_true(fabs(p[12].percentage - 100) < 1e-9);
    /* data 30 s later: bins merge (width 400 ms) and the shares survive */
    lv_served_series_add(&s, t0 + 30000, t0 + 30400, 0, 10);
    n = lv_served_series_points(&s, p, LV_SERVED_BINS);
    assert_int_equal(p[0].width_ms, 400);
    assert_true(fabs(p[0].percentage - 40) < 1e-9);
    assert_int_equal(p[n - 1].t_ms, t0 + 30000);
    assert_true(fabs(p[n - 1].percentage) < 1e-9);
    /* before the start is clipped; nonsense is ignored */
    lv_served_series_add(&s, t0 - 5000, t0 - 1000, 5, 5);
    lv_served_series_add(&s, t0, t0 + 10, -1, 5);
    lv_served_series_add(&s, t0, t0 + 10, NAN, 5);
    lv_served_series_add(&s, t0, t0 + 10, 0, 0);
    lv_served_series_add(&s, t0 + ((int64_t)1 << 50), t0 + ((int64_t)1 << 50) + 1, 1, 1); /* a clock jump */
    assert_int_equal(lv_served_series_points(&s, p, LV_SERVED_BINS), n);
    assert_int_equal(lv_served_series_points(&s, p, 2), 2);
}

static void test_seed(void **state)
{
    (void)state;
    const char *good[] = {"appconfig:abc1234:env0001:3", "ssm:us-east-1:/checkout/db-url:live:12",
                          "appconfig:a:b:4294967295"};
    const char *bad[] = {"", "appconfig:", "appconfig:a:b", "appconfig:a:b:", "appconfig:a:b:x", "appconfig:a::1",
                         "appconfig:a:b:1:2", "ssm:r:n:l", "ssm:r:n:l:1x", "flag:a:b:1", "appconfig:a b:c:1",
                         "appconfig:a:b:12345678901", "ssm:r:n:l:1:2"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(lv_served_seed_ok(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(lv_served_seed_ok(bad[i], strlen(bad[i])));
    assert_false(lv_served_seed_ok("appconfig:a\0:b:1", 16));
    char big[LV_SERVED_SEED_MAX + 16];
    memset(big, 'x', sizeof big);
    memcpy(big, "ssm:", 4);
    memcpy(big + sizeof big - 6, ":l:12", 5);
    big[sizeof big - 1] = '\0';
    assert_false(lv_served_seed_ok(big, strlen(big)));
}

static void test_report_decode(void **state)
{
    (void)state;
    json_error_t je;
    json_t *v = json_loads("[{\"Seed\": \"appconfig:app0001:env0001:2\", \"IntervalMs\": 1000, \"New\": 3, \"Old\": 7},"
                           " {\"Seed\": \"appconfig:app0002:env0001:2\", \"IntervalMs\": 1000, \"New\": 1, \"Old\": 1},"
                           " {\"Seed\": \"ssm:us-east-1:/a:live:1\", \"IntervalMs\": 5, \"New\": 1, \"Old\": 0},"
                           " {\"Seed\": \"appconfig:app0001:env0001:2\", \"IntervalMs\": 0, \"New\": 1, \"Old\": 1},"
                           " {\"Seed\": \"appconfig:app0001:env0001:2\", \"IntervalMs\": 10, \"New\": -1, \"Old\": 1},"
                           " {\"Seed\": \"appconfig:app0001:env0001:2\", \"IntervalMs\": 10, \"New\": 0, \"Old\": 0},"
                           " {\"Seed\": 5}, 7, null]",
                           0, &je);
    assert_non_null(v);
    lv_served_entry out[8];
    assert_int_equal(lv_served_report_decode(v, "", "", out, 8), 3);
    assert_string_equal(out[0].seed, "appconfig:app0001:env0001:2");
    assert_int_equal(out[0].interval_ms, 1000);
    assert_int_equal(out[0].new_n, 3);
    assert_int_equal(out[0].old_n, 7);
    assert_int_equal(lv_served_report_decode(v, "", "", out, 1), 1);
    /* a watch of one application or environment reports on it only */
    assert_int_equal(lv_served_report_decode(v, "app0001", "", out, 8), 1);
    assert_int_equal(lv_served_report_decode(v, "app0001", "env0001", out, 8), 1);
    assert_int_equal(lv_served_report_decode(v, "app0001", "env0002", out, 8), 0);
    assert_int_equal(lv_served_report_decode(v, "app000", "", out, 8), 0);
    assert_int_equal(lv_served_report_decode(NULL, "", "", out, 8), 0);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tally_exact), cmocka_unit_test(test_tally_sampled), cmocka_unit_test(test_series),
        cmocka_unit_test(test_seed), cmocka_unit_test(test_report_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
