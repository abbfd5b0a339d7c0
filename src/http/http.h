/* http.h - the HTTP listener: accepts connections, reads whole requests
 * (bounded), hands each to one handler function, writes its response.
 * lever's own HTTP/1.1 layer (http.c, loop.c, parse.c, wire.c, tls.c). */
#ifndef LV_HTTP_HTTP_H
#define LV_HTTP_HTTP_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct lv_http_header {
    const char *name;  /* as received */
    const char *value;
    /* Their lengths, when known (the listener's parser sets them, and
     * lv_http_response_header once it has checked a field); 0 in headers
     * built elsewhere, which then need strlen (and, in a response, are
     * checked when written). */
    size_t name_len, value_len;
} lv_http_header;

/* A complete request. Every pointer is valid only during the handler call. */
typedef struct lv_http_request {
    const char *method;
    const char *path;          /* raw path, without the query */
    const char *query;         /* raw query string without '?', or NULL */
    const lv_http_header *headers;
    size_t nheaders;
    const char *body;          /* NUL-terminated for convenience */
    size_t body_len;
    const char *remote_addr;   /* "127.0.0.1" */
} lv_http_request;

/* What the handler fills. body is pre-initialised and empty. */
typedef struct lv_http_response {
    int status;
    const char *content_type;  /* static string */
    lv_http_header headers[16]; /* extra headers; static or handler-owned strings */
    size_t nheaders;
    size_t storage_used;       /* bytes of header_storage taken (http.c) */
    /* scratch for header values built per request; a label rollout's
     * x-lever-rollout-seed holds a parameter name (up to 1011 bytes) */
    char header_storage[2560];
    lv_buf body;
    void *exchange_;           /* private to http.c */
} lv_http_response;

typedef void (*lv_http_handler_fn)(void *ctx, const lv_http_request *req,
                                   lv_http_response *resp);

typedef struct lv_http_config {
    const char *listen;        /* "HOST:PORT"; port 0 picks a free port */
    unsigned threads;          /* event loops; 0 = the CPUs this process may
                                  use (lv_http_cpus) */
    size_t max_body;           /* bytes; larger bodies get 413 */
    unsigned max_connections;  /* 0 = 1024 */
    unsigned timeout_seconds;  /* idle connection timeout; 0 = 60 */
    const char *tls_cert;      /* PEM certificate (chain) file: serve HTTPS; NULL = plain HTTP */
    const char *tls_key;       /* PEM private key file, with tls_cert */
    const char *log_name;      /* prefix of log lines; NULL = "leverd" */
} lv_http_config;

typedef struct lv_http_server lv_http_server;

/* Starts listening and serving in background threads, one event loop
 * each. Raises the process's soft RLIMIT_NOFILE (up to its hard limit)
 * when the connection limit needs more descriptors. */
lv_err lv_http_start(const lv_http_config *cfg, lv_http_handler_fn fn,
                     void *ctx, lv_http_server **out, lv_error *err);

/* The port actually bound (useful with port 0). */
unsigned lv_http_port(const lv_http_server *s);

/* Stops accepting and ends every loop once it has finished the handler
 * call under way; open connections are closed, frees s. */
void lv_http_stop(lv_http_server *s);

/* Finds a header by case-insensitive name; NULL when absent. */
const char *lv_http_header_get(const lv_http_request *req, const char *name);

/* Adds a response header; value is copied into header_storage when it
 * fits, else the call fails with LV_E_TOO_BIG. A name that is empty or
 * holds ':', blanks or control characters, or a value with CR or LF,
 * fails with LV_E_VALIDATION (lv_http_field_ok). */
lv_err lv_http_response_header(lv_http_response *resp, const char *name,
                               const char *value);

/* Long polls. A handler that cannot answer yet calls lv_http_defer(resp)
 * and returns: the connection is parked (no thread is held) and what the
 * handler put in resp so far (status, headers) moves to the deferred
 * response. Later, any thread fills lv_http_deferred_response(d) and calls
 * lv_http_resume(d) exactly once; after that d must not be used. Every
 * deferred request must be resumed before lv_http_stop. */
typedef struct lv_http_deferred lv_http_deferred;

lv_http_deferred *lv_http_defer(lv_http_response *resp);
lv_http_response *lv_http_deferred_response(lv_http_deferred *d);
void lv_http_resume(lv_http_deferred *d);

#endif
