"""bench/rollout/busy.py - N gradual deployments kept in progress, for the
bookkeeping-cost benchmark of bench/rollout.sh (Debian's python3-boto3):
    busy.py setup ENDPOINT N FILE   N applications/environments/profiles, two
                                    versions each, the first deployed; ids to FILE
    busy.py start ENDPOINT FILE     a slow gradual deployment of the second
                                    version in each (LINEAR 1 % a step), unless
                                    one is in progress already
    busy.py stop ENDPOINT FILE      stops every deployment in progress
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."""
import json
import sys
import time

import boto3
import botocore.config


def client(endpoint):
    return boto3.session.Session().client(
        "appconfig", endpoint_url=endpoint, region_name="us-east-1",
        config=botocore.config.Config(retries={"total_max_attempts": 1}))


def setup(ac, n, path):
    # 1 % a step over a day: at --time-scale 600 each deployment steps every 1.44 s
    s = ac.create_deployment_strategy(Name="slow", DeploymentDurationInMinutes=1440, GrowthFactor=1,
                                      FinalBakeTimeInMinutes=0, GrowthType="LINEAR", ReplicateTo="NONE")["Id"]
    items = []
    for i in range(n):
        a = ac.create_application(Name="busy%d" % i)["Id"]
        e = ac.create_environment(ApplicationId=a, Name="prod")["Id"]
        p = ac.create_configuration_profile(ApplicationId=a, Name="cfg", LocationUri="hosted")["Id"]
        vs = [ac.create_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p,
                                                     Content=json.dumps({"busy": i, "v": v}).encode(),
                                                     ContentType="application/json")["VersionNumber"]
              for v in (1, 2)]
        ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                            DeploymentStrategyId="Lever.AllAtOnce", ConfigurationVersion=str(vs[0]))
        items.append({"a": a, "e": e, "p": p, "v": vs[1], "name": "busy%d:prod:cfg" % i})
    with open(path, "w") as f:
        json.dump({"strategy": s, "items": items}, f)


def start(ac, path):
    with open(path) as f:
        doc = json.load(f)
    for it in doc["items"]:
        # already in progress (the previous round ended busy): keep it
        ds = ac.list_deployments(ApplicationId=it["a"], EnvironmentId=it["e"])["Items"]
        if any(d["State"] in ("DEPLOYING", "BAKING", "VALIDATING") for d in ds):
            continue
        ac.start_deployment(ApplicationId=it["a"], EnvironmentId=it["e"], ConfigurationProfileId=it["p"],
                            DeploymentStrategyId=doc["strategy"], ConfigurationVersion=str(it["v"]))


def stop(ac, path):
    with open(path) as f:
        doc = json.load(f)
    for it in doc["items"]:
        for d in ac.list_deployments(ApplicationId=it["a"], EnvironmentId=it["e"])["Items"]:
            if d["State"] in ("DEPLOYING", "BAKING", "VALIDATING"):
                ac.stop_deployment(ApplicationId=it["a"], EnvironmentId=it["e"],
                                   DeploymentNumber=d["DeploymentNumber"])
    # wait until none is in progress (the environments accept the next start)
    deadline = time.monotonic() + 30
    for it in doc["items"]:
        while time.monotonic() < deadline:
            ds = ac.list_deployments(ApplicationId=it["a"], EnvironmentId=it["e"])["Items"]
            if not any(d["State"] in ("DEPLOYING", "BAKING", "VALIDATING", "ROLLING_BACK") for d in ds):
                break
            time.sleep(0.02)


def main():
    cmd, endpoint = sys.argv[1], sys.argv[2]
    ac = client(endpoint)
    if cmd == "setup":
        setup(ac, int(sys.argv[3]), sys.argv[4])
    elif cmd == "start":
        start(ac, sys.argv[3])
    elif cmd == "stop":
        stop(ac, sys.argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
