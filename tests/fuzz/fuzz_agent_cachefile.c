/* fuzz_agent_cachefile.c - libFuzzer target: lever-agent's cache file decoder on
 * arbitrary bytes, raw and re-framed with a valid checksum (so the JSON body
 * checks are reached, not only the checksum). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cachefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char KEY[LV_MASTER_KEY_LEN] = {7};

static void check(const char *p, size_t n)
{
    lva_snapshot s;
    char err[256];
    int rc = lva_cachefile_decode(p, n, KEY, &s, err, sizeof err);
    if (rc != 0) {
        if (rc != -1 || err[0] == '\0' || s.entries != NULL || s.prefixes != NULL)
            __builtin_trap();
        return;
    }
    for (size_t i = 0; i < s.nentries; i++)
        if (s.entries[i].json == NULL || s.entries[i].key == NULL || s.entries[i].name == NULL ||
            strlen(s.entries[i].json) != s.entries[i].json_len)
            __builtin_trap();
    /* what decodes re-encodes and decodes to the same */
    lv_buf b = LV_BUF_INIT;
    if (lva_cachefile_encode(&s, KEY, &b, err, sizeof err) == 0) {
        lva_snapshot t;
        if (lva_cachefile_decode(b.data, b.len, KEY, &t, err, sizeof err) != 0 || t.nentries != s.nentries ||
            t.nprefixes != s.nprefixes)
            __builtin_trap();
        lva_snapshot_free(&t);
    }
    lv_buf_free(&b);
    lva_snapshot_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check((const char *)data, size);
    char hex[65];
    lv_sha256_hex(data, size, hex);
    lv_buf b = LV_BUF_INIT;
    if (lv_buf_printf(&b, "lever-agent-cache 1\nsha256 %s\n", hex) == LV_OK &&
        lv_buf_append(&b, data, size) == LV_OK)
        check(b.data, b.len);
    lv_buf_free(&b);
    return 0;
}
