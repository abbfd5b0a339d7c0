# bench/lib.sh - shell helpers shared by the bench/*.sh scripts (sourced,
# not run). The sourcing script sets LB_NAME (its name in log lines), HERE
# (bench/) and REPO before calling any of these.
#
#   lb_log MSG...            a log line on stderr
#   lb_need TOOL...          0 when every tool is on PATH, else logs and 1
#   lb_tmp                   TMP: a fresh temp dir, removed on exit with
#                            every process started by lb_start_bg
#   lb_lvbench               builds bench/lvbench.c into $LVB (1 on failure)
#   lb_start_bg LOG CMD...   runs CMD in the background (LAST_PID, PIDS)
#   lb_stop_pid PID          TERM, then KILL after 10 s; forgets PID
#   lb_b64 STRING            base64 without line breaks
#   lb_wrk_tsv OUT R S C     wrk --latency output -> one TSV line
#                            (round system conns rps p50 p99 non2xx sockerr requests)
#   lb_machine               one line: CPUs, model, kernel, load average

PIDS=""

lb_log() { printf '%s bench/%s: %s\n' "$(date +%H:%M:%S)" "${LB_NAME:-bench}" "$*" >&2; }

lb_need() {
    for lb_t in "$@"; do
        if ! command -v "$lb_t" > /dev/null 2>&1; then
            lb_log "$lb_t is missing (run: sh scripts/deps.sh bench); nothing measured"
            return 1
        fi
    done
    return 0
}

lb_cleanup() {
    for lb_p in $PIDS; do kill -TERM "$lb_p" 2>/dev/null || true; done
    for lb_p in $PIDS; do
        lb_i=0
        while kill -0 "$lb_p" 2>/dev/null && [ $lb_i -lt 100 ]; do sleep 0.1; lb_i=$((lb_i + 1)); done
        kill -KILL "$lb_p" 2>/dev/null || true
        wait "$lb_p" 2>/dev/null || true
    done
    PIDS=""
    if [ -n "${KEEP_TMP:-}" ]; then lb_log "kept $TMP"; return 0; fi
    [ -n "${TMP:-}" ] && rm -rf "$TMP"
    return 0
}

lb_tmp() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/lever-bench-${LB_NAME:-bench}.XXXXXX")
    trap lb_cleanup EXIT
    trap 'exit 130' INT TERM HUP
}

lb_lvbench() {
    LVB=$TMP/lvbench
    if ! gcc -O2 -std=gnu17 -D_GNU_SOURCE -I"$REPO/src" -o "$LVB" "$HERE/lvbench.c" \
            "$REPO"/src/auth/sigv4*.c "$REPO/src/core/buf.c" "$REPO/src/core/hex.c" "$REPO/src/core/err.c" \
            -lcrypto -lpthread 2> "$TMP/lvbench-build.log"; then
        lb_log "cannot build bench/lvbench.c:"; cat "$TMP/lvbench-build.log" >&2
        return 1
    fi
    return 0
}

lb_start_bg() {
    lb_logf=$1; shift
    "$@" > "$lb_logf" 2>&1 &
    LAST_PID=$!
    PIDS="$PIDS $LAST_PID"
}

lb_stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    lb_i=0
    while kill -0 "$1" 2>/dev/null && [ $lb_i -lt 100 ]; do sleep 0.1; lb_i=$((lb_i + 1)); done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    lb_np=""; for lb_q in $PIDS; do [ "$lb_q" = "$1" ] || lb_np="$lb_np $lb_q"; done; PIDS=$lb_np
}

lb_b64() { printf '%s' "$1" | base64 -w0; }

lb_wrk_tsv() { awk -v r="$2" -v s="$3" -v c="$4" -f "$HERE/agent/wrk.awk" "$1"; }

lb_machine() {
    printf '%s CPU(s), %s, %s; load average %s when the run started' "$(nproc)" \
        "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" "$(uname -sr)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
}
