"""Lever alarms against a real leverd: HTTP probes (a local http.server as the
target) at a high --time-scale, SetAlarmState, DescribeAlarms, DeleteAlarm,
validation, access-key policies, audit, persistence across restarts and in
backups, the Alertmanager webhook receiver, and `lever alarm`.

Time-based checks poll with deadlines; nothing sleeps for long."""

import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import unittest

from lever_harness import (ACCESS_KEY, REGION, ACCOUNT, SECRET_KEY, LeverTestCase, Leverd, admin_call, build_dir,
                           create_key, error_message, error_type)

TOKEN = "am-token-0123456789abcdef"
SCALE = 200  # IntervalSeconds 10 -> 50 ms
DEADLINE = 20.0


class Target:
    """A probe target whose answer the test chooses: ok (200), fail (503) or hang."""

    def __init__(self):
        self.mode = "ok"
        self.hits = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    outer.hits += 1
                    mode = outer.mode
                if mode == "hang":
                    time.sleep(2)
                    return
                self.send_response(200 if mode == "ok" else 503)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"hi")

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/health" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def set(self, mode):
        with self.lock:
            self.mode = mode

    def count(self):
        with self.lock:
            return self.hits

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class AlarmsTest(LeverTestCase):
    LEVERD_KW = {"extra_args": ["--time-scale", str(SCALE)], "extra_env": {"LEVER_ALERTMANAGER_TOKEN": TOKEN}}

    def setUp(self):
        super().setUp()
        self.target = Target()
        self.addCleanup(self.target.close)
        self.prefix = "t%d-" % type(self)._seq

    def call(self, op, body=None, **kw):
        st, parsed = admin_call(self.server, op, body or {}, **kw)
        return st, parsed

    def ok(self, op, body=None, **kw):
        st, parsed = self.call(op, body, **kw)
        self.assertEqual(st, 200, "%s: %r" % (op, parsed))
        return parsed

    def refused(self, op, body, code, **kw):
        st, parsed = self.call(op, body, **kw)
        self.assertEqual(st, 400, "%s %r should be refused: %r" % (op, body, parsed))
        self.assertEqual(error_type(parsed), code, parsed)
        return error_message(parsed)

    def alarm(self, name):
        got = self.ok("DescribeAlarms", {"AlarmNames": [name]})["Alarms"]
        self.assertLessEqual(len(got), 1)
        return got[0] if got else None

    def wait_state(self, name, state, deadline=DEADLINE):
        end = time.monotonic() + deadline
        last = None
        while time.monotonic() < end:
            last = self.alarm(name)
            if last and last["StateValue"] == state:
                return last
            time.sleep(0.02)
        self.fail("alarm %s did not reach %s within %ss; last %r" % (name, state, deadline, last))

    def wait_hits(self, n, deadline=DEADLINE):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.target.count() >= n:
                return
            time.sleep(0.01)
        self.fail("the probe target saw %d requests, expected %d" % (self.target.count(), n))

    def am(self, body, token=TOKEN, method="POST"):
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        st, _h, raw = self.server.raw(method, "/alertmanager", data, h)
        try:
            return st, json.loads(raw)
        except ValueError:
            return st, None

    def audit_lines(self):
        with open(os.path.join(self.server.data_dir, "audit.log")) as f:
            return [json.loads(line) for line in f if line.strip()]

    # -- probes ------------------------------------------------------------
    def test_probe_starts_insufficient_then_alarm_after_threshold_then_ok(self):
        name = self.prefix + "web"
        self.target.set("fail")
        # A long interval: exactly one probe happens, which is below the threshold.
        self.ok("PutAlarm", {"AlarmName": name, "Probe": {"Url": self.target.url, "IntervalSeconds": 3600,
                                                          "FailureThreshold": 3, "TimeoutSeconds": 5}})
        self.wait_hits(1)
        time.sleep(0.1)
        a = self.alarm(name)
        self.assertEqual(a["StateValue"], "INSUFFICIENT_DATA", a)
        self.assertEqual(self.target.count(), 1, "one probe per (scaled) interval")
        # The same alarm probed every 10 s (50 ms scaled): ALARM after 3 failures in a row.
        # (Counted from before the put: its first probe may hit the target before the answer.)
        before = self.target.count()
        self.ok("PutAlarm", {"AlarmName": name, "Probe": {"Url": self.target.url, "IntervalSeconds": 10,
                                                          "FailureThreshold": 3, "TimeoutSeconds": 5}})
        a = self.wait_state(name, "ALARM")
        self.assertGreaterEqual(self.target.count() - before, 3, "ALARM needs 3 failed probes")
        self.assertIn("HTTP 503", a["StateReason"])
        self.assertIn("3 times in a row", a["StateReason"])
        # One success is enough to be OK again.
        self.target.set("ok")
        a = self.wait_state(name, "OK")
        self.assertIn("HTTP 200", a["StateReason"])

    def test_probe_fails_below_threshold_stays_ok(self):
        name = self.prefix + "flaky"
        self.target.set("ok")
        self.ok("PutAlarm", {"AlarmName": name, "Probe": {"Url": self.target.url, "IntervalSeconds": 10,
                                                          "FailureThreshold": 100, "TimeoutSeconds": 5}})
        self.wait_state(name, "OK")
        self.target.set("fail")
        start = self.target.count()
        self.wait_hits(start + 5)
        self.assertEqual(self.alarm(name)["StateValue"], "OK", "5 failures are below a threshold of 100")

    def test_probe_timeout_and_refused_connection_are_failures(self):
        self.target.set("hang")
        slow = self.prefix + "slow"
        self.ok("PutAlarm", {"AlarmName": slow, "Probe": {"Url": self.target.url, "IntervalSeconds": 10,
                                                          "FailureThreshold": 2, "TimeoutSeconds": 1}})
        a = self.wait_state(slow, "ALARM")
        self.assertIn("timed out", a["StateReason"].lower())
        dead = self.prefix + "dead"
        port = self.target.httpd.server_address[1]
        self.target.close()
        self.ok("PutAlarm", {"AlarmName": dead, "Probe": {"Url": "http://127.0.0.1:%d/" % port,
                                                          "IntervalSeconds": 10, "FailureThreshold": 2,
                                                          "TimeoutSeconds": 1}})
        self.wait_state(dead, "ALARM")
        self.target = Target()  # for the cleanup registered in setUp
        self.addCleanup(self.target.close)

    # -- SetAlarmState, DescribeAlarms, DeleteAlarm ------------------------
    def test_set_state_and_describe_shape(self):
        name = self.prefix + "manual"
        t0 = time.time()
        self.ok("PutAlarm", {"AlarmName": name})
        a = self.alarm(name)
        self.assertEqual(set(a), {"AlarmName", "StateValue", "StateReason", "StateUpdatedTimestamp"})
        self.assertEqual(a["StateValue"], "INSUFFICIENT_DATA")
        self.ok("SetAlarmState", {"AlarmName": name, "StateValue": "ALARM", "StateReason": "error budget burnt"})
        a = self.alarm(name)
        self.assertEqual((a["AlarmName"], a["StateValue"], a["StateReason"]), (name, "ALARM", "error budget burnt"))
        self.assertIsInstance(a["StateUpdatedTimestamp"], (int, float))
        self.assertGreater(a["StateUpdatedTimestamp"], t0 - 5)
        self.assertLess(a["StateUpdatedTimestamp"], time.time() + 5)
        self.ok("SetAlarmState", {"AlarmName": name, "StateValue": "OK", "StateReason": ""})
        self.assertEqual(self.alarm(name)["StateValue"], "OK")
        # a probing alarm shows its probe
        probed = self.prefix + "probed"
        self.ok("PutAlarm", {"AlarmName": probed, "Probe": {"Url": self.target.url}})
        p = self.alarm(probed)["Probe"]
        self.assertEqual(p, {"Url": self.target.url, "IntervalSeconds": 30, "FailureThreshold": 3,
                             "TimeoutSeconds": 5})
        # every alarm, in name order
        names = [x["AlarmName"] for x in self.ok("DescribeAlarms")["Alarms"]]
        self.assertIn(name, names)
        self.assertIn(probed, names)
        self.assertEqual(names, sorted(names))
        # unknown names are simply absent; SetAlarmState on one is an error
        self.assertEqual(self.ok("DescribeAlarms", {"AlarmNames": ["no-such-alarm"]}), {"Alarms": []})
        msg = self.refused("SetAlarmState", {"AlarmName": "no-such-alarm", "StateValue": "OK", "StateReason": "x"},
                           "ResourceNotFoundException")
        self.assertIn("no-such-alarm", msg)
        self.refused("SetAlarmState", {"AlarmName": name, "StateValue": "INSUFFICIENT_DATA", "StateReason": "x"},
                     "ValidationException")

    def test_delete(self):
        name = self.prefix + "gone"
        self.ok("PutAlarm", {"AlarmName": name})
        self.assertEqual(self.ok("DeleteAlarm", {"AlarmName": name}), {})
        self.assertIsNone(self.alarm(name))
        self.refused("DeleteAlarm", {"AlarmName": name}, "ResourceNotFoundException")
        # a deleted probing alarm stops probing
        self.ok("PutAlarm", {"AlarmName": name, "Probe": {"Url": self.target.url, "IntervalSeconds": 10}})
        self.wait_hits(2)
        self.ok("DeleteAlarm", {"AlarmName": name})
        time.sleep(0.1)
        n = self.target.count()
        time.sleep(0.3)  # six scaled intervals
        self.assertLessEqual(self.target.count(), n + 1, "probing goes on after DeleteAlarm")

    def test_validation(self):
        msg = self.refused("PutAlarm", {"AlarmName": "has space"}, "ValidationException")
        self.assertIn("Value 'has space' at 'alarmName' failed to satisfy constraint", msg)
        msg = self.refused("PutAlarm", {"AlarmName": "x" * 256}, "ValidationException")
        self.assertIn("Member must have length less than or equal to 255", msg)
        msg = self.refused("PutAlarm", {}, "ValidationException")
        self.assertIn("Value null at 'alarmName' failed to satisfy constraint: Member must not be null", msg)
        msg = self.refused("PutAlarm", {"AlarmName": "v", "Probe": {"Url": "ftp://example.com/"}},
                           "ValidationException")
        self.assertIn("http:// or https://", msg)
        msg = self.refused("PutAlarm", {"AlarmName": "v", "Probe": {"Url": self.target.url, "IntervalSeconds": 0,
                                                                    "FailureThreshold": 101}},
                           "ValidationException")
        self.assertTrue(msg.startswith("2 validation errors detected: "), msg)
        self.assertIn("Member must have value greater than or equal to 1", msg)
        self.assertIn("Member must have value less than or equal to 100", msg)
        msg = self.refused("PutAlarm", {"AlarmName": "v", "Probe": {"Url": self.target.url, "IntervalSeconds": 5,
                                                                    "TimeoutSeconds": 10}},
                           "ValidationException")
        self.assertIn("less than or equal to probe.intervalSeconds", msg)
        self.refused("PutAlarm", {"AlarmName": "v", "Probe": "http://x/"}, "SerializationException")
        self.refused("PutAlarm", {"AlarmName": 7}, "SerializationException")
        self.refused("DescribeAlarms", {"AlarmNames": ["a"] * 101}, "ValidationException")
        self.assertIsNone(self.alarm("v"), "a refused PutAlarm must not create the alarm")

    # -- authorisation and audit -------------------------------------------
    def test_policies_and_audit(self):
        team = self.prefix + "team-a"
        other = self.prefix + "other"
        self.ok("PutAlarm", {"AlarmName": other})
        arn = "arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, self.prefix + "team-*")
        akid, secret = create_key(self.server, {"alarms": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["lever:PutAlarm", "lever:SetAlarmState"], "Resource": arn},
            {"Effect": "Allow", "Action": "lever:DescribeAlarms", "Resource": "*"}]}})
        kw = {"access_key": akid, "secret_key": secret}
        self.ok("PutAlarm", {"AlarmName": team}, **kw)
        self.ok("SetAlarmState", {"AlarmName": team, "StateValue": "ALARM", "StateReason": "x"}, **kw)
        msg = self.refused("SetAlarmState", {"AlarmName": other, "StateValue": "ALARM", "StateReason": "x"},
                           "AccessDeniedException", **kw)
        self.assertIn("lever:SetAlarmState", msg)
        self.assertIn("alarm:" + other, msg)
        self.refused("DeleteAlarm", {"AlarmName": team}, "AccessDeniedException", **kw)
        self.assertEqual(self.alarm(other)["StateValue"], "INSUFFICIENT_DATA")
        self.assertEqual(len(self.ok("DescribeAlarms", {"AlarmNames": [team]}, **kw)["Alarms"]), 1)
        lines = [ln for ln in self.audit_lines() if (ln.get("names") or [None])[0] in (team, other)]
        seen = {(ln["operation"], ln["names"][0], ln["outcome"], ln["key_id"]) for ln in lines}
        self.assertIn(("Lever.PutAlarm", team, "ok", akid), seen)
        self.assertIn(("Lever.SetAlarmState", team, "ok", akid), seen)
        self.assertIn(("Lever.SetAlarmState", other, "denied", akid), seen)
        self.assertIn(("Lever.DeleteAlarm", team, "denied", akid), seen)
        self.assertIn(("Lever.DescribeAlarms", team, "ok", akid), seen)
        self.assertIn(("Lever.PutAlarm", other, "ok", ACCESS_KEY), seen)

    # -- durability ----------------------------------------------------------
    def test_survives_restart_and_sigkill(self):
        name = self.prefix + "durable"
        probed = self.prefix + "durable-probe"
        self.ok("PutAlarm", {"AlarmName": name})
        self.ok("SetAlarmState", {"AlarmName": name, "StateValue": "ALARM", "StateReason": "before restart"})
        self.target.set("fail")
        self.ok("PutAlarm", {"AlarmName": probed, "Probe": {"Url": self.target.url, "IntervalSeconds": 10,
                                                            "FailureThreshold": 1, "TimeoutSeconds": 1}})
        self.wait_state(probed, "ALARM")
        before = self.alarm(name)
        self.server.restart()
        self.assertEqual(self.alarm(name), before)
        self.assertEqual(self.alarm(probed)["StateValue"], "ALARM")
        self.ok("SetAlarmState", {"AlarmName": name, "StateValue": "OK", "StateReason": "acknowledged"})
        self.server.restart(hard=True)  # SIGKILL: the acknowledged change is there
        a = self.alarm(name)
        self.assertEqual((a["StateValue"], a["StateReason"]), ("OK", "acknowledged"))
        # probing resumes after the restart
        self.target.set("ok")
        self.wait_state(probed, "OK")

    def test_in_backups(self):
        name = self.prefix + "backed-up"
        self.target.set("fail")  # failures below the threshold leave the forced state alone
        self.ok("PutAlarm", {"AlarmName": name, "Probe": {"Url": self.target.url, "IntervalSeconds": 60,
                                                          "FailureThreshold": 100}})
        self.ok("SetAlarmState", {"AlarmName": name, "StateValue": "ALARM", "StateReason": "in the backup"})
        path = os.path.join(self.server.tmp, "alarms-backup.db")
        self.ok("CreateBackup", {"Path": path})
        dst_dir = os.path.join(self.server.tmp, "restored")
        os.makedirs(dst_dir)
        shutil.copy(os.path.join(self.server.data_dir, "master.key"), os.path.join(dst_dir, "master.key"))
        dst = Leverd(data_dir=dst_dir, extra_args=["--restore", path])
        try:
            dst.start()
            st, got = admin_call(dst, "DescribeAlarms", {"AlarmNames": [name]})
            self.assertEqual(st, 200, got)
            self.assertEqual(len(got["Alarms"]), 1)
            self.assertEqual(got["Alarms"][0]["StateReason"], "in the backup")
            self.assertEqual(got["Alarms"][0]["Probe"]["IntervalSeconds"], 60)
        finally:
            dst.cleanup()

    # -- Alertmanager --------------------------------------------------------
    def test_alertmanager_firing_resolved(self):
        a, b = self.prefix + "HighLatency", self.prefix + "ErrorRate"
        self.ok("PutAlarm", {"AlarmName": a})
        self.ok("PutAlarm", {"AlarmName": b})

        def note(status, alerts):
            return {"version": "4", "groupKey": "{}:{alertname=\"x\"}", "status": status, "receiver": "lever",
                    "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
                    "truncatedAlerts": 0,
                    "alerts": [{"status": s, "labels": {"alertname": n, "instance": i}, "annotations": {},
                                "startsAt": "2026-12-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                                "generatorURL": "http://prom:9090/graph", "fingerprint": "f%d" % k}
                               for k, (n, s, i) in enumerate(alerts)]}

        st, body = self.am(note("firing", [(a, "firing", "i1"), (a, "resolved", "i2"), (b, "resolved", "i1"),
                                           ("NotALeverAlarm", "firing", "i1")]))
        self.assertEqual(st, 200, body)
        self.assertEqual(body, {"Updated": [a, b], "Unknown": ["NotALeverAlarm"]})
        self.assertEqual(self.alarm(a)["StateValue"], "ALARM", "any firing alert of the name fires the alarm")
        self.assertEqual(self.alarm(a)["StateReason"], "Alertmanager: firing.")
        self.assertEqual(self.alarm(b)["StateValue"], "OK")
        self.assertIsNone(self.alarm("NotALeverAlarm"), "unknown alertnames are not created")
        st, body = self.am(note("resolved", [(a, "resolved", "i1"), (a, "resolved", "i2")]))
        self.assertEqual(st, 200, body)
        self.assertEqual(self.alarm(a)["StateValue"], "OK")
        ok = [ln for ln in self.audit_lines() if ln["operation"] == "Lever.AlertmanagerWebhook"
              and ln["outcome"] == "ok" and a in (ln.get("names") or [])]
        self.assertEqual(len(ok), 2)
        self.assertEqual(ok[0]["user"], "alertmanager")

    def test_alertmanager_refusals(self):
        name = self.prefix + "guarded"
        self.ok("PutAlarm", {"AlarmName": name})
        good = {"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": name}}]}
        for token in (None, "wrong-token-0123456789", TOKEN + "x", TOKEN[:-1]):
            st, body = self.am(good, token=token)
            self.assertEqual(st, 401, (token, body))
        st, _h, _b = self.server.raw("POST", "/alertmanager", json.dumps(good).encode(),
                                     {"Authorization": "Basic " + TOKEN})
        self.assertEqual(st, 401)
        self.assertEqual(self.alarm(name)["StateValue"], "INSUFFICIENT_DATA", "a refused call changed the alarm")
        for bad in (b"{", b"[]", b"", json.dumps({"version": "3", "alerts": []}).encode(),
                    json.dumps({"version": "4"}).encode(),
                    json.dumps({"version": "4", "alerts": [{"status": "firing", "labels": {}}]}).encode(),
                    json.dumps({"version": "4", "alerts": [{"status": "pending", "labels": {"alertname": name}}]}).encode(),
                    json.dumps({"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "a b"}}]}).encode()):
            st, body = self.am(bad)
            self.assertEqual(st, 400, (bad, body))
            self.assertIn(error_type(body), ("SerializationException", "ValidationException"), body)
        self.assertEqual(self.alarm(name)["StateValue"], "INSUFFICIENT_DATA", "a malformed body changed the alarm")
        st, _b = self.am(good, method="GET")
        self.assertEqual(st, 405)
        denied = [ln for ln in self.audit_lines() if ln["operation"] == "Lever.AlertmanagerWebhook"
                  and ln["outcome"] == "denied"]
        self.assertGreaterEqual(len(denied), 5)

    # -- lever alarm -----------------------------------------------------------
    def lever(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        env.update(HOME=self.server.tmp, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   LEVER_ENDPOINT=self.server.endpoint)
        p = subprocess.run([os.path.join(build_dir(), "lever")] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def test_cli(self):
        name = self.prefix + "cli"
        probed = self.prefix + "cli-probe"
        rc, out, err = self.lever("alarm", "put", name)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.lever("alarm", "put", probed, "--url", self.target.url, "--interval", "10",
                                  "--threshold", "2", "--timeout", "1")
        self.assertEqual(rc, 0, err)
        self.wait_state(probed, "OK")
        rc, out, err = self.lever("alarm", "set", name, "ALARM", "--reason", "from the cli")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.lever("alarm", "ls", name, probed, "-o", "json")
        self.assertEqual(rc, 0, err)
        got = {a["AlarmName"]: a for a in json.loads(out)["Alarms"]}
        self.assertEqual(got[name]["StateValue"], "ALARM")
        self.assertEqual(got[name]["StateReason"], "from the cli")
        self.assertEqual(got[probed]["Probe"]["FailureThreshold"], 2)
        rc, out, err = self.lever("alarm", "ls", name, "-o", "text")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split("\t")[:2], [name, "ALARM"])
        rc, out, err = self.lever("alarm", "ls", "--endpoint", self.server.endpoint)
        self.assertEqual(rc, 0, err)
        self.assertIn(probed, out)
        rc, out, err = self.lever("alarm", "set", self.prefix + "missing", "OK")
        self.assertEqual(rc, 3, err)
        self.assertIn("ResourceNotFoundException", err)
        rc, out, err = self.lever("alarm", "set", name, "MAYBE")
        self.assertEqual(rc, 2, err)
        rc, out, err = self.lever("alarm", "put", "bad name")
        self.assertEqual(rc, 1)
        self.assertIn("ValidationException", err)
        rc, out, err = self.lever("alarm", "rm", name, probed)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.lever("alarm", "ls", name)
        self.assertEqual(rc, 3, "ls of a missing alarm: exit 3")
        rc, out, err = self.lever("alarm", "rm", name)
        self.assertEqual(rc, 3, err)


class AlertmanagerOffTest(LeverTestCase):
    """Without a token the receiver is off."""

    def test_off(self):
        st, _h, body = self.server.raw("POST", "/alertmanager", b'{"version":"4","alerts":[]}',
                                       {"Authorization": "Bearer anything-at-all-here"})
        self.assertEqual(st, 404, body)
        self.assertIn(b"alertmanager-token-file", body)


class TimeScaleFlagTest(unittest.TestCase):
    def test_bad_time_scale_refused(self):
        for bad in ("0", "-1", "abc", "1e9"):
            p = subprocess.run([os.path.join(build_dir(), "leverd"), "--time-scale", bad, "--data", "/nonexistent/x"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn(b"--time-scale", p.stderr)
        p = subprocess.run([os.path.join(build_dir(), "leverd"), "--help"], stdout=subprocess.PIPE, timeout=30)
        self.assertIn(b"--time-scale F", p.stdout)
        self.assertIn(b"--alertmanager-token-file", p.stdout)
