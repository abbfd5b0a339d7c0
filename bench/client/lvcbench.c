/* lvcbench.c - liblever benchmarks for bench/client.sh (docs/benchmarks.md).
 *
 *   lvcbench getters --prefix P [--calls N]
 *       Puts three fixture values under P, then times lever_get_int,
 *       lever_get_bool and lever_get_string on a warm cache (TTL one hour,
 *       so no refresh happens in the loop), single thread, for several
 *       handle configurations. Prints "getters<TAB>config<TAB>getter<TAB>ns<TAB>calls".
 *
 *   lvcbench prop --prefix P [--watchers 100] [--procs 4] [--puts 200]
 *                 [--gap-min 20] [--gap-max 50] [--settle-ms 1500]
 *       Forks --procs watcher processes holding --watchers live-mode handles
 *       between them, all subscribed to P. The parent (another process) puts
 *       --puts values "seq-N" to one name, spaced gap-min..gap-max ms from one
 *       acknowledgement to the next send, and records when each put was
 *       acknowledged (lever_put returned). Every callback records when it
 *       fired. Clock: CLOCK_MONOTONIC, which all processes on one machine
 *       share. Joins the two by N and prints the latency figures as
 *       "prop<TAB>field<TAB>value" lines.
 *
 * The endpoint and credentials come from the environment (LEVER_ENDPOINT,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), as for any liblever program. */
#define _POSIX_C_SOURCE 200809L

#include <lever/lever.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "lvcbench: ");
    fprintf(stderr, fmt, a ? a : "", b ? b : "");
    fputc('\n', stderr);
    exit(1);
}

typedef struct opts {
    const char *prefix;
    long calls, watchers, procs, puts, gap_min, gap_max, settle_ms;
} opts;

static long num_arg(const char *name, const char *v)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 0)
        die("%s: not a number: %s", name, v);
    return n;
}

static void parse_args(int argc, char **argv, opts *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            die("%s needs a value", a, NULL);
        const char *v = argv[++i];
        if (strcmp(a, "--prefix") == 0)
            o->prefix = v;
        else if (strcmp(a, "--calls") == 0)
            o->calls = num_arg(a, v);
        else if (strcmp(a, "--watchers") == 0)
            o->watchers = num_arg(a, v);
        else if (strcmp(a, "--procs") == 0)
            o->procs = num_arg(a, v);
        else if (strcmp(a, "--puts") == 0)
            o->puts = num_arg(a, v);
        else if (strcmp(a, "--gap-min") == 0)
            o->gap_min = num_arg(a, v);
        else if (strcmp(a, "--gap-max") == 0)
            o->gap_max = num_arg(a, v);
        else if (strcmp(a, "--settle-ms") == 0)
            o->settle_ms = num_arg(a, v);
        else
            die("unknown option %s", a, NULL);
    }
    if (o->prefix == NULL)
        die("--prefix is required", NULL, NULL);
    if (o->procs < 1 || o->watchers < o->procs || o->gap_max < o->gap_min || o->calls < 1)
        die("inconsistent options", NULL, NULL);
}

static lever *open_handle(const char *prefix, bool live, int64_t ttl_ms, lever_env_scheme scheme)
{
    lever_options *o = lever_options_new();
    if (o == NULL)
        die("out of memory", NULL, NULL);
    lever_options_set_prefix(o, prefix);
    lever_options_set_cache_ttl_ms(o, ttl_ms);
    lever_options_set_live(o, live);
    lever_options_set_env_scheme(o, scheme);
    lever *c;
    char err[512];
    lever_status st = lever_open(o, &c, err, sizeof err);
    lever_options_free(o);
    if (st != LEVER_OK)
        die("lever_open: %s%s", err, NULL);
    return c;
}

static void put_or_die(lever *c, const char *name, const char *value)
{
    if (lever_put(c, name, value, "String", LEVER_PUT_OVERWRITE, NULL, NULL, NULL, NULL) != LEVER_OK) {
        char err[512];
        lever_last_error(c, err, sizeof err);
        die("put %s: %s", name, err);
    }
}

/* ---------------------------------------------------------------- getters */

static const char *K_INT = "tuning/cache/BALANCE_TTL";
static const char *K_BOOL = "features/USER_REGISTRATION_ENABLED";
static const char *K_STR = "orders/api/url";

static volatile int64_t sink;

typedef enum { G_INT, G_BOOL, G_STRING } getter;
static const char *getter_name[] = {"lever_get_int", "lever_get_bool", "lever_get_string"};

static double time_getter(lever *c, getter g, long calls)
{
    int64_t acc = 0;
    int64_t t0 = mono_ns();
    for (long i = 0; i < calls; i++) {
        switch (g) {
        case G_INT:
            acc += lever_get_int(c, K_INT, -1, NULL);
            break;
        case G_BOOL:
            acc += lever_get_bool(c, K_BOOL, false, NULL);
            break;
        case G_STRING: {
            char *s = lever_get_string(c, K_STR, "x", NULL);
            acc += s[0];
            lever_free(s);
            break;
        }
        }
    }
    int64_t t1 = mono_ns();
    sink = acc;
    return (double)(t1 - t0) / (double)calls;
}

static void check_cached(lever *c, const char *cfg)
{
    lever_source s1, s2, s3;
    int64_t i = lever_get_int(c, K_INT, -1, &s1);
    bool b = lever_get_bool(c, K_BOOL, false, &s2);
    char *s = lever_get_string(c, K_STR, "x", &s3);
    bool ok = i == 300 && b && s && strcmp(s, "http://orders.internal:8080/api") == 0 &&
              s1 == LEVER_SRC_CACHE && s2 == LEVER_SRC_CACHE && s3 == LEVER_SRC_CACHE;
    if (!ok) {
        fprintf(stderr, "lvcbench: %s: warm getters did not answer from the cache (%s %s %s)\n", cfg,
                lever_source_str(s1), lever_source_str(s2), lever_source_str(s3));
        exit(1);
    }
    lever_free(s);
}

static int cmd_getters(const opts *o)
{
    lever *w = open_handle(o->prefix, false, 0, LEVER_ENV_NONE);
    char name[512];
    snprintf(name, sizeof name, "%s/%s", o->prefix, K_INT);
    put_or_die(w, name, "300");
    snprintf(name, sizeof name, "%s/%s", o->prefix, K_BOOL);
    put_or_die(w, name, "true");
    snprintf(name, sizeof name, "%s/%s", o->prefix, K_STR);
    put_or_die(w, name, "http://orders.internal:8080/api");
    lever_close(w);

    /* the environment's size matters to the env layer (getenv is a scan) */
    extern char **environ;
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    printf("getters\tenviron\t-\t%zu\t0\n", nenv);

    static const struct {
        const char *name;
        bool live;
        lever_env_scheme scheme;
    } cfgs[] = {
        {"default", false, LEVER_ENV_LAST_SEGMENT}, /* env layer on, TTL cache */
        {"env-none", false, LEVER_ENV_NONE},        /* no env layer */
        {"live", true, LEVER_ENV_LAST_SEGMENT},     /* live mode keeps the cache current */
    };
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        lever *c = open_handle(o->prefix, cfgs[k].live, 3600 * 1000, cfgs[k].scheme);
        if (lever_prefetch(c) != LEVER_OK) {
            char err[512];
            lever_last_error(c, err, sizeof err);
            die("prefetch: %s%s", err, NULL);
        }
        check_cached(c, cfgs[k].name);
        for (int g = G_INT; g <= G_STRING; g++) {
            time_getter(c, (getter)g, o->calls / 20 + 1); /* warm-up */
            double ns = time_getter(c, (getter)g, o->calls);
            printf("getters\t%s\t%s\t%.1f\t%ld\n", cfgs[k].name, getter_name[g], ns, o->calls);
            fflush(stdout);
        }
        check_cached(c, cfgs[k].name);
        lever_close(c);
    }
    return 0;
}

/* ---------------------------------------------------------------- prop */

typedef struct rec {
    uint32_t seq, watcher;
    int64_t ns;
} rec;

typedef struct wslot {
    int64_t *at;          /* [puts]: callback time of seq, 0 = none */
    atomic_int warm;      /* callbacks for warm-up values */
    atomic_long extra;    /* a seq fired more than once (must stay 0) */
    long puts;
} wslot;

static void on_change(lever *c, const char *key, const char *name, const char *value, void *user)
{
    int64_t now = mono_ns();
    (void)c; (void)key; (void)name;
    wslot *w = user;
    if (value == NULL)
        return;
    if (strncmp(value, "seq-", 4) != 0) {
        atomic_fetch_add(&w->warm, 1);
        return;
    }
    long s = strtol(value + 4, NULL, 10);
    if (s < 0 || s >= w->puts)
        return;
    if (w->at[s] != 0)
        atomic_fetch_add(&w->extra, 1);
    else
        w->at[s] = now;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* One watcher process: handles [first, first+n). Protocol on out_fd:
 * 'L' once every handle has listed the prefix, 'W' once every handle has
 * seen a warm-up value, then (after the parent closes in_fd) the records. */
static void watcher_proc(const opts *o, long first, long n, int in_fd, int out_fd)
{
    lever **h = calloc((size_t)n, sizeof *h);
    wslot *ws = calloc((size_t)n, sizeof *ws);
    if (h == NULL || ws == NULL)
        die("out of memory", NULL, NULL);
    for (long i = 0; i < n; i++) {
        ws[i].puts = o->puts;
        ws[i].at = calloc((size_t)o->puts + 1, sizeof *ws[i].at);
        if (ws[i].at == NULL)
            die("out of memory", NULL, NULL);
        h[i] = open_handle(o->prefix, true, 30000, LEVER_ENV_NONE);
        if (lever_subscribe(h[i], NULL, on_change, &ws[i], NULL) != LEVER_OK)
            die("subscribe failed", NULL, NULL);
    }
    int64_t deadline = mono_ns() + 60 * 1000000000LL;
    for (;;) { /* every handle has listed: any later put reaches it */
        long listed = 0;
        for (long i = 0; i < n; i++) {
            uint64_t rl = 0;
            lever_live_stats(h[i], &rl, NULL);
            listed += rl > 0;
        }
        if (listed == n)
            break;
        if (mono_ns() > deadline)
            die("watchers did not list the prefix within 60 s", NULL, NULL);
        sleep_ms(10);
    }
    write_all(out_fd, "L", 1);
    for (;;) {
        long warm = 0;
        for (long i = 0; i < n; i++)
            warm += atomic_load(&ws[i].warm) > 0;
        if (warm == n)
            break;
        if (mono_ns() > deadline)
            die("watchers did not see the warm-up put within 60 s", NULL, NULL);
        sleep_ms(5);
    }
    write_all(out_fd, "W", 1);
    for (;;) { /* until the parent closes its end */
        char b;
        ssize_t k = read(in_fd, &b, 1);
        if (k == 0 || (k < 0 && errno != EINTR))
            break;
    }
    for (long i = 0; i < n; i++)
        lever_close(h[i]); /* joins the live thread: no callback after this */
    long extra = 0;
    for (long i = 0; i < n; i++) {
        extra += atomic_load(&ws[i].extra);
        for (long s = 0; s < o->puts; s++) {
            if (ws[i].at[s] == 0)
                continue;
            rec r = {(uint32_t)s, (uint32_t)(first + i), ws[i].at[s]};
            write_all(out_fd, &r, sizeof r);
        }
    }
    rec end = {UINT32_MAX, UINT32_MAX, extra};
    write_all(out_fd, &end, sizeof end);
    _exit(0);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* nearest-rank percentile of a sorted array, in ms */
static double pct(const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return -1;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)v[k - 1] / 1e6;
}

/* Waits until every child not yet marked in got[] sent byte want (and
 * marks it); returns -1 on EOF or timeout. */
static int wait_byte(int *fds, bool *got, long nfd, char want, int timeout_s)
{
    int64_t deadline = mono_ns() + (int64_t)timeout_s * 1000000000LL;
    for (long i = 0; i < nfd; i++) {
        while (!got[i]) {
            int64_t left = (deadline - mono_ns()) / 1000000;
            if (left <= 0)
                return -1;
            struct pollfd p = {fds[i], POLLIN, 0};
            int r = poll(&p, 1, (int)left);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return -1;
            char b;
            if (read(fds[i], &b, 1) != 1)
                return -1;
            got[i] = b == want;
        }
    }
    return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmd_prop(const opts *o)
{
    long np = o->procs;
    int *to_child = calloc((size_t)np, sizeof(int)), *from_child = calloc((size_t)np, sizeof(int));
    pid_t *pids = calloc((size_t)np, sizeof(pid_t));
    bool *got_l = calloc((size_t)np, sizeof(bool)), *got_w = calloc((size_t)np, sizeof(bool));
    if (to_child == NULL || from_child == NULL || pids == NULL || got_l == NULL || got_w == NULL)
        die("out of memory", NULL, NULL);
    fflush(stdout);
    /* fork before this process starts any thread or opens any handle */
    long first = 0;
    for (long p = 0; p < np; p++) {
        long n = o->watchers / np + (p < o->watchers % np);
        int a[2], b[2];
        if (pipe(a) != 0 || pipe(b) != 0)
            die("pipe: %s%s", strerror(errno), NULL);
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s%s", strerror(errno), NULL);
        if (pid == 0) {
            close(a[1]);
            close(b[0]);
            for (long q = 0; q < p; q++) {
                close(to_child[q]);
                close(from_child[q]);
            }
            watcher_proc(o, first, n, a[0], b[1]);
        }
        close(a[0]);
        close(b[1]);
        to_child[p] = a[1];
        from_child[p] = b[0];
        pids[p] = pid;
        first += n;
    }

    lever *w = open_handle(o->prefix, false, 0, LEVER_ENV_NONE);
    char name[512];
    snprintf(name, sizeof name, "%s/flags/propagation", o->prefix);
    int rc = 1;
    int64_t *ack = calloc((size_t)o->puts, sizeof *ack);
    int64_t *rtt = calloc((size_t)o->puts, sizeof *rtt);
    if (ack == NULL || rtt == NULL)
        die("out of memory", NULL, NULL);
    if (wait_byte(from_child, got_l, np, 'L', 90) != 0) {
        fprintf(stderr, "lvcbench: watcher processes did not get ready\n");
        goto out;
    }
    /* warm-up: until every handle has seen one change (its watch is running) */
    int warm_ok = -1;
    for (int k = 0; k < 50 && warm_ok != 0; k++) {
        char v[32];
        snprintf(v, sizeof v, "warm-%d", k);
        put_or_die(w, name, v);
        warm_ok = wait_byte(from_child, got_w, np, 'W', 1);
    }
    if (warm_ok != 0 && wait_byte(from_child, got_w, np, 'W', 10) != 0) {
        fprintf(stderr, "lvcbench: watchers did not see the warm-up puts\n");
        goto out;
    }
    sleep_ms(200);

    int64_t t_start = mono_ns();
    for (long s = 0; s < o->puts; s++) {
        char v[32];
        snprintf(v, sizeof v, "seq-%06ld", s);
        int64_t t0 = mono_ns();
        put_or_die(w, name, v);
        ack[s] = mono_ns();
        rtt[s] = ack[s] - t0;
        sleep_ms(o->gap_min + (int64_t)(next_rand() % (uint64_t)(o->gap_max - o->gap_min + 1)));
    }
    int64_t t_end = mono_ns();
    sleep_ms(o->settle_ms);
    for (long p = 0; p < np; p++)
        close(to_child[p]);

    /* collect */
    size_t cap = (size_t)o->puts * (size_t)o->watchers;
    int64_t *lat = malloc((cap + 1) * sizeof *lat);
    int64_t *last = calloc((size_t)o->puts, sizeof *last);   /* latest watcher per put */
    long *seen = calloc((size_t)o->puts, sizeof *seen);
    if (lat == NULL || last == NULL || seen == NULL)
        die("out of memory", NULL, NULL);
    size_t nl = 0;
    long extra = 0, negative = 0;
    for (long p = 0; p < np; p++) {
        FILE *f = fdopen(from_child[p], "rb");
        rec r;
        while (f && fread(&r, sizeof r, 1, f) == 1) {
            if (r.seq == UINT32_MAX) {
                extra += (long)r.ns;
                continue;
            }
            if (r.seq >= (uint32_t)o->puts || nl >= cap)
                continue;
            int64_t d = r.ns - ack[r.seq];
            negative += d < 0;
            lat[nl++] = d;
            if (seen[r.seq] == 0 || d > last[r.seq])
                last[r.seq] = d;
            seen[r.seq]++;
        }
        if (f)
            fclose(f);
        from_child[p] = -1;
    }
    qsort(lat, nl, sizeof *lat, cmp_i64);
    size_t nfull = 0;
    for (long s = 0; s < o->puts; s++)
        if (seen[s] == o->watchers)
            last[nfull++] = last[s];
    qsort(last, nfull, sizeof *last, cmp_i64);
    qsort(rtt, (size_t)o->puts, sizeof *rtt, cmp_i64);

    printf("prop\twatchers\t%ld\n", o->watchers);
    printf("prop\tprocs\t%ld\n", o->procs);
    printf("prop\tputs\t%ld\n", o->puts);
    printf("prop\tgap_ms\t%ld-%ld\n", o->gap_min, o->gap_max);
    printf("prop\tput_seconds\t%.1f\n", (double)(t_end - t_start) / 1e9);
    printf("prop\texpected\t%zu\n", cap);
    printf("prop\tdelivered\t%zu\n", nl);
    printf("prop\tduplicates\t%ld\n", extra);
    printf("prop\tnegative\t%ld\n", negative);
    printf("prop\tp50_ms\t%.2f\n", pct(lat, nl, 50));
    printf("prop\tp90_ms\t%.2f\n", pct(lat, nl, 90));
    printf("prop\tp99_ms\t%.2f\n", pct(lat, nl, 99));
    printf("prop\tmax_ms\t%.2f\n", nl ? (double)lat[nl - 1] / 1e6 : -1.0);
    printf("prop\tall_puts\t%zu\n", nfull);
    printf("prop\tall_p50_ms\t%.2f\n", pct(last, nfull, 50));
    printf("prop\tall_p99_ms\t%.2f\n", pct(last, nfull, 99));
    printf("prop\tput_rtt_p50_ms\t%.2f\n", pct(rtt, (size_t)o->puts, 50));
    printf("prop\tput_rtt_p99_ms\t%.2f\n", pct(rtt, (size_t)o->puts, 99));
    free(lat);
    free(last);
    free(seen);
    rc = 0;
out:
    lever_close(w);
    for (long p = 0; p < np; p++) {
        if (to_child[p] >= 0 && rc != 0)
            close(to_child[p]);
        if (rc != 0)
            kill(pids[p], SIGTERM);
        waitpid(pids[p], NULL, 0);
    }
    free(ack);
    free(rtt);
    free(to_child);
    free(from_child);
    free(pids);
    free(got_l);
    free(got_w);
    return rc;
}

int main(int argc, char **argv)
{
    opts o = {NULL, 10000000, 100, 4, 200, 20, 50, 1500};
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: lvcbench getters|prop --prefix P [options] (see the source)\n");
        return 2;
    }
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(argv[1], "getters") == 0)
        return cmd_getters(&o);
    if (strcmp(argv[1], "prop") == 0)
        return cmd_prop(&o);
    die("unknown command %s", argv[1], NULL);
    return 2;
}
