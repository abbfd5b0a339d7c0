/* test_hooks.c - the pure parts of extension webhooks: which actions apply
 * (core/ac_hooks.c), the event body (json/hookevent.c), the reason kept
 * from an answer, and the HMAC signature (crypto/hooksig.c) against a
 * vector computed independently (Python's hmac). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/ac_hooks.h"
#include "crypto/hooksig.h"
#include "json/hookevent.h"

static const lv_acrec *tget(void *ctx, const char *key, size_t klen)
{
    return lv_actable_get(ctx, key, klen);
}

static void teach(void *ctx, const char *prefix, size_t plen, lv_acview_fn fn, void *arg)
{
    const lv_actable *t = ctx;
    for (size_t i = lv_actable_seek(t, prefix, plen); i < t->n && lv_acrec_has_prefix(t->r[i], prefix, plen); i++)
        if (!fn(arg, t->r[i]))
            return;
}

static void put(lv_actable *t, lv_acrec *r)
{
    lv_acrec *old = NULL;
    assert_int_equal(lv_actable_put(t, r, &old), LV_OK);
    lv_acrec_unref(old);
}

static lv_acrec *ext(const char *id, const char *name, const char *point, const char *uri)
{
    char key[16];
    snprintf(key, sizeof key, "x%s", id);
    lv_acrec *x = lv_acrec_new(LV_AC_EXT, XF__N);
    assert_non_null(x);
    assert_int_equal(lv_acrec_set_key(x, key), LV_OK);
    assert_int_equal(lv_acrec_set_str(x, XF_ID, id), LV_OK);
    assert_int_equal(lv_acrec_set_str(x, XF_NAME, name), LV_OK);
    assert_int_equal(lv_acrec_set_num(x, XF_VERSION, 1), LV_OK);
    const char *items[] = {point, "act", "", uri, ""};
    for (int i = 0; i < 5; i++)
        assert_int_equal(lv_acrec_push(x, XF_ACTIONS, items[i], strlen(items[i])), LV_OK);
    return x;
}

static lv_acrec *assoc(const char *id, const char *ext_id, const char *reskey)
{
    char key[16];
    snprintf(key, sizeof key, "X%s", id);
    lv_acrec *y = lv_acrec_new(LV_AC_ASSOC, YF__N);
    assert_non_null(y);
    assert_int_equal(lv_acrec_set_key(y, key), LV_OK);
    assert_int_equal(lv_acrec_set_str(y, YF_ID, id), LV_OK);
    assert_int_equal(lv_acrec_set_str(y, YF_EXT, ext_id), LV_OK);
    assert_int_equal(lv_acrec_set_str(y, YF_RESKEY, reskey), LV_OK);
    assert_int_equal(lv_acrec_push(y, YF_PARAMS, "team", 4), LV_OK);
    assert_int_equal(lv_acrec_push(y, YF_PARAMS, id, strlen(id)), LV_OK);
    return y;
}

typedef struct seen {
    char ids[8][16];
    int n;
} seen;

static bool collect(void *arg, const lv_ac_hook *h)
{
    seen *s = arg;
    snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", lv_acrec_str(h->assoc, YF_ID));
    return s->n < 8;
}

static void test_which_actions_apply(void **state)
{
    (void)state;
    lv_actable t = {0};
    put(&t, ext("ext0001", "web", LV_HOOK_PRE_START, "https://hooks.example/pre"));
    put(&t, ext("ext0002", "lambda", LV_HOOK_PRE_START, "arn:aws:lambda:us-east-1:1:function:f"));
    put(&t, ext("ext0003", "notify", LV_HOOK_ON_COMPLETE, "HTTP://hooks.example/done"));
    put(&t, assoc("as0001a", "ext0001", "aapp0001"));                  /* the application */
    put(&t, assoc("as0002e", "ext0001", "eapp0001/env0001"));          /* its environment */
    put(&t, assoc("as0003o", "ext0001", "eapp0001/env0002"));          /* another environment */
    put(&t, assoc("as0004p", "ext0001", "papp0001/prf0001"));          /* its profile */
    put(&t, assoc("as0005l", "ext0002", "aapp0001"));                  /* not a webhook */
    put(&t, assoc("as0006c", "ext0003", "papp0001/prf0001"));          /* another point */
    put(&t, assoc("as0007z", "ext0001", "aapp0002"));                  /* another application */
    put(&t, assoc("as0008g", "gone000", "aapp0001"));                  /* extension deleted */
    lv_acview v = {tget, teach, &t};
    seen s = {0};
    assert_int_equal(lv_ac_hooks_find(&v, LV_HOOK_PRE_START, "app0001", "env0001", "prf0001", collect, &s), 3);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.ids[0], "as0001a");
    assert_string_equal(s.ids[1], "as0002e");
    assert_string_equal(s.ids[2], "as0004p");
    /* A hosted version has no environment. */
    memset(&s, 0, sizeof s);
    assert_int_equal(lv_ac_hooks_find(&v, LV_HOOK_PRE_START, "app0001", NULL, "prf0001", collect, &s), 2);
    memset(&s, 0, sizeof s);
    assert_int_equal(lv_ac_hooks_find(&v, LV_HOOK_ON_COMPLETE, "app0001", "env0002", "prf0001", collect, &s), 1);
    assert_string_equal(s.ids[0], "as0006c");
    memset(&s, 0, sizeof s);
    assert_int_equal(lv_ac_hooks_find(&v, LV_HOOK_TICK, "app0001", "env0001", "prf0001", collect, &s), 0);
    assert_int_equal(lv_ac_hooks_find(&v, LV_HOOK_PRE_START, NULL, NULL, NULL, collect, &s), 0);
    assert_true(lv_ac_hook_point_sync(LV_HOOK_TICK));
    assert_true(lv_ac_hook_point_sync(LV_HOOK_PRE_CREATE));
    assert_false(lv_ac_hook_point_sync(LV_HOOK_ON_STEP));
    assert_false(lv_ac_hook_is_webhook("ftp://x"));
    assert_false(lv_ac_hook_is_webhook("http:/x"));
    lv_actable_free(&t);
}

static void test_signature_vector(void **state)
{
    (void)state;
    static const char key[] = "test-key-0123456789", body[] = "{\"a\":1}";
    char sig[LV_HOOKSIG_MAX];
    lv_hooksig_sign(key, strlen(key), 1700000000, body, strlen(body), sig);
    assert_string_equal(sig, "t=1700000000,v1=2f820a37a8c5cd99701230667e4098faf5f4f230d0eb2f73b6b8b58f95f931f7");
    assert_true(lv_hooksig_verify(key, strlen(key), sig, body, strlen(body), 1700000100, 300));
    assert_false(lv_hooksig_verify(key, strlen(key), sig, body, strlen(body), 1700000301, 300)); /* replayed late */
    assert_false(lv_hooksig_verify(key, strlen(key), sig, "{\"a\":2}", 7, 1700000000, 300));
    assert_false(lv_hooksig_verify("other-key-0123456789", 20, sig, body, strlen(body), 1700000000, 300));
    assert_false(lv_hooksig_verify(key, strlen(key), "t=1700000000", body, strlen(body), 1700000000, 300));
    assert_false(lv_hooksig_verify(key, strlen(key), "", body, strlen(body), 1700000000, 300));
}

static void test_reason(void **state)
{
    (void)state;
    char r[32];
    lv_hookevent_reason("{\"Message\": \"not on a Friday\"}", 30, r, sizeof r);
    assert_string_equal(r, "not on a Friday");
    lv_hookevent_reason("denied\r\nmore", 12, r, sizeof r);
    assert_string_equal(r, "denied");
    lv_hookevent_reason("caf\xc3\xa9 \x01", 7, r, sizeof r);
    assert_string_equal(r, "caf?? ?");
    lv_hookevent_reason("0123456789012345678901234567890123456789", 40, r, sizeof r);
    assert_int_equal(strlen(r), 31);
    lv_hookevent_reason("", 0, r, sizeof r);
    assert_string_equal(r, "");
    lv_hookevent_reason("{\"Message\": 5}", 14, r, sizeof r);
    assert_string_equal(r, "{\"Message\": 5}");
}

static void test_event_body(void **state)
{
    (void)state;
    lv_acrec *x = ext("ext0001", "web", LV_HOOK_ON_STEP, "http://h/");
    lv_acrec *y = assoc("as0001a", "ext0001", "aapp0001");
    lv_acrec *d = lv_acrec_new(LV_AC_DEPLOY, DF__N);
    assert_non_null(d);
    assert_int_equal(lv_acrec_set_num(d, DF_NUMBER, 7), LV_OK);
    assert_int_equal(lv_acrec_set_str(d, DF_STATE, "DEPLOYING"), LV_OK);
    assert_int_equal(lv_acrec_set_str(d, DF_PERCENT, "37.5"), LV_OK);
    assert_int_equal(lv_acrec_set_str(d, DF_VERSION, "3"), LV_OK);
    assert_int_equal(lv_acrec_set_str(d, DF_PREV_VERSION, "2"), LV_OK);
    assert_int_equal(lv_acrec_set_num(d, DF_STARTED, 1700000000123), LV_OK);
    lv_hookevent ev = {0};
    ev.invocation_id = "11111111-2222-4333-8444-555555555555";
    ev.point = LV_HOOK_ON_STEP;
    ev.ext = x;
    ev.assoc = y;
    ev.app = "app0001";
    ev.app_name = "shop";
    ev.env = "env0001";
    ev.profile = "prf0001";
    ev.deployment = d;
    ev.content = "hi!";
    ev.content_len = 3;
    ev.content_type = "text/plain";
    ev.now_ms = 1700000001000;
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_hookevent_build(&ev, &b), LV_OK);
    json_t *doc = json_loadb(b.data, b.len, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "Type")), "ON_DEPLOYMENT_STEP");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "Parameters"), "team")), "as0001a");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "Application"), "Name")), "shop");
    assert_null(json_object_get(json_object_get(doc, "Environment"), "Name"));
    assert_int_equal(json_integer_value(json_object_get(doc, "DeploymentNumber")), 7);
    assert_true(json_number_value(json_object_get(doc, "PercentageComplete")) == 37.5);
    assert_string_equal(json_string_value(json_object_get(doc, "PreviousConfigurationVersion")), "2");
    assert_string_equal(json_string_value(json_object_get(doc, "Content")), "aGkh");
    assert_string_equal(json_string_value(json_object_get(doc, "StartedAt")), "2023-11-14T22:13:20.123Z");
    assert_string_equal(json_string_value(json_object_get(doc, "OccurredAt")), "2023-11-14T22:13:21.000Z");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "Extension"), "ActionName")), "act");
    json_decref(doc);
    lv_buf_free(&b);
    lv_acrec_unref(x);
    lv_acrec_unref(y);
    lv_acrec_unref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_which_actions_apply),
        cmocka_unit_test(test_signature_vector),
        cmocka_unit_test(test_reason),
        cmocka_unit_test(test_event_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
