/* test_policy_json.c - the Policies document of PutParameter and ISO 8601
 * timestamps (api/policy_json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/policy_json.h"
#include "core/policy.h"

#define DAY 86400000LL
#define HOUR 3600000LL
/* 2026-01-02T03:04:05Z */
#define T0 1767323045000LL

static lv_err parse(const char *doc, lv_policy_set *s)
{
    lv_error err = {0};
    lv_err rc = lv_policy_parse(doc, strlen(doc), s, &err);
    if (rc != LV_OK) {
        assert_int_equal(err.code, rc);
        assert_true(err.msg[0] != '\0');
    }
    return rc;
}

static void expect(const char *doc, lv_err want)
{
    lv_policy_set s;
    lv_err rc = parse(doc, &s);
    if (rc != want)
        fail_msg("%s: expected %s, got %s", doc, lv_err_name(want), lv_err_name(rc));
}

static void test_expiration(void **state)
{
    (void)state;
    lv_policy_set s;
    assert_int_equal(parse("[{\"Type\":\"Expiration\",\"Version\":\"1.0\","
                           "\"Attributes\":{\"Timestamp\":\"2030-12-02T21:34:33.000Z\"}}]", &s),
                     LV_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.p[0].type, LV_POLICY_EXPIRATION);
    assert_int_equal(s.p[0].timestamp_ms, 1922477673000LL);
    lv_error err = {0};
    assert_int_equal(lv_policy_set_check(&s, T0, &err), LV_OK);
    assert_int_equal(lv_policy_set_check(&s, 1922477673000LL, &err), LV_E_INVALID_POLICY_ATTRIBUTE);
    /* Version is optional. */
    assert_int_equal(parse("[{\"Type\":\"Expiration\","
                           "\"Attributes\":{\"Timestamp\":\"2026-01-02T03:04:05Z\"}}]", &s), LV_OK);
    assert_int_equal(s.p[0].timestamp_ms, T0);
}

static void test_notifications(void **state)
{
    (void)state;
    lv_policy_set s;
    assert_int_equal(
        parse("[{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":{\"Timestamp\":\"2030-12-02T21:34:33.000Z\"}},"
              " {\"Type\":\"ExpirationNotification\",\"Version\":\"1.0\",\"Attributes\":{\"Before\":\"15\",\"Unit\":\"Days\"}},"
              " {\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\",\"Attributes\":{\"After\":\"20\",\"Unit\":\"Hours\"}}]",
              &s),
        LV_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.p[0].type, LV_POLICY_EXPIRATION);
    assert_int_equal(s.p[1].type, LV_POLICY_EXPIRATION_NOTIFICATION);
    assert_int_equal(s.p[1].amount_ms, 15 * DAY);
    assert_int_equal(s.p[2].type, LV_POLICY_NO_CHANGE_NOTIFICATION);
    assert_int_equal(s.p[2].amount_ms, 20 * HOUR);
    lv_error err = {0};
    assert_int_equal(lv_policy_set_check(&s, T0, &err), LV_OK);
    assert_int_equal(lv_policy_due(&s, 1, T0), 1922477673000LL - 15 * DAY);
    assert_int_equal(lv_policy_due(&s, 2, T0), T0 + 20 * HOUR);

    /* Unit defaults to Days; a JSON number is accepted as the amount. */
    assert_int_equal(parse("[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":\"2\"}}]", &s), LV_OK);
    assert_int_equal(s.p[0].amount_ms, 2 * DAY);
    assert_int_equal(parse("[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":3,\"Unit\":\"Hours\"}}]", &s), LV_OK);
    assert_int_equal(s.p[0].amount_ms, 3 * HOUR);
    assert_int_equal(parse("[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":\"1\",\"Unit\":\"Hours\"}}]", &s), LV_OK);
    assert_int_equal(s.p[0].amount_ms, HOUR);
    /* ...but a notification about expiry needs an Expiration. */
    assert_int_equal(lv_policy_set_check(&s, T0, &err), LV_E_INCOMPATIBLE_POLICY);

    assert_int_equal(parse("[]", &s), LV_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(parse(" [ ] ", &s), LV_OK);
}

static void test_invalid_documents(void **state)
{
    (void)state;
    expect("", LV_E_INVALID_POLICY_TYPE);
    expect("[", LV_E_INVALID_POLICY_TYPE);
    expect("[{\"Type\":\"Expiration\"", LV_E_INVALID_POLICY_TYPE);
    expect("not json", LV_E_INVALID_POLICY_TYPE);
    expect("{}", LV_E_INVALID_POLICY_TYPE);
    expect("\"Expiration\"", LV_E_INVALID_POLICY_TYPE);
    expect("null", LV_E_INVALID_POLICY_TYPE);
    expect("[1]", LV_E_INVALID_POLICY_TYPE);
    expect("[null]", LV_E_INVALID_POLICY_TYPE);
    expect("[{}]", LV_E_INVALID_POLICY_TYPE);
    expect("[{\"Type\":7,\"Attributes\":{}}]", LV_E_INVALID_POLICY_TYPE);
    expect("[{\"Type\":\"Expire\",\"Attributes\":{}}]", LV_E_INVALID_POLICY_TYPE);
    expect("[{\"Type\":\"expiration\",\"Attributes\":{\"Timestamp\":\"2030-12-02T21:34:33Z\"}}]",
           LV_E_INVALID_POLICY_TYPE);
    expect("[{\"Type\":\"Expiration\",\"Type\":\"Expiration\",\"Attributes\":{\"Timestamp\":\"2030-12-02T21:34:33Z\"}}]",
           LV_E_INVALID_POLICY_TYPE);
    /* A valid policy followed by an unknown one. */
    expect("[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":\"1\"}},{\"Type\":\"Foo\"}]",
           LV_E_INVALID_POLICY_TYPE);
}

static void test_invalid_attributes(void **state)
{
    (void)state;
    const char *docs[] = {
        "[{\"Type\":\"Expiration\"}]",
        "[{\"Type\":\"Expiration\",\"Attributes\":\"x\"}]",
        "[{\"Type\":\"Expiration\",\"Attributes\":{}}]",
        "[{\"Type\":\"Expiration\",\"Attributes\":{\"Timestamp\":\"tomorrow\"}}]",
        "[{\"Type\":\"Expiration\",\"Attributes\":{\"Timestamp\":1922477673}}]",
        "[{\"Type\":\"Expiration\",\"Attributes\":{\"Timestamp\":\"2030-13-02T21:34:33Z\"}}]",
        "[{\"Type\":\"Expiration\",\"Attributes\":{\"Timestamp\":\"2030-12-02T25:34:33Z\"}}]",
        "[{\"Type\":\"Expiration\",\"Attributes\":{\"Timestamp\":\"2030-12-02\"}}]",
        "[{\"Type\":\"Expiration\",\"Version\":\"2.0\",\"Attributes\":{\"Timestamp\":\"2030-12-02T21:34:33Z\"}}]",
        "[{\"Type\":\"Expiration\",\"Version\":1,\"Attributes\":{\"Timestamp\":\"2030-12-02T21:34:33Z\"}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":\"15\",\"Unit\":\"Weeks\"}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":\"15\",\"Unit\":\"days\"}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":\"-5\",\"Unit\":\"Days\"}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":-5}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":\"0\"}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":\"\"}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":\"5x\"}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":1.5}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"Before\":\"99999999999999999999\"}}]",
        "[{\"Type\":\"ExpirationNotification\",\"Attributes\":{\"After\":\"5\"}}]",
        "[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":\"-1\",\"Unit\":\"Hours\"}}]",
        "[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"Before\":\"3\"}}]",
        "[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":true}}]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        expect(docs[i], LV_E_INVALID_POLICY_ATTRIBUTE);
}

/* A Unit that is present but not a string is an error, not "Days". */
static void test_unit_wrong_type(void **state)
{
    (void)state;
    expect("[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":\"3\",\"Unit\":5}}]",
           LV_E_INVALID_POLICY_ATTRIBUTE);
    expect("[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":\"3\",\"Unit\":[\"Hours\"]}}]",
           LV_E_INVALID_POLICY_ATTRIBUTE);
    /* An absent Unit means Days. */
    expect("[{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":\"3\"}}]", LV_OK);
}

static char *n_policies(unsigned n)
{
    static const char item[] = "{\"Type\":\"NoChangeNotification\",\"Attributes\":{\"After\":\"1\"}}";
    char *s = malloc(2 + n * sizeof item + 1);
    assert_non_null(s);
    strcpy(s, "[");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, item);
    }
    strcat(s, "]");
    return s;
}

static void test_policies_limit(void **state)
{
    (void)state;
    lv_policy_set s;
    char *doc = n_policies(10);
    assert_int_equal(parse(doc, &s), LV_OK);
    assert_int_equal(s.n, 10);
    lv_error err = {0};
    /* Parsed, but more than one of a type is a conflict. */
    assert_int_equal(lv_policy_set_check(&s, T0, &err), LV_E_INCOMPATIBLE_POLICY);
    free(doc);
    doc = n_policies(11);
    assert_int_equal(parse(doc, &s), LV_E_POLICIES_LIMIT);
    free(doc);
    doc = n_policies(50);
    assert_int_equal(parse(doc, &s), LV_E_POLICIES_LIMIT);
    free(doc);
}

static void test_len_argument(void **state)
{
    (void)state;
    /* Only len bytes are the document. */
    const char doc[] = "[]garbage";
    lv_policy_set s;
    lv_error err = {0};
    assert_int_equal(lv_policy_parse(doc, 2, &s, &err), LV_OK);
    assert_int_equal(lv_policy_parse(doc, sizeof doc - 1, &s, &err), LV_E_INVALID_POLICY_TYPE);
}

static lv_err iso(const char *s, int64_t *ms)
{
    *ms = -12345;
    return lv_parse_iso8601(s, ms);
}

static void test_iso8601(void **state)
{
    (void)state;
    int64_t ms;
    struct {
        const char *s;
        int64_t want;
    } ok[] = {
        {"2026-01-02T03:04:05Z", T0},
        {"2026-01-02T03:04:05z", T0},
        {"2026-01-02t03:04:05Z", T0},
        {"2026-01-02T03:04:05", T0},
        {"2026-01-02T03:04:05.000Z", T0},
        {"2026-01-02T03:04:05.123Z", T0 + 123},
        {"2026-01-02T03:04:05.5Z", T0 + 500},
        {"2026-01-02T03:04:05.12Z", T0 + 120},
        {"2026-01-02T03:04:05.123456789Z", T0 + 123},
        {"2026-01-02T03:04:05+00:00", T0},
        {"2026-01-02T05:04:05+02:00", T0},
        {"2026-01-02T05:04:05+0200", T0},
        {"2026-01-01T21:34:05-05:30", T0},
        {"2026-01-01T21:34:05.250-0530", T0 + 250},
        {"1970-01-01T00:00:00Z", 0},
        {"2000-02-29T12:00:00Z", 951825600000LL},
        {"2030-12-02T21:34:33.000Z", 1922477673000LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        lv_err rc = iso(ok[i].s, &ms);
        if (rc != LV_OK)
            fail_msg("%s refused", ok[i].s);
        if (ms != ok[i].want)
            fail_msg("%s: expected %lld, got %lld", ok[i].s, (long long)ok[i].want, (long long)ms);
    }
    const char *bad[] = {
        "",
        "2026",
        "2026-01-02",
        "2026-01-02T03:04",
        "2026/01/02T03:04:05Z",
        "2026-01-02X03:04:05Z",
        "2026-1-02T03:04:05Z",
        "20260102T030405Z",
        "2026-00-02T03:04:05Z",
        "2026-13-02T03:04:05Z",
        "2026-01-00T03:04:05Z",
        "2026-01-32T03:04:05Z",
        "2026-01-02T24:00:00Z",
        "2026-01-02T03:60:05Z",
        "2026-01-02T03:04:61Z",
        "2026-01-02T03:04:05.Z",
        "2026-01-02T03:04:05.abcZ",
        "2026-01-02T03:04:05ZZ",
        "2026-01-02T03:04:05Z ",
        "2026-01-02T03:04:05+02",
        "2026-01-02T03:04:05+2:00",
        "2026-01-02T03:04:05+24:00",
        "2026-01-02T03:04:05+02:60",
        "2026-01-02T03:04:05+02:00x",
        "2026-01-02T03:04:05-",
        "2026-01-02T03:04:05+",
        "2026-01-02T03:04:05UTC",
        "1969-12-31T23:59:59Z",
        "abcd-ef-ghTij:kl:mn",
        "2026-01-02T03:04:05\x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (iso(bad[i], &ms) == LV_OK)
            fail_msg("'%s' accepted as %lld", bad[i], (long long)ms);
}

/* Dates that don't exist must be refused, not rolled into the next month
 * (timegm normalises 2026-02-30 to 2026-03-02). */
static void test_iso8601_impossible_dates(void **state)
{
    (void)state;
    const char *bad[] = {
        "2026-02-29T00:00:00Z", /* not a leap year */
        "2026-02-30T00:00:00Z",
        "2026-02-31T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-06-31T00:00:00Z",
        "2100-02-29T00:00:00Z", /* not a leap year either */
    };
    int64_t ms;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (iso(bad[i], &ms) == LV_OK)
            fail_msg("impossible date '%s' accepted as %lld", bad[i], (long long)ms);
    assert_int_equal(iso("2028-02-29T00:00:00Z", &ms), LV_OK);
    assert_int_equal(iso("2026-12-31T23:59:59Z", &ms), LV_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expiration),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_invalid_attributes),
        cmocka_unit_test(test_unit_wrong_type),
        cmocka_unit_test(test_policies_limit),
        cmocka_unit_test(test_len_argument),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_iso8601_impossible_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
