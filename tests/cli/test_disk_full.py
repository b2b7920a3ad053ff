"""test_disk_full.py -- tipd on a disk that fills up.

The data directory is a 4 MiB tmpfs in a private mount namespace (needs
root, as CI runs; skipped otherwise). Events acknowledged before the disk
fills stay; a submit that cannot be written is answered `no_space` with a
message saying what to do, and nothing of it is claimed stored; the daemon
logs the failure at the default level with LMDB's words and the data path,
once; once space is freed the same events are stored without a restart,
and everything acknowledged survives a restart.
"""

import ctypes
import errno
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, eq, mkevent, run_tests, skip  # noqa: E402

CLONE_NEWNS = 0x00020000


def private_mounts():
    """Move this process (and the tipd it starts) to its own mount namespace,
    so the tmpfs is nobody else's and goes away with us."""
    if os.geteuid() != 0:
        skip("needs root to mount a small tmpfs")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        skip("unshare(CLONE_NEWNS): %s" % os.strerror(ctypes.get_errno()))
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)


def fill(path):
    """Write zeros to path until the disk is full."""
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as e:
                eq(e.errno, errno.ENOSPC)
                break
        try:
            while True:  # the last partial chunk
                f.write(b"\0" * 512)
        except OSError:
            pass


def test_disk_full_is_told_and_writing_resumes():
    tmp = tempfile.mkdtemp(prefix="tipd-test-")
    data = os.path.join(tmp, "data")
    os.mkdir(data)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tipd-full", data],
                   check=True)
    try:
        with Daemon(tmp=tmp, log_level=None) as d:
            before = mkevent("--count", "20", "--title", "stored before").split("\n")
            r = d.api({"op": "submit", "events": before})
            check(r["ok"], r)
            eq([x["status"] for x in r["results"]], ["new"] * 20)

            filler = os.path.join(data, "filler")
            fill(filler)
            late = mkevent("--count", "200", "--title", "a tip while the disk is full",
                           "--body", "x" * 2000).split("\n")
            r = d.api({"op": "submit", "events": late}, timeout=60)
            eq(r["ok"], False, r)
            eq(r["error"], "no_space")
            check("disk is full" in r["message"] and data in r["message"], r["message"])
            eq({x["status"] for x in r["results"]}, {"rejected"})
            st = d.status()
            eq(st["events"], 20)
            log = d.log()
            check("No space left on device" in log and data in log, log[-2000:])
            check("error" in [ln for ln in log.splitlines() if "No space left" in ln][0], log)
            # a second failure is answered the same but not logged again
            r = d.api({"op": "submit", "events": late[:5]}, timeout=60)
            eq(r["error"], "no_space")
            eq(d.log().count("No space left on device"), 1)
            # reads still work
            r = d.api({"op": "search", "q": "stored before", "n": 50})
            eq(len(r["results"]), 20)

            os.unlink(filler)  # space is back: the same events go in, no restart
            r = d.api({"op": "submit", "events": late}, timeout=60)
            check(r["ok"], r)
            eq([x["status"] for x in r["results"]], ["new"] * 200)
            check("works again" in d.log(), d.log()[-2000:])
            eq(d.status()["events"], 220)
            d.restart()
            eq(d.status()["events"], 220)
    finally:
        subprocess.run(["umount", "-l", data], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    private_mounts()
    run_tests(globals())
