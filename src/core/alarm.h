/* alarm.h - lever alarms, the pure part: states, the probe state machine
 * (ALARM after N failed probes in a row, OK after one success), name and
 * probe limits, and the bytes of an alarm record in the store. No I/O. */
#ifndef LV_CORE_ALARM_H
#define LV_CORE_ALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef enum lv_alarm_state {
    LV_ALARM_INSUFFICIENT_DATA = 0,
    LV_ALARM_OK = 1,
    LV_ALARM_ALARM = 2,
} lv_alarm_state;

enum {
    LV_ALARM_NAME_MAX = 255,
    LV_ALARM_REASON_MAX = 1023,
    LV_ALARM_URL_MAX = 2048,
    LV_ALARM_INTERVAL_MAX = 86400,
    LV_ALARM_THRESHOLD_MAX = 100,
    LV_ALARM_TIMEOUT_MAX = 60,
};

/* "OK", "ALARM", "INSUFFICIENT_DATA". */
const char *lv_alarm_state_name(lv_alarm_state s);
/* Parses a state name; false when it is none of the three. */
bool lv_alarm_state_parse(const char *s, lv_alarm_state *out);

/* Whether name is a valid alarm name: 1 to 255 characters, each a letter,
 * digit or one of "_.:/-" (a Prometheus alertname always is). */
bool lv_alarm_name_valid(const char *name, size_t len);

typedef struct lv_alarm_probe {
    char url[LV_ALARM_URL_MAX + 1];   /* "" = no probe */
    uint32_t interval_s, threshold, timeout_s;
} lv_alarm_probe;

/* Whether url is an absolute http:// or https:// URL with a host. */
bool lv_alarm_url_valid(const char *url, size_t len);

/* The probe state machine. failures counts failed probes in a row. */
typedef struct lv_alarm_track {
    lv_alarm_state state;
    uint32_t failures;
} lv_alarm_track;

/* Feeds one probe result; returns whether the state changed. */
bool lv_alarm_track_result(lv_alarm_track *t, bool success, uint32_t threshold);

/* An alarm as stored. Key: 'L' <name>. */
typedef struct lv_alarm_rec {
    char name[LV_ALARM_NAME_MAX + 1];
    lv_alarm_state state;
    char reason[LV_ALARM_REASON_MAX + 1];
    int64_t updated_ms;
    lv_alarm_probe probe;
} lv_alarm_rec;

lv_err lv_alarm_rec_key(const char *name, lv_buf *out);
lv_err lv_alarm_rec_encode(const lv_alarm_rec *a, lv_buf *out);
/* Decodes key ('L' included) and value; damaged input gives LV_E_CORRUPT. */
lv_err lv_alarm_rec_decode(const void *key, size_t klen, const void *val, size_t vlen, lv_alarm_rec *out,
                           lv_error *err);

#endif
