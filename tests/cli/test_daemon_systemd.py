"""test_daemon_systemd.py -- the systemd files IT installs.

systemd-analyze verify on the generated unit (ExecStart pointed at the built
tipd so the binary check passes), the hardening and notify settings the unit
must carry, its exposure score (systemd-analyze security --offline), systemd-sysusers creating the tipd user in a scratch root, and
`cmake --install` into a DESTDIR putting every file where systemd looks.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, eq, run_tests  # noqa: E402

BUILD = os.path.dirname(harness.BIN)
UNIT = os.path.join(BUILD, "systemd", "tipd.service")
SYSTEMD_SRC = os.path.join(harness.SRC, "systemd")


def unit_text():
    if not os.path.exists(UNIT):
        raise harness.Skip("%s not generated (configure the build)" % UNIT)
    return open(UNIT).read()


def verify(text, name="tipd.service"):
    if not shutil.which("systemd-analyze"):
        raise harness.Skip("systemd-analyze is not installed")
    t = tempfile.mkdtemp(prefix="tipd-unit-")
    try:
        p = os.path.join(t, name)
        with open(p, "w") as f:
            f.write(text)
        # --man=no: the man pages Documentation= names are installed by the
        # package, not on the build machine.
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", p], capture_output=True,
                           text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr
    finally:
        shutil.rmtree(t, ignore_errors=True)


def with_built_binary(text):
    lines = []
    for ln in text.splitlines():
        if ln.startswith("ExecStart="):
            ln = "ExecStart=" + harness.TIPD
        elif ln.startswith("ExecReload=") and ln.endswith("/tipd -n"):
            ln = "ExecReload=" + harness.TIPD + " -n"
        lines.append(ln)
    return "\n".join(lines) + "\n"


def test_unit_verifies_cleanly():
    harness.need_binary(harness.TIPD)
    rc, out = verify(with_built_binary(unit_text()))
    eq(rc, 0, out)
    eq(out.strip(), "", "systemd-analyze printed warnings")
    # control: the check is real -- a unit whose binary is missing fails
    bad = with_built_binary(unit_text()).replace(harness.TIPD, "/nonexistent/tipd")
    rc, out = verify(bad)
    check(rc != 0, "verify accepted a missing binary", out)


def test_unit_settings():
    text = unit_text()
    settings = {}
    for ln in text.splitlines():
        if "=" in ln and not ln.startswith("#"):
            k, v = ln.split("=", 1)
            settings.setdefault(k.strip(), []).append(v.strip())
    want = {
        "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30", "User": "tipd",
        "StateDirectory": "tipd", "RuntimeDirectory": "tipd", "RuntimeDirectoryMode": "0755",
        "ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes",
        "PrivateTmp": "yes", "Restart": "on-failure", "UMask": "0077",
        "CapabilityBoundingSet": "", "ProtectProc": "invisible", "ProcSubset": "pid",
        "PrivateMounts": "yes", "RestrictSUIDSGID": "yes", "ProtectClock": "yes",
        "ProtectKernelLogs": "yes",
    }
    for k, v in want.items():
        eq(settings.get(k), [v], k)
    # reload checks the new config (tipd -n) before signalling tipd
    eq(len(settings["ExecReload"]), 2, settings["ExecReload"])
    check(settings["ExecReload"][0].endswith("/tipd -n"), settings["ExecReload"])
    eq(settings["ExecReload"][1], "/bin/kill -HUP $MAINPID")
    eq(settings["SystemCallFilter"], ["@system-service", "~@privileged @resources",
                                      "sched_setscheduler sched_setparam setpriority mincore"])
    check("avahi-daemon.service" in settings["Wants"][0], settings["Wants"])
    check("avahi-daemon.service" in settings["After"][0], settings["After"])
    check("network-online.target" in settings["After"][0], settings["After"])
    check(settings["ExecStart"][0].endswith("/tipd"), settings["ExecStart"])


def test_security_score_offline():
    """The unit's exposure without booting anything (tests/systemd/test_nspawn.py
    checks the same inside a running systemd): at most 2.0, below
    systemd-timesyncd's 2.3 on Debian 12."""
    if not shutil.which("systemd-analyze"):
        raise harness.Skip("systemd-analyze is not installed")
    t = tempfile.mkdtemp(prefix="tipd-unit-")
    try:
        p = os.path.join(t, "tipd.service")
        with open(p, "w") as f:
            f.write(unit_text())
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", p],
                           capture_output=True, text=True, timeout=60, cwd=t)
        out = r.stdout + r.stderr
        m = re.search(r"Overall exposure level for tipd.service: ([0-9.]+)", out)
        check(m, out[-500:])
        check(float(m.group(1)) <= 2.0, "exposure %s > 2.0" % m.group(1), out)
    finally:
        shutil.rmtree(t, ignore_errors=True)


def test_sysusers_and_tmpfiles():
    if not shutil.which("systemd-sysusers"):
        raise harness.Skip("systemd-sysusers is not installed")
    root = tempfile.mkdtemp(prefix="tipd-sysusers-")
    try:
        os.makedirs(os.path.join(root, "etc"))
        r = subprocess.run(["systemd-sysusers", "--root=" + root,
                            os.path.join(SYSTEMD_SRC, "tipd.sysusers")],
                           capture_output=True, text=True, timeout=60)
        eq(r.returncode, 0, r.stderr)
        pw = [ln.split(":") for ln in open(os.path.join(root, "etc", "passwd"))]
        tipd = [p for p in pw if p[0] == "tipd"]
        eq(len(tipd), 1, pw)
        eq(tipd[0][5], "/var/lib/tipd")
        check(int(tipd[0][2]) < 1000, "a system uid", tipd)
        # tmpfiles then makes /etc/tipd 0750 root:tipd in the same root
        if shutil.which("systemd-tmpfiles"):
            r = subprocess.run(["systemd-tmpfiles", "--root=" + root, "--create",
                                os.path.join(SYSTEMD_SRC, "tipd.tmpfiles")],
                               capture_output=True, text=True, timeout=60)
            eq(r.returncode, 0, r.stderr)
            st = os.stat(os.path.join(root, "etc", "tipd"))
            eq(stat.S_IMODE(st.st_mode), 0o750)
            eq(st.st_uid, 0)
            eq(st.st_gid, int(tipd[0][3]))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_cmake_install_layout():
    if not os.path.exists(harness.TIP) or not os.path.exists(harness.TIPD):
        raise harness.Skip("tip and tipd must both be built to install")
    dest = tempfile.mkdtemp(prefix="tipd-install-")
    try:
        env = dict(os.environ, DESTDIR=dest)
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", "/usr"], env=env,
                           capture_output=True, text=True, timeout=300)
        eq(r.returncode, 0, r.stdout + r.stderr)
        for p in ("usr/sbin/tipd", "usr/bin/tip", "usr/lib/systemd/system/tipd.service",
                  "usr/lib/sysusers.d/tipd.conf", "usr/lib/tmpfiles.d/tipd.conf",
                  "usr/share/doc/tipd/tipd.conf.example",
                  "usr/share/bash-completion/completions/tip",
                  "usr/share/bash-completion/completions/tipd",
                  "usr/share/zsh/vendor-completions/_tip", "usr/share/zsh/vendor-completions/_tipd",
                  "usr/share/fish/vendor_completions.d/tip.fish",
                  "usr/share/fish/vendor_completions.d/tipd.fish"):
            check(os.path.exists(os.path.join(dest, p)), "not installed:", p)
        if shutil.which("scdoc"):
            for p in ("usr/share/man/man1/tip.1", "usr/share/man/man8/tipd.8",
                      "usr/share/man/man5/tipd.conf.5"):
                check(os.path.exists(os.path.join(dest, p)), "not installed:", p)
                head = open(os.path.join(dest, p)).read(2000)
                check(".TH" in head, "not a man page:", p)
        unit = open(os.path.join(dest, "usr/lib/systemd/system/tipd.service")).read()
        check("ExecStart=/usr/sbin/tipd\n" in unit, unit)
        # the example config is valid as shipped
        ex = os.path.join(dest, "usr/share/doc/tipd/tipd.conf.example")
        rc, out, err = harness.run_tipd("--config", ex, "-n", "--data",
                                        os.path.join(dest, "data"))
        eq(rc, 0, out + err)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
