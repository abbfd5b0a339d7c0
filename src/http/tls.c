/* tls.c - plain and TLS socket I/O. TLS is OpenSSL (already lever's
 * cryptography library): TLS 1.2 and later, the server's certificate
 * chain and key from PEM files, sessions driven by the event loop's
 * readiness (a read may need the socket writable and the reverse). */
#include "http/tls.h"

#include <errno.h>
#include <stdlib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

struct lv_http_tls {
    SSL_CTX *ctx;
};

static lv_err tls_fail(lv_error *err, const char *what, const char *file)
{
    char detail[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    return lv_error_set(err, LV_E_VALIDATION, "%s %s: %s", what, file ? file : "", detail);
}

lv_err lv_http_tls_new(const char *cert_file, const char *key_file, lv_http_tls **out,
                       lv_error *err)
{
    *out = NULL;
    lv_http_tls *t = calloc(1, sizeof *t);
    if (t == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    t->ctx = SSL_CTX_new(TLS_server_method());
    if (t->ctx == NULL) {
        free(t);
        return tls_fail(err, "cannot create a TLS context", NULL);
    }
    lv_err rc = LV_OK;
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1)
        rc = tls_fail(err, "cannot load the TLS certificate", cert_file);
    else if (SSL_CTX_use_PrivateKey_file(t->ctx, key_file, SSL_FILETYPE_PEM) != 1)
        rc = tls_fail(err, "cannot load the TLS key", key_file);
    else if (SSL_CTX_check_private_key(t->ctx) != 1)
        rc = tls_fail(err, "the TLS key does not match the certificate", key_file);
    if (rc != LV_OK) {
        lv_http_tls_free(t);
        return rc;
    }
    *out = t;
    return LV_OK;
}

void lv_http_tls_free(lv_http_tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

lv_http_tls_conn *lv_http_tls_accept(lv_http_tls *t, int fd)
{
    SSL *s = SSL_new(t->ctx);
    if (s == NULL)
        return NULL;
    if (SSL_set_fd(s, fd) != 1) {
        SSL_free(s);
        return NULL;
    }
    SSL_set_accept_state(s);
    return s;
}

void lv_http_tls_close(lv_http_tls_conn *c)
{
    if (c == NULL)
        return;
    /* A close_notify if it fits now; the socket closes either way. */
    if (SSL_is_init_finished(c))
        (void)SSL_shutdown(c);
    SSL_free(c);
    ERR_clear_error();
}

static ssize_t tls_outcome(SSL *s, int r, int *want)
{
    switch (SSL_get_error(s, r)) {
    case SSL_ERROR_WANT_READ:
        *want = LV_IO_WANT_READ;
        return LV_IO_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        *want = LV_IO_WANT_WRITE;
        return LV_IO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        ERR_clear_error();
        return LV_IO_ERROR;
    }
}

/* A plain socket call's result: the count, or LV_IO_*. */
static ssize_t sock_outcome(ssize_t r)
{
    if (r >= 0)
        return r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? LV_IO_AGAIN : LV_IO_ERROR;
}

ssize_t lv_http_io_read(int fd, lv_http_tls_conn *tls, char *buf, size_t n, int *want)
{
    *want = LV_IO_WANT_READ;
    if (tls == NULL) {
        return sock_outcome(recv(fd, buf, n, 0));
    }
    size_t got = 0;
    int r = SSL_read_ex(tls, buf, n, &got);
    if (r == 1)
        return (ssize_t)got;
    return tls_outcome(tls, r, want);
}

ssize_t lv_http_io_write(int fd, lv_http_tls_conn *tls, const char *buf, size_t n, int *want)
{
    *want = LV_IO_WANT_WRITE;
    if (tls == NULL) {
        return sock_outcome(send(fd, buf, n, MSG_NOSIGNAL));
    }
    size_t put = 0;
    int r = SSL_write_ex(tls, buf, n, &put);
    if (r == 1)
        return (ssize_t)put;
    ssize_t o = tls_outcome(tls, r, want);
    return o == 0 ? LV_IO_ERROR : o;
}

int lv_http_io_pending(lv_http_tls_conn *tls)
{
    return tls != NULL && SSL_pending(tls) > 0;
}
