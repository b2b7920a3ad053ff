"""test_daemon.py -- the real tipd binary through its local API.

Status fields, submit/search/get/list/export, every kind of bad request
(the daemon answers, stays up and stores nothing), several clients at once,
pipelined replies in order, kill -9 after an acknowledged submit, SIGTERM
with a batch in flight, the socket's permissions and a second daemon on the
same socket. Signed events come from build/tests/tipd-mkevent.
"""

import base64
import os
import signal
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, check, eq, mkevent, run_tests  # noqa: E402


def mk(n=1, **kw):
    """n signed events (base64) from a one-time key."""
    args = []
    for k, v in kw.items():
        if isinstance(v, bool):
            if v:
                args.append("--" + k.replace("_", "-"))
        elif isinstance(v, (list, tuple)):
            for x in v:
                args += ["--" + k.replace("_", "-"), x]
        else:
            args += ["--" + k.replace("_", "-"), str(v)]
    out = mkevent(*(args + ["--count", str(n)]))
    return out.split("\n")


def test_status_fields():
    with Daemon(args=["--name", "office-1"]) as d:
        st = d.status()
        for k in ("node", "name", "tips", "events", "peers", "network", "version", "uptime_s",
                  "data_dir"):
            check(k in st, "status lacks", k, st)
        eq(len(st["node"]), 64)
        check(all(c in "0123456789abcdef" for c in st["node"]), st["node"])
        eq(st["name"], "office-1")
        eq(st["tips"], 0)
        eq(st["events"], 0)
        eq(st["peers"], 0)
        eq(st["network"], "open")
        eq(st["data_dir"], d.data)
        check(isinstance(st["uptime_s"], int) and st["uptime_s"] >= 0, st)
        # the node key was created in the data dir, private
        mode = stat.S_IMODE(os.stat(os.path.join(d.data, "node.key")).st_mode)
        eq(mode, 0o600)
        # restart keeps the node key
        d.restart()
        eq(d.status()["node"], st["node"])


def test_submit_search_get_list_export():
    with Daemon() as d:
        home = d.home("ana")
        a = mkevent("--home", home, "--title", "Undo the last commit", "--body",
                    "git reset --soft HEAD~1 keeps your changes staged.", "-t", "git")
        b = mkevent("--home", home, "--title", "Find large files", "--body",
                    "du -ah . | sort -rh | head", "-t", "shell")
        r = d.api({"op": "submit", "events": [a, b, a]})
        check(r["ok"], r)
        st = [x["status"] for x in r["results"]]
        eq(st, ["new", "new", "duplicate"])
        ida = r["results"][0]["id"]
        eq(r["results"][2]["id"], ida)
        s = d.status()
        eq(s["tips"], 2)
        eq(s["events"], 2)

        r = d.api({"op": "search", "q": "undo commit", "n": 5})
        check(r["ok"] and len(r["results"]) >= 1, r)
        top = r["results"][0]
        eq(top["id"], ida)
        eq(top["title"], "Undo the last commit")
        eq(top["topics"], ["git"])
        eq(top["kind"], "tip")
        check(isinstance(top["score"], float), top)
        for k in ("author", "author_name", "created_at", "rating", "ratings", "thanks"):
            check(k in top, "tip object lacks", k)
        check(top["rating"] is None and top["ratings"] == 0, top)
        check(top["created_at"].endswith("Z") and "T" in top["created_at"], top)

        r = d.api({"op": "get", "id": ida[:8]})
        check(r["ok"], r)
        eq(r["event"]["id"], ida)
        eq(r["event"]["body"], "git reset --soft HEAD~1 keeps your changes staged.")
        eq(r["event"]["ratings_list"], [])
        eq(r["event"]["thanks_list"], [])

        r = d.api({"op": "list", "n": 1})
        eq(len(r["results"]), 1)
        eq(r["results"][0]["title"], "Find large files")  # newest first
        r = d.api({"op": "list", "topic": "git"})
        eq([x["id"] for x in r["results"]], [ida])
        r = d.api({"op": "list", "author": top["author"][:10]})
        eq(len(r["results"]), 2)
        r = d.api({"op": "list", "author": "ffff" if not top["author"].startswith("ffff")
                   else "eeee"})
        eq(r["results"], [])

        # export pages through everything; the bytes are the submitted ones
        got, cur = [], None
        while True:
            req = {"op": "export", "n": 1}
            if cur:
                req["after"] = cur
            r = d.api(req)
            check(r["ok"], r)
            got += r["events"]
            cur = r["next"]
            if cur is None:
                break
        eq(sorted(got), sorted([a, b]))

        # nothing found -> recorded as a miss, still ok
        r = d.api({"op": "search", "q": "kubernetes helm rollback"})
        eq(r, {"ok": True, "results": []})


def test_only_unnarrowed_empty_searches_are_misses():
    """(qa) "hungry to learn" counts searches that found nothing at all; one
    that a topic, author or kind filter emptied says nothing of the sort."""
    with Daemon() as d:
        home = d.home("ana")
        tip = mkevent("--home", home, "--title", "Printer jam on floor two", "--body",
                      "Open tray B.", "-t", "printers")
        eq(d.api({"op": "submit", "events": [tip]})["results"][0]["status"], "new")
        for narrowed in ({"topic": "vpn"}, {"topics": ["vpn"]}, {"author": "nobody"},
                         {"author": "ab" * 32}, {"kind": "question"}):
            r = d.api(dict({"op": "search", "q": "printer jam"}, **narrowed))
            eq((r["ok"], r["results"]), (True, []), narrowed)
        eq(d.api({"op": "misses"})["results"], [])
        r = d.api({"op": "search", "q": "Coffee  Machine", "kind": "any"})
        eq(r["results"], [])
        # recorded by the store's writer thread right after the answer
        for _ in range(100):
            got = d.api({"op": "misses"})["results"]
            if got:
                break
            time.sleep(0.05)
        eq([(m["query"], m["count"]) for m in got], [("coffee machine", 1)])


def test_ratings_thanks_on_get():
    with Daemon() as d:
        t = mkevent("--home", d.home("ana"), "--title", "Rotate logs", "--body", "logrotate -f")
        tid = d.api({"op": "submit", "events": [t]})["results"][0]["id"]
        r1 = mkevent("--home", d.home("bo"), "--kind", "rating", "--value", "2",
                     "--ref", "target:" + tid, "--created-at", "1790000000000")
        r2 = mkevent("--home", d.home("bo"), "--kind", "rating", "--value", "5",
                     "--ref", "target:" + tid, "--created-at", "1790000001000")
        th = mkevent("--home", d.home("cy"), "--kind", "thanks", "--title", "",
                     "--body", "saved me an hour", "--ref", "target:" + tid)
        r = d.api({"op": "submit", "events": [r2, r1, th]})
        eq([x["status"] for x in r["results"]], ["new", "new", "new"])
        ev = d.api({"op": "get", "id": tid})["event"]
        eq(ev["ratings"], 1)  # latest rating per rater
        eq(ev["rating"], 5.0)
        eq([x["value"] for x in ev["ratings_list"]], [5])
        eq([x["story"] for x in ev["thanks_list"]], ["saved me an hour"])
        eq(ev["thanks"], 1)


def bad_requests(d):
    """(request, expected error code) pairs; every one must be answered."""
    good = mk(1)[0]
    raw = base64.b64decode(good)
    trunc = base64.b64encode(raw[:-10]).decode()
    return [
        (b"{not json", "bad_request"),
        (b"", "bad_request"),
        (b"\xff\xfe\x00garbage", "bad_request"),
        (b"[1,2,3]", "bad_request"),
        (b'"just a string"', "bad_request"),
        (b"42", "bad_request"),
        ({"no_op": 1}, "bad_request"),
        ({"op": 7}, "bad_request"),
        ({"op": "launch_missiles"}, "bad_request"),
        ({"op": "submit"}, "bad_request"),
        ({"op": "submit", "events": "AAAA"}, "bad_request"),
        ({"op": "submit", "events": [1, 2]}, "bad_request"),
        ({"op": "submit", "events": [good] * 1025}, "too_large"),
        ({"op": "search"}, "bad_request"),
        ({"op": "search", "q": 5}, "bad_request"),
        ({"op": "search", "q": "x", "n": "ten"}, "bad_request"),
        ({"op": "search", "q": "x", "n": 100000}, "bad_request"),
        ({"op": "search", "q": "word " * 1000}, "bad_request"),
        ({"op": "search", "q": "x", "topics": "git"}, "bad_request"),
        ({"op": "search", "q": "x", "kind": "spaceship"}, "bad_request"),
        ({"op": "get"}, "bad_request"),
        ({"op": "get", "id": "xyz!"}, "bad_request"),
        ({"op": "get", "id": "abc"}, "bad_request"),
        ({"op": "get", "id": "0123456789"}, "not_found"),
        ({"op": "get", "id": {"a": 1}}, "bad_request"),
        ({"op": "get", "id": "abcd", "history": "yes"}, "bad_request"),
        ({"op": "list", "n": -1}, "bad_request"),
        ({"op": "list", "before": "yesterday"}, "bad_request"),
        ({"op": "export", "after": "not-a-cursor"}, "bad_request"),
        ({"op": "export", "n": 0}, "bad_request"),
        ({"op": "status", "tag": {"deep": [1, 2, {"x": None}]}}, None),  # fine, tag echoed
    ], trunc


def test_bad_requests_get_error_replies():
    with Daemon() as d:
        seed = mk(1, title="Seed tip")
        d.api({"op": "submit", "events": seed})
        before = d.status()
        reqs, _ = bad_requests(d)
        for req, code in reqs:
            r = d.api(req)
            if code is None:
                check(r["ok"], req, r)
                continue
            check(r.get("ok") is False, "expected an error for", str(req)[:80], r)
            eq(r["error"], code, "for", str(req)[:80])
            check(isinstance(r.get("message"), str) and r["message"], r)
        # deeply nested JSON is refused, not recursed into
        r = d.api(b"[" * 100000 + b"]" * 100000)
        eq(r["error"], "bad_request")
        after = d.status()
        eq(after["events"], before["events"])
        eq(after["tips"], before["tips"])
        check(d.running())


def test_bad_events_are_rejected_and_nothing_stored():
    with Daemon() as d:
        good = mk(1)[0]
        raw = base64.b64decode(good)
        cases = {
            "badsig": mk(1, bad_sig=True)[0],
            "future": mk(1, future=True)[0],
            "trunc": base64.b64encode(raw[:-10]).decode(),
            "trailing": base64.b64encode(raw + b"\x00").decode(),
            "b64": "not*base64!",
            "b64pad": good[:-1],
            "empty": "",
            "huge": base64.b64encode(b"\x01" * 40000).decode(),
        }
        r = d.api({"op": "submit", "events": list(cases.values())})
        check(r["ok"], r)
        res = dict(zip(cases.keys(), r["results"]))
        for k, v in res.items():
            eq(v["status"], "rejected", k, v)
            check(v.get("error"), k, v)
        check("signature" in res["badsig"]["error"], res["badsig"])
        check("future" in res["future"]["error"], res["future"])
        check(res["badsig"]["id"] is not None, "a decodable event reports its id")
        eq(res["b64"]["id"], None)
        st = d.status()
        eq(st["events"], 0)
        # a request with only bad events still gets a reply; a mixed one
        # stores exactly the good event
        r = d.api({"op": "submit", "events": [cases["badsig"], good]})
        eq([x["status"] for x in r["results"]], ["rejected", "new"])
        eq(d.status()["events"], 1)


def test_oversized_requests():
    with Daemon() as d:
        d.api({"op": "submit", "events": mk(2)})
        before = d.status()["events"]
        # above the 4 MiB request limit: a too_large reply
        big = b'{"op":"search","q":"' + b"a" * (5 << 20) + b'"}'
        r = d.api(big, timeout=30)
        eq(r["error"], "too_large")
        # above ZMQ_MAXMSGSIZE (8 MiB): ZeroMQ drops that connection; no reply,
        # but the daemon is unharmed and answers everyone else
        c = d.client(timeout=2)
        c.send_raw(b"x" * (9 << 20))
        check(not c.poll(1500), "no reply expected for a 9 MiB frame")
        c.close()
        eq(d.status()["events"], before)
        check(d.running())


def test_multi_frame_and_raw_router_envelopes():
    zmq = harness._zmq()
    with Daemon() as d:
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.RCVTIMEO, 5000)
        s.setsockopt(zmq.LINGER, 0)
        s.connect("ipc://" + d.sock)
        # two body frames: refused
        s.send_multipart([b"", b'{"op":"status"}', b'{"op":"status"}'])
        f = s.recv_multipart()
        eq(f[0], b"")
        check(b"bad_request" in f[1], f)
        # no delimiter: answered without one
        s.send_multipart([b'{"op":"status"}'])
        f = s.recv_multipart()
        eq(len(f), 1)
        check(b'"ok":true' in f[0], f)
        s.close()
        # a REQ socket works as documented
        q = ctx.socket(zmq.REQ)
        q.setsockopt(zmq.RCVTIMEO, 5000)
        q.setsockopt(zmq.LINGER, 0)
        q.connect("ipc://" + d.sock)
        q.send(b'{"op":"status","tag":"req"}')
        import json
        r = json.loads(q.recv())
        check(r["ok"] and r["tag"] == "req", r)
        q.close()


def test_pipelined_replies_come_back_in_order():
    with Daemon() as d:
        evs = mk(300)
        c = d.client()
        # submits (answered after commit) interleaved with instant requests
        sent = []
        for i in range(30):
            c.send({"op": "submit", "events": evs[i * 10:(i + 1) * 10], "tag": i * 2})
            c.send({"op": "status", "tag": i * 2 + 1})
            sent += [i * 2, i * 2 + 1]
        tags = []
        for _ in sent:
            r = c.recv()
            check(r["ok"], r)
            tags.append(r["tag"])
        eq(tags, sent)
        c.close()
        eq(d.status()["events"], 300)


def test_several_clients_at_once():
    with Daemon() as d:
        nthreads, per = 6, 40
        batches = [mk(per, title="client %d tip" % t) for t in range(nthreads)]
        errors = []

        def work(t):
            try:
                c = d.client(timeout=30)
                for i in range(0, per, 10):
                    c.send({"op": "submit", "events": batches[t][i:i + 10]})
                    c.send({"op": "search", "q": "client tip", "n": 3})
                    c.send({"op": "status"})
                for _ in range(per // 10):
                    r = c.recv()
                    eq([x["status"] for x in r["results"]], ["new"] * 10)
                    check(c.recv()["ok"])
                    check(c.recv()["ok"])
                c.close()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        th = [threading.Thread(target=work, args=(t,)) for t in range(nthreads)]
        for t in th:
            t.start()
        for t in th:
            t.join(120)
        eq(errors, [])
        st = d.status()
        eq(st["events"], nthreads * per)
        eq(st["tips"], nthreads * per)


def test_ambiguous_prefix():
    with Daemon() as d:
        # 2000 random ids in 65536 prefixes: ~30 expected collisions, so
        # none at all has odds of about e^-30
        evs = mk(2000)
        ids = []
        for i in range(0, 2000, 250):
            r = d.api({"op": "submit", "events": evs[i:i + 250]})
            ids += [x["id"] for x in r["results"]]
        by4 = {}
        for i in ids:
            by4.setdefault(i[:4], []).append(i)
        dup = [v for v in by4.values() if len(v) > 1]
        check(dup, "no 4-hex collision among 2000 ids")
        r = d.api({"op": "get", "id": dup[0][0][:4]})
        eq(r["error"], "ambiguous")
        eq(sorted(r["candidates"]), sorted(dup[0]))
        r = d.api({"op": "get", "id": dup[0][0]})
        eq(r["event"]["id"], dup[0][0])


def test_kill9_after_ack_keeps_event():
    with Daemon() as d:
        evs = mk(50)
        c = d.client()
        c.send({"op": "submit", "events": evs[:49]})
        c.send({"op": "submit", "events": evs[49:]})
        r1, r2 = c.recv(), c.recv()
        c.close()
        d.kill9()  # right after the acknowledgement: no flush, no clean close
        check(all(x["status"] == "new" for x in r1["results"] + r2["results"]))
        d.start()
        st = d.status()
        eq(st["events"], 50)
        r = d.api({"op": "get", "id": r2["results"][0]["id"]})
        check(r["ok"], r)


def test_sigterm_exits_zero_and_commits_queued():
    with Daemon() as d:
        evs = mk(600)
        c = d.client(timeout=20)
        for i in range(0, 600, 100):
            c.send({"op": "submit", "events": evs[i:i + 100]})
        # take one acknowledgement, then stop while the rest may be queued
        r = c.recv()
        acked = [x["id"] for x in r["results"] if x["status"] == "new"]
        eq(len(acked), 100)
        rc = d.stop(signal.SIGTERM)
        eq(rc, 0)
        check("stopped" in d.log(), d.log()[-500:])
        # submits the daemon had read were committed and answered on the way out
        while c.poll(1000):
            r = c.recv()
            acked += [x["id"] for x in r["results"] if x["status"] == "new"]
        c.close()
        d.start()
        # every acknowledged event is there, and nothing unacknowledged
        eq(d.status()["events"], len(acked))
        for i in acked[::50]:
            check(d.api({"op": "get", "id": i})["ok"], i)
        eq(d.stop(signal.SIGINT), 0)


def test_socket_permissions_and_second_daemon():
    with Daemon(tmp=None) as d:
        mode = stat.S_IMODE(os.stat(d.sock).st_mode)
        eq(mode, 0o666)
        # a second tipd on the same socket refuses to steal it
        rc, out, err = harness.run_tipd("--data", os.path.join(d.tmp, "data2"), "--api", d.sock,
                                        "--no-discovery", "--config", d.config, "--listen",
                                        "tcp://127.0.0.1:%d" % harness.free_port())
        eq(rc, 1)
        check("already answering" in err, err)
        check(d.status()["ok"])
        # nor one on the same data directory (it would share the node key)
        rc, out, err = harness.run_tipd("--data", d.data, "--api", os.path.join(d.tmp, "b.sock"),
                                        "--no-discovery", "--config", d.config, "--listen",
                                        "tcp://127.0.0.1:%d" % harness.free_port())
        eq(rc, 1)
        check("another tipd is already using the data directory %s" % d.data in err, err)
        check(d.status()["ok"])
    # the API directory is created when missing
    import shutil
    import tempfile
    t = tempfile.mkdtemp(prefix="tipd-test-")
    try:
        with Daemon(tmp=t, start=False) as d3:
            d3.sock = os.path.join(t, "run", "tipd", "tipd.sock")
            d3.start()
            eq(stat.S_IMODE(os.stat(os.path.dirname(d3.sock)).st_mode), 0o755)
            eq(stat.S_IMODE(os.stat(d3.sock).st_mode), 0o666)
    finally:
        shutil.rmtree(t, ignore_errors=True)


def test_stale_socket_is_replaced():
    with Daemon() as d:
        d.kill9()
        check(os.path.exists(d.sock), "kill -9 leaves the socket file behind")
        d.start()
        check(d.status()["ok"])


def test_client_that_never_reads_cannot_wedge_the_daemon():
    with Daemon() as d:
        hog = d.client()
        for i in range(3000):  # far beyond the per-client reply queue
            hog.send({"op": "status", "tag": i})
        evs = mk(20)
        r = d.api({"op": "submit", "events": evs})
        eq([x["status"] for x in r["results"]], ["new"] * 20)
        eq(d.status()["events"], 20)
        # the hog then reads what was kept for it (its queue's worth, the
        # rest dropped); everything it gets is a well-formed answer in order
        last = -1
        while hog.poll(200):
            r = hog.recv()
            check(r["ok"] and r["tag"] > last, r)
            last = r["tag"]
        hog.close()
        check(d.status()["ok"])


def test_responsive_during_bulk_submit():
    with Daemon() as d:
        evs = mk(4000)
        bulk = d.client(timeout=60)
        for i in range(0, 4000, 500):
            bulk.send({"op": "submit", "events": evs[i:i + 500]})
        # another client is answered while the bulk load is being verified
        st = d.status()
        check(st["ok"])
        r = d.api({"op": "search", "q": "test tip", "n": 1})
        check(r["ok"])
        for _ in range(8):
            r = bulk.recv()
            check(all(x["status"] == "new" for x in r["results"]), r)
        bulk.close()
        eq(d.status()["events"], 4000)


def test_random_garbage_requests():
    """Seeded random bytes and random JSON shapes: every one answered, no crash,
    nothing stored."""
    import json
    import random
    rnd = random.Random(7714)
    ops = ["submit", "search", "get", "list", "export", "status", "peers", "nope", ""]
    vals = [None, True, 0, -1, 2 ** 63, 1.5, "", "x" * 300, [], {}, ["a"], [1], {"a": []},
            "\u0000", "0000", "ffff" * 16]
    with Daemon() as d:
        c = d.client(timeout=20)
        n = 0
        for i in range(400):
            if i % 2:
                body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 200)))
            else:
                req = {"op": rnd.choice(ops)}
                for k in rnd.sample(["q", "n", "id", "events", "topics", "author", "kind",
                                     "before", "after", "history", "topic", "all", "tag"],
                                    rnd.randint(0, 5)):
                    req[k] = rnd.choice(vals)
                body = json.dumps(req).encode()
            c.send_raw(body)
            n += 1
        for _ in range(n):
            r = c.recv()
            check(isinstance(r, dict) and r.get("ok") in (True, False), r)
            if r["ok"] is False:
                check(r["error"] in ("bad_request", "not_found", "ambiguous", "too_large"), r)
        c.close()
        eq(d.status()["events"], 0)
        check(d.running())


if __name__ == "__main__":
    run_tests(globals())
