/* acserved.c - liblever's served-share reports (acserved.h). */
#include "client/acserved.h"

#include <string.h>
#include <time.h>

enum { REPORTS_AFTER_END = 3 };

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lvc_served_mark_report(lvc_served_mark *m, const lvc_rollout *ro, const char *version, json_t *arr)
{
    int64_t now = mono_ms();
    bool rolling = ro->active && ro->from[0];
    if (rolling && strcmp(m->seed, ro->seed) != 0) {
        memcpy(m->seed, ro->seed, sizeof m->seed);
        memcpy(m->to, ro->to, sizeof m->to);
        m->since_ms = now;
        m->after_end = 0;
    }
    if (m->seed[0] == '\0' || arr == NULL)
        return;
    bool is_new = version != NULL && strcmp(version, m->to) == 0;
    int64_t ms = now - m->since_ms;
    json_array_append_new(arr, json_pack("{s:s, s:I, s:i, s:i}", "Seed", m->seed, "IntervalMs",
                                         (json_int_t)(ms > 0 ? ms : 1), "New", is_new ? 1 : 0, "Old",
                                         is_new ? 0 : 1));
    m->since_ms = now;
    if (!rolling && ++m->after_end > REPORTS_AFTER_END)
        memset(m, 0, sizeof *m);
}

void lvc_served_attach(json_t *body, json_t *arr)
{
    if (arr != NULL && json_array_size(arr) > 0)
        json_object_set_new(body, "Served", arr);
    else
        json_decref(arr);
}
