"""scripts/check-deps.py, the check `make test` runs before it builds: it must
pass on the repository as it is, and fail, naming the Debian package and the
list of scripts/deps.sh it belongs in, when a package is dropped from deps.sh
or when a test starts using something deps.sh does not install."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHECK = os.path.join(REPO, "scripts", "check-deps.py")


def run_check(*args):
    p = subprocess.run(["/usr/bin/python3", CHECK] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
    return p.returncode, p.stdout, p.stderr


def drop(text, pkg):
    """deps.sh's text with the package pkg removed from every list."""
    out, n = re.subn(r"(?<![\w.+-])%s(?![\w.+-])" % re.escape(pkg), "", text)
    return out, n


class CheckDepsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lever-check-deps-")
        with open(os.path.join(REPO, "scripts", "deps.sh")) as f:
            self.deps_text = f.read()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_deps(self, text, root=None):
        path = os.path.join(root or self.tmp, "deps.sh")
        with open(path, "w") as f:
            f.write(text)
        return path

    def copy_tree(self):
        """The parts of the repository the check reads, in a scratch directory."""
        root = os.path.join(self.tmp, "repo")
        ignore = shutil.ignore_patterns("build*", ".git", "corpus", "results", "data", "__pycache__", "*.md")
        for top in ("src", "include", "tests", "bench", "scripts"):
            shutil.copytree(os.path.join(REPO, top), os.path.join(root, top), ignore=ignore)
        for f in ("CMakeLists.txt", "Makefile"):
            shutil.copy(os.path.join(REPO, f), os.path.join(root, f))
        return root

    def test_repository_passes(self):
        rc, out, err = run_check()
        self.assertEqual(rc, 0, err)
        self.assertIn("every package the build and tests use is installed by scripts/deps.sh", out)

    def test_dropped_packages_are_named(self):
        # each package and the deps.sh list the check must name for it
        dropped = {"libpcre2-dev": "build", "libtre-dev": "build", "libsqlite3-dev": "build",
                   "libcmocka-dev": "test", "python3-boto3": "test", "awscli": "test", "curl": "test",
                   "wrk": "bench", "etcd-server": "bench", "clang": "fuzz", "libclang-rt-14-dev": "fuzz"}
        text = self.deps_text
        for pkg in dropped:
            text, n = drop(text, pkg)
            self.assertGreater(n, 0, "%s is not in scripts/deps.sh any more; update this test" % pkg)
        rc, out, err = run_check("--deps", self.write_deps(text))
        self.assertEqual(rc, 1, out + err)
        for pkg, mode in dropped.items():
            self.assertRegex(err, r"check-deps: %s is missing from the %s list of " % (re.escape(pkg), mode))

    def test_single_drop_fails(self):
        # the case: libpcre2-dev alone missing from deps.sh
        text, n = drop(self.deps_text, "libpcre2-dev")
        self.assertEqual(n, 1)
        rc, out, err = run_check("--deps", self.write_deps(text))
        self.assertEqual(rc, 1)
        self.assertIn("check-deps: libpcre2-dev is missing from the build list", err)
        self.assertIn("pkg-config module libpcre2-8, used at CMakeLists.txt:", err)
        self.assertEqual(len([x for x in err.splitlines() if "is missing" in x]), 1, err)
        self.assertRegex(err, r"and \d+ more\)")  # pcre2.h, included by src/core/pattern_pcre2.c, ...

    def test_new_uses_by_later_tests_are_found(self):
        # What other work adds (PostgreSQL, a browser, node, a test-suite data
        # directory, a C library) is found in the scripts that use it, with no
        # list of names in the check itself.
        root = self.copy_tree()
        text = self.deps_text
        for pkg in ("postgresql", "postgresql-15", "chromium", "nodejs", "json-schema-test-suite", "libpq-dev"):
            text, _ = drop(text, pkg)
        deps = self.write_deps(text, root)
        with open(os.path.join(root, "tests", "integration", "test_zz_new.py"), "w") as f:
            f.write('import subprocess\nimport leverfakemodule\n'
                    'subprocess.run(["initdb", "-D", "/tmp/x"])\n'
                    'subprocess.run(["chromium", "--headless", "about:blank"])\n'
                    'SUITE = "/usr/share/json-schema-test-suite/tests/draft2020-12"\n')
        os.makedirs(os.path.join(root, "tests", "zz_console"))
        with open(os.path.join(root, "tests", "zz_console", "run.js"), "w") as f:
            f.write('const { spawnSync } = require("child_process");\nspawnSync("node", ["x.js"]);\n'
                    'import assert from "node:assert";\n')
        with open(os.path.join(root, "CMakeLists.txt"), "a") as f:
            f.write("\npkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)\n")
        # npm packages: a lock file and exact versions
        with open(os.path.join(root, "tests", "zz_console", "package.json"), "w") as f:
            json.dump({"devDependencies": {"left-pad": "^1.3.0", "exact-one": "1.2.3"}}, f)
        rc, out, err = run_check("--root", root, "--deps", deps)
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(err, r"check-deps: postgresql\S* is missing from the test list .*program initdb, "
                              r"used at tests/integration/test_zz_new.py:3")
        self.assertRegex(err, r"check-deps: chromium is missing from the test list .*program chromium")
        self.assertRegex(err, r"check-deps: json-schema-test-suite is missing from the test list "
                              r".*/usr/share/json-schema-test-suite")
        self.assertRegex(err, r"check-deps: nodejs is missing from the test list .*program node, "
                              r"used at tests/zz_console/run.js:2")
        self.assertRegex(err, r"check-deps: libpq-dev is missing from the build list .*pkg-config module libpq")
        self.assertRegex(err, r"no Debian package known for Python module leverfakemodule "
                              r"\(used at tests/integration/test_zz_new.py:2\)")
        self.assertIn("check-deps: tests/zz_console/package.json has no package-lock.json beside it", err)
        self.assertIn("check-deps: tests/zz_console/package.json pins devDependencies left-pad as '^1.3.0', "
                      "not an exact version", err)
        self.assertNotIn("exact-one", err)
        # JavaScript imports are npm's business, not Python modules
        self.assertNotIn("Python module assert", err)

    def test_list_modes(self):
        # deps.sh --list prints what each mode installs; each mode adds to build
        lists = {}
        for mode in ("build", "test", "bench", "fuzz"):
            p = subprocess.run(["sh", os.path.join(REPO, "scripts", "deps.sh"), "--list", mode],
                               stdout=subprocess.PIPE, universal_newlines=True)
            self.assertEqual(p.returncode, 0)
            lists[mode] = set(p.stdout.split())
        self.assertIn("libpcre2-dev", lists["build"])
        self.assertIn("python3-boto3", lists["test"])
        self.assertIn("libclang-rt-14-dev", lists["fuzz"])
        for mode in ("test", "bench", "fuzz"):
            self.assertLessEqual(lists["build"], lists[mode])
        self.assertLessEqual(lists["test"], lists["bench"])


if __name__ == "__main__":
    unittest.main()
