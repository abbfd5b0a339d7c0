"""Throttling seen by boto3 as ThrottlingException (HTTP 400): per-key read and
write buckets with the root key exempt, and the strict --aws-quotas mode; plus the
audit log's rotation by size."""

import glob
import json
import os
import threading
import time
import unittest

import botocore.exceptions

from lever_harness import Leverd, admin_call, create_key, error_code, http_status

ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}


def burst(fn, n, **kw):
    """Call fn n times; returns (successes, ThrottlingException count)."""
    ok = throttled = 0
    for _ in range(n):
        try:
            fn(**kw)
            ok += 1
        except botocore.exceptions.ClientError as e:
            if error_code(e) != "ThrottlingException":
                raise
            if http_status(e) != 400:
                raise AssertionError("ThrottlingException must be HTTP 400, got %s" % http_status(e))
            throttled += 1
    return ok, throttled


def flood(fn, threads, cap, deadline_s=20, **kw):
    """Call fn from several threads at once until one call is throttled, cap
    calls were made or the deadline passed: the offered rate then exceeds a
    quota however slow the machine is, which sequential calls do not
    guarantee. Returns (successes, ThrottlingException count)."""
    lock = threading.Lock()
    state = {"ok": 0, "throttled": 0, "made": 0, "error": None}
    end = time.monotonic() + deadline_s

    def run():
        while time.monotonic() < end:
            with lock:
                if state["throttled"] or state["made"] >= cap or state["error"]:
                    return
                state["made"] += 1
            try:
                ok, throttled = burst(fn, 1, **kw)
            except Exception as e:  # reported below, in the test's thread
                with lock:
                    state["error"] = e
                return
            with lock:
                state["ok"] += ok
                state["throttled"] += throttled

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if state["error"] is not None:
        raise state["error"]
    return state["ok"], state["throttled"]


class PerKeyThrottleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Leverd(extra_args=["--throttle-read", "5:5", "--throttle-write", "2:2",
                                        "--audit-max-size", "4000", "--audit-keep", "3"]).start()
        cls.root = cls.server.client()
        cls.root.put_parameter(Name="/t/x", Value="1", Type="String")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def test_key_reads_throttled_root_exempt(self):
        akid, secret = create_key(self.server, {"all": ALL})
        c = self.server.client(access_key=akid, secret_key=secret)
        ok, throttled = burst(c.get_parameter, 30, Name="/t/x")
        self.assertGreaterEqual(throttled, 15, "a burst of 30 reads at 5/s must be throttled")
        self.assertGreaterEqual(ok, 5)
        # the root key is not limited by default
        ok, throttled = burst(self.root.get_parameter, 30, Name="/t/x")
        self.assertEqual((ok, throttled), (30, 0))
        # writes have their own bucket (reads are exhausted, writes still pass)
        ok, throttled = burst(c.put_parameter, 6, Name="/t/w", Value="v", Type="String", Overwrite=True)
        self.assertGreaterEqual(ok, 1)
        self.assertGreaterEqual(throttled, 2)
        # another key has its own buckets
        akid2, secret2 = create_key(self.server, {"all": ALL})
        c2 = self.server.client(access_key=akid2, secret_key=secret2)
        c2.get_parameter(Name="/t/x")

    def test_sdk_retry_engages(self):
        """With retries on, boto3 rides out the throttling (it retries ThrottlingException)."""
        akid, secret = create_key(self.server, {"all": ALL})
        import botocore.config
        import boto3
        c = boto3.session.Session().client(
            "ssm", endpoint_url=self.server.endpoint, region_name="us-east-1", aws_access_key_id=akid,
            aws_secret_access_key=secret,
            config=botocore.config.Config(retries={"total_max_attempts": 10, "mode": "standard"}))
        for _ in range(12):
            c.get_parameter(Name="/t/x")

    def test_audit_rotates_by_size(self):
        for i in range(60):
            self.root.put_parameter(Name="/t/rot", Value=str(i), Type="String", Overwrite=True)
        files = sorted(glob.glob(os.path.join(self.server.data_dir, "audit.log*")))
        names = [os.path.basename(f) for f in files]
        self.assertIn("audit.log.1", names)
        self.assertLessEqual(len(files), 4, "audit.log plus at most --audit-keep rotated files: %s" % names)
        for f in files:
            self.assertLessEqual(os.path.getsize(f), 4000 + 400)
            with open(f) as fh:
                for ln in fh:
                    json.loads(ln)


class AwsQuotaTest(unittest.TestCase):
    def test_aws_quotas_apply_to_everyone(self):
        server = Leverd(extra_args=["--aws-quotas"]).start()
        try:
            root = server.client()
            root.put_parameter(Name="/q/x", Value="1", Type="String")
            ok, throttled = flood(root.get_parameter, 16, 4000, Name="/q/x")
            self.assertGreater(throttled, 0, "GetParameter calls from 16 threads exceed AWS's 40 TPS")
            self.assertGreaterEqual(ok, 40, "the first 40 calls fit in the bucket")
            ok, throttled = flood(root.put_parameter, 8, 400, Name="/q/y", Value="v", Type="String",
                                  Overwrite=True)
            self.assertGreater(throttled, 0, "PutParameter from 8 threads exceeds AWS's 3 TPS")
            # the put bucket holds 3 and the setup put above spent one of them
            # (it refills at 3/s, so after a fast read flood it may not have)
            self.assertGreaterEqual(ok, 2)
            st, body = admin_call(server, "ListAccessKeys")
            self.assertEqual(st, 200, body)
        finally:
            server.stop()
            server.cleanup()
