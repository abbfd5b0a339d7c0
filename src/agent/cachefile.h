/* cachefile.h - lever-agent's on-disk cache: a checksummed snapshot of the
 * entries and of the watched prefixes, SecureString entries sealed with
 * AES-256-GCM. The decoder takes untrusted bytes (a file anyone with
 * write access to the directory may have altered); it is fuzzed by
 * tests/fuzz/fuzz_agent_cachefile.c. Format: docs/agent.md. */
#ifndef LV_AGENT_CACHEFILE_H
#define LV_AGENT_CACHEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "crypto/crypto.h"

#define LVA_CACHE_FILE "cache.v1"
#define LVA_CACHE_KEY_FILE "cache.key"

typedef struct lva_disk_entry {
    char *key;
    char *name;
    char *json;            /* the Parameter object, compact JSON text */
    size_t json_len;
    bool secure;
    bool prefetched;       /* belongs to a watched prefix */
    int64_t version;
    int64_t confirmed_ms;
} lva_disk_entry;

typedef struct lva_disk_prefix {
    char *path;
    uint64_t revision;     /* the watch resumes after this revision */
    int64_t confirmed_ms;  /* when the watch last confirmed the prefix current */
} lva_disk_prefix;

typedef struct lva_snapshot {
    int64_t saved_ms;
    lva_disk_prefix *prefixes;
    size_t nprefixes, cap_prefixes;
    lva_disk_entry *entries;
    size_t nentries, cap_entries;
} lva_snapshot;

void lva_snapshot_free(lva_snapshot *s);

/* Appends copies to s. Return 0 or -1 (out of memory; s unchanged). */
int lva_snapshot_add_prefix(lva_snapshot *s, const char *path, uint64_t revision,
                            int64_t confirmed_ms);
int lva_snapshot_add_entry(lva_snapshot *s, const char *key, const char *name, const char *json,
                           size_t json_len, bool secure, bool prefetched, int64_t version,
                           int64_t confirmed_ms);

/* Serialises s into out (appending). Entries with secure set are sealed
 * with key (their plaintext never reaches out). Returns 0, or -1 with a
 * message in err. */
int lva_cachefile_encode(const lva_snapshot *s, const unsigned char key[LV_MASTER_KEY_LEN],
                         lv_buf *out, char *err, size_t errlen);

/* Parses and verifies data: header, SHA-256 of the body, every field's
 * type, every sealed entry's authentication tag, and that each entry's
 * Parameter JSON is an object naming the entry's name. Anything off
 * rejects the whole file: returns -1 with the reason in err and *out
 * empty. On 0, *out is filled (free with lva_snapshot_free). */
int lva_cachefile_decode(const char *data, size_t len, const unsigned char key[LV_MASTER_KEY_LEN],
                         lva_snapshot *out, char *err, size_t errlen);

/* Writes data to dir/cache.v1 atomically: a temporary file in dir, fsync,
 * rename over the old file, fsync of the directory. Returns 0 or -1. */
int lva_cachefile_write(const char *dir, const char *data, size_t len, char *err, size_t errlen);

/* Reads dir/cache.v1 into out (at most 256 MiB). Returns 0, 1 when there is
 * no file, -1 on another error. */
int lva_cachefile_read(const char *dir, lv_buf *out, char *err, size_t errlen);

/* Moves a rejected dir/cache.v1 aside to cache.v1.corrupt (kept for a human
 * to look at; the next save writes a fresh file). */
void lva_cachefile_quarantine(const char *dir);

/* The same for another file of the directory (the AppConfig cache,
 * src/agent/accache.h). */
int lva_cachefile_write_named(const char *dir, const char *file, const char *data, size_t len, char *err,
                              size_t errlen);
int lva_cachefile_read_named(const char *dir, const char *file, lv_buf *out, char *err, size_t errlen);
void lva_cachefile_quarantine_named(const char *dir, const char *file);

#endif
