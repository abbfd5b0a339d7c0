/* pattern_pcre2.c - the AllowedPattern engine for patterns TRE cannot run
 * (lookaround): PCRE2 compiled in UTF mode, for the whole value or a
 * search, and run with the DFA matcher only, with every resource it can
 * consume capped. */
#include "core/pattern_pcre2.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* AWS caps AllowedPattern at 1024 characters. */
#define LV_PATTERN_MAX_LEN 1024
/* Nesting of any kind of parenthesis; keeps the compiler's recursion small. */
#define LV_PATTERN_MAX_PARENS 64
/* DFA workspace, in ints (3 per state, two state lists): it bounds the
 * memory of a match. Nested repeats such as ^([a-z0-9]+[-_.]?)*$ keep about
 * one state per character of a long run, so the size decides how long a run
 * such patterns can take (about 5000 characters here; the deadline usually
 * ends them sooner, as PCRE2 de-duplicates states in quadratic time).
 * Exceeding it is an error, not a fallback. Kept below glibc's mmap
 * threshold so the per-match malloc stays cheap. */
#define LV_PATTERN_WORKSPACE 30000
/* Nested internal calls (lookarounds, atomic groups, recursion). */
#define LV_PATTERN_DEPTH_LIMIT 64
/* Heap the DFA may use once its stack vector is full, in KiB. */
#define LV_PATTERN_HEAP_LIMIT_KIB 1024
/* The DFA counts one "call" per start position and per lookaround entry. */
#define LV_PATTERN_MATCH_LIMIT 5000000
/* Wall-clock budget of one match. PCRE2's DFA is not linear even when
 * anchored: a lookahead such as (?=.*x) is re-run at every position the
 * automaton reaches, and nested repeats keep a state per character, and no
 * PCRE2 counter measures that work. Auto-callouts let us look at a clock
 * between steps and abort. */
#define LV_PATTERN_DEADLINE_NS 500000000LL
/* Reading the clock on every callout would dominate cheap matches. */
#define LV_PATTERN_CLOCK_EVERY 64
/* Private code our callout returns to abort; any negative value is passed
 * through by pcre2_dfa_match, and this one is far below PCRE2's own codes. */
#define LV_PATTERN_ERR_DEADLINE (-10000)

struct lv_pcre2_pattern {
    pcre2_code *code;
    bool whole;
};

struct match_budget {
    int64_t deadline_ns;
    unsigned calls;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int budget_callout(pcre2_callout_block *cb, void *data)
{
    (void)cb;
    struct match_budget *b = data;
    if (++b->calls % LV_PATTERN_CLOCK_EVERY == 0 && now_ns() > b->deadline_ns)
        return LV_PATTERN_ERR_DEADLINE;
    return 0;
}

/* Finds constructs PCRE2 compiles but its DFA matcher cannot run (or that
 * Java, whose syntax AWS accepts, does not have), so they are refused when
 * the pattern is set rather than when a value is checked. Backreferences are
 * found after compiling (PCRE2_INFO_BACKREFMAX), which is exact; this scan
 * only has to know escapes, \Q..\E and character classes. It does not know
 * (?x) comments, so "# (*" in an extended-mode comment is refused too: a
 * false refusal is harmless, and anything it misses still fails cleanly at
 * match time. Returns a reason, or NULL. */
static const char *unsupported_construct(const char *p, size_t len,
                                         size_t *at)
{
    bool in_class = false;
    size_t i = 0;
    while (i < len) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 >= len)
                return NULL; /* pcre2_compile reports the trailing '\' */
            char n = p[i + 1];
            if (n == 'Q') {
                /* Everything up to \E (or the end) is literal. */
                size_t j = i + 2;
                while (j + 1 < len && !(p[j] == '\\' && p[j + 1] == 'E'))
                    j++;
                i = j + 1 < len ? j + 2 : len;
                continue;
            }
            if (n == 'K' && !in_class) {
                *at = i;
                return "\\K is not supported";
            }
            i += 2;
            continue;
        }
        if (in_class) {
            if (c == '[' && i + 1 < len &&
                (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
                /* POSIX class such as [:alpha:]: its ']' does not close. */
                char kind = p[i + 1];
                size_t j = i + 2;
                while (j + 1 < len && !(p[j] == kind && p[j + 1] == ']'))
                    j++;
                if (j + 1 < len) {
                    i = j + 2;
                    continue;
                }
            } else if (c == ']') {
                in_class = false;
            }
            i++;
            continue;
        }
        if (c == '[') {
            in_class = true;
            i++;
            if (i < len && p[i] == '^')
                i++;
            if (i < len && p[i] == ']')
                i++; /* a leading ']' is a literal */
            continue;
        }
        if (c == '(' && i + 1 < len) {
            if (p[i + 1] == '*') {
                *at = i;
                return "(*...) verbs and settings are not supported";
            }
            if (p[i + 1] == '?' && i + 2 < len && p[i + 2] == '(') {
                *at = i;
                return "conditional groups (?(...)...) are not supported";
            }
            if (p[i + 1] == '?' && i + 2 < len && p[i + 2] == '#') {
                /* Comment group: its text is not pattern. */
                size_t j = i + 3;
                while (j < len && p[j] != ')')
                    j++;
                i = j < len ? j + 1 : len;
                continue;
            }
        }
        i++;
    }
    return NULL;
}

static lv_err pcre2_failure(lv_error *err, int rc, const char *what)
{
    PCRE2_UCHAR msg[256];
    if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
        strcpy((char *)msg, "unknown PCRE2 error");
    if (rc == PCRE2_ERROR_NOMEMORY)
        return lv_error_set(err, LV_E_NOMEM, "%s: %s", what, (char *)msg);
    return lv_error_set(err, LV_E_INTERNAL, "%s: %s", what, (char *)msg);
}

lv_err lv_pcre2_compile(const char *pat, size_t len, bool whole, lv_pcre2_pattern **out,
                        lv_error *err)
{
    *out = NULL;
    if (pat == NULL && len > 0)
        return lv_error_set(err, LV_E_INTERNAL, "pattern is NULL");
    if (len > LV_PATTERN_MAX_LEN)
        return lv_error_set(err, LV_E_INVALID_ALLOWED_PATTERN,
                            "AllowedPattern is %zu characters long; the "
                            "maximum is %d",
                            len, LV_PATTERN_MAX_LEN);

    size_t at = 0;
    const char *why = unsupported_construct(pat ? pat : "", len, &at);
    if (why != NULL)
        return lv_error_set(err, LV_E_INVALID_ALLOWED_PATTERN,
                            "invalid AllowedPattern at offset %zu: %s", at,
                            why);

    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (cctx == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory compiling pattern");
    pcre2_set_max_pattern_length(cctx, LV_PATTERN_MAX_LEN);
    pcre2_set_parens_nest_limit(cctx, LV_PATTERN_MAX_PARENS);

    int ec = 0;
    PCRE2_SIZE eoff = 0;
    /* UTF: values are JSON strings, so characters, not bytes. \C would step
     * into the middle of a character; AUTO_CALLOUT feeds the deadline. */
    pcre2_code *code = pcre2_compile(
        (PCRE2_SPTR)(pat ? pat : ""), len,
        PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | PCRE2_AUTO_CALLOUT |
            (whole ? PCRE2_ANCHORED : 0),
        &ec, &eoff,
        cctx);
    pcre2_compile_context_free(cctx);
    if (code == NULL) {
        if (ec == PCRE2_ERROR_NOMEMORY)
            return lv_error_set(err, LV_E_NOMEM,
                                "out of memory compiling pattern");
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
            strcpy((char *)msg, "unknown error");
        return lv_error_set(err, LV_E_INVALID_ALLOWED_PATTERN,
                            "invalid AllowedPattern at offset %zu: %s",
                            (size_t)eoff, (char *)msg);
    }

    uint32_t backrefs = 0;
    if (pcre2_pattern_info(code, PCRE2_INFO_BACKREFMAX, &backrefs) != 0 ||
        backrefs > 0) {
        pcre2_code_free(code);
        return lv_error_set(err, LV_E_INVALID_ALLOWED_PATTERN,
                            "invalid AllowedPattern: backreferences are not "
                            "supported");
    }

    lv_pcre2_pattern *p = malloc(sizeof *p);
    if (p == NULL) {
        pcre2_code_free(code);
        return lv_error_set(err, LV_E_NOMEM, "out of memory compiling pattern");
    }
    p->code = code;
    p->whole = whole;
    *out = p;
    return LV_OK;
}

lv_err lv_pcre2_match(const lv_pcre2_pattern *p, const char *s, size_t len,
                        bool *matched, lv_error *err)
{
    *matched = false;
    if (s == NULL && len > 0)
        return lv_error_set(err, LV_E_INTERNAL, "subject is NULL");

    /* Per call, not per pattern: a compiled pattern is shared by threads,
     * and the callout data (the deadline) belongs to one match. */
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    /* DFA results need no capture slots; one pair is the minimum. */
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (mctx == NULL || md == NULL) {
        pcre2_match_context_free(mctx);
        pcre2_match_data_free(md);
        return lv_error_set(err, LV_E_NOMEM, "out of memory matching pattern");
    }
    struct match_budget budget = {now_ns() + LV_PATTERN_DEADLINE_NS, 0};
    pcre2_set_match_limit(mctx, LV_PATTERN_MATCH_LIMIT);
    pcre2_set_depth_limit(mctx, LV_PATTERN_DEPTH_LIMIT);
    pcre2_set_heap_limit(mctx, LV_PATTERN_HEAP_LIMIT_KIB);
    pcre2_set_callout(mctx, budget_callout, &budget);

    /* Heap, not stack: matches run on server threads with small stacks. */
    int *workspace = malloc(LV_PATTERN_WORKSPACE * sizeof *workspace);
    if (workspace == NULL) {
        pcre2_match_context_free(mctx);
        pcre2_match_data_free(md);
        return lv_error_set(err, LV_E_NOMEM, "out of memory matching pattern");
    }
    /* Whole value (Java's String.matches): the pattern was compiled
     * ANCHORED, and the DFA matcher reports the matches from that start
     * longest first, so the value matches iff the first one ends at its end.
     * PCRE2_ENDANCHORED would say the same but loses matches after a
     * lookbehind (x(?<=x)y against "xy") in 10.42's DFA matcher. A return
     * of 0 means more matches than slots; the first slot is still set.
     * A search only needs to know that a match exists, and
     * PCRE2_DFA_SHORTEST ends the scan at the first one. */
    int rc = pcre2_dfa_match(p->code, (PCRE2_SPTR)(s ? s : ""), len, 0,
                             p->whole ? 0 : PCRE2_DFA_SHORTEST, md, mctx, workspace,
                             LV_PATTERN_WORKSPACE);
    PCRE2_SIZE end = rc >= 0 ? pcre2_get_ovector_pointer(md)[1] : 0;
    free(workspace);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);

    if (rc >= 0) {
        *matched = !p->whole || end == len;
        return LV_OK;
    }
    switch (rc) {
    case PCRE2_ERROR_NOMATCH:
        return LV_OK;
    case LV_PATTERN_ERR_DEADLINE:
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_DFA_WSSIZE:
    case PCRE2_ERROR_DFA_RECURSE:
        return lv_error_set(err, LV_E_INVALID_ALLOWED_PATTERN,
                            "AllowedPattern is too complex to evaluate "
                            "against this value (%s)",
                            rc == LV_PATTERN_ERR_DEADLINE
                                ? "time limit reached"
                                : "resource limit reached");
    case PCRE2_ERROR_DFA_UITEM:
    case PCRE2_ERROR_DFA_UCOND:
    case PCRE2_ERROR_DFA_UFUNC:
    case PCRE2_ERROR_RECURSELOOP: {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
            strcpy((char *)msg, "unsupported construct");
        return lv_error_set(err, LV_E_INVALID_ALLOWED_PATTERN,
                            "AllowedPattern cannot be evaluated: %s",
                            (char *)msg);
    }
    case PCRE2_ERROR_NOMEMORY:
        return pcre2_failure(err, rc, "matching AllowedPattern");
    default:
        break;
    }
    /* PCRE2's UTF-8 check errors are a contiguous range. */
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
            strcpy((char *)msg, "invalid UTF-8");
        return lv_error_set(err, LV_E_VALIDATION,
                            "value is not valid UTF-8: %s", (char *)msg);
    }
    return pcre2_failure(err, rc, "matching AllowedPattern");
}

void lv_pcre2_free(lv_pcre2_pattern *p)
{
    if (p == NULL)
        return;
    pcre2_code_free(p->code);
    free(p);
}
