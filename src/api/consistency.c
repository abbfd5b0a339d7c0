/* consistency.c - revisions and staleness on the wire (consistency.h). */
#include "api/consistency.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

lv_err lv_consistency_await(lv_engine *e, const lv_http_request *req, lv_error *err)
{
    const char *h = lv_http_header_get(req, "x-lever-revision");
    if (h == NULL)
        return LV_OK;
    char *end;
    errno = 0;
    unsigned long long want = strtoull(h, &end, 10);
    if (end == h || *end != '\0' || errno != 0 || h[0] == '-')
        return lv_error_set(err, LV_E_VALIDATION, "The x-lever-revision header must be a decimal revision.");
    if (!lv_engine_shared(e) || want <= lv_engine_revision(e))
        return LV_OK;
    return lv_engine_wait_revision(e, want, LV_REVISION_WAIT_MS, err);
}

/* Decimal digits of v into buf (at least 21 bytes), NUL-terminated: on
 * every answer, where snprintf's generality costs more than the rest of
 * this function. */
static const char *decimal(char *buf, size_t cap, unsigned long long v)
{
    char *p = buf + cap - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void lv_consistency_headers(lv_engine *e, lv_http_response *resp)
{
    char buf[24];
    lv_http_response_header(resp, "x-lever-revision",
                            decimal(buf, sizeof buf, (unsigned long long)lv_engine_revision(e)));
    int64_t down = 0;
    if (lv_engine_shared(e) && !lv_engine_store_ok(e, &down)) {
        snprintf(buf, sizeof buf, "%lld", (long long)(down / 1000));
        lv_http_response_header(resp, "x-lever-stale", buf);
    }
}

void lv_consistency_healthz(lv_engine *e, lv_http_response *resp)
{
    resp->status = 200;
    resp->content_type = "application/json";
    unsigned long long rev = (unsigned long long)lv_engine_revision(e);
    if (!lv_engine_shared(e)) {
        lv_buf_printf(&resp->body, "{\"status\":\"ok\",\"revision\":%llu}", rev);
        return;
    }
    int64_t down = 0;
    bool ok = lv_engine_store_ok(e, &down);
    /* Still 200 while the store is down: this node serves reads from
     * memory, so a load balancer should keep sending them. */
    lv_buf_printf(&resp->body,
                  "{\"status\":\"%s\",\"revision\":%llu,\"store\":{\"shared\":true,\"reachable\":%s,"
                  "\"unreachable_seconds\":%lld}}",
                  ok ? "ok" : "stale", rev, ok ? "true" : "false", (long long)(down / 1000));
}
