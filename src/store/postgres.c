/* postgres.c - the shared store: lever's key/value pairs in PostgreSQL
 * (libpq), so several leverd nodes can use one database. Commits:
 * pg_batch.c; connections and errors: pg_conn.c. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/pg_batch.h"
#include "store/pg_conn.h"
#include "store/sqlite_schema.h"
#include "store/store.h"

enum { FETCH_ROWS = 1000 };

/* Rows of the feed read while holding a reservation (pg_reserve); a longer
 * feed gives the reservation up and is read through a cursor. */
enum { RESERVED_FEED_MAX = 20000 };
#define RESERVED_FEED_LIMIT "LIMIT 20001" /* RESERVED_FEED_MAX + 1 */

/* How long a session may sit inside a reservation between statements
 * before PostgreSQL ends it (a node stopped by SIGSTOP, a paused VM): every
 * node's commits wait meanwhile. A reservation's own idle time is the
 * catch-up and the plan, a few milliseconds. */
#define RESERVE_IDLE_TIMEOUT "2s"

/* The records changed after $1 (binary, by revision then key), or none
 * when $1 is below the horizon (the caller then loads again). */
#define FEED_SQL                                                                                                       \
    "SELECT rev, k, v FROM lever_kv WHERE rev > $1::int8 AND $1::int8 >= (SELECT horizon FROM lever_head WHERE "      \
    "id = 1) UNION ALL SELECT rev, k, NULL FROM lever_gone WHERE rev > $1::int8 AND $1::int8 >= (SELECT horizon "     \
    "FROM lever_head WHERE id = 1) ORDER BY 1, 2 "

typedef struct pg_store {
    lv_store base;
    char *uri;
    pg_conn w; /* commits and compaction */
    pg_conn r; /* load, feed, backup */
    pg_conn l; /* LISTEN, wait */
    unsigned commits;
    uint64_t res_head, res_horizon; /* of the reservation (pg_reserve) */
    PGresult *res_feed;             /* the feed after res_since, fetched with it */
    uint64_t res_since;
} pg_store;

/* The store whose commit order this thread holds (pg_reserve): its w
 * connection is locked and inside a transaction that holds the head row. */
static _Thread_local pg_store *reserved;

/* ---------- schema ---------- */

/* migrations[i] takes the database from version i to i + 1. Never edit a
 * shipped step: add one. */
static const char *const migrations[] = {
    "CREATE TABLE lever_kv(k bytea PRIMARY KEY, v bytea NOT NULL, rev bigint NOT NULL);"
    "CREATE INDEX lever_kv_rev ON lever_kv(rev);"
    "CREATE TABLE lever_gone(k bytea PRIMARY KEY, rev bigint NOT NULL);"
    "CREATE INDEX lever_gone_rev ON lever_gone(rev);"
    "CREATE TABLE lever_head(id integer PRIMARY KEY CHECK (id = 1), rev bigint NOT NULL, horizon bigint NOT NULL);"
    "INSERT INTO lever_head(id, rev, horizon) VALUES (1, 0, 0);",
};
enum { PG_SCHEMA = sizeof migrations / sizeof *migrations };

/* Any number: it only has to be the same in every lever binary. */
#define SCHEMA_LOCK "7447020013"

static lv_err migrate(pg_conn *pc, lv_error *err)
{
    PGconn *c = pc->c;
    lv_err rc = pg_cmd(pc, "BEGIN", "schema", err);
    if (rc != LV_OK)
        return rc;
    /* The lock makes nodes that start together migrate one after another. */
    if ((rc = pg_cmd(pc, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ")", "schema", err)) != LV_OK ||
        (rc = pg_cmd(pc,
                     "CREATE TABLE IF NOT EXISTS lever_schema("
                     "id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)",
                     "schema", err)) != LV_OK ||
        (rc = pg_cmd(pc, "INSERT INTO lever_schema(id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING", "schema",
                     err)) != LV_OK)
        goto fail;
    PGresult *r = PQexec(c, "SELECT version FROM lever_schema WHERE id = 1");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        rc = pg_result_error(pc, r, "schema", err);
        PQclear(r);
        goto fail;
    }
    long version = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (version > (long)PG_SCHEMA) {
        rc = lv_error_set(err, LV_E_CORRUPT,
                          "postgres: the database holds lever schema version %ld, newer than this binary's %d "
                          "(written by a newer lever); upgrade leverd",
                          version, (int)PG_SCHEMA);
        goto fail;
    }
    for (long v = version < 0 ? 0 : version; v < (long)PG_SCHEMA; v++)
        if ((rc = pg_cmd(pc, migrations[v], "schema migration", err)) != LV_OK)
            goto fail;
    if (version < (long)PG_SCHEMA) {
        char sql[80];
        snprintf(sql, sizeof sql, "UPDATE lever_schema SET version = %d WHERE id = 1", (int)PG_SCHEMA);
        if ((rc = pg_cmd(pc, sql, "schema", err)) != LV_OK)
            goto fail;
    }
    return pg_cmd(pc, "COMMIT", "schema", err);
fail:
    pg_rollback(pc);
    return rc;
}

/* ---------- reading ---------- */

/* Reads head and horizon (inside the caller's transaction). */
static lv_err read_head(pg_conn *pc, const char *lock, uint64_t *head, uint64_t *horizon, lv_error *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT rev, horizon FROM lever_head WHERE id = 1%s", lock);
    PGresult *r = PQexec(pc->c, sql);
    lv_err rc = LV_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_result_error(pc, r, "head", err);
    else if (PQntuples(r) != 1)
        rc = lv_error_set(err, LV_E_CORRUPT, "postgres: lever_head has no row");
    else {
        *head = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        if (horizon)
            *horizon = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
    }
    PQclear(r);
    return rc;
}

typedef lv_err (*row_fn)(void *ctx, PGresult *r, int row);

/* Runs query through a cursor in the caller's transaction, handing each
 * row (binary format) to fn, FETCH_ROWS at a time. */
static lv_err each_row(pg_conn *pc, const char *query, row_fn fn, void *ctx, lv_error *err)
{
    lv_buf sql = LV_BUF_INIT;
    if (lv_buf_printf(&sql, "DECLARE lever_cur NO SCROLL CURSOR FOR %s", query) != LV_OK)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    lv_err rc = pg_cmd(pc, sql.data, "cursor", err);
    lv_buf_free(&sql);
    char fetch[48];
    snprintf(fetch, sizeof fetch, "FETCH %d FROM lever_cur", FETCH_ROWS);
    while (rc == LV_OK) {
        PGresult *r = PQexecParams(pc->c, fetch, 0, NULL, NULL, NULL, NULL, 1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = pg_result_error(pc, r, "fetch", err);
            PQclear(r);
            break;
        }
        int n = PQntuples(r);
        for (int i = 0; rc == LV_OK && i < n; i++)
            rc = fn(ctx, r, i);
        PQclear(r);
        if (n < FETCH_ROWS)
            break;
    }
    if (rc == LV_OK)
        rc = pg_cmd(pc, "CLOSE lever_cur", "cursor", err);
    return rc;
}

typedef struct load_ctx {
    lv_store_load_fn fn;
    void *ctx;
} load_ctx;

static lv_err load_row(void *ctx, PGresult *r, int i)
{
    load_ctx *lc = ctx;
    return lc->fn(lc->ctx, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0), PQgetvalue(r, i, 1),
                  (size_t)PQgetlength(r, i, 1));
}

/* Starts a read-only snapshot; the caller ends it with pg_rollback. */
static lv_err begin_snapshot(pg_conn *pc, lv_error *err)
{
    return pg_cmd(pc, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "snapshot", err);
}

static lv_err pg_load(lv_store *s, lv_store_load_fn fn, void *ctx, uint64_t *rev, lv_error *err)
{
    pg_store *p = (pg_store *)s;
    load_ctx lc = {fn, ctx};
    pg_conn_lock(&p->r);
    lv_err rc = LV_OK;
    /* Nothing reached the caller before a lost connection shows (the
     * first statement fails), so one retry on a fresh connection is safe. */
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh;
        if ((rc = pg_conn_ensure(&p->r, p->uri, &fresh, err)) != LV_OK)
            break;
        uint64_t head = 0;
        rc = begin_snapshot(&p->r, err);
        if (rc == LV_OK)
            rc = read_head(&p->r, "", &head, NULL, err);
        if (rc == LV_E_UNAVAILABLE && !fresh)
            continue;
        if (rc == LV_OK)
            rc = each_row(&p->r, "SELECT k, v FROM lever_kv ORDER BY k", load_row, &lc, err);
        pg_rollback(&p->r);
        if (rc == LV_OK && rev)
            *rev = head;
        break;
    }
    pg_conn_unlock(&p->r);
    return rc;
}

typedef struct feed_ctx {
    lv_store_feed_fn fn;
    void *ctx;
} feed_ctx;

static lv_err feed_row(void *ctx, PGresult *r, int i)
{
    feed_ctx *fc = ctx;
    if (PQgetlength(r, i, 0) != 8)
        return LV_E_CORRUPT;
    uint64_t rev = pg_get_be64(PQgetvalue(r, i, 0));
    const void *v = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
    return fc->fn(fc->ctx, rev, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), v,
                  v ? (size_t)PQgetlength(r, i, 2) : 0);
}

static void pg_release(lv_store *s);

/* Gives up the feed fetched with the reservation. */
static void drop_res_feed(pg_store *p)
{
    PQclear(p->res_feed);
    p->res_feed = NULL;
}

/* The feed from inside this thread's reservation: nothing can commit
 * meanwhile, so one statement on the reserving connection sees it all (no
 * snapshot, cursor or head to read), and usually it came with the
 * reservation itself (no round trip at all while every node's commits
 * wait). *later is set when the feed is too long to read while holding
 * the order: the reservation is given up, read it the usual way. */
static lv_err feed_reserved(pg_store *p, uint64_t since, feed_ctx *fc, uint64_t *upto, bool *later, lv_error *err)
{
    *later = false;
    if (since < p->res_horizon) {
        drop_res_feed(p);
        return lv_error_set(err, LV_E_COMPACTED, "postgres: revision %llu is below the horizon %llu; load again",
                            (unsigned long long)since, (unsigned long long)p->res_horizon);
    }
    PGresult *r = NULL;
    lv_err rc = LV_OK;
    if (p->res_feed != NULL && p->res_since == since) {
        r = p->res_feed;
        p->res_feed = NULL;
    } else if (p->res_head > since) {
        drop_res_feed(p);
        char n[24];
        snprintf(n, sizeof n, "%llu", (unsigned long long)since);
        const char *vals[1] = {n};
        r = PQexecParams(p->w.c, FEED_SQL RESERVED_FEED_LIMIT, 1, NULL, vals, NULL, NULL, 1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_result_error(&p->w, r, "feed", err);
    }
    if (rc == LV_OK && r != NULL && PQntuples(r) > RESERVED_FEED_MAX) {
        PQclear(r);
        pg_release(&p->base);
        *later = true;
        return LV_OK;
    }
    for (int i = 0, n = r ? PQntuples(r) : 0; rc == LV_OK && i < n; i++)
        rc = feed_row(fc, r, i);
    PQclear(r);
    if (rc != LV_OK) {
        /* The transaction may be aborted: give the reservation up, the
         * commit then runs on its own (and its condition decides). */
        pg_release(&p->base);
        return rc == LV_E_CORRUPT && err->msg[0] == '\0' ? lv_error_set(err, rc, "postgres: bad feed row") : rc;
    }
    if (upto)
        *upto = p->res_head > since ? p->res_head : since;
    return LV_OK;
}

static lv_err pg_feed(lv_store *s, uint64_t since, lv_store_feed_fn fn, void *ctx, uint64_t *upto, lv_error *err)
{
    pg_store *p = (pg_store *)s;
    feed_ctx fc = {fn, ctx};
    if (reserved == p) {
        bool later;
        lv_err rc = feed_reserved(p, since, &fc, upto, &later, err);
        if (!later)
            return rc;
    }
    pg_conn_lock(&p->r);
    lv_err rc = LV_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh;
        if ((rc = pg_conn_ensure(&p->r, p->uri, &fresh, err)) != LV_OK)
            break;
        uint64_t head = 0, horizon = 0;
        rc = begin_snapshot(&p->r, err);
        if (rc == LV_OK)
            rc = read_head(&p->r, "", &head, &horizon, err);
        if (rc == LV_E_UNAVAILABLE && !fresh)
            continue;
        if (rc == LV_OK && since < horizon)
            rc = lv_error_set(err, LV_E_COMPACTED, "postgres: revision %llu is below the horizon %llu; load again",
                              (unsigned long long)since, (unsigned long long)horizon);
        if (rc == LV_OK && head > since) {
            char q[256];
            snprintf(q, sizeof q,
                     "SELECT rev, k, v FROM lever_kv WHERE rev > %llu UNION ALL "
                     "SELECT rev, k, NULL FROM lever_gone WHERE rev > %llu ORDER BY 1, 2",
                     (unsigned long long)since, (unsigned long long)since);
            rc = each_row(&p->r, q, feed_row, &fc, err);
        }
        pg_rollback(&p->r);
        if (rc == LV_OK && upto)
            *upto = head > since ? head : since;
        break;
    }
    pg_conn_unlock(&p->r);
    return rc;
}

/* ---------- waiting ---------- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_until(uint64_t deadline)
{
    uint64_t now = now_ms();
    if (now < deadline)
        poll(NULL, 0, (int)(deadline - now));
}

/* A (new) listening connection: notifications sent while there was none
 * are lost, so the caller must read the feed. */
static lv_err listen_again(pg_store *p, lv_error *err)
{
    bool fresh;
    lv_err rc = pg_conn_ensure(&p->l, p->uri, &fresh, err);
    if (rc == LV_OK)
        rc = pg_cmd(&p->l, "LISTEN lever_commit", "listen", err);
    if (rc != LV_OK)
        pg_conn_drop(&p->l);
    return rc;
}

static lv_err pg_wait(lv_store *s, uint64_t since, int timeout_ms, bool *woken, lv_error *err)
{
    pg_store *p = (pg_store *)s;
    uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    *woken = false;
    pg_conn_lock(&p->l);
    lv_err rc = LV_OK;
    if (p->l.c == NULL) {
        rc = listen_again(p, err);
        *woken = rc == LV_OK;
        goto out;
    }
    for (;;) {
        if (PQstatus(p->l.c) != CONNECTION_OK || !PQconsumeInput(p->l.c)) {
            pg_conn_drop(&p->l);
            rc = listen_again(p, err);
            *woken = rc == LV_OK;
            goto out;
        }
        PGnotify *n;
        while ((n = PQnotifies(p->l.c)) != NULL) {
            if (strtoull(n->extra, NULL, 10) > since)
                *woken = true;
            PQfreemem(n);
        }
        uint64_t now = now_ms();
        if (*woken || now >= deadline)
            goto out;
        struct pollfd pfd = {PQsocket(p->l.c), POLLIN, 0};
        if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
            goto out;
    }
out:
    pg_conn_unlock(&p->l);
    if (rc == LV_E_UNAVAILABLE)
        sleep_until(deadline);
    return rc;
}

/* ---------- writing ---------- */

static lv_err pg_reserve(lv_store *s, uint64_t since, uint64_t *head, lv_error *err)
{
    pg_store *p = (pg_store *)s;
    if (reserved == p)
        return lv_error_set(err, LV_E_INTERNAL, "postgres: commit order reserved twice");
    pg_conn_lock(&p->w);
    lv_err rc = LV_OK;
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)since);
    const char *vals[1] = {n};
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh;
        if ((rc = pg_conn_ensure(&p->w, p->uri, &fresh, err)) != LV_OK)
            break;
        /* One round trip: the order, and the feed the caller will read
         * inside it (a statement after the head row is held sees every
         * commit up to it). A node that stops meanwhile must not hold
         * every node's commits for long. */
        pg_stmt st[] = {
            {"BEGIN", -1, 0, NULL, NULL, NULL, NULL},
            {"SET LOCAL idle_in_transaction_session_timeout = '" RESERVE_IDLE_TIMEOUT "'", -1, 0, NULL, NULL, NULL,
             NULL},
            {"SELECT rev, horizon FROM lever_head WHERE id = 1 FOR UPDATE", PG_STMT_RESERVE, 0, NULL, NULL, NULL, NULL},
            {FEED_SQL RESERVED_FEED_LIMIT, PG_STMT_FEED, 1, vals, NULL, NULL, NULL},
        };
        int sent;
        rc = pg_pipeline(&p->w, st, 4, &sent, "reserve", err);
        PGresult *r = st[2].res;
        if (rc == LV_OK && (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 8 || PQgetlength(r, 0, 1) != 8))
            rc = lv_error_set(err, LV_E_CORRUPT, "postgres: lever_head has no row");
        if (rc == LV_OK) {
            *head = p->res_head = pg_get_be64(PQgetvalue(r, 0, 0));
            p->res_horizon = pg_get_be64(PQgetvalue(r, 0, 1));
            p->res_feed = st[3].res;
            p->res_since = since;
            st[3].res = NULL;
        }
        pg_pipeline_clear(st, 4);
        if (rc == LV_OK) {
            reserved = p;
            return LV_OK; /* w stays locked until the commit or release */
        }
        pg_rollback(&p->w);
        if (rc != LV_E_UNAVAILABLE || fresh)
            break;
    }
    pg_conn_unlock(&p->w);
    return rc;
}

static void pg_release(lv_store *s)
{
    pg_store *p = (pg_store *)s;
    if (reserved != p)
        return;
    reserved = NULL;
    drop_res_feed(p);
    pg_rollback(&p->w);
    pg_conn_unlock(&p->w);
}

static lv_err pg_commit(lv_store *s, const lv_store_batch *b, uint64_t *rev, lv_error *err)
{
    pg_store *p = (pg_store *)s;
    pg_batch pb;
    lv_err rc = pg_batch_encode(&pb, b, err);
    if (rc != LV_OK) {
        pg_release(s);
        return rc;
    }
    bool in_tx = reserved == p;
    reserved = in_tx ? NULL : reserved;
    if (in_tx)
        drop_res_feed(p);
    if (!in_tx)
        pg_conn_lock(&p->w);
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh = false, sent_commit = false;
        if (!in_tx && (rc = pg_conn_ensure(&p->w, p->uri, &fresh, err)) != LV_OK)
            break;
        uint64_t keep = s->keep ? s->keep : LV_STORE_TOMBSTONE_KEEP;
        bool compact = (p->commits + 1) % lv_store_compact_every(keep) == 0;
        if (in_tx)
            rc = pg_batch_run_in_tx(&p->w, &pb, compact ? keep : 0, rev, &sent_commit, err);
        else
            rc = pg_batch_run(&p->w, &pb, compact ? keep : 0, rev, &sent_commit, err);
        in_tx = false;
        /* Lost before COMMIT was sent: nothing happened, once more on a
         * new connection (the old one was stale, e.g. after a restart). */
        if (rc == LV_E_UNAVAILABLE && !fresh && !sent_commit)
            continue;
        if (rc == LV_OK)
            p->commits++;
        break;
    }
    pg_conn_unlock(&p->w);
    pg_batch_free(&pb);
    return rc;
}

static lv_err pg_compact(lv_store *s, uint64_t upto, lv_error *err)
{
    pg_store *p = (pg_store *)s;
    pg_conn_lock(&p->w);
    bool fresh;
    lv_err rc = pg_conn_ensure(&p->w, p->uri, &fresh, err);
    uint64_t head = 0, horizon = 0;
    if (rc == LV_OK)
        rc = pg_cmd(&p->w, "BEGIN", "compact", err);
    if (rc == LV_OK)
        rc = read_head(&p->w, " FOR UPDATE", &head, &horizon, err);
    if (rc == LV_OK && upto > head)
        upto = head;
    if (rc == LV_OK && upto > horizon)
        rc = pg_compact_locked(&p->w, upto, err);
    if (rc == LV_OK)
        rc = pg_cmd(&p->w, "COMMIT", "compact", err);
    if (rc != LV_OK)
        pg_rollback(&p->w);
    pg_conn_unlock(&p->w);
    return rc;
}

/* ---------- backup ---------- */

static lv_err backup_kv(void *ctx, PGresult *r, int i)
{
    if (PQgetlength(r, i, 2) != 8)
        return LV_E_CORRUPT;
    return lv_snapshot_add(ctx, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0), PQgetvalue(r, i, 1),
                           (size_t)PQgetlength(r, i, 1), pg_get_be64(PQgetvalue(r, i, 2)), NULL);
}

static lv_err backup_gone(void *ctx, PGresult *r, int i)
{
    if (PQgetlength(r, i, 1) != 8)
        return LV_E_CORRUPT;
    return lv_snapshot_add(ctx, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0), NULL, 0,
                           pg_get_be64(PQgetvalue(r, i, 1)), NULL);
}

/* One REPEATABLE READ snapshot copied into a file in the SQLite store
 * format, tombstones, head and horizon included. */
static lv_err pg_backup(lv_store *s, const char *path, lv_error *err)
{
    pg_store *p = (pg_store *)s;
    lv_snapshot *snap;
    lv_err rc = lv_snapshot_create(path, &snap, err);
    if (rc != LV_OK)
        return rc;
    pg_conn_lock(&p->r);
    uint64_t head = 0, horizon = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh;
        if ((rc = pg_conn_ensure(&p->r, p->uri, &fresh, err)) != LV_OK)
            break;
        rc = begin_snapshot(&p->r, err);
        if (rc == LV_OK)
            rc = read_head(&p->r, "", &head, &horizon, err);
        if (rc == LV_E_UNAVAILABLE && !fresh)
            continue;
        if (rc == LV_OK)
            rc = each_row(&p->r, "SELECT k, v, rev FROM lever_kv", backup_kv, snap, err);
        if (rc == LV_OK)
            rc = each_row(&p->r, "SELECT k, rev FROM lever_gone", backup_gone, snap, err);
        pg_rollback(&p->r);
        break;
    }
    pg_conn_unlock(&p->r);
    if (rc != LV_OK) {
        if (err && err->msg[0] == '\0')
            lv_error_set(err, rc, "postgres: backup to %s failed", path);
        lv_snapshot_abort(snap);
        return rc;
    }
    return lv_snapshot_finish(snap, head, horizon, err);
}

/* ---------- open / close ---------- */

static void pg_close(lv_store *s)
{
    pg_store *p = (pg_store *)s;
    pg_conn_destroy(&p->w);
    pg_conn_destroy(&p->r);
    pg_conn_destroy(&p->l);
    free(p->uri);
    free(p);
}

static lv_err pg_open(const char *uri, lv_store **out, lv_error *err);

const lv_store_ops lv_store_postgres_ops = {
    .scheme = "postgres",
    .open = pg_open,
    .load = pg_load,
    .commit = pg_commit,
    .feed = pg_feed,
    .wait = pg_wait,
    .compact = pg_compact,
    .reserve = pg_reserve,
    .release = pg_release,
    .backup = pg_backup,
    .close = pg_close,
};

static lv_err pg_open(const char *uri, lv_store **out, lv_error *err)
{
    pg_store *p = calloc(1, sizeof *p);
    if (p == NULL || (p->uri = strdup(uri)) == NULL) {
        free(p);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    p->base.ops = &lv_store_postgres_ops;
    pg_conn_init(&p->w);
    pg_conn_init(&p->r);
    pg_conn_init(&p->l);
    bool fresh;
    lv_err rc = pg_conn_ensure(&p->w, p->uri, &fresh, err);
    if (rc == LV_OK)
        rc = migrate(&p->w, err);
    if (rc != LV_OK) {
        pg_close(&p->base);
        return rc;
    }
    *out = &p->base;
    return LV_OK;
}
