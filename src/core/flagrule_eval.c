/* flagrule_eval.c - evaluation of parsed flag rules over a context, and the
 * scalar parsers (numbers, W3C timestamps) that context values are
 * coerced with. Comparison semantics are in docs/flags.md. */
#include <math.h>
#include <string.h>

#include "core/bucket.h"
#include "core/flagrule.h"
#include "core/flagrule_int.h"

/* ------------------------------------------------------------ scalars */

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool lv_fr_parse_number(const char *s, size_t len, bool *is_int, int64_t *iv, double *fv)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= len || s[i] < '0' || s[i] > '9')
        return false;
    uint64_t mant = 0;
    int exp10 = 0;
    bool overflow_int = false;
    uint64_t ival = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (ival > (UINT64_MAX - d) / 10)
            overflow_int = true;
        else
            ival = ival * 10 + d;
        if (mant < 100000000000000000ULL)
            mant = mant * 10 + d;
        else
            exp10++;
    }
    bool frac = false, expo = false;
    if (i < len && s[i] == '.') {
        frac = true;
        i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (mant < 100000000000000000ULL) {
                mant = mant * 10 + (unsigned)(s[i] - '0');
                exp10--;
            }
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        expo = true;
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        int e = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        exp10 += eneg ? -e : e;
    }
    if (i != len)
        return false;
    if (!frac && !expo && !overflow_int &&
        ival <= (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
        *is_int = true;
        *iv = neg ? (ival == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)ival) : (int64_t)ival;
        *fv = (double)*iv;
        return true;
    }
    double v;
    /* Exact for mantissas below 2^53 and powers up to 1e22 (both exactly
     * representable, one rounding); pow() otherwise. */
    if (mant < (1ULL << 53) && exp10 >= -22 && exp10 <= 22)
        v = exp10 >= 0 ? (double)mant * POW10[exp10] : (double)mant / POW10[-exp10];
    else
        v = (double)mant * pow(10.0, exp10);
    if (!isfinite(v))
        return false;
    *is_int = false;
    *iv = 0;
    *fv = neg ? -v : v;
    return true;
}

static bool digits_at(const char *s, size_t len, size_t at, size_t n, int *out)
{
    if (at + n > len)
        return false;
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[at + k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

bool lv_flagrule_parse_time(const char *s, size_t len, int64_t *sec, int32_t *nsec)
{
    int y, mo = 1, d = 1, h = 0, mi = 0, se = 0;
    int64_t ns = 0;
    size_t i = 0;
    if (!digits_at(s, len, 0, 4, &y))
        return false;
    i = 4;
    bool date_only = true;
    if (i < len && s[i] == '-') {
        if (!digits_at(s, len, i + 1, 2, &mo) || mo < 1 || mo > 12)
            return false;
        i += 3;
        if (i < len && s[i] == '-') {
            if (!digits_at(s, len, i + 1, 2, &d) || d < 1 || d > days_in_month(y, mo))
                return false;
            i += 3;
            if (i < len && (s[i] == 'T' || s[i] == 't') && i + 1 < len) {
                i++;
                if (!digits_at(s, len, i, 2, &h) || h > 23 || i + 2 >= len || s[i + 2] != ':' ||
                    !digits_at(s, len, i + 3, 2, &mi) || mi > 59)
                    return false;
                i += 5;
                if (i < len && s[i] == ':') {
                    if (!digits_at(s, len, i + 1, 2, &se) || se > 59)
                        return false;
                    i += 3;
                    if (i < len && s[i] == '.') {
                        i++;
                        size_t f0 = i;
                        int64_t scale = 100000000;
                        while (i < len && s[i] >= '0' && s[i] <= '9') {
                            ns += (s[i] - '0') * scale;
                            scale /= 10;
                            i++;
                        }
                        if (i == f0)
                            return false;
                    }
                }
                date_only = false;
            }
        }
    } else if (i != len && !(i + 1 == len && (s[i] == 'T' || s[i] == 't'))) {
        return false;
    }
    int64_t offset = 0;
    if (date_only) {
        /* YYYY, YYYY-MM, YYYY-MM-DD, each optionally followed by T (Ion). */
        if (i < len && (s[i] == 'T' || s[i] == 't'))
            i++;
        if (i != len)
            return false;
    } else {
        if (i >= len)
            return false; /* a time needs a zone */
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int oh, om;
            if (!digits_at(s, len, i + 1, 2, &oh) || oh > 23 || i + 3 >= len ||
                s[i + 3] != ':' || !digits_at(s, len, i + 4, 2, &om) || om > 59)
                return false;
            offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
            i += 6;
        } else {
            return false;
        }
        if (i != len)
            return false;
    }
    *sec = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - offset;
    *nsec = (int32_t)ns;
    return true;
}

/* ------------------------------------------------------------- values */

typedef enum vt { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TIME } vt;

typedef struct val {
    vt t;
    bool b;
    int64_t i;
    double f;
    const char *s; /* text: strings, and context values of any type */
    size_t len;
    int64_t sec;
    int32_t nsec;
} val;

typedef struct env {
    const lv_flagrule *r;
    const lv_flag_context *ctx;
    const char *default_seed;
    lv_flagrule_memo *memo;
    bool split_hit;
    lv_error *err;
    lv_err rc;
} env;

static bool eval_bool(env *e, uint32_t idx);

static void value_of(env *e, uint32_t idx, val *v)
{
    const fr_node *n = &e->r->nodes[idx];
    memset(v, 0, sizeof *v);
    switch ((fr_kind)n->kind) {
    case FR_BOOL: v->t = V_BOOL; v->b = n->v.b; return;
    case FR_INT: v->t = V_INT; v->i = n->v.i; return;
    case FR_FLOAT: v->t = V_FLOAT; v->f = n->v.f; return;
    case FR_TIME: v->t = V_TIME; v->sec = n->v.t.sec; v->nsec = n->v.t.nsec; return;
    case FR_STRING:
        v->t = V_STR;
        v->s = e->r->pool + n->str;
        v->len = n->str_len;
        return;
    case FR_CTX: {
        const lv_flag_kv *kv = lv_flag_context_get(e->ctx, e->r->pool + n->str);
        if (kv == NULL || kv->value == NULL)
            return; /* V_NONE */
        v->s = kv->value;
        v->len = strlen(kv->value);
        bool is_int;
        if (kv->type == LV_FV_NUMBER && lv_fr_parse_number(v->s, v->len, &is_int, &v->i, &v->f)) {
            v->t = is_int ? V_INT : V_FLOAT;
        } else if (kv->type == LV_FV_BOOL && (strcmp(v->s, "true") == 0 || strcmp(v->s, "false") == 0)) {
            v->t = V_BOOL;
            v->b = v->s[0] == 't';
        } else {
            v->t = V_STR;
        }
        return;
    }
    case FR_OP:
        v->t = V_BOOL;
        v->b = eval_bool(e, idx);
        return;
    case FR_LIST:
        return;
    }
}

/* Converts a string to the type of `like`; false when it is not one. */
static bool coerce(val *v, vt like)
{
    bool is_int;
    switch (like) {
    case V_INT:
    case V_FLOAT:
        if (!lv_fr_parse_number(v->s, v->len, &is_int, &v->i, &v->f))
            return false;
        v->t = is_int ? V_INT : V_FLOAT;
        return true;
    case V_BOOL:
        if (v->len == 4 && memcmp(v->s, "true", 4) == 0)
            v->b = true;
        else if (v->len == 5 && memcmp(v->s, "false", 5) == 0)
            v->b = false;
        else
            return false;
        v->t = V_BOOL;
        return true;
    case V_TIME:
        if (!lv_flagrule_parse_time(v->s, v->len, &v->sec, &v->nsec))
            return false;
        v->t = V_TIME;
        return true;
    default:
        return false;
    }
}

enum { CMP_LT = -1, CMP_EQ = 0, CMP_GT = 1, CMP_UNORDERED = 2, CMP_INCOMPARABLE = 3 };

static int cmp3(double a, double b)
{
    return a < b ? CMP_LT : a > b ? CMP_GT : a == b ? CMP_EQ : CMP_INCOMPARABLE;
}

/* Compares two present values after coercing a string to the other's type. */
static int compare(val a, val b)
{
    if (a.t != b.t) {
        bool na = a.t == V_INT || a.t == V_FLOAT, nb = b.t == V_INT || b.t == V_FLOAT;
        if (!(na && nb)) {
            if (a.t == V_STR && !coerce(&a, b.t))
                return CMP_INCOMPARABLE;
            if (b.t == V_STR && !coerce(&b, a.t))
                return CMP_INCOMPARABLE;
        }
    }
    if (a.t == V_INT && b.t == V_INT)
        return a.i < b.i ? CMP_LT : a.i > b.i ? CMP_GT : CMP_EQ;
    if ((a.t == V_INT || a.t == V_FLOAT) && (b.t == V_INT || b.t == V_FLOAT))
        return cmp3(a.t == V_INT ? (double)a.i : a.f, b.t == V_INT ? (double)b.i : b.f);
    if (a.t != b.t)
        return CMP_INCOMPARABLE;
    switch (a.t) {
    case V_STR: {
        size_t n = a.len < b.len ? a.len : b.len;
        int c = memcmp(a.s, b.s, n);
        if (c == 0)
            c = a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
        return c < 0 ? CMP_LT : c > 0 ? CMP_GT : CMP_EQ;
    }
    case V_TIME:
        if (a.sec != b.sec)
            return a.sec < b.sec ? CMP_LT : CMP_GT;
        return a.nsec < b.nsec ? CMP_LT : a.nsec > b.nsec ? CMP_GT : CMP_EQ;
    case V_BOOL:
        return a.b == b.b ? CMP_EQ : CMP_UNORDERED;
    default:
        return CMP_INCOMPARABLE;
    }
}

static bool text_of(env *e, uint32_t idx, const char **s, size_t *len)
{
    val v;
    value_of(e, idx, &v);
    if (v.s == NULL)
        return false; /* missing context key */
    *s = v.s;
    *len = v.len;
    return true;
}

static bool memmem_has(const char *h, size_t hl, const char *n, size_t nl)
{
    if (nl == 0)
        return true;
    if (nl > hl)
        return false;
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
            return true;
    return false;
}

static uint32_t bucket_memo(env *e, const char *seed, size_t sl, const char *v, size_t vl)
{
    lv_flagrule_memo *m = e->memo;
    if (m) {
        for (unsigned i = 0; i < m->n; i++)
            if (m->e[i].seed_len == sl && m->e[i].value_len == vl &&
                memcmp(m->e[i].seed, seed, sl) == 0 && memcmp(m->e[i].value, v, vl) == 0)
                return m->e[i].bucket;
    }
    uint32_t b = lv_bucket(seed, sl, v, vl);
    if (m && m->n < sizeof m->e / sizeof m->e[0]) {
        m->e[m->n].seed = seed;
        m->e[m->n].seed_len = sl;
        m->e[m->n].value = v;
        m->e[m->n].value_len = vl;
        m->e[m->n].bucket = b;
        m->n++;
    }
    return b;
}

static bool eval_split(env *e, const fr_node *n)
{
    const char *v;
    size_t vl;
    if (n->str != FR_NONE) {
        const lv_flag_kv *kv = lv_flag_context_get(e->ctx, e->r->pool + n->str);
        if (kv == NULL || kv->value == NULL)
            return false;
        v = kv->value;
    } else {
        if (e->ctx == NULL || e->ctx->entity_id == NULL)
            return false;
        v = e->ctx->entity_id;
    }
    vl = strlen(v);
    const char *seed = n->seed != FR_NONE ? e->r->pool + n->seed
                                          : (e->default_seed ? e->default_seed : "");
    size_t sl = n->seed != FR_NONE ? n->seed_len : strlen(seed);
    bool in = bucket_memo(e, seed, sl, v, vl) < n->split_bp;
    if (in)
        e->split_hit = true;
    return in;
}

static bool eval_bool(env *e, uint32_t idx)
{
    const fr_node *n = &e->r->nodes[idx];
    if (n->kind == FR_BOOL)
        return n->v.b;
    if (e->rc != LV_OK)
        return false;
    uint32_t a = n->first, b = a != FR_NONE ? e->r->nodes[a].next : FR_NONE;
    switch ((fr_op)n->op) {
    case OP_AND:
        for (uint32_t k = a; k != FR_NONE; k = e->r->nodes[k].next)
            if (!eval_bool(e, k))
                return false;
        return true;
    case OP_OR:
        for (uint32_t k = a; k != FR_NONE; k = e->r->nodes[k].next)
            if (eval_bool(e, k))
                return true;
        return false;
    case OP_NOT:
        return !eval_bool(e, a);
    case OP_EQ:
    case OP_NEQ:
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE: {
        val x, y;
        value_of(e, a, &x);
        value_of(e, b, &y);
        if (x.t == V_NONE || y.t == V_NONE)
            return false; /* a missing context key matches no comparison */
        int c = compare(x, y);
        switch ((fr_op)n->op) {
        case OP_EQ: return c == CMP_EQ;
        case OP_NEQ: return c != CMP_EQ;
        case OP_GT: return c == CMP_GT;
        case OP_GTE: return c == CMP_GT || c == CMP_EQ;
        case OP_LT: return c == CMP_LT;
        default: return c == CMP_LT || c == CMP_EQ;
        }
    }
    case OP_BEGINS_WITH:
    case OP_ENDS_WITH:
    case OP_CONTAINS: {
        const char *hs, *ns;
        size_t hl, nl;
        if (!text_of(e, a, &hs, &hl) || !text_of(e, b, &ns, &nl))
            return false;
        if (n->op == OP_CONTAINS)
            return memmem_has(hs, hl, ns, nl);
        if (nl > hl)
            return false;
        return memcmp(n->op == OP_BEGINS_WITH ? hs : hs + hl - nl, ns, nl) == 0;
    }
    case OP_IN: {
        val x;
        value_of(e, a, &x);
        if (x.t == V_NONE)
            return false;
        for (uint32_t k = e->r->nodes[b].first; k != FR_NONE; k = e->r->nodes[k].next) {
            val y;
            value_of(e, k, &y);
            if (compare(x, y) == CMP_EQ)
                return true;
        }
        return false;
    }
    case OP_MATCHES: {
        const char *s;
        size_t l;
        if (!text_of(e, a, &s, &l))
            return false;
        bool m = false;
        lv_error perr;
        if (lv_pattern_match(n->pattern, s, l, &m, &perr) != LV_OK) {
            e->rc = lv_error_set(e->err, LV_E_VALIDATION,
                                 "matches at position %u could not run: %s", n->pos + 1, perr.msg);
            return false;
        }
        return m;
    }
    case OP_EXISTS:
        return lv_flag_context_get(e->ctx, e->r->pool + n->str) != NULL;
    case OP_SPLIT:
        return eval_split(e, n);
    }
    return false;
}

lv_err lv_flagrule_eval(const lv_flagrule *r, const lv_flag_context *ctx,
                        const char *default_seed, lv_flagrule_memo *memo,
                        bool *match, bool *split_hit, lv_error *err)
{
    env e = {r, ctx, default_seed, memo, false, err, LV_OK};
    bool m = eval_bool(&e, r->root);
    if (e.rc != LV_OK)
        m = false;
    *match = m;
    if (split_hit)
        *split_hit = m && e.split_hit;
    return e.rc;
}
