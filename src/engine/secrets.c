/* secrets.c - SecureString sealing under the master key, the key check
 * record, and online master key rotation (re-wrapping through the writer). */
#include "engine/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/record.h"
#include "crypto/crypto.h"
#include "store/store.h"

/* ---------- SecureString sealing ---------- */

lv_err lv_eng_build_aad(const char *region, const char *name, uint32_t version, lv_buf *aad)
{
    unsigned char v[4] = {(unsigned char)(version >> 24), (unsigned char)(version >> 16),
                          (unsigned char)(version >> 8), (unsigned char)version};
    lv_err rc = lv_buf_append(aad, region, strlen(region) + 1);
    if (rc == LV_OK)
        rc = lv_buf_append(aad, name, strlen(name) + 1);
    if (rc == LV_OK)
        rc = lv_buf_append(aad, v, 4);
    return rc;
}

lv_err lv_engine_seal(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                      const void *pt, size_t n, lv_buf *out, lv_error *err)
{
    pthread_rwlock_rdlock(&e->keylock);
    lv_err rc = lv_crypto_seal(e->master[e->has_next], key_id, aad, aad_len, pt, n, out, err);
    pthread_rwlock_unlock(&e->keylock);
    return rc;
}

lv_err lv_engine_unseal(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                        const void *env, size_t n, lv_buf *out, lv_error *err)
{
    pthread_rwlock_rdlock(&e->keylock);
    size_t before = out->len;
    lv_err rc = lv_crypto_open(e->master[e->has_next], key_id, aad, aad_len, env, n, out, err);
    if (rc == LV_E_CORRUPT && e->has_next) {
        /* GCM's tag makes a wrong key fail cleanly, so trying the older
         * key of a rotation in progress is safe. */
        out->len = before;
        if (out->data)
            out->data[before] = '\0';
        lv_error_clear(err);
        rc = lv_crypto_open(e->master[0], key_id, aad, aad_len, env, n, out, err);
    }
    pthread_rwlock_unlock(&e->keylock);
    return rc;
}

bool lv_engine_sealed_current(lv_engine *e, const char *key_id, const void *aad, size_t aad_len,
                              const void *env, size_t n)
{
    lv_buf tmp = LV_BUF_INIT;
    pthread_rwlock_rdlock(&e->keylock);
    bool ok = lv_crypto_open(e->master[e->has_next], key_id, aad, aad_len, env, n, &tmp, NULL) == LV_OK;
    pthread_rwlock_unlock(&e->keylock);
    if (tmp.data)
        memset(tmp.data, 0, tmp.len);
    lv_buf_free(&tmp);
    return ok;
}

lv_err lv_eng_seal_value(void *ctx, const char *region, const char *name, uint32_t version,
                         const char *key_id, const char *pt, size_t pt_len, char **out,
                         size_t *out_len, lv_error *err)
{
    lv_engine *e = ctx;
    lv_buf aad = LV_BUF_INIT, env = LV_BUF_INIT;
    lv_err rc = lv_eng_build_aad(region, name, version, &aad);
    if (rc == LV_OK)
        rc = lv_engine_seal(e, key_id, aad.data, aad.len, pt, pt_len, &env, err);
    lv_buf_free(&aad);
    if (rc != LV_OK) {
        lv_buf_free(&env);
        return rc;
    }
    *out = lv_buf_steal(&env, out_len);
    return *out ? LV_OK : LV_E_NOMEM;
}

lv_err lv_engine_decrypt(lv_engine *e, const lv_param *p, const lv_version *v, lv_buf *out,
                         lv_error *err)
{
    lv_buf aad = LV_BUF_INIT;
    lv_err rc = lv_eng_build_aad(p->region, p->name, v->version, &aad);
    if (rc == LV_OK)
        rc = lv_engine_unseal(e, v->key_id ? v->key_id : LV_DEFAULT_KEY_ID, aad.data, aad.len,
                              v->value, v->value_len, out, err);
    lv_buf_free(&aad);
    return rc;
}

lv_err lv_eng_plan_rewrap(lv_engine *e, const lv_param *cur, lv_param **next, lv_error *err)
{
    *next = NULL;
    lv_buf aad = LV_BUF_INIT, pt = LV_BUF_INIT, env = LV_BUF_INIT;
    lv_err rc = LV_OK;
    for (unsigned i = 0; i < cur->nversions && rc == LV_OK; i++) {
        const lv_version *v = cur->versions[i];
        if (v->type != LV_TYPE_SECURE_STRING)
            continue;
        const char *kid = v->key_id ? v->key_id : LV_DEFAULT_KEY_ID;
        lv_buf_reset(&aad);
        if ((rc = lv_eng_build_aad(cur->region, cur->name, v->version, &aad)) != LV_OK)
            break;
        if (lv_engine_sealed_current(e, kid, aad.data, aad.len, v->value, v->value_len))
            continue;
        lv_buf_reset(&pt);
        lv_buf_reset(&env);
        if ((rc = lv_engine_unseal(e, kid, aad.data, aad.len, v->value, v->value_len, &pt, err)) != LV_OK ||
            (rc = lv_engine_seal(e, kid, aad.data, aad.len, pt.data ? pt.data : "", pt.len, &env, err)) != LV_OK)
            break;
        if (*next == NULL && (*next = lv_param_clone(cur)) == NULL) {
            rc = LV_E_NOMEM;
            break;
        }
        lv_version *nv = lv_param_edit_version(*next, i);
        if (nv == NULL) {
            rc = LV_E_NOMEM;
            break;
        }
        size_t elen;
        char *data = lv_buf_steal(&env, &elen);
        if (data == NULL) {
            rc = LV_E_NOMEM;
            break;
        }
        free(nv->value);
        nv->value = data;
        nv->value_len = elen;
    }
    if (pt.data)
        memset(pt.data, 0, pt.len);
    lv_buf_free(&pt);
    lv_buf_free(&aad);
    lv_buf_free(&env);
    if (rc != LV_OK) {
        lv_param_free(*next);
        *next = NULL;
        if (err && err->msg[0] == '\0')
            lv_error_set(err, rc, "out of memory");
    }
    return rc;
}

/* ---------- master keys ---------- */

/* A fixed plaintext sealed under the master key and stored as "Mkeycheck":
 * a wrong or regenerated key file is refused at start instead of sealing
 * new values under a key that opens none of the old ones. */
static const char KEYCHECK_ID[] = "lever:keycheck";
static const char KEYCHECK_PT[] = "lever master key check v1";

static bool keycheck_opens(const unsigned char key[LV_MASTER_KEY_LEN], const char *env, size_t n)
{
    lv_buf pt = LV_BUF_INIT;
    bool ok = lv_crypto_open(key, KEYCHECK_ID, "Mkeycheck", 9, env, n, &pt, NULL) == LV_OK &&
              pt.len == sizeof KEYCHECK_PT - 1 && memcmp(pt.data, KEYCHECK_PT, pt.len) == 0;
    lv_buf_free(&pt);
    return ok;
}

static lv_err write_keycheck(lv_engine *e, bool via_writer, lv_error *err)
{
    lv_buf env = LV_BUF_INIT;
    lv_err rc = lv_engine_seal(e, KEYCHECK_ID, "Mkeycheck", 9, KEYCHECK_PT, sizeof KEYCHECK_PT - 1, &env, err);
    if (rc == LV_OK) {
        /* Written before the writer runs, on a shared store also to the
         * revision record: other nodes' conditional commits then see that
         * a commit happened (its value, 0, never raises a revision). */
        static const unsigned char zero[8];
        lv_store_op op[2] = {{"Mkeycheck", 9, env.data, env.len}, {"Mrevision", 9, zero, 8}};
        rc = via_writer ? lv_engine_aux_write(e, op, 1, err)
                        : lv_store_commit(e->store, op, e->shared ? 2 : 1, err);
    }
    lv_buf_free(&env);
    return rc;
}

/* Loads the master key (and the new key of an unfinished rotation) after
 * the store, so that a store which already holds sealed data never gets a
 * freshly generated key in place of a missing one. */
lv_err lv_eng_load_keys(lv_engine *e, lv_error *err)
{
    if (e->keycheck != NULL && access(e->master_path, F_OK) != 0 && errno == ENOENT)
        return lv_error_set(err, LV_E_CORRUPT,
                            "master key file %s is missing, but this store holds data sealed under a master "
                            "key: restore the key file (see docs/security.md) instead of starting with a new one",
                            e->master_path);
    lv_err rc = lv_crypto_master_key_load(e->master_path, e->master[0], err);
    if (rc != LV_OK)
        return rc;
    if (access(e->next_path, F_OK) == 0) {
        if ((rc = lv_crypto_master_key_load(e->next_path, e->master[1], err)) != LV_OK)
            return rc;
        e->has_next = true;
        fprintf(stderr, "leverd: found %s: a master key rotation was interrupted; it will be finished\n",
                e->next_path);
    }
    if (e->keycheck == NULL)
        return write_keycheck(e, false, err);
    if (!keycheck_opens(e->master[0], e->keycheck, e->keycheck_len) &&
        !(e->has_next && keycheck_opens(e->master[1], e->keycheck, e->keycheck_len)))
        return lv_error_set(err, LV_E_CORRUPT,
                            "the master key in %s does not open this store's data (it is not the key the "
                            "store was sealed with)",
                            e->master_path);
    return LV_OK;
}

bool lv_engine_rotating(lv_engine *e)
{
    pthread_rwlock_rdlock(&e->keylock);
    bool r = e->has_next;
    pthread_rwlock_unlock(&e->keylock);
    return r;
}

lv_err lv_engine_rotate_begin(lv_engine *e, lv_error *err)
{
    unsigned char k[LV_MASTER_KEY_LEN];
    /* Creates the file (random, 0600, fsync'd, atomically) when absent. */
    lv_err rc = lv_crypto_master_key_load(e->next_path, k, err);
    if (rc != LV_OK)
        return rc;
    pthread_rwlock_wrlock(&e->keylock);
    memcpy(e->master[1], k, sizeof k);
    e->has_next = true;
    pthread_rwlock_unlock(&e->keylock);
    memset(k, 0, sizeof k);
    return LV_OK;
}

static bool param_needs_rewrap(lv_engine *e, const lv_param *p)
{
    lv_buf aad = LV_BUF_INIT;
    bool stale = false;
    for (unsigned i = 0; i < p->nversions && !stale; i++) {
        const lv_version *v = p->versions[i];
        if (v->type != LV_TYPE_SECURE_STRING)
            continue;
        lv_buf_reset(&aad);
        if (lv_eng_build_aad(p->region, p->name, v->version, &aad) != LV_OK)
            stale = true; /* let the writer retry and report */
        else
            stale = !lv_engine_sealed_current(e, v->key_id ? v->key_id : LV_DEFAULT_KEY_ID, aad.data, aad.len,
                                              v->value, v->value_len);
    }
    lv_buf_free(&aad);
    return stale;
}

lv_err lv_engine_rewrap_params(lv_engine *e, size_t *done, lv_error *err)
{
    enum { BATCH = 128 };
    *done = 0;
    lv_buf cursor = LV_BUF_INIT;
    char *keys[BATCH];
    lv_write w[BATCH];
    lv_err rc = LV_OK;
    for (;;) {
        size_t n = 0;
        lv_engine_rdlock(e);
        const lv_index_node *node = lv_index_seek(e->index, cursor.data ? cursor.data : "", cursor.len);
        for (; node != NULL && n < BATCH; node = lv_index_next(node)) {
            const lv_param *p = lv_index_node_param(node);
            if (cursor.len > 0 && p->key_len == cursor.len && memcmp(p->key, cursor.data, cursor.len) == 0)
                continue;
            lv_buf_reset(&cursor);
            if ((rc = lv_buf_append(&cursor, p->key, p->key_len)) != LV_OK)
                break;
            if (!param_needs_rewrap(e, p))
                continue;
            if ((keys[n] = malloc(p->key_len + 1)) == NULL) {
                rc = LV_E_NOMEM;
                break;
            }
            memcpy(keys[n], p->key, p->key_len);
            keys[n][p->key_len] = '\0';
            n++;
        }
        bool end = node == NULL;
        lv_engine_rdunlock(e);
        for (size_t i = 0; i < n; i++) {
            memset(&w[i], 0, sizeof w[i]);
            w[i].kind = LV_WRITE_REWRAP;
            w[i].region = keys[i];
            w[i].name = keys[i] + strlen(keys[i]) + 1;
        }
        if (rc == LV_OK && n > 0 && (rc = lv_engine_write(e, w, n)) != LV_OK)
            lv_error_set(err, rc, "the server is stopping");
        for (size_t i = 0; i < n; i++) {
            if (rc == LV_OK && w[i].rc != LV_OK) {
                rc = w[i].rc;
                *err = w[i].err;
            }
            *done += w[i].rc == LV_OK && w[i].stored;
            free(keys[i]);
        }
        if (rc != LV_OK || end)
            break;
        /* Tests stretch a rotation to interrupt it (docs/security.md). */
        const char *delay = getenv("LEVER_TEST_REWRAP_DELAY_MS");
        if (delay != NULL && atoi(delay) > 0)
            usleep((useconds_t)atoi(delay) * 1000u);
    }
    if (rc == LV_E_NOMEM && err->msg[0] == '\0')
        lv_error_set(err, rc, "out of memory");
    lv_buf_free(&cursor);
    return rc;
}

lv_err lv_engine_rotate_finish(lv_engine *e, lv_error *err)
{
    if (!lv_engine_rotating(e))
        return LV_OK;
    lv_err rc = write_keycheck(e, true, err);
    if (rc != LV_OK)
        return rc;
    /* The commit point: from here the .next key is the master key. */
    if (rename(e->next_path, e->master_path) != 0)
        return lv_error_set(err, LV_E_IO, "cannot rename %s to %s: %s", e->next_path, e->master_path,
                            strerror(errno));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", e->master_path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    pthread_rwlock_wrlock(&e->keylock);
    memcpy(e->master[0], e->master[1], LV_MASTER_KEY_LEN);
    memset(e->master[1], 0, LV_MASTER_KEY_LEN);
    e->has_next = false;
    pthread_rwlock_unlock(&e->keylock);
    return LV_OK;
}

