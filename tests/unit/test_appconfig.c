/* test_appconfig.c - the AppConfig model in core: records and their store
 * encoding, the sorted table, tokens, the predefined strategies, and the
 * plans (create/update/delete down the tree, the hosted-version lock,
 * quotas, deployments, tags), applied to a table as the engine does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/acrec.h"
#include "core/actoken.h"
#include "core/appconfig.h"

#include "acview_fixture.h"

/* ---------- tests ---------- */

static void test_record_roundtrip(void **state)
{
    (void)state;
    lv_acrec *r = input(LV_AC_ENV, EF__N);
    assert_int_equal(lv_acrec_set_key(r, "eabc1234/def5678"), LV_OK);
    assert_int_equal(lv_acrec_set_str(r, EF_NAME, "prod"), LV_OK);
    assert_int_equal(lv_acrec_push(r, EF_MONITORS, "arn:a", 5), LV_OK);
    assert_int_equal(lv_acrec_push(r, EF_MONITORS, "", 0), LV_OK);
    assert_int_equal(lv_acrec_set(r, EF_DESC, "a\0b", 3), LV_OK);
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_acrec_encode(r, &b), LV_OK);
    lv_acrec *d = NULL;
    assert_int_equal(lv_acrec_decode(r->key, r->klen, b.data, b.len, &d, NULL), LV_OK);
    assert_string_equal(lv_acrec_str(d, EF_NAME), "prod");
    assert_int_equal(lv_acrec_count(d, EF_MONITORS), 2);
    assert_int_equal(lv_acrec_len(d, EF_DESC), 3);
    assert_memory_equal(lv_acrec_str(d, EF_DESC), "a\0b", 3);
    /* truncated or trailing bytes are corrupt */
    lv_error err = {0};
    lv_acrec *bad = NULL;
    assert_int_equal(lv_acrec_decode(r->key, r->klen, b.data, b.len - 1, &bad, &err), LV_E_CORRUPT);
    assert_null(bad);
    assert_int_equal(lv_buf_putc(&b, 'x'), LV_OK);
    assert_int_equal(lv_acrec_decode(r->key, r->klen, b.data, b.len, &bad, &err), LV_E_CORRUPT);
    lv_buf_free(&b);
    lv_acrec_unref(d);
    lv_acrec_unref(r);
}

static void test_tokens_and_ids(void **state)
{
    (void)state;
    unsigned char id[40], back[LV_ACTOKEN_MAX_BYTES];
    size_t n;
    for (int i = 0; i < 40; i++)
        id[i] = (unsigned char)(i * 37);
    char tok[LV_ACTOKEN_MAX_LEN + 1];
    for (size_t len = 0; len <= 40; len++) { /* every remainder of 3 */
        size_t tl = lv_actoken_format(id, len, tok);
        assert_int_equal(tl, strlen(tok));
        assert_true(lv_actoken_parse(tok, tl, back, &n));
        assert_int_equal(n, len);
        assert_memory_equal(id, back, len);
    }
    lv_actoken_format(id, 40, tok);
    tok[10] = '+';
    assert_false(lv_actoken_parse(tok, strlen(tok), back, &n));
    assert_false(lv_actoken_parse("lv1_", 4, back, &n));
    assert_false(lv_actoken_parse("lv2_B", 5, back, &n));  /* 6 bits are no byte */
    assert_false(lv_actoken_parse("lv2_AB", 6, back, &n)); /* nonzero leftover bits */
    assert_true(lv_actoken_parse("lv2_AA", 6, back, &n) && n == 1 && back[0] == 0);

    lv_acsession s = {.app = "abc1234", .env = "def5678", .profile = "ghi9012",
                      .entity = "0123456789abcdef0123456789abcdef", .served = "3:2:deadbeef",
                      .interval = 15, .not_before_ms = 1700000000123, .expires_ms = 1700086400123, .seq = 7,
                      .nonce = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_acsession_encode(&s, &b), LV_OK);
    lv_acsession d;
    assert_true(lv_acsession_decode(b.data, b.len, &d));
    assert_string_equal(d.app, s.app);
    assert_string_equal(d.entity, s.entity);
    assert_string_equal(d.served, s.served);
    assert_int_equal(d.interval, 15);
    assert_true(d.seq == 7);
    assert_true(d.not_before_ms == s.not_before_ms && d.expires_ms == s.expires_ms);
    assert_memory_equal(d.nonce, s.nonce, sizeof s.nonce);
    assert_false(lv_acsession_decode(b.data, b.len - 1, &d));
    b.data[0] = 2; /* an unknown version */
    assert_false(lv_acsession_decode(b.data, b.len, &d));
    lv_buf_free(&b);
    unsigned char rnd[7] = {0, 35, 36, 255, 1, 2, 3};
    char out[8];
    lv_ac_make_id(rnd, out);
    assert_true(lv_ac_valid_id(out));
    assert_false(lv_ac_valid_id("ABC1234"));
    assert_false(lv_ac_valid_id("abc123"));
}

static void test_predefined_strategies(void **state)
{
    (void)state;
    assert_int_equal(lv_ac_predefined_count(), 10);
    const lv_acrec *s = lv_ac_predefined_find("AppConfig.Canary10Percent20Minutes");
    assert_non_null(s);
    assert_string_equal(lv_acrec_str(s, SF_GTYPE), "EXPONENTIAL");
    assert_int_equal(lv_acrec_num(s, SF_DURATION), 20);
    s = lv_ac_predefined_find("Lever.Canary10Percent5Minutes");
    assert_string_equal(lv_acrec_str(s, SF_CANARY), "1");
    assert_null(lv_ac_predefined_find("AppConfig.Nope"));
}

static void test_tree_rules(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    char app[8], env[8], prof[8];
    lv_acrec *in = input(LV_AC_APP, AF__N);
    lv_acrec_set_str(in, AF_NAME, "shop");
    create(&w, LV_ACOP_CREATE_APP, in, NULL, app);
    lv_acrec_unref(in);
    in = input(LV_AC_ENV, EF__N);
    lv_acrec_set_str(in, EF_NAME, "prod");
    create(&w, LV_ACOP_CREATE_ENV, in, app, env);
    lv_acrec_unref(in);
    in = input(LV_AC_PROFILE, PF__N);
    lv_acrec_set_str(in, PF_NAME, "cfg");
    lv_acrec_set_str(in, PF_LOCATION, "hosted");
    create(&w, LV_ACOP_CREATE_PROFILE, in, app, prof);
    lv_acrec_unref(in);
    /* lookups by name or id */
    assert_non_null(lv_ac_find_app(&w.v, "shop"));
    assert_non_null(lv_ac_find_app(&w.v, app));
    assert_non_null(lv_ac_find_env(&w.v, app, "prod"));
    assert_non_null(lv_ac_find_profile(&w.v, app, "cfg"));
    /* an unsupported location is refused */
    lv_error err = {0};
    in = input(LV_AC_PROFILE, PF__N);
    lv_acrec_set_str(in, PF_NAME, "s3");
    lv_acrec_set_str(in, PF_LOCATION, "s3://b/k");
    lv_acreq q = {.op = LV_ACOP_CREATE_PROFILE, .in = in, .app = app, .lock = -1};
    assert_int_equal(run(&w, &q, NULL, &err), LV_E_AC_BAD_REQUEST);
    lv_acrec_unref(in);
    /* hosted versions: numbering and the lock */
    lv_acrec *h = input(LV_AC_HOSTED, HF__N);
    lv_acrec_set_str(h, HF_CONTENT, "{}");
    lv_acrec_set_str(h, HF_CTYPE, "application/json");
    lv_acreq hq = {.op = LV_ACOP_CREATE_HOSTED, .in = h, .app = app, .profile = prof, .lock = -1};
    lv_acrec *res = NULL;
    assert_int_equal(run(&w, &hq, &res, &err), LV_OK);
    assert_int_equal(lv_acrec_num(res, HF_VERSION), 1);
    lv_acrec_unref(res);
    hq.lock = 0;
    assert_int_equal(run(&w, &hq, NULL, &err), LV_E_AC_CONFLICT);
    hq.lock = 1;
    assert_int_equal(run(&w, &hq, &res, &err), LV_OK);
    assert_int_equal(lv_acrec_num(res, HF_VERSION), 2);
    lv_acrec_unref(res);
    lv_acrec_unref(h);
    /* deletes are refused while children exist */
    lv_acreq dq = {.op = LV_ACOP_DELETE_PROFILE, .app = app, .profile = prof, .lock = -1};
    assert_int_equal(run(&w, &dq, NULL, &err), LV_E_AC_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "hosted configuration versions existing under it"));
    lv_acreq da = {.op = LV_ACOP_DELETE_APP, .app = app, .lock = -1};
    assert_int_equal(run(&w, &da, NULL, &err), LV_E_AC_BAD_REQUEST);
    /* deployments: numbers grow, the newest complete one is served */
    lv_acrec *d = input(LV_AC_DEPLOY, DF__N);
    lv_acrec_set_str(d, DF_PROFILE, prof);
    lv_acrec_set_str(d, DF_VERSION, "1");
    lv_acrec_set_str(d, DF_STRATEGY, "Lever.AllAtOnce");
    lv_acreq sq = {.op = LV_ACOP_START_DEPLOYMENT, .in = d, .app = app, .env = env, .lock = -1, .now_ms = 1000};
    assert_int_equal(run(&w, &sq, &res, &err), LV_OK);
    assert_int_equal(lv_acrec_num(res, DF_NUMBER), 1);
    assert_string_equal(lv_acrec_str(res, DF_STATE), "COMPLETE");
    assert_int_equal(lv_acrec_count(res, DF_EVENTS), 12);
    lv_acrec_unref(res);
    assert_int_equal(w.changes, 3); /* started, the step to 100%, complete */
    lv_acrec_set_str(d, DF_VERSION, "2");
    assert_int_equal(run(&w, &sq, &res, &err), LV_OK);
    assert_int_equal(lv_acrec_num(res, DF_NUMBER), 2);
    assert_string_equal(lv_acrec_str(res, DF_PREV_VERSION), "1");
    lv_acrec_unref(res);
    const lv_acrec *serving = lv_ac_serving(&w.v, app, env, prof);
    assert_string_equal(lv_acrec_str(serving, DF_VERSION), "2");
    /* unknown version or strategy */
    lv_acrec_set_str(d, DF_VERSION, "7");
    assert_int_equal(run(&w, &sq, NULL, &err), LV_E_AC_NOT_FOUND);
    lv_acrec_set_str(d, DF_VERSION, "1");
    lv_acrec_set_str(d, DF_STRATEGY, "nosuch1");
    assert_int_equal(run(&w, &sq, NULL, &err), LV_E_AC_NOT_FOUND);
    lv_acrec_unref(d);
    /* the served version cannot be deleted; an older one can */
    lv_acreq hd = {.op = LV_ACOP_DELETE_HOSTED, .app = app, .profile = prof, .number = 2, .lock = -1};
    assert_int_equal(run(&w, &hd, NULL, &err), LV_E_AC_BAD_REQUEST);
    hd.number = 1;
    assert_int_equal(run(&w, &hd, NULL, &err), LV_OK);
    /* a complete deployment cannot be stopped, but can be reverted */
    lv_acreq st = {.op = LV_ACOP_STOP_DEPLOYMENT, .app = app, .env = env, .number = 2, .lock = -1};
    assert_int_equal(run(&w, &st, NULL, &err), LV_E_AC_BAD_REQUEST);
    st.allow_revert = true;
    assert_int_equal(run(&w, &st, &res, &err), LV_OK);
    assert_string_equal(lv_acrec_str(res, DF_STATE), "REVERTED");
    lv_acrec_unref(res);
    lv_actable_free(&w.t);
}

static void test_tags_and_quota(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    char app[8];
    lv_acrec *in = input(LV_AC_APP, AF__N);
    lv_acrec_set_str(in, AF_NAME, "a");
    for (int i = 0; i < LV_AC_MAX_APPS; i++)
        create(&w, LV_ACOP_CREATE_APP, in, NULL, app);
    lv_error err = {0};
    lv_acreq q = {.op = LV_ACOP_CREATE_APP, .in = in, .lock = -1};
    assert_int_equal(run(&w, &q, NULL, &err), LV_E_AC_QUOTA);
    lv_acrec_unref(in);
    char key[16];
    snprintf(key, sizeof key, "a%s", app);
    lv_acrec *tags = input(LV_AC_TAGS, TF__N);
    lv_acrec_push(tags, TF_TAGS, "k1", 2);
    lv_acrec_push(tags, TF_TAGS, "v1", 2);
    lv_acrec_push(tags, TF_TAGS, "k2", 2);
    lv_acrec_push(tags, TF_TAGS, "v2", 2);
    lv_acreq tq = {.op = LV_ACOP_TAG, .tags = tags, .target = key, .lock = -1};
    assert_int_equal(run(&w, &tq, NULL, &err), LV_OK);
    lv_acrec *keys = input(LV_AC_TAGS, TF__N);
    lv_acrec_push(keys, TF_TAGS, "k1", 2);
    lv_acreq uq = {.op = LV_ACOP_UNTAG, .tags = keys, .target = key, .lock = -1};
    assert_int_equal(run(&w, &uq, NULL, &err), LV_OK);
    const lv_acrec *t = lv_ac_get(&w.v, "t%s", key);
    assert_int_equal(lv_acrec_count(t, TF_TAGS), 2);
    assert_string_equal(lv_acrec_item(t, TF_TAGS, 0)->p, "k2");
    tq.target = "azzzzzzz";
    assert_int_equal(run(&w, &tq, NULL, &err), LV_E_AC_NOT_FOUND);
    /* deleting the application takes its tags */
    lv_acreq da = {.op = LV_ACOP_DELETE_APP, .app = app, .lock = -1};
    assert_int_equal(run(&w, &da, NULL, &err), LV_OK);
    assert_null(lv_ac_get(&w.v, "t%s", key));
    lv_acrec_unref(tags);
    lv_acrec_unref(keys);
    lv_actable_free(&w.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_roundtrip), cmocka_unit_test(test_tokens_and_ids),
        cmocka_unit_test(test_predefined_strategies), cmocka_unit_test(test_tree_rules),
        cmocka_unit_test(test_tags_and_quota),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lv_ac_predefined_free();
    return rc;
}
