#!/bin/sh
# bench/appconfig.sh - lever-agent's AppConfig Agent API: a cached
# configuration read on :2772 against nginx serving the same bytes (wrk,
# interleaved rounds, ratio); AppConfig Data polling (GetLatestConfiguration,
# one session per connection, each poll with the token the last one gave)
# against nginx answering the same headers, driven by the same client; and
# deployment -> 100 agents serving the new content (p99 of each agent's
# commit-to-serve delay, and the wall time until the last agent served it).
# Report: bench/results/appconfig-<date>.md.
# Standalone; bench/run.sh calls it.
#
#   sh bench/appconfig.sh [--quick] [--build DIR] [--out FILE] [--agents N] [--deployments N]
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${BUILD:-$REPO/build}
OUT=""
DUR=10
ROUNDS=3
CONNS=32
AGENTS=100
DEPS=20
MODE=full

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --quick) MODE=quick; DUR=3; ROUNDS=1; DEPS=5 ;;
        --build) BUILD=$2; shift ;;
        --out) OUT=$2; shift ;;
        --agents) AGENTS=$2; shift ;;
        --deployments) DEPS=$2; shift ;;
        -h|--help) usage 0 ;;
        *) echo "appconfig.sh: unknown argument $1" >&2; usage 2 ;;
    esac
    shift
done

log() { printf 'bench/appconfig: %s\n' "$*" >&2; }

for t in wrk curl nginx gcc /usr/bin/python3; do
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

TMP=$(mktemp -d /tmp/lever-bench-appconfig.XXXXXX)
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

AK=AKIALVBENCHAPPCFG001
SK=lvbenchAppConfigSecret0123456789abcdefgh
LP=$("$LVB" port)
AP=$("$LVB" port)
NP=$("$LVB" port)

LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK LEVER_TIME_SCALE=1000000 \
    "$BUILD/leverd" --data "$TMP/data" --listen "127.0.0.1:$LP" > "$TMP/leverd.log" 2>&1 &
PIDS="$PIDS $!"
if ! "$LVB" wait --addr "127.0.0.1:$LP" > /dev/null 2>&1; then
    log "leverd did not start:"; tail -5 "$TMP/leverd.log" >&2; exit 1
fi

# a 1 KiB JSON configuration, the size of a typical settings document
/usr/bin/python3 -c 'import json; print(json.dumps({"users": [{"username": "user%03d" % i} for i in range(40)]}), end="")' > "$TMP/body.json"
if ! AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK /usr/bin/python3 "$HERE/appconfig/setup.py" \
        "http://127.0.0.1:$LP" lvb lvbenv lvbprof "$TMP/body.json" > "$TMP/ids" 2> "$TMP/setup.log"; then
    log "leverd did not take the AppConfig setup (no AppConfig control plane?); nothing measured:"
    tail -3 "$TMP/setup.log" >&2
    exit 0
fi
read -r AID EID PID < "$TMP/ids"

AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SHARED_CREDENTIALS_FILE=/dev/null LEVER_AGENT_LOG_LEVEL=warn \
    "$BUILD/lever-agent" --upstream "http://127.0.0.1:$LP" --appconfig-listen "127.0.0.1:$AP" \
    --appconfig-prefetch lvb:lvbenv:lvbprof > "$TMP/agent.log" 2>&1 &
PIDS="$PIDS $!"
URL=/applications/lvb/environments/lvbenv/configurations/lvbprof
i=0
until curl -sf "http://127.0.0.1:$AP/healthz" 2>/dev/null | grep -q '"watching":true'; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then log "lever-agent did not start:"; tail -5 "$TMP/agent.log" >&2; exit 1; fi
    sleep 0.05
done
curl -sf "http://127.0.0.1:$AP$URL" > "$TMP/served" || { log "agent did not serve the configuration"; exit 1; }
cmp -s "$TMP/served" "$TMP/body.json" || { log "agent served other bytes"; exit 1; }

# a token of the length leverd hands out, for nginx's stand-in answers
REFTOK=lv2_$(head -c 126 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')

# nginx: a worker per CPU (the agent has an HTTP thread per CPU), the same
# bytes and the same two headers
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
        location = $URL {
            default_type application/json;
            add_header Configuration-Version 1;
            alias $TMP/body.json;
        }
        location = /configuration {
            default_type application/octet-stream;
            add_header x-amzn-RequestId a2ff2a39-84a6-4155-ad78-99d70a294c85;
            add_header Next-Poll-Configuration-Token $REFTOK;
            add_header Next-Poll-Interval-In-Seconds 15;
            return 200 "";
        }
    }
}
NGX
nginx -p "$ND" -e "$ND/error.log" -c "$ND/nginx.conf" > "$ND/stdout.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$NP$URL"; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then log "nginx did not start:"; tail -3 "$ND/error.log" >&2; exit 1; fi
    sleep 0.05
done

printf 'round\tsystem\tconns\trps\tp50_ms\tp99_ms\tnon2xx\tsockerr\trequests\n' > "$TMP/runs.tsv"
run() {
    out=$TMP/wrk-$1-$2.txt
    port=$AP; [ "$2" = nginx ] && port=$NP
    timeout $((DUR + 30)) wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 5s --latency "http://127.0.0.1:$port$URL" > "$out" 2>&1
    awk -v r="$1" -v s="$2" -v c="$CONNS" -f "$HERE/agent/wrk.awk" "$out" >> "$TMP/runs.tsv"
    tail -1 "$TMP/runs.tsv" | awk -F'\t' '{printf "bench/appconfig: round %s %-8s %9.0f req/s  p99 %7.3f ms  non2xx %s\n", $1, $2, $4, $6, $7}' >&2
    sleep 0.5
}
log "$MODE run: $ROUNDS round(s) of ${DUR}s, $CONNS connections; then $AGENTS agents x $DEPS deployments"
r=1
while [ $r -le "$ROUNDS" ]; do
    if [ $((r % 2)) -eq 1 ]; then order="agent nginx"; else order="nginx agent"; fi
    for s in $order; do run "$r" "$s"; done
    r=$((r + 1))
done

# AppConfig Data: GetLatestConfiguration polls, same client for both
printf 'round\tsystem\tconns\tpolls\terrors\tseconds\tp50_ms\tp99_ms\n' > "$TMP/polls.tsv"
poll() {
    port=$LP; extra="--profile lvb:lvbenv:lvbprof"
    [ "$2" = nginx ] && { port=$NP; extra=--reference; }
    # shellcheck disable=SC2086
    line=$("$LVB" poll --addr "127.0.0.1:$port" --sign "$AK:$SK:us-east-1" $extra --conns "$CONNS" \
        --time-limit "$DUR" 2> "$TMP/poll-$1-$2.err") || log "poll $2: $(head -c 300 "$TMP/poll-$1-$2.err")"
    set -- "$1" "$2" $line
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$CONNS" "${3:-0}" "${4:-0}" "${5:-1}" "${6:-0}" "${7:-0}" >> "$TMP/polls.tsv"
    tail -1 "$TMP/polls.tsv" | awk -F'\t' '{printf "bench/appconfig: poll round %s %-8s %9.0f polls/s  p99 %7.3f ms  errors %s\n", $1, $2, $4 / $6, $8, $5}' >&2
}
r=1
while [ $r -le "$ROUNDS" ]; do
    if [ $((r % 2)) -eq 1 ]; then order="leverd nginx"; else order="nginx leverd"; fi
    for s in $order; do poll "$r" "$s"; done
    r=$((r + 1))
done

# propagation: stop the read benchmark's agent and nginx first (the cores)
AWS_ACCESS_KEY_ID= /usr/bin/python3 "$HERE/appconfig/prop.py" "$BUILD" "http://127.0.0.1:$LP" "$AK" "$SK" \
    lvb lvbenv lvbprof "$AID" "$EID" "$PID" "$AGENTS" "$DEPS" "$TMP" > "$TMP/prop.tsv" 2> "$TMP/prop.log" ||
    log "propagation run failed: $(tail -2 "$TMP/prop.log" | tr '\n' ' ')"

DATE=$(date -u '+%Y-%m-%d')
if [ -z "$OUT" ]; then
    mkdir -p "$HERE/results"
    OUT=$HERE/results/appconfig-$DATE$([ "$MODE" = quick ] && echo -quick || true).md
fi
{
    echo "# lever-agent AppConfig API ($DATE, $MODE)"
    echo
    echo "- machine: $(nproc) CPU(s), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)"
    echo "- lever: $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown); $(nginx -v 2>&1 | sed 's/.*version: //')"
    echo "- reads: wrk, $CONNS connections, ${DUR}s per run, $ROUNDS round(s), order alternating; a $(wc -c < "$TMP/body.json")-byte"
    echo "  JSON configuration prefetched by the agent; nginx (a worker per CPU, as the agent has a thread per CPU)"
    echo "  serves the same file with the same headers"
    echo
    echo "| round | agent req/s | nginx req/s | ratio | agent p99 ms | nginx p99 ms |"
    echo "|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 { rps[$1, $2] = $4; p99[$1, $2] = $6; if ($1 > n) n = $1 }
        END { for (r = 1; r <= n; r++) { a = rps[r, "agent"]; g = rps[r, "nginx"]; q = 0; if (g > 0) q = a / g
              printf "| %d | %.0f | %.0f | %.2fx | %.3f | %.3f |\n", r, a, g, q, p99[r, "agent"], p99[r, "nginx"]
              s += q }
              if (n) printf "\nagent / nginx (mean of rounds): **%.2fx** (target >= 0.8x)\n", s / n }' "$TMP/runs.tsv"
    echo
    echo "## AppConfig Data: GetLatestConfiguration"
    echo
    echo "bench/lvbench poll: $CONNS connections, one session each, every poll signed (SigV4) and carrying the token the"
    echo "previous answer gave; leverd at LEVER_TIME_SCALE=1000000 so the 15 s minimum interval does not throttle."
    echo "The configuration is unchanged after the first poll (empty answers, as most polls are). nginx answers"
    echo "the same headers (a token of the same length) to the same client."
    echo
    echo "| round | leverd polls/s | nginx polls/s | ratio | leverd p99 ms | nginx p99 ms |"
    echo "|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 { rps[$1, $2] = $6 > 0 ? $4 / $6 : 0; p99[$1, $2] = $8; if ($1 > n) n = $1 }
        END { for (r = 1; r <= n; r++) { a = rps[r, "leverd"]; g = rps[r, "nginx"]; q = 0; if (g > 0) q = a / g
              printf "| %d | %.0f | %.0f | %.2fx | %.3f | %.3f |\n", r, a, g, q, p99[r, "leverd"], p99[r, "nginx"]
              s += q }
              if (n) printf "\nleverd / nginx (mean of rounds): **%.2fx** (target >= 0.5x)\n", s / n }' "$TMP/polls.tsv"
    echo
    echo "## Deployment -> $AGENTS agents serving the new content"
    echo
    if [ -s "$TMP/prop.tsv" ]; then
        awk -F'\t' '$1 == "lag" { v[++n] = $4 } $1 == "all" { w[++m] = $3 }
            function isort(a, k,   i, j, t) { for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
            END { isort(v, n); isort(w, m)
                  k = int(n * 0.99); if (k < n * 0.99) k++; if (k < 1) k = 1
                  if (n) printf "- per agent, commit of the deployment change -> new content stored and served (the agent'"'"'s own clock, %d samples): p50 %.1f ms, p99 **%.1f ms** (target < 50 ms), max %.1f ms\n", n, v[int(n * 0.5) + 1], v[k], v[n]
                  if (m) printf "- per deployment, StartDeployment returned -> the last agent seen serving it (sampled by one prober sweeping the agents every 10 ms, over %d deployments): p50 %.1f ms, max %.1f ms\n", m, w[int(m * 0.5) + 1], w[m] }' "$TMP/prop.tsv"
    else
        echo "- not measured: $(tail -1 "$TMP/prop.log" 2>/dev/null)"
    fi
    echo "- AWS's agent polls every 45 s by default (POLL_INTERVAL)"
    echo
    echo "Produced by \`sh bench/appconfig.sh$([ "$MODE" = quick ] && echo ' --quick' || true)\`."
} > "$OUT"
log "report: $OUT"
cat "$OUT"
