"""Helpers for the AppConfig tests of lever-agent and liblever: a lever-agent
serving the AppConfig Agent API on a free port, and the operator's path
through boto3's `appconfig` client (application, environment, hosted
profile, versions, AllAtOnce deployments)."""
import http.client
import json
import os
import subprocess
import time

import boto3
import botocore.config

from lever_harness import ACCESS_KEY, REGION, SECRET_KEY, free_port
from test_agent import Agent


class ACAgent(Agent):
    """A lever-agent whose AppConfig API listens on its own free port."""

    def __init__(self, upstream, *a, ac_args=(), **kw):
        super().__init__(upstream, *a, **kw)
        self.ac_port = free_port()
        self.ac_args = list(ac_args)

    def command(self):
        return super().command() + ["--appconfig-listen", "127.0.0.1:%d" % self.ac_port] + self.ac_args

    def start(self, wait=True):
        """Starts it and waits for the AppConfig API (the parameters API may
        be off: no token in local development mode)."""
        if self.port is None:
            self.port = free_port()
        tries = 3  # a free port can be taken by another test between the probe and the bind
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, env=self.environ(), cwd=self.tmp)
        deadline = time.monotonic() + 20
        while wait and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tries -= 1
                if tries > 0 and "Address already in use" in self.log():
                    self.port, self.ac_port = free_port(), free_port()
                    with open(self.log_path, "ab") as logf:
                        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=logf,
                                                     stderr=subprocess.STDOUT, env=self.environ(), cwd=self.tmp)
                    continue
                raise RuntimeError("lever-agent exited with %s\n%s" % (self.proc.returncode, self.log()))
            try:
                if self.ac_raw("/healthz", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        if wait:
            raise RuntimeError("the AppConfig API did not come up\n" + self.log())
        return self

    def ac_raw(self, path, headers=None, timeout=10, method="GET", body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.ac_port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def config(self, app, env, profile, query="", headers=None):
        path = "/applications/%s/environments/%s/configurations/%s" % (app, env, profile)
        return self.ac_raw(path + (("?" + query) if query else ""), headers)


def appconfig_client(server):
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                                 read_timeout=60)
    return boto3.session.Session().client("appconfig", endpoint_url=server.endpoint, region_name=REGION,
                                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                          config=cfg)


class Operator:
    """What an operator does with boto3: create, store versions, deploy."""

    def __init__(self, server):
        self.ac = appconfig_client(server)

    def profile(self, app, env, profile, kind="AWS.Freeform"):
        a = self.ac.create_application(Name=app)["Id"]
        e = self.ac.create_environment(ApplicationId=a, Name=env)["Id"]
        p = self.ac.create_configuration_profile(ApplicationId=a, Name=profile, LocationUri="hosted",
                                                 Type=kind)["Id"]
        return a, e, p

    def store(self, a, p, content, content_type="application/json"):
        if isinstance(content, str):
            content = content.encode()
        elif not isinstance(content, (bytes, bytearray)):
            content = json.dumps(content).encode()
        r = self.ac.create_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p,
                                                        Content=content, ContentType=content_type)
        return r["VersionNumber"]

    def deploy(self, a, e, p, version, wait=True, strategy="AppConfig.AllAtOnce"):
        """StartDeployment; with wait, until every client gets the version
        (State BAKING or COMPLETE: AllAtOnce's bake only watches alarms)."""
        d = self.ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                                     DeploymentStrategyId=strategy, ConfigurationVersion=str(version))
        n = d["DeploymentNumber"]
        deadline = time.monotonic() + 30
        while wait and time.monotonic() < deadline:
            d = self.ac.get_deployment(ApplicationId=a, EnvironmentId=e, DeploymentNumber=n)
            if d["State"] in ("BAKING", "COMPLETE"):
                return n
            time.sleep(0.02)
        if wait:
            raise AssertionError("deployment %s did not reach every client: %r" % (n, d))
        return n


_seq = [0]


def unique(prefix):
    """A name no other test of the run uses (one leverd serves a class)."""
    _seq[0] += 1
    return "%s-%d-%d" % (prefix, os.getpid(), _seq[0])


def clean_env():
    """The environment of a test process without lever's or AWS's settings."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("LEVER_", "AWS_", "PARAMETERS_SECRETS_", "SSM_PARAMETER"))
            and k not in ("ACCESS_TOKEN", "HTTP_PORT", "PREFETCH_LIST", "LOCAL_DEVELOPMENT_DIRECTORY",
                          "POLL_INTERVAL", "LOG_LEVEL", "MAX_CONNECTIONS", "REQUEST_TIMEOUT", "BACKUP_DIRECTORY")}
