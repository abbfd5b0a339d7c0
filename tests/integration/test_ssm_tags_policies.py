"""Tags (AddTagsToResource / ListTagsForResource / RemoveTagsFromResource, Tags on
PutParameter) and parameter policies (Expiration really deletes)."""

import datetime
import json
import time
import unittest

from lever_harness import LeverTestCase


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def tags_of(resp):
    return {t["Key"]: t["Value"] for t in resp["TagList"]}


class TagsTest(LeverTestCase):
    def list_tags(self, name):
        return tags_of(self.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name))

    def test_tags_on_create(self):
        name = self.n("t")
        self.put(name, "v", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "team-a@x.io"}])
        self.assertEqual(self.list_tags(name), {"env": "prod", "owner": "team-a@x.io"})

    def test_add_list_remove(self):
        name = self.n("t")
        self.put(name, "v")
        self.assertEqual(self.list_tags(name), {})
        self.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                                      Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        self.assertEqual(self.list_tags(name), {"a": "1", "b": "2"})
        # adding an existing key replaces its value
        self.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                                      Tags=[{"Key": "a", "Value": "one"}, {"Key": "c", "Value": "3"}])
        self.assertEqual(self.list_tags(name), {"a": "one", "b": "2", "c": "3"})
        self.ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["a", "zz"])
        self.assertEqual(self.list_tags(name), {"b": "2", "c": "3"})
        # tags are not versions
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Version"], 1)

    def test_tags_survive_overwrite_but_not_delete(self):
        name = self.n("t")
        self.put(name, "v", Tags=[{"Key": "k", "Value": "v"}])
        self.put(name, "w", Overwrite=True)
        self.assertEqual(self.list_tags(name), {"k": "v"})
        self.ssm.delete_parameter(Name=name)
        self.assertAwsError("InvalidResourceId", self.ssm.list_tags_for_resource,
                            ResourceType="Parameter", ResourceId=name)
        self.put(name, "again")
        self.assertEqual(self.list_tags(name), {})

    def test_tags_with_overwrite_refused(self):
        name = self.n("t")
        self.put(name, "v")
        self.assertAwsError("ValidationException", self.ssm.put_parameter, Name=name, Value="w", Overwrite=True,
                            Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Version"], 1)
        self.assertEqual(self.list_tags(name), {})

    def test_errors(self):
        name = self.n("t")
        self.put(name, "v")
        self.assertAwsError("InvalidResourceId", self.ssm.list_tags_for_resource,
                            ResourceType="Parameter", ResourceId=self.n("missing"))
        self.assertAwsError("InvalidResourceId", self.ssm.add_tags_to_resource,
                            ResourceType="Parameter", ResourceId=self.n("missing"), Tags=[{"Key": "a", "Value": "b"}])
        self.assertAwsError("InvalidResourceId", self.ssm.remove_tags_from_resource,
                            ResourceType="Parameter", ResourceId=self.n("missing"), TagKeys=["a"])
        # a value outside the model's enum is a validation error; a resource
        # type of the model that is not Parameter is InvalidResourceType
        for rt, code in (("Bogus", "ValidationException"), ("parameter", "ValidationException"),
                         ("Document", "InvalidResourceType"), ("OpsMetadata", "InvalidResourceType")):
            with self.subTest(resource_type=rt):
                self.assertAwsError(code, self.ssm.list_tags_for_resource, ResourceType=rt, ResourceId=name)
                self.assertAwsError(code, self.ssm.add_tags_to_resource,
                                    ResourceType=rt, ResourceId=name, Tags=[{"Key": "a", "Value": "b"}])

    def test_tag_validation(self):
        name = self.n("t")
        self.put(name, "v")
        for bad in ([{"Key": "bad*key", "Value": "v"}], [{"Key": "k" * 129, "Value": "v"}],
                    [{"Key": "k", "Value": "v" * 257}], [{"Key": "k", "Value": "semi;colon"}]):
            with self.subTest(tags=bad):
                self.assertAwsError("ValidationException", self.ssm.add_tags_to_resource,
                                    ResourceType="Parameter", ResourceId=name, Tags=bad)
        self.assertEqual(self.list_tags(name), {})

    def test_tag_limit(self):
        name = self.n("t")
        self.put(name, "v")
        self.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                                      Tags=[{"Key": "k%02d" % i, "Value": "v"} for i in range(50)])
        self.assertEqual(len(self.list_tags(name)), 50)
        self.assertAwsError("TooManyTagsError", self.ssm.add_tags_to_resource,
                            ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "one-more", "Value": "v"}])
        self.assertEqual(len(self.list_tags(name)), 50)

    def test_tags_survive_restart(self):
        name = self.n("t")
        self.put(name, "v", Tags=[{"Key": "durable", "Value": "yes"}])
        self.server.restart()
        type(self).ssm = self.server.client()
        self.assertEqual(self.list_tags(name), {"durable": "yes"})


class PoliciesTest(LeverTestCase):
    def future(self, seconds):
        return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)

    def test_valid_policies_accepted_and_described(self):
        name = self.n("pol")
        policies = [
            {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": iso(self.future(86400 * 365))}},
            {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "15", "Unit": "Days"}},
            {"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "20", "Unit": "Hours"}},
        ]
        r = self.put(name, "v", Tier="Advanced", Policies=json.dumps(policies))
        self.assertEqual(r["Tier"], "Advanced")
        md = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        self.assertEqual(len(md), 1)
        pols = md[0].get("Policies", [])
        for p in pols:
            self.assertIsInstance(p.get("PolicyType"), str, p)
        self.assertEqual(sorted(p["PolicyType"] for p in pols),
                         ["Expiration", "ExpirationNotification", "NoChangeNotification"])
        for p in pols:
            self.assertIsInstance(json.loads(p["PolicyText"]), dict)
            self.assertIn(p.get("PolicyStatus"), ("Pending", "Finished", "InProgress", "Failed"))
        h = self.ssm.get_parameter_history(Name=name)["Parameters"]
        self.assertEqual(len(h[0].get("Policies", [])), 3)

    def test_intelligent_tiering_with_policies_is_advanced(self):
        name = self.n("it")
        pol = [{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "2", "Unit": "Days"}}]
        r = self.put(name, "small", Tier="Intelligent-Tiering", Policies=json.dumps(pol))
        self.assertEqual(r["Tier"], "Advanced")

    def test_policies_need_advanced_tier(self):
        pol = [{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "2", "Unit": "Days"}}]
        self.assertAwsError(("ValidationException", "IncompatiblePolicyException", "InvalidPolicyTypeException"),
                            self.ssm.put_parameter, Name=self.n("std"), Value="v", Type="String", Tier="Standard",
                            Policies=json.dumps(pol))
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=self.n("std"))

    def test_invalid_policies(self):
        bad_type = [{"Type": "SelfDestruct", "Version": "1.0", "Attributes": {"After": "2", "Unit": "Days"}}]
        self.assertAwsError("InvalidPolicyTypeException", self.ssm.put_parameter, Name=self.n("a"), Value="v",
                            Type="String", Tier="Advanced", Policies=json.dumps(bad_type))
        bad_attrs = [
            [{"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "15", "Unit": "Weeks"}}],
            [{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "abc", "Unit": "Days"}}],
            [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "not-a-date"}}],
        ]
        for i, pol in enumerate(bad_attrs):
            with self.subTest(policy=pol):
                self.assertAwsError("InvalidPolicyAttributeException", self.ssm.put_parameter, Name=self.n("b%d" % i),
                                    Value="v", Type="String", Tier="Advanced", Policies=json.dumps(pol))
        for i, text in enumerate(["{not json", "[", "42", '"Expiration"']):
            with self.subTest(policies=text):
                self.assertAwsError(("InvalidPolicyTypeException", "InvalidPolicyAttributeException",
                                     "ValidationException"), self.ssm.put_parameter, Name=self.n("c%d" % i), Value="v",
                                    Type="String", Tier="Advanced", Policies=text)
        for nm in ("a", "b0", "b1", "b2", "c0", "c1", "c2", "c3"):
            self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=self.n(nm))

    def test_expiration_deletes_without_reads(self):
        name = self.n("ephemeral")
        other = self.n("stays")
        expires = self.future(3)
        pol = [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": iso(expires)}}]
        self.put(name, "short-lived", Tier="Advanced", Policies=json.dumps(pol))
        self.put(other, "v")
        # Nobody touches the parameter until well after its expiry: the server's own timer must act.
        time.sleep(max(0.0, (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 3.0)
        names = [p["Name"] for p in self.ssm.describe_parameters(
            ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [self.ns]}])["Parameters"]]
        self.assertEqual(names, [other], "expired parameter still listed by DescribeParameters")
        names = [p["Name"] for p in self.ssm.get_parameters_by_path(Path=self.ns)["Parameters"]]
        self.assertEqual(names, [other])
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=name)
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter_history, Name=name)

    def test_expiration_survives_restart(self):
        name = self.n("ephemeral2")
        expires = self.future(4)
        pol = [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": iso(expires)}}]
        self.put(name, "short-lived", Tier="Advanced", Policies=json.dumps(pol))
        self.server.restart()
        type(self).ssm = self.server.client()
        time.sleep(max(0.0, (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 3.0)
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=name)

    def test_overwrite_keeps_policies_unless_replaced(self):
        name = self.n("keep")
        pol = [{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "2", "Unit": "Days"}}]
        self.put(name, "v", Tier="Advanced", Policies=json.dumps(pol))
        self.put(name, "w", Overwrite=True)
        md = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        self.assertEqual([p["PolicyType"] for p in md[0].get("Policies", [])], ["NoChangeNotification"])
        pol2 = [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": iso(self.future(86400 * 30))}}]
        self.put(name, "x", Overwrite=True, Policies=json.dumps(pol2))
        md = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        self.assertEqual([p["PolicyType"] for p in md[0].get("Policies", [])], ["Expiration"])


if __name__ == "__main__":
    unittest.main()
