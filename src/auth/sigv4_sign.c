/* sigv4_sign.c - SigV4 signing for lever's clients (liblever, lever,
 * lever-agent). */
#include "auth/sigv4_int.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

static int name_cmp(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

/* Lowercased, sorted, duplicate-free: the list as every SDK writes it. */
static lv_err sort_signed_headers(const char *list, lv_buf *out)
{
    size_t n = strlen(list), count = 1;
    if (!lv_sv4_signed_headers_valid(list, n))
        return LV_E_VALIDATION;
    for (size_t i = 0; i < n; i++)
        count += list[i] == ';';
    char *copy = malloc(n + 1);
    char **names = calloc(count, sizeof *names);
    lv_err rc = LV_OK;
    if (copy == NULL || names == NULL) {
        rc = LV_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i <= n; i++)
        copy[i] = lower(list[i]);
    size_t k = 0;
    for (char *p = copy, *save = NULL, *tok; (tok = strtok_r(p, ";", &save));
         p = NULL)
        names[k++] = tok;
    qsort(names, k, sizeof *names, name_cmp);
    for (size_t i = 0; i < k && rc == LV_OK; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
            continue;
        if (out->len > 0)
            rc = lv_buf_putc(out, ';');
        if (rc == LV_OK)
            rc = lv_buf_puts(out, names[i]);
    }
done:
    free(copy);
    free(names);
    return rc;
}

static bool scope_part_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_scope_char(s[i]))
            return false;
    return true;
}

lv_err lv_sigv4_sign_ex(const lv_sigv4_request *req, const char *access_key,
                        const char *secret_key, const char *region,
                        const char *service, const char *amz_date,
                        const char *signed_headers, bool normalize,
                        lv_buf *authorization, lv_error *err)
{
    time_t t;
    if (req == NULL || req->method == NULL || access_key == NULL ||
        secret_key == NULL || region == NULL || service == NULL ||
        amz_date == NULL || signed_headers == NULL || authorization == NULL ||
        (req->nheaders > 0 && req->headers == NULL) ||
        (req->body_len > 0 && req->body == NULL))
        return lv_error_set(err, LV_E_VALIDATION, "missing signing argument");
    size_t akn = strlen(access_key);
    bool key_ok = akn > 0 && akn < sizeof((lv_sigv4_auth *)0)->access_key;
    for (size_t i = 0; key_ok && i < akn; i++)
        key_ok = is_key_char(access_key[i]);
    if (!key_ok)
        return lv_error_set(err, LV_E_VALIDATION, "invalid access key id");
    if (strlen(secret_key) >= SECRET_CAP)
        return lv_error_set(err, LV_E_VALIDATION, "secret key too long");
    if (!scope_part_ok(region) || !scope_part_ok(service))
        return lv_error_set(err, LV_E_VALIDATION, "invalid region or service");
    if (!lv_sv4_parse_amz_date(amz_date, strlen(amz_date), &t))
        return lv_error_set(err, LV_E_VALIDATION,
                            "amz_date must be YYYYMMDDTHHMMSSZ");

    lv_buf sh = LV_BUF_INIT, path = LV_BUF_INIT, canon = LV_BUF_INIT,
           sts = LV_BUF_INIT;
    unsigned char key[32];
    memset(key, 0, sizeof key);
    lv_err rc = sort_signed_headers(signed_headers, &sh);
    if (rc != LV_OK) {
        lv_error_set(err, rc, "invalid signed_headers list");
        goto done;
    }
    if (!lv_sv4_list_has(sh.data, "host") || !lv_sv4_list_has(sh.data, "x-amz-date")) {
        rc = lv_error_set(err, LV_E_VALIDATION,
                          "signed_headers must include host and x-amz-date");
        goto done;
    }
    size_t cnt;
    const lv_sigv4_header *dh = lv_sv4_find_header(req, "x-amz-date", &cnt);
    const char *dv = NULL;
    size_t dn = 0;
    if (dh)
        lv_sv4_trimmed(dh, &dv, &dn);
    if (dh == NULL || cnt != 1 || dn != 16 || memcmp(dv, amz_date, 16) != 0) {
        rc = lv_error_set(err, LV_E_VALIDATION,
                          "the request must carry one X-Amz-Date header "
                          "equal to amz_date");
        goto done;
    }
    char payload[65];
    const lv_sigv4_header *ph = lv_sv4_find_header(req, "x-amz-content-sha256", &cnt);
    if (ph) {
        const char *pv;
        size_t pn;
        lv_sv4_trimmed(ph, &pv, &pn);
        if (cnt != 1 || pn == 0 || pn >= sizeof payload) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "invalid X-Amz-Content-Sha256 header");
            goto done;
        }
        memcpy(payload, pv, pn);
        payload[pn] = '\0';
    } else if ((rc = lv_sv4_sha256_hex(req->body, req->body_len, payload)) !=
               LV_OK) {
        lv_error_set(err, rc, "cannot hash the body");
        goto done;
    }
    lv_buf ptmp = LV_BUF_INIT;
    rc = lv_sv4_canonical_path(req->path, normalize, &path, &ptmp);
    lv_buf_free(&ptmp);
    if (rc != LV_OK) {
        lv_error_set(err, rc, "cannot encode the path");
        goto done;
    }
    if ((rc = lv_sv4_build_canonical(req, path.data, path.len, sh.data, payload,
                              false, &canon, err)) != LV_OK)
        goto done;
    if ((rc = lv_sv4_string_to_sign(amz_date, amz_date, region, service, canon.data,
                             canon.len, &sts)) != LV_OK ||
        (rc = lv_sv4_derive_key(secret_key, strlen(secret_key), amz_date, region,
                         service, key)) != LV_OK) {
        lv_error_set(err, rc, "cannot compute the signature");
        goto done;
    }
    char sig[65];
    if ((rc = lv_sv4_signature_hex(key, &sts, sig)) != LV_OK) {
        lv_error_set(err, rc, "cannot compute the signature");
        goto done;
    }
    rc = lv_buf_printf(authorization,
                       ALGO " Credential=%s/%.8s/%s/%s/" TERMINATOR
                            ", SignedHeaders=%s, Signature=%s",
                       access_key, amz_date, region, service, sh.data, sig);
    if (rc != LV_OK)
        lv_error_set(err, rc, "cannot write the Authorization header");
done:
    OPENSSL_cleanse(key, sizeof key);
    lv_buf_free(&sh);
    lv_buf_free(&path);
    lv_buf_free(&canon);
    lv_buf_free(&sts);
    return rc;
}

lv_err lv_sigv4_sign(const lv_sigv4_request *req, const char *access_key,
                     const char *secret_key, const char *region,
                     const char *service, const char *amz_date,
                     const char *signed_headers, lv_buf *authorization,
                     lv_error *err)
{
    /* S3 is the one service whose paths are signed as sent. */
    bool normalize = service == NULL || strcmp(service, "s3") != 0;
    return lv_sigv4_sign_ex(req, access_key, secret_key, region, service,
                            amz_date, signed_headers, normalize, authorization,
                            err);
}
