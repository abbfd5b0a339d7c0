/* flags.c - liblever's feature flags: a flag source (one feature-flag
 * profile in its stored form, or a document in memory) compiled once per
 * version with the evaluator lever-agent uses (json/flagdoc.h), kept
 * current by the configuration watch, and typed accessors layered
 * environment > document > default. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/handle.h"
#include "client/parse.h"
#include "json/flagdoc.h"
#include "lever/lever.h"

enum { MSG_MAX = 1024, NAME_MAX_ = 256, STACK_KV = 32, ENV_MAX = 256 };

/* One compiled version. Evaluations hold a reference, so a new version can
 * replace it while they run. */
typedef struct snap {
    atomic_uint refs;
    lv_flagdoc *fd;
    char version[128];
} snap;

struct lever_flags {
    lever *c;                 /* NULL: a document source */
    char app[NAME_MAX_], env[NAME_MAX_], profile[NAME_MAX_];
    int env_scheme;
    char *env_prefix;
    lever_flags_fn fn;
    void *user;
    uint64_t sub_id;
    bool subscribed;

    pthread_mutex_t mu;       /* cur, gen, checked, src, the error */
    snap *cur;
    uint64_t gen;             /* of the configuration entry cur came from */
    int64_t checked;          /* handle clock when cur was last confirmed */
    lever_source src;         /* how cur was last confirmed */
    lever_status last_st;
    char last_msg[MSG_MAX];

    pthread_mutex_t refresh_mu; /* one slow-path refresh at a time */
};

/* ------------------------------------------------------------ helpers */

static void snap_release(snap *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        lv_flagdoc_free(s->fd);
        free(s);
    }
}

static lever_status record(lever_flags *f, lever_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static lever_status record(lever_flags *f, lever_status st, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&f->mu);
    f->last_st = st;
    memcpy(f->last_msg, msg, sizeof msg);
    pthread_mutex_unlock(&f->mu);
    if (f->c && st != LEVER_OK)
        lvc_h_fail(f->c, st, msg);
    return st;
}

/* Compiles a configuration's content into a new snapshot (refs 1). */
static lever_status compile(const char *data, size_t len, const char *version, snap **out, char *err,
                            size_t errlen)
{
    *out = NULL;
    snap *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return LEVER_E_NOMEM;
    }
    lv_error e = {0};
    lv_err rc = lv_flagdoc_parse(data ? data : "", len, &s->fd, NULL, &e);
    if (rc != LV_OK) {
        free(s);
        snprintf(err, errlen, "%s", rc == LV_E_NOMEM ? "out of memory" : e.msg);
        return rc == LV_E_NOMEM ? LEVER_E_NOMEM : LEVER_E_PARSE;
    }
    atomic_init(&s->refs, 1);
    snprintf(s->version, sizeof s->version, "%s", version ? version : "");
    *out = s;
    return LEVER_OK;
}

/* Replaces cur with s (consumed). Caller holds mu. */
static void install_locked(lever_flags *f, snap *s, uint64_t gen)
{
    snap *old = f->cur;
    f->cur = s;
    f->gen = gen;
    snap_release(old);
}

/* A configuration from the handle, into the source when it is a newer
 * generation. changed (may be NULL) says whether cur was replaced. */
static lever_status take(lever_flags *f, const lever_configuration *cfg, bool *changed)
{
    if (changed)
        *changed = false;
    uint64_t gen = lvc_ac_cfg_gen(cfg);
    pthread_mutex_lock(&f->mu);
    bool same = f->cur && f->gen == gen;
    pthread_mutex_unlock(&f->mu);
    if (same)
        return LEVER_OK;
    size_t len;
    const char *data = lever_configuration_data(cfg, &len);
    char err[MSG_MAX];
    snap *s;
    lever_status st = compile(data, len, lever_configuration_version(cfg), &s, err, sizeof err);
    if (st != LEVER_OK)
        return record(f, st, "%s/%s/%s version %s: not a feature flag document: %s", f->app, f->env, f->profile,
                      lever_configuration_version(cfg), err);
    pthread_mutex_lock(&f->mu);
    if (f->cur == NULL || gen > f->gen) {
        install_locked(f, s, gen);
        s = NULL;
        if (changed)
            *changed = true;
    }
    pthread_mutex_unlock(&f->mu);
    snap_release(s);
    return LEVER_OK;
}

/* The watch thread's callback: compile the new version, then tell the
 * caller. */
static void on_change(lever *c, const char *app, const char *env, const char *profile,
                      const lever_configuration *cfg, void *user)
{
    (void)app, (void)env, (void)profile;
    lever_flags *f = user;
    bool changed = false;
    if (take(f, cfg, &changed) != LEVER_OK) {
        char msg[MSG_MAX];
        lever_flags_last_error(f, msg, sizeof msg);
        lvc_h_log(c, LEVER_LOG_WARN, msg);
        return;
    }
    pthread_mutex_lock(&f->mu);
    f->checked = lvc_h_now(c);
    f->src = LEVER_SRC_CACHE;
    pthread_mutex_unlock(&f->mu);
    if (changed && f->fn)
        f->fn(f, lever_configuration_version(cfg), f->user);
}

/* The snapshot to evaluate with (a reference: release it), refreshed
 * through the handle's configuration cache once the TTL has passed (the
 * watch replaces it as soon as a version changes, so this is the fallback
 * when no watch runs). NULL when there is nothing to evaluate; the status
 * says why. */
static snap *acquire(lever_flags *f, lever_source *src, lever_status *why)
{
    *why = LEVER_OK;
    pthread_mutex_lock(&f->mu);
    bool fresh = f->cur != NULL;
    if (fresh && f->c) {
        lvc_h_settings set;
        lvc_h_get_settings(f->c, &set);
        int64_t now = lvc_h_now(f->c);
        fresh = set.ttl_ms > 0 && now - f->checked < set.ttl_ms && now >= f->checked;
    }
    if (fresh) {
        snap *s = f->cur;
        atomic_fetch_add(&s->refs, 1);
        *src = f->src;
        pthread_mutex_unlock(&f->mu);
        return s;
    }
    uint64_t gen = f->gen;
    pthread_mutex_unlock(&f->mu);

    pthread_mutex_lock(&f->refresh_mu);
    lever_configuration *cfg = NULL;
    lever_source from = LEVER_SRC_STORE;
    lever_status st = lvc_ac_read(f->c, f->app, f->env, f->profile, true, gen, &cfg, &from);
    if (st == LEVER_OK && cfg)
        st = take(f, cfg, NULL);
    lever_configuration_free(cfg);
    pthread_mutex_lock(&f->mu);
    if (st == LEVER_OK) {
        f->checked = lvc_h_now(f->c);
        f->src = from == LEVER_SRC_STORE ? LEVER_SRC_CACHE : from;
    } else if (f->cur) {
        /* the last good version, until leverd answers again */
        from = LEVER_SRC_CACHE_STALE;
        f->src = from;
    }
    snap *s = f->cur;
    if (s)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&f->mu);
    pthread_mutex_unlock(&f->refresh_mu);
    if (s == NULL) {
        char msg[MSG_MAX] = "";
        lever_status hs = lever_last_error(f->c, msg, sizeof msg);
        *why = record(f, st != LEVER_OK ? st : hs, "%s/%s/%s: %s", f->app, f->env, f->profile,
                      msg[0] ? msg : "no document");
        return NULL;
    }
    *src = from;
    return s;
}

/* ------------------------------------------------------------ sources */

static lever_flags *new_source(int scheme, const char *env_prefix)
{
    lever_flags *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    if ((f->env_prefix = strdup(env_prefix ? env_prefix : "")) == NULL) {
        free(f);
        return NULL;
    }
    f->env_scheme = scheme;
    pthread_mutex_init(&f->mu, NULL);
    pthread_mutex_init(&f->refresh_mu, NULL);
    return f;
}

static bool name_ok(const char *s)
{
    return s && *s && strlen(s) < NAME_MAX_;
}

lever_status lever_flags_open(lever *c, const char *app, const char *env, const char *profile,
                              lever_flags_fn fn, void *user, lever_flags **out)
{
    *out = NULL;
    if (c == NULL)
        return LEVER_E_INVALID;
    if (!name_ok(app) || !name_ok(env) || !name_ok(profile))
        return lvc_h_fail(c, LEVER_E_INVALID, "lever_flags_open: application, environment and profile are "
                                              "1-255 bytes");
    int scheme;
    const char *ep;
    lvc_h_env(c, &scheme, &ep);
    lever_flags *f = new_source(scheme, ep);
    if (f == NULL)
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    f->c = c;
    f->fn = fn;
    f->user = user;
    snprintf(f->app, sizeof f->app, "%s", app);
    snprintf(f->env, sizeof f->env, "%s", env);
    snprintf(f->profile, sizeof f->profile, "%s", profile);
    /* The subscription reads the document first (so errors show now) and
     * starts the watch; then the first version is compiled here. */
    lever_status st = lvc_ac_subscribe(c, app, env, profile, true, on_change, f, &f->sub_id);
    if (st == LEVER_OK) {
        f->subscribed = true;
        lever_configuration *cfg = NULL;
        lever_source from;
        st = lvc_ac_read(c, app, env, profile, true, 0, &cfg, &from);
        if (st == LEVER_OK && cfg)
            st = take(f, cfg, NULL);
        lever_configuration_free(cfg);
        f->checked = lvc_h_now(c);
        f->src = LEVER_SRC_CACHE;
    }
    if (st != LEVER_OK || f->cur == NULL) {
        char msg[MSG_MAX];
        lever_status hs = lever_last_error(c, msg, sizeof msg);
        lever_flags_close(f);
        return st != LEVER_OK ? st : (hs != LEVER_OK ? hs : LEVER_E_PARSE);
    }
    *out = f;
    return LEVER_OK;
}

lever_status lever_flags_from_document(const lever_options *o, const char *json, size_t len,
                                       lever_flags **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    int scheme = LEVER_ENV_LAST_SEGMENT;
    const char *ep = NULL;
    if (o)
        lvc_h_options_env(o, &scheme, &ep);
    lever_flags *f = new_source(scheme, ep);
    if (f == NULL || json == NULL) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", f ? "no document" : "out of memory");
        lever_flags_close(f);
        return f ? LEVER_E_INVALID : LEVER_E_NOMEM;
    }
    char err[MSG_MAX];
    snap *s;
    lever_status st = compile(json, len, "", &s, err, sizeof err);
    if (st != LEVER_OK) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", err);
        lever_flags_close(f);
        return st;
    }
    f->cur = s;
    f->src = LEVER_SRC_STORE;
    *out = f;
    return LEVER_OK;
}

void lever_flags_close(lever_flags *f)
{
    if (f == NULL)
        return;
    if (f->subscribed)
        lever_unsubscribe_configuration(f->c, f->sub_id);
    snap_release(f->cur);
    free(f->env_prefix);
    pthread_mutex_destroy(&f->mu);
    pthread_mutex_destroy(&f->refresh_mu);
    free(f);
}

void lever_flags_version(lever_flags *f, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return;
    pthread_mutex_lock(&f->mu);
    snprintf(buf, buflen, "%s", f->cur ? f->cur->version : "");
    pthread_mutex_unlock(&f->mu);
}

lever_status lever_flags_last_error(lever_flags *f, char *buf, size_t buflen)
{
    pthread_mutex_lock(&f->mu);
    lever_status st = f->last_st;
    if (buf && buflen)
        snprintf(buf, buflen, "%s", f->last_msg);
    pthread_mutex_unlock(&f->mu);
    return st;
}

/* ------------------------------------------------------------ evaluation */

const char *lever_flag_reason_str(lever_flag_reason r)
{
    switch (r) {
    case LEVER_FLAG_STATIC: return "STATIC";
    case LEVER_FLAG_DISABLED: return "DISABLED";
    case LEVER_FLAG_TARGETING_MATCH: return "TARGETING_MATCH";
    case LEVER_FLAG_SPLIT: return "SPLIT";
    case LEVER_FLAG_DEFAULT: return "DEFAULT";
    case LEVER_FLAG_ERROR: return "ERROR";
    }
    return "unknown";
}

static lever_flag_reason reason_of(lv_flag_reason r)
{
    switch (r) {
    case LV_FLAG_STATIC: return LEVER_FLAG_STATIC;
    case LV_FLAG_DISABLED: return LEVER_FLAG_DISABLED;
    case LV_FLAG_TARGETING_MATCH: return LEVER_FLAG_TARGETING_MATCH;
    case LV_FLAG_SPLIT: return LEVER_FLAG_SPLIT;
    case LV_FLAG_DEFAULT: return LEVER_FLAG_DEFAULT;
    case LV_FLAG_ERROR: break;
    }
    return LEVER_FLAG_ERROR;
}

/* An evaluation in progress: the snapshot it holds and the result, which
 * borrows from it. */
typedef struct evalx {
    snap *s;
    lever_source src;
    lv_flag_result r;
} evalx;

/* Evaluates flag for ctx into x (release x->s after). Returns LEVER_OK, or
 * why there is nothing (recorded). */
static lever_status eval(lever_flags *f, const char *flag, const lever_context *ctx, evalx *x)
{
    x->s = NULL;
    if (flag == NULL)
        return record(f, LEVER_E_INVALID, "no flag named");
    if (ctx && ctx->n && ctx->kv == NULL)
        return record(f, LEVER_E_INVALID, "flag %s: a context with %zu values and no array", flag, ctx->n);
    /* The public pairs are copied into the evaluator's (on the stack for
     * the usual few), so the public layout is free to differ. */
    lv_flag_kv stack[STACK_KV], *kv = stack;
    size_t n = ctx ? ctx->n : 0;
    if (n > STACK_KV && (kv = malloc(n * sizeof *kv)) == NULL)
        return record(f, LEVER_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const lever_ctx_kv *p = &ctx->kv[i];
        if (p->key == NULL || p->value == NULL) {
            if (kv != stack)
                free(kv);
            return record(f, LEVER_E_INVALID, "flag %s: context value %zu has no key or no value", flag, i);
        }
        kv[i] = (lv_flag_kv){p->key, p->value,
                             p->type == LEVER_CTX_NUMBER ? LV_FV_NUMBER
                             : p->type == LEVER_CTX_BOOL ? LV_FV_BOOL
                                                         : LV_FV_STRING};
    }
    lv_flag_context lc = {kv, n, ctx ? ctx->entity_id : NULL};
    lever_status why;
    x->s = acquire(f, &x->src, &why);
    if (x->s == NULL) {
        if (kv != stack)
            free(kv);
        return why;
    }
    lv_flagdoc_eval(x->s->fd, flag, ctx ? &lc : NULL, &x->r);
    if (kv != stack)
        free(kv);
    if (x->r.reason == LV_FLAG_ERROR && x->r.error_code && strcmp(x->r.error_code, "FLAG_NOT_FOUND") == 0) {
        snap_release(x->s);
        x->s = NULL;
        return record(f, LEVER_E_NOT_FOUND, "no flag %s in the document", flag);
    }
    return LEVER_OK;
}

char *lever_flag_env_name(lever_flags *f, const char *flag, const char *attr)
{
    if (f == NULL || flag == NULL || f->env_scheme == LEVER_ENV_NONE)
        return NULL;
    const char *suffix = attr == NULL ? "enabled" : strcmp(attr, "_variant") == 0 ? "variant" : attr;
    size_t n = strlen(flag) + strlen(suffix) + 2;
    char *key = malloc(n);
    if (key == NULL)
        return NULL;
    snprintf(key, n, "%s_%s", flag, suffix);
    char *env = lvc_env_name("", key, LEVER_ENV_FULL_PATH, f->env_prefix);
    free(key);
    return env;
}

/* The environment layer: the variable's value, or NULL. name receives the
 * variable's name. */
static const char *env_value(lever_flags *f, const char *flag, const char *suffix, char *name, size_t cap)
{
    if (f->env_scheme == LEVER_ENV_NONE)
        return NULL;
    char key[2 * NAME_MAX_];
    if ((size_t)snprintf(key, sizeof key, "%s_%s", flag, suffix) >= sizeof key)
        return NULL;
    if (lvc_env_name_into("", key, LEVER_ENV_FULL_PATH, f->env_prefix, name, cap) < 0)
        return NULL;
    return getenv(name);
}

static void env_unusable(lever_flags *f, const char *name, const char *what)
{
    /* the value is not shown: it may be a secret */
    record(f, LEVER_E_PARSE, "environment variable %s: value is not a valid %s; ignored", name, what);
    if (f->c) {
        char msg[MSG_MAX];
        snprintf(msg, sizeof msg, "lever: environment variable %s: value is not a valid %s; ignored", name, what);
        lvc_h_log(f->c, LEVER_LOG_WARN, msg);
    }
}

static void set_src(lever_source *src, lever_source v)
{
    if (src)
        *src = v;
}

lever_status lever_flag_enabled(lever_flags *f, const char *flag, const lever_context *ctx, bool def,
                                bool *out, lever_source *src)
{
    *out = def;
    set_src(src, LEVER_SRC_DEFAULT);
    char name[ENV_MAX];
    const char *ev = flag ? env_value(f, flag, "enabled", name, sizeof name) : NULL;
    if (ev) {
        if (lvc_parse_bool(ev, out) == 0) {
            set_src(src, LEVER_SRC_ENV);
            return LEVER_OK;
        }
        *out = def;
        env_unusable(f, name, "boolean");
    }
    evalx x;
    lever_status st = eval(f, flag, ctx, &x);
    if (st != LEVER_OK)
        return st;
    *out = x.r.enabled;
    set_src(src, x.src);
    snap_release(x.s);
    return LEVER_OK;
}

static lever_status dup_out(lever_flags *f, const char *v, char **out)
{
    if (v == NULL) {
        *out = NULL;
        return LEVER_OK;
    }
    if ((*out = strdup(v)) == NULL)
        return record(f, LEVER_E_NOMEM, "out of memory");
    return LEVER_OK;
}

lever_status lever_flag_variant(lever_flags *f, const char *flag, const lever_context *ctx, const char *def,
                                char **out, lever_source *src)
{
    *out = NULL;
    set_src(src, LEVER_SRC_DEFAULT);
    char name[ENV_MAX];
    const char *ev = flag ? env_value(f, flag, "variant", name, sizeof name) : NULL;
    if (ev && *ev) {
        set_src(src, LEVER_SRC_ENV);
        return dup_out(f, ev, out);
    }
    evalx x;
    lever_status st = eval(f, flag, ctx, &x);
    if (st == LEVER_OK && x.r.variant == NULL)
        st = record(f, LEVER_E_NOT_FOUND, "flag %s has no variants", flag);
    if (st != LEVER_OK) {
        snap_release(x.s);
        lever_status ds = dup_out(f, def, out);
        return ds != LEVER_OK ? ds : st;
    }
    st = dup_out(f, x.r.variant, out);
    if (st == LEVER_OK)
        set_src(src, x.src);
    snap_release(x.s);
    return st;
}

typedef enum { A_BOOL, A_INT, A_DOUBLE, A_STRING } atype;

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* Converts a document attribute to the wanted type, or says why not. */
static lever_status attr_value(lever_flags *f, const char *flag, const char *attr, const json_t *v, atype t,
                               void *out)
{
    static const char *const want[] = {"a boolean", "an integer", "a number", "a string"};
    switch (t) {
    case A_BOOL:
        if (json_is_boolean(v)) {
            *(bool *)out = json_is_true(v);
            return LEVER_OK;
        }
        break;
    case A_INT:
        if (json_is_integer(v)) {
            *(int64_t *)out = (int64_t)json_integer_value(v);
            return LEVER_OK;
        }
        if (json_is_real(v)) {
            double d = json_real_value(v);
            /* a number without a fraction is an integer (AWS's "number") */
            if (d == (double)(int64_t)d && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
                *(int64_t *)out = (int64_t)d;
                return LEVER_OK;
            }
            return record(f, LEVER_E_INVALID, "attribute %s of flag %s is a number with a fraction, not an integer",
                          attr, flag);
        }
        break;
    case A_DOUBLE:
        if (json_is_number(v)) {
            *(double *)out = json_number_value(v);
            return LEVER_OK;
        }
        break;
    case A_STRING:
        if (json_is_string(v))
            return dup_out(f, json_string_value(v), out);
        break;
    }
    return record(f, LEVER_E_INVALID, "attribute %s of flag %s is %s, not %s", attr, flag, json_kind(v), want[t]);
}

static lever_status attr_env(lever_flags *f, const char *name, const char *ev, atype t, void *out)
{
    int rc = -1;
    switch (t) {
    case A_BOOL: rc = lvc_parse_bool(ev, out); break;
    case A_INT: rc = lvc_parse_int(ev, out); break;
    case A_DOUBLE: rc = lvc_parse_double(ev, out); break;
    case A_STRING: return dup_out(f, ev, out);
    }
    if (rc == 0)
        return LEVER_OK;
    static const char *const what[] = {"boolean", "integer", "number", "string"};
    env_unusable(f, name, what[t]);
    return LEVER_E_PARSE;
}

/* The layered attribute read: env, then the evaluated value, then def
 * (copied into out by the caller when this fails). */
static lever_status attr(lever_flags *f, const char *flag, const char *name_, const lever_context *ctx, atype t,
                         void *out, lever_source *src)
{
    set_src(src, LEVER_SRC_DEFAULT);
    if (name_ == NULL || *name_ == '\0')
        return record(f, LEVER_E_INVALID, "flag %s: no attribute named", flag ? flag : "?");
    char name[ENV_MAX];
    const char *ev = flag ? env_value(f, flag, name_, name, sizeof name) : NULL;
    if (ev) {
        lever_status es = attr_env(f, name, ev, t, out);
        if (es == LEVER_OK) {
            set_src(src, LEVER_SRC_ENV);
            return LEVER_OK;
        }
        if (es == LEVER_E_NOMEM)
            return es;
    }
    evalx x;
    lever_status st = eval(f, flag, ctx, &x);
    if (st != LEVER_OK)
        return st;
    const json_t *v = x.r.attributes ? json_object_get(x.r.attributes, name_) : NULL;
    if (!x.r.enabled)
        st = record(f, LEVER_E_NOT_FOUND, "flag %s is disabled for this context: it serves no attributes", flag);
    else if (v == NULL)
        st = record(f, LEVER_E_NOT_FOUND, "flag %s has no attribute %s for this context", flag, name_);
    else
        st = attr_value(f, flag, name_, v, t, out);
    if (st == LEVER_OK)
        set_src(src, x.src);
    snap_release(x.s);
    return st;
}

lever_status lever_flag_bool(lever_flags *f, const char *flag, const char *name, const lever_context *ctx,
                             bool def, bool *out, lever_source *src)
{
    bool v;
    lever_status st = attr(f, flag, name, ctx, A_BOOL, &v, src);
    *out = st == LEVER_OK ? v : def;
    return st;
}

lever_status lever_flag_int(lever_flags *f, const char *flag, const char *name, const lever_context *ctx,
                            int64_t def, int64_t *out, lever_source *src)
{
    int64_t v;
    lever_status st = attr(f, flag, name, ctx, A_INT, &v, src);
    *out = st == LEVER_OK ? v : def;
    return st;
}

lever_status lever_flag_double(lever_flags *f, const char *flag, const char *name, const lever_context *ctx,
                               double def, double *out, lever_source *src)
{
    double v;
    lever_status st = attr(f, flag, name, ctx, A_DOUBLE, &v, src);
    *out = st == LEVER_OK ? v : def;
    return st;
}

lever_status lever_flag_string(lever_flags *f, const char *flag, const char *name, const lever_context *ctx,
                               const char *def, char **out, lever_source *src)
{
    char *v = NULL;
    *out = NULL;
    lever_status st = attr(f, flag, name, ctx, A_STRING, &v, src);
    if (st == LEVER_OK) {
        *out = v;
        return LEVER_OK;
    }
    lever_status ds = dup_out(f, def, out);
    return ds != LEVER_OK ? ds : st;
}

lever_status lever_flag_evaluate(lever_flags *f, const char *flag, const lever_context *ctx,
                                 lever_flag_result *out)
{
    memset(out, 0, sizeof *out);
    out->src = LEVER_SRC_DEFAULT;
    out->reason = LEVER_FLAG_ERROR;
    evalx x;
    lever_status st = eval(f, flag, ctx, &x);
    if (st == LEVER_E_NOT_FOUND) {
        /* OpenFeature's FLAG_NOT_FOUND: off, as lever-agent answers it */
        if ((out->value_json = strdup("{\"enabled\":false}")) == NULL)
            return record(f, LEVER_E_NOMEM, "out of memory");
        return st;
    }
    if (st != LEVER_OK)
        return st;
    json_t *v = lv_flag_result_value(&x.r, false);
    out->value_json = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (out->value_json == NULL || dup_out(f, x.r.variant, &out->variant) != LEVER_OK) {
        snap_release(x.s);
        lever_flag_result_clear(out);
        return record(f, LEVER_E_NOMEM, "out of memory");
    }
    out->enabled = x.r.enabled;
    out->reason = reason_of(x.r.reason);
    out->src = x.src;
    snap_release(x.s);
    return LEVER_OK;
}

void lever_flag_result_clear(lever_flag_result *r)
{
    if (r == NULL)
        return;
    free(r->variant);
    free(r->value_json);
    r->variant = NULL;
    r->value_json = NULL;
}
