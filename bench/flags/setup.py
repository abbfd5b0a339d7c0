"""bench/flags/setup.py ENDPOINT APP ENV PROFILE OUT.json - writes the
benchmark's feature flag document to OUT.json (a flag "checkout" with 10
variants whose rules use a spread of operators, and 20 plain flags), creates
an AWS.AppConfig.FeatureFlags profile with it as version 1, deploys it
(AllAtOnce) and prints the application, environment and profile ids. Used
by bench/flags.sh (Debian's python3-boto3)."""
import json
import sys
import time

import boto3
import botocore.config

RULES = [
    ("gold", '(eq $plan "gold")'),
    ("admins", '(begins_with $email "admin@")'),
    ("qa", '(ends_with $email "@qa.example.com")'),
    ("beta", '(exists key::"beta")'),
    ("eu", '(in $country ["FR","DE","IT","ES"])'),
    ("seniors", "(gte $age 65)"),
    ("staff", '(matches in::$email pattern::"^[a-z]+@corp\\\\.example$")'),
    ("young-pro", '(and (eq $plan "pro") (lt $age 30))'),
    ("sample", '(split pct::5 by::$email seed::"bench")'),
]


def document():
    flags = {"checkout": {"name": "Checkout", "attributes": {"steps": {"constraints": {"type": "number"}}}}}
    values = {"checkout": {"_variants": [
        {"name": n, "enabled": True, "rule": r, "attributeValues": {"steps": i + 1}} for i, (n, r) in enumerate(RULES)
    ] + [{"name": "default", "enabled": True, "attributeValues": {"steps": 4}}]}}
    for i in range(20):
        flags["plain_%02d" % i] = {"name": "plain %d" % i}
        values["plain_%02d" % i] = {"enabled": i % 2 == 0}
    return {"version": "1", "flags": flags, "values": values}


def main():
    endpoint, app, env, prof, out = sys.argv[1:6]
    doc = document()
    with open(out, "w") as f:
        json.dump(doc, f)
    ac = boto3.session.Session().client("appconfig", endpoint_url=endpoint, region_name="us-east-1",
                                        config=botocore.config.Config(retries={"total_max_attempts": 1}))
    a = ac.create_application(Name=app)["Id"]
    e = ac.create_environment(ApplicationId=a, Name=env)["Id"]
    p = ac.create_configuration_profile(ApplicationId=a, Name=prof, LocationUri="hosted",
                                        Type="AWS.AppConfig.FeatureFlags")["Id"]
    v = ac.create_hosted_configuration_version(ApplicationId=a, ConfigurationProfileId=p,
                                               Content=json.dumps(doc).encode(),
                                               ContentType="application/json")["VersionNumber"]
    n = ac.start_deployment(ApplicationId=a, EnvironmentId=e, ConfigurationProfileId=p,
                            DeploymentStrategyId="AppConfig.AllAtOnce", ConfigurationVersion=str(v))["DeploymentNumber"]
    deadline = time.monotonic() + 60
    while ac.get_deployment(ApplicationId=a, EnvironmentId=e, DeploymentNumber=n)["State"] not in ("BAKING",
                                                                                                 "COMPLETE"):
        if time.monotonic() > deadline:
            raise SystemExit("deployment %d did not reach every client" % n)
        time.sleep(0.01)
    print(a, e, p)


if __name__ == "__main__":
    main()
