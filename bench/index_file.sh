#!/usr/bin/env bash
# index_file.sh -- what the persisted index (DB-index-REPO) saves a reader:
# `similar KEY`, `similar --title` (a new issue, asked of the index as it
# is) and `search` one call from the shell, with the file mapped and without
# it (the index built from the snapshot), on an analysed store. Mapped,
# `similar` reads only the items a question needs (issue 14: < 0.3 s).
#
#   bench/index_file.sh DB [DOPPEL]      (default build/doppel)
#
# RUNS (default 5) runs each; prints the median wall time, the median CPU
# time (user + system: the machine is shared, CPU time is the steadier
# number) and the peak RSS, plus the file's size and the load average.
# The store must be analysed (bench/scale.sh or analyze --all). Without
# the file, each run deletes it first (the run then writes it again).
set -eu
cd "$(dirname "$0")/.."
DB=$(readlink -f "${1:?usage: bench/index_file.sh DB [DOPPEL]}")
DOPPEL=$(readlink -f "${2:-build/doppel}")
RUNS=${RUNS:-5}
median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
KEY=$(sqlite3 "$DB" "select key from items where deleted = 0 order by created_at desc limit 1")
REPO=$(sqlite3 "$DB" "select repo_id from items where key = '$KEY' limit 1")
IXF=$DB-index-$REPO
"$DOPPEL" search --db "$DB" warmup >/dev/null 2>&1 || true   # writes the file if missing

# bench NAME DROP CMD...: DROP=1 deletes the file before each run
bench() {
    local name=$1 drop=$2; shift 2
    local w=() c=() r=()
    for _ in $(seq "$RUNS"); do
        [ "$drop" = 1 ] && rm -f "$IXF"
        /usr/bin/time -f "%e %U %S %M" -o "$T" "$@" >/dev/null 2>&1 || true
        read -r wall user sys rss <"$T"
        w+=("$wall"); c+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')"); r+=("$rss")
    done
    printf '| %-28s | %6.2f s | %6.2f s | %5d MB |\n' "$name" \
        "$(printf '%s\n' "${w[@]}" | median)" "$(printf '%s\n' "${c[@]}" | median)" \
        "$(( $(printf '%s\n' "${r[@]}" | median) / 1024 ))"
}
T=$(mktemp)
trap 'rm -f "$T"' EXIT
echo "store: $DB, $(sqlite3 "$DB" "select count(*) from items where deleted = 0") items; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| command (median of $RUNS) | wall | CPU | RSS |"
echo "|---|---|---|---|"
bench "similar $KEY, mapped" 0 "$DOPPEL" similar --db "$DB" "$KEY"
bench "similar --title, mapped" 0 "$DOPPEL" similar --db "$DB" --title "Connection timeout error after restart" \
    --body "The client fails with a connection timeout error every time the server restarts."
bench "search, mapped" 0 "$DOPPEL" search --db "$DB" connection timeout error
bench "similar $KEY, no file" 1 "$DOPPEL" similar --db "$DB" "$KEY"
bench "search, no file" 1 "$DOPPEL" search --db "$DB" connection timeout error
echo "index file: $(( $(stat -c %s "$IXF") / 1048576 )) MB"
