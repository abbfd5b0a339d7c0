"""Helpers for the AppConfig integration tests: boto3 appconfig/appconfigdata
clients on a real leverd, signed raw REST calls, and a small resource builder."""

import json
import urllib.parse

import boto3
import botocore
import botocore.auth
import botocore.config
import botocore.credentials
import botocore.exceptions
from botocore.awsrequest import AWSRequest

from lever_harness import ACCESS_KEY, ACCOUNT, REGION, SECRET_KEY, LeverTestCase

ARN = "arn:aws:appconfig:%s:%s:" % (REGION, ACCOUNT)


def ac_clients(server, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60)
    s = boto3.session.Session()
    kw = dict(endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=access_key,
              aws_secret_access_key=secret_key, config=cfg)
    return s.client("appconfig", **kw), s.client("appconfigdata", **kw)


def signed_rest(server, method, path, body=b"", headers=None, query=None):
    """A SigV4-signed (service appconfig) REST call that bypasses boto3's own
    parameter checks. Returns (status, headers, parsed JSON or None, raw)."""
    url = server.endpoint + path + (("?" + query) if query else "")
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    req = AWSRequest(method=method, url=url, data=body, headers=h)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "appconfig",
                            REGION).add_auth(req)
    pq = path + (("?" + query) if query else "")
    st, rh, data = server.raw(method, pq, body, dict(req.headers.items()))
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return st, rh, parsed, data


def q(s):
    return urllib.parse.quote(s, safe="")


class AppConfigCase(LeverTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ac, cls.data = ac_clients(cls.server)

    def setUp(self):
        super().setUp()
        type(self).ac, type(self).data = ac_clients(self.server)

    def acerr(self, code, status, fn, *a, **kw):
        """fn must fail with AppConfig error `code` and HTTP `status`; returns the error."""
        try:
            res = fn(*a, **kw)
        except botocore.exceptions.ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], code, repr(e.response.get("Error")))
            self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], status)
            return e
        self.fail("expected %s, got success %r" % (code, res))

    def app(self, name=None, **kw):
        return self.ac.create_application(Name=name or self._testMethodName[:60], **kw)

    def tree(self, content=b'{"a": 1}', ctype="application/json", **profile_kw):
        """App, env, hosted profile, version 1 of content; returns a dict of ids."""
        a = self.app()
        e = self.ac.create_environment(ApplicationId=a["Id"], Name="prod")
        p = self.ac.create_configuration_profile(ApplicationId=a["Id"], Name="cfg", LocationUri="hosted",
                                                 **profile_kw)
        v = self.ac.create_hosted_configuration_version(ApplicationId=a["Id"], ConfigurationProfileId=p["Id"],
                                                        Content=content, ContentType=ctype)
        return {"app": a["Id"], "env": e["Id"], "prof": p["Id"], "ver": v["VersionNumber"]}

    def deploy(self, t, version, strategy="Lever.AllAtOnce"):
        """StartDeployment; the default strategy has no bake time, so the
        deployment is COMPLETE when the call answers."""
        return self.ac.start_deployment(ApplicationId=t["app"], EnvironmentId=t["env"],
                                        DeploymentStrategyId=strategy, ConfigurationProfileId=t["prof"],
                                        ConfigurationVersion=str(version))
