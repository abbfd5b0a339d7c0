/* http.c - libmicrohttpd glue: bounded request reading, one handler call per
 * request, and the event loops that drive the daemons. */
#include "http/http.h"

#include "http/addr.h"
#include "http/cpus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <microhttpd.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    LV_HTTP_DEFAULT_MAX_CONNECTIONS = 1024,
    LV_HTTP_DEFAULT_TIMEOUT = 60,
    /* MHD keeps the request line, headers and its read/write buffers in
     * this per-connection pool, and zeroes it for every request, so it is
     * kept small: SigV4 headers plus a session token fit easily (bodies
     * are copied out as they arrive), and a request whose headers do not
     * fit gets 431. 16 KiB measured ~5% more GetParameter/s than 64 KiB. */
    LV_HTTP_CONN_MEMORY = 16 * 1024,
    /* Headers beyond this count go to a heap array instead of the stack. */
    LV_HTTP_STACK_HEADERS = 32,
    /* Pending connections the kernel may queue (it caps this at
     * net.core.somaxconn): a burst of clients connecting at once must
     * wait for accept, not be dropped and retried after a second. */
    LV_HTTP_BACKLOG = 4096,
};

#define LV_HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)

/* One event loop: an MHD daemon in "external polling" epoll mode and the
 * thread that waits on its epoll descriptor and calls MHD_run. (MHD's own
 * internal polling thread stalls once more than 128 connections are ready
 * at once: see docs/decisions.md, "HTTP listener".) */
typedef struct lv_http_loop {
    struct lv_http_server *srv;
    struct MHD_Daemon *daemon;
    pthread_t thread;
    int started;
    /* eventfd: lv_http_resume wakes the loop with it. In external polling
     * mode MHD does not watch its own resume signal; the application
     * must call MHD_run after a resume. */
    int wake_fd;
} lv_http_loop;

struct lv_http_server {
    lv_http_loop *loops;
    unsigned nloops;
    int stop_fd;               /* eventfd: readable once stopping */
    char log_name[32];
    lv_http_handler_fn fn;
    void *ctx;
    size_t max_body;
    unsigned port;
    /* Connections open now (MHD's notify callback keeps count) and the cap
     * above which a new request is answered 503 and the connection closed.
     * MHD's own hard limit sits a margin higher, so there is room to send
     * that clean refusal instead of a reset. */
    atomic_uint open_conns;
    unsigned max_conns;
    char *tls_cert, *tls_key;  /* PEM text, kept until stop */
    size_t tls_key_len;
};

/* Per-request state, owned here rather than by MHD so a later
 * suspend/resume API (long-poll watch) can park a request and find
 * everything it needs again. MHD creates it through the URI log callback
 * (the only place the undecoded URI is visible) and we free it in the
 * completion callback. */
typedef struct lv_http_exchange {
    lv_http_server *srv;
    lv_http_loop *loop;  /* the loop whose daemon owns the connection */
    char *raw_uri;     /* as received: path and query, undecoded; stored
                          right after the struct */
    lv_buf body;
    int started;       /* first access-handler call (headers only) seen */
    int too_big;       /* body exceeded max_body: discard, answer 413 */
    int failed;        /* allocation failed while reading: answer 500 */
    struct MHD_Connection *conn;
    int deferred;      /* handler parked the request (lv_http_defer) */
    int resumed;       /* lv_http_resume was called: queue `later` */
    lv_http_response later; /* the deferred answer */
} lv_http_exchange;

/* The handle of a deferred request is its exchange. */
struct lv_http_deferred {
    lv_http_exchange x;
};

static void http_log(void *cls, const char *fmt, va_list ap)
{
    const lv_http_server *s = cls;
    /* MHD's messages carry their own newline. */
    fprintf(stderr, "%s: http: ", s ? s->log_name : "leverd");
    vfprintf(stderr, fmt, ap);
}

/* Zeroes a response but for its header scratch space (2.5 KiB that is
 * only read where a header points into it): done per request, twice. */
static void response_init(lv_http_response *r)
{
    size_t hs = offsetof(lv_http_response, header_storage), he = hs + sizeof r->header_storage;
    memset(r, 0, hs);
    memset((char *)r + he, 0, sizeof *r - he);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    /* One allocation holds the exchange and the URI after it. */
    size_t ul = strlen(uri ? uri : "");
    lv_http_exchange *x = malloc(sizeof *x + ul + 1);
    if (x == NULL)
        return NULL;
    memset(x, 0, offsetof(lv_http_exchange, later));
    response_init(&x->later);
    x->raw_uri = (char *)(x + 1);
    memcpy(x->raw_uri, uri ? uri : "", ul);
    x->raw_uri[ul] = '\0';
    x->loop = cls;
    x->srv = x->loop->srv;
    x->body.max = x->srv->max_body;
    return x;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    lv_http_exchange *x = *con_cls;
    if (x == NULL)
        return;
    lv_buf_free(&x->body);
    lv_buf_free(&x->later.body);
    free(x);
    *con_cls = NULL;
}

static enum MHD_Result queue_copy(struct MHD_Connection *c, unsigned status,
                                  const char *body, int close_conn)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                 "application/json");
    if (ok == MHD_YES && close_conn)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result queue_too_big(struct MHD_Connection *c, size_t max,
                                     int close_conn)
{
    char msg[128];
    snprintf(msg, sizeof msg,
             "{\"__type\":\"ValidationException\","
             "\"message\":\"Request body exceeds %zu bytes\"}",
             max);
    return queue_copy(c, MHD_HTTP_CONTENT_TOO_LARGE, msg, close_conn);
}

static enum MHD_Result queue_internal(struct MHD_Connection *c)
{
    return queue_copy(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                      "{\"__type\":\"InternalServerError\","
                      "\"message\":\"out of memory\"}",
                      1);
}

typedef struct header_sink {
    lv_http_header *h;
    size_t n, cap;
} header_sink;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value)
{
    (void)kind;
    header_sink *s = cls;
    if (s->n >= s->cap)
        return MHD_NO;
    s->h[s->n].name = key;
    s->h[s->n].value = value ? value : "";
    s->n++;
    return MHD_YES;
}

static void remote_format(struct MHD_Connection *c, char *out, size_t cap)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)cap);
    }
}

/* The peer's address as text, formatted once per connection (on_connection
 * keeps it as the socket context) rather than once per request. */
static void remote_text(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    const char *have = ci ? ci->socket_context : NULL;
    if (have != NULL) {
        size_t n = strnlen(have, cap - 1);
        memcpy(out, have, n);
        out[n] = '\0';
    } else
        remote_format(c, out, cap);
}

static int status_ok(int status)
{
    return status >= 100 && status <= 599;
}

/* Turns a filled lv_http_response into the MHD response and queues it. */
static enum MHD_Result queue_response(struct MHD_Connection *c, lv_http_response *resp)
{
    size_t len = 0;
    char *data = lv_buf_steal(&resp->body, &len);
    if (data == NULL)
        return queue_internal(c);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(data);
        return queue_internal(c);
    }
    enum MHD_Result ok = MHD_YES;
    if (resp->content_type != NULL)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                     resp->content_type);
    size_t nh = resp->nheaders < sizeof resp->headers / sizeof resp->headers[0]
                    ? resp->nheaders : sizeof resp->headers / sizeof resp->headers[0];
    for (size_t i = 0; ok == MHD_YES && i < nh; i++) {
        if (resp->headers[i].name == NULL || resp->headers[i].value == NULL)
            continue;
        ok = MHD_add_response_header(r, resp->headers[i].name,
                                     resp->headers[i].value);
    }
    if (ok != MHD_YES || !status_ok(resp->status)) {
        /* A handler bug (bad header, bad status) must not become a
         * malformed response on the wire. */
        fprintf(stderr, "http: handler produced an invalid response "
                        "(status %d)\n", resp->status);
        MHD_destroy_response(r);
        return queue_copy(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "{\"__type\":\"InternalServerError\","
                          "\"message\":\"invalid response\"}",
                          0);
    }
    ok = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Runs the handler on a complete request and queues what it produced. */
static enum MHD_Result dispatch(lv_http_exchange *x, struct MHD_Connection *c,
                                const char *method)
{
    lv_http_server *s = x->srv;

    /* Split the raw URI in place: it is ours and only read from here on. */
    char *query = strchr(x->raw_uri, '?');
    if (query != NULL)
        *query++ = '\0';

    lv_http_header stack_headers[LV_HTTP_STACK_HEADERS];
    header_sink sink = {stack_headers, 0, LV_HTTP_STACK_HEADERS};
    int n = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
    if (n > LV_HTTP_STACK_HEADERS) {
        sink.h = calloc((size_t)n, sizeof *sink.h);
        if (sink.h == NULL)
            return queue_internal(c);
        sink.cap = (size_t)n;
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &sink);

    char remote[INET6_ADDRSTRLEN];
    remote_text(c, remote, sizeof remote);

    lv_http_request req = {
        .method = method,
        .path = x->raw_uri,
        .query = query,
        .headers = sink.h,
        .nheaders = sink.n,
        .body = x->body.data ? x->body.data : "",
        .body_len = x->body.len,
        .remote_addr = remote,
    };
    lv_http_response resp;
    response_init(&resp);
    resp.status = 200;
    resp.content_type = "application/json";
    resp.exchange_ = x;
    x->conn = c;

    s->fn(s->ctx, &req, &resp);

    if (sink.h != stack_headers)
        free(sink.h);

    if (x->deferred) {
        /* Parked by the handler (already suspended in lv_http_defer). */
        lv_buf_free(&resp.body);
        return MHD_YES;
    }
    return queue_response(c, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)url;
    (void)version;
    lv_http_exchange *x = *con_cls;
    if (x == NULL) {
        (void)cls;
        /* on_uri could not allocate; nothing to serve the request with. */
        return queue_internal(c);
    }

    if (!x->started) {
        /* Headers only. Refusing here, before MHD sends "100 Continue" or
         * reads the body, spares reading an upload we will not take; MHD
         * closes the connection after such an early response. */
        x->started = 1;
        if (atomic_load(&x->srv->open_conns) > x->srv->max_conns)
            return queue_copy(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "{\"__type\":\"ServiceUnavailable\","
                              "\"message\":\"Too many connections; retry later.\"}",
                              1);
        size_t clen;
        const char *cl = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && lv_http_parse_size(cl, &clen)) {
            if (clen > x->srv->max_body) {
                x->too_big = 1;
                return queue_too_big(c, x->srv->max_body, 1);
            }
            /* One allocation for the whole body instead of doublings. */
            if (clen > 0 && lv_buf_reserve(&x->body, clen) != LV_OK)
                x->failed = 1;
        }
        return MHD_YES;
    }

    if (*upload_data_size != 0) {
        if (!x->too_big && !x->failed) {
            lv_err rc = lv_buf_append(&x->body, upload_data, *upload_data_size);
            if (rc == LV_E_TOO_BIG) {
                /* Chunked upload past the cap: drop what we hold and
                 * discard the rest, so memory stays bounded. */
                x->too_big = 1;
                lv_buf_free(&x->body);
            } else if (rc != LV_OK) {
                x->failed = 1;
                lv_buf_free(&x->body);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (x->resumed)
        return queue_response(c, &x->later);
    if (x->deferred)
        return MHD_YES; /* spurious call while parked */
    if (x->too_big)
        return queue_too_big(c, x->srv->max_body, 0);
    if (x->failed)
        return queue_internal(c);
    return dispatch(x, c, method);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    lv_http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->open_conns, 1);
        char *remote = malloc(INET6_ADDRSTRLEN);
        if (remote != NULL)
            remote_format(c, remote, INET6_ADDRSTRLEN);
        *socket_context = remote; /* NULL: formatted per request instead */
    } else {
        atomic_fetch_sub(&s->open_conns, 1);
        free(*socket_context);
        *socket_context = NULL;
    }
}

static void free_tls(lv_http_server *s)
{
    free(s->tls_cert);
    if (s->tls_key != NULL) {
        /* The private key must not linger in freed memory. */
        volatile char *p = s->tls_key;
        for (size_t i = 0; i < s->tls_key_len; i++)
            p[i] = 0;
    }
    free(s->tls_key);
}

/* Waits on the daemon's epoll descriptor (and the stop event) no longer
 * than MHD asks, then lets MHD do everything that is ready without
 * blocking. MHD_run never sleeps in epoll_wait itself, which is what
 * avoids the stall of MHD's internal loop (its drain loop calls epoll_wait
 * again with the full timeout whenever a batch of 128 events came back). */
static void *loop_main(void *arg)
{
    lv_http_loop *l = arg;
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    struct pollfd p[3] = {{.fd = di ? di->epoll_fd : -1, .events = POLLIN},
                          {.fd = l->srv->stop_fd, .events = POLLIN},
                          {.fd = l->wake_fd, .events = POLLIN}};
    for (;;) {
        int ms = -1;
        MHD_UNSIGNED_LONG_LONG to;
        if (MHD_get_timeout(l->daemon, &to) == MHD_YES)
            ms = to > INT_MAX ? INT_MAX : (int)to;
        int n = poll(p, 3, ms);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "%s: http: poll: %s\n", l->srv->log_name, strerror(errno));
            break;
        }
        if (n > 0 && p[1].revents != 0)
            break;
        if (n > 0 && p[2].revents != 0) {
            /* Drained before MHD_run: a resume that lands during the run
             * makes the descriptor readable again. */
            uint64_t v;
            if (read(l->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                fprintf(stderr, "%s: http: wake: %s\n", l->srv->log_name, strerror(errno));
        }
        MHD_run(l->daemon);
    }
    return NULL;
}

/* Connections need one descriptor each: lift the soft RLIMIT_NOFILE (up to
 * the hard limit) so that the connection limit, not the default 1024
 * descriptors, is what refuses connections. */
static void raise_nofile(unsigned conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)conns + 256;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want) ? want : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void stop_loops(lv_http_server *s)
{
    uint64_t one = 1;
    if (s->stop_fd >= 0 && write(s->stop_fd, &one, sizeof one) < 0)
        fprintf(stderr, "%s: http: cannot signal stop: %s\n", s->log_name, strerror(errno));
    for (unsigned i = 0; i < s->nloops; i++)
        if (s->loops[i].started)
            pthread_join(s->loops[i].thread, NULL);
    for (unsigned i = 0; i < s->nloops; i++) {
        if (s->loops[i].daemon != NULL)
            MHD_stop_daemon(s->loops[i].daemon);
        if (s->loops[i].wake_fd >= 0)
            close(s->loops[i].wake_fd);
    }
    free(s->loops);
    s->loops = NULL;
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    s->stop_fd = -1;
}

lv_err lv_http_start(const lv_http_config *cfg, lv_http_handler_fn fn,
                     void *ctx, lv_http_server **out, lv_error *err)
{
    *out = NULL;
    if (cfg == NULL || fn == NULL)
        return lv_error_set(err, LV_E_INTERNAL, "lv_http_start: no config or handler");

    struct sockaddr_storage ss;
    int is_v6;
    lv_err rc = lv_http_parse_listen(cfg->listen, &ss, &is_v6, err);
    if (rc != LV_OK)
        return rc;

    unsigned threads = cfg->threads ? cfg->threads : lv_http_cpus();
    unsigned cap = cfg->max_connections ? cfg->max_connections
                                        : LV_HTTP_DEFAULT_MAX_CONNECTIONS;
    /* MHD's hard limit leaves room above the cap to answer 503. */
    unsigned max_conn = cap + 16 + cap / 8;
    /* Each loop gets its share of the hard limit (at least one). */
    unsigned per_loop = (max_conn + threads - 1) / threads;
    unsigned timeout = cfg->timeout_seconds ? cfg->timeout_seconds
                                            : LV_HTTP_DEFAULT_TIMEOUT;
    raise_nofile(max_conn);

    lv_http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    s->fn = fn;
    s->ctx = ctx;
    s->stop_fd = -1;
    snprintf(s->log_name, sizeof s->log_name, "%s", cfg->log_name ? cfg->log_name : "leverd");
    s->max_body = cfg->max_body ? cfg->max_body : LV_HTTP_DEFAULT_MAX_BODY;
    s->max_conns = cap;
    atomic_init(&s->open_conns, 0);
    if (cfg->tls_cert != NULL || cfg->tls_key != NULL) {
        if (cfg->tls_cert == NULL || cfg->tls_key == NULL) {
            free(s);
            return lv_error_set(err, LV_E_VALIDATION, "TLS needs both a certificate and a key");
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            free(s);
            return lv_error_set(err, LV_E_VALIDATION, "this libmicrohttpd is built without TLS support");
        }
        if ((rc = lv_http_read_pem(cfg->tls_cert, &s->tls_cert, NULL, err)) != LV_OK ||
            (rc = lv_http_read_pem(cfg->tls_key, &s->tls_key, &s->tls_key_len, err)) != LV_OK) {
            free_tls(s);
            free(s);
            return rc;
        }
    }
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
        free_tls(s);
        free(s);
        return lv_error_set(err, LV_E_INTERNAL, "this libmicrohttpd is built without epoll");
    }
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->loops = calloc(threads, sizeof *s->loops);
    if (s->stop_fd < 0 || s->loops == NULL) {
        lv_http_stop(s);
        return lv_error_set(err, LV_E_NOMEM, "cannot create the event loops");
    }
    s->nloops = threads;
    for (unsigned i = 0; i < threads; i++) {
        s->loops[i].srv = s;
        s->loops[i].wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    }
    for (unsigned i = 0; i < threads; i++)
        if (s->loops[i].wake_fd < 0) {
            lv_http_stop(s);
            return lv_error_set(err, LV_E_NOMEM, "cannot create the event loops");
        }

    /* No internal polling thread: loop_main drives each daemon. */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (is_v6)
        flags |= MHD_USE_IPv6;
    if (s->tls_cert != NULL)
        flags |= MHD_USE_TLS;

    /* The first daemon binds the address; the others accept from the same
     * listening socket (a duplicate descriptor each, since every daemon
     * closes its own), so whichever loop is free takes the next client. */
    int listen_fd = -1;
    for (unsigned i = 0; i < threads; i++) {
        /* The logger goes first so MHD routes even option-parsing
         * messages through it. */
        struct MHD_OptionItem opts[] = {
            {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)http_log, s},
            {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)per_loop, NULL},
            {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)timeout, NULL},
            {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)LV_HTTP_CONN_MEMORY, NULL},
            {MHD_OPTION_LISTEN_BACKLOG_SIZE, (intptr_t)LV_HTTP_BACKLOG, NULL},
            {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, &s->loops[i]},
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
            {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
            {MHD_OPTION_END, 0, NULL}, /* room for the optional ones below */
            {MHD_OPTION_END, 0, NULL},
            {MHD_OPTION_END, 0, NULL},
            {MHD_OPTION_END, 0, NULL}, /* always the terminator */
        };
        size_t no = sizeof opts / sizeof *opts - 4;
        if (i == 0) {
            opts[no++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
        } else {
            int fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
            if (fd < 0) {
                int e = errno;
                lv_http_stop(s);
                return lv_error_set(err, LV_E_IO, "cannot share the listening socket: %s",
                                    strerror(e));
            }
            opts[no++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
        }
        if (s->tls_cert != NULL) {
            opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
            opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
        }
        errno = 0;
        s->loops[i].daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                              MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
        if (s->loops[i].daemon == NULL) {
            int e = errno;
            lv_http_stop(s);
            return lv_error_set(err, LV_E_IO, "cannot listen on %s: %s", cfg->listen,
                                e ? strerror(e) : "MHD_start_daemon failed");
        }
        if (i == 0) {
            const union MHD_DaemonInfo *di =
                MHD_get_daemon_info(s->loops[0].daemon, MHD_DAEMON_INFO_BIND_PORT);
            s->port = di ? di->port : 0;
            di = MHD_get_daemon_info(s->loops[0].daemon, MHD_DAEMON_INFO_LISTEN_FD);
            listen_fd = di ? di->listen_fd : -1;
        }
    }
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]) != 0) {
            lv_http_stop(s);
            return lv_error_set(err, LV_E_NOMEM, "cannot start an HTTP thread");
        }
        s->loops[i].started = 1;
    }
    *out = s;
    return LV_OK;
}

unsigned lv_http_port(const lv_http_server *s)
{
    return s ? s->port : 0;
}

void lv_http_stop(lv_http_server *s)
{
    if (s == NULL)
        return;
    stop_loops(s);
    free_tls(s);
    free(s);
}

const char *lv_http_header_get(const lv_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

lv_err lv_http_response_header(lv_http_response *resp, const char *name,
                               const char *value)
{
    if (resp->nheaders >= sizeof resp->headers / sizeof resp->headers[0])
        return LV_E_TOO_BIG;
    /* CR/LF in a value would let it forge headers of its own. */
    if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n:") != NULL)
        return LV_E_VALIDATION;
    size_t used = 0;
    for (size_t i = 0; i < resp->nheaders; i++) {
        /* Integer compare: values may point anywhere (static strings). */
        uintptr_t v = (uintptr_t)resp->headers[i].value;
        uintptr_t base = (uintptr_t)resp->header_storage;
        if (v >= base && v < base + sizeof resp->header_storage) {
            size_t end = (size_t)(v - base) + strlen(resp->headers[i].value) + 1;
            if (end > used)
                used = end;
        }
    }
    size_t n = strlen(value) + 1;
    if (n > sizeof resp->header_storage - used)
        return LV_E_TOO_BIG;
    char *dst = resp->header_storage + used;
    memcpy(dst, value, n);
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value = dst;
    resp->nheaders++;
    return LV_OK;
}

/* Moves src into dst, re-pointing header values that live in src's own
 * header_storage. */
static void move_response(lv_http_response *dst, lv_http_response *src)
{
    *dst = *src;
    uintptr_t base = (uintptr_t)src->header_storage;
    for (size_t i = 0; i < dst->nheaders; i++) {
        uintptr_t v = (uintptr_t)dst->headers[i].value;
        if (v >= base && v < base + sizeof src->header_storage)
            dst->headers[i].value = dst->header_storage + (v - base);
    }
    src->body = (lv_buf)LV_BUF_INIT;
    src->nheaders = 0;
}

lv_http_deferred *lv_http_defer(lv_http_response *resp)
{
    lv_http_exchange *x = resp->exchange_;
    if (x == NULL || x->deferred)
        return NULL;
    x->deferred = 1;
    move_response(&x->later, resp);
    resp->exchange_ = NULL;
    /* Suspending from inside the access handler is what MHD supports; a
     * resume from another thread, even before the handler returns, is then
     * processed by the daemon afterwards. */
    MHD_suspend_connection(x->conn);
    return (lv_http_deferred *)x;
}

lv_http_response *lv_http_deferred_response(lv_http_deferred *d)
{
    return &((lv_http_exchange *)d)->later;
}

void lv_http_resume(lv_http_deferred *d)
{
    lv_http_exchange *x = (lv_http_exchange *)d;
    /* Once resumed, the loop may finish the request and free x. */
    lv_http_loop *l = x->loop;
    x->resumed = 1;
    MHD_resume_connection(x->conn);
    uint64_t one = 1;
    if (write(l->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        fprintf(stderr, "%s: http: cannot wake the loop: %s\n", l->srv->log_name, strerror(errno));
}
