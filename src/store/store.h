/* store.h - the storage interface every backend implements.
 *
 * A store is an ordered map of byte keys to byte values. It hands back
 * everything at start (in key order), applies a batch of puts and deletes
 * atomically and durably, and, because several nodes may share one store,
 * numbers every commit with a global revision, feeds the records changed
 * after a revision to followers, wakes them when something was committed,
 * and refuses a batch planned against records another node changed first.
 * It knows nothing of parameters, HTTP or AWS: the engine decides what the
 * keys and values are (see core/record.h).
 *
 * Revisions. The store keeps a head revision, 0 in a new store. A commit
 * consumes batch.nrev revisions (at least 1): if the head was H, the
 * commit's revision is R = H + nrev and the new head is R. Every record the
 * commit writes is stamped with R, a deleted record leaves a tombstone
 * stamped with R. Commits are totally ordered by revision and a reader that
 * sees revision R sees every commit below it (no gaps appear later), so a
 * follower that has applied the feed up to R never needs to look below R.
 * Several revisions per commit let the engine give each change of a group
 * commit a revision of its own (H+1 .. R) while the store stamps R.
 *
 * Tombstones are kept for a while (see compact) so that followers and
 * conditional commits can tell that a record went away; the newest
 * revision whose tombstones may be gone is the horizon.
 *
 * Threads: one handle may be used from several threads at once; each
 * backend serialises what must be serialised (commits, the feed, waits use
 * separate connections so a long wait never delays a commit). */
#ifndef LV_STORE_STORE_H
#define LV_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct lv_store lv_store;

/* One change in a batch. val == NULL means delete key. */
typedef struct lv_store_op {
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
} lv_store_op;

/* A record the batch was planned from: the commit fails with LV_E_CONFLICT
 * when key was written (put or deleted) by a commit with a revision above
 * rev. rev is the revision the planner had applied when it read the
 * record (a follower's feed position, or the record's own revision); a
 * record that was absent is checked the same way. */
typedef struct lv_store_cond {
    const void *key;
    size_t klen;
    uint64_t rev;
} lv_store_cond;

/* A batch: ops applied in order (the last op for a key wins), the
 * conditions checked first, in the same transaction. */
typedef struct lv_store_batch {
    const lv_store_op *ops;
    size_t nops;
    const lv_store_cond *conds;
    size_t nconds;
    uint64_t nrev; /* revisions this commit consumes; 0 counts as 1 */
} lv_store_batch;

/* Called once per stored pair, in ascending memcmp order of keys. The
 * pointers are valid only during the call. Returning non-OK stops the load
 * and makes lv_store_load return that code. */
typedef lv_err (*lv_store_load_fn)(void *ctx, const void *key, size_t klen,
                                   const void *val, size_t vlen);

/* Called once per record changed after the feed's start, in ascending
 * (revision, key) order; val == NULL (vlen 0) when the record was deleted.
 * A record written several times since then appears once, with its newest
 * revision and value: the feed hands back state, not history. Pointers are
 * valid only during the call; non-OK stops the feed with that code. */
typedef lv_err (*lv_store_feed_fn)(void *ctx, uint64_t rev, const void *key,
                                   size_t klen, const void *val, size_t vlen);

typedef struct lv_store_ops {
    const char *scheme; /* "sqlite", "postgres" */
    lv_err (*open)(const char *location, lv_store **out, lv_error *err);
    /* *rev (when not NULL) receives the head revision of the snapshot. */
    lv_err (*load)(lv_store *s, lv_store_load_fn fn, void *ctx, uint64_t *rev,
                   lv_error *err);
    lv_err (*commit)(lv_store *s, const lv_store_batch *b, uint64_t *rev,
                     lv_error *err);
    lv_err (*feed)(lv_store *s, uint64_t since, lv_store_feed_fn fn, void *ctx,
                   uint64_t *upto, lv_error *err);
    lv_err (*wait)(lv_store *s, uint64_t since, int timeout_ms, bool *woken,
                   lv_error *err);
    lv_err (*compact)(lv_store *s, uint64_t upto, lv_error *err);
    /* Optional (NULL: none; SQLite has one node): see lv_store_reserve. */
    lv_err (*reserve)(lv_store *s, uint64_t since, uint64_t *head, lv_error *err);
    void (*release)(lv_store *s);
    /* Copies a consistent snapshot of the whole store to path. */
    lv_err (*backup)(lv_store *s, const char *path, lv_error *err);
    void (*close)(lv_store *s);
} lv_store_ops;

/* Every backend struct starts with this. */
struct lv_store {
    const lv_store_ops *ops;
    uint64_t keep; /* tombstones kept this many revisions (set by lv_store_open) */
};

/* Opens the store named by uri and creates or migrates its schema:
 *   "sqlite:/var/lib/lever/lever.db"
 *   "postgres://USER@HOST:PORT/DB" or "postgresql://..." (any libpq URI;
 *   the whole URI goes to libpq).
 * A store whose schema is newer than this binary is refused
 * (LV_E_CORRUPT, "written by a newer lever"). On success *out is owned by
 * the caller and released with lv_store_close(). */
lv_err lv_store_open(const char *uri, lv_store **out, lv_error *err);

/* Feeds every stored pair to fn in key order, from one consistent
 * snapshot. */
lv_err lv_store_load(lv_store *s, lv_store_load_fn fn, void *ctx,
                     lv_error *err);

/* lv_store_load, and *rev receives the head revision of the snapshot it
 * read: the feed from *rev on has everything committed after it. */
lv_err lv_store_load_at(lv_store *s, lv_store_load_fn fn, void *ctx,
                        uint64_t *rev, lv_error *err);

/* Applies all n ops in one transaction (one revision, no conditions):
 * when it returns LV_OK every op is durable (survives power loss /
 * SIGKILL); on error none is applied. Keys within one batch may repeat;
 * the last op for a key wins. */
lv_err lv_store_commit(lv_store *s, const lv_store_op *ops, size_t n,
                       lv_error *err);

/* Checks b's conditions and applies its ops in one durable transaction;
 * *rev (when not NULL) receives the commit's revision. Errors:
 *   LV_E_CONFLICT     a condition failed (another commit wrote one of the
 *                     records after the revision it names, or its
 *                     revision is below the horizon); nothing applied;
 *                     catch up with the feed, re-plan, try again.
 *   LV_E_UNAVAILABLE  the database cannot be reached; nothing applied,
 *                     except when the message says the connection was
 *                     lost during COMMIT, when the outcome is unknown
 *                     (the feed tells). Retry later; the store reconnects
 *                     by itself.
 *   LV_E_TOO_BIG, LV_E_IO, LV_E_NOMEM  nothing applied. */
lv_err lv_store_commit_batch(lv_store *s, const lv_store_batch *b,
                             uint64_t *rev, lv_error *err);

/* Takes the store's commit order for the calling thread's next
 * lv_store_commit_batch on s: until that commit (or lv_store_release) no
 * commit by any node can happen, so a batch planned after reading the
 * feed up to *head (the head now) is not refused for a commit that came
 * in between. Nodes writing at once then take turns instead of refusing
 * each other's batches over and over. The batch's conditions are still
 * checked. since is where the caller's feed stands: the backend may fetch
 * the feed from there along with the order, so that lv_store_feed(since)
 * inside the reservation costs no round trip. Hold it briefly: every
 * node's commits wait meanwhile (the database ends a session idle in a
 * reservation for 2 s; a feed inside it too long to read while the others
 * wait gives the reservation up). LV_E_INTERNAL when the backend has no
 * such order (SQLite: one node), LV_E_UNAVAILABLE when the database cannot
 * be reached. */
lv_err lv_store_reserve(lv_store *s, uint64_t since, uint64_t *head, lv_error *err);
/* Gives up the calling thread's reservation, if it holds one. */
void lv_store_release(lv_store *s);

/* Hands fn every record changed by commits with a revision above since, up
 * to the head of one consistent snapshot, which *upto receives (== since
 * when nothing changed). LV_E_COMPACTED when since is below the horizon:
 * deletions may be missing, so the caller must load again. */
lv_err lv_store_feed(lv_store *s, uint64_t since, lv_store_feed_fn fn,
                     void *ctx, uint64_t *upto, lv_error *err);

/* Waits up to timeout_ms for a commit with a revision above since (by any
 * connection, any node). *woken is true when one may have happened - a
 * notification arrived, or notifications may have been lost (reconnect) -
 * and false on timeout; either way the caller reads the feed (a timeout
 * is the periodic catch-up). LV_E_UNAVAILABLE after the timeout when the
 * database cannot be reached. Not cancellable: keep timeouts short. */
lv_err lv_store_wait(lv_store *s, uint64_t since, int timeout_ms, bool *woken,
                     lv_error *err);

/* Drops the tombstones of commits up to revision upto and raises the
 * horizon to it (never above the head, never down). Backends also do this
 * by themselves for tombstones LV_STORE_TOMBSTONE_KEEP revisions old. */
lv_err lv_store_compact(lv_store *s, uint64_t upto, lv_error *err);

enum { LV_STORE_TOMBSTONE_KEEP = 1000000 };

/* How many revisions the backend keeps tombstones before compacting them
 * by itself (0: LV_STORE_TOMBSTONE_KEEP). A follower further behind than
 * that gets LV_E_COMPACTED from the feed and loads everything again. */
void lv_store_set_tombstone_keep(lv_store *s, uint64_t keep);

/* Commits between a backend's own compactions for a retention of keep
 * revisions: every 256, more often when keep is small. */
unsigned lv_store_compact_every(uint64_t keep);

/* Writes a consistent snapshot to path in the SQLite store format (every
 * backend; `leverd --restore` and "sqlite:path" open it). */
lv_err lv_store_backup(lv_store *s, const char *path, lv_error *err);

/* Copies every pair of src into dst, which must hold no pair, in one
 * commit (all or nothing); used to restore a backup into any backend.
 * LV_E_VALIDATION when dst is not empty, LV_E_CONFLICT when something
 * was written to dst meanwhile. */
lv_err lv_store_import(lv_store *dst, lv_store *src, lv_error *err);

void lv_store_close(lv_store *s);

/* Backends. */
extern const lv_store_ops lv_store_sqlite_ops;
extern const lv_store_ops lv_store_postgres_ops;

#endif
