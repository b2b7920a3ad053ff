"""test_lintian.py -- lintian has nothing to say about the package.

Runs lintian (pedantic, info tags shown) on the .changes scripts/build-deb
made (TIPD_DEB_DIR): no error and no warning may be reported. Overrides live
in debian/ with a written reason; info and pedantic tags are printed for the
record but do not fail the test.
"""

import glob
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "cli"))
import harness  # noqa: E402
from harness import Skip, check, eq  # noqa: E402

DEB_DIR = os.environ.get("TIPD_DEB_DIR", os.path.join(os.path.dirname(harness.BIN), "deb"))


def test_lintian_clean():
    if not shutil.which("lintian"):
        raise Skip("lintian is not installed (scripts/setup installs it)")
    changes = sorted(glob.glob(os.path.join(DEB_DIR, "tipd_*_amd64.changes")))
    check(changes, "no .changes in %s (scripts/build-deb makes it)" % DEB_DIR)
    r = subprocess.run(["lintian", "--pedantic", "--display-info", "--show-overrides",
                        changes[-1]], capture_output=True, text=True, timeout=600)
    out = r.stdout
    print(out, end="")
    bad = [ln for ln in out.splitlines() if ln[:2] in ("E:", "W:")]
    eq(bad, [], "lintian errors or warnings")
    eq(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    harness.run_tests(globals())
