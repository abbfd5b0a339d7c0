"""OpenFeature through OFREP on lever-agent (issue 12 item 4): the real
OpenFeature server SDK for JavaScript and its OFREP provider
(tests/ofrep, installed by scripts/deps.sh from the npm lock file) read
flags of a feature-flag profile through the agent — values, reasons,
variants, metadata, FLAG_NOT_FOUND, TYPE_MISMATCH, the bearer token — and
the bulk endpoint's ETag / If-None-Match, over local development files."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from appconfig_agent import ACAgent, clean_env

HERE = os.path.dirname(os.path.abspath(__file__))
OFREP_DIR = os.path.join(HERE, "..", "ofrep")
NODE = "/usr/bin/node"

FLAGS = {"checkout": {"enabled": True, "limit": 5, "regions": ["eu", "us"]},
         "banner": {"enabled": False},
         "theme": {"enabled": True, "_variant": "dark", "color": "black"}}


class OfrepTest(unittest.TestCase):

    def setUp(self):
        self.assertTrue(os.path.isdir(os.path.join(OFREP_DIR, "node_modules", "@openfeature", "ofrep-provider")),
                        "run scripts/deps.sh test (npm ci in tests/ofrep)")
        self.dir = tempfile.mkdtemp(prefix="lever-ofrep-")
        with open(os.path.join(self.dir, "Shop:Prod:Flags.json"), "w") as f:
            json.dump(FLAGS, f)
        self.agents = []

    def tearDown(self):
        for a in self.agents:
            self.assertEqual(a.stop(), 0, a.log())
            a.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def agent(self, extra=None):
        e = {"LOCAL_DEVELOPMENT_DIRECTORY": self.dir}
        e.update(extra or {})
        a = ACAgent("http://127.0.0.1:9", listen=False)
        a.environ = lambda: dict(clean_env(), HOME=a.tmp, **e)
        self.agents.append(a)
        return a.start()

    def sdk(self, a, calls, token="-", context=None):
        base = "http://127.0.0.1:%d/applications/Shop/environments/Prod/configurations/Flags" % a.ac_port
        p = subprocess.run([NODE, "probe.mjs", base, token, json.dumps(context or {"targetingKey": "user-1"})] + calls,
                           cwd=OFREP_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [json.loads(line) for line in p.stdout.splitlines()]

    def test_sdk_reads_flags(self):
        a = self.agent()
        out = self.sdk(a, ["boolean:checkout:false", "boolean:banner:true", "boolean:theme:false",
                           "boolean:nope:true", "string:checkout:x"])
        checkout, banner, theme, nope, mismatch = out
        self.assertEqual((checkout["value"], checkout["reason"], checkout["errorCode"]), (True, "STATIC", None))
        self.assertEqual(checkout["metadata"], {"limit": 5, "regions": '["eu","us"]'})
        self.assertEqual((banner["value"], banner["reason"]), (False, "DISABLED"))
        self.assertEqual((theme["value"], theme["variant"], theme["reason"]), (True, "dark", "TARGETING_MATCH"))
        self.assertEqual(theme["metadata"], {"color": "black"})
        self.assertEqual((nope["value"], nope["errorCode"], nope["reason"]), (True, "FLAG_NOT_FOUND", "ERROR"))
        self.assertEqual((mismatch["value"], mismatch["errorCode"]), ("x", "TYPE_MISMATCH"))

    def test_bearer_token(self):
        a = self.agent({"ACCESS_TOKEN": "ofrep-token"})
        ok = self.sdk(a, ["boolean:checkout:false"], token="ofrep-token")[0]
        self.assertEqual((ok["value"], ok["errorCode"]), (True, None))
        denied = self.sdk(a, ["boolean:checkout:false"], token="wrong")[0]
        self.assertEqual(denied["value"], False)
        self.assertIsNotNone(denied["errorCode"])

    def test_bulk_etag_and_errors(self):
        a = self.agent()
        path = "/applications/Shop/environments/Prod/configurations/Flags/ofrep/v1/evaluate/flags"
        st, h, body = a.ac_raw(path, method="POST", body=json.dumps({"context": {"targetingKey": "u"}}),
                               headers={"Content-Type": "application/json"})
        self.assertEqual(st, 200, body)
        flags = {f["key"]: f for f in json.loads(body)["flags"]}
        self.assertEqual(set(flags), {"checkout", "banner", "theme"})
        self.assertEqual(flags["theme"]["variant"], "dark")
        etag = h["etag"]
        self.assertRegex(etag, r'^"[0-9a-f]{64}"$')
        st, h2, body2 = a.ac_raw(path, method="POST", body="{}", headers={"If-None-Match": etag})
        self.assertEqual((st, body2), (304, b""))
        # a changed document changes the ETag
        with open(os.path.join(self.dir, "Shop:Prod:Flags.json"), "w") as f:
            json.dump(dict(FLAGS, banner={"enabled": True}), f)
        st, h3, body3 = a.ac_raw(path, method="POST", body="{}", headers={"If-None-Match": etag})
        self.assertEqual(st, 200)
        self.assertNotEqual(h3["etag"], etag)
        for bad, code in (("nope", "PARSE_ERROR"), ('{"context": 3}', "INVALID_CONTEXT"),
                          ('{"context": {"targetingKey": 5}}', "INVALID_CONTEXT")):
            st, _h, body = a.ac_raw(path + "/checkout", method="POST", body=bad)
            self.assertEqual(st, 400, bad)
            self.assertEqual(json.loads(body)["errorCode"], code, bad)
        self.assertEqual(a.ac_raw(path + "/checkout")[0], 405)  # OFREP is POST


if __name__ == "__main__":
    unittest.main()
