/* appconfigdata.c - AppConfig Data: StartConfigurationSession and
 * GetLatestConfiguration. A token carries its session, sealed under the
 * master key (core/actoken.h): leverd keeps no session table, so tokens
 * survive restarts and work on every node of a shared store. What leverd
 * does keep is, per session, how far along its chain of tokens it has
 * polled (each token names one poll and is used once); that is per
 * process, so after a restart a token used just before it could be used
 * once more (docs/appconfig.md). An unchanged
 * configuration answers an empty body; polling before the session's
 * interval is refused ("Request too early") without using up the token.
 * Tokens expire after 24 hours. */
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
    MAX_USED = 1000000,   /* live sessions remembered */
    TOKEN_LIFE_MS = 24 * 3600 * 1000,
    DEFAULT_INTERVAL = 60,
};

static const char SEAL_ID[] = "lever:appconfigdata-token";
static const char SEAL_AAD[] = "AppConfig Data configuration token v1";

/* ---- tokens used (single use) ----
 * Each session remembers the place in its chain of its newest used token:
 * a token at or before it was used already. One entry per live session,
 * not per poll, so memory follows the number of clients. */

typedef struct used {
    char entity[33];
    uint64_t seq;          /* the newest token of the session used */
    int64_t expires_ms;    /* when that token would have expired */
    struct used *next;
} used;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static used *buckets[BUCKETS];
static size_t nused;

static unsigned bucket_of(const char *entity)
{
    return (unsigned)(lv_token_hash(0, entity, strlen(entity)) % BUCKETS);
}

/* lock held */
static void sweep(int64_t now)
{
    for (size_t b = 0; b < BUCKETS; b++)
        for (used **pp = &buckets[b]; *pp;) {
            if ((*pp)->expires_ms <= now) {
                used *dead = *pp;
                *pp = dead->next;
                free(dead);
                nused--;
            } else {
                pp = &(*pp)->next;
            }
        }
}

/* Marks the token of s used; refuses one that already was. When the
 * table is full of live sessions the token is let through unrecorded:
 * single use keeps clients on their chain, it guards no secret
 * (docs/decisions.md), and refusing would stop every new session. */
static lv_err use_token(const lv_acsession *s, int64_t now, lv_error *err)
{
    lv_err rc = LV_OK;
    pthread_mutex_lock(&lock);
    unsigned b = bucket_of(s->entity);
    used *u = buckets[b];
    while (u && strcmp(u->entity, s->entity) != 0)
        u = u->next;
    if (u != NULL) {
        if (s->seq <= u->seq)
            rc = lv_error_set(err, LV_E_AC_BAD_REQUEST, "The configuration token was already used");
        else {
            u->seq = s->seq;
            u->expires_ms = s->expires_ms;
        }
        goto out;
    }
    if (nused >= MAX_USED)
        sweep(now);
    if (nused < MAX_USED && (u = malloc(sizeof *u)) != NULL) {
        snprintf(u->entity, sizeof u->entity, "%s", s->entity);
        u->seq = s->seq;
        u->expires_ms = s->expires_ms;
        u->next = buckets[b];
        buckets[b] = u;
        nused++;
    }
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

/* ---- sealing ---- */

static lv_err issue(lv_acapi_ctx *c, lv_acsession *s, char tok[LV_ACTOKEN_MAX_LEN + 1], lv_error *err)
{
    if (getrandom(s->nonce, sizeof s->nonce, 0) != (ssize_t)sizeof s->nonce)
        return lv_error_set(err, LV_E_AC_INTERNAL, "no randomness for a token");
    s->expires_ms = c->now_ms + TOKEN_LIFE_MS;
    lv_buf pt = LV_BUF_INIT, env = LV_BUF_INIT;
    lv_err rc = lv_acsession_encode(s, &pt);
    if (rc == LV_OK)
        rc = lv_engine_seal(c->engine, SEAL_ID, SEAL_AAD, sizeof SEAL_AAD - 1, pt.data, pt.len, &env, err);
    else
        lv_error_set(err, rc, "out of memory");
    if (rc == LV_OK && env.len > LV_ACTOKEN_MAX_BYTES)
        rc = lv_error_set(err, LV_E_AC_INTERNAL, "a configuration token grew too long");
    if (rc == LV_OK)
        lv_actoken_format((const unsigned char *)env.data, env.len, tok);
    lv_buf_free(&pt);
    lv_buf_free(&env);
    return rc;
}

static lv_err open_token(lv_acapi_ctx *c, const char *tok, lv_acsession *s, lv_error *err)
{
    static const char bad[] = "The configuration token is not valid or has expired: start a new configuration session";
    unsigned char bytes[LV_ACTOKEN_MAX_BYTES];
    size_t n;
    if (tok == NULL || !lv_actoken_parse(tok, strlen(tok), bytes, &n))
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "%s", bad);
    lv_buf pt = LV_BUF_INIT;
    lv_error ignored;
    lv_err rc = lv_engine_unseal(c->engine, SEAL_ID, SEAL_AAD, sizeof SEAL_AAD - 1, bytes, n, &pt, &ignored);
    bool ok = rc == LV_OK && lv_acsession_decode(pt.data, pt.len, s) && s->expires_ms > c->now_ms;
    lv_buf_free(&pt);
    return ok ? LV_OK : lv_error_set(err, LV_E_AC_BAD_REQUEST, "%s", bad);
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

/* ---- the operations ---- */

static lv_err start_session(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    const char *app = lv_acapi_str(call, "ApplicationIdentifier");
    const char *env = lv_acapi_str(call, "EnvironmentIdentifier");
    const char *prof = lv_acapi_str(call, "ConfigurationProfileIdentifier");
    lv_acsession s;
    memset(&s, 0, sizeof s);
    lv_acview v;
    lv_engine_rdlock(c->engine);
    lv_engine_ac_view(c->engine, &v);
    const lv_acrec *a = lv_ac_find_app(&v, app);
    const lv_acrec *e = a ? lv_ac_find_env(&v, lv_acrec_str(a, AF_ID), env) : NULL;
    const lv_acrec *p = a ? lv_ac_find_profile(&v, lv_acrec_str(a, AF_ID), prof) : NULL;
    if (a && e && p) {
        snprintf(s.app, sizeof s.app, "%s", lv_acrec_str(a, AF_ID));
        snprintf(s.env, sizeof s.env, "%s", lv_acrec_str(e, EF_ID));
        snprintf(s.profile, sizeof s.profile, "%s", lv_acrec_str(p, PF_ID));
    }
    lv_engine_rdunlock(c->engine);
    if (a == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Application %s not found", app);
    if (e == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Environment %s not found", env);
    if (p == NULL)
        return lv_error_set(err, LV_E_AC_NOT_FOUND, "Configuration profile %s not found", prof);
    /* The session's identity: random, and the same in every token of it. */
    unsigned char id[16];
    if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id)
        return lv_error_set(err, LV_E_AC_INTERNAL, "no randomness for a session");
    for (size_t i = 0; i < sizeof id; i++)
        snprintf(s.entity + 2 * i, 3, "%02x", id[i]);
    s.interval = (uint32_t)lv_acapi_int(call, "RequiredMinimumPollIntervalInSeconds", DEFAULT_INTERVAL);
    char tok[LV_ACTOKEN_MAX_LEN + 1];
    lv_err rc = issue(c, &s, tok, err);
    if (rc != LV_OK)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "InitialConfigurationToken", json_string(tok));
    lv_acapi_reply(c, call, o);
    return LV_OK;
}

static lv_err get_latest(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err)
{
    lv_acsession s;
    lv_err rc = open_token(c, lv_acapi_str(call, "ConfigurationToken"), &s, err);
    if (rc != LV_OK)
        return rc;
    rc = lv_acapi_allow(c, call->op, err, "application/%s/environment/%s/configuration/%s", s.app, s.env,
                        s.profile);
    if (rc != LV_OK)
        return rc;
    if (c->now_ms < s.not_before_ms)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "Request too early");
    lv_acapi_served sv;
    memset(&sv, 0, sizeof sv);
    /* The session is the entity a deployment in progress buckets. */
    rc = lv_acapi_serve_for(c, s.app, s.env, s.profile, false, s.entity, NULL, &sv, err);
    if (rc == LV_OK)
        lv_acapi_served_note(c, &sv, s.entity);
    char served[96] = "";
    if (rc == LV_OK) {
        uint32_t h = lv_token_hash(0, sv.content.data ? sv.content.data : "", sv.content.len);
        snprintf(served, sizeof served, "%u:%s:%08x", sv.deployment, sv.version, h);
    } else if (rc == LV_E_AC_NOT_FOUND) {
        /* Nothing deployed (yet): an empty answer, as AWS gives. */
        lv_error_clear(err);
        rc = LV_OK;
    }
    /* The token is used up now (only now: a refused poll keeps it). */
    if (rc == LV_OK)
        rc = use_token(&s, c->now_ms, err);
    bool same = strcmp(served, s.served) == 0;
    char next[LV_ACTOKEN_MAX_LEN + 1];
    if (rc == LV_OK) {
        snprintf(s.served, sizeof s.served, "%s", served);
        s.seq++;
        s.not_before_ms = c->now_ms + (int64_t)((double)s.interval * 1000.0 / time_scale());
        rc = issue(c, &s, next, err);
    }
    if (rc == LV_OK) {
        json_t *o = json_object();
        json_object_set_new(o, "NextPollConfigurationToken", json_string(next));
        json_object_set_new(o, "NextPollIntervalInSeconds", json_integer(s.interval));
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
