#!/usr/bin/env python3
"""bench/large.py -- tipd with a large store: import, reads, fairness, memory.

Builds a store of --tips synthetic tips (variations of the tldr corpus,
signed by 300 keys, plus one rating per 5 tips and one thanks per 20, see
bench/large.c) by submitting them to a fresh tipd while a second tipd is
linked to it as a static peer, then prints in one table, measured in the
same run:

  * import rate (acknowledged = committed) next to the raw one-core
    Ed25519 verify rate of the same events, sampled three times right
    before and three times right after each import with the mean as the
    reference (on a shared machine one core's verify rate swings by a
    third from one second to the next, and a single sample follows the
    swing, not the import), twice: into a tipd alone (first, into a store
    that is then removed: in an office the replicating peer is another
    machine) and into the tipd with the linked peer, which verifies and
    commits every event too on the same two cores; tipd's CPU by thread
    for each;
  * search p50/p99, through the API (the daemon's time plus a local round
    trip; the first pass after the import and the reads' wait for both
    daemons' warm, then the same questions again at once) and through
    `tip search` (a process per query);
  * stats and today: the first request after a write (what a busy office
    sees: every write used to make the next request pass over the whole
    store), and on an unchanged store; today for a new (user, date) too
    (a walk of a few post records from the seed), list;
  * `status` p99 from another client while 4 clients loop `stats`, while
    they loop `stats` and a writer adds a tip every 100 ms (every write
    makes the next stats pass over the store again), and while one client
    has a 256-request `stats` pipeline in flight;
  * whether the peer link stayed up (the peers op and "link closed" in both
    logs), and the daemon's private memory (smaps_rollup).

    python3 bench/large.py [--tips N] [--bin build-rel/bin] [--events FILE]
                           [--import-only] [--imports both|alone|linked]

--import-only stops after the import rows and the peer's catching up (to
compare import rates of two builds on the same events file); --imports
alone runs only the import into a tipd without a peer (and stops there),
--imports linked only the one with the peer.

The events file (about 1 KB per event) is written once and reused with
--events. Timing lives here, never in tests.
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "cli"))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


def kv(line):
    w = line.split()
    return {w[i]: w[i + 1] for i in range(1, len(w) - 1, 2)}


def queries(n):
    out = []
    with open(os.path.join(HERE, "queries", "tldr-en.tsv")) as f:
        for ln in f:
            if ln.startswith("#") or "\t" not in ln:
                continue
            out.append(ln.rstrip("\n").split("\t", 1)[1])
    return (out * (n // max(1, len(out)) + 1))[:n]


def dirty_maps(pid):
    """(Private_Dirty kB, name) of each mapping of pid, largest first; name
    is the mapped file, [heap], or "anon" with the mapping's size (the
    malloc arenas are 64 MiB mappings, big blocks a mapping each)."""
    out, name = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for ln in f:
            p = ln.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+$", p[0]):
                lo, hi = (int(x, 16) for x in p[0].split("-"))
                name = p[5] if len(p) > 5 else "anon %.0f MiB" % ((hi - lo) / 1048576.0)
            elif p[0] == "Private_Dirty:" and int(p[1]) > 0:
                out.append((int(p[1]), name))
    return sorted(out, reverse=True)


def private_mib(pid):
    v = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for ln in f:
            p = ln.split()
            if len(p) >= 2 and p[0].endswith(":"):
                v[p[0][:-1]] = int(p[1])
    hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmHWM:"):
                hwm = int(ln.split()[1])
    return (v.get("Private_Dirty", 0) + v.get("Private_Clean", 0)) / 1024.0, \
        v.get("Private_Dirty", 0) / 1024.0, hwm / 1024.0


MAPPED = re.compile(r"store: mapped the ([\d.]+) MiB of the database the page cache holds "
                    r"\(([\d.]+) MiB read again into 2 MiB pages\), in (\d+) ms")
NEW_TODAY = 60  # today requests for a (user, date) nobody asked yet
SEEN_IDS = 5000  # the seen list the CLI keeps ($TIP_HOME/seen)


def timed(c, req, runs):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = c.request(req)
        ts.append((time.perf_counter() - t0) * 1000)
        assert r.get("ok"), r
    return ts


def status_under(d, load_fn, seconds=8.0):
    """status latencies (ms) from a fresh client while load_fn(stop) runs."""
    stop = threading.Event()
    th = threading.Thread(target=load_fn, args=(stop,))
    th.start()
    time.sleep(0.5)
    c = d.client(timeout=120)
    ts = []
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        t0 = time.perf_counter()
        c.request({"op": "status"})
        ts.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)
    stop.set()
    th.join()
    c.close()
    return ts


def finish(a, d, peer, st, nev, rows, big=None):
    """Add the peer link and memory rows (with big: the restart and
    migration rows too) and print the table."""
    peers = d.api({"op": "peers"})["peers"]
    linked = [p for p in peers if p.get("state") == "linked"]
    whys = re.findall(r"link \S+ closed: ([^\n]*)", d.log() + peer.log())
    for name, who in (("measured", d), ("peer", peer)):  # when a link closed
        for ln in [x for x in who.log().splitlines() if re.search(r"link \S+ closed|peer down", x)][:10]:
            print("%s tipd: %s" % (name, ln), flush=True)
    rows.append(("peer link (whole run, import included)",
                 "%s at the end; link-closed lines in both logs: %d%s" %
                 ("linked" if linked else "NOT linked: %r" % peers, len(whys),
                  "".join("; %d x %s" % (whys.count(w), w) for w in sorted(set(whys)))),
                 "", ""))
    allp, dirty, hwm = private_mib(d.proc.pid)
    rows.append(("tipd private memory", "%.1f MiB (dirty %.1f), peak RSS %.0f MiB" %
                 (allp, dirty, hwm), "", ""))
    rows.append(("... its largest private dirty mappings", ", ".join(
        "%.1f MiB %s" % (kb / 1024.0, name) for kb, name in dirty_maps(d.proc.pid)[:5]), "", ""))
    if big:
        rows += restarts(d, big)
    print("\n%d tips, %d events in the file; 2 shared cores, load %s\n" %
          (st["tips"], nev, open("/proc/loadavg").read().split()[0]))
    print_rows(rows)


def thread_cpu(pid):
    """CPU seconds of each of pid's threads, summed by thread name."""
    tck = os.sysconf("SC_CLK_TCK")
    threads = {}
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            f = open("/proc/%d/task/%s/stat" % (pid, t)).read()
        except OSError:
            continue
        name = f[f.index("(") + 1:f.rindex(")")]
        ticks = sum(int(x) for x in f[f.rindex(")") + 2:].split()[11:13])
        threads[name] = threads.get(name, 0) + ticks / tck
    return threads


def proc_cpu(pid):
    tck = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in open("/proc/%d/stat" % pid).read().split()[13:15]) / tck


def run_import(d, big, evfile, peer=None):
    """Submit evfile to d (bench-large submit, 4 submits of 1024 in flight)
    while another client asks `status` every 50 ms. Returns the figures
    (with peer: its CPU during the import too) and d's status after it."""
    cpu0 = proc_cpu(d.proc.pid)
    pcpu0 = proc_cpu(peer.proc.pid) if peer else 0
    sub = subprocess.Popen([big, "submit", "-a", d.sock, evfile], stdout=subprocess.PIPE,
                           text=True)
    # status from another client all through the import: does a commit
    # hold up the loop?
    si = d.client(timeout=120)
    sp = peer.client(timeout=120) if peer else None
    s0, pend = [], [0, 0]
    while sub.poll() is None:
        t0 = time.perf_counter()
        r = si.request({"op": "status"})
        s0.append((time.perf_counter() - t0) * 1000)
        pend[0] = max(pend[0], r.get("pending", 0))
        if sp:  # the peer's ingest backlog: above 20,000 it prunes its links
            pend[1] = max(pend[1], sp.request({"op": "status"}).get("pending", 0))
        time.sleep(0.05)
    si.close()
    if sp:
        gs = sp.request({"op": "status"}).get("gossip", {})
        sp.close()
    out = sub.stdout.read()
    check_rc = sub.wait()
    if check_rc:
        sys.exit("bench-large submit failed: %d" % check_rc)
    imp = kv(out)
    imp["cpu"] = proc_cpu(d.proc.pid) - cpu0
    imp["threads"] = thread_cpu(d.proc.pid)
    imp["status"] = s0
    imp["peer_cpu"] = proc_cpu(peer.proc.pid) - pcpu0 if peer else None
    imp["pending"] = pend
    imp["peer_gossip"] = gs if peer else None
    st = d.status()
    print("store: %d tips, %d events; import %s" % (st["tips"], st["events"], out.strip()),
          flush=True)
    return imp, st


def rate_row(what, imp, before, after):
    """The row of one import's rate next to the raw verify rates sampled
    right before and right after it (lists of rates); the ratio is to the
    mean of them all."""
    rate, cpu = float(imp["per_s"]), imp["cpu"]
    ref = sum(before + after) / len(before + after)
    return (what + " (tipd verifies + commits)",
            "%.0f ev/s wall, %.0f ev/s per tipd CPU-s" %
            (rate, int(imp["new"]) / cpu if cpu else 0),
            "raw verify %.0f ev/s (1 core, mean of %s before; %s after)" %
            (ref, " ".join("%.0f" % r for r in before), " ".join("%.0f" % r for r in after)),
            "%.2f x raw (wall)" % (rate / ref))


def detail_rows(imp, d):
    """The rows under an import's rate: tipd's CPU by thread, the backlog,
    status latency, memory right after it (read before anything else runs)."""
    cpu, s0 = imp["cpu"], imp["status"]
    rows = []
    rows.append(("... tipd CPU by thread", ", ".join(
        "%s %.1f s" % (k, v) for k, v in sorted(imp["threads"].items(), key=lambda x: -x[1])
        if v >= 0.05), "", ""))
    rows.append(("... ingest backlog (status `pending`), most seen", "%d%s" % (
        imp["pending"][0], "" if imp["peer_cpu"] is None else
        "; the peer's %d, its prunes %s, grafts %s" % (
            imp["pending"][1], imp["peer_gossip"].get("prunes"),
            imp["peer_gossip"].get("grafts"))), "", ""))
    if imp["peer_cpu"] is not None:
        rows.append(("... the linked peer's CPU during the import", "%.1f s (tipd's: %.1f s)" %
                     (imp["peer_cpu"], cpu), "", ""))
    rows.append(("... status during the import", "p50 %.1f ms, p99 %.1f ms, max %.0f ms (%d)" %
                 (pct(s0, 50), pct(s0, 99), max(s0) if s0 else 0, len(s0)), "", ""))
    allp, dirty, hwm = private_mib(d.proc.pid)
    rows.append(("... tipd private memory right after the import",
                 "%.1f MiB (dirty %.1f)" % (allp, dirty), "", ""))
    return rows


def print_rows(rows):
    print("| measure | tipd | reference | ratio |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %s |" % r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tips", type=int, default=1000000)
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build-rel", "bin"))
    ap.add_argument("--corpus", default="/work/shared/corpus/tldr-tips-en.jsonl")
    ap.add_argument("--events", default=None, help="events file to write or reuse")
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--log-level", default="info", help="of the measured tipd (debug: commits)")
    ap.add_argument("--import-only", action="store_true",
                    help="stop after the import: rate, peer link, memory (for iterating)")
    ap.add_argument("--imports", choices=("both", "alone", "linked"), default="both",
                    help="which imports to run: into a tipd alone, into one with a linked "
                    "peer (the read measures use that store), or both (default)")
    a = ap.parse_args()
    os.environ["TIPD_BIN"] = os.path.abspath(a.bin)
    import harness  # noqa: PLC0415 (TIPD_BIN first)
    from harness import Daemon  # noqa: PLC0415
    big = os.path.join(a.bin, "bench-large")
    tip = os.path.join(a.bin, "tip")
    evfile = a.events or os.path.join(a.dir, "tipd-large-%d.b64" % a.tips)
    rows = []
    if not os.path.exists(evfile):
        out = subprocess.run([big, "gen", "-n", str(a.tips), "-o", evfile, a.corpus],
                             check=True, capture_output=True, text=True).stdout
        print(out.strip(), flush=True)
    nev = sum(1 for _ in open(evfile))

    def raw_verify(k=3):
        """k samples of the one-core verify rate, ev/s wall (20,000
        events each, about a second)."""
        return [float(kv(subprocess.run([big, "verify", "-n", "20000", evfile], check=True,
                                        capture_output=True, text=True).stdout)["wall_per_s"])
                for _ in range(k)]

    if a.imports in ("both", "alone"):
        # The import alone first, into a tipd of its own that is then
        # removed: in an office the replicating peer is another machine,
        # here it would take half of the two cores.
        raw0 = raw_verify()
        with Daemon(log_level=a.log_level, tmp=None) as d0:
            imp0, st0 = run_import(d0, big, evfile)
            detail0 = detail_rows(imp0, d0)
        rows += [rate_row("import alone (no peer linked)", imp0, raw0, raw_verify())] + detail0
        if a.imports == "alone":
            print("\n%d tips, %d events in the file; 2 shared cores, load %s\n" %
                  (st0["tips"], nev, open("/proc/loadavg").read().split()[0]))
            return print_rows(rows)
    raw = raw_verify()
    with Daemon(log_level=a.log_level, tmp=None) as d, \
            Daemon(log_level="info", args=["--peer", d.listen]) as peer:
        mapped0 = len(MAPPED.findall(d.log()))
        pmapped0 = len(MAPPED.findall(peer.log()))
        imp, st = run_import(d, big, evfile, peer)
        t0 = time.time()
        what = "import with a linked peer replicating on the same 2 cores"
        at = len(rows)
        rows += detail_rows(imp, d)
        # The reads below are timed once the peer holds everything: on this
        # box its catching up takes a core (in an office it is another
        # machine), and how long it takes is a figure of its own.
        while time.time() - t0 < 600 and peer.status()["events"] < st["events"]:
            time.sleep(1)
        rows.append(("the peer holds every event, after the import", "%.0f s later (%d of %d)" %
                     (time.time() - t0, peer.status()["events"], st["events"]), "", ""))
        if a.import_only:
            # ingest idle 5 s: the writer gives back the commits' memory
            time.sleep(max(0.0, t0 + 8 - time.time()))
            allp, dirty, hwm = private_mib(d.proc.pid)
            rows.append(("tipd private memory 8 s after the import",
                         "%.1f MiB (dirty %.1f)" % (allp, dirty), "", ""))
        # Once ingest is idle tipd reopens the store (memory) and maps the
        # pages the page cache holds in the new mapping (docs/STORE.md);
        # the reads are timed after that, as an office's would be. The
        # peer does the same once it has caught up, a core's work for most
        # of a second here (on another machine in an office): the reads
        # wait for it too.
        t1 = time.time()
        while time.time() - t1 < 30 and (len(MAPPED.findall(d.log())) < mapped0 + 1 or
                                         len(MAPPED.findall(peer.log())) < pmapped0 + 1):
            time.sleep(0.5)
        # The reference after this import, now that nothing else takes a
        # core from it (its row goes above the details).
        rows.insert(at, rate_row(what, imp, raw, raw_verify()))
        if a.import_only:
            return finish(a, d, peer, st, nev, rows)
        for who, log, n0 in (("tipd", d.log(), mapped0), ("the peer", peer.log(), pmapped0)):
            m = MAPPED.findall(log)[n0:]
            rows.append(("store pages mapped after the import (%s's log)" % who,
                         "%s MiB (%s MiB of it read again into 2 MiB pages) in %s ms" % m[-1]
                         if m else "none logged", "", ""))
        c = d.client(timeout=300)
        qs = queries(300)
        ts = []
        for q in qs:
            t0 = time.perf_counter()
            r = c.request({"op": "search", "q": q, "n": 10})
            ts.append((time.perf_counter() - t0) * 1000)
        rows.append(("search via API (%d queries)" % len(qs),
                     "p50 %.1f ms, p99 %.1f ms" % (pct(ts, 50), pct(ts, 99)), "", ""))
        # the daemon's own account of the same searches (status "requests":
        # no search ran before this phase, so its counts are these)
        sq = c.request({"op": "status"})["requests"].get("search", {})
        for k in ("in_daemon", "running"):
            h = sq.get(k, {})
            rows.append(("search, %s (tipd's status)" % k.replace("_", " "),
                         "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d)" %
                         (h.get("p50_ms", 0), h.get("p99_ms", 0), h.get("max_ms", 0),
                          h.get("count", 0)), "", ""))
        # The same questions again, right away: the map as the first pass
        # left it. On a virtual machine whose host samples pages' accessed
        # bits, a mapping idle for half a minute is cold again, which the
        # first pass pays and this one does not (docs/PERFORMANCE.md).
        ts = []
        for q in qs:
            t0 = time.perf_counter()
            c.request({"op": "search", "q": q, "n": 10})
            ts.append((time.perf_counter() - t0) * 1000)
        rows.append(("search via API, the same questions again",
                     "p50 %.1f ms, p99 %.1f ms" % (pct(ts, 50), pct(ts, 99)), "", ""))
        ts = []
        env = dict(os.environ, TIPD_SOCKET=d.sock)
        for q in qs[:40]:
            t0 = time.perf_counter()
            subprocess.run([tip, "--socket", d.sock, "search", q], env=env,
                           capture_output=True)
            ts.append((time.perf_counter() - t0) * 1000)
        rows.append(("tip search (process, 40 queries)",
                     "p50 %.1f ms, p99 %.1f ms" % (pct(ts, 50), pct(ts, 99)), "", ""))
        def cpu_s():
            return proc_cpu(d.proc.pid)
        c0 = cpu_s()
        cold = timed(c, {"op": "stats"}, 1)[0]
        ccold = cpu_s() - c0
        warm = timed(c, {"op": "stats"}, 10)
        # the first request after a write: a new tip, then stats, then
        # today of a (user, date) asked before the write
        aw = evfile + ".after"
        subprocess.run([big, "gen", "-n", "8", "-k", "3", "-o", aw, a.corpus],
                       check=True, capture_output=True)
        news = [ln.strip() for ln in open(aw)][:8]
        os.unlink(aw)
        w = d.client(timeout=60)
        timed(c, {"op": "today", "date": "2026-11-30"}, 1)
        sw, tw = [], []
        for ev in news:
            r = w.request({"op": "submit", "events": [ev]})
            assert r.get("ok"), r
            sw += timed(c, {"op": "stats"}, 1)
            tw += timed(c, {"op": "today", "date": "2026-11-30"}, 1)
        w.close()
        rows.append(("stats", "first after a write p50 %.1f ms, max %.1f ms (%d writes); "
                     "unchanged store p50 %.1f ms; first request after start %.0f ms "
                     "(tipd CPU %.2f s)" % (pct(sw, 50), max(sw), len(sw), pct(warm, 50), cold,
                                            ccold), "", ""))
        author = c.request({"op": "list", "n": 1})["results"][0]["author"]
        me = timed(c, {"op": "stats", "me": author}, 5)
        rows.append(("stats with me", "p50 %.1f ms" % pct(me, 50), "", ""))
        # a (user, date) nobody asked yet: random users, and the author of
        # the newest tip (whose own tips the walk steps over)
        c0 = cpu_s()
        users = [os.urandom(32).hex() for _ in range(NEW_TODAY - 10)] + [author] * 10
        tnew = [timed(c, {"op": "today", "date": "2026-12-%02d" % (i % 28 + 1), "user": u}, 1)[0]
                for i, u in enumerate(users)]
        tcpu = (cpu_s() - c0) / len(users) * 1000
        twarm = timed(c, {"op": "today", "date": "2026-12-01", "user": users[0]}, 20)
        rows.append(("today", "first after a write p50 %.1f ms, max %.1f ms (%d writes); "
                     "new (user, date) p50 %.1f ms, max %.1f ms (%d, tipd CPU %.1f ms each); "
                     "asked again p50 %.1f ms, max %.1f ms" %
                     (pct(tw, 50), max(tw), len(tw), pct(tnew, 50), max(tnew), len(tnew), tcpu,
                      pct(twarm, 50), max(twarm)), "", ""))
        # with the seen list the CLI sends after months (its newest 5000 ids)
        seen, before = [], 0
        while len(seen) < SEEN_IDS:
            rq = {"op": "list", "n": 1000}
            if before:
                rq["before"] = before
            res = c.request(rq)["results"]
            if not res:
                break
            seen += [t["id"] for t in res]
            before = res[-1]["created_at_ms"]
        seen = sorted(set(seen))[:SEEN_IDS]
        # as tip sends them (each id's first 16 hex digits), then whole
        for form, ids in (("as tip sends them", [s[:16] for s in seen]), ("whole", seen)):
            tseen = [timed(c, {"op": "today", "date": "2026-10-%02d" % (i + 1),
                               "user": os.urandom(32).hex(), "seen": ids}, 1)[0]
                     for i in range(10)]
            rows.append(("today with %d seen ids, %s (10 new (user, date)s)" % (len(seen), form),
                         "p50 %.1f ms, max %.1f ms" % (pct(tseen, 50), max(tseen)), "", ""))
        ls = timed(c, {"op": "list", "n": 20}, 50)
        rows.append(("list n=20", "p50 %.1f ms, p99 %.1f ms" % (pct(ls, 50), pct(ls, 99)),
                     "", ""))

        def loop_stats(stop, writer=False):
            cs = [d.client(timeout=600) for _ in range(4)]

            def one(cl):
                while not stop.is_set():
                    cl.request({"op": "stats"})
            ths = [threading.Thread(target=one, args=(cl,)) for cl in cs]
            for t in ths:
                t.start()
            if writer:
                w = d.client(timeout=60)
                wf = evfile + ".writer"
                subprocess.run([big, "gen", "-n", "400", "-k", "7", "-o", wf, a.corpus],
                               check=True, capture_output=True)
                evs = [ln.strip() for ln in open(wf)]
                os.unlink(wf)
                i = 0
                while not stop.is_set() and i < len(evs):
                    w.request({"op": "submit", "events": [evs[i]]})
                    i += 1
                    time.sleep(0.1)
                w.close()
            for t in ths:
                t.join()
            for cl in cs:
                cl.close()

        s1 = status_under(d, loop_stats)
        rows.append(("status while 4 clients loop stats", "p50 %.1f ms, p99 %.1f ms (%d)" %
                     (pct(s1, 50), pct(s1, 99), len(s1)), "", ""))
        s2 = status_under(d, lambda stop: loop_stats(stop, writer=True), seconds=15)
        rows.append(("... and a tip written every 100 ms", "p50 %.1f ms, p99 %.1f ms (%d)" %
                     (pct(s2, 50), pct(s2, 99), len(s2)), "", ""))

        def pipeline(stop):
            p = d.client(timeout=600)
            for i in range(256):
                p.send({"op": "stats", "weeks": 1 + i % 52})
            for _ in range(256):
                p.recv()
            p.close()
        s3 = status_under(d, pipeline)
        rows.append(("status during a 256-stats pipeline", "p50 %.1f ms, p99 %.1f ms (%d)" %
                     (pct(s3, 50), pct(s3, 99), len(s3)), "", ""))
        c.close()
        finish(a, d, peer, st, nev, rows, big)


def restarts(d, big):
    """A restart reads the kept figures back; a schema-3 store (no figures)
    gets them built once at open, and an index written by index version 1
    is rebuilt once: time each, and the first stats (or search) after."""
    out = []
    for what in ("restart", "migration", "reindex"):
        d.stop(timeout=120)
        if what == "migration":
            subprocess.run([big, "unfigure", d.data], check=True, capture_output=True)
        if what == "reindex":
            subprocess.run([big, "unindex", d.data], check=True, capture_output=True)
        t0 = time.perf_counter()
        d.start(timeout=3600)
        ready = time.perf_counter() - t0
        c = d.client(timeout=300)
        first = timed(c, {"op": "stats"}, 1)[0]
        c.close()
        if what == "reindex":
            m = re.findall(r"rebuilt the search index from (\d+) tips in ([\d.]+) s", d.log())
            out.append(("index version 1 opened (search index rebuilt once)",
                        "%s; ready in %.0f s" %
                        ("rebuilt from %s tips in %s s" % m[-1] if m else "NOT rebuilt", ready),
                        "", ""))
            continue
        m = re.findall(r"built the stats figures from (\d+) held events in ([\d.]+) s", d.log())
        if what == "restart":
            out.append(("restart (figures read back)", "ready in %.1f s; first stats %.1f ms" %
                        (ready, first), "", ""))
        else:
            out.append(("schema 3 store opened (figures built once)",
                        "%s; ready in %.0f s; first stats %.1f ms" %
                        ("built from %s events in %s s" % m[-1] if m else "NOT built",
                         ready, first), "", ""))
    return out


if __name__ == "__main__":
    main()
