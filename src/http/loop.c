/* loop.c - the event loops: accept, read a request into the connection's
 * buffer and parse it there, call the handler, write the answer from the
 * connection's output buffer; keep-alive, pipelining, parked requests,
 * idle timeouts and lingering closes. One thread per loop, level-triggered
 * epoll; all loops accept from one listening socket. */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_HEAD, ST_BODY, ST_CHUNKED, ST_PARKED, ST_LINGER };
enum { IN_NONE, IN_IDLE, IN_LINGER, IN_PARKED };
enum { INITIAL_BUFFER = 4096, ACCEPT_BATCH = 64, MAX_EVENTS = 256 };

struct lv_http_conn {
    lv_http_loop *loop;
    int fd;
    lv_http_tls_conn *tls;
    int state;
    int list;                    /* which of the loop's lists holds it */
    lv_http_conn *prev, *next;
    uint64_t last_ms;            /* last progress */
    unsigned events;             /* epoll interest now */
    int io_want;                 /* what the last blocked read or write waits for */
    int write_want;
    int eof;                     /* the client sent all it will */
    int close_after;             /* close once the queued answers are sent */
    int refuse;                  /* over the connection cap: answer 503 */
    int sent_continue;
    /* the request being read */
    char *in;
    size_t in_len, in_cap;
    size_t head_len;
    lv_http_head head;
    lv_http_header fields[LV_HTTP_MAX_FIELDS];
    lv_http_chunked chunked;
    lv_buf chunked_body;
    /* answers */
    lv_buf out;
    size_t out_off;
    lv_buf body;                 /* the handler's body buffer, kept between requests */
    lv_http_exchange *parked;
    char remote[INET6_ADDRSTRLEN];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static lv_http_list *list_of(lv_http_conn *c)
{
    switch (c->list) {
    case IN_IDLE: return &c->loop->idle;
    case IN_LINGER: return &c->loop->linger;
    case IN_PARKED: return &c->loop->parked;
    default: return NULL;
    }
}

static void list_remove(lv_http_conn *c)
{
    lv_http_list *l = list_of(c);
    if (l == NULL)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    c->list = IN_NONE;
}

/* Moves c to the tail of list `which`, stamped now. */
static void list_touch(lv_http_conn *c, int which)
{
    if (c->list == which && c->loop->now_ms == c->last_ms)
        return;
    list_remove(c);
    c->list = which;
    lv_http_list *l = list_of(c);
    c->prev = l->tail;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    c->last_ms = c->loop->now_ms;
}

static void conn_free(lv_http_conn *c)
{
    list_remove(c);
    if (c->parked != NULL) {
        lv_buf_free(&c->parked->later.body);
        free(c->parked);
    }
    lv_http_tls_close(c->tls);
    close(c->fd);
    atomic_fetch_sub(&c->loop->srv->open_conns, 1);
    free(c->in);
    lv_buf_free(&c->chunked_body);
    lv_buf_free(&c->out);
    lv_buf_free(&c->body);
    free(c);
}

/* Interest in nothing takes the socket out of the epoll set: a parked
 * connection whose client hangs up would otherwise report the hang-up
 * (which epoll always reports) on every wait until it is resumed. */
static void set_events(lv_http_conn *c, unsigned ev)
{
    if (ev == c->events)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    int op = ev == 0 ? EPOLL_CTL_DEL : c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(c->loop->epfd, op, c->fd, &e) == 0)
        c->events = ev;
}

/* Room for at least `need` bytes in the input buffer (plus a NUL), the
 * head's pointers moved along when it moves. 0 when out of memory. */
static int in_reserve(lv_http_conn *c, size_t need)
{
    if (need + 1 <= c->in_cap)
        return 1;
    size_t cap = c->in_cap ? c->in_cap : INITIAL_BUFFER;
    while (cap < need + 1)
        cap *= 2;
    /* A new block rather than realloc: the head's pointers are moved
     * along while the old one is still there to measure them against. */
    char *p = malloc(cap);
    if (p == NULL)
        return 0;
    char *old = c->in;
    if (old != NULL) {
        memcpy(p, old, c->in_len);
        if (c->head_len > 0) {
#define LV_REBASE(ptr) ((ptr) = p + ((ptr) - old))
            LV_REBASE(c->head.method);
            LV_REBASE(c->head.target);
            for (size_t i = 0; i < c->head.nheaders; i++) {
                LV_REBASE(c->fields[i].name);
                LV_REBASE(c->fields[i].value);
            }
#undef LV_REBASE
        }
        free(old);
    }
    c->in = p;
    c->in_cap = cap;
    return 1;
}

/* Drops the first n bytes of the input (a finished request). */
static void in_consume(lv_http_conn *c, size_t n)
{
    if (n < c->in_len)
        memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n < c->in_len ? n : c->in_len;
    c->head_len = 0;
    if (c->in_cap > LV_HTTP_KEEP_BUFFER && c->in_len < INITIAL_BUFFER) {
        char *p = realloc(c->in, INITIAL_BUFFER);
        if (p != NULL) {
            c->in = p;
            c->in_cap = INITIAL_BUFFER;
        }
    }
}

static void refuse(lv_http_conn *c, int status, const char *type, const char *msg)
{
    lv_http_server *s = c->loop->srv;
    char text[128];
    if (status == 413) {
        snprintf(text, sizeof text, "Request body exceeds %zu bytes", s->max_body);
        msg = text;
        type = "ValidationException";
    }
    (void)lv_http_wire_error(&c->out, status, type, msg, 1, &c->loop->date);
    c->close_after = 1;
    c->state = ST_HEAD;
    c->in_len = 0;
    c->head_len = 0;
}

static void refuse_parse(lv_http_conn *c, int status)
{
    switch (status) {
    case 414: refuse(c, 414, "ValidationException", "Request line too long"); break;
    case 431: refuse(c, 431, "ValidationException", "Request header fields too large"); break;
    case 501: refuse(c, 501, "ValidationException", "Transfer coding not supported"); break;
    case 505: refuse(c, 505, "ValidationException", "HTTP version not supported"); break;
    case 417: refuse(c, 417, "ValidationException", "Expectation not supported"); break;
    default: refuse(c, 400, "ValidationException", "Malformed HTTP request"); break;
    }
}

/* Zeroes a response but for its header scratch space (2.5 KiB that is
 * only read where a header points into it). */
static void response_init(lv_http_response *r)
{
    size_t hs = offsetof(lv_http_response, header_storage), he = hs + sizeof r->header_storage;
    memset(r, 0, hs);
    memset((char *)r + he, 0, sizeof *r - he);
}

static void queue_answer(lv_http_conn *c, lv_http_response *r, int keep_alive, int head_only)
{
    int close_conn = !keep_alive || c->eof;
    if (lv_http_wire_response(&c->out, r, close_conn, head_only, &c->loop->date) != LV_OK) {
        (void)lv_http_wire_error(&c->out, 500, "InternalServerError", "out of memory", 1,
                                 &c->loop->date);
        close_conn = 1;
    }
    if (close_conn)
        c->close_after = 1;
}

/* Runs the handler on the complete request in front of the buffer. */
static void dispatch(lv_http_conn *c, const char *body, size_t body_len)
{
    lv_http_server *s = c->loop->srv;
    char *query = strchr(c->head.target, '?');
    if (query != NULL)
        *query++ = '\0';
    lv_http_request req = {
        .method = c->head.method,
        .path = c->head.target,
        .query = query,
        .headers = c->fields,
        .nheaders = c->head.nheaders,
        .body = body,
        .body_len = body_len,
        .remote_addr = c->remote,
    };
    lv_http_response resp;
    response_init(&resp);
    resp.status = 200;
    resp.content_type = "application/json";
    resp.body = c->body;
    resp.exchange_ = c;
    c->body = (lv_buf)LV_BUF_INIT;

    int keep_alive = c->head.keep_alive, head_only = strcmp(c->head.method, "HEAD") == 0;
    s->fn(s->ctx, &req, &resp);

    if (c->parked != NULL) {
        /* lv_http_defer moved the answer; the loop waits for the resume. */
        c->parked->keep_alive = keep_alive;
        c->parked->head_only = head_only;
        c->state = ST_PARKED;
        list_touch(c, IN_PARKED);
    } else {
        queue_answer(c, &resp, keep_alive, head_only);
        c->state = ST_HEAD;
    }
    c->body = resp.body;
    if (c->body.cap > LV_HTTP_KEEP_BUFFER)
        lv_buf_free(&c->body);
    lv_buf_reset(&c->body);
    lv_buf_free(&c->chunked_body);
    c->sent_continue = 0;
}

static int head_complete(lv_http_conn *c)
{
    lv_http_server *s = c->loop->srv;
    long r = lv_http_parse_head(c->in, c->in_len, LV_HTTP_MAX_HEAD, c->fields,
                                LV_HTTP_MAX_FIELDS, &c->head);
    if (r == 0)
        return 0;
    if (r < 0) {
        refuse_parse(c, (int)-r);
        return 0;
    }
    c->head_len = (size_t)r;
    if (c->refuse) {
        refuse(c, 503, "ServiceUnavailable", "Too many connections; retry later.");
        return 0;
    }
    if (c->head.chunked) {
        c->state = ST_CHUNKED;
        memset(&c->chunked, 0, sizeof c->chunked);
        c->chunked_body = (lv_buf)LV_BUF_INIT;
        c->chunked_body.max = s->max_body;
    } else {
        if (c->head.content_length > s->max_body) {
            refuse(c, 413, NULL, NULL);
            return 0;
        }
        c->state = ST_BODY;
        if (!in_reserve(c, c->head_len + c->head.content_length)) {
            refuse(c, 500, "InternalServerError", "out of memory");
            return 0;
        }
    }
    return 1;
}

static void maybe_continue(lv_http_conn *c)
{
    if (c->head.expect_continue && !c->sent_continue && c->head.minor >= 1) {
        (void)lv_buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
        c->sent_continue = 1;
    }
}

/* Parses and answers what the buffer holds, request by request. */
static void process(lv_http_conn *c)
{
    for (;;) {
        if (c->close_after || c->out.len - c->out_off > LV_HTTP_MAX_QUEUED)
            return;
        switch (c->state) {
        case ST_HEAD:
            if (c->in_len == 0 || !head_complete(c))
                return;
            break;
        case ST_BODY: {
            size_t need = c->head_len + c->head.content_length;
            if (c->in_len < need) {
                maybe_continue(c);
                return;
            }
            /* NUL-terminated for the handler: the byte after the body
             * (the next request's first, if pipelined) is put back. */
            char saved = c->in[need];
            c->in[need] = '\0';
            char *body = c->in + c->head_len;
            dispatch(c, body, c->head.content_length);
            c->in[need] = saved;
            in_consume(c, need);
            break;
        }
        case ST_CHUNKED: {
            size_t avail = c->in_len - c->head_len;
            size_t used = lv_http_chunked_feed(&c->chunked, c->in + c->head_len, avail,
                                               &c->chunked_body);
            memmove(c->in + c->head_len, c->in + c->head_len + used, avail - used);
            c->in_len -= used;
            if (c->chunked.error) {
                refuse_parse(c, 400);
                return;
            }
            if (!c->chunked.done) {
                maybe_continue(c);
                return;
            }
            if (c->chunked.too_big) {
                refuse(c, 413, NULL, NULL);
                return;
            }
            lv_buf body = c->chunked_body;
            c->chunked_body = (lv_buf)LV_BUF_INIT;
            dispatch(c, body.data ? body.data : "", body.len);
            lv_buf_free(&body);
            in_consume(c, c->head_len);
            break;
        }
        default:
            return;
        }
    }
}

/* Sends what is queued. 0 when the connection broke. */
static int flush(lv_http_conn *c)
{
    while (c->out_off < c->out.len) {
        int want;
        ssize_t n = lv_http_io_write(c->fd, c->tls, c->out.data + c->out_off,
                                     c->out.len - c->out_off, &want);
        if (n == LV_IO_AGAIN) {
            c->write_want = want;
            return 1;
        }
        if (n <= 0)
            return 0;
        c->out_off += (size_t)n;
    }
    c->write_want = 0;
    c->out_off = 0;
    if (c->out.cap > LV_HTTP_KEEP_BUFFER)
        lv_buf_free(&c->out);
    lv_buf_reset(&c->out);
    return 1;
}

/* After an error answer: no more writes, read and discard for a while. */
static void start_linger(lv_http_conn *c)
{
    if (c->tls != NULL) {
        lv_http_tls_close(c->tls);
        c->tls = NULL;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = ST_LINGER;
    list_touch(c, IN_LINGER);
    set_events(c, EPOLLIN);
}

/* Decides what to wait for next; closes when done. */
static void settle(lv_http_conn *c)
{
    if (!flush(c)) {
        conn_free(c);
        return;
    }
    int pending = c->out_off < c->out.len;
    if (!pending && c->close_after) {
        if (c->eof)
            conn_free(c);
        else
            start_linger(c);
        return;
    }
    if (!pending && c->eof && c->state != ST_PARKED) {
        conn_free(c);
        return;
    }
    unsigned ev = 0;
    if (c->state != ST_PARKED && !c->close_after && !c->eof &&
        c->out.len - c->out_off <= LV_HTTP_MAX_QUEUED)
        ev |= c->io_want == LV_IO_WANT_WRITE ? EPOLLOUT : EPOLLIN;
    if (pending)
        ev |= c->write_want == LV_IO_WANT_READ ? EPOLLIN : EPOLLOUT;
    set_events(c, ev);
}

/* Reads what the socket has; 0 when the connection is to close now. */
static int read_some(lv_http_conn *c)
{
    for (;;) {
        if (c->state == ST_LINGER) {
            char sink[4096];
            int want;
            ssize_t n = lv_http_io_read(c->fd, NULL, sink, sizeof sink, &want);
            return n > 0 || n == LV_IO_AGAIN;
        }
        if (c->in_cap < c->in_len + 2) {
            size_t want = c->in_len < INITIAL_BUFFER ? INITIAL_BUFFER : c->in_len * 2;
            if (c->state == ST_HEAD && want > LV_HTTP_MAX_HEAD)
                want = LV_HTTP_MAX_HEAD;
            if (want > c->in_len && !in_reserve(c, want))
                return 0;
            if (c->in_cap < c->in_len + 2)
                return 1; /* a full head: the parser has refused it */
        }
        ssize_t n = lv_http_io_read(c->fd, c->tls, c->in + c->in_len,
                                    c->in_cap - c->in_len - 1, &c->io_want);
        if (n == LV_IO_AGAIN)
            return 1;
        if (n == LV_IO_ERROR)
            return 0;
        if (n == 0) {
            c->eof = 1;
            return 1;
        }
        c->io_want = LV_IO_WANT_READ;
        c->in_len += (size_t)n;
        list_touch(c, IN_IDLE);
        process(c);
        /* TLS may hold decrypted bytes the socket will not signal again. */
        if (!lv_http_io_pending(c->tls) || c->state == ST_PARKED || c->close_after)
            return 1;
    }
}

static void conn_event(lv_http_conn *c, unsigned ev)
{
    if (c->state == ST_LINGER) {
        if (!read_some(c))
            conn_free(c);
        return;
    }
    if (ev & EPOLLERR) {
        conn_free(c);
        return;
    }
    int can_read = (ev & (EPOLLIN | EPOLLHUP)) && c->io_want == LV_IO_WANT_READ;
    can_read |= (ev & EPOLLOUT) && c->io_want == LV_IO_WANT_WRITE;
    if (c->state != ST_PARKED && !c->close_after && can_read) {
        if (!read_some(c)) {
            conn_free(c);
            return;
        }
    } else if (c->out_off < c->out.len && (ev & EPOLLOUT)) {
        list_touch(c, IN_IDLE);
        if (!flush(c)) {
            conn_free(c);
            return;
        }
        /* Room again for pipelined requests held back. */
        if (c->state != ST_PARKED)
            process(c);
    }
    settle(c);
}

static void accept_some(lv_http_loop *l)
{
    lv_http_server *s = l->srv;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == ECONNABORTED || errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "%s: http: accept: %s\n", s->log_name, strerror(errno));
            return;
        }
        unsigned open = atomic_fetch_add(&s->open_conns, 1) + 1;
        lv_http_conn *c = open > s->hard_conns ? NULL : calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            atomic_fetch_sub(&s->open_conns, 1);
            continue;
        }
        c->loop = l;
        c->fd = fd;
        c->refuse = open > s->max_conns;
        c->io_want = LV_IO_WANT_READ;
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->remote, sizeof c->remote);
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->remote,
                      sizeof c->remote);
        if (s->tls != NULL && (c->tls = lv_http_tls_accept(s->tls, fd)) == NULL) {
            close(fd);
            atomic_fetch_sub(&s->open_conns, 1);
            free(c);
            continue;
        }
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
            c->list = IN_NONE;
            conn_free(c);
            continue;
        }
        c->events = EPOLLIN;
        list_touch(c, IN_IDLE);
    }
}

/* Answers the requests other threads resumed. */
static void take_resumed(lv_http_loop *l)
{
    uint64_t v;
    if (read(l->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
        fprintf(stderr, "%s: http: wake: %s\n", l->srv->log_name, strerror(errno));
    pthread_mutex_lock(&l->mu);
    lv_http_exchange *x = l->resumed;
    l->resumed = NULL;
    pthread_mutex_unlock(&l->mu);
    while (x != NULL) {
        lv_http_exchange *next = x->next;
        lv_http_conn *c = x->conn;
        queue_answer(c, &x->later, x->keep_alive, x->head_only);
        lv_buf_free(&x->later.body);
        free(x);
        c->parked = NULL;
        c->state = ST_HEAD;
        list_touch(c, IN_IDLE);
        process(c);
        settle(c);
        x = next;
    }
}

static void sweep(lv_http_loop *l)
{
    lv_http_server *s = l->srv;
    while (l->idle.head != NULL && l->now_ms - l->idle.head->last_ms >= s->timeout_ms)
        conn_free(l->idle.head);
    while (l->linger.head != NULL && l->now_ms - l->linger.head->last_ms >= LV_HTTP_LINGER_MS)
        conn_free(l->linger.head);
    l->next_sweep_ms = l->now_ms + 250;
}

void *lv_http_loop_main(void *arg)
{
    lv_http_loop *l = arg;
    struct epoll_event ev[MAX_EVENTS];
    l->now_ms = now_ms();
    l->next_sweep_ms = l->now_ms + 250;
    for (;;) {
        int n = epoll_wait(l->epfd, ev, MAX_EVENTS, 250);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "%s: http: epoll_wait: %s\n", l->srv->log_name, strerror(errno));
            break;
        }
        l->now_ms = now_ms();
        int stop = 0, wake = 0;
        for (int i = 0; i < n; i++) {
            void *p = ev[i].data.ptr;
            if (p == &l->srv->listen_fd)
                accept_some(l);
            else if (p == &l->srv->stop_fd)
                stop = 1;
            else if (p == &l->wake_fd)
                wake = 1;
            else
                conn_event(p, ev[i].events);
        }
        /* Resumes after the batch: a connection an event above closed
         * is never parked, so the queue only names live ones. */
        if (wake)
            take_resumed(l);
        if (stop)
            break;
        if (l->now_ms >= l->next_sweep_ms)
            sweep(l);
    }
    return NULL;
}

void lv_http_loop_drop_all(lv_http_loop *l)
{
    lv_http_list *lists[] = {&l->idle, &l->linger, &l->parked};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        while (lists[i]->head != NULL)
            conn_free(lists[i]->head);
}

lv_http_deferred *lv_http_defer(lv_http_response *resp)
{
    lv_http_conn *c = resp->exchange_;
    if (c == NULL || c->parked != NULL)
        return NULL;
    lv_http_exchange *x = malloc(sizeof *x);
    if (x == NULL)
        return NULL;
    x->conn = c;
    x->next = NULL;
    x->later = *resp;
    x->later.exchange_ = NULL;
    /* Header values in the response's own scratch space move with it. */
    uintptr_t base = (uintptr_t)resp->header_storage;
    for (size_t i = 0; i < x->later.nheaders; i++) {
        uintptr_t v = (uintptr_t)x->later.headers[i].value;
        if (v >= base && v < base + sizeof resp->header_storage)
            x->later.headers[i].value = x->later.header_storage + (v - base);
    }
    resp->body = (lv_buf)LV_BUF_INIT;
    resp->nheaders = 0;
    resp->exchange_ = NULL;
    c->parked = x;
    return (lv_http_deferred *)x;
}

lv_http_response *lv_http_deferred_response(lv_http_deferred *d)
{
    return &((lv_http_exchange *)d)->later;
}

void lv_http_resume(lv_http_deferred *d)
{
    lv_http_exchange *x = (lv_http_exchange *)d;
    lv_http_loop *l = x->conn->loop;
    pthread_mutex_lock(&l->mu);
    x->next = l->resumed;
    l->resumed = x;
    pthread_mutex_unlock(&l->mu);
    uint64_t one = 1;
    if (write(l->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        fprintf(stderr, "%s: http: cannot wake the loop: %s\n", l->srv->log_name, strerror(errno));
}
