/* http.c - the listener's set-up and the calls handlers use: binds the
 * socket, starts one event loop per thread (src/http/loop.c), looks up
 * request headers and adds response headers. lever's own HTTP/1.1 layer;
 * docs/decisions.md, "HTTP layer", says why it replaced libmicrohttpd. */
#include "http/http_int.h"

#include "http/addr.h"
#include "http/cpus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    LV_HTTP_DEFAULT_MAX_CONNECTIONS = 1024,
    LV_HTTP_DEFAULT_TIMEOUT = 60,
    /* Pending connections the kernel may queue (it caps this at
     * net.core.somaxconn): a burst of clients connecting at once must
     * wait for accept, not be dropped and retried after a second. */
    LV_HTTP_BACKLOG = 4096,
};

#define LV_HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)

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

static lv_err listen_on(lv_http_server *s, const char *addr, lv_error *err)
{
    struct sockaddr_storage ss;
    int is_v6;
    lv_err rc = lv_http_parse_listen(addr, &ss, &is_v6, err);
    if (rc != LV_OK)
        return rc;
    int fd = socket(is_v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return lv_error_set(err, LV_E_IO, "cannot listen on %s: %s", addr, strerror(errno));
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (is_v6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    socklen_t sl = is_v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, LV_HTTP_BACKLOG) != 0) {
        int e = errno;
        close(fd);
        return lv_error_set(err, LV_E_IO, "cannot listen on %s: %s", addr, strerror(e));
    }
    struct sockaddr_storage bound;
    sl = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &sl) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    s->listen_fd = fd;
    return LV_OK;
}

/* Every loop waits on the listening socket (EPOLLEXCLUSIVE: one of them
 * is woken per connection), the stop event and its own wake event; the
 * descriptors' addresses tell them apart from connections. */
static int loop_init(lv_http_loop *l, lv_http_server *s)
{
    l->srv = s;
    l->wake_fd = -1;
    pthread_mutex_init(&l->mu, NULL);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return 0;
    l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->wake_fd < 0)
        return 0;
    struct epoll_event a = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &s->listen_fd};
    struct epoll_event b = {.events = EPOLLIN, .data.ptr = &s->stop_fd};
    struct epoll_event c = {.events = EPOLLIN, .data.ptr = &l->wake_fd};
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->listen_fd, &a) == 0 &&
           epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->stop_fd, &b) == 0 &&
           epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &c) == 0;
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
        lv_http_loop *l = &s->loops[i];
        lv_http_loop_drop_all(l);
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->wake_fd >= 0)
            close(l->wake_fd);
        pthread_mutex_destroy(&l->mu);
    }
    free(s->loops);
    s->loops = NULL;
    s->nloops = 0;
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->stop_fd = s->listen_fd = -1;
}

lv_err lv_http_start(const lv_http_config *cfg, lv_http_handler_fn fn,
                     void *ctx, lv_http_server **out, lv_error *err)
{
    *out = NULL;
    if (cfg == NULL || fn == NULL)
        return lv_error_set(err, LV_E_INTERNAL, "lv_http_start: no config or handler");
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return lv_error_set(err, LV_E_VALIDATION, "TLS needs both a certificate and a key");

    unsigned threads = cfg->threads ? cfg->threads : lv_http_cpus();
    unsigned cap = cfg->max_connections ? cfg->max_connections
                                        : LV_HTTP_DEFAULT_MAX_CONNECTIONS;
    unsigned timeout = cfg->timeout_seconds ? cfg->timeout_seconds
                                            : LV_HTTP_DEFAULT_TIMEOUT;

    lv_http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    s->fn = fn;
    s->ctx = ctx;
    s->stop_fd = s->listen_fd = -1;
    snprintf(s->log_name, sizeof s->log_name, "%s", cfg->log_name ? cfg->log_name : "leverd");
    s->max_body = cfg->max_body ? cfg->max_body : LV_HTTP_DEFAULT_MAX_BODY;
    s->max_conns = cap;
    /* Room above the cap to answer 503 rather than reset. */
    s->hard_conns = cap + 16 + cap / 8;
    s->timeout_ms = timeout * 1000;
    atomic_init(&s->open_conns, 0);
    raise_nofile(s->hard_conns);

    lv_err rc = LV_OK;
    if (cfg->tls_cert != NULL)
        rc = lv_http_tls_new(cfg->tls_cert, cfg->tls_key, &s->tls, err);
    if (rc == LV_OK)
        rc = listen_on(s, cfg->listen, err);
    if (rc != LV_OK) {
        lv_http_stop(s);
        return rc;
    }
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->loops = calloc(threads, sizeof *s->loops);
    if (s->stop_fd < 0 || s->loops == NULL) {
        lv_http_stop(s);
        return lv_error_set(err, LV_E_NOMEM, "cannot create the event loops");
    }
    s->nloops = threads;
    for (unsigned i = 0; i < threads; i++)
        s->loops[i].epfd = s->loops[i].wake_fd = -1;
    for (unsigned i = 0; i < threads; i++)
        if (!loop_init(&s->loops[i], s)) {
            lv_http_stop(s);
            return lv_error_set(err, LV_E_NOMEM, "cannot create the event loops");
        }
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&s->loops[i].thread, NULL, lv_http_loop_main, &s->loops[i]) != 0) {
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
    lv_http_tls_free(s->tls);
    free(s);
}

const char *lv_http_header_get(const lv_http_request *req, const char *name)
{
    /* Asked several times per request over a dozen fields: the length and
     * the first letter (ASCII, case folded) rule most of them out. */
    size_t nl = strlen(name);
    int first = name[0] | 0x20;
    for (size_t i = 0; i < req->nheaders; i++) {
        const lv_http_header *h = &req->headers[i];
        if ((h->name_len == nl || h->name_len == 0) && (h->name[0] | 0x20) == first &&
            strcasecmp(h->name, name) == 0)
            return h->value;
    }
    return NULL;
}

lv_err lv_http_response_header(lv_http_response *resp, const char *name,
                               const char *value)
{
    if (resp->nheaders >= sizeof resp->headers / sizeof resp->headers[0])
        return LV_E_TOO_BIG;
    /* CR/LF in a value would let it forge headers of its own. */
    size_t nl, n;
    if (!lv_http_field_ok(name, value, &nl, &n))
        return LV_E_VALIDATION;
    size_t used = resp->storage_used;
    if (n + 1 > sizeof resp->header_storage - used)
        return LV_E_TOO_BIG;
    char *dst = resp->header_storage + used;
    memcpy(dst, value, n + 1);
    resp->storage_used = used + n + 1;
    resp->headers[resp->nheaders] = (lv_http_header){name, dst, nl, n};
    resp->nheaders++;
    return LV_OK;
}

