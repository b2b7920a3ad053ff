"""test_api_readers.py -- reads run on reader threads: a slow read of one
client never holds up another client's request, replies to one client keep
their order, and a client that pipelines waits behind its own requests.

A read is made slow on purpose with the test-only hook of Debug builds
(TIPD_TEST_READ_DELAY="op:ms", docs/API.md): every request of that op
sleeps that long on its reader thread, inside its read view. The test
skips on a build without the hook. Assertions are about order (which reply
is there first), never about how long anything took.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, check, eq, mkevent, need_hooks, run_tests  # noqa: E402


def seed(d, n=5):
    evs = mkevent("--count", str(n), "--title", "reader test tip").split("\n")
    r = d.api({"op": "submit", "events": evs})
    check(r["ok"], r)


def test_slow_read_is_overtaken_by_status_and_reads():
    need_hooks()
    with Daemon(env={"TIPD_TEST_READ_DELAY": "stats:3000"}) as d:
        seed(d)
        slow = d.client(timeout=30)
        slow.send({"op": "stats", "tag": "slow"})
        other = d.client(timeout=30)
        eq(other.request({"op": "status", "tag": "s"})["tag"], "s")
        r = other.request({"op": "search", "q": "reader test", "tag": "q"})
        eq(r["tag"], "q")
        eq(len(r["results"]), 5)
        eq(other.request({"op": "list", "tag": "l"})["tag"], "l")
        # all three answered while the stats request is still with its reader
        # (100 ms lets a reply that was already sent arrive: then it came first)
        check(not slow.poll(100), "the slow stats answered before the other client's requests")
        r = slow.recv()
        eq(r["tag"], "slow")
        check(r["ok"], r)
        eq(r["tips"], 5)
        slow.close()
        other.close()


def test_replies_keep_order_per_client():
    need_hooks()
    with Daemon(env={"TIPD_TEST_READ_DELAY": "list:1500"}) as d:
        seed(d)
        c = d.client(timeout=30)
        # a slow read, then a fast read (on another reader), a loop op, a bad
        # request and a submit: answered out of order, sent in order
        evs = mkevent("--count", "1", "--title", "late tip").split("\n")
        reqs = [{"op": "list", "tag": 0}, {"op": "search", "q": "reader", "tag": 1},
                {"op": "status", "tag": 2}, {"op": "get", "id": "zz", "tag": 3},
                {"op": "submit", "events": evs, "tag": 4}, {"op": "questions", "tag": 5}]
        for r in reqs:
            c.send(r)
        got = [c.recv() for _ in reqs]
        eq([r["tag"] for r in got], [0, 1, 2, 3, 4, 5])
        eq([r["ok"] for r in got], [True, True, True, False, True, True])
        eq(got[3]["error"], "bad_request")
        eq(len(got[0]["results"]), 5)
        c.close()


def test_a_flooding_client_waits_behind_itself():
    need_hooks()
    with Daemon(env={"TIPD_TEST_READ_DELAY": "list:1000"}) as d:
        seed(d)
        flood = d.client(timeout=60)
        n = 8
        for i in range(n):
            flood.send({"op": "list", "tag": i})
        other = d.client(timeout=30)
        # a read of another client gets a reader while the flood holds at most
        # its share of them
        r = other.request({"op": "search", "q": "reader", "tag": "mine"})
        eq(r["tag"], "mine")
        r = other.request({"op": "today", "date": "2026-12-03", "tag": "t"})
        eq(r["tag"], "t")
        check(r["tip"] is not None, r)
        got = 0
        while flood.poll(100):  # replies already sent arrive; the rest are still running
            flood.recv()
            got += 1
        # none of the flood came first: it holds at most API_CLIENT_READS (2)
        # of the 3 readers, so the other client never waited for it
        eq(got, 0, "flood replies that came before the other client's reads")
        tags = [flood.recv()["tag"] for _ in range(n - got)]
        eq(tags, list(range(got, n)))
        flood.close()
        other.close()


def test_a_client_past_its_bound_waits_alone():
    """More requests than the daemon reads at once (1024 owed answers), all
    from one client: past its own bound (64) they wait parked, so the daemon
    keeps reading and another client's requests are answered at once, not
    when one of the flood's slow requests frees a place."""
    need_hooks()
    with Daemon(env={"TIPD_TEST_READ_DELAY": "list:3000"}) as d:
        seed(d)
        flood = d.client(timeout=60)
        n = 1100
        for i in range(n):
            flood.send({"op": "list", "n": 1, "tag": i})
        time.sleep(1.0)  # the daemon reads what it will of the flood first
        other = d.client(timeout=30)
        eq(other.request({"op": "status", "tag": "s"})["tag"], "s")
        eq(other.request({"op": "search", "q": "reader", "tag": "q"})["tag"], "q")
        # the flood's first lists (3 s each) are still running: none of its
        # replies came before the other client's
        check(not flood.poll(100), "the other client waited for a flood reply")
        eq(flood.recv()["tag"], 0)
        flood.close()
        eq(other.request({"op": "status", "tag": "end"})["tag"], "end")
        other.close()


def test_status_counts_each_ops_answers_and_their_time():
    """status reports, per op, how many answers went out and how long they
    took in the daemon and running: a list made slow by 400 ms counts that
    much at least, a request no op took is not counted, and the status
    being answered is not yet counted in itself."""
    need_hooks()
    with Daemon(env={"TIPD_TEST_READ_DELAY": "list:400"}) as d:
        seed(d)
        c = d.client(timeout=30)
        for i in range(3):
            eq(c.request({"op": "list", "n": 1})["ok"], True)
        eq(c.request({"op": "search", "q": "reader"})["ok"], True)
        eq(c.request({"op": "no_such_op"})["error"], "bad_request")
        st = c.request({"op": "status"})
        req = st["requests"]
        # (the harness asked status while waiting for the daemon)
        eq(sorted(k for k in req if k != "status"), ["list", "search", "submit"])
        eq(req["list"]["in_daemon"]["count"], 3)
        eq(req["list"]["running"]["count"], 3)
        eq(req["search"]["in_daemon"]["count"], 1)
        eq(req["submit"]["in_daemon"]["count"], 1)
        lst = req["list"]
        for k in ("p50_ms", "p99_ms", "max_ms", "mean_ms"):
            check(lst["running"][k] >= 400, (k, lst))
            check(lst["in_daemon"][k] >= 400, (k, lst))
        check(lst["in_daemon"]["p50_ms"] <= lst["in_daemon"]["p99_ms"] <= lst["in_daemon"]["max_ms"], lst)
        before = req["status"]["in_daemon"]["count"] if "status" in req else 0
        eq(c.request({"op": "status"})["requests"]["status"]["in_daemon"]["count"], before + 1)
        c.close()


if __name__ == "__main__":
    run_tests(globals())
