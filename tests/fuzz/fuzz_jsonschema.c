/* fuzz_jsonschema.c - JSON Schema compile and validate on arbitrary input:
 * a JSON array [schema, document, document...]. Checks that compile either
 * succeeds or refuses with LV_E_VALIDATION, that validation answers the
 * same with and without details, and that details exist iff it refuses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/jsonschema.h"

#define CHECK(c)                                                                \
    do {                                                                        \
        if (!(c)) {                                                             \
            fprintf(stderr, "fuzz_jsonschema: check failed: %s (line %d)\n", #c, \
                    __LINE__);                                                  \
            abort();                                                            \
        }                                                                       \
    } while (0)

static void count_cb(void *ud, const char *pointer, const char *keyword, const char *reason)
{
    size_t *n = ud;
    CHECK(pointer != NULL && keyword != NULL && reason != NULL && *reason != '\0');
    CHECK(*pointer == '\0' || *pointer == '/');
    (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    json_error_t jerr;
    json_t *in = json_loadb((const char *)data, size, 0, &jerr);
    if (!json_is_array(in) || json_array_size(in) == 0) {
        json_decref(in);
        return 0;
    }
    lv_jsonschema *s = NULL;
    lv_error err = {0};
    lv_err rc = lv_jsonschema_compile(json_array_get(in, 0), &s, &err);
    if (rc != LV_OK) {
        CHECK(s == NULL);
        CHECK(rc == LV_E_VALIDATION || rc == LV_E_NOMEM);
        CHECK(err.msg[0] != '\0');
        json_decref(in);
        return 0;
    }
    for (size_t i = 1; i < json_array_size(in) && i < 16; i++) {
        const json_t *doc = json_array_get(in, i);
        lv_buf details = LV_BUF_INIT;
        bool ok = lv_jsonschema_validate(s, doc, &details);
        CHECK(ok == (details.len == 0));
        CHECK(lv_jsonschema_validate(s, doc, NULL) == ok);
        size_t calls = 0, count = 0;
        CHECK(lv_jsonschema_validate_each(s, doc, count_cb, &calls, &count) == ok);
        CHECK(calls <= LV_JSONSCHEMA_MAX_VIOLATIONS && calls <= count);
        CHECK(ok == (count == 0));
        lv_buf_free(&details);
    }
    lv_jsonschema_free(s);
    json_decref(in);
    return 0;
}
