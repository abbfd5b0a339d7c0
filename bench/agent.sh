#!/bin/sh
# bench/agent.sh - lever-agent against direct signed GetParameter calls to
# leverd on the same machine: local GET throughput and p99, with wrk, runs
# interleaved round by round so drift hits both sides, ratios reported in
# bench/results/agent-<date>.md. Standalone; bench/run.sh may call it.
#
#   sh bench/agent.sh [--quick] [--build DIR] [--out FILE] [--conns N] [--duration S] [--rounds N]
#
# Systems measured (one 100-byte String parameter, every request answered 200):
#   agent-prefetch  GET through lever-agent, name under a --prefetch prefix
#   agent-ondemand  GET through lever-agent, name cached on demand (TTL 1 h)
#   leverd          signed AmazonSSM.GetParameter straight to leverd
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${BUILD:-$REPO/build}
OUT=""
DUR=10
ROUNDS=3
CONNS=32
MODE=full

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --quick) MODE=quick; DUR=3; ROUNDS=1 ;;
        --build) BUILD=$2; shift ;;
        --out) OUT=$2; shift ;;
        --conns) CONNS=$2; shift ;;
        --duration) DUR=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        -h|--help) usage 0 ;;
        *) echo "agent.sh: unknown argument $1" >&2; usage 2 ;;
    esac
    shift
done

log() { printf 'bench/agent: %s\n' "$*" >&2; }

for t in wrk curl gcc; do
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

TMP=$(mktemp -d /tmp/lever-bench-agent.XXXXXX)
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
if ! gcc -O2 -std=gnu17 -D_GNU_SOURCE -I"$REPO/src" -o "$LVB" "$HERE/lvbench.c" \
        "$REPO"/src/auth/sigv4*.c "$REPO/src/core/buf.c" "$REPO/src/core/hex.c" "$REPO/src/core/err.c" \
        -lcrypto -lpthread 2> "$TMP/lvbench-build.log"; then
    log "cannot build bench/lvbench.c:"; cat "$TMP/lvbench-build.log" >&2
    exit 0
fi

AK=AKIALVBENCHAGENT0001
SK=lvbenchAgentSecret0123456789abcdefghijkl
SIGN=$AK:$SK:us-east-1
TOKEN=lvbench-agent-token-$$
LP=$("$LVB" port)
AP=$("$LVB" port)

LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK \
    "$BUILD/leverd" --data "$TMP/data" --listen "127.0.0.1:$LP" > "$TMP/leverd.log" 2>&1 &
PIDS="$PIDS $!"
if ! "$LVB" wait --addr "127.0.0.1:$LP" > /dev/null 2>&1; then
    log "leverd did not start:"; tail -5 "$TMP/leverd.log" >&2; exit 1
fi

VAL100=$(printf 'v1-%097d' 0 | tr 0 x)
for n in /lvb/agent/pf/get /lvb/agent/od/get; do
    printf 'PutParameter\t{"Name":"%s","Value":"%s","Type":"String","Overwrite":true}\n' "$n" "$VAL100" |
        "$LVB" send --addr "127.0.0.1:$LP" --sign "$SIGN" > /dev/null
done

AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SESSION_TOKEN=$TOKEN \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null LEVER_AGENT_LOG_LEVEL=warn \
    "$BUILD/lever-agent" --upstream "http://127.0.0.1:$LP" --listen "127.0.0.1:$AP" \
    --prefetch /lvb/agent/pf --ttl 1h > "$TMP/agent.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until curl -sf "http://127.0.0.1:$AP/healthz" 2>/dev/null | grep -q '"watching":true'; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then log "lever-agent did not start:"; tail -5 "$TMP/agent.log" >&2; exit 1; fi
    sleep 0.05
done
for n in pf od; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Aws-Parameters-Secrets-Token: $TOKEN" \
        "http://127.0.0.1:$AP/systemsmanager/parameters/get?name=/lvb/agent/$n/get")
    [ "$code" = 200 ] || { log "agent answered $code for /lvb/agent/$n/get"; exit 1; }
done

printf 'round\tsystem\tconns\trps\tp50_ms\tp99_ms\tnon2xx\tsockerr\trequests\n' > "$TMP/runs.tsv"

# run ROUND SYSTEM: one wrk run, one line in runs.tsv.
run() {
    out=$TMP/wrk-$1-$2.txt
    t=2; [ "$CONNS" -lt 2 ] && t=1
    case $2 in
        agent-prefetch|agent-ondemand)
            n=pf; [ "$2" = agent-ondemand ] && n=od
            timeout $((DUR + 30)) wrk -t$t -c"$CONNS" -d"${DUR}s" --timeout 5s --latency \
                -H "X-Aws-Parameters-Secrets-Token: $TOKEN" \
                "http://127.0.0.1:$AP/systemsmanager/parameters/get?name=/lvb/agent/$n/get" > "$out" 2>&1 ;;
        leverd)
            # signed now, so every run replays inside the 15-minute window
            printf 'GetParameter\t{"Name":"/lvb/agent/od/get"}\n' |
                "$LVB" lua --addr "127.0.0.1:$LP" --sign "$SIGN" > "$TMP/get.lua"
            timeout $((DUR + 30)) wrk -t$t -c"$CONNS" -d"${DUR}s" --timeout 5s --latency \
                -s "$TMP/get.lua" "http://127.0.0.1:$LP/" > "$out" 2>&1 ;;
    esac
    awk -v r="$1" -v s="$2" -v c="$CONNS" -f "$HERE/agent/wrk.awk" "$out" >> "$TMP/runs.tsv"
    tail -1 "$TMP/runs.tsv" | awk -F'\t' '{printf "bench/agent: round %s %-15s %9.0f req/s  p99 %7.3f ms  non2xx %s  sockerr %s\n", $1, $2, $4, $6, $7, $8}' >&2
    sleep 0.5
}

log "$MODE run: $ROUNDS round(s) of ${DUR}s per system, $CONNS connections"
r=1
while [ $r -le "$ROUNDS" ]; do
    # alternate the order so neither side always runs on a warmer machine
    if [ $((r % 2)) -eq 1 ]; then order="agent-prefetch leverd agent-ondemand"
    else order="leverd agent-ondemand agent-prefetch"; fi
    for s in $order; do run "$r" "$s"; done
    r=$((r + 1))
done

DATE=$(date -u '+%Y-%m-%d')
if [ -z "$OUT" ]; then
    mkdir -p "$HERE/results"
    OUT=$HERE/results/agent-$DATE$([ "$MODE" = quick ] && echo -quick || true).md
fi
{
    echo "# lever-agent vs direct GetParameter ($DATE, $MODE)"
    echo
    echo "- machine: $(nproc) CPU(s), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)"
    echo "- lever: $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown); $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
    echo "- wrk: $CONNS connections, ${DUR}s per run, $ROUNDS round(s), systems interleaved (order alternates per round)"
    echo "- one 100-byte String parameter; agent requests carry the token header; leverd requests are"
    echo "  SigV4-signed AmazonSSM.GetParameter (signature verified on every request)"
    echo "- agent and leverd run on the same machine as wrk: the figures compare, they are not absolute"
    echo
    awk -F'\t' -f "$HERE/agent/report.awk" "$TMP/runs.tsv"
    echo
    echo "Produced by \`sh bench/agent.sh$([ "$MODE" = quick ] && echo ' --quick' || true)\`."
} > "$OUT"
log "report: $OUT"
cat "$OUT"
