#!/usr/bin/python3
"""bench/lan.py -- time from `tip add` on one host to visible on every host.

Starts N namespace hosts (default 10) with the LAN harness of tests/lan/lan.py
(real avahi-daemons, tipd with default flags, so peers come from mDNS), waits
until every host holds min(N - 1, 8) links (up to 9 hosts a full mesh; beyond,
the overlay's 8 to 16 links, PROTOCOL.md 2.7), then adds T tips (default 50),
each on a host chosen round-robin, and for each one records when every other
host's API first answers `get` for it. Prints p50/p90/p99/max of the time to
"visible everywhere" (the slowest host per tip) and of per-host visibility.
Timing starts just before `tip add` runs (so it includes the CLI signing and
the origin's commit) and is sampled by polling the hosts' APIs in turn (a
sweep over 10 hosts takes a few ms, which bounds the resolution).

    sudo bench/lan.py [--hosts N] [--tips T] [--bin build/bin]

Needs root (network namespaces). Run it on an otherwise idle machine; use a
release build, not the sanitizer one.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--tips", type=int, default=50)
    ap.add_argument("--bin", default=os.environ.get("TIPD_BIN", os.path.join(SRC, "build", "bin")))
    a = ap.parse_args()
    os.environ["TIPD_BIN"] = os.path.abspath(a.bin)
    sys.path.insert(0, os.path.join(SRC, "tests", "lan"))
    import lan  # noqa: PLC0415
    from gossip_util import add_tip  # noqa: PLC0415

    with lan.Lan(a.hosts) as net:
        t0 = time.monotonic()
        net.start_all()
        n = a.hosts
        # Up to 9 hosts the overlay is a full mesh; beyond, each host keeps
        # 8 to 16 links (PROTOCOL.md 2.7).
        want = min(n - 1, 8)
        net.wait_peers(lambda h, ps: len([p for p in ps if p.get("state") == "linked"]) >= want,
                       "overlay up", timeout=120)
        print("%d hosts up, each linked with >= %d, in %.1f s" % (n, want,
                                                                 time.monotonic() - t0),
              flush=True)
        everywhere, per_host = [], []
        for k in range(a.tips):
            origin = net.hosts[k % n]
            others = [h for h in net.hosts if h is not origin]
            start = time.monotonic()
            tid = add_tip(origin, "bench tip %d from %s" % (k, origin.name),
                          "measuring add-to-visible latency across the LAN, tip %d" % k)
            pending = {h.i: h for h in others}
            seen = {}
            deadline = start + 30
            while pending and time.monotonic() < deadline:
                for i, h in list(pending.items()):
                    r = h.api({"op": "get", "id": tid})
                    if r.get("ok"):
                        seen[i] = time.monotonic() - start
                        del pending[i]
            if pending:
                print("tip %d: not visible on %s after 30 s" % (k, sorted(pending)), flush=True)
                continue
            everywhere.append(max(seen.values()))
            per_host.extend(seen.values())
        ms = lambda v: v * 1000.0  # noqa: E731
        print("add -> visible on all %d other hosts, %d tips: p50 %.0f ms, p90 %.0f ms, "
              "p99 %.0f ms, max %.0f ms" % (n - 1, len(everywhere), ms(pct(everywhere, 50)),
                                          ms(pct(everywhere, 90)), ms(pct(everywhere, 99)),
                                          ms(max(everywhere) if everywhere else float("nan"))))
        print("add -> visible on one host (%d samples): p50 %.0f ms, p99 %.0f ms"
              % (len(per_host), ms(pct(per_host, 50)), ms(pct(per_host, 99))))
        return 0 if len(everywhere) == a.tips else 1


if __name__ == "__main__":
    sys.exit(main())
