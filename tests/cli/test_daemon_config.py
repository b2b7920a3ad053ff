"""test_daemon_config.py -- tipd's command line, config file, -n, genkey,
SIGHUP reload, journald log prefixes and sd_notify, on the real binary.
"""

import atexit
import os
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, check, eq, run_tests, run_tipd  # noqa: E402


_tmpdirs = []


def tmpdir():
    """A private directory, removed when the test run ends."""
    d = tempfile.mkdtemp(prefix="tipd-cfg-")
    _tmpdirs.append(d)
    return d


@atexit.register
def _remove_tmpdirs():
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test_help_version_usage():
    rc, out, err = run_tipd("--help")
    eq(rc, 0)
    for k in ("--config", "--data", "--api", "--listen", "--peer", "--no-discovery",
              "--network-key", "--name", "--log-level", "genkey", "-n"):
        check(k in out, "help lacks", k)
    rc, out, err = run_tipd("--version")
    eq(rc, 0)
    check(out.startswith("tipd "), out)
    rc, out, err = run_tipd("--bogus")
    eq(rc, 2)
    eq(err, "tipd: unknown option --bogus (tipd --help)\n")
    rc, out, err = run_tipd("--data")
    eq(rc, 2)
    eq(err, "tipd: --data needs a value (tipd --help)\n")
    rc, out, err = run_tipd("--log-level", "loud")
    eq(rc, 2)
    eq(err, "tipd: --log-level: log-level must be one of error, warning, notice, info, debug, "
            "not 'loud'\n")
    rc, out, err = run_tipd("--peer", "udp://x:1")
    eq(rc, 2)
    eq(err, "tipd: --peer: 'udp://x:1' is not a tcp:// endpoint (like tcp://host:7714)\n")


def test_check_good_config():
    t = tmpdir()
    key = os.path.join(t, "net.key")
    eq(run_tipd("genkey", key)[0], 0)
    cfg = write(os.path.join(t, "tipd.conf"),
                "# tipd test config\n"
                "[tipd]\n"
                "data = %s/data\n"
                "api = %s/api.sock\n"
                "listen = tcp://*:7799\n"
                "peer = tcp://10.1.2.3:7714\n"
                "peer = tcp://host.example:7714\n"
                "no-discovery = yes\n"
                "network-key = %s\n"
                "name = Front desk ; inline comment\n"
                "log-level = debug\n" % (t, t, key))
    rc, out, err = run_tipd("--config", cfg, "-n")
    eq(rc, 0, err)
    check("tipd: configuration OK" in out, out)
    check("config:      " + cfg in out, out)
    check("data:        %s/data (missing; will be created)" % t in out, out)
    check("listen:      tcp://*:7799" in out, out)
    check("discovery:   off" in out, out)
    check("peers:       2 static" in out and "tcp://host.example:7714" in out, out)
    check("name:        Front desk\n" in out, out)
    check("log-level:   debug" in out, out)
    check("network:     " in out and "(key %s)" % key in out, out)
    # -n created nothing
    check(not os.path.exists(os.path.join(t, "data")))
    # the command line wins over the file, and --peer adds to it
    rc, out, err = run_tipd("--config", cfg, "-n", "--listen", "tcp://127.0.0.1:1234",
                            "--peer", "tcp://10.9.9.9:1")
    eq(rc, 0, err)
    check("listen:      tcp://127.0.0.1:1234" in out, out)
    check("peers:       3 static" in out, out)


def test_check_bad_config_reports_every_line():
    t = tmpdir()
    cfg = write(os.path.join(t, "bad.conf"),
                "data = /tmp/x\n"                   # 1 ok
                "bogus = 1\n"                       # 2
                "listen = http://x\n"               # 3
                "this line is nonsense\n"           # 4
                "no-discovery = maybe\n"            # 5
                "[other]\n"                         # 6
                "name = x\n"                        # 7 (in an unknown section)
                "[tipd]\n"                          # 8
                "peer = tcp://host:99999\n"         # 9
                "log-level = chatty\n")             # 10
    rc, out, err = run_tipd("--config", cfg, "-n")
    eq(rc, 1)
    want = [
        "%s:2: unknown key 'bogus'" % cfg,
        "%s:3: 'http://x' is not a tcp:// endpoint (like tcp://*:7714)" % cfg,
        "%s:4: expected 'key = value', a [section] or a comment" % cfg,
        "%s:5: no-discovery must be yes or no, not 'maybe'" % cfg,
        "%s:7: unknown section [other] (keys go at the top or under [tipd])" % cfg,
        "%s:9: 'tcp://host:99999': port must be a number from 1 to 65535" % cfg,
        "%s:10: log-level must be one of error, warning, notice, info, debug, not 'chatty'"
        % cfg,
    ]
    eq(err.splitlines(), want)
    eq(out, "")
    # the same file refuses to start the daemon, with the same messages
    rc, out, err2 = run_tipd("--config", cfg, "--data", os.path.join(t, "d"))
    eq(rc, 1)
    eq(err2, err)
    check(not os.path.exists(os.path.join(t, "d")))


def test_missing_configs():
    t = tmpdir()
    missing = os.path.join(t, "nope.conf")
    rc, out, err = run_tipd("--config", missing, "-n")
    eq(rc, 1)
    eq(err, "%s: cannot read: No such file or directory\n" % missing)
    # a long line is reported, not split
    cfg = write(os.path.join(t, "long.conf"), "name = " + "x" * 300 + "\n")
    rc, out, err = run_tipd("--config", cfg, "-n")
    eq(rc, 1)
    eq(err, "%s:1: line too long (at most 198 bytes)\n" % cfg)


def test_default_config_file_may_be_missing():
    if os.path.exists("/etc/tipd/tipd.conf"):
        raise harness.Skip("/etc/tipd/tipd.conf exists on this machine")
    rc, out, err = run_tipd("-n", "--data", os.path.join(tmpdir(), "d"))
    eq(rc, 0, err)
    check("config:      (none, built-in defaults)" in out, out)
    check("listen:      tcp://*:7714" in out and "api:         /run/tipd/tipd.sock" in out, out)
    with Daemon(config=None) as d:
        check(d.status()["ok"])


def test_check_bad_keys_and_data():
    t = tmpdir()
    data = os.path.join(t, "data")
    os.makedirs(data)
    write(os.path.join(data, "node.key"), "00" * 32 + "\n")
    os.chmod(os.path.join(data, "node.key"), 0o644)  # readable by others: refused
    key = write(os.path.join(t, "net.key"), "zz\n")
    os.chmod(key, 0o600)
    cfg = write(os.path.join(t, "c.conf"), "")
    rc, out, err = run_tipd("--config", cfg, "-n", "--data", data, "--network-key", key)
    eq(rc, 1)
    check("node key:    ERROR:" in out, out)
    check("network:     ERROR:" in out, out)
    check("tipd: configuration has errors" in out, out)
    # a data dir or socket that cannot be created
    rc, out, err = run_tipd("--config", cfg, "-n", "--data", "/etc/passwd/x", "--api",
                            "/etc/passwd/tipd.sock")
    eq(rc, 1)
    check("data:        /etc/passwd/x: ERROR: --data: missing, and /etc/passwd is not a "
          "directory this user can write to" in out, out)
    check("api:         /etc/passwd/tipd.sock: ERROR: --api: /etc/passwd is not a directory this "
          "user can write to" in out, out)
    # and the daemon itself refuses to start with them
    rc, out, err = run_tipd("--config", cfg, "--data", data, "--network-key", key,
                            "--api", os.path.join(t, "s.sock"), "--no-discovery")
    eq(rc, 1)
    check("node key:" in err, err)


def test_bad_paths_name_their_line():
    """(qa) A path that is only found bad after parsing (network key, data
    directory, API socket) still names FILE:LINE, at -n and at start-up, and
    bytes that are not printable are quoted as \\xHH, never raw."""
    t = tmpdir()
    cfg = write(os.path.join(t, "c.conf"),
                "# office config\n"
                "network-key = %s/missing.key\n"
                "data = /etc/passwd\n"
                "api = /etc/passwd/tipd.sock\n" % t)
    rc, out, err = run_tipd("--config", cfg, "-n")
    eq(rc, 1)
    check("data:        /etc/passwd: ERROR: %s:3: not a directory\n" % cfg in out, out)
    check("network:     ERROR: %s:2: cannot open network key file %s/missing.key: "
          "No such file or directory\n" % (cfg, t) in out, out)
    check("api:         /etc/passwd/tipd.sock: ERROR: %s:4: /etc/passwd is not a directory"
          % cfg in out, out)
    rc, out, err = run_tipd("--config", cfg, "--data", os.path.join(t, "data"), "--api",
                            os.path.join(t, "s.sock"), "--no-discovery")
    eq(rc, 1)
    eq(err.strip().splitlines()[-1],
       "tipd: error: %s:2: network key: cannot open network key file %s/missing.key: "
       "No such file or directory" % (cfg, t))
    # the command line wins, and says so
    rc, out, err = run_tipd("--config", cfg, "-n", "--network-key", os.path.join(t, "k2"))
    check("network:     ERROR: --network-key: cannot open" in out, out)
    bad = os.path.join(t, "bytes.conf")
    with open(bad, "wb") as f:
        f.write(b"\xff\xfe = 1\nlisten = tcp://a\x01b:7714\nlog-level = \x1b[31mred\n")
    rc, out, err = run_tipd("--config", bad, "-n")
    eq(rc, 1)
    eq(err, "%s:1: unknown key '\\xff\\xfe'\n"
            "%s:2: 'tcp://a\\x01b:7714': the host has a space or '/'\n"
            "%s:3: log-level must be one of error, warning, notice, info, debug, not "
            "'\\x1b[31mred'\n" % (bad, bad, bad))


def test_damaged_store_says_why_and_is_left_alone():
    """(qa) A data.mdb that is not an LMDB file: -n and start-up say what LMDB
    said (not "see the daemon log", which is where it already is), exit 1,
    and the file is not touched."""
    t = tmpdir()
    data = os.path.join(t, "data")
    os.makedirs(data, mode=0o700)
    junk = bytes(range(256)) * 400
    with open(os.path.join(data, "data.mdb"), "wb") as f:
        f.write(junk)
    cfg = write(os.path.join(t, "c.conf"), "")
    rc, out, err = run_tipd("--config", cfg, "-n", "--data", data)
    eq(rc, 1)
    check("data:        %s: ERROR: --data: store does not open: the database failed: open: "
          "MDB_INVALID: File is not an LMDB file\n" % data in out, out)
    rc, out, err = run_tipd("--config", cfg, "--data", data, "--api", os.path.join(t, "s.sock"),
                            "--listen", "tcp://127.0.0.1:0", "--no-discovery")
    eq(rc, 1)
    eq(err.strip().splitlines()[-1], "tipd: error: cannot open the store in %s: the database "
       "failed: open: MDB_INVALID: File is not an LMDB file" % data)
    with open(os.path.join(data, "data.mdb"), "rb") as f:
        eq(f.read() == junk, True, "data.mdb changed")


def test_listen_on_a_foreign_address():
    """(qa) listen on an address this machine does not have: exit 1 and one
    line that says what listen takes (ZeroMQ alone says "No such device")."""
    t = tmpdir()
    cfg = write(os.path.join(t, "c.conf"), "listen = tcp://192.0.2.1:7714\n")  # TEST-NET-1
    rc, out, err = run_tipd("--config", cfg, "--data", os.path.join(t, "data"), "--api",
                            os.path.join(t, "s.sock"), "--no-discovery")
    eq(rc, 1)
    eq(err.strip().splitlines()[-1],
       "tipd: error: gossip: cannot listen on tcp://192.0.2.1:7714: Cannot assign requested "
       "address (listen takes * or an address or interface of this machine)")


def test_genkey():
    t = tmpdir()
    key = os.path.join(t, "net.key")
    rc, out, err = run_tipd("genkey", key)
    eq(rc, 0, err)
    eq(stat.S_IMODE(os.stat(key).st_mode), 0o600)
    data = open(key).read()
    eq(len(data), 65)
    check(data.endswith("\n"))
    check(all(c in "0123456789abcdef" for c in data[:64]), data)
    rc, out, err = run_tipd("genkey", key)
    check(rc != 0, "genkey must refuse to overwrite")
    eq(open(key).read(), data)
    rc, out, err = run_tipd("genkey")
    eq(rc, 2)
    eq(err, "usage: tipd genkey FILE\n")
    # two keys differ
    key2 = os.path.join(t, "net2.key")
    eq(run_tipd("genkey", key2)[0], 0)
    check(open(key2).read() != data)
    # a daemon with the key reports its network id, not "open"
    with Daemon(args=["--network-key", key]) as d:
        st = d.status()
        eq(len(st["network"]), 16)
        check(st["network"] != "open")


def test_sighup_reload():
    t = tmpdir()
    cfg = write(os.path.join(t, "tipd.conf"), "log-level = info\n")
    with Daemon(config=cfg, log_level=None) as d:
        check("debug:" not in d.log())
        write(cfg, "log-level = debug\nname = after-reload\n")
        d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reloaded configuration" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        check("reloaded configuration from %s" % cfg in d.log(), d.log())
        eq(d.status()["name"], "after-reload")
        # a bad file is reported line by line and the running config kept
        write(cfg, "log-level = debug\nname = x\nwat\nlisten = nope\n")
        d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "keeping the running one" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = d.log()
        check("%s:3: expected 'key = value'" % cfg in log, log)
        check("%s:4: 'nope' is not a tcp:// endpoint" % cfg in log, log)
        check("reload: configuration has errors; keeping the running one" in log, log)
        eq(d.status()["name"], "after-reload")
        check(d.running())
        # settings that need a restart say so (the harness sets data, api and
        # listen on the command line, which wins; network-key it does not)
        key = os.path.join(t, "net.key")
        eq(run_tipd("genkey", key)[0], 0)
        write(cfg, "network-key = %s\n" % key)
        d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "restart tipd to apply" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        check("reload: network-key changed to '%s'; restart tipd to apply it" % key in d.log(),
              d.log())
        eq(d.status()["network"], "open")


def test_journal_prefixes():
    # systemd's JOURNAL_STREAM names the device:inode of the stream on stderr;
    # the harness points stderr at tipd.log, so name that file
    d = Daemon(log_level="info", start=False)
    with d:
        open(d.logpath, "ab").close()
        st = os.stat(d.logpath)
        d.env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        d.start()
        d.stop()
        lines = [ln for ln in d.log().splitlines() if ln]
        check(lines, "no log lines")
        for ln in lines:
            check(ln[0] == "<" and ln[2] == ">" and ln[1] in "01234567", "no prefix:", ln)
        check(any(ln.startswith("<6>") and "ready" in ln for ln in lines), lines)
        check(any(ln.startswith("<5>") and "open network" in ln for ln in lines), lines)
    # an inherited JOURNAL_STREAM that is not our stderr: plain lines
    with Daemon(env={"JOURNAL_STREAM": "8:12345"}, log_level="info") as d:
        d.stop()
        check(d.log().startswith("tipd: "), d.log()[:100])


def test_sd_notify_ready_status_watchdog():
    t = tmpdir()
    path = os.path.join(t, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    with Daemon(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"}, start=False) as d:
        d.env["NOTIFY_SOCKET"] = path
        d.env["WATCHDOG_USEC"] = "400000"
        d.start()
        msgs = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum(m.count("WATCHDOG=1") for m in msgs) < 3:
            try:
                msgs.append(s.recv(4096).decode())
            except socket.timeout:
                break
        allm = "\n".join(msgs)
        check("READY=1" in allm, msgs)
        check("STATUS=0 tips, 0 peers" in allm, msgs)
        check(allm.count("WATCHDOG=1") >= 3, "watchdog pings", msgs)
        # STATUS= follows the store (refreshed every few seconds)
        r = d.api({"op": "submit", "events": [harness.mkevent("--title", "status line")]})
        eq(r["results"][0]["status"], "new")
        deadline = time.monotonic() + 20
        seen = False
        while time.monotonic() < deadline and not seen:
            try:
                seen = "STATUS=1 tips, 0 peers" in s.recv(4096).decode()
            except socket.timeout:
                break
        check(seen, "no STATUS update after a new tip")
        eq(d.stop(), 0)
        s.settimeout(2)
        rest = []
        try:
            while True:
                rest.append(s.recv(4096).decode())
        except socket.timeout:
            pass
        check(any("STOPPING=1" in m for m in rest), rest)
    s.close()


if __name__ == "__main__":
    run_tests(globals())
