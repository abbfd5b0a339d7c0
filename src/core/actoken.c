/* actoken.c - the text form of AppConfig Data configuration tokens. */
#include "core/actoken.h"

#include <string.h>

static const char HEX[] = "0123456789abcdef";

void lv_actoken_format(const unsigned char id[LV_ACTOKEN_BYTES], char *out)
{
    memcpy(out, "lv1_", 4);
    for (int i = 0; i < LV_ACTOKEN_BYTES; i++) {
        out[4 + 2 * i] = HEX[id[i] >> 4];
        out[5 + 2 * i] = HEX[id[i] & 15];
    }
    out[LV_ACTOKEN_LEN] = '\0';
}

static int nib(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool lv_actoken_parse(const char *s, size_t n, unsigned char id[LV_ACTOKEN_BYTES])
{
    if (n != LV_ACTOKEN_LEN || memcmp(s, "lv1_", 4) != 0)
        return false;
    for (int i = 0; i < LV_ACTOKEN_BYTES; i++) {
        int hi = nib(s[4 + 2 * i]), lo = nib(s[5 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        id[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}
