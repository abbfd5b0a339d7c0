#!/bin/sh
# bench/console.sh - the web console's page load with many parameters: a
# leverd holding N parameters (default 100,000: 1,000 directly under
# /bench/wide, the rest under /bench/bulk), then Debian's chromium loads
# /console/#/parameters?path=/bench/wide in a fresh page R times; the
# browser measures navigation start -> the 1,000 rows painted (and the
# ListPathChildren call inside). Report: a markdown section on stdout or
# --out FILE. Standalone; bench/run.sh calls it.
#
#   sh bench/console.sh [--quick] [--build DIR] [--out FILE] [--params N] [--rounds R]
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${BUILD:-$REPO/build}
OUT=""
PARAMS=100000
ROUNDS=10
MODE=full

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --quick) MODE=quick; PARAMS=10000; ROUNDS=3 ;;
        --build) BUILD=$2; shift ;;
        --out) OUT=$2; shift ;;
        --params) PARAMS=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        -h|--help) usage 0 ;;
        *) echo "console.sh: unknown argument $1" >&2; usage 2 ;;
    esac
    shift
done
log() { printf 'bench/console: %s\n' "$*" >&2; }
for t in node gcc /usr/bin/chromium; do
    command -v $t > /dev/null 2>&1 || { log "needs $t; skipped"; exit 0; }
done
sh "$REPO/scripts/console-deps.sh" >&2

TMP=$(mktemp -d /tmp/lever-bench-console.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
LVB=$TMP/lvbench
gcc -O2 -std=gnu17 -D_GNU_SOURCE -I"$REPO/src" -o "$LVB" "$HERE/lvbench.c" "$REPO"/src/auth/sigv4*.c \
    "$REPO/src/core/buf.c" "$REPO/src/core/hex.c" "$REPO/src/core/err.c" -lcrypto -lpthread
PORT=$("$LVB" port)
AK=AKIABENCHCONSOLE0001
SK=benchConsoleSecret0123456789
LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK "$BUILD/leverd" --data "$TMP/data" \
    --listen "127.0.0.1:$PORT" > "$TMP/leverd.log" 2>&1 &
PID=$!
"$LVB" wait --addr "127.0.0.1:$PORT" > /dev/null
S=$AK:$SK:us-east-1
log "loading $PARAMS parameters"
T0=$(date +%s.%N)
"$LVB" load --addr "127.0.0.1:$PORT" --sign "$S" --name-fmt '/bench/wide/p%04ld' --count 1000 --conns 16 > /dev/null
"$LVB" load --addr "127.0.0.1:$PORT" --sign "$S" --name-fmt '/bench/bulk/k%06ld' --count $((PARAMS - 1000)) \
    --conns 16 > /dev/null
LOAD_S=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "loaded in $LOAD_S s; page loads: $ROUNDS"
REPORT=$(node "$HERE/console/pageload.mjs" --url "http://127.0.0.1:$PORT" --key "$AK" --secret "$SK" \
    --rounds "$ROUNDS" --params "$PARAMS" --mode "$MODE")
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
REPORT="$REPORT

Loading the $PARAMS parameters (PutParameter from bench/lvbench.c, 16 connections, group commit) took
$LOAD_S s. Machine: $(nproc) CPUs, load average $LOADAVG at the end (1, 5, 15 min), from whatever else
runs on it."
if [ -n "$OUT" ]; then printf '%s\n' "$REPORT" > "$OUT"; else printf '%s\n' "$REPORT"; fi
