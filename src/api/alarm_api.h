/* alarm_api.h - the alarm operations (X-Amz-Target: Lever.PutAlarm,
 * Lever.SetAlarmState, Lever.DescribeAlarms, Lever.DeleteAlarm) over the
 * alarm registry; wire shapes in docs/rollouts.md. */
#ifndef LV_API_ALARM_API_H
#define LV_API_ALARM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarm/alarms.h"
#include "core/buf.h"
#include "core/err.h"

/* Whether op is one of the alarm operations. */
bool lv_alarm_api_op_known(const char *op);

/* Runs Lever.<op>; on LV_OK out holds the JSON answer. */
lv_err lv_alarm_api_dispatch(lv_alarms *a, const char *op, const char *body, size_t len, int64_t now_ms,
                             lv_buf *out, lv_error *err);

#endif
