"""The AWS CLI v2 (Debian's /usr/bin/aws) against leverd, unchanged: put, get,
by-path with automatic pagination, history, labels, delete, and a credentials file."""

import os
import unittest

from lever_harness import AWS_CLI, LeverTestCase


@unittest.skipUnless(os.access(AWS_CLI, os.X_OK), "Debian's aws CLI v2 is not installed at /usr/bin/aws")
class AwsCliTest(LeverTestCase):
    def aws_ok(self, *args, **kw):
        rc, out, err = self.server.aws(*args, **kw)
        self.assertEqual(rc, 0, "aws %s failed (rc=%s): %s" % (" ".join(args), rc, err))
        return out

    def test_put_get_delete(self):
        name = self.n("cli")
        out = self.aws_ok("put-parameter", "--name", name, "--value", "from-cli", "--type", "String")
        self.assertEqual(out["Version"], 1)
        self.assertEqual(out.get("Tier"), "Standard")
        out = self.aws_ok("put-parameter", "--name", name, "--value", "second", "--overwrite")
        self.assertEqual(out["Version"], 2)
        out = self.aws_ok("get-parameter", "--name", name)
        self.assertEqual(out["Parameter"]["Value"], "second")
        self.assertEqual(out["Parameter"]["Version"], 2)
        out = self.aws_ok("get-parameter", "--name", name + ":1")
        self.assertEqual(out["Parameter"]["Value"], "from-cli")
        # seen by boto3 too
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "second")
        self.aws_ok("delete-parameter", "--name", name)
        rc, out, err = self.server.aws("get-parameter", "--name", name)
        self.assertNotEqual(rc, 0)
        self.assertIn("ParameterNotFound", err)

    def test_error_exit_code(self):
        name = self.n("dup")
        self.aws_ok("put-parameter", "--name", name, "--value", "a", "--type", "String")
        rc, out, err = self.server.aws("put-parameter", "--name", name, "--value", "b", "--type", "String")
        self.assertEqual(rc, 254, err)
        self.assertIn("ParameterAlreadyExists", err)

    def test_securestring(self):
        name = self.n("sec")
        self.aws_ok("put-parameter", "--name", name, "--value", "hunter2", "--type", "SecureString")
        out = self.aws_ok("get-parameter", "--name", name, "--with-decryption")
        self.assertEqual(out["Parameter"]["Value"], "hunter2")
        out = self.aws_ok("get-parameter", "--name", name)
        self.assertNotEqual(out["Parameter"]["Value"], "hunter2")

    def test_by_path_auto_pagination(self):
        names = sorted(self.n("tree/%02d" % i) for i in range(25))
        for nm in names:
            self.ssm.put_parameter(Name=nm, Value="v-" + nm[-2:], Type="String")
        self.ssm.put_parameter(Name=self.n("tree/sub/deep"), Value="deep", Type="String")
        # the CLI follows NextToken itself (page size 10 at most for this operation)
        out = self.aws_ok("get-parameters-by-path", "--path", self.n("tree"))
        got = [p["Name"] for p in out["Parameters"]]
        self.assertEqual(sorted(got), names)
        self.assertEqual(len(got), len(set(got)))
        out = self.aws_ok("get-parameters-by-path", "--path", self.n("tree"), "--recursive", "--page-size", "3")
        self.assertEqual(sorted(p["Name"] for p in out["Parameters"]), sorted(names + [self.n("tree/sub/deep")]))
        out = self.aws_ok("get-parameters-by-path", "--path", self.n("tree"), "--max-items", "7")
        self.assertEqual(len(out["Parameters"]), 7)
        self.assertIn("NextToken", out)

    def test_labels_and_history(self):
        name = self.n("lab")
        for i in range(1, 4):
            args = ["put-parameter", "--name", name, "--value", "v%d" % i]
            args += ["--overwrite"] if i > 1 else ["--type", "String"]
            self.aws_ok(*args)
        out = self.aws_ok("label-parameter-version", "--name", name, "--parameter-version", "2",
                          "--labels", "stable", "9bad")
        self.assertEqual(out["ParameterVersion"], 2)
        self.assertEqual(out["InvalidLabels"], ["9bad"])
        out = self.aws_ok("get-parameter", "--name", name + ":stable")
        self.assertEqual((out["Parameter"]["Version"], out["Parameter"]["Value"]), (2, "v2"))
        out = self.aws_ok("get-parameter-history", "--name", name)
        self.assertEqual([p["Version"] for p in out["Parameters"]], [1, 2, 3])
        self.assertEqual(out["Parameters"][1]["Labels"], ["stable"])
        out = self.aws_ok("get-parameter-history", "--name", name, "--page-size", "1")
        self.assertEqual([p["Version"] for p in out["Parameters"]], [1, 2, 3])
        out = self.aws_ok("unlabel-parameter-version", "--name", name, "--parameter-version", "2",
                          "--labels", "stable")
        self.assertEqual(out["RemovedLabels"], ["stable"])

    def test_describe_and_get_parameters(self):
        a, b = self.n("a"), self.n("b")
        self.aws_ok("put-parameter", "--name", a, "--value", "1", "--type", "String")
        self.aws_ok("put-parameter", "--name", b, "--value", "x,y", "--type", "StringList")
        out = self.aws_ok("get-parameters", "--names", a, b, self.n("c"))
        self.assertEqual(sorted(p["Name"] for p in out["Parameters"]), [a, b])
        self.assertEqual(out["InvalidParameters"], [self.n("c")])
        out = self.aws_ok("describe-parameters", "--parameter-filters",
                          "Key=Path,Option=OneLevel,Values=%s" % self.ns)
        self.assertEqual(sorted(p["Name"] for p in out["Parameters"]), [a, b])
        out = self.aws_ok("delete-parameters", "--names", a, b)
        self.assertEqual(sorted(out["DeletedParameters"]), [a, b])

    def test_credentials_file_from_leverd(self):
        # a second leverd without LEVER_ROOT_* writes DATA/credentials; the CLI uses it unchanged
        from lever_harness import Leverd
        srv = Leverd(with_root_env=False)
        try:
            srv.start()
            cred = os.path.join(srv.data_dir, "credentials")
            self.assertTrue(os.path.exists(cred))
            rc, out, err = srv.aws("put-parameter", "--name", "/cli/credfile", "--value", "ok", "--type", "String",
                                   creds=False, env_extra={"AWS_SHARED_CREDENTIALS_FILE": cred})
            self.assertEqual(rc, 0, err)
            rc, out, err = srv.aws("get-parameter", "--name", "/cli/credfile", creds=False,
                                   env_extra={"AWS_SHARED_CREDENTIALS_FILE": cred})
            self.assertEqual(rc, 0, err)
            self.assertEqual(out["Parameter"]["Value"], "ok")
            # and without any credentials the CLI cannot sign
            rc, out, err = srv.aws("get-parameter", "--name", "/cli/credfile", creds=False)
            self.assertNotEqual(rc, 0)
        except Exception:
            srv.report_new_log()
            raise
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
