/* test_store.c - the store interface over the sqlite backend: atomic
 * batches, key order, persistence across reopen, backups, binary keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store/store.h"

typedef struct pair {
    char k[64], v[64];
    size_t kl, vl;
} pair;

typedef struct dump {
    pair p[64];
    size_t n;
} dump;

static lv_err collect(void *ctx, const void *key, size_t klen, const void *val,
                      size_t vlen)
{
    dump *d = ctx;
    assert_true(d->n < 64 && klen <= 64 && vlen <= 64);
    memcpy(d->p[d->n].k, key, klen);
    memcpy(d->p[d->n].v, val, vlen);
    d->p[d->n].kl = klen;
    d->p[d->n].vl = vlen;
    d->n++;
    return LV_OK;
}

static void load(lv_store *s, dump *d)
{
    lv_error err;
    memset(d, 0, sizeof *d);
    assert_int_equal(lv_store_load(s, collect, d, &err), LV_OK);
}

static void expect(const dump *d, size_t i, const char *k, const char *v)
{
    assert_true(i < d->n);
    assert_int_equal(d->p[i].kl, strlen(k));
    assert_memory_equal(d->p[i].k, k, strlen(k));
    assert_int_equal(d->p[i].vl, strlen(v));
    assert_memory_equal(d->p[i].v, v, strlen(v));
}

static lv_store_op put(const char *k, const char *v)
{
    return (lv_store_op){k, strlen(k), v, strlen(v)};
}

static lv_store_op del(const char *k)
{
    return (lv_store_op){k, strlen(k), NULL, 0};
}

typedef struct fixture {
    char dir[64];
    char db[128];
    char uri[160];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lv_test_store.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->db, sizeof f->db, "%s/lever.db", f->dir);
    snprintf(f->uri, sizeof f->uri, "sqlite:%s", f->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static lv_store *open_store(const fixture *f)
{
    lv_store *s = NULL;
    lv_error err;
    lv_err rc = lv_store_open(f->uri, &s, &err);
    if (rc != LV_OK)
        fail_msg("open %s: %s", f->uri, err.msg);
    return s;
}

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
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TRIGGER boom BEFORE INSERT ON kv "
                     "WHEN NEW.k = CAST('boom' AS BLOB) "
                     "BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
                     NULL, NULL, NULL),
        SQLITE_OK);

    lv_store_op b2[] = {put("new", "x"), del("keep"), put("boom", "y"),
                        put("later", "z")};
    lv_error_clear(&err);
    assert_int_equal(lv_store_commit(s, b2, 4, &err), LV_E_IO);
    assert_non_null(strstr(err.msg, "forced failure"));
    dump d;
    load(s, &d);
    assert_int_equal(d.n, 1);
    expect(&d, 0, "keep", "1");

    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER boom", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_op_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_mid_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
