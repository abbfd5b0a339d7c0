"""A single-level name is answered as it was created ("/x" as "/x", "x" as
"x") by every read, both spellings reach the one parameter in every call, the
ARN stays ...:parameter/x, and the spelling survives a restart. boto3 and the
AWS CLI v2 against a real leverd."""

import itertools
import unittest

from lever_harness import ACCOUNT, REGION, LeverTestCase

_seq = itertools.count(1)


def arn(bare):
    return "arn:aws:ssm:%s:%s:parameter/%s" % (REGION, ACCOUNT, bare)


class NameSpellingTest(LeverTestCase):
    def bare(self):
        """A fresh single-level name (no slash)."""
        return "spell%d%s" % (next(_seq), self._testMethodName.replace("test_", "_")[:30])

    def names_by_path(self):
        out, token = [], None
        while True:
            kw = {"Path": "/", "Recursive": True, "MaxResults": 10}
            if token:
                kw["NextToken"] = token
            r = self.ssm.get_parameters_by_path(**kw)
            out += [p["Name"] for p in r["Parameters"]]
            token = r.get("NextToken")
            if not token:
                return out

    def check_answers(self, bare, shown):
        """Every read, through either spelling, answers `shown`."""
        for asked in (bare, "/" + bare, arn(bare)):
            with self.subTest(asked=asked):
                p = self.ssm.get_parameter(Name=asked)["Parameter"]
                self.assertEqual((p["Name"], p["ARN"]), (shown, arn(bare)))
                ps = self.ssm.get_parameters(Names=[asked])
                self.assertEqual([x["Name"] for x in ps["Parameters"]], [shown])
                self.assertEqual(ps["InvalidParameters"], [])
                hist = self.ssm.get_parameter_history(Name=asked)["Parameters"]
                self.assertEqual({h["Name"] for h in hist}, {shown})
        for value in (bare, "/" + bare):
            md = self.ssm.describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [value]}])["Parameters"]
            self.assertEqual([m["Name"] for m in md], [shown])
        listed = self.names_by_path()
        self.assertIn(shown, listed)
        other = bare if shown.startswith("/") else "/" + bare
        self.assertNotIn(other, listed)

    def test_created_with_slash_is_answered_with_slash(self):
        bare = self.bare()
        self.put("/" + bare, "v1")
        self.check_answers(bare, "/" + bare)
        # an overwrite through the other spelling keeps the created one
        self.assertEqual(self.ssm.put_parameter(Name=bare, Value="v2", Overwrite=True)["Version"], 2)
        self.check_answers(bare, "/" + bare)
        p = self.ssm.get_parameter(Name=bare + ":1")["Parameter"]
        self.assertEqual((p["Name"], p["Selector"], p["Value"]), ("/" + bare, ":1", "v1"))

    def test_created_without_slash_is_answered_without(self):
        bare = self.bare()
        self.put(bare, "v1")
        self.check_answers(bare, bare)
        self.assertAwsError("ParameterAlreadyExists", self.ssm.put_parameter, Name="/" + bare, Value="v",
                            Type="String")

    def test_both_spellings_reach_labels_tags_history_delete(self):
        bare = self.bare()
        self.put("/" + bare, "v1")
        self.ssm.put_parameter(Name="/" + bare, Value="v2", Overwrite=True)
        self.ssm.label_parameter_version(Name=bare, ParameterVersion=1, Labels=["old"])
        self.ssm.label_parameter_version(Name="/" + bare, Labels=["new"])
        p = self.ssm.get_parameter(Name=bare + ":old")["Parameter"]
        self.assertEqual((p["Name"], p["Version"]), ("/" + bare, 1))
        r = self.ssm.unlabel_parameter_version(Name=bare, ParameterVersion=2, Labels=["new"])
        self.assertEqual(r["RemovedLabels"], ["new"])
        hist = self.ssm.get_parameter_history(Name=bare)["Parameters"]
        self.assertEqual([(h["Name"], h["Labels"]) for h in hist], [("/" + bare, ["old"]), ("/" + bare, [])])
        self.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=bare, Tags=[{"Key": "a", "Value": "1"}])
        self.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/" + bare,
                                      Tags=[{"Key": "b", "Value": "2"}])
        for rid in (bare, "/" + bare):
            tags = self.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=rid)["TagList"]
            self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags), [("a", "1"), ("b", "2")])
        self.ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=bare, TagKeys=["a"])
        tags = self.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/" + bare)["TagList"]
        self.assertEqual([t["Key"] for t in tags], ["b"])
        # delete through the other spelling
        self.ssm.delete_parameter(Name=bare)
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name="/" + bare)
        # DeleteParameters answers the names as they were asked
        a, b = self.bare(), self.bare()
        self.put(a, "x")
        self.put("/" + b, "y")
        r = self.ssm.delete_parameters(Names=["/" + a, b, "/nothing-" + a])
        self.assertEqual(sorted(r["DeletedParameters"]), sorted(["/" + a, b]))
        self.assertEqual(r["InvalidParameters"], ["/nothing-" + a])
        for n in (a, b):
            self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=n)

    def test_recreated_with_other_spelling(self):
        bare = self.bare()
        self.put("/" + bare, "v1")
        self.ssm.delete_parameter(Name="/" + bare)
        self.put(bare, "again")
        self.check_answers(bare, bare)

    def test_spelling_survives_restart(self):
        slashed, plain = self.bare(), self.bare()
        self.put("/" + slashed, "s")
        self.put(plain, "p")
        self.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=slashed,
                                      Tags=[{"Key": "k", "Value": "v"}])
        self.server.restart()
        type(self).ssm = self.server.client()
        self.check_answers(slashed, "/" + slashed)
        self.check_answers(plain, plain)
        self.server.restart(hard=True)
        type(self).ssm = self.server.client()
        self.check_answers(slashed, "/" + slashed)

    def test_aws_cli(self):
        bare = self.bare()
        rc, out, err = self.server.aws("put-parameter", "--name", "/" + bare, "--value", "cli", "--type", "String")
        self.assertEqual(rc, 0, err)
        for asked in (bare, "/" + bare):
            rc, out, err = self.server.aws("get-parameter", "--name", asked)
            self.assertEqual(rc, 0, err)
            self.assertEqual((out["Parameter"]["Name"], out["Parameter"]["ARN"]), ("/" + bare, arn(bare)))
        rc, out, err = self.server.aws("get-parameters", "--names", bare)
        self.assertEqual(rc, 0, err)
        self.assertEqual([p["Name"] for p in out["Parameters"]], ["/" + bare])
        rc, out, err = self.server.aws("get-parameter-history", "--name", bare)
        self.assertEqual(rc, 0, err)
        self.assertEqual([p["Name"] for p in out["Parameters"]], ["/" + bare])
        rc, out, err = self.server.aws("describe-parameters", "--parameter-filters",
                                       "Key=Name,Option=Equals,Values=" + bare)
        self.assertEqual(rc, 0, err)
        self.assertEqual([p["Name"] for p in out["Parameters"]], ["/" + bare])
        rc, out, err = self.server.aws("delete-parameter", "--name", bare)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.server.aws("get-parameter", "--name", "/" + bare)
        self.assertEqual(rc, 254)
        self.assertIn("ParameterNotFound", err)


if __name__ == "__main__":
    unittest.main()
