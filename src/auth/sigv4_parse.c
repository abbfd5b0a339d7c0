/* sigv4_parse.c - the dates SigV4 uses and the Authorization header
 * (credential scope, signed headers, signature). */
#include "auth/sigv4_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lv_sv4_parse_amz_date(const char *s, size_t n, time_t *t)
{
    if (n != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    /* A client signs many requests within one second: the last valid
     * date this thread read is kept, sparing timegm on the request path. */
    static _Thread_local char last[16];
    static _Thread_local time_t last_t;
    if (last[0] != '\0' && memcmp(last, s, 16) == 0) {
        *t = last_t;
        return true;
    }
    int v[14], k = 0;
    for (size_t i = 0; i < 15; i++) {
        if (i == 8)
            continue;
        if (!is_digit(s[i]))
            return false;
        v[k++] = s[i] - '0';
    }
    struct tm tm = {0};
    tm.tm_year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3] - 1900;
    tm.tm_mon = v[4] * 10 + v[5] - 1;
    tm.tm_mday = v[6] * 10 + v[7];
    tm.tm_hour = v[8] * 10 + v[9];
    tm.tm_min = v[10] * 10 + v[11];
    tm.tm_sec = v[12] * 10 + v[13];
    struct tm want = tm;
    time_t r = timegm(&tm);
    /* timegm normalises 31 February into March; a round trip that changes
     * a field means the date does not exist. */
    if (tm.tm_year != want.tm_year || tm.tm_mon != want.tm_mon ||
        tm.tm_mday != want.tm_mday || tm.tm_hour != want.tm_hour ||
        tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec)
        return false;
    *t = r;
    memcpy(last, s, 16);
    last_t = r;
    return true;
}

void lv_sv4_fmt_amz_date(time_t t, char out[17])
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        snprintf(out, 17, "%s", "invalid-date");
}

/* The Date header in IMF-fixdate form, "Sun, 06 Nov 1994 08:49:37 GMT",
 * the only form RFC 9110 lets senders generate. */
bool lv_sv4_parse_http_date(const char *s, size_t n, time_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
        s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
        s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
        return false;
    int mon = -1;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + 8, months + 3 * i, 3) == 0)
            mon = i;
    if (mon < 0)
        return false;
    char iso[17];
    memcpy(iso, s + 12, 4);
    iso[4] = (char)('0' + (mon + 1) / 10);
    iso[5] = (char)('0' + (mon + 1) % 10);
    memcpy(iso + 6, s + 5, 2);
    iso[8] = 'T';
    memcpy(iso + 9, s + 17, 2);
    memcpy(iso + 11, s + 20, 2);
    memcpy(iso + 13, s + 23, 2);
    iso[15] = 'Z';
    iso[16] = '\0';
    return lv_sv4_parse_amz_date(iso, 16, t);
}

/* ---- Authorization parsing --------------------------------------------- */

lv_err lv_sv4_parse_credential(const char *v, size_t n, lv_sigv4_auth *a,
                               lv_error *err)
{
    const char *part[5];
    size_t plen[5], np = 0;
    const char *p = v, *end = v + n;
    while (np < 5) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        part[np] = p;
        plen[np++] = (size_t)((slash ? slash : end) - p);
        if (slash == NULL)
            break;
        p = slash + 1;
        if (np == 5)
            np++; /* a sixth element */
    }
    if (np != 5)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Credential must have exactly 5 slash-delimited "
                            "elements, e.g. keyid/date/region/service/term, "
                            "got '%.*s'",
                            clamp_echo(n), v);
    if (plen[0] == 0 || plen[0] >= sizeof a->access_key)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Credential has an access key id of %zu "
                            "characters; it must have 1 to %zu.",
                            plen[0], sizeof a->access_key - 1);
    for (size_t i = 0; i < plen[0]; i++)
        if (!is_key_char(part[0][i]))
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "Credential has an invalid access key id.");
    bool date_ok = plen[1] == 8;
    for (size_t i = 0; date_ok && i < 8; i++)
        date_ok = is_digit(part[1][i]);
    if (!date_ok)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Invalid credential date '%.*s'. Date is not the "
                            "required format: yyyyMMdd.",
                            clamp_echo(plen[1]), part[1]);
    for (int k = 2; k <= 3; k++) {
        bool ok = plen[k] > 0 && plen[k] < sizeof a->region;
        for (size_t i = 0; ok && i < plen[k]; i++)
            ok = is_scope_char(part[k][i]);
        if (!ok)
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "Credential has an invalid %s '%.*s'.",
                                k == 2 ? "region" : "service",
                                clamp_echo(plen[k]), part[k]);
    }
    if (plen[4] != strlen(TERMINATOR) ||
        memcmp(part[4], TERMINATOR, plen[4]) != 0)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Credential should be scoped with a valid "
                            "terminator: '" TERMINATOR "', not '%.*s'.",
                            clamp_echo(plen[4]), part[4]);
    memcpy(a->access_key, part[0], plen[0]);
    a->access_key[plen[0]] = '\0';
    memcpy(a->date, part[1], 8);
    a->date[8] = '\0';
    memcpy(a->region, part[2], plen[2]);
    a->region[plen[2]] = '\0';
    memcpy(a->service, part[3], plen[3]);
    a->service[plen[3]] = '\0';
    return LV_OK;
}

lv_err lv_sv4_parse_signed_headers(const char *v, size_t n, lv_sigv4_auth *a,
                                   lv_error *err)
{
    if (n >= sizeof a->signed_headers)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "SignedHeaders is longer than %zu characters.",
                            sizeof a->signed_headers - 1);
    if (!lv_sv4_signed_headers_valid(v, n))
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "SignedHeaders '%.*s' is not a ';'-separated "
                            "list of header names.",
                            clamp_echo(n), v);
    memcpy(a->signed_headers, v, n);
    a->signed_headers[n] = '\0';
    return LV_OK;
}

lv_err lv_sv4_parse_signature(const char *v, size_t n, lv_sigv4_auth *a,
                              lv_error *err)
{
    if (n != 64)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Signature must be 64 hexadecimal characters.");
    /* Lowered with | 0x20: a digit stays a digit, A-F become a-f. */
    unsigned all = LV_SV4_XDIGIT;
    for (size_t i = 0; i < 64; i++) {
        unsigned char c = (unsigned char)v[i];
        all &= lv_sv4_cls[c];
        a->signature[i] = (char)(c | 0x20);
    }
    if (all == 0)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Signature must be 64 hexadecimal characters.");
    a->signature[64] = '\0';
    return LV_OK;
}

/* Where the parameter value starting at v[i] ends: the first ',', blank
 * or tab at or after i, else len. Eight bytes at a time while a word has
 * no byte below 0x21 and no ',' (a credential scope and a signature are
 * most of the header); the word that has one is finished byte by byte. */
static size_t until_delim(const char *v, size_t i, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (len - i >= 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        uint64_t comma = w ^ (',' * ones);
        if ((((w - 0x21 * ones) & ~w) | ((comma - ones) & ~comma)) & highs)
            break;
        i += 8;
    }
    while (i < len && !sv4_is(v[i], LV_SV4_DELIM))
        i++;
    return i;
}

/* Parses into *a directly (callers on the request path pass the struct
 * they return, so nothing is cleared or copied); on failure *a holds
 * whatever was parsed before the error. */
lv_err lv_sv4_parse_authorization(const char *value, size_t len,
                                  lv_sigv4_auth *a, lv_error *err)
{
    size_t i = 0, alen = sizeof ALGO - 1;
    while (i < len && is_sp(value[i]))
        i++;
    if (len - i < alen || memcmp(value + i, ALGO, alen) != 0 ||
        (len - i > alen && !is_sp(value[i + alen])))
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Authorization header must use the "
                            "AWS4-HMAC-SHA256 algorithm followed by "
                            "Credential, SignedHeaders and Signature.");
    i += alen;
    const char *val[3] = {NULL, NULL, NULL};
    size_t vlen[3] = {0, 0, 0};
    static const char *const names[3] = {"Credential", "SignedHeaders",
                                         "Signature"};
    static const size_t name_len[3] = {10, 13, 9};
    while (i < len) {
        /* SDKs write ", " between parameters; some only "," or " ". */
        if (sv4_is(value[i], LV_SV4_DELIM)) {
            i++;
            continue;
        }
        size_t ks = i;
        while (i < len && !sv4_is(value[i], LV_SV4_DELIM | LV_SV4_EQ))
            i++;
        size_t kn = i - ks;
        if (i >= len || value[i] != '=')
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "'%.*s' not a valid key=value pair (missing "
                                "equal-sign) in Authorization header.",
                                clamp_echo(kn), value + ks);
        size_t vs = ++i;
        i = until_delim(value, i, len);
        int which = -1;
        for (int k = 0; k < 3 && which < 0; k++)
            if (kn == name_len[k] && memcmp(value + ks, names[k], kn) == 0)
                which = k;
        if (which < 0)
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "Authorization header has an unknown "
                                "parameter '%.*s'.",
                                clamp_echo(kn), value + ks);
        if (val[which] != NULL)
            return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                                "Authorization header has '%s' twice.",
                                names[which]);
        val[which] = value + vs;
        vlen[which] = i - vs;
    }
    if (val[0] == NULL || val[1] == NULL || val[2] == NULL) {
        char msg[256];
        size_t m = 0;
        msg[0] = '\0';
        for (int k = 0; k < 3; k++)
            if (val[k] == NULL)
                m += (size_t)snprintf(msg + m, sizeof msg - m,
                                      "%sAuthorization header requires '%s' "
                                      "parameter.",
                                      m ? " " : "", names[k]);
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE, "%s", msg);
    }
    lv_err rc;
    if ((rc = lv_sv4_parse_credential(val[0], vlen[0], a, err)) != LV_OK ||
        (rc = lv_sv4_parse_signed_headers(val[1], vlen[1], a, err)) != LV_OK ||
        (rc = lv_sv4_parse_signature(val[2], vlen[2], a, err)) != LV_OK)
        return rc;
    a->amz_date[0] = '\0';
    return LV_OK;
}

lv_err lv_sigv4_parse_authorization(const char *value, size_t len,
                                    lv_sigv4_auth *out, lv_error *err)
{
    if (value == NULL || out == NULL)
        return lv_error_set(err, LV_E_INCOMPLETE_SIGNATURE,
                            "Authorization header is empty.");
    lv_sigv4_auth a;
    memset(&a, 0, sizeof a);
    lv_err rc = lv_sv4_parse_authorization(value, len, &a, err);
    if (rc == LV_OK)
        *out = a;
    return rc;
}
