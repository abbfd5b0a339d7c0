/* flat.h - a fast path for the small request bodies most SSM calls send
 * ({"Name":"/a/b","WithDecryption":true}): one flat object whose values
 * are plain strings, booleans or small integers is built into a jansson
 * object directly, without jansson's general tokenizer. Anything else
 * (escapes, non-ASCII, nesting, floats, null, duplicate keys, oddities)
 * answers NULL and the caller parses with json_loadb, so the result is
 * always what json_loadb(JSON_REJECT_DUPLICATES) would give.
 * Untrusted input; tests/fuzz/fuzz_flatjson.c checks it against jansson. */
#ifndef LV_JSON_FLAT_H
#define LV_JSON_FLAT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { LV_FLAT_STRING, LV_FLAT_TRUE, LV_FLAT_FALSE, LV_FLAT_INT } lv_flat_kind;

/* One member of a flat object, pointing into the body: key and string
 * contents need no unescaping (plain printable ASCII). */
typedef struct lv_flat_field {
    const char *key;
    size_t key_len;
    lv_flat_kind kind;
    const char *str; /* LV_FLAT_STRING */
    size_t str_len;
    int64_t num;     /* LV_FLAT_INT */
} lv_flat_field;

enum { LV_FLAT_MAX_FIELDS = 16 };

/* The members of the simple shape, in order, without allocating: their
 * count (at most max), or -1 when the body is not that shape or has more
 * than max members. What json_loadb would make of the same body has the
 * same members with the same values. */
int lv_json_flat_fields(const char *s, size_t len, lv_flat_field *f, int max);

/* A new reference, or NULL: not the simple shape (or out of memory). */
json_t *lv_json_flat_load(const char *s, size_t len);

/* lv_json_flat_load, else json_loadb(s, len, JSON_REJECT_DUPLICATES, je). */
json_t *lv_json_load_request(const char *s, size_t len, json_error_t *je);

#endif
