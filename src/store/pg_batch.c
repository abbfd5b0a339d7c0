/* pg_batch.c - committing a store batch to PostgreSQL: the last op per key,
 * binary array parameters, and the statements of one commit. */
#include "store/pg_batch.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type oids of the array elements (fixed in PostgreSQL's catalog). */
enum { OID_BYTEA = 17, OID_INT8 = 20 };

/* Arrays travel as one parameter each; libpq takes int lengths and the
 * server refuses messages over 1 GiB. */
#define ARRAY_MAX ((size_t)1 << 30)

static lv_err put_be32(lv_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    return lv_buf_append(b, x, 4);
}

static lv_err put_be64(lv_buf *b, uint64_t v)
{
    lv_err rc = put_be32(b, (uint32_t)(v >> 32));
    return rc == LV_OK ? put_be32(b, (uint32_t)v) : rc;
}

/* The binary array header (array_recv): one dimension of n elements. */
static lv_err arr_begin(lv_buf *b, size_t n, uint32_t oid)
{
    b->max = ARRAY_MAX;
    lv_err rc = put_be32(b, 1);
    if (rc == LV_OK)
        rc = put_be32(b, 0); /* no NULLs */
    if (rc == LV_OK)
        rc = put_be32(b, oid);
    if (rc == LV_OK)
        rc = put_be32(b, (uint32_t)n);
    if (rc == LV_OK)
        rc = put_be32(b, 1); /* lower bound */
    return rc;
}

static lv_err arr_bytes(lv_buf *b, const void *p, size_t n)
{
    if (n > ARRAY_MAX)
        return LV_E_TOO_BIG;
    lv_err rc = put_be32(b, (uint32_t)n);
    return rc == LV_OK && n > 0 ? lv_buf_append(b, p, n) : rc;
}

static lv_err arr_int8(lv_buf *b, uint64_t v)
{
    lv_err rc = put_be32(b, 8);
    return rc == LV_OK ? put_be64(b, v) : rc;
}

typedef struct slot {
    const lv_store_op *op;
    size_t idx;
} slot;

static int slot_cmp(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    size_t n = x->op->klen < y->op->klen ? x->op->klen : y->op->klen;
    int c = n ? memcmp(x->op->key, y->op->key, n) : 0;
    if (c != 0)
        return c;
    if (x->op->klen != y->op->klen)
        return x->op->klen < y->op->klen ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void pg_batch_free(pg_batch *pb)
{
    lv_buf_free(&pb->put_k);
    lv_buf_free(&pb->put_v);
    lv_buf_free(&pb->del_k);
    lv_buf_free(&pb->cond_k);
    lv_buf_free(&pb->cond_r);
}

lv_err pg_batch_encode(pg_batch *pb, const lv_store_batch *b, lv_error *err)
{
    memset(pb, 0, sizeof *pb);
    pb->nrev = b->nrev ? b->nrev : 1;
    pb->conds = b->conds;
    pb->ncond = b->nconds;
    pb->min_cond_rev = UINT64_MAX;
    if (pb->nrev > INT64_MAX / 2)
        return lv_error_set(err, LV_E_VALIDATION, "postgres: too many revisions for one commit");
    /* Sizes first: nothing is read from an op that is too large. */
    size_t total = 0;
    for (size_t i = 0; i < b->nops; i++) {
        const lv_store_op *op = &b->ops[i];
        if (op->klen > ARRAY_MAX || (op->val && op->vlen > ARRAY_MAX))
            return lv_error_set(err, LV_E_TOO_BIG, "postgres: key or value of op %zu too large", i);
        if (op->key == NULL && op->klen > 0)
            return lv_error_set(err, LV_E_INTERNAL, "postgres: op %zu has a NULL buffer", i);
        total += op->klen + (op->val ? op->vlen : 0) + 8;
        if (total > ARRAY_MAX)
            return lv_error_set(err, LV_E_TOO_BIG, "postgres: batch larger than %zu bytes", ARRAY_MAX);
    }
    for (size_t i = 0; i < b->nconds; i++)
        if (b->conds[i].klen > ARRAY_MAX || (b->conds[i].key == NULL && b->conds[i].klen > 0))
            return lv_error_set(err, LV_E_TOO_BIG, "postgres: key of condition %zu unusable", i);
    lv_err rc = LV_OK;
    slot *sl = NULL;
    if (b->nops > 0) {
        if ((sl = malloc(b->nops * sizeof *sl)) == NULL)
            return lv_error_set(err, LV_E_NOMEM, "out of memory");
        for (size_t i = 0; i < b->nops; i++)
            sl[i] = (slot){&b->ops[i], i};
        qsort(sl, b->nops, sizeof *sl, slot_cmp);
        /* The last op of each run of one key wins. */
        for (size_t i = 0; i < b->nops; i++)
            if (i + 1 == b->nops || slot_cmp(&(slot){sl[i].op, 0}, &(slot){sl[i + 1].op, 0}) != 0) {
                if (sl[i].op->val)
                    pb->nput++;
                else
                    pb->ndel++;
            }
        if (pb->nput && (rc = arr_begin(&pb->put_k, pb->nput, OID_BYTEA)) == LV_OK)
            rc = arr_begin(&pb->put_v, pb->nput, OID_BYTEA);
        if (rc == LV_OK && pb->ndel)
            rc = arr_begin(&pb->del_k, pb->ndel, OID_BYTEA);
        for (size_t i = 0; rc == LV_OK && i < b->nops; i++) {
            if (i + 1 < b->nops && slot_cmp(&(slot){sl[i].op, 0}, &(slot){sl[i + 1].op, 0}) == 0)
                continue;
            const lv_store_op *op = sl[i].op;
            if (op->val) {
                rc = arr_bytes(&pb->put_k, op->key, op->klen);
                if (rc == LV_OK)
                    rc = arr_bytes(&pb->put_v, op->val, op->vlen);
            } else {
                rc = arr_bytes(&pb->del_k, op->key, op->klen);
            }
        }
        free(sl);
    }
    if (rc == LV_OK && b->nconds) {
        if ((rc = arr_begin(&pb->cond_k, b->nconds, OID_BYTEA)) == LV_OK)
            rc = arr_begin(&pb->cond_r, b->nconds, OID_INT8);
        for (size_t i = 0; rc == LV_OK && i < b->nconds; i++) {
            const lv_store_cond *c = &b->conds[i];
            if (c->rev < pb->min_cond_rev)
                pb->min_cond_rev = c->rev;
            rc = arr_bytes(&pb->cond_k, c->key, c->klen);
            if (rc == LV_OK)
                rc = arr_int8(&pb->cond_r, c->rev > INT64_MAX ? INT64_MAX : c->rev);
        }
    }
    if (rc != LV_OK) {
        pg_batch_free(pb);
        return lv_error_set(err, rc, rc == LV_E_NOMEM ? "out of memory" : "postgres: batch too large");
    }
    return LV_OK;
}

/* Runs sql with params (binary arrays and text numbers), no rows wanted
 * unless out is given. */
static lv_err run(pg_conn *pc, const char *sql, int n, const char *const *vals, const int *lens, const int *fmts,
                  PGresult **out, const char *what, lv_error *err)
{
    PGresult *r = PQexecParams(pc->c, sql, n, NULL, vals, lens, fmts, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        lv_err rc = pg_result_error(pc, r, what, err);
        PQclear(r);
        return rc;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return LV_OK;
}

static void key_label(char *out, size_t cap, const char *k, size_t klen)
{
    size_t n = 0;
    for (size_t i = 0; i < klen && n + 5 < cap; i++) {
        unsigned char ch = (unsigned char)k[i];
        n += (size_t)snprintf(out + n, cap - n, ch >= 0x20 && ch < 0x7f ? "%c" : "\\x%02x", ch);
    }
    out[n] = '\0';
}

lv_err pg_compact_locked(pg_conn *pc, uint64_t upto, lv_error *err)
{
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)upto);
    const char *vals[1] = {n};
    lv_err rc = run(pc, "DELETE FROM lever_gone WHERE rev <= $1::int8", 1, vals, NULL, NULL, NULL, "compact", err);
    if (rc == LV_OK)
        rc = run(pc, "UPDATE lever_head SET horizon = $1::int8 WHERE id = 1 AND horizon < $1::int8", 1, vals, NULL,
                 NULL, NULL, "compact", err);
    return rc;
}

/* The one statement of a commit (see run_batch) into sql, its parameters
 * into vals/lens/fmts; *ck tells whether it checks conditions. */
static lv_err batch_sql(const pg_batch *pb, lv_buf *sql, const char **vals, int *lens, int *fmts, int *np,
                        bool *ck, char *nrev, size_t nrev_cap)
{
    snprintf(nrev, nrev_cap, "%llu", (unsigned long long)pb->nrev);
    *np = 0;
    vals[*np] = nrev, lens[*np] = 0, fmts[(*np)++] = 0;
    lv_err rc = lv_buf_puts(sql, "WITH ");
    *ck = pb->ncond > 0;
    if (rc == LV_OK && *ck) {
        /* A condition fails when its record changed after its revision, or
         * when the revision is below the horizon (its tombstones may be
         * gone): the first such condition. */
        int k = *np + 1;
        vals[*np] = pb->cond_k.data, lens[*np] = (int)pb->cond_k.len, fmts[(*np)++] = 1;
        vals[*np] = pb->cond_r.data, lens[*np] = (int)pb->cond_r.len, fmts[(*np)++] = 1;
        rc = lv_buf_printf(sql,
                           "c AS (SELECT c.k, greatest(kv.rev, g.rev) AS at, c.r, hz.horizon FROM unnest($%d::bytea[], "
                           "$%d::int8[]) AS c(k, r) CROSS JOIN (SELECT horizon FROM lever_head WHERE id = 1) hz "
                           "LEFT JOIN lever_kv kv ON kv.k = c.k LEFT JOIN lever_gone g ON g.k = c.k "
                           "WHERE kv.rev > c.r OR g.rev > c.r OR c.r < hz.horizon LIMIT 1), ",
                           k, k + 1);
    }
    /* Nothing is written, the head included, when a condition failed: the
     * COMMIT sent along with the statement then commits nothing. */
    if (rc == LV_OK)
        rc = lv_buf_printf(sql, "h AS (UPDATE lever_head SET rev = rev + $1::int8 WHERE id = 1%s RETURNING rev, horizon)",
                           *ck ? " AND NOT EXISTS (SELECT 1 FROM c)" : "");
    if (rc == LV_OK && pb->nput) {
        vals[*np] = pb->put_k.data, lens[*np] = (int)pb->put_k.len, fmts[(*np)++] = 1;
        vals[*np] = pb->put_v.data, lens[*np] = (int)pb->put_v.len, fmts[(*np)++] = 1;
        rc = lv_buf_printf(sql,
                           ", p AS (SELECT k, v FROM unnest($%d::bytea[], $%d::bytea[]) AS t(k, v)), "
                           "pg AS (DELETE FROM lever_gone WHERE k IN (SELECT k FROM p) AND EXISTS (SELECT 1 FROM h)), "
                           "pi AS (INSERT INTO lever_kv(k, v, rev) SELECT p.k, p.v, h.rev FROM p CROSS JOIN h "
                           "ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, rev = EXCLUDED.rev)",
                           *np - 1, *np);
    }
    if (rc == LV_OK && pb->ndel) {
        /* Only a record that existed leaves a tombstone. */
        vals[*np] = pb->del_k.data, lens[*np] = (int)pb->del_k.len, fmts[(*np)++] = 1;
        rc = lv_buf_printf(sql,
                           ", d AS (DELETE FROM lever_kv WHERE k = ANY($%d::bytea[]) AND EXISTS (SELECT 1 FROM h) "
                           "RETURNING k), "
                           "dg AS (INSERT INTO lever_gone(k, rev) SELECT d.k, h.rev FROM d CROSS JOIN h "
                           "ON CONFLICT (k) DO UPDATE SET rev = EXCLUDED.rev)",
                           *np);
    }
    if (rc == LV_OK)
        rc = lv_buf_printf(sql,
                           ", n AS (SELECT pg_notify('lever_commit', h.rev::text) FROM h) "
                           "SELECT h.rev, h.horizon, %s, (SELECT count(*) FROM n) FROM (SELECT 1) AS one "
                           "LEFT JOIN h ON true%s",
                           *ck ? "c.k, c.at, c.r, c.horizon" : "NULL::bytea, NULL::int8, NULL::int8, NULL::int8",
                           *ck ? " LEFT JOIN c ON true" : "");
    return rc;
}

/* The commit statement's answer: the revision, or the failed condition. */
static lv_err batch_answer(const pg_batch *pb, PGresult *r, uint64_t *rev, lv_error *err)
{
    (void)pb;
    if (PQntuples(r) != 1)
        return lv_error_set(err, LV_E_CORRUPT, "postgres: lever_head has no row");
    if (!PQgetisnull(r, 0, 2)) {
        char label[96];
        key_label(label, sizeof label, PQgetvalue(r, 0, 2), (size_t)PQgetlength(r, 0, 2));
        uint64_t cr = pg_get_be64(PQgetvalue(r, 0, 4)), hz = pg_get_be64(PQgetvalue(r, 0, 5));
        if (!PQgetisnull(r, 0, 3) && pg_get_be64(PQgetvalue(r, 0, 3)) > cr)
            return lv_error_set(err, LV_E_CONFLICT, "postgres: %s changed at revision %llu, after revision %llu",
                                label, (unsigned long long)pg_get_be64(PQgetvalue(r, 0, 3)),
                                (unsigned long long)cr);
        return lv_error_set(err, LV_E_CONFLICT, "postgres: %s: revision %llu is below the horizon %llu", label,
                            (unsigned long long)cr, (unsigned long long)hz);
    }
    if (PQgetisnull(r, 0, 0) || PQgetlength(r, 0, 0) != 8)
        return lv_error_set(err, LV_E_CORRUPT, "postgres: lever_head has no row");
    *rev = pg_get_be64(PQgetvalue(r, 0, 0));
    return LV_OK;
}

/* Compaction inside a commit, after its statement: the head is the new
 * one (the commit's own). A refused batch compacts as well (harmless). */
static const char COMPACT_GONE[] =
    "DELETE FROM lever_gone WHERE rev <= (SELECT rev FROM lever_head WHERE id = 1) - $1::int8";
static const char COMPACT_HEAD[] =
    "UPDATE lever_head SET horizon = rev - $1::int8 WHERE id = 1 AND horizon < rev - $1::int8";

static lv_err run_batch(pg_conn *pc, const pg_batch *pb, uint64_t keep, uint64_t *rev_out, bool *sent_commit,
                        bool in_tx, lv_error *err)
{
    /* The head row first, in a statement of its own: the statement below
     * then takes its snapshot after every earlier commit (one that waited
     * for the row inside itself would check the conditions against a
     * snapshot from before the commit it waited for). A reservation holds
     * it already. Its own round trip also shows that the connection works
     * (a stale one, e.g. after a server restart, fails here, when nothing
     * was sent that could commit, and is retried). */
    lv_err rc = in_tx ? LV_OK : pg_cmd(pc, "BEGIN; SELECT 1 FROM lever_head WHERE id = 1 FOR UPDATE", "begin", err);
    if (rc != LV_OK)
        return rc;
    /* One statement, sent with the compaction (when due) and COMMIT: one
     * round trip while every node's commits wait. Taking the head row
     * orders every commit of every node (the next one waits until this one
     * is committed and visible, so revisions become visible in order and a
     * follower never skips one); the conditions read the state before this
     * batch (a statement's parts share one snapshot); puts, deletes and the
     * notification use the new head. Puts and deletes never touch the same
     * key (one op per key). */
    const char *vals[6];
    int lens[6], fmts[6], np;
    bool ck;
    char nrev[24], kp[24];
    lv_buf sql = LV_BUF_INIT;
    if (batch_sql(pb, &sql, vals, lens, fmts, &np, &ck, nrev, sizeof nrev) != LV_OK) {
        lv_buf_free(&sql);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    snprintf(kp, sizeof kp, "%llu", (unsigned long long)keep);
    const char *kv[1] = {kp};
    pg_stmt st[4];
    int n = 0;
    /* Prepared once per shape (conditions, puts, deletes) and connection. */
    int shape = PG_STMT_COMMIT + (ck ? 4 : 0) + (pb->nput ? 2 : 0) + (pb->ndel ? 1 : 0);
    st[n++] = (pg_stmt){sql.data, shape, np, vals, lens, fmts, NULL};
    if (keep > 0) {
        st[n++] = (pg_stmt){COMPACT_GONE, -1, 1, kv, NULL, NULL, NULL};
        st[n++] = (pg_stmt){COMPACT_HEAD, -1, 1, kv, NULL, NULL, NULL};
    }
    int commit_at = n, sent = 0;
    st[n++] = (pg_stmt){"COMMIT", -1, 0, NULL, NULL, NULL, NULL};
    rc = pg_pipeline(pc, st, n, &sent, "commit", err);
    lv_buf_free(&sql);
    bool committed = st[commit_at].res && PQresultStatus(st[commit_at].res) == PGRES_COMMAND_OK;
    uint64_t rev = 0;
    if (committed) {
        rc = batch_answer(pb, st[0].res, &rev, err);
    } else if (rc == LV_E_UNAVAILABLE && sent > commit_at) {
        /* Lost with COMMIT on its way: applied or not, the feed tells;
         * except when the server had ended the session before (it reports
         * that first, and runs nothing after it). */
        const char *state = st[0].res ? PQresultErrorField(st[0].res, PG_DIAG_SQLSTATE) : NULL;
        if (state == NULL || strcmp(state, "25P03") != 0) {
            *sent_commit = true;
            lv_error_set(err, LV_E_UNAVAILABLE,
                         "postgres: connection lost during COMMIT: the batch may or may not be applied (the feed "
                         "tells)");
        }
    } else if (rc == LV_OK) {
        rc = lv_error_set(err, LV_E_IO, "postgres: commit: COMMIT did not succeed");
    }
    pg_pipeline_clear(st, n);
    if (rc != LV_OK)
        return rc;
    if (rev_out)
        *rev_out = rev;
    return LV_OK;
}

lv_err pg_batch_run(pg_conn *pc, const pg_batch *pb, uint64_t keep, uint64_t *rev, bool *sent_commit, lv_error *err)
{
    *sent_commit = false;
    lv_err rc = run_batch(pc, pb, keep, rev, sent_commit, false, err);
    if (rc != LV_OK)
        pg_rollback(pc);
    return rc;
}

lv_err pg_batch_run_in_tx(pg_conn *pc, const pg_batch *pb, uint64_t keep, uint64_t *rev, bool *sent_commit,
                          lv_error *err)
{
    *sent_commit = false;
    lv_err rc = run_batch(pc, pb, keep, rev, sent_commit, true, err);
    if (rc != LV_OK)
        pg_rollback(pc);
    return rc;
}
