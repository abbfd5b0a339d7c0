/* admin.c - Lever.* administrative operations for the root key: access
 * keys and their policies (IAM-like shapes), server-side backups and
 * master key rotation. The router has already checked that the caller is
 * the root key. */
#include "api/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/audit_query.h"
#include "api/jreq.h"
#include "json/jw.h"

static const char *const ops[] = {"CreateAccessKey", "ListAccessKeys", "GetAccessKey", "UpdateAccessKey",
                                  "DeleteAccessKey", "PutKeyPolicy", "DeleteKeyPolicy", "CreateBackup",
                                  "RotateMasterKey", "DescribeAuditEvents", NULL};

bool lv_admin_op_read(const char *op)
{
    return strcmp(op, "DescribeAuditEvents") == 0;
}

bool lv_admin_op_known(const char *op)
{
    for (size_t i = 0; ops[i]; i++)
        if (strcmp(ops[i], op) == 0)
            return true;
    return false;
}

typedef struct list_ctx {
    jw *w;
    const char *account;
} list_ctx;

static void put_key(void *ctx, const lv_key_info *k)
{
    list_ctx *lc = ctx;
    jw *w = lc->w;
    char arn[96];
    snprintf(arn, sizeof arn, "arn:aws:iam::%s:user/%s", lc->account, k->akid);
    jw_obj(w);
    jw_kstr(w, "AccessKeyId", k->akid);
    jw_kstr(w, "UserArn", arn);
    jw_kstr(w, "Status", k->active ? "Active" : "Inactive");
    jw_key(w, "CreateDate");
    jw_time(w, k->created_ms);
    jw_kstr(w, "Description", k->description);
    jw_key(w, "Policies");
    jw_arr(w);
    for (size_t i = 0; i < k->npolicies; i++) {
        jw_obj(w);
        jw_kstr(w, "PolicyName", k->policy_names[i]);
        jw_kstr(w, "PolicyDocument", k->policy_docs[i]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

static const char *akid_field(jreq *r)
{
    return jreq_str(r, NULL, "AccessKeyId", true, 1, 128, NULL);
}

/* ---------- backup ---------- */

static lv_err fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return LV_E_IO;
    int r = fsync(fd);
    close(fd);
    return r == 0 ? LV_OK : LV_E_IO;
}

/* A consistent snapshot written on the server's file system: to a private
 * temporary file next to path first, made durable, then linked into place
 * (never replacing an existing file). Mode 0600: the backup holds every
 * String value in clear and SecureStrings sealed. */
static lv_err backup(const lv_admin_ctx *c, const char *path, jw *w, lv_error *err)
{
    if (path[0] != '/')
        return lv_error_set(err, LV_E_VALIDATION, "Path must be an absolute path on the server.");
    struct stat st;
    if (lstat(path, &st) == 0)
        return lv_error_set(err, LV_E_VALIDATION, "%s already exists; a backup never replaces a file.", path);
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= sizeof tmp)
        return lv_error_set(err, LV_E_VALIDATION, "Path is too long.");
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return lv_error_set(err, LV_E_VALIDATION, "cannot create %s: %s", tmp, strerror(errno));
    close(fd);
    lv_err rc = lv_engine_backup(c->engine, tmp, err);
    if (rc == LV_OK && fsync_path(tmp, O_RDONLY) != LV_OK)
        rc = lv_error_set(err, LV_E_IO, "cannot sync %s: %s", tmp, strerror(errno));
    if (rc == LV_OK && link(tmp, path) != 0)
        rc = lv_error_set(err, errno == EEXIST ? LV_E_VALIDATION : LV_E_IO, "cannot create %s: %s", path,
                          strerror(errno));
    unlink(tmp);
    if (rc != LV_OK)
        return rc;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
    if (stat(path, &st) != 0)
        return lv_error_set(err, LV_E_IO, "cannot stat %s: %s", path, strerror(errno));
    lv_engine_stats s;
    lv_engine_stats_get(c->engine, &s);
    jw_obj(w);
    jw_kstr(w, "Path", path);
    jw_kint(w, "Bytes", (int64_t)st.st_size);
    jw_kint(w, "Revision", (int64_t)s.revision);
    jw_obj_end(w);
    return LV_OK;
}

/* ---------- rotation ---------- */

/* One rotation at a time: an admin call and the start-up resumption may
 * otherwise race on the same .next file. */
static pthread_mutex_t rotate_mu = PTHREAD_MUTEX_INITIALIZER;

lv_err lv_admin_rotate(lv_engine *e, lv_keystore *ks, size_t *params, size_t *keys, lv_error *err)
{
    size_t np = 0, nk = 0;
    pthread_mutex_lock(&rotate_mu);
    lv_err rc = lv_engine_rotate_begin(e, err);
    if (rc == LV_OK)
        rc = lv_engine_rewrap_params(e, &np, err);
    if (rc == LV_OK)
        rc = lv_keystore_rewrap(ks, &nk, err);
    if (rc == LV_OK)
        rc = lv_engine_rotate_finish(e, err);
    pthread_mutex_unlock(&rotate_mu);
    if (params)
        *params = np;
    if (keys)
        *keys = nk;
    return rc;
}

/* ---------- dispatch ---------- */

lv_err lv_admin_dispatch(const lv_admin_ctx *c, const char *op, const char *body, size_t len, lv_buf *out,
                         lv_error *err)
{
    if (strcmp(op, "DescribeAuditEvents") == 0)
        return lv_audit_query(c->audit_path, body, len, out, err);
    jreq r;
    lv_err rc = jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    jw w;
    jw_init(&w, out);
    if (strcmp(op, "CreateAccessKey") == 0) {
        const char *desc = jreq_str(&r, NULL, "Description", false, 0, LV_KEY_DESCRIPTION_MAX, NULL);
        if ((rc = jreq_finish(&r, err)) == LV_OK) {
            char akid[LV_KEY_ID_LEN + 1], secret[LV_KEY_SECRET_LEN + 1];
            rc = lv_keystore_create(c->keys, desc, c->now_ms, akid, secret, err);
            if (rc == LV_OK) {
                char arn[96];
                snprintf(arn, sizeof arn, "arn:aws:iam::%s:user/%s", c->account, akid);
                jw_obj(&w);
                jw_key(&w, "AccessKey");
                jw_obj(&w);
                jw_kstr(&w, "AccessKeyId", akid);
                jw_kstr(&w, "SecretAccessKey", secret);
                jw_kstr(&w, "UserArn", arn);
                jw_kstr(&w, "Status", "Active");
                jw_key(&w, "CreateDate");
                jw_time(&w, c->now_ms);
                jw_kstr(&w, "Description", desc ? desc : "");
                jw_obj_end(&w);
                jw_obj_end(&w);
                memset(secret, 0, sizeof secret);
            }
        }
    } else if (strcmp(op, "ListAccessKeys") == 0 || strcmp(op, "GetAccessKey") == 0) {
        bool one = strcmp(op, "GetAccessKey") == 0;
        const char *akid = one ? akid_field(&r) : NULL;
        if ((rc = jreq_finish(&r, err)) == LV_OK) {
            list_ctx lc = {&w, c->account};
            jw_obj(&w);
            jw_key(&w, one ? "AccessKey" : "AccessKeys");
            if (!one)
                jw_arr(&w);
            rc = lv_keystore_foreach(c->keys, akid, put_key, &lc, err);
            if (!one)
                jw_arr_end(&w);
            jw_obj_end(&w);
        }
    } else if (strcmp(op, "UpdateAccessKey") == 0) {
        static const char *const status_enum[] = {"Active", "Inactive", NULL};
        const char *akid = akid_field(&r);
        const char *status = jreq_enum(&r, NULL, "Status", true, status_enum);
        if ((rc = jreq_finish(&r, err)) == LV_OK)
            rc = lv_keystore_set_active(c->keys, akid, strcmp(status, "Active") == 0, err);
        if (rc == LV_OK) {
            jw_obj(&w);
            jw_obj_end(&w);
        }
    } else if (strcmp(op, "DeleteAccessKey") == 0) {
        const char *akid = akid_field(&r);
        if ((rc = jreq_finish(&r, err)) == LV_OK)
            rc = lv_keystore_delete(c->keys, akid, err);
        if (rc == LV_OK) {
            jw_obj(&w);
            jw_obj_end(&w);
        }
    } else if (strcmp(op, "PutKeyPolicy") == 0) {
        size_t dlen = 0;
        const char *akid = akid_field(&r);
        const char *name = jreq_str(&r, NULL, "PolicyName", true, 1, LV_KEY_POLICY_NAME_MAX, NULL);
        const char *doc = jreq_str(&r, NULL, "PolicyDocument", true, 1, LV_IAM_POLICY_MAX_LEN, &dlen);
        if ((rc = jreq_finish(&r, err)) == LV_OK)
            rc = lv_keystore_put_policy(c->keys, akid, name, doc, dlen, err);
        if (rc == LV_OK) {
            jw_obj(&w);
            jw_obj_end(&w);
        }
    } else if (strcmp(op, "DeleteKeyPolicy") == 0) {
        const char *akid = akid_field(&r);
        const char *name = jreq_str(&r, NULL, "PolicyName", true, 1, LV_KEY_POLICY_NAME_MAX, NULL);
        if ((rc = jreq_finish(&r, err)) == LV_OK)
            rc = lv_keystore_delete_policy(c->keys, akid, name, err);
        if (rc == LV_OK) {
            jw_obj(&w);
            jw_obj_end(&w);
        }
    } else if (strcmp(op, "CreateBackup") == 0) {
        const char *path = jreq_str(&r, NULL, "Path", true, 1, PATH_MAX - 32, NULL);
        if ((rc = jreq_finish(&r, err)) == LV_OK)
            rc = backup(c, path, &w, err);
    } else if (strcmp(op, "RotateMasterKey") == 0) {
        if ((rc = jreq_finish(&r, err)) == LV_OK) {
            size_t np = 0, nk = 0;
            rc = lv_admin_rotate(c->engine, c->keys, &np, &nk, err);
            if (rc == LV_OK) {
                jw_obj(&w);
                jw_kint(&w, "ParametersRewrapped", (int64_t)np);
                jw_kint(&w, "AccessKeysRewrapped", (int64_t)nk);
                jw_obj_end(&w);
            }
        }
    } else {
        rc = lv_error_set(err, LV_E_UNKNOWN_OPERATION, "Operation Lever.%s is not supported.", op);
    }
    jreq_free(&r);
    if (rc == LV_OK && w.rc != LV_OK)
        rc = lv_error_set(err, w.rc, "The response could not be built.");
    return rc;
}
