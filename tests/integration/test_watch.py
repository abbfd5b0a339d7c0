"""Lever.WatchParameters (docs/watch.md) against a real leverd: ordered
changes since a revision, long polls woken by commits, one-level and
recursive scopes, the x-lever-revision header, compaction, policy
notification events, and thousands of idle watchers without a thread each."""
import json
import os
import socket
import threading
import time
import datetime

from lever_harness import LeverTestCase, error_type

TARGET = "Lever.WatchParameters"


def iso_in(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class WatchTest(LeverTestCase):
    LEVERD_KW = {"extra_args": ["--changelog-size", "50"]}

    def watch(self, path, since, wait=0, recursive=True, max_changes=None, timeout=70):
        body = {"Path": path, "SinceRevision": since, "WaitSeconds": wait, "Recursive": recursive}
        if max_changes:
            body["MaxChanges"] = max_changes
        st, hdrs, parsed, raw = self.server.call_raw(TARGET, body, timeout=timeout)
        return st, parsed

    def revision_now(self):
        st, hdrs, parsed, raw = self.server.call_raw("AmazonSSM.DescribeParameters", {"MaxResults": 1})
        self.assertEqual(st, 200)
        return int(hdrs["x-lever-revision"])

    def test_changes_in_order_with_kinds(self):
        ns = self.n("")
        r0 = self.revision_now()
        self.put(ns + "/a", "1")
        self.put(ns + "/a", "2", Overwrite=True)
        self.ssm.label_parameter_version(Name=ns + "/a", ParameterVersion=1, Labels=["old"])
        self.ssm.unlabel_parameter_version(Name=ns + "/a", ParameterVersion=1, Labels=["old"])
        self.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=ns + "/a",
                                      Tags=[{"Key": "k", "Value": "v"}])
        self.ssm.delete_parameter(Name=ns + "/a")
        st, r = self.watch(ns, r0)
        self.assertEqual(st, 200, r)
        kinds = [(c["Kind"], c["Version"]) for c in r["Changes"]]
        self.assertEqual(kinds, [("Put", 1), ("Put", 2), ("Label", 1), ("Unlabel", 1), ("Tag", 0), ("Delete", 0)])
        revs = [c["Revision"] for c in r["Changes"]]
        self.assertEqual(revs, sorted(revs))
        self.assertGreater(revs[0], r0)
        self.assertEqual(r["Revision"], revs[-1])
        self.assertTrue(all(c["Name"] == ns + "/a" for c in r["Changes"]))
        # Nothing after the last one: an immediate empty answer with the same revision.
        st, r2 = self.watch(ns, r["Revision"])
        self.assertEqual(r2["Changes"], [])
        self.assertEqual(r2["Revision"], r["Revision"])

    def test_long_poll_wakes_on_change(self):
        ns = self.n("watched")
        since = self.revision_now()
        out = {}

        def waiter():
            t0 = time.monotonic()
            out["st"], out["r"] = self.watch(ns, since, wait=30)
            out["took"] = time.monotonic() - t0

        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(0.5)
        self.put(self.n("other"), "x")  # outside the watched path: must not wake it
        time.sleep(0.5)
        self.assertTrue(th.is_alive(), "a change elsewhere woke the watcher")
        self.put(ns + "/flag", "on")
        th.join(10)
        self.assertFalse(th.is_alive(), "the watcher was not woken by a matching change")
        self.assertEqual(out["st"], 200)
        self.assertEqual([c["Name"] for c in out["r"]["Changes"]], [ns + "/flag"])
        self.assertLess(out["took"], 10)

    def test_overwrite_and_delete_wake_at_once(self):
        # Changes to existing parameters name keys of states being replaced:
        # the watcher must be matched before those states are freed.
        ns = self.n("ow")
        self.put(ns + "/k", "1")
        for action in ("overwrite", "delete"):
            since = self.revision_now()
            out = {}

            def waiter():
                t0 = time.monotonic()
                out["st"], out["r"] = self.watch(ns, since, wait=20)
                out["took"] = time.monotonic() - t0

            th = threading.Thread(target=waiter)
            th.start()
            time.sleep(0.3)
            if action == "overwrite":
                self.put(ns + "/k", "2", Overwrite=True)
            else:
                self.ssm.delete_parameter(Name=ns + "/k")
            th.join(25)
            self.assertEqual([c["Kind"] for c in out["r"]["Changes"]],
                             ["Put" if action == "overwrite" else "Delete"])
            self.assertLess(out["took"], 5, "%s woke the watcher only at its deadline" % action)

    def test_wait_times_out_empty(self):
        since = self.revision_now()
        t0 = time.monotonic()
        st, r = self.watch(self.n("quiet"), since, wait=1)
        took = time.monotonic() - t0
        self.assertEqual(st, 200)
        self.assertEqual(r["Changes"], [])
        self.assertGreaterEqual(took, 0.9)
        self.assertGreaterEqual(r["Revision"], since)

    def test_one_level_and_recursive(self):
        ns = self.n("")
        since = self.revision_now()
        self.put(ns + "/top", "1")
        self.put(ns + "/sub/deep", "2")
        st, rec = self.watch(ns, since, recursive=True)
        st, one = self.watch(ns, since, recursive=False)
        self.assertEqual([c["Name"] for c in rec["Changes"]], [ns + "/top", ns + "/sub/deep"])
        self.assertEqual([c["Name"] for c in one["Changes"]], [ns + "/top"])

    def test_max_changes_pages(self):
        ns = self.n("")
        since = self.revision_now()
        for i in range(5):
            self.put("%s/p%d" % (ns, i), "v")
        st, r = self.watch(ns, since, max_changes=2)
        self.assertEqual(len(r["Changes"]), 2)
        st, r2 = self.watch(ns, r["Revision"], max_changes=10)
        self.assertEqual(len(r2["Changes"]), 3)
        self.assertEqual([c["Name"] for c in r["Changes"] + r2["Changes"]],
                         ["%s/p%d" % (ns, i) for i in range(5)])

    def test_list_then_watch_has_no_gap(self):
        ns = self.n("")
        self.put(ns + "/x", "1")
        st, hdrs, parsed, raw = self.server.call_raw("AmazonSSM.GetParametersByPath", {"Path": ns})
        listed_at = int(hdrs["x-lever-revision"])
        self.put(ns + "/y", "2")
        st, r = self.watch(ns, listed_at)
        self.assertIn(ns + "/y", [c["Name"] for c in r["Changes"]])

    def test_compacted_revision(self):
        ns = self.n("")
        since = self.revision_now()
        for i in range(60):  # the change log holds 50 here
            self.put("%s/c%d" % (ns, i), "v")
        st, r = self.watch(ns, since)
        self.assertEqual(st, 400)
        self.assertEqual(error_type(r), "RevisionCompactedException")
        self.assertGreater(r["OldestRevision"], since + 1)
        self.assertGreaterEqual(r["CurrentRevision"], r["OldestRevision"])
        # A revision from the future is refused the same way.
        st, r = self.watch(ns, r["CurrentRevision"] + 1000)
        self.assertEqual(error_type(r), "RevisionCompactedException")

    def test_validation(self):
        st, hdrs, parsed, raw = self.server.call_raw(TARGET, {"Path": "/x"})
        self.assertEqual(st, 400)
        self.assertEqual(error_type(parsed), "ValidationException")
        self.assertIn("sinceRevision", parsed["message"])
        st, hdrs, parsed, raw = self.server.call_raw(TARGET, {"Path": "/x", "SinceRevision": 0, "WaitSeconds": 61})
        self.assertEqual(error_type(parsed), "ValidationException")
        st, hdrs, parsed, raw = self.server.call_raw("Lever.NoSuchOperation", {})
        self.assertEqual(error_type(parsed), "UnknownOperationException")

    def test_unsigned_watch_refused(self):
        st, hdrs, body = self.server.raw("POST", "/", json.dumps({"Path": "/", "SinceRevision": 0}).encode(),
                                         {"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"})
        self.assertEqual(st, 400)
        self.assertEqual(error_type(json.loads(body)), "MissingAuthenticationTokenException")

    def test_expiration_notification_event(self):
        ns = self.n("")
        name = ns + "/expiring"
        since = self.revision_now()
        # Expires in 1 h + 2 s; notify 1 h before: the event is due in ~2 s.
        policies = json.dumps([
            {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": iso_in(3600 + 2)}},
            {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "1", "Unit": "Hours"}},
        ])
        self.put(name, "v", Tier="Advanced", Policies=policies)
        deadline = time.monotonic() + 15
        kinds = []
        while time.monotonic() < deadline and "ExpirationNotification" not in kinds:
            st, r = self.watch(ns, since, wait=5)
            kinds = [c["Kind"] for c in r["Changes"]]
        self.assertEqual(kinds[:2], ["Put", "ExpirationNotification"])
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "v")

    def test_many_idle_watchers_cost_no_thread_each(self):
        ns = self.n("")
        since = self.revision_now()
        n = 1000
        body = json.dumps({"Path": ns, "SinceRevision": since, "WaitSeconds": 30}).encode()
        hdrs = self.server.signed_headers(TARGET, body)
        req = b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % self.server.port
        for k, v in hdrs.items():
            if k.lower() != "host":
                req += ("%s: %s\r\n" % (k, v)).encode()
        req += b"Content-Length: %d\r\n\r\n" % len(body) + body
        socks = []
        try:
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", self.server.port))
                s.sendall(req)
                socks.append(s)
            time.sleep(1.0)
            with open("/proc/%d/status" % self.server.proc.pid) as f:
                threads = int([l for l in f if l.startswith("Threads:")][0].split()[1])
            self.assertLess(threads, 64, "leverd holds a thread per watcher")
            # Still serving everyone else while they wait.
            self.assertEqual(self.ssm.get_parameters_by_path(Path="/")["ResponseMetadata"]["HTTPStatusCode"], 200)
            self.put(ns + "/wake", "1")
            woken = 0
            for s in socks:
                s.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if b"200 OK" in data.split(b"\r\n", 1)[0] and (ns + "/wake").encode() in data:
                    woken += 1
            self.assertEqual(woken, n)
        finally:
            for s in socks:
                s.close()


class SecretsAtRestTest(LeverTestCase):
    def test_plaintext_never_on_disk_or_in_log(self):
        marker = "S3cr3t-%d-never-on-disk" % os.getpid()
        name = self.n("secret")
        self.put(name, marker, "SecureString")
        self.put(name, marker + "-v2", "SecureString", Overwrite=True)
        self.assertEqual(self.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"],
                         marker + "-v2")
        found = []
        for root, _dirs, files in os.walk(self.server.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(f)
        self.assertEqual(found, [], "SecureString plaintext found in the data directory")
        self.assertNotIn(marker, self.server.log_text())
        # And it survives a restart, still readable with the master key.
        self.server.restart(hard=True)
        self.assertEqual(self.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"],
                         marker + "-v2")

    def test_invalid_key_id(self):
        name = self.n("k")
        # Outside the model's pattern: a validation error before any key lookup.
        self.assertAwsError("ValidationException", self.put, name, "v", "SecureString", KeyId="not a key")
        for bad in ["mykey", "key/1234", "alias/", "arn:aws:kms:us-east-1:1:key/x"]:
            self.assertAwsError("InvalidKeyId", self.put, name, "v", "SecureString", KeyId=bad)
        for ok in ["alias/app-key", "1234abcd-12ab-34cd-56ef-1234567890ab",
                   "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                   "arn:aws:kms:us-east-1:111122223333:alias/app-key"]:
            okname = self.n("ok%d" % len(ok))
            self.put(okname, "v", "SecureString", KeyId=ok)
            p = self.ssm.get_parameter(Name=okname, WithDecryption=True)["Parameter"]
            self.assertEqual(p["Value"], "v")


if __name__ == "__main__":
    import unittest
    unittest.main()
