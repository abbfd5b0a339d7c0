/* fuzz_flatjson.c - the flat-body fast path (src/json/flat.c) against
 * jansson: whenever the fast path answers, jansson must parse the same
 * bytes (with JSON_REJECT_DUPLICATES) to an equal object. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "json/flat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    json_t *fast = lv_json_flat_load(s, size);
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
