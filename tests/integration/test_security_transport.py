"""Transport: TLS with a generated certificate (boto3 verifying it), oversized and
malformed requests refused while other clients are served, idle connections timed
out, and a connection cap answered with a clean 503."""

import os
import random
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import botocore.exceptions

from lever_harness import LeverTestCase, Leverd


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lever-tls-")
        cls.cert, cls.key = make_cert(cls.tmp)
        cls.server = Leverd(extra_args=["--tls-cert", cls.cert, "--tls-key", cls.key], tls_ca=cls.cert).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_boto3_over_tls(self):
        c = self.server.client()
        self.assertTrue(self.server.endpoint.startswith("https://"))
        c.put_parameter(Name="/tls/x", Value="over-tls", Type="SecureString")
        self.assertEqual(c.get_parameter(Name="/tls/x", WithDecryption=True)["Parameter"]["Value"], "over-tls")

    def test_untrusted_certificate_refused_by_client(self):
        c = self.server.client(verify=True)  # the system CA bundle does not know our certificate
        with self.assertRaises(botocore.exceptions.SSLError):
            c.get_parameter(Name="/tls/x")

    def test_plain_http_gets_no_answer(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            try:
                data = s.recv(1024)
            except (ConnectionResetError, socket.timeout):
                pass
            self.assertFalse(data.startswith(b"HTTP/1.1 200"), data)
        finally:
            s.close()
        # and the TLS listener is still fine
        ctx = ssl.create_default_context(cafile=self.cert)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as t:
                t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                self.assertTrue(t.recv(1024).startswith(b"HTTP/1.1 200"))


def recv_all(s, limit=1 << 16):
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return data


class LimitsTest(LeverTestCase):
    LEVERD_KW = {"extra_args": ["--max-connections", "8", "--conn-timeout", "2"]}

    def raw_exchange(self, payload, timeout=5):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)
        try:
            s.sendall(payload)
            return recv_all(s)
        finally:
            s.close()

    def test_oversized_and_malformed_refused_while_others_served(self):
        self.put(self.n("x"), "v")
        stop = threading.Event()
        errors = []

        def good_client():
            c = self.server.client()
            while not stop.is_set():
                try:
                    c.get_parameter(Name=self.n("x"))
                except Exception as e:  # noqa: BLE001
                    errors.append(e)
                    return

        t = threading.Thread(target=good_client)
        t.start()
        try:
            # a body over the 3 MiB cap (room for 2 MB AppConfig hosted versions): 413 without reading it
            r = self.raw_exchange(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"{" * 1000)
            self.assertTrue(r.startswith(b"HTTP/1.1 413"), r[:100])
            # a chunked body over the cap
            body = b"".join(b"%x\r\n%s\r\n" % (65536, b"a" * 65536) for _ in range(60)) + b"0\r\n\r\n"
            r = self.raw_exchange(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                  b"X-Amz-Target: AmazonSSM.GetParameter\r\n\r\n" + body)
            self.assertTrue(r.startswith(b"HTTP/1.1 413"), r[:100])
            # headers beyond the per-connection memory
            r = self.raw_exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
            self.assertFalse(r.startswith(b"HTTP/1.1 200"), r[:100])
            # a request line far too long
            r = self.raw_exchange(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertFalse(r.startswith(b"HTTP/1.1 200"), r[:100])
            # garbage
            rnd = random.Random(7)
            for _ in range(60):
                blob = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 400)))
                self.raw_exchange(blob + b"\r\n\r\n", timeout=3)
            r = self.raw_exchange(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
            self.assertFalse(r.startswith(b"HTTP/1.1 200"), r[:100])
            # unsigned JSON
            st, _h, body = self.server.raw("POST", "/", b"{]", {"X-Amz-Target": "AmazonSSM.GetParameter"})
            self.assertEqual(st, 400)
        finally:
            stop.set()
            t.join()
        self.assertEqual(errors, [])
        self.assertTrue(self.server.alive())
        self.assertEqual(self.ssm.get_parameter(Name=self.n("x"))["Parameter"]["Value"], "v")

    def test_idle_connection_timed_out(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
            t0 = time.monotonic()
            data = recv_all(s)
            waited = time.monotonic() - t0
        finally:
            s.close()
        self.assertFalse(data.startswith(b"HTTP/1.1 200"))
        self.assertLess(waited, 8, "a slow client must be cut off by --conn-timeout")

    def test_connection_cap_answers_503(self):
        held = []
        try:
            for _ in range(12):
                held.append(socket.create_connection(("127.0.0.1", self.server.port), timeout=5))
            time.sleep(0.2)
            r = self.raw_exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(r.startswith(b"HTTP/1.1 503"), r[:200])
            self.assertIn(b"ServiceUnavailable", r)
        finally:
            for s in held:
                s.close()
        # once they are gone, requests are served again
        deadline = time.time() + 5
        while True:
            st, _h, _b = self.server.raw("GET", "/healthz")
            if st == 200 or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(st, 200)
