"""test_social_sync.py -- social events replicate: two tipd on loopback.

Machine 1 (three workers) and machine 2 (one worker), linked with --peer on
127.0.0.1. Ratings, thanks with stories, questions and answers, edits,
retractions and an anonymous post made on either machine end up meaning the
same on both: identical event sets, identical `stats` (except `misses`, which
each machine keeps for itself) and identical tip objects. Waiting polls for a
state, bounded by a generous deadline; nothing asserts how fast.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, check, eq, run_tests  # noqa: E402

DEADLINE = 60.0


def wait_for(what, fn):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise harness.TestFailure("timed out waiting for " + what)


def export_ids(d):
    out, after = set(), None
    while True:
        req = {"op": "export", "n": 1000}
        if after:
            req["after"] = after
        r = d.api(req)
        check(r.get("ok"), r)
        out.update(r["events"])
        after = r.get("next")
        if not after:
            return out


def same_events(a, b):
    return export_ids(a) == export_ids(b)


def add(d, *args, home):
    return d.tip_json("add", *args, home=home)[0]["id"]


def stats(d):
    st = d.api({"op": "stats", "now": 1900000000000})
    check(st.get("ok"), st)
    for k in ("ok", "tag", "misses"):
        st.pop(k, None)
    return st


def test_everything_replicates():
    with Daemon() as m1:
        m2 = Daemon(args=["--peer", m1.listen])
        try:
            wait_for("the two nodes to link", lambda: m1.status()["peers"] >= 1
                     and m2.status()["peers"] >= 1)
            home = lambda d, n: d.home(n)  # noqa: E731
            for n, name in (("ana", "Ana"), ("bo", "Bo"), ("carol", "Carol")):
                m1.tip("whoami", "--name", name, home=home(m1, n))
            m2.tip("whoami", "--name", "Dan", "--team", "site-b", home=home(m2, "dan"))
            t1 = add(m1, "-t", "git", "Undo the last commit", home=home(m1, "ana"))
            t2 = add(m1, "-t", "dns", "Flush DNS: resolvectl flush-caches", home=home(m1, "bo"))
            anon = add(m1, "--anon", "-t", "lesson", "Skipping CI broke the build",
                       home=home(m1, "carol"))
            t3 = add(m1, "Printer on floor 3 is broken", home=home(m1, "carol"))
            wait_for("tips to reach machine 2", lambda: m2.status()["tips"] == 4)
            # Machine 2's worker rates and thanks machine 1's tips, and asks.
            m2.tip_json("rate", t1, "5", home=home(m2, "dan"))
            m2.tip_json("thanks", t1, "saved", "me", "at", "site", "b", home=home(m2, "dan"))
            qid = m2.tip_json("ask", "--yes", "Who has the spare projector?",
                              home=home(m2, "dan"))[0]["id"]
            wait_for("the question to reach machine 1",
                     lambda: m1.api({"op": "get", "id": qid}).get("ok"))
            m1.tip_json("answer", qid, "Room 4, left cupboard", home=home(m1, "carol"))
            m1.tip_json("rate", t1, "3", home=home(m1, "bo"))
            m1.tip_json("rate", t1, "4", home=home(m1, "bo"))  # latest wins, everywhere
            v2 = m1.tip_json("edit", t2, "Flush DNS\nsudo resolvectl flush-caches",
                             home=home(m1, "bo"))[0]["id"]
            m1.tip_json("retract", "--yes", t3, home=home(m1, "carol"))
            wait_for("both nodes to hold the same events", lambda: same_events(m1, m2))
            s1, s2 = stats(m1), stats(m2)
            eq(s1, s2)
            eq((s2["tips"], s2["questions"], s2["answers"], s2["open_questions"]), (4, 1, 1, 0))
            eq(s2["anonymous_posts"], 1)
            eq((s2["thanks"], s2["ratings"], s2["rating"], s2["contributors"]), (1, 2, 4.5, 4))
            eq([s["story"] for s in s2["stories"]], ["saved me at site b"])
            for tid in (t1, v2, qid, anon):
                a = m1.api({"op": "get", "id": tid})["event"]
                b = m2.api({"op": "get", "id": tid})["event"]
                eq(a, b)
            t = m2.api({"op": "get", "id": t1})["event"]
            eq((t["rating"], t["ratings"], t["thanks"], t["author_name"]), (4.5, 2, 1, "Ana"))
            eq(m2.api({"op": "get", "id": t2})["event"]["latest"], v2)
            eq(m2.api({"op": "get", "id": anon})["event"]["anonymous"], True)
            r = m2.api({"op": "get", "id": t3})
            eq((r["ok"], r.get("retracted")), (False, True))
            q = m2.api({"op": "get", "id": qid})["event"]
            eq([x["title"] for x in q["answers_list"]], ["Room 4, left cupboard"])
        finally:
            m2.cleanup()


if __name__ == "__main__":
    harness.need_binary(harness.TIPD)
    harness.need_binary(harness.TIP)
    run_tests(globals())
