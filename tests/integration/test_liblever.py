"""liblever against a real leverd, through build/liblever_probe: typed getters and
their sources, env > store > default, TTL cache, prefetch paging, stale-if-error,
credential resolution, writes, and live mode (callbacks, restart, compaction)."""

import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, Leverd, build_dir, error_type

PROBE = os.path.join(build_dir(), "liblever_probe")


def base_env(creds=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
    env["HOME"] = tempfile.gettempdir()  # never the developer's ~/.aws
    if creds:
        env["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
        env["AWS_SECRET_ACCESS_KEY"] = SECRET_KEY
    return env


class Probe:
    """One liblever handle in a child process, driven line by line."""

    def __init__(self, server, *args, env=None, cwd=None, endpoint=True):
        argv = [PROBE]
        if endpoint:
            argv += ["--endpoint", server.endpoint]
        argv += list(args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env or base_env(), cwd=cwd,
                                     text=True, bufsize=1)
        self.lines = queue.Queue()
        self.changes = queue.Queue()
        self.logs = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.ready = self.next_line(10)

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            (self.changes if line.startswith("CHANGE ") else self.lines).put(line)
        self.lines.put(None)

    def _read_err(self):
        for line in self.proc.stderr:
            self.logs.append(line.rstrip("\n"))

    def next_line(self, timeout=20):
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise AssertionError("probe exited; log:\n" + "\n".join(self.logs[-30:]))
        return line

    def cmd(self, *args, timeout=20):
        self.proc.stdin.write("\t".join(str(a) for a in args) + "\n")
        self.proc.stdin.flush()
        return self.next_line(timeout)

    def get(self, typ, key, default="-"):
        """Returns (value, source) of a typed get."""
        line = self.cmd("get", typ, key, default)
        assert line.startswith("VALUE ["), line
        value, rest = line[len("VALUE ["):].split("] ", 1)
        return value, rest.split(" ")[0]

    def change(self, timeout):
        try:
            return self.changes.get(timeout=timeout)
        except queue.Empty:
            return None

    def live(self):
        _, connected, relists, reconnects = self.cmd("live").split(" ")
        return connected == "1", int(relists), int(reconnects)

    def close(self):
        clean = True
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                clean = False
                self.proc.kill()
                self.proc.wait()
        for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except OSError:
                pass
        # lever_close must join the live thread promptly and free everything
        # (a sanitizer build exits non-zero on a leak)
        if not clean or self.proc.returncode not in (0, 1):
            raise AssertionError("probe did not exit cleanly (status %s)\n%s"
                                 % (self.proc.returncode, "\n".join(self.logs[-40:])))


def wait_for(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


@unittest.skipUnless(os.path.exists(PROBE), "liblever_probe not built")
class GettersTest(LeverTestCase):
    def probe(self, *args, **kw):
        p = Probe(self.server, *args, **kw)
        self.addCleanup(p.close)
        self.assertTrue(p.ready.startswith("READY "), p.ready)
        return p

    def test_typed_getters_and_sources(self):
        ns = self.n()
        self.put(ns + "/orders/api/url", "http://orders:8080")
        self.put(ns + "/tuning/cache/BALANCE_TTL", "450")
        self.put(ns + "/tuning/ratio", "0.75")
        self.put(ns + "/features/USER_REGISTRATION_ENABLED", "TRUE")
        self.put(ns + "/timeouts/read", "1m30s")
        self.put(ns + "/hosts", "a.example, b.example,c.example", "StringList")
        self.put(ns + "/db/password", "s3cr3t", "SecureString")
        p = self.probe("--prefix", ns)
        self.assertEqual(p.get("string", "orders/api/url", "http://localhost"), ("http://orders:8080", "store"))
        # the first get listed the whole prefix: the rest comes from the cache
        self.assertEqual(p.get("int", "tuning/cache/BALANCE_TTL", "300"), ("450", "cache"))
        self.assertEqual(p.get("double", "tuning/ratio", "1"), ("0.75", "cache"))
        self.assertEqual(p.get("bool", "features/USER_REGISTRATION_ENABLED", "false"), ("true", "cache"))
        self.assertEqual(p.get("duration", "timeouts/read", "5000"), ("90000", "cache"))
        line = p.cmd("get", "list", "hosts", "")
        self.assertEqual(line, "VALUE [a.example|b.example|c.example] cache 3")
        self.assertEqual(p.get("string", "db/password"), ("s3cr3t", "cache"))  # decrypted
        # absent: the default, without an error (the listing vouches for it)
        self.assertEqual(p.get("int", "tuning/absent", "300"), ("300", "default"))
        self.assertEqual(p.cmd("err"), "LASTERR ok ")
        # a full name outside the prefix is fetched on its own
        other = self.ns + "x/elsewhere"  # a sibling path, not under the prefix
        self.put(other, "x")
        self.assertEqual(p.get("string", other), ("x", "store"))

    def test_bad_store_value_falls_back_to_default(self):
        ns = self.n()
        self.put(ns + "/n", "not-a-number")
        p = self.probe("--prefix", ns)
        self.assertEqual(p.get("int", "n", "7"), ("7", "default"))
        err = p.cmd("err")
        self.assertTrue(err.startswith("LASTERR parse error"), err)
        self.assertIn(ns + "/n", err)
        self.assertNotIn("not-a-number", err, "values (maybe secrets) must not appear in errors")

    def test_env_overrides_store_and_mapping(self):
        ns = self.n()
        self.put(ns + "/features/USER_REGISTRATION_ENABLED", "false")
        self.put(ns + "/orders/api/url", "http://store")
        env = base_env()
        env["USER_REGISTRATION_ENABLED"] = "yes"
        env["MYAPP_ORDERS_API_URL"] = "http://from-env"
        p = self.probe("--prefix", ns, env=env)
        self.assertEqual(p.get("bool", "features/USER_REGISTRATION_ENABLED", "false"), ("true", "env"))
        self.assertEqual(p.get("string", "orders/api/url"), ("http://store", "store"))
        self.assertEqual(p.cmd("envname", "orders/api/url"), "ENV URL")
        q = self.probe("--prefix", ns, "--env-scheme", "full", "--env-prefix", "MYAPP_", env=env)
        self.assertEqual(q.get("string", "orders/api/url"), ("http://from-env", "env"))
        self.assertEqual(q.cmd("envname", "features/USER_REGISTRATION_ENABLED"),
                         "ENV MYAPP_FEATURES_USER_REGISTRATION_ENABLED")
        r = self.probe("--prefix", ns, "--env-scheme", "none", env=env)
        self.assertEqual(r.get("bool", "features/USER_REGISTRATION_ENABLED", "true"), ("false", "store"))

    def test_ttl_cache_expiry(self):
        ns = self.n()
        self.put(ns + "/v", "one")
        p = self.probe("--prefix", ns, "--ttl", "600")
        self.assertEqual(p.get("string", "v"), ("one", "store"))
        self.ssm.put_parameter(Name=ns + "/v", Value="two", Overwrite=True)
        self.assertEqual(p.get("string", "v"), ("one", "cache"))  # within the TTL
        time.sleep(0.8)
        self.assertEqual(p.get("string", "v"), ("two", "store"))
        # a name created after the listing appears once the TTL runs out
        self.put(ns + "/late", "here")
        self.assertEqual(p.get("string", "late", "dflt"), ("dflt", "default"))
        time.sleep(0.8)
        self.assertEqual(p.get("string", "late", "dflt"), ("here", "store"))

    def test_ttl_zero_always_asks(self):
        ns = self.n()
        self.put(ns + "/v", "one")
        p = self.probe("--prefix", ns, "--ttl", "0")
        self.assertEqual(p.get("string", "v"), ("one", "store"))
        self.ssm.put_parameter(Name=ns + "/v", Value="two", Overwrite=True)
        self.assertEqual(p.get("string", "v"), ("two", "store"))
        self.ssm.delete_parameter(Name=ns + "/v")
        self.assertEqual(p.get("string", "v", "gone"), ("gone", "default"))
        self.assertEqual(p.cmd("err"), "LASTERR ok ")

    def test_prefetch_follows_paging(self):
        ns = self.n()
        for i in range(23):  # GetParametersByPath pages hold at most 10
            self.put("%s/k/%02d" % (ns, i), "v%d" % i)
        p = self.probe("--prefix", ns)
        self.assertEqual(p.cmd("prefetch"), "OK")
        for i in (0, 9, 10, 19, 22):
            self.assertEqual(p.get("string", "k/%02d" % i), ("v%d" % i, "cache"))
        line = p.cmd("list", ns, "r")
        self.assertTrue(line.startswith("LIST 23 "), line)
        rev = int(line.split(" ")[2])
        self.assertGreater(rev, 0, "x-lever-revision header missing from GetParametersByPath")

    def test_writes_history_labels_describe(self):
        ns = self.n()
        p = self.probe("--prefix", ns)
        self.assertEqual(p.cmd("putnew", ns + "/a", "1", "String", "first one"), "OK")
        self.assertTrue(p.cmd("putnew", ns + "/a", "1").startswith("ERR already exists"))
        self.assertEqual(p.cmd("put", ns + "/a", "2"), "OK 2")       # overwrite keeps the type
        self.assertEqual(p.cmd("put", ns + "/new", "n"), "OK 1")     # overwrite of a new name: String
        self.assertEqual(p.cmd("putnew", ns + "/s", "pw", "SecureString"), "OK")
        self.assertEqual(p.cmd("fetch", ns + "/s"), "PARAM %s/s SecureString 1 [pw]" % ns)
        self.assertEqual(p.cmd("label", ns + "/a", "1", "stable"), "OK")
        self.assertTrue(p.cmd("label", ns + "/a", "1", "1bad").startswith("ERR invalid"))
        self.assertEqual(p.cmd("history", ns + "/a"), "HISTORY 2 1=1+stable,2=2")
        self.assertEqual(p.cmd("fetch", ns + "/a:stable"), "PARAM %s/a String 1 [1]" % ns)
        self.assertEqual(p.cmd("unlabel", ns + "/a", "1", "stable"), "OK")
        self.assertTrue(p.cmd("unlabel", ns + "/a", "1", "stable").startswith("ERR invalid"))
        d = p.cmd("describe", ns)
        self.assertEqual(d, "DESCRIBE 3 %s/a:String:first one,%s/new:String:,%s/s:SecureString:" % (ns, ns, ns))
        # the handle's own writes are visible to its getters at once
        self.assertEqual(p.get("string", "a"), ("2", "store"))
        self.assertEqual(p.cmd("put", ns + "/a", "3"), "OK 3")
        self.assertEqual(p.get("string", "a"), ("3", "store"))
        self.assertEqual(p.cmd("delete", ns + "/a"), "OK")
        self.assertTrue(p.cmd("delete", ns + "/a").startswith("ERR not found"))
        self.assertTrue(p.cmd("fetch", ns + "/a").startswith("ERR not found"))
        self.assertEqual(p.get("string", "a", "dflt"), ("dflt", "default"))

    def test_credentials_resolution(self):
        ns = self.n()
        self.put(ns + "/v", "ok")
        tmp = tempfile.mkdtemp(prefix="lever-creds-")
        self.addCleanup(shutil.rmtree, tmp, True)
        shared = os.path.join(tmp, "shared")
        with open(shared, "w") as f:
            f.write("[default]\naws_access_key_id = WRONGKEY\naws_secret_access_key = nope\n"
                    "[lever]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (ACCESS_KEY, SECRET_KEY))
        env = base_env(creds=False)
        env["AWS_SHARED_CREDENTIALS_FILE"] = shared
        # the default profile holds an unknown key: an auth error, the default value
        p = self.probe("--prefix", ns, env=env)
        self.assertEqual(p.get("string", "v", "d"), ("d", "default"))
        err = p.cmd("err")
        self.assertTrue(err.startswith("LASTERR authentication failed"), err)
        self.assertIn("UnrecognizedClient", err)
        # AWS_PROFILE picks the right one
        env2 = dict(env, AWS_PROFILE="lever")
        self.assertEqual(self.probe("--prefix", ns, env=env2).get("string", "v"), ("ok", "store"))
        # --profile (explicit) too, and it beats environment keys
        env3 = dict(env, AWS_ACCESS_KEY_ID="ENVWRONG", AWS_SECRET_ACCESS_KEY="x")
        self.assertEqual(self.probe("--prefix", ns, "--profile", "lever", env=env3).get("string", "v"),
                         ("ok", "store"))
        # environment keys beat the file's default profile
        env4 = dict(env, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        self.assertEqual(self.probe("--prefix", ns, env=env4).get("string", "v"), ("ok", "store"))
        # explicit keys beat everything
        self.assertEqual(self.probe("--prefix", ns, "--creds", "%s:%s" % (ACCESS_KEY, SECRET_KEY), env=env3)
                         .get("string", "v"), ("ok", "store"))
        # ./lever-data/credentials, the file `make run` leaves behind
        os.makedirs(os.path.join(tmp, "cwd", "lever-data"))
        with open(os.path.join(tmp, "cwd", "lever-data", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n" % (ACCESS_KEY, SECRET_KEY))
        env5 = base_env(creds=False)
        env5["HOME"] = tmp
        self.assertEqual(self.probe("--prefix", ns, env=env5, cwd=os.path.join(tmp, "cwd")).get("string", "v"),
                         ("ok", "store"))
        # nothing anywhere: open fails and says why
        q = Probe(self.server, env=env5, cwd=tmp)
        self.addCleanup(q.close)
        self.assertTrue(q.ready.startswith("OPENFAIL authentication failed"), q.ready)
        # LEVER_ENDPOINT is used when there is no --endpoint
        env6 = dict(env4, LEVER_ENDPOINT=self.server.endpoint)
        r = self.probe("--prefix", ns, env=env6, endpoint=False)
        self.assertIn(self.server.endpoint, r.ready)
        self.assertEqual(r.get("string", "v"), ("ok", "store"))

    def test_region_is_signed(self):
        ns = self.n()
        self.put(ns + "/v", "east")
        env = dict(base_env(), AWS_REGION="eu-west-1")
        p = self.probe("--prefix", ns, env=env)
        self.assertIn(" eu-west-1 ", p.ready)
        # parameters are per region: the us-east-1 value is not visible there
        self.assertEqual(p.get("string", "v", "none"), ("none", "default"))
        self.put(ns + "/v", "west", client=self.server.client(region="eu-west-1"))
        self.assertEqual(p.cmd("fetch", ns + "/v"), "PARAM %s/v String 1 [west]" % ns)


@unittest.skipUnless(os.path.exists(PROBE), "liblever_probe not built")
class StaleIfErrorTest(LeverTestCase):
    def test_server_down_serves_stale_then_recovers(self):
        ns = self.n()
        self.put(ns + "/v", "good")
        p = Probe(self.server, "--prefix", ns, "--ttl", "300")
        self.addCleanup(p.close)
        self.assertEqual(p.get("string", "v"), ("good", "store"))
        other = self.n("outside")
        self.server.stop()
        time.sleep(0.5)
        self.assertEqual(p.get("string", "v", "dflt"), ("good", "cache-stale"))
        err = p.cmd("err")
        self.assertTrue(err.startswith("LASTERR server unreachable"), err)
        # never seen and unreachable: the default, and the error says why
        self.assertEqual(p.cmd("clearerr"), "OK")
        self.assertEqual(p.get("string", other, "dflt"), ("dflt", "default"))
        self.assertTrue(p.cmd("err").startswith("LASTERR server unreachable"))
        self.server.restart()
        self.ssm = self.server.client()
        self.ssm.put_parameter(Name=ns + "/v", Value="better", Overwrite=True)
        time.sleep(1.2)  # past the retry back-off
        self.assertEqual(p.get("string", "v"), ("better", "store"))


def watch_supported(server):
    st, _h, body, _raw = server.call_raw("Lever.WatchParameters",
                                         {"Path": "/", "SinceRevision": 0, "WaitSeconds": 0})
    return not (st == 400 and error_type(body) == "UnknownOperationException")


@unittest.skipUnless(os.path.exists(PROBE), "liblever_probe not built")
class LiveTest(LeverTestCase):
    def setUp(self):
        super().setUp()
        if not watch_supported(self.server):
            self.skipTest("leverd answers UnknownOperationException for Lever.WatchParameters: "
                          "live mode cannot be tested against this server")

    def live_probe(self, ns, *extra):
        p = Probe(self.server, "--prefix", ns, "--live", "--wait", "5", *extra)
        self.addCleanup(p.close)
        self.assertTrue(p.ready.startswith("READY"), p.ready)
        self.assertTrue(wait_for(lambda: p.live()[0], 10), "live watch never connected\n" + "\n".join(p.logs))
        return p

    def test_put_and_delete_reach_callbacks(self):
        ns = self.n()
        self.put(ns + "/features/X", "off")
        p = self.live_probe(ns)
        self.assertEqual(p.cmd("subscribe", "all"), "SUB 1")
        self.assertEqual(p.cmd("subscribe", "onlyx", "features/X"), "SUB 2")
        self.assertEqual(p.get("string", "features/X"), ("off", "cache"))
        t0 = time.monotonic()
        self.ssm.put_parameter(Name=ns + "/features/X", Value="on", Overwrite=True)
        got = {p.change(10), p.change(10)}
        # the callback can read the new value back from the cache already
        self.assertEqual(got, {"CHANGE all features/X %s/features/X on on" % ns,
                               "CHANGE onlyx features/X %s/features/X on on" % ns},
                         "\n".join(p.logs))
        latency = time.monotonic() - t0
        self.assertEqual(p.get("string", "features/X"), ("on", "cache"))
        # a name the key subscription does not cover only reaches "all"
        self.put(ns + "/other", "1")
        self.assertEqual(p.change(10), "CHANGE all other %s/other 1 1" % ns)
        self.assertIsNone(p.change(0.3))
        self.ssm.delete_parameter(Name=ns + "/features/X")
        got = {p.change(10), p.change(10)}
        self.assertEqual(got, {"CHANGE all features/X %s/features/X <deleted> <none>" % ns,
                               "CHANGE onlyx features/X %s/features/X <deleted> <none>" % ns})
        self.assertEqual(p.get("string", "features/X", "dflt"), ("dflt", "default"))
        # unsubscribed callbacks stay quiet
        self.assertEqual(p.cmd("unsubscribe", "1"), "OK")
        self.put(ns + "/features/X", "again")
        self.assertEqual(p.change(10), "CHANGE onlyx features/X %s/features/X again again" % ns)
        self.assertIsNone(p.change(0.3))
        # names outside the prefix are not watched
        self.put(self.n() + "x/outside", "1")
        self.assertIsNone(p.change(0.5))
        print("\n  live propagation (put acknowledged -> callback): %.1f ms" % (latency * 1000))

    def test_survives_server_restart(self):
        ns = self.n()
        self.put(ns + "/v", "1")
        p = self.live_probe(ns)
        p.cmd("subscribe", "all")
        self.server.restart()
        self.ssm = self.server.client()
        self.assertTrue(wait_for(lambda: p.live()[0], 20), "no reconnect after restart\n" + "\n".join(p.logs))
        self.assertGreaterEqual(p.live()[2], 1, "the restart should count as a reconnect")
        self.ssm.put_parameter(Name=ns + "/v", Value="2", Overwrite=True)
        self.assertEqual(p.change(15), "CHANGE all v %s/v 2 2" % ns, "\n".join(p.logs[-20:]))

    def test_unreachable_at_start_then_connects(self):
        ns = self.n()
        self.put(ns + "/v", "1")
        self.server.stop()
        p = Probe(self.server, "--prefix", ns, "--live", "--wait", "5")
        self.addCleanup(p.close)
        self.assertTrue(p.ready.startswith("READY"), p.ready)  # open never needs the server
        self.assertEqual(p.get("string", "v", "dflt"), ("dflt", "default"))
        self.assertFalse(p.live()[0])
        self.server.restart()
        self.ssm = self.server.client()
        self.assertTrue(wait_for(lambda: p.live()[0], 40), "\n".join(p.logs[-20:]))
        self.assertEqual(p.get("string", "v", "dflt"), ("1", "cache"))


@unittest.skipUnless(os.path.exists(PROBE), "liblever_probe not built")
class CompactionTest(LeverTestCase):
    # A tiny change log so that a paused client falls behind it.
    LEVERD_KW = {"extra_env": {"LEVER_CHANGELOG_SIZE": "4"}}

    def test_compaction_forces_relist(self):
        if not watch_supported(self.server):
            self.skipTest("leverd answers UnknownOperationException for Lever.WatchParameters")
        ns = self.n()
        for i in range(6):
            self.put("%s/pre%d" % (ns, i), "x")
        st, _h, body, _ = self.server.call_raw("Lever.WatchParameters",
                                               {"Path": "/", "SinceRevision": 0, "WaitSeconds": 0})
        if error_type(body) != "RevisionCompactedException":
            self.skipTest("leverd does not honour LEVER_CHANGELOG_SIZE (needed to force a compaction)")
        self.put(ns + "/v", "1")
        p = Probe(self.server, "--prefix", ns, "--live", "--wait", "5")
        self.addCleanup(p.close)
        self.assertTrue(wait_for(lambda: p.live()[0], 10), "\n".join(p.logs))
        p.cmd("subscribe", "all")
        relists_before = p.live()[1]
        # freeze the client, change more than the log holds, thaw it
        p.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(8):
                self.ssm.put_parameter(Name=ns + "/v", Value=str(i + 2), Overwrite=True)
            self.put(ns + "/added", "new")
        finally:
            p.proc.send_signal(signal.SIGCONT)
        seen = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "CHANGE all added %s/added new new" % ns not in seen:
            c = p.change(1)
            if c:
                seen.append(c)
        self.assertIn("CHANGE all added %s/added new new" % ns, seen, "\n".join(p.logs[-20:]))
        self.assertIn("CHANGE all v %s/v 9 9" % ns, seen)
        self.assertGreater(p.live()[1], relists_before, "no re-list after the compaction")
        # the probe's log lines arrive on their own stream, possibly after its changes
        self.assertTrue(wait_for(lambda: any("compacted" in l for l in p.logs), 10), "\n".join(p.logs[-20:]))
        self.assertEqual(p.get("string", "v"), ("9", "cache"))


@unittest.skipUnless(os.path.exists(os.path.join(build_dir(), "lever.pc")), "lever.pc not generated")
class DocsExampleTest(LeverTestCase):
    """The twenty-line program of docs/client.md, built with pkg-config, works."""

    def test_docs_program_builds_and_reacts_live(self):
        doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "client.md")).read()
        src = doc.split("```c\n", 1)[1].split("```", 1)[0]
        d = tempfile.mkdtemp(dir=self.server.tmp)
        with open(os.path.join(d, "flags.c"), "w") as f:
            f.write(src)
        env = dict(os.environ, PKG_CONFIG_PATH=build_dir())
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "lever"], env=env, check=True,
                               stdout=subprocess.PIPE, text=True).stdout.split()
        try:  # a sanitizer build's liblever.so needs the sanitizer runtimes in the program too
            with open(os.path.join(build_dir(), "CMakeCache.txt")) as f:
                if "LEVER_SANITIZE:BOOL=ON" in f.read():
                    flags = ["-fsanitize=address,undefined"] + flags
        except OSError:
            pass
        cc = subprocess.run(["cc", "-std=c17", "-Wall", "-Wextra", "-Werror", "flags.c"] + flags + ["-o", "flags"],
                            cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(cc.returncode, 0, cc.stdout)
        self.put("/myapp/prod/orders/api/url", "http://orders.prod")
        self.put("/myapp/prod/tuning/cache/BALANCE_TTL", "120")
        penv = dict(base_env(), LEVER_ENDPOINT=self.server.endpoint, USER_REGISTRATION_ENABLED="yes")
        p = subprocess.Popen([os.path.join(d, "flags")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=penv, text=True)
        try:
            # Live mode lists the prefix in the background from lever_open on:
            # the first read comes from the store or, if that list won, the cache.
            self.assertIn(p.stdout.readline(), ("url=http://orders.prod (store)\n",
                                                "url=http://orders.prod (cache)\n"))
            self.assertEqual(p.stdout.readline(), "registration=1 ttl=120\n")
            if not watch_supported(self.server):
                self.skipTest("leverd answers UnknownOperationException for Lever.WatchParameters")
            # the subscription is made after the reads: give it a moment, then change a value
            time.sleep(0.5)
            self.ssm.put_parameter(Name="/myapp/prod/orders/api/url", Value="http://v2", Overwrite=True)
            lines = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                line = p.stdout.readline()
                if not line:
                    break
                lines.append(line)
                if line.startswith("changed: orders/api/url"):
                    break
            self.assertIn("changed: orders/api/url = http://v2\n", lines)
        finally:
            p.kill()
            p.wait()
            p.stdout.close()
            p.stderr.close()


if __name__ == "__main__":
    unittest.main()
