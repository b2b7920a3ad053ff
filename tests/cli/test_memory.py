"""test_memory.py -- tipd gives back the memory of big write batches.

After a commit of 64+ events, once ingest has been quiet for 5 s, tipd
reopens its LMDB environment (store_release_memory) to free the page buffers
LMDB keeps after a large transaction (docs/PERFORMANCE.md, Memory). These
tests wait for that to happen (the debug log says so) and check that nothing
changed for clients: every event is still there and searchable, duplicates
are still duplicates, new events go in, and it happens again after the next
big batch. After a start and after each reopen, the writer maps the pages
of the store the page cache holds (store_map_warm) once ingest is idle.
Memory figures themselves are measured in bench/memory.py, not asserted
here.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, eq, mkevent, run_tests  # noqa: E402

RELEASED = "released the store's transaction memory"
MAPPED = re.compile(r"store: mapped the ([\d.]+) MiB of the database the page cache holds")


def wait_mapped_after_release(d, timeout=30.0):
    """Wait until the writer has mapped the reopened store's resident pages
    (store_map_warm) after the last release; return the MiB it mapped."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        log = d.log()
        tail = log[log.rfind(RELEASED):]
        m = MAPPED.findall(tail)
        if RELEASED in log and m:
            return float(m[-1])
        time.sleep(0.2)
    raise AssertionError("no mapping of the store after the release:\n%s" % d.log())


def wait_log(d, text, count, timeout=30.0):
    """Wait until text appears count times in the daemon's log."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if d.log().count(text) >= count:
            return
        time.sleep(0.2)
    raise AssertionError("log never said %r %d time(s):\n%s" % (text, count, d.log()))


def test_release_after_big_batch_keeps_everything():
    with Daemon() as d:
        # at start, the store's pages are mapped ahead of the readers
        wait_log(d, "store: mapped the", 1)
        home = d.home("ana")
        evs = mkevent("--home", home, "--title", "lighthouse keeping", "--body",
                      "trim the wick and polish the lens", "-t", "sea",
                      "--count", "300").split("\n")
        eq(len(evs), 300)
        r = d.api({"op": "submit", "events": evs})
        check(r["ok"], r)
        eq([x["status"] for x in r["results"]], ["new"] * 300)
        ids = [x["id"] for x in r["results"]]
        wait_log(d, RELEASED, 1)
        # and again in the reopened environment, which starts with none
        check(wait_mapped_after_release(d) > 0)

        st = d.status()
        eq(st["events"], 300)
        eq(st["tips"], 300)
        r = d.api({"op": "search", "q": "lighthouse wick", "n": 100})
        check(r["ok"], r)
        eq(len(r["results"]), 100)
        for i in (0, 150, 299):
            g = d.api({"op": "get", "id": ids[i]})
            check(g["ok"], g)
            eq(g["event"]["id"], ids[i])

        # Still duplicates after the reopen; a new small batch goes in and
        # does not trigger another release (below 64 events).
        r = d.api({"op": "submit", "events": evs[:50]})
        eq([x["status"] for x in r["results"]], ["duplicate"] * 50)
        more = mkevent("--home", home, "--title", "foghorn drill", "--body",
                       "sound it every two minutes in fog", "--count", "10").split("\n")
        r = d.api({"op": "submit", "events": more})
        eq([x["status"] for x in r["results"]], ["new"] * 10)
        r = d.api({"op": "search", "q": "foghorn", "n": 20})
        eq(len(r["results"]), 10)

        # The next big batch is released again.
        big = mkevent("--home", home, "--title", "buoy check", "--body",
                      "count the buoys at dawn", "--count", "100").split("\n")
        r = d.api({"op": "submit", "events": big})
        eq([x["status"] for x in r["results"]], ["new"] * 100)
        wait_log(d, RELEASED, 2)
        check(wait_mapped_after_release(d) > 0)
        eq(d.status()["events"], 410)
        eq(d.log().count(RELEASED), 2)
        check("release memory failed" not in d.log(), d.log())
        check("mapping was not found" not in d.log(), d.log())

        d.restart()
        eq(d.status()["events"], 410)
        r = d.api({"op": "search", "q": "buoys dawn", "n": 100})
        eq(len(r["results"]), 100)


if __name__ == "__main__":
    run_tests(globals())
