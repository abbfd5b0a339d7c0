#!/bin/sh
# soak.sh - bounded soak test on loopback: mixed reads and writes against
# leverd with a SIGKILL and restart every few seconds; afterwards every
# acknowledged write must be present and the store must pass SQLite's
# integrity check. Usage: scripts/soak.sh [BUILD_DIR] [SECONDS]
# (defaults: build, 180). Results are appended to docs/soak-results.txt.
set -eu
BUILD=${1:-build}
SECONDS_TOTAL=${2:-${SOAK_SECONDS:-180}}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ -x "$BUILD/leverd" ] || { echo "soak: $BUILD/leverd not built" >&2; exit 2; }
exec /usr/bin/python3 - "$BUILD" "$SECONDS_TOTAL" "$ROOT/docs/soak-results.txt" "$ROOT" <<'EOF'
import os, random, sqlite3, sys, threading, time
sys.path.insert(0, os.path.join(sys.argv[4], "tests", "integration"))
os.environ["LEVER_BUILD_DIR"] = sys.argv[1]
import botocore.exceptions
from lever_harness import Leverd

total = float(sys.argv[2])
server = Leverd().start()
acked = {}          # name -> highest acknowledged version
lock = threading.Lock()
stop = threading.Event()
stats = {"writes": 0, "reads": 0, "errors": 0, "kills": 0}

def worker(tid):
    rnd = random.Random(tid)
    client = None
    while not stop.is_set():
        try:
            if client is None:
                client = server.client(read_timeout=10)
            idx = rnd.randrange(200)
            name = "/soak/%d/%d" % (tid, idx)
            if rnd.random() < 0.5:
                typ = "SecureString" if idx % 5 == 0 else "String"
                r = client.put_parameter(Name=name, Value="v%d" % rnd.randrange(10**9), Type=typ, Overwrite=True)
                with lock:
                    acked[name] = max(acked.get(name, 0), r["Version"])
                    stats["writes"] += 1
            else:
                try:
                    client.get_parameter(Name=name, WithDecryption=True)
                except botocore.exceptions.ClientError as e:
                    if e.response["Error"]["Code"] != "ParameterNotFound":
                        raise
                stats["reads"] += 1
        except Exception:  # noqa: BLE001 - the server is being killed on purpose
            stats["errors"] += 1
            client = None
            time.sleep(0.05)

threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
for t in threads:
    t.start()
t0 = time.time()
while time.time() - t0 < total:
    time.sleep(random.uniform(2, 6))
    server.restart(hard=True)
    stats["kills"] += 1
stop.set()
for t in threads:
    t.join()
# every acknowledged write must be there, at its acknowledged version or later
client = server.client()
missing = []
for name, ver in sorted(acked.items()):
    try:
        got = client.get_parameter(Name=name)["Parameter"]["Version"]
        if got < ver:
            missing.append((name, ver, got))
    except botocore.exceptions.ClientError:
        missing.append((name, ver, None))
server.stop()
db = sqlite3.connect(os.path.join(server.data_dir, "lever.db"))
integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
db.close()
server.cleanup()
line = ("%s soak %.0fs: %d writes, %d reads, %d kills, %d client errors during kills, %d names, "
        "%d acknowledged writes missing, integrity_check=%s\n"
        % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), total, stats["writes"], stats["reads"],
           stats["kills"], stats["errors"], len(acked), len(missing), integrity))
sys.stdout.write(line)
with open(sys.argv[3], "a") as f:
    f.write(line)
if missing or integrity != "ok":
    sys.stdout.write("FAILED: %r\n" % missing[:20])
    sys.exit(1)
EOF
