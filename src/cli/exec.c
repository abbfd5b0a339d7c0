/* exec.c - `lever exec PATH -- COMMAND...` (as chamber and envconsul do):
 * the parameters under PATH become COMMAND's environment; with --watch
 * lever supervises COMMAND and restarts or signals it when they change.
 * Built on liblever only. The name mapping is documented in docs/cli.md. */
#include "cli/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lever/lever.h"

extern char **environ;

enum { EX_OK = 0, EX_ERROR = 1, EX_USAGE = 2, EX_NOTFOUND = 3, EX_AUTH = 4, EX_UNREACHABLE = 5 };

static void errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errf(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lever exec: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int exit_of(lever_status st)
{
    switch (st) {
    case LEVER_OK: return EX_OK;
    case LEVER_E_NOT_FOUND: return EX_NOTFOUND;
    case LEVER_E_AUTH: return EX_AUTH;
    case LEVER_E_UNREACHABLE: return EX_UNREACHABLE;
    default: return EX_ERROR;
    }
}

/* ------------------------------------------------------------ mapping */

struct var {
    char *name;         /* NAME=value, as the environment holds it */
    size_t name_len;
    const char *param;  /* the parameter it came from (for messages) */
};

struct envset {
    struct var *v;
    size_t n;
    lever_param_list *list;  /* owns the param names */
};

static void envset_free(struct envset *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].name);
    free(e->v);
    lever_param_list_free(e->list);
    memset(e, 0, sizeof *e);
}

/* The variable name for parameter name under path, written to out (which
 * holds at least strlen(name) + strlen(prefix) + 1 bytes). Returns false
 * when the result is not a valid variable name. */
static bool map_name(const char *name, const char *path, const char *prefix, char *out)
{
    const char *rel = name;
    size_t pl = strlen(path);
    if (strcmp(path, "/") == 0)
        rel = name[0] == '/' ? name + 1 : name;
    else if (strncmp(name, path, pl) == 0 && name[pl] == '/')
        rel = name + pl + 1;
    size_t k = 0;
    for (const char *p = prefix; *p; p++)
        out[k++] = *p;
    for (const char *p = rel; *p; p++) {
        char c = *p;
        if (c == '/' || c == '-' || c == '.')
            c = '_';
        else if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        out[k++] = c;
    }
    out[k] = '\0';
    if (k == 0 || (out[0] >= '0' && out[0] <= '9'))
        return false;
    for (size_t i = 0; i < k; i++) {
        char c = out[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static int cmp_var(const void *a, const void *b)
{
    const struct var *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c != 0)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* Lists path (recursive, decrypted) and maps it. Returns an exit code;
 * *rev receives the listing's revision. A collision is an error. */
static int load(lever *c, const char *path, const char *prefix, struct envset *e, uint64_t *rev,
                bool quiet)
{
    memset(e, 0, sizeof *e);
    lever_status st = lever_list_path(c, path, true, true, &e->list, rev);
    if (st != LEVER_OK) {
        char msg[1024] = "";
        lever_last_error(c, msg, sizeof msg);
        errf("%s", msg[0] ? msg : lever_status_str(st));
        return exit_of(st);
    }
    size_t n = lever_param_list_count(e->list);
    e->v = calloc(n + 1, sizeof *e->v);
    if (e->v == NULL) {
        errf("out of memory");
        return EX_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        const lever_param *p = lever_param_list_at(e->list, i);
        const char *name = lever_param_name(p), *value = lever_param_value(p);
        size_t nl = strlen(name) + strlen(prefix);
        char *buf = malloc(nl + strlen(value ? value : "") + 2);
        if (buf == NULL) {
            errf("out of memory");
            return EX_ERROR;
        }
        if (!map_name(name, path, prefix, buf)) {
            if (!quiet)
                errf("warning: %s: \"%s\" is not a valid environment variable name; skipped", name,
                     buf);
            free(buf);
            continue;
        }
        size_t len = strlen(buf);
        buf[len] = '=';
        strcpy(buf + len + 1, value ? value : "");
        e->v[e->n++] = (struct var){buf, len, name};
    }
    qsort(e->v, e->n, sizeof *e->v, cmp_var);
    for (size_t i = 1; i < e->n; i++)
        if (cmp_var(&e->v[i - 1], &e->v[i]) == 0) {
            errf("%s and %s both map to %.*s; rename one", e->v[i - 1].param, e->v[i].param,
                 (int)e->v[i].name_len, e->v[i].name);
            return EX_ERROR;
        }
    return EX_OK;
}

/* A copy of e's variables (no parameter names, no listing). */
static bool envset_copy(const struct envset *e, struct envset *out)
{
    memset(out, 0, sizeof *out);
    out->v = calloc(e->n + 1, sizeof *out->v);
    if (out->v == NULL)
        return false;
    for (size_t i = 0; i < e->n; i++) {
        out->v[i] = (struct var){strdup(e->v[i].name), e->v[i].name_len, NULL};
        if (out->v[i].name == NULL) {
            envset_free(out);
            return false;
        }
        out->n++;
    }
    return true;
}

static bool envset_equal(const struct envset *a, const struct envset *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, b->v[i].name) != 0)
            return false;
    return true;
}

/* The child's environment: lever's own, plus the parameters (which replace
 * a variable of the same name only with --override). The strings are
 * borrowed from environ and e; free only the array. */
static char **build_env(const struct envset *e, bool override)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **out = calloc(n + e->n + 1, sizeof *out);
    if (out == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        if (override)
            for (size_t j = 0; j < e->n && !replaced; j++)
                replaced = e->v[j].name_len == nl && memcmp(e->v[j].name, environ[i], nl) == 0;
        if (!replaced)
            out[k++] = environ[i];
    }
    for (size_t j = 0; j < e->n; j++) {
        bool present = false;
        for (size_t i = 0; i < n && !present; i++)
            present = strncmp(environ[i], e->v[j].name, e->v[j].name_len + 1) == 0;
        if (override || !present)
            out[k++] = e->v[j].name;
    }
    out[k] = NULL;
    return out;
}

/* ------------------------------------------------------------ signals */

static const struct {
    const char *name;
    int sig;
} SIGNALS[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"TERM", SIGTERM},
               {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"KILL", SIGKILL}, {"WINCH", SIGWINCH},
               {"ALRM", SIGALRM}, {"CONT", SIGCONT}};

static int signal_of(const char *s)
{
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof SIGNALS / sizeof SIGNALS[0]; i++)
        if (strcasecmp(s, SIGNALS[i].name) == 0)
            return SIGNALS[i].sig;
    char *end;
    long v = strtol(s, &end, 10);
    return *s && *end == '\0' && v > 0 && v < NSIG ? (int)v : -1;
}

static int status_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return EX_ERROR;
}

/* ------------------------------------------------------------ watcher */

struct watch {
    lever *c;
    const char *path, *prefix;
    uint64_t since;
    int notify_fd;           /* written once per new environment */
    pthread_mutex_t mu;
    struct envset pending;   /* the newest environment not yet taken */
    bool has_pending;
    struct envset current;   /* what the watcher compares against */
};

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *watch_main(void *arg)
{
    struct watch *w = arg;
    int backoff = 200;
    for (;;) {
        lever_change_list *cl = NULL;
        uint64_t next = w->since;
        lever_status st = lever_watch(w->c, w->path, true, w->since, 20, &cl, &next);
        bool relist = st == LEVER_E_COMPACTED;
        if (st == LEVER_OK) {
            relist = lever_change_count(cl) > 0;
            lever_change_list_free(cl);
            if (next > w->since)
                w->since = next;
            backoff = 200;
        } else if (!relist) {
            /* Unreachable or refused: keep the command running, retry. */
            nap_ms(backoff);
            backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
            continue;
        }
        if (!relist)
            continue;
        struct envset e;
        uint64_t rev = 0;
        if (load(w->c, w->path, w->prefix, &e, &rev, false) != EX_OK) {
            /* A collision or a failed listing: keep what runs. */
            envset_free(&e);
            errf("keeping the running command's environment");
            nap_ms(backoff);
            continue;
        }
        if (st == LEVER_E_COMPACTED || rev > w->since)
            w->since = rev > w->since ? rev : w->since;
        if (envset_equal(&e, &w->current)) {
            envset_free(&e);
            continue;
        }
        /* The watcher keeps its own copy to compare with; the main thread
         * takes the pending one. */
        struct envset copy;
        if (!envset_copy(&e, &copy)) {
            envset_free(&e);
            errf("out of memory");
            continue;
        }
        envset_free(&w->current);
        w->current = copy;
        pthread_mutex_lock(&w->mu);
        if (w->has_pending)
            envset_free(&w->pending);
        w->pending = e;
        w->has_pending = true;
        pthread_mutex_unlock(&w->mu);
        char b = 1;
        if (write(w->notify_fd, &b, 1) < 0 && errno != EAGAIN)
            errf("cannot notify: %s", strerror(errno));
    }
    return NULL;
}

/* ------------------------------------------------------------ supervise */

struct opts {
    const char *path, *prefix;
    bool override, watch;
    int signal;             /* 0: restart on change */
    int grace_s;
    char **cmd;
};

/* Starts cmd; returns its pid, or -1 with the exit code to report in *code. */
static pid_t spawn(char **cmd, const struct envset *e, bool override, int *code)
{
    char **envp = build_env(e, override);
    *code = EX_ERROR;
    if (envp == NULL) {
        errf("out of memory");
        return -1;
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, dfl;
    sigemptyset(&none);
    sigfillset(&dfl);
    sigdelset(&dfl, SIGKILL);
    sigdelset(&dfl, SIGSTOP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, cmd[0], NULL, &attr, cmd, envp);
    posix_spawnattr_destroy(&attr);
    free(envp);
    if (rc != 0) {
        errf("%s: %s", cmd[0], strerror(rc));
        *code = rc == ENOENT ? 127 : 126;
        return -1;
    }
    return pid;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int supervise(lever *c, const struct opts *o, struct envset *first, uint64_t rev)
{
    sigset_t set;
    sigemptyset(&set);
    int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigaddset(&set, handled[i]);
    /* Blocked before the watcher thread starts, so only signalfd sees them. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    int pipefd[2];
    if (sfd < 0 || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
        errf("cannot set up supervision: %s", strerror(errno));
        return EX_ERROR;
    }

    int code;
    pid_t child = spawn(o->cmd, first, o->override, &code);
    if (child < 0)
        return code;

    static struct watch w;
    w.c = c;
    w.path = o->path;
    w.prefix = o->prefix;
    w.since = rev;
    w.notify_fd = pipefd[1];
    pthread_mutex_init(&w.mu, NULL);
    w.current = *first; /* the watcher owns it from here */
    pthread_t th;
    if (pthread_create(&th, NULL, watch_main, &w) != 0) {
        errf("cannot start the watcher");
        kill(child, SIGTERM);
        _exit(EX_ERROR);
    }

    bool restarting = false, stopping = false;
    int64_t kill_at = -1;
    struct envset next_env = {0};
    bool have_next = false;
    for (;;) {
        struct pollfd fds[2] = {{sfd, POLLIN, 0}, {pipefd[0], POLLIN, 0}};
        int timeout = -1;
        if (kill_at >= 0) {
            int64_t left = kill_at - now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        int n = poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR) {
            errf("poll: %s", strerror(errno));
            kill(child, SIGTERM);
            _exit(EX_ERROR);
        }
        if (kill_at >= 0 && now_ms() >= kill_at) {
            kill(child, SIGKILL);
            kill_at = -1;
        }
        if (n > 0 && (fds[1].revents & POLLIN)) {
            char buf[64];
            while (read(pipefd[0], buf, sizeof buf) > 0)
                ;
            pthread_mutex_lock(&w.mu);
            if (w.has_pending) {
                if (have_next)
                    envset_free(&next_env);
                next_env = w.pending;
                have_next = true;
                w.has_pending = false;
            }
            pthread_mutex_unlock(&w.mu);
            if (have_next && !stopping) {
                if (o->signal) {
                    fprintf(stderr, "lever exec: parameters under %s changed; sending signal %d\n",
                            o->path, o->signal);
                    kill(child, o->signal);
                    envset_free(&next_env);
                    have_next = false;
                } else if (!restarting) {
                    fprintf(stderr, "lever exec: parameters under %s changed; restarting %s\n",
                            o->path, o->cmd[0]);
                    restarting = true;
                    kill(child, SIGTERM);
                    kill_at = now_ms() + (int64_t)o->grace_s * 1000;
                }
            }
        }
        if (n > 0 && (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if ((int)si.ssi_signo != SIGCHLD) {
                    stopping = true;
                    kill(child, (int)si.ssi_signo);
                }
            }
            int status;
            pid_t r = waitpid(child, &status, WNOHANG);
            if (r == child) {
                kill_at = -1;
                if (restarting && !stopping && have_next) {
                    restarting = false;
                    child = spawn(o->cmd, &next_env, o->override, &code);
                    envset_free(&next_env);
                    have_next = false;
                    if (child < 0)
                        _exit(code);
                } else {
                    fflush(stdout);
                    fflush(stderr);
                    /* The watcher may be inside a request: leave without
                     * running exit handlers under it. */
                    _exit(status_code(status));
                }
            }
        }
    }
}

/* ------------------------------------------------------------ command */

static const char EXEC_GLOBAL_HELP[] =
    "Global options (anywhere on the line): --endpoint URL, --region R, --profile P, -h/--help\n"
    "(see lever --help).\n";

int lv_cli_exec(int argc, char **argv, const char *endpoint, const char *region,
                const char *profile)
{
    enum { O_OVERRIDE = 2000, O_WATCH, O_SIGNAL, O_GRACE, O_PREFIX, O_ENDPOINT, O_REGION, O_PROFILE };
    static const struct option lo[] = {{"override", no_argument, NULL, O_OVERRIDE},
                                       {"watch", no_argument, NULL, O_WATCH},
                                       {"signal", required_argument, NULL, O_SIGNAL},
                                       {"grace", required_argument, NULL, O_GRACE},
                                       {"prefix", required_argument, NULL, O_PREFIX},
                                       {"endpoint", required_argument, NULL, O_ENDPOINT},
                                       {"region", required_argument, NULL, O_REGION},
                                       {"profile", required_argument, NULL, O_PROFILE},
                                       {"output", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
    struct opts o = {.prefix = "", .grace_s = 10};
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'h':
            printf("usage: lever %s\n\n%s\n%s", LV_CLI_EXEC_SYNOPSIS, LV_CLI_EXEC_HELP,
                   EXEC_GLOBAL_HELP);
            return EX_OK;
        case O_OVERRIDE: o.override = true; break;
        case O_WATCH: o.watch = true; break;
        case O_SIGNAL:
            if ((o.signal = signal_of(optarg)) < 0) {
                errf("--signal: unknown signal '%s'", optarg);
                return EX_USAGE;
            }
            break;
        case O_GRACE: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 0 || v > 3600) {
                errf("--grace takes seconds from 0 to 3600, not '%s'", optarg);
                return EX_USAGE;
            }
            o.grace_s = (int)v;
            break;
        }
        case O_PREFIX: o.prefix = optarg; break;
        case O_ENDPOINT: endpoint = optarg; break;
        case O_REGION: region = optarg; break;
        case O_PROFILE: profile = optarg; break;
        case 'o': break; /* exec prints nothing of its own */
        default:
            fprintf(stderr, "usage: lever %s\n", LV_CLI_EXEC_SYNOPSIS);
            return EX_USAGE;
        }
    }
    if (o.signal && !o.watch) {
        errf("--signal needs --watch");
        return EX_USAGE;
    }
    for (const char *p = o.prefix; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_') || (p == o.prefix && *p >= '0' && *p <= '9')) {
            errf("--prefix must be a valid variable name start, not '%s'", o.prefix);
            return EX_USAGE;
        }
    if (argc - optind < 2) {
        fprintf(stderr, "lever exec: expected PATH -- COMMAND [ARG...]\nusage: lever %s\n",
                LV_CLI_EXEC_SYNOPSIS);
        return EX_USAGE;
    }
    char path[2048];
    snprintf(path, sizeof path, "%s", argv[optind]);
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/')
        path[--pl] = '\0';
    o.path = path;
    o.cmd = argv + optind + 1;

    lever_options *lo_ = lever_options_new();
    if (lo_ == NULL) {
        errf("out of memory");
        return EX_ERROR;
    }
    lever_status st = LEVER_OK;
    if (endpoint)
        st = lever_options_set_endpoint(lo_, endpoint);
    if (st == LEVER_OK && region)
        st = lever_options_set_region(lo_, region);
    if (st == LEVER_OK && profile)
        st = lever_options_set_profile(lo_, profile);
    if (st == LEVER_OK)
        st = lever_options_set_cache_ttl_ms(lo_, 0);
    char err[1024] = "";
    lever *c = NULL;
    if (st == LEVER_OK)
        st = lever_open(lo_, &c, err, sizeof err);
    lever_options_free(lo_);
    if (st != LEVER_OK) {
        errf("%s", err[0] ? err : lever_status_str(st));
        return exit_of(st);
    }

    struct envset e;
    uint64_t rev = 0;
    int rc = load(c, o.path, o.prefix, &e, &rev, false);
    if (rc != EX_OK) {
        envset_free(&e);
        lever_close(c);
        return rc;
    }
    if (o.watch) {
        rc = supervise(c, &o, &e, rev);
        /* Only when COMMAND never started: supervise ends the process otherwise. */
        envset_free(&e);
        lever_close(c);
        return rc;
    }

    char **envp = build_env(&e, o.override);
    lever_close(c);
    if (envp == NULL) {
        errf("out of memory");
        envset_free(&e);
        return EX_ERROR;
    }
    fflush(stdout);
    execvpe(o.cmd[0], o.cmd, envp);
    int saved = errno;
    errf("%s: %s", o.cmd[0], strerror(saved));
    free(envp);
    envset_free(&e);
    return saved == ENOENT ? 127 : 126;
}
