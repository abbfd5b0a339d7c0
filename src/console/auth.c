/* auth.c - the console's sign-in, sign-out and "who am I" endpoints.
 * Sign-in accepts exactly the keys SigV4 accepts (the root key, active
 * issued keys), throttles failures per address and per key id, and is
 * written to the audit log like an API call. */
#include "console/console_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "api/router.h"
#include "console/cookie.h"
#include "console/signin.h"
#include "json/jw.h"

static void audit(lv_console *c, const lv_http_request *req, const char *akid, const char *op, const char *outcome,
                  const char *code)
{
    if (c->audit == NULL)
        return;
    lv_audit_event ev = {lv_console_now_ms(), "", akid, NULL, req->remote_addr, op, NULL, 0, outcome, code};
    lv_audit_write(c->audit, &ev);
}

static void session_json(lv_console *c, lv_http_response *resp, const lv_session *s)
{
    resp->status = 200;
    resp->content_type = "application/json";
    lv_buf_reset(&resp->body);
    jw w;
    jw_init(&w, &resp->body);
    jw_obj(&w);
    jw_kstr(&w, "AccessKeyId", s->akid);
    jw_key(&w, "Root");
    jw_bool(&w, lv_router_is_root(c->router, s->akid));
    jw_kstr(&w, "Region", s->region);
    jw_kstr(&w, "Account", lv_router_account(c->router));
    jw_kstr(&w, "CsrfToken", s->csrf);
    jw_kint(&w, "IdleSeconds", c->idle_s);
    jw_kint(&w, "MaxSeconds", c->max_s);
    jw_obj_end(&w);
}

void lv_console_signin(lv_console *c, const lv_http_request *req, lv_http_response *resp)
{
    lv_signin in;
    lv_error err;
    lv_error_clear(&err);
    if (lv_signin_parse(req->body, req->body_len, &in, &err) != LV_OK) {
        lv_console_fail(resp, 400, "ValidationException", "Enter an access key id and its secret.");
        return;
    }
    double now = lv_console_mono_s();
    unsigned retry = 0;
    if (!lv_guard_allow(c->guard, req->remote_addr, in.akid, now, &retry)) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", retry);
        lv_http_response_header(resp, "Retry-After", ra);
        lv_console_fail(resp, 429, "ThrottlingException", "Too many failed sign-in attempts; try again later.");
        audit(c, req, in.akid, "Console.SignIn", "throttled", "ThrottlingException");
        OPENSSL_cleanse(&in, sizeof in);
        return;
    }
    lv_err rc = lv_router_check_key(c->router, in.akid, in.secret);
    OPENSSL_cleanse(in.secret, sizeof in.secret);
    if (rc != LV_OK) {
        lv_guard_failed(c->guard, req->remote_addr, in.akid, now);
        lv_console_fail(resp, 401, "UnrecognizedClientException", "The access key id or secret is not valid.");
        audit(c, req, in.akid, "Console.SignIn", "denied", "UnrecognizedClientException");
        return;
    }
    lv_session s;
    if (lv_sessions_create(c->sessions, in.akid, in.region[0] ? in.region : c->region, lv_console_now_ms(), &s,
                           &err) != LV_OK) {
        lv_console_fail(resp, 500, "InternalServerError", "The session could not be started.");
        return;
    }
    char cookie[256];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/console; Max-Age=%u; HttpOnly; SameSite=Strict%s",
             LV_CONSOLE_COOKIE, s.id, c->max_s, c->secure_cookie ? "; Secure" : "");
    lv_http_response_header(resp, "Set-Cookie", cookie);
    OPENSSL_cleanse(cookie, sizeof cookie);
    session_json(c, resp, &s);
    audit(c, req, s.akid, "Console.SignIn", "ok", NULL);
    OPENSSL_cleanse(&s, sizeof s);
}

void lv_console_signout(lv_console *c, const lv_http_request *req, lv_http_response *resp)
{
    lv_session s;
    if (!lv_console_session(c, req, &s)) {
        lv_console_fail(resp, 401, "SessionExpired", "Not signed in.");
        return;
    }
    if (!lv_console_csrf_ok(req, &s)) {
        lv_console_fail(resp, 403, "InvalidCsrfToken", "The request lacks the session's CSRF token.");
        return;
    }
    lv_sessions_delete(c->sessions, s.id);
    char cookie[128];
    snprintf(cookie, sizeof cookie, "%s=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict%s",
             LV_CONSOLE_COOKIE, c->secure_cookie ? "; Secure" : "");
    lv_http_response_header(resp, "Set-Cookie", cookie);
    resp->status = 200;
    resp->content_type = "application/json";
    lv_buf_puts(&resp->body, "{}");
    audit(c, req, s.akid, "Console.SignOut", "ok", NULL);
    OPENSSL_cleanse(&s, sizeof s);
}

void lv_console_whoami(lv_console *c, const lv_http_request *req, lv_http_response *resp)
{
    lv_session s;
    if (!lv_console_session(c, req, &s)) {
        lv_console_fail(resp, 401, "SessionExpired", "Not signed in, or the session has expired.");
        return;
    }
    session_json(c, resp, &s);
    OPENSSL_cleanse(&s, sizeof s);
}
