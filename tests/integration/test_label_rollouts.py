"""Rollouts of an SSM parameter label on a real leverd at --time-scale 600:
Lever.StartLabelDeployment moves label `live` from version 1 to 2 through a
strategy; GetParameter NAME:live answers each reader (X-Lever-Entity-Id,
else its access key id) by its bucket under ssm:<region>:<name>:<label>:<n>;
parameter watchers see every step; completion moves the label, a stop or an
alarm puts everyone back on version 1 with the label where it was;
Lever.GetLabelDeployment reports it as GetDeployment does."""

import json
import os
import sys
import time
import unittest

from ac_helpers import ac_clients
from lever_harness import ACCESS_KEY, ACCOUNT, REGION, LeverTestCase, admin_call

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import bucketing  # noqa: E402

SCALE = 600
DEADLINE = 60.0
_seq = [0]


class LabelRollouts(LeverTestCase):
    LEVERD_KW = {"extra_args": ["--time-scale", str(SCALE)]}

    def setUp(self):
        super().setUp()
        _seq[0] += 1
        self.name = "/labels/%s/p%d" % (self._testMethodName, _seq[0])
        self.ssm.put_parameter(Name=self.name, Value="one", Type="String")
        self.ssm.put_parameter(Name=self.name, Value="two", Type="String", Overwrite=True)
        self.ssm.label_parameter_version(Name=self.name, ParameterVersion=1, Labels=["live"])

    def lever(self, op, body, ok=True):
        st, _h, p, raw = self.server.call_raw("Lever." + op, body)
        if ok:
            self.assertEqual(st, 200, raw)
        return st, p

    def start(self, strategy, version=2, **kw):
        body = {"Name": self.name, "Label": "live", "ParameterVersion": version, "DeploymentStrategyId": strategy}
        body.update(kw)
        return self.lever("StartLabelDeployment", body)[1]

    def status(self):
        return self.lever("GetLabelDeployment", {"Name": self.name, "Label": "live"})[1]

    def until(self, pred, what):
        end = time.monotonic() + DEADLINE
        d = None
        while time.monotonic() < end:
            d = self.status()
            if pred(d):
                return d
            time.sleep(0.02)
        self.fail("label deployment never %s: %r" % (what, d))

    def read(self, entity=None):
        """GetParameter NAME:live as entity (header) or as the root key."""
        h = {"X-Lever-Entity-Id": entity} if entity else None
        st, _h, p, raw = self.server.call_raw("AmazonSSM.GetParameter", {"Name": self.name + ":live"}, headers=h)
        self.assertEqual(st, 200, raw)
        v = p["Parameter"]
        self.assertEqual(v["Value"], {1: "one", 2: "two"}[v["Version"]])
        self.assertEqual(v["Selector"], ":live")
        return v["Version"]

    def label_on(self):
        hist = self.ssm.get_parameter_history(Name=self.name)["Parameters"]
        return [h["Version"] for h in hist if "live" in h.get("Labels", [])]

    def half(self):
        """A strategy: LINEAR 50% every 100 minutes (10 s at 0%, then 10 s at 50%)."""
        ac, _ = ac_clients(self.server)
        return ac.create_deployment_strategy(Name="half-%d" % time.monotonic_ns(), DeploymentDurationInMinutes=200,
                                             GrowthFactor=50, GrowthType="LINEAR", FinalBakeTimeInMinutes=0,
                                             ReplicateTo="NONE")["Id"]

    def test_readers_split_by_bucket_then_stop_puts_the_label_back(self):
        since = self.server.call_raw("Lever.WatchParameters", {"Path": "/labels", "Recursive": True,
                                                               "SinceRevision": 0, "WaitSeconds": 0})[2]["Revision"]
        d = self.start(self.half(), Description="to two")
        self.assertEqual((d["State"], d["PercentageComplete"], d["ParameterVersion"], d["PreviousVersion"],
                          d["DeploymentNumber"], d["Description"]), ("DEPLOYING", 0, 2, 1, 1, "to two"))
        st, p = self.lever("StartLabelDeployment", {"Name": self.name, "Label": "live", "ParameterVersion": 2,
                                                    "DeploymentStrategyId": "Lever.AllAtOnce"}, ok=False)
        self.assertEqual((st, p["__type"]), (409, "ConflictException"))
        self.assertEqual(self.read("someone"), 1)  # 0%: everyone reads the old version
        self.until(lambda d: d["PercentageComplete"] == 50, "at 50%")
        seed = "ssm:%s:%s:live:1" % (REGION, self.name)
        got = {e: self.read(e) for e in ("entity-%03d" % i for i in range(300))}
        for e, v in got.items():
            self.assertEqual(v, 2 if bucketing.bucket(seed, e) < bucketing.threshold(50) else 1, e)
        self.assertTrue(60 < sum(v == 2 for v in got.values()) < 240)
        # leverd counted whom it served: GetLabelDeployment's served share
        d = self.lever("GetLabelDeployment", {"Name": self.name, "Label": "live"})[1]
        share = 100.0 * sum(v == 2 for v in got.values()) / len(got)
        self.assertIn("ServedShare", d, d)
        self.assertTrue(d["ServedShare"]["Points"], d)
        self.assertLess(abs(d["ServedPercentage"] - share), 15, (share, d["ServedShare"]))
        # no header: the caller's access key is the entity
        self.assertEqual(self.read(), 2 if bucketing.bucket(seed, ACCESS_KEY) < 5000 else 1)
        # the versions themselves read as always
        self.assertEqual(self.ssm.get_parameter(Name=self.name + ":1")["Parameter"]["Value"], "one")
        # watchers of the parameter saw the start and the step
        w = self.server.call_raw("Lever.WatchParameters", {"Path": "/labels", "Recursive": True,
                                                           "SinceRevision": since, "WaitSeconds": 0})[2]
        mine = [c for c in w["Changes"] if c["Name"] == self.name]
        self.assertGreaterEqual(len(mine), 2, w)
        d = self.lever("StopLabelDeployment", {"Name": self.name, "Label": "live"})[1]
        self.assertEqual(d["State"], "ROLLED_BACK")
        self.assertEqual([e["EventType"] for e in d["EventLog"][:2]], ["ROLLBACK_COMPLETED", "ROLLBACK_STARTED"])
        self.assertEqual({self.read(e) for e in list(got)[:50]}, {1})
        self.assertEqual(self.label_on(), [1])
        st, p = self.lever("StopLabelDeployment", {"Name": self.name, "Label": "live"}, ok=False)
        self.assertEqual(st, 400)
        m = self.server.raw("GET", "/metrics")[2].decode()
        self.assertIn('lever_label_deployment_percentage{region="%s",name="%s",label="live",deployment="1",'
                      'state="ROLLED_BACK"} 0' % (REGION, self.name), m)

    def test_gradual_completion_moves_the_label(self):
        d = self.start("Lever.Linear10PercentEvery1Minute")
        n = d["DeploymentNumber"]
        seen = []
        d = self.until(lambda d: seen.append(d["PercentageComplete"]) or d["State"] == "COMPLETE", "COMPLETE")
        self.assertEqual(seen, sorted(seen))
        kinds = [e["EventType"] for e in reversed(d["EventLog"])]
        self.assertEqual(kinds, ["DEPLOYMENT_STARTED"] + ["PERCENTAGE_UPDATED"] * 10 + ["DEPLOYMENT_COMPLETED"])
        self.assertEqual(self.label_on(), [2])
        self.assertEqual({self.read(e) for e in ("a", "b", "c", "d")}, {2})
        # numbering goes on; all at once completes in the start itself
        self.ssm.put_parameter(Name=self.name, Value="three", Type="String", Overwrite=True)
        st, p = self.lever("StartLabelDeployment", {"Name": self.name, "Label": "live", "ParameterVersion": 3,
                                                    "DeploymentStrategyId": "Lever.AllAtOnce"})
        self.assertEqual((p["State"], p["DeploymentNumber"], p["PreviousVersion"]), ("COMPLETE", n + 1, 2))
        self.assertEqual(self.label_on(), [3])
        old = self.lever("GetLabelDeployment", {"Name": self.name, "Label": "live", "DeploymentNumber": n})[1]
        self.assertEqual((old["DeploymentNumber"], old["ParameterVersion"]), (n, 2))

    def test_alarm_rolls_a_label_back(self):
        alarm = "label-alarm-%d" % _seq[0]
        self.assertEqual(admin_call(self.server, "PutAlarm", {"AlarmName": alarm})[0], 200)
        arn = "arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, alarm)
        d = self.start("Lever.Canary10Percent30Minutes", Monitors=[{"AlarmArn": arn}])
        self.assertEqual((d["State"], d["PercentageComplete"], d["Monitors"]), ("DEPLOYING", 10, [{"AlarmArn": arn}]))
        self.assertEqual(admin_call(self.server, "SetAlarmState", {"AlarmName": alarm, "StateValue": "ALARM",
                                                                   "StateReason": "probe"})[0], 200)
        d = self.until(lambda d: d["State"] == "ROLLED_BACK", "ROLLED_BACK")
        ev = d["EventLog"][1]
        self.assertEqual((ev["EventType"], ev["TriggeredBy"]), ("ROLLBACK_STARTED", "CLOUDWATCH_ALARM"))
        self.assertIn(alarm, ev["Description"])
        self.assertEqual({self.read(e) for e in ("a", "b", "c", "d", "e", "f")}, {1})
        self.assertEqual(self.label_on(), [1])

    def test_refusals(self):
        for body, st, kind in (
                ({"Name": self.name, "Label": "live", "ParameterVersion": 9, "DeploymentStrategyId": "Lever.AllAtOnce"},
                 400, "ParameterVersionNotFound"),
                ({"Name": self.name + "x", "Label": "live", "ParameterVersion": 1,
                  "DeploymentStrategyId": "Lever.AllAtOnce"}, 400, "ParameterNotFound"),
                ({"Name": self.name, "Label": "live", "ParameterVersion": 2, "DeploymentStrategyId": "nope"},
                 400, "ResourceNotFoundException"),
                ({"Name": self.name, "Label": "live", "ParameterVersion": 1,
                  "DeploymentStrategyId": "Lever.AllAtOnce"}, 400, "ValidationException"),
                ({"Name": self.name, "Label": "9bad", "ParameterVersion": 2,
                  "DeploymentStrategyId": "Lever.AllAtOnce"}, 400, "ValidationException"),
                ({"Name": self.name, "ParameterVersion": 2, "DeploymentStrategyId": "Lever.AllAtOnce"},
                 400, "ValidationException"),
                ({"Name": self.name, "Label": "live", "ParameterVersion": "2",
                  "DeploymentStrategyId": "Lever.AllAtOnce"}, 400, "SerializationException")):
            got, p = self.lever("StartLabelDeployment", body, ok=False)
            self.assertEqual((got, p["__type"]), (st, kind), json.dumps(body))
        got, p = self.lever("GetLabelDeployment", {"Name": self.name, "Label": "live"}, ok=False)
        self.assertEqual((got, p["__type"]), (400, "ResourceNotFoundException"))
        self.assertEqual(self.label_on(), [1])


if __name__ == "__main__":
    unittest.main()
