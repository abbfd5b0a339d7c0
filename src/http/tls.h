/* tls.h - a connection's bytes in and out, over plain TCP or TLS
 * (OpenSSL), on non-blocking sockets. */
#ifndef LV_HTTP_TLS_H
#define LV_HTTP_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"

typedef struct lv_http_tls lv_http_tls;   /* the server's certificate and key */
typedef struct ssl_st lv_http_tls_conn;   /* one connection's session */

/* Loads a PEM certificate chain and private key and checks they match. */
lv_err lv_http_tls_new(const char *cert_file, const char *key_file, lv_http_tls **out,
                       lv_error *err);
void lv_http_tls_free(lv_http_tls *t);

/* A session on accepted socket fd; NULL when out of memory. */
lv_http_tls_conn *lv_http_tls_accept(lv_http_tls *t, int fd);
void lv_http_tls_close(lv_http_tls_conn *c);

/* The outcome of an I/O call. */
enum {
    LV_IO_AGAIN = -1,   /* would block: wait for the events in *want */
    LV_IO_ERROR = -2,   /* the connection is broken (or the peer is not speaking TLS) */
};
enum { LV_IO_WANT_READ = 1, LV_IO_WANT_WRITE = 2 };

/* Reads up to n bytes: the count, 0 at end of stream, or LV_IO_*. With
 * TLS, the handshake is driven from here too. */
ssize_t lv_http_io_read(int fd, lv_http_tls_conn *tls, char *buf, size_t n, int *want);

/* Writes up to n bytes: the count written, or LV_IO_*. */
ssize_t lv_http_io_write(int fd, lv_http_tls_conn *tls, const char *buf, size_t n, int *want);

/* Bytes TLS has decrypted and buffered that the socket will not signal. */
int lv_http_io_pending(lv_http_tls_conn *tls);

#endif
