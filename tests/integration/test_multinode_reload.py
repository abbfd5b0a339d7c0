"""A node that falls further behind than the change feed retains
(--feed-retention; docs/production.md, "Several nodes") loads the whole
store again instead of stopping: node B is frozen (SIGSTOP) while A writes,
overwrites and deletes far past the retention, and once B runs again it
serves exactly A's state, the watch it had parked answers "compacted"
(list again) at once, and new watches on B fire for writes on A."""

import json
import os
import shutil
import signal
import tempfile
import threading
import time
import unittest

from lever_harness import Leverd
from pg_harness import PgServer
import test_multinode as mn

RETENTION = 20


class FeedReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def setUp(self):
        self.nodes = []
        self.tmp = tempfile.mkdtemp(prefix="lever-mnr-")
        self.key = os.path.join(self.tmp, "master.key")
        self.db = self.id().rsplit(".", 1)[-1].lower()
        self.uri = self.pg.create_db(self.db)

    def tearDown(self):
        bad = []
        for s in self.nodes:
            if s.alive():
                s.proc.send_signal(signal.SIGCONT)
            try:
                s.stop()
            except Exception:  # noqa: BLE001
                s.kill()
            text = s.log_text()
            if "Sanitizer" in text or "runtime error:" in text:
                bad.append(s.log_tail(6000))
            s.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(bad, [], "a node reported a sanitizer error")

    def node(self):
        # Every node compacts with its own setting when it commits: give all the same.
        s = Leverd(extra_args=["--store", self.uri, "--feed-retention", str(RETENTION)],
                   extra_env={"LEVER_MASTER_KEY_FILE": self.key})
        self.nodes.append(s)
        return s.start()

    @staticmethod
    def revision(s):
        return json.loads(s.raw("GET", "/healthz")[2])["revision"]

    @staticmethod
    def metric(s, name):
        for line in s.raw("GET", "/metrics")[2].decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
        return None

    @staticmethod
    def by_path(s):
        c = s.client()
        out, kw = {}, {}
        while True:
            r = c.get_parameters_by_path(Path="/r", Recursive=True, **kw)
            for p in r["Parameters"]:
                out[p["Name"]] = (p["Value"], p["Version"])
            if not r.get("NextToken"):
                return out
            kw["NextToken"] = r["NextToken"]

    def test_node_behind_the_feed_reloads(self):
        a, b = self.node(), self.node()
        ca = a.client()
        ca.put_parameter(Name="/r/keep", Value="same", Type="String")
        ca.put_parameter(Name="/r/gone", Value="doomed", Type="String")
        ca.put_parameter(Name="/r/changed", Value="v1", Type="String")
        ca.put_parameter(Name="/r/secret", Value="s1", Type="SecureString")
        rev0 = self.revision(a)
        mn.wait_for(lambda: self.revision(b) >= rev0, "B to follow A")
        self.assertEqual(self.metric(b, "lever_store_reloads_total"), 0)
        # B measures how far behind A's writes it applies them.
        self.assertGreaterEqual(self.metric(b, "lever_store_follow_lag_seconds_count"), 1)
        self.assertEqual(self.metric(b, 'lever_store_follow_lag_seconds_bucket{le="+Inf"}'),
                         self.metric(b, "lever_store_follow_lag_seconds_count"))

        # B parks a watch, then stops running while A moves on.
        parked = {}

        def watch():
            parked["r"] = b.call_raw("Lever.WatchParameters",
                                     {"Path": "/r", "Recursive": True, "SinceRevision": rev0, "WaitSeconds": 25},
                                     timeout=60)
            parked["t"] = time.monotonic()

        t = threading.Thread(target=watch)
        t.start()
        time.sleep(0.3)
        b.proc.send_signal(signal.SIGSTOP)
        ca.delete_parameter(Name="/r/gone")
        ca.put_parameter(Name="/r/changed", Value="v2", Type="String", Overwrite=True)
        ca.put_parameter(Name="/r/secret", Value="s2", Type="SecureString", Overwrite=True)
        for i in range(4 * RETENTION):
            ca.put_parameter(Name="/r/fill/%03d" % i, Value="f%d" % i, Type="String")
            if i % 3 == 0:
                ca.delete_parameter(Name="/r/fill/%03d" % i)
        ca.put_parameter(Name="/r/new", Value="late", Type="String")
        head, horizon = (int(x) for x in self.pg.psql("SELECT rev, horizon FROM lever_head", db=self.db).split("|"))
        self.assertGreater(horizon, rev0, "A compacted the feed past B's position")
        self.assertGreaterEqual(horizon, head - 2 * RETENTION)

        cb = b.client()
        resumed = time.monotonic()
        b.proc.send_signal(signal.SIGCONT)
        # A write on B at once: planned after B loaded the store again
        # (whether its follower or its writer noticed first).
        cb.put_parameter(Name="/r/fromb", Value="b", Type="String")
        mn.wait_for(lambda: self.by_path(a).get("/r/fromb") == ("b", 1), "A to follow B's write")
        mn.wait_for(lambda: self.metric(b, "lever_store_reloads_total") == 1, "B to load the store again")
        mn.wait_for(lambda: self.revision(b) >= head, "B to reach A's head")
        self.assertIn("loading the whole store again", b.log_text())

        # The watch from before the gap cannot be answered with changes:
        # it says so at once (not at its deadline) and the client lists again.
        t.join(20)
        self.assertFalse(t.is_alive())
        st, _h, body, _ = parked["r"]
        self.assertEqual(st, 400, body)
        self.assertEqual(body["__type"], "RevisionCompactedException")
        self.assertLess(parked["t"] - resumed, 10)

        # B serves exactly A's state: deletions included, versions kept.
        self.assertEqual(self.by_path(b), self.by_path(a))
        got = cb.get_parameter(Name="/r/secret", WithDecryption=True)["Parameter"]
        self.assertEqual((got["Value"], got["Version"]), ("s2", 2))
        hist = cb.get_parameter_history(Name="/r/changed")["Parameters"]
        self.assertEqual([(h["Version"], h["Value"]) for h in hist], [(1, "v1"), (2, "v2")])
        with self.assertRaises(cb.exceptions.ParameterNotFound):
            cb.get_parameter(Name="/r/gone")

        # Watches on B fire again for writes on A, and B keeps following.
        rev1 = self.revision(b)
        fresh = {}

        def watch2():
            fresh["r"] = b.call_raw("Lever.WatchParameters",
                                    {"Path": "/r", "Recursive": True, "SinceRevision": rev1, "WaitSeconds": 20},
                                    timeout=40)

        t2 = threading.Thread(target=watch2)
        t2.start()
        time.sleep(0.3)
        ca.put_parameter(Name="/r/after", Value="seen", Type="String")
        t2.join(30)
        self.assertFalse(t2.is_alive())
        st, _h, body, _ = fresh["r"]
        self.assertEqual(st, 200, body)
        self.assertEqual([(c["Name"], c["Kind"]) for c in body["Changes"]], [("/r/after", "Put")])
        self.assertEqual(cb.get_parameter(Name="/r/after")["Parameter"]["Value"], "seen")
        self.assertEqual(self.metric(b, "lever_store_reloads_total"), 1)


if __name__ == "__main__":
    unittest.main()
