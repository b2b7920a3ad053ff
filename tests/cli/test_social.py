"""test_social.py -- the social-learning commands end to end.

Real tipd, real tip, several TIP_HOMEs on one daemon = several workers on one
machine: rate, thanks, ask/answer/questions, edit/retract, --anon, today,
stats. Every assertion is on exact values; nothing on timing.
"""

import csv
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, check, eq, run_tests  # noqa: E402


def add(d, *args, home="default"):
    out = d.tip_json("add", *args, home=home)
    eq(len(out), 1, "add prints one object")
    return out[0]["id"]


def show(d, tid, *args, home="default"):
    out = d.tip_json("show", *args, tid, home=home)
    eq(len(out), 1)
    return out[0]


def key(d, home):
    return d.tip_json("whoami", home=home)[0]["key"]


def people(d):
    """Three workers with names: ana (ops), bo (dev), carol (dev)."""
    for h, n, t in (("ana", "Ana", "ops"), ("bo", "Bo", "dev"), ("carol", "Carol", "dev")):
        rc, out, err = d.tip("whoami", "--name", n, "--team", t, home=h)
        eq(rc, 0, err)


def run_tty(d, args, home, typed, argv=None, extra_env=None):
    """Run tip (or argv) on a pty, typing `typed` -> (exit code, output text)."""
    env = dict(os.environ)
    for k in ("NO_COLOR", "PAGER", "TIP_HOME", "TIP_SOCKET"):
        env.pop(k, None)
    env.update({"TIP_SOCKET": d.sock, "TIP_HOME": d.home(home), "LC_ALL": "C.UTF-8",
                "XDG_STATE_HOME": os.path.join(d.home(home), "state"),
                "TERM": "dumb", "PAGER": "cat", "NO_COLOR": "1"})
    env.update(extra_env or {})
    argv = argv or [harness.TIP] + list(args)
    rc, out = harness.pty_run(argv, env, typed=typed, timeout=60)
    return rc, out.decode("utf-8", "replace")


# ---- ratings and thanks ----


def test_rate_latest_wins():
    with Daemon() as d:
        people(d)
        tid = add(d, "-t", "git", "Undo the last commit", home="ana")
        t = show(d, tid)
        eq((t["rating"], t["ratings"], t["thanks"]), (None, 0, 0))
        rc, out, err = d.tip("show", tid)
        check("no ratings yet" in out, out)
        r = d.tip_json("rate", tid, "2", home="bo")[0]
        eq((r["target"], r["score"], r["rating"], r["ratings"]), (tid, 2, 2.0, 1))
        r = d.tip_json("rate", tid, "5", home="bo")[0]
        eq((r["rating"], r["ratings"]), (5.0, 1))
        t = show(d, tid)
        eq((t["rating"], t["ratings"]), (5.0, 1))
        eq([x["value"] for x in t["ratings_list"]], [5])
        d.tip_json("rate", tid[:8], "3", home="carol")
        t = show(d, tid)
        eq((t["rating"], t["ratings"]), (4.0, 2))
        rc, out, err = d.tip("show", tid)
        check("rated 4.0/5 (2 ratings)" in out, out)
        rc, out, err = d.tip("rate", tid, "5", home="ana")  # your own
        eq(rc, 5, err)
        for bad in ("0", "6", "x", "4.5"):
            rc, out, err = d.tip("rate", tid, bad, home="bo")
            eq(rc, 2, bad, err)
        rc, out, err = d.tip("rate", "ffffffff", "4", home="bo")
        eq(rc, 3, err)
        eq(show(d, tid)["ratings"], 2)


def test_thanks_story_and_search_prior():
    with Daemon() as d:
        people(d)
        plain = add(d, "--title", "Restart the print spooler", "sudo systemctl restart cups",
                    home="ana")
        loved = add(d, "--title", "Restart the print spooler", "sudo systemctl restart cups",
                    home="bo")
        hits = [h["id"] for h in d.tip_json("search", "restart print spooler")]
        eq(sorted(hits), sorted([plain, loved]))
        story = "saved me an hour before the board meeting"
        r = d.tip_json("thanks", loved, *story.split(), home="carol")[0]
        eq((r["target"], r["story"], r["thanks"]), (loved, story, 1))
        d.tip_json("thanks", loved, home="ana")  # no story
        d.tip_json("rate", loved, "5", home="carol")
        t = show(d, loved)
        eq(t["thanks"], 2)
        eq([(x["author_name"], x["story"]) for x in t["thanks_list"]],
           [("Carol", story), ("Ana", "")])
        rc, out, err = d.tip("show", loved)
        eq(rc, 0, err)
        check(story in out and "Carol" in out and "thanked 2 times" in out, out)
        # Ratings and thanks lift it above its identical twin.
        hits = [h["id"] for h in d.tip_json("search", "restart print spooler")]
        eq(hits, [loved, plain])
        st = d.tip_json("stats")[0]
        eq([(s["story"], s["from_name"], s["to_name"], s["tip"]) for s in st["stories"]],
           [(story, "Carol", "Bo", loved)])
        rc, out, err = d.tip("thanks", loved, "x" * 1025, home="carol")
        eq(rc, 2, err)
        rc, out, err = d.tip("thanks", loved, "thanks me", home="bo")
        eq(rc, 5, err)
        eq(show(d, loved)["thanks"], 2)


# ---- questions and answers ----


def test_ask_finds_similar():
    with Daemon() as d:
        people(d)
        tid = add(d, "-t", "vpn", "--title", "Reset a forgotten VPN password",
                  "Open the self-service portal and choose reset.", home="ana")
        r = d.tip_json("ask", "How do I reset my VPN password?", home="bo")[0]
        eq(r["status"], "new")
        check(tid in [s["id"] for s in r["similar"]], r)
        q = show(d, r["id"])
        eq((q["kind"], q["title"], q["author_name"]), ("question", "How do I reset my VPN password?",
                                                      "Bo"))
        # Human output lists the look-alikes before posting.
        rc, out, err = d.tip("ask", "-t", "vpn", "forgotten VPN password reset", home="carol")
        eq(rc, 0, err)
        check("look like the same thing" in out and tid[:8] in out, out)
        # On a terminal it asks; "n" keeps it unposted.
        before = d.status()["questions"]
        rc, out = run_tty(d, ["ask", "reset the VPN password"], "carol", "n\n")
        eq(rc, 0, out)
        check("Post your question anyway?" in out and "Not posted" in out, out)
        eq(d.status()["questions"], before)
        rc, out = run_tty(d, ["ask", "reset the VPN password"], "carol", "y\n")
        eq(rc, 0, out)
        eq(d.status()["questions"], before + 1)
        rc, out = run_tty(d, ["ask", "--yes", "reset my VPN password please"], "carol", "")
        eq(rc, 0, out)
        check("anyway?" not in out, out)
        eq(d.status()["questions"], before + 2)


def test_answers_best_rated_first():
    with Daemon() as d:
        people(d)
        d.home("dave")
        qid = d.tip_json("ask", "-t", "ssh", "--yes", "How do I keep ssh sessions alive?",
                         home="bo")[0]["id"]
        a1 = d.tip_json("answer", qid, "Use tmux", "on the server", home="ana")[0]
        eq(a1["question"], qid)
        a2 = d.tip_json("answer", qid, "ServerAliveInterval 60 in ~/.ssh/config",
                        home="carol")[0]
        d.tip_json("rate", a1["id"], "2", home="dave")
        d.tip_json("rate", a2["id"], "5", home="dave")
        q = show(d, qid)
        eq(q["answers"], 2)
        eq([a["id"] for a in q["answers_list"]], [a2["id"], a1["id"]])
        a = show(d, a1["id"])
        eq((a["kind"], a["topics"], a["title"], a["body"]), ("tip", ["ssh"], "Use tmux on the server", ""))
        eq([r["role"] for r in a["refs"]], ["answers"])
        rc, out, err = d.tip("show", qid)
        eq(rc, 0, err)
        check("Answers" in out, out)
        check(out.index("ServerAliveInterval") < out.index("Use tmux"), out)
        rc, out, err = d.tip("answer", a1["id"], "answering a tip", home="bo")
        eq(rc, 2, err)
        # An edited answer still answers, and shows as its newest version.
        e = d.tip_json("edit", a2["id"], "ServerAliveInterval 30 in ~/.ssh/config",
                       home="carol")[0]["id"]
        eq([r["role"] for r in show(d, e)["refs"]], ["answers", "supersedes"])
        q = show(d, qid)
        eq(q["answers"], 2)
        eq(sorted(a["id"] for a in q["answers_list"]), sorted([e, a1["id"]]))
        eq(d.tip_json("questions")[0]["answers"], 2)


def test_questions_open_order():
    with Daemon() as d:
        people(d)
        q1 = d.tip_json("ask", "--yes", "First question about printers", home="bo")[0]["id"]
        q2 = d.tip_json("ask", "--yes", "Second question about badges", home="carol")[0]["id"]
        q3 = d.tip_json("ask", "--yes", "Third question about parking", home="bo")[0]["id"]
        d.tip_json("answer", q1, "Printers live on floor 2", home="ana")
        qs = d.tip_json("questions")
        eq([q["id"] for q in qs], [q2, q3, q1])
        eq([q["answers"] for q in qs], [0, 0, 1])
        eq([q["id"] for q in d.tip_json("questions", "--open")], [q2, q3])
        rc, out, err = d.tip("questions", "--open")
        eq(rc, 0, err)
        check("unanswered" in out and q2[:8] in out and q1[:8] not in out, out)
        eq(d.tip_json("stats")[0]["open_questions"], 2)


def test_edited_question_keeps_answers():
    with Daemon() as d:
        people(d)
        q = d.tip_json("ask", "--yes", "Where is the wiki?", home="bo")[0]["id"]
        a = d.tip_json("answer", q, "wiki.internal", home="ana")[0]["id"]
        q2 = d.tip_json("edit", q, "Where is the team wiki?", home="bo")[0]["id"]
        t = show(d, q2)
        eq((t["title"], t["answers"], [x["id"] for x in t["answers_list"]]),
           ("Where is the team wiki?", 1, [a]))
        qs = d.tip_json("questions")
        eq([(x["id"], x["answers"]) for x in qs], [(q2, 1)])
        eq(d.tip_json("questions", "--open"), [])
        eq(d.tip_json("stats")[0]["open_questions"], 0)


# ---- edits and retractions ----


def test_edit_supersede_chain():
    with Daemon() as d:
        people(d)
        v1 = add(d, "-t", "dns", "Flush the DNS cache: resolvectl flush-caches", home="ana")
        v2 = d.tip_json("edit", v1, "Flush the DNS cache\nsudo resolvectl flush-caches",
                        home="ana")[0]
        eq(v2["supersedes"], v1)
        v2 = v2["id"]
        t = show(d, v2)
        eq((t["title"], t["body"], t["topics"]), ("Flush the DNS cache",
                                                  "sudo resolvectl flush-caches", ["dns"]))
        eq([h["id"] for h in d.tip_json("search", "flush dns cache")], [v2])
        eq([t["id"] for t in d.tip_json("list")], [v2])
        # A third version by title only keeps the text; v1 resolves to v3.
        v3 = d.tip_json("edit", "--title", "Flush DNS (systemd)", v1, home="ana")[0]
        eq(v3["supersedes"], v2)
        v3 = v3["id"]
        t = show(d, v1)
        eq((t["id"], t["title"], t["body"]), (v3, "Flush DNS (systemd)",
                                              "sudo resolvectl flush-caches"))
        t = show(d, v3, "--history")
        eq([h["id"] for h in t["history"]], [v2, v1])
        rc, out, err = d.tip("show", "--history", v3)
        check("Earlier versions" in out and v2[:8] in out and v1[:8] in out, out)
        eq([h["id"] for h in d.tip_json("search", "flush dns")], [v3])
        rc, out, err = d.tip("edit", v3, home="ana")
        eq(rc, 2, err)


def test_edit_keeps_ratings_and_thanks():
    """Issue #6: an edit carries what the earlier versions earned."""
    with Daemon() as d:
        people(d)
        v1 = add(d, "-t", "vpn", "Reconnect the VPN: nmcli con up office", home="ana")
        d.tip_json("rate", v1, "4", home="bo")
        story = "got me back online in the train"
        d.tip_json("thanks", v1, *story.split(), home="carol")
        v2 = d.tip_json("edit", v1, "Reconnect the VPN\nnmcli connection up office",
                        home="ana")[0]["id"]
        t = show(d, v2)
        eq((t["id"], t["rating"], t["ratings"], t["thanks"]), (v2, 4.0, 1, 1))
        eq([(x["author_name"], x["value"]) for x in t["ratings_list"]], [("Bo", 4)])
        eq([(x["author_name"], x["story"]) for x in t["thanks_list"]], [("Carol", story)])
        rc, out, err = d.tip("show", v2)
        eq(rc, 0, err)
        check("rated 4.0/5" in out and story in out and "no ratings yet" not in out, out)
        eq([(x["id"], x["ratings"], x["thanks"]) for x in d.tip_json("list")], [(v2, 1, 1)])
        # bo rates again (the old id rates the newest version): still one rater.
        d.tip_json("rate", v1, "2", home="bo")
        t = show(d, v2, "--history")
        eq((t["rating"], t["ratings"], t["thanks"]), (2.0, 1, 1))
        # The earlier version keeps its own figures in the history.
        eq([(h["id"], h["rating"], h["ratings"], h["thanks"]) for h in t["history"]],
           [(v1, 4.0, 1, 1)])
        st = d.tip_json("stats")[0]
        eq((st["tips"], st["ratings"], st["rating"], st["thanks"]), (1, 1, 2.0, 1))
        # Stories of every version, oldest first.
        d.tip_json("thanks", v2, "still", "works", home="bo")
        t = show(d, v2)
        eq(t["thanks"], 2)
        eq([(x["author_name"], x["story"]) for x in t["thanks_list"]],
           [("Carol", story), ("Bo", "still works")])


def test_edit_in_editor():
    with Daemon() as d:
        people(d)
        v1 = add(d, "-t", "vpn", "VPN hint\nold body", home="ana")
        ed = os.path.join(d.tmp, "ed.sh")
        with open(ed, "w") as f:  # replace "old" by "new" in the template
            f.write("#!/bin/sh\nsed -i 's/old body/new body/' \"$1\"\n")
        os.chmod(ed, 0o755)
        rc, out = run_tty(d, ["--json", "edit", v1], "ana", "", extra_env={"EDITOR": ed})
        eq(rc, 0, out)
        v2 = json.loads(out.strip().splitlines()[-1])["id"]
        t = show(d, v1)
        eq((t["id"], t["title"], t["body"], t["topics"]), (v2, "VPN hint", "new body", ["vpn"]))
        # Saved unchanged: no new version.
        with open(ed, "w") as f:
            f.write("#!/bin/sh\ntrue\n")
        events = d.status()["events"]
        rc, out = run_tty(d, ["edit", v2], "ana", "", extra_env={"EDITOR": ed})
        eq(rc, 0, out)
        check("unchanged" in out, out)
        eq(d.status()["events"], events)


def test_others_cannot_edit_or_retract():
    with Daemon() as d:
        people(d)
        tid = add(d, "Label printer needs the blue cable", home="ana")
        events = d.status()["events"]
        rc, out, err = d.tip("edit", tid, "Vandalised", home="bo")
        eq(rc, 5, err)
        check("only its author" in err, err)
        rc, out, err = d.tip("retract", "--yes", tid, home="bo")
        eq(rc, 5, err)
        eq(d.status()["events"], events)
        # A hand-made retraction signed by bo, straight through the API.
        ev = harness.mkevent("--home", d.home("bo"), "--kind", "retract", "--title", "",
                             "--body", "", "--ref", "target:" + tid)
        r = d.api({"op": "submit", "events": [ev]})
        eq(r["results"][0]["status"], "new", r)
        t = show(d, tid)
        eq(t["title"], "Label printer needs the blue cable")
        eq([h["id"] for h in d.tip_json("search", "label printer blue cable")], [tid])
        # ... and a hand-made edit by bo hides nothing either.
        ev = harness.mkevent("--home", d.home("bo"), "--kind", "tip", "--title", "Hijack",
                             "--ref", "supersedes:" + tid)
        eq(d.api({"op": "submit", "events": [ev]})["results"][0]["status"], "new")
        eq(show(d, tid)["superseded"], False)


def test_retract():
    with Daemon() as d:
        people(d)
        keep = add(d, "Coffee machine descaling is on Fridays", home="ana")
        v1 = add(d, "-t", "wifi", "Guest wifi password is on the fridge", home="ana")
        v2 = d.tip_json("edit", v1, "Guest wifi password: ask reception", home="ana")[0]["id"]
        d.tip_json("rate", v2, "4", home="bo")
        eq(d.status()["tips"], 2)
        r = d.tip_json("retract", "--yes", v1, home="ana")[0]
        eq(r["retracted"], [v2, v1])
        for v in (v1, v2):
            rc, out, err = d.tip("show", v)
            eq(rc, 3, err)
            check("retracted" in err, err)
        eq(d.tip_json("search", "guest wifi password"), [])
        eq([t["id"] for t in d.tip_json("list")], [keep])
        eq(d.status()["tips"], 1)
        eq(d.tip_json("stats")[0]["tips"], 1)


# ---- anonymous posts ----


def test_anon_unlinked():
    with Daemon() as d:
        people(d)
        me = key(d, "ana")
        add(d, "A named tip by Ana", home="ana")
        aid = add(d, "--anon", "-t", "lesson", "I deleted prod on Friday; here is what we changed",
                  home="ana")
        t = show(d, aid)
        check(t["author"] != me, "anon tip signed with the user's key")
        eq((t["anonymous"], t["author_name"], t["author_team"]), (True, "", ""))
        eq(t["created_at_ms"] % 60000, 0)
        eq(show(d, add(d, "Another named tip", home="ana"))["anonymous"], False)
        # Nothing else was signed by the one-time key.
        every = d.api({"op": "list", "kind": "any", "n": 1000, "all": True})["results"]
        eq([e["id"] for e in every if e["author"] == t["author"]], [aid])
        rc, out, err = d.tip("show", aid)
        check("anonymous" in out and "Ana" not in out, out)
        # On the wire/export: the one-time key, nothing that names Ana.
        rc, out, err = d.tip("export")
        eq(rc, 0, err)
        lines = [json.loads(ln) for ln in out.splitlines()]
        mine = [ln for ln in lines if ln["author"] == t["author"]]
        eq([ln["id"] for ln in mine], [aid])
        check(me not in json.dumps(mine), mine)
        rc, out, err = d.tip("list")
        check("anonymous" in out, out)
        eq(d.tip_json("stats")[0]["anonymous_posts"], 1)
        eq(d.tip_json("stats")[0]["contributors"], 1)


# ---- tip of the day ----


def test_today_stable_and_silent():
    with Daemon() as d:
        people(d)
        # Nothing to show yet: silent.
        rc, out, err = d.tip("today", home="bo")
        eq((rc, out, err), (0, "", ""))
        ids = [add(d, "Tip number %d about shells" % i, home="ana") for i in range(8)]
        d.tip_json("rate", ids[3], "5", home="carol")
        first = d.tip_json("today", home="bo")[0]
        check(first["id"] in ids, first)
        check(len(first["date"]) == 10, first)
        eq(d.tip_json("today", home="bo")[0]["id"], first["id"])
        rc, out, err = d.tip("today", home="bo")
        eq(rc, 0, err)
        check(out.startswith("Tip of the day: ") and first["title"] in out, out)
        # Deterministic, not only remembered: without the pin file, same pick.
        os.unlink(os.path.join(d.home("bo"), "today"))
        eq(d.tip_json("today", home="bo")[0]["id"], first["id"])
        # A tip by another author arriving does not disturb the day unless it wins.
        seen = open(os.path.join(d.home("bo"), "seen")).read()
        check(first["id"] in seen, seen)
        # Own tips are never offered: ana has only her own.
        rc, out, err = d.tip("today", home="ana")
        eq((rc, out, err), (0, "", ""))
        # Daemon down: silent, exit 0, and quick enough for a login shell.
        d.stop()
        rc, out, err = d.tip("today", home="bo")
        eq((rc, out, err), (0, "", ""))
        rc, out, err = d.tip("today", home="bo", socket_path=os.path.join(d.tmp, "nope.sock"))
        eq((rc, out, err), (0, "", ""))


def test_today_prefers_unseen():
    with Daemon() as d:
        people(d)
        a = add(d, "Only tip A here", home="ana")
        b = add(d, "Only tip B here", home="ana")
        # bo has read A (tip show records it), so today offers B.
        rc, out, err = d.tip("show", a, home="bo")
        eq(rc, 0, err)
        eq(d.tip_json("today", home="bo")[0]["id"], b)
        # the API takes a seen id whole or by its first 16 hex digits (tip
        # sends those), repeats and ids of nothing held included
        for seen in ([a], [a[:16]], [a[:16], a, "f" * 16]):
            r = d.api({"op": "today", "date": "2026-11-29", "seen": seen})
            eq((r["ok"], r["tip"]["id"], r["unseen"], r["seen_before"]), (True, b, 1, False))
        r = d.api({"op": "today", "date": "2026-11-29", "seen": [b[:16], a[:16]]})
        eq((r["ok"], r["unseen"], r["seen_before"]), (True, 0, True))


def test_profile_snippet():
    """systemd/profile.d/tip-today.sh: a tip in interactive terminal shells only,
    nothing (and no delay to speak of) when tipd is down."""
    script = os.path.join(harness.SRC, "systemd", "profile.d", "tip-today.sh")
    with Daemon() as d:
        people(d)
        add(d, "Lock your screen with Super+L", home="ana")
        env = {"PATH": os.path.dirname(harness.TIP) + ":" + os.environ.get("PATH", "")}
        sh = ["/bin/sh", "-i", "-c", ". " + script + "; echo done-$?"]
        rc, out = run_tty(d, None, "bo", "", argv=sh, extra_env=env)
        eq(rc, 0, out)
        check("Tip of the day: Lock your screen with Super+L" in out and "done-0" in out, out)
        rc, out = run_tty(d, None, "bo", "", argv=sh, extra_env=dict(env, TIP_TODAY="off"))
        check("Tip of the day" not in out and "done-0" in out, out)
        # Not interactive: nothing at all.
        e = dict(os.environ, TIP_SOCKET=d.sock, TIP_HOME=d.home("bo"),
                 XDG_STATE_HOME=os.path.join(d.home("bo"), "state"), **env)
        p = subprocess.run(["/bin/sh", "-c", ". " + script], env=e, capture_output=True,
                           text=True, timeout=30)
        eq((p.returncode, p.stdout, p.stderr), (0, "", ""))
        d.stop()
        rc, out = run_tty(d, None, "bo", "", argv=sh, extra_env=env)
        eq(rc, 0, out)
        check("Tip of the day" not in out and "tip:" not in out and "done-0" in out, out)


def test_today_long_body_is_cut():
    with Daemon() as d:
        people(d)
        body = "\n".join("line %d" % i for i in range(1, 8)) + "\nx"
        tid = add(d, "--title", "Many lines", body, home="ana")
        rc, out, err = d.tip("today", home="bo")
        eq(rc, 0, err)
        check("line 6" in out and "line 7" not in out and "\u2026" in out, out)
        check("tip show %s" % tid[:8] in out, out)


# ---- stats ----


def scenario(d):
    """A small office story; returns the ids by name."""
    people(d)
    ids = {}
    ids["ana1"] = add(d, "-t", "git", "Undo the last commit", home="ana")
    ids["ana2"] = add(d, "-t", "git,ssh", "Sign commits with your ssh key", home="ana")
    ids["bo1"] = add(d, "-t", "ssh", "Jump hosts with ProxyJump", home="bo")
    ids["q"] = d.tip_json("ask", "--yes", "Where is the staging database?", home="bo")[0]["id"]
    ids["ans"] = d.tip_json("answer", ids["q"], "db-staging.internal, port 5433",
                            home="carol")[0]["id"]
    ids["q2"] = d.tip_json("ask", "--yes", "Who orders new laptops?", home="carol")[0]["id"]
    ids["anon"] = add(d, "--anon", "-t", "lesson", "I broke the build by skipping CI", home="bo")
    d.tip_json("rate", ids["ana1"], "4", home="bo")
    d.tip_json("rate", ids["ana1"], "5", home="carol")
    d.tip_json("rate", ids["bo1"], "3", home="ana")
    d.tip_json("thanks", ids["ana1"], "saved", "my", "afternoon", home="bo")
    d.tip_json("thanks", ids["ana1"], home="carol")
    d.tip_json("thanks", ids["ans"], "found", "it", "at", "once", home="bo")
    for _ in range(2):
        eq(d.tip_json("search", "kubernetes ingress controller"), [])
    return ids


def test_stats_exact():
    with Daemon() as d:
        ids = scenario(d)
        st = d.tip_json("stats")[0]
        eq((st["tips"], st["questions"], st["answers"], st["open_questions"]), (5, 2, 1, 1))
        eq((st["contributors"], st["anonymous_posts"], st["thanks"], st["ratings"]),
           (3, 1, 3, 3))
        eq(st["rating"], 4.0)
        eq(len(st["weeks"]), 12)
        eq([w["tips"] for w in st["weeks"]], [0] * 11 + [5])
        eq([(t["topic"], t["tips"]) for t in st["top_topics"]][:3],
           [("git", 2), ("ssh", 2), ("lesson", 1)])
        eq([(t["author_name"], t["thanks"]) for t in st["top_thanked"]], [("Ana", 2), ("Carol", 1)])
        eq([(s["story"], s["from_name"], s["to_name"]) for s in st["stories"]],
           [("found it at once", "Bo", "Carol"), ("saved my afternoon", "Bo", "Ana")])
        # ask searches first, so questions nobody had covered count as misses too.
        eq([(m["query"], m["count"]) for m in st["misses"]],
           [("kubernetes ingress controller", 2), ("who orders new laptops?", 1),
            ("where is the staging database?", 1)])
        check("me" not in st, st)
        me = d.tip_json("stats", "--me", home="ana")[0]["me"]
        eq(me["name"], "Ana")
        eq(me["gave"], {"tips": 2, "imported": 0, "answers": 0, "questions": 0, "ratings": 1,
                        "thanks": 0})
        eq({k: me["got"][k] for k in ("thanks", "ratings", "rating", "answers")},
           {"thanks": 2, "ratings": 2, "rating": 4.5, "answers": 0})
        eq([s["story"] for s in me["got"]["stories"]], ["saved my afternoon"])
        me = d.tip_json("stats", "--me", home="bo")[0]["me"]
        eq(me["gave"], {"tips": 1, "imported": 0, "answers": 0, "questions": 1, "ratings": 1,
                        "thanks": 2})
        eq((me["got"]["answers"], me["got"]["open_questions"]), (1, 0))
        me = d.tip_json("stats", "--me", home="carol")[0]["me"]
        eq(me["gave"], {"tips": 0, "imported": 0, "answers": 1, "questions": 1, "ratings": 1,
                        "thanks": 1})
        eq((me["got"]["answers"], me["got"]["open_questions"]), (0, 1))
        # Human output tells the story.
        rc, out, err = d.tip("stats")
        eq(rc, 0, err)
        for want in ("5 tips", "2 questions (1 open)", "3 contributors", "saved my afternoon",
                     "kubernetes ingress controller", "Most thanked", "\u2588"):
            check(want in out, want, out)
        rc, out, err = d.tip("stats", "--me", home="ana")
        check("gave: 2 tips" in out and "saved my afternoon" in out, out)
        # Retracting a thanked tip takes its thanks and story out.
        d.tip_json("retract", "--yes", ids["ans"], home="carol")
        st = d.tip_json("stats")[0]
        eq((st["tips"], st["answers"], st["open_questions"], st["thanks"]), (4, 0, 2, 2))
        eq([s["story"] for s in st["stories"]], ["saved my afternoon"])


def test_stats_csv_shape():
    with Daemon() as d:
        scenario(d)
        rc, out, err = d.tip("stats", "--csv", "--me", home="ana")
        eq(rc, 0, err)
        rows = list(csv.reader(io.StringIO(out)))
        eq(rows[0], ["section", "key", "value"])
        check(all(len(r) == 3 for r in rows), rows)
        totals = {r[1]: r[2] for r in rows if r[0] == "total"}
        eq((totals["tips"], totals["contributors"], totals["thanks"], totals["ratings"],
            totals["open_questions"]), ("5", "3", "3", "3", "1"))
        eq(len([r for r in rows if r[0] == "week"]), 12)
        eq(sorted(r[2] for r in rows if r[0] == "story"),
           ["found it at once", "saved my afternoon"])
        eq([r[1:] for r in rows if r[0] == "miss"][0], ["kubernetes ingress controller", "2"])
        eq({r[1]: r[2] for r in rows if r[0] == "gave"}["tips"], "2")
        rc, out, err = d.tip("stats", "--csv", "--json")
        eq(rc, 2, err)


def test_api_bad_requests():
    """The social ops refuse malformed fields with bad_request and carry on."""
    with Daemon() as d:
        bad = [
            {"op": "questions", "open": "yes"},
            {"op": "questions", "n": 0},
            {"op": "questions", "n": 1001},
            {"op": "stats", "me": "abc"},
            {"op": "stats", "me": 7},
            {"op": "stats", "weeks": 53},
            {"op": "stats", "top": "5"},
            {"op": "today"},
            {"op": "today", "date": ""},
            {"op": "today", "date": "x" * 33},
            {"op": "today", "date": "2026-11-29", "user": "zz" * 32},
            {"op": "today", "date": "2026-11-29", "seen": "abc"},
            {"op": "today", "date": "2026-11-29", "seen": [1]},
            {"op": "today", "date": "2026-11-29", "seen": ["ab" * 31]},
            {"op": "today", "date": "2026-11-29", "seen": ["0" * 15]},
            {"op": "today", "date": "2026-11-29", "seen": ["0" * 17]},
            {"op": "today", "date": "2026-11-29", "seen": ["0" * 15 + "g"]},
            {"op": "today", "date": "2026-11-29", "seen": ["00" * 32] * 20001},
            {"op": "misses", "n": -1},
        ]
        for req in bad:
            r = d.api(req)
            eq((r["ok"], r["error"]), (False, "bad_request"), str(req)[:80])
        r = d.api({"op": "today", "date": "2026-11-29"})
        eq((r["ok"], r["tip"], r["unseen"]), (True, None, 0))
        r = d.api({"op": "stats"})
        eq((r["ok"], r["tips"], r["contributors"], r["stories"], r["misses"]),
           (True, 0, 0, [], []))
        eq(d.api({"op": "questions"})["results"], [])
        check(d.running(), "tipd died")


# ---- names and help ----


def test_whoami_name_everywhere():
    with Daemon() as d:
        tid = add(d, "Before I had a name", home="ana")
        eq(show(d, tid)["author_name"], "")
        d.tip("whoami", "--name", "Ana Souza", "--team", "ops", home="ana")
        t = show(d, tid)
        eq((t["author_name"], t["author_team"]), ("Ana Souza", "ops"))
        rc, out, err = d.tip("show", tid)
        check("Ana Souza (ops)" in out, out)
        qid = d.tip_json("ask", "--yes", "Named question", home="ana")[0]["id"]
        eq(d.tip_json("questions")[0]["author_name"], "Ana Souza")
        d.tip_json("thanks", tid, "nice", home="bo")
        eq(d.tip_json("stats")[0]["top_thanked"][0]["author_name"], "Ana Souza")
        eq(show(d, qid)["author_team"], "ops")


def test_help_and_usage():
    with Daemon() as d:
        for cmd in ("rate", "thanks", "ask", "answer", "questions", "edit", "retract", "today",
                    "stats"):
            rc, out, err = d.tip("help", cmd)
            eq(rc, 0, cmd, err)
            check(out.startswith("usage: tip " + cmd), out)
            rc, out, err = d.tip(cmd, "--help")
            eq(rc, 0, cmd, err)
        rc, out, err = d.tip("help")
        for cmd in ("ask", "answer", "questions", "rate", "thanks", "edit", "retract", "today",
                    "stats"):
            check("\n  %s " % cmd in out, cmd, out)
        eq(d.tip("rate")[0], 2)
        eq(d.tip("thanks")[0], 2)
        eq(d.tip("ask")[0], 2)
        eq(d.tip("answer")[0], 2)
        eq(d.tip("questions", "extra")[0], 2)
        eq(d.tip("retract")[0], 2)
        eq(d.tip("stats", "--weeks", "0")[0], 2)
        eq(d.tip("show", "zz")[0], 2)


if __name__ == "__main__":
    harness.need_binary(harness.TIPD)
    harness.need_binary(harness.TIP)
    run_tests(globals())
