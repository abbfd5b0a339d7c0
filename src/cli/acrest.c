/* acrest.c - AppConfig's REST-JSON control plane for the lever commands
 * (lever appconfig, lever deploy): one signed call with AppConfig's error
 * answers printed, paged List* calls, names resolved to ids. */
#include "cli/acrest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *err_prefix = "lever";

void lv_acrest_error_prefix(const char *prefix) { err_prefix = prefix; }

static void errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errf(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", err_prefix);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int lv_acrest_exit_of(lever_status st, long http)
{
    if (st == LEVER_E_UNREACHABLE)
        return EX_UNREACHABLE;
    if (st == LEVER_E_AUTH || http == 401 || http == 403)
        return EX_AUTH;
    if (st == LEVER_E_NOT_FOUND || http == 404)
        return EX_NOTFOUND;
    return st == LEVER_OK && http < 300 ? EX_OK : EX_ERROR;
}

/* Appends s percent-encoded as a path segment or query value. */
int lv_acrest_enc(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = strlen(out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                    *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (o + 4 >= cap)
            return -1;
        if (keep) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

/* One call; on LEVER_OK with a 2xx answer, *ans is the parsed JSON body
 * (NULL when empty or not JSON) and *resp (optional) the response. Errors
 * are printed; the return is the exit code. */
int lv_acrest_call(lever *c, const char *method, const char *path, const char *const *hdrs, const void *body,
                size_t blen, json_t **ans, lever_response **resp)
{
    lever_response *r = NULL;
    if (ans)
        *ans = NULL;
    if (resp)
        *resp = NULL;
    lever_status st = lever_call_rest(c, "appconfig", method, path, hdrs, body, blen, &r);
    if (st != LEVER_OK) {
        char msg[1024] = "";
        lever_last_error(c, msg, sizeof msg);
        errf("%s", msg[0] ? msg : lever_status_str(st));
        return lv_acrest_exit_of(st, 0);
    }
    size_t len;
    const char *text = lever_response_body(r, &len);
    long status = lever_response_status(r);
    json_error_t je;
    json_t *j = len ? json_loadb(text, len, 0, &je) : NULL;
    if (status >= 300) {
        const char *m = json_string_value(json_object_get(j, "Message"));
        errf("%s: %s", lever_response_error(r)[0] ? lever_response_error(r) : "error", m ? m : "(no message)");
        json_decref(j);
        lever_response_free(r);
        return lv_acrest_exit_of(LEVER_OK, status);
    }
    if (ans)
        *ans = j;
    else
        json_decref(j);
    if (resp)
        *resp = r;
    else
        lever_response_free(r);
    return EX_OK;
}

/* Every item of a paged List* call (Items / NextToken). */
int lv_acrest_list(lever *c, const char *path, json_t **items)
{
    *items = json_array();
    char token[2048] = "";
    do {
        char p[4096];
        snprintf(p, sizeof p, "%s?max_results=50", path);
        if (token[0]) {
            strcat(p, "&next_token=");
            if (lv_acrest_enc(p, sizeof p, token) != 0)
                return EX_ERROR;
        }
        json_t *ans;
        int rc = lv_acrest_call(c, "GET", p, NULL, NULL, 0, &ans, NULL);
        if (rc != EX_OK) {
            json_decref(*items);
            *items = NULL;
            return rc;
        }
        json_array_extend(*items, json_object_get(ans, "Items"));
        const char *next = json_string_value(json_object_get(ans, "NextToken"));
        snprintf(token, sizeof token, "%s", next ? next : "");
        json_decref(ans);
    } while (token[0]);
    return EX_OK;
}

/* The id of what `want` names (an id or a name) in a list. */
int lv_acrest_resolve(lever *c, const char *path, const char *want, const char *what, char *id, size_t cap)
{
    json_t *items;
    int rc = lv_acrest_list(c, path, &items);
    if (rc != EX_OK)
        return rc;
    const char *found = NULL;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *iid = json_string_value(json_object_get(it, "Id"));
        const char *name = json_string_value(json_object_get(it, "Name"));
        if (iid && strcmp(iid, want) == 0) {
            found = iid;
            break;
        }
        if (!found && name && strcmp(name, want) == 0)
            found = iid;
    }
    if (found)
        snprintf(id, cap, "%s", found);
    json_decref(items);
    if (!found) {
        errf("no %s named '%s'", what, want);
        return EX_NOTFOUND;
    }
    return EX_OK;
}

int lv_acrest_app_id(lever *c, const char *app, char *id, size_t cap)
{
    return lv_acrest_resolve(c, "/applications", app, "application", id, cap);
}

int lv_acrest_child_id(lever *c, const char *aid, const char *kind, const char *want, const char *what, char *id,
                    size_t cap)
{
    char p[512] = "/applications/";
    lv_acrest_enc(p, sizeof p, aid);
    strcat(p, kind);
    return lv_acrest_resolve(c, p, want, what, id, cap);
}
