/* sqlite_schema.h - the SQLite store's file format: creating and migrating
 * its schema, and writing a store file from rows (what every backend's
 * backup produces, so `leverd --restore` reads any of them). */
#ifndef LV_STORE_SQLITE_SCHEMA_H
#define LV_STORE_SQLITE_SCHEMA_H

#include <sqlite3.h>
#include <stdint.h>

#include "core/err.h"

/* user_version of the current format. 1: kv(k, v). 2: kv gains rev,
 * tombstones in gone(k, rev), head(rev, horizon). */
enum { LV_SQLITE_SCHEMA = 2 };

/* Creates the schema in an empty database or migrates an older one, in one
 * transaction; refuses (LV_E_CORRUPT) a file written by a newer lever.
 * what names the file in messages. */
lv_err lv_sqlite_schema_prepare(sqlite3 *db, const char *what, lv_error *err);

/* A store file being written from rows. */
typedef struct lv_snapshot lv_snapshot;

/* Creates a new store file at path (absent or empty; never overwritten) and
 * opens one transaction for the rows. On success *out is owned by the
 * caller until lv_snapshot_finish or lv_snapshot_abort. */
lv_err lv_snapshot_create(const char *path, lv_snapshot **out, lv_error *err);

/* Adds a record (val != NULL) or a tombstone (val == NULL) written at
 * revision rev. */
lv_err lv_snapshot_add(lv_snapshot *w, const void *key, size_t klen,
                       const void *val, size_t vlen, uint64_t rev,
                       lv_error *err);

/* Records the head and horizon, commits durably and releases w, also on
 * error (when the file is removed). */
lv_err lv_snapshot_finish(lv_snapshot *w, uint64_t head, uint64_t horizon,
                          lv_error *err);

/* Releases w and removes the unfinished file. */
void lv_snapshot_abort(lv_snapshot *w);

#endif
