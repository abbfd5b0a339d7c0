/* appconfig.c - liblever's AppConfig configurations: GetConfiguration reads
 * (names or ids, client_id bucketing) through a per-handle cache with the
 * getters' TTL and stale-if-error rules, a watch thread
 * (Lever.WatchConfigurations) that keeps subscribed configurations current
 * and calls back on change, and the generic signed REST call tools use. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include "client/handle.h"
#include "client/http.h"
#include "client/acserved.h"
#include "client/rollout.h"
#include "lever/lever.h"

enum { NAME_MAX_ = 256, BACKOFF_MIN_MS = 100, BACKOFF_MAX_MS = 5000, RETRY_AFTER_MS = 1000 };

struct lever_configuration {
    char *data;
    size_t len;
    char ctype[128];
    char version[128];
    bool stored;                /* leverd marked it X-Lever-Document: stored */
    uint64_t gen;               /* copies: the entry's generation they were taken at */
};

/* During a gradual deployment (ro.active) cur is the deployment's `to`
 * version and from the version served before: the handle's client id
 * picks its side by the published bucketing, as leverd would. */
typedef struct centry {
    char *key;                  /* app \n env \n profile \n form ("s": stored) */
    char app[NAME_MAX_], env[NAME_MAX_], profile[NAME_MAX_];
    lever_configuration cur;    /* cur.data NULL before the first answer */
    lever_configuration from;   /* from.data set while ro.active with a from version */
    lvc_rollout ro;
    uint64_t revision;
    int64_t fetched;            /* handle clock */
    bool watched;               /* kept current by the watch */
    bool stored;                /* asks for the stored form of a flag document (flags.c) */
    uint64_t gen;               /* bumped whenever what the client id is served changes */
    lvc_served_mark served;     /* served-share reports (acserved.c) */
} centry;

typedef struct csub {
    uint64_t id;
    char *key;
    lever_configuration_fn fn;
    void *user;
} csub;

struct lvc_ac {
    pthread_mutex_t mu;         /* entries, subscriptions, watch state */
    pthread_mutex_t net_mu;     /* conn */
    pthread_mutex_t cb_mu;      /* held while callbacks run */
    pthread_cond_t cv;
    lvc_conn *conn, *wconn;
    centry **ents;
    size_t n, cap;
    csub *subs;
    size_t nsubs, capsubs;
    uint64_t next_id;
    uint64_t gen_seq;           /* the last generation given to an entry */
    bool watching;              /* the watch is current */
    uint64_t revision;
    int64_t retry_at;           /* no refresh before this after a failure (handle clock) */
    bool thread_started;
    atomic_bool stopping;
    pthread_t thread;
    char client_id[264];
};

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

/* -------------------------------------------------------------- state */

static void *watch_main(void *arg);

static struct lvc_ac *state(lever *c)
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
static char *make_key(const char *app, const char *env, const char *profile, bool stored)
{
    size_t n = strlen(app) + strlen(env) + strlen(profile) + 5;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%s\n%s\n%s\n%s", app, env, profile, stored ? "s" : "");
    return k;
}

static bool name_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) >= NAME_MAX_)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '/')
            return false;
    return true;
}

/* Caller holds mu. */
static centry *find(struct lvc_ac *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->ents[i]->key, key) == 0)
            return a->ents[i];
    return NULL;
}

/* Caller holds mu. */
static centry *get_or_add(struct lvc_ac *a, const char *app, const char *env, const char *profile, bool stored,
                          const char *key)
{
    centry *e = find(a, key);
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

/* ------------------------------------------------------------ upstream */

static int enc(lv_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        bool keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '_' || ch == '.' || ch == '~';
        char x[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        if ((keep ? lv_buf_putc(b, (char)ch) : lv_buf_append(b, x, 3)) != LV_OK)
            return -1;
    }
    return 0;
}

/* GetConfiguration as the handle's client id; side "to"/"from" asks for
 * that side of a gradual deployment (x-lever-rollout-side); stored asks for
 * the stored form of a flag document, as lever-agent does. */
static lever_status fetch(lever *c, struct lvc_ac *a, lvc_conn *conn, const char *app, const char *env,
                          const char *profile, bool stored, const char *side, const char *cur_version, lvc_raw *r,
                          char *err, size_t errlen)
{
    lvc_h_settings set;
    lvc_h_get_settings(c, &set);
    lv_buf path = LV_BUF_INIT, q = LV_BUF_INIT;
    memset(r, 0, sizeof *r);
    int bad = lv_buf_puts(&path, "/applications/") != LV_OK || enc(&path, app) ||
              lv_buf_puts(&path, "/environments/") != LV_OK || enc(&path, env) ||
              lv_buf_puts(&path, "/configurations/") != LV_OK || enc(&path, profile);
    if (!bad && cur_version && *cur_version)
        bad = lv_buf_puts(&q, "client_configuration_version=") != LV_OK || enc(&q, cur_version) ||
              lv_buf_putc(&q, '&') != LV_OK;
    if (!bad)
        bad = lv_buf_puts(&q, "client_id=") != LV_OK || enc(&q, a->client_id);
    lever_status st = LEVER_E_NOMEM;
    lvc_hdr h[2];
    size_t nh = 0;
    if (side)
        h[nh++] = (lvc_hdr){LVC_ROLLOUT_SIDE_HEADER, side};
    if (stored)
        h[nh++] = (lvc_hdr){"X-Lever-Document", "stored"};
    if (bad)
        snprintf(err, errlen, "out of memory");
    else
        st = lvc_request(conn, lvc_h_server(c), "appconfig", "GET", path.data, q.data, h, nh, NULL, 0,
                         (long)set.timeout_ms, r, err, errlen);
    lv_buf_free(&path);
    lv_buf_free(&q);
    return st;
}

static bool outage(lever_status st, const lvc_raw *r)
{
    return st == LEVER_E_UNREACHABLE || st == LEVER_E_PARSE || r->status == 0 || r->status >= 500 ||
           strcmp(r->code, "ThrottlingException") == 0;
}

/* The configuration an answer carries (data NUL-terminated). false when
 * out of memory. */
static bool cfg_of(const lvc_raw *r, lever_configuration *out)
{
    memset(out, 0, sizeof *out);
    if (!lvc_raw_header(r, "Content-Type", out->ctype, sizeof out->ctype))
        snprintf(out->ctype, sizeof out->ctype, "application/octet-stream");
    if (!lvc_raw_header(r, "Configuration-Version", out->version, sizeof out->version))
        out->version[0] = '\0';
    char doc[32];
    out->stored = lvc_raw_header(r, "X-Lever-Document", doc, sizeof doc) && strcmp(doc, "stored") == 0;
    if ((out->data = malloc(r->body.len + 1)) == NULL)
        return false;
    if (r->body.len)
        memcpy(out->data, r->body.data, r->body.len);
    out->data[r->body.len] = '\0';
    out->len = r->body.len;
    return true;
}

/* Caller holds mu. What the handle's client id is served from e. */
static const lever_configuration *side_for(const centry *e, const char *client_id)
{
    if (!e->ro.active || e->from.data == NULL)
        return &e->cur;
    return lvc_rollout_is_to(&e->ro, client_id) ? &e->cur : &e->from;
}

static bool same_cfg(const lever_configuration *x, const lever_configuration *y)
{
    return x->data && y->data && x->len == y->len && memcmp(x->data, y->data, x->len) == 0 &&
           strcmp(x->version, y->version) == 0 && x->stored == y->stored;
}

/* Caller holds mu. A copy of what the client id is served from e, marked
 * with e's generation. */
static lever_configuration *copy_served(const struct lvc_ac *a, const centry *e)
{
    lever_configuration *o = copy_cfg(side_for(e, a->client_id));
    if (o)
        o->gen = e->gen;
    return o;
}

/* What an entry held when a sync started. */
typedef struct held {
    bool have, have_from;
    char cur[128], from[128];
} held;

static held held_of(const centry *e)
{
    held h = {0};
    if (e) {
        h.have = e->cur.data != NULL;
        h.have_from = e->from.data != NULL;
        memcpy(h.cur, e->cur.version, sizeof h.cur);
        memcpy(h.from, e->from.version, sizeof h.from);
    }
    return h;
}

/* One sync's answers, fetched without mu. */
typedef struct synced {
    lvc_raw r;                 /* the `to` answer */
    lvc_rollout ro;
    bool new_cur, new_from, take_old;
    lever_configuration cur, from;
} synced;

static void synced_clear(synced *y)
{
    lvc_raw_clear(&y->r);
    free(y->cur.data);
    free(y->from.data);
    memset(y, 0, sizeof *y);
}

/* Fetches the `to` side (conditionally on h) and, during a gradual
 * deployment, the `from` side unless it is held or is the old `to`. On an
 * error *r_err holds the failed answer. */
static lever_status sync_fetch(lever *c, struct lvc_ac *a, lvc_conn *conn, const char *app, const char *env,
                               const char *profile, bool stored, const held *h, synced *y, lvc_raw *r_err, char *err,
                               size_t errlen)
{
    memset(y, 0, sizeof *y);
    memset(r_err, 0, sizeof *r_err);
    lever_status st = fetch(c, a, conn, app, env, profile, stored, "to", h->have ? h->cur : "", &y->r, err, errlen);
    if (st != LEVER_OK) {
        *r_err = y->r;
        memset(&y->r, 0, sizeof y->r);
        return st;
    }
    char rerr[256];
    if (lvc_rollout_from_raw(&y->r, &y->ro, rerr, sizeof rerr) != 0) {
        char msg[1100];
        snprintf(msg, sizeof msg, "lever: ignoring the rollout headers of %s:%s:%s: %s", app, env, profile, rerr);
        lvc_h_log(c, LEVER_LOG_WARN, msg);
    }
    char version[128] = "";
    bool has_v = lvc_raw_header(&y->r, "Configuration-Version", version, sizeof version);
    bool unchanged = h->have && y->r.body.len == 0 && (!has_v || strcmp(version, h->cur) == 0);
    if (y->ro.active && y->ro.from[0] && strcmp(unchanged ? h->cur : version, y->ro.to) != 0)
        y->ro.active = false; /* leverd did not serve the side asked for: take what it bucketed us to */
    if (!unchanged) {
        if (!cfg_of(&y->r, &y->cur)) {
            synced_clear(y);
            snprintf(err, errlen, "out of memory");
            return LEVER_E_NOMEM;
        }
        y->new_cur = true;
    }
    if (y->ro.active && y->ro.from[0] && !(h->have_from && strcmp(h->from, y->ro.from) == 0)) {
        if (y->new_cur && h->have && strcmp(h->cur, y->ro.from) == 0) {
            y->take_old = true; /* the deployment's start: what was served is the from side */
        } else {
            lvc_raw rf;
            st = fetch(c, a, conn, app, env, profile, stored, "from", "", &rf, err, errlen);
            if (st == LEVER_OK && !cfg_of(&rf, &y->from)) {
                snprintf(err, errlen, "out of memory");
                st = LEVER_E_NOMEM;
            }
            if (st != LEVER_OK) {
                synced_clear(y);
                *r_err = rf;
                return st;
            }
            lvc_raw_clear(&rf);
            y->new_from = true;
        }
    }
    return LEVER_OK;
}

/* Caller holds mu. Applies y to e; -1 when e changed since h (the caller
 * syncs again), else whether what client_id is served changed. Answers
 * older than what e holds are ignored (0). Consumes y's configurations. */
static int sync_apply_locked(lever *c, struct lvc_ac *a, centry *e, const held *h, synced *y)
{
    held now = held_of(e);
    if (now.have != h->have || now.have_from != h->have_from || strcmp(now.cur, h->cur) != 0 ||
        strcmp(now.from, h->from) != 0)
        return -1;
    if (e->cur.data && y->r.revision < e->revision)
        return 0;
    bool want_from = y->ro.active && y->ro.from[0];
    if (want_from && !y->new_from && !y->take_old && !(e->from.data && strcmp(e->from.version, y->ro.from) == 0))
        return -1;
    lever_configuration before = {0};
    const lever_configuration *b = e->cur.data ? side_for(e, a->client_id) : NULL;
    if (b) {
        before = *b;
        before.data = malloc(b->len + 1);
        if (before.data)
            memcpy(before.data, b->data, b->len + 1);
    }
    if (want_from && y->take_old) {
        free(e->from.data);
        e->from = e->cur;
        memset(&e->cur, 0, sizeof e->cur);
    } else if (want_from && y->new_from) {
        free(e->from.data);
        e->from = y->from;
        memset(&y->from, 0, sizeof y->from);
    } else if (!want_from) {
        free(e->from.data);
        memset(&e->from, 0, sizeof e->from);
    }
    if (y->new_cur) {
        free(e->cur.data);
        e->cur = y->cur;
        memset(&y->cur, 0, sizeof y->cur);
    }
    e->ro = y->ro;
    e->fetched = lvc_h_now(c);
    e->revision = y->r.revision;
    bool changed = !same_cfg(&before, side_for(e, a->client_id));
    free(before.data);
    if (changed)
        e->gen = ++a->gen_seq; /* increasing across entries, even one dropped and made again */
    return changed ? 1 : 0;
}

/* Brings (app, env, profile) up to date through conn (net, when not NULL,
 * guards it), creating its entry when create. On LEVER_OK *changed says
 * whether what the client id is served changed, and *out (when not NULL)
 * is a copy of it (NULL when out of memory). On an error nothing changed
 * and *r_err holds the failed answer (the caller clears it). */
static lever_status sync_entry(lever *c, struct lvc_ac *a, lvc_conn *conn, pthread_mutex_t *net, const char *app,
                               const char *env, const char *profile, bool stored, const char *key, bool create,
                               bool *changed, lever_configuration **out, lvc_raw *r_err, char *err, size_t errlen)
{
    *changed = false;
    memset(r_err, 0, sizeof *r_err);
    for (int attempt = 0; attempt < 4; attempt++) {
        pthread_mutex_lock(&a->mu);
        centry *e = find(a, key);
        held h = held_of(e);
        pthread_mutex_unlock(&a->mu);
        if (e == NULL && !create)
            return LEVER_OK; /* dropped meanwhile */
        synced y;
        if (net)
            pthread_mutex_lock(net);
        lever_status st = sync_fetch(c, a, conn, app, env, profile, stored, &h, &y, r_err, err, errlen);
        if (net)
            pthread_mutex_unlock(net);
        if (st != LEVER_OK)
            return st;
        pthread_mutex_lock(&a->mu);
        e = find(a, key);
        if (e == NULL && create)
            e = get_or_add(a, app, env, profile, stored, key);
        int res = e ? sync_apply_locked(c, a, e, &h, &y) : 0;
        if (res >= 0 && out)
            *out = e ? copy_served(a, e) : NULL;
        pthread_mutex_unlock(&a->mu);
        synced_clear(&y);
        if (res >= 0) {
            *changed = res == 1;
            return LEVER_OK;
        }
    }
    /* the entry kept changing under us: another sync brought it up to date */
    if (out) {
        pthread_mutex_lock(&a->mu);
        centry *e = find(a, key);
        *out = e && e->cur.data ? copy_served(a, e) : NULL;
        pthread_mutex_unlock(&a->mu);
    }
    return LEVER_OK;
}

static lever_status start_watch(lever *c, struct lvc_ac *a);

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
    struct lvc_ac *a = state(c);
    char *key = a ? make_key(app, env, profile, stored) : NULL;
    if (key == NULL)
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    lvc_h_settings set;
    lvc_h_get_settings(c, &set);
    lever_source from = LEVER_SRC_CACHE;
    lever_status st = LEVER_OK;
    char err[1024] = "";
    pthread_mutex_lock(&a->mu);
    int64_t now = lvc_h_now(c);
    centry *e = find(a, key);
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
        *out = copy_served(a, e);
        pthread_mutex_unlock(&a->mu);
        goto done;
    }
    pthread_mutex_unlock(&a->mu);

    lvc_raw r;
    bool changed;
    st = sync_entry(c, a, a->conn, &a->net_mu, app, env, profile, stored, key, true, &changed, out, &r, err,
                    sizeof err);
    pthread_mutex_lock(&a->mu);
    e = find(a, key);
    if (st == LEVER_OK) {
        a->retry_at = 0;
        if (e && set.live)
            e->watched = true;
        from = LEVER_SRC_STORE;
    } else if (outage(st, &r) && e && e->cur.data) {
        a->retry_at = lvc_h_now(c) + RETRY_AFTER_MS;
        *out = copy_served(a, e);
        from = LEVER_SRC_CACHE_STALE;
        st = LEVER_OK;
        pthread_mutex_unlock(&a->mu);
        lvc_h_fail(c, LEVER_E_UNREACHABLE, err);
        pthread_mutex_lock(&a->mu);
    } else if (!outage(st, &r) && e && !e->watched) {
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
        start_watch(c, a);
done:
    free(key);
    if (*out == NULL)
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    if (src)
        *src = from;
    return LEVER_OK;
}

/* --------------------------------------------------------------- watch */

typedef struct job {
    char *key;
    char app[NAME_MAX_], env[NAME_MAX_], profile[NAME_MAX_];
    bool stored;
} job;

/* Re-validates every watched configuration; calls back for the changed
 * ones. Returns LEVER_OK or the outage that stopped it. */
static lever_status refresh(lever *c, struct lvc_ac *a, char *err, size_t errlen)
{
    pthread_mutex_lock(&a->mu);
    size_t n = 0;
    job *jobs = calloc(a->n ? a->n : 1, sizeof *jobs);
    for (size_t i = 0; jobs && i < a->n; i++) {
        centry *e = a->ents[i];
        if (!e->watched)
            continue;
        jobs[n].key = strdup(e->key);
        memcpy(jobs[n].app, e->app, NAME_MAX_);
        memcpy(jobs[n].env, e->env, NAME_MAX_);
        memcpy(jobs[n].profile, e->profile, NAME_MAX_);
        jobs[n].stored = e->stored;
        n++;
    }
    pthread_mutex_unlock(&a->mu);
    if (jobs == NULL) {
        snprintf(err, errlen, "out of memory");
        return LEVER_E_NOMEM;
    }
    lever_status st = LEVER_OK;
    for (size_t i = 0; i < n && st == LEVER_OK && !atomic_load(&a->stopping); i++) {
        if (jobs[i].key == NULL)
            continue;
        lvc_raw r;
        bool changed = false;
        lever_configuration *snap = NULL;
        lever_status fs = sync_entry(c, a, a->wconn, NULL, jobs[i].app, jobs[i].env, jobs[i].profile,
                                     jobs[i].stored, jobs[i].key, false, &changed, &snap, &r, err, errlen);
        if (fs != LEVER_OK) {
            if (outage(fs, &r))
                st = fs;
            lvc_raw_clear(&r);
            continue;
        }
        if (!changed) {
            lever_configuration_free(snap);
            snap = NULL;
        }
        pthread_mutex_lock(&a->mu);
        /* the callbacks of this key, copied so none runs under mu */
        size_t ns = 0;
        csub *calls = changed ? calloc(a->nsubs ? a->nsubs : 1, sizeof *calls) : NULL;
        for (size_t k = 0; calls && k < a->nsubs; k++)
            if (strcmp(a->subs[k].key, jobs[i].key) == 0)
                calls[ns++] = a->subs[k];
        pthread_mutex_unlock(&a->mu);
        if (snap && calls) {
            pthread_mutex_lock(&a->cb_mu);
            for (size_t k = 0; k < ns; k++) {
                /* still subscribed? (unsubscribe waits on cb_mu, so this holds) */
                bool live = false;
                pthread_mutex_lock(&a->mu);
                for (size_t m = 0; m < a->nsubs && !live; m++)
                    live = a->subs[m].id == calls[k].id;
                pthread_mutex_unlock(&a->mu);
                if (live)
                    calls[k].fn(c, jobs[i].app, jobs[i].env, jobs[i].profile, snap, calls[k].user);
            }
            pthread_mutex_unlock(&a->cb_mu);
        }
        free(calls);
        lever_configuration_free(snap);
    }
    for (size_t i = 0; i < n; i++)
        free(jobs[i].key);
    free(jobs);
    return st;
}

static void nap(struct lvc_ac *a, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&a->mu);
    if (!atomic_load(&a->stopping))
        pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    pthread_mutex_unlock(&a->mu);
}

/* The Served member of the next watch call (acserved.c). */
static void attach_served(struct lvc_ac *a, json_t *body)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; arr && i < a->n; i++) {
        centry *e = a->ents[i];
        lvc_served_mark_report(&e->served, &e->ro, side_for(e, a->client_id)->version, arr);
    }
    pthread_mutex_unlock(&a->mu);
    lvc_served_attach(body, arr);
}

static void *watch_main(void *arg)
{
    lever *c = arg;
    struct lvc_ac *a = *lvc_h_ac_slot(c);
    lvc_h_settings set;
    lvc_h_get_settings(c, &set);
    char err[1024];
    int64_t backoff = 0;
    bool need_sync = false;
    while (!atomic_load(&a->stopping)) {
        lever_status st = LEVER_OK;
        if (need_sync && (st = refresh(c, a, err, sizeof err)) == LEVER_OK)
            need_sync = false;
        pthread_mutex_lock(&a->mu);
        bool connected = a->watching;
        uint64_t since = a->revision;
        pthread_mutex_unlock(&a->mu);
        lvc_reply rep = {0};
        if (st == LEVER_OK) {
            int wait = connected ? set.watch_wait_s : 0;
            json_t *body = json_pack("{s:I, s:i, s:i}", "SinceRevision", (json_int_t)since, "WaitSeconds", wait,
                                     "MaxChanges", 1000);
            if (body)
                attach_served(a, body);
            st = body ? lvc_call(a->wconn, lvc_h_server(c), "Lever.WatchConfigurations", body,
                                 (long)wait * 1000 + (long)set.timeout_ms, &rep, err, sizeof err)
                      : LEVER_E_NOMEM;
            json_decref(body);
        }
        if (st == LEVER_OK) {
            json_t *rev = json_object_get(rep.body, "Revision");
            uint64_t next = json_is_integer(rev) && json_integer_value(rev) >= 0 ? (uint64_t)json_integer_value(rev)
                                                                               : since;
            if (json_array_size(json_object_get(rep.body, "Changes")) > 0 || !connected || next < since)
                st = refresh(c, a, err, sizeof err);
            if (st == LEVER_OK) {
                pthread_mutex_lock(&a->mu);
                a->revision = next;
                a->watching = true;
                pthread_mutex_unlock(&a->mu);
                backoff = 0;
            }
        } else if (st == LEVER_E_COMPACTED) {
            json_t *cur = json_object_get(rep.body, "CurrentRevision");
            pthread_mutex_lock(&a->mu);
            a->revision = json_is_integer(cur) && json_integer_value(cur) >= 0 ? (uint64_t)json_integer_value(cur) : 0;
            a->watching = false;
            pthread_mutex_unlock(&a->mu);
            need_sync = true;
            st = LEVER_OK;
        } else if (st == LEVER_E_UNSUPPORTED || st == LEVER_E_AUTH) {
            /* no watch upstream (or not allowed for this key): the cache
             * TTL applies (entries stop being "watched") */
            lvc_h_log(c, LEVER_LOG_WARN, "lever: no Lever.WatchConfigurations for this handle; configurations "
                                         "follow the cache TTL");
            pthread_mutex_lock(&a->mu);
            for (size_t i = 0; i < a->n; i++)
                a->ents[i]->watched = false;
            a->watching = false;
            pthread_mutex_unlock(&a->mu);
            lvc_reply_clear(&rep);
            break;
        }
        lvc_reply_clear(&rep);
        if (st != LEVER_OK && !atomic_load(&a->stopping)) {
            pthread_mutex_lock(&a->mu);
            a->watching = false;
            pthread_mutex_unlock(&a->mu);
            need_sync = true;
            backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
            if (backoff > BACKOFF_MAX_MS)
                backoff = BACKOFF_MAX_MS;
            nap(a, backoff);
        }
    }
    return NULL;
}

static lever_status start_watch(lever *c, struct lvc_ac *a)
{
    pthread_mutex_lock(&a->mu);
    lever_status st = LEVER_OK;
    if (!a->thread_started) {
        if (a->wconn == NULL)
            a->wconn = lvc_conn_new_interruptible();
        if (a->wconn == NULL)
            st = LEVER_E_NOMEM;
        else if (pthread_create(&a->thread, NULL, watch_main, c) != 0)
            st = LEVER_E_NOMEM;
        else
            a->thread_started = true;
    }
    pthread_mutex_unlock(&a->mu);
    return st == LEVER_OK ? st : lvc_h_fail(c, st, "cannot start the configuration watch thread");
}

lever_status lever_subscribe_configuration(lever *c, const char *app, const char *env, const char *profile,
                                           lever_configuration_fn fn, void *user, uint64_t *id)
{
    return lvc_ac_subscribe(c, app, env, profile, false, fn, user, id);
}

lever_status lvc_ac_subscribe(lever *c, const char *app, const char *env, const char *profile, bool stored,
                              lever_configuration_fn fn, void *user, uint64_t *id)
{
    if (fn == NULL)
        return lvc_h_fail(c, LEVER_E_INVALID, "a callback is required");
    lever_configuration *cfg = NULL;
    lever_status st = lvc_ac_read(c, app, env, profile, stored, 0, &cfg, NULL);
    lever_configuration_free(cfg);
    if (st != LEVER_OK)
        return st;
    struct lvc_ac *a = state(c);
    char *key = make_key(app, env, profile, stored), *skey = key ? strdup(key) : NULL;
    if (a == NULL || key == NULL || skey == NULL) {
        free(key);
        free(skey);
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&a->mu);
    centry *e = find(a, key);
    if (e)
        e->watched = true;
    if (a->nsubs == a->capsubs) {
        size_t nc = a->capsubs ? a->capsubs * 2 : 4;
        csub *ns = realloc(a->subs, nc * sizeof *ns);
        if (ns == NULL) {
            pthread_mutex_unlock(&a->mu);
            free(key);
            free(skey);
            return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
        }
        a->subs = ns;
        a->capsubs = nc;
    }
    uint64_t nid = a->next_id++;
    a->subs[a->nsubs++] = (csub){nid, skey, fn, user};
    pthread_mutex_unlock(&a->mu);
    free(key);
    if (id)
        *id = nid;
    return start_watch(c, a);
}

lever_status lever_unsubscribe_configuration(lever *c, uint64_t id)
{
    struct lvc_ac *a = *lvc_h_ac_slot(c);
    if (a == NULL)
        return lvc_h_fail(c, LEVER_E_INVALID, "no such subscription");
    pthread_mutex_lock(&a->cb_mu); /* no callback is running after this */
    pthread_mutex_lock(&a->mu);
    bool found = false;
    for (size_t i = 0; i < a->nsubs; i++)
        if (a->subs[i].id == id) {
            free(a->subs[i].key);
            a->subs[i] = a->subs[--a->nsubs];
            found = true;
            break;
        }
    pthread_mutex_unlock(&a->mu);
    pthread_mutex_unlock(&a->cb_mu);
    return found ? LEVER_OK : lvc_h_fail(c, LEVER_E_INVALID, "no such subscription");
}

/* ------------------------------------------------------------ REST call */

struct lever_response {
    lvc_raw raw;
    char hbuf[1024];
};

lever_status lever_call_rest(lever *c, const char *service, const char *method, const char *path_query,
                             const char *const *headers, const void *body, size_t body_len,
                             lever_response **out)
{
    *out = NULL;
    if (service == NULL || method == NULL || path_query == NULL || path_query[0] != '/')
        return lvc_h_fail(c, LEVER_E_INVALID, "service, method and a path starting with '/' are required");
    enum { MAXH = 8 };
    lvc_hdr hs[MAXH];
    char names[MAXH][128];
    size_t nh = 0;
    for (size_t i = 0; headers && headers[i]; i++) {
        const char *colon = strchr(headers[i], ':');
        if (nh >= MAXH || colon == NULL || colon == headers[i] || (size_t)(colon - headers[i]) >= sizeof names[0])
            return lvc_h_fail(c, LEVER_E_INVALID, "headers are \"Name: value\" (at most 8)");
        memcpy(names[nh], headers[i], (size_t)(colon - headers[i]));
        names[nh][colon - headers[i]] = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        hs[nh] = (lvc_hdr){names[nh], v};
        nh++;
    }
    lever_response *r = calloc(1, sizeof *r);
    char *path = strdup(path_query);
    if (r == NULL || path == NULL) {
        free(r);
        free(path);
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    }
    char *q = strchr(path, '?');
    if (q)
        *q++ = '\0';
    struct lvc_ac *a = state(c);
    if (a == NULL) {
        free(r);
        free(path);
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    }
    lvc_h_settings set;
    lvc_h_get_settings(c, &set);
    char err[1024] = "";
    pthread_mutex_lock(&a->net_mu);
    lever_status st = lvc_request(a->conn, lvc_h_server(c), service, method, path, q, hs, nh, body, body_len,
                                  (long)set.timeout_ms, &r->raw, err, sizeof err);
    pthread_mutex_unlock(&a->net_mu);
    free(path);
    if (r->raw.status == 0) {
        lvc_raw_clear(&r->raw);
        free(r);
        return lvc_h_fail(c, st == LEVER_OK ? LEVER_E_UNREACHABLE : st, err);
    }
    if (st != LEVER_OK)
        lvc_h_fail(c, st, err);
    if (lv_buf_putc(&r->raw.body, '\0') == LV_OK) /* a NUL after the body, not counted */
        r->raw.body.len--;
    *out = r;
    return LEVER_OK;
}

long lever_response_status(const lever_response *r) { return r->raw.status; }

const char *lever_response_body(const lever_response *r, size_t *len)
{
    if (len)
        *len = r->raw.body.len;
    return r->raw.body.data ? r->raw.body.data : "";
}

const char *lever_response_header(lever_response *r, const char *name)
{
    return lvc_raw_header(&r->raw, name, r->hbuf, sizeof r->hbuf) ? r->hbuf : NULL;
}

const char *lever_response_error(const lever_response *r) { return r->raw.code; }

void lever_response_free(lever_response *r)
{
    if (r == NULL)
        return;
    lvc_raw_clear(&r->raw);
    free(r);
}
