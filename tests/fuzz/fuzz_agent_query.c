/* fuzz_agent_query.c - libFuzzer target: lever-agent's query-string parser on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "agent/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lva_query q;
    char err[256];
    int rc = lva_query_parse((const char *)data, size, &q, err, sizeof err);
    if (rc == 0) {
        /* success: a non-empty name without control bytes, a selector that
         * starts with it, and never both a version and a label */
        if (q.name == NULL || q.name[0] == '\0' || q.selector == NULL ||
            strncmp(q.selector, q.name, strlen(q.name)) != 0 || (q.version != 0 && q.label != NULL) ||
            q.version < 0 || strlen(q.name) > LVA_NAME_MAX)
            __builtin_trap();
        for (const char *c = q.name; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                __builtin_trap();
        if ((q.version || q.label) && !q.selected)
            __builtin_trap();
        lva_query_free(&q);
    } else {
        /* failure: an explanation and nothing left allocated */
        if (rc != -1 || err[0] == '\0' || q.name != NULL || q.selector != NULL || q.label != NULL)
            __builtin_trap();
    }
    return 0;
}
