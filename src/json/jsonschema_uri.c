/* jsonschema_uri.c - RFC 3986 reference resolution (section 5.2), for the
 * ids and $refs of a schema. Bases may be empty or relative: then the
 * result is relative too, which is all a document without ids needs. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "json/jsonschema_int.h"

struct uri_parts {
    const char *scheme, *auth, *path, *query, *frag;
    size_t scheme_n, auth_n, path_n, query_n, frag_n;
    bool has_scheme, has_auth, has_query, has_frag;
};

static void split(const char *s, struct uri_parts *u)
{
    memset(u, 0, sizeof *u);
    const char *p = s;
    if (isalpha((unsigned char)*p)) {
        const char *q = p + 1;
        while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.')
            q++;
        if (*q == ':') {
            u->has_scheme = true;
            u->scheme = p;
            u->scheme_n = (size_t)(q - p);
            p = q + 1;
        }
    }
    if (p[0] == '/' && p[1] == '/') {
        u->has_auth = true;
        u->auth = p + 2;
        u->auth_n = strcspn(u->auth, "/?#");
        p = u->auth + u->auth_n;
    }
    u->path = p;
    u->path_n = strcspn(p, "?#");
    p += u->path_n;
    if (*p == '?') {
        u->has_query = true;
        u->query = p + 1;
        u->query_n = strcspn(u->query, "#");
        p = u->query + u->query_n;
    }
    if (*p == '#') {
        u->has_frag = true;
        u->frag = p + 1;
        u->frag_n = strlen(u->frag);
    }
}

bool js_uri_is_absolute(const char *uri)
{
    struct uri_parts u;
    split(uri, &u);
    return u.has_scheme;
}

/* RFC 3986 5.2.4, on a NUL-terminated copy in place. */
static void remove_dots(char *in)
{
    char *out = in, *r = in;
    while (*r) {
        if (strncmp(r, "../", 3) == 0) {
            r += 3;
        } else if (strncmp(r, "./", 2) == 0) {
            r += 2;
        } else if (strncmp(r, "/./", 3) == 0) {
            r += 2;
        } else if (strcmp(r, "/.") == 0) {
            r[1] = '\0';
        } else if (strncmp(r, "/../", 4) == 0 || strcmp(r, "/..") == 0) {
            r += 3;
            if (*r == '\0')
                *--r = '/'; /* "/.." at the end becomes "/" */
            while (out > in && *--out != '/')
                ;
        } else if (strcmp(r, ".") == 0 || strcmp(r, "..") == 0) {
            *r = '\0';
        } else {
            do
                *out++ = *r++;
            while (*r && *r != '/');
        }
    }
    *out = '\0';
}

static bool put_path(lv_buf *b, const char *path, size_t n)
{
    char *tmp = strndup(path, n);
    if (tmp == NULL)
        return false;
    remove_dots(tmp);
    bool ok = lv_buf_puts(b, tmp) == LV_OK;
    free(tmp);
    return ok;
}

char *js_uri_resolve(const char *base, const char *ref)
{
    struct uri_parts b, r;
    split(base, &b);
    split(ref, &r);
    lv_buf out = LV_BUF_INIT;
    const struct uri_parts *auth_from = &r, *query_from = &r;
    bool ok = true;
    lv_buf path = LV_BUF_INIT;
    if (r.has_scheme) {
        ok = put_path(&path, r.path, r.path_n);
    } else {
        if (r.has_auth) {
            ok = put_path(&path, r.path, r.path_n);
        } else {
            auth_from = &b;
            if (r.path_n == 0) {
                ok = lv_buf_append(&path, b.path, b.path_n) == LV_OK;
                if (!r.has_query)
                    query_from = &b;
            } else if (r.path[0] == '/') {
                ok = put_path(&path, r.path, r.path_n);
            } else {
                lv_buf merged = LV_BUF_INIT;
                if (b.has_auth && b.path_n == 0) {
                    ok = lv_buf_putc(&merged, '/') == LV_OK;
                } else {
                    const char *slash = NULL;
                    for (size_t i = 0; i < b.path_n; i++)
                        if (b.path[i] == '/')
                            slash = b.path + i;
                    if (slash)
                        ok = lv_buf_append(&merged, b.path, (size_t)(slash - b.path) + 1) == LV_OK;
                }
                ok = ok && lv_buf_append(&merged, r.path, r.path_n) == LV_OK &&
                     put_path(&path, merged.data ? merged.data : "", merged.len);
                lv_buf_free(&merged);
            }
        }
    }
    const struct uri_parts *scheme_from = r.has_scheme ? &r : &b;
    if (scheme_from->has_scheme)
        ok = ok && lv_buf_append(&out, scheme_from->scheme, scheme_from->scheme_n) == LV_OK &&
             lv_buf_putc(&out, ':') == LV_OK;
    if (r.has_scheme)
        auth_from = &r;
    if (auth_from->has_auth)
        ok = ok && lv_buf_puts(&out, "//") == LV_OK &&
             lv_buf_append(&out, auth_from->auth, auth_from->auth_n) == LV_OK;
    ok = ok && lv_buf_append(&out, path.data ? path.data : "", path.len) == LV_OK;
    if (query_from->has_query)
        ok = ok && lv_buf_putc(&out, '?') == LV_OK &&
             lv_buf_append(&out, query_from->query, query_from->query_n) == LV_OK;
    if (r.has_frag)
        ok = ok && lv_buf_putc(&out, '#') == LV_OK &&
             lv_buf_append(&out, r.frag, r.frag_n) == LV_OK;
    ok = ok && lv_buf_reserve(&out, 1) == LV_OK;
    lv_buf_free(&path);
    if (!ok) {
        lv_buf_free(&out);
        return NULL;
    }
    if (out.data == NULL)
        return strdup("");
    return lv_buf_steal(&out, NULL);
}
