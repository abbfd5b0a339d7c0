/* http.c - signed JSON 1.1 requests over libcurl for liblever. One easy
 * handle per lvc_conn keeps its connection alive between calls. */
#include "client/http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "auth/sigv4.h"
#include "core/buf.h"

struct lvc_conn {
    CURL *curl;
    CURLM *multi;       /* interruptible connections run through a multi handle */
    atomic_bool stop;
    lv_buf resp;
    lv_buf hdrs;        /* REST calls: the answer's headers as "name: value\n" lines */
    bool want_hdrs;
    uint64_t revision;
};

/* curl_global_init is not thread-safe and must run once per process: the
 * one piece of process-wide state the library has. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

lvc_conn *lvc_conn_new(void)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return NULL;
    lvc_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        free(c);
        return NULL;
    }
    c->resp.max = 64u << 20;
    c->hdrs.max = 64u << 10;
    return c;
}

lvc_conn *lvc_conn_new_interruptible(void)
{
    lvc_conn *c = lvc_conn_new();
    if (c == NULL)
        return NULL;
    c->multi = curl_multi_init();
    if (c->multi == NULL) {
        lvc_conn_free(c);
        return NULL;
    }
    return c;
}

void lvc_conn_interrupt(lvc_conn *c)
{
    atomic_store(&c->stop, true);
    if (c->multi)
        curl_multi_wakeup(c->multi);
}

/* curl_easy_perform, but through the multi handle so that another thread's
 * lvc_conn_interrupt ends a long poll at once instead of after the wait. */
static CURLcode perform(lvc_conn *c)
{
    if (c->multi == NULL)
        return curl_easy_perform(c->curl);
    if (atomic_load(&c->stop))
        return CURLE_ABORTED_BY_CALLBACK;
    if (curl_multi_add_handle(c->multi, c->curl) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    CURLcode rc = CURLE_OK;
    for (;;) {
        int running = 0;
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            rc = CURLE_RECV_ERROR;
            break;
        }
        if (running == 0) {
            int left;
            CURLMsg *m;
            while ((m = curl_multi_info_read(c->multi, &left)) != NULL)
                if (m->msg == CURLMSG_DONE)
                    rc = m->data.result;
            break;
        }
        if (atomic_load(&c->stop)) {
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
        if (atomic_load(&c->stop)) {
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
    }
    curl_multi_remove_handle(c->multi, c->curl);
    return rc;
}

void lvc_conn_free(lvc_conn *c)
{
    if (c == NULL)
        return;
    if (c->multi)
        curl_multi_cleanup(c->multi);
    curl_easy_cleanup(c->curl);
    lv_buf_free(&c->resp);
    lv_buf_free(&c->hdrs);
    free(c);
}

void lvc_server_free(lvc_server *s)
{
    free(s->url);
    free(s->host);
    free(s->path);
    free(s->region);
    /* the secret does not linger in freed memory */
    memset(&s->creds, 0, sizeof s->creds);
    s->url = s->host = s->path = s->region = NULL;
}

lever_status lvc_server_init(lvc_server *s, const char *endpoint, const char *region,
                             const lv_credentials *creds, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    const char *p = NULL;
    if (strncasecmp(endpoint, "http://", 7) == 0)
        p = endpoint + 7;
    else if (strncasecmp(endpoint, "https://", 8) == 0)
        p = endpoint + 8;
    if (p == NULL || *p == '\0' || *p == '/') {
        snprintf(err, errlen, "endpoint '%s' is not an http:// or https:// URL", endpoint);
        return LEVER_E_INVALID;
    }
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    if (memchr(p, '?', hl) || memchr(p, '#', hl) || memchr(p, '@', hl)) {
        snprintf(err, errlen, "endpoint '%s': only scheme://host[:port][/path] is supported", endpoint);
        return LEVER_E_INVALID;
    }
    s->host = strndup(p, hl);
    s->path = strdup(slash ? slash : "/");
    s->region = strdup(region);
    size_t ul = (size_t)(p - endpoint) + hl + strlen(slash ? slash : "/") + 1;
    s->url = malloc(ul);
    if (s->host == NULL || s->path == NULL || s->region == NULL || s->url == NULL) {
        lvc_server_free(s);
        return LEVER_E_NOMEM;
    }
    snprintf(s->url, ul, "%.*s%s", (int)((size_t)(p - endpoint) + hl), endpoint, s->path);
    s->creds = *creds;
    s->connect_ms = 2000;
    return LEVER_OK;
}

void lvc_reply_clear(lvc_reply *r)
{
    if (r->body)
        json_decref(r->body);
    memset(r, 0, sizeof *r);
}

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
    lvc_conn *c = ud;
    if (lv_buf_append(&c->resp, ptr, size * n) != LV_OK)
        return 0; /* makes curl fail the transfer: no silent truncation */
    return size * n;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
    lvc_conn *c = ud;
    size_t len = size * n;
    static const char h[] = "x-lever-revision:";
    if (len > sizeof h - 1 && strncasecmp(ptr, h, sizeof h - 1) == 0) {
        char tmp[32];
        size_t vl = len - (sizeof h - 1);
        if (vl >= sizeof tmp)
            vl = sizeof tmp - 1;
        memcpy(tmp, ptr + sizeof h - 1, vl);
        tmp[vl] = '\0';
        c->revision = strtoull(tmp, NULL, 10);
    }
    if (c->want_hdrs && memchr(ptr, ':', len) != NULL) {
        /* status lines carry no ':'; values are kept without the CRLF */
        size_t l = len;
        while (l > 0 && (ptr[l - 1] == '\r' || ptr[l - 1] == '\n'))
            l--;
        if (lv_buf_append(&c->hdrs, ptr, l) != LV_OK || lv_buf_putc(&c->hdrs, '\n') != LV_OK)
            return 0;
    }
    return len;
}

lever_status lvc_status_of_code(const char *code)
{
    static const struct {
        const char *code;
        lever_status st;
    } map[] = {
        {"ParameterNotFound", LEVER_E_NOT_FOUND},
        {"ParameterVersionNotFound", LEVER_E_NOT_FOUND},
        {"ResourceNotFoundException", LEVER_E_NOT_FOUND},
        {"ParameterAlreadyExists", LEVER_E_EXISTS},
        {"MissingAuthenticationTokenException", LEVER_E_AUTH},
        {"IncompleteSignatureException", LEVER_E_AUTH},
        {"InvalidSignatureException", LEVER_E_AUTH},
        {"UnrecognizedClientException", LEVER_E_AUTH},
        {"AccessDeniedException", LEVER_E_AUTH},
        {"InvalidClientTokenId", LEVER_E_AUTH},
        {"SignatureDoesNotMatch", LEVER_E_AUTH},
        {"ExpiredTokenException", LEVER_E_AUTH},
        {"RevisionCompactedException", LEVER_E_COMPACTED},
        {"UnknownOperationException", LEVER_E_UNSUPPORTED},
        {"ValidationException", LEVER_E_INVALID},
        {"SerializationException", LEVER_E_INVALID},
        {"ParameterPatternMismatchException", LEVER_E_INVALID},
        {"HierarchyTypeMismatchException", LEVER_E_INVALID},
        {"HierarchyLevelLimitExceededException", LEVER_E_INVALID},
        {"InvalidAllowedPatternException", LEVER_E_INVALID},
        {"UnsupportedParameterType", LEVER_E_INVALID},
        {"InvalidDataTypeException", LEVER_E_INVALID},
        {"ParameterVersionLabelLimitExceeded", LEVER_E_INVALID},
        {"ParameterMaxVersionLimitExceeded", LEVER_E_INVALID},
        {"ParameterLimitExceeded", LEVER_E_INVALID},
        {"InvalidKeyId", LEVER_E_INVALID},
        {"InvalidNextToken", LEVER_E_INVALID},
        /* AppConfig's REST errors */
        {"ResourceNotFoundException", LEVER_E_NOT_FOUND},
        {"BadRequestException", LEVER_E_INVALID},
        {"PayloadTooLargeException", LEVER_E_INVALID},
        {"ServiceQuotaExceededException", LEVER_E_INVALID},
        {"ConflictException", LEVER_E_EXISTS},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, map[i].code) == 0)
            return map[i].st;
    return LEVER_E_SERVER;
}

/* Adds "Name: value" to the curl header list. */
static int add_header(struct curl_slist **l, const char *name, const char *value)
{
    char line[4096];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return -1;
    struct curl_slist *nl = curl_slist_append(*l, line);
    if (nl == NULL)
        return -1;
    *l = nl;
    return 0;
}

lever_status lvc_call(lvc_conn *c, const lvc_server *s, const char *target, json_t *body,
                      long timeout_ms, lvc_reply *r, char *err, size_t errlen)
{
    return lvc_call_ex(c, s, target, body, NULL, 0, timeout_ms, r, NULL, err, errlen);
}

lever_status lvc_call_ex(lvc_conn *c, const lvc_server *s, const char *target, json_t *body,
                         const lvc_hdr *extra, size_t nextra, long timeout_ms, lvc_reply *r,
                         lv_buf *headers_out, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (err && errlen)
        err[0] = '\0';
    char *payload = json_dumps(body, JSON_COMPACT);
    if (payload == NULL) {
        snprintf(err, errlen, "out of memory");
        return LEVER_E_NOMEM;
    }
    size_t plen = strlen(payload);

    char amz_date[17];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);

    const bool tok = s->creds.session_token[0] != '\0';
    lv_sigv4_header hs[5] = {
        {"content-type", 12, "application/x-amz-json-1.1", 26},
        {"host", 4, s->host, strlen(s->host)},
        {"x-amz-date", 10, amz_date, 16},
        {"x-amz-target", 12, target, strlen(target)},
        {"x-amz-security-token", 20, s->creds.session_token, strlen(s->creds.session_token)},
    };
    lv_sigv4_request req = {"POST", s->path, NULL, hs, tok ? 5 : 4, payload, plen};
    lv_buf auth = LV_BUF_INIT;
    lv_error e = {0};
    lever_status st = LEVER_OK;
    struct curl_slist *hl = NULL;
    if (lv_sigv4_sign(&req, s->creds.access_key_id, s->creds.secret_access_key, s->region, "ssm",
                      amz_date,
                      tok ? "content-type;host;x-amz-date;x-amz-target;x-amz-security-token"
                          : "content-type;host;x-amz-date;x-amz-target",
                      &auth, &e) != LV_OK) {
        snprintf(err, errlen, "signing failed: %s", e.msg);
        st = e.code == LV_E_NOMEM ? LEVER_E_NOMEM : LEVER_E_INVALID;
        goto out;
    }
    if (add_header(&hl, "Host", s->host) || add_header(&hl, "Content-Type", "application/x-amz-json-1.1") ||
        add_header(&hl, "X-Amz-Date", amz_date) || add_header(&hl, "X-Amz-Target", target) ||
        add_header(&hl, "Authorization", auth.data) ||
        (tok && add_header(&hl, "X-Amz-Security-Token", s->creds.session_token))) {
        snprintf(err, errlen, "out of memory (request headers)");
        st = LEVER_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nextra; i++)
        if (extra[i].value != NULL && add_header(&hl, extra[i].name, extra[i].value)) {
            snprintf(err, errlen, "out of memory (request headers)");
            st = LEVER_E_NOMEM;
            goto out;
        }
    /* curl would send "Expect: 100-continue" for larger bodies: a round
     * trip for nothing on a JSON API. */
    struct curl_slist *nl = curl_slist_append(hl, "Expect:");
    if (nl == NULL) {
        st = LEVER_E_NOMEM;
        goto out;
    }
    hl = nl;

    lv_buf_reset(&c->resp);
    lv_buf_reset(&c->hdrs);
    c->want_hdrs = headers_out != NULL;
    c->revision = 0;
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, s->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)plen);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    /* A leverd with its own certificate authority: honour AWS_CA_BUNDLE,
     * as the AWS CLI and SDKs do (docs/security.md). */
    const char *ca = getenv("AWS_CA_BUNDLE");
    if (ca != NULL && *ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->connect_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = perform(c);
    /* the header list and body are freed below; do not leave curl pointing at them */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    if (headers_out != NULL) {
        c->want_hdrs = false;
        lv_buf_reset(headers_out);
        if (c->hdrs.len > 0 && lv_buf_append(headers_out, c->hdrs.data, c->hdrs.len) != LV_OK)
            cc = CURLE_WRITE_ERROR;
    }
    if (cc != CURLE_OK) {
        if (cc == CURLE_WRITE_ERROR) {
            snprintf(err, errlen, "response from %s too large or out of memory", s->url);
            st = LEVER_E_NOMEM;
        } else if (cc == CURLE_ABORTED_BY_CALLBACK) {
            snprintf(err, errlen, "interrupted");
            st = LEVER_E_UNREACHABLE;
        } else {
            snprintf(err, errlen, "%s: %s", s->url, curl_easy_strerror(cc));
            st = LEVER_E_UNREACHABLE;
        }
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    r->revision = c->revision;
    if (c->resp.len > 0) {
        json_error_t je;
        r->body = json_loadb(c->resp.data, c->resp.len, 0, &je);
    }
    if (r->status == 200) {
        if (r->body == NULL || !json_is_object(r->body)) {
            snprintf(err, errlen, "%s answered %s with a body that is not a JSON object", s->url, target);
            st = LEVER_E_PARSE;
        }
        goto out;
    }
    {
        const char *type = NULL, *msg = NULL;
        if (r->body && json_is_object(r->body)) {
            type = json_string_value(json_object_get(r->body, "__type"));
            msg = json_string_value(json_object_get(r->body, "message"));
            if (msg == NULL)
                msg = json_string_value(json_object_get(r->body, "Message"));
        }
        if (type) {
            const char *hash = strrchr(type, '#');
            snprintf(r->code, sizeof r->code, "%s", hash ? hash + 1 : type);
            st = lvc_status_of_code(r->code);
            snprintf(err, errlen, "%s: %s", r->code, msg ? msg : "(no message)");
        } else if (r->status >= 502 && r->status <= 504) {
            /* a proxy or a server in trouble: as good as unreachable for
             * the cache's stale-if-error */
            snprintf(err, errlen, "%s: HTTP %ld", s->url, r->status);
            st = LEVER_E_UNREACHABLE;
        } else {
            snprintf(err, errlen, "%s: HTTP %ld without an error document", s->url, r->status);
            st = LEVER_E_SERVER;
        }
        if (r->status == 503 && st == LEVER_E_SERVER)
            st = LEVER_E_UNREACHABLE;
    }
out:
    curl_slist_free_all(hl);
    lv_buf_free(&auth);
    free(payload);
    return st;
}

/* ------------------------------------------------------------------ REST */

void lvc_raw_clear(lvc_raw *r)
{
    lv_buf_free(&r->body);
    lv_buf_free(&r->headers);
    memset(r, 0, sizeof *r);
}

bool lvc_raw_header(const lvc_raw *r, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = r->headers.data, *end = p ? p + r->headers.len : NULL;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if ((size_t)(ve - v) >= cap)
                return false;
            memcpy(buf, v, (size_t)(ve - v));
            buf[ve - v] = '\0';
            return true;
        }
        p = eol + 1;
    }
    return false;
}

lever_status lvc_request(lvc_conn *c, const lvc_server *s, const char *service, const char *method,
                         const char *path, const char *query, const lvc_hdr *hdrs, size_t nhdrs,
                         const void *body, size_t body_len, long timeout_ms, lvc_raw *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (err && errlen)
        err[0] = '\0';
    enum { MAX_EXTRA = 8 };
    if (nhdrs > MAX_EXTRA) {
        snprintf(err, errlen, "too many request headers");
        return LEVER_E_INVALID;
    }
    /* the endpoint's own path ("/" or "/prefix/") goes first */
    lv_buf wpath = LV_BUF_INIT, auth = LV_BUF_INIT, url = LV_BUF_INIT, names = LV_BUF_INIT;
    size_t bl = strlen(s->path);
    while (bl > 0 && s->path[bl - 1] == '/')
        bl--;
    lever_status st = LEVER_OK;
    struct curl_slist *hl = NULL;
    if (lv_buf_append(&wpath, s->path, bl) != LV_OK || lv_buf_puts(&wpath, path) != LV_OK) {
        st = LEVER_E_NOMEM;
        goto nomem;
    }
    char amz_date[17];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);

    /* signed: host, x-amz-date, every extra header, the session token */
    lv_sigv4_header hs[MAX_EXTRA + 3];
    size_t n = 0;
    hs[n++] = (lv_sigv4_header){"host", 4, s->host, strlen(s->host)};
    hs[n++] = (lv_sigv4_header){"x-amz-date", 10, amz_date, 16};
    const bool tok = s->creds.session_token[0] != '\0';
    if (tok)
        hs[n++] = (lv_sigv4_header){"x-amz-security-token", 20, s->creds.session_token,
                                    strlen(s->creds.session_token)};
    for (size_t i = 0; i < nhdrs; i++)
        hs[n++] = (lv_sigv4_header){hdrs[i].name, strlen(hdrs[i].name), hdrs[i].value, strlen(hdrs[i].value)};
    /* SignedHeaders: lowercase, sorted */
    const char *sorted[MAX_EXTRA + 3];
    for (size_t i = 0; i < n; i++)
        sorted[i] = hs[i].name;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcasecmp(sorted[j - 1], sorted[j]) > 0; j--) {
            const char *t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        if (i && lv_buf_putc(&names, ';') != LV_OK) {
            st = LEVER_E_NOMEM;
            goto nomem;
        }
        for (const char *p = sorted[i]; *p; p++)
            if (lv_buf_putc(&names, (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p)) != LV_OK) {
                st = LEVER_E_NOMEM;
                goto nomem;
            }
    }
    lv_sigv4_request req = {method, wpath.data, query && *query ? query : NULL, hs, n, body ? body : "",
                            body ? body_len : 0};
    lv_error e = {0};
    if (lv_sigv4_sign(&req, s->creds.access_key_id, s->creds.secret_access_key, s->region, service, amz_date,
                      names.data, &auth, &e) != LV_OK) {
        snprintf(err, errlen, "signing failed: %s", e.msg);
        st = e.code == LV_E_NOMEM ? LEVER_E_NOMEM : LEVER_E_INVALID;
        goto out;
    }
    size_t ol = strlen(s->url) - strlen(s->path); /* scheme://host[:port] */
    if (lv_buf_append(&url, s->url, ol) != LV_OK || lv_buf_puts(&url, wpath.data) != LV_OK ||
        (query && *query && (lv_buf_putc(&url, '?') != LV_OK || lv_buf_puts(&url, query) != LV_OK))) {
        st = LEVER_E_NOMEM;
        goto nomem;
    }
    if (add_header(&hl, "Host", s->host) || add_header(&hl, "X-Amz-Date", amz_date) ||
        add_header(&hl, "Authorization", auth.data) ||
        (tok && add_header(&hl, "X-Amz-Security-Token", s->creds.session_token))) {
        st = LEVER_E_NOMEM;
        goto nomem;
    }
    for (size_t i = 0; i < nhdrs; i++)
        if (add_header(&hl, hdrs[i].name, hdrs[i].value)) {
            st = LEVER_E_NOMEM;
            goto nomem;
        }
    struct curl_slist *nl2 = curl_slist_append(hl, "Expect:");
    if (nl2 == NULL) {
        st = LEVER_E_NOMEM;
        goto nomem;
    }
    hl = nl2;
    if (body == NULL) {
        /* curl adds a form Content-Type to POSTs without one */
        bool has_ct = false;
        for (size_t i = 0; i < nhdrs; i++)
            has_ct |= strcasecmp(hdrs[i].name, "Content-Type") == 0;
        if (!has_ct && (nl2 = curl_slist_append(hl, "Content-Type:")) != NULL)
            hl = nl2;
    }

    lv_buf_reset(&c->resp);
    lv_buf_reset(&c->hdrs);
    c->revision = 0;
    c->want_hdrs = true;
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, body ? (long)body_len : 0L);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    const char *ca = getenv("AWS_CA_BUNDLE");
    if (ca != NULL && *ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->connect_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = perform(c);
    c->want_hdrs = false;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    if (cc != CURLE_OK) {
        if (cc == CURLE_WRITE_ERROR) {
            snprintf(err, errlen, "response from %s too large or out of memory", s->url);
            st = LEVER_E_NOMEM;
        } else {
            if (cc == CURLE_ABORTED_BY_CALLBACK)
                snprintf(err, errlen, "interrupted");
            else
                snprintf(err, errlen, "%s: %s", s->url, curl_easy_strerror(cc));
            st = LEVER_E_UNREACHABLE;
        }
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    out->revision = c->revision;
    /* hand the buffers over; the connection gets fresh ones */
    out->body = c->resp;
    out->headers = c->hdrs;
    c->resp = (lv_buf)LV_BUF_INIT;
    c->resp.max = 64u << 20;
    c->hdrs = (lv_buf)LV_BUF_INIT;
    c->hdrs.max = 64u << 10;
    if (out->status >= 200 && out->status < 300)
        goto out;
    {
        char type[128] = "", msg[512] = "";
        if (lvc_raw_header(out, "x-amzn-ErrorType", type, sizeof type)) {
            char *colon = strchr(type, ':'); /* "Code:http://internal.amazon.com/..." */
            if (colon)
                *colon = '\0';
        }
        json_t *doc = NULL;
        if (out->body.len > 0) {
            json_error_t je;
            doc = json_loadb(out->body.data, out->body.len, 0, &je);
        }
        if (json_is_object(doc)) {
            const char *t = json_string_value(json_object_get(doc, "__type"));
            const char *m = json_string_value(json_object_get(doc, "Message"));
            if (m == NULL)
                m = json_string_value(json_object_get(doc, "message"));
            if (!type[0] && t) {
                const char *hash = strrchr(t, '#');
                snprintf(type, sizeof type, "%s", hash ? hash + 1 : t);
            }
            if (m)
                snprintf(msg, sizeof msg, "%s", m);
        }
        json_decref(doc);
        snprintf(out->code, sizeof out->code, "%s", type);
        if (type[0]) {
            st = lvc_status_of_code(type);
            snprintf(err, errlen, "%s: %s", type, msg[0] ? msg : "(no message)");
        } else {
            snprintf(err, errlen, "%s: HTTP %ld without an error document", s->url, out->status);
            st = out->status >= 502 && out->status <= 504 ? LEVER_E_UNREACHABLE
                 : out->status == 404                     ? LEVER_E_NOT_FOUND
                                                          : LEVER_E_SERVER;
        }
        if (out->status == 503 && st == LEVER_E_SERVER)
            st = LEVER_E_UNREACHABLE;
    }
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
out:
    curl_slist_free_all(hl);
    lv_buf_free(&wpath);
    lv_buf_free(&auth);
    lv_buf_free(&url);
    lv_buf_free(&names);
    return st;
}
