/* acreq.c - strict parsers for the AppConfig Agent API's requests: every
 * malformed input is a clear 400 with a reason, never a guess. */
#include "agent/acreq.h"
#include "core/hex.h"
#include "agent/query.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL); plus_space
 * decodes '+' as a space (query strings). Returns the decoded length, or
 * -1 with *why set. Control bytes and invalid UTF-8 are refused. */
static long decode(const char *s, size_t n, bool plus_space, char *out, size_t cap, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 1 < n ? lv_hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? lv_hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "bad percent-encoding";
                return -1;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f) {
            *why = "control characters are not allowed";
            return -1;
        }
        if (o + 1 >= cap) {
            *why = "too long";
            return -1;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!lva_utf8_ok((const unsigned char *)out, o)) {
        *why = "not valid UTF-8";
        return -1;
    }
    return (long)o;
}

/* One path segment s[0..n) into out: 1..LVAC_NAME_MAX decoded bytes, no
 * '/' or ':' inside (names of the prefetch form App:Env:Profile). */
static int segment(const char *s, size_t n, const char *what, char *out, char *err, size_t errlen)
{
    const char *why = NULL;
    char tmp[LVAC_NAME_MAX + 1];
    if (n == 0) {
        snprintf(err, errlen, "empty %s in the path", what);
        return -1;
    }
    long l = decode(s, n, false, tmp, sizeof tmp, &why);
    if (l < 0) {
        if (strcmp(why, "too long") == 0)
            snprintf(err, errlen, "%s is longer than %d bytes", what, LVAC_NAME_MAX);
        else
            snprintf(err, errlen, "%s in the path: %s", what, why);
        return -1;
    }
    if (l == 0 || memchr(tmp, '/', (size_t)l) || memchr(tmp, ':', (size_t)l)) {
        snprintf(err, errlen, "%s may not be empty or hold '/' or ':'", what);
        return -1;
    }
    memcpy(out, tmp, (size_t)l + 1);
    return 0;
}

static bool flag_key_ok(const char *k, size_t n)
{
    if (n == 0 || n > LVAC_FLAG_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int lvac_parse_path(const char *path, lvac_target *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    static const char *const fixed[] = {"applications", "environments", "configurations"};
    static const char *const what[] = {"application", "environment", "configuration profile"};
    char *dst[] = {out->app, out->env, out->profile};
    const char *p = path;
    if (p == NULL || *p != '/')
        return 1;
    for (int i = 0; i < 3; i++) {
        size_t fl = strlen(fixed[i]);
        if (p[0] != '/' || strncmp(p + 1, fixed[i], fl) != 0 || (p[1 + fl] != '/' && p[1 + fl] != '\0')) {
            if (i == 0)
                return 1;
            return fail(err, errlen, "the path must be /applications/APP/environments/ENV/configurations/PROFILE");
        }
        p += 1 + fl;
        if (*p == '\0')
            return fail(err, errlen, "the path must be /applications/APP/environments/ENV/configurations/PROFILE");
        p++; /* the '/' */
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (segment(p, n, what[i], dst[i], err, errlen) != 0)
            return -1;
        p += n;
    }
    if (*p == '\0' || strcmp(p, "/") == 0) {
        out->kind = LVAC_CONFIG;
        return 0;
    }
    static const char ofrep[] = "/ofrep/v1/evaluate/flags";
    size_t ol = sizeof ofrep - 1;
    if (strncmp(p, ofrep, ol) != 0 || (p[ol] != '\0' && p[ol] != '/'))
        return fail(err, errlen, "unknown path below the configuration profile (OFREP is .../ofrep/v1/evaluate/flags)");
    p += ol;
    if (*p == '\0' || strcmp(p, "/") == 0) {
        out->kind = LVAC_OFREP_BULK;
        return 0;
    }
    p++;
    const char *why = NULL;
    char key[LVAC_FLAG_MAX + 2];
    long l = decode(p, strlen(p), false, key, sizeof key, &why);
    if (l < 0 || !flag_key_ok(key, (size_t)l))
        return fail(err, errlen, "a flag key is 1-64 letters, digits, '_' or '-'");
    memcpy(out->flag, key, (size_t)l + 1);
    out->kind = LVAC_OFREP_ONE;
    return 0;
}

int lvac_parse_query(const char *q, size_t len, lvac_flags *out, char *err, size_t errlen)
{
    out->n = 0;
    if (len > LVAC_QUERY_MAX)
        return fail(err, errlen, "query string too long");
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - (q + i)) : j - i;
            if (kl != 4 || memcmp(q + i, "flag", 4) != 0) {
                out->n = 0;
                return fail(err, errlen, "unknown query parameter (only flag=KEY is accepted)");
            }
            if (eq == NULL) {
                out->n = 0;
                return fail(err, errlen, "flag needs a value: flag=KEY");
            }
            const char *why = NULL;
            char key[LVAC_FLAG_MAX + 2];
            long l = decode(eq + 1, (size_t)(q + j - (eq + 1)), true, key, sizeof key, &why);
            if (l < 0 || !flag_key_ok(key, (size_t)l)) {
                out->n = 0;
                return fail(err, errlen, "a flag key is 1-64 letters, digits, '_' or '-'");
            }
            bool dup = false;
            for (size_t k = 0; k < out->n && !dup; k++)
                dup = strcmp(out->keys[k], key) == 0;
            if (!dup) {
                if (out->n >= LVAC_MAX_FLAGS) {
                    out->n = 0;
                    return fail(err, errlen, "at most 100 flag parameters");
                }
                memcpy(out->keys[out->n++], key, (size_t)l + 1);
            }
        }
        i = j + 1;
    }
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

void lvac_context_init(lvac_context *c)
{
    c->n = 0;
    c->heap = NULL;
    c->used = 0;
    c->cap = sizeof c->buf;
}

void lvac_context_free(lvac_context *c)
{
    free(c->heap);
    lvac_context_init(c);
}

/* Appends s (l bytes) and a NUL to the arena; the offset in *at. */
static int arena_put(lvac_context *c, const char *s, size_t l, unsigned *at)
{
    if (c->used + l + 1 > c->cap) {
        size_t cap = c->cap * 2;
        while (cap < c->used + l + 1)
            cap *= 2;
        char *h = realloc(c->heap, cap);
        if (h == NULL)
            return -1;
        if (c->heap == NULL)
            memcpy(h, c->buf, c->used);
        c->heap = h;
        c->cap = cap;
    }
    char *t = (c->heap ? c->heap : c->buf) + c->used;
    memcpy(t, s, l);
    t[l] = '\0';
    *at = (unsigned)c->used;
    c->used += l + 1;
    return 0;
}

int lvac_context_set(lvac_context *c, const char *key, size_t kl, const char *value, size_t vl)
{
    size_t k = 0;
    while (k < c->n && !(strncmp(lvac_ctx_key(c, k), key, kl) == 0 && lvac_ctx_key(c, k)[kl] == '\0'))
        k++;
    if (k == c->n) {
        if (c->n >= LVAC_MAX_CTX)
            return -2;
        if (arena_put(c, key, kl, &c->pairs[k].key) != 0)
            return -1;
    }
    if (arena_put(c, value, vl, &c->pairs[k].value) != 0)
        return -1;
    if (k == c->n)
        c->n++;
    return 0;
}

/* One item of a Context header, trimmed: key [ks, ke), value [vs, e). */
static int context_item(const char *s, const char *e, const char **ke, const char **vs, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (eq == NULL || eq == s)
        return fail(err, errlen, "a Context item is key=value");
    *ke = eq;
    *vs = eq + 1;
    while (*ke > s && is_blank((*ke)[-1]))
        (*ke)--;
    while (*vs < e && is_blank(**vs))
        (*vs)++;
    if (*ke == s)
        return fail(err, errlen, "a Context item is key=value");
    if ((size_t)(*ke - s) > LVAC_CTX_KEY_MAX || (size_t)(e - *vs) > LVAC_CTX_VALUE_MAX)
        return fail(err, errlen, "a Context key is at most 128 bytes, a value at most 1024");
    for (const char *c = s; c < e; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return fail(err, errlen, "control characters are not allowed in Context");
    if (!lva_utf8_ok((const unsigned char *)s, (size_t)(e - s)))
        return fail(err, errlen, "Context is not valid UTF-8");
    return 0;
}

int lvac_parse_context(const char *value, lvac_context *ctx, char *err, size_t errlen)
{
    const char *p = value ? value : "";
    size_t total = strlen(p);
    if (total > LVAC_MAX_CTX * (LVAC_CTX_KEY_MAX + LVAC_CTX_VALUE_MAX + 2))
        return fail(err, errlen, "Context header too long");
    /* the arena only grows, so restoring the pairs, the count and the
     * fill undoes a header that fails half way */
    lvac_pair saved[LVAC_MAX_CTX];
    size_t n0 = ctx->n, used0 = ctx->used;
    memcpy(saved, ctx->pairs, n0 * sizeof saved[0]);
    int rc = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *s = p, *e = p + n;
        while (s < e && is_blank(*s))
            s++;
        while (e > s && is_blank(e[-1]))
            e--;
        if (e > s) {
            const char *ke, *vs;
            if ((rc = context_item(s, e, &ke, &vs, err, errlen)) != 0)
                break;
            int set = lvac_context_set(ctx, s, (size_t)(ke - s), vs, (size_t)(e - vs));
            if (set != 0) {
                rc = fail(err, errlen, set == -2 ? "at most 64 Context pairs" : "out of memory");
                break;
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (rc != 0) {
        memcpy(ctx->pairs, saved, n0 * sizeof saved[0]);
        ctx->n = n0;
        ctx->used = used0;
    }
    return rc;
}

bool lvac_bearer_ok(const char *authorization, const char *token)
{
    if (authorization == NULL || token == NULL || *token == '\0')
        return false;
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *a = authorization + 7;
    while (*a == ' ')
        a++;
    size_t la = strlen(a), lb = strlen(token);
    while (la > 0 && (a[la - 1] == ' ' || a[la - 1] == '\t'))
        la--;
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < lb; i++)
        d |= (unsigned char)((i < la ? a[i] : 0) ^ token[i]);
    return d == 0;
}

int lvac_parse_triple(const char *s, lvac_target *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    char *dst[] = {out->app, out->env, out->profile};
    static const char *const what[] = {"application", "environment", "configuration profile"};
    const char *p = s, *end = s + n;
    for (int i = 0; i < 3; i++) {
        const char *c = i < 2 ? memchr(p, ':', (size_t)(end - p)) : end;
        if (c == NULL)
            return fail(err, errlen, "a prefetch item is Application:Environment:Profile");
        size_t l = (size_t)(c - p);
        if (l == 0 || l > LVAC_NAME_MAX) {
            snprintf(err, errlen, "%s must be 1-%d bytes", what[i], LVAC_NAME_MAX);
            return -1;
        }
        for (const char *q = p; q < c; q++)
            if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '/' || (i == 2 && *q == ':'))
                return fail(err, errlen, "a prefetch item is Application:Environment:Profile (no '/', no control bytes)");
        memcpy(dst[i], p, l);
        dst[i][l] = '\0';
        p = c + 1;
    }
    return 0;
}

int lvac_parse_local_name(const char *name, lvac_target *out, char *ctype, size_t ctcap)
{
    char base[3 * LVAC_NAME_MAX + 3];
    size_t n = strlen(name);
    if (n >= sizeof base || name[0] == '.')
        return 1;
    memcpy(base, name, n + 1);
    const char *ct = "application/octet-stream";
    char custom[128];
    char *dot = strrchr(base, '.');
    char *last_colon = strrchr(base, ':');
    if (dot && last_colon && dot > last_colon + 1) {
        const char *ext = dot + 1;
        const char *pct = strchr(ext, '%');
        if (strcasecmp(ext, "json") == 0) {
            ct = "application/json";
            *dot = '\0';
        } else if (strcasecmp(ext, "yaml") == 0 || strcasecmp(ext, "yml") == 0) {
            ct = "application/x-yaml";
            *dot = '\0';
        } else if (strcasecmp(ext, "txt") == 0) {
            ct = "text/plain";
            *dot = '\0';
        } else if (pct && pct > ext && pct[1] != '\0' && strchr(pct + 1, '%') == NULL &&
                   strlen(ext) < sizeof custom) {
            bool ok = true;
            for (const char *c = ext; *c && ok; c++)
                ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                     *c == '%' || *c == '-' || *c == '+' || *c == '.' || *c == '_';
            if (ok) {
                snprintf(custom, sizeof custom, "%s", ext);
                custom[pct - ext] = '/';
                ct = custom;
                *dot = '\0';
            }
        }
    }
    char err[128];
    if (lvac_parse_triple(base, out, err, sizeof err) != 0)
        return 1;
    if (strchr(out->app, ':') || strchr(out->env, ':'))
        return 1;
    if (strlen(ct) >= ctcap)
        return 1;
    snprintf(ctype, ctcap, "%s", ct);
    return 0;
}

bool lvac_entity_ok(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    size_t n = 0;
    for (const char *c = s; *c; c++, n++)
        if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e || n >= LVAC_ENTITY_MAX)
            return false;
    return true;
}
