/* test_flagrule.c - the flag rule language: every operator matching and not
 * matching, coercion of context values, missing keys, timestamps, split,
 * and parse errors with their positions and bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bucket.h"
#include "core/flagrule.h"

static const lv_flag_kv KV[] = {
    {"state", "Virginia", LV_FV_STRING},
    {"age", "70", LV_FV_STRING},
    {"score", "7.5", LV_FV_NUMBER},
    {"email", "jane@qa-testers.example.com", LV_FV_STRING},
    {"beta", "true", LV_FV_BOOL},
    {"promoCode", "WINTER24", LV_FV_STRING},
    {"userId", "123", LV_FV_STRING},
    {"signup", "2024-03-01T10:00:00Z", LV_FV_STRING},
    {"greeting", "happy", LV_FV_STRING},
    {"empty", "", LV_FV_STRING},
    {"user.id", "u-1", LV_FV_STRING},
    {"zip", "02134", LV_FV_STRING},
};
static const lv_flag_context CTX = {KV, sizeof KV / sizeof KV[0], "entity-7"};

static bool eval_ctx(const char *rule, const lv_flag_context *ctx)
{
    lv_flagrule *r = NULL;
    lv_error err;
    if (lv_flagrule_parse(rule, strlen(rule), &r, &err) != LV_OK)
        fail_msg("parse %s: %s", rule, err.msg);
    bool m = false, split = false;
    if (lv_flagrule_eval(r, ctx, "flag:test", NULL, &m, &split, &err) != LV_OK)
        fail_msg("eval %s: %s", rule, err.msg);
    lv_flagrule_free(r);
    return m;
}

static bool eval(const char *rule)
{
    return eval_ctx(rule, &CTX);
}

/* The message of a rule that must not parse; checks it names a position. */
static const char *parse_error(const char *rule)
{
    static lv_error err;
    lv_flagrule *r = (lv_flagrule *)1;
    lv_err rc = lv_flagrule_parse(rule, strlen(rule), &r, &err);
    if (rc == LV_OK)
        fail_msg("rule parsed but should not: %s", rule);
    assert_int_equal(rc, LV_E_VALIDATION);
    assert_null(r);
    assert_true(strncmp(err.msg, "position ", 9) == 0);
    return err.msg;
}

static void test_comparisons(void **state)
{
    (void)state;
    assert_true(eval("(eq $state \"Virginia\")"));
    assert_false(eval("(eq $state \"virginia\")"));
    assert_true(eval("(neq $state \"Ohio\")"));
    assert_false(eval("(neq $state \"Virginia\")"));
    /* A string context value compared with a number is a number. */
    assert_true(eval("(gt $age 65)"));
    assert_false(eval("(gt $age 70)"));
    assert_true(eval("(gte $age 70)"));
    assert_false(eval("(gte $age 71)"));
    assert_true(eval("(lt $age 70.5)"));
    assert_false(eval("(lt $age 70)"));
    assert_true(eval("(lte $age 70)"));
    assert_false(eval("(lte $age 69.99)"));
    assert_true(eval("(eq $age 70.0)"));
    assert_true(eval("(eq $score 7.5)"));
    assert_true(eval("(gt $score 7)"));
    /* Strings order by bytes. */
    assert_true(eval("(gt $state \"Texas\")"));
    assert_false(eval("(lt $state \"Texas\")"));
    /* "02134" as a string equals "02134", as a number 2134. */
    assert_true(eval("(eq $zip \"02134\")"));
    assert_true(eval("(eq $zip 2134)"));
    assert_false(eval("(eq $zip \"2134\")"));
    /* Booleans: from typed values and from strings. */
    assert_true(eval("(eq $beta true)"));
    assert_false(eval("(eq $beta false)"));
    assert_false(eval("(gt $beta false)")); /* booleans are not ordered */
    /* Operands are commutative, literals compare too. */
    assert_true(eval("(lt 65 $age)"));
    assert_true(eval("(eq 1 1.0)"));
    assert_true(eval("(eq \"5\" 5)"));
    /* A value that is not a number never compares with one. */
    assert_false(eval("(gt $state 1)"));
    assert_false(eval("(lt $state 1)"));
    assert_false(eval("(eq $state 1)"));
    assert_true(eval("(neq $state 1)"));
    /* Negative numbers, exponents, int64 edges. */
    assert_true(eval("(gt $age -7)"));
    assert_true(eval("(lt $age 1.234e5)"));
    assert_true(eval("(lt -9223372036854775808 9223372036854775807)"));
}

static void test_missing_keys(void **state)
{
    (void)state;
    /* A missing key matches no comparison, not even neq; not inverts. */
    assert_false(eval("(eq $nope \"x\")"));
    assert_false(eval("(neq $nope \"x\")"));
    assert_false(eval("(gt $nope 1)"));
    assert_false(eval("(lt $nope 1)"));
    assert_true(eval("(not (eq $nope \"x\"))"));
    assert_false(eval("(begins_with $nope \"x\")"));
    assert_false(eval("(contains $nope \"\")"));
    assert_false(eval("(in $nope [\"x\"])"));
    assert_false(eval("(matches in::$nope pattern::\".*\")"));
    assert_false(eval("(split pct::100 by::$nope)"));
    /* No context at all. */
    assert_false(eval_ctx("(eq $state \"Virginia\")", NULL));
    assert_false(eval_ctx("(exists key::\"state\")", NULL));
    assert_true(eval_ctx("(not (exists key::\"state\"))", NULL));
    /* An empty value is present. */
    assert_true(eval("(exists key::\"empty\")"));
    assert_true(eval("(eq $empty \"\")"));
}

static void test_logic(void **state)
{
    (void)state;
    assert_true(eval("(and (eq $state \"Virginia\") (gt $age 65))"));
    assert_false(eval("(and (eq $state \"Virginia\") (gt $age 75))"));
    assert_true(eval("(or (eq $state \"Ohio\") (gt $age 65))"));
    assert_false(eval("(or (eq $state \"Ohio\") (gt $age 75))"));
    assert_true(eval("(not (eq $state \"Ohio\"))"));
    assert_false(eval("(not (eq $state \"Virginia\"))"));
    assert_true(eval("(and true (or false true) (not false))"));
    assert_false(eval("(and (eq $age 70) (eq $age 70) false)"));
    assert_true(eval("(or (eq $age 1) (eq $age 2) (eq $age 70))"));
    assert_true(eval("true"));
    assert_false(eval("false"));
    assert_true(eval("  (and\n\t(eq $state \"Virginia\")\n  (gt $age 65)\n)  "));
    /* A comparison of expression results. */
    assert_true(eval("(eq (exists key::\"state\") true)"));
}

static void test_string_operators(void **state)
{
    (void)state;
    assert_true(eval("(begins_with $state \"Vir\")"));
    assert_false(eval("(begins_with $state \"ir\")"));
    assert_true(eval("(begins_with $state \"\")"));
    assert_false(eval("(begins_with $state \"Virginia!\")"));
    assert_true(eval("(ends_with $email \"example.com\")"));
    assert_false(eval("(ends_with $email \"example.org\")"));
    assert_true(eval("(contains $promoCode \"WIN\")"));
    assert_false(eval("(contains $promoCode \"win\")"));
    assert_true(eval("(contains $promoCode $promoCode)"));
    /* Typed values use their text. */
    assert_true(eval("(begins_with $score \"7.\")"));
    assert_true(eval("(eq $user.id \"u-1\")"));
}

static void test_in(void **state)
{
    (void)state;
    assert_true(eval("(in $userId [\"123\", \"456\"])"));
    assert_false(eval("(in $userId [\"1234\", \"456\"])"));
    assert_true(eval("(in $age [1, 70, 3])"));
    assert_false(eval("(in $age [1, 2, 3])"));
    assert_false(eval("(in $userId [])"));
    assert_true(eval("(in $userId [\"x\", 123,])"));
    assert_true(eval("(in $beta [false, true])"));
}

static void test_matches(void **state)
{
    (void)state;
    assert_true(eval("(matches in::$greeting pattern::\"h.*y\")"));
    assert_false(eval("(matches in::$greeting pattern::\"^h.*x$\")"));
    assert_true(eval("(matches pattern::\"^[0-9]+$\" in::$userId)"));
    assert_false(eval("(matches in::$state pattern::\"^[0-9]+$\")"));
    assert_true(eval("(matches in::\"abc\" pattern::\"b\")"));
    /* Pathological patterns stay linear. */
    assert_false(eval("(matches in::\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\" pattern::\"^(a+)+$\")"));
}

static void test_exists(void **state)
{
    (void)state;
    assert_true(eval("(exists key::\"state\")"));
    assert_false(eval("(exists key::\"country\")"));
    assert_true(eval("(exists key::\"user.id\")"));
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_true(eval("(gt $signup 2024-01-01T00:00:00Z)"));
    assert_false(eval("(gt $signup 2024-03-01T10:00:00Z)"));
    assert_true(eval("(eq $signup 2024-03-01T05:00:00-05:00)"));
    assert_true(eval("(gte $signup 2024-03)"));
    assert_true(eval("(lt $signup 2024-03-02)"));
    assert_true(eval("(lt $signup 2025T)"));
    assert_true(eval("(gte $signup 2024-03-01T10:00Z)"));
    assert_false(eval("(gt $signup 2024-03-01T10:00Z)"));
    assert_false(eval("(gt $signup 2024-03-01T10:00:00.001Z)"));
    assert_true(eval("(lt 2012-03-04T05:06:07-08:00 2012-03-04T13:06:08Z)"));
    /* A value that is no timestamp never compares with one. */
    assert_false(eval("(lt $state 2024-01-01)"));
    assert_false(eval("(gt $state 2024-01-01)"));

    int64_t s;
    int32_t ns;
    assert_true(lv_flagrule_parse_time("1970-01-01T00:00:00Z", 20, &s, &ns));
    assert_int_equal(s, 0);
    assert_true(lv_flagrule_parse_time("2000-02-29", 10, &s, &ns));
    assert_int_equal(s, 951782400);
    assert_true(lv_flagrule_parse_time("2024-01-02T03:04:05.25+01:30", 28, &s, &ns));
    assert_int_equal(s, 1704164645 - 5400);
    assert_int_equal(ns, 250000000);
    assert_false(lv_flagrule_parse_time("2023-02-29", 10, &s, &ns));
    assert_false(lv_flagrule_parse_time("2024-13", 7, &s, &ns));
    assert_false(lv_flagrule_parse_time("2024-01-01T10:00", 16, &s, &ns)); /* no zone */
    assert_false(lv_flagrule_parse_time("2024-01-01T25:00Z", 17, &s, &ns));
    assert_false(lv_flagrule_parse_time("24-01-01", 8, &s, &ns));
}

/* split: shares within 2 points over 10,000 entities, stable per entity,
 * correlated within a seed (20 then 25 gives 20 and 5), independent across
 * seeds, and the entity id when by:: is absent. */
static void test_split(void **state)
{
    (void)state;
    lv_flagrule *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    lv_error err;
    const char *ra = "(split by::$uid pct::20)";
    const char *rb = "(split by::$uid pct::25)";
    const char *rc = "(split by::$uid pct::25 seed::\"other\")";
    const char *rd = "(split pct::50 seed::\"s\")";
    assert_int_equal(lv_flagrule_parse(ra, strlen(ra), &a, &err), LV_OK);
    assert_int_equal(lv_flagrule_parse(rb, strlen(rb), &b, &err), LV_OK);
    assert_int_equal(lv_flagrule_parse(rc, strlen(rc), &c, &err), LV_OK);
    assert_int_equal(lv_flagrule_parse(rd, strlen(rd), &d, &err), LV_OK);
    assert_true(lv_flagrule_has_split(a));
    int na = 0, nb = 0, nc = 0, nd = 0;
    char uid[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(uid, sizeof uid, "user-%d", i);
        lv_flag_kv kv[] = {{"uid", uid, LV_FV_STRING}};
        lv_flag_context ctx = {kv, 1, uid};
        bool ma, mb, mc, md, hit, again;
        lv_flagrule_memo memo = LV_FLAGRULE_MEMO_INIT;
        assert_int_equal(lv_flagrule_eval(a, &ctx, "flag:f", &memo, &ma, &hit, &err), LV_OK);
        assert_true(hit == ma);
        assert_int_equal(lv_flagrule_eval(b, &ctx, "flag:f", &memo, &mb, NULL, &err), LV_OK);
        assert_int_equal(lv_flagrule_eval(c, &ctx, "flag:f", &memo, &mc, NULL, &err), LV_OK);
        assert_int_equal(lv_flagrule_eval(d, &ctx, "flag:f", NULL, &md, NULL, &err), LV_OK);
        /* Stable: the same answer again, without the memo. */
        assert_int_equal(lv_flagrule_eval(a, &ctx, "flag:f", NULL, &again, NULL, &err), LV_OK);
        assert_int_equal(again, ma);
        /* The published function decides. */
        assert_int_equal(ma, lv_bucket_entity_in("flag:f", uid, 20));
        assert_int_equal(mc, lv_bucket_entity_in("other", uid, 25));
        assert_int_equal(md, lv_bucket_entity_in("s", uid, 50));
        if (ma)
            assert_true(mb); /* same seed: the 20 % are inside the 25 % */
        na += ma;
        nb += mb && !ma;
        nc += mc && !ma;
        nd += md;
    }
    assert_in_range(na, 1800, 2200);
    assert_in_range(nb, 300, 700);    /* 5 % left for the second variant */
    assert_in_range(nc, 1800, 2200);  /* 25 % of the 80 % */
    assert_in_range(nd, 4800, 5200);
    /* Without an entity and without by::, split is false. */
    lv_flag_context none = {NULL, 0, NULL};
    bool m = true;
    assert_int_equal(lv_flagrule_eval(d, &none, "x", NULL, &m, NULL, &err), LV_OK);
    assert_false(m);
    lv_flagrule_free(a);
    lv_flagrule_free(b);
    lv_flagrule_free(c);
    lv_flagrule_free(d);
    /* pct edges. */
    assert_false(eval("(split pct::0)"));
    assert_true(eval("(split pct::100)"));
    assert_true(eval("(split pct::100 by::$state seed::\"x\")"));
}

static void test_parse_errors(void **state)
{
    (void)state;
    assert_string_equal(parse_error("(foo $a 1)"), "position 2: unknown operator \"foo\"");
    assert_string_equal(parse_error("(eq $a 1"), "position 1: missing \")\" for this \"(\"");
    assert_string_equal(parse_error("(eq $a \"x)"), "position 8: unterminated string");
    assert_string_equal(parse_error(""), "position 1: the rule is empty");
    assert_string_equal(parse_error("(eq $a 1) x"), "position 11: unexpected text after the end of the rule");
    assert_string_equal(parse_error("(eq $a)"), "position 1: eq takes exactly two operands");
    assert_string_equal(parse_error("(not)"), "position 1: not takes exactly one operand");
    assert_string_equal(parse_error("(and)"), "position 1: and needs at least one operand");
    assert_string_equal(parse_error("(and $a (eq $b 1))"),
                        "position 6: the operands of and must be expressions or true/false");
    assert_string_equal(parse_error("$a"),
                        "position 1: a rule must be an expression in parentheses (or true/false)");
    assert_string_equal(parse_error("(eq $a state)"),
                        "position 8: unexpected word \"state\" (operators go after \"(\", context keys start with \"$\", strings are in double quotes)");
    assert_string_equal(parse_error("(eq $a 12abc)"), "position 8: \"12abc\" is neither a number nor a timestamp");
    assert_string_equal(parse_error("(eq $a 2024-02-30)"), "position 8: \"2024-02-30\" is neither a number nor a timestamp");
    assert_string_equal(parse_error("(in $a \"x\")"), "position 8: the second operand of in must be a list");
    assert_string_equal(parse_error("(in $a [$b])"), "position 9: list elements must be literal values");
    assert_string_equal(parse_error("(in $a [1 2])"), "position 11: expected \",\" or \"]\" in a list");
    assert_string_equal(parse_error("(eq $a [1])"), "position 8: eq compares single values, not lists");
    assert_string_equal(parse_error("(begins_with $a 1)"),
                        "position 17: the operands of begins_with must be strings or context values");
    assert_string_equal(parse_error("(matches $a \"x\")"),
                        "position 1: matches takes named operands: in::VALUE pattern::\"REGEX\"");
    assert_string_equal(parse_error("(matches in::$a)"), "position 1: matches needs both in:: and pattern::");
    assert_string_equal(parse_error("(matches in::$a pattern::$b)"), "position 26: pattern:: of matches must be a string");
    assert_true(strstr(parse_error("(matches in::$a pattern::\"(a\")"), "position 26: invalid regular expression") != NULL);
    assert_string_equal(parse_error("(exists \"a\")"), "position 1: exists takes one named operand: key::\"NAME\"");
    assert_string_equal(parse_error("(exists key::$a)"), "position 14: key:: of exists must be a string");
    assert_string_equal(parse_error("(split by::$a)"), "position 1: split needs pct::");
    assert_string_equal(parse_error("(split pct::101)"), "position 13: pct:: of split must be between 0 and 100");
    assert_string_equal(parse_error("(split pct::\"5\")"), "position 13: pct:: of split must be a number");
    assert_string_equal(parse_error("(split pct::5 by::\"a\")"), "position 19: by:: of split must be a context value ($key)");
    assert_string_equal(parse_error("(split pct::5 seed::1)"), "position 21: seed:: of split must be a string");
    assert_string_equal(parse_error("(split pct::5 pct::6)"), "position 15: \"pct\" is given twice");
    assert_string_equal(parse_error("(split pct::5 size::6)"), "position 15: unknown named operand \"size\"");
    assert_string_equal(parse_error("(eq by::$a 1)"), "position 5: eq takes no named operands");
    assert_string_equal(parse_error("(eq $ 1)"), "position 5: a context key must follow \"$\"");
    assert_string_equal(parse_error("(eq $a#b 1)"), "position 7: invalid character in a context key");
    assert_string_equal(parse_error("(eq $a \"\\q\")"), "position 10: invalid escape sequence in a string");
    assert_string_equal(parse_error("(eq $a \"\\u0000\")"), "position 14: NUL characters are not allowed in strings");
    assert_string_equal(parse_error("(eq $a 1) )"), "position 11: unexpected text after the end of the rule");
    assert_string_equal(parse_error("(eq $a #)"), "position 8: unexpected character \"#\"");
    assert_string_equal(parse_error("()"), "position 2: an operator name must follow \"(\"");
}

static void test_string_escapes(void **state)
{
    (void)state;
    lv_flag_kv kv[] = {{"s", "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80", LV_FV_STRING}};
    lv_flag_context ctx = {kv, 1, NULL};
    assert_true(eval_ctx("(eq $s \"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\")", &ctx));
    assert_true(eval_ctx("(eq $s \"a\\\"b\\\\c\\n\xc3\xa9\\U0001F600\")", &ctx));
    assert_false(eval_ctx("(eq $s \"a\")", &ctx));
}

static void test_bounds(void **state)
{
    (void)state;
    /* Depth: 31 nested nots parse, 40 do not. */
    char buf[LV_FLAGRULE_MAX_LEN + 64];
    size_t n = 0;
    for (int i = 0; i < 31; i++)
        n += (size_t)sprintf(buf + n, "(not ");
    n += (size_t)sprintf(buf + n, "true");
    for (int i = 0; i < 31; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    assert_false(eval(buf));
    n = 0;
    for (int i = 0; i < 40; i++)
        n += (size_t)sprintf(buf + n, "(not ");
    n += (size_t)sprintf(buf + n, "true");
    for (int i = 0; i < 40; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    assert_non_null(strstr(parse_error(buf), "nests deeper than 32 levels"));
    /* Length. */
    memset(buf, ' ', LV_FLAGRULE_MAX_LEN + 1);
    memcpy(buf, "true", 4);
    buf[LV_FLAGRULE_MAX_LEN + 1] = '\0';
    assert_non_null(strstr(parse_error(buf), "longer than 16384"));
    /* Nodes: a long list. */
    n = (size_t)sprintf(buf, "(in $a [");
    for (int i = 0; i < 3000; i++)
        n += (size_t)sprintf(buf + n, "1,");
    n += (size_t)sprintf(buf + n, "])");
    assert_non_null(strstr(parse_error(buf), "more than 2048"));
    /* Regular expressions. */
    n = (size_t)sprintf(buf, "(or");
    for (int i = 0; i < 17; i++)
        n += (size_t)sprintf(buf + n, " (matches in::$a pattern::\"x%d\")", i);
    n += (size_t)sprintf(buf + n, ")");
    assert_non_null(strstr(parse_error(buf), "at most 16 regular expressions"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_string_operators),
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
