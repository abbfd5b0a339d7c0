/* test_bucket.c - the published bucketing function: the vectors of
 * tests/data/bucketing_vectors.json (also checked by the Python reference
 * tests/reference/bucketing.py), thresholds, and the shares it produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/bucket.h"

static json_t *load_vectors(void)
{
    json_error_t je;
    json_t *doc = json_load_file(LV_TEST_DATA "/bucketing_vectors.json", 0, &je);
    if (doc == NULL)
        fail_msg("bucketing_vectors.json: %s (line %d)", je.text, je.line);
    return doc;
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *doc = load_vectors();
    json_t *vs = json_object_get(doc, "vectors");
    assert_true(json_array_size(vs) >= 20);
    size_t i;
    json_t *v;
    json_array_foreach(vs, i, v) {
        const char *seed = json_string_value(json_object_get(v, "seed"));
        const char *ent = json_string_value(json_object_get(v, "entity"));
        size_t sl = json_string_length(json_object_get(v, "seed"));
        size_t el = json_string_length(json_object_get(v, "entity"));
        assert_non_null(seed);
        assert_non_null(ent);
        json_int_t want = json_integer_value(json_object_get(v, "bucket"));
        uint32_t got = lv_bucket(seed, sl, ent, el);
        if ((json_int_t)got != want)
            fail_msg("vector %zu (%s / %s): got %u, want %lld", i, seed, ent, got,
                     (long long)want);
    }
    json_t *ts = json_object_get(doc, "thresholds");
    assert_true(json_array_size(ts) >= 10);
    json_array_foreach(ts, i, v) {
        double p = json_number_value(json_object_get(v, "percentage"));
        json_int_t want = json_integer_value(json_object_get(v, "buckets"));
        if ((json_int_t)lv_bucket_threshold(p) != want)
            fail_msg("threshold %g: got %u, want %lld", p, lv_bucket_threshold(p),
                     (long long)want);
    }
    json_decref(doc);
}

static void test_length_prefix(void **state)
{
    (void)state;
    /* Same bytes, different split between seed and entity. */
    assert_int_not_equal(lv_bucket("ab", 2, "c", 1), lv_bucket("a", 1, "bc", 2));
    /* Embedded NUL bytes are data. */
    assert_int_not_equal(lv_bucket("a\0b", 3, "c", 1), lv_bucket("a", 1, "c", 1));
}

static void test_share_edges(void **state)
{
    (void)state;
    assert_false(lv_bucket_in_share(0, 0));
    assert_true(lv_bucket_in_share(0, 0.01));
    assert_false(lv_bucket_in_share(1, 0.01));
    assert_true(lv_bucket_in_share(9999, 100));
    assert_false(lv_bucket_in_share(9999, 99.99));
    assert_true(lv_bucket_in_share(56, 0.57));
    assert_false(lv_bucket_in_share(57, 0.57));
    assert_int_equal(lv_bucket_threshold(0.0 / 0.0), 0);
}

/* Shares over 10,000 entities are within 2 points of the percentage, the
 * new share only grows with the percentage (an entity that is in stays in),
 * and two seeds split independently. */
static void test_distribution(void **state)
{
    (void)state;
    static const double pcts[] = {1, 5, 10, 20, 25, 50, 75, 90};
    char ent[32];
    for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++) {
        int in = 0;
        for (int i = 0; i < 10000; i++) {
            snprintf(ent, sizeof ent, "entity-%d", i);
            in += lv_bucket_entity_in("appconfig:app:env:7", ent, pcts[k]);
        }
        double share = in / 100.0;
        if (share < pcts[k] - 2 || share > pcts[k] + 2)
            fail_msg("%g %%: share %g %%", pcts[k], share);
    }
    int both = 0, a = 0;
    for (int i = 0; i < 10000; i++) {
        snprintf(ent, sizeof ent, "u%d", i);
        bool in10 = lv_bucket_entity_in("s1", ent, 10);
        bool in20 = lv_bucket_entity_in("s1", ent, 20);
        if (in10)
            assert_true(in20); /* monotone in the percentage */
        bool other = lv_bucket_entity_in("s2", ent, 50);
        a += in20;
        both += in20 && other;
    }
    /* Independent seeds: about half of the 20 % are in s2's 50 %. */
    assert_true(both > a * 0.45 && both < a * 0.55);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_length_prefix),
        cmocka_unit_test(test_share_edges),
        cmocka_unit_test(test_distribution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
