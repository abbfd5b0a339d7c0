/* fuzz_actoken.c - AppConfig Data configuration tokens and NextToken-style
 * record keys from untrusted bytes: parsing never crashes, and whatever
 * parses formats back to exactly the input, and so does a session's
 * plaintext. The same bytes are also fed to the AppConfig record decoder
 * (store format), which must reject or round-trip them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/acrec.h"
#include "core/actoken.h"

#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_actoken: check failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                               \
        }                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char id[LV_ACTOKEN_MAX_BYTES];
    size_t n;
    if (lv_actoken_parse((const char *)data, size, id, &n)) {
        char back[LV_ACTOKEN_MAX_LEN + 1];
        size_t bl = lv_actoken_format(id, n, back);
        CHECK(bl == size && memcmp(back, data, size) == 0);
    }
    /* The same bytes as a session's plaintext: decode, encode, compare. */
    lv_acsession s;
    if (lv_acsession_decode(data, size, &s)) {
        lv_buf b = LV_BUF_INIT;
        CHECK(lv_acsession_encode(&s, &b) == LV_OK);
        CHECK(b.len == size && memcmp(b.data, data, size) == 0);
        lv_buf_free(&b);
    }
    /* Byte 0: key length; then the key, then a record value. */
    if (size < 1 || (size_t)data[0] + 1 > size)
        return 0;
    size_t kl = data[0];
    lv_acrec *r = NULL;
    if (lv_acrec_decode((const char *)data + 1, kl, data + 1 + kl, size - 1 - kl, &r, NULL) == LV_OK) {
        lv_buf enc = LV_BUF_INIT;
        CHECK(lv_acrec_encode(r, &enc) == LV_OK);
        CHECK(enc.len == size - 1 - kl && memcmp(enc.data, data + 1 + kl, enc.len) == 0);
        lv_acrec *r2 = NULL;
        CHECK(lv_acrec_decode(r->key, r->klen, enc.data, enc.len, &r2, NULL) == LV_OK);
        CHECK(r2->nf == r->nf && r2->kind == r->kind);
        lv_acrec_unref(r2);
        lv_buf_free(&enc);
        lv_acrec_unref(r);
    }
    return 0;
}
