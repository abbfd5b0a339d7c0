/* driver.c - the deployment driver thread (rollout/rollout.h): wakes at
 * the next due step of any deployment in progress, on every AppConfig
 * change (a watch on the change log) and on alarm changes; checks the
 * environment's monitors, asks the tick hook, submits the step as an
 * engine write, and reports the change log's deployment changes to the
 * event hook. */
#include "rollout/rollout.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/appconfig.h"
#include "core/rollout.h"
#include "rollout/label_events.h"

enum {
    RECHECK_MS = 1000,   /* longest sleep: leadership and missed wake-ups */
    WATCH_MS = 3600 * 1000,
};

/* A deployment in progress as one scan saw it (references held). */
typedef struct cand {
    lv_acrec *d, *env;       /* env: NULL for a label rollout */
    bool label;
    char app[16], env_id[16];
    int64_t number, next, due_ms;
} cand;

struct lv_rollout {
    lv_rollout_config cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping, joined, kicked, armed; /* armed: our change-log watch is registered */
    uint64_t seen;                /* change-log revision reported up to */
    lv_label_events labels;       /* label rollouts' events reported (driver thread) */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lv_rollout_kick(lv_rollout *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->kicked = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

void lv_rollout_alarm_changed(void *ctx, const char *name, lv_alarm_state from, lv_alarm_state to,
                              const char *reason)
{
    (void)name, (void)from, (void)to, (void)reason;
    lv_rollout_kick(ctx);
}

static void on_watch(void *ctx)
{
    lv_rollout *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->armed = false;
    r->kicked = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

/* ---------- reporting changes to the event hook ---------- */

typedef struct event {
    const char *point;
    lv_acrec *rec;
} event;

static bool ac_kind(lv_change_kind k)
{
    return k == LV_CHANGE_AC_STARTED || k == LV_CHANGE_AC_STEP || k == LV_CHANGE_AC_COMPLETE ||
           k == LV_CHANGE_AC_ROLLED_BACK || k == LV_CHANGE_AC_STOPPED;
}

/* The deployment a change names: "<prefix>\0<app>/<env>/<profile>". */
static const lv_acrec *change_deployment(const lv_acview *v, const lv_change *c)
{
    if (c->key_len <= LV_AC_CHANGE_PREFIX_LEN)
        return NULL;
    const char *k = c->key + LV_AC_CHANGE_PREFIX_LEN;
    size_t n = c->key_len - LV_AC_CHANGE_PREFIX_LEN;
    const char *s1 = memchr(k, '/', n);
    const char *s2 = s1 ? memchr(s1 + 1, '/', n - (size_t)(s1 + 1 - k)) : NULL;
    if (s2 == NULL)
        return NULL;
    return lv_ac_get(v, "d%.*s/%.*s/%010u", (int)(s1 - k), k, (int)(s2 - s1 - 1), s1 + 1, c->version);
}

/* The record as it was at this change: the state and percentage of the
 * step reported (the record may have moved on since). */
static lv_acrec *as_of(const lv_acrec *d, const char *state, double pct)
{
    lv_acrec *c = lv_acrec_clone(d, NULL);
    char t[32];
    lv_rollout_percent_text(pct, t, sizeof t);
    if (c == NULL || lv_acrec_set_str(c, DF_STATE, state) != LV_OK || lv_acrec_set_str(c, DF_PERCENT, t) != LV_OK) {
        lv_acrec_unref(c);
        return NULL;
    }
    return c;
}

typedef struct evlist {
    event *ev;
    size_t n, cap;
} evlist;

static void push_event(void *arg, const char *point, lv_acrec *rec)
{
    evlist *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        event *ne = realloc(l->ev, cap * sizeof *ne);
        if (ne == NULL) {
            lv_acrec_unref(rec);
            return;
        }
        l->ev = ne;
        l->cap = cap;
    }
    l->ev[l->n++] = (event){point, rec};
}

/* Collects the events of the changes after r->seen (read lock held). */
static void collect_events(lv_rollout *r, event **out, size_t *nout)
{
    const lv_changelog *log = lv_engine_changelog(r->cfg.engine);
    lv_acview v;
    lv_engine_ac_view(r->cfg.engine, &v);
    *out = NULL;
    *nout = 0;
    size_t count = log->count;
    if (count == 0)
        return;
    uint64_t first = lv_changelog_first(log), last = lv_changelog_at(log, count - 1)->revision;
    uint64_t from = r->seen + 1 < first ? first : r->seen + 1;
    r->seen = last;
    if (from > last || r->cfg.hooks.event == NULL)
        return;
    size_t lo = (size_t)(from - first);
    evlist l = {NULL, 0, 0};
    for (size_t i = lo; i < count; i++) {
        const lv_change *c = lv_changelog_at(log, i);
        if (c->kind == LV_CHANGE_LABEL) {
            lv_label_events_change(&r->labels, &v, c, push_event, &l);
            continue;
        }
        if (!ac_kind(c->kind))
            continue;
        const lv_acrec *d = change_deployment(&v, c);
        if (d == NULL)
            continue;
        lv_rollout_strategy s;
        lv_rollout_of(d, &s);
        unsigned nsteps = lv_rollout_steps(&s);
        const char *point = NULL;
        lv_acrec *rec = NULL;
        switch (c->kind) {
        case LV_CHANGE_AC_STARTED:
            point = "ON_DEPLOYMENT_START";
            rec = as_of(d, "DEPLOYING", 0);
            break;
        case LV_CHANGE_AC_STEP: {
            /* Which step: the steps the record has taken, less the step
             * changes of this deployment still to come in the log. */
            int64_t later = 0;
            for (size_t j = i + 1; j < count; j++) {
                const lv_change *x = lv_changelog_at(log, j);
                later += x->kind == LV_CHANGE_AC_STEP && x->version == c->version && x->key_len == c->key_len &&
                         memcmp(x->key, c->key, c->key_len) == 0;
            }
            int64_t taken = lv_acrec_num(d, DF_STEP);
            int64_t k = (taken > (int64_t)nsteps ? (int64_t)nsteps : taken) - later;
            bool bake = k == (int64_t)nsteps && s.bake_ms > 0;
            point = bake ? "ON_DEPLOYMENT_BAKING" : "ON_DEPLOYMENT_STEP";
            rec = as_of(d, bake ? "BAKING" : "DEPLOYING", lv_rollout_percent(&s, k > 0 ? (unsigned)k : 0));
            break;
        }
        case LV_CHANGE_AC_COMPLETE:
            point = "ON_DEPLOYMENT_COMPLETE";
            rec = as_of(d, "COMPLETE", 100);
            break;
        default:
            point = "ON_DEPLOYMENT_ROLLED_BACK";
            rec = lv_acrec_ref(d);
        }
        if (rec != NULL)
            push_event(&l, point, rec);
    }
    *out = l.ev;
    *nout = l.n;
}

static void report_changes(lv_rollout *r)
{
    event *ev;
    size_t n;
    lv_engine_rdlock(r->cfg.engine);
    collect_events(r, &ev, &n);
    lv_engine_rdunlock(r->cfg.engine);
    for (size_t i = 0; i < n; i++) {
        /* Every node sees every change; the node that drives (or, for a
         * deployment that never needed driving, first claims) its clock
         * sends its events, so a hook is called once, not once a node. */
        if (r->cfg.is_leader == NULL || r->cfg.is_leader(r->cfg.leader_ctx, ev[i].rec->key))
            r->cfg.hooks.event(r->cfg.hooks.ctx, ev[i].point, ev[i].rec);
        lv_acrec_unref(ev[i].rec);
    }
    free(ev);
}

/* ---------- finding what is due ---------- */

typedef struct scan {
    lv_rollout *r;
    const lv_acview *v;
    cand *c;
    size_t n, cap;
} scan;

static bool add_cand(scan *s, const lv_acrec *d, const lv_acrec *env)
{
    if (!lv_ac_in_progress(d) || !lv_acrec_has(d, DF_STEP))
        return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        cand *nc = realloc(s->c, cap * sizeof *nc);
        if (nc == NULL)
            return false;
        s->c = nc;
        s->cap = cap;
    }
    cand *c = &s->c[s->n++];
    memset(c, 0, sizeof *c);
    c->d = lv_acrec_ref(d);
    c->env = env ? lv_acrec_ref(env) : NULL;
    c->label = env == NULL;
    snprintf(c->app, sizeof c->app, "%s", lv_acrec_str(d, DF_APP));
    snprintf(c->env_id, sizeof c->env_id, "%s", lv_acrec_str(d, DF_ENV));
    c->number = lv_acrec_num(d, DF_NUMBER);
    c->next = lv_acrec_num(d, DF_STEP) + 1;
    lv_rollout_strategy st;
    lv_rollout_of(d, &st);
    double gap = (double)lv_rollout_gap_ms(&st, (unsigned)c->next) / s->r->cfg.time_scale;
    c->due_ms = lv_acrec_num(d, DF_STEP_MS) + (int64_t)gap;
    return true;
}

static bool scan_env(void *arg, const lv_acrec *env)
{
    scan *s = arg;
    return add_cand(s, lv_ac_last_deployment(s->v, lv_acrec_str(env, EF_APP), lv_acrec_str(env, EF_ID)), env);
}

/* A label rollout in progress is always its label's newest (a second one
 * cannot start meanwhile). */
static bool scan_label(void *arg, const lv_acrec *d)
{
    return add_cand(arg, d, NULL);
}

/* ---------- alarms ---------- */

/* An exempted alarm seen out of ALARM counts again: one durable write
 * ("!<alarm>" in DF_OVERRIDE), so a restarted leverd, or the node that takes over the
 * deployment's clock, does not exempt it anew. */
static void rearm(lv_rollout *r, const cand *c, const char *alarm)
{
    lv_acreq q;
    memset(&q, 0, sizeof q);
    q.op = LV_ACOP_REARM_ALARM;
    q.target = c->label ? c->d->key : NULL;
    q.app = c->app;
    q.env = c->env_id;
    q.number = c->number;
    q.alarm = alarm;
    q.lock = -1;
    q.now_ms = now_ms();
    lv_error err;
    lv_error_clear(&err);
    lv_acrec *res = NULL;
    if (lv_engine_ac_write(r->cfg.engine, &q, &res, NULL, &err) == LV_OK)
        fprintf(stderr, "leverd: deployment %s: exempted alarm %s is out of ALARM; it counts again\n", c->d->key,
                alarm);
    else if (err.code != LV_E_AC_CONFLICT)
        fprintf(stderr, "leverd: deployment %s: cannot record alarm %s out of ALARM: %s\n", c->d->key, alarm,
                err.msg);
    lv_acrec_unref(res);
}

static bool exempt(const lv_acrec *d, const char *alarm)
{
    for (unsigned i = 0; i < lv_acrec_count(d, DF_OVERRIDE); i++) {
        const char *o = lv_acrec_item(d, DF_OVERRIDE, i)->p;
        if (strcmp(o, "*") == 0 || strcmp(o, alarm) == 0)
            return true;
    }
    return false;
}

/* The first monitor alarm in ALARM that counts, written to why. */
static bool alarm_firing(lv_rollout *r, const cand *c, char *why, size_t cap)
{
    if (r->cfg.alarm_state == NULL)
        return false;
    const lv_acrec *mr = c->label ? c->d : c->env;
    unsigned mf = c->label ? DF_MONITORS : EF_MONITORS;
    for (unsigned i = 0; i < lv_acrec_count(mr, mf); i += 2) {
        const char *arn = lv_acrec_item(mr, mf, i)->p;
        const char *m = strstr(arn, ":alarm:");
        const char *name = m ? m + 7 : arn;
        lv_alarm_state st = r->cfg.alarm_state(r->cfg.alarm_ctx, name);
        bool ex = exempt(c->d, name) && !lv_ac_rearmed(c->d, name);
        if (st != LV_ALARM_ALARM) {
            if (ex)
                rearm(r, c, name);
            continue;
        }
        if (ex)
            continue;
        snprintf(why, cap, "Alarm %s is in ALARM: rolled back (%s)", name, arn);
        return true;
    }
    return false;
}

/* ---------- driving ---------- */

static void rollback(lv_rollout *r, const cand *c, const char *by, const char *why)
{
    lv_acreq q;
    memset(&q, 0, sizeof q);
    q.op = LV_ACOP_ROLLBACK;
    q.target = c->label ? c->d->key : NULL;
    q.app = c->app;
    q.env = c->env_id;
    q.number = c->number;
    q.lock = -1;
    q.by = by;
    q.reason = why;
    q.now_ms = now_ms();
    lv_error err;
    lv_error_clear(&err);
    if (lv_engine_ac_write(r->cfg.engine, &q, NULL, NULL, &err) == LV_OK)
        fprintf(stderr, "leverd: deployment %s rolled back: %s\n", c->d->key, why);
    else if (err.code != LV_E_AC_CONFLICT)
        fprintf(stderr, "leverd: cannot roll back deployment %s: %s\n", c->d->key, err.msg);
}

static void take(lv_rollout *r, const cand *c)
{
    lv_acreq q;
    memset(&q, 0, sizeof q);
    q.op = LV_ACOP_DEPLOY_STEP;
    q.target = c->label ? c->d->key : NULL;
    q.app = c->app;
    q.env = c->env_id;
    q.number = c->number;
    q.step = c->next;
    q.lock = -1;
    q.now_ms = now_ms();
    lv_error err;
    lv_error_clear(&err);
    /* A conflict means another writer (a stop, another node) got there
     * first: the next scan sees the new record. */
    if (lv_engine_ac_write(r->cfg.engine, &q, NULL, NULL, &err) == LV_OK || err.code == LV_E_AC_CONFLICT)
        return;
    fprintf(stderr, "leverd: deployment %s step %" PRId64 ": %s\n", c->d->key, c->next, err.msg);
    /* A label that cannot be moved (its version was deleted meanwhile)
     * would fail forever: the rollout goes back instead. */
    if (c->label && err.code != LV_E_NOMEM && err.code != LV_E_UNAVAILABLE) {
        char why[1200];
        snprintf(why, sizeof why, "The label cannot be moved: %s", err.msg);
        rollback(r, c, "INTERNAL_ERROR", why);
    }
}

/* One pass over the deployments in progress; returns when to look next. */
static int64_t drive(lv_rollout *r)
{
    lv_acview v;
    scan s = {r, &v, NULL, 0, 0};
    lv_engine_rdlock(r->cfg.engine);
    lv_engine_ac_view(r->cfg.engine, &v);
    v.each(v.ctx, "e", 1, scan_env, &s);
    char lp[2] = {LV_AC_LABEL_DEPLOY, 0};
    v.each(v.ctx, lp, 1, scan_label, &s);
    lv_engine_rdunlock(r->cfg.engine);
    int64_t now = now_ms(), next = now + RECHECK_MS;
    for (size_t i = 0; i < s.n && !r->stopping; i++) {
        cand *c = &s.c[i];
        if (r->cfg.is_leader && !r->cfg.is_leader(r->cfg.leader_ctx, c->d->key))
            continue;
        char why[1400];
        if (alarm_firing(r, c, why, sizeof why)) {
            rollback(r, c, "CLOUDWATCH_ALARM", why);
            next = now;
            continue;
        }
        if (c->due_ms > now) {
            if (c->due_ms < next)
                next = c->due_ms;
            continue;
        }
        char reason[1024] = "";
        if (r->cfg.hooks.tick && !r->cfg.hooks.tick(r->cfg.hooks.ctx, c->d, reason, sizeof reason)) {
            snprintf(why, sizeof why, "AT_DEPLOYMENT_TICK: %s", reason[0] ? reason : "a hook failed");
            rollback(r, c, "APPCONFIG", why);
        } else {
            take(r, c);
        }
        next = now; /* look again at once: the record moved */
    }
    for (size_t i = 0; i < s.n; i++) {
        lv_acrec_unref(s.c[i].d);
        lv_acrec_unref(s.c[i].env);
    }
    free(s.c);
    return next;
}

static void arm_watch(lv_rollout *r)
{
    lv_watch_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.key_prefix = LV_AC_CHANGE_PREFIX;
    spec.prefix_len = LV_AC_CHANGE_PREFIX_LEN;
    spec.recursive = true;
    spec.deadline_ms = now_ms() + WATCH_MS;
    lv_error err;
    lv_error_clear(&err);
    pthread_mutex_lock(&r->mu);
    bool need = !r->armed && !r->stopping;
    if (need)
        r->armed = true; /* before registering: the callback may run at once */
    pthread_mutex_unlock(&r->mu);
    if (!need)
        return;
    if (!lv_engine_watch(r->cfg.engine, &spec, r->seen, on_watch, r, &err)) {
        pthread_mutex_lock(&r->mu);
        r->armed = false;
        /* Newer changes are there already: look at once (unless the
         * engine no longer takes watchers: then the timed wait paces). */
        if (lv_engine_revision(r->cfg.engine) > r->seen)
            r->kicked = true;
        pthread_mutex_unlock(&r->mu);
    }
}

static void *driver_main(void *arg)
{
    lv_rollout *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        bool stop = r->stopping;
        r->kicked = false;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        report_changes(r);
        int64_t next = drive(r);
        report_changes(r);
        arm_watch(r);
        pthread_mutex_lock(&r->mu);
        if (!r->kicked && !r->stopping && next > now_ms()) {
            struct timespec ts = {(time_t)(next / 1000), (long)(next % 1000) * 1000000L};
            pthread_cond_timedwait(&r->cond, &r->mu, &ts);
        }
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

lv_err lv_rollout_open(const lv_rollout_config *cfg, lv_rollout **out, lv_error *err)
{
    *out = NULL;
    if (cfg->engine == NULL || !(cfg->time_scale > 0))
        return lv_error_set(err, LV_E_INTERNAL, "rollout: an engine and a time scale > 0 are needed");
    lv_rollout *r = calloc(1, sizeof *r);
    if (r == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    r->cfg = *cfg;
    lv_engine_rdlock(cfg->engine);
    r->seen = lv_engine_revision(cfg->engine);
    if (cfg->hooks.event != NULL) {
        lv_acview v;
        lv_engine_ac_view(cfg->engine, &v);
        lv_label_events_init(&r->labels, &v);
    }
    lv_engine_rdunlock(cfg->engine);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&r->thread, NULL, driver_main, r) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->mu);
        lv_label_events_free(&r->labels);
        free(r);
        return lv_error_set(err, LV_E_INTERNAL, "rollout: cannot start the driver thread");
    }
    *out = r;
    return LV_OK;
}

void lv_rollout_stop(lv_rollout *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    bool joined = r->joined;
    r->stopping = true;
    pthread_cond_broadcast(&r->cond);
    r->joined = true;
    pthread_mutex_unlock(&r->mu);
    if (joined)
        return;
    pthread_join(r->thread, NULL);
    /* Our watch may still be registered: fire it (the engine stops taking
     * watches from here on) and wait until its callback is done with r. */
    pthread_mutex_lock(&r->mu);
    bool armed = r->armed;
    pthread_mutex_unlock(&r->mu);
    if (armed)
        lv_engine_watch_fire_all(r->cfg.engine);
    pthread_mutex_lock(&r->mu);
    while (r->armed)
        pthread_cond_wait(&r->cond, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

void lv_rollout_close(lv_rollout *r)
{
    if (r == NULL)
        return;
    lv_rollout_stop(r);
    lv_label_events_free(&r->labels);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
