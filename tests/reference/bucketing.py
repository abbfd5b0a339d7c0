#!/usr/bin/python3
"""Reference implementation of lever's bucketing function (docs/bucketing.md),
independent of the C code: regenerates tests/data/bucketing_vectors.json
(--write) or checks it (default). Debian's python3 only (hashlib, json)."""
import hashlib
import json
import math
import os
import struct
import sys

BUCKETS = 10000
HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "data", "bucketing_vectors.json")


def bucket(seed: str, entity: str) -> int:
    s = seed.encode("utf-8")
    e = entity.encode("utf-8")
    msg = struct.pack(">I", len(s)) + s + struct.pack(">I", len(e)) + e
    digest = hashlib.sha256(msg).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def threshold(percentage: float) -> int:
    if not percentage > 0:
        return 0
    if percentage >= 100:
        return BUCKETS
    return max(0, min(BUCKETS, math.ceil(percentage * 100 - 1e-9)))


# Inputs chosen to cover empty strings, the length prefix (ab|c vs a|bc),
# non-ASCII text, long values and both kinds of deployment seed.
INPUTS = [
    ("", ""),
    ("", "user-1"),
    ("seed", ""),
    ("ab", "c"),
    ("a", "bc"),
    ("abc", "user-1"),
    ("abc", "user-2"),
    ("abc", "user-3"),
    ("2025.01.01", "jane_doe@example.org"),
    ("2025.01.01", "john_doe@example.org"),
    ("flag:ui_refresh", "jane_doe@example.org"),
    ("flag:ui_refresh", "12345"),
    ("appconfig:abc1234:env5678:1", "agent-0"),
    ("appconfig:abc1234:env5678:1", "agent-1"),
    ("appconfig:abc1234:env5678:2", "agent-0"),
    ("appconfig:abc1234:env5678:2", "session-9f8e7d"),
    ("ssm:us-east-1:/app/db/url:live:1", "AKIAIOSFODNN7EXAMPLE"),
    ("ssm:us-east-1:/app/db/url:live:2", "AKIAIOSFODNN7EXAMPLE"),
    ("ssm:eu-west-1:/app/db/url:live:1", "host-42"),
    ("caf\u00e9", "\u00fcber"),
    ("\u65e5\u672c", "\U0001f600"),
    ("seed with spaces", "entity with spaces"),
    ("x" * 300, "y" * 1000),
    ("seed", "line\nbreak"),
]

PERCENTAGES = [0, 0.004, 0.01, 0.29, 0.57, 1, 10, 12.5, 20, 33.333, 50,
               66.67, 99.99, 99.999, 100, 150, -5]


def build():
    vectors = []
    for seed, entity in INPUTS:
        s = seed.encode("utf-8")
        e = entity.encode("utf-8")
        msg = struct.pack(">I", len(s)) + s + struct.pack(">I", len(e)) + e
        d = hashlib.sha256(msg).hexdigest()
        vectors.append({"seed": seed, "entity": entity,
                        "sha256_prefix": d[:16], "bucket": bucket(seed, entity)})
    return {
        "description": "lever bucketing v1: bucket = big-endian uint64 of the first 8 bytes "
                       "of SHA-256(u32be(len(seed)) || seed || u32be(len(entity)) || entity) "
                       "mod 10000; in the share iff bucket < threshold(percentage) = "
                       "clamp(ceil(percentage*100 - 1e-9), 0, 10000). See docs/bucketing.md.",
        "vectors": vectors,
        "thresholds": [{"percentage": p, "buckets": threshold(p)} for p in PERCENTAGES],
    }


def main():
    data = build()
    if "--write" in sys.argv[1:]:
        with open(VECTORS, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print("wrote", os.path.normpath(VECTORS))
        return 0
    with open(VECTORS, encoding="utf-8") as f:
        stored = json.load(f)
    bad = 0
    if len(stored["vectors"]) < 20:
        print("fewer than 20 vectors")
        bad += 1
    for v in stored["vectors"]:
        got = bucket(v["seed"], v["entity"])
        if got != v["bucket"]:
            print("mismatch: %r %r: file %d, reference %d" % (v["seed"], v["entity"], v["bucket"], got))
            bad += 1
    for t in stored["thresholds"]:
        got = threshold(t["percentage"])
        if got != t["buckets"]:
            print("threshold mismatch: %r: file %d, reference %d" % (t["percentage"], t["buckets"], got))
            bad += 1
    if stored != data:
        print("the file differs from what the reference generates (run with --write)")
        bad += 1
    print("%d vectors, %d thresholds, %d problems" % (len(stored["vectors"]), len(stored["thresholds"]), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
