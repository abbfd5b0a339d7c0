/* record.h - the bytes lever keeps in a store: keys and values of the
 * parameter records, their versions and the metadata. A compact
 * tag-length-value format; decoding treats its input as untrusted (a
 * damaged file must give LV_E_CORRUPT, never a crash).
 *
 * Keys (ordered bytewise, which is the order the store hands back):
 *   "M" <name>                      metadata (e.g. "Mrevision")
 *   "P" <region> 0 <name>           a parameter's own record (tags)
 *   "V" <region> 0 <name> 0 <be32>  one version of a parameter
 * "P" < "V", so a parameter's record loads before its versions. */
#ifndef LV_CORE_RECORD_H
#define LV_CORE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/param.h"

lv_err lv_record_param_key(const lv_param *p, lv_buf *out);
lv_err lv_record_version_key(const lv_param *p, uint32_t version, lv_buf *out);

lv_err lv_record_encode_param(const lv_param *p, lv_buf *out);
lv_err lv_record_encode_version(const lv_version *v, lv_buf *out);

/* Decodes a parameter record ("P" key without the 'P': region\0name) into a
 * new lv_param (caller frees). */
lv_err lv_record_decode_param(const void *key, size_t klen, const void *val,
                              size_t vlen, lv_param **out, lv_error *err);

/* Splits a "V" key (without the 'V') into the parameter key part and the
 * version number. */
lv_err lv_record_split_version_key(const void *key, size_t klen,
                                   size_t *param_key_len, uint32_t *version,
                                   lv_error *err);

/* Decodes a version record into a new lv_version (refs 1, caller unrefs). */
lv_err lv_record_decode_version(const void *val, size_t vlen, lv_version **out,
                                lv_error *err);

/* Big-endian u64 for metadata values. */
void lv_record_put_u64(unsigned char out[8], uint64_t v);
uint64_t lv_record_get_u64(const unsigned char in[8]);

#endif
