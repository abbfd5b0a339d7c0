/* fuzz_ini.c - libFuzzer target: the shared-credentials INI parser on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "auth/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, const char *profile)
{
    lv_credentials c;
    lv_error err = {0};
    lv_err rc = lv_keys_parse_ini((const char *)data, size, profile, &c, &err);
    /* Whatever the input, the result is a set of terminated, bounded
     * strings, and success means both keys are present. */
    if (memchr(c.access_key_id, '\0', sizeof c.access_key_id) == NULL ||
        memchr(c.secret_access_key, '\0', sizeof c.secret_access_key) == NULL ||
        memchr(c.session_token, '\0', sizeof c.session_token) == NULL ||
        memchr(err.msg, '\0', sizeof err.msg) == NULL)
        __builtin_trap();
    if (rc == LV_OK && (c.access_key_id[0] == '\0' || c.secret_access_key[0] == '\0'))
        __builtin_trap();
    if (rc != LV_OK && (rc != LV_E_VALIDATION || c.access_key_id[0] != '\0'))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, "default");
    check(data, size, "prod");
    return 0;
}
