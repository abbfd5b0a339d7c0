#!/bin/sh
# bench/client.sh - liblever benchmarks (issue 3, item 5), called by
# bench/run.sh and usable alone:
#
#   sh bench/client.sh [--quick] [--out FILE] [--tsv FILE]
#
# Builds bench/client/lvcbench.c against the build's liblever, starts a
# leverd of its own on an empty temporary data directory, and measures
#   - propagation: PutParameter acknowledged -> change callback fired in
#     other processes, 100 live-mode handles over 4 watcher processes,
#     200 puts spaced 20-50 ms;
#   - cached getters: ns per lever_get_int / _bool / _string on a warm
#     cache, single thread (full 10,000,000 calls each, quick 2,000,000).
# Writes the "liblever" report section (markdown) to FILE (default stdout)
# and the raw lvcbench lines to the --tsv file. Reports, never fails: exits 0
# unless interrupted. Knobs: LEVER_BUILD_DIR, LEVERD, LEVER_CLIENT_CALLS,
# LEVER_CLIENT_PUTS, LEVER_CLIENT_WATCHERS, LEVER_CLIENT_PROCS, KEEP_TMP.
set -u

QUICK=0; OUT=""; TSV=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --out) OUT=$2; shift ;;
        --tsv) TSV=$2; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "client.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${LEVER_BUILD_DIR:-$REPO/build}
case "$BUILD" in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
LEVERD=${LEVERD:-$BUILD/leverd}
CALLS=10000000; [ "$QUICK" = 1 ] && CALLS=2000000
CALLS=${LEVER_CLIENT_CALLS:-$CALLS}
PUTS=${LEVER_CLIENT_PUTS:-200}
WATCHERS=${LEVER_CLIENT_WATCHERS:-100}
PROCS=${LEVER_CLIENT_PROCS:-4}

AK=AKIALEVERCLIENT00001
SK=leverClientBenchSecret/0123456789abcdefgh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lever-client.XXXXXX")
LPID=""
log() { printf '%s client: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() {
    if [ -n "$LPID" ]; then
        kill -TERM "$LPID" 2>/dev/null
        i=0; while kill -0 "$LPID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$LPID" 2>/dev/null
    fi
    [ -n "${KEEP_TMP:-}" ] && { log "kept $TMP"; return; }
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

: > "$TMP/notes"; : > "$TMP/out.tsv"
note() { printf -- '- %s\n' "$*" >> "$TMP/notes"; log "note: $*"; }

# write_section: the markdown section from whatever was measured.
write_section() {
    python3 - "$TMP/out.tsv" "$TMP/notes" "$QUICK" "$CALLS" <<'EOF'
import sys
tsv, notes_path, quick, calls = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
prop, get, env_n = {}, {}, None
for line in open(tsv):
    f = line.rstrip("\n").split("\t")
    if f[0] == "prop" and len(f) == 3:
        prop[f[1]] = f[2]
    elif f[0] == "getters" and len(f) == 5:
        if f[1] == "environ":
            env_n = f[3]
        else:
            get[(f[1], f[2])] = float(f[3])
notes = open(notes_path).read().strip()
L = []
w = L.append
def verdict(ok):
    return "met" if ok else "**not met**"
w("## liblever")
w("")
w("`bench/client.sh`: the C client against a leverd of its own (empty data, "
  "same machine), built with `bench/client/lvcbench.c` linked to the build's `liblever.a`. "
  "Clock: CLOCK_MONOTONIC, shared by every process on the machine." +
  (" Quick mode: fewer getter calls; indicative only." if quick else ""))
w("")
w("### Targets (issue 3, item 5)")
w("")
w("| target | measured | |")
w("|---|---|---|")
if "p99_ms" in prop:
    p99 = float(prop["p99_ms"])
    full = prop.get("delivered") == prop.get("expected")
    w(f"| propagation p99 < 50 ms, PutParameter acknowledged → callback, {prop['watchers']} watchers | "
      f"p99 {p99:.2f} ms (p50 {float(prop['p50_ms']):.2f} ms) | "
      f"{verdict(p99 < 50 and full)}{'' if full else ' (callbacks missing)'} |")
else:
    w("| propagation p99 < 50 ms, 100 watchers | not measured (see notes) | **not met** |")
for g in ("lever_get_int", "lever_get_bool", "lever_get_string"):
    v = get.get(("default", g))
    if v is None:
        w(f"| `{g}` on a warm cache < 100 ns/call, single thread | not measured (see notes) | **not met** |")
    else:
        w(f"| `{g}` on a warm cache < 100 ns/call, single thread, default options | {v:.1f} ns | {verdict(v < 100)} |")
w("")
w("### Propagation")
w("")
if prop:
    w(f"{prop['watchers']} liblever handles in live mode (each with its own watch connection and thread), "
      f"spread over {prop['procs']} watcher processes, all subscribed to one prefix; "
      f"a writer process puts {prop['puts']} values `seq-N` to one name under it, "
      f"{prop['gap_ms']} ms apart (uniform), and records when each `lever_put` returned. "
      "Latency = callback time − that acknowledgement, per watcher and put.")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| callbacks delivered | {int(prop['delivered']):,} of {int(prop['expected']):,} "
      f"(duplicates {prop['duplicates']}) |")
    w(f"| latency p50 / p90 / p99 / max | {float(prop['p50_ms']):.2f} / {float(prop['p90_ms']):.2f} / "
      f"{float(prop['p99_ms']):.2f} / {float(prop['max_ms']):.2f} ms |")
    w(f"| until all {prop['watchers']} watchers had it, p50 / p99 | {float(prop['all_p50_ms']):.2f} / "
      f"{float(prop['all_p99_ms']):.2f} ms (over {prop['all_puts']} puts) |")
    w(f"| PutParameter round trip (writer), p50 / p99 | {float(prop['put_rtt_p50_ms']):.2f} / "
      f"{float(prop['put_rtt_p99_ms']):.2f} ms |")
    w(f"| callbacks before the writer saw its acknowledgement | {int(prop['negative']):,} "
      "(leverd wakes watchers at commit, before the put's own reply reaches the writer; counted as negative latencies) |")
    w(f"| duration of the put sequence | {prop['put_seconds']} s |")
else:
    w("Not measured (see notes).")
w("")
w("### Cached getters")
w("")
w(f"ns per call, single thread, {calls:,} calls per getter after a warm-up of 5%, "
  "on prefetched keys with a one-hour TTL (no refresh in the loop; every call answered from the cache). "
  "`lever_get_string` includes the `lever_free` of its result. "
  f"`default`: default options (env layer `LEVER_ENV_LAST_SEGMENT`, so each call also consults the environment, "
  f"here {env_n or '?'} variables); `env-none`: `LEVER_ENV_NONE`; `live`: default options in live mode.")
w("")
cfgs = [c for c in ("default", "env-none", "live") if any(k[0] == c for k in get)]
if cfgs:
    w("| getter | " + " | ".join(cfgs) + " |")
    w("|---|" + "---:|" * len(cfgs))
    for g in ("lever_get_int", "lever_get_bool", "lever_get_string"):
        w(f"| `{g}` | " + " | ".join(f"{get[(c, g)]:.1f}" if (c, g) in get else "–" for c in cfgs) + " |")
    w("")
    w("What bounds the getter cost (callgrind) and the change to liblever that would "
      "remove it: docs/benchmarks.md, section *liblever*.")
else:
    w("Not measured (see notes).")
w("")
w("### liblever notes")
w("")
w(notes or "- none")
print("\n".join(L))
EOF
}

finish() {
    if [ -n "$TSV" ]; then cp "$TMP/out.tsv" "$TSV"; fi
    if [ -n "$OUT" ]; then write_section > "$OUT"; else write_section; fi
    exit 0
}

# ---- build ---------------------------------------------------------------

CB=$TMP/lvcbench
CFLAGS="-std=c17 -O2 -Wall -Wextra -Werror"
if [ -f "$BUILD/liblever.a" ]; then
    # shellcheck disable=SC2046
    gcc $CFLAGS -I"$REPO/include" -o "$CB" "$HERE/client/lvcbench.c" "$BUILD/liblever.a" \
        $(pkg-config --libs libcurl jansson libcrypto) -lpthread -lm 2> "$TMP/build.log"
elif [ -f "$BUILD/lever.pc" ]; then
    # shellcheck disable=SC2046
    gcc $CFLAGS -o "$CB" "$HERE/client/lvcbench.c" \
        $(PKG_CONFIG_PATH="$BUILD" pkg-config --cflags --libs lever) 2> "$TMP/build.log"
else
    note "no liblever in $BUILD (build it with make): liblever not measured"
    finish
fi
if [ ! -x "$CB" ]; then
    note "cannot build bench/client/lvcbench.c: $(head -c 400 "$TMP/build.log" | tr '\n' ' ')"
    finish
fi
LIBREF="$BUILD/liblever.a"; [ -f "$LIBREF" ] || LIBREF="$BUILD/lever.pc"

# ---- leverd --------------------------------------------------------------

if [ ! -x "$LEVERD" ]; then
    note "leverd not found at $LEVERD: liblever not measured"
    finish
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK \
    "$LEVERD" --data "$TMP/data" --listen "127.0.0.1:$PORT" > "$TMP/leverd.log" 2>&1 &
LPID=$!
i=0
until curl -sf -m 1 -o /dev/null "http://127.0.0.1:$PORT/healthz"; do
    i=$((i + 1))
    if [ $i -ge 300 ] || ! kill -0 "$LPID" 2>/dev/null; then
        note "leverd did not answer /healthz: $(tail -3 "$TMP/leverd.log" | tr '\n' ' ')"
        finish
    fi
    sleep 0.1
done

run_cb() { # lvcbench with the endpoint and credentials of this leverd (4 min cap)
    timeout -k 5 240 env LEVER_ENDPOINT="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK \
        AWS_PROFILE= AWS_SESSION_TOKEN= AWS_REGION=us-east-1 "$CB" "$@"
}

# ---- propagation ---------------------------------------------------------

log "propagation: $WATCHERS live handles in $PROCS processes, $PUTS puts 20-50 ms apart"
if run_cb prop --prefix /lvb/client/live --watchers "$WATCHERS" --procs "$PROCS" --puts "$PUTS" \
        --gap-min 20 --gap-max 50 --settle-ms 1500 > "$TMP/prop.tsv" 2> "$TMP/prop.err"; then
    cat "$TMP/prop.tsv" >> "$TMP/out.tsv"
    log "propagation: $(awk -F'\t' '$2 ~ /^(p50_ms|p99_ms|delivered)$/ {printf "%s %s  ", $2, $3}' "$TMP/prop.tsv")"
else
    note "propagation run failed: $(tail -c 400 "$TMP/prop.err" | tr '\n' ' ')"
fi

# ---- getters -------------------------------------------------------------

log "getters: $CALLS calls per getter and configuration"
if run_cb getters --prefix /lvb/client/app --calls "$CALLS" > "$TMP/get.tsv" 2> "$TMP/get.err"; then
    cat "$TMP/get.tsv" >> "$TMP/out.tsv"
    log "getters: $(awk -F'\t' '$2 == "default" {printf "%s %s ns  ", $3, $4}' "$TMP/get.tsv")"
else
    cat "$TMP/get.tsv" >> "$TMP/out.tsv"
    note "getter run failed: $(tail -c 400 "$TMP/get.err" | tr '\n' ' ')"
fi
grep -q 'failed\|error' "$TMP/leverd.log" 2>/dev/null &&
    note "leverd log: $(grep -m2 'failed\|error' "$TMP/leverd.log" | tr '\n' ' ')"
log "built against $LIBREF"
finish
