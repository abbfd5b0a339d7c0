/* policy_iam.h - identity policies in the IAM JSON shape, attached to
 * access keys: parsing (untrusted input, fuzzed) and evaluation (explicit
 * deny wins, then any allow, else the implicit default deny). See
 * docs/security.md for the supported subset. */
#ifndef LV_AUTH_POLICY_IAM_H
#define LV_AUTH_POLICY_IAM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum {
    LV_IAM_POLICY_MAX_LEN = 6144,   /* bytes of one document (IAM's managed-policy limit) */
    LV_IAM_MAX_STATEMENTS = 100,
    LV_IAM_MAX_ITEMS = 100,         /* actions, resources or values in one element */
};

typedef enum lv_iam_decision {
    LV_IAM_IMPLICIT_DENY = 0,   /* no statement matched */
    LV_IAM_ALLOW = 1,
    LV_IAM_DENY = 2,            /* an explicit Deny matched */
} lv_iam_decision;

typedef struct lv_iam_policy lv_iam_policy;

/* Parses one policy document. Refuses (LV_E_MALFORMED_POLICY, message says
 * where) anything outside the supported subset rather than ignoring it:
 * an ignored Condition would grant more than its author meant.
 * *out is owned by the caller (lv_iam_policy_free). */
lv_err lv_iam_policy_parse(const char *text, size_t len, lv_iam_policy **out, lv_error *err);
void lv_iam_policy_free(lv_iam_policy *p);

/* The request context of one authorisation question. Condition values are
 * strings ("true"/"false" for booleans); a key not listed is absent. */
typedef struct lv_iam_request {
    const char *action;            /* "ssm:GetParameter" */
    const char *resource;          /* an ARN */
    const char *const *cond_keys;  /* "ssm:Recursive" ... */
    const char *const *cond_values;
    size_t ncond;
} lv_iam_request;

/* Evaluates req against every policy in pols (a key's attached set). */
lv_iam_decision lv_iam_eval(const lv_iam_policy *const *pols, size_t n, const lv_iam_request *req);

/* IAM wildcard match: '*' any run of characters (including none and '/'),
 * '?' exactly one. Linear in practice: backtracks only to the last '*'. */
bool lv_iam_glob(const char *pat, const char *s, bool ignore_case);

#endif
