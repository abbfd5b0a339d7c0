"""lever-agent (docs/agent.md) against a real leverd: the Lambda extension's
GET API (body, errors, token, malformed queries), on-demand TTL caching and
the LRU bound, prefetched prefixes kept current by the watch, outages (stale
answers, catch-up), restarts from the disk copy while leverd is down, a
corrupt cache file refused, /healthz and /metrics, and the issue's shell
`curl` scenario."""
import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from lever_harness import (ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir, free_port)

TOKEN = "agent-test-session-token-0123456789"
GET = "/systemsmanager/parameters/get"


def agent_path():
    return os.path.join(build_dir(), "lever-agent")


class Agent:
    """One lever-agent process. Stop it with stop() (asserts a clean exit,
    which under LeakSanitizer also means no leak)."""

    def __init__(self, upstream, cache_dir=None, args=(), env=None, listen=True):
        self.upstream = upstream
        self.cache_dir = cache_dir
        self.args = list(args)
        self.env_extra = dict(env or {})
        self.listen = listen
        self.tmp = tempfile.mkdtemp(prefix="lever-agent-it-")
        self.log_path = os.path.join(self.tmp, "agent.log")
        self.proc = None
        self.port = None

    def command(self):
        cmd = [agent_path(), "--upstream", self.upstream]
        if self.listen:
            cmd += ["--listen", "127.0.0.1:%d" % self.port]
        if self.cache_dir:
            cmd += ["--cache-dir", self.cache_dir]
        return cmd + self.args

    def environ(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LEVER_", "AWS_", "PARAMETERS_SECRETS_", "SSM_PARAMETER"))}
        env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                    "AWS_SESSION_TOKEN": TOKEN, "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                    "HOME": self.tmp})
        env.update(self.env_extra)
        return env

    def start(self, wait=True):
        if self.port is None:
            self.port = free_port()
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, env=self.environ(), cwd=self.tmp)
        if not wait:
            return self
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("lever-agent exited with %s\n%s" % (self.proc.returncode, self.log()))
            try:
                st, _h, _b = self.raw("/healthz", timeout=2)
                if st == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("lever-agent did not become healthy\n" + self.log())

    def raw(self, path, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def get(self, name=None, token=TOKEN, query=None, **params):
        """GET the extension path; returns (status, headers, parsed JSON or None)."""
        if query is None:
            q = {}
            if name is not None:
                q["name"] = name
            for k, v in params.items():
                q[k] = str(v).lower() if isinstance(v, bool) else str(v)
            query = urllib.parse.urlencode(q)
        headers = {} if token is None else {"X-Aws-Parameters-Secrets-Token": token}
        st, h, body = self.raw(GET + "?" + query, headers)
        try:
            import json
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return st, h, parsed

    def metrics(self):
        st, _h, body = self.raw("/metrics")
        assert st == 200, st
        out = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return "---- lever-agent log ----\n%s\n---- end ----" % f.read().decode("utf-8", "replace")[-6000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("lever-agent ignored SIGTERM\n" + self.log())

    def kill(self):
        """SIGKILL: no chance to save or clean up (the exit status is not checked)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


class AgentTest(LeverTestCase):

    def setUp(self):
        super().setUp()
        self.agents = []
        self.dirs = []

    def tearDown(self):
        bad = []
        for a in self.agents:  # every agent is stopped, even after one misbehaved
            try:
                rc = a.stop()
                if rc not in (0, None):
                    bad.append("lever-agent exit status %s after SIGTERM\n%s" % (rc, a.log()))
            except RuntimeError as e:
                bad.append(str(e))
            finally:
                a.cleanup()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        super().tearDown()
        if bad:
            self.fail("\n".join(bad))

    def agent(self, *args, cache_dir=None, env=None, start=True, listen=True):
        a = Agent(self.server.endpoint, cache_dir=cache_dir, args=args, env=env, listen=listen)
        self.agents.append(a)
        return a.start() if start else a

    def stop_agent(self, a):
        rc = a.stop()
        self.assertEqual(rc, 0, "lever-agent did not stop cleanly\n" + a.log())

    def cache_dir(self):
        d = tempfile.mkdtemp(prefix="lever-agent-cache-")
        self.dirs.append(d)
        return d

    def wait_for(self, fn, timeout, what):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.02)
        self.fail("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))

    def value_of(self, a, name, **kw):
        st, h, p = a.get(name, **kw)
        return p["Parameter"]["Value"] if st == 200 else None

    # ------------------------------------------------------------------ API
    def test_on_demand_read_matches_get_parameter(self):
        name = self.n("db/url")
        self.put(name, "postgres://db")
        a = self.agent("--ttl", "300")
        st, h, p = a.get(name)
        self.assertEqual(st, 200, p)
        self.assertEqual(h.get("x-lever-cache"), "miss")
        self.assertEqual(p["ResultMetadata"], {})
        want = self.ssm.get_parameter(Name=name)["Parameter"]
        got = p["Parameter"]
        for k in ("Name", "Type", "Value", "Version", "ARN", "DataType"):
            self.assertEqual(got[k], want[k], k)
        self.assertAlmostEqual(got["LastModifiedDate"], want["LastModifiedDate"].timestamp(), places=3)
        st, h, p2 = a.get(name)
        self.assertEqual((st, h.get("x-lever-cache")), (200, "hit"))
        self.assertEqual(p2, p)
        self.assertNotIn("x-lever-stale", h)

    def test_versions_labels_and_secure_strings(self):
        name, sec = self.n("v"), self.n("secret")
        self.put(name, "one")
        self.put(name, "two", Overwrite=True)
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["stable"])
        self.put(sec, "s3cr3t", type_="SecureString")
        a = self.agent()
        self.assertEqual(self.value_of(a, name), "two")
        self.assertEqual(self.value_of(a, name, version=1), "one")
        self.assertEqual(self.value_of(a, name, label="stable"), "one")
        self.assertEqual(self.value_of(a, name + ":1"), "one")
        self.assertEqual(self.value_of(a, sec, withDecryption=True), "s3cr3t")
        enc = self.value_of(a, sec, withDecryption=False)
        self.assertIsNotNone(enc)
        self.assertNotEqual(enc, "s3cr3t")
        self.assertEqual(enc, self.ssm.get_parameter(Name=sec)["Parameter"]["Value"])

    def test_upstream_errors_passed_through(self):
        name = self.n("present")
        self.put(name, "x")
        a = self.agent()
        for params, code in (({"name": self.n("absent")}, "ParameterNotFound"),
                             ({"name": name, "version": 9}, "ParameterVersionNotFound"),
                             ({"name": name, "label": "nolabel"}, "ParameterVersionNotFound")):
            st, h, p = a.get(**params)
            self.assertEqual(st, 400, (params, p))
            self.assertEqual(p.get("__type", "").split("#")[-1], code, p)
            self.assertTrue(p.get("message"))
        # a deleted parameter stops being served once its TTL entry is revalidated
        b = self.agent("--ttl", "0")
        self.assertEqual(self.value_of(b, name), "x")
        self.ssm.delete_parameter(Name=name)
        st, _h, p = b.get(name)
        self.assertEqual((st, p["__type"]), (400, "ParameterNotFound"))

    def test_token_required(self):
        name = self.n("t")
        self.put(name, "v")
        a = self.agent(env={"LEVER_AGENT_TOKEN": "lever-own-token"})
        st, _h, p = a.get(name, token=None)
        self.assertEqual(st, 403, p)
        self.assertIn("missing", p["message"])
        for bad in ("wrong", TOKEN + "x", TOKEN[:-1], ""):
            st, _h, p = a.get(name, token=bad)
            self.assertEqual(st, 403, (bad, p))
        self.assertEqual(a.get(name, token=TOKEN)[0], 200)            # AWS_SESSION_TOKEN
        self.assertEqual(a.get(name, token="lever-own-token")[0], 200)  # LEVER_AGENT_TOKEN
        st, _h, _p = a.raw(GET + "?name=" + name, {"X-Aws-Parameters-Secrets-Token": TOKEN,
                                                   "X-Forwarded-For": "10.0.0.1"})
        self.assertEqual(st, 400)
        self.assertEqual(a.raw("/healthz")[0], 200)
        self.assertGreaterEqual(a.metrics()["lever_agent_refused_total"], 6)

    def test_malformed_queries_are_clear_400s(self):
        name = self.n("q")
        self.put(name, "v")
        a = self.agent()
        cases = {
            "": "name",
            "name=": "name",
            "name=%2Fx%zz": "percent",
            "name=%2": "percent",
            "name=/a%00b": "control",
            "name=/a&name=/b": "more than once",
            "name=/a&withDecryption=maybe": "withDecryption",
            "name=/a&withDecryption=true&withDecryption=false": "more than once",
            "name=/a&version=abc": "version",
            "name=/a&version=0": "version",
            "name=/a&version=-1": "version",
            "name=/a&version=1&label=prod": "not both",
            "name=/a:3&label=prod": "selector",
            "name=/a&Name=/b": "unknown",
            "name=/a&label=": "label",
            "name=" + "a" * 3000: "too long",
        }
        for q, word in cases.items():
            st, _h, p = a.get(query=q)
            self.assertEqual(st, 400, (q, p))
            self.assertEqual(p["__type"], "ValidationException", q)
            self.assertIn(word, p["message"], q)
        # the well-formed neighbours of those still work
        self.assertEqual(a.get(query="name=%s&withDecryption=TRUE&version=1" % urllib.parse.quote(name, safe=""))[0], 200)
        self.assertEqual(a.get(query="name=%s&&" % name)[0], 200)
        st, _h, p = a.raw(GET.replace("get", "nope"), {"X-Aws-Parameters-Secrets-Token": TOKEN})
        self.assertEqual(st, 404)

    def test_flags_env_and_loopback_guard(self):
        out = subprocess.run([agent_path(), "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(out.returncode, 0)
        for flag in (b"--upstream", b"--listen", b"--prefetch", b"--cache-dir", b"--ttl", b"--max-entries",
                     b"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", b"SSM_PARAMETER_STORE_TTL"):
            self.assertIn(flag, out.stdout)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LEVER_", "AWS_"))}
        env["AWS_SESSION_TOKEN"] = TOKEN
        for listen in ("0.0.0.0:%d" % free_port(), ":%d" % free_port(), "10.1.2.3:2773"):
            p = subprocess.run([agent_path(), "--listen", listen], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10)
            self.assertEqual(p.returncode, 2, listen)
            self.assertIn(b"loopback", p.stderr)
        env.pop("AWS_SESSION_TOKEN")
        p = subprocess.run([agent_path()], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"LEVER_AGENT_TOKEN", p.stderr)
        # the extension's own variables: port, TTL, cache size
        name = self.n("ext")
        self.put(name, "v")
        port = free_port()
        a = self.agent(listen=False, start=False,
                       env={"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(port), "SSM_PARAMETER_STORE_TTL": "1",
                            "PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE": "5",
                            "PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL": "DEBUG"})
        a.port = port
        a.start()
        self.assertEqual(a.get(name)[1]["x-lever-cache"], "miss")
        self.assertEqual(a.get(name)[1]["x-lever-cache"], "hit")
        time.sleep(1.1)
        self.assertEqual(a.get(name)[1]["x-lever-cache"], "miss")
        with allowed_remote(self) as port2:
            self.assertIsNotNone(port2)

    def test_lru_bound_and_ttl(self):
        names = [self.n("k%d" % i) for i in range(3)]
        for i, n in enumerate(names):
            self.put(n, "v%d" % i)
        a = self.agent("--max-entries", "2", "--ttl", "1h")
        for n in names:
            self.assertEqual(a.get(n)[1]["x-lever-cache"], "miss")
        m = a.metrics()
        self.assertEqual(m['lever_agent_cache_entries{kind="ondemand"}'], 2)
        self.assertEqual(m["lever_agent_cache_evictions_total"], 1)
        # the oldest went; the two most recent are still there
        self.assertEqual(a.get(names[2])[1]["x-lever-cache"], "hit")
        self.assertEqual(a.get(names[1])[1]["x-lever-cache"], "hit")
        self.assertEqual(a.get(names[0])[1]["x-lever-cache"], "miss")
        # names[0] came back as most recent, so names[2] (least recent) went
        self.assertEqual(a.get(names[1])[1]["x-lever-cache"], "hit")
        self.assertEqual(a.get(names[2])[1]["x-lever-cache"], "miss")
        # within an hour's TTL a change upstream is not seen (that is the TTL) ...
        self.put(names[2], "new", Overwrite=True)
        self.assertEqual(self.value_of(a, names[2]), "v2")

    # --------------------------------------------------------- prefetch/watch
    def test_prefetch_served_locally_and_changes_propagate_without_ttl(self):
        pf = self.n("pf")
        self.put(pf + "/a", "1")
        self.put(pf + "/deep/b", "2")
        self.put(pf + "/sec", "hush", type_="SecureString")
        a = self.agent("--prefetch", pf, "--ttl", "300")
        self.wait_for(lambda: a.metrics().get('lever_agent_watch_connected{prefix="%s"}' % pf) == 1, 10,
                      "the watch to connect")
        for name, want in ((pf + "/a", "1"), (pf + "/deep/b", "2")):
            st, h, p = a.get(name)
            self.assertEqual((st, h.get("x-lever-cache")), (200, "hit"), "prefetched names need no upstream call")
            self.assertEqual(p["Parameter"]["Value"], want)
        st, h, p = a.get(pf + "/sec", withDecryption=True)
        self.assertEqual((st, h["x-lever-cache"], p["Parameter"]["Value"]), (200, "hit", "hush"))
        # absence under a watched prefix is known locally too
        st, h, p = a.get(pf + "/none")
        self.assertEqual((st, p["__type"], h.get("x-lever-cache")), (400, "ParameterNotFound", "hit"))
        misses = a.metrics()["lever_agent_cache_misses_total"]

        # a change is visible in well under 2 s despite the 300 s TTL
        t0 = time.monotonic()
        self.put(pf + "/a", "changed", Overwrite=True)
        self.wait_for(lambda: self.value_of(a, pf + "/a") == "changed", 2.0, "the change to propagate")
        took = time.monotonic() - t0
        self.assertLess(took, 2.0)
        self.put(pf + "/new", "fresh")
        self.wait_for(lambda: self.value_of(a, pf + "/new") == "fresh", 2.0, "a new name to appear")
        self.ssm.delete_parameter(Name=pf + "/deep/b")
        self.wait_for(lambda: a.get(pf + "/deep/b")[0] == 400, 2.0, "a deleted name to disappear")
        self.assertEqual(a.metrics()["lever_agent_cache_misses_total"], misses)
        m = a.metrics()
        self.assertIn('lever_agent_watch_lag_seconds{prefix="%s"}' % pf, m)
        self.assertLess(m['lever_agent_watch_lag_seconds{prefix="%s"}' % pf], 2.0)
        self.assertEqual(m["lever_agent_oldest_entry_age_seconds"], 0)

    # -------------------------------------------------------------- outages
    def test_upstream_down_keeps_answering_stale_then_catches_up(self):
        pf, od = self.n("pf"), self.n("od")
        self.put(pf + "/a", "before")
        self.put(od, "ondemand")
        a = self.agent("--prefetch", pf, "--ttl", "1s", cache_dir=self.cache_dir())
        self.wait_for(lambda: self.value_of(a, pf + "/a") == "before", 10, "the prefetch")
        self.assertEqual(self.value_of(a, od), "ondemand")
        self.server.kill()
        # the prefetched name: answered, marked stale with its age
        st, h = self.wait_for(lambda: (lambda r: (r[0], r[1]) if "x-lever-stale" in r[1] else None)(a.get(pf + "/a")),
                              5, "the stale header")
        self.assertEqual(st, 200)
        self.assertRegex(h["x-lever-stale"], r"^age=\d+$")
        time.sleep(1.1)  # past the on-demand TTL: refresh fails, last good value served
        st, h, p = a.get(od)
        self.assertEqual((st, p["Parameter"]["Value"]), (200, "ondemand"))
        self.assertRegex(h.get("x-lever-stale", ""), r"^age=\d+$")
        st, _h, p = a.get(self.n("never-seen"))
        self.assertEqual(st, 503, p)
        m = a.metrics()
        self.assertGreater(m["lever_agent_upstream_errors_total"], 0)
        self.assertEqual(m["lever_agent_upstream_up"], 0)
        self.assertGreater(m["lever_agent_oldest_entry_age_seconds"], 0.5)
        st, _h, body = a.raw("/healthz")
        self.assertEqual(st, 200)
        self.assertIn(b'"upstream":"down"', body)

        self.server.start()  # same port, same data: the watch catches up
        self.put(pf + "/a", "after", Overwrite=True)
        self.wait_for(lambda: self.value_of(a, pf + "/a") == "after", 10, "the catch-up after the outage")
        st, h, _p = a.get(pf + "/a")
        self.assertNotIn("x-lever-stale", h)
        self.wait_for(lambda: "x-lever-stale" not in a.get(od)[1], 10, "on-demand answers to be fresh again")

    def test_restart_while_upstream_down_serves_disk_copy(self):
        d = self.cache_dir()
        pf, od = self.n("pf"), self.n("od")
        self.put(pf + "/a", "disk-a")
        self.put(pf + "/secret", "very-secret-value", type_="SecureString")
        self.put(od, "disk-od")
        a = self.agent("--prefetch", pf, cache_dir=d)
        self.wait_for(lambda: self.value_of(a, pf + "/a") == "disk-a", 10, "the prefetch")
        self.assertEqual(self.value_of(a, od), "disk-od")
        self.assertEqual(self.value_of(a, pf + "/secret", withDecryption=True), "very-secret-value")
        self.stop_agent(a)
        with open(os.path.join(d, "cache.v1"), "rb") as f:
            data = f.read()
        self.assertIn(b"disk-a", data)
        self.assertNotIn(b"very-secret-value", data, "SecureString values must be encrypted on disk")
        self.assertEqual(os.stat(os.path.join(d, "cache.key")).st_mode & 0o777, 0o600)

        # restarted with the server up: confirmed current at once, not after an idle long poll
        up = self.agent("--prefetch", pf, cache_dir=d)
        self.wait_for(lambda: "x-lever-stale" not in up.get(pf + "/a")[1], 2.0, "the disk copy to be confirmed")
        self.stop_agent(up)

        self.server.kill()
        b = self.agent("--prefetch", pf, cache_dir=d)
        # On-demand entries are marked stale once the agent has seen the
        # upstream fail (its watch's first attempt); on a loaded machine
        # that can come after the agent already answers /healthz.
        self.wait_for(lambda: b'"upstream":"down"' in b.raw("/healthz")[2], 10,
                      "the agent to notice the upstream is down")
        for name, want, kw in ((pf + "/a", "disk-a", {}), (od, "disk-od", {}),
                               (pf + "/secret", "very-secret-value", {"withDecryption": True})):
            st, h, p = b.get(name, **kw)
            self.assertEqual((st, p["Parameter"]["Value"]), (200, want), b.log())
            self.assertRegex(h.get("x-lever-stale", ""), r"^age=\d+$")
        # a crash (SIGKILL) loses nothing that was saved: the persister writes soon after a change
        self.server.start()
        self.put(od + "2", "after-crash")
        self.assertEqual(self.value_of(b, od + "2"), "after-crash")
        self.wait_for(lambda: b"after-crash" in open(os.path.join(d, "cache.v1"), "rb").read(), 5,
                      "the cache file to be rewritten")
        b.kill()
        self.server.kill()
        c = self.agent(cache_dir=d)
        self.assertEqual(self.value_of(c, od + "2"), "after-crash")

    def test_corrupt_cache_file_is_refused(self):
        d = self.cache_dir()
        name = self.n("c")
        self.put(name, "genuine-value")
        a = self.agent(cache_dir=d)
        self.assertEqual(self.value_of(a, name), "genuine-value")
        self.stop_agent(a)
        path = os.path.join(d, "cache.v1")
        with open(path, "rb") as f:
            data = f.read()
        self.assertIn(b"genuine-value", data)
        with open(path, "wb") as f:
            f.write(data.replace(b"genuine-value", b"tampered-value"))
        # upstream down: nothing from the altered file is served
        self.server.kill()
        b = self.agent(cache_dir=d)
        st, _h, p = b.get(name)
        self.assertEqual(st, 503, p)
        self.assertNotIn("tampered", str(p))
        self.assertEqual(b.metrics()["lever_agent_cache_file_rejected"], 1)
        self.assertRegex(b.log(), r"rejected: checksum mismatch")
        self.assertTrue(os.path.exists(path + ".corrupt"))
        self.stop_agent(b)
        # upstream back: a fresh fetch, the genuine value
        self.server.start()
        with open(path, "wb") as f:
            f.write(data[:len(data) // 2])  # truncated, this time
        c = self.agent(cache_dir=d)
        st, h, p = c.get(name)
        self.assertEqual((st, h["x-lever-cache"], p["Parameter"]["Value"]), (200, "miss", "genuine-value"))
        self.assertEqual(c.metrics()["lever_agent_cache_file_rejected"], 1)

    def test_metrics_and_healthz(self):
        name = self.n("m")
        self.put(name, "v")
        a = self.agent("--prefetch", self.n("pfx"))
        a.get(name)
        a.get(name)
        a.get(name, token="bad")
        m = a.metrics()
        for k in ("lever_agent_cache_hits_total", "lever_agent_cache_misses_total",
                  "lever_agent_upstream_errors_total", "lever_agent_oldest_entry_age_seconds",
                  'lever_agent_watch_lag_seconds{prefix="%s"}' % self.n("pfx")):
            self.assertIn(k, m)
        self.assertEqual(m["lever_agent_cache_hits_total"], 1)
        self.assertEqual(m["lever_agent_cache_misses_total"], 1)
        self.assertEqual(m["lever_agent_refused_total"], 1)
        st, h, body = a.raw("/healthz")
        self.assertEqual(st, 200)
        self.assertIn(b'"upstream":"up"', body)

    # ------------------------------------------------------------ done when
    def test_done_when_shell_curl_works_and_keeps_working_without_leverd(self):
        self.put("/x", "the-x-value", Overwrite=True)
        a = self.agent()
        script = ('curl -sf -H "X-Aws-Parameters-Secrets-Token: $AWS_SESSION_TOKEN" '
                  'localhost:%d/systemsmanager/parameters/get?name=/x' % a.port)
        env = dict(os.environ, AWS_SESSION_TOKEN=TOKEN)

        def run():
            p = subprocess.run(["/bin/sh", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=20)
            return p.returncode, p.stdout.decode()

        rc, out = run()
        self.assertEqual(rc, 0, out)
        self.assertIn('"Value":"the-x-value"', out)
        self.assertIn('"ResultMetadata":{}', out)
        self.server.stop()
        for _ in range(3):
            rc, out = run()
            self.assertEqual(rc, 0, out)
            self.assertIn('"Value":"the-x-value"', out)


class allowed_remote:
    """--allow-remote lets a wildcard --listen through (checked, then stopped)."""

    def __init__(self, test):
        self.test = test
        self.agent = None

    def __enter__(self):
        port = free_port()
        self.agent = Agent(self.test.server.endpoint, args=["--allow-remote"], listen=False)
        self.agent.args += ["--listen", "0.0.0.0:%d" % port]
        self.agent.port = port
        self.agent.start()
        return port

    def __exit__(self, *exc):
        rc = self.agent.stop()
        self.agent.cleanup()
        if exc[0] is None:
            self.test.assertEqual(rc, 0)
        return False


if __name__ == "__main__":
    unittest.main()
