/* parse.c - value parsers and env-name mapping for liblever's getters; pure
 * code with no I/O so the unit tests cover every rule directly. */
#include "client/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* [b, e) without surrounding blanks. */
static void trim(const char *s, const char **b, const char **e)
{
    const char *p = s, *q = s + strlen(s);
    while (p < q && blank(*p))
        p++;
    while (q > p && blank(q[-1]))
        q--;
    *b = p;
    *e = q;
}

int lvc_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    if (s == NULL)
        return -1;
    const char *b, *e;
    trim(s, &b, &e);
    size_t n = (size_t)(e - b);
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (n == strlen(yes[i]) && strncasecmp(b, yes[i], n) == 0) {
            *out = true;
            return 0;
        }
        if (n == strlen(no[i]) && strncasecmp(b, no[i], n) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int lvc_parse_int(const char *s, int64_t *out)
{
    if (s == NULL)
        return -1;
    const char *b, *e;
    trim(s, &b, &e);
    if (b == e)
        return -1;
    /* strtoll would accept "0x10" with base 0 and leading blanks inside;
     * insist on an optional sign and decimal digits only. */
    const char *p = b;
    if (*p == '+' || *p == '-')
        p++;
    if (p == e)
        return -1;
    for (const char *q = p; q < e; q++)
        if (!isdigit((unsigned char)*q))
            return -1;
    char tmp[32];
    size_t n = (size_t)(e - b);
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, b, n);
    tmp[n] = '\0';
    errno = 0;
    long long v = strtoll(tmp, NULL, 10);
    if (errno == ERANGE)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int lvc_parse_double(const char *s, double *out)
{
    if (s == NULL)
        return -1;
    const char *b, *e;
    trim(s, &b, &e);
    if (b == e || (size_t)(e - b) > 256)
        return -1;
    char tmp[260];
    memcpy(tmp, b, (size_t)(e - b));
    tmp[e - b] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int64_t unit_ms(const char *u, size_t n)
{
    if (n == 2 && strncmp(u, "ms", 2) == 0)
        return 1;
    if (n == 1) {
        switch (*u) {
        case 's': return 1000;
        case 'm': return 60 * 1000;
        case 'h': return 3600 * 1000;
        case 'd': return 86400 * 1000;
        default: return 0;
        }
    }
    return 0;
}

int lvc_parse_duration_ms(const char *s, int64_t *out)
{
    if (s == NULL)
        return -1;
    const char *b, *e;
    trim(s, &b, &e);
    if (b == e)
        return -1;
    int64_t total = 0;
    const char *p = b;
    int terms = 0;
    while (p < e) {
        /* integer part, then optional fraction (at most 9 digits kept) */
        int64_t ip = 0, frac = 0, scale = 1;
        int digits = 0;
        while (p < e && isdigit((unsigned char)*p)) {
            if (ip > (INT64_MAX - 9) / 10)
                return -1;
            ip = ip * 10 + (*p - '0');
            p++;
            digits++;
        }
        if (p < e && *p == '.') {
            p++;
            while (p < e && isdigit((unsigned char)*p)) {
                if (scale < 1000000000) {
                    frac = frac * 10 + (*p - '0');
                    scale *= 10;
                }
                p++;
                digits++;
            }
        }
        if (digits == 0)
            return -1;
        const char *u = p;
        while (p < e && isalpha((unsigned char)*p))
            p++;
        int64_t unit;
        if (u == p) {
            /* a bare number is seconds, but only as the whole value */
            if (terms > 0 || p != e)
                return -1;
            unit = 1000;
        } else if ((unit = unit_ms(u, (size_t)(p - u))) == 0) {
            return -1;
        }
        if (ip > INT64_MAX / unit)
            return -1;
        int64_t v = ip * unit + (frac * unit) / scale;
        if (total > INT64_MAX - v)
            return -1;
        total += v;
        terms++;
    }
    *out = total;
    return 0;
}

void lvc_strlist_free(char **l)
{
    if (l == NULL)
        return;
    for (char **p = l; *p; p++)
        free(*p);
    free(l);
}

char **lvc_split_list(const char *s, size_t *count)
{
    size_t n = 0;
    if (s != NULL) {
        const char *b, *e;
        trim(s, &b, &e);
        if (b < e) {
            n = 1;
            for (const char *p = b; p < e; p++)
                n += *p == ',';
        }
    }
    char **l = calloc(n + 1, sizeof *l);
    if (l == NULL)
        return NULL;
    if (n > 0) {
        const char *b, *e;
        trim(s, &b, &e);
        size_t i = 0;
        const char *p = b;
        while (i < n) {
            const char *q = p;
            while (q < e && *q != ',')
                q++;
            const char *ib = p, *ie = q;
            while (ib < ie && blank(*ib))
                ib++;
            while (ie > ib && blank(ie[-1]))
                ie--;
            l[i] = strndup(ib, (size_t)(ie - ib));
            if (l[i] == NULL) {
                lvc_strlist_free(l);
                return NULL;
            }
            i++;
            p = q + 1;
        }
    }
    if (count)
        *count = n;
    return l;
}

const char *lvc_rel_key(const char *prefix, const char *name)
{
    size_t pl = prefix ? strlen(prefix) : 0;
    if (pl > 0 && strncmp(name, prefix, pl) == 0)
        return name + pl;
    return name;
}

long lvc_env_name_into(const char *prefix, const char *key, int scheme, const char *env_prefix,
                       char *out, size_t cap)
{
    if (scheme == LVC_ENV_NONE || key == NULL)
        return -1;
    const char *rel = key[0] == '/' ? lvc_rel_key(prefix, key) : key;
    while (*rel == '/')
        rel++;
    if (scheme == LVC_ENV_LAST_SEGMENT) {
        const char *slash = strrchr(rel, '/');
        if (slash)
            rel = slash + 1;
    }
    size_t el = env_prefix ? strlen(env_prefix) : 0, rl = strlen(rel);
    while (rl > 0 && rel[rl - 1] == '/')
        rl--;
    if (rl == 0)
        return -1;
    if (el + rl + 1 > cap)
        return -2;
    if (el)
        memcpy(out, env_prefix, el);
    /* ASCII by hand: the ctype calls cost more than the rest of the
     * mapping, and env names must not depend on the locale anyway. */
    for (size_t i = 0; i < rl; i++) {
        char ch = rel[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            ch = '_';
        out[el + i] = ch;
    }
    out[el + rl] = '\0';
    return (long)(el + rl);
}

char *lvc_env_name(const char *prefix, const char *key, int scheme, const char *env_prefix)
{
    size_t cap = (key ? strlen(key) : 0) + (env_prefix ? strlen(env_prefix) : 0) + 1;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    if (lvc_env_name_into(prefix, key, scheme, env_prefix, out, cap) < 0) {
        free(out);
        return NULL;
    }
    return out;
}

char *lvc_norm_prefix(const char *p)
{
    if (p == NULL || *p == '\0')
        return strdup("");
    size_t n = strlen(p);
    char *out = malloc(n + 3);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    out[o++] = '/';
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '/' && out[o - 1] == '/')
            continue;
        out[o++] = p[i];
    }
    if (out[o - 1] != '/')
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

long lvc_full_name_into(const char *prefix, const char *key, char *out, size_t cap)
{
    size_t pl = key[0] == '/' || prefix == NULL ? 0 : strlen(prefix), kl = strlen(key);
    if (pl + kl + 1 > cap)
        return -2;
    memcpy(out, prefix, pl);
    memcpy(out + pl, key, kl + 1);
    return (long)(pl + kl);
}

char *lvc_full_name(const char *prefix, const char *key)
{
    if (key[0] == '/' || prefix == NULL || prefix[0] == '\0')
        return strdup(key);
    size_t pl = strlen(prefix), kl = strlen(key);
    char *out = malloc(pl + kl + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, prefix, pl);
    memcpy(out + pl, key, kl + 1);
    return out;
}
