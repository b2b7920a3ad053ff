#!/usr/bin/env python3
"""bench/social.py -- how long the social ops take on a real-sized store.

Imports the tldr tips corpus (32k tips) into a fresh tipd, adds ratings,
thanks with stories, questions and answers signed by a few dozen people, then
times the API ops behind `tip stats`, `tip stats --me`, `tip today` and
`tip questions` (N runs each, p50 and max), and `tip today` end to end as a
login shell would run it. Timing lives here, never in tests.

    TIPD_BIN=build-rel/bin python3 bench/social.py [--runs N] [--corpus FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "cli"))
import harness  # noqa: E402
from harness import Daemon  # noqa: E402


def timed(d, req, runs):
    c = d.client(timeout=120)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = c.request(req)
        ts.append((time.perf_counter() - t0) * 1000)
        assert r.get("ok"), r
    c.close()
    ts.sort()
    return ts[len(ts) // 2], ts[-1], r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--corpus", default="/work/shared/corpus/tldr-tips-en.jsonl")
    ap.add_argument("--people", type=int, default=30)
    a = ap.parse_args()
    with Daemon(log_level="warning") as d:
        t0 = time.perf_counter()
        rc, out, err = d.tip("import", a.corpus, home="importer")
        assert rc == 0, err
        print("import: %.1fs, %s" % (time.perf_counter() - t0, d.status()["tips"]), "tips")
        ids = [t["id"] for t in d.api({"op": "list", "n": 1000})["results"]]
        mk = harness.tool("tipd-mkevent")
        evs = []
        for p in range(a.people):
            home = d.home("p%d" % p)
            d.tip("whoami", "--name", "Person %d" % p, home="p%d" % p)
            for k in range(20):
                tid = ids[(p * 37 + k * 11) % len(ids)]
                args = [mk, "--home", home, "--kind", "rating", "--title", "", "--body", "",
                        "--value", str(1 + (p + k) % 5), "--ref", "target:" + tid]
                evs.append(subprocess.run(args, capture_output=True, text=True).stdout.strip())
                if k % 4 == 0:
                    args = [mk, "--home", home, "--kind", "thanks", "--title", "",
                            "--body", "saved me time on %d" % k, "--ref", "target:" + tid]
                    evs.append(subprocess.run(args, capture_output=True, text=True).stdout.strip())
            d.tip("ask", "--yes", "How do I do thing %d on the build server?" % p,
                  home="p%d" % p)
        for i in range(0, len(evs), 500):
            r = d.api({"op": "submit", "events": evs[i:i + 500]}, timeout=120)
            assert all(x["status"] == "new" for x in r["results"]), r
        st = d.status()
        print("store: %d tips, %d questions, %d events" % (st["tips"], st["questions"], st["events"]))
        me = d.tip_json("whoami", home="p1")[0]["key"]
        for name, req in (("stats", {"op": "stats"}),
                          ("stats --me", {"op": "stats", "me": me}),
                          ("today", {"op": "today", "user": me, "date": "2026-11-29"}),
                          ("questions", {"op": "questions"})):
            p50, mx, _ = timed(d, req, a.runs)
            print("%-11s p50 %7.1f ms  max %7.1f ms  (%d runs)" % (name, p50, mx, a.runs))
        env = dict(os.environ, TIP_SOCKET=d.sock, TIP_HOME=d.home("p2"))
        ts = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            subprocess.run([harness.TIP, "today"], env=env, capture_output=True)
            ts.append((time.perf_counter() - t0) * 1000)
        ts.sort()
        print("tip today (process, pinned after the first run) p50 %.1f ms  max %.1f ms"
              % (ts[len(ts) // 2], ts[-1]))
        d.stop()
        ts = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            subprocess.run([harness.TIP, "today"], env=env, capture_output=True)
            ts.append((time.perf_counter() - t0) * 1000)
        ts.sort()
        print("tip today, tipd down: p50 %.1f ms  max %.1f ms" % (ts[len(ts) // 2], ts[-1]))


if __name__ == "__main__":
    main()
