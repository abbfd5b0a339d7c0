/* pg_conn.c - connections of the postgres store: connecting with sane
 * defaults, making sessions durable, and classifying libpq failures. */
#include "store/pg_conn.h"

#include <stdio.h>
#include <string.h>

void pg_conn_init(pg_conn *pc)
{
    pthread_mutex_init(&pc->mu, NULL);
    pc->c = NULL;
    pc->prepared = 0;
}

void pg_conn_destroy(pg_conn *pc)
{
    pg_conn_drop(pc);
    pthread_mutex_destroy(&pc->mu);
}

void pg_conn_lock(pg_conn *pc)
{
    pthread_mutex_lock(&pc->mu);
}

void pg_conn_unlock(pg_conn *pc)
{
    pthread_mutex_unlock(&pc->mu);
}

void pg_conn_drop(pg_conn *pc)
{
    if (pc->c != NULL)
        PQfinish(pc->c);
    pc->c = NULL;
    pc->prepared = 0;
}

static void quiet(void *arg, const char *msg)
{
    (void)arg, (void)msg;
}

/* libpq messages end in a newline and may run over several lines; the
 * first line is the one worth showing. */
static void first_line(char *out, size_t cap, const char *msg)
{
    if (msg == NULL || *msg == '\0')
        msg = "unknown error";
    size_t n = strcspn(msg, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, msg, n);
    out[n] = '\0';
}

static lv_err setup_session(pg_conn *pc, lv_error *err)
{
    /* Durability is the point of a commit: a server (or role) configured
     * with synchronous_commit=off would acknowledge batches a crash then
     * loses. Stronger settings (remote_write, remote_apply) are kept. */
    PGresult *r = PQexec(pc->c, "SELECT current_setting('synchronous_commit')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        lv_err rc = pg_result_error(pc, r, "session", err);
        PQclear(r);
        return rc;
    }
    bool off = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "off") == 0;
    PQclear(r);
    return off ? pg_cmd(pc, "SET synchronous_commit TO on", "session", err) : LV_OK;
}

lv_err pg_conn_ensure(pg_conn *pc, const char *uri, bool *fresh, lv_error *err)
{
    *fresh = false;
    if (pc->c != NULL && PQstatus(pc->c) == CONNECTION_OK)
        return LV_OK;
    pg_conn_drop(pc);
    *fresh = true;
    /* The URI comes last so that what it says wins over these defaults:
     * a bounded connect, keepalives that notice a vanished server. */
    const char *const keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                                "keepalives_count", "fallback_application_name", "dbname", NULL};
    const char *const vals[] = {"5", "1", "30", "10", "3", "leverd", uri, NULL};
    pc->c = PQconnectdbParams(keys, vals, 1);
    if (pc->c == NULL)
        return lv_error_set(err, LV_E_NOMEM, "postgres: out of memory");
    if (PQstatus(pc->c) != CONNECTION_OK) {
        char msg[300];
        first_line(msg, sizeof msg, PQerrorMessage(pc->c));
        pg_conn_drop(pc);
        /* Never the URI itself: it may carry a password. */
        return lv_error_set(err, LV_E_UNAVAILABLE, "postgres: cannot connect (retry later): %s", msg);
    }
    PQsetNoticeProcessor(pc->c, quiet, NULL);
    lv_err rc = setup_session(pc, err);
    if (rc != LV_OK)
        pg_conn_drop(pc);
    return rc;
}

lv_err pg_result_error(pg_conn *pc, PGresult *r, const char *what, lv_error *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[300];
    first_line(msg, sizeof msg, primary ? primary : PQerrorMessage(pc->c));
    bool lost = PQstatus(pc->c) != CONNECTION_OK || (state && strncmp(state, "08", 2) == 0) ||
                (state && strncmp(state, "57P0", 4) == 0);
    if (lost) {
        pg_conn_drop(pc);
        return lv_error_set(err, LV_E_UNAVAILABLE, "postgres: %s: connection lost (retry later): %s", what, msg);
    }
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        return lv_error_set(err, LV_E_CONFLICT, "postgres: %s: %s", what, msg);
    return lv_error_set(err, LV_E_IO, "postgres: %s: %s", what, msg);
}

lv_err pg_cmd(pg_conn *pc, const char *sql, const char *what, lv_error *err)
{
    PGresult *r = PQexec(pc->c, sql);
    ExecStatusType st = PQresultStatus(r);
    lv_err rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? LV_OK : pg_result_error(pc, r, what, err);
    PQclear(r);
    return rc;
}

void pg_pipeline_clear(pg_stmt *st, int n)
{
    for (int i = 0; i < n; i++) {
        PQclear(st[i].res);
        st[i].res = NULL;
    }
}

/* A request that could not be sent in full leaves the protocol in an
 * unknown state: the connection goes. */
static lv_err send_failed(pg_conn *pc, const char *what, lv_error *err)
{
    char msg[300];
    first_line(msg, sizeof msg, PQerrorMessage(pc->c));
    pg_conn_drop(pc);
    return lv_error_set(err, LV_E_UNAVAILABLE, "postgres: %s: connection lost (retry later): %s", what, msg);
}

lv_err pg_pipeline(pg_conn *pc, pg_stmt *st, int n, int *sent, const char *what, lv_error *err)
{
    PGconn *c = pc->c;
    *sent = 0;
    for (int i = 0; i < n; i++)
        st[i].res = NULL;
    for (int i = 0; i < n; i++) {
        if (st[i].id < 0 || st[i].id > 31 || (pc->prepared & (1u << st[i].id)))
            continue;
        char name[16];
        snprintf(name, sizeof name, "lever_s%d", st[i].id);
        PGresult *r = PQprepare(c, name, st[i].sql, st[i].n, NULL);
        lv_err rc = PQresultStatus(r) == PGRES_COMMAND_OK ? LV_OK : pg_result_error(pc, r, what, err);
        PQclear(r);
        if (rc != LV_OK)
            return rc;
        pc->prepared |= 1u << st[i].id;
    }
    if (!PQenterPipelineMode(c))
        return send_failed(pc, what, err);
    for (; *sent < n; (*sent)++) {
        const pg_stmt *s = &st[*sent];
        char name[16];
        snprintf(name, sizeof name, "lever_s%d", s->id);
        if (!(s->id >= 0 && s->id <= 31 ? PQsendQueryPrepared(c, name, s->n, s->vals, s->lens, s->fmts, 1)
                                        : PQsendQueryParams(c, s->sql, s->n, NULL, s->vals, s->lens, s->fmts, 1)))
            return send_failed(pc, what, err);
    }
    if (!PQpipelineSync(c))
        return send_failed(pc, what, err);
    lv_err rc = LV_OK;
    for (int i = 0; i < n; i++) {
        PGresult *r = PQgetResult(c);
        if (r == NULL) /* not in the protocol: the connection is unusable */
            return send_failed(pc, what, err);
        st[i].res = r;
        ExecStatusType stt = PQresultStatus(r);
        if (stt != PGRES_COMMAND_OK && stt != PGRES_TUPLES_OK && stt != PGRES_PIPELINE_ABORTED && rc == LV_OK) {
            rc = pg_result_error(pc, r, what, err);
            if (pc->c == NULL)
                return rc; /* lost and dropped */
        }
        if (PQstatus(c) != CONNECTION_OK)
            return rc != LV_OK ? rc : send_failed(pc, what, err);
        /* Each statement's results end with a NULL. */
        while ((r = PQgetResult(c)) != NULL)
            PQclear(r);
    }
    PGresult *r = PQgetResult(c);
    bool synced = r != NULL && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (!synced || !PQexitPipelineMode(c)) {
        lv_err lost = send_failed(pc, what, rc == LV_OK ? err : NULL);
        return rc != LV_OK ? rc : lost;
    }
    return rc;
}

void pg_rollback(pg_conn *pc)
{
    if (pc->c != NULL && PQstatus(pc->c) == CONNECTION_OK && PQtransactionStatus(pc->c) != PQTRANS_IDLE)
        PQclear(PQexec(pc->c, "ROLLBACK"));
}

uint64_t pg_get_be64(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | u[i];
    return v;
}
