/* audit_query.c - reads the end of the audit log backwards, line by line,
 * keeping the lines that pass every filter. */
#include "api/audit_query.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/jreq.h"
#include "json/jw.h"

typedef struct filter {
    const char *key, *op, *outcome, *prefix, *since, *until;
} filter;

static const char *sfield(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool passes(const filter *f, json_t *o)
{
    if (f->key && strcmp(sfield(o, "key_id"), f->key) != 0)
        return false;
    if (f->op && strcmp(sfield(o, "operation"), f->op) != 0)
        return false;
    if (f->outcome && strcmp(sfield(o, "outcome"), f->outcome) != 0)
        return false;
    const char *t = sfield(o, "time");
    if (f->since && strncmp(t, f->since, strlen(f->since)) < 0)
        return false;
    if (f->until && strncmp(t, f->until, strlen(f->until)) > 0)
        return false;
    if (f->prefix) {
        json_t *names = json_object_get(o, "names");
        size_t i, n = strlen(f->prefix);
        json_t *v;
        bool any = false;
        json_array_foreach(names, i, v)
        {
            const char *s = json_string_value(v);
            if (s && strncmp(s, f->prefix, n) == 0)
                any = true;
        }
        if (!any)
            return false;
    }
    return true;
}

/* The last LV_AUDIT_QUERY_TAIL bytes of the file, from a line start. */
static lv_err read_tail(const char *path, lv_buf *b, lv_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return LV_OK;
        return lv_error_set(err, LV_E_IO, "The audit log cannot be read.");
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return lv_error_set(err, LV_E_IO, "The audit log cannot be read.");
    }
    off_t from = st.st_size > LV_AUDIT_QUERY_TAIL ? st.st_size - LV_AUDIT_QUERY_TAIL : 0;
    size_t want = (size_t)(st.st_size - from);
    lv_err rc = lv_buf_reserve(b, want + 1);
    size_t got = 0;
    while (rc == LV_OK && got < want) {
        ssize_t n = pread(fd, b->data + got, want - got, from + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (rc != LV_OK)
        return lv_error_set(err, rc, "out of memory");
    b->len = got;
    b->data[got] = '\0';
    if (from > 0) { /* drop the cut first line */
        char *nl = memchr(b->data, '\n', b->len);
        size_t skip = nl ? (size_t)(nl - b->data) + 1 : b->len;
        memmove(b->data, b->data + skip, b->len - skip + 1);
        b->len -= skip;
    }
    return LV_OK;
}

lv_err lv_audit_query(const char *path, const char *body, size_t len, lv_buf *out, lv_error *err)
{
    jreq r;
    lv_err rc = jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    filter f;
    f.key = jreq_str(&r, NULL, "KeyId", false, 1, 128, NULL);
    f.op = jreq_str(&r, NULL, "Operation", false, 1, 128, NULL);
    f.outcome = jreq_str(&r, NULL, "Outcome", false, 1, 32, NULL);
    f.prefix = jreq_str(&r, NULL, "NamePrefix", false, 1, 2048, NULL);
    f.since = jreq_str(&r, NULL, "Since", false, 1, 40, NULL);
    f.until = jreq_str(&r, NULL, "Until", false, 1, 40, NULL);
    int64_t max = 100;
    jreq_int(&r, NULL, "MaxResults", false, 1, 1000, &max);
    if ((rc = jreq_finish(&r, err)) != LV_OK) {
        jreq_free(&r);
        return rc;
    }
    lv_buf log = LV_BUF_INIT;
    if (path != NULL && (rc = read_tail(path, &log, err)) != LV_OK) {
        jreq_free(&r);
        return rc;
    }
    jw w;
    jw_init(&w, out);
    jw_obj(&w);
    jw_key(&w, "Events");
    jw_arr(&w);
    int64_t n = 0;
    size_t end = log.len;
    while (end > 0 && n < max) {
        size_t start = end;
        while (start > 0 && log.data[start - 1] != '\n')
            start--;
        size_t l = end - start;
        if (l > 1 || (l == 1 && log.data[start] != '\n')) {
            json_t *o = json_loadb(log.data + start, l, 0, NULL);
            if (json_is_object(o) && passes(&f, o)) {
                size_t tl = l;
                while (tl > 0 && (log.data[start + tl - 1] == '\n' || log.data[start + tl - 1] == '\r'))
                    tl--;
                jw_raw(&w, log.data + start, tl);
                n++;
            }
            json_decref(o);
        }
        end = start > 0 ? start - 1 : 0;
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    lv_buf_free(&log);
    jreq_free(&r);
    return w.rc == LV_OK ? LV_OK : lv_error_set(err, w.rc, "out of memory");
}
