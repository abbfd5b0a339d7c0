/* fuzz_agent_accache.c - libFuzzer target: the AppConfig disk copy's decoder
 * on arbitrary bytes, raw and re-framed with a valid checksum (so the JSON
 * and sealing checks are reached, not only the checksum). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/accache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char KEY[LV_MASTER_KEY_LEN] = {7};

static void check(const char *p, size_t n)
{
    lvac_snapshot s;
    char err[256];
    int rc = lvac_cache_decode(p, n, KEY, &s, err, sizeof err);
    if (rc != 0) {
        if (rc != -1 || err[0] == '\0' || s.entries != NULL || s.n != 0)
            __builtin_trap();
        return;
    }
    for (size_t i = 0; i < s.n; i++)
        if (s.entries[i].data == NULL || s.entries[i].app == NULL || s.entries[i].app[0] == '\0' ||
            s.entries[i].entity == NULL ||
            (s.entries[i].rolling && (s.entries[i].seed == NULL || s.entries[i].from_version == NULL ||
                                      !(s.entries[i].percent >= 0 && s.entries[i].percent < 100) ||
                                      (s.entries[i].from_version[0] != '\0') != (s.entries[i].from_data != NULL))))
            __builtin_trap();
    /* what decodes re-encodes and decodes to the same */
    lv_buf b = LV_BUF_INIT;
    if (lvac_cache_encode(&s, KEY, &b, err, sizeof err) == 0) {
        lvac_snapshot t;
        if (lvac_cache_decode(b.data, b.len, KEY, &t, err, sizeof err) != 0 || t.n != s.n ||
            t.revision != s.revision)
            __builtin_trap();
        for (size_t i = 0; i < t.n; i++)
            if (t.entries[i].len != s.entries[i].len ||
                memcmp(t.entries[i].data, s.entries[i].data, s.entries[i].len) != 0 ||
                t.entries[i].rolling != s.entries[i].rolling ||
                (t.entries[i].from_data == NULL) != (s.entries[i].from_data == NULL) ||
                (t.entries[i].from_data && (t.entries[i].from_len != s.entries[i].from_len ||
                                            memcmp(t.entries[i].from_data, s.entries[i].from_data,
                                                   s.entries[i].from_len) != 0)))
                __builtin_trap();
        lvac_snapshot_free(&t);
    }
    lv_buf_free(&b);
    lvac_snapshot_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check((const char *)data, size);
    char hex[65];
    lv_sha256_hex(data, size, hex);
    lv_buf b = LV_BUF_INIT;
    if (lv_buf_printf(&b, "lever-agent-appconfig 1\nsha256 %s\n", hex) == LV_OK &&
        lv_buf_append(&b, data, size) == LV_OK)
        check(b.data, b.len);
    lv_buf_free(&b);
    return 0;
}
