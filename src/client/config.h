/* config.h - how liblever finds its server, region and credentials (the
 * order AWS tools use, plus lever's ./lever-data/credentials fallback). */
#ifndef LV_CLIENT_CONFIG_H
#define LV_CLIENT_CONFIG_H

#include <stddef.h>

#include "auth/keys.h"

/* Endpoint: explicit, else LEVER_ENDPOINT, else http://127.0.0.1:7447.
 * Returns a newly allocated string without trailing '/', or NULL when out
 * of memory. */
char *lvc_resolve_endpoint(const char *explicit_url);

/* Region: explicit, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
 * Newly allocated or NULL (no memory). */
char *lvc_resolve_region(const char *explicit_region);

/* Credentials, first found wins:
 *   1. explicit akid/secret (token may be NULL);
 *   2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
 *      unless a profile was chosen explicitly;
 *   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *      $HOME/.aws/credentials), profile explicit_profile, else AWS_PROFILE,
 *      else "default";
 *   4. ./lever-data/credentials, profile "default".
 * A profile chosen explicitly or by AWS_PROFILE that is missing from an
 * existing shared file is an error (AWS tools refuse it too) rather than a
 * silent fall-through to another identity.
 * Returns 0 and fills *out and source (a description like
 * "environment" or the file path, at most srclen bytes), or -1 with a
 * message in errbuf. */
int lvc_resolve_credentials(const char *akid, const char *secret, const char *token,
                            const char *explicit_profile, lv_credentials *out,
                            char *source, size_t srclen, char *errbuf, size_t errlen);

#endif
