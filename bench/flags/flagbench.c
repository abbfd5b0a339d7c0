/* flagbench.c - in-process flag evaluation with liblever (bench/flags.sh):
 * nanoseconds per evaluation of a flag with 10 variants, through the public
 * API, for contexts that stop at the first, a middle and the default
 * variant, single-threaded.
 *
 *   flagbench DOCUMENT.json ITERATIONS                 (a document in memory)
 *   flagbench DOCUMENT.json ITERATIONS APP ENV PROFILE (a flag source on leverd;
 *                                 endpoint and credentials from the environment)
 *
 * Prints TSV lines: source case accessor iterations cpu_ns_per_eval
 * wall_ns_per_eval variant. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lever/lever.h"

/* The thread's CPU time: on a shared machine the wall clock also counts
 * the time other processes had the core (reported beside it). */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = '\0';
        *len = (size_t)n;
    }
    return b;
}

typedef struct bcase {
    const char *name;
    lever_ctx_kv kv[4];
    size_t n;
} bcase;

static volatile uint64_t sink;

static void run(lever_flags *f, const char *source, const bcase *bc, long iters)
{
    lever_context ctx = {bc->kv, bc->n, "user-123456"};
    /* warm up, and check the answer once */
    char *variant = NULL;
    lever_flag_variant(f, "checkout", &ctx, "-", &variant, NULL);
    for (long i = 0; i < iters / 10; i++) {
        bool on;
        lever_flag_enabled(f, "checkout", &ctx, false, &on, NULL);
        sink += on;
    }
    double c0 = cpu_ns(), w0 = wall_ns();
    for (long i = 0; i < iters; i++) {
        bool on;
        lever_flag_enabled(f, "checkout", &ctx, false, &on, NULL);
        sink += on;
    }
    double c1 = cpu_ns(), w1 = wall_ns();
    printf("%s\t%s\tenabled\t%ld\t%.1f\t%.1f\t%s\n", source, bc->name, iters, (c1 - c0) / (double)iters,
           (w1 - w0) / (double)iters, variant);
    c0 = cpu_ns(), w0 = wall_ns();
    for (long i = 0; i < iters; i++) {
        int64_t v;
        lever_flag_int(f, "checkout", "steps", &ctx, 0, &v, NULL);
        sink += (uint64_t)v;
    }
    c1 = cpu_ns(), w1 = wall_ns();
    printf("%s\t%s\tint\t%ld\t%.1f\t%.1f\t%s\n", source, bc->name, iters, (c1 - c0) / (double)iters,
           (w1 - w0) / (double)iters, variant);
    fflush(stdout);
    lever_free(variant);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 6) {
        fprintf(stderr, "usage: flagbench DOCUMENT.json ITERATIONS [APP ENV PROFILE]\n");
        return 2;
    }
    long iters = atol(argv[2]);
    size_t len = 0;
    char *doc = slurp(argv[1], &len);
    if (doc == NULL || iters <= 0) {
        fprintf(stderr, "flagbench: cannot read %s\n", argv[1]);
        return 2;
    }
    static const bcase cases[] = {
        {"first-variant", {{"plan", "gold", LEVER_CTX_STRING}, {"email", "a@example.com", LEVER_CTX_STRING},
                           {"country", "NZ", LEVER_CTX_STRING}, {"age", "40", LEVER_CTX_STRING}}, 4},
        {"fifth-variant", {{"plan", "free", LEVER_CTX_STRING}, {"email", "a@example.com", LEVER_CTX_STRING},
                           {"country", "FR", LEVER_CTX_STRING}, {"age", "40", LEVER_CTX_STRING}}, 4},
        {"default-variant", {{"plan", "free", LEVER_CTX_STRING}, {"email", "a@example.com", LEVER_CTX_STRING},
                             {"country", "NZ", LEVER_CTX_STRING}, {"age", "40", LEVER_CTX_STRING}}, 4},
    };
    lever_options *o = lever_options_new();
    lever_options_set_env_scheme(o, LEVER_ENV_NONE); /* the document layer only: what is measured */
    lever_flags *f = NULL;
    char err[512];
    if (lever_flags_from_document(o, doc, len, &f, err, sizeof err) != LEVER_OK) {
        fprintf(stderr, "flagbench: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run(f, "document", &cases[i], iters);
    lever_flags_close(f);
    if (argc == 6) {
        lever *c = NULL;
        if (lever_open(o, &c, err, sizeof err) != LEVER_OK) {
            fprintf(stderr, "flagbench: %s\n", err);
            return 1;
        }
        if (lever_flags_open(c, argv[3], argv[4], argv[5], NULL, NULL, &f) != LEVER_OK) {
            lever_last_error(c, err, sizeof err);
            fprintf(stderr, "flagbench: %s\n", err);
            return 1;
        }
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            run(f, "leverd", &cases[i], iters);
        lever_flags_close(f);
        lever_close(c);
    }
    lever_options_free(o);
    free(doc);
    return 0;
}
