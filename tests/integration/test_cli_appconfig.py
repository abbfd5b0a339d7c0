"""`lever appconfig` against a real leverd: list applications, environments
and profiles by name; push a file as a new hosted version; deploy it with a
strategy and wait; show what an environment serves; exit codes."""
import json
import os
import subprocess
import tempfile
import unittest

from appconfig_agent import Operator, unique
from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir

LEVER = os.path.join(build_dir(), "lever")


class CliAppConfigTest(LeverTestCase):
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "600"}}

    def lever(self, *args, stdin=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        env.update(HOME=self.server.tmp, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   LEVER_ENDPOINT=self.server.endpoint)
        p = subprocess.run([LEVER] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=60, text=True)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, **kw):
        rc, out, err = self.lever(*args, **kw)
        self.assertEqual(rc, 0, "lever %s: %s" % (" ".join(args), err))
        return out

    def test_everyday_path(self):
        op = Operator(self.server)
        app, env, prof = unique("shop"), unique("prod"), unique("users")
        a, e, p = op.profile(app, env, prof)
        self.assertIn(app, self.ok("appconfig", "ls"))
        apps = json.loads(self.ok("appconfig", "ls", "-o", "json"))
        self.assertIn(a, [x["Id"] for x in apps])
        listing = self.ok("appconfig", "ls", app)
        self.assertIn(env, listing)
        self.assertIn(prof, listing)
        d = tempfile.mkdtemp(dir=self.server.tmp)
        path = os.path.join(d, "users.json")
        with open(path, "w") as f:
            json.dump([{"username": "dongkyl"}, {"username": "haandol"}], f)
        v1 = self.ok("appconfig", "push", app, prof, path, "--description", "first").strip()
        self.assertEqual(v1, "1")
        hv = op.ac.get_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p, VersionNumber=1)
        self.assertEqual(hv["ContentType"], "application/json")
        self.assertEqual(json.loads(hv["Content"].read()), [{"username": "dongkyl"}, {"username": "haandol"}])
        out = self.ok("appconfig", "deploy", app, env, prof, v1, "--strategy", "AppConfig.AllAtOnce", "--wait")
        self.assertRegex(out, r"deployment 1: (BAKING|COMPLETE)")
        shown = self.ok("appconfig", "show", app, env)
        self.assertRegex(shown, r"%s\s+version 1\s+deployment 1" % prof)
        self.assertEqual(json.loads(self.ok("appconfig", "show", app, env, prof)),
                         [{"username": "dongkyl"}, {"username": "haandol"}])
        # from stdin, a second version, deployed by id
        v2 = self.ok("appconfig", "push", a, p, "-", "--content-type", "application/json",
                     stdin='[{"username": "dongkyl"}]').strip()
        self.assertEqual(v2, "2")
        self.ok("appconfig", "deploy", a, e, p, v2, "--wait")
        self.assertEqual(json.loads(self.ok("appconfig", "show", app, env, prof)), [{"username": "dongkyl"}])
        js = json.loads(self.ok("appconfig", "show", app, env, "-o", "json"))
        self.assertEqual(js[prof]["ConfigurationVersion"], "2")

    def test_errors_and_exit_codes(self):
        rc, out, err = self.lever("appconfig", "ls", "no-such-app")
        self.assertEqual(rc, 3)
        self.assertIn("no application named", err)
        rc, out, err = self.lever("appconfig", "push", "a", "b")
        self.assertEqual(rc, 2)
        rc, out, err = self.lever("appconfig", "frob")
        self.assertEqual(rc, 2)
        rc, out, err = self.lever("appconfig", "show", "no-app", "no-env", "no-profile")
        self.assertEqual(rc, 3)
        self.assertIn("--endpoint", self.ok("appconfig", "--help"))
        rc, out, err = self.lever("appconfig", "ls", "--endpoint", "http://127.0.0.1:9")
        self.assertEqual(rc, 5)


if __name__ == "__main__":
    unittest.main()
