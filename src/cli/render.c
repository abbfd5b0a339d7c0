/* render.c - placeholder templates and the metadata.yaml parameters: map
 * for `lever render`. Input is untrusted text: every path is bounded and
 * fuzzed (tests/fuzz/fuzz_render.c). */
#include "cli/render.h"

#include <stdio.h>
#include <string.h>

enum { NAME_MAX_LEN = 2048, VERSION_MAX_LEN = 128, KEY_MAX_LEN = 256 };

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '/';
}

static bool version_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static int line_of(const char *text, const char *p)
{
    int line = 1;
    for (const char *q = text; q < p; q++)
        line += *q == '\n';
    return line;
}

lv_err lv_render_template(const char *text, size_t len, const char *filename,
                          lv_render_resolve_fn fn, void *user, lv_buf *out, lv_error *err)
{
    static const char open[] = "{{resolve:";
    const size_t olen = sizeof open - 1;
    const char *p = text, *end = text + len;
    lv_err rc;
    while (p < end) {
        const char *hit = NULL;
        for (const char *q = p; q + olen <= end; q++) {
            if (*q == '{' && memcmp(q, open, olen) == 0) {
                hit = q;
                break;
            }
        }
        if (hit == NULL) {
            return lv_buf_append(out, p, (size_t)(end - p));
        }
        if ((rc = lv_buf_append(out, p, (size_t)(hit - p))) != LV_OK)
            return lv_error_set(err, rc, "%s: output too large", filename);
        const char *q = hit + olen;
        int line = line_of(text, hit);
        bool secure;
        if ((size_t)(end - q) >= 11 && memcmp(q, "ssm-secure:", 11) == 0) {
            secure = true;
            q += 11;
        } else if ((size_t)(end - q) >= 4 && memcmp(q, "ssm:", 4) == 0) {
            secure = false;
            q += 4;
        } else {
            return lv_error_set(err, LV_E_VALIDATION,
                                "%s:%d: unknown placeholder: expected {{resolve:ssm:NAME}} or "
                                "{{resolve:ssm-secure:NAME}}", filename, line);
        }
        const char *nb = q;
        while (q < end && name_char(*q))
            q++;
        size_t nl = (size_t)(q - nb);
        if (nl == 0)
            return lv_error_set(err, LV_E_VALIDATION, "%s:%d: placeholder without a parameter name",
                                filename, line);
        if (nl > NAME_MAX_LEN)
            return lv_error_set(err, LV_E_VALIDATION, "%s:%d: parameter name too long", filename, line);
        const char *vb = NULL;
        size_t vl = 0;
        if (q < end && *q == ':') {
            vb = ++q;
            while (q < end && version_char(*q))
                q++;
            vl = (size_t)(q - vb);
            if (vl == 0 || vl > VERSION_MAX_LEN)
                return lv_error_set(err, LV_E_VALIDATION, "%s:%d: empty or too long version after the name",
                                    filename, line);
        }
        if ((size_t)(end - q) < 2 || q[0] != '}' || q[1] != '}') {
            if (q < end && *q != '}' && *q != '\n')
                return lv_error_set(err, LV_E_VALIDATION, "%s:%d: unexpected character '%c' in placeholder",
                                    filename, line, *q);
            return lv_error_set(err, LV_E_VALIDATION, "%s:%d: unterminated placeholder (missing '}}')",
                                filename, line);
        }
        q += 2;
        char name[NAME_MAX_LEN + 1], version[VERSION_MAX_LEN + 1];
        memcpy(name, nb, nl);
        name[nl] = '\0';
        if (vb) {
            memcpy(version, vb, vl);
            version[vl] = '\0';
        }
        char msg[LV_ERROR_MSG_MAX - 64];
        msg[0] = '\0';
        if (fn(user, secure, name, vb ? version : NULL, out, msg, sizeof msg) != 0)
            return lv_error_set(err, LV_E_VALIDATION, "%s:%d: %s", filename, line, msg);
        p = q;
    }
    return LV_OK;
}

/* Trims blanks (space, tab, CR) at both ends of [*b, *e). */
static void trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t' || **b == '\r'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

/* Drops a " # comment" from an unquoted value. */
static const char *strip_comment(const char *b, const char *e)
{
    for (const char *p = b; p < e; p++)
        if (*p == '#' && (p == b || p[-1] == ' ' || p[-1] == '\t'))
            return p;
    return e;
}

lv_err lv_render_parse_metadata(const char *text, size_t len, const char *filename,
                                lv_render_entry_fn fn, void *user, lv_error *err)
{
    const char *p = text, *end = text + len;
    int line = 0;
    bool in_map = false, found = false;
    int indent = -1;
    /* keys seen so far, to refuse duplicates (NUL-separated) */
    lv_buf seen = LV_BUF_INIT;
    lv_err rc = LV_OK;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        line++;
        const char *b = p, *e = eol;
        p = eol < end ? eol + 1 : end;
        if (memchr(b, '\0', (size_t)(e - b))) {
            rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: NUL byte", filename, line);
            break;
        }
        int ind = 0;
        while (b + ind < e && b[ind] == ' ')
            ind++;
        const char *cb = b + ind, *ce = e;
        trim(&cb, &ce);
        if (cb == ce || *cb == '#')
            continue;
        if (ind < (int)(ce - b) && b[ind] == '\t') {
            rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: tab in indentation (YAML allows spaces only)",
                              filename, line);
            break;
        }
        if (ind == 0) {
            if (in_map) {
                in_map = false; /* the map ended at the next top-level key */
            }
            if ((size_t)(ce - cb) >= 11 && memcmp(cb, "parameters:", 11) == 0) {
                const char *rest = cb + 11, *re = ce;
                trim(&rest, &re);
                if (rest < re && *rest != '#') {
                    rc = lv_error_set(err, LV_E_VALIDATION,
                                      "%s:%d: parameters: must be followed by an indented map", filename, line);
                    break;
                }
                if (found) {
                    rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: second parameters: map", filename, line);
                    break;
                }
                in_map = found = true;
                indent = -1;
            }
            continue;
        }
        if (!in_map)
            continue;
        if (indent < 0)
            indent = ind;
        if (ind != indent) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "%s:%d: nested or misaligned entry (parameters: maps names to paths)",
                              filename, line);
            break;
        }
        /* KEY: VALUE */
        const char *colon = memchr(cb, ':', (size_t)(ce - cb));
        if (colon == NULL) {
            rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: expected KEY: PATH", filename, line);
            break;
        }
        const char *kb = cb, *ke = colon;
        trim(&kb, &ke);
        if (kb < ke && (*kb == '"' || *kb == '\'') && ke - kb >= 2 && ke[-1] == *kb) {
            kb++;
            ke--;
        }
        if (kb == ke || ke - kb > KEY_MAX_LEN) {
            rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: empty or too long key", filename, line);
            break;
        }
        const char *vb = colon + 1, *ve = ce;
        trim(&vb, &ve);
        if (vb < ve && (*vb == '"' || *vb == '\'')) {
            const char q = *vb;
            const char *close = memchr(vb + 1, q, (size_t)(ve - vb - 1));
            if (close == NULL) {
                rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: unterminated quoted value", filename, line);
                break;
            }
            const char *after = close + 1, *ae = ve;
            trim(&after, &ae);
            if (after < ae && *after != '#') {
                rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: text after the quoted value", filename, line);
                break;
            }
            vb++;
            ve = close;
        } else {
            ve = strip_comment(vb, ve);
            trim(&vb, &ve);
        }
        if (vb == ve) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "%s:%d: empty path for %.*s (nested maps are not supported)", filename, line,
                              (int)(ke - kb), kb);
            break;
        }
        if (memchr(vb, '\\', (size_t)(ve - vb))) {
            rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: escapes are not supported in paths", filename, line);
            break;
        }
        char key[KEY_MAX_LEN + 1];
        memcpy(key, kb, (size_t)(ke - kb));
        key[ke - kb] = '\0';
        for (size_t off = 0; off < seen.len; off += strlen(seen.data + off) + 1) {
            if (strcmp(seen.data + off, key) == 0) {
                rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: duplicate key %s", filename, line, key);
                goto out;
            }
        }
        if ((rc = lv_buf_append(&seen, key, strlen(key) + 1)) != LV_OK) {
            lv_error_set(err, rc, "%s: out of memory", filename);
            break;
        }
        lv_buf val = LV_BUF_INIT;
        if ((rc = lv_buf_append(&val, vb, (size_t)(ve - vb))) != LV_OK) {
            lv_error_set(err, rc, "%s: out of memory", filename);
            break;
        }
        char msg[LV_ERROR_MSG_MAX - 64];
        msg[0] = '\0';
        int r = fn(user, key, val.data, line, msg, sizeof msg);
        lv_buf_free(&val);
        if (r != 0) {
            rc = lv_error_set(err, LV_E_VALIDATION, "%s:%d: %s", filename, line, msg);
            break;
        }
    }
    if (rc == LV_OK && !found)
        rc = lv_error_set(err, LV_E_VALIDATION, "%s: no top-level parameters: map", filename);
out:
    lv_buf_free(&seen);
    return rc;
}

lv_err lv_render_expand_env(const char *path, const char *env, lv_buf *out, lv_error *err)
{
    static const char tok[] = "{Environment}";
    const char *p = path;
    lv_err rc;
    for (;;) {
        const char *hit = strstr(p, tok);
        if (hit == NULL)
            break;
        if ((rc = lv_buf_append(out, p, (size_t)(hit - p))) != LV_OK || (rc = lv_buf_puts(out, env)) != LV_OK)
            return lv_error_set(err, rc, "out of memory");
        p = hit + sizeof tok - 1;
    }
    if ((rc = lv_buf_puts(out, p)) != LV_OK)
        return lv_error_set(err, rc, "out of memory");
    return LV_OK;
}
