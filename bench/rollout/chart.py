"""bench/rollout/chart.py - docs/rollouts-chart.png from a real, time-scaled
run: a leverd (--time-scale 60) and a lever-agent from the build, one
configuration deployed twice with a LINEAR 10 %-a-step strategy. The first
deployment completes; during the second an alarm goes off and it rolls
back. The script samples the deployment's PercentageComplete
(GetDeployment, every 0.1 s) and, in back-to-back sweeps, the share of
1,000 entities (Entity-Id) the agent serves the deployment's new version,
and plots both over time. Debian's
python3-boto3 and python3-matplotlib (scripts/deps.sh bench list).

    /usr/bin/python3 bench/rollout/chart.py [--build DIR] [--out FILE] [--tsv FILE]
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, ".."))
from agentfleet import free_port  # noqa: E402
AK, SK = "AKIALVCHARTROLLOUT01", "lvchartRolloutSecret0123456789abcdefghij"
ENTITIES = ["user-%d" % i for i in range(1000)]
ALARM = "chart-error-rate"


def wait_http(port, path, deadline_s=20):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("nothing answers on port %d" % port)


class Sampler:
    """Two threads until stopped: the deployment's percentage every 0.1 s
    (GetDeployment is cheap), and back-to-back sweeps of the entities
    through the agent (each sample at the middle of its sweep)."""

    def __init__(self, ac, agent_port, path):
        self.ac, self.port, self.path = ac, agent_port, path
        self.target = None        # (app, env, number, new content)
        self.pcts, self.shares = [], []
        self.stop_flag = threading.Event()
        self.t0 = time.monotonic()
        self.conn = None
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.sample_pct, self.sample_share)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(10)

    def share(self, content):
        new = 0
        for e in ENTITIES:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                self.conn.request("GET", self.path, headers={"Entity-Id": e})
                r = self.conn.getresponse()
                new += r.read() == content
            except (OSError, http.client.HTTPException):
                self.conn = None
        return 100.0 * new / len(ENTITIES)

    def sample_pct(self):
        while not self.stop_flag.is_set():
            t = self.target
            if t:
                a, e, n, _content = t
                d = self.ac.get_deployment(ApplicationId=a, EnvironmentId=e, DeploymentNumber=n)
                self.pcts.append((time.monotonic() - self.t0, n, d["State"], d["PercentageComplete"]))
            time.sleep(0.1)

    def sample_share(self):
        while not self.stop_flag.is_set():
            t = self.target
            if t:
                t1 = time.monotonic()
                v = self.share(t[3])
                if self.target is t:  # not across a change of deployment
                    self.shares.append(((t1 + time.monotonic()) / 2 - self.t0, t[2], v))
            else:
                time.sleep(0.1)


def lever_cli(build, endpoint, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
    env.update(AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK, LEVER_ENDPOINT=endpoint, HOME=tempfile.gettempdir())
    subprocess.run([os.path.join(build, "lever")] + list(args), env=env, check=True, stdout=subprocess.DEVNULL)


def run(build):
    tmp = tempfile.mkdtemp(prefix="lever-chart-")
    procs = []
    try:
        lp, ap = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        env.update(LEVER_ROOT_ACCESS_KEY_ID=AK, LEVER_ROOT_SECRET_ACCESS_KEY=SK, LEVER_TIME_SCALE="60")
        procs.append(subprocess.Popen([os.path.join(build, "leverd"), "--data", os.path.join(tmp, "data"),
                                       "--listen", "127.0.0.1:%d" % lp], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        wait_http(lp, "/healthz")
        endpoint = "http://127.0.0.1:%d" % lp
        ac = boto3.session.Session().client("appconfig", endpoint_url=endpoint, region_name="us-east-1",
                                            aws_access_key_id=AK, aws_secret_access_key=SK,
                                            config=botocore.config.Config(retries={"total_max_attempts": 1},
                                                                          max_pool_connections=4))
        a = ac.create_application(Name="shop")["Id"]
        e = ac.create_environment(ApplicationId=a, Name="prod", Monitors=[{
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:%s" % ALARM,
            "AlarmRoleArn": "arn:aws:iam::123456789012:role/lever"}])["Id"]
        p = ac.create_configuration_profile(ApplicationId=a, Name="settings", LocationUri="hosted")["Id"]
        contents = [json.dumps({"checkout": v}).encode() for v in ("v1", "v2", "v3")]
        vs = [ac.create_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p, Content=c,
                                                     ContentType="application/json")["VersionNumber"]
              for c in contents]
        lever_cli(build, endpoint, "alarm", "put", ALARM)
        lever_cli(build, endpoint, "alarm", "set", ALARM, "OK", "--reason", "healthy")
        ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                            DeploymentStrategyId="Lever.AllAtOnce", ConfigurationVersion=str(vs[0]))
        # 10 % a step, a step every 2 strategy minutes: 2 s at 60x
        s = ac.create_deployment_strategy(Name="tenths", DeploymentDurationInMinutes=20, GrowthFactor=10,
                                          FinalBakeTimeInMinutes=0, GrowthType="LINEAR", ReplicateTo="NONE")["Id"]
        aenv = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        aenv.update(AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK, AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                    LEVER_AGENT_LOG_LEVEL="warn", HOME=tmp)
        procs.append(subprocess.Popen([os.path.join(build, "lever-agent"), "--upstream", endpoint,
                                       "--appconfig-listen", "127.0.0.1:%d" % ap,
                                       "--appconfig-prefetch", "shop:prod:settings"], env=aenv,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp))
        wait_http(ap, "/healthz")
        sampler = Sampler(ac, ap, "/applications/shop/environments/prod/configurations/settings")
        sampler.start()
        events = []

        def deploy(i):
            n = ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                                    DeploymentStrategyId=s, ConfigurationVersion=str(vs[i]))["DeploymentNumber"]
            events.append((time.monotonic() - sampler.t0, "deployment %d starts (v%d)" % (n, i + 1)))
            sampler.target = (a, e, n, contents[i])
            return n

        def wait(n, cond, limit=120):
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                d = ac.get_deployment(ApplicationId=a, EnvironmentId=e, DeploymentNumber=n)
                if cond(d):
                    return d
                time.sleep(0.05)
            raise SystemExit("deployment %d: gave up waiting (%s)" % (n, d["State"]))

        n = deploy(1)
        wait(n, lambda d: d["State"] == "COMPLETE")
        time.sleep(1.5)
        n = deploy(2)
        wait(n, lambda d: d["PercentageComplete"] >= 50)
        time.sleep(1)  # let the samples show the step before the alarm
        lever_cli(build, endpoint, "alarm", "set", ALARM, "ALARM", "--reason", "error rate 7%")
        events.append((time.monotonic() - sampler.t0, "alarm: error rate"))
        wait(n, lambda d: d["State"] == "ROLLED_BACK")
        time.sleep(2.5)
        sampler.stop()
        return sampler.pcts, sampler.shares, events
    finally:
        for pr in procs:
            pr.terminate()
        for pr in procs:
            try:
                pr.wait(10)
            except subprocess.TimeoutExpired:
                pr.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def plot(pcts, shares, events, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=100)
    first = True
    for n in sorted({r[1] for r in pcts}):
        ps = [r for r in pcts if r[1] == n]
        ss = [r for r in shares if r[1] == n]
        ax.step([r[0] for r in ps], [r[3] for r in ps], where="post", color="#1f77b4", linewidth=2,
                label="PercentageComplete (GetDeployment)" if first else None)
        ax.plot([r[0] for r in ss], [r[2] for r in ss], "o", markersize=3, color="#d62728",
                label="served the new version through lever-agent (%s Entity-Ids)" % format(len(ENTITIES), ",")
                if first else None)
        first = False
    end = max(r[0] for r in pcts)
    for t, text in events:
        ax.axvline(t, color="#888888", linestyle=":", linewidth=1)
        ax.annotate(text, (t, 103), fontsize=8, ha="right" if t > 0.8 * end else "left", va="bottom",
                    color="#444444")
    ax.set_xlabel("seconds (leverd --time-scale 60: a 2-minute step every 2 s)")
    ax.set_ylabel("% of clients")
    ax.set_ylim(-2, 112)
    ax.set_title("Two LINEAR 10 % deployments: the first completes, an alarm rolls the second back", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(0.62, 0.9), fontsize=8)
    fig.tight_layout()
    fig.savefig(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("BUILD", os.path.join(REPO, "build")))
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "rollouts-chart.png"))
    ap.add_argument("--tsv", default=None, help="also write the samples here")
    args = ap.parse_args()
    pcts, shares, events = run(args.build)
    if args.tsv:
        with open(args.tsv, "w") as f:
            f.write("kind\tseconds\tdeployment\tvalue\n")
            for t, n, _state, p in pcts:
                f.write("percentage\t%.3f\t%d\t%.2f\n" % (t, n, p))
            for t, n, v in shares:
                f.write("served\t%.3f\t%d\t%.2f\n" % (t, n, v))
    plot(pcts, shares, events, args.out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
