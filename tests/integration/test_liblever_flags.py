"""liblever's feature flags against a real leverd, through the shared
library (tests/integration/liblever_flags_probe.c): every case of
tests/data/flag_vectors.json evaluated in-process from the stored documents
leverd serves (the file lever-agent passes too), typed attributes, the
environment layer, a new deployment reaching the running program through
the watch, the last good version while leverd is down."""
import json
import os
import subprocess
import tempfile
import time
import unittest

from appconfig_agent import Operator, clean_env, unique
from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir

PROBE = os.path.join(build_dir(), "liblever_flags_probe")
VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "flag_vectors.json")
FF = "AWS.AppConfig.FeatureFlags"

DOC = {
    "version": "1",
    "flags": {
        "user_registration": {"name": "User registration"},
        "cache": {"name": "Cache tuning", "attributes": {
            "balance_ttl": {"constraints": {"type": "number"}},
            "backend": {"constraints": {"type": "string"}}}},
        "checkout": {"name": "Checkout", "attributes": {"steps": {"constraints": {"type": "number"}}}},
    },
    "values": {
        "user_registration": {"enabled": True},
        "cache": {"enabled": True, "balance_ttl": 300, "backend": "redis"},
        "checkout": {"_variants": [
            {"name": "two-step", "enabled": True, "rule": "(eq $plan \"pro\")", "attributeValues": {"steps": 2}},
            {"name": "classic", "enabled": True, "attributeValues": {"steps": 4}}]},
    },
}


class LibleverFlagsTest(LeverTestCase):
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "600"}}

    def env(self, **extra):
        e = dict(clean_env(), HOME=self.server.tmp, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                 AWS_SHARED_CREDENTIALS_FILE="/dev/null", LEVER_ENDPOINT=self.server.endpoint)
        e.update(extra)
        return e

    def watcher(self, app, env, prof, ttl="500", **extra):
        p = subprocess.Popen([PROBE, "watch", app, env, prof, ttl], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, env=self.env(**extra), bufsize=1)
        self.addCleanup(lambda: (p.kill(), p.wait()) if p.poll() is None else None)
        return p

    def line(self, p, prefix, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                self.fail("probe exited")
            if line.startswith(prefix):
                return line.rstrip("\n")
        self.fail("no %s line" % prefix)

    def ask(self, p, cmd, prefix):
        p.stdin.write(cmd + "\n")
        p.stdin.flush()
        return self.line(p, prefix)

    def test_vectors_through_liblever(self):
        with open(VECTORS) as f:
            vec = json.load(f)
        op = Operator(self.server)
        app, env = unique("vec"), unique("env")
        a = op.ac.create_application(Name=app)["Id"]
        e = op.ac.create_environment(ApplicationId=a, Name=env)["Id"]
        for name, doc in vec["documents"].items():
            pid = op.ac.create_configuration_profile(ApplicationId=a, Name=name, LocationUri="hosted",
                                                     Type=FF)["Id"]
            op.deploy(a, e, pid, op.store(a, pid, doc))
        r = subprocess.run([PROBE, "vectors", VECTORS, app, env], env=self.env(), capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "VECTORS %d 0" % len(vec["cases"]))

    def test_accessors_env_live_update_stale(self):
        op = Operator(self.server)
        app, env, prof = unique("lib"), unique("env"), unique("flags")
        a, e, pid = op.profile(app, env, prof, kind=FF)
        op.deploy(a, e, pid, op.store(a, pid, DOC))
        p = self.watcher(app, env, prof, CACHE_BACKEND="memcached", USER_REGISTRATION_ENABLED="maybe")
        self.assertEqual(self.line(p, "OPEN"), "OPEN 1")
        self.assertEqual(self.ask(p, "enabled user_registration", "ENABLED"), "ENABLED cache ok true")
        self.assertEqual(self.ask(p, "int cache balance_ttl", "VALUE"), "VALUE cache ok 300")
        # the environment layer: <FLAG>_<ATTRIBUTE>; an unusable value is skipped
        self.assertEqual(self.ask(p, "string cache backend", "VALUE"), "VALUE env ok memcached")
        # types are checked
        self.assertEqual(self.ask(p, "string cache balance_ttl", "VALUE"), "VALUE default invalid -")
        self.assertEqual(self.ask(p, "int cache nothing", "VALUE"), "VALUE default not found -1")
        self.assertEqual(self.ask(p, "enabled nope", "ENABLED"), "ENABLED default not found false")
        # variants, for a context
        self.assertEqual(self.ask(p, "variant checkout plan=pro", "VARIANT"), "VARIANT cache ok two-step")
        self.assertEqual(self.ask(p, "int checkout steps plan=pro", "VALUE"), "VALUE cache ok 2")
        self.assertEqual(self.ask(p, "variant checkout plan=free", "VARIANT"), "VARIANT cache ok classic")
        # a new version, deployed: the watch compiles it and calls back
        doc2 = json.loads(json.dumps(DOC))
        doc2["values"]["user_registration"]["enabled"] = False
        doc2["values"]["cache"]["balance_ttl"] = 45
        op.deploy(a, e, pid, op.store(a, pid, doc2))
        self.assertEqual(self.line(p, "CHANGE"), "CHANGE 2")
        self.assertEqual(self.ask(p, "enabled user_registration", "ENABLED"), "ENABLED cache ok false")
        self.assertEqual(self.ask(p, "int cache balance_ttl", "VALUE"), "VALUE cache ok 45")
        self.assertEqual(self.ask(p, "version", "VERSION"), "VERSION 2")
        # leverd down: past the TTL the last good version answers, marked stale
        self.server.kill()
        try:
            deadline = time.monotonic() + 15
            got = None
            while time.monotonic() < deadline:
                got = self.ask(p, "int cache balance_ttl", "VALUE")
                if got.startswith("VALUE cache-stale"):
                    break
                time.sleep(0.1)
            self.assertEqual(got, "VALUE cache-stale ok 45")
        finally:
            self.server.restart()
        p.stdin.write("quit\n")
        p.stdin.flush()
        self.assertEqual(p.wait(10), 0)

    def test_env_override_wins_and_errors(self):
        op = Operator(self.server)
        app, env, prof = unique("lib"), unique("env"), unique("flags")
        a, e, pid = op.profile(app, env, prof, kind=FF)
        op.deploy(a, e, pid, op.store(a, pid, DOC))
        p = self.watcher(app, env, prof, USER_REGISTRATION_ENABLED="false", CHECKOUT_VARIANT="forced")
        self.line(p, "OPEN")
        self.assertEqual(self.ask(p, "enabled user_registration", "ENABLED"), "ENABLED env ok false")
        self.assertEqual(self.ask(p, "variant checkout plan=pro", "VARIANT"), "VARIANT env ok forced")
        p.stdin.write("quit\n")
        p.stdin.flush()
        self.assertEqual(p.wait(10), 0)
        # not a feature-flag document: refused at open
        fa, fe, fp = op.profile(unique("lib"), unique("env"), unique("plain"))
        op.deploy(fa, fe, fp, op.store(fa, fp, b"just text", "text/plain"))
        p = subprocess.run([PROBE, "watch", unique("x"), "e", "p"], input="quit\n", env=self.env(),
                           capture_output=True, text=True, timeout=30)
        self.assertIn("ERR not found", p.stdout)
        names = op.ac.get_application(ApplicationId=fa)["Name"]
        p = subprocess.run([PROBE, "watch", names, op.ac.get_environment(ApplicationId=fa, EnvironmentId=fe)["Name"],
                            fp], input="quit\n", env=self.env(), capture_output=True, text=True, timeout=30)
        self.assertIn("ERR parse error", p.stdout)


@unittest.skipUnless(os.path.exists(os.path.join(build_dir(), "lever.pc")), "lever.pc not generated")
class FlagsDocsExampleTest(LeverTestCase):
    """The feature flag program of docs/client.md, built with pkg-config,
    answers from the environment and the document and follows a deployment."""
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "600"}}

    def test_docs_flags_program(self):
        doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "client.md")).read()
        src = doc.split("## Feature flags", 1)[1].split("```c\n", 1)[1].split("```", 1)[0]
        d = tempfile.mkdtemp(dir=self.server.tmp)
        with open(os.path.join(d, "flags.c"), "w") as f:
            f.write(src)
        env = dict(os.environ, PKG_CONFIG_PATH=build_dir())
        cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "lever"], env=env, check=True,
                                stdout=subprocess.PIPE, text=True).stdout.split()
        with open(os.path.join(build_dir(), "CMakeCache.txt")) as f:
            if "LEVER_SANITIZE:BOOL=ON" in f.read():
                cflags = ["-fsanitize=address,undefined"] + cflags
        cc = subprocess.run(["cc", "-std=c17", "-Wall", "-Wextra", "-Werror", "flags.c"] + cflags + ["-o", "flags"],
                            cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(cc.returncode, 0, cc.stdout)
        op = Operator(self.server)
        a, e, pid = op.profile("shop", "prod", "flags", kind=FF)
        op.deploy(a, e, pid, op.store(a, pid, DOC))
        penv = dict(clean_env(), HOME=self.server.tmp, AWS_ACCESS_KEY_ID=ACCESS_KEY,
                    AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                    LEVER_ENDPOINT=self.server.endpoint, CACHE_BALANCE_TTL="90")
        p = subprocess.Popen([os.path.join(d, "flags")], stdout=subprocess.PIPE, env=penv, text=True)
        self.addCleanup(lambda: (p.kill(), p.wait()) if p.poll() is None else None)
        self.assertEqual(p.stdout.readline(), "registration=1 (cache) ttl=90 (env) checkout=two-step\n")
        doc2 = json.loads(json.dumps(DOC))
        doc2["values"]["user_registration"]["enabled"] = False
        op.deploy(a, e, pid, op.store(a, pid, doc2))
        deadline = time.monotonic() + 20
        lines = []
        while time.monotonic() < deadline and "registration=0 (cache) ttl=90 (env) checkout=two-step\n" not in lines:
            lines.append(p.stdout.readline())
        self.assertIn("flags are now version 2\n", lines)
        self.assertIn("registration=0 (cache) ttl=90 (env) checkout=two-step\n", lines)


if __name__ == "__main__":
    unittest.main()
