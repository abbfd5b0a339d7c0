"""`lever deploy` against a real leverd (--time-scale): a rollout started
with each kind of strategy name (AWS id, Lever.*, CodeDeploy's bare and
prefixed names), followed to its end with the event log, exit 0 on
COMPLETE and 6 when it is rolled back (--stop, an alarm); `deploy status`
(newest deployment, a number, --follow), -o json; a parameter label moved
with NAME:LABEL; the progress bar on a
terminal (a real pty); usage errors."""
import json
import os
import pty
import re
import select
import subprocess
import time
import unittest

from appconfig_agent import Operator, unique
from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir

LEVER = os.path.join(build_dir(), "lever")


class CliDeployTest(LeverTestCase):
    # one minute of strategy time is 0.1 s
    LEVERD_KW = {"extra_env": {"LEVER_TIME_SCALE": "600"}}

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        env.update(HOME=self.server.tmp, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   LEVER_ENDPOINT=self.server.endpoint)
        return env

    def lever(self, *args, timeout=120):
        p = subprocess.run([LEVER] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(),
                           timeout=timeout, text=True)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args):
        rc, out, err = self.lever(*args)
        self.assertEqual(rc, 0, "lever %s: %s%s" % (" ".join(args), out, err))
        return out

    def setUp(self):
        self.op = Operator(self.server)
        self.app, self.envname, self.prof = unique("shop"), unique("prod"), unique("cfg")
        self.a, self.e, self.p = self.op.profile(self.app, self.envname, self.prof)
        self.v1 = self.op.store(self.a, self.p, {"v": 1})
        self.v2 = self.op.store(self.a, self.p, {"v": 2})

    def deployment(self, n):
        return self.op.ac.get_deployment(ApplicationId=self.a, EnvironmentId=self.e, DeploymentNumber=n)

    def test_follows_to_complete_with_events(self):
        rc, out, err = self.lever("deploy", self.app, self.envname, self.prof, str(self.v1),
                                  "--strategy", "Linear10PercentEvery1Minute")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("deployment 1: %s version %d to %s with Lever.Linear10PercentEvery1Minute"
                      % (self.prof, self.v1, self.envname), out)
        d = self.deployment(1)
        self.assertEqual(d["State"], "COMPLETE")
        self.assertEqual(d["DeploymentStrategyId"], "Lever.Linear10PercentEvery1Minute")
        # plain lines (not a terminal): every event once, oldest first, and the progress
        events = [e["EventType"] for e in reversed(d["EventLog"])]
        printed = re.findall(r"^\d{4}-\S+\s+([A-Z_]+)\s", out, re.M)
        self.assertEqual(printed, events)
        self.assertIn("DEPLOYMENT_STARTED", printed)
        self.assertIn("DEPLOYMENT_COMPLETED", printed)
        self.assertRegex(out, r"(?m)^100\.0% COMPLETE$")

    def test_strategy_names(self):
        cases = [("AppConfig.AllAtOnce", "AppConfig.AllAtOnce"),
                 ("Lever.AllAtOnce", "Lever.AllAtOnce"),
                 ("AllAtOnce", "Lever.AllAtOnce"),
                 ("CodeDeployDefault.LambdaAllAtOnce", "Lever.AllAtOnce"),
                 ("CodeDeployDefault.ECSCanary10Percent5Minutes", "Lever.Canary10Percent5Minutes"),
                 ("Canary10Percent5Minutes", "Lever.Canary10Percent5Minutes")]
        n = 0
        for typed, sid in cases:
            n += 1
            rc, out, err = self.lever("deploy", self.app, self.envname, self.prof, str(self.v1 if n % 2 else self.v2),
                                      "--strategy", typed, "-o", "json")
            self.assertEqual(rc, 0, typed + ": " + err)
            d = json.loads(out)
            self.assertEqual(d["DeploymentStrategyId"], sid, typed)
            self.assertEqual(d["State"], "COMPLETE", typed)
            self.assertEqual(d["DeploymentNumber"], n)
        # a strategy of one's own, by name
        own = self.op.ac.create_deployment_strategy(Name=unique("fast"), DeploymentDurationInMinutes=1,
                                                    GrowthFactor=50, FinalBakeTimeInMinutes=0,
                                                    GrowthType="LINEAR", ReplicateTo="NONE")
        rc, out, err = self.lever("deploy", self.app, self.envname, self.prof, str(self.v2), "--strategy",
                                  own["Name"], "-o", "json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["DeploymentStrategyId"], own["Id"])
        rc, out, err = self.lever("deploy", self.app, self.envname, self.prof, "1", "--strategy", "Canary99Forever")
        self.assertEqual(rc, 3)
        self.assertIn("Canary10Percent5Minutes", err)

    def test_stop_rolls_back_exit_6(self):
        self.ok("deploy", self.app, self.envname, self.prof, str(self.v1), "--strategy", "AllAtOnce")
        # 30 strategy minutes are 3 s here: --detach, then stop it while it runs
        out = self.ok("deploy", self.app, self.envname, self.prof, str(self.v2), "--strategy",
                      "Canary10Percent30Minutes", "--detach")
        self.assertIn("deployment 2:", out)
        status = self.ok("deploy", "status", self.app, self.envname)
        self.assertIn("deployment 2 of %s" % self.prof, status)
        self.assertRegex(status, r"DEPLOYING|BAKING")
        follower = subprocess.Popen([LEVER, "deploy", "status", self.app, self.envname, "2", "--follow"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(), text=True)
        out = self.ok("deploy", "--stop", self.app, self.envname)
        self.assertIn("ROLLED_BACK", out)
        fout, ferr = follower.communicate(timeout=60)
        self.assertEqual(follower.returncode, 6, fout + ferr)
        self.assertIn("ROLLED_BACK", fout)
        self.assertIn("ROLLED_BACK", ferr)
        self.assertEqual(self.deployment(2)["State"], "ROLLED_BACK")
        # status of a finished one, and of the first by number
        self.assertIn("COMPLETE", self.ok("deploy", "status", self.app, self.envname, "1"))
        js = json.loads(self.ok("deploy", "status", self.app, self.envname, "-o", "json"))
        self.assertEqual((js["DeploymentNumber"], js["State"]), (2, "ROLLED_BACK"))

    def test_alarm_rolls_back_exit_6(self):
        alarm = unique("errors")
        self.ok("alarm", "put", alarm)
        arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:%s" % alarm
        role = "arn:aws:iam::123456789012:role/lever"
        self.op.ac.update_environment(ApplicationId=self.a, EnvironmentId=self.e,
                                      Monitors=[{"AlarmArn": arn, "AlarmRoleArn": role}])
        follower = subprocess.Popen([LEVER, "deploy", self.app, self.envname, self.prof, str(self.v1), "--strategy",
                                     "Linear10PercentEvery10Minutes"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=self.env(), text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ds = self.op.ac.list_deployments(ApplicationId=self.a, EnvironmentId=self.e)["Items"]
            if ds and ds[0]["State"] == "DEPLOYING":
                break
            time.sleep(0.05)
        self.ok("alarm", "set", alarm, "ALARM", "--reason", "error rate")
        out, err = follower.communicate(timeout=60)
        self.assertEqual(follower.returncode, 6, out + err)
        self.assertIn("ROLLED_BACK", out)

    def test_progress_bar_on_a_terminal(self):
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(LEVER, [LEVER, "deploy", self.app, self.envname, self.prof, str(self.v1), "--strategy",
                              "Linear10PercentEvery1Minute"], self.env())
        buf = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 1)
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, buf.decode(errors="replace"))
        text = buf.decode(errors="replace")
        # the bar is redrawn in place (carriage return, erase line) and ends full
        self.assertIn("\r\x1b[K[", text)
        self.assertIn("[" + "#" * 30 + "] 100.0%  COMPLETE", text)
        self.assertIn("DEPLOYMENT_COMPLETED", text)

    def test_label_rollout(self):
        name = "/%s/db/url" % unique("svc")
        self.ssm.put_parameter(Name=name, Value="old", Type="String")
        self.ssm.put_parameter(Name=name, Value="new", Type="String", Overwrite=True)
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["live"])
        rc, out, err = self.lever("deploy", name + ":live", "2", "--strategy", "Linear10PercentEvery1Minute")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("moving %s:live to version 2 with Lever.Linear10PercentEvery1Minute" % name, out)
        self.assertRegex(out, r"(?m)^100\.0% COMPLETE$")
        self.assertEqual(self.ssm.get_parameter(Name=name + ":live")["Parameter"]["Value"], "new")
        status = self.ok("deploy", "status", name + ":live")
        self.assertIn("%s:live -> version 2" % name, status)
        self.assertIn("COMPLETE", status)

    def test_usage(self):
        rc, out, err = self.lever("deploy", self.app, self.envname)
        self.assertEqual(rc, 2)
        rc, out, err = self.lever("deploy", "--stop")
        self.assertEqual(rc, 2)
        rc, out, err = self.lever("deploy", "status", self.app, self.envname, "x")
        self.assertEqual(rc, 2)
        rc, out, err = self.lever("deploy", "status", self.app, self.envname)
        self.assertEqual(rc, 3, "no deployment yet")
        rc, out, err = self.lever("deploy", "no-app", "e", "p", "1")
        self.assertEqual(rc, 3)
        self.assertIn("--strategy", self.ok("deploy", "--help"))
        self.assertIn("deploy", self.ok("--help"))


if __name__ == "__main__":
    unittest.main()
