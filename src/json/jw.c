/* jw.c - JSON writer: escaping per RFC 8259, bytes >= 0x80 passed through
 * (values are UTF-8 as received; invalid UTF-8 never reaches here because
 * the request parser rejects it). */
#include "json/jw.h"

#include <inttypes.h>
#include <stdio.h>

void jw_init(jw *w, lv_buf *b)
{
    w->b = b;
    w->need_comma = false;
    w->rc = LV_OK;
}

static void put(jw *w, const char *s, size_t n)
{
    if (w->rc == LV_OK)
        w->rc = lv_buf_append(w->b, s, n);
}

static void sep(jw *w)
{
    if (w->need_comma)
        put(w, ",", 1);
    w->need_comma = false;
}

void jw_obj(jw *w) { sep(w); put(w, "{", 1); }
void jw_obj_end(jw *w) { put(w, "}", 1); w->need_comma = true; }
void jw_arr(jw *w) { sep(w); put(w, "[", 1); }
void jw_arr_end(jw *w) { put(w, "]", 1); w->need_comma = true; }

void jw_strn(jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sep(w);
    if (w->rc == LV_OK)
        w->rc = lv_buf_reserve(w->b, n + 2);
    put(w, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, s + start, i - start);
        start = i + 1;
        char esc[7] = {'\\', 0};
        size_t el = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            el = 6;
        }
        put(w, esc, el);
    }
    put(w, s + start, n - start);
    put(w, "\"", 1);
    w->need_comma = true;
}

void jw_str(jw *w, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    jw_strn(w, s, n);
}

void jw_key(jw *w, const char *k)
{
    jw_str(w, k);
    put(w, ":", 1);
    w->need_comma = false;
}

void jw_int(jw *w, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    sep(w);
    put(w, tmp, (size_t)n);
    w->need_comma = true;
}

void jw_bool(jw *w, bool v)
{
    sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
    w->need_comma = true;
}

void jw_time(jw *w, int64_t ms)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
    sep(w);
    put(w, tmp, (size_t)n);
    w->need_comma = true;
}

void jw_raw(jw *w, const char *s, size_t n)
{
    sep(w);
    put(w, s, n);
    w->need_comma = true;
}

void jw_kstr(jw *w, const char *k, const char *s)
{
    jw_key(w, k);
    jw_str(w, s);
}

void jw_kint(jw *w, const char *k, int64_t v)
{
    jw_key(w, k);
    jw_int(w, v);
}
