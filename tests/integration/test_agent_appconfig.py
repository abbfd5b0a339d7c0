"""lever-agent's AppConfig Agent API against a real leverd: the user's story
of issue 10 literally (a long-running Python process reading
http://localhost:PORT/applications/... with urllib sees a newly deployed
version without a restart), curl, names and ids, headers as AWS's agent
sends them, on-demand fetches and errors passed through, changes pushed by
Lever.WatchConfigurations (not a 45 s poll), serving after leverd is
SIGKILLed, a restart from the sealed disk copy while leverd is down,
ACCESS_TOKEN, ?flag= on a feature-flag profile, Entity-Id."""
import json
import os
import subprocess
import sys
import tempfile
import shutil
import time

from ac_helpers import ac_clients
from appconfig_agent import ACAgent, Operator, unique
from lever_harness import LeverTestCase

DONGKYL = {"username": "dongkyl"}
HAANDOL = {"username": "haandol"}

# The user's function, as they wrote it, in a process that keeps running:
# each line on stdin is one invocation; each answer is one line of JSON.
HANDLER = r'''
import json, sys, urllib.request
port, app, env, profile = sys.argv[1:5]

def handler(event=None, context=None):
    with urllib.request.urlopen(f"http://localhost:{port}/applications/{app}/environments/{env}/configurations/{profile}", timeout=2) as r:
        return json.loads(r.read())

for line in sys.stdin:
    try:
        out = handler()
    except Exception as e:
        out = {"error": repr(e)}
    print(json.dumps(out), flush=True)
'''


class AgentAppConfigTest(LeverTestCase):
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "600"}}

    def setUp(self):
        super().setUp()
        self.op = Operator(self.server)
        self.agents = []
        self.dirs = []
        self.procs = []

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
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        super().tearDown()
        if bad:
            self.fail("\n".join(bad))

    def agent(self, *args, env=None, cache_dir=None, upstream=None):
        a = ACAgent(upstream or self.server.endpoint, cache_dir=cache_dir, ac_args=args, env=env)
        self.agents.append(a)
        return a.start()

    def cache_dir(self):
        d = tempfile.mkdtemp(prefix="lever-ac-cache-")
        self.dirs.append(d)
        return d

    def deployed(self, content, kind="AWS.Freeform", content_type="application/json"):
        app, env, prof = unique("app"), unique("env"), unique("prof")
        a, e, p = self.op.profile(app, env, prof, kind=kind)
        v = self.op.store(a, p, content, content_type)
        self.op.deploy(a, e, p, v)
        return (app, env, prof), (a, e, p)

    def wait_for(self, fn, timeout, what):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.02)
        self.fail("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))

    # ----------------------------------------------------------------- story

    def test_user_story_running_process_sees_new_deployment(self):
        (app, env, prof), (a, e, p) = self.deployed([DONGKYL, HAANDOL])
        agent = self.agent("--appconfig-prefetch", "%s:%s:%s" % (app, env, prof))
        fn = subprocess.Popen([sys.executable, "-c", HANDLER, str(agent.ac_port), app, env, prof],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.procs.append(fn)

        def invoke():
            fn.stdin.write("invoke\n")
            fn.stdin.flush()
            return json.loads(fn.stdout.readline())

        self.assertEqual(invoke(), [DONGKYL, HAANDOL])
        # the operator stores a version without haandol and deploys it
        v2 = self.op.store(a, p, [DONGKYL])
        t0 = time.monotonic()
        self.op.deploy(a, e, p, v2)
        self.wait_for(lambda: invoke() == [DONGKYL], 10, "the running process to see the new version")
        took = time.monotonic() - t0
        self.assertLess(took, 10, "pushed, not a 45-second poll")
        self.assertIsNone(fn.poll(), "the same process, still running")
        self.assertEqual(invoke(), [DONGKYL])
        m = agent.ac_raw("/metrics")[2].decode()
        self.assertRegex(m, r"lever_agent_appconfig_watch_connected 1\b")

    # ------------------------------------------------------------------- API

    def test_curl_headers_names_and_ids(self):
        (app, env, prof), (a, e, p) = self.deployed({"feature": "on"})
        agent = self.agent()
        out = subprocess.run(["curl", "-si", "http://localhost:%d/applications/%s/environments/%s/configurations/%s"
                              % (agent.ac_port, app, env, prof)], stdout=subprocess.PIPE, timeout=20)
        text = out.stdout.decode()
        self.assertIn("200 OK", text.splitlines()[0])
        self.assertRegex(text, r"(?im)^content-type: application/json\r?$")
        self.assertRegex(text, r"(?im)^configuration-version: 1\r?$")
        self.assertTrue(text.endswith('{"feature": "on"}'), text)
        # ids work as names do, and answer the same bytes
        st, h, body = agent.config(a, e, p)
        self.assertEqual((st, json.loads(body)), (200, {"feature": "on"}))
        self.assertEqual(h["configuration-version"], "1")
        # first read asked leverd, the next is a hit
        st, h, body = agent.config(app, env, prof)
        self.assertEqual(h["x-lever-cache"], "hit")

    def test_on_demand_errors_pass_through(self):
        (app, env, prof), _ = self.deployed("plain text", content_type="text/plain")
        agent = self.agent()
        st, h, body = agent.config(app, env, prof)
        self.assertEqual((st, h["x-lever-cache"], h["content-type"], body), (200, "miss", "text/plain", b"plain text"))
        st, h, body = agent.config(app, env, "no-such-profile")
        self.assertEqual(st, 404)
        self.assertIn("ResourceNotFound", h.get("x-amzn-errortype", ""))
        st, h, body = agent.config("no-such-app", env, prof)
        self.assertEqual(st, 404)

    def test_on_demand_entry_follows_deployments_too(self):
        (app, env, prof), (a, e, p) = self.deployed({"v": 1})
        agent = self.agent()
        self.assertEqual(json.loads(agent.config(app, env, prof)[2]), {"v": 1})
        v2 = self.op.store(a, p, {"v": 2})
        self.op.deploy(a, e, p, v2)
        self.wait_for(lambda: json.loads(agent.config(app, env, prof)[2]) == {"v": 2}, 10, "v2 through the watch")
        st, h, body = agent.config(app, env, prof)
        self.assertEqual((h["x-lever-cache"], h["configuration-version"]), ("hit", str(v2)))

    def test_ssm_parameter_profile_follows_its_label_through_the_watch(self):
        # an ssm-parameter:// profile deployed by label serves what the label
        # names when read; moving the label is a change the watch pushes
        ssm = self.server.client()
        name = "/" + unique("lbl").replace("-", "/")
        ssm.put_parameter(Name=name, Value="one", Type="String")
        ssm.put_parameter(Name=name, Value="two", Type="String", Overwrite=True)
        ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["live"])
        app, env, prof = unique("app"), unique("env"), unique("prof")
        ac = self.op.ac
        a = ac.create_application(Name=app)["Id"]
        e = ac.create_environment(ApplicationId=a, Name=env)["Id"]
        p = ac.create_configuration_profile(ApplicationId=a, Name=prof, LocationUri="ssm-parameter://" + name)["Id"]
        n = self.op.deploy(a, e, p, "live", strategy="Lever.AllAtOnce")
        agent = self.agent("--appconfig-prefetch", "%s:%s:%s" % (app, env, prof))
        self.assertEqual(agent.config(app, env, prof)[2], b"one")
        data = ac_clients(self.server)[1]
        tok = data.start_configuration_session(ApplicationIdentifier=app, EnvironmentIdentifier=env,
                                               ConfigurationProfileIdentifier=prof,
                                               RequiredMinimumPollIntervalInSeconds=15)["InitialConfigurationToken"]
        g = data.get_latest_configuration(ConfigurationToken=tok)
        self.assertEqual(g["Configuration"].read(), b"one")
        st, _h, w, _raw = self.server.call_raw("Lever.WatchConfigurations",
                                               {"Application": a, "SinceRevision": 0, "WaitSeconds": 0})
        since = w["Revision"] if st == 200 else w["CurrentRevision"]  # the log may start later
        # a label on another parameter, or a new version, reaches no configuration
        ssm.put_parameter(Name=name + "x", Value="z", Type="String")
        ssm.label_parameter_version(Name=name + "x", ParameterVersion=1, Labels=["live"])
        ssm.put_parameter(Name=name, Value="three", Type="String", Overwrite=True)
        st, _h, w, _raw = self.server.call_raw("Lever.WatchConfigurations",
                                               {"Application": a, "SinceRevision": since, "WaitSeconds": 0})
        self.assertEqual((st, w["Changes"]), (200, []))
        ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["live"])
        st, _h, w, _raw = self.server.call_raw("Lever.WatchConfigurations",
                                               {"Application": a, "SinceRevision": since, "WaitSeconds": 5})
        self.assertEqual(st, 200, w)
        self.assertEqual([(c["Kind"], c["EnvironmentId"], c["ConfigurationProfileId"], c["DeploymentNumber"])
                          for c in w["Changes"]], [("ContentChanged", e, p, n)])
        self.wait_for(lambda: agent.config(app, env, prof)[2] == b"two", 10, "the agent to follow the label")
        self.assertEqual(agent.config(app, env, prof)[1]["configuration-version"], "2")
        # an AppConfig Data session holding version 1 gets version 2 on its next poll
        time.sleep(15 / 600 + 0.05)  # the poll interval, at the class's time scale
        g = data.get_latest_configuration(ConfigurationToken=g["NextPollConfigurationToken"])
        self.assertEqual(g["Configuration"].read(), b"two")
        # removing the label leaves nothing to serve: the agent hears of that too
        ssm.unlabel_parameter_version(Name=name, ParameterVersion=2, Labels=["live"])
        self.wait_for(lambda: agent.config(app, env, prof)[0] != 200, 10, "the agent to see the label gone")

    def test_keeps_serving_after_leverd_sigkill_and_restarts_from_disk(self):
        (app, env, prof), (a, e, p) = self.deployed([DONGKYL, HAANDOL])
        cdir = self.cache_dir()
        agent = self.agent("--appconfig-prefetch", "%s:%s:%s" % (app, env, prof), cache_dir=cdir)
        self.assertEqual(json.loads(agent.config(app, env, prof)[2]), [DONGKYL, HAANDOL])
        self.wait_for(lambda: os.path.exists(os.path.join(cdir, "appconfig.v1")), 5, "the disk copy")
        with open(os.path.join(cdir, "appconfig.v1"), "rb") as f:
            self.assertNotIn(b"haandol", f.read(), "configurations are sealed on disk")
        self.server.kill()
        try:
            def stale():
                st, h, body = agent.config(app, env, prof)
                return st == 200 and h.get("x-lever-cache") == "stale" and json.loads(body) == [DONGKYL, HAANDOL]
            self.wait_for(stale, 15, "stale answers while leverd is down")
            self.assertRegex(agent.config(app, env, prof)[1]["x-lever-stale"], r"^age=\d+$")
            # never cached: 503
            self.assertEqual(agent.config(app, env, "other")[0], 503)
            # a restarted agent serves the sealed disk copy at once
            agent.stop()
            again = self.agent(cache_dir=cdir)
            st, h, body = again.config(app, env, prof)
            self.assertEqual((st, json.loads(body)), (200, [DONGKYL, HAANDOL]))
            self.assertEqual(h["x-lever-cache"], "stale")
        finally:
            self.server.restart()
        # and catches up once leverd is back
        v2 = self.op.store(a, p, [DONGKYL])
        self.op.deploy(a, e, p, v2)
        self.wait_for(lambda: json.loads(again.config(app, env, prof)[2]) == [DONGKYL], 20, "catch-up")

    def test_access_token(self):
        (app, env, prof), _ = self.deployed({"x": 1})
        agent = self.agent(env={"ACCESS_TOKEN": "let-me-in"})
        self.assertEqual(agent.config(app, env, prof)[0], 401)
        self.assertEqual(agent.config(app, env, prof, headers={"Authorization": "Bearer nope"})[0], 401)
        st, h, body = agent.config(app, env, prof, headers={"Authorization": "Bearer let-me-in"})
        self.assertEqual((st, json.loads(body)), (200, {"x": 1}))

    def test_flag_filter_on_feature_flag_profile(self):
        doc = {"version": "1",
               "flags": {"checkout": {"name": "checkout", "attributes": {"limit": {"constraints": {"type": "number"}}}},
                         "banner": {"name": "banner"}},
               "values": {"checkout": {"enabled": True, "limit": 5}, "banner": {"enabled": False}}}
        (app, env, prof), _ = self.deployed(doc, kind="AWS.AppConfig.FeatureFlags")
        agent = self.agent()
        st, h, body = agent.config(app, env, prof)
        self.assertEqual(st, 200, body)
        self.assertEqual(json.loads(body), {"checkout": {"enabled": True, "limit": 5}, "banner": {"enabled": False}})
        st, h, body = agent.config(app, env, prof, "flag=checkout")
        self.assertEqual((st, json.loads(body)), (200, {"checkout": {"enabled": True, "limit": 5}}))
        st, h, body = agent.config(app, env, prof, "flag=banner&flag=checkout",
                                   headers={"Context": "tier=gold", "Entity-Id": "user-1"})
        self.assertEqual(set(json.loads(body)), {"banner", "checkout"})


if __name__ == "__main__":
    import unittest
    unittest.main()
