"""Access keys with IAM-shaped policies, through boto3 with one key per service:
allow, default deny, explicit deny, wildcards, NotAction, condition keys, recursive
listings with a denied sub-path, root-only administration, disabled and deleted keys,
and the audit lines those calls leave."""

import json
import os
import sqlite3
import subprocess
import time

import botocore.exceptions

from lever_harness import ACCOUNT, REGION, LeverTestCase, admin_call, arn_for, create_key, error_code, error_type

P = "arn:aws:ssm:%s:%s:parameter" % (REGION, ACCOUNT)


def allow(actions, resources, **extra):
    st = {"Effect": "Allow", "Action": actions, "Resource": resources}
    st.update(extra)
    return st


def deny(actions, resources, **extra):
    st = {"Effect": "Deny", "Action": actions, "Resource": resources}
    st.update(extra)
    return st


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


class PolicyTest(LeverTestCase):
    def key_client(self, *statements):
        akid, secret = create_key(self.server, {"p": doc(*statements)})
        return akid, self.server.client(access_key=akid, secret_key=secret)

    def audit_lines(self):
        path = os.path.join(self.server.data_dir, "audit.log")
        with open(path) as f:
            return [json.loads(ln) for ln in f if ln.strip()]

    def test_seed_pattern_orders_key(self):
        """The seeds' pattern: ssm:GetParameter on parameter/ecommerce/dev/orders/* and nothing else."""
        base = self.n("ecommerce/dev")
        self.put(base + "/orders/db_url", "postgres://orders")
        self.put(base + "/payments/api_key", "pay-secret", type_="SecureString")
        akid, c = self.key_client(allow("ssm:GetParameter", P + base + "/orders/*"))
        self.assertEqual(c.get_parameter(Name=base + "/orders/db_url")["Parameter"]["Value"], "postgres://orders")
        e = self.assertAwsError("AccessDeniedException", c.get_parameter, Name=base + "/payments/api_key",
                                WithDecryption=True)
        self.assertEqual(
            e.response["Error"]["Message"],
            "User: arn:aws:iam::%s:user/%s is not authorized to perform: ssm:GetParameter on resource: %s "
            "because no identity-based policy allows the ssm:GetParameter action"
            % (ACCOUNT, akid, arn_for(base + "/payments/api_key")))
        # other actions on the allowed path are denied too
        self.assertAwsError("AccessDeniedException", c.get_parameters_by_path, Path=base + "/orders")
        self.assertAwsError("AccessDeniedException", c.put_parameter, Name=base + "/orders/db_url", Value="x",
                            Overwrite=True)
        self.assertAwsError("AccessDeniedException", c.get_parameter_history, Name=base + "/orders/db_url")
        self.assertAwsError("AccessDeniedException", c.describe_parameters)
        # a selector does not change the resource
        self.assertEqual(c.get_parameter(Name=base + "/orders/db_url:1")["Parameter"]["Value"], "postgres://orders")
        # nothing was changed by the refused write
        self.assertEqual(self.ssm.get_parameter(Name=base + "/orders/db_url")["Parameter"]["Version"], 1)

    def test_decrypt_needs_kms_decrypt(self):
        """WithDecryption on a SecureString needs kms:Decrypt on its key, as in AWS; the rest does not."""
        base = self.n("kms")
        self.put(base + "/secret", "s3cr3t", type_="SecureString")
        self.put(base + "/plain", "open")
        reads = allow(["ssm:GetParameter", "ssm:GetParametersByPath"], "*")
        akid, c = self.key_client(reads)
        e = self.assertAwsError("AccessDeniedException", c.get_parameter, Name=base + "/secret", WithDecryption=True)
        kms_arn = "arn:aws:kms:%s:%s:alias/aws/ssm" % (REGION, ACCOUNT)
        self.assertEqual(
            e.response["Error"]["Message"],
            "User: arn:aws:iam::%s:user/%s is not authorized to perform: kms:Decrypt on resource: %s "
            "because no identity-based policy allows the kms:Decrypt action" % (ACCOUNT, akid, kms_arn))
        self.assertAwsError("AccessDeniedException", c.get_parameters_by_path, Path=base, WithDecryption=True)
        enc = c.get_parameter(Name=base + "/secret")["Parameter"]["Value"]
        self.assertNotEqual(enc, "s3cr3t")
        self.assertEqual(c.get_parameter(Name=base + "/plain", WithDecryption=True)["Parameter"]["Value"], "open")
        _, ok = self.key_client(reads, allow("kms:Decrypt", kms_arn))
        self.assertEqual(ok.get_parameter(Name=base + "/secret", WithDecryption=True)["Parameter"]["Value"], "s3cr3t")
        _, no = self.key_client(reads, allow("kms:Decrypt", "*"), deny("kms:Decrypt", "*"))
        self.assertAwsError("AccessDeniedException", no.get_parameter, Name=base + "/secret", WithDecryption=True)
        lines = [ln for ln in self.audit_lines() if ln["key_id"] == akid]
        self.assertTrue(any(ln["operation"] == "GetParameter" and ln["outcome"] == "denied" for ln in lines))

    def test_get_parameters_one_denied_name_denies_all(self):
        a, b = self.n("ok/a"), self.n("no/b")
        self.put(a, "1")
        self.put(b, "2")
        _k, c = self.key_client(allow("ssm:GetParameters", P + self.n("ok/*")))
        r = c.get_parameters(Names=[a])
        self.assertEqual([p["Value"] for p in r["Parameters"]], ["1"])
        self.assertAwsError("AccessDeniedException", c.get_parameters, Names=[a, b])

    def test_delete_parameters_checks_each_name(self):
        a, b = self.n("ok/a"), self.n("keep/b")
        self.put(a)
        self.put(b)
        _k, c = self.key_client(allow("ssm:DeleteParameters", P + self.n("ok/*")))
        self.assertAwsError("AccessDeniedException", c.delete_parameters, Names=[a, b])
        # the whole call was refused: a is still there
        self.ssm.get_parameter(Name=a)
        self.ssm.get_parameter(Name=b)
        r = c.delete_parameters(Names=[a])
        self.assertEqual(r["DeletedParameters"], [a])

    def test_explicit_deny_wins(self):
        base = self.n("app")
        self.put(base + "/plain", "p")
        self.put(base + "/secret/token", "t")
        akid, c = self.key_client(allow("ssm:*", P + base + "/*"), deny("ssm:GetParameter", P + base + "/secret/*"))
        self.assertEqual(c.get_parameter(Name=base + "/plain")["Parameter"]["Value"], "p")
        e = self.assertAwsError("AccessDeniedException", c.get_parameter, Name=base + "/secret/token")
        self.assertIn("with an explicit deny in an identity-based policy", e.response["Error"]["Message"])
        # writes by a key record its user ARN
        c.put_parameter(Name=base + "/plain", Value="p2", Overwrite=True)
        hist = self.ssm.get_parameter_history(Name=base + "/plain")["Parameters"]
        self.assertEqual(hist[-1]["LastModifiedUser"], "arn:aws:iam::%s:user/%s" % (ACCOUNT, akid))

    def test_default_deny_without_policy(self):
        self.put(self.n("x"))
        akid, secret = create_key(self.server)
        c = self.server.client(access_key=akid, secret_key=secret)
        self.assertAwsError("AccessDeniedException", c.get_parameter, Name=self.n("x"))

    def test_wildcards_and_not_action(self):
        base = self.n("w")
        self.put(base + "/a1", "1")
        self.put(base + "/b1", "2")
        # Get* wildcard action, '?' in the resource
        _k, c = self.key_client(allow("ssm:Get*", P + base + "/a?"))
        self.assertEqual(c.get_parameter(Name=base + "/a1")["Parameter"]["Value"], "1")
        self.assertEqual(len(c.get_parameter_history(Name=base + "/a1")["Parameters"]), 1)
        self.assertAwsError("AccessDeniedException", c.get_parameter, Name=base + "/b1")
        # action names compare case-insensitively, as in IAM
        _k, c2 = self.key_client(allow("SSM:getparameter", P + base + "/*"))
        c2.get_parameter(Name=base + "/b1")
        # NotAction: everything but deletes
        _k, c3 = self.key_client({"Effect": "Allow", "NotAction": "ssm:Delete*", "Resource": P + base + "/*"})
        c3.put_parameter(Name=base + "/c1", Value="3", Type="String")
        self.assertAwsError("AccessDeniedException", c3.delete_parameter, Name=base + "/c1")

    def test_condition_overwrite(self):
        name = self.n("cfg")
        _k, c = self.key_client(allow("ssm:PutParameter", P + self.n("*"),
                                      Condition={"Bool": {"ssm:Overwrite": "false"}}))
        c.put_parameter(Name=name, Value="1", Type="String")
        self.assertAwsError("AccessDeniedException", c.put_parameter, Name=name, Value="2", Overwrite=True)
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "1")

    def test_condition_recursive(self):
        base = self.n("tree")
        self.put(base + "/a", "1")
        self.put(base + "/sub/b", "2")
        _k, c = self.key_client(allow("ssm:GetParametersByPath", P + base,
                                      Condition={"Bool": {"ssm:Recursive": False}}))
        r = c.get_parameters_by_path(Path=base)
        self.assertEqual([p["Name"] for p in r["Parameters"]], [base + "/a"])
        self.assertAwsError("AccessDeniedException", c.get_parameters_by_path, Path=base, Recursive=True)

    def test_condition_policies(self):
        base = self.n("pol")
        _k, c = self.key_client(allow("ssm:PutParameter", P + base + "/*"),
                                deny("ssm:PutParameter", P + base + "/*",
                                     Condition={"StringLike": {"ssm:Policies": "*Expiration*"}}))
        c.put_parameter(Name=base + "/plain", Value="1", Type="String")
        exp = json.dumps([{"Type": "Expiration", "Version": "1.0",
                           "Attributes": {"Timestamp": "2099-01-01T00:00:00.000Z"}}])
        self.assertAwsError("AccessDeniedException", c.put_parameter, Name=base + "/exp", Value="1", Type="String",
                            Tier="Advanced", Policies=exp)

    def test_recursive_listing_leaves_out_denied_subpath(self):
        base = self.n("svc")
        for n in ("a", "b/c", "secret/key", "secret/deeper/k2"):
            self.put(base + "/" + n, "v-" + n)
        akid, secret = create_key(self.server, {"p": doc(
            allow(["ssm:GetParametersByPath", "ssm:DescribeParameters", "ssm:GetParameter"],
                  [P + base, P + base + "/*", "arn:aws:ssm:%s:%s:*" % (REGION, ACCOUNT)]),
            deny(["ssm:GetParametersByPath", "ssm:DescribeParameters", "ssm:GetParameter"], P + base + "/secret/*"))})
        c = self.server.client(access_key=akid, secret_key=secret)
        items, _pages = self.paginate_all(c.get_parameters_by_path, "Parameters", Path=base, Recursive=True,
                                          MaxResults=1)
        self.assertEqual(sorted(p["Name"] for p in items), [base + "/a", base + "/b/c"])
        desc, _ = self.paginate_all(c.describe_parameters, "Parameters",
                                    ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [base]}])
        self.assertEqual(sorted(p["Name"] for p in desc), [base + "/a", base + "/b/c"])
        # the root key still sees everything
        items, _ = self.paginate_all(self.ssm.get_parameters_by_path, "Parameters", Path=base, Recursive=True)
        self.assertEqual(len(items), 4)
        # listing the denied sub-path itself is refused outright
        self.assertAwsError("AccessDeniedException", c.get_parameters_by_path, Path=base + "/secret/deeper")
        # watch results are filtered the same way
        rev = int(self.server.call_raw("AmazonSSM.GetParameter", {"Name": base + "/a"})[1]["x-lever-revision"])
        self.put(base + "/secret/key", "v2", Overwrite=True)
        self.put(base + "/a", "a2", Overwrite=True)
        st, _h, w, raw = self.server.call_raw("Lever.WatchParameters",
                                              {"Path": base, "SinceRevision": rev, "WaitSeconds": 0},
                                              access_key=akid, secret_key=secret)
        self.assertEqual(st, 200, raw)
        self.assertEqual([ch["Name"] for ch in w["Changes"]], [base + "/a"])

    def test_only_root_administers(self):
        akid, secret = create_key(self.server, {"all": doc(allow("*", "*"))})
        st, parsed = admin_call(self.server, "CreateAccessKey", {}, access_key=akid, secret_key=secret)
        self.assertEqual(st, 400)
        self.assertEqual(error_type(parsed), "AccessDeniedException")
        self.assertIn("lever:CreateAccessKey", parsed["message"])
        st, parsed = admin_call(self.server, "ListAccessKeys", {}, access_key=akid, secret_key=secret)
        self.assertEqual(error_type(parsed), "AccessDeniedException")

    def test_disable_delete_and_restart(self):
        self.put(self.n("k"), "v")
        akid, secret = create_key(self.server, {"r": doc(allow("ssm:GetParameter", "*"))})
        c = self.server.client(access_key=akid, secret_key=secret)
        c.get_parameter(Name=self.n("k"))
        st, _ = admin_call(self.server, "UpdateAccessKey", {"AccessKeyId": akid, "Status": "Inactive"})
        self.assertEqual(st, 200)
        self.assertAwsError("UnrecognizedClientException", c.get_parameter, Name=self.n("k"))
        admin_call(self.server, "UpdateAccessKey", {"AccessKeyId": akid, "Status": "Active"})
        c.get_parameter(Name=self.n("k"))
        # keys, status and policies survive a hard restart; the secret is not stored in clear
        self.server.restart(hard=True)
        c = self.server.client(access_key=akid, secret_key=secret)
        c.get_parameter(Name=self.n("k"))
        db = sqlite3.connect(os.path.join(self.server.data_dir, "lever.db"))
        blob = b"".join(bytes(v) for (v,) in db.execute("SELECT v FROM kv"))
        db.close()
        self.assertNotIn(secret.encode(), blob)
        st, parsed = admin_call(self.server, "GetAccessKey", {"AccessKeyId": akid})
        self.assertEqual(parsed["AccessKey"]["Policies"][0]["PolicyName"], "r")
        self.assertNotIn("SecretAccessKey", parsed["AccessKey"])
        st, _ = admin_call(self.server, "DeleteAccessKey", {"AccessKeyId": akid})
        self.assertEqual(st, 200)
        self.assertAwsError("UnrecognizedClientException", c.get_parameter, Name=self.n("k"))
        st, parsed = admin_call(self.server, "DeleteAccessKey", {"AccessKeyId": akid})
        self.assertEqual(error_type(parsed), "NoSuchEntityException")

    def test_malformed_policies_refused(self):
        akid, _secret = create_key(self.server)
        bad = [
            "not json",
            json.dumps({"Statement": []}),
            json.dumps(doc({"Effect": "Permit", "Action": "ssm:*", "Resource": "*"})),
            json.dumps(doc({"Effect": "Allow", "Resource": "*"})),
            json.dumps(doc({"Effect": "Allow", "Action": "ssm:*", "Resource": "*", "Principal": "*"})),
            json.dumps(doc(allow("ssm:*", "*", Condition={"NumericLessThan": {"ssm:Recursive": "1"}}))),
            json.dumps(doc(allow("ssm:*", "parameter/x"))),
        ]
        for d in bad:
            st, parsed = admin_call(self.server, "PutKeyPolicy",
                                    {"AccessKeyId": akid, "PolicyName": "bad", "PolicyDocument": d})
            self.assertEqual((st, error_type(parsed)), (400, "MalformedPolicyDocumentException"), d)

    def test_audit_lines(self):
        name = self.n("audited")
        akid, secret = create_key(self.server, {"p": doc(allow("ssm:PutParameter", P + name))})
        c = self.server.client(access_key=akid, secret_key=secret)
        c.put_parameter(Name=name, Value="top-secret-value", Type="SecureString")       # allowed, mutating
        self.assertAwsError("ParameterAlreadyExists", c.put_parameter, Name=name, Value="x",
                            Type="String")                                               # failed
        self.assertAwsError("AccessDeniedException", c.get_parameter, Name=name)          # denied read
        self.ssm.get_parameter(Name=name)                                                  # ok read: not audited
        bad = self.server.client(access_key=akid, secret_key="wrong" * 8)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            bad.get_parameter(Name=name)
        self.assertEqual(error_code(cm.exception), "InvalidSignatureException")
        time.sleep(0.05)
        lines = [ln for ln in self.audit_lines() if name in ln.get("names", []) or ln.get("key_id") == akid]
        by = [(ln["operation"], ln["outcome"], ln.get("error")) for ln in lines]
        self.assertIn(("PutParameter", "ok", None), by)
        self.assertIn(("PutParameter", "error", "ParameterAlreadyExists"), by)
        self.assertIn(("GetParameter", "denied", "AccessDeniedException"), by)
        self.assertIn(("GetParameter", "denied", "InvalidSignatureException"), by)
        self.assertNotIn(("GetParameter", "ok", None), by)
        for ln in lines:
            for field in ("time", "request_id", "key_id", "source", "operation", "names", "outcome"):
                self.assertIn(field, ln)
            self.assertEqual(ln["source"], "127.0.0.1")
        with open(os.path.join(self.server.data_dir, "audit.log")) as f:
            raw = f.read()
        self.assertNotIn("top-secret-value", raw)
        self.assertNotIn(secret, raw)
        # the CLI filters it
        cli = os.path.join(os.environ.get("LEVER_BUILD_DIR") or "build", "lever")
        p = subprocess.run([cli, "audit", "--file", os.path.join(self.server.data_dir, "audit.log"), "--key", akid,
                            "--outcome", "denied", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = [json.loads(ln) for ln in p.stdout.decode().splitlines()]
        self.assertTrue(got)
        self.assertTrue(all(g["key_id"] == akid and g["outcome"] == "denied" for g in got))


class KeySecretsAtRestTest(LeverTestCase):
    def test_key_secret_never_on_disk_in_plaintext(self):
        akid, secret = create_key(self.server, {"r": doc(allow("ssm:GetParameter", "*"))})
        self.server.restart()  # everything flushed to the store
        found = []
        for root, _dirs, files in os.walk(self.server.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    if secret.encode() in fh.read():
                        found.append(f)
        self.assertEqual(found, [], "an access key's secret is stored in plaintext")
        self.assertNotIn(secret, self.server.log_text())
        # and the key still works after the restart, so it was stored (sealed)
        self.put(self.n("k"), "v")
        c = self.server.client(access_key=akid, secret_key=secret)
        self.assertEqual(c.get_parameter(Name=self.n("k"))["Parameter"]["Value"], "v")
