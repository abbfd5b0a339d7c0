/* acwire.c - the AppConfig REST router, decoder, validator and encoder,
 * driven by the generated model table (acmodel.inc). */
#include "api/acwire.h"
#include "core/hex.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { AC_T_STRING, AC_T_INTEGER, AC_T_LONG, AC_T_FLOAT, AC_T_BOOLEAN, AC_T_TIMESTAMP, AC_T_BLOB,
               AC_T_LIST, AC_T_MAP, AC_T_STRUCT } ac_type;
typedef enum { AC_LOC_BODY, AC_LOC_URI, AC_LOC_QUERY, AC_LOC_HEADER, AC_LOC_PAYLOAD } ac_loc;

typedef struct ac_member {
    const char *name;
    int shape;
    ac_loc loc;
    const char *wire;
    bool required;
} ac_member;

typedef struct ac_shape {
    const char *name;
    ac_type type;
    int64_t min, max;
    int enum_off, nenum, mem_off, nmem, elem, key;
} ac_shape;

typedef struct ac_op {
    const char *name, *method, *path;
    int status, in, out, data;
} ac_op;

#include "api/acmodel.inc"

_Static_assert(sizeof AC_OPS / sizeof AC_OPS[0] == ACW__COUNT, "acwire.h op list out of date with acmodel.inc");

enum { MAX_SEGS = 12, MAX_DEPTH = 8, HDR_STORE = 16384 };

int lv_acwire_op_count(void)
{
    return ACW__COUNT;
}

const char *lv_acwire_op_name(int op)
{
    return op >= 0 && op < ACW__COUNT ? AC_OPS[op].name : "Unknown";
}

bool lv_acwire_mutating(int op)
{
    if (op < 0 || op >= ACW__COUNT || op == ACW_ValidateConfiguration || op == ACW_StartConfigurationSession)
        return false;
    return strcmp(AC_OPS[op].method, "GET") != 0;
}

bool lv_acwire_path_known(const char *p)
{
    if (p[0] != '/' || p[1] == '\0')
        return false; /* "/", every SSM call */
    static const char *const roots[] = {"/applications", "/deploymentstrategies", "/deployementstrategies",
                                        "/extensions", "/extensionassociations", "/tags/", "/configurationsessions",
                                        "/configuration"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        size_t n = strlen(roots[i]);
        if (strncmp(p, roots[i], n) == 0 && (p[n] == '\0' || p[n] == '/' || roots[i][n - 1] == '/'))
            return true;
    }
    return false;
}

/* ---------- headers that outlive the handler ---------- */

/* Reset by lv_acwire_decode, which starts every AppConfig request: the
 * listener queues the response on this thread before the next request. */
static _Thread_local char hdr_store[HDR_STORE];
static _Thread_local size_t hdr_used;

void lv_acwire_header(lv_http_response *resp, const char *name, const char *value)
{
    size_t n = strlen(value) + 1;
    if (resp->nheaders >= sizeof resp->headers / sizeof resp->headers[0] || n > HDR_STORE - hdr_used)
        return;
    char *dst = hdr_store + hdr_used;
    memcpy(dst, value, n);
    hdr_used += n;
    resp->headers[resp->nheaders] = (lv_http_header){name, dst, 0, 0}; /* lengths unknown: checked on the wire */
    resp->nheaders++;
}

/* ---------- decoding ---------- */

lv_err lv_acwire_unescape(const char *s, size_t n, bool plus_space, lv_buf *out)
{
    lv_buf_reset(out);
    lv_err rc = lv_buf_reserve(out, n + 1);
    for (size_t i = 0; rc == LV_OK && i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n || lv_hexval(s[i + 1]) < 0 || lv_hexval(s[i + 2]) < 0)
                return LV_E_VALIDATION;
            c = (char)(lv_hexval(s[i + 1]) * 16 + lv_hexval(s[i + 2]));
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0')
            return LV_E_VALIDATION;
        rc = lv_buf_putc(out, c);
    }
    if (rc == LV_OK && out->data == NULL)
        rc = lv_buf_reserve(out, 1);
    if (rc == LV_OK)
        out->data[out->len] = '\0';
    return rc;
}

static lv_err bad(lv_error *err, const char *fmt, const char *a, const char *b)
{
    return lv_error_set(err, LV_E_AC_BAD_REQUEST, fmt, a, b);
}

/* Splits path into segments (pointers into buf); -1 when there are more
 * than MAX_SEGS (no operation has that many). */
static int split(char *buf, char **seg)
{
    int n = 0;
    char *p = buf;
    if (*p == '/')
        p++;
    if (*p == '\0')
        return 0;
    for (;;) {
        if (n == MAX_SEGS)
            return -1;
        seg[n++] = p;
        char *s = strchr(p, '/');
        if (s == NULL)
            return n;
        *s = '\0';
        p = s + 1;
    }
}

/* Every operation's path template split into segments once, not on each
 * request for each operation tried. */
#define NOPS ((int)(sizeof AC_OPS / sizeof AC_OPS[0]))
static struct tmpl {
    char buf[256];
    char *seg[MAX_SEGS];
    int n;
} tmpls[NOPS];
static pthread_once_t tmpls_once = PTHREAD_ONCE_INIT;

static void split_templates(void)
{
    for (int i = 0; i < NOPS; i++) {
        snprintf(tmpls[i].buf, sizeof tmpls[i].buf, "%s", AC_OPS[i].path);
        tmpls[i].n = split(tmpls[i].buf, tmpls[i].seg);
    }
}

/* Matches path against the op's template; fills the path members of in. */
static int match(int op, char **seg, int nseg, const char *const *rawseg, json_t *in, lv_buf *tmp, lv_error *err,
                 bool *bad_escape)
{
    pthread_once(&tmpls_once, split_templates);
    char *const *tseg = tmpls[op].seg;
    int nt = tmpls[op].n;
    bool greedy = nt > 0 && tseg[nt - 1][0] == '{' && strncmp(AC_OPS[op].path, "/tags/", 6) == 0;
    if (nt != nseg && !(greedy && nseg > nt))
        return 0;
    for (int i = 0; i < nt; i++)
        if (tseg[i][0] != '{' && strcmp(tseg[i], seg[i]) != 0)
            return 0;
    for (int i = 0; i < nt && in != NULL; i++) {
        if (tseg[i][0] != '{')
            continue;
        char name[64];
        size_t nl = strlen(tseg[i]) - 2; /* "{Name}" */
        if (nl >= sizeof name)
            nl = sizeof name - 1;
        memcpy(name, tseg[i] + 1, nl);
        name[nl] = '\0';
        const char *raw = rawseg[i];
        size_t rl = strlen(seg[i]);
        if (greedy && i == nt - 1)
            rl = strlen(raw);
        if (lv_acwire_unescape(raw, rl, false, tmp) != LV_OK) {
            *bad_escape = true;
            bad(err, "Invalid escape in path parameter %s%s", name, "");
            return -1;
        }
        json_object_set_new(in, name, json_stringn(tmp->data, tmp->len));
    }
    return 1;
}

static const ac_member *member_by_wire(const ac_shape *s, ac_loc loc, const char *wire, size_t wl)
{
    for (int i = 0; i < s->nmem; i++) {
        const ac_member *m = &AC_MEMBERS[s->mem_off + i];
        if (m->loc == loc && strlen(m->wire) == wl &&
            (loc == AC_LOC_HEADER ? strncasecmp(m->wire, wire, wl) == 0 : strncmp(m->wire, wire, wl) == 0))
            return m;
    }
    return NULL;
}

/* A string from a path, query or header, typed by the member's shape. */
static lv_err typed(const ac_member *m, const char *v, size_t n, json_t **out, lv_error *err)
{
    const ac_shape *s = &AC_SHAPES[m->shape];
    switch (s->type) {
    case AC_T_INTEGER:
    case AC_T_LONG: {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (n == 0 || end != v + n || errno != 0)
            return bad(err, "Invalid value for %s: %s is not an integer", m->name, v);
        *out = json_integer(x);
        break;
    }
    case AC_T_BOOLEAN:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return bad(err, "Invalid value for %s: %s is not a boolean", m->name, v);
        *out = json_boolean(strcmp(v, "true") == 0);
        break;
    default:
        *out = json_stringn(v, n);
        if (*out == NULL)
            return bad(err, "Invalid value for %s: not UTF-8%s", m->name, "");
    }
    return *out ? LV_OK : lv_error_set(err, LV_E_NOMEM, "out of memory");
}

static lv_err decode_query(const ac_shape *s, const char *q, json_t *in, lv_buf *tmp, lv_error *err)
{
    if (q == NULL)
        return LV_OK;
    lv_buf key = LV_BUF_INIT;
    lv_err rc = LV_OK;
    while (*q && rc == LV_OK) {
        const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
        const char *eq = memchr(q, '=', (size_t)(end - q));
        const char *ke = eq ? eq : end;
        if (lv_acwire_unescape(q, (size_t)(ke - q), true, &key) != LV_OK ||
            lv_acwire_unescape(eq ? eq + 1 : end, eq ? (size_t)(end - eq - 1) : 0, true, tmp) != LV_OK) {
            rc = bad(err, "Invalid escape in the query string%s%s", "", "");
            break;
        }
        const ac_member *m = member_by_wire(s, AC_LOC_QUERY, key.data, key.len);
        if (m != NULL) {
            const ac_shape *ms = &AC_SHAPES[m->shape];
            if (ms->type == AC_T_LIST) {
                json_t *arr = json_object_get(in, m->name);
                if (arr == NULL) {
                    arr = json_array();
                    json_object_set_new(in, m->name, arr);
                }
                json_t *v = json_stringn(tmp->data, tmp->len);
                if (v == NULL)
                    rc = bad(err, "Invalid value for %s%s", m->name, "");
                else
                    json_array_append_new(arr, v);
            } else {
                json_t *v = NULL;
                if ((rc = typed(m, tmp->data, tmp->len, &v, err)) == LV_OK)
                    json_object_set_new(in, m->name, v);
            }
        }
        q = amp ? amp + 1 : end;
    }
    lv_buf_free(&key);
    return rc;
}

/* ---------- validation ---------- */

static size_t utf8_len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static lv_err constraint(lv_error *err, const char *path, const char *what, int64_t lim)
{
    return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                        "1 validation error detected: Value at '%s' failed to satisfy constraint: %s %" PRId64, path,
                        what, lim);
}

static lv_err check(int si, json_t *v, const char *path, int depth, lv_error *err)
{
    const ac_shape *s = &AC_SHAPES[si];
    if (depth > MAX_DEPTH)
        return bad(err, "Value at '%s' is nested too deeply%s", path, "");
    char sub[256];
    switch (s->type) {
    case AC_T_STRING:
        if (!json_is_string(v))
            return bad(err, "Invalid type for '%s': expected a string%s", path, "");
        {
            size_t n = utf8_len(json_string_value(v), json_string_length(v));
            if (s->min != INT64_MIN && (int64_t)n < s->min)
                return constraint(err, path, "Member must have length greater than or equal to", s->min);
            if (s->max != INT64_MAX && (int64_t)n > s->max)
                return constraint(err, path, "Member must have length less than or equal to", s->max);
        }
        if (s->nenum > 0) {
            bool ok = false;
            for (int i = 0; i < s->nenum && !ok; i++)
                ok = strcmp(AC_ENUMS[s->enum_off + i], json_string_value(v)) == 0;
            if (!ok)
                return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                    "1 validation error detected: Value '%.64s' at '%s' failed to satisfy constraint: "
                                    "Member must satisfy enum value set",
                                    json_string_value(v), path);
        }
        return LV_OK;
    case AC_T_INTEGER:
    case AC_T_LONG:
        if (!json_is_integer(v))
            return bad(err, "Invalid type for '%s': expected an integer%s", path, "");
        if (s->min != INT64_MIN && json_integer_value(v) < s->min)
            return constraint(err, path, "Member must have value greater than or equal to", s->min);
        if (s->max != INT64_MAX && json_integer_value(v) > s->max)
            return constraint(err, path, "Member must have value less than or equal to", s->max);
        if (s->type == AC_T_INTEGER && (json_integer_value(v) > INT32_MAX || json_integer_value(v) < INT32_MIN))
            return bad(err, "Value at '%s' is out of range%s", path, "");
        return LV_OK;
    case AC_T_FLOAT:
        if (!json_is_number(v))
            return bad(err, "Invalid type for '%s': expected a number%s", path, "");
        if (s->min != INT64_MIN && json_number_value(v) < (double)s->min)
            return constraint(err, path, "Member must have value greater than or equal to", s->min);
        if (s->max != INT64_MAX && json_number_value(v) > (double)s->max)
            return constraint(err, path, "Member must have value less than or equal to", s->max);
        return LV_OK;
    case AC_T_BOOLEAN:
        return json_is_boolean(v) ? LV_OK : bad(err, "Invalid type for '%s': expected a boolean%s", path, "");
    case AC_T_TIMESTAMP:
        return json_is_number(v) || json_is_string(v) ? LV_OK : bad(err, "Invalid type for '%s'%s", path, "");
    case AC_T_BLOB:
        return json_is_string(v) ? LV_OK : bad(err, "Invalid type for '%s': expected a string%s", path, "");
    case AC_T_LIST: {
        if (!json_is_array(v))
            return bad(err, "Invalid type for '%s': expected a list%s", path, "");
        size_t n = json_array_size(v);
        if (s->min != INT64_MIN && (int64_t)n < s->min)
            return constraint(err, path, "Member must have length greater than or equal to", s->min);
        if (s->max != INT64_MAX && (int64_t)n > s->max)
            return constraint(err, path, "Member must have length less than or equal to", s->max);
        for (size_t i = 0; i < n; i++) {
            snprintf(sub, sizeof sub, "%.200s.%zu.member", path, i + 1);
            lv_err rc = check(s->elem, json_array_get(v, i), sub, depth + 1, err);
            if (rc != LV_OK)
                return rc;
        }
        return LV_OK;
    }
    case AC_T_MAP: {
        if (!json_is_object(v))
            return bad(err, "Invalid type for '%s': expected a map%s", path, "");
        size_t n = json_object_size(v);
        if (s->min != INT64_MIN && (int64_t)n < s->min)
            return constraint(err, path, "Map must have at least", s->min);
        if (s->max != INT64_MAX && (int64_t)n > s->max)
            return constraint(err, path, "Map must have at most", s->max);
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            json_t *ks = json_string(k);
            snprintf(sub, sizeof sub, "%.200s.key", path);
            lv_err rc = ks ? check(s->key, ks, sub, depth + 1, err) : LV_OK;
            json_decref(ks);
            if (rc != LV_OK)
                return rc;
            snprintf(sub, sizeof sub, "%.200s.%.40s", path, k);
            if ((rc = check(s->elem, x, sub, depth + 1, err)) != LV_OK)
                return rc;
        }
        return LV_OK;
    }
    case AC_T_STRUCT: {
        if (!json_is_object(v))
            return bad(err, "Invalid type for '%s': expected an object%s", path, "");
        for (int i = 0; i < s->nmem; i++) {
            const ac_member *m = &AC_MEMBERS[s->mem_off + i];
            json_t *x = json_object_get(v, m->name);
            snprintf(sub, sizeof sub, "%s%s%c%s", path, path[0] ? "." : "", m->name[0] | 0x20, m->name + 1);
            if (x == NULL || json_is_null(x)) {
                if (m->required && m->loc != AC_LOC_PAYLOAD)
                    return lv_error_set(err, LV_E_AC_BAD_REQUEST,
                                        "1 validation error detected: Value null at '%s' failed to satisfy "
                                        "constraint: Member must not be null",
                                        sub);
                if (x != NULL)
                    json_object_del(v, m->name);
                continue;
            }
            lv_err rc = check(m->shape, x, sub, depth + 1, err);
            if (rc != LV_OK)
                return rc;
        }
        return LV_OK;
    }
    }
    return LV_OK;
}

lv_err lv_acwire_decode(const lv_http_request *req, lv_acwire_call *call, lv_error *err)
{
    memset(call, 0, sizeof *call);
    call->op = -1;
    hdr_used = 0;
    size_t pl = strlen(req->path);
    if (pl >= 4096)
        return lv_error_set(err, LV_E_AC_BAD_REQUEST, "The request path is too long");
    char *buf = malloc(pl + 1), *raw = malloc(pl + 1);
    lv_buf tmp = LV_BUF_INIT;
    lv_err rc = LV_OK;
    if (buf == NULL || raw == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(buf, req->path, pl + 1);
    memcpy(raw, req->path, pl + 1);
    char *seg[MAX_SEGS], *rseg[MAX_SEGS];
    int nseg = split(buf, seg);
    if (nseg < 0) {
        rc = lv_error_set(err, LV_E_UNKNOWN_OPERATION, "No AppConfig operation for %s %s", req->method, req->path);
        goto out;
    }
    /* rseg: the raw tails, so a greedy last variable takes the rest. */
    {
        const char *p = req->path[0] == '/' ? req->path + 1 : req->path;
        for (int i = 0; i < nseg; i++) {
            rseg[i] = raw + (p - req->path);
            p += strlen(seg[i]) + 1;
        }
    }
    bool path_matched = false;
    int op = -1;
    for (int i = 0; i < ACW__COUNT && op < 0; i++) {
        bool be = false;
        int m = match(i, seg, nseg, (const char *const *)rseg, NULL, &tmp, err, &be);
        if (m != 1)
            continue;
        path_matched = true;
        if (strcmp(AC_OPS[i].method, req->method) == 0)
            op = i;
    }
    if (op < 0) {
        rc = lv_error_set(err, LV_E_UNKNOWN_OPERATION, path_matched ? "Method %s is not allowed on %s"
                                                                     : "No AppConfig operation for %s %s",
                          req->method, req->path);
        goto out;
    }
    call->op = op;
    const ac_op *o = &AC_OPS[op];
    const ac_shape *in = o->in >= 0 ? &AC_SHAPES[o->in] : NULL;
    /* The body first (path, query and header members win over it). */
    const ac_member *payload = NULL;
    for (int i = 0; in && i < in->nmem; i++)
        if (AC_MEMBERS[in->mem_off + i].loc == AC_LOC_PAYLOAD)
            payload = &AC_MEMBERS[in->mem_off + i];
    if (payload != NULL && AC_SHAPES[payload->shape].type == AC_T_BLOB) {
        call->in = json_object();
        call->payload = req->body;
        call->payload_len = req->body_len;
    } else if (req->body_len > 0) {
        json_error_t je;
        call->in = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
        if (call->in == NULL || !json_is_object(call->in)) {
            rc = lv_error_set(err, LV_E_AC_BAD_REQUEST, "The request body is not a JSON object: %s",
                              call->in ? "wrong type" : je.text);
            goto out;
        }
    } else {
        call->in = json_object();
    }
    if (call->in == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto out;
    }
    /* Members that travel elsewhere must not be smuggled in the body. */
    for (int i = 0; in && i < in->nmem; i++)
        if (AC_MEMBERS[in->mem_off + i].loc != AC_LOC_BODY)
            json_object_del(call->in, AC_MEMBERS[in->mem_off + i].name);
    bool be = false;
    if (match(op, seg, nseg, (const char *const *)rseg, call->in, &tmp, err, &be) != 1) {
        rc = be ? LV_E_AC_BAD_REQUEST : lv_error_set(err, LV_E_INTERNAL, "route mismatch");
        goto out;
    }
    for (int i = 0; in && i < in->nmem; i++) {
        const ac_member *m = &AC_MEMBERS[in->mem_off + i];
        json_t *s = json_object_get(call->in, m->name);
        if (m->loc != AC_LOC_URI || !json_is_string(s) || AC_SHAPES[m->shape].type == AC_T_STRING)
            continue;
        json_t *v = NULL;
        if ((rc = typed(m, json_string_value(s), json_string_length(s), &v, err)) != LV_OK)
            goto out;
        json_object_set_new(call->in, m->name, v);
    }
    if (in != NULL && (rc = decode_query(in, req->query, call->in, &tmp, err)) != LV_OK)
        goto out;
    for (size_t h = 0; in && h < req->nheaders; h++) {
        const ac_member *m = member_by_wire(in, AC_LOC_HEADER, req->headers[h].name, strlen(req->headers[h].name));
        if (m == NULL)
            continue;
        json_t *v = NULL;
        if ((rc = typed(m, req->headers[h].value, strlen(req->headers[h].value), &v, err)) != LV_OK)
            goto out;
        json_object_set_new(call->in, m->name, v);
    }
    /* Path members arrive URL-escaped, so empty or odd ones are input
     * errors, never a different resource. */
    if (in != NULL)
        rc = check(o->in, call->in, "", 0, err);
out:
    free(buf);
    free(raw);
    lv_buf_free(&tmp);
    if (rc != LV_OK) {
        json_decref(call->in);
        call->in = NULL;
    }
    return rc;
}

void lv_acwire_call_free(lv_acwire_call *call)
{
    json_decref(call->in);
    call->in = NULL;
}

/* ---------- encoding ---------- */

void lv_acwire_answer(int op, json_t *out, const void *payload, size_t plen, const char *content_type,
                      lv_http_response *resp)
{
    const ac_op *o = &AC_OPS[op];
    resp->status = o->status;
    lv_buf_reset(&resp->body);
    resp->content_type = "application/json";
    if (o->out >= 0 && out != NULL) {
        const ac_shape *s = &AC_SHAPES[o->out];
        for (int i = 0; i < s->nmem; i++) {
            const ac_member *m = &AC_MEMBERS[s->mem_off + i];
            json_t *v = json_object_get(out, m->name);
            if (m->loc != AC_LOC_HEADER || v == NULL)
                continue;
            char num[32];
            const char *text = json_is_string(v) ? json_string_value(v) : NULL;
            if (json_is_integer(v)) {
                snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                text = num;
            }
            if (text != NULL && strcasecmp(m->wire, "Content-Type") == 0)
                content_type = content_type ? content_type : text;
            else if (text != NULL && text[0] != '\0')
                lv_acwire_header(resp, m->wire, text);
            json_object_del(out, m->name);
        }
    }
    if (payload != NULL) {
        if (content_type != NULL) {
            /* A thread-local copy: the content type is per request. */
            static _Thread_local char ct[320];
            snprintf(ct, sizeof ct, "%s", content_type);
            resp->content_type = ct;
        } else {
            resp->content_type = "application/octet-stream";
        }
        if (plen > 0 && lv_buf_append(&resp->body, payload, plen) != LV_OK)
            resp->status = 500;
    } else if (o->status != 204 && out != NULL) {
        char *s = json_dumps(out, JSON_COMPACT);
        if (s == NULL || lv_buf_puts(&resp->body, s) != LV_OK)
            resp->status = 500;
        free(s);
    }
    json_decref(out);
}

void lv_acwire_error(const lv_error *e, json_t *extra, lv_http_response *resp)
{
    lv_err code = e->code;
    /* Codes from shared code paths map onto AppConfig's names. */
    if (code == LV_E_VALIDATION || code == LV_E_SERIALIZATION || code == LV_E_TOO_BIG)
        code = LV_E_AC_BAD_REQUEST;
    else if (code == LV_E_NOMEM || code == LV_E_INTERNAL || code == LV_E_IO || code == LV_E_CORRUPT)
        code = LV_E_AC_INTERNAL;
    resp->status = lv_err_http_status(code);
    if (code == LV_E_ACCESS_DENIED || code == LV_E_INVALID_SIGNATURE || code == LV_E_UNRECOGNIZED_CLIENT ||
        code == LV_E_MISSING_AUTH || code == LV_E_INCOMPLETE_SIGNATURE)
        resp->status = 403;
    else if (code == LV_E_THROTTLING)
        resp->status = 429;
    resp->content_type = "application/json";
    lv_http_response_header(resp, "x-amzn-ErrorType", lv_err_aws_code(code));
    json_t *body = extra && json_is_object(extra) ? extra : json_object();
    if (extra != NULL && body != extra)
        json_decref(extra);
    json_object_set_new(body, "Message", json_string(e->msg));
    lv_buf_reset(&resp->body);
    char *s = json_dumps(body, JSON_COMPACT);
    if (s != NULL)
        lv_buf_puts(&resp->body, s);
    free(s);
    json_decref(body);
}
