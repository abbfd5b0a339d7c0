"""Errors as AWS words them, through boto3 and the AWS CLI v2 against a real
leverd: label limits, tag resource types, ParameterNotFound naming the
parameter, ValidationException texts (values printed as AWS prints them,
member paths, counts, "; " joins, the final period) and filter errors
listing the valid keys and options."""

import itertools

import botocore.config
import unittest

from lever_harness import LeverTestCase

_seq = itertools.count(1)


class ErrorTextTest(LeverTestCase):
    def unvalidated(self):
        """A boto3 client that sends what it is given (botocore checks some
        minimums itself), so the server's own validation answers."""
        cfg = botocore.config.Config(parameter_validation=False, retries={"total_max_attempts": 1})
        import boto3
        from lever_harness import ACCESS_KEY, REGION, SECRET_KEY
        return boto3.session.Session().client("ssm", endpoint_url=self.server.endpoint, region_name=REGION,
                                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                              config=cfg)

    def message(self, code, fn, **kw):
        return self.assertAwsError(code, fn, **kw).response["Error"]["Message"]

    # -- labels ---------------------------------------------------------------
    def test_label_limit_in_one_call_and_across_calls(self):
        name = self.n("lab")
        self.put(name, "v")
        limit = ("A parameter version can have maximum 10 labels. Move one or more labels to another version "
                 "and try again.")
        msg = self.message("ParameterVersionLabelLimitExceeded", self.ssm.label_parameter_version,
                           Name=name, ParameterVersion=1, Labels=["l%d" % i for i in range(11)])
        self.assertEqual(msg, limit)
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["a%d" % i for i in range(6)])
        msg = self.message("ParameterVersionLabelLimitExceeded", self.ssm.label_parameter_version,
                           Name=name, ParameterVersion=1, Labels=["b%d" % i for i in range(5)])
        self.assertEqual(msg, limit)
        # nothing of the refused calls was applied; ten is still fine
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["b%d" % i for i in range(4)])
        hist = self.ssm.get_parameter_history(Name=name)["Parameters"]
        self.assertEqual(len(hist[0]["Labels"]), 10)
        rc, out, err = self.server.aws("label-parameter-version", "--name", name, "--labels",
                                       *["c%d" % i for i in range(11)])
        self.assertEqual(rc, 254, err)
        self.assertIn("(ParameterVersionLabelLimitExceeded)", err)
        self.assertIn(limit, err)

    # -- tags -----------------------------------------------------------------
    def test_tag_ops_with_other_resource_type(self):
        name = self.n("tagged")
        self.put(name, "v")
        for rt in ("Document", "ManagedInstance", "MaintenanceWindow", "PatchBaseline", "OpsItem"):
            with self.subTest(resource_type=rt):
                msg = self.message("InvalidResourceType", self.ssm.add_tags_to_resource, ResourceType=rt,
                                   ResourceId=name, Tags=[{"Key": "a", "Value": "b"}])
                self.assertIn(rt, msg)
                self.assertAwsError("InvalidResourceType", self.ssm.list_tags_for_resource,
                                    ResourceType=rt, ResourceId=name)
                self.assertAwsError("InvalidResourceType", self.ssm.remove_tags_from_resource,
                                    ResourceType=rt, ResourceId=name, TagKeys=["a"])
        self.assertEqual(self.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"], [])
        rc, out, err = self.server.aws("list-tags-for-resource", "--resource-type", "Document",
                                       "--resource-id", name)
        self.assertEqual(rc, 254, err)
        self.assertIn("(InvalidResourceType)", err)

    # -- ParameterNotFound ----------------------------------------------------
    def test_parameter_not_found_names_the_parameter(self):
        missing = self.n("missing")
        bare = "nosuch%d" % next(_seq)
        for name in (missing, bare, "/" + bare):
            want = "Parameter %s not found." % name
            with self.subTest(name=name):
                self.assertEqual(self.message("ParameterNotFound", self.ssm.get_parameter, Name=name), want)
                self.assertEqual(self.message("ParameterNotFound", self.ssm.get_parameter_history, Name=name),
                                 want)
                self.assertEqual(self.message("ParameterNotFound", self.ssm.delete_parameter, Name=name), want)
                self.assertEqual(self.message("ParameterNotFound", self.ssm.label_parameter_version, Name=name,
                                              Labels=["x"]), want)
                self.assertEqual(self.message("ParameterNotFound", self.ssm.get_parameter, Name=name + ":3"),
                                 want)
        rc, out, err = self.server.aws("get-parameter", "--name", missing)
        self.assertEqual(rc, 254, err)
        self.assertIn("(ParameterNotFound) when calling the GetParameter operation", err)
        self.assertIn(": Parameter %s not found.\n" % missing, err)

    # -- ValidationException texts --------------------------------------------
    def test_list_value_printed_as_aws_does(self):
        names = [chr(ord("a") + i) for i in range(11)]
        want = ("1 validation error detected: Value '[a, b, c, d, e, f, g, h, i, j, k]' at 'names' failed to "
                "satisfy constraint: Member must have length less than or equal to 10.")
        self.assertEqual(self.message("ValidationException", self.ssm.get_parameters, Names=names), want)
        self.assertEqual(self.message("ValidationException", self.ssm.delete_parameters, Names=names), want)
        rc, out, err = self.server.aws("get-parameters", "--names", *names)
        self.assertEqual(rc, 254, err)
        self.assertIn("(ValidationException) when calling the GetParameters operation", err)
        self.assertIn(": " + want + "\n", err)

    def test_several_constraints_in_one_request(self):
        c = self.unvalidated()
        msg = self.message("ValidationException", c.get_parameters_by_path, Path="", MaxResults=11)
        self.assertEqual(msg, "2 validation errors detected: "
                              "Value '' at 'path' failed to satisfy constraint: "
                              "Member must have length greater than or equal to 1; "
                              "Value '11' at 'maxResults' failed to satisfy constraint: "
                              "Member must have value less than or equal to 10.")
        msg = self.message("ValidationException", self.ssm.describe_parameters, MaxResults=51)
        self.assertEqual(msg, "1 validation error detected: Value '51' at 'maxResults' failed to satisfy "
                              "constraint: Member must have value less than or equal to 50.")
        msg = self.message("ValidationException", self.ssm.put_parameter, Name=self.n("t"), Value="v",
                           Type="Text")
        self.assertEqual(msg, "1 validation error detected: Value 'Text' at 'type' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [String, StringList, "
                              "SecureString].")
        # a value (sensitive in the model) is not echoed
        msg = self.message("ValidationException", c.put_parameter, Name=self.n("e"), Value="", Type="String")
        self.assertEqual(msg, "1 validation error detected: Value at 'value' failed to satisfy constraint: "
                              "Member must have length greater than or equal to 1.")
        rc, out, err = self.server.aws("describe-parameters", "--max-results", "51")
        self.assertEqual(rc, 254, err)
        self.assertIn("at 'maxResults' failed to satisfy constraint: Member must have value less than or "
                      "equal to 50.", err)

    # -- filters --------------------------------------------------------------
    def test_filter_errors_list_valid_keys_and_options(self):
        path = self.n("f")
        self.put(path + "/x", "v")
        cases = [
            (self.ssm.get_parameters_by_path, dict(Path=path, ParameterFilters=[{"Key": "Name", "Values": ["x"]}]),
             "InvalidFilterKey",
             "The following filter key is not valid: Name. Valid filter keys include: [Type, KeyId]."),
            (self.ssm.get_parameters_by_path, dict(Path=path, ParameterFilters=[{"Key": "Tier",
                                                                                  "Values": ["Standard"]}]),
             "InvalidFilterKey",
             "The following filter key is not valid: Tier. Valid filter keys include: [Type, KeyId]."),
            (self.ssm.describe_parameters, dict(ParameterFilters=[{"Key": "Label", "Values": ["x"]}]),
             "InvalidFilterKey",
             "The following filter key is not valid: Label. Valid filter keys include: "
             "[Path, Name, Type, KeyId, Tier]."),
            (self.ssm.describe_parameters, dict(ParameterFilters=[{"Key": "Path", "Option": "Equals",
                                                                   "Values": [path]}]),
             "InvalidFilterOption",
             "The following filter option is not valid: Equals. Valid options include: [Recursive, OneLevel]."),
            (self.ssm.describe_parameters, dict(ParameterFilters=[{"Key": "Type", "Option": "Contains",
                                                                   "Values": ["String"]}]),
             "InvalidFilterOption",
             "The following filter option is not valid: Contains. Valid options include: [BeginsWith, Equals]."),
            (self.ssm.get_parameters_by_path, dict(Path=path, ParameterFilters=[{"Key": "Type", "Option": "Recursive",
                                                                                  "Values": ["String"]}]),
             "InvalidFilterOption",
             "The following filter option is not valid: Recursive. Valid options include: [BeginsWith, Equals]."),
            (self.ssm.describe_parameters, dict(ParameterFilters=[{"Key": "Tier", "Values": ["Gold"]}]),
             "InvalidFilterValue",
             "The following filter value is not valid: Gold. Valid values include: "
             "[Standard, Advanced, Intelligent-Tiering]."),
            (self.ssm.describe_parameters, dict(ParameterFilters=[{"Key": "Path", "Values": ["/aws/x"]}]),
             "ValidationException",
             "Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). "
             "When using global parameters, please specify within a global namespace."),
        ]
        for fn, kw, code, want in cases:
            with self.subTest(op=fn.__name__, filters=kw.get("ParameterFilters")):
                self.assertEqual(self.message(code, fn, **kw), want)
        rc, out, err = self.server.aws("get-parameters-by-path", "--path", path, "--parameter-filters",
                                       "Key=Name,Values=x")
        self.assertEqual(rc, 254, err)
        self.assertIn("(InvalidFilterKey)", err)
        self.assertIn("Valid filter keys include: [Type, KeyId].", err)


if __name__ == "__main__":
    unittest.main()
