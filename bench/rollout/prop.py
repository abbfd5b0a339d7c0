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
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))
import bucketing  # noqa: E402  the published function, in Python
from agentfleet import appconfig_client, get, lag_ms, start_agents, stop_agents, wait_watching  # noqa: E402

WORKERS = 8


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
        return [lag for lag in (lag_ms(p, conns) for p in self.ports) if lag is not None]


def main():
    build, endpoint, akid, secret, n_agents, n_deps, n_steps, tmp = sys.argv[1:9]
    n_agents, n_deps, n_steps = int(n_agents), int(n_deps), int(n_steps)
    ac = appconfig_client(endpoint, akid, secret)
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
    agents = []
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    try:
        start_agents(agents, build, endpoint, akid, secret, n_agents, "rollbench:prod:cfg", tmp, "rollout-agent")
        conns = {}
        wait_watching(agents, conns)
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
        stop_agents(agents)


if __name__ == "__main__":
    main()
