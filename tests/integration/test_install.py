"""`make install PREFIX=...`: the install step (cmake --install, what the
Makefile target runs after building) puts leverd, lever, lever-agent, their
man pages, liblever, its header and lever.pc under a temporary prefix, and
the installed tree works: the programs run, and a program built with
`pkg-config lever` against the installed library links and runs."""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

from lever_harness import REPO, build_dir


def sanitized_build():
    try:
        with open(os.path.join(build_dir(), "CMakeCache.txt")) as f:
            return re.search(r"^LEVER_SANITIZE:BOOL=ON$", f.read(), re.M) is not None
    except OSError:
        return False


PROBE = r"""
#include <stdio.h>
#include <string.h>
#include <lever/lever.h>
int main(void)
{
    lever_options *o = lever_options_new();
    if (o == NULL)
        return 1;
    lever_status s = lever_options_set_region(o, "eu-west-1");
    printf("%s\n", lever_status_str(s));
    lever_options_free(o);
    return 0;
}
"""


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lever-install-")
        self.prefix = os.path.join(self.tmp, "prefix")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_make_install_target(self):
        # The Makefile's target builds, then runs exactly this install step.
        p = subprocess.run(["make", "-n", "-C", REPO, "install", "PREFIX=" + self.prefix, "BUILD=" + build_dir()],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn('cmake --install %s --prefix "%s"' % (build_dir(), self.prefix), p.stdout.decode())

    def test_install_into_prefix(self):
        p = subprocess.run(["cmake", "--install", build_dir(), "--prefix", self.prefix],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout)
        pre = self.prefix
        for prog in ("leverd", "lever", "lever-agent"):
            path = os.path.join(pre, "bin", prog)
            self.assertTrue(os.access(path, os.X_OK), path)
            out = subprocess.run([path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
            self.assertEqual(out.returncode, 0, out.stdout)
            self.assertIn(b"0.1.0", out.stdout)
        for page in ("man8/leverd.8", "man1/lever.1", "man8/lever-agent.8"):
            path = os.path.join(pre, "share", "man", page)
            with open(path, "rb") as f, open(os.path.join(REPO, "docs", "man", os.path.basename(page)), "rb") as g:
                self.assertEqual(f.read(), g.read(), page)
        libdirs = [d for d in ("lib", "lib64") if os.path.isdir(os.path.join(pre, d))]
        self.assertTrue(libdirs)
        lib = os.path.join(pre, libdirs[0])
        for name in ("liblever.a", "liblever.so", "liblever.so.0"):
            self.assertTrue(os.path.exists(os.path.join(lib, name)), name)
        with open(os.path.join(pre, "include", "lever", "lever.h"), "rb") as f, \
                open(os.path.join(REPO, "include", "lever", "lever.h"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        # Only the public header is installed.
        self.assertEqual(os.listdir(os.path.join(pre, "include")), ["lever"])
        self.assertEqual(os.listdir(os.path.join(pre, "include", "lever")), ["lever.h"])

        # A client built from the installed tree alone, through lever.pc.
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(lib, "pkgconfig"))
        pc = subprocess.run(["pkg-config", "--cflags", "--libs", "lever"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, timeout=30)
        self.assertEqual(pc.returncode, 0, pc.stdout)
        self.assertNotIn(os.path.join(REPO, "include").encode(), pc.stdout, "the installed lever.pc points inside")
        src = os.path.join(self.tmp, "probe.c")
        with open(src, "w") as f:
            f.write(PROBE)
        exe = os.path.join(self.tmp, "probe")
        flags = subprocess.run(["pkg-config", "--cflags", "lever"], stdout=subprocess.PIPE, env=env,
                               check=True).stdout.decode().strip()
        libs = subprocess.run(["pkg-config", "--libs", "lever"], stdout=subprocess.PIPE, env=env,
                              check=True).stdout.decode().strip()
        cmd = ["cc", "-std=c17", "-Wall", "-Werror", src, "-o", exe]
        cmd[1:1] = shlex.split(flags)
        cmd += shlex.split(libs)
        if sanitized_build():
            cmd += ["-fsanitize=address,undefined"]
        c = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(c.returncode, 0, c.stdout)
        r = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                           env=dict(os.environ, LD_LIBRARY_PATH=lib))
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.stdout.strip(), b"ok")
        ldd = subprocess.run(["ldd", exe], stdout=subprocess.PIPE, env=dict(os.environ, LD_LIBRARY_PATH=lib),
                             timeout=30).stdout.decode()
        self.assertIn(os.path.join(lib, "liblever.so.0"), ldd)


if __name__ == "__main__":
    unittest.main()
