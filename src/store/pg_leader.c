/* pg_leader.c - deployment clock leadership by advisory lock (leader.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/leader.h"
#include "store/pg_conn.h"

enum { MAX_HELD = 256, IDLE_MS = 60000 };

/* The advisory lock space: (LOCK_CLASS, hash of the key). Different from
 * the schema lock, which uses the one-argument form. */
/* The class number is "LVLD" (written out in the statements below). */

typedef struct held {
    char *key;
    int32_t id;
    int64_t asked_ms;
} held;

struct lv_leader {
    char *uri;
    pg_conn c;
    held h[MAX_HELD];
    unsigned n;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int32_t key_id(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int32_t)h;
}

lv_err lv_leader_open(const char *uri, lv_leader **out, lv_error *err)
{
    lv_leader *l = calloc(1, sizeof *l);
    if (l == NULL || (l->uri = strdup(uri)) == NULL) {
        free(l);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    pg_conn_init(&l->c);
    *out = l;
    return LV_OK;
}

static void forget_all(lv_leader *l)
{
    for (unsigned i = 0; i < l->n; i++)
        free(l->h[i].key);
    l->n = 0;
}

/* One boolean query. false on any failure (the connection is dropped). */
static bool ask(lv_leader *l, const char *sql, int32_t id, bool *answer)
{
    char ids[16];
    snprintf(ids, sizeof ids, "%d", (int)id);
    const char *vals[1] = {ids};
    PGresult *r = PQexecParams(l->c.c, sql, 1, NULL, vals, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        *answer = PQgetvalue(r, 0, 0)[0] == 't';
    else {
        lv_error err;
        pg_result_error(&l->c, r, "leader", &err);
        pg_conn_drop(&l->c);
    }
    PQclear(r);
    return ok;
}

bool lv_leader_is(void *ctx, const char *key)
{
    lv_leader *l = ctx;
    pg_conn_lock(&l->c);
    lv_error err;
    bool fresh = false, leader = false;
    if (pg_conn_ensure(&l->c, l->uri, &fresh, &err) != LV_OK) {
        forget_all(l);
        pg_conn_unlock(&l->c);
        return false;
    }
    if (fresh)
        forget_all(l); /* a new session holds nothing */
    int64_t now = mono_ms();
    /* Give back what nobody asked about for a while (finished deployments). */
    for (unsigned i = 0; i < l->n;) {
        bool unlocked;
        if (now - l->h[i].asked_ms > IDLE_MS && strcmp(l->h[i].key, key) != 0) {
            if (!ask(l, "SELECT pg_advisory_unlock(" "1279611204" ", $1::int4)", l->h[i].id, &unlocked)) {
                forget_all(l);
                pg_conn_unlock(&l->c);
                return false;
            }
            free(l->h[i].key);
            l->h[i] = l->h[--l->n];
            continue;
        }
        i++;
    }
    unsigned i = 0;
    while (i < l->n && strcmp(l->h[i].key, key) != 0)
        i++;
    int32_t id = key_id(key);
    if (i < l->n) {
        /* Held: the lock is as alive as the session. */
        bool alive;
        leader = ask(l, "SELECT $1::int4 IS NOT NULL", id, &alive) && alive;
        if (leader)
            l->h[i].asked_ms = now;
        else
            forget_all(l);
    } else if (l->n < MAX_HELD && ask(l, "SELECT pg_try_advisory_lock(" "1279611204" ", $1::int4)", id, &leader) &&
               leader) {
        char *k = strdup(key);
        if (k == NULL) {
            bool unlocked;
            ask(l, "SELECT pg_advisory_unlock(" "1279611204" ", $1::int4)", id, &unlocked);
            leader = false;
        } else {
            l->h[l->n++] = (held){k, id, now};
            fprintf(stderr, "leverd: this node drives the clock of deployment %s\n", key);
        }
    } else if (!l->c.c) {
        forget_all(l);
        leader = false;
    }
    pg_conn_unlock(&l->c);
    return leader;
}

unsigned lv_leader_held(lv_leader *l)
{
    pg_conn_lock(&l->c);
    unsigned n = l->n;
    pg_conn_unlock(&l->c);
    return n;
}

void lv_leader_close(lv_leader *l)
{
    if (l == NULL)
        return;
    forget_all(l);
    pg_conn_drop(&l->c);
    pg_conn_destroy(&l->c);
    free(l->uri);
    free(l);
}
