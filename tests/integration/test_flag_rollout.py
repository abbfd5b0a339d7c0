"""A feature-flag profile rolled out gradually (issues 11 and 12 as one
system): a real leverd at --time-scale deploys a new flag document with a
LINEAR strategy, and a real lever-agent evaluates, for each entity, the
document its bucket gives: ?flag= with an Entity-Id and OFREP with the same
targetingKey agree with each other and with the published bucketing (the
independent Python reference), an entity keeps the new flags once it has
them, and a rollback turns the flag off again for everyone."""
import http.client
import json
import os
import sys
import time

from appconfig_agent import ACAgent, Operator, unique
from lever_harness import LeverTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import bucketing  # noqa: E402  the reference implementation, not lever's C

ENTITIES = ["user-%d" % i for i in range(400)]
OLD = {"enabled": False}             # a disabled flag is served without its attributes, as on AWS
NEW = {"enabled": True, "limit": 5}


def doc(enabled, limit):
    return {"version": "1",
            "flags": {"checkout": {"name": "Checkout", "attributes": {"limit": {"constraints": {"type": "number"}}}}},
            "values": {"checkout": {"enabled": enabled, "limit": limit}}}


class FlagRolloutTest(LeverTestCase):
    # one strategy minute is 1/60 s: the 10-minute steps below are 10 s
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "60"}}

    def setUp(self):
        self.op = Operator(self.server)
        self.app, self.envname, self.prof = unique("shop"), unique("prod"), unique("flags")
        self.a, self.e, self.p = self.op.profile(self.app, self.envname, self.prof,
                                                 kind="AWS.AppConfig.FeatureFlags")
        self.v1 = self.op.store(self.a, self.p, doc(False, 1))
        self.v2 = self.op.store(self.a, self.p, doc(True, 5))
        self.op.deploy(self.a, self.e, self.p, self.v1, strategy="Lever.AllAtOnce")
        self.strategy = self.op.ac.create_deployment_strategy(
            Name=unique("quarters"), DeploymentDurationInMinutes=40, GrowthFactor=25, FinalBakeTimeInMinutes=0,
            GrowthType="LINEAR", ReplicateTo="NONE")["Id"]
        self.agent = ACAgent(self.server.endpoint,
                             ac_args=["--appconfig-prefetch", "%s:%s:%s" % (self.app, self.envname, self.prof)]).start()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.agent.ac_port, timeout=10)
        self.base = "/applications/%s/environments/%s/configurations/%s" % (self.app, self.envname, self.prof)

    def tearDown(self):
        self.conn.close()
        rc = self.agent.stop()
        log = self.agent.log()
        self.agent.cleanup()
        super().tearDown()
        self.assertIn(rc, (0, None), log)

    def req(self, method, path, headers, body=None):
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        self.assertEqual(r.status, 200, data)
        return {k.lower(): v for k, v in r.getheaders()}, json.loads(data)

    def flag(self, entity):
        h, body = self.req("GET", self.base + "?flag=checkout", {"Entity-Id": entity})
        return h, body["checkout"]

    def ofrep(self, entity):
        _h, body = self.req("POST", self.base + "/ofrep/v1/evaluate/flags/checkout",
                            {"Content-Type": "application/json"},
                            json.dumps({"context": {"targetingKey": entity}}))
        return body

    def test_flags_follow_the_bucket_and_roll_back(self):
        for e in ENTITIES[:20]:
            self.assertEqual(self.flag(e)[1], OLD)
        n = self.op.ac.start_deployment(ApplicationId=self.a, EnvironmentId=self.e, ConfigurationProfileId=self.p,
                                        DeploymentStrategyId=self.strategy,
                                        ConfigurationVersion=str(self.v2))["DeploymentNumber"]
        seed = "appconfig:%s:%s:%d" % (self.a, self.e, n)
        on = set()
        checked = {}  # percentage -> entities checked at it
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len([p for p in checked if 0 < p < 100]) < 2:
            for e in ENTITIES:
                h, got = self.flag(e)
                pct = h.get("x-lever-rollout-percent")
                if pct is None:
                    continue
                pct = float(pct)
                new = bucketing.bucket(seed, e) < bucketing.threshold(pct)
                self.assertEqual(got, NEW if new else OLD, (e, pct))
                if e in on:
                    self.assertTrue(new, "%s lost the new flags at %s %%" % (e, pct))
                if new:
                    on.add(e)
                # OFREP with the same targetingKey evaluates the same document
                o = self.ofrep(e)
                self.assertEqual(o["key"], "checkout")
                h2, _again = self.flag(e)
                if h2.get("x-lever-rollout-percent") == h.get("x-lever-rollout-percent"):  # no step between
                    self.assertEqual((o["value"], o["metadata"]["limit"]), (new, 5 if new else 1), (e, pct, o))
                checked.setdefault(pct, set()).add(e)
            time.sleep(0.01)
        mids = sorted(p for p in checked if 0 < p < 100)
        self.assertGreaterEqual(len(mids), 2, "saw the deployment at %r" % sorted(checked))
        self.assertTrue(on, "nobody got the new flags")
        self.assertLess(len(on), len(ENTITIES), "everybody got the new flags mid-deployment")
        self.op.ac.stop_deployment(ApplicationId=self.a, EnvironmentId=self.e, DeploymentNumber=n)
        t0 = time.monotonic()
        while not all(self.flag(e)[1]["enabled"] is False for e in sorted(on)):
            self.assertLess(time.monotonic() - t0, 10, "entities still have the new flags after the rollback")
            time.sleep(0.01)
        for e in ENTITIES:
            self.assertEqual(self.flag(e)[1], OLD, e)
            self.assertIs(self.ofrep(e)["value"], False, e)


if __name__ == "__main__":
    import unittest
    unittest.main()
