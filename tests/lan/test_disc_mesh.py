"""LAN discovery: three hosts with default flags find each other over real
mDNS; a host with two interfaces on the LAN is listed once; two hosts asking
for the same service name both publish (at least one under an
alternative name).

Every host runs its own dbus-daemon and avahi-daemon (lan.py). Tests poll the
`peers` API op with bounded deadlines and assert what the tables say, never
how fast they got there.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
from lan import TestFailure, check, eq  # noqa: E402


def _others(net, h):
    return [o for o in net.hosts if o is not h]


def _sees_all_others(net, nodes):
    """pred for wait_peers: h lists every other host exactly once by node,
    learned from mDNS on our network."""
    def pred(h, peers):
        want = {nodes[o.i] for o in _others(net, h)}
        got = [p.get("node") for p in peers if "mdns" in p.get("source", "")]
        return sorted(got) == sorted(want) and all(
            p.get("net_match") is True for p in peers if p.get("node") in want)
    return pred


def test_three_hosts_see_each_other():
    with lan.Lan(3) as net:
        net.start_all()
        nodes = {h.i: h.node() for h in net.hosts}
        eq(len(set(nodes.values())), 3, "node keys must differ", nodes)
        tables = net.wait_peers(_sees_all_others(net, nodes), "every host lists the other two")
        for h in net.hosts:
            peers = {p["node"]: p for p in tables[h.i]}
            eq(len(tables[h.i]), 2, h.name, tables[h.i])
            for o in _others(net, h):
                p = peers[nodes[o.i]]
                eq(p["name"], o.name, h.name)
                eq(p["addr"], o.addr, h.name, "IPv4 first")
                eq(p["port"], 7714, h.name)
                check("mdns" in p["source"].split("+"), h.name, p)
                eq(p["net"], "open", h.name)
                eq(p["net_match"], True, h.name)
                check(p["state"] in ("seen", "connecting", "linked"), h.name, p)
                check(p["last_seen"] and p["last_seen"].endswith("Z"), p)
            # Our own service is on the LAN too, but never in our table.
            check(nodes[h.i] not in peers, h.name, "lists itself")
        # `status` counts the table.
        for h in net.hosts:
            st = h.status()
            check(isinstance(st.get("peers"), int), st)


def test_two_interfaces_listed_once():
    with lan.Lan(3) as net:
        net.add_interface(2)
        net.start_all()
        nodes = {h.i: h.node() for h in net.hosts}
        net.wait_peers(_sees_all_others(net, nodes), "every host lists the other two")

        # host2 browses on eth0 and eth1, so it gets every peer's service
        # twice per protocol (its link-local IPv6 address shows up with both
        # scopes); it must still list each peer once. The others reach host2
        # over one interface of their own and list it once too.
        def folded(h, peers):
            if h.i != 2:
                return len(peers) == 2
            for p in peers:
                scopes = {a.rsplit("%", 1)[1] for a in p["addrs"] if "%" in a}
                if scopes != {"eth0", "eth1"}:
                    return False
            return len(peers) == 2
        tables = net.wait_peers(folded, "host2 sees each peer on both interfaces, listed once")
        for h in net.hosts:
            got = [p["node"] for p in tables[h.i]]
            eq(len(got), len(set(got)), h.name, "duplicate entries", tables[h.i])
            eq(sorted(got), sorted(nodes[o.i] for o in _others(net, h)), h.name)


def test_name_collision_gets_alternative_name():
    with lan.Lan(2) as net:
        for h in net.hosts:
            h.start_dbus()
            h.start_avahi()
        net[1].start_tipd(["--name", "office"])
        net.wait(lambda: "mdns: published 'office'" in net[1].log(), 20, "host1 publishes")
        net[2].start_tipd(["--name", "office"])
        nodes = {h.i: h.node() for h in net.hosts}
        tables = net.wait_peers(_sees_all_others(net, nodes), "both hosts list each other")
        # A host that finds "office" taken renames on the same entry group
        # to Avahi's alternative name ("office #2", then "office #3", ...).
        # Usually only the newcomer renames, but that is avahi-daemon's
        # call: if the newcomer's probe goes unanswered it announces too,
        # the established record that meets the conflicting announcement is
        # withdrawn and probes again, and both may rename. What tipd owns
        # is that each host ends published under a name of the family that
        # the log's renames explain, the two names differ, and each host
        # lists the other under the name it published last. (A table may
        # show an old name for a moment, while avahi's cache or a peer
        # exchange from before the rename still holds it.)
        def published(h):
            got = re.findall(r"mdns: published '([^']*)'", h.log())
            return got[-1] if got else None

        def settled():
            for h in net.hosts:
                tables[h.i] = h.peers()
            for h in net.hosts:
                o = _others(net, h)[0]
                t = tables[h.i]
                if len(t) != 1 or published(o) is None or t[0]["name"] != published(o):
                    return False
            return True
        try:
            net.wait(settled, 30, "each host lists the other's published name")
        except TestFailure:
            pass
        final = {h.i: published(h) for h in net.hosts}
        for h in net.hosts:
            o = _others(net, h)[0]
            eq([p["name"] for p in tables[h.i]], [final[o.i]], h.name, final, tables)
        check(final[1] != final[2], final)
        renames = {h.i: h.log().count("is taken, renaming") for h in net.hosts}
        for i, name in final.items():
            m = re.fullmatch(r"office(?: #(\d+))?", name)
            check(m is not None, name, final)
            eq(renames[i], int(m.group(1)) - 1 if m.group(1) else 0, "host%d" % i, final, renames)
        check(sum(renames.values()) >= 1, renames)


def test_simultaneous_name_collision_settles():
    with lan.Lan(2) as net:
        net.start_all(tipd_args=["--name", "office"])
        nodes = {h.i: h.node() for h in net.hosts}
        tables = net.wait_peers(_sees_all_others(net, nodes), "both hosts list each other")
        # Both probed "office" at once; whoever wins each round, both end up
        # published under names of the same family and each lists the other
        # once. (The name a peer shows may lag while an old record of the
        # other's previous name is still in avahi's cache.)
        for i in (1, 2):
            eq(len(tables[i]), 1, tables)
            n = tables[i][0]["name"]
            check(n == "office" or n.startswith("office #"), tables)
        published = [h.log().count("mdns: published 'office") for h in net.hosts]
        check(all(n >= 1 for n in published), published)


def test_cloned_node_key_is_reported():
    with lan.Lan(3) as net:
        # host2 is a clone of host1: same data directory, so the same node
        # key. host3 folds them into one peer and says why, once.
        net.start_all()
        net[2].stop_tipd()
        net[1].stop_tipd()
        shutil.copy(os.path.join(net[1].data, "node.key"), os.path.join(net[2].data, "node.key"))
        net[1].start_tipd()
        net[2].start_tipd()
        eq(net[1].node(), net[2].node())
        net.wait(lambda: "announce the same node key" in net[3].log(), 30,
                 "host3 warns about the cloned key")
        eq(net[3].log().count("announce the same node key"), 1, "warned once")
        ps = [p for p in net[3].peers() if p["node"] == net[1].node()]
        eq(len(ps), 1, ps)


if __name__ == "__main__":
    lan.main(globals())
