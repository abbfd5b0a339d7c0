/* test_flagdoc.c - feature flag documents: every validation rule with a
 * valid and an invalid document (tests/data/flagdoc_validation.json), the
 * evaluation vectors (tests/data/flag_vectors.json, also run through
 * lever-agent and liblever), the served forms, and split shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/flagdoc.h"

static json_t *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", LV_TEST_DATA, name);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (doc == NULL)
        fail_msg("%s: %s (line %d)", name, je.text, je.line);
    return doc;
}

static void test_validation_cases(void **state)
{
    (void)state;
    json_t *all = load("flagdoc_validation.json");
    json_t *cases = json_object_get(all, "cases");
    assert_true(json_array_size(cases) >= 60);
    size_t i, nvalid = 0, ninvalid = 0;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *doc = json_object_get(c, "document");
        bool valid = json_is_true(json_object_get(c, "valid"));
        lv_buf details = LV_BUF_INIT;
        lv_error err;
        lv_err rc = lv_flagdoc_validate(doc, &details, &err);
        if (valid) {
            nvalid++;
            if (rc != LV_OK)
                fail_msg("%s: rejected: %s", name, err.msg);
            assert_int_equal(details.len, 0);
        } else {
            ninvalid++;
            if (rc != LV_E_VALIDATION)
                fail_msg("%s: accepted (rc %d)", name, rc);
            const char *ptr = json_string_value(json_object_get(c, "pointer"));
            const char *why = json_string_value(json_object_get(c, "reason"));
            char want[1200];
            snprintf(want, sizeof want, "%s: ", ptr);
            /* Some line of the details starts with the pointer and gives the reason. */
            bool found = false;
            for (char *line = details.data; line && *line;) {
                char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                if (strncmp(line, want, strlen(want)) == 0) {
                    char *l = strndup(line, len);
                    if (strstr(l, why) != NULL)
                        found = true;
                    free(l);
                }
                line = nl ? nl + 1 : NULL;
            }
            if (!found)
                fail_msg("%s: no violation \"%s... %s\" in:\n%s", name, want, why, details.data);
            assert_non_null(strstr(err.msg, "Invalid feature flag document: "));
        }
        lv_buf_free(&details);
    }
    assert_true(nvalid >= 10 && ninvalid >= 50);
    json_decref(all);
}

static void make_context(json_t *jctx, const char *entity, lv_flag_kv *kv, size_t cap,
                         lv_flag_context *ctx)
{
    ctx->kv = kv;
    ctx->n = 0;
    ctx->entity_id = entity;
    const char *k;
    json_t *v;
    json_object_foreach(jctx, k, v) {
        assert_true(ctx->n < cap);
        kv[ctx->n++] = (lv_flag_kv){k, json_string_value(v), LV_FV_STRING};
    }
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *all = load("flag_vectors.json");
    json_t *docs = json_object_get(all, "documents");
    json_t *cases = json_object_get(all, "cases");
    assert_true(json_array_size(cases) >= 60);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *doc = json_object_get(docs, json_string_value(json_object_get(c, "document")));
        assert_non_null(doc);
        lv_flagdoc *d = NULL;
        lv_error err;
        if (lv_flagdoc_compile(doc, &d, NULL, &err) != LV_OK)
            fail_msg("%s: document rejected: %s", name, err.msg);
        json_t *jctx = json_object_get(c, "context");
        lv_flag_kv kv[16];
        lv_flag_context ctx;
        const char *entity = json_string_value(json_object_get(c, "entity"));
        if (json_is_object(jctx))
            make_context(jctx, entity, kv, 16, &ctx);
        const char *flag = json_string_value(json_object_get(c, "flag"));
        lv_flag_result r;
        lv_flagdoc_eval(d, flag, json_is_object(jctx) ? &ctx : NULL, &r);
        json_t *exp = json_object_get(c, "expect");
        const char *reason = json_string_value(json_object_get(exp, "reason"));
        if (strcmp(lv_flag_reason_name(r.reason), reason) != 0)
            fail_msg("%s: reason %s, want %s", name, lv_flag_reason_name(r.reason), reason);
        if (r.enabled != json_is_true(json_object_get(exp, "enabled")))
            fail_msg("%s: enabled %d", name, r.enabled);
        json_t *ev = json_object_get(exp, "variant");
        if (json_is_null(ev))
            assert_null(r.variant);
        else if (r.variant == NULL || strcmp(r.variant, json_string_value(ev)) != 0)
            fail_msg("%s: variant %s, want %s", name, r.variant ? r.variant : "(none)",
                     json_string_value(ev));
        json_t *ec = json_object_get(exp, "error_code");
        if (ec)
            assert_string_equal(r.error_code, json_string_value(ec));
        json_t *val = lv_flag_result_value(&r, false);
        if (!json_equal(val, json_object_get(exp, "value"))) {
            char *got = json_dumps(val, JSON_SORT_KEYS);
            fail_msg("%s: value %s", name, got);
        }
        json_decref(val);
        /* The agent's form carries the variant. */
        val = lv_flag_result_value(&r, true);
        if (r.variant)
            assert_string_equal(json_string_value(json_object_get(val, "_variant")), r.variant);
        else
            assert_null(json_object_get(val, "_variant"));
        json_decref(val);
        lv_flagdoc_free(d);
    }
    json_decref(all);
}

static const char *DOC =
    "{\"version\":\"1\",\"flags\":{\"a\":{\"attributes\":{\"n\":{}}},\"b\":{},"
    "\"mv\":{\"attributes\":{\"c\":{}}}},"
    "\"values\":{\"a\":{\"enabled\":true,\"n\":3,\"_createdAt\":\"t\"},\"b\":{\"enabled\":false},"
    "\"mv\":{\"_variants\":[{\"name\":\"x\",\"enabled\":true,\"rule\":\"(eq $k \\\"1\\\")\","
    "\"attributeValues\":{\"c\":\"red\"}},{\"name\":\"dflt\",\"enabled\":true,\"attributeValues\":{\"c\":\"blue\"}}]}}}";

static void test_serve(void **state)
{
    (void)state;
    lv_flagdoc *d = NULL;
    lv_error err;
    assert_int_equal(lv_flagdoc_parse(DOC, strlen(DOC), &d, NULL, &err), LV_OK);
    assert_int_equal(lv_flagdoc_count(d), 3);
    assert_string_equal(lv_flagdoc_key(d, 0), "a");
    assert_string_equal(lv_flagdoc_key(d, 2), "mv");
    assert_true(lv_flagdoc_has_variants(d, "mv"));
    assert_false(lv_flagdoc_has_variants(d, "a"));

    /* AppConfig Data's form: default variants, no _variant, metadata gone. */
    json_t *o = lv_flagdoc_serve(d, NULL, NULL, 0);
    json_t *want = json_loads("{\"a\":{\"enabled\":true,\"n\":3},\"b\":{\"enabled\":false},"
                              "\"mv\":{\"enabled\":true,\"c\":\"blue\"}}", 0, NULL);
    assert_true(json_equal(o, want));
    json_decref(o);
    json_decref(want);

    /* The agent's form with a context, and a selection of flags. */
    lv_flag_kv kv[] = {{"k", "1", LV_FV_STRING}};
    lv_flag_context ctx = {kv, 1, NULL};
    const char *sel[] = {"mv", "nope", "mv"};
    o = lv_flagdoc_serve(d, &ctx, sel, 3);
    want = json_loads("{\"mv\":{\"enabled\":true,\"c\":\"red\",\"_variant\":\"x\"}}", 0, NULL);
    assert_true(json_equal(o, want));
    json_decref(o);
    json_decref(want);

    /* The text form is the same bytes as dumping the tree form. */
    const lv_flag_context *ctxs[] = {NULL, &ctx};
    const char *const *sels[] = {NULL, sel};
    for (int ci = 0; ci < 2; ci++) {
        for (int si = 0; si < 2; si++) {
            json_t *tree = lv_flagdoc_serve(d, ctxs[ci], sels[si], si ? 3 : 0);
            char *dumped = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
            lv_buf text = LV_BUF_INIT;
            assert_int_equal(lv_flagdoc_serve_text(d, ctxs[ci], sels[si], si ? 3 : 0, &text), LV_OK);
            assert_string_equal(text.data, dumped);
            lv_buf_free(&text);
            free(dumped);
            json_decref(tree);
        }
    }

    /* simplify() is compile + serve. */
    json_t *doc = json_loads(DOC, 0, NULL);
    o = lv_flagdoc_simplify(doc, &ctx);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "mv"), "_variant")), "x");
    json_decref(o);
    json_object_set_new(doc, "version", json_string("2"));
    assert_null(lv_flagdoc_simplify(doc, NULL));
    json_decref(doc);
    lv_flagdoc_free(d);

    /* Text: not JSON, duplicate keys. */
    lv_buf det = LV_BUF_INIT;
    assert_int_equal(lv_flagdoc_parse("{", 1, &d, &det, &err), LV_E_VALIDATION);
    assert_null(d);
    assert_non_null(strstr(det.data, "not valid JSON"));
    lv_buf_free(&det);
    const char *dup = "{\"version\":\"1\",\"flags\":{\"a\":{},\"a\":{}}}";
    assert_int_equal(lv_flagdoc_parse(dup, strlen(dup), &d, NULL, &err), LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "duplicate"));
}

static void test_details_bounded(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:s, s:{}}", "version", "1", "flags");
    char k[16];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "Bad%d", i);
        json_object_set_new(json_object_get(doc, "flags"), k, json_object());
    }
    lv_buf det = LV_BUF_INIT;
    lv_error err;
    assert_int_equal(lv_flagdoc_validate(doc, &det, &err), LV_E_VALIDATION);
    int lines = 0;
    for (const char *p = det.data; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, LV_FLAGDOC_MAX_DETAILS + 1);
    assert_non_null(strstr(det.data, "... and 30 more\n"));
    lv_buf_free(&det);
    json_decref(doc);
}

/* Variant shares over 10,000 entities: 20 % then 25 % on one key gives
 * 20/5/75 (AWS's example), different seeds give 20/20/60. */
static void test_split_shares(void **state)
{
    (void)state;
    const char *text =
        "{\"version\":\"1\",\"flags\":{\"same\":{},\"diff\":{}},\"values\":{"
        "\"same\":{\"_variants\":[{\"name\":\"A\",\"enabled\":true,\"rule\":\"(split by::$uniqueId pct::20)\"},"
        "{\"name\":\"B\",\"enabled\":true,\"rule\":\"(split by::$uniqueId pct::25)\"},{\"name\":\"C\",\"enabled\":false}]},"
        "\"diff\":{\"_variants\":[{\"name\":\"A\",\"enabled\":true,\"rule\":\"(split by::$uniqueId pct::20 seed::\\\"seed_one\\\")\"},"
        "{\"name\":\"B\",\"enabled\":true,\"rule\":\"(split by::$uniqueId pct::25 seed::\\\"seed_two\\\")\"},{\"name\":\"C\",\"enabled\":false}]}}}";
    lv_flagdoc *d = NULL;
    lv_error err;
    assert_int_equal(lv_flagdoc_parse(text, strlen(text), &d, NULL, &err), LV_OK);
    int same[3] = {0}, diff[3] = {0};
    char id[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        lv_flag_kv kv[] = {{"uniqueId", id, LV_FV_STRING}};
        lv_flag_context ctx = {kv, 1, NULL};
        lv_flag_result r, r2;
        lv_flagdoc_eval(d, "same", &ctx, &r);
        same[r.variant[0] - 'A']++;
        lv_flagdoc_eval(d, "same", &ctx, &r2);
        assert_ptr_equal(r.variant, r2.variant); /* stable */
        assert_int_equal(r.reason, r.variant[0] == 'C' ? LV_FLAG_DEFAULT : LV_FLAG_SPLIT);
        lv_flagdoc_eval(d, "diff", &ctx, &r);
        diff[r.variant[0] - 'A']++;
    }
    assert_in_range(same[0], 1800, 2200);
    assert_in_range(same[1], 300, 700);
    assert_in_range(same[2], 7300, 7700);
    assert_in_range(diff[0], 1800, 2200);
    assert_in_range(diff[1], 1800, 2200);
    assert_in_range(diff[2], 5800, 6200);
    lv_flagdoc_free(d);
}

/* A seed makes two flags split one entity the same way, over 10,000
 * entities; without one, the flag key seeds the split and flags differ. */
static void test_split_across_flags(void **state)
{
    (void)state;
    const char *text =
        "{\"version\":\"1\",\"flags\":{\"a\":{},\"b\":{},\"c\":{},\"d\":{}},\"values\":{"
        "\"a\":{\"_variants\":[{\"name\":\"in\",\"enabled\":true,\"rule\":\"(split pct::30 seed::\\\"s\\\")\"},{\"name\":\"out\",\"enabled\":false}]},"
        "\"b\":{\"_variants\":[{\"name\":\"in\",\"enabled\":true,\"rule\":\"(split pct::30 seed::\\\"s\\\")\"},{\"name\":\"out\",\"enabled\":false}]},"
        "\"c\":{\"_variants\":[{\"name\":\"in\",\"enabled\":true,\"rule\":\"(split pct::30)\"},{\"name\":\"out\",\"enabled\":false}]},"
        "\"d\":{\"_variants\":[{\"name\":\"in\",\"enabled\":true,\"rule\":\"(split pct::30)\"},{\"name\":\"out\",\"enabled\":false}]}}}";
    lv_flagdoc *d = NULL;
    lv_error err;
    assert_int_equal(lv_flagdoc_parse(text, strlen(text), &d, NULL, &err), LV_OK);
    int in_a = 0, same_ab = 0, same_cd = 0;
    char id[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(id, sizeof id, "entity-%d", i);
        lv_flag_context ctx = {NULL, 0, id};
        lv_flag_result a, b, c, e;
        lv_flagdoc_eval(d, "a", &ctx, &a);
        lv_flagdoc_eval(d, "b", &ctx, &b);
        lv_flagdoc_eval(d, "c", &ctx, &c);
        lv_flagdoc_eval(d, "d", &ctx, &e);
        in_a += a.enabled;
        same_ab += a.enabled == b.enabled;
        same_cd += c.enabled == e.enabled;
    }
    assert_in_range(in_a, 2800, 3200);
    assert_int_equal(same_ab, 10000);
    /* Independent 30 % splits agree on about 0.3^2 + 0.7^2 = 58 %. */
    assert_in_range(same_cd, 5600, 6000);
    lv_flagdoc_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_cases),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_serve),
        cmocka_unit_test(test_details_bounded),
        cmocka_unit_test(test_split_shares),
        cmocka_unit_test(test_split_across_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
