/* sqlite_schema.c - the SQLite store's schema and its migrations, and the
 * writer of store files that the other backends' backups use. */
#include "store/sqlite_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* migrations[i] takes a file from user_version i to i + 1. Never edit a
 * shipped step: add one. */
static const char *const migrations[LV_SQLITE_SCHEMA] = {
    "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;",
    /* Revisions for the change feed and conditional commits; tombstones
     * live apart so kv keeps holding exactly the live pairs. */
    "ALTER TABLE kv ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX kv_rev ON kv(rev);"
    "CREATE TABLE gone(k BLOB PRIMARY KEY, rev INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX gone_rev ON gone(rev);"
    "CREATE TABLE head(id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL, horizon INTEGER NOT NULL);"
    "INSERT INTO head(id, rev, horizon) VALUES(1, 0, 0);",
};

static lv_err exec(sqlite3 *db, const char *sql, const char *what, lv_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        lv_err rc = lv_error_set(err, LV_E_IO, "sqlite: %s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return rc;
    }
    return LV_OK;
}

static int int_query(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

lv_err lv_sqlite_schema_prepare(sqlite3 *db, const char *what, lv_error *err)
{
    /* The write lock first, so two processes opening one new file do not
     * both migrate it. */
    lv_err rc = exec(db, "BEGIN IMMEDIATE", what, err);
    if (rc != LV_OK)
        return rc;
    int version = int_query(db, "PRAGMA user_version");
    if (version < 0) {
        rc = lv_error_set(err, LV_E_IO, "sqlite: %s: %s", what, sqlite3_errmsg(db));
    } else if (version > LV_SQLITE_SCHEMA) {
        rc = lv_error_set(err, LV_E_CORRUPT,
                          "%s was written by a newer lever (schema %d, this binary knows up to %d); upgrade leverd",
                          what, version, LV_SQLITE_SCHEMA);
    } else {
        for (int v = version; rc == LV_OK && v < LV_SQLITE_SCHEMA; v++)
            rc = exec(db, migrations[v], what, err);
        if (rc == LV_OK && version < LV_SQLITE_SCHEMA) {
            char sql[40];
            snprintf(sql, sizeof sql, "PRAGMA user_version=%d", LV_SQLITE_SCHEMA);
            rc = exec(db, sql, what, err);
        }
    }
    if (rc == LV_OK)
        return exec(db, "COMMIT", what, err);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

struct lv_snapshot {
    sqlite3 *db;
    sqlite3_stmt *put, *tomb;
    char *path;
};

static void snapshot_free(lv_snapshot *w, int remove_file)
{
    sqlite3_finalize(w->put);
    sqlite3_finalize(w->tomb);
    sqlite3_close(w->db);
    if (remove_file && w->path)
        unlink(w->path);
    free(w->path);
    free(w);
}

void lv_snapshot_abort(lv_snapshot *w)
{
    if (w != NULL)
        snapshot_free(w, 1);
}

lv_err lv_snapshot_create(const char *path, lv_snapshot **out, lv_error *err)
{
    *out = NULL;
    /* An empty file is welcome (callers create it with the mode they
     * want); anything else is never overwritten. */
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size > 0)
        return lv_error_set(err, LV_E_VALIDATION, "%s already exists; a backup never replaces a file", path);
    lv_snapshot *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = strdup(path)) == NULL) {
        free(w);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    lv_err rc;
    if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = lv_error_set(err, LV_E_IO, "sqlite: %s: %s", path, w->db ? sqlite3_errmsg(w->db) : "out of memory");
        /* Nothing of ours to remove when the file could not be created. */
        free(w->path);
        w->path = NULL;
        snapshot_free(w, 0);
        return rc;
    }
    if ((rc = exec(w->db, "PRAGMA synchronous=FULL", path, err)) != LV_OK ||
        (rc = lv_sqlite_schema_prepare(w->db, path, err)) != LV_OK ||
        (rc = exec(w->db, "BEGIN", path, err)) != LV_OK)
        goto fail;
    if (sqlite3_prepare_v2(w->db, "INSERT INTO kv(k, v, rev) VALUES(?1, ?2, ?3)", -1, &w->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "INSERT INTO gone(k, rev) VALUES(?1, ?2)", -1, &w->tomb, NULL) != SQLITE_OK) {
        rc = lv_error_set(err, LV_E_IO, "sqlite: %s: %s", path, sqlite3_errmsg(w->db));
        goto fail;
    }
    *out = w;
    return LV_OK;
fail:
    snapshot_free(w, 1);
    return rc;
}

lv_err lv_snapshot_add(lv_snapshot *w, const void *key, size_t klen, const void *val, size_t vlen, uint64_t rev,
                       lv_error *err)
{
    if (klen > 0x7fffffff || vlen > 0x7fffffff || rev > INT64_MAX)
        return lv_error_set(err, LV_E_TOO_BIG, "sqlite: record too large for a backup");
    sqlite3_stmt *st = val ? w->put : w->tomb;
    int r = sqlite3_bind_blob(st, 1, klen ? key : "", (int)klen, SQLITE_STATIC);
    if (r == SQLITE_OK && val)
        r = sqlite3_bind_blob(st, 2, vlen ? val : "", (int)vlen, SQLITE_STATIC);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(st, val ? 3 : 2, (sqlite3_int64)rev);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r != SQLITE_DONE)
        return lv_error_set(err, LV_E_IO, "sqlite: %s: %s", w->path, sqlite3_errmsg(w->db));
    return LV_OK;
}

lv_err lv_snapshot_finish(lv_snapshot *w, uint64_t head, uint64_t horizon, lv_error *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE head SET rev = %llu, horizon = %llu WHERE id = 1", (unsigned long long)head,
             (unsigned long long)horizon);
    lv_err rc = exec(w->db, sql, w->path, err);
    if (rc == LV_OK)
        rc = exec(w->db, "COMMIT", w->path, err);
    snapshot_free(w, rc != LV_OK);
    return rc;
}
