/* audit.c - append-only JSON-lines audit log with size-based rotation.
 * One mutex orders lines and rotation; each line is one write(2) on an
 * O_APPEND descriptor, so a crash can cut at most the last line. */
#include "api/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json/jw.h"
#include "core/buf.h"

struct lv_audit {
    pthread_mutex_t mu;
    char *path;
    int fd;
    uint64_t size;
    uint64_t max_bytes;
    unsigned keep;
};

static int open_log(const char *path, uint64_t *size)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    *size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return fd;
}

lv_err lv_audit_open(const char *path, uint64_t max_bytes, unsigned keep, lv_audit **out, lv_error *err)
{
    lv_audit *a = calloc(1, sizeof *a);
    if (a == NULL || (a->path = strdup(path)) == NULL) {
        free(a);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    a->fd = open_log(path, &a->size);
    if (a->fd < 0) {
        int e = errno;
        free(a->path);
        free(a);
        return lv_error_set(err, LV_E_IO, "cannot open audit log %s: %s", path, strerror(e));
    }
    a->max_bytes = max_bytes;
    a->keep = keep ? keep : 1;
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return LV_OK;
}

void lv_audit_close(lv_audit *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0) {
        fsync(a->fd);
        close(a->fd);
    }
    pthread_mutex_destroy(&a->mu);
    free(a->path);
    free(a);
}

const char *lv_audit_path(const lv_audit *a)
{
    return a->path;
}

/* path.(keep-1) -> path.keep ... path -> path.1, then a fresh path. */
static void rotate(lv_audit *a)
{
    char from[PATH_MAX], to[PATH_MAX];
    for (unsigned i = a->keep; i > 1; i--) {
        snprintf(from, sizeof from, "%s.%u", a->path, i - 1);
        snprintf(to, sizeof to, "%s.%u", a->path, i);
        rename(from, to); /* a missing older file is fine */
    }
    snprintf(to, sizeof to, "%s.1", a->path);
    fsync(a->fd);
    if (rename(a->path, to) != 0) {
        fprintf(stderr, "leverd: cannot rotate audit log %s: %s\n", a->path, strerror(errno));
        return;
    }
    int fd = open_log(a->path, &a->size);
    if (fd < 0) {
        /* Keep writing to the renamed file rather than lose lines. */
        fprintf(stderr, "leverd: cannot open new audit log %s: %s\n", a->path, strerror(errno));
        return;
    }
    close(a->fd);
    a->fd = fd;
}

void lv_audit_write(lv_audit *a, const lv_audit_event *ev)
{
    if (a == NULL)
        return;
    lv_buf b = LV_BUF_INIT;
    jw w;
    jw_init(&w, &b);
    char ts[40];
    time_t secs = (time_t)(ev->time_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(ev->time_ms % 1000));
    jw_obj(&w);
    jw_kstr(&w, "time", ts);
    jw_kstr(&w, "request_id", ev->request_id ? ev->request_id : "");
    jw_kstr(&w, "key_id", ev->key_id ? ev->key_id : "");
    if (ev->user)
        jw_kstr(&w, "user", ev->user);
    jw_kstr(&w, "source", ev->source ? ev->source : "");
    jw_kstr(&w, "operation", ev->operation ? ev->operation : "");
    jw_key(&w, "names");
    jw_arr(&w);
    for (size_t i = 0; i < ev->nnames; i++)
        jw_str(&w, ev->names[i]);
    jw_arr_end(&w);
    jw_kstr(&w, "outcome", ev->outcome ? ev->outcome : "");
    if (ev->error_code)
        jw_kstr(&w, "error", ev->error_code);
    jw_obj_end(&w);
    if (w.rc != LV_OK || lv_buf_putc(&b, '\n') != LV_OK) {
        fprintf(stderr, "leverd: audit: out of memory, line for request %s lost\n",
                ev->request_id ? ev->request_id : "?");
        lv_buf_free(&b);
        return;
    }
    pthread_mutex_lock(&a->mu);
    if (a->max_bytes && a->size > 0 && a->size + b.len > a->max_bytes)
        rotate(a);
    ssize_t wr = write(a->fd, b.data, b.len);
    if (wr != (ssize_t)b.len)
        fprintf(stderr, "leverd: audit: cannot write %s: %s\n", a->path,
                wr < 0 ? strerror(errno) : "short write");
    else
        a->size += b.len;
    pthread_mutex_unlock(&a->mu);
    lv_buf_free(&b);
}
