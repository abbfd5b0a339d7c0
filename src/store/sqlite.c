/* sqlite.c - the embedded store: one WAL-mode SQLite file of key/value
 * pairs stamped with revisions, synchronous=FULL so a committed batch
 * survives power loss. Schema and migrations: sqlite_schema.c. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite_schema.h"
#include "store/store.h"

/* How often a waiter looks at the file's head for commits made through
 * other handles (other processes, or a second handle in this one); commits
 * through this handle wake it at once. */
enum { POLL_MS = 100 };

enum { ST_PUT, ST_UNMARK, ST_DEL, ST_MARK, ST_BUMP, ST_COND_KV, ST_COND_GONE, ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST__N };

static const char *const stmt_sql[ST__N] = {
    [ST_PUT] = "INSERT OR REPLACE INTO kv(k, v, rev) VALUES(?1, ?2, ?3)",
    [ST_UNMARK] = "DELETE FROM gone WHERE k = ?1",
    [ST_DEL] = "DELETE FROM kv WHERE k = ?1",
    [ST_MARK] = "INSERT OR REPLACE INTO gone(k, rev) VALUES(?1, ?2)",
    [ST_BUMP] = "UPDATE head SET rev = rev + ?1 WHERE id = 1 RETURNING rev, horizon",
    [ST_COND_KV] = "SELECT rev FROM kv WHERE k = ?1",
    [ST_COND_GONE] = "SELECT rev FROM gone WHERE k = ?1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

typedef struct sqlite_store {
    lv_store base;
    /* The writer's connection (commits, compaction) and its statements;
     * cmu keeps a transaction of one thread from interleaving with
     * another's (SQLite's own mutex covers single calls only). */
    pthread_mutex_t cmu;
    sqlite3 *db;
    sqlite3_stmt *st[ST__N];
    char *path;
    unsigned commits;
    /* The feed and waits read through a connection of their own. */
    pthread_mutex_t rmu;
    sqlite3 *rd;
    /* Commits through this handle wake waiters at once. */
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    uint64_t last_rev;
} sqlite_store;

static lv_err db_error(sqlite3 *db, lv_error *err, const char *what)
{
    return lv_error_set(err, LV_E_IO, "sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static void sqlite_close(lv_store *s)
{
    sqlite_store *q = (sqlite_store *)s;
    for (int i = 0; i < ST__N; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_close(q->db);
    sqlite3_close(q->rd);
    pthread_mutex_destroy(&q->cmu);
    pthread_mutex_destroy(&q->rmu);
    pthread_mutex_destroy(&q->wmu);
    pthread_cond_destroy(&q->wcv);
    free(q->path);
    free(q);
}

/* Load and backup may run on another thread than the writer. On the
 * writer's connection they would see its uncommitted batch, so they use a
 * connection of their own, which in WAL mode reads the last committed
 * snapshot without blocking the writer. *out is closed by the caller. */
static lv_err open_reader(sqlite_store *q, sqlite3 **out, lv_error *err)
{
    *out = NULL;
    if (sqlite3_open_v2(q->path, out, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        lv_err rc = db_error(*out, err, q->path);
        sqlite3_close(*out);
        *out = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*out, 5000);
    return LV_OK;
}

/* Reads head and horizon inside the caller's transaction. */
static lv_err read_head(sqlite3 *db, uint64_t *rev, uint64_t *horizon, lv_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT rev, horizon FROM head WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
        return db_error(db, err, "head");
    lv_err rc = LV_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *rev = (uint64_t)sqlite3_column_int64(st, 0);
        if (horizon)
            *horizon = (uint64_t)sqlite3_column_int64(st, 1);
    } else {
        rc = lv_error_set(err, LV_E_CORRUPT, "sqlite: the head record is missing");
    }
    sqlite3_finalize(st);
    return rc;
}

static lv_err sqlite_load(lv_store *s, lv_store_load_fn fn, void *ctx, uint64_t *rev, lv_error *err)
{
    sqlite_store *q = (sqlite_store *)s;
    sqlite3 *db;
    lv_err rc = open_reader(q, &db, err);
    if (rc != LV_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    /* One read transaction: the head and the pairs come from one snapshot. */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT k, v FROM kv ORDER BY k", -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(db, err, "load");
        sqlite3_finalize(st);
        sqlite3_close(db);
        return rc;
    }
    int r = SQLITE_DONE;
    while (rc == LV_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        /* A zero-length blob comes back as NULL; callers get "" instead. */
        const void *k = sqlite3_column_blob(st, 0);
        int kl = sqlite3_column_bytes(st, 0);
        const void *v = sqlite3_column_blob(st, 1);
        int vl = sqlite3_column_bytes(st, 1);
        rc = fn(ctx, k ? k : "", (size_t)kl, v ? v : "", (size_t)vl);
    }
    if (rc == LV_OK && r != SQLITE_DONE)
        rc = db_error(db, err, "load");
    sqlite3_finalize(st);
    if (rc == LV_OK && rev != NULL)
        rc = read_head(db, rev, NULL, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static int step_reset(sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r;
}

static lv_err bind_key(sqlite3_stmt *st, const void *key, size_t klen)
{
    /* A NULL pointer would bind SQL NULL; "" binds an empty blob. */
    return sqlite3_bind_blob(st, 1, klen ? key : "", (int)klen, SQLITE_STATIC) == SQLITE_OK ? LV_OK : LV_E_IO;
}

/* The revision key was last written at (0 when never, or only before the
 * horizon); inside the write transaction. */
static lv_err key_rev(sqlite_store *q, const void *key, size_t klen, uint64_t *rev)
{
    *rev = 0;
    for (int i = ST_COND_KV; i <= ST_COND_GONE; i++) {
        sqlite3_stmt *st = q->st[i];
        if (bind_key(st, key, klen) != LV_OK)
            return LV_E_IO;
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
            *rev = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (r != SQLITE_ROW && r != SQLITE_DONE)
            return LV_E_IO;
        if (r == SQLITE_ROW)
            return LV_OK;
    }
    return LV_OK;
}

static lv_err apply_op(sqlite_store *q, const lv_store_op *op, uint64_t rev)
{
    sqlite3_stmt **st = q->st;
    if (op->val) {
        if (bind_key(st[ST_PUT], op->key, op->klen) != LV_OK ||
            sqlite3_bind_blob(st[ST_PUT], 2, op->vlen ? op->val : "", (int)op->vlen, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_int64(st[ST_PUT], 3, (sqlite3_int64)rev) != SQLITE_OK)
            return LV_E_IO;
        int r = step_reset(st[ST_PUT]);
        sqlite3_clear_bindings(st[ST_PUT]);
        if (r != SQLITE_DONE || bind_key(st[ST_UNMARK], op->key, op->klen) != LV_OK)
            return LV_E_IO;
        r = step_reset(st[ST_UNMARK]);
        sqlite3_clear_bindings(st[ST_UNMARK]);
        return r == SQLITE_DONE ? LV_OK : LV_E_IO;
    }
    if (bind_key(st[ST_DEL], op->key, op->klen) != LV_OK)
        return LV_E_IO;
    int r = step_reset(st[ST_DEL]);
    sqlite3_clear_bindings(st[ST_DEL]);
    if (r != SQLITE_DONE)
        return LV_E_IO;
    /* Only a record that existed leaves a tombstone. */
    if (sqlite3_changes(q->db) == 0)
        return LV_OK;
    if (bind_key(st[ST_MARK], op->key, op->klen) != LV_OK ||
        sqlite3_bind_int64(st[ST_MARK], 2, (sqlite3_int64)rev) != SQLITE_OK)
        return LV_E_IO;
    r = step_reset(st[ST_MARK]);
    sqlite3_clear_bindings(st[ST_MARK]);
    return r == SQLITE_DONE ? LV_OK : LV_E_IO;
}

static lv_err compact_locked(sqlite_store *q, uint64_t upto, uint64_t head, uint64_t horizon, lv_error *err)
{
    if (upto > head)
        upto = head;
    if (upto <= horizon)
        return LV_OK;
    char sql[160];
    snprintf(sql, sizeof sql, "DELETE FROM gone WHERE rev <= %llu; UPDATE head SET horizon = %llu WHERE id = 1",
             (unsigned long long)upto, (unsigned long long)upto);
    char *msg = NULL;
    if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        lv_error_set(err, LV_E_IO, "sqlite: compact: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return LV_E_IO;
    }
    return LV_OK;
}

/* The printable start of a key, for messages. */
static void key_label(char *out, size_t cap, const void *key, size_t klen)
{
    size_t n = 0;
    const unsigned char *k = key;
    for (size_t i = 0; i < klen && n + 5 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, k[i] >= 0x20 && k[i] < 0x7f ? "%c" : "\\x%02x", k[i]);
    out[n] = '\0';
}

static lv_err commit_locked(sqlite_store *q, const lv_store_batch *b, uint64_t *rev_out, lv_error *err)
{
    /* Sizes are checked before anything is bound or begun: sqlite takes int
     * lengths, and a negative one would make it read past the buffer. */
    for (size_t i = 0; i < b->nops; i++) {
        const lv_store_op *op = &b->ops[i];
        if (op->klen > 0x7fffffff || (op->val && op->vlen > 0x7fffffff))
            return lv_error_set(err, LV_E_TOO_BIG, "sqlite: key or value of op %zu too large", i);
        if (op->key == NULL && op->klen > 0)
            return lv_error_set(err, LV_E_INTERNAL, "sqlite: op %zu has a NULL buffer", i);
    }
    for (size_t i = 0; i < b->nconds; i++)
        if (b->conds[i].klen > 0x7fffffff || (b->conds[i].key == NULL && b->conds[i].klen > 0))
            return lv_error_set(err, LV_E_TOO_BIG, "sqlite: key of condition %zu unusable", i);
    uint64_t nrev = b->nrev ? b->nrev : 1;
    if (nrev > INT32_MAX)
        return lv_error_set(err, LV_E_VALIDATION, "sqlite: a commit consumes at most %d revisions", INT32_MAX);
    if (step_reset(q->st[ST_BEGIN]) != SQLITE_DONE)
        return db_error(q->db, err, "begin");
    lv_err rc = LV_OK;
    uint64_t rev = 0, horizon = 0;
    sqlite3_stmt *bump = q->st[ST_BUMP];
    sqlite3_bind_int64(bump, 1, (sqlite3_int64)nrev);
    if (sqlite3_step(bump) == SQLITE_ROW) {
        rev = (uint64_t)sqlite3_column_int64(bump, 0);
        horizon = (uint64_t)sqlite3_column_int64(bump, 1);
    } else {
        rc = db_error(q->db, err, "head");
    }
    sqlite3_reset(bump);
    for (size_t i = 0; rc == LV_OK && i < b->nconds; i++) {
        const lv_store_cond *c = &b->conds[i];
        uint64_t kr;
        if (key_rev(q, c->key, c->klen, &kr) != LV_OK) {
            rc = db_error(q->db, err, "condition");
        } else if (kr > c->rev || c->rev < horizon) {
            char label[96];
            key_label(label, sizeof label, c->key, c->klen);
            rc = lv_error_set(err, LV_E_CONFLICT,
                              kr > c->rev ? "sqlite: %s changed at revision %llu, after revision %llu"
                                          : "sqlite: %s: revision %llu is below the horizon %llu",
                              label, (unsigned long long)(kr > c->rev ? kr : c->rev),
                              (unsigned long long)(kr > c->rev ? c->rev : horizon));
        }
    }
    for (size_t i = 0; rc == LV_OK && i < b->nops; i++)
        if (apply_op(q, &b->ops[i], rev) != LV_OK)
            rc = db_error(q->db, err, b->ops[i].val ? "put" : "delete");
    uint64_t keep = q->base.keep ? q->base.keep : LV_STORE_TOMBSTONE_KEEP;
    if (rc == LV_OK && ++q->commits % lv_store_compact_every(keep) == 0 && rev > keep)
        rc = compact_locked(q, rev - keep, rev, horizon, err);
    if (rc == LV_OK && step_reset(q->st[ST_COMMIT]) != SQLITE_DONE)
        rc = db_error(q->db, err, "commit");
    if (rc != LV_OK) {
        step_reset(q->st[ST_ROLLBACK]);
        return rc;
    }
    pthread_mutex_lock(&q->wmu);
    q->last_rev = rev;
    pthread_cond_broadcast(&q->wcv);
    pthread_mutex_unlock(&q->wmu);
    if (rev_out)
        *rev_out = rev;
    return LV_OK;
}

static lv_err sqlite_commit(lv_store *s, const lv_store_batch *b, uint64_t *rev_out, lv_error *err)
{
    sqlite_store *q = (sqlite_store *)s;
    pthread_mutex_lock(&q->cmu);
    lv_err rc = commit_locked(q, b, rev_out, err);
    pthread_mutex_unlock(&q->cmu);
    return rc;
}

static lv_err ensure_rd(sqlite_store *q, lv_error *err)
{
    return q->rd ? LV_OK : open_reader(q, &q->rd, err);
}

static lv_err sqlite_feed(lv_store *s, uint64_t since, lv_store_feed_fn fn, void *ctx, uint64_t *upto, lv_error *err)
{
    sqlite_store *q = (sqlite_store *)s;
    pthread_mutex_lock(&q->rmu);
    lv_err rc = ensure_rd(q, err);
    if (rc != LV_OK) {
        pthread_mutex_unlock(&q->rmu);
        return rc;
    }
    sqlite3 *db = q->rd;
    uint64_t head = 0, horizon = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_error(db, err, "feed");
        goto out;
    }
    if ((rc = read_head(db, &head, &horizon, err)) != LV_OK)
        goto done;
    if (since < horizon) {
        rc = lv_error_set(err, LV_E_COMPACTED, "sqlite: revision %llu is below the horizon %llu; load again",
                          (unsigned long long)since, (unsigned long long)horizon);
        goto done;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT rev, k, v FROM kv WHERE rev > ?1 UNION ALL "
                           "SELECT rev, k, NULL FROM gone WHERE rev > ?1 ORDER BY 1, 2",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, (sqlite3_int64)since) != SQLITE_OK) {
        rc = db_error(db, err, "feed");
        goto done;
    }
    int r = SQLITE_DONE;
    while (rc == LV_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t rev = (uint64_t)sqlite3_column_int64(st, 0);
        const void *k = sqlite3_column_blob(st, 1);
        int kl = sqlite3_column_bytes(st, 1);
        if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
            rc = fn(ctx, rev, k ? k : "", (size_t)kl, NULL, 0);
        } else {
            const void *v = sqlite3_column_blob(st, 2);
            rc = fn(ctx, rev, k ? k : "", (size_t)kl, v ? v : "", (size_t)sqlite3_column_bytes(st, 2));
        }
    }
    if (rc == LV_OK && r != SQLITE_DONE)
        rc = db_error(db, err, "feed");
done:
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
    pthread_mutex_unlock(&q->rmu);
    if (rc == LV_OK && upto)
        *upto = head > since ? head : since;
    return rc;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static lv_err file_head(sqlite_store *q, uint64_t *head, lv_error *err)
{
    pthread_mutex_lock(&q->rmu);
    lv_err rc = ensure_rd(q, err);
    if (rc == LV_OK)
        rc = read_head(q->rd, head, NULL, err);
    pthread_mutex_unlock(&q->rmu);
    return rc;
}

static lv_err sqlite_wait(lv_store *s, uint64_t since, int timeout_ms, bool *woken, lv_error *err)
{
    sqlite_store *q = (sqlite_store *)s;
    *woken = false;
    uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        uint64_t head = 0;
        lv_err rc = file_head(q, &head, err);
        if (rc != LV_OK)
            return rc;
        if (head > since) {
            *woken = true;
            return LV_OK;
        }
        uint64_t now = now_ms();
        if (now >= deadline)
            return LV_OK;
        uint64_t slice = deadline - now < POLL_MS ? deadline - now : POLL_MS;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(slice / 1000);
        ts.tv_nsec += (long)(slice % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&q->wmu);
        while (q->last_rev <= since && pthread_cond_timedwait(&q->wcv, &q->wmu, &ts) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&q->wmu);
    }
}

static lv_err sqlite_compact(lv_store *s, uint64_t upto, lv_error *err)
{
    sqlite_store *q = (sqlite_store *)s;
    pthread_mutex_lock(&q->cmu);
    if (step_reset(q->st[ST_BEGIN]) != SQLITE_DONE) {
        lv_err rc = db_error(q->db, err, "begin");
        pthread_mutex_unlock(&q->cmu);
        return rc;
    }
    uint64_t head = 0, horizon = 0;
    lv_err rc = read_head(q->db, &head, &horizon, err);
    if (rc == LV_OK)
        rc = compact_locked(q, upto, head, horizon, err);
    if (rc == LV_OK && step_reset(q->st[ST_COMMIT]) != SQLITE_DONE)
        rc = db_error(q->db, err, "commit");
    if (rc != LV_OK)
        step_reset(q->st[ST_ROLLBACK]);
    pthread_mutex_unlock(&q->cmu);
    return rc;
}

static lv_err sqlite_backup(lv_store *s, const char *path, lv_error *err)
{
    sqlite_store *q = (sqlite_store *)s;
    sqlite3 *src;
    lv_err rc = open_reader(q, &src, err);
    if (rc != LV_OK)
        return rc;
    sqlite3 *dst = NULL;
    if (sqlite3_open(path, &dst) != SQLITE_OK) {
        rc = db_error(dst, err, "backup open");
        sqlite3_close(dst);
        sqlite3_close(src);
        return rc;
    }
    /* One step of -1 copies everything under one read transaction: a
     * consistent snapshot, and writers (WAL) are not blocked. */
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        rc = db_error(dst, err, "backup");
    } else {
        int r = sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
        if (r != SQLITE_DONE)
            rc = db_error(dst, err, "backup");
    }
    sqlite3_close(dst);
    sqlite3_close(src);
    return rc;
}

static lv_err sqlite_open(const char *location, lv_store **out, lv_error *err);

const lv_store_ops lv_store_sqlite_ops = {
    .scheme = "sqlite",
    .open = sqlite_open,
    .load = sqlite_load,
    .commit = sqlite_commit,
    .feed = sqlite_feed,
    .wait = sqlite_wait,
    .compact = sqlite_compact,
    .backup = sqlite_backup,
    .close = sqlite_close,
};

static lv_err exec(sqlite3 *db, const char *sql, lv_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        lv_err rc = lv_error_set(err, LV_E_IO, "sqlite: %s: %s", sql, msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return LV_OK;
}

static lv_err sqlite_open(const char *location, lv_store **out, lv_error *err)
{
    sqlite_store *q = calloc(1, sizeof *q);
    if (q == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    q->base.ops = &lv_store_sqlite_ops;
    pthread_mutex_init(&q->cmu, NULL);
    pthread_mutex_init(&q->rmu, NULL);
    pthread_mutex_init(&q->wmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->wcv, &ca);
    pthread_condattr_destroy(&ca);
    q->path = strdup(location);
    lv_err rc = LV_OK;
    if (q->path == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto fail;
    }
    if (sqlite3_open_v2(location, &q->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        rc = db_error(q->db, err, location);
        goto fail;
    }
    sqlite3_busy_timeout(q->db, 5000);
    if ((rc = exec(q->db, "PRAGMA journal_mode=WAL", err)) != LV_OK ||
        (rc = exec(q->db, "PRAGMA synchronous=FULL", err)) != LV_OK ||
        (rc = lv_sqlite_schema_prepare(q->db, location, err)) != LV_OK)
        goto fail;
    for (int i = 0; i < ST__N; i++)
        if (sqlite3_prepare_v2(q->db, stmt_sql[i], -1, &q->st[i], NULL) != SQLITE_OK) {
            rc = db_error(q->db, err, "prepare");
            goto fail;
        }
    *out = &q->base;
    return LV_OK;
fail:
    sqlite_close(&q->base);
    return rc;
}
