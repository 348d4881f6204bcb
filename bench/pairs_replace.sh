#!/usr/bin/env bash
# pairs_replace.sh -- the store's half of a full `analyze` at the size of a
# real store: bench/pairs_replace.c reads the pairs of a copy of STORE.db
# and writes them back as a full run does (delete, batches of 4096, the
# index snapshot, the pair indexes rebuilt, commit), each step timed in
# wall and CPU seconds (on a busy machine the CPU is what to compare).
#
#   bench/pairs_replace.sh STORE.db [RUNS]      (default RUNS 3)
#
# STORE.db is an analysed store (e.g. one `bench/scale.sh` made, or
# `doppel analyze --all --full` of bench/gen_scale.py's items); it is
# copied (next to the copy's size in free space is needed) and never
# written. The first run on a store of an older schema also times its
# migration ("open"). Without STORE.db it says so and skips.
# Environment: BUILD (default build/bench), TMPDIR.
set -eu
cd "$(dirname "$0")/.."
STORE=${1:-}
RUNS=${2:-3}
if [ -z "$STORE" ] || [ ! -f "$STORE" ]; then
    echo "pairs_replace.sh: no analysed store given (bench/pairs_replace.sh STORE.db): skipped"
    exit 0
fi
BUILD=${BUILD:-build/bench}
make -s -j2 BUILD="$BUILD" "$BUILD/bench/pairs_replace"
work=$(mktemp -d "${TMPDIR:-/tmp}/doppel-pairs-replace-XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$STORE" "$work/s.db"
for r in $(seq 1 "$RUNS"); do
    echo "== run $r of $RUNS: $BUILD/bench/pairs_replace COPY-OF-$STORE"
    "$BUILD/bench/pairs_replace" "$work/s.db"
done
