#!/usr/bin/env bash
# import.sh -- `doppel import` of one export file into a fresh store: wall
# time, CPU time (user + sys) and peak RSS by /usr/bin/time, and where the
# CPU went (doppel's "cpu:" line: inflate and split, parse, store, commit).
# With several doppel binaries (e.g. before and after a change) their runs
# alternate, so a shared machine's load falls on all of them alike.
#
#   bench/import.sh FILE [DOPPEL...]        (default build/doppel)
#
# e.g. bench/import.sh /data/g48k/issues.jsonl.gz old/doppel build/doppel
# (a generated file: python3 bench/gen_scale.py ../shared/data DIR N).
#
# Environment:
#   RUNS        runs per binary; medians are shown (default 3)
#   IMPORT_DIR  where the stores go (default: a temporary directory,
#               removed at the end)
# Prints the load average before and after: on a busy machine wall time
# stretches, CPU time much less.
set -eu
FILE=$(readlink -f "${1:?usage: bench/import.sh FILE [DOPPEL...]}")
shift
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- build/doppel
BINS=()
for b in "$@"; do BINS+=("$(readlink -f "$b")"); done
RUNS=${RUNS:-3}
if [ -n "${IMPORT_DIR:-}" ]; then
    T=$(readlink -f "$IMPORT_DIR"); mkdir -p "$T"; OWN=0
else
    T=$(mktemp -d); OWN=1
fi
cleanup() { rm -f "$T"/import-*.db*; if [ "$OWN" = 1 ]; then rm -rf "$T"; fi; }
trap cleanup EXIT
# an IMPORT_DIR used before holds that bench's runs: they must not count here
rm -f "$T"/runs-* "$T"/time-* "$T"/out-*

median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]; else print "-"}'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$RUNS"); do
    for i in "${!BINS[@]}"; do
        db=$T/import-$i.db
        rm -f "$db" "$db-wal" "$db-shm"
        /usr/bin/time -f "%e %U %S %M" -o "$T/time-$i" "${BINS[$i]}" import --db "$db" "$FILE" \
            >"$T/out-$i" 2>&1 || { cat "$T/out-$i" >&2; exit 1; }
        read -r wall user sys rss <"$T/time-$i"
        mb=$(sed -n 's/.* \([0-9.]*\) MB in .*/\1/p' "$T/out-$i")
        phases=$(sed -n 's/^cpu: inflate and split \([0-9.]*\) s, parse \([0-9.]*\) s, store \([0-9.]*\) s, then commit \([0-9.]*\) s$/\1 \2 \3 \4/p' "$T/out-$i")
        echo "$wall $(awk "BEGIN {printf \"%.2f\", $user + $sys}") $((rss / 1024)) $mb ${phases:-- - - -}" >>"$T/runs-$i"
    done
    rm -f "$T"/import-*.db*
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "import of $(basename "$FILE"), median of $RUNS runs"
echo
echo "| doppel | wall s | CPU s (user+sys) | MB/s (wall) | peak RSS MB | inflate+split / parse / store / commit s |"
echo "|---|---|---|---|---|---|"
for i in "${!BINS[@]}"; do
    col() { cut -d' ' -f"$1" "$T/runs-$i" | median; }
    wall=$(col 1); mb=$(col 4)
    echo "| ${BINS[$i]} | $wall | $(col 2) | $(awk "BEGIN {printf \"%.1f\", $mb / $wall}") | $(col 3) | $(col 5) / $(col 6) / $(col 7) / $(col 8) |"
done
