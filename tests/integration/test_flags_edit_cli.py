"""`lever flags on|off|attr|variant|show|diff` against a real leverd: each
edit stores a new hosted version of the profile's flag document (checked
with boto3), --deploy serves it (checked through GetConfiguration and a
running liblever program), a document the server would refuse is never
sent, variants matched by name in diffs, exit codes."""
import json
import os
import subprocess
import time

from appconfig_agent import Operator, clean_env, unique
from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir

LEVER = os.path.join(build_dir(), "lever")
PROBE = os.path.join(build_dir(), "liblever_flags_probe")
FF = "AWS.AppConfig.FeatureFlags"

DOC = {
    "version": "1",
    "flags": {
        "user_registration": {"name": "User registration"},
        "cache": {"name": "Cache", "attributes": {"balance_ttl": {"constraints": {"type": "number", "minimum": 1}}}},
    },
    "values": {
        "user_registration": {"enabled": False},
        "cache": {"enabled": True, "balance_ttl": 300},
    },
}


class FlagsEditCliTest(LeverTestCase):
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "600"}}

    def env(self):
        e = dict(clean_env(), HOME=self.server.tmp, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                 AWS_SHARED_CREDENTIALS_FILE="/dev/null", LEVER_ENDPOINT=self.server.endpoint)
        return e

    def lever(self, *args):
        p = subprocess.run([LEVER] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(),
                           timeout=60, text=True)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args):
        rc, out, err = self.lever(*args)
        self.assertEqual(rc, 0, "lever %s: %s" % (" ".join(args), err))
        return out

    def hosted(self, op, a, p, n):
        hv = op.ac.get_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p, VersionNumber=n)
        return json.loads(hv["Content"].read()), hv.get("Description")

    def served(self, op, a, e, p):
        r = op.ac.get_configuration(Application=a, Environment=e, Configuration=p, ClientId="t")
        return json.loads(r["Content"].read())

    def setup_profile(self):
        op = Operator(self.server)
        app, env, prof = unique("shop"), unique("prod"), unique("flags")
        a, e, p = op.profile(app, env, prof, kind=FF)
        op.deploy(a, e, p, op.store(a, p, DOC))
        return op, app, env, prof, a, e, p

    def test_on_off_attr_deploy(self):
        op, app, env, prof, a, e, p = self.setup_profile()
        # a running program sees each deployed edit
        probe = subprocess.Popen([PROBE, "watch", app, env, prof, "60000"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, env=self.env(), bufsize=1)
        self.addCleanup(lambda: (probe.kill(), probe.wait()) if probe.poll() is None else None)
        self.assertEqual(probe.stdout.readline().strip(), "OPEN 1")

        self.assertEqual(self.ok("flags", "on", app, prof, "user_registration").strip(), "2")
        doc, desc = self.hosted(op, a, p, 2)
        self.assertTrue(doc["values"]["user_registration"]["enabled"])
        self.assertEqual(desc, "lever flags on user_registration")
        self.assertEqual(doc["values"]["cache"], DOC["values"]["cache"])
        # not deployed yet: clients still get version 1
        self.assertFalse(self.served(op, a, e, p)["user_registration"]["enabled"])
        out = self.ok("flags", "attr", app, prof, "cache", "balance_ttl", "45", "--deploy", env, "--wait")
        self.assertRegex(out, r"version 3\ndeployment \d+: (BAKING|COMPLETE)")
        doc, _ = self.hosted(op, a, p, 3)
        self.assertEqual(doc["values"]["cache"]["balance_ttl"], 45)  # typed: a number
        got = self.served(op, a, e, p)
        self.assertEqual(got["cache"], {"enabled": True, "balance_ttl": 45})
        self.assertTrue(got["user_registration"]["enabled"])
        self.assertEqual(probe.stdout.readline().strip(), "CHANGE 3")
        probe.stdin.write("int cache balance_ttl\nenabled user_registration\n")
        probe.stdin.flush()
        self.assertEqual(probe.stdout.readline().strip(), "VALUE cache ok 45")
        self.assertEqual(probe.stdout.readline().strip(), "ENABLED cache ok true")
        # off by ids, a new flag created by on, a new attribute declared with --type
        self.assertEqual(self.ok("flags", "off", a, p, "user_registration").strip(), "4")
        self.assertEqual(self.ok("flags", "on", app, prof, "new_checkout").strip(), "5")
        self.assertEqual(self.ok("flags", "attr", app, prof, "cache", "backend", "redis", "--type", "string").strip(),
                         "6")
        doc, _ = self.hosted(op, a, p, 6)
        self.assertFalse(doc["values"]["user_registration"]["enabled"])
        self.assertEqual(doc["flags"]["new_checkout"], {"name": "new_checkout"})
        self.assertEqual(doc["values"]["new_checkout"], {"enabled": True})
        self.assertEqual(doc["flags"]["cache"]["attributes"]["backend"], {"constraints": {"type": "string"}})
        self.assertEqual(doc["values"]["cache"]["backend"], "redis")
        # --unset
        self.assertEqual(self.ok("flags", "attr", app, prof, "cache", "backend", "--unset").strip(), "7")
        self.assertNotIn("backend", self.hosted(op, a, p, 7)[0]["values"]["cache"])

        # refused edits store nothing
        rc, out, err = self.lever("flags", "attr", app, prof, "cache", "balance_ttl", "0")
        self.assertEqual(rc, 1, err)
        self.assertIn("nothing was stored", err)
        self.assertIn("/values/cache/balance_ttl", err)
        rc, out, err = self.lever("flags", "attr", app, prof, "cache", "balance_ttl", "soon")
        self.assertEqual(rc, 2, err)
        self.assertIn("is a number", err)
        rc, out, err = self.lever("flags", "attr", app, prof, "cache", "nothing", "1")
        self.assertEqual(rc, 2, err)
        self.assertIn("--type", err)
        rc, out, err = self.lever("flags", "attr", app, prof, "nope", "x", "1")
        self.assertEqual(rc, 3, err)
        rc, out, err = self.lever("flags", "on", app, "no-such-profile", "x")
        self.assertEqual(rc, 3, err)
        rc, out, err = self.lever("flags", "on", app, prof)
        self.assertEqual(rc, 2, err)
        versions = op.ac.list_hosted_configuration_versions(ApplicationId=a, ConfigurationProfileId=p)["Items"]
        self.assertEqual(max(v["VersionNumber"] for v in versions), 7)
        probe.stdin.write("quit\n")
        probe.stdin.flush()
        self.assertEqual(probe.wait(10), 0)

    def test_variants_show_diff(self):
        op, app, env, prof, a, e, p = self.setup_profile()
        # a plain flag becomes the default variant; new variants go before it
        self.assertEqual(self.ok("flags", "variant", app, prof, "cache", "fast", "--rule", '(eq $tier "gold")',
                                 "--attr", "balance_ttl=10").strip(), "2")
        doc = json.loads(self.ok("flags", "show", app, prof))
        self.assertEqual(doc["values"]["cache"], {"_variants": [
            {"name": "fast", "enabled": True, "rule": '(eq $tier "gold")', "attributeValues": {"balance_ttl": 10}},
            {"name": "default", "enabled": True, "attributeValues": {"balance_ttl": 300}}]})
        self.assertEqual(self.ok("flags", "variant", app, prof, "cache", "off-for-bots", "--rule",
                                 '(eq $bot "yes")', "--off", "--position", "0").strip(), "3")
        self.assertEqual(self.ok("flags", "off", app, prof, "cache", "--variant", "default").strip(), "4")
        doc = json.loads(self.ok("flags", "show", app, prof, "4"))
        self.assertEqual([v["name"] for v in doc["values"]["cache"]["_variants"]], ["off-for-bots", "fast", "default"])
        self.assertFalse(doc["values"]["cache"]["_variants"][2]["enabled"])
        # on/off of a variant flag needs --variant; a new variant needs a rule
        rc, out, err = self.lever("flags", "on", app, prof, "cache")
        self.assertEqual(rc, 2, err)
        self.assertIn("--variant", err)
        rc, out, err = self.lever("flags", "variant", app, prof, "cache", "nameless")
        self.assertEqual(rc, 2, err)
        rc, out, err = self.lever("flags", "variant", app, prof, "cache", "bad", "--rule", "(eqq $a 1)")
        self.assertEqual(rc, 1, err)
        self.assertIn("nothing was stored", err)
        # the deployed version evaluates for a context (lever flags eval on the shown document)
        self.ok("appconfig", "deploy", app, env, prof, "4", "--wait")
        served = op.ac.get_configuration(Application=a, Environment=e, Configuration=p, ClientId="t")
        self.assertEqual(json.loads(served["Content"].read())["cache"], {"enabled": False})
        self.assertEqual(self.ok("flags", "variant", app, prof, "cache", "fast", "--remove").strip(), "5")
        # diff
        out = self.ok("flags", "diff", app, prof, "1", "2")
        self.assertIn("--- version 1\n+++ version 2\n", out)
        self.assertIn("- /values/cache/enabled: true", out)
        self.assertIn("+ /values/cache/_variants: ", out)
        out = self.ok("flags", "diff", app, prof, "3", "4")
        self.assertIn("~ /values/cache/_variants/2/enabled: true -> false", out)
        out = self.ok("flags", "diff", app, prof, "3", "latest")
        self.assertIn("--- version 3\n+++ version 5\n- /values/cache/_variants/1: {\"name\":\"fast\"", out)
        self.assertIn("~ /values/cache/_variants/1/enabled: true -> false", out)
        changes = json.loads(self.ok("flags", "diff", app, prof, "4", "5", "-o", "json"))
        self.assertEqual(len(changes), 1, changes)
        self.assertEqual((changes[0]["op"], changes[0]["path"], changes[0]["from"]["name"]),
                         ("remove", "/values/cache/_variants/1", "fast"))
        self.assertEqual(self.ok("flags", "diff", app, prof, "5", "5"), "--- version 5\n+++ version 5\nno differences\n")
        rc, out, err = self.lever("flags", "diff", app, prof, "1", "99")
        self.assertEqual(rc, 3, err)
        self.assertIn("flags on|off APP PROFILE FLAG", self.ok("flags", "--help"))


if __name__ == "__main__":
    import unittest
    unittest.main()
