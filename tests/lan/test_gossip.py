"""LAN gossip: live spread, partition and heal, network-key isolation.

Real daemons on namespace hosts with real avahi-daemons (lan.py). Each test
waits with bounded deadlines and then asserts exact outcomes: which ids each
host holds (computed from the exported bytes, not from the daemon's word),
which peers are linked or foreign. Nothing here measures time.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
from lan import check, eq  # noqa: E402
from gossip_util import add_tip, ids, linked, search_ids  # noqa: E402


def _wait_linked(net, n_each, hosts=None, timeout=30):
    return net.wait_peers(lambda h, ps: len(linked(ps)) == n_each,
                          "every host linked with %d peer(s)" % n_each, timeout=timeout,
                          hosts=hosts)


def test_add_spreads_to_all():
    """A tip added on host 1 becomes searchable on hosts 2 and 3."""
    with lan.Lan(3) as net:
        net.start_all()
        _wait_linked(net, 2)
        tid = add_tip(net[1], "Rotate the office printer toner",
                      "Open the front panel, pull the blue lever, slide the cartridge out.",
                      topics=["printer"])
        for h in (net[2], net[3]):
            net.wait(lambda h=h: any(i.startswith(tid) for i in search_ids(h, "printer toner")),
                     20, "%s: the tip is searchable" % h.name)
        full = [i for i in ids(net[1]) if i.startswith(tid)]
        eq(len(full), 1, "one id with that prefix on host1")
        for h in net.hosts:
            check(full[0] in ids(h), h.name, "holds the tip")
        # status counts linked peers.
        for h in net.hosts:
            eq(h.status()["peers"], 2, h.name)


def test_partition_and_heal():
    """Host 3 loses its cable; both sides write; after replugging every host
    holds the same set of ids, which is the union of what was written."""
    with lan.Lan(3) as net:
        net.start_all()
        _wait_linked(net, 2)
        n3 = net[3].node()
        base = add_tip(net[1], "Before the split", "written while all three are linked")
        net.wait(lambda: all(any(i.startswith(base) for i in ids(h)) for h in net.hosts), 20,
                 "the first tip everywhere")
        net.unplug(3)
        net.wait_peers(lambda h, ps: any(p.get("node") == n3 and p.get("state") == "down"
                                         for p in ps),
                       "hosts 1 and 2 mark host3 down", timeout=30, hosts=[net[1], net[2]])
        left = [add_tip(net[1], "Left side %d" % i) for i in range(3)]
        left.append(add_tip(net[2], "Left side from host2"))
        right = [add_tip(net[3], "Right side %d" % i) for i in range(4)]
        # While cut off, nothing crosses.
        s3 = ids(net[3])
        for t in left:
            check(not any(i.startswith(t) for i in s3), "host3 got", t, "through a pulled cable")
        net.plug(3)
        want = ids(net[1]) | ids(net[3])
        net.wait(lambda: all(ids(h) == want for h in net.hosts), 60,
                 "all hosts hold the union after healing")
        for t in left + right + [base]:
            eq(len([i for i in want if i.startswith(t)]), 1, "id", t, "in the union")
        _wait_linked(net, 2)


def test_network_key_isolation():
    """Hosts 1 and 2 share a network key, host 3 has another: 1 and 2 link
    and replicate, host 3 is listed as foreign by both and nothing crosses
    either way."""
    with lan.Lan(3) as net:
        keys = {}
        for i, name in ((1, "k1"), (2, "k1"), (3, "k3")):
            path = os.path.join(net.dir, name + ".key")
            if not os.path.exists(path):
                lan._run([lan.TIPD, "genkey", path])
            keys[i] = ["--network-key", path]
        net.start_all(tipd_args=keys)
        nodes = {h.i: h.node() for h in net.hosts}
        net.wait_peers(lambda h, ps: any(p.get("node") == nodes[2 if h.i == 1 else 1]
                                         and p.get("state") == "linked" for p in ps),
                       "hosts 1 and 2 linked", hosts=[net[1], net[2]])
        net.wait_peers(lambda h, ps: any(p.get("node") == nodes[3] and p.get("state") == "foreign"
                                         for p in ps),
                       "hosts 1 and 2 list host3 as foreign", hosts=[net[1], net[2]])
        a = add_tip(net[1], "Members only: the VPN profile lives on the intranet")
        b = add_tip(net[3], "Other network: their coffee machine")
        net.wait(lambda: any(i.startswith(a) for i in ids(net[2])), 20, "host2 gets host1's tip")
        # Give a leak every chance: a reconciliation period's worth of links and
        # retries, then check exact sets.
        import time
        time.sleep(5)
        s1, s2, s3 = ids(net[1]), ids(net[2]), ids(net[3])
        eq(s1, s2, "hosts 1 and 2 hold the same set")
        check(not any(i.startswith(b) for i in s1 | s2), "host3's tip leaked into network 1")
        check(not any(i.startswith(a) for i in s3), "network 1's tip leaked to host3")
        eq(len(s3), 1, "host3 holds only its own tip")
        for h in (net[1], net[2]):
            p3 = [p for p in h.peers() if p.get("node") == nodes[3]]
            eq(len(p3), 1, h.name)
            eq(p3[0]["state"], "foreign", h.name)
            eq(p3[0]["net_match"], False, h.name)
        for p in net[3].peers():
            check(p.get("state") != "linked", "host3 linked with", p)


def test_peer_exchange_bridges_static_peers():
    """No mDNS: hosts 2 and 3 only know host 1 (--peer). Peer exchange
    through host 1 links them to each other, and a tip from host 2 reaches
    host 3 directly or through host 1."""
    with lan.Lan(3) as net:
        h1 = "tcp://%s:7714" % net[1].addr
        net.start_all(tipd_args={1: ["--no-discovery"],
                                 2: ["--no-discovery", "--peer", h1],
                                 3: ["--no-discovery", "--peer", h1]}, avahi=False)
        nodes = {h.i: h.node() for h in net.hosts}
        tables = _wait_linked(net, 2)
        for a, b in ((2, 3), (3, 2)):
            p = [x for x in tables[a] if x.get("node") == nodes[b]]
            eq(len(p), 1, "host%d lists host%d once" % (a, b), tables[a])
            check("pex" in p[0]["source"], "host%d learned host%d by peer exchange" % (a, b), p)
            eq(p[0]["addr"], net[b].addr, p)
        tid = add_tip(net[2], "Bridged by peer exchange")
        net.wait(lambda: any(i.startswith(tid) for i in ids(net[3])), 20, "host3 gets it")


def test_retraction_is_not_resurrected():
    """Host 3 holds a tip and goes offline; its author retracts it on host 1.
    When host 3 comes back, reconciliation brings it the retraction, and its
    copy of the tip does not flow back to hosts 1 and 2: afterwards no host
    exports the tip and all hold the same set."""
    with lan.Lan(3) as net:
        net.start_all()
        _wait_linked(net, 2)
        tid = add_tip(net[1], "Soon withdrawn: wrong VPN instructions")
        net.wait(lambda: all(any(i.startswith(tid) for i in ids(h)) for h in net.hosts), 20,
                 "the tip everywhere")
        full = [i for i in ids(net[1]) if i.startswith(tid)][0]
        net[3].stop_tipd()
        rc, out, err = net[1].tip("retract", full)
        eq(rc, 0, "tip retract", out, err)
        net.wait(lambda: full not in ids(net[2]), 20, "host2 drops the retracted tip")
        net[3].start_tipd()
        net.wait(lambda: full not in ids(net[3]), 60, "host3 gets the retraction")
        net.wait(lambda: ids(net[1]) == ids(net[2]) == ids(net[3]), 30, "same sets")
        for h in net.hosts:
            check(full not in ids(h), h.name, "exports the retracted tip")


if __name__ == "__main__":
    lan.main(globals())
