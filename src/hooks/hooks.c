/* hooks.c - preparing webhook calls (which actions apply, their signed
 * events) and running the synchronous points: every applicable action at
 * once on a private libcurl multi handle, bounded by one scaled timeout,
 * so a hook that hangs costs its caller at most that long. */
#include "hooks/hooks_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/hex.h"
#include "json/hookevent.h"

int64_t lv_hooks_mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t real_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void uuid(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        uint64_t x = (uint64_t)real_ms() ^ (uint64_t)(uintptr_t)out;
        for (int i = 0; i < 16; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            b[i] = (unsigned char)(x >> 56);
    }
    lv_uuid4_text(b, out);
}

lv_err lv_hooks_open(lv_engine *e, const lv_hooks_config *cfg, lv_hooks **out, lv_error *err)
{
    if (cfg->key == NULL || cfg->key_len == 0)
        return lv_error_set(err, LV_E_INTERNAL, "the hook signing key is empty");
    lv_hooks *h = calloc(1, sizeof *h);
    size_t qmax = cfg->queue_max ? cfg->queue_max : LV_HOOKS_QUEUE_MAX;
    if (h == NULL || (h->key = malloc(cfg->key_len)) == NULL || (h->q = calloc(qmax, sizeof *h->q)) == NULL) {
        if (h)
            free(h->key);
        free(h);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    memcpy(h->key, cfg->key, cfg->key_len);
    h->key_len = cfg->key_len;
    h->qcap = qmax;
    h->engine = e;
    double scale = cfg->time_scale > 0 ? cfg->time_scale : 1;
    double ms = (double)(cfg->timeout_s ? cfg->timeout_s : LV_HOOKS_TIMEOUT_S) * 1000.0 / scale;
    h->timeout_ms = ms < LV_HOOKS_TIMEOUT_FLOOR_MS ? LV_HOOKS_TIMEOUT_FLOOR_MS : (long)ms;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->idle, NULL);
    lv_err rc = lv_hooks_async_start(h, err);
    if (rc != LV_OK) {
        lv_hooks_close(h);
        return rc;
    }
    *out = h;
    return LV_OK;
}

void lv_hooks_stopping(lv_hooks *h)
{
    /* Only the calls that hold a parked request: a tick in flight is the
     * driver's, and cutting it short would roll its deployment back. */
    if (h != NULL)
        atomic_store(&h->draining, true);
}

void lv_hooks_close(lv_hooks *h)
{
    if (h == NULL)
        return;
    atomic_store(&h->stopping, true);
    lv_hooks_async_stop(h);
    for (size_t i = 0; i < h->qlen; i++)
        lv_acrec_unref(h->q[(h->qhead + i) % h->qcap].deployment);
    free(h->q);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->idle);
    if (h->key)
        memset(h->key, 0, h->key_len);
    free(h->key);
    free(h);
}

void lv_hooks_stats_get(lv_hooks *h, lv_hooks_stats *out)
{
    memset(out, 0, sizeof *out);
    if (h == NULL)
        return;
    out->calls = atomic_load(&h->calls);
    out->failures = atomic_load(&h->failures);
    out->vetoes = atomic_load(&h->vetoes);
    out->dropped = atomic_load(&h->dropped);
    pthread_mutex_lock(&h->mu);
    out->queued = h->qlen;
    pthread_mutex_unlock(&h->mu);
}

void lv_hooks_metrics(lv_hooks *h, lv_buf *b)
{
    if (h == NULL)
        return;
    lv_hooks_stats st;
    lv_hooks_stats_get(h, &st);
    lv_buf_printf(b,
                  "# HELP lever_hook_calls_total Extension webhook calls made.\n# TYPE lever_hook_calls_total counter\n"
                  "lever_hook_calls_total %llu\n"
                  "# HELP lever_hook_failures_total Webhook calls with no answer in time or not 2xx.\n"
                  "# TYPE lever_hook_failures_total counter\nlever_hook_failures_total %llu\n"
                  "# HELP lever_hook_vetoes_total Synchronous hook points refused (vetoes and tick rollbacks).\n"
                  "# TYPE lever_hook_vetoes_total counter\nlever_hook_vetoes_total %llu\n"
                  "# HELP lever_hook_dropped_total Asynchronous hook events dropped on a full queue.\n"
                  "# TYPE lever_hook_dropped_total counter\nlever_hook_dropped_total %llu\n"
                  "# HELP lever_hook_queued Asynchronous hook events waiting.\n# TYPE lever_hook_queued gauge\n"
                  "lever_hook_queued %llu\n",
                  (unsigned long long)st.calls, (unsigned long long)st.failures, (unsigned long long)st.vetoes,
                  (unsigned long long)st.dropped, (unsigned long long)st.queued);
}

/* ---------- which calls ---------- */

static bool count_one(void *arg, const lv_ac_hook *hk)
{
    (void)hk;
    (void)arg;
    return false; /* one is enough */
}

bool lv_hooks_wanted(lv_hooks *h, const char *point, const char *app, const char *env, const char *profile)
{
    if (h == NULL || app == NULL)
        return false;
    lv_acview v;
    lv_engine_rdlock(h->engine);
    lv_engine_ac_view(h->engine, &v);
    unsigned n = lv_ac_hooks_find(&v, point, app, env, profile, count_one, NULL);
    lv_engine_rdunlock(h->engine);
    return n > 0;
}

bool lv_hooks_wanted_param(lv_hooks *h, const char *point, const char *region, const char *name)
{
    if (h == NULL || region == NULL || name == NULL)
        return false;
    lv_acview v;
    lv_engine_rdlock(h->engine);
    lv_engine_ac_view(h->engine, &v);
    unsigned n = lv_ac_hooks_find_param(&v, point, region, name, count_one, NULL);
    lv_engine_rdunlock(h->engine);
    return n > 0;
}

typedef struct prep {
    lv_hooks *h;
    const char *point;
    const lv_hooks_target *t;
    lv_hookevent ev;
    lv_hook_call *calls;
    size_t n, cap;
    lv_err rc;
} prep;

static bool add_call(void *arg, const lv_ac_hook *hk)
{
    prep *p = arg;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        lv_hook_call *nc = realloc(p->calls, cap * sizeof *nc);
        if (nc == NULL) {
            p->rc = LV_E_NOMEM;
            return false;
        }
        p->calls = nc;
        p->cap = cap;
    }
    lv_hook_call *c = &p->calls[p->n];
    memset(c, 0, sizeof *c);
    const lv_acstr *uri = lv_acrec_item(hk->ext, XF_ACTIONS, hk->action + 3);
    c->url = strndup(uri->p, uri->n);
    if (c->url == NULL) {
        p->rc = LV_E_NOMEM;
        return false;
    }
    p->n++;
    snprintf(c->point, sizeof c->point, "%s", p->point);
    snprintf(c->ext_id, sizeof c->ext_id, "%s", lv_acrec_str(hk->ext, XF_ID));
    snprintf(c->ext_name, sizeof c->ext_name, "%s", lv_acrec_str(hk->ext, XF_NAME));
    snprintf(c->action, sizeof c->action, "%s", lv_acrec_item(hk->ext, XF_ACTIONS, hk->action + 1)->p);
    const lv_acrec *d = p->t->deployment;
    if (p->ev.param_name != NULL)
        snprintf(c->where, sizeof c->where, "%.24s:%.8s #%" PRId64, p->ev.param_name, p->ev.param_label,
                 d ? lv_acrec_num(d, DF_NUMBER) : 0);
    else if (d != NULL)
        snprintf(c->where, sizeof c->where, "%.7s/%.7s #%" PRId64, lv_acrec_str(d, DF_APP), lv_acrec_str(d, DF_ENV),
                 lv_acrec_num(d, DF_NUMBER));
    else
        snprintf(c->where, sizeof c->where, "%.7s/%.7s", p->t->app ? p->t->app : "",
                 p->t->env ? p->t->env : p->t->profile ? p->t->profile : "");
    uuid(c->invocation);
    p->ev.invocation_id = c->invocation;
    p->ev.ext = hk->ext;
    p->ev.assoc = hk->assoc;
    p->ev.action = hk->action;
    if ((p->rc = lv_hookevent_build(&p->ev, &c->body)) != LV_OK)
        return false;
    lv_hooksig_sign(p->h->key, p->h->key_len, real_ms() / 1000, c->body.data, c->body.len, c->sig);
    return true;
}

void lv_hook_calls_free(lv_hook_call *c, size_t n)
{
    for (size_t i = 0; c != NULL && i < n; i++) {
        free(c[i].url);
        lv_buf_free(&c[i].body);
        lv_buf_free(&c[i].answer);
        curl_slist_free_all(c[i].hdr);
        if (c[i].easy)
            curl_easy_cleanup(c[i].easy);
    }
    free(c);
}

/* A label rollout's calls: the actions associated with its parameter. */
static lv_err prepare_label(lv_hooks *h, const char *point, const lv_hooks_target *t, lv_hook_call **out, size_t *n,
                            lv_error *err)
{
    prep p;
    memset(&p, 0, sizeof p);
    p.h = h;
    p.point = point;
    p.t = t;
    const lv_acrec *d = t->deployment;
    lv_hookevent *ev = &p.ev;
    ev->point = point;
    ev->param_region = d ? lv_acrec_str(d, DF_APP) : t->region;
    ev->param_name = d ? lv_acrec_str(d, DF_ENV) : t->param;
    ev->param_label = d ? lv_acrec_str(d, DF_PROFILE) : t->label;
    ev->deployment = d;
    ev->version = t->version;
    ev->description = t->description;
    ev->strategy = t->strategy;
    ev->created_by = t->created_by;
    ev->now_ms = real_ms();
    lv_acview v;
    lv_engine_rdlock(h->engine);
    lv_engine_ac_view(h->engine, &v);
    lv_ac_hooks_find_param(&v, point, ev->param_region, ev->param_name, add_call, &p);
    lv_engine_rdunlock(h->engine);
    if (p.rc != LV_OK) {
        lv_hook_calls_free(p.calls, p.n);
        return lv_error_set(err, p.rc, "out of memory");
    }
    *out = p.calls;
    *n = p.n;
    return LV_OK;
}

lv_err lv_hook_prepare(lv_hooks *h, const char *point, const lv_hooks_target *t, lv_hook_call **out, size_t *n,
                       lv_error *err)
{
    *out = NULL;
    *n = 0;
    prep p;
    memset(&p, 0, sizeof p);
    p.h = h;
    p.point = point;
    p.t = t;
    const lv_acrec *d = t->deployment;
    if ((d != NULL && d->klen > 0 && d->key[0] == LV_AC_LABEL_DEPLOY) || (d == NULL && t->param != NULL))
        return prepare_label(h, point, t, out, n, err);
    const char *app = d ? lv_acrec_str(d, DF_APP) : t->app;
    const char *env = d ? lv_acrec_str(d, DF_ENV) : t->env;
    const char *prof = d ? lv_acrec_str(d, DF_PROFILE) : t->profile;
    lv_acview v;
    lv_engine_rdlock(h->engine);
    lv_engine_ac_view(h->engine, &v);
    const lv_acrec *a = lv_ac_get(&v, "a%s", app ? app : "");
    const lv_acrec *e = env ? lv_ac_get(&v, "e%s/%s", app, env) : NULL;
    const lv_acrec *pr = prof ? lv_ac_get(&v, "p%s/%s", app, prof) : NULL;
    lv_hookevent *ev = &p.ev;
    ev->point = point;
    ev->app = app;
    ev->app_name = a ? lv_acrec_str(a, AF_NAME) : NULL;
    ev->env = env;
    ev->env_name = e ? lv_acrec_str(e, EF_NAME) : NULL;
    ev->profile = prof;
    ev->profile_name = pr ? lv_acrec_str(pr, PF_NAME) : NULL;
    ev->deployment = d;
    ev->content = t->content;
    ev->content_len = t->content_len;
    ev->content_type = t->content_type;
    ev->version = t->version;
    ev->version_label = t->version_label;
    ev->description = t->description;
    ev->strategy = t->strategy;
    ev->created_by = t->created_by;
    ev->now_ms = real_ms();
    /* A pre-start hook sees what it is asked to let out. */
    if (t->content == NULL && strcmp(point, LV_HOOK_PRE_START) == 0 && pr != NULL && t->version != NULL &&
        lv_ac_location(lv_acrec_str(pr, PF_LOCATION), NULL) == LV_AC_LOC_HOSTED) {
        char *end;
        long long num = strtoll(t->version, &end, 10);
        const lv_acrec *hv = *end == '\0' && num > 0 ? lv_ac_get(&v, "h%s/%s/%010lld", app, prof, num) : NULL;
        if (hv != NULL) {
            ev->content = lv_acrec_str(hv, HF_CONTENT);
            ev->content_len = lv_acrec_len(hv, HF_CONTENT);
            ev->content_type = lv_acrec_str(hv, HF_CTYPE);
            if (ev->version_label == NULL || ev->version_label[0] == '\0')
                ev->version_label = lv_acrec_str(hv, HF_LABEL);
        }
    }
    if (a != NULL)
        lv_ac_hooks_find(&v, point, app, env, prof, add_call, &p);
    lv_engine_rdunlock(h->engine);
    if (p.rc != LV_OK) {
        lv_hook_calls_free(p.calls, p.n);
        return lv_error_set(err, p.rc, "out of memory");
    }
    *out = p.calls;
    *n = p.n;
    return LV_OK;
}

/* ---------- one transfer ---------- */

static size_t keep_answer(char *p, size_t size, size_t nmemb, void *ctx)
{
    lv_hook_call *c = ctx;
    size_t n = size * nmemb;
    size_t room = c->answer.len < LV_HOOK_ANSWER_MAX ? LV_HOOK_ANSWER_MAX - c->answer.len : 0;
    if (room > 0)
        lv_buf_append(&c->answer, p, n < room ? n : room);
    return n;
}

bool lv_hook_easy(lv_hooks *h, lv_hook_call *c)
{
    c->easy = curl_easy_init();
    if (c->easy == NULL)
        return false;
    char line[160];
    snprintf(line, sizeof line, "%s: %s", LV_HOOKSIG_HEADER, c->sig);
    struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
    if (l)
        c->hdr = l;
    if (l && (l = curl_slist_append(c->hdr, line)) != NULL)
        c->hdr = l;
    snprintf(line, sizeof line, "X-Lever-Hook-Point: %s", c->point);
    if (l && (l = curl_slist_append(c->hdr, line)) != NULL)
        c->hdr = l;
    snprintf(line, sizeof line, "X-Lever-Invocation-Id: %s", c->invocation);
    if (l && (l = curl_slist_append(c->hdr, line)) != NULL)
        c->hdr = l;
    if (l == NULL || (l = curl_slist_append(c->hdr, "Expect:")) == NULL)
        return false;
    c->hdr = l;
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body.data ? c->body.data : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body.len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->hdr);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "lever-hooks/1");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    c->res = CURLE_OK;
    c->status = 0;
    c->started_ms = lv_hooks_mono_ms();
    return true;
}

bool lv_hook_done(lv_hooks *h, lv_hook_call *c, char *why, size_t cap)
{
    if (c->easy != NULL && c->res == CURLE_OK)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
    bool ok = c->res == CURLE_OK && c->status >= 200 && c->status < 300;
    atomic_fetch_add(&h->calls, 1);
    if (!ok)
        atomic_fetch_add(&h->failures, 1);
    char said[151]; /* 150 characters, as docs/rollouts.md says */
    lv_hookevent_reason(c->answer.data, c->answer.len, said, sizeof said);
    char what[400];
    if (c->res == CURLE_OK)
        snprintf(what, sizeof what, "HTTP %ld%s%s", c->status, said[0] ? ": " : "", said);
    else
        snprintf(what, sizeof what, "no answer: %.300s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(c->res));
    long ms = (long)(lv_hooks_mono_ms() - c->started_ms);
    fprintf(stderr, "leverd: hook %s %s: extension %s (%s) action %s -> %s: %s in %ld ms\n", c->point, c->where,
            c->ext_name, c->ext_id, c->action, c->url, what, ms);
    if (!ok && why != NULL)
        snprintf(why, cap, "Extension %s (%s) %s %s: %s answered %s", c->ext_name, c->ext_id,
                 lv_ac_hook_point_sync(c->point) ? "refused" : "failed at", c->point, c->url, what);
    return ok;
}

/* ---------- synchronous points ---------- */

/* Runs every call at once; true when all answered 2xx. why: the first
 * failure (in action order). */
static bool run_sync(lv_hooks *h, lv_hook_call *calls, size_t n, char *why, size_t cap)
{
    bool pre = strcmp(calls[0].point, LV_HOOK_TICK) != 0;
    atomic_bool *quit = pre ? &h->draining : &h->stopping;
    if (atomic_load(&h->stopping) || atomic_load(quit)) {
        snprintf(why, cap, "Extension %s (%s) was not called: leverd is stopping", calls[0].ext_name,
                 calls[0].ext_id);
        return false;
    }
    CURLM *m = curl_multi_init();
    bool ok = m != NULL;
    size_t added = 0;
    for (size_t i = 0; ok && i < n; i++) {
        ok = lv_hook_easy(h, &calls[i]) && curl_multi_add_handle(m, calls[i].easy) == CURLM_OK;
        if (ok)
            added++;
    }
    if (!ok) {
        snprintf(why, cap, "Extension %s (%s) was not called: out of memory", calls[0].ext_name, calls[0].ext_id);
        for (size_t i = 0; i < added; i++)
            curl_multi_remove_handle(m, calls[i].easy);
        curl_multi_cleanup(m);
        return false;
    }
    /* Each transfer has its own timeout; the deadline is a backstop. */
    int64_t deadline = lv_hooks_mono_ms() + h->timeout_ms + 1000;
    int running = (int)n;
    while (running > 0) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            lv_hook_call *c = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            c->res = msg->data.result;
        }
        if (running == 0)
            break;
        if (atomic_load(&h->stopping) || atomic_load(quit) || lv_hooks_mono_ms() > deadline)
            break;
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    bool all = true;
    for (size_t i = 0; i < n; i++) {
        if (running > 0) {
            /* Cut short: anything that did not finish counts as no answer. */
            long code = 0;
            curl_easy_getinfo(calls[i].easy, CURLINFO_RESPONSE_CODE, &code);
            if (code == 0 && calls[i].res == CURLE_OK) {
                calls[i].res = CURLE_OPERATION_TIMEDOUT;
                snprintf(calls[i].errbuf, sizeof calls[i].errbuf, "%s",
                         atomic_load(&h->stopping) || atomic_load(quit) ? "leverd is stopping" : "timed out");
            }
        }
        curl_multi_remove_handle(m, calls[i].easy);
        bool one = lv_hook_done(h, &calls[i], all ? why : NULL, cap);
        all = all && one;
    }
    curl_multi_cleanup(m);
    return all;
}

lv_err lv_hooks_pre(lv_hooks *h, const char *point, const lv_hooks_target *t, lv_error *err)
{
    if (h == NULL)
        return LV_OK;
    lv_hook_call *calls;
    size_t n;
    lv_err rc = lv_hook_prepare(h, point, t, &calls, &n, err);
    if (rc != LV_OK || n == 0)
        return rc;
    char why[LV_HOOKS_REASON_MAX];
    why[0] = '\0';
    if (!run_sync(h, calls, n, why, sizeof why)) {
        atomic_fetch_add(&h->vetoes, 1);
        fprintf(stderr, "leverd: hook %s vetoed: %s\n", point, why);
        rc = lv_error_set(err, LV_E_AC_BAD_REQUEST, "%s", why);
    }
    lv_hook_calls_free(calls, n);
    return rc;
}

bool lv_hooks_tick(void *ctx, const lv_acrec *deployment, char *reason, size_t reason_len)
{
    lv_hooks *h = ctx;
    if (h == NULL || deployment == NULL)
        return true;
    lv_hooks_target t;
    memset(&t, 0, sizeof t);
    t.deployment = deployment;
    lv_hook_call *calls;
    size_t n;
    lv_error err;
    lv_error_clear(&err);
    if (lv_hook_prepare(h, LV_HOOK_TICK, &t, &calls, &n, &err) != LV_OK) {
        /* Out of memory is not the hook's verdict: keep going. */
        fprintf(stderr, "leverd: hook %s: %s\n", LV_HOOK_TICK, err.msg);
        return true;
    }
    if (n == 0)
        return true;
    char why[LV_HOOKS_REASON_MAX];
    why[0] = '\0';
    bool ok = run_sync(h, calls, n, why, sizeof why);
    if (!ok) {
        atomic_fetch_add(&h->vetoes, 1);
        fprintf(stderr, "leverd: hook %s rolls deployment %s back: %s\n", LV_HOOK_TICK, calls[0].where, why);
        if (reason != NULL && reason_len > 0)
            snprintf(reason, reason_len, "%s", why);
    }
    lv_hook_calls_free(calls, n);
    return ok;
}
