"""Gradual AppConfig deployments on a real leverd at --time-scale 600 (one
strategy minute = 100 ms): the step sequence and its timing for LINEAR,
EXPONENTIAL, canary and bake time, GetDeployment's fields and the
environment's State, who is served what (2,000 client ids bucketed as
docs/bucketing.md says, sticky as the share grows, x-lever-rollout-side,
AppConfig Data sessions), StopDeployment's rollback, AllowRevert, one
deployment per environment, and SIGKILL in the middle of a deployment.

Deadlines and polling; timing is only checked from below (a step never
comes early), never against a wall-clock upper bound."""

import datetime
import time
import unittest

from ac_helpers import ac_clients
from rollout_helpers import RolloutCase, signed_rest

MIN_MS = 60000 / RolloutCase.SCALE  # one strategy minute in real ms


def ms(ts):
    return ts.timestamp() * 1000 if isinstance(ts, datetime.datetime) else ts


class Growth(RolloutCase):
    def test_linear_steps_timing_and_fields(self):
        t = self.versions()
        d = self.start(t, 2, "Lever.Linear10PercentEvery1Minute", Description="ten steps")
        n = d["DeploymentNumber"]
        self.assertEqual((d["State"], d["PercentageComplete"]), ("DEPLOYING", 0.0))
        self.assertEqual(self.env_state(t), "Deploying")
        seen = []
        d = self.until(t, n, lambda d: d["State"] == "COMPLETE", "COMPLETE", seen=seen)
        self.assertEqual(seen, sorted(seen), "the percentage never goes down")
        self.assertEqual(self.percentages(d), [10.0 * k for k in range(1, 11)])
        ev = self.events(d)
        self.assertEqual([e[0] for e in ev], ["DEPLOYMENT_STARTED"] + ["PERCENTAGE_UPDATED"] * 10 +
                         ["DEPLOYMENT_COMPLETED"])
        self.assertEqual({e[1] for e in ev[1:]}, {"APPCONFIG"})
        self.assertEqual(ev[0][1], "USER")
        # each step waits its interval (1 strategy minute) after the last
        times = [ms(e[3]) for e in ev[:-1]]
        for a, b in zip(times, times[1:]):
            self.assertGreaterEqual(b - a, MIN_MS - 2)
        self.assertEqual((d["GrowthType"], d["GrowthFactor"], d["DeploymentDurationInMinutes"],
                          d["FinalBakeTimeInMinutes"], d["PercentageComplete"], d["Description"]),
                         ("LINEAR", 10.0, 10, 0, 100.0, "ten steps"))
        self.assertGreaterEqual(ms(d["CompletedAt"]) - ms(d["StartedAt"]), 10 * MIN_MS - 5)
        self.assertEqual(self.env_state(t), "ReadyForDeployment")
        self.assertEqual(self.serve(t, "anyone")[0], "2")

    def test_exponential_then_bake(self):
        t = self.versions()
        s = self.ac.create_deployment_strategy(Name="expo-" + t["app"], DeploymentDurationInMinutes=3,
                                               GrowthFactor=25, GrowthType="EXPONENTIAL",
                                               FinalBakeTimeInMinutes=5, ReplicateTo="NONE")
        n = self.start(t, 2, s["Id"])["DeploymentNumber"]
        d = self.until(t, n, lambda d: d["State"] == "BAKING", "BAKING")
        self.assertEqual(d["PercentageComplete"], 100.0)
        self.assertEqual(self.serve(t, "x")[0], "2")  # baking serves everyone the new version
        d = self.until(t, n, lambda d: d["State"] == "COMPLETE", "COMPLETE")
        ev = self.events(d)
        self.assertEqual([e[0] for e in ev], ["DEPLOYMENT_STARTED", "PERCENTAGE_UPDATED", "PERCENTAGE_UPDATED",
                                              "PERCENTAGE_UPDATED", "BAKE_TIME_STARTED", "DEPLOYMENT_COMPLETED"])
        self.assertEqual(self.percentages(d), [25.0, 50.0, 100.0])
        # 3 steps over 3 minutes, then 5 minutes of bake
        self.assertGreaterEqual(ms(ev[4][3]) - ms(ev[0][3]), 3 * MIN_MS - 3)
        self.assertGreaterEqual(ms(ev[5][3]) - ms(ev[4][3]), 5 * MIN_MS - 2)

    def test_canary_first_share_for_the_whole_duration(self):
        t = self.versions()
        d = self.start(t, 2, "Lever.Canary10Percent5Minutes")
        n = d["DeploymentNumber"]
        self.assertEqual((d["State"], d["PercentageComplete"]), ("DEPLOYING", 10.0))
        d = self.until(t, n, lambda d: d["State"] == "COMPLETE", "COMPLETE")
        self.assertEqual(self.percentages(d), [10.0, 100.0])
        ev = self.events(d)
        self.assertGreaterEqual(ms(ev[2][3]) - ms(ev[1][3]), 5 * MIN_MS - 2)

    def test_one_deployment_per_environment(self):
        t = self.versions(3)
        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes")["DeploymentNumber"]
        before = self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"]
        e = self.acerr("ConflictException", 409, self.start, t, 3, "Lever.AllAtOnce")
        self.assertIn("in progress", e.response["Error"]["Message"])
        self.assertEqual(self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"], before)
        self.ac.stop_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n)
        self.assertEqual(self.start(t, 3, "Lever.AllAtOnce")["DeploymentNumber"], n + 1)


class Serving(RolloutCase):
    def test_share_tracks_percentage_and_sticks(self):
        t = self.versions()
        # LINEAR 25% every hour: 6 s per step at this scale
        s = self.ac.create_deployment_strategy(Name="slow-" + t["app"], DeploymentDurationInMinutes=240,
                                               GrowthFactor=25, GrowthType="LINEAR", FinalBakeTimeInMinutes=0,
                                               ReplicateTo="NONE")
        n = self.start(t, 2, s["Id"])["DeploymentNumber"]
        seed = "appconfig:%s:%s:%d" % (t["app"], t["env"], n)
        ids = ["client-%04d" % i for i in range(2000)]
        got_to = set()
        shares = {}
        while True:
            d = self.get(t, n)
            if d["State"] == "COMPLETE":
                break
            for cid in ids:
                ver, h = self.serve(t, cid)
                if "x-lever-rollout-percent" not in h:
                    self.assertEqual(ver, "2")  # complete meanwhile
                    continue
                pct = float(h["x-lever-rollout-percent"])
                self.assertEqual((h["x-lever-rollout-seed"], h["x-lever-rollout-from"], h["x-lever-rollout-to"],
                                  h["x-lever-deployment"]), (seed, "1", "2", str(n)))
                want = "2" if self.in_share(seed, cid, pct) else "1"
                self.assertEqual(ver, want, "client %s at %s%%" % (cid, pct))
                if cid in got_to:
                    self.assertEqual(ver, "2", "client %s lost the new version" % cid)
                if ver == "2":
                    got_to.add(cid)
                shares.setdefault(pct, [0, 0])
                shares[pct][0] += ver == "2"
                shares[pct][1] += 1
        # several steps were seen, and each share is about its percentage
        self.assertGreaterEqual(len([p for p in shares if 0 < p < 100]), 2, shares)
        for pct, (to, total) in shares.items():
            if total >= 500:
                self.assertLess(abs(100.0 * to / total - pct), 6, (pct, to, total))
        self.assertEqual(self.serve(t, "client-0001")[1].get("x-lever-rollout-percent"), None)

    def test_side_header_and_data_sessions(self):
        t = self.versions()
        # LINEAR 50% every 100 minutes: 10 s at 0%, then 10 s at 50%
        s = self.ac.create_deployment_strategy(Name="half-" + t["app"], DeploymentDurationInMinutes=200,
                                               GrowthFactor=50, GrowthType="LINEAR", FinalBakeTimeInMinutes=0,
                                               ReplicateTo="NONE")
        n = self.start(t, 2, s["Id"])["DeploymentNumber"]
        self.until(t, n, lambda d: d["PercentageComplete"] == 50, "at 50%")
        self.assertEqual(self.serve(t, "whoever", side="from")[0], "1")
        self.assertEqual(self.serve(t, "whoever", side="to")[0], "2")
        st, _h, p, _raw = signed_rest(self.server, "GET", "/applications/%s/environments/%s/configurations/%s" %
                                      (t["app"], t["env"], t["prof"]), headers={"x-lever-rollout-side": "both"},
                                      query="client_id=x")
        self.assertEqual(st, 400)
        # AppConfig Data: each session is an entity (its identity travels
        # sealed in its tokens), so a session keeps its side poll after poll
        tos = counted = 0
        for _ in range(60):
            tok = self.data.start_configuration_session(ApplicationIdentifier=t["app"],
                                                        EnvironmentIdentifier=t["env"],
                                                        ConfigurationProfileIdentifier=t["prof"],
                                                        RequiredMinimumPollIntervalInSeconds=15)
            got = self.data.get_latest_configuration(ConfigurationToken=tok["InitialConfigurationToken"])
            body = got["Configuration"].read()
            self.assertIn(body, (b"v1", b"v2"))
            deadline = time.monotonic() + 10
            while True:  # the next poll is allowed after 15 s / 600
                try:
                    again = self.data.get_latest_configuration(ConfigurationToken=got["NextPollConfigurationToken"])
                    break
                except self.data.exceptions.BadRequestException:
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.01)
            if self.get(t, n)["PercentageComplete"] != 50:
                break  # the next step came: only sessions polled at 50% count
            self.assertEqual(again["Configuration"].read(), b"", "the same side: nothing new")
            tos += body == b"v2"
            counted += 1
        self.assertGreaterEqual(counted, 15)
        self.assertTrue(0 < tos < counted, (tos, counted))  # both sides served at 50%
        if self.get(t, n)["State"] == "DEPLOYING":  # a loaded machine may have finished it meanwhile
            self.ac.stop_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n)


class StopRevertCrash(RolloutCase):
    def test_stop_rolls_back(self):
        t = self.versions()
        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes")["DeploymentNumber"]
        self.until(t, n, lambda d: d["PercentageComplete"] >= 20, "at 20%")
        d = self.ac.stop_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n)
        self.assertEqual(d["State"], "ROLLED_BACK")
        self.assertEqual(self.env_state(t), "RolledBack")
        ev = self.events(self.get(t, n))
        self.assertEqual([e[:2] for e in ev[-2:]], [("ROLLBACK_STARTED", "USER"), ("ROLLBACK_COMPLETED", "APPCONFIG")])
        for cid in ("a", "b", "c", "d", "e", "f", "g", "h"):
            ver, h = self.serve(t, cid)
            self.assertEqual(ver, "1")
            self.assertNotIn("x-lever-rollout-percent", h)
            self.assertEqual(h["x-lever-deployment"], str(1))
        # a stopped deployment cannot be stopped again
        self.acerr("BadRequestException", 400, self.ac.stop_deployment, ApplicationId=t["app"],
                   EnvironmentId=t["env"], DeploymentNumber=n)

    def test_metrics(self):
        t = self.versions()
        lab = 'application="%s",application_name="%s",environment="%s",environment_name="prod"' % (
            t["app"], self.ac.get_application(ApplicationId=t["app"])["Name"], t["env"])

        def metrics():
            st, _h, body = self.server.raw("GET", "/metrics")
            self.assertEqual(st, 200)
            return body.decode()

        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes")["DeploymentNumber"]
        d = self.until(t, n, lambda d: d["PercentageComplete"] >= 10, "at 10%")
        m = metrics()
        dep = '%s,deployment="%d",profile="%s"' % (lab, n, t["prof"])
        self.assertIn('lever_deployment_state{%s,state="DEPLOYING"} 1' % dep, m)
        self.assertIn('lever_deployment_state{%s,state="COMPLETE"} 0' % dep, m)
        pct = [ln for ln in m.splitlines() if ln.startswith("lever_deployment_percentage{%s}" % dep)]
        self.assertEqual(len(pct), 1, m)
        self.assertGreaterEqual(float(pct[0].split()[-1]), d["PercentageComplete"])
        self.assertIn("lever_deployment_rollbacks_total{%s} 0" % lab, m)
        self.ac.stop_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n)
        m = metrics()
        self.assertIn('lever_deployment_state{%s,state="ROLLED_BACK"} 1' % dep, m)
        self.assertIn("lever_deployment_percentage{%s} 0" % dep, m)
        self.assertIn("lever_deployment_rollbacks_total{%s} 1" % lab, m)
        self.assertIn("# TYPE lever_deployment_rollbacks_total counter", m)

    def test_revert_after_complete(self):
        t = self.versions()
        n = self.start(t, 2, "Lever.AllAtOnce")["DeploymentNumber"]
        self.assertEqual(self.serve(t, "x")[0], "2")
        path = "/applications/%s/environments/%s/deployments/%d" % (t["app"], t["env"], n)
        st, _h, p, _raw = signed_rest(self.server, "DELETE", path)
        self.assertEqual(st, 400, p)  # a complete deployment needs AllowRevert
        st, _h, p, _raw = signed_rest(self.server, "DELETE", path, headers={"Allow-Revert": "true"})
        self.assertEqual((st, p["State"]), (202, "REVERTED"))
        self.assertEqual(self.env_state(t), "Reverted")
        self.assertEqual(self.serve(t, "x")[0], "1")

    def test_sigkill_mid_deployment_resumes(self):
        t = self.versions()
        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes")["DeploymentNumber"]
        seen = []
        for at in (20, 50):
            self.until(t, n, lambda d: d["PercentageComplete"] >= at, "at %d%%" % at, seen=seen)
            self.server.kill()
            self.server.start()
            type(self).ac, type(self).data = ac_clients(self.server)
        d = self.until(t, n, lambda d: d["State"] == "COMPLETE", "COMPLETE", seen=seen)
        self.assertEqual(seen, sorted(seen), "the percentage never goes down")
        # every step exactly once, in order
        self.assertEqual(self.percentages(d), [10.0 * k for k in range(1, 11)])
        self.assertEqual([e[0] for e in self.events(d)].count("DEPLOYMENT_COMPLETED"), 1)
        self.assertEqual(self.serve(t, "x")[0], "2")


if __name__ == "__main__":
    unittest.main()
