/* flagrule.c - parser of AWS AppConfig's flag rule language: Ion
 * s-expressions such as (and (eq $tier "gold") (split pct::10 by::$userId)).
 * Recursive descent with an explicit depth bound, a node bound and the
 * length bound, so untrusted rules cost at most linear time and memory.
 * The grammar and its meaning are in docs/flags.md. */
#include "core/flagrule.h"
#include "core/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bucket.h"
#include "core/flagrule_int.h"

typedef struct parser {
    const char *s;
    size_t len, pos;
    lv_flagrule *r;
    unsigned patterns;
    lv_error *err;
} parser;

static lv_err fail_at(parser *p, size_t pos, const char *fmt, const char *arg)
{
    if (p->err && p->err->code != LV_OK)
        return p->err->code; /* keep the first, innermost message */
    char what[256];
    snprintf(what, sizeof what, fmt, arg ? arg : "");
    return lv_error_set(p->err, LV_E_VALIDATION, "position %zu: %s", pos + 1, what);
}

static lv_err nomem(parser *p)
{
    return lv_error_set(p->err, LV_E_NOMEM, "out of memory parsing a rule");
}

static bool is_delim(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v' || c == '(' || c == ')' || c == '[' || c == ']' ||
           c == ',' || c == '"' || c == '\'' || c == '\0';
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_key_char(char c)
{
    return is_ident(c) || c == '-' || c == '.';
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            p->pos++;
        else
            break;
    }
}

static lv_err new_node(parser *p, fr_kind kind, size_t pos, uint32_t *out)
{
    lv_flagrule *r = p->r;
    if (r->n >= LV_FLAGRULE_MAX_NODES)
        return fail_at(p, pos, "the rule has more than %s operators and operands", "2048");
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 16;
        fr_node *nn = realloc(r->nodes, (size_t)cap * sizeof *nn);
        if (nn == NULL)
            return nomem(p);
        r->nodes = nn;
        r->cap = cap;
    }
    fr_node *n = &r->nodes[r->n];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->first = n->next = FR_NONE;
    n->str = n->seed = FR_NONE;
    n->pos = (uint32_t)pos;
    *out = r->n++;
    return LV_OK;
}

static lv_err pool_add(parser *p, const char *b, size_t n, uint32_t *off)
{
    lv_flagrule *r = p->r;
    if (r->pool_len + n + 1 > r->pool_cap) {
        size_t cap = r->pool_cap ? r->pool_cap : 64;
        while (cap < r->pool_len + n + 1)
            cap *= 2;
        char *np = realloc(r->pool, cap);
        if (np == NULL)
            return nomem(p);
        r->pool = np;
        r->pool_cap = cap;
    }
    *off = (uint32_t)r->pool_len;
    if (n)
        memcpy(r->pool + r->pool_len, b, n);
    r->pool[r->pool_len + n] = '\0';
    r->pool_len += n + 1;
    return LV_OK;
}

static bool read_hex(parser *p, size_t digits, uint32_t *cp)
{
    if (p->len - p->pos < digits)
        return false;
    uint32_t v = 0;
    for (size_t k = 0; k < digits; k++) {
        int h = lv_hexval(p->s[p->pos + k]);
        if (h < 0)
            return false;
        v = v * 16 + (uint32_t)h;
    }
    p->pos += digits;
    *cp = v;
    return true;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A double-quoted string at p->pos, unescaped into the pool. The decoded
 * form is never longer than the source, so one buffer of the rest of the
 * rule is enough. */
static lv_err parse_string(parser *p, uint32_t *off, uint32_t *olen)
{
    size_t start = p->pos++;
    char *buf = malloc(p->len - p->pos + 4);
    if (buf == NULL)
        return nomem(p);
    size_t n = 0;
    lv_err rc = LV_OK;
    for (;;) {
        if (p->pos >= p->len) {
            rc = fail_at(p, start, "unterminated string%s", NULL);
            break;
        }
        char c = p->s[p->pos++];
        if (c == '"')
            break;
        if ((unsigned char)c < 0x20 && c != '\t') {
            rc = fail_at(p, p->pos - 1, "control character in a string%s", NULL);
            break;
        }
        if (c != '\\') {
            buf[n++] = c;
            continue;
        }
        if (p->pos >= p->len) {
            rc = fail_at(p, start, "unterminated string%s", NULL);
            break;
        }
        char e = p->s[p->pos++];
        uint32_t cp = 0;
        switch (e) {
        case '"': buf[n++] = '"'; continue;
        case '\\': buf[n++] = '\\'; continue;
        case '/': buf[n++] = '/'; continue;
        case '\'': buf[n++] = '\''; continue;
        case 'n': buf[n++] = '\n'; continue;
        case 't': buf[n++] = '\t'; continue;
        case 'r': buf[n++] = '\r'; continue;
        case 'b': buf[n++] = '\b'; continue;
        case 'f': buf[n++] = '\f'; continue;
        case 'v': buf[n++] = '\v'; continue;
        case 'x':
            if (!read_hex(p, 2, &cp))
                goto bad_escape;
            break;
        case 'u':
            if (!read_hex(p, 4, &cp))
                goto bad_escape;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                    goto bad_escape;
                p->pos += 2;
                if (!read_hex(p, 4, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    goto bad_escape;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                goto bad_escape;
            }
            break;
        case 'U':
            if (!read_hex(p, 8, &cp) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                goto bad_escape;
            break;
        default:
            goto bad_escape;
        }
        if (cp == 0) {
            rc = fail_at(p, p->pos - 1, "NUL characters are not allowed in strings%s", NULL);
            break;
        }
        n += put_utf8(buf + n, cp);
        continue;
    bad_escape:
        rc = fail_at(p, p->pos - 1, "invalid escape sequence in a string%s", NULL);
        break;
    }
    if (rc == LV_OK)
        rc = pool_add(p, buf, n, off);
    *olen = (uint32_t)n;
    free(buf);
    return rc;
}

static void add_child(lv_flagrule *r, uint32_t parent, uint32_t *last, uint32_t kid)
{
    if (*last == FR_NONE)
        r->nodes[parent].first = kid;
    else
        r->nodes[*last].next = kid;
    *last = kid;
    r->nodes[parent].nkids++;
}

static const struct {
    const char *name;
    fr_op op;
} OPS[] = {
    {"and", OP_AND},           {"or", OP_OR},
    {"not", OP_NOT},           {"eq", OP_EQ},
    {"neq", OP_NEQ},           {"gt", OP_GT},
    {"gte", OP_GTE},           {"lt", OP_LT},
    {"lte", OP_LTE},           {"begins_with", OP_BEGINS_WITH},
    {"ends_with", OP_ENDS_WITH}, {"contains", OP_CONTAINS},
    {"in", OP_IN},             {"matches", OP_MATCHES},
    {"exists", OP_EXISTS},     {"split", OP_SPLIT},
};

static lv_err parse_value(parser *p, unsigned depth, uint32_t *out);

/* A number or a timestamp: the token up to the next delimiter. */
static lv_err parse_scalar_token(parser *p, uint32_t *out)
{
    size_t start = p->pos;
    while (p->pos < p->len && !is_delim(p->s[p->pos]))
        p->pos++;
    const char *t = p->s + start;
    size_t n = p->pos - start;
    char tok[64];
    snprintf(tok, sizeof tok, "%.*s", (int)(n < 40 ? n : 40), t);
    bool is_int;
    int64_t iv;
    double fv;
    lv_err rc;
    if (lv_fr_parse_number(t, n, &is_int, &iv, &fv)) {
        rc = new_node(p, is_int ? FR_INT : FR_FLOAT, start, out);
        if (rc != LV_OK)
            return rc;
        if (is_int)
            p->r->nodes[*out].v.i = iv;
        else
            p->r->nodes[*out].v.f = fv;
        return LV_OK;
    }
    int64_t sec;
    int32_t nsec;
    if (lv_flagrule_parse_time(t, n, &sec, &nsec)) {
        rc = new_node(p, FR_TIME, start, out);
        if (rc != LV_OK)
            return rc;
        p->r->nodes[*out].v.t.sec = sec;
        p->r->nodes[*out].v.t.nsec = nsec;
        return LV_OK;
    }
    return fail_at(p, start, "\"%s\" is neither a number nor a timestamp", tok);
}

typedef struct named {
    const char *name;
    uint32_t node; /* FR_NONE until given */
} named;

static bool is_bool_expr(const fr_node *n)
{
    return n->kind == FR_OP || n->kind == FR_BOOL;
}

static bool is_scalar(const fr_node *n)
{
    return n->kind != FR_LIST;
}

static bool is_stringish(const fr_node *n)
{
    return n->kind == FR_STRING || n->kind == FR_CTX;
}

/* Checks operand counts and kinds once the operator's arguments are read. */
static lv_err check_op(parser *p, uint32_t idx, const char *name, named *nm, size_t nnamed)
{
    lv_flagrule *r = p->r;
    fr_node *n = &r->nodes[idx];
    uint32_t pos = n->pos;
    uint32_t k = n->first;
    switch ((fr_op)n->op) {
    case OP_AND:
    case OP_OR:
        if (n->nkids < 1)
            return fail_at(p, pos, "%s needs at least one operand", name);
        for (; k != FR_NONE; k = r->nodes[k].next)
            if (!is_bool_expr(&r->nodes[k]))
                return fail_at(p, r->nodes[k].pos, "the operands of %s must be expressions or true/false", name);
        return LV_OK;
    case OP_NOT:
        if (n->nkids != 1)
            return fail_at(p, pos, "%s takes exactly one operand", name);
        if (!is_bool_expr(&r->nodes[k]))
            return fail_at(p, r->nodes[k].pos, "the operand of %s must be an expression or true/false", name);
        return LV_OK;
    case OP_EQ:
    case OP_NEQ:
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
        if (n->nkids != 2)
            return fail_at(p, pos, "%s takes exactly two operands", name);
        for (; k != FR_NONE; k = r->nodes[k].next)
            if (!is_scalar(&r->nodes[k]))
                return fail_at(p, r->nodes[k].pos, "%s compares single values, not lists", name);
        return LV_OK;
    case OP_BEGINS_WITH:
    case OP_ENDS_WITH:
    case OP_CONTAINS:
        if (n->nkids != 2)
            return fail_at(p, pos, "%s takes exactly two operands", name);
        for (; k != FR_NONE; k = r->nodes[k].next)
            if (!is_stringish(&r->nodes[k]))
                return fail_at(p, r->nodes[k].pos, "the operands of %s must be strings or context values", name);
        return LV_OK;
    case OP_IN: {
        if (n->nkids != 2)
            return fail_at(p, pos, "%s takes a value and a list", name);
        const fr_node *a = &r->nodes[k], *b = &r->nodes[a->next];
        if (!is_scalar(a))
            return fail_at(p, a->pos, "the first operand of %s must be a single value", name);
        if (b->kind != FR_LIST)
            return fail_at(p, b->pos, "the second operand of %s must be a list", name);
        return LV_OK;
    }
    case OP_MATCHES: {
        if (n->nkids != 0)
            return fail_at(p, pos, "%s takes named operands: in::VALUE pattern::\"REGEX\"", name);
        if (nm[0].node == FR_NONE || nm[1].node == FR_NONE)
            return fail_at(p, pos, "%s needs both in:: and pattern::", name);
        const fr_node *in = &r->nodes[nm[0].node];
        const fr_node *pat = &r->nodes[nm[1].node];
        if (!is_stringish(in))
            return fail_at(p, in->pos, "in:: of %s must be a string or a context value", name);
        if (pat->kind != FR_STRING)
            return fail_at(p, pat->pos, "pattern:: of %s must be a string", name);
        if (p->patterns >= LV_FLAGRULE_MAX_PATTERNS)
            return fail_at(p, pat->pos, "a rule may use at most %s regular expressions", "16");
        lv_pattern *re = NULL;
        lv_error perr;
        lv_error_clear(&perr);
        lv_err rc = lv_pattern_compile(r->pool + pat->str, pat->str_len, &re, &perr);
        if (rc == LV_E_NOMEM)
            return nomem(p);
        if (rc != LV_OK) {
            const char *why = strstr(perr.msg, ": ");
            return fail_at(p, pat->pos, "invalid regular expression%s", why ? why : "");
        }
        n = &r->nodes[idx];
        n->pattern = re;
        p->patterns++;
        n->first = nm[0].node;
        n->nkids = 1;
        r->nodes[nm[0].node].next = FR_NONE;
        return LV_OK;
    }
    case OP_EXISTS: {
        if (n->nkids != 0 || nm[0].node == FR_NONE)
            return fail_at(p, pos, "%s takes one named operand: key::\"NAME\"", name);
        const fr_node *key = &r->nodes[nm[0].node];
        if (key->kind != FR_STRING)
            return fail_at(p, key->pos, "key:: of %s must be a string", name);
        n->str = key->str;
        n->str_len = key->str_len;
        return LV_OK;
    }
    case OP_SPLIT: {
        if (n->nkids != 0)
            return fail_at(p, pos, "%s takes named operands: pct::N [by::$KEY] [seed::\"S\"]", name);
        if (nm[0].node == FR_NONE)
            return fail_at(p, pos, "%s needs pct::", name);
        const fr_node *pct = &r->nodes[nm[0].node];
        double v;
        if (pct->kind == FR_INT)
            v = (double)pct->v.i;
        else if (pct->kind == FR_FLOAT)
            v = pct->v.f;
        else
            return fail_at(p, pct->pos, "pct:: of %s must be a number", name);
        if (!(v >= 0 && v <= 100))
            return fail_at(p, pct->pos, "pct:: of %s must be between 0 and 100", name);
        n->split_bp = lv_bucket_threshold(v);
        if (nm[1].node != FR_NONE) {
            const fr_node *by = &r->nodes[nm[1].node];
            if (by->kind != FR_CTX)
                return fail_at(p, by->pos, "by:: of %s must be a context value ($key)", name);
            n->str = by->str;
            n->str_len = by->str_len;
        }
        if (nm[2].node != FR_NONE) {
            const fr_node *seed = &r->nodes[nm[2].node];
            if (seed->kind != FR_STRING)
                return fail_at(p, seed->pos, "seed:: of %s must be a string", name);
            n->seed = seed->str;
            n->seed_len = seed->str_len;
        }
        r->has_split = true;
        return LV_OK;
    }
    }
    (void)nnamed;
    return fail_at(p, pos, "unknown operator %s", name);
}

static lv_err parse_op(parser *p, unsigned depth, uint32_t *out)
{
    size_t open = p->pos++;
    if (depth >= LV_FLAGRULE_MAX_DEPTH)
        return fail_at(p, open, "the rule nests deeper than %s levels", "32");
    skip_ws(p);
    size_t npos = p->pos;
    while (p->pos < p->len && !is_delim(p->s[p->pos]))
        p->pos++;
    size_t nlen = p->pos - npos;
    char name[24];
    snprintf(name, sizeof name, "%.*s", (int)(nlen < 20 ? nlen : 20), p->s + npos);
    if (nlen == 0)
        return fail_at(p, npos, "an operator name must follow \"(\"%s", NULL);
    int op = -1;
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strlen(OPS[i].name) == nlen && memcmp(OPS[i].name, p->s + npos, nlen) == 0)
            op = (int)OPS[i].op;
    if (op < 0)
        return fail_at(p, npos, "unknown operator \"%s\"", name);
    lv_err rc = new_node(p, FR_OP, open, out);
    if (rc != LV_OK)
        return rc;
    uint32_t idx = *out;
    p->r->nodes[idx].op = (uint8_t)op;

    named nm[3] = {{NULL, FR_NONE}, {NULL, FR_NONE}, {NULL, FR_NONE}};
    size_t nnamed = 0;
    if (op == OP_MATCHES) {
        nm[0].name = "in";
        nm[1].name = "pattern";
        nnamed = 2;
    } else if (op == OP_EXISTS) {
        nm[0].name = "key";
        nnamed = 1;
    } else if (op == OP_SPLIT) {
        nm[0].name = "pct";
        nm[1].name = "by";
        nm[2].name = "seed";
        nnamed = 3;
    }
    uint32_t last = FR_NONE;
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len)
            return fail_at(p, open, "missing \")\" for this \"(\"%s", NULL);
        if (p->s[p->pos] == ')') {
            p->pos++;
            break;
        }
        /* An annotation: name::value. */
        size_t apos = p->pos;
        if (is_ident_start(p->s[p->pos])) {
            size_t e = p->pos;
            while (e < p->len && is_ident(p->s[e]))
                e++;
            size_t after = e;
            while (after < p->len && (p->s[after] == ' ' || p->s[after] == '\t'))
                after++;
            if (after + 1 < p->len && p->s[after] == ':' && p->s[after + 1] == ':') {
                char an[24];
                size_t alen = e - apos;
                snprintf(an, sizeof an, "%.*s", (int)(alen < 20 ? alen : 20), p->s + apos);
                named *slot = NULL;
                for (size_t i = 0; i < nnamed; i++)
                    if (strlen(nm[i].name) == alen && memcmp(nm[i].name, p->s + apos, alen) == 0)
                        slot = &nm[i];
                if (nnamed == 0)
                    return fail_at(p, apos, "%s takes no named operands", name);
                if (slot == NULL)
                    return fail_at(p, apos, "unknown named operand \"%s\"", an);
                if (slot->node != FR_NONE)
                    return fail_at(p, apos, "\"%s\" is given twice", an);
                p->pos = after + 2;
                skip_ws(p);
                rc = parse_value(p, depth + 1, &slot->node);
                if (rc != LV_OK)
                    return rc;
                continue;
            }
        }
        uint32_t kid;
        rc = parse_value(p, depth + 1, &kid);
        if (rc != LV_OK)
            return rc;
        add_child(p->r, idx, &last, kid);
    }
    return check_op(p, idx, name, nm, nnamed);
}

static lv_err parse_list(parser *p, unsigned depth, uint32_t *out)
{
    size_t open = p->pos++;
    if (depth >= LV_FLAGRULE_MAX_DEPTH)
        return fail_at(p, open, "the rule nests deeper than %s levels", "32");
    lv_err rc = new_node(p, FR_LIST, open, out);
    if (rc != LV_OK)
        return rc;
    uint32_t idx = *out, last = FR_NONE;
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len)
            return fail_at(p, open, "missing \"]\" for this \"[\"%s", NULL);
        if (p->s[p->pos] == ']') {
            p->pos++;
            return LV_OK;
        }
        uint32_t kid;
        rc = parse_value(p, depth + 1, &kid);
        if (rc != LV_OK)
            return rc;
        fr_kind k = (fr_kind)p->r->nodes[kid].kind;
        if (k == FR_OP || k == FR_LIST || k == FR_CTX)
            return fail_at(p, p->r->nodes[kid].pos, "list elements must be literal values%s", NULL);
        add_child(p->r, idx, &last, kid);
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
        } else if (p->pos < p->len && p->s[p->pos] != ']') {
            return fail_at(p, p->pos, "expected \",\" or \"]\" in a list%s", NULL);
        }
    }
}

static lv_err parse_value(parser *p, unsigned depth, uint32_t *out)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return fail_at(p, p->pos, "unexpected end of the rule%s", NULL);
    char c = p->s[p->pos];
    size_t start = p->pos;
    lv_err rc;
    if (c == '(')
        return parse_op(p, depth, out);
    if (c == '[')
        return parse_list(p, depth, out);
    if (c == '"') {
        uint32_t off = 0, n = 0;
        rc = parse_string(p, &off, &n);
        if (rc != LV_OK)
            return rc;
        rc = new_node(p, FR_STRING, start, out);
        if (rc != LV_OK)
            return rc;
        p->r->nodes[*out].str = off;
        p->r->nodes[*out].str_len = n;
        return LV_OK;
    }
    if (c == '$') {
        p->pos++;
        size_t k = p->pos;
        while (p->pos < p->len && is_key_char(p->s[p->pos]))
            p->pos++;
        if (p->pos == k)
            return fail_at(p, start, "a context key must follow \"$\"%s", NULL);
        if (p->pos < p->len && !is_delim(p->s[p->pos]))
            return fail_at(p, p->pos, "invalid character in a context key%s", NULL);
        uint32_t off;
        rc = pool_add(p, p->s + k, p->pos - k, &off);
        if (rc != LV_OK)
            return rc;
        rc = new_node(p, FR_CTX, start, out);
        if (rc != LV_OK)
            return rc;
        p->r->nodes[*out].str = off;
        p->r->nodes[*out].str_len = (uint32_t)(p->pos - k);
        return LV_OK;
    }
    if ((c >= '0' && c <= '9') || c == '-')
        return parse_scalar_token(p, out);
    if (is_ident_start(c)) {
        while (p->pos < p->len && !is_delim(p->s[p->pos]))
            p->pos++;
        size_t n = p->pos - start;
        bool b;
        if (n == 4 && memcmp(p->s + start, "true", 4) == 0)
            b = true;
        else if (n == 5 && memcmp(p->s + start, "false", 5) == 0)
            b = false;
        else {
            char w[24];
            snprintf(w, sizeof w, "%.*s", (int)(n < 20 ? n : 20), p->s + start);
            return fail_at(p, start, "unexpected word \"%s\" (operators go after \"(\", context keys start with \"$\", strings are in double quotes)", w);
        }
        rc = new_node(p, FR_BOOL, start, out);
        if (rc == LV_OK)
            p->r->nodes[*out].v.b = b;
        return rc;
    }
    char ch[8];
    snprintf(ch, sizeof ch, "%c", (c >= 0x20 && c < 0x7f) ? c : '?');
    return fail_at(p, start, "unexpected character \"%s\"", ch);
}

const lv_flag_kv *lv_flag_context_get(const lv_flag_context *ctx, const char *key)
{
    if (ctx == NULL)
        return NULL;
    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->kv[i].key && strcmp(ctx->kv[i].key, key) == 0)
            return &ctx->kv[i];
    return NULL;
}

void lv_flagrule_free(lv_flagrule *r)
{
    if (r == NULL)
        return;
    for (uint32_t i = 0; i < r->n; i++)
        lv_pattern_free(r->nodes[i].pattern);
    free(r->nodes);
    free(r->pool);
    free(r);
}

bool lv_flagrule_has_split(const lv_flagrule *r)
{
    return r && r->has_split;
}

lv_err lv_flagrule_parse(const char *text, size_t len, lv_flagrule **out, lv_error *err)
{
    *out = NULL;
    if (err)
        lv_error_clear(err);
    if (len > LV_FLAGRULE_MAX_LEN)
        return lv_error_set(err, LV_E_VALIDATION,
                            "position 1: the rule is longer than %d characters", LV_FLAGRULE_MAX_LEN);
    lv_flagrule *r = calloc(1, sizeof *r);
    if (r == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory parsing a rule");
    lv_error local;
    lv_error_clear(&local);
    parser p = {text, len, 0, r, 0, err ? err : &local};
    lv_err rc = LV_OK;
    skip_ws(&p);
    if (p.pos >= len) {
        rc = fail_at(&p, 0, "the rule is empty%s", NULL);
    } else {
        rc = parse_value(&p, 0, &r->root);
        if (rc == LV_OK && !is_bool_expr(&r->nodes[r->root]))
            rc = fail_at(&p, r->nodes[r->root].pos,
                         "a rule must be an expression in parentheses (or true/false)%s", NULL);
        if (rc == LV_OK) {
            skip_ws(&p);
            if (p.pos < len)
                rc = fail_at(&p, p.pos, "unexpected text after the end of the rule%s", NULL);
        }
    }
    if (rc != LV_OK) {
        lv_flagrule_free(r);
        return rc;
    }
    *out = r;
    return LV_OK;
}
