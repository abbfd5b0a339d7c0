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
#include "lever/lever.h"

enum { NAME_MAX_ = 256, BACKOFF_MIN_MS = 100, BACKOFF_MAX_MS = 5000, RETRY_AFTER_MS = 1000 };

struct lever_configuration {
    char *data;
    size_t len;
    char ctype[128];
    char version[128];
};

typedef struct centry {
    char *key;                  /* app \n env \n profile */
    char app[NAME_MAX_], env[NAME_MAX_], profile[NAME_MAX_];
    lever_configuration cur;    /* cur.data NULL before the first answer */
    uint64_t revision;
    int64_t fetched;            /* handle clock */
    bool watched;               /* kept current by the watch */
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

static char *make_key(const char *app, const char *env, const char *profile)
{
    size_t n = strlen(app) + strlen(env) + strlen(profile) + 3;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%s\n%s\n%s", app, env, profile);
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
static centry *get_or_add(struct lvc_ac *a, const char *app, const char *env, const char *profile, const char *key)
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

static lever_status fetch(lever *c, struct lvc_ac *a, lvc_conn *conn, const char *app, const char *env,
                          const char *profile, const char *cur_version, lvc_raw *r, char *err, size_t errlen)
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
    if (bad)
        snprintf(err, errlen, "out of memory");
    else
        st = lvc_request(conn, lvc_h_server(c), "appconfig", "GET", path.data, q.data, NULL, 0, NULL, 0,
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

/* Stores an answer into e (caller holds mu). Returns whether the content
 * or the version changed. */
static bool store_locked(lever *c, centry *e, const lvc_raw *r, bool conditional)
{
    char ctype[128] = "", version[128] = "";
    bool has_ct = lvc_raw_header(r, "Content-Type", ctype, sizeof ctype);
    bool has_v = lvc_raw_header(r, "Configuration-Version", version, sizeof version);
    if (e->cur.data && r->revision < e->revision)
        return false; /* older than what is held */
    e->fetched = lvc_h_now(c);
    e->revision = r->revision;
    if (conditional && e->cur.data && r->body.len == 0 && (!has_v || strcmp(version, e->cur.version) == 0))
        return false;
    bool changed = e->cur.data == NULL || e->cur.len != r->body.len ||
                   memcmp(e->cur.data, r->body.data ? r->body.data : "", r->body.len) != 0 ||
                   strcmp(e->cur.version, has_v ? version : "") != 0;
    char *d = malloc(r->body.len + 1);
    if (d == NULL)
        return false;
    if (r->body.len)
        memcpy(d, r->body.data, r->body.len);
    d[r->body.len] = '\0';
    free(e->cur.data);
    e->cur.data = d;
    e->cur.len = r->body.len;
    snprintf(e->cur.ctype, sizeof e->cur.ctype, "%s", has_ct ? ctype : "application/octet-stream");
    snprintf(e->cur.version, sizeof e->cur.version, "%s", has_v ? version : "");
    return changed;
}

static lever_status start_watch(lever *c, struct lvc_ac *a);

/* ------------------------------------------------------------- reading */

lever_status lever_get_configuration(lever *c, const char *app, const char *env, const char *profile,
                                     lever_configuration **out, lever_source *src)
{
    *out = NULL;
    if (!name_ok(app) || !name_ok(env) || !name_ok(profile))
        return lvc_h_fail(c, LEVER_E_INVALID, "application, environment and profile must be 1-255 bytes "
                                              "without '/' or control characters");
    struct lvc_ac *a = state(c);
    char *key = a ? make_key(app, env, profile) : NULL;
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
        *out = copy_cfg(&e->cur);
        from = fresh ? LEVER_SRC_CACHE : LEVER_SRC_CACHE_STALE;
        pthread_mutex_unlock(&a->mu);
        goto done;
    }
    char cur_version[128] = "";
    if (e && e->cur.data)
        memcpy(cur_version, e->cur.version, sizeof cur_version);
    pthread_mutex_unlock(&a->mu);

    lvc_raw r;
    pthread_mutex_lock(&a->net_mu);
    st = fetch(c, a, a->conn, app, env, profile, cur_version, &r, err, sizeof err);
    pthread_mutex_unlock(&a->net_mu);
    pthread_mutex_lock(&a->mu);
    e = find(a, key);
    if (st == LEVER_OK) {
        a->retry_at = 0;
        if (e == NULL)
            e = get_or_add(a, app, env, profile, key);
        if (e)
            store_locked(c, e, &r, cur_version[0] != '\0');
        if (e && set.live)
            e->watched = true;
        *out = e ? copy_cfg(&e->cur) : NULL;
        from = LEVER_SRC_STORE;
    } else if (outage(st, &r) && e && e->cur.data) {
        a->retry_at = lvc_h_now(c) + RETRY_AFTER_MS;
        *out = copy_cfg(&e->cur);
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
    char app[NAME_MAX_], env[NAME_MAX_], profile[NAME_MAX_], version[128];
    bool have;
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
        memcpy(jobs[n].version, e->cur.version, sizeof jobs[n].version);
        jobs[n].have = e->cur.data != NULL;
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
        lever_status fs = fetch(c, a, a->wconn, jobs[i].app, jobs[i].env, jobs[i].profile,
                                jobs[i].have ? jobs[i].version : "", &r, err, errlen);
        if (fs != LEVER_OK) {
            if (outage(fs, &r))
                st = fs;
            lvc_raw_clear(&r);
            continue;
        }
        pthread_mutex_lock(&a->mu);
        centry *e = find(a, jobs[i].key);
        bool changed = e && store_locked(c, e, &r, jobs[i].have);
        lever_configuration *snap = changed ? copy_cfg(&e->cur) : NULL;
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
        lvc_raw_clear(&r);
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
    if (fn == NULL)
        return lvc_h_fail(c, LEVER_E_INVALID, "a callback is required");
    lever_configuration *cfg = NULL;
    lever_status st = lever_get_configuration(c, app, env, profile, &cfg, NULL);
    lever_configuration_free(cfg);
    if (st != LEVER_OK)
        return st;
    struct lvc_ac *a = state(c);
    char *key = make_key(app, env, profile), *skey = key ? strdup(key) : NULL;
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
