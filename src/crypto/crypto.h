/* crypto.h - SecureString envelopes (AES-256-GCM) and the master key file.
 *
 * An envelope is: 1 byte format version (1), 12 bytes random nonce,
 * ciphertext (same length as the plaintext), 16 bytes GCM tag. The data
 * key is derived from the master key and the KeyId with HKDF-SHA256, so
 * values under different KeyIds use different keys. The caller's "aad"
 * (lever passes region, name and version) is authenticated, so an envelope
 * copied to another parameter or version fails to open. */
#ifndef LV_CRYPTO_CRYPTO_H
#define LV_CRYPTO_CRYPTO_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum { LV_MASTER_KEY_LEN = 32, LV_ENVELOPE_OVERHEAD = 1 + 12 + 16 };

/* Reads the 32-byte master key from path; when the file does not exist,
 * creates it (mode 0600, random key, fsync'd, written atomically) first.
 * The file holds the key as 64 hex characters and a newline. A file with
 * any other content is an error (LV_E_CORRUPT), never silently replaced. */
lv_err lv_crypto_master_key_load(const char *path,
                                 unsigned char key[LV_MASTER_KEY_LEN],
                                 lv_error *err);

/* Encrypts pt under (master, key_id) and appends the envelope to out. */
lv_err lv_crypto_seal(const unsigned char master[LV_MASTER_KEY_LEN],
                      const char *key_id, const void *aad, size_t aad_len,
                      const void *pt, size_t pt_len, lv_buf *out,
                      lv_error *err);

/* Decrypts an envelope made by lv_crypto_seal with the same key_id and aad
 * and appends the plaintext to out. A wrong key, aad or any altered byte
 * gives LV_E_CORRUPT. */
lv_err lv_crypto_open(const unsigned char master[LV_MASTER_KEY_LEN],
                      const char *key_id, const void *aad, size_t aad_len,
                      const void *env, size_t env_len, lv_buf *out,
                      lv_error *err);

/* Fills p with n cryptographically random bytes. */
lv_err lv_crypto_random(void *p, size_t n, lv_error *err);

/* Base64 (standard alphabet, padded). Appends to out. */
lv_err lv_base64_encode(const void *p, size_t n, lv_buf *out);
/* Strict decode: rejects bad characters and bad padding (LV_E_VALIDATION). */
lv_err lv_base64_decode(const char *s, size_t n, lv_buf *out);

/* Lowercase hex SHA-256 of p into out[65]. */
void lv_sha256_hex(const void *p, size_t n, char out[65]);

#endif
