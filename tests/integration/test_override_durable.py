"""The alarm override's "seen out of ALARM" is durable. A deployment
started with lever:override-alarms past a firing alarm sees the alarm
recover (it counts again from then on); while the driver is held in a
hanging AT_DEPLOYMENT_TICK hook the alarm fires again and leverd is
SIGKILLed before it could act. The restarted leverd finds the alarm in
ALARM at its first look: the override no longer covers it, so the
deployment rolls back (with the state in memory only, the restart would
have exempted it anew and let the deployment run on). Real leverd at
--time-scale 600, a local http.server as the hook; deadlines and polling."""

import http.server
import threading
import time
import unittest

from ac_helpers import ARN
from lever_harness import ACCOUNT, REGION, admin_call
from rollout_helpers import RolloutCase


class Hook:
    """Answers 200, or with hang set, holds each request until released."""

    def __init__(self):
        self.hang = False
        self.release = threading.Event()
        self.calls = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.calls += 1
                    hang = outer.hang
                if hang:
                    outer.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/tick" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class OverrideDurable(RolloutCase):
    # a hook may take 3600 s / 600 = 6 s: the window to fire the alarm and kill
    LEVERD_KW = {"extra_args": ["--time-scale", str(RolloutCase.SCALE), "--hook-timeout", "3600"]}

    def set_alarm(self, name, state):
        st, p = admin_call(self.server, "SetAlarmState", {"AlarmName": name, "StateValue": state,
                                                          "StateReason": "test"})
        self.assertEqual(st, 200, p)

    def wait_log(self, text, what):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if text in self.server.log_text():
                return
            time.sleep(0.02)
        self.fail("leverd never logged %s" % what)

    def test_recovered_alarm_counts_again_after_sigkill(self):
        hook = Hook()
        self.addCleanup(hook.close)
        name = "durable-" + self._testMethodName
        self.assertEqual(admin_call(self.server, "PutAlarm", {"AlarmName": name})[0], 200)
        self.set_alarm(name, "ALARM")
        t = self.versions(monitors=[{"AlarmArn": "arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, name)}])
        ext = self.ac.create_extension(Name="tick-" + t["app"], Actions={
            "AT_DEPLOYMENT_TICK": [{"Name": "tick", "Uri": hook.url}]})
        self.ac.create_extension_association(ExtensionIdentifier=ext["Id"], ResourceIdentifier=ARN + "application/"
                                             + t["app"])
        n = self.start(t, 2, "Lever.Linear10PercentEvery10Minutes",
                       Tags={"lever:override-alarms": name})["DeploymentNumber"]
        self.until(t, n, lambda d: d["PercentageComplete"] >= 10, "at 10% past the firing alarm")
        self.set_alarm(name, "OK")
        self.wait_log("exempted alarm %s is out of ALARM; it counts again" % name, "the recovery")
        # hold the driver in its next tick, fire the alarm, kill leverd
        with hook.lock:
            hook.hang = True
            before = hook.calls
        end = time.monotonic() + 30
        while hook.calls == before and time.monotonic() < end:
            time.sleep(0.01)
        self.assertGreater(hook.calls, before, "no tick while hanging")
        self.set_alarm(name, "ALARM")
        self.assertEqual(self.get(t, n)["State"], "DEPLOYING")  # the driver is still in the tick
        self.server.kill()
        with hook.lock:
            hook.hang = False
        hook.release.set()
        self.server.restart()
        d = self.until(t, n, lambda d: d["State"] != "DEPLOYING", "rolled back after the restart")
        self.assertEqual(d["State"], "ROLLED_BACK")
        ev = [(e["EventType"], e["TriggeredBy"], e["Description"]) for e in d["EventLog"]]
        self.assertEqual(ev[1][0:2], ("ROLLBACK_STARTED", "CLOUDWATCH_ALARM"), ev)
        self.assertIn(name, ev[1][2])
        self.assertLess(d["PercentageComplete"], 100)


if __name__ == "__main__":
    unittest.main()
