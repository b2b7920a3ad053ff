"""lan.py -- a LAN of namespace hosts for tipd tests.

Every host is a network namespace plugged into one Linux bridge (which lives
in its own "switch" namespace, so nothing touches the machine's real
interfaces or routing). Each host has a private mount namespace with a tmpfs
on /run, so it runs its own `dbus-daemon` (system bus at
/run/dbus/system_bus_socket) and `avahi-daemon --no-chroot --no-drop-root`:
mDNS between hosts is real multicast over the bridge. tipd runs inside the
host (nsenter into the host's net+mount namespaces) with its data directory
and API socket in a per-run directory on the real filesystem, so the test
process reaches every host's API directly and `tip` runs from outside.

    import lan
    from lan import check, eq, run_tests

    def test_three_hosts():
        with lan.Lan(3) as net:
            net.start_all()                          # dbus, avahi, tipd
            net.wait_peers(lambda h, ps: len(ps) == 2, "each sees two")

    if __name__ == "__main__":
        lan.main(globals())

Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking): host i is
198.18.0.(10+i)/24 on eth0, and 198.18.0.(110+i)/24 on a second interface
(add_interface). Names carry a per-run prefix ("tl<pid>") so parallel or
leftover runs never collide; namespaces of earlier runs whose owner process
is gone are removed at start. Everything started is recorded by pid and
stopped at exit -- on success, failure, SIGINT or SIGTERM -- and the
namespaces and bridge are deleted. TIPD_KEEP=1 keeps the run directory
(logs) for debugging.

Skips (exit 77) only when network namespaces are unavailable: not root, or
`ip netns add` fails.
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TIPD_SRC", os.path.dirname(os.path.dirname(HERE)))
BIN = os.environ.get("TIPD_BIN", os.path.join(SRC, "build", "bin"))
TIPD = os.path.join(BIN, "tipd")
TIP = os.path.join(BIN, "tip")

# check, eq, skip, the API client and the runner are shared with tests/cli.
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "common"))
from testkit import ApiClient, Skip, TestFailure, check, eq, skip  # noqa: E402,F401
from testkit import run_tests as testkit_run  # noqa: E402


def run_tests(ns, argv=None):
    """Run every test_* function of a module (or those named in argv); exit
    0 if all pass, 77 if all skipped, 1 otherwise."""
    testkit_run(ns, argv, _teardown_all, fail_time=True)


PREFIX = "tl"  # every namespace of every run starts with this
IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "ip"

_lans = []  # live Lan objects, torn down at exit whatever happens


def _run(argv, check_rc=True, timeout=30, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc and p.returncode != 0:
        raise TestFailure("%s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                  (p.stderr or p.stdout).strip()))
    return p


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _kill_pid(pid, proc=None, timeout=5.0):
    """SIGTERM, then SIGKILL after timeout; reaps proc if given."""
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                return
        elif not _pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if proc is not None:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


def _netns_list():
    p = _run([IP, "netns", "list"], check_rc=False)
    return [ln.split()[0] for ln in p.stdout.splitlines() if ln.strip()]


def _netns_delete(ns):
    """Kill every process still in ns (by pid), then delete it."""
    p = _run([IP, "netns", "pids", ns], check_rc=False)
    for tok in p.stdout.split():
        if tok.isdigit():
            try:
                os.kill(int(tok), signal.SIGKILL)
            except ProcessLookupError:
                pass
    _run([IP, "netns", "del", ns], check_rc=False)


def cleanup_stale():
    """Remove namespaces of earlier runs (tl<pid>-*) whose owner is gone."""
    for ns in _netns_list():
        if not ns.startswith(PREFIX):
            continue
        owner = ns[len(PREFIX):].split("-", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and not _pid_alive(int(owner)):
            _netns_delete(ns)


def available():
    """None if namespaces work here, else the reason they don't."""
    if os.geteuid() != 0:
        return "LAN tests need root (network namespaces)"
    for tool in ("nsenter", "unshare", "dbus-daemon", "avahi-daemon"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            return "%s is not installed (scripts/setup installs it)" % tool
    probe = "%s%d-probe" % (PREFIX, os.getpid())
    p = _run([IP, "netns", "add", probe], check_rc=False)
    if p.returncode != 0:
        return "cannot create network namespaces: %s" % p.stderr.strip()
    _run([IP, "netns", "del", probe], check_rc=False)
    return None


DBUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

AVAHI_CONF = """[server]
host-name={host}
domain-name=local
use-ipv4=yes
use-ipv6={ipv6}
allow-interfaces={ifaces}
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=no

[publish]
publish-hinfo=no
publish-workstation=no
publish-addresses=yes

[reflector]
enable-reflector=no
"""


class Host:
    """One namespace host: its own net stack, /run, dbus, avahi and tipd."""

    def __init__(self, lan, i):
        self.lan = lan
        self.i = i
        self.name = "host%d" % i
        self.ns = "%s-h%d" % (lan.pfx, i)
        self.dir = os.path.join(lan.dir, self.name)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "tipd.sock")
        self.addr = "198.18.0.%d" % (10 + i)
        self.ifaces = ["eth0"]
        self.holder = None  # Popen of the process that owns the mount ns
        self.dbus = None
        self.avahi = None
        self.tipd = None
        self.tipd_args = []
        self._client = None
        self.homes = {}
        self.extras = []
        os.makedirs(self.dir)

    # ---- plumbing ----

    def nsenter(self):
        """argv prefix that runs a command inside this host."""
        return ["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--"]

    def run(self, *argv, check_rc=True, timeout=30):
        """Run a command inside the host -> CompletedProcess (text)."""
        return _run(self.nsenter() + [str(a) for a in argv], check_rc=check_rc,
                    timeout=timeout)

    def spawn(self, argv, log, env=None):
        """Start a long-running process inside the host, output to log."""
        f = open(os.path.join(self.dir, log), "ab")
        try:
            p = subprocess.Popen(self.nsenter() + [str(a) for a in argv], stdout=f, stderr=f,
                                 stdin=subprocess.DEVNULL, env=env)
        finally:
            f.close()
        self.lan.procs.append(p)
        return p

    def runpath(self, rel):
        """Path of rel under this host's private /run, seen from outside."""
        return "/proc/%d/root/run/%s" % (self.holder.pid, rel)

    def log(self, what="tipd"):
        try:
            with open(os.path.join(self.dir, what + ".log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # ---- services ----

    def start_dbus(self):
        conf = os.path.join(self.dir, "dbus.conf")
        with open(conf, "w") as f:
            f.write(DBUS_CONF)
        self.dbus = self.spawn(["dbus-daemon", "--config-file=" + conf, "--nofork",
                                "--nopidfile"], "dbus.log")
        self.lan.wait(lambda: os.path.exists(self.runpath("dbus/system_bus_socket")),
                      10, "%s: dbus-daemon socket" % self.name,
                      alive=lambda: self.dbus.poll() is None)

    def start_avahi(self, wait=True):
        check(self.dbus is not None and self.dbus.poll() is None, "start dbus first")
        conf = os.path.join(self.dir, "avahi.conf")
        with open(conf, "w") as f:
            f.write(AVAHI_CONF.format(host=self.name, ipv6="yes" if self.lan.ipv6 else "no",
                                      ifaces=",".join(self.ifaces)))
        self.run("rm", "-f", "/run/avahi-daemon/pid", check_rc=False)
        mark = len(self.log("avahi"))
        self.avahi = self.spawn(["avahi-daemon", "-f", conf, "--no-chroot", "--no-drop-root",
                                 "--no-rlimits"], "avahi.log")
        if wait:
            self.lan.wait(lambda: "Server startup complete" in self.log("avahi")[mark:], 20,
                          "%s: avahi-daemon startup" % self.name,
                          alive=lambda: self.avahi.poll() is None)

    def stop_avahi(self):
        if self.avahi is not None:
            _kill_pid(self.avahi.pid, self.avahi)
            self.avahi = None

    def restart_avahi(self):
        self.stop_avahi()
        self.start_avahi()

    def tipd_argv(self, args=()):
        return [TIPD, "--data", self.data, "--api", self.sock, "--listen", "tcp://*:7714",
                "--name", self.name, "--log-level", "debug"] + list(args)

    def start_tipd(self, args=None, wait=True):
        """Start tipd in this host (args: extra command-line arguments, kept
        for restarts)."""
        if args is not None:
            self.tipd_args = list(args)
        conf = os.path.join(self.dir, "tipd.conf")
        if not os.path.exists(conf):
            with open(conf, "w") as f:
                f.write("# LAN test: everything is on the command line\n")
        env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "JOURNAL_STREAM", "DBUS_SYSTEM_BUS_ADDRESS"):
            env.pop(k, None)
        self._close_client()
        self.tipd = self.spawn(self.tipd_argv(["--config", conf] + self.tipd_args), "tipd.log",
                               env=env)
        if wait:
            self.wait_api()
        return self

    def wait_api(self, timeout=20):
        def ready():
            if not os.path.exists(self.sock):
                return False
            c = ApiClient(self.sock, timeout=0.5)
            try:
                c.send({"op": "status"})
                return c.poll(500) and c.recv().get("ok")
            finally:
                c.close()
        self.lan.wait(ready, timeout, "%s: tipd API" % self.name,
                      alive=lambda: self.tipd.poll() is None)

    def extra_tipd(self, tag, args, start=True):
        """Another tipd in this host (see Tipd); args is its whole set of
        options besides --data/--api/--config/--log-level."""
        t = Tipd(self, tag, args)
        self.extras.append(t)
        return t.start() if start else t

    def stop_tipd(self, sig=signal.SIGTERM):
        self._close_client()
        if self.tipd is not None:
            if sig != signal.SIGTERM and self.tipd.poll() is None:
                os.kill(self.tipd.pid, sig)
            _kill_pid(self.tipd.pid, self.tipd, timeout=20)
            self.tipd = None

    def restart_tipd(self):
        self.stop_tipd()
        return self.start_tipd()

    # ---- API and CLI ----

    def _close_client(self):
        if self._client:
            self._client.close()
            self._client = None

    def api(self, req, timeout=10.0):
        if self._client is None:
            self._client = ApiClient(self.sock, timeout)
        try:
            return self._client.request(req)
        except TestFailure:
            self._close_client()
            raise

    def peers(self):
        """The `peers` op's list (fails the test if the op fails)."""
        r = self.api({"op": "peers"})
        check(r.get("ok"), "%s: peers failed" % self.name, r)
        return r["peers"]

    def status(self):
        r = self.api({"op": "status"})
        check(r.get("ok"), "%s: status failed" % self.name, r)
        return r

    def home(self, user="default"):
        if user not in self.homes:
            h = os.path.join(self.dir, "home-" + user)
            os.makedirs(h, mode=0o700, exist_ok=True)
            self.homes[user] = h
        return self.homes[user]

    def tip(self, *args, user="default", input=None, timeout=60):
        """Run `tip ARGS` against this host's tipd -> (rc, stdout, stderr)."""
        if not os.path.exists(TIP):
            raise Skip("%s not built" % TIP)
        e = dict(os.environ)
        for k in ("NO_COLOR", "PAGER", "EDITOR"):
            e.pop(k, None)
        e["TIP_SOCKET"] = self.sock
        e["TIP_HOME"] = self.home(user)
        e["LC_ALL"] = "C.UTF-8"
        p = subprocess.run([TIP] + [str(a) for a in args], input=input, env=e,
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def tip_json(self, *args, **kw):
        rc, out, err = self.tip("--json", *args, **kw)
        check(rc == 0, "%s: tip --json %s failed (%d): %s" % (self.name, args, rc, err))
        return [json.loads(ln) for ln in out.splitlines() if ln.strip()]

    def node(self):
        """This host's node key (hex), from `status`."""
        return self.status()["node"]


class Tipd:
    """A further tipd inside a host (own data dir, API socket and log), e.g.
    a second daemon on the host's loopback. Host.extra_tipd() makes one."""

    def __init__(self, host, tag, args):
        self.host = host
        self.name = "%s-%s" % (host.name, tag)
        self.tag = tag
        self.data = os.path.join(host.dir, "data-" + tag)
        self.sock = os.path.join(host.dir, "tipd-%s.sock" % tag)
        self.args = list(args)
        self.proc = None
        self._client = None

    def start(self, wait=True):
        argv = [TIPD, "--data", self.data, "--api", self.sock, "--config",
                os.path.join(self.host.dir, "tipd.conf"), "--log-level", "debug"] + self.args
        with open(os.path.join(self.host.dir, "tipd.conf"), "a"):
            pass
        self.proc = self.host.spawn(argv, "tipd-%s.log" % self.tag)
        if wait:
            self.host.lan.wait(lambda: _api_ready(self.sock), 20, self.name + " API",
                               alive=lambda: self.proc.poll() is None)
        return self

    def stop(self):
        if self._client:
            self._client.close()
            self._client = None
        if self.proc is not None:
            _kill_pid(self.proc.pid, self.proc, timeout=20)
            self.proc = None

    def api(self, req, timeout=10.0):
        if self._client is None:
            self._client = ApiClient(self.sock, timeout)
        try:
            return self._client.request(req)
        except TestFailure:
            self._client.close()
            self._client = None
            raise

    def peers(self):
        r = self.api({"op": "peers"})
        check(r.get("ok"), "%s: peers failed" % self.name, r)
        return r["peers"]

    def status(self):
        r = self.api({"op": "status"})
        check(r.get("ok"), "%s: status failed" % self.name, r)
        return r

    def log(self):
        return self.host.log("tipd-" + self.tag)


def _api_ready(sock):
    if not os.path.exists(sock):
        return False
    c = ApiClient(sock, timeout=0.5)
    try:
        c.send({"op": "status"})
        return c.poll(500) and c.recv().get("ok")
    finally:
        c.close()


class Lan:
    """N hosts on one bridge. Use as a context manager; see the module doc."""

    def __init__(self, n=3, ipv6=True, need_tipd=True):
        why = available()
        if why:
            skip(why)
        if need_tipd and not os.path.exists(TIPD):
            skip("%s not built" % TIPD)
        cleanup_stale()
        _created[0] += 1
        self.pfx = "%s%d-%d" % (PREFIX, os.getpid(), _created[0])
        self.sw = self.pfx + "-sw"
        self.ipv6 = ipv6
        self.dir = tempfile.mkdtemp(prefix="tipd-lan-")
        self.procs = []  # every Popen we started, killed by pid at teardown
        self.hosts = []
        self.namespaces = []
        self.closed = False
        _lans.append(self)
        try:
            self._netns_add(self.sw)
            sw = [IP, "-n", self.sw]
            _run(sw + ["link", "set", "lo", "up"])
            _run(sw + ["link", "add", "br0", "type", "bridge"])
            # mDNS must be flooded even without an IGMP querier.
            _run(sw + ["link", "set", "br0", "type", "bridge", "mcast_snooping", "0"],
                 check_rc=False)
            _run(sw + ["link", "set", "br0", "up"])
            for i in range(1, n + 1):
                self.add_host(i)
        except BaseException:
            self.close()
            raise

    def _netns_add(self, ns):
        _run([IP, "netns", "add", ns])
        self.namespaces.append(ns)

    def _veth(self, h, ifname, swname, addr):
        """A cable from host h's ifname to the switch port swname."""
        _run([IP, "-n", self.sw, "link", "add", swname, "type", "veth", "peer", "name", ifname,
              "netns", h.ns])
        _run([IP, "-n", self.sw, "link", "set", swname, "master", "br0"])
        _run([IP, "-n", self.sw, "link", "set", swname, "up"])
        _run([IP, "-n", h.ns, "addr", "add", addr + "/24", "dev", ifname])
        _run([IP, "-n", h.ns, "link", "set", ifname, "up"])

    def add_host(self, i):
        h = Host(self, i)
        self._netns_add(h.ns)
        _run([IP, "-n", h.ns, "link", "set", "lo", "up"])
        self._veth(h, "eth0", "h%de0" % i, h.addr)
        # The holder owns the host's private mount namespace (tmpfs /run);
        # everything else in the host joins it with nsenter.
        script = ("mount -t tmpfs -o mode=0755 tipd-lan /run && "
                  "mkdir -p /run/dbus /run/avahi-daemon /run/tipd && exec sleep 86400")
        f = open(os.path.join(h.dir, "holder.log"), "ab")
        h.holder = subprocess.Popen(["nsenter", "--net=/run/netns/" + h.ns, "unshare",
                                     "--mount", "--propagation", "private", "sh", "-c", script],
                                    stdout=f, stderr=f, stdin=subprocess.DEVNULL)
        f.close()
        self.procs.append(h.holder)
        self.wait(lambda: os.path.isdir("/proc/%d/root/run/dbus" % h.holder.pid)
                  and _mounted_tmpfs(h.holder.pid), 10, "%s: private /run" % h.name,
                  alive=lambda: h.holder.poll() is None)
        self.hosts.append(h)
        return h

    def host(self, i):
        return self.hosts[i - 1]

    def __getitem__(self, i):
        return self.hosts[i - 1]

    # ---- topology changes ----

    def add_interface(self, i):
        """Give host i a second cable to the same bridge (eth1,
        198.18.0.(110+i)). Restart its avahi-daemon afterwards to use it."""
        h = self.host(i)
        self._veth(h, "eth1", "h%de1" % i, "198.18.0.%d" % (110 + i))
        h.ifaces.append("eth1")

    def unplug(self, i, iface=0):
        """Pull host i's cable: the switch port goes down, the host loses
        carrier."""
        _run([IP, "-n", self.sw, "link", "set", "h%de%d" % (i, iface), "down"])

    def plug(self, i, iface=0):
        _run([IP, "-n", self.sw, "link", "set", "h%de%d" % (i, iface), "up"])

    # ---- starting everything ----

    def start_all(self, tipd_args=None, avahi=True):
        """dbus + avahi-daemon (unless avahi=False) + tipd on every host.
        tipd_args: list for all hosts, or dict host-number -> list."""
        for h in self.hosts:
            h.start_dbus()
        if avahi:
            for h in self.hosts:
                h.start_avahi(wait=False)
            for h in self.hosts:
                self.wait(lambda h=h: "Server startup complete" in h.log("avahi"), 20,
                          "%s: avahi-daemon startup" % h.name,
                          alive=lambda h=h: h.avahi.poll() is None)
        for h in self.hosts:
            a = tipd_args.get(h.i, []) if isinstance(tipd_args, dict) else (tipd_args or [])
            h.start_tipd(a, wait=False)
        for h in self.hosts:
            h.wait_api()

    # ---- waiting ----

    def wait(self, cond, timeout, what, alive=None, interval=0.1):
        """Poll cond() until true; fail with what (and logs) after timeout or
        as soon as alive() says the process we wait on died."""
        deadline = time.monotonic() + timeout
        last_exc = None
        while True:
            try:
                if cond():
                    return
            except TestFailure as e:
                last_exc = e
            if alive is not None and not alive():
                raise TestFailure("%s: process exited\n%s" % (what, self.logs()))
            if time.monotonic() >= deadline:
                raise TestFailure("timed out after %.0fs waiting for %s%s\n%s" % (
                    timeout, what, (" (last error: %s)" % last_exc) if last_exc else "",
                    self.logs()))
            time.sleep(interval)

    def wait_peers(self, pred, what, timeout=30, hosts=None):
        """Wait until pred(host, peers_list) holds on every host (or those
        given) -> {host number: peers list} at that moment."""
        hosts = hosts or self.hosts
        last = {}

        def ok():
            for h in hosts:
                last[h.i] = h.peers()
            return all(pred(h, last[h.i]) for h in hosts)
        try:
            self.wait(ok, timeout, what)
        except TestFailure as e:
            raise TestFailure("%s\nlast peer tables: %s" % (e, json.dumps(last, indent=1)))
        return last

    def sanitizer_reports(self):
        """Lines of ASan/UBSan/LSan reports in any tipd log of this run."""
        bad = []
        for h in self.hosts:
            for fn in sorted(os.listdir(h.dir)):
                if fn.startswith("tipd") and fn.endswith(".log"):
                    t = h.log(fn[:-4])
                    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                   "runtime error:"):
                        if marker in t:
                            i = t.index(marker)
                            bad.append("%s/%s: %s" % (h.name, fn, t[max(0, i - 200):i + 2500]))
        return bad

    def logs(self, tail=3000):
        out = []
        for h in self.hosts:
            for what in ["tipd", "avahi"] + ["tipd-" + t.tag for t in h.extras]:
                t = h.log(what)
                if t:
                    out.append("---- %s %s.log ----\n%s" % (h.name, what, t[-tail:]))
        return "\n".join(out)

    # ---- teardown ----

    def close(self, remove_dir=True):
        if self.closed:
            return
        self.closed = True
        for h in self.hosts:
            h._close_client()
            for t in h.extras:
                if t._client:
                    t._client.close()
                    t._client = None
        # tipd first (so it can unpublish), then avahi, dbus, holders.
        for p in sorted(self.procs, key=lambda p: 0 if TIPD in p.args else 1):
            if p.poll() is None:
                _kill_pid(p.pid, p, timeout=20 if TIPD in p.args else 5)
        for ns in reversed(self.namespaces):
            _netns_delete(ns)
        if remove_dir:
            self._remove_dir()
        if self in _lans:
            _lans.remove(self)

    def _remove_dir(self):
        if not os.environ.get("TIPD_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        elif os.path.isdir(self.dir):
            sys.stderr.write("lan: kept %s\n" % self.dir)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None and not isinstance(ev, Skip):
            sys.stderr.write(self.logs(6000) + "\n")
        self.close(remove_dir=False)  # logs are read after the daemons exit
        bad = self.sanitizer_reports()
        self._remove_dir()
        if bad and et is None:
            raise TestFailure("sanitizer reports in tipd logs:\n" + "\n".join(bad))
        return False


_created = [0]  # Lans made by this process, for unique names


def _mounted_tmpfs(pid):
    try:
        with open("/proc/%d/mounts" % pid) as f:
            return any(ln.split()[1] == "/run" and ln.split()[2] == "tmpfs" for ln in f)
    except OSError:
        return False


def _teardown_all():
    for net in list(_lans):
        try:
            net.close()
        except Exception as e:  # noqa: BLE001 -- keep tearing down the rest
            sys.stderr.write("lan: teardown error: %s\n" % e)


def _on_signal(sig, frame):
    _teardown_all()
    sys.exit(128 + sig)


atexit.register(_teardown_all)
for _s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_s, _on_signal)


def main(ns):
    """Entry point of a LAN test file: skip if namespaces are unavailable,
    else run its test_* functions (run_tests)."""
    why = available()
    if why:
        skip(why)
    if not os.path.exists(TIPD):
        skip("%s not built" % TIPD)
    run_tests(ns)


def node_of(peer):
    return peer.get("node")


def by_name(peers):
    return {p.get("name"): p for p in peers}
