/* fuzz_flagdoc.c - feature flag document validation, compilation and
 * evaluation on arbitrary JSON: no crash, a rejection always says why,
 * an accepted document evaluates and serves every flag, twice alike. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/flagdoc.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "fuzz_flagdoc: check failed: %s (line %d)\n", #c,  \
                    __LINE__);                                                 \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    lv_flagdoc *d = NULL;
    lv_buf details = LV_BUF_INIT;
    lv_error err;
    lv_err rc = lv_flagdoc_parse((const char *)data, size, &d, &details, &err);
    if (rc != LV_OK) {
        CHECK(rc == LV_E_VALIDATION || rc == LV_E_NOMEM);
        CHECK(d == NULL);
        if (rc == LV_E_VALIDATION)
            CHECK(details.len > 0 && strncmp(err.msg, "Invalid feature flag document: ", 31) == 0);
        lv_buf_free(&details);
        return 0;
    }
    CHECK(details.len == 0);
    static const lv_flag_kv kv[] = {
        {"userId", "u-1", LV_FV_STRING}, {"email", "a@example.com", LV_FV_STRING},
        {"age", "42", LV_FV_NUMBER},     {"beta", "true", LV_FV_BOOL},
        {"x", "1", LV_FV_STRING},        {"signup", "2024-01-01T00:00:00Z", LV_FV_STRING},
    };
    lv_flag_context ctx = {kv, sizeof kv / sizeof kv[0], "entity-1"};
    for (size_t i = 0; i < lv_flagdoc_count(d); i++) {
        const char *key = lv_flagdoc_key(d, i);
        lv_flag_result a, b, n;
        lv_flagdoc_eval(d, key, &ctx, &a);
        lv_flagdoc_eval(d, key, &ctx, &b);
        CHECK(a.reason == b.reason && a.enabled == b.enabled && a.variant == b.variant);
        CHECK(a.reason != LV_FLAG_ERROR || strcmp(a.error_code, "GENERAL") == 0);
        CHECK((a.variant != NULL) == lv_flagdoc_has_variants(d, key));
        lv_flagdoc_eval(d, key, NULL, &n);
        CHECK(n.reason != LV_FLAG_TARGETING_MATCH && n.reason != LV_FLAG_SPLIT);
    }
    json_t *s1 = lv_flagdoc_serve(d, &ctx, NULL, 0);
    json_t *s2 = lv_flagdoc_serve(d, NULL, NULL, 0);
    if (s1 && s2)
        CHECK(json_object_size(s1) == lv_flagdoc_count(d) && json_object_size(s2) == lv_flagdoc_count(d));
    json_decref(s1);
    json_decref(s2);
    lv_flagdoc_free(d);
    return 0;
}
