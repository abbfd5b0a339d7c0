/* test_agent_query.c - lever-agent's query-string parser: the extension's
 * parameters, percent-decoding, selectors, and a clear error for every
 * malformed form (duplicates, bad booleans and versions, conflicts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/query.h"

static int parse(const char *s, lva_query *q, char *err)
{
    return lva_query_parse(s, strlen(s), q, err, 256);
}

static void test_basic(void **state)
{
    (void)state;
    lva_query q;
    char err[256];
    assert_int_equal(parse("name=%2Fapp%2Fdb%2Furl&withDecryption=true", &q, err), 0);
    assert_string_equal(q.name, "/app/db/url");
    assert_string_equal(q.selector, "/app/db/url");
    assert_true(q.decrypt);
    assert_false(q.selected);
    assert_int_equal(q.version, 0);
    assert_null(q.label);
    lva_query_free(&q);

    /* unencoded slashes, any order, case-insensitive boolean, default false */
    assert_int_equal(parse("withDecryption=FALSE&name=/a/b", &q, err), 0);
    assert_string_equal(q.name, "/a/b");
    assert_false(q.decrypt);
    lva_query_free(&q);
    assert_int_equal(parse("name=/a", &q, err), 0);
    assert_false(q.decrypt);
    lva_query_free(&q);

    /* UTF-8 passes through (the server judges the name) */
    assert_int_equal(parse("name=/caf%C3%A9%F0%9F%98%80", &q, err), 0);
    assert_string_equal(q.name, "/caf\xc3\xa9\xf0\x9f\x98\x80");
    lva_query_free(&q);

    /* '+' is a space (form encoding); empty fields are skipped */
    assert_int_equal(parse("&&name=a+b&", &q, err), 0);
    assert_string_equal(q.name, "a b");
    lva_query_free(&q);
}

static void test_selectors(void **state)
{
    (void)state;
    lva_query q;
    char err[256];
    assert_int_equal(parse("name=/a&version=12", &q, err), 0);
    assert_int_equal(q.version, 12);
    assert_string_equal(q.selector, "/a:12");
    assert_true(q.selected);
    lva_query_free(&q);

    assert_int_equal(parse("name=/a&label=prod", &q, err), 0);
    assert_string_equal(q.label, "prod");
    assert_string_equal(q.selector, "/a:prod");
    assert_true(q.selected);
    lva_query_free(&q);

    assert_int_equal(parse("name=/a%3A3", &q, err), 0);
    assert_string_equal(q.selector, "/a:3");
    assert_true(q.selected);
    lva_query_free(&q);

    /* an ARN's own colons are not a selector; one after the last '/' is */
    assert_int_equal(parse("name=arn:aws:ssm:us-east-1:000000000000:parameter/a", &q, err), 0);
    assert_false(q.selected);
    lva_query_free(&q);
    assert_int_equal(parse("name=arn:aws:ssm:us-east-1:000000000000:parameter/a:2", &q, err), 0);
    assert_true(q.selected);
    lva_query_free(&q);

    /* the largest int64 is a version; one more overflows */
    assert_int_equal(parse("name=/a&version=9223372036854775807", &q, err), 0);
    assert_int_equal(q.version, INT64_MAX);
    lva_query_free(&q);
}

static void expect_bad(const char *qs, const char *word)
{
    lva_query q;
    char err[256] = "";
    if (parse(qs, &q, err) != -1)
        fail_msg("'%s' was accepted", qs);
    if (strstr(err, word) == NULL)
        fail_msg("'%s': message '%s' does not mention '%s'", qs, err, word);
    assert_null(q.name);
    assert_null(q.selector);
}

static void test_errors(void **state)
{
    (void)state;
    expect_bad("", "required");
    expect_bad("name=", "required");
    expect_bad("name", "required");
    expect_bad("version=1", "required");
    expect_bad("name=%zz", "percent");
    expect_bad("name=%2", "percent");
    expect_bad("name=abc%", "percent");
    expect_bad("name=%G0", "percent");
    expect_bad("na%me=x", "percent");
    expect_bad("name=/a%00b", "control");
    expect_bad("name=/a%0Ab", "control");
    expect_bad("name=/a%7f", "control");
    expect_bad("name=/a&name=/a", "more than once");
    expect_bad("name=/a&version=1&version=1", "more than once");
    expect_bad("name=/a&label=x&label=y", "more than once");
    expect_bad("withDecryption=true&name=/a&withDecryption=true", "more than once");
    expect_bad("name=/a&withDecryption=maybe", "withDecryption");
    expect_bad("name=/a&withDecryption=", "withDecryption");
    expect_bad("name=/a&withDecryption=1", "withDecryption");
    expect_bad("name=/a&version=abc", "version");
    expect_bad("name=/a&version=", "version");
    expect_bad("name=/a&version=0", "version");
    expect_bad("name=/a&version=-1", "version");
    expect_bad("name=/a&version=+1", "version");
    expect_bad("name=/a&version=01", "version");
    expect_bad("name=/a&version=1.5", "version");
    expect_bad("name=/a&version=9223372036854775808", "version");
    expect_bad("name=/a&version=1&label=prod", "not both");
    expect_bad("name=/a:3&version=1", "selector");
    expect_bad("name=/a:prod&label=x", "selector");
    expect_bad("name=/a&label=", "label");
    expect_bad("name=/a&Name=/b", "unknown");
    expect_bad("name=/a%C3", "UTF-8");           /* cut sequence */
    expect_bad("name=/a%C0%AF", "UTF-8");        /* overlong '/' */
    expect_bad("name=/a%ED%A0%80", "UTF-8");     /* surrogate */
    expect_bad("name=/a%F4%90%80%80", "UTF-8");  /* above U+10FFFF */
    expect_bad("name=/a&label=%FF", "UTF-8");
    expect_bad("name=/a&secretId=x", "unknown");

    /* over-long values are refused, not cut */
    char big[LVA_NAME_MAX + 16];
    memcpy(big, "name=", 5);
    memset(big + 5, 'a', LVA_NAME_MAX + 1);
    big[5 + LVA_NAME_MAX + 1] = '\0';
    expect_bad(big, "too long");
    big[5 + LVA_NAME_MAX] = '\0'; /* exactly the limit is fine */
    lva_query q;
    char err[256];
    assert_int_equal(parse(big, &q, err), 0);
    assert_int_equal(strlen(q.name), LVA_NAME_MAX);
    lva_query_free(&q);
}

static void test_bounds(void **state)
{
    (void)state;
    /* the length given is honoured even without a terminator after it */
    const char buf[] = {'n', 'a', 'm', 'e', '=', '/', 'x', '%', '4', '1'};
    lva_query q;
    char err[256];
    assert_int_equal(lva_query_parse(buf, 7, &q, err, sizeof err), 0);
    assert_string_equal(q.name, "/x");
    lva_query_free(&q);
    assert_int_equal(lva_query_parse(buf, 9, &q, err, sizeof err), -1); /* "%4" cut short */
    assert_int_equal(lva_query_parse(buf, sizeof buf, &q, err, sizeof err), 0);
    assert_string_equal(q.name, "/xA");
    lva_query_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
