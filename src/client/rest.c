/* rest.c - lever_call_rest: the generic signed REST call tools use (any
 * service, method, path and headers), over the AppConfig state's
 * connection, and its response object. */
#include <stdlib.h>
#include <string.h>

#include "client/appconfig_int.h"

struct lever_response {
    lvc_raw raw;
    char hbuf[1024];
};

lever_status lever_call_rest(lever *c, const char *service, const char *method, const char *path_query,
                             const char *const *headers, const void *body, size_t body_len,
                             lever_response **out)
{
    *out = NULL;
    if (service == NULL || method == NULL || path_query == NULL || path_query[0] != '/')
        return lvc_h_fail(c, LEVER_E_INVALID, "service, method and a path starting with '/' are required");
    enum { MAXH = 8 };
    lvc_hdr hs[MAXH];
    char names[MAXH][128];
    size_t nh = 0;
    for (size_t i = 0; headers && headers[i]; i++) {
        const char *colon = strchr(headers[i], ':');
        if (nh >= MAXH || colon == NULL || colon == headers[i] || (size_t)(colon - headers[i]) >= sizeof names[0])
            return lvc_h_fail(c, LEVER_E_INVALID, "headers are \"Name: value\" (at most 8)");
        memcpy(names[nh], headers[i], (size_t)(colon - headers[i]));
        names[nh][colon - headers[i]] = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        hs[nh] = (lvc_hdr){names[nh], v};
        nh++;
    }
    lever_response *r = calloc(1, sizeof *r);
    char *path = strdup(path_query);
    if (r == NULL || path == NULL) {
        free(r);
        free(path);
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    }
    char *q = strchr(path, '?');
    if (q)
        *q++ = '\0';
    struct lvc_ac *a = lvc_ac_state(c);
    if (a == NULL) {
        free(r);
        free(path);
        return lvc_h_fail(c, LEVER_E_NOMEM, "out of memory");
    }
    lvc_h_settings set;
    lvc_h_get_settings(c, &set);
    char err[1024] = "";
    pthread_mutex_lock(&a->net_mu);
    lever_status st = lvc_request(a->conn, lvc_h_server(c), service, method, path, q, hs, nh, body, body_len,
                                  (long)set.timeout_ms, &r->raw, err, sizeof err);
    pthread_mutex_unlock(&a->net_mu);
    free(path);
    if (r->raw.status == 0) {
        lvc_raw_clear(&r->raw);
        free(r);
        return lvc_h_fail(c, st == LEVER_OK ? LEVER_E_UNREACHABLE : st, err);
    }
    if (st != LEVER_OK)
        lvc_h_fail(c, st, err);
    if (lv_buf_putc(&r->raw.body, '\0') == LV_OK) /* a NUL after the body, not counted */
        r->raw.body.len--;
    *out = r;
    return LEVER_OK;
}

long lever_response_status(const lever_response *r) { return r->raw.status; }

const char *lever_response_body(const lever_response *r, size_t *len)
{
    if (len)
        *len = r->raw.body.len;
    return r->raw.body.data ? r->raw.body.data : "";
}

const char *lever_response_header(lever_response *r, const char *name)
{
    return lvc_raw_header(&r->raw, name, r->hbuf, sizeof r->hbuf) ? r->hbuf : NULL;
}

const char *lever_response_error(const lever_response *r) { return r->raw.code; }

void lever_response_free(lever_response *r)
{
    if (r == NULL)
        return;
    lvc_raw_clear(&r->raw);
    free(r);
}
