#!/usr/bin/env bash
# bench/search.sh -- run bench-search as docs/PERFORMANCE.md reports it:
# the development questions (clean and with typos) over the English pages,
# and the per-language table over the translated pages, tipd next to SQLite
# FTS5 and Xapian in each run.
#
# Usage: bench/search.sh [BUILD_DIR] [CORPUS_DIR]
#   BUILD_DIR   a Release build (made if missing), default build-rel
#   CORPUS_DIR  where tldr-pages-en.jsonl, tldr-pages-intl.jsonl and
#               queries-dev-pages-en.jsonl are, default /work/shared/corpus
# Installs Debian's python3-xapian (the Xapian reference) if it is missing;
# tipd itself never needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-rel}
corpus=${2:-/work/shared/corpus}

if ! /usr/bin/python3 -c 'import xapian' 2>/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-xapian >/dev/null
fi
if [ ! -x "$build/bin/bench-search" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTIPD_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j2 --target bench-search >/dev/null

"$build/bin/bench-search" --corpus "$corpus/tldr-pages-en.jsonl" \
  --queries "$corpus/queries-dev-pages-en.jsonl" --typos --reps 2
"$build/bin/bench-search" --corpus "$corpus/tldr-pages-intl.jsonl" --lang-table --reps 1
# How the shipped parameters were chosen: a grid, 5-fold cross-validated.
"$build/bin/bench-search" --corpus "$corpus/tldr-pages-en.jsonl" \
  --queries "$corpus/queries-dev-pages-en.jsonl" --fts-only \
  --tune "k1=1.2,2;b_body=0.75,1;syn=0,0.35;w_code=0.3,1;coord=0.5,1;w_title=1,3;cluster=0,0.2"
# Proximity and k1 with the question words in place, cross-validated.
"$build/bin/bench-search" --corpus "$corpus/tldr-pages-en.jsonl" \
  --queries "$corpus/queries-dev-pages-en.jsonl" --fts-only \
  --tune "k1=1.2,1.5,2;prox=0.3,0.5;prox_first=0.3,0.5;cluster=0,0.2"
# The question words on held-out folds: each fold scored with the table
# derived from the other four (store/fts_qword_table.h is derived from all).
"$build/bin/bench-search" --corpus "$corpus/tldr-pages-en.jsonl" \
  --queries "$corpus/queries-dev-pages-en.jsonl" --fts-only --qword-cv 10,1,0.9
