/* plan.h - the rules of every change to a parameter, as pure functions:
 * given the current state (or NULL) and a typed request, either refuse
 * with the AWS error or build the next state. The engine decides when to
 * run them and makes the result durable; nothing here does I/O. */
#ifndef LV_CORE_PLAN_H
#define LV_CORE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/param.h"
#include "core/policy.h"

enum {
    LV_STANDARD_VALUE_MAX = 4096,
    LV_ADVANCED_VALUE_MAX = 8192,
};

#define LV_DEFAULT_KEY_ID "alias/aws/ssm"

typedef struct lv_tag_in {
    const char *key;
    const char *value;
} lv_tag_in;

/* Encrypts a SecureString value for (region, name, version, key_id); the
 * envelope is returned in *out (malloc'd, caller frees). */
typedef lv_err (*lv_seal_fn)(void *ctx, const char *region, const char *name,
                             uint32_t version, const char *key_id,
                             const char *pt, size_t pt_len, char **out,
                             size_t *out_len, lv_error *err);

typedef struct lv_put_input {
    const char *value;
    size_t value_len;
    bool has_type;
    lv_ptype type;
    const char *description;      /* NULL: keep the previous one */
    const char *key_id;           /* NULL: keep / default */
    const char *allowed_pattern;  /* NULL: keep */
    const char *data_type;        /* NULL: keep / "text" */
    const char *policies_text;    /* NULL: keep */
    const lv_policy_set *policies;/* parsed policies_text */
    bool overwrite;
    bool has_tier;
    lv_tier tier;
    const lv_tag_in *tags;
    unsigned ntags;
    const char *user;             /* ARN of the caller */
    int64_t now_ms;
    bool slash;                   /* the name was spelled with a leading
                                   * slash ("/x" for x): a new parameter
                                   * keeps that spelling in answers */
} lv_put_input;

typedef struct lv_put_result {
    uint32_t version;
    lv_tier tier;
} lv_put_result;

/* Builds the next state of the parameter region/name after a put.
 * cur may be NULL (new parameter). *out is a new parameter (caller owns). */
lv_err lv_plan_put(const lv_param *cur, const char *region, const char *name,
                   const lv_put_input *in, lv_seal_fn seal, void *seal_ctx,
                   lv_param **out, lv_put_result *res, lv_error *err);

typedef struct lv_label_result {
    uint32_t version;
    unsigned ninvalid;
    const char *invalid[10];  /* point into the request's labels */
    unsigned nremoved;        /* unlabel only */
    const char *removed[10];
    bool changed;
} lv_label_result;

/* Attaches labels to version (0 = latest), moving them from other versions. */
lv_err lv_plan_label(const lv_param *cur, uint32_t version,
                     const char *const *labels, unsigned nlabels,
                     lv_param **out, lv_label_result *res, lv_error *err);

/* Detaches labels from version. */
lv_err lv_plan_unlabel(const lv_param *cur, uint32_t version,
                       const char *const *labels, unsigned nlabels,
                       lv_param **out, lv_label_result *res, lv_error *err);

lv_err lv_plan_add_tags(const lv_param *cur, const lv_tag_in *tags,
                        unsigned ntags, lv_param **out, lv_error *err);
lv_err lv_plan_remove_tags(const lv_param *cur, const char *const *keys,
                           unsigned nkeys, lv_param **out, lv_error *err);

/* Checks a value against a DataType ("text", "aws:ec2:image",
 * "aws:ssm:integration"). */
lv_err lv_data_type_check(const char *data_type, const char *value,
                          size_t len, lv_error *err);

/* KeyId forms KMS accepts: key id, key ARN, alias name, alias ARN
 * (LV_E_INVALID_KEY_ID otherwise). There is no KMS behind them: every
 * well-formed KeyId names a key derived from the master key. */
lv_err lv_key_id_check(const char *key_id, lv_error *err);

/* Tag key/value rules (lengths and characters). */
lv_err lv_tag_check(const char *key, const char *value, lv_error *err);

#endif
