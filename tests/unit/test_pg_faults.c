/* test_pg_faults.c - the postgres store when PostgreSQL goes away: commits
 * while it is down fail with a clear retryable error, the same handle
 * works again after a restart, waits report the gap, and SIGKILL of every
 * PostgreSQL process loses no acknowledged commit. Runs under
 * tests/integration/pg_harness.py (LEVER_TEST_PG_URI, LEVER_TEST_PG_CTL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store_fixture.h"

static void ctl(const char *what)
{
    const char *cmd = getenv("LEVER_TEST_PG_CTL");
    assert_non_null(cmd);
    char line[1200];
    snprintf(line, sizeof line, "%s %s >/dev/null", cmd, what);
    if (system(line) != 0)
        fail_msg("%s failed", line);
}

static void test_restart_reconnects(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    lv_store_op b1[] = {put("before", "1")};
    uint64_t r1 = commit_rev(s, b1, 1);
    bool woken;
    assert_int_equal(lv_store_wait(s, 0, 50, &woken, &err), LV_OK);

    ctl("stop");
    lv_store_op b2[] = {put("during", "2")};
    int64_t t0 = mono_ms();
    lv_error_clear(&err);
    assert_int_equal(lv_store_commit(s, b2, 1, &err), LV_E_UNAVAILABLE);
    assert_true(mono_ms() - t0 < 10000);
    assert_non_null(strstr(err.msg, "retry"));
    dump d;
    uint64_t upto;
    assert_int_equal(lv_store_feed(s, 0, collect_feed, &d, &upto, &err), LV_E_UNAVAILABLE);
    assert_int_equal(lv_store_load(s, collect, &d, &err), LV_E_UNAVAILABLE);
    t0 = mono_ms();
    assert_int_equal(lv_store_wait(s, r1, 300, &woken, &err), LV_E_UNAVAILABLE);
    assert_true(mono_ms() - t0 >= 250);

    ctl("start");
    /* The same handle, no reopen. */
    lv_store_op b3[] = {put("after", "3")};
    uint64_t r3 = commit_rev(s, b3, 1);
    assert_true(r3 > r1);
    /* The listener reconnected: notifications may have been missed. */
    assert_int_equal(lv_store_wait(s, r3, 2000, &woken, &err), LV_OK);
    assert_true(woken);
    load(s, &d);
    assert_int_equal(d.n, 2);
    expect(&d, 0, "after", "3");
    expect(&d, 1, "before", "1");

    /* A restart while the connections sit idle: they are stale, the next
     * commit notices and goes through on a new one. */
    ctl("restart");
    lv_store_op b4[] = {put("later", "4")};
    assert_true(commit_rev(s, b4, 1) > r3);
    feed(s, r3, &d, &upto);
    lv_store_close(s);
}

/* The child commits one key per batch and reports each acknowledged one
 * on the pipe, until a commit fails. */
static void committer(const char *uri, int fd)
{
    lv_store *s = NULL;
    lv_error err;
    if (lv_store_open(uri, &s, &err) != LV_OK)
        _exit(3);
    for (uint32_t i = 0;; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%06u", i);
        snprintf(v, sizeof v, "v%06u", i);
        lv_store_op op = put(k, v);
        if (lv_store_commit(s, &op, 1, &err) != LV_OK)
            break;
        if (write(fd, &i, sizeof i) != (ssize_t)sizeof i)
            break;
    }
    lv_store_close(s);
    _exit(0);
}

typedef struct count_ctx {
    uint32_t n;
    bool order_ok;
} count_ctx;

static lv_err count_keys(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    count_ctx *c = ctx;
    char want[16];
    snprintf(want, sizeof want, "k%06u", c->n);
    if (klen != strlen(want) || memcmp(key, want, klen) != 0 || vlen != klen || ((const char *)val)[0] != 'v')
        c->order_ok = false;
    c->n++;
    return LV_OK;
}

static void test_crash_keeps_acknowledged(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f); /* creates the schema */
    lv_store_close(s);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        committer(f->uri, p[1]);
    }
    close(p[1]);
    uint32_t i, acked = 0;
    bool any = false, crashed = false;
    while (read(p[0], &i, sizeof i) == (ssize_t)sizeof i) {
        acked = i;
        any = true;
        if (!crashed && i >= 200) {
            ctl("crash");
            crashed = true;
        }
    }
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(any && crashed);

    ctl("start");
    s = open_store(f);
    count_ctx c = {0, true};
    lv_error err;
    uint64_t head = 0;
    assert_int_equal(lv_store_load_at(s, count_keys, &c, &head, &err), LV_OK);
    /* Every acknowledged key, in order with no hole; at most the one whose
     * answer the crash cut off besides. */
    assert_true(c.order_ok);
    assert_true(c.n >= acked + 1);
    assert_true(c.n <= acked + 2);
    assert_int_equal(head, c.n);
    lv_store_close(s);
}

int main(void)
{
    if (getenv("LEVER_TEST_PG_URI") == NULL || getenv("LEVER_TEST_PG_CTL") == NULL) {
        fprintf(stderr, "run me under tests/integration/pg_harness.py run -- %s\n", "test_pg_faults");
        return 1;
    }
    use_pg = true;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_keeps_acknowledged, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
