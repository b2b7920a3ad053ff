"""Static peers and network keys: a static peer of another network cannot
complete the CURVE handshake (its listener key is derived from another
network key), so the dialer sees a ZeroMQ handshake failure, never a REJECT.
It must still show as foreign (net_match false, net unknown), never link,
and link as soon as both sides hold the same key. Two tipds on one host's
loopback, --no-discovery, B names A with --peer.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
from lan import check, eq  # noqa: E402


def _keys(net, *names):
    out = []
    for k in names:
        path = os.path.join(net.dir, "net-%s.key" % k)
        if not os.path.exists(path):
            lan._run([lan.TIPD, "genkey", path])
        out.append(path)
    return out


A_ARGS = ["--listen", "tcp://127.0.0.1:7714", "--no-discovery", "--name", "alpha"]
B_ARGS = ["--listen", "tcp://127.0.0.1:7715", "--no-discovery", "--name", "beta",
          "--peer", "tcp://127.0.0.1:7714"]


def _add_tip(t, title):
    """`tip add` against the extra tipd t (its own API socket)."""
    home = t.host.home("writer")
    env = dict(os.environ, TIP_SOCKET=t.sock, TIP_HOME=home, LC_ALL="C.UTF-8",
               XDG_STATE_HOME=os.path.join(home, "state"))  # tip's drafts
    p = subprocess.run([lan.TIP, "add", "--title", title, "body of " + title], env=env,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "tip add failed", p.returncode, p.stderr)


def _tip_json(t, *args):
    """`tip --json ARGS` against the extra tipd t -> list of objects."""
    env = dict(os.environ, TIP_SOCKET=t.sock, TIP_HOME=t.host.home("reader"), LC_ALL="C.UTF-8")
    p = subprocess.run([lan.TIP, "--json"] + list(args), env=env, capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0, "tip --json failed", args, p.returncode, p.stderr)
    return [json.loads(ln) for ln in p.stdout.splitlines() if ln.strip()]


def test_static_peer_with_another_key_is_foreign():
    with lan.Lan(1) as net:
        h = net[1]
        k1, k2 = _keys(net, "one", "two")
        a = h.extra_tipd("a", A_ARGS + ["--network-key", k1])
        # A second static peer where nothing listens: never foreign.
        b = h.extra_tipd("b", B_ARGS + ["--network-key", k2, "--peer", "tcp://127.0.0.1:7799"])
        check(a.status()["network"] != b.status()["network"])

        def by_port(ps):
            return {p["port"]: p for p in ps}

        def b_foreign():
            ps = by_port(_tip_json(b, "peers"))
            return sorted(ps) == [7714, 7799] and ps[7714]["state"] == "foreign"
        net.wait(b_foreign, 30, "tip peers on B shows its static peer A as foreign")
        p = by_port(_tip_json(b, "peers"))[7714]
        eq(p["net_match"], False, p)
        eq(p["net"], None, p)       # nothing A said could be read
        eq(p["node"], None, p)
        eq(p["source"], "static", p)
        eq(p["endpoint"], "tcp://127.0.0.1:7714", p)
        check("another network key" in b.log(), "B did not log the key mismatch")

        # It stays foreign through re-checks, the empty port never becomes
        # foreign, and nothing crosses.
        _add_tip(a, "only on alpha")
        _add_tip(b, "only on beta")
        ev_a, ev_b = a.status()["events"], b.status()["events"]
        check(ev_a >= 1 and ev_b >= 1, ev_a, ev_b)
        for _ in range(16):
            ps = by_port(b.peers())
            eq(sorted(ps), [7714, 7799], ps)
            eq((ps[7714]["state"], ps[7714]["net_match"]), ("foreign", False), ps)
            check(ps[7799]["state"] in ("seen", "connecting"), ps)
            eq(ps[7799]["net_match"], None, ps)
            eq(a.peers(), [])
            time.sleep(0.5)
        # B re-checks (dials A again) and A is still foreign after it.
        net.wait(lambda: b.log().count("dialing tcp://127.0.0.1:7714") >= 2, 30,
                 "B re-dials its foreign static peer")
        net.wait(lambda: b.log().count("CURVE handshake failed: another network key") >= 2, 30,
                 "the re-dial fails in the CURVE handshake too")
        ps = by_port(b.peers())
        eq((ps[7714]["state"], ps[7714]["net_match"], ps[7714]["net"]), ("foreign", False, None),
           ps)
        eq(a.status()["events"], ev_a)
        eq(b.status()["events"], ev_b)
        eq(b.log().count("listens with another network key"), 1, "logged once")


def test_same_key_links_and_a_fixed_key_links():
    with lan.Lan(1) as net:
        h = net[1]
        k1, k2 = _keys(net, "one", "two")
        # Equal keys: linked.
        a = h.extra_tipd("a", A_ARGS + ["--network-key", k1])
        b = h.extra_tipd("b", B_ARGS + ["--network-key", k1])
        node_a = a.status()["node"]

        def b_linked():
            ps = b.peers()
            return len(ps) == 1 and ps[0]["state"] == "linked" and ps[0]["node"] == node_a
        net.wait(b_linked, 30, "B linked with A (same key)")
        p = b.peers()[0]
        eq(p["net_match"], True, p)
        eq(p["net"], a.status()["network"], p)

        # A moves to another key (restart): B sees it foreign.
        a.stop()
        a.args = A_ARGS + ["--network-key", k2]
        a.start()
        net.wait(lambda: b.peers()[0]["state"] == "foreign", 60,
                 "B shows A foreign after A took another key")
        eq(b.peers()[0]["net_match"], False, b.peers())

        # IT fixes it: A back on B's key. B's periodic re-check links.
        a.stop()
        a.args = A_ARGS + ["--network-key", k1]
        a.start()
        net.wait(b_linked, 90, "B linked with A again once both hold the same key")
        p = b.peers()[0]
        eq(p["net_match"], True, p)
        eq(p["net"], a.status()["network"], p)


if __name__ == "__main__":
    lan.main(globals())
