#!/usr/bin/python3
"""bench/scale.py -- N tipd on one loopback: overlay, spread, burst, idle cost.

For each N (default 25 50 100 200) starts N daemons in one network
namespace (tests/lan/loopnet.py: 127.0.0.1:7800+k, --no-discovery, --peer to
one seed, peer exchange for the rest) and prints one row:

  conn_s     time from the first start to a connected overlay (every node
             answering, the linked graph one component)
  links      links per node, min/median/max
  add p50/p99  `tip add` on a random node -> visible (`get`) on every other
             node, over T tips (default 20); per tip the slowest node
  burst_s    2,000-tip `tip import` on the seed -> every node holds them
  B/tip      gossip bytes all nodes sent from the import until every node
             holds the burst (message bytes handed to ZeroMQ, from `status`
             gossip.bytes_out; CURVE and TCP add ~40 bytes per message), per
             tip per receiving node: sum / (2,000 * (N - 1)); next to it the
             floor, the mean signed size of one tip (each body sent once)
  dup/tip    bodies received that the node already held (status gossip.replays),
             per tip per receiving node, over the burst
  grafts     GRAFT messages all nodes sent during the burst (0 before wire 3)
  idle %cpu  CPU per node over 20 s with the links up and nothing to do
  rss_MB     resident memory per node after the burst (median)
  answering  nodes not answering `status` within 10 s at any check (must be 0)

    sudo bench/scale.py [--n 25 50 100 200] [--tips 20] [--burst 2000]
                        [--bin build-rel/bin]

Needs root (a network namespace) and a Release build. Takes a few minutes
per row at 200; run it on an otherwise idle machine.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def parallel(fn, items):
    out = [None] * len(items)

    def one(i, x):
        try:
            out[i] = fn(x)
        except Exception as e:  # noqa: BLE001 -- reported as a failure value
            out[i] = e
    th = [threading.Thread(target=one, args=(i, x)) for i, x in enumerate(items)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    return out


def row(lan, loopnet, n, tips, burst):
    from lan import ApiClient  # noqa: PLC0415
    res = {"n": n, "unanswering": 0}
    with lan.Lan(1, ipv6=False) as net:
        ln = loopnet.LoopNet(net, n)
        t0 = time.monotonic()
        for t in ln.nodes:
            t.args += ["--log-level", "notice"]
        ln.start()

        def status(t, timeout=10.0):
            c = ApiClient(t.sock, timeout=timeout)
            try:
                c.send({"op": "status"})
                if not c.poll(int(timeout * 1000)):
                    return None
                return c.recv()
            finally:
                c.close()

        def check_answering():
            r = parallel(status, ln.nodes)
            bad = sum(1 for x in r if not isinstance(x, dict) or not x.get("ok"))
            res["unanswering"] = max(res["unanswering"], bad)
            return r

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if ln.connected():
                    break
            except Exception:  # noqa: BLE001 -- an API not up yet
                pass
            time.sleep(0.5)
        res["conn_s"] = time.monotonic() - t0
        deg = sorted(len(v) for v in ln.links().values())
        res["links"] = (deg[0], deg[len(deg) // 2], deg[-1])
        time.sleep(5)

        # Idle: nothing to do, links up.
        pids = [t.proc.pid for t in ln.nodes]
        c0 = [loopnet.proc_cpu_s(p) for p in pids]
        time.sleep(20)
        c1 = [loopnet.proc_cpu_s(p) for p in pids]
        res["idle"] = statistics.median((b - a) / 20.0 * 100 for a, b in zip(c0, c1))
        res["idle_max"] = max((b - a) / 20.0 * 100 for a, b in zip(c0, c1))
        check_answering()

        # Single tips: add -> visible on every other node.
        lat = []
        env = dict(os.environ, LC_ALL="C.UTF-8")
        for k in range(tips):
            origin = random.choice(ln.nodes)
            e = dict(env, TIP_SOCKET=origin.sock, TIP_HOME=origin.host.home("default"))
            start = time.monotonic()
            p = subprocess.run([lan.TIP, "add", "--title", "scale tip %d" % k,
                                "one tip for %d nodes, number %d" % (n, k)], env=e,
                               capture_output=True, text=True, timeout=60)
            tid = p.stdout.split()[0]
            pending = [t for t in ln.nodes if t is not origin]
            while pending and time.monotonic() - start < 60:
                r = parallel(lambda t: t.api({"op": "get", "id": tid}).get("ok"), pending)
                pending = [t for t, ok in zip(pending, r) if ok is not True]
                if pending:
                    time.sleep(0.02)
            lat.append(time.monotonic() - start if not pending else float("inf"))
        res["add_p50"], res["add_p99"] = pct(lat, 50), pct(lat, 99)

        # Burst: 2,000 tips imported on the seed.
        before = [x["gossip"] for x in check_answering() if isinstance(x, dict)]
        ev0 = ln.nodes[0].status()["events"]
        path = os.path.join(ln.host.dir, "burst.jsonl")
        with open(path, "w") as f:
            for i in range(burst):
                f.write('{"title": "burst tip %d", "body": "a burst of %d tips over %d nodes: '
                        'lorem ipsum dolor sit amet %d", "topics": ["scale"]}\n'
                        % (i, burst, n, i))
        seed = ln.nodes[0]
        e = dict(env, TIP_SOCKET=seed.sock, TIP_HOME=seed.host.home("default"))
        t1 = time.monotonic()
        subprocess.run([lan.TIP, "import", path], env=e, capture_output=True, timeout=600,
                       check=True)
        want = ev0 + burst
        while time.monotonic() - t1 < 600:
            r = check_answering()
            if all(isinstance(x, dict) and x.get("events") == want for x in r):
                break
            time.sleep(1)
        res["burst_s"] = time.monotonic() - t1
        after = [x["gossip"] for x in check_answering() if isinstance(x, dict)]
        sent = sum(a["bytes_out"] for a in after) - sum(b["bytes_out"] for b in before)
        size = os.path.getsize(path)  # JSON in; the signed events are measured below
        raw = seed.api({"op": "export", "n": 50})
        import base64  # noqa: PLC0415
        sizes = [len(base64.b64decode(b)) for b in raw.get("events", [])]
        res["tip_bytes"] = statistics.mean(sizes) if sizes else float(size) / burst
        res["bytes_per_tip"] = sent / float(burst * (n - 1))
        dups = sum(a["replays"] for a in after) - sum(b["replays"] for b in before)
        res["dup_per_tip"] = dups / float(burst * (n - 1))
        res["grafts"] = sum(a.get("grafts", 0) for a in after) - sum(
            b.get("grafts", 0) for b in before)
        res["rss"] = statistics.median(loopnet.proc_rss_kb(p) for p in pids) / 1024.0
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[25, 50, 100, 200])
    ap.add_argument("--tips", type=int, default=20)
    ap.add_argument("--burst", type=int, default=2000)
    ap.add_argument("--bin", default=os.environ.get("TIPD_BIN",
                                                    os.path.join(SRC, "build-rel", "bin")))
    a = ap.parse_args()
    os.environ["TIPD_BIN"] = os.path.abspath(a.bin)
    sys.path.insert(0, os.path.join(SRC, "tests", "lan"))
    import lan  # noqa: PLC0415
    import loopnet  # noqa: PLC0415
    print("%5s %7s %11s %8s %8s %8s %8s %6s %7s %6s %7s %7s %7s %6s" % (
        "N", "conn_s", "links", "add_p50", "add_p99", "burst_s", "B/tip", "floor", "dup/tip",
        "grafts", "idle%", "idlemax", "rss_MB", "stuck"), flush=True)
    for n in a.n:
        r = row(lan, loopnet, n, a.tips, a.burst)
        print("%5d %7.1f %11s %8.2f %8.2f %8.1f %8.0f %6.0f %7.2f %6d %7.3f %7.3f %7.1f %6d" % (
            n, r["conn_s"], "%d/%d/%d" % r["links"], r["add_p50"], r["add_p99"], r["burst_s"],
            r["bytes_per_tip"], r["tip_bytes"], r["dup_per_tip"], r["grafts"], r["idle"], r["idle_max"],
            r["rss"], r["unanswering"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
