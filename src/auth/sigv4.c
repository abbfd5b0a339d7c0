/* sigv4.c - AWS SigV4: canonical requests, client signing, leverd's verification. */
#include "auth/sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>

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

static const char hexdig[] = "0123456789abcdef";

static int clamp_echo(size_t n)
{
    return (int)(n > ECHO_MAX ? ECHO_MAX : n);
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ASCII-only case folding: header names are ASCII, and the C library's
 * tolower() would depend on the process locale. */
static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_sp(char c)
{
    return c == ' ' || c == '\t';
}

/* Line breaks count as blanks so obs-folded (multi-line) header values
 * canonicalise the way the AWS test suite expects. */
static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_unreserved(char c)
{
    return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 9110 token characters: what a header name may contain. */
static bool is_tchar(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* OpenSSL 3 looks an algorithm up by name on every EVP_Digest / HMAC()
 * call; that lookup cost more than the hashing itself on the request path.
 * SHA-256 is fetched once for the process, and HMAC is built from it
 * directly (RFC 2104: two hashes) instead of through EVP_MAC, whose
 * per-call setup fetches the digest again. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
/* Each thread reuses one digest context: creating one per hash (and the
 * provider state behind it) cost more than hashing a request. The key's
 * destructor frees it when the thread ends. */
static pthread_key_t sha256_ctx_key;
static bool sha256_ctx_key_ok;

static void free_ctx(void *p)
{
    EVP_MD_CTX_free(p);
}

/* Verification builds the canonical paths, the canonical request and the
 * string to sign into buffers each thread keeps between requests, so a
 * request costs no allocation there once a thread has warmed up. */
typedef struct scratch {
    lv_buf path[2], tmp, canon, sts;
} scratch;

/* Buffers that grew past this (a huge query string) are released after
 * use rather than kept for the thread's lifetime. */
#define SCRATCH_KEEP (16 * 1024)

static pthread_key_t scratch_key;
static bool scratch_key_ok;

static void scratch_release(scratch *sc)
{
    lv_buf_free(&sc->path[0]);
    lv_buf_free(&sc->path[1]);
    lv_buf_free(&sc->tmp);
    lv_buf_free(&sc->canon);
    lv_buf_free(&sc->sts);
}

static void free_scratch(void *p)
{
    scratch_release(p);
    free(p);
}

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha256_ctx_key_ok = pthread_key_create(&sha256_ctx_key, free_ctx) == 0;
    scratch_key_ok = pthread_key_create(&scratch_key, free_scratch) == 0;
}

/* The calling thread's scratch buffers, emptied; NULL when out of memory
 * (the caller then uses buffers of its own). */
static scratch *scratch_get(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    if (!scratch_key_ok)
        return NULL;
    scratch *sc = pthread_getspecific(scratch_key);
    if (sc == NULL) {
        if ((sc = calloc(1, sizeof *sc)) == NULL)
            return NULL;
        if (pthread_setspecific(scratch_key, sc) != 0) {
            free(sc);
            return NULL;
        }
    }
    lv_buf *all[] = {&sc->path[0], &sc->path[1], &sc->tmp, &sc->canon, &sc->sts};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if (all[i]->cap > SCRATCH_KEEP)
            lv_buf_free(all[i]);
        lv_buf_reset(all[i]);
    }
    return sc;
}

static const EVP_MD *sha256_alg(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md ? sha256_md : EVP_sha256();
}

/* Hashes the concatenation of two pieces. */
static lv_err sha256_2(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32])
{
    const EVP_MD *md = sha256_alg();
    EVP_MD_CTX *c = sha256_ctx_key_ok ? pthread_getspecific(sha256_ctx_key) : NULL;
    bool owned = false;
    if (c == NULL) {
        if ((c = EVP_MD_CTX_new()) == NULL)
            return LV_E_INTERNAL;
        if (!sha256_ctx_key_ok || pthread_setspecific(sha256_ctx_key, c) != 0)
            owned = true;
    }
    unsigned int len = 0;
    bool ok = EVP_DigestInit_ex2(c, md, NULL) == 1 &&
              (an == 0 || EVP_DigestUpdate(c, a, an) == 1) &&
              (bn == 0 || EVP_DigestUpdate(c, b, bn) == 1) &&
              EVP_DigestFinal_ex(c, out, &len) == 1 && len == 32;
    if (owned)
        EVP_MD_CTX_free(c);
    return ok ? LV_OK : LV_E_INTERNAL;
}

static lv_err sha256(const void *p, size_t n, unsigned char out[32])
{
    return sha256_2(p, n, NULL, 0, out);
}

static lv_err sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char d[32];
    lv_err rc = sha256(p, n, d);
    if (rc == LV_OK)
        to_hex(d, sizeof d, out);
    return rc;
}

static lv_err hmac256(const void *key, size_t keylen, const void *data,
                      size_t n, unsigned char out[32])
{
    unsigned char k[64], pad[64], inner[32];
    memset(k, 0, sizeof k);
    lv_err rc = LV_OK;
    if (keylen > sizeof k)
        rc = sha256(key, keylen, k); /* long keys are hashed first */
    else if (keylen > 0)
        memcpy(k, key, keylen);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x36;
    if (rc == LV_OK)
        rc = sha256_2(pad, sizeof pad, data, n, inner);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x5c;
    if (rc == LV_OK)
        rc = sha256_2(pad, sizeof pad, inner, sizeof inner, out);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
    return rc;
}

/* ---- canonical request ------------------------------------------------- */

static lv_err uri_encode(lv_buf *out, const char *p, size_t n,
                         bool keep_slash)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        lv_err rc;
        if (is_unreserved((char)c) || (keep_slash && c == '/')) {
            rc = lv_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', "0123456789ABCDEF"[c >> 4],
                         "0123456789ABCDEF"[c & 15]};
            rc = lv_buf_append(out, e, 3);
        }
        if (rc != LV_OK)
            return rc;
    }
    return LV_OK;
}

/* A '%' not followed by two hex digits stays literal (and is re-encoded as
 * %25), as lenient HTTP stacks and the SDKs' encoders agree on. */
static lv_err uri_decode(lv_buf *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        char c = p[i];
        if (c == '%' && i + 2 < n &&
            (hi = hexval((unsigned char)p[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)p[i + 2])) >= 0) {
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        lv_err rc = lv_buf_putc(out, c);
        if (rc != LV_OK)
            return rc;
    }
    return LV_OK;
}

/* Dot-segment removal plus collapsing of empty segments, the way botocore
 * and the AWS test suite normalise paths for every service but S3. */
static lv_err normalize_path(lv_buf *out, const char *p, size_t n)
{
    size_t base = out->len;
    size_t i = 0;
    bool any = false;
    lv_err rc = LV_OK;
    while (i <= n) {
        size_t s = i;
        while (i < n && p[i] != '/')
            i++;
        size_t len = i - s;
        i++;
        if (len == 0 || (len == 1 && p[s] == '.'))
            continue;
        if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
            if (out->len > base) {
                size_t k = out->len;
                while (k > base && out->data[k - 1] != '/')
                    k--;
                out->len = k > base ? k - 1 : base;
                out->data[out->len] = '\0';
            }
            continue;
        }
        if ((rc = lv_buf_putc(out, '/')) != LV_OK ||
            (rc = lv_buf_append(out, p + s, len)) != LV_OK)
            return rc;
    }
    any = out->len > base;
    if (n > 0 && p[0] != '/' && any) {
        /* A relative path keeps no leading slash. */
        memmove(out->data + base, out->data + base + 1, out->len - base - 1);
        out->len--;
        out->data[out->len] = '\0';
    }
    if (!any && n > 0 && p[0] == '/')
        rc = lv_buf_putc(out, '/');
    else if (any && n > 0 && p[n - 1] == '/')
        rc = lv_buf_putc(out, '/');
    return rc;
}

/* The path as it goes into the canonical request. The wire path is
 * encoded once more (so "%20" becomes "%2520"), as SDKs do for non-S3
 * services; an empty path means "/". */
static lv_err canonical_path(const char *path, bool normalize, lv_buf *out,
                             lv_buf *tmp)
{
    if (path == NULL || path[0] == '\0')
        return lv_buf_putc(out, '/');
    size_t n = strlen(path);
    if (!normalize)
        return uri_encode(out, path, n, true);
    lv_buf_reset(tmp);
    lv_err rc = normalize_path(tmp, path, n);
    if (rc == LV_OK)
        rc = tmp->len ? uri_encode(out, tmp->data, tmp->len, true)
                      : lv_buf_putc(out, '/');
    return rc;
}

typedef struct qpair {
    size_t koff, klen, voff, vlen;
    const char *k, *v;
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    size_t m = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->k, y->k, m);
    if (c != 0)
        return c;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    m = x->vlen < y->vlen ? x->vlen : y->vlen;
    c = memcmp(x->v, y->v, m);
    if (c != 0)
        return c;
    return x->vlen == y->vlen ? 0 : (x->vlen < y->vlen ? -1 : 1);
}

/* Sorted by encoded key, then encoded value (not by "k=v", which would put
 * "Param-3" before "Param"). skip_signature drops X-Amz-Signature, which a
 * presigned request cannot have signed. */
static lv_err canonical_query(const char *q, bool skip_signature,
                              lv_buf *out)
{
    if (q == NULL || q[0] == '\0')
        return LV_OK;
    size_t n = strlen(q), count = 1;
    for (size_t i = 0; i < n; i++)
        count += q[i] == '&';
    qpair *pairs = calloc(count, sizeof *pairs);
    if (pairs == NULL)
        return LV_E_NOMEM;
    lv_buf enc = LV_BUF_INIT, tmp = LV_BUF_INIT;
    /* Storage up front: a query of empty names and values ("=") would
     * otherwise leave enc.data NULL under the pointers below. */
    lv_err rc = lv_buf_reserve(&enc, 0);
    size_t np = 0, i = 0;
    while (i <= n && rc == LV_OK) {
        size_t s = i;
        while (i < n && q[i] != '&')
            i++;
        size_t e = i++;
        if (e == s)
            continue;
        size_t eq = s;
        while (eq < e && q[eq] != '=')
            eq++;
        lv_buf_reset(&tmp);
        if ((rc = uri_decode(&tmp, q + s, eq - s)) != LV_OK)
            break;
        if (skip_signature && tmp.len == 15 &&
            memcmp(tmp.data, "X-Amz-Signature", 15) == 0)
            continue;
        qpair *pp = &pairs[np++];
        pp->koff = enc.len;
        if ((rc = uri_encode(&enc, tmp.data, tmp.len, false)) != LV_OK)
            break;
        pp->klen = enc.len - pp->koff;
        lv_buf_reset(&tmp);
        size_t vs = eq < e ? eq + 1 : e;
        if ((rc = uri_decode(&tmp, q + vs, e - vs)) != LV_OK)
            break;
        pp->voff = enc.len;
        if ((rc = uri_encode(&enc, tmp.data, tmp.len, false)) != LV_OK)
            break;
        pp->vlen = enc.len - pp->voff;
    }
    if (rc == LV_OK && np > 0) {
        /* Pointers only now: enc may have moved while it grew. */
        for (size_t k = 0; k < np; k++) {
            pairs[k].k = enc.data + pairs[k].koff;
            pairs[k].v = enc.data + pairs[k].voff;
        }
        qsort(pairs, np, sizeof *pairs, qpair_cmp);
        for (size_t k = 0; k < np && rc == LV_OK; k++) {
            if (k > 0)
                rc = lv_buf_putc(out, '&');
            if (rc == LV_OK)
                rc = lv_buf_append(out, pairs[k].k, pairs[k].klen);
            if (rc == LV_OK)
                rc = lv_buf_putc(out, '=');
            if (rc == LV_OK)
                rc = lv_buf_append(out, pairs[k].v, pairs[k].vlen);
        }
    }
    lv_buf_free(&enc);
    lv_buf_free(&tmp);
    free(pairs);
    return rc;
}

/* Trimall: no blanks at either end, each inner run of blanks one space. */
static lv_err append_trimmed(lv_buf *out, const char *v, size_t n)
{
    size_t s = 0, e = n;
    while (s < e && is_ws(v[s]))
        s++;
    while (e > s && is_ws(v[e - 1]))
        e--;
    size_t i = s;
    while (i < e) {
        size_t run = i;
        while (run < e && !is_ws(v[run]))
            run++;
        lv_err rc = lv_buf_append(out, v + i, run - i);
        if (rc != LV_OK)
            return rc;
        if (run == e)
            break;
        if ((rc = lv_buf_putc(out, ' ')) != LV_OK)
            return rc;
        while (run < e && is_ws(v[run]))
            run++;
        i = run;
    }
    return LV_OK;
}

static const lv_sigv4_header *find_header(const lv_sigv4_request *req,
                                          const char *name, size_t *count)
{
    const lv_sigv4_header *first = NULL;
    size_t c = 0, nl = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++) {
        const lv_sigv4_header *h = &req->headers[i];
        if (h->name && ieq(h->name, h->name_len, name, nl)) {
            if (first == NULL)
                first = h;
            c++;
        }
    }
    if (count)
        *count = c;
    return first;
}

/* The header value without surrounding blanks, for values used as data
 * (dates, hashes) rather than signed. */
static void trimmed(const lv_sigv4_header *h, const char **v, size_t *n)
{
    const char *p = h->value ? h->value : "";
    size_t s = 0, e = h->value ? h->value_len : 0;
    while (s < e && is_ws(p[s]))
        s++;
    while (e > s && is_ws(p[e - 1]))
        e--;
    *v = p + s;
    *n = e - s;
}

static bool signed_headers_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ';') {
            if (run == 0)
                return false;
            run = 0;
        } else if (is_tchar(s[i])) {
            run++;
        } else {
            return false;
        }
    }
    return run > 0;
}

static bool list_has(const char *list, const char *name)
{
    size_t nl = strlen(name);
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (ieq(p, len, name, nl))
            return true;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return false;
}

static lv_err build_canonical(const lv_sigv4_request *req,
                              const char *path_enc, size_t path_len,
                              const char *signed_headers,
                              const char *payload_hash, bool skip_signature,
                              lv_buf *out, lv_error *err)
{
    size_t start = out->len;
    lv_err rc;
    size_t sl = strlen(signed_headers);
    if (!signed_headers_valid(signed_headers, sl)) {
        rc = lv_error_set(err, LV_E_VALIDATION,
                          "SignedHeaders is not a ';'-separated list of "
                          "header names.");
        goto fail;
    }
    if ((rc = lv_buf_puts(out, req->method)) != LV_OK ||
        (rc = lv_buf_putc(out, '\n')) != LV_OK ||
        (rc = lv_buf_append(out, path_enc, path_len)) != LV_OK ||
        (rc = lv_buf_putc(out, '\n')) != LV_OK ||
        (rc = canonical_query(req->query, skip_signature, out)) != LV_OK ||
        (rc = lv_buf_putc(out, '\n')) != LV_OK)
        goto fail_plain;
    for (const char *p = signed_headers; *p;) {
        const char *e = strchr(p, ';');
        size_t nl = e ? (size_t)(e - p) : strlen(p);
        bool found = false;
        for (size_t i = 0; i < nl; i++)
            if ((rc = lv_buf_putc(out, lower(p[i]))) != LV_OK)
                goto fail_plain;
        if ((rc = lv_buf_putc(out, ':')) != LV_OK)
            goto fail_plain;
        for (size_t i = 0; i < req->nheaders; i++) {
            const lv_sigv4_header *h = &req->headers[i];
            if (h->name == NULL || !ieq(h->name, h->name_len, p, nl))
                continue;
            /* Repeated headers are one header whose values are joined
             * with ',' in the order they arrived. */
            if (found && (rc = lv_buf_putc(out, ',')) != LV_OK)
                goto fail_plain;
            found = true;
            if ((rc = append_trimmed(out, h->value ? h->value : "",
                                     h->value ? h->value_len : 0)) != LV_OK)
                goto fail_plain;
        }
        if (!found) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "Signed header '%.*s' is not in the request.",
                              clamp_echo(nl), p);
            goto fail;
        }
        if ((rc = lv_buf_putc(out, '\n')) != LV_OK)
            goto fail_plain;
        p = e ? e + 1 : p + nl;
    }
    if ((rc = lv_buf_putc(out, '\n')) != LV_OK ||
        (rc = lv_buf_append(out, signed_headers, sl)) != LV_OK ||
        (rc = lv_buf_putc(out, '\n')) != LV_OK ||
        (rc = lv_buf_puts(out, payload_hash)) != LV_OK)
        goto fail_plain;
    return LV_OK;
fail_plain:
    lv_error_set(err, rc, "cannot build the canonical request");
fail:
    /* Callers get either the whole canonical request or none of it. */
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    return rc;
}

lv_err lv_sigv4_canonical_request(const lv_sigv4_request *req,
                                  const char *signed_headers,
                                  const char *payload_hash,
                                  bool normalize_path_, lv_buf *out)
{
    if (req == NULL || req->method == NULL || signed_headers == NULL ||
        payload_hash == NULL || out == NULL ||
        (req->nheaders > 0 && req->headers == NULL))
        return LV_E_VALIDATION;
    lv_buf path = LV_BUF_INIT, tmp = LV_BUF_INIT;
    lv_err rc = canonical_path(req->path, normalize_path_, &path, &tmp);
    if (rc == LV_OK)
        rc = build_canonical(req, path.data, path.len, signed_headers,
                             payload_hash, false, out, NULL);
    lv_buf_free(&path);
    lv_buf_free(&tmp);
    return rc;
}

/* ---- string to sign and keys ------------------------------------------- */

static lv_err string_to_sign(const char *amz_date, const char *date,
                             const char *region, const char *service,
                             const char *canonical, size_t canonical_len,
                             lv_buf *out)
{
    char hex[65];
    lv_err rc = sha256_hex(canonical, canonical_len, hex);
    if (rc != LV_OK)
        return rc;
    size_t dl = strnlen(date, 8), rl = strlen(region), sl = strlen(service);
    /* Appended piece by piece: this runs for every verified request. */
    if ((rc = lv_buf_reserve(out, sizeof ALGO + 17 + dl + rl + sl + sizeof TERMINATOR + 68)) != LV_OK ||
        (rc = lv_buf_append(out, ALGO "\n", sizeof ALGO)) != LV_OK ||
        (rc = lv_buf_puts(out, amz_date)) != LV_OK ||
        (rc = lv_buf_putc(out, '\n')) != LV_OK ||
        (rc = lv_buf_append(out, date, dl)) != LV_OK ||
        (rc = lv_buf_putc(out, '/')) != LV_OK ||
        (rc = lv_buf_append(out, region, rl)) != LV_OK ||
        (rc = lv_buf_putc(out, '/')) != LV_OK ||
        (rc = lv_buf_append(out, service, sl)) != LV_OK ||
        (rc = lv_buf_append(out, "/" TERMINATOR "\n", sizeof TERMINATOR + 1)) != LV_OK)
        return rc;
    return lv_buf_append(out, hex, 64);
}

lv_err lv_sigv4_string_to_sign(const char *amz_date, const char *region,
                               const char *service, const char *canonical,
                               size_t canonical_len, lv_buf *out)
{
    if (amz_date == NULL || strlen(amz_date) != 16 || region == NULL ||
        service == NULL || canonical == NULL || out == NULL)
        return LV_E_VALIDATION;
    return string_to_sign(amz_date, amz_date, region, service, canonical,
                          canonical_len, out);
}

static lv_err derive_key(const char *secret, size_t secret_len,
                         const char *date, const char *region,
                         const char *service, unsigned char key[32])
{
    unsigned char k[4 + SECRET_CAP];
    unsigned char a[32], b[32];
    if (secret_len > SECRET_CAP)
        return LV_E_VALIDATION;
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, secret_len);
    lv_err rc = hmac256(k, 4 + secret_len, date, 8, a);
    if (rc == LV_OK)
        rc = hmac256(a, 32, region, strlen(region), b);
    if (rc == LV_OK)
        rc = hmac256(b, 32, service, strlen(service), a);
    if (rc == LV_OK)
        rc = hmac256(a, 32, TERMINATOR, strlen(TERMINATOR), key);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return rc;
}

/* The cache spares the four-HMAC chain per request; keying it by the
 * secret's hash means a rotated secret never meets a stale key. */
static lv_err derive_key_cached(lv_sigv4_cache *cache, const char *akid,
                                const char *secret, const char *date,
                                const char *region, const char *service,
                                unsigned char key[32])
{
    size_t slen = strlen(secret);
    if (cache == NULL)
        return derive_key(secret, slen, date, region, service, key);
    char id[sizeof cache->slot[0].id];
    /* "akid\ndate\nregion\nservice", built without printf (per request). */
    const char *parts[4] = {akid, date, region, service};
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t l = i == 1 ? strnlen(date, 8) : strlen(parts[i]);
        if (n + l + 2 > sizeof id)
            return derive_key(secret, slen, date, region, service, key);
        memcpy(id + n, parts[i], l);
        n += l;
        id[n++] = i < 3 ? '\n' : '\0';
    }
    n--; /* the length without the NUL */
    char sh[65];
    lv_err rc = sha256_hex(secret, slen, sh);
    if (rc != LV_OK)
        return rc;
    size_t nslots = sizeof cache->slot / sizeof cache->slot[0];
    for (size_t i = 0; i < nslots; i++) {
        if (cache->slot[i].used && strcmp(cache->slot[i].id, id) == 0 &&
            CRYPTO_memcmp(cache->slot[i].secret_sha, sh, 64) == 0) {
            memcpy(key, cache->slot[i].key, 32);
            return LV_OK;
        }
    }
    if ((rc = derive_key(secret, slen, date, region, service, key)) != LV_OK)
        return rc;
    /* A stale entry for the same id (old secret) is replaced in place so it
     * does not linger next to the new one. */
    size_t victim = nslots;
    for (size_t i = 0; i < nslots; i++)
        if (cache->slot[i].used && strcmp(cache->slot[i].id, id) == 0)
            victim = i;
    if (victim == nslots)
        victim = cache->next++ % nslots;
    cache->slot[victim].used = true;
    memcpy(cache->slot[victim].id, id, n + 1);
    memcpy(cache->slot[victim].secret_sha, sh, 65);
    memcpy(cache->slot[victim].key, key, 32);
    return LV_OK;
}

static lv_err signature_hex(const unsigned char key[32], const lv_buf *sts,
                            char out[65])
{
    unsigned char mac[32];
    lv_err rc = hmac256(key, 32, sts->data, sts->len, mac);
    if (rc == LV_OK)
        to_hex(mac, sizeof mac, out);
    return rc;
}

/* ---- dates ------------------------------------------------------------- */

static bool parse_amz_date(const char *s, size_t n, time_t *t)
{
    if (n != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    int v[14], k = 0;
    for (size_t i = 0; i < 15; i++) {
        if (i == 8)
            continue;
        if (!is_digit(s[i]))
            return false;
        v[k++] = s[i] - '0';
    }
    struct tm tm = {0};
    tm.tm_year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3] - 1900;
    tm.tm_mon = v[4] * 10 + v[5] - 1;
    tm.tm_mday = v[6] * 10 + v[7];
    tm.tm_hour = v[8] * 10 + v[9];
    tm.tm_min = v[10] * 10 + v[11];
    tm.tm_sec = v[12] * 10 + v[13];
    struct tm want = tm;
    time_t r = timegm(&tm);
    /* timegm normalises 31 February into March; a round trip that changes
     * a field means the date does not exist. */
    if (tm.tm_year != want.tm_year || tm.tm_mon != want.tm_mon ||
        tm.tm_mday != want.tm_mday || tm.tm_hour != want.tm_hour ||
        tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec)
        return false;
    *t = r;
    return true;
}

static void fmt_amz_date(time_t t, char out[17])
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        snprintf(out, 17, "%s", "invalid-date");
}

/* The Date header in IMF-fixdate form, "Sun, 06 Nov 1994 08:49:37 GMT",
 * the only form RFC 9110 lets senders generate. */
static bool parse_http_date(const char *s, size_t n, time_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
        s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
        s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
        return false;
    int mon = -1;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + 8, months + 3 * i, 3) == 0)
            mon = i;
    if (mon < 0)
        return false;
    char iso[17];
    memcpy(iso, s + 12, 4);
    iso[4] = (char)('0' + (mon + 1) / 10);
    iso[5] = (char)('0' + (mon + 1) % 10);
    memcpy(iso + 6, s + 5, 2);
    iso[8] = 'T';
    memcpy(iso + 9, s + 17, 2);
    memcpy(iso + 11, s + 20, 2);
    memcpy(iso + 13, s + 23, 2);
    iso[15] = 'Z';
    iso[16] = '\0';
    return parse_amz_date(iso, 16, t);
}

/* ---- Authorization parsing --------------------------------------------- */

static bool is_key_char(char c)
{
    return c > 0x20 && c < 0x7f && c != '/' && c != ',' && c != ';' &&
           c != '=';
}

static bool is_scope_char(char c)
{
    return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

static lv_err parse_credential(const char *v, size_t n, lv_sigv4_auth *a,
                               lv_error *err)
{
    const char *part[5];
    size_t plen[5], np = 0, s = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] != '/')
            continue;
        if (np == 5) {
            np++;
            break;
        }
        part[np] = v + s;
        plen[np++] = i - s;
        s = i + 1;
    }
    if (np != 5)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Credential must have exactly 5 slash-delimited "
                            "elements, e.g. keyid/date/region/service/term, "
                            "got '%.*s'",
                            clamp_echo(n), v);
    if (plen[0] == 0 || plen[0] >= sizeof a->access_key)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Credential has an access key id of %zu "
                            "characters; it must have 1 to %zu.",
                            plen[0], sizeof a->access_key - 1);
    for (size_t i = 0; i < plen[0]; i++)
        if (!is_key_char(part[0][i]))
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "Credential has an invalid access key id.");
    bool date_ok = plen[1] == 8;
    for (size_t i = 0; date_ok && i < 8; i++)
        date_ok = is_digit(part[1][i]);
    if (!date_ok)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Invalid credential date '%.*s'. Date is not the "
                            "required format: yyyyMMdd.",
                            clamp_echo(plen[1]), part[1]);
    for (int k = 2; k <= 3; k++) {
        bool ok = plen[k] > 0 && plen[k] < sizeof a->region;
        for (size_t i = 0; ok && i < plen[k]; i++)
            ok = is_scope_char(part[k][i]);
        if (!ok)
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "Credential has an invalid %s '%.*s'.",
                                k == 2 ? "region" : "service",
                                clamp_echo(plen[k]), part[k]);
    }
    if (plen[4] != strlen(TERMINATOR) ||
        memcmp(part[4], TERMINATOR, plen[4]) != 0)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Credential should be scoped with a valid "
                            "terminator: '" TERMINATOR "', not '%.*s'.",
                            clamp_echo(plen[4]), part[4]);
    memcpy(a->access_key, part[0], plen[0]);
    a->access_key[plen[0]] = '\0';
    memcpy(a->date, part[1], 8);
    a->date[8] = '\0';
    memcpy(a->region, part[2], plen[2]);
    a->region[plen[2]] = '\0';
    memcpy(a->service, part[3], plen[3]);
    a->service[plen[3]] = '\0';
    return LV_OK;
}

static lv_err parse_signed_headers(const char *v, size_t n, lv_sigv4_auth *a,
                                   lv_error *err)
{
    if (n >= sizeof a->signed_headers)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "SignedHeaders is longer than %zu characters.",
                            sizeof a->signed_headers - 1);
    if (!signed_headers_valid(v, n))
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "SignedHeaders '%.*s' is not a ';'-separated "
                            "list of header names.",
                            clamp_echo(n), v);
    memcpy(a->signed_headers, v, n);
    a->signed_headers[n] = '\0';
    return LV_OK;
}

static lv_err parse_signature(const char *v, size_t n, lv_sigv4_auth *a,
                              lv_error *err)
{
    bool ok = n == 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = hexval((unsigned char)v[i]) >= 0;
    if (!ok)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Signature must be 64 hexadecimal characters.");
    for (size_t i = 0; i < 64; i++)
        a->signature[i] = lower(v[i]);
    a->signature[64] = '\0';
    return LV_OK;
}

lv_err lv_sigv4_parse_authorization(const char *value, size_t len,
                                    lv_sigv4_auth *out, lv_error *err)
{
    if (value == NULL || out == NULL)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Authorization header is empty.");
    lv_sigv4_auth a;
    memset(&a, 0, sizeof a);
    size_t i = 0, alen = strlen(ALGO);
    while (i < len && is_sp(value[i]))
        i++;
    if (len - i < alen || memcmp(value + i, ALGO, alen) != 0 ||
        (len - i > alen && !is_sp(value[i + alen])))
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Authorization header must use the "
                            "AWS4-HMAC-SHA256 algorithm followed by "
                            "Credential, SignedHeaders and Signature.");
    i += alen;
    const char *val[3] = {NULL, NULL, NULL};
    size_t vlen[3] = {0, 0, 0};
    static const char *const names[3] = {"Credential", "SignedHeaders",
                                         "Signature"};
    while (i < len) {
        /* SDKs write ", " between parameters; some only "," or " ". */
        if (is_sp(value[i]) || value[i] == ',') {
            i++;
            continue;
        }
        size_t ks = i;
        while (i < len && value[i] != '=' && value[i] != ',' &&
               !is_sp(value[i]))
            i++;
        size_t kn = i - ks;
        if (i >= len || value[i] != '=')
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "'%.*s' not a valid key=value pair (missing "
                                "equal-sign) in Authorization header.",
                                clamp_echo(kn), value + ks);
        size_t vs = ++i;
        while (i < len && value[i] != ',' && !is_sp(value[i]))
            i++;
        int which = -1;
        for (int k = 0; k < 3; k++)
            if (kn == strlen(names[k]) && memcmp(value + ks, names[k], kn) == 0)
                which = k;
        if (which < 0)
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "Authorization header has an unknown "
                                "parameter '%.*s'.",
                                clamp_echo(kn), value + ks);
        if (val[which] != NULL)
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "Authorization header has '%s' twice.",
                                names[which]);
        val[which] = value + vs;
        vlen[which] = i - vs;
    }
    if (val[0] == NULL || val[1] == NULL || val[2] == NULL) {
        char msg[256];
        size_t m = 0;
        msg[0] = '\0';
        for (int k = 0; k < 3; k++)
            if (val[k] == NULL)
                m += (size_t)snprintf(msg + m, sizeof msg - m,
                                      "%sAuthorization header requires '%s' "
                                      "parameter.",
                                      m ? " " : "", names[k]);
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE, "%s", msg);
    }
    lv_err rc;
    if ((rc = parse_credential(val[0], vlen[0], &a, err)) != LV_OK ||
        (rc = parse_signed_headers(val[1], vlen[1], &a, err)) != LV_OK ||
        (rc = parse_signature(val[2], vlen[2], &a, err)) != LV_OK)
        return rc;
    *out = a;
    return LV_OK;
}

/* ---- verification ------------------------------------------------------ */

static lv_err check_skew(const char *amz_date, time_t t, time_t now,
                         lv_error *err)
{
    char lim[17], nowd[17];
    fmt_amz_date(now, nowd);
    if ((long long)t < (long long)now - SKEW_SECONDS) {
        fmt_amz_date(now - SKEW_SECONDS, lim);
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "Signature expired: %s is now earlier than %s "
                            "(%s - 15 min.)",
                            amz_date, lim, nowd);
    }
    if ((long long)t > (long long)now + SKEW_SECONDS) {
        fmt_amz_date(now + SKEW_SECONDS, lim);
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "Signature not yet current: %s is still later "
                            "than %s (%s + 15 min.)",
                            amz_date, lim, nowd);
    }
    return LV_OK;
}

static lv_err check_scope(const lv_sigv4_auth *a, const char *service,
                          lv_error *err)
{
    if (memcmp(a->date, a->amz_date, 8) != 0)
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "Date in Credential scope does not match "
                            "YYYYMMDD from ISO-8601 version of date from "
                            "HTTP: '%s' != '%.8s', from '%s'.",
                            a->date, a->amz_date, a->amz_date);
    if (strcmp(a->service, service) != 0)
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "Credential should be scoped to correct "
                            "service: '%s'.",
                            service);
    if (!list_has(a->signed_headers, "host"))
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "'Host' must be a 'SignedHeader' in the AWS "
                            "Authorization.");
    return LV_OK;
}

static lv_err lookup_secret(lv_sigv4_secret_fn fn, void *ctx,
                            const char *akid, char secret[SECRET_CAP],
                            lv_error *err)
{
    memset(secret, 0, SECRET_CAP);
    if (fn == NULL)
        return lv_error_set(err, LV_E_INTERNAL, "no credential store");
    lv_err rc = fn(ctx, akid, secret, SECRET_CAP);
    if (rc == LV_E_UNRECOGNIZED_CLIENT)
        return lv_error_set(err, rc,
                            "The security token included in the request is "
                            "invalid.");
    if (rc != LV_OK)
        return lv_error_set(err, rc, "cannot look up the access key");
    if (memchr(secret, '\0', SECRET_CAP) == NULL)
        return lv_error_set(err, LV_E_INTERNAL,
                            "secret of the access key is too long");
    return LV_OK;
}

/* An X-Amz-Content-Sha256 header is signed as sent, so it must describe
 * the body we got, or a signed hash would vouch for a swapped body. */
/* Hashes the body into body_hex and checks X-Amz-Content-Sha256 against
 * it; when the header is present its value goes to out. */
static lv_err payload_hashes(const lv_sigv4_request *req, char body_hex[65],
                             char out[65], bool *present, lv_error *err)
{
    lv_err rc = sha256_hex(req->body, req->body_len, body_hex);
    if (rc != LV_OK)
        return lv_error_set(err, rc, "cannot hash the body");
    size_t cnt;
    const lv_sigv4_header *h = find_header(req, "x-amz-content-sha256", &cnt);
    *present = h != NULL;
    if (h == NULL)
        return LV_OK;
    const char *v;
    size_t n;
    trimmed(h, &v, &n);
    bool ok = false;
    if (cnt == 1 && n == 64) {
        ok = true;
        for (size_t i = 0; ok && i < 64; i++)
            ok = lower(v[i]) == body_hex[i];
    } else if (cnt == 1 && req->body_len == 0 &&
               n == strlen(UNSIGNED_PAYLOAD) &&
               memcmp(v, UNSIGNED_PAYLOAD, n) == 0) {
        ok = true;
    }
    if (!ok)
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "The provided 'x-amz-content-sha256' header does "
                            "not match what was computed.");
    memcpy(out, v, n);
    out[n] = '\0';
    return LV_OK;
}

/* Tries each canonical path form with each payload hash; one match is
 * enough. Every comparison is constant-time. */
static lv_err match_signature(const lv_sigv4_request *req,
                              const lv_sigv4_auth *a, const char *service,
                              const unsigned char key[32],
                              const char *const *payloads, size_t npayloads,
                              bool presigned, lv_error *err)
{
    scratch own = {{LV_BUF_INIT, LV_BUF_INIT}, LV_BUF_INIT, LV_BUF_INIT, LV_BUF_INIT};
    scratch *sc = scratch_get();
    bool owned = sc == NULL;
    if (owned)
        sc = &own;
    lv_buf *paths = sc->path, *canon = &sc->canon, *sts = &sc->sts;
    lv_err rc = canonical_path(req->path, true, &paths[0], &sc->tmp);
    if (rc == LV_OK)
        rc = canonical_path(req->path, false, &paths[1], &sc->tmp);
    size_t npaths = 2;
    if (rc == LV_OK && paths[0].len == paths[1].len &&
        memcmp(paths[0].data, paths[1].data, paths[0].len) == 0)
        npaths = 1;
    bool matched = false;
    for (size_t p = 0; rc == LV_OK && p < npaths && !matched; p++) {
        for (size_t k = 0; rc == LV_OK && k < npayloads && !matched; k++) {
            lv_buf_reset(canon);
            lv_buf_reset(sts);
            rc = build_canonical(req, paths[p].data, paths[p].len,
                                 a->signed_headers, payloads[k], presigned,
                                 canon, err);
            if (rc == LV_E_VALIDATION) {
                /* A signed header that is missing cannot have been signed
                 * as received. */
                rc = LV_E_INVALID_SIGNATURE;
                if (err)
                    err->code = rc;
                break;
            }
            if (rc == LV_OK)
                rc = string_to_sign(a->amz_date, a->date, a->region, service,
                                    canon->data, canon->len, sts);
            char sig[65];
            if (rc == LV_OK)
                rc = signature_hex(key, sts, sig);
            if (rc == LV_OK)
                matched = CRYPTO_memcmp(sig, a->signature, 64) == 0;
        }
    }
    if (owned)
        scratch_release(&own);
    if (rc != LV_OK) {
        if (err && err->code != rc)
            lv_error_set(err, rc, "cannot verify the signature");
        return rc;
    }
    if (!matched)
        return lv_error_set(err, LV_E_INVALID_SIGNATURE, MSG_MISMATCH);
    return LV_OK;
}

/* Iterates query parameters, decoding names and values. */
typedef struct qparam {
    const char *name;
    lv_buf value;
    int count;
} qparam;

static lv_err collect_params(const char *q, qparam *ps, size_t nps)
{
    lv_buf key = LV_BUF_INIT;
    lv_err rc = LV_OK;
    size_t n = q ? strlen(q) : 0, i = 0;
    while (q && i <= n && rc == LV_OK) {
        size_t s = i;
        while (i < n && q[i] != '&')
            i++;
        size_t e = i++;
        size_t eq = s;
        while (eq < e && q[eq] != '=')
            eq++;
        lv_buf_reset(&key);
        if (e == s || (rc = uri_decode(&key, q + s, eq - s)) != LV_OK)
            continue;
        for (size_t k = 0; k < nps; k++) {
            if (key.len != strlen(ps[k].name) ||
                memcmp(key.data, ps[k].name, key.len) != 0)
                continue;
            if (ps[k].count++ == 0) {
                size_t vs = eq < e ? eq + 1 : e;
                rc = uri_decode(&ps[k].value, q + vs, e - vs);
                if (rc == LV_OK && ps[k].value.data == NULL)
                    rc = lv_buf_append(&ps[k].value, "", 0);
            }
        }
    }
    lv_buf_free(&key);
    return rc;
}

enum { QP_ALGO, QP_CRED, QP_DATE, QP_EXPIRES, QP_SIGNED, QP_SIG, QP__N };

static lv_err verify_presigned(const lv_sigv4_request *req,
                               const char *service, time_t now,
                               lv_sigv4_secret_fn secret_fn, void *secret_ctx,
                               lv_sigv4_cache *cache, lv_sigv4_auth *out,
                               lv_error *err)
{
    qparam ps[QP__N] = {
        {"X-Amz-Algorithm", LV_BUF_INIT, 0},
        {"X-Amz-Credential", LV_BUF_INIT, 0},
        {"X-Amz-Date", LV_BUF_INIT, 0},
        {"X-Amz-Expires", LV_BUF_INIT, 0},
        {"X-Amz-SignedHeaders", LV_BUF_INIT, 0},
        {"X-Amz-Signature", LV_BUF_INIT, 0},
    };
    char secret[SECRET_CAP];
    unsigned char key[32];
    memset(secret, 0, sizeof secret);
    memset(key, 0, sizeof key);
    lv_sigv4_auth a;
    memset(&a, 0, sizeof a);
    lv_err rc = collect_params(req->query, ps, QP__N);
    if (rc != LV_OK) {
        lv_error_set(err, rc, "cannot read the query string");
        goto done;
    }
    if (ps[QP_ALGO].count == 0 && ps[QP_CRED].count == 0 &&
        ps[QP_SIG].count == 0) {
        rc = lv_error_set(err, LV_E_MISSING_AUTH,
                          "Missing Authentication Token");
        goto done;
    }
    for (int k = 0; k < QP__N; k++) {
        if (ps[k].count != 1) {
            rc = lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                              "AWS query-string parameters must include "
                              "'X-Amz-Algorithm', 'X-Amz-Credential', "
                              "'X-Amz-Signature', 'X-Amz-Date', "
                              "'X-Amz-SignedHeaders', and 'X-Amz-Expires', "
                              "each once. Re-examine the query-string "
                              "parameters.");
            goto done;
        }
    }
    if (strcmp(ps[QP_ALGO].value.data, ALGO) != 0) {
        rc = lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                          "X-Amz-Algorithm must be " ALGO ".");
        goto done;
    }
    if ((rc = parse_credential(ps[QP_CRED].value.data, ps[QP_CRED].value.len,
                               &a, err)) != LV_OK ||
        (rc = parse_signed_headers(ps[QP_SIGNED].value.data,
                                   ps[QP_SIGNED].value.len, &a, err)) !=
            LV_OK ||
        (rc = parse_signature(ps[QP_SIG].value.data, ps[QP_SIG].value.len, &a,
                              err)) != LV_OK)
        goto done;
    time_t t;
    if (!parse_amz_date(ps[QP_DATE].value.data, ps[QP_DATE].value.len, &t)) {
        rc = lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                          "X-Amz-Date must be in the form YYYYMMDDTHHMMSSZ.");
        goto done;
    }
    memcpy(a.amz_date, ps[QP_DATE].value.data, 16);
    a.amz_date[16] = '\0';
    long expires = 0;
    const lv_buf *ev = &ps[QP_EXPIRES].value;
    bool ok = ev->len > 0 && ev->len <= 7;
    for (size_t i = 0; ok && i < ev->len; i++) {
        ok = is_digit(ev->data[i]);
        expires = expires * 10 + (ev->data[i] - '0');
    }
    if (!ok || expires < 1 || expires > PRESIGN_MAX_EXPIRES) {
        rc = lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                          "X-Amz-Expires must be a number of seconds from 1 "
                          "to %ld.",
                          PRESIGN_MAX_EXPIRES);
        goto done;
    }
    if ((rc = check_scope(&a, service, err)) != LV_OK)
        goto done;
    if ((long long)t > (long long)now + SKEW_SECONDS) {
        rc = check_skew(a.amz_date, t, now, err);
        goto done;
    }
    if ((long long)now > (long long)t + expires) {
        char lim[17], nowd[17];
        fmt_amz_date(now, nowd);
        fmt_amz_date((time_t)((long long)now - expires), lim);
        rc = lv_error_set(err, LV_E_INVALID_SIGNATURE,
                          "Signature expired: %s is now earlier than %s "
                          "(%s - %ld sec.)",
                          a.amz_date, lim, nowd, expires);
        goto done;
    }
    if ((rc = lookup_secret(secret_fn, secret_ctx, a.access_key, secret,
                            err)) != LV_OK)
        goto done;
    char body_hex[65], hdr_hash[65];
    bool present;
    if ((rc = payload_hashes(req, body_hex, hdr_hash, &present, err)) != LV_OK)
        goto done;
    /* Presigners disagree: botocore signs UNSIGNED-PAYLOAD, aws-c-auth the
     * body's hash. Both are accepted, the unsigned form only for an empty
     * body, so a presigned URL never covers a body it did not sign. */
    const char *payloads[2] = {present ? hdr_hash : body_hex,
                               UNSIGNED_PAYLOAD};
    size_t npay = (!present && req->body_len == 0) ? 2 : 1;
    if ((rc = derive_key_cached(cache, a.access_key, secret, a.date, a.region,
                                a.service, key)) != LV_OK) {
        lv_error_set(err, rc, "cannot derive the signing key");
        goto done;
    }
    rc = match_signature(req, &a, service, key, payloads, npay, true, err);
    if (rc == LV_OK && out)
        *out = a;
done:
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(key, sizeof key);
    for (int k = 0; k < QP__N; k++)
        lv_buf_free(&ps[k].value);
    return rc;
}

lv_err lv_sigv4_verify(const lv_sigv4_request *req,
                       const char *expected_service, time_t now,
                       lv_sigv4_secret_fn secret_fn, void *secret_ctx,
                       lv_sigv4_cache *cache, lv_sigv4_auth *out,
                       lv_error *err)
{
    if (req == NULL || req->method == NULL || expected_service == NULL ||
        (req->nheaders > 0 && req->headers == NULL) ||
        (req->body_len > 0 && req->body == NULL))
        return lv_error_set(err, LV_E_INTERNAL, "invalid verify arguments");
    lv_error_clear(err);
    size_t cnt;
    const lv_sigv4_header *ah = find_header(req, "authorization", &cnt);
    if (ah == NULL)
        return verify_presigned(req, expected_service, now, secret_fn,
                                secret_ctx, cache, out, err);
    if (cnt > 1)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "The request has more than one Authorization "
                            "header.");
    lv_sigv4_auth a;
    lv_err rc = lv_sigv4_parse_authorization(
        ah->value ? ah->value : "", ah->value ? ah->value_len : 0, &a, err);
    if (rc != LV_OK)
        return rc;

    /* X-Amz-Date wins over Date, as in AWS; either must be unambiguous. */
    const lv_sigv4_header *dh = find_header(req, "x-amz-date", &cnt);
    bool http_date = false;
    if (dh == NULL) {
        dh = find_header(req, "date", &cnt);
        http_date = true;
    }
    if (dh == NULL)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Authorization header requires existence of "
                            "either a 'X-Amz-Date' or a 'Date' header.");
    const char *dv;
    size_t dn;
    trimmed(dh, &dv, &dn);
    time_t t;
    bool ok = cnt == 1 && (parse_amz_date(dv, dn, &t) ||
                           (http_date && parse_http_date(dv, dn, &t)));
    if (!ok)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "The %s header is not a single valid date.",
                            http_date ? "Date" : "X-Amz-Date");
    if (!http_date) {
        /* parse_amz_date accepts only the canonical spelling of a date,
         * so the header is already what formatting t would give. */
        memcpy(a.amz_date, dv, 16);
        a.amz_date[16] = '\0';
    } else {
        fmt_amz_date(t, a.amz_date);
    }

    if ((rc = check_scope(&a, expected_service, err)) != LV_OK ||
        (rc = check_skew(a.amz_date, t, now, err)) != LV_OK)
        return rc;

    char secret[SECRET_CAP];
    unsigned char key[32];
    memset(key, 0, sizeof key);
    if ((rc = lookup_secret(secret_fn, secret_ctx, a.access_key, secret,
                            err)) != LV_OK)
        goto done;
    char body_hex[65], hdr_hash[65];
    bool present;
    if ((rc = payload_hashes(req, body_hex, hdr_hash, &present, err)) != LV_OK)
        goto done;
    const char *payload = present ? hdr_hash : body_hex;
    if ((rc = derive_key_cached(cache, a.access_key, secret, a.date, a.region,
                                a.service, key)) != LV_OK) {
        lv_error_set(err, rc, "cannot derive the signing key");
        goto done;
    }
    rc = match_signature(req, &a, expected_service, key, &payload, 1, false,
                         err);
    if (rc == LV_OK && out)
        *out = a;
done:
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

/* ---- signing ----------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

/* Lowercased, sorted, duplicate-free: the list as every SDK writes it. */
static lv_err sort_signed_headers(const char *list, lv_buf *out)
{
    size_t n = strlen(list), count = 1;
    if (!signed_headers_valid(list, n))
        return LV_E_VALIDATION;
    for (size_t i = 0; i < n; i++)
        count += list[i] == ';';
    char *copy = malloc(n + 1);
    char **names = calloc(count, sizeof *names);
    lv_err rc = LV_OK;
    if (copy == NULL || names == NULL) {
        rc = LV_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i <= n; i++)
        copy[i] = lower(list[i]);
    size_t k = 0;
    for (char *p = copy, *save = NULL, *tok; (tok = strtok_r(p, ";", &save));
         p = NULL)
        names[k++] = tok;
    qsort(names, k, sizeof *names, name_cmp);
    for (size_t i = 0; i < k && rc == LV_OK; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
            continue;
        if (out->len > 0)
            rc = lv_buf_putc(out, ';');
        if (rc == LV_OK)
            rc = lv_buf_puts(out, names[i]);
    }
done:
    free(copy);
    free(names);
    return rc;
}

static bool scope_part_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_scope_char(s[i]))
            return false;
    return true;
}

lv_err lv_sigv4_sign_ex(const lv_sigv4_request *req, const char *access_key,
                        const char *secret_key, const char *region,
                        const char *service, const char *amz_date,
                        const char *signed_headers, bool normalize,
                        lv_buf *authorization, lv_error *err)
{
    time_t t;
    if (req == NULL || req->method == NULL || access_key == NULL ||
        secret_key == NULL || region == NULL || service == NULL ||
        amz_date == NULL || signed_headers == NULL || authorization == NULL ||
        (req->nheaders > 0 && req->headers == NULL) ||
        (req->body_len > 0 && req->body == NULL))
        return lv_error_set(err, LV_E_VALIDATION, "missing signing argument");
    size_t akn = strlen(access_key);
    bool key_ok = akn > 0 && akn < sizeof((lv_sigv4_auth *)0)->access_key;
    for (size_t i = 0; key_ok && i < akn; i++)
        key_ok = is_key_char(access_key[i]);
    if (!key_ok)
        return lv_error_set(err, LV_E_VALIDATION, "invalid access key id");
    if (strlen(secret_key) >= SECRET_CAP)
        return lv_error_set(err, LV_E_VALIDATION, "secret key too long");
    if (!scope_part_ok(region) || !scope_part_ok(service))
        return lv_error_set(err, LV_E_VALIDATION, "invalid region or service");
    if (!parse_amz_date(amz_date, strlen(amz_date), &t))
        return lv_error_set(err, LV_E_VALIDATION,
                            "amz_date must be YYYYMMDDTHHMMSSZ");

    lv_buf sh = LV_BUF_INIT, path = LV_BUF_INIT, canon = LV_BUF_INIT,
           sts = LV_BUF_INIT;
    unsigned char key[32];
    memset(key, 0, sizeof key);
    lv_err rc = sort_signed_headers(signed_headers, &sh);
    if (rc != LV_OK) {
        lv_error_set(err, rc, "invalid signed_headers list");
        goto done;
    }
    if (!list_has(sh.data, "host") || !list_has(sh.data, "x-amz-date")) {
        rc = lv_error_set(err, LV_E_VALIDATION,
                          "signed_headers must include host and x-amz-date");
        goto done;
    }
    size_t cnt;
    const lv_sigv4_header *dh = find_header(req, "x-amz-date", &cnt);
    const char *dv = NULL;
    size_t dn = 0;
    if (dh)
        trimmed(dh, &dv, &dn);
    if (dh == NULL || cnt != 1 || dn != 16 || memcmp(dv, amz_date, 16) != 0) {
        rc = lv_error_set(err, LV_E_VALIDATION,
                          "the request must carry one X-Amz-Date header "
                          "equal to amz_date");
        goto done;
    }
    char payload[65];
    const lv_sigv4_header *ph = find_header(req, "x-amz-content-sha256", &cnt);
    if (ph) {
        const char *pv;
        size_t pn;
        trimmed(ph, &pv, &pn);
        if (cnt != 1 || pn == 0 || pn >= sizeof payload) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "invalid X-Amz-Content-Sha256 header");
            goto done;
        }
        memcpy(payload, pv, pn);
        payload[pn] = '\0';
    } else if ((rc = sha256_hex(req->body, req->body_len, payload)) !=
               LV_OK) {
        lv_error_set(err, rc, "cannot hash the body");
        goto done;
    }
    lv_buf ptmp = LV_BUF_INIT;
    rc = canonical_path(req->path, normalize, &path, &ptmp);
    lv_buf_free(&ptmp);
    if (rc != LV_OK) {
        lv_error_set(err, rc, "cannot encode the path");
        goto done;
    }
    if ((rc = build_canonical(req, path.data, path.len, sh.data, payload,
                              false, &canon, err)) != LV_OK)
        goto done;
    if ((rc = string_to_sign(amz_date, amz_date, region, service, canon.data,
                             canon.len, &sts)) != LV_OK ||
        (rc = derive_key(secret_key, strlen(secret_key), amz_date, region,
                         service, key)) != LV_OK) {
        lv_error_set(err, rc, "cannot compute the signature");
        goto done;
    }
    char sig[65];
    if ((rc = signature_hex(key, &sts, sig)) != LV_OK) {
        lv_error_set(err, rc, "cannot compute the signature");
        goto done;
    }
    rc = lv_buf_printf(authorization,
                       ALGO " Credential=%s/%.8s/%s/%s/" TERMINATOR
                            ", SignedHeaders=%s, Signature=%s",
                       access_key, amz_date, region, service, sh.data, sig);
    if (rc != LV_OK)
        lv_error_set(err, rc, "cannot write the Authorization header");
done:
    OPENSSL_cleanse(key, sizeof key);
    lv_buf_free(&sh);
    lv_buf_free(&path);
    lv_buf_free(&canon);
    lv_buf_free(&sts);
    return rc;
}

lv_err lv_sigv4_sign(const lv_sigv4_request *req, const char *access_key,
                     const char *secret_key, const char *region,
                     const char *service, const char *amz_date,
                     const char *signed_headers, lv_buf *authorization,
                     lv_error *err)
{
    /* S3 is the one service whose paths are signed as sent. */
    bool normalize = service == NULL || strcmp(service, "s3") != 0;
    return lv_sigv4_sign_ex(req, access_key, secret_key, region, service,
                            amz_date, signed_headers, normalize, authorization,
                            err);
}
