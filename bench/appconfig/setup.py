"""bench/appconfig/setup.py ENDPOINT APP ENV PROFILE FILE - creates a hosted
AppConfig profile, stores FILE as version 1 and deploys it (AllAtOnce);
prints the application, environment and profile ids. Used by
bench/appconfig.sh (Debian's python3-boto3)."""
import sys
import time

import boto3
import botocore.config


def client(endpoint):
    return boto3.session.Session().client(
        "appconfig", endpoint_url=endpoint, region_name="us-east-1",
        config=botocore.config.Config(retries={"total_max_attempts": 1}))


def wait_served(ac, a, e, n):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ac.get_deployment(ApplicationId=a, EnvironmentId=e, DeploymentNumber=n)["State"] in ("BAKING",
                                                                                               "COMPLETE"):
            return
        time.sleep(0.01)
    raise SystemExit("deployment %d did not reach every client" % n)


def main():
    endpoint, app, env, prof, path = sys.argv[1:6]
    ac = client(endpoint)
    a = ac.create_application(Name=app)["Id"]
    e = ac.create_environment(ApplicationId=a, Name=env)["Id"]
    p = ac.create_configuration_profile(ApplicationId=a, Name=prof, LocationUri="hosted")["Id"]
    with open(path, "rb") as f:
        v = ac.create_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p, Content=f.read(),
                                                   ContentType="application/json")["VersionNumber"]
    n = ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                            DeploymentStrategyId="AppConfig.AllAtOnce", ConfigurationVersion=str(v))["DeploymentNumber"]
    wait_served(ac, a, e, n)
    print(a, e, p)


if __name__ == "__main__":
    main()
