/* acfetch.c - liblever's GetConfiguration calls (client_id bucketing,
 * conditional on the version held, one side of a gradual deployment, the
 * stored form of a flag document) and bringing one cache entry up to date:
 * both sides of a deployment fetched without the lock, then applied at
 * once unless the entry changed meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/appconfig_int.h"

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

bool lvc_ac_outage(lever_status st, const lvc_raw *r)
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


static bool same_cfg(const lever_configuration *x, const lever_configuration *y)
{
    return x->data && y->data && x->len == y->len && memcmp(x->data, y->data, x->len) == 0 &&
           strcmp(x->version, y->version) == 0 && x->stored == y->stored;
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
    const lever_configuration *b = e->cur.data ? lvc_ac_side_for(e, a->client_id) : NULL;
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
    bool changed = !same_cfg(&before, lvc_ac_side_for(e, a->client_id));
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
lever_status lvc_ac_sync_entry(lever *c, struct lvc_ac *a, lvc_conn *conn, pthread_mutex_t *net, const char *app,
                               const char *env, const char *profile, bool stored, const char *key, bool create,
                               bool *changed, lever_configuration **out, lvc_raw *r_err, char *err, size_t errlen)
{
    *changed = false;
    memset(r_err, 0, sizeof *r_err);
    for (int attempt = 0; attempt < 4; attempt++) {
        pthread_mutex_lock(&a->mu);
        centry *e = lvc_ac_find(a, key);
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
        e = lvc_ac_find(a, key);
        if (e == NULL && create)
            e = lvc_ac_get_or_add(a, app, env, profile, stored, key);
        int res = e ? sync_apply_locked(c, a, e, &h, &y) : 0;
        if (res >= 0 && out)
            *out = e ? lvc_ac_copy_served(a, e) : NULL;
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
        centry *e = lvc_ac_find(a, key);
        *out = e && e->cur.data ? lvc_ac_copy_served(a, e) : NULL;
        pthread_mutex_unlock(&a->mu);
    }
    return LEVER_OK;
}
