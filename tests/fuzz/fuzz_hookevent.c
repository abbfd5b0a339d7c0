/* fuzz_hookevent.c - what lever reads from an extension webhook's answer
 * (json/hookevent.c's reason: a JSON body or its first line), the
 * signature header check (crypto/hooksig.c), and the event builder fed the
 * same bytes as record strings: never a crash, the reason is printable
 * ASCII within its bound, and every event is JSON that parses back with
 * the strings it was given. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/appconfig.h"
#include "crypto/hooksig.h"
#include "json/hookevent.h"

#define CHECK(c)                                                                         \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            fprintf(stderr, "fuzz_hookevent: check failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char reason[64];
    lv_hookevent_reason(s, size, reason, sizeof reason);
    size_t rl = strlen(reason);
    CHECK(rl < sizeof reason);
    for (size_t i = 0; i < rl; i++)
        CHECK(reason[i] >= 0x20 && reason[i] < 0x7f);
    char tiny[1] = {'x'};
    lv_hookevent_reason(s, size, tiny, 1);
    CHECK(tiny[0] == '\0');

    /* The bytes as a signature header (NUL-terminated copy), then signed. */
    char *hdr = malloc(size + 1);
    if (hdr == NULL)
        return 0;
    memcpy(hdr, data, size);
    hdr[size] = '\0';
    static const char key[] = "fuzz-key-0123456789";
    (void)lv_hooksig_verify(key, sizeof key - 1, hdr, data, size, 1700000000, 300);
    char sig[LV_HOOKSIG_MAX];
    lv_hooksig_sign(key, sizeof key - 1, 1700000000, data, size, sig);
    CHECK(lv_hooksig_verify(key, sizeof key - 1, sig, data, size, 1700000000, 300));
    CHECK(!lv_hooksig_verify(key, sizeof key - 1, sig, data, size, 1700000000 + 301, 300));

    /* Strings from JSON are valid UTF-8: keep the part that is, as the
     * records would. Content goes out as base64 whatever it holds. */
    size_t ok = 0;
    json_t *as = json_stringn(hdr, size);
    if (as != NULL)
        ok = size;
    json_decref(as);
    lv_acrec *x = lv_acrec_new(LV_AC_EXT, XF__N), *y = lv_acrec_new(LV_AC_ASSOC, YF__N);
    lv_acrec *d = lv_acrec_new(LV_AC_DEPLOY, DF__N);
    if (x && y && d && lv_acrec_set_str(x, XF_ID, "abcdefg") == LV_OK &&
        lv_acrec_set(x, XF_NAME, hdr, ok) == LV_OK && lv_acrec_push(x, XF_ACTIONS, "P", 1) == LV_OK &&
        lv_acrec_push(x, XF_ACTIONS, hdr, ok) == LV_OK && lv_acrec_push(x, XF_ACTIONS, "", 0) == LV_OK &&
        lv_acrec_push(x, XF_ACTIONS, "http://h/", 9) == LV_OK && lv_acrec_push(x, XF_ACTIONS, "", 0) == LV_OK &&
        lv_acrec_push(y, YF_PARAMS, "k", 1) == LV_OK && lv_acrec_push(y, YF_PARAMS, hdr, ok) == LV_OK &&
        lv_acrec_set(d, DF_PERCENT, hdr, size) == LV_OK && lv_acrec_set(d, DF_STATE, hdr, ok) == LV_OK &&
        lv_acrec_set(d, DF_STARTED, hdr, size) == LV_OK) {
        lv_hookevent ev;
        memset(&ev, 0, sizeof ev);
        ev.invocation_id = "00000000-0000-4000-8000-000000000000";
        ev.point = "ON_DEPLOYMENT_STEP";
        ev.ext = x;
        ev.assoc = y;
        ev.app = "app";
        ev.env = "env";
        ev.profile = "prof";
        ev.deployment = d;
        ev.content = s;
        ev.content_len = size;
        ev.now_ms = 1700000000123;
        lv_buf out = LV_BUF_INIT;
        if (lv_hookevent_build(&ev, &out) == LV_OK) {
            json_error_t je;
            json_t *doc = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &je);
            CHECK(doc != NULL);
            CHECK(strcmp(json_string_value(json_object_get(doc, "Type")), "ON_DEPLOYMENT_STEP") == 0);
            json_t *st = json_object_get(doc, "DeploymentState");
            CHECK(json_string_length(st) == ok && memcmp(json_string_value(st), hdr, ok) == 0);
            double pc = json_number_value(json_object_get(doc, "PercentageComplete"));
            CHECK(pc >= 0 && pc <= 100);
            CHECK(json_string_length(json_object_get(doc, "Content")) == (size + 2) / 3 * 4);
            json_decref(doc);
        }
        lv_buf_free(&out);
    }
    lv_acrec_unref(x);
    lv_acrec_unref(y);
    lv_acrec_unref(d);
    free(hdr);
    return 0;
}
