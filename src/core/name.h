/* name.h - parameter names, labels, selectors and ARNs: the textual rules
 * of Parameter Store. */
#ifndef LV_CORE_NAME_H
#define LV_CORE_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum {
    LV_NAME_WIRE_MAX = 2048, /* the API's Name field, ARN forms included */
    LV_NAME_MAX = 1011,      /* usable length of a parameter name */
    LV_MAX_LEVELS = 15,
};

/* Turns what a client sent as a name (plain, "/a/b", or an ARN
 * "arn:aws:ssm:<region>:<account>:parameter/a/b") into the canonical name
 * ("/a/b"; "parameter/x" and "/x" give "x": a name without hierarchy is
 * one parameter with or without its slash), written to out.
 * Checks form only: characters, slashes, length. Reserved prefixes and the
 * level limit are creation rules (lv_name_check_create). */
lv_err lv_name_canonical(const char *in, size_t len, lv_buf *out, lv_error *err);

/* Rules that apply when a parameter is created: reserved "aws"/"ssm"
 * prefixes and at most 15 hierarchy levels. */
lv_err lv_name_check_create(const char *name, lv_error *err);

/* Number of hierarchy levels ("/a/b/c" has 3, "a" has 1). */
unsigned lv_name_levels(const char *name);

/* Canonical form of a path for GetParametersByPath / Path filters: must
 * start with '/', no empty segments; the result always ends with '/' so
 * it is a key prefix ("/" stays "/"). */
lv_err lv_path_canonical(const char *in, size_t len, lv_buf *out, lv_error *err);

/* Label rules: 1..100 characters of [a-zA-Z0-9_.-], not starting with a
 * digit, not starting with "aws" or "ssm" (any case). */
bool lv_label_valid(const char *label);

/* A name with an optional ":selector" split into its parts. */
typedef struct lv_selector {
    bool has_selector;
    bool is_version;     /* else a label */
    uint32_t version;
    const char *label;   /* points into the caller's buffer */
} lv_selector;

/* Splits "name[:version|:label]" (ARN forms included) in place: buf holds
 * a writable copy of the input; the ':' is replaced by NUL, *name_end gets
 * the length of the name part. A malformed selector (empty, version 0 or
 * out of range) is LV_E_VALIDATION. */
lv_err lv_selector_split(char *buf, size_t len, size_t *name_len,
                         lv_selector *sel, lv_error *err);

/* Appends the ARN of name in region/account to out. */
lv_err lv_name_arn(const char *region, const char *account, const char *name,
                   lv_buf *out);

#endif
