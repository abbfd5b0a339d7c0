/* rollout.c - deployment growth: steps, percentages and gaps of a
 * strategy (core/rollout.h). */
#include "core/rollout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/appconfig.h"

enum { MINUTE_MS = 60000, MAX_STEPS = 10000 };

void lv_rollout_of(const lv_acrec *d, lv_rollout_strategy *s)
{
    memset(s, 0, sizeof *s);
    double g = strtod(lv_acrec_str(d, DF_GROWTH), NULL);
    s->growth = !(g >= 1) ? 1 : g > 100 ? 100 : g;
    int64_t dur = lv_acrec_num(d, DF_DURATION), bake = lv_acrec_num(d, DF_BAKE);
    s->duration_ms = dur > 0 ? dur * MINUTE_MS : 0;
    s->bake_ms = bake > 0 ? bake * MINUTE_MS : 0;
    s->exponential = strcmp(lv_acrec_str(d, DF_GTYPE), "EXPONENTIAL") == 0;
    s->canary = strcmp(lv_acrec_str(d, DF_CANARY), "1") == 0;
}

unsigned lv_rollout_steps(const lv_rollout_strategy *s)
{
    if (s->duration_ms <= 0 || s->growth >= 100)
        return 1;
    if (s->canary)
        return 2;
    if (s->exponential) {
        unsigned n = 1;
        for (double p = s->growth; p < 100 - 1e-9 && n < MAX_STEPS; p *= 2)
            n++;
        return n;
    }
    double n = ceil(100.0 / s->growth - 1e-9);
    return n > MAX_STEPS ? MAX_STEPS : (unsigned)n;
}

unsigned lv_rollout_last(const lv_rollout_strategy *s)
{
    return lv_rollout_steps(s) + (s->bake_ms > 0);
}

double lv_rollout_percent(const lv_rollout_strategy *s, unsigned k)
{
    unsigned n = lv_rollout_steps(s);
    if (k == 0)
        return 0;
    if (k >= n)
        return 100;
    double p = s->canary ? s->growth : s->exponential ? s->growth * ldexp(1.0, (int)k - 1) : s->growth * k;
    p = round(p * 100) / 100;
    return p > 100 ? 100 : p;
}

int64_t lv_rollout_gap_ms(const lv_rollout_strategy *s, unsigned k)
{
    unsigned n = lv_rollout_steps(s);
    if (k == 0 || k > lv_rollout_last(s))
        return 0;
    if (k == n + 1)
        return s->bake_ms;
    if (s->duration_ms <= 0 || n == 1)
        return 0;
    if (s->canary)
        return k == 1 ? 0 : s->duration_ms;
    return s->duration_ms / n;
}

void lv_rollout_percent_text(double p, char *out, size_t cap)
{
    snprintf(out, cap, "%.2f", p);
    char *dot = strchr(out, '.');
    if (dot == NULL)
        return;
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
}
