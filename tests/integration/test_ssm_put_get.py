"""PutParameter / GetParameter / GetParameters / DeleteParameter(s) against a real
leverd through boto3: types, names, versions, selectors, tiers, patterns, data types, regions."""

import datetime
import unittest

import botocore.exceptions

from lever_harness import (ACCOUNT, REGION, LeverTestCase, arn_for, error_code, is_base64)


class TypesTest(LeverTestCase):
    def test_string_roundtrip(self):
        name = self.n("s")
        r = self.put(name, "hello world", "String")
        self.assertEqual(r["Version"], 1)
        self.assertEqual(r.get("Tier"), "Standard")
        p = self.ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual(p["Name"], name)
        self.assertEqual(p["Type"], "String")
        self.assertEqual(p["Value"], "hello world")
        self.assertEqual(p["Version"], 1)
        self.assertEqual(p["DataType"], "text")
        self.assertEqual(p["ARN"], "arn:aws:ssm:%s:%s:parameter%s" % (REGION, ACCOUNT, name))
        self.assertIsInstance(p["LastModifiedDate"], datetime.datetime)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - p["LastModifiedDate"]).total_seconds()), 3600,
                        "LastModifiedDate is not a plausible epoch timestamp: %s" % p["LastModifiedDate"])
        self.assertNotIn("Selector", p)

    def test_unicode_and_json_value_roundtrip(self):
        name = self.n("u")
        value = '{"k": "v\\n", "emoji": "\u00e9\u4e2d\U0001F600", "q": "\\"x\\""}\n\ttab'
        self.put(name, value)
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], value)

    def test_stringlist(self):
        name = self.n("l")
        self.put(name, "a,b,c", "StringList")
        p = self.ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual(p["Type"], "StringList")
        self.assertEqual(p["Value"], "a,b,c")

    def test_securestring(self):
        name = self.n("sec")
        self.put(name, "s3cr3t-plaintext", "SecureString")
        dec = self.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        self.assertEqual(dec["Type"], "SecureString")
        self.assertEqual(dec["Value"], "s3cr3t-plaintext")
        enc = self.ssm.get_parameter(Name=name, WithDecryption=False)["Parameter"]
        self.assertNotEqual(enc["Value"], "s3cr3t-plaintext")
        self.assertNotIn("s3cr3t", enc["Value"])
        self.assertTrue(is_base64(enc["Value"]), "ciphertext should be base64: %r" % enc["Value"])
        # default is WithDecryption=false
        self.assertNotEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "s3cr3t-plaintext")
        # GetParameters honours WithDecryption too
        ps = self.ssm.get_parameters(Names=[name], WithDecryption=True)["Parameters"]
        self.assertEqual([p["Value"] for p in ps], ["s3cr3t-plaintext"])
        ps = self.ssm.get_parameters(Names=[name])["Parameters"]
        self.assertNotEqual(ps[0]["Value"], "s3cr3t-plaintext")
        # default key
        md = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        self.assertEqual(len(md), 1)
        self.assertEqual(md[0].get("KeyId"), "alias/aws/ssm")

    def test_securestring_ciphertexts_differ_per_put(self):
        a, b = self.n("a"), self.n("b")
        self.put(a, "same", "SecureString")
        self.put(b, "same", "SecureString")
        va = self.ssm.get_parameter(Name=a)["Parameter"]["Value"]
        vb = self.ssm.get_parameter(Name=b)["Parameter"]["Value"]
        self.assertNotEqual(va, vb, "encryption must use a fresh nonce per value")

    def test_securestring_overwrite_keeps_encryption(self):
        name = self.n("sec2")
        self.put(name, "one", "SecureString")
        r = self.ssm.put_parameter(Name=name, Value="two", Overwrite=True)
        self.assertEqual(r["Version"], 2)
        p = self.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        self.assertEqual((p["Type"], p["Value"]), ("SecureString", "two"))
        h = self.ssm.get_parameter_history(Name=name, WithDecryption=True)["Parameters"]
        self.assertEqual([x["Value"] for x in h], ["one", "two"])

    def test_type_change_string_to_securestring_refused(self):
        name = self.n("t")
        self.put(name, "x", "String")
        self.assertAwsError("HierarchyTypeMismatchException", self.ssm.put_parameter,
                            Name=name, Value="y", Type="SecureString", Overwrite=True)
        p = self.ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual((p["Type"], p["Value"], p["Version"]), ("String", "x", 1))

    def test_create_without_type_is_validation_error(self):
        name = self.n("notype")
        self.assertAwsError("ValidationException", self.ssm.put_parameter, Name=name, Value="x")
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=name)

    def test_overwrite_without_type_keeps_type(self):
        name = self.n("keep")
        self.put(name, "a,b", "StringList")
        self.assertEqual(self.ssm.put_parameter(Name=name, Value="c,d", Overwrite=True)["Version"], 2)
        p = self.ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual((p["Type"], p["Value"]), ("StringList", "c,d"))

    def test_invalid_type(self):
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=self.n("bad"), Value="x", Type="Integer")

    def test_empty_value_rejected(self):
        self.assertAwsError("ValidationException", self.ssm.put_parameter, Name=self.n("e"), Value="", Type="String")

    def test_description_roundtrip(self):
        name = self.n("d")
        self.put(name, "x", Description="the description")
        md = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        self.assertEqual(md[0].get("Description"), "the description")
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=self.n("d2"), Value="x", Type="String", Description="d" * 1025)


class NamesTest(LeverTestCase):
    def test_allowed_characters(self):
        for nm in [self.n("a-b_c.d"), self.n("A1/B2/c-3"), "plain" + self.ns.replace("/", "_"), self.n("x") + "." * 3]:
            self.put(nm, "ok")
            self.assertEqual(self.ssm.get_parameter(Name=nm)["Parameter"]["Name"], nm)

    def test_invalid_names(self):
        for bad in ["a b", self.n("a b"), self.n("a") + "//b", self.n("dollar$"), self.n("star*"),
                    self.n("colon:x") + ":y", "no/leading/slash" + self.ns.replace("/", "_"), self.n("q?")]:
            with self.subTest(name=bad):
                self.assertAwsError("ValidationException", self.ssm.put_parameter, Name=bad, Value="v", Type="String")

    def test_case_sensitive(self):
        up, low = self.n("CaSe/A"), self.n("CaSe/a")
        self.put(up, "upper")
        self.put(low, "lower")
        self.assertEqual(self.ssm.get_parameter(Name=up)["Parameter"]["Value"], "upper")
        self.assertEqual(self.ssm.get_parameter(Name=low)["Parameter"]["Value"], "lower")
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=self.n("case/a"))

    def test_reserved_prefixes(self):
        for bad in ["awsfoo", "AWSfoo", "ssmfoo", "SsMfoo", "aws", "ssm", "/ssm/x/y", "/SSM/x", "/awsx", "/ssmx"]:
            with self.subTest(name=bad):
                self.assertAwsError("ValidationException", self.ssm.put_parameter, Name=bad, Value="v", Type="String")
        for bad in ["/aws/x/y", "/AWS/lever/x"]:
            with self.subTest(name=bad):
                self.assertAwsError(("ValidationException", "AccessDeniedException"), self.ssm.put_parameter,
                                    Name=bad, Value="v", Type="String")
        # prefixes only matter at the start
        ok = self.n("aws/ssm")
        self.put(ok, "fine")
        self.put("myaws" + self.ns.replace("/", "_"), "fine")

    def test_hierarchy_depth(self):
        base = self.ns.replace("/", "_")
        fifteen = "/" + base + "".join("/l%d" % i for i in range(2, 16))
        self.assertEqual(fifteen.count("/"), 15)
        self.put(fifteen, "deep")
        self.assertEqual(self.ssm.get_parameter(Name=fifteen)["Parameter"]["Value"], "deep")
        sixteen = fifteen + "/l16"
        self.assertAwsError("HierarchyLevelLimitExceededException", self.ssm.put_parameter,
                            Name=sixteen, Value="v", Type="String")

    def test_long_names(self):
        # AWS: at most 1011 characters *including* the ARN prefix
        # "arn:aws:ssm:<region>:<account>:parameter".
        prefix = self.n("")
        room = 1011 - len(arn_for(prefix))
        ok = prefix + "x" * room
        self.assertEqual(len(arn_for(ok)), 1011)
        self.put(ok, "long")
        p = self.ssm.get_parameter(Name=ok)["Parameter"]
        self.assertEqual((p["Name"], p["Value"], p["ARN"]), (ok, "long", arn_for(ok)))
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=ok + "y", Value="v", Type="String")
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=prefix + "y" * (2049 - len(prefix)), Value="v", Type="String")
        self.assertAwsError("ValidationException", self.ssm.get_parameter, Name=prefix + "y" * (2049 - len(prefix)))

    def test_single_level_names_with_or_without_slash(self):
        # A name without hierarchy is one parameter, with or without its slash,
        # answered as it was created (test_ssm_names_spelling covers every call).
        bare = "single" + self.ns.replace("/", "_")
        self.put("/" + bare, "v1")
        self.assertAwsError("ParameterAlreadyExists", self.ssm.put_parameter, Name=bare, Value="v2", Type="String")
        p = self.ssm.get_parameter(Name=bare)["Parameter"]
        self.assertEqual((p["Name"], p["Value"]), ("/" + bare, "v1"))
        self.assertEqual(p["ARN"], "arn:aws:ssm:us-east-1:000000000000:parameter/" + bare)
        p = self.ssm.get_parameter(Name="/" + bare)["Parameter"]
        self.assertEqual((p["Name"], p["Value"]), ("/" + bare, "v1"))
        p = self.ssm.get_parameter(Name=p["ARN"])["Parameter"]
        self.assertEqual((p["Name"], p["Value"]), ("/" + bare, "v1"))

    def test_put_name_rules(self):
        name = self.n("trim")
        self.put("  " + name + " ", "trimmed")  # AWS trims spaces around the name
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "trimmed")
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=arn_for(self.n("arn")), Value="v", Type="String")
        for bad in ["{{ssm:/x}}", "a {{x}} b"]:
            self.assertAwsError("ValidationException", self.ssm.put_parameter,
                                Name=self.n("ref"), Value=bad, Type="String")
        self.put(self.n("braces"), "{{ not closed")

    def test_malformed_names_are_validation_errors(self):
        for bad in [self.n("a") + "//b", "a/b/c", self.n("sp ace")]:
            for call in (self.ssm.get_parameter, self.ssm.delete_parameter, self.ssm.get_parameter_history):
                with self.subTest(name=bad, call=call.__name__):
                    self.assertAwsError("ValidationException", call, Name=bad)

    def test_get_by_arn_and_arn_field(self):
        name = self.n("arn/p")
        self.put(name, "by-arn")
        arn = arn_for(name)
        self.assertEqual(arn, "arn:aws:ssm:us-east-1:000000000000:parameter" + name)
        p = self.ssm.get_parameter(Name=arn)["Parameter"]
        self.assertEqual(p["Value"], "by-arn")
        self.assertIn(p["Name"], (name, arn))
        self.assertEqual(p["ARN"], arn)
        ps = self.ssm.get_parameters(Names=[arn])
        self.assertEqual([x["Value"] for x in ps["Parameters"]], ["by-arn"])
        self.assertEqual(ps["InvalidParameters"], [])
        # ARN for a name without a leading slash
        plain = "plain" + self.ns.replace("/", "_")
        self.put(plain, "p")
        self.assertEqual(self.ssm.get_parameter(Name=plain)["Parameter"]["ARN"],
                         "arn:aws:ssm:us-east-1:000000000000:parameter/" + plain)
        # wrong account / region in the ARN does not find it
        self.assertAwsError(("ParameterNotFound", "ValidationException", "AccessDeniedException"),
                            self.ssm.get_parameter, Name="arn:aws:ssm:us-east-1:999999999999:parameter" + name)

    def test_get_unknown(self):
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=self.n("missing"))


class VersionsTest(LeverTestCase):
    def test_overwrite_increments_and_already_exists(self):
        name = self.n("v")
        self.assertEqual(self.put(name, "1")["Version"], 1)
        self.assertAwsError("ParameterAlreadyExists", self.ssm.put_parameter, Name=name, Value="2", Type="String")
        self.assertAwsError("ParameterAlreadyExists", self.ssm.put_parameter, Name=name, Value="2", Type="String",
                            Overwrite=False)
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Version"], 1)
        for i in range(2, 6):
            self.assertEqual(self.put(name, str(i), Overwrite=True)["Version"], i)
        p = self.ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual((p["Version"], p["Value"]), (5, "5"))

    def test_delete_then_recreate_starts_at_version_1(self):
        name = self.n("re")
        self.put(name, "a")
        self.put(name, "b", Overwrite=True)
        self.ssm.delete_parameter(Name=name)
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=name)
        self.assertAwsError("ParameterNotFound", self.ssm.delete_parameter, Name=name)
        self.assertEqual(self.put(name, "c")["Version"], 1)
        h = self.ssm.get_parameter_history(Name=name)["Parameters"]
        self.assertEqual([(x["Version"], x["Value"]) for x in h], [(1, "c")])

    def test_hundred_version_limit_drops_oldest(self):
        name = self.n("hundred")
        for i in range(1, 102):
            r = self.put(name, "val%d" % i, Overwrite=(i > 1))
            self.assertEqual(r["Version"], i)
        hist, _pages = self.paginate_all(self.ssm.get_parameter_history, "Parameters", Name=name, MaxResults=50)
        versions = [x["Version"] for x in hist]
        self.assertEqual(versions, list(range(2, 102)))
        self.assertEqual(hist[0]["Value"], "val2")
        self.assertAwsError("ParameterVersionNotFound", self.ssm.get_parameter, Name=name + ":1")
        self.assertEqual(self.ssm.get_parameter(Name=name + ":2")["Parameter"]["Value"], "val2")

    def test_label_on_oldest_blocks_101st_version(self):
        name = self.n("pinned")
        for i in range(1, 101):
            self.put(name, "val%d" % i, Overwrite=(i > 1))
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["keep"])
        self.assertAwsError("ParameterMaxVersionLimitExceeded", self.ssm.put_parameter,
                            Name=name, Value="val101", Overwrite=True)
        p = self.ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual((p["Version"], p["Value"]), (100, "val100"))
        self.assertEqual(self.ssm.get_parameter(Name=name + ":keep")["Parameter"]["Value"], "val1")
        # moving the label away unblocks it
        self.ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["keep"])
        self.assertEqual(self.put(name, "val101", Overwrite=True)["Version"], 101)


class SelectorsTest(LeverTestCase):
    def setUp(self):
        super().setUp()
        self.name = self.n("sel")
        for i in range(1, 4):
            self.put(self.name, "v%d" % i, Overwrite=(i > 1))
        self.ssm.label_parameter_version(Name=self.name, ParameterVersion=2, Labels=["blue"])

    def test_version_selector(self):
        p = self.ssm.get_parameter(Name=self.name + ":1")["Parameter"]
        self.assertEqual((p["Name"], p["Value"], p["Version"]), (self.name, "v1", 1))
        self.assertEqual(p.get("Selector"), ":1")
        p = self.ssm.get_parameter(Name=self.name + ":3")["Parameter"]
        self.assertEqual((p["Value"], p["Version"], p.get("Selector")), ("v3", 3, ":3"))

    def test_label_selector(self):
        p = self.ssm.get_parameter(Name=self.name + ":blue")["Parameter"]
        self.assertEqual((p["Name"], p["Value"], p["Version"]), (self.name, "v2", 2))
        self.assertEqual(p.get("Selector"), ":blue")

    def test_unknown_version_and_label(self):
        self.assertAwsError("ParameterVersionNotFound", self.ssm.get_parameter, Name=self.name + ":4")
        self.assertAwsError("ParameterVersionNotFound", self.ssm.get_parameter, Name=self.name + ":99")
        self.assertAwsError(("ParameterVersionNotFound", "ParameterNotFound"), self.ssm.get_parameter,
                            Name=self.name + ":nolabel")
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=self.n("nothere") + ":1")

    def test_get_parameters_with_selectors(self):
        names = [self.name + ":1", self.name + ":blue", self.name, self.name + ":99", self.name + ":nolabel",
                 self.n("missing")]
        r = self.ssm.get_parameters(Names=names)
        got = sorted((p["Version"], p["Value"], p.get("Selector")) for p in r["Parameters"])
        self.assertEqual(got, sorted([(1, "v1", ":1"), (2, "v2", ":blue"), (3, "v3", None)]))
        for p in r["Parameters"]:
            self.assertEqual(p["Name"], self.name)
        self.assertEqual(sorted(r["InvalidParameters"]),
                         sorted([self.name + ":99", self.name + ":nolabel", self.n("missing")]))


class GetDeleteManyTest(LeverTestCase):
    def test_get_parameters(self):
        names = [self.n("p%d" % i) for i in range(5)]
        for i, nm in enumerate(names):
            self.put(nm, "val%d" % i)
        missing = [self.n("m1"), self.n("m2")]
        r = self.ssm.get_parameters(Names=names + missing)
        self.assertEqual(sorted((p["Name"], p["Value"]) for p in r["Parameters"]),
                         sorted((nm, "val%d" % i) for i, nm in enumerate(names)))
        self.assertEqual(sorted(r["InvalidParameters"]), sorted(missing))
        for p in r["Parameters"]:
            self.assertEqual(p["ARN"], arn_for(p["Name"]))
            self.assertIsInstance(p["LastModifiedDate"], datetime.datetime)

    def test_get_parameters_limit(self):
        names = [self.n("x%d" % i) for i in range(11)]
        self.assertAwsError("ValidationException", self.ssm.get_parameters, Names=names)
        r = self.ssm.get_parameters(Names=names[:10])
        self.assertEqual(len(r["InvalidParameters"]), 10)

    def test_delete_parameters(self):
        names = [self.n("d%d" % i) for i in range(4)]
        for nm in names:
            self.put(nm, "x")
        missing = [self.n("nope")]
        r = self.ssm.delete_parameters(Names=names + missing)
        self.assertEqual(sorted(r["DeletedParameters"]), sorted(names))
        self.assertEqual(r["InvalidParameters"], missing)
        r = self.ssm.get_parameters(Names=names)
        self.assertEqual(r["Parameters"], [])
        self.assertAwsError("ValidationException", self.ssm.delete_parameters,
                            Names=[self.n("y%d" % i) for i in range(11)])

    def test_delete_parameter_removes_history(self):
        name = self.n("gone")
        self.put(name, "a")
        self.put(name, "b", Overwrite=True)
        self.assertEqual(self.ssm.delete_parameter(Name=name)["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter_history, Name=name)
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=name + ":1")


class TiersTest(LeverTestCase):
    def test_standard_limit(self):
        name = self.n("std")
        self.assertEqual(self.put(name, "x" * 4096)["Tier"], "Standard")
        self.assertEqual(len(self.ssm.get_parameter(Name=name)["Parameter"]["Value"]), 4096)
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=self.n("std2"), Value="x" * 4097, Type="String")
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=self.n("std3"), Value="x" * 4097, Type="String", Tier="Standard")
        self.assertAwsError("ParameterNotFound", self.ssm.get_parameter, Name=self.n("std2"))

    def test_advanced_limit(self):
        name = self.n("adv")
        r = self.put(name, "y" * 8192, Tier="Advanced")
        self.assertEqual(r["Tier"], "Advanced")
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "y" * 8192)
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=self.n("adv2"), Value="y" * 8193, Type="String", Tier="Advanced")
        md = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        self.assertEqual(md[0]["Tier"], "Advanced")

    def test_intelligent_tiering(self):
        small, big = self.n("it-small"), self.n("it-big")
        self.assertEqual(self.put(small, "s", Tier="Intelligent-Tiering")["Tier"], "Standard")
        self.assertEqual(self.put(big, "b" * 5000, Tier="Intelligent-Tiering")["Tier"], "Advanced")
        self.assertEqual(self.ssm.get_parameter(Name=big)["Parameter"]["Value"], "b" * 5000)
        # a small value moves to Advanced when it grows
        self.assertEqual(self.put(small, "s" * 4500, Overwrite=True, Tier="Intelligent-Tiering")["Tier"], "Advanced")

    def test_no_downgrade(self):
        name = self.n("down")
        self.put(name, "v", Tier="Advanced")
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=name, Value="w", Overwrite=True, Tier="Standard")
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Version"], 1)
        # upgrading is fine
        up = self.n("up")
        self.put(up, "v")
        self.assertEqual(self.put(up, "w", Overwrite=True, Tier="Advanced")["Tier"], "Advanced")
        md = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [up]}])["Parameters"]
        self.assertEqual(md[0]["Tier"], "Advanced")

    def test_invalid_tier(self):
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=self.n("t"), Value="v", Type="String", Tier="Premium")


class PatternTest(LeverTestCase):
    def test_allowed_pattern_enforced(self):
        name = self.n("num")
        self.put(name, "123", AllowedPattern=r"^\d+$")
        self.assertAwsError("ParameterPatternMismatchException", self.ssm.put_parameter,
                            Name=name, Value="12a", Overwrite=True)
        self.assertEqual(self.put(name, "456", Overwrite=True)["Version"], 2)
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "456")
        md = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        self.assertEqual(md[0].get("AllowedPattern"), r"^\d+$")
        # the very first value is checked too
        self.assertAwsError("ParameterPatternMismatchException", self.ssm.put_parameter,
                            Name=self.n("num2"), Value="abc", Type="String", AllowedPattern=r"^\d+$")

    def test_invalid_pattern(self):
        for i, pat in enumerate(["(", "[a-", "a{2,1}", "(?<"]):
            with self.subTest(pattern=pat):
                self.assertAwsError("InvalidAllowedPatternException", self.ssm.put_parameter,
                                    Name=self.n("bad%d" % i), Value="v", Type="String", AllowedPattern=pat)

    def test_catastrophic_pattern_returns(self):
        # ^(a+)+$ against "aaaa...b" backtracks exponentially in a naive engine; the
        # server must answer (accept or reject) instead of hanging. No timing assert.
        name = self.n("redos")
        slow_client = self.server.client(read_timeout=120)
        self.put(name, "aaa", AllowedPattern="^(a+)+$", client=slow_client)
        try:
            slow_client.put_parameter(Name=name, Value="a" * 3999 + "b", Overwrite=True)
            accepted = True
        except botocore.exceptions.ClientError as e:
            self.assertIn(error_code(e), ("ParameterPatternMismatchException", "ValidationException"))
            accepted = False
        except Exception as e:  # noqa: BLE001  (timeout, connection reset)
            self.fail("no answer to a put checked against ^(a+)+$: %r" % e)
        self.assertFalse(accepted, "value does not match ^(a+)+$ and must be refused")
        # server is still responsive
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "aaa")

    def test_pattern_too_long(self):
        self.assertAwsError(("ValidationException", "InvalidAllowedPatternException"), self.ssm.put_parameter,
                            Name=self.n("long"), Value="a", Type="String", AllowedPattern="a" * 1025)


class DataTypeTest(LeverTestCase):
    def test_text_default_and_explicit(self):
        name = self.n("t")
        self.put(name, "x", DataType="text")
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["DataType"], "text")

    def test_ec2_image(self):
        name = self.n("ami")
        self.put(name, "ami-0123456789abcdef0", DataType="aws:ec2:image")
        p = self.ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual((p["DataType"], p["Value"]), ("aws:ec2:image", "ami-0123456789abcdef0"))
        for i, bad in enumerate(["not-an-ami", "ami-", "ami_12345678", "ami-XYZ!"]):
            with self.subTest(value=bad):
                self.assertAwsError("ValidationException", self.ssm.put_parameter,
                                    Name=self.n("ami-bad%d" % i), Value=bad, Type="String", DataType="aws:ec2:image")

    def test_unknown_data_type(self):
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=self.n("dt"), Value="v", Type="String", DataType="TEXT")
        self.assertAwsError("ValidationException", self.ssm.put_parameter,
                            Name=self.n("dt2"), Value="v", Type="String", DataType="json")


class RegionsTest(LeverTestCase):
    def test_regions_are_isolated(self):
        name = self.n("r")
        self.put(name, "east")
        west = self.server.client(region="us-west-2")
        self.assertAwsError("ParameterNotFound", west.get_parameter, Name=name)
        r = west.put_parameter(Name=name, Value="west", Type="String")
        self.assertEqual(r["Version"], 1)
        pw = west.get_parameter(Name=name)["Parameter"]
        self.assertEqual(pw["Value"], "west")
        self.assertEqual(pw["ARN"], "arn:aws:ssm:us-west-2:000000000000:parameter" + name)
        pe = self.ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual((pe["Value"], pe["Version"]), ("east", 1))
        self.assertEqual(pe["ARN"], "arn:aws:ssm:us-east-1:000000000000:parameter" + name)
        by_path = west.get_parameters_by_path(Path=self.ns, Recursive=True)["Parameters"]
        self.assertEqual([(p["Name"], p["Value"]) for p in by_path], [(name, "west")])
        west.delete_parameter(Name=name)
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "east")


if __name__ == "__main__":
    unittest.main()
