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

SWEEP_PAUSE = 0.01
LAG = re.compile(rb"^lever_agent_appconfig_watch_lag_seconds ([0-9.]+)$", re.M)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(port, path, conn_cache):
    c = conn_cache.get(port)
    if c is None:
        c = conn_cache[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException):
        conn_cache.pop(port, None)
        return 0, b""


def main():
    (build, endpoint, akid, secret, app, env, prof, a, e, p, n_agents, n_deps, tmp) = sys.argv[1:14]
    n_agents, n_deps = int(n_agents), int(n_deps)
    env_vars = {k: v for k, v in os.environ.items() if not k.startswith(("LEVER_", "AWS_"))}
    env_vars.update(AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret, AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                    LEVER_AGENT_LOG_LEVEL="warn")
    agents = []
    try:
        for i in range(n_agents):
            port = free_port()
            log = open(os.path.join(tmp, "prop-agent-%d.log" % i), "wb")
            proc = subprocess.Popen([os.path.join(build, "lever-agent"), "--upstream", endpoint, "--threads", "1",
                                     "--appconfig-listen", "127.0.0.1:%d" % port,
                                     "--appconfig-prefetch", "%s:%s:%s" % (app, env, prof)],
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
        ac = boto3.session.Session().client("appconfig", endpoint_url=endpoint, region_name="us-east-1",
                                            aws_access_key_id=akid, aws_secret_access_key=secret,
                                            config=botocore.config.Config(retries={"total_max_attempts": 1}))
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
                st, body = get(port, "/metrics", conns)
                m = LAG.search(body)
                if m:
                    print("lag\t%d\t%d\t%.3f" % (d, i, float(m.group(1)) * 1000), flush=True)
            time.sleep(0.2)
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
