#!/usr/bin/env bash
# bench/import_rate.sh -- `tip import` throughput next to the raw Ed25519
# verify rate, measured in the same run on the same machine.
#
# Starts a real tipd on a temporary data directory (fsync on), times
# `tip import` of a JSONL corpus (default: the 32k-tip tldr corpus) end to end
# -- the CLI signs, the daemon verifies on its worker thread and group-commits
# -- and runs bench-ingest for libsodium's raw crypto_sign_verify_detached
# rate (one core). Also prints the CPU time each process used, to show whether
# both cores were busy. Use a Release build:
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel
#   bench/import_rate.sh build-rel/bin [CORPUS.jsonl]
set -euo pipefail
BIN=${1:-build/bin}
CORPUS=${2:-/work/shared/corpus/tldr-tips-en.jsonl}
for b in tipd tip bench-ingest; do
  [ -x "$BIN/$b" ] || { echo "import_rate: $BIN/$b not built" >&2; exit 1; }
done
T=$(mktemp -d /var/tmp/tipd-import-XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
echo "# empty" >"$T/tipd.conf"
"$BIN/tipd" --config "$T/tipd.conf" --data "$T/data" --api "$T/tipd.sock" --no-discovery \
  --listen tcp://127.0.0.1:0 --log-level warning 2>"$T/tipd.log" &
PID=$!
for _ in $(seq 100); do [ -S "$T/tipd.sock" ] && break; sleep 0.05; done
export TIP_SOCKET="$T/tipd.sock" TIP_HOME="$T/home"
"$BIN/tip" status >/dev/null
n=$(grep -c . "$CORPUS")
load=$(cut -d' ' -f1-3 /proc/loadavg)  # other work on the box skews every figure
t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$T/cli.time" "$BIN/tip" import "$CORPUS" >"$T/import.out"
t1=$(date +%s.%N)
# utime + stime of tipd (all threads), in seconds
daemon_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$PID/stat")
cli_cpu=$(awk '{print $1 + $2}' "$T/cli.time")
imported=$(grep -o 'imported [0-9]*' "$T/import.out" | grep -o '[0-9]*')
wall=$(echo "$t1 - $t0" | bc -l)
rate=$(echo "$imported / $wall" | bc -l)
raw=$("$BIN/bench-ingest" -n 20000 "$CORPUS" | awk '/raw crypto_sign_verify_detached/ {print $(NF-1)}')
printf '%-44s %10s\n' "what" "tips/s"
printf '%-44s %10.0f\n' "raw crypto_sign_verify_detached (1 core)" "$raw"
printf '%-44s %10.0f   (%d of %d lines in %.2f s)\n' "tip import -> tipd (sign, verify, commit)" \
  "$rate" "$imported" "$n" "$wall"
printf 'import / raw verify: %.1f%%   cpu: tipd %ss, tip %ss over %.2fs wall (%d cores)\n' \
  "$(echo "100 * $rate / $raw" | bc -l)" "$daemon_cpu" "$cli_cpu" "$wall" "$(nproc)"
printf 'load average before the run: %s\n' "$load"
