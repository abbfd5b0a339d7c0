/* record.c - encoding and (untrusting) decoding of stored records.
 * Each record: one format byte, then fields of <tag:1><len:varint><bytes>.
 * Integers inside fields are varints. Unknown tags are skipped so a newer
 * lever can add fields without breaking an older reader's load. */
#include "core/record.h"

#include <stdlib.h>
#include <string.h>

enum { FMT_PARAM = 0x50, FMT_VERSION = 0x56 };

enum {
    F_VERSION = 1, F_TYPE, F_TIER, F_MODIFIED, F_VALUE, F_DESCRIPTION,
    F_PATTERN, F_KEY_ID, F_DATA_TYPE, F_POLICIES, F_USER, F_LABEL, F_POLICY,
};
/* Parameter records: tags as key/value pairs, and the name as created
 * when it is not the canonical one ("/x" for x; older records lack it and
 * load as created without the slash). */
enum { F_TAG_KEY = 1, F_TAG_VALUE = 2, F_CREATED = 3 };

static lv_err put_varint(lv_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    return lv_buf_append(b, tmp, n);
}

static lv_err put_field(lv_buf *b, unsigned tag, const void *p, size_t n)
{
    unsigned char t = (unsigned char)tag;
    lv_err rc = lv_buf_append(b, &t, 1);
    if (rc == LV_OK)
        rc = put_varint(b, n);
    if (rc == LV_OK)
        rc = lv_buf_append(b, p, n);
    return rc;
}

static lv_err put_str(lv_buf *b, unsigned tag, const char *s)
{
    return s ? put_field(b, tag, s, strlen(s)) : LV_OK;
}

static lv_err put_int(lv_buf *b, unsigned tag, uint64_t v)
{
    lv_buf tmp = LV_BUF_INIT;
    lv_err rc = put_varint(&tmp, v);
    if (rc == LV_OK)
        rc = put_field(b, tag, tmp.data, tmp.len);
    lv_buf_free(&tmp);
    return rc;
}

typedef struct reader {
    const unsigned char *p, *end;
} reader;

static bool get_varint(reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return false;
        unsigned char c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Next field; false at a clean end, *bad set when malformed. */
static bool next_field(reader *r, unsigned *tag, const unsigned char **data, size_t *len, bool *bad)
{
    *bad = false;
    if (r->p >= r->end)
        return false;
    *tag = *r->p++;
    uint64_t n;
    if (!get_varint(r, &n) || n > (uint64_t)(r->end - r->p)) {
        *bad = true;
        return false;
    }
    *data = r->p;
    *len = (size_t)n;
    r->p += n;
    return true;
}

static bool field_int(const unsigned char *d, size_t n, uint64_t *out)
{
    reader r = {d, d + n};
    return get_varint(&r, out) && r.p == r.end;
}

/* A NUL-free copy of a field as a C string. */
static char *field_str(const unsigned char *d, size_t n)
{
    if (memchr(d, '\0', n) != NULL)
        return NULL;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, d, n);
        s[n] = '\0';
    }
    return s;
}

lv_err lv_record_param_key(const lv_param *p, lv_buf *out)
{
    lv_buf_reset(out);
    lv_err rc = lv_buf_putc(out, 'P');
    return rc ? rc : lv_buf_append(out, p->key, p->key_len);
}

lv_err lv_record_version_key(const lv_param *p, uint32_t version, lv_buf *out)
{
    unsigned char tail[5] = {0, (unsigned char)(version >> 24), (unsigned char)(version >> 16),
                             (unsigned char)(version >> 8), (unsigned char)version};
    lv_buf_reset(out);
    lv_err rc = lv_buf_putc(out, 'V');
    if (rc == LV_OK)
        rc = lv_buf_append(out, p->key, p->key_len);
    return rc ? rc : lv_buf_append(out, tail, sizeof tail);
}

lv_err lv_record_encode_param(const lv_param *p, lv_buf *out)
{
    lv_buf_reset(out);
    lv_err rc = lv_buf_putc(out, (char)FMT_PARAM);
    if (rc == LV_OK)
        rc = put_str(out, F_CREATED, p->created);
    for (unsigned i = 0; rc == LV_OK && i < p->ntags; i++) {
        rc = put_str(out, F_TAG_KEY, p->tags[i].key);
        if (rc == LV_OK)
            rc = put_str(out, F_TAG_VALUE, p->tags[i].value);
    }
    return rc;
}

lv_err lv_record_encode_version(const lv_version *v, lv_buf *out)
{
    lv_buf_reset(out);
    lv_err rc = lv_buf_putc(out, (char)FMT_VERSION);
    if (rc == LV_OK) rc = put_int(out, F_VERSION, v->version);
    if (rc == LV_OK) rc = put_int(out, F_TYPE, (uint64_t)v->type);
    if (rc == LV_OK) rc = put_int(out, F_TIER, (uint64_t)v->tier);
    if (rc == LV_OK) rc = put_int(out, F_MODIFIED, (uint64_t)v->modified_ms);
    if (rc == LV_OK) rc = put_field(out, F_VALUE, v->value, v->value_len);
    if (rc == LV_OK) rc = put_str(out, F_DESCRIPTION, v->description);
    if (rc == LV_OK) rc = put_str(out, F_PATTERN, v->allowed_pattern);
    if (rc == LV_OK) rc = put_str(out, F_KEY_ID, v->key_id);
    if (rc == LV_OK) rc = put_str(out, F_DATA_TYPE, v->data_type);
    if (rc == LV_OK) rc = put_str(out, F_POLICIES, v->policies);
    if (rc == LV_OK) rc = put_str(out, F_USER, v->modified_user);
    for (unsigned i = 0; rc == LV_OK && i < v->nlabels; i++)
        rc = put_str(out, F_LABEL, v->labels[i]);
    for (unsigned i = 0; rc == LV_OK && v->policy && i < v->policy->n; i++) {
        const lv_policy *pol = &v->policy->p[i];
        lv_buf tmp = LV_BUF_INIT;
        rc = put_varint(&tmp, (uint64_t)pol->type);
        if (rc == LV_OK) rc = put_varint(&tmp, (uint64_t)pol->timestamp_ms);
        if (rc == LV_OK) rc = put_varint(&tmp, (uint64_t)pol->amount_ms);
        if (rc == LV_OK) rc = put_field(out, F_POLICY, tmp.data, tmp.len);
        lv_buf_free(&tmp);
    }
    return rc;
}

static lv_err corrupt(lv_error *err, const char *what)
{
    return lv_error_set(err, LV_E_CORRUPT, "corrupt stored record: %s", what);
}

lv_err lv_record_decode_param(const void *key, size_t klen, const void *val, size_t vlen,
                              lv_param **out, lv_error *err)
{
    const char *k = key;
    const char *nul = memchr(k, '\0', klen);
    if (nul == NULL || nul == k || (size_t)(nul - k) + 1 >= klen ||
        memchr(nul + 1, '\0', klen - (size_t)(nul - k) - 1) != NULL)
        return corrupt(err, "bad parameter key");
    const unsigned char *v = val;
    if (vlen < 1 || v[0] != FMT_PARAM)
        return corrupt(err, "bad parameter record format");
    char *name = field_str((const unsigned char *)nul + 1, klen - (size_t)(nul - k) - 1);
    if (name == NULL)
        return LV_E_NOMEM;
    lv_param *p = lv_param_new(k, name);
    free(name);
    if (p == NULL)
        return LV_E_NOMEM;
    reader r = {v + 1, v + vlen};
    unsigned tag;
    const unsigned char *d;
    size_t n;
    bool bad;
    char *pending_key = NULL;
    lv_err rc = LV_OK;
    while (rc == LV_OK && next_field(&r, &tag, &d, &n, &bad)) {
        if (tag == F_CREATED) {
            char *sp = field_str(d, n);
            if (sp == NULL || lv_param_set_created(p, sp) != LV_OK)
                rc = corrupt(err, "bad created name");
            free(sp);
        } else if (tag == F_TAG_KEY) {
            free(pending_key);
            pending_key = field_str(d, n);
            if (pending_key == NULL)
                rc = corrupt(err, "bad tag key");
        } else if (tag == F_TAG_VALUE) {
            char *value = field_str(d, n);
            if (pending_key == NULL || value == NULL)
                rc = corrupt(err, "tag value without key");
            else if (p->ntags >= LV_MAX_TAGS)
                rc = corrupt(err, "too many tags");
            else
                rc = lv_param_set_tag(p, pending_key, value);
            free(value);
            free(pending_key);
            pending_key = NULL;
        }
    }
    free(pending_key);
    if (rc == LV_OK && bad)
        rc = corrupt(err, "truncated parameter record");
    if (rc != LV_OK) {
        lv_param_free(p);
        return rc;
    }
    *out = p;
    return LV_OK;
}

lv_err lv_record_split_version_key(const void *key, size_t klen, size_t *param_key_len,
                                   uint32_t *version, lv_error *err)
{
    const unsigned char *k = key;
    if (klen < 8 || k[klen - 5] != 0)
        return corrupt(err, "bad version key");
    *param_key_len = klen - 5;
    *version = (uint32_t)k[klen - 4] << 24 | (uint32_t)k[klen - 3] << 16 |
               (uint32_t)k[klen - 2] << 8 | k[klen - 1];
    return LV_OK;
}

lv_err lv_record_decode_version(const void *val, size_t vlen, lv_version **out, lv_error *err)
{
    const unsigned char *v = val;
    if (vlen < 1 || v[0] != FMT_VERSION)
        return corrupt(err, "bad version record format");
    lv_version *ver = lv_version_new();
    if (ver == NULL)
        return LV_E_NOMEM;
    reader r = {v + 1, v + vlen};
    unsigned tag;
    const unsigned char *d;
    size_t n;
    bool bad, have_value = false;
    uint64_t x;
    lv_err rc = LV_OK;
    char **slot;
    while (rc == LV_OK && next_field(&r, &tag, &d, &n, &bad)) {
        slot = NULL;
        switch (tag) {
        case F_VERSION:
            if (!field_int(d, n, &x) || x == 0 || x > UINT32_MAX)
                rc = corrupt(err, "bad version number");
            ver->version = (uint32_t)x;
            break;
        case F_TYPE:
            if (!field_int(d, n, &x) || x > LV_TYPE_SECURE_STRING)
                rc = corrupt(err, "bad type");
            ver->type = (lv_ptype)x;
            break;
        case F_TIER:
            if (!field_int(d, n, &x) || x > LV_TIER_ADVANCED)
                rc = corrupt(err, "bad tier");
            ver->tier = (lv_tier)x;
            break;
        case F_MODIFIED:
            if (!field_int(d, n, &x) || x > INT64_MAX)
                rc = corrupt(err, "bad time");
            ver->modified_ms = (int64_t)x;
            break;
        case F_VALUE:
            free(ver->value);
            ver->value = malloc(n + 1);
            if (ver->value == NULL) {
                rc = LV_E_NOMEM;
                break;
            }
            memcpy(ver->value, d, n);
            ver->value[n] = '\0';
            ver->value_len = n;
            have_value = true;
            break;
        case F_DESCRIPTION: slot = &ver->description; break;
        case F_PATTERN: slot = &ver->allowed_pattern; break;
        case F_KEY_ID: slot = &ver->key_id; break;
        case F_DATA_TYPE: {
            char *dt = field_str(d, n);
            ver->data_type = dt ? lv_data_type_intern(dt) : NULL;
            free(dt);
            if (ver->data_type == NULL)
                rc = corrupt(err, "unknown data type");
            break;
        }
        case F_POLICIES: slot = &ver->policies; break;
        case F_USER: slot = &ver->modified_user; break;
        case F_LABEL:
        {
            char *l = field_str(d, n);
            if (l == NULL || ver->nlabels >= LV_MAX_LABELS_PER_VERSION)
                rc = corrupt(err, l ? "too many labels" : "bad label");
            else
                rc = lv_version_add_label(ver, l);
            free(l);
            break;
        }
        case F_POLICY: {
            if (ver->policy == NULL && (ver->policy = calloc(1, sizeof *ver->policy)) == NULL) {
                rc = LV_E_NOMEM;
                break;
            }
            reader pr = {d, d + n};
            uint64_t t, ts, amt;
            if (ver->policy->n >= LV_MAX_POLICIES || !get_varint(&pr, &t) || t > 2 ||
                !get_varint(&pr, &ts) || !get_varint(&pr, &amt) || pr.p != pr.end) {
                rc = corrupt(err, "bad policy");
                break;
            }
            lv_policy *pol = &ver->policy->p[ver->policy->n++];
            pol->type = (lv_policy_type)t;
            pol->timestamp_ms = (int64_t)ts;
            pol->amount_ms = (int64_t)amt;
            break;
        }
        default:
            break; /* a field from a newer lever */
        }
        if (slot != NULL) {
            free(*slot);
            *slot = field_str(d, n);
            if (*slot == NULL)
                rc = corrupt(err, "bad text field");
        }
    }
    if (rc == LV_OK && bad)
        rc = corrupt(err, "truncated version record");
    if (rc == LV_OK && (!have_value || ver->version == 0))
        rc = corrupt(err, "version record without value or number");
    if (rc != LV_OK) {
        lv_version_unref(ver);
        return rc;
    }
    *out = ver;
    return LV_OK;
}

void lv_record_put_u64(unsigned char out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)v;
        v >>= 8;
    }
}

uint64_t lv_record_get_u64(const unsigned char in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | in[i];
    return v;
}
