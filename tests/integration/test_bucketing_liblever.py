"""The bucketing vectors (tests/data/bucketing_vectors.json) through the
shared library an application links, liblever.so: lever_bucket and
lever_bucket_threshold as exported (tests/integration/liblever_bucket_probe.c,
linked with liblever.so), against the file and against the independent
Python reference."""
import json
import os
import subprocess
import sys
import unittest

from lever_harness import build_dir

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import bucketing  # noqa: E402  the reference implementation

VECTORS = os.path.join(HERE, "..", "data", "bucketing_vectors.json")
PROBE = os.path.join(build_dir(), "liblever_bucket_probe")


def hexed(s):
    return s.encode().hex() or "-"


class LibleverBucketingTest(unittest.TestCase):
    def setUp(self):
        with open(VECTORS, encoding="utf-8") as f:
            self.doc = json.load(f)

    def ask(self, lines):
        p = subprocess.run([PROBE], input="".join(l + "\n" for l in lines), stdout=subprocess.PIPE, text=True,
                           timeout=120, check=True)
        return [int(x) for x in p.stdout.split()]

    def test_vectors(self):
        vs, ts = self.doc["vectors"], self.doc["thresholds"]
        self.assertGreaterEqual(len(vs), 20)
        got = self.ask(["B %s %s" % (hexed(v["seed"]), hexed(v["entity"])) for v in vs] +
                       ["T %r" % t["percentage"] for t in ts])
        self.assertEqual(got[:len(vs)], [v["bucket"] for v in vs])
        self.assertEqual(got[len(vs):], [t["buckets"] for t in ts])

    def test_agrees_with_the_reference_beyond_the_vectors(self):
        pairs = [("appconfig:abc1234:env5678:%d" % (i % 7), "entity-%d" % i) for i in range(2000)]
        got = self.ask(["B %s %s" % (hexed(s), hexed(e)) for s, e in pairs])
        self.assertEqual(got, [bucketing.bucket(s, e) for s, e in pairs])


if __name__ == "__main__":
    unittest.main()
