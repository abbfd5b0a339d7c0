/* appconfigdata.c - AppConfig Data: StartConfigurationSession and
 * GetLatestConfiguration. Sessions live in memory: a token names one poll
 * of a session and is used once; the answer carries the next token. An
 * unchanged configuration answers an empty body; polling before the
 * session's interval is refused ("Request too early") without using up the
 * token. Tokens expire after 24 hours, and all of them with a restart
 * (clients then start a new session; docs/appconfig.md). */
#include "api/appconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/actoken.h"
#include "core/token.h"

enum {
    BUCKETS = 65536,
    MAX_TOKENS = 200000,
    TOKEN_LIFE_MS = 24 * 3600 * 1000,
    DEFAULT_INTERVAL = 60,
};

typedef struct session {
    unsigned char id[LV_ACTOKEN_BYTES];   /* this poll's token */
    char app[8], env[8], profile[8];
    char entity[LV_ACTOKEN_LEN + 1];      /* the first token: the session's identity */
    char served[96];                      /* what the last answer carried; "" none */
    int interval;                         /* seconds */
    int64_t not_before_ms, expires_ms;
    struct session *next;
} session;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static session *buckets[BUCKETS];
static size_t ntokens;

static unsigned bucket_of(const unsigned char *id)
{
    return ((unsigned)id[0] << 8 | id[1]) % BUCKETS;
}

/* lock held */
static void sweep(int64_t now)
{
    for (size_t b = 0; b < BUCKETS; b++)
        for (session **pp = &buckets[b]; *pp;) {
            if ((*pp)->expires_ms <= now) {
                session *dead = *pp;
                *pp = dead->next;
                free(dead);
                ntokens--;
            } else {
                pp = &(*pp)->next;
            }
        }
}

/* Adds s under a fresh token (written to tok). lock held. */
static lv_err insert(session *s, int64_t now, char *tok, lv_error *err)
{
    if (ntokens >= MAX_TOKENS)
        sweep(now);
    if (ntokens >= MAX_TOKENS)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Too many open configuration sessions; try again later");
    if (getrandom(s->id, sizeof s->id, 0) != (ssize_t)sizeof s->id)
        return lv_error_set(err, LV_E_AC_INTERNAL, "no randomness for a token");
    s->expires_ms = now + TOKEN_LIFE_MS;
    unsigned b = bucket_of(s->id);
    s->next = buckets[b];
    buckets[b] = s;
    ntokens++;
    lv_actoken_format(s->id, tok);
    return LV_OK;
}

/* Unlinks and returns the session of id (lock held), or NULL. */
static session *find(const unsigned char *id, bool unlink)
{
    for (session **pp = &buckets[bucket_of(id)]; *pp; pp = &(*pp)->next)
        if (memcmp((*pp)->id, id, LV_ACTOKEN_BYTES) == 0) {
            session *s = *pp;
            if (unlink) {
                *pp = s->next;
                ntokens--;
            }
            return s;
        }
    return NULL;
}

/* Poll intervals follow LEVER_TIME_SCALE like the other clocks of a
 * deployment, so tests can poll fast; the reported interval stays real. */
static double time_scale(void)
{
    static double scale;
    if (scale == 0) {
        const char *s = getenv("LEVER_TIME_SCALE");
        double v = s ? strtod(s, NULL) : 1;
        scale = v >= 1 ? v : 1;
    }
    return scale;
}

static lv_err start_session(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *app = lv_acapi_str(call, "ApplicationIdentifier");
    const char *env = lv_acapi_str(call, "EnvironmentIdentifier");
    const char *prof = lv_acapi_str(call, "ConfigurationProfileIdentifier");
    session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    const lv_acrec *a = lv_ac_find_app(&v, app);
    const lv_acrec *e = a ? lv_ac_find_env(&v, lv_acrec_str(a, AF_ID), env) : NULL;
    const lv_acrec *p = a ? lv_ac_find_profile(&v, lv_acrec_str(a, AF_ID), prof) : NULL;
    if (a && e && p) {
        snprintf(s->app, sizeof s->app, "%s", lv_acrec_str(a, AF_ID));
        snprintf(s->env, sizeof s->env, "%s", lv_acrec_str(e, EF_ID));
        snprintf(s->profile, sizeof s->profile, "%s", lv_acrec_str(p, PF_ID));
    }
    lv_engine_rdunlock(c->engine);
    lv_err rc = LV_OK;
    if (a == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Application %s not found", app);
    else if (e == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Environment %s not found", env);
    else if (p == NULL)
        rc = lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s not found", prof);
    if (rc != LV_OK) {
        free(s);
        return rc;
    }
    s->interval = (int)lv_acapi_int(call, "RequiredMinimumPollIntervalInSeconds", DEFAULT_INTERVAL);
    char tok[LV_ACTOKEN_LEN + 1];
    pthread_mutex_lock(&lock);
    rc = insert(s, c->now_ms, tok, err);
    if (rc == LV_OK)
        memcpy(s->entity, tok, sizeof tok);
    pthread_mutex_unlock(&lock);
    if (rc != LV_OK) {
        free(s);
        return rc;
    }
    json_t *o = json_object();
    json_object_set_new(o, "InitialConfigurationToken", json_string(tok));
    lv_acapi_reply(c, call, o);
    return LV_OK;
}

static lv_err get_latest(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *tok = lv_acapi_str(call, "ConfigurationToken");
    unsigned char id[LV_ACTOKEN_BYTES];
    if (tok == NULL || !lv_actoken_parse(tok, strlen(tok), id))
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "The configuration token is not valid");
    session copy;
    pthread_mutex_lock(&lock);
    session *s = find(id, false);
    bool expired = s != NULL && s->expires_ms <= c->now_ms;
    if (s != NULL)
        copy = *s;
    pthread_mutex_unlock(&lock);
    if (s == NULL || expired)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                            "The configuration token is not valid or has expired: start a new configuration session");
    lv_err rc = lv_acapi_allow(c, call->op, err, "application/%s/environment/%s/configuration/%s", copy.app, copy.env,
                               copy.profile);
    if (rc != LV_OK)
        return rc;
    if (c->now_ms < copy.not_before_ms)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Request too early");
    lv_acapi_served sv;
    memset(&sv, 0, sizeof sv);
    rc = lv_acapi_serve(c, copy.app, copy.env, copy.profile, false, &sv, err);
    char served[96] = "";
    if (rc == LV_OK) {
        uint32_t h = lv_token_hash(0, sv.content.data ? sv.content.data : "", sv.content.len);
        snprintf(served, sizeof served, "%u:%s:%08x", sv.deployment, sv.version, h);
    } else if (rc == LV_E_AC_NOT_FOUND) {
        /* Nothing deployed (yet): an empty answer, as AWS gives. */
        lv_error_clear(err);
        rc = LV_OK;
    }
    if (rc != LV_OK) {
        lv_acapi_served_free(&sv);
        return rc;
    }
    bool same = strcmp(served, copy.served) == 0;
    /* The token is used up now: hand out the next one. */
    char next[LV_ACTOKEN_LEN + 1];
    pthread_mutex_lock(&lock);
    session *mine = find(id, true);
    if (mine == NULL) {
        pthread_mutex_unlock(&lock);
        lv_acapi_served_free(&sv);
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "The configuration token was already used");
    }
    snprintf(mine->served, sizeof mine->served, "%s", served);
    mine->not_before_ms = c->now_ms + (int64_t)((double)mine->interval * 1000.0 / time_scale());
    rc = insert(mine, c->now_ms, next, err);
    if (rc != LV_OK)
        free(mine);
    pthread_mutex_unlock(&lock);
    if (rc == LV_OK) {
        json_t *o = json_object();
        json_object_set_new(o, "NextPollConfigurationToken", json_string(next));
        json_object_set_new(o, "NextPollIntervalInSeconds", json_integer(copy.interval));
        if (!same && sv.label[0])
            json_object_set_new(o, "VersionLabel", json_string(sv.label));
        lv_acwire_answer(call->op, o, same ? "" : (sv.content.data ? sv.content.data : ""), same ? 0 : sv.content.len,
                         same ? NULL : (sv.content_type[0] ? sv.content_type : NULL), c->resp);
    }
    lv_acapi_served_free(&sv);
    return rc;
}

lv_err lv_acapi_data(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    return call->op == ACW_StartConfigurationSession ? start_session(c, call, err) : get_latest(c, call, err);
}
