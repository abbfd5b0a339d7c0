"""The bucketing vectors (tests/data/bucketing_vectors.json) through the
shared library an application links, liblever.so: lever_bucket and
lever_bucket_threshold as exported, called with ctypes from Debian's
python3, against the file and against the independent Python reference."""
import ctypes
import json
import os
import sys
import unittest

from lever_harness import build_dir

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import bucketing  # noqa: E402  the reference implementation

VECTORS = os.path.join(HERE, "..", "data", "bucketing_vectors.json")


class LibleverBucketingTest(unittest.TestCase):
    def setUp(self):
        self.lib = ctypes.CDLL(os.path.join(build_dir(), "liblever.so"))
        self.lib.lever_bucket.restype = ctypes.c_uint32
        self.lib.lever_bucket.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
        self.lib.lever_bucket_threshold.restype = ctypes.c_uint32
        self.lib.lever_bucket_threshold.argtypes = [ctypes.c_double]
        with open(VECTORS, encoding="utf-8") as f:
            self.doc = json.load(f)

    def bucket(self, seed, entity):
        s, e = seed.encode(), entity.encode()
        return self.lib.lever_bucket(s, len(s), e, len(e))

    def test_vectors(self):
        self.assertGreaterEqual(len(self.doc["vectors"]), 20)
        for v in self.doc["vectors"]:
            self.assertEqual(self.bucket(v["seed"], v["entity"]), v["bucket"], (v["seed"], v["entity"]))
        for t in self.doc["thresholds"]:
            self.assertEqual(self.lib.lever_bucket_threshold(t["percentage"]), t["buckets"], t)

    def test_agrees_with_the_reference_beyond_the_vectors(self):
        for i in range(2000):
            seed, entity = "appconfig:abc1234:env5678:%d" % (i % 7), "entity-%d" % i
            self.assertEqual(self.bucket(seed, entity), bucketing.bucket(seed, entity))


if __name__ == "__main__":
    unittest.main()
