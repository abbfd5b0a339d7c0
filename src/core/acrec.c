/* acrec.c - AppConfig records: fields, reference counts, store encoding
 * and the sorted table. */
#include "core/acrec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lv_acrec *lv_acrec_new(char kind, unsigned nf)
{
    if (nf > LV_ACREC_MAXF)
        return NULL;
    lv_acrec *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->kind = kind;
    r->nf = nf;
    r->refs = 1;
    return r;
}

static void field_free(lv_acfield *f)
{
    for (unsigned k = 0; k < f->n; k++)
        free(f->v[k].p);
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

static void rec_free(lv_acrec *r)
{
    for (unsigned i = 0; i < r->nf; i++)
        field_free(&r->f[i]);
    free(r->key);
    free(r);
}

lv_acrec *lv_acrec_ref(const lv_acrec *r)
{
    lv_acrec *m = (lv_acrec *)r;
    if (m != NULL)
        __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
    return m;
}

void lv_acrec_unref(const lv_acrec *r)
{
    lv_acrec *m = (lv_acrec *)r;
    if (m != NULL && __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
        rec_free(m);
}

lv_err lv_acrec_set_key(lv_acrec *r, const char *key)
{
    char *k = strdup(key);
    if (k == NULL)
        return LV_E_NOMEM;
    free(r->key);
    r->key = k;
    r->klen = strlen(k);
    return LV_OK;
}

lv_err lv_acrec_push(lv_acrec *r, unsigned i, const char *p, size_t n)
{
    if (i >= r->nf)
        return LV_E_INTERNAL;
    lv_acfield *f = &r->f[i];
    if (f->n >= LV_ACREC_MAX_ITEMS)
        return LV_E_TOO_BIG;
    lv_acstr *nv = realloc(f->v, (f->n + 1) * sizeof *nv);
    if (nv == NULL)
        return LV_E_NOMEM;
    f->v = nv;
    char *c = malloc(n + 1);
    if (c == NULL)
        return LV_E_NOMEM;
    if (n)
        memcpy(c, p, n);
    c[n] = '\0';
    f->v[f->n].p = c;
    f->v[f->n].n = n;
    f->n++;
    f->set = true;
    return LV_OK;
}

void lv_acrec_clear(lv_acrec *r, unsigned i, bool set)
{
    if (i < r->nf) {
        field_free(&r->f[i]);
        r->f[i].set = set;
    }
}

lv_err lv_acrec_set(lv_acrec *r, unsigned i, const char *p, size_t n)
{
    if (i >= r->nf)
        return LV_E_INTERNAL;
    lv_acrec_clear(r, i, true);
    return lv_acrec_push(r, i, p, n);
}

lv_err lv_acrec_set_str(lv_acrec *r, unsigned i, const char *s)
{
    return lv_acrec_set(r, i, s, strlen(s));
}

lv_err lv_acrec_set_num(lv_acrec *r, unsigned i, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRId64, v);
    return lv_acrec_set(r, i, b, (size_t)n);
}

lv_err lv_acrec_copy_field(lv_acrec *dst, unsigned j, const lv_acrec *src, unsigned i)
{
    if (j >= dst->nf || i >= src->nf)
        return LV_E_INTERNAL;
    lv_acrec_clear(dst, j, src->f[i].set || src->f[i].n > 0);
    for (unsigned k = 0; k < src->f[i].n; k++) {
        lv_err rc = lv_acrec_push(dst, j, src->f[i].v[k].p, src->f[i].v[k].n);
        if (rc != LV_OK)
            return rc;
    }
    return LV_OK;
}

lv_acrec *lv_acrec_clone(const lv_acrec *r, const char *newkey)
{
    lv_acrec *c = lv_acrec_new(r->kind, r->nf);
    if (c == NULL)
        return NULL;
    if (lv_acrec_set_key(c, newkey ? newkey : (r->key ? r->key : "")) != LV_OK)
        goto fail;
    for (unsigned i = 0; i < r->nf; i++)
        if (lv_acrec_copy_field(c, i, r, i) != LV_OK)
            goto fail;
    return c;
fail:
    rec_free(c);
    return NULL;
}

const char *lv_acrec_str(const lv_acrec *r, unsigned i)
{
    return r != NULL && i < r->nf && r->f[i].n > 0 ? r->f[i].v[0].p : "";
}

size_t lv_acrec_len(const lv_acrec *r, unsigned i)
{
    return r != NULL && i < r->nf && r->f[i].n > 0 ? r->f[i].v[0].n : 0;
}

int64_t lv_acrec_num(const lv_acrec *r, unsigned i)
{
    const char *s = lv_acrec_str(r, i);
    char *end;
    long long v = strtoll(s, &end, 10);
    return *s && *end == '\0' ? (int64_t)v : 0;
}

bool lv_acrec_has(const lv_acrec *r, unsigned i)
{
    return r != NULL && i < r->nf && (r->f[i].set || r->f[i].n > 0);
}

unsigned lv_acrec_count(const lv_acrec *r, unsigned i)
{
    return r != NULL && i < r->nf ? r->f[i].n : 0;
}

const lv_acstr *lv_acrec_item(const lv_acrec *r, unsigned i, unsigned k)
{
    return r != NULL && i < r->nf && k < r->f[i].n ? &r->f[i].v[k] : NULL;
}

/* ---------- encoding ---------- */

static lv_err put_u32(lv_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    return lv_buf_append(b, x, 4);
}

lv_err lv_acrec_encode(const lv_acrec *r, lv_buf *out)
{
    char hdr[2] = {r->kind, (char)r->nf};
    lv_err rc = lv_buf_append(out, hdr, 2);
    for (unsigned i = 0; rc == LV_OK && i < r->nf; i++) {
        rc = put_u32(out, r->f[i].n);
        for (unsigned k = 0; rc == LV_OK && k < r->f[i].n; k++) {
            if (r->f[i].v[k].n > UINT32_MAX)
                return LV_E_TOO_BIG;
            rc = put_u32(out, (uint32_t)r->f[i].v[k].n);
            if (rc == LV_OK)
                rc = lv_buf_append(out, r->f[i].v[k].p, r->f[i].v[k].n);
        }
    }
    return rc;
}

static bool get_u32(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
    if (end - *p < 4)
        return false;
    *v = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
    *p += 4;
    return true;
}

lv_err lv_acrec_decode(const char *key, size_t klen, const void *val, size_t vlen, lv_acrec **out,
                       lv_error *err)
{
    *out = NULL;
    const unsigned char *p = val, *end = p + vlen;
    if (vlen < 2 || p[1] > LV_ACREC_MAXF || klen == 0 || memchr(key, '\0', klen) != NULL)
        return lv_error_set(err, LV_E_CORRUPT, "malformed appconfig record");
    lv_acrec *r = lv_acrec_new((char)p[0], p[1]);
    if (r == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    lv_err rc = LV_OK;
    if ((r->key = malloc(klen + 1)) == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(r->key, key, klen);
    r->key[klen] = '\0';
    r->klen = klen;
    p += 2;
    for (unsigned i = 0; i < r->nf; i++) {
        uint32_t n;
        if (!get_u32(&p, end, &n) || n > LV_ACREC_MAX_ITEMS)
            goto corrupt;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t len;
            if (!get_u32(&p, end, &len) || (size_t)(end - p) < len)
                goto corrupt;
            if ((rc = lv_acrec_push(r, i, (const char *)p, len)) != LV_OK) {
                lv_error_set(err, rc, "out of memory");
                goto fail;
            }
            p += len;
        }
        r->f[i].set = true;
    }
    if (p != end)
        goto corrupt;
    *out = r;
    return LV_OK;
corrupt:
    rc = lv_error_set(err, LV_E_CORRUPT, "malformed appconfig record %.*s", (int)(klen > 64 ? 64 : klen), key);
fail:
    rec_free(r);
    return rc;
}

/* ---------- table ---------- */

static int keycmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c != 0 ? c : (an < bn ? -1 : an > bn);
}

size_t lv_actable_seek(const lv_actable *t, const char *key, size_t klen)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keycmp(t->r[mid]->key, t->r[mid]->klen, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const lv_acrec *lv_actable_get(const lv_actable *t, const char *key, size_t klen)
{
    size_t i = lv_actable_seek(t, key, klen);
    return i < t->n && keycmp(t->r[i]->key, t->r[i]->klen, key, klen) == 0 ? t->r[i] : NULL;
}

lv_err lv_actable_put(lv_actable *t, lv_acrec *rec, lv_acrec **old)
{
    *old = NULL;
    size_t i = lv_actable_seek(t, rec->key, rec->klen);
    if (i < t->n && keycmp(t->r[i]->key, t->r[i]->klen, rec->key, rec->klen) == 0) {
        *old = t->r[i];
        t->r[i] = rec;
        return LV_OK;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        lv_acrec **nr = realloc(t->r, cap * sizeof *nr);
        if (nr == NULL)
            return LV_E_NOMEM;
        t->r = nr;
        t->cap = cap;
    }
    memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof *t->r);
    t->r[i] = rec;
    t->n++;
    return LV_OK;
}

lv_acrec *lv_actable_remove(lv_actable *t, const char *key, size_t klen)
{
    size_t i = lv_actable_seek(t, key, klen);
    if (i >= t->n || keycmp(t->r[i]->key, t->r[i]->klen, key, klen) != 0)
        return NULL;
    lv_acrec *r = t->r[i];
    memmove(&t->r[i], &t->r[i + 1], (t->n - i - 1) * sizeof *t->r);
    t->n--;
    return r;
}

void lv_actable_free(lv_actable *t)
{
    for (size_t i = 0; i < t->n; i++)
        lv_acrec_unref(t->r[i]);
    free(t->r);
    t->r = NULL;
    t->n = t->cap = 0;
}
