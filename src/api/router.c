/* router.c - from an HTTP request to a front-end call: /healthz, /metrics,
 * then authentication (SigV4) and X-Amz-Target dispatch. Every answer
 * carries x-amzn-RequestId; errors use the AWS JSON error shape. */
#include "api/router.h"

#include "api/consistency.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api/admin.h"
#include "api/admin_authz.h"
#include "api/appconfig.h"
#include "api/alarm_api.h"
#include "api/alertmanager.h"
#include "api/offload.h"
#include "json/flat.h"
#include "json/jw.h"
#include "api/label_deploy.h"
#include "api/lever.h"
#include "api/ssm.h"
#include "auth/policy_iam.h"
#include "auth/sigv4.h"
#include "console/console.h"
#include "core/hex.h"
#include "core/name.h"
#include "hooks/hooks.h"
#include <openssl/crypto.h>

#define JSON11 "application/x-amz-json-1.1"

#include "api/router_int.h"

/* Threads that wait for SSM writes on a shared store, and requests that
 * may queue for them. */
enum { WRITE_THREADS = 64, WRITE_QUEUE = 4096 };

lv_err lv_router_new(const lv_router_config *cfg, lv_router **out, lv_error *err)
{
    lv_router *r = calloc(1, sizeof *r);
    if (r == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    r->engine = cfg->engine;
    snprintf(r->account, sizeof r->account, "%s", cfg->account_id);
    r->root = *cfg->root;
    snprintf(r->root_arn, sizeof r->root_arn, "arn:aws:iam::%s:root", r->account);
    r->keys = cfg->keys;
    r->audit = cfg->audit;
    r->throttle = cfg->throttle;
    if (cfg->console != NULL && lv_console_new(cfg->console, r, &r->console, err) != LV_OK) {
        free(r);
        return err->code;
    }
    r->alarms = cfg->alarms;
    r->am_token = cfg->alertmanager_token;
    r->hooks = cfg->hooks;
    if (r->hooks != NULL && lv_offload_new(LV_OFFLOAD_THREADS, LV_OFFLOAD_QUEUE, &r->offload, err) != LV_OK) {
        lv_console_free(r->console);
        free(r);
        return err->code;
    }
    if (r->engine != NULL && lv_engine_shared(r->engine) &&
        lv_offload_new(WRITE_THREADS, WRITE_QUEUE, &r->writes, err) != LV_OK) {
        lv_offload_free(r->offload);
        lv_console_free(r->console);
        free(r);
        return err->code;
    }
    *out = r;
    return LV_OK;
}

void lv_router_drain(lv_router *r)
{
    if (r != NULL && r->writes != NULL)
        lv_offload_stop(r->writes);
    if (r != NULL && r->offload != NULL) {
        lv_hooks_stopping(r->hooks);
        lv_offload_stop(r->offload);
    }
}

void lv_router_free(lv_router *r)
{
    if (r != NULL) {
        lv_offload_free(r->writes);
        lv_offload_free(r->offload);
        lv_console_free(r->console);
        memset(&r->root, 0, sizeof r->root);
        free(r);
    }
}

/* A random version-4 UUID; a per-thread generator keeps this off any lock. */
static void request_id(char out[37])
{
    static _Thread_local uint64_t s[2];
    if (s[0] == 0 && s[1] == 0) {
        if (getrandom(s, sizeof s, 0) != (ssize_t)sizeof s || (s[0] == 0 && s[1] == 0)) {
            s[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&s;
            s[1] = 0x9E3779B97F4A7C15ULL;
        }
    }
    unsigned char b[16];
    for (int i = 0; i < 2; i++) {
        /* xorshift128+ */
        uint64_t x = s[0], y = s[1];
        s[0] = y;
        x ^= x << 23;
        s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
        uint64_t v = s[1] + y;
        memcpy(b + 8 * i, &v, 8);
    }
    lv_uuid4_text(b, out);
}

static void answer_error(lv_http_response *resp, const lv_error *e)
{
    resp->status = lv_err_http_status(e->code);
    resp->content_type = JSON11;
    lv_buf_reset(&resp->body);
    jw w;
    jw_init(&w, &resp->body);
    jw_obj(&w);
    jw_kstr(&w, "__type", lv_err_aws_code(e->code));
    jw_kstr(&w, "message", e->msg);
    jw_obj_end(&w);
}

static lv_err lookup_secret(void *ctx, const char *akid, char *secret, size_t cap)
{
    lv_router *r = ctx;
    if (strcmp(akid, r->root.access_key_id) != 0)
        return r->keys ? lv_keystore_secret(r->keys, akid, secret, cap) : LV_E_UNRECOGNIZED_CLIENT;
    size_t n = strlen(r->root.secret_access_key);
    if (n + 1 > cap)
        return LV_E_UNRECOGNIZED_CLIENT;
    memcpy(secret, r->root.secret_access_key, n + 1);
    return LV_OK;
}

/* ---------- authorisation of issued keys ---------- */

static lv_err denied(lv_error *err, const char *user, const char *action, const char *res, bool explicit_deny)
{
    if (explicit_deny)
        return lv_error_set(err, LV_E_ACCESS_DENIED,
                            "User: %s is not authorized to perform: %s on resource: %s with an explicit deny in "
                            "an identity-based policy",
                            user, action, res);
    return lv_error_set(err, LV_E_ACCESS_DENIED,
                        "User: %s is not authorized to perform: %s on resource: %s because no identity-based "
                        "policy allows the %s action",
                        user, action, res, action);
}

/* Every resource must be allowed: like AWS, one denied name in
 * GetParameters or DeleteParameters refuses the whole call. */
static lv_err authorize(lv_router *r, const lv_sigv4_auth *auth, const char *user, const lv_authz_req *az,
                        lv_error *err)
{
    if (r->keys == NULL)
        return denied(err, user, az->action, "*", false);
    for (size_t i = 0; i < az->nres; i++) {
        lv_iam_request q = {az->action, az->res[i], az->cond_keys, az->cond_values, az->ncond};
        lv_iam_decision d = lv_keystore_authorize(r->keys, auth->access_key, &q);
        if (d != LV_IAM_ALLOW)
            return denied(err, user, az->action, az->res[i], d == LV_IAM_DENY);
    }
    return LV_OK;
}

/* The listing filter of one caller: a parameter is hidden when the
 * caller's policies explicitly deny the listing action on its own ARN
 * (unlike AWS, whose path permission covers everything below it). Every
 * field is inline so a deferred watch can keep a plain copy. */
typedef struct router_hide {
    lv_ssm_hide base;
    lv_keystore *keys;
    char akid[LV_ACCESS_KEY_MAX + 1];
    char action[64];
    char account[16];
    const char *cond_keys[LV_AUTHZ_MAX_COND];
    const char *cond_values[LV_AUTHZ_MAX_COND]; /* "true"/"false" literals */
    size_t ncond;
} router_hide;

static bool hide_hidden(const lv_ssm_hide *h, const char *region, const char *name)
{
    const router_hide *rh = (const router_hide *)h;
    lv_buf arn = LV_BUF_INIT;
    char stack[1536];
    const char *res = stack;
    int n = snprintf(stack, sizeof stack, "arn:aws:ssm:%s:%s:parameter%s%s", region, rh->account,
                     name[0] == '/' ? "" : "/", name);
    if (n < 0 || (size_t)n >= sizeof stack) {
        if (lv_buf_printf(&arn, "arn:aws:ssm:%s:%s:parameter%s%s", region, rh->account, name[0] == '/' ? "" : "/",
                          name) != LV_OK) {
            lv_buf_free(&arn);
            return true; /* out of memory: leave it out rather than show it */
        }
        res = arn.data;
    }
    lv_iam_request q = {rh->action, res, rh->cond_keys, rh->cond_values, rh->ncond};
    bool hidden = lv_keystore_authorize(rh->keys, rh->akid, &q) == LV_IAM_DENY;
    lv_buf_free(&arn);
    return hidden;
}

static lv_ssm_hide *hide_dup(const lv_ssm_hide *h)
{
    router_hide *c = malloc(sizeof *c);
    if (c != NULL)
        memcpy(c, h, sizeof *c);
    return c ? &c->base : NULL;
}

static void hide_release(lv_ssm_hide *h)
{
    free(h);
}

static void hide_init(router_hide *h, lv_router *r, const char *akid, const lv_authz_req *az)
{
    memset(h, 0, sizeof *h);
    h->base.hidden = hide_hidden;
    h->base.dup = hide_dup;
    h->base.release = hide_release;
    h->keys = r->keys;
    snprintf(h->akid, sizeof h->akid, "%s", akid);
    snprintf(h->action, sizeof h->action, "%s", az->action);
    snprintf(h->account, sizeof h->account, "%s", r->account);
    for (size_t i = 0; i < az->ncond; i++) {
        /* Listings carry only ssm:Recursive, whose values are literals. */
        if (strcmp(az->cond_values[i], "true") != 0 && strcmp(az->cond_values[i], "false") != 0)
            continue;
        h->cond_keys[h->ncond] = az->cond_keys[i];
        h->cond_values[h->ncond] = strcmp(az->cond_values[i], "true") == 0 ? "true" : "false";
        h->ncond++;
    }
}

/* kms:Decrypt on the parameter's key, as AWS asks of the caller when it
 * reads a SecureString WithDecryption: the resource is the KeyId as an
 * ARN (alias/aws/ssm, the default, gives ...:alias/aws/ssm). */
typedef struct router_decrypt {
    lv_ssm_decrypt base;
    lv_router *r;
    const char *akid;
    const char *user;
} router_decrypt;

static lv_err decrypt_allowed(const lv_ssm_decrypt *d, const char *region, const char *key_id, lv_error *err)
{
    const router_decrypt *rd = (const router_decrypt *)d;
    char res[512];
    if (strncmp(key_id, "arn:", 4) == 0)
        snprintf(res, sizeof res, "%s", key_id);
    else
        snprintf(res, sizeof res, "arn:aws:kms:%s:%s:%s%s", region, rd->r->account,
                 strncmp(key_id, "alias/", 6) == 0 ? "" : "key/", key_id);
    lv_iam_request q = {"kms:Decrypt", res, NULL, NULL, 0};
    lv_iam_decision dec = lv_keystore_authorize(rd->r->keys, rd->akid, &q);
    if (dec == LV_IAM_ALLOW)
        return LV_OK;
    return denied(err, rd->user, "kms:Decrypt", res, dec == LV_IAM_DENY);
}

/* ---------- audit ---------- */

/* The access key id a refused request claims (from its Authorization
 * header), for the audit line; "" when there is none. */
static void claimed_key(const lv_http_request *req, char *out, size_t cap)
{
    out[0] = '\0';
    const char *a = lv_http_header_get(req, "Authorization");
    const char *c = a ? strstr(a, "Credential=") : NULL;
    if (c == NULL)
        return;
    c += 11;
    size_t n = 0;
    while (c[n] && c[n] != '/' && n + 1 < cap &&
           ((c[n] >= 'A' && c[n] <= 'Z') || (c[n] >= 'a' && c[n] <= 'z') || (c[n] >= '0' && c[n] <= '9')))
        n++;
    memcpy(out, c, n);
    out[n] = '\0';
}

static void audit(lv_router *r, const char *rid, const char *akid, const char *user, const lv_http_request *req,
                  const char *op, bool lever, const char *const *names, size_t nnames, const char *outcome,
                  lv_err code)
{
    if (r->audit == NULL)
        return;
    char opname[96];
    snprintf(opname, sizeof opname, "%s%s", lever ? "Lever." : "", op);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    lv_audit_event ev = {(int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
                         rid,
                         akid,
                         user,
                         req->remote_addr,
                         opname,
                         names,
                         nnames,
                         outcome,
                         code == LV_OK ? NULL : lv_err_aws_code(code)};
    lv_audit_write(r->audit, &ev);
}

/* ---------- AppConfig (REST) ---------- */

typedef struct ac_authz {
    lv_router *r;
    const char *akid;
    const char *user;
} ac_authz;

static lv_err ac_authorize(void *ctx, const char *action, const char *resource, lv_error *err)
{
    ac_authz *a = ctx;
    if (a->r->keys == NULL)
        return denied(err, a->user, action, resource, false);
    lv_iam_request q = {action, resource, NULL, NULL, 0};
    lv_iam_decision d = lv_keystore_authorize(a->r->keys, a->akid, &q);
    return d == LV_IAM_ALLOW ? LV_OK : denied(err, a->user, action, resource, d == LV_IAM_DENY);
}

/* The AppConfig control plane and AppConfig Data: SigV4 service
 * "appconfig", the REST decoder, policies with appconfig:<Operation> on
 * AppConfig ARNs, the audit log as for SSM calls. */
static void handle_appconfig(lv_router *r, const char *rid, const lv_http_request *req, lv_http_response *resp,
                             const struct timespec *t0, const lv_sigv4_auth *as, bool offloaded);

/* A request parked while a synchronous hook runs, and what it needs to
 * be handled again on a worker thread. */
typedef struct parked {
    lv_router *r;
    char rid[37];
    lv_offload_req *req;
    lv_sigv4_auth auth;
    struct timespec t0;
    lv_http_deferred *d;
} parked;

static void run_parked(void *arg)
{
    parked *p = arg;
    handle_appconfig(p->r, p->rid, &p->req->req, lv_http_deferred_response(p->d), &p->t0, &p->auth, true);
    lv_http_resume(p->d);
    lv_offload_req_free(p->req);
    free(p);
}

/* Whether the call waits on a synchronous hook (so must not hold an
 * event loop while it does). */
static bool waits_on_hook(lv_router *r, const lv_acwire_call *call)
{
    if (r->offload == NULL)
        return false;
    const char *app = lv_acapi_str(call, "ApplicationId");
    /* a LAMBDA validator is a URL leverd calls, up to its timeout */
    if ((call->op == ACW_StartDeployment || call->op == ACW_ValidateConfiguration) &&
        lv_acapi_profile_calls_out(r->engine, app, lv_acapi_str(call, "ConfigurationProfileId")))
        return true;
    if (call->op == ACW_CreateHostedConfigurationVersion)
        return lv_hooks_wanted(r->hooks, LV_HOOK_PRE_CREATE, app, NULL, lv_acapi_str(call, "ConfigurationProfileId"));
    if (call->op == ACW_StartDeployment)
        return lv_hooks_wanted(r->hooks, LV_HOOK_PRE_START, app, lv_acapi_str(call, "EnvironmentId"),
                               lv_acapi_str(call, "ConfigurationProfileId"));
    return false;
}

/* Parks the request for a worker; false when it cannot be (then it is
 * handled here and now). */
static bool park(lv_router *r, const char *rid, const lv_http_request *req, lv_http_response *resp,
                 const struct timespec *t0, const lv_sigv4_auth *auth)
{
    parked *p = calloc(1, sizeof *p);
    if (p == NULL || (p->req = lv_offload_req_copy(req)) == NULL) {
        free(p);
        return false;
    }
    p->r = r;
    snprintf(p->rid, sizeof p->rid, "%s", rid);
    p->auth = *auth;
    p->t0 = *t0;
    if ((p->d = lv_http_defer(resp)) == NULL) {
        lv_offload_req_free(p->req);
        free(p);
        return false;
    }
    if (!lv_offload_submit(r->offload, run_parked, p)) {
        /* Full (or stopping): refuse rather than hold the loop. */
        lv_error err;
        lv_error_clear(&err);
        lv_error_set(&err, LV_E_THROTTLING, "Too many requests are waiting on extension hooks; retry later");
        lv_acwire_error(&err, NULL, lv_http_deferred_response(p->d));
        audit(r, rid, auth->access_key, NULL, req, "AppConfig", false, NULL, 0, "throttled", LV_E_THROTTLING);
        lv_http_resume(p->d);
        lv_offload_req_free(p->req);
        free(p);
    }
    return true;
}

static void handle_appconfig(lv_router *r, const char *rid, const lv_http_request *req, lv_http_response *resp,
                             const struct timespec *t0, const lv_sigv4_auth *as, bool offloaded)
{
    lv_error err;
    lv_error_clear(&err);
    static _Thread_local lv_sigv4_cache cache;
    lv_sigv4_header hdrs[64];
    size_t nh = req->nheaders < 64 ? req->nheaders : 64;
    for (size_t i = 0; i < nh; i++) {
        const lv_http_header *h = &req->headers[i];
        hdrs[i].name = h->name;
        hdrs[i].name_len = h->name_len ? h->name_len : strlen(h->name);
        hdrs[i].value = h->value;
        hdrs[i].value_len = h->value_len || h->value[0] == '\0' ? h->value_len : strlen(h->value);
    }
    lv_sigv4_request sreq = {req->method, req->path, req->query, hdrs, nh, req->body, req->body_len};
    lv_sigv4_auth auth;
    if (as != NULL)
        auth = *as;
    lv_err rc = as != NULL ? LV_OK
                : req->nheaders > 64
                    ? lv_error_set(&err, LV_E_INCOMPLETE_SIGNATURE, "Too many request headers.")
                    : lv_sigv4_verify(&sreq, "appconfig", time(NULL), lookup_secret, r, &cache, &auth, &err);
    lv_acwire_call call;
    memset(&call, 0, sizeof call);
    if (rc != LV_OK) {
        atomic_fetch_add(&r->auth_failed, 1);
        lv_acwire_error(&err, NULL, resp);
        char akid[LV_ACCESS_KEY_MAX + 1];
        claimed_key(req, akid, sizeof akid);
        audit(r, rid, akid, NULL, req, "AppConfig", false, NULL, 0, "denied", err.code);
        return;
    }
    bool is_root = strcmp(auth.access_key, r->root.access_key_id) == 0;
    char user_arn[LV_ACCESS_KEY_MAX + 64];
    if (is_root)
        memcpy(user_arn, r->root_arn, strnlen(r->root_arn, sizeof user_arn - 1) + 1);
    else
        snprintf(user_arn, sizeof user_arn, "arn:aws:iam::%s:user/%s", r->account, auth.access_key);
    rc = lv_acwire_decode(req, &call, &err);
    const char *op = call.op >= 0 ? lv_acwire_op_name(call.op) : "AppConfig";
    bool mutating = call.op >= 0 && lv_acwire_mutating(call.op);
    /* Reads say the revision before them, writes the one after. */
    if (!mutating && !offloaded) /* a parked response has them already */
        lv_consistency_headers(r->engine, resp);
    if (rc == LV_OK && (rc = lv_consistency_await(r->engine, req, &err)) != LV_OK) {
        lv_acwire_error(&err, NULL, resp);
        audit(r, rid, auth.access_key, user_arn, req, op, false, NULL, 0, "error", rc);
        lv_acwire_call_free(&call);
        return;
    }
    if (rc != LV_OK) {
        lv_acwire_error(&err, NULL, resp);
        if (rc == LV_E_UNKNOWN_OPERATION)
            resp->status = 404;
        audit(r, rid, auth.access_key, user_arn, req, op, false, NULL, 0, "error", rc);
        lv_acwire_call_free(&call);
        return;
    }
    if (!offloaded && r->throttle != NULL && lv_throttle_active(r->throttle)) {
        struct timespec mono;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        if (!lv_throttle_take(r->throttle, auth.access_key, is_root, auth.region, op, mutating,
                              (double)mono.tv_sec + (double)mono.tv_nsec / 1e9)) {
            atomic_fetch_add(&r->throttled, 1);
            lv_error_set(&err, LV_E_THROTTLING, "Rate exceeded");
            lv_acwire_error(&err, NULL, resp);
            audit(r, rid, auth.access_key, user_arn, req, op, false, NULL, 0, "throttled", LV_E_THROTTLING);
            lv_acwire_call_free(&call);
            return;
        }
    }
    /* Console calls (as != NULL) are answered by the console's own
     * handler after this returns, so they are never parked. */
    if (!offloaded && as == NULL && waits_on_hook(r, &call) && park(r, rid, req, resp, t0, &auth)) {
        lv_acwire_call_free(&call);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ac_authz az = {r, auth.access_key, user_arn};
    lv_acapi_ctx c;
    memset(&c, 0, sizeof c);
    c.engine = r->engine;
    c.account = r->account;
    c.region = auth.region;
    c.user_arn = user_arn;
    c.now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    c.req = req;
    c.resp = resp;
    c.authorize = is_root ? NULL : ac_authorize;
    c.authz_ctx = &az;
    c.hooks = r->hooks;
    rc = lv_acapi_handle(&c, &call);
    if (mutating)
        lv_consistency_headers(r->engine, resp);
    if (rc == LV_E_ACCESS_DENIED)
        atomic_fetch_add(&r->denied, 1);
    const char *names[1] = {c.resource};
    if (mutating || rc != LV_OK)
        audit(r, rid, auth.access_key, user_arn, req, op, false, c.resource[0] ? names : NULL, c.resource[0] ? 1 : 0,
              rc == LV_OK ? "ok" : rc == LV_E_ACCESS_DENIED ? "denied" : "error", rc);
    lv_acwire_call_free(&call);
    lv_router_observe(r, t0);
}

/* as: the caller already authenticated by the console (its session's
 * key), or NULL: verify the request's SigV4 signature. */
static void handle(lv_router *r, const lv_http_request *req, lv_http_response *resp, const lv_sigv4_auth *as);

/* Set while an offload worker handles a parked JSON request again. */
static _Thread_local bool tl_parked;

static void run_parked_json(void *arg)
{
    parked *p = arg;
    tl_parked = true;
    handle(p->r, &p->req->req, lv_http_deferred_response(p->d), NULL);
    tl_parked = false;
    lv_http_resume(p->d);
    lv_offload_req_free(p->req);
    free(p);
}

/* Whether a Lever.* call waits on something outside leverd, so is handled
 * on a worker, not an event loop: Lever.StartLabelDeployment of a parameter
 * with a PRE_START_DEPLOYMENT webhook, Lever.CheckConfiguration of a
 * profile with a URL validator. */
static bool lever_waits_outside(lv_router *r, const char *op, json_t *parsed, const char *region)
{
    if (r->offload == NULL || tl_parked)
        return false;
    /* Lever.CheckConfiguration runs the profile's validators, a LAMBDA one
     * being a URL leverd calls */
    if (strcmp(op, "CheckConfiguration") == 0)
        return lv_acapi_profile_calls_out(r->engine, json_string_value(json_object_get(parsed, "Application")),
                                          json_string_value(json_object_get(parsed, "ConfigurationProfile")));
    if (strcmp(op, "StartLabelDeployment") != 0)
        return false;
    const char *name = json_string_value(json_object_get(parsed, "Name"));
    if (name == NULL)
        return false;
    lv_buf cn = LV_BUF_INIT;
    lv_error e;
    lv_error_clear(&e);
    bool w = lv_name_canonical(name, strlen(name), &cn, &e) == LV_OK &&
             lv_hooks_wanted_param(r->hooks, LV_HOOK_PRE_START, region, cn.data);
    lv_buf_free(&cn);
    return w;
}

/* Parks a JSON request for a worker, which handles it from the start
 * again; false when it cannot be parked (then it is handled here). */
static bool park_json(lv_router *r, const lv_http_request *req, lv_http_response *resp)
{
    parked *p = calloc(1, sizeof *p);
    if (p == NULL || (p->req = lv_offload_req_copy(req)) == NULL) {
        free(p);
        return false;
    }
    p->r = r;
    if ((p->d = lv_http_defer(resp)) == NULL) {
        lv_offload_req_free(p->req);
        free(p);
        return false;
    }
    if (!lv_offload_submit(r->offload, run_parked_json, p)) {
        lv_error err;
        lv_error_clear(&err);
        lv_error_set(&err, LV_E_THROTTLING, "Too many requests are waiting on extension hooks; retry later");
        answer_error(lv_http_deferred_response(p->d), &err);
        lv_http_resume(p->d);
        lv_offload_req_free(p->req);
        free(p);
    }
    return true;
}

static void handle(lv_router *r, const lv_http_request *req, lv_http_response *resp, const lv_sigv4_auth *as)
{
    char rid[37];
    request_id(rid);
    lv_http_response_header(resp, "x-amzn-RequestId", rid);
    if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/healthz") == 0) {
        lv_consistency_healthz(r->engine, resp);
        return;
    }
    if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/metrics") == 0) {
        resp->status = 200;
        lv_router_metrics(r, resp);
        return;
    }
    if (strcmp(req->path, LV_AM_PATH) == 0) {
        lv_am_ctx am = {r->alarms, r->am_token, r->audit, rid};
        lv_am_handle(&am, req, resp);
        return;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (lv_acwire_path_known(req->path)) {
        handle_appconfig(r, rid, req, resp, &t0, as, false);
        return;
    }
    lv_error err;
    lv_error_clear(&err);
    const char *target = lv_http_header_get(req, "X-Amz-Target");
    if (strcmp(req->method, "POST") != 0 || strcmp(req->path, "/") != 0 || target == NULL) {
        lv_error_set(&err, LV_E_UNKNOWN_OPERATION,
                     "lever serves AWS JSON 1.1 requests as POST / with an X-Amz-Target header.");
        answer_error(resp, &err);
        if (strcmp(req->path, "/") != 0)
            resp->status = 404;
        return;
    }
    const char *dot = strchr(target, '.');
    const char *op = dot ? dot + 1 : "";
    bool ssm = dot != NULL && (size_t)(dot - target) == 9 && strncmp(target, "AmazonSSM", 9) == 0;
    bool lever = dot != NULL && (size_t)(dot - target) == 5 && strncmp(target, "Lever", 5) == 0 &&
                 (lv_lever_op_known(op) || lv_admin_op_known(op) || lv_alarm_api_op_known(op));
    int opi = ssm ? lv_ssm_op_index(op) : -1;
    int slot = opi >= 0 && opi < MAX_OPS ? opi : MAX_OPS;

    /* Authenticate before anything else looks at the body. */
    static _Thread_local lv_sigv4_cache cache;
    lv_sigv4_header hdrs[64];
    size_t nh = req->nheaders < 64 ? req->nheaders : 64;
    for (size_t i = 0; i < nh; i++) {
        const lv_http_header *h = &req->headers[i];
        hdrs[i].name = h->name;
        hdrs[i].name_len = h->name_len ? h->name_len : strlen(h->name);
        hdrs[i].value = h->value;
        hdrs[i].value_len = h->value_len || h->value[0] == '\0' ? h->value_len : strlen(h->value);
    }
    lv_sigv4_request sreq = {req->method, req->path, req->query, hdrs, nh, req->body, req->body_len};
    lv_sigv4_auth auth;
    if (as != NULL)
        auth = *as;
    lv_err rc = as != NULL ? LV_OK
                : req->nheaders > 64
                    ? lv_error_set(&err, LV_E_INCOMPLETE_SIGNATURE, "Too many request headers.")
                    : lv_sigv4_verify(&sreq, "ssm", time(NULL), lookup_secret, r, &cache, &auth, &err);
    if (rc != LV_OK) {
        atomic_fetch_add(&r->auth_failed, 1);
        atomic_fetch_add(&r->failed[slot], 1);
        answer_error(resp, &err);
        char akid[LV_ACCESS_KEY_MAX + 1];
        claimed_key(req, akid, sizeof akid);
        audit(r, rid, akid, NULL, req, ssm || lever ? op : target, lever, NULL, 0, "denied", err.code);
        return;
    }
    if (!ssm && !lever) {
        lv_error_set(&err, LV_E_UNKNOWN_OPERATION, "Operation %s is not supported.", target);
        atomic_fetch_add(&r->failed[slot], 1);
        answer_error(resp, &err);
        return;
    }
    bool is_root = strcmp(auth.access_key, r->root.access_key_id) == 0;
    bool admin = lever && lv_admin_op_known(op);
    char user_arn[LV_ACCESS_KEY_MAX + 64];
    if (is_root)
        memcpy(user_arn, r->root_arn, strnlen(r->root_arn, sizeof user_arn - 1) + 1);
    else
        snprintf(user_arn, sizeof user_arn, "arn:aws:iam::%s:user/%s", r->account, auth.access_key);

    /* What the request touches: needed to authorise a key with policies
     * and to name the parameters of an audited (mutating) call. Reads by
     * the root key skip this parse entirely. */
    lv_authz_req az;
    memset(&az, 0, sizeof az);
    bool alarm_op = lever && lv_alarm_api_op_known(op); /* every alarm call is audited */
    /* Lever.CheckConfiguration runs validators: audited on every call. */
    bool check_op = lever && strcmp(op, "CheckConfiguration") == 0;
    bool label_op = lever && lv_label_deploy_op_known(op) && strcmp(op, "GetLabelDeployment") != 0;
    bool mutating = admin || alarm_op || check_op || label_op || (ssm && lv_authz_ssm_mutating(op));
    json_t *parsed = NULL; /* parsed once, here, and handed to the SSM front-end */
    if (!is_root || mutating) {
        parsed = lv_json_load_request(req->body, req->body_len, NULL);
        rc = lv_authz_extract(ssm ? "ssm" : "lever", op, parsed, auth.region, r->account, &az);
        if (rc != LV_OK) {
            lv_authz_req_free(&az);
            json_decref(parsed);
            lv_error_set(&err, rc, "out of memory");
            answer_error(resp, &err);
            return;
        }
    }
    const char *const *names = (const char *const *)az.names;

    if (!tl_parked && r->throttle != NULL && lv_throttle_active(r->throttle)) {
        struct timespec mono;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        if (!lv_throttle_take(r->throttle, auth.access_key, is_root, auth.region, op, mutating,
                              (double)mono.tv_sec + (double)mono.tv_nsec / 1e9)) {
            atomic_fetch_add(&r->throttled, 1);
            atomic_fetch_add(&r->failed[slot], 1);
            lv_error_set(&err, LV_E_THROTTLING, "Rate exceeded");
            answer_error(resp, &err);
            if (mutating)
                audit(r, rid, auth.access_key, user_arn, req, op, lever, names, az.nnames, "throttled",
                      LV_E_THROTTLING);
            lv_authz_req_free(&az);
            json_decref(parsed);
            return;
        }
    }

    router_hide hide;
    bool use_hide = false;
    if (!is_root) {
        rc = admin ? lv_error_set(&err, LV_E_ACCESS_DENIED,
                                  "User: %s is not authorized to perform: lever:%s on resource: * because only "
                                  "the root access key may administer lever",
                                  user_arn, op)
                   : authorize(r, &auth, user_arn, &az, &err);
        if (rc != LV_OK) {
            atomic_fetch_add(&r->denied, 1);
            atomic_fetch_add(&r->failed[slot], 1);
            answer_error(resp, &err);
            audit(r, rid, auth.access_key, user_arn, req, op, lever, names, az.nnames, "denied", rc);
            lv_authz_req_free(&az);
            json_decref(parsed);
            return;
        }
        if (az.listing) {
            hide_init(&hide, r, auth.access_key, &az);
            use_hide = true;
        }
    }

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    router_decrypt dec = {{decrypt_allowed}, r, auth.access_key, user_arn};
    lv_ssm_ctx c = {r->engine, r->account, auth.region, user_arn,
                    (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, use_hide ? &hide.base : NULL,
                    is_root ? NULL : &dec.base};
    const char *entity = lv_http_header_get(req, "X-Lever-Entity-Id");
    c.entity = entity && *entity ? entity : auth.access_key;
    /* A cache that holds both sides of a label rollout asks for each
     * (x-lever-rollout-side) and is told the rollout in the answer. */
    const char *side = lv_http_header_get(req, "x-lever-rollout-side");
    lv_label_rollout lro;
    memset(&lro, 0, sizeof lro);
    if (ssm && strcmp(op, "GetParameter") == 0)
        c.rollout = &lro;
    if (side != NULL && strcmp(side, "from") != 0 && strcmp(side, "to") != 0) {
        lv_error_set(&err, LV_E_VALIDATION, "x-lever-rollout-side must be from or to");
        atomic_fetch_add(&r->failed[slot], 1);
        answer_error(resp, &err);
        lv_authz_req_free(&az);
        json_decref(parsed);
        return;
    }
    c.side = side;
    resp->content_type = JSON11;
    /* Never from a state older than the client's x-lever-revision. */
    if ((rc = lv_consistency_await(r->engine, req, &err)) != LV_OK) {
        atomic_fetch_add(&r->failed[slot], 1);
        answer_error(resp, &err);
        lv_authz_req_free(&az);
        json_decref(parsed);
        return;
    }
    /* The revision before the read: a client that lists and then watches
     * from here may see a change twice but never misses one. A write says
     * the revision after it (at least its own), for the same reason. */
    if (!mutating)
        lv_consistency_headers(r->engine, resp);
    if (admin) {
        lv_admin_ctx ac = {r->engine, r->keys, r->account, c.now_ms, r->audit ? lv_audit_path(r->audit) : NULL};
        if (r->keys == NULL)
            rc = lv_error_set(&err, LV_E_UNKNOWN_OPERATION, "Access keys are not enabled on this server.");
        else
            rc = lv_admin_dispatch(&ac, op, req->body, req->body_len, &resp->body, &err);
        lv_consistency_headers(r->engine, resp);
        if (rc != LV_OK) {
            atomic_fetch_add(&r->failed[MAX_OPS], 1);
            answer_error(resp, &err);
        } else {
            resp->status = 200;
        }
        if (rc != LV_OK || !lv_admin_op_read(op))
            audit(r, rid, auth.access_key, user_arn, req, op, lever, names, az.nnames,
                  rc == LV_OK ? "ok" : "error", rc);
        lv_authz_req_free(&az);
        json_decref(parsed);
        return;
    }
    if (alarm_op) {
        rc = r->alarms ? lv_alarm_api_dispatch(r->alarms, op, req->body, req->body_len, c.now_ms, &resp->body, &err)
                       : lv_error_set(&err, LV_E_UNKNOWN_OPERATION, "Alarms are not enabled on this server.");
        lv_consistency_headers(r->engine, resp);
        if (rc != LV_OK) {
            atomic_fetch_add(&r->failed[MAX_OPS], 1);
            answer_error(resp, &err);
        } else {
            resp->status = 200;
        }
        audit(r, rid, auth.access_key, user_arn, req, op, lever, names, az.nnames, rc == LV_OK ? "ok" : "error", rc);
        lv_authz_req_free(&az);
        json_decref(parsed);
        lv_router_observe(r, &t0);
        return;
    }
    if (lever && as == NULL && (label_op || check_op) && lever_waits_outside(r, op, parsed, auth.region) &&
        park_json(r, req, resp)) {
        lv_authz_req_free(&az);
        json_decref(parsed);
        return;
    }
    if (lever) {
        c.hooks = r->hooks;
        rc = lv_lever_dispatch(&c, op, req->body, req->body_len, resp, &err);
        if (rc != LV_OK) {
            atomic_fetch_add(&r->failed[MAX_OPS], 1);
            answer_error(resp, &err);
        }
        if (check_op || label_op)
            audit(r, rid, auth.access_key, user_arn, req, op, lever, names, az.nnames,
                  rc == LV_OK ? "ok" : "error", rc);
        lv_authz_req_free(&az);
        json_decref(parsed);
        return;
    }
    rc = lv_ssm_dispatch_parsed(&c, op, parsed, req->body, req->body_len, &resp->body, &err);
    if (mutating)
        lv_consistency_headers(r->engine, resp);
    if (rc == LV_OK && lro.active) {
        char v[16];
        lv_http_response_header(resp, "x-lever-rollout-percent", lro.percent);
        lv_http_response_header(resp, "x-lever-rollout-seed", lro.seed);
        snprintf(v, sizeof v, "%u", lro.from);
        lv_http_response_header(resp, "x-lever-rollout-from", v);
        snprintf(v, sizeof v, "%u", lro.to);
        lv_http_response_header(resp, "x-lever-rollout-to", v);
    }
    if (rc != LV_OK) {
        if (err.code != rc)
            lv_error_set(&err, rc, "%s", rc == LV_E_NOMEM ? "out of memory" : "internal error");
        atomic_fetch_add(&r->failed[slot], 1);
        answer_error(resp, &err);
    } else {
        atomic_fetch_add(&r->ok[slot], 1);
        resp->status = 200;
    }
    if (mutating || rc == LV_E_ACCESS_DENIED)
        audit(r, rid, auth.access_key, user_arn, req, op, lever, names, az.nnames,
              rc == LV_OK ? "ok" : rc == LV_E_ACCESS_DENIED ? "denied" : "error", rc);
    lv_authz_req_free(&az);
    json_decref(parsed);
    lv_router_observe(r, &t0);
}

/* ---------- writes on a shared store ---------- */

/* On a shared store a write waits for database round trips, and for other
 * nodes' commits: SSM writes are handled on a pool of worker threads, so
 * an event loop keeps serving while they wait and the writes of many
 * connections meet in one group commit (with the loops waiting, at most
 * one write per loop could). */
typedef struct parked_write {
    lv_router *r;
    lv_offload_req *req;
    lv_http_deferred *d;
} parked_write;

static void run_write(void *arg)
{
    parked_write *p = arg;
    handle(p->r, &p->req->req, lv_http_deferred_response(p->d), NULL);
    lv_http_resume(p->d);
    lv_offload_req_free(p->req);
    free(p);
}

/* Parks an SSM write for the pool; false when it is not one or cannot be
 * parked (then it is handled here and now). */
static bool park_write(lv_router *r, const lv_http_request *req, lv_http_response *resp)
{
    if (r->writes == NULL || strcmp(req->method, "POST") != 0 || strcmp(req->path, "/") != 0)
        return false;
    const char *target = lv_http_header_get(req, "X-Amz-Target");
    if (target == NULL || strncmp(target, "AmazonSSM.", 10) != 0 || !lv_authz_ssm_mutating(target + 10))
        return false;
    parked_write *p = calloc(1, sizeof *p);
    if (p == NULL || (p->req = lv_offload_req_copy(req)) == NULL) {
        free(p);
        return false;
    }
    p->r = r;
    if ((p->d = lv_http_defer(resp)) == NULL) {
        lv_offload_req_free(p->req);
        free(p);
        return false;
    }
    if (!lv_offload_submit(r->writes, run_write, p))
        run_write(p); /* full or stopping: here, as without the pool */
    return true;
}

void lv_router_handle(void *ctx, const lv_http_request *req, lv_http_response *resp)
{
    lv_router *r = ctx;
    if (r->console != NULL && lv_console_owns(req->path)) {
        lv_console_handle(r->console, req, resp);
        return;
    }
    if (park_write(r, req, resp))
        return;
    handle(r, req, resp, NULL);
}

void lv_router_handle_as(lv_router *r, const lv_http_request *req, lv_http_response *resp, const char *akid,
                         const char *region)
{
    lv_sigv4_auth auth;
    memset(&auth, 0, sizeof auth);
    snprintf(auth.access_key, sizeof auth.access_key, "%s", akid);
    snprintf(auth.region, sizeof auth.region, "%s", region);
    snprintf(auth.service, sizeof auth.service, "ssm");
    handle(r, req, resp, &auth);
}

lv_err lv_router_check_key(lv_router *r, const char *akid, const char *secret)
{
    char want[LV_SECRET_KEY_MAX + 1];
    if (lookup_secret(r, akid, want, sizeof want) != LV_OK)
        return LV_E_UNRECOGNIZED_CLIENT;
    size_t n = strlen(want), m = strlen(secret);
    /* Constant time in the secret's content; lengths are not secret. */
    bool ok = n == m && CRYPTO_memcmp(want, secret, n) == 0;
    memset(want, 0, sizeof want);
    return ok ? LV_OK : LV_E_UNRECOGNIZED_CLIENT;
}

bool lv_router_key_active(lv_router *r, const char *akid)
{
    char s[LV_SECRET_KEY_MAX + 1];
    bool ok = lookup_secret(r, akid, s, sizeof s) == LV_OK;
    memset(s, 0, sizeof s);
    return ok;
}

bool lv_router_is_root(const lv_router *r, const char *akid)
{
    return strcmp(akid, r->root.access_key_id) == 0;
}

const char *lv_router_account(const lv_router *r)
{
    return r->account;
}
