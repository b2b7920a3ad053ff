"""Two network keys on one LAN: every host sees every other over mDNS, but a
host advertising another network id is listed as foreign (net_match false,
state foreign) and never linked, while hosts of the same network are.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
from lan import check, eq  # noqa: E402


def test_two_network_keys_are_foreign():
    with lan.Lan(3) as net:
        args = {}
        for i, k in ((1, "a"), (2, "a"), (3, "b")):
            path = os.path.join(net.dir, "net-%s.key" % k)
            if not os.path.exists(path):
                lan._run([lan.TIPD, "genkey", path])
            args[i] = ["--network-key", path]
        net.start_all(tipd_args=args)
        nodes = {h.i: h.node() for h in net.hosts}
        nets = {h.i: h.status().get("network") for h in net.hosts}
        eq(nets[1], nets[2], nets)
        check(nets[1] != nets[3], nets)
        for n in nets.values():
            check(isinstance(n, str) and len(n) == 16, "network id is 16 hex chars", nets)

        def settled(h, peers):
            by = {p.get("node"): p for p in peers}
            if sorted(by) != sorted(nodes[o.i] for o in net.hosts if o is not h):
                return False
            for o in net.hosts:
                if o is h:
                    continue
                p = by[nodes[o.i]]
                same = (o.i == 3) == (h.i == 3)
                if p["net"] != nets[o.i]:
                    return False
                if same and not (p["net_match"] is True and p["state"] == "linked"):
                    return False
                if not same and not (p["net_match"] is False and p["state"] == "foreign"):
                    return False
            return True
        net.wait_peers(settled, "same-network peers linked, the other foreign")
        # Foreign stays foreign: sample for a while (reconnect attempts and
        # mDNS refreshes must not link it).
        for _ in range(10):
            for h in net.hosts:
                for p in h.peers():
                    if (p["node"] == nodes[3]) != (h.i == 3):
                        eq(p["state"], "foreign", h.name, p)
                        eq(p["net_match"], False, h.name, p)
            time.sleep(0.5)


if __name__ == "__main__":
    lan.main(globals())
