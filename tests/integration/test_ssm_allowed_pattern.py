"""AllowedPattern against a real leverd, through boto3 and the AWS CLI v2: the
pattern must match the whole value (Java's String.matches, as Parameter
Store validates), in the linear-time engine and in the PCRE2 fallback."""

import unittest

from lever_harness import LeverTestCase

MISMATCH = "ParameterPatternMismatchException"


class AllowedPatternWholeValueTest(LeverTestCase):
    def assertMismatch(self, name, value, pattern, **kw):
        e = self.assertAwsError(MISMATCH, self.ssm.put_parameter, Name=name, Value=value, **kw)
        self.assertEqual(e.response["Error"]["Message"],
                         "Parameter value, cannot be validated against allowedPattern: %s" % pattern)

    def test_user_guide_example_boto3(self):
        # AWS's user guide: \d{1,4} allows 100 and refuses an overwrite with 10,000.
        name = self.n("port")
        self.put(name, "100", AllowedPattern=r"\d{1,4}")
        self.assertMismatch(name, "10,000", r"\d{1,4}", Overwrite=True)
        for bad in ("12345", "abc1", "1a", " 12"):
            with self.subTest(value=bad):
                self.assertMismatch(name, bad, r"\d{1,4}", Overwrite=True)
        self.assertEqual(self.put(name, "9999", type_=None, Overwrite=True)["Version"], 2)
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "9999")
        # the first value is checked against the whole pattern too
        self.assertMismatch(self.n("first"), "12345", r"\d{1,4}", Type="String", AllowedPattern=r"\d{1,4}")

    def test_alternation_and_lookaround(self):
        # an alternation cannot escape the implicit anchors
        name = self.n("env")
        self.put(name, "prod", AllowedPattern="dev|prod")
        self.assertMismatch(name, "production", "dev|prod", Overwrite=True)
        self.assertMismatch(name, "predev", "dev|prod", Overwrite=True)
        # lookahead runs in the bounded PCRE2 engine: same whole-value rule
        pw = self.n("pw")
        pat = r"(?=.*\d)[a-z0-9]{4,8}"
        self.put(pw, "abc1", AllowedPattern=pat)
        self.assertMismatch(pw, "abc1-x", pat, Overwrite=True)
        self.assertMismatch(pw, "abcdefgh1", pat, Overwrite=True)
        self.assertEqual(self.put(pw, "ab12cd", type_=None, Overwrite=True)["Version"], 2)

    def test_user_guide_example_aws_cli(self):
        name = self.n("cli")
        rc, out, err = self.server.aws("put-parameter", "--name", name, "--value", "100", "--type", "String",
                                       "--allowed-pattern", r"\d{1,4}")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.server.aws("put-parameter", "--name", name, "--value", "10,000", "--type", "String",
                                       "--overwrite")
        self.assertEqual(rc, 254, err)
        self.assertIn("(ParameterPatternMismatchException)", err)
        self.assertIn(r"Parameter value, cannot be validated against allowedPattern: \d{1,4}", err)
        rc, out, err = self.server.aws("put-parameter", "--name", name, "--value", "abc1", "--overwrite")
        self.assertEqual(rc, 254, err)
        self.assertIn("ParameterPatternMismatchException", err)
        rc, out, err = self.server.aws("get-parameter", "--name", name)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["Parameter"]["Value"], "100")


if __name__ == "__main__":
    unittest.main()
