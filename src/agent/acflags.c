/* acflags.c - the feature-flag side of the AppConfig Agent API: ?flag=KEY
 * keeps only the named flags of a feature-flag profile's (simplified)
 * document, as AWS's agent does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/acint.h"

int lvac_flags_answer(const char *doc, size_t len, bool stored, const lvac_flags *flags,
                      const lvac_context *ctx, const char *entity, lv_buf *out, int *status, char *err,
                      size_t errlen)
{
    (void)ctx;
    (void)entity;
    (void)stored;
    json_error_t je;
    json_t *root = json_loadb(doc ? doc : "", len, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        *status = 400;
        snprintf(err, errlen, "?flag= applies to feature flag profiles (this configuration is not a JSON object)");
        return -1;
    }
    json_t *sel = root;
    if (flags->n > 0) {
        sel = json_object();
        for (size_t i = 0; sel && i < flags->n; i++) {
            json_t *v = json_object_get(root, flags->keys[i]);
            if (v && json_object_set(sel, flags->keys[i], v) != 0) {
                json_decref(sel);
                sel = NULL;
            }
        }
    }
    char *text = sel ? json_dumps(sel, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (sel != root)
        json_decref(sel);
    json_decref(root);
    if (text == NULL || lv_buf_puts(out, text) != LV_OK) {
        free(text);
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    free(text);
    return 0;
}
