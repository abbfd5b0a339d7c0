"""The `lever` command against a real leverd: every subcommand, JSON output,
exit codes, --help, render placeholders and metadata.yaml, import dry-run."""

import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from lever_harness import ACCESS_KEY, SECRET_KEY, LeverTestCase, build_dir, error_type

LEVER = os.path.join(build_dir(), "lever")
COMMANDS = ["get", "put", "ls", "history", "label", "unlabel", "rm", "watch", "diff", "export", "import",
            "render"]


@unittest.skipUnless(os.path.exists(LEVER), "lever CLI not built")
class CliTest(LeverTestCase):
    def env(self, creds=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEVER_"))}
        env["HOME"] = self.server.tmp
        if creds:
            env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        env["LEVER_ENDPOINT"] = self.server.endpoint
        return env

    def lever(self, *args, stdin=None, env=None, cwd=None, timeout=60):
        p = subprocess.run([LEVER] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env or self.env(), cwd=cwd, timeout=timeout, text=True)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, **kw):
        rc, out, err = self.lever(*args, **kw)
        self.assertEqual(rc, 0, "lever %s failed: %s" % (" ".join(args), err))
        return out

    def js(self, *args, **kw):
        return json.loads(self.ok(*(list(args) + ["-o", "json"]), **kw))

    def tmpfile(self, name, text):
        d = tempfile.mkdtemp(dir=self.server.tmp)
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- help and usage ---------------------------------------------------
    def test_help_for_every_command(self):
        out = self.ok("--help")
        for c in COMMANDS:
            self.assertIn(c, out)
            o = self.ok(c, "--help")
            self.assertTrue(o.startswith("usage: lever " + c), o)
            self.assertIn("--endpoint", o)
        self.assertIn("5 server unreachable", out)
        rc, _o, err = self.lever("frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn("unknown command", err)
        rc, _o, err = self.lever("get")
        self.assertEqual(rc, 2)
        self.assertIn("usage: lever get", err)
        rc, _o, _e = self.lever("put", "/x", "v", "--type", "Integer")
        self.assertEqual(rc, 2)
        rc, _o, _e = self.lever("unlabel", "/x", "l")  # --version is required
        self.assertEqual(rc, 2)

    # -- exit codes --------------------------------------------------------
    def test_exit_codes(self):
        rc, _o, err = self.lever("get", self.n("missing"))
        self.assertEqual(rc, 3)
        self.assertIn("ParameterNotFound", err)
        env = self.env()
        env["AWS_SECRET_ACCESS_KEY"] = "wrong"
        rc, _o, err = self.lever("get", self.n("x"), env=env)
        self.assertEqual(rc, 4)
        rc, _o, _e = self.lever("--endpoint", "http://127.0.0.1:1", "get", "/x")
        self.assertEqual(rc, 5)
        rc, _o, err = self.lever("get", "/x", env=self.env(creds=False), cwd=self.server.tmp)
        self.assertEqual(rc, 4, err)
        self.assertIn("credentials", err)
        self.ok("put", self.n("dup"), "1")
        rc, _o, err = self.lever("put", self.n("dup"), "2")
        self.assertEqual(rc, 1)
        self.assertIn("--overwrite", err)

    # -- get / put ---------------------------------------------------------
    def test_put_and_get(self):
        name = self.n("a")
        self.assertEqual(self.ok("put", name, "hello world", "--description", "greeting"),
                         "%s version 1\n" % name)
        self.assertEqual(self.ok("get", name), "hello world\n")
        self.assertEqual(self.js("put", name, "v2", "--overwrite"), {"Name": name, "Version": 2})
        self.assertEqual(self.ok("get", name + ":1"), "hello world\n")
        rec = self.js("get", name)
        self.assertEqual((rec["Name"], rec["Type"], rec["Value"], rec["Version"]), (name, "String", "v2", 2))
        # stdin: one trailing newline dropped
        self.ok("put", self.n("stdin"), "-", stdin="from stdin\n")
        self.assertEqual(self.ssm.get_parameter(Name=self.n("stdin"))["Parameter"]["Value"], "from stdin")
        # --file: exact content
        f = self.tmpfile("v.txt", "line1\nline2\n")
        self.ok("put", self.n("file"), "--file", f, "--type", "StringList", "--tier", "Advanced")
        p = self.ssm.get_parameter(Name=self.n("file"))["Parameter"]
        self.assertEqual((p["Value"], p["Type"]), ("line1\nline2\n", "StringList"))
        # SecureString is encrypted at rest and `get` decrypts it
        self.ok("put", self.n("pw"), "s3cr3t", "--type", "SecureString")
        self.assertNotEqual(self.ssm.get_parameter(Name=self.n("pw"))["Parameter"]["Value"], "s3cr3t")
        self.assertEqual(self.ok("get", self.n("pw")), "s3cr3t\n")
        # allowed pattern is enforced by the server
        self.ok("put", self.n("port"), "8080", "--allowed-pattern", "^[0-9]+$")
        rc, _o, err = self.lever("put", self.n("port"), "http", "--overwrite")
        self.assertEqual(rc, 1)
        self.assertIn("ParameterPatternMismatch", err)
        d = self.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"][0]
        self.assertEqual(d.get("Description"), "greeting")

    # -- ls -----------------------------------------------------------------
    def test_ls_tree(self):
        ns = self.n()
        for k in ("db/host", "db/port", "features/x", "top"):
            self.put(ns + "/" + k, "v")
        out = self.ok("ls", ns, "-r", "-o", "table")
        lines = out.splitlines()
        self.assertEqual(lines[0], ns)
        self.assertEqual([l.split()[0] for l in lines[1:]], ["db/", "host", "port", "features/", "x", "top"])
        self.assertTrue(lines[2].startswith("    host "), repr(lines[2]))  # under db/, one level deeper
        out = self.ok("ls", ns, "-o", "table")
        self.assertEqual([l.split()[0] for l in out.splitlines()[1:]], ["db/", "features/", "top"])
        self.assertIn("(2)", out.splitlines()[1])
        self.assertEqual(self.ok("ls", ns, "-r").split(), [ns + "/db/host", ns + "/db/port", ns + "/features/x",
                                                            ns + "/top"])
        j = self.js("ls", ns)
        self.assertEqual(j[0], {"Folder": ns + "/db/", "Count": 2})
        self.assertEqual(j[-1]["Name"], ns + "/top")
        self.assertEqual(len(self.js("ls", ns, "-r")), 4)

    # -- history / label / unlabel / rm -------------------------------------------
    def test_history_labels_rm(self):
        name = self.n("h")
        self.ok("put", name, "one", "--type", "SecureString")
        self.ok("put", name, "two", "--overwrite")
        self.ok("label", name, "stable", "blue", "--version", "1")
        self.ok("label", name, "latest-ok")
        h = self.js("history", name)
        self.assertEqual([(x["Version"], sorted(x.get("Labels", []))) for x in h],
                         [(1, ["blue", "stable"]), (2, ["latest-ok"])])
        self.assertEqual({x["Value"] for x in h}, {"****"})  # masked without --decrypt
        self.assertEqual([x["Value"] for x in self.js("history", name, "--decrypt")], ["one", "two"])
        table = self.ok("history", name, "-o", "table")
        self.assertIn("blue,stable", table.replace("stable,blue", "blue,stable"))
        self.assertNotIn("one", table.split("VALUE", 1)[1])
        self.assertEqual(self.ok("get", name + ":stable"), "one\n")
        rc, _o, err = self.lever("label", name, "9nine")
        self.assertEqual(rc, 1)
        self.assertIn("9nine", err)
        self.ok("unlabel", name, "stable", "--version", "1")
        rc, _o, _e = self.lever("get", name + ":stable")
        self.assertEqual(rc, 3)
        self.ok("rm", name)
        rc, _o, _e = self.lever("get", name)
        self.assertEqual(rc, 3)
        rc, _o, _e = self.lever("rm", name)
        self.assertEqual(rc, 3)

    # -- watch --------------------------------------------------------------------
    def test_watch_streams_changes(self):
        st, _h, body, _ = self.server.call_raw("Lever.WatchParameters", {"Path": "/", "SinceRevision": 0,
                                                                         "WaitSeconds": 0})
        if st == 400 and error_type(body) == "UnknownOperationException":
            self.skipTest("leverd answers UnknownOperationException for Lever.WatchParameters")
        ns = self.n()
        self.put(ns + "/before", "x")  # before the watch's revision: not streamed
        _st, hdrs, _b, _r = self.server.call_raw("AmazonSSM.DescribeParameters", {"MaxResults": 1})
        since = hdrs["x-lever-revision"]
        p = subprocess.Popen([LEVER, "watch", ns, "-o", "json", "--values", "--since", since],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(), text=True)
        try:
            self.put(ns + "/a", "1")
            got = [json.loads(p.stdout.readline())]
            # --values reads the value when the change arrives: change it
            # further only once the first line is out.
            self.ssm.label_parameter_version(Name=ns + "/a", Labels=["l1"])
            self.ssm.delete_parameter(Name=ns + "/a")
            self.put(self.n() + "x/outside", "1")  # not under the path
            deadline = time.monotonic() + 30
            while len(got) < 3 and time.monotonic() < deadline:
                line = p.stdout.readline()
                if not line:
                    break
                got.append(json.loads(line))
            self.assertEqual([(c["Kind"], c["Name"]) for c in got],
                             [("Put", ns + "/a"), ("Label", ns + "/a"), ("Delete", ns + "/a")])
            self.assertEqual(got[0]["Value"], "1")
            revs = [c["Revision"] for c in got]
            self.assertEqual(revs, sorted(revs))
        finally:
            p.send_signal(signal.SIGINT)
            rc = p.wait(10)
            p.stdout.close()
            p.stderr.close()
        self.assertEqual(rc, 0)
        # -n COUNT ends by itself; table lines name kind and parameter
        # (--since the current revision: a put made before the watch is up
        # on a loaded machine is still its first change)
        _st, hdrs, _b, _r = self.server.call_raw("AmazonSSM.DescribeParameters", {"MaxResults": 1})
        p = subprocess.Popen([LEVER, "watch", ns, "-n", "1", "--since", hdrs["x-lever-revision"]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(), text=True)
        self.put(ns + "/b", "2")
        out, _err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertIn("Put", out)
        self.assertIn(ns + "/b v1", out)

    # -- diff -------------------------------------------------------------------------
    def test_diff(self):
        ns = self.n()
        for env, vals in (("dev", {"db/host": "db.dev", "same": "x", "only-dev": "1", "pw": "a"}),
                          ("prod", {"db/host": "db.prod", "same": "x", "only-prod": "2", "pw": "b"})):
            for k, v in vals.items():
                self.put("%s/%s/%s" % (ns, env, k), v, "SecureString" if k == "pw" else "String")
        out = self.ok("diff", ns + "/dev", ns + "/prod")
        lines = sorted(out.splitlines())
        self.assertEqual([l.split()[:2] for l in lines],
                         [["+", "only-prod"], ["-", "only-dev"], ["~", "db/host"], ["~", "pw"]])
        self.assertIn("db.dev -> db.prod", out)
        self.assertIn("**** -> ****", out)  # secrets masked
        self.assertNotIn(" a ", out + " ")
        j = self.js("diff", ns + "/dev", ns + "/prod", "--decrypt", "--all")
        d = {x["Key"]: x for x in j["Differences"]}
        self.assertEqual(d["pw"], {"Key": "pw", "State": "changed", "A": "a", "B": "b"})
        self.assertEqual(d["same"]["State"], "same")
        self.assertIn("no differences", self.ok("diff", ns + "/dev", ns + "/dev"))

    # -- export / import ----------------------------------------------------------------
    def test_export_import_roundtrip(self):
        ns = self.n()
        self.put(ns + "/src/db/host", "db.local")
        self.put(ns + "/src/list", "a,b", "StringList")
        self.put(ns + "/src/msg", 'say "hi"\n$HOME')
        self.put(ns + "/src/pw", "s3cr3t", "SecureString")
        rc, out, err = self.lever("export", ns + "/src")
        self.assertEqual(rc, 0)
        exp = json.loads(out)
        self.assertEqual([p["Key"] for p in exp["Parameters"]], ["db/host", "list", "msg"])
        self.assertIn("SecureString", err)
        full = json.loads(self.ok("export", ns + "/src", "--decrypt"))
        f = self.tmpfile("exp.json", json.dumps(full))
        plan = self.ok("import", ns + "/dst", f)
        self.assertIn("4 to create", plan)
        self.assertIn("dry run", plan)
        self.assertNotIn("s3cr3t", plan)
        rc, _o, _e = self.lever("get", ns + "/dst/db/host")
        self.assertEqual(rc, 3, "a dry run must not write")
        res = self.js("import", ns + "/dst", f, "--apply")
        self.assertTrue(res["Applied"])
        self.assertEqual(self.ok("get", ns + "/dst/msg"), 'say "hi"\n$HOME\n')
        self.assertEqual(self.ssm.get_parameter(Name=ns + "/dst/pw")["Parameter"]["Type"], "SecureString")
        self.assertEqual(self.ssm.get_parameter(Name=ns + "/dst/list")["Parameter"]["Type"], "StringList")
        self.assertIn("0 to create, 0 to update, 4 unchanged", self.ok("import", ns + "/dst", f))
        # dotenv both ways
        dot = self.ok("export", ns + "/src", "--format", "dotenv")
        self.assertIn("DB_HOST=db.local\n", dot)
        self.assertIn('MSG="say \\"hi\\"\\n\\$HOME"\n', dot)
        g = self.tmpfile("x.env", "# comment\nDB_HOST=db.other\nexport NEW='quoted value'\nMSG=\"a\\nb\"\n")
        plan = self.js("import", ns + "/env", g)
        self.assertEqual([(c["Name"], c["Action"]) for c in plan["Changes"]],
                         [(ns + "/env/DB_HOST", "create"), (ns + "/env/NEW", "create"), (ns + "/env/MSG", "create")])
        self.ok("import", ns + "/env", g, "--apply")
        self.assertEqual(self.ok("get", ns + "/env/NEW"), "quoted value\n")
        self.assertEqual(self.ok("get", ns + "/env/MSG"), "a\nb\n")
        bad = self.tmpfile("bad.env", "OK=1\nthis line is wrong\n")
        rc, _o, err = self.lever("import", ns + "/env", bad, "--apply")
        self.assertEqual(rc, 1)
        self.assertIn("bad.env:2", err)

    # -- render --------------------------------------------------------------------------
    def test_render_template(self):
        ns = self.n()
        self.put(ns + "/url", "http://orders")
        self.ssm.put_parameter(Name=ns + "/url", Value="http://orders-v2", Overwrite=True)
        self.put(ns + "/pw", "s3cr3t", "SecureString")
        t = self.tmpfile("app.conf.tpl", "url={{resolve:ssm:%s/url}}\nold={{resolve:ssm:%s/url:1}}\n"
                                          "pw={{resolve:ssm-secure:%s/pw}}\nkeep={{ other }}\n" % (ns, ns, ns))
        out = os.path.join(os.path.dirname(t), "app.conf")
        self.ok("render", t, "--out", out)
        with open(out) as f:
            self.assertEqual(f.read(), "url=http://orders-v2\nold=http://orders\npw=s3cr3t\nkeep={{ other }}\n")
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        self.assertEqual(self.ok("render", "-", stdin="x={{resolve:ssm:%s/url}}" % ns), "x=http://orders-v2")

    def test_render_errors_name_file_and_line_and_leave_no_output(self):
        ns = self.n()
        self.put(ns + "/pw", "s3cr3t", "SecureString")
        cases = [
            ("ok\n{{resolve:ssm:%s/missing}}\n" % ns, ":2:", 3),
            ("a\nb\nc={{resolve:ssm:/x\n", ":3: unterminated", 1),
            ("{{resolve:vault:/x}}", ":1: unknown placeholder", 1),
            ("x\n{{resolve:ssm:}}", ":2: placeholder without a parameter name", 1),
            ("{{resolve:ssm:%s/pw}}" % ns, "ssm-secure", 1),  # secrets only through ssm-secure
            ("{{resolve:ssm:/a b}}", "unexpected character", 1),
        ]
        for text, msg, code in cases:
            t = self.tmpfile("t.tpl", text)
            out = os.path.join(os.path.dirname(t), "out.conf")
            rc, stdout, err = self.lever("render", t, "--out", out)
            self.assertEqual(rc, code, (text, err))
            self.assertIn(t + msg.split(" ")[0] if msg.startswith(":") else msg, err)
            self.assertEqual(os.listdir(os.path.dirname(t)), ["t.tpl"], "partial output left behind")
            self.assertEqual(stdout, "")

    def test_render_metadata(self):
        ns = self.n()
        self.put(ns + "/prod/db/host", "db.prod")
        self.put(ns + "/prod/features/x", "on")
        self.put(ns + "/prod/pw", "s3cr3t", "SecureString")
        self.put(ns + "/dev/db/host", "db.dev")
        meta = self.tmpfile("metadata.yaml", (
            "# service metadata\nname: orders\nparameters:\n"
            "  DB_HOST: %s/{Environment}/db/host\n"
            "  FEATURE_X: \"%s/{Environment}/features/x\"   # quoted\n"
            "  DB_PASSWORD: '%s/{Environment}/pw'\n"
            "owners:\n  - team-a\n") % (ns, ns, ns))
        self.assertEqual(self.ok("render", "--metadata", meta, "--env", "prod"),
                         "DB_HOST=db.prod\nFEATURE_X=on\nDB_PASSWORD=s3cr3t\n")
        j = json.loads(self.ok("render", "--metadata", meta, "--env", "prod", "--format", "json"))
        self.assertEqual(list(j.items()), [("DB_HOST", "db.prod"), ("FEATURE_X", "on"), ("DB_PASSWORD", "s3cr3t")])
        out = os.path.join(os.path.dirname(meta), "dev.env")
        rc, _o, err = self.lever("render", "--metadata", meta, "--env", "dev", "--out", out)
        self.assertEqual(rc, 3)
        self.assertIn("metadata.yaml:5", err)
        self.assertIn(ns + "/dev/features/x", err)
        self.assertFalse(os.path.exists(out))
        bad = self.tmpfile("metadata.yaml", "parameters:\n  A:\n    nested: /x\n")
        rc, _o, err = self.lever("render", "--metadata", bad, "--env", "prod")
        self.assertEqual(rc, 1)
        self.assertIn("metadata.yaml:2", err)
        rc, _o, _e = self.lever("render", "--metadata", bad)
        self.assertEqual(rc, 2)  # --env is required

    def test_region_and_profile_flags(self):
        name = self.n("r")
        self.ok("put", name, "west", "--region", "eu-west-1")
        self.assertEqual(self.ok("get", name, "--region", "eu-west-1"), "west\n")
        rc, _o, _e = self.lever("get", name)
        self.assertEqual(rc, 3)  # us-east-1 has no such parameter
        creds = self.tmpfile("credentials", "[other]\naws_access_key_id=%s\naws_secret_access_key=%s\n"
                             % (ACCESS_KEY, SECRET_KEY))
        env = self.env(creds=False)
        env["AWS_SHARED_CREDENTIALS_FILE"] = creds
        self.assertEqual(self.ok("get", name, "--region", "eu-west-1", "--profile", "other", env=env), "west\n")


if __name__ == "__main__":
    unittest.main()
