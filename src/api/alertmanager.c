/* alertmanager.c - Prometheus Alertmanager's webhook into lever alarms:
 * the bearer token check, the parser of the (untrusted) notification,
 * and the state changes, audited like API calls. Alarms that do not
 * exist are not created: they are listed as Unknown in the answer. */
#include "api/alertmanager.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json/jw.h"

void lv_am_free(lv_am_update *u, size_t n)
{
    for (size_t i = 0; u && i < n; i++)
        free(u[i].name);
    free(u);
}

lv_err lv_am_parse(const char *body, size_t len, lv_am_update **out, size_t *n, lv_error *err)
{
    *out = NULL;
    *n = 0;
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return lv_error_set(err, LV_E_SERIALIZATION, "The body is not JSON: %s (line %d, column %d).", je.text,
                            je.line, je.column);
    lv_err rc = LV_OK;
    json_t *version = json_object_get(root, "version");
    json_t *alerts = json_object_get(root, "alerts");
    lv_am_update *u = NULL;
    size_t nu = 0;
    if (!json_is_object(root)) {
        rc = lv_error_set(err, LV_E_SERIALIZATION, "The body must be a JSON object.");
        goto done;
    }
    if (!json_is_string(version) || strcmp(json_string_value(version), "4") != 0) {
        rc = lv_error_set(err, LV_E_VALIDATION,
                          "Only version \"4\" of Alertmanager's webhook payload is understood.");
        goto done;
    }
    if (!json_is_array(alerts) || json_array_size(alerts) > LV_AM_ALERTS_MAX) {
        rc = lv_error_set(err, LV_E_VALIDATION, "alerts must be a list of at most %d alerts.", LV_AM_ALERTS_MAX);
        goto done;
    }
    size_t na = json_array_size(alerts);
    u = calloc(na ? na : 1, sizeof *u);
    if (u == NULL) {
        rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < na; i++) {
        json_t *al = json_array_get(alerts, i);
        json_t *status = json_object_get(al, "status");
        json_t *labels = json_object_get(al, "labels");
        json_t *name = json_object_get(labels, "alertname");
        if (!json_is_object(al) || !json_is_string(status) || !json_is_object(labels) || !json_is_string(name)) {
            rc = lv_error_set(err, LV_E_VALIDATION, "alerts[%zu] needs a status and labels.alertname (strings).", i);
            goto done;
        }
        const char *st = json_string_value(status);
        bool firing = strcmp(st, "firing") == 0;
        if (!firing && strcmp(st, "resolved") != 0) {
            rc = lv_error_set(err, LV_E_VALIDATION, "alerts[%zu].status must be firing or resolved.", i);
            goto done;
        }
        const char *s = json_string_value(name);
        size_t sl = json_string_length(name);
        if (!lv_alarm_name_valid(s, sl) || strlen(s) != sl) {
            rc = lv_error_set(err, LV_E_VALIDATION,
                              "alerts[%zu].labels.alertname is not a valid alarm name (1 to %d of "
                              "[a-zA-Z0-9_.:/-]).",
                              i, LV_ALARM_NAME_MAX);
            goto done;
        }
        size_t j = 0;
        while (j < nu && strcmp(u[j].name, s) != 0)
            j++;
        if (j == nu) {
            if ((u[nu].name = strdup(s)) == NULL) {
                rc = lv_error_set(err, LV_E_NOMEM, "out of memory");
                goto done;
            }
            u[nu++].firing = firing;
        } else if (firing) {
            u[j].firing = true;
        }
    }
done:
    json_decref(root);
    if (rc != LV_OK) {
        lv_am_free(u, nu);
        return rc;
    }
    *out = u;
    *n = nu;
    return LV_OK;
}

static void answer_error(lv_http_response *resp, int status, const char *type, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    lv_buf_reset(&resp->body);
    jw w;
    jw_init(&w, &resp->body);
    jw_obj(&w);
    jw_kstr(&w, "__type", type);
    jw_kstr(&w, "message", msg);
    jw_obj_end(&w);
}

static bool token_ok(const char *want, const lv_http_request *req)
{
    const char *h = lv_http_header_get(req, "Authorization");
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    size_t n = strlen(want);
    return strlen(h) == n && CRYPTO_memcmp(h, want, n) == 0;
}

static void audit(const lv_am_ctx *c, const lv_http_request *req, const char *const *names, size_t n,
                  const char *outcome, const char *code)
{
    if (c->audit == NULL)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    lv_audit_event ev = {(int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
                         c->request_id,
                         NULL,
                         "alertmanager",
                         req->remote_addr,
                         "Lever.AlertmanagerWebhook",
                         names,
                         n,
                         outcome,
                         code};
    lv_audit_write(c->audit, &ev);
}

void lv_am_handle(const lv_am_ctx *c, const lv_http_request *req, lv_http_response *resp)
{
    if (c->token == NULL || c->alarms == NULL) {
        answer_error(resp, 404, "UnknownOperationException",
                     "The Alertmanager receiver is off: start leverd with --alertmanager-token-file.");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        answer_error(resp, 405, "UnknownOperationException", "Alertmanager notifications are POSTed.");
        lv_http_response_header(resp, "Allow", "POST");
        return;
    }
    if (!token_ok(c->token, req)) {
        answer_error(resp, 401, "UnrecognizedClientException",
                     "An Authorization: Bearer header with the Alertmanager token is required.");
        lv_http_response_header(resp, "WWW-Authenticate", "Bearer");
        audit(c, req, NULL, 0, "denied", "UnrecognizedClientException");
        return;
    }
    lv_error err;
    lv_error_clear(&err);
    lv_am_update *u = NULL;
    size_t n = 0;
    lv_err rc = lv_am_parse(req->body, req->body_len, &u, &n, &err);
    if (rc != LV_OK) {
        answer_error(resp, lv_err_http_status(rc), lv_err_aws_code(rc), err.msg);
        audit(c, req, NULL, 0, "error", lv_err_aws_code(rc));
        return;
    }
    const char **names = calloc(n ? n : 1, sizeof *names);
    const char **unknown = calloc(n ? n : 1, sizeof *unknown);
    if (names == NULL || unknown == NULL) {
        free(names);
        free(unknown);
        lv_am_free(u, n);
        answer_error(resp, 500, "InternalServerError", "out of memory");
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    size_t nn = 0, nu = 0;
    bool failed = false;
    for (size_t i = 0; i < n && !failed; i++) {
        lv_alarm_state st = u[i].firing ? LV_ALARM_ALARM : LV_ALARM_OK;
        rc = lv_alarms_set(c->alarms, u[i].name, st,
                           u[i].firing ? "Alertmanager: firing." : "Alertmanager: resolved.", now_ms, &err);
        if (rc == LV_OK)
            names[nn++] = u[i].name;
        else if (rc == LV_E_RESOURCE_NOT_FOUND)
            unknown[nu++] = u[i].name;
        else
            failed = true;
    }
    jw w;
    jw_init(&w, &resp->body);
    jw_obj(&w);
    jw_key(&w, "Updated");
    jw_arr(&w);
    for (size_t i = 0; i < nn; i++)
        jw_str(&w, names[i]);
    jw_arr_end(&w);
    jw_key(&w, "Unknown");
    jw_arr(&w);
    for (size_t i = 0; i < nu; i++)
        jw_str(&w, unknown[i]);
    jw_arr_end(&w);
    jw_obj_end(&w);
    if (failed) {
        answer_error(resp, lv_err_http_status(rc), lv_err_aws_code(rc), err.msg);
        audit(c, req, names, nn, "error", lv_err_aws_code(rc));
    } else {
        resp->status = 200;
        resp->content_type = "application/json";
        audit(c, req, names, nn, "ok", NULL);
    }
    free(names);
    free(unknown);
    lv_am_free(u, n);
}
