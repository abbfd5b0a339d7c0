/* test_jsonschema.c - lever's JSON Schema validator beyond the official
 * suite: violation pointers and reasons, schemas refused at compile, the
 * bounds, ECMA-262 regular expressions and formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/jsonschema.h"

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (j == NULL)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    return j;
}

static lv_jsonschema *compile(const char *text)
{
    json_t *j = parse(text);
    lv_jsonschema *s = NULL;
    lv_error err = {0};
    lv_err rc = lv_jsonschema_compile(j, &s, &err);
    json_decref(j);
    if (rc != LV_OK)
        fail_msg("schema %s: %s", text, err.msg);
    return s;
}

/* Compiles text expecting a refusal whose message contains want. */
static void refused(const char *text, const char *want)
{
    json_t *j = parse(text);
    lv_jsonschema *s = (lv_jsonschema *)1;
    lv_error err = {0};
    lv_err rc = lv_jsonschema_compile(j, &s, &err);
    json_decref(j);
    assert_int_equal(rc, LV_E_VALIDATION);
    assert_null(s);
    if (strstr(err.msg, want) == NULL)
        fail_msg("schema %s: message \"%s\" lacks \"%s\"", text, err.msg, want);
}

/* Validates doc; returns the details text (caller frees) or NULL if valid. */
static char *check(const lv_jsonschema *s, const char *doc)
{
    json_t *d = parse(doc);
    lv_buf b = LV_BUF_INIT;
    bool ok = lv_jsonschema_validate(s, d, &b);
    json_decref(d);
    if (ok) {
        assert_int_equal(b.len, 0);
        lv_buf_free(&b);
        return NULL;
    }
    assert_true(b.len > 0);
    return lv_buf_steal(&b, NULL);
}

static void expect(const lv_jsonschema *s, const char *doc, const char *want)
{
    char *got = check(s, doc);
    if (want == NULL) {
        if (got != NULL)
            fail_msg("%s should be valid: %s", doc, got);
        return;
    }
    if (got == NULL)
        fail_msg("%s should be invalid", doc);
    if (strstr(got, want) == NULL)
        fail_msg("%s: details \"%s\" lack \"%s\"", doc, got, want);
    free(got);
}

static void test_pointers_and_reasons(void **state)
{
    (void)state;
    lv_jsonschema *s = compile(
        "{\"type\":\"object\",\"required\":[\"servers\",\"name\"],"
        " \"additionalProperties\":false,"
        " \"properties\":{\"name\":{\"type\":\"string\",\"minLength\":2},"
        "  \"servers\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
        "   \"properties\":{\"port\":{\"type\":\"integer\",\"maximum\":65535},"
        "                   \"a/b~c\":{\"enum\":[1,2]}}}}}}");
    expect(s, "{\"name\":\"ok\",\"servers\":[{\"port\":80}]}", NULL);
    expect(s, "{\"name\":\"ok\",\"servers\":[{\"port\":80},{\"port\":70000}]}",
           "/servers/1/port: 70000 is greater than the maximum 65535\n");
    expect(s, "{\"servers\":[]}", "(root): required property \"name\" is missing\n");
    expect(s, "{\"name\":\"x\",\"servers\":[]}", "/name: string of 1 characters is shorter");
    expect(s, "{\"name\":\"xy\",\"servers\":[],\"extra\":1}",
           "/extra: property \"extra\" is not allowed");
    expect(s, "{\"name\":\"xy\",\"servers\":[{\"a/b~c\":3}]}", "/servers/0/a~1b~0c: value is not");
    expect(s, "[]", "(root): expected object, got array\n");
    /* Every violation is listed, not only the first. */
    char *all = check(s, "{\"name\":1,\"servers\":[{\"port\":\"x\"}],\"z\":0}");
    assert_non_null(all);
    assert_non_null(strstr(all, "/name: expected string, got integer"));
    assert_non_null(strstr(all, "/servers/0/port: expected integer, got string"));
    assert_non_null(strstr(all, "/z: property \"z\" is not allowed"));
    free(all);
    lv_jsonschema_free(s);
}

struct seen {
    int n;
    char kw[8][32];
    char ptr[8][64];
};

static void collect(void *ud, const char *pointer, const char *keyword, const char *reason)
{
    struct seen *x = ud;
    assert_non_null(reason);
    if (x->n < 8) {
        snprintf(x->kw[x->n], sizeof x->kw[0], "%s", keyword);
        snprintf(x->ptr[x->n], sizeof x->ptr[0], "%s", pointer);
    }
    x->n++;
}

static void test_each_and_cap(void **state)
{
    (void)state;
    lv_jsonschema *s = compile("{\"items\":{\"type\":\"string\"},\"maxItems\":1}");
    json_t *d = parse("[1,\"a\"]");
    struct seen x = {0};
    size_t count = 0;
    assert_false(lv_jsonschema_validate_each(s, d, collect, &x, &count));
    assert_int_equal(count, 2);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.kw[0], "maxItems");
    assert_string_equal(x.ptr[0], "");
    assert_string_equal(x.kw[1], "type");
    assert_string_equal(x.ptr[1], "/0");
    json_decref(d);

    /* 300 violations: 100 listed, then a count. */
    lv_buf big = LV_BUF_INIT;
    lv_buf_puts(&big, "[");
    for (int i = 0; i < 300; i++)
        lv_buf_puts(&big, i ? ",0" : "0");
    lv_buf_puts(&big, "]");
    char *out = check(s, big.data);
    size_t lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, LV_JSONSCHEMA_MAX_VIOLATIONS + 1);
    assert_non_null(strstr(out, "(201 more violations)\n"));
    free(out);
    lv_buf_free(&big);
    lv_jsonschema_free(s);
}

static void test_combinators(void **state)
{
    (void)state;
    lv_jsonschema *s = compile("{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":10}],"
                               " \"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\",\"multipleOf\":5}],"
                               " \"not\":{\"enum\":[\"no\"]}}");
    expect(s, "11", NULL);
    expect(s, "\"yes\"", "(root): value matches none of the 2 schemas of oneOf");
    expect(s, "3", "(root): value matches none of the 2 schemas of anyOf");
    expect(s, "15", "matches more than one of the 2 schemas of oneOf");
    expect(s, "\"no\"", "(root): value matches the schema of not");
    lv_jsonschema_free(s);

    /* A branch that fails deep inside (quietly) leaves the pointer of later
     * violations intact. */
    s = compile("{\"properties\":{\"a\":{\"anyOf\":[{\"items\":{\"properties\":{\"b\":"
                "{\"type\":\"string\"}}}},{\"type\":\"string\"}]},\"c\":{\"type\":\"null\"}},"
                " \"patternProperties\":{\"^a$\":{\"not\":{\"items\":{\"required\":[\"z\"]}}}}}");
    char *got = check(s, "{\"a\":[{\"b\":1}],\"c\":0}");
    assert_non_null(got);
    assert_non_null(strstr(got, "/a: value matches none of the 2 schemas of anyOf\n"));
    assert_non_null(strstr(got, "/c: expected null, got integer\n"));
    free(got);
    lv_jsonschema_free(s);
}

static void test_refs(void **state)
{
    (void)state;
    lv_jsonschema *s = compile(
        "{\"id\":\"urn:lever:cfg\",\"definitions\":{\"port\":{\"id\":\"#port\","
        " \"type\":\"integer\",\"minimum\":1},\"list\":{\"type\":\"array\","
        " \"items\":{\"$ref\":\"#/definitions/port\"}}},"
        " \"properties\":{\"a\":{\"$ref\":\"#port\"},\"b\":{\"$ref\":\"#/definitions/list\"},"
        "  \"self\":{\"$ref\":\"#\"}}}");
    expect(s, "{\"a\":1,\"b\":[1,2],\"self\":{\"a\":2}}", NULL);
    expect(s, "{\"a\":0}", "/a: 0 is less than the minimum 1");
    expect(s, "{\"b\":[1,\"x\"]}", "/b/1: expected integer, got string");
    expect(s, "{\"self\":{\"self\":{\"a\":0}}}", "/self/self/a: 0 is less than");
    lv_jsonschema_free(s);

    /* The meta-schema is built in: a schema can validate schemas. */
    s = compile("{\"$ref\":\"http://json-schema.org/draft-04/schema#\"}");
    expect(s, "{\"type\":\"string\",\"maxLength\":3}", NULL);
    expect(s, "{\"type\":\"strin\"}", "/type:");
    expect(s, "{\"pattern\":\"(?i)x\"}", "/pattern: string is not a valid regex");
    lv_jsonschema_free(s);
}

static void test_refused_schemas(void **state)
{
    (void)state;
    refused("[]", "a schema must be an object");
    refused("{\"type\":\"text\"}", "unknown type \"text\"");
    refused("{\"type\":[]}", "type must be");
    refused("{\"properties\":{\"a\":{\"minLength\":-1}}}",
            "minLength must be a non-negative integer (at /properties/a)");
    refused("{\"items\":[{\"maxItems\":1.5}]}", "maxItems must be a non-negative integer (at /items/0)");
    refused("{\"required\":[]}", "required must be a non-empty array");
    refused("{\"required\":[\"a\",\"a\"]}", "must not repeat");
    refused("{\"enum\":[]}", "enum must be a non-empty array");
    refused("{\"multipleOf\":0}", "multipleOf must be a number greater than 0");
    refused("{\"exclusiveMinimum\":true}", "exclusiveMinimum needs minimum");
    refused("{\"allOf\":{}}", "allOf must be a non-empty array");
    refused("{\"not\":true}", "a schema must be an object (at /not)");
    refused("{\"dependencies\":{\"a\":1}}", "(at /dependencies/a)");
    refused("{\"pattern\":\"a(\"}", "pattern is not a valid ECMA-262 regular expression");
    refused("{\"pattern\":\"\\\\Z\"}", "an escape ECMA-262 does not have");
    refused("{\"patternProperties\":{\"(?i)a\":{}}}",
            "(at /patternProperties/(?i)a)");
    refused("{\"pattern\":\"a++\"}", "possessive");
    refused("{\"$ref\":\"#/definitions/none\"}", "points to nothing");
    refused("{\"$ref\":\"http://example.com/s.json\"}", "not fetched");
    refused("{\"properties\":{\"a\":{\"$ref\":\"other.json#/x\"}}}", "not fetched");
    refused("{\"$ref\":\"#nope\"}", "names no id");
    refused("{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},"
            "\"b\":{\"$ref\":\"#/definitions/a\"}},\"$ref\":\"#/definitions/a\"}",
            "circular");
    refused("{\"id\":5}", "id must be a string");
}

static void test_limits(void **state)
{
    (void)state;
    /* Nesting deeper than the compile limit. */
    lv_buf b = LV_BUF_INIT;
    for (int i = 0; i < LV_JSONSCHEMA_MAX_DEPTH + 5; i++)
        lv_buf_puts(&b, "{\"not\":");
    lv_buf_puts(&b, "{}");
    for (int i = 0; i < LV_JSONSCHEMA_MAX_DEPTH + 5; i++)
        lv_buf_putc(&b, '}');
    refused(b.data, "nested too deeply");
    lv_buf_reset(&b);

    /* More subschemas than the node limit. */
    lv_buf_puts(&b, "{\"properties\":{");
    for (int i = 0; i < LV_JSONSCHEMA_MAX_NODES + 1; i++)
        lv_buf_printf(&b, "%s\"p%d\":{}", i ? "," : "", i);
    lv_buf_puts(&b, "}}");
    refused(b.data, "too many subschemas");
    lv_buf_free(&b);

    /* A schema that applies itself to the same value never terminates by
     * itself: the depth bound ends it with a violation, not a crash. */
    lv_jsonschema *s = compile("{\"allOf\":[{\"$ref\":\"#\"}]}");
    expect(s, "1", "(root): validation stopped: validation goes deeper");
    lv_jsonschema_free(s);

    /* Exponential fan-out: every level doubles the work; the step bound
     * ends it. */
    s = compile("{\"definitions\":{\"x\":{\"anyOf\":[{\"allOf\":[{\"$ref\":\"#\"},{\"type\":"
                "\"string\"}]},{\"$ref\":\"#/definitions/y\"}]},\"y\":{\"allOf\":[{\"$ref\":"
                "\"#\"},{\"$ref\":\"#\"}]}},\"allOf\":[{\"$ref\":\"#/definitions/x\"}]}");
    expect(s, "1", "validation stopped");
    lv_jsonschema_free(s);

    /* Catastrophic backtracking hits PCRE2's match limit: a violation. */
    s = compile("{\"pattern\":\"^(a+)+$\"}");
    lv_buf v = LV_BUF_INIT;
    lv_buf_puts(&v, "\"");
    for (int i = 0; i < 40; i++)
        lv_buf_putc(&v, 'a');
    lv_buf_puts(&v, "b\"");
    expect(s, v.data, "could not be evaluated within its match limits");
    expect(s, "\"aaaa\"", NULL);
    lv_buf_free(&v);
    lv_jsonschema_free(s);
}

static void test_ecma_regex(void **state)
{
    (void)state;
    lv_jsonschema *s = compile("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
                               " \"properties\":{\"v\":{\"pattern\":\"^\\\\d{3}\\\\v?$\"},"
                               "  \"u\":{\"pattern\":\"^\\\\u00e9$\"},"
                               "  \"e\":{\"pattern\":\"^[^]$\"},"
                               "  \"dollar\":{\"pattern\":\"^a$\"},"
                               "  \"look\":{\"pattern\":\"^(?!no)(?<w>\\\\w+)\\\\k<w>$\"}}}");
    expect(s, "{\"x-a\":\"s\",\"v\":\"123\",\"u\":\"\\u00e9\",\"e\":\"z\"}", NULL);
    expect(s, "{\"x-a\":1}", "/x-a: expected string");
    expect(s, "{\"v\":\"123\\u000b\"}", NULL);
    expect(s, "{\"v\":\"1234\"}", "/v: string does not match the pattern");
    /* $ is the end of input only, as in ECMA-262 without the m flag. */
    expect(s, "{\"dollar\":\"a\\n\"}", "/dollar: string does not match");
    expect(s, "{\"look\":\"abab\"}", NULL);
    expect(s, "{\"look\":\"nono\"}", "/look: string does not match");
    lv_jsonschema_free(s);
}

static void test_formats(void **state)
{
    (void)state;
    lv_jsonschema *s = compile("{\"properties\":{\"t\":{\"format\":\"date-time\"},"
                               " \"h\":{\"format\":\"hostname\"},\"i\":{\"format\":\"ipv4\"},"
                               " \"u\":{\"format\":\"uri\"},\"x\":{\"format\":\"unknown\"}}}");
    expect(s, "{\"t\":\"2024-02-29T23:59:60.5+01:00\",\"h\":\"a-b.example\","
              "\"i\":\"10.0.0.1\",\"u\":\"urn:x:y\",\"x\":\"anything\"}", NULL);
    expect(s, "{\"t\":\"2023-02-29T00:00:00Z\"}", "/t: string is not a valid date-time");
    expect(s, "{\"t\":\"2023-01-01T24:00:00Z\"}", "date-time");
    expect(s, "{\"i\":\"01.2.3.4\"}", "/i: string is not a valid ipv4");
    expect(s, "{\"h\":\"a..b\"}", "/h: string is not a valid hostname");
    expect(s, "{\"u\":\"http://a b\"}", "/u: string is not a valid uri");
    lv_jsonschema_free(s);
}

static void test_numbers_and_uniqueness(void **state)
{
    (void)state;
    lv_jsonschema *s = compile("{\"properties\":{\"m\":{\"multipleOf\":0.01},"
                               " \"big\":{\"maximum\":9007199254740993},"
                               " \"n\":{\"multipleOf\":3}},\"uniqueItems\":true}");
    expect(s, "{\"m\":19.99,\"n\":-9}", NULL);
    expect(s, "{\"m\":19.999}", "/m: 19.99");
    /* An exact integer comparison beyond double precision. */
    expect(s, "{\"big\":9007199254740993}", NULL);
    expect(s, "{\"big\":9007199254740994}", "/big: 9007199254740994 is greater");
    expect(s, "{\"n\":-9223372036854775807}", "/n: -9223372036854775807 is not a multiple of 3");
    expect(s, "[1, {\"a\":[1,2],\"b\":null}, 2, {\"b\":null,\"a\":[1.0,2]}]",
           "(root): items 1 and 3 are equal");
    expect(s, "[0, false, \"0\", [0], {\"0\":0}, null, -0.0, 1]", "items 0 and 6 are equal");
    lv_jsonschema_free(s);
}

static void test_schema_copy_is_owned(void **state)
{
    (void)state;
    json_t *j = parse("{\"type\":\"integer\"}");
    lv_jsonschema *s = NULL;
    assert_int_equal(lv_jsonschema_compile(j, &s, NULL), LV_OK);
    json_object_set_new(j, "type", json_string("string"));
    json_decref(j);
    expect(s, "5", NULL);
    expect(s, "\"5\"", "expected integer");
    assert_false(lv_jsonschema_validate(s, NULL, NULL));
    lv_jsonschema_free(s);
    lv_jsonschema_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pointers_and_reasons),
        cmocka_unit_test(test_each_and_cap),
        cmocka_unit_test(test_combinators),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_refused_schemas),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ecma_regex),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_numbers_and_uniqueness),
        cmocka_unit_test(test_schema_copy_is_owned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
