/* fuzz_changerec.c - a commit's change record (core/changerec.c) as a
 * follower reads it from a shared store another node wrote: decoding
 * untrusted bytes never crashes, every decoded entry is within bounds,
 * and whatever decodes encodes back to exactly the input. The slot key of
 * a revision taken from the same bytes stays inside the ring. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/changerec.h"

#define CHECK(c)                                                                      \
    do {                                                                              \
        if (!(c)) {                                                                   \
            fprintf(stderr, "fuzz_changerec: check failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t rev = 0;
    for (size_t i = 0; i < size && i < 8; i++)
        rev = rev << 8 | data[i];
    unsigned char key[3];
    lv_changerec_key(rev, key);
    CHECK(key[0] == 'C' && ((unsigned)key[1] << 8 | key[2]) == rev % LV_CHANGEREC_SLOTS);

    lv_changerec r;
    lv_error err;
    lv_error_clear(&err);
    if (lv_changerec_decode(data, size, &r, &err) != LV_OK) {
        CHECK(r.c == NULL && r.n == 0 && err.msg[0] != '\0');
        return 0;
    }
    CHECK(r.n <= LV_CHANGEREC_MAX);
    size_t total = 2;
    for (size_t i = 0; i < r.n; i++) {
        CHECK(r.c[i].kind <= LV_CHANGE_AC_STOPPED);
        CHECK(r.c[i].revision == 0);
        CHECK(r.c[i].key[r.c[i].key_len] == '\0');
        total += 1 + 4 + 8 + 4 + r.c[i].key_len;
    }
    CHECK(total == size);
    lv_buf b = LV_BUF_INIT;
    CHECK(lv_changerec_encode(r.c, r.n, &b) == LV_OK);
    CHECK(b.len == size && memcmp(b.data, data, size) == 0);
    lv_buf_free(&b);
    lv_changerec_free(&r);
    return 0;
}
