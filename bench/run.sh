#!/bin/sh
# bench/run.sh - `make bench`: runs leverd side by side with nginx, etcd and
# moto on loopback and writes bench/results/<date>.md with PNG charts.
#
#   sh bench/run.sh [--quick]
#
# Benchmarks report; they never fail the build: this script exits 0 unless
# it is interrupted. See docs/benchmarks.md for what each workload measures.
set -u

QUICK=0
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $a" >&2; exit 2 ;;
    esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${LEVER_BUILD_DIR:-$REPO/build}
LEVERD=${LEVERD:-$BUILD/leverd}
RESULTS=${LEVER_BENCH_RESULTS:-$HERE/results}
MOTO=${MOTO_SERVER:-/root/.pyenv/versions/3.11.7/bin/moto_server}
[ -x "$MOTO" ] || MOTO=$(command -v moto_server 2>/dev/null || true)

AK=AKIALEVERBENCH000001
SK=leverBenchSecretKey/0123456789abcdefghijk
REGION=us-east-1
SIGN="$AK:$SK:$REGION"

if [ "$QUICK" = 1 ]; then
    DUR=3; ROUNDS=1; MEM_N=100000; TREE_N=100000
    MEM_LIMIT=30; TREE_LIMIT=30; MODE=quick
else
    DUR=8; ROUNDS=3; MEM_N=1000000; TREE_N=100000
    MEM_LIMIT=360; TREE_LIMIT=120; MODE=full
fi
DUR=${LEVER_BENCH_DURATION:-$DUR}
ROUNDS=${LEVER_BENCH_ROUNDS:-$ROUNDS}
MEM_N=${LEVER_BENCH_MEM_N:-$MEM_N}
LOAD_CONNS=64

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lever-bench.XXXXXX")
PIDS=""
T_START=$(date +%s)

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
note() { printf -- '- %s\n' "$*" >> "$TMP/notes.md"; log "note: $*"; }
meta() { printf '%s\t%s\n' "$1" "$2" >> "$TMP/meta.tsv"; }

cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null
    done
    [ -n "${KEEP_TMP:-}" ] && { log "kept $TMP"; return; }
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

: > "$TMP/notes.md"; : > "$TMP/meta.tsv"
printf 'round\tworkload\tsystem\tconns\trps\tp50_ms\tp99_ms\tnon2xx\tsockerr\trequests\tplacement\n' > "$TMP/runs.tsv"

# Placement. "pinned" (the headline): the server under test on one CPU,
# wrk with one thread on another, so neither steals the other's core.
# "unpinned": both anywhere, wrk with two threads (the old set-up; wrk then
# competes with the server and the ratio says less about the server).
SRV_CPU=${LEVER_BENCH_SERVER_CPU:-0}
GEN_CPU=${LEVER_BENCH_CLIENT_CPU:-1}
ALL_CPUS=$(taskset -pc $$ 2>/dev/null | sed 's/.*: //')
PLACEMENTS=${LEVER_BENCH_PLACEMENTS:-pinned unpinned}
# Which of the benchmarks after the server runs to run (all by default;
# "none" for the server runs alone).
PARTS=${LEVER_BENCH_PARTS:-client agent appconfig console flags rollout multinode}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# Starts a background process; its pid lands in $LAST_PID and in PIDS.
start_bg() {
    logf=$1; shift
    "$@" > "$logf" 2>&1 &
    LAST_PID=$!
    PIDS="$PIDS $LAST_PID"
}

# place PLACEMENT PID: every thread of PID and of its children (nginx's
# worker) on the server CPU (pinned) or on every CPU (unpinned).
place() {
    local cpus q
    cpus=$ALL_CPUS; [ "$1" = pinned ] && cpus=$SRV_CPU
    for q in $2 $(pgrep -P "$2" 2>/dev/null); do
        taskset -a -pc "$cpus" "$q" > /dev/null 2>&1
    done
}

# Stops one process we started (TERM, then KILL after 10 s).
stop_pid() {
    local p i np q
    p=$1; kill -TERM "$p" 2>/dev/null
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    np=""; for q in $PIDS; do [ "$q" = "$p" ] || np="$np $q"; done; PIDS=$np
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- tools ---------------------------------------------------------------

for t in wrk curl gcc taskset; do
    if ! command -v $t > /dev/null 2>&1; then
        log "$t is missing (run: sh scripts/deps.sh bench); nothing measured"
        exit 0
    fi
done
if ! taskset -c "$SRV_CPU,$GEN_CPU" true 2> /dev/null || [ "$SRV_CPU" = "$GEN_CPU" ]; then
    note "CPUs $SRV_CPU and $GEN_CPU are not two usable CPUs: no pinned runs"
    PLACEMENTS=unpinned
fi
LVB=$TMP/lvbench
if ! gcc -O2 -std=gnu17 -D_GNU_SOURCE -I"$REPO/src" -o "$LVB" "$HERE/lvbench.c" \
        "$REPO"/src/auth/sigv4*.c "$REPO/src/core/buf.c" "$REPO/src/core/hex.c" "$REPO/src/core/err.c" \
        -lcrypto -lpthread 2> "$TMP/lvbench-build.log"; then
    log "cannot build bench/lvbench.c:"; cat "$TMP/lvbench-build.log" >&2
    exit 0
fi
port() { "$LVB" port; }

# ---- machine -------------------------------------------------------------

meta mode "$MODE (wrk ${DUR}s per run, $ROUNDS round(s))"
meta placement "pinned: server on CPU $SRV_CPU, wrk -t1 on CPU $GEN_CPU; unpinned: both on CPUs $ALL_CPUS, wrk -t2"
meta load_before "$(cut -d' ' -f1-3 /proc/loadavg) (load average when the run started)"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta nproc "$(nproc)"
meta kernel "$(uname -sr)"
meta cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
meta memory "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
meta lever "$(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown)"
meta wrk "$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
meta nginx "$(nginx -v 2>&1 | sed 's/.*version: //')"
meta etcd "$(etcd --version 2>/dev/null | head -1 | sed 's/.*Version: //')"
meta sqlite "$(sqlite3 --version 2>/dev/null | awk '{print $1}' || true)"
[ -n "$MOTO" ] && meta moto "$("$(dirname "$MOTO")/python" -c 'import moto; print(moto.__version__)' 2>/dev/null || echo present)"

VAL100=$(printf 'v1-%097d' 0 | tr 0 x)   # a 100-byte value

# ---- leverd --------------------------------------------------------------

LEVER_OK=0
if [ -x "$LEVERD" ]; then
    LEVER_OK=1
else
    note "leverd not found at $LEVERD: lever was not measured (build it with make)"
fi

# start_leverd DATA_DIR PORT LOGFILE: starts leverd, sets LEVER_PID and
# HEALTH_MS (ms from exec to /healthz 200); returns 1 if it never got healthy.
# $LAUNCH, when set, prefixes the command (taskset for the pinned leverd).
start_leverd() {
    local sd sp sl
    sd=$1 sp=$2 sl=$3; shift 3
    LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK \
        start_bg "$sl" ${LAUNCH:-} "$LEVERD" --data "$sd" --listen "127.0.0.1:$sp" "$@"
    LEVER_PID=$LAST_PID
    HEALTH_MS=$("$LVB" wait --addr "127.0.0.1:$sp" --path /healthz --time-limit 120) || {
        note "leverd did not answer /healthz within 120 s (log: $(tail -3 "$sl" | tr '\n' ' '))"
        stop_pid "$LEVER_PID"; return 1; }
    return 0
}

# lever_send PORT LINE: one signed request; the response body on stdout.
lever_send() { printf '%s\n' "$2" | "$LVB" send --addr "127.0.0.1:$1" --sign "$SIGN"; }

# load PORT FMT GROUP COUNT LIMIT: bulk PutParameter; prints "loaded errors seconds".
load() {
    "$LVB" load --addr "127.0.0.1:$1" --sign "$SIGN" --name-fmt "$2" --group "$3" \
        --count "$4" --time-limit "$5" --conns $LOAD_CONNS --value-bytes 100 \
        2>> "$TMP/load-errors.log" || true
}

# ---- memory and start time (a leverd of its own) ---------------------------
# Names are 40 bytes ("/lvb/memory/service-0000/setting-000000"), values 100.

if [ "$LEVER_OK" = 1 ]; then
    log "memory: loading $MEM_N parameters (limit ${MEM_LIMIT}s)"
    MP=$(port); MD=$TMP/lever-mem
    if start_leverd "$MD" "$MP" "$TMP/leverd-mem.log"; then
        sleep 1
        RSS0=$(rss_kb "$LEVER_PID")
        set -- $(load "$MP" "/lvb/memory/service-%04ld/setting-%06ld" 1000 "$MEM_N" "$MEM_LIMIT")
        LOADED=${1:-0}; LERR=${2:-0}; LSEC=${3:-0}
        sleep 2
        RSS1=$(rss_kb "$LEVER_PID")
        HWM1=$(awk '/^VmHWM/ {print $2}' "/proc/$LEVER_PID/status")
        stop_pid "$LEVER_PID"
        DB_KB=$(du -sk "$MD" | awk '{print $1}')
        if start_leverd "$MD" "$MP" "$TMP/leverd-mem2.log"; then
            sleep 1
            RSS2=$(rss_kb "$LEVER_PID")
            printf 'target\t%s\nloaded\t%s\nerrors\t%s\nload_s\t%s\nrss_empty_kb\t%s\nrss_loaded_kb\t%s\nhwm_loaded_kb\t%s\nrss_restarted_kb\t%s\nstart_ms\t%s\ndata_kb\t%s\nname_bytes\t40\nvalue_bytes\t100\n' \
                "$MEM_N" "$LOADED" "$LERR" "$LSEC" "$RSS0" "$RSS1" "$HWM1" "$RSS2" "$HEALTH_MS" "$DB_KB" > "$TMP/memory.tsv"
            stop_pid "$LEVER_PID"
        fi
        [ "$LOADED" -lt "$MEM_N" ] && note "memory: only $LOADED of $MEM_N parameters loaded within ${MEM_LIMIT}s ($LERR errors)"
    fi
    rm -rf "$MD"
fi

# ---- the main leverd and its fixtures ------------------------------------

LP=$(port)
TREE_LOADED=0
if [ "$LEVER_OK" = 1 ]; then
    if start_leverd "$TMP/lever" "$LP" "$TMP/leverd.log"; then
        MAIN_PID=$LEVER_PID
        lever_send "$LP" "PutParameter	{\"Name\":\"/lvb/get/string\",\"Value\":\"$VAL100\",\"Type\":\"String\",\"Overwrite\":true}" > /dev/null &&
        lever_send "$LP" "PutParameter	{\"Name\":\"/lvb/get/secure\",\"Value\":\"$VAL100\",\"Type\":\"SecureString\",\"Overwrite\":true}" > /dev/null ||
            { note "lever: fixture PutParameter failed"; LEVER_OK=0; }
        if [ "$LEVER_OK" = 1 ]; then
            log "lever: loading trees of $TREE_N and 1000 parameters"
            set -- $(load "$LP" "/lvb/tree-100k/service-config/key-%06ld" 0 "$TREE_N" "$TREE_LIMIT")
            TREE_LOADED=${1:-0}
            meta tree_load "$TREE_LOADED parameters in ${3:-?} s over $LOAD_CONNS connections"
            [ "$TREE_LOADED" -lt "$TREE_N" ] && note "tree: only $TREE_LOADED of $TREE_N loaded within ${TREE_LIMIT}s"
            set -- $(load "$LP" "/lvb/tree-1k/service-config/key-%06ld" 0 1000 60)
            [ "${1:-0}" -lt 1000 ] && note "tree-1k: only ${1:-0} of 1000 loaded"
        fi
    else
        LEVER_OK=0
    fi
fi

# The pinned placement's leverd: a copy of the same data, started on the
# server CPU, so that it sizes its event loops to the one CPU it may use,
# as a leverd confined to one core does (the main leverd, moved there
# while running, would keep one loop per CPU of the machine).
PIN_OK=0
case " $PLACEMENTS " in *" pinned "*) WANT_PIN=1 ;; *) WANT_PIN=0 ;; esac
if [ "$LEVER_OK" = 1 ] && [ "$WANT_PIN" = 1 ]; then
    stop_pid "$MAIN_PID"
    cp -a "$TMP/lever" "$TMP/lever-pinned"
    if start_leverd "$TMP/lever" "$LP" "$TMP/leverd.log"; then
        MAIN_PID=$LEVER_PID
        LPP=$(port)
        LAUNCH="taskset -c $SRV_CPU" start_leverd "$TMP/lever-pinned" "$LPP" "$TMP/leverd-pinned.log" &&
            { PIN_PID=$LEVER_PID; PIN_OK=1; } || note "the pinned leverd did not start: pinned lever runs use the main one"
    else
        LEVER_OK=0
    fi
fi

# One-thread servers for the 256-connection case (issue 15): a leverd with
# --threads 1 holding the GetParameter fixture, and a lever-agent with
# --threads 1 serving that parameter from its cache.
L1_OK=0; AG_OK=0
if [ "$LEVER_OK" = 1 ]; then
    L1P=$(port)
    if start_leverd "$TMP/lever1t" "$L1P" "$TMP/leverd-1t.log" --threads 1; then
        L1_PID=$LEVER_PID
        lever_send "$L1P" "PutParameter	{\"Name\":\"/lvb/get/string\",\"Value\":\"$VAL100\",\"Type\":\"String\",\"Overwrite\":true}" > /dev/null &&
            L1_OK=1 || note "leverd --threads 1: fixture PutParameter failed"
    fi
    AGENT=$(dirname "$LEVERD")/lever-agent
    AGT=lvbench-agent-token
    if [ -x "$AGENT" ]; then
        AGP=$(port)
        AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SESSION_TOKEN=$AGT \
            AWS_SHARED_CREDENTIALS_FILE=/dev/null LEVER_AGENT_LOG_LEVEL=warn \
            start_bg "$TMP/agent-1t.log" "$AGENT" --upstream "http://127.0.0.1:$LP" \
            --listen "127.0.0.1:$AGP" --threads 1 --ttl 1h
        AG_PID=$LAST_PID
        AGQ="/systemsmanager/parameters/get?name=/lvb/get/string"
        i=0
        while [ $i -lt 100 ]; do
            if curl -sf -m 2 -H "X-Aws-Parameters-Secrets-Token: $AGT" "http://127.0.0.1:$AGP$AGQ" \
                    -o "$TMP/body-agent.json" 2> /dev/null; then AG_OK=1; break; fi
            i=$((i + 1)); sleep 0.1
        done
        [ "$AG_OK" = 1 ] || note "lever-agent --threads 1 did not answer: $(tail -2 "$TMP/agent-1t.log" | tr '\n' ' ')"
    else
        note "lever-agent not found next to leverd: no agent figures"
    fi
fi

# The request bodies every system is driven with.
REQ_GET='GetParameter	{"Name":"/lvb/get/string"}'
REQ_SECURE='GetParameter	{"Name":"/lvb/get/secure","WithDecryption":true}'
REQ_P100K_R='GetParametersByPath	{"Path":"/lvb/tree-100k","Recursive":true,"MaxResults":10}'
REQ_P100K_1='GetParametersByPath	{"Path":"/lvb/tree-100k/service-config","MaxResults":10}'
REQ_P1K_R='GetParametersByPath	{"Path":"/lvb/tree-1k","Recursive":true,"MaxResults":10}'
REQ_P1K_1='GetParametersByPath	{"Path":"/lvb/tree-1k/service-config","MaxResults":10}'

put_lines() { # 64 PutParameter overwrites of fixed names
    local i; i=0; while [ $i -lt 64 ]; do
        printf 'PutParameter\t{"Name":"/lvb/put/key-%02d","Value":"%s","Type":"String","Overwrite":true}\n' $i "$VAL100"
        i=$((i + 1)); done
}
mixed_lines() { # 95% GetParameter, 5% PutParameter: 19 gets then a put, 64 times
    local i j; i=0; while [ $i -lt 64 ]; do
        j=0; while [ $j -lt 19 ]; do printf '%s\n' "$REQ_GET"; j=$((j + 1)); done
        printf 'PutParameter\t{"Name":"/lvb/put/key-%02d","Value":"%s","Type":"String","Overwrite":true}\n' $i "$VAL100"
        i=$((i + 1)); done
}
b64() { printf '%s' "$1" | base64 -w0; }

# ---- nginx: the same response bytes -------------------------------------

# The bodies nginx returns are lever's own responses; without lever, bodies
# of the same shape stand in.
body_of() { # name line fallback
    if [ "$LEVER_OK" = 1 ] && lever_send "$LP" "$2" > "$TMP/body-$1.json" 2> "$TMP/body-$1.err"; then :; else
        [ "$LEVER_OK" = 1 ] && note "lever: $1 request failed: $(head -c 300 "$TMP/body-$1.err")"
        printf '%s' "$3" > "$TMP/body-$1.json"
    fi
    printf '%s\t%s\n' "$1" "$(wc -c < "$TMP/body-$1.json")" >> "$TMP/bodies.tsv"
}
: > "$TMP/bodies.tsv"
FAKE_PARAM="{\"Name\":\"/lvb/get/string\",\"Type\":\"String\",\"Value\":\"$VAL100\",\"Version\":1,\"LastModifiedDate\":1.7e9,\"ARN\":\"arn:aws:ssm:us-east-1:000000000000:parameter/lvb/get/string\",\"DataType\":\"text\"}"
body_of get "$REQ_GET" "{\"Parameter\":$FAKE_PARAM}"
body_of secure "$REQ_SECURE" "{\"Parameter\":$FAKE_PARAM}"
FAKE_PAGE=$FAKE_PARAM; i=1; while [ $i -lt 10 ]; do FAKE_PAGE="$FAKE_PAGE,$FAKE_PARAM"; i=$((i + 1)); done
body_of path "$REQ_P100K_R" "{\"Parameters\":[$FAKE_PAGE],\"NextToken\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"

nginx_str() { sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g" "$1"; }
NGX_OK=0
if command -v nginx > /dev/null 2>&1; then
    NP=$(port); ND=$TMP/nginx; mkdir -p "$ND/tmp"
    [ -s "$TMP/body-agent.json" ] || cp "$TMP/body-get.json" "$TMP/body-agent.json"
    printf 'agent\t%s\n' "$(wc -c < "$TMP/body-agent.json")" >> "$TMP/bodies.tsv"
    if grep -q '\$' "$TMP/body-get.json" "$TMP/body-secure.json" "$TMP/body-path.json" "$TMP/body-agent.json"; then
        note "nginx: a response body contains \$, which nginx would expand; nginx skipped"
    else
        NGX_USER=""; [ "$(id -u)" = 0 ] && NGX_USER="user root;"
        cat > "$ND/nginx.conf" <<EOF
# generated by bench/run.sh: one worker returning lever's response bytes
worker_processes 1;
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
    default_type application/x-amz-json-1.1;
    server {
        listen 127.0.0.1:$NP;
        location = /healthz { return 200 'ok'; }
        location = /get { return 200 '$(nginx_str "$TMP/body-get.json")'; }
        location = /secure { return 200 '$(nginx_str "$TMP/body-secure.json")'; }
        location = /path { return 200 '$(nginx_str "$TMP/body-path.json")'; }
        location = /agent { return 200 '$(nginx_str "$TMP/body-agent.json")'; }
    }
}
EOF
        start_bg "$ND/stdout.log" nginx -p "$ND" -e "$ND/error.log" -c "$ND/nginx.conf"
        NGX_PID=$LAST_PID
        if "$LVB" wait --addr "127.0.0.1:$NP" --path /healthz --time-limit 20 > /dev/null; then
            NGX_OK=1
        else
            note "nginx did not start: $(tail -2 "$ND/error.log" | tr '\n' ' ')"
        fi
    fi
else
    note "nginx not installed: no nginx reference"
fi

# ---- etcd ----------------------------------------------------------------

ETCD_OK=0
if command -v etcd > /dev/null 2>&1; then
    EP=$(port); EPP=$(port)
    start_bg "$TMP/etcd.log" etcd --name lvb --data-dir "$TMP/etcd" \
        --listen-client-urls "http://127.0.0.1:$EP" --advertise-client-urls "http://127.0.0.1:$EP" \
        --listen-peer-urls "http://127.0.0.1:$EPP" --initial-advertise-peer-urls "http://127.0.0.1:$EPP" \
        --initial-cluster "lvb=http://127.0.0.1:$EPP" --log-level warn --logger zap
    ETCD_PID=$LAST_PID
    if "$LVB" wait --addr "127.0.0.1:$EP" --path /health --time-limit 30 > /dev/null &&
       printf '/v3/kv/put\t{"key":"%s","value":"%s"}\n' "$(b64 /lvb/get/string)" "$(b64 "$VAL100")" |
           "$LVB" send --addr "127.0.0.1:$EP" > /dev/null; then
        ETCD_OK=1
    else
        note "etcd did not start: $(tail -2 "$TMP/etcd.log" | tr '\n' ' ')"
    fi
else
    note "etcd not installed: no etcd reference"
fi

# ---- moto ----------------------------------------------------------------

MOTO_OK=0
if [ -n "$MOTO" ] && [ -x "$MOTO" ]; then
    MOP=$(port)
    start_bg "$TMP/moto.log" "$MOTO" -H 127.0.0.1 -p "$MOP"
    MOTO_PID=$LAST_PID
    if "$LVB" wait --addr "127.0.0.1:$MOP" --path /moto-api/ --time-limit 60 > /dev/null &&
       printf '%s\n' "PutParameter	{\"Name\":\"/lvb/get/string\",\"Value\":\"$VAL100\",\"Type\":\"String\",\"Overwrite\":true}" |
           "$LVB" send --addr "127.0.0.1:$MOP" --sign "$SIGN" > /dev/null; then
        MOTO_OK=1
    else
        note "moto_server did not start: $(tail -2 "$TMP/moto.log" | tr '\n' ' ')"
    fi
else
    note "moto_server not found: no moto reference"
fi

# ---- the runs ------------------------------------------------------------

# lua SYSTEM WORKLOAD: writes the wrk script for one run (signed now, so
# every run replays requests well inside their 15-minute window) and sets
# PORT; returns 1 when SYSTEM does not take part in WORKLOAD.
lua() {
    local f pl lreq i
    f=$TMP/run.lua
    case "$1" in
        lever)
            [ "$LEVER_OK" = 1 ] || return 1
            PORT=$LP
            [ "${PLACE:-}" = pinned ] && [ "$PIN_OK" = 1 ] && PORT=$LPP
            case "$2" in
                get) printf '%s\n' "$REQ_GET" ;;
                secure) printf '%s\n' "$REQ_SECURE" ;;
                path100k-rec) printf '%s\n' "$REQ_P100K_R" ;;
                path100k-one) printf '%s\n' "$REQ_P100K_1" ;;
                path1k-rec) printf '%s\n' "$REQ_P1K_R" ;;
                path1k-one) printf '%s\n' "$REQ_P1K_1" ;;
                put) put_lines ;;
                mixed) mixed_lines ;;
                *) return 1 ;;
            esac | "$LVB" lua --addr "127.0.0.1:$PORT" --sign "$SIGN" > "$f" ;;
        lever1t)
            [ "$L1_OK" = 1 ] || return 1
            PORT=$L1P
            [ "$2" = get-1t ] || return 1
            printf '%s\n' "$REQ_GET" | "$LVB" lua --addr "127.0.0.1:$PORT" --sign "$SIGN" > "$f" ;;
        agent1t)
            [ "$AG_OK" = 1 ] || return 1
            PORT=$AGP
            [ "$2" = agent-1t ] || return 1
            printf 'wrk.method = "GET"\nwrk.path = "%s"\nwrk.headers["X-Aws-Parameters-Secrets-Token"] = "%s"\n' \
                "$AGQ" "$AGT" > "$f" ;;
        nginx)
            [ "$NGX_OK" = 1 ] || return 1
            PORT=$NP
            case "$2" in
                agent-1t)
                    printf 'wrk.method = "GET"\nwrk.path = "/agent"\n' > "$f"
                    return 0 ;;
                get|get-1t) pl=/get; lreq=$REQ_GET ;;
                secure) pl=/secure; lreq=$REQ_SECURE ;;
                path) pl=/path; lreq=$REQ_P100K_R ;;
                *) return 1 ;;
            esac
            printf '%s\n' "$lreq" | "$LVB" lua --addr "127.0.0.1:$PORT" --sign "$SIGN" --path $pl > "$f" ;;
        etcd)
            [ "$ETCD_OK" = 1 ] || return 1
            PORT=$EP
            case "$2" in
                get) printf '/v3/kv/range\t{"key":"%s"}\n' "$(b64 /lvb/get/string)" ;;
                put) i=0; while [ $i -lt 64 ]; do
                        printf '/v3/kv/put\t{"key":"%s","value":"%s"}\n' "$(b64 "/lvb/put/key-$i")" "$(b64 "$VAL100")"
                        i=$((i + 1)); done ;;
                *) return 1 ;;
            esac | "$LVB" lua --addr "127.0.0.1:$PORT" > "$f" ;;
        moto)
            [ "$MOTO_OK" = 1 ] || return 1
            PORT=$MOP
            [ "$2" = get ] || return 1
            printf '%s\n' "$REQ_GET" | "$LVB" lua --addr "127.0.0.1:$PORT" --sign "$SIGN" > "$f" ;;
        *) return 1 ;;
    esac
}

# run ROUND WORKLOAD SYSTEM CONNS
# (in placement $PLACE)
sys_pid() {
    case "$1" in
        lever) if [ "${PLACE:-}" = pinned ] && [ "$PIN_OK" = 1 ]; then echo "$PIN_PID"; else echo "${MAIN_PID:-}"; fi ;; lever1t) echo "${L1_PID:-}" ;; agent1t) echo "${AG_PID:-}" ;;
        nginx) echo "${NGX_PID:-}" ;; etcd) echo "${ETCD_PID:-}" ;; moto) echo "${MOTO_PID:-}" ;;
    esac
}
run() {
    local t out sp gen
    lua "$3" "$2" || return 0
    t=2; [ "$4" -lt 2 ] && t=1
    gen=""
    sp=$(sys_pid "$3")
    [ -n "$sp" ] && place "$PLACE" "$sp"
    if [ "$PLACE" = pinned ]; then t=1; gen="taskset -c $GEN_CPU"; fi
    out=$TMP/wrk-$1-$2-$3-$4-$PLACE.txt
    timeout $((DUR + 30)) $gen wrk -t$t -c"$4" -d"${DUR}s" --timeout 5s --latency \
        -s "$TMP/run.lua" "http://127.0.0.1:$PORT/" > "$out" 2>&1
    awk -v r="$1" -v w="$2" -v s="$3" -v c="$4" -v pl="$PLACE" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                         if (v ~ /s$/) return v * 1000; return v + 0 }
        /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
        /requests in/ { n = $1 } /^Requests\/sec/ { rps = $2 }
        /Non-2xx/ { bad = $5 }
        /Socket errors/ { gsub(",", ""); se = $4 + $6 + $8 + $10 }
        END { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r, w, s, c,
              rps == "" ? 0 : rps, p50 == "" ? "" : p50, p99 == "" ? "" : p99, bad, se, n, pl }' \
        "$out" >> "$TMP/runs.tsv"
    log "$(tail -1 "$TMP/runs.tsv" | awk -F'\t' '{printf "%-8s %-13s %-7s c=%-4s %9.0f req/s  p99 %7.2f ms  non2xx %s  sockerr %s", $11, $2, $3, $4, $5, $7, $8, $9}')"
    sleep 0.5
}

# pair ROUND WORKLOAD CONNS SYSTEM...: lever and its references back to back,
# lever first in odd rounds and last in even ones so drift cancels.
pair() {
    local pr pw pc ps order
    pr=$1 pw=$2 pc=$3; shift 3
    if [ $((pr % 2)) = 1 ]; then
        for ps in "$@"; do run "$pr" "$pw" "$ps" "$pc"; done
    else
        order=""; for ps in "$@"; do order="$ps $order"; done
        for ps in $order; do run "$pr" "$pw" "$ps" "$pc"; done
    fi
}

# One unrecorded second per system first: the first run after a start is
# slow for every system (page faults, connection set-up, CPU clocks).
warm() {
    local ws
    for ws in lever:get leverpin:get lever1t:get-1t agent1t:agent-1t nginx:get etcd:get moto:get; do
        if [ "${ws%%:*}" = leverpin ]; then
            [ "$PIN_OK" = 1 ] || continue
            PLACE=pinned
            lua lever get || continue
            PLACE=""
        else
            lua "${ws%%:*}" "${ws#*:}" || continue
        fi
        timeout 20 wrk -t2 -c32 -d1s -s "$TMP/run.lua" "http://127.0.0.1:$PORT/" > /dev/null 2>&1
    done
}
warm

log "running $ROUNDS round(s) of ${DUR}s runs"
r=1
while [ $r -le "$ROUNDS" ]; do
    for PLACE in $PLACEMENTS; do
    log "round $r, $PLACE"
    for c in 32 256; do pair $r get $c lever nginx etcd moto; done
    pair $r get-1t 256 lever1t nginx
    pair $r agent-1t 256 agent1t nginx
    pair $r secure 32 lever nginx
    run $r path100k-rec lever 32
    run $r path nginx 32
    run $r path100k-one lever 32
    run $r path1k-rec lever 32
    run $r path1k-one lever 32
    for c in 1 16 64; do pair $r put $c lever etcd; done
    run $r mixed lever 64
    done
    r=$((r + 1))
done

# ---- after the runs ------------------------------------------------------

if [ "$LEVER_OK" = 1 ]; then
    if kill -0 "$MAIN_PID" 2>/dev/null; then
        meta leverd_rss_after_runs "$(rss_kb "$MAIN_PID") kB"
        curl -s -m 5 "http://127.0.0.1:$LP/metrics" > "$TMP/metrics.txt" 2>/dev/null || true
    else
        note "leverd exited during the runs: $(tail -3 "$TMP/leverd.log" | tr '\n' ' ')"
    fi
fi
grep -q . "$TMP/load-errors.log" 2>/dev/null && note "loader errors (first): $(head -c 300 "$TMP/load-errors.log" | tr '\n' ' ')"

# ---- liblever (bench/client.sh) -------------------------------------------
# The server-side systems are done: stop them so that the client benchmark
# (100 watcher threads, a single-thread getter loop) has the cores.
for p in $PIDS; do stop_pid "$p"; done
CLIENT_ARGS=""; [ "$QUICK" = 1 ] && CLIENT_ARGS=--quick
if part client; then
    log "liblever: propagation and cached getters (bench/client.sh)"
    LEVER_BUILD_DIR=$BUILD LEVERD=$LEVERD timeout -k 10 300 sh "$HERE/client.sh" $CLIENT_ARGS \
        --out "$TMP/liblever.md" --tsv "$TMP/liblever.tsv" ||
        note "liblever: bench/client.sh did not finish"
fi
if part agent; then
    log "lever-agent: agent vs direct GetParameter (bench/agent.sh)"
    timeout -k 10 300 sh "$HERE/agent.sh" $CLIENT_ARGS --build "$BUILD" --out "$TMP/agent.md" ||
        note "lever-agent: bench/agent.sh did not finish"
fi
if part appconfig; then
    log "lever-agent AppConfig: reads vs nginx, deployment -> 100 agents (bench/appconfig.sh)"
    timeout -k 10 600 sh "$HERE/appconfig.sh" $CLIENT_ARGS --build "$BUILD" --out "$TMP/appconfig.md" ||
        note "lever-agent AppConfig: bench/appconfig.sh did not finish"
fi
if part console; then
    log "console: page load of a path with 1,000 children among 100,000 parameters (bench/console.sh)"
    timeout -k 10 600 sh "$HERE/console.sh" $CLIENT_ARGS --build "$BUILD" --out "$TMP/console.md" ||
        note "console: bench/console.sh did not finish"
fi
if part flags; then
    log "feature flags: in-process evaluation, agent ?flag= and OFREP vs nginx (bench/flags.sh)"
    timeout -k 10 300 sh "$HERE/flags.sh" $CLIENT_ARGS --build "$BUILD" --out "$TMP/flags.md" ||
        note "feature flags: bench/flags.sh did not finish"
fi
if part rollout; then
    log "gradual deployments: step/rollback -> 100 agents, 10 deployments in progress vs none (bench/rollout.sh)"
    timeout -k 10 900 sh "$HERE/rollout.sh" $CLIENT_ARGS --build "$BUILD" --out "$TMP/rollout.md" ||
        note "gradual deployments: bench/rollout.sh did not finish"
fi
if part multinode; then
    log "several nodes: 3 leverd on one PostgreSQL vs a 3-member etcd cluster (bench/multinode.sh)"
    timeout -k 10 900 sh "$HERE/multinode.sh" $CLIENT_ARGS --build "$BUILD" --out "$TMP/multinode.md" ||
        note "several nodes: bench/multinode.sh did not finish"
fi
meta elapsed "$(( $(date +%s) - T_START )) s"

STAMP=$(date -u +%Y-%m-%d)
[ "$QUICK" = 1 ] && STAMP=$STAMP-quick
mkdir -p "$RESULTS"
if python3 "$HERE/report.py" --tmp "$TMP" --out "$RESULTS" --stamp "$STAMP"; then
    if [ -s "$TMP/liblever.md" ]; then
        { printf '\n'; cat "$TMP/liblever.md"; } >> "$RESULTS/$STAMP.md"
        if [ -s "$TMP/liblever.tsv" ]; then
            cp "$TMP/liblever.tsv" "$RESULTS/$STAMP-liblever.tsv"
            printf '\nRaw liblever figures: [%s](%s).\n' "$STAMP-liblever.tsv" "$STAMP-liblever.tsv" >> "$RESULTS/$STAMP.md"
        fi
    fi
    [ -s "$TMP/agent.md" ] && { printf '\n'; cat "$TMP/agent.md"; } >> "$RESULTS/$STAMP.md"
    [ -s "$TMP/appconfig.md" ] && { printf '\n'; cat "$TMP/appconfig.md"; } >> "$RESULTS/$STAMP.md"
    [ -s "$TMP/console.md" ] && { printf '\n'; cat "$TMP/console.md"; } >> "$RESULTS/$STAMP.md"
    [ -s "$TMP/flags.md" ] && { printf '\n'; cat "$TMP/flags.md"; } >> "$RESULTS/$STAMP.md"
    [ -s "$TMP/rollout.md" ] && { printf '\n'; cat "$TMP/rollout.md"; } >> "$RESULTS/$STAMP.md"
    [ -s "$TMP/multinode.md" ] && { printf '\n'; cat "$TMP/multinode.md"; } >> "$RESULTS/$STAMP.md"
    log "wrote $RESULTS/$STAMP.md"
else
    log "report failed; raw runs follow"; cat "$TMP/runs.tsv" >&2
fi
exit 0
