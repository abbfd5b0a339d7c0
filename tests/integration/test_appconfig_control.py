"""AppConfig control plane on a real leverd with boto3: every resource family,
deletes refused down the tree, the hosted-version lock and size limit, deployments
with their event log, strategies, extensions, tags, paging, and bad input answered
with the model's error and nothing stored."""

import json
import unittest

from ac_helpers import ARN, AppConfigCase, q, signed_rest


class ApplicationsEnvironmentsProfiles(AppConfigCase):
    def test_application_lifecycle(self):
        a = self.app("shop", Description="the shop", Tags={"team": "web"})
        self.assertRegex(a["Id"], r"^[a-z0-9]{7}$")
        self.assertEqual(a["ResponseMetadata"]["HTTPStatusCode"], 201)
        got = self.ac.get_application(ApplicationId=a["Id"])
        self.assertEqual((got["Name"], got["Description"]), ("shop", "the shop"))
        up = self.ac.update_application(ApplicationId=a["Id"], Description="new")
        self.assertEqual((up["Name"], up["Description"]), ("shop", "new"))
        self.assertIn(a["Id"], [x["Id"] for x in self.ac.list_applications()["Items"]])
        tags = self.ac.list_tags_for_resource(ResourceArn=ARN + "application/" + a["Id"])["Tags"]
        self.assertEqual(tags, {"team": "web"})
        r = self.ac.delete_application(ApplicationId=a["Id"])
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.acerr("ResourceNotFoundException", 404, self.ac.get_application, ApplicationId=a["Id"])

    def test_environment_monitors_stored(self):
        a = self.app()
        mons = [{"AlarmArn": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors",
                 "AlarmRoleArn": "arn:aws:iam::000000000000:role/mon"}]
        e = self.ac.create_environment(ApplicationId=a["Id"], Name="prod", Monitors=mons)
        self.assertEqual(e["State"], "ReadyForDeployment")
        got = self.ac.get_environment(ApplicationId=a["Id"], EnvironmentId=e["Id"])
        self.assertEqual(got["Monitors"], mons)
        self.ac.update_environment(ApplicationId=a["Id"], EnvironmentId=e["Id"], Monitors=[])
        self.assertEqual(self.ac.get_environment(ApplicationId=a["Id"], EnvironmentId=e["Id"])["Monitors"], [])
        self.assertEqual([x["Id"] for x in self.ac.list_environments(ApplicationId=a["Id"])["Items"]], [e["Id"]])

    def test_profiles_types_locations_validators(self):
        a = self.app()
        schema = json.dumps({"type": "object", "required": ["a"]})
        p = self.ac.create_configuration_profile(ApplicationId=a["Id"], Name="cfg", LocationUri="hosted",
                                                 Validators=[{"Type": "JSON_SCHEMA", "Content": schema}])
        self.assertEqual(p["Type"], "AWS.Freeform")
        self.assertEqual([v["Type"] for v in p["Validators"]], ["JSON_SCHEMA"])
        f = self.ac.create_configuration_profile(ApplicationId=a["Id"], Name="flags", LocationUri="hosted",
                                                 Type="AWS.AppConfig.FeatureFlags")
        s = self.ac.create_configuration_profile(ApplicationId=a["Id"], Name="p", LocationUri="ssm-parameter:///x/y")
        items = self.ac.list_configuration_profiles(ApplicationId=a["Id"])["Items"]
        self.assertEqual(sorted(i["Id"] for i in items), sorted([p["Id"], f["Id"], s["Id"]]))
        only = self.ac.list_configuration_profiles(ApplicationId=a["Id"], Type="AWS.AppConfig.FeatureFlags")
        self.assertEqual([i["Id"] for i in only["Items"]], [f["Id"]])
        # not a schema, unsupported locations, three validators, LAMBDA that is not a URL
        self.acerr("BadRequestException", 400, self.ac.create_configuration_profile, ApplicationId=a["Id"],
                   Name="x", LocationUri="hosted", Validators=[{"Type": "JSON_SCHEMA", "Content": "{not json"}])
        self.acerr("BadRequestException", 400, self.ac.create_configuration_profile, ApplicationId=a["Id"],
                   Name="x", LocationUri="hosted", Validators=[{"Type": "JSON_SCHEMA", "Content": '{"type": 5}'}])
        self.acerr("BadRequestException", 400, self.ac.create_configuration_profile, ApplicationId=a["Id"],
                   Name="x", LocationUri="s3://bucket/key")
        self.acerr("BadRequestException", 400, self.ac.create_configuration_profile, ApplicationId=a["Id"],
                   Name="x", LocationUri="hosted",
                   Validators=[{"Type": "LAMBDA", "Content": "arn:aws:lambda:us-east-1:0:function:f"}])
        self.assertEqual(len(self.ac.list_configuration_profiles(ApplicationId=a["Id"])["Items"]), 3)

    def test_deletes_refused_down_the_tree(self):
        t = self.tree()
        e = self.acerr("BadRequestException", 400, self.ac.delete_configuration_profile,
                       ApplicationId=t["app"], ConfigurationProfileId=t["prof"])
        self.assertEqual(e.response["Error"]["Message"],
                         "Cannot delete configuration profile %s because there are still hosted configuration "
                         "versions existing under it." % t["prof"])
        self.acerr("BadRequestException", 400, self.ac.delete_application, ApplicationId=t["app"])
        # a version an environment serves cannot go; once another is deployed it can
        self.deploy(t, 1)
        self.acerr("BadRequestException", 400, self.ac.delete_hosted_configuration_version,
                   ApplicationId=t["app"], ConfigurationProfileId=t["prof"], VersionNumber=1)
        self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                    Content=b"{}", ContentType="application/json")
        self.deploy(t, 2)
        self.ac.delete_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                    VersionNumber=1)
        self.ac.delete_environment(ApplicationId=t["app"], EnvironmentId=t["env"])
        self.ac.delete_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                    VersionNumber=2)
        self.ac.delete_configuration_profile(ApplicationId=t["app"], ConfigurationProfileId=t["prof"])
        self.ac.delete_application(ApplicationId=t["app"])
        self.acerr("ResourceNotFoundException", 404, self.ac.get_application, ApplicationId=t["app"])


class HostedVersions(AppConfigCase):
    def test_raw_bytes_content_type_and_lock(self):
        t = self.tree(content=b"\x00\x01binary\xff", ctype="application/octet-stream")
        got = self.ac.get_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                       VersionNumber=1)
        self.assertEqual(got["Content"].read(), b"\x00\x01binary\xff")
        self.assertEqual(got["ContentType"], "application/octet-stream")
        v2 = self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                         Content=b"two", ContentType="text/plain",
                                                         Description="second", LatestVersionNumber=1)
        self.assertEqual(v2["VersionNumber"], 2)
        self.assertEqual(v2["Description"], "second")
        self.acerr("ConflictException", 409, self.ac.create_hosted_configuration_version,
                   ApplicationId=t["app"], ConfigurationProfileId=t["prof"], Content=b"x",
                   ContentType="text/plain", LatestVersionNumber=1)
        items = self.ac.list_hosted_configuration_versions(ApplicationId=t["app"],
                                                           ConfigurationProfileId=t["prof"])["Items"]
        self.assertEqual([i["VersionNumber"] for i in items], [1, 2])
        # numbers are never reused
        self.ac.delete_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                    VersionNumber=2)
        v3 = self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                         Content=b"3", ContentType="text/plain")
        self.assertEqual(v3["VersionNumber"], 3)

    def test_oversized_content_refused_and_not_stored(self):
        t = self.tree()
        e = self.acerr("PayloadTooLargeException", 413, self.ac.create_hosted_configuration_version,
                       ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                       Content=b"x" * (2 * 1024 * 1024 + 1), ContentType="text/plain")
        self.assertIn("limit", e.response["Error"]["Message"])
        items = self.ac.list_hosted_configuration_versions(ApplicationId=t["app"],
                                                           ConfigurationProfileId=t["prof"])["Items"]
        self.assertEqual(len(items), 1)
        ok = self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                         Content=b"y" * (2 * 1024 * 1024), ContentType="text/plain")
        self.assertEqual(ok["VersionNumber"], 2)

    def test_feature_flag_documents_checked(self):
        a = self.app()
        p = self.ac.create_configuration_profile(ApplicationId=a["Id"], Name="flags", LocationUri="hosted",
                                                 Type="AWS.AppConfig.FeatureFlags")
        good = {"version": "1", "flags": {"reg": {"name": "reg"}}, "values": {"reg": {"enabled": True}}}
        v = self.ac.create_hosted_configuration_version(ApplicationId=a["Id"], ConfigurationProfileId=p["Id"],
                                                        Content=json.dumps(good).encode(),
                                                        ContentType="application/json")
        self.assertEqual(v["VersionNumber"], 1)
        e = self.acerr("BadRequestException", 400, self.ac.create_hosted_configuration_version,
                       ApplicationId=a["Id"], ConfigurationProfileId=p["Id"], Content=b"not json",
                       ContentType="application/json")
        self.assertIn("Details", e.response)
        self.assertEqual(len(self.ac.list_hosted_configuration_versions(
            ApplicationId=a["Id"], ConfigurationProfileId=p["Id"])["Items"]), 1)


class Deployments(AppConfigCase):
    def test_all_at_once_completes_with_event_log(self):
        t = self.tree()
        d = self.deploy(t, 1)
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual((d["DeploymentNumber"], d["State"], d["PercentageComplete"]), (1, "COMPLETE", 100.0))
        got = self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=1)
        kinds = [e["EventType"] for e in got["EventLog"]]
        self.assertEqual(kinds, ["DEPLOYMENT_COMPLETED", "PERCENTAGE_UPDATED", "DEPLOYMENT_STARTED"])
        self.assertEqual(got["ConfigurationName"], "cfg")
        self.assertEqual(got["DeploymentStrategyId"], "Lever.AllAtOnce")
        self.assertEqual(got["FinalBakeTimeInMinutes"], 0)
        # AWS's AllAtOnce serves everyone at once, then bakes 10 minutes;
        # a new deployment ends the bake (the old one completes)
        b = self.deploy(t, 1, strategy="AppConfig.AllAtOnce")
        self.assertEqual((b["State"], b["PercentageComplete"], b["FinalBakeTimeInMinutes"]), ("BAKING", 100.0, 10))
        got = self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=2)
        self.assertEqual([e["EventType"] for e in got["EventLog"]][:2], ["BAKE_TIME_STARTED", "PERCENTAGE_UPDATED"])
        d2 = self.deploy(t, 1, strategy="Lever.AllAtOnce")
        self.assertEqual(d2["DeploymentNumber"], 3)
        got = self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=2)
        self.assertEqual((got["State"], got["EventLog"][0]["EventType"]), ("COMPLETE", "DEPLOYMENT_COMPLETED"))
        lst = self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"]
        self.assertEqual(sorted(x["DeploymentNumber"] for x in lst), [1, 2, 3])
        # a complete deployment cannot be stopped
        self.acerr("BadRequestException", 400, self.ac.stop_deployment, ApplicationId=t["app"],
                   EnvironmentId=t["env"], DeploymentNumber=3)

    def test_start_refused_for_unknown_things_and_invalid_content(self):
        t = self.tree(content=b'{"b": 1}', Validators=[{"Type": "JSON_SCHEMA",
                                                          "Content": json.dumps({"type": "object"})}])
        self.acerr("ResourceNotFoundException", 404, self.deploy, t, 9)
        self.acerr("ResourceNotFoundException", 404, self.deploy, t, 1, strategy="nosuch1")
        self.acerr("ResourceNotFoundException", 404, self.ac.start_deployment, ApplicationId=t["app"],
                   EnvironmentId="zzzzzzz", DeploymentStrategyId="AppConfig.AllAtOnce",
                   ConfigurationProfileId=t["prof"], ConfigurationVersion="1")
        self.assertEqual(self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"], [])
        # content that is not JSON fails a JSON_SCHEMA validator
        self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                    Content=b"not json", ContentType="text/plain")
        e = self.acerr("BadRequestException", 400, self.deploy, t, 2)
        self.assertIn("Details", e.response)
        self.acerr("BadRequestException", 400, self.ac.validate_configuration, ApplicationId=t["app"],
                   ConfigurationProfileId=t["prof"], ConfigurationVersion="2")
        self.ac.validate_configuration(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                       ConfigurationVersion="1")
        # JSON that does not match the schema fails it, naming what is wrong
        self.ac.create_hosted_configuration_version(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                                    Content=b"[1, 2]", ContentType="application/json")
        e = self.acerr("BadRequestException", 400, self.deploy, t, 3)
        self.assertEqual(e.response["Reason"], "InvalidConfiguration")
        self.acerr("BadRequestException", 400, self.ac.validate_configuration, ApplicationId=t["app"],
                   ConfigurationProfileId=t["prof"], ConfigurationVersion="3")
        self.assertEqual(self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"], [])

    def test_strategies_predefined_and_custom(self):
        items = self.ac.list_deployment_strategies()["Items"]
        ids = [s["Id"] for s in items]
        for want in ("AppConfig.AllAtOnce", "AppConfig.Linear50PercentEvery30Seconds",
                     "AppConfig.Linear20PercentEvery6Minutes", "AppConfig.Canary10Percent20Minutes",
                     "Lever.AllAtOnce", "Lever.Canary10Percent5Minutes", "Lever.Canary10Percent30Minutes",
                     "Lever.Linear10PercentEvery1Minute", "Lever.Linear10PercentEvery3Minutes",
                     "Lever.Linear10PercentEvery10Minutes"):
            self.assertIn(want, ids)
        lin = self.ac.get_deployment_strategy(DeploymentStrategyId="AppConfig.Linear20PercentEvery6Minutes")
        self.assertEqual((lin["DeploymentDurationInMinutes"], lin["GrowthFactor"], lin["FinalBakeTimeInMinutes"]),
                         (30, 20.0, 30))
        s = self.ac.create_deployment_strategy(Name="slow", DeploymentDurationInMinutes=60, GrowthFactor=25,
                                               GrowthType="EXPONENTIAL", FinalBakeTimeInMinutes=5)
        self.assertEqual(s["GrowthType"], "EXPONENTIAL")
        s2 = self.ac.update_deployment_strategy(DeploymentStrategyId=s["Id"], GrowthFactor=50)
        self.assertEqual(s2["GrowthFactor"], 50.0)
        self.acerr("BadRequestException", 400, self.ac.delete_deployment_strategy,
                   DeploymentStrategyId="AppConfig.AllAtOnce")
        self.ac.delete_deployment_strategy(DeploymentStrategyId=s["Id"])
        self.acerr("ResourceNotFoundException", 404, self.ac.get_deployment_strategy, DeploymentStrategyId=s["Id"])


class ExtensionsTagsPaging(AppConfigCase):
    def test_extensions_and_associations(self):
        a = self.app()
        x = self.ac.create_extension(Name="hook-" + a["Id"], Actions={"PRE_START_DEPLOYMENT": [
            {"Name": "check", "Uri": "http://127.0.0.1:9/check", "RoleArn": "arn:aws:iam::000000000000:role/r"}]},
            Parameters={"token": {"Required": True, "Description": "secret"}})
        self.assertEqual(x["VersionNumber"], 1)
        self.assertEqual(x["Arn"], ARN + "extension/%s/1" % x["Id"])
        got = self.ac.get_extension(ExtensionIdentifier=x["Name"])
        self.assertEqual(got["Actions"]["PRE_START_DEPLOYMENT"][0]["Uri"], "http://127.0.0.1:9/check")
        self.acerr("ConflictException", 409, self.ac.create_extension, Name=x["Name"],
                   Actions={"ON_DEPLOYMENT_START": [{"Name": "n", "Uri": "http://h/", "RoleArn": "arn:aws:iam::0:role/r"}]})
        res = ARN + "application/" + a["Id"]
        self.acerr("BadRequestException", 400, self.ac.create_extension_association,
                   ExtensionIdentifier=x["Id"], ResourceIdentifier=res)
        assoc = self.ac.create_extension_association(ExtensionIdentifier=x["Arn"], ResourceIdentifier=res,
                                                     Parameters={"token": "t0"})
        self.assertEqual(assoc["Parameters"], {"token": "t0"})
        lst = self.ac.list_extension_associations(ResourceIdentifier=res)["Items"]
        self.assertEqual([i["Id"] for i in lst], [assoc["Id"]])
        self.acerr("BadRequestException", 400, self.ac.delete_extension, ExtensionIdentifier=x["Id"])
        self.ac.delete_extension_association(ExtensionAssociationId=assoc["Id"])
        self.ac.delete_extension(ExtensionIdentifier=x["Id"])
        self.acerr("ResourceNotFoundException", 404, self.ac.get_extension, ExtensionIdentifier=x["Id"])

    def test_tags_on_every_arn(self):
        t = self.tree()
        d = self.deploy(t, 1)
        arns = [ARN + "application/" + t["app"], ARN + "application/%s/environment/%s" % (t["app"], t["env"]),
                ARN + "application/%s/configurationprofile/%s" % (t["app"], t["prof"]),
                ARN + "application/%s/environment/%s/deployment/%d" % (t["app"], t["env"], d["DeploymentNumber"])]
        for arn in arns:
            self.ac.tag_resource(ResourceArn=arn, Tags={"k1": "v1", "k2": "v2"})
            self.ac.untag_resource(ResourceArn=arn, TagKeys=["k1"])
            self.assertEqual(self.ac.list_tags_for_resource(ResourceArn=arn)["Tags"], {"k2": "v2"}, arn)
        self.acerr("ResourceNotFoundException", 404, self.ac.tag_resource,
                   ResourceArn=ARN + "application/zzzzzzz", Tags={"a": "b"})

    def test_paging(self):
        base = self.app("pager")
        for i in range(7):
            self.ac.create_environment(ApplicationId=base["Id"], Name="e%d" % i)
        seen, token, pages = [], None, 0
        while True:
            kw = {"ApplicationId": base["Id"], "MaxResults": 3}
            if token:
                kw["NextToken"] = token
            r = self.ac.list_environments(**kw)
            pages += 1
            self.assertLessEqual(len(r["Items"]), 3)
            seen += [i["Name"] for i in r["Items"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(sorted(seen), ["e%d" % i for i in range(7)])
        self.assertEqual(pages, 3)
        self.acerr("BadRequestException", 400, self.ac.list_environments, ApplicationId=base["Id"],
                   NextToken="garbage")


class BadInput(AppConfigCase):
    """Bodies boto3 would refuse to send, signed by hand: the model's error, never a 500, nothing stored."""

    def count_apps(self):
        return len(self.ac.list_applications(MaxResults=50)["Items"])

    def test_malformed_json_wrong_types_ranges(self):
        before = self.count_apps()
        cases = [
            ("POST", "/applications", b"{not json"),
            ("POST", "/applications", b"[1,2]"),
            ("POST", "/applications", {"Name": 5}),
            ("POST", "/applications", {"Name": ""}),
            ("POST", "/applications", {"Name": "x" * 65}),
            ("POST", "/applications", {"Description": "no name"}),
            ("POST", "/applications", {"Name": "ok", "Tags": {"k": 1}}),
        ]
        for method, path, body in cases:
            st, h, parsed, raw = signed_rest(self.server, method, path, body)
            self.assertEqual(st, 400, (body, raw))
            self.assertEqual(h.get("x-amzn-errortype"), "BadRequestException", raw)
            self.assertIn("Message", parsed)
        self.assertEqual(self.count_apps(), before)

    def test_out_of_range_and_enums_and_unknown_ids(self):
        t = self.tree()
        before = len(self.ac.list_deployment_strategies()["Items"])
        for body in ({"Name": "s", "DeploymentDurationInMinutes": 1441, "GrowthFactor": 10},
                     {"Name": "s", "DeploymentDurationInMinutes": 1, "GrowthFactor": 101},
                     {"Name": "s", "DeploymentDurationInMinutes": 1, "GrowthFactor": 10, "GrowthType": "SIDEWAYS"},
                     {"Name": "s", "DeploymentDurationInMinutes": "ten", "GrowthFactor": 10}):
            st, h, parsed, raw = signed_rest(self.server, "POST", "/deploymentstrategies", body)
            self.assertEqual((st, h.get("x-amzn-errortype")), (400, "BadRequestException"), raw)
        self.assertEqual(len(self.ac.list_deployment_strategies()["Items"]), before)
        st, h, _p, raw = signed_rest(self.server, "GET", "/applications/%s/environments/%s/deployments/abc"
                                     % (t["app"], t["env"]))
        self.assertEqual(st, 400, raw)
        st, h, _p, raw = signed_rest(self.server, "GET", "/applications/nosuchid")
        self.assertEqual((st, h.get("x-amzn-errortype")), (404, "ResourceNotFoundException"), raw)
        st, h, _p, raw = signed_rest(self.server, "GET", "/applications", query="max_results=0")
        self.assertEqual(st, 400, raw)
        st, h, _p, raw = signed_rest(self.server, "GET", "/applications", query="max_results=51")
        self.assertEqual(st, 400, raw)
        st, h, _p, raw = signed_rest(self.server, "GET", "/applications/%zz")
        self.assertEqual(st, 400, raw)
        st, _h, _p, raw = signed_rest(self.server, "PUT", "/applications")
        self.assertEqual(st, 404, raw)
        # the misspelt path of DeleteDeploymentStrategy is the model's
        st, h, _p, raw = signed_rest(self.server, "DELETE", "/deployementstrategies/zzzzzzz")
        self.assertEqual((st, h.get("x-amzn-errortype")), (404, "ResourceNotFoundException"), raw)

    def test_unsigned_and_wrong_service_refused(self):
        st, h, raw = self.server.raw("GET", "/applications")
        self.assertEqual(st, 403, raw)
        self.assertIn("x-amzn-errortype", h)


if __name__ == "__main__":
    unittest.main()
