"""A host's cable pulled (its switch port down): the others mark it down;
plugged back in, it is linked again. mDNS alone does not notice a silent
host for minutes (record TTLs), so "down" comes from gossip's heartbeats on
the link, written into the same peer table discovery fills.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
from lan import eq  # noqa: E402


def _state_of(nodes, i, want):
    def pred(h, peers):
        ps = [p for p in peers if p.get("node") == nodes[i]]
        return len(ps) == 1 and ps[0]["state"] == want
    return pred


def test_cable_pull_and_replug():
    with lan.Lan(3) as net:
        net.start_all()
        nodes = {h.i: h.node() for h in net.hosts}

        def all_linked(h, peers):
            want = sorted(nodes[o.i] for o in net.hosts if o is not h)
            return sorted(p["node"] for p in peers if p.get("state") == "linked") == want
        net.wait_peers(all_linked, "full mesh linked")

        net.unplug(3)
        tables = net.wait_peers(_state_of(nodes, 3, "down"), "hosts 1 and 2 mark host3 down",
                                hosts=[net[1], net[2]], timeout=60)
        for i in (1, 2):
            p = [p for p in tables[i] if p["node"] == nodes[3]][0]
            eq(p["addr"], net[3].addr, p)
            # 1 and 2 still have each other.
            q = [p for p in tables[i] if p["node"] == nodes[3 - i]][0]
            eq(q["state"], "linked", q)

        net.plug(3)
        net.wait_peers(all_linked, "full mesh linked again after replugging", timeout=60)


if __name__ == "__main__":
    lan.main(globals())
