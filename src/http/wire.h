/* wire.h - a response's bytes: status line, header fields and body,
 * written into a connection's output buffer. */
#ifndef LV_HTTP_WIRE_H
#define LV_HTTP_WIRE_H

#include <time.h>

#include "core/buf.h"
#include "http/http.h"

/* The Date field's value, formatted once a second per event loop. */
typedef struct lv_http_date {
    time_t at;
    char text[40];
} lv_http_date;

/* A field that cannot break the framing: a name of visible characters
 * without ':', a value without CR or LF. 1 with their lengths in *nl and
 * *vl, else 0. */
int lv_http_field_ok(const char *name, const char *value, size_t *nl, size_t *vl);

/* Appends the response to out: the handler's status, Content-Type and
 * headers, Content-Length and Date; "Connection: close" when close_conn;
 * the body unless head_only (a HEAD request). A response with an invalid
 * status or header becomes a 500. */
lv_err lv_http_wire_response(lv_buf *out, const lv_http_response *r, int close_conn,
                             int head_only, lv_http_date *date);

/* Appends a short JSON error answer with the given status, AWS-style
 * {"__type": type, "message": msg}. */
lv_err lv_http_wire_error(lv_buf *out, int status, const char *type, const char *msg,
                          int close_conn, lv_http_date *date);

#endif
