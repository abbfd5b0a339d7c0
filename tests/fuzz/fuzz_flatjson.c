/* fuzz_flatjson.c - the flat-body fast path (src/json/flat.c) against
 * jansson: whenever the fast path answers, jansson must parse the same
 * bytes (with JSON_REJECT_DUPLICATES) to an equal object; and the field
 * reader with room for two members (as GetParameter uses it) answers
 * exactly when that object has at most two members, with their values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#include "json/flat.h"

static void fail(const char *what, const char *s, size_t size)
{
    fprintf(stderr, "fuzz_flatjson: %s on %.*s\n", what, (int)size, s);
    abort();
}

/* The two-member reader against the object the fast path built. */
static void check_fields(const char *s, size_t size, json_t *fast)
{
    lv_flat_field f[2];
    int n = lv_json_flat_fields(s, size, f, 2);
    size_t want = fast ? json_object_size(fast) : 0;
    if (fast == NULL || want > 2) {
        if (n >= 0)
            fail("the field reader took a body the fast path refused or one with more members", s, size);
        return;
    }
    if (n != (int)want)
        fail("the field reader counted other members", s, size);
    for (int k = 0; k < n; k++) {
        json_t *v = json_object_getn(fast, f[k].key, f[k].key_len);
        bool same = v != NULL &&
                    (f[k].kind == LV_FLAT_STRING ? json_is_string(v) && json_string_length(v) == f[k].str_len &&
                                                       memcmp(json_string_value(v), f[k].str, f[k].str_len) == 0
                     : f[k].kind == LV_FLAT_TRUE  ? json_is_true(v)
                     : f[k].kind == LV_FLAT_FALSE ? json_is_false(v)
                                                  : json_is_integer(v) && json_integer_value(v) == f[k].num);
        if (!same)
            fail("the field reader and the object disagree on a member", s, size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    json_t *fast = lv_json_flat_load(s, size);
    check_fields(s, size, fast);
    if (fast == NULL)
        return 0;
    json_error_t je;
    json_t *ref = json_loadb(s, size, JSON_REJECT_DUPLICATES, &je);
    if (ref == NULL || !json_equal(fast, ref)) {
        fprintf(stderr, "fuzz_flatjson: fast path and jansson disagree on %.*s (%s)\n", (int)size, s,
                ref ? "different values" : je.text);
        abort();
    }
    json_decref(fast);
    json_decref(ref);
    return 0;
}
