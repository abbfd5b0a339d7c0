/* keystore.h - the access keys leverd issues besides the root key: their
 * secrets (kept sealed under the master key in the store), status and
 * attached IAM-shaped policies, with lookups cheap enough for every
 * request. Persistence and sealing are callbacks, so this module knows
 * nothing of the engine or the store. */
#ifndef LV_AUTH_KEYSTORE_H
#define LV_AUTH_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/policy_iam.h"
#include "core/buf.h"
#include "core/err.h"

enum {
    LV_KEY_ID_LEN = 20,           /* "LVAK" + 16 base32 characters */
    LV_KEY_SECRET_LEN = 40,
    LV_KEY_MAX_POLICIES = 10,
    LV_KEY_POLICY_NAME_MAX = 128,
    LV_KEY_DESCRIPTION_MAX = 256,
    LV_KEY_MAX_KEYS = 10000,
};

typedef struct lv_keystore_io {
    void *ctx;
    /* Durably stores (val != NULL) or deletes the record key. */
    lv_err (*put)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen,
                  lv_error *err);
    /* Seal / open a secret (appending to out); aad binds it to its key id. */
    lv_err (*seal)(void *ctx, const void *aad, size_t aad_len, const void *pt, size_t n,
                   lv_buf *out, lv_error *err);
    lv_err (*open)(void *ctx, const void *aad, size_t aad_len, const void *env, size_t n,
                   lv_buf *out, lv_error *err);
    /* Whether env is sealed under the newest master key. */
    bool (*current)(void *ctx, const void *aad, size_t aad_len, const void *env, size_t n);
} lv_keystore_io;

typedef struct lv_keystore lv_keystore;

lv_err lv_keystore_new(const lv_keystore_io *io, lv_keystore **out, lv_error *err);
void lv_keystore_free(lv_keystore *ks);

/* Loads one stored record ("K<akid>" key) at start. A record that does not
 * decode or whose secret does not open is an error (LV_E_CORRUPT): a
 * server that silently dropped a key would lock its owner out. */
lv_err lv_keystore_load(lv_keystore *ks, const void *key, size_t klen, const void *val,
                        size_t vlen, lv_error *err);

/* Applies a record another node wrote (val NULL: deleted) to the table:
 * the key is added, replaced or removed. Never stores anything. */
lv_err lv_keystore_apply(lv_keystore *ks, const void *key, size_t klen, const void *val,
                         size_t vlen, lv_error *err);

/* Creates an active key with no policy (so it may do nothing yet).
 * akid and secret receive the new credentials (NUL-terminated). */
lv_err lv_keystore_create(lv_keystore *ks, const char *description, int64_t now_ms,
                          char akid[LV_KEY_ID_LEN + 1], char secret[LV_KEY_SECRET_LEN + 1],
                          lv_error *err);
/* Active <-> Inactive. LV_E_NO_SUCH_ENTITY for an unknown key. */
lv_err lv_keystore_set_active(lv_keystore *ks, const char *akid, bool active, lv_error *err);
lv_err lv_keystore_delete(lv_keystore *ks, const char *akid, lv_error *err);
/* Attaches (or replaces) the named policy; the document is validated first. */
lv_err lv_keystore_put_policy(lv_keystore *ks, const char *akid, const char *name,
                              const char *doc, size_t len, lv_error *err);
lv_err lv_keystore_delete_policy(lv_keystore *ks, const char *akid, const char *name,
                                 lv_error *err);

/* A read-only view of one key for listings (valid during the callback). */
typedef struct lv_key_info {
    const char *akid;
    const char *description;   /* "" when none */
    bool active;
    int64_t created_ms;
    size_t npolicies;
    const char *const *policy_names;
    const char *const *policy_docs;
} lv_key_info;

/* Calls fn for each key in akid order (or only akid when not NULL; then
 * LV_E_NO_SUCH_ENTITY when it does not exist). Holds a read lock. */
lv_err lv_keystore_foreach(lv_keystore *ks, const char *akid,
                           void (*fn)(void *ctx, const lv_key_info *k), void *ctx, lv_error *err);

/* The secret of an active key for SigV4 verification; LV_E_UNRECOGNIZED_CLIENT
 * when the key is unknown or inactive. */
lv_err lv_keystore_secret(lv_keystore *ks, const char *akid, char *secret, size_t cap);

/* Evaluates req against the key's policies (an unknown key: implicit deny). */
lv_iam_decision lv_keystore_authorize(lv_keystore *ks, const char *akid, const lv_iam_request *req);

/* Re-seals every key secret not sealed under the newest master key and
 * stores it; *done counts them. Used by master key rotation. */
lv_err lv_keystore_rewrap(lv_keystore *ks, size_t *done, lv_error *err);

/* The record value of a key as stored (for tests and the fuzz target):
 * decodes val into its parts without opening the secret. */
lv_err lv_keystore_decode_check(const void *val, size_t vlen, lv_error *err);

#endif
