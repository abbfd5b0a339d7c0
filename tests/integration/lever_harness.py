"""Shared harness for lever's integration tests: starts a real leverd on a free
loopback port with a temp data dir and hands out boto3 / aws-cli / raw-HTTP clients.

Run with Debian's /usr/bin/python3 and python3-boto3, plain unittest.
"""

import base64
import configparser
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
import unittest
from unittest import mock

import boto3
import botocore
import botocore.auth
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.awsrequest import AWSRequest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

ACCESS_KEY = "AKIALEVERTEST0000001"
SECRET_KEY = "leverTestSecretKey/0123456789abcdefghijkl"
REGION = "us-east-1"
ACCOUNT = "000000000000"
AWS_CLI = "/usr/bin/aws"
CONTENT_TYPE = "application/x-amz-json-1.1"
START_TIMEOUT = 20.0


def build_dir():
    return os.environ.get("LEVER_BUILD_DIR") or os.path.join(REPO, "build")


def leverd_path():
    return os.path.join(build_dir(), "leverd")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def arn_for(name, region=REGION, account=ACCOUNT):
    return "arn:aws:ssm:%s:%s:parameter/%s" % (region, account, name[1:] if name.startswith("/") else name)


def error_code(exc):
    return exc.response.get("Error", {}).get("Code")


def http_status(exc):
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


class Leverd:
    """One leverd process on a data dir. Survives stop/kill/restart on the same dir."""

    def __init__(self, data_dir=None, with_root_env=True, extra_args=(), extra_env=None, tls_ca=None):
        if not os.path.exists(leverd_path()):
            raise RuntimeError("leverd binary not found at %s (set LEVER_BUILD_DIR or build it)" % leverd_path())
        self.own_tmp = data_dir is None
        self.tmp = tempfile.mkdtemp(prefix="lever-it-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.with_root_env = with_root_env
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.tls_ca = tls_ca  # serving HTTPS: the CA file that verifies its certificate
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.tmp, "leverd.log")
        self.log_reported = 0
        self.starts = 0
        self.stopped_on_purpose = False

    # -- lifecycle ---------------------------------------------------------
    @property
    def endpoint(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls_ca else "http", self.port)

    def start(self):
        last_err = None
        for _attempt in range(3):
            if self.port is None or _attempt > 0:
                self.port = free_port()
            try:
                self._spawn()
                return self
            except RuntimeError as e:
                last_err = e
                self._reap()
                # only a port stolen between probe and bind is worth another try
                if "in use" not in str(e).lower():
                    break
        raise last_err

    def _spawn(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEVER_")}
        env.pop("AWS_ACCESS_KEY_ID", None)
        env.pop("AWS_SECRET_ACCESS_KEY", None)
        if self.with_root_env:
            env["LEVER_ROOT_ACCESS_KEY_ID"] = ACCESS_KEY
            env["LEVER_ROOT_SECRET_ACCESS_KEY"] = SECRET_KEY
        env.update(self.extra_env)
        args = [leverd_path(), "--data", self.data_dir, "--listen", "127.0.0.1:%d" % self.port] + self.extra_args
        logf = open(self.log_path, "ab")
        logf.write(("\n==== start #%d: %s\n" % (self.starts + 1, " ".join(args))).encode())
        logf.flush()
        self.stopped_on_purpose = False
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                     env=env, cwd=self.tmp)
        logf.close()
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("leverd exited with %s during start-up\n%s" % (self.proc.returncode, self.log_tail()))
            try:
                st, _h, _b = self.raw("GET", "/healthz", timeout=2)
                if st == 200:
                    # make sure it is our process answering, not another one on a recycled port
                    time.sleep(0.05)
                    if self.proc.poll() is None:
                        return
                    continue
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("leverd did not answer 200 on /healthz within %.0fs\n%s" % (START_TIMEOUT, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit code."""
        self.stopped_on_purpose = True
        if not self.alive():
            return self._reap()
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("leverd ignored SIGTERM for %ss\n%s" % (timeout, self.log_tail()))

    def kill(self):
        """SIGKILL, no chance to clean up."""
        self.stopped_on_purpose = True
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        return self._reap()

    def _reap(self):
        if self.proc is None:
            return None
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            return None

    def restart(self, hard=False):
        if hard:
            self.kill()
        else:
            self.stop()
        # Keep the same port so clients keep working; fall back to a new one.
        try:
            self._spawn()
        except RuntimeError:
            self._reap()
            self.port = free_port()
            self._spawn()
        return self

    def cleanup(self):
        try:
            if self.alive():
                self.stop()
        except Exception:
            self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- logs --------------------------------------------------------------
    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=8000):
        t = self.log_text()
        return "---- leverd log (%s) ----\n%s\n---- end of leverd log ----" % (self.log_path, t[-n:])

    def report_new_log(self, stream=sys.stderr):
        t = self.log_text()
        new = t[self.log_reported:]
        self.log_reported = len(t)
        if new.strip():
            stream.write("\n---- leverd output since last report ----\n%s\n---- end ----\n" % new[-20000:])
            stream.flush()

    # -- clients -----------------------------------------------------------
    def client(self, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY, read_timeout=60, verify=None):
        cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                     connect_timeout=5, read_timeout=read_timeout,
                                     max_pool_connections=20)
        return boto3.session.Session().client(
            "ssm", endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=cfg,
            verify=verify if verify is not None else self.tls_ca)

    def client_from_credentials_file(self, path, region=REGION):
        """boto3 with only AWS_SHARED_CREDENTIALS_FILE, as a user would have it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_SHARED_CREDENTIALS_FILE": path, "AWS_CONFIG_FILE": "/dev/null"})
        with mock.patch.dict(os.environ, env, clear=True):
            sess = boto3.session.Session(region_name=region)
            cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
            return sess.client("ssm", endpoint_url=self.endpoint, config=cfg)

    def aws(self, *args, env_extra=None, creds=True, timeout=120):
        """Run /usr/bin/aws ... ssm ARGS; returns (rc, parsed json or None, stderr)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                    "AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1", "AWS_EC2_METADATA_DISABLED": "true", "AWS_RETRY_MODE": "standard",
                    "HOME": self.tmp})
        if creds:
            env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
        env.update(env_extra or {})
        cmd = [AWS_CLI, "--endpoint-url", self.endpoint, "--region", REGION, "--output", "json", "ssm"] + list(args)
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        parsed = None
        if out.strip():
            try:
                parsed = json.loads(out)
            except ValueError:
                parsed = out
        return p.returncode, parsed, err

    # -- raw HTTP ----------------------------------------------------------
    def raw(self, method, path, body=b"", headers=None, timeout=30):
        """Plain http.client request; returns (status, {lowercased header: value}, body bytes)."""
        if self.tls_ca:
            import ssl
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def signed_headers(self, target, body, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                       region=REGION, when=None, service="ssm"):
        """SigV4-sign a JSON 1.1 request with botocore; `when` (naive UTC datetime) fakes the clock."""
        if isinstance(body, str):
            body = body.encode()
        req = AWSRequest(method="POST", url=self.endpoint + "/", data=body,
                         headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": target})
        signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(access_key, secret_key), service, region)
        if when is None:
            signer.add_auth(req)
        else:
            class _FakeDT(datetime.datetime):
                @classmethod
                def utcnow(cls):
                    return when
            fake_mod = types.SimpleNamespace(datetime=_FakeDT, timedelta=datetime.timedelta)
            with mock.patch.object(botocore.auth, "datetime", fake_mod):
                signer.add_auth(req)
        hdrs = {k: v for k, v in req.headers.items()}
        return hdrs

    def call_raw(self, target, body, headers=None, timeout=30, **sign_kw):
        """Signed JSON 1.1 call. Returns (status, headers, parsed JSON or None, raw body)."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        h = self.signed_headers(target, body, **sign_kw)
        if headers:
            h.update(headers)
        st, rh, data = self.raw("POST", "/", body, h, timeout=timeout)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return st, rh, parsed, data


def admin_call(server, op, body=None, **sign_kw):
    """Signed Lever.<op> admin call (root key unless access_key/secret_key given).
    Returns (status, parsed JSON)."""
    st, _h, parsed, _raw = server.call_raw("Lever." + op, body or {}, **sign_kw)
    return st, parsed


def create_key(server, policies=None, description=""):
    """Create an access key with the root key and attach policies ({name: document dict or str}).
    Returns (access_key_id, secret_access_key)."""
    st, parsed = admin_call(server, "CreateAccessKey", {"Description": description})
    if st != 200:
        raise RuntimeError("CreateAccessKey failed: %s %r" % (st, parsed))
    akid = parsed["AccessKey"]["AccessKeyId"]
    secret = parsed["AccessKey"]["SecretAccessKey"]
    for name, doc in (policies or {}).items():
        st, p = admin_call(server, "PutKeyPolicy", {"AccessKeyId": akid, "PolicyName": name,
                                                    "PolicyDocument": doc if isinstance(doc, str) else json.dumps(doc)})
        if st != 200:
            raise RuntimeError("PutKeyPolicy failed: %s %r" % (st, p))
    return akid, secret


def error_type(parsed):
    """__type of a JSON 1.1 error body, without any namespace prefix."""
    if not isinstance(parsed, dict):
        return None
    t = parsed.get("__type") or parsed.get("code") or ""
    return t.split("#")[-1]


def error_message(parsed):
    if not isinstance(parsed, dict):
        return ""
    return parsed.get("message") or parsed.get("Message") or ""


def read_credentials_file(path):
    cp = configparser.ConfigParser()
    cp.read(path)
    return cp


class LeverTestCase(unittest.TestCase):
    """One leverd per test class. Subclasses may set LEVERD_KW for Leverd()."""

    LEVERD_KW = {}
    server = None
    _seq = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = Leverd(**cls.LEVERD_KW)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise
        cls.ssm = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            rc = None
            try:
                rc = cls.server.stop()
            except Exception as e:  # noqa: BLE001
                sys.stderr.write("leverd did not stop cleanly: %s\n" % e)
            if rc not in (0, None):
                sys.stderr.write("leverd exit status after SIGTERM: %s\n%s\n" % (rc, cls.server.log_tail(4000)))
            cls.server.cleanup()
        super().tearDownClass()

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        out = super().run(result)
        if result is not None and self.server is not None:
            if len(result.failures) + len(result.errors) > before:
                self.server.report_new_log()
            else:
                self.server.log_reported = len(self.server.log_text())
        return out

    def setUp(self):
        type(self)._seq += 1
        self.ns = "/it%d%s" % (type(self)._seq, self._testMethodName.replace("test_", "_")[:40])
        if self.server is not None and not self.server.alive():
            self.server.report_new_log()
            self.server.start()
            type(self).ssm = self.server.client()

    def tearDown(self):
        if self.server is not None and not self.server.alive():
            if self.server.stopped_on_purpose:  # the test stopped it; bring it back quietly
                self.server.start()
                type(self).ssm = self.server.client()
                return
            rc = self.server.proc.returncode
            self.server.report_new_log()
            self.server.start()  # let later tests run against a fresh process
            type(self).ssm = self.server.client()
            self.fail("leverd died during %s (exit status %s)" % (self._testMethodName, rc))

    # -- helpers -------------------------------------------------------------
    def n(self, suffix=""):
        """A name unique to this test, under its own namespace."""
        return self.ns + ("/" + suffix if suffix else "")

    def put(self, name, value="v", type_="String", client=None, **kw):
        c = client or self.ssm
        args = dict(Name=name, Value=value, **kw)
        if type_ is not None:
            args["Type"] = type_
        return c.put_parameter(**args)

    def assertAwsError(self, codes, fn, *args, **kwargs):
        """Call fn and require a ClientError whose code is (one of) codes, HTTP 400. Returns the error."""
        if isinstance(codes, str):
            codes = (codes,)
        try:
            res = fn(*args, **kwargs)
        except botocore.exceptions.ClientError as e:
            self.assertIn(error_code(e), codes, "wrong error code; full error: %r" % (e.response.get("Error"),))
            self.assertEqual(http_status(e), 400, "error %s should be HTTP 400" % error_code(e))
            return e
        res = dict(res or {})
        res.pop("ResponseMetadata", None)
        self.fail("expected %s but the call succeeded: %r" % ("/".join(codes), res))

    def paginate_all(self, method, key, **kwargs):
        """Follow NextToken by hand; returns (items, pages)."""
        items, pages, token, seen_tokens = [], 0, None, set()
        while True:
            args = dict(kwargs)
            if token:
                args["NextToken"] = token
            r = method(**args)
            pages += 1
            items.extend(r.get(key, []))
            token = r.get("NextToken")
            if not token:
                return items, pages
            self.assertNotIn(token, seen_tokens, "NextToken repeated: paging would loop")
            seen_tokens.add(token)
            self.assertLess(pages, 10000, "paging does not end")


def is_base64(s):
    try:
        base64.b64decode(s, validate=True)
        return len(s) % 4 == 0 and len(s) > 0
    except (ValueError, TypeError):
        return False
