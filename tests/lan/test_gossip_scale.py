"""Many tipd on one loopback: the overload that used to wedge a node, a
clean stop under load, a third of the nodes killed, the overlay's bound,
the eager/lazy spread (few duplicate bodies, repair after losses).

40 daemons in one namespace host (tests/lan/loopnet.py), each with --peer
to node 0 and peer exchange for the rest, so node 0 holds a link to almost
everyone. A 2,000-tip import on node 0 then makes it the busiest node of the
run, with dozens of handshakes around it (all 39 others dial it; it keeps
16 and makes room for each newcomer). Before the fix, libzmq's
I/O thread blocked for good sending a socket-monitor event to a PAIR that
tipd had just closed (the handshake timeout closed the monitor reader first),
and a SIGTERM under load aborted inside libzmq (session_base.cpp:260, a
multipart message half-sent while the socket closed).

Assertions: no node holds more than 16 links; every node answers `status`
after the burst (a wedged node does
not answer at all); every node ends with exactly node 0's 2,000 ids; every
node exits 0 on SIGTERM with "stopped" logged and no libzmq assertion; after
a third of the nodes are killed with SIGKILL, the survivors' links still
form one connected graph and a tip added on one survivor reaches all others.
No timing is asserted.
"""
import os
import signal
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402
import loopnet  # noqa: E402
from lan import check, eq  # noqa: E402
from gossip_util import export_raw  # noqa: E402

N = 40
BURST = 2000


def _tip(t, *args, timeout=600):
    e = dict(os.environ)
    e["TIP_SOCKET"] = t.sock
    e["TIP_HOME"] = t.host.home("default")
    e["LC_ALL"] = "C.UTF-8"
    p = subprocess.run([lan.TIP] + [str(a) for a in args], env=e, capture_output=True,
                       text=True, timeout=timeout)
    check(p.returncode == 0, "%s: tip %s failed: %s" % (t.name, args[0], p.stderr))
    return p.stdout


def _import(t, n, tag):
    path = os.path.join(t.host.dir, "import-%s.jsonl" % tag)
    with open(path, "w") as f:
        for i in range(n):
            f.write('{"title": "%s tip %d", "body": "scale body %d", "topics": ["scale"]}\n'
                    % (tag, i, i))
    _tip(t, "import", path)
    os.unlink(path)


def _unanswering(nodes, timeout=20.0):
    """Names of nodes whose API gives no status reply within timeout."""
    bad = []

    def one(t):
        c = lan.ApiClient(t.sock, timeout=timeout)
        try:
            c.send({"op": "status"})
            if not (c.poll(int(timeout * 1000)) and c.recv().get("ok")):
                bad.append(t.name)
        except Exception:  # noqa: BLE001 -- no answer is the finding
            bad.append(t.name)
        finally:
            c.close()
    th = [threading.Thread(target=one, args=(t,)) for t in nodes]
    for x in th:
        x.start()
    for x in th:
        x.join()
    return sorted(bad)


def _ids(t):
    return set(export_raw(t))


def _kill(ln, dead):
    """SIGKILL a third of the nodes -> the survivors."""
    for t in dead:
        t.proc.send_signal(signal.SIGKILL)
    for t in dead:
        t.proc.wait(30)
        t.proc = None
    live = ln.alive()
    eq(len(live), N - N // 3, "survivors")
    return live


def test_burst_on_a_crowded_seed_then_sigterm():
    with lan.Lan(1, ipv6=False) as net:
        ln = loopnet.LoopNet(net, N)
        ln.start()
        ln.wait(lambda: ln.connected(), 120, "a connected overlay")
        # The overlay's bound (PROTOCOL.md 2.7): at most 16 links a node,
        # though every node knows every other through peer exchange.
        deg = sorted(len(v) for v in ln.links().values())
        check(deg[-1] <= 16, "links per node at most 16", deg)
        seed = ln.nodes[0]
        _import(seed, BURST, "burst")
        want = _ids(seed)
        eq(len(want), BURST, "node 0 holds the burst")
        # Every node keeps answering while the burst spreads, and all get it.
        for _ in range(3):
            eq(_unanswering(ln.nodes), [], "nodes that do not answer status")
        ln.wait(lambda: all(t.status()["events"] == BURST for t in ln.nodes), 300,
                "the burst on every node", interval=2)
        for t in ln.nodes[1:]:
            eq(_ids(t), want, "%s holds exactly node 0's ids" % t.name)
        eq(_unanswering(ln.nodes), [], "nodes that do not answer status")
        # Stop everyone at once, the way a shutdown of the office would.
        for t in ln.nodes:
            if t._client:
                t._client.close()
                t._client = None
            t.proc.send_signal(signal.SIGTERM)
        for t in ln.nodes:
            rc = t.proc.wait(60)
            log = t.log()
            t.proc = None
            eq(rc, 0, "%s exit status" % t.name)
            check("stopped" in log.splitlines()[-1] if log else False,
                  "%s logs 'stopped' last" % t.name, log[-500:])
            check("(src/" not in log, "%s: libzmq assertion" % t.name, log[-500:])


def test_a_third_killed():
    with lan.Lan(1, ipv6=False) as net:
        ln = loopnet.LoopNet(net, N, seeds=2)
        ln.start()
        ln.wait(lambda: ln.connected(), 120, "a connected overlay")
        # Kill a third, the seeds among them: the rest must hold together
        # through what peer exchange taught them.
        live = _kill(ln, ln.nodes[:2] + ln.nodes[2::3][: N // 3 - 2])
        ln.wait(lambda: ln.connected(live), 120, "the survivors' overlay connected")
        origin = live[len(live) // 2]
        out = _tip(origin, "add", "--title", "after the cull", "one tip for every survivor")
        tid = out.split()[0]
        ln.wait(lambda: all(t.api({"op": "get", "id": tid}).get("ok") for t in live), 120,
                "the tip on every survivor", interval=1)


def _gossip_all(nodes):
    return {t.name: t.status()["gossip"] for t in nodes}


def _delta(after, before, key, nodes):
    return sum(after[t.name][key] - before[t.name][key] for t in nodes)


def test_eager_tree_and_lazy_repair():
    """PROTOCOL.md 2.6: bodies travel along a spanning structure of eager
    links and only ids cross the others. After a few tips have pruned the
    redundant links, a burst reaches every node with few duplicate bodies
    (gossip.replays, counted per delivered tip), every node keeps fewer
    eager links than links; then a third of the nodes (the origin's
    neighbours among them) die, and every tip added afterwards still
    reaches every survivor: broken tree edges are grafted back or replaced."""
    with lan.Lan(1, ipv6=False) as net:
        ln = loopnet.LoopNet(net, N, seeds=2)
        ln.start()
        ln.wait(lambda: ln.connected(), 120, "a connected overlay")
        # A few tips from different nodes prune the redundant eager links.
        for k in range(6):
            origin = ln.nodes[(k * 7) % N]
            tid = _tip(origin, "add", "--title", "warm-up %d" % k, "body %d" % k).split()[0]
            ln.wait(lambda: all(t.api({"op": "get", "id": tid}).get("ok") for t in ln.nodes),
                    120, "warm-up tip %d everywhere" % k, interval=0.5)
        before = _gossip_all(ln.nodes)
        origin = ln.nodes[N // 2]
        _import(origin, 500, "tree")
        total = 6 + 500
        ln.wait(lambda: all(t.status()["events"] == total for t in ln.nodes), 300,
                "the burst on every node", interval=1)
        after = _gossip_all(ln.nodes)
        delivered = 500 * (N - 1)
        dups = _delta(after, before, "replays", ln.nodes)
        bodies = _delta(after, before, "events_in", ln.nodes)
        print("duplicates per delivered tip %.3f, bodies received per delivered tip %.3f, "
              "grafts %d, prunes %d" % (dups / delivered, bodies / delivered,
                                        _delta(after, before, "grafts", ln.nodes),
                                        _delta(after, before, "prunes", ln.nodes)), flush=True)
        # Flooding every link would deliver each body about once per link
        # (8-16 per node); the tree delivers it about once. How many come
        # twice depends on the machine's load, not only on the tree: a push
        # that a busy node forwards later than the graft timer is asked for
        # again (0.38 duplicates per tip with this test alone, 0.56 beside
        # a parallel ctest), so the bound is one, still far below a flood.
        check(dups <= delivered, "duplicate bodies at most one per delivered tip",
              dups, delivered)
        check(bodies <= delivered * 2, "bodies received per delivered tip at most 2",
              bodies, delivered)
        eager = sum(g["eager"] for g in after.values())
        linked = sum(g["linked"] for g in after.values())
        print("eager %d of %d link ends" % (eager, linked), flush=True)
        check(eager < linked, "some links are lazy", eager, linked)
        check(_delta(after, before, "prunes", ln.nodes) + sum(
            g["prunes"] for g in before.values()) > 0, "duplicates pruned links")
        eq(sum(g["linked_v2"] for g in after.values()), 0, "every link at version 3")
        # Kill a third, the seeds and the origin's neighbours first.
        neigh = {p.get("name") for p in origin.peers() if p.get("state") == "linked"}
        victims = [t for t in ln.nodes if t.tag in neigh][: N // 3]
        for t in ln.nodes:
            if len(victims) >= N // 3:
                break
            if t is not origin and t not in victims:
                victims.append(t)
        live = _kill(ln, victims)
        for k in range(5):
            src = live[(k * 5) % len(live)]
            tid = _tip(src, "add", "--title", "after %d" % k, "survivors %d" % k).split()[0]
            ln.wait(lambda: all(t.api({"op": "get", "id": tid}).get("ok") for t in live), 120,
                    "tip %d on every survivor" % k, interval=0.5)
        ids0 = _ids(live[0])
        for t in live[1:]:
            eq(_ids(t), ids0, "%s holds the same ids" % t.name)


if __name__ == "__main__":
    lan.main(globals())
