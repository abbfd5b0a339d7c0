/* lever_children.c - Lever.ListPathChildren: one level of the parameter
 * hierarchy under a path, paged, for the console's tree. Folders are the
 * next path segments that have parameters below them, parameters the
 * names directly under the path; both in name order. A folder costs one
 * index seek (everything below it is skipped), so a page is
 * O(page * log n) whatever the size of the subtrees. Names hidden from
 * the caller (an explicit deny) are left out, and a folder appears only
 * when something below it is visible. */
#include "api/lever_children.h"

#include <string.h>

#include "api/jreq.h"
#include "core/index.h"
#include "core/name.h"
#include "core/param.h"
#include "core/token.h"
#include "json/jw.h"

enum { CHILDREN_DEFAULT = 500, CHILDREN_MAX = 1000 };

typedef struct walk_out {
    jw *w;
    lv_buf folders;   /* the folders' JSON, written after the parameters */
    jw fw;
    int64_t n;
} walk_out;

static void put_param(jw *w, const lv_param *p)
{
    const lv_version *v = lv_param_latest(p);
    jw_obj(w);
    jw_kstr(w, "Name", lv_param_shown(p));
    if (v != NULL) {
        jw_kstr(w, "Type", lv_ptype_name(v->type));
        jw_kint(w, "Version", v->version);
        jw_key(w, "LastModifiedDate");
        jw_time(w, v->modified_ms);
        if (v->modified_user)
            jw_kstr(w, "LastModifiedUser", v->modified_user);
    }
    jw_obj_end(w);
}

/* Walks from start; stops after max children with *resume set to the key
 * the next page seeks to. */
static lv_err walk(const lv_ssm_ctx *c, const lv_buf *prefix, const lv_buf *start, int64_t max, walk_out *o,
                   lv_buf *resume)
{
    const lv_index *ix = lv_engine_index(c->engine);
    const lv_index_node *n = lv_index_seek(ix, start->data, start->len);
    lv_err rc = LV_OK;
    while (n != NULL && rc == LV_OK) {
        const lv_param *p = lv_index_node_param(n);
        if (p->key_len < prefix->len || memcmp(p->key, prefix->data, prefix->len) != 0)
            break;
        if (lv_ssm_hidden(c->hide, p->region, p->name)) {
            n = lv_index_next(n);
            continue;
        }
        const char *rel = p->key + prefix->len;
        const char *slash = memchr(rel, '/', p->key_len - prefix->len);
        lv_buf_reset(resume);
        if (o->n == max) {
            return lv_buf_append(resume, p->key, p->key_len);
        }
        if (slash != NULL) {
            /* "<folder>0" is the first key after everything below "<folder>/". */
            size_t upto = (size_t)(slash - p->key);
            jw_obj(&o->fw);
            jw_key(&o->fw, "Name");
            jw_strn(&o->fw, p->name, (size_t)(slash - p->name));
            jw_obj_end(&o->fw);
            if ((rc = lv_buf_append(resume, p->key, upto)) == LV_OK && (rc = lv_buf_putc(resume, '0')) == LV_OK)
                n = lv_index_seek(ix, resume->data, resume->len);
        } else {
            put_param(o->w, p);
            n = lv_index_next(n);
        }
        o->n++;
    }
    lv_buf_reset(resume);
    return rc;
}

lv_err lv_lever_path_children(const lv_ssm_ctx *c, const char *body, size_t len, lv_buf *out, lv_error *err)
{
    jreq r;
    lv_err rc = jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    size_t plen = 0, tlen = 0;
    const char *path = jreq_str(&r, NULL, "Path", true, 1, LV_NAME_WIRE_MAX, &plen);
    int64_t max = CHILDREN_DEFAULT;
    jreq_int(&r, NULL, "MaxResults", false, 1, CHILDREN_MAX, &max);
    const char *token = jreq_str(&r, NULL, "NextToken", false, 0, 0, &tlen);
    if ((rc = jreq_finish(&r, err)) != LV_OK) {
        jreq_free(&r);
        return rc;
    }
    lv_buf cp = LV_BUF_INIT, prefix = LV_BUF_INIT, start = LV_BUF_INIT, resume = LV_BUF_INIT, tok = LV_BUF_INIT;
    walk_out o = {NULL, LV_BUF_INIT, {NULL, false, LV_OK}, 0};
    if ((rc = lv_path_canonical(path, plen, &cp, err)) != LV_OK)
        goto done;
    if (lv_buf_append(&prefix, c->region, strlen(c->region) + 1) != LV_OK ||
        lv_buf_append(&prefix, cp.data, cp.len) != LV_OK) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto done;
    }
    uint32_t qh = lv_token_hash(0, prefix.data, prefix.len);
    if (token != NULL && tlen > 0) {
        if ((rc = lv_token_decode('C', qh, token, tlen, &start, err)) != LV_OK)
            goto done;
        if (start.len < prefix.len || memcmp(start.data, prefix.data, prefix.len) != 0) {
            rc = lv_error_set(err, LV_E_INVALID_NEXT_TOKEN, "The specified token isn't valid.");
            goto done;
        }
    } else if ((rc = lv_buf_append(&start, prefix.data, prefix.len)) != LV_OK) {
        lv_error_set(err, rc, "out of memory");
        goto done;
    }
    jw w;
    jw_init(&w, out);
    jw_init(&o.fw, &o.folders);
    o.w = &w;
    jw_obj(&w);
    jw_kstr(&w, "Path", cp.data);
    jw_key(&w, "Parameters");
    jw_arr(&w);
    jw_arr(&o.fw);
    lv_engine_rdlock(c->engine);
    rc = walk(c, &prefix, &start, max, &o, &resume);
    lv_engine_rdunlock(c->engine);
    jw_arr_end(&o.fw);
    jw_arr_end(&w);
    jw_key(&w, "Folders");
    if (rc == LV_OK && o.fw.rc == LV_OK)
        jw_raw(&w, o.folders.data, o.folders.len);
    if (rc == LV_OK && resume.len > 0 && (rc = lv_token_encode('C', qh, resume.data, resume.len, &tok)) == LV_OK)
        jw_kstr(&w, "NextToken", tok.data);
    jw_obj_end(&w);
    if (rc == LV_OK && (w.rc != LV_OK || o.fw.rc != LV_OK))
        rc = LV_E_NOMEM;
    if (rc != LV_OK && err->code != rc)
        lv_error_set(err, rc, "out of memory");
done:
    lv_buf_free(&cp);
    lv_buf_free(&prefix);
    lv_buf_free(&start);
    lv_buf_free(&resume);
    lv_buf_free(&tok);
    lv_buf_free(&o.folders);
    jreq_free(&r);
    return rc;
}
