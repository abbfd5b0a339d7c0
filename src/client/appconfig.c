/* appconfig.c - liblever's AppConfig configurations: the configuration
 * objects, the per-handle state and its entries, and GetConfiguration reads
 * (names or ids) through the cache with the getters' TTL and stale-if-error
 * rules. The fetches are acfetch.c's, the watch and subscriptions
 * acwatch.c's, the generic signed REST call rest.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "client/appconfig_int.h"

enum { RETRY_AFTER_MS = 1000 }; /* no refresh for this long after a failure */

/* ------------------------------------------------------------ objects */

const char *lever_configuration_data(const lever_configuration *cfg, size_t *len)
{
    if (len)
        *len = cfg->len;
    return cfg->data;
}

const char *lever_configuration_content_type(const lever_configuration *cfg) { return cfg->ctype; }
const char *lever_configuration_version(const lever_configuration *cfg) { return cfg->version; }
bool lvc_ac_cfg_stored(const lever_configuration *cfg) { return cfg->stored; }
uint64_t lvc_ac_cfg_gen(const lever_configuration *cfg) { return cfg->gen; }

void lever_configuration_free(lever_configuration *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->data);
    free(cfg);
}

static lever_configuration *copy_cfg(const lever_configuration *src)
{
    lever_configuration *o = malloc(sizeof *o);
    if (o == NULL)
        return NULL;
    *o = *src;
    o->data = malloc(src->len + 1);
    if (o->data == NULL) {
        free(o);
        return NULL;
    }
    memcpy(o->data, src->data ? src->data : "", src->len);
    o->data[src->len] = '\0';
    return o;
}

/* Caller holds mu. What the handle's client id is served from e. */
const lever_configuration *lvc_ac_side_for(const centry *e, const char *client_id)
{
    if (!e->ro.active || e->from.data == NULL)
        return &e->cur;
    return lvc_rollout_is_to(&e->ro, client_id) ? &e->cur : &e->from;
}

/* Caller holds mu. A copy of what the client id is served from e, marked
 * with e's generation. */
lever_configuration *lvc_ac_copy_served(const struct lvc_ac *a, const centry *e)
{
    lever_configuration *o = copy_cfg(lvc_ac_side_for(e, a->client_id));
    if (o)
        o->gen = e->gen;
    return o;
}

/* -------------------------------------------------------------- state */

struct lvc_ac *lvc_ac_state(lever *c)
{
    struct lvc_ac **slot = lvc_h_ac_slot(c);
    /* created under the handle's first configuration call; the slot is
     * only ever set once, guarded by a process-wide lock */
    static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&init_mu);
    struct lvc_ac *a = *slot;
    if (a == NULL && (a = calloc(1, sizeof *a)) != NULL) {
        pthread_mutex_init(&a->mu, NULL);
        pthread_mutex_init(&a->net_mu, NULL);
        pthread_mutex_init(&a->cb_mu, NULL);
        pthread_cond_init(&a->cv, NULL);
        a->conn = lvc_conn_new();
        a->next_id = 1;
        const char *id = lvc_h_client_id(c);
        unsigned char rnd[12] = {0};
        if (id) {
            snprintf(a->client_id, sizeof a->client_id, "%s", id);
        } else {
            if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
                memset(rnd, 0, sizeof rnd);
            char *p = a->client_id + snprintf(a->client_id, sizeof a->client_id, "liblever-");
            for (size_t i = 0; i < sizeof rnd; i++)
                p += snprintf(p, 3, "%02x", rnd[i]);
        }
        if (a->conn == NULL) {
            pthread_mutex_destroy(&a->mu);
            pthread_mutex_destroy(&a->net_mu);
            pthread_mutex_destroy(&a->cb_mu);
            pthread_cond_destroy(&a->cv);
            free(a);
            a = NULL;
        }
        *slot = a;
    }
    pthread_mutex_unlock(&init_mu);
    return a;
}

void lvc_ac_close(lever *c)
{
    struct lvc_ac *a = *lvc_h_ac_slot(c);
    if (a == NULL)
        return;
    if (a->thread_started) {
        atomic_store(&a->stopping, true);
        lvc_conn_interrupt(a->wconn);
        pthread_mutex_lock(&a->mu);
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
    }
    for (size_t i = 0; i < a->n; i++) {
        free(a->ents[i]->key);
        free(a->ents[i]->cur.data);
        free(a->ents[i]->from.data);
        free(a->ents[i]);
    }
    free(a->ents);
    for (size_t i = 0; i < a->nsubs; i++)
        free(a->subs[i].key);
    free(a->subs);
    lvc_conn_free(a->conn);
    lvc_conn_free(a->wconn);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->net_mu);
    pthread_mutex_destroy(&a->cb_mu);
    pthread_cond_destroy(&a->cv);
    free(a);
    *lvc_h_ac_slot(c) = NULL;
}

/* The served and the stored form of one profile are two entries. */
char *lvc_ac_key(const char *app, const char *env, const char *profile, bool stored)
{
    size_t n = strlen(app) + strlen(env) + strlen(profile) + 5;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%s\n%s\n%s\n%s", app, env, profile, stored ? "s" : "");
    return k;
}

static bool name_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) >= LVC_AC_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '/')
            return false;
    return true;
}

/* Caller holds mu. */
centry *lvc_ac_find(struct lvc_ac *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->ents[i]->key, key) == 0)
            return a->ents[i];
    return NULL;
}

/* Caller holds mu. */
centry *lvc_ac_get_or_add(struct lvc_ac *a, const char *app, const char *env, const char *profile, bool stored,
                          const char *key)
{
    centry *e = lvc_ac_find(a, key);
    if (e)
        return e;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 8;
        centry **ne = realloc(a->ents, nc * sizeof *ne);
        if (ne == NULL)
            return NULL;
        a->ents = ne;
        a->cap = nc;
    }
    if ((e = calloc(1, sizeof *e)) == NULL || (e->key = strdup(key)) == NULL) {
        free(e);
        return NULL;
    }
    snprintf(e->app, sizeof e->app, "%s", app);
    snprintf(e->env, sizeof e->env, "%s", env);
    snprintf(e->profile, sizeof e->profile, "%s", profile);
    e->stored = stored;
    a->ents[a->n++] = e;
    return e;
}

/* ------------------------------------------------------------- reading */

lever_status lever_get_configuration(lever *c, const char *app, const char *env, const char *profile,
                                     lever_configuration **out, lever_source *src)
{
    *out = NULL;
    return lvc_ac_read(c, app, env, profile, false, 0, out, src);
}

lever_status lvc_ac_read(lever *c, const char *app, const char *env, const char *profile, bool stored,
                         uint64_t have_gen, lever_configuration **out, lever_source *src)
{
    *out = NULL;
    if (!name_ok(app) || !name_ok(env) || !name_ok(profile))
        return lvc_h_fail(c, LEVER_E_INVALID, "application, environment and profile must be 1-255 bytes "
                                              "without '/' or control characters");
    struct lvc_ac *a = lvc_ac_state(c);
    char *key = a ? lvc_ac_key(app, env, profile, stored) : NULL;
    if (key == NULL)
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    lvc_h_settings set;
    lvc_h_get_settings(c, &set);
    lever_source from = LEVER_SRC_CACHE;
    lever_status st = LEVER_OK;
    char err[1024] = "";
    pthread_mutex_lock(&a->mu);
    int64_t now = lvc_h_now(c);
    centry *e = lvc_ac_find(a, key);
    bool fresh = e && e->cur.data &&
                 ((e->watched && a->watching) || (set.ttl_ms > 0 && now - e->fetched < set.ttl_ms));
    bool backoff = e && e->cur.data && now < a->retry_at;
    if (fresh || backoff) {
        from = fresh ? LEVER_SRC_CACHE : LEVER_SRC_CACHE_STALE;
        if (have_gen != 0 && have_gen == e->gen) { /* the caller holds this one */
            pthread_mutex_unlock(&a->mu);
            free(key);
            if (src)
                *src = from;
            return LEVER_OK;
        }
        *out = lvc_ac_copy_served(a, e);
        pthread_mutex_unlock(&a->mu);
        goto done;
    }
    pthread_mutex_unlock(&a->mu);

    lvc_raw r;
    bool changed;
    st = lvc_ac_sync_entry(c, a, a->conn, &a->net_mu, app, env, profile, stored, key, true, &changed, out, &r,
                           err, sizeof err);
    pthread_mutex_lock(&a->mu);
    e = lvc_ac_find(a, key);
    if (st == LEVER_OK) {
        a->retry_at = 0;
        if (e && set.live)
            e->watched = true;
        from = LEVER_SRC_STORE;
    } else if (lvc_ac_outage(st, &r) && e && e->cur.data) {
        a->retry_at = lvc_h_now(c) + RETRY_AFTER_MS;
        *out = lvc_ac_copy_served(a, e);
        from = LEVER_SRC_CACHE_STALE;
        st = LEVER_OK;
        pthread_mutex_unlock(&a->mu);
        lvc_h_fail(c, LEVER_E_UNREACHABLE, err);
        pthread_mutex_lock(&a->mu);
    } else if (!lvc_ac_outage(st, &r) && e && !e->watched) {
        /* a definitive answer: what was cached is no longer true */
        for (size_t i = 0; i < a->n; i++)
            if (a->ents[i] == e) {
                a->ents[i] = a->ents[--a->n];
                break;
            }
        free(e->key);
        free(e->cur.data);
        free(e->from.data);
        free(e);
    }
    bool want_watch = st == LEVER_OK && set.live;
    pthread_mutex_unlock(&a->mu);
    lvc_raw_clear(&r);
    if (st != LEVER_OK) {
        free(key);
        return lvc_h_fail(c, st, err);
    }
    if (want_watch)
        lvc_ac_start_watch(c, a);
done:
    free(key);
    if (*out == NULL)
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    if (src)
        *src = from;
    return LEVER_OK;
}
