#!/usr/bin/python3
"""check-deps.py - fails, naming the Debian package, when something the build
or the tests use is not installed by scripts/deps.sh.

`make test` runs it before it builds. It reads what the repository uses:
  - pkg-config modules, find_package() names and headers the CMake files ask
    for, and the <headers> the C sources include (needed by `make`);
  - programs the tests, bench, fuzz and soak scripts run, Python modules they
    import and system files they read (tests/, bench/, scripts/, Makefile);
  - package.json files: npm packages need a lock file and exact versions;
maps each one to the Debian package that provides it (dpkg's file lists, as
`dpkg -S` does; scripts/deps-map.txt when the thing is not installed here,
so a machine without it still gets a name) and requires that package, or a
package it comes with, in the list of scripts/deps.sh that the make target
using it installs (`sh scripts/deps.sh --list MODE`). It compares against
deps.sh's lists, not against what happens to be installed, so a missing
entry fails on every machine. Usage:
  check-deps.py [--root DIR] [--deps FILE] [--map FILE] [-v]
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

MODES = ("build", "test", "bench", "fuzz")
SYSTEM_BIN = ("/usr/bin", "/usr/sbin", "/bin", "/sbin")
SKIP_DIRS = {".git", "node_modules", "__pycache__", "corpus", "results", "data"}
SCRIPT_EXT = (".py", ".sh", ".bash", ".js", ".mjs", ".cjs", ".ts")
SHELL_WORDS = set("""if then else elif fi case esac for while until do done in function return
local export set unset shift exit break continue echo printf read eval trap wait cd test true false
exec command builtin readonly declare typeset let source alias type ulimit umask getopts""".split())
PY_WORDS = set("""import from def class return if elif else for while try except finally with as
pass raise yield lambda global nonlocal assert del not and or is in None True False print""".split())


class Need:
    def __init__(self, kind, name, where, mode):
        self.kind, self.name, self.where, self.mode = kind, name, where, mode
        self.pkgs = None   # acceptable packages (any one will do), or None
        self.note = ""


def sh_list(deps, mode):
    p = subprocess.run(["sh", deps, "--list", mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        sys.exit("check-deps: sh %s --list %s failed: %s" % (deps, mode, p.stderr.strip()))
    return set(p.stdout.split())


def read_map(path):
    m = {"pc": {}, "cmake": {}, "header": {}, "prog": {}, "py": {}, "path": {}, "ignore": {}}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip() if not line.startswith("ignore") else line.strip()
            if not line:
                continue
            parts = line.split(None, 2)
            if parts[0] not in m or len(parts) < 3 and parts[0] != "ignore":
                sys.exit("check-deps: %s:%d: cannot read %r" % (path, n, line))
            m[parts[0]][parts[1]] = parts[2] if len(parts) > 2 else ""
    return m


class Dpkg:
    """dpkg's view of this machine: who owns which file, and package relations."""

    def __init__(self):
        self.owners = {}
        for lst in glob.glob("/var/lib/dpkg/info/*.list"):
            pkg = os.path.basename(lst)[:-5].split(":")[0]
            with open(lst, errors="replace") as f:
                for line in f:
                    self.owners.setdefault(line.rstrip("\n"), []).append(pkg)
        self.installed, self.essential, self.provides, self.depends = set(), set(), {}, {}
        fmt = "${Package}\\t${db:Status-Abbrev}\\t${Essential}\\t${Priority}\\t${Provides}\\t${Depends}, ${Pre-Depends}\\n"
        out = subprocess.run(["dpkg-query", "-W", "-f", fmt], stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
        for line in out.splitlines():
            f = line.split("\t")
            if len(f) < 6 or not f[1].startswith("ii"):
                continue
            pkg = f[0]
            self.installed.add(pkg)
            if f[2] == "yes" or f[3] == "required":
                self.essential.add(pkg)
            for v in self.names(f[4]):
                self.provides.setdefault(v, set()).add(pkg)
            self.depends[pkg] = f[5]

    @staticmethod
    def names(field):
        return [re.split(r"[\s(:]", a.strip())[0] for a in re.split(r"[,|]", field) if a.strip()]

    def owner(self, path):
        """Packages owning path (a file or directory), following symlinks and
        the /bin - /usr/bin merge; [] when dpkg knows none."""
        cands = [path, os.path.realpath(path)]
        for c in list(cands):
            for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"), ("/usr/lib/", "/lib/")):
                if c.startswith(a):
                    cands.append(b + c[len(a):])
                elif c.startswith(b):
                    cands.append(a + c[len(b):])
        for c in cands:
            if c in self.owners:
                return sorted(set(self.owners[c]))
        return []

    def closure(self, pkgs):
        """pkgs and everything their Depends/Pre-Depends pull in, as far as this
        machine's installed packages tell."""
        seen, todo = set(), list(pkgs)
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            for alt in self.names(self.depends.get(p, "")):
                for q in [alt] + sorted(self.provides.get(alt, ())):
                    if q in self.installed and q not in seen:
                        todo.append(q)
        return seen


def walk(root, top, exts=None):
    base = os.path.join(root, top)
    if os.path.isfile(base):
        yield top
        return
    for d, dirs, files in os.walk(base):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("build"))
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(d, f), root)
            if exts is None or f.endswith(exts):
                yield rel


def strip_comment(line):
    return re.sub(r"(^|\s)#.*", "", line)


def cmake_needs(root):
    needs = []
    files = [f for f in walk(root, ".", ("CMakeLists.txt", ".cmake"))
             if not f.startswith(("build", "./build"))]
    for rel in files:
        text = "\n".join(strip_comment(x) for x in open(os.path.join(root, rel)).read().splitlines())
        # libFuzzer targets (make fuzz, clang) link clang's fuzzer runtime
        m = re.search(r"-fsanitize=[a-z,-]*\bfuzzer\b", text)
        if m:
            rt = sorted(glob.glob("/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a"))
            needs.append(Need("path", rt[-1] if rt else "/usr/lib/llvm-14/lib/clang",
                              "%s:%d" % (os.path.normpath(rel), text.count("\n", 0, m.start()) + 1), "fuzz"))
        for m in re.finditer(r"\b(pkg_check_modules|pkg_search_module|find_package|check_include_files?|"
                             r"CHECK_INCLUDE_FILES?|find_path)\s*\(([^)]*)\)", text, re.I):
            call, args = m.group(1).lower(), m.group(2).split()
            line = text.count("\n", 0, m.start()) + 1
            where = "%s:%d" % (os.path.normpath(rel), line)
            mode = "build" if "REQUIRED" in args else "test"
            if call in ("pkg_check_modules", "pkg_search_module"):
                for a in args[1:]:
                    if a.isupper() and a.replace("_", "").isalpha():
                        continue  # REQUIRED, QUIET, IMPORTED_TARGET, GLOBAL, ...
                    needs.append(Need("pc", re.split(r"[<>=]", a)[0], where, mode))
            elif call == "find_package" and args:
                needs.append(Need("cmake", args[0], where, mode))
            elif call.startswith("check_include_file") and args:
                for h in args[0].strip('"').split(";"):
                    needs.append(Need("header", h, where, "build"))
            elif call == "find_path" and len(args) > 1:
                hs = args[2:] if args[1] == "NAMES" else args[1:2]
                for h in hs:
                    if h.isupper():
                        break
                    needs.append(Need("header", h, where, "build"))
    return needs


def header_needs(root):
    needs = []
    for top, mode in (("src", "build"), ("include", "build"), ("tests", "test"), ("bench", "bench")):
        for rel in walk(root, top, (".c", ".h")):
            for n, line in enumerate(open(os.path.join(root, rel), errors="replace"), 1):
                m = re.match(r"\s*#\s*include\s*<([^>]+)>", line)
                if m:
                    h = m.group(1)
                    if any(os.path.exists(os.path.join(root, d, h)) for d in ("include", "src")):
                        continue
                    needs.append(Need("header", h, "%s:%d" % (rel, n), mode))
    return needs


def file_mode(rel):
    if rel.startswith("bench/"):
        return "bench"
    if rel == "scripts/fuzz.sh":
        return "fuzz"
    return "test"


def make_mode(target):
    return {"bench": "bench", "fuzz": "fuzz"}.get(target, "test")


def shell_commands(line):
    """Words in command position of a shell line."""
    out = []
    for seg in re.split(r"\|\||&&|[|;`(]|\$\(|\bthen\b|\bdo\b|\belse\b|\bexec\b|\btime\b|"
                        r"\bcommand -v\b|\bwhich\b|\bnohup\b|\bsudo\b|\bxargs\b|\benv\b", line):
        words = seg.split()
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words.pop(0)  # VAR=value prefixes
        if words:
            out.append(words[0].strip("\"'"))
    m = re.search(r"\bfor\s+\w+\s+in\s+([^;]*)", line)
    if m:
        out.extend(w.strip("\"'") for w in m.group(1).split())
    return out


def script_needs(root, ignore):
    progs, pys, paths = [], [], []
    files = []
    for top in ("tests", "bench", "scripts", ".ci"):
        files.extend(walk(root, top))
    files.append("Makefile")
    # the check's own files (and its test, whose fixtures name packages on purpose)
    own = {"scripts/deps.sh", "scripts/check-deps.py", "scripts/deps-map.txt",
           "tests/integration/test_check_deps.py"}
    for rel in files:
        full = os.path.join(root, rel)
        if rel in own or not os.path.isfile(full):
            continue
        try:
            text = open(full, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        is_script = rel == "Makefile" or rel.endswith(SCRIPT_EXT) or text.startswith("#!")
        is_py = rel.endswith(".py") or "python3" in text.split("\n", 1)[0]
        is_shell = rel == "Makefile" or rel.endswith((".sh", ".bash")) or re.match(r"#!.*\bsh\b", text)
        target = None
        for n, raw in enumerate(text.splitlines(), 1):
            where = "%s:%d" % (rel, n)
            if rel == "Makefile":
                m = re.match(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", raw)
                if m:
                    target = m.group(1)
                mode = make_mode(target)
            else:
                mode = file_mode(rel)
            # absolute paths of system files, in any file
            # (a glob such as /usr/lib/postgresql/*/bin/postgres is one path)
            for m in re.finditer(r"(?<![\w.$/*-])(/usr/(?:bin|sbin|lib|libexec|share|include)/[A-Za-z0-9_.+/@*-]*"
                                 r"|/s?bin/[A-Za-z0-9_.+-]+)", raw):
                p = m.group(1).rstrip("/.")
                if p.count("/") >= 2:
                    paths.append(Need("path", p, where, mode))
            if not is_script:
                continue
            line = strip_comment(raw)
            # Python imports (also in shell heredocs); JavaScript's import
            # statements name npm or node: modules, which npm_problems covers
            m = re.match(r"^\s*(?:import\s+([\w., ]+)|from\s+(\w[\w.]*)\s+import)", line)
            if m and (is_py or is_shell):
                mods = m.group(1).split(",") if m.group(1) else [m.group(2)]
                for mod in mods:
                    mod = mod.strip().split(" ")[0].split(".")[0]
                    if mod:
                        pys.append(Need("py", mod, where, mode))
            words = []
            if is_shell and not line.startswith("\t") or rel == "Makefile" and raw.startswith("\t"):
                words += [w for w in shell_commands(line) if w not in SHELL_WORDS and w not in PY_WORDS]
            if is_py or rel.endswith((".js", ".mjs", ".cjs", ".ts")) or is_shell:
                # a string literal that starts an argument vector (["curl", ...]),
                # is looked up (which("nginx")) or starts a shell command line
                for m in re.finditer(r"(?:\[|\b(?:which|run|Popen|call|check_call|check_output|execvp?|"
                                     r"spawn|spawnSync|execFile|execFileSync|execSync)\()\s*"
                                     r"[\"']([A-Za-z0-9_.+-]+)(?:[\"']| -)|[\"']([A-Za-z0-9_.+-]+) -", line):
                    words.append(m.group(1) or m.group(2))
            # the compiler a build is configured with (make fuzz: clang)
            for m in re.finditer(r"CMAKE_C(?:XX)?_COMPILER=([A-Za-z0-9_.+-]+)", line):
                words.append(m.group(1))
            for w in words:
                if re.match(r"^[A-Za-z][A-Za-z0-9_.+-]*$", w) and w not in ignore:
                    progs.append(Need("prog", w, where, mode))
    return progs, pys, paths


def npm_problems(root):
    """node modules come from the npm registry only with pinned versions and
    a lock file: every package.json outside node_modules needs a
    package-lock.json beside it, and exact versions (no ranges, tags, URLs)."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".git", "node_modules") and not x.startswith("build")]
        if "package.json" not in files:
            continue
        rel = os.path.relpath(os.path.join(d, "package.json"), root)
        if "package-lock.json" not in files:
            out.append("check-deps: %s has no package-lock.json beside it (npm packages need a lock file)" % rel)
        try:
            with open(os.path.join(d, "package.json")) as f:
                pj = json.load(f)
        except (OSError, ValueError) as e:
            out.append("check-deps: %s cannot be read: %s" % (rel, e))
            continue
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            for name, ver in sorted((pj.get(section) or {}).items()):
                if not re.match(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", str(ver)):
                    out.append("check-deps: %s pins %s %s as %r, not an exact version" % (rel, section, name, ver))
    return out


def local_modules(root):
    mods = set()
    for top in ("tests", "bench", "scripts"):
        for rel in walk(root, top):
            b = os.path.basename(rel)
            if b.endswith(".py"):
                mods.add(b[:-3])
            if b == "__init__.py":
                mods.add(os.path.basename(os.path.dirname(rel)))
    return mods


def python_origins(mods):
    """{module: file or None} as Debian's python3 finds them, isolated from
    user site-packages and PYTHON* variables; stdlib modules are dropped."""
    code = r"""
import importlib.util, json, sys
out = {}
for m in sys.argv[1:]:
    if m in sys.stdlib_module_names or m in sys.builtin_module_names:
        continue
    try:
        s = importlib.util.find_spec(m)
    except Exception:
        s = None
    o = None
    if s is not None:
        o = s.origin if s.origin and s.origin not in ("built-in", "frozen") else None
        if o is None and s.submodule_search_locations:
            o = list(s.submodule_search_locations)[0]
    out[m] = o
print(json.dumps(out))
"""
    p = subprocess.run(["/usr/bin/python3", "-I", "-c", code] + sorted(mods), stdout=subprocess.PIPE,
                       universal_newlines=True, env={"PATH": "/usr/bin:/bin"})
    return json.loads(p.stdout or "{}")


def find_program(name):
    dirs = list(SYSTEM_BIN) + sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    for d in dirs:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def find_header(h, extra_dirs):
    dirs = ["/usr/include"] + sorted(glob.glob("/usr/include/*-linux-gnu")) + \
        sorted(glob.glob("/usr/lib/gcc/*/*/include")) + extra_dirs
    for d in dirs:
        if os.path.exists(os.path.join(d, h)):
            return os.path.join(d, h)
    return None


def map_prefix(table, key):
    best = None
    for k, v in table.items():
        if key == k or (k.endswith("/") and key.startswith(k)) or key.startswith(k + "/"):
            if best is None or len(k) > len(best[0]):
                best = (k, v)
    return best[1] if best else None


def resolve(needs, dpkg, dmap, root):
    pc_dirs = []
    pys = {n.name for n in needs if n.kind == "py"} - local_modules(root)
    origins = python_origins(pys) if pys else {}
    out = []
    for n in needs:
        found = None
        if n.kind == "pc":
            p = subprocess.run(["pkg-config", "--variable=pcfiledir", n.name], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, universal_newlines=True)
            if p.returncode == 0 and p.stdout.strip():
                found = os.path.join(p.stdout.strip(), n.name + ".pc")
                inc = subprocess.run(["pkg-config", "--cflags-only-I", n.name], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, universal_newlines=True).stdout
                pc_dirs += [x[2:] for x in inc.split() if x.startswith("-I")]
            else:
                ends = "/pkgconfig/%s.pc" % n.name
                found = next((f for f in dpkg.owners if f.endswith(ends)), None)
        elif n.kind == "prog":
            found = find_program(n.name)
            if found is None and n.name not in dmap["prog"]:
                continue  # an ordinary word, not a program
        elif n.kind == "py":
            if n.name not in origins:
                continue  # stdlib or one of the repository's own modules
            found = origins[n.name]
            if found and not dpkg.owner(found):
                n.note = "found only at %s, which no Debian package provides" % found
                n.pkgs = []
                out.append(n)
                continue
        elif n.kind == "path":
            if "*" in n.name:
                hits = sorted(glob.glob(n.name))
                found = hits[-1] if hits else None
            else:
                found = n.name if os.path.exists(n.name) else None
        elif n.kind == "cmake":
            pkg = dmap["cmake"].get(n.name)
            if pkg == "-":
                continue
            n.pkgs = [pkg] if pkg else []
            if not pkg:
                n.note = "unknown find_package name; add it to scripts/deps-map.txt"
            out.append(n)
            continue
        out.append(n)
        if n.kind == "header":
            continue  # resolved below, once the pkg-config include dirs are known
        owners = dpkg.owner(found) if found else []
        if owners:
            n.pkgs = owners
        else:
            pkg = dmap[n.kind].get(n.name) if n.kind != "path" else \
                map_prefix(dmap["path"], n.name.split("*")[0].rstrip("/"))
            n.pkgs = [pkg] if pkg else []
            if not pkg:
                n.note = "not installed here and not named in scripts/deps-map.txt"
    for n in out:
        if n.kind != "header":
            continue
        found = find_header(n.name, pc_dirs)
        owners = dpkg.owner(found) if found else []
        if owners:
            n.pkgs = owners
        else:
            pkg = map_prefix(dmap["header"], n.name)
            n.pkgs = [pkg] if pkg else []
            if not pkg:
                n.note = "not installed here and not named in scripts/deps-map.txt"
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(here))
    ap.add_argument("--deps")
    ap.add_argument("--map")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    deps = a.deps or os.path.join(a.root, "scripts", "deps.sh")
    dmap = read_map(a.map or os.path.join(a.root, "scripts", "deps-map.txt"))
    lists = {m: sh_list(deps, m) for m in MODES}
    dpkg = Dpkg()
    closures = {m: dpkg.closure(lists[m]) for m in MODES}
    progs, pys, paths = script_needs(a.root, dmap["ignore"])
    needs = resolve(cmake_needs(a.root) + header_needs(a.root) + progs + pys + paths, dpkg, dmap, a.root)
    missing, unknown = {}, []
    for n in needs:
        ok = bool(n.pkgs) and any(p in dpkg.essential or p in closures[n.mode] for p in n.pkgs)
        if a.verbose:
            print("check-deps: %-6s %-40s %-5s %-30s %s" % (n.kind, n.name, n.mode, ",".join(n.pkgs or ["?"]),
                                                           n.where))
        if ok:
            continue
        what = "%s %s" % ({"pc": "pkg-config module", "cmake": "CMake package", "header": "header",
                           "prog": "program", "py": "Python module", "path": "system path"}[n.kind], n.name)
        if n.pkgs:
            missing.setdefault((" or ".join(n.pkgs), n.mode), []).append((what, n.where))
        elif (what, n.note) not in [(u[0], u[2]) for u in unknown]:
            unknown.append((what, n.where, n.note))
    failures = []
    for (pkg, mode), uses in missing.items():
        more = " and %d more" % (len(uses) - 1) if len(uses) > 1 else ""
        failures.append("check-deps: %s is missing from the %s list of %s (it provides %s, used at %s%s)"
                        % (pkg, mode, a.deps or "scripts/deps.sh", uses[0][0], uses[0][1], more))
    for what, where, note in unknown:
        failures.append("check-deps: no Debian package known for %s (used at %s): %s" % (what, where, note))
    failures += npm_problems(a.root)
    for f in failures:
        print(f, file=sys.stderr)
    if failures:
        print("check-deps: %d problem(s); add the packages to scripts/deps.sh (see docs/testing.md)"
              % len(failures), file=sys.stderr)
        return 1
    print("check-deps: every package the build and tests use is installed by %s (%d uses checked)"
          % (a.deps or "scripts/deps.sh", len(needs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
