"""Extension webhooks against a real leverd: a local http.server is the
receiver. Pre-create and pre-start hooks veto (BadRequestException naming the
extension, nothing written), asynchronous ON_DEPLOYMENT_* events arrive signed
with an HMAC-SHA256 the test verifies itself, a hook that hangs neither stalls
other requests (one event loop) nor the call past its timeout, failing
asynchronous hooks change nothing, and a failing or hanging AT_DEPLOYMENT_TICK
hook rolls a gradual deployment (--time-scale 600) back.

Time-based checks poll with deadlines; nothing sleeps for long."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import time
import unittest

import botocore.exceptions

from ac_helpers import ARN, AppConfigCase, ac_clients

DEADLINE = 20.0


class Receiver:
    """Answers by path: /ok 200, /deny 403 with a JSON Message, /fail 500,
    /hang waits until released (or 60 s). Keeps every request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = []
        self.release = threading.Event()
        self.tick_status = 200  # what /tick answers (the test flips it)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    outer.got.append({"path": self.path, "headers": dict(self.headers.items()), "body": body,
                                      "at": time.time()})
                if self.path.startswith("/hang"):
                    outer.release.wait(60)
                code = {"/ok": 200, "/deny": 403, "/fail": 500,
                        "/tick": outer.tick_status}.get(self.path.split("?")[0], 200)
                msg = json.dumps({"Message": "not on a Friday"}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                try:
                    self.wfile.write(msg)
                except OSError:
                    pass  # the caller gave up (timeout): expected

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return self.base + path

    def requests(self):
        with self.lock:
            return list(self.got)

    def wait(self, pred, what, deadline=DEADLINE):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            got = [r for r in self.requests() if pred(r)]
            if got:
                return got
            time.sleep(0.02)
        raise AssertionError("the receiver did not get %s within %ss; got %r" % (what, deadline, self.requests()))

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def verify(key, req, tolerance=300):
    """The receiver's side of X-Lever-Signature: t=<unix>,v1=<hex HMAC-SHA256(key, t + "." + body)>."""
    sig = req["headers"].get("X-Lever-Signature", "")
    parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
    t = int(parts["t"])
    if abs(time.time() - t) > tolerance:
        return False
    want = hmac.new(key, b"%d." % t + req["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, parts["v1"])


class HooksCase(AppConfigCase):
    def setUp(self):
        super().setUp()
        self.recv = Receiver()
        self.addCleanup(self.recv.close)

    def key(self):
        with open(os.path.join(self.server.data_dir, "hooks.key"), "rb") as f:
            return f.readline().strip()

    def extension(self, actions, name=None, **kw):
        acts = {point: [{"Name": "%s-%d" % (point.lower(), i), "Uri": u} for i, u in enumerate(uris)]
                for point, uris in actions.items()}
        return self.ac.create_extension(Name=name or ("x-" + self._testMethodName)[:60], Actions=acts, **kw)

    def associate(self, ext, resource_arn, **params):
        return self.ac.create_extension_association(ExtensionIdentifier=ext["Id"], ResourceIdentifier=resource_arn,
                                                    Parameters=params)

    def bad_request(self, fn, **kw):
        try:
            fn(**kw)
        except botocore.exceptions.ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "BadRequestException", e.response)
            self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
            return e.response["Error"]["Message"]
        self.fail("expected BadRequestException")


class Vetoes(HooksCase):
    def test_pre_create_hook_vetoes_and_nothing_is_written(self):
        t = self.tree()
        ext = self.extension({"PRE_CREATE_HOSTED_CONFIGURATION_VERSION": [self.recv.url("/deny")]},
                             Parameters={"team": {"Required": True}})
        self.associate(ext, ARN + "application/" + t["app"], team="web")
        msg = self.bad_request(self.ac.create_hosted_configuration_version, ApplicationId=t["app"],
                               ConfigurationProfileId=t["prof"], Content=b'{"a": 2}', ContentType="application/json",
                               Description="second")
        self.assertIn(ext["Name"], msg)
        self.assertIn("PRE_CREATE_HOSTED_CONFIGURATION_VERSION", msg)
        self.assertIn("403", msg)
        self.assertIn("not on a Friday", msg)
        items = self.ac.list_hosted_configuration_versions(ApplicationId=t["app"],
                                                           ConfigurationProfileId=t["prof"])["Items"]
        self.assertEqual([i["VersionNumber"] for i in items], [t["ver"]])
        got = self.recv.requests()
        self.assertEqual(len(got), 1)
        ev = json.loads(got[0]["body"])
        self.assertTrue(verify(self.key(), got[0]))
        self.assertEqual(ev["Type"], "PRE_CREATE_HOSTED_CONFIGURATION_VERSION")
        self.assertEqual(ev["Application"]["Id"], t["app"])
        self.assertEqual(ev["ConfigurationProfile"]["Id"], t["prof"])
        self.assertNotIn("Environment", ev)
        self.assertEqual(base64.b64decode(ev["Content"]), b'{"a": 2}')
        self.assertEqual(ev["ContentType"], "application/json")
        self.assertEqual(ev["Description"], "second")
        self.assertEqual(ev["Parameters"], {"team": "web"})
        self.assertEqual(ev["Extension"]["Id"], ext["Id"])
        self.assertEqual(got[0]["headers"].get("X-Lever-Hook-Point"), "PRE_CREATE_HOSTED_CONFIGURATION_VERSION")
        self.assertEqual(got[0]["headers"].get("X-Lever-Invocation-Id"), ev["InvocationId"])
        self.assertIn("vetoed", self.server.log_text())
        st, _, metrics = self.server.raw("GET", "/metrics")
        self.assertEqual(st, 200)
        counts = dict(l.split(" ", 1) for l in metrics.decode().splitlines() if l.startswith("lever_hook_"))
        self.assertGreaterEqual(int(counts["lever_hook_vetoes_total"]), 1)
        self.assertGreaterEqual(int(counts["lever_hook_failures_total"]), 1)
        # A hook that agrees lets the version through.
        self.ac.update_extension(ExtensionIdentifier=ext["Id"], Actions={
            "PRE_CREATE_HOSTED_CONFIGURATION_VERSION": [{"Name": "ok", "Uri": self.recv.url("/ok")}]})
        v = self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                        Content=b'{"a": 3}', ContentType="application/json")
        self.assertEqual(v["VersionNumber"], t["ver"] + 1)

    def test_pre_start_hook_vetoes_and_nothing_is_written(self):
        t = self.tree()
        env2 = self.ac.create_environment(ApplicationId=t["app"], Name="staging")["Id"]
        # One action per point and extension (the model's limit): two extensions.
        agree = self.extension({"PRE_START_DEPLOYMENT": [self.recv.url("/ok")]}, name="agrees")
        ext = self.extension({"PRE_START_DEPLOYMENT": [self.recv.url("/deny")]})
        self.associate(agree, ARN + "application/%s/environment/%s" % (t["app"], t["env"]))
        self.associate(ext, ARN + "application/%s/environment/%s" % (t["app"], t["env"]))
        msg = self.bad_request(self.deploy, t=t, version=t["ver"])
        self.assertIn(ext["Name"], msg)
        self.assertIn("PRE_START_DEPLOYMENT", msg)
        self.assertIn("/deny", msg)
        self.assertNotIn("agrees", msg)
        self.assertEqual(self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"], [])
        env = self.ac.get_environment(ApplicationId=t["app"], EnvironmentId=t["env"])
        self.assertEqual(env["State"], "ReadyForDeployment")
        got = self.recv.requests()
        self.assertEqual(sorted(r["path"] for r in got), ["/deny", "/ok"])
        for r in got:
            self.assertTrue(verify(self.key(), r))
            ev = json.loads(r["body"])
            self.assertEqual(ev["Type"], "PRE_START_DEPLOYMENT")
            self.assertEqual((ev["Environment"]["Id"], ev["Environment"]["Name"]), (t["env"], "prod"))
            self.assertEqual(ev["ConfigurationVersion"], str(t["ver"]))
            self.assertEqual(ev["DeploymentStrategyId"], "Lever.AllAtOnce")  # ac_helpers' default
            self.assertEqual(base64.b64decode(ev["Content"]), b'{"a": 1}')
            self.assertTrue(ev["CreatedBy"].startswith("arn:aws:iam::"))
        # The association is on prod only: staging deploys without a call.
        d = self.ac.start_deployment(ApplicationId=t["app"], EnvironmentId=env2,
                                     DeploymentStrategyId="Lever.AllAtOnce", ConfigurationProfileId=t["prof"],
                                     ConfigurationVersion=str(t["ver"]))
        self.assertEqual(d["State"], "COMPLETE")
        self.assertEqual(len(self.recv.requests()), 2)
        # Other action URIs (Lambda ARNs) are not lever's to call.
        self.ac.update_extension(ExtensionIdentifier=ext["Id"], Actions={"PRE_START_DEPLOYMENT": [
            {"Name": "l", "Uri": "arn:aws:lambda:us-east-1:000000000000:function:f",
             "RoleArn": "arn:aws:iam::000000000000:role/r"}]})
        self.assertEqual(self.deploy(t, t["ver"])["State"], "COMPLETE")


class AsyncEvents(HooksCase):
    def test_deployment_events_arrive_signed(self):
        t = self.tree()
        ext = self.extension({"ON_DEPLOYMENT_START": [self.recv.url("/ok?start")],
                              "ON_DEPLOYMENT_COMPLETE": [self.recv.url("/ok?complete")],
                              "ON_DEPLOYMENT_ROLLED_BACK": [self.recv.url("/ok?back")]})
        self.associate(ext, ARN + "application/%s/configurationprofile/%s" % (t["app"], t["prof"]), who="ops")
        failing = self.extension({"ON_DEPLOYMENT_COMPLETE": [self.recv.url("/fail")]}, name="failing")
        self.associate(failing, ARN + "application/" + t["app"])
        d = self.deploy(t, t["ver"])
        self.assertEqual(d["State"], "COMPLETE")  # a failing asynchronous hook changes nothing
        start = self.recv.wait(lambda r: r["path"] == "/ok?start", "ON_DEPLOYMENT_START")[0]
        done = self.recv.wait(lambda r: r["path"] == "/ok?complete", "ON_DEPLOYMENT_COMPLETE")[0]
        self.recv.wait(lambda r: r["path"] == "/fail", "the failing hook's call")
        key = self.key()
        for r, point in ((start, "ON_DEPLOYMENT_START"), (done, "ON_DEPLOYMENT_COMPLETE")):
            self.assertTrue(verify(key, r), r["headers"])
            ev = json.loads(r["body"])
            self.assertEqual(ev["Type"], point)
            self.assertEqual(ev["DeploymentNumber"], d["DeploymentNumber"])
            self.assertEqual(ev["ConfigurationProfile"], {"Id": t["prof"], "Name": "cfg"})
            self.assertEqual(ev["Parameters"], {"who": "ops"})
            self.assertEqual(ev["ExtensionAssociationId"] != "", True)
        self.assertEqual(json.loads(done["body"])["DeploymentState"], "COMPLETE")
        self.assertEqual(json.loads(done["body"])["PercentageComplete"], 100)
        # A forged or altered body fails the check the receiver makes.
        forged = dict(start, body=start["body"].replace(b"ON_DEPLOYMENT_START", b"ON_DEPLOYMENT_BOGUS"))
        self.assertFalse(verify(key, forged))
        self.assertFalse(verify(b"another-key-0123456789", start))
        self.assertFalse(verify(key, start, tolerance=-1))  # an old timestamp is refused
        end = time.monotonic() + DEADLINE
        while "HTTP 500" not in self.server.log_text() and time.monotonic() < end:
            time.sleep(0.02)
        self.assertIn("hook ON_DEPLOYMENT_COMPLETE", self.server.log_text())
        self.assertIn("HTTP 500", self.server.log_text())


class HangingHook(HooksCase):
    # One event loop: a handler that blocked it would stall every request.
    LEVERD_KW = {"extra_args": ["--threads", "1", "--hook-timeout", "120"]}

    def test_hanging_hook_does_not_stall_other_requests(self):
        t = self.tree()
        ext = self.extension({"PRE_START_DEPLOYMENT": [self.recv.url("/hang")]})
        self.associate(ext, ARN + "application/" + t["app"])
        out = {}
        ac2, _ = ac_clients(self.server)

        def start():
            try:
                out["d"] = ac2.start_deployment(ApplicationId=t["app"], EnvironmentId=t["env"],
                                                DeploymentStrategyId="Lever.AllAtOnce",
                                                ConfigurationProfileId=t["prof"], ConfigurationVersion=str(t["ver"]))
            except Exception as e:  # noqa: BLE001
                out["e"] = e

        th = threading.Thread(target=start, daemon=True)
        th.start()
        self.recv.wait(lambda r: r["path"] == "/hang", "the hanging call")
        # While the hook hangs, the same (only) event loop serves everyone else.
        for i in range(20):
            self.assertEqual(self.ac.get_application(ApplicationId=t["app"])["Id"], t["app"])
            self.ssm.put_parameter(Name=self.n("p%d" % i), Value="v", Type="String")
            self.assertEqual(self.ssm.get_parameter(Name=self.n("p%d" % i))["Parameter"]["Value"], "v")
        self.assertTrue(th.is_alive(), "the deployment should still wait on its hook")
        self.assertEqual(self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"], [])
        self.recv.release.set()
        th.join(DEADLINE)
        self.assertFalse(th.is_alive())
        self.assertNotIn("e", out, out.get("e"))
        self.assertEqual(out["d"]["State"], "COMPLETE")

    def test_hanging_asynchronous_hook_blocks_nothing(self):
        t = self.tree()
        ext = self.extension({"ON_DEPLOYMENT_START": [self.recv.url("/hang?async")]})
        self.associate(ext, ARN + "application/" + t["app"])
        self.recv.release.clear()
        d = self.deploy(t, t["ver"])
        self.recv.wait(lambda r: r["path"] == "/hang?async", "the hanging event")
        # The deployment was answered and later calls go on while the event hangs.
        self.assertEqual(d["State"], "COMPLETE")
        v = self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                        Content=b'{"a": 9}', ContentType="application/json")
        self.assertEqual(self.deploy(t, v["VersionNumber"])["State"], "COMPLETE")
        self.assertEqual(len([r for r in self.recv.requests() if r["path"] == "/hang?async"]) >= 1, True)
        self.recv.release.set()


class HookTimeout(HooksCase):
    # 10 s divided by the time scale is under the 1 s floor: a hang vetoes after 1 s.
    LEVERD_KW = {"extra_args": ["--time-scale", "100"]}

    def test_hook_that_does_not_answer_in_time_vetoes(self):
        t = self.tree()
        ext = self.extension({"PRE_START_DEPLOYMENT": [self.recv.url("/hang")]})
        self.associate(ext, ARN + "application/" + t["app"])
        msg = self.bad_request(self.deploy, t=t, version=t["ver"])
        self.assertIn(ext["Name"], msg)
        self.assertIn("no answer", msg)
        self.assertEqual(self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"], [])


class TickHooks(HooksCase):
    """AT_DEPLOYMENT_TICK on gradual deployments driven at --time-scale 600
    (Lever.Linear10PercentEvery1Minute: a step every 100 ms)."""

    LEVERD_KW = {"extra_args": ["--time-scale", "600"]}

    def gradual(self, ext_actions):
        t = self.tree(content=b"v1", ctype="text/plain")
        self.assertEqual(self.deploy(t, t["ver"], strategy="Lever.AllAtOnce")["State"], "COMPLETE")
        v2 = self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                         Content=b"v2", ContentType="text/plain")["VersionNumber"]
        ext = self.extension(ext_actions)
        self.associate(ext, ARN + "application/%s/environment/%s" % (t["app"], t["env"]), stage="canary")
        d = self.deploy(t, v2, strategy="Lever.Linear10PercentEvery1Minute")
        return t, ext, d

    def until(self, t, n, pred, what):
        end = time.monotonic() + DEADLINE
        d = None
        while time.monotonic() < end:
            d = self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n)
            if pred(d):
                return d
            time.sleep(0.02)
        self.fail("deployment %d never %s: %r" % (n, what, d))

    def test_failing_tick_hook_rolls_back(self):
        t, ext, d = self.gradual({"AT_DEPLOYMENT_TICK": [self.recv.url("/tick")],
                                  "ON_DEPLOYMENT_STEP": [self.recv.url("/ok?step")],
                                  "ON_DEPLOYMENT_ROLLED_BACK": [self.recv.url("/ok?back")]})
        n = d["DeploymentNumber"]
        # Ticks that agree let the deployment grow.
        self.until(t, n, lambda x: x["PercentageComplete"] >= 20, "grew past 20%")
        self.recv.tick_status = 503
        got = self.until(t, n, lambda x: x["State"] == "ROLLED_BACK", "rolled back")
        self.assertLess(got["PercentageComplete"], 100)
        log = " | ".join("%s %s %s" % (e["EventType"], e["TriggeredBy"], e["Description"]) for e in got["EventLog"])
        self.assertIn("AT_DEPLOYMENT_TICK", log)
        self.assertIn(ext["Name"], log)
        self.assertIn("503", log)
        env = self.ac.get_environment(ApplicationId=t["app"], EnvironmentId=t["env"])
        self.assertEqual(env["State"], "RolledBack")
        # Everyone is served the version from before again.
        got = self.ac.get_configuration(Application=t["app"], Environment=t["env"], Configuration=t["prof"],
                                        ClientId="anyone")
        self.assertEqual(got["Content"].read(), b"v1")
        ticks = [r for r in self.recv.requests() if r["path"] == "/tick"]
        self.assertGreaterEqual(len(ticks), 3)
        key = self.key()
        for r in ticks:
            self.assertTrue(verify(key, r))
            ev = json.loads(r["body"])
            self.assertEqual((ev["Type"], ev["DeploymentNumber"]), ("AT_DEPLOYMENT_TICK", n))
            self.assertEqual(ev["DeploymentState"], "DEPLOYING")
            self.assertEqual(ev["Parameters"], {"stage": "canary"})
        self.assertEqual(sorted(json.loads(r["body"])["PercentageComplete"] for r in ticks)[0], 0)
        steps = self.recv.wait(lambda r: r["path"] == "/ok?step", "ON_DEPLOYMENT_STEP")
        self.assertTrue(all(json.loads(r["body"])["Type"] == "ON_DEPLOYMENT_STEP" for r in steps))
        back = self.recv.wait(lambda r: r["path"] == "/ok?back", "ON_DEPLOYMENT_ROLLED_BACK")[0]
        self.assertTrue(verify(key, back))
        self.assertEqual(json.loads(back["body"])["DeploymentState"], "ROLLED_BACK")
        self.assertIn("rolls deployment", self.server.log_text())

    def test_hanging_tick_hook_rolls_back_after_its_timeout(self):
        t, ext, d = self.gradual({"AT_DEPLOYMENT_TICK": [self.recv.url("/hang?tick")]})
        n = d["DeploymentNumber"]
        self.recv.wait(lambda r: r["path"] == "/hang?tick", "the hanging tick")
        # The driver waits on its own thread: the API answers meanwhile.
        self.assertEqual(self.ac.get_application(ApplicationId=t["app"])["Id"], t["app"])
        got = self.until(t, n, lambda x: x["State"] == "ROLLED_BACK", "rolled back")
        log = " | ".join(e["Description"] for e in got["EventLog"])
        self.assertIn("no answer", log)
        self.assertIn(ext["Name"], log)
        self.assertEqual(got["PercentageComplete"], 0)


if __name__ == "__main__":
    unittest.main()
