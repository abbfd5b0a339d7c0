/* fuzz_client_rollout.c - libFuzzer target: the rollout headers of a
 * GetConfiguration answer (client/rollout.c, used by liblever and
 * lever-agent) on arbitrary header blocks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/rollout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lvc_raw r;
    memset(&r, 0, sizeof r);
    if (lv_buf_append(&r.headers, data, size) != LV_OK)
        return 0;
    lvc_rollout ro;
    char err[256];
    int rc = lvc_rollout_from_raw(&r, &ro, err, sizeof err);
    if (rc == -1) {
        /* refused: an explanation, and nothing half-filled */
        if (err[0] == '\0' || ro.active)
            __builtin_trap();
    } else if (rc != 0) {
        __builtin_trap();
    } else if (ro.active) {
        /* accepted: a share strictly inside [0, 100), printable fields */
        if (!(ro.percent >= 0 && ro.percent < 100) || ro.seed[0] == '\0' || ro.to[0] == '\0' ||
            strlen(ro.seed) > LVC_ROLLOUT_SEED_MAX || strlen(ro.from) > LVC_ROLLOUT_VERSION_MAX)
            __builtin_trap();
        for (const char *p = ro.seed; *p; p++)
            if ((unsigned char)*p < 0x20)
                __builtin_trap();
        /* the side is a function of its inputs */
        if (lvc_rollout_is_to(&ro, "entity-1") != lvc_rollout_is_to(&ro, "entity-1"))
            __builtin_trap();
    }
    lvc_raw_clear(&r);
    return 0;
}
