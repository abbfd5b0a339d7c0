/* test_store.c - the store interface, run against SQLite and (with
 * LEVER_TEST_PG_URI, under tests/integration/pg_harness.py) PostgreSQL:
 * atomic batches, key order, persistence across reopen, backups, binary
 * keys, revisions, the change feed, conditional commits racing, waking
 * followers, compaction, reserving the commit order, schema versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store_fixture.h"

static void test_commit_and_order(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 0);

    lv_store_op b1[] = {put("b", "2"), put("a", "1"), put("c", "3")};
    assert_int_equal(lv_store_commit(s, b1, 3, &err), LV_OK);
    lv_store_op b2[] = {put("ab", "12"), del("c"), put("a", "one")};
    assert_int_equal(lv_store_commit(s, b2, 3, &err), LV_OK);
    /* An empty batch is fine, deleting a missing key too. */
    assert_int_equal(lv_store_commit(s, NULL, 0, &err), LV_OK);
    lv_store_op b3[] = {del("nope")};
    assert_int_equal(lv_store_commit(s, b3, 1, &err), LV_OK);

    load(s, &d);
    assert_int_equal(d.n, 3);
    expect(&d, 0, "a", "one");
    expect(&d, 1, "ab", "12");
    expect(&d, 2, "b", "2");
    lv_store_close(s);
}

static void test_last_op_wins(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    lv_store_op b[] = {put("k", "1"), put("k", "2"), del("k"), put("j", "x"),
                       del("j"), put("j", "y")};
    assert_int_equal(lv_store_commit(s, b, 6, &err), LV_OK);
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 1);
    expect(&d, 0, "j", "y");
    lv_store_close(s);
}

static void test_reopen(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    lv_store_op b[] = {put("/app/x", "v1"), put("/app/y", "")};
    assert_int_equal(lv_store_commit(s, b, 2, &err), LV_OK);
    lv_store_close(s);

    s = open_store(f);
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 2);
    expect(&d, 0, "/app/x", "v1");
    expect(&d, 1, "/app/y", "");
    lv_store_close(s);
}

static void test_failed_batch(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    lv_store_op b1[] = {put("keep", "1")};
    assert_int_equal(lv_store_commit(s, b1, 1, &err), LV_OK);

    /* The last op is too large for sqlite: the whole batch must fail and
     * leave no trace, including the ops before it. */
    lv_store_op b2[] = {put("new", "x"), del("keep"),
                        {"huge", (size_t)INT_MAX + 1, "v", 1}};
    lv_error_clear(&err);
    assert_int_not_equal(lv_store_commit(s, b2, 3, &err), LV_OK);
    assert_int_not_equal(err.code, LV_OK);
    assert_true(strlen(err.msg) > 0);
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 1);
    expect(&d, 0, "keep", "1");

    /* And the store still works afterwards. */
    lv_store_op b3[] = {put("after", "2")};
    assert_int_equal(lv_store_commit(s, b3, 1, &err), LV_OK);
    load(s, &d);
    assert_int_equal(d.n, 2);
    lv_store_close(s);
}

static void test_rollback_mid_batch(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    lv_store_op b1[] = {put("keep", "1")};
    assert_int_equal(lv_store_commit(s, b1, 1, &err), LV_OK);

    /* A trigger on another connection makes one insert fail inside the
     * transaction, after earlier ops of the batch have been executed. */
    if (f->pg)
        raw_sql(f, "CREATE FUNCTION lever_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.k = 'boom'::bytea THEN RAISE EXCEPTION 'forced failure'; END IF; RETURN NEW; END $$;"
                   "CREATE TRIGGER boom BEFORE INSERT ON lever_kv FOR EACH ROW EXECUTE FUNCTION lever_boom()");
    else
        raw_sql(f, "CREATE TRIGGER boom BEFORE INSERT ON kv WHEN NEW.k = CAST('boom' AS BLOB) "
                   "BEGIN SELECT RAISE(ABORT, 'forced failure'); END");

    lv_store_op b2[] = {put("new", "x"), del("keep"), put("boom", "y"),
                        put("later", "z")};
    lv_error_clear(&err);
    assert_int_equal(lv_store_commit(s, b2, 4, &err), LV_E_IO);
    assert_non_null(strstr(err.msg, "forced failure"));
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 1);
    expect(&d, 0, "keep", "1");

    raw_sql(f, f->pg ? "DROP TRIGGER boom ON lever_kv" : "DROP TRIGGER boom");
    assert_int_equal(lv_store_commit(s, b2, 4, &err), LV_OK);
    load(s, &d);
    assert_int_equal(d.n, 3);
    expect(&d, 0, "boom", "y");
    expect(&d, 1, "later", "z");
    expect(&d, 2, "new", "x");
    lv_store_close(s);
}

static lv_err stop_at_two(void *ctx, const void *key, size_t klen,
                          const void *val, size_t vlen)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    int *n = ctx;
    return ++*n == 2 ? LV_E_CORRUPT : LV_OK;
}

static void test_load_stops(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    lv_store_op b[] = {put("1", "a"), put("2", "b"), put("3", "c")};
    assert_int_equal(lv_store_commit(s, b, 3, &err), LV_OK);
    int n = 0;
    assert_int_equal(lv_store_load(s, stop_at_two, &n, &err), LV_E_CORRUPT);
    assert_int_equal(n, 2);
    lv_store_close(s);
}

static void test_binary_keys(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    /* memcmp order, with NULs and bytes >= 0x80; the empty key too. */
    static const char k1[] = {'a', '\0', 'b'};
    static const char k2[] = {'a'};
    static const char k3[] = {'a', '\0'};
    static const char k4[] = {(char)0xff, '\0'};
    static const char v[] = {'\0', 'x', '\0'};
    lv_store_op b[] = {
        {k4, sizeof k4, v, sizeof v}, {k1, sizeof k1, v, 1},
        {k2, sizeof k2, v, 2},        {k3, sizeof k3, v, 0},
        {"", 0, "empty", 5},
    };
    assert_int_equal(lv_store_commit(s, b, 5, &err), LV_OK);
    lv_store_close(s);
    s = open_store(f);
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 5);
    assert_int_equal(d.p[0].kl, 0);
    assert_int_equal(d.p[0].vl, 5);
    assert_int_equal(d.p[1].kl, 1);
    assert_int_equal(d.p[1].vl, 2);
    assert_memory_equal(d.p[1].v, v, 2);
    assert_int_equal(d.p[2].kl, 2);
    assert_int_equal(d.p[2].vl, 0);
    assert_int_equal(d.p[3].kl, 3);
    assert_memory_equal(d.p[3].k, k1, 3);
    assert_int_equal(d.p[4].kl, 2);
    assert_memory_equal(d.p[4].k, k4, 2);
    assert_int_equal(d.p[4].vl, 3);
    assert_memory_equal(d.p[4].v, v, 3);
    /* Delete by binary key. */
    lv_store_op dl[] = {{k1, sizeof k1, NULL, 0}};
    assert_int_equal(lv_store_commit(s, dl, 1, &err), LV_OK);
    load(s, &d);
    assert_int_equal(d.n, 4);
    lv_store_close(s);
}

static void test_backup(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    lv_store_op b[] = {put("x", "1"), put("y", "2"), put("z", "3")};
    assert_int_equal(lv_store_commit(s, b, 3, &err), LV_OK);

    char bpath[160], buri[170];
    snprintf(bpath, sizeof bpath, "%s/backup.db", f->dir);
    snprintf(buri, sizeof buri, "sqlite:%s", bpath);
    assert_int_equal(lv_store_backup(s, bpath, &err), LV_OK);

    /* Later changes to the source do not reach the copy. */
    lv_store_op b2[] = {del("x")};
    assert_int_equal(lv_store_commit(s, b2, 1, &err), LV_OK);

    lv_store *c = NULL;
    assert_int_equal(lv_store_open(buri, &c, &err), LV_OK);
    dump d;
    load(c, &d);
    assert_int_equal(d.n, 3);
    expect(&d, 0, "x", "1");
    expect(&d, 1, "y", "2");
    expect(&d, 2, "z", "3");
    /* The copy is a full store: it takes writes. */
    lv_store_op b3[] = {put("w", "0")};
    assert_int_equal(lv_store_commit(c, b3, 1, &err), LV_OK);
    lv_store_close(c);

    /* Backing up to an unwritable place is an error, not a crash. */
    char bad[200];
    snprintf(bad, sizeof bad, "%s/no/such/dir/b.db", f->dir);
    assert_int_not_equal(lv_store_backup(s, bad, &err), LV_OK);
    lv_store_close(s);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    lv_store *s = NULL;
    lv_error err;
    assert_int_not_equal(lv_store_open("nocolon", &s, &err), LV_OK);
    assert_int_not_equal(lv_store_open("mysql:/x", &s, &err), LV_OK);
    assert_non_null(strstr(err.msg, "mysql"));
    char uri[200];
    if (f->pg) {
        /* Nothing listens on port 1: a clear, retryable error that does
         * not echo the URI (it could carry a password). */
        lv_error_clear(&err);
        assert_int_equal(lv_store_open("postgresql://lever:s3cret@127.0.0.1:1/x", &s, &err), LV_E_UNAVAILABLE);
        assert_non_null(strstr(err.msg, "cannot connect"));
        assert_null(strstr(err.msg, "s3cret"));
        assert_int_equal(lv_store_open("postgres://lever@127.0.0.1:1/x", &s, &err), LV_E_UNAVAILABLE);
        assert_null(s);
        return;
    }
    /* The caller creates the data directory; a missing one is an error. */
    snprintf(uri, sizeof uri, "sqlite:%s/missing/lever.db", f->dir);
    lv_error_clear(&err);
    assert_int_not_equal(lv_store_open(uri, &s, &err), LV_OK);
    assert_true(strlen(err.msg) > 0);
    /* Not a database. */
    char junk[160];
    snprintf(junk, sizeof junk, "%s/junk.db", f->dir);
    FILE *fp = fopen(junk, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 100; i++)
        fputs("this is not an sqlite database at all\n", fp);
    fclose(fp);
    snprintf(uri, sizeof uri, "sqlite:%s", junk);
    assert_int_not_equal(lv_store_open(uri, &s, &err), LV_OK);
}

/* ---------- revisions and the change feed ---------- */

static void test_revisions(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    uint64_t head = 99;
    dump d;
    assert_int_equal(lv_store_load_at(s, collect, &d, &head, &err), LV_OK);
    assert_int_equal(head, 0);
    lv_store_op b1[] = {put("a", "1")};
    assert_int_equal(commit_rev(s, b1, 1), 1);
    /* A commit of several changes consumes as many revisions. */
    lv_store_batch b = {b1, 1, NULL, 0, 5};
    uint64_t rev = 0;
    assert_int_equal(lv_store_commit_batch(s, &b, &rev, &err), LV_OK);
    assert_int_equal(rev, 6);
    /* An empty commit still gets a revision of its own. */
    assert_int_equal(commit_rev(s, NULL, 0), 7);
    /* A failed commit consumes none. */
    lv_store_op bad[] = {{"huge", (size_t)INT_MAX + 1, "v", 1}};
    assert_int_not_equal(lv_store_commit(s, bad, 1, &err), LV_OK);
    lv_store_close(s);
    s = open_store(f);
    memset(&d, 0, sizeof d);
    assert_int_equal(lv_store_load_at(s, collect, &d, &head, &err), LV_OK);
    assert_int_equal(head, 7);
    assert_int_equal(commit_rev(s, b1, 1), 8);
    lv_store_close(s);
}

static void test_feed_other_connection(void **state)
{
    fixture *f = *state;
    lv_store *a = open_store(f), *b = open_store(f);
    dump d;
    uint64_t upto = 99;
    feed(b, 0, &d, &upto);
    assert_int_equal(d.n, 0);
    assert_int_equal(upto, 0);

    lv_store_op b1[] = {put("x", "1"), put("y", "2"), put("z", "3")};
    uint64_t r1 = commit_rev(a, b1, 3);
    lv_store_op b2[] = {put("y", "22"), del("z"), del("never-there")};
    uint64_t r2 = commit_rev(a, b2, 3);
    assert_true(r2 > r1);

    /* Every record once, newest state, in (revision, key) order; only a
     * record that existed leaves a tombstone. */
    feed(b, 0, &d, &upto);
    assert_int_equal(upto, r2);
    assert_int_equal(d.n, 3);
    expect(&d, 0, "x", "1");
    assert_int_equal(d.p[0].rev, r1);
    expect(&d, 1, "y", "22");
    assert_int_equal(d.p[1].rev, r2);
    expect(&d, 2, "z", NULL);
    assert_int_equal(d.p[2].rev, r2);

    feed(b, r1, &d, &upto);
    assert_int_equal(d.n, 2);
    expect(&d, 0, "y", "22");
    feed(b, r2, &d, &upto);
    assert_int_equal(d.n, 0);
    assert_int_equal(upto, r2);

    /* A put after a delete revives the record; the tombstone goes. */
    lv_store_op b3[] = {put("z", "")};
    uint64_t r3 = commit_rev(b, b3, 1);
    feed(a, r2, &d, &upto);
    assert_int_equal(d.n, 1);
    expect(&d, 0, "z", "");
    assert_int_equal(d.p[0].rev, r3);
    feed(a, 0, &d, &upto);
    assert_int_equal(d.n, 3);
    expect(&d, 2, "z", "");
    lv_store_close(a);
    lv_store_close(b);
}

static void test_conflict(void **state)
{
    fixture *f = *state;
    lv_store *a = open_store(f), *b = open_store(f);
    lv_error err;
    lv_store_op b1[] = {put("x", "1"), put("gone", "1")};
    uint64_t base = commit_rev(a, b1, 2);

    /* b changes x after a read it at base. */
    lv_store_op bx[] = {put("x", "b")};
    commit_rev(b, bx, 1);

    lv_store_op w[] = {put("x", "a"), put("other", "a")};
    lv_store_cond c[] = {{"unrelated", 9, base}, {"x", 1, base}};
    lv_store_batch batch = {w, 2, c, 2, 1};
    uint64_t rev = 0;
    lv_error_clear(&err);
    assert_int_equal(lv_store_commit_batch(a, &batch, &rev, &err), LV_E_CONFLICT);
    assert_non_null(strstr(err.msg, "x"));
    /* Nothing of it applied, no revision consumed. */
    dump d;
    load(a, &d);
    assert_int_equal(d.n, 2);
    expect(&d, 1, "x", "b");
    assert_int_equal(commit_rev(a, NULL, 0), base + 2);

    /* Planned at the new head it goes through. */
    c[1].rev = base + 2;
    assert_int_equal(lv_store_commit_batch(a, &batch, &rev, &err), LV_OK);
    assert_int_equal(rev, base + 3);

    /* A deletion counts as a change (the tombstone), and so does a record
     * that was created after the planner saw it absent. */
    lv_store_op dg[] = {del("gone")};
    uint64_t rdel = commit_rev(b, dg, 1);
    lv_store_cond cg[] = {{"gone", 4, rdel - 1}};
    lv_store_batch bg = {w, 1, cg, 1, 1};
    assert_int_equal(lv_store_commit_batch(a, &bg, NULL, &err), LV_E_CONFLICT);
    cg[0].rev = rdel;
    assert_int_equal(lv_store_commit_batch(a, &bg, NULL, &err), LV_OK);
    lv_store_op mk[] = {put("new", "b")};
    uint64_t rnew = commit_rev(b, mk, 1);
    lv_store_cond cn[] = {{"new", 3, rnew - 1}};
    lv_store_batch bn = {mk, 1, cn, 1, 1};
    assert_int_equal(lv_store_commit_batch(a, &bn, NULL, &err), LV_E_CONFLICT);
    lv_store_close(a);
    lv_store_close(b);
}

typedef struct racer {
    const fixture *f;
    pthread_barrier_t *go;
    uint64_t base;
    int round;
    lv_err rc;
    char who;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    lv_store *s = open_store(r->f);
    char key[16], val[4] = {r->who, 0};
    snprintf(key, sizeof key, "race-%d", r->round);
    lv_store_op op = {key, strlen(key), val, 1};
    lv_store_cond c = {key, strlen(key), r->base};
    lv_store_batch b = {&op, 1, &c, 1, 1};
    lv_error err;
    pthread_barrier_wait(r->go);
    r->rc = lv_store_commit_batch(s, &b, NULL, &err);
    lv_store_close(s);
    return NULL;
}

/* Two connections create the same record from the same base at the same
 * moment: exactly one wins, the loser's batch leaves no trace. */
static void test_conflict_race(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    for (int round = 0; round < 10; round++) {
        uint64_t base = commit_rev(s, NULL, 0);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        racer r[2] = {{f, &go, base, round, LV_OK, 'a'}, {f, &go, base, round, LV_OK, 'b'}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&go);
        int wins = (r[0].rc == LV_OK) + (r[1].rc == LV_OK);
        int conflicts = (r[0].rc == LV_E_CONFLICT) + (r[1].rc == LV_E_CONFLICT);
        assert_int_equal(wins, 1);
        assert_int_equal(conflicts, 1);
        dump d;
        load(s, &d);
        assert_int_equal(d.n, (size_t)round + 1);
    }
    lv_store_close(s);
}

typedef struct waiter {
    lv_store *s;
    uint64_t since;
    int timeout_ms;
    bool woken;
    lv_err rc;
    int64_t took_ms;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    lv_error err;
    int64_t t0 = mono_ms();
    w->rc = lv_store_wait(w->s, w->since, w->timeout_ms, &w->woken, &err);
    w->took_ms = mono_ms() - t0;
    return NULL;
}

/* A follower waiting for news is woken by a commit through another
 * connection (PostgreSQL: LISTEN/NOTIFY), and times out when there is none. */
static void test_wait_wakes(void **state)
{
    fixture *f = *state;
    lv_store *a = open_store(f), *b = open_store(f);
    lv_error err;
    bool woken = false;
    /* The first wait may report news: notifications sent before it began
     * listening are unknown to it. */
    assert_int_equal(lv_store_wait(b, 0, 50, &woken, &err), LV_OK);
    uint64_t head = commit_rev(a, NULL, 0);
    waiter w = {b, head, 300, true, LV_OK, 0};
    wait_thread(&w);
    assert_int_equal(w.rc, LV_OK);
    assert_false(w.woken);
    assert_true(w.took_ms >= 250);

    w = (waiter){b, head, 20000, false, LV_OK, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    struct timespec pause = {0, 100 * 1000000L};
    nanosleep(&pause, NULL);
    lv_store_op b1[] = {put("news", "1")};
    commit_rev(a, b1, 1);
    pthread_join(t, NULL);
    assert_int_equal(w.rc, LV_OK);
    assert_true(w.woken);
    assert_true(w.took_ms < 5000);
    /* The news is in the feed. */
    dump d;
    uint64_t upto;
    feed(b, head, &d, &upto);
    assert_int_equal(d.n, 1);
    expect(&d, 0, "news", "1");
    /* Old news (at or below since) does not wake. */
    w = (waiter){b, upto, 200, true, LV_OK, 0};
    wait_thread(&w);
    assert_false(w.woken);
    lv_store_close(a);
    lv_store_close(b);
}

static void test_compact(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_error err;
    lv_store_op b1[] = {put("a", "1"), put("b", "2")};
    uint64_t r1 = commit_rev(s, b1, 2);
    lv_store_op b2[] = {del("a")};
    uint64_t r2 = commit_rev(s, b2, 1);
    lv_store_op b3[] = {put("c", "3")};
    uint64_t r3 = commit_rev(s, b3, 1);
    assert_int_equal(lv_store_compact(s, r2, &err), LV_OK);
    /* Below the horizon the deletion of a is gone: load again. */
    dump d;
    uint64_t upto;
    assert_int_equal(lv_store_feed(s, r1, collect_feed, &d, &upto, &err), LV_E_COMPACTED);
    feed(s, r2, &d, &upto);
    assert_int_equal(d.n, 1);
    expect(&d, 0, "c", "3");
    assert_int_equal(upto, r3);
    /* A condition below the horizon cannot be checked: conflict. */
    lv_store_cond c[] = {{"a", 1, r1}};
    lv_store_batch b = {b3, 1, c, 1, 1};
    assert_int_equal(lv_store_commit_batch(s, &b, NULL, &err), LV_E_CONFLICT);
    c[0].rev = r3;
    assert_int_equal(lv_store_commit_batch(s, &b, NULL, &err), LV_OK);
    /* The horizon never passes the head nor goes down. */
    assert_int_equal(lv_store_compact(s, 1000000, &err), LV_OK);
    assert_int_equal(lv_store_compact(s, 1, &err), LV_OK);
    uint64_t head = commit_rev(s, NULL, 0);
    assert_int_equal(lv_store_feed(s, head - 2, collect_feed, &d, &upto, &err), LV_E_COMPACTED);
    feed(s, head - 1, &d, &upto);
    assert_int_equal(d.n, 0);
    lv_store_close(s);
}

typedef struct sharer {
    lv_store *s;
    int failures;
} sharer;

static lv_err count_pairs(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    ++*(int *)ctx;
    return LV_OK;
}

static void *compact_loop(void *arg)
{
    sharer *sh = arg;
    lv_error err;
    for (int i = 0; i < 100; i++)
        if (lv_store_compact(sh->s, (uint64_t)i, &err) != LV_OK)
            sh->failures++;
    return NULL;
}

/* One handle used by two threads at once: a commit's transaction and a
 * compaction never interleave. */
static void test_one_handle_two_threads(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    sharer sh = {s, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, compact_loop, &sh), 0);
    lv_error err;
    int failures = 0;
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof k, "t%03d", i);
        lv_store_op ops[] = {put(k, "v"), del(k), put(k, "w")};
        if (lv_store_commit(s, ops, 3, &err) != LV_OK)
            failures++;
    }
    pthread_join(t, NULL);
    assert_int_equal(failures, 0);
    assert_int_equal(sh.failures, 0);
    uint64_t head = 0;
    int n = 0;
    assert_int_equal(lv_store_load_at(s, count_pairs, &n, &head, &err), LV_OK);
    assert_int_equal(n, 100);
    assert_int_equal(head, 100);
    lv_store_close(s);
}

/* A commit on another handle while a reservation is held. */
typedef struct blocked_commit {
    lv_store *s;
    uint64_t rev;
    int done;
} blocked_commit;

static void *commit_thread(void *arg)
{
    blocked_commit *bc = arg;
    lv_store_op ops[] = {put("other", "node")};
    bc->rev = commit_rev(bc->s, ops, 1);
    __atomic_store_n(&bc->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The commit order taken for the next commit: no other commit meanwhile,
 * the feed inside it sees everything, the commit cannot be refused for a
 * commit in between; release gives it up. SQLite has nothing to take. */
static void test_reserve(void **state)
{
    fixture *f = *state;
    lv_store *a = open_store(f), *b = open_store(f);
    lv_error err;
    lv_store_op b1[] = {put("x", "1"), put("y", "2")};
    uint64_t r1 = commit_rev(b, b1, 2);
    uint64_t head = 0;
    if (!f->pg) {
        assert_int_not_equal(lv_store_reserve(a, 0, &head, &err), LV_OK);
        lv_store_release(a);
        lv_store_op b2[] = {put("z", "3")};
        assert_int_equal(commit_rev(a, b2, 1), r1 + 1);
        lv_store_close(a);
        lv_store_close(b);
        return;
    }
    assert_int_equal(lv_store_reserve(a, 0, &head, &err), LV_OK);
    assert_int_equal(head, r1);
    blocked_commit bc = {b, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, commit_thread, &bc), 0);
    usleep(200 * 1000);
    assert_int_equal(__atomic_load_n(&bc.done, __ATOMIC_ACQUIRE), 0);
    dump d;
    uint64_t upto = 0;
    feed(a, 0, &d, &upto);
    assert_int_equal(upto, r1);
    assert_int_equal(d.n, 2);
    expect(&d, 0, "x", "1");
    /* Planned against r1: not refused, the other commit comes after. */
    lv_store_op b2[] = {put("x", "11")};
    lv_store_cond c[] = {{"x", 1, r1}};
    lv_store_batch sb = {b2, 1, c, 1, 1};
    uint64_t r2 = 0;
    assert_int_equal(lv_store_commit_batch(a, &sb, &r2, &err), LV_OK);
    assert_int_equal(r2, r1 + 1);
    pthread_join(t, NULL);
    assert_int_equal(bc.rev, r2 + 1);
    /* The feed from the position named in the reservation (fetched with
     * it), and from another one (read on its own). */
    assert_int_equal(lv_store_reserve(a, r1, &head, &err), LV_OK);
    assert_int_equal(head, r2 + 1);
    dump d2;
    feed(a, r1, &d2, &upto);
    assert_int_equal(upto, r2 + 1);
    assert_int_equal(d2.n, 2);
    expect(&d2, 0, "x", "11");
    expect(&d2, 1, "other", "node");
    dump d3;
    feed(a, r2, &d3, &upto);
    assert_int_equal(upto, r2 + 1);
    assert_int_equal(d3.n, 1);
    expect(&d3, 0, "other", "node");
    /* Refused inside a reservation (planned against r1): nothing applied,
     * no revision consumed, the order given up. */
    lv_store_op bz[] = {put("x", "stale")};
    lv_store_cond cz[] = {{"x", 1, r1}};
    lv_store_batch sz = {bz, 1, cz, 1, 1};
    uint64_t rz = 0;
    assert_int_equal(lv_store_commit_batch(a, &sz, &rz, &err), LV_E_CONFLICT);
    /* Given up: others commit at once; the handle commits normally. */
    assert_int_equal(lv_store_reserve(a, 0, &head, &err), LV_OK);
    assert_int_equal(head, r2 + 1);
    lv_store_release(a);
    lv_store_op b3[] = {put("y", "22")};
    assert_int_equal(commit_rev(b, b3, 1), r2 + 2);
    assert_int_equal(commit_rev(a, b3, 1), r2 + 3);
    lv_store_close(a);
    lv_store_close(b);
}

/* A small retention: the backend compacts by itself, the feed from before
 * says "load again". */
static void test_tombstone_keep(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_store_set_tombstone_keep(s, 4);
    assert_int_equal(lv_store_compact_every(4), 2);
    assert_int_equal(lv_store_compact_every(1000000), 256);
    lv_store_op b1[] = {put("a", "1")}, b2[] = {del("a")};
    commit_rev(s, b1, 1);
    commit_rev(s, b2, 1);
    for (int i = 0; i < 8; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        lv_store_op op[] = {put(k, "v")};
        commit_rev(s, op, 1);
    }
    dump d;
    uint64_t upto;
    lv_error err;
    assert_int_equal(lv_store_feed(s, 0, collect_feed, &d, &upto, &err), LV_E_COMPACTED);
    lv_store_close(s);
}

/* A backup (SQLite format) imported into an empty store of either
 * backend, all at once; a store with data is refused. */
static void test_import(void **state)
{
    fixture *f = *state;
    char suri[200];
    snprintf(suri, sizeof suri, "sqlite:%s/source.db", f->dir);
    lv_store *src = NULL, *dst = open_store(f);
    lv_error err;
    assert_int_equal(lv_store_open(suri, &src, &err), LV_OK);
    lv_store_op b1[] = {put("a", "1"), put("b", ""), put("c", "3")};
    commit_rev(src, b1, 3);
    assert_int_equal(lv_store_import(dst, src, &err), LV_OK);
    dump d;
    load(dst, &d);
    assert_int_equal(d.n, 3);
    expect(&d, 0, "a", "1");
    expect(&d, 1, "b", "");
    expect(&d, 2, "c", "3");
    lv_error_clear(&err);
    assert_int_equal(lv_store_import(dst, src, &err), LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "not empty"));
    lv_store_close(src);
    lv_store_close(dst);
}

/* A database written by a newer lever is refused, clearly, untouched. */
static void test_newer_schema_refused(void **state)
{
    fixture *f = *state;
    lv_store *s = open_store(f);
    lv_store_op b1[] = {put("a", "1")};
    commit_rev(s, b1, 1);
    lv_store_close(s);
    raw_sql(f, f->pg ? "UPDATE lever_schema SET version = 999" : "PRAGMA user_version = 999");
    lv_error err;
    lv_error_clear(&err);
    s = NULL;
    assert_int_equal(lv_store_open(f->uri, &s, &err), LV_E_CORRUPT);
    assert_null(s);
    assert_non_null(strstr(err.msg, "newer"));
    assert_non_null(strstr(err.msg, "999"));
    raw_sql(f, f->pg ? "UPDATE lever_schema SET version = 1" : "PRAGMA user_version = 2");
    s = open_store(f);
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 1);
    lv_store_close(s);
}

/* SQLite only: a file of lever's first format is migrated in place. */
static void test_sqlite_migrates_v1(void **state)
{
    fixture *f = *state;
    raw_sql(f, "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
               "INSERT INTO kv VALUES(CAST('old' AS BLOB), CAST('v1' AS BLOB));"
               "PRAGMA user_version = 1");
    lv_store *s = open_store(f);
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 1);
    expect(&d, 0, "old", "v1");
    lv_store_op b1[] = {del("old"), put("new", "v2")};
    uint64_t r = commit_rev(s, b1, 2);
    assert_int_equal(r, 1);
    uint64_t upto;
    feed(s, 0, &d, &upto);
    assert_int_equal(d.n, 2);
    expect(&d, 0, "new", "v2");
    expect(&d, 1, "old", NULL);
    lv_store_close(s);
}

int main(void)
{
    use_pg = getenv("LEVER_TEST_PG_URI") != NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_op_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_mid_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_other_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_wakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_handle_two_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_keep, setup, teardown),
    };
    const struct CMUnitTest sqlite_only[] = {
        cmocka_unit_test_setup_teardown(test_sqlite_migrates_v1, setup, teardown),
    };
    printf("store backend under test: %s\n", use_pg ? "postgres (LEVER_TEST_PG_URI)" : "sqlite");
    int failed = cmocka_run_group_tests_name(use_pg ? "store/postgres" : "store/sqlite", tests, NULL, NULL);
    if (!use_pg)
        failed += cmocka_run_group_tests_name("store/sqlite-only", sqlite_only, NULL, NULL);
    return failed;
}
