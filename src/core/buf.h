/* buf.h - a growable byte buffer, always NUL-terminated, with a hard cap.
 * Used wherever lever builds output of unknown size (JSON, records). */
#ifndef LV_CORE_BUF_H
#define LV_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct lv_buf {
    char *data;   /* owned; NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max;   /* 0 = default cap (64 MiB); appends past it fail */
} lv_buf;

#define LV_BUF_INIT {NULL, 0, 0, 0}

lv_err lv_buf_reserve(lv_buf *b, size_t extra);
lv_err lv_buf_append(lv_buf *b, const void *p, size_t n);
lv_err lv_buf_puts(lv_buf *b, const char *s);
lv_err lv_buf_putc(lv_buf *b, char c);
lv_err lv_buf_printf(lv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lv_buf_reset(lv_buf *b);          /* len = 0, keeps memory */
void lv_buf_free(lv_buf *b);           /* releases memory */
/* Hands the data to the caller (who frees it with free()) and resets b. */
char *lv_buf_steal(lv_buf *b, size_t *len);

#endif
