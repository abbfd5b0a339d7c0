/* fuzz_render.c - libFuzzer target: `lever render`'s placeholder template
 * parser and metadata.yaml parameters: parser on arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int resolve(void *user, bool secure, const char *name, const char *version, lv_buf *out,
                   char *err, size_t errlen)
{
    (void)user;
    /* names and versions handed out are non-empty and made of the allowed characters */
    if (name[0] == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/") !=
                               strlen(name))
        __builtin_trap();
    if (version && version[0] == '\0')
        __builtin_trap();
    if (strcmp(name, "/fail") == 0) {
        snprintf(err, errlen, "refused");
        return -1;
    }
    return lv_buf_puts(out, secure ? "S" : "V") == LV_OK ? 0 : -1;
}

static int entry(void *user, const char *key, const char *path, int line, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    if (key[0] == '\0' || path[0] == '\0' || line < 1)
        __builtin_trap();
    (*(int *)user)++;
    lv_buf b = LV_BUF_INIT;
    lv_error e = {0};
    if (lv_render_expand_env(path, "prod", &b, &e) == LV_OK && strstr(b.data, "{Environment}"))
        __builtin_trap();
    lv_buf_free(&b);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lv_buf out = LV_BUF_INIT;
    lv_error err = {0};
    lv_err rc = lv_render_template((const char *)data, size, "t", resolve, NULL, &out, &err);
    /* without any placeholder the output is the input, byte for byte */
    if (rc == LV_OK && memmem(data, size, "{{resolve:", 10) == NULL &&
        (out.len != size || (size && memcmp(out.data, data, size) != 0)))
        __builtin_trap();
    if (rc != LV_OK && strncmp(err.msg, "t:", 2) != 0)
        __builtin_trap();
    lv_buf_free(&out);
    int n = 0;
    rc = lv_render_parse_metadata((const char *)data, size, "m", entry, &n, &err);
    if (rc != LV_OK && strncmp(err.msg, "m", 1) != 0)
        __builtin_trap();
    return 0;
}
