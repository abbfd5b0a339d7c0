/* flagrule_int.h - the parsed form of a flag rule, shared by the parser
 * (flagrule.c) and the evaluator (flagrule_eval.c). Private to core. */
#ifndef LV_CORE_FLAGRULE_INT_H
#define LV_CORE_FLAGRULE_INT_H

#include "core/flagrule.h"
#include "core/pattern.h"

typedef enum fr_kind {
    FR_BOOL,
    FR_INT,
    FR_FLOAT,
    FR_STRING,
    FR_TIME,
    FR_CTX,  /* $key: str = the key */
    FR_LIST, /* children: literal elements */
    FR_OP,   /* children: operands */
} fr_kind;

typedef enum fr_op {
    OP_AND,
    OP_OR,
    OP_NOT,
    OP_EQ,
    OP_NEQ,
    OP_GT,
    OP_GTE,
    OP_LT,
    OP_LTE,
    OP_BEGINS_WITH,
    OP_ENDS_WITH,
    OP_CONTAINS,
    OP_IN,
    OP_MATCHES, /* child: the in:: operand; pattern = the compiled pattern:: */
    OP_EXISTS,  /* str = the key:: */
    OP_SPLIT,   /* split_bp; str = by:: key (or none); seed = seed:: (or none) */
} fr_op;

enum { FR_NONE = UINT32_MAX };

typedef struct fr_node {
    uint8_t kind;
    uint8_t op;
    uint32_t first; /* first child, or FR_NONE */
    uint32_t next;  /* next sibling, or FR_NONE */
    uint32_t nkids;
    uint32_t pos;   /* byte offset in the rule, for messages */
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            int64_t sec;
            int32_t nsec;
        } t;
    } v;
    uint32_t str, str_len;   /* offset/length in the string pool, FR_NONE if none */
    uint32_t seed, seed_len; /* split's seed:: in the pool, FR_NONE if none */
    uint32_t split_bp;       /* split's threshold in basis points */
    lv_pattern *pattern;     /* matches only; owned */
} fr_node;

struct lv_flagrule {
    fr_node *nodes;
    uint32_t n, cap;
    uint32_t root;
    char *pool; /* NUL-separated strings */
    size_t pool_len, pool_cap;
    bool has_split;
};

/* Shared scalar parsers (flagrule_eval.c). A number is
 * -?digits[.digits*][(e|E)[+-]digits]; *is_int when it has neither a
 * fraction nor an exponent and fits in int64. Locale-independent. */
bool lv_fr_parse_number(const char *s, size_t len, bool *is_int, int64_t *i,
                        double *f);

#endif

