#!/usr/bin/env python3
"""bench/ab_search.py -- two builds' search, side by side on one store.

On a shared 2-core machine the same binary's search p99 moves by half
between two runs a minute apart, so a change worth a few percent cannot be
told from the hour by running the builds one after the other. This runs
two tipds at once, build A and build B, each on its own copy of one data
directory, and asks every question of both in turn (who goes first
alternates), for several rounds: whatever the machine does then, it does
to both. It prints, per build, the client round trips over every ask
(p50, p99, mean) and each question's best time over the rounds, and the
daemon's own account (`status` "requests"); then, per round, each build's
p50 / p99 / max and the minor page faults its tipd took during the round
(round 1 is the first pass after the start: what a fresh mapping of the
store costs).

--cool clears the accessed bits of every page of the tipd about to be
asked, just before each question (writing 1 to /proc/PID/clear_refs, as
root): each question then pays what it would after an idle spell on a
machine whose memory manager samples and clears those bits (DAMON, the
reclaim scan), where the first access to each page is a trap or a fault.

    python3 bench/ab_search.py --a build-old/bin --b build-rel/bin \\
        --store DIR [--rounds 4] [--queries 300] [--settle 2] [--cool]

DIR is a tipd data directory, e.g. one `bench-large commit` wrote:

    build-rel/bin/bench-large commit -b 8192 -n 1300000 -s 0 DIR/data \\
        /work/bench-data/tipd-large-1000000.b64

It is copied twice into temporary directories (removed at the end), so
neither build writes into it. The questions are bench/large.py's. Timing
lives here, never in tests.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "cli"))
sys.path.insert(0, HERE)


def minflt(pid):
    """Minor page faults a process has taken (/proc/PID/stat, field 10)."""
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def cool(pid):
    """Clear the accessed bits of every page of a process (root only)."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("1\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="bin directory of build A")
    ap.add_argument("--b", required=True, help="bin directory of build B")
    ap.add_argument("--store", required=True, help="a tipd data directory (copied)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds between both daemons' start and the first question")
    ap.add_argument("--cool", action="store_true",
                    help="clear tipd's pages' accessed bits before each question")
    a = ap.parse_args()
    if not os.path.isdir(a.store):
        sys.exit("ab_search: no data directory %s" % a.store)
    import harness  # noqa: PLC0415 (the path first)
    import large  # noqa: PLC0415
    from large import pct  # noqa: PLC0415 (the percentile large.py reports)
    qs = large.queries(a.queries)
    tmps, daemons, clients = [], [], []
    try:
        for name, bindir in (("A", a.a), ("B", a.b)):
            tmp = tempfile.mkdtemp(prefix="tipd-ab-", dir="/var/tmp")
            tmps.append(tmp)
            shutil.copytree(a.store, os.path.join(tmp, "data"))
            # written back, as a store tipd wrote is: the warm reads only
            # clean pages back into huge pages (docs/STORE.md)
            os.sync()
            harness.TIPD = os.path.join(bindir, "tipd")
            daemons.append((name, harness.Daemon(log_level="info", tmp=tmp)))
        clients = [(name, d.client(timeout=300)) for name, d in daemons]
        # the builds start alike: neither is asked before both have had
        # the same time to settle (a person does not ask in tipd's first
        # second either)
        time.sleep(a.settle)
        times = {name: {} for name, _ in clients}
        rounds = {name: [] for name, _ in clients}  # per round: (times, faults)
        pids = {name: d.proc.pid for name, d in daemons}
        for r in range(a.rounds):
            f0 = {name: minflt(pids[name]) for name in pids}
            this = {name: [] for name in pids}
            for i, q in enumerate(qs):
                order = clients if (i + r) % 2 == 0 else clients[::-1]
                for name, c in order:
                    if a.cool:
                        cool(pids[name])
                    t0 = time.perf_counter()
                    res = c.request({"op": "search", "q": q, "n": 10})
                    ms = (time.perf_counter() - t0) * 1000
                    times[name].setdefault(q, []).append(ms)
                    this[name].append(ms)
                    if not res.get("ok"):
                        sys.exit("ab_search: %s refused %r: %s" % (name, q, res))
            for name in pids:
                rounds[name].append((this[name], minflt(pids[name]) - f0[name]))
        print("%d questions x %d rounds, each asked of A and B in turn%s" % (
            len(qs), a.rounds, ", accessed bits cleared before each" if a.cool else ""))
        print("| build | all asks p50 / p99 / mean ms | best per question p50 / p99 / mean ms "
              "| in the daemon (status) p50 / p99 ms |")
        print("|---|---|---|---|")
        for name, c in clients:
            every = [x for v in times[name].values() for x in v]
            best = [min(v) for v in times[name].values()]
            st = c.request({"op": "status"})["requests"]["search"]["in_daemon"]
            print("| %s %s | %.2f / %.2f / %.2f | %.2f / %.2f / %.2f | %.1f / %.1f |" % (
                name, a.a if name == "A" else a.b, pct(every, 50), pct(every, 99),
                statistics.mean(every), pct(best, 50), pct(best, 99), statistics.mean(best),
                st["p50_ms"], st["p99_ms"]))
        print("\n| round | build | p50 / p99 / max ms | minor page faults of tipd |")
        print("|---|---|---|---|")
        for r in range(a.rounds):
            for name, _ in clients:
                ts, flt = rounds[name][r]
                print("| %d | %s | %.2f / %.2f / %.2f | %d |" % (
                    r + 1, name, pct(ts, 50), pct(ts, 99), max(ts), flt))
    finally:
        for _, c in clients:
            c.close()
        for _, d in daemons:
            d.cleanup()
        for t in tmps:
            shutil.rmtree(t, ignore_errors=True)


if __name__ == "__main__":
    main()
