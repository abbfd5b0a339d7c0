"""`lever exec PATH -- COMMAND` against a real leverd: the name mapping,
SecureStrings, precedence of existing variables, --override, collisions,
exit status passthrough, and --watch in restart and signal modes."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir

LEVER = os.path.join(build_dir(), "lever")
DEADLINE = 20.0


def wait_for(pred, what, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def lines(path):
    try:
        with open(path) as f:
            return [line.rstrip("\n") for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


class ExecTest(LeverTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        put = cls.ssm.put_parameter
        put(Name="/exec/app/db/url", Value="postgres://db.prod/app", Type="String")
        put(Name="/exec/app/feature-flags.enabled", Value="yes", Type="String")
        put(Name="/exec/app/api/key", Value="s3cr3t value", Type="SecureString")
        put(Name="/exec/app/list", Value="a,b,c", Type="StringList")
        put(Name="/exec/app/9lives", Value="x", Type="String")
        put(Name="/exec/other/not-mine", Value="x", Type="String")
        put(Name="/exec/clash/a-b", Value="1", Type="String")
        put(Name="/exec/clash/a.b", Value="2", Type="String")

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   LEVER_ENDPOINT=self.server.endpoint, HOME=self.server.tmp)
        env.update(extra)
        return env

    def run_exec(self, *args, env=None):
        p = subprocess.run([LEVER, "exec"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env or self.env(), timeout=60, text=True)
        return p.returncode, p.stdout, p.stderr

    def child_env(self, *args, env=None):
        rc, out, err = self.run_exec(*(list(args) + ["--", "/usr/bin/env", "-0"]), env=env)
        self.assertEqual(rc, 0, err)
        return dict(item.split("=", 1) for item in out.split("\0") if item), err

    def test_mapping_and_securestring(self):
        got, err = self.child_env("/exec/app")
        self.assertEqual(got["DB_URL"], "postgres://db.prod/app")
        self.assertEqual(got["FEATURE_FLAGS_ENABLED"], "yes")
        self.assertEqual(got["API_KEY"], "s3cr3t value")  # decrypted
        self.assertEqual(got["LIST"], "a,b,c")
        self.assertNotIn("NOT_MINE", got)                   # outside PATH
        self.assertNotIn("9LIVES", got)                     # not a valid name: skipped, with a warning
        self.assertIn("/exec/app/9lives", err)
        self.assertEqual(got["PATH"], os.environ["PATH"])   # lever's own environment is passed on
        # A trailing slash and a --prefix.
        got, _ = self.child_env("/exec/app/", "--prefix", "APP_")
        self.assertEqual(got["APP_DB_URL"], "postgres://db.prod/app")
        self.assertNotIn("DB_URL", got)
        # A deeper PATH: names are relative to it.
        got, _ = self.child_env("/exec/app/db")
        self.assertEqual(got["URL"], "postgres://db.prod/app")

    def test_existing_variables_win_unless_override(self):
        env = self.env(DB_URL="sqlite://local", UNRELATED="kept")
        got, _ = self.child_env("/exec/app", env=env)
        self.assertEqual(got["DB_URL"], "sqlite://local")
        self.assertEqual(got["API_KEY"], "s3cr3t value")
        got, _ = self.child_env("/exec/app", "--override", env=env)
        self.assertEqual(got["DB_URL"], "postgres://db.prod/app")
        self.assertEqual(got["UNRELATED"], "kept")
        self.assertEqual(list(got).count("DB_URL"), 1)

    def test_collision_is_an_error(self):
        rc, out, err = self.run_exec("/exec/clash", "--", "/usr/bin/env")
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertIn("/exec/clash/a-b", err)
        self.assertIn("/exec/clash/a.b", err)
        self.assertIn("A_B", err)

    def test_exit_status_and_usage(self):
        rc, _o, _e = self.run_exec("/exec/app", "--", "/bin/sh", "-c", 'test "$DB_URL" = postgres://db.prod/app && exit 7')
        self.assertEqual(rc, 7)
        rc, _o, err = self.run_exec("/exec/app", "--", "/nonexistent/program")
        self.assertEqual(rc, 127)
        self.assertIn("/nonexistent/program", err)
        rc, _o, err = self.run_exec("/exec/app")
        self.assertEqual(rc, 2)
        rc, _o, err = self.run_exec("/exec/app", "--signal", "HUP", "--", "true")
        self.assertEqual(rc, 2)
        self.assertIn("--watch", err)
        rc, _o, err = self.run_exec("/exec/app", "--watch", "--signal", "NOPE", "--", "true")
        self.assertEqual(rc, 2)
        rc, out, _e = self.run_exec("--help")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("usage: lever exec"), out)
        self.assertIn("--endpoint", out)
        # Unreachable server: exit 5, COMMAND never runs.
        rc, out, _e = self.run_exec("/exec/app", "--", "/bin/echo", "ran",
                                    env=self.env(LEVER_ENDPOINT="http://127.0.0.1:9"))
        self.assertEqual(rc, 5)
        self.assertEqual(out, "")

    def start_watch(self, path, script, *opts):
        d = tempfile.mkdtemp(dir=self.server.tmp)
        out = os.path.join(d, "out")
        log = open(os.path.join(d, "stderr"), "w")
        p = subprocess.Popen([LEVER, "exec", path, "--watch"] + list(opts) +
                             ["--", sys.executable, "-c", script, out],
                             stdout=subprocess.DEVNULL, stderr=log, env=self.env())
        log.close()
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p, out

    def test_watch_restarts_on_change(self):
        self.ssm.put_parameter(Name="/exec/w1/greeting", Value="hello", Type="String")
        script = ("import os, sys, time\n"
                  "open(sys.argv[1], 'a').write('%d %s\\n' % (os.getpid(), os.environ.get('GREETING')))\n"
                  "time.sleep(600)\n")
        p, out = self.start_watch("/exec/w1", script, "--grace", "5")
        first = wait_for(lambda: lines(out), "the first start")
        self.assertEqual(first[0].split(" ", 1)[1], "hello")
        pid1 = first[0].split()[0]

        # A put of the same value changes nothing the command sees; the next
        # real change restarts it once with the new value.
        self.ssm.put_parameter(Name="/exec/w1/greeting", Value="hello", Type="String", Overwrite=True)
        self.ssm.put_parameter(Name="/exec/w1/greeting", Value="bonjour", Type="String", Overwrite=True)
        got = wait_for(lambda: [l for l in lines(out) if l.endswith(" bonjour")], "a restart with the new value")
        self.assertNotEqual(got[0].split()[0], pid1)
        self.assertEqual(len(lines(out)), 2, lines(out))

        # A new parameter under PATH is a change too.
        self.ssm.put_parameter(Name="/exec/w1/extra", Value="1", Type="String")
        wait_for(lambda: len(lines(out)) == 3, "a restart for a new parameter")
        self.assertIsNone(p.poll())

        # SIGTERM is forwarded; lever exits with the child's status (killed
        # by SIGTERM: 128 + 15).
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=DEADLINE), 128 + signal.SIGTERM)

    def test_watch_signal_mode(self):
        self.ssm.put_parameter(Name="/exec/w2/level", Value="info", Type="String")
        script = ("import os, signal, sys, time\n"
                  "out = sys.argv[1]\n"
                  "def note(s):\n"
                  "    open(out, 'a').write(s + '\\n')\n"
                  "signal.signal(signal.SIGUSR1, lambda *a: note('USR1 %d' % os.getpid()))\n"
                  "signal.signal(signal.SIGINT, lambda *a: sys.exit(3))\n"
                  "note('start %d %s' % (os.getpid(), os.environ['LEVEL']))\n"
                  "while True:\n"
                  "    time.sleep(1)\n")
        p, out = self.start_watch("/exec/w2", script, "--signal", "SIGUSR1")
        start = wait_for(lambda: lines(out), "the start")[0]
        pid = start.split()[1]
        self.assertEqual(start.split()[2], "info")
        self.ssm.put_parameter(Name="/exec/w2/level", Value="debug", Type="String", Overwrite=True)
        got = wait_for(lambda: [l for l in lines(out) if l.startswith("USR1")], "the signal")
        self.assertEqual(got[0], "USR1 " + pid)  # the same process: no restart
        self.assertEqual(len([l for l in lines(out) if l.startswith("start")]), 1)
        # SIGINT is forwarded; the child's own exit status comes back.
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=DEADLINE), 3)

    def test_watch_child_exit_ends_supervision(self):
        p = subprocess.Popen([LEVER, "exec", "/exec/app", "--watch", "--", "/bin/sh", "-c", "exit 4"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env())
        self.assertEqual(p.wait(timeout=DEADLINE), 4)


if __name__ == "__main__":
    unittest.main()
