"""Many keep-alive connections on one HTTP thread (issue 15): leverd and
lever-agent started with `--threads 1` serve 512 concurrent keep-alive
connections, and every connection gets every one of its answers, correct,
within a generous deadline. This checks correctness under load, not speed:
before the fix, a single event loop stalled whenever a multiple of 128
connections were ready at once, until some connection's timeout.

The client is asyncio on one thread. It opens the 512 connections while the
server is paused (SIGSTOP), so they wait in the listen backlog, then runs
rounds in which every connection sends one request and reads its answer,
all at once; every fifth round sends all requests while the server is
paused, so that it finds 512 ready connections at once when it continues
(what a descheduled or CPU-throttled process sees). Python alone cannot
keep enough requests in flight to reach that state."""
import asyncio
import json
import os
import resource
import signal
import time
import urllib.parse

import test_agent as agent_mod
from lever_harness import LeverTestCase

CONNS = 512
REQUESTS = 30           # per connection
DEADLINE = 90.0        # seconds for all CONNS * REQUESTS answers


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" not in headers:
        raise AssertionError("response without Content-Length: %r" % head)
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


class Conn:
    def __init__(self, reader, writer):
        self.reader, self.writer, self.answers = reader, writer, 0


async def answer(conn, i, check):
    status, headers, body = await read_response(conn.reader)
    problem = check(i, status, headers, body)
    if problem:
        raise AssertionError(problem)
    if headers.get("connection", "").lower() == "close":
        raise AssertionError("server closed a keep-alive connection after %d answers" % (conn.answers + 1))
    conn.answers += 1


async def send(conn, request):
    conn.writer.write(request)
    await conn.writer.drain()


async def exchange(conn, i, request, check):
    await send(conn, request)
    await answer(conn, i, check)


class Paused:
    """The server under test stopped with SIGSTOP for the block: whatever
    clients send meanwhile waits in the kernel, so the server finds every
    connection ready at once when it continues (a burst, as after the
    process was descheduled or throttled by its CPU quota)."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)

    def __exit__(self, *exc):
        os.kill(self.pid, signal.SIGCONT)


async def drive(port, pid, requests, check):
    """Opens CONNS connections while the server is paused (they wait in the
    listen backlog), then runs REQUESTS rounds: in each, every connection
    sends one request and reads its answer, all connections at once. Every
    fifth round is a burst: all requests are sent while the server is
    paused. Returns the connections and the seconds the rounds took."""
    t0 = time.monotonic()
    with Paused(pid):
        opened = await asyncio.gather(*[asyncio.open_connection("127.0.0.1", port) for _ in range(CONNS)])
    conns = [Conn(r, w) for r, w in opened]
    try:
        for i in range(REQUESTS):
            k = i % len(requests)
            if i % 5 == 0:
                with Paused(pid):
                    await asyncio.gather(*[send(c, requests[k]) for c in conns])
                await asyncio.gather(*[answer(c, k, check) for c in conns])
            else:
                await asyncio.gather(*[exchange(c, k, requests[k], check) for c in conns])
    finally:
        for c in conns:
            c.writer.close()
    return conns, time.monotonic() - t0


def run_load(port, pid, requests, check):
    async def bounded():
        return await asyncio.wait_for(drive(port, pid, requests, check), DEADLINE)
    try:
        return asyncio.run(bounded())
    except asyncio.TimeoutError:
        raise AssertionError("%d connections did not get their %d answers each within %.0f s"
                             % (CONNS, REQUESTS, DEADLINE)) from None
    finally:
        os.kill(pid, signal.SIGCONT)  # never leave the server stopped


class ManyConnectionsTest(LeverTestCase):
    LEVERD_KW = {"extra_args": ["--threads", "1"]}

    def setUp(self):
        super().setUp()
        limit = raise_fd_limit(CONNS + 256)
        self.assertGreaterEqual(limit, CONNS + 64, "the test needs more descriptors than RLIMIT_NOFILE allows")

    def check_all(self, what, conns, elapsed):
        self.assertEqual(len(conns), CONNS)
        self.assertEqual([c.answers for c in conns], [REQUESTS] * CONNS)
        print("%s: %d connections x %d requests in %.2f s" % (what, CONNS, REQUESTS, elapsed))

    def test_leverd_one_thread_512_connections(self):
        name = self.n("many/conns")
        self.ssm.put_parameter(Name=name, Value="value-of-many", Type="String")
        body = json.dumps({"Name": name}).encode()
        headers = self.server.signed_headers("AmazonSSM.GetParameter", body)
        signed = "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % self.server.port
        signed += "".join("%s: %s\r\n" % (k, v) for k, v in headers.items() if k.lower() != "host")
        signed = signed.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body
        health = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        requests = [signed, health]

        def check(i, status, _headers, body):
            if status != 200:
                return "request %d: status %d: %r" % (i, status, body[:200])
            if i == 0:
                p = json.loads(body)["Parameter"]
                if (p["Name"], p["Value"]) != (name, "value-of-many"):
                    return "wrong parameter: %r" % p
            return None

        conns, elapsed = run_load(self.server.port, self.server.proc.pid, requests, check)
        self.check_all("leverd", conns, elapsed)
        st, _h, _b = self.server.raw("GET", "/healthz")
        self.assertEqual(st, 200)

    def test_agent_one_thread_512_connections(self):
        name = self.n("many/agent")
        self.ssm.put_parameter(Name=name, Value="cached-value", Type="String")
        a = agent_mod.Agent(self.server.endpoint, args=["--threads", "1", "--ttl", "300"])
        try:
            a.start()
            st, _h, p = a.get(name)   # fills the cache: the load reads cached answers
            self.assertEqual(st, 200, p)
            path = agent_mod.GET + "?" + urllib.parse.urlencode({"name": name})
            req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aws-Parameters-Secrets-Token: %s\r\n\r\n"
                   % (path, agent_mod.TOKEN)).encode()

            def check(i, status, _headers, body):
                if status != 200:
                    return "status %d: %r" % (status, body[:200])
                if json.loads(body)["Parameter"]["Value"] != "cached-value":
                    return "wrong answer: %r" % body[:200]
                return None

            conns, elapsed = run_load(a.port, a.proc.pid, [req], check)
            self.check_all("lever-agent", conns, elapsed)
            self.assertEqual(a.raw("/healthz")[0], 200)
            self.assertEqual(a.stop(), 0, "lever-agent did not stop cleanly\n" + a.log())
        finally:
            a.cleanup()
