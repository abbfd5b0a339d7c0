/* token.c - NextToken encoding: hex of (kind, query hash, position) with a
 * checksum, so a mangled or foreign token is told apart from a real one. */
#include "core/token.h"
#include "core/hex.h"

#include <string.h>

uint32_t lv_token_hash(uint32_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    if (h == 0)
        h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

static lv_err put_hex(lv_buf *b, const void *p, size_t n)
{
    lv_err rc = lv_buf_reserve(b, n * 2);
    if (rc != LV_OK)
        return rc;
    lv_hex_encode(p, n, b->data + b->len);
    b->len += 2 * n;
    return LV_OK;
}

static void be32(unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)(v >> 24);
    o[1] = (unsigned char)(v >> 16);
    o[2] = (unsigned char)(v >> 8);
    o[3] = (unsigned char)v;
}

lv_err lv_token_encode(char kind, uint32_t query, const void *pos, size_t len, lv_buf *out)
{
    unsigned char head[5];
    head[0] = (unsigned char)kind;
    be32(head + 1, query);
    uint32_t sum = lv_token_hash(lv_token_hash(0, head, 5), pos, len);
    unsigned char tail[4];
    be32(tail, sum);
    lv_buf_reset(out);
    lv_err rc = put_hex(out, head, 5);
    if (rc == LV_OK)
        rc = put_hex(out, pos, len);
    if (rc == LV_OK)
        rc = put_hex(out, tail, 4);
    return rc;
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

lv_err lv_token_decode(char kind, uint32_t query, const char *tok, size_t len, lv_buf *out,
                       lv_error *err)
{
    lv_buf raw = LV_BUF_INIT;
    lv_err rc = LV_OK;
    if (len % 2 != 0 || len < 18 || len > 8192) {
        rc = LV_E_INVALID_NEXT_TOKEN;
        goto done;
    }
    for (size_t i = 0; i < len; i += 2) {
        int hi = unhex(tok[i]), lo = unhex(tok[i + 1]);
        if (hi < 0 || lo < 0) {
            rc = LV_E_INVALID_NEXT_TOKEN;
            goto done;
        }
        char c = (char)(hi << 4 | lo);
        if ((rc = lv_buf_putc(&raw, c)) != LV_OK)
            goto done;
    }
    const unsigned char *r = (const unsigned char *)raw.data;
    size_t n = raw.len;
    unsigned char expect[4];
    be32(expect, lv_token_hash(0, r, n - 4));
    unsigned char q[4];
    be32(q, query);
    if (memcmp(expect, r + n - 4, 4) != 0 || r[0] != (unsigned char)kind || memcmp(r + 1, q, 4) != 0) {
        rc = LV_E_INVALID_NEXT_TOKEN;
        goto done;
    }
    lv_buf_reset(out);
    rc = lv_buf_append(out, r + 5, n - 9);
done:
    lv_buf_free(&raw);
    if (rc == LV_E_INVALID_NEXT_TOKEN)
        lv_error_set(err, rc, "The specified token isn't valid.");
    return rc;
}
