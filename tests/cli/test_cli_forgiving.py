"""test_cli_forgiving.py -- tip for a worker's day: output that can be copied,
nothing typed lost or sent twice, forgiving input, ids that work, topics in
any script, imports told apart from writing, one thanks per person, and the
messages around them. Real tipd, real tip; pty where a terminal matters.
"""

import base64
import glob
import hashlib
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, check, eq, run_tests  # noqa: E402

RSYNC = ("rsync -aHAX --delete --exclude-from=/etc/backup/excludes.txt "
         "--link-dest=/backups/latest /srv/share/projects/ "
         "backup@nas.office.example:/backups/$(date +%F)/")


def env_for(d, home="default", extra=None):
    e = dict(os.environ)
    for k in ("NO_COLOR", "PAGER", "EDITOR", "VISUAL", "TIP_SOCKET", "TIP_HOME"):
        e.pop(k, None)
    e.update({"TIP_SOCKET": d.sock, "TIP_HOME": d.home(home), "LC_ALL": "C.UTF-8",
              "XDG_STATE_HOME": os.path.join(d.home(home), "state"), "TERM": "dumb",
              "PAGER": "cat", "NO_COLOR": "1"})
    e.update(extra or {})
    return e


def pty(d, args, home="default", extra=None, typed="", cols=40, rows=60):
    rc, out = harness.pty_run([harness.TIP] + list(args), env_for(d, home, extra), typed=typed,
                              winsize=(rows, cols), timeout=60)
    return rc, out.decode(errors="replace").replace("\r", "")


def drafts(d, home="default"):
    return sorted(glob.glob(os.path.join(d.home(home), "state", "tip", "drafts", "*.json")))


def add_id(out):
    return out.split()[0]


# ---- output that can be copied ----

def test_commands_are_never_wrapped():
    with Daemon() as d:
        rc, out, err = d.tip("add", "--title", "Nightly backup of the projects share", RSYNC)
        eq(rc, 0, err)
        tid = add_id(out)
        # Piped, at any COLUMNS: the command is one line.
        rc, out, err = d.tip("show", tid, env={"COLUMNS": "40"})
        eq(rc, 0, err)
        check("  " + RSYNC + "\n" in out, out)
        rc, out, err = d.tip("search", "backup", env={"COLUMNS": "40"})
        check(RSYNC in out, "a list cuts the command when piped", out)
        # On a 40-column terminal: prose wraps, the command is printed whole
        # (the terminal soft-wraps it, so a copy is one line again).
        rc, out = pty(d, ["show", tid])
        eq(rc, 0, out)
        check("  " + RSYNC + "\n" in out, out)
        rc, out = pty(d, ["list"])
        check(RSYNC in out, "the list cut the command on a terminal", out)
        body = ("The printer on the second floor jams when you print labels from tray 2, so "
                "use tray 1.\n\n```\nlpr -P floor2 -o media=tray1 label.pdf\n```\n")
        rc, out, err = d.tip("add", "--title", "Labels on floor 2", "-", input=body)
        eq(rc, 0, err)
        pid = add_id(out)
        rc, out = pty(d, ["show", pid])
        lines = out.splitlines()
        check(all(len(ln) <= 40 for ln in lines if "lpr" not in ln and not ln.startswith("id ")),
              "prose not wrapped", out)
        check("  lpr -P floor2 -o media=tray1 label.pdf" in lines, out)


def test_show_raw_and_cmd():
    with Daemon() as d:
        body = "Run this:\n\n    $ sudo systemctl restart cups  \nthen\ttry again. Caf\u00e9 \u2713\n"
        rc, out, err = d.tip("add", "--title", "Printer queue stuck", "-", input=body)
        eq(rc, 0, err)
        tid = add_id(out)
        # --raw: the body as stored, byte for byte (tip trims the ends of what
        # it is given, as for any tip).
        stored = d.tip_json("show", tid)[0]["body"]
        p = subprocess.run([harness.TIP, "show", "--raw", tid], env=env_for(d),
                           capture_output=True, timeout=30)
        eq(p.returncode, 0, p.stderr)
        eq(p.stdout, stored.encode())
        # --cmd: only the command line, prompt and indentation dropped.
        rc, out, err = d.tip("show", "--cmd", tid)
        eq((rc, out), (0, "sudo systemctl restart cups\n"), err)
        # A tldr-style body is its command.
        rc, out, err = d.tip("add", "--title", "List all installed packages", "pm list packages")
        rc, out, err = d.tip("show", "--cmd", add_id(out))
        eq((rc, out), (0, "pm list packages\n"), err)
        # Prose only: nothing to copy, said once, exit 1.
        rc, out, err = d.tip("add", "--title", "Ask Maria", "Ask Maria at the front desk.")
        sid = add_id(out)
        rc, out, err = d.tip("show", "--cmd", sid)
        eq((rc, out), (1, ""))
        eq(err, "tip: %s has no command lines (tip show --raw %s prints its whole text)\n"
           % (sid, sid))
        rc, out, err = d.tip("show", "--raw", "--cmd", sid)
        eq(rc, 2, err)


# ---- nothing typed is lost ----

def test_editor_only_once_tipd_answers_and_drafts_kept():
    with Daemon() as d:
        d.tip("whoami")  # the identity exists
        editor = os.path.join(d.tmp, "editor.sh")
        marker = os.path.join(d.tmp, "editor-ran")
        with open(editor, "w") as f:
            f.write("#!/bin/sh\ntouch %s\nprintf 'Typed in vi\\nlong text\\n' > \"$1\"\n"
                    % marker)
        os.chmod(editor, 0o755)
        d.stop()
        # tipd down: the editor does not open at all.
        rc, out = pty(d, ["add", "-t", "test"], extra={"EDITOR": editor})
        eq(rc, 4, out)
        check("tipd is not running" in out, out)
        check(not os.path.exists(marker), "the editor opened although tipd is down")
        # Text from stdin with tipd down: kept as a draft, and said where.
        rc, out, err = d.tip("add", "-t", "test", "-", input="Stdin tip\nits body\n")
        eq(rc, 4, err)
        kept = drafts(d)
        eq(len(kept), 1, kept)
        check("tipd is not running" in err and kept[0] in err and "tip add --draft" in err, err)
        draft = json.load(open(kept[0]))
        eq((draft["title"], draft["body"], draft["topics"]), ("Stdin tip", "its body", ["test"]))
        eq(os.stat(kept[0]).st_mode & 0o777, 0o600)
        d.start()
        rc, out, err = d.tip("add", "--draft", "last")
        eq(rc, 0, err)
        check("Sent \"Stdin tip\"" in out, out)
        eq(drafts(d), [])
        titles = [t["title"] for t in d.tip_json("list")]
        eq(titles, ["Stdin tip"])
        # The editor opens when tipd answers, and what was typed is stored.
        rc, out = pty(d, ["add", "-t", "test"], extra={"EDITOR": editor})
        eq(rc, 0, out)
        check(os.path.exists(marker))
        eq(sorted(t["title"] for t in d.tip_json("list")), ["Stdin tip", "Typed in vi"])
        eq(drafts(d), [])


def test_retry_resends_the_same_signed_tip():
    """A tip that reached tipd although tip never heard back (simulated:
    the draft's own bytes are submitted by another client) is not stored
    twice when the user runs the same command again."""
    with Daemon() as d:
        d.tip("whoami")
        os.kill(d.proc.pid, signal.SIGSTOP)  # tipd stuck: nothing answers
        try:
            rc, out, err = d.tip("add", "-t", "vpn", "-", input="VPN drops at 17:00\nreconnect\n",
                                 timeout=60)
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        eq(rc, 4, err)
        check("not answering" in err, err)
        kept = drafts(d)
        eq(len(kept), 1, err)
        ev = json.load(open(kept[0]))["event"]
        r = d.api({"op": "submit", "events": [ev]})
        eq(r["results"][0]["status"], "new")
        rc, out, err = d.tip("add", "-t", "vpn", "-", input="VPN drops at 17:00\nreconnect\n")
        eq(rc, 0, err)
        check("sending the same signed tip as an earlier attempt" in err, err)
        check("That tip was already there" in out, out)
        eq(d.status()["tips"], 1)
        eq(drafts(d), [])
        # Sent by --draft after tipd refused nothing: the same id.
        eq(d.tip_json("list")[0]["id"], r["results"][0]["id"])


class ReplyEater:
    """A Unix-socket relay between tip and a real tipd that passes every
    byte, until tip sends a submit: from then on tipd's replies are dropped,
    as when tipd stores a tip but its answer never comes back in time."""

    def __init__(self, target, path):
        self.target, self.path = target, path
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)
        self.eat = False
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            u.connect(self.target)
            self.conns += [c, u]
            threading.Thread(target=self._pump, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, False), daemon=True).start()

    def _pump(self, src, dst, upstream):
        while True:
            try:
                b = src.recv(65536)
            except OSError:
                return
            if not b:
                return
            if upstream and b"submit" in b:
                self.eat = True
            if not upstream and self.eat:
                continue
            try:
                dst.sendall(b)
            except OSError:
                return

    def close(self):
        for s in [self.srv] + self.conns:
            try:
                s.close()
            except OSError:
                pass
        os.unlink(self.path)


def test_timeout_then_retry_stores_one_tip():
    with Daemon() as d:
        d.tip("whoami")
        relay = ReplyEater(d.sock, os.path.join(d.tmp, "relay.sock"))
        try:
            rc, out, err = d.tip("add", "-t", "vpn", "VPN drops at 17:00: reconnect",
                                 socket_path=relay.path, timeout=120)
        finally:
            relay.close()
        eq(rc, 4, err)
        lines = err.splitlines()
        check(len(lines) == 3 and "did not answer" in lines[0], err)
        tid = d.tip_json("list")[0]["id"]  # it was stored all the same
        eq(lines[1], "tip: the tip may still have been stored: check in a minute with: "
                     "tip show %s" % tid[:12])
        kept = drafts(d)
        eq(len(kept), 1)
        check(lines[2].startswith("tip: it is kept in %s; the same command again" % kept[0]),
              err)
        # The user runs the same command again: the same signed bytes.
        rc, out, err = d.tip("add", "-t", "vpn", "VPN drops at 17:00: reconnect")
        eq(rc, 0, err)
        check("That tip was already there" in out, out)
        eq(add_id(out), tid[:8])
        eq(d.status()["tips"], 1)
        eq(drafts(d), [])


# ---- did you mean ----

def test_did_you_mean():
    with Daemon() as d:
        rc, out, err = d.tip("serach", "undo")
        eq(rc, 2)
        eq(err, "tip: no command 'serach'; did you mean 'tip search'?\nTry 'tip help'.\n")
        rc, out, err = d.tip("help", "stat")
        eq(rc, 2)
        check(err.startswith("tip: no command 'stat'; did you mean 'tip stats'?\n"), err)
        rc, out, err = d.tip("add", "--titel", "x", "y")
        eq(rc, 2)
        check(err.startswith("tip: unknown option '--titel'; did you mean '--title'?\n"
                             "usage: tip add "), err)
        rc, out, err = d.tip("search", "--autor=me", "x")
        check(err.startswith("tip: unknown option '--autor=me'; did you mean '--author'?"), err)
        rc, out, err = d.tip("--jsno", "status")
        check(err.startswith("tip: unknown option '--jsno'; did you mean '--json'?"), err)
        rc, out, err = d.tip("frobnicate")
        eq(err, "tip: no command 'frobnicate'\nTry 'tip help'.\n")


# ---- no accidental duplicates ----

def test_identical_tip_refused_unless_forced():
    with Daemon() as d:
        args = ("add", "-t", "git", "Undo a commit: git reset --soft HEAD~1")
        rc, out, err = d.tip(*args)
        eq(rc, 0, err)
        first = add_id(out)
        for _ in range(2):
            rc, out, err = d.tip(*args)
            eq((rc, out), (1, ""))
            eq(err, "tip: you already shared this tip (same title and text): %s; see it with: "
                    "tip show %s (tip add --force adds it again)\n" % (first, first))
        rc, out, err = d.tip("--json", *args)
        eq((rc, json.loads(out)["status"]), (1, "exists"))
        eq(d.status()["tips"], 1)
        # Someone else's identical tip is theirs to add.
        rc, out, err = d.tip(*args, home="bo")
        eq(rc, 0, err)
        rc, out, err = d.tip("add", "--force", *args[1:])
        eq(rc, 0, err)
        eq(d.status()["tips"], 3)


def test_look_alikes_shown_on_a_terminal():
    with Daemon() as d:
        rc, out, err = d.tip("add", "--title", "Restart the printer queue on floor 2",
                             "sudo systemctl restart cups", home="bo")
        eq(rc, 0, err)
        rc, out = pty(d, ["add", "--title", "Restart the printer queue on floor 2 quickly",
                          "cupsenable floor2"], typed="n\n", cols=100)
        eq(rc, 0, out)
        check("These look like the same thing:" in out and "Add yours anyway? [y/N]" in out, out)
        check("Not added." in out, out)
        eq(d.status()["tips"], 1)
        rc, out = pty(d, ["add", "--title", "Restart the printer queue on floor 2 quickly",
                          "cupsenable floor2"], typed="y\n", cols=100)
        eq(rc, 0, out)
        eq(d.status()["tips"], 2)


# ---- ids that work ----

def _key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    pk = key.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)
    return key, pk


def _unsigned(pk, kind, created_at, refs, topics, title, body=""):
    """An event's unsigned encoding and id (docs/PROTOCOL.md 1.2, 1.6)."""
    b = bytes([1, kind]) + pk + struct.pack(">Q", created_at)
    b += bytes([len(refs)]) + b"".join(bytes([r]) + i for r, i in sorted(refs))
    ts = sorted(t.encode() for t in topics)
    b += bytes([len(ts)]) + b"".join(bytes([len(t)]) + t for t in ts)
    t, d = title.encode(), body.encode()
    b += bytes([0]) + struct.pack(">H", len(t)) + t + struct.pack(">H", len(d)) + d
    eid = hashlib.blake2b(b"tipd-event-v1\x00" + b, digest_size=32).digest()
    return b, eid


def test_prefix_resolved_among_the_kinds_a_command_takes():
    try:
        import cryptography  # noqa: F401
    except ImportError:
        harness.skip("python3-cryptography is not installed")
    key, pk = _key()
    now = int(time.time() * 1000) - 3600_000
    tb, tid = _unsigned(pk, 1, now, [], [], "How the VPN works", "it tunnels")
    # A question whose id shares the tip's first 4 hex characters.
    for i in range(1, 2_000_000):
        qb, qid = _unsigned(pk, 2, now + i, [], [], "Why does the VPN drop?")
        if qid[:2] == tid[:2]:
            break
    with Daemon() as d:
        evs = [base64.b64encode(b + key.sign(e)).decode() for b, e in ((tb, tid), (qb, qid))]
        r = d.api({"op": "submit", "events": evs})
        eq([x["status"] for x in r["results"]], ["new", "new"])
        prefix = tid.hex()[:4]
        rc, out, err = d.tip("show", prefix)
        eq(rc, 3, err)
        check(tid.hex() in err and qid.hex() in err, err)
        # Only one of them is a question: answer knows which.
        rc, out, err = d.tip("answer", prefix, "Reconnect after 17:00", home="bo")
        eq(rc, 0, err)
        q = d.tip_json("show", qid.hex())[0]
        eq(q["answers"], 1)
        # Printed ids name exactly one event (8 characters suffice here).
        for t in d.tip_json("list"):
            rc, out, err = d.tip("show", t["id"][:8])
            eq(rc, 0, err)


def test_show_unknown_id_in_the_users_words():
    with Daemon() as d:
        rc, out, err = d.tip("show", "deadbeef")
        eq(rc, 3)
        eq(err, "tip: no tip has id deadbeef (nor any question, answer, rating or thanks); "
                "find tips with: tip search WORDS, or tip list\n")


# ---- topics in any script ----

def test_unicode_topics():
    with Daemon() as d:
        rc, out, err = d.tip("add", "-t", "Drucker,BÜRO", "-t", "印刷",
                             "Etiketten über Fach 1 drucken")
        eq(rc, 0, err)
        t = d.tip_json("list")[0]
        eq(t["topics"], ["büro", "drucker", "印刷"])
        # Any case and normalisation form finds it (u + combining diaeresis).
        for q in ("büro", "Büro", "bu\u0308ro"):
            got = d.tip_json("list", "-t", q)
            eq([x["id"] for x in got], [t["id"]], q)
        # One message per rule.
        rc, out, err = d.tip("add", "-t", "a/b", "x")
        eq(rc, 2)
        eq(err.splitlines()[0], "tip: topic 'a/b': '/' cannot be in a topic (letters and digits "
                                "of any language, and . _ + # -)")
        rc, out, err = d.tip("add", "-t", "büro✓", "x")
        eq(rc, 2)
        check(err.startswith("tip: topic 'büro✓': '✓' cannot be in a topic (letters and digits "
                             "of any language, and . _ + # -)\n"), err)
        rc, out, err = d.tip("add", "-t", "x" * 33, "x")
        check(err.startswith("tip: topic '%s' is longer than 32 bytes\n" % ("x" * 33)), err)
        rc, out, err = d.tip("add", "-t", "a,b,c,d,e,f,g,h,i", "x")
        check(err.startswith("tip: a tip has at most 8 topics; 'i' is one too many\n"), err)
        eq(d.status()["tips"], 1)


# ---- imports told apart ----

def test_imports_marked_and_counted_apart():
    with Daemon() as d:
        f = os.path.join(d.tmp, "tldr.jsonl")
        with open(f, "w") as fh:
            fh.write(json.dumps({"title": "List all installed packages",
                                 "body": "pm list packages", "topics": ["android", "Büro Zeug"],
                                 "source": "tldr-pages/pages/android/pm-list.md"}) + "\n")
            fh.write(json.dumps({"title": "Print all users", "body": "pm list users"}) + "\n")
        rc, out, err = d.tip("import", f)
        eq(rc, 0, err)
        got = {t["title"]: t for t in d.tip_json("list")}
        a = got["List all installed packages"]
        eq((a["imported"], a["source"], a["topics"]),
           (True, "tldr-pages/pages/android/pm-list.md", ["android", "büro-zeug"]))
        eq((got["Print all users"]["imported"], "source" in got["Print all users"]), (True, False))
        rc, out, err = d.tip("add", "--title", "Second-floor printer jams", "use tray 1")
        mine = add_id(out)
        eq(d.tip_json("show", mine)[0]["imported"], False)
        st = d.tip_json("stats", "--me")[0]
        eq((st["tips"], st["imported"]), (3, 2))
        eq((st["me"]["gave"]["tips"], st["me"]["gave"]["imported"]), (1, 2))
        rc, out, err = d.tip("stats", "--me")
        check("gave: 1 tip, 2 imported tips" in out, out)
        rc, out, err = d.tip("show", a["id"])
        check("imported by key " in out and "from tldr-pages/pages/android/pm-list.md" in out, out)
        # --own: your own notes are yours.
        g = os.path.join(d.tmp, "mine.jsonl")
        with open(g, "w") as fh:
            fh.write(json.dumps({"title": "My own note", "body": "text"}) + "\n")
        rc, out, err = d.tip("import", "--own", g)
        eq(rc, 0, err)
        eq([t["imported"] for t in d.tip_json("list") if t["title"] == "My own note"], [False])


def test_search_prefers_the_offices_own_at_equal_text():
    with Daemon() as d:
        # Written here first; the same text imported later (newer, so it
        # would win the tie without the preference).
        rc, out, err = d.tip("add", "--title", "Printer jams on floor 2", "use tray 1",
                             home="ana")
        eq(rc, 0, err)
        own = add_id(out)
        f = os.path.join(d.tmp, "dump.jsonl")
        with open(f, "w") as fh:
            fh.write(json.dumps({"title": "Printer jams on floor 2", "body": "use tray 1",
                                 "source": "wiki"}) + "\n")
        rc, out, err = d.tip("import", f, home="bo")
        eq(rc, 0, err)
        got = d.tip_json("search", "printer jams")
        eq([(t["imported"], t["id"].startswith(own)) for t in got], [(False, True), (True, False)])
        check(got[0]["score"] > got[1]["score"], got)


# ---- one thanks per person ----

def test_thanks_count_once_per_person():
    with Daemon() as d:
        rc, out, err = d.tip("add", "--title", "Reset the VPN", "sudo systemctl restart vpn",
                             home="ana")
        tid = add_id(out)
        rc, out, err = d.tip("thanks", tid, "saved my morning", home="bo")
        eq(rc, 0, err)
        check("(thanked by 1 person now)" in out, out)
        rc, out, err = d.tip("thanks", tid, "and again today", home="bo")
        eq(rc, 0, err)
        check("You had thanked" in out and "stays thanked by 1 person" in out, out)
        eq(d.tip_json("show", tid)[0]["thanks"], 1)
        rc, out, err = d.tip("thanks", tid, "me too", home="cy")
        eq(d.tip_json("show", tid)[0]["thanks"], 2)
        rc, out, err = d.tip("show", tid)
        check("and again today" in out and "saved my morning" not in out and "me too" in out, out)
        rc, out, err = d.tip("stats", "--me", home="ana")
        check("and again today" in out and "saved my morning" not in out, out)
        # Bo gave thanks to one tip, twice: one tip thanked, as the tip counts it.
        eq(d.tip_json("stats", "--me", home="bo")[0]["me"]["gave"]["thanks"], 1)
        def retract_bo_thanks(body):
            """Retract Bo's one thanks with this story."""
            mine = [t for t in d.tip_json("list", "--kind", "thanks", home="bo")
                    if t.get("body") == body]
            eq(len(mine), 1)
            rc, out, err = d.tip("retract", "--yes", mine[0]["id"], home="bo")
            eq(rc, 0, err)

        # Retracting the latest leaves the earlier one counted.
        retract_bo_thanks("and again today")
        eq(d.tip_json("show", tid)[0]["thanks"], 2)
        eq(d.tip_json("stats", "--me", home="bo")[0]["me"]["gave"]["thanks"], 1)
        # ... and retracting that one too leaves none
        retract_bo_thanks("saved my morning")
        eq(d.tip_json("stats", "--me", home="bo")[0]["me"]["gave"]["thanks"], 0)


# ---- messages ----

def test_messages():
    with Daemon() as d:
        rc, out, err = d.tip("peers")
        eq(rc, 0, err)
        check("mDNS discovery\nis off" in out and "finds peers on this network" not in out, out)
        rc, out, err = d.tip("add", "--title", "First", "text", home="new")
        eq(rc, 0, err)
        check(err.startswith("tip: created your identity %s/identity" % d.home("new")), err)
        check("tip whoami --name" in err, err)
        rc, out, err = d.tip("add", "--title", "Second", "text", home="new")
        eq(err, "")


# ---- tests clean up ----

def test_config_tests_leave_no_directories():
    tmp = tempfile.mkdtemp(prefix="tipd-cleanup-")
    try:
        e = dict(os.environ, TMPDIR=tmp)
        p = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__),
                                                          "test_daemon_config.py"),
                            "test_check_good_config", "test_genkey"],
                           env=e, capture_output=True, text=True, timeout=300)
        eq(p.returncode, 0, p.stdout + p.stderr)
        eq(os.listdir(tmp), [])
    finally:
        subprocess.run(["rm", "-rf", tmp])


# ---- imports of any size ----

def test_big_import_never_stamped_ahead():
    """700 000 lines of a file written just now: counting up from its mtime
    put the last 100 000 lines more than 10 minutes ahead; every one is
    stored now, none stamped after the clock."""
    with Daemon() as d:
        f = os.path.join(d.tmp, "big.jsonl")
        n = int(os.environ.get("TIP_BIG_IMPORT_LINES", "700000"))
        with open(f, "w") as fh:
            for i in range(n):
                fh.write('{"title":"t%d"}\n' % i)
        os.utime(f, None)
        before = int(time.time() * 1000)
        # A sanitizer keeps freed memory in quarantine (256 MB by default):
        # kept small here, so the peak below is what tip really holds.
        asan = os.environ.get("ASAN_OPTIONS", "")
        asan = (asan + ":" if asan else "") + "quarantine_size_mb=4"
        rc, out, err = d.tip("--json", "import", f, timeout=1800, env={"ASAN_OPTIONS": asan})
        eq(rc, 0, err[-2000:])
        r = json.loads(out)
        eq((r["imported"], r["rejected"]), (n, 0))
        # Streamed: tip's memory does not grow with the file (the bound
        # allows for a sanitizer build's shadow memory).
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        print("tip's peak RSS: %d MB for %d lines" % (rss_mb, n))
        check(rss_mb < 200, "tip used", rss_mb, "MB")
        eq(d.status()["tips"], n)
        newest = d.tip_json("list", "-n", "1")[0]
        check(newest["created_at_ms"] <= before, newest["created_at_ms"], before)


if __name__ == "__main__":
    run_tests(globals())
