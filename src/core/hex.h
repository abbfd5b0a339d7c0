/* hex.h - the value of one hexadecimal digit, for the decoders that
 * need it (percent-encoding, SigV4, chunk sizes, key files). */
#ifndef LV_CORE_HEX_H
#define LV_CORE_HEX_H

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

#endif
