#!/bin/sh
# bench/rollout.sh - gradual deployments: (1) a step or a rollback -> N
# lever-agents serving the right content (p99 of each agent's
# commit-to-serve delay; target < 100 ms), (2) the bookkeeping cost:
# GetParameter on leverd and a configuration read through lever-agent
# (with Entity-Id, so every read is bucketed) with 10 deployments in
# progress vs none (wrk, alternating rounds; target within 10 %).
# Report: bench/results/rollout-<date>[-quick].md. Standalone; bench/run.sh
# calls it.
#
#   sh bench/rollout.sh [--quick] [--build DIR] [--out FILE] [--agents N] [--deployments N]
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${BUILD:-$REPO/build}
OUT=""
DUR=10
ROUNDS=3
CONNS=32
AGENTS=100
DEPS=10
STEPS=3
BUSY=10
WARM=3
MODE=full

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --quick) MODE=quick; DUR=2; ROUNDS=2; WARM=1; AGENTS=10; DEPS=1; STEPS=2 ;;
        --build) BUILD=$2; shift ;;
        --out) OUT=$2; shift ;;
        --agents) AGENTS=$2; shift ;;
        --deployments) DEPS=$2; shift ;;
        -h|--help) usage 0 ;;
        *) echo "rollout.sh: unknown argument $1" >&2; usage 2 ;;
    esac
    shift
done

log() { printf 'bench/rollout: %s\n' "$*" >&2; }

for t in wrk curl gcc /usr/bin/python3; do
    if ! command -v $t > /dev/null 2>&1; then
        log "$t is missing (run: sh scripts/deps.sh bench); nothing measured"
        exit 0
    fi
done
for b in leverd lever-agent; do
    if [ ! -x "$BUILD/$b" ]; then
        log "$BUILD/$b not found (build with make, or pass --build DIR); nothing measured"
        exit 0
    fi
done

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
TMP=$(mktemp -d /tmp/lever-bench-rollout.XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    [ -n "${KEEP_TMP:-}" ] && { log "kept $TMP"; return; }
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

LVB=$TMP/lvbench
# shellcheck disable=SC2046
if ! gcc -O2 -std=gnu17 -D_GNU_SOURCE -I"$REPO/src" -o "$LVB" "$HERE/lvbench.c" \
        $(ls "$REPO"/src/auth/sigv4*.c) "$REPO/src/core/buf.c" "$REPO/src/core/hex.c" "$REPO/src/core/err.c" \
        -lcrypto -lpthread 2> "$TMP/lvbench-build.log"; then
    log "cannot build bench/lvbench.c:"; cat "$TMP/lvbench-build.log" >&2
    exit 0
fi

AK=AKIALVBENCHROLLOUT01
SK=lvbenchRolloutSecret0123456789abcdefghij
SIGN="$AK:$SK:us-east-1"
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SHARED_CREDENTIALS_FILE=/dev/null

# (1) propagation, on a leverd of its own: a 2-minute step is 2 s at 60x
LP=$("$LVB" port)
LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK LEVER_TIME_SCALE=60 \
    "$BUILD/leverd" --data "$TMP/data-prop" --listen "127.0.0.1:$LP" > "$TMP/leverd-prop.log" 2>&1 &
LEVERD_PROP=$!
PIDS="$PIDS $LEVERD_PROP"
"$LVB" wait --addr "127.0.0.1:$LP" > /dev/null 2>&1 || { log "leverd did not start"; exit 1; }
log "$MODE run: $AGENTS agents x $DEPS deployments ($STEPS steps and a rollback each)"
/usr/bin/python3 "$HERE/rollout/prop.py" "$BUILD" "http://127.0.0.1:$LP" "$AK" "$SK" "$AGENTS" "$DEPS" "$STEPS" \
    "$TMP" > "$TMP/prop.tsv" 2> "$TMP/prop.log" ||
    log "propagation run failed: $(tail -2 "$TMP/prop.log" | tr '\n' ' ')"
kill -TERM "$LEVERD_PROP" 2>/dev/null || true
wait "$LEVERD_PROP" 2>/dev/null || true

# (2) bookkeeping cost: deployments step every 1.44 s each at 600x
LP=$("$LVB" port)
AP=$("$LVB" port)
EP="http://127.0.0.1:$LP"
LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK LEVER_TIME_SCALE=600 \
    "$BUILD/leverd" --data "$TMP/data-cost" --listen "127.0.0.1:$LP" > "$TMP/leverd-cost.log" 2>&1 &
LEVERD_COST=$!
PIDS="$PIDS $!"
"$LVB" wait --addr "127.0.0.1:$LP" > /dev/null 2>&1 || { log "leverd did not start"; exit 1; }
if ! /usr/bin/python3 "$HERE/rollout/busy.py" setup "$EP" "$BUSY" "$TMP/busy.json" 2> "$TMP/busy.log"; then
    log "setup failed: $(tail -2 "$TMP/busy.log" | tr '\n' ' ')"; exit 0
fi
printf 'PutParameter\t{"Name":"/bench/rollout/p","Value":"v","Type":"String"}\n' |
    "$LVB" send --addr "127.0.0.1:$LP" --sign "$SIGN" > /dev/null
PREFETCH=""
i=0
while [ $i -lt "$BUSY" ]; do PREFETCH="$PREFETCH --appconfig-prefetch busy$i:prod:cfg"; i=$((i + 1)); done
# shellcheck disable=SC2086
LEVER_AGENT_LOG_LEVEL=warn "$BUILD/lever-agent" --upstream "$EP" --appconfig-listen "127.0.0.1:$AP" $PREFETCH \
    > "$TMP/agent.log" 2>&1 &
AGENT_COST=$!
PIDS="$PIDS $!"
URL=/applications/busy0/environments/prod/configurations/cfg
i=0
until curl -sf "http://127.0.0.1:$AP/healthz" 2>/dev/null | grep -q '"watching":true'; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then log "lever-agent did not start:"; tail -5 "$TMP/agent.log" >&2; exit 1; fi
    sleep 0.05
done

printf 'round\tsystem\tconns\trps\tp50_ms\tp99_ms\tnon2xx\tsockerr\trequests\n' > "$TMP/runs.tsv"
: > "$TMP/cpu.tsv"
# CPU time (utime + stime, clock ticks) of a process so far.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
# The server's CPU per answered request over one wrk run: on a machine
# shared with other work, throughput moves with whatever else runs, while
# the CPU the server spends per request (its bookkeeping included) does
# not. "round system us_per_request".
cpu_row() { # round system pid ticks_before wrk_output
    awk -v r="$1" -v s="$2" -v t0="$4" -v t1="$(ticks "$3")" -v hz="$HZ" '/requests in/ { n = $1 }
        END { printf "%s\t%s\t%.2f\n", r, s, (n > 0 ? (t1 - t0) * 1e6 / hz / n : 0) }' "$5" >> "$TMP/cpu.tsv"
}
# Instructions the serving process retires per answered request (perf
# stat, when perf may watch the process): unlike time, not inflated by
# other work on the machine. "round system instructions_per_request".
: > "$TMP/insn.tsv"
PERF=""
# (virtual machines often have no hardware counters: "<not supported>")
if command -v perf > /dev/null 2>&1 &&
        perf stat -e instructions -x, -p "$LEVERD_COST" -- sleep 0.2 2>&1 | grep -q '^[0-9][0-9]*,'; then
    PERF=perf
fi
perf_start() { # pid out
    [ -n "$PERF" ] || return 0
    perf stat -e instructions -x, -p "$1" -o "$2" > /dev/null 2>&1 &
    PERF_PID=$!
}
perf_row() { # round system out wrk_output
    [ -n "$PERF" ] || return 0
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    awk -v r="$1" -v s="$2" -F, 'FILENAME == ARGV[1] && $3 ~ /^instructions/ { i = $1 }
        FILENAME == ARGV[2] && /requests in/ { split($0, w, " "); n = w[1] }
        END { printf "%s\t%s\t%.0f\n", r, s, (n > 0 ? i / n : 0) }' "$3" "$4" >> "$TMP/insn.tsv"
}
run() { # round condition
    printf 'GetParameter\t{"Name":"/bench/rollout/p"}\n' | "$LVB" lua --addr "127.0.0.1:$LP" --sign "$SIGN" > "$TMP/get.lua"
    t0=$(ticks "$LEVERD_COST")
    perf_start "$LEVERD_COST" "$TMP/perf-get-$1-$2.txt"
    timeout $((DUR + 30)) wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 5s --latency -s "$TMP/get.lua" "$EP/" \
        > "$TMP/wrk-get-$1-$2.txt" 2>&1
    perf_row "$1" "get-$2" "$TMP/perf-get-$1-$2.txt" "$TMP/wrk-get-$1-$2.txt"
    cpu_row "$1" "get-$2" "$LEVERD_COST" "$t0" "$TMP/wrk-get-$1-$2.txt"
    awk -v r="$1" -v s="get-$2" -v c="$CONNS" -f "$HERE/agent/wrk.awk" "$TMP/wrk-get-$1-$2.txt" >> "$TMP/runs.tsv"
    t0=$(ticks "$AGENT_COST")
    perf_start "$AGENT_COST" "$TMP/perf-agent-$1-$2.txt"
    timeout $((DUR + 30)) wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 5s --latency -H "Entity-Id: user-42" \
        "http://127.0.0.1:$AP$URL" > "$TMP/wrk-agent-$1-$2.txt" 2>&1
    perf_row "$1" "agent-$2" "$TMP/perf-agent-$1-$2.txt" "$TMP/wrk-agent-$1-$2.txt"
    cpu_row "$1" "agent-$2" "$AGENT_COST" "$t0" "$TMP/wrk-agent-$1-$2.txt"
    awk -v r="$1" -v s="agent-$2" -v c="$CONNS" -f "$HERE/agent/wrk.awk" "$TMP/wrk-agent-$1-$2.txt" >> "$TMP/runs.tsv"
    tail -2 "$TMP/runs.tsv" | awk -F'\t' '{printf "bench/rollout: round %s %-11s %9.0f req/s  p99 %7.3f ms  non2xx %s\n", $1, $2, $4, $6, $7}' >&2
    tail -2 "$TMP/cpu.tsv" | awk -F'\t' '{printf "bench/rollout: round %s %-11s %6.2f us CPU per request\n", $1, $2, $3}' >&2
    [ -z "$PERF" ] || tail -2 "$TMP/insn.tsv" |
        awk -F'\t' '{printf "bench/rollout: round %s %-11s %8d instructions per request\n", $1, $2, $3}' >&2
}
condition() { # busy|idle
    # Two rounds meet on the same condition (idle busy | busy idle): the
    # second "busy" keeps the deployments already running.
    if [ "$1" = busy ]; then
        /usr/bin/python3 "$HERE/rollout/busy.py" start "$EP" "$TMP/busy.json" 2>> "$TMP/busy.log"
        # the agent holds both sides of busy0 before its reads are measured
        i=0
        until curl -sf -D - -o /dev/null -H 'Entity-Id: user-42' "http://127.0.0.1:$AP$URL" |
                grep -qi '^x-lever-rollout-percent'; do
            i=$((i + 1)); [ $i -gt 400 ] && { log "busy0 never reached the agent in progress"; break; }
            sleep 0.02
        done
    else
        /usr/bin/python3 "$HERE/rollout/busy.py" stop "$EP" "$TMP/busy.json" 2>> "$TMP/busy.log"
    fi
}
# Warm-up, not reported: the first load on a fresh leverd and agent pays
# for connection set-up, page faults and lazily built state, and used to
# land on whichever condition ran first (always idle with one round: the
# 1.27x "busy faster than idle" of an earlier quick run). Quick runs take
# two rounds, so each condition runs once first and once second.
printf 'GetParameter\t{"Name":"/bench/rollout/p"}\n' | "$LVB" lua --addr "127.0.0.1:$LP" --sign "$SIGN" > "$TMP/get.lua"
timeout $((WARM + 30)) wrk -t2 -c"$CONNS" -d"${WARM}s" --timeout 5s -s "$TMP/get.lua" "$EP/" > /dev/null 2>&1 || true
timeout $((WARM + 30)) wrk -t2 -c"$CONNS" -d"${WARM}s" --timeout 5s -H "Entity-Id: user-42" \
    "http://127.0.0.1:$AP$URL" > /dev/null 2>&1 || true
r=1
while [ $r -le "$ROUNDS" ]; do
    if [ $((r % 2)) -eq 1 ]; then order="idle busy"; else order="busy idle"; fi
    for c in $order; do condition "$c"; run "$r" "$c"; done
    r=$((r + 1))
done
condition idle

DATE=$(date -u '+%Y-%m-%d')
# before the report is opened (writing it would make the tree dirty)
DESC=$(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown)
if [ -z "$OUT" ]; then
    mkdir -p "$HERE/results"
    OUT=$HERE/results/rollout-$DATE$([ "$MODE" = quick ] && echo -quick || true).md
fi
{
    echo "# Gradual deployments ($DATE, $MODE)"
    echo
    echo "- machine: $(nproc) CPU(s), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)"
    echo "- lever: $DESC"
    echo "- load average at the start: $LOAD0 (other work on the machine moves throughput; see CPU per request)"
    if [ "$MODE" = quick ]; then echo "- a quick run (short runs, few agents): indicative only"; fi
    echo
    echo "## A step or a rollback -> $AGENTS agents serving the right content"
    echo
    if [ -s "$TMP/prop.tsv" ]; then
        awk -F'\t' '$1 == "step" || $1 == "rollback" { v[$1, ++n[$1]] = $4; all[++na] = $4 }
            $1 == "stepwall" { sw[++ns] = $3 } $1 == "rollbackwall" { rw[++nr] = $3 }
            function isort(a, k,   i, j, t) { for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
            function pct(a, k, q,   i) { i = int(k * q); if (i < k * q) i++; if (i < 1) i = 1; return a[i] }
            END { for (i = 1; i <= n["step"]; i++) s[i] = v["step", i]; for (i = 1; i <= n["rollback"]; i++) b[i] = v["rollback", i]
                  isort(s, n["step"]); isort(b, n["rollback"]); isort(all, na); isort(sw, ns); isort(rw, nr)
                  if (n["step"]) printf "- steps, per agent, commit -> applied and served (%d samples): p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", n["step"], pct(s, n["step"], 0.5), pct(s, n["step"], 0.99), s[n["step"]]
                  if (n["rollback"]) printf "- rollbacks, per agent (%d samples): p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", n["rollback"], pct(b, n["rollback"], 0.5), pct(b, n["rollback"], 0.99), b[n["rollback"]]
                  if (na) printf "- both: p99 **%.1f ms** (target < 100 ms)\n", pct(all, na, 0.99)
                  if (ns) printf "- per step, the change seen in GetDeployment -> the last agent seen serving the moved entity the new version (sampled): p50 %.1f ms, max %.1f ms\n", pct(sw, ns, 0.5), sw[ns]
                  if (nr) printf "- per rollback, StopDeployment returned -> the last agent seen serving the old version again (sampled): p50 %.1f ms, max %.1f ms\n", pct(rw, nr, 0.5), rw[nr] }' "$TMP/prop.tsv"
    else
        echo "- not measured: $(tail -1 "$TMP/prop.log" 2>/dev/null)"
    fi
    echo
    echo "## Bookkeeping: $BUSY deployments in progress vs none"
    echo
    echo "wrk, $CONNS connections, ${WARM}s of each load first (not reported), ${DUR}s per run, $ROUNDS round(s),"
    echo "order alternating (idle first in odd rounds, busy first in even ones). GetParameter on leverd;"
    echo "the agent reads busy0 (one of the $BUSY, bucketed per request with Entity-Id) and holds all $BUSY."
    echo
    echo "| round | GetParameter idle | busy | ratio | agent idle | busy | ratio |"
    echo "|---|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 { rps[$1, $2] = $4; if ($1 > n) n = $1 }
        END { for (r = 1; r <= n; r++) { gi = rps[r, "get-idle"]; gb = rps[r, "get-busy"]; ai = rps[r, "agent-idle"]; ab = rps[r, "agent-busy"]
              qg = gi > 0 ? gb / gi : 0; qa = ai > 0 ? ab / ai : 0; sg += qg; sa += qa
              printf "| %d | %.0f | %.0f | %.2fx | %.0f | %.0f | %.2fx |\n", r, gi, gb, qg, ai, ab, qa }
              if (n) printf "\nbusy / idle (mean of rounds): GetParameter **%.2fx**, agent **%.2fx** (target >= 0.90x)\n", sg / n, sa / n }' "$TMP/runs.tsv"
    echo
    echo "CPU per request (the serving process's user + system time over the run / requests answered; the"
    echo "bookkeeping of the busy runs, steps and re-validations, included): steadier than throughput on a"
    echo "machine that runs other work."
    echo
    echo "| round | GetParameter idle us | busy us | ratio | agent idle us | busy us | ratio |"
    echo "|---|---|---|---|---|---|---|"
    awk -F'\t' '{ us[$1, $2] = $3; if ($1 > n) n = $1 }
        END { for (r = 1; r <= n; r++) { gi = us[r, "get-idle"]; gb = us[r, "get-busy"]; ai = us[r, "agent-idle"]; ab = us[r, "agent-busy"]
              qg = gi > 0 ? gb / gi : 0; qa = ai > 0 ? ab / ai : 0; sg += qg; sa += qa
              printf "| %d | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx |\n", r, gi, gb, qg, ai, ab, qa }
              if (n) printf "\nCPU per request busy / idle (mean of rounds): GetParameter **%.2fx**, agent **%.2fx** (within 10 %%: <= 1.10x)\n", sg / n, sa / n }' "$TMP/cpu.tsv"
    echo
    if [ -s "$TMP/insn.tsv" ]; then
        echo "Instructions per request (perf stat on the serving process; the busy runs' bookkeeping included):"
        echo "what the work costs, whatever else the machine runs."
        echo
        echo "| round | GetParameter idle | busy | ratio | agent idle | busy | ratio |"
        echo "|---|---|---|---|---|---|---|"
        awk -F'\t' '{ v[$1, $2] = $3; if ($1 > n) n = $1 }
            END { for (r = 1; r <= n; r++) { gi = v[r, "get-idle"]; gb = v[r, "get-busy"]; ai = v[r, "agent-idle"]; ab = v[r, "agent-busy"]
                  qg = gi > 0 ? gb / gi : 0; qa = ai > 0 ? ab / ai : 0; sg += qg; sa += qa
                  printf "| %d | %.0f | %.0f | %.2fx | %.0f | %.0f | %.2fx |\n", r, gi, gb, qg, ai, ab, qa }
                  if (n) printf "\nInstructions per request busy / idle (mean of rounds): GetParameter **%.2fx**, agent **%.2fx** (within 10 %%: <= 1.10x)\n", sg / n, sa / n }' "$TMP/insn.tsv"
    else
        echo "(instructions per request not measured: no perf, no hardware counters (a VM), or perf may not"
        echo "watch the processes)"
    fi
    echo
    echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "Produced by \`sh bench/rollout.sh$([ "$MODE" = quick ] && echo ' --quick' || true)\`."
} > "$OUT"
log "report: $OUT"
cat "$OUT"
