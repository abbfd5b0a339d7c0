/* buf.h - a growable byte buffer, always NUL-terminated, with a hard cap.
 * Used wherever lever builds output of unknown size (JSON, records). */
#ifndef LV_CORE_BUF_H
#define LV_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

typedef struct lv_buf {
    char *data;   /* owned; NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max;   /* 0 = default cap (64 MiB); appends past it fail */
} lv_buf;

#define LV_BUF_INIT {NULL, 0, 0, 0}

#define LV_BUF_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

lv_err lv_buf_reserve(lv_buf *b, size_t extra);
lv_err lv_buf_append_slow(lv_buf *b, const void *p, size_t n);
lv_err lv_buf_puts(lv_buf *b, const char *s);

/* Appends are the inner loop of every encoder (JSON out, SigV4's
 * canonical request): the case that fits in place is inline. */
static inline lv_err lv_buf_append(lv_buf *b, const void *p, size_t n)
{
    size_t max = b->max ? b->max : LV_BUF_DEFAULT_MAX;
    if (b->data == NULL || n >= b->cap - b->len || b->len + n > max)
        return lv_buf_append_slow(b, p, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return LV_OK;
}

static inline lv_err lv_buf_putc(lv_buf *b, char c)
{
    size_t max = b->max ? b->max : LV_BUF_DEFAULT_MAX;
    if (b->data == NULL || b->cap - b->len < 2 || b->len + 1 > max)
        return lv_buf_append_slow(b, &c, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return LV_OK;
}
lv_err lv_buf_printf(lv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lv_buf_reset(lv_buf *b);          /* len = 0, keeps memory */
void lv_buf_free(lv_buf *b);           /* releases memory */
/* Hands the data to the caller (who frees it with free()) and resets b. */
char *lv_buf_steal(lv_buf *b, size_t *len);

#endif
