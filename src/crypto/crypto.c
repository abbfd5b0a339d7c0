/* crypto.c - SecureString envelopes (AES-256-GCM, per-KeyId keys derived
 * with HKDF-SHA256), the master key file, and small encoding helpers, all
 * on OpenSSL's libcrypto. */
#include "crypto/crypto.h"
#include "core/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { NONCE_LEN = 12, TAG_LEN = 16, FORMAT_V1 = 1 };

lv_err lv_crypto_random(void *p, size_t n, lv_error *err)
{
    if (n > INT_MAX || RAND_bytes(p, (int)n) != 1)
        return lv_error_set(err, LV_E_INTERNAL, "the random number generator failed");
    return LV_OK;
}

void lv_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    lv_hex_encode(md, sizeof md, out);
}

/* ---------- master key file ---------- */

static lv_err write_key_file(const char *path, const unsigned char key[LV_MASTER_KEY_LEN],
                             lv_error *err)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return lv_error_set(err, LV_E_IO, "master key path too long");
    char text[2 * LV_MASTER_KEY_LEN + 2];
    lv_hex_encode(key, LV_MASTER_KEY_LEN, text);
    text[2 * LV_MASTER_KEY_LEN] = '\n';
    /* A leftover from an earlier crash of a process with our pid would
     * make O_EXCL fail forever; the name is ours, so clear it. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return lv_error_set(err, LV_E_IO, "cannot create %s: %s", tmp, strerror(errno));
    ssize_t w = write(fd, text, sizeof text - 1);
    OPENSSL_cleanse(text, sizeof text);
    if (w != (ssize_t)(sizeof text - 1) || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return lv_error_set(err, LV_E_IO, "cannot write %s: %s", tmp, strerror(e));
    }
    close(fd);
    /* link() fails if another process created the key meanwhile: then the
     * other key wins and we read it, so two first starts agree. */
    if (link(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        if (e == EEXIST)
            return LV_E_PARAM_EXISTS;
        return lv_error_set(err, LV_E_IO, "cannot create %s: %s", path, strerror(e));
    }
    unlink(tmp);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return LV_OK;
}

lv_err lv_crypto_master_key_load(const char *path, unsigned char key[LV_MASTER_KEY_LEN],
                                 lv_error *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            unsigned char fresh[LV_MASTER_KEY_LEN];
            lv_err rc = lv_crypto_random(fresh, sizeof fresh, err);
            if (rc == LV_OK)
                rc = write_key_file(path, fresh, err);
            if (rc == LV_OK)
                memcpy(key, fresh, sizeof fresh);
            OPENSSL_cleanse(fresh, sizeof fresh);
            if (rc == LV_E_PARAM_EXISTS)
                continue; /* lost a race: read the winner's key */
            return rc;
        }
        if (fd < 0)
            return lv_error_set(err, LV_E_IO, "cannot open master key %s: %s", path, strerror(errno));
        /* One byte more than a valid file so over-long content shows. A
         * short read() on a regular file this small only happens at EOF. */
        char text[2 * LV_MASTER_KEY_LEN + 2];
        ssize_t n = read(fd, text, sizeof text);
        int rerr = errno;
        close(fd);
        if (n < 0)
            return lv_error_set(err, LV_E_IO, "cannot read master key %s: %s", path,
                                strerror(rerr));
        lv_err rc = LV_OK;
        /* Exactly the format we write: anything else may be a key someone
         * mangled, and guessing would seal values under the wrong key. */
        if (n != 2 * LV_MASTER_KEY_LEN + 1 || text[2 * LV_MASTER_KEY_LEN] != '\n')
            rc = lv_error_set(err, LV_E_CORRUPT,
                              "master key file %s must hold exactly 64 hex digits and a newline",
                              path);
        for (int i = 0; rc == LV_OK && i < LV_MASTER_KEY_LEN; i++) {
            int hi = lv_hexval(text[2 * i]), lo = lv_hexval(text[2 * i + 1]);
            if (hi < 0 || lo < 0)
                rc = lv_error_set(err, LV_E_CORRUPT,
                                  "master key file %s must hold exactly 64 hex digits", path);
            else
                key[i] = (unsigned char)(hi << 4 | lo);
        }
        OPENSSL_cleanse(text, sizeof text);
        return rc;
    }
    return lv_error_set(err, LV_E_IO, "cannot create or read master key %s", path);
}

/* ---------- envelopes ---------- */

static lv_err derive_uncached(const unsigned char master[LV_MASTER_KEY_LEN], const char *key_id,
                              unsigned char out[32], lv_error *err)
{
    static const char label[] = "lever securestring v1:";
    if (key_id == NULL)
        return lv_error_set(err, LV_E_INTERNAL, "KeyId is NULL");
    size_t kl = strlen(key_id);
    unsigned char info[256 + sizeof label];
    if (kl > 256)
        return lv_error_set(err, LV_E_VALIDATION, "KeyId too long");
    memcpy(info, label, sizeof label - 1);
    memcpy(info + sizeof label - 1, key_id, kl);
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t outlen = 32;
    bool ok = pctx != NULL && EVP_PKEY_derive_init(pctx) > 0 &&
              EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) > 0 &&
              EVP_PKEY_CTX_set1_hkdf_key(pctx, master, LV_MASTER_KEY_LEN) > 0 &&
              EVP_PKEY_CTX_add1_hkdf_info(pctx, info, (int)(sizeof label - 1 + kl)) > 0 &&
              EVP_PKEY_derive(pctx, out, &outlen) > 0 && outlen == 32;
    EVP_PKEY_CTX_free(pctx);
    return ok ? LV_OK : lv_error_set(err, LV_E_INTERNAL, "key derivation failed");
}

/* The data key depends only on (master, KeyId): name and version are bound
 * through the GCM additional data, not the key. An HKDF per request was the
 * largest cost of a SecureString read, so each thread keeps its last few
 * derivations. Plain arrays in thread-local storage: nothing to free. */
enum { DERIVE_SLOTS = 8 };

static _Thread_local struct {
    unsigned char master[LV_MASTER_KEY_LEN];
    char key_id[257];
    unsigned char key[32];
    bool used;
} derive_cache[DERIVE_SLOTS];
static _Thread_local unsigned derive_next;

static lv_err derive(const unsigned char master[LV_MASTER_KEY_LEN], const char *key_id,
                     unsigned char out[32], lv_error *err)
{
    size_t kl = strlen(key_id);
    for (unsigned i = 0; kl < sizeof derive_cache[0].key_id && i < DERIVE_SLOTS; i++) {
        if (derive_cache[i].used && CRYPTO_memcmp(derive_cache[i].master, master, LV_MASTER_KEY_LEN) == 0 &&
            strcmp(derive_cache[i].key_id, key_id) == 0) {
            memcpy(out, derive_cache[i].key, 32);
            return LV_OK;
        }
    }
    lv_err rc = derive_uncached(master, key_id, out, err);
    if (rc == LV_OK && kl < sizeof derive_cache[0].key_id) {
        unsigned i = derive_next++ % DERIVE_SLOTS;
        memcpy(derive_cache[i].master, master, LV_MASTER_KEY_LEN);
        memcpy(derive_cache[i].key_id, key_id, kl + 1);
        memcpy(derive_cache[i].key, out, 32);
        derive_cache[i].used = true;
    }
    return rc;
}

/* AES-256-GCM fetched once (see sigv4.c on OpenSSL 3's per-call lookups). */
static EVP_CIPHER *gcm_cipher;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void gcm_fetch(void)
{
    gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *gcm(void)
{
    pthread_once(&gcm_once, gcm_fetch);
    return gcm_cipher ? gcm_cipher : EVP_aes_256_gcm();
}

lv_err lv_crypto_seal(const unsigned char master[LV_MASTER_KEY_LEN], const char *key_id,
                      const void *aad, size_t aad_len, const void *pt, size_t pt_len, lv_buf *out,
                      lv_error *err)
{
    if (pt_len > INT_MAX / 2 || aad_len > INT_MAX)
        return lv_error_set(err, LV_E_TOO_BIG, "value too large to encrypt");
    unsigned char key[32], nonce[NONCE_LEN];
    lv_err rc = derive(master, key_id, key, err);
    if (rc == LV_OK)
        rc = lv_crypto_random(nonce, sizeof nonce, err);
    if (rc == LV_OK && (rc = lv_buf_reserve(out, LV_ENVELOPE_OVERHEAD + pt_len)) != LV_OK)
        lv_error_set(err, rc, "out of memory");
    if (rc != LV_OK) {
        OPENSSL_cleanse(key, sizeof key);
        return rc;
    }
    unsigned char *dst = (unsigned char *)out->data + out->len;
    dst[0] = FORMAT_V1;
    memcpy(dst + 1, nonce, NONCE_LEN);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    bool ok = ctx != NULL && EVP_EncryptInit_ex(ctx, gcm(), NULL, key, nonce) == 1 &&
              (aad_len == 0 || EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1) &&
              EVP_EncryptUpdate(ctx, dst + 1 + NONCE_LEN, &len, pt, (int)pt_len) == 1 &&
              EVP_EncryptFinal_ex(ctx, dst + 1 + NONCE_LEN + len, &fin) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, dst + 1 + NONCE_LEN + pt_len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(key, sizeof key);
    if (!ok)
        return lv_error_set(err, LV_E_INTERNAL, "encryption failed");
    out->len += LV_ENVELOPE_OVERHEAD + pt_len;
    out->data[out->len] = '\0';
    return LV_OK;
}

lv_err lv_crypto_open(const unsigned char master[LV_MASTER_KEY_LEN], const char *key_id,
                      const void *aad, size_t aad_len, const void *env, size_t env_len, lv_buf *out,
                      lv_error *err)
{
    const unsigned char *e = env;
    if (env_len < LV_ENVELOPE_OVERHEAD || e[0] != FORMAT_V1 || env_len > INT_MAX / 2 || aad_len > INT_MAX)
        return lv_error_set(err, LV_E_CORRUPT, "not a lever SecureString envelope");
    size_t ct_len = env_len - LV_ENVELOPE_OVERHEAD;
    unsigned char key[32];
    lv_err rc = derive(master, key_id, key, err);
    if (rc == LV_OK && (rc = lv_buf_reserve(out, ct_len)) != LV_OK)
        lv_error_set(err, rc, "out of memory");
    if (rc != LV_OK) {
        OPENSSL_cleanse(key, sizeof key);
        return rc;
    }
    unsigned char *dst = (unsigned char *)out->data + out->len;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    bool ok = ctx != NULL && EVP_DecryptInit_ex(ctx, gcm(), NULL, key, e + 1) == 1 &&
              (aad_len == 0 || EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1) &&
              EVP_DecryptUpdate(ctx, dst, &len, e + 1 + NONCE_LEN, (int)ct_len) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                                  (void *)(e + 1 + NONCE_LEN + ct_len)) == 1 &&
              EVP_DecryptFinal_ex(ctx, dst + len, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(key, sizeof key);
    if (!ok) {
        OPENSSL_cleanse(dst, ct_len);
        return lv_error_set(err, LV_E_CORRUPT, "SecureString envelope failed authentication");
    }
    out->len += ct_len;
    out->data[out->len] = '\0';
    return LV_OK;
}

/* ---------- base64 ---------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

lv_err lv_base64_encode(const void *p, size_t n, lv_buf *out)
{
    const unsigned char *s = p;
    lv_err rc = lv_buf_reserve(out, (n + 2) / 3 * 4);
    if (rc != LV_OK)
        return rc;
    char *d = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        *d++ = b64[v >> 18];
        *d++ = b64[(v >> 12) & 63];
        *d++ = b64[(v >> 6) & 63];
        *d++ = b64[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
        *d++ = b64[v >> 18];
        *d++ = b64[(v >> 12) & 63];
        *d++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *d++ = '=';
    }
    out->len = (size_t)(d - out->data);
    out->data[out->len] = '\0';
    return LV_OK;
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

lv_err lv_base64_decode(const char *s, size_t n, lv_buf *out)
{
    if (n % 4 != 0)
        return LV_E_VALIDATION;
    lv_err rc = lv_buf_reserve(out, n / 4 * 3);
    if (rc != LV_OK)
        return rc;
    size_t start = out->len;
    for (size_t i = 0; i < n; i += 4) {
        int a = b64val(s[i]), b = b64val(s[i + 1]);
        bool last = i + 4 == n;
        int c = last && s[i + 2] == '=' ? -2 : b64val(s[i + 2]);
        int d = last && s[i + 3] == '=' ? -2 : b64val(s[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2)) {
            out->len = start;
            out->data[start] = '\0';
            return LV_E_VALIDATION;
        }
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)(c < 0 ? 0 : c) << 6 |
                     (unsigned)(d < 0 ? 0 : d);
        /* Non-canonical padding bits are an error in strict mode. */
        if ((c == -2 && (v & 0xFFFF)) || (c >= 0 && d == -2 && (v & 0xFF))) {
            out->len = start;
            out->data[start] = '\0';
            return LV_E_VALIDATION;
        }
        out->data[out->len++] = (char)(v >> 16);
        if (c >= 0)
            out->data[out->len++] = (char)(v >> 8);
        if (d >= 0)
            out->data[out->len++] = (char)v;
    }
    out->data[out->len] = '\0';
    return LV_OK;
}
