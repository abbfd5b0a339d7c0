/* keys.c - root access key provisioning and the AWS shared-credentials INI format. */
#include "auth/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/buf.h"

/* A credentials file is a few hundred bytes; anything near this is not one,
 * and reading it whole must stay cheap. */
#define LV_KEYS_FILE_MAX ((size_t)1 << 20)

enum { LV_AKID_RANDOM_CHARS = 18, LV_SECRET_CHARS = 40 };

static const char *const KEY_AKID = "aws_access_key_id";
static const char *const KEY_SECRET = "aws_secret_access_key";
static const char *const KEY_TOKEN = "aws_session_token";

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

typedef struct span {
    const char *p;
    size_t n;
} span;

static span trim(span s)
{
    while (s.n > 0 && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static int span_eq(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Option names are case-insensitive, as Python's configparser (which the
 * AWS CLI and boto3 use) folds them. */
static int span_caseeq(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* Copies a value into a fixed field; refuses rather than truncates, since a
 * cut key would fail signing with a confusing error far from here. */
static lv_err store_value(char *dst, size_t cap, span v, const char *key,
                          const char *profile, size_t line, lv_error *err)
{
    if (v.n >= cap)
        return lv_error_set(err, LV_E_VALIDATION,
                            "credentials line %zu: %s in profile '%s' is longer "
                            "than %zu characters",
                            line, key, profile, cap - 1);
    if (memchr(v.p, '\0', v.n) != NULL)
        return lv_error_set(err, LV_E_VALIDATION,
                            "credentials line %zu: %s in profile '%s' contains "
                            "a NUL byte",
                            line, key, profile);
    memcpy(dst, v.p, v.n);
    dst[v.n] = '\0';
    return LV_OK;
}

lv_err lv_keys_parse_ini(const char *text, size_t len, const char *profile,
                         lv_credentials *out, lv_error *err)
{
    memset(out, 0, sizeof *out);
    if (text == NULL)
        len = 0;
    int found = 0, in_profile = 0;
    /* Indentation of the last option line. Deeper lines continue it in
     * configparser; the AWS config file nests settings under an empty
     * "s3 =" that way. We treat a deeper line as continuation only after
     * an empty value or when it has no delimiter, so indented
     * "key = value" lines in hand-written files still count as options. */
    size_t opt_indent = 0;
    int have_opt = 0, opt_empty = 0;
    size_t line = 0;
    lv_err rc = LV_OK;

    const char *p = text, *end = text + len;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        span raw = {p, nl ? (size_t)(nl - p) : (size_t)(end - p)};
        p = nl ? nl + 1 : end;

        size_t indent = 0;
        while (indent < raw.n && is_space(raw.p[indent]))
            indent++;
        span s = trim(raw);
        if (s.n == 0 || s.p[0] == '#' || s.p[0] == ';')
            continue;
        /* configparser accepts ':' as well as '=', whichever comes first. */
        const char *eq = NULL;
        for (size_t i = 0; i < s.n && eq == NULL; i++)
            if (s.p[i] == '=' || s.p[i] == ':')
                eq = s.p + i;
        if (have_opt && indent > opt_indent && (opt_empty || eq == NULL))
            continue;
        have_opt = 0;

        if (s.p[0] == '[') {
            /* Like configparser: the name runs to the last ']', and text
             * after it (a trailing comment) is ignored. */
            size_t close = s.n - 1;
            while (close > 0 && s.p[close] != ']')
                close--;
            if (close < 2) {
                rc = lv_error_set(err, LV_E_VALIDATION,
                                  "credentials line %zu: malformed section header",
                                  line);
                goto fail;
            }
            span name = trim((span){s.p + 1, close - 1});
            /* The config file spells non-default profiles "[profile x]". */
            if (name.n > 8 && memcmp(name.p, "profile", 7) == 0 &&
                is_space(name.p[7]))
                name = trim((span){name.p + 8, name.n - 8});
            in_profile = span_eq(name, profile);
            found |= in_profile;
            continue;
        }

        if (eq == NULL) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "credentials line %zu: expected 'key = value'", line);
            goto fail;
        }
        span key = trim((span){s.p, (size_t)(eq - s.p)});
        span val = trim((span){eq + 1, (size_t)(s.p + s.n - eq - 1)});
        if (key.n == 0) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "credentials line %zu: empty key", line);
            goto fail;
        }
        have_opt = 1;
        opt_indent = indent;
        opt_empty = val.n == 0;
        if (!in_profile)
            continue;
        if (span_caseeq(key, KEY_AKID))
            rc = store_value(out->access_key_id, sizeof out->access_key_id, val,
                             KEY_AKID, profile, line, err);
        else if (span_caseeq(key, KEY_SECRET))
            rc = store_value(out->secret_access_key, sizeof out->secret_access_key,
                             val, KEY_SECRET, profile, line, err);
        else if (span_caseeq(key, KEY_TOKEN))
            rc = store_value(out->session_token, sizeof out->session_token, val,
                             KEY_TOKEN, profile, line, err);
        if (rc != LV_OK)
            goto fail;
    }

    if (!found) {
        rc = lv_error_set(err, LV_E_VALIDATION,
                          "profile '%s' not found in credentials", profile);
        goto fail;
    }
    if (out->access_key_id[0] == '\0') {
        rc = lv_error_set(err, LV_E_VALIDATION, "profile '%s' has no %s", profile,
                          KEY_AKID);
        goto fail;
    }
    if (out->secret_access_key[0] == '\0') {
        rc = lv_error_set(err, LV_E_VALIDATION, "profile '%s' has no %s", profile,
                          KEY_SECRET);
        goto fail;
    }
    return LV_OK;

fail:
    /* No half-filled secrets left for a caller that ignores the code. */
    OPENSSL_cleanse(out, sizeof *out);
    return rc;
}

/* Reads a whole file into b; returns errno-style 0 or the failure. */
static int read_all(const char *path, lv_buf *b, lv_error *err, lv_err *rc)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        *rc = lv_error_set(err, LV_E_IO, "cannot open %s: %s", path, strerror(e));
        return e;
    }
    b->max = LV_KEYS_FILE_MAX;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            *rc = lv_error_set(err, LV_E_IO, "cannot read %s: %s", path, strerror(e));
            return e;
        }
        if (n == 0)
            break;
        lv_err arc = lv_buf_append(b, chunk, (size_t)n);
        if (arc != LV_OK) {
            close(fd);
            OPENSSL_cleanse(chunk, sizeof chunk);
            *rc = arc == LV_E_TOO_BIG
                      ? lv_error_set(err, LV_E_VALIDATION,
                                     "%s is larger than %zu bytes", path,
                                     LV_KEYS_FILE_MAX)
                      : lv_error_set(err, LV_E_NOMEM, "out of memory");
            return EFBIG;
        }
    }
    OPENSSL_cleanse(chunk, sizeof chunk);
    close(fd);
    *rc = LV_OK;
    return 0;
}

static void buf_wipe(lv_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    lv_buf_free(b);
}

lv_err lv_keys_read_file(const char *path, const char *profile,
                         lv_credentials *out, lv_error *err)
{
    memset(out, 0, sizeof *out);
    lv_buf b = LV_BUF_INIT;
    lv_err rc;
    if (read_all(path, &b, err, &rc) != 0) {
        buf_wipe(&b);
        return rc;
    }
    rc = lv_keys_parse_ini(b.data, b.len, profile, out, err);
    buf_wipe(&b);
    if (rc != LV_OK && err != NULL) {
        /* Say which file, since clients look in several places. */
        char msg[LV_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        lv_error_set(err, rc, "%s: %s", path, msg);
    }
    return rc;
}

/* A value that would break the INI line it is written on (newline) or be
 * read back differently (surrounding spaces, control characters). */
static int value_writable(const char *v)
{
    size_t n = strlen(v);
    if (n > 0 && (is_space(v[0]) || is_space(v[n - 1])))
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

static lv_err check_creds(const lv_credentials *c, lv_error *err)
{
    if (memchr(c->access_key_id, '\0', sizeof c->access_key_id) == NULL ||
        memchr(c->secret_access_key, '\0', sizeof c->secret_access_key) == NULL ||
        memchr(c->session_token, '\0', sizeof c->session_token) == NULL)
        return lv_error_set(err, LV_E_VALIDATION, "credentials not NUL-terminated");
    if (c->access_key_id[0] == '\0' || c->secret_access_key[0] == '\0')
        return lv_error_set(err, LV_E_VALIDATION, "credentials are empty");
    if (!value_writable(c->access_key_id) || !value_writable(c->secret_access_key) ||
        !value_writable(c->session_token))
        return lv_error_set(err, LV_E_VALIDATION,
                            "credentials contain control characters or "
                            "surrounding spaces");
    return LV_OK;
}

static lv_err fsync_dir_of(const char *path, lv_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return lv_error_set(err, LV_E_IO, "path too long: %s", path);
    const char *dir = dirname(tmp);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lv_error_set(err, LV_E_IO, "cannot open %s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    /* Some filesystems refuse fsync on directories; the rename stands. */
    if (rc != 0 && e != EINVAL && e != EROFS)
        return lv_error_set(err, LV_E_IO, "cannot fsync %s: %s", dir, strerror(e));
    return LV_OK;
}

/* Writes creds to a fresh temp file next to path, then either renames it
 * over path or, with exclusive, links it into place only if path does not
 * exist yet (so two first starts cannot each publish a different key).
 * *existed is set when exclusive found path already there. */
static lv_err write_creds(const char *path, const lv_credentials *creds,
                          int exclusive, int *existed, lv_error *err)
{
    if (existed)
        *existed = 0;
    lv_err rc = check_creds(creds, err);
    if (rc != LV_OK)
        return rc;

    lv_buf text = LV_BUF_INIT;
    rc = lv_buf_printf(&text, "[default]\n%s = %s\n%s = %s\n", KEY_AKID,
                       creds->access_key_id, KEY_SECRET, creds->secret_access_key);
    if (rc == LV_OK && creds->session_token[0] != '\0')
        rc = lv_buf_printf(&text, "%s = %s\n", KEY_TOKEN, creds->session_token);
    if (rc != LV_OK) {
        buf_wipe(&text);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }

    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
        buf_wipe(&text);
        return lv_error_set(err, LV_E_IO, "path too long: %s", path);
    }
    /* mkstemp creates with 0600 whatever the umask. */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        buf_wipe(&text);
        return lv_error_set(err, LV_E_IO, "cannot create %s: %s", tmp, strerror(errno));
    }
    const char *at = text.data;
    size_t left = text.len;
    while (left > 0) {
        ssize_t n = write(fd, at, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = lv_error_set(err, LV_E_IO, "cannot write %s: %s", tmp,
                              n < 0 ? strerror(errno) : "short write");
            goto fail_fd;
        }
        at += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
        rc = lv_error_set(err, LV_E_IO, "cannot sync %s: %s", tmp, strerror(errno));
        goto fail_fd;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = lv_error_set(err, LV_E_IO, "cannot close %s: %s", tmp, strerror(errno));
        goto fail_fd;
    }
    fd = -1;
    buf_wipe(&text);

    if (exclusive) {
        if (link(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            if (e == EEXIST && existed) {
                *existed = 1;
                return LV_OK;
            }
            return lv_error_set(err, LV_E_IO, "cannot create %s: %s", path,
                                strerror(e));
        }
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return lv_error_set(err, LV_E_IO, "cannot replace %s: %s", path, strerror(e));
    }
    return fsync_dir_of(path, err);

fail_fd:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    buf_wipe(&text);
    return rc;
}

lv_err lv_keys_write_file(const char *path, const lv_credentials *creds,
                          lv_error *err)
{
    return write_creds(path, creds, 0, NULL, err);
}

/* Fills dst with n characters drawn uniformly from alphabet, whose size
 * must divide 256 so masking a random byte introduces no bias. */
static lv_err random_chars(char *dst, size_t n, const char *alphabet,
                           unsigned mask, lv_error *err)
{
    unsigned char rnd[64];
    if (n > sizeof rnd)
        return lv_error_set(err, LV_E_INTERNAL, "random_chars: %zu too many", n);
    if (RAND_bytes(rnd, (int)n) != 1)
        return lv_error_set(err, LV_E_INTERNAL, "CSPRNG failure (RAND_bytes)");
    for (size_t i = 0; i < n; i++)
        dst[i] = alphabet[rnd[i] & mask];
    dst[n] = '\0';
    OPENSSL_cleanse(rnd, sizeof rnd);
    return LV_OK;
}

static lv_err generate(lv_credentials *c, lv_error *err)
{
    static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(c, 0, sizeof *c);
    c->access_key_id[0] = 'L';
    c->access_key_id[1] = 'V';
    lv_err rc = random_chars(c->access_key_id + 2, LV_AKID_RANDOM_CHARS, base32,
                             31, err);
    if (rc == LV_OK)
        rc = random_chars(c->secret_access_key, LV_SECRET_CHARS, b64, 63, err);
    return rc;
}

static lv_err from_env(const char *akid, const char *secret, lv_credentials *out,
                       lv_error *err)
{
    memset(out, 0, sizeof *out);
    if (strlen(akid) > LV_ACCESS_KEY_MAX || strlen(secret) > LV_SECRET_KEY_MAX)
        return lv_error_set(err, LV_E_VALIDATION,
                            "LEVER_ROOT_ACCESS_KEY_ID / LEVER_ROOT_SECRET_ACCESS_KEY "
                            "longer than %d characters",
                            LV_ACCESS_KEY_MAX);
    memcpy(out->access_key_id, akid, strlen(akid) + 1);
    memcpy(out->secret_access_key, secret, strlen(secret) + 1);
    lv_err rc = check_creds(out, err);
    if (rc != LV_OK)
        OPENSSL_cleanse(out, sizeof *out);
    return rc;
}

lv_err lv_keys_root_load_or_create(const char *creds_path, lv_credentials *out,
                                   lv_error *err)
{
    memset(out, 0, sizeof *out);
    const char *akid = getenv("LEVER_ROOT_ACCESS_KEY_ID");
    const char *secret = getenv("LEVER_ROOT_SECRET_ACCESS_KEY");
    int have_akid = akid && *akid, have_secret = secret && *secret;
    if (have_akid && have_secret) {
        lv_err rc = from_env(akid, secret, out, err);
        if (rc == LV_OK)
            rc = lv_keys_write_file(creds_path, out, err);
        if (rc != LV_OK)
            OPENSSL_cleanse(out, sizeof *out);
        return rc;
    }
    if (have_akid != have_secret)
        /* Half a key is a deployment mistake worth seeing in the log, but
         * the documented fallback still applies. */
        fprintf(stderr, "leverd: warning: only one of LEVER_ROOT_ACCESS_KEY_ID and "
                        "LEVER_ROOT_SECRET_ACCESS_KEY is set; ignoring it\n");

    /* Two tries: if another process publishes a key between our failed
     * read and our exclusive create, the second read picks that one up. */
    for (int attempt = 0; attempt < 2; attempt++) {
        lv_buf b = LV_BUF_INIT;
        lv_err rc;
        int e = read_all(creds_path, &b, err, &rc);
        if (e == 0) {
            rc = lv_keys_parse_ini(b.data, b.len, "default", out, err);
            buf_wipe(&b);
            if (rc != LV_OK && err != NULL) {
                char msg[LV_ERROR_MSG_MAX];
                snprintf(msg, sizeof msg, "%s", err->msg);
                lv_error_set(err, rc, "%s: %s", creds_path, msg);
            }
            return rc;
        }
        buf_wipe(&b);
        if (e != ENOENT)
            return rc;

        rc = generate(out, err);
        int existed = 0;
        if (rc == LV_OK)
            rc = write_creds(creds_path, out, 1, &existed, err);
        if (rc != LV_OK) {
            OPENSSL_cleanse(out, sizeof *out);
            return rc;
        }
        if (!existed) {
            lv_error_clear(err);
            return LV_OK;
        }
        OPENSSL_cleanse(out, sizeof *out);
    }
    return lv_error_set(err, LV_E_IO, "%s keeps appearing and vanishing", creds_path);
}
