#!/usr/bin/env python3
"""Independent check of the event test vectors in docs/PROTOCOL.md.

The C unit test (tests/unit/test_event_vectors.c) checks that our encoder
produces the bytes printed in the spec. That alone would let the spec and the
code agree on a mistake, so this test runs the *second* implementation the
spec itself contains -- the Python sketch in section 1.9, built on hashlib's
BLAKE2b and the cryptography package's Ed25519 -- and checks that it yields
exactly the signed bytes, ids and signatures the spec prints.
"""
import os
import re
import sys

SRC = os.environ.get("TIPD_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))

try:
    import cryptography  # noqa: F401
except ImportError:
    print("SKIP: python3-cryptography is not installed (scripts/setup installs it)")
    sys.exit(77)


def main():
    doc = open(os.path.join(SRC, "docs", "PROTOCOL.md"), encoding="utf-8").read()
    sec = doc[doc.index("### 1.9 Test vectors"):doc.index("## 2. Wire protocol")]
    code = re.search(r"```python\n(.*?)```", sec, re.S).group(1)
    env = {}
    exec(compile(code, "PROTOCOL.md §1.9", "exec"), env)

    def printed(name):
        m = re.search(r"\n" + name + r" signed \((\d+) bytes\):\n```\n(.*?)```", sec, re.S)
        raw = bytes.fromhex("".join(m.group(2).split()))
        assert len(raw) == int(m.group(1)), (name, len(raw), m.group(1))
        rest = sec[m.end():]
        eid = re.search(r"id\s+`([0-9a-f]{64})`", rest).group(1)
        sig = re.search(r"sig\s+`([0-9a-f]{128})`", rest).group(1)
        return raw, bytes.fromhex(eid), bytes.fromhex(sig)

    fails = 0
    vectors = {"question": ("q", "qid"), "tip": ("t", "tid"), "rating": ("r", "rid"),
               "profile": ("p", "pid"), "topics": ("u", "uid"), "imported": ("i", "iid")}
    for name, (ev, eid) in vectors.items():
        raw, pid, psig = printed(name)
        ok = env[ev] == raw and env[eid] == pid and env[ev][-64:] == psig
        print(("ok  " if ok else "FAIL"), name, len(raw), "bytes", pid.hex()[:16])
        fails += not ok
    print(f"{len(vectors) - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
