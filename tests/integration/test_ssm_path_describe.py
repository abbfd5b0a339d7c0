"""GetParametersByPath, DescribeParameters and GetParameterHistory: hierarchy walks,
filters, limits, and paging (including paging while other writers change the tree)."""

import collections
import threading
import unittest

import botocore.exceptions

from lever_harness import LeverTestCase, error_code


def put_with_custom_key(tc, name, value, key):
    """SecureString under a non-default KeyId. lever has no KMS: accepting the id as an opaque
    label and refusing it with InvalidKeyId (as AWS does for a key that does not exist) are both
    acceptable; returns whether the custom key was kept."""
    try:
        tc.put(name, value, "SecureString", KeyId=key)
        return True
    except botocore.exceptions.ClientError as e:
        tc.assertEqual(error_code(e), "InvalidKeyId")
        tc.put(name, value, "SecureString")
        return False


class ByPathTest(LeverTestCase):
    def tree(self):
        names = {
            "a": self.n("a"), "b": self.n("b"),
            "x/c": self.n("x/c"), "x/y/d": self.n("x/y/d"), "x/y/z/e": self.n("x/y/z/e"),
        }
        for k, nm in names.items():
            self.put(nm, "val-" + k)
        # a sibling sharing the textual prefix must not leak into the path
        self.put(self.ns + "x", "sibling")
        self.put(self.ns + "-other/q", "other")
        return names

    def names_by_path(self, path, recursive, **kw):
        items, _ = self.paginate_all(self.ssm.get_parameters_by_path, "Parameters", Path=path,
                                     Recursive=recursive, **kw)
        return sorted(p["Name"] for p in items)

    def test_one_level_vs_recursive(self):
        t = self.tree()
        self.assertEqual(self.names_by_path(self.ns, False), sorted([t["a"], t["b"]]))
        self.assertEqual(self.names_by_path(self.ns, True), sorted(t.values()))
        self.assertEqual(self.names_by_path(self.n("x"), False), [t["x/c"]])
        self.assertEqual(self.names_by_path(self.n("x"), True), sorted([t["x/c"], t["x/y/d"], t["x/y/z/e"]]))
        # trailing slash is the same path
        self.assertEqual(self.names_by_path(self.n("x") + "/", True), sorted([t["x/c"], t["x/y/d"], t["x/y/z/e"]]))
        # empty path is an empty result, not an error
        self.assertEqual(self.names_by_path(self.n("nothing/here"), True), [])

    def test_values_and_fields(self):
        t = self.tree()
        items = self.ssm.get_parameters_by_path(Path=self.n("x"), Recursive=True)["Parameters"]
        by_name = {p["Name"]: p for p in items}
        self.assertEqual(by_name[t["x/c"]]["Value"], "val-x/c")
        for p in items:
            self.assertEqual(p["Type"], "String")
            self.assertEqual(p["Version"], 1)
            self.assertTrue(p["ARN"].endswith(":parameter" + p["Name"]))

    def test_securestring_decryption(self):
        s = self.n("sec")
        self.put(s, "plain-secret", "SecureString")
        enc = self.ssm.get_parameters_by_path(Path=self.ns)["Parameters"]
        self.assertNotEqual(enc[0]["Value"], "plain-secret")
        dec = self.ssm.get_parameters_by_path(Path=self.ns, WithDecryption=True)["Parameters"]
        self.assertEqual(dec[0]["Value"], "plain-secret")

    def test_filters_type_keyid(self):
        self.put(self.n("s"), "s", "String")
        self.put(self.n("l"), "a,b", "StringList")
        self.put(self.n("sec"), "x", "SecureString")
        custom = put_with_custom_key(self, self.n("sec2"), "y", "alias/custom")
        got = self.names_by_path(self.ns, True, ParameterFilters=[{"Key": "Type", "Values": ["StringList"]}])
        self.assertEqual(got, [self.n("l")])
        got = self.names_by_path(self.ns, True, ParameterFilters=[
            {"Key": "Type", "Option": "Equals", "Values": ["String", "SecureString"]}])
        self.assertEqual(got, sorted([self.n("s"), self.n("sec"), self.n("sec2")]))
        got = self.names_by_path(self.ns, True, ParameterFilters=[{"Key": "KeyId", "Values": ["alias/aws/ssm"]}])
        self.assertEqual(got, [self.n("sec")] if custom else sorted([self.n("sec"), self.n("sec2")]))
        got = self.names_by_path(self.ns, True, ParameterFilters=[{"Key": "KeyId", "Values": ["alias/custom"]}])
        self.assertEqual(got, [self.n("sec2")] if custom else [])

    def test_filter_label(self):
        a, b, c = self.n("a"), self.n("b"), self.n("c")
        for nm in (a, b, c):
            self.put(nm, nm + "-1")
            self.put(nm, nm + "-2", Overwrite=True)
        self.ssm.label_parameter_version(Name=a, ParameterVersion=2, Labels=["prod"])
        self.ssm.label_parameter_version(Name=c, ParameterVersion=2, Labels=["dev"])
        got = self.names_by_path(self.ns, True, ParameterFilters=[
            {"Key": "Label", "Option": "Equals", "Values": ["prod"]}])
        self.assertEqual(got, [a])
        got = self.names_by_path(self.ns, True, ParameterFilters=[{"Key": "Label", "Values": ["prod", "dev"]}])
        self.assertEqual(got, sorted([a, c]))
        self.assertAwsError("InvalidFilterOption", self.ssm.get_parameters_by_path, Path=self.ns,
                            ParameterFilters=[{"Key": "Label", "Option": "BeginsWith", "Values": ["pr"]}])

    def test_filter_label_returns_labeled_version(self):
        a = self.n("a")
        self.put(a, "one")
        self.put(a, "two", Overwrite=True)
        self.ssm.label_parameter_version(Name=a, ParameterVersion=1, Labels=["stable"])
        items = self.ssm.get_parameters_by_path(Path=self.ns, ParameterFilters=[
            {"Key": "Label", "Option": "Equals", "Values": ["stable"]}])["Parameters"]
        self.assertEqual([(p["Name"], p["Version"], p["Value"]) for p in items], [(a, 1, "one")])

    def test_invalid_filters(self):
        self.put(self.n("a"), "x")
        for key in ["Name", "Path", "Tier", "DataType", "tag:env"]:
            with self.subTest(key=key):
                self.assertAwsError("InvalidFilterKey", self.ssm.get_parameters_by_path, Path=self.ns,
                                    ParameterFilters=[{"Key": key, "Values": ["x"]}])
        self.assertAwsError("InvalidFilterOption", self.ssm.get_parameters_by_path, Path=self.ns,
                            ParameterFilters=[{"Key": "Type", "Option": "Recursive", "Values": ["String"]}])

    def test_max_results(self):
        for i in range(12):
            self.put(self.n("m%02d" % i), str(i))
        for mr in (1, 5, 10):
            r = self.ssm.get_parameters_by_path(Path=self.ns, MaxResults=mr)
            self.assertLessEqual(len(r["Parameters"]), mr)
            self.assertIn("NextToken", r)
        self.assertAwsError("ValidationException", self.ssm.get_parameters_by_path, Path=self.ns, MaxResults=11)

    def test_paging_collects_everything_once(self):
        names = sorted(self.n("p%03d" % i) for i in range(37))
        for nm in names:
            self.put(nm, nm[::-1])
        for mr in (1, 3, 10):
            items, pages = self.paginate_all(self.ssm.get_parameters_by_path, "Parameters",
                                             Path=self.ns, MaxResults=mr)
            got = [p["Name"] for p in items]
            self.assertEqual(sorted(got), names, "MaxResults=%d" % mr)
            self.assertEqual(len(got), len(set(got)))
            self.assertGreaterEqual(pages, -(-37 // mr))
            for p in items:
                self.assertEqual(p["Value"], p["Name"][::-1])

    def test_paging_stable_under_concurrent_writes(self):
        stable = ["%s/k%03d" % (self.ns, i) for i in range(0, 120, 2)]
        for nm in stable:
            self.put(nm, "stable")
        # a second level so the recursive walk crosses sub-trees too
        deep = ["%s/k%03d/sub/leaf" % (self.ns, i) for i in range(0, 120, 10)]
        for nm in deep:
            self.put(nm, "stable")
        stop = threading.Event()
        errors = []

        def churn():
            c = self.server.client()
            i = 0
            try:
                while not stop.is_set():
                    # odd numbers sort between the stable names
                    nm = "%s/k%03d" % (self.ns, 1 + 2 * (i % 60))
                    if (i // 60) % 2 == 0:
                        c.put_parameter(Name=nm, Value="churn", Type="String", Overwrite=True)
                    else:
                        c.delete_parameters(Names=[nm])
                    i += 1
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        th = threading.Thread(target=churn, daemon=True)
        th.start()
        try:
            for recursive in (False, True, False, True):
                items, _ = self.paginate_all(self.ssm.get_parameters_by_path, "Parameters",
                                             Path=self.ns, Recursive=recursive, MaxResults=3)
                counts = collections.Counter(p["Name"] for p in items)
                want = stable + (deep if recursive else [])
                for nm in want:
                    self.assertEqual(counts[nm], 1, "%s seen %d times (recursive=%s)" % (nm, counts[nm], recursive))
                dups = [nm for nm, c in counts.items() if c > 1]
                self.assertEqual(dups, [], "names returned twice in one listing")
                if not recursive:
                    self.assertFalse(any(nm.endswith("/leaf") for nm in counts))
        finally:
            stop.set()
            th.join(30)
        self.assertEqual(errors, [])

    def test_bad_next_token(self):
        for i in range(3):
            self.put(self.n("t%d" % i), "v")
        for tok in ["garbage", "AAAA", "x" * 100, "eyJrIjoiL3d1dCJ9"]:
            with self.subTest(token=tok):
                self.assertAwsError("InvalidNextToken", self.ssm.get_parameters_by_path,
                                    Path=self.ns, NextToken=tok)

    def test_next_token_is_bound_to_query(self):
        # a token from one path must not be replayed against another path silently
        for i in range(4):
            self.put(self.n("a/t%d" % i), "v")
            self.put(self.n("b/t%d" % i), "v")
        tok = self.ssm.get_parameters_by_path(Path=self.n("a"), MaxResults=1)["NextToken"]
        try:
            r = self.ssm.get_parameters_by_path(Path=self.n("b"), MaxResults=10, NextToken=tok)
        except Exception as e:  # noqa: BLE001
            self.assertEqual(getattr(e, "response", {}).get("Error", {}).get("Code"), "InvalidNextToken")
        else:
            for p in r["Parameters"]:
                self.assertTrue(p["Name"].startswith(self.n("b") + "/"))

    def test_boto3_paginator(self):
        names = sorted(self.n("g/%02d" % i) for i in range(23))
        for nm in names:
            self.put(nm, "v")
        pag = self.ssm.get_paginator("get_parameters_by_path")
        got = []
        for page in pag.paginate(Path=self.n("g"), Recursive=True, PaginationConfig={"PageSize": 4}):
            self.assertLessEqual(len(page["Parameters"]), 4)
            got.extend(p["Name"] for p in page["Parameters"])
        self.assertEqual(sorted(got), names)
        self.assertEqual(len(got), len(names))

    def test_invalid_paths(self):
        self.assertAwsError("ValidationException", self.ssm.get_parameters_by_path, Path="no-slash")
        self.assertAwsError("ValidationException", self.ssm.get_parameters_by_path, Path=self.ns + "//x")


class DescribeTest(LeverTestCase):
    def populate(self):
        p = {}
        p["s"] = self.n("app/s")
        self.put(p["s"], "v", "String", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "core"}])
        p["l"] = self.n("app/l")
        self.put(p["l"], "a,b", "StringList", Tags=[{"Key": "env", "Value": "dev"}])
        p["sec"] = self.n("app/deep/sec")
        self.put(p["sec"], "x", "SecureString")
        p["key"] = self.n("app/deep/key")
        self.custom_key = put_with_custom_key(self, p["key"], "x", "alias/other")
        p["adv"] = self.n("adv")
        self.put(p["adv"], "x", "String", Tier="Advanced")
        p["ami"] = self.n("ami")
        self.put(p["ami"], "ami-0123456789abcdef0", "String", DataType="aws:ec2:image")
        return p

    def describe(self, **kw):
        items, _ = self.paginate_all(self.ssm.describe_parameters, "Parameters", **kw)
        return items

    def mine(self, items):
        return sorted(p["Name"] for p in items if p["Name"].startswith(self.ns + "/"))

    def pf(self, *filters):
        """ParameterFilters scoped to this test's namespace."""
        return [{"Key": "Path", "Option": "Recursive", "Values": [self.ns]}] + list(filters)

    def test_metadata_fields(self):
        p = self.populate()
        items = self.describe(ParameterFilters=[{"Key": "Name", "Values": [p["s"]]}])
        self.assertEqual(len(items), 1)
        m = items[0]
        self.assertEqual((m["Name"], m["Type"], m["Version"], m["Tier"], m["DataType"]),
                         (p["s"], "String", 1, "Standard", "text"))
        self.assertNotIn("Value", m)
        self.assertIn("LastModifiedDate", m)
        self.assertIsInstance(m.get("LastModifiedUser", ""), str)

    def test_parameter_filters_name(self):
        p = self.populate()
        self.assertEqual(self.mine(self.describe(ParameterFilters=[
            {"Key": "Name", "Option": "Equals", "Values": [p["s"], p["l"]]}])), sorted([p["s"], p["l"]]))
        self.assertEqual(self.mine(self.describe(ParameterFilters=[
            {"Key": "Name", "Option": "BeginsWith", "Values": [self.n("app/deep")]}])), sorted([p["sec"], p["key"]]))
        self.assertEqual(self.mine(self.describe(ParameterFilters=[
            {"Key": "Name", "Values": [self.n("app")]}])), [])

    def test_parameter_filters_path(self):
        p = self.populate()
        self.assertEqual(self.mine(self.describe(ParameterFilters=[
            {"Key": "Path", "Option": "OneLevel", "Values": [self.n("app")]}])), sorted([p["s"], p["l"]]))
        self.assertEqual(self.mine(self.describe(ParameterFilters=[
            {"Key": "Path", "Values": [self.n("app")]}])), sorted([p["s"], p["l"]]))  # OneLevel is the default
        self.assertEqual(self.mine(self.describe(ParameterFilters=[
            {"Key": "Path", "Option": "Recursive", "Values": [self.n("app")]}])),
            sorted([p["s"], p["l"], p["sec"], p["key"]]))
        self.assertEqual(self.mine(self.describe(ParameterFilters=self.pf())), sorted(p.values()))

    def test_parameter_filters_type_keyid_tier_datatype(self):
        p = self.populate()
        cases = [
            ({"Key": "Type", "Values": ["SecureString"]}, [p["sec"], p["key"]]),
            ({"Key": "Type", "Values": ["StringList", "String"]}, [p["s"], p["l"], p["adv"], p["ami"]]),
            ({"Key": "KeyId", "Values": ["alias/aws/ssm"]}, [p["sec"]] + ([] if self.custom_key else [p["key"]])),
            ({"Key": "KeyId", "Values": ["alias/other"]}, [p["key"]] if self.custom_key else []),
            ({"Key": "Tier", "Values": ["Advanced"]}, [p["adv"]]),
            ({"Key": "Tier", "Values": ["Standard"]}, [p["s"], p["l"], p["sec"], p["key"], p["ami"]]),
            ({"Key": "DataType", "Values": ["aws:ec2:image"]}, [p["ami"]]),
        ]
        for f, want in cases:
            with self.subTest(filter=f):
                self.assertEqual(self.mine(self.describe(ParameterFilters=self.pf(f))), sorted(want))

    def test_parameter_filters_tags(self):
        p = self.populate()
        self.assertEqual(self.mine(self.describe(ParameterFilters=self.pf({"Key": "tag:env", "Values": ["prod"]}))),
                         [p["s"]])
        self.assertEqual(self.mine(self.describe(ParameterFilters=self.pf(
            {"Key": "tag:env", "Values": ["prod", "dev"]}))), sorted([p["s"], p["l"]]))
        self.assertEqual(self.mine(self.describe(ParameterFilters=self.pf({"Key": "tag:team", "Values": ["core"]}))),
                         [p["s"]])
        self.assertEqual(self.mine(self.describe(ParameterFilters=self.pf({"Key": "tag:none", "Values": ["x"]}))),
                         [])

    def test_legacy_filters(self):
        p = self.populate()
        self.assertEqual(self.mine(self.describe(Filters=[{"Key": "Type", "Values": ["SecureString"]}])),
                         sorted([p["sec"], p["key"]]))
        self.assertEqual(self.mine(self.describe(Filters=[{"Key": "KeyId", "Values": ["alias/other"]}])),
                         [p["key"]] if self.custom_key else [])
        self.assertIn(p["adv"], self.mine(self.describe(Filters=[{"Key": "Name", "Values": [p["adv"]]}])))
        self.assertNotIn(p["adv"], self.mine(self.describe(Filters=[{"Key": "Name", "Values": [p["s"]]}])))

    def test_filter_errors(self):
        self.populate()
        self.assertAwsError("InvalidFilterKey", self.ssm.describe_parameters,
                            ParameterFilters=[{"Key": "Label", "Values": ["x"]}])
        self.assertAwsError(("InvalidFilterKey", "ValidationException"), self.ssm.describe_parameters,
                            ParameterFilters=[{"Key": "Bogus", "Values": ["x"]}])
        self.assertAwsError(("InvalidFilterKey", "ValidationException"), self.ssm.describe_parameters,
                            Filters=[{"Key": "Bogus", "Values": ["x"]}])
        self.assertAwsError("InvalidFilterOption", self.ssm.describe_parameters,
                            ParameterFilters=[{"Key": "Name", "Option": "Recursive", "Values": [self.ns]}])
        self.assertAwsError("InvalidFilterOption", self.ssm.describe_parameters,
                            ParameterFilters=[{"Key": "Path", "Option": "Equals", "Values": [self.ns]}])
        self.assertAwsError("InvalidFilterOption", self.ssm.describe_parameters,
                            ParameterFilters=[{"Key": "Type", "Option": "Bogus", "Values": ["String"]}])
        self.assertAwsError("ValidationException", self.ssm.describe_parameters,
                            Filters=[{"Key": "Type", "Values": ["String"]}],
                            ParameterFilters=[{"Key": "Type", "Values": ["String"]}])

    def test_max_results(self):
        self.populate()
        r = self.ssm.describe_parameters(MaxResults=50, ParameterFilters=self.pf())
        self.assertEqual(len(self.mine(r["Parameters"])), 6)
        r = self.ssm.describe_parameters(MaxResults=2, ParameterFilters=self.pf())
        self.assertLessEqual(len(r["Parameters"]), 2)
        self.assertIn("NextToken", r)
        self.assertAwsError("ValidationException", self.ssm.describe_parameters, MaxResults=51)

    def test_paging(self):
        names = sorted(self.n("pg/%03d" % i) for i in range(29))
        for nm in names:
            self.put(nm, "v")
        for mr in (1, 4, 50):
            items, pages = self.paginate_all(self.ssm.describe_parameters, "Parameters", MaxResults=mr,
                                             ParameterFilters=[{"Key": "Path", "Values": [self.n("pg")]}])
            got = [p["Name"] for p in items]
            self.assertEqual(sorted(got), names)
            self.assertEqual(len(got), len(set(got)))
        pag = self.ssm.get_paginator("describe_parameters")
        got = []
        for page in pag.paginate(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [self.n("pg")]}],
                                 PaginationConfig={"PageSize": 7}):
            got.extend(p["Name"] for p in page["Parameters"])
        self.assertEqual(sorted(got), names)

    def test_bad_next_token(self):
        self.assertAwsError("InvalidNextToken", self.ssm.describe_parameters, NextToken="not-a-token")

    def test_unfiltered_lists_everything(self):
        p = self.populate()
        plain = "plain" + self.ns.replace("/", "_")
        self.put(plain, "v")
        names = set(x["Name"] for x in self.describe(MaxResults=50))
        self.assertTrue(set(p.values()) <= names)
        self.assertIn(plain, names)


class HistoryTest(LeverTestCase):
    def test_history_fields(self):
        name = self.n("h")
        self.put(name, "one", Description="first", AllowedPattern="^[a-z]+$")
        self.put(name, "two", Overwrite=True, Description="second")
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["old"])
        h = self.ssm.get_parameter_history(Name=name)["Parameters"]
        self.assertEqual([x["Version"] for x in h], [1, 2])
        self.assertEqual([x["Value"] for x in h], ["one", "two"])
        self.assertEqual(h[0].get("Description"), "first")
        self.assertEqual(h[1].get("Description"), "second")
        self.assertEqual(h[0].get("Labels"), ["old"])
        self.assertEqual(h[1].get("Labels", []), [])
        for x in h:
            self.assertEqual(x["Name"], name)
            self.assertEqual(x["Type"], "String")
            self.assertEqual(x["Tier"], "Standard")
            self.assertEqual(x["DataType"], "text")

    def test_history_securestring(self):
        name = self.n("hs")
        self.put(name, "one", "SecureString")
        self.put(name, "two", "SecureString", Overwrite=True)
        h = self.ssm.get_parameter_history(Name=name, WithDecryption=True)["Parameters"]
        self.assertEqual([x["Value"] for x in h], ["one", "two"])
        self.assertEqual([x.get("KeyId") for x in h], ["alias/aws/ssm"] * 2)
        h = self.ssm.get_parameter_history(Name=name)["Parameters"]
        self.assertNotIn("one", [x["Value"] for x in h])

    def test_history_paging(self):
        name = self.n("hp")
        for i in range(1, 13):
            self.put(name, "v%d" % i, Overwrite=(i > 1))
        r = self.ssm.get_parameter_history(Name=name, MaxResults=5)
        self.assertEqual([x["Version"] for x in r["Parameters"]], [1, 2, 3, 4, 5])
        self.assertIn("NextToken", r)
        items, pages = self.paginate_all(self.ssm.get_parameter_history, "Parameters", Name=name, MaxResults=5)
        self.assertEqual([x["Version"] for x in items], list(range(1, 13)))
        self.assertEqual([x["Value"] for x in items], ["v%d" % i for i in range(1, 13)])
        self.assertIn(pages, (3, 4))
        got = []
        for page in self.ssm.get_paginator("get_parameter_history").paginate(
                Name=name, PaginationConfig={"PageSize": 4}):
            got.extend(x["Version"] for x in page["Parameters"])
        self.assertEqual(got, list(range(1, 13)))
        self.assertAwsError("ValidationException", self.ssm.get_parameter_history, Name=name, MaxResults=51)
        self.assertAwsError("InvalidNextToken", self.ssm.get_parameter_history, Name=name, NextToken="zzz")

    def test_history_unknown(self):
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter_history, Name=self.n("none"))


if __name__ == "__main__":
    unittest.main()


class FilterRulesTest(LeverTestCase):
    """Filter options and keys as the model and AWS's docs define them."""

    def test_begins_with_on_every_key_but_path_and_label(self):
        ns = self.ns
        self.put(ns + "/s", "v", "String")
        self.put(ns + "/l", "a,b", "StringList")
        got = [p["Name"] for p in self.ssm.describe_parameters(ParameterFilters=[
            {"Key": "Path", "Option": "Recursive", "Values": [ns]},
            {"Key": "Type", "Option": "BeginsWith", "Values": ["StringL"]}])["Parameters"]]
        self.assertEqual(got, [ns + "/l"])
        got = [p["Name"] for p in self.ssm.get_parameters_by_path(Path=ns, ParameterFilters=[
            {"Key": "Type", "Option": "BeginsWith", "Values": ["Str"]}])["Parameters"]]
        self.assertEqual(sorted(got), sorted([ns + "/s", ns + "/l"]))
        self.assertAwsError("InvalidFilterOption", self.ssm.get_parameters_by_path, Path=ns,
                            ParameterFilters=[{"Key": "Label", "Option": "BeginsWith", "Values": ["x"]}])

    def test_empty_legacy_filters_do_not_hide_parameter_filters(self):
        ns = self.ns
        self.put(ns + "/a", "v")
        self.put(self.ns + "x/other", "v")
        got = [p["Name"] for p in self.ssm.describe_parameters(
            Filters=[], ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [ns]}])["Parameters"]]
        self.assertEqual(got, [ns + "/a"])

    def test_key_outside_the_model_pattern_is_a_validation_error(self):
        self.assertAwsError("ValidationException", self.ssm.describe_parameters,
                            ParameterFilters=[{"Key": "Bogus", "Values": ["x"]}])
        self.assertAwsError("ValidationException", self.ssm.describe_parameters,
                            ParameterFilters=[{"Key": "Path", "Values": ["/aws/service"]}])

    def test_get_parameters_answers_in_name_order(self):
        names = [self.n(x) for x in ("c", "a", "b")]
        for n in names:
            self.put(n, "v")
        got = [p["Name"] for p in self.ssm.get_parameters(Names=names)["Parameters"]]
        self.assertEqual(got, sorted(names))
