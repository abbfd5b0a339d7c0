/* fuzz_sigv4.c - arbitrary bytes through SigV4 parsing, verification and signing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/sigv4.h"

/* 2015-08-30T12:36:00Z, the AWS suite's clock, so seeds taken from the
 * suite reach the signature comparison instead of stopping at the skew. */
#define FUZZ_NOW ((time_t)1440938160)

static lv_err fuzz_secret(void *ctx, const char *akid, char *secret,
                          size_t cap)
{
    (void)ctx;
    static const char s[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    if (strcmp(akid, "AKIDEXAMPLE") != 0 || cap < sizeof s)
        return LV_E_UNRECOGNIZED_CLIENT;
    memcpy(secret, s, sizeof s);
    return LV_OK;
}

/* Cuts the next '\n'-terminated field off the input; NUL-terminated copy
 * so the request's C-string fields (path, query) are well formed. */
static char *field(const uint8_t **p, const uint8_t *end, size_t *len)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *e = nl ? nl : end;
    size_t n = (size_t)(e - *p);
    char *s = malloc(n + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, *p, n);
    s[n] = '\0';
    *len = n;
    *p = nl ? nl + 1 : end;
    return s;
}

/* Input: Authorization value, X-Amz-Date value, path, query, an extra
 * signed header's value, one per line; the rest is the body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    size_t alen = 0, dlen = 0, plen = 0, qlen = 0, xlen = 0;
    char *auth = field(&p, end, &alen);
    char *date = field(&p, end, &dlen);
    char *path = field(&p, end, &plen);
    char *query = field(&p, end, &qlen);
    char *extra = field(&p, end, &xlen);
    if (!auth || !date || !path || !query || !extra)
        goto out;

    lv_sigv4_auth a;
    lv_error err;
    /* The length, not the NUL, bounds the value: parse the raw bytes. */
    lv_sigv4_parse_authorization((const char *)data, alen, &a, &err);

    lv_sigv4_header h[5] = {
        {"Host", 4, "example.amazonaws.com", 21},
        {"X-Amz-Date", 10, date, dlen},
        {"My-Header1", 10, extra, xlen},
        {"Authorization", 13, auth, alen},
        {"X-Amz-Content-Sha256", 20, extra, xlen},
    };
    /* The last header only when the extra line looks like a hash, so most
     * inputs keep the body-hash path. */
    size_t nh = (xlen == 64 || (xlen == 16 && extra[0] == 'U')) ? 5 : 4;
    lv_sigv4_request req = {"GET", path, query, h, nh, p,
                            (size_t)(end - p)};
    lv_sigv4_cache cache;
    memset(&cache, 0, sizeof cache);
    lv_sigv4_verify(&req, "service", FUZZ_NOW, fuzz_secret, NULL, &cache, &a,
                    &err);
    /* Again through the (now filled) cache, and as a presigned request. */
    lv_sigv4_verify(&req, "service", FUZZ_NOW, fuzz_secret, NULL, &cache, &a,
                    &err);
    req.nheaders = 3;
    lv_sigv4_verify(&req, "service", FUZZ_NOW, fuzz_secret, NULL, NULL, &a,
                    &err);

    lv_buf out = LV_BUF_INIT;
    lv_sigv4_canonical_request(&req, "host;my-header1;x-amz-date",
                               "UNSIGNED-PAYLOAD", size & 1, &out);
    lv_buf_reset(&out);
    /* The extra line doubles as a caller-chosen signed header list. */
    lv_sigv4_sign(&req, "AKIDEXAMPLE", "secret", "us-east-1", "service", date,
                  extra, &out, &err);
    lv_buf_free(&out);
out:
    free(auth);
    free(date);
    free(path);
    free(query);
    free(extra);
    return 0;
}
