"""testkit.py -- what the two Python test harnesses share.

tests/cli/harness.py (one tipd on this machine) and tests/lan/lan.py (tipd
hosts in network namespaces) both import this module: the failure and skip
types, check/eq/skip, the raw API client (docs/API.md framing) and the test
runner. Each harness adds its own daemons and its own teardown, which
run_tests calls before it exits. Stdlib only, plus Debian's python3-zmq for
the API client (a test skips, exit 77, without it).
"""

import json
import sys
import time
import traceback


class TestFailure(AssertionError):
    pass


class Skip(Exception):
    pass


def check(cond, *msg):
    """Assert with a message built from msg (any objects) on failure."""
    if not cond:
        raise TestFailure(" ".join(str(m) for m in msg) or "check failed")


def eq(got, want, *msg):
    """check(got == want) that prints both sides."""
    if got != want:
        raise TestFailure("got %r, want %r %s" % (got, want, " ".join(str(m) for m in msg)))


def skip(why):
    """Skip the whole test file (exit 77)."""
    print("SKIP: " + why, flush=True)
    sys.exit(77)


def zmq_module():
    """Debian's python3-zmq, or skip the test file without it."""
    try:
        import zmq  # noqa: PLC0415 (python3-zmq, Debian's)
    except ImportError:
        skip("python3-zmq is not installed (scripts/setup installs it)")
    return zmq


class ApiClient:
    """A raw DEALER on a tipd API socket: send/recv JSON, with timeouts.

    Several requests may be in flight (send() then recv() in order)."""

    def __init__(self, path, timeout=10.0):
        zmq = zmq_module()
        self.zmq = zmq
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
        self.sock.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
        self.sock.connect("ipc://" + path)

    def send_raw(self, data):
        """Send raw bytes as the request frame (after the empty delimiter)."""
        self.sock.send_multipart([b"", data])

    def send(self, req):
        self.send_raw(json.dumps(req).encode())

    def recv(self):
        """The next reply as a dict; raises TestFailure on timeout."""
        try:
            frames = self.sock.recv_multipart()
        except self.zmq.Again:
            raise TestFailure("no reply from tipd within the timeout")
        check(len(frames) == 2 and frames[0] == b"", "bad reply envelope", frames[:3])
        return json.loads(frames[1].decode())

    def poll(self, timeout_ms):
        """True if a reply is waiting (or arrives within timeout_ms)."""
        return bool(self.sock.poll(timeout_ms))

    def request(self, req):
        self.send(req)
        return self.recv()

    def close(self):
        self.sock.close(0)


def run_tests(ns, argv, teardown, fail_time):
    """Run every test_* function in ns (a module's globals()), in order of
    definition; or only those named in argv (None: the command line). Then
    teardown(). Exit 0 if all pass, 77 if every test skipped, 1 otherwise.
    fail_time: a FAIL line says how long the test ran, as PASS lines do."""
    argv = sys.argv[1:] if argv is None else argv
    tests = [(n, f) for n, f in ns.items() if n.startswith("test_") and callable(f)]
    if argv:
        tests = [(n, f) for n, f in tests if n in argv]
    failed, skipped = [], 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
            print("PASS %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
        except Skip as e:
            skipped += 1
            print("SKIP %s: %s" % (name, e), flush=True)
        except Exception:  # noqa: BLE001 -- report every failure and carry on
            failed.append(name)
            if fail_time:
                print("FAIL %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
            else:
                print("FAIL %s" % name, flush=True)
            traceback.print_exc()
            sys.stdout.flush()
    teardown()
    if failed:
        print("%d of %d failed: %s" % (len(failed), len(tests), ", ".join(failed)))
        sys.exit(1)
    sys.exit(77 if tests and skipped == len(tests) else 0)
