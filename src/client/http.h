/* http.h - liblever's transport: SigV4-signed AWS JSON 1.1 calls over one
 * kept-alive libcurl handle per connection object. */
#ifndef LV_CLIENT_HTTP_H
#define LV_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/keys.h"
#include "core/buf.h"
#include "lever/lever.h"

typedef struct lvc_server {
    char *url;    /* endpoint + path, e.g. "http://127.0.0.1:7447/" */
    char *host;   /* Host header value, signed */
    char *path;   /* request path, signed */
    char *region;
    lv_credentials creds;
    long connect_ms;
} lvc_server;

/* Fills s from an endpoint URL (http:// or https://). Returns LEVER_OK,
 * LEVER_E_INVALID (message in err) or LEVER_E_NOMEM. */
lever_status lvc_server_init(lvc_server *s, const char *endpoint, const char *region,
                             const lv_credentials *creds, char *err, size_t errlen);
void lvc_server_free(lvc_server *s);

/* One kept-alive connection. Not thread-safe: callers serialise. */
typedef struct lvc_conn lvc_conn;

lvc_conn *lvc_conn_new(void);
/* A connection whose running call another thread can end with
 * lvc_conn_interrupt (used by the live-mode long poll). After an interrupt
 * every call fails at once. */
lvc_conn *lvc_conn_new_interruptible(void);
void lvc_conn_interrupt(lvc_conn *c);
void lvc_conn_free(lvc_conn *c);

typedef struct lvc_reply {
    json_t *body;       /* parsed body (answer or error document) or NULL; owned */
    uint64_t revision;  /* x-lever-revision, 0 when absent */
    long status;        /* HTTP status, 0 when there was no answer */
    char code[128];     /* error __type without namespace, "" on success */
} lvc_reply;

void lvc_reply_clear(lvc_reply *r);

/* Sends body (a JSON object, not consumed) as X-Amz-Target: target. On
 * LEVER_OK r->body is the answer object. On a server error the status
 * maps the error code (ParameterNotFound -> LEVER_E_NOT_FOUND ...) and r
 * keeps the error document. err receives "<Code>: <message>" or the
 * transport failure. timeout_ms bounds the whole exchange. */
lever_status lvc_call(lvc_conn *c, const lvc_server *s, const char *target, json_t *body,
                      long timeout_ms, lvc_reply *r, char *err, size_t errlen);

/* lvc_call with extra request headers (not signed; a NULL value is left
 * out) and, when headers_out is not NULL, the answer's headers copied
 * there as "name: value\n" lines (lvc_raw's form). */
struct lvc_hdr;
lever_status lvc_call_ex(lvc_conn *c, const lvc_server *s, const char *target, json_t *body,
                         const struct lvc_hdr *extra, size_t nextra, long timeout_ms, lvc_reply *r,
                         lv_buf *headers_out, char *err, size_t errlen);

/* The answer of a REST call: raw bytes and headers (AppConfig's REST-JSON
 * APIs answer configuration bytes, not JSON documents). */
typedef struct lvc_raw {
    long status;        /* HTTP status, 0 when there was no answer */
    lv_buf body;        /* the answer's bytes; owned */
    lv_buf headers;     /* "name: value\n" lines as received; owned */
    uint64_t revision;  /* x-lever-revision, 0 when absent */
    char code[128];     /* error type (x-amzn-ErrorType or the body's __type), "" on 2xx */
} lvc_raw;

void lvc_raw_clear(lvc_raw *r);

/* The value of header name (case-insensitive) copied into buf (NUL-
 * terminated, at most cap-1 bytes); false when absent or longer. */
bool lvc_raw_header(const lvc_raw *r, const char *name, char *buf, size_t cap);

/* One extra request header (signed). */
typedef struct lvc_hdr {
    const char *name;
    const char *value;
} lvc_hdr;

/* One SigV4-signed REST call for service ("appconfig"): method, path (the
 * wire path, already percent-encoded, appended to the endpoint's path)
 * and query (encoded, without '?', or NULL), extra headers, an optional
 * body. On LEVER_OK (a 2xx answer) *out holds the answer; on an error
 * answer the status maps the error type (ResourceNotFoundException ->
 * LEVER_E_NOT_FOUND, BadRequestException -> LEVER_E_INVALID, ...) and *out
 * keeps it; err receives "<Code>: <message>" or the transport failure.
 * Free *out with lvc_raw_clear in every case. */
lever_status lvc_request(lvc_conn *c, const lvc_server *s, const char *service, const char *method,
                         const char *path, const char *query, const lvc_hdr *hdrs, size_t nhdrs,
                         const void *body, size_t body_len, long timeout_ms, lvc_raw *out, char *err,
                         size_t errlen);

/* Maps an AWS error code to a status. */
lever_status lvc_status_of_code(const char *code);

#endif
