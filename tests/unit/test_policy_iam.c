/* test_policy_iam.c - IAM-shaped policy documents: parsing of the supported
 * subset, wildcard matching, and evaluation (default deny, allow, explicit
 * deny wins, NotAction/NotResource, condition operators). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/policy_iam.h"

#define P "arn:aws:ssm:us-east-1:000000000000:parameter"

static lv_iam_policy *parse(const char *doc)
{
    lv_iam_policy *p = NULL;
    lv_error err;
    lv_error_clear(&err);
    lv_err rc = lv_iam_policy_parse(doc, strlen(doc), &p, &err);
    if (rc != LV_OK)
        fprintf(stderr, "parse failed: %s\n", err.msg);
    assert_int_equal(rc, LV_OK);
    return p;
}

static lv_iam_decision eval1(const lv_iam_policy *p, const char *action, const char *res)
{
    lv_iam_request q = {action, res, NULL, NULL, 0};
    return lv_iam_eval(&p, 1, &q);
}

static void test_glob(void **state)
{
    (void)state;
    assert_true(lv_iam_glob("*", "", false));
    assert_true(lv_iam_glob("*", "anything/at/all", false));
    assert_true(lv_iam_glob(P "/a/*", P "/a/b/c", false));
    assert_false(lv_iam_glob(P "/a/*", P "/a", false));
    assert_true(lv_iam_glob("a?c", "abc", false));
    assert_false(lv_iam_glob("a?c", "ac", false));
    assert_true(lv_iam_glob("*x*y*", "0x1y2", false));
    assert_false(lv_iam_glob("*x*y*", "0y1x2", false));
    assert_false(lv_iam_glob("ABC", "abc", false));
    assert_true(lv_iam_glob("ssm:get*", "SSM:GetParameter", true));
}

static void test_seed_pattern(void **state)
{
    (void)state;
    lv_iam_policy *p = parse("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                             "\"Action\":\"ssm:GetParameter\",\"Resource\":\"" P "/ecommerce/dev/orders/*\"}]}");
    assert_int_equal(eval1(p, "ssm:GetParameter", P "/ecommerce/dev/orders/db"), LV_IAM_ALLOW);
    assert_int_equal(eval1(p, "ssm:GetParameter", P "/ecommerce/dev/payments/db"), LV_IAM_IMPLICIT_DENY);
    assert_int_equal(eval1(p, "ssm:PutParameter", P "/ecommerce/dev/orders/db"), LV_IAM_IMPLICIT_DENY);
    assert_int_equal(eval1(p, "ssm:GetParametersByPath", P "/ecommerce/dev/orders"), LV_IAM_IMPLICIT_DENY);
    lv_iam_policy_free(p);
}

static void test_deny_wins(void **state)
{
    (void)state;
    lv_iam_policy *a = parse("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ssm:*\",\"Resource\":\"*\"}}");
    lv_iam_policy *d = parse("{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":[\"ssm:Get*\"],"
                             "\"Resource\":[\"" P "/secret/*\"]}]}");
    const lv_iam_policy *both[] = {a, d};
    lv_iam_request q = {"ssm:GetParameter", P "/secret/x", NULL, NULL, 0};
    assert_int_equal(lv_iam_eval(both, 2, &q), LV_IAM_DENY);
    q.resource = P "/public/x";
    assert_int_equal(lv_iam_eval(both, 2, &q), LV_IAM_ALLOW);
    q.action = "ssm:PutParameter";
    q.resource = P "/secret/x";
    assert_int_equal(lv_iam_eval(both, 2, &q), LV_IAM_ALLOW);
    assert_int_equal(lv_iam_eval(both, 0, &q), LV_IAM_IMPLICIT_DENY);
    lv_iam_policy_free(a);
    lv_iam_policy_free(d);
}

static void test_not_action_not_resource(void **state)
{
    (void)state;
    lv_iam_policy *p = parse("{\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":\"ssm:Delete*\","
                             "\"NotResource\":\"" P "/locked/*\"}]}");
    assert_int_equal(eval1(p, "ssm:PutParameter", P "/x"), LV_IAM_ALLOW);
    assert_int_equal(eval1(p, "ssm:DeleteParameter", P "/x"), LV_IAM_IMPLICIT_DENY);
    assert_int_equal(eval1(p, "ssm:PutParameter", P "/locked/x"), LV_IAM_IMPLICIT_DENY);
    lv_iam_policy_free(p);
}

static void test_conditions(void **state)
{
    (void)state;
    lv_iam_policy *p = parse("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ssm:PutParameter\","
                             "\"Resource\":\"*\",\"Condition\":{\"Bool\":{\"ssm:Overwrite\":false},"
                             "\"StringNotLike\":{\"SSM:Policies\":[\"*Expiration*\",\"*NoChange*\"]}}}]}");
    const char *keys[] = {"ssm:Overwrite", "ssm:Policies"};
    const char *vals[] = {"false", "[{\"Type\":\"ExpirationNotification\"}]"};
    lv_iam_request q = {"ssm:PutParameter", P "/x", keys, vals, 1};
    const lv_iam_policy *pp = p;
    /* Policies absent: StringNotLike holds */
    assert_int_equal(lv_iam_eval(&pp, 1, &q), LV_IAM_ALLOW);
    q.ncond = 2;
    assert_int_equal(lv_iam_eval(&pp, 1, &q), LV_IAM_IMPLICIT_DENY);
    vals[1] = "[]";
    assert_int_equal(lv_iam_eval(&pp, 1, &q), LV_IAM_ALLOW);
    vals[0] = "true";
    assert_int_equal(lv_iam_eval(&pp, 1, &q), LV_IAM_IMPLICIT_DENY);
    /* a key the request does not carry: a positive operator fails */
    q.ncond = 0;
    lv_iam_policy *r = parse("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ssm:*\",\"Resource\":\"*\","
                             "\"Condition\":{\"StringEquals\":{\"ssm:Recursive\":\"true\"}}}]}");
    pp = r;
    assert_int_equal(lv_iam_eval(&pp, 1, &q), LV_IAM_IMPLICIT_DENY);
    lv_iam_policy_free(p);
    lv_iam_policy_free(r);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "{\"Statement\":[]}",
        "{\"Version\":\"2020-01-01\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"allow\",\"Action\":\"*\",\"Resource\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"NotAction\":\"*\",\"Resource\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"GetParameter\",\"Resource\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"parameter/x\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Principal\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
        "\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"2020\"}}}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
        "\"Condition\":{\"Bool\":{\"ssm:Overwrite\":\"maybe\"}}}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},\"Extra\":1}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Effect\":\"Deny\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lv_iam_policy *p = NULL;
        lv_error err;
        lv_error_clear(&err);
        lv_err rc = lv_iam_policy_parse(bad[i], strlen(bad[i]), &p, &err);
        if (rc != LV_E_MALFORMED_POLICY)
            fprintf(stderr, "accepted bad document %zu: %s\n", i, bad[i]);
        assert_int_equal(rc, LV_E_MALFORMED_POLICY);
        assert_null(p);
        assert_true(err.msg[0] != '\0');
    }
    char big[LV_IAM_POLICY_MAX_LEN + 2];
    memset(big, ' ', sizeof big);
    lv_iam_policy *p = NULL;
    assert_int_equal(lv_iam_policy_parse(big, sizeof big, &p, NULL), LV_E_MALFORMED_POLICY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_seed_pattern),
        cmocka_unit_test(test_deny_wins),
        cmocka_unit_test(test_not_action_not_resource),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
