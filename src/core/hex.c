/* hex.c - lowercase hexadecimal text for bytes, one table lookup each. */
#include "core/hex.h"

#include <string.h>

#define HX(n) ((char)((n) < 10 ? '0' + (n) : 'a' + (n) - 10))
#define HP(c) HX((c) >> 4), HX((c) & 15)
#define HP4(c) HP(c), HP((c) + 1), HP((c) + 2), HP((c) + 3)
#define HP16(c) HP4(c), HP4((c) + 4), HP4((c) + 8), HP4((c) + 12)
#define HP64(c) HP16(c), HP16((c) + 16), HP16((c) + 32), HP16((c) + 48)
const char lv_hex_pairs[512] = {HP64(0), HP64(64), HP64(128), HP64(192)};

void lv_hex_encode(const void *in, size_t n, char *out)
{
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, lv_hex_pairs + 2 * p[i], 2);
    out[2 * n] = '\0';
}

void lv_uuid4_text(unsigned char b[16], char out[37])
{
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    /* Groups of 4, 2, 2, 2 and 6 bytes. */
    static const unsigned char group[5] = {4, 2, 2, 2, 6};
    char *w = out;
    const unsigned char *p = b;
    for (int g = 0; g < 5; g++) {
        if (g > 0)
            *w++ = '-';
        for (int i = 0; i < group[g]; i++, w += 2)
            memcpy(w, lv_hex_pairs + 2 * *p++, 2);
    }
    *w = '\0';
}
