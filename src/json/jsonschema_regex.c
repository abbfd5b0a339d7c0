/* jsonschema_regex.c - JSON Schema's ECMA-262 regular expressions on PCRE2.
 * The syntax is checked for constructs ECMA-262 lacks (\Z, \A, inline
 * flags, possessive quantifiers, verbs...), the few that mean something else
 * are translated, and matches run with PCRE2's match, depth and heap limits
 * so no pattern/value pair can run unbounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "json/jsonschema_int.h"

enum {
    JS_RE_MAX_LEN = 8192,
    JS_RE_MAX_PARENS = 64,
    JS_RE_MATCH_LIMIT = 1000000,
    JS_RE_DEPTH_LIMIT = 2000,
    JS_RE_HEAP_KIB = 8192,
};

struct js_regex {
    pcre2_code *code;
    pcre2_match_context *mctx;
};

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Checks src for ECMA-262 syntax PCRE2 would read differently or that
 * ECMA-262 does not have, and writes the PCRE2 spelling to out. Returns
 * NULL or the reason for refusing. */
static const char *translate(const char *p, size_t len, lv_buf *out, size_t *at)
{
    bool in_class = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        *at = i;
        if (c == '\\') {
            if (i + 1 >= len)
                return "a trailing backslash";
            char k = p[++i];
            if (!is_alnum(k)) {
                /* An identity escape: the character itself. */
                lv_buf_putc(out, '\\');
                lv_buf_putc(out, k);
                continue;
            }
            switch (k) {
            case 'v':
                /* ECMA-262 \v is the vertical tab; PCRE2's is a class. */
                lv_buf_puts(out, "\\x0b");
                continue;
            case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
            case 'f': case 'n': case 'r': case 't': case '0':
                break;
            case 'b': case 'B':
                if (in_class && k == 'B')
                    return "\\B inside a character class";
                break;
            case 'c':
                if (i + 1 >= len || !((p[i + 1] >= 'a' && p[i + 1] <= 'z') ||
                                      (p[i + 1] >= 'A' && p[i + 1] <= 'Z')))
                    return "\\c must be followed by a letter";
                break;
            case 'x':
                if (i + 2 >= len || !is_hex(p[i + 1]) || !is_hex(p[i + 2]))
                    return "\\x must be followed by two hexadecimal digits";
                break;
            case 'u':
                if (i + 4 >= len || !is_hex(p[i + 1]) || !is_hex(p[i + 2]) || !is_hex(p[i + 3]) ||
                    !is_hex(p[i + 4]))
                    return "\\u must be followed by four hexadecimal digits";
                break;
            case 'p': case 'P':
                if (i + 1 >= len || p[i + 1] != '{')
                    return "\\p must be followed by {property}";
                break;
            case 'k':
                if (in_class || i + 1 >= len || p[i + 1] != '<')
                    return "\\k must be followed by <name>";
                break;
            default:
                if (k >= '1' && k <= '9' && !in_class)
                    break; /* backreference */
                return "an escape ECMA-262 does not have";
            }
            lv_buf_putc(out, '\\');
            lv_buf_putc(out, k);
            continue;
        }
        if (in_class) {
            if (c == ']')
                in_class = false;
            if (c == '[' && i + 1 < len && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
                /* PCRE2 reads [:alpha:] as a POSIX class; ECMA-262 as characters. */
                lv_buf_puts(out, "\\[");
                continue;
            }
            lv_buf_putc(out, c);
            continue;
        }
        switch (c) {
        case '[':
            in_class = true;
            lv_buf_putc(out, c);
            if (i + 1 < len && p[i + 1] == '^')
                lv_buf_putc(out, p[++i]);
            if (i + 1 < len && p[i + 1] == ']') {
                /* [] and [^]: an empty class (PCRE2_ALLOW_EMPTY_CLASS). */
                lv_buf_putc(out, p[++i]);
                in_class = false;
            }
            continue;
        case '(':
            if (i + 1 < len && p[i + 1] == '*')
                return "(* is not ECMA-262 syntax";
            if (i + 1 < len && p[i + 1] == '?') {
                char k = i + 2 < len ? p[i + 2] : '\0';
                char k2 = i + 3 < len ? p[i + 3] : '\0';
                bool okg = k == ':' || k == '=' || k == '!' ||
                           (k == '<' && (k2 == '=' || k2 == '!' || k2 == '_' ||
                                         (is_alnum(k2) && !(k2 >= '0' && k2 <= '9'))));
                if (!okg)
                    return "a group ECMA-262 does not have (inline flags, atomic, comment...)";
            }
            break;
        case '*': case '+': case '?':
            if (i + 1 < len && p[i + 1] == '+')
                return "possessive quantifiers are not ECMA-262 syntax";
            break;
        default:
            break;
        }
        lv_buf_putc(out, c);
    }
    if (in_class)
        return "an unterminated character class";
    return NULL;
}

lv_err js_regex_compile(const char *src, size_t len, js_regex **out, char *why, size_t why_len)
{
    *out = NULL;
    if (len > JS_RE_MAX_LEN) {
        snprintf(why, why_len, "longer than %d characters", JS_RE_MAX_LEN);
        return LV_E_VALIDATION;
    }
    lv_buf t = LV_BUF_INIT;
    size_t at = 0;
    const char *bad = translate(src, len, &t, &at);
    if (bad != NULL) {
        snprintf(why, why_len, "%s at offset %zu", bad, at);
        lv_buf_free(&t);
        return LV_E_VALIDATION;
    }
    if (lv_buf_putc(&t, '\0') != LV_OK) {
        lv_buf_free(&t);
        snprintf(why, why_len, "out of memory");
        return LV_E_NOMEM;
    }
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    js_regex *re = calloc(1, sizeof *re);
    if (cctx == NULL || re == NULL) {
        pcre2_compile_context_free(cctx);
        free(re);
        lv_buf_free(&t);
        snprintf(why, why_len, "out of memory");
        return LV_E_NOMEM;
    }
    pcre2_set_parens_nest_limit(cctx, JS_RE_MAX_PARENS);
    pcre2_set_newline(cctx, PCRE2_NEWLINE_ANYCRLF);
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    re->code = pcre2_compile((PCRE2_SPTR)t.data, t.len - 1,
                             PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY |
                                 PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF |
                                 PCRE2_NEVER_BACKSLASH_C,
                             &ec, &eoff, cctx);
    pcre2_compile_context_free(cctx);
    lv_buf_free(&t);
    if (re->code == NULL) {
        PCRE2_UCHAR msg[200];
        if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "unknown error");
        snprintf(why, why_len, "%s", (char *)msg);
        free(re);
        return ec == PCRE2_ERROR_NOMEMORY ? LV_E_NOMEM : LV_E_VALIDATION;
    }
    re->mctx = pcre2_match_context_create(NULL);
    if (re->mctx == NULL) {
        js_regex_free(re);
        snprintf(why, why_len, "out of memory");
        return LV_E_NOMEM;
    }
    pcre2_set_match_limit(re->mctx, JS_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, JS_RE_DEPTH_LIMIT);
    pcre2_set_heap_limit(re->mctx, JS_RE_HEAP_KIB);
    *out = re;
    return LV_OK;
}

int js_regex_search(const js_regex *re, const char *s, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (md == NULL)
        return -1;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md, re->mctx);
    pcre2_match_data_free(md);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

void js_regex_free(js_regex *re)
{
    if (re == NULL)
        return;
    pcre2_code_free(re->code);
    pcre2_match_context_free(re->mctx);
    free(re);
}
