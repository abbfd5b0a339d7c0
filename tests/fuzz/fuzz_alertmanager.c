/* fuzz_alertmanager.c - the Alertmanager webhook parser (api/alertmanager.c)
 * on arbitrary bodies, and the alarm record decoder on the same bytes:
 * never a crash, and every accepted update names a valid alarm once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/alertmanager.h"
#include "core/alarm.h"

#define CHECK(c)                                                                           \
    do {                                                                                   \
        if (!(c)) {                                                                        \
            fprintf(stderr, "fuzz_alertmanager: check failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lv_error err;
    lv_error_clear(&err);
    lv_am_update *u = NULL;
    size_t n = 0;
    lv_err rc = lv_am_parse((const char *)data, size, &u, &n, &err);
    if (rc == LV_OK) {
        CHECK(n <= LV_AM_ALERTS_MAX);
        for (size_t i = 0; i < n; i++) {
            CHECK(lv_alarm_name_valid(u[i].name, strlen(u[i].name)));
            for (size_t j = 0; j < i; j++)
                CHECK(strcmp(u[i].name, u[j].name) != 0);
        }
        lv_am_free(u, n);
    } else {
        CHECK(u == NULL && n == 0);
        CHECK(rc == LV_E_SERIALIZATION || rc == LV_E_VALIDATION || rc == LV_E_NOMEM);
        CHECK(err.msg[0] != '\0');
    }
    /* The same bytes as a stored alarm record: key 'L' + first line, value the rest. */
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl != NULL) {
        size_t kl = (size_t)(nl - data);
        char *key = malloc(kl + 2);
        if (key != NULL) {
            key[0] = 'L';
            memcpy(key + 1, data, kl);
            lv_alarm_rec rec;
            if (lv_alarm_rec_decode(key, kl + 1, nl + 1, size - kl - 1, &rec, &err) == LV_OK) {
                CHECK(lv_alarm_name_valid(rec.name, strlen(rec.name)));
                lv_buf b = LV_BUF_INIT;
                CHECK(lv_alarm_rec_encode(&rec, &b) == LV_OK);
                CHECK(b.len == size - kl - 1 && memcmp(b.data, nl + 1, b.len) == 0);
                lv_buf_free(&b);
            }
            free(key);
        }
    }
    return 0;
}
