"""Several leverd nodes on one PostgreSQL (docs/production.md, "Several
nodes"): a write acknowledged by one node is visible on the others, a
client's x-lever-revision is never answered from older state, watches on B
wake for writes on A, create races have one winner and concurrent
overwrites never lose or duplicate a version, access keys made on A work on
B, a node killed under load loses no acknowledged write, a PostgreSQL
restart under load needs no leverd restart (writes fail retryably, reads
stay served and say they may be stale), and a node started later loads
everything and follows."""

import json
import os
import shutil
import tempfile
import threading
import time
import unittest

import botocore.exceptions

from ac_helpers import ac_clients
from lever_harness import ACCOUNT, REGION, Leverd, create_key, error_code
from pg_harness import PgServer

DEADLINE = 30.0


def wait_for(pred, what, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class MultiNodeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def setUp(self):
        self.nodes = []
        self.tmp = tempfile.mkdtemp(prefix="lever-mn-")
        self.key = os.path.join(self.tmp, "master.key")
        self.uri = self.pg.create_db(self.id().rsplit(".", 1)[-1].lower())

    def tearDown(self):
        bad = []
        for s in self.nodes:
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

    def node(self, start=True, args=()):
        """A node on the shared database; every node uses the same master key file."""
        s = Leverd(extra_args=["--store", self.uri] + list(args), extra_env={"LEVER_MASTER_KEY_FILE": self.key})
        self.nodes.append(s)
        return s.start() if start else s

    def get(self, s, name, revision=None):
        hdrs = {"x-lever-revision": str(revision)} if revision is not None else None
        return s.call_raw("AmazonSSM.GetParameter", {"Name": name}, headers=hdrs)

    def put(self, s, name, value, overwrite=False):
        st, h, body, _ = s.call_raw("AmazonSSM.PutParameter",
                                    {"Name": name, "Value": value, "Type": "String", "Overwrite": overwrite})
        return st, int(h["x-lever-revision"]), body

    def test_read_your_write_across_nodes(self):
        a, b = self.node(), self.node()
        for i in range(40):
            st, rev, body = self.put(a, "/ryw/p", "v%d" % i, overwrite=i > 0)
            self.assertEqual(st, 200, body)
            self.assertEqual(body["Version"], i + 1)
            # With the revision of the write, B never answers from before it.
            st, h, got, _ = self.get(b, "/ryw/p", revision=rev)
            self.assertEqual(st, 200, got)
            self.assertEqual(got["Parameter"]["Value"], "v%d" % i)
            self.assertGreaterEqual(int(h["x-lever-revision"]), rev)
        # Revisions are global: both nodes report the same one when idle.
        wait_for(lambda: json.loads(a.raw("GET", "/healthz")[2])["revision"] ==
                 json.loads(b.raw("GET", "/healthz")[2])["revision"], "the nodes to agree")
        # A revision no node has reached is a retryable 503, not old data.
        st, h, got, _ = self.get(b, "/ryw/p", revision=rev + 1000)
        self.assertEqual(st, 503, got)
        self.assertEqual(got["__type"], "ServiceUnavailable")
        # Without the header B still converges (bounded lag).
        self.put(a, "/ryw/q", "later")
        wait_for(lambda: self.get(b, "/ryw/q")[0] == 200, "B to see /ryw/q")

    def test_watch_on_b_wakes_for_writes_on_a(self):
        a, b = self.node(), self.node()
        st, rev, _ = self.put(a, "/w/first", "1")
        # B knows A's revision (it waits for it), then parks a watch.
        result = {}

        def watch():
            result["r"] = b.call_raw("Lever.WatchParameters",
                                     {"Path": "/w", "SinceRevision": rev, "WaitSeconds": 20},
                                     headers={"x-lever-revision": str(rev)}, timeout=40)

        t = threading.Thread(target=watch)
        t.start()
        time.sleep(0.3)
        st, rev2, _ = self.put(a, "/w/second", "2")
        t.join(30)
        self.assertFalse(t.is_alive())
        st, _h, body, _ = result["r"]
        self.assertEqual(st, 200, body)
        names = [(c["Name"], c["Kind"], c["Revision"]) for c in body["Changes"]]
        self.assertEqual(names, [("/w/second", "Put", rev2)])
        # The same change log on both nodes: kinds, versions and revisions.
        a.call_raw("AmazonSSM.LabelParameterVersion", {"Name": "/w/second", "Labels": ["blue"]})
        a.call_raw("AmazonSSM.DeleteParameter", {"Name": "/w/first"})
        logs = []
        for s in (a, b):
            def changes(s=s):
                st, _h, body, _ = s.call_raw("Lever.WatchParameters", {"Path": "/w", "SinceRevision": rev,
                                                                       "WaitSeconds": 0})
                return body["Changes"] if st == 200 and len(body["Changes"]) == 3 else None
            logs.append([(c["Name"], c["Kind"], c["Version"], c["Revision"])
                         for c in wait_for(changes, "three changes")])
        self.assertEqual(logs[0], logs[1])
        self.assertEqual([k for _n, k, _v, _r in logs[0]], ["Put", "Label", "Delete"])

    def test_create_race_has_one_winner(self):
        nodes = [self.node(), self.node(), self.node()]
        for round_ in range(8):
            name = "/race/%d" % round_
            barrier = threading.Barrier(6)
            out = []

            def create(s, tag):
                barrier.wait()
                st, _rev, body = self.put(s, name, tag)
                out.append((st, body, tag))

            ts = [threading.Thread(target=create, args=(nodes[i % 3], "t%d" % i)) for i in range(6)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            won = [o for o in out if o[0] == 200]
            lost = [o for o in out if o[0] != 200]
            self.assertEqual(len(won), 1, out)
            self.assertEqual(won[0][1]["Version"], 1)
            for st, body, _tag in lost:
                self.assertEqual(body["__type"], "ParameterAlreadyExists", body)
            rev = int(self.get(nodes[0], name)[1]["x-lever-revision"])
            for s in nodes:
                st, _h, got, _ = self.get(s, name, revision=rev)
                self.assertEqual(got["Parameter"]["Value"], won[0][2])
                self.assertEqual(got["Parameter"]["Version"], 1)

    def test_concurrent_overwrites_never_lose_or_duplicate(self):
        nodes = [self.node(), self.node(), self.node()]
        self.put(nodes[0], "/ow/p", "start")
        per, got = 12, []
        lock = threading.Lock()

        def writer(s, tid):
            for i in range(per):
                st, _rev, body = self.put(s, "/ow/p", "t%d-%d" % (tid, i), overwrite=True)
                self.assertEqual(st, 200, body)
                with lock:
                    got.append((body["Version"], "t%d-%d" % (tid, i)))

        ts = [threading.Thread(target=writer, args=(nodes[t % 3], t)) for t in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        versions = sorted(v for v, _ in got)
        self.assertEqual(versions, list(range(2, 2 + 6 * per)), "each overwrite got its own version")
        final = max(got)
        for s in nodes:
            c = s.client()
            wait_for(lambda c=c: c.get_parameter(Name="/ow/p")["Parameter"]["Version"] == final[0],
                     "every node at the last version")
            self.assertEqual(c.get_parameter(Name="/ow/p")["Parameter"]["Value"], final[1])
            hist = c.get_parameter_history(Name="/ow/p", MaxResults=50)
            vals = {}
            for page in c.get_paginator("get_parameter_history").paginate(Name="/ow/p"):
                for h in page["Parameters"]:
                    vals[h["Version"]] = h["Value"]
            self.assertTrue(hist["Parameters"])
            # History keeps the newest 100: all of them here, each value once.
            self.assertEqual(sorted(vals), list(range(1, 2 + 6 * per)))
            for v, value in got:
                self.assertEqual(vals[v], value)

    def test_access_keys_made_on_a_work_on_b(self):
        a, b = self.node(), self.node()
        akid, secret = create_key(a, policies={"read": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": "*"}]}})
        self.put(a, "/keys/p", "x")
        cb = b.client(access_key=akid, secret_key=secret)
        got = wait_for(lambda: self._try(lambda: cb.get_parameter(Name="/keys/p")), "the key on B")
        self.assertEqual(got["Parameter"]["Value"], "x")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cb.put_parameter(Name="/keys/q", Value="no", Type="String")
        self.assertEqual(error_code(cm.exception), "AccessDeniedException")

    @staticmethod
    def _try(fn):
        try:
            return fn()
        except botocore.exceptions.ClientError:
            return None

    def test_late_joiner_loads_and_follows(self):
        a = self.node()
        c = a.client()
        for i in range(50):
            c.put_parameter(Name="/late/%02d" % i, Value="v%d" % i, Type="String")
        c.put_parameter(Name="/late/secret", Value="sealed", Type="SecureString")
        b = self.node()
        cb = b.client()
        for i in range(50):
            self.assertEqual(cb.get_parameter(Name="/late/%02d" % i)["Parameter"]["Value"], "v%d" % i)
        self.assertEqual(cb.get_parameter(Name="/late/secret", WithDecryption=True)["Parameter"]["Value"],
                         "sealed")
        c.put_parameter(Name="/late/after", Value="followed", Type="String")
        wait_for(lambda: self._try(lambda: cb.get_parameter(Name="/late/after")), "B to follow")

    def test_sigkill_of_a_node_under_load_loses_nothing(self):
        a, b = self.node(), self.node()
        acked, stop = {}, threading.Event()
        lock = threading.Lock()

        def writer(s, tid):
            w = s.client()
            i = 0
            while not stop.is_set():
                name = "/kill/%d/%05d" % (tid, i)
                try:
                    w.put_parameter(Name=name, Value="v%d" % i, Type="String")
                except Exception:  # noqa: BLE001 - the kill cuts A's requests off
                    if s is a:
                        return
                    continue
                with lock:
                    acked[name] = "v%d" % i
                i += 1

        ts = [threading.Thread(target=writer, args=(a if t < 2 else b, t)) for t in range(4)]
        for t in ts:
            t.start()
        wait_for(lambda: len(acked) >= 120, "120 acknowledged writes")
        a.kill()
        time.sleep(0.2)
        stop.set()
        for t in ts:
            t.join()
        cb = b.client()
        for name, value in sorted(acked.items()):
            got = wait_for(lambda name=name: self._try(lambda: cb.get_parameter(Name=name)), name, timeout=10)
            self.assertEqual(got["Parameter"]["Value"], value, name)
        a.restart()
        ca = a.client()
        for name, value in sorted(acked.items()):
            self.assertEqual(ca.get_parameter(Name=name)["Parameter"]["Value"], value, name)

    def test_postgres_restart_under_load(self):
        a, b = self.node(), self.node()
        self.put(a, "/pgr/seed", "s")
        acked, errors, stop = {}, [], threading.Event()
        lock = threading.Lock()

        def writer(s, tid):
            w = s.client()
            i = 0
            while not stop.is_set():
                name = "/pgr/%d/%05d" % (tid, i)
                i += 1
                try:
                    w.put_parameter(Name=name, Value="v", Type="String")
                except botocore.exceptions.ClientError as e:
                    with lock:
                        errors.append((e.response["ResponseMetadata"]["HTTPStatusCode"], error_code(e)))
                    time.sleep(0.05)
                    continue
                except Exception:  # noqa: BLE001 - a connection cut mid-request
                    continue
                with lock:
                    acked[name] = "v"

        ts = [threading.Thread(target=writer, args=(a if t % 2 else b, t)) for t in range(4)]
        for t in ts:
            t.start()
        wait_for(lambda: len(acked) >= 40, "writes before the outage")
        self.pg.stop()
        # Writes fail with the retryable ServiceUnavailable; reads go on from
        # memory and say they may be stale.
        wait_for(lambda: any(e == (503, "ServiceUnavailable") for e in errors), "a 503 while PostgreSQL is down")
        for s in (a, b):
            st, h, got, _ = self.get(s, "/pgr/seed")
            self.assertEqual(st, 200, got)
            wait_for(lambda s=s: "x-lever-stale" in self.get(s, "/pgr/seed")[1], "the stale header")
            hz = json.loads(s.raw("GET", "/healthz")[2])
            self.assertEqual(hz["status"], "stale")
            self.assertFalse(hz["store"]["reachable"])
        self.pg.start()
        n = len(acked)
        wait_for(lambda: len(acked) >= n + 40, "writes after the outage")
        stop.set()
        for t in ts:
            t.join()
        for s in (a, b):
            wait_for(lambda s=s: json.loads(s.raw("GET", "/healthz")[2])["status"] == "ok", "healthy again")
        self.assertNotIn("x-lever-stale", self.get(a, "/pgr/seed")[1])
        # Every acknowledged write is on both nodes.
        rev = max(int(self.get(s, "/pgr/seed")[1]["x-lever-revision"]) for s in (a, b))
        for s in (a, b):
            for name in sorted(acked):
                st, _h, got, _ = self.get(s, name, revision=rev)
                self.assertEqual(st, 200, (name, got))
        self.assertTrue(all(e[0] in (400, 503) for e in errors), errors[:5])


    def test_deployment_clock_taken_over_when_its_node_dies(self):
        # 600x: Linear10PercentEvery10Minutes steps every second.
        nodes = [self.node(args=["--time-scale", "600"]) for _ in range(2)]
        ac, _data = ac_clients(nodes[0])
        a = ac.create_application(Name="takeover")
        e = ac.create_environment(ApplicationId=a["Id"], Name="prod")
        p = ac.create_configuration_profile(ApplicationId=a["Id"], Name="cfg", LocationUri="hosted")
        for i in (1, 2):
            ac.create_hosted_configuration_version(ApplicationId=a["Id"], ConfigurationProfileId=p["Id"],
                                                   Content=b"v%d" % i, ContentType="text/plain")

        def start(version, strategy):
            return ac.start_deployment(ApplicationId=a["Id"], EnvironmentId=e["Id"], DeploymentStrategyId=strategy,
                                       ConfigurationProfileId=p["Id"], ConfigurationVersion=str(version))

        def get(client, n):
            return client.get_deployment(ApplicationId=a["Id"], EnvironmentId=e["Id"], DeploymentNumber=n)

        first = start(1, "Lever.AllAtOnce")["DeploymentNumber"]
        wait_for(lambda: get(ac, first)["State"] == "COMPLETE", "the first deployment")
        n = start(2, "Lever.Linear10PercentEvery10Minutes")["DeploymentNumber"]
        wait_for(lambda: get(ac, n)["PercentageComplete"] >= 20, "20%")
        # Exactly one node drives it; kill that one.
        line = "drives the clock of deployment d%s/%s/%010d" % (a["Id"], e["Id"], n)
        drivers = [s for s in nodes if line in s.log_text()]
        self.assertEqual(len(drivers), 1, [s.log_tail(2000) for s in nodes])
        dead = drivers[0]
        other = nodes[1 - nodes.index(dead)]
        dead.kill()
        oc, _ = ac_clients(other)
        seen = []

        def done():
            d = get(oc, n)
            seen.append(d["PercentageComplete"])
            return d if d["State"] == "COMPLETE" else None

        d = wait_for(done, "COMPLETE on the surviving node", timeout=60)
        self.assertIn(line, other.log_text())
        self.assertEqual(seen, sorted(seen), "the percentage never goes down")
        steps = [float(ev["Description"].split(" to ")[1].split("%")[0]) for ev in reversed(d["EventLog"])
                 if ev["EventType"] == "PERCENTAGE_UPDATED"]
        self.assertEqual(steps, [10.0 * k for k in range(1, 11)], "every step once, in order")
        # The dead node comes back and follows; nobody drives a finished deployment twice.
        dead.restart()
        dc, _ = ac_clients(dead)
        self.assertEqual(get(dc, n)["State"], "COMPLETE")

    def test_hook_events_are_sent_once_across_nodes(self):
        """Every node follows the change log, but only the node driving a
        deployment's clock sends its ON_DEPLOYMENT_* events."""
        from test_hooks import Receiver
        recv = Receiver()
        self.addCleanup(recv.close)
        nodes = [self.node(args=["--time-scale", "600"]) for _ in range(2)]
        ac, _data = ac_clients(nodes[0])
        a = ac.create_application(Name="hooked")
        e = ac.create_environment(ApplicationId=a["Id"], Name="prod")
        p = ac.create_configuration_profile(ApplicationId=a["Id"], Name="cfg", LocationUri="hosted")
        ac.create_hosted_configuration_version(ApplicationId=a["Id"], ConfigurationProfileId=p["Id"],
                                               Content=b"v1", ContentType="text/plain")
        ext = ac.create_extension(Name="once", Actions={
            pt: [{"Name": pt.lower(), "Uri": recv.url("/ok?" + pt)}]
            for pt in ("ON_DEPLOYMENT_START", "ON_DEPLOYMENT_STEP", "ON_DEPLOYMENT_COMPLETE")})
        ac.create_extension_association(ExtensionIdentifier=ext["Id"],
                                        ResourceIdentifier="arn:aws:appconfig:%s:%s:application/%s" % (
                                            REGION, ACCOUNT, a["Id"]))
        # a label rollout too, associated through its parameter
        nodes[1].call_raw("AmazonSSM.PutParameter", {"Name": "/once/p", "Value": "1", "Type": "String"})
        nodes[1].call_raw("AmazonSSM.PutParameter", {"Name": "/once/p", "Value": "2", "Type": "String",
                                                     "Overwrite": True})
        nodes[1].call_raw("AmazonSSM.LabelParameterVersion", {"Name": "/once/p", "ParameterVersion": 1,
                                                              "Labels": ["live"]})
        ac.create_extension_association(ExtensionIdentifier=ext["Id"],
                                        ResourceIdentifier="arn:aws:ssm:%s:%s:parameter/once/p" % (REGION, ACCOUNT))
        n = ac.start_deployment(ApplicationId=a["Id"], EnvironmentId=e["Id"], DeploymentStrategyId="Lever.AllAtOnce",
                                ConfigurationProfileId=p["Id"], ConfigurationVersion="1")["DeploymentNumber"]
        st, _h, body, raw = nodes[1].call_raw("Lever.StartLabelDeployment", {
            "Name": "/once/p", "Label": "live", "ParameterVersion": 2, "DeploymentStrategyId": "Lever.AllAtOnce"})
        self.assertEqual(st, 200, raw)
        for pt in ("ON_DEPLOYMENT_START", "ON_DEPLOYMENT_STEP", "ON_DEPLOYMENT_COMPLETE"):
            wait_for(lambda pt=pt: len([r for r in recv.requests() if r["path"] == "/ok?" + pt]) >= 2, pt)
        time.sleep(2.5)  # the driver reports within a second: time enough for a duplicate to show
        got = {}
        for r in recv.requests():
            ev = json.loads(r["body"])
            what = ("label", ev["Parameter"]["Name"]) if "Parameter" in ev else ("appconfig", ev["DeploymentNumber"])
            got.setdefault((ev["Type"], what), 0)
            got[(ev["Type"], what)] += 1
        want = {(pt, w): 1 for pt in ("ON_DEPLOYMENT_START", "ON_DEPLOYMENT_STEP", "ON_DEPLOYMENT_COMPLETE")
                for w in (("appconfig", n), ("label", "/once/p"))}
        self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
