/* changerec.c - encoding of a commit's change-log entries (changerec.h). */
#include "core/changerec.h"

#include <stdlib.h>
#include <string.h>

enum { ENTRY_FIXED = 1 + 4 + 8 + 4 };

void lv_changerec_key(uint64_t rev, unsigned char out[3])
{
    unsigned slot = (unsigned)(rev % LV_CHANGEREC_SLOTS);
    out[0] = 'C';
    out[1] = (unsigned char)(slot >> 8);
    out[2] = (unsigned char)slot;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

lv_err lv_changerec_encode(const lv_change *c, size_t n, lv_buf *out)
{
    lv_err rc = lv_buf_append(out, "c1", 2);
    for (size_t i = 0; rc == LV_OK && i < n; i++) {
        unsigned char h[ENTRY_FIXED];
        h[0] = (unsigned char)c[i].kind;
        put_be(h + 1, c[i].version, 4);
        put_be(h + 5, (uint64_t)c[i].time_ms, 8);
        put_be(h + 13, c[i].key_len, 4);
        if (c[i].key_len > UINT32_MAX)
            return LV_E_TOO_BIG;
        rc = lv_buf_append(out, h, sizeof h);
        if (rc == LV_OK)
            rc = lv_buf_append(out, c[i].key, c[i].key_len);
    }
    return rc;
}

lv_err lv_changerec_decode(const void *val, size_t vlen, lv_changerec *out, lv_error *err)
{
    memset(out, 0, sizeof *out);
    const unsigned char *p = val, *end = p + vlen;
    if (vlen < 2 || memcmp(p, "c1", 2) != 0)
        return lv_error_set(err, LV_E_CORRUPT, "bad change record format");
    p += 2;
    /* Count first: one allocation each for the entries and their keys. */
    size_t n = 0, keybytes = 0;
    for (const unsigned char *q = p; q < end; n++) {
        if ((size_t)(end - q) < ENTRY_FIXED || n >= LV_CHANGEREC_MAX)
            return lv_error_set(err, LV_E_CORRUPT, "truncated change record");
        uint64_t kl = get_be(q + 13, 4);
        if (q[0] > LV_CHANGE_AC_CONTENT || kl > (size_t)(end - q) - ENTRY_FIXED)
            return lv_error_set(err, LV_E_CORRUPT, "bad change record entry");
        keybytes += (size_t)kl + 1;
        q += ENTRY_FIXED + kl;
    }
    out->c = calloc(n ? n : 1, sizeof *out->c);
    out->keys = malloc(keybytes ? keybytes : 1);
    if (out->c == NULL || out->keys == NULL) {
        lv_changerec_free(out);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    char *k = out->keys;
    for (size_t i = 0; i < n; i++) {
        size_t kl = (size_t)get_be(p + 13, 4);
        out->c[i].kind = (lv_change_kind)p[0];
        out->c[i].version = (uint32_t)get_be(p + 1, 4);
        out->c[i].time_ms = (int64_t)get_be(p + 5, 8);
        memcpy(k, p + ENTRY_FIXED, kl);
        k[kl] = '\0';
        out->c[i].key = k;
        out->c[i].key_len = kl;
        k += kl + 1;
        p += ENTRY_FIXED + kl;
    }
    out->n = n;
    return LV_OK;
}

void lv_changerec_free(lv_changerec *r)
{
    free(r->c);
    free(r->keys);
    memset(r, 0, sizeof *r);
}
