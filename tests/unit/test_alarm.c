/* test_alarm.c - the pure part of lever alarms (core/alarm.c): the probe
 * state machine, names, probe URLs, the record format and its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/alarm.h"

static void test_state_machine(void **state)
{
    (void)state;
    lv_alarm_track t = {LV_ALARM_INSUFFICIENT_DATA, 0};
    assert_false(lv_alarm_track_result(&t, false, 3));
    assert_false(lv_alarm_track_result(&t, false, 3));
    assert_int_equal(t.state, LV_ALARM_INSUFFICIENT_DATA);
    assert_true(lv_alarm_track_result(&t, false, 3)); /* the third failure in a row */
    assert_int_equal(t.state, LV_ALARM_ALARM);
    assert_false(lv_alarm_track_result(&t, false, 3));
    assert_true(lv_alarm_track_result(&t, true, 3)); /* one success */
    assert_int_equal(t.state, LV_ALARM_OK);
    assert_int_equal(t.failures, 0);
    /* failures that are not in a row do not add up */
    assert_false(lv_alarm_track_result(&t, false, 3));
    assert_false(lv_alarm_track_result(&t, false, 3));
    assert_false(lv_alarm_track_result(&t, true, 3));
    assert_false(lv_alarm_track_result(&t, false, 3));
    assert_false(lv_alarm_track_result(&t, false, 3));
    assert_int_equal(t.state, LV_ALARM_OK);
    assert_true(lv_alarm_track_result(&t, false, 3));
    /* threshold 1: the first failure */
    lv_alarm_track u = {LV_ALARM_INSUFFICIENT_DATA, 0};
    assert_true(lv_alarm_track_result(&u, false, 1));
    assert_int_equal(u.state, LV_ALARM_ALARM);
    lv_alarm_track v = {LV_ALARM_INSUFFICIENT_DATA, 0};
    assert_true(lv_alarm_track_result(&v, true, 5));
    assert_int_equal(v.state, LV_ALARM_OK);
}

static void test_names_and_urls(void **state)
{
    (void)state;
    assert_true(lv_alarm_name_valid("HighLatency", 11));
    assert_true(lv_alarm_name_valid("team/a:b-c_d.e", 14));
    assert_false(lv_alarm_name_valid("", 0));
    assert_false(lv_alarm_name_valid("a b", 3));
    assert_false(lv_alarm_name_valid("a\0b", 3));
    char longname[LV_ALARM_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname);
    assert_true(lv_alarm_name_valid(longname, LV_ALARM_NAME_MAX));
    assert_false(lv_alarm_name_valid(longname, LV_ALARM_NAME_MAX + 1));
    const char *good[] = {"http://127.0.0.1:8080/health", "https://example.com", "http://h/?q=1"};
    for (size_t i = 0; i < 3; i++)
        assert_true(lv_alarm_url_valid(good[i], strlen(good[i])));
    const char *bad[] = {"ftp://h/", "http://", "http:///x", "https://:80/", "http://a b/", "file:///etc", "h"};
    for (size_t i = 0; i < 7; i++)
        assert_false(lv_alarm_url_valid(bad[i], strlen(bad[i])));
    lv_alarm_state s;
    assert_true(lv_alarm_state_parse("ALARM", &s));
    assert_int_equal(s, LV_ALARM_ALARM);
    assert_false(lv_alarm_state_parse("alarm", &s));
    assert_string_equal(lv_alarm_state_name(LV_ALARM_INSUFFICIENT_DATA), "INSUFFICIENT_DATA");
}

static void test_record_round_trip(void **state)
{
    (void)state;
    lv_alarm_rec a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "web");
    a.state = LV_ALARM_ALARM;
    snprintf(a.reason, sizeof a.reason, "Probe failed 3 times in a row: HTTP 503.");
    a.updated_ms = 1796167918123;
    snprintf(a.probe.url, sizeof a.probe.url, "http://127.0.0.1:9/h");
    a.probe.interval_s = 30;
    a.probe.threshold = 3;
    a.probe.timeout_s = 5;
    lv_buf k = LV_BUF_INIT, v = LV_BUF_INIT;
    assert_int_equal(lv_alarm_rec_key(a.name, &k), LV_OK);
    assert_memory_equal(k.data, "Lweb", 4);
    assert_int_equal(lv_alarm_rec_encode(&a, &v), LV_OK);
    lv_alarm_rec b;
    lv_error err = {0};
    assert_int_equal(lv_alarm_rec_decode(k.data, k.len, v.data, v.len, &b, &err), LV_OK);
    assert_memory_equal(&a, &b, sizeof a);
    /* every truncation and a trailing byte are refused as corrupt */
    for (size_t n = 0; n < v.len; n++)
        assert_int_equal(lv_alarm_rec_decode(k.data, k.len, v.data, n, &b, &err), LV_E_CORRUPT);
    assert_int_equal(lv_buf_putc(&v, 'x'), LV_OK);
    assert_int_equal(lv_alarm_rec_decode(k.data, k.len, v.data, v.len, &b, &err), LV_E_CORRUPT);
    v.len--;
    v.data[1] = 7; /* no such state */
    assert_int_equal(lv_alarm_rec_decode(k.data, k.len, v.data, v.len, &b, &err), LV_E_CORRUPT);
    v.data[1] = LV_ALARM_OK;
    assert_int_equal(lv_alarm_rec_decode("Lbad name", 9, v.data, v.len, &b, &err), LV_E_CORRUPT);
    lv_buf_free(&k);
    lv_buf_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_names_and_urls),
        cmocka_unit_test(test_record_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
