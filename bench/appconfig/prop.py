"""bench/appconfig/prop.py - deployment complete -> N lever-agents serving the
new content. Starts N lever-agents (AppConfig API only, one HTTP thread
each) that prefetch one profile, then D times: stores a new hosted version,
deploys it AllAtOnce, and waits until every agent serves it. Per agent and
deployment it records the agent's own commit-to-serve delay
(lever_agent_appconfig_watch_lag_seconds: from the deployment change's
commit time to the moment the new content is stored and served), and per
deployment the wall time until the last agent was seen serving it
(sampled, so an upper bound). The prober sweeps the agents every 10 ms: a
prober that spins takes a core of the two that the 100 agents and leverd
share, and measured itself as much as the agents (p50 36 -> 25 ms). Prints TSV lines:
    lag <deployment> <agent> <ms>
    all <deployment> <ms>
Usage: prop.py BUILD ENDPOINT AKID SECRET APP ENV PROFILE APPID ENVID PROFID AGENTS DEPLOYMENTS TMPDIR"""
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from agentfleet import appconfig_client, get, lag_ms, start_agents, stop_agents, wait_watching  # noqa: E402

SWEEP_PAUSE = 0.01


def main():
    (build, endpoint, akid, secret, app, env, prof, a, e, p, n_agents, n_deps, tmp) = sys.argv[1:14]
    n_agents, n_deps = int(n_agents), int(n_deps)
    agents = []
    try:
        start_agents(agents, build, endpoint, akid, secret, n_agents, "%s:%s:%s" % (app, env, prof), tmp,
                     "prop-agent")
        conns = {}
        wait_watching(agents, conns)
        ac = appconfig_client(endpoint, akid, secret)
        path = "/applications/%s/environments/%s/configurations/%s" % (app, env, prof)
        pool = ThreadPoolExecutor(max_workers=8)
        for d in range(1, n_deps + 1):
            content = json.dumps({"deployment": d, "pad": "x" * 200}).encode()
            v = ac.create_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p, Content=content,
                                                       ContentType="application/json")["VersionNumber"]
            t0 = time.monotonic()
            ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                                DeploymentStrategyId="AppConfig.AllAtOnce", ConfigurationVersion=str(v))
            pending = {port for _proc, port in agents}
            chunk_conns = [dict() for _ in range(8)]
            last_seen = t0
            limit = time.monotonic() + 30
            while pending and time.monotonic() < limit:
                # sweep every few ms rather than spin: the prober shares the
                # cores with the agents it measures
                time.sleep(SWEEP_PAUSE)
                ports = sorted(pending)
                def check(i):
                    got = []
                    for port in ports[i::8]:
                        st, body = get(port, path, chunk_conns[i])
                        if st == 200 and body == content:
                            got.append(port)
                    return got
                for got in pool.map(check, range(8)):
                    for port in got:
                        pending.discard(port)
                last_seen = time.monotonic()
            if pending:
                raise SystemExit("deployment %d: %d agents never served it" % (d, len(pending)))
            print("all\t%d\t%.3f" % (d, (last_seen - t0) * 1000), flush=True)
            for i, (_proc, port) in enumerate(agents):
                lag = lag_ms(port, conns)
                if lag is not None:
                    print("lag\t%d\t%d\t%.3f" % (d, i, lag), flush=True)
            time.sleep(0.2)
    finally:
        stop_agents(agents)


if __name__ == "__main__":
    main()
