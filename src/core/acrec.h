/* acrec.h - AppConfig records: one immutable, reference-counted record per
 * resource (application, environment, profile, hosted version, strategy,
 * deployment, extension, association, tag set), its store encoding, and
 * the sorted table the engine keeps them in.
 *
 * A record is a kind plus a fixed number of fields; each field is a list of
 * byte strings (most hold exactly one; lists such as an environment's
 * monitors hold flat tuples). The meaning of field i for each kind is in
 * core/appconfig.h. Keys order the table so that a resource's children are
 * one contiguous range ("e<app>/" holds the environments of <app>). */
#ifndef LV_CORE_ACREC_H
#define LV_CORE_ACREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum { LV_ACREC_MAXF = 24, LV_ACREC_MAX_ITEMS = 4096 };

typedef struct lv_acstr {
    char *p;          /* owned, NUL-terminated (content may hold NULs) */
    size_t n;
} lv_acstr;

typedef struct lv_acfield {
    lv_acstr *v;      /* owned array of n strings */
    unsigned n;
    bool set;         /* in requests: the caller gave this field */
} lv_acfield;

typedef struct lv_acrec {
    char kind;
    char *key;        /* owned, NUL-terminated */
    size_t klen;
    unsigned nf;
    lv_acfield f[LV_ACREC_MAXF];
    unsigned refs;    /* atomically updated; starts at 1 */
} lv_acrec;

/* A new empty record of kind with nf fields (none set). Caller owns it
 * (lv_acrec_unref). NULL when out of memory or nf too large. */
lv_acrec *lv_acrec_new(char kind, unsigned nf);
/* A deep copy (refs 1) with key newkey (NULL: the same key). */
lv_acrec *lv_acrec_clone(const lv_acrec *r, const char *newkey);
lv_acrec *lv_acrec_ref(const lv_acrec *r);
void lv_acrec_unref(const lv_acrec *r);

lv_err lv_acrec_set_key(lv_acrec *r, const char *key);
/* Replaces field i by one string (copied). */
lv_err lv_acrec_set(lv_acrec *r, unsigned i, const char *p, size_t n);
lv_err lv_acrec_set_str(lv_acrec *r, unsigned i, const char *s);
lv_err lv_acrec_set_num(lv_acrec *r, unsigned i, int64_t v);
/* Appends one string to field i's list (marks it set). */
lv_err lv_acrec_push(lv_acrec *r, unsigned i, const char *p, size_t n);
/* Empties field i and marks it set (or not). */
void lv_acrec_clear(lv_acrec *r, unsigned i, bool set);
/* Copies field i of src into field j of dst. */
lv_err lv_acrec_copy_field(lv_acrec *dst, unsigned j, const lv_acrec *src, unsigned i);

/* Field i's first string ("" when empty), its length, as a number
 * (0 when empty or not a number), its k-th list item. */
const char *lv_acrec_str(const lv_acrec *r, unsigned i);
size_t lv_acrec_len(const lv_acrec *r, unsigned i);
int64_t lv_acrec_num(const lv_acrec *r, unsigned i);
bool lv_acrec_has(const lv_acrec *r, unsigned i);
unsigned lv_acrec_count(const lv_acrec *r, unsigned i);
const lv_acstr *lv_acrec_item(const lv_acrec *r, unsigned i, unsigned k);

/* Store encoding: kind, field count, then per field an item count and
 * length-prefixed items (u32 big-endian). Appends to out. */
lv_err lv_acrec_encode(const lv_acrec *r, lv_buf *out);
/* Decodes val as stored under key (no store prefix). Malformed input gives
 * LV_E_CORRUPT; on success *out is owned by the caller. */
lv_err lv_acrec_decode(const char *key, size_t klen, const void *val, size_t vlen, lv_acrec **out,
                       lv_error *err);

/* ---- the table: records sorted by key (memcmp), each holding one ref ---- */
typedef struct lv_actable {
    lv_acrec **r;
    size_t n, cap;
} lv_actable;

void lv_actable_free(lv_actable *t);
const lv_acrec *lv_actable_get(const lv_actable *t, const char *key, size_t klen);
/* Index of the first record with key >= key (n when none). */
size_t lv_actable_seek(const lv_actable *t, const char *key, size_t klen);
/* Puts rec (consumes the caller's reference), replacing and returning in
 * *old any record with the same key (the caller unrefs it). */
lv_err lv_actable_put(lv_actable *t, lv_acrec *rec, lv_acrec **old);
/* Removes key; returns the record (caller unrefs) or NULL. */
lv_acrec *lv_actable_remove(lv_actable *t, const char *key, size_t klen);

static inline bool lv_acrec_has_prefix(const lv_acrec *r, const char *p, size_t n)
{
    return r->klen >= n && __builtin_memcmp(r->key, p, n) == 0;
}

#endif
