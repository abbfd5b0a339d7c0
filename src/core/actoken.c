/* actoken.c - the text form of AppConfig Data configuration tokens and
 * the plaintext of the session they carry. */
#include "core/actoken.h"

#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t lv_actoken_format(const unsigned char *b, size_t n, char *out)
{
    char *o = out;
    memcpy(o, "lv2_", 4);
    o += 4;
    if (n > LV_ACTOKEN_MAX_BYTES)
        n = LV_ACTOKEN_MAX_BYTES;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = B64[(v >> 6) & 63];
        *o++ = B64[v & 63];
    }
    if (n - i == 1) {
        *o++ = B64[b[i] >> 2];
        *o++ = B64[(b[i] & 3) << 4];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)b[i] << 8 | b[i + 1];
        *o++ = B64[v >> 10];
        *o++ = B64[(v >> 4) & 63];
        *o++ = B64[(v & 15) << 2];
    }
    *o = '\0';
    return (size_t)(o - out);
}

static int val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

bool lv_actoken_parse(const char *s, size_t n, unsigned char *out, size_t *out_len)
{
    if (n < 4 || n > LV_ACTOKEN_MAX_LEN || memcmp(s, "lv2_", 4) != 0)
        return false;
    s += 4;
    n -= 4;
    if (n % 4 == 1)
        return false;
    size_t k = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = val(s[i]);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k == LV_ACTOKEN_MAX_BYTES)
                return false;
            out[k++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* leftover bits must be zero: one spelling per token */
        return false;
    *out_len = k;
    return true;
}

/* ---- the session's plaintext: version 1, then each field ---- */

enum { SESSION_V1 = 1 };

static lv_err put_str(lv_buf *b, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap - 1);
    lv_err rc = lv_buf_putc(b, (char)n);
    return rc == LV_OK ? lv_buf_append(b, s, n) : rc;
}

static lv_err put_u64(lv_buf *b, uint64_t v)
{
    char t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (char)(v >> (56 - 8 * i));
    return lv_buf_append(b, t, 8);
}

lv_err lv_acsession_encode(const lv_acsession *s, lv_buf *out)
{
    lv_err rc = lv_buf_putc(out, SESSION_V1);
    if (rc == LV_OK)
        rc = put_str(out, s->app, sizeof s->app);
    if (rc == LV_OK)
        rc = put_str(out, s->env, sizeof s->env);
    if (rc == LV_OK)
        rc = put_str(out, s->profile, sizeof s->profile);
    if (rc == LV_OK)
        rc = put_str(out, s->entity, sizeof s->entity);
    if (rc == LV_OK)
        rc = put_str(out, s->served, sizeof s->served);
    if (rc == LV_OK)
        rc = put_u64(out, s->interval);
    if (rc == LV_OK)
        rc = put_u64(out, (uint64_t)s->not_before_ms);
    if (rc == LV_OK)
        rc = put_u64(out, (uint64_t)s->expires_ms);
    if (rc == LV_OK)
        rc = put_u64(out, s->seq);
    if (rc == LV_OK)
        rc = lv_buf_append(out, s->nonce, sizeof s->nonce);
    return rc;
}

typedef struct rd {
    const unsigned char *p, *end;
} rd;

static bool get_str(rd *r, char *dst, size_t cap)
{
    if (r->p >= r->end)
        return false;
    size_t n = *r->p++;
    if (n >= cap || (size_t)(r->end - r->p) < n || memchr(r->p, '\0', n) != NULL)
        return false;
    memcpy(dst, r->p, n);
    dst[n] = '\0';
    r->p += n;
    return true;
}

static bool get_u64(rd *r, uint64_t *v)
{
    if (r->end - r->p < 8)
        return false;
    *v = 0;
    for (int i = 0; i < 8; i++)
        *v = *v << 8 | r->p[i];
    r->p += 8;
    return true;
}

bool lv_acsession_decode(const void *p, size_t n, lv_acsession *s)
{
    rd r = {p, (const unsigned char *)p + n};
    memset(s, 0, sizeof *s);
    uint64_t iv, nb, ex, seq;
    if (n < 1 || *r.p++ != SESSION_V1)
        return false;
    if (!get_str(&r, s->app, sizeof s->app) || !get_str(&r, s->env, sizeof s->env) ||
        !get_str(&r, s->profile, sizeof s->profile) || !get_str(&r, s->entity, sizeof s->entity) ||
        !get_str(&r, s->served, sizeof s->served) || !get_u64(&r, &iv) || !get_u64(&r, &nb) ||
        !get_u64(&r, &ex) || !get_u64(&r, &seq) || iv > UINT32_MAX || (size_t)(r.end - r.p) != sizeof s->nonce)
        return false;
    memcpy(s->nonce, r.p, sizeof s->nonce);
    s->interval = (uint32_t)iv;
    s->not_before_ms = (int64_t)nb;
    s->expires_ms = (int64_t)ex;
    s->seq = seq;
    return true;
}
