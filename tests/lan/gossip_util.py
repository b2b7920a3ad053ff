"""gossip_util.py -- helpers shared by the gossip LAN tests (tests/lan/test_gossip*.py).

Event ids are computed here from exported bytes exactly as docs/PROTOCOL.md
defines them (BLAKE2b-256("tipd-event-v1" || 0x00 || unsigned encoding), the
unsigned encoding being the signed bytes minus the 64-byte signature), so a
test can compare the sets of ids two hosts hold without trusting the daemon's
own reporting of ids.
"""
import base64
import hashlib
import json
import os
import tempfile

from lan import check


def event_id(raw):
    return hashlib.blake2b(b"tipd-event-v1\x00" + raw[:-64], digest_size=32).hexdigest()


def export_raw(h):
    """Every event host h holds (export op) -> {id: raw bytes}."""
    out, after = {}, None
    while True:
        req = {"op": "export", "n": 1000}
        if after:
            req["after"] = after
        r = h.api(req, timeout=30)
        check(r.get("ok"), "%s: export failed" % h.name, r)
        for b in r["events"]:
            raw = base64.b64decode(b)
            out[event_id(raw)] = raw
        after = r.get("next")
        if not after:
            return out


def ids(h):
    return set(export_raw(h))


def events(h):
    return h.status()["events"]


def linked(peers):
    return [p for p in peers if p.get("state") == "linked"]


def add_tip(h, title, body="", topics=(), user="default"):
    args = ["add", "--title", title]
    for t in topics:
        args += ["-t", t]
    args.append(body or ("body of " + title))
    rc, out, err = h.tip(*args, user=user)
    check(rc == 0, "%s: tip add failed (%d): %s" % (h.name, rc, err))
    # The id is the first token of the first line (human output).
    return out.split()[0]


def import_tips(h, n, tag, user="default"):
    """Add n tips on h through `tip import` (signed by the CLI, submitted in
    batches) -> number imported."""
    fd, path = tempfile.mkstemp(suffix=".jsonl", dir=h.dir)
    with os.fdopen(fd, "w") as f:
        for i in range(n):
            f.write(json.dumps({"title": "%s tip %d" % (tag, i),
                                "body": "catch-up body %d for %s: lorem ipsum" % (i, tag),
                                "topics": ["sync", tag]}) + "\n")
    rc, out, err = h.tip("import", path, user=user, timeout=600)
    check(rc == 0, "%s: tip import failed (%d): %s %s" % (h.name, rc, out, err))
    os.unlink(path)
    return n


def search_ids(h, query):
    return [r["id"] for r in h.tip_json("search", query)]
