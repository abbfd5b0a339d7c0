/* fuzz_pattern.c - AllowedPattern compile and match on arbitrary input: no
 * crash, only the documented error codes, and the one-shot and two-step
 * APIs agree. Input: pattern, a NUL byte, subject (no NUL: all pattern). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pattern.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "fuzz_pattern: check failed: %s (line %d)\n", #c,  \
                    __LINE__);                                                 \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, '\0', size);
    size_t plen = nul ? (size_t)(nul - in) : size;
    const char *subj = nul ? nul + 1 : "";
    size_t slen = nul ? size - plen - 1 : 0;

    lv_pattern *p = NULL;
    lv_error err;
    lv_error_clear(&err);
    lv_err rc = lv_pattern_compile(in, plen, &p, &err);
    if (rc != LV_OK) {
        CHECK(rc == LV_E_INVALID_ALLOWED_PATTERN || rc == LV_E_NOMEM);
        CHECK(p == NULL && err.code == rc && err.msg[0] != '\0');
        CHECK(plen > 0); /* the empty pattern is valid */
        return 0;
    }
    CHECK(plen <= 1024);
    bool m1 = false, m2 = false;
    lv_err r1 = lv_pattern_match(p, subj, slen, &m1, &err);
    CHECK(r1 == LV_OK || r1 == LV_E_VALIDATION ||
          r1 == LV_E_INVALID_ALLOWED_PATTERN || r1 == LV_E_NOMEM);
    if (r1 != LV_OK)
        CHECK(!m1 && err.msg[0] != '\0');
    /* Matching is a pure function of (pattern, subject): a second run
     * agrees, unless the first ran into a limit. */
    if (r1 == LV_OK) {
        lv_err r2 = lv_pattern_match(p, subj, slen, &m2, &err);
        CHECK(r2 == LV_OK || r2 == LV_E_INVALID_ALLOWED_PATTERN);
        if (r2 == LV_OK)
            CHECK(m1 == m2);
    }
    /* A search with the empty pattern matches every valid subject. */
    if (plen == 0 && r1 == LV_OK)
        CHECK(m1);
    lv_pattern_free(p);

    /* The whole-value form (AllowedPattern) accepts the same patterns; a
     * whole-value match is also a search match. */
    lv_pattern *w = NULL;
    rc = lv_pattern_compile_whole(in, plen, &w, &err);
    CHECK(rc == LV_OK || rc == LV_E_NOMEM);
    if (rc != LV_OK)
        return 0;
    bool mw = false;
    lv_err rw = lv_pattern_match(w, subj, slen, &mw, &err);
    CHECK(rw == LV_OK || rw == LV_E_VALIDATION || rw == LV_E_INVALID_ALLOWED_PATTERN || rw == LV_E_NOMEM);
    if (rw == LV_OK && r1 == LV_OK && mw)
        CHECK(m1);
    /* the empty pattern matches the empty subject and nothing else */
    if (plen == 0 && rw == LV_OK)
        CHECK(mw == (slen == 0));
    lv_pattern_free(w);
    return 0;
}
