"""lever-agent's AppConfig Agent API without leverd: AWS's local development
mode (LOCAL_DEVELOPMENT_DIRECTORY, files named app:env:profile with the
extension choosing the content type, edits served at the next request),
?flag= filtering, the ACCESS_TOKEN bearer check, malformed requests, and
the agent's AppConfig options and environment twins."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from appconfig_agent import ACAgent, clean_env
from lever_harness import free_port
from test_agent import agent_path

USERS = [{"username": "dongkyl"}, {"username": "haandol"}]


class LocalModeTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lever-ac-local-")
        self.agents = []

    def tearDown(self):
        bad = []
        for a in self.agents:
            rc = a.stop()
            if rc not in (0, None):
                bad.append("lever-agent exit status %s\n%s" % (rc, a.log()))
            a.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)
        if bad:
            self.fail("\n".join(bad))

    def write(self, name, data):
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    def agent(self, env=None, args=()):
        e = {"LOCAL_DEVELOPMENT_DIRECTORY": self.dir}
        e.update(env or {})
        # the upstream is never contacted in local development mode
        a = ACAgent("http://127.0.0.1:9", args=args, env=e, listen=False)
        a.environ = lambda: dict(clean_env(), HOME=a.tmp, **e)
        self.agents.append(a)
        return a.start()

    def test_files_content_types_and_edits(self):
        self.write("Shop:Dev:Users.json", json.dumps(USERS))
        self.write("Shop:Dev:Notes.txt", "hello")
        self.write("Shop:Dev:Blob", b"\x00\x01\x02")
        self.write("Shop:Dev:Conf.application%toml", "a = 1\n")
        a = self.agent()
        st, h, body = a.config("Shop", "Dev", "Users")
        self.assertEqual(st, 200, body)
        self.assertEqual(json.loads(body), USERS)
        self.assertEqual(h["content-type"], "application/json")
        self.assertTrue(h.get("configuration-version"))
        self.assertEqual(a.config("Shop", "Dev", "Notes")[1]["content-type"], "text/plain")
        st, h, body = a.config("Shop", "Dev", "Blob")
        self.assertEqual((st, h["content-type"], body), (200, "application/octet-stream", b"\x00\x01\x02"))
        self.assertEqual(a.config("Shop", "Dev", "Conf")[1]["content-type"], "application/toml")
        # an edit is the next answer, with a new version
        v1 = h["configuration-version"]
        time.sleep(0.01)
        self.write("Shop:Dev:Blob", b"new")
        st, h, body = a.config("Shop", "Dev", "Blob")
        self.assertEqual(body, b"new")
        self.assertNotEqual(h["configuration-version"], v1)
        # percent-encoded names are the same names
        self.assertEqual(a.config("Shop", "Dev", "U%73ers")[0], 200)
        st, h, body = a.config("Shop", "Dev", "Missing")
        self.assertEqual(st, 404)
        self.assertEqual(h["x-amzn-errortype"], "ResourceNotFoundException")
        self.assertIn("Shop:Dev:Missing", json.loads(body)["Message"])

    def test_flag_filter(self):
        flags = {"checkout": {"enabled": True, "limit": 3}, "banner": {"enabled": False},
                 "dark": {"enabled": True}}
        self.write("Shop:Dev:Flags.json", json.dumps(flags))
        a = self.agent()
        st, h, body = a.config("Shop", "Dev", "Flags", "flag=banner&flag=checkout")
        self.assertEqual(st, 200, body)
        self.assertEqual(json.loads(body), {"banner": {"enabled": False}, "checkout": {"enabled": True, "limit": 3}})
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(json.loads(a.config("Shop", "Dev", "Flags", "flag=nope")[2]), {})
        self.write("Shop:Dev:Plain.txt", "not json")
        st, h, body = a.config("Shop", "Dev", "Plain", "flag=a")
        self.assertEqual(st, 400)
        self.assertEqual(h["x-amzn-errortype"], "BadRequestException")

    def test_malformed_requests(self):
        a = self.agent()
        for path in ("/applications/A/environments/E", "/applications/A/environments//configurations/P",
                     "/applications/A%2Fx/environments/E/configurations/P",
                     "/applications/A%00/environments/E/configurations/P",
                     "/applications/A/environments/E/configurations/P?other=1",
                     "/applications/A/environments/E/configurations/P?flag=bad%20key",
                     "/applications/%s/environments/E/configurations/P" % ("x" * 129)):
            st, h, body = a.ac_raw(path)
            self.assertEqual(st, 400, path)
            self.assertEqual(h["x-amzn-errortype"], "BadRequestException", path)
            self.assertTrue(json.loads(body)["Message"], path)
        st, h, body = a.ac_raw("/applications/A/environments/E/configurations/P", {"Context": "novalue"})
        self.assertEqual(st, 400)
        st, h, body = a.ac_raw("/applications/A/environments/E/configurations/P", {"Entity-Id": "has space"})
        self.assertEqual(st, 400)
        self.assertEqual(a.ac_raw("/nope")[0], 404)
        self.assertEqual(a.ac_raw("/applications/A/environments/E/configurations/P", method="DELETE")[0], 405)

    def test_access_token(self):
        self.write("Shop:Dev:Users.json", json.dumps(USERS))
        a = self.agent(env={"ACCESS_TOKEN": "t0ken-for-tests"})
        st, h, body = a.config("Shop", "Dev", "Users")
        self.assertEqual(st, 401)
        self.assertEqual(a.config("Shop", "Dev", "Users", headers={"Authorization": "Bearer wrong"})[0], 401)
        self.assertEqual(a.config("Shop", "Dev", "Users", headers={"Authorization": "Basic t0ken-for-tests"})[0], 401)
        st, h, body = a.config("Shop", "Dev", "Users", headers={"Authorization": "Bearer t0ken-for-tests"})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body), USERS)
        self.assertEqual(a.ac_raw("/healthz")[0], 200)  # no values there, no token needed
        m = a.ac_raw("/metrics")[2].decode()
        self.assertRegex(m, r"lever_agent_appconfig_refused_total 3\b")

    def test_options_and_twins(self):
        env = dict(clean_env(), LOCAL_DEVELOPMENT_DIRECTORY=self.dir)
        run = lambda args, extra=None: subprocess.run([agent_path()] + args, env=dict(env, **(extra or {})),
                                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        out = run(["--help"])
        for flag in (b"--appconfig-listen", b"--appconfig-prefetch", b"PREFETCH_LIST", b"ACCESS_TOKEN",
                     b"LOCAL_DEVELOPMENT_DIRECTORY", b"HTTP_PORT", b"POLL_INTERVAL", b"REQUEST_TIMEOUT",
                     b"MAX_CONNECTIONS"):
            self.assertIn(flag, out.stdout)
        p = run(["--appconfig-prefetch", "App:Env"])
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"Application:Environment:Profile", p.stderr)
        p = run([], {"PREFETCH_LIST": "a:b:c,bad"})
        self.assertEqual(p.returncode, 2)
        p = run(["--appconfig-listen", "0.0.0.0:%d" % free_port()])
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"loopback", p.stderr)
        p = run([], {"HTTP_PORT": "notaport"})
        self.assertEqual(p.returncode, 2)
        p = run([], {"POLL_INTERVAL": "0"})
        self.assertEqual(p.returncode, 2)
        p = run([], {"MAX_CONNECTIONS": "0"})
        self.assertEqual(p.returncode, 2)
        # AWS's port variable chooses the port; LOG_LEVEL's trace is accepted
        self.write("A:E:P.txt", "x")
        port = free_port()
        a = ACAgent("http://127.0.0.1:9", listen=False)
        a.command = lambda: [agent_path()]
        a.environ = lambda: dict(env, HOME=a.tmp, HTTP_PORT=str(port), LOG_LEVEL="trace")
        a.ac_port = port
        self.agents.append(a)
        a.start()
        self.assertEqual(a.config("A", "E", "P")[2], b"x")


if __name__ == "__main__":
    unittest.main()
