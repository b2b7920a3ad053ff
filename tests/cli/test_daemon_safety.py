"""test_daemon_safety.py -- tipd trusts only a data directory and key files
that are its own.

Each case sets up what another local user could do -- a world- or
group-writable data directory, a directory or node key owned by someone else,
a lock.mdb or node.key symlink planted to a file tipd must not write, a
writable non-sticky ancestor, a network key owned by someone else -- and
checks that `tipd -n` names the problem (exit 1) and that tipd refuses to
start (exit 1, the same sentence in its log) without creating or writing
anything. Controls: the same layout made safe passes, a sticky world-writable
ancestor (/tmp) is fine. Cases that need a second user need root (chown).
"""

import os
import shutil
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, eq, run_tests, run_tipd  # noqa: E402

OTHER_UID = 65534  # nobody


class Scratch:
    """A temporary directory with an empty config; removed on exit."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="tipd-safe-")
        self.conf = os.path.join(self.dir, "c.conf")
        open(self.conf, "w").close()
        self.data = os.path.join(self.dir, "data")
        os.mkdir(self.data, 0o700)
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)

    def check(self, *extra, data=None):
        return run_tipd("--config", self.conf, "-n", "--data", data or self.data, *extra)

    def start(self, *extra, data=None):
        """Run the daemon; it must refuse, so this returns (rc, stderr)."""
        rc, out, err = run_tipd("--config", self.conf, "--data", data or self.data, "--api",
                                os.path.join(self.dir, "s.sock"), "--listen",
                                "tcp://127.0.0.1:0", "--no-discovery", *extra, timeout=30)
        return rc, err


def need_root():
    if os.geteuid() != 0:
        raise harness.Skip("needs root to make files owned by another user")


def refused(s, line, *extra, data=None):
    """-n reports line on the data: row and exits 1; the daemon exits 1 with
    the same sentence."""
    rc, out, err = s.check(*extra, data=data)
    eq(rc, 1, out + err)
    check(line in out, "want %r in:\n%s" % (line, out))
    check("tipd: configuration has errors" in out, out)
    rc, err = s.start(*extra, data=data)
    eq(rc, 1, err)
    msg = line.split("ERROR: --data: ", 1)[-1]
    check(msg in err, "want %r in:\n%s" % (msg, err))


def test_safe_directory_passes():
    with Scratch() as s:
        rc, out, err = s.check()
        eq(rc, 0, out + err)
        check("tipd: configuration OK" in out, out)


def test_world_writable_data_dir():
    with Scratch() as s:
        os.chmod(s.data, 0o777)
        refused(s, "data:        %s: ERROR: --data: data directory %s is writable by other users "
                   "(mode 0777), who could plant keys or links in it; run chmod 700 %s"
                % (s.data, s.data, s.data))
        eq(os.listdir(s.data), [], "tipd created files in an unsafe directory")
        os.chmod(s.data, 0o770)  # group-writable is no better
        refused(s, "data directory %s is writable by other users (mode 0770)" % s.data)
        os.chmod(s.data, 0o755)  # readable is fine: the secrets in it are 0600
        rc, out, err = s.check()
        eq(rc, 0, out + err)


def test_planted_lock_symlink_is_not_followed():
    """The measured attack: lock.mdb linked to a file tipd (as root) would
    overwrite. Refused, and the target is untouched."""
    with Scratch() as s:
        victim = os.path.join(s.dir, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.chmod(victim, 0o644)
        for name in ("lock.mdb", "data.mdb", "node.key", "tipd.lock"):
            link = os.path.join(s.data, name)
            os.symlink(victim, link)
            refused(s, "ERROR: --data: %s is a symbolic link; tipd does not follow links in its "
                       "data directory (remove it)" % link)
            os.unlink(link)
        eq(open(victim).read(), "precious\n")
        eq(stat.S_IMODE(os.stat(victim).st_mode), 0o644)


def test_entry_that_is_not_a_file():
    with Scratch() as s:
        os.mkdir(os.path.join(s.data, "lock.mdb"))
        refused(s, "ERROR: --data: %s/lock.mdb is not a regular file" % s.data)


def test_other_users_directory_and_files():
    need_root()
    with Scratch() as s:
        os.chown(s.data, OTHER_UID, -1)
        refused(s, "ERROR: --data: data directory %s is owned by uid %d, not by the user tipd "
                   "runs as (uid 0)" % (s.data, OTHER_UID))
        os.chown(s.data, 0, -1)
        # a node key planted by another user (made valid, mode 0600)
        key = os.path.join(s.data, "node.key")
        with open(key, "w") as f:
            f.write("11" * 32 + "\n")
        os.chmod(key, 0o600)
        os.chown(key, OTHER_UID, -1)
        refused(s, "ERROR: --data: %s is owned by uid %d, not by the user tipd runs as (uid 0)"
                % (key, OTHER_UID))
        rc, out, err = s.check()
        check("node key:    ERROR: key file %s is owned by uid %d, not by the user reading it "
              "(uid 0)" % (key, OTHER_UID) in out, out)
        os.chown(key, 0, -1)
        os.chmod(key, 0o620)
        rc, out, err = s.check()
        eq(rc, 1, out)
        check("%s is writable by other users (mode 0620)" % key in out, out)
        os.chmod(key, 0o600)
        rc, out, err = s.check()
        eq(rc, 0, out + err)


def test_network_key_of_another_user():
    need_root()
    with Scratch() as s:
        key = os.path.join(s.dir, "net.key")
        rc, out, err = run_tipd("genkey", key)
        eq(rc, 0, err)
        rc, out, err = s.check("--network-key", key)
        eq(rc, 0, out + err)
        os.chown(key, OTHER_UID, -1)
        rc, out, err = s.check("--network-key", key)
        eq(rc, 1, out)
        check("network:     ERROR: --network-key: network key file %s is owned by uid %d, not by "
              "the user reading it (uid 0)" % (key, OTHER_UID) in out, out)
        rc, err = s.start("--network-key", key)
        eq(rc, 1, err)
        check("is owned by uid %d" % OTHER_UID in err, err)


def test_unsafe_ancestor():
    with Scratch() as s:
        shared = os.path.join(s.dir, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o777)  # anyone could rename our directory away
        data = os.path.join(shared, "data")
        line = ("ERROR: --data: %s is writable by other users (mode 0777) and not sticky, so they "
                "could replace what is in it; run chmod go-w %s" % (shared, shared))
        # missing data directory: -n already says it would be unsafe
        rc, out, err = s.check(data=data)
        eq(rc, 1, out)
        check(line in out, out)
        os.mkdir(data, 0o700)
        refused(s, line, data=data)
        os.chmod(shared, 0o1777)  # sticky, like /tmp: fine
        rc, out, err = s.check(data=data)
        eq(rc, 0, out + err)


if __name__ == "__main__":
    run_tests(globals())
