/* flagrule.h - AWS AppConfig's multi-variant flag rule language (docs/flags.md):
 * a parser with bounded size and depth, and an evaluator over a request
 * context (key/value pairs and an entity id). Pure: no I/O, no JSON. */
#ifndef LV_CORE_FLAGRULE_H
#define LV_CORE_FLAGRULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Bounds of one rule: AWS's 16384-character limit, nesting depth, nodes
 * (operators, operands and list elements), and regular expressions. */
enum {
    LV_FLAGRULE_MAX_LEN = 16384,
    LV_FLAGRULE_MAX_DEPTH = 32,
    LV_FLAGRULE_MAX_NODES = 2048,
    LV_FLAGRULE_MAX_PATTERNS = 16,
};

/* How a context value was given. Values always travel as text; NUMBER and
 * BOOL say that the text is a JSON number or true/false (OFREP, liblever),
 * STRING that it is arbitrary text (AppConfig's Context: k=v headers). */
typedef enum lv_flag_vtype {
    LV_FV_STRING = 0,
    LV_FV_NUMBER,
    LV_FV_BOOL,
} lv_flag_vtype;

typedef struct lv_flag_kv {
    const char *key;   /* NUL-terminated, borrowed */
    const char *value; /* NUL-terminated, borrowed */
    lv_flag_vtype type;
} lv_flag_kv;

/* The context a flag is evaluated for. Everything is borrowed; keys are
 * matched exactly (case-sensitive); when a key repeats, the first wins. */
typedef struct lv_flag_context {
    const lv_flag_kv *kv;
    size_t n;
    const char *entity_id; /* NULL: no entity (split without by:: is false) */
} lv_flag_context;

/* The value of key in ctx, or NULL. */
const lv_flag_kv *lv_flag_context_get(const lv_flag_context *ctx, const char *key);

typedef struct lv_flagrule lv_flagrule;

/* Parses a rule. Errors are LV_E_VALIDATION (or LV_E_NOMEM) with a message
 * that starts with "position N:" (1-based byte offset into text). *out is
 * freed with lv_flagrule_free. */
lv_err lv_flagrule_parse(const char *text, size_t len, lv_flagrule **out,
                         lv_error *err);

void lv_flagrule_free(lv_flagrule *r);

/* true when the rule contains a split operator. */
bool lv_flagrule_has_split(const lv_flagrule *r);

/* Buckets computed during one evaluation are remembered here, so variants
 * that split on the same value and seed hash it once. Zero-initialise one
 * per flag evaluation (LV_FLAGRULE_MEMO_INIT). */
typedef struct lv_flagrule_memo {
    unsigned n;
    struct {
        const char *seed, *value;
        size_t seed_len, value_len;
        uint32_t bucket;
    } e[4];
} lv_flagrule_memo;

#define LV_FLAGRULE_MEMO_INIT {0}

/* Evaluates r for ctx. default_seed is the seed of split operators without
 * seed:: (lever uses "flag:<flag key>"). *match is the rule's result;
 * *split_hit (may be NULL) tells whether a split operator evaluated true
 * on the way (the OpenFeature reason SPLIT). memo may be NULL. Errors (a
 * regular expression that ran into its limits) are LV_E_VALIDATION with a
 * message; *match is then false. */
lv_err lv_flagrule_eval(const lv_flagrule *r, const lv_flag_context *ctx,
                        const char *default_seed, lv_flagrule_memo *memo,
                        bool *match, bool *split_hit, lv_error *err);

/* W3C date/time (NOTE-datetime: YYYY, YYYY-MM, YYYY-MM-DD, and with
 * Thh:mm[:ss[.s+]] a zone Z or +-hh:mm; Ion's trailing-T forms too) as
 * seconds since the epoch (UTC) plus nanoseconds. false when s is not one. */
bool lv_flagrule_parse_time(const char *s, size_t len, int64_t *sec, int32_t *nsec);

#endif
