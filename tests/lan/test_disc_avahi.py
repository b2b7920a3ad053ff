"""LAN discovery against avahi-daemon's lifecycle: tipd started before
avahi-daemon publishes and finds peers once it comes up (after one clear
warning); avahi-daemon restarted -> our service is re-published and peers are
found again; no avahi-daemon (and no D-Bus) at all -> tipd still runs.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
from lan import check, eq  # noqa: E402


def _mesh(net, nodes, hosts=None):
    """pred: h lists exactly the other hosts by node, all from mDNS."""
    def pred(h, peers):
        want = sorted(nodes[o.i] for o in net.hosts if o is not h)
        got = sorted(p.get("node") for p in peers if "mdns" in p.get("source", ""))
        return got == want
    return pred


def test_tipd_before_avahi():
    with lan.Lan(3) as net:
        for h in net.hosts:
            h.start_dbus()
        for h in net.hosts[:2]:
            h.start_avahi()
        for h in net.hosts:
            h.start_tipd()
        nodes = {h.i: h.node() for h in net.hosts}
        late = net[3]
        # host3 has no avahi-daemon yet: it says so once and keeps serving.
        net.wait(lambda: "avahi-daemon is not running" in late.log(), 20, "host3 warning")
        eq(late.peers(), [], "host3 cannot see anyone without mDNS")
        late.start_avahi()
        net.wait_peers(_mesh(net, nodes), "all three find each other once host3's avahi is up")
        eq(late.log().count("avahi-daemon is not running"), 1, "one warning, not a stream")
        check("mdns: published 'host3'" in late.log(), "host3 published")


def test_avahi_restart():
    with lan.Lan(3) as net:
        net.start_all()
        nodes = {h.i: h.node() for h in net.hosts}
        net.wait_peers(_mesh(net, nodes), "initial mesh")
        h2 = net[2]
        before = h2.log().count("mdns: published 'host2'")
        eq(before, 1, h2.log())
        h2.restart_avahi()
        # The client is rebuilt, the service re-published, peers re-found.
        net.wait(lambda: h2.log().count("mdns: published 'host2'") == 2, 30,
                 "host2 re-published after avahi-daemon restart")
        check("lost avahi-daemon" in h2.log(), "host2 noticed the restart")
        net.wait_peers(_mesh(net, nodes), "mesh after avahi restart on host2")
        # The others saw host2's service withdrawn (goodbye) and back: it must
        # be listed once, with its current address.
        for h in (net[1], net[3]):
            ps = [p for p in h.peers() if p["node"] == nodes[2]]
            eq(len(ps), 1, h.name, ps)
            eq(ps[0]["addr"], h2.addr, h.name)


def test_no_avahi_no_dbus():
    with lan.Lan(2) as net:
        # Neither D-Bus nor avahi-daemon: avahi_client_new itself fails, so
        # tipd retries quietly after a single warning.
        for h in net.hosts:
            h.start_tipd(["--peer", "tcp://%s:7714" % net[2 if h.i == 1 else 1].addr])
        for h in net.hosts:
            net.wait(lambda h=h: "discovery waits for it" in h.log(), 20, h.name + " warning")
        time.sleep(5)  # several retry periods
        for h in net.hosts:
            eq(h.log().count("discovery waits for it"), 1, h.name, "warned once")
            ps = h.peers()
            eq(len(ps), 1, h.name, ps)
            check("static" in ps[0]["source"], ps)
        # dbus and avahi arrive later: mDNS joins in, the entry merges.
        for h in net.hosts:
            h.start_dbus()
            h.start_avahi()
        nodes = {h.i: h.node() for h in net.hosts}
        # The static entry (keyless until a HELLO) and the mDNS one are the
        # same node at the same address: one entry, both sources.
        net.wait_peers(lambda h, ps: len(ps) == 1
                       and {"mdns", "static"} <= set(ps[0]["source"].split("+"))
                       and ps[0]["node"] == nodes[2 if h.i == 1 else 1],
                       "mDNS joins the static entry once dbus and avahi are up", timeout=40)


def test_name_change_on_reload():
    with lan.Lan(2) as net:
        for h in net.hosts:
            h.start_dbus()
            h.start_avahi()
        conf = os.path.join(net[1].dir, "tipd.conf")
        with open(conf, "w") as f:
            f.write("name = alpha\n")
        # No --name on the command line, so the config file's name counts.
        a = net[1].extra_tipd("a", ["--listen", "tcp://*:7714"])
        net[2].start_tipd()
        node_a = a.status()["node"]

        def named(want):
            return lambda h, ps: [p["name"] for p in ps if p["node"] == node_a] == [want]
        net.wait_peers(named("alpha"), "host2 lists alpha", hosts=[net[2]])
        with open(conf, "w") as f:
            f.write("name = beta\n")
        os.kill(a.proc.pid, signal.SIGHUP)
        net.wait_peers(named("beta"), "host2 lists the new name after SIGHUP", hosts=[net[2]])
        check("mdns: published 'beta'" in a.log(), a.log())


if __name__ == "__main__":
    lan.main(globals())
