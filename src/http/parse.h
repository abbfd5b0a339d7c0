/* parse.h - HTTP/1.x request framing, parsed in place: the request line
 * and header fields of a buffer, and the chunked transfer coding. Pure
 * functions over bytes (no sockets, no allocation but the chunked body's
 * lv_buf), so they can be fuzzed alone (tests/fuzz/fuzz_http.c). */
#ifndef LV_HTTP_PARSE_H
#define LV_HTTP_PARSE_H

#include <stddef.h>

#include "core/buf.h"
#include "http/http.h"

/* What a request's head says about its framing. The strings point into
 * the buffer given to lv_http_parse_head, which NUL-terminates them in
 * place. */
typedef struct lv_http_head {
    char *method;
    char *target;            /* raw request target, undecoded */
    int minor;               /* HTTP/1.<minor>: 0 or 1 */
    size_t nheaders;
    size_t content_length;   /* 0 when absent */
    int chunked;             /* Transfer-Encoding: chunked */
    int expect_continue;     /* Expect: 100-continue */
    int keep_alive;          /* after this request, per version and Connection */
} lv_http_head;

/* Parses the head at the start of buf[0, len): request line and header
 * fields up to the empty line, each line ending in CRLF. Returns the
 * head's length (the body starts there) when it is complete and valid;
 * 0 when more bytes are needed (and none of what is there is wrong yet);
 * or minus the status to refuse it with: 400 (malformed), 414 (request
 * line longer than max_head), 431 (head longer than max_head, or more
 * than maxh fields), 501 (a transfer coding other than chunked), 505
 * (not HTTP/1.x), 417 (an Expect other than 100-continue). On success
 * headers[0, h->nheaders) name every field, with values trimmed. buf is
 * written (NULs after the method, target, names and values) only once the
 * head is complete; a head that is not yet is left as it was. */
long lv_http_parse_head(char *buf, size_t len, size_t max_head,
                        lv_http_header *headers, size_t maxh, lv_http_head *h);

/* The chunked transfer coding, decoded as bytes arrive. */
typedef struct lv_http_chunked {
    int state;               /* private */
    unsigned long long left; /* bytes of the current chunk still to come */
    size_t line;             /* bytes in the current size or trailer line */
    int digits;              /* hex digits of the current size */
    int done;                /* the last chunk and trailer are in */
    int error;               /* malformed: answer 400 */
    int too_big;             /* the body passed out->max: the rest is discarded */
} lv_http_chunked;

/* Feeds in[0, n) to the decoder; decoded data is appended to out until it
 * would pass out's cap (then too_big is set, out is freed and the rest is
 * discarded). Returns how many bytes were consumed: fewer than n only when
 * the body ended (done) or was malformed (error); what is left belongs to
 * the next request. */
size_t lv_http_chunked_feed(lv_http_chunked *c, const char *in, size_t n, lv_buf *out);

#endif
