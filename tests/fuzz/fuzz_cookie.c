/* fuzz_cookie.c - libFuzzer target: the console's Cookie header reader on
 * arbitrary bytes (as the header value, NUL-terminated). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    if (h == NULL)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    static const size_t caps[] = {1, 2, 16, 65, 4096};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        char out[4096];
        memset(out, 'x', sizeof out);
        int r = lv_cookie_get(h, "lever_console", out, caps[i]);
        /* The answer is terminated within cap, and a found value is made
         * of cookie-octets only and no longer than the header. */
        if (memchr(out, '\0', caps[i]) == NULL || r < -1 || r > 1)
            __builtin_trap();
        if (r != 1 && out[0] != '\0')
            __builtin_trap();
        if (r == 1) {
            size_t n = strlen(out);
            if (n > strlen(h))
                __builtin_trap();
            for (size_t j = 0; j < n; j++)
                if ((unsigned char)out[j] <= 0x20 || (unsigned char)out[j] >= 0x7f || out[j] == ';' ||
                    out[j] == ',' || out[j] == '"' || out[j] == '\\')
                    __builtin_trap();
        }
    }
    free(h);
    return 0;
}
