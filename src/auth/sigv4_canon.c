/* sigv4_canon.c - SigV4 canonical requests (paths, queries, headers),
 * the string to sign and derived signing keys with their cache. */
#include "auth/sigv4_int.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

/* The character classes of sigv4_int.h, as constant expressions over
 * the byte value, expanded into a table of 256 entries. */
#define CL_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CL_ALNUM(c) (CL_DIGIT(c) || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define CL_TSYM(c)                                                                                       \
    ((c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' || (c) == '\'' || (c) == '*' || \
     (c) == '+' || (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' ||  \
     (c) == '~')
#define CL_KEYC(c) ((c) > 0x20 && (c) < 0x7f && (c) != '/' && (c) != ',' && (c) != ';' && (c) != '=')
#define CL_HEXC(c) (CL_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define CL(c)                                                                                       \
    ((CL_ALNUM(c) || CL_TSYM(c) ? LV_SV4_TCHAR : 0) | (CL_KEYC(c) ? LV_SV4_KEY : 0) |              \
     (CL_ALNUM(c) || (c) == '-' || (c) == '_' || (c) == '.' ? LV_SV4_SCOPE : 0) |                    \
     (CL_HEXC(c) ? LV_SV4_XDIGIT : 0) |                                                                 \
     ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' ? LV_SV4_WS : 0) |                      \
     (CL_ALNUM(c) || (c) == '-' || (c) == '_' || (c) == '.' || (c) == '~' ? LV_SV4_UNRES : 0) |      \
     ((c) == ';' ? LV_SV4_SEMI : 0) |                                                                \
     ((c) == ',' || (c) == ' ' || (c) == '\t' ? LV_SV4_DELIM : 0) | ((c) == '=' ? LV_SV4_EQ : 0))
#define CL4(c) CL(c), CL((c) + 1), CL((c) + 2), CL((c) + 3)
#define CL16(c) CL4(c), CL4((c) + 4), CL4((c) + 8), CL4((c) + 12)
#define CL64(c) CL16(c), CL16((c) + 16), CL16((c) + 32), CL16((c) + 48)
const uint16_t lv_sv4_cls[256] = {CL64(0), CL64(64), CL64(128), CL64(192)};


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
lv_err lv_sv4_uri_decode(lv_buf *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        char c = p[i];
        if (c == '%' && i + 2 < n &&
            (hi = lv_hexval((unsigned char)p[i + 1])) >= 0 &&
            (lo = lv_hexval((unsigned char)p[i + 2])) >= 0) {
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
lv_err lv_sv4_canonical_path(const char *path, bool normalize, lv_buf *out,
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
        if ((rc = lv_sv4_uri_decode(&tmp, q + s, eq - s)) != LV_OK)
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
        if ((rc = lv_sv4_uri_decode(&tmp, q + vs, e - vs)) != LV_OK)
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

/* Trimall: no blanks at either end, each inner run of blanks one space.
 * Writes at most n bytes at w and returns the end. */
static char *put_trimmed(char *w, const char *v, size_t n)
{
    size_t s = 0, e = n;
    while (s < e && is_ws(v[s]))
        s++;
    while (e > s && is_ws(v[e - 1]))
        e--;
    bool blank = false;
    for (size_t i = s; i < e; i++) {
        /* Eight bytes none of which is below '!' (so no blank) are
         * copied at once: most values have no blanks at all. */
        uint64_t x;
        while (e - i >= 8 && (memcpy(&x, v + i, 8), ((x - 0x2121212121212121ULL) & ~x & 0x8080808080808080ULL) == 0)) {
            if (blank)
                *w++ = ' ';
            blank = false;
            memcpy(w, &x, 8);
            w += 8;
            i += 8;
        }
        if (i == e)
            break;
        char c = v[i];
        if (is_ws(c)) {
            blank = true;
            continue;
        }
        if (blank)
            *w++ = ' ';
        blank = false;
        *w++ = c;
    }
    return w;
}

const lv_sigv4_header *lv_sv4_find_header(const lv_sigv4_request *req,
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
void lv_sv4_trimmed(const lv_sigv4_header *h, const char **v, size_t *n)
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

/* Names of token characters between single ';'. */
bool lv_sv4_signed_headers_valid(const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = lv_sv4_cls[(unsigned char)s[i]];
        if (c & LV_SV4_TCHAR) {
            run++;
        } else if ((c & LV_SV4_SEMI) && run > 0) {
            run = 0;
        } else {
            return false;
        }
    }
    return run > 0;
}

bool lv_sv4_list_has(const char *list, const char *name)
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

lv_err lv_sv4_build_canonical(const lv_sigv4_request *req,
                              const char *path_enc, size_t path_len,
                              const char *signed_headers,
                              const char *payload_hash, bool skip_signature,
                              lv_buf *out, lv_error *err)
{
    size_t start = out->len;
    lv_err rc;
    size_t sl = strlen(signed_headers);
    if ((rc = lv_buf_puts(out, req->method)) != LV_OK ||
        (rc = lv_buf_putc(out, '\n')) != LV_OK ||
        (rc = lv_buf_append(out, path_enc, path_len)) != LV_OK ||
        (rc = lv_buf_putc(out, '\n')) != LV_OK ||
        (rc = canonical_query(req->query, skip_signature, out)) != LV_OK ||
        (rc = lv_buf_putc(out, '\n')) != LV_OK)
        goto fail_plain;
    /* Each header line is written in place: room for the name, ':', every
     * value that could match with its ',' and '\n' is reserved first. */
    size_t vbytes = 0;
    for (size_t i = 0; i < req->nheaders; i++)
        vbytes += (req->headers[i].value ? req->headers[i].value_len : 0) + 1;
    for (const char *p = signed_headers; *p;) {
        const char *e = memchr(p, ';', sl - (size_t)(p - signed_headers));
        size_t nl = e ? (size_t)(e - p) : sl - (size_t)(p - signed_headers);
        if ((rc = lv_buf_reserve(out, nl + vbytes + 2)) != LV_OK)
            goto fail_plain;
        char *w = out->data + out->len, *lname = w;
        for (size_t i = 0; i < nl; i++)
            *w++ = lower(p[i]);
        *w++ = ':';
        bool found = false;
        for (size_t i = 0; i < req->nheaders; i++) {
            const lv_sigv4_header *h = &req->headers[i];
            if (h->name == NULL || h->name_len != nl)
                continue;
            size_t k = 0;
            while (k < nl && lower(h->name[k]) == lname[k])
                k++;
            if (k < nl)
                continue;
            /* Repeated headers are one header whose values are joined
             * with ',' in the order they arrived. */
            if (found)
                *w++ = ',';
            found = true;
            if (h->value)
                w = put_trimmed(w, h->value, h->value_len);
        }
        if (!found) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "Signed header '%.*s' is not in the request.",
                              clamp_echo(nl), p);
            goto fail;
        }
        *w++ = '\n';
        out->len = (size_t)(w - out->data);
        out->data[out->len] = '\0';
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
    if (!lv_sv4_signed_headers_valid(signed_headers, strlen(signed_headers)))
        return LV_E_VALIDATION;
    lv_buf path = LV_BUF_INIT, tmp = LV_BUF_INIT;
    lv_err rc = lv_sv4_canonical_path(req->path, normalize_path_, &path, &tmp);
    if (rc == LV_OK)
        rc = lv_sv4_build_canonical(req, path.data, path.len, signed_headers,
                             payload_hash, false, out, NULL);
    lv_buf_free(&path);
    lv_buf_free(&tmp);
    return rc;
}

/* ---- string to sign and keys ------------------------------------------- */

lv_err lv_sv4_string_to_sign(const char *amz_date, const char *date,
                             const char *region, const char *service,
                             const char *canonical, size_t canonical_len,
                             lv_buf *out)
{
    char hex[65];
    lv_err rc = lv_sv4_sha256_hex(canonical, canonical_len, hex);
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
    return lv_sv4_string_to_sign(amz_date, amz_date, region, service, canonical,
                          canonical_len, out);
}

lv_err lv_sv4_derive_key(const char *secret, size_t secret_len,
                         const char *date, const char *region,
                         const char *service, unsigned char key[32])
{
    unsigned char k[4 + SECRET_CAP];
    unsigned char a[32], b[32];
    if (secret_len > SECRET_CAP)
        return LV_E_VALIDATION;
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, secret_len);
    lv_err rc = lv_sv4_hmac256(k, 4 + secret_len, date, 8, a);
    if (rc == LV_OK)
        rc = lv_sv4_hmac256(a, 32, region, strlen(region), b);
    if (rc == LV_OK)
        rc = lv_sv4_hmac256(b, 32, service, strlen(service), a);
    if (rc == LV_OK)
        rc = lv_sv4_hmac256(a, 32, TERMINATOR, strlen(TERMINATOR), key);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return rc;
}

static lv_err derive_mac(const char *secret, size_t slen, const char *date, const char *region,
                         const char *service, unsigned char mac[LV_SIGV4_MAC_STATE])
{
    unsigned char key[32];
    lv_err rc = lv_sv4_derive_key(secret, slen, date, region, service, key);
    if (rc == LV_OK)
        lv_sv4_mac_key(key, sizeof key, mac);
    explicit_bzero(key, sizeof key);
    return rc;
}

/* The cache spares the four-HMAC chain and the key's two pad blocks per
 * request; the secret is kept beside the entry and compared (in constant
 * time), so a rotated secret never meets a stale key. */
lv_err lv_sv4_derive_key_cached(lv_sigv4_cache *cache, const char *akid,
                                const char *secret, const char *date,
                                const char *region, const char *service,
                                unsigned char mac[LV_SIGV4_MAC_STATE])
{
    size_t slen = strlen(secret);
    if (cache == NULL)
        return derive_mac(secret, slen, date, region, service, mac);
    char id[sizeof cache->slot[0].id];
    /* "akid\ndate\nregion\nservice", built without printf (per request). */
    const char *parts[4] = {akid, date, region, service};
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t l = i == 1 ? strnlen(date, 8) : strlen(parts[i]);
        if (n + l + 2 > sizeof id)
            return derive_mac(secret, slen, date, region, service, mac);
        memcpy(id + n, parts[i], l);
        n += l;
        id[n++] = i < 3 ? '\n' : '\0';
    }
    n--; /* the length without the NUL */
    if (slen >= sizeof cache->slot[0].secret)
        return derive_mac(secret, slen, date, region, service, mac);
    lv_err rc;
    size_t nslots = sizeof cache->slot / sizeof cache->slot[0];
    for (size_t i = 0; i < nslots; i++) {
        if (cache->slot[i].used && memcmp(cache->slot[i].id, id, n + 1) == 0 &&
            cache->slot[i].secret_len == slen && ct_eq(cache->slot[i].secret, secret, slen)) {
            memcpy(mac, cache->slot[i].mac, LV_SIGV4_MAC_STATE);
            return LV_OK;
        }
    }
    if ((rc = derive_mac(secret, slen, date, region, service, mac)) != LV_OK)
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
    OPENSSL_cleanse(cache->slot[victim].secret, sizeof cache->slot[victim].secret);
    memcpy(cache->slot[victim].secret, secret, slen);
    cache->slot[victim].secret_len = slen;
    memcpy(cache->slot[victim].mac, mac, LV_SIGV4_MAC_STATE);
    return LV_OK;
}

lv_err lv_sv4_signature_hex(const unsigned char key[32], const lv_buf *sts,
                            char out[65])
{
    unsigned char mac[32];
    lv_err rc = lv_sv4_hmac256(key, 32, sts->data, sts->len, mac);
    if (rc == LV_OK)
        to_hex(mac, sizeof mac, out);
    return rc;
}
