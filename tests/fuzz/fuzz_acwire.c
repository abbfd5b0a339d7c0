/* fuzz_acwire.c - the AppConfig REST decoder on untrusted requests: routing
 * of the path, percent-decoding of path members and the query string,
 * header members, the JSON body and the shape checks. It must never crash,
 * and a decoded call always names a known operation with an object input.
 *
 * Input layout: lines "METHOD\nPATH\nQUERY\nHEADER-NAME: VALUE\n\nBODY";
 * missing parts are empty. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/acwire.h"

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "fuzz_acwire: check failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                              \
        }                                                                         \
    } while (0)

static char *line(char **p, char *end)
{
    char *s = *p;
    char *nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL) {
        *p = end;
        return s;
    }
    *nl = '\0';
    *p = nl + 1;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *p = buf, *end = buf + size;
    char *method = line(&p, end), *path = line(&p, end), *query = line(&p, end);
    lv_http_header hdrs[8];
    size_t nh = 0;
    while (p < end && *p != '\n' && nh < 8) {
        char *h = line(&p, end);
        char *colon = strchr(h, ':');
        if (colon == NULL)
            break;
        *colon = '\0';
        hdrs[nh].name = h;
        hdrs[nh].value = colon[1] == ' ' ? colon + 2 : colon + 1;
        nh++;
    }
    if (p < end && *p == '\n')
        p++;
    lv_http_request req = {method, path, query[0] ? query : NULL, hdrs, nh, p, (size_t)(end - p), "127.0.0.1"};
    lv_acwire_call call;
    lv_error err;
    lv_error_clear(&err);
    lv_err rc = lv_acwire_decode(&req, &call, &err);
    if (rc == LV_OK) {
        CHECK(call.op >= 0 && call.op < lv_acwire_op_count());
        CHECK(json_is_object(call.in));
        CHECK(lv_acwire_op_name(call.op)[0] != '\0');
    } else {
        CHECK(err.msg[0] != '\0');
        CHECK(call.in == NULL);
    }
    lv_acwire_call_free(&call);
    free(buf);
    return 0;
}
