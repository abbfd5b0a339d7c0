/* buf.c - growable buffer with an upper bound, so no input can make it grow
 * without limit. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


lv_err lv_buf_reserve(lv_buf *b, size_t extra)
{
    size_t max = b->max ? b->max : LV_BUF_DEFAULT_MAX;
    if (extra > max || b->len > max - extra)
        return LV_E_TOO_BIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return LV_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return LV_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return LV_OK;
}

lv_err lv_buf_append_slow(lv_buf *b, const void *p, size_t n)
{
    lv_err rc = lv_buf_reserve(b, n);
    if (rc != LV_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return LV_OK;
}

lv_err lv_buf_puts(lv_buf *b, const char *s)
{
    return lv_buf_append(b, s, strlen(s));
}


lv_err lv_buf_printf(lv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return LV_E_INTERNAL;
    if ((size_t)n < sizeof small)
        return lv_buf_append(b, small, (size_t)n);
    lv_err rc = lv_buf_reserve(b, (size_t)n);
    if (rc != LV_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LV_OK;
}

void lv_buf_reset(lv_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void lv_buf_free(lv_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *lv_buf_steal(lv_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    if (p == NULL) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
