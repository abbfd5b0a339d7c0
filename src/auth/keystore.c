/* keystore.c - issued access keys: an in-memory table (sorted by key id,
 * read-mostly under a rwlock) mirrored durably in "K<akid>" records whose
 * value is a small JSON document; the secret in it is an envelope sealed
 * under the master key, never plaintext. Changes are copy-modify-store-
 * swap, serialised by one mutex, so readers never see a half-made key and
 * the table never holds a key the store does not. */
#include "auth/keystore.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

typedef struct kentry {
    char akid[LV_KEY_ID_LEN + 1];
    /* Plaintext in memory: every signature check of this key needs it. */
    char secret[LV_KEY_SECRET_LEN + 1];
    char *desc;
    bool active;
    int64_t created_ms;
    lv_buf env;               /* the sealed secret as stored */
    size_t npol;
    char *pname[LV_KEY_MAX_POLICIES];
    char *pdoc[LV_KEY_MAX_POLICIES];
    lv_iam_policy *pol[LV_KEY_MAX_POLICIES];
} kentry;

struct lv_keystore {
    lv_keystore_io io;
    pthread_rwlock_t lock;    /* the table */
    pthread_mutex_t admin;    /* serialises changes */
    kentry **keys;            /* sorted by akid */
    size_t n, cap;
};

static void kentry_free(kentry *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->npol; i++) {
        free(k->pname[i]);
        free(k->pdoc[i]);
        lv_iam_policy_free(k->pol[i]);
    }
    free(k->desc);
    lv_buf_free(&k->env);
    memset(k, 0, sizeof *k);
    free(k);
}

lv_err lv_keystore_new(const lv_keystore_io *io, lv_keystore **out, lv_error *err)
{
    lv_keystore *ks = calloc(1, sizeof *ks);
    if (ks == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    ks->io = *io;
    pthread_rwlock_init(&ks->lock, NULL);
    pthread_mutex_init(&ks->admin, NULL);
    *out = ks;
    return LV_OK;
}

void lv_keystore_free(lv_keystore *ks)
{
    if (ks == NULL)
        return;
    for (size_t i = 0; i < ks->n; i++)
        kentry_free(ks->keys[i]);
    free(ks->keys);
    pthread_rwlock_destroy(&ks->lock);
    pthread_mutex_destroy(&ks->admin);
    free(ks);
}

/* Index of akid, or -(insertion point) - 1. Caller holds a lock. */
static long find(const lv_keystore *ks, const char *akid)
{
    size_t lo = 0, hi = ks->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ks->keys[mid]->akid, akid);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

static lv_err aad_of(const char *akid, lv_buf *aad)
{
    lv_buf_reset(aad);
    lv_err rc = lv_buf_putc(aad, 'K');
    return rc == LV_OK ? lv_buf_puts(aad, akid) : rc;
}

static bool policy_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LV_KEY_POLICY_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("+=,.@_-", *s)))
            return false;
    return true;
}

static bool akid_ok(const char *s)
{
    if (strlen(s) != LV_KEY_ID_LEN || strncmp(s, "LVAK", 4) != 0)
        return false;
    for (s += 4; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '2' && *s <= '7')))
            return false;
    return true;
}

/* ---------- record encoding ---------- */

static lv_err encode(const kentry *k, lv_buf *out)
{
    lv_buf b64 = LV_BUF_INIT;
    lv_err rc = lv_base64_encode(k->env.data ? k->env.data : "", k->env.len, &b64);
    json_t *pols = json_array();
    json_t *o = NULL;
    if (rc == LV_OK && pols != NULL)
        o = json_pack("{s:i, s:s, s:I, s:s, s:s, s:o}", "v", 1, "Status", k->active ? "Active" : "Inactive",
                      "Created", (json_int_t)k->created_ms, "Description", k->desc ? k->desc : "", "Secret",
                      b64.data ? b64.data : "", "Policies", pols);
    else
        json_decref(pols);
    lv_buf_free(&b64);
    if (o == NULL)
        return rc != LV_OK ? rc : LV_E_NOMEM;
    for (size_t i = 0; i < k->npol; i++) {
        json_t *p = json_pack("{s:s, s:s}", "Name", k->pname[i], "Document", k->pdoc[i]);
        if (p == NULL || json_array_append_new(json_object_get(o, "Policies"), p) != 0) {
            json_decref(o);
            return LV_E_NOMEM;
        }
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL)
        return LV_E_NOMEM;
    lv_buf_reset(out);
    rc = lv_buf_puts(out, text);
    free(text);
    return rc;
}

/* Decodes a record value into k (everything but the plaintext secret). */
static lv_err decode(const void *val, size_t vlen, kentry *k, lv_error *err)
{
    json_error_t je;
    json_t *o = json_loadb(val, vlen, JSON_REJECT_DUPLICATES, &je);
    lv_err rc = LV_OK;
    if (!json_is_object(o)) {
        rc = lv_error_set(err, LV_E_CORRUPT, "access key record is not a JSON object");
        goto done;
    }
    json_t *v = json_object_get(o, "v"), *st = json_object_get(o, "Status"),
           *cr = json_object_get(o, "Created"), *de = json_object_get(o, "Description"),
           *se = json_object_get(o, "Secret"), *po = json_object_get(o, "Policies");
    if (!json_is_integer(v) || json_integer_value(v) != 1 || !json_is_string(st) || !json_is_integer(cr) ||
        !json_is_string(de) || !json_is_string(se) || !json_is_array(po) ||
        json_array_size(po) > LV_KEY_MAX_POLICIES || json_string_length(de) > LV_KEY_DESCRIPTION_MAX) {
        rc = lv_error_set(err, LV_E_CORRUPT, "access key record has missing or malformed fields");
        goto done;
    }
    if (strcmp(json_string_value(st), "Active") == 0)
        k->active = true;
    else if (strcmp(json_string_value(st), "Inactive") == 0)
        k->active = false;
    else {
        rc = lv_error_set(err, LV_E_CORRUPT, "access key record has an unknown status");
        goto done;
    }
    k->created_ms = (int64_t)json_integer_value(cr);
    if ((k->desc = strdup(json_string_value(de))) == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto done;
    }
    if (lv_base64_decode(json_string_value(se), json_string_length(se), &k->env) != LV_OK ||
        k->env.len < LV_ENVELOPE_OVERHEAD) {
        rc = lv_error_set(err, LV_E_CORRUPT, "access key record has a malformed secret");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(po); i++) {
        json_t *p = json_array_get(po, i);
        json_t *nm = json_object_get(p, "Name"), *doc = json_object_get(p, "Document");
        if (!json_is_string(nm) || !json_is_string(doc) || !policy_name_ok(json_string_value(nm))) {
            rc = lv_error_set(err, LV_E_CORRUPT, "access key record has a malformed policy");
            goto done;
        }
        lv_iam_policy *pol;
        if ((rc = lv_iam_policy_parse(json_string_value(doc), json_string_length(doc), &pol, err)) != LV_OK) {
            if (rc != LV_E_NOMEM)
                rc = LV_E_CORRUPT;
            goto done;
        }
        k->pol[i] = pol;
        k->pname[i] = strdup(json_string_value(nm));
        k->pdoc[i] = strdup(json_string_value(doc));
        k->npol = i + 1;
        if (k->pname[i] == NULL || k->pdoc[i] == NULL) {
            rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
            goto done;
        }
    }
done:
    json_decref(o);
    return rc;
}

lv_err lv_keystore_decode_check(const void *val, size_t vlen, lv_error *err)
{
    kentry *k = calloc(1, sizeof *k);
    if (k == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    lv_err rc = decode(val, vlen, k, err);
    kentry_free(k);
    return rc;
}

/* Opens k->env into k->secret. */
static lv_err open_secret(lv_keystore *ks, kentry *k, lv_error *err)
{
    lv_buf aad = LV_BUF_INIT, pt = LV_BUF_INIT;
    lv_err rc = aad_of(k->akid, &aad);
    if (rc == LV_OK)
        rc = ks->io.open(ks->io.ctx, aad.data, aad.len, k->env.data, k->env.len, &pt, err);
    if (rc == LV_OK && pt.len != LV_KEY_SECRET_LEN)
        rc = lv_error_set(err, LV_E_CORRUPT, "access key %s has a secret of the wrong length", k->akid);
    if (rc == LV_OK)
        memcpy(k->secret, pt.data, LV_KEY_SECRET_LEN + 1);
    else if (rc == LV_E_CORRUPT && err && strstr(err->msg, k->akid) == NULL)
        lv_error_set(err, rc, "the secret of access key %s does not open with the master key", k->akid);
    if (pt.data)
        memset(pt.data, 0, pt.len);
    lv_buf_free(&pt);
    lv_buf_free(&aad);
    return rc;
}

static lv_err seal_secret(lv_keystore *ks, kentry *k, lv_error *err)
{
    lv_buf aad = LV_BUF_INIT;
    lv_err rc = aad_of(k->akid, &aad);
    lv_buf_reset(&k->env);
    if (rc == LV_OK)
        rc = ks->io.seal(ks->io.ctx, aad.data, aad.len, k->secret, LV_KEY_SECRET_LEN, &k->env, err);
    lv_buf_free(&aad);
    return rc;
}

/* Inserts k at the position find() reported. Caller holds the write lock. */
static lv_err insert_at(lv_keystore *ks, size_t pos, kentry *k)
{
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        kentry **nk = realloc(ks->keys, cap * sizeof *nk);
        if (nk == NULL)
            return LV_E_NOMEM;
        ks->keys = nk;
        ks->cap = cap;
    }
    memmove(ks->keys + pos + 1, ks->keys + pos, (ks->n - pos) * sizeof *ks->keys);
    ks->keys[pos] = k;
    ks->n++;
    return LV_OK;
}

lv_err lv_keystore_load(lv_keystore *ks, const void *key, size_t klen, const void *val, size_t vlen,
                        lv_error *err)
{
    const char *kk = key;
    if (klen != 1 + LV_KEY_ID_LEN || kk[0] != 'K')
        return lv_error_set(err, LV_E_CORRUPT, "malformed access key record key");
    kentry *k = calloc(1, sizeof *k);
    if (k == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    memcpy(k->akid, kk + 1, LV_KEY_ID_LEN);
    lv_err rc = akid_ok(k->akid) ? LV_OK : lv_error_set(err, LV_E_CORRUPT, "malformed access key id in the store");
    if (rc == LV_OK)
        rc = decode(val, vlen, k, err);
    if (rc == LV_OK)
        rc = open_secret(ks, k, err);
    if (rc == LV_OK) {
        pthread_rwlock_wrlock(&ks->lock);
        long at = find(ks, k->akid);
        if (at >= 0)
            rc = lv_error_set(err, LV_E_CORRUPT, "access key %s stored twice", k->akid);
        else if ((rc = insert_at(ks, (size_t)(-at - 1), k)) != LV_OK)
            lv_error_set(err, rc, "out of memory");
        pthread_rwlock_unlock(&ks->lock);
    }
    if (rc != LV_OK)
        kentry_free(k);
    return rc;
}

lv_err lv_keystore_apply(lv_keystore *ks, const void *key, size_t klen, const void *val, size_t vlen,
                         lv_error *err)
{
    const char *kk = key;
    if (klen != 1 + LV_KEY_ID_LEN || kk[0] != 'K')
        return lv_error_set(err, LV_E_CORRUPT, "malformed access key record key");
    char akid[LV_KEY_ID_LEN + 1];
    memcpy(akid, kk + 1, LV_KEY_ID_LEN);
    akid[LV_KEY_ID_LEN] = '\0';
    kentry *k = NULL;
    lv_err rc = LV_OK;
    if (val != NULL) {
        if ((k = calloc(1, sizeof *k)) == NULL)
            return lv_error_set(err, LV_E_NOMEM, "out of memory");
        memcpy(k->akid, akid, sizeof k->akid);
        rc = akid_ok(k->akid) ? LV_OK : lv_error_set(err, LV_E_CORRUPT, "malformed access key id in the store");
        if (rc == LV_OK)
            rc = decode(val, vlen, k, err);
        if (rc == LV_OK)
            rc = open_secret(ks, k, err);
        if (rc != LV_OK) {
            kentry_free(k);
            return rc;
        }
    }
    pthread_rwlock_wrlock(&ks->lock);
    long at = find(ks, akid);
    kentry *old = NULL;
    if (at >= 0) {
        old = ks->keys[at];
        if (k != NULL) {
            ks->keys[at] = k;
        } else {
            memmove(ks->keys + at, ks->keys + at + 1, (ks->n - (size_t)at - 1) * sizeof *ks->keys);
            ks->n--;
        }
    } else if (k != NULL && (rc = insert_at(ks, (size_t)(-at - 1), k)) != LV_OK) {
        old = k;
        lv_error_set(err, rc, "out of memory");
    }
    pthread_rwlock_unlock(&ks->lock);
    kentry_free(old);
    return rc;
}

/* ---------- changes ---------- */

static kentry *kentry_clone(const kentry *k, lv_error *err)
{
    kentry *c = calloc(1, sizeof *c);
    if (c == NULL)
        goto nomem;
    memcpy(c->akid, k->akid, sizeof c->akid);
    memcpy(c->secret, k->secret, sizeof c->secret);
    c->active = k->active;
    c->created_ms = k->created_ms;
    if ((c->desc = strdup(k->desc ? k->desc : "")) == NULL)
        goto nomem;
    if (lv_buf_append(&c->env, k->env.data ? k->env.data : "", k->env.len) != LV_OK)
        goto nomem;
    for (size_t i = 0; i < k->npol; i++) {
        c->pname[i] = strdup(k->pname[i]);
        c->pdoc[i] = strdup(k->pdoc[i]);
        c->npol = i + 1;
        if (c->pname[i] == NULL || c->pdoc[i] == NULL ||
            lv_iam_policy_parse(c->pdoc[i], strlen(c->pdoc[i]), &c->pol[i], err) != LV_OK)
            goto nomem;
    }
    return c;
nomem:
    kentry_free(c);
    lv_error_set(err, LV_E_NOMEM, "out of memory");
    return NULL;
}

static lv_err store_entry(lv_keystore *ks, const kentry *k, bool remove, lv_error *err)
{
    char key[1 + LV_KEY_ID_LEN];
    key[0] = 'K';
    memcpy(key + 1, k->akid, LV_KEY_ID_LEN);
    if (remove)
        return ks->io.put(ks->io.ctx, key, sizeof key, NULL, 0, err);
    lv_buf val = LV_BUF_INIT;
    lv_err rc = encode(k, &val);
    if (rc != LV_OK)
        rc = lv_error_set(err, rc, "out of memory");
    else
        rc = ks->io.put(ks->io.ctx, key, sizeof key, val.data, val.len, err);
    lv_buf_free(&val);
    return rc;
}

/* Common frame of a change to an existing key: clone under the admin
 * mutex, let edit() change the clone, store it, swap it in. */
typedef lv_err (*edit_fn)(kentry *k, void *arg, lv_error *err);

static lv_err change(lv_keystore *ks, const char *akid, edit_fn edit, void *arg, bool remove, lv_error *err)
{
    pthread_mutex_lock(&ks->admin);
    pthread_rwlock_rdlock(&ks->lock);
    long at = find(ks, akid);
    kentry *c = NULL;
    lv_err rc = LV_OK;
    if (at < 0)
        rc = lv_error_set(err, LV_E_NO_SUCH_ENTITY, "The access key with id %s cannot be found.", akid);
    else if (!remove && (c = kentry_clone(ks->keys[at], err)) == NULL)
        rc = LV_E_NOMEM;
    pthread_rwlock_unlock(&ks->lock);
    if (rc == LV_OK && !remove)
        rc = edit(c, arg, err);
    if (rc == LV_OK)
        rc = store_entry(ks, remove ? ks->keys[at] : c, remove, err);
    if (rc == LV_OK) {
        /* Found again: another node's change may have been applied
         * (lv_keystore_apply) since the read lock was let go. */
        pthread_rwlock_wrlock(&ks->lock);
        at = find(ks, akid);
        kentry *old = at >= 0 ? ks->keys[at] : NULL;
        if (remove && at >= 0) {
            memmove(ks->keys + at, ks->keys + at + 1, (ks->n - (size_t)at - 1) * sizeof *ks->keys);
            ks->n--;
        } else if (!remove && at >= 0) {
            ks->keys[at] = c;
            c = NULL;
        } else if (!remove && insert_at(ks, (size_t)(-at - 1), c) == LV_OK) {
            c = NULL;
        }
        pthread_rwlock_unlock(&ks->lock);
        kentry_free(old);
    }
    kentry_free(c);
    pthread_mutex_unlock(&ks->admin);
    return rc;
}

static lv_err edit_active(kentry *k, void *arg, lv_error *err)
{
    (void)err;
    k->active = *(bool *)arg;
    return LV_OK;
}

lv_err lv_keystore_set_active(lv_keystore *ks, const char *akid, bool active, lv_error *err)
{
    return change(ks, akid, edit_active, &active, false, err);
}

lv_err lv_keystore_delete(lv_keystore *ks, const char *akid, lv_error *err)
{
    return change(ks, akid, NULL, NULL, true, err);
}

typedef struct pol_arg {
    const char *name;
    const char *doc;
    size_t len;
    lv_iam_policy *parsed;
} pol_arg;

static lv_err edit_put_policy(kentry *k, void *arg, lv_error *err)
{
    pol_arg *a = arg;
    size_t i;
    for (i = 0; i < k->npol; i++)
        if (strcmp(k->pname[i], a->name) == 0)
            break;
    if (i == k->npol && k->npol == LV_KEY_MAX_POLICIES)
        return lv_error_set(err, LV_E_LIMIT_EXCEEDED, "Cannot exceed quota for PoliciesPerKey: %d.",
                            LV_KEY_MAX_POLICIES);
    char *doc = malloc(a->len + 1);
    char *name = strdup(a->name);
    if (doc == NULL || name == NULL) {
        free(doc);
        free(name);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    memcpy(doc, a->doc, a->len);
    doc[a->len] = '\0';
    if (i < k->npol) {
        free(k->pname[i]);
        free(k->pdoc[i]);
        lv_iam_policy_free(k->pol[i]);
    } else {
        k->npol++;
    }
    k->pname[i] = name;
    k->pdoc[i] = doc;
    k->pol[i] = a->parsed;
    a->parsed = NULL;
    return LV_OK;
}

lv_err lv_keystore_put_policy(lv_keystore *ks, const char *akid, const char *name, const char *doc,
                              size_t len, lv_error *err)
{
    if (!policy_name_ok(name))
        return lv_error_set(err, LV_E_VALIDATION,
                            "The policy name must be 1 to %d characters of letters, digits and +=,.@_-.",
                            LV_KEY_POLICY_NAME_MAX);
    if (memchr(doc, '\0', len) != NULL)
        return lv_error_set(err, LV_E_MALFORMED_POLICY, "The policy document contains a NUL byte.");
    pol_arg a = {name, doc, len, NULL};
    lv_err rc = lv_iam_policy_parse(doc, len, &a.parsed, err);
    if (rc == LV_OK)
        rc = change(ks, akid, edit_put_policy, &a, false, err);
    lv_iam_policy_free(a.parsed);
    return rc;
}

static lv_err edit_delete_policy(kentry *k, void *arg, lv_error *err)
{
    const char *name = arg;
    for (size_t i = 0; i < k->npol; i++) {
        if (strcmp(k->pname[i], name) != 0)
            continue;
        free(k->pname[i]);
        free(k->pdoc[i]);
        lv_iam_policy_free(k->pol[i]);
        for (size_t j = i + 1; j < k->npol; j++) {
            k->pname[j - 1] = k->pname[j];
            k->pdoc[j - 1] = k->pdoc[j];
            k->pol[j - 1] = k->pol[j];
        }
        k->npol--;
        return LV_OK;
    }
    return lv_error_set(err, LV_E_NO_SUCH_ENTITY, "The policy %s is not attached to access key %s.", name,
                        k->akid);
}

lv_err lv_keystore_delete_policy(lv_keystore *ks, const char *akid, const char *name, lv_error *err)
{
    return change(ks, akid, edit_delete_policy, (void *)name, false, err);
}

lv_err lv_keystore_create(lv_keystore *ks, const char *description, int64_t now_ms,
                          char akid[LV_KEY_ID_LEN + 1], char secret[LV_KEY_SECRET_LEN + 1], lv_error *err)
{
    if (description != NULL && strlen(description) > LV_KEY_DESCRIPTION_MAX)
        return lv_error_set(err, LV_E_VALIDATION, "The description is longer than %d characters.",
                            LV_KEY_DESCRIPTION_MAX);
    kentry *k = calloc(1, sizeof *k);
    if (k == NULL || (k->desc = strdup(description ? description : "")) == NULL) {
        kentry_free(k);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    k->active = true;
    k->created_ms = now_ms;
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char rnd[16 + LV_KEY_SECRET_LEN];
    pthread_mutex_lock(&ks->admin);
    lv_err rc = LV_OK;
    for (int attempt = 0;; attempt++) {
        if ((rc = lv_crypto_random(rnd, sizeof rnd, err)) != LV_OK)
            break;
        memcpy(k->akid, "LVAK", 4);
        /* 256 is a multiple of 32 and 64, so the modulo is unbiased. */
        for (int i = 0; i < 16; i++)
            k->akid[4 + i] = b32[rnd[i] % 32];
        k->akid[LV_KEY_ID_LEN] = '\0';
        for (int i = 0; i < LV_KEY_SECRET_LEN; i++)
            k->secret[i] = b64[rnd[16 + i] % 64];
        k->secret[LV_KEY_SECRET_LEN] = '\0';
        pthread_rwlock_rdlock(&ks->lock);
        bool taken = find(ks, k->akid) >= 0;
        size_t count = ks->n;
        pthread_rwlock_unlock(&ks->lock);
        if (count >= LV_KEY_MAX_KEYS) {
            rc = lv_error_set(err, LV_E_LIMIT_EXCEEDED, "Cannot exceed quota for AccessKeys: %d.", LV_KEY_MAX_KEYS);
            break;
        }
        if (!taken)
            break;
        if (attempt > 8) {
            rc = lv_error_set(err, LV_E_INTERNAL, "cannot pick a fresh access key id");
            break;
        }
    }
    memset(rnd, 0, sizeof rnd);
    if (rc == LV_OK)
        rc = seal_secret(ks, k, err);
    if (rc == LV_OK)
        rc = store_entry(ks, k, false, err);
    if (rc == LV_OK) {
        pthread_rwlock_wrlock(&ks->lock);
        long at = find(ks, k->akid);
        rc = insert_at(ks, (size_t)(-at - 1), k);
        pthread_rwlock_unlock(&ks->lock);
        if (rc != LV_OK) {
            /* Stored but not in memory: take it back out of the store. */
            store_entry(ks, k, true, NULL);
            lv_error_set(err, rc, "out of memory");
        }
    }
    if (rc == LV_OK) {
        memcpy(akid, k->akid, LV_KEY_ID_LEN + 1);
        memcpy(secret, k->secret, LV_KEY_SECRET_LEN + 1);
    } else {
        kentry_free(k);
    }
    pthread_mutex_unlock(&ks->admin);
    return rc;
}

/* ---------- lookups ---------- */

lv_err lv_keystore_foreach(lv_keystore *ks, const char *akid, void (*fn)(void *ctx, const lv_key_info *k),
                           void *ctx, lv_error *err)
{
    pthread_rwlock_rdlock(&ks->lock);
    lv_err rc = LV_OK;
    size_t from = 0, to = ks->n;
    if (akid != NULL) {
        long at = find(ks, akid);
        if (at < 0)
            rc = lv_error_set(err, LV_E_NO_SUCH_ENTITY, "The access key with id %s cannot be found.", akid);
        else {
            from = (size_t)at;
            to = from + 1;
        }
    }
    for (size_t i = from; rc == LV_OK && i < to; i++) {
        const kentry *k = ks->keys[i];
        lv_key_info info = {k->akid, k->desc ? k->desc : "", k->active, k->created_ms, k->npol,
                            (const char *const *)k->pname, (const char *const *)k->pdoc};
        fn(ctx, &info);
    }
    pthread_rwlock_unlock(&ks->lock);
    return rc;
}

lv_err lv_keystore_secret(lv_keystore *ks, const char *akid, char *secret, size_t cap)
{
    lv_err rc = LV_E_UNRECOGNIZED_CLIENT;
    pthread_rwlock_rdlock(&ks->lock);
    long at = find(ks, akid);
    if (at >= 0 && ks->keys[at]->active && cap > LV_KEY_SECRET_LEN) {
        memcpy(secret, ks->keys[at]->secret, LV_KEY_SECRET_LEN + 1);
        rc = LV_OK;
    }
    pthread_rwlock_unlock(&ks->lock);
    return rc;
}

lv_iam_decision lv_keystore_authorize(lv_keystore *ks, const char *akid, const lv_iam_request *req)
{
    lv_iam_decision d = LV_IAM_IMPLICIT_DENY;
    pthread_rwlock_rdlock(&ks->lock);
    long at = find(ks, akid);
    if (at >= 0 && ks->keys[at]->active)
        d = lv_iam_eval((const lv_iam_policy *const *)ks->keys[at]->pol, ks->keys[at]->npol, req);
    pthread_rwlock_unlock(&ks->lock);
    return d;
}

static lv_err edit_rewrap(kentry *k, void *arg, lv_error *err)
{
    lv_keystore *ks = arg;
    return seal_secret(ks, k, err);
}

lv_err lv_keystore_rewrap(lv_keystore *ks, size_t *done, lv_error *err)
{
    *done = 0;
    lv_buf aad = LV_BUF_INIT;
    lv_err rc = LV_OK;
    for (size_t i = 0;; i++) {
        char akid[LV_KEY_ID_LEN + 1];
        bool stale = false;
        pthread_rwlock_rdlock(&ks->lock);
        bool more = i < ks->n;
        if (more) {
            const kentry *k = ks->keys[i];
            memcpy(akid, k->akid, sizeof akid);
            rc = aad_of(akid, &aad);
            stale = rc == LV_OK && !ks->io.current(ks->io.ctx, aad.data, aad.len, k->env.data, k->env.len);
        }
        pthread_rwlock_unlock(&ks->lock);
        if (!more || rc != LV_OK)
            break;
        if (!stale)
            continue;
        /* A key deleted meanwhile is simply gone: nothing to re-wrap. */
        rc = change(ks, akid, edit_rewrap, ks, false, err);
        if (rc == LV_E_NO_SUCH_ENTITY) {
            rc = LV_OK;
            i--;
            continue;
        }
        if (rc != LV_OK)
            break;
        (*done)++;
    }
    lv_buf_free(&aad);
    return rc;
}
