/* jw.h - a small streaming JSON writer into an lv_buf, shared by leverd and
 * lever-agent. Responses have fixed shapes, so writing them directly is
 * simpler and much cheaper than building a jansson tree per request (see
 * docs/decisions.md). */
#ifndef LV_JSON_JW_H
#define LV_JSON_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct jw {
    lv_buf *b;
    bool need_comma;
    lv_err rc;          /* first error; later calls are no-ops */
} jw;

void jw_init(jw *w, lv_buf *b);
void jw_obj(jw *w);              /* { */
void jw_obj_end(jw *w);          /* } */
void jw_arr(jw *w);              /* [ */
void jw_arr_end(jw *w);          /* ] */
void jw_key(jw *w, const char *k);
void jw_str(jw *w, const char *s);
void jw_strn(jw *w, const char *s, size_t n);
void jw_int(jw *w, int64_t v);
void jw_bool(jw *w, bool v);
void jw_time(jw *w, int64_t epoch_ms);   /* epoch seconds with milliseconds */
void jw_raw(jw *w, const char *s, size_t n);
/* key + value shorthands */
void jw_kstr(jw *w, const char *k, const char *s);
void jw_kint(jw *w, const char *k, int64_t v);

#endif
