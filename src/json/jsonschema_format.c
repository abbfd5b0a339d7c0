/* jsonschema_format.c - the draft-4 "format" values lever checks:
 * date-time (RFC 3339), email, hostname (RFC 1123), ipv4, ipv6, uri
 * (RFC 3986 absolute URI) and regex (ECMA-262). Other names are accepted
 * and not checked, as draft 4 allows. */
#include <arpa/inet.h>
#include <string.h>

#include "json/jsonschema_int.h"

static const struct {
    const char *name;
    js_format f;
} formats[] = {
    {"date-time", JS_F_DATE_TIME}, {"email", JS_F_EMAIL}, {"hostname", JS_F_HOSTNAME},
    {"ipv4", JS_F_IPV4},           {"ipv6", JS_F_IPV6},   {"uri", JS_F_URI},
    {"regex", JS_F_REGEX},
};

js_format js_format_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, name) == 0)
            return formats[i].f;
    return JS_F_NONE;
}

const char *js_format_name(js_format f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].f == f)
            return formats[i].name;
    return "value";
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool date_time(const char *s, size_t len)
{
    int y, mo, d, h, mi, sec;
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z'))
        return true;
    int oh, om;
    if (i + 6 != len || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':' ||
        !digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om))
        return false;
    return oh <= 23 && om <= 59;
}

static bool hostname(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-';
        if (!ok || (label == 0 && c == '-'))
            return false;
        label++;
    }
    return true;
}

static bool email(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (at == NULL || at == s || at == s + len - 1 || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return false;
    return true;
}

static bool ipv4(const char *s, size_t len)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t start = i;
        int v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (s[i++] - '0');
        size_t n = i - start;
        if (n == 0 || v > 255 || (n > 1 && s[start] == '0'))
            return false;
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
    }
    return i == len;
}

static bool ipv6(const char *s, size_t len)
{
    char buf[64];
    unsigned char addr[16];
    if (len >= sizeof buf || memchr(s, '\0', len))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, addr) == 1;
}

static bool uri_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("-._~:/?#[]@!$&'()*+,;=", c) != NULL;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* scheme ":" hier-part [ "?" query ] [ "#" fragment ], with only the
 * characters RFC 3986 allows (non-ASCII must be percent-encoded). */
static bool uri(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    while (i < len && s[i] != ':') {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return false;
        i++;
    }
    if (i == len)
        return false;
    for (i++; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 2;
        } else if (!uri_char((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

bool js_format_check(js_format f, const char *s, size_t len)
{
    switch (f) {
    case JS_F_DATE_TIME: return date_time(s, len);
    case JS_F_EMAIL: return email(s, len);
    case JS_F_HOSTNAME: return hostname(s, len);
    case JS_F_IPV4: return ipv4(s, len);
    case JS_F_IPV6: return ipv6(s, len);
    case JS_F_URI: return uri(s, len);
    case JS_F_REGEX: {
        js_regex *re = NULL;
        char why[200];
        bool ok = js_regex_compile(s, len, &re, why, sizeof why) == LV_OK;
        js_regex_free(re);
        return ok;
    }
    default: return true;
    }
}
