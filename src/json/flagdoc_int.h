/* flagdoc_int.h - what the validator (flagdoc_check.c) and the compiler
 * and evaluator (flagdoc.c) share. Private to src/json. */
#ifndef LV_JSON_FLAGDOC_INT_H
#define LV_JSON_FLAGDOC_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"

typedef struct fd_check {
    lv_buf *details;  /* may be NULL */
    size_t count;     /* violations found */
    bool nomem;
    char first[700];  /* the first violation, "<pointer>: <reason>" */
} fd_check;

void fd_violation(fd_check *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool fd_valid_key(const char *k);
/* snprintf for JSON pointers, which may be cut short. */
void fd_path(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fd_check_flag_def(fd_check *c, const char *key, const json_t *def);
void fd_check_constraints(fd_check *c, const char *where, const json_t *cons);
/* vals: an object of attribute values; keys in skip are not attributes. */
void fd_check_attr_values(fd_check *c, const char *where, const json_t *vals,
                          const json_t *attr_defs, const char *const *skip);
/* The keys, enabled and name of a variant (its rule and values are the
 * compiler's). */
void fd_check_variant_common(fd_check *c, const char *where, const json_t *var);

#endif
