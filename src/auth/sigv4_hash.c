/* sigv4_hash.c - SHA-256 and HMAC-SHA256 for SigV4 with one digest
 * fetch per process and one context per thread, and the per-thread
 * scratch buffers of verification. */
#include "auth/sigv4_int.h"

#include <stdlib.h>
#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* OpenSSL 3 looks an algorithm up by name on every EVP_Digest / HMAC()
 * call; that lookup cost more than the hashing itself on the request path.
 * SHA-256 is fetched once for the process, and HMAC is built from it
 * directly (RFC 2104: two hashes) instead of through EVP_MAC, whose
 * per-call setup fetches the digest again. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
/* Each thread reuses one digest context: creating one per hash (and the
 * provider state behind it) cost more than hashing a request. The key's
 * destructor frees it when the thread ends. */
static pthread_key_t sha256_ctx_key;
static bool sha256_ctx_key_ok;

static void free_ctx(void *p)
{
    EVP_MD_CTX_free(p);
}

/* Buffers that grew past this (a huge query string) are released after
 * use rather than kept for the thread's lifetime. */
#define SCRATCH_KEEP (16 * 1024)

static pthread_key_t scratch_key;
static bool scratch_key_ok;

void lv_sv4_scratch_release(scratch *sc)
{
    lv_buf_free(&sc->path[0]);
    lv_buf_free(&sc->path[1]);
    lv_buf_free(&sc->tmp);
    lv_buf_free(&sc->canon);
    lv_buf_free(&sc->sts);
}

static void free_scratch(void *p)
{
    lv_sv4_scratch_release(p);
    free(p);
}

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha256_ctx_key_ok = pthread_key_create(&sha256_ctx_key, free_ctx) == 0;
    scratch_key_ok = pthread_key_create(&scratch_key, free_scratch) == 0;
}

/* The calling thread's scratch buffers, emptied; NULL when out of memory
 * (the caller then uses buffers of its own). */
scratch *lv_sv4_scratch_get(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    if (!scratch_key_ok)
        return NULL;
    scratch *sc = pthread_getspecific(scratch_key);
    if (sc == NULL) {
        if ((sc = calloc(1, sizeof *sc)) == NULL)
            return NULL;
        if (pthread_setspecific(scratch_key, sc) != 0) {
            free(sc);
            return NULL;
        }
    }
    lv_buf *all[] = {&sc->path[0], &sc->path[1], &sc->tmp, &sc->canon, &sc->sts};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if (all[i]->cap > SCRATCH_KEEP)
            lv_buf_free(all[i]);
        lv_buf_reset(all[i]);
    }
    return sc;
}

static const EVP_MD *sha256_alg(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md ? sha256_md : EVP_sha256();
}

/* Hashes the concatenation of two pieces. */
static lv_err sha256_2(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32])
{
    const EVP_MD *md = sha256_alg();
    EVP_MD_CTX *c = sha256_ctx_key_ok ? pthread_getspecific(sha256_ctx_key) : NULL;
    bool owned = false;
    if (c == NULL) {
        if ((c = EVP_MD_CTX_new()) == NULL)
            return LV_E_INTERNAL;
        if (!sha256_ctx_key_ok || pthread_setspecific(sha256_ctx_key, c) != 0)
            owned = true;
    }
    unsigned int len = 0;
    bool ok = EVP_DigestInit_ex2(c, md, NULL) == 1 &&
              (an == 0 || EVP_DigestUpdate(c, a, an) == 1) &&
              (bn == 0 || EVP_DigestUpdate(c, b, bn) == 1) &&
              EVP_DigestFinal_ex(c, out, &len) == 1 && len == 32;
    if (owned)
        EVP_MD_CTX_free(c);
    return ok ? LV_OK : LV_E_INTERNAL;
}

lv_err lv_sv4_sha256(const void *p, size_t n, unsigned char out[32])
{
    return sha256_2(p, n, NULL, 0, out);
}

lv_err lv_sv4_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char d[32];
    lv_err rc = lv_sv4_sha256(p, n, d);
    if (rc == LV_OK)
        to_hex(d, sizeof d, out);
    return rc;
}

lv_err lv_sv4_hmac256(const void *key, size_t keylen, const void *data,
                      size_t n, unsigned char out[32])
{
    unsigned char k[64], pad[64], inner[32];
    memset(k, 0, sizeof k);
    lv_err rc = LV_OK;
    if (keylen > sizeof k)
        rc = lv_sv4_sha256(key, keylen, k); /* long keys are hashed first */
    else if (keylen > 0)
        memcpy(k, key, keylen);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x36;
    if (rc == LV_OK)
        rc = sha256_2(pad, sizeof pad, data, n, inner);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x5c;
    if (rc == LV_OK)
        rc = sha256_2(pad, sizeof pad, inner, sizeof inner, out);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
    return rc;
}
