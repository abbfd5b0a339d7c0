"""Extension webhooks on SSM label rollouts, against a real leverd at
--time-scale 600 and a local http.server as the receiver: an extension
associated with a parameter's ARN applies to that parameter's label
rollouts. PRE_START_DEPLOYMENT vetoes Lever.StartLabelDeployment (nothing
written), AT_DEPLOYMENT_TICK runs before each step and a failure rolls the
rollout back (the label stays), and ON_DEPLOYMENT_START / STEP / BAKING /
COMPLETE / ROLLED_BACK arrive signed, with the parameter in the event.
Deadlines and polling, no long sleeps."""

import json
import time

import botocore.exceptions

from lever_harness import ACCOUNT, REGION
from test_hooks import DEADLINE, HooksCase, verify

_seq = [0]


class LabelHooks(HooksCase):
    LEVERD_KW = {"extra_args": ["--time-scale", "600"]}

    def setUp(self):
        super().setUp()
        _seq[0] += 1
        self.name = "/hooked/%s/p%d" % (self._testMethodName, _seq[0])
        self.ssm.put_parameter(Name=self.name, Value="one", Type="String")
        self.ssm.put_parameter(Name=self.name, Value="two", Type="String", Overwrite=True)
        self.ssm.label_parameter_version(Name=self.name, ParameterVersion=1, Labels=["live"])
        self.param_arn = "arn:aws:ssm:%s:%s:parameter%s" % (REGION, ACCOUNT, self.name)

    def lever(self, op, body):
        st, _h, p, raw = self.server.call_raw("Lever." + op, body)
        return st, p

    def start(self, strategy):
        return self.lever("StartLabelDeployment", {"Name": self.name, "Label": "live", "ParameterVersion": 2,
                                                   "DeploymentStrategyId": strategy, "Description": "to two"})

    def status(self):
        return self.lever("GetLabelDeployment", {"Name": self.name, "Label": "live"})

    def until(self, pred, what):
        end = time.monotonic() + DEADLINE
        d = None
        while time.monotonic() < end:
            st, d = self.status()
            if st == 200 and pred(d):
                return d
            time.sleep(0.02)
        self.fail("label rollout never %s: %r" % (what, d))

    def strategy(self):
        """LINEAR 50% over 20 minutes, bake 10: steps 1 s apart, 1 s of baking."""
        return self.ac.create_deployment_strategy(Name="h-%d" % time.monotonic_ns(), DeploymentDurationInMinutes=20,
                                                  GrowthFactor=50, GrowthType="LINEAR", FinalBakeTimeInMinutes=10,
                                                  ReplicateTo="NONE")["Id"]

    def label_on(self):
        hist = self.ssm.get_parameter_history(Name=self.name)["Parameters"]
        return [h["Version"] for h in hist if "live" in h.get("Labels", [])]

    def test_events_of_a_label_rollout_arrive_signed(self):
        points = ["PRE_START_DEPLOYMENT", "AT_DEPLOYMENT_TICK", "ON_DEPLOYMENT_START", "ON_DEPLOYMENT_STEP",
                  "ON_DEPLOYMENT_BAKING", "ON_DEPLOYMENT_COMPLETE"]
        # at most 5 action points per extension: two extensions
        ext = self.extension({p: [self.recv.url("/ok?" + p)] for p in points[:3]})
        ext2 = self.extension({p: [self.recv.url("/ok?" + p)] for p in points[3:]}, name="later")
        assoc = self.associate(ext, self.param_arn, who="ops")
        assoc2 = self.associate(ext2, self.param_arn, who="ops")
        self.assertEqual(assoc["ResourceArn"], self.param_arn)
        listed = self.ac.list_extension_associations(ResourceIdentifier=self.param_arn)["Items"]
        self.assertEqual(sorted(a["Id"] for a in listed), sorted([assoc["Id"], assoc2["Id"]]))
        ids = {ext["Id"]: assoc["Id"], ext2["Id"]: assoc2["Id"]}
        # another parameter's association does not apply here
        self.ssm.put_parameter(Name=self.name + "-other", Value="x", Type="String")
        other = self.extension({"ON_DEPLOYMENT_START": [self.recv.url("/ok?other")]}, name="other")
        self.associate(other, self.param_arn + "-other")
        st, d = self.start(self.strategy())
        self.assertEqual((st, d["State"]), (200, "DEPLOYING"), d)
        self.until(lambda d: d["State"] == "COMPLETE", "complete")
        self.assertEqual(self.label_on(), [2])
        for p in points:
            self.recv.wait(lambda r, p=p: r["path"] == "/ok?" + p, p)
        key = self.key()
        got = {}
        for r in self.recv.requests():
            self.assertTrue(verify(key, r), r["headers"])
            ev = json.loads(r["body"])
            self.assertEqual(ev["Type"], r["path"].split("?")[1])
            self.assertEqual(r["headers"]["X-Lever-Hook-Point"], ev["Type"])
            self.assertEqual(ev["Parameter"], {"Name": self.name, "Label": "live", "Region": REGION})
            self.assertNotIn("Application", ev)
            self.assertEqual(ev["Parameters"], {"who": "ops"})
            self.assertEqual(ev["ExtensionAssociationId"], ids[ev["Extension"]["Id"]])
            self.assertEqual(ev["ConfigurationVersion"], "2")
            got.setdefault(ev["Type"], []).append(ev)
        self.assertNotIn("/ok?other", [r["path"] for r in self.recv.requests()])
        pre = got["PRE_START_DEPLOYMENT"][0]
        self.assertEqual((pre["DeploymentStrategyId"], pre["Description"]), (d["DeploymentStrategyId"], "to two"))
        self.assertTrue(pre["CreatedBy"].startswith("arn:aws:"))
        self.assertEqual([e["DeploymentNumber"] for e in got["ON_DEPLOYMENT_START"]], [1])
        self.assertEqual(got["ON_DEPLOYMENT_START"][0]["PreviousConfigurationVersion"], "1")
        # two steps: 50% (STEP) and 100% with bake time (BAKING), then the end
        # of the bake time: a tick before each of the three
        self.assertEqual([e["PercentageComplete"] for e in got["ON_DEPLOYMENT_STEP"]], [50])
        self.assertEqual([(e["PercentageComplete"], e["DeploymentState"]) for e in got["ON_DEPLOYMENT_BAKING"]],
                         [(100, "BAKING")])
        self.assertEqual(len(got["AT_DEPLOYMENT_TICK"]), 3)
        self.assertEqual([e["DeploymentState"] for e in got["ON_DEPLOYMENT_COMPLETE"]], ["COMPLETE"])

    def test_pre_start_hook_vetoes_a_label_rollout(self):
        ext = self.extension({"PRE_START_DEPLOYMENT": [self.recv.url("/deny")]})
        self.associate(ext, self.param_arn)
        st, p = self.start("Lever.AllAtOnce")
        self.assertEqual((st, p["__type"]), (400, "BadRequestException"), p)
        self.assertIn(ext["Name"], p["message"])
        self.assertIn("PRE_START_DEPLOYMENT", p["message"])
        st, p = self.status()
        self.assertEqual((st, p["__type"]), (400, "ResourceNotFoundException"), p)
        self.assertEqual(self.label_on(), [1])
        self.assertEqual(len(self.recv.requests()), 1)

    def test_failing_tick_hook_rolls_a_label_rollout_back(self):
        self.recv.tick_status = 500
        ext = self.extension({"AT_DEPLOYMENT_TICK": [self.recv.url("/tick")],
                              "ON_DEPLOYMENT_ROLLED_BACK": [self.recv.url("/ok?back")]})
        self.associate(ext, self.param_arn)
        st, d = self.start("Lever.Linear10PercentEvery1Minute")
        self.assertEqual(st, 200, d)
        d = self.until(lambda d: d["State"] == "ROLLED_BACK", "rolled back")
        self.assertEqual(d["PercentageComplete"], 0)
        rb = [e for e in d["EventLog"] if e["EventType"] == "ROLLBACK_STARTED"][0]
        self.assertEqual(rb["TriggeredBy"], "APPCONFIG")
        self.assertIn("AT_DEPLOYMENT_TICK", rb["Description"])
        self.assertIn(ext["Name"], rb["Description"])
        back = self.recv.wait(lambda r: r["path"] == "/ok?back", "ON_DEPLOYMENT_ROLLED_BACK")[0]
        ev = json.loads(back["body"])
        self.assertEqual((ev["DeploymentState"], ev["Parameter"]["Name"]), ("ROLLED_BACK", self.name))
        self.assertEqual(self.label_on(), [1])

    def test_association_needs_the_parameter(self):
        ext = self.extension({"ON_DEPLOYMENT_START": [self.recv.url("/ok")]})
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.associate(ext, self.param_arn + "-missing")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")


if __name__ == "__main__":
    import unittest
    unittest.main()
