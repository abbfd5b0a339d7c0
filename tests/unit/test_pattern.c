/* test_pattern.c - AllowedPattern compilation and matching: whole-value
 * (Java String.matches) semantics in both engines,
 * refusal of what the DFA matcher cannot run, and bounded cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/pattern.h"

static bool matches(const char *pat, const char *s)
{
    bool m = true;
    lv_error err;
    lv_err rc = lv_pattern_check(pat, s, strlen(s), &m, &err);
    if (rc != LV_OK)
        fail_msg("pattern %s on %s: %s", pat, s, err.msg);
    return m;
}

static lv_err compile_err(const char *pat, lv_error *err)
{
    lv_pattern *p = (lv_pattern *)1;
    lv_err rc = lv_pattern_compile(pat, strlen(pat), &p, err);
    if (rc == LV_OK)
        lv_pattern_free(p);
    else
        assert_null(p);
    return rc;
}

static void test_typical(void **state)
{
    (void)state;
    assert_true(matches("^\\d+$", "12345"));
    assert_false(matches("^\\d+$", "123a45"));
    assert_false(matches("^\\d+$", ""));
    assert_false(matches("^\\d+$", "12\n3"));

    assert_true(matches("^[a-zA-Z0-9_.-]+$", "my-app_v1.2"));
    assert_false(matches("^[a-zA-Z0-9_.-]+$", "my app"));
    assert_false(matches("^[a-zA-Z0-9_.-]+$", "a/b"));

    assert_true(matches("^https?://.*", "https://example.com/x"));
    assert_true(matches("^https?://.*", "http://"));
    assert_false(matches("^https?://.*", "ftp://example.com"));
    assert_false(matches("^https?://.*", " http://x"));

    assert_true(matches("^(dev|staging|prod)$", "staging"));
    assert_false(matches("^(dev|staging|prod)$", "production"));
    assert_true(matches("^[0-9]{1,5}$", "65535"));
    assert_false(matches("^[0-9]{1,5}$", "655350"));
    assert_true(matches("(?i)^yes$", "YeS"));
    assert_true(matches("^\\p{Lu}.*", "Ärger"));
    assert_false(matches("^\\p{Lu}", "Ärger"));
    /* Characters, not bytes: é is one character. */
    assert_true(matches("^.$", "\xc3\xa9"));
    /* The empty pattern matches the empty value only (plan.c treats an
     * empty AllowedPattern as none). */
    assert_false(matches("", "anything"));
    assert_true(matches("", ""));
}

static void test_whole_value(void **state)
{
    (void)state;
    /* AWS's user guide: \d{1,4} means "between 1 and 4 digits". */
    assert_true(matches("\\d{1,4}", "100"));
    assert_true(matches("\\d{1,4}", "1"));
    assert_false(matches("\\d{1,4}", "10,000"));
    assert_false(matches("\\d{1,4}", "12345"));
    assert_false(matches("\\d{1,4}", "abc1"));
    assert_false(matches("\\d{1,4}", ""));
    /* Without anchors the pattern still has to cover the whole value. */
    assert_false(matches("\\d", "abc1def"));
    assert_false(matches("bar", "foobarbaz"));
    assert_true(matches("foo.*", "foobar"));
    assert_false(matches("^foo", "foobar"));
    assert_false(matches("baz$", "foobarbaz"));
    /* An alternation cannot escape the anchoring: a|z is (a|z), whole. */
    assert_false(matches("a|z", "xyz"));
    assert_true(matches("a|z", "z"));
    assert_false(matches("a|ab", "abc"));
    assert_true(matches("a|ab", "ab"));
    assert_true(matches("(?i)yes|no", "YES"));
    /* Inner anchors keep their meaning. */
    assert_true(matches("^abc$", "abc"));
    assert_false(matches("abc$", "abc\n"));
    /* The bounded engine (lookarounds) answers the same way. */
    assert_true(matches("^(?=.*\\d)(?=.*[a-z]).{8,}$", "abcdefg1"));
    assert_false(matches("^(?=.*\\d)(?=.*[a-z]).{8,}$", "abcdefgh"));
    assert_true(matches("(?=.*\\d)\\w{1,4}", "ab1"));
    assert_false(matches("(?=.*\\d)\\w{1,4}", "ab1cd"));
    assert_false(matches("(?=.*\\d)\\w{1,4}", "ab1-"));
    assert_true(matches("x(?<=x)y", "xy"));
    assert_false(matches("(?<=x)y", "xy"));
    assert_false(matches("[\\D]", "ab"));
    assert_true(matches("[\\D]+", "ab"));
    assert_false(matches("(?=a)a|b", "ab"));
    /* Subjects may contain NUL. */
    bool m = false;
    lv_error err;
    assert_int_equal(lv_pattern_check("a.b", "a\0b", 3, &m, &err), LV_OK);
    assert_true(m);
    assert_int_equal(lv_pattern_check("b", "a\0b", 3, &m, &err), LV_OK);
    assert_false(m);
}

/* lv_pattern_compile is a search (Java's find(), the flag rules'
 * `matches`): a match anywhere in the value is enough. */
static bool finds(const char *pat, const char *s)
{
    lv_pattern *p = NULL;
    lv_error err;
    if (lv_pattern_compile(pat, strlen(pat), &p, &err) != LV_OK)
        fail_msg("pattern %s: %s", pat, err.msg);
    bool m = false;
    if (lv_pattern_match(p, s, strlen(s), &m, &err) != LV_OK)
        fail_msg("pattern %s on %s: %s", pat, s, err.msg);
    lv_pattern_free(p);
    return m;
}

static void test_search_semantics(void **state)
{
    (void)state;
    assert_true(finds("\\d", "abc1def"));
    assert_false(finds("\\d", "abcdef"));
    assert_true(finds("bar", "foobarbaz"));
    assert_true(finds("^foo", "foobar"));
    assert_false(finds("^bar", "foobar"));
    assert_true(finds("baz$", "foobarbaz"));
    assert_true(finds("a|z", "xyz"));
    assert_true(finds("\\d{1,4}", "12345"));
    assert_true(finds("", "anything"));
    /* the bounded engine searches too */
    assert_true(finds("(?<=x)y", "zxy"));
    assert_false(finds("(?<=x)y", "zy"));
    assert_true(finds("[\\D]", "1a2"));
    assert_false(finds("[\\D]", "12"));
}

static void test_compiled_reuse(void **state)
{
    (void)state;
    lv_pattern *p = NULL;
    lv_error err;
    assert_int_equal(lv_pattern_compile("^[a-z]+$", 8, &p, &err), LV_OK);
    bool m = false;
    assert_int_equal(lv_pattern_match(p, "abc", 3, &m, &err), LV_OK);
    assert_true(m);
    assert_int_equal(lv_pattern_match(p, "ab1", 3, &m, &err), LV_OK);
    assert_false(m);
    /* len bounds the subject, not a NUL. */
    assert_int_equal(lv_pattern_match(p, "ab1", 2, &m, &err), LV_OK);
    assert_true(m);
    lv_pattern_free(p);
    lv_pattern_free(NULL);
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "(",    "a)",      "[a-",  "*a",    "a{2,1}", "\\",
        "(?<n", "\\p{Nope}", "a**", "\xff", /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lv_error err;
        lv_error_clear(&err);
        assert_int_equal(compile_err(bad[i], &err),
                         LV_E_INVALID_ALLOWED_PATTERN);
        assert_int_equal(err.code, LV_E_INVALID_ALLOWED_PATTERN);
        assert_true(strlen(err.msg) > 0);
    }
    /* The reason comes from PCRE2, with the offset. */
    lv_error err;
    compile_err("abc(", &err);
    assert_non_null(strstr(err.msg, "missing closing parenthesis"));
    assert_non_null(strstr(err.msg, "offset 4"));
    /* lv_pattern_check reports compile errors too. */
    bool m = true;
    assert_int_equal(lv_pattern_check("(", "x", 1, &m, &err),
                     LV_E_INVALID_ALLOWED_PATTERN);
    assert_false(m);
}

static void test_dfa_unsupported(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "^(a)\\1$",         "(?<n>a)\\k<n>",   "(a)\\g{-1}",
        "(?P<n>a)(?P=n)",   "a\\Kb",           "a(*COMMIT)b",
        "(*SKIP)a",         "(*UTF)a",         "(*LIMIT_MATCH=10)a",
        "(a)?(?(1)b|c)",    "(?(?=a)a|b)",     "\\C",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lv_error err;
        lv_error_clear(&err);
        if (compile_err(bad[i], &err) != LV_E_INVALID_ALLOWED_PATTERN)
            fail_msg("%s was accepted", bad[i]);
        assert_true(strlen(err.msg) > 0);
    }
    lv_error err;
    compile_err("^(a)\\1$", &err);
    assert_non_null(strstr(err.msg, "backreference"));
    /* Look-alikes that are fine: escaped or in a class or quoted. */
    assert_true(matches("^\\(\\*\\)$", "(*)"));
    assert_true(matches("^[(*]+$", "(*"));
    assert_true(matches("^\\Q(*COMMIT)\\K\\E$", "(*COMMIT)\\K"));
    assert_true(matches("^[[:alpha:]]+[]*(]$", "ab("));
}

/* Java class syntax that POSIX brackets spell differently (lever translates
 * it for the linear-time engine). */
static void test_java_classes(void **state)
{
    (void)state;
    assert_true(matches("^[\\w.-]+$", "a.b-c_d"));
    assert_false(matches("^[\\w.-]+$", "a b"));
    assert_true(matches("^[^\\s]+$", "ab"));
    assert_false(matches("^[^\\s]+$", "a b"));
    assert_true(matches("^[\\]a]+$", "]a]"));
    assert_true(matches("^[a\\-z]+$", "a-z"));
    assert_false(matches("^[a\\-z]+$", "b"));
    assert_true(matches("^[\\^a]+$", "^a"));
    assert_true(matches("^[^^]+$", "ab"));
    assert_false(matches("^[^^]+$", "a^"));
    assert_true(matches("^[\\d]{3}-\\d{2}$", "123-45"));
    assert_true(matches("^(?:ab)+$", "abab"));
    assert_true(matches("^a+?$", "aaa"));
    assert_true(matches("^\\.$", "."));
    assert_false(matches("^\\.$", "x"));
    assert_true(matches("^\\$\\{[A-Z_]+\\}$", "${HOME}"));
    assert_true(matches("^[\\D]+$", "ab"));   /* via the bounded engine */
    assert_false(matches("^[\\D]+$", "a1"));
    assert_true(matches("^.{2}$", "\xc3\xa9\xc3\xa9")); /* two characters */
    char many[301];
    memset(many, 'a', 300);
    many[300] = '\0';
    assert_true(matches("^a{300}$", many));
    assert_false(matches("^a{301}$", many));
}

static void test_catastrophic(void **state)
{
    (void)state;
    size_t n = 100 * 1024;
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, 'a', n - 1);
    s[n - 1] = 'b';
    s[n] = '\0';
    static const char *const pats[] = {
        "^(a+)+$", "(a+)+$", "^(a|aa)+$", "(a|a)*c", "a+$", "(x+x+)+y",
        "^(\\w+\\s?)*$", "(?=(a+)+$)",
    };
    /* The value is all word characters, so only ^(\w+\s?)*$ matches. */
    static const bool want[] = {false, false, false, false, false, false, true, false};
    for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
        /* Either an answer or a "too complex" error: it must return. */
        bool m = true;
        lv_error err;
        lv_err rc = lv_pattern_check(pats[i], s, n, &m, &err);
        if (rc == LV_OK)
            assert_int_equal(m, want[i]);
        else
            assert_int_equal(rc, LV_E_INVALID_ALLOWED_PATTERN);
    }
    free(s);
}

static void test_too_long(void **state)
{
    (void)state;
    char pat[1100];
    memset(pat, 'a', sizeof pat);
    lv_pattern *p = NULL;
    lv_error err;
    assert_int_equal(lv_pattern_compile(pat, 1024, &p, &err), LV_OK);
    lv_pattern_free(p);
    assert_int_equal(lv_pattern_compile(pat, 1025, &p, &err),
                     LV_E_INVALID_ALLOWED_PATTERN);
    assert_null(p);
    assert_non_null(strstr(err.msg, "1024"));
}

static void test_bad_subject(void **state)
{
    (void)state;
    bool m = true;
    lv_error err;
    assert_int_equal(lv_pattern_check("a", "\xff" "a", 2, &m, &err),
                     LV_E_VALIDATION);
    assert_false(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typical),
        cmocka_unit_test(test_java_classes),
        cmocka_unit_test(test_whole_value),
        cmocka_unit_test(test_search_semantics),
        cmocka_unit_test(test_compiled_reuse),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_dfa_unsupported),
        cmocka_unit_test(test_catastrophic),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_bad_subject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
