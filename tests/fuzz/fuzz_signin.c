/* fuzz_signin.c - libFuzzer target: the console's sign-in body parser on
 * arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "console/signin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lv_signin s;
    lv_error err = {0};
    lv_err rc = lv_signin_parse((const char *)data, size, &s, &err);
    if (memchr(s.akid, '\0', sizeof s.akid) == NULL || memchr(s.secret, '\0', sizeof s.secret) == NULL ||
        memchr(s.region, '\0', sizeof s.region) == NULL)
        __builtin_trap();
    if (rc != LV_OK) {
        /* A refusal is a validation error with a message and leaves
         * nothing behind. */
        if (rc != LV_E_VALIDATION || err.msg[0] == '\0' || s.akid[0] || s.secret[0] || s.region[0])
            __builtin_trap();
        return 0;
    }
    size_t n = strlen(s.akid);
    if (n < 16 || s.secret[0] == '\0')
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (!alnum(s.akid[i]))
            __builtin_trap();
    for (const char *p = s.secret; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            __builtin_trap();
    for (const char *p = s.region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            __builtin_trap();
    return 0;
}
