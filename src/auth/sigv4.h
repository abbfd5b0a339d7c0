/* sigv4.h - AWS Signature Version 4: signing (clients) and verification
 * (leverd). Shared by leverd, liblever and lever-agent. */
#ifndef LV_AUTH_SIGV4_H
#define LV_AUTH_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct lv_sigv4_header {
    const char *name;   /* as received; compared case-insensitively */
    size_t name_len;
    const char *value;  /* raw value; trimmed/space-folded when canonicalised */
    size_t value_len;
} lv_sigv4_header;

/* A request as it arrived (verification) or as it will be sent (signing). */
typedef struct lv_sigv4_request {
    const char *method;       /* "POST" */
    const char *path;         /* raw path as on the wire, e.g. "/" */
    const char *query;        /* raw query without '?', or NULL */
    const lv_sigv4_header *headers;
    size_t nheaders;
    const void *body;
    size_t body_len;
} lv_sigv4_request;

/* The parsed Authorization header / credential scope. */
typedef struct lv_sigv4_auth {
    char access_key[129];
    char date[9];        /* YYYYMMDD from the credential scope */
    char region[64];
    char service[64];
    char signed_headers[1024]; /* "content-type;host;x-amz-date" */
    char signature[65];
    char amz_date[17];   /* X-Amz-Date value, YYYYMMDDTHHMMSSZ */
} lv_sigv4_auth;

/* Secret lookup for verification: copy the secret of access_key into
 * secret (NUL-terminated, at most cap bytes) and return LV_OK, or return
 * LV_E_UNRECOGNIZED_CLIENT when the key is unknown or disabled. */
typedef lv_err (*lv_sigv4_secret_fn)(void *ctx, const char *access_key,
                                     char *secret, size_t cap);

/* Room for an HMAC-SHA256 key made ready (two SHA-256 states). */
#define LV_SIGV4_MAC_STATE 224

/* Per-thread cache of derived signing keys (key/date/region/service).
 * Not thread-safe: give each thread its own. Zero-initialise to use. */
typedef struct lv_sigv4_cache {
    struct {
        char id[129 + 9 + 64 + 64 + 4];
        /* the secret the key was derived from, to notice a changed one
         * (compared in constant time; hashing it per request cost more
         * than the rest of the lookup) */
        char secret[256];
        size_t secret_len;
        /* the derived key made ready for HMAC (hash states after its two pads),
         * so a signature check hashes only the string to sign */
        _Alignas(8) unsigned char mac[LV_SIGV4_MAC_STATE];
        bool used;
    } slot[8];
    unsigned next;
} lv_sigv4_cache;

/* Verifies a header-signed request (Authorization: AWS4-HMAC-SHA256 ...)
 * or, when there is no Authorization header, a presigned one (X-Amz-
 * Algorithm, -Credential, -Date, -Expires, -SignedHeaders, -Signature in
 * the query; payload hash of the body, or UNSIGNED-PAYLOAD when the body
 * is empty). now is the server's clock; requests whose X-Amz-Date is more
 * than 15 minutes away (presigned: outside [date - 15 min, date +
 * expires]) fail. The path is canonicalised normalised (as SDKs do for
 * all services but S3) and, failing that, as sent, so signers that do not
 * normalise are accepted too. An X-Amz-Content-Sha256 header must equal
 * the body's hash (UNSIGNED-PAYLOAD only for an empty body).
 * expected_service is "ssm" or "appconfig" etc.; a credential scope naming
 * another service fails. The region is not checked here: compare
 * out->region if it matters. cache may be NULL.
 * On success fills *out (who signed, for which region); on failure *out
 * may hold part of the Authorization header and means nothing. Errors, as AWS
 * answers them:
 *   LV_E_MISSING_AUTH           no Authorization header (and no presigned query)
 *   LV_E_INCOMPLETE_SIGNATURE   malformed Authorization / missing X-Amz-Date
 *                               / malformed credential scope / host unsigned
 *   LV_E_UNRECOGNIZED_CLIENT    unknown access key
 *   LV_E_INVALID_SIGNATURE      signature mismatch, tampered body, date skew,
 *                               well-formed scope naming another service or
 *                               a date other than X-Amz-Date's (as AWS)
 * Other codes (NOMEM...) pass through from allocation or secret_fn.
 */
lv_err lv_sigv4_verify(const lv_sigv4_request *req,
                       const char *expected_service, time_t now,
                       lv_sigv4_secret_fn secret_fn, void *secret_ctx,
                       lv_sigv4_cache *cache, lv_sigv4_auth *out,
                       lv_error *err);

/* Parses an Authorization header value (fills all but amz_date).
 * Errors: LV_E_INCOMPLETE_SIGNATURE. */
lv_err lv_sigv4_parse_authorization(const char *value, size_t len,
                                    lv_sigv4_auth *out, lv_error *err);

/* Builds the canonical request (appended to out), as in the AWS test
 * suite's header-canonical-request.txt. signed_headers is the
 * ';'-separated lowercase list to include. normalize_path applies RFC 3986
 * dot-segment removal (all services but S3). Errors: LV_E_VALIDATION (a
 * listed header is absent or the list is malformed), LV_E_NOMEM,
 * LV_E_TOO_BIG. */
lv_err lv_sigv4_canonical_request(const lv_sigv4_request *req,
                                  const char *signed_headers,
                                  const char *payload_hash,
                                  bool normalize_path, lv_buf *out);

/* Signs req: computes the signature for the given credentials, region,
 * service and time (amz_date "YYYYMMDDTHHMMSSZ") over the headers named in
 * signed_headers (which must include host and x-amz-date, and the request
 * must carry them), and appends the full Authorization header value to
 * authorization. signed_headers is sorted and lowercased first, as SDKs
 * send it. A session token is an X-Amz-Security-Token header the caller
 * adds to req and names in signed_headers. The payload hash is the
 * request's X-Amz-Content-Sha256 header if any, else SHA-256 of the body.
 * The path is normalised unless service is "s3". Errors: LV_E_VALIDATION
 * (bad arguments), LV_E_NOMEM, LV_E_TOO_BIG. */
lv_err lv_sigv4_sign(const lv_sigv4_request *req, const char *access_key,
                     const char *secret_key, const char *region,
                     const char *service, const char *amz_date,
                     const char *signed_headers, lv_buf *authorization,
                     lv_error *err);

/* lv_sigv4_sign with the path normalisation chosen by the caller (the AWS
 * test suite signs some non-S3 requests unnormalised). */
lv_err lv_sigv4_sign_ex(const lv_sigv4_request *req, const char *access_key,
                        const char *secret_key, const char *region,
                        const char *service, const char *amz_date,
                        const char *signed_headers, bool normalize_path,
                        lv_buf *authorization, lv_error *err);

/* Appends the string to sign ("AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n
 * <hex sha256 of canonical>") for scope date/region/service. */
lv_err lv_sigv4_string_to_sign(const char *amz_date, const char *region,
                               const char *service, const char *canonical,
                               size_t canonical_len, lv_buf *out);

#endif
