/* fuzz_http.c - the request framing parser (src/http/parse.c). The head
 * parser must stay inside its buffer, hand out only well-formed fields,
 * and not call a head complete before all of it has arrived; the chunked
 * decoder must decode the same bytes the same way whether they arrive at
 * once or one at a time. The input's first byte picks the parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_http: %s fails at line %d\n", #c, __LINE__);     \
            abort();                                                               \
        }                                                                          \
    } while (0)

enum { MAX_HEAD = 2048, MAX_FIELDS = 16 };

static int inside(const char *p, const char *buf, size_t n)
{
    return p >= buf && p < buf + n;
}

static void head(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    lv_http_header f[MAX_FIELDS];
    lv_http_head h;
    memcpy(buf, data, size);
    long r = lv_http_parse_head(buf, size, MAX_HEAD, f, MAX_FIELDS, &h);
    CHECK(r <= (long)size);
    if (r == 0)
        CHECK(memcmp(buf, data, size) == 0);
    if (r > 0) {
        CHECK(inside(h.method, buf, (size_t)r) && inside(h.target, buf, (size_t)r));
        CHECK(h.method[0] != '\0' && h.target[0] != '\0');
        CHECK(h.minor == 0 || h.minor == 1);
        CHECK(!(h.chunked && h.content_length));
        CHECK(h.nheaders <= MAX_FIELDS);
        for (size_t i = 0; i < h.nheaders; i++) {
            CHECK(inside(f[i].name, buf, (size_t)r) && inside(f[i].value, buf, (size_t)r + 1));
            CHECK(f[i].name[0] != '\0' && strpbrk(f[i].name, ": \t\r\n") == NULL);
            CHECK(strpbrk(f[i].value, "\r\n") == NULL);
        }
        /* No shorter prefix is a complete head, or a wrong one: each is
         * "not yet", and is left unwritten to be read again. */
        for (size_t k = 0; k < (size_t)r; k++) {
            memcpy(buf, data, size);
            CHECK(lv_http_parse_head(buf, k, MAX_HEAD, f, MAX_FIELDS, &h) == 0);
            CHECK(memcmp(buf, data, size) == 0);
        }
    }
    free(buf);
}

static void chunked(const uint8_t *data, size_t size)
{
    lv_http_chunked a = {0}, b = {0};
    lv_buf oa = LV_BUF_INIT, ob = LV_BUF_INIT;
    oa.max = ob.max = 512;
    size_t ua = lv_http_chunked_feed(&a, (const char *)data, size, &oa);
    size_t ub = 0;
    while (ub < size && !b.done && !b.error)
        ub += lv_http_chunked_feed(&b, (const char *)data + ub, 1, &ob);
    CHECK(ua == ub && a.done == b.done && a.error == b.error && a.too_big == b.too_big);
    CHECK(oa.len == ob.len && (oa.len == 0 || memcmp(oa.data, ob.data, oa.len) == 0));
    CHECK(oa.len <= 512);
    lv_buf_free(&oa);
    lv_buf_free(&ob);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        chunked(data + 1, size - 1);
    else
        head(data + 1, size - 1);
    return 0;
}
