/* hex.h - hexadecimal digits both ways: the value of one digit, for the
 * decoders that need it (percent-encoding, SigV4, chunk sizes, key
 * files), and lowercase text for bytes (digests, keys, ids). */
#ifndef LV_CORE_HEX_H
#define LV_CORE_HEX_H

#include <stddef.h>

/* 0-15 for a hexadecimal digit of either case, -1 for anything else. */
static inline int lv_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Each byte's two lowercase digits: byte b is lv_hex_pairs[2b, 2b+2). */
extern const char lv_hex_pairs[512];

/* Writes the 2n lowercase digits of in[0, n) and a NUL at out. */
void lv_hex_encode(const void *in, size_t n, char *out);

/* 16 random bytes as a version-4 UUID (8-4-4-4-12, lowercase): sets the
 * version and variant bits in b, then writes 36 characters and a NUL. */
void lv_uuid4_text(unsigned char b[16], char out[37]);

#endif
