/* console.c - the console's front door: which path goes where, the
 * embedded assets, and the security headers every answer carries. */
#include "console/console_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/router.h"
#include "console/assets.h"
#include "console/cookie.h"

/* No inline script or style anywhere: everything comes from 'self'. */
static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                          "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
                          "frame-ancestors 'none'";

lv_err lv_console_new(const lv_console_config *cfg, lv_router *router, lv_console **out, lv_error *err)
{
    lv_console *c = calloc(1, sizeof *c);
    if (c == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    c->router = router;
    c->audit = cfg->audit;
    c->idle_s = cfg->idle_seconds ? cfg->idle_seconds : 1800;
    c->max_s = cfg->max_seconds ? cfg->max_seconds : 43200;
    c->secure_cookie = cfg->secure_cookie;
    snprintf(c->region, sizeof c->region, "%s", cfg->region ? cfg->region : "us-east-1");
    lv_guard_config g = {20, 1.0 / 6, 5, 1.0 / 60};
    if (lv_sessions_new((int64_t)c->idle_s * 1000, (int64_t)c->max_s * 1000, &c->sessions, err) != LV_OK ||
        lv_guard_new(&g, &c->guard, err) != LV_OK) {
        lv_console_free(c);
        return err->code;
    }
    *out = c;
    return LV_OK;
}

void lv_console_free(lv_console *c)
{
    if (c == NULL)
        return;
    lv_sessions_free(c->sessions);
    lv_guard_free(c->guard);
    free(c);
}

bool lv_console_owns(const char *path)
{
    return strncmp(path, "/console", 8) == 0 && (path[8] == '\0' || path[8] == '/');
}

int64_t lv_console_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

double lv_console_mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Static strings need no copy: header values outside header_storage are
 * left as they are by http.c. */
static void header(lv_http_response *resp, const char *name, const char *value)
{
    if (resp->nheaders < sizeof resp->headers / sizeof resp->headers[0]) {
        resp->headers[resp->nheaders] = (lv_http_header){name, value, 0, 0}; /* checked on the wire */
        resp->nheaders++;
    }
}

void lv_console_headers(lv_http_response *resp, bool api)
{
    header(resp, "Content-Security-Policy", CSP);
    header(resp, "X-Content-Type-Options", "nosniff");
    header(resp, "X-Frame-Options", "DENY");
    header(resp, "Referrer-Policy", "no-referrer");
    header(resp, "Cache-Control", api ? "no-store" : "no-cache");
}

void lv_console_fail(lv_http_response *resp, int status, const char *type, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    lv_buf_reset(&resp->body);
    /* type and msg are the console's own fixed texts: no escaping needed
     * beyond what they never contain. */
    lv_buf_printf(&resp->body, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
}

bool lv_console_session(lv_console *c, const lv_http_request *req, lv_session *out)
{
    char id[LV_SESSION_ID_LEN + 1];
    if (lv_cookie_get(lv_http_header_get(req, "Cookie"), LV_CONSOLE_COOKIE, id, sizeof id) != 1)
        return false;
    if (!lv_sessions_get(c->sessions, id, lv_console_now_ms(), out))
        return false;
    /* A key disabled or deleted since sign-in ends its sessions. */
    if (!lv_router_key_active(c->router, out->akid)) {
        lv_sessions_delete(c->sessions, id);
        return false;
    }
    return true;
}

bool lv_console_csrf_ok(const lv_http_request *req, const lv_session *s)
{
    const char *site = lv_http_header_get(req, "Sec-Fetch-Site");
    if (site != NULL && strcmp(site, "same-origin") != 0)
        return false;
    const char *tok = lv_http_header_get(req, LV_CONSOLE_CSRF_HEADER);
    return tok != NULL && lv_console_token_equal(tok, s->csrf);
}

static const lv_console_asset *find_asset(const char *rel)
{
    for (size_t i = 0; i < lv_console_nassets; i++)
        if (strcmp(lv_console_assets[i].path, rel) == 0)
            return &lv_console_assets[i];
    return NULL;
}

static void serve_asset(const lv_http_request *req, lv_http_response *resp, const char *rel)
{
    const lv_console_asset *a = find_asset(*rel ? rel : "index.html");
    if (a == NULL) {
        lv_console_fail(resp, 404, "NotFound", "No such console page.");
        return;
    }
    resp->status = 200;
    resp->content_type = a->content_type;
    if (strcmp(req->method, "HEAD") != 0)
        lv_buf_append(&resp->body, a->data, a->len);
}

void lv_console_handle(lv_console *c, const lv_http_request *req, lv_http_response *resp)
{
    const char *rest = req->path + 8; /* after "/console" */
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool post = strcmp(req->method, "POST") == 0;
    bool ac = strncmp(rest, "/ac/", 4) == 0;
    bool api = ac || strncmp(rest, "/api/", 5) == 0 || strcmp(rest, "/session") == 0 || strcmp(rest, "/signin") == 0 ||
               strcmp(rest, "/signout") == 0;
    lv_console_headers(resp, api);
    if (*rest == '\0') {
        resp->status = 308;
        header(resp, "Location", "/console/");
        return;
    }
    if (ac)
        lv_console_ac(c, req, resp, rest + 3);
    else if (post && strncmp(rest, "/api/", 5) == 0)
        lv_console_api(c, req, resp, rest + 5);
    else if (post && strcmp(rest, "/signin") == 0)
        lv_console_signin(c, req, resp);
    else if (post && strcmp(rest, "/signout") == 0)
        lv_console_signout(c, req, resp);
    else if (get && strcmp(rest, "/session") == 0)
        lv_console_whoami(c, req, resp);
    else if (get && !api && strstr(rest, "..") == NULL)
        serve_asset(req, resp, rest + 1);
    else if (api)
        lv_console_fail(resp, 405, "MethodNotAllowed", "This console endpoint takes another method.");
    else
        lv_console_fail(resp, 404, "NotFound", "No such console page.");
}
