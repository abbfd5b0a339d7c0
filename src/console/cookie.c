/* cookie.c - a bounded scan of the Cookie header; nothing is allocated. */
#include "console/cookie.h"

#include <string.h>

/* cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
static int octet_ok(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E);
}

int lv_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (header == NULL)
        return 0;
    size_t nlen = strlen(name);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *pair = p;
        while (*p && *p != ';')
            p++;
        size_t plen = (size_t)(p - pair);
        const char *eq = memchr(pair, '=', plen);
        if (eq == NULL)
            continue;
        /* The name, less trailing blanks (some clients send "a = b"). */
        size_t klen = (size_t)(eq - pair);
        while (klen > 0 && (pair[klen - 1] == ' ' || pair[klen - 1] == '\t'))
            klen--;
        if (klen != nlen || memcmp(pair, name, nlen) != 0)
            continue;
        const char *v = eq + 1;
        size_t vlen = (size_t)(p - v);
        while (vlen > 0 && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
            v++, vlen -= 2;
        if (vlen + 1 > cap)
            return -1;
        for (size_t i = 0; i < vlen; i++)
            if (!octet_ok((unsigned char)v[i]))
                return -1;
        memcpy(out, v, vlen);
        out[vlen] = '\0';
        return 1;
    }
    return 0;
}
