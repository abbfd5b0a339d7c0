/* test_throttle.c - token buckets (refill, burst, empty) and the throttle's
 * classes: per key and per read/write class, root exempt by default, AWS
 * quota mode shared by every caller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/throttle.h"

static void test_bucket(void **state)
{
    (void)state;
    lv_bucket b = {0};
    /* starts full: burst 3 at 2/s */
    for (int i = 0; i < 3; i++)
        assert_true(lv_bucket_take(&b, 2, 3, 100.0));
    assert_false(lv_bucket_take(&b, 2, 3, 100.0));
    /* half a second later: one token */
    assert_true(lv_bucket_take(&b, 2, 3, 100.5));
    assert_false(lv_bucket_take(&b, 2, 3, 100.5));
    /* a long pause refills to the burst, never beyond */
    for (int i = 0; i < 3; i++)
        assert_true(lv_bucket_take(&b, 2, 3, 1000.0));
    assert_false(lv_bucket_take(&b, 2, 3, 1000.0));
    /* a clock going backwards adds nothing */
    assert_false(lv_bucket_take(&b, 2, 3, 999.0));
    /* rate 0: unlimited */
    lv_bucket u = {0};
    for (int i = 0; i < 1000; i++)
        assert_true(lv_bucket_take(&u, 0, 0, 1.0));
}

static void test_per_key_classes(void **state)
{
    (void)state;
    lv_throttle_config cfg = {.read_rate = 5, .read_burst = 5, .write_rate = 1, .write_burst = 1};
    lv_throttle *t;
    assert_int_equal(lv_throttle_new(&cfg, &t, NULL), LV_OK);
    assert_true(lv_throttle_active(t));
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += lv_throttle_take(t, "K1", false, "us-east-1", "GetParameter", false, 10.0);
    assert_int_equal(ok, 5);
    /* writes have their own bucket */
    assert_true(lv_throttle_take(t, "K1", false, "us-east-1", "PutParameter", true, 10.0));
    assert_false(lv_throttle_take(t, "K1", false, "us-east-1", "PutParameter", true, 10.0));
    /* another key is not affected */
    assert_true(lv_throttle_take(t, "K2", false, "us-east-1", "GetParameter", false, 10.0));
    /* the root key is exempt by default */
    for (int i = 0; i < 50; i++)
        assert_true(lv_throttle_take(t, "ROOT", true, "us-east-1", "GetParameter", false, 10.0));
    lv_throttle_free(t);

    cfg.include_root = true;
    assert_int_equal(lv_throttle_new(&cfg, &t, NULL), LV_OK);
    ok = 0;
    for (int i = 0; i < 20; i++)
        ok += lv_throttle_take(t, "ROOT", true, "us-east-1", "GetParameter", false, 10.0);
    assert_int_equal(ok, 5);
    lv_throttle_free(t);

    lv_throttle_config off = {0};
    assert_int_equal(lv_throttle_new(&off, &t, NULL), LV_OK);
    assert_false(lv_throttle_active(t));
    lv_throttle_free(t);
}

static void test_aws_quotas(void **state)
{
    (void)state;
    const char *g1, *g2;
    assert_true(lv_throttle_aws_quota("GetParameter", &g1) == 40);
    assert_true(lv_throttle_aws_quota("GetParametersByPath", &g2) == 40);
    assert_string_equal(g1, g2);
    assert_true(lv_throttle_aws_quota("PutParameter", NULL) == 3);
    lv_throttle_config cfg = {.aws_quotas = true};
    lv_throttle *t;
    assert_int_equal(lv_throttle_new(&cfg, &t, NULL), LV_OK);
    int ok = 0;
    /* 40/s shared by GetParameter and GetParameters, by every key, root included */
    for (int i = 0; i < 30; i++)
        ok += lv_throttle_take(t, "A", false, "us-east-1", "GetParameter", false, 5.0);
    for (int i = 0; i < 30; i++)
        ok += lv_throttle_take(t, "ROOT", true, "us-east-1", "GetParameters", false, 5.0);
    assert_int_equal(ok, 40);
    /* another region has its own quota */
    assert_true(lv_throttle_take(t, "A", false, "eu-west-1", "GetParameter", false, 5.0));
    ok = 0;
    for (int i = 0; i < 10; i++)
        ok += lv_throttle_take(t, "A", false, "us-east-1", "PutParameter", true, 5.0);
    assert_int_equal(ok, 3);
    lv_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_per_key_classes),
        cmocka_unit_test(test_aws_quotas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
