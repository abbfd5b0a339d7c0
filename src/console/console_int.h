/* console_int.h - what the console's files share: the console object and
 * the answer helpers. Not for use outside src/console/. */
#ifndef LV_CONSOLE_INT_H
#define LV_CONSOLE_INT_H

#include "console/console.h"
#include "console/guard.h"
#include "console/session.h"

#define LV_CONSOLE_COOKIE "lever_console"
#define LV_CONSOLE_CSRF_HEADER "X-Lever-Csrf"

struct lv_console {
    lv_router *router;
    lv_sessions *sessions;
    lv_guard *guard;
    lv_audit *audit;
    char region[64];
    unsigned idle_s, max_s;
    bool secure_cookie;
};

/* The security headers of every console answer (CSP, nosniff, framing,
 * referrer, caching). api: a JSON answer that must never be cached. */
void lv_console_headers(lv_http_response *resp, bool api);
/* A JSON error answer {"__type": type, "message": msg} with status. */
void lv_console_fail(lv_http_response *resp, int status, const char *type, const char *msg);
/* The session named by the request's cookie, or false (none, expired). */
bool lv_console_session(lv_console *c, const lv_http_request *req, lv_session *out);
/* Whether the request carries the session's CSRF token and comes from
 * the console's own origin (Sec-Fetch-Site, when the browser sends it). */
bool lv_console_csrf_ok(const lv_http_request *req, const lv_session *s);
int64_t lv_console_now_ms(void);
double lv_console_mono_s(void);

/* The endpoints (auth.c, proxy.c, acproxy.c). */
void lv_console_signin(lv_console *c, const lv_http_request *req, lv_http_response *resp);
void lv_console_signout(lv_console *c, const lv_http_request *req, lv_http_response *resp);
void lv_console_whoami(lv_console *c, const lv_http_request *req, lv_http_response *resp);
void lv_console_api(lv_console *c, const lv_http_request *req, lv_http_response *resp, const char *target);
/* path: "/applications/..." (the AppConfig REST path), any method. */
void lv_console_ac(lv_console *c, const lv_http_request *req, lv_http_response *resp, const char *path);

#endif
