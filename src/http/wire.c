/* wire.c - responses onto the wire: plain appends into the connection's
 * output buffer, no formatting library on the common path. */
#include "http/wire.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

static const char *date_now(lv_http_date *d)
{
    time_t now = time(NULL);
    if (now != d->at || d->text[0] == '\0') {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(d->text, sizeof d->text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        d->at = now;
    }
    return d->text;
}

int lv_http_field_ok(const char *name, const char *value, size_t *nl, size_t *vl)
{
    if (name == NULL || value == NULL || name[0] == '\0')
        return 0;
    /* A name is visible ASCII (0x21-0x7e) but ':'; the subtraction folds
     * the two bounds into one unsigned compare. */
    size_t n = 0;
    while ((unsigned char)(name[n] - 0x21) < 0x5e && name[n] != ':')
        n++;
    if (name[n] != '\0')
        return 0;
    size_t v = strcspn(value, "\r\n");
    if (value[v] != '\0')
        return 0;
    *nl = n;
    *vl = v;
    return 1;
}

/* Writes v in decimal at w; returns the end. */
static char *put_uint(char *w, size_t v)
{
    char d[24];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(w, d + i, sizeof d - i);
    return w + (sizeof d - i);
}

static int has_body(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

lv_err lv_http_wire_response(lv_buf *out, const lv_http_response *r, int close_conn,
                             int head_only, lv_http_date *date)
{
    size_t nh = r->nheaders < sizeof r->headers / sizeof r->headers[0]
                    ? r->nheaders : sizeof r->headers / sizeof r->headers[0];
    size_t nl[sizeof r->headers / sizeof r->headers[0]], vl[sizeof r->headers / sizeof r->headers[0]];
    size_t ctn, ctl = 0, fields = 0;
    int valid = r->status >= 200 && r->status <= 599;
    for (size_t i = 0; valid && i < nh; i++) {
        const lv_http_header *h = &r->headers[i];
        if (h->name != NULL && h->name_len != 0) {
            nl[i] = h->name_len; /* checked by lv_http_response_header */
            vl[i] = h->value_len;
        } else if (h->name != NULL && !lv_http_field_ok(h->name, h->value, &nl[i], &vl[i])) {
            valid = 0;
        }
        fields += r->headers[i].name != NULL ? nl[i] + vl[i] + 4 : 0;
    }
    if (valid && r->content_type != NULL && !lv_http_field_ok("Content-Type", r->content_type, &ctn, &ctl))
        valid = 0;
    if (!valid) {
        /* A handler bug must not become a malformed response. */
        fprintf(stderr, "http: handler produced an invalid response (status %d)\n", r->status);
        return lv_http_wire_error(out, 500, "InternalServerError", "invalid response",
                                  close_conn, date);
    }

    /* One reservation covers the whole answer: the fixed parts (status
     * line with the longest reason, Content-Length's digits, Date and
     * Connection) take under 192 bytes. */
    const char *why = reason(r->status), *when = date_now(date);
    size_t wl = strlen(why), dl = strlen(when);
    int body = has_body(r->status);
    size_t blen = body && !head_only ? r->body.len : 0;
    lv_err rc = lv_buf_reserve(out, 128 + wl + dl + fields + ctl + blen);
    if (rc != LV_OK)
        return rc;
    char *w = out->data + out->len;
#define LV_PUT(p, n) (memcpy(w, (p), (n)), w += (n))
    LV_PUT("HTTP/1.1 ", 9);
    *w++ = (char)('0' + r->status / 100);
    *w++ = (char)('0' + r->status / 10 % 10);
    *w++ = (char)('0' + r->status % 10);
    *w++ = ' ';
    LV_PUT(why, wl);
    LV_PUT("\r\n", 2);
    if (r->content_type != NULL) {
        LV_PUT("Content-Type: ", 14);
        LV_PUT(r->content_type, ctl);
        LV_PUT("\r\n", 2);
    }
    for (size_t i = 0; i < nh; i++) {
        if (r->headers[i].name == NULL)
            continue;
        LV_PUT(r->headers[i].name, nl[i]);
        LV_PUT(": ", 2);
        LV_PUT(r->headers[i].value, vl[i]);
        LV_PUT("\r\n", 2);
    }
    if (body) {
        LV_PUT("Content-Length: ", 16);
        w = put_uint(w, r->body.len);
        LV_PUT("\r\n", 2);
    }
    LV_PUT("Date: ", 6);
    LV_PUT(when, dl);
    if (close_conn)
        LV_PUT("\r\nConnection: close\r\n\r\n", 23);
    else
        LV_PUT("\r\n\r\n", 4);
    if (blen > 0)
        LV_PUT(r->body.data, blen);
#undef LV_PUT
    *w = '\0';
    out->len = (size_t)(w - out->data);
    return LV_OK;
}

lv_err lv_http_wire_error(lv_buf *out, int status, const char *type, const char *msg,
                          int close_conn, lv_http_date *date)
{
    lv_http_response r;
    memset(&r, 0, offsetof(lv_http_response, header_storage));
    r.body = (lv_buf)LV_BUF_INIT;
    r.exchange_ = NULL;
    r.status = status;
    r.content_type = "application/json";
    lv_err rc = lv_buf_printf(&r.body, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
    if (rc == LV_OK)
        rc = lv_http_wire_response(out, &r, close_conn, 0, date);
    lv_buf_free(&r.body);
    return rc;
}
