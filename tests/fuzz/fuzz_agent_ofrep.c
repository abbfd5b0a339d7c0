/* fuzz_agent_ofrep.c - libFuzzer target: OFREP request bodies (the
 * evaluation context) and the answer builder over arbitrary flag
 * documents. The first byte picks which. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/acint.h"
#include "agent/acofrep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    lvac_ofrep_ctx *c = malloc(sizeof *c);
    if (c == NULL)
        return 0;
    char err[256] = "";
    bool invalid;
    if (data[0] & 1) {
        int rc = lvac_parse_ofrep(p, n, c, &invalid, err, sizeof err);
        if (rc == 0) {
            if (c->kv.n > LVAC_MAX_CTX || strlen(c->entity) > LVAC_ENTITY_MAX)
                __builtin_trap();
            for (size_t i = 0; i < c->kv.n; i++)
                if (lvac_ctx_key(&c->kv, i)[0] == '\0' || c->type[i] > LVAC_V_BOOL ||
                    strcmp(lvac_ctx_key(&c->kv, i), "targetingKey") == 0)
                    __builtin_trap();
        } else if (err[0] == '\0' || c->kv.n != 0) {
            __builtin_trap();
        }
        lvac_context_free(&c->kv);
    } else {
        memset(c, 0, sizeof *c);
        lvac_context_init(&c->kv);
        lv_buf out = LV_BUF_INIT;
        int status = 0;
        char etag[80];
        const char *key = (data[0] & 2) ? "a" : NULL;
        /* the simplified form, and the stored form compiled as the agent does */
        lv_flagdoc *fd = NULL;
        char *plain = NULL;
        size_t plain_len = 0;
        if ((data[0] & 4) && lvac_flags_compile(p, n, "entity-1", &fd, &plain, &plain_len) == 0 &&
            (plain == NULL || strlen(plain) != plain_len))
            __builtin_trap();
        if (fd != NULL && key != NULL) {
            /* the text path writes the bytes the tree path would */
            lv_buf text = LV_BUF_INIT;
            json_t *tree = NULL;
            int st = 0;
            if (lvac_flags_ofrep_text(fd, key, c->type, &c->kv, NULL, &text) == 1) {
                char *dumped = NULL;
                if (lvac_flags_ofrep(fd, key, c->type, &c->kv, NULL, &tree, &st) == 0)
                    dumped = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (dumped != NULL && strcmp(dumped, text.data) != 0)
                    __builtin_trap();
                free(dumped);
                json_decref(tree);
            }
            lv_buf_free(&text);
        }
        if (lvac_ofrep_answer(fd, p, n, key, c, "\"x\"", &out, &status, etag, sizeof etag) == 0 &&
            status != 200 && status != 304 && status != 400 && status != 404)
            __builtin_trap();
        lv_flagdoc_free(fd);
        free(plain);
        lv_buf_free(&out);
    }
    free(c);
    return 0;
}
