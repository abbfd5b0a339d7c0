"""bench/agentfleet.py - what the propagation probers share
(bench/appconfig/prop.py, bench/rollout/prop.py): N lever-agents from the
build serving the AppConfig API only (one HTTP thread each, one prefetched
profile), started and waited for until each one's watch is current, read
over kept-alive loopback connections, their commit-to-serve delay from
/metrics, a boto3 AppConfig client for leverd, and stopping them all.
bench/rollout/chart.py takes free_port from here too."""
import http.client
import json
import os
import re
import socket
import subprocess
import time

import boto3
import botocore.config

LAG = re.compile(rb"^lever_agent_appconfig_watch_lag_seconds ([0-9.]+)$", re.M)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(port, path, conns, entity=None):
    """GET path from the agent on port (with Entity-Id when entity), over
    the connection kept in conns; (0, b"") when the connection failed."""
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


def lag_ms(port, conns):
    """The agent's lever_agent_appconfig_watch_lag_seconds in ms, or None."""
    _st, body = get(port, "/metrics", conns)
    m = LAG.search(body)
    return float(m.group(1)) * 1000 if m else None


def appconfig_client(endpoint, akid, secret):
    return boto3.session.Session().client("appconfig", endpoint_url=endpoint, region_name="us-east-1",
                                          aws_access_key_id=akid, aws_secret_access_key=secret,
                                          config=botocore.config.Config(retries={"total_max_attempts": 1}))


def start_agents(agents, build, endpoint, akid, secret, n, prefetch, tmp, log_name):
    """Starts n agents prefetching prefetch ("app:env:profile"), each
    logging to tmp/<log_name>-<i>.log, appending (proc, port) to agents as
    each starts, so that stop_agents(agents) stops them also when this
    raises."""
    env_vars = {k: v for k, v in os.environ.items() if not k.startswith(("LEVER_", "AWS_"))}
    env_vars.update(AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret, AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                    LEVER_AGENT_LOG_LEVEL="warn")
    for i in range(n):
        port = free_port()
        log = open(os.path.join(tmp, "%s-%d.log" % (log_name, i)), "wb")
        proc = subprocess.Popen([os.path.join(build, "lever-agent"), "--upstream", endpoint, "--threads", "1",
                                 "--appconfig-listen", "127.0.0.1:%d" % port,
                                 "--appconfig-prefetch", prefetch],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env_vars)
        agents.append((proc, port))


def wait_watching(agents, conns, limit_s=60):
    """Waits until every agent's /healthz says its watch is current."""
    deadline = time.monotonic() + limit_s
    for proc, port in agents:
        while True:
            st, body = get(port, "/healthz", conns)
            if st == 200 and json.loads(body).get("watching"):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("an agent did not start watching")
            time.sleep(0.02)


def stop_agents(agents):
    for proc, _port in agents:
        proc.terminate()
    for proc, _port in agents:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
