/* offload.c - the worker pool for parked requests, and the request copy
 * a parked request needs (the listener's buffers are gone once the
 * handler returns). */
#include "api/offload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
    lv_offload_fn fn;
    void *arg;
} job;

struct lv_offload {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *q;
    size_t cap, head, len;
    bool stop;
    pthread_t *threads;
    unsigned nthreads;
};

static void *worker(void *p)
{
    lv_offload *o = p;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (o->len == 0 && !o->stop)
            pthread_cond_wait(&o->cv, &o->mu);
        if (o->len == 0)
            break;
        job j = o->q[o->head];
        o->head = (o->head + 1) % o->cap;
        o->len--;
        pthread_mutex_unlock(&o->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&o->mu);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

lv_err lv_offload_new(unsigned threads, size_t queue_max, lv_offload **out, lv_error *err)
{
    lv_offload *o = calloc(1, sizeof *o);
    if (o == NULL || (o->q = calloc(queue_max ? queue_max : 1, sizeof *o->q)) == NULL ||
        (o->threads = calloc(threads ? threads : 1, sizeof *o->threads)) == NULL) {
        if (o)
            free(o->q);
        free(o);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    o->cap = queue_max ? queue_max : 1;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    for (unsigned i = 0; i < (threads ? threads : 1); i++) {
        if (pthread_create(&o->threads[i], NULL, worker, o) != 0) {
            lv_offload_free(o);
            return lv_error_set(err, LV_E_INTERNAL, "cannot start a request worker thread");
        }
        o->nthreads++;
    }
    *out = o;
    return LV_OK;
}

bool lv_offload_submit(lv_offload *o, lv_offload_fn fn, void *arg)
{
    pthread_mutex_lock(&o->mu);
    bool ok = !o->stop && o->len < o->cap;
    if (ok) {
        o->q[(o->head + o->len) % o->cap] = (job){fn, arg};
        o->len++;
        pthread_cond_signal(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return ok;
}

void lv_offload_stop(lv_offload *o)
{
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->mu);
    bool joined = o->stop;
    o->stop = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    if (!joined)
        for (unsigned i = 0; i < o->nthreads; i++)
            pthread_join(o->threads[i], NULL);
}

void lv_offload_free(lv_offload *o)
{
    if (o == NULL)
        return;
    lv_offload_stop(o);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o->threads);
    free(o->q);
    free(o);
}

static size_t slen(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *put(char **at, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    char *d = *at;
    memcpy(d, s, n);
    *at += n;
    return d;
}

lv_offload_req *lv_offload_req_copy(const lv_http_request *req)
{
    size_t need = sizeof(lv_offload_req) + req->nheaders * sizeof(lv_http_header) + slen(req->method) +
                  slen(req->path) + slen(req->query) + slen(req->remote_addr) + req->body_len + 1;
    for (size_t i = 0; i < req->nheaders; i++)
        need += slen(req->headers[i].name) + slen(req->headers[i].value);
    lv_offload_req *r = calloc(1, need);
    if (r == NULL)
        return NULL;
    lv_http_header *h = (lv_http_header *)(r + 1);
    char *at = (char *)(h + req->nheaders);
    r->req.headers = h;
    r->req.nheaders = req->nheaders;
    for (size_t i = 0; i < req->nheaders; i++) {
        h[i].name = put(&at, req->headers[i].name, slen(req->headers[i].name));
        h[i].value = put(&at, req->headers[i].value, slen(req->headers[i].value));
    }
    r->req.method = put(&at, req->method, slen(req->method));
    r->req.path = put(&at, req->path, slen(req->path));
    r->req.query = put(&at, req->query, slen(req->query));
    r->req.remote_addr = put(&at, req->remote_addr, slen(req->remote_addr));
    char *body = at;
    if (req->body_len)
        memcpy(body, req->body, req->body_len);
    body[req->body_len] = '\0';
    r->req.body = body;
    r->req.body_len = req->body_len;
    return r;
}

void lv_offload_req_free(lv_offload_req *r)
{
    free(r);
}
