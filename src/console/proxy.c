/* proxy.c - POST /console/api/<Target>: the session's key calls an SSM
 * or Lever operation. The request becomes the router's own POST / with
 * X-Amz-Target: <Target>, authenticated by the session instead of a
 * signature, so authorisation, throttling, audit and the handlers are
 * exactly those of a signed API call by that key. */
#include "console/console_int.h"

#include <openssl/crypto.h>
#include <string.h>

#include "api/router.h"

/* "AmazonSSM.<Op>" or "Lever.<Op>", Op letters only. */
static bool target_ok(const char *t)
{
    const char *op = strncmp(t, "AmazonSSM.", 10) == 0 ? t + 10 : strncmp(t, "Lever.", 6) == 0 ? t + 6 : NULL;
    if (op == NULL || *op == '\0' || strlen(op) > 64)
        return false;
    for (; *op; op++)
        if (!((*op >= 'A' && *op <= 'Z') || (*op >= 'a' && *op <= 'z')))
            return false;
    return true;
}

void lv_console_api(lv_console *c, const lv_http_request *req, lv_http_response *resp, const char *target)
{
    lv_session s;
    if (!lv_console_session(c, req, &s)) {
        lv_console_fail(resp, 401, "SessionExpired", "Not signed in, or the session has expired.");
        return;
    }
    if (!lv_console_csrf_ok(req, &s)) {
        OPENSSL_cleanse(&s, sizeof s);
        lv_console_fail(resp, 403, "InvalidCsrfToken", "The request lacks the session's CSRF token.");
        return;
    }
    if (!target_ok(target)) {
        OPENSSL_cleanse(&s, sizeof s);
        lv_console_fail(resp, 400, "UnknownOperationException", "Unknown operation.");
        return;
    }
    lv_http_header h[2] = {{"X-Amz-Target", target}, {"Content-Type", "application/x-amz-json-1.1"}};
    lv_http_request inner = {"POST", "/", NULL, h, 2, req->body, req->body_len, req->remote_addr};
    lv_router_handle_as(c->router, &inner, resp, s.akid, s.region);
    OPENSSL_cleanse(&s, sizeof s);
}
