/* offload.h - a few worker threads for requests that must wait on
 * something outside leverd (a synchronous extension hook): the router
 * parks such a request (lv_http_defer), hands a copy of it here, and the
 * HTTP event loop goes on serving everyone else. Bounded: a full queue
 * refuses the job. */
#ifndef LV_API_OFFLOAD_H
#define LV_API_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "http/http.h"

typedef struct lv_offload lv_offload;
typedef void (*lv_offload_fn)(void *arg);

enum { LV_OFFLOAD_THREADS = 4, LV_OFFLOAD_QUEUE = 64 };

lv_err lv_offload_new(unsigned threads, size_t queue_max, lv_offload **out, lv_error *err);
/* Queues fn(arg); false when the queue is full or the pool is stopping
 * (the caller keeps arg). */
bool lv_offload_submit(lv_offload *o, lv_offload_fn fn, void *arg);
/* Runs what is queued and joins the threads; later submits fail. */
void lv_offload_stop(lv_offload *o);
/* Stops (if not yet) and frees. NULL is fine. */
void lv_offload_free(lv_offload *o);

/* An owned deep copy of a request (every pointer into one allocation). */
typedef struct lv_offload_req {
    lv_http_request req;
} lv_offload_req;
lv_offload_req *lv_offload_req_copy(const lv_http_request *req);
void lv_offload_req_free(lv_offload_req *r);

#endif
