"""LAN gossip repair: a host that was stopped while 5,000 tips were added
elsewhere catches up after restart; a host killed in the middle of that
catch-up finishes it after the next restart. And the live spread of an
import larger than a link's memory of asked ids keeps the link up.

The catch-up is the reconciliation path (recon.c): the returning host has no
live INVs for what it missed, so only range-based set reconciliation can find
the 5,000 ids. Assertions compare exact id sets.
"""
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
from lan import check, eq  # noqa: E402
from gossip_util import events, ids, import_tips, linked  # noqa: E402

N = 5000


def _wait_linked(net, n_each, hosts=None, timeout=30):
    net.wait_peers(lambda h, ps: len(linked(ps)) == n_each,
                   "linked with %d peer(s)" % n_each, timeout=timeout, hosts=hosts)


def test_catch_up_after_restart():
    with lan.Lan(3) as net:
        net.start_all()
        _wait_linked(net, 2)
        net[3].stop_tipd()
        _wait_linked(net, 1, hosts=[net[1], net[2]])
        import_tips(net[1], N, "catchup")
        net.wait(lambda: events(net[2]) == events(net[1]), 120, "host2 gets the live spread")
        want = ids(net[1])
        check(len(want) >= N, "host1 holds", len(want))
        net[3].start_tipd()
        net.wait(lambda: events(net[3]) == len(want), 180, "host3 catches up")
        eq(ids(net[3]), want, "host3 holds exactly host1's set")
        eq(ids(net[2]), want, "host2 holds exactly host1's set")


def test_restart_in_the_middle_of_a_sync():
    with lan.Lan(2) as net:
        net.start_all()
        _wait_linked(net, 1)
        net[2].stop_tipd()
        import_tips(net[1], N, "midsync")
        want = ids(net[1])
        net[2].start_tipd()
        # Kill it hard as soon as part of the backlog has arrived.
        net.wait(lambda: events(net[2]) > 0, 120, "host2 starts receiving")
        got = events(net[2])
        net[2].stop_tipd(sig=signal.SIGKILL)
        print("killed host2 holding %d of %d events" % (got, len(want)), flush=True)
        net[2].start_tipd()
        net.wait(lambda: events(net[2]) == len(want), 180, "host2 finishes after the restart")
        eq(ids(net[2]), want, "host2 holds exactly host1's set")
        # And the other way: something written on host2 reaches host1.
        import_tips(net[2], 10, "back")
        net.wait(lambda: events(net[1]) == len(want) + 10, 60, "host1 gets host2's new tips")
        eq(ids(net[1]), ids(net[2]))


def test_live_spread_of_a_large_import_keeps_the_link():
    """14,000 tips spread live, more than a link's set of asked ids holds
    (16,384 slots, renewed at 60% once nothing is outstanding): every event
    comes as the answer to a WANT and the link is never closed as abusive."""
    with lan.Lan(2) as net:
        net.start_all()
        _wait_linked(net, 1)
        import_tips(net[1], 14000, "bulk")
        net.wait(lambda: events(net[2]) == events(net[1]), 300, "host2 gets the live spread")
        eq(net[2].status()["gossip"]["unasked"], 0, "events host2 had not asked for")
        for h in (net[1], net[2]):
            check(not re.search(r"link \S+ closed", h.log()), "%s: a link was closed" % h.name)
        eq(ids(net[2]), ids(net[1]), "host2 holds exactly host1's set")


if __name__ == "__main__":
    lan.main(globals())

