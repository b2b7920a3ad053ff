"""test_version.py -- one version, set in one place.

project(tipd VERSION x.y.z) in CMakeLists.txt is the only place the version
is written. `tip --version`, `tip --json --version`, `tipd --version`, the
status reply (`tip status`) and debian/changelog's newest entry must all say
the same; debian/check-version (run by debian/rules before configuring)
refuses a changelog that disagrees.
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, check, eq, run_tests  # noqa: E402


def project_version():
    text = open(os.path.join(harness.SRC, "CMakeLists.txt")).read()
    m = re.search(r"^project\(tipd VERSION ([0-9.]+)", text, flags=re.M)
    check(m, "no project(tipd VERSION ...) in CMakeLists.txt")
    return m.group(1)


def test_binaries_say_the_project_version():
    v = project_version()
    harness.need_binary(harness.TIP)
    out = subprocess.run([harness.TIP, "--version"], capture_output=True, text=True).stdout
    eq(out, "tip %s\n" % v)
    out = subprocess.run([harness.TIP, "--json", "--version"], capture_output=True,
                         text=True).stdout
    eq(json.loads(out), {"version": v})
    rc, out, err = harness.run_tipd("--version")
    eq((rc, out), (0, "tipd %s\n" % v))
    with Daemon() as d:
        eq(d.tip_json("status")[0]["version"], v)
        rc, out, err = d.tip("status")
        check(re.search(r"^version\s+%s$" % re.escape(v), out, flags=re.M), out)


def test_debian_changelog_agrees():
    v = project_version()
    first = open(os.path.join(harness.SRC, "debian", "changelog")).readline()
    m = re.match(r"^tipd \(([^)]+)\) ", first)
    check(m, first)
    upstream = m.group(1).split(":")[-1].rsplit("-", 1)[0] if "-" in m.group(1) else m.group(1)
    eq(upstream, v, "debian/changelog vs CMakeLists.txt project(VERSION)")


def test_check_version_refuses_a_mismatch():
    script = os.path.abspath(os.path.join(harness.SRC, "debian", "check-version"))
    v = project_version()
    r = subprocess.run([script, v], cwd=harness.SRC, capture_output=True, text=True)
    eq(r.returncode, 0, r.stderr)
    r = subprocess.run([script, v + ".1"], cwd=harness.SRC, capture_output=True, text=True)
    eq(r.returncode, 1)
    eq(r.stderr, "check-version: debian/changelog says %s.1 but CMakeLists.txt says %s; add a "
                 "changelog entry for %s (dch -v %s)\n" % (v, v, v, v))


if __name__ == "__main__":
    run_tests(globals())
