/* accache.h - lever-agent's on-disk copy of the AppConfig configurations it
 * serves (DIR/appconfig.v1 next to the parameters' cache.v1): a checksummed
 * snapshot whose every configuration is sealed with AES-256-GCM under the
 * directory's cache.key, the entry's key as authenticated data. The
 * decoder takes untrusted bytes; fuzzed by tests/fuzz/fuzz_agent_accache.c.
 * Format: docs/agent.md ("AppConfig", "The disk copy"). */
#ifndef LV_AGENT_ACCACHE_H
#define LV_AGENT_ACCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "crypto/crypto.h"

#define LVAC_CACHE_FILE "appconfig.v1"

typedef struct lvac_disk_entry {
    char *app, *env, *profile, *entity; /* as requested; entity "" (older agents kept one per Entity-Id) */
    char *content_type, *version;
    char *data;                         /* the configuration's bytes (NUL-terminated copy) */
    size_t len;
    bool prefetched;
    bool stored_doc;                    /* data is a stored feature-flag document */
    int64_t confirmed_ms;
    uint64_t revision;
    /* A gradual deployment in progress ("Rollout"; absent in older files):
     * the entry above is its `to` side; from_data (sealed under the
     * entry's key plus "\nfrom") the version served before, NULL when
     * there was none. */
    bool rolling;
    double percent;
    char *seed, *from_version;          /* rolling: the rollout headers' values */
    char *from_content_type;
    char *from_data;
    size_t from_len;
    bool from_stored_doc;
} lvac_disk_entry;

typedef struct lvac_snapshot {
    int64_t saved_ms;
    uint64_t revision;                  /* the watch resumes after this revision */
    lvac_disk_entry *entries;
    size_t n, cap;
} lvac_snapshot;

void lvac_snapshot_free(lvac_snapshot *s);

/* Appends a copy of e to s. 0 or -1 (out of memory; s unchanged). */
int lvac_snapshot_add(lvac_snapshot *s, const lvac_disk_entry *e);

/* The map key of an entry: app, env, profile and entity joined by '\n'
 * (none of them can hold one). Newly allocated; NULL when out of memory. */
char *lvac_entry_key(const char *app, const char *env, const char *profile, const char *entity);

/* Serialises s into out (appending), every configuration sealed. 0, or -1
 * with a message. */
int lvac_cache_encode(const lvac_snapshot *s, const unsigned char key[LV_MASTER_KEY_LEN], lv_buf *out,
                      char *err, size_t errlen);

/* Parses and verifies data: header, checksum, every field's type and
 * limits, every sealed configuration's tag. Anything off rejects the
 * whole file: -1 with the reason and *out empty. On 0, *out is filled
 * (free with lvac_snapshot_free). */
int lvac_cache_decode(const char *data, size_t len, const unsigned char key[LV_MASTER_KEY_LEN],
                      lvac_snapshot *out, char *err, size_t errlen);

#endif
