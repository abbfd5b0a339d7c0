/* pattern.h - AllowedPattern regular expressions, matched without
 * backtracking so no pattern/value pair can take more than linear time in
 * the value's length. */
#ifndef LV_CORE_PATTERN_H
#define LV_CORE_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct lv_pattern lv_pattern;

/* Compiles pat (Java-style syntax as AWS accepts: classes, quantifiers,
 * anchors, groups, alternation; no backreferences) for a search: it
 * matches a value when some part of the value matches (Java's find(); the
 * flag rules' `matches`). An unusable pattern gives
 * LV_E_INVALID_ALLOWED_PATTERN with the reason. *out is freed with
 * lv_pattern_free. */
lv_err lv_pattern_compile(const char *pat, size_t len, lv_pattern **out,
                          lv_error *err);

/* The same for a whole-value match (Java's String.matches, as Parameter
 * Store applies AllowedPattern: \d{1,4} accepts "100" and refuses "12345"
 * and "abc1"). */
lv_err lv_pattern_compile_whole(const char *pat, size_t len, lv_pattern **out,
                                lv_error *err);

/* Sets *matched to whether s matches p, in the way p was compiled for
 * (a search, or the whole value). */
lv_err lv_pattern_match(const lv_pattern *p, const char *s, size_t len,
                        bool *matched, lv_error *err);

void lv_pattern_free(lv_pattern *p);

/* AllowedPattern's check in one call: compile for the whole value, match,
 * free. */
lv_err lv_pattern_check(const char *pat, const char *s, size_t len,
                        bool *matched, lv_error *err);

#endif
