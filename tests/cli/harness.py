"""harness.py -- drive the real tipd and tip binaries from Python tests.

Stdlib only, plus python3-zmq (Debian's) for raw API requests. Binaries come
from $TIPD_BIN (ctest sets it to build/bin), else <repo>/build/bin.

    import harness
    from harness import Daemon, check, run_tests

    def test_add_and_search():
        with Daemon() as d:
            rc, out, err = d.tip("add", "--title", "Undo a commit", "git reset HEAD~")
            check(rc == 0, err)
            st = d.api({"op": "status"})
            check(st["tips"] == 1, st)

    if __name__ == "__main__":
        run_tests(globals())

Every Daemon runs on its own temporary directory (data dir, API socket, tip
homes, its stderr in tipd.log) with --no-discovery and a loopback listen port,
and is stopped by pid when the `with` block ends (or at exit). Exit code 77
means "skipped" to ctest: use harness.skip("why").
"""

import atexit
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TIPD_SRC", os.path.dirname(os.path.dirname(HERE)))
BIN = os.environ.get("TIPD_BIN", os.path.join(SRC, "build", "bin"))
TIPD = os.path.join(BIN, "tipd")
TIP = os.path.join(BIN, "tip")
TESTS_BIN = os.path.join(os.path.dirname(BIN), "tests")  # helper executables
DATA = os.environ.get("TIPD_TEST_DATA", os.path.join(SRC, "tests", "data"))
CORPUS_DIR = "/work/shared/corpus"

# check, eq, skip, the API client and the runner are shared with tests/lan.
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "common"))
from testkit import ApiClient, Skip, TestFailure, check, eq, skip  # noqa: E402,F401
from testkit import run_tests as testkit_run  # noqa: E402
from testkit import zmq_module as _zmq  # noqa: E402,F401

_live = []  # Daemons not yet stopped, killed at exit whatever happens


def need_binary(path):
    if not os.path.exists(path):
        skip("%s not built" % path)


def need_hooks():
    """Skip unless tipd was built with the test-only hooks (Debug with tests:
    TIPD_TEST_READ_DELAY, TIPD_TEST_COMMIT_DELAY)."""
    cache = os.path.join(os.path.dirname(BIN), "CMakeCache.txt")
    try:
        with open(cache) as f:
            text = f.read()
    except OSError:
        skip("no CMakeCache.txt next to %s: cannot tell if test hooks are built" % BIN)
    if "CMAKE_BUILD_TYPE:STRING=Debug" not in text or "TIPD_TESTS:BOOL=ON" not in text:
        skip("tipd was not built with test hooks (Debug build with tests)")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    """One tipd on a private temporary directory.

    args: extra command-line arguments. The defaults are --data, --api,
    --listen tcp://127.0.0.1:<free port>, --no-discovery, --config <empty
    file> (so /etc/tipd/tipd.conf never leaks in) and --log-level debug;
    pass config=None to drop --config, discovery=True to drop
    --no-discovery."""

    def __init__(self, args=(), env=None, start=True, discovery=False, config="", tmp=None,
                 listen=None, log_level="debug"):
        self.tmp = tmp or tempfile.mkdtemp(prefix="tipd-test-")
        self.owns_tmp = tmp is None
        self.data = os.path.join(self.tmp, "data")
        self.sock = os.path.join(self.tmp, "tipd.sock")
        self.logpath = os.path.join(self.tmp, "tipd.log")
        self.port = free_port()
        self.listen = listen or "tcp://127.0.0.1:%d" % self.port
        self.extra = list(args)
        self.discovery = discovery
        self.log_level = log_level
        if config == "":
            config = os.path.join(self.tmp, "tipd.conf")
            with open(config, "w") as f:
                f.write("# empty: tests pass everything on the command line\n")
        self.config = config
        self.env = dict(os.environ)
        self.env.pop("NOTIFY_SOCKET", None)
        self.env.pop("WATCHDOG_USEC", None)
        self.env.pop("JOURNAL_STREAM", None)
        if env:
            self.env.update(env)
        self.proc = None
        self._client = None
        self.homes = {}
        if start:
            self.start()

    # ---- lifecycle ----

    def argv(self):
        a = [TIPD, "--data", self.data, "--api", self.sock, "--listen", self.listen]
        if self.config:
            a += ["--config", self.config]
        if not self.discovery:
            a.append("--no-discovery")
        if self.log_level:
            a += ["--log-level", self.log_level]
        return a + self.extra

    def start(self, wait=True, timeout=20.0):
        """Start tipd and (if wait) block until the API answers `status`."""
        need_binary(TIPD)
        check(self.proc is None or self.proc.poll() is not None, "tipd already running")
        self._close_client()
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=log, env=self.env,
                                     stdin=subprocess.DEVNULL)
        log.close()
        if self not in _live:
            _live.append(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=20.0):
        """Poll `status` until it answers; fail if tipd exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise TestFailure("tipd exited with %d before answering:\n%s" % (rc, self.log()))
            if os.path.exists(self.sock):
                c = ApiClient(self.sock, timeout=0.5)
                try:
                    c.send({"op": "status"})
                    if c.poll(500):
                        r = c.recv()
                        if r.get("ok"):
                            return r
                finally:
                    c.close()
            time.sleep(0.05)
        raise TestFailure("tipd did not answer within %.0fs:\n%s" % (timeout, self.log()))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            os.kill(self.proc.pid, sig)

    def stop(self, sig=None, timeout=20.0):
        """Send sig and wait for exit; returns the exit code (negative = signal)."""
        # default resolved here: in the class body `signal` is the
        # method above, so `sig=signal.SIGTERM` raised AttributeError at import.
        if sig is None:
            sig = signal.SIGTERM
        self._close_client()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise TestFailure("tipd did not exit within %.0fs of signal %d" % (timeout, sig))
        return self.proc.returncode

    def kill9(self):
        """SIGKILL: no chance to flush anything."""
        return self.stop(signal.SIGKILL)

    def restart(self, wait=True):
        self.stop()
        return self.start(wait=wait)

    def cleanup(self):
        try:
            if self.running():
                self.kill9()
        finally:
            self._close_client()
            if self in _live:
                _live.remove(self)
            if self.owns_tmp and not os.environ.get("TIPD_KEEP"):
                shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None and not isinstance(ev, Skip):
            sys.stderr.write("---- tipd log (%s) ----\n%s\n" % (self.logpath, self.log()[-6000:]))
        self.cleanup()
        return False

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # ---- API ----

    def client(self, timeout=10.0):
        """A new raw API client (caller closes it)."""
        return ApiClient(self.sock, timeout)

    def _close_client(self):
        if self._client:
            self._client.close()
            self._client = None

    def api(self, req, timeout=10.0):
        """One request (dict, or bytes sent as-is) -> the reply dict."""
        if self._client is None:
            self._client = ApiClient(self.sock, timeout)
        if isinstance(req, (bytes, bytearray)):
            self._client.send_raw(bytes(req))
        else:
            self._client.send(req)
        try:
            return self._client.recv()
        except TestFailure:
            self._close_client()  # a lost reply would desynchronise the next one
            raise

    def status(self):
        r = self.api({"op": "status"})
        check(r.get("ok"), "status failed", r)
        return r

    # ---- the tip CLI ----

    def home(self, name="default"):
        """A TIP_HOME directory for one simulated user."""
        if name not in self.homes:
            h = os.path.join(self.tmp, "home-" + name)
            os.makedirs(h, mode=0o700, exist_ok=True)
            self.homes[name] = h
        return self.homes[name]

    def tip(self, *args, home="default", input=None, env=None, timeout=120, socket_path=None):
        """Run `tip ARGS` against this daemon -> (rc, stdout, stderr) as text.

        home: a name (see home()) or a path; input: text for stdin."""
        need_binary(TIP)
        e = dict(os.environ)
        for k in ("NO_COLOR", "PAGER", "EDITOR", "TIP_SOCKET", "TIP_HOME", "XDG_STATE_HOME"):
            e.pop(k, None)
        e["TIP_SOCKET"] = socket_path or self.sock
        e["TIP_HOME"] = home if os.path.isabs(home) else self.home(home)
        e["XDG_STATE_HOME"] = os.path.join(e["TIP_HOME"], "state")  # drafts
        e["LC_ALL"] = "C.UTF-8"
        if env:
            e.update(env)
        p = subprocess.run([TIP] + [str(a) for a in args], input=input, env=e,
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def tip_json(self, *args, **kw):
        """`tip --json ARGS`: parsed output (a list for one-object-per-line)."""
        rc, out, err = self.tip("--json", *args, **kw)
        check(rc == 0, "tip --json", args, "failed:", rc, err)
        lines = [ln for ln in out.splitlines() if ln.strip()]
        return [json.loads(ln) for ln in lines]


def run_tipd(*args, env=None, timeout=30, input=None):
    """Run tipd with args (e.g. -n, genkey, --help) -> (rc, stdout, stderr)."""
    need_binary(TIPD)
    e = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "JOURNAL_STREAM"):
        e.pop(k, None)
    if env:
        e.update(env)
    p = subprocess.run([TIPD] + [str(a) for a in args], capture_output=True, text=True,
                       env=e, timeout=timeout, input=input)
    return p.returncode, p.stdout, p.stderr


def tool(name):
    """Path of a helper executable from tests/tools (built into build/tests)."""
    p = os.path.join(TESTS_BIN, name)
    need_binary(p)
    return p


def mkevent(*args, home=None):
    """Signed event bytes from tests/tools/mkevent (see its --help)."""
    a = [tool("tipd-mkevent")]
    if home:
        a += ["--home", home]
    p = subprocess.run(a + [str(x) for x in args], capture_output=True, timeout=30)
    check(p.returncode == 0, "mkevent failed:", p.stderr.decode(errors="replace"))
    return p.stdout.decode().strip()


def pty_run(argv, env, typed="", winsize=None, timeout=30):
    """Run argv with stdin/stdout/stderr on a fresh pty, typing `typed` first
    -> (exit code, output bytes). winsize (rows, cols) sets the terminal size
    (None: the pty's default). A run past timeout is killed and fails."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    if winsize:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", winsize[0], winsize[1], 0, 0))
    if typed:
        os.write(fd, typed.encode())
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        else:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                os.close(fd)
                return os.waitstatus_to_exitcode(status), out
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
        raise TestFailure("tip under a pty did not finish: %r" % out[-500:])
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def run_tests(ns, argv=None):
    """Run every test_* function in ns (a module's globals()), in order of
    definition; or only those named on the command line. Exit 0 if all pass,
    77 if every test skipped, 1 otherwise."""
    testkit_run(ns, argv, _kill_all, fail_time=False)


def _kill_all():
    for d in list(_live):
        try:
            d.cleanup()
        except Exception:  # noqa: BLE001
            pass


atexit.register(_kill_all)
