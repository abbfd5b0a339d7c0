#!/usr/bin/env python3
"""report.py - turns one bench/run.sh run (its temp dir) into
bench/results/<stamp>.md, <stamp>-runs.tsv and PNG charts (gnuplot).
Standard library only; called by run.sh, not by hand."""

import argparse
import os
import shutil
import statistics
import subprocess
import sys

NAME_BYTES, VALUE_BYTES = 40, 100
COLORS = {"lever": "#d62728", "nginx": "#1f77b4", "etcd": "#2ca02c", "moto": "#9467bd"}
# Placements (bench/run.sh): "pinned" = server on one CPU, wrk -t1 on
# another (the headline); "unpinned" = both anywhere, wrk -t2.
PINNED, UNPINNED = "pinned", "unpinned"


def read_tsv(path, header=True):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    if not header:
        return lines
    keys = lines[0]
    return [dict(zip(keys, l)) for l in lines[1:]]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}"


class Runs:
    def __init__(self, rows):
        self.rows = rows
        for r in rows:
            r["rps"] = num(r["rps"]) or 0.0
            r["p50"] = num(r["p50_ms"])
            r["p99"] = num(r["p99_ms"])
            r["bad"] = int(r["non2xx"] or 0) + int(r["sockerr"] or 0)
            r["conns"] = int(r["conns"])
            r["round"] = int(r["round"])
            r["placement"] = r.get("placement") or "unpinned"

    default_pl = PINNED

    def get(self, w, s, c, pl=None):
        pl = pl or self.default_pl
        return [r for r in self.rows if r["workload"] == w and r["system"] == s and r["conns"] == c
                and r["placement"] == pl]

    def cells(self):
        seen = []
        for r in self.rows:
            k = (r["workload"], r["conns"], r["system"], r["placement"])
            if k not in seen:
                seen.append(k)
        return seen

    def ratios(self, a, b, field="rps", pl=None):
        """Per-round ratios a/b; a and b are (workload, system, conns)."""
        out = []
        for ra in self.get(*a, pl=pl):
            for rb in self.get(*b, pl=pl):
                if ra["round"] == rb["round"] and ra[field] and rb[field]:
                    out.append(ra[field] / rb[field])
        return out


def ratio_text(rs, nd=None):
    """Median ratio with four significant digits, so that 0.5997 is not
    shown as a met 0.60; the rounds' own ratios follow in brackets."""
    if not rs:
        return "–"
    f = (lambda x: f"{x:.4g}" if x < 10 else f"{x:.3g}") if nd is None else (lambda x: f"{x:.{nd}f}")
    m = statistics.median(rs)
    if len(rs) == 1:
        return f(m)
    return f(m) + " (" + ", ".join(f(x) for x in rs) + ")"


def verdict(value, ok, partial=""):
    if value is None:
        return "n/a"
    return ("met" if ok else "**not met**") + partial


def chart(tmp, out_png, title, runs, workload, conns, systems):
    gp = shutil.which("gnuplot")
    if not gp:
        return False
    d = os.path.join(tmp, "chart-" + workload)
    os.makedirs(d, exist_ok=True)
    plots_t, plots_p = [], []
    for s in systems:
        pts = []
        for c in conns:
            rr = runs.get(workload, s, c) or runs.get(workload, s, c, UNPINNED)
            if rr:
                pts.append((c, med([r["rps"] for r in rr]), med([r["p99"] for r in rr])))
        if not pts:
            continue
        fn = os.path.join(d, s + ".dat")
        with open(fn, "w") as f:
            for c, rps, p99 in pts:
                f.write(f"{c} {rps or 0} {p99 if p99 is not None else 'NaN'}\n")
        lc = f"lc rgb '{COLORS.get(s, '#7f7f7f')}'"
        plots_t.append(f"'{fn}' using 1:2 with linespoints lw 2 pt 7 {lc} title '{s}'")
        plots_p.append(f"'{fn}' using 1:3 with linespoints lw 2 pt 7 {lc} title '{s}'")
    if not plots_t:
        return False
    xt = ", ".join(f"'{c}' {c}" for c in conns)
    script = f"""
set terminal pngcairo size 1100,420 font 'sans,10'
set output '{out_png}'
set multiplot layout 1,2 title '{title}'
set logscale x 2
set xrange [{conns[0] / 1.5}:{conns[-1] * 1.5}]
set xtics ({xt})
set xlabel 'connections'
set grid
set key top left
set logscale y 10
set ylabel 'requests/s (median)'
set title 'throughput'
plot {", ".join(plots_t)}
set ylabel 'p99 latency, ms (median)'
set title 'p99 latency'
plot {", ".join(plots_p)}
unset multiplot
"""
    sf = os.path.join(d, "plot.gp")
    with open(sf, "w") as f:
        f.write(script)
    r = subprocess.run([gp, sf], capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write("report: gnuplot: " + r.stderr[-500:] + "\n")
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stamp", required=True)
    a = ap.parse_args()
    tmp, out, stamp = a.tmp, a.out, a.stamp

    meta = {k: v for k, v in read_tsv(os.path.join(tmp, "meta.tsv"), header=False)}
    mem = {k: v for k, v in read_tsv(os.path.join(tmp, "memory.tsv"), header=False)}
    bodies = {k: v for k, v in read_tsv(os.path.join(tmp, "bodies.tsv"), header=False)}
    runs = Runs(read_tsv(os.path.join(tmp, "runs.tsv")))
    notes = open(os.path.join(tmp, "notes.md")).read() if os.path.exists(os.path.join(tmp, "notes.md")) else ""
    quick = meta.get("mode", "").startswith("quick")

    shutil.copy(os.path.join(tmp, "runs.tsv"), os.path.join(out, stamp + "-runs.tsv"))
    L = []
    w = L.append
    w(f"# lever benchmarks: {stamp}")
    w("")
    w(f"Written by `bench/run.sh` ({meta.get('mode', '?')}); how to run and read "
      "this: [docs/benchmarks.md](../../docs/benchmarks.md). Ratios are medians "
      "of per-round ratios (lever and its reference measured back to back), so "
      "machine drift cancels; absolute figures alone mean little on a shared machine.")
    if quick:
        w("")
        w("**Quick mode**: one short round per workload and 100,000 parameters for "
          "the memory and start-time figures instead of 1,000,000; indicative only.")
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    for k in ("date", "nproc", "cpu", "memory", "kernel", "load_before", "placement", "lever", "wrk",
              "nginx", "etcd", "moto", "sqlite", "tree_load", "elapsed"):
        if k in meta:
            w(f"| {k.replace('_', ' ')} | {meta[k]} |")
    w("")
    w("All systems on loopback on this machine, each with its own temporary data "
      "directory. nginx runs one worker; leverd its default thread count (the CPUs it "
      "may use), plus a second leverd and a lever-agent with `--threads 1` for the "
      "256-connection one-thread case; etcd and moto their defaults. In pinned runs every "
      "thread of the server under test is moved to one CPU (`taskset -a -p`) and wrk runs "
      "with one thread on another (`taskset -c`); the leverd of pinned runs is one started "
      "on that CPU (on a copy of the main one's data), so it runs one event loop as a "
      "leverd confined to one core does. Unpinned runs leave both on every CPU "
      "with two wrk threads. The machine is shared with other work (see the load average "
      "above): absolute figures are noisy, ratios of back-to-back runs less so.")

    # ---- targets ----
    # Each row: workload, target, measured (pinned, the verdict's basis),
    # status, measured unpinned. A ratio helper runs for both placements.
    T = []
    L_ = "lever"
    have_pinned = any(r["placement"] == PINNED for r in runs.rows)
    head = PINNED if have_pinned else UNPINNED
    runs.default_pl = head

    def both(a, b, field="rps"):
        return runs.ratios(a, b, field, pl=head), runs.ratios(a, b, field, pl=UNPINNED)

    def row(workload, target, pair, ok):
        hp, up = pair
        T.append((workload, target, ratio_text(hp), verdict(med(hp), ok(med(hp))),
                  ratio_text(up) if head == PINNED else "–"))

    for c in (32, 256):
        row(f"GetParameter, {c} connections", "≥ 0.8 × nginx req/s (issue 15)",
            both(("get", L_, c), ("get", "nginx", c)), lambda m: (m or 0) >= 0.8)
        row(f"GetParameter, {c} connections", "p99 ≤ 2 × nginx p99",
            both(("get", L_, c), ("get", "nginx", c), "p99"), lambda m: (m or 99) <= 2.0)
        row(f"GetParameter, {c} connections", "≥ 10 × etcd req/s",
            both(("get", L_, c), ("get", "etcd", c)), lambda m: (m or 0) >= 10)
    row("leverd --threads 1, GetParameter, 256 connections", "≥ 0.8 × nginx req/s (issue 15)",
        both(("get-1t", "lever1t", 256), ("get", "nginx", 256)), lambda m: (m or 0) >= 0.8)
    row("leverd --threads 1, GetParameter, 256 connections", "p99 ≤ 2 × nginx p99",
        both(("get-1t", "lever1t", 256), ("get", "nginx", 256), "p99"), lambda m: (m or 99) <= 2.0)
    row("GetParameter SecureString WithDecryption, 32", "≥ 0.5 × nginx",
        both(("secure", L_, 32), ("secure", "nginx", 32)), lambda m: (m or 0) >= 0.5)
    for kind, label in (("rec", "recursive"), ("one", "one level")):
        row(f"GetParametersByPath page of 10 from 100k, {label}", "≥ 0.3 × nginx",
            both((f"path100k-{kind}", L_, 32), ("path", "nginx", 32)), lambda m: (m or 0) >= 0.3)
        row(f"GetParametersByPath {label}: 1k tree vs 100k tree", "req/s within 1.5 ×",
            both((f"path1k-{kind}", L_, 32), (f"path100k-{kind}", L_, 32)),
            lambda m: m is not None and 1 / 1.5 <= m <= 1.5)
    for c, need in ((1, 2), (64, 3)):
        row(f"PutParameter durable, {c} connection{'s' if c > 1 else ''}", f"≥ {need} × etcd put",
            both(("put", L_, c), ("put", "etcd", c)), lambda m, need=need: (m or 0) >= need)
    per_param = overhead = start_ms = None
    if mem:
        loaded = int(mem.get("loaded", 0) or 0)
        if loaded > 0:
            per_param = (int(mem["rss_loaded_kb"]) - int(mem["rss_empty_kb"])) * 1024 / loaded
            overhead = per_param - NAME_BYTES - VALUE_BYTES
        start_ms = num(mem.get("start_ms"))
        tag = f" ({loaded:,} parameters{', quick' if quick else ''})"
        T.append(("Memory for 1M parameters", "≤ 400 bytes/parameter beyond name + value",
                  (f"{overhead:,.0f} B beyond {NAME_BYTES + VALUE_BYTES} B" if overhead is not None else "–") + tag,
                  verdict(overhead, (overhead or 1e9) <= 400, " (indicative)" if quick or loaded < 1000000 else ""),
                  "–"))
        T.append(("Start with 1M parameters", "/healthz 200 within 5 s",
                  (f"{start_ms / 1000:.2f} s" if start_ms is not None else "–") + tag,
                  verdict(start_ms, (start_ms or 1e9) <= 5000, " (indicative)" if quick or loaded < 1000000 else ""),
                  "–"))
    else:
        T.append(("Memory for 1M parameters", "≤ 400 bytes/parameter beyond name + value", "–", "n/a", "–"))
        T.append(("Start with 1M parameters", "/healthz 200 within 5 s", "–", "n/a", "–"))

    w("")
    w("## Targets (issues 5 and 15)")
    w("")
    w("Measured value: median of per-round ratios (the rounds' own values in brackets). "
      "The headline is **pinned**: the server under test on one CPU and wrk (one thread) "
      "on another, so the load generator does not take the server's core; the status is "
      "decided on it. The unpinned figure (both anywhere, wrk with two threads, the set-up "
      "of earlier reports) is beside it.")
    w("")
    w("| workload | target | measured, pinned | status | unpinned |")
    w("|---|---|---|---|---|")
    for r_ in T:
        w("| " + " | ".join(r_) + " |")
    met = sum(1 for r in T if r[3].startswith("met"))
    w("")
    w(f"{met} of {len(T)} targets met in this run.")
    O = []
    O.append(("lever-agent --threads 1, cached parameter, 256 connections", "agent / nginx req/s, pinned",
              ratio_text(runs.ratios(("agent-1t", "agent1t", 256), ("agent-1t", "nginx", 256)))))
    O.append(("lever-agent --threads 1, cached parameter, 256 connections", "agent / nginx req/s, unpinned",
              ratio_text(runs.ratios(("agent-1t", "agent1t", 256), ("agent-1t", "nginx", 256), pl=UNPINNED))))
    O.append(("leverd --threads 1 vs default threads, GetParameter, 256", "lever / lever req/s, pinned",
              ratio_text(runs.ratios(("get-1t", "lever1t", 256), ("get", L_, 256)))))
    for c in (32, 256):
        O.append((f"GetParameter, {c} connections", "lever / moto req/s",
                  ratio_text(runs.ratios(("get", L_, c), ("get", "moto", c)))))
    O.append(("PutParameter, 16 connections", "lever / etcd put req/s",
              ratio_text(runs.ratios(("put", L_, 16), ("put", "etcd", 16)))))
    O.append(("mixed 95/5 at 64 vs GetParameter at 32", "lever / lever req/s",
              ratio_text(runs.ratios(("mixed", L_, 64), ("get", L_, 32)))))
    O.append(("SecureString WithDecryption vs String", "lever / lever req/s",
              ratio_text(runs.ratios(("secure", L_, 32), ("get", L_, 32)))))
    O = [o for o in O if o[2] != "–"]
    if O:
        w("")
        w("Other ratios from the same run (no target):")
        w("")
        w("| workload | ratio | measured |")
        w("|---|---|---|")
        for o in O:
            w("| " + " | ".join(o) + " |")

    # ---- workloads ----
    names = {
        "get": "GetParameter String (~100-byte value)",
        "secure": "GetParameter SecureString WithDecryption",
        "path": "nginx returning the page of 10",
        "path100k-rec": "GetParametersByPath 100k tree, recursive, page of 10",
        "path100k-one": "GetParametersByPath 100k tree, one level, page of 10",
        "path1k-rec": "GetParametersByPath 1k tree, recursive, page of 10",
        "path1k-one": "GetParametersByPath 1k tree, one level, page of 10",
        "put": "PutParameter Overwrite (lever) / put (etcd), 64 keys",
        "mixed": "95% GetParameter / 5% PutParameter",
        "get-1t": "GetParameter, leverd --threads 1 (nginx: the get bytes)",
        "agent-1t": "lever-agent --threads 1, cached parameter (nginx: the agent's bytes)",
    }
    w("")
    w("## Workloads")
    w("")
    w("Medians over rounds. \"errors\" counts non-2xx responses and socket errors "
      "(timeouts at 5 s); a run with errors is not a clean figure.")
    w("")
    w("| workload | conns | system | placement | req/s | p50 ms | p99 ms | errors | rounds |")
    w("|---|---:|---|---|---:|---:|---:|---:|---:|")
    for wl, c, s, pl in sorted(runs.cells(), key=lambda k: (k[3] != PINNED, runs.cells().index(k))):
        rr = runs.get(wl, s, c, pl)
        bad = sum(r["bad"] for r in rr)
        w(f"| {names.get(wl, wl)} | {c} | {s} | {pl} | {fmt(med([r['rps'] for r in rr]))} | "
          f"{fmt(med([r['p50'] for r in rr]), 2)} | {fmt(med([r['p99'] for r in rr]), 2)} | "
          f"{bad if bad else ''} | {len(rr)} |")
    if bodies:
        w("")
        w("Response bytes nginx returns (lever's own responses): " +
          ", ".join(f"{k} {v} B" for k, v in bodies.items()) + ".")

    # ---- memory ----
    w("")
    w("## Memory and start time")
    w("")
    if mem:
        w(f"A leverd of its own, loaded through the API (PutParameter, 64 connections) with "
          f"{int(mem['loaded']):,} of {int(mem['target']):,} parameters: names "
          f"{NAME_BYTES} bytes (`/lvb/memory/service-NNNN/setting-NNNNNN`), values {VALUE_BYTES} bytes.")
        w("")
        w("| | |")
        w("|---|---|")
        ls = num(mem.get("load_s"))
        loaded = int(mem["loaded"])
        if ls:
            w(f"| load | {ls:.1f} s ({loaded / ls:,.0f} puts/s); {mem.get('errors', '0')} errors |")
        w(f"| RSS empty | {int(mem['rss_empty_kb']) / 1024:,.1f} MiB |")
        w(f"| RSS after load | {int(mem['rss_loaded_kb']) / 1024:,.1f} MiB (peak {int(mem.get('hwm_loaded_kb', 0)) / 1024:,.1f} MiB) |")
        if per_param is not None:
            w(f"| per parameter | {per_param:,.0f} B, of which {overhead:,.0f} B beyond name + value |")
        if mem.get("rss_restarted_kb"):
            rr = int(mem["rss_restarted_kb"])
            pp = (rr - int(mem["rss_empty_kb"])) * 1024 / loaded if loaded else 0
            w(f"| RSS after restart on that data | {rr / 1024:,.1f} MiB ({pp:,.0f} B per parameter) |")
        w(f"| data directory | {int(mem.get('data_kb', 0)) / 1024:,.1f} MiB |")
        if start_ms is not None:
            w(f"| start to /healthz 200 | {start_ms / 1000:.2f} s |")
    else:
        w("Not measured (see notes).")

    # ---- charts ----
    w("")
    w("## Charts")
    w("")
    got = False
    if chart(tmp, os.path.join(out, stamp + "-get.png"), "GetParameter (String, signed)",
             runs, "get", [32, 256], ["lever", "nginx", "etcd", "moto"]):
        w(f"![GetParameter throughput and p99 against connections]({stamp}-get.png)")
        w("")
        got = True
    if chart(tmp, os.path.join(out, stamp + "-put.png"), "PutParameter Overwrite (durable) vs etcd put",
             runs, "put", [1, 16, 64], ["lever", "etcd"]):
        w(f"![PutParameter throughput and p99 against connections]({stamp}-put.png)")
        got = True
    if not got:
        w("No charts (gnuplot missing or no data).")

    w("")
    w("## Notes")
    w("")
    w(notes.strip() or "- none")
    w("")
    w(f"Raw per-run figures: [{stamp}-runs.tsv]({stamp}-runs.tsv).")
    with open(os.path.join(out, stamp + ".md"), "w") as f:
        f.write("\n".join(L) + "\n")
    # A summary for the terminal.
    print("\n".join(["", "| workload | target | pinned | status | unpinned |"] +
                     ["| " + " | ".join(r) + " |" for r in T]))


if __name__ == "__main__":
    main()
