/* test_http.c - the HTTP listener against a real socket client: raw query, bodies, keep-alive, limits, concurrency. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/cpus.h"
#include "http/http.h"
#include "http/parse.h"
#include "http/wire.h"

#define MAX_BODY 1024

static atomic_int handler_calls;

/* A long poll: the handler parks the request and another thread answers
 * it a little later. */
static void *resume_later(void *arg)
{
    lv_http_deferred *d = arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    lv_http_response *r = lv_http_deferred_response(d);
    lv_buf_reset(&r->body);
    lv_buf_printf(&r->body, "resumed");
    r->status = 202;
    lv_http_resume(d);
    return NULL;
}

static void defer_and_resume_later(lv_http_response *resp)
{
    lv_http_deferred *d = lv_http_defer(resp);
    assert_non_null(d);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, resume_later, d), 0);
    pthread_detach(t);
}

/* Echoes the request as "key=value" lines so tests can check each part. */
static void echo_handler(void *ctx, const lv_http_request *req,
                         lv_http_response *resp)
{
    (void)ctx;
    atomic_fetch_add(&handler_calls, 1);
    const char *xt = lv_http_header_get(req, "x-test");
    const char *xt_upper = lv_http_header_get(req, "X-TEST");
    lv_buf_printf(&resp->body, "M=%s\nP=%s\nQ=%s\nH=%s\nU=%s\nR=%s\nL=%zu\nB=",
                  req->method, req->path, req->query ? req->query : "(null)",
                  xt ? xt : "(null)", xt_upper ? xt_upper : "(null)",
                  req->remote_addr, req->body_len);
    lv_buf_append(&resp->body, req->body, req->body_len);
    resp->content_type = "text/plain";
    char built[32];
    snprintf(built, sizeof built, "v-%zu", req->body_len);
    lv_http_response_header(resp, "X-Lever-Built", built);
    resp->headers[resp->nheaders].name = "X-Lever-Static";
    resp->headers[resp->nheaders].value = "static";
    resp->nheaders++;
    if (strcmp(req->path, "/status") == 0)
        resp->status = 404;
    if (strcmp(req->path, "/defer") == 0)
        defer_and_resume_later(resp);
}

static lv_http_server *srv;
static unsigned port;

static int setup(void **state)
{
    (void)state;
    lv_http_config cfg = {.listen = "127.0.0.1:0", .threads = 2,
                          .max_body = MAX_BODY};
    lv_error err = {0};
    if (lv_http_start(&cfg, echo_handler, NULL, &srv, &err) != LV_OK) {
        fprintf(stderr, "start: %s\n", err.msg);
        return -1;
    }
    port = lv_http_port(srv);
    return port ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    lv_http_stop(srv);
    srv = NULL;
    return 0;
}

static int connect_to(unsigned p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

typedef struct reply {
    int status;
    char head[4096]; /* status line and headers */
    char body[8192];
    size_t body_len;
} reply;

/* Reads one response (Content-Length framed); returns 0 on EOF before any byte. */
static int read_reply(int fd, reply *r)
{
    memset(r, 0, sizeof *r);
    size_t hl = 0;
    while (hl < 4 || memcmp(r->head + hl - 4, "\r\n\r\n", 4) != 0) {
        assert_true(hl < sizeof r->head - 1);
        ssize_t n = recv(fd, r->head + hl, 1, 0);
        if (n <= 0) {
            assert_int_equal(hl, 0);
            return 0;
        }
        hl++;
    }
    r->head[hl] = '\0';
    assert_int_equal(sscanf(r->head, "HTTP/1.1 %d", &r->status), 1);
    const char *cl = strcasestr(r->head, "\r\nContent-Length:");
    size_t want = 0;
    if (cl)
        want = strtoul(cl + 17, NULL, 10);
    assert_true(want < sizeof r->body);
    while (r->body_len < want) {
        ssize_t n = recv(fd, r->body + r->body_len, want - r->body_len, 0);
        assert_true(n > 0);
        r->body_len += (size_t)n;
    }
    r->body[r->body_len] = '\0';
    return 1;
}

static void roundtrip(const char *request, reply *r)
{
    int fd = connect_to(port);
    send_str(fd, request);
    assert_int_equal(read_reply(fd, r), 1);
    close(fd);
}

static void test_get_raw_query(void **state)
{
    (void)state;
    reply r;
    roundtrip("GET /p/a%20b?a=%2F&b=c HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "M=GET\n"));
    assert_non_null(strstr(r.body, "P=/p/a%20b\n"));
    assert_non_null(strstr(r.body, "Q=a=%2F&b=c\n"));
    assert_non_null(strstr(r.body, "R=127.0.0.1\n"));
    assert_non_null(strstr(r.body, "L=0\nB="));

    roundtrip("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_non_null(strstr(r.body, "P=/\n"));
    assert_non_null(strstr(r.body, "Q=(null)\n"));

    roundtrip("GET /e? HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_non_null(strstr(r.body, "P=/e\nQ=\n"));
}

static void test_post_body(void **state)
{
    (void)state;
    reply r;
    roundtrip("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
              "Content-Type: application/x-amz-json-1.1\r\n\r\nhello world",
              &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "M=POST\n"));
    assert_non_null(strstr(r.body, "L=11\nB=hello world"));

    /* Exactly the cap is accepted. */
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
                     MAX_BODY);
    memset(req + n, 'z', MAX_BODY);
    int fd = connect_to(port);
    send_all(fd, req, (size_t)n + MAX_BODY);
    assert_int_equal(read_reply(fd, &r), 1);
    close(fd);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "L=1024\n"));

    /* Chunked upload is reassembled. */
    roundtrip("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
              &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "L=7\nB=abcdefg"));
}

static void test_expect_continue(void **state)
{
    (void)state;
    int fd = connect_to(port);
    send_str(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 "Expect: 100-continue\r\n\r\n");
    char line[64] = {0};
    size_t got = 0;
    while (got < 4 || memcmp(line + got - 4, "\r\n\r\n", 4) != 0) {
        assert_true(got < sizeof line - 1);
        assert_true(recv(fd, line + got, 1, 0) == 1);
        got++;
    }
    assert_non_null(strstr(line, " 100 "));
    send_str(fd, "12345");
    reply r;
    assert_int_equal(read_reply(fd, &r), 1);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "B=12345"));
    close(fd);
}

static void test_keep_alive(void **state)
{
    (void)state;
    int fd = connect_to(port);
    reply r;
    send_str(fd, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/one\n"));
    send_str(fd, "POST /two?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/two\nQ=x=1\n"));
    assert_non_null(strstr(r.body, "B=hi"));
    /* Pipelined pair on the same connection. */
    send_str(fd, "GET /three HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /four HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/three\n"));
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/four\n"));
    close(fd);
}

static const char too_big_json[] =
    "{\"__type\":\"ValidationException\","
    "\"message\":\"Request body exceeds 1024 bytes\"}";

static void test_oversize_body(void **state)
{
    (void)state;
    int before = atomic_load(&handler_calls);
    reply r;

    /* Declared length over the cap: refused before the body is read. */
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
                     MAX_BODY + 1);
    memset(req + n, 'z', MAX_BODY + 1);
    int fd = connect_to(port);
    send_all(fd, req, (size_t)n + MAX_BODY + 1);
    assert_int_equal(read_reply(fd, &r), 1);
    close(fd);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.body, too_big_json);

    /* With Expect: 100-continue the client never gets to send it. */
    fd = connect_to(port);
    send_str(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
                 "Expect: 100-continue\r\n\r\n");
    assert_int_equal(read_reply(fd, &r), 1);
    close(fd);
    assert_int_equal(r.status, 413);

    /* Chunked, length unknown up front: discarded, then 413. */
    fd = connect_to(port);
    send_str(fd, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[700];
    memset(chunk, 'y', sizeof chunk);
    for (int i = 0; i < 4; i++) {
        send_str(fd, "2bc\r\n");
        send_all(fd, chunk, sizeof chunk);
        send_str(fd, "\r\n");
    }
    send_str(fd, "0\r\n\r\n");
    assert_int_equal(read_reply(fd, &r), 1);
    close(fd);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.body, too_big_json);

    assert_int_equal(atomic_load(&handler_calls), before);
}

static void test_headers(void **state)
{
    (void)state;
    reply r;
    roundtrip("GET /h HTTP/1.1\r\nHost: x\r\nX-TeSt: v1\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "H=v1\nU=v1\n"));
    assert_non_null(strcasestr(r.head, "\r\nContent-Type: text/plain\r\n"));
    assert_non_null(strcasestr(r.head, "\r\nX-Lever-Built: v-0\r\n"));
    assert_non_null(strcasestr(r.head, "\r\nX-Lever-Static: static\r\n"));

    roundtrip("GET /status HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
}

static void test_header_helpers(void **state)
{
    (void)state;
    lv_http_header hs[] = {{"Content-Type", "a"}, {"X-Amz-Date", "b"}};
    lv_http_request req = {.headers = hs, .nheaders = 2};
    assert_string_equal(lv_http_header_get(&req, "x-amz-date"), "b");
    assert_string_equal(lv_http_header_get(&req, "CONTENT-TYPE"), "a");
    assert_null(lv_http_header_get(&req, "x-amz"));

    lv_http_response resp;
    memset(&resp, 0, sizeof resp);
    enum { CAP = sizeof resp.header_storage };
    char big[CAP + 88];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(lv_http_response_header(&resp, "A", big), LV_E_TOO_BIG);
    assert_int_equal(resp.nheaders, 0);
    /* Storage is bump-allocated: (CAP - 12) + 11 = CAP - 1 bytes fit, then one more doesn't. */
    big[CAP - 13] = '\0';
    assert_int_equal(lv_http_response_header(&resp, "A", big), LV_OK);
    assert_int_equal(lv_http_response_header(&resp, "B", "0123456789"), LV_OK);
    assert_int_equal(lv_http_response_header(&resp, "C", "x"), LV_E_TOO_BIG);
    assert_int_equal(lv_http_response_header(&resp, "C", ""), LV_OK);
    assert_string_equal(resp.headers[1].value, "0123456789");
    assert_int_equal(strlen(resp.headers[0].value), CAP - 13);
    assert_int_equal(lv_http_response_header(&resp, "D", "a\r\nX: y"),
                     LV_E_VALIDATION);

    memset(&resp, 0, sizeof resp);
    for (size_t i = 0; i < sizeof resp.headers / sizeof resp.headers[0]; i++)
        assert_int_equal(lv_http_response_header(&resp, "N", "v"), LV_OK);
    assert_int_equal(lv_http_response_header(&resp, "N", "v"), LV_E_TOO_BIG);

    /* Lookups with the parser's lengths: a name of another length never
     * matches, even as a prefix. */
    lv_http_header hl[] = {{"X-Amz-Target", "t", 12, 1}, {"Host", "h", 4, 1}};
    lv_http_request lreq = {.headers = hl, .nheaders = 2};
    assert_string_equal(lv_http_header_get(&lreq, "x-amz-target"), "t");
    assert_null(lv_http_header_get(&lreq, "x-amz-targe"));
    assert_string_equal(lv_http_header_get(&lreq, "HOST"), "h");

    /* Names that could break the framing are refused when added. */
    memset(&resp, 0, sizeof resp);
    const char *bad_names[] = {"", "Bad Name", "X:Y", "X\x7f", "X\tY"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        assert_int_equal(lv_http_response_header(&resp, bad_names[i], "v"), LV_E_VALIDATION);
    assert_int_equal(resp.nheaders, 0);

    /* A field added is written with the lengths kept when it was checked;
     * one a handler set directly (lengths 0) is checked when written, and a
     * CR/LF in it turns the answer into a 500 instead of a forged field. */
    assert_int_equal(lv_http_response_header(&resp, "X-Added", "kept"), LV_OK);
    resp.headers[resp.nheaders++] = (lv_http_header){"X-Direct", "ok", 0, 0};
    resp.status = 200;
    lv_buf out = LV_BUF_INIT;
    lv_http_date date;
    memset(&date, 0, sizeof date);
    assert_int_equal(lv_http_wire_response(&out, &resp, 0, 0, &date), LV_OK);
    assert_int_equal(strncmp(out.data, "HTTP/1.1 200", 12), 0);
    assert_non_null(strstr(out.data, "\r\nX-Added: kept\r\n"));
    assert_non_null(strstr(out.data, "\r\nX-Direct: ok\r\n"));
    lv_buf_reset(&out);
    resp.headers[1].value = "a\r\nX-Evil: 1";
    assert_int_equal(lv_http_wire_response(&out, &resp, 0, 0, &date), LV_OK);
    assert_int_equal(strncmp(out.data, "HTTP/1.1 500", 12), 0);
    assert_null(strstr(out.data, "X-Evil"));
    lv_buf_free(&out);
}

static void test_concurrent(void **state)
{
    (void)state;
    enum { N = 50 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = connect_to(port);
    /* All 50 open and waiting at once before any is answered. */
    for (int i = 0; i < N; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET /c%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
        send_str(fds[i], req);
    }
    for (int i = N - 1; i >= 0; i--) {
        reply r;
        assert_int_equal(read_reply(fds[i], &r), 1);
        assert_int_equal(r.status, 200);
        char want[32];
        snprintf(want, sizeof want, "P=/c%d\n", i);
        assert_non_null(strstr(r.body, want));
        close(fds[i]);
    }
}

static void test_listen_parsing(void **state)
{
    (void)state;
    const char *bad[] = {"127.0.0.1", "127.0.0.1:70000", "127.0.0.1:x",
                         "example.com:80", "[::1:0", "[zz]:0", "1.2.3.4:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lv_http_config cfg = {.listen = bad[i]};
        lv_http_server *s = NULL;
        lv_error err = {0};
        assert_int_equal(lv_http_start(&cfg, echo_handler, NULL, &s, &err),
                         LV_E_VALIDATION);
        assert_null(s);
        assert_true(err.msg[0] != '\0');
    }

    lv_http_config cfg = {.listen = "localhost:0", .threads = 1};
    lv_http_server *s = NULL;
    lv_error err = {0};
    assert_int_equal(lv_http_start(&cfg, echo_handler, NULL, &s, &err), LV_OK);
    assert_true(lv_http_port(s) > 0);
    reply r;
    int fd = connect_to(lv_http_port(s));
    send_str(fd, "GET /l HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_reply(fd, &r), 1);
    close(fd);
    assert_int_equal(r.status, 200);
    lv_http_stop(s);

    /* IPv6 loopback, when the machine has it. */
    cfg.listen = "[::1]:0";
    s = NULL;
    if (lv_http_start(&cfg, echo_handler, NULL, &s, &err) == LV_OK) {
        assert_true(lv_http_port(s) > 0);
        int fd6 = socket(AF_INET6, SOCK_STREAM, 0);
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
                                  .sin6_port = htons((uint16_t)lv_http_port(s)),
                                  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        assert_int_equal(connect(fd6, (struct sockaddr *)&a6, sizeof a6), 0);
        send_str(fd6, "GET /v6 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_int_equal(read_reply(fd6, &r), 1);
        assert_non_null(strstr(r.body, "R=::1\n"));
        close(fd6);
        lv_http_stop(s);
    } else {
        fprintf(stderr, "note: IPv6 loopback unavailable: %s\n", err.msg);
    }

    /* A port already taken is an IO error, not a crash. */
    cfg.listen = "127.0.0.1:0";
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    cfg.listen = addr;
    s = NULL;
    assert_int_equal(lv_http_start(&cfg, echo_handler, NULL, &s, &err), LV_E_IO);
    assert_null(s);
}


/* Several requests in one send are answered in order; HTTP/1.0 closes
 * after its answer; a head split across sends is put together. */
static void test_pipelining(void **state)
{
    (void)state;
    reply r;
    int fd = connect_to(port);
    send_str(fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                 "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
                 "POST /c?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer-X: t\r\n\r\n"
                 "GET /d HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/a\n"));
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/b\n"));
    assert_non_null(strstr(r.body, "L=3\nB=xyz"));
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/c\nQ=q=1\n"));
    assert_non_null(strstr(r.body, "L=5\nB=abcde"));
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/d\n"));
    assert_null(strcasestr(r.head, "Connection: close"));

    send_str(fd, "GET /sp");
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    send_str(fd, "lit HTTP/1.1\r\nHo");
    nanosleep(&ts, NULL);
    send_str(fd, "st: x\r\n\r\n");
    assert_int_equal(read_reply(fd, &r), 1);
    assert_non_null(strstr(r.body, "P=/split\n"));
    close(fd);

    fd = connect_to(port);
    send_str(fd, "GET /old HTTP/1.0\r\n\r\n");
    assert_int_equal(read_reply(fd, &r), 1);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.head, "\r\nConnection: close\r\n"));
    char c;
    assert_int_equal(recv(fd, &c, 1, 0), 0);
    close(fd);
}

/* Framing that could be read two ways is refused before the handler. */
/* Field values are checked in blocks of sixteen and eight bytes and then
 * byte by byte: a bad byte, a tab and obs-text at every position of
 * values of every length up to 40 must be told the same way, and every
 * prefix of a good head is "not yet", left unwritten. */
static void test_parse_head_values(void **state)
{
    (void)state;
    static const unsigned char odd[] = {0x01, '\n', 0x7f, 0x1f, '\r', '\t', 0x80, 0xff, ' '};
    for (size_t len = 1; len <= 40; len++) {
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof odd; k++) {
                char req[128], copy[128];
                int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nX-V: %.*s\r\nHost: h\r\n\r\n",
                                 (int)len, "0123456789abcdefghijklmnopqrstuvwxyzABCD");
                char *v = strstr(req, "X-V: ") + 5;
                v[at] = (char)odd[k];
                memcpy(copy, req, (size_t)n);
                lv_http_header f[8];
                lv_http_head h;
                long r = lv_http_parse_head(req, (size_t)n, 4096, f, 8, &h);
                int good = odd[k] == '\t' || odd[k] >= 0x80 || odd[k] == ' ';
                if (!good) {
                    if (r != -400)
                        fail_msg("len %zu at %zu byte 0x%02x: %ld, want -400", len, at, odd[k], r);
                    continue;
                }
                if (r != n)
                    fail_msg("len %zu at %zu byte 0x%02x: %ld, want %d", len, at, odd[k], r, n);
                assert_int_equal(h.nheaders, 2);
                assert_string_equal(f[1].name, "Host");
                assert_string_equal(f[1].value, "h");
                /* A blank or tab at either end is trimmed, inside is kept. */
                size_t s0 = 0, e = len;
                if (odd[k] == ' ' || odd[k] == '\t') {
                    if (at == 0)
                        s0 = 1;
                    if (at == len - 1)
                        e = len - 1;
                }
                assert_int_equal(f[0].value_len, e > s0 ? e - s0 : 0);
                assert_memory_equal(f[0].value, copy + (v - req) + s0, f[0].value_len);
                for (int p = 0; p < n; p++) {
                    memcpy(req, copy, (size_t)n);
                    assert_int_equal(lv_http_parse_head(req, (size_t)p, 4096, f, 8, &h), 0);
                    assert_memory_equal(req, copy, (size_t)n);
                }
            }
        }
    }
}

static void test_malformed_framing(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        {"GET / HTTP/1.1\nHost: x\n\n\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        {"GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
    };
    int before = atomic_load(&handler_calls);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        reply r;
        int fd = connect_to(port);
        send_str(fd, cases[i].req);
        assert_int_equal(read_reply(fd, &r), 1);
        if (r.status != cases[i].status)
            fail_msg("case %zu: status %d, want %d", i, r.status, cases[i].status);
        assert_non_null(strcasestr(r.head, "\r\nConnection: close\r\n"));
        close(fd);
    }
    assert_int_equal(atomic_load(&handler_calls), before);
}

/* A request refused for its size (headers beyond the head limit) must
 * not reach the handler. */
static void test_huge_headers(void **state)
{
    (void)state;
    int before = atomic_load(&handler_calls);
    int fd = connect_to(port);
    send_str(fd, "GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ");
    static char filler[100 * 1024];
    memset(filler, 'h', sizeof filler);
    /* The server may close mid-send; ignore send errors past that point. */
    size_t off = 0;
    while (off < sizeof filler) {
        ssize_t w = send(fd, filler + off, sizeof filler - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
        buf[n] = '\0';
        int status = 0;
        sscanf(buf, "HTTP/1.1 %d", &status);
        assert_true(status == 431 || status == 413 || status == 400);
    }
    close(fd);
    assert_int_equal(atomic_load(&handler_calls), before);
}

/* Parked requests are answered when another thread resumes them, on one
 * loop and on several, and other connections are served meanwhile. */
static void test_defer_resume(void **state)
{
    (void)state;
    for (unsigned th = 1; th <= 2; th++) {
        lv_http_config cfg = {.listen = "127.0.0.1:0", .threads = th};
        lv_http_server *s = NULL;
        lv_error err = {0};
        assert_int_equal(lv_http_start(&cfg, echo_handler, NULL, &s, &err), LV_OK);
        int fds[8];
        for (int i = 0; i < 8; i++) {
            fds[i] = connect_to(lv_http_port(s));
            send_str(fds[i], "GET /defer HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        reply r;
        int other = connect_to(lv_http_port(s));
        send_str(other, "GET /now HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_int_equal(read_reply(other, &r), 1);
        assert_int_equal(r.status, 200);
        close(other);
        for (int i = 0; i < 8; i++) {
            assert_int_equal(read_reply(fds[i], &r), 1);
            assert_int_equal(r.status, 202);
            assert_string_equal(r.body, "resumed");
            /* The connection stays usable after a resumed answer. */
            send_str(fds[i], "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_int_equal(read_reply(fds[i], &r), 1);
            assert_int_equal(r.status, 200);
            close(fds[i]);
        }
        lv_http_stop(s);
    }
}

/* The default thread count: the affinity mask, capped by a cgroup v2
 * quota; four loops on one port share the listening socket. */
static void test_cpus(void **state)
{
    (void)state;
    assert_int_equal(lv_http_cpus_from_cpu_max("max 100000\n"), 0);
    assert_int_equal(lv_http_cpus_from_cpu_max("100000 100000\n"), 1);
    assert_int_equal(lv_http_cpus_from_cpu_max("150000 100000\n"), 2);
    assert_int_equal(lv_http_cpus_from_cpu_max("50000 100000"), 1);
    assert_int_equal(lv_http_cpus_from_cpu_max("800000 100000"), 8);
    assert_int_equal(lv_http_cpus_from_cpu_max("garbage"), 0);
    assert_int_equal(lv_http_cpus_from_cpu_max("100 0"), 0);

    cpu_set_t set;
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    unsigned n = lv_http_cpus();
    assert_true(n >= 1);
    assert_true(n <= (unsigned)CPU_COUNT(&set));

    /* Pinned to one CPU, the default is one loop. */
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) {
            CPU_SET(c, &one);
            break;
        }
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    assert_int_equal(lv_http_cpus(), 1);
    assert_int_equal(sched_setaffinity(0, sizeof set, &set), 0);

    lv_http_config cfg = {.listen = "127.0.0.1:0", .threads = 4};
    lv_http_server *s = NULL;
    lv_error err = {0};
    assert_int_equal(lv_http_start(&cfg, echo_handler, NULL, &s, &err), LV_OK);
    int fds[16];
    for (int i = 0; i < 16; i++) {
        fds[i] = connect_to(lv_http_port(s));
        send_str(fds[i], "GET /loops HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    for (int i = 0; i < 16; i++) {
        reply r;
        assert_int_equal(read_reply(fds[i], &r), 1);
        assert_int_equal(r.status, 200);
        close(fds[i]);
    }
    lv_http_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_raw_query),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_oversize_body),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_header_helpers),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_listen_parsing),
        cmocka_unit_test(test_huge_headers),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_malformed_framing),
        cmocka_unit_test(test_parse_head_values),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_defer_resume),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
