"""Wire-level behaviour: JSON 1.1 framing, error bodies, SigV4 verification, the
generated credentials file, /healthz and /metrics. Uses raw http.client where boto3
would refuse to send the request."""

import datetime
import json
import os
import re
import stat
import unittest

import botocore.exceptions

from lever_harness import (ACCESS_KEY, CONTENT_TYPE, SECRET_KEY, LeverTestCase, Leverd,
                           error_code, error_message, error_type, read_credentials_file)

GET = "AmazonSSM.GetParameter"


class ProtocolTest(LeverTestCase):
    def assertJsonError(self, resp, code, statuses=(400,)):
        st, hdrs, parsed, raw = resp
        self.assertIn(st, statuses, "status %s, body %r" % (st, raw[:500]))
        self.assertEqual(error_type(parsed), code, "body %r" % raw[:500])
        self.assertTrue(hdrs.get("content-type", "").startswith(CONTENT_TYPE), hdrs.get("content-type"))
        self.assertTrue(hdrs.get("x-amzn-requestid"), "x-amzn-RequestId header missing")
        return parsed

    def test_healthz(self):
        st, hdrs, body = self.server.raw("GET", "/healthz")
        self.assertEqual(st, 200)

    def test_metrics(self):
        self.put(self.n("m"), "v")  # make sure there is some traffic to count
        st, hdrs, body = self.server.raw("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs.get("content-type", "").startswith("text/plain"), hdrs.get("content-type"))
        text = body.decode()
        samples = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
        self.assertTrue(samples, "no samples in /metrics")
        sample_re = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+]?([0-9.]+([eE][-+]?[0-9]+)?|NaN|[+-]Inf)( -?[0-9]+)?$')
        for ln in samples:
            self.assertRegex(ln, sample_re)
        self.assertRegex(text, r"(?m)^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$")

    def test_success_headers(self):
        name = self.n("ok")
        self.put(name, "v")
        st, hdrs, parsed, raw = self.server.call_raw(GET, {"Name": name})
        self.assertEqual(st, 200, raw)
        self.assertTrue(hdrs.get("content-type", "").startswith(CONTENT_TYPE))
        rid1 = hdrs.get("x-amzn-requestid")
        self.assertTrue(rid1)
        self.assertEqual(parsed["Parameter"]["Value"], "v")
        self.assertIsInstance(parsed["Parameter"]["LastModifiedDate"], (int, float),
                              "JSON 1.1 timestamps are epoch seconds")
        st, hdrs, parsed, raw = self.server.call_raw(GET, {"Name": name})
        self.assertNotEqual(hdrs.get("x-amzn-requestid"), rid1, "request ids must be unique")

    def test_error_body_shape(self):
        parsed = self.assertJsonError(self.server.call_raw(GET, {"Name": self.n("missing")}), "ParameterNotFound")
        self.assertIsInstance(error_message(parsed), str)

    def test_unknown_operation(self):
        self.assertJsonError(self.server.call_raw("AmazonSSM.FlyToTheMoon", {}), "UnknownOperationException")
        self.assertJsonError(self.server.call_raw("NotAService.GetParameter", {"Name": "/x"}),
                             "UnknownOperationException")

    def test_malformed_json(self):
        for body in [b"{not json", b'{"Name": "/x"', b"\xff\xfe", b'{"Name": "/x"} trailing']:
            with self.subTest(body=body):
                self.assertJsonError(self.server.call_raw(GET, body), "SerializationException")

    def test_missing_required_field(self):
        parsed = self.assertJsonError(self.server.call_raw(GET, {}), "ValidationException")
        self.assertIn("name", error_message(parsed).lower())

    def test_get_parameter_bodies_beside_the_flat_path(self):
        # GetParameter reads {"Name":..,"WithDecryption":bool} without a JSON
        # object; every other body must still get the general path's answer.
        name = self.n("flat")
        self.put(name, "v")
        for body in [{"WithDecryption": False, "Name": name},            # other order
                     ('{"Name":"%s"}' % name.replace("/", "\\/")).encode(),  # an escape
                     ('{ "Name" : "%s" ,"WithDecryption":true }' % name).encode()]:
            with self.subTest(body=body):
                st, _, parsed, raw = self.server.call_raw(GET, body)
                self.assertEqual(st, 200, raw)
                self.assertEqual(parsed["Parameter"]["Value"], "v")
        for body, code in [({"Name": ""}, "ValidationException"),
                           ({"Name": "x" * 2049}, "ValidationException"),
                           ({"Name": 7}, "SerializationException"),
                           ({"Name": name, "WithDecryption": "yes"}, "SerializationException"),
                           ({"Name": name, "WithDecryption": 1}, "SerializationException"),
                           (('{"Name":"%s","Name":"%s"}' % (name, name)).encode(), "SerializationException")]:
            with self.subTest(body=body):
                self.assertJsonError(self.server.call_raw(GET, body), code)

    def test_max_results_validation_mentions_field(self):
        for mr in (11, 0, -1):
            with self.subTest(max_results=mr):
                parsed = self.assertJsonError(
                    self.server.call_raw("AmazonSSM.GetParametersByPath", {"Path": self.ns, "MaxResults": mr}),
                    "ValidationException")
                self.assertIn("maxresults", error_message(parsed).lower())

    def test_empty_body_is_empty_object(self):
        # boto3 sends "{}" for DescribeParameters with no arguments; an empty body must not crash either
        st, hdrs, parsed, raw = self.server.call_raw("AmazonSSM.DescribeParameters", b"{}")
        self.assertEqual(st, 200, raw)
        self.assertIn("Parameters", parsed)

    def test_unsigned(self):
        body = json.dumps({"Name": "/x"}).encode()
        resp = self.server.raw("POST", "/", body, {"Content-Type": CONTENT_TYPE, "X-Amz-Target": GET})
        st, hdrs, raw = resp
        self.assertIn(st, (400, 403), raw)
        self.assertEqual(error_type(json.loads(raw)), "MissingAuthenticationTokenException")

    def test_unknown_access_key(self):
        self.assertJsonError(self.server.call_raw(GET, {"Name": "/x"}, access_key="AKIANOBODYKNOWSTHIS0"),
                             "UnrecognizedClientException", (400, 403))
        ssm = self.server.client(access_key="AKIANOBODYKNOWSTHIS0")
        try:
            ssm.get_parameter(Name="/x")
            self.fail("unknown access key accepted")
        except botocore.exceptions.ClientError as e:
            self.assertEqual(error_code(e), "UnrecognizedClientException")

    def test_wrong_secret(self):
        self.assertJsonError(self.server.call_raw(GET, {"Name": "/x"}, secret_key=SECRET_KEY + "x"),
                             "InvalidSignatureException", (400, 403))
        ssm = self.server.client(secret_key="wrong")
        try:
            ssm.put_parameter(Name=self.n("x"), Value="v", Type="String")
            self.fail("wrong secret accepted")
        except botocore.exceptions.ClientError as e:
            self.assertEqual(error_code(e), "InvalidSignatureException")
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=self.n("x"))

    def test_tampered_body(self):
        name = self.n("tamper")
        body = json.dumps({"Name": name, "Value": "good", "Type": "String"}).encode()
        h = self.server.signed_headers("AmazonSSM.PutParameter", body)
        evil = body.replace(b"good", b"evil")
        st, hdrs, raw = self.server.raw("POST", "/", evil, h)
        self.assertIn(st, (400, 403), raw)
        self.assertEqual(error_type(json.loads(raw)), "InvalidSignatureException")
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=name)
        # the untampered request goes through
        st, hdrs, raw = self.server.raw("POST", "/", body, h)
        self.assertEqual(st, 200, raw)

    def test_tampered_target(self):
        name = self.n("tt")
        self.put(name, "v")
        body = json.dumps({"Name": name}).encode()
        h = self.server.signed_headers(GET, body)
        h["X-Amz-Target"] = "AmazonSSM.DeleteParameter"
        st, hdrs, raw = self.server.raw("POST", "/", body, h)
        self.assertIn(st, (400, 403), raw)
        self.assertEqual(error_type(json.loads(raw)), "InvalidSignatureException")
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "v")

    def test_stale_and_future_dates(self):
        now = datetime.datetime.utcnow()
        for delta in (-20, +20):
            with self.subTest(minutes=delta):
                when = now + datetime.timedelta(minutes=delta)
                self.assertJsonError(self.server.call_raw(GET, {"Name": "/x"}, when=when),
                                     "InvalidSignatureException", (400, 403))
        # a small skew is fine
        self.assertJsonError(self.server.call_raw(GET, {"Name": self.n("nope")},
                                                  when=now - datetime.timedelta(minutes=2)), "ParameterNotFound")

    def test_wrong_service_scope(self):
        st, hdrs, parsed, raw = self.server.call_raw(GET, {"Name": "/x"}, service="s3")
        self.assertIn(st, (400, 403), raw)
        self.assertIn(error_type(parsed), ("InvalidSignatureException", "IncompleteSignatureException"))

    def test_garbage_authorization_header(self):
        body = b'{"Name": "/x"}'
        for auth in ["AWS4-HMAC-SHA256 garbage", "Basic dXNlcjpwYXNz",
                     "AWS4-HMAC-SHA256 Credential=%s/20200101/us-east-1/ssm/aws4_request" % ACCESS_KEY]:
            with self.subTest(auth=auth):
                st, hdrs, raw = self.server.raw("POST", "/", body, {
                    "Content-Type": CONTENT_TYPE, "X-Amz-Target": GET, "Authorization": auth,
                    "X-Amz-Date": datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")})
                self.assertIn(st, (400, 403), raw)
                self.assertIn(error_type(json.loads(raw)),
                              ("IncompleteSignatureException", "InvalidSignatureException",
                               "MissingAuthenticationTokenException", "UnrecognizedClientException"))
        self.assertTrue(self.server.alive())


class CredentialsFileTest(unittest.TestCase):
    """leverd started WITHOUT LEVER_ROOT_* must write DATA/credentials for AWS tools."""

    @classmethod
    def setUpClass(cls):
        cls.server = Leverd(with_root_env=False)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise
        cls.path = os.path.join(cls.server.data_dir, "credentials")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            self.server.report_new_log()
        return out

    def test_file_format_and_mode(self):
        self.assertTrue(os.path.exists(self.path), "%s not created" % self.path)
        mode = stat.S_IMODE(os.stat(self.path).st_mode)
        self.assertEqual(mode, 0o600, "credentials mode is %o" % mode)
        cp = read_credentials_file(self.path)
        self.assertIn("default", cp.sections())
        self.assertTrue(cp["default"].get("aws_access_key_id"))
        self.assertTrue(cp["default"].get("aws_secret_access_key"))
        self.assertNotEqual(cp["default"]["aws_access_key_id"], ACCESS_KEY)
        self.assertGreaterEqual(len(cp["default"]["aws_secret_access_key"]), 20)

    def test_boto3_with_credentials_file(self):
        ssm = self.server.client_from_credentials_file(self.path)
        ssm.put_parameter(Name="/credfile/x", Value="works", Type="String", Overwrite=True)
        self.assertEqual(ssm.get_parameter(Name="/credfile/x")["Parameter"]["Value"], "works")
        # the fixed test key is not provisioned in this mode
        other = self.server.client()
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            other.get_parameter(Name="/credfile/x")
        self.assertEqual(error_code(cm.exception), "UnrecognizedClientException")

    def test_restart_keeps_the_key(self):
        with open(self.path) as f:
            before = f.read()
        ssm = self.server.client_from_credentials_file(self.path)
        ssm.put_parameter(Name="/credfile/persist", Value="1", Type="String", Overwrite=True)
        self.server.restart()
        with open(self.path) as f:
            self.assertEqual(f.read(), before, "credentials file rewritten on restart")
        ssm = self.server.client_from_credentials_file(self.path)
        self.assertEqual(ssm.get_parameter(Name="/credfile/persist")["Parameter"]["Value"], "1")


if __name__ == "__main__":
    unittest.main()
