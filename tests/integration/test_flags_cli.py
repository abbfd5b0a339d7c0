"""`lever flags validate` and `lever flags eval`: local, no server. Every
case of tests/data/flag_vectors.json and tests/data/flagdoc_validation.json
through the real CLI binary."""
import json
import os
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("LEVER_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
LEVER = os.path.join(BUILD, "lever")
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


def run(*args, stdin=None):
    return subprocess.run([LEVER, "flags", *args], input=stdin, capture_output=True, text=True, timeout=30)


class FlagsCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        with open(os.path.join(DATA, "flag_vectors.json")) as f:
            cls.vectors = json.load(f)
        cls.paths = {}
        for name, doc in cls.vectors["documents"].items():
            p = os.path.join(cls.tmp.name, name + ".json")
            with open(p, "w") as f:
                json.dump(doc, f)
            cls.paths[name] = p

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_eval_vectors(self):
        for c in self.vectors["cases"]:
            with self.subTest(c["name"]):
                args = ["eval", self.paths[c["document"]], c["flag"]]
                if c["context"] is None:
                    args.append("--no-context")
                else:
                    for k, v in c["context"].items():
                        args += ["--context", "%s=%s" % (k, v)]
                if "entity" in c:
                    args += ["--entity", c["entity"]]
                r = run(*args)
                exp = c["expect"]
                out = json.loads(r.stdout)
                self.assertEqual(out["reason"], exp["reason"], r.stderr)
                if exp.get("error_code") == "FLAG_NOT_FOUND":
                    self.assertEqual(r.returncode, 3)
                    self.assertEqual(out["errorCode"], "FLAG_NOT_FOUND")
                    continue
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(out["enabled"], exp["enabled"])
                self.assertEqual(out["variant"], exp["variant"])
                self.assertEqual(out["value"], exp["value"])

    def test_validate_cases(self):
        with open(os.path.join(DATA, "flagdoc_validation.json")) as f:
            cases = json.load(f)["cases"]
        for c in cases:
            with self.subTest(c["name"]):
                r = run("validate", "-", stdin=json.dumps(c["document"]))
                if c["valid"]:
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertIn("-: valid", r.stdout)
                else:
                    self.assertEqual(r.returncode, 1, r.stdout)
                    lines = [l for l in r.stderr.splitlines() if l.startswith("-: %s: " % c["pointer"])]
                    self.assertTrue(any(c["reason"] in l for l in lines), r.stderr)

    def test_usage_and_files(self):
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run("frobnicate").returncode, 2)
        self.assertEqual(run("eval", self.paths["ui"]).returncode, 2)
        self.assertEqual(run("eval", self.paths["ui"], "ui_refresh", "--context", "novalue").returncode, 2)
        r = run("validate", os.path.join(self.tmp.name, "missing.json"))
        self.assertEqual(r.returncode, 1)
        r = run("validate", self.paths["ops"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("valid (13 flags, 13 with variants)", r.stdout)
        r = run("validate", "-", stdin="{not json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not valid JSON", r.stderr)


if __name__ == "__main__":
    unittest.main()
