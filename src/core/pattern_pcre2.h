/* pattern_pcre2.h - private to pattern.c: the bounded PCRE2 DFA engine used
 * for AllowedPatterns with lookaround, which the linear-time engine lacks. */
#ifndef LV_CORE_PATTERN_PCRE2_H
#define LV_CORE_PATTERN_PCRE2_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct lv_pcre2_pattern lv_pcre2_pattern;

/* whole: a match must span the whole value; else a search. */
lv_err lv_pcre2_compile(const char *pat, size_t len, bool whole, lv_pcre2_pattern **out,
                        lv_error *err);
/* Bounded in time and memory; a value that exceeds the bounds gives
 * LV_E_INVALID_ALLOWED_PATTERN ("too complex"), never a hang. */
lv_err lv_pcre2_match(const lv_pcre2_pattern *p, const char *s, size_t len, bool *matched,
                      lv_error *err);
void lv_pcre2_free(lv_pcre2_pattern *p);

#endif
