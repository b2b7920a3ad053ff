"""LAN gossip under attack: hostile and unauthorised peers.

Hosts 1 and 2 run honest tipds; host 3 runs a hostile client written here in
Python (python3-zmq with CURVE) that speaks the wire protocol of
docs/PROTOCOL.md section 2 from its own byte layouts: it connects with the
wrong server key, lies about its node key, completes the handshake and then
sends events with broken signatures, garbage frames, oversized frames and a
message flood. Each attack must end with the link closed (the exact BYE /
REJECT code is checked), the attacker held off, nothing but handshake
messages reaching an unauthorised client -- and the honest hosts must keep
replicating and answering the CLI throughout.

The same file is the client: `test_gossip_hostile.py --client MODE ...` runs
one attack inside a host's namespace and prints one JSON line of what it saw.
"""
import hashlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# ---- the client side (runs inside host 3; needs only python3-zmq) ----

P = 2 ** 255 - 19
T = {"HELLO": 1, "WELCOME": 2, "ACK": 3, "REJECT": 4, "PING": 5, "PONG": 6, "INV": 7,
     "WANT": 8, "EVENTS": 9, "RECON": 10, "PEX": 11, "BYE": 12, "IHAVE": 13, "GRAFT": 14,
     "PRUNE": 15, "PUSH": 16}
# The client speaks wire version 2, the version before the eager/lazy spread
# (PROTOCOL.md 2.3), unless told otherwise (Client.ver): tipd must link with
# it and never send it a message of another version (those show up as "?"
# in what it saw).
NAMES = {v: k for k, v in T.items()}


def server_keys(netkey):
    """PROTOCOL.md §2.2: the listener keypair every member shares."""
    import zmq
    from zmq.utils import z85
    if netkey:
        sk = hashlib.blake2b(b"tipd-curve-server-v1", key=netkey, digest_size=32).digest()
    else:
        sk = hashlib.blake2b(b"tipd-curve-open-v1", digest_size=32).digest()
    return z85.decode(zmq.curve_public(z85.encode(sk))), sk


def net_id(netkey):
    if not netkey:
        return "open"
    return hashlib.blake2b(b"tipd-net-id\x00" + netkey, digest_size=32).hexdigest()[:16]


def ed25519_from_x25519(u):
    """The Ed25519 public key whose birational image is the X25519 key u
    (y = (u - 1) / (u + 1) mod p, sign bit 0): what a peer presents as its
    node key so HELLO matches the CURVE transport key."""
    u = int.from_bytes(u, "little")
    y = (u - 1) * pow(u + 1, P - 2, P) % P
    return y.to_bytes(32, "little")


def _s(b):
    b = b.encode() if isinstance(b, str) else b
    return bytes([len(b)]) + b


class Client:
    def __init__(self, endpoint, server_pk, node_lie=False):
        import zmq
        from zmq.utils import z85
        self.zmq = zmq
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        pub, sec = zmq.curve_keypair()
        self.curve = z85.decode(pub)
        self.node = ed25519_from_x25519(self.curve)
        if node_lie:
            self.node = os.urandom(32)  # not the transport key
        self.sock.setsockopt(zmq.CURVE_SERVERKEY, z85.encode(server_pk))
        self.sock.setsockopt(zmq.CURVE_PUBLICKEY, pub)
        self.sock.setsockopt(zmq.CURVE_SECRETKEY, sec)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, 100000)
        self.sock.setsockopt(zmq.RECONNECT_IVL, 200)
        self.sock.connect(endpoint)
        self.seen = []
        self.ver = 2

    def send(self, t, *parts):
        """One message = one ZeroMQ frame: version, type, body (EVENTS and
        PUSH: each event with a u16 length)."""
        if t in ("EVENTS", "PUSH"):
            body = b"".join(len(e).to_bytes(2, "big") + e for e in parts)
        else:
            body = b"".join(parts)
        self.sock.send(bytes([self.ver, T[t]]) + body, copy=True)

    def recv(self, timeout_ms):
        """-> (type name, [header, body]) of the next message, or None."""
        if not self.sock.poll(timeout_ms):
            return None
        f = self.sock.recv_multipart()
        m = f[0]
        t = NAMES.get(m[1], "?") if len(f) == 1 and len(m) >= 2 and 2 <= m[0] <= self.ver else "?"
        self.seen.append(t)
        return t, [m[:2], m[2:]]

    def hello(self, net):
        self.nonce = os.urandom(16)
        self.send("HELLO", self.node + self.nonce + _s("tcp://*:7714") + _s("hostile") + _s(net))

    def handshake(self, net, timeout_ms=5000):
        """HELLO, WELCOME, ACK (open network only: empty proof) -> True when
        the WELCOME came."""
        self.hello(net)
        deadline = time.time() + timeout_ms / 1000
        while time.time() < deadline:
            r = self.recv(200)
            if r and r[0] == "WELCOME":
                self.send("ACK", b"\x00")
                return True
            if r and r[0] in ("REJECT", "BYE"):
                return False
        return False

    def wait_close(self, timeout_ms=8000):
        """Read until BYE/REJECT -> its code, or None."""
        deadline = time.time() + timeout_ms / 1000
        while time.time() < deadline:
            r = self.recv(100)
            if r and r[0] in ("BYE", "REJECT"):
                return r[1][1][0]
        return None


def fake_listener(endpoint, netkey, v2only=False):
    """A listener that holds the network's listener key but not the network
    key: it answers every HELLO (in the HELLO's wire version) with a WELCOME
    carrying a wrong proof (the dialer checks the proof before the
    signature, so random bytes do for both). v2only: a node of the release
    before version 3, which answers a version 3 HELLO with REJECT 1. Prints
    one line per HELLO with its version, for 40 s."""
    import zmq
    from zmq.utils import z85
    pk, sk = server_keys(netkey)
    s = zmq.Context.instance().socket(zmq.ROUTER)
    s.setsockopt(zmq.CURVE_SERVER, 1)
    s.setsockopt(zmq.CURVE_SECRETKEY, z85.encode(sk))
    s.setsockopt(zmq.LINGER, 0)
    s.bind(endpoint)
    node = os.urandom(32)
    deadline = time.time() + 40
    while time.time() < deadline:
        if not s.poll(200):
            continue
        rid, m = s.recv_multipart()[:2]
        if len(m) < 2 or m[1] != T["HELLO"] or m[0] not in (2, 3):
            continue
        print("HELLO v%d" % m[0], flush=True)
        if v2only and m[0] != 2:
            s.send_multipart([rid, bytes([2, T["REJECT"], 1]) + _s("wire version not supported")])
            continue
        proof = bytes([32]) + os.urandom(32) if netkey else bytes([0])
        body = (node + os.urandom(16) + _s("tcp://*:7714") + _s("fake") + _s(net_id(netkey))
                + proof + os.urandom(64))
        s.send_multipart([rid, bytes([m[0], T["WELCOME"]]) + body])


def client_main(argv):
    mode, endpoint = argv[0], argv[1]
    if mode in ("fakelistener", "fakev2"):
        fake_listener(endpoint, bytes.fromhex(argv[2]) if argv[2] != "-" else None,
                      v2only=mode == "fakev2")
        return
    netkey = bytes.fromhex(argv[2]) if len(argv) > 2 and argv[2] != "-" else None
    extra = argv[3] if len(argv) > 3 else ""
    pk, _ = server_keys(netkey)
    out = {"mode": mode}
    if mode == "wrongkey":
        c = Client(endpoint, os.urandom(32))
        c.hello(net_id(netkey))
        for _ in range(30):
            c.recv(100)
    elif mode == "badnode":
        c = Client(endpoint, pk, node_lie=True)
        c.hello(net_id(netkey))
        out["code"] = c.wait_close()
    elif mode == "wrongproof":
        # Knows the listener key but not the network key: WELCOME, then a
        # wrong proof -> REJECT; nothing else may arrive.
        c = Client(endpoint, pk)
        c.hello(net_id(netkey))
        r = None
        for _ in range(50):
            r = c.recv(100)
            if r:
                break
        if r and r[0] == "WELCOME":
            c.send("ACK", b"\x20" + os.urandom(32))
        out["code"] = c.wait_close()
        for _ in range(20):
            c.recv(100)
    elif mode == "oldpeer":
        # A node of the previous release: links at version 2, and must get
        # new ids as INV (never a version 3 PUSH or IHAVE), and bodies as
        # EVENTS when it asks for them with WANT.
        c = Client(endpoint, pk)
        out["welcomed"] = c.handshake(net_id(netkey))
        got, deadline, ping = [], time.time() + 30, 0.0
        while time.time() < deadline and "EVENTS" not in c.seen:
            if time.time() - ping >= 1.0:  # a version 2 node PINGs every second
                c.send("PING", (1).to_bytes(8, "big"))
                ping = time.time()
            r = c.recv(100)
            if r and r[0] == "PING":
                c.send("PONG", r[1][1])
            if r and r[0] == "INV":
                ids = r[1][1]
                got += [ids[i:i + 32].hex() for i in range(0, len(ids), 32)]
                c.send("WANT", ids)
        out["inv"] = got
        out["code"] = None
    elif mode in ("replay", "pexpoison"):
        c = Client(endpoint, pk)
        out["welcomed"] = c.handshake(net_id(netkey))
        time.sleep(0.3)
        if mode == "replay":
            # 100 copies of an event the node holds, never asked for.
            raw = bytes.fromhex(extra)
            for _ in range(2):
                c.send("EVENTS", *([raw] * 50))
        else:
            # 40 PEX messages of 32 entries: loopback in many spellings
            # (we are not on loopback), then addresses where nothing listens.
            spell = ["127.0.0.1", "127.1", "0x7f.0.0.1", "127.000.000.001", "2130706433",
                     "127.0.0.2", "[::1]", "0.0.0.0", "224.0.0.1", "255.255.255.255"]
            for k in range(40):
                e = b""
                for i in range(32):
                    if k < 20:
                        host = spell[(k * 32 + i) % len(spell)]
                    else:
                        host = "198.18.0.%d" % (150 + (k * 32 + i) % 100)
                    ep = "tcp://%s:%d" % (host, 20000 + k * 32 + i)
                    e += os.urandom(32) + _s(ep)
                c.send("PEX", bytes([32]) + e)
        for _ in range(20):  # stay linked a moment (PINGs answered by the node)
            c.recv(100)
        out["code"] = None
    elif mode in ("badsig", "garbage", "flood", "oversize", "wantflood", "reconflood",
                  "replayflood", "pushflood"):
        c = Client(endpoint, pk)
        if mode == "pushflood":
            c.ver = 3
        out["welcomed"] = c.handshake(net_id(netkey))
        time.sleep(0.3)
        if mode == "badsig":
            raw = bytearray(bytes.fromhex(extra))
            raw[-1] ^= 0x01  # the signature no longer verifies
            c.send("EVENTS", bytes(raw))
        elif mode == "replayflood":
            raw = bytes.fromhex(extra)
            for _ in range(100):  # 6,400 unasked events: past the allowance
                c.send("EVENTS", *([raw] * 64))
        elif mode == "pushflood":
            # Version 3 pushes of an event the node holds: the first answers
            # PRUNE; 70,400 more are a peer ignoring it.
            raw = bytes.fromhex(extra)
            for _ in range(1100):
                c.send("PUSH", *([raw] * 64))
                c.recv(0)
        elif mode == "garbage":
            c.sock.send(b"\x02\x07" + os.urandom(33))  # INV of 33 bytes
        elif mode == "wantflood":
            for _ in range(5):  # 5,120 ids asked at once: far over the window
                c.send("WANT", os.urandom(32 * 1024))
        elif mode == "reconflood":
            for _ in range(300):  # each could make us offer our whole set
                c.send("RECON", b"\x01\x00\x00\x02\x00")
        elif mode == "oversize":
            c.send("RECON", b"\x01" + os.urandom(200000))  # over ZMQ_MAXMSGSIZE
        else:
            for i in range(40000):
                try:
                    c.send("PING", i.to_bytes(8, "big"))
                except Exception:  # noqa: BLE001 -- HWM: keep going
                    pass
        out["code"] = c.wait_close()
        # Held off: a second try with the same identity gets nowhere.
        c2 = c
        c2.hello(net_id(netkey))
        out["retry"] = c2.wait_close(2000)
    out["seen"] = c.seen
    print(json.dumps(out), flush=True)


# ---- the test side ----

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--client":
    client_main(sys.argv[2:])
    sys.exit(0)

import lan  # noqa: E402
from lan import check, eq  # noqa: E402
from gossip_util import add_tip, export_raw, ids, linked  # noqa: E402

HANDSHAKE_ONLY = {"WELCOME", "REJECT", "BYE"}
R_NETWORK, R_IDENTITY, R_PROTOCOL, R_ABUSE = 2, 3, 5, 6


def _attack(net, mode, netkey=None, extra=""):
    p = net[3].run("/usr/bin/python3", os.path.abspath(__file__), "--client", mode,
                   "tcp://%s:7714" % net[1].addr, netkey.hex() if netkey else "-", extra,
                   timeout=120)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    counts = {}
    for t in r["seen"]:
        counts[t] = counts.get(t, 0) + 1
    print("attack %s: code=%s retry=%s seen=%s" % (mode, r.get("code"), r.get("retry"), counts),
          flush=True)
    return r


def _start_honest(net, args=None):
    for h in (net[1], net[2]):
        h.start_dbus()
        h.start_avahi()
        h.start_tipd(args or [])
    net.wait_peers(lambda h, ps: len(linked(ps)) == 1, "hosts 1 and 2 linked",
                   hosts=[net[1], net[2]])


def _still_replicating(net, title):
    tid = add_tip(net[2], title)
    net.wait(lambda: any(i.startswith(tid) for i in ids(net[1])), 20,
             "host1 still receives from host2 (%s)" % title)
    rc, out, err = net[1].tip("status")
    eq(rc, 0, "host1 answers the CLI", err)


def test_hostile_peer_cannot_stop_replication():
    with lan.Lan(3) as net:
        _start_honest(net)
        t0 = add_tip(net[1], "Honest tip one")
        raw = [r for i, r in export_raw(net[1]).items() if i.startswith(t0)][0]

        r = _attack(net, "wrongkey")
        eq(r["seen"], [], "a client with the wrong server key gets nothing")

        r = _attack(net, "badnode")
        eq(r["code"], R_IDENTITY, "a node key that is not the transport key is refused", r)
        check(set(r["seen"]) <= HANDSHAKE_ONLY, r)

        # A copy of a held event is a replay, dropped unverified; a forged
        # one needs an id the node does not hold: change the title.
        forged = raw.replace(b"Honest tip one", b"Hanest tip one")
        check(forged != raw, "the title is in the signed bytes")
        r = _attack(net, "badsig", extra=forged.hex())
        check(r["welcomed"], "open network: the handshake completes", r)
        eq(r["code"], R_ABUSE, "an invalid signature closes the link", r)
        eq(r["retry"], R_ABUSE, "held off afterwards", r)
        _still_replicating(net, "after bad signatures")

        r = _attack(net, "garbage")
        eq(r["code"], R_PROTOCOL, "a malformed frame closes the link", r)
        eq(r["retry"], R_ABUSE, "held off afterwards", r)
        _still_replicating(net, "after garbage")

        r = _attack(net, "flood")
        eq(r["code"], R_ABUSE, "a flood closes the link", r)
        eq(r["retry"], R_ABUSE, "held off afterwards", r)
        _still_replicating(net, "after a flood")

        r = _attack(net, "wantflood")
        eq(r["code"], R_ABUSE, "asking for far more than a window closes the link", r)
        _still_replicating(net, "after a WANT flood")

        r = _attack(net, "reconflood")
        eq(r["code"], R_ABUSE, "a stream of RECON messages closes the link", r)
        _still_replicating(net, "after a RECON flood")

        r = _attack(net, "oversize")
        check(r["code"] is None or r["code"] == R_PROTOCOL, "oversized frame: link dropped", r)
        _still_replicating(net, "after an oversized frame")

        # The hostile events never made it in; the honest ones are everywhere.
        eq(ids(net[1]), ids(net[2]))
        log = net[1].log()
        check("sent invalid events" in log, "host1 logged the bad signature")
        eq(net[1].status()["peers"], 1, "host1 is linked with host2 only")


def _gossip(h):
    return h.status()["gossip"]


def test_replays_are_not_verified_again():
    with lan.Lan(3) as net:
        _start_honest(net)
        t0 = add_tip(net[1], "Held tip")
        raw = [r for i, r in export_raw(net[1]).items() if i.startswith(t0)][0]
        before = _gossip(net[1])
        r = _attack(net, "replay", extra=raw.hex())
        check(r["welcomed"], r)
        net.wait(lambda: _gossip(net[1])["replays"] == before["replays"] + 100, 10,
                 "100 replays counted")
        after = _gossip(net[1])
        eq(after["replays"], before["replays"] + 100, "replays dropped before verification")
        eq(after["unasked"], before["unasked"] + 100, "none of them was asked for")
        eq(after["rejected"], before["rejected"], "nothing went to signature checks and failed")
        eq(net[1].status()["events"], net[2].status()["events"], "nothing new stored")
        # A stream of them is abuse: the link ends and the node is held off.
        r = _attack(net, "replayflood", extra=raw.hex())
        eq(r["code"], R_ABUSE, "6,400 unasked events close the link", r)
        eq(r["retry"], R_ABUSE, "held off afterwards", r)
        check("sent events it was not asked for" in net[1].log(), "host1 logged why")
        _still_replicating(net, "after a replay flood")
        # Version 3: pushing what the node holds gets PRUNE; going on is abuse.
        before = _gossip(net[1])
        r = _attack(net, "pushflood", extra=raw.hex())
        check("PRUNE" in r["seen"], "a duplicate push is answered with PRUNE", r)
        eq(r["code"], R_ABUSE, "pushing on after PRUNE closes the link", r)
        eq(r["retry"], R_ABUSE, "held off afterwards", r)
        after = _gossip(net[1])
        eq(after["rejected"], before["rejected"], "no pushed copy was verified")
        check(after["replays"] - before["replays"] >= 65536, "every copy counted as a replay")
        check("kept pushing after PRUNE" in net[1].log(), "host1 logged why")
        _still_replicating(net, "after a push flood")


def test_pex_poisoning_leaves_the_table_usable():
    with lan.Lan(4) as net:
        _start_honest(net)
        r = _attack(net, "pexpoison")
        check(r["welcomed"], r)
        g = _gossip(net[1])
        ps = net[1].peers()
        pex = [p for p in ps if p["source"] == "pex"]
        # 1,280 entries offered; loopback spellings, the unspecified address,
        # multicast and broadcast are refused, and one link adds at most 32
        # a minute. (The attacker's own entry comes from its HELLO.)
        check(len(pex) <= 33, "peer exchange entries after the attack", len(pex), pex[:3])
        check(all("198.18.0." in p["addr"] or p["addr"] == net[3].addr for p in pex),
              "no loopback or other spelling got in", [p["addr"] for p in pex])
        check(g["pex_refused"] >= 300, "refused entries counted", g)
        # Nothing answers at those addresses: each is forgotten after three
        # failed dials, and the table holds host2 (and perhaps the attacker).
        def dead_entries():
            return [p for p in net[1].peers() if p["addr"].startswith("198.18.0.")
                    and int(p["addr"].rsplit(".", 1)[1]) >= 150]
        check(len(dead_entries()) >= 1, "some unreachable entries were taken", pex)
        net.wait(lambda: dead_entries() == [], 90, "unreachable PEX entries aged out",
                 interval=1)
        check(_gossip(net[1])["pex_aged"] >= 1, "aged-out entries counted")
        # A new peer still gets in and replicates.
        h4 = net[4]
        h4.start_dbus()
        h4.start_avahi()
        h4.start_tipd([])
        net.wait_peers(lambda h, ps: net[4].node() in [p.get("node") for p in linked(ps)],
                       "host4 linked with host1", hosts=[net[1]], timeout=60)
        _still_replicating(net, "after PEX poisoning")


def test_wrong_proof_in_welcome():
    """PROTOCOL.md 2.4: a WELCOME with a wrong proof leaves the peer foreign
    with net_match false and net null, and it is dialed again (5 s, doubling)."""
    with lan.Lan(3) as net:
        key = os.path.join(net.dir, "net.key")
        lan._run([lan.TIPD, "genkey", key])
        with open(key) as f:
            netkey = bytes.fromhex(f.read().strip())
        fake = net[3].spawn(["/usr/bin/python3", os.path.abspath(__file__), "--client",
                             "fakelistener", "tcp://*:7714", netkey.hex()], "fake.log")
        net.wait(lambda: "" == net[3].log("fake") and fake.poll() is None, 5, "fake up")
        h = net[1]
        h.start_dbus()
        h.start_tipd(["--network-key", key, "--no-discovery",
                      "--peer", "tcp://%s:7714" % net[3].addr])

        def entry():
            return [p for p in h.peers() if p["addr"] == net[3].addr]
        net.wait(lambda: entry() and entry()[0]["state"] == "foreign", 20, "marked foreign")
        p = entry()[0]
        eq(p["net_match"], False, p)
        eq(p["net"], None, p)
        net.wait(lambda: net[3].log("fake").count("HELLO") >= 2, 30, "dialed again")
        eq(entry()[0]["net_match"], False, "still foreign after the re-dial")


def test_older_nodes_get_version_2():
    """PROTOCOL.md 2.3: a node of the release before version 3 is spoken to
    in version 2 -- a dialer that gets REJECT 1 for its version 3 HELLO dials
    again with version 2 at once, and a version 2 dialer gets a version 2
    link on which new ids come as INV and bodies as EVENTS after a WANT."""
    with lan.Lan(3) as net:
        fake = net[3].spawn(["/usr/bin/python3", os.path.abspath(__file__), "--client",
                             "fakev2", "tcp://*:7714", "-"], "fake.log")
        net.wait(lambda: "" == net[3].log("fake") and fake.poll() is None, 5, "fake up")
        h = net[1]
        h.start_dbus()
        h.start_tipd(["--no-discovery", "--peer", "tcp://%s:7714" % net[3].addr])
        net.wait(lambda: "HELLO v2" in net[3].log("fake"), 20, "a version 2 HELLO")
        hellos = net[3].log("fake").split()
        eq(hellos[:4], ["HELLO", "v3", "HELLO", "v2"], "version 3 first, then 2 at once")
        check("speaks wire version 2 only" in h.log(), "host1 logged the fallback")
        fake.kill()
        fake.wait()
        # Now a version 2 dialer that completes the handshake.
        h.stop_tipd()
        h.start_avahi()
        h.start_tipd([])
        net[2].start_dbus()
        net[2].start_avahi()
        net[2].start_tipd([])
        net.wait_peers(lambda h, ps: len(linked(ps)) == 1, "hosts 1 and 2 linked",
                       hosts=[net[1], net[2]])
        oldp = net[3].spawn(["/usr/bin/python3", os.path.abspath(__file__), "--client",
                             "oldpeer", "tcp://%s:7714" % net[1].addr, "-"], "old.log")
        net.wait(lambda: _gossip(net[1])["linked_v2"] == 1, 20, "a version 2 link")
        tid = add_tip(net[2], "For every release")
        oldp.wait(40)
        r = json.loads(net[3].log("old").strip().splitlines()[-1])
        check(r["welcomed"], r)
        check(any(i.startswith(tid) for i in r["inv"]), "the new id came as INV", r)
        check("EVENTS" in r["seen"], "and its body as EVENTS after WANT", r)
        check("?" not in r["seen"], "no version 3 message reached it", r)
        eq(_gossip(net[1])["linked"], 2, "host1 linked with host2 and the old node")


def test_unauthorised_client_gets_nothing():
    with lan.Lan(3) as net:
        key = os.path.join(net.dir, "net.key")
        lan._run([lan.TIPD, "genkey", key])
        with open(key) as f:
            netkey = bytes.fromhex(f.read().strip())
        _start_honest(net, ["--network-key", key])
        add_tip(net[1], "Secret office tip")

        r = _attack(net, "wrongkey", netkey=os.urandom(32))
        eq(r["seen"], [], "a client without the network key cannot even handshake")
        r = _attack(net, "wrongkey", netkey=netkey)
        eq(r["seen"], [], "random server key: nothing")
        # Even knowing the listener's public key, a wrong proof gets only the
        # handshake and a REJECT: no INV, EVENTS, RECON or PEX.
        r = _attack(net, "wrongproof", netkey=netkey)
        eq(r["code"], R_NETWORK, r)
        check(set(r["seen"]) <= HANDSHAKE_ONLY, "only handshake messages reached it", r)
        _still_replicating(net, "keyed network still replicates")


if __name__ == "__main__":
    lan.main(globals())
