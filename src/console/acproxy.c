/* acproxy.c - /console/ac/<path>: the session's key calls the AppConfig
 * REST API. The request becomes the router's own <METHOD> /<path>?<query>
 * with the AppConfig headers the operations read, authenticated by the
 * session instead of a signature, so authorisation (appconfig:<Operation>
 * on the resource's ARN), throttling, audit and the handlers are exactly
 * those of a signed AppConfig call by that key. */
#include "console/console_int.h"

#include <openssl/crypto.h>
#include <strings.h>

#include "api/acwire.h"
#include "api/router.h"

/* The request headers AppConfig operations take (hosted versions, the
 * deprecated GetConfiguration); nothing else reaches the router. */
static const char *const PASSED[] = {"Content-Type", "Description", "Latest-Version-Number", "VersionLabel",
                                     "Accept", NULL};

static bool passed(const char *name)
{
    for (size_t i = 0; PASSED[i]; i++)
        if (strcasecmp(name, PASSED[i]) == 0)
            return true;
    return false;
}

void lv_console_ac(lv_console *c, const lv_http_request *req, lv_http_response *resp, const char *path)
{
    if (!lv_acwire_path_known(path)) {
        lv_console_fail(resp, 404, "NotFound", "Not an AppConfig path.");
        return;
    }
    lv_session s;
    if (!lv_console_session(c, req, &s)) {
        lv_console_fail(resp, 401, "SessionExpired", "Not signed in, or the session has expired.");
        return;
    }
    /* Reads too: a GET answer can hold configuration content. */
    if (!lv_console_csrf_ok(req, &s)) {
        OPENSSL_cleanse(&s, sizeof s);
        lv_console_fail(resp, 403, "InvalidCsrfToken", "The request lacks the session's CSRF token.");
        return;
    }
    lv_http_header h[8];
    size_t n = 0;
    for (size_t i = 0; i < req->nheaders && n < sizeof h / sizeof h[0]; i++)
        if (passed(req->headers[i].name))
            h[n++] = req->headers[i];
    lv_http_request inner = {req->method, path, req->query, h, n, req->body, req->body_len, req->remote_addr};
    lv_router_handle_as(c->router, &inner, resp, s.akid, s.region);
    OPENSSL_cleanse(&s, sizeof s);
}
