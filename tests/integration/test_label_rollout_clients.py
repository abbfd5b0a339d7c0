"""A label rollout as clients see it (real leverd at --time-scale 30, two
real lever-agents, liblever handles): while Lever.Canary10Percent30Minutes
holds label `live` at 10%, one entity gets the same version from leverd
direct (X-Lever-Entity-Id), from either agent's :2773 API (the same header)
and from a liblever handle whose client id it is, exactly the version the
published bucketing gives it (the Python reference, not lever's C). The
agents bucket locally: after one sweep every read is a cache hit. A stop
puts every entity back on version 1 through both agents (one watching the
prefix, one with a short TTL) within a deadline."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

from lever_harness import ACCESS_KEY, REGION, SECRET_KEY, LeverTestCase, build_dir
from test_agent import GET, TOKEN, Agent

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import bucketing  # noqa: E402

PROBE = os.path.join(build_dir(), "liblever_rollout_probe")
ENTITIES = ["entity-%d" % i for i in range(300)]
HANDLES = 40
DEADLINE = 20.0


class LabelRolloutClients(LeverTestCase):
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "30"}}  # the canary's 30 minutes are 60 s

    def setUp(self):
        super().setUp()
        self.name = "/lrc/%s/p" % self._testMethodName
        self.ssm.put_parameter(Name=self.name, Value="one", Type="String")
        self.ssm.put_parameter(Name=self.name, Value="two", Type="String", Overwrite=True)
        self.ssm.label_parameter_version(Name=self.name, ParameterVersion=1, Labels=["live"])
        self.agents, self.procs = [], []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.stdin.write("quit\n")
                p.stdin.flush()
                p.wait(timeout=10)
        bad = []
        for a in self.agents:
            rc = a.stop()
            if rc not in (0, None):
                bad.append("lever-agent exit status %s\n%s" % (rc, a.log()))
        super().tearDown()
        if bad:
            self.fail("\n".join(bad))

    def agent(self, *args, upstream=None):
        a = Agent(upstream or self.server.endpoint, args=list(args))
        self.agents.append(a)
        return a.start()

    def via_agent(self, a, entity=None):
        h = {"X-Aws-Parameters-Secrets-Token": TOKEN}
        if entity:
            h["X-Lever-Entity-Id"] = entity
        st, rh, body = a.raw(GET + "?" + urllib.parse.urlencode({"name": self.name + ":live"}), h)
        self.assertEqual(st, 200, body)
        import json
        return json.loads(body)["Parameter"]["Version"], rh.get("x-lever-cache")

    def direct(self, entity=None):
        h = {"X-Lever-Entity-Id": entity} if entity else None
        st, _h, p, raw = self.server.call_raw("AmazonSSM.GetParameter", {"Name": self.name + ":live"}, headers=h)
        self.assertEqual(st, 200, raw)
        return p["Parameter"]["Version"]

    def probe(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION=REGION,
                   LEVER_ENDPOINT=self.server.endpoint, HOME=self.server.tmp)
        p = subprocess.Popen([PROBE, "-", "-", "-", str(HANDLES)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env=env, text=True)
        self.procs.append(p)
        return p

    def fetch(self, p):
        p.stdin.write("fetch %s:live\n" % self.name)
        p.stdin.flush()
        line = p.stdout.readline().split()
        self.assertEqual(line[0], "FETCH", line)
        return [int(v) for v in line[1:]]

    @unittest.skipUnless(os.path.exists(PROBE), "liblever_rollout_probe not built")
    def test_one_entity_one_answer_everywhere(self):
        watching = self.agent("--prefetch", "/lrc")
        short = self.agent("--ttl", "1s")
        p = self.probe()
        self.assertEqual(self.fetch(p), [1] * HANDLES)
        for a in (watching, short):
            self.assertEqual(self.via_agent(a, "entity-0")[0], 1)  # cached before the rollout starts
        st, _h, d, raw = self.server.call_raw("Lever.StartLabelDeployment", {
            "Name": self.name, "Label": "live", "ParameterVersion": 2,
            "DeploymentStrategyId": "Lever.Canary10Percent30Minutes"})
        self.assertEqual((st, d["PercentageComplete"]), (200, 10), raw)
        seed = "ssm:%s:%s:live:%d" % (REGION, self.name, d["DeploymentNumber"])

        def want(e):
            return 2 if bucketing.bucket(seed, e) < bucketing.threshold(10) else 1

        # the watching agent drops its entry at the start; the other within its TTL
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end and any(self.via_agent(a, ENTITIES[i])[0] != want(ENTITIES[i])
                                              for a in (watching, short) for i in range(20)):
            time.sleep(0.05)
        t0 = time.monotonic()
        for e in ENTITIES:
            w = want(e)
            self.assertEqual(self.direct(e), w, e)
            self.assertEqual(self.via_agent(watching, e)[0], w, e)
            self.assertEqual(self.via_agent(short, e)[0], w, e)
        got = self.fetch(p)
        self.assertEqual(got, [want("entity-%d" % i) for i in range(HANDLES)])
        self.assertTrue(0 < sum(want(e) == 2 for e in ENTITIES) < 100)
        # without the header: the caller's access key, the agent's being the same as ours
        self.assertEqual(self.via_agent(watching)[0], self.direct())
        # local bucketing: a second sweep through the watching agent is all hits
        caches = {self.via_agent(watching, e)[1] for e in ENTITIES}
        self.assertEqual(caches, {"hit"})
        self.assertLess(time.monotonic() - t0, 50, "the sweep outlasted the canary's share: the test proves nothing")
        self.assertEqual(self.server.call_raw("Lever.GetLabelDeployment", {"Name": self.name, "Label": "live"})[2]
                         ["PercentageComplete"], 10)
        st, _h, d, raw = self.server.call_raw("Lever.StopLabelDeployment", {"Name": self.name, "Label": "live"})
        self.assertEqual((st, d["State"]), (200, "ROLLED_BACK"), raw)
        new = [e for e in ENTITIES if want(e) == 2]
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if all(self.via_agent(a, e)[0] == 1 for a in (watching, short) for e in new):
                break
            time.sleep(0.05)
        for a in (watching, short):
            self.assertEqual({self.via_agent(a, e)[0] for e in new}, {1})
        self.assertEqual(set(self.fetch(p)), {1})

    def test_agent_restarted_mid_rollout_serves_both_sides_from_disk(self):
        cache = tempfile.mkdtemp(prefix="lever-lrc-cache-")
        self.addCleanup(shutil.rmtree, cache, True)
        a = Agent(self.server.endpoint, cache_dir=cache)
        a.start()
        st, _h, d, raw = self.server.call_raw("Lever.StartLabelDeployment", {
            "Name": self.name, "Label": "live", "ParameterVersion": 2,
            "DeploymentStrategyId": "Lever.Canary10Percent30Minutes"})
        self.assertEqual(st, 200, raw)
        seed = "ssm:%s:%s:live:%d" % (REGION, self.name, d["DeploymentNumber"])

        def want(e):
            return 2 if bucketing.bucket(seed, e) < bucketing.threshold(10) else 1
        for e in ENTITIES[:100]:
            self.assertEqual(self.via_agent(a, e)[0], want(e), e)
        self.assertEqual(a.stop(), 0)  # SIGTERM writes the disk copy
        a.cleanup()
        # leverd unreachable: the disk copy holds both sides and the rollout
        b = self.agent("--cache-dir", cache, upstream="http://127.0.0.1:9")
        self.assertNotIn("rejected", b.log())
        for e in ENTITIES[:100]:
            self.assertEqual(self.via_agent(b, e)[0], want(e), e)

    def test_bad_entity_and_side_headers(self):
        a = self.agent()
        st, _h, body = a.raw(GET + "?" + urllib.parse.urlencode({"name": self.name + ":live"}),
                             {"X-Aws-Parameters-Secrets-Token": TOKEN, "X-Lever-Entity-Id": "a b"})
        self.assertEqual(st, 400, body)
        st, _h, p, raw = self.server.call_raw("AmazonSSM.GetParameter", {"Name": self.name + ":live"},
                                              headers={"x-lever-rollout-side": "both"})
        self.assertEqual((st, p["__type"]), (400, "ValidationException"), raw)


if __name__ == "__main__":
    unittest.main()
