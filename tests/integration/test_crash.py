"""Durability: SIGKILL leverd in the middle of concurrent PutParameter load and check
that every acknowledged write survives, with contiguous versions and nothing half-written."""

import collections
import threading
import time
import unittest

import botocore.exceptions

from lever_harness import Leverd, LeverTestCase

THREADS = 8
SHARED = 6           # names every thread overwrites
LOAD_SECONDS = 2.0
CYCLES = 3
VERSION_LIMIT = 100


class CrashTest(LeverTestCase):
    def load(self, cycle, acked, stop):
        """Run THREADS writers until stop is set or the server dies."""
        lock = threading.Lock()

        def writer(tid):
            c = self.server.client(read_timeout=30)
            seq = 0
            while not stop.is_set():
                seq += 1
                if seq % 2:
                    name = "/crash/own/c%d/t%d/n%05d" % (cycle, tid, seq)
                    value = "own|%d|%d|%d" % (cycle, tid, seq)
                    kw = {"Type": "String"}
                else:
                    name = "/crash/shared/s%d" % ((tid + seq) % SHARED)
                    value = "shared|%d|%d|%d" % (cycle, tid, seq)
                    kw = {"Type": "String", "Overwrite": True}
                try:
                    r = c.put_parameter(Name=name, Value=value, **kw)
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, OSError):
                    # connection refused/reset after the kill: not acknowledged, stop writing
                    if not self.server.alive():
                        return
                    continue
                with lock:
                    acked.append((name, r["Version"], value))

        threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(THREADS)]
        for t in threads:
            t.start()
        return threads

    def history(self, ssm, name):
        items, _ = self.paginate_all(ssm.get_parameter_history, "Parameters", Name=name, MaxResults=50)
        return items

    def check_batch(self, ssm, wanted):
        """wanted: list of (request name, expected version, expected value); 10 per GetParameters call."""
        for i in range(0, len(wanted), 10):
            chunk = wanted[i:i + 10]
            r = ssm.get_parameters(Names=[w[0] for w in chunk])
            self.assertEqual(r["InvalidParameters"], [], "acknowledged writes not readable")
            got = {}
            for p in r["Parameters"]:
                key = p["Name"] + (p.get("Selector") or "")
                got[key] = (p["Version"], p["Value"])
            for req, version, value in chunk:
                self.assertEqual(got.get(req), (version, value), "%s after restart" % req)

    def verify(self, ssm, acked):
        by_name = collections.defaultdict(dict)
        for name, version, value in acked:
            self.assertNotIn(version, by_name[name], "version %d of %s acknowledged twice" % (version, name))
            by_name[name][version] = value
        wanted = []
        for name, versions in sorted(by_name.items()):
            if not name.startswith("/crash/shared/"):
                self.assertEqual(list(versions), [1], name)
                wanted.append((name, 1, versions[1]))        # latest is version 1 ...
                wanted.append((name + ":1", 1, versions[1]))  # ... and addressable as such
                continue
            hist = self.history(ssm, name)
            vs = [h["Version"] for h in hist]
            self.assertTrue(vs, "%s lost entirely" % name)
            self.assertEqual(vs, list(range(vs[0], vs[-1] + 1)), "%s: versions not contiguous: %s" % (name, vs))
            latest = vs[-1]
            self.assertGreaterEqual(latest, max(versions), "%s: acknowledged version %d lost (latest %d)"
                                    % (name, max(versions), latest))
            self.assertEqual(vs[0], max(1, latest - VERSION_LIMIT + 1), "%s: history window wrong" % name)
            hist_vals = {h["Version"]: h["Value"] for h in hist}
            for h in hist:
                self.assertTrue(h.get("Value"), "%s:%d has no value" % (name, h["Version"]))
            for v, value in versions.items():
                if v < vs[0]:
                    continue  # legitimately dropped by the 100-version limit
                self.assertEqual(hist_vals[v], value, "%s:%d has the wrong value in history" % (name, v))
                wanted.append(("%s:%d" % (name, v), v, value))
            wanted.append((name, latest, hist_vals[latest]))
        self.check_batch(ssm, wanted)
        # nothing half-written anywhere under /crash: every listed parameter has a readable latest value
        listed, _ = self.paginate_all(ssm.get_parameters_by_path, "Parameters", Path="/crash", Recursive=True)
        names = set()
        for p in listed:
            self.assertTrue(p.get("Value"), "%s listed without a value" % p["Name"])
            names.add(p["Name"])
        self.assertTrue(set(by_name) <= names, "acknowledged names missing from GetParametersByPath: %s"
                        % sorted(set(by_name) - names)[:5])
        described, _ = self.paginate_all(ssm.describe_parameters, "Parameters", MaxResults=50,
                                         ParameterFilters=[{"Key": "Path", "Option": "Recursive",
                                                            "Values": ["/crash"]}])
        self.assertEqual(set(p["Name"] for p in described), names,
                         "DescribeParameters and GetParametersByPath disagree after restart")

    def test_kill9_under_load(self):
        acked = []
        total = 0
        for cycle in range(CYCLES):
            stop = threading.Event()
            before = len(acked)
            threads = self.load(cycle, acked, stop)
            # at least LOAD_SECONDS of load, and until writes are being
            # acknowledged (eight boto3 clients take a while to start on a
            # loaded machine)
            t0 = time.monotonic()
            while (time.monotonic() - t0 < LOAD_SECONDS or len(acked) - before < 2 * THREADS) and \
                    time.monotonic() - t0 < 60:
                time.sleep(0.05)
            self.server.kill()            # SIGKILL while writers are mid-flight
            stop.set()
            for t in threads:
                t.join(60)
                self.assertFalse(t.is_alive(), "writer thread hung after the kill")
            self.assertGreater(len(acked), before, "no write was acknowledged in cycle %d" % cycle)
            self.server.start()
            type(self).ssm = ssm = self.server.client()
            self.verify(ssm, acked)
            total = len(acked)
        self.assertGreater(total, THREADS * CYCLES)

    def test_sigterm_restart_keeps_everything(self):
        ssm = self.ssm
        for i in range(20):
            ssm.put_parameter(Name="/term/p%02d" % i, Value="v%d" % i, Type="String")
        ssm.put_parameter(Name="/term/sec", Value="secret", Type="SecureString")
        ssm.put_parameter(Name="/term/p00", Value="v0b", Overwrite=True)
        ssm.label_parameter_version(Name="/term/p00", ParameterVersion=1, Labels=["first"])
        rc = self.server.stop()
        self.assertEqual(rc, 0, "leverd should exit 0 on SIGTERM")
        self.server.start()
        ssm = type(self).ssm = self.server.client()
        items, _ = self.paginate_all(ssm.get_parameters_by_path, "Parameters", Path="/term", WithDecryption=True)
        vals = {p["Name"]: p["Value"] for p in items}
        self.assertEqual(vals["/term/p00"], "v0b")
        self.assertEqual(vals["/term/sec"], "secret")
        self.assertEqual(len(vals), 21)
        self.assertEqual(ssm.get_parameter(Name="/term/p00:first")["Parameter"]["Value"], "v0")
        # a new version continues the numbering
        self.assertEqual(ssm.put_parameter(Name="/term/p00", Value="v0c", Overwrite=True)["Version"], 3)

    def test_second_instance_on_same_data_dir(self):
        # Two servers must not write one data dir at once: the second refuses to start,
        # or the first keeps serving correct data. Either way nothing is corrupted.
        self.ssm.put_parameter(Name="/lock/x", Value="1", Type="String", Overwrite=True)
        other = Leverd(data_dir=self.server.data_dir)
        started = False
        try:
            other.start()
            started = True
        except RuntimeError:
            pass
        finally:
            other.cleanup()
        # if the second one started anyway, that is tolerated only if the first stays consistent
        self.assertTrue(self.server.alive())
        self.assertEqual(self.ssm.get_parameter(Name="/lock/x")["Parameter"]["Value"], "1")
        self.assertEqual(self.ssm.put_parameter(Name="/lock/x", Value="2", Overwrite=True)["Version"], 2)


if __name__ == "__main__":
    unittest.main()
