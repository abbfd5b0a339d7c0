/* sqlite.c - the embedded store: one WAL-mode SQLite table of key/value
 * pairs, synchronous=FULL so a committed batch survives power loss. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

enum { SCHEMA_VERSION = 1 };

typedef struct sqlite_store {
    lv_store base;
    sqlite3 *db;
    sqlite3_stmt *put, *del, *begin, *commit, *rollback;
    char *path;
} sqlite_store;

static lv_err db_error(sqlite3 *db, lv_error *err, const char *what)
{
    return lv_error_set(err, LV_E_IO, "sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static void sqlite_close(lv_store *s)
{
    sqlite_store *q = (sqlite_store *)s;
    sqlite3_finalize(q->put);
    sqlite3_finalize(q->del);
    sqlite3_finalize(q->begin);
    sqlite3_finalize(q->commit);
    sqlite3_finalize(q->rollback);
    sqlite3_close(q->db);
    free(q->path);
    free(q);
}

static lv_err sqlite_open(const char *location, lv_store **out, lv_error *err);

/* Load and backup may run on another thread than the writer. On the
 * writer's connection they would see its uncommitted batch, so they use a
 * connection of their own, which in WAL mode reads the last committed
 * snapshot without blocking the writer. *out is closed by the caller. */
static lv_err open_reader(sqlite_store *q, sqlite3 **out, lv_error *err)
{
    *out = NULL;
    if (sqlite3_open_v2(q->path, out, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        lv_err rc = db_error(*out, err, q->path);
        sqlite3_close(*out);
        *out = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*out, 5000);
    return LV_OK;
}

static lv_err sqlite_load(lv_store *s, lv_store_load_fn fn, void *ctx, lv_error *err)
{
    sqlite_store *q = (sqlite_store *)s;
    sqlite3 *db;
    lv_err rc = open_reader(q, &db, err);
    if (rc != LV_OK)
        return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT k, v FROM kv ORDER BY k", -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(db, err, "load");
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
    sqlite3_close(db);
    return rc;
}

static lv_err step_reset(sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? LV_OK : LV_E_IO;
}

static lv_err sqlite_commit(lv_store *s, const lv_store_op *ops, size_t n, lv_error *err)
{
    sqlite_store *q = (sqlite_store *)s;
    /* Sizes are checked before anything is bound or begun: sqlite takes int
     * lengths, and a negative one would make it read past the buffer. */
    for (size_t i = 0; i < n; i++) {
        const lv_store_op *op = &ops[i];
        if (op->klen > 0x7fffffff || (op->val && op->vlen > 0x7fffffff))
            return lv_error_set(err, LV_E_TOO_BIG, "sqlite: key or value of op %zu too large", i);
        if (op->key == NULL && op->klen > 0)
            return lv_error_set(err, LV_E_INTERNAL, "sqlite: op %zu has a NULL buffer", i);
    }
    if (step_reset(q->begin) != LV_OK)
        return db_error(q->db, err, "begin");
    for (size_t i = 0; i < n; i++) {
        const lv_store_op *op = &ops[i];
        sqlite3_stmt *st = op->val ? q->put : q->del;
        /* A NULL pointer would bind SQL NULL; "" binds an empty blob. */
        int brc = sqlite3_bind_blob(st, 1, op->klen ? op->key : "", (int)op->klen, SQLITE_STATIC);
        if (brc == SQLITE_OK && op->val)
            brc = sqlite3_bind_blob(st, 2, op->vlen ? op->val : "", (int)op->vlen, SQLITE_STATIC);
        lv_err rc = brc == SQLITE_OK ? step_reset(st) : LV_E_IO;
        sqlite3_clear_bindings(st);
        if (rc != LV_OK) {
            db_error(q->db, err, op->val ? "put" : "delete");
            step_reset(q->rollback);
            return LV_E_IO;
        }
    }
    if (step_reset(q->commit) != LV_OK) {
        db_error(q->db, err, "commit");
        step_reset(q->rollback);
        return LV_E_IO;
    }
    return LV_OK;
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

const lv_store_ops lv_store_sqlite_ops = {
    .scheme = "sqlite",
    .open = sqlite_open,
    .load = sqlite_load,
    .commit = sqlite_commit,
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
        (rc = exec(q->db, "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID", err)) != LV_OK)
        goto fail;
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (version > SCHEMA_VERSION) {
        rc = lv_error_set(err, LV_E_CORRUPT, "%s was written by a newer lever (schema %d)", location, version);
        goto fail;
    }
    if (version < SCHEMA_VERSION && (rc = exec(q->db, "PRAGMA user_version=1", err)) != LV_OK)
        goto fail;
    if (sqlite3_prepare_v2(q->db, "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)", -1, &q->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db, "DELETE FROM kv WHERE k = ?1", -1, &q->del, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db, "BEGIN IMMEDIATE", -1, &q->begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db, "COMMIT", -1, &q->commit, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db, "ROLLBACK", -1, &q->rollback, NULL) != SQLITE_OK) {
        rc = db_error(q->db, err, "prepare");
        goto fail;
    }
    *out = &q->base;
    return LV_OK;
fail:
    sqlite_close(&q->base);
    return rc;
}
