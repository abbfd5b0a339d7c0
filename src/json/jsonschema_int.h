/* jsonschema_int.h - private to src/json/jsonschema*.c: the compiled form of
 * a draft-4 schema, shared by the compiler, the validator, formats and the
 * regular-expression glue. */
#ifndef LV_JSON_JSONSCHEMA_INT_H
#define LV_JSON_JSONSCHEMA_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "json/jsonschema.h"

/* Type bits of the "type" keyword. */
enum {
    JS_T_NULL = 1u << 0,
    JS_T_BOOLEAN = 1u << 1,
    JS_T_OBJECT = 1u << 2,
    JS_T_ARRAY = 1u << 3,
    JS_T_NUMBER = 1u << 4,
    JS_T_STRING = 1u << 5,
    JS_T_INTEGER = 1u << 6,
};

typedef enum js_format {
    JS_F_NONE = 0,
    JS_F_DATE_TIME,
    JS_F_EMAIL,
    JS_F_HOSTNAME,
    JS_F_IPV4,
    JS_F_IPV6,
    JS_F_URI,
    JS_F_REGEX,
} js_format;

typedef struct js_regex js_regex;
typedef struct js_node js_node;

struct js_prop {
    const char *key;      /* borrowed from the schema copy */
    js_node *node;
};

struct js_pattern_prop {
    js_regex *re;
    const char *source;
    js_node *node;
};

struct js_dep {
    const char *key;
    js_node *node;        /* schema dependency, or NULL */
    const json_t *names;  /* property dependency (array of strings), or NULL */
};

struct js_node {
    const json_t *json;   /* the schema object, borrowed from the owner's copy */
    char *base;           /* its base URI (owned) */
    /* $ref: every other keyword is ignored */
    char *ref_uri;        /* resolved absolute reference (owned), or NULL */
    js_node *ref;         /* its target, set when refs are linked */

    unsigned types;       /* 0: any */
    const json_t *enum_vals;

    const json_t *minimum, *maximum, *multiple_of;
    bool excl_min, excl_max;

    int64_t min_len, max_len;     /* -1: none */
    js_regex *pattern;
    const char *pattern_src;
    js_format format;

    bool items_tuple;             /* items is an array of schemas */
    js_node *items;               /* items as one schema */
    js_node **items_arr;
    size_t n_items;
    bool additional_items_false;
    js_node *additional_items;
    int64_t min_items, max_items;
    bool unique_items;

    int64_t min_props, max_props;
    const json_t *required;
    struct js_prop *props;
    size_t n_props;
    struct js_pattern_prop *pprops;
    size_t n_pprops;
    bool additional_props_false;
    js_node *additional_props;
    struct js_dep *deps;
    size_t n_deps;

    js_node **all_of, **any_of, **one_of;
    size_t n_all_of, n_any_of, n_one_of;
    js_node *not_;

    js_node *next_alloc;  /* the owner's list of every node */
};

/* An id or a document root, for $ref lookup. */
struct js_resource {
    char *uri;            /* absolute URI without fragment, or with "#name" */
    js_node *node;
};

struct lv_jsonschema {
    json_t *doc;          /* the caller's schema, deep-copied */
    json_t *meta;         /* the built-in meta-schema, once referenced */
    js_node *root;
    js_node *nodes;       /* every node, for freeing */
    size_t n_nodes;
    struct js_resource *res;
    size_t n_res, cap_res;
    /* compiled json_t -> node, so each schema object is compiled once */
    const json_t **seen_json;
    js_node **seen_node;
    size_t n_seen, cap_seen;
};

/* jsonschema_regex.c: ECMA-262 regular expressions on PCRE2. */
lv_err js_regex_compile(const char *src, size_t len, js_regex **out, char *why, size_t why_len);
/* 1 matched, 0 not, -1 could not be evaluated within the match limits. */
int js_regex_search(const js_regex *re, const char *s, size_t len);
void js_regex_free(js_regex *re);

/* jsonschema_format.c: true when s (UTF-8, len bytes) has format f. */
bool js_format_check(js_format f, const char *s, size_t len);
js_format js_format_lookup(const char *name);
const char *js_format_name(js_format f);

/* jsonschema_uri.c: resolves ref against base (RFC 3986 section 5).
 * Returns a malloc'd string or NULL when out of memory. */
char *js_uri_resolve(const char *base, const char *ref);
/* Whether uri has a scheme ("http:", "urn:", ...). */
bool js_uri_is_absolute(const char *uri);

/* jsonschema_meta.c: the draft-04 meta-schema's text and URI. */
extern const char js_meta_schema_text[];
#define JS_META_SCHEMA_URI "http://json-schema.org/draft-04/schema"

/* jsonschema_validate.c: JSON equality where 1 and 1.0 are equal. */
bool js_json_equal(const json_t *a, const json_t *b);
/* Compare two JSON numbers: <0, 0, >0. */
int js_num_cmp(const json_t *a, const json_t *b);

#endif
