"""Static peers: with --no-discovery there is no mDNS at all (no avahi
client, not even a warning about a missing avahi-daemon), and a static peer
on loopback still links. Two tipds share one namespace host with no dbus or
avahi-daemon running; B names A with --peer.

The node key of a static peer is unknown until gossip's HELLO; the test
asserts what the peer table shows once it is known.
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
from lan import check, eq  # noqa: E402


def test_static_peer_on_loopback_without_discovery():
    with lan.Lan(1) as net:
        h = net[1]
        a = h.extra_tipd("a", ["--listen", "tcp://127.0.0.1:7714", "--no-discovery",
                               "--name", "alpha"])
        b = h.extra_tipd("b", ["--listen", "tcp://127.0.0.1:7715", "--no-discovery",
                               "--name", "beta", "--peer", "tcp://127.0.0.1:7714"])
        node_a, node_b = a.status()["node"], b.status()["node"]

        # Right away B lists A from its configuration.
        ps = b.peers()
        eq(len(ps), 1, ps)
        eq(ps[0]["source"].split("+")[0], "static", ps)
        eq(ps[0]["addr"], "127.0.0.1", ps)
        eq(ps[0]["port"], 7714, ps)

        def b_sees_a(host, peers):
            return (len(peers) == 1 and peers[0]["node"] == node_a
                    and peers[0]["state"] == "linked")
        net.wait(lambda: b_sees_a(None, b.peers()), 30, "B linked with A (node key from HELLO)")
        p = b.peers()[0]
        eq(p["name"], "alpha", p)
        eq(p["net"], "open", p)
        eq(p["net_match"], True, p)
        check("static" in p["source"].split("+"), p)
        check(p["last_seen"] is not None, p)

        # A learns B from the inbound link: listed once, linked.
        net.wait(lambda: [x["node"] for x in a.peers() if x["state"] == "linked"] == [node_b],
                 30, "A lists B as linked")

        # No mDNS anywhere: no avahi client was ever made.
        for t in (a, b):
            log = t.log()
            check("mdns discovery off" in log, t.name, "did not say discovery is off")
            check("avahi-daemon" not in log, t.name, "talked about avahi with --no-discovery")
            check("mdns: " not in log, t.name, "ran mDNS with --no-discovery")


def test_bad_static_peer_is_reported_not_fatal():
    with lan.Lan(1) as net:
        h = net[1]
        t = h.extra_tipd("a", ["--listen", "tcp://127.0.0.1:7714", "--no-discovery",
                               "--peer", "tcp://127.0.0.1:7999"])
        ps = t.peers()
        eq(len(ps), 1, ps)
        eq(ps[0]["node"], None, ps)
        eq(ps[0]["net_match"], None, ps)
        check(ps[0]["state"] in ("seen", "connecting", "down"), ps)


def test_reload_replaces_static_peers():
    with lan.Lan(1) as net:
        h = net[1]
        conf = os.path.join(h.dir, "tipd.conf")
        with open(conf, "w") as f:
            f.write("no-discovery = yes\npeer = tcp://127.0.0.1:7801\npeer = tcp://127.0.0.1:7802\n")
        t = h.extra_tipd("a", ["--listen", "tcp://127.0.0.1:7714"])
        eq(sorted(p["port"] for p in t.peers()), [7801, 7802])
        with open(conf, "w") as f:
            f.write("no-discovery = yes\npeer = tcp://127.0.0.1:7802\npeer = tcp://127.0.0.1:7803\n")
        os.kill(t.proc.pid, signal.SIGHUP)
        net.wait(lambda: sorted(p["port"] for p in t.peers()) == [7802, 7803], 20,
                 "static peers replaced after SIGHUP")
        for p in t.peers():
            eq(p["source"], "static", p)


if __name__ == "__main__":
    lan.main(globals())
