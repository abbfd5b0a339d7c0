/* test_pg_leader.c - deployment clock leadership (store/leader.h) on a
 * real PostgreSQL: one holder per deployment, independent deployments,
 * takeover when the holder's session ends (a node that dies), and through
 * a PostgreSQL restart. Runs under tests/integration/pg_harness.py
 * (LEVER_TEST_PG_URI, LEVER_TEST_PG_CTL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store/leader.h"

static const char *uri(void)
{
    const char *u = getenv("LEVER_TEST_PG_URI");
    assert_non_null(u);
    return u;
}

static void ctl(const char *what)
{
    const char *cmd = getenv("LEVER_TEST_PG_CTL");
    assert_non_null(cmd);
    char line[1200];
    snprintf(line, sizeof line, "%s %s >/dev/null", cmd, what);
    if (system(line) != 0)
        fail_msg("%s failed", line);
}

static lv_leader *open_leader(void)
{
    lv_leader *l;
    lv_error err;
    assert_int_equal(lv_leader_open(uri(), &l, &err), LV_OK);
    return l;
}

/* Polls until who(key) is true, within 20 s (a deadline, not a timing
 * assertion). */
static bool becomes_leader(lv_leader *l, const char *key)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (lv_leader_is(l, key))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 20)
            return false;
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
}

static void test_one_leader_per_deployment(void **state)
{
    (void)state;
    lv_leader *a = open_leader(), *b = open_leader();
    assert_true(lv_leader_is(a, "dapp/env/0000000001"));
    assert_false(lv_leader_is(b, "dapp/env/0000000001"));
    assert_true(lv_leader_is(a, "dapp/env/0000000001")); /* asking again keeps it */
    assert_false(lv_leader_is(b, "dapp/env/0000000001"));
    /* Another deployment is independent: b may lead it. */
    assert_true(lv_leader_is(b, "dapp/env/0000000002"));
    assert_false(lv_leader_is(a, "dapp/env/0000000002"));
    assert_int_equal(lv_leader_held(a), 1);
    assert_int_equal(lv_leader_held(b), 1);
    /* a dies: its session ends and b takes over. */
    lv_leader_close(a);
    assert_true(becomes_leader(b, "dapp/env/0000000001"));
    assert_int_equal(lv_leader_held(b), 2);
    lv_leader_close(b);
}

static void test_restart_gives_up_and_retakes(void **state)
{
    (void)state;
    lv_leader *a = open_leader(), *b = open_leader();
    assert_true(lv_leader_is(a, "dx/y/0000000007"));
    ctl("restart");
    /* The sessions are gone: whoever asks first leads, and then only it. */
    assert_true(becomes_leader(b, "dx/y/0000000007"));
    assert_false(lv_leader_is(a, "dx/y/0000000007"));
    assert_true(lv_leader_is(b, "dx/y/0000000007"));
    ctl("stop");
    /* No database: nobody leads (a step could not be written anyway). */
    assert_false(lv_leader_is(b, "dx/y/0000000007"));
    assert_int_equal(lv_leader_held(b), 0);
    ctl("start");
    assert_true(becomes_leader(a, "dx/y/0000000007"));
    assert_false(lv_leader_is(b, "dx/y/0000000007"));
    lv_leader_close(a);
    lv_leader_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_leader_per_deployment),
        cmocka_unit_test(test_restart_gives_up_and_retakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
