"""bench/multinode/lag.py - how fast a write on one leverd node reaches the
others of the same PostgreSQL.

watch: every other node keeps a Lever.WatchParameters long poll parked on
one parameter (re-armed from the answer's Revision at once); node A
overwrites that parameter SAMPLES times, PACE_MS apart. Per other node and
write: request sent to A -> that node's watch answered with the new
version ("send"), and A's acknowledgement received -> answered ("ack").

visibility: SAMPLES times, A overwrites another parameter and, once A has
acknowledged, one other node (in turn) is polled with GetParameter as fast
as one connection allows until it returns the new value: ack -> visible.

Prints TSV lines:  watch <node> <send_ms> <ack_ms>  and  vis <node> <ms>
Usage: lag.py AKID SECRET SAMPLES PACE_MS PORT_A PORT_B [PORT_C...]"""
import http.client
import json
import socket
import sys
import threading
import time

import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest

REGION = "us-east-1"
CT = "application/x-amz-json-1.1"
WATCH_PATH = "/lvb/multinode/w"
WATCHED = WATCH_PATH + "/p"
POLLED = "/lvb/multinode/polled"


class Node:
    """One keep-alive connection to a node; not shared between threads."""

    def __init__(self, port, creds):
        self.port = port
        self.creds = creds
        self.conn = None

    def call(self, target, body, timeout=30):
        data = json.dumps(body).encode()
        req = AWSRequest(method="POST", url="http://127.0.0.1:%d/" % self.port, data=data,
                         headers={"Content-Type": CT, "X-Amz-Target": target})
        botocore.auth.SigV4Auth(self.creds, "ssm", REGION).add_auth(req)
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
                self.conn.connect()
                self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.conn.request("POST", "/", body=data, headers=dict(req.headers.items()))
                r = self.conn.getresponse()
                out = r.read()
                return r.status, json.loads(out) if out else None
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        return 0, None


def put(node, name, value):
    st, body = node.call("AmazonSSM.PutParameter", {"Name": name, "Value": value, "Type": "String",
                                                   "Overwrite": True})
    if st != 200:
        raise RuntimeError("PutParameter on :%d answered %s %s" % (node.port, st, body))
    return body["Version"]


def watcher(node, since, seen, stop, errors):
    """Parks watches on node until stop; seen[version] = first time it was answered."""
    while not stop.is_set():
        try:
            st, body = node.call("Lever.WatchParameters", {"Path": WATCH_PATH, "SinceRevision": since,
                                                           "WaitSeconds": 2}, timeout=10)
        except Exception as e:  # noqa: BLE001 - reported, the run goes on
            errors.append(str(e))
            time.sleep(0.05)
            continue
        t = time.monotonic()
        if st != 200:
            errors.append("watch on :%d answered %s %s" % (node.port, st, body))
            time.sleep(0.05)
            continue
        for c in body.get("Changes", []):
            if c["Name"] == WATCHED:
                seen.setdefault(c["Version"], t)
        since = body["Revision"]


def revision(node):
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        return json.loads(conn.getresponse().read())["revision"]
    finally:
        conn.close()


def main():
    akid, secret, samples, pace_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    ports = [int(p) for p in sys.argv[5:]]
    creds = botocore.credentials.Credentials(akid, secret)
    a = Node(ports[0], creds)
    others = ports[1:]

    # -- watch -------------------------------------------------------------
    put(a, WATCHED, "start")
    rev = revision(a)
    for p in others:  # every node has the first version before its watch parks
        n = Node(p, creds)
        while revision(n) < rev:
            time.sleep(0.01)
    stop = threading.Event()
    seen = {p: {} for p in others}
    errors = []
    threads = [threading.Thread(target=watcher, args=(Node(p, creds), rev, seen[p], stop, errors), daemon=True)
               for p in others]
    for t in threads:
        t.start()
    time.sleep(0.3)
    sent = {}
    for i in range(samples):
        t0 = time.monotonic()
        v = put(a, WATCHED, "w%d" % i)
        sent[v] = (t0, time.monotonic())
        time.sleep(pace_ms / 1000.0)
    end = time.monotonic() + 5
    while time.monotonic() < end and any(len(seen[p]) < len(sent) for p in others):
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(5)
    for p in others:
        for v, (t0, t1) in sorted(sent.items()):
            if v in seen[p]:
                print("watch\t%d\t%.3f\t%.3f" % (p, (seen[p][v] - t0) * 1000, (seen[p][v] - t1) * 1000))
            else:
                print("watch\t%d\tmissed\tmissed" % p)
    for e in errors[:5]:
        sys.stderr.write("lag.py: %s\n" % e)

    # -- visibility --------------------------------------------------------
    readers = [Node(p, creds) for p in others]
    for i in range(samples):
        r = readers[i % len(readers)]
        value = "p%d" % i
        put(a, POLLED, value)
        t1 = time.monotonic()
        deadline = t1 + 5
        got = None
        while time.monotonic() < deadline:
            st, body = r.call("AmazonSSM.GetParameter", {"Name": POLLED})
            if st == 200 and body["Parameter"]["Value"] == value:
                got = time.monotonic()
                break
        print("vis\t%d\t%s" % (r.port, "%.3f" % ((got - t1) * 1000) if got else "missed"))
        time.sleep(pace_ms / 1000.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
