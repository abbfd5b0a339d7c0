/* fuzz_policy.c - the Policies document parser and the policy set rules
 * on arbitrary input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/policy_json.h"
#include "core/policy.h"

#define CHECK(c)                                                                \
    do {                                                                        \
        if (!(c)) {                                                             \
            fprintf(stderr, "fuzz_policy: check failed: %s (line %d)\n", #c,    \
                    __LINE__);                                                  \
            abort();                                                            \
        }                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = calloc(size ? size : 1, 1);
    if (text == NULL)
        return 0;
    if (size)
        memcpy(text, data, size);
    lv_policy_set s;
    lv_error err;
    lv_err rc = lv_policy_parse(text, size, &s, &err);
    if (rc == LV_OK) {
        CHECK(s.n <= LV_MAX_POLICIES);
        for (unsigned i = 0; i < s.n; i++) {
            CHECK((unsigned)s.p[i].type <= LV_POLICY_NO_CHANGE_NOTIFICATION);
            if (s.p[i].type != LV_POLICY_EXPIRATION)
                CHECK(s.p[i].amount_ms > 0);
        }
        const int64_t nows[] = {0, 1767323045000LL, INT64_MAX / 2};
        for (size_t k = 0; k < sizeof nows / sizeof *nows; k++) {
            lv_err c = lv_policy_set_check(&s, nows[k], &err);
            CHECK(c == LV_OK || c == LV_E_INCOMPATIBLE_POLICY ||
                  c == LV_E_INVALID_POLICY_ATTRIBUTE);
            if (c == LV_OK)
                for (unsigned i = 0; i < s.n; i++)
                    (void)lv_policy_due(&s, i, nows[k]);
        }
    } else {
        CHECK(rc == LV_E_INVALID_POLICY_TYPE || rc == LV_E_INVALID_POLICY_ATTRIBUTE ||
              rc == LV_E_POLICIES_LIMIT);
    }
    /* The input as a timestamp. */
    char *z = malloc(size + 1);
    if (z != NULL) {
        if (size)
            memcpy(z, data, size);
        z[size] = '\0';
        int64_t ms;
        (void)lv_parse_iso8601(z, &ms);
        free(z);
    }
    free(text);
    return 0;
}
