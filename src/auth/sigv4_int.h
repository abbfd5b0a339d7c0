/* sigv4_int.h - what the SigV4 files share: constants, character classes,
 * the per-thread scratch buffers, hashing, canonicalisation and the
 * Authorization parser's pieces. Private to src/auth/sigv4*.c; everyone
 * else uses sigv4.h.
 *
 *   sigv4_hash.c   SHA-256, HMAC, per-thread digest context and scratch
 *   sigv4_canon.c  canonical request, string to sign, signing keys
 *   sigv4_parse.c  dates and the Authorization header
 *   sigv4.c        verification (headers and presigned URLs)
 *   sigv4_sign.c   client signing */
#ifndef LV_AUTH_SIGV4_INT_H
#define LV_AUTH_SIGV4_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "auth/sigv4.h"
#include "core/hex.h"

#define ALGO "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SKEW_SECONDS (15 * 60)
/* AWS caps presigned URLs at seven days; a longer X-Amz-Expires is refused
 * rather than silently shortened. */
#define PRESIGN_MAX_EXPIRES 604800L
/* Room for any secret a key store hands us; AWS secrets are 40 bytes. */
#define SECRET_CAP 256
/* Longest attacker-supplied text echoed in an error message, so messages
 * stay readable and inside LV_ERROR_MSG_MAX. */
#define ECHO_MAX 64

#define MSG_MISMATCH                                                          \
    "The request signature we calculated does not match the signature you "  \
    "provided. Check your AWS Secret Access Key and signing method. Consult " \
    "the service documentation for details."

/* ---- character classes and small helpers ---- */

/* One table lookup per character on the request path (sigv4_canon.c). */
enum {
    LV_SV4_TCHAR = 1,   /* RFC 9110 token: what a header name may hold */
    LV_SV4_KEY = 2,     /* access key id */
    LV_SV4_SCOPE = 4,   /* region and service */
    LV_SV4_XDIGIT = 8,
    LV_SV4_WS = 16,     /* blanks, line breaks included (see is_ws) */
    LV_SV4_UNRES = 32,  /* RFC 3986 unreserved */
    LV_SV4_SEMI = 64,   /* ';' */
    LV_SV4_DELIM = 128, /* what ends an Authorization value: ',' and blanks */
    LV_SV4_EQ = 256,    /* '=' */
};
extern const uint16_t lv_sv4_cls[256];

static inline bool sv4_is(char c, unsigned cls)
{
    return (lv_sv4_cls[(unsigned char)c] & cls) != 0;
}

static inline void to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, lv_hex_pairs + 2 * in[i], 2);
    out[2 * n] = '\0';
}

static inline int clamp_echo(size_t n)
{
    return (int)(n > ECHO_MAX ? ECHO_MAX : n);
}

/* ASCII-only case folding: header names are ASCII, and the C library's
 * tolower() would depend on the process locale. */
static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static inline bool is_sp(char c)
{
    return c == ' ' || c == '\t';
}

/* Line breaks count as blanks so obs-folded (multi-line) header values
 * canonicalise the way the AWS test suite expects. */
static inline bool is_ws(char c)
{
    return sv4_is(c, LV_SV4_WS);
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool is_unreserved(char c)
{
    return sv4_is(c, LV_SV4_UNRES);
}

static inline bool is_tchar(char c)
{
    return sv4_is(c, LV_SV4_TCHAR);
}

static inline bool is_key_char(char c)
{
    return sv4_is(c, LV_SV4_KEY);
}

static inline bool is_scope_char(char c)
{
    return sv4_is(c, LV_SV4_SCOPE);
}

/* Equality in time that depends on n only: a word at a time, as
 * CRYPTO_memcmp does a byte at a time. */
static inline bool ct_eq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    uint64_t d = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t u, v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        d |= u ^ v;
    }
    for (; i < n; i++)
        d |= (uint64_t)(x[i] ^ y[i]);
    return d == 0;
}

static inline bool ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* ---- per-thread scratch (sigv4_hash.c) ---- */

/* Verification builds the canonical paths, the canonical request and the
 * string to sign into buffers each thread keeps between requests, so a
 * request costs no allocation there once a thread has warmed up. */
typedef struct scratch {
    lv_buf path[2], tmp, canon, sts;
} scratch;

/* ---- shared pieces ---- */

void lv_sv4_scratch_release(scratch *sc);
scratch *lv_sv4_scratch_get(void);
lv_err lv_sv4_sha256(const void *p, size_t n, unsigned char out[32]);
lv_err lv_sv4_sha256_hex(const void *p, size_t n, char out[65]);
lv_err lv_sv4_hmac256(const void *key, size_t keylen, const void *data, size_t n, unsigned char out[32]);
/* HMAC-SHA256 with the key's pad states computed once (lv_sv4_mac_key). */
void lv_sv4_mac_key(const void *key, size_t keylen, unsigned char st[LV_SIGV4_MAC_STATE]);
void lv_sv4_mac(const unsigned char st[LV_SIGV4_MAC_STATE], const void *data, size_t n, unsigned char out[32]);
lv_err lv_sv4_uri_decode(lv_buf *out, const char *p, size_t n);
lv_err lv_sv4_canonical_path(const char *path, bool normalize, lv_buf *out, lv_buf *tmp);
const lv_sigv4_header *lv_sv4_find_header(const lv_sigv4_request *req, const char *name, size_t *count);
void lv_sv4_trimmed(const lv_sigv4_header *h, const char **v, size_t *n);
bool lv_sv4_signed_headers_valid(const char *s, size_t n);
bool lv_sv4_list_has(const char *list, const char *name);
/* signed_headers must be a valid list (lv_sv4_signed_headers_valid):
 * callers check it once, where it arrives. */
lv_err lv_sv4_build_canonical(const lv_sigv4_request *req, const char *path_enc, size_t path_len, const char *signed_headers, const char *payload_hash, bool skip_signature, lv_buf *out, lv_error *err);
lv_err lv_sv4_string_to_sign(const char *amz_date, const char *date, const char *region, const char *service, const char *canonical, size_t canonical_len, lv_buf *out);
lv_err lv_sv4_derive_key(const char *secret, size_t secret_len, const char *date, const char *region, const char *service, unsigned char key[32]);
/* The signing key of (akid, date, region, service), made ready for HMAC
 * (lv_sv4_mac_key) into mac; cache may be NULL. */
lv_err lv_sv4_derive_key_cached(lv_sigv4_cache *cache, const char *akid, const char *secret, const char *date, const char *region, const char *service, unsigned char mac[LV_SIGV4_MAC_STATE]);
lv_err lv_sv4_signature_hex(const unsigned char key[32], const lv_buf *sts, char out[65]);
bool lv_sv4_parse_amz_date(const char *s, size_t n, time_t *t);
void lv_sv4_fmt_amz_date(time_t t, char out[17]);
bool lv_sv4_parse_http_date(const char *s, size_t n, time_t *t);
lv_err lv_sv4_parse_credential(const char *v, size_t n, lv_sigv4_auth *a, lv_error *err);
lv_err lv_sv4_parse_signed_headers(const char *v, size_t n, lv_sigv4_auth *a, lv_error *err);
lv_err lv_sv4_parse_signature(const char *v, size_t n, lv_sigv4_auth *a, lv_error *err);
lv_err lv_sv4_parse_authorization(const char *value, size_t len, lv_sigv4_auth *a, lv_error *err);

#endif
