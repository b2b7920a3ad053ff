"""test_cli.py -- the tip command against a real tipd (tests/cli/harness.py).

Covers the CLI's behaviour: add -> search -> show, the JSON shapes of
docs/API.md, list newest first, import/export round trip
with the same ids, bad import lines reported by line number, the daemon being
down (one line, exit 4, never a hang), unknown and ambiguous ids (exit 3),
usage errors (exit 2), colour rules (NO_COLOR, --color) on a real pty, the
identity file (created 0600; a 0644 one refused), profiles, stdin/CRLF input,
$EDITOR and $PAGER.
"""

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, check, eq, run_tests  # noqa: E402

DEMO = os.path.join(harness.DATA, "demo-tips.jsonl")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
TIP_FIELDS = ("id", "kind", "title", "body", "topics", "author", "author_name", "created_at",
              "rating", "ratings", "thanks")


def tip_env(d, home="default", extra=None):
    e = dict(os.environ)
    for k in ("NO_COLOR", "PAGER", "EDITOR", "VISUAL", "TIP_SOCKET", "TIP_HOME", "TIP_COLOR"):
        e.pop(k, None)
    e["TIP_SOCKET"] = d.sock
    e["TIP_HOME"] = d.home(home)
    e["XDG_STATE_HOME"] = os.path.join(d.home(home), "state")  # drafts
    e["LC_ALL"] = "C.UTF-8"
    e["TERM"] = "xterm"
    if extra:
        e.update(extra)
    return e


def run_pty(argv, env, rows=24, cols=100, timeout=30):
    """Run argv with stdin/stdout/stderr on a fresh pty -> (exit code, output bytes)."""
    return harness.pty_run(argv, env, winsize=(rows, cols), timeout=timeout)


def add(d, *args, home="default", input=None):
    """tip --json add ARGS -> the new id."""
    out = d.tip_json("add", *args, home=home, input=input)
    eq(len(out), 1, "add prints one object")
    check(HEX64.match(out[0]["id"]), out)
    return out[0]["id"]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_add_search_show():
    with Daemon() as d:
        rc, out, err = d.tip("add", "-t", "git", "-t", "Undo",
                             "Undo the last commit\nkeep the changes: git reset --soft HEAD~1")
        eq(rc, 0, err)
        short = out.split()[0]
        check(re.match(r"^[0-9a-f]{8,64}$", short), "first word is the short id:", out)
        check("Thanks for sharing" in out, out)
        res = d.tip_json("search", "undo", "commit")
        eq(len(res), 1, res)
        t = res[0]
        check(t["id"].startswith(short), t["id"], short)
        eq(t["title"], "Undo the last commit")
        eq(t["body"], "keep the changes: git reset --soft HEAD~1")
        eq(t["topics"], ["git", "undo"])  # lower-cased, sorted
        eq(t["kind"], "tip")
        rc, out, err = d.tip("show", short)
        eq(rc, 0, err)
        check("Undo the last commit" in out and "git reset --soft HEAD~1" in out, out)
        check("no ratings yet" in out, out)
        check(t["id"] in out, "show prints the full id", out)
        rc, out, err = d.tip("search", "undo")
        eq(rc, 0, err)
        check(short[:8] in out and "Undo the last commit" in out and "no ratings yet" in out, out)
        check("just now" in out, out)
        # show --json: one object, the same tip
        shown = d.tip_json("show", t["id"][:6])
        eq(len(shown), 1)
        eq(shown[0]["id"], t["id"])


def test_json_shapes():
    with Daemon() as d:
        tid = add(d, "-t", "ssh", "--title", "Agent forwarding", "ssh -A host")
        me = d.tip_json("whoami")[0]
        check(HEX64.match(me["key"]), me)
        for t in d.tip_json("search", "agent"):
            for k in TIP_FIELDS + ("score",):
                check(k in t, "search result lacks", k, t)
            check(RFC3339.match(t["created_at"]), t["created_at"])
            eq(t["author"], me["key"])
            eq(t["rating"], None)
            eq(t["ratings"], 0)
            eq(t["thanks"], 0)
            eq(t["body"], "ssh -A host")
        lst = d.tip_json("list")
        eq([t["id"] for t in lst], [tid])
        for k in TIP_FIELDS:
            check(k in lst[0], "list result lacks", k)
        st = d.tip_json("status")
        eq(len(st), 1)
        for k in ("node", "tips", "events", "peers"):
            check(k in st[0], "status lacks", k, st)
        check("ok" not in st[0] and "tag" not in st[0], st)
        eq(st[0]["tips"], 1)
        peers = d.tip_json("peers")
        eq(peers, [], "a --no-discovery daemon with no --peer has no peers")
        rc, out, err = d.tip("peers")
        eq(rc, 0, err)
        check("No peers" in out, out)


def test_list_newest_first():
    with Daemon() as d:
        ids = []
        for i in range(5):
            ids.append(add(d, "-t", "seq", "tip number %d" % i))
            time.sleep(0.005)  # distinct created_at milliseconds
        got = d.tip_json("list", "-n", "3")
        eq([t["id"] for t in got], ids[::-1][:3])
        got = d.tip_json("list", "-t", "seq")
        eq([t["id"] for t in got], ids[::-1])
        got = d.tip_json("list", "-n", "1", "--author", "me")
        eq([t["id"] for t in got], [ids[-1]])


def test_import_export_roundtrip():
    with Daemon() as a, Daemon() as b:
        rc, out, err = a.tip("import", DEMO)
        eq(rc, 0, err)
        check("imported 11, duplicates 0, rejected 0" in out, out)
        # The same unchanged file again: same ids, so all duplicates.
        summary = a.tip_json("import", DEMO)[0]
        eq((summary["imported"], summary["duplicates"], summary["rejected"]), (0, 11, 0))
        dump = os.path.join(a.tmp, "dump.jsonl")
        rc, out, err = a.tip("export", dump)
        eq(rc, 0, err)
        check("exported 11 events" in out, out)
        eq(oct(os.stat(dump).st_mode & 0o777), oct(0o644))
        lines = [json.loads(ln) for ln in open(dump)]
        eq(len(lines), 11)
        for o in lines:
            for k in ("title", "body", "topics", "id", "author", "created_at", "kind", "event"):
                check(k in o, "export line lacks", k, o)
            check(RFC3339.match(o["created_at"]), o)
        ids_a = sorted(o["id"] for o in lines)
        # Into a fresh daemon, by another user: the signed events go in as-is.
        rc, out, err = b.tip("import", dump, home="other")
        eq(rc, 0, err)
        check("imported 11, duplicates 0, rejected 0" in out, out)
        rc, out2, err = b.tip("export")
        eq(rc, 0, err)
        ids_b = sorted(json.loads(ln)["id"] for ln in out2.splitlines())
        eq(ids_b, ids_a)
        titles = {o["title"] for o in lines}
        eq(titles, {json.loads(ln)["title"] for ln in open(DEMO)})
        # export to stdout is the same JSONL as to a file
        eq(sorted(out2.splitlines()), sorted(open(dump).read().splitlines()))
        export_targets(b, out2)


def export_targets(d, want):
    """(qa) export FILE where FILE is not a plain file: a FIFO (like a device
    or /dev/stdout) is written in place, never replaced by renaming a regular
    file over it; a symlink stays a symlink; a write error (ENOSPC) is an
    error, never "exported N"."""
    import threading
    fifo = os.path.join(d.tmp, "export.fifo")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()), daemon=True)
    reader.start()
    rc, out, err = d.tip("export", fifo)
    reader.join(30)
    eq(rc, 0, err)
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file")
    check(got, "nothing was written to the FIFO")
    eq(sorted(got[0].splitlines()), sorted(want.splitlines()))
    check(not [f for f in os.listdir(d.tmp) if ".tmp." in f], os.listdir(d.tmp))
    real = os.path.join(d.tmp, "real.jsonl")
    link = os.path.join(d.tmp, "link.jsonl")
    write(real, "")
    os.symlink(real, link)
    rc, out, err = d.tip("export", link)
    eq(rc, 0, err)
    check(os.path.islink(link), "the symlink was replaced")
    eq(sorted(open(real).read().splitlines()), sorted(want.splitlines()))
    e = dict(os.environ, TIP_SOCKET=d.sock, TIP_HOME=d.home(),
             XDG_STATE_HOME=os.path.join(d.home(), "state"))
    with open("/dev/full", "w") as full:
        p = subprocess.run([harness.TIP, "export"], stdout=full, stderr=subprocess.PIPE,
                           env=e, text=True, timeout=60)
    eq(p.returncode, 1, p.stderr)
    eq(p.stderr, "tip: cannot write to stdout: No space left on device\n")


def test_import_bad_lines():
    with Daemon() as d:
        path = os.path.join(d.tmp, "bad.jsonl")
        write(path, "\n".join([
            json.dumps({"title": "good one", "body": "b", "topics": ["x"], "extra": 1}),
            "{not json",
            "",  # blank: ignored, not an error
            json.dumps({"body": "no title"}),
            json.dumps({"title": "t", "topics": "notalist"}),
            json.dumps(["an", "array"]),
            json.dumps({"title": "signed junk", "event": "AAAA"}),
            json.dumps({"title": "good two", "body": "second\r\nline", "topics": ["Ark: Survival", "!"]}),
        ]) + "\n")
        rc, out, err = d.tip("import", path)
        eq(rc, 1, "some lines rejected -> exit 1", out, err)
        for n in (2, 4, 5, 6, 7):
            check("%s:%d:" % (path, n) in err, "line", n, "not reported:", err)
        for n in (1, 3, 8):
            check("%s:%d:" % (path, n) not in err, "line", n, "wrongly reported:", err)
        check("imported 2, duplicates 0, rejected 5" in out, out)
        check("not valid JSON" in out and "no \"title\" string" in out, out)
        res = d.tip_json("search", "good")
        eq(sorted(t["title"] for t in res), ["good one", "good two"])
        two = [t for t in res if t["title"] == "good two"][0]
        eq(two["topics"], ["ark-survival"])  # cleaned: invalid characters, '!' dropped
        # JSON summary with line numbers
        rc, out, err = d.tip("--json", "import", path)
        eq(rc, 1)
        s = json.loads(out)
        eq((s["imported"], s["duplicates"], s["rejected"]), (0, 2, 5))
        eq([e["line"] for e in s["errors"]], [2, 4, 5, 6, 7])
        rc, out, err = d.tip("import", os.path.join(d.tmp, "missing.jsonl"))
        eq(rc, 1)
        check("cannot open" in err, err)
        # (qa) a directory: one line, no "imported 0" summary as if it were read
        for args in (("import", d.tmp), ("add", "-f", d.tmp)):
            rc, out, err = d.tip(*args)
            eq((rc, out, err), (1, "", "tip: cannot open %s: Is a directory\n" % d.tmp), args)
        # (qa) NULs, empty titles, invalid UTF-8, oversize lines: a plain reason
        # each (not a JSON library's flag names), nothing stored from them,
        # nothing stored earlier lost
        before = d.status()["events"]
        nasty = os.path.join(d.tmp, "nasty.jsonl")
        with open(nasty, "wb") as f:
            f.write(b'{"title": "nul\\u0000inside"}\n'
                    b'{"title": ""}\n'
                    b'{"title": "t", "topics": ["a\\u0000b"]}\n'
                    b'{"title": "x", "event": "AAAA\\u0000AAAA"}\n'
                    b'{"title": "caf\xe9"}\n'
                    b'{"title": "raw \x00 nul"}\n'
                    b'{"title": "huge", "body": "' + b"a" * 300000 + b'"}\n')
        rc, out, err = d.tip("--json", "import", nasty)
        eq(rc, 1, err)
        s = json.loads(out)
        eq((s["imported"], s["rejected"]), (0, 7))
        why = [e["error"] for e in s["errors"]]
        eq(why[:4], ["text contains NUL", "\"title\" is empty", "text contains NUL",
                     "\"event\" is not base64 of a signed event"])
        check(why[4].startswith("not valid JSON (unable to decode byte 0xe9"), why[4])
        check(why[5].startswith("not valid JSON (control character 0x0"), why[5])
        eq(why[6], "line longer than 256 KiB")
        check(not any("JSON_" in w for w in why), why)
        eq(d.status()["events"], before)
        # (qa) a UTF-8 byte order mark (Windows editors) is not content
        bom = os.path.join(d.tmp, "bom.jsonl")
        with open(bom, "wb") as f:
            f.write(b'\xef\xbb\xbf{"title": "bom line"}\r\n{"title": "crlf line"}\r\n')
        rc, out, err = d.tip("import", bom)
        eq((rc, err), (0, ""))
        check("imported 2, duplicates 0, rejected 0" in out, out)


def test_daemon_down():
    tmp = tempfile.mkdtemp(prefix="tip-down-")
    d = Daemon(start=False, tmp=tmp)
    try:
        for args in (("status",), ("list",), ("search", "x"), ("add", "hello"),
                     ("import", DEMO), ("export",), ("peers",)):
            # The subprocess timeout only catches a hang; no timing is asserted.
            rc, out, err = d.tip(*args, timeout=20)
            eq(rc, 4, args, err)
            lines = err.strip().splitlines()
            eq(len(lines), 1, "one line:", err)
            check("tipd is not running" in lines[0] and d.sock in lines[0], lines)
            check("systemctl start tipd" in lines[0], lines)
            eq(out, "", args)
        # add with tipd down must not have created an identity for nothing
        check(not os.path.exists(os.path.join(d.home(), "identity")))
        # A stale socket file (daemon killed): nothing accepts connections.
        s = socket.socket(socket.AF_UNIX)
        s.bind(d.sock)
        s.close()
        rc, out, err = d.tip("status", timeout=20)
        eq(rc, 4, err)
        check("tipd is not running" in err, err)
        os.unlink(d.sock)
        # A stopped daemon: the socket exists but no handshake completes.
        d.start()
        d.signal(signal.SIGSTOP)
        try:
            rc, out, err = d.tip("status", timeout=20)
            eq(rc, 4, err)
            eq(len(err.strip().splitlines()), 1, err)
            # (qa) it is running, so "not running ... start it" would mislead
            check("tipd is not answering" in err and "not running" not in err, err)
        finally:
            d.signal(signal.SIGCONT)
        rc, out, err = d.tip("status")
        eq(rc, 0, err)
    finally:
        d.cleanup()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


def test_not_found_and_ambiguous():
    with Daemon() as d:
        rc, out, err = d.tip("show", "f" * 64)
        eq(rc, 3, err)
        rc, out, err = d.tip("show", "abcd")
        eq(rc, 3, err)
        # Enough tips that two ids share a 4-hex-char prefix (65536 buckets).
        path = os.path.join(d.tmp, "many.jsonl")
        write(path, "".join(json.dumps({"title": "generated tip %d" % i, "body": "x"}) + "\n"
                            for i in range(1500)))
        rc, out, err = d.tip("import", path)
        eq(rc, 0, err)
        check("imported 1500" in out, out)
        rc, out, err = d.tip("export")
        eq(rc, 0, err)
        ids = [json.loads(ln)["id"] for ln in out.splitlines()]
        eq(len(ids), 1500)
        seen, pair = {}, None
        for i in ids:
            if i[:4] in seen:
                pair = (seen[i[:4]], i)
                break
            seen[i[:4]] = i
        check(pair, "no shared 4-char prefix among 1500 ids (odds ~1e-7)")
        rc, out, err = d.tip("show", pair[0][:4])
        eq(rc, 3, err)
        check(pair[0] in err and pair[1] in err, "candidates listed:", err)
        eq(out, "")
        # (qa) one message line, then one line per candidate with its kind and
        # title so the user can pick; no second "give more characters" line
        # (ids are random: a third id may share the prefix too)
        sharing = sorted(i for i in ids if i[:4] == pair[0][:4])
        lines = err.rstrip("\n").split("\n")
        eq(len(lines), 1 + len(sharing), err)
        check(lines[0].startswith("tip: ") and "give more characters" in lines[0], lines)
        eq(sorted(ln[2:66] for ln in lines[1:]), sharing)
        for line in lines[1:]:
            check(line[66:].startswith("  tip: generated tip "), line)
        # a longer unique prefix works
        n = 5
        while sum(1 for i in ids if i[:n] == pair[0][:n]) > 1:
            n += 1
        got = d.tip_json("show", pair[0][:n])
        eq(got[0]["id"], pair[0])
        # the human short id of a new tip is unique
        rc, out, err = d.tip("add", "one more tip")
        eq(rc, 0, err)
        short = out.split()[0]
        rc, out, err = d.tip("show", short)
        eq(rc, 0, err)


def test_usage_errors():
    with Daemon() as d:
        cases = [
            (),
            ("frobnicate",),
            ("--color", "sometimes", "list"),
            ("--socket", "", "status"),  # (qa) was "not running (no socket at )", exit 4
            ("list", "-n", "0"),
            ("list", "-n", "x"),
            ("list", "--bogus"),
            ("list", "extra"),
            ("search",),
            ("search", "-n"),
            ("show",),
            ("show", "zz"),
            ("show", "abc"),
            ("show", "abcd", "ef01"),
            ("add", "-t", "bad topic!", "text"),
            ("add", "-f", "x", "text"),
            ("add", "--title", "x" * 201, "body"),
            ("list", "--kind", "nonsense"),
            ("import",),
            ("export", "a", "b"),
            ("help", "nonsense"),
            ("whoami", "--name", ""),
            ("whoami", "--team", "ops\nteam"),  # (qa) was "cannot sign", exit 1
            ("whoami", "--name", "Ana\tSouza"),
        ]
        for args in cases:
            rc, out, err = d.tip(*args, input="")
            eq(rc, 2, args, err)
            check(err.startswith("tip:") or err.startswith("tip --") or "usage:" in err, args, err)
        # add with no text and stdin not a terminal
        rc, out, err = d.tip("add", input="")
        eq(rc, 2, err)
        eq(d.status()["tips"], 0, "usage errors stored nothing")
        # --help and help work everywhere, exit 0
        for args in (("--help",), ("help",), ("help", "add"), ("add", "--help"),
                     ("search", "-h"), ("import", "--help")):
            rc, out, err = d.tip(*args)
            eq(rc, 0, args, err)
            check("usage: tip" in out, args, out)
        # (qa) --version, anywhere, runs nothing else
        for args in (("--version",), ("list", "--version")):
            rc, out, err = d.tip(*args)
            eq((rc, err), (0, ""), args)
            check(re.fullmatch(r"tip \d+\.\d+\.\d+\n", out), out)
        eq(d.tip_json("--version")[0]["version"], out.split()[1])
        rc, out, err = d.tip("help")
        for code in ("0", "1", "2", "3", "4", "5"):
            check(re.search(r"^\s+%s\s" % code, out, re.M), "exit code", code, "documented")


def test_color_rules():
    with Daemon() as d:
        add(d, "-t", "git", "colour test tip")
        base = [harness.TIP, "list"]
        rc, out = run_pty(base, tip_env(d, extra={"PAGER": "cat"}))
        eq(rc, 0, out)
        check(b"\x1b[" in out, "colour on a terminal by default", out)
        rc, out = run_pty(base, tip_env(d, extra={"PAGER": "cat", "NO_COLOR": "1"}))
        eq(rc, 0, out)
        check(b"\x1b[" not in out, "NO_COLOR", out)
        check(b"colour test tip" in out, out)
        rc, out = run_pty(base + ["--color", "never"], tip_env(d, extra={"PAGER": "cat"}))
        check(b"\x1b[" not in out, "--color never", out)
        rc, out = run_pty(base + ["--color=always"],
                          tip_env(d, extra={"PAGER": "cat", "NO_COLOR": "1"}))
        check(b"\x1b[" in out, "--color always overrides NO_COLOR", out)
        # Not a terminal: no colour unless asked.
        rc, out, err = d.tip("list")
        check("\x1b[" not in out, out)
        rc, out, err = d.tip("list", "--color", "always")
        check("\x1b[" in out, out)
        rc, out, err = d.tip("--json", "list", "--color", "never")
        check("\x1b[" not in out, out)


def test_pager_and_wrap():
    with Daemon() as d:
        rc, out, err = d.tip("import", DEMO)
        eq(rc, 0, err)
        marker = os.path.join(d.tmp, "pager-ran")
        pager = os.path.join(d.tmp, "pager.sh")
        write(pager, "#!/bin/sh\ncat > %s\n" % marker)
        os.chmod(pager, 0o755)
        # 11 tips do not fit in 10 rows: the pager gets the output.
        rc, out = run_pty([harness.TIP, "list"], tip_env(d, extra={"PAGER": pager}), rows=10)
        eq(rc, 0, out)
        check(os.path.exists(marker), "pager not used", out)
        check("Lesson: the Friday deploy" in open(marker).read())
        os.unlink(marker)
        # Short output (status) never pages; piped output never pages.
        rc, out = run_pty([harness.TIP, "status"], tip_env(d, extra={"PAGER": pager}), rows=40)
        eq(rc, 0, out)
        check(not os.path.exists(marker), "status paged")
        rc, out, err = d.tip("list", env={"PAGER": pager})
        check(not os.path.exists(marker) and "Lesson" in out, "piped output paged")
        # Wrapping: no line of a shown tip wider than the terminal, but for
        # command lines, which are printed whole (exactly what --cmd prints).
        commands = set()
        for t in d.tip_json("list"):
            rc, out, err = d.tip("show", "--cmd", t["id"])
            commands |= set(out.splitlines())
        check("lp -d floor2 -o sides=two-sided-long-edge report.pdf" in commands, commands)
        tid = [t for t in d.tip_json("list") if t["title"].startswith("Lesson: the Friday")][0]
        rc, out = run_pty([harness.TIP, "show", tid["id"][:10]],
                          tip_env(d, extra={"PAGER": "cat", "NO_COLOR": "1"}), cols=50, rows=100)
        eq(rc, 0, out)
        for ln in out.decode().splitlines():
            if ln.startswith("id "):
                continue  # the full id is one word
            check(len(ln.rstrip("\r")) <= 50 or " " not in ln.strip()
                  or ln.strip() in commands, "too wide:", repr(ln))
        # ... and in lists, titles included (first body lines are cut with an ellipsis).
        rc, out = run_pty([harness.TIP, "list"],
                          tip_env(d, extra={"PAGER": "cat", "NO_COLOR": "1"}), cols=50, rows=200)
        eq(rc, 0, out)
        text = out.decode()
        check("Lesson: the Friday deploy" in text, text)
        for ln in text.splitlines():
            check(len(ln.rstrip("\r")) <= 50 or " " not in ln.strip()
                  or ln.strip() in commands, "too wide:", repr(ln))
        # (qa) a pager that cannot run must not swallow the page: a $PAGER
        # that is not there, or no $PAGER on a system without less
        bindir = os.path.join(d.tmp, "bin-without-less")
        os.mkdir(bindir)
        for extra in ({"PAGER": "/nonexistent/pager", "NO_COLOR": "1"},
                      {"PATH": bindir, "NO_COLOR": "1"}):
            rc, out = run_pty([harness.TIP, "list"], tip_env(d, extra=extra), rows=10)
            eq(rc, 0, out)
            check(b"Lesson: the Friday deploy" in out, extra, out)
        check(b"not found" not in out, "the default pager is only used where less is", out)


def test_identity_file():
    with Daemon() as d:
        home = d.home("ana")
        ident = os.path.join(home, "identity")
        check(not os.path.exists(ident))
        add(d, "first tip", home="ana")
        eq(stat.S_IMODE(os.stat(ident).st_mode), 0o600)
        who = d.tip_json("whoami", home="ana")[0]
        eq(who["identity"], ident)
        # The same key on the next run.
        eq(d.tip_json("whoami", home="ana")[0]["key"], who["key"])
        os.chmod(ident, 0o644)
        rc, out, err = d.tip("add", "second tip", home="ana")
        eq(rc, 1, err)
        eq(len(err.strip().splitlines()), 1, err)
        check(ident in err or "identity" in err, err)
        check("read" in err or "permission" in err or "0600" in err or "mode" in err, err)
        eq(d.status()["tips"], 1, "nothing stored with a refused identity")
        eq(stat.S_IMODE(os.stat(ident).st_mode), 0o644, "tip must not silently fix it")
        # (qa) a damaged identity: one line that names the way out; the file
        # is neither replaced nor changed, nothing is stored
        for junk in (b"", b"junk\n", b"zz" * 32 + b"\n", os.urandom(65)):
            with open(ident, "wb") as f:
                f.write(junk)
            os.chmod(ident, 0o600)
            for args in (("add", "third tip"), ("whoami", "--name", "Ana")):
                rc, out, err = d.tip(*args, home="ana")
                eq(rc, 1, args, err)
                eq(err.count("\n"), 1, err)
                check("is damaged" in err and "move it away" in err, err)
                with open(ident, "rb") as f:
                    eq(f.read() == junk, True, "identity file changed")
        eq(d.status()["events"], 1, "nothing stored with a damaged identity")


def test_profile_and_author():
    with Daemon() as d:
        rc, out, err = d.tip("whoami", "--name", "Ana Souza", "--team", "ops", home="ana")
        eq(rc, 0, err)
        check("Ana Souza" in out and "ops" in out, out)
        who = d.tip_json("whoami", home="ana")[0]
        eq((who["name"], who["team"]), ("Ana Souza", "ops"))
        # --team alone keeps the name
        d.tip_json("whoami", "--team", "platform", home="ana")
        who = d.tip_json("whoami", home="ana")[0]
        eq((who["name"], who["team"]), ("Ana Souza", "platform"))
        add(d, "Restart the VPN client", "-t", "vpn", home="ana")
        add(d, "Restart the print spooler", "-t", "printers", home="bob")
        res = d.tip_json("search", "restart", "--author", "ana souza")
        eq([t["title"] for t in res], ["Restart the VPN client"])
        eq(res[0]["author_name"], "Ana Souza")
        res = d.tip_json("search", "restart", "--author", who["key"][:10])
        eq(len(res), 1)
        rc, out, err = d.tip("search", "restart", "--author", "nobody-here")
        eq(rc, 3, err)
        rc, out, err = d.tip("list")
        check("Ana Souza (platform)" in out, out)
        check("key " in out, "bob has no profile: key prefix shown", out)
        fresh = d.tip_json("whoami", home="carl")[0]
        eq(fresh["name"], None)


def test_add_inputs():
    with Daemon() as d:
        tid = add(d, "-", input="Title from stdin\r\n\r\nline one\r\nline two\r\n")
        t = d.tip_json("show", tid)[0]
        eq((t["title"], t["body"]), ("Title from stdin", "line one\nline two"))
        f = os.path.join(d.tmp, "note.txt")
        write(f, "File title\nfile body\n")
        t = d.tip_json("show", add(d, "-t", "a,b", "-f", f))[0]
        eq((t["title"], t["body"], t["topics"]), ("File title", "file body", ["a", "b"]))
        t = d.tip_json("show", add(d, "--title", "Given", "all", "of", "this"))[0]
        eq((t["title"], t["body"]), ("Given", "all of this"))
        long_line = " ".join(["word"] * 80)  # 399 bytes: too long for a title
        t = d.tip_json("show", add(d, long_line))[0]
        check(len(t["title"].encode()) <= 200 and t["title"].endswith("\u2026"), t["title"])
        eq(t["body"], long_line)
        rc, out, err = d.tip("add", input="")
        eq(rc, 2)
        rc, out, err = d.tip("add", "-f", os.path.join(d.tmp, "nope"))
        eq(rc, 1, err)
        rc, out, err = d.tip("add", "-", input="   \n\n")
        eq(rc, 1, err)
        check("empty" in err, err)
        # --anon: a one-time key, not the user's
        me = d.tip_json("whoami")[0]["key"]
        t = d.tip_json("show", add(d, "--anon", "anonymous lesson"))[0]
        check(t["author"] != me, "anon tip signed with the user's key")


def test_text_limits():
    """(qa) Oversize or malformed text through every writing command: one clear
    line, a documented exit code, nothing stored."""
    with Daemon() as d:
        q = add(d, "Where is the printer?")
        t = add(d, "A tip to edit")
        base = d.status()["events"]
        body = "x" * 17000
        for args in (("add", body), ("add", "Title\n" + body), ("add", "w " * 200 + body),
                     ("ask", "--yes", "Title\n" + body), ("answer", q, "Title\n" + body),
                     ("edit", t, "Title\n" + body)):
            rc, out, err = d.tip(*args)
            eq(rc, 1, args[0], err)
            eq(err.count("\n"), 1, args[0], "one line:", err)
            check("at most 16384" in err and "nothing sent" in err, err)
        bad = os.path.join(d.tmp, "latin1.txt")
        with open(bad, "wb") as f:
            f.write(b"Caf\xe9 notes\nbody\n")
        for args in (("add", "-f", bad), ("edit", t, "-f", bad), ("answer", q, "-f", bad)):
            rc, out, err = d.tip(*args)
            eq(rc, 1, args[0], err)
            check("UTF-8" in err, err)
        # a long question is asked (title cut at a word), not refused by
        # the look-alike search's 2048-byte query bound
        rc, out, err = d.tip("--json", "ask", "--yes", "why " * 800)
        eq(rc, 0, err)
        asked = d.tip_json("show", json.loads(out)["id"])[0]
        eq(asked["body"], ("why " * 800).strip())
        base = d.status()["events"]
        rc, out, err = d.tip("add", "-t", "a,b,c,d,e,f,g,h,i", "nine topics")
        eq(rc, 2, err)
        check("at most 8 topics" in err, err)
        eq(d.status()["events"], base, "nothing stored")
        # Id arguments: the message says what is wrong with this one.
        for arg, why in (("zzzz", "ids are hex"), ("ab", "too short"),
                         ("a" * 65, "an id has 64 hex characters")):
            for cmd in (("show",), ("rate",), ("thanks",), ("retract",)):
                extra = ("3",) if cmd == ("rate",) else ()
                rc, out, err = d.tip(*(cmd + (arg,) + extra))
                eq(rc, 2, cmd, arg, err)
                check(why in err.splitlines()[0], cmd, arg, err)


def test_empty_results_say_why():
    """(qa) An empty list or search narrowed by -t/--author/--kind says the
    filters emptied it (not "no tips yet"/"share it"), and is no "miss"."""
    with Daemon() as d:
        add(d, "-t", "printers", "Printer jam on floor two")
        for args in (("list", "-t", "vpn"), ("list", "--author", "me", "--kind", "question")):
            rc, out, err = d.tip(*args)
            eq((rc, out, err), (0, "Nothing matches -t/--author/--kind as given.\n", ""), args)
        rc, out, err = d.tip("search", "-t", "vpn", "printer")
        eq((rc, out), (0, 'No tips match "printer" with -t/--author/--kind as given; try '
                          'without.\n'))
        rc, out, err = d.tip("search", "coffee")
        eq(out, 'No tips match "coffee" yet. If you find out, share it: tip add\n')
        eq([m["query"] for m in d.tip_json("stats")[0]["misses"]], ["coffee"])


def test_search_typos():
    """A mistyped word is corrected and the search says so; a search that
    finds nothing suggests what was probably meant (--json: the fields)."""
    with Daemon() as d:
        add(d, "Printer jam on floor two")
        rc, out, err = d.tip("search", "printr", "jam")
        eq(rc, 0, err)
        eq(out.splitlines()[0], 'Showing results for "printer jam".')
        check("Printer jam on floor two" in out, out)
        rc, out, err = d.tip("search", "flor")
        eq((rc, out), (0, 'No tips match "flor". Did you mean "floor"?\n'))
        rc, out, err = d.tip("search", "printer")
        check("Showing results" not in out, out)
        r = d.api({"op": "search", "q": "printr"})
        eq(r["corrected"], "printer")
        check("did_you_mean" not in r, r)
        r = d.api({"op": "search", "q": "flor"})
        eq((r["results"], r["did_you_mean"]), ([], "floor"))


def test_no_escape_sequences_from_others():
    """(qa) Text other people control never reaches a terminal as control
    characters: a search query with ESC/BEL/C1 (shown to every user of the
    machine in tip stats) and a tip body with a C1 control (U+009B, CSI on
    some terminals; the event format allows it in bodies)."""
    with Daemon() as d:
        rc, out, err = d.tip("search", "zzqq\x1b]0;pwned\x07 title\u009b2J")
        eq(rc, 0, err)
        eq([m["query"] for m in d.tip_json("stats")[0]["misses"]], ["zzqq ]0;pwned title 2j"])
        tid = add(d, "--title", "C1 in the body", "before\u009b31mafter")
        eq(d.tip_json("show", tid)[0]["body"], "before\u009b31mafter")  # stored as signed
        for args in (("stats",), ("show", tid), ("list",), ("search", "before")):
            rc, out = run_pty([harness.TIP] + list(args), tip_env(d, extra={"NO_COLOR": "1"}))
            eq(rc, 0, args, out)
            for bad in (b"\x1b", b"\x07", b"\xc2\x9b"):
                check(bad not in out, args, "control character reached the terminal:", out)
        rc, out = run_pty([harness.TIP, "show", tid], tip_env(d, extra={"NO_COLOR": "1"}))
        check("before\ufffd31mafter".encode() in out, out)


def test_today_on_a_terminal():
    """(qa) `tip today` typed on a terminal with nothing to offer says so (on
    stderr, exit 0) instead of printing nothing; the login snippet, which
    silences stderr, and a pipe stay quiet."""
    with Daemon() as d:
        add(d, "My own tip")  # the only tip is the user's own: no candidate
        rc, out = run_pty([harness.TIP, "today"], tip_env(d))
        eq(rc, 0, out)
        check(b"no tip of the day for you yet" in out, out)
        rc, out, err = d.tip("today")
        eq((rc, out, err), (0, "", ""))
        rc, out = run_pty(["/bin/sh", "-c", "tip today 2>/dev/null; echo done"],
                          tip_env(d, extra={"PATH": harness.BIN + ":/usr/bin:/bin"}))
        eq((rc, out.replace(b"\r", b"")), (0, b"done\n"))


def test_editor():
    with Daemon() as d:
        ed = os.path.join(d.tmp, "ed.sh")
        # Write a tip above the template; the template itself must be dropped.
        write(ed, "#!/bin/sh\nf=\"$1\"\n{ printf 'Editor title\\nEditor body\\n'; cat \"$f\"; } > \"$f.new\"\n"
                  "mv \"$f.new\" \"$f\"\n")
        os.chmod(ed, 0o755)
        rc, out = run_pty([harness.TIP, "--json", "add", "-t", "ed"],
                          tip_env(d, extra={"EDITOR": ed}))
        eq(rc, 0, out)
        tid = json.loads(out.decode().strip().splitlines()[-1])["id"]
        t = d.tip_json("show", tid)[0]
        eq((t["title"], t["body"]), ("Editor title", "Editor body"))
        # (qa) an editor that is not there: one line naming the way out
        rc, out = run_pty([harness.TIP, "add"], tip_env(d, extra={"EDITOR": "/nonexistent/ed"}))
        eq(rc, 1, out)
        check(b"cannot run the editor '/nonexistent/ed' (set EDITOR" in out, out)
        # An editor that saves nothing cancels.
        write(ed, "#!/bin/sh\n: > \"$1\"\n")
        rc, out = run_pty([harness.TIP, "add"], tip_env(d, extra={"EDITOR": ed}))
        eq(rc, 1, out)
        eq(d.status()["tips"], 1)


def test_kill9_after_add():
    """What tip acknowledged is on disk: SIGKILL right after, restart, it is there."""
    with Daemon() as d:
        ids = [add(d, "-t", "durable", "durable tip %d" % i) for i in range(3)]
        path = os.path.join(d.tmp, "bulk.jsonl")
        write(path, "".join(json.dumps({"title": "bulk %d" % i, "body": "b"}) + "\n"
                            for i in range(300)))
        s = d.tip_json("import", path)[0]
        eq(s["imported"], 300)
        ids.append(add(d, "the last one"))
        d.kill9()
        d.start()
        for i in ids:
            eq(d.tip_json("show", i)[0]["id"], i)
        eq(d.status()["tips"], 304)


def test_concurrent_clients():
    """Several tip processes at once: every add and import lands exactly once."""
    import subprocess
    with Daemon() as d:
        env = tip_env(d)
        files = []
        for k in range(2):
            p = os.path.join(d.tmp, "c%d.jsonl" % k)
            write(p, "".join(json.dumps({"title": "client %d tip %d" % (k, i)}) + "\n"
                             for i in range(400)))
            files.append(p)
        procs = [subprocess.Popen([harness.TIP, "--json", "import", f], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for f in files]
        procs += [subprocess.Popen([harness.TIP, "--json", "add", "parallel add %d" % i],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True) for i in range(8)]
        procs += [subprocess.Popen([harness.TIP, "--json", "search", "client"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for _ in range(4)]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs):
            eq(p.returncode, 0, err)
        for out, _ in outs[:2]:
            eq(json.loads(out)["imported"], 400)
        add_ids = {json.loads(out)["id"] for out, _ in outs[2:10]}
        eq(len(add_ids), 8)
        eq(d.status()["tips"], 808)


def test_peers_and_status_table():
    """tip peers renders the peer table: a static peer with its node key prefix."""
    with Daemon() as a:
        with Daemon(args=["--peer", a.listen]) as b:
            node_a = a.status()["node"]
            deadline = time.monotonic() + 30
            peers = []
            while time.monotonic() < deadline:
                peers = b.tip_json("peers")
                if peers and peers[0].get("state") == "linked":
                    break
                time.sleep(0.2)
            eq(len(peers), 1, peers)
            eq(peers[0]["node"], node_a)
            check("static" in peers[0]["source"], peers)
            rc, out, err = b.tip("peers")
            eq(rc, 0, err)
            lines = out.splitlines()
            check(lines[0].split()[:3] == ["NAME", "NODE", "ADDRESS"], out)
            eq(len(lines), 2, out)
            check(node_a[:8] in lines[1] and "static" in lines[1] and "linked" in lines[1], out)
            check("127.0.0.1:%d" % a.port in lines[1], out)
            st = b.tip_json("status")[0]
            eq(st["peers"], 1)
            rc, out, err = b.tip("status")
            eq(rc, 0, err)
            check(re.search(r"^peers\s+1 linked", out, re.M), out)
            check(re.search(r"^tips\s+0$", out, re.M), out)


def test_import_progress_on_terminal():
    """A progress bar on a terminal (stderr), none when stderr is not one."""
    with Daemon() as d:
        path = os.path.join(d.tmp, "p.jsonl")
        write(path, "".join(json.dumps({"title": "progress %d" % i}) + "\n" for i in range(50)))
        rc, out = run_pty([harness.TIP, "import", path], tip_env(d))
        eq(rc, 0, out)
        check(b"importing [" in out and b"%" in out, out)
        check(b"imported 50, duplicates 0, rejected 0" in out, out)
        rc, out, err = d.tip("import", path)
        eq(rc, 0, err)
        check("importing" not in err and "importing" not in out, out, err)
        check("imported 0, duplicates 50, rejected 0" in out, out)


if __name__ == "__main__":
    harness.need_binary(harness.TIPD)
    harness.need_binary(harness.TIP)
    run_tests(globals())
