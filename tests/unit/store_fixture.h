/* store_fixture.h - what the store tests share: a fresh store of either
 * backend per test (a temp SQLite file, or the PostgreSQL database named
 * by LEVER_TEST_PG_URI with lever's tables dropped), raw SQL on it, and
 * collecting loads and feeds. Included by test_store.c and
 * test_pg_faults.c only. */
#ifndef LV_TEST_STORE_FIXTURE_H
#define LV_TEST_STORE_FIXTURE_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

/* Not every includer uses every helper. */
#define FX static __attribute__((unused))

typedef struct pair {
    char k[64], v[64];
    size_t kl, vl;
    uint64_t rev;
    bool deleted;
} pair;

typedef struct dump {
    pair p[64];
    size_t n;
} dump;

FX lv_err collect(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
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

FX lv_err collect_feed(void *ctx, uint64_t rev, const void *key, size_t klen, const void *val, size_t vlen)
{
    dump *d = ctx;
    assert_true(d->n < 64 && klen <= 64 && vlen <= 64);
    pair *p = &d->p[d->n++];
    memset(p, 0, sizeof *p);
    memcpy(p->k, key, klen);
    p->kl = klen;
    p->rev = rev;
    p->deleted = val == NULL;
    if (val)
        memcpy(p->v, val, vlen);
    p->vl = vlen;
    return LV_OK;
}

FX void load(lv_store *s, dump *d)
{
    lv_error err;
    memset(d, 0, sizeof *d);
    lv_err rc = lv_store_load(s, collect, d, &err);
    if (rc != LV_OK)
        fail_msg("load: %s %s", lv_err_name(rc), err.msg);
}

FX void expect(const dump *d, size_t i, const char *k, const char *v)
{
    assert_true(i < d->n);
    assert_int_equal(d->p[i].kl, strlen(k));
    assert_memory_equal(d->p[i].k, k, strlen(k));
    if (v == NULL) {
        assert_true(d->p[i].deleted);
        return;
    }
    assert_false(d->p[i].deleted);
    assert_int_equal(d->p[i].vl, strlen(v));
    assert_memory_equal(d->p[i].v, v, strlen(v));
}

FX lv_store_op put(const char *k, const char *v)
{
    return (lv_store_op){k, strlen(k), v, strlen(v)};
}

FX lv_store_op del(const char *k)
{
    return (lv_store_op){k, strlen(k), NULL, 0};
}

typedef struct fixture {
    bool pg;
    char dir[64];
    char db[128];
    char uri[600];
} fixture;

static bool use_pg;

/* Runs SQL on the fixture's database outside the store. */
FX void raw_sql(const fixture *f, const char *sql)
{
    if (f->pg) {
        PGconn *c = PQconnectdb(f->uri);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

FX void quiet_notice(void *arg, const char *msg)
{
    (void)arg, (void)msg;
}

FX int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lv_test_store.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->db, sizeof f->db, "%s/lever.db", f->dir);
    f->pg = use_pg;
    if (f->pg) {
        snprintf(f->uri, sizeof f->uri, "%s", getenv("LEVER_TEST_PG_URI"));
        PGconn *c = PQconnectdb(f->uri);
        if (PQstatus(c) != CONNECTION_OK) {
            fprintf(stderr, "cannot reach %s: %s", f->uri, PQerrorMessage(c));
            PQfinish(c);
            return -1;
        }
        PQsetNoticeProcessor(c, quiet_notice, NULL);
        PGresult *r = PQexec(c, "DROP TABLE IF EXISTS lever_kv, lever_gone, lever_head, lever_schema CASCADE;"
                                "DROP FUNCTION IF EXISTS lever_boom() CASCADE");
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        PQfinish(c);
        if (!ok)
            return -1;
    } else {
        snprintf(f->uri, sizeof f->uri, "sqlite:%s", f->db);
    }
    *state = f;
    return 0;
}

FX int teardown(void **state)
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

FX uint64_t commit_rev(lv_store *s, const lv_store_op *ops, size_t n)
{
    lv_store_batch b = {ops, n, NULL, 0, 1};
    uint64_t rev = 0;
    lv_error err;
    lv_err rc = lv_store_commit_batch(s, &b, &rev, &err);
    if (rc != LV_OK)
        fail_msg("commit: %s %s", lv_err_name(rc), err.msg);
    return rev;
}

FX void feed(lv_store *s, uint64_t since, dump *d, uint64_t *upto)
{
    lv_error err;
    memset(d, 0, sizeof *d);
    lv_err rc = lv_store_feed(s, since, collect_feed, d, upto, &err);
    if (rc != LV_OK)
        fail_msg("feed: %s %s", lv_err_name(rc), err.msg);
}

FX int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
