/* fuzz_served_report.c - libFuzzer target: the Served member of
 * Lever.WatchConfigurations (api/served_report.c) on arbitrary JSON, the
 * seed shapes (core/served.c) on arbitrary bytes, and a tally and series
 * fed from the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/served_report.h"
#include "core/served.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)lv_served_seed_ok((const char *)data, size);
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (v != NULL) {
        json_t *served = json_is_object(v) ? json_object_get(v, "Served") : v;
        static lv_served_entry out[LV_SERVED_REPORT_MAX];
        const char *scopes[][2] = {{"", ""}, {"app0001", ""}, {"app0001", "env0001"}};
        for (size_t s = 0; s < 3; s++) {
            size_t n = lv_served_report_decode(served, scopes[s][0], scopes[s][1], out, LV_SERVED_REPORT_MAX);
            if (n > LV_SERVED_REPORT_MAX)
                __builtin_trap();
            for (size_t i = 0; i < n; i++)
                if (!lv_served_seed_ok(out[i].seed, strlen(out[i].seed)) || out[i].interval_ms < 1 ||
                    out[i].interval_ms > LV_SERVED_INTERVAL_MAX_MS || out[i].new_n + out[i].old_n == 0)
                    __builtin_trap();
        }
        json_decref(v);
    }
    /* a tally and a series driven by the bytes: counts stay consistent */
    static lv_served_tally t;
    static lv_served_series sr;
    lv_served_tally_reset(&t);
    memset(&sr, 0, sizeof sr);
    for (size_t i = 0; i + 2 <= size; i += 2) {
        lv_served_tally_add(&t, (const char *)data + i, 1 + (data[i + 1] & 7) % (size - i), data[i] & 1);
        lv_served_series_add(&sr, 1000 + (int64_t)data[i] * 37, 1000 + (int64_t)data[i] * 37 + data[i + 1] * 900,
                             data[i] & 3, data[i + 1] & 3);
    }
    uint64_t nw, od;
    lv_served_tally_counts(&t, &nw, &od);
    if ((nw + od) >> t.level != t.n)
        __builtin_trap();
    static lv_served_point p[LV_SERVED_BINS];
    size_t n = lv_served_series_points(&sr, p, LV_SERVED_BINS);
    for (size_t i = 0; i < n; i++)
        if (!(p[i].percentage >= 0 && p[i].percentage <= 100) || !(p[i].entities > 0))
            __builtin_trap();
    return 0;
}
