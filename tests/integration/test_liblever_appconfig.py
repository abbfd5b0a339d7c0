"""liblever's AppConfig configurations against a real leverd (through the
shared library, tests/integration/liblever_ac_probe.c): a read by names,
the cache, a live callback when a new version is deployed, the last good
copy served stale while leverd is down, unsubscribe."""
import os
import subprocess
import time

from appconfig_agent import Operator, clean_env, unique
from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir

PROBE = os.path.join(build_dir(), "liblever_ac_probe")


class LibleverAppConfigTest(LeverTestCase):
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "600"}}

    def probe(self, app, env, prof):
        e = dict(clean_env(), HOME=self.server.tmp, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                 AWS_SHARED_CREDENTIALS_FILE="/dev/null", LEVER_ENDPOINT=self.server.endpoint)
        p = subprocess.Popen([PROBE, app, env, prof, "500"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env=e, bufsize=1)
        self.addCleanup(lambda: (p.kill(), p.wait()) if p.poll() is None else None)
        return p

    def line(self, p, prefix, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                self.fail("probe exited")
            if line.startswith(prefix):
                return line.rstrip("\n")
        self.fail("no %s line" % prefix)

    def cmd(self, p, c):
        p.stdin.write(c + "\n")
        p.stdin.flush()

    def test_read_callback_stale_unsubscribe(self):
        op = Operator(self.server)
        app, env, prof = unique("lib"), unique("env"), unique("cfg")
        a, e, pid = op.profile(app, env, prof)
        op.deploy(a, e, pid, op.store(a, pid, [{"username": "dongkyl"}, {"username": "haandol"}]))
        p = self.probe(app, env, prof)
        self.assertEqual(self.line(p, "GET"),
                         'GET store 1 application/json [{"username": "dongkyl"}, {"username": "haandol"}]')
        # within the TTL, or while the watch is current: from the cache
        self.cmd(p, "get")
        self.assertTrue(self.line(p, "GET").startswith("GET cache 1 "))
        time.sleep(0.7)
        self.cmd(p, "get")
        self.assertTrue(self.line(p, "GET").startswith("GET cache 1 "), "kept current by the watch past the TTL")
        # a new version, deployed: the callback fires with it
        op.deploy(a, e, pid, op.store(a, pid, [{"username": "dongkyl"}]))
        self.assertEqual(self.line(p, "CHANGE"), 'CHANGE 2 [{"username": "dongkyl"}]')
        self.cmd(p, "get")
        self.assertEqual(self.line(p, "GET"), 'GET cache 2 application/json [{"username": "dongkyl"}]')
        # leverd down: past the TTL, the last good copy, marked stale
        self.server.kill()
        try:
            deadline = time.monotonic() + 15
            got = None
            while time.monotonic() < deadline:
                self.cmd(p, "get")
                got = self.line(p, "GET")
                if got.startswith("GET cache-stale 2 "):
                    break
                time.sleep(0.1)
            self.assertTrue(got.startswith("GET cache-stale 2 "), got)
        finally:
            self.server.restart()
        self.cmd(p, "unsub")
        self.assertEqual(self.line(p, "UNSUB"), "UNSUB ok")
        self.cmd(p, "quit")
        self.assertEqual(p.wait(10), 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
