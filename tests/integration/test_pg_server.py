"""leverd on PostgreSQL (--store postgres://...), one node, end to end with
boto3: puts and gets survive SIGTERM and SIGKILL restarts, the data lives in
the database (nothing in the data directory's SQLite), a PostgreSQL restart
needs no leverd restart, and a backup taken from PostgreSQL restores into
an SQLite data directory."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import botocore.exceptions

from lever_harness import ACCESS_KEY, SECRET_KEY, Leverd, admin_call, build_dir
from pg_harness import PgServer


class PgServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def setUp(self):
        self.servers = []
        self.tmp = tempfile.mkdtemp(prefix="lever-pgit-")
        self.uri = self.pg.create_db(self.id().rsplit(".", 1)[-1].lower())

    def tearDown(self):
        for s in self.servers:
            try:
                s.stop()
            except Exception:  # noqa: BLE001
                s.kill()
            s.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, uri=None, **kw):
        s = Leverd(extra_args=["--store", uri or self.uri], **kw)
        self.servers.append(s)
        return s.start()

    def test_put_get_restart(self):
        s = self.start()
        c = s.client()
        c.put_parameter(Name="/pg/plain", Value="one", Type="String")
        c.put_parameter(Name="/pg/plain", Value="two", Type="String", Overwrite=True)
        c.put_parameter(Name="/pg/secret", Value="s3cr3t-value", Type="SecureString")
        c.put_parameter(Name="/pg/list", Value="a,b", Type="StringList")
        c.label_parameter_version(Name="/pg/plain", ParameterVersion=1, Labels=["first"])
        self.assertEqual(c.get_parameter(Name="/pg/plain")["Parameter"]["Value"], "two")
        # The store is the database: no SQLite file in the data directory,
        # the records (SecureStrings sealed) in lever_kv.
        self.assertFalse(os.path.exists(os.path.join(s.data_dir, "lever.db")))
        db = self.uri.rsplit("/", 1)[1]
        self.assertGreater(int(self.pg.psql("SELECT count(*) FROM lever_kv", db)), 4)
        self.assertEqual(self.pg.psql("SELECT version FROM lever_schema", db).strip(), "1")
        self.assertEqual(self.pg.psql("SELECT count(*) FROM lever_kv WHERE position('s3cr3t-value'::bytea in v) > 0",
                                      db).strip(), "0")

        s.restart()
        c = s.client()
        self.assertEqual(c.get_parameter(Name="/pg/plain")["Parameter"]["Value"], "two")
        self.assertEqual(c.get_parameter(Name="/pg/plain:first")["Parameter"]["Value"], "one")
        self.assertEqual(c.get_parameter(Name="/pg/secret", WithDecryption=True)["Parameter"]["Value"],
                         "s3cr3t-value")
        hist = c.get_parameter_history(Name="/pg/plain")["Parameters"]
        self.assertEqual([h["Version"] for h in hist], [1, 2])
        names = sorted(p["Name"] for p in c.get_parameters_by_path(Path="/pg")["Parameters"])
        self.assertEqual(names, ["/pg/list", "/pg/plain", "/pg/secret"])
        c.delete_parameter(Name="/pg/list")
        s.restart()
        with self.assertRaises(botocore.exceptions.ClientError):
            s.client().get_parameter(Name="/pg/list")

    def test_sigkill_under_writes_loses_nothing_acknowledged(self):
        s = self.start()
        acked, stop = {}, threading.Event()

        def writer(tid):
            w = s.client()
            i = 0
            while not stop.is_set():
                name = "/kill/%d/%05d" % (tid, i)
                try:
                    w.put_parameter(Name=name, Value="v%d" % i, Type="String")
                except Exception:  # noqa: BLE001 - the kill cuts requests off
                    return
                acked[name] = "v%d" % i
                i += 1

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acked) < 150 and time.monotonic() < deadline:
            time.sleep(0.02)
        s.kill()
        stop.set()
        for t in threads:
            t.join()
        self.assertGreaterEqual(len(acked), 150)
        s.restart()
        c = s.client()
        for name, value in sorted(acked.items()):
            self.assertEqual(c.get_parameter(Name=name)["Parameter"]["Value"], value, name)

    def test_postgres_restart_and_outage(self):
        s = self.start()
        c = s.client()
        c.put_parameter(Name="/out/a", Value="1", Type="String")
        # A restart while leverd's connections sit idle: the next write
        # reconnects by itself.
        self.pg.restart()
        c.put_parameter(Name="/out/b", Value="2", Type="String")
        # Down: writes fail, reads are served from memory.
        self.pg.stop()
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            c.put_parameter(Name="/out/c", Value="3", Type="String")
        self.assertIn("postgres", str(cm.exception))
        self.assertEqual(c.get_parameter(Name="/out/a")["Parameter"]["Value"], "1")
        self.pg.start()
        c.put_parameter(Name="/out/c", Value="3", Type="String")
        s.restart()
        got = {p["Name"]: p["Value"] for p in s.client().get_parameters_by_path(Path="/out")["Parameters"]}
        self.assertEqual(got, {"/out/a": "1", "/out/b": "2", "/out/c": "3"})

    def test_unreachable_at_start_is_a_clear_error(self):
        data = os.path.join(self.tmp, "d")
        p = subprocess.run([os.path.join(build_dir(), "leverd"), "--data", data, "--listen", "127.0.0.1:0",
                            "--store", "postgresql://lever:hunter2@127.0.0.1:1/nope"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                           env=dict(os.environ, LEVER_ROOT_ACCESS_KEY_ID=ACCESS_KEY,
                                    LEVER_ROOT_SECRET_ACCESS_KEY=SECRET_KEY))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"cannot connect", p.stderr)
        self.assertNotIn(b"hunter2", p.stderr, "the password never reaches the log")

    def test_backup_restores_into_sqlite(self):
        s = self.start()
        c = s.client()
        for i in range(30):
            c.put_parameter(Name="/bk/%02d" % i, Value="v%d" % i, Type="String")
        c.put_parameter(Name="/bk/secret", Value="sealed", Type="SecureString")
        path = os.path.join(self.tmp, "pg-backup.db")
        st, body = admin_call(s, "CreateBackup", {"Path": path})
        self.assertEqual(st, 200, body)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        dst_dir = os.path.join(self.tmp, "restored")
        os.makedirs(dst_dir)
        shutil.copy(os.path.join(s.data_dir, "master.key"), os.path.join(dst_dir, "master.key"))
        dst = Leverd(data_dir=dst_dir, extra_args=["--restore", path])
        self.servers.append(dst)
        dst.start()
        dc = dst.client()
        got = {p["Name"]: p["Value"] for p in
               dc.get_parameters_by_path(Path="/bk", WithDecryption=True, MaxResults=10)["Parameters"]}
        self.assertEqual(len(got), 10)
        for i in range(30):
            self.assertEqual(dc.get_parameter(Name="/bk/%02d" % i)["Parameter"]["Value"], "v%d" % i)
        self.assertEqual(dc.get_parameter(Name="/bk/secret", WithDecryption=True)["Parameter"]["Value"], "sealed")

    def test_restore_into_postgres(self):
        s = self.start()
        c = s.client()
        for i in range(20):
            c.put_parameter(Name="/rs/%02d" % i, Value="v%d" % i, Type="String")
        c.put_parameter(Name="/rs/secret", Value="sealed-value", Type="SecureString")
        path = os.path.join(self.tmp, "backup.db")
        st, body = admin_call(s, "CreateBackup", {"Path": path})
        self.assertEqual(st, 200, body)
        s.stop()
        target = self.pg.create_db("restore_target")
        dst_dir = os.path.join(self.tmp, "node2")
        os.makedirs(dst_dir)
        shutil.copy(os.path.join(s.data_dir, "master.key"), os.path.join(dst_dir, "master.key"))
        dst = Leverd(data_dir=dst_dir, extra_args=["--store", target, "--restore", path])
        self.servers.append(dst)
        dst.start()
        dc = dst.client()
        for i in range(20):
            self.assertEqual(dc.get_parameter(Name="/rs/%02d" % i)["Parameter"]["Value"], "v%d" % i)
        self.assertEqual(dc.get_parameter(Name="/rs/secret", WithDecryption=True)["Parameter"]["Value"],
                         "sealed-value")
        self.assertEqual(os.listdir(dst_dir).count("restore.db.restore"), 0, "the temporary copy is gone")
        dst.stop()
        # A database with data is never overwritten.
        p = subprocess.run([os.path.join(build_dir(), "leverd"), "--data", dst_dir, "--listen", "127.0.0.1:0",
                            "--store", target, "--restore", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                           env=dict(os.environ, LEVER_ROOT_ACCESS_KEY_ID=ACCESS_KEY,
                                    LEVER_ROOT_SECRET_ACCESS_KEY=SECRET_KEY))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"not empty", p.stderr)


if __name__ == "__main__":
    unittest.main()
