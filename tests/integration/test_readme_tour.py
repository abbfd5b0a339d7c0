"""README.md's "Five-minute tour", run exactly as a newcomer pastes it.

The shell blocks of that section are taken from README.md itself, so the
test fails when the README and leverd drift apart. leverd is started the way
`make run` starts it: without LEVER_ROOT_* in its environment, so it creates
<data>/credentials itself; its data directory is ./lever-data under the
directory the blocks run in, so `$PWD/lever-data/credentials` in the README
resolves unchanged. The only rewrite is the port (127.0.0.1:7447 -> the
test's free port). Each run is `bash -e` with PATH=/usr/bin:/bin, an empty
HOME and no AWS_* variables beyond those the blocks export.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from lever_harness import REPO, Leverd

README = os.path.join(REPO, "README.md")
DEFAULT_ADDR = "127.0.0.1:7447"
CREDS_REF = "$PWD/lever-data/credentials"
MARK = "@@@ lever-tour: python block @@@"


def tour_blocks():
    """The ```sh blocks of the "Five-minute tour" section, in order."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Five-minute tour[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if m is None:
        raise AssertionError("README.md has no '## Five-minute tour' section")
    return re.findall(r"^```(?:sh|bash|shell)[ \t]*\n(.*?)^```[ \t]*$", m.group(1), re.M | re.S)


def json_docs(text):
    """The JSON documents printed one after another (as the AWS CLI does)."""
    dec, docs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)


class ReadmeTourTest(unittest.TestCase):

    def setUp(self):
        self.blocks = tour_blocks()
        self.work = tempfile.mkdtemp(prefix="lever-tour-")
        self.home = os.path.join(self.work, "home")
        os.mkdir(self.home)
        self.server = Leverd(data_dir=os.path.join(self.work, "lever-data"), with_root_env=False)
        try:
            self.server.start()
        except Exception:
            self.server.cleanup()
            shutil.rmtree(self.work, ignore_errors=True)
            raise

    def tearDown(self):
        self.server.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)

    def adapt(self, block):
        self.assertIn(DEFAULT_ADDR, block, "tour block no longer names %s:\n%s" % (DEFAULT_ADDR, block))
        return block.replace(DEFAULT_ADDR, "127.0.0.1:%d" % self.server.port)

    def run_shell(self, script):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.home}
        p = subprocess.run(["/bin/bash", "-e"], input=script.encode(), cwd=self.work, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, "the tour failed (exit %d)\n--- script ---\n%s\n--- stdout ---\n%s"
                         "\n--- stderr ---\n%s\n%s" % (p.returncode, script, out, err, self.server.log_tail(3000)))
        return out, err

    def test_readme_has_the_two_blocks(self):
        self.assertEqual(len(self.blocks), 2, "expected the aws CLI block and the python block")
        self.assertIn("aws ssm put-parameter", self.blocks[0])
        self.assertIn(CREDS_REF, self.blocks[0])
        self.assertIn("/usr/bin/python3", self.blocks[1])
        self.assertIn("boto3", self.blocks[1])

    def test_tour_as_pasted(self):
        """Both blocks, pasted one after the other into the same terminal."""
        creds = os.path.join(self.server.data_dir, "credentials")
        st = os.stat(creds)  # written by leverd itself, as under `make run`
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        cli, py = (self.adapt(b) for b in self.blocks[:2])
        out, err = self.run_shell(cli + "\necho '%s'\n" % MARK + py)
        self.assertIn(MARK, out)
        cli_out, py_out = out.split(MARK, 1)

        docs = json_docs(cli_out)
        self.assertEqual(len(docs), 10, "one JSON answer per aws command expected:\n" + cli_out)
        for d in docs[0:3]:
            self.assertEqual(d.get("Version"), 1, d)
            self.assertEqual(d.get("Tier"), "Standard", d)
        cipher = docs[3]["Parameter"]
        self.assertEqual(cipher["Name"], "/ecommerce/prod/orders/api/key")
        self.assertEqual(cipher["Type"], "SecureString")
        self.assertNotIn("s3cr3t", cipher["Value"])  # ciphertext
        plain = docs[4]["Parameter"]
        self.assertEqual(plain["Value"], "s3cr3t")
        names = sorted(p["Name"] for p in docs[5]["Parameters"])
        self.assertEqual(names, ["/ecommerce/prod/orders/api/key", "/ecommerce/prod/orders/api/url"])
        self.assertEqual(docs[6].get("Version"), 2, docs[6])
        self.assertEqual(docs[7].get("ParameterVersion"), 1, docs[7])
        self.assertEqual(docs[7].get("InvalidLabels", []), [])
        self.assertEqual(docs[8], "https://orders.internal")  # url:stable is version 1
        self.assertEqual(docs[9], [[1, "https://orders.internal", ["stable"]],
                                   [2, "https://orders-v2.internal", []]])

        lines = [l for l in py_out.splitlines() if l.strip()]
        self.assertEqual(lines[0], "s3cr3t", py_out)
        self.assertEqual(sorted(lines[1:4]), [
            "/ecommerce/prod/orders/api/key SecureString 1",
            "/ecommerce/prod/orders/api/url String 2",
            "/myapp/prod/features/USER_REGISTRATION_ENABLED String 1",
        ], py_out)
        self.assertEqual(lines[4:], ["ParameterNotFound, as from AWS"], py_out)
        self.assertNotIn("Traceback", err)


if __name__ == "__main__":
    unittest.main()
