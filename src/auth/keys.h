/* keys.h - access keys: the root key's provisioning and the AWS
 * shared-credentials INI format (written by leverd, read by every client). */
#ifndef LV_AUTH_KEYS_H
#define LV_AUTH_KEYS_H

#include <stddef.h>

#include "core/err.h"

enum { LV_ACCESS_KEY_MAX = 128, LV_SECRET_KEY_MAX = 128 };

typedef struct lv_credentials {
    char access_key_id[LV_ACCESS_KEY_MAX + 1];
    char secret_access_key[LV_SECRET_KEY_MAX + 1];
    char session_token[2048]; /* empty when none */
} lv_credentials;

/* leverd's root key: from LEVER_ROOT_ACCESS_KEY_ID and
 * LEVER_ROOT_SECRET_ACCESS_KEY when both are set (and then also written to
 * creds_path so clients find it), else read from creds_path ([default]
 * profile), else generated (AKID "LV" + 18 uppercase base32 characters
 * from a CSPRNG, 40-character secret) and written to creds_path with mode
 * 0600, atomically (temp file, fsync, rename). */
lv_err lv_keys_root_load_or_create(const char *creds_path, lv_credentials *out,
                                   lv_error *err);

/* Parses AWS shared-credentials INI text and fills *out from [profile]
 * (aws_access_key_id, aws_secret_access_key, aws_session_token). Comments
 * (# ;), blank lines, spaces around '=' and CRLF are accepted.
 * LV_E_NOT... : a missing profile or key gives LV_E_VALIDATION with a
 * message naming what is missing. */
lv_err lv_keys_parse_ini(const char *text, size_t len, const char *profile,
                         lv_credentials *out, lv_error *err);

/* Reads the file and parses it as above. */
lv_err lv_keys_read_file(const char *path, const char *profile,
                         lv_credentials *out, lv_error *err);

/* Writes creds as the [default] profile, mode 0600, atomically. */
lv_err lv_keys_write_file(const char *path, const lv_credentials *creds,
                          lv_error *err);

#endif
