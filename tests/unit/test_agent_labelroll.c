/* test_agent_labelroll.c - lever-agent's label rollouts in its on-demand
 * table: both sides stored with the rollout, each entity served the side
 * the published bucketing gives it (checked against lv_bucket), nothing to
 * fall back on serves the new side, a Label change (name-wide removal)
 * drops the three entries together, forget drops them, and entity ids are
 * checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/labelroll.h"
#include "core/bucket.h"

static lvc_rollout rollout(const char *pct, const char *from, const char *to)
{
    lvc_rollout ro;
    assert_int_equal(lvc_rollout_parse(pct, "ssm:us-east-1:/a/b:live:3", from, to, &ro, NULL, 0), 0);
    return ro;
}

static void test_sides_by_bucket(void **state)
{
    (void)state;
    lva_table t;
    lva_table_init(&t, 0);
    lvc_rollout ro = rollout("37.5", "1", "2");
    lva_lr_side to = {"{\"Version\":2}", 13, false, 2}, from = {"{\"Version\":1}", 13, false, 1};
    assert_int_equal(lva_table_put(&t, "/a/b:live\ne", "/a/b", "{\"Version\":1}", 13, false, 1, 10, 20), 0);
    assert_int_equal(lva_lr_store(&t, "/a/b:live\ne", "/a/b", &ro, &to, &from, 10, 20), 0);
    assert_null(lva_table_get(&t, "/a/b:live\ne", false)); /* the plain entry is gone */
    int got_to = 0;
    for (int i = 0; i < 400; i++) {
        char ent[32];
        snprintf(ent, sizeof ent, "entity-%d", i);
        bool rolling;
        lva_entry *r;
        lva_entry *e = lva_lr_lookup(&t, "/a/b:live\ne", ent, false, &rolling, &r);
        assert_true(rolling);
        assert_non_null(r);
        assert_non_null(e);
        bool want_to = lv_bucket_entity_in("ssm:us-east-1:/a/b:live:3", ent, 37.5);
        assert_int_equal(e->version, want_to ? 2 : 1);
        got_to += want_to;
    }
    assert_true(got_to > 100 && got_to < 200);
    /* a Label change of the parameter drops all three */
    assert_int_equal(lva_table_del_name(&t, "/a/b"), 3);
    bool rolling;
    lva_entry *r;
    assert_null(lva_lr_lookup(&t, "/a/b:live\ne", "x", false, &rolling, &r));
    assert_false(rolling);
    lva_table_free(&t);
}

static void test_nothing_to_fall_back_on_and_forget(void **state)
{
    (void)state;
    lva_table t;
    lva_table_init(&t, 0);
    lvc_rollout ro = rollout("10", "", "4");
    lva_lr_side to = {"{\"Version\":4}", 13, false, 4};
    assert_int_equal(lva_lr_store(&t, "k", "/n", &ro, &to, NULL, 1, 2), 0);
    for (int i = 0; i < 50; i++) {
        char ent[16];
        snprintf(ent, sizeof ent, "e%d", i);
        bool rolling;
        lva_entry *r;
        lva_entry *e = lva_lr_lookup(&t, "k", ent, false, &rolling, &r);
        assert_true(rolling);
        assert_non_null(e);
        assert_int_equal(e->version, 4);
    }
    lva_lr_forget(&t, "k");
    assert_int_equal(t.count, 0);
    lva_table_free(&t);
}

static void test_a_damaged_rollout_record_is_not_a_rollout(void **state)
{
    (void)state;
    lva_table t;
    lva_table_init(&t, 0);
    char *rk = lva_lr_key("k", 'R');
    assert_non_null(rk);
    assert_int_equal(lva_table_put(&t, rk, "/n", "not\na rollout", 13, false, 0, 1, 2), 0);
    assert_int_equal(lva_table_put(&t, "k", "/n", "{}", 2, false, 1, 1, 2), 0);
    bool rolling;
    lva_entry *r;
    assert_null(lva_lr_lookup(&t, "k", "e", false, &rolling, &r));
    assert_false(rolling); /* the caller serves the plain entry */
    free(rk);
    lva_table_free(&t);
}

static void test_entity_ids(void **state)
{
    (void)state;
    assert_true(lva_lr_entity_ok("user-42"));
    assert_false(lva_lr_entity_ok(""));
    assert_false(lva_lr_entity_ok("a b"));
    assert_false(lva_lr_entity_ok("tab\there"));
    char big[LVA_ENTITY_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(lva_lr_entity_ok(big));
    big[LVA_ENTITY_MAX] = '\0';
    assert_true(lva_lr_entity_ok(big));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sides_by_bucket),
        cmocka_unit_test(test_nothing_to_fall_back_on_and_forget),
        cmocka_unit_test(test_a_damaged_rollout_record_is_not_a_rollout),
        cmocka_unit_test(test_entity_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
