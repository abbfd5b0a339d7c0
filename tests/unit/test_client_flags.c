/* test_client_flags.c - liblever's feature flags through the public API
 * only (lever/lever.h): every case of tests/data/flag_vectors.json (which
 * lever-agent passes too, tests/integration/test_agent_flags.py), and the
 * layered accessors: environment > document > default, type checks,
 * disabled flags, the env names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lever/lever.h"

static json_t *load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", LV_TEST_DATA, name);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (doc == NULL)
        fail_msg("%s: %s", path, je.text);
    return doc;
}

/* A source over a JSON value, with the environment layer off. */
static lever_flags *source(const json_t *doc, bool env)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    lever_options *o = lever_options_new();
    assert_non_null(o);
    if (!env)
        assert_int_equal(lever_options_set_env_scheme(o, LEVER_ENV_NONE), LEVER_OK);
    else
        assert_int_equal(lever_options_set_env_prefix(o, "LVTEST_"), LEVER_OK);
    lever_flags *f = NULL;
    char err[512];
    lever_status st = lever_flags_from_document(o, text, strlen(text), &f, err, sizeof err);
    if (st != LEVER_OK)
        fail_msg("document refused: %s", err);
    lever_options_free(o);
    free(text);
    return f;
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *all = load("flag_vectors.json");
    json_t *docs = json_object_get(all, "documents"), *cases = json_object_get(all, "cases");
    assert_true(json_array_size(cases) >= 70);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        lever_flags *f = source(json_object_get(docs, json_string_value(json_object_get(c, "document"))), false);
        const char *flag = json_string_value(json_object_get(c, "flag"));
        json_t *cj = json_object_get(c, "context"), *exp = json_object_get(c, "expect");
        lever_ctx_kv kv[64];
        lever_context ctx = {kv, 0, json_string_value(json_object_get(c, "entity"))};
        const char *k;
        json_t *v;
        json_object_foreach(cj, k, v) {
            assert_true(ctx.n < 64);
            kv[ctx.n++] = (lever_ctx_kv){k, json_string_value(v), LEVER_CTX_STRING};
        }
        const lever_context *cp = json_is_null(cj) ? NULL : &ctx;
        lever_flag_result r;
        lever_status st = lever_flag_evaluate(f, flag, cp, &r);
        bool unknown = json_object_get(exp, "error_code") != NULL;
        if (st != (unknown ? LEVER_E_NOT_FOUND : LEVER_OK))
            fail_msg("%s: %s", name, lever_status_str(st));
        json_t *got = json_loads(r.value_json, 0, NULL);
        json_t *want = json_object_get(exp, "value");
        const char *wv = json_string_value(json_object_get(exp, "variant"));
        const char *wr = json_string_value(json_object_get(exp, "reason"));
        if (!json_equal(got, want) || r.enabled != json_is_true(json_object_get(exp, "enabled")) ||
            (wv == NULL) != (r.variant == NULL) || (wv && strcmp(wv, r.variant) != 0) ||
            strcmp(wr, lever_flag_reason_str(r.reason)) != 0)
            fail_msg("%s: got %s %s %s %s", name, r.enabled ? "on" : "off", r.value_json,
                     r.variant ? r.variant : "(no variant)", lever_flag_reason_str(r.reason));
        json_decref(got);
        /* the typed accessors agree with the evaluation */
        bool on = !r.enabled;
        lever_source src = LEVER_SRC_ENV;
        assert_int_equal(lever_flag_enabled(f, flag, cp, false, &on, &src), unknown ? LEVER_E_NOT_FOUND : LEVER_OK);
        assert_int_equal(on, r.enabled);
        assert_int_equal(src, unknown ? LEVER_SRC_DEFAULT : LEVER_SRC_STORE);
        char *var = NULL;
        st = lever_flag_variant(f, flag, cp, "none", &var, &src);
        assert_int_equal(st, wv ? LEVER_OK : LEVER_E_NOT_FOUND);
        assert_string_equal(var, wv ? wv : "none");
        assert_int_equal(src, wv ? LEVER_SRC_STORE : LEVER_SRC_DEFAULT);
        lever_free(var);
        lever_flag_result_clear(&r);
        lever_flags_close(f);
    }
    json_decref(all);
}

static const char DOC[] =
    "{\"version\":\"1\",\"flags\":{"
    "\"user_registration\":{\"name\":\"User registration\"},"
    "\"cache\":{\"name\":\"Cache tuning\",\"attributes\":{"
    "  \"balance_ttl\":{\"constraints\":{\"type\":\"number\"}},"
    "  \"ratio\":{\"constraints\":{\"type\":\"number\"}},"
    "  \"backend\":{\"constraints\":{\"type\":\"string\"}},"
    "  \"warm\":{\"constraints\":{\"type\":\"boolean\"}}}},"
    "\"checkout\":{\"name\":\"Checkout\",\"attributes\":{\"steps\":{\"constraints\":{\"type\":\"number\"}}}},"
    "\"old\":{\"name\":\"Old\",\"attributes\":{\"n\":{\"constraints\":{\"type\":\"number\"}}}}},"
    "\"values\":{"
    "\"user_registration\":{\"enabled\":true},"
    "\"cache\":{\"enabled\":true,\"balance_ttl\":300,\"ratio\":0.25,\"backend\":\"redis\",\"warm\":true},"
    "\"checkout\":{\"_variants\":["
    "  {\"name\":\"two-step\",\"enabled\":true,\"rule\":\"(eq $plan \\\"pro\\\")\",\"attributeValues\":{\"steps\":2}},"
    "  {\"name\":\"classic\",\"enabled\":true,\"attributeValues\":{\"steps\":4}}]},"
    "\"old\":{\"enabled\":false,\"n\":1}}}";

static lever_flags *tuning(void)
{
    lever_options *o = lever_options_new();
    assert_int_equal(lever_options_set_env_prefix(o, "LVTEST_"), LEVER_OK);
    lever_flags *f = NULL;
    assert_int_equal(lever_flags_from_document(o, DOC, strlen(DOC), &f, NULL, 0), LEVER_OK);
    lever_options_free(o);
    return f;
}

static void test_layers(void **state)
{
    (void)state;
    lever_flags *f = tuning();
    bool on = false;
    lever_source src;
    /* document */
    assert_int_equal(lever_flag_enabled(f, "user_registration", NULL, false, &on, &src), LEVER_OK);
    assert_true(on);
    assert_int_equal(src, LEVER_SRC_STORE);
    /* environment wins */
    setenv("LVTEST_USER_REGISTRATION_ENABLED", "off", 1);
    assert_int_equal(lever_flag_enabled(f, "user_registration", NULL, true, &on, &src), LEVER_OK);
    assert_false(on);
    assert_int_equal(src, LEVER_SRC_ENV);
    /* an unusable environment value is skipped, and says so */
    setenv("LVTEST_USER_REGISTRATION_ENABLED", "maybe", 1);
    assert_int_equal(lever_flag_enabled(f, "user_registration", NULL, false, &on, &src), LEVER_OK);
    assert_true(on);
    assert_int_equal(src, LEVER_SRC_STORE);
    char msg[512];
    assert_int_equal(lever_flags_last_error(f, msg, sizeof msg), LEVER_E_PARSE);
    assert_non_null(strstr(msg, "LVTEST_USER_REGISTRATION_ENABLED"));
    assert_null(strstr(msg, "maybe")); /* values are never shown */
    unsetenv("LVTEST_USER_REGISTRATION_ENABLED");
    /* default: no such flag */
    on = false;
    assert_int_equal(lever_flag_enabled(f, "nope", NULL, true, &on, &src), LEVER_E_NOT_FOUND);
    assert_true(on);
    assert_int_equal(src, LEVER_SRC_DEFAULT);
    assert_int_equal(lever_flags_last_error(f, msg, sizeof msg), LEVER_E_NOT_FOUND);
    assert_non_null(strstr(msg, "nope"));
    lever_flags_close(f);
}

static void test_attributes(void **state)
{
    (void)state;
    lever_flags *f = tuning();
    lever_source src;
    int64_t n = 0;
    double d = 0;
    bool b = false;
    char *s = NULL;
    assert_int_equal(lever_flag_int(f, "cache", "balance_ttl", NULL, 60, &n, &src), LEVER_OK);
    assert_int_equal(n, 300);
    assert_int_equal(src, LEVER_SRC_STORE);
    assert_int_equal(lever_flag_double(f, "cache", "ratio", NULL, 1, &d, &src), LEVER_OK);
    assert_true(d == 0.25);
    assert_int_equal(lever_flag_double(f, "cache", "balance_ttl", NULL, 1, &d, &src), LEVER_OK);
    assert_true(d == 300.0);
    assert_int_equal(lever_flag_bool(f, "cache", "warm", NULL, false, &b, &src), LEVER_OK);
    assert_true(b);
    assert_int_equal(lever_flag_string(f, "cache", "backend", NULL, "memory", &s, &src), LEVER_OK);
    assert_string_equal(s, "redis");
    lever_free(s);
    /* types are checked: the default answers */
    assert_int_equal(lever_flag_int(f, "cache", "ratio", NULL, 7, &n, &src), LEVER_E_INVALID);
    assert_int_equal(n, 7);
    assert_int_equal(src, LEVER_SRC_DEFAULT);
    assert_int_equal(lever_flag_string(f, "cache", "balance_ttl", NULL, "x", &s, &src), LEVER_E_INVALID);
    assert_string_equal(s, "x");
    lever_free(s);
    char msg[512];
    lever_flags_last_error(f, msg, sizeof msg);
    assert_non_null(strstr(msg, "balance_ttl"));
    assert_non_null(strstr(msg, "not a string"));
    assert_int_equal(lever_flag_bool(f, "cache", "backend", NULL, false, &b, &src), LEVER_E_INVALID);
    /* absent attribute, disabled flag: the default */
    assert_int_equal(lever_flag_int(f, "cache", "nothing", NULL, 5, &n, &src), LEVER_E_NOT_FOUND);
    assert_int_equal(n, 5);
    assert_int_equal(lever_flag_int(f, "old", "n", NULL, 9, &n, &src), LEVER_E_NOT_FOUND);
    assert_int_equal(n, 9);
    /* the environment layer for tuning values: <FLAG>_<ATTRIBUTE> */
    char *en = lever_flag_env_name(f, "cache", "balance_ttl");
    assert_string_equal(en, "LVTEST_CACHE_BALANCE_TTL");
    lever_free(en);
    setenv("LVTEST_CACHE_BALANCE_TTL", "45", 1);
    assert_int_equal(lever_flag_int(f, "cache", "balance_ttl", NULL, 60, &n, &src), LEVER_OK);
    assert_int_equal(n, 45);
    assert_int_equal(src, LEVER_SRC_ENV);
    setenv("LVTEST_CACHE_BALANCE_TTL", "soon", 1);
    assert_int_equal(lever_flag_int(f, "cache", "balance_ttl", NULL, 60, &n, &src), LEVER_OK);
    assert_int_equal(n, 300);
    assert_int_equal(src, LEVER_SRC_STORE);
    unsetenv("LVTEST_CACHE_BALANCE_TTL");
    lever_flags_close(f);
}

static void test_variants_and_context(void **state)
{
    (void)state;
    lever_flags *f = tuning();
    lever_ctx_kv kv[] = {{"plan", "pro", LEVER_CTX_STRING}};
    lever_context pro = {kv, 1, "user-1"}, none = {NULL, 0, NULL};
    char *v = NULL;
    int64_t n = 0;
    lever_source src;
    assert_int_equal(lever_flag_variant(f, "checkout", &pro, NULL, &v, &src), LEVER_OK);
    assert_string_equal(v, "two-step");
    lever_free(v);
    assert_int_equal(lever_flag_int(f, "checkout", "steps", &pro, 0, &n, &src), LEVER_OK);
    assert_int_equal(n, 2);
    assert_int_equal(lever_flag_variant(f, "checkout", &none, NULL, &v, &src), LEVER_OK);
    assert_string_equal(v, "classic");
    lever_free(v);
    assert_int_equal(lever_flag_int(f, "checkout", "steps", &none, 0, &n, &src), LEVER_OK);
    assert_int_equal(n, 4);
    /* a flag without variants has none */
    assert_int_equal(lever_flag_variant(f, "cache", &none, NULL, &v, &src), LEVER_E_NOT_FOUND);
    assert_null(v);
    /* the variant's environment variable */
    setenv("LVTEST_CHECKOUT_VARIANT", "forced", 1);
    assert_int_equal(lever_flag_variant(f, "checkout", &pro, NULL, &v, &src), LEVER_OK);
    assert_string_equal(v, "forced");
    assert_int_equal(src, LEVER_SRC_ENV);
    lever_free(v);
    unsetenv("LVTEST_CHECKOUT_VARIANT");
    /* a context pair without a value is refused */
    lever_ctx_kv bad[] = {{"plan", NULL, LEVER_CTX_STRING}};
    lever_context badc = {bad, 1, NULL};
    bool on = true;
    assert_int_equal(lever_flag_enabled(f, "checkout", &badc, false, &on, &src), LEVER_E_INVALID);
    assert_false(on);
    lever_flags_close(f);
}

static void test_documents_refused(void **state)
{
    (void)state;
    lever_flags *f = (lever_flags *)1;
    char err[512];
    const char *bad = "{\"version\":\"1\",\"flags\":{\"a\":{\"name\":\"a\"}},\"values\":{\"b\":{\"enabled\":true}}}";
    assert_int_equal(lever_flags_from_document(NULL, bad, strlen(bad), &f, err, sizeof err), LEVER_E_PARSE);
    assert_null(f);
    assert_non_null(strstr(err, "/values/b"));
    assert_int_equal(lever_flags_from_document(NULL, "[1", 2, &f, err, sizeof err), LEVER_E_PARSE);
    assert_null(f);
    /* env names: LEVER_ENV_NONE has none */
    lever_options *o = lever_options_new();
    lever_options_set_env_scheme(o, LEVER_ENV_NONE);
    assert_int_equal(lever_flags_from_document(o, DOC, strlen(DOC), &f, NULL, 0), LEVER_OK);
    assert_null(lever_flag_env_name(f, "user_registration", NULL));
    lever_flags_close(f);
    lever_options_free(o);
    assert_int_equal(lever_flags_from_document(NULL, DOC, strlen(DOC), &f, NULL, 0), LEVER_OK);
    char *en = lever_flag_env_name(f, "user_registration", NULL);
    assert_string_equal(en, "USER_REGISTRATION_ENABLED");
    lever_free(en);
    en = lever_flag_env_name(f, "checkout", "_variant");
    assert_string_equal(en, "CHECKOUT_VARIANT");
    lever_free(en);
    lever_flags_close(f);
    assert_string_equal(lever_flag_reason_str(LEVER_FLAG_SPLIT), "SPLIT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_layers),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_variants_and_context),
        cmocka_unit_test(test_documents_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
