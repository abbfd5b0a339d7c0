/* test_name.c - names, paths, labels, selectors and ARNs (core/name.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/name.h"

/* Canonical form of in, or NULL when refused (then *code says why). */
static char *canon(const char *in, size_t len, lv_err *code)
{
    lv_buf out = LV_BUF_INIT;
    lv_error err = {0};
    lv_err rc = lv_name_canonical(in, len, &out, &err);
    *code = rc;
    if (rc != LV_OK) {
        assert_int_equal(err.code, rc);
        assert_true(err.msg[0] != '\0');
        lv_buf_free(&out);
        return NULL;
    }
    assert_int_equal(strlen(out.data), out.len);
    return lv_buf_steal(&out, NULL);
}

static void expect_canon(const char *in, const char *want)
{
    lv_err code;
    char *got = canon(in, strlen(in), &code);
    if (got == NULL)
        fail_msg("'%s' refused (%s), expected '%s'", in, lv_err_name(code), want);
    assert_string_equal(got, want);
    free(got);
}

static void expect_canon_refused(const char *in, size_t len)
{
    lv_err code;
    char *got = canon(in, len, &code);
    if (got != NULL)
        fail_msg("'%.*s' accepted as '%s'", (int)len, in, got);
    assert_int_equal(code, LV_E_VALIDATION);
}
#define REFUSED(s) expect_canon_refused((s), strlen(s))

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_canonical_plain(void **state)
{
    (void)state;
    expect_canon("x", "x");
    expect_canon("my-param_1.two", "my-param_1.two");
    /* No hierarchy: one parameter with or without the slash, stored bare. */
    expect_canon("/a", "a");
    expect_canon("/single-level.name", "single-level.name");
    expect_canon("/a/b", "/a/b");
    expect_canon("/Prod/DB/password", "/Prod/DB/password");
    expect_canon("/a.b/c-d/e_f/0", "/a.b/c-d/e_f/0");
}

static void test_canonical_len_argument(void **state)
{
    (void)state;
    /* Only len bytes count, even when the buffer goes on. */
    lv_err code;
    char *got = canon("/a/bcdef", 4, &code);
    assert_non_null(got);
    assert_string_equal(got, "/a/b");
    free(got);
}

static void test_canonical_arn(void **state)
{
    (void)state;
    expect_canon("arn:aws:ssm:us-east-1:123456789012:parameter/a/b", "/a/b");
    expect_canon("arn:aws:ssm:us-east-1:123456789012:parameter/x", "x");
    expect_canon("arn:aws:ssm:eu-west-3:000000000000:parameter/a/b/c", "/a/b/c");
    expect_canon("arn:aws-cn:ssm:cn-north-1:123456789012:parameter/p", "p");
    /* Not a parameter ARN. */
    REFUSED("arn:aws:ssm:us-east-1:123456789012:document/x");
    REFUSED("arn:aws:ssm:us-east-1:123456789012");
    REFUSED("arn:aws:ssm:us-east-1:123456789012:parameter/");
    REFUSED("arn:aws:ssm:us-east-1:123456789012:parameter");
    REFUSED("arn:aws:ssm:us-east-1:123456789012:parameter//a");
    REFUSED("arn:aws:ssm:us-east-1:123456789012:parameter/a b");
}

static void test_canonical_refused(void **state)
{
    (void)state;
    expect_canon_refused("", 0);
    REFUSED("a b");
    REFUSED(" a");
    REFUSED("/a/b ");
    REFUSED("a/b");        /* has '/' but does not start with it */
    REFUSED("a/");
    REFUSED("//a");
    REFUSED("/a//b");
    REFUSED("/a/");
    REFUSED("/");
    REFUSED("/a/b/");
    REFUSED("a*");
    REFUSED("a:b");
    REFUSED("a$b");
    REFUSED("a\tb");
    REFUSED("na\xc3\xafve");
    REFUSED("a\\b");
    expect_canon_refused("a\0b", 3);
}

static void test_canonical_length(void **state)
{
    (void)state;
    char *s = repeat('a', 1011);
    expect_canon(s, s);
    free(s);
    s = repeat('a', 1012);
    REFUSED(s);
    free(s);
    /* With a leading slash the slash counts too (a hierarchical name, so it
     * keeps its slash). */
    s = repeat('b', 1011);
    s[0] = '/';
    s[5] = '/';
    expect_canon(s, s);
    free(s);
    s = repeat('b', 1012);
    s[0] = '/';
    REFUSED(s);
    free(s);
    /* The limit applies to the name, not the ARN around it. */
    char *name = repeat('c', 1011);
    char arn[1200];
    snprintf(arn, sizeof arn, "arn:aws:ssm:us-east-1:123456789012:parameter/%s", name);
    expect_canon(arn, name);
    free(name);
    name = repeat('c', 1012);
    snprintf(arn, sizeof arn, "arn:aws:ssm:us-east-1:123456789012:parameter/%s", name);
    REFUSED(arn);
    free(name);
}

static lv_err check_create(const char *name)
{
    lv_error err = {0};
    lv_err rc = lv_name_check_create(name, &err);
    if (rc != LV_OK) {
        assert_int_equal(err.code, rc);
        assert_true(err.msg[0] != '\0');
    }
    return rc;
}

/* "/l1/l2/.../ln" */
static char *levels(unsigned n)
{
    char *s = malloc(n * 4 + 1);
    assert_non_null(s);
    s[0] = '\0';
    for (unsigned i = 1; i <= n; i++)
        sprintf(s + strlen(s), "/l%u", i);
    return s;
}

static void test_check_create(void **state)
{
    (void)state;
    assert_int_equal(check_create("x"), LV_OK);
    assert_int_equal(check_create("/a/b"), LV_OK);
    assert_int_equal(check_create("/app/aws"), LV_OK);
    assert_int_equal(check_create("my-aws"), LV_OK);
    assert_int_equal(check_create("/as/x"), LV_OK);
    assert_int_equal(check_create("aw"), LV_OK);

    const char *reserved[] = {"aws", "awsx", "AWS-thing", "Aws.x", "ssm", "ssmfoo", "SSM",
                              "sSm_1", "/aws", "/AWS", "/ssm/x", "/SSM/a/b", "/ssmx", "/awsome"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (check_create(reserved[i]) != LV_E_VALIDATION)
            fail_msg("%s: expected VALIDATION, got %s", reserved[i],
                     lv_err_name(check_create(reserved[i])));

    assert_int_equal(check_create("/aws/x/y"), LV_E_ACCESS_DENIED);
    assert_int_equal(check_create("/aws/x"), LV_E_ACCESS_DENIED);
    assert_int_equal(check_create("/AWS/reference/x"), LV_E_ACCESS_DENIED);
}

static void test_levels(void **state)
{
    (void)state;
    assert_int_equal(lv_name_levels("a"), 1);
    assert_int_equal(lv_name_levels("/a"), 1);
    assert_int_equal(lv_name_levels("/a/b"), 2);
    assert_int_equal(lv_name_levels("/a/b/c"), 3);

    char *s = levels(15);
    assert_int_equal(lv_name_levels(s), 15);
    assert_int_equal(check_create(s), LV_OK);
    free(s);
    s = levels(16);
    assert_int_equal(lv_name_levels(s), 16);
    assert_int_equal(check_create(s), LV_E_HIERARCHY_LEVEL_LIMIT);
    free(s);
    s = levels(40);
    assert_int_equal(check_create(s), LV_E_HIERARCHY_LEVEL_LIMIT);
    free(s);
}

static void expect_path(const char *in, const char *want)
{
    lv_buf out = LV_BUF_INIT;
    lv_error err = {0};
    lv_err rc = lv_path_canonical(in, strlen(in), &out, &err);
    if (want == NULL) {
        if (rc == LV_OK)
            fail_msg("path '%s' accepted as '%s'", in, out.data);
        assert_int_equal(rc, LV_E_VALIDATION);
        assert_int_equal(err.code, LV_E_VALIDATION);
    } else {
        if (rc != LV_OK)
            fail_msg("path '%s' refused: %s", in, err.msg);
        assert_string_equal(out.data, want);
        assert_int_equal(out.len, strlen(want));
    }
    lv_buf_free(&out);
}

static void test_path_canonical(void **state)
{
    (void)state;
    expect_path("/", "/");
    expect_path("/a", "/a/");
    expect_path("/a/", "/a/");
    expect_path("/a/b", "/a/b/");
    expect_path("/a/b/", "/a/b/");
    expect_path("arn:aws:ssm:us-east-1:123456789012:parameter/a/b", "/a/b/");
    expect_path("", NULL);
    expect_path("a", NULL);
    expect_path("a/b", NULL);
    expect_path("//", NULL);
    expect_path("//a", NULL);
    expect_path("/a//b", NULL);
    expect_path("/a b", NULL);
    expect_path("/a*", NULL);
    expect_path("arn:aws:ssm:us-east-1:123456789012:parameter/x", NULL);

    char *s = repeat('p', 1011);
    s[0] = '/';
    char *want = malloc(1013);
    assert_non_null(want);
    snprintf(want, 1013, "%s/", s);
    expect_path(s, want);
    free(want);
    free(s);
    s = repeat('p', 1012);
    s[0] = '/';
    expect_path(s, NULL);
    free(s);
}

static void test_label_valid(void **state)
{
    (void)state;
    assert_true(lv_label_valid("prod"));
    assert_true(lv_label_valid("a"));
    assert_true(lv_label_valid("Release_1.2-rc"));
    assert_true(lv_label_valid("v1"));
    assert_true(lv_label_valid("_x"));
    assert_true(lv_label_valid("my-aws"));
    assert_true(lv_label_valid("as"));
    assert_true(lv_label_valid("-1"));

    assert_false(lv_label_valid(""));
    assert_false(lv_label_valid("1abc"));
    assert_false(lv_label_valid("9"));
    assert_false(lv_label_valid("aws"));
    assert_false(lv_label_valid("awsLabel"));
    assert_false(lv_label_valid("AWS-1"));
    assert_false(lv_label_valid("ssm"));
    assert_false(lv_label_valid("SsmX"));
    assert_false(lv_label_valid("a b"));
    assert_false(lv_label_valid("a/b"));
    assert_false(lv_label_valid("a:b"));
    assert_false(lv_label_valid("a*"));
    assert_false(lv_label_valid("caf\xc3\xa9"));

    char *s = repeat('L', 100);
    assert_true(lv_label_valid(s));
    free(s);
    s = repeat('L', 101);
    assert_false(lv_label_valid(s));
    free(s);
}

typedef struct split_result {
    lv_err rc;
    char name[2200];
    lv_selector sel;
    char label[128];
} split_result;

static split_result split(const char *in)
{
    split_result r;
    memset(&r, 0, sizeof r);
    size_t len = strlen(in);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    memcpy(buf, in, len + 1);
    size_t name_len = (size_t)-1;
    lv_error err = {0};
    r.rc = lv_selector_split(buf, len, &name_len, &r.sel, &err);
    if (r.rc == LV_OK) {
        assert_true(name_len <= len);
        memcpy(r.name, buf, name_len);
        r.name[name_len] = '\0';
        if (r.sel.has_selector && !r.sel.is_version) {
            assert_non_null(r.sel.label);
            /* The label points into the caller's buffer. */
            assert_true(r.sel.label > buf && r.sel.label < buf + len);
            snprintf(r.label, sizeof r.label, "%s", r.sel.label);
        }
    } else {
        assert_int_equal(err.code, r.rc);
    }
    free(buf);
    return r;
}

static void test_selector_split(void **state)
{
    (void)state;
    split_result r = split("/a/b");
    assert_int_equal(r.rc, LV_OK);
    assert_false(r.sel.has_selector);
    assert_string_equal(r.name, "/a/b");

    r = split("name:3");
    assert_int_equal(r.rc, LV_OK);
    assert_true(r.sel.has_selector);
    assert_true(r.sel.is_version);
    assert_int_equal(r.sel.version, 3);
    assert_string_equal(r.name, "name");

    r = split("/a/b:prod");
    assert_int_equal(r.rc, LV_OK);
    assert_true(r.sel.has_selector);
    assert_false(r.sel.is_version);
    assert_string_equal(r.label, "prod");
    assert_string_equal(r.name, "/a/b");

    r = split("name:4294967295");
    assert_int_equal(r.rc, LV_OK);
    assert_true(r.sel.is_version);
    assert_int_equal(r.sel.version, 4294967295u);

    r = split("arn:aws:ssm:us-east-1:123456789012:parameter/a/b:7");
    assert_int_equal(r.rc, LV_OK);
    assert_true(r.sel.is_version);
    assert_int_equal(r.sel.version, 7);
    assert_string_equal(r.name, "arn:aws:ssm:us-east-1:123456789012:parameter/a/b");

    r = split("arn:aws:ssm:us-east-1:123456789012:parameter/a/b:live");
    assert_int_equal(r.rc, LV_OK);
    assert_string_equal(r.label, "live");
    assert_string_equal(r.name, "arn:aws:ssm:us-east-1:123456789012:parameter/a/b");

    r = split("arn:aws:ssm:us-east-1:123456789012:parameter/x");
    assert_int_equal(r.rc, LV_OK);
    assert_false(r.sel.has_selector);
    assert_string_equal(r.name, "arn:aws:ssm:us-east-1:123456789012:parameter/x");

    /* Malformed selectors. */
    const char *bad[] = {
        "name:",           "name:0",          "name:00",       "name:4294967296",
        "name:99999999999999999999999", "name:12a", "name:1.5", "name:1-",
        "name:aws",        "name:ssmLabel",   "name:a b",      "name:a:b",
        "arn:aws:ssm:us-east-1:123456789012:parameter/a:",
        "arn:aws:ssm:us-east-1:123456789012:document/a:3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = split(bad[i]);
        if (r.rc != LV_E_VALIDATION)
            fail_msg("selector '%s': expected VALIDATION, got %s", bad[i], lv_err_name(r.rc));
    }
}

static void test_selector_split_nul_in_label(void **state)
{
    (void)state;
    char buf[] = "name:ab\0cd";
    size_t name_len;
    lv_selector sel;
    lv_error err = {0};
    assert_int_equal(lv_selector_split(buf, sizeof buf - 1, &name_len, &sel, &err),
                     LV_E_VALIDATION);
}

static void test_name_arn(void **state)
{
    (void)state;
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_name_arn("us-east-1", "123456789012", "/a/b", &b), LV_OK);
    assert_string_equal(b.data, "arn:aws:ssm:us-east-1:123456789012:parameter/a/b");
    lv_buf_reset(&b);
    assert_int_equal(lv_name_arn("eu-west-1", "000000000000", "x", &b), LV_OK);
    assert_string_equal(b.data, "arn:aws:ssm:eu-west-1:000000000000:parameter/x");

    /* An ARN turns back into the name it came from. */
    const char *names[] = {"/a/b", "x", "/deep/er/path.x", "/a/b/c/d"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        lv_buf_reset(&b);
        assert_int_equal(lv_name_arn("us-west-2", "111122223333", names[i], &b), LV_OK);
        expect_canon(b.data, names[i]);
    }
    /* "/single" and "single" share an ARN (as in AWS); it reads back as "single". */
    lv_buf_reset(&b);
    assert_int_equal(lv_name_arn("us-east-1", "123456789012", "/single", &b), LV_OK);
    assert_string_equal(b.data, "arn:aws:ssm:us-east-1:123456789012:parameter/single");
    expect_canon(b.data, "single");
    lv_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_plain),
        cmocka_unit_test(test_canonical_len_argument),
        cmocka_unit_test(test_canonical_arn),
        cmocka_unit_test(test_canonical_refused),
        cmocka_unit_test(test_canonical_length),
        cmocka_unit_test(test_check_create),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_path_canonical),
        cmocka_unit_test(test_label_valid),
        cmocka_unit_test(test_selector_split),
        cmocka_unit_test(test_selector_split_nul_in_label),
        cmocka_unit_test(test_name_arn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
