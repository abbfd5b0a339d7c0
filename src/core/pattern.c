/* pattern.c - AllowedPattern matching in linear time.
 *
 * AWS takes Java-style regular expressions. Backtracking engines (Java's,
 * PCRE2's matcher) take exponential time on patterns such as ^(a+)+$, and
 * PCRE2's DFA matcher is super-linear too (it restarts at every offset and
 * keeps a state per character on nested repeats). TRE's tagged-NFA matcher
 * runs in time linear in the value whatever the pattern, so lever uses it
 * for every pattern it can express (see docs/decisions.md). TRE speaks
 * POSIX extended syntax plus \d \w \s \b and (?i); this file translates the
 * Java constructs that differ, mainly inside bracket expressions. Patterns
 * with lookaround, which no linear engine offers, go to PCRE2's DFA matcher
 * under strict time and memory bounds (pattern_pcre2.c). Both engines
 * answer either whether the pattern matches the whole value (Java's
 * String.matches: AllowedPattern) or whether it matches somewhere in it
 * (Java's find(): the flag rules' `matches`). */
#include "core/pattern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tre/tre.h>
#include <wchar.h>

#include "core/buf.h"
#include "core/pattern_pcre2.h"

enum { PATTERN_MAX = 1024, REPEAT_MAX = 255 };

/* Returned by translate() when only the PCRE2 engine can run the pattern. */
#define NEEDS_PCRE2 LV_E_UNAVAILABLE

struct lv_pattern {
    bool tre;
    bool whole;     /* the whole value must match (else a search) */
    regex_t re;
    lv_pcre2_pattern *pc;
};

static lv_err bad(lv_error *err, const char *why)
{
    return lv_error_set(err, LV_E_INVALID_ALLOWED_PATTERN,
                        "The allowed pattern is not a valid regular expression: %s.", why);
}

static void set_range(char *set, unsigned lo, unsigned hi)
{
    for (unsigned v = lo; v <= hi; v++)
        set[v] = 1;
}

static bool shorthand(char *set, char k)
{
    switch (k) {
    case 'd': set_range(set, '0', '9'); return true;
    case 'w':
        set_range(set, 'a', 'z');
        set_range(set, 'A', 'Z');
        set_range(set, '0', '9');
        set['_'] = 1;
        return true;
    case 's':
        set[' '] = set['\t'] = set['\n'] = set['\r'] = set['\f'] = set['\v'] = 1;
        return true;
    }
    return false;
}

/* The byte an escape inside a class stands for, or -1 when unsupported. */
static int class_escape(char k)
{
    switch (k) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'f': return '\f';
    }
    if ((k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z') || (k >= '0' && k <= '9'))
        return -1;
    return (unsigned char)k; /* \. \- \] \\ \/ ... are the character itself */
}

/* Parses a Java bracket expression at *pp (just after '[') into the set of
 * bytes it denotes and emits it as a POSIX bracket expression, which has
 * no escapes: ']' goes first, '-' last, '^' anywhere but first. */
static lv_err translate_class(const char **pp, const char *end, lv_buf *out, lv_error *err)
{
    const char *p = *pp;
    bool neg = false;
    if (p < end && *p == '^') {
        neg = true;
        p++;
    }
    char set[256];
    memset(set, 0, sizeof set);
    bool first = true;
    while (p < end && (*p != ']' || first)) {
        first = false;
        int lo, hi;
        if (*p == '[')
            return NEEDS_PCRE2; /* unions, intersections, POSIX classes */
        if (*p == '\\') {
            if (p + 1 >= end)
                return bad(err, "trailing backslash in a character class");
            char k = p[1];
            p += 2;
            if (shorthand(set, k))
                continue;
            if ((lo = class_escape(k)) < 0)
                return NEEDS_PCRE2; /* \D \W \S \p{..} \x.. inside a class */
        } else {
            lo = (unsigned char)*p++;
        }
        hi = lo;
        if (p + 1 < end && *p == '-' && p[1] != ']') {
            p++;
            if (*p == '\\') {
                if (p + 1 >= end || (hi = class_escape(p[1])) < 0)
                    return NEEDS_PCRE2;
                p += 2;
            } else {
                hi = (unsigned char)*p++;
            }
            if (hi < lo)
                return bad(err, "character range out of order");
        }
        set_range(set, (unsigned)lo, (unsigned)hi);
    }
    if (p >= end)
        return bad(err, "unterminated character class");
    *pp = p + 1;
    if (set[0])
        return bad(err, "NUL in a character class");
    bool only_caret = set['^'];
    for (unsigned v = 1; v < 256 && only_caret; v++)
        only_caret = v == '^' || !set[v];
    if (only_caret)
        return lv_buf_puts(out, neg ? "[^^]" : "\\^");
    lv_err rc = lv_buf_puts(out, neg ? "[^" : "[");
    if (rc == LV_OK && set[']'])
        rc = lv_buf_putc(out, ']');
    for (unsigned v = 1; v < 256 && rc == LV_OK; v++) {
        if (!set[v] || v == ']' || v == '-' || v == '^')
            continue;
        unsigned w = v;
        while (w + 1 < 256 && set[w + 1] && w + 1 != ']' && w + 1 != '-' && w + 1 != '^')
            w++;
        rc = lv_buf_putc(out, (char)v);
        if (rc == LV_OK && w > v + 1)
            rc = lv_buf_putc(out, '-');
        if (rc == LV_OK && w > v)
            rc = lv_buf_putc(out, (char)w);
        v = w;
    }
    if (rc == LV_OK && set['^'])
        rc = lv_buf_putc(out, '^');
    if (rc == LV_OK && set['-'])
        rc = lv_buf_putc(out, '-');
    if (rc == LV_OK)
        rc = lv_buf_putc(out, ']');
    return rc;
}

/* Java syntax to TRE syntax; NEEDS_PCRE2 for what only PCRE2 can do. */
static lv_err translate(const char *pat, size_t len, lv_buf *out, lv_error *err)
{
    const char *p = pat, *end = pat + len;
    lv_err rc = LV_OK;
    while (p < end && rc == LV_OK) {
        char ch = *p;
        if (ch == '[') {
            p++;
            rc = translate_class(&p, end, out, err);
            continue;
        }
        if (ch == '\\') {
            if (p + 1 >= end)
                return bad(err, "trailing backslash");
            char k = p[1];
            if (k >= '1' && k <= '9')
                return bad(err, "backreferences are not supported");
            bool alnum = (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z') || (k >= '0' && k <= '9');
            if (k == 'n' || k == 't' || k == 'r' || k == 'f')
                rc = lv_buf_putc(out, (char)class_escape(k));
            else if (!alnum || strchr("dDwWsSbB", k) != NULL)
                rc = lv_buf_append(out, p, 2); /* TRE knows these */
            else
                return NEEDS_PCRE2; /* \Q..\E, \A, \z, \p{..}, \x.., \u.... */
            p += 2;
            continue;
        }
        if (ch == '(' && p + 1 < end && p[1] == '?') {
            if (p + 2 < end && p[2] == ':') {
                rc = lv_buf_putc(out, '('); /* (?:x) is (x) for a yes/no match */
                p += 3;
                continue;
            }
            if (!(p + 3 < end && p[2] == 'i' && p[3] == ')'))
                return NEEDS_PCRE2; /* lookaround, atomic, named groups, flags */
        }
        if (ch == '{') {
            /* TRE's automaton grows with repetition counts: large ones go
             * to the bounded engine. */
            long n = 0;
            for (const char *q = p + 1; q < end && ((*q >= '0' && *q <= '9') || *q == ','); q++) {
                n = *q == ',' ? 0 : n * 10 + (*q - '0');
                if (n > REPEAT_MAX)
                    return NEEDS_PCRE2;
            }
        }
        if ((ch == '+' || ch == '?') && p > pat && strchr("+*?}", p[-1]) && !(p - 1 > pat && p[-2] == '\\')) {
            /* Lazy (a+?) equals greedy for a yes/no match; possessive (a++)
             * changes the language and needs PCRE2. */
            if (ch == '+')
                return NEEDS_PCRE2;
            p++;
            continue;
        }
        rc = lv_buf_putc(out, ch);
        p++;
    }
    return rc;
}

/* Decodes UTF-8 into code points (wchar_t is 32-bit on the platforms lever
 * supports), so TRE matches characters, not bytes, whatever the locale.
 * Returns false on malformed input. *out is malloc'd (caller frees). */
static bool utf8_decode(const char *s, size_t len, wchar_t **out, size_t *outlen)
{
    wchar_t *w = malloc((len + 1) * sizeof *w);
    if (w == NULL)
        return false;
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        uint32_t c = *p, min;
        unsigned extra;
        if (c < 0x80) { extra = 0; min = 0; }
        else if ((c & 0xE0) == 0xC0) { c &= 0x1F; extra = 1; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { c &= 0x0F; extra = 2; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { c &= 0x07; extra = 3; min = 0x10000; }
        else goto bad;
        if ((size_t)(end - p) <= extra)
            goto bad;
        for (unsigned i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0) != 0x80)
                goto bad;
            c = c << 6 | (p[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            goto bad;
        w[n++] = (wchar_t)c;
        p += extra + 1;
    }
    w[n] = 0;
    *out = w;
    *outlen = n;
    return true;
bad:
    free(w);
    return false;
}

static lv_err compile(const char *pat, size_t len, bool whole, lv_pattern **out, lv_error *err)
{
    *out = NULL;
    if (len > PATTERN_MAX)
        return lv_error_set(err, LV_E_INVALID_ALLOWED_PATTERN,
                            "The allowed pattern is longer than %d characters.", PATTERN_MAX);
    if (memchr(pat, '\0', len) != NULL)
        return bad(err, "it contains a NUL character");
    lv_pattern *p = calloc(1, sizeof *p);
    if (p == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    /* PCRE2's syntax is close to Java's: it is the judge of what is a valid
     * pattern (with its messages and offsets) and of constructs no
     * automaton can run (backreferences...). */
    p->whole = whole;
    lv_err rc = lv_pcre2_compile(pat, len, whole, &p->pc, err);
    if (rc != LV_OK) {
        free(p);
        return rc;
    }
    /* Whole-value semantics (Java's String.matches, which Parameter Store
     * uses): the translation is wrapped in ^( )$, so an alternation or an
     * inner anchor cannot escape the anchoring. A search runs it as is. */
    lv_buf tr = LV_BUF_INIT;
    rc = whole ? lv_buf_puts(&tr, "^(") : LV_OK;
    if (rc == LV_OK)
        rc = translate(pat, len, &tr, err);
    if (rc == LV_OK && whole)
        rc = lv_buf_puts(&tr, ")$");
    if (rc == NEEDS_PCRE2) {
        lv_buf_free(&tr);
        *out = p;
        return LV_OK;
    }
    wchar_t *wpat = NULL;
    size_t wlen = 0;
    if (rc == LV_OK && !utf8_decode(tr.data ? tr.data : "", tr.len, &wpat, &wlen))
        rc = bad(err, "it is not valid UTF-8");
    lv_buf_free(&tr);
    if (rc != LV_OK) {
        lv_pcre2_free(p->pc);
        free(p);
        return rc == LV_E_INVALID_ALLOWED_PATTERN ? rc : lv_error_set(err, rc, "out of memory");
    }
    int ec = tre_regwncomp(&p->re, wpat, wlen, REG_EXTENDED | REG_NOSUB);
    free(wpat);
    if (ec != 0) {
        /* PCRE2 accepted it, so this is a TRE limit: run it bounded. */
        *out = p;
        return LV_OK;
    }
    lv_pcre2_free(p->pc);
    p->pc = NULL;
    p->tre = true;
    *out = p;
    return LV_OK;
}

lv_err lv_pattern_compile(const char *pat, size_t len, lv_pattern **out, lv_error *err)
{
    return compile(pat, len, false, out, err);
}

lv_err lv_pattern_compile_whole(const char *pat, size_t len, lv_pattern **out, lv_error *err)
{
    return compile(pat, len, true, out, err);
}

lv_err lv_pattern_match(const lv_pattern *p, const char *s, size_t len, bool *matched, lv_error *err)
{
    *matched = false;
    if (!p->tre)
        return lv_pcre2_match(p->pc, s, len, matched, err);
    wchar_t *w;
    size_t wl;
    if (!utf8_decode(s, len, &w, &wl))
        return lv_error_set(err, LV_E_VALIDATION, "The parameter value is not valid UTF-8.");
    int rc = tre_regwnexec(&p->re, w, wl, 0, NULL, 0);
    free(w);
    if (rc == 0 || rc == REG_NOMATCH) {
        *matched = rc == 0;
        return LV_OK;
    }
    return lv_error_set(err, rc == REG_ESPACE ? LV_E_NOMEM : LV_E_INTERNAL,
                        "The allowed pattern could not be evaluated (error %d).", rc);
}

void lv_pattern_free(lv_pattern *p)
{
    if (p == NULL)
        return;
    if (p->tre)
        tre_regfree(&p->re);
    else
        lv_pcre2_free(p->pc);
    free(p);
}

lv_err lv_pattern_check(const char *pat, const char *s, size_t len, bool *matched, lv_error *err)
{
    *matched = false;
    lv_pattern *p;
    lv_err rc = lv_pattern_compile_whole(pat, strlen(pat), &p, err);
    if (rc != LV_OK)
        return rc;
    rc = lv_pattern_match(p, s, len, matched, err);
    lv_pattern_free(p);
    return rc;
}
