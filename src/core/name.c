/* name.c - what a valid parameter name, path and label look like. */
#include "core/name.h"

#include <string.h>
#include <strings.h>

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Strips the "arn:<partition>:ssm:<region>:<account>:parameter" head. An ARN
 * for "/a/b" ends in "parameter/a/b" and one for "x" in "parameter/x". */
static lv_err strip_arn(const char **s, size_t *len, lv_error *err)
{
    const char *p = *s;
    size_t n = *len;
    if (n < 4 || memcmp(p, "arn:", 4) != 0)
        return LV_OK;
    unsigned colons = 0;
    size_t i = 0;
    while (i < n && colons < 5)
        if (p[i++] == ':')
            colons++;
    static const char res[] = "parameter/";
    if (colons < 5 || n - i < sizeof res - 1 || memcmp(p + i, res, sizeof res - 1) != 0)
        return lv_error_set(err, LV_E_VALIDATION,
                            "Invalid parameter ARN: expected arn:aws:ssm:<region>:<account>:parameter/<name>.");
    i += sizeof res - 1;
    /* "parameter/a/b" names "/a/b": keep the slash when more follow. */
    if (memchr(p + i, '/', n - i) != NULL)
        i--;
    *s = p + i;
    *len = n - i;
    return LV_OK;
}

lv_err lv_name_canonical(const char *in, size_t len, lv_buf *out, lv_error *err)
{
    lv_err rc = strip_arn(&in, &len, err);
    if (rc != LV_OK)
        return rc;
    if (len == 0)
        return lv_error_set(err, LV_E_VALIDATION, "Parameter name must not be empty.");
    if (len > LV_NAME_MAX)
        return lv_error_set(err, LV_E_VALIDATION,
                            "Parameter name is %zu characters long; the maximum is %d.",
                            len, LV_NAME_MAX);
    bool slash = memchr(in, '/', len) != NULL;
    if (slash && in[0] != '/')
        return lv_error_set(err, LV_E_VALIDATION,
                            "Parameter name: a name containing '/' must be fully qualified (begin with '/').");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '/') {
            if (i + 1 == len || in[i + 1] == '/')
                return lv_error_set(err, LV_E_VALIDATION,
                                    "Parameter name: hierarchy levels must not be empty (no '//' and no trailing '/').");
            continue;
        }
        if (!name_char(c))
            return lv_error_set(err, LV_E_VALIDATION,
                                "Parameter name: can only contain letters, numbers and the symbols . - _ and / (found 0x%02x at %zu).",
                                c, i);
    }
    /* A name with no hierarchy is the same parameter with or without its
     * leading slash (AWS answers GetParameter "/x" for a parameter put as
     * "x"); the slash-less spelling is the stored one, which is also what
     * its ARN "...:parameter/x" says. */
    if (in[0] == '/' && memchr(in + 1, '/', len - 1) == NULL) {
        in++;
        len--;
    }
    lv_buf_reset(out);
    return lv_buf_append(out, in, len);
}

unsigned lv_name_levels(const char *name)
{
    unsigned n = 0;
    for (const char *p = name; *p; p++)
        n += *p == '/';
    return n ? n : 1;
}

lv_err lv_name_check_create(const char *name, lv_error *err)
{
    const char *first = name[0] == '/' ? name + 1 : name;
    if (strncasecmp(first, "aws", 3) == 0 || strncasecmp(first, "ssm", 3) == 0) {
        if (name[0] == '/' && strncasecmp(first, "aws", 3) == 0 && strchr(first, '/') != NULL)
            return lv_error_set(err, LV_E_ACCESS_DENIED,
                                "No access to reserved parameter name: %s.", name);
        return lv_error_set(err, LV_E_VALIDATION,
                            "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).");
    }
    unsigned levels = lv_name_levels(name);
    if (levels > LV_MAX_LEVELS)
        return lv_error_set(err, LV_E_HIERARCHY_LEVEL_LIMIT,
                            "Parameter name %s has %u hierarchy levels; the maximum is %d.",
                            name, levels, LV_MAX_LEVELS);
    return LV_OK;
}

lv_err lv_path_canonical(const char *in, size_t len, lv_buf *out, lv_error *err)
{
    lv_err rc = strip_arn(&in, &len, err);
    if (rc != LV_OK)
        return rc;
    if (len == 0 || in[0] != '/')
        return lv_error_set(err, LV_E_VALIDATION,
                            "The path must be fully qualified: it must begin with '/'.");
    if (len > LV_NAME_MAX)
        return lv_error_set(err, LV_E_VALIDATION, "The path is longer than %d characters.", LV_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '/') {
            if (i + 1 < len && in[i + 1] == '/')
                return lv_error_set(err, LV_E_VALIDATION, "The path must not contain empty levels ('//').");
            continue;
        }
        if (!name_char(c))
            return lv_error_set(err, LV_E_VALIDATION,
                                "The path can only contain letters, numbers and the symbols . - _ and /.");
    }
    lv_buf_reset(out);
    rc = lv_buf_append(out, in, len);
    if (rc == LV_OK && in[len - 1] != '/')
        rc = lv_buf_putc(out, '/');
    return rc;
}

bool lv_label_valid(const char *label)
{
    size_t n = strlen(label);
    if (n == 0 || n > 100)
        return false;
    if (label[0] >= '0' && label[0] <= '9')
        return false;
    if (strncasecmp(label, "aws", 3) == 0 || strncasecmp(label, "ssm", 3) == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char((unsigned char)label[i]))
            return false;
    return true;
}

lv_err lv_selector_split(char *buf, size_t len, size_t *name_len, lv_selector *sel,
                         lv_error *err)
{
    memset(sel, 0, sizeof *sel);
    /* Names never contain ':', so in an ARN the selector is whatever follows
     * a ':' after the "parameter/" part; elsewhere after the first ':'. */
    size_t start = 0;
    if (len >= 4 && memcmp(buf, "arn:", 4) == 0) {
        char *res = memmem(buf, len, ":parameter/", 11);
        if (res == NULL)
            return lv_error_set(err, LV_E_VALIDATION,
                                "Invalid parameter ARN: expected arn:aws:ssm:<region>:<account>:parameter/<name>.");
        start = (size_t)(res - buf) + 11;
    }
    char *colon = memchr(buf + start, ':', len - start);
    *name_len = len;
    if (colon == NULL)
        return LV_OK;
    *name_len = (size_t)(colon - buf);
    *colon = '\0';
    const char *s = colon + 1;
    size_t sl = len - *name_len - 1;
    sel->has_selector = true;
    if (sl == 0)
        return lv_error_set(err, LV_E_VALIDATION, "The parameter selector after ':' is empty.");
    if (s[0] >= '0' && s[0] <= '9') {
        uint64_t v = 0;
        for (size_t i = 0; i < sl; i++) {
            if (s[i] < '0' || s[i] > '9' || v > 0xFFFFFFFFu / 10)
                return lv_error_set(err, LV_E_VALIDATION, "Invalid parameter version selector: %s.", s);
            v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (v == 0 || v > 0xFFFFFFFFu)
            return lv_error_set(err, LV_E_VALIDATION, "Invalid parameter version selector: %s.", s);
        sel->is_version = true;
        sel->version = (uint32_t)v;
        return LV_OK;
    }
    if (memchr(s, '\0', sl) != NULL || !lv_label_valid(s))
        return lv_error_set(err, LV_E_VALIDATION, "Invalid parameter label selector: %s.", s);
    sel->label = s;
    return LV_OK;
}

lv_err lv_name_arn(const char *region, const char *account, const char *name, lv_buf *out)
{
    return lv_buf_printf(out, "arn:aws:ssm:%s:%s:parameter%s%s", region, account,
                         name[0] == '/' ? "" : "/", name);
}
