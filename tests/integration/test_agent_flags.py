"""lever-agent evaluates multi-variant feature flags itself (issue 12 item
2 at the agent): the stored AWS.AppConfig.FeatureFlags document (from a
local development file, as AWS's agent reads them) evaluated for each
request's Context headers and Entity-Id, ?flag= with variants, the
_variant of the answer, and the same evaluations through OFREP with the
OpenFeature SDK's context (targetingKey as the entity)."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from appconfig_agent import ACAgent, clean_env
from test_agent_ofrep import NODE, OFREP_DIR

DOC = {
    "version": "1",
    "flags": {
        "ui_refresh": {"name": "UI Refresh", "attributes": {"dark_mode_support": {"constraints": {"type": "boolean"}}}},
        "checkout": {"name": "Checkout", "attributes": {"limit": {"constraints": {"type": "number"}}}},
    },
    "values": {
        "ui_refresh": {"_variants": [
            {"name": "QA", "enabled": True, "rule": "(ends_with $email \"qa-testers.mycompany.com\")",
             "attributeValues": {"dark_mode_support": True}},
            {"name": "Gold", "enabled": True, "rule": "(eq $tier \"gold\")",
             "attributeValues": {"dark_mode_support": False}},
            {"name": "Default Variant", "enabled": False}]},
        "checkout": {"enabled": True, "limit": 5},
    },
}


class AgentFlagsTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lever-flags-")
        with open(os.path.join(self.dir, "Shop:Prod:Flags.json"), "w") as f:
            json.dump(DOC, f)
        e = {"LOCAL_DEVELOPMENT_DIRECTORY": self.dir}
        self.a = ACAgent("http://127.0.0.1:9", listen=False)
        self.a.environ = lambda: dict(clean_env(), HOME=self.a.tmp, **e)
        self.a.start()

    def tearDown(self):
        rc = self.a.stop()
        log = self.a.log()
        self.a.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertEqual(rc, 0, log)

    def get(self, query="", **headers):
        st, h, body = self.a.config("Shop", "Prod", "Flags", query, headers)
        self.assertEqual(st, 200, body)
        self.assertEqual(h["content-type"], "application/json")
        return json.loads(body)

    def test_variants_by_context(self):
        plain = self.get()
        self.assertEqual(plain["checkout"], {"enabled": True, "limit": 5})
        self.assertEqual(plain["ui_refresh"], {"enabled": False, "_variant": "Default Variant"})
        qa = self.get(Context="email=ann@qa-testers.mycompany.com")
        self.assertEqual(qa["ui_refresh"], {"enabled": True, "dark_mode_support": True, "_variant": "QA"})
        gold = self.get(Context="tier=gold, email=bob@example.com")
        self.assertEqual(gold["ui_refresh"]["_variant"], "Gold")
        self.assertEqual(gold["ui_refresh"]["dark_mode_support"], False)
        # variants are tried in order: QA wins over Gold
        both = self.get(Context="tier=gold,email=x@qa-testers.mycompany.com")
        self.assertEqual(both["ui_refresh"]["_variant"], "QA")
        only = self.get("flag=ui_refresh", Context="tier=gold", **{"Entity-Id": "user-9"})
        self.assertEqual(list(only), ["ui_refresh"])
        self.assertEqual(only["ui_refresh"]["_variant"], "Gold")
        self.assertEqual(self.get("flag=checkout"), {"checkout": {"enabled": True, "limit": 5}})

    def test_ofrep_sdk_sees_variants(self):
        base = "http://127.0.0.1:%d/applications/Shop/environments/Prod/configurations/Flags" % self.a.ac_port
        p = subprocess.run([NODE, "probe.mjs", base, "-", json.dumps({"targetingKey": "u1", "tier": "gold"}),
                            "boolean:ui_refresh:false", "boolean:checkout:false"],
                           cwd=OFREP_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        ui, checkout = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual((ui["value"], ui["variant"], ui["reason"]), (True, "Gold", "TARGETING_MATCH"))
        self.assertEqual(ui["metadata"], {"dark_mode_support": False})
        self.assertEqual((checkout["value"], checkout["reason"]), (True, "STATIC"))
        self.assertEqual(checkout["metadata"], {"limit": 5})


if __name__ == "__main__":
    unittest.main()
