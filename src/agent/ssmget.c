/* ssmget.c - lever-agent's :2773 API: GET /systemsmanager/parameters/get
 * (token, query, cache, label rollouts bucketed locally, upstream
 * pass-through, stale answers). */
#include "agent/agent_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/labelroll.h"
#include "agent/query.h"

static bool ct_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL || *b == '\0')
        return false;
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i % lb]);
    return d == 0;
}

/* The answer body of the extension: GetParameter's shape plus an empty
 * ResultMetadata, as the extension's SDK-serialised answer has. */
static int put_param_body(lv_http_response *resp, const char *json, size_t len)
{
    lv_buf_reset(&resp->body);
    if (lv_buf_puts(&resp->body, "{\"Parameter\":") != LV_OK || lv_buf_append(&resp->body, json, len) != LV_OK ||
        lv_buf_puts(&resp->body, ",\"ResultMetadata\":{}}") != LV_OK)
        return -1;
    return 0;
}

/* Headers telling the caller where the answer came from; age_s < 0 means
 * current. */
static void mark(lv_http_response *resp, const char *state, int64_t age_s)
{
    lv_http_response_header(resp, "X-Lever-Cache", state);
    if (age_s >= 0) {
        char v[48];
        snprintf(v, sizeof v, "age=%" PRId64, age_s);
        lv_http_response_header(resp, "X-Lever-Stale", v);
    }
}

static lvc_conn *conn_get(lva_agent *a)
{
    pthread_mutex_lock(&a->pool_mu);
    lvc_conn *c = a->npool ? a->pool[--a->npool] : NULL;
    pthread_mutex_unlock(&a->pool_mu);
    return c ? c : lvc_conn_new();
}

static void conn_put(lva_agent *a, lvc_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&a->pool_mu);
    if (a->npool < POOL_MAX) {
        a->pool[a->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&a->pool_mu);
    lvc_conn_free(c);
}

/* Whether a failed call means "the upstream is not answering" (serve stale,
 * back off) rather than an answer to pass on. */
static bool is_outage(lever_status st, const lvc_reply *r)
{
    if (st == LEVER_E_UNREACHABLE || st == LEVER_E_PARSE || st == LEVER_E_NOMEM)
        return true;
    if (r->status == 0 || r->status >= 500)
        return true;
    return strcmp(r->code, "ThrottlingException") == 0;
}

/* ----------------------------------------------------------------- GET */

/* Caller holds mu. The prefix that serves name: a loaded one covering it,
 * preferring one whose watch is current. */
prefix *lva_covering(lva_agent *a, const char *name)
{
    prefix *best = NULL;
    for (size_t i = 0; i < a->nprefixes; i++) {
        prefix *p = &a->prefixes[i];
        if (!p->loaded || !lva_under(p->path, name))
            continue;
        if (best == NULL || (p->connected && !best->connected))
            best = p;
    }
    return best;
}

static int64_t age_s(int64_t since_ms)
{
    int64_t d = lva_wall_ms() - since_ms;
    return d > 0 ? d / 1000 : 0;
}

/* Caller holds mu. The on-demand entry for key as entity sees it: one
 * side of a label rollout the table holds, else the plain entry. */
static lva_entry *od_get(lva_agent *a, const char *key, const char *entity)
{
    bool rolling;
    lva_entry *r;
    lva_entry *e = lva_lr_lookup(&a->od, key, entity, true, &rolling, &r);
    return rolling ? e : lva_table_get(&a->od, key, true);
}

/* Serves from the cache when it can; returns true when resp is filled. */
static bool try_cache_locked(lva_agent *a, const lva_query *q, const char *key, const char *entity,
                             lv_http_response *resp)
{
    if (!q->selected && q->name[0] == '/') {
        prefix *p = lva_covering(a, q->name);
        if (p) {
            lva_entry *e = lva_table_get(&a->pf, q->name, false);
            if (e && (!e->secure || q->decrypt)) {
                if (put_param_body(resp, e->json, e->json_len) != 0)
                    return false;
                int64_t conf = e->confirmed_ms > p->last_ok_ms ? e->confirmed_ms : p->last_ok_ms;
                atomic_fetch_add(&a->hits, 1);
                if (!p->connected)
                    atomic_fetch_add(&a->stale, 1);
                mark(resp, p->connected ? "hit" : "stale", p->connected ? -1 : age_s(conf));
                return true;
            }
            if (e == NULL && p->connected) {
                /* The watch keeps the whole prefix current, absence included. */
                char msg[LVA_NAME_MAX + 64];
                snprintf(msg, sizeof msg, "Parameter %s not found.", q->name);
                atomic_fetch_add(&a->hits, 1);
                lva_send_error(resp, 400, "ParameterNotFound", msg);
                mark(resp, "hit", -1);
                return true;
            }
        }
    }
    lva_entry *e = od_get(a, key, entity);
    if (e == NULL)
        return false;
    int64_t now = lva_mono_ms();
    bool fresh = a->cfg.ttl_ms > 0 && now - e->fetched_mono < a->cfg.ttl_ms;
    bool backing_off = a->up_down && now < a->up_retry_at;
    if (!fresh && !backing_off)
        return false;
    if (put_param_body(resp, e->json, e->json_len) != 0)
        return false;
    atomic_fetch_add(&a->hits, 1);
    if (a->up_down || !fresh) {
        atomic_fetch_add(&a->stale, 1);
        mark(resp, "stale", age_s(e->confirmed_ms));
    } else {
        mark(resp, "hit", -1);
    }
    return true;
}

/* After a failed refresh: the last good value, if any, marked stale. */
static bool serve_stale(lva_agent *a, const char *key, const char *entity, lv_http_response *resp)
{
    bool ok = false;
    pthread_mutex_lock(&a->mu);
    lva_entry *e = od_get(a, key, entity);
    if (e && put_param_body(resp, e->json, e->json_len) == 0) {
        mark(resp, "stale", age_s(e->confirmed_ms));
        atomic_fetch_add(&a->stale, 1);
        ok = true;
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void lva_handle_get(lva_agent *a, const lv_http_request *req, lv_http_response *resp)
{
    if (lv_http_header_get(req, "X-Forwarded-For") != NULL) {
        /* a proxy in front of a loopback agent is how SSRF reaches it */
        atomic_fetch_add(&a->refused, 1);
        lva_send_error(resp, 400, "ValidationException", "requests carrying X-Forwarded-For are refused");
        return;
    }
    const char *tok = lv_http_header_get(req, TOKEN_HEADER);
    if (tok == NULL || !(ct_equal(tok, a->cfg.token) || ct_equal(tok, a->cfg.session_token))) {
        atomic_fetch_add(&a->refused, 1);
        lva_send_error(resp, 403, "AccessDeniedException",
                   tok == NULL ? "missing " TOKEN_HEADER " header" : "wrong " TOKEN_HEADER " header");
        return;
    }
    /* The entity of label rollouts: X-Lever-Entity-Id, else the agent's
     * access key id (what leverd would answer the agent itself). */
    const char *entity = lv_http_header_get(req, "X-Lever-Entity-Id");
    if (entity != NULL && !lva_lr_entity_ok(entity)) {
        atomic_fetch_add(&a->bad_requests, 1);
        lva_send_error(resp, 400, "ValidationException", "X-Lever-Entity-Id must be 1-256 printable ASCII characters");
        return;
    }
    if (entity == NULL)
        entity = a->srv.creds.access_key_id;
    lva_query q;
    char err[256];
    const char *qs = req->query ? req->query : "";
    if (lva_query_parse(qs, strlen(qs), &q, err, sizeof err) != 0) {
        atomic_fetch_add(&a->bad_requests, 1);
        lva_send_error(resp, 400, "ValidationException", err);
        return;
    }
    size_t kl = strlen(q.selector) + 3;
    char *key = malloc(kl);
    if (key == NULL) {
        lva_send_error(resp, 500, "InternalServerError", "out of memory");
        lva_query_free(&q);
        return;
    }
    /* '\n' cannot occur in a name (the parser refuses control bytes) */
    snprintf(key, kl, "%s\n%c", q.selector, q.decrypt ? 'd' : 'e');

    pthread_mutex_lock(&a->mu);
    bool done = try_cache_locked(a, &q, key, entity, resp);
    pthread_mutex_unlock(&a->mu);
    if (done)
        goto out;
    /* A miss asks the upstream even while it is thought down: there is
     * nothing to serve instead, and it may be back (the back-off only
     * spares requests that have a stale value to fall back on). */
    atomic_fetch_add(&a->misses, 1);

    lvc_conn *c = conn_get(a);
    if (c == NULL) {
        lva_send_error(resp, 500, "InternalServerError", "out of memory");
        goto out;
    }
    lvc_reply r;
    char *json = NULL, *other = NULL;
    bool secure = false;
    int64_t version = 0;
    lv_buf hdrs = LV_BUF_INIT;
    lever_status st = lva_get_parameter_ex(a, c, q.selector, q.decrypt, NULL, q.selected ? &hdrs : NULL, &r, &json,
                                       &secure, &version, err, sizeof err);
    /* A label under rollout: the other side too, so every entity is
     * answered here as leverd would answer it. */
    lvc_rollout ro;
    memset(&ro, 0, sizeof ro);
    lva_lr_side to = {0}, from = {0};
    bool rolling = false;
    if (st == LEVER_OK && q.selected) {
        lvc_raw raw;
        memset(&raw, 0, sizeof raw);
        raw.headers = hdrs;
        char rerr[160];
        if (lvc_rollout_from_raw(&raw, &ro, rerr, sizeof rerr) != 0)
            lva_log(LVA_LOG_WARN, "%s: ignoring the rollout headers: %s", q.selector, rerr);
        bool is_to = ro.active && version == strtoll(ro.to, NULL, 10);
        if (ro.active && (ro.from[0] != '\0' || !is_to)) {
            lvc_reply r2;
            bool sec2 = false;
            int64_t v2 = 0;
            char err2[256];
            lever_status s2 = lva_get_parameter_ex(a, c, q.selector, q.decrypt, is_to ? "from" : "to", NULL, &r2, &other,
                                               &sec2, &v2, err2, sizeof err2);
            lvc_reply_clear(&r2);
            if (s2 == LEVER_OK) {
                lva_lr_side mine = {json, strlen(json), secure, version}, theirs = {other, strlen(other), sec2, v2};
                to = is_to ? mine : theirs;
                from = is_to ? theirs : mine;
                rolling = true;
            } else {
                lva_log(LVA_LOG_WARN, "%s: the other side of its rollout: %s", q.selector, err2);
            }
        } else if (ro.active) {
            to = (lva_lr_side){json, strlen(json), secure, version};
            rolling = true; /* nothing to fall back on: everyone gets it */
        }
    }
    lv_buf_free(&hdrs);
    conn_put(a, c);
    if (st == LEVER_OK && rolling) {
        int64_t nw = lva_wall_ms(), nm = lva_mono_ms();
        const char *pname = json_string_value(json_object_get(json_object_get(r.body, "Parameter"), "Name"));
        pthread_mutex_lock(&a->mu);
        lva_upstream_ok_locked(a);
        if (a->cfg.max_entries > 0) {
            if (lva_lr_store(&a->od, key, pname ? pname : q.name, &ro, &to, from.json ? &from : NULL, nw, nm) != 0)
                lva_log(LVA_LOG_WARN, "out of memory caching %s", q.selector);
            else
                a->dirty = true;
            pthread_cond_broadcast(&a->cond);
        }
        pthread_mutex_unlock(&a->mu);
        const lva_lr_side *mine = from.json && !lvc_rollout_is_to(&ro, entity) ? &from : &to;
        if (put_param_body(resp, mine->json, mine->json_len) != 0)
            lva_send_error(resp, 500, "InternalServerError", "out of memory");
        else
            mark(resp, "miss", -1);
    } else if (st == LEVER_OK) {
        int64_t nw = lva_wall_ms(), nm = lva_mono_ms();
        pthread_mutex_lock(&a->mu);
        lva_upstream_ok_locked(a);
        lva_lr_forget(&a->od, key);
        if (a->cfg.max_entries > 0) {
            if (lva_table_put(&a->od, key, json_string_value(json_object_get(json_object_get(r.body, "Parameter"), "Name")),
                              json, strlen(json), secure, version, nw, nm) != 0)
                lva_log(LVA_LOG_WARN, "out of memory caching %s", q.selector);
            else
                a->dirty = true;
            pthread_cond_broadcast(&a->cond);
        }
        pthread_mutex_unlock(&a->mu);
        if (put_param_body(resp, json, strlen(json)) != 0)
            lva_send_error(resp, 500, "InternalServerError", "out of memory");
        else
            mark(resp, "miss", -1);
    } else if (is_outage(st, &r)) {
        atomic_fetch_add(&a->upstream_errors, 1);
        pthread_mutex_lock(&a->mu);
        lva_upstream_failed_locked(a, err);
        pthread_mutex_unlock(&a->mu);
        if (!serve_stale(a, key, entity, resp)) {
            if (r.status >= 400 && r.body) {
                /* the upstream's own error document, passed on */
                char *t = json_dumps(r.body, JSON_COMPACT);
                resp->status = (int)r.status;
                lv_buf_reset(&resp->body);
                if (t == NULL || lv_buf_puts(&resp->body, t) != LV_OK)
                    lva_send_error(resp, 502, "ServiceUnavailable", err);
                free(t);
            } else {
                char msg[400];
                snprintf(msg, sizeof msg, "upstream unavailable (%s); %s not cached", err, q.selector);
                lva_send_error(resp, 503, "ServiceUnavailable", msg);
            }
        }
    } else {
        /* A definitive answer (not found, invalid, denied): passed through
         * with its status and AWS error body, and whatever was cached for
         * the key is no longer true. */
        pthread_mutex_lock(&a->mu);
        lva_upstream_ok_locked(a);
        if (lva_table_del(&a->od, key))
            a->dirty = true;
        lva_lr_forget(&a->od, key);
        pthread_mutex_unlock(&a->mu);
        char *t = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
        resp->status = (int)r.status;
        lv_buf_reset(&resp->body);
        if (t == NULL || lv_buf_puts(&resp->body, t) != LV_OK)
            lva_send_error(resp, (int)r.status, r.code[0] ? r.code : "InternalServerError", err);
        free(t);
    }
    lva_free_secret(json);
    lva_free_secret(other);
    lvc_reply_clear(&r);
out:
    free(key);
    lva_query_free(&q);
}
