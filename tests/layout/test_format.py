#!/usr/bin/env python3
"""test_format.py -- every C file of the tree is clang-format clean.

The checked-in .clang-format is the house style; a file that drifts from it
makes every later diff noisier. This runs `clang-format --dry-run -Werror`
(which changes nothing) over the C sources and headers of the product, the
tests, the benchmarks and the fuzzers, and lists the files that differ.
Skips (77) where clang-format is not installed (scripts/setup installs it).
"""
import os
import shutil
import subprocess
import sys

SRC = os.environ.get("TIPD_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
TOPS = ["core", "proto", "store", "views", "discovery", "daemon", "cli", "tests", "bench"]


def sources():
    out = []
    for top in TOPS:
        for root, dirs, files in os.walk(os.path.join(SRC, top)):
            dirs[:] = sorted(d for d in dirs if not d.startswith("build"))
            out += [os.path.join(root, f) for f in sorted(files) if f.endswith((".c", ".h"))]
    return out


def main():
    tool = shutil.which("clang-format")
    if not tool:
        print("SKIP: clang-format is not installed (scripts/setup installs it)")
        return 77
    files = sources()
    if len(files) < 50:
        print("FAIL: found only %d C files under %s" % (len(files), SRC))
        return 1
    bad = []
    for i in range(0, len(files), 64):
        r = subprocess.run([tool, "--dry-run", "-Werror", "--style=file"] + files[i:i + 64],
                           capture_output=True, text=True, cwd=SRC)
        for ln in r.stderr.splitlines():
            if "error:" in ln:
                f = os.path.relpath(ln.split(":", 1)[0], SRC)
                if f not in bad:
                    bad.append(f)
    if bad:
        print("FAIL: not clang-format clean (run clang-format -i on them):")
        for f in bad:
            print("  " + f)
        return 1
    print("PASS: %d C files are clang-format clean" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
