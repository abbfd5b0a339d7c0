/* flagdoc.h - AWS.AppConfig.FeatureFlags documents (docs/flags.md): their
 * validation with AWS's rules and limits, the simplified form AppConfig
 * Data serves, and the evaluation of one flag for a context (variant
 * rules, core/flagrule.h). Shared by leverd, lever-agent, liblever and the
 * CLI. A compiled document is immutable: evaluations from several threads
 * at once are safe. */
#ifndef LV_JSON_FLAGDOC_H
#define LV_JSON_FLAGDOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/flagrule.h" /* lv_flag_context, lv_flag_kv */

/* Limits of AWS's schema. */
enum {
    LV_FLAGDOC_MAX_ATTRIBUTES = 25,   /* per flag, and per value / variant */
    LV_FLAGDOC_MAX_VARIANTS = 32,     /* per flag */
    LV_FLAGDOC_MAX_ENUM = 100,        /* values of a string enum */
    LV_FLAGDOC_MAX_STRING = 1024,     /* attribute values, descriptions, patterns */
    LV_FLAGDOC_MAX_NAME = 64,         /* flag and variant names (characters) */
    LV_FLAGDOC_MAX_DETAILS = 20,      /* violations listed before "... and N more" */
};

typedef struct lv_flagdoc lv_flagdoc;

/* Validates doc against the AWS.AppConfig.FeatureFlags rules. On failure
 * returns LV_E_VALIDATION with err->msg "Invalid feature flag document:
 * <first violation>" and appends to details (may be NULL) one line per
 * violation, "<JSON pointer>: <reason>\n", for example
 * "/values/ui_refresh/_variants/0/rule: position 5: unknown operator \"eqq\"".
 * The pointer names the offending flag. LV_E_NOMEM on allocation failure. */
lv_err lv_flagdoc_validate(const json_t *doc, lv_buf *details, lv_error *err);

/* Validates and compiles doc (which the compiled form copies: the caller
 * keeps its reference). Errors as lv_flagdoc_validate. Free with
 * lv_flagdoc_free. */
lv_err lv_flagdoc_compile(const json_t *doc, lv_flagdoc **out, lv_buf *details,
                          lv_error *err);

/* The same from JSON text (duplicate keys are an error, as two flags with
 * one key are). */
lv_err lv_flagdoc_parse(const char *text, size_t len, lv_flagdoc **out,
                        lv_buf *details, lv_error *err);

void lv_flagdoc_free(lv_flagdoc *d);

/* Flags in document order. */
size_t lv_flagdoc_count(const lv_flagdoc *d);
const char *lv_flagdoc_key(const lv_flagdoc *d, size_t i);
bool lv_flagdoc_has_variants(const lv_flagdoc *d, const char *flag);

/* OpenFeature's resolution reasons. */
typedef enum lv_flag_reason {
    LV_FLAG_STATIC,          /* no variants, enabled */
    LV_FLAG_DISABLED,        /* no variants, disabled */
    LV_FLAG_TARGETING_MATCH, /* a variant's rule matched */
    LV_FLAG_SPLIT,           /* ... and a split operator decided it */
    LV_FLAG_DEFAULT,         /* no rule matched: the default variant */
    LV_FLAG_ERROR,           /* see error_code */
} lv_flag_reason;

/* "STATIC", "DISABLED", "TARGETING_MATCH", "SPLIT", "DEFAULT", "ERROR". */
const char *lv_flag_reason_name(lv_flag_reason r);

typedef struct lv_flag_result {
    lv_flag_reason reason;
    bool enabled;
    /* The chosen variant's name; NULL for a flag without variants.
     * Borrowed from the compiled document. */
    const char *variant;
    /* The attribute values (an object, never with "enabled"); borrowed
     * from the compiled document, NULL when there are none. Present even
     * when the flag is disabled (the served form then omits them). */
    const json_t *attributes;
    /* With LV_FLAG_ERROR: OpenFeature's "FLAG_NOT_FOUND" or "GENERAL"
     * (a rule that could not run); then enabled/attributes are the
     * default variant's (or false/NULL for an unknown flag). */
    const char *error_code;
    /* The served object (lv_flag_result_value) as compact JSON text,
     * without and with "_variant"; borrowed from the compiled document. */
    const char *text, *text_v;
    /* The end of its OFREP evaluation object, after "key", "value" and
     * "reason": ["variant":"name",]"metadata":{...}} (borrowed). */
    const char *ofrep;
} lv_flag_result;

/* Evaluates one flag. ctx NULL means "no evaluation": a multi-variant flag
 * answers its default variant (reason DEFAULT), as AppConfig Data does.
 * Variants are tried in order; the first whose rule is true wins; split
 * operators without seed:: use the seed "flag:<flag key>". */
void lv_flagdoc_eval(const lv_flagdoc *d, const char *flag,
                     const lv_flag_context *ctx, lv_flag_result *out);

/* The served object of a result: {"enabled": b, attributes...} with the
 * attributes only when enabled, and "_variant": name when with_variant
 * and the flag has variants (the agent's form). New reference; NULL on
 * allocation failure. */
json_t *lv_flag_result_value(const lv_flag_result *r, bool with_variant);

/* The simplified document {flag: served object, ...}. With ctx NULL, the
 * form AppConfig Data serves (default variants, no "_variant"); with a
 * context, the agent's form (variants evaluated, "_variant" on
 * multi-variant flags). flags/nflags select flags (?flag=...; unknown
 * ones are left out); NULL selects every flag. New reference; NULL on
 * allocation failure. */
json_t *lv_flagdoc_serve(const lv_flagdoc *d, const lv_flag_context *ctx,
                         const char *const *flags, size_t nflags);

/* lv_flagdoc_serve written as compact JSON text (the same bytes as
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) of it) onto out, from
 * texts made when the document was compiled. */
lv_err lv_flagdoc_serve_text(const lv_flagdoc *d, const lv_flag_context *ctx, const char *const *flags,
                             size_t nflags, lv_buf *out);

/* Convenience: compile doc and serve every flag. NULL when doc is not a
 * valid feature flag document (or on allocation failure). */
json_t *lv_flagdoc_simplify(const json_t *doc, const lv_flag_context *ctx);

#endif
