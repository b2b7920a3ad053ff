"""test_import_disk_full.py -- `tip import` and `tip add` when tipd's disk is
full: said once, as the disk's fault, never as the lines'; what was typed
is kept; the same import after space is freed stores the rest.

The data directory is a 4 MiB tmpfs in a private mount namespace (needs
root, as CI runs; skipped otherwise), as in test_disk_full.py.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, eq, run_tests  # noqa: E402
from test_disk_full import fill, private_mounts  # noqa: E402


def test_import_says_disk_full_once():
    tmp = tempfile.mkdtemp(prefix="tipd-test-")
    data = os.path.join(tmp, "data")
    os.mkdir(data)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tipd-full", data],
                   check=True)
    try:
        with Daemon(tmp=tmp, log_level=None) as d:
            rc, out, err = d.tip("add", "--title", "stored before", "text")
            eq(rc, 0, err)
            filler = os.path.join(data, "filler")
            fill(filler)
            f = os.path.join(tmp, "many.jsonl")
            with open(f, "w") as fh:
                for i in range(1500):  # about 0.5 MB: fits once the filler is gone
                    fh.write(json.dumps({"title": "tip %d" % i, "body": "x%d " % i * 40}) + "\n")
            rc, out, err = d.tip("import", f, timeout=300)
            eq(rc, 1, err)
            eq(err.count("disk is full"), 1, err)
            check("; skipped" not in err and "refused" not in err, err)  # no line blamed
            check(err.startswith("tip: tipd's disk is full: the import stopped at line "), err)
            check("run the same import again" in err, err)
            # A tip typed on stdin is kept, not lost.
            rc, out, err = d.tip("add", "-", input="Typed while full\nbody\n")
            eq(rc, 1, err)
            check("disk is full" in err and "nothing is lost" in err, err)
            os.unlink(filler)
            rc, out, err = d.tip("import", f, timeout=300)
            eq(rc, 0, err)
            rc, out, err = d.tip("add", "--draft", "last")
            eq(rc, 0, err)
            eq(d.status()["tips"], 1502)
    finally:
        subprocess.run(["umount", "-l", data], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    private_mounts()
    run_tests(globals())
