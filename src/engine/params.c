/* params.c - parameter writes in the writer: run the core plan for a
 * put, delete, label, tag, expiry or re-wrap against the batch's view and
 * turn the new state into store ops; and the shared LastModifiedUser pool. */
#include "engine/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/record.h"
#include "crypto/crypto.h"
#include "store/store.h"

enum { MAX_SHARED_USERS = 1024 };

/* Makes v point at the pool's copy of its user ARN, so a million versions
 * by one caller hold one string. Best effort: on any failure v keeps its
 * own copy. */
void lv_eng_share_user(lv_engine *e, lv_version *v)
{
    if (v == NULL || v->modified_user == NULL || v->user_shared)
        return;
    char *shared = NULL;
    for (size_t i = 0; i < e->nusers && shared == NULL; i++)
        if (strcmp(e->users[i], v->modified_user) == 0)
            shared = e->users[i];
    if (shared == NULL) {
        if (e->nusers >= MAX_SHARED_USERS)
            return;
        if (e->nusers == e->users_cap) {
            size_t cap = e->users_cap ? e->users_cap * 2 : 8;
            char **nu = realloc(e->users, cap * sizeof *nu);
            if (nu == NULL)
                return;
            e->users = nu;
            e->users_cap = cap;
        }
        if ((shared = strdup(v->modified_user)) == NULL)
            return;
        e->users[e->nusers++] = shared;
    }
    free(v->modified_user);
    v->modified_user = shared;
    v->user_shared = true;
}

void lv_eng_users_free(lv_engine *e)
{
    for (size_t i = 0; i < e->nusers; i++)
        free(e->users[i]);
    free(e->users);
    e->users = NULL;
    e->nusers = e->users_cap = 0;
}

static bool tags_equal(const lv_param *a, const lv_param *b)
{
    if (a->ntags != b->ntags)
        return false;
    for (unsigned i = 0; i < a->ntags; i++)
        if (strcmp(a->tags[i].key, b->tags[i].key) != 0 ||
            strcmp(a->tags[i].value, b->tags[i].value) != 0)
            return false;
    return true;
}

/* Store ops that turn old into new (either may be NULL). */
static lv_err emit_diff(batch *b, const lv_param *old, const lv_param *nw)
{
    lv_buf k = LV_BUF_INIT, v = LV_BUF_INIT;
    lv_err rc = LV_OK;
    const lv_param *any = nw ? nw : old;
    if (nw == NULL || old == NULL || !tags_equal(old, nw)) {
        rc = lv_record_param_key(any, &k);
        if (rc == LV_OK && nw != NULL)
            rc = lv_record_encode_param(nw, &v);
        if (rc == LV_OK)
            rc = lv_eng_add_op(b, &k, nw ? &v : NULL);
    }
    unsigned i = 0, j = 0;
    unsigned on = old ? old->nversions : 0, nn = nw ? nw->nversions : 0;
    while (rc == LV_OK && (i < on || j < nn)) {
        const lv_version *ov = i < on ? old->versions[i] : NULL;
        const lv_version *nv = j < nn ? nw->versions[j] : NULL;
        if (nv == NULL || (ov != NULL && ov->version < nv->version)) {
            rc = lv_record_version_key(any, ov->version, &k);
            if (rc == LV_OK)
                rc = lv_eng_add_op(b, &k, NULL);
            i++;
        } else {
            bool same = ov != NULL && ov->version == nv->version;
            if (!same || ov != nv) {
                rc = lv_record_version_key(any, nv->version, &k);
                if (rc == LV_OK)
                    rc = lv_record_encode_version(nv, &v);
                if (rc == LV_OK)
                    rc = lv_eng_add_op(b, &k, &v);
            }
            if (same)
                i++;
            j++;
        }
    }
    lv_buf_free(&k);
    lv_buf_free(&v);
    return rc;
}

lv_err lv_eng_plan_param(lv_engine *e, batch *b, lv_write *w, lv_error *err)
{
    size_t klen;
    char *key = lv_param_make_key(w->region, w->name, &klen);
    if (key == NULL)
        return LV_E_NOMEM;
    overlay_entry *oe = lv_eng_overlay_find(b, key, klen);
    const lv_param *cur = oe ? oe->state : lv_index_get(e->index, key, klen);
    free(key);
    lv_param *next = NULL;
    lv_err rc = LV_OK;
    lv_change_kind kind = LV_CHANGE_PUT;
    uint32_t version = 0;
    bool changed = true;
    bool event = true;    /* a change watchers see (not a re-wrap) */

    switch (w->kind) {
    case LV_WRITE_PUT:
        rc = lv_plan_put(cur, w->region, w->name, w->u.put.in, lv_eng_seal_value, e, &next,
                         &w->u.put.res, err);
        if (rc == LV_OK)
            lv_eng_share_user(e, next->versions[next->nversions - 1]); /* new, not yet shared */
        version = w->u.put.res.version;
        break;
    case LV_WRITE_DELETE:
        if (cur == NULL)
            return lv_error_set(err, LV_E_PARAM_NOT_FOUND, "Parameter %s not found.", w->name);
        kind = LV_CHANGE_DELETE;
        break;
    case LV_WRITE_LABEL:
        rc = lv_plan_label(cur, w->u.label.version, w->u.label.labels, w->u.label.n, &next,
                           &w->u.label.res, err);
        kind = LV_CHANGE_LABEL;
        version = w->u.label.res.version;
        changed = rc == LV_OK && w->u.label.res.changed;
        break;
    case LV_WRITE_UNLABEL:
        rc = lv_plan_unlabel(cur, w->u.label.version, w->u.label.labels, w->u.label.n, &next,
                             &w->u.label.res, err);
        kind = LV_CHANGE_UNLABEL;
        version = w->u.label.res.version;
        changed = rc == LV_OK && w->u.label.res.changed;
        break;
    case LV_WRITE_ADD_TAGS:
    case LV_WRITE_REMOVE_TAGS:
        if (cur == NULL)
            return lv_error_set(err, LV_E_INVALID_RESOURCE_ID,
                                "The resource ID \"%s\" is not valid. Verify the ID and try again.",
                                w->name);
        if (w->kind == LV_WRITE_ADD_TAGS)
            rc = lv_plan_add_tags(cur, w->u.tags.tags, w->u.tags.n, &next, err);
        else
            rc = lv_plan_remove_tags(cur, w->u.untag.keys, w->u.untag.n, &next, err);
        kind = LV_CHANGE_TAG;
        break;
    case LV_WRITE_EXPIRE:
    case LV_WRITE_NOTIFY: {
        const lv_version *lv = cur ? lv_param_latest(cur) : NULL;
        if (lv == NULL || lv->version != w->u.timer.version)
            return LV_OK; /* changed since the timer was set: nothing to do */
        kind = w->u.timer.event;
        version = lv->version;
        if (w->kind == LV_WRITE_NOTIFY)
            return lv_eng_add_change(b, kind, cur, version);
        break;
    }
    case LV_WRITE_REWRAP:
        if (cur == NULL)
            return LV_OK; /* deleted meanwhile */
        rc = lv_eng_plan_rewrap(e, cur, &next, err);
        changed = rc == LV_OK && next != NULL;
        event = false;
        w->stored = changed;
        break;
    case LV_WRITE_RAW:
    case LV_WRITE_APPCONFIG:
        return LV_E_INTERNAL; /* handled above */
    }
    if (rc != LV_OK) {
        lv_param_free(next);
        return rc;
    }
    if (!changed) {
        lv_param_free(next);
        return LV_OK;
    }
    bool moves = kind == LV_CHANGE_LABEL || kind == LV_CHANGE_UNLABEL || kind == LV_CHANGE_DELETE;
    if ((rc = emit_diff(b, cur, next)) != LV_OK ||
        (event && (rc = lv_eng_add_change(b, kind, cur ? cur : next, version)) != LV_OK) ||
        (event && moves && (rc = lv_eng_ac_param_changed(e, b, w->name)) != LV_OK)) {
        lv_param_free(next);
        return rc;
    }
    if (oe == NULL) {
        if ((rc = lv_eng_grow_arr((void **)&b->ov, &b->cap_ov, b->nov + 1, sizeof *b->ov)) != LV_OK) {
            lv_param_free(next);
            return rc;
        }
        oe = &b->ov[b->nov++];
        oe->orig = (lv_param *)cur;
        oe->fresh = false;
    } else if (oe->fresh && oe->state != NULL) {
        /* Superseded within the batch; its key is still referenced by the
         * change just recorded, so free it after the batch. */
        if ((rc = lv_eng_add_garbage(b, oe->state)) != LV_OK) {
            lv_param_free(next);
            return rc;
        }
    }
    oe->state = next;
    oe->fresh = true;
    const lv_param *kp = next ? next : (oe->orig ? oe->orig : cur);
    oe->key = kp->key;
    oe->key_len = kp->key_len;
    if (w->kind == LV_WRITE_EXPIRE)
        b->nexpired++;
    return LV_OK;
}

