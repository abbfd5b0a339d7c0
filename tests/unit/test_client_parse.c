/* test_client_parse.c - liblever's value parsers (bool, int, double,
 * duration, lists) and the key <-> env-name / full-name mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/parse.h"

static void test_bool(void **state)
{
    (void)state;
    const char *yes[] = {"true", "TRUE", " yes ", "On", "1"};
    const char *no[] = {"false", "No", "off", "0", "\tFALSE\n"};
    const char *bad[] = {"", " ", "2", "truee", "t", "y", "enabled", "01"};
    bool v;
    for (size_t i = 0; i < 5; i++) {
        v = false;
        assert_int_equal(lvc_parse_bool(yes[i], &v), 0);
        assert_true(v);
        v = true;
        assert_int_equal(lvc_parse_bool(no[i], &v), 0);
        assert_false(v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = true;
        assert_int_equal(lvc_parse_bool(bad[i], &v), -1);
        assert_true(v); /* untouched on error */
    }
    assert_int_equal(lvc_parse_bool(NULL, &v), -1);
}

static void test_int(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(lvc_parse_int("300", &v), 0);
    assert_int_equal(v, 300);
    assert_int_equal(lvc_parse_int(" -42 ", &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(lvc_parse_int("+7", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(lvc_parse_int("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(lvc_parse_int("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    v = 5;
    const char *bad[] = {"9223372036854775808", "", "-", "0x10", "1e3", "12a", "1 2", "3.0", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lvc_parse_int(bad[i], &v), -1);
    assert_int_equal(v, 5);
}

static void test_double(void **state)
{
    (void)state;
    double v;
    assert_int_equal(lvc_parse_double("0.25", &v), 0);
    assert_true(v == 0.25);
    assert_int_equal(lvc_parse_double(" -1e3 ", &v), 0);
    assert_true(v == -1000.0);
    assert_int_equal(lvc_parse_double("inf", &v), -1);
    assert_int_equal(lvc_parse_double("nan", &v), -1);
    assert_int_equal(lvc_parse_double("1e999", &v), -1);
    assert_int_equal(lvc_parse_double("1.5x", &v), -1);
    assert_int_equal(lvc_parse_double("", &v), -1);
}

static void test_duration(void **state)
{
    (void)state;
    struct {
        const char *s;
        int64_t ms;
    } ok[] = {{"30s", 30000},   {"5m", 300000},     {"1h30m", 5400000}, {"250ms", 250},
              {"1.5h", 5400000}, {"2d", 172800000}, {"300", 300000},    {" 1m30s ", 90000},
              {"0s", 0},         {"1h1m1s1ms", 3661001}, {".5s", 500}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -1;
        assert_int_equal(lvc_parse_duration_ms(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].ms);
    }
    const char *bad[] = {"", "s", "5x", "1h30", "-5s", "5 s", "1.2.3s", "ms", "99999999999999999999d",
                         "106751991168d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 77;
        assert_int_equal(lvc_parse_duration_ms(bad[i], &v), -1);
        assert_int_equal(v, 77);
    }
}

static void test_list(void **state)
{
    (void)state;
    size_t n = 99;
    char **l = lvc_split_list("a, b ,c", &n);
    assert_non_null(l);
    assert_int_equal(n, 3);
    assert_string_equal(l[0], "a");
    assert_string_equal(l[1], "b");
    assert_string_equal(l[2], "c");
    assert_null(l[3]);
    lvc_strlist_free(l);

    l = lvc_split_list("", &n);
    assert_non_null(l);
    assert_int_equal(n, 0);
    assert_null(l[0]);
    lvc_strlist_free(l);

    l = lvc_split_list(NULL, &n);
    assert_int_equal(n, 0);
    lvc_strlist_free(l);

    l = lvc_split_list("x,,y,", &n); /* empty items are kept: positions matter */
    assert_int_equal(n, 4);
    assert_string_equal(l[1], "");
    assert_string_equal(l[3], "");
    lvc_strlist_free(l);
}

static void test_env_name(void **state)
{
    (void)state;
    const char *p = "/myapp/prod/";
    char *s = lvc_env_name(p, "features/USER_REGISTRATION_ENABLED", LVC_ENV_LAST_SEGMENT, "");
    assert_string_equal(s, "USER_REGISTRATION_ENABLED");
    free(s);
    s = lvc_env_name(p, "features/USER_REGISTRATION_ENABLED", LVC_ENV_FULL_PATH, NULL);
    assert_string_equal(s, "FEATURES_USER_REGISTRATION_ENABLED");
    free(s);
    s = lvc_env_name(p, "tuning/cache/balance-ttl.v2", LVC_ENV_LAST_SEGMENT, "MYAPP_");
    assert_string_equal(s, "MYAPP_BALANCE_TTL_V2");
    free(s);
    s = lvc_env_name(p, "orders/api/url", LVC_ENV_FULL_PATH, "MYAPP_");
    assert_string_equal(s, "MYAPP_ORDERS_API_URL");
    free(s);
    /* a full name under the prefix maps like its key; one outside keeps its path */
    s = lvc_env_name(p, "/myapp/prod/features/X", LVC_ENV_FULL_PATH, "");
    assert_string_equal(s, "FEATURES_X");
    free(s);
    s = lvc_env_name(p, "/other/db/host", LVC_ENV_FULL_PATH, "");
    assert_string_equal(s, "OTHER_DB_HOST");
    free(s);
    s = lvc_env_name("", "/other/db/host", LVC_ENV_LAST_SEGMENT, "");
    assert_string_equal(s, "HOST");
    free(s);
    /* non-ASCII bytes become '_' rather than locale-dependent letters */
    s = lvc_env_name("", "caf\xc3\xa9", LVC_ENV_LAST_SEGMENT, "");
    assert_string_equal(s, "CAF__");
    free(s);
    assert_null(lvc_env_name(p, "features/X", LVC_ENV_NONE, ""));
    assert_null(lvc_env_name(p, "features/", LVC_ENV_LAST_SEGMENT, ""));
}

static void test_names(void **state)
{
    (void)state;
    char *s = lvc_norm_prefix("myapp//prod");
    assert_string_equal(s, "/myapp/prod/");
    free(s);
    s = lvc_norm_prefix("/myapp/prod/");
    assert_string_equal(s, "/myapp/prod/");
    free(s);
    s = lvc_norm_prefix("/");
    assert_string_equal(s, "/");
    free(s);
    s = lvc_norm_prefix(NULL);
    assert_string_equal(s, "");
    free(s);
    s = lvc_full_name("/myapp/prod/", "features/X");
    assert_string_equal(s, "/myapp/prod/features/X");
    free(s);
    s = lvc_full_name("/myapp/prod/", "/abs/name");
    assert_string_equal(s, "/abs/name");
    free(s);
    s = lvc_full_name("", "plain");
    assert_string_equal(s, "plain");
    free(s);
    assert_string_equal(lvc_rel_key("/myapp/prod/", "/myapp/prod/a/b"), "a/b");
    assert_string_equal(lvc_rel_key("/myapp/prod/", "/elsewhere/a"), "/elsewhere/a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bool),     cmocka_unit_test(test_int),  cmocka_unit_test(test_double),
        cmocka_unit_test(test_duration), cmocka_unit_test(test_list), cmocka_unit_test(test_env_name),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
