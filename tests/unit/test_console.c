/* test_console.c - the console's own pieces: cookie reading, the sign-in
 * body, sessions (ids, lifetimes, eviction) and sign-in throttling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "console/cookie.h"
#include "console/guard.h"
#include "console/session.h"
#include "console/signin.h"

static void test_cookie(void **state)
{
    (void)state;
    char v[65];
    assert_int_equal(lv_cookie_get("a=1; lever_console=abc; b=2", "lever_console", v, sizeof v), 1);
    assert_string_equal(v, "abc");
    assert_int_equal(lv_cookie_get("lever_console=\"q\"", "lever_console", v, sizeof v), 1);
    assert_string_equal(v, "q");
    assert_int_equal(lv_cookie_get("xlever_console=1;lever_consolex=2", "lever_console", v, sizeof v), 0);
    assert_string_equal(v, "");
    assert_int_equal(lv_cookie_get(NULL, "lever_console", v, sizeof v), 0);
    assert_int_equal(lv_cookie_get("lever_console=a,b", "lever_console", v, sizeof v), -1);
    assert_string_equal(v, "");
    char small[4];
    assert_int_equal(lv_cookie_get("lever_console=abcd", "lever_console", small, sizeof small), -1);
    assert_int_equal(lv_cookie_get("lever_console=abc", "lever_console", small, sizeof small), 1);
    /* the first of two wins, as RFC 6265 orders them */
    assert_int_equal(lv_cookie_get("lever_console=1; lever_console=2", "lever_console", v, sizeof v), 1);
    assert_string_equal(v, "1");
}

static void test_signin_body(void **state)
{
    (void)state;
    lv_signin s;
    lv_error err = {0};
    const char *ok = "{\"AccessKeyId\":\"AKIALEVERTEST0000001\",\"SecretAccessKey\":\"a/b+c\",\"Region\":\"eu-west-1\"}";
    assert_int_equal(lv_signin_parse(ok, strlen(ok), &s, &err), LV_OK);
    assert_string_equal(s.akid, "AKIALEVERTEST0000001");
    assert_string_equal(s.secret, "a/b+c");
    assert_string_equal(s.region, "eu-west-1");
    const char *bad[] = {
        "", "[]", "{\"AccessKeyId\":\"AKIALEVERTEST0000001\"}",
        "{\"AccessKeyId\":\"short\",\"SecretAccessKey\":\"x\"}",
        "{\"AccessKeyId\":\"AKIALEVERTEST0000001\",\"SecretAccessKey\":\"a b\"}",
        "{\"AccessKeyId\":\"AKIALEVERTEST0000001\",\"SecretAccessKey\":\"x\",\"Other\":1}",
        "{\"AccessKeyId\":\"AKIALEVERTEST0000001\",\"SecretAccessKey\":\"x\",\"Region\":\"EU\"}",
        "{\"AccessKeyId\":1,\"SecretAccessKey\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(lv_signin_parse(bad[i], strlen(bad[i]), &s, &err), LV_E_VALIDATION);
        assert_string_equal(s.akid, "");
        assert_string_equal(s.secret, "");
    }
}

static void test_sessions(void **state)
{
    (void)state;
    lv_sessions *ss;
    lv_error err = {0};
    assert_int_equal(lv_sessions_new(1000, 5000, &ss, &err), LV_OK);
    lv_session a, b, got;
    assert_int_equal(lv_sessions_create(ss, "AKIAA", "us-east-1", 0, &a, &err), LV_OK);
    assert_int_equal(lv_sessions_create(ss, "AKIAB", "us-east-1", 0, &b, &err), LV_OK);
    assert_int_equal(strlen(a.id), LV_SESSION_ID_LEN);
    assert_string_not_equal(a.id, b.id);
    assert_string_not_equal(a.id, a.csrf);
    assert_true(lv_sessions_get(ss, a.id, 900, &got));
    assert_string_equal(got.akid, "AKIAA");
    /* used at 900: alive at 1800, idle-expired at 2800 */
    assert_true(lv_sessions_get(ss, a.id, 1800, &got));
    assert_false(lv_sessions_get(ss, b.id, 1800, &got)); /* b was idle since 0 */
    /* absolute lifetime, whatever the use */
    for (int64_t t = 2500; t < 5000; t += 500)
        assert_true(lv_sessions_get(ss, a.id, t, &got));
    assert_false(lv_sessions_get(ss, a.id, 5000, &got));
    /* wrong ids, deletion */
    assert_int_equal(lv_sessions_create(ss, "AKIAC", "us-east-1", 6000, &a, &err), LV_OK);
    char wrong[LV_SESSION_ID_LEN + 1];
    memcpy(wrong, a.id, sizeof wrong);
    wrong[10] = wrong[10] == '0' ? '1' : '0';
    assert_false(lv_sessions_get(ss, wrong, 6001, &got));
    assert_false(lv_sessions_get(ss, "", 6001, &got));
    assert_false(lv_sessions_get(ss, "abc", 6001, &got));
    lv_sessions_delete(ss, a.id);
    assert_false(lv_sessions_get(ss, a.id, 6001, &got));
    lv_sessions_free(ss);
}

static void test_sessions_full(void **state)
{
    (void)state;
    lv_sessions *ss;
    lv_error err = {0};
    assert_int_equal(lv_sessions_new(1000000, 1000000, &ss, &err), LV_OK);
    lv_session first, s, got;
    assert_int_equal(lv_sessions_create(ss, "FIRST", "r", 0, &first, &err), LV_OK);
    for (int i = 1; i < LV_SESSION_MAX; i++)
        assert_int_equal(lv_sessions_create(ss, "K", "r", i, &s, &err), LV_OK);
    assert_true(lv_sessions_get(ss, first.id, LV_SESSION_MAX, &got)); /* now the most recent use */
    lv_session second;
    assert_int_equal(lv_sessions_create(ss, "K", "r", 1, &second, &err), LV_OK);
    assert_true(lv_sessions_get(ss, first.id, LV_SESSION_MAX + 1, &got));
    /* the least recently used (created at 1) made room */
    assert_int_equal(lv_sessions_create(ss, "NEW", "r", LV_SESSION_MAX + 2, &s, &err), LV_OK);
    assert_true(lv_sessions_get(ss, s.id, LV_SESSION_MAX + 3, &got));
    assert_string_equal(got.akid, "NEW");
    lv_sessions_free(ss);
}

static void test_token_equal(void **state)
{
    (void)state;
    assert_true(lv_console_token_equal("abc", "abc"));
    assert_false(lv_console_token_equal("abc", "abd"));
    assert_false(lv_console_token_equal("abc", "abcd"));
    assert_false(lv_console_token_equal("", ""));
}

static void test_guard(void **state)
{
    (void)state;
    lv_guard *g;
    lv_error err = {0};
    lv_guard_config cfg = {4, 1.0, 2, 0.5};
    assert_int_equal(lv_guard_new(&cfg, &g, &err), LV_OK);
    unsigned retry;
    /* two failures for one key id block it, not the address */
    for (int i = 0; i < 2; i++) {
        assert_true(lv_guard_allow(g, "10.0.0.1", "KEY1", 100, &retry));
        lv_guard_failed(g, "10.0.0.1", "KEY1", 100);
    }
    assert_false(lv_guard_allow(g, "10.0.0.1", "KEY1", 100, &retry));
    assert_int_equal(retry, 2);
    assert_false(lv_guard_allow(g, "10.0.0.2", "KEY1", 100, &retry)); /* from elsewhere too */
    assert_true(lv_guard_allow(g, "10.0.0.1", "KEY2", 100, &retry));
    /* two more from the address, other keys: the address is blocked */
    lv_guard_failed(g, "10.0.0.1", "KEY2", 100);
    lv_guard_failed(g, "10.0.0.1", "KEY3", 100);
    assert_false(lv_guard_allow(g, "10.0.0.1", "KEY4", 100, &retry));
    assert_true(lv_guard_allow(g, "10.0.0.3", "KEY4", 100, &retry));
    /* tokens come back with time; a clock going backwards adds none */
    assert_false(lv_guard_allow(g, "10.0.0.1", "KEY4", 50, &retry));
    assert_true(lv_guard_allow(g, "10.0.0.1", "KEY4", 101, &retry));
    assert_true(lv_guard_allow(g, "10.0.0.9", "KEY1", 102, &retry));
    /* many distinct names never grow the table or crash */
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "K%d", i);
        lv_guard_failed(g, "10.0.0.7", k, 200 + i);
    }
    lv_guard_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie),        cmocka_unit_test(test_signin_body), cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_sessions_full), cmocka_unit_test(test_token_equal), cmocka_unit_test(test_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
