"""bench/rollout/chart.py - docs/rollouts-chart.png from a real, time-scaled
run: a leverd (--time-scale 60) and a lever-agent from the build, one
configuration deployed twice with a LINEAR 10 %-a-step strategy. The first
deployment completes; during the second an alarm goes off and it rolls
back. Every 0.2 s the script samples the deployment's PercentageComplete
(GetDeployment) and the share of 1,000 entities (Entity-Id) the agent serves
the deployment's new version, and plots both over time. Debian's
python3-boto3 and python3-matplotlib (scripts/deps.sh bench list).

    /usr/bin/python3 bench/rollout/chart.py [--build DIR] [--out FILE] [--tsv FILE]
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
AK, SK = "AKIALVCHARTROLLOUT01", "lvchartRolloutSecret0123456789abcdefghij"
ENTITIES = ["user-%d" % i for i in range(1000)]
ALARM = "chart-error-rate"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


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


class Sampler(threading.Thread):
    """Samples (time, percentage, served share) until stopped."""

    def __init__(self, ac, agent_port, path):
        super().__init__(daemon=True)
        self.ac, self.port, self.path = ac, agent_port, path
        self.target = None        # (app, env, number, new content)
        self.rows = []
        self.stop_flag = threading.Event()
        self.t0 = time.monotonic()
        self.conn = None

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

    def run(self):
        while not self.stop_flag.is_set():
            t = self.target
            if t:
                a, e, n, content = t
                d = self.ac.get_deployment(ApplicationId=a, EnvironmentId=e, DeploymentNumber=n)
                self.rows.append((time.monotonic() - self.t0, n, d["State"], d["PercentageComplete"],
                                  self.share(content)))
            time.sleep(0.2)


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
                                            config=botocore.config.Config(retries={"total_max_attempts": 1}))
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
        sampler.stop_flag.set()
        sampler.join(10)
        return sampler.rows, events
    finally:
        for pr in procs:
            pr.terminate()
        for pr in procs:
            try:
                pr.wait(10)
            except subprocess.TimeoutExpired:
                pr.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def plot(rows, events, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=100)
    for n in sorted({r[1] for r in rows}):
        rs = [r for r in rows if r[1] == n]
        ts = [r[0] for r in rs]
        ax.step(ts, [r[3] for r in rs], where="post", color="#1f77b4", linewidth=2,
                label="PercentageComplete (GetDeployment)" if n == rows[0][1] else None)
        ax.plot(ts, [r[4] for r in rs], "o", markersize=3, color="#d62728",
                label="served the new version through lever-agent (1,000 Entity-Ids)" if n == rows[0][1] else None)
    end = max(r[0] for r in rows)
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
    rows, events = run(args.build)
    if args.tsv:
        with open(args.tsv, "w") as f:
            f.write("seconds\tdeployment\tstate\tpercentage\tserved_share\n")
            for r in rows:
                f.write("%.3f\t%d\t%s\t%.2f\t%.2f\n" % r)
    plot(rows, events, args.out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
