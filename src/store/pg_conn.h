/* pg_conn.h - one libpq connection of the postgres store, used by one
 * thread at a time, reconnected on demand; and turning libpq failures into
 * lever errors (a lost server is LV_E_UNAVAILABLE, retryable). */
#ifndef LV_STORE_PG_CONN_H
#define LV_STORE_PG_CONN_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef struct pg_conn {
    pthread_mutex_t mu;
    PGconn *c;         /* NULL while disconnected */
    uint32_t prepared; /* pg_stmt ids prepared on c */
} pg_conn;

void pg_conn_init(pg_conn *pc);
void pg_conn_destroy(pg_conn *pc);
void pg_conn_lock(pg_conn *pc);
void pg_conn_unlock(pg_conn *pc);

/* Connects when there is no usable connection (*fresh = true) or keeps
 * the one there is (*fresh = false; it may still turn out to be stale).
 * The session is made durable (synchronous_commit on unless the server
 * asks for more) and quiet (notices dropped). LV_E_UNAVAILABLE when the
 * server cannot be reached. Caller holds the lock. */
lv_err pg_conn_ensure(pg_conn *pc, const char *uri, bool *fresh, lv_error *err);

/* Closes the connection; the next pg_conn_ensure opens a new one. */
void pg_conn_drop(pg_conn *pc);

/* The error of a failed result r (which the caller still clears):
 * LV_E_UNAVAILABLE, dropping the connection, when it is lost or the server
 * is shutting down; LV_E_CONFLICT for serialization failures; else
 * LV_E_IO. The message is libpq's primary message, prefixed by what. */
lv_err pg_result_error(pg_conn *pc, PGresult *r, const char *what, lv_error *err);

/* Runs one statement without parameters that returns no rows (or whose
 * rows are ignored). */
lv_err pg_cmd(pg_conn *pc, const char *sql, const char *what, lv_error *err);

/* Ids of the prepared statements (pg_stmt.id). */
enum {
    PG_STMT_RESERVE = 0, /* postgres.c: the head row, for a reservation */
    PG_STMT_FEED = 1,    /* postgres.c: the feed, with a reservation */
    PG_STMT_COMMIT = 8,  /* pg_batch.c: a commit's statement, 8 shapes (8..15) */
};

/* One statement of a pipeline: binary results, parameters as for
 * PQexecParams (NULL vals when it has none). */
typedef struct pg_stmt {
    const char *sql;
    int id; /* 0..31: prepared once per connection under that id (a
             * statement run often: no parse and plan each time); -1: not */
    int n;
    const char *const *vals;
    const int *lens, *fmts;
    PGresult *res; /* out: its answer (the caller clears it), NULL when none came */
} pg_stmt;

/* Sends the n statements at once and reads their answers (libpq pipeline
 * mode, one sync at the end): one round trip instead of n. The server runs
 * them in order and skips the rest after one fails. LV_OK when every one
 * succeeded; else the first failure, as pg_result_error (a lost connection
 * is dropped). *sent receives how many statements went into the request
 * (a statement at or past it was never sent). Caller holds the lock. */
lv_err pg_pipeline(pg_conn *pc, pg_stmt *st, int n, int *sent, const char *what, lv_error *err);

/* Clears the results of a pipeline. */
void pg_pipeline_clear(pg_stmt *st, int n);

/* Ends any transaction, ignoring errors (the connection may be gone). */
void pg_rollback(pg_conn *pc);

uint64_t pg_get_be64(const char *p);

#endif
