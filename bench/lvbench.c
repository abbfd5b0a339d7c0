/* lvbench.c - the benchmark's helper: SigV4-signs SSM requests into wrk Lua
 * scripts, sends one request to check it, bulk-loads parameters through
 * the API with many keep-alive connections, and polls AppConfig Data
 * sessions (each poll with the token the previous one handed out, which
 * wrk cannot do). Not part of leverd. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/sigv4.h"
#include "core/buf.h"

#define CONTENT_TYPE "application/x-amz-json-1.1"
#define SIGNED_HEADERS "content-type;host;x-amz-date;x-amz-target"

typedef struct opts {
    char host[256];        /* "127.0.0.1" */
    int port;
    const char *ak, *sk, *region; /* signing; NULL ak = unsigned */
    const char *path;      /* wire path override (nginx reference) */
    int conns;
    long count;
    long start;
    const char *name_fmt;
    long group;
    int value_bytes;
    const char *type;
    double time_limit;
    int overwrite;
    const char *acprofile; /* poll: "app:env:profile" */
    int reference;         /* poll: the server is a stand-in (nginx) */
} opts;

static void die(const char *m)
{
    fprintf(stderr, "lvbench: %s\n", m);
    exit(2);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void amz_date(char out[17])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* Builds the full HTTP/1.1 request for one line. With signing, line is
 * "<Operation>\t<json body>" and the request is an SSM call to "/" (or
 * o->path on the wire, signature unchanged, for the nginx reference).
 * Without, line is "<path>\t<json body>" (etcd's gateway). */
static int build_request(const opts *o, const char *line, lv_buf *out)
{
    const char *tab = strchr(line, '\t');
    if (!tab)
        return -1;
    char first[256];
    size_t fl = (size_t)(tab - line);
    if (fl >= sizeof first)
        return -1;
    memcpy(first, line, fl);
    first[fl] = 0;
    const char *body = tab + 1;
    size_t blen = strlen(body);
    char hostport[300];
    snprintf(hostport, sizeof hostport, "%s:%d", o->host, o->port);
    lv_buf_reset(out);
    if (!o->ak) {
        lv_buf_printf(out,
                      "POST %s HTTP/1.1\r\nHost: %s\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      first, hostport, blen);
        lv_buf_append(out, body, blen);
        return 0;
    }
    char date[17], target[300];
    amz_date(date);
    snprintf(target, sizeof target, "AmazonSSM.%s", first);
    lv_sigv4_header h[4] = {
        {"Content-Type", 12, CONTENT_TYPE, strlen(CONTENT_TYPE)},
        {"Host", 4, hostport, strlen(hostport)},
        {"X-Amz-Date", 10, date, strlen(date)},
        {"X-Amz-Target", 12, target, strlen(target)},
    };
    lv_sigv4_request req = {"POST", "/", NULL, h, 4, body, blen};
    lv_buf auth = LV_BUF_INIT;
    lv_error err;
    if (lv_sigv4_sign(&req, o->ak, o->sk, o->region, "ssm", date,
                      SIGNED_HEADERS, &auth, &err) != LV_OK) {
        fprintf(stderr, "lvbench: sign: %s\n", err.msg);
        lv_buf_free(&auth);
        return -1;
    }
    lv_buf_printf(out,
                  "POST %s HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\n"
                  "X-Amz-Target: %s\r\nContent-Type: " CONTENT_TYPE "\r\n"
                  "Authorization: %s\r\nContent-Length: %zu\r\n\r\n",
                  o->path ? o->path : "/", hostport, date, target, auth.data,
                  blen);
    lv_buf_append(out, body, blen);
    lv_buf_free(&auth);
    return 0;
}

/* ---- a minimal blocking HTTP/1.1 client (keep-alive) ---- */

typedef struct conn {
    int fd;
    char *buf;
    size_t len, cap;
} conn;

static int conn_open(conn *c, const opts *o)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1)
        die("host must be an IPv4 address");
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {30, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    c->len = 0;
    return 0;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static int fill(conn *c)
{
    if (c->cap - c->len < 65536) {
        size_t nc = c->cap ? c->cap * 2 : 131072;
        char *nb = realloc(c->buf, nc);
        if (!nb)
            return -1;
        c->buf = nb;
        c->cap = nc;
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    c->buf[c->len] = 0;
    return 0;
}

/* Sends req and reads one response: status, body copied to *body, the
 * header block (status line to the blank line) to *headers when given.
 * Returns 0 or -1 on a transport error (connection then closed). */
static int roundtrip_h(conn *c, const opts *o, const lv_buf *req, int *status,
                       lv_buf *body, lv_buf *headers)
{
    if (c->fd < 0 && conn_open(c, o) != 0)
        return -1;
    size_t off = 0;
    while (off < req->len) {
        ssize_t n = send(c->fd, req->data + off, req->len - off, MSG_NOSIGNAL);
        if (n <= 0) {
            conn_close(c);
            return -1;
        }
        off += (size_t)n;
    }
    char *hend;
    while (!(hend = c->len ? strstr(c->buf, "\r\n\r\n") : NULL))
        if (fill(c) != 0) {
            conn_close(c);
            return -1;
        }
    size_t hlen = (size_t)(hend - c->buf) + 4;
    *status = atoi(c->buf + 9);
    if (headers) {
        lv_buf_reset(headers);
        lv_buf_append(headers, c->buf, hlen);
    }
    long clen = -1;
    int chunked = 0, close_after = 0;
    for (char *p = strstr(c->buf, "\r\n") + 2; p < hend;) {
        char *eol = strstr(p, "\r\n");
        if (!strncasecmp(p, "content-length:", 15))
            clen = atol(p + 15);
        else if (!strncasecmp(p, "transfer-encoding:", 18) &&
                 strcasestr(p, "chunked") && strcasestr(p, "chunked") < eol)
            chunked = 1;
        else if (!strncasecmp(p, "connection:", 11) && strcasestr(p, "close") &&
                 strcasestr(p, "close") < eol)
            close_after = 1;
        p = eol + 2;
    }
    lv_buf_reset(body);
    size_t pos = hlen;
    if (chunked) {
        for (;;) {
            char *e;
            while (!(e = strstr(c->buf + pos, "\r\n")))
                if (fill(c) != 0)
                    goto fail;
            long sz = strtol(c->buf + pos, NULL, 16);
            size_t data = (size_t)(e - c->buf) + 2;
            while (c->len < data + (size_t)sz + 2)
                if (fill(c) != 0)
                    goto fail;
            lv_buf_append(body, c->buf + data, (size_t)sz);
            pos = data + (size_t)sz + 2;
            if (sz == 0) {
                /* no trailers expected; the final CRLF was consumed above */
                break;
            }
        }
    } else {
        if (clen < 0)
            goto fail;
        while (c->len < hlen + (size_t)clen)
            if (fill(c) != 0)
                goto fail;
        lv_buf_append(body, c->buf + hlen, (size_t)clen);
        pos = hlen + (size_t)clen;
    }
    memmove(c->buf, c->buf + pos, c->len - pos);
    c->len -= pos;
    c->buf[c->len] = 0;
    if (close_after)
        conn_close(c);
    return 0;
fail:
    conn_close(c);
    return -1;
}

static int roundtrip(conn *c, const opts *o, const lv_buf *req, int *status,
                     lv_buf *body)
{
    return roundtrip_h(c, o, req, status, body, NULL);
}

/* ---- lua: signed requests into a wrk script ---- */

static void lua_quote(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\r')
            fputs("\\r", f);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch < 32 || ch > 126)
            fprintf(f, "\\%03u", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static int cmd_lua(const opts *o)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    lv_buf req = LV_BUF_INIT;
    long count = 0;
    puts("-- generated by bench/lvbench: pre-signed requests, replayed in turn");
    puts("local reqs = {");
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (!n)
            continue;
        if (build_request(o, line, &req) != 0)
            die("bad input line (want \"<op or path>\\t<body>\")");
        lua_quote(stdout, req.data, req.len);
        puts(",");
        count++;
    }
    puts("}");
    puts("local n = #reqs\n"
         "local i = 0\n"
         "local nthreads = 0\n"
         "function setup(thread)\n"
         "  thread:set(\"lvb_off\", nthreads * 7)\n"
         "  nthreads = nthreads + 1\n"
         "end\n"
         "function init(args)\n"
         "  i = (lvb_off or 0) % n\n"
         "end\n"
         "function request()\n"
         "  i = i + 1\n"
         "  if i > n then i = 1 end\n"
         "  return reqs[i]\n"
         "end");
    free(line);
    lv_buf_free(&req);
    if (!count)
        die("no requests on stdin");
    return 0;
}

/* ---- send: one request, print the body, exit 0 on 2xx ---- */

static int cmd_send(const opts *o)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n <= 0)
        die("no request on stdin");
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    lv_buf req = LV_BUF_INIT, body = LV_BUF_INIT;
    if (build_request(o, line, &req) != 0)
        die("bad input line");
    conn c = {-1, NULL, 0, 0};
    int status = 0;
    if (roundtrip(&c, o, &req, &status, &body) != 0) {
        fprintf(stderr, "lvbench: no response from %s:%d\n", o->host, o->port);
        return 1;
    }
    fwrite(body.data ? body.data : "", 1, body.len, stdout);
    if (status < 200 || status > 299)
        fprintf(stderr, "lvbench: HTTP %d: %.*s\n", status, (int)body.len,
                body.data ? body.data : "");
    conn_close(&c);
    free(c.buf);
    lv_buf_free(&req);
    lv_buf_free(&body);
    free(line);
    return status >= 200 && status <= 299 ? 0 : 1;
}

/* ---- load: PutParameter count names over conns connections ---- */

typedef struct loader {
    const opts *o;
    atomic_long next;
    atomic_long done;
    atomic_long errors;
    atomic_int printed;
    double t0;
} loader;

static void make_name(const opts *o, long idx, char *out, size_t cap)
{
    if (o->group > 0)
        snprintf(out, cap, o->name_fmt, idx / o->group, idx % o->group);
    else
        snprintf(out, cap, o->name_fmt, idx);
}

static void make_value(long idx, int bytes, char *out)
{
    /* Deterministic, JSON-safe and not trivially compressible. */
    unsigned long x = (unsigned long)idx * 2654435761UL + 12345;
    static const char al[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    for (int i = 0; i < bytes; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = al[x & 63];
    }
    out[bytes] = 0;
}

static void *load_thread(void *arg)
{
    loader *L = arg;
    const opts *o = L->o;
    conn c = {-1, NULL, 0, 0};
    lv_buf req = LV_BUF_INIT, body = LV_BUF_INIT;
    char name[1100], value[8200], line[10000];
    for (;;) {
        if (o->time_limit > 0 && now_s() - L->t0 > o->time_limit)
            break;
        long idx = atomic_fetch_add(&L->next, 1);
        if (idx >= o->count)
            break;
        make_name(o, o->start + idx, name, sizeof name);
        make_value(o->start + idx, o->value_bytes, value);
        snprintf(line, sizeof line,
                 "PutParameter\t{\"Name\":\"%s\",\"Value\":\"%s\","
                 "\"Type\":\"%s\"%s}",
                 name, value, o->type, o->overwrite ? ",\"Overwrite\":true" : "");
        if (build_request(o, line, &req) != 0)
            die("cannot sign");
        int status = 0, tries = 0;
        while (roundtrip(&c, o, &req, &status, &body) != 0) {
            if (++tries == 5) {
                status = -1;
                break;
            }
            usleep(100000);
        }
        if (status == 200) {
            atomic_fetch_add(&L->done, 1);
        } else {
            atomic_fetch_add(&L->errors, 1);
            if (atomic_fetch_add(&L->printed, 1) < 3)
                fprintf(stderr, "lvbench: load %s: HTTP %d %.*s\n", name,
                        status, (int)(body.len > 300 ? 300 : body.len),
                        body.data ? body.data : "");
        }
    }
    conn_close(&c);
    free(c.buf);
    lv_buf_free(&req);
    lv_buf_free(&body);
    return NULL;
}

static int cmd_load(const opts *o)
{
    if (!o->ak || !o->name_fmt || o->count <= 0 || o->conns <= 0)
        die("load needs --sign, --name-fmt, --count, --conns");
    if (o->value_bytes <= 0 || o->value_bytes > 8000)
        die("--value-bytes out of range");
    loader L = {.o = o};
    L.t0 = now_s();
    pthread_t *th = calloc((size_t)o->conns, sizeof *th);
    if (!th)
        die("out of memory");
    for (int i = 0; i < o->conns; i++)
        if (pthread_create(&th[i], NULL, load_thread, &L) != 0)
            die("pthread_create");
    for (int i = 0; i < o->conns; i++)
        pthread_join(th[i], NULL);
    double el = now_s() - L.t0;
    long done = atomic_load(&L.done), errors = atomic_load(&L.errors);
    /* machine-readable: loaded errors seconds */
    printf("%ld %ld %.3f\n", done, errors, el);
    free(th);
    return errors ? 1 : 0;
}

/* ---- poll: AppConfig Data sessions, one per connection ---- */

typedef struct poller {
    const opts *o;
    double t0;
    atomic_long polls, errors;
    atomic_int printed;
    double *lat;           /* per thread: lat + i * LAT_MAX */
} poller;

enum { LAT_MAX = 1 << 17 };

/* A signed AppConfig Data request (service appconfig). */
static int ac_request(const opts *o, const char *method, const char *path, const char *query,
                      const char *body, lv_buf *out)
{
    char hostport[300], date[17];
    snprintf(hostport, sizeof hostport, "%s:%d", o->host, o->port);
    amz_date(date);
    size_t blen = body ? strlen(body) : 0;
    lv_sigv4_header h[3] = {
        {"Host", 4, hostport, strlen(hostport)},
        {"X-Amz-Date", 10, date, strlen(date)},
        {"Content-Type", 12, "application/json", 16},
    };
    lv_sigv4_request req = {method, path, query, h, body ? 3 : 2, body ? body : "", blen};
    lv_buf auth = LV_BUF_INIT;
    lv_error err;
    if (lv_sigv4_sign(&req, o->ak, o->sk, o->region, "appconfig", date,
                      body ? "content-type;host;x-amz-date" : "host;x-amz-date", &auth, &err) != LV_OK) {
        fprintf(stderr, "lvbench: sign: %s\n", err.msg);
        lv_buf_free(&auth);
        return -1;
    }
    lv_buf_reset(out);
    lv_buf_printf(out, "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\n", method, path,
                  query ? "?" : "", query ? query : "", hostport, date, auth.data);
    if (body)
        lv_buf_printf(out, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", blen, body);
    else
        lv_buf_puts(out, "\r\n");
    lv_buf_free(&auth);
    return 0;
}

/* The value of header name in a raw header block, copied to out. */
static bool header_value(const lv_buf *hdr, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = hdr->data; p && (p = strstr(p, "\r\n")) != NULL;) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n >= cap)
                return false;
            memcpy(out, v, n);
            out[n] = 0;
            return true;
        }
    }
    return false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct poll_arg {
    poller *P;
    int idx;
    long n;
} poll_arg;

static void *poll_thread(void *arg)
{
    poll_arg *A = arg;
    poller *P = A->P;
    const opts *o = P->o;
    conn c = {-1, NULL, 0, 0};
    lv_buf req = LV_BUF_INIT, body = LV_BUF_INIT, hdr = LV_BUF_INIT;
    char tok[4096] = "lv2_reference", q[4200];
    int status = 0;
    if (!o->reference) {
        char app[256], env[256], prof[256], js[1024];
        if (sscanf(o->acprofile, "%255[^:]:%255[^:]:%255s", app, env, prof) != 3)
            die("--profile wants app:env:profile");
        snprintf(js, sizeof js,
                 "{\"ApplicationIdentifier\":\"%s\",\"EnvironmentIdentifier\":\"%s\","
                 "\"ConfigurationProfileIdentifier\":\"%s\",\"RequiredMinimumPollIntervalInSeconds\":15}",
                 app, env, prof);
        const char *k;
        if (ac_request(o, "POST", "/configurationsessions", NULL, js, &req) != 0 ||
            roundtrip(&c, o, &req, &status, &body) != 0 || status / 100 != 2 || body.data == NULL ||
            (k = strstr(body.data, "\"InitialConfigurationToken\"")) == NULL ||
            sscanf(strchr(k + 27, '"') ? strchr(k + 27, '"') + 1 : "", "%4000[^\"]", tok) != 1) {
            fprintf(stderr, "lvbench: StartConfigurationSession: HTTP %d %.*s\n", status,
                    (int)(body.len > 200 ? 200 : body.len), body.data ? body.data : "");
            atomic_fetch_add(&P->errors, 1);
            goto out;
        }
    }
    while (now_s() - P->t0 < o->time_limit) {
        snprintf(q, sizeof q, "configuration_token=%s", tok); /* tokens are URL-safe */
        if (ac_request(o, "GET", "/configuration", q, NULL, &req) != 0)
            die("cannot sign");
        double t = now_s();
        if (roundtrip_h(&c, o, &req, &status, &body, &hdr) != 0 || status != 200 ||
            !header_value(&hdr, "Next-Poll-Configuration-Token", tok, sizeof tok)) {
            atomic_fetch_add(&P->errors, 1);
            if (atomic_fetch_add(&P->printed, 1) < 3)
                fprintf(stderr, "lvbench: poll: HTTP %d %.*s\n", status, (int)(body.len > 200 ? 200 : body.len),
                        body.data ? body.data : "");
            break;
        }
        if (A->n < LAT_MAX)
            P->lat[(size_t)A->idx * LAT_MAX + (size_t)A->n++] = (now_s() - t) * 1000;
        atomic_fetch_add(&P->polls, 1);
    }
out:
    conn_close(&c);
    free(c.buf);
    lv_buf_free(&req);
    lv_buf_free(&body);
    lv_buf_free(&hdr);
    return NULL;
}

static int cmd_poll(const opts *o)
{
    if (!o->ak || (!o->acprofile && !o->reference) || o->conns <= 0 || o->conns > 64)
        die("poll needs --sign, --profile app:env:profile (or --reference), --conns 1..64");
    poller P = {.o = o};
    P.lat = malloc((size_t)o->conns * LAT_MAX * sizeof *P.lat);
    pthread_t *th = calloc((size_t)o->conns, sizeof *th);
    poll_arg *args = calloc((size_t)o->conns, sizeof *args);
    if (!P.lat || !th || !args)
        die("out of memory");
    P.t0 = now_s();
    for (int i = 0; i < o->conns; i++) {
        args[i] = (poll_arg){&P, i, 0};
        if (pthread_create(&th[i], NULL, poll_thread, &args[i]) != 0)
            die("pthread_create");
    }
    size_t n = 0;
    for (int i = 0; i < o->conns; i++) {
        pthread_join(th[i], NULL);
        memmove(P.lat + n, P.lat + (size_t)i * LAT_MAX, (size_t)args[i].n * sizeof *P.lat);
        n += (size_t)args[i].n;
    }
    double el = now_s() - P.t0;
    qsort(P.lat, n, sizeof *P.lat, cmp_double);
    double p50 = n ? P.lat[n / 2] : 0, p99 = n ? P.lat[(size_t)((double)(n - 1) * 0.99)] : 0;
    /* machine-readable: polls errors seconds p50_ms p99_ms */
    printf("%ld %ld %.3f %.3f %.3f\n", atomic_load(&P.polls), atomic_load(&P.errors), el, p50, p99);
    free(P.lat);
    free(th);
    free(args);
    return atomic_load(&P.errors) ? 1 : 0;
}

/* ---- port: a free loopback port ---- */

static int cmd_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        die("no free port");
    printf("%d\n", ntohs(sa.sin_port));
    close(fd);
    return 0;
}

/* ---- wait: poll GET path until 200; print milliseconds waited ---- */

static int cmd_wait(const opts *o)
{
    double t0 = now_s();
    char req[512];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
             o->path ? o->path : "/healthz", o->host, o->port);
    lv_buf r = {req, strlen(req), 0, 0}, body = LV_BUF_INIT;
    while (now_s() - t0 < o->time_limit) {
        conn c = {-1, NULL, 0, 0};
        int status = 0;
        if (roundtrip(&c, o, &r, &status, &body) == 0 && status == 200) {
            printf("%.0f\n", (now_s() - t0) * 1000);
            conn_close(&c);
            free(c.buf);
            lv_buf_free(&body);
            return 0;
        }
        conn_close(&c);
        free(c.buf);
        usleep(10000);
    }
    lv_buf_free(&body);
    return 1;
}

static void usage(void)
{
    fputs("usage: lvbench lua|send|load|poll|port|wait [options]\n"
          "  --addr HOST:PORT  --sign AK:SK:REGION  --path P\n"
          "  --conns N --count N --start N --name-fmt FMT --group N\n"
          "  --value-bytes N --type T --overwrite --time-limit S\n"
          "  poll: --profile APP:ENV:PROFILE (or --reference) --conns N --time-limit S\n"
          "lua/send read \"<Operation or path>\\t<json body>\" lines on stdin\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *cmd = argv[1];
    opts o = {.port = 0, .conns = 16, .value_bytes = 100, .type = "String",
              .time_limit = 60};
    strcpy(o.host, "127.0.0.1");
    static char signbuf[1024];
    static const struct option lo[] = {
        {"addr", 1, 0, 'a'},       {"sign", 1, 0, 's'},
        {"path", 1, 0, 'p'},       {"conns", 1, 0, 'c'},
        {"count", 1, 0, 'n'},      {"start", 1, 0, 'S'},
        {"name-fmt", 1, 0, 'f'},   {"group", 1, 0, 'g'},
        {"value-bytes", 1, 0, 'v'}, {"type", 1, 0, 't'},
        {"overwrite", 0, 0, 'o'},  {"time-limit", 1, 0, 'T'},
        {"profile", 1, 0, 'P'},    {"reference", 0, 0, 'R'},
        {0, 0, 0, 0}};
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'a': {
            const char *colon = strrchr(optarg, ':');
            if (!colon || (size_t)(colon - optarg) >= sizeof o.host)
                usage();
            memcpy(o.host, optarg, (size_t)(colon - optarg));
            o.host[colon - optarg] = 0;
            o.port = atoi(colon + 1);
            break;
        }
        case 's': {
            snprintf(signbuf, sizeof signbuf, "%s", optarg);
            char *a = strchr(signbuf, ':');
            char *b = a ? strrchr(signbuf, ':') : NULL;
            if (!a || a == b)
                usage();
            *a = 0;
            *b = 0;
            o.ak = signbuf;
            o.sk = a + 1;
            o.region = b + 1;
            break;
        }
        case 'p': o.path = optarg; break;
        case 'c': o.conns = atoi(optarg); break;
        case 'n': o.count = atol(optarg); break;
        case 'S': o.start = atol(optarg); break;
        case 'f': o.name_fmt = optarg; break;
        case 'g': o.group = atol(optarg); break;
        case 'v': o.value_bytes = atoi(optarg); break;
        case 't': o.type = optarg; break;
        case 'o': o.overwrite = 1; break;
        case 'T': o.time_limit = atof(optarg); break;
        case 'P': o.acprofile = optarg; break;
        case 'R': o.reference = 1; break;
        default: usage();
        }
    }
    if (!strcmp(cmd, "port"))
        return cmd_port();
    if (!o.port)
        usage();
    if (!strcmp(cmd, "lua"))
        return cmd_lua(&o);
    if (!strcmp(cmd, "send"))
        return cmd_send(&o);
    if (!strcmp(cmd, "load"))
        return cmd_load(&o);
    if (!strcmp(cmd, "poll"))
        return cmd_poll(&o);
    if (!strcmp(cmd, "wait"))
        return cmd_wait(&o);
    usage();
    return 2;
}
