/* appconfig.c - AppConfig rules: ids, lookups over a view, the predefined
 * strategies, and the plans of applications, environments, profiles,
 * hosted versions, custom strategies and tags (deployments, extensions
 * and associations are in ac_deploy.c). */
#include "core/appconfig.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lv_ac_valid_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9')))
            return false;
    return n == 7;
}

void lv_ac_make_id(const unsigned char rnd[7], char out[8])
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 7; i++)
        out[i] = al[rnd[i] % 36];
    out[7] = '\0';
}

lv_ac_loc lv_ac_location(const char *uri, const char **ssm_name)
{
    if (strcmp(uri, "hosted") == 0)
        return LV_AC_LOC_HOSTED;
    if (strncmp(uri, "ssm-parameter://", 16) == 0 && uri[16] != '\0') {
        if (ssm_name)
            *ssm_name = uri + 16;
        return LV_AC_LOC_SSM;
    }
    return LV_AC_LOC_OTHER;
}

lv_err lv_ac_change_key(const char *app, const char *env, const char *profile, lv_buf *out)
{
    lv_err rc = lv_buf_append(out, LV_AC_CHANGE_PREFIX, LV_AC_CHANGE_PREFIX_LEN);
    if (rc == LV_OK)
        rc = lv_buf_printf(out, "%s/%s/%s", app, env, profile);
    return rc;
}

/* ---------- predefined strategies ---------- */

static const struct {
    const char *id, *desc;
    int duration, bake, growth;
    const char *type;
    bool canary;
} PREDEF[] = {
    {"AppConfig.AllAtOnce", "Quick", 0, 10, 100, "LINEAR", false},
    {"AppConfig.Linear50PercentEvery30Seconds", "Test/Demo", 1, 1, 50, "LINEAR", false},
    {"AppConfig.Canary10Percent20Minutes", "AWS Recommended", 20, 10, 10, "EXPONENTIAL", false},
    {"AppConfig.Linear20PercentEvery6Minutes", "AWS Recommended", 30, 30, 20, "LINEAR", false},
    {"Lever.AllAtOnce", "Everything at once, no bake time", 0, 0, 100, "LINEAR", false},
    {"Lever.Canary10Percent5Minutes", "10% for 5 minutes, then everything", 5, 0, 10, "LINEAR", true},
    {"Lever.Canary10Percent30Minutes", "10% for 30 minutes, then everything", 30, 0, 10, "LINEAR", true},
    {"Lever.Linear10PercentEvery1Minute", "10% more every minute", 10, 0, 10, "LINEAR", false},
    {"Lever.Linear10PercentEvery3Minutes", "10% more every 3 minutes", 30, 0, 10, "LINEAR", false},
    {"Lever.Linear10PercentEvery10Minutes", "10% more every 10 minutes", 100, 0, 10, "LINEAR", false},
};
enum { NPREDEF = sizeof PREDEF / sizeof PREDEF[0] };
static lv_acrec *predef_recs[NPREDEF];

size_t lv_ac_predefined_count(void)
{
    return NPREDEF;
}

const lv_acrec *lv_ac_predefined(size_t i)
{
    if (i >= NPREDEF)
        return NULL;
    lv_acrec *r = __atomic_load_n(&predef_recs[i], __ATOMIC_ACQUIRE);
    if (r != NULL)
        return r;
    char key[64];
    snprintf(key, sizeof key, "s%s", PREDEF[i].id);
    lv_acrec *n = lv_acrec_new(LV_AC_STRATEGY, SF__N);
    if (n == NULL || lv_acrec_set_key(n, key) != LV_OK || lv_acrec_set_str(n, SF_ID, PREDEF[i].id) != LV_OK ||
        lv_acrec_set_str(n, SF_NAME, PREDEF[i].id) != LV_OK || lv_acrec_set_str(n, SF_DESC, PREDEF[i].desc) != LV_OK ||
        lv_acrec_set_num(n, SF_DURATION, PREDEF[i].duration) != LV_OK ||
        lv_acrec_set_num(n, SF_BAKE, PREDEF[i].bake) != LV_OK ||
        lv_acrec_set_num(n, SF_GROWTH, PREDEF[i].growth) != LV_OK ||
        lv_acrec_set_str(n, SF_GTYPE, PREDEF[i].type) != LV_OK ||
        lv_acrec_set_str(n, SF_REPLICATE, "NONE") != LV_OK ||
        lv_acrec_set_str(n, SF_CANARY, PREDEF[i].canary ? "1" : "0") != LV_OK) {
        lv_acrec_unref(n);
        return NULL;
    }
    lv_acrec *expected = NULL;
    if (!__atomic_compare_exchange_n(&predef_recs[i], &expected, n, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        lv_acrec_unref(n);
        return expected;
    }
    return n;
}

const lv_acrec *lv_ac_predefined_find(const char *id)
{
    for (size_t i = 0; i < NPREDEF; i++)
        if (strcmp(PREDEF[i].id, id) == 0)
            return lv_ac_predefined(i);
    return NULL;
}

void lv_ac_predefined_free(void)
{
    for (size_t i = 0; i < NPREDEF; i++) {
        lv_acrec_unref(predef_recs[i]);
        predef_recs[i] = NULL;
    }
}

/* ---------- lookups ---------- */

const lv_acrec *lv_ac_get(const lv_acview *v, const char *fmt, ...)
{
    char key[1200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof key)
        return NULL;
    return v->get(v->ctx, key, (size_t)n);
}

static bool count_one(void *arg, const lv_acrec *r)
{
    (void)r;
    (*(size_t *)arg)++;
    return true;
}

size_t lv_ac_count(const lv_acview *v, const char *prefix)
{
    size_t n = 0;
    v->each(v->ctx, prefix, strlen(prefix), count_one, &n);
    return n;
}

const lv_acrec *lv_ac_strategy(const lv_acview *v, const char *id)
{
    const lv_acrec *r = lv_ac_predefined_find(id);
    return r ? r : lv_ac_get(v, "s%s", id);
}

typedef struct name_find {
    const char *name;
    unsigned field;
    const lv_acrec *found;
} name_find;

static bool match_name(void *arg, const lv_acrec *r)
{
    name_find *f = arg;
    if (strcmp(lv_acrec_str(r, f->field), f->name) == 0) {
        f->found = r;
        return false;
    }
    return true;
}

static const lv_acrec *find_by(const lv_acview *v, const char *prefix, unsigned name_field, const char *id_key,
                               const char *name)
{
    const lv_acrec *r = id_key != NULL ? v->get(v->ctx, id_key, strlen(id_key)) : NULL;
    if (r != NULL)
        return r;
    name_find f = {name, name_field, NULL};
    v->each(v->ctx, prefix, strlen(prefix), match_name, &f);
    return f.found;
}

/* kind, then "<parent>/" when parent is given: a record key prefix
 * (built per request, so without printf). 0 when it does not fit. */
static size_t key_prefix(char *out, size_t cap, char kind, const char *parent)
{
    size_t pl = parent ? strlen(parent) : 0;
    if (pl + 3 > cap)
        return 0;
    out[0] = kind;
    memcpy(out + 1, parent ? parent : "", pl);
    size_t n = 1 + pl;
    if (parent)
        out[n++] = '/';
    out[n] = '\0';
    return n;
}

/* The record kind/parent/s, looked up as an id (ids are short) and
 * else by name under the prefix. */
static const lv_acrec *find_under(const lv_acview *v, char kind, const char *parent, unsigned name_field,
                                  const char *s)
{
    char key[1200];
    size_t n = key_prefix(key, sizeof key, kind, parent), sl = strlen(s);
    if (n == 0)
        return NULL;
    char prefix[1200];
    memcpy(prefix, key, n + 1);
    bool as_id = sl < 70 && n + sl < sizeof key;
    if (as_id)
        memcpy(key + n, s, sl + 1);
    return find_by(v, prefix, name_field, as_id ? key : NULL, s);
}

const lv_acrec *lv_ac_find_app(const lv_acview *v, const char *s)
{
    return find_under(v, 'a', NULL, AF_NAME, s);
}

const lv_acrec *lv_ac_find_env(const lv_acview *v, const char *app, const char *s)
{
    return find_under(v, 'e', app, EF_NAME, s);
}

const lv_acrec *lv_ac_find_profile(const lv_acview *v, const char *app, const char *s)
{
    return find_under(v, 'p', app, PF_NAME, s);
}

static bool keep_last(void *arg, const lv_acrec *r)
{
    *(const lv_acrec **)arg = r;
    return true;
}

const lv_acrec *lv_ac_last_deployment(const lv_acview *v, const char *app, const char *env)
{
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "d%s/%s/", app, env);
    const lv_acrec *last = NULL;
    v->each(v->ctx, prefix, strlen(prefix), keep_last, &last);
    return last;
}

typedef struct serving_find {
    const char *profile;
    const lv_acrec *found;
} serving_find;

static bool pick_serving(void *arg, const lv_acrec *r)
{
    serving_find *s = arg;
    const char *st = lv_acrec_str(r, DF_STATE);
    if (strcmp(lv_acrec_str(r, DF_PROFILE), s->profile) == 0 &&
        (strcmp(st, "COMPLETE") == 0 || strcmp(st, "DEPLOYING") == 0 || strcmp(st, "BAKING") == 0 ||
         strcmp(st, "VALIDATING") == 0))
        s->found = r;
    return true;
}

const lv_acrec *lv_ac_serving(const lv_acview *v, const char *app, const char *env, const char *profile)
{
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "d%s/%s/", app, env);
    serving_find s = {profile, NULL};
    v->each(v->ctx, prefix, strlen(prefix), pick_serving, &s);
    return s.found;
}

/* ---------- plan helpers ---------- */

lv_err lv_acplan_put(lv_acplan *p, lv_acrec *r)
{
    if (r == NULL)
        return LV_E_NOMEM;
    if (p->nputs == p->cap_puts) {
        size_t cap = p->cap_puts ? p->cap_puts * 2 : 4;
        lv_acrec **n = realloc(p->puts, cap * sizeof *n);
        if (n == NULL) {
            lv_acrec_unref(r);
            return LV_E_NOMEM;
        }
        p->puts = n;
        p->cap_puts = cap;
    }
    p->puts[p->nputs++] = r;
    return LV_OK;
}

lv_err lv_acplan_del(lv_acplan *p, const char *key)
{
    if (p->ndels == p->cap_dels) {
        size_t cap = p->cap_dels ? p->cap_dels * 2 : 4;
        char **n = realloc(p->dels, cap * sizeof *n);
        if (n == NULL)
            return LV_E_NOMEM;
        p->dels = n;
        p->cap_dels = cap;
    }
    if ((p->dels[p->ndels] = strdup(key)) == NULL)
        return LV_E_NOMEM;
    p->ndels++;
    return LV_OK;
}

lv_err lv_acplan_change_raw(lv_acplan *p, lv_change_kind kind, const char *key, size_t klen, uint32_t number)
{
    if (p->nchg == p->cap_chg) {
        size_t cap = p->cap_chg ? p->cap_chg * 2 : 4;
        lv_acplan_change *n = realloc(p->chg, cap * sizeof *n);
        if (n == NULL)
            return LV_E_NOMEM;
        p->chg = n;
        p->cap_chg = cap;
    }
    char *k = malloc(klen + 1);
    if (k == NULL)
        return LV_E_NOMEM;
    memcpy(k, key, klen);
    k[klen] = '\0';
    lv_acplan_change *c = &p->chg[p->nchg++];
    c->kind = kind;
    c->key = k;
    c->klen = klen;
    c->number = number;
    return LV_OK;
}

lv_err lv_acplan_change_add(lv_acplan *p, lv_change_kind kind, const char *app, const char *env,
                            const char *profile, uint32_t number)
{
    if (p->nchg == p->cap_chg) {
        size_t cap = p->cap_chg ? p->cap_chg * 2 : 4;
        lv_acplan_change *n = realloc(p->chg, cap * sizeof *n);
        if (n == NULL)
            return LV_E_NOMEM;
        p->chg = n;
        p->cap_chg = cap;
    }
    lv_buf k = LV_BUF_INIT;
    lv_err rc = lv_ac_change_key(app, env, profile, &k);
    if (rc != LV_OK) {
        lv_buf_free(&k);
        return rc;
    }
    lv_acplan_change *c = &p->chg[p->nchg++];
    c->kind = kind;
    c->key = lv_buf_steal(&k, &c->klen);
    c->number = number;
    return c->key ? LV_OK : LV_E_NOMEM;
}

void lv_acplan_free(lv_acplan *p)
{
    for (size_t i = 0; i < p->nputs; i++)
        lv_acrec_unref(p->puts[i]);
    for (size_t i = 0; i < p->ndels; i++)
        free(p->dels[i]);
    for (size_t i = 0; i < p->nchg; i++)
        free(p->chg[i].key);
    free(p->puts);
    free(p->dels);
    free(p->chg);
    lv_acrec_unref(p->result);
    free(p->move.region);
    free(p->move.name);
    free(p->move.label);
    memset(p, 0, sizeof *p);
}

/* A new record of kind with key, its set fields copied from in. */
static lv_acrec *from_input(char kind, unsigned nf, const char *key, const lv_acrec *in)
{
    lv_acrec *r = lv_acrec_new(kind, nf);
    if (r == NULL || lv_acrec_set_key(r, key) != LV_OK)
        goto fail;
    for (unsigned i = 0; in != NULL && i < nf && i < in->nf; i++)
        if (lv_acrec_has(in, i) && lv_acrec_copy_field(r, i, in, i) != LV_OK)
            goto fail;
    return r;
fail:
    lv_acrec_unref(r);
    return NULL;
}

/* cur with the fields of in that the caller set (among those listed). */
static lv_acrec *updated(const lv_acrec *cur, const lv_acrec *in, const unsigned *fields, size_t n)
{
    lv_acrec *r = lv_acrec_clone(cur, NULL);
    for (size_t i = 0; r != NULL && in != NULL && i < n; i++)
        if (lv_acrec_has(in, fields[i]) && lv_acrec_copy_field(r, fields[i], in, fields[i]) != LV_OK) {
            lv_acrec_unref(r);
            r = NULL;
        }
    return r;
}

static lv_err finish(lv_acplan *out, lv_acrec *r, lv_error *err)
{
    if (r == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    out->result = lv_acrec_ref(r);
    lv_err rc = lv_acplan_put(out, r);
    return rc == LV_OK ? LV_OK : lv_error_set(err, rc, "out of memory");
}

/* Tags given at creation, stored under "t<key>". */
static lv_err put_tags(lv_acplan *out, const char *key, const lv_acrec *tags)
{
    if (tags == NULL || lv_acrec_count(tags, TF_TAGS) == 0)
        return LV_OK;
    char tk[1216];
    snprintf(tk, sizeof tk, "t%s", key);
    lv_acrec *t = lv_acrec_clone(tags, tk);
    return t ? lv_acplan_put(out, t) : LV_E_NOMEM;
}

/* Deletes key, its tags record and (a deployment's) applied extensions. */
static lv_err del_with_tags(const lv_acview *v, lv_acplan *out, const char *key)
{
    lv_err rc = lv_acplan_del(out, key);
    const lv_acrec *t = rc == LV_OK ? lv_ac_get(v, "t%s", key) : NULL;
    if (t != NULL)
        rc = lv_acplan_del(out, t->key);
    const lv_acrec *x = rc == LV_OK && key[0] == LV_AC_DEPLOY ? lv_ac_get(v, "%c%s", LV_AC_APPLIED, key) : NULL;
    if (x != NULL)
        rc = lv_acplan_del(out, x->key);
    return rc;
}

typedef struct del_all {
    const lv_acview *v;
    lv_acplan *out;
    lv_err rc;
} del_all;

static bool del_each(void *arg, const lv_acrec *r)
{
    del_all *d = arg;
    d->rc = del_with_tags(d->v, d->out, r->key);
    return d->rc == LV_OK;
}

static lv_err not_found(lv_error *err, const char *what, const char *id)
{
    return lv_error_set(err, LV_E_AC_NOT_FOUND, "%s %s not found", what, id);
}

static lv_err quota(lv_error *err, const char *what, unsigned max)
{
    return lv_error_set(err, LV_E_AC_QUOTA, "The number of %s exceeds the limit of %u for this %s", what, max,
                        strcmp(what, "applications") == 0 || strcmp(what, "deployment strategies") == 0 ||
                                strcmp(what, "extensions") == 0
                            ? "account"
                            : "resource");
}

/* Validators, location and type of a profile (new or updated). */
static lv_err check_profile(const lv_acrec *p, lv_error *err)
{
    const char *loc = lv_acrec_str(p, PF_LOCATION);
    lv_ac_loc l = lv_ac_location(loc, NULL);
    if (l == LV_AC_LOC_OTHER)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                            "LocationUri %s is not supported: lever serves \"hosted\" and "
                            "\"ssm-parameter://NAME\" configurations",
                            loc);
    const char *type = lv_acrec_str(p, PF_TYPE);
    if (strcmp(type, "AWS.Freeform") != 0 && strcmp(type, "AWS.AppConfig.FeatureFlags") != 0)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Invalid configuration profile type %s", type);
    if (strcmp(type, "AWS.AppConfig.FeatureFlags") == 0 && l != LV_AC_LOC_HOSTED)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                            "Feature flag configuration profiles must use the hosted configuration store");
    unsigned nv = lv_acrec_count(p, PF_VALIDATORS);
    if (nv % 2 != 0 || nv > 4)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "A configuration profile can have at most 2 validators");
    for (unsigned i = 0; i < nv; i += 2) {
        const char *vt = lv_acrec_item(p, PF_VALIDATORS, i)->p;
        if (strcmp(vt, "JSON_SCHEMA") != 0 && strcmp(vt, "LAMBDA") != 0)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Invalid validator type %s", vt);
        if (i == 2 && strcmp(vt, lv_acrec_item(p, PF_VALIDATORS, 0)->p) == 0)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "A configuration profile can have one validator of each type");
    }
    return LV_OK;
}

static bool has_any(const lv_acview *v, const char *prefix)
{
    size_t n = 0;
    v->each(v->ctx, prefix, strlen(prefix), count_one, &n);
    return n > 0;
}

typedef struct served_find {
    const lv_acview *v;
    const char *app, *profile, *version;
    const lv_acrec *by;
} served_find;

static bool env_serves(void *arg, const lv_acrec *env)
{
    served_find *s = arg;
    const lv_acrec *d = lv_ac_serving(s->v, s->app, lv_acrec_str(env, EF_ID), s->profile);
    if (d != NULL && strcmp(lv_acrec_str(d, DF_VERSION), s->version) == 0) {
        s->by = env;
        return false;
    }
    return true;
}

static lv_err plan_tree(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    char key[1200], prefix[1200];
    const lv_acrec *cur;
    lv_acrec *r;
    lv_err rc;
    switch (q->op) {
    case LV_ACOP_CREATE_APP:
        if (lv_ac_count(v, "a") >= LV_AC_MAX_APPS)
            return quota(err, "applications", LV_AC_MAX_APPS);
        snprintf(key, sizeof key, "a%s", q->new_id);
        if ((r = from_input(LV_AC_APP, AF__N, key, q->in)) != NULL && lv_acrec_set_str(r, AF_ID, q->new_id) != LV_OK) {
            lv_acrec_unref(r);
            r = NULL;
        }
        if ((rc = put_tags(out, key, q->tags)) != LV_OK)
            return lv_error_set(err, rc, "out of memory");
        return finish(out, r, err);
    case LV_ACOP_UPDATE_APP: {
        if ((cur = lv_ac_get(v, "a%s", q->app)) == NULL)
            return not_found(err, "Application", q->app);
        static const unsigned f[] = {AF_NAME, AF_DESC};
        return finish(out, updated(cur, q->in, f, 2), err);
    }
    case LV_ACOP_DELETE_APP:
        if ((cur = lv_ac_get(v, "a%s", q->app)) == NULL)
            return not_found(err, "Application", q->app);
        snprintf(prefix, sizeof prefix, "e%s/", q->app);
        if (has_any(v, prefix))
            return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                "Cannot delete application %s because there are still environments existing under it.",
                                q->app);
        snprintf(prefix, sizeof prefix, "p%s/", q->app);
        if (has_any(v, prefix))
            return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                "Cannot delete application %s because there are still configuration profiles "
                                "existing under it.",
                                q->app);
        return del_with_tags(v, out, cur->key);
    case LV_ACOP_CREATE_ENV:
        if (lv_ac_get(v, "a%s", q->app) == NULL)
            return not_found(err, "Application", q->app);
        snprintf(prefix, sizeof prefix, "e%s/", q->app);
        if (lv_ac_count(v, prefix) >= LV_AC_MAX_ENVS)
            return quota(err, "environments", LV_AC_MAX_ENVS);
        snprintf(key, sizeof key, "e%s/%s", q->app, q->new_id);
        r = from_input(LV_AC_ENV, EF__N, key, q->in);
        if (r != NULL && (lv_acrec_set_str(r, EF_APP, q->app) != LV_OK || lv_acrec_set_str(r, EF_ID, q->new_id) != LV_OK ||
                          lv_acrec_set_str(r, EF_STATE, "ReadyForDeployment") != LV_OK ||
                          lv_acrec_set_num(r, EF_LAST_DEPLOY, 0) != LV_OK)) {
            lv_acrec_unref(r);
            r = NULL;
        }
        if ((rc = put_tags(out, key, q->tags)) != LV_OK)
            return lv_error_set(err, rc, "out of memory");
        return finish(out, r, err);
    case LV_ACOP_UPDATE_ENV: {
        if (lv_ac_get(v, "a%s", q->app) == NULL)
            return not_found(err, "Application", q->app);
        if ((cur = lv_ac_get(v, "e%s/%s", q->app, q->env)) == NULL)
            return not_found(err, "Environment", q->env);
        static const unsigned f[] = {EF_NAME, EF_DESC, EF_MONITORS};
        return finish(out, updated(cur, q->in, f, 3), err);
    }
    case LV_ACOP_DELETE_ENV: {
        if (lv_ac_get(v, "a%s", q->app) == NULL)
            return not_found(err, "Application", q->app);
        if ((cur = lv_ac_get(v, "e%s/%s", q->app, q->env)) == NULL)
            return not_found(err, "Environment", q->env);
        const lv_acrec *last = lv_ac_last_deployment(v, q->app, q->env);
        const char *st = last ? lv_acrec_str(last, DF_STATE) : "";
        if (strcmp(st, "DEPLOYING") == 0 || strcmp(st, "BAKING") == 0 || strcmp(st, "VALIDATING") == 0)
            return lv_error_set(err, LV_E_AC_CONFLICT,
                                "Cannot delete environment %s because deployment %" PRId64 " is in progress.",
                                q->env, lv_acrec_num(last, DF_NUMBER));
        /* The deployment history goes with the environment. */
        del_all d = {v, out, LV_OK};
        snprintf(prefix, sizeof prefix, "d%s/%s/", q->app, q->env);
        v->each(v->ctx, prefix, strlen(prefix), del_each, &d);
        if (d.rc == LV_OK)
            d.rc = del_with_tags(v, out, cur->key);
        return d.rc == LV_OK ? LV_OK : lv_error_set(err, d.rc, "out of memory");
    }
    case LV_ACOP_CREATE_PROFILE:
        if (lv_ac_get(v, "a%s", q->app) == NULL)
            return not_found(err, "Application", q->app);
        snprintf(prefix, sizeof prefix, "p%s/", q->app);
        if (lv_ac_count(v, prefix) >= LV_AC_MAX_PROFILES)
            return quota(err, "configuration profiles", LV_AC_MAX_PROFILES);
        snprintf(key, sizeof key, "p%s/%s", q->app, q->new_id);
        r = from_input(LV_AC_PROFILE, PF__N, key, q->in);
        if (r != NULL && (lv_acrec_set_str(r, PF_APP, q->app) != LV_OK || lv_acrec_set_str(r, PF_ID, q->new_id) != LV_OK ||
                          (!lv_acrec_has(q->in, PF_TYPE) && lv_acrec_set_str(r, PF_TYPE, "AWS.Freeform") != LV_OK) ||
                          lv_acrec_set_num(r, PF_LATEST, 0) != LV_OK)) {
            lv_acrec_unref(r);
            r = NULL;
        }
        if (r != NULL && (rc = check_profile(r, err)) != LV_OK) {
            lv_acrec_unref(r);
            return rc;
        }
        if ((rc = put_tags(out, key, q->tags)) != LV_OK)
            return lv_error_set(err, rc, "out of memory");
        return finish(out, r, err);
    case LV_ACOP_UPDATE_PROFILE: {
        if (lv_ac_get(v, "a%s", q->app) == NULL)
            return not_found(err, "Application", q->app);
        if ((cur = lv_ac_get(v, "p%s/%s", q->app, q->profile)) == NULL)
            return not_found(err, "Configuration profile", q->profile);
        static const unsigned f[] = {PF_NAME, PF_DESC, PF_ROLE, PF_VALIDATORS, PF_KMS};
        r = updated(cur, q->in, f, 5);
        if (r != NULL && (rc = check_profile(r, err)) != LV_OK) {
            lv_acrec_unref(r);
            return rc;
        }
        return finish(out, r, err);
    }
    case LV_ACOP_DELETE_PROFILE:
        if (lv_ac_get(v, "a%s", q->app) == NULL)
            return not_found(err, "Application", q->app);
        if ((cur = lv_ac_get(v, "p%s/%s", q->app, q->profile)) == NULL)
            return not_found(err, "Configuration profile", q->profile);
        snprintf(prefix, sizeof prefix, "h%s/%s/", q->app, q->profile);
        if (has_any(v, prefix))
            return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                "Cannot delete configuration profile %s because there are still hosted configuration "
                                "versions existing under it.",
                                q->profile);
        return del_with_tags(v, out, cur->key);
    case LV_ACOP_CREATE_HOSTED: {
        if (lv_ac_get(v, "a%s", q->app) == NULL)
            return not_found(err, "Application", q->app);
        if ((cur = lv_ac_get(v, "p%s/%s", q->app, q->profile)) == NULL)
            return not_found(err, "Configuration profile", q->profile);
        if (lv_ac_location(lv_acrec_str(cur, PF_LOCATION), NULL) != LV_AC_LOC_HOSTED)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                "Configuration profile %s does not use the hosted configuration store", q->profile);
        size_t size = lv_acrec_len(q->in, HF_CONTENT);
        if (size > LV_AC_MAX_CONTENT)
            return lv_error_set(err, LV_E_AC_TOO_LARGE, "The configuration is %zu bytes; the limit is %d bytes", size,
                                LV_AC_MAX_CONTENT);
        int64_t latest = lv_acrec_num(cur, PF_LATEST);
        if (q->lock >= 0 && q->lock != latest)
            return lv_error_set(err, LV_E_AC_CONFLICT,
                                "Latest version number %" PRId64 " does not match the latest version number %" PRId64
                                " of configuration profile %s",
                                q->lock, latest, q->profile);
        snprintf(prefix, sizeof prefix, "h%s/%s/", q->app, q->profile);
        if (lv_ac_count(v, prefix) >= LV_AC_MAX_HOSTED)
            return quota(err, "hosted configuration versions", LV_AC_MAX_HOSTED);
        if (latest >= UINT32_MAX)
            return quota(err, "hosted configuration versions", LV_AC_MAX_HOSTED);
        snprintf(key, sizeof key, "h%s/%s/%010" PRId64, q->app, q->profile, latest + 1);
        r = from_input(LV_AC_HOSTED, HF__N, key, q->in);
        if (r != NULL && (lv_acrec_set_str(r, HF_APP, q->app) != LV_OK || lv_acrec_set_str(r, HF_PROFILE, q->profile) != LV_OK ||
                          lv_acrec_set_num(r, HF_VERSION, latest + 1) != LV_OK)) {
            lv_acrec_unref(r);
            r = NULL;
        }
        lv_acrec *np = lv_acrec_clone(cur, NULL);
        if (np == NULL || lv_acrec_set_num(np, PF_LATEST, latest + 1) != LV_OK ||
            (rc = lv_acplan_put(out, np)) != LV_OK) {
            lv_acrec_unref(np);
            lv_acrec_unref(r);
            return lv_error_set(err, LV_E_NOMEM, "out of memory");
        }
        return finish(out, r, err);
    }
    case LV_ACOP_DELETE_HOSTED: {
        if (lv_ac_get(v, "a%s", q->app) == NULL)
            return not_found(err, "Application", q->app);
        if ((cur = lv_ac_get(v, "h%s/%s/%010" PRId64, q->app, q->profile, q->number)) == NULL)
            return lv_error_set(err, LV_E_AC_NOT_FOUND, "Hosted configuration version %" PRId64 " not found", q->number);
        char ver[24];
        snprintf(ver, sizeof ver, "%" PRId64, q->number);
        served_find s = {v, q->app, q->profile, ver, NULL};
        snprintf(prefix, sizeof prefix, "e%s/", q->app);
        v->each(v->ctx, prefix, strlen(prefix), env_serves, &s);
        if (s.by != NULL)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                "Cannot delete hosted configuration version %" PRId64
                                " because environment %s is serving it. Deploy another version first.",
                                q->number, lv_acrec_str(s.by, EF_ID));
        return del_with_tags(v, out, cur->key);
    }
    case LV_ACOP_CREATE_STRATEGY:
        if (lv_ac_count(v, "s") >= LV_AC_MAX_STRATEGIES)
            return quota(err, "deployment strategies", LV_AC_MAX_STRATEGIES);
        snprintf(key, sizeof key, "s%s", q->new_id);
        r = from_input(LV_AC_STRATEGY, SF__N, key, q->in);
        if (r != NULL && (lv_acrec_set_str(r, SF_ID, q->new_id) != LV_OK ||
                          (!lv_acrec_has(q->in, SF_GTYPE) && lv_acrec_set_str(r, SF_GTYPE, "LINEAR") != LV_OK) ||
                          (!lv_acrec_has(q->in, SF_BAKE) && lv_acrec_set_num(r, SF_BAKE, 0) != LV_OK) ||
                          (!lv_acrec_has(q->in, SF_REPLICATE) && lv_acrec_set_str(r, SF_REPLICATE, "NONE") != LV_OK) ||
                          lv_acrec_set_str(r, SF_CANARY, "0") != LV_OK)) {
            lv_acrec_unref(r);
            r = NULL;
        }
        if ((rc = put_tags(out, key, q->tags)) != LV_OK)
            return lv_error_set(err, rc, "out of memory");
        return finish(out, r, err);
    case LV_ACOP_UPDATE_STRATEGY: {
        if (lv_ac_predefined_find(q->id) != NULL)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Predefined deployment strategy %s cannot be updated", q->id);
        if ((cur = lv_ac_get(v, "s%s", q->id)) == NULL)
            return not_found(err, "Deployment strategy", q->id);
        static const unsigned f[] = {SF_DESC, SF_DURATION, SF_BAKE, SF_GROWTH, SF_GTYPE};
        return finish(out, updated(cur, q->in, f, 5), err);
    }
    case LV_ACOP_DELETE_STRATEGY:
        if (lv_ac_predefined_find(q->id) != NULL)
            return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Predefined deployment strategy %s cannot be deleted", q->id);
        if ((cur = lv_ac_get(v, "s%s", q->id)) == NULL)
            return not_found(err, "Deployment strategy", q->id);
        return del_with_tags(v, out, cur->key);
    default:
        return lv_error_set(err, LV_E_INTERNAL, "unknown appconfig operation");
    }
}

/* TagResource / UntagResource on the record q->target. */
static lv_err plan_tags(const lv_acview *v, const lv_acreq *q, lv_acplan *out, lv_error *err)
{
    if (q->target == NULL || v->get(v->ctx, q->target, strlen(q->target)) == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Resource not found");
    char tk[1216];
    snprintf(tk, sizeof tk, "t%s", q->target);
    const lv_acrec *cur = v->get(v->ctx, tk, strlen(tk));
    lv_acrec *t = lv_acrec_new(LV_AC_TAGS, TF__N);
    if (t == NULL || lv_acrec_set_key(t, tk) != LV_OK) {
        lv_acrec_unref(t);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    lv_acrec_clear(t, TF_TAGS, true);
    /* Keep the current tags not removed or replaced, then add the new ones. */
    unsigned nc = lv_acrec_count(cur, TF_TAGS), nn = lv_acrec_count(q->tags, TF_TAGS);
    lv_err rc = LV_OK;
    for (unsigned i = 0; rc == LV_OK && i + 1 < nc; i += 2) {
        const lv_acstr *k = lv_acrec_item(cur, TF_TAGS, i);
        bool drop = false;
        for (unsigned j = 0; j < nn && !drop; j += q->op == LV_ACOP_TAG ? 2 : 1)
            drop = strcmp(lv_acrec_item(q->tags, TF_TAGS, j)->p, k->p) == 0;
        if (!drop) {
            rc = lv_acrec_push(t, TF_TAGS, k->p, k->n);
            if (rc == LV_OK)
                rc = lv_acrec_push(t, TF_TAGS, lv_acrec_item(cur, TF_TAGS, i + 1)->p, lv_acrec_item(cur, TF_TAGS, i + 1)->n);
        }
    }
    if (q->op == LV_ACOP_TAG)
        for (unsigned j = 0; rc == LV_OK && j + 1 < nn; j += 2) {
            rc = lv_acrec_push(t, TF_TAGS, lv_acrec_item(q->tags, TF_TAGS, j)->p, lv_acrec_item(q->tags, TF_TAGS, j)->n);
            if (rc == LV_OK)
                rc = lv_acrec_push(t, TF_TAGS, lv_acrec_item(q->tags, TF_TAGS, j + 1)->p,
                                   lv_acrec_item(q->tags, TF_TAGS, j + 1)->n);
        }
    if (rc != LV_OK) {
        lv_acrec_unref(t);
        return lv_error_set(err, rc, "out of memory");
    }
    if (lv_acrec_count(t, TF_TAGS) / 2 > LV_AC_MAX_TAGS) {
        lv_acrec_unref(t);
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "A resource can have at most %d tags", LV_AC_MAX_TAGS);
    }
    if (lv_acrec_count(t, TF_TAGS) == 0) {
        lv_acrec_unref(t);
        return cur ? lv_acplan_del(out, tk) : LV_OK;
    }
    return lv_acplan_put(out, t);
}

lv_err lv_ac_plan(const lv_acview *v, const lv_acreq *req, lv_acplan *out, lv_error *err)
{
    memset(out, 0, sizeof *out);
    lv_err rc;
    switch (req->op) {
    case LV_ACOP_START_DEPLOYMENT:
    case LV_ACOP_STOP_DEPLOYMENT:
    case LV_ACOP_DEPLOY_STEP:
    case LV_ACOP_ROLLBACK:
    case LV_ACOP_START_LABEL_DEPLOYMENT:
    case LV_ACOP_REARM_ALARM:
        rc = lv_ac_plan_deploy(v, req, out, err);
        break;
    case LV_ACOP_CREATE_EXT:
    case LV_ACOP_UPDATE_EXT:
    case LV_ACOP_DELETE_EXT:
    case LV_ACOP_CREATE_ASSOC:
    case LV_ACOP_UPDATE_ASSOC:
    case LV_ACOP_DELETE_ASSOC:
        rc = lv_ac_plan_ext(v, req, out, err);
        break;
    case LV_ACOP_TAG:
    case LV_ACOP_UNTAG:
        rc = plan_tags(v, req, out, err);
        if (rc != LV_OK && err->msg[0] == '\0')
            lv_error_set(err, rc, "out of memory");
        break;
    default:
        rc = plan_tree(v, req, out, err);
    }
    if (rc != LV_OK)
        lv_acplan_free(out);
    return rc;
}
