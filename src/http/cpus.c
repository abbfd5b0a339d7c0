/* cpus.c - the CPUs this process may use (affinity mask, cgroup v2 quota). */
#include "http/cpus.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned lv_http_cpus_from_cpu_max(const char *text)
{
    char *end;
    while (*text == ' ')
        text++;
    if (strncmp(text, "max", 3) == 0)
        return 0;
    unsigned long long quota = strtoull(text, &end, 10);
    if (end == text || *end != ' ' || quota == 0)
        return 0;
    const char *p = end + 1;
    unsigned long long period = strtoull(p, &end, 10);
    if (end == p || period == 0)
        return 0;
    unsigned long long n = (quota + period - 1) / period;
    return n > 4096 ? 4096 : (unsigned)n;
}

/* Reads a small file into buf (NUL-terminated); 0 on success. */
static int read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

/* The smallest quota set on this process's cgroup v2 path or any
 * ancestor (a child cannot use more than its parents allow); 0 = none. */
static unsigned cgroup_quota_cpus(void)
{
    char line[4096];
    if (read_small("/proc/self/cgroup", line, sizeof line) != 0)
        return 0;
    /* cgroup v2 has the single line "0::/path". */
    char *p = strstr(line, "0::");
    if (p == NULL || (p != line && p[-1] != '\n'))
        return 0;
    p += 3;
    char *nl = strchr(p, '\n');
    if (nl)
        *nl = '\0';
    unsigned best = 0;
    for (;;) {
        char path[4200], text[128];
        snprintf(path, sizeof path, "/sys/fs/cgroup%s%scpu.max", p,
                 p[0] && p[strlen(p) - 1] == '/' ? "" : "/");
        if (read_small(path, text, sizeof text) == 0) {
            unsigned n = lv_http_cpus_from_cpu_max(text);
            if (n > 0 && (best == 0 || n < best))
                best = n;
        }
        char *slash = strrchr(p, '/');
        if (slash == NULL || (slash == p && p[1] == '\0'))
            break;
        if (slash == p)
            slash[1] = '\0'; /* the root: "/" */
        else
            *slash = '\0';
    }
    return best;
}

unsigned lv_http_cpus(void)
{
    unsigned n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = (unsigned)CPU_COUNT(&set);
    if (n == 0) {
        long on = sysconf(_SC_NPROCESSORS_ONLN);
        n = on > 0 ? (unsigned)on : 1;
    }
    unsigned q = cgroup_quota_cpus();
    if (q > 0 && q < n)
        n = q;
    return n;
}
