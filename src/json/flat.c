/* flat.c - see flat.h. Why by hand: jansson's json_loadb costs about as
 * much as the rest of GetParameter's decoding and lookup together for a
 * 30-byte body (docs/decisions.md, "A fast path for flat request bodies"). */
#include "json/flat.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { FLAT_MAX_BODY = 4096, FLAT_MAX_DIGITS = 15 };

static size_t ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* A string of printable ASCII without '"' or '\\' starting at s[i] == '"';
 * its contents are [*b, *e); returns the index after the closing quote,
 * or 0 when it is not that simple. */
static size_t plain_string(const char *s, size_t i, size_t n, size_t *b, size_t *e)
{
    if (i >= n || s[i] != '"')
        return 0;
    size_t j = i + 1;
    while (j < n && s[j] != '"') {
        unsigned char c = (unsigned char)s[j];
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return 0;
        j++;
    }
    if (j >= n)
        return 0;
    *b = i + 1;
    *e = j;
    return j + 1;
}

json_t *lv_json_flat_load(const char *s, size_t len)
{
    if (s == NULL || len > FLAT_MAX_BODY)
        return NULL;
    size_t i = ws(s, 0, len);
    if (i >= len || s[i] != '{')
        return NULL;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    i = ws(s, i + 1, len);
    bool first = true;
    for (;;) {
        if (i < len && s[i] == '}' && first) {
            i++;
            break;
        }
        size_t kb, ke;
        if ((i = plain_string(s, i, len, &kb, &ke)) == 0)
            goto no;
        char key[256];
        if (ke - kb >= sizeof key)
            goto no;
        memcpy(key, s + kb, ke - kb);
        key[ke - kb] = '\0';
        if (json_object_get(o, key) != NULL)
            goto no; /* a duplicate: jansson's error, not ours */
        i = ws(s, i, len);
        if (i >= len || s[i] != ':')
            goto no;
        i = ws(s, i + 1, len);
        if (i >= len)
            goto no;
        json_t *v = NULL;
        if (s[i] == '"') {
            size_t vb, ve;
            if ((i = plain_string(s, i, len, &vb, &ve)) == 0)
                goto no;
            v = json_stringn_nocheck(s + vb, ve - vb);
        } else if (len - i >= 4 && memcmp(s + i, "true", 4) == 0) {
            v = json_true();
            i += 4;
        } else if (len - i >= 5 && memcmp(s + i, "false", 5) == 0) {
            v = json_false();
            i += 5;
        } else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
            size_t j = i + (s[i] == '-');
            size_t d = j;
            while (j < len && s[j] >= '0' && s[j] <= '9')
                j++;
            /* JSON's integers: no leading zero, no fraction or exponent */
            if (j == d || j - d > FLAT_MAX_DIGITS || (s[d] == '0' && j - d > 1) ||
                (j < len && (s[j] == '.' || s[j] == 'e' || s[j] == 'E')))
                goto no;
            json_int_t x = 0;
            for (size_t k = d; k < j; k++)
                x = x * 10 + (s[k] - '0');
            v = json_integer(s[i] == '-' ? -x : x);
            i = j;
        } else {
            goto no;
        }
        /* after a literal, what follows must end it (jansson reads
         * "truex" as an error, not as true) */
        if (v == NULL || json_object_set_new_nocheck(o, key, v) != 0)
            goto no;
        i = ws(s, i, len);
        if (i < len && s[i] == ',') {
            i = ws(s, i + 1, len);
            first = false;
            continue;
        }
        if (i < len && s[i] == '}') {
            i++;
            break;
        }
        goto no;
    }
    if (ws(s, i, len) != len)
        goto no;
    return o;
no:
    json_decref(o);
    return NULL;
}

json_t *lv_json_load_request(const char *s, size_t len, json_error_t *je)
{
    json_t *o = lv_json_flat_load(s, len);
    return o ? o : json_loadb(s, len, JSON_REJECT_DUPLICATES, je);
}
