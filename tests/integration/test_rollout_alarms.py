"""Rollback on alarms: an environment monitor names a lever alarm; the alarm
going to ALARM while a deployment is DEPLOYING or BAKING rolls it back,
whether a failing HTTP probe (a local http.server the test runs),
Lever.SetAlarmState or an Alertmanager webhook put it there. The
lever:override-alarms tag lets a deployment start past an alarm that is
already firing, until the alarm has recovered. Real leverd at
--time-scale 600, deadlines and polling."""

import http.server
import json
import threading
import time
import unittest

from lever_harness import ACCOUNT, REGION, admin_call
from rollout_helpers import RolloutCase

TOKEN = "am-token-rollouts-0123456789"


class Target:
    """A probe target answering 200 or 503 as the test says."""

    def __init__(self):
        self.ok = True
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if outer.ok else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/health" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class AlarmRollback(RolloutCase):
    LEVERD_KW = {"extra_args": ["--time-scale", str(RolloutCase.SCALE)],
                 "extra_env": {"LEVER_ALERTMANAGER_TOKEN": TOKEN}}

    def alarm(self, name, **probe):
        body = {"AlarmName": name}
        if probe:
            body["Probe"] = probe
        st, p = admin_call(self.server, "PutAlarm", body)
        self.assertEqual(st, 200, p)

    def set_alarm(self, name, state):
        st, p = admin_call(self.server, "SetAlarmState", {"AlarmName": name, "StateValue": state,
                                                          "StateReason": "test"})
        self.assertEqual(st, 200, p)

    def monitored(self, *names):
        return self.versions(monitors=[{"AlarmArn": "arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, n)}
                                       for n in names])

    def rolled_back(self, t, n, name):
        d = self.until(t, n, lambda d: d["State"] == "ROLLED_BACK", "ROLLED_BACK")
        ev = self.events(d)
        self.assertEqual(ev[-2][0:2], ("ROLLBACK_STARTED", "CLOUDWATCH_ALARM"))
        self.assertIn(name, ev[-2][2])
        self.assertEqual(self.env_state(t), "RolledBack")
        for cid in ("a", "b", "c", "d"):
            self.assertEqual(self.serve(t, cid)[0], "1")
        return d

    def test_failing_probe_rolls_back(self):
        target = Target()
        self.addCleanup(target.close)
        name = "probe-" + self._testMethodName
        # IntervalSeconds 30 -> 50 ms here. Five failures in a row, so one
        # answer that misses its (floored, 50 ms) timeout on a loaded
        # machine does not roll back before the target starts failing.
        self.alarm(name, Url=target.url, IntervalSeconds=30, FailureThreshold=5, TimeoutSeconds=5)
        t = self.monitored(name)
        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes")["DeploymentNumber"]
        self.until(t, n, lambda d: d["PercentageComplete"] >= 10 or d["State"] != "DEPLOYING", "at 10%")
        self.assertEqual(self.get(t, n)["State"], "DEPLOYING", "rolled back while the probe still answered 200")
        target.ok = False
        d = self.rolled_back(t, n, name)
        self.assertLess(d["PercentageComplete"], 100)

    def test_set_alarm_state_rolls_back_while_baking(self):
        name = "manual-" + self._testMethodName
        self.alarm(name)
        self.set_alarm(name, "OK")
        t = self.monitored(name, "does-not-exist")
        s = self.ac.create_deployment_strategy(Name="bake-" + t["app"], DeploymentDurationInMinutes=0,
                                               GrowthFactor=100, FinalBakeTimeInMinutes=1440, ReplicateTo="NONE")
        n = self.start(t, 2, s["Id"])["DeploymentNumber"]
        self.assertEqual(self.get(t, n)["State"], "BAKING")  # a missing alarm does not stop it
        self.set_alarm(name, "ALARM")
        self.rolled_back(t, n, name)

    def test_alertmanager_alert_rolls_back(self):
        name = "HighErrorRate" + str(time.monotonic_ns())
        self.alarm(name)
        t = self.monitored(name)
        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes")["DeploymentNumber"]
        note = {"version": "4", "status": "firing", "receiver": "lever", "groupLabels": {}, "commonLabels": {},
                "commonAnnotations": {}, "externalURL": "http://am:9093", "groupKey": "{}", "truncatedAlerts": 0,
                "alerts": [{"status": "firing", "labels": {"alertname": name}, "annotations": {},
                            "startsAt": "2026-12-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                            "generatorURL": "http://prom:9090/graph", "fingerprint": "f1"}]}
        st, _h, body = self.server.raw("POST", "/alertmanager", json.dumps(note).encode(),
                                       {"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN})
        self.assertEqual(st, 200, body)
        self.rolled_back(t, n, name)

    def test_override_starts_past_a_firing_alarm_until_it_recovers(self):
        name = "firing-" + self._testMethodName
        self.alarm(name)
        self.set_alarm(name, "ALARM")
        t = self.monitored(name)
        # without the override the alarm rolls the fix back at once
        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes")["DeploymentNumber"]
        self.rolled_back(t, n, name)
        # with it, the deployment runs while the alarm still fires
        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes",
                       Tags={"lever:override-alarms": name})["DeploymentNumber"]
        d = self.until(t, n, lambda d: d["PercentageComplete"] >= 20, "at 20% despite the alarm")
        self.assertEqual(d["State"], "DEPLOYING")
        started = self.events(d)[0]
        self.assertIn("lever:override-alarms", started[2])
        self.assertIn(name, started[2])
        arn = "arn:aws:appconfig:%s:%s:application/%s/environment/%s/deployment/%d" % (
            REGION, ACCOUNT, t["app"], t["env"], n)
        self.assertEqual(self.ac.list_tags_for_resource(ResourceArn=arn)["Tags"], {"lever:override-alarms": name})
        # the fix works: the alarm recovers; firing again now rolls back
        steps = len(self.percentages(self.get(t, n)))
        self.set_alarm(name, "OK")
        self.until(t, n, lambda d: len(self.percentages(d)) > steps, "one more step after the recovery")
        self.set_alarm(name, "ALARM")
        self.rolled_back(t, n, name)


if __name__ == "__main__":
    unittest.main()
