"""GetDeployment's AppliedExtensions through boto3, against a real leverd:
the extensions associated with the deployment's application, environment or
configuration profile when StartDeployment was called, each with its
extension id, association id, version number and parameters, as AWS answers
them (StartDeployment's answer too). Associations made, changed or deleted
afterwards do not rewrite a started deployment's list; another
environment's associations are not in it. A label rollout
(Lever.GetLabelDeployment) lists the extensions associated with its
parameter the same way."""

import time
import unittest

from ac_helpers import ARN, AppConfigCase
from lever_harness import ACCOUNT, REGION

LAMBDA = "arn:aws:lambda:%s:%s:function:f" % (REGION, ACCOUNT)
ROLE = "arn:aws:iam::%s:role/r" % ACCOUNT


class AppliedExtensions(AppConfigCase):
    def extension(self, name, point="ON_DEPLOYMENT_COMPLETE", **kw):
        return self.ac.create_extension(Name=name, Actions={point: [{"Name": "a", "Uri": LAMBDA, "RoleArn": ROLE}]},
                                        **kw)

    def test_deployment_lists_what_was_associated_at_its_start(self):
        t = self.tree()
        other_env = self.ac.create_environment(ApplicationId=t["app"], Name="staging")["Id"]
        notify = self.extension("notify-" + t["app"], Parameters={"channel": {"Required": True}})
        audit = self.extension("audit-" + t["app"], point="PRE_START_DEPLOYMENT")
        elsewhere = self.extension("elsewhere-" + t["app"])
        a1 = self.ac.create_extension_association(ExtensionIdentifier=notify["Id"],
                                                  ResourceIdentifier=ARN + "application/" + t["app"],
                                                  Parameters={"channel": "#deploys"})
        a2 = self.ac.create_extension_association(
            ExtensionIdentifier=audit["Id"],
            ResourceIdentifier=ARN + "application/%s/configurationprofile/%s" % (t["app"], t["prof"]))
        self.ac.create_extension_association(
            ExtensionIdentifier=elsewhere["Id"],
            ResourceIdentifier=ARN + "application/%s/environment/%s" % (t["app"], other_env))
        want = sorted([
            {"ExtensionId": notify["Id"], "ExtensionAssociationId": a1["Id"], "VersionNumber": 1,
             "Parameters": {"channel": "#deploys"}},
            {"ExtensionId": audit["Id"], "ExtensionAssociationId": a2["Id"], "VersionNumber": 1, "Parameters": {}},
        ], key=lambda x: x["ExtensionAssociationId"])
        started = self.deploy(t, t["ver"])
        self.assertEqual(sorted(started["AppliedExtensions"], key=lambda x: x["ExtensionAssociationId"]), want)
        n = started["DeploymentNumber"]
        got = self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n)
        self.assertEqual(sorted(got["AppliedExtensions"], key=lambda x: x["ExtensionAssociationId"]), want)
        # later changes do not rewrite history
        self.ac.update_extension_association(ExtensionAssociationId=a1["Id"], Parameters={"channel": "#other"})
        self.ac.delete_extension_association(ExtensionAssociationId=a2["Id"])
        got = self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n)
        self.assertEqual(sorted(got["AppliedExtensions"], key=lambda x: x["ExtensionAssociationId"]), want)
        # the next deployment sees the associations as they are now
        n2 = self.deploy(t, t["ver"])["DeploymentNumber"]
        got = self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n2)
        self.assertEqual(got["AppliedExtensions"], [
            {"ExtensionId": notify["Id"], "ExtensionAssociationId": a1["Id"], "VersionNumber": 1,
             "Parameters": {"channel": "#other"}}])
        # another environment: only its own association
        d = self.ac.start_deployment(ApplicationId=t["app"], EnvironmentId=other_env,
                                     DeploymentStrategyId="Lever.AllAtOnce", ConfigurationProfileId=t["prof"],
                                     ConfigurationVersion=str(t["ver"]))
        self.assertEqual(sorted(x["ExtensionId"] for x in d["AppliedExtensions"]),
                         sorted([notify["Id"], elsewhere["Id"]]))
        # ListDeployments' summaries carry none (as AWS's DeploymentSummary)
        items = self.ac.list_deployments(ApplicationId=t["app"], EnvironmentId=t["env"])["Items"]
        self.assertTrue(items and all("AppliedExtensions" not in i for i in items))

    def test_deployment_without_extensions_has_an_empty_list(self):
        t = self.tree()
        d = self.deploy(t, t["ver"])
        self.assertEqual(d["AppliedExtensions"], [])
        self.assertEqual(self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"],
                                                DeploymentNumber=d["DeploymentNumber"])["AppliedExtensions"], [])

    def test_label_rollout_lists_the_parameters_extensions(self):
        name = "/applied/%d/p" % time.monotonic_ns()
        self.ssm.put_parameter(Name=name, Value="one", Type="String")
        self.ssm.put_parameter(Name=name, Value="two", Type="String", Overwrite=True)
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["live"])
        ext = self.extension("param-%d" % time.monotonic_ns())
        assoc = self.ac.create_extension_association(
            ExtensionIdentifier=ext["Id"], ResourceIdentifier="arn:aws:ssm:%s:%s:parameter%s" % (REGION, ACCOUNT, name),
            Parameters={"team": "db"})
        st, _h, d, raw = self.server.call_raw("Lever.StartLabelDeployment", {
            "Name": name, "Label": "live", "ParameterVersion": 2, "DeploymentStrategyId": "Lever.AllAtOnce"})
        self.assertEqual(st, 200, raw)
        want = [{"ExtensionId": ext["Id"], "ExtensionAssociationId": assoc["Id"], "VersionNumber": 1,
                 "Parameters": {"team": "db"}}]
        self.assertEqual(d["AppliedExtensions"], want)
        st, _h, d, raw = self.server.call_raw("Lever.GetLabelDeployment", {"Name": name, "Label": "live"})
        self.assertEqual(d["AppliedExtensions"], want)


if __name__ == "__main__":
    unittest.main()
