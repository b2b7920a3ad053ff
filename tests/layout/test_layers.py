#!/usr/bin/env python3
"""test_layers.py -- the folder layout is the architecture; check that it holds.

CMake already refuses most upward includes (a layer's library only sees the
include directories of the layers it links), but a header found through a
sibling's path, or a file added to the wrong folder, would slip by. This
test reads every C source and header of the product and checks:

  1. no file includes a header of a higher layer (docs/ARCHITECTURE.md);
  2. the CLI includes nothing of the daemon's side but core/;
  3. no include cycle runs between files of different folders;
  4. no comment names an owner, a role or an issue number.
"""
import os
import re
import sys

SRC = os.environ.get("TIPD_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))

# Lowest first. A file may include headers of its own layer and of any
# layer listed before it; cli is a separate stack on top of core alone.
LAYERS = ["core", "proto", "store", "views", "discovery", "daemon/sys", "daemon/ingest",
          "daemon/net", "daemon/api", "daemon"]
CLI_MAY_USE = {"core", "cli"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LEFTOVER = re.compile(r"owner:|engineer|issue #[0-9]", re.I)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def folder_of(rel):
    d = os.path.dirname(rel)
    return d


def collect():
    files = {}
    for top in ["core", "proto", "store", "views", "discovery", "daemon", "cli"]:
        base = os.path.join(SRC, top)
        if not os.path.isdir(base):
            continue
        for root, _, names in os.walk(base):
            for n in names:
                if n.endswith((".c", ".h", ".h.in")):
                    rel = os.path.relpath(os.path.join(root, n), SRC)
                    files[rel] = open(os.path.join(SRC, rel), encoding="utf-8").read()
    return files


def main():
    files = collect()
    by_name = {}
    for rel in files:
        name = os.path.basename(rel)
        if name.endswith(".h.in"):
            name = name[:-3]
        by_name.setdefault(name, []).append(rel)
    errors = []
    for name, rels in by_name.items():
        if name.endswith(".h") and len(rels) > 1:
            errors.append("header name %s is used twice: %s" % (name, ", ".join(rels)))

    edges = {}
    for rel, text in files.items():
        src_folder = folder_of(rel)
        edges[rel] = []
        for inc in INCLUDE.findall(text):
            targets = by_name.get(os.path.basename(inc), [])
            if not targets:
                continue  # a system or generated header
            dst = targets[0]
            dst_folder = folder_of(dst)
            edges[rel].append(dst)
            if src_folder == "cli" or src_folder.startswith("cli/"):
                if dst_folder not in CLI_MAY_USE:
                    errors.append("%s includes %s: the CLI may use core/ only" % (rel, dst))
                continue
            if dst_folder == "cli":
                errors.append("%s includes %s: nothing below the CLI may use it" % (rel, dst))
                continue
            if src_folder not in LAYERS or dst_folder not in LAYERS:
                errors.append("%s or %s is in a folder no layer owns" % (rel, dst))
                continue
            if LAYERS.index(dst_folder) > LAYERS.index(src_folder):
                errors.append("%s (%s) includes %s of the higher layer %s" %
                              (rel, src_folder, dst, dst_folder))
        # comments only: data (a table of words, say) may hold any word
        for c in COMMENT.finditer(text):
            hit = LEFTOVER.search(c.group(0))
            if hit:
                lineno = text.count("\n", 0, c.start() + hit.start()) + 1
                errors.append("%s:%d names an owner, a role or an issue in a comment: %s" %
                              (rel, lineno, hit.group(0)))

    # Cycles through files of more than one folder (iterative DFS).
    state = {}
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(edges[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(nxt) == 1:
                cyc = path[path.index(nxt):] + [nxt]
                if len({folder_of(f) for f in cyc}) > 1:
                    errors.append("include cycle across folders: " + " -> ".join(cyc))
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(edges.get(nxt, []))))
                path.append(nxt)

    for e in errors:
        print("FAIL:", e)
    print("%d files checked, %d problem(s)" % (len(files), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
