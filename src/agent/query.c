/* query.c - strict parser for the extension-compatible query string: every
 * malformed input is a clear 400, never a guess (see docs/agent.md). */
#include "agent/query.h"
#include "core/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). */
bool lva_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Percent-decodes s[0..n) into a new string. Control bytes (NUL included)
 * are refused: no parameter name or label can hold them, and a decoded
 * NUL would silently cut the string. Returns NULL with *bad set to a
 * reason, or NULL with *bad NULL when out of memory. */
static char *decode(const char *s, size_t n, size_t max, const char **bad)
{
    *bad = NULL;
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 1 < n ? lv_hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? lv_hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *bad = "bad percent-encoding";
                free(out);
                return NULL;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f) {
            *bad = "control character";
            free(out);
            return NULL;
        }
        if (o >= max) {
            *bad = "too long";
            free(out);
            return NULL;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!lva_utf8_ok((const unsigned char *)out, o)) {
        /* SSM names and labels are text; anything else is the client's
         * encoding mistake, better said here than as a JSON error later */
        *bad = "not valid UTF-8";
        free(out);
        return NULL;
    }
    return out;
}

void lva_query_free(lva_query *q)
{
    if (q == NULL)
        return;
    free(q->name);
    free(q->label);
    free(q->selector);
    memset(q, 0, sizeof *q);
}

static int fail(lva_query *out, char *err, size_t errlen, const char *fmt, const char *a)
{
    lva_query_free(out);
    if (err && errlen)
        snprintf(err, errlen, fmt, a);
    return -1;
}

int lva_query_parse(const char *q, size_t len, lva_query *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (err && errlen)
        err[0] = '\0';
    if (len > LVA_QUERY_MAX)
        return fail(out, err, errlen, "query string longer than %s bytes", "8192");
    char *vtext = NULL, *dtext = NULL;
    bool have_name = false, have_label = false;
    const char *p = q, *end = q + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *seg_end = amp ? amp : end;
        if (seg_end == p) { /* "a=1&&b=2": an empty field carries nothing */
            p = seg_end + 1;
            continue;
        }
        const char *eq = memchr(p, '=', (size_t)(seg_end - p));
        const char *kend = eq ? eq : seg_end;
        const char *bad;
        char *key = decode(p, (size_t)(kend - p), 64, &bad);
        if (key == NULL) {
            free(vtext);
            free(dtext);
            if (bad == NULL)
                return fail(out, err, errlen, "%s", "out of memory");
            return fail(out, err, errlen, "query parameter name: %s", bad);
        }
        size_t vmax = strcmp(key, "name") == 0 ? LVA_NAME_MAX : strcmp(key, "label") == 0 ? LVA_LABEL_MAX : 64;
        char *val = NULL;
        if (eq)
            val = decode(eq + 1, (size_t)(seg_end - eq - 1), vmax, &bad);
        else
            val = strdup(""), bad = NULL;
        if (val == NULL) {
            char msg[160];
            snprintf(msg, sizeof msg, "query parameter '%.64s': %s", key, bad ? bad : "out of memory");
            free(key);
            free(vtext);
            free(dtext);
            return fail(out, err, errlen, "%s", msg);
        }
        char **slot = NULL;
        bool *seen = NULL;
        bool dummy = false;
        if (strcmp(key, "name") == 0) {
            slot = &out->name;
            seen = &have_name;
        } else if (strcmp(key, "label") == 0) {
            slot = &out->label;
            seen = &have_label;
        } else if (strcmp(key, "version") == 0) {
            slot = &vtext;
            seen = &dummy;
            dummy = vtext != NULL;
        } else if (strcmp(key, "withDecryption") == 0) {
            slot = &dtext;
            seen = &dummy;
            dummy = dtext != NULL;
        }
        if (slot == NULL) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "unknown query parameter '%.64s' (expected name, version, label, withDecryption)", key);
            free(key);
            free(val);
            free(vtext);
            free(dtext);
            return fail(out, err, errlen, "%s", msg);
        }
        if (*seen || *slot != NULL) {
            char msg[160];
            snprintf(msg, sizeof msg, "query parameter '%.64s' given more than once", key);
            free(key);
            free(val);
            free(vtext);
            free(dtext);
            return fail(out, err, errlen, "%s", msg);
        }
        *seen = true;
        *slot = val;
        free(key);
        p = seg_end + (amp ? 1 : 0);
        if (amp && p == end)
            break;
    }
    (void)have_label;

    char vbad[96] = "";
    if (vtext) {
        /* A positive decimal without sign or blanks, as SSM versions are. */
        int64_t v = 0;
        bool ok = vtext[0] != '\0' && vtext[0] != '0';
        for (const char *c = vtext; ok && *c; c++) {
            if (*c < '0' || *c > '9' || v > (INT64_MAX - (*c - '0')) / 10)
                ok = false;
            else
                v = v * 10 + (*c - '0');
        }
        if (!ok)
            snprintf(vbad, sizeof vbad, "version '%.40s' is not a positive integer", vtext);
        out->version = v;
    }
    if (dtext) {
        if (strcasecmp(dtext, "true") == 0)
            out->decrypt = true;
        else if (strcasecmp(dtext, "false") == 0)
            out->decrypt = false;
        else
            snprintf(vbad, sizeof vbad, "withDecryption '%.40s' is not true or false", dtext);
    }
    free(vtext);
    free(dtext);
    if (vbad[0])
        return fail(out, err, errlen, "%s", vbad);
    if (out->name == NULL || out->name[0] == '\0')
        return fail(out, err, errlen, "%s", "query parameter 'name' is required");
    if (out->label && out->label[0] == '\0')
        return fail(out, err, errlen, "%s", "query parameter 'label' is empty");
    if (out->label && out->version)
        return fail(out, err, errlen, "%s", "give either 'version' or 'label', not both");
    /* A selector already in the name ("/a:3") applies by itself; adding
     * another would make the request ambiguous. ARNs carry ':' of their own
     * and select only after the last '/'. */
    const char *slash = strrchr(out->name, '/');
    const char *colon = strchr(slash ? slash : out->name, ':');
    if (strncmp(out->name, "arn:", 4) == 0 && slash == NULL)
        colon = NULL;
    if (colon && (out->label || out->version))
        return fail(out, err, errlen, "%s",
                    "the name already has a ':' selector; do not add 'version' or 'label'");
    out->selected = colon != NULL || out->label != NULL || out->version != 0;

    size_t sl = strlen(out->name) + 2 + (out->label ? strlen(out->label) : 24);
    out->selector = malloc(sl);
    if (out->selector == NULL)
        return fail(out, err, errlen, "%s", "out of memory");
    if (out->label)
        snprintf(out->selector, sl, "%s:%s", out->name, out->label);
    else if (out->version)
        snprintf(out->selector, sl, "%s:%lld", out->name, (long long)out->version);
    else
        snprintf(out->selector, sl, "%s", out->name);
    return 0;
}
