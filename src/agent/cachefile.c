/* cachefile.c - encode, verify and atomically write lever-agent's disk
 * snapshot. The JSON body is parsed with jansson; this file adds the
 * framing, the checksum, the sealing and the strict shape checks. */
#include "agent/cachefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define MAGIC "lever-agent-cache 1\n"
#define SHA_TAG "sha256 "
/* The sealing key is derived per purpose from the key file's bytes. */
#define SEAL_KEY_ID "lever-agent-cache-v1"
#define MAX_FILE ((size_t)256 << 20)

void lva_snapshot_free(lva_snapshot *s)
{
    for (size_t i = 0; i < s->nprefixes; i++)
        free(s->prefixes[i].path);
    for (size_t i = 0; i < s->nentries; i++) {
        lva_disk_entry *e = &s->entries[i];
        free(e->key);
        free(e->name);
        if (e->json)
            memset(e->json, 0, e->json_len);
        free(e->json);
    }
    free(s->prefixes);
    free(s->entries);
    memset(s, 0, sizeof *s);
}

int lva_snapshot_add_prefix(lva_snapshot *s, const char *path, uint64_t revision,
                            int64_t confirmed_ms)
{
    if (s->nprefixes == s->cap_prefixes) {
        size_t n = s->cap_prefixes ? s->cap_prefixes * 2 : 4;
        lva_disk_prefix *np = realloc(s->prefixes, n * sizeof *np);
        if (np == NULL)
            return -1;
        s->prefixes = np;
        s->cap_prefixes = n;
    }
    char *p = strdup(path);
    if (p == NULL)
        return -1;
    s->prefixes[s->nprefixes++] = (lva_disk_prefix){p, revision, confirmed_ms};
    return 0;
}

int lva_snapshot_add_entry(lva_snapshot *s, const char *key, const char *name, const char *json,
                           size_t json_len, bool secure, bool prefetched, int64_t version,
                           int64_t confirmed_ms)
{
    if (s->nentries == s->cap_entries) {
        size_t n = s->cap_entries ? s->cap_entries * 2 : 64;
        lva_disk_entry *ne = realloc(s->entries, n * sizeof *ne);
        if (ne == NULL)
            return -1;
        s->entries = ne;
        s->cap_entries = n;
    }
    lva_disk_entry e = {0};
    e.key = strdup(key);
    e.name = strdup(name);
    e.json = malloc(json_len + 1);
    if (e.key == NULL || e.name == NULL || e.json == NULL) {
        free(e.key);
        free(e.name);
        free(e.json);
        return -1;
    }
    memcpy(e.json, json, json_len);
    e.json[json_len] = '\0';
    e.json_len = json_len;
    e.secure = secure;
    e.prefetched = prefetched;
    e.version = version;
    e.confirmed_ms = confirmed_ms;
    s->entries[s->nentries++] = e;
    return 0;
}

static int errf(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

/* Adds json_t v under k to o, consuming v; -1 when out of memory. */
static int put(json_t *o, const char *k, json_t *v)
{
    return v == NULL || json_object_set_new(o, k, v) != 0 ? -1 : 0;
}

int lva_cachefile_encode(const lva_snapshot *s, const unsigned char key[LV_MASTER_KEY_LEN],
                         lv_buf *out, char *err, size_t errlen)
{
    json_t *root = json_object(), *pa = json_array(), *ea = json_array();
    lv_buf env = LV_BUF_INIT, b64 = LV_BUF_INIT;
    char *body = NULL;
    int rc = -1;
    if (root == NULL || pa == NULL || ea == NULL)
        goto nomem;
    for (size_t i = 0; i < s->nprefixes; i++) {
        const lva_disk_prefix *p = &s->prefixes[i];
        if (p->revision > (uint64_t)INT64_MAX) {
            errf(err, errlen, "revision out of range");
            goto out;
        }
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(pa, o) != 0)
            goto nomem;
        if (put(o, "Path", json_string(p->path)) || put(o, "Revision", json_integer((json_int_t)p->revision)) ||
            put(o, "Confirmed", json_integer(p->confirmed_ms)))
            goto nomem;
    }
    for (size_t i = 0; i < s->nentries; i++) {
        const lva_disk_entry *e = &s->entries[i];
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(ea, o) != 0)
            goto nomem;
        if (put(o, "Key", json_string(e->key)) || put(o, "Name", json_string(e->name)) ||
            put(o, "Version", json_integer(e->version)) || put(o, "Confirmed", json_integer(e->confirmed_ms)) ||
            put(o, "Prefetched", json_boolean(e->prefetched)) || put(o, "Secure", json_boolean(e->secure)))
            goto nomem;
        if (e->secure) {
            lv_error le = {0};
            lv_buf_reset(&env);
            lv_buf_reset(&b64);
            if (lv_crypto_seal(key, SEAL_KEY_ID, e->key, strlen(e->key), e->json, e->json_len, &env, &le) != LV_OK) {
                errf(err, errlen, le.msg[0] ? le.msg : "sealing failed");
                goto out;
            }
            if (lv_base64_encode(env.data, env.len, &b64) != LV_OK || put(o, "Sealed", json_string(b64.data)))
                goto nomem;
        } else if (put(o, "Parameter", json_stringn(e->json, e->json_len))) {
            goto nomem;
        }
    }
    if (put(root, "Saved", json_integer(s->saved_ms)))
        goto nomem;
    if (json_object_set(root, "Prefixes", pa) || json_object_set(root, "Entries", ea))
        goto nomem;
    body = json_dumps(root, JSON_COMPACT);
    if (body == NULL)
        goto nomem;
    size_t blen = strlen(body);
    char hex[65];
    lv_sha256_hex(body, blen, hex);
    if (lv_buf_puts(out, MAGIC) != LV_OK || lv_buf_printf(out, SHA_TAG "%s\n", hex) != LV_OK ||
        lv_buf_append(out, body, blen) != LV_OK)
        goto nomem;
    rc = 0;
    goto out;
nomem:
    errf(err, errlen, "out of memory (or a key that is not UTF-8) while encoding the cache");
out:
    if (body) {
        memset(body, 0, strlen(body));
        free(body);
    }
    json_decref(root);
    json_decref(pa);
    json_decref(ea);
    lv_buf_free(&env);
    lv_buf_free(&b64);
    return rc;
}

/* Strict field readers: a missing field or a wrong type is corruption. */
static const char *get_str(const json_t *o, const char *k, size_t *len)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return NULL;
    if (len)
        *len = json_string_length(v);
    return json_string_value(v);
}

static int get_int(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int get_bool(const json_t *o, const char *k, bool *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

/* Whether text (len bytes, no embedded NUL) is a JSON object whose Name
 * is name: what the agent will serve must at least look like a Parameter. */
static bool param_ok(const char *text, size_t len, const char *name)
{
    if (memchr(text, '\0', len) != NULL)
        return false;
    json_error_t je;
    json_t *p = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    bool ok = json_is_object(p) && json_is_string(json_object_get(p, "Name")) &&
              strcmp(json_string_value(json_object_get(p, "Name")), name) == 0;
    json_decref(p);
    return ok;
}

int lva_cachefile_decode(const char *data, size_t len, const unsigned char key[LV_MASTER_KEY_LEN],
                         lva_snapshot *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const size_t ml = sizeof MAGIC - 1, tl = sizeof SHA_TAG - 1;
    if (len < ml + tl + 65 || memcmp(data, MAGIC, ml) != 0)
        return errf(err, errlen, "not a lever-agent cache file (bad header)");
    const char *h = data + ml;
    if (memcmp(h, SHA_TAG, tl) != 0 || h[tl + 64] != '\n')
        return errf(err, errlen, "bad checksum line");
    char want[65];
    memcpy(want, h + tl, 64);
    want[64] = '\0';
    const char *body = h + tl + 65;
    size_t blen = len - (size_t)(body - data);
    char got[65];
    lv_sha256_hex(body, blen, got);
    if (strcmp(want, got) != 0)
        return errf(err, errlen, "checksum mismatch (file altered or truncated)");

    json_error_t je;
    json_t *root = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &je);
    lv_buf raw = LV_BUF_INIT, pt = LV_BUF_INIT;
    const char *why = NULL;
    if (!json_is_object(root)) {
        why = "body is not a JSON object";
        goto bad;
    }
    const json_t *pa = json_object_get(root, "Prefixes"), *ea = json_object_get(root, "Entries");
    if (get_int(root, "Saved", &out->saved_ms) || !json_is_array(pa) || !json_is_array(ea)) {
        why = "missing Saved, Prefixes or Entries";
        goto bad;
    }
    for (size_t i = 0; i < json_array_size(pa); i++) {
        const json_t *o = json_array_get(pa, i);
        const char *path = json_is_object(o) ? get_str(o, "Path", NULL) : NULL;
        int64_t rev, conf;
        if (path == NULL || get_int(o, "Revision", &rev) || rev < 0 || get_int(o, "Confirmed", &conf)) {
            why = "malformed prefix record";
            goto bad;
        }
        if (lva_snapshot_add_prefix(out, path, (uint64_t)rev, conf)) {
            why = "out of memory";
            goto bad;
        }
    }
    for (size_t i = 0; i < json_array_size(ea); i++) {
        const json_t *o = json_array_get(ea, i);
        const char *k = json_is_object(o) ? get_str(o, "Key", NULL) : NULL;
        const char *name = json_is_object(o) ? get_str(o, "Name", NULL) : NULL;
        int64_t version, conf;
        bool pf, secure;
        if (k == NULL || name == NULL || get_int(o, "Version", &version) || get_int(o, "Confirmed", &conf) ||
            get_bool(o, "Prefetched", &pf) || get_bool(o, "Secure", &secure)) {
            why = "malformed entry record";
            goto bad;
        }
        const char *text;
        size_t tlen;
        if (secure) {
            size_t slen;
            const char *sealed = get_str(o, "Sealed", &slen);
            lv_error le = {0};
            lv_buf_reset(&raw);
            lv_buf_reset(&pt);
            if (sealed == NULL || json_object_get(o, "Parameter") != NULL ||
                lv_base64_decode(sealed, slen, &raw) != LV_OK || raw.len <= LV_ENVELOPE_OVERHEAD) {
                why = "malformed sealed entry";
                goto bad;
            }
            if (lv_crypto_open(key, SEAL_KEY_ID, k, strlen(k), raw.data, raw.len, &pt, &le) != LV_OK) {
                why = "a sealed entry does not open with the cache key";
                goto bad;
            }
            text = pt.data ? pt.data : "";
            tlen = pt.len;
        } else {
            text = get_str(o, "Parameter", &tlen);
            if (text == NULL || json_object_get(o, "Sealed") != NULL) {
                why = "malformed entry record";
                goto bad;
            }
        }
        if (!param_ok(text, tlen, name)) {
            why = "an entry's Parameter is not an object with its Name";
            goto bad;
        }
        if (lva_snapshot_add_entry(out, k, name, text, tlen, secure, pf, version, conf)) {
            why = "out of memory";
            goto bad;
        }
        if (pt.data)
            memset(pt.data, 0, pt.len);
    }
    json_decref(root);
    lv_buf_free(&raw);
    lv_buf_free(&pt);
    return 0;
bad:
    if (pt.data)
        memset(pt.data, 0, pt.len);
    json_decref(root);
    lv_buf_free(&raw);
    lv_buf_free(&pt);
    lva_snapshot_free(out);
    return errf(err, errlen, why ? why : "malformed");
}

static int join(char *buf, size_t cap, const char *dir, const char *file)
{
    int n = snprintf(buf, cap, "%s/%s", dir, file);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int lva_cachefile_write(const char *dir, const char *data, size_t len, char *err, size_t errlen)
{
    return lva_cachefile_write_named(dir, LVA_CACHE_FILE, data, len, err, errlen);
}

int lva_cachefile_write_named(const char *dir, const char *file, const char *data, size_t len, char *err,
                              size_t errlen)
{
    char path[4096], tmp[4096], tname[256];
    if (snprintf(tname, sizeof tname, "%s.tmp", file) >= (int)sizeof tname || join(path, sizeof path, dir, file) ||
        join(tmp, sizeof tmp, dir, tname))
        return errf(err, errlen, "cache directory path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "rename to %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* the rename itself survives a crash only once the directory is synced */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int lva_cachefile_read(const char *dir, lv_buf *out, char *err, size_t errlen)
{
    return lva_cachefile_read_named(dir, LVA_CACHE_FILE, out, err, errlen);
}

int lva_cachefile_read_named(const char *dir, const char *file, lv_buf *out, char *err, size_t errlen)
{
    char path[4096];
    if (join(path, sizeof path, dir, file))
        return errf(err, errlen, "cache directory path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    out->max = MAX_FILE;
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        lv_err rc = lv_buf_append(out, chunk, (size_t)r);
        if (rc != LV_OK) {
            snprintf(err, errlen, "%s: %s", path, rc == LV_E_TOO_BIG ? "larger than 256 MiB" : "out of memory");
            close(fd);
            return -1;
        }
    }
    close(fd);
    return 0;
}

void lva_cachefile_quarantine(const char *dir)
{
    lva_cachefile_quarantine_named(dir, LVA_CACHE_FILE);
}

void lva_cachefile_quarantine_named(const char *dir, const char *file)
{
    char path[4096], bad[4096], bname[256];
    if (snprintf(bname, sizeof bname, "%s.corrupt", file) >= (int)sizeof bname || join(path, sizeof path, dir, file) ||
        join(bad, sizeof bad, dir, bname))
        return;
    rename(path, bad);
}
