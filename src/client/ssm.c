/* ssm.c - liblever's Parameter Store calls: signed JSON 1.1 requests with
 * paging, fetch/list/history/describe, put/delete/label/unlabel, the raw
 * watch, and the generic call tools use. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/handle.h"
#include "client/lever_int.h"
#include "client/records.h"

/* ------------------------------------------------------------ requests */

/* One call on conn (the caller serialises use of conn). On failure the
 * message is recorded for lever_last_error. *reply must be cleared by the
 * caller whatever the outcome. */
static lever_status call_hdr(lever *c, lvc_conn *conn, const char *op, json_t *body, long timeout_ms,
                             lvc_reply *reply, bool record_not_found, const lvc_hdr *hdrs, size_t nhdrs)
{
    char err[ERR_MAX];
    if (body == NULL) {
        memset(reply, 0, sizeof *reply);
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory building %s", op);
    }
    char target[96];
    snprintf(target, sizeof target, "%s%s", strchr(op, '.') ? "" : "AmazonSSM.", op);
    lever_status st = lvc_call_ex(conn, &c->srv, target, body, hdrs, nhdrs, timeout_ms, reply, NULL, err,
                                  sizeof err);
    if (st != LEVER_OK && (record_not_found || st != LEVER_E_NOT_FOUND))
        lvl_fail(c, st, "%s: %s", op, err);
    return st;
}

static lever_status call_ex(lever *c, lvc_conn *conn, const char *op, json_t *body, long timeout_ms,
                            lvc_reply *reply, bool record_not_found)
{
    return call_hdr(c, conn, op, body, timeout_ms, reply, record_not_found, NULL, 0);
}

static lever_status call(lever *c, lvc_conn *conn, const char *op, json_t *body, long timeout_ms,
                         lvc_reply *reply)
{
    return call_ex(c, conn, op, body, timeout_ms, reply, true);
}

/* A call on the shared caller connection. Consumes body. */
lever_status lvl_call_shared(lever *c, const char *op, json_t *body, lvc_reply *reply)
{
    pthread_mutex_lock(&c->net_mu);
    lever_status st = call(c, c->conn, op, body, (long)c->timeout_ms, reply);
    pthread_mutex_unlock(&c->net_mu);
    if (body)
        json_decref(body);
    return st;
}

/* Follows NextToken for op, appending every element of result_key to acc.
 * req is the request without NextToken (consumed). rev receives the
 * revision header of the first page. */
static lever_status pages(lever *c, lvc_conn *conn, bool shared, const char *op, json_t *req,
                          const char *result_key, json_t *acc, uint64_t *rev)
{
    lever_status st = LEVER_OK;
    if (req == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory building %s", op);
    bool first = true;
    for (int guard = 0;; guard++) {
        if (guard > 1000000) {
            st = lvl_fail(c, LEVER_E_SERVER, "%s: paging does not end", op);
            break;
        }
        lvc_reply r;
        if (shared)
            pthread_mutex_lock(&c->net_mu);
        st = call(c, conn, op, req, (long)c->timeout_ms, &r);
        if (shared)
            pthread_mutex_unlock(&c->net_mu);
        if (st != LEVER_OK) {
            lvc_reply_clear(&r);
            break;
        }
        if (first && rev)
            *rev = r.revision;
        first = false;
        json_t *items = json_object_get(r.body, result_key);
        if (items != NULL && json_array_extend(acc, items) != 0) {
            lvc_reply_clear(&r);
            st = lvl_fail(c, LEVER_E_NOMEM, "out of memory reading %s", op);
            break;
        }
        const char *tok = json_string_value(json_object_get(r.body, "NextToken"));
        if (tok == NULL || *tok == '\0') {
            lvc_reply_clear(&r);
            break;
        }
        if (json_object_set_new(req, "NextToken", json_string(tok)) != 0) {
            lvc_reply_clear(&r);
            st = lvl_fail(c, LEVER_E_NOMEM, "out of memory paging %s", op);
            break;
        }
        lvc_reply_clear(&r);
    }
    json_decref(req);
    return st;
}

lever_status lvl_list_json(lever *c, lvc_conn *conn, bool shared, const char *path,
                              bool recursive, bool decrypt, json_t **out, uint64_t *rev)
{
    json_t *acc = json_array();
    if (acc == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
    json_t *req = json_pack("{s:s, s:b, s:b, s:i}", "Path", path, "Recursive", recursive,
                            "WithDecryption", decrypt, "MaxResults", 10);
    lever_status st = pages(c, conn, shared, "GetParametersByPath", req, "Parameters", acc, rev);
    if (st != LEVER_OK) {
        json_decref(acc);
        return st;
    }
    *out = acc;
    return LEVER_OK;
}

lever_status lever_list_path(lever *c, const char *path, bool recursive, bool decrypt,
                             lever_param_list **out, uint64_t *revision)
{
    if (path == NULL || out == NULL)
        return lvl_fail(c, LEVER_E_INVALID, "lever_list_path: NULL argument");
    json_t *acc;
    uint64_t rev = 0;
    lever_status st = lvl_list_json(c, c->conn, true, path, recursive, decrypt, &acc, &rev);
    if (st != LEVER_OK)
        return st;
    lever_param_list *l = lvc_param_list_from_json(acc, true);
    json_decref(acc);
    if (l == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
    *out = l;
    if (revision)
        *revision = rev;
    return LEVER_OK;
}

lever_status lever_history(lever *c, const char *name, bool decrypt, lever_param_list **out)
{
    if (name == NULL || out == NULL)
        return lvl_fail(c, LEVER_E_INVALID, "lever_history: NULL argument");
    json_t *acc = json_array();
    if (acc == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
    json_t *req = json_pack("{s:s, s:b, s:i}", "Name", name, "WithDecryption", decrypt, "MaxResults", 50);
    lever_status st = pages(c, c->conn, true, "GetParameterHistory", req, "Parameters", acc, NULL);
    if (st == LEVER_OK) {
        lever_param_list *l = lvc_param_list_from_json(acc, false);
        if (l == NULL)
            st = lvl_fail(c, LEVER_E_NOMEM, "out of memory");
        else
            *out = l;
    }
    json_decref(acc);
    return st;
}

lever_status lever_describe(lever *c, const char *path, bool recursive, lever_param_list **out)
{
    if (path == NULL || out == NULL)
        return lvl_fail(c, LEVER_E_INVALID, "lever_describe: NULL argument");
    json_t *acc = json_array();
    if (acc == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
    json_t *req;
    if (strcmp(path, "/") == 0 && recursive)
        req = json_pack("{s:i}", "MaxResults", 50); /* everything */
    else
        req = json_pack("{s:[{s:s, s:s, s:[s]}], s:i}", "ParameterFilters", "Key", "Path", "Option",
                        recursive ? "Recursive" : "OneLevel", "Values", path, "MaxResults", 50);
    lever_status st = pages(c, c->conn, true, "DescribeParameters", req, "Parameters", acc, NULL);
    if (st == LEVER_OK) {
        lever_param_list *l = lvc_param_list_from_json(acc, true);
        if (l == NULL)
            st = lvl_fail(c, LEVER_E_NOMEM, "out of memory");
        else
            *out = l;
    }
    json_decref(acc);
    return st;
}

/* GetParameter. A getter asking for a name that does not exist is not a
 * failure (the default applies), so only explicit fetches record it. */
lever_status lvl_get_param_json(lever *c, lvc_conn *conn, bool shared, const char *name,
                                   bool decrypt, json_t **param)
{
    json_t *req = json_pack("{s:s, s:b}", "Name", name, "WithDecryption", decrypt);
    lvc_reply r;
    if (shared)
        pthread_mutex_lock(&c->net_mu);
    /* The handle's client id is the entity of label rollouts
     * (docs/rollouts.md), as it is of configurations. */
    lvc_hdr eh = {"X-Lever-Entity-Id", lvc_h_client_id(c)};
    lever_status st = call_hdr(c, shared ? c->conn : conn, "GetParameter", req, (long)c->timeout_ms, &r, shared,
                               &eh, 1);
    if (shared)
        pthread_mutex_unlock(&c->net_mu);
    if (req)
        json_decref(req);
    if (st == LEVER_OK) {
        json_t *p = json_object_get(r.body, "Parameter");
        if (!json_is_object(p) || !json_is_string(json_object_get(p, "Value"))) {
            st = lvl_fail(c, LEVER_E_PARSE, "GetParameter %s: answer without Parameter.Value", name);
        } else {
            *param = json_incref(p);
        }
    }
    lvc_reply_clear(&r);
    return st;
}

lever_status lever_fetch(lever *c, const char *name, bool decrypt, lever_param **out)
{
    if (name == NULL || out == NULL)
        return lvl_fail(c, LEVER_E_INVALID, "lever_fetch: NULL argument");
    json_t *p;
    lever_status st = lvl_get_param_json(c, c->conn, true, name, decrypt, &p);
    if (st != LEVER_OK)
        return st;
    *out = lvc_param_from_json(p);
    json_decref(p);
    return *out ? LEVER_OK : lvl_fail(c, LEVER_E_NOMEM, "out of memory");
}

/* Drops what the cache knows about name, so the next get asks again. */
static void forget(lever *c, const char *name)
{
    pthread_mutex_lock(&c->mu);
    lvc_entry *e = lvc_cache_find(&c->cache, name);
    if (e)
        e->confirmed = INT64_MIN / 2;
    /* a listing no longer vouches for this name either */
    if (strncmp(name, c->prefix, strlen(c->prefix)) == 0 && c->prefix[0])
        c->prefix_listed = false;
    pthread_mutex_unlock(&c->mu);
}

lever_status lvl_simple(lever *c, const char *op, json_t *req, json_t **answer)
{
    lvc_reply r;
    lever_status st = lvl_call_shared(c, op, req, &r);
    if (st == LEVER_OK && answer)
        *answer = json_incref(r.body);
    lvc_reply_clear(&r);
    return st;
}

lever_status lever_put(lever *c, const char *name, const char *value, const char *type,
                       unsigned flags, const char *description, const char *tier,
                       const char *allowed_pattern, int64_t *version)
{
    if (name == NULL || value == NULL)
        return lvl_fail(c, LEVER_E_INVALID, "lever_put: NULL name or value");
    json_t *req = json_pack("{s:s, s:s}", "Name", name, "Value", value);
    if (req == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
    int bad = 0;
    if (type)
        bad |= json_object_set_new(req, "Type", json_string(type));
    if (flags & LEVER_PUT_OVERWRITE)
        bad |= json_object_set_new(req, "Overwrite", json_true());
    if (description)
        bad |= json_object_set_new(req, "Description", json_string(description));
    if (tier)
        bad |= json_object_set_new(req, "Tier", json_string(tier));
    if (allowed_pattern)
        bad |= json_object_set_new(req, "AllowedPattern", json_string(allowed_pattern));
    /* A new name needs a Type; an overwrite without one keeps the existing
     * type. Without OVERWRITE the name must be new, so String it is. */
    if (type == NULL && !(flags & LEVER_PUT_OVERWRITE))
        bad |= json_object_set_new(req, "Type", json_string("String"));
    if (bad) {
        json_decref(req);
        return lvl_fail(c, LEVER_E_INVALID, "PutParameter: an argument is not valid UTF-8 or memory ran out");
    }
    json_t *again = type == NULL && (flags & LEVER_PUT_OVERWRITE) ? json_deep_copy(req) : NULL;
    json_t *ans = NULL;
    lever_status st = lvl_simple(c, "PutParameter", req, &ans);
    if (st == LEVER_E_INVALID && again) {
        /* the name did not exist: create it as a String */
        lever_param *p = NULL;
        lever_status fs = lever_fetch(c, name, false, &p);
        lever_param_free(p);
        if (fs == LEVER_E_NOT_FOUND && json_object_set_new(again, "Type", json_string("String")) == 0) {
            st = lvl_simple(c, "PutParameter", again, &ans);
            again = NULL;
        }
    }
    if (again)
        json_decref(again);
    if (st == LEVER_OK) {
        if (version)
            *version = (int64_t)json_integer_value(json_object_get(ans, "Version"));
        json_decref(ans);
    }
    forget(c, name);
    return st;
}

lever_status lever_delete(lever *c, const char *name)
{
    if (name == NULL)
        return lvl_fail(c, LEVER_E_INVALID, "lever_delete: NULL name");
    lever_status st = lvl_simple(c, "DeleteParameter", json_pack("{s:s}", "Name", name), NULL);
    forget(c, name);
    return st;
}

static json_t *labels_json(const char *const *labels, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (labels[i] == NULL || json_array_append_new(a, json_string(labels[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* InvalidLabels in an answer become an error naming them. */
static lever_status check_invalid_labels(lever *c, const char *op, json_t *ans)
{
    json_t *inv = json_object_get(ans, "InvalidLabels");
    if (!json_is_array(inv) || json_array_size(inv) == 0)
        return LEVER_OK;
    char list[512] = "";
    size_t i;
    json_t *l;
    json_array_foreach(inv, i, l) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", json_string_value(l) ? json_string_value(l) : "?");
    }
    return lvl_fail(c, LEVER_E_INVALID, "%s: invalid labels: %s", op, list);
}

lever_status lever_label(lever *c, const char *name, int64_t version, const char *const *labels,
                         size_t nlabels)
{
    if (name == NULL || (labels == NULL && nlabels) || nlabels == 0 || version < 0)
        return lvl_fail(c, LEVER_E_INVALID, "lever_label: bad arguments");
    json_t *ls = labels_json(labels, nlabels);
    json_t *req = ls ? json_pack("{s:s, s:o}", "Name", name, "Labels", ls) : NULL;
    if (req && version > 0 && json_object_set_new(req, "ParameterVersion", json_integer(version))) {
        json_decref(req);
        req = NULL;
    }
    json_t *ans = NULL;
    lever_status st = lvl_simple(c, "LabelParameterVersion", req, &ans);
    if (st == LEVER_OK) {
        st = check_invalid_labels(c, "LabelParameterVersion", ans);
        json_decref(ans);
    }
    return st;
}

lever_status lever_unlabel(lever *c, const char *name, int64_t version, const char *const *labels,
                           size_t nlabels)
{
    if (name == NULL || (labels == NULL && nlabels) || nlabels == 0 || version <= 0)
        return lvl_fail(c, LEVER_E_INVALID, "lever_unlabel: bad arguments (the version is required)");
    json_t *ls = labels_json(labels, nlabels);
    json_t *req = ls ? json_pack("{s:s, s:I, s:o}", "Name", name, "ParameterVersion", (json_int_t)version,
                                 "Labels", ls)
                     : NULL;
    json_t *ans = NULL;
    lever_status st = lvl_simple(c, "UnlabelParameterVersion", req, &ans);
    if (st == LEVER_OK) {
        st = check_invalid_labels(c, "UnlabelParameterVersion", ans);
        json_decref(ans);
    }
    return st;
}

lever_status lvl_watch_json(lever *c, lvc_conn *conn, bool shared, const char *path,
                               bool recursive, uint64_t since, int wait_s, json_t **ans)
{
    json_t *req = json_pack("{s:s, s:b, s:I, s:i}", "Path", path, "Recursive", recursive,
                            "SinceRevision", (json_int_t)since, "WaitSeconds", wait_s);
    lvc_reply r;
    long tmo = (long)c->timeout_ms + (long)wait_s * 1000L;
    if (shared)
        pthread_mutex_lock(&c->net_mu);
    lever_status st = call(c, conn, "Lever.WatchParameters", req, tmo, &r);
    if (shared)
        pthread_mutex_unlock(&c->net_mu);
    if (req)
        json_decref(req);
    if (st == LEVER_OK)
        *ans = json_incref(r.body);
    lvc_reply_clear(&r);
    return st;
}

lever_status lever_watch(lever *c, const char *path, bool recursive, uint64_t since, int wait_s,
                         lever_change_list **out, uint64_t *next)
{
    if (path == NULL || out == NULL || wait_s < 0 || wait_s > 60)
        return lvl_fail(c, LEVER_E_INVALID, "lever_watch: bad arguments");
    json_t *ans;
    lever_status st = lvl_watch_json(c, c->conn, true, path, recursive, since, wait_s, &ans);
    if (st != LEVER_OK)
        return st;
    lever_change_list *l = lvc_change_list_from_json(json_object_get(ans, "Changes"));
    if (next)
        *next = (uint64_t)json_integer_value(json_object_get(ans, "Revision"));
    json_decref(ans);
    if (l == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
    *out = l;
    return LEVER_OK;
}

/* ------------------------------------------------------------ generic call */

lever_status lever_call_json(lever *c, const char *target, const char *request_json, char **answer_json)
{
    if (c == NULL || target == NULL || answer_json == NULL)
        return c ? lvl_fail(c, LEVER_E_INVALID, "lever_call_json: NULL argument") : LEVER_E_INVALID;
    *answer_json = NULL;
    json_error_t je;
    json_t *req = request_json ? json_loads(request_json, 0, &je) : json_object();
    if (req == NULL)
        return lvl_fail(c, request_json ? LEVER_E_INVALID : LEVER_E_NOMEM, "request body: %s",
                    request_json ? je.text : "out of memory");
    if (!json_is_object(req)) {
        json_decref(req);
        return lvl_fail(c, LEVER_E_INVALID, "request body: not a JSON object");
    }
    json_t *ans = NULL;
    lever_status st = lvl_simple(c, target, req, &ans);
    if (st != LEVER_OK)
        return st;
    char *text = json_dumps(ans, JSON_COMPACT);
    json_decref(ans);
    if (text == NULL)
        return lvl_fail(c, LEVER_E_NOMEM, "out of memory");
    *answer_json = text;
    return LEVER_OK;
}
