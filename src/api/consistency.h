/* consistency.h - what every answer says about the state it came from
 * when several nodes share one store: the x-lever-revision a client
 * sends is waited for (never answered from older state), the revision an
 * answer reflects is sent back, and a node that cannot reach the store
 * says its reads may be stale. */
#ifndef LV_API_CONSISTENCY_H
#define LV_API_CONSISTENCY_H

#include "core/err.h"
#include "engine/engine.h"
#include "http/http.h"

/* How long a request whose x-lever-revision this node has not applied
 * yet waits for it before the retryable ServiceUnavailable. */
enum { LV_REVISION_WAIT_MS = 2000 };

/* LV_OK once this node has applied the request's x-lever-revision (or it
 * sent none, or the store is not shared); LV_E_UNAVAILABLE after the
 * wait; LV_E_VALIDATION for a malformed header. */
lv_err lv_consistency_await(lv_engine *e, const lv_http_request *req, lv_error *err);

/* Adds x-lever-revision (the engine's revision now) and, while the
 * shared store cannot be reached, x-lever-stale: <seconds>. */
void lv_consistency_headers(lv_engine *e, lv_http_response *resp);

/* The /healthz body: status, revision and, on a shared store, the
 * store's reachability. */
void lv_consistency_healthz(lv_engine *e, lv_http_response *resp);

#endif
