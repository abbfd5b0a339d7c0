#!/bin/sh
# bench/multinode.sh - several nodes: 3 leverd nodes on one PostgreSQL
# against a 3-member etcd cluster, all on loopback, both durable (fsync,
# synchronous_commit on). Durable puts and reads with 64 connections spread
# over the 3 nodes / members (wrk, one process per node, interleaved
# rounds, ratios), write on A -> watch on B and C (p99), and cross-node
# visibility lag (ack on A -> GetParameter on B or C returns it, p99).
# Report: bench/results/multinode-<date>[-quick].md (and -runs.tsv).
# Standalone; bench/run.sh calls it.
#
#   sh bench/multinode.sh [--quick] [--build DIR] [--out FILE]
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
LB_NAME=multinode
. "$HERE/lib.sh"

BUILD=${BUILD:-$REPO/build}
OUT=""
MODE=full
DUR=10
ROUNDS=3
SAMPLES=500
CONNS=64
ARGS="$*"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --quick) MODE=quick; DUR=3; ROUNDS=1; SAMPLES=100 ;;
        --build) BUILD=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h|--help) usage 0 ;;
        *) echo "multinode.sh: unknown argument $1" >&2; usage 2 ;;
    esac
    shift
done
DUR=${LEVER_BENCH_DURATION:-$DUR}
ROUNDS=${LEVER_BENCH_ROUNDS:-$ROUNDS}

lb_need wrk curl gcc etcd /usr/bin/python3 || exit 0
if [ ! -x "$BUILD/leverd" ]; then
    lb_log "$BUILD/leverd not found (build with make, or pass --build DIR); nothing measured"
    exit 0
fi

# A throw-away PostgreSQL, started exactly as the tests start theirs
# (initdb in a temp dir as an unprivileged user, loopback, fsync and
# synchronous_commit on): this script runs again under it.
if [ -z "${LEVER_TEST_PG_URI:-}" ]; then
    if ! ls /usr/lib/postgresql/*/bin/postgres > /dev/null 2>&1; then
        lb_log "PostgreSQL is not installed (Debian package postgresql; scripts/deps.sh test); nothing measured"
        exit 0
    fi
    # shellcheck disable=SC2086
    exec /usr/bin/python3 "$REPO/tests/integration/pg_harness.py" run -- sh "$0" $ARGS
fi
PG_URI=$LEVER_TEST_PG_URI

lb_tmp
lb_lvbench || exit 0
AK=AKIALVBENCHMULTINODE
SK=lvbenchMultinodeSecret0123456789abcdefgh
SIGN="$AK:$SK:us-east-1"
VAL100=$(printf 'v1-%097d' 0 | tr 0 x)
lb_log "$MODE run: $ROUNDS round(s) of ${DUR}s, $CONNS connections over 3 nodes; $SAMPLES lag samples"

# ---- 3 leverd nodes on the one database ------------------------------------
NODE_PORTS=""
for n in 1 2 3; do
    p=$("$LVB" port)
    LEVER_ROOT_ACCESS_KEY_ID=$AK LEVER_ROOT_SECRET_ACCESS_KEY=$SK LEVER_MASTER_KEY_FILE=$TMP/master.key \
        lb_start_bg "$TMP/leverd-$n.log" "$BUILD/leverd" --data "$TMP/node$n" --listen "127.0.0.1:$p" \
        --store "$PG_URI"
    if ! "$LVB" wait --addr "127.0.0.1:$p" --path /healthz --time-limit 60 > /dev/null; then
        lb_log "leverd node $n did not start:"; tail -5 "$TMP/leverd-$n.log" >&2; exit 0
    fi
    NODE_PORTS="$NODE_PORTS $p"
done
set -- $NODE_PORTS
LA=$1
printf 'PutParameter\t{"Name":"/lvb/get/string","Value":"%s","Type":"String","Overwrite":true}\n' "$VAL100" |
    "$LVB" send --addr "127.0.0.1:$LA" --sign "$SIGN" > /dev/null || { lb_log "fixture PutParameter failed"; exit 0; }
for p in $NODE_PORTS; do
    i=0
    until printf 'GetParameter\t{"Name":"/lvb/get/string"}\n' |
            "$LVB" send --addr "127.0.0.1:$p" --sign "$SIGN" > /dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 100 ] && { lb_log "node :$p never saw the fixture"; exit 0; }
        sleep 0.05
    done
done

# ---- a 3-member etcd cluster -----------------------------------------------
ECP=""; EPP=""; CLUSTER=""; ETCD_PIDS=""
for n in 1 2 3; do
    c=$("$LVB" port); q=$("$LVB" port)
    ECP="$ECP $c"; EPP="$EPP $q"
    CLUSTER="$CLUSTER${CLUSTER:+,}m$n=http://127.0.0.1:$q"
done
n=0
for c in $ECP; do
    n=$((n + 1))
    q=$(echo $EPP | cut -d' ' -f$n)
    lb_start_bg "$TMP/etcd-$n.log" etcd --name "m$n" --data-dir "$TMP/etcd$n" \
        --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
        --listen-peer-urls "http://127.0.0.1:$q" --initial-advertise-peer-urls "http://127.0.0.1:$q" \
        --initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token lvb-multinode \
        --log-level warn --logger zap
    ETCD_PIDS="$ETCD_PIDS $LAST_PID"
done
for c in $ECP; do
    if ! "$LVB" wait --addr "127.0.0.1:$c" --path /health --time-limit 60 > /dev/null; then
        lb_log "etcd member :$c did not become healthy:"; tail -3 "$TMP"/etcd-*.log >&2; exit 0
    fi
done
set -- $ECP
printf '/v3/kv/put\t{"key":"%s","value":"%s"}\n' "$(lb_b64 /lvb/get/string)" "$(lb_b64 "$VAL100")" |
    "$LVB" send --addr "127.0.0.1:$1" > /dev/null || { lb_log "etcd fixture put failed"; exit 0; }
ETCD_VER=$(etcd --version 2>/dev/null | head -1 | sed 's/.*Version: //')

# ---- the runs --------------------------------------------------------------

# lines SYSTEM WORKLOAD: the request lines one wrk script replays.
lines() {
    i=0
    case "$1:$2" in
        lever:put) while [ $i -lt 64 ]; do
                printf 'PutParameter\t{"Name":"/lvb/put/key-%02d","Value":"%s","Type":"String","Overwrite":true}\n' $i "$VAL100"
                i=$((i + 1)); done ;;
        lever:get) printf 'GetParameter\t{"Name":"/lvb/get/string"}\n' ;;
        etcd:put) while [ $i -lt 64 ]; do
                printf '/v3/kv/put\t{"key":"%s","value":"%s"}\n' "$(lb_b64 "/lvb/put/key-$i")" "$(lb_b64 "$VAL100")"
                i=$((i + 1)); done ;;
        etcd:get) printf '/v3/kv/range\t{"key":"%s"}\n' "$(lb_b64 /lvb/get/string)" ;;
        etcd:get-serializable) printf '/v3/kv/range\t{"key":"%s","serializable":true}\n' "$(lb_b64 /lvb/get/string)" ;;
    esac
}

printf 'round\tworkload\tsystem\tmember\tconns\trps\tp50_ms\tp99_ms\tnon2xx\tsockerr\trequests\n' > "$TMP/runs.tsv"
# spread ROUND WORKLOAD SYSTEM: CONNS connections split over the 3 nodes,
# one wrk process (one thread) per node, all at once; one line per node.
spread() {
    sys=$3; lsys=$3; [ "$3" = etcd ] || lsys=lever
    ports=$NODE_PORTS; [ "$3" = etcd ] && ports=$ECP
    wl=$2; [ "$2" = get-serializable ] && wl=get
    k=0; wpids=""
    for p in $ports; do
        k=$((k + 1))
        c=$((CONNS / 3)); [ $k -le $((CONNS % 3)) ] && c=$((c + 1))
        if [ "$lsys" = lever ]; then
            lines lever "$wl" | "$LVB" lua --addr "127.0.0.1:$p" --sign "$SIGN" > "$TMP/run-$k.lua"
        else
            lines etcd "$2" | "$LVB" lua --addr "127.0.0.1:$p" > "$TMP/run-$k.lua"
        fi
        timeout $((DUR + 30)) wrk -t1 -c"$c" -d"${DUR}s" --timeout 5s --latency -s "$TMP/run-$k.lua" \
            "http://127.0.0.1:$p/" > "$TMP/wrk-$1-$2-$sys-$k.txt" 2>&1 &
        wpids="$wpids $!"
    done
    for w in $wpids; do wait "$w" || true; done
    k=0
    for p in $ports; do
        k=$((k + 1))
        c=$((CONNS / 3)); [ $k -le $((CONNS % 3)) ] && c=$((c + 1))
        lb_wrk_tsv "$TMP/wrk-$1-$2-$sys-$k.txt" "$1" "$sys" "$c" |
            awk -F'\t' -v w="$2" -v m="$k" 'BEGIN { OFS = "\t" } { print $1, w, $2, m, $3, $4, $5, $6, $7, $8, $9 }' >> "$TMP/runs.tsv"
    done
    awk -F'\t' -v r="$1" -v w="$2" -v s="$sys" '$1 == r && $2 == w && $3 == s { t += $6; if ($8 > p) p = $8; b += $9 + $10 }
        END { printf "round %s %-16s %-5s %9.0f req/s over 3  worst p99 %7.2f ms  errors %d\n", r, w, s, t, p, b }' \
        "$TMP/runs.tsv" | while read -r line; do lb_log "$line"; done
    sleep 0.5
}

# One unrecorded second each first (connections, page faults, CPU clocks).
for p in $NODE_PORTS; do
    lines lever get | "$LVB" lua --addr "127.0.0.1:$p" --sign "$SIGN" > "$TMP/warm.lua"
    timeout 20 wrk -t1 -c8 -d1s -s "$TMP/warm.lua" "http://127.0.0.1:$p/" > /dev/null 2>&1 || true
done
for p in $ECP; do
    lines etcd get | "$LVB" lua --addr "127.0.0.1:$p" > "$TMP/warm.lua"
    timeout 20 wrk -t1 -c8 -d1s -s "$TMP/warm.lua" "http://127.0.0.1:$p/" > /dev/null 2>&1 || true
done

r=1
while [ "$r" -le "$ROUNDS" ]; do
    if [ $((r % 2)) -eq 1 ]; then order="lever etcd"; else order="etcd lever"; fi
    for s in $order; do spread "$r" put "$s"; done
    for s in $order; do spread "$r" get "$s"; done
    spread "$r" get-serializable etcd
    r=$((r + 1))
done

# ---- lag: the cores to the nodes and the one client ------------------------
for p in $ETCD_PIDS; do lb_stop_pid "$p"; done
# the nodes' own lag histograms (lever_store_follow_lag_seconds): all of
# the load runs so far, then the lag runs alone
metrics() { for p in $NODE_PORTS; do curl -s -m 5 "http://127.0.0.1:$p/metrics"; done > "$1"; }
metrics "$TMP/metrics-load.txt"
PACE=20
# shellcheck disable=SC2086
/usr/bin/python3 "$HERE/multinode/lag.py" "$AK" "$SK" "$SAMPLES" "$PACE" $NODE_PORTS > "$TMP/lag.tsv" 2> "$TMP/lag.log" ||
    lb_log "lag run failed: $(tail -2 "$TMP/lag.log" | tr '\n' ' ')"
for n in 1 2 3; do
    grep -i "sanitizer\|runtime error" "$TMP/leverd-$n.log" > /dev/null 2>&1 && lb_log "leverd node $n reported an error: see its log"
done
metrics "$TMP/metrics-end.txt"
CONFLICTS=$(awk '/^lever_store_conflicts_total/ { t += $2 } END { printf "%d", t }' "$TMP/metrics-end.txt")
# follow_lag BEFORE AFTER: "count p50 p99" of the follow-lag histogram
# between two snapshots of every node (bucket upper bounds, in ms)
follow_lag() {
    awk '/^lever_store_follow_lag_seconds_bucket/ {
            le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
            if (FILENAME == ARGV[1]) b[le] -= $2; else { b[le] += $2; if (!(le in seen)) { seen[le] = 1; o[++n] = le } } }
        END { tot = b["+Inf"]; p50 = p99 = ""
              for (i = 1; i <= n; i++) { v = o[i] == "+Inf" ? "above 5000" : o[i] * 1000
                  if (p50 == "" && b[o[i]] >= tot * 0.5) p50 = v
                  if (p99 == "" && b[o[i]] >= tot * 0.99) p99 = v }
              printf "%d\t%s\t%s\n", tot, p50, p99 }' "$1" "$2"
}
: > "$TMP/none.txt"
LAG_LOAD=$(follow_lag "$TMP/none.txt" "$TMP/metrics-load.txt")
LAG_IDLE=$(follow_lag "$TMP/metrics-load.txt" "$TMP/metrics-end.txt")

# ---- report ----------------------------------------------------------------
DATE=$(date -u '+%Y-%m-%d')
SUFFIX=$([ "$MODE" = quick ] && echo -quick || true)
if [ -z "$OUT" ]; then
    mkdir -p "$HERE/results"
    OUT=$HERE/results/multinode-$DATE$SUFFIX.md
    cp "$TMP/runs.tsv" "$HERE/results/multinode-$DATE$SUFFIX-runs.tsv"
fi
PGVER=$("$(dirname "$(ls /usr/lib/postgresql/*/bin/postgres | sort -V | tail -1)")/postgres" --version | awk '{print $3}')
# per (round, workload, system): total req/s and worst p99 of the 3 members
awk -F'\t' 'NR > 1 { k = $1 "\t" $2 "\t" $3; t[k] += $6; if ($8 > p[k]) p[k] = $8; e[k] += $9 + $10; if (!(k in seen)) { seen[k] = 1; o[++n] = k } }
    END { for (i = 1; i <= n; i++) printf "%s\t%.0f\t%.3f\t%d\n", o[i], t[o[i]], p[o[i]], e[o[i]] }' "$TMP/runs.tsv" > "$TMP/sum.tsv"
{
    echo "# Several nodes: 3 leverd on one PostgreSQL vs a 3-member etcd cluster ($DATE, $MODE)"
    echo
    if [ "$MODE" = quick ]; then
        echo "**A quick run** (\`--quick\`: ${DUR}s per run, $ROUNDS round, $SAMPLES lag samples) on a shared, loaded"
        echo "machine: everything below (3 leverd, PostgreSQL, 3 etcd members, the wrk clients) shares its CPUs with"
        echo "other work. Ratios between systems measured back to back mean more than the absolute figures."
        echo
    fi
    echo "- machine: $(lb_machine)"
    echo "- lever $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown); PostgreSQL $PGVER (fsync and"
    echo "  synchronous_commit on, shared_buffers 16MB: tests/integration/pg_harness.py); etcd $ETCD_VER, 3 members"
    echo "  (default fsync); both on loopback, each node/member with default threads"
    echo "- load: wrk, $CONNS connections split 22/21/21 over the 3 nodes (3 wrk processes, one thread each, at once),"
    echo "  ${DUR}s per run, $ROUNDS round(s), lever first in odd rounds; req/s summed over the 3, p99 the worst of the 3"
    echo "- puts: lever PutParameter (SigV4-signed, Overwrite) of 64 names with 100-byte values, acknowledged once"
    echo "  committed in PostgreSQL; etcd /v3/kv/put of the same keys and values through its JSON gateway, acknowledged"
    echo "  once committed by a quorum"
    echo "- reads: lever GetParameter of a 100-byte String; etcd /v3/kv/range of the same key, linearizable (etcd's"
    echo "  default, a quorum round per read) and serializable (a member's local state, as lever reads memory)"
    echo
    echo "| round | workload | lever req/s | etcd req/s | lever / etcd | lever p99 ms | etcd p99 ms | errors (lever/etcd) |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' '{ t[$1, $2, $3] = $4; p[$1, $2, $3] = $5; e[$1, $2, $3] = $6; if ($1 > n) n = $1 }
        END { for (r = 1; r <= n; r++) {
                  split("put get get-serializable", W, " ")
                  for (i = 1; i <= 3; i++) { w = W[i]; lw = w == "get-serializable" ? "get" : w
                      l = t[r, lw, "lever"]; g = t[r, w, "etcd"]; q = g > 0 ? l / g : 0
                      printf "| %d | %s | %.0f | %.0f | %.2fx | %.2f | %.2f | %d / %d |\n", r, w == "get" ? "get (etcd linearizable)" : w == "get-serializable" ? "get (etcd serializable)" : "durable put", l, g, q, p[r, lw, "lever"], p[r, w, "etcd"], e[r, lw, "lever"], e[r, w, "etcd"]
                      s[i] += q } }
              printf "\nlever / etcd, mean of rounds: durable puts **%.2fx** (target >= 1x); reads **%.2fx** vs linearizable (target >= 10x), %.2fx vs serializable\n", s[1] / n, s[2] / n, s[3] / n }' "$TMP/sum.tsv"
    echo
    echo "Commits refused because another node wrote first and planned again (lever_store_conflicts_total, all nodes, whole run): $CONFLICTS."
    echo
    echo "## Write on A -> watch on B and C; cross-node visibility"
    echo
    echo "bench/multinode/lag.py, after the load runs (etcd stopped): node B and C each keep a Lever.WatchParameters"
    echo "long poll parked on one parameter, re-armed at once from each answer; node A overwrites it $SAMPLES times,"
    echo "${PACE} ms apart. Visibility: $SAMPLES more overwrites on A; after each acknowledgement B or C (in turn) is"
    echo "polled with GetParameter over one keep-alive connection until it returns the new value."
    echo
    if [ -s "$TMP/lag.tsv" ]; then
        awk -F'\t' 'function isort(a, k,   i, j, t) { for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
            function pct(a, k, q,   i) { i = int(k * q); if (i < k * q) i++; if (i < 1) i = 1; return a[i] }
            $1 == "watch" && $3 == "missed" { wm++ } $1 == "watch" && $3 != "missed" { ws[++nw] = $3; wa[nw] = $4 }
            $1 == "vis" && $3 == "missed" { vm++ } $1 == "vis" && $3 != "missed" { v[++nv] = $3 }
            END { isort(ws, nw); isort(wa, nw); isort(v, nv)
                  if (nw) printf "- write on A -> watch on B/C answered (%d samples, %d missed), from the PutParameter sent to A: p50 %.1f ms, p99 **%.1f ms** (target < 50 ms), max %.1f ms\n", nw, wm, pct(ws, nw, .5), pct(ws, nw, .99), ws[nw]
                  if (nw) printf "- the same from A'"'"'s acknowledgement received: p50 %.1f ms, p99 %.1f ms (negative: B answered before A'"'"'s answer arrived)\n", pct(wa, nw, .5), pct(wa, nw, .99)
                  if (nv) printf "- cross-node visibility, A'"'"'s acknowledgement -> GetParameter on B/C returns the value (%d samples, %d missed): p50 %.1f ms, p99 **%.1f ms**, max %.1f ms\n", nv, vm, pct(v, nv, .5), pct(v, nv, .99), v[nv] }' "$TMP/lag.tsv"
    else
        echo "- not measured: $(tail -1 "$TMP/lag.log" 2>/dev/null)"
    fi
    echo
    echo "The nodes' own measure, \`lever_store_follow_lag_seconds\` (each followed commit, from its writer's clock when it"
    echo "planned the change to applied on the following node; the same clock here; bucket upper bounds):"
    echo
    printf '%s\n' "$LAG_LOAD" | awk -F'\t' '{ printf "- during the put runs (every node follows the other two at full write load): %d commits, p50 <= %s ms, p99 <= **%s ms**\n", $1, $2, $3 }'
    printf '%s\n' "$LAG_IDLE" | awk -F'\t' '{ printf "- during the lag runs above: %d commits, p50 <= %s ms, p99 <= %s ms\n", $1, $2, $3 }'
    echo
    echo "Produced by \`sh bench/multinode.sh$([ "$MODE" = quick ] && echo ' --quick' || true)\`."
} > "$OUT"
lb_log "report: $OUT"
cat "$OUT"
