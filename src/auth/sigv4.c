/* sigv4.c - leverd's SigV4 verification: header-signed requests and
 * presigned URLs (skew, scope, secret lookup, payload hash, signature). */
#include "auth/sigv4_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>


static lv_err check_skew(const char *amz_date, time_t t, time_t now,
                         lv_error *err)
{
    char lim[17], nowd[17];
    if ((long long)t < (long long)now - SKEW_SECONDS) {
        lv_sv4_fmt_amz_date(now, nowd);
        lv_sv4_fmt_amz_date(now - SKEW_SECONDS, lim);
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "Signature expired: %s is now earlier than %s "
                            "(%s - 15 min.)",
                            amz_date, lim, nowd);
    }
    if ((long long)t > (long long)now + SKEW_SECONDS) {
        lv_sv4_fmt_amz_date(now, nowd);
        lv_sv4_fmt_amz_date(now + SKEW_SECONDS, lim);
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "Signature not yet current: %s is still later "
                            "than %s (%s + 15 min.)",
                            amz_date, lim, nowd);
    }
    return LV_OK;
}

static lv_err check_scope(const lv_sigv4_auth *a, const char *service,
                          lv_error *err)
{
    if (memcmp(a->date, a->amz_date, 8) != 0)
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "Date in Credential scope does not match "
                            "YYYYMMDD from ISO-8601 version of date from "
                            "HTTP: '%s' != '%.8s', from '%s'.",
                            a->date, a->amz_date, a->amz_date);
    if (strcmp(a->service, service) != 0)
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "Credential should be scoped to correct "
                            "service: '%s'.",
                            service);
    if (!lv_sv4_list_has(a->signed_headers, "host"))
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "'Host' must be a 'SignedHeader' in the AWS "
                            "Authorization.");
    return LV_OK;
}

static lv_err lookup_secret(lv_sigv4_secret_fn fn, void *ctx,
                            const char *akid, char secret[SECRET_CAP],
                            lv_error *err)
{
    memset(secret, 0, SECRET_CAP);
    if (fn == NULL)
        return lv_error_set(err, LV_E_INTERNAL, "no credential store");
    lv_err rc = fn(ctx, akid, secret, SECRET_CAP);
    if (rc == LV_E_UNRECOGNIZED_CLIENT)
        return lv_error_set(err, rc,
                            "The security token included in the request is "
                            "invalid.");
    if (rc != LV_OK)
        return lv_error_set(err, rc, "cannot look up the access key");
    if (memchr(secret, '\0', SECRET_CAP) == NULL)
        return lv_error_set(err, LV_E_INTERNAL,
                            "secret of the access key is too long");
    return LV_OK;
}

/* Tries each canonical path form with each payload hash; one match is
 * enough. Every comparison is constant-time. mac is the signing key made
 * ready for HMAC (lv_sv4_mac_key). */
static lv_err match_signature(const lv_sigv4_request *req,
                              const lv_sigv4_auth *a, const char *service,
                              const unsigned char *mac,
                              const char *const *payloads, size_t npayloads,
                              bool presigned, lv_error *err)
{
    scratch own = {{LV_BUF_INIT, LV_BUF_INIT}, LV_BUF_INIT, LV_BUF_INIT, LV_BUF_INIT};
    scratch *sc = lv_sv4_scratch_get();
    bool owned = sc == NULL;
    if (owned)
        sc = &own;
    lv_buf *paths = sc->path, *canon = &sc->canon, *sts = &sc->sts;
    lv_err rc;
    size_t npaths = 2;
    if (req->path != NULL && req->path[0] == '/' && req->path[1] == '\0') {
        /* "/" (every JSON API) reads the same in both forms. */
        rc = lv_buf_putc(&paths[0], '/');
        npaths = 1;
    } else {
        rc = lv_sv4_canonical_path(req->path, true, &paths[0], &sc->tmp);
        if (rc == LV_OK)
            rc = lv_sv4_canonical_path(req->path, false, &paths[1], &sc->tmp);
        if (rc == LV_OK && paths[0].len == paths[1].len &&
            memcmp(paths[0].data, paths[1].data, paths[0].len) == 0)
            npaths = 1;
    }
    bool matched = false;
    for (size_t p = 0; rc == LV_OK && p < npaths && !matched; p++) {
        for (size_t k = 0; rc == LV_OK && k < npayloads && !matched; k++) {
            lv_buf_reset(canon);
            lv_buf_reset(sts);
            rc = lv_sv4_build_canonical(req, paths[p].data, paths[p].len,
                                 a->signed_headers, payloads[k], presigned,
                                 canon, err);
            if (rc == LV_E_VALIDATION) {
                /* A signed header that is missing cannot have been signed
                 * as received. */
                rc = LV_E_INVALID_SIGNATURE;
                if (err)
                    err->code = rc;
                break;
            }
            if (rc == LV_OK)
                rc = lv_sv4_string_to_sign(a->amz_date, a->date, a->region, service,
                                    canon->data, canon->len, sts);
            if (rc == LV_OK) {
                unsigned char sig[32];
                char hex[65];
                lv_sv4_mac(mac, sts->data, sts->len, sig);
                to_hex(sig, sizeof sig, hex);
                matched = ct_eq(hex, a->signature, 64);
            }
        }
    }
    if (owned)
        lv_sv4_scratch_release(&own);
    if (rc != LV_OK) {
        if (err && err->code != rc)
            lv_error_set(err, rc, "cannot verify the signature");
        return rc;
    }
    if (!matched)
        return lv_error_set(err, LV_E_INVALID_SIGNATURE, MSG_MISMATCH);
    return LV_OK;
}

/* The headers verification reads as data, found in one pass. */
typedef struct sig_headers {
    const lv_sigv4_header *auth, *amz_date, *date, *content_sha;
    size_t nauth, namz_date, ndate, ncontent_sha;
} sig_headers;

static void note_header(const lv_sigv4_header **slot, size_t *count, const lv_sigv4_header *h)
{
    if ((*count)++ == 0)
        *slot = h;
}

static void scan_headers(const lv_sigv4_request *req, sig_headers *sh)
{
    memset(sh, 0, sizeof *sh);
    for (size_t i = 0; i < req->nheaders; i++) {
        const lv_sigv4_header *h = &req->headers[i];
        if (h->name == NULL)
            continue;
        switch (h->name_len) {
        case 4:
            if (ieq(h->name, 4, "date", 4))
                note_header(&sh->date, &sh->ndate, h);
            break;
        case 10:
            if (ieq(h->name, 10, "x-amz-date", 10))
                note_header(&sh->amz_date, &sh->namz_date, h);
            break;
        case 13:
            if (ieq(h->name, 13, "authorization", 13))
                note_header(&sh->auth, &sh->nauth, h);
            break;
        case 20:
            if (ieq(h->name, 20, "x-amz-content-sha256", 20))
                note_header(&sh->content_sha, &sh->ncontent_sha, h);
            break;
        default:
            break;
        }
    }
}

/* The body's hash, or the X-Amz-Content-Sha256 header's value when there
 * is one: signed as sent, it must describe the body we got, or a signed
 * hash would vouch for a swapped body. */
static lv_err payload_hash(const lv_sigv4_request *req, const sig_headers *sh,
                           char out[65], lv_error *err)
{
    char body_hex[65];
    lv_sv4_sha256_hex(req->body, req->body_len, body_hex);
    if (sh->content_sha == NULL) {
        memcpy(out, body_hex, 65);
        return LV_OK;
    }
    const char *v;
    size_t n;
    lv_sv4_trimmed(sh->content_sha, &v, &n);
    bool ok = false;
    if (sh->ncontent_sha == 1 && n == 64) {
        ok = true;
        for (size_t i = 0; ok && i < 64; i++)
            ok = lower(v[i]) == body_hex[i];
    } else if (sh->ncontent_sha == 1 && req->body_len == 0 &&
               n == strlen(UNSIGNED_PAYLOAD) &&
               memcmp(v, UNSIGNED_PAYLOAD, n) == 0) {
        ok = true;
    }
    if (!ok)
        return lv_error_set(err, LV_E_INVALID_SIGNATURE,
                            "The provided 'x-amz-content-sha256' header does "
                            "not match what was computed.");
    memcpy(out, v, n);
    out[n] = '\0';
    return LV_OK;
}

/* Iterates query parameters, decoding names and values. */
typedef struct qparam {
    const char *name;
    lv_buf value;
    int count;
} qparam;

static lv_err collect_params(const char *q, qparam *ps, size_t nps)
{
    lv_buf key = LV_BUF_INIT;
    lv_err rc = LV_OK;
    size_t n = q ? strlen(q) : 0, i = 0;
    while (q && i <= n && rc == LV_OK) {
        size_t s = i;
        while (i < n && q[i] != '&')
            i++;
        size_t e = i++;
        size_t eq = s;
        while (eq < e && q[eq] != '=')
            eq++;
        lv_buf_reset(&key);
        if (e == s || (rc = lv_sv4_uri_decode(&key, q + s, eq - s)) != LV_OK)
            continue;
        for (size_t k = 0; k < nps; k++) {
            if (key.len != strlen(ps[k].name) ||
                memcmp(key.data, ps[k].name, key.len) != 0)
                continue;
            if (ps[k].count++ == 0) {
                size_t vs = eq < e ? eq + 1 : e;
                rc = lv_sv4_uri_decode(&ps[k].value, q + vs, e - vs);
                if (rc == LV_OK && ps[k].value.data == NULL)
                    rc = lv_buf_append(&ps[k].value, "", 0);
            }
        }
    }
    lv_buf_free(&key);
    return rc;
}

enum { QP_ALGO, QP_CRED, QP_DATE, QP_EXPIRES, QP_SIGNED, QP_SIG, QP__N };

static lv_err verify_presigned(const lv_sigv4_request *req,
                               const sig_headers *sh, const char *service, time_t now,
                               lv_sigv4_secret_fn secret_fn, void *secret_ctx,
                               lv_sigv4_cache *cache, lv_sigv4_auth *out,
                               lv_error *err)
{
    qparam ps[QP__N] = {
        {"X-Amz-Algorithm", LV_BUF_INIT, 0},
        {"X-Amz-Credential", LV_BUF_INIT, 0},
        {"X-Amz-Date", LV_BUF_INIT, 0},
        {"X-Amz-Expires", LV_BUF_INIT, 0},
        {"X-Amz-SignedHeaders", LV_BUF_INIT, 0},
        {"X-Amz-Signature", LV_BUF_INIT, 0},
    };
    char secret[SECRET_CAP];
    _Alignas(8) unsigned char mac[LV_SIGV4_MAC_STATE];
    memset(secret, 0, sizeof secret);
    memset(mac, 0, sizeof mac);
    lv_sigv4_auth a;
    memset(&a, 0, sizeof a);
    lv_err rc = collect_params(req->query, ps, QP__N);
    if (rc != LV_OK) {
        lv_error_set(err, rc, "cannot read the query string");
        goto done;
    }
    if (ps[QP_ALGO].count == 0 && ps[QP_CRED].count == 0 &&
        ps[QP_SIG].count == 0) {
        rc = lv_error_set(err, LV_E_MISSING_AUTH,
                          "Missing Authentication Token");
        goto done;
    }
    for (int k = 0; k < QP__N; k++) {
        if (ps[k].count != 1) {
            rc = lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                              "AWS query-string parameters must include "
                              "'X-Amz-Algorithm', 'X-Amz-Credential', "
                              "'X-Amz-Signature', 'X-Amz-Date', "
                              "'X-Amz-SignedHeaders', and 'X-Amz-Expires', "
                              "each once. Re-examine the query-string "
                              "parameters.");
            goto done;
        }
    }
    if (strcmp(ps[QP_ALGO].value.data, ALGO) != 0) {
        rc = lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                          "X-Amz-Algorithm must be " ALGO ".");
        goto done;
    }
    if ((rc = lv_sv4_parse_credential(ps[QP_CRED].value.data, ps[QP_CRED].value.len,
                               &a, err)) != LV_OK ||
        (rc = lv_sv4_parse_signed_headers(ps[QP_SIGNED].value.data,
                                   ps[QP_SIGNED].value.len, &a, err)) !=
            LV_OK ||
        (rc = lv_sv4_parse_signature(ps[QP_SIG].value.data, ps[QP_SIG].value.len, &a,
                              err)) != LV_OK)
        goto done;
    time_t t;
    if (!lv_sv4_parse_amz_date(ps[QP_DATE].value.data, ps[QP_DATE].value.len, &t)) {
        rc = lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                          "X-Amz-Date must be in the form YYYYMMDDTHHMMSSZ.");
        goto done;
    }
    memcpy(a.amz_date, ps[QP_DATE].value.data, 16);
    a.amz_date[16] = '\0';
    long expires = 0;
    const lv_buf *ev = &ps[QP_EXPIRES].value;
    bool ok = ev->len > 0 && ev->len <= 7;
    for (size_t i = 0; ok && i < ev->len; i++) {
        ok = is_digit(ev->data[i]);
        expires = expires * 10 + (ev->data[i] - '0');
    }
    if (!ok || expires < 1 || expires > PRESIGN_MAX_EXPIRES) {
        rc = lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                          "X-Amz-Expires must be a number of seconds from 1 "
                          "to %ld.",
                          PRESIGN_MAX_EXPIRES);
        goto done;
    }
    if ((rc = check_scope(&a, service, err)) != LV_OK)
        goto done;
    if ((long long)t > (long long)now + SKEW_SECONDS) {
        rc = check_skew(a.amz_date, t, now, err);
        goto done;
    }
    if ((long long)now > (long long)t + expires) {
        char lim[17], nowd[17];
        lv_sv4_fmt_amz_date(now, nowd);
        lv_sv4_fmt_amz_date((time_t)((long long)now - expires), lim);
        rc = lv_error_set(err, LV_E_INVALID_SIGNATURE,
                          "Signature expired: %s is now earlier than %s "
                          "(%s - %ld sec.)",
                          a.amz_date, lim, nowd, expires);
        goto done;
    }
    if ((rc = lookup_secret(secret_fn, secret_ctx, a.access_key, secret,
                            err)) != LV_OK)
        goto done;
    char hash[65];
    if ((rc = payload_hash(req, sh, hash, err)) != LV_OK)
        goto done;
    /* Presigners disagree: botocore signs UNSIGNED-PAYLOAD, aws-c-auth the
     * body's hash. Both are accepted, the unsigned form only for an empty
     * body, so a presigned URL never covers a body it did not sign. */
    const char *payloads[2] = {hash, UNSIGNED_PAYLOAD};
    size_t npay = (sh->content_sha == NULL && req->body_len == 0) ? 2 : 1;
    if ((rc = lv_sv4_derive_key_cached(cache, a.access_key, secret, a.date, a.region,
                                a.service, mac)) != LV_OK) {
        lv_error_set(err, rc, "cannot derive the signing key");
        goto done;
    }
    rc = match_signature(req, &a, service, mac, payloads, npay, true, err);
    if (rc == LV_OK && out)
        *out = a;
done:
    explicit_bzero(secret, sizeof secret);
    explicit_bzero(mac, sizeof mac);
    for (int k = 0; k < QP__N; k++)
        lv_buf_free(&ps[k].value);
    return rc;
}

lv_err lv_sigv4_verify(const lv_sigv4_request *req,
                       const char *expected_service, time_t now,
                       lv_sigv4_secret_fn secret_fn, void *secret_ctx,
                       lv_sigv4_cache *cache, lv_sigv4_auth *out,
                       lv_error *err)
{
    if (req == NULL || req->method == NULL || expected_service == NULL ||
        (req->nheaders > 0 && req->headers == NULL) ||
        (req->body_len > 0 && req->body == NULL))
        return lv_error_set(err, LV_E_INTERNAL, "invalid verify arguments");
    lv_error_clear(err);
    sig_headers sh;
    scan_headers(req, &sh);
    if (sh.auth == NULL)
        return verify_presigned(req, &sh, expected_service, now, secret_fn,
                                secret_ctx, cache, out, err);
    if (sh.nauth > 1)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "The request has more than one Authorization "
                            "header.");
    /* Parsed straight into *out: the struct is large, and this runs for
     * every request. */
    lv_sigv4_auth local;
    lv_sigv4_auth *a = out ? out : &local;
    lv_err rc = sh.auth->value == NULL
                    ? lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE, "Authorization header is empty.")
                    : lv_sv4_parse_authorization(sh.auth->value, sh.auth->value_len, a, err);
    if (rc != LV_OK)
        return rc;

    /* X-Amz-Date wins over Date, as in AWS; either must be unambiguous. */
    const lv_sigv4_header *dh = sh.amz_date;
    size_t cnt = sh.namz_date;
    bool http_date = false;
    if (dh == NULL) {
        dh = sh.date;
        cnt = sh.ndate;
        http_date = true;
    }
    if (dh == NULL)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Authorization header requires existence of "
                            "either a 'X-Amz-Date' or a 'Date' header.");
    const char *dv;
    size_t dn;
    lv_sv4_trimmed(dh, &dv, &dn);
    time_t t;
    bool ok = cnt == 1 && (lv_sv4_parse_amz_date(dv, dn, &t) ||
                           (http_date && lv_sv4_parse_http_date(dv, dn, &t)));
    if (!ok)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "The %s header is not a single valid date.",
                            http_date ? "Date" : "X-Amz-Date");
    if (!http_date) {
        /* lv_sv4_parse_amz_date accepts only the canonical spelling of a date,
         * so the header is already what formatting t would give. */
        memcpy(a->amz_date, dv, 16);
        a->amz_date[16] = '\0';
    } else {
        lv_sv4_fmt_amz_date(t, a->amz_date);
    }

    if ((rc = check_scope(a, expected_service, err)) != LV_OK ||
        (rc = check_skew(a->amz_date, t, now, err)) != LV_OK)
        return rc;

    char secret[SECRET_CAP];
    _Alignas(8) unsigned char mac[LV_SIGV4_MAC_STATE];
    char payload[65];
    if ((rc = lookup_secret(secret_fn, secret_ctx, a->access_key, secret,
                            err)) != LV_OK)
        goto done;
    if ((rc = payload_hash(req, &sh, payload, err)) != LV_OK)
        goto done;
    if ((rc = lv_sv4_derive_key_cached(cache, a->access_key, secret, a->date, a->region,
                                a->service, mac)) != LV_OK) {
        lv_error_set(err, rc, "cannot derive the signing key");
        goto done;
    }
    const char *pp = payload;
    rc = match_signature(req, a, expected_service, mac, &pp, 1, false, err);
done:
    explicit_bzero(secret, sizeof secret);
    explicit_bzero(mac, sizeof mac);
    return rc;
}
