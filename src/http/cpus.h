/* cpus.h - how many CPUs this process may actually run on: its affinity
 * mask, capped by a cgroup v2 CPU quota. The default thread count of the
 * HTTP listener (leverd and lever-agent). */
#ifndef LV_HTTP_CPUS_H
#define LV_HTTP_CPUS_H

/* CPUs in the calling thread's affinity mask (sched_getaffinity), lowered
 * to ceil(quota / period) when a cgroup v2 `cpu.max` of this process's
 * cgroup or one of its ancestors sets a quota. At least 1; falls back to
 * the online CPU count when the mask cannot be read. */
unsigned lv_http_cpus(void);

/* The cgroup v2 rule alone, for tests: the CPUs allowed by a `cpu.max`
 * text ("max 100000", "150000 100000"); 0 when it sets no quota or cannot
 * be parsed. */
unsigned lv_http_cpus_from_cpu_max(const char *text);

#endif
