/* changerec.h - the change-log entries of one commit as a store record,
 * so that every node following a shared store appends exactly the changes
 * (kinds, versions, times) the writing node appended.
 *
 * Key: "C" <be16 slot>, slot = the commit's revision modulo
 * LV_CHANGEREC_SLOTS: the records form a ring that never grows. A follower
 * that is fewer than LV_CHANGEREC_SLOTS revisions behind finds every
 * commit's record in the feed (each commit consumes at least one
 * revision, so no two of them share a slot); one further behind has lost
 * history and must say so to its watchers (the change log's floor).
 *
 * Value: "c1" then per change: u8 kind, be32 version, be64 time_ms,
 * be32 key length, key bytes. Decoding treats the bytes as untrusted. */
#ifndef LV_CORE_CHANGEREC_H
#define LV_CORE_CHANGEREC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/changelog.h"
#include "core/err.h"

enum { LV_CHANGEREC_SLOTS = 4096, LV_CHANGEREC_MAX = 1 << 20 };

/* The record key of the commit with revision rev (3 bytes). */
void lv_changerec_key(uint64_t rev, unsigned char out[3]);

lv_err lv_changerec_encode(const lv_change *c, size_t n, lv_buf *out);

/* A decoded list: changes whose keys point into the owned buffer. */
typedef struct lv_changerec {
    lv_change *c;
    size_t n;
    char *keys;
} lv_changerec;

/* Decodes val; revisions are left 0 (the caller numbers them). */
lv_err lv_changerec_decode(const void *val, size_t vlen, lv_changerec *out, lv_error *err);
void lv_changerec_free(lv_changerec *r);

#endif
