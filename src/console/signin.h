/* signin.h - the console's sign-in request body, a JSON object
 * {"AccessKeyId": "...", "SecretAccessKey": "...", "Region": "..."}
 * (Region optional), checked field by field before any key lookup. */
#ifndef LV_CONSOLE_SIGNIN_H
#define LV_CONSOLE_SIGNIN_H

#include <stddef.h>

#include "auth/keys.h"
#include "core/err.h"

typedef struct lv_signin {
    char akid[LV_ACCESS_KEY_MAX + 1];
    char secret[LV_SECRET_KEY_MAX + 1];
    char region[64];  /* "" when not sent */
} lv_signin;

/* Parses body (len bytes, need not be NUL-terminated). LV_E_VALIDATION
 * with a message naming the field for anything but an object holding
 * exactly those string members within their limits: AccessKeyId 16-128
 * letters and digits, SecretAccessKey 1-128 printable ASCII characters,
 * Region 1-63 lowercase letters, digits and '-'. *out is always fully
 * initialised; callers wipe it after use (it holds a secret). */
lv_err lv_signin_parse(const char *body, size_t len, lv_signin *out, lv_error *err);

#endif
