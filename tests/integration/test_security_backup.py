"""Backup taken under write load then restored and compared; restore refusals;
master key rotation interrupted by SIGKILL, then finished at restart with every
SecureString and access key still usable."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from lever_harness import ACCESS_KEY, SECRET_KEY, Leverd, admin_call, build_dir, create_key

# ssm:* and, to read SecureStrings WithDecryption, kms:Decrypt (as in AWS).
ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ssm:*", "kms:Decrypt"], "Resource": "*"}]}


def all_params(client, path="/"):
    out, token = {}, None
    while True:
        kw = {"Path": path, "Recursive": True, "WithDecryption": True, "MaxResults": 10}
        if token:
            kw["NextToken"] = token
        r = client.get_parameters_by_path(**kw)
        for p in r["Parameters"]:
            out[p["Name"]] = (p["Value"], p["Version"], p["Type"])
        token = r.get("NextToken")
        if not token:
            return out


class BackupRestoreTest(unittest.TestCase):
    def setUp(self):
        self.servers = []
        self.tmp = tempfile.mkdtemp(prefix="lever-bk-")

    def tearDown(self):
        for s in self.servers:
            try:
                s.stop()
            except Exception:  # noqa: BLE001
                s.kill()
            s.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, **kw):
        s = Leverd(**kw)
        self.servers.append(s)
        return s.start()

    def test_backup_under_load_then_restore(self):
        src = self.start()
        c = src.client()
        for i in range(50):
            c.put_parameter(Name="/bk/base/%03d" % i, Value="base-%d" % i, Type="String")
        c.put_parameter(Name="/bk/secret", Value="the-secret-value", Type="SecureString")
        akid, secret = create_key(src, {"all": ALL})
        # Per writer thread: how many of its writes were acknowledged. Each
        # thread writes /bk/load/<tid>/00000, 00001, ... one at a time.
        nacked, stop = [0, 0, 0], threading.Event()

        def writer(tid):
            w = src.client()
            i = 0
            while not stop.is_set():
                name = "/bk/load/%d/%05d" % (tid, i)
                w.put_parameter(Name=name, Value="v%d" % i, Type="String")
                i += 1
                nacked[tid] = i

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        before = list(nacked)
        path = os.path.join(self.tmp, "snap.db")
        st, body = admin_call(src, "CreateBackup", {"Path": path})
        after = list(nacked)
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(st, 200, body)
        self.assertGreater(body["Bytes"], 0)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path, "rb") as f:
            self.assertNotIn(b"the-secret-value", f.read(), "SecureStrings stay sealed in a backup")
        # a second backup never replaces a file
        st, body = admin_call(src, "CreateBackup", {"Path": path})
        self.assertEqual(st, 400)
        # only the root key takes backups
        st, body = admin_call(src, "CreateBackup", {"Path": path + ".2"}, access_key=akid, secret_key=secret)
        self.assertEqual((st, body["__type"]), (400, "AccessDeniedException"))

        # restore without the master key is refused, and leaves the directory empty
        dst_dir = os.path.join(self.tmp, "restored")
        os.makedirs(dst_dir)
        p = subprocess.run([os.path.join(build_dir(), "leverd"), "--data", dst_dir, "--restore", path,
                            "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(os.environ, LEVER_ROOT_ACCESS_KEY_ID=ACCESS_KEY,
                                    LEVER_ROOT_SECRET_ACCESS_KEY=SECRET_KEY), timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"master key", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(dst_dir, "lever.db")))
        # with the master key: restored and served
        shutil.copy(os.path.join(src.data_dir, "master.key"), os.path.join(dst_dir, "master.key"))
        dst = self.start(data_dir=dst_dir, extra_args=["--restore", path])
        got = all_params(dst.client(), "/bk")
        # A write is durable (and can be in a backup) before its answer
        # reaches the client, so a backup may hold each thread's write that
        # was in flight when the backup answered, but nothing later: per
        # thread, the backup holds writes 0..k-1 in order, with every write
        # acknowledged before the backup began and at most one more than
        # were acknowledged when it ended.
        for tid in range(3):
            mine = sorted(n for n in got if n.startswith("/bk/load/%d/" % tid))
            k = len(mine)
            self.assertEqual(mine, ["/bk/load/%d/%05d" % (tid, i) for i in range(k)],
                             "thread %d's writes in the backup are not a prefix of its sequence" % tid)
            for i in range(k):
                self.assertEqual(got[mine[i]][0], "v%d" % i)
            self.assertGreaterEqual(k, before[tid], "writes acknowledged before the backup began are missing")
            self.assertLessEqual(k, after[tid] + 1,
                                 "thread %d: %d writes in the backup, but only %d were acknowledged or in "
                                 "flight when it ended" % (tid, k, after[tid] + 1))
        self.assertEqual(len([n for n in got if n.startswith("/bk/load/")]),
                         sum(len([n for n in got if n.startswith("/bk/load/%d/" % t)]) for t in range(3)))
        self.assertEqual(got["/bk/secret"], ("the-secret-value", 1, "SecureString"))
        self.assertEqual(len([n for n in got if n.startswith("/bk/base/")]), 50)
        # access keys come back too
        dst.client(access_key=akid, secret_key=secret).get_parameter(Name="/bk/base/000")
        # a second restore into the now non-empty directory is refused
        dst.stop()
        p = subprocess.run([os.path.join(build_dir(), "leverd"), "--data", dst_dir, "--restore", path,
                            "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"already exists", p.stderr)

    def test_wrong_master_key_refused(self):
        s = self.start()
        s.client().put_parameter(Name="/mk/s", Value="x", Type="SecureString")
        s.stop()
        with open(os.path.join(s.data_dir, "master.key"), "w") as f:
            f.write("ab" * 32 + "\n")
        with self.assertRaises(RuntimeError) as cm:
            s.start()
        self.assertIn("does not open this store", str(cm.exception))
        os.unlink(os.path.join(s.data_dir, "master.key"))
        with self.assertRaises(RuntimeError) as cm:
            s.start()
        self.assertIn("is missing", str(cm.exception))


class RotationTest(unittest.TestCase):
    def test_rotation_interrupted_by_sigkill_then_finished(self):
        s = Leverd(extra_env={"LEVER_TEST_REWRAP_DELAY_MS": "150"})
        try:
            s.start()
            c = s.client()
            n = 700  # six batches of re-wrapping
            for i in range(n):
                c.put_parameter(Name="/rot/%04d" % i, Value="secret-%d" % i, Type="SecureString")
            c.put_parameter(Name="/rot/plain", Value="p", Type="String")
            akid, secret = create_key(s, {"all": ALL})
            mk = os.path.join(s.data_dir, "master.key")
            with open(mk) as f:
                old_key = f.read()
            def rotate():
                try:
                    s.call_raw("Lever.RotateMasterKey", {}, timeout=60)
                except OSError:
                    pass  # killed mid-call, on purpose

            t = threading.Thread(target=rotate)
            t.daemon = True
            t.start()
            deadline = time.time() + 10
            while not os.path.exists(mk + ".next") and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)
            self.assertTrue(os.path.exists(mk + ".next"), "rotation did not start")
            s.kill()
            self.assertTrue(os.path.exists(mk + ".next"), "the rotation should have been interrupted")
            # restart without the delay: everything readable, the rotation finishes
            s.extra_env = {}
            s.start()
            got = all_params(s.client(), "/rot")
            self.assertEqual(len(got), n + 1)
            for i in range(n):
                self.assertEqual(got["/rot/%04d" % i][0], "secret-%d" % i)
            s.client(access_key=akid, secret_key=secret).get_parameter(Name="/rot/0000", WithDecryption=True)
            deadline = time.time() + 20
            while os.path.exists(mk + ".next") and time.time() < deadline:
                time.sleep(0.05)
            self.assertFalse(os.path.exists(mk + ".next"), "the rotation was not finished after restart\n" +
                             s.log_tail())
            with open(mk) as f:
                self.assertNotEqual(f.read(), old_key, "master.key must hold the new key")
            # the old key is gone for good: a restart with only the new key reads everything
            s.restart(hard=True)
            got = all_params(s.client(), "/rot")
            self.assertEqual(got["/rot/0699"][0], "secret-699")
            s.client(access_key=akid, secret_key=secret).get_parameter(Name="/rot/0001", WithDecryption=True)
            # an online rotation through the CLI
            env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                       LEVER_ENDPOINT=s.endpoint)
            p = subprocess.run([os.path.join(build_dir(), "lever"), "admin", "rotate-master-key"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"%d parameters" % n, p.stdout)
            self.assertEqual(all_params(s.client(), "/rot")["/rot/0042"][0], "secret-42")
        finally:
            try:
                s.stop()
            except Exception:  # noqa: BLE001
                s.kill()
            s.cleanup()
