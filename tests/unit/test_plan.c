/* test_plan.c - the rules of puts, labels and tags (core/plan.c) and the
 * policy set rules (core/policy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/param.h"
#include "core/plan.h"
#include "core/policy.h"

#define REGION "us-east-1"
#define USER "arn:aws:iam::000000000000:root"
#define NOW 1700000000000LL

/* A test "encryption": the bytes reversed, with a record of the call. */
typedef struct seal_ctx {
    unsigned calls;
    uint32_t version;
    char key_id[128];
    char region[32];
    char name[64];
    bool fail;
} seal_ctx;

static lv_err test_seal(void *ctx, const char *region, const char *name, uint32_t version,
                        const char *key_id, const char *pt, size_t pt_len, char **out,
                        size_t *out_len, lv_error *err)
{
    seal_ctx *c = ctx;
    c->calls++;
    c->version = version;
    snprintf(c->key_id, sizeof c->key_id, "%s", key_id ? key_id : "(null)");
    snprintf(c->region, sizeof c->region, "%s", region);
    snprintf(c->name, sizeof c->name, "%s", name);
    if (c->fail)
        return lv_error_set(err, LV_E_INVALID_KEY_ID, "test seal refuses");
    char *o = malloc(pt_len + 1);
    if (o == NULL)
        return LV_E_NOMEM;
    for (size_t i = 0; i < pt_len; i++)
        o[i] = pt[pt_len - 1 - i];
    o[pt_len] = '\0';
    *out = o;
    *out_len = pt_len;
    return LV_OK;
}

static lv_put_input input(const char *value)
{
    lv_put_input in;
    memset(&in, 0, sizeof in);
    in.value = value;
    in.value_len = strlen(value);
    in.user = USER;
    in.now_ms = NOW;
    return in;
}

static lv_put_input typed(const char *value, lv_ptype t)
{
    lv_put_input in = input(value);
    in.has_type = true;
    in.type = t;
    return in;
}

static seal_ctx g_seal;

static lv_err put(const lv_param *cur, const char *name, const lv_put_input *in, lv_param **out,
                  lv_put_result *res)
{
    lv_error err = {0};
    lv_put_result r = {0};
    *out = (lv_param *)1; /* must be reset */
    lv_err rc = lv_plan_put(cur, REGION, name, in, test_seal, &g_seal, out, res ? res : &r, &err);
    if (rc != LV_OK) {
        assert_null(*out);
        if (rc != LV_E_NOMEM)
            assert_int_equal(err.code, rc);
    } else {
        assert_non_null(*out);
    }
    return rc;
}

/* Puts and expects success; returns the new state. */
static lv_param *put_ok(const lv_param *cur, const char *name, const lv_put_input *in)
{
    lv_param *p;
    lv_error err = {0};
    lv_put_result r;
    lv_err rc = lv_plan_put(cur, REGION, name, in, test_seal, &g_seal, &p, &r, &err);
    if (rc != LV_OK)
        fail_msg("put %s refused: %s %s", name, lv_err_name(rc), err.msg);
    assert_int_equal(r.version, lv_param_latest(p)->version);
    return p;
}

/* Overwrites with value, freeing the previous state. */
static lv_param *overwrite(lv_param *cur, const char *value)
{
    lv_put_input in = input(value);
    in.overwrite = true;
    lv_param *p = put_ok(cur, cur->name, &in);
    lv_param_free(cur);
    return p;
}

static char *filled(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static int reset(void **state)
{
    (void)state;
    memset(&g_seal, 0, sizeof g_seal);
    return 0;
}

/* ---- puts ---------------------------------------------------------------- */

static void test_put_new(void **state)
{
    (void)state;
    lv_param *p;
    lv_put_input in = input("hello");
    assert_int_equal(put(NULL, "/a/b", &in, &p, NULL), LV_E_VALIDATION); /* no Type */

    in = typed("hello", LV_TYPE_STRING);
    lv_put_result res;
    assert_int_equal(put(NULL, "/a/b", &in, &p, &res), LV_OK);
    assert_int_equal(res.version, 1);
    assert_int_equal(res.tier, LV_TIER_STANDARD);
    assert_string_equal(p->region, REGION);
    assert_string_equal(p->name, "/a/b");
    assert_int_equal(p->key_len, strlen(REGION) + 1 + 4);
    assert_memory_equal(p->key, REGION "\0/a/b", p->key_len);
    assert_int_equal(p->nversions, 1);
    const lv_version *v = lv_param_latest(p);
    assert_int_equal(v->version, 1);
    assert_int_equal(v->type, LV_TYPE_STRING);
    assert_int_equal(v->tier, LV_TIER_STANDARD);
    assert_int_equal(v->value_len, 5);
    assert_memory_equal(v->value, "hello", 5);
    assert_string_equal(v->data_type, "text");
    assert_string_equal(v->modified_user, USER);
    assert_int_equal(v->modified_ms, NOW);
    assert_null(v->key_id);
    assert_null(v->description);
    assert_null(v->allowed_pattern);
    assert_null(v->policy);
    assert_int_equal(v->nlabels, 0);
    assert_int_equal(p->ntags, 0);
    assert_int_equal(g_seal.calls, 0);
    lv_param_free(p);
}

static void test_put_empty_value(void **state)
{
    (void)state;
    lv_param *p;
    lv_put_input in = typed("", LV_TYPE_STRING);
    assert_int_equal(put(NULL, "x", &in, &p, NULL), LV_E_VALIDATION);
}

static void test_put_reserved_names(void **state)
{
    (void)state;
    lv_param *p;
    lv_put_input in = typed("v", LV_TYPE_STRING);
    assert_int_equal(put(NULL, "awsthing", &in, &p, NULL), LV_E_VALIDATION);
    assert_int_equal(put(NULL, "/SSM/x", &in, &p, NULL), LV_E_VALIDATION);
    assert_int_equal(put(NULL, "/aws/x/y", &in, &p, NULL), LV_E_ACCESS_DENIED);
    assert_int_equal(put(NULL, "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", &in, &p, NULL),
                     LV_E_HIERARCHY_LEVEL_LIMIT);
    p = put_ok(NULL, "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15", &in);
    lv_param_free(p);
}

static void test_put_exists_and_overwrite(void **state)
{
    (void)state;
    lv_put_input in = typed("one", LV_TYPE_STRING);
    lv_param *p1 = put_ok(NULL, "/x", &in);
    lv_param *p;
    in = typed("two", LV_TYPE_STRING);
    assert_int_equal(put(p1, "/x", &in, &p, NULL), LV_E_PARAM_EXISTS);

    in.overwrite = true;
    in.now_ms = NOW + 5;
    lv_put_result res;
    assert_int_equal(put(p1, "/x", &in, &p, &res), LV_OK);
    assert_int_equal(res.version, 2);
    assert_int_equal(p->nversions, 2);
    assert_int_equal(p->versions[0]->version, 1);
    assert_int_equal(p->versions[1]->version, 2);
    assert_memory_equal(p->versions[1]->value, "two", 3);
    assert_int_equal(p->versions[1]->modified_ms, NOW + 5);
    /* The old version is shared, not copied; the old state is untouched. */
    assert_ptr_equal(p->versions[0], p1->versions[0]);
    assert_int_equal(p1->versions[0]->refs, 2);
    assert_int_equal(p1->nversions, 1);
    assert_memory_equal(lv_param_latest(p1)->value, "one", 3);
    lv_param_free(p1);
    assert_int_equal(p->versions[0]->refs, 1);
    assert_memory_equal(p->versions[0]->value, "one", 3);
    lv_param_free(p);
}

static void test_put_overwrite_inherits(void **state)
{
    (void)state;
    lv_put_input in = typed("12", LV_TYPE_SECURE_STRING);
    in.description = "the answer";
    in.allowed_pattern = "^[0-9]+$";
    in.key_id = "alias/custom";
    lv_param *p1 = put_ok(NULL, "/inherit", &in);
    assert_string_equal(lv_param_latest(p1)->key_id, "alias/custom");

    in = input("42");
    in.overwrite = true; /* no Type, no description, no pattern, no key */
    lv_param *p2 = put_ok(p1, "/inherit", &in);
    const lv_version *v = lv_param_latest(p2);
    assert_int_equal(v->version, 2);
    assert_int_equal(v->type, LV_TYPE_SECURE_STRING);
    assert_string_equal(v->description, "the answer");
    assert_string_equal(v->allowed_pattern, "^[0-9]+$");
    assert_string_equal(v->key_id, "alias/custom");
    assert_string_equal(g_seal.key_id, "alias/custom");
    assert_int_equal(g_seal.version, 2);
    assert_memory_equal(v->value, "24", 2); /* sealed by the test seal */

    /* New values replace inherited ones. */
    in = input("7");
    in.overwrite = true;
    in.description = "new";
    lv_param *p3 = put_ok(p2, "/inherit", &in);
    assert_string_equal(lv_param_latest(p3)->description, "new");
    assert_string_equal(lv_param_latest(p2)->description, "the answer");
    lv_param_free(p1);
    lv_param_free(p2);
    lv_param_free(p3);
}

static void test_put_type_change(void **state)
{
    (void)state;
    lv_put_input in = typed("a,b", LV_TYPE_STRING_LIST);
    lv_param *p1 = put_ok(NULL, "/t", &in);
    lv_param *p;
    in = typed("a", LV_TYPE_STRING);
    in.overwrite = true;
    assert_int_equal(put(p1, "/t", &in, &p, NULL), LV_E_HIERARCHY_TYPE_MISMATCH);
    in = typed("a", LV_TYPE_SECURE_STRING);
    in.overwrite = true;
    assert_int_equal(put(p1, "/t", &in, &p, NULL), LV_E_HIERARCHY_TYPE_MISMATCH);
    /* The same type stated again is fine. */
    in = typed("c", LV_TYPE_STRING_LIST);
    in.overwrite = true;
    p = put_ok(p1, "/t", &in);
    assert_int_equal(lv_param_latest(p)->type, LV_TYPE_STRING_LIST);
    lv_param_free(p);
    lv_param_free(p1);
}

static void test_put_tags_and_overwrite(void **state)
{
    (void)state;
    lv_tag_in tags[] = {{"env", "prod"}};
    lv_put_input in = typed("v", LV_TYPE_STRING);
    in.tags = tags;
    in.ntags = 1;
    in.overwrite = true;
    lv_param *p;
    assert_int_equal(put(NULL, "/tagged", &in, &p, NULL), LV_E_VALIDATION);
    in.overwrite = false;
    p = put_ok(NULL, "/tagged", &in);
    assert_int_equal(p->ntags, 1);
    assert_string_equal(p->tags[0].key, "env");
    assert_string_equal(p->tags[0].value, "prod");
    lv_param *q;
    in.overwrite = true;
    assert_int_equal(put(p, "/tagged", &in, &q, NULL), LV_E_VALIDATION);
    lv_param_free(p);
}

static void test_put_tags_on_create(void **state)
{
    (void)state;
    lv_tag_in tags[LV_MAX_TAGS + 1];
    char keys[LV_MAX_TAGS + 1][16];
    for (unsigned i = 0; i <= LV_MAX_TAGS; i++) {
        snprintf(keys[i], sizeof keys[i], "k%02u", LV_MAX_TAGS - i);
        tags[i].key = keys[i];
        tags[i].value = "v";
    }
    lv_put_input in = typed("v", LV_TYPE_STRING);
    in.tags = tags;
    in.ntags = LV_MAX_TAGS + 1;
    lv_param *p;
    assert_int_equal(put(NULL, "/many", &in, &p, NULL), LV_E_TOO_MANY_TAGS);
    in.ntags = LV_MAX_TAGS;
    p = put_ok(NULL, "/many", &in);
    assert_int_equal(p->ntags, LV_MAX_TAGS);
    for (unsigned i = 1; i < p->ntags; i++) /* sorted by key */
        assert_true(strcmp(p->tags[i - 1].key, p->tags[i].key) < 0);
    lv_param_free(p);

    lv_tag_in bad[] = {{"aws:x", "v"}};
    in.tags = bad;
    in.ntags = 1;
    assert_int_equal(put(NULL, "/many", &in, &p, NULL), LV_E_VALIDATION);
}

static void test_put_version_window(void **state)
{
    (void)state;
    lv_put_input in = typed("v1", LV_TYPE_STRING);
    lv_param *p = put_ok(NULL, "/win", &in);
    char val[16];
    for (unsigned i = 2; i <= LV_MAX_VERSIONS; i++) {
        snprintf(val, sizeof val, "v%u", i);
        p = overwrite(p, val);
    }
    assert_int_equal(p->nversions, LV_MAX_VERSIONS);
    assert_int_equal(p->versions[0]->version, 1);
    p = overwrite(p, "v101");
    assert_int_equal(p->nversions, LV_MAX_VERSIONS);
    assert_int_equal(p->versions[0]->version, 2);
    assert_int_equal(lv_param_latest(p)->version, 101);
    assert_null(lv_param_find_version(p, 1));
    assert_non_null(lv_param_find_version(p, 50));
    for (unsigned i = 1; i < p->nversions; i++)
        assert_int_equal(p->versions[i]->version, p->versions[i - 1]->version + 1);
    lv_param_free(p);
}

static void test_put_version_window_labelled(void **state)
{
    (void)state;
    lv_put_input in = typed("v1", LV_TYPE_STRING);
    lv_param *p = put_ok(NULL, "/winl", &in);
    const char *labels[] = {"keep"};
    lv_label_result lr;
    lv_error err = {0};
    lv_param *q;
    assert_int_equal(lv_plan_label(p, 1, labels, 1, &q, &lr, &err), LV_OK);
    lv_param_free(p);
    p = q;
    for (unsigned i = 2; i <= LV_MAX_VERSIONS; i++)
        p = overwrite(p, "v");
    in = input("v101");
    in.overwrite = true;
    assert_int_equal(put(p, "/winl", &in, &q, NULL), LV_E_PARAM_MAX_VERSION);
    assert_int_equal(p->nversions, LV_MAX_VERSIONS);
    assert_int_equal(p->versions[0]->nlabels, 1);

    /* Once the label moves away the put goes through. */
    assert_int_equal(lv_plan_label(p, 50, labels, 1, &q, &lr, &err), LV_OK);
    lv_param_free(p);
    p = q;
    p = overwrite(p, "v101");
    assert_int_equal(p->versions[0]->version, 2);
    assert_non_null(lv_param_find_label(p, "keep"));
    assert_int_equal(lv_param_find_label(p, "keep")->version, 50);
    lv_param_free(p);
}

/* A single-level name created as "/x" keeps that spelling for answers;
 * overwrites through either spelling do not change it. */
static void test_put_keeps_created_spelling(void **state)
{
    (void)state;
    lv_put_input in = typed("v", LV_TYPE_STRING);
    in.slash = true;
    lv_param *p1 = put_ok(NULL, "spell", &in);
    assert_string_equal(p1->name, "spell");
    assert_string_equal(lv_param_shown(p1), "/spell");
    in = input("w");
    in.overwrite = true; /* spelled without the slash this time */
    lv_param *p2 = put_ok(p1, "spell", &in);
    assert_string_equal(lv_param_shown(p2), "/spell");
    lv_param_free(p1);
    lv_param_free(p2);
    in = typed("v", LV_TYPE_STRING);
    lv_param *p3 = put_ok(NULL, "plain", &in);
    assert_string_equal(lv_param_shown(p3), "plain");
    in = input("w");
    in.overwrite = true;
    in.slash = true;
    lv_param *p4 = put_ok(p3, "plain", &in);
    assert_string_equal(lv_param_shown(p4), "plain");
    lv_param_free(p3);
    lv_param_free(p4);
    /* hierarchical names have one spelling */
    in = typed("v", LV_TYPE_STRING);
    in.slash = true;
    lv_param *p5 = put_ok(NULL, "/a/b", &in);
    assert_string_equal(lv_param_shown(p5), "/a/b");
    assert_null(p5->created);
    lv_param_free(p5);
}

static void test_put_allowed_pattern(void **state)
{
    (void)state;
    lv_param *p;
    lv_put_input in = typed("abc", LV_TYPE_STRING);
    in.allowed_pattern = "^[0-9]+$";
    assert_int_equal(put(NULL, "/pat", &in, &p, NULL), LV_E_PARAM_PATTERN_MISMATCH);
    in = typed("123", LV_TYPE_STRING);
    in.allowed_pattern = "^[0-9]+$";
    lv_param *p1 = put_ok(NULL, "/pat", &in);
    assert_string_equal(lv_param_latest(p1)->allowed_pattern, "^[0-9]+$");

    /* The stored pattern still applies to later puts. */
    in = input("xyz");
    in.overwrite = true;
    assert_int_equal(put(p1, "/pat", &in, &p, NULL), LV_E_PARAM_PATTERN_MISMATCH);
    in = input("456");
    in.overwrite = true;
    lv_param *p2 = put_ok(p1, "/pat", &in);
    /* A new pattern replaces it. */
    in = input("xyz");
    in.overwrite = true;
    in.allowed_pattern = "^[a-z]+$";
    lv_param *p3 = put_ok(p2, "/pat", &in);
    assert_string_equal(lv_param_latest(p3)->allowed_pattern, "^[a-z]+$");
    in = input("789");
    in.overwrite = true;
    assert_int_equal(put(p3, "/pat", &in, &p, NULL), LV_E_PARAM_PATTERN_MISMATCH);
    lv_param_free(p1);
    lv_param_free(p2);
    lv_param_free(p3);
}

static void test_put_tiers(void **state)
{
    (void)state;
    lv_param *p;
    lv_put_result res;
    char *v4096 = filled('s', 4096), *v4097 = filled('s', 4097);
    char *v8192 = filled('a', 8192), *v8193 = filled('a', 8193);

    lv_put_input in = typed(v4096, LV_TYPE_STRING);
    assert_int_equal(put(NULL, "/std", &in, &p, &res), LV_OK);
    assert_int_equal(res.tier, LV_TIER_STANDARD);
    lv_param_free(p);
    in = typed(v4097, LV_TYPE_STRING);
    assert_int_equal(put(NULL, "/std", &in, &p, NULL), LV_E_VALIDATION);
    in.has_tier = true;
    in.tier = LV_TIER_STANDARD;
    assert_int_equal(put(NULL, "/std", &in, &p, NULL), LV_E_VALIDATION);

    in = typed(v8192, LV_TYPE_STRING);
    in.has_tier = true;
    in.tier = LV_TIER_ADVANCED;
    assert_int_equal(put(NULL, "/adv", &in, &p, &res), LV_OK);
    assert_int_equal(res.tier, LV_TIER_ADVANCED);
    assert_int_equal(lv_param_latest(p)->tier, LV_TIER_ADVANCED);
    assert_int_equal(lv_param_latest(p)->value_len, 8192);
    lv_param *adv = p;
    in = typed(v8193, LV_TYPE_STRING);
    in.has_tier = true;
    in.tier = LV_TIER_ADVANCED;
    assert_int_equal(put(NULL, "/adv", &in, &p, NULL), LV_E_VALIDATION);
    in.tier = LV_TIER_INTELLIGENT;
    assert_int_equal(put(NULL, "/adv", &in, &p, NULL), LV_E_VALIDATION);

    /* Intelligent-Tiering picks the tier the value needs. */
    in = typed(v4097, LV_TYPE_STRING);
    in.has_tier = true;
    in.tier = LV_TIER_INTELLIGENT;
    assert_int_equal(put(NULL, "/it", &in, &p, &res), LV_OK);
    assert_int_equal(res.tier, LV_TIER_ADVANCED);
    assert_int_equal(lv_param_latest(p)->tier, LV_TIER_ADVANCED);
    lv_param_free(p);
    in = typed("small", LV_TYPE_STRING);
    in.has_tier = true;
    in.tier = LV_TIER_INTELLIGENT;
    assert_int_equal(put(NULL, "/it", &in, &p, &res), LV_OK);
    assert_int_equal(res.tier, LV_TIER_STANDARD);
    lv_param_free(p);

    /* No way back from Advanced to Standard; without a tier it stays. */
    in = input("small");
    in.overwrite = true;
    in.has_tier = true;
    in.tier = LV_TIER_STANDARD;
    assert_int_equal(put(adv, "/adv", &in, &p, NULL), LV_E_VALIDATION);
    in.has_tier = false;
    assert_int_equal(put(adv, "/adv", &in, &p, &res), LV_OK);
    assert_int_equal(res.tier, LV_TIER_ADVANCED);
    lv_param_free(p);
    in.has_tier = true;
    in.tier = LV_TIER_INTELLIGENT;
    assert_int_equal(put(adv, "/adv", &in, &p, &res), LV_OK);
    assert_int_equal(res.tier, LV_TIER_ADVANCED);
    lv_param_free(p);

    /* Standard -> Advanced is an upgrade, allowed. */
    in = typed("x", LV_TYPE_STRING);
    lv_param *std = put_ok(NULL, "/up", &in);
    in = input(v8192);
    in.overwrite = true;
    in.has_tier = true;
    in.tier = LV_TIER_ADVANCED;
    assert_int_equal(put(std, "/up", &in, &p, &res), LV_OK);
    assert_int_equal(res.tier, LV_TIER_ADVANCED);
    assert_int_equal(std->versions[0]->tier, LV_TIER_STANDARD);
    lv_param_free(p);
    lv_param_free(std);
    lv_param_free(adv);
    free(v4096);
    free(v4097);
    free(v8192);
    free(v8193);
}

static void test_put_data_type(void **state)
{
    (void)state;
    lv_param *p;
    lv_put_input in = typed("ami-12345678", LV_TYPE_STRING);
    in.data_type = "aws:ec2:image";
    lv_param *p1 = put_ok(NULL, "/ami", &in);
    assert_string_equal(lv_param_latest(p1)->data_type, "aws:ec2:image");
    in = typed("ami-xyz", LV_TYPE_STRING);
    in.data_type = "aws:ec2:image";
    assert_int_equal(put(NULL, "/ami", &in, &p, NULL), LV_E_VALIDATION);
    /* The data type is kept on overwrite and still checked. */
    in = input("not-an-ami");
    in.overwrite = true;
    assert_int_equal(put(p1, "/ami", &in, &p, NULL), LV_E_VALIDATION);
    in = input("ami-0123456789abcdef0");
    in.overwrite = true;
    p = put_ok(p1, "/ami", &in);
    assert_string_equal(lv_param_latest(p)->data_type, "aws:ec2:image");
    lv_param_free(p);
    lv_param_free(p1);

    in = typed("x", LV_TYPE_STRING);
    in.data_type = "aws:ec2:instance";
    assert_int_equal(put(NULL, "/dt", &in, &p, NULL), LV_E_VALIDATION);
    in.data_type = "TEXT";
    assert_int_equal(put(NULL, "/dt", &in, &p, NULL), LV_E_VALIDATION);
    in.data_type = "aws:ssm:integration";
    p = put_ok(NULL, "/dt", &in);
    lv_param_free(p);

    lv_error err = {0};
    assert_int_equal(lv_data_type_check("text", "anything", 8, &err), LV_OK);
    assert_int_equal(lv_data_type_check("aws:ec2:image", "ami-abcdef01", 12, &err), LV_OK);
    assert_int_equal(lv_data_type_check("aws:ec2:image", "ami-ABCDEF01", 12, &err), LV_E_VALIDATION);
    assert_int_equal(lv_data_type_check("aws:ec2:image", "ami-1234567", 11, &err), LV_E_VALIDATION);
    assert_int_equal(lv_data_type_check("aws:ec2:image", "ami-123456789", 13, &err), LV_E_VALIDATION);
    assert_int_equal(lv_data_type_check("aws:ec2:image", "ami-", 4, &err), LV_E_VALIDATION);
    assert_int_equal(lv_data_type_check("aws:ec2:image", "abc-12345678", 12, &err), LV_E_VALIDATION);
    assert_int_equal(lv_data_type_check("bogus", "x", 1, &err), LV_E_VALIDATION);
    assert_int_equal(err.code, LV_E_VALIDATION);
}

static void test_put_key_id(void **state)
{
    (void)state;
    lv_param *p;
    lv_put_input in = typed("v", LV_TYPE_STRING);
    in.key_id = "alias/mine";
    assert_int_equal(put(NULL, "/k", &in, &p, NULL), LV_E_VALIDATION);
    in = typed("v", LV_TYPE_STRING_LIST);
    in.key_id = "alias/mine";
    assert_int_equal(put(NULL, "/k", &in, &p, NULL), LV_E_VALIDATION);
    assert_int_equal(g_seal.calls, 0);
}

static void test_put_secure_string(void **state)
{
    (void)state;
    lv_put_input in = typed("secret", LV_TYPE_SECURE_STRING);
    lv_param *p1 = put_ok(NULL, "/sec", &in);
    const lv_version *v = lv_param_latest(p1);
    assert_int_equal(g_seal.calls, 1);
    assert_int_equal(g_seal.version, 1);
    assert_string_equal(g_seal.key_id, LV_DEFAULT_KEY_ID);
    assert_string_equal(g_seal.region, REGION);
    assert_string_equal(g_seal.name, "/sec");
    assert_string_equal(v->key_id, LV_DEFAULT_KEY_ID);
    assert_int_equal(v->value_len, 6);
    assert_memory_equal(v->value, "terces", 6);

    /* Overwrite: default key kept; a new key replaces it. */
    in = input("second");
    in.overwrite = true;
    lv_param *p2 = put_ok(p1, "/sec", &in);
    assert_int_equal(g_seal.calls, 2);
    assert_int_equal(g_seal.version, 2);
    assert_string_equal(lv_param_latest(p2)->key_id, LV_DEFAULT_KEY_ID);
    in.key_id = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    lv_param *p3 = put_ok(p2, "/sec", &in);
    assert_string_equal(g_seal.key_id, "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_string_equal(lv_param_latest(p3)->key_id, "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_memory_equal(lv_param_latest(p3)->value, "dnoces", 6);

    /* KeyIds must have a KMS form: key id, key ARN, alias, alias ARN. */
    static const char *const bad_ids[] = {"mykey", "key/1234", "alias/", "1234abcd-12ab-34cd-56ef",
                                          "arn:aws:kms:us-east-1:1:key/x", "arn:aws:kms:x"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        lv_param *bp;
        in = input("x");
        in.overwrite = true;
        in.key_id = bad_ids[i];
        assert_int_equal(put(p3, "/sec", &in, &bp, NULL), LV_E_INVALID_KEY_ID);
    }
    static const char *const good_ids[] = {"alias/app/key_1", "mrk-1234abcd12ab34cd56ef1234567890ab",
                                           "arn:aws:kms:eu-west-1:111122223333:alias/app"};
    for (size_t i = 0; i < sizeof good_ids / sizeof *good_ids; i++) {
        lv_error e2;
        assert_int_equal(lv_key_id_check(good_ids[i], &e2), LV_OK);
    }

    /* A refusal of the seal function is passed on. */
    g_seal.fail = true;
    lv_param *p;
    in = input("third");
    in.overwrite = true;
    assert_int_equal(put(p3, "/sec", &in, &p, NULL), LV_E_INVALID_KEY_ID);
    g_seal.fail = false;
    lv_param_free(p1);
    lv_param_free(p2);
    lv_param_free(p3);
}

static lv_policy_set one_policy(lv_policy_type t, int64_t ts, int64_t amount)
{
    lv_policy_set s;
    memset(&s, 0, sizeof s);
    s.n = 1;
    s.p[0].type = t;
    s.p[0].timestamp_ms = ts;
    s.p[0].amount_ms = amount;
    return s;
}

static void test_put_policies(void **state)
{
    (void)state;
    lv_param *p;
    lv_put_result res;
    lv_policy_set exp = one_policy(LV_POLICY_EXPIRATION, NOW + 3600000, 0);
    const char *text = "[{\"Type\":\"Expiration\"}]";
    lv_put_input in = typed("v", LV_TYPE_STRING);
    in.policies = &exp;
    in.policies_text = text;
    /* Standard parameters can't carry policies. */
    in.has_tier = true;
    in.tier = LV_TIER_STANDARD;
    assert_int_equal(put(NULL, "/pol", &in, &p, NULL), LV_E_VALIDATION);
    in.has_tier = false;
    assert_int_equal(put(NULL, "/pol", &in, &p, NULL), LV_E_VALIDATION);
    in.has_tier = true;
    in.tier = LV_TIER_INTELLIGENT;
    assert_int_equal(put(NULL, "/pol", &in, &p, &res), LV_OK);
    assert_int_equal(res.tier, LV_TIER_ADVANCED);
    lv_param_free(p);
    in.tier = LV_TIER_ADVANCED;
    lv_param *p1 = put_ok(NULL, "/pol", &in);
    const lv_version *v = lv_param_latest(p1);
    assert_string_equal(v->policies, text);
    assert_non_null(v->policy);
    assert_ptr_not_equal(v->policy, &exp);
    assert_int_equal(v->policy->n, 1);
    assert_int_equal(v->policy->p[0].timestamp_ms, NOW + 3600000);

    /* Expired policy refused. */
    lv_policy_set old = one_policy(LV_POLICY_EXPIRATION, NOW - 1, 0);
    in.policies = &old;
    assert_int_equal(put(NULL, "/pol2", &in, &p, NULL), LV_E_INVALID_POLICY_ATTRIBUTE);

    /* Overwrite without policies keeps them; "[]" clears them. */
    in = input("w");
    in.overwrite = true;
    lv_param *p2 = put_ok(p1, "/pol", &in);
    v = lv_param_latest(p2);
    assert_string_equal(v->policies, text);
    assert_non_null(v->policy);
    assert_ptr_not_equal(v->policy, p1->versions[0]->policy);
    assert_int_equal(v->policy->n, 1);
    lv_policy_set none;
    memset(&none, 0, sizeof none);
    in.policies = &none;
    in.policies_text = "[]";
    lv_param *p3 = put_ok(p2, "/pol", &in);
    v = lv_param_latest(p3);
    assert_null(v->policies);
    assert_null(v->policy);
    assert_int_equal(v->tier, LV_TIER_ADVANCED);
    lv_param_free(p1);
    lv_param_free(p2);
    lv_param_free(p3);
}

/* ---- labels -------------------------------------------------------------- */

static lv_param *three_versions(void)
{
    lv_put_input in = typed("v1", LV_TYPE_STRING);
    lv_param *p = put_ok(NULL, "/lab", &in);
    p = overwrite(p, "v2");
    return overwrite(p, "v3");
}

static bool has_label(const lv_version *v, const char *l)
{
    for (unsigned i = 0; i < v->nlabels; i++)
        if (strcmp(v->labels[i], l) == 0)
            return true;
    return false;
}

static void test_label_basic(void **state)
{
    (void)state;
    lv_param *p = three_versions();
    lv_param *q;
    lv_label_result r;
    lv_error err = {0};
    const char *labels[] = {"prod", "beta"};
    assert_int_equal(lv_plan_label(p, 0, labels, 2, &q, &r, &err), LV_OK);
    assert_int_equal(r.version, 3);
    assert_int_equal(r.ninvalid, 0);
    assert_true(r.changed);
    assert_true(has_label(q->versions[2], "prod"));
    assert_true(has_label(q->versions[2], "beta"));
    assert_int_equal(q->versions[2]->nlabels, 2);
    assert_int_equal(p->versions[2]->nlabels, 0); /* old state untouched */
    /* Untouched versions stay shared. */
    assert_ptr_equal(q->versions[0], p->versions[0]);
    assert_ptr_equal(q->versions[1], p->versions[1]);

    /* Labelling again with the same labels changes nothing. */
    lv_param *q2;
    assert_int_equal(lv_plan_label(q, 3, labels, 2, &q2, &r, &err), LV_OK);
    assert_false(r.changed);
    assert_int_equal(q2->versions[2]->nlabels, 2);
    lv_param_free(q2);
    lv_param_free(q);
    lv_param_free(p);
}

static void test_label_move(void **state)
{
    (void)state;
    lv_param *p = three_versions();
    lv_param *a, *b;
    lv_label_result r;
    lv_error err = {0};
    const char *labels[] = {"prod"};
    assert_int_equal(lv_plan_label(p, 1, labels, 1, &a, &r, &err), LV_OK);
    assert_int_equal(r.version, 1);
    assert_true(has_label(a->versions[0], "prod"));
    assert_int_equal(lv_param_find_label(a, "prod")->version, 1);

    assert_int_equal(lv_plan_label(a, 2, labels, 1, &b, &r, &err), LV_OK);
    assert_int_equal(r.version, 2);
    assert_true(r.changed);
    assert_false(has_label(b->versions[0], "prod"));
    assert_true(has_label(b->versions[1], "prod"));
    assert_int_equal(lv_param_find_label(b, "prod")->version, 2);
    /* The previous state still has its label where it was. */
    assert_true(has_label(a->versions[0], "prod"));
    assert_false(has_label(a->versions[1], "prod"));
    assert_int_equal(lv_param_find_label(a, "prod")->version, 1);
    assert_int_equal(p->versions[0]->nlabels, 0);
    lv_param_free(p);
    lv_param_free(b);
    /* Freeing in any order leaves a valid state. */
    assert_true(has_label(a->versions[0], "prod"));
    lv_param_free(a);
}

static void test_label_invalid(void **state)
{
    (void)state;
    lv_param *p = three_versions();
    lv_param *q;
    lv_label_result r;
    lv_error err = {0};
    const char *labels[] = {"good", "1bad", "awsx", "also_good", "sp ace"};
    assert_int_equal(lv_plan_label(p, 2, labels, 5, &q, &r, &err), LV_OK);
    assert_int_equal(r.ninvalid, 3);
    assert_string_equal(r.invalid[0], "1bad");
    assert_string_equal(r.invalid[1], "awsx");
    assert_string_equal(r.invalid[2], "sp ace");
    assert_int_equal(q->versions[1]->nlabels, 2);
    assert_true(has_label(q->versions[1], "good"));
    assert_true(has_label(q->versions[1], "also_good"));
    lv_param_free(q);
    lv_param_free(p);
}

static void test_label_limit(void **state)
{
    (void)state;
    lv_param *p = three_versions();
    lv_param *q, *q2;
    lv_label_result r;
    lv_error err = {0};
    const char *ten[] = {"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"};
    assert_int_equal(lv_plan_label(p, 3, ten, 10, &q, &r, &err), LV_OK);
    assert_int_equal(q->versions[2]->nlabels, 10);
    const char *eleventh[] = {"l10"};
    assert_int_equal(lv_plan_label(q, 3, eleventh, 1, &q2, &r, &err),
                     LV_E_PARAM_VERSION_LABEL_LIMIT);
    assert_int_equal(err.code, LV_E_PARAM_VERSION_LABEL_LIMIT);
    assert_int_equal(q->versions[2]->nlabels, 10);
    /* Labels already there, and duplicates in the request, don't count. */
    const char *again[] = {"l0", "l5", "l5"};
    assert_int_equal(lv_plan_label(q, 3, again, 3, &q2, &r, &err), LV_OK);
    assert_int_equal(q2->versions[2]->nlabels, 10);
    lv_param_free(q2);
    /* Eleven at once on a bare version. */
    const char *eleven[] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"};
    assert_int_equal(lv_plan_label(p, 1, eleven, 11, &q2, &r, &err),
                     LV_E_PARAM_VERSION_LABEL_LIMIT);
    /* A request with duplicates that stays within ten is fine. */
    const char *dups[] = {"d", "d", "d", "d", "d", "d", "d", "d", "d", "d", "d"};
    assert_int_equal(lv_plan_label(p, 1, dups, 11, &q2, &r, &err), LV_OK);
    assert_int_equal(q2->versions[0]->nlabels, 1);
    lv_param_free(q2);
    lv_param_free(q);
    lv_param_free(p);
}

static void test_label_errors(void **state)
{
    (void)state;
    lv_param *p = three_versions();
    lv_param *q = (lv_param *)1;
    lv_label_result r;
    lv_error err = {0};
    const char *labels[] = {"x"};
    assert_int_equal(lv_plan_label(p, 4, labels, 1, &q, &r, &err), LV_E_PARAM_VERSION_NOT_FOUND);
    assert_int_equal(err.code, LV_E_PARAM_VERSION_NOT_FOUND);
    assert_int_equal(lv_plan_label(NULL, 1, labels, 1, &q, &r, &err), LV_E_PARAM_NOT_FOUND);
    assert_int_equal(lv_plan_unlabel(p, 9, labels, 1, &q, &r, &err), LV_E_PARAM_VERSION_NOT_FOUND);
    assert_int_equal(lv_plan_unlabel(NULL, 1, labels, 1, &q, &r, &err), LV_E_PARAM_NOT_FOUND);
    lv_param_free(p);
}

static void test_unlabel(void **state)
{
    (void)state;
    lv_param *p = three_versions();
    lv_param *a, *b;
    lv_label_result r;
    lv_error err = {0};
    const char *labels[] = {"prod", "beta", "gamma"};
    assert_int_equal(lv_plan_label(p, 2, labels, 3, &a, &r, &err), LV_OK);
    const char *rm[] = {"beta", "nothere", "prod"};
    assert_int_equal(lv_plan_unlabel(a, 2, rm, 3, &b, &r, &err), LV_OK);
    assert_true(r.changed);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.nremoved, 2);
    assert_string_equal(r.removed[0], "beta");
    assert_string_equal(r.removed[1], "prod");
    assert_int_equal(r.ninvalid, 1);
    assert_string_equal(r.invalid[0], "nothere");
    assert_int_equal(b->versions[1]->nlabels, 1);
    assert_string_equal(b->versions[1]->labels[0], "gamma");
    /* The labelled state before is untouched. */
    assert_int_equal(a->versions[1]->nlabels, 3);
    assert_true(has_label(a->versions[1], "prod"));
    assert_true(has_label(a->versions[1], "beta"));

    /* A label of another version is not removed from it. */
    lv_param *c;
    const char *g[] = {"gamma"};
    assert_int_equal(lv_plan_unlabel(b, 1, g, 1, &c, &r, &err), LV_OK);
    assert_false(r.changed);
    assert_int_equal(r.ninvalid, 1);
    assert_int_equal(c->versions[1]->nlabels, 1);
    lv_param_free(c);
    /* The version is required. */
    assert_int_equal(lv_plan_unlabel(b, 0, g, 1, &c, &r, &err), LV_E_VALIDATION);
    lv_param_free(a);
    lv_param_free(b);
    lv_param_free(p);
}

/* ---- tags ---------------------------------------------------------------- */

static void test_tags(void **state)
{
    (void)state;
    lv_put_input in = typed("v", LV_TYPE_STRING);
    lv_param *p = put_ok(NULL, "/tags", &in);
    lv_error err = {0};
    lv_tag_in t1[] = {{"b", "2"}, {"a", "1"}, {"Name", "my thing @ x:y/z=+-_."}};
    lv_param *q;
    assert_int_equal(lv_plan_add_tags(p, t1, 3, &q, &err), LV_OK);
    assert_int_equal(q->ntags, 3);
    assert_string_equal(q->tags[0].key, "Name");
    assert_string_equal(q->tags[1].key, "a");
    assert_string_equal(q->tags[2].key, "b");
    assert_int_equal(p->ntags, 0);
    /* Replacing a value. */
    lv_tag_in t2[] = {{"a", "one"}};
    lv_param *q2;
    assert_int_equal(lv_plan_add_tags(q, t2, 1, &q2, &err), LV_OK);
    assert_int_equal(q2->ntags, 3);
    assert_string_equal(lv_param_find_tag(q2, "a")->value, "one");
    assert_string_equal(lv_param_find_tag(q, "a")->value, "1");
    /* Removing, including keys that aren't there. */
    const char *rm[] = {"b", "zzz", "Name"};
    lv_param *q3;
    assert_int_equal(lv_plan_remove_tags(q2, rm, 3, &q3, &err), LV_OK);
    assert_int_equal(q3->ntags, 1);
    assert_string_equal(q3->tags[0].key, "a");
    assert_int_equal(q2->ntags, 3);
    /* Versions are shared by tag changes. */
    assert_ptr_equal(q3->versions[0], p->versions[0]);
    lv_param_free(q3);
    lv_param_free(q2);
    lv_param_free(q);
    lv_param_free(p);
}

static void test_tags_limits(void **state)
{
    (void)state;
    lv_put_input in = typed("v", LV_TYPE_STRING);
    lv_param *p = put_ok(NULL, "/tags", &in);
    lv_error err = {0};
    lv_tag_in tags[LV_MAX_TAGS + 1];
    char keys[LV_MAX_TAGS + 1][16];
    for (unsigned i = 0; i <= LV_MAX_TAGS; i++) {
        snprintf(keys[i], sizeof keys[i], "key%u", i);
        tags[i].key = keys[i];
        tags[i].value = "";
    }
    lv_param *q = (lv_param *)1, *q2;
    assert_int_equal(lv_plan_add_tags(p, tags, LV_MAX_TAGS + 1, &q, &err), LV_E_TOO_MANY_TAGS);
    assert_int_equal(err.code, LV_E_TOO_MANY_TAGS);
    assert_int_equal(lv_plan_add_tags(p, tags, LV_MAX_TAGS, &q, &err), LV_OK);
    assert_int_equal(q->ntags, LV_MAX_TAGS);
    /* Full: replacing is fine, one more is not. */
    lv_tag_in repl[] = {{"key7", "new"}};
    assert_int_equal(lv_plan_add_tags(q, repl, 1, &q2, &err), LV_OK);
    lv_param_free(q2);
    assert_int_equal(lv_plan_add_tags(q, tags + LV_MAX_TAGS, 1, &q2, &err), LV_E_TOO_MANY_TAGS);
    lv_param_free(q);

    char *k129 = filled('k', 129), *k128 = filled('k', 128);
    char *v257 = filled('v', 257), *v256 = filled('v', 256);
    struct {
        const char *key, *value;
        lv_err want;
    } cases[] = {
        {"aws:x", "v", LV_E_VALIDATION},  {"AWS:name", "v", LV_E_VALIDATION},
        {"", "v", LV_E_VALIDATION},       {k129, "v", LV_E_VALIDATION},
        {k128, v256, LV_OK},              {"k", v257, LV_E_VALIDATION},
        {"a#b", "v", LV_E_VALIDATION},    {"k", "v|w", LV_E_VALIDATION},
        {"awsx", "v", LV_OK},             {"k", "", LV_OK},
        {"caf\xc3\xa9", "\xe2\x82\xac", LV_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lv_tag_in t[] = {{cases[i].key, cases[i].value}};
        lv_err rc = lv_plan_add_tags(p, t, 1, &q, &err);
        if (rc != cases[i].want)
            fail_msg("tag %zu '%.20s'='%.20s': expected %s, got %s", i, cases[i].key,
                     cases[i].value, lv_err_name(cases[i].want), lv_err_name(rc));
        assert_int_equal(lv_tag_check(cases[i].key, cases[i].value, &err), cases[i].want);
        if (rc == LV_OK)
            lv_param_free(q);
    }
    free(k129);
    free(k128);
    free(v257);
    free(v256);
    lv_param_free(p);
}

/* ---- policies ------------------------------------------------------------ */

static void test_policy_set_check(void **state)
{
    (void)state;
    lv_error err = {0};
    lv_policy_set s;
    memset(&s, 0, sizeof s);
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_OK);

    s = one_policy(LV_POLICY_EXPIRATION, NOW + 1, 0);
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_OK);
    s.p[0].timestamp_ms = NOW;
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_E_INVALID_POLICY_ATTRIBUTE);
    s.p[0].timestamp_ms = NOW - 86400000;
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_E_INVALID_POLICY_ATTRIBUTE);

    s = one_policy(LV_POLICY_NO_CHANGE_NOTIFICATION, 0, 3600000);
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_OK);

    s = one_policy(LV_POLICY_EXPIRATION_NOTIFICATION, 0, 3600000);
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_E_INCOMPATIBLE_POLICY);
    s.n = 2;
    s.p[1].type = LV_POLICY_EXPIRATION;
    s.p[1].timestamp_ms = NOW + 86400000;
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_OK);
    s.n = 3;
    s.p[2] = s.p[1];
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_E_INCOMPATIBLE_POLICY);
    assert_int_equal(err.code, LV_E_INCOMPATIBLE_POLICY);
    s.p[2].type = LV_POLICY_EXPIRATION_NOTIFICATION;
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_E_INCOMPATIBLE_POLICY);
    s.p[2].type = LV_POLICY_NO_CHANGE_NOTIFICATION;
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_OK);
    s.n = 4;
    s.p[3] = s.p[2];
    assert_int_equal(lv_policy_set_check(&s, NOW, &err), LV_E_INCOMPATIBLE_POLICY);
}

static void test_policy_due(void **state)
{
    (void)state;
    lv_policy_set s;
    memset(&s, 0, sizeof s);
    s.n = 3;
    s.p[0].type = LV_POLICY_EXPIRATION_NOTIFICATION;
    s.p[0].amount_ms = 2 * 86400000LL;
    s.p[1].type = LV_POLICY_EXPIRATION;
    s.p[1].timestamp_ms = NOW + 10 * 86400000LL;
    s.p[2].type = LV_POLICY_NO_CHANGE_NOTIFICATION;
    s.p[2].amount_ms = 5 * 3600000LL;
    assert_int_equal(lv_policy_due(&s, 0, NOW), NOW + 8 * 86400000LL);
    assert_int_equal(lv_policy_due(&s, 1, NOW), NOW + 10 * 86400000LL);
    assert_int_equal(lv_policy_due(&s, 1, 0), NOW + 10 * 86400000LL);
    assert_int_equal(lv_policy_due(&s, 2, NOW), NOW + 5 * 3600000LL);
    assert_int_equal(lv_policy_due(&s, 2, 1000), 1000 + 5 * 3600000LL);
    /* A notification about an expiry that isn't there is never due. */
    s.p[1].type = LV_POLICY_NO_CHANGE_NOTIFICATION;
    assert_true(lv_policy_due(&s, 0, NOW) == INT64_MAX);
    assert_string_equal(lv_policy_type_name(LV_POLICY_EXPIRATION), "Expiration");
    assert_string_equal(lv_policy_type_name(LV_POLICY_EXPIRATION_NOTIFICATION),
                        "ExpirationNotification");
    assert_string_equal(lv_policy_type_name(LV_POLICY_NO_CHANGE_NOTIFICATION),
                        "NoChangeNotification");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_put_new, reset),
        cmocka_unit_test_setup(test_put_empty_value, reset),
        cmocka_unit_test_setup(test_put_reserved_names, reset),
        cmocka_unit_test_setup(test_put_exists_and_overwrite, reset),
        cmocka_unit_test_setup(test_put_overwrite_inherits, reset),
        cmocka_unit_test_setup(test_put_type_change, reset),
        cmocka_unit_test_setup(test_put_tags_and_overwrite, reset),
        cmocka_unit_test_setup(test_put_tags_on_create, reset),
        cmocka_unit_test_setup(test_put_version_window, reset),
        cmocka_unit_test_setup(test_put_version_window_labelled, reset),
        cmocka_unit_test_setup(test_put_keeps_created_spelling, reset),
        cmocka_unit_test_setup(test_put_allowed_pattern, reset),
        cmocka_unit_test_setup(test_put_tiers, reset),
        cmocka_unit_test_setup(test_put_data_type, reset),
        cmocka_unit_test_setup(test_put_key_id, reset),
        cmocka_unit_test_setup(test_put_secure_string, reset),
        cmocka_unit_test_setup(test_put_policies, reset),
        cmocka_unit_test_setup(test_label_basic, reset),
        cmocka_unit_test_setup(test_label_move, reset),
        cmocka_unit_test_setup(test_label_invalid, reset),
        cmocka_unit_test_setup(test_label_limit, reset),
        cmocka_unit_test_setup(test_label_errors, reset),
        cmocka_unit_test_setup(test_unlabel, reset),
        cmocka_unit_test_setup(test_tags, reset),
        cmocka_unit_test_setup(test_tags_limits, reset),
        cmocka_unit_test(test_policy_set_check),
        cmocka_unit_test(test_policy_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
