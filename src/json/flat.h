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

/* A new reference, or NULL: not the simple shape (or out of memory). */
json_t *lv_json_flat_load(const char *s, size_t len);

/* lv_json_flat_load, else json_loadb(s, len, JSON_REJECT_DUPLICATES, je). */
json_t *lv_json_load_request(const char *s, size_t len, json_error_t *je);

#endif
