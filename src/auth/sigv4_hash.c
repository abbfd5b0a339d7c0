/* sigv4_hash.c - SHA-256 and HMAC-SHA256 for SigV4, HMAC keys made
 * ready once, and the per-thread scratch buffers of verification. */
#include "auth/sigv4_int.h"

#include <stdlib.h>
#include <string.h>
#include <pthread.h>

/* OpenSSL's SHA256_Init/Update/Final, deprecated in 3.0 in favour of EVP
 * but still built and maintained, run the same SHA-NI code without EVP's
 * per-call provider dispatch, context reset and allocation, which cost
 * more than hashing a request (docs/decisions.md, "Hashing on the request path"). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

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

static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_key_make(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, free_scratch) == 0;
}

/* The calling thread's scratch buffers, emptied; NULL when out of memory
 * (the caller then uses buffers of its own). */
scratch *lv_sv4_scratch_get(void)
{
    pthread_once(&scratch_once, scratch_key_make);
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

/* Two pieces hashed as one message. */
static void sha256_2(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    if (an)
        SHA256_Update(&c, a, an);
    if (bn)
        SHA256_Update(&c, b, bn);
    SHA256_Final(out, &c);
}

lv_err lv_sv4_sha256(const void *p, size_t n, unsigned char out[32])
{
    sha256_2(p, n, NULL, 0, out);
    return LV_OK;
}

lv_err lv_sv4_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char d[32];
    sha256_2(p, n, NULL, 0, d);
    to_hex(d, sizeof d, out);
    return LV_OK;
}

_Static_assert(2 * sizeof(SHA256_CTX) <= LV_SIGV4_MAC_STATE, "LV_SIGV4_MAC_STATE holds two SHA-256 states");

/* RFC 2104: the key, zero-padded to a block, XORed with 0x36 starts the
 * inner hash and with 0x5c the outer one. Both states are kept. */
void lv_sv4_mac_key(const void *key, size_t keylen, unsigned char st[LV_SIGV4_MAC_STATE])
{
    unsigned char k[64], pad[64];
    memset(k, 0, sizeof k);
    if (keylen > sizeof k)
        sha256_2(key, keylen, NULL, 0, k); /* long keys are hashed first */
    else if (keylen > 0)
        memcpy(k, key, keylen);
    SHA256_CTX c[2];
    for (int h = 0; h < 2; h++) {
        for (size_t i = 0; i < sizeof pad; i++)
            pad[i] = k[i] ^ (h == 0 ? 0x36 : 0x5c);
        SHA256_Init(&c[h]);
        SHA256_Update(&c[h], pad, sizeof pad);
    }
    memcpy(st, c, sizeof c);
    explicit_bzero(k, sizeof k);
    explicit_bzero(pad, sizeof pad);
    explicit_bzero(c, sizeof c);
}

void lv_sv4_mac(const unsigned char st[LV_SIGV4_MAC_STATE], const void *data, size_t n, unsigned char out[32])
{
    SHA256_CTX c[2];
    unsigned char inner[32];
    memcpy(c, st, sizeof c);
    SHA256_Update(&c[0], data, n);
    SHA256_Final(inner, &c[0]);
    SHA256_Update(&c[1], inner, sizeof inner);
    SHA256_Final(out, &c[1]);
    explicit_bzero(inner, sizeof inner);
    explicit_bzero(c, sizeof c);
}

lv_err lv_sv4_hmac256(const void *key, size_t keylen, const void *data,
                      size_t n, unsigned char out[32])
{
    _Alignas(8) unsigned char st[LV_SIGV4_MAC_STATE];
    lv_sv4_mac_key(key, keylen, st);
    lv_sv4_mac(st, data, n, out);
    explicit_bzero(st, sizeof st);
    return LV_OK;
}
