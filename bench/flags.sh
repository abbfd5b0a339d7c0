#!/bin/sh
# bench/flags.sh - feature flags: in-process evaluation with liblever (ns per
# evaluation of a flag with 10 variants, bench/flags/flagbench.c), and
# lever-agent's ?flag= with a Context header and OFREP single evaluation,
# each against nginx serving the same bytes (wrk, interleaved rounds,
# ratios). Report: bench/results/flags-<date>[-quick].md. Standalone;
# bench/run.sh calls it.
#
#   sh bench/flags.sh [--quick] [--build DIR] [--out FILE] [--duration S] [--rounds N] [--iterations N]
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${BUILD:-$REPO/build}
OUT=""
DUR=10
ROUNDS=3
CONNS=32
ITERS=2000000
MODE=full

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --quick) MODE=quick; DUR=3; ROUNDS=1; ITERS=200000 ;;
        --build) BUILD=$2; shift ;;
        --out) OUT=$2; shift ;;
        --duration) DUR=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --iterations) ITERS=$2; shift ;;
        -h|--help) usage 0 ;;
        *) echo "flags.sh: unknown argument $1" >&2; usage 2 ;;
    esac
    shift
done

log() { printf 'bench/flags: %s\n' "$*" >&2; }

for t in wrk curl nginx gcc pkg-config /usr/bin/python3; do
    if ! command -v $t > /dev/null 2>&1; then
        log "$t is missing (run: sh scripts/deps.sh bench); nothing measured"
        exit 0
    fi
done
for b in leverd lever-agent lever.pc; do
    if [ ! -e "$BUILD/$b" ]; then
        log "$BUILD/$b not found (build with make, or pass --build DIR); nothing measured"
        exit 0
    fi
done

TMP=$(mktemp -d /tmp/lever-bench-flags.XXXXXX)
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
        -lcrypto -lpthread 2> "$TMP/build.log"; then
    log "cannot build bench/lvbench.c:"; cat "$TMP/build.log" >&2
    exit 0
fi
# the micro-benchmark links the built liblever.so like any program would
# shellcheck disable=SC2046
if ! gcc -O2 -std=gnu17 -o "$TMP/flagbench" "$HERE/flags/flagbench.c" \
        $(PKG_CONFIG_PATH=$BUILD pkg-config --cflags --libs lever) 2> "$TMP/build.log"; then
    log "cannot build bench/flags/flagbench.c:"; cat "$TMP/build.log" >&2
    exit 0
fi

AK=AKIALVBENCHFLAGS0001
SK=lvbenchFlagsSecret0123456789abcdefghijkl
LP=$("$LVB" port)
AP=$("$LVB" port)
NP=$("$LVB" port)

LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK LEVER_TIME_SCALE=600 \
    "$BUILD/leverd" --data "$TMP/data" --listen "127.0.0.1:$LP" > "$TMP/leverd.log" 2>&1 &
PIDS="$PIDS $!"
if ! "$LVB" wait --addr "127.0.0.1:$LP" > /dev/null 2>&1; then
    log "leverd did not start:"; tail -5 "$TMP/leverd.log" >&2; exit 1
fi
if ! AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK /usr/bin/python3 "$HERE/flags/setup.py" \
        "http://127.0.0.1:$LP" lvbf lvbfenv lvbflags "$TMP/doc.json" > "$TMP/ids" 2> "$TMP/setup.log"; then
    log "leverd did not take the flag profile; nothing measured:"; tail -3 "$TMP/setup.log" >&2
    exit 0
fi

# ---- in-process evaluation ------------------------------------------------
log "in-process evaluation: $ITERS evaluations per case"
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    LEVER_ENDPOINT="http://127.0.0.1:$LP" "$TMP/flagbench" "$TMP/doc.json" "$ITERS" lvbf lvbfenv lvbflags \
    > "$TMP/micro.tsv" 2> "$TMP/micro.log" || log "flagbench failed: $(tail -2 "$TMP/micro.log" | tr '\n' ' ')"

# ---- agent vs nginx -------------------------------------------------------
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SHARED_CREDENTIALS_FILE=/dev/null LEVER_AGENT_LOG_LEVEL=warn \
    "$BUILD/lever-agent" --upstream "http://127.0.0.1:$LP" --appconfig-listen "127.0.0.1:$AP" \
    --appconfig-prefetch lvbf:lvbfenv:lvbflags > "$TMP/agent.log" 2>&1 &
PIDS="$PIDS $!"
BASE=/applications/lvbf/environments/lvbfenv/configurations/lvbflags
i=0
until curl -sf "http://127.0.0.1:$AP/healthz" 2>/dev/null | grep -q '"watching":true'; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then log "lever-agent did not start:"; tail -5 "$TMP/agent.log" >&2; exit 1; fi
    sleep 0.05
done
# the context that walks every rule to the default variant (the dearest)
CTX_H="Context: plan=free"
CTX_H2="Context: email=a@example.com"
CTX_H3="Context: country=NZ"
CTX_H4="Context: age=40"
ENT_H="Entity-Id: user-123456"
OFREP_BODY='{"context":{"targetingKey":"user-123456","plan":"free","email":"a@example.com","country":"NZ","age":"40"}}'
curl -sf -H "$CTX_H" -H "$CTX_H2" -H "$CTX_H3" -H "$CTX_H4" -H "$ENT_H" \
    "http://127.0.0.1:$AP$BASE?flag=checkout" > "$TMP/flag.json" || { log "agent did not answer ?flag="; exit 1; }
curl -sf -X POST -H 'Content-Type: application/json' -d "$OFREP_BODY" \
    "http://127.0.0.1:$AP$BASE/ofrep/v1/evaluate/flags/checkout" > "$TMP/ofrep.json" ||
    { log "agent did not answer OFREP"; exit 1; }
grep -q '"_variant":"default"' "$TMP/flag.json" || { log "?flag= answered $(cat "$TMP/flag.json")"; exit 1; }
grep -q '"variant":"default"' "$TMP/ofrep.json" || { log "OFREP answered $(cat "$TMP/ofrep.json")"; exit 1; }
log "?flag= answer: $(cat "$TMP/flag.json")"
log "OFREP answer: $(cat "$TMP/ofrep.json")"

# nginx: a worker per CPU (the agent has an HTTP thread per CPU), the same
# bytes; `return` answers POST as well as GET
ND=$TMP/nginx; mkdir -p "$ND/tmp"
NGX_USER=""; [ "$(id -u)" = 0 ] && NGX_USER="user root;"
cat > "$ND/nginx.conf" <<NGX
worker_processes auto;
$NGX_USER
daemon off;
pid $ND/nginx.pid;
error_log $ND/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $ND/tmp/body;
    proxy_temp_path $ND/tmp/proxy;
    fastcgi_temp_path $ND/tmp/fastcgi;
    uwsgi_temp_path $ND/tmp/uwsgi;
    scgi_temp_path $ND/tmp/scgi;
    server {
        listen 127.0.0.1:$NP;
        location = $BASE {
            default_type application/json;
            add_header Configuration-Version 1;
            return 200 '$(cat "$TMP/flag.json")';
        }
        location = $BASE/ofrep/v1/evaluate/flags/checkout {
            default_type application/json;
            return 200 '$(cat "$TMP/ofrep.json")';
        }
    }
}
NGX
nginx -p "$ND" -e "$ND/error.log" -c "$ND/nginx.conf" > "$ND/stdout.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$NP$BASE?flag=checkout"; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then log "nginx did not start:"; tail -3 "$ND/error.log" >&2; exit 1; fi
    sleep 0.05
done
curl -sf "http://127.0.0.1:$NP$BASE?flag=checkout" -o "$TMP/ngx-flag.json"
curl -sf -X POST -d "$OFREP_BODY" "http://127.0.0.1:$NP$BASE/ofrep/v1/evaluate/flags/checkout" -o "$TMP/ngx-ofrep.json"
{ cmp -s "$TMP/flag.json" "$TMP/ngx-flag.json" && cmp -s "$TMP/ofrep.json" "$TMP/ngx-ofrep.json"; } ||
    { log "nginx serves other bytes than the agent"; exit 1; }

cat > "$TMP/ofrep.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$OFREP_BODY'
LUA

printf 'round\tsystem\tconns\trps\tp50_ms\tp99_ms\tnon2xx\tsockerr\trequests\n' > "$TMP/runs.tsv"
run() {
    out=$TMP/wrk-$1-$2.txt
    case $2 in
        agent-flag|nginx-flag)
            port=$AP; [ "$2" = nginx-flag ] && port=$NP
            timeout $((DUR + 30)) wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 5s --latency \
                -H "$CTX_H" -H "$CTX_H2" -H "$CTX_H3" -H "$CTX_H4" -H "$ENT_H" \
                "http://127.0.0.1:$port$BASE?flag=checkout" > "$out" 2>&1 ;;
        agent-ofrep|nginx-ofrep)
            port=$AP; [ "$2" = nginx-ofrep ] && port=$NP
            timeout $((DUR + 30)) wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 5s --latency -s "$TMP/ofrep.lua" \
                "http://127.0.0.1:$port$BASE/ofrep/v1/evaluate/flags/checkout" > "$out" 2>&1 ;;
    esac
    awk -v r="$1" -v s="$2" -v c="$CONNS" -f "$HERE/agent/wrk.awk" "$out" >> "$TMP/runs.tsv"
    tail -1 "$TMP/runs.tsv" | awk -F'\t' '{printf "bench/flags: round %s %-12s %9.0f req/s  p99 %7.3f ms  non2xx %s\n", $1, $2, $4, $6, $7}' >&2
    sleep 0.5
}
log "$MODE run: $ROUNDS round(s) of ${DUR}s, $CONNS connections"
r=1
while [ $r -le "$ROUNDS" ]; do
    if [ $((r % 2)) -eq 1 ]; then order="agent-flag nginx-flag agent-ofrep nginx-ofrep"
    else order="nginx-ofrep agent-ofrep nginx-flag agent-flag"; fi
    for s in $order; do run "$r" "$s"; done
    r=$((r + 1))
done

DATE=$(date -u '+%Y-%m-%d')
if [ -z "$OUT" ]; then
    mkdir -p "$HERE/results"
    OUT=$HERE/results/flags-$DATE$([ "$MODE" = quick ] && echo -quick || true).md
fi
{
    echo "# Feature flags: in-process evaluation, lever-agent ?flag= and OFREP ($DATE, $MODE)"
    echo
    echo "- machine: $(nproc) CPU(s), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- lever: $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown); $(nginx -v 2>&1 | sed 's/.*version: //')"
    echo "- document: a flag \`checkout\` with 10 variants (rules: eq, begins_with, ends_with, exists, in, gte,"
    echo "  matches, and, split; then the default) and 20 plain flags (bench/flags/setup.py)"
    echo
    echo "## In-process evaluation (liblever, one thread)"
    echo
    echo "$ITERS evaluations per line through the public API (\`lever_flag_enabled\`, \`lever_flag_int\`),"
    echo "the environment layer off. CPU time is the thread's own (the figure to read on a shared"
    echo "machine); wall time also counts the time other processes held the core."
    echo
    echo "| source | context stops at | accessor | CPU ns / evaluation | wall ns / evaluation |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s (%s) | %s | %.0f | %.0f |\n", $1, $2, $7, $3, $5, $6
                  if ($5 > worst) worst = $5 }
        END { if (NR) printf "\nworst CPU time per evaluation: **%.0f ns** (target < 1000 ns)\n", worst }' "$TMP/micro.tsv"
    echo
    echo "## lever-agent vs nginx serving the same bytes"
    echo
    echo "- wrk, $CONNS connections, ${DUR}s per run, $ROUNDS round(s), order alternating; the agent evaluates"
    echo "  for four Context headers and an Entity-Id that walk every rule to the default variant"
    echo "  (\`?flag=checkout\`: $(wc -c < "$TMP/flag.json") bytes; OFREP POST .../ofrep/v1/evaluate/flags/checkout: $(wc -c < "$TMP/ofrep.json") bytes);"
    echo "  nginx (a worker per CPU) answers the agent's bytes with \`return 200\`"
    echo
    echo "| round | agent ?flag= req/s | nginx req/s | ratio | agent OFREP req/s | nginx req/s | ratio |"
    echo "|---|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 { rps[$1, $2] = $4; if ($1 > n) n = $1 }
        END { for (r = 1; r <= n; r++) {
                a = rps[r, "agent-flag"]; g = rps[r, "nginx-flag"]; q = g > 0 ? a / g : 0
                b = rps[r, "agent-ofrep"]; h = rps[r, "nginx-ofrep"]; w = h > 0 ? b / h : 0
                printf "| %d | %.0f | %.0f | %.2fx | %.0f | %.0f | %.2fx |\n", r, a, g, q, b, h, w
                s += q; t += w }
              if (n) printf "\n?flag= / nginx (mean of rounds): **%.2fx** (target >= 0.6x); OFREP / nginx: **%.2fx** (target >= 0.5x)\n", s / n, t / n }' "$TMP/runs.tsv"
    echo
    echo "Produced by \`sh bench/flags.sh$([ "$MODE" = quick ] && echo ' --quick' || true)\`."
} > "$OUT"
log "report: $OUT"
cat "$OUT"
