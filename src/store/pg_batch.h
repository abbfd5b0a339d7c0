/* pg_batch.h - a store batch as PostgreSQL sees it: ops reduced to the last
 * op per key, split into puts and deletes, encoded as binary arrays so a
 * batch of any size is a handful of statements in one transaction. */
#ifndef LV_STORE_PG_BATCH_H
#define LV_STORE_PG_BATCH_H

#include "core/buf.h"
#include "store/pg_conn.h"
#include "store/store.h"

typedef struct pg_batch {
    lv_buf put_k, put_v, del_k, cond_k, cond_r; /* binary arrays */
    size_t nput, ndel, ncond;
    uint64_t nrev, min_cond_rev;
    const lv_store_cond *conds;
} pg_batch;

/* Encodes b into *out (released with pg_batch_free, also after errors). */
lv_err pg_batch_encode(pg_batch *out, const lv_store_batch *b, lv_error *err);
void pg_batch_free(pg_batch *pb);

/* Runs the batch as one transaction on pc: takes the head (which orders
 * all commits), checks the conditions, writes, notifies lever_commit,
 * drops tombstones older than keep revisions when keep > 0, commits.
 * *sent_commit tells whether COMMIT went out: a connection lost after
 * that leaves the outcome unknown. *rev receives the commit's revision. */
lv_err pg_batch_run(pg_conn *pc, const pg_batch *pb, uint64_t keep, uint64_t *rev, bool *sent_commit,
                    lv_error *err);
/* The same inside a transaction the caller began (a reservation). */
lv_err pg_batch_run_in_tx(pg_conn *pc, const pg_batch *pb, uint64_t keep, uint64_t *rev, bool *sent_commit,
                          lv_error *err);

/* Drops tombstones up to upto and raises the horizon (inside the caller's
 * transaction, head row locked). */
lv_err pg_compact_locked(pg_conn *pc, uint64_t upto, lv_error *err);

#endif
