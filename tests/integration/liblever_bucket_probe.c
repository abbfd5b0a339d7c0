/* liblever_bucket_probe.c - the bucketing function as liblever exports it
 * (lever_bucket, lever_bucket_threshold), for
 * tests/integration/test_bucketing_liblever.py. Linked with the shared
 * library. stdin lines:
 *   B <hex seed> <hex entity>   -> the bucket
 *   T <percentage>              -> the threshold
 * ("-" is an empty hex string). One answer line each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lever/lever.h"

static size_t unhex(const char *h, char *out, size_t cap)
{
    size_t n = 0;
    if (strcmp(h, "-") == 0)
        return 0;
    for (; h[0] && h[1] && n < cap; h += 2) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1)
            break;
        out[n++] = (char)v;
    }
    return n;
}

int main(void)
{
    static char line[16384], hs[8192], he[8192], s[4096], e[4096];
    while (fgets(line, sizeof line, stdin)) {
        double p;
        if (sscanf(line, "B %8191s %8191s", hs, he) == 2) {
            size_t sl = unhex(hs, s, sizeof s), el = unhex(he, e, sizeof e);
            printf("%u\n", lever_bucket(s, sl, e, el));
        } else if (sscanf(line, "T %lf", &p) == 1) {
            printf("%u\n", lever_bucket_threshold(p));
        } else {
            puts("?");
        }
        fflush(stdout);
    }
    return 0;
}
