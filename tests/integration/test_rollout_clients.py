"""Gradual deployments as clients see them (real leverd at --time-scale,
real lever-agents, liblever handles): through an agent, 2,000 entities
(Entity-Id) get the new version exactly when the published bucketing puts
them in the current percentage (checked per answer against the independent
Python reference), the share tracks the percentage, an entity keeps the new
version once it has it, two agents give one entity the same answer, and a
rollback brings every entity back within a deadline; liblever handles (one
client id each) the same, and report their sides (GetDeployment's ServedShare)."""
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import sys
import time
import unittest

from appconfig_agent import ACAgent, Operator, unique
from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import bucketing  # noqa: E402  the reference implementation, not lever's C

ENTITIES = ["entity-%d" % i for i in range(2000)]
PROBE = os.path.join(build_dir(), "liblever_rollout_probe")
ROLLBACK_DEADLINE_S = 10  # generous for a loaded machine; the benchmark measures it


def in_share(seed, entity, pct):
    return bucketing.bucket(seed, entity) < bucketing.threshold(pct)


class Sweeper:
    """Reads one configuration through an agent for many entities over one
    keep-alive connection."""

    def __init__(self, agent, path):
        self.agent, self.path = agent, path
        self.conn = None

    def get(self, entity):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.agent.ac_port, timeout=10)
            try:
                self.conn.request("GET", self.path, headers={"Entity-Id": entity})
                r = self.conn.getresponse()
                body = r.read()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, body
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()


class RolloutClientsTest(LeverTestCase):
    # one strategy minute is 1/60 s: 10-minute steps are 10 s
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "60"}}

    def setUp(self):
        self.op = Operator(self.server)
        self.agents = []
        self.procs = []
        self.app, self.envname, self.prof = unique("shop"), unique("prod"), unique("cfg")
        self.a, self.e, self.p = self.op.profile(self.app, self.envname, self.prof)
        self.v1 = self.op.store(self.a, self.p, {"v": 1})
        self.v2 = self.op.store(self.a, self.p, {"v": 2})
        self.op.deploy(self.a, self.e, self.p, self.v1, strategy="Lever.AllAtOnce")
        self.strategy = self.op.ac.create_deployment_strategy(
            Name=unique("quarters"), DeploymentDurationInMinutes=40, GrowthFactor=25, FinalBakeTimeInMinutes=0,
            GrowthType="LINEAR", ReplicateTo="NONE")["Id"]

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        bad = []
        for a in self.agents:
            rc = a.stop()
            if rc not in (0, None):
                bad.append("lever-agent exit status %s\n%s" % (rc, a.log()))
            a.cleanup()
        super().tearDown()
        if bad:
            self.fail("\n".join(bad))

    def agent(self, upstream=None, cache_dir=None):
        a = ACAgent(upstream or self.server.endpoint, cache_dir=cache_dir,
                    ac_args=["--appconfig-prefetch", "%s:%s:%s" % (self.app, self.envname, self.prof)])
        self.agents.append(a)
        return a.start()

    def start_gradual(self):
        n = self.op.ac.start_deployment(ApplicationId=self.a, EnvironmentId=self.e, ConfigurationProfileId=self.p,
                                        DeploymentStrategyId=self.strategy,
                                        ConfigurationVersion=str(self.v2))["DeploymentNumber"]
        return n, "appconfig:%s:%s:%d" % (self.a, self.e, n)

    def state(self, n):
        d = self.op.ac.get_deployment(ApplicationId=self.a, EnvironmentId=self.e, DeploymentNumber=n)
        return d["State"], d["PercentageComplete"]

    def raw_deployment(self, n):
        """GetDeployment as leverd answers it, lever's members included
        (boto3 drops what its model does not know)."""
        box = {}

        def grab(http_response, **_kw):
            box["body"] = json.loads(http_response.content)

        ev = "after-call.appconfig.GetDeployment"
        self.op.ac.meta.events.register(ev, grab)
        try:
            self.op.ac.get_deployment(ApplicationId=self.a, EnvironmentId=self.e, DeploymentNumber=n)
        finally:
            self.op.ac.meta.events.unregister(ev, grab)
        return box["body"]

    def stop(self, n):
        self.op.ac.stop_deployment(ApplicationId=self.a, EnvironmentId=self.e, DeploymentNumber=n)

    def test_agents_bucket_like_leverd_and_roll_back(self):
        a, b = self.agent(), self.agent()
        path = "/applications/%s/environments/%s/configurations/%s" % (self.app, self.envname, self.prof)
        sa, sb = Sweeper(a, path), Sweeper(b, path)
        try:
            for e in ENTITIES[:50]:
                self.assertEqual(sa.get(e)[2], b'{"v": 1}')
            n, seed = self.start_gradual()
            got_new = set()   # stickiness: once new, new for the rest of the deployment
            by_pct = {}       # percentage -> {entity: served the new version}, over sweeps
            seen_rolling, done = False, False
            deadline = time.monotonic() + 120

            def mids():
                return sorted(p for p, m in by_pct.items() if 0 < p < 100 and len(m) >= 400)
            while time.monotonic() < deadline and not done and len(mids()) < 2:
                for i, e in enumerate(ENTITIES):
                    st, h, body = sa.get(e)
                    self.assertEqual(st, 200, body)
                    pct = h.get("x-lever-rollout-percent")
                    if pct is None:  # not yet, or no longer, in a gradual deployment
                        if seen_rolling:
                            done = True
                            break
                        continue
                    seen_rolling = True
                    pct = float(pct)
                    want_new = in_share(seed, e, pct)
                    # every answer is exactly the side the bucketing gives at its percentage
                    self.assertEqual(body, b'{"v": 2}' if want_new else b'{"v": 1}', (e, pct))
                    self.assertEqual(h.get("x-lever-rollout-side"), "to" if want_new else "from")
                    self.assertEqual(h.get("configuration-version"), str(self.v2 if want_new else self.v1))
                    if e in got_new:
                        self.assertTrue(want_new, "%s went back to the old version at %s %%" % (e, pct))
                    if want_new:
                        got_new.add(e)
                    by_pct.setdefault(pct, {})[e] = want_new
                    if i % 10 == 0:
                        # the second agent gives the entity the same answer at the same percentage
                        st, hb, bb = sb.get(e)
                        if hb.get("x-lever-rollout-percent") and float(hb["x-lever-rollout-percent"]) == pct:
                            self.assertEqual(bb, body, e)
                time.sleep(0.01)
            ms = mids()
            self.assertGreaterEqual(len(ms), 2, "saw the deployment at %r" % sorted(
                (p, len(m)) for p, m in by_pct.items()))
            for p in ms:
                # the share tracks the percentage (within sampling noise)
                m = by_pct[p]
                share = 100.0 * sum(m.values()) / len(m)
                noise = 4 * 100 * ((p / 100) * (1 - p / 100) / len(m)) ** 0.5 + 1
                self.assertLess(abs(share - p), noise, (p, share, len(m)))
            self.assertLess(sum(by_pct[ms[0]].values()) / len(by_pct[ms[0]]),
                            sum(by_pct[ms[-1]].values()) / len(by_pct[ms[-1]]))
            # roll back mid-deployment: everyone on the old version within the deadline
            on_new = sorted(got_new)
            self.assertTrue(on_new)
            self.stop(n)
            t0 = time.monotonic()
            while True:
                if all(sa.get(e)[2] == b'{"v": 1}' for e in on_new):
                    break
                self.assertLess(time.monotonic() - t0, ROLLBACK_DEADLINE_S, "entities still on the new version")
                time.sleep(0.01)
            elapsed = time.monotonic() - t0
            for s in (sa, sb):
                for e in ENTITIES:
                    st, h, body = s.get(e)
                    self.assertEqual(body, b'{"v": 1}', e)
                    self.assertNotIn("x-lever-rollout-percent", h)
            self.assertEqual(self.state(n)[0], "ROLLED_BACK")
            sys.stderr.write("agent rollback: every entity back in %.3f s\n" % elapsed)
        finally:
            sa.close()
            sb.close()

    def test_agent_restarted_mid_deployment_serves_both_sides_from_disk(self):
        cache = tempfile.mkdtemp(prefix="lever-rollout-cache-")
        self.addCleanup(shutil.rmtree, cache, True)
        a = self.agent(cache_dir=cache)
        path = "/applications/%s/environments/%s/configurations/%s" % (self.app, self.envname, self.prof)
        n, seed = self.start_gradual()
        deadline = time.monotonic() + 60
        pct = None
        while time.monotonic() < deadline:
            st, h, body = a.ac_raw(path, headers={"Entity-Id": "someone"})
            if h.get("x-lever-rollout-percent") and float(h["x-lever-rollout-percent"]) > 0:
                pct = float(h["x-lever-rollout-percent"])
                break
            time.sleep(0.02)
        self.assertIsNotNone(pct, "the agent never saw the deployment in progress")
        self.assertEqual(a.stop(), 0)  # SIGTERM writes the disk copy
        self.agents.remove(a)
        a.cleanup()
        self.stop(n)  # leverd moves on; the agent restarted below cannot hear of it
        # leverd unreachable: what the disk copy holds, both sides, each entity its own
        b = self.agent(upstream="http://127.0.0.1:9", cache_dir=cache)
        sw = Sweeper(b, path)
        try:
            saved = None  # the percentage at the SIGTERM (a step may have come after the one seen)
            for e in ENTITIES:
                st, h, body = sw.get(e)
                self.assertEqual(st, 200, body)
                self.assertEqual(h.get("x-lever-cache"), "stale")
                saved = saved or float(h["x-lever-rollout-percent"])
                self.assertGreaterEqual(saved, pct)
                self.assertEqual(float(h["x-lever-rollout-percent"]), saved)
                self.assertEqual(body, b'{"v": 2}' if in_share(seed, e, saved) else b'{"v": 1}', e)
        finally:
            sw.close()

    def probe_sample(self, p):
        p.stdin.write("sample\n")
        p.stdin.flush()
        line = p.stdout.readline()
        self.assertTrue(line.startswith("SAMPLE "), line)
        return line.split()[1:]

    def test_liblever_handles_bucket_by_client_id(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, LEVER_ENDPOINT=self.server.endpoint,
                   HOME=self.server.tmp)
        count = 100
        p = subprocess.Popen([PROBE, self.app, self.envname, self.prof, str(count)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env, text=True)
        self.procs.append(p)
        ids = ["entity-%d" % i for i in range(count)]
        self.assertEqual(self.probe_sample(p), [str(self.v1)] * count)
        n, seed = self.start_gradual()
        matched, ever_new = [], set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(matched) < 2:
            state, pct = self.state(n)
            if state != "DEPLOYING" or pct >= 100:
                break
            got = self.probe_sample(p)
            new = {ids[i] for i, v in enumerate(got) if v == str(self.v2)}
            self.assertLessEqual(ever_new, new, "a handle went back to the old version")
            ever_new |= new
            want = {e for e in ids if in_share(seed, e, pct)}
            if new == want and self.state(n)[1] == pct and pct not in matched:
                matched.append(pct)
            time.sleep(0.05)
        self.assertGreaterEqual(len(matched), 2, "liblever handles never matched the bucketing at two steps")
        on_new = [i for i, e in enumerate(ids) if e in ever_new]
        self.assertTrue(on_new)
        # each handle reported its side on its watch calls: leverd's served
        # share counts about `count` entities, at the shares of the steps
        share = self.raw_deployment(n).get("ServedShare")
        self.assertIsNotNone(share, "no served share reported by the handles")
        ents = max(p["Entities"] for p in share["Points"])
        self.assertTrue(count * 0.5 <= ents <= count * 1.5, share)
        self.assertTrue(all(0 <= p["Percentage"] <= 100 for p in share["Points"]), share)
        self.stop(n)
        t0 = time.monotonic()
        while True:
            got = self.probe_sample(p)
            if all(v == str(self.v1) for v in got):
                break
            self.assertLess(time.monotonic() - t0, ROLLBACK_DEADLINE_S, "handles still on the new version")
            time.sleep(0.02)
        sys.stderr.write("liblever rollback: every handle back in %.3f s\n" % (time.monotonic() - t0))
        p.stdin.write("quit\n")
        p.stdin.flush()
        self.assertEqual(p.wait(timeout=30), 0)


if __name__ == "__main__":
    unittest.main()
