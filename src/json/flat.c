/* flat.c - see flat.h. Why by hand: jansson's json_loadb costs about as
 * much as the rest of GetParameter's decoding and lookup together for a
 * 30-byte body (docs/decisions.md, "A fast path for flat request bodies"). */
#include "json/flat.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { FLAT_MAX_BODY = 4096, FLAT_MAX_DIGITS = 15, FLAT_MAX_KEY = 256 };

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

int lv_json_flat_fields(const char *s, size_t len, lv_flat_field *f, int max)
{
    if (s == NULL || len > FLAT_MAX_BODY)
        return -1;
    size_t i = ws(s, 0, len);
    if (i >= len || s[i] != '{')
        return -1;
    i = ws(s, i + 1, len);
    int n = 0;
    if (i < len && s[i] == '}')
        return ws(s, i + 1, len) == len ? 0 : -1;
    for (;;) {
        size_t kb, ke;
        if (n == max || (i = plain_string(s, i, len, &kb, &ke)) == 0 || ke - kb >= FLAT_MAX_KEY)
            return -1;
        for (int k = 0; k < n; k++)
            if (f[k].key_len == ke - kb && memcmp(f[k].key, s + kb, ke - kb) == 0)
                return -1; /* a duplicate: jansson's error, not ours */
        lv_flat_field *x = &f[n];
        memset(x, 0, sizeof *x);
        x->key = s + kb;
        x->key_len = ke - kb;
        i = ws(s, i, len);
        if (i >= len || s[i] != ':')
            return -1;
        i = ws(s, i + 1, len);
        if (i >= len)
            return -1;
        if (s[i] == '"') {
            size_t vb, ve;
            if ((i = plain_string(s, i, len, &vb, &ve)) == 0)
                return -1;
            x->kind = LV_FLAT_STRING;
            x->str = s + vb;
            x->str_len = ve - vb;
        } else if (len - i >= 4 && memcmp(s + i, "true", 4) == 0) {
            x->kind = LV_FLAT_TRUE;
            i += 4;
        } else if (len - i >= 5 && memcmp(s + i, "false", 5) == 0) {
            x->kind = LV_FLAT_FALSE;
            i += 5;
        } else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
            size_t j = i + (s[i] == '-');
            size_t d = j;
            while (j < len && s[j] >= '0' && s[j] <= '9')
                j++;
            /* JSON's integers: no leading zero, no fraction or exponent */
            if (j == d || j - d > FLAT_MAX_DIGITS || (s[d] == '0' && j - d > 1) ||
                (j < len && (s[j] == '.' || s[j] == 'e' || s[j] == 'E')))
                return -1;
            int64_t v = 0;
            for (size_t k = d; k < j; k++)
                v = v * 10 + (s[k] - '0');
            x->kind = LV_FLAT_INT;
            x->num = s[i] == '-' ? -v : v;
            i = j;
        } else {
            return -1;
        }
        n++;
        /* after a literal, what follows must end it (jansson reads
         * "truex" as an error, not as true) */
        i = ws(s, i, len);
        if (i < len && s[i] == ',') {
            i = ws(s, i + 1, len);
            continue;
        }
        if (i < len && s[i] == '}')
            return ws(s, i + 1, len) == len ? n : -1;
        return -1;
    }
}

json_t *lv_json_flat_load(const char *s, size_t len)
{
    lv_flat_field f[LV_FLAT_MAX_FIELDS];
    int n = lv_json_flat_fields(s, len, f, LV_FLAT_MAX_FIELDS);
    if (n < 0)
        return NULL;
    json_t *o = json_object();
    for (int k = 0; o != NULL && k < n; k++) {
        json_t *v = f[k].kind == LV_FLAT_STRING ? json_stringn_nocheck(f[k].str, f[k].str_len)
                    : f[k].kind == LV_FLAT_TRUE  ? json_true()
                    : f[k].kind == LV_FLAT_FALSE ? json_false()
                                                 : json_integer((json_int_t)f[k].num);
        if (v == NULL || json_object_setn_new_nocheck(o, f[k].key, f[k].key_len, v) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

json_t *lv_json_load_request(const char *s, size_t len, json_error_t *je)
{
    json_t *o = lv_json_flat_load(s, len);
    return o ? o : json_loadb(s, len, JSON_REJECT_DUPLICATES, je);
}
