/* test_client_rollout.c - the rollout headers liblever and lever-agent read
 * from leverd (client/rollout.c), and the side each entity gets: the
 * vectors of tests/data/bucketing_vectors.json through the same decision
 * the caches make (and through liblever's exported lever_bucket). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "client/rollout.h"
#include "lever/lever.h"

static lvc_raw raw_of(const char *headers)
{
    lvc_raw r;
    memset(&r, 0, sizeof r);
    assert_int_equal(lv_buf_puts(&r.headers, headers), LV_OK);
    return r;
}

static void test_parse(void **state)
{
    (void)state;
    lvc_rollout ro;
    char err[256];
    lvc_raw r = raw_of("Content-Type: application/json\nx-lever-deployment: 3\n"
                       "X-Lever-Rollout-Percent: 37.5\nx-lever-rollout-seed: appconfig:a:e:3\n"
                       "x-lever-rollout-from: 2\nx-lever-rollout-to: 3\n");
    assert_int_equal(lvc_rollout_from_raw(&r, &ro, err, sizeof err), 0);
    assert_true(ro.active);
    assert_true(ro.percent == 37.5);
    assert_string_equal(ro.seed, "appconfig:a:e:3");
    assert_string_equal(ro.from, "2");
    assert_string_equal(ro.to, "3");
    lvc_raw_clear(&r);

    /* no rollout headers: a plain answer */
    r = raw_of("x-lever-deployment: 4\nConfiguration-Version: 2\n");
    assert_int_equal(lvc_rollout_from_raw(&r, &ro, err, sizeof err), 0);
    assert_false(ro.active);
    lvc_raw_clear(&r);

    /* a first deployment: nothing to fall back on, everyone gets `to` */
    r = raw_of("x-lever-rollout-percent: 10\nx-lever-rollout-seed: s\nx-lever-rollout-from:\nx-lever-rollout-to: 1\n");
    assert_int_equal(lvc_rollout_from_raw(&r, &ro, err, sizeof err), 0);
    assert_true(ro.active);
    assert_string_equal(ro.from, "");
    assert_true(lvc_rollout_is_to(&ro, "anyone"));
    lvc_raw_clear(&r);

    /* malformed: refused with a reason, never half active */
    static const char *bad[] = {
        "x-lever-rollout-percent: 100\nx-lever-rollout-seed: s\nx-lever-rollout-from: 1\nx-lever-rollout-to: 2\n",
        "x-lever-rollout-percent: 1e1\nx-lever-rollout-seed: s\nx-lever-rollout-from: 1\nx-lever-rollout-to: 2\n",
        "x-lever-rollout-percent: -1\nx-lever-rollout-seed: s\nx-lever-rollout-from: 1\nx-lever-rollout-to: 2\n",
        "x-lever-rollout-percent: 12.\nx-lever-rollout-seed: s\nx-lever-rollout-from: 1\nx-lever-rollout-to: 2\n",
        "x-lever-rollout-percent: .5\nx-lever-rollout-seed: s\nx-lever-rollout-from: 1\nx-lever-rollout-to: 2\n",
        "x-lever-rollout-percent: 5\nx-lever-rollout-from: 1\nx-lever-rollout-to: 2\n",
        "x-lever-rollout-percent: 5\nx-lever-rollout-seed: s\nx-lever-rollout-from: 1\n",
        "x-lever-rollout-percent: 5\nx-lever-rollout-seed:\nx-lever-rollout-from: 1\nx-lever-rollout-to: 2\n",
        "x-lever-rollout-seed: s\nx-lever-rollout-to: 2\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = raw_of(bad[i]);
        err[0] = '\0';
        if (lvc_rollout_from_raw(&r, &ro, err, sizeof err) != -1 || ro.active || err[0] == '\0')
            fail_msg("accepted: %s", bad[i]);
        lvc_raw_clear(&r);
    }
    /* "0.57" is exactly 57 basis points, as docs/bucketing.md promises */
    assert_int_equal(lvc_rollout_parse("0.57", "s", "1", "2", &ro, err, sizeof err), 0);
    assert_int_equal(lever_bucket_threshold(ro.percent), 57);
}

static void test_vectors_decide_sides(void **state)
{
    (void)state;
    json_error_t je;
    json_t *doc = json_load_file(LV_TEST_DATA "/bucketing_vectors.json", 0, &je);
    if (doc == NULL)
        fail_msg("bucketing_vectors.json: %s (line %d)", je.text, je.line);
    json_t *vs = json_object_get(doc, "vectors");
    assert_true(json_array_size(vs) >= 20);
    size_t i;
    json_t *v;
    json_array_foreach(vs, i, v) {
        const char *seed = json_string_value(json_object_get(v, "seed"));
        const char *ent = json_string_value(json_object_get(v, "entity"));
        size_t sl = json_string_length(json_object_get(v, "seed"));
        size_t el = json_string_length(json_object_get(v, "entity"));
        uint32_t want = (uint32_t)json_integer_value(json_object_get(v, "bucket"));
        if (lever_bucket(seed, sl, ent, el) != want)
            fail_msg("lever_bucket vector %zu: got %u, want %u", i, lever_bucket(seed, sl, ent, el), want);
        if (sl == 0 || sl > LVC_ROLLOUT_SEED_MAX || strchr(seed, '\n'))
            continue; /* not a seed leverd can send in a header */
        /* the entity is on `to` exactly from the percentage that covers its bucket */
        lvc_rollout ro = {.active = true};
        snprintf(ro.seed, sizeof ro.seed, "%s", seed);
        snprintf(ro.from, sizeof ro.from, "1");
        snprintf(ro.to, sizeof ro.to, "2");
        ro.percent = want / 100.0;
        if (lvc_rollout_is_to(&ro, ent))
            fail_msg("vector %zu: bucket %u is on `to` at %.2f %%", i, want, ro.percent);
        ro.percent = (want + 1) / 100.0;
        if (!lvc_rollout_is_to(&ro, ent))
            fail_msg("vector %zu: bucket %u is not on `to` at %.2f %%", i, want, ro.percent);
    }
    json_t *ts = json_object_get(doc, "thresholds");
    json_array_foreach(ts, i, v) {
        double p = json_number_value(json_object_get(v, "percentage"));
        json_int_t want = json_integer_value(json_object_get(v, "buckets"));
        if ((json_int_t)lever_bucket_threshold(p) != want)
            fail_msg("lever_bucket_threshold(%g): got %u, want %lld", p, lever_bucket_threshold(p), (long long)want);
    }
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_vectors_decide_sides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
