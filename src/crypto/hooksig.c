/* hooksig.c - HMAC-SHA256 webhook signatures (OpenSSL's HMAC). */
#include "crypto/hooksig.h"
#include "core/hex.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

static bool mac(const void *key, size_t klen, int64_t t, const void *body, size_t n, char hex[65])
{
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "%" PRId64 ".", t);
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0;
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    bool ok = c != NULL && EVP_MAC_init(c, key, klen, params) == 1 &&
              EVP_MAC_update(c, (const unsigned char *)prefix, (size_t)pl) == 1 &&
              (n == 0 || EVP_MAC_update(c, body, n) == 1) && EVP_MAC_final(c, md, &mdlen, sizeof md) == 1 &&
              mdlen == 32;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
    if (ok) {
        lv_hex_encode(md, 32, hex);
    } else {
        memset(hex, '0', 64);
        hex[64] = '\0';
    }
    OPENSSL_cleanse(md, sizeof md);
    return ok;
}

void lv_hooksig_sign(const void *key, size_t klen, int64_t unix_s, const void *body, size_t n,
                     char out[LV_HOOKSIG_MAX])
{
    char hex[65];
    mac(key, klen, unix_s, body, n, hex);
    snprintf(out, LV_HOOKSIG_MAX, "t=%" PRId64 ",v1=%s", unix_s, hex);
}

bool lv_hooksig_verify(const void *key, size_t klen, const char *header, const void *body, size_t n,
                       int64_t now_s, int64_t tolerance_s)
{
    if (header == NULL || strncmp(header, "t=", 2) != 0)
        return false;
    int64_t t = 0;
    const char *p = header + 2;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 18) {
        t = t * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || strncmp(p, ",v1=", 4) != 0 || strlen(p + 4) != 64)
        return false;
    int64_t d = now_s - t;
    if (d > tolerance_s || d < -tolerance_s)
        return false;
    char want[65];
    if (!mac(key, klen, t, body, n, want))
        return false;
    return CRYPTO_memcmp(want, p + 4, 64) == 0;
}
