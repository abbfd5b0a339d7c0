"""A throw-away PostgreSQL for lever's tests, from Debian's packages.

initdb in a temporary directory, run as an unprivileged user (the current
one, or `nobody` when the tests run as root, which PostgreSQL refuses),
listening on 127.0.0.1 only, on a free port, with durable settings
(fsync and synchronous_commit on) so crash tests mean something.

In Python tests:

    pg = PgServer().start()
    uri = pg.create_db("node_test")      # postgresql://lever@127.0.0.1:PORT/node_test
    pg.restart(); pg.crash(); pg.start()
    pg.cleanup()

For other programs (the C store tests under ctest):

    pg_harness.py run -- PROGRAM ARGS...

starts a server, runs PROGRAM with LEVER_TEST_PG_URI (a database of its
own) and LEVER_TEST_PG_CTL (a command: append stop, start, restart or
crash), stops the server and exits with PROGRAM's status. The control
command talks to this process over a Unix socket, so the server's
processes stay its children whatever is done to them.
"""

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

START_TIMEOUT = 30.0
SUPERUSER = "lever"


def pg_bindir():
    """The newest installed PostgreSQL server's bin directory."""
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not cands:
        raise RuntimeError("PostgreSQL server not installed (Debian package postgresql; scripts/deps.sh test)")
    return os.path.dirname(cands[-1])


def _die_with_parent():
    """In the server's child before exec (after the switch of user, which
    would clear it): SIGKILL when the harness dies, so a harness killed by
    a test timeout leaves no PostgreSQL behind."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class PgServer:
    """One PostgreSQL cluster in a temp dir; survives stop/crash/start on the same port.

    The server dies with the thread that started it (PR_SET_PDEATHSIG):
    call start() from a thread that lives as long as the server should."""

    def __init__(self):
        self.bindir = pg_bindir()
        self.tmp = tempfile.mkdtemp(prefix="lever-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "postgres.log")
        self.port = None
        self.proc = None
        self.lock = threading.Lock()
        if os.getuid() == 0:
            pw = pwd.getpwnam(os.environ.get("LEVER_TEST_PG_USER", "nobody"))
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            os.chown(self.tmp, self.uid, self.gid)
        else:
            self.uid = self.gid = None
        os.chmod(self.tmp, 0o700)

    # -- helpers -----------------------------------------------------------
    def _as_user(self):
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def _run(self, args, **kw):
        return subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              cwd=self.tmp, check=False, **self._as_user(), **kw)

    def uri(self, db="postgres"):
        return "postgresql://%s@127.0.0.1:%d/%s" % (SUPERUSER, self.port, db)

    def log_tail(self, n=60):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return "(no postgres log)"

    # -- lifecycle -----------------------------------------------------------
    def _initdb(self):
        r = self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", SUPERUSER, "--auth=trust",
                       "-E", "UTF8", "--no-locale", "--no-sync"])
        if r.returncode != 0:
            raise RuntimeError("initdb failed:\n" + r.stdout.decode("utf-8", "replace"))
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# lever test harness\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '%s'\n"
                    "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n"
                    "shared_buffers = 16MB\nmax_connections = 100\n"
                    "max_wal_size = 64MB\ncheckpoint_timeout = 30min\n"
                    "log_min_messages = warning\n" % self.tmp)

    def start(self):
        with self.lock:
            if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
                self._initdb()
            for attempt in range(3):
                if self.port is None or attempt > 0:
                    self.port = free_port()
                try:
                    self._spawn()
                    return self
                except RuntimeError:
                    self._reap()
                    if attempt == 2 or "in use" not in self.log_tail(10):
                        raise

    def _spawn(self):
        logf = open(self.log_path, "ab")
        logf.write(("\n==== start on port %d\n" % self.port).encode())
        logf.flush()
        fd = logf.fileno()
        if self.uid is not None:
            os.fchown(fd, self.uid, self.gid)
        self.proc = subprocess.Popen([os.path.join(self.bindir, "postgres"), "-D", self.data, "-p", str(self.port)],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                     cwd=self.tmp, start_new_session=True, preexec_fn=_die_with_parent,
                                     **self._as_user())
        logf.close()
        deadline = time.monotonic() + START_TIMEOUT
        pidfile = os.path.join(self.data, "postmaster.pid")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited with %s during start-up\n%s" % (self.proc.returncode,
                                                                                     self.log_tail()))
            try:
                with open(pidfile) as f:
                    lines = f.read().split("\n")
                if len(lines) > 7 and lines[0].strip() == str(self.proc.pid) and lines[7].strip() == "ready":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("postgres not ready within %.0fs\n%s" % (START_TIMEOUT, self.log_tail()))

    def _reap(self):
        if self.proc is not None:
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Fast shutdown (SIGINT): sessions are cut off, the cluster shuts down cleanly."""
        with self.lock:
            if self.alive():
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    self._kill_all()
            self._reap()

    def _children(self):
        kids = []
        for st in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(st) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid:
                    kids.append(int(st.split("/")[2]))
            except (OSError, IndexError, ValueError):
                pass
        return kids

    def _kill_all(self):
        kids = self._children()
        self.proc.send_signal(signal.SIGKILL)
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()
        # The backends' shared memory must be released before a restart.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(os.path.exists("/proc/%d/maps" % p) and _not_zombie(p)
                                                  for p in kids):
            time.sleep(0.02)

    def crash(self):
        """SIGKILL of the postmaster and every backend: nothing is flushed or shut down."""
        with self.lock:
            if self.alive():
                self._kill_all()

    def restart(self):
        self.stop()
        return self.start()

    def psql(self, sql, db="postgres"):
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.uri(db), "-c", sql], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, check=False)
        if r.returncode != 0:
            raise RuntimeError("psql %r failed: %s" % (sql, r.stdout.decode("utf-8", "replace")))
        return r.stdout.decode()

    def create_db(self, name):
        """A new, empty database; returns its URI."""
        self.psql('CREATE DATABASE "%s"' % name)
        return self.uri(name)

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _not_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- command line: run a program with a server, and control it -------------

def _serve_control(pg, path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                cmd = conn.recv(64).decode().strip()
                try:
                    if cmd in ("stop", "start", "restart", "crash"):
                        getattr(pg, cmd)()
                        conn.sendall(b"ok\n")
                    else:
                        conn.sendall(b"unknown command\n")
                except Exception as e:  # reported to the caller, who fails
                    conn.sendall(("error: %s\n" % e).encode())

    threading.Thread(target=loop, daemon=True).start()
    return srv


def _ctl(path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(cmd.encode())
    s.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    s.close()
    sys.stdout.write(answer.decode())
    return 0 if answer.strip() == b"ok" else 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "ctl":
        return _ctl(argv[1], argv[2])
    if len(argv) >= 2 and argv[0] == "run":
        prog = argv[2:] if argv[1] == "--" else argv[1:]
        pg = PgServer()
        srv = None
        ctl_dir = tempfile.mkdtemp(prefix="lever-pgctl-")
        try:
            pg.start()
            uri = pg.create_db("lever_test")
            ctl_path = os.path.join(ctl_dir, "ctl.sock")
            srv = _serve_control(pg, ctl_path)
            env = dict(os.environ)
            env["LEVER_TEST_PG_URI"] = uri
            env["LEVER_TEST_PG_CTL"] = "%s %s ctl %s" % (sys.executable, os.path.abspath(__file__), ctl_path)
            rc = subprocess.call(prog, env=env)
            if rc != 0:
                sys.stderr.write("---- postgres log (tail)\n%s\n" % pg.log_tail())
            return rc
        finally:
            if srv is not None:
                srv.close()
            pg.cleanup()
            shutil.rmtree(ctl_dir, ignore_errors=True)
    sys.stderr.write("usage: pg_harness.py run -- PROGRAM ARGS... | pg_harness.py ctl SOCKET stop|start|restart|crash\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
