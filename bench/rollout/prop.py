"""bench/rollout/prop.py - a deployment step, or a rollback, -> N lever-agents
serving the right content. Starts N lever-agents (AppConfig API only, one
HTTP thread each) that prefetch one profile, then D times: starts a gradual
deployment (LINEAR, 20 % a step), and for each of its first STEPS steps
waits until every agent serves the new version to an entity that the step
moved (its bucket is in the new share and not in the old one); then stops
the deployment and waits until every agent serves the old version to an
entity that had the new one. Per agent and event it records the agent's own
commit-to-serve delay (lever_agent_appconfig_watch_lag_seconds: from the
change's commit to the moment the agent applied it), and per event the wall
time from seeing the change (GetDeployment, or StopDeployment returning)
until the last agent was seen serving it (sampled: an upper bound).
Prints TSV lines:
    step <deployment> <agent> <ms>        rollback <deployment> <agent> <ms>
    stepwall <deployment> <ms>            rollbackwall <deployment> <ms>
Usage: prop.py BUILD ENDPOINT AKID SECRET AGENTS DEPLOYMENTS STEPS TMPDIR"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))
import bucketing  # noqa: E402  the published function, in Python

LAG = re.compile(rb"^lever_agent_appconfig_watch_lag_seconds ([0-9.]+)$", re.M)
WORKERS = 8


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(port, path, conns, entity=None):
    c = conns.get(port)
    if c is None:
        c = conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path, headers={"Entity-Id": entity} if entity else {})
        r = c.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException):
        conns.pop(port, None)
        return 0, b""


def entity_moved_by(seed, lo, hi):
    """An entity whose bucket is in the share of hi percent but not of lo."""
    a, b = bucketing.threshold(lo), bucketing.threshold(hi)
    for i in range(200000):
        e = "probe-%d" % i
        if a <= bucketing.bucket(seed, e) < b:
            return e
    raise SystemExit("no entity between %s and %s %%" % (lo, hi))


class Fleet:
    def __init__(self, ports, path, pool):
        self.ports, self.path, self.pool = ports, path, pool
        self.conns = [dict() for _ in range(WORKERS)]

    def wait_all(self, entity, content, limit_s=30):
        """Polls every agent until each serves content to entity; returns
        the time the last one was seen doing so."""
        pending = set(self.ports)
        limit = time.monotonic() + limit_s
        last = time.monotonic()
        while pending and time.monotonic() < limit:
            ports = sorted(pending)

            def check(i):
                return [p for p in ports[i::WORKERS] if get(p, self.path, self.conns[i], entity) == (200, content)]
            for got in self.pool.map(check, range(WORKERS)):
                pending.difference_update(got)
            last = time.monotonic()
        if pending:
            raise SystemExit("%d agents never served the right content to %s" % (len(pending), entity))
        return last

    def lags(self, conns):
        out = []
        for p in self.ports:
            st, body = get(p, "/metrics", conns)
            m = LAG.search(body)
            if m:
                out.append(float(m.group(1)) * 1000)
        return out


def main():
    build, endpoint, akid, secret, n_agents, n_deps, n_steps, tmp = sys.argv[1:9]
    n_agents, n_deps, n_steps = int(n_agents), int(n_deps), int(n_steps)
    ac = boto3.session.Session().client("appconfig", endpoint_url=endpoint, region_name="us-east-1",
                                        aws_access_key_id=akid, aws_secret_access_key=secret,
                                        config=botocore.config.Config(retries={"total_max_attempts": 1}))
    a = ac.create_application(Name="rollbench")["Id"]
    e = ac.create_environment(ApplicationId=a, Name="prod")["Id"]
    p = ac.create_configuration_profile(ApplicationId=a, Name="cfg", LocationUri="hosted")["Id"]
    old = json.dumps({"version": "old", "pad": "x" * 200}).encode()
    v_old = ac.create_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p, Content=old,
                                                   ContentType="application/json")["VersionNumber"]
    ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                        DeploymentStrategyId="Lever.AllAtOnce", ConfigurationVersion=str(v_old))
    # 20 % a step, a step every 2 strategy minutes (leverd's --time-scale makes that short)
    strategy = ac.create_deployment_strategy(Name="fifths", DeploymentDurationInMinutes=10, GrowthFactor=20,
                                             FinalBakeTimeInMinutes=0, GrowthType="LINEAR",
                                             ReplicateTo="NONE")["Id"]
    env_vars = {k: v for k, v in os.environ.items() if not k.startswith(("LEVER_", "AWS_"))}
    env_vars.update(AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret, AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                    LEVER_AGENT_LOG_LEVEL="warn")
    agents = []
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    try:
        for i in range(n_agents):
            port = free_port()
            log = open(os.path.join(tmp, "rollout-agent-%d.log" % i), "wb")
            proc = subprocess.Popen([os.path.join(build, "lever-agent"), "--upstream", endpoint, "--threads", "1",
                                     "--appconfig-listen", "127.0.0.1:%d" % port,
                                     "--appconfig-prefetch", "rollbench:prod:cfg"],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env_vars)
            agents.append((proc, port))
        conns = {}
        deadline = time.monotonic() + 60
        for proc, port in agents:
            while True:
                st, body = get(port, "/healthz", conns)
                if st == 200 and json.loads(body).get("watching"):
                    break
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("an agent did not start watching")
                time.sleep(0.02)
        fleet = Fleet([port for _proc, port in agents], "/applications/rollbench/environments/prod/configurations/cfg",
                      pool)
        fleet.wait_all("anyone", old)
        for d in range(1, n_deps + 1):
            new = json.dumps({"version": "new-%d" % d, "pad": "y" * 200}).encode()
            v = ac.create_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p, Content=new,
                                                       ContentType="application/json")["VersionNumber"]
            n = ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                                    DeploymentStrategyId=strategy, ConfigurationVersion=str(v))["DeploymentNumber"]
            seed = "appconfig:%s:%s:%d" % (a, e, n)
            prev, seen_steps, on_new = 0.0, 0, None
            limit = time.monotonic() + 120
            while seen_steps < n_steps and time.monotonic() < limit:
                dep = ac.get_deployment(ApplicationId=a, EnvironmentId=e, DeploymentNumber=n)
                pct = dep["PercentageComplete"]
                if dep["State"] != "DEPLOYING" or pct >= 100:
                    break
                if pct <= prev:
                    time.sleep(0.005)
                    continue
                t0 = time.monotonic()
                ent = entity_moved_by(seed, prev, pct)
                last = fleet.wait_all(ent, new)
                print("stepwall\t%d\t%.3f" % (d, (last - t0) * 1000), flush=True)
                for i, lag in enumerate(fleet.lags(conns)):
                    print("step\t%d\t%d\t%.3f" % (d, i, lag), flush=True)
                prev, on_new, seen_steps = pct, ent, seen_steps + 1
            if on_new is None:
                raise SystemExit("deployment %d: no step seen" % d)
            t0 = time.monotonic()
            ac.stop_deployment(ApplicationId=a, EnvironmentId=e, DeploymentNumber=n)
            last = fleet.wait_all(on_new, old)
            print("rollbackwall\t%d\t%.3f" % (d, (last - t0) * 1000), flush=True)
            for i, lag in enumerate(fleet.lags(conns)):
                print("rollback\t%d\t%d\t%.3f" % (d, i, lag), flush=True)
    finally:
        for proc, _port in agents:
            proc.terminate()
        for proc, _port in agents:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
