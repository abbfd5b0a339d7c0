/* jreq.h - reading an AWS JSON 1.1 request body: type checks (wrong JSON
 * type = SerializationException) and the botocore shape constraints
 * (min/max/enum, required = ValidationException in AWS's wording,
 * "Value '11' at 'maxResults' failed to satisfy constraint: ..."). */
#ifndef LV_API_JREQ_H
#define LV_API_JREQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct jreq {
    json_t *root;
    lv_buf verr;      /* accumulated "Value ... at ... failed ..." */
    unsigned nverr;
    lv_err serr;      /* first serialization problem, LV_OK if none */
    char smsg[256];
} jreq;

/* Parses body (empty = {}). Malformed JSON or a non-object gives
 * LV_E_SERIALIZATION in err. */
lv_err jreq_parse(jreq *r, const char *body, size_t len, lv_error *err);
/* Uses an already parsed body (a new reference is taken), so a request
 * that was parsed once, e.g. to authorise it, is not parsed again. */
lv_err jreq_adopt(jreq *r, json_t *root, lv_error *err);
void jreq_free(jreq *r);

/* Field readers. `field` is the wire member name ("MaxResults"); messages
 * use AWS's lowerCamel form ("maxResults"). They return the value or
 * NULL/false when absent; a constraint failure is recorded, not returned. */
const char *jreq_str(jreq *r, json_t *obj, const char *field, bool required,
                     size_t min, size_t max, size_t *len);
const char *jreq_enum(jreq *r, json_t *obj, const char *field, bool required,
                      const char *const *allowed);
bool jreq_bool(jreq *r, json_t *obj, const char *field, bool *out);
bool jreq_int(jreq *r, json_t *obj, const char *field, bool required,
              int64_t min, int64_t max, int64_t *out);
/* An array (or NULL when absent) with its length checked. */
json_t *jreq_array(jreq *r, json_t *obj, const char *field, bool required,
                   size_t min, size_t max);
/* A string array element (with length limits); NULL and a recorded error
 * when it is not a string. */
const char *jreq_elem_str(jreq *r, json_t *arr, size_t i, const char *path,
                          size_t min, size_t max);

/* Records a custom constraint failure. */
void jreq_fail(jreq *r, const char *value, const char *path, const char *constraint);

/* After reading every field: LV_OK, or the SerializationException /
 * ValidationException to answer. */
lv_err jreq_finish(jreq *r, lv_error *err);

#endif
