"""AppConfig Data, the deprecated GetConfiguration (the agent's fetch contract),
Lever.WatchConfigurations (its push), ssm-parameter profiles, the AWS CLI v2,
durability (restart and SIGKILL after an acknowledged write), access keys with
appconfig:* policies and the audit log — all on a real leverd."""

import json
import os
import subprocess
import threading
import time
import unittest

import botocore.exceptions

from ac_helpers import ARN, AppConfigCase, ac_clients, signed_rest
from lever_harness import ACCESS_KEY, AWS_CLI, REGION, SECRET_KEY, create_key

USERS = b'[{"username": "dongkyl"}, {"username": "haandol"}]'
FEWER = b'[{"username": "dongkyl"}]'


class DataPlane(AppConfigCase):
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "1000"}}

    def test_user_story_polling_with_tokens(self):
        t = self.tree(content=USERS)
        self.deploy(t, 1)
        tok = self.data.start_configuration_session(
            ApplicationIdentifier=self._testMethodName[:60], EnvironmentIdentifier="prod",
            ConfigurationProfileIdentifier="cfg", RequiredMinimumPollIntervalInSeconds=15)["InitialConfigurationToken"]
        r = self.data.get_latest_configuration(ConfigurationToken=tok)
        self.assertEqual(json.loads(r["Configuration"].read()), json.loads(USERS))
        self.assertEqual(r["ContentType"], "application/json")
        self.assertEqual(r["NextPollIntervalInSeconds"], 15)
        # the used token is gone
        self.acerr("BadRequestException", 400, self.data.get_latest_configuration, ConfigurationToken=tok)
        time.sleep(0.03)  # 15 s at time scale 1000
        r2 = self.data.get_latest_configuration(ConfigurationToken=r["NextPollConfigurationToken"])
        self.assertEqual(r2["Configuration"].read(), b"", "unchanged configuration answers an empty body")
        # an operator removes haandol and deploys: the same session sees it
        self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                    Content=FEWER, ContentType="application/json")
        self.deploy(t, 2)
        time.sleep(0.03)
        r3 = self.data.get_latest_configuration(ConfigurationToken=r2["NextPollConfigurationToken"])
        self.assertEqual(json.loads(r3["Configuration"].read()), [{"username": "dongkyl"}])

    def test_bad_tokens_and_unknown_names(self):
        self.acerr("BadRequestException", 400, self.data.get_latest_configuration, ConfigurationToken="x" * 44)
        self.acerr("BadRequestException", 400, self.data.get_latest_configuration,
                   ConfigurationToken="lv1_" + "0" * 40)
        # a real token with one character changed no longer opens
        t = self.tree(content=USERS)
        self.deploy(t, 1)
        tok = self.data.start_configuration_session(
            ApplicationIdentifier=t["app"], EnvironmentIdentifier=t["env"],
            ConfigurationProfileIdentifier=t["prof"])["InitialConfigurationToken"]
        self.assertTrue(tok.startswith("lv2_"))
        bad = tok[:20] + ("A" if tok[20] != "A" else "B") + tok[21:]
        self.acerr("BadRequestException", 400, self.data.get_latest_configuration, ConfigurationToken=bad)
        self.assertEqual(json.loads(self.data.get_latest_configuration(ConfigurationToken=tok)["Configuration"].read()),
                         json.loads(USERS))
        self.acerr("ResourceNotFoundException", 404, self.data.start_configuration_session,
                   ApplicationIdentifier="nope", EnvironmentIdentifier="e", ConfigurationProfileIdentifier="p")

    def test_feature_flags_served_simplified(self):
        a = self.app()
        e = self.ac.create_environment(ApplicationId=a["Id"], Name="prod")
        p = self.ac.create_configuration_profile(ApplicationId=a["Id"], Name="flags", LocationUri="hosted",
                                                 Type="AWS.AppConfig.FeatureFlags")
        doc = {"version": "1", "flags": {"reg": {"name": "reg", "attributes": {"limit": {"constraints": {"type": "number"}}}}},
               "values": {"reg": {"enabled": True, "limit": 5}}}
        self.ac.create_hosted_configuration_version(ApplicationId=a["Id"], ConfigurationProfileId=p["Id"],
                                                    Content=json.dumps(doc).encode(), ContentType="application/json")
        self.deploy({"app": a["Id"], "env": e["Id"], "prof": p["Id"]}, 1)
        tok = self.data.start_configuration_session(ApplicationIdentifier=a["Id"], EnvironmentIdentifier=e["Id"],
                                                    ConfigurationProfileIdentifier=p["Id"])["InitialConfigurationToken"]
        r = self.data.get_latest_configuration(ConfigurationToken=tok)
        self.assertEqual(json.loads(r["Configuration"].read()), {"reg": {"enabled": True, "limit": 5}})
        # the agent's stored form through GetConfiguration
        st, h, _p, raw = signed_rest(self.server, "GET", "/applications/%s/environments/prod/configurations/flags"
                                     % a["Name"], headers={"X-Lever-Document": "stored"}, query="client_id=c1")
        self.assertEqual(st, 200, raw)
        self.assertEqual(json.loads(raw), doc)
        self.assertEqual(h.get("x-lever-document"), "stored")

    def test_aws_cli_appconfig_and_appconfigdata_outfile(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": "",
                    "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "HOME": self.server.tmp,
                    "AWS_MAX_ATTEMPTS": "1", "AWS_EC2_METADATA_DISABLED": "true"})

        def aws(*args):
            p = subprocess.run([AWS_CLI, "--endpoint-url", self.server.endpoint, "--region", REGION,
                                "--output", "json"] + list(args), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            return json.loads(p.stdout) if p.stdout.strip() else None

        a = aws("appconfig", "create-application", "--name", "cli-app")
        e = aws("appconfig", "create-environment", "--application-id", a["Id"], "--name", "prod")
        p = aws("appconfig", "create-configuration-profile", "--application-id", a["Id"], "--name", "cfg",
                "--location-uri", "hosted")
        src = os.path.join(self.server.tmp, "cfg.json")
        with open(src, "wb") as f:
            f.write(USERS)
        out1 = os.path.join(self.server.tmp, "v1.out")
        aws("appconfig", "create-hosted-configuration-version", "--application-id", a["Id"],
            "--configuration-profile-id", p["Id"], "--content", "fileb://" + src, "--content-type",
            "application/json", out1)
        aws("appconfig", "start-deployment", "--application-id", a["Id"], "--environment-id", e["Id"],
            "--deployment-strategy-id", "Lever.AllAtOnce", "--configuration-profile-id", p["Id"],
            "--configuration-version", "1")
        tok = aws("appconfigdata", "start-configuration-session", "--application-identifier", "cli-app",
                  "--environment-identifier", "prod", "--configuration-profile-identifier", "cfg")
        out = os.path.join(self.server.tmp, "latest.out")
        meta = aws("appconfigdata", "get-latest-configuration", "--configuration-token",
                   tok["InitialConfigurationToken"], out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), USERS)
        self.assertIn("NextPollConfigurationToken", meta)
        lst = aws("appconfig", "list-deployments", "--application-id", a["Id"], "--environment-id", e["Id"])
        self.assertEqual(lst["Items"][0]["State"], "COMPLETE")


class AgentContract(AppConfigCase):
    """GetConfiguration and Lever.WatchConfigurations as CONTRACTS.md fixes them."""

    def test_get_configuration_versions_and_empty_answer(self):
        t = self.tree(content=USERS)
        self.deploy(t, 1)
        path = "/applications/%s/environments/prod/configurations/cfg" % self._testMethodName[:60]
        st, h, _p, raw = signed_rest(self.server, "GET", path, query="client_id=agent1")
        self.assertEqual(st, 200, raw)
        self.assertEqual(raw, USERS)
        self.assertEqual(h["configuration-version"], "1")
        self.assertEqual(h["content-type"], "application/json")
        self.assertIn("x-lever-revision", h)
        st, h, _p, raw = signed_rest(self.server, "GET", path,
                                     query="client_id=agent1&client_configuration_version=1")
        self.assertEqual((st, raw), (200, b""))
        st, h, _p, raw = signed_rest(self.server, "GET", "/applications/%s/environments/%s/configurations/%s"
                                     % (t["app"], t["env"], t["prof"]), query="client_id=a")
        self.assertEqual(raw, USERS)
        # boto3's own GetConfiguration
        g = self.ac.get_configuration(Application=t["app"], Environment="prod", Configuration="cfg", ClientId="x")
        self.assertEqual(g["Content"].read(), USERS)

    def test_headers_on_every_answer_of_a_long_connection_series(self):
        t = self.tree(content=USERS)
        self.deploy(t, 1)
        path = "/applications/%s/environments/%s/configurations/%s" % (t["app"], t["env"], t["prof"])
        for i in range(600):
            st, h, _p, raw = signed_rest(self.server, "GET", path, query="client_id=c%d" % i)
            self.assertEqual((st, h.get("configuration-version"), raw), (200, "1", USERS), i)

    def test_watch_configurations_pushes_deployments(self):
        t = self.tree(content=USERS)
        st, _h, p, _raw = self.server.call_raw("Lever.WatchConfigurations",
                                               {"Application": t["app"], "SinceRevision": 0, "WaitSeconds": 0})
        self.assertEqual(st, 200, p)
        self.assertEqual(p["Changes"], [])
        since = p["Revision"]
        got = {}

        def waiter():
            got["r"] = self.server.call_raw("Lever.WatchConfigurations",
                                            {"Application": self._testMethodName[:60], "Environment": "prod",
                                             "SinceRevision": since, "WaitSeconds": 20})

        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(0.3)
        t0 = time.time()
        self.deploy(t, 1)
        th.join(25)
        self.assertFalse(th.is_alive())
        self.assertLess(time.time() - t0, 5, "the watch answers on the commit, not at its deadline")
        st, _h, p, _raw = got["r"]
        self.assertEqual(st, 200, p)
        kinds = [c["Kind"] for c in p["Changes"]]
        self.assertEqual(kinds, ["DeploymentStarted", "DeploymentStep", "DeploymentComplete"])
        c = p["Changes"][0]
        self.assertEqual((c["ApplicationId"], c["EnvironmentId"], c["ConfigurationProfileId"], c["DeploymentNumber"]),
                         (t["app"], t["env"], t["prof"], 1))
        # another application's deployments are not reported
        other = self.tree()
        st, _h, p2, _raw = self.server.call_raw("Lever.WatchConfigurations",
                                                {"Application": t["app"], "SinceRevision": p["Revision"],
                                                 "WaitSeconds": 0})
        self.deploy(other, 1)
        st, _h, p3, _raw = self.server.call_raw("Lever.WatchConfigurations",
                                                {"Application": t["app"], "SinceRevision": p["Revision"],
                                                 "WaitSeconds": 0})
        self.assertEqual(p3["Changes"], [])
        st, _h, p4, _raw = self.server.call_raw("Lever.WatchConfigurations",
                                                {"Environment": "prod", "SinceRevision": 0, "WaitSeconds": 0})
        self.assertEqual(st, 400, p4)
        st, _h, p5, _raw = self.server.call_raw("Lever.WatchConfigurations",
                                                {"SinceRevision": p["Revision"] + 1000, "WaitSeconds": 0})
        self.assertEqual(p5["__type"], "RevisionCompactedException")

    def test_ssm_parameter_profile(self):
        name = self.n("cfg")
        self.put(name, "one")
        self.put(name, "two", Overwrite=True)
        a = self.app()
        e = self.ac.create_environment(ApplicationId=a["Id"], Name="prod")
        p = self.ac.create_configuration_profile(ApplicationId=a["Id"], Name="p", LocationUri="ssm-parameter://" + name)
        self.acerr("ResourceNotFoundException", 404, self.ac.start_deployment, ApplicationId=a["Id"],
                   EnvironmentId=e["Id"], DeploymentStrategyId="AppConfig.AllAtOnce",
                   ConfigurationProfileId=p["Id"], ConfigurationVersion="9")
        self.ac.start_deployment(ApplicationId=a["Id"], EnvironmentId=e["Id"], DeploymentStrategyId="AppConfig.AllAtOnce",
                                 ConfigurationProfileId=p["Id"], ConfigurationVersion="1")
        g = self.ac.get_configuration(Application=a["Id"], Environment="prod", Configuration="p", ClientId="x")
        self.assertEqual(g["Content"].read(), b"one")
        self.assertEqual(g["ConfigurationVersion"], "1")


class Durability(AppConfigCase):
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "1000"}}

    def test_restart_and_sigkill_keep_acknowledged_writes(self):
        t = self.tree(content=USERS)
        self.deploy(t, 1)
        self.server.restart()
        self.ac, self.data = ac_clients(self.server)
        got = self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=1)
        self.assertEqual(got["State"], "COMPLETE")
        # acknowledged, then SIGKILL at once
        v = self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                        Content=FEWER, ContentType="application/json")
        d = self.deploy(t, v["VersionNumber"])
        self.server.kill()
        self.server.start()
        self.ac, self.data = ac_clients(self.server)
        g = self.ac.get_configuration(Application=t["app"], Environment=t["env"], Configuration=t["prof"],
                                      ClientId="x")
        self.assertEqual(g["Content"].read(), FEWER)
        self.assertEqual(g["ConfigurationVersion"], str(v["VersionNumber"]))
        self.assertEqual(self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"],
                                                DeploymentNumber=d["DeploymentNumber"])["State"], "COMPLETE")
        # the numbering continues where it was
        self.assertEqual(self.deploy(t, 1)["DeploymentNumber"], d["DeploymentNumber"] + 1)
        self.assertIn("AppConfig.AllAtOnce", [s["Id"] for s in self.ac.list_deployment_strategies()["Items"]])

    def test_session_tokens_survive_restart_and_sigkill(self):
        t = self.tree(content=USERS)
        self.deploy(t, 1)
        tok = self.data.start_configuration_session(
            ApplicationIdentifier=t["app"], EnvironmentIdentifier=t["env"],
            ConfigurationProfileIdentifier=t["prof"], RequiredMinimumPollIntervalInSeconds=15
        )["InitialConfigurationToken"]
        self.server.restart()
        self.ac, self.data = ac_clients(self.server)
        r = self.data.get_latest_configuration(ConfigurationToken=tok)
        self.assertEqual(json.loads(r["Configuration"].read()), json.loads(USERS))
        nxt = r["NextPollConfigurationToken"]
        self.server.kill()
        self.server.start()
        self.ac, self.data = ac_clients(self.server)
        # the session remembers what it was served: unchanged is empty
        deadline = time.monotonic() + 30
        while True:
            try:
                r2 = self.data.get_latest_configuration(ConfigurationToken=nxt)
                break
            except botocore.exceptions.ClientError as e:  # too early (15 s at the test's scale)
                self.assertIn("too early", str(e))
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
        self.assertEqual(r2["Configuration"].read(), b"")
        self.acerr("BadRequestException", 400, self.data.get_latest_configuration, ConfigurationToken=nxt)


class AccessAndAudit(AppConfigCase):
    def audit_lines(self):
        with open(os.path.join(self.server.data_dir, "audit.log")) as f:
            return [json.loads(ln) for ln in f if ln.strip()]

    def test_policies_with_appconfig_actions_and_arns(self):
        t = self.tree(content=USERS)
        self.deploy(t, 1)
        conf = ARN + "application/%s/environment/%s/configuration/%s" % (t["app"], t["env"], t["prof"])
        doc = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"],
             "Resource": conf},
            {"Effect": "Allow", "Action": "appconfig:GetApplication", "Resource": ARN + "application/" + t["app"]}]}
        akid, secret = create_key(self.server, {"reader": doc})
        ac, data = ac_clients(self.server, akid, secret)
        self.assertEqual(ac.get_application(ApplicationId=t["app"])["Id"], t["app"])
        tok = data.start_configuration_session(ApplicationIdentifier=t["app"], EnvironmentIdentifier=t["env"],
                                               ConfigurationProfileIdentifier=t["prof"])["InitialConfigurationToken"]
        self.assertEqual(data.get_latest_configuration(ConfigurationToken=tok)["Configuration"].read(), USERS)
        e = self.acerr("AccessDeniedException", 403, ac.delete_application, ApplicationId=t["app"])
        self.assertIn("appconfig:DeleteApplication", e.response["Error"]["Message"])
        self.assertIn(ARN + "application/" + t["app"], e.response["Error"]["Message"])
        self.acerr("AccessDeniedException", 403, ac.create_application, Name="nope")
        self.assertEqual(self.ac.get_application(ApplicationId=t["app"])["Id"], t["app"])
        lines = self.audit_lines()
        denied = [ln for ln in lines if ln.get("operation") == "DeleteApplication" and ln.get("outcome") == "denied"]
        self.assertTrue(denied, lines[-5:])
        ok = [ln for ln in lines if ln.get("operation") == "StartDeployment" and ln.get("outcome") == "ok"]
        self.assertTrue(ok)
        self.assertNotIn("dongkyl", json.dumps(lines), "the audit log never holds content")

    def test_watch_authorised_as_get_configuration(self):
        t = self.tree()
        doc = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "appconfig:GetConfiguration", "Resource": ARN + "application/" + t["app"]}]}
        akid, secret = create_key(self.server, {"watch": doc})
        body = {"Application": t["app"], "SinceRevision": 0, "WaitSeconds": 0}
        st, _h, p, _raw = self.server.call_raw("Lever.WatchConfigurations", body, access_key=akid, secret_key=secret)
        self.assertEqual(st, 200, p)
        st, _h, p, _raw = self.server.call_raw("Lever.WatchConfigurations", {"SinceRevision": 0, "WaitSeconds": 0},
                                               access_key=akid, secret_key=secret)
        self.assertEqual((st, p.get("__type")), (400, "AccessDeniedException"), p)


if __name__ == "__main__":
    unittest.main()
