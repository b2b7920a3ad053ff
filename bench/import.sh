#!/usr/bin/env bash
# bench/import.sh -- `tip import` of a JSONL corpus into a real tipd, next to
# libsodium's raw Ed25519 verify rate, measured in the same run.
#
# Issue #3's target: import (the CLI signs, tipd verifies and group-commits)
# at >= 70% of the raw crypto_sign_verify_detached rate. The machine may be
# shared, so the raw rate is measured right before AND right after the import
# (bench-ingest, 20000 verifies, best of 2 each time) and the mean is used, and
# every figure is given twice: wall-clock rate, and rate per CPU-second (utime
# + stime of the process), which other load on the box hardly moves.
#
# Usage: [BENCH_DIR=/dev/shm] bench/import.sh [BUILD_DIR] [CORPUS.jsonl]
#   BUILD_DIR defaults to build-bench, configured Release and built here.
#   CORPUS defaults to /work/shared/corpus/tldr-tips-en.jsonl (32k tips).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
CORPUS=${2:-/work/shared/corpus/tldr-tips-en.jsonl}
if [ ! -x "$BUILD/bin/tipd" ] || [ ! -x "$BUILD/bin/tip" ] || [ ! -x "$BUILD/bin/bench-ingest" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target tipd tip bench-ingest >/dev/null
fi
BIN=$BUILD/bin
# Disk-backed by default, so fsync means something; BENCH_DIR=/dev/shm shows
# what the same run costs without the disk.
T=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tipd-import-bench.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

# raw verify: "wall ev/s" and "CPU ev/s" columns of bench-ingest's first row
raw() {
  "$BIN/bench-ingest" -n 20000 "$CORPUS" |
    awk '/^raw crypto_sign_verify_detached/ {print $(NF-3), $(NF-1)}'
}
read -r raw_wall1 raw_cpu1 < <(raw)

: >"$T/tipd.conf"
"$BIN/tipd" --config "$T/tipd.conf" --data "$T/data" --api "$T/tipd.sock" --no-discovery \
  --listen tcp://127.0.0.1:0 --log-level warning 2>"$T/tipd.log" </dev/null &
PID=$!
export TIP_SOCKET=$T/tipd.sock TIP_HOME=$T/home
for _ in $(seq 200); do "$BIN/tip" status >/dev/null 2>&1 && break; sleep 0.05; done
"$BIN/tip" whoami >/dev/null # create the identity outside the timed part

cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
d0=$(cpu_of "$PID")
t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$T/tip.time" "$BIN/tip" --json import "$CORPUS" >"$T/import.json"
t1=$(date +%s.%N)
d1=$(cpu_of "$PID")
read -r raw_wall2 raw_cpu2 < <(raw)

python3 - "$T/import.json" "$T/tip.time" "$t0" "$t1" "$d0" "$d1" "$raw_wall1" "$raw_wall2" \
  "$raw_cpu1" "$raw_cpu2" "$load" "$(nproc)" "$CORPUS" <<'EOF'
import json, sys
(imp, ttime, t0, t1, d0, d1, rw1, rw2, rc1, rc2, load, ncpu, corpus) = sys.argv[1:]
s = json.load(open(imp))
n = s["imported"]
wall = float(t1) - float(t0)
tip_cpu = sum(float(x) for x in open(ttime).read().split()[:2])
tipd_cpu = float(d1) - float(d0)
raw_wall = (float(rw1) + float(rw2)) / 2
raw_cpu = (float(rc1) + float(rc2)) / 2
rate = n / wall
print("corpus %s: %d lines, imported %d, duplicates %d, rejected %d" % (
    corpus, s["lines"], n, s["duplicates"], s["rejected"]))
print("%-46s %10s %12s" % ("what", "wall /s", "per CPU-s"))
print("%-46s %10.0f %12.0f   (runs: %s, %s wall)" % (
    "raw crypto_sign_verify_detached (1 core)", raw_wall, raw_cpu, rw1, rw2))
print("%-46s %10.0f %12.0f   (%.2f s wall; tipd %.2f s CPU, tip %.2f s CPU)" % (
    "tip import -> tipd (sign, verify, commit)", rate, n / tipd_cpu if tipd_cpu else 0,
    wall, tipd_cpu, tip_cpu))
print("import / raw verify: %.1f%% (wall)   tipd CPU per tip vs raw verify: %.1f%%" % (
    100 * rate / raw_wall, 100 * (n / tipd_cpu) / raw_cpu if tipd_cpu else 0))
print("busy cores during import: %.2f of %s   load average before: %s" % (
    (tipd_cpu + tip_cpu) / wall, ncpu, load))
EOF
