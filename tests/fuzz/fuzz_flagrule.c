/* fuzz_flagrule.c - the flag rule parser and evaluator on arbitrary input:
 * no crash, errors carry a position, evaluation is a pure function of the
 * rule and the context. Input: the rule, then optionally a NUL byte and a
 * context of "key=value" lines (a line "@ID" sets the entity id). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/flagrule.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "fuzz_flagrule: check failed: %s (line %d)\n", #c, \
                    __LINE__);                                                 \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_KV = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, '\0', size);
    size_t rlen = nul ? (size_t)(nul - in) : size;

    lv_flagrule *r = NULL;
    lv_error err;
    lv_err rc = lv_flagrule_parse(in, rlen, &r, &err);
    if (rc != LV_OK) {
        CHECK(rc == LV_E_VALIDATION || rc == LV_E_NOMEM);
        CHECK(r == NULL);
        if (rc == LV_E_VALIDATION)
            CHECK(strncmp(err.msg, "position ", 9) == 0);
        return 0;
    }
    CHECK(r != NULL && rlen <= LV_FLAGRULE_MAX_LEN);

    /* The context: a private NUL-terminated copy split into lines. */
    size_t clen = nul ? size - rlen - 1 : 0;
    char *copy = malloc(clen + 1);
    if (copy == NULL) {
        lv_flagrule_free(r);
        return 0;
    }
    if (clen)
        memcpy(copy, nul + 1, clen);
    copy[clen] = '\0';
    lv_flag_kv kv[MAX_KV];
    lv_flag_context ctx = {kv, 0, NULL};
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line && ctx.n < MAX_KV;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '@') {
            ctx.entity_id = line + 1;
            continue;
        }
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        lv_flag_vtype t = LV_FV_STRING;
        if (line[0] == '#')
            t = LV_FV_NUMBER;
        else if (line[0] == '?')
            t = LV_FV_BOOL;
        kv[ctx.n++] = (lv_flag_kv){t == LV_FV_STRING ? line : line + 1, eq + 1, t};
    }

    bool m1 = false, m2 = false, s1 = false, s2 = false;
    lv_flagrule_memo memo = LV_FLAGRULE_MEMO_INIT;
    lv_err e1 = lv_flagrule_eval(r, &ctx, "flag:fuzz", &memo, &m1, &s1, &err);
    lv_err e2 = lv_flagrule_eval(r, &ctx, "flag:fuzz", NULL, &m2, &s2, &err);
    CHECK(e1 == e2);
    if (e1 == LV_OK)
        CHECK(m1 == m2 && s1 == s2);
    else
        CHECK(!m1 && !m2);
    if (s1)
        CHECK(m1 && lv_flagrule_has_split(r));
    /* No context at all must work too. */
    bool m3;
    (void)lv_flagrule_eval(r, NULL, NULL, NULL, &m3, NULL, &err);
    lv_flagrule_free(r);
    free(copy);
    return 0;
}
