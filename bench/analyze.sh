#!/usr/bin/env bash
# analyze.sh -- wall time and peak RSS of `doppel analyze` on the shared data,
# full (--all) and incremental (20 items touched after a full run).
#
#   bench/analyze.sh BIN [DB_DIR]
#
# Imports Hive (11,862 Jira reports), all of apache-jira into one repository
# (40,704) and huggingface/datasets (7,258 GitHub items) into DB_DIR (default
# a temporary directory; never the repository), then for each:
#   1. `doppel analyze --all --full`  under /usr/bin/time -v
#   2. touches 20 items (updated_at + 1) and runs `doppel analyze --all`,
#      which is incremental, under /usr/bin/time -v
# and prints the summary line of analyze (its phase times) with wall time and
# peak RSS.
set -eu
BIN=$(readlink -f "${1:?usage: bench/analyze.sh BIN [DB_DIR]}")
DATA=$(cd "$(dirname "$0")/../.." && pwd)/shared/data
DIR=${2:-$(mktemp -d)}
mkdir -p "$DIR"

run() {   # label, command...
    local label=$1; shift
    local log="$DIR/time.txt"
    /usr/bin/time -v "$@" >"$DIR/out.txt" 2>"$log"
    local wall rss
    wall=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')
    rss=$(grep 'Maximum resident' "$log" | awk '{print $NF}')
    printf '%-34s wall %8s  peak RSS %6d MB\n' "$label" "$wall" $((rss / 1024))
    sed 's/^/    /' "$DIR/out.txt"
}

bench_db() {   # name, import args...
    local name=$1; shift
    local db="$DIR/$name.db"
    [ -f "$db" ] || "$BIN" import --db "$db" "$@" >/dev/null
    run "$name: analyze --all --full" "$BIN" analyze --db "$db" --all --full
    # as a sync would: 20 items updated after everything analysed so far
    sqlite3 "$db" "UPDATE items SET updated_at = (SELECT max(updated_at) FROM items) + 60 WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT 20)"
    run "$name: analyze --all (20 changed)" "$BIN" analyze --db "$db" --all
}

bench_db hive "$DATA/apache-jira/hive.jsonl.gz"
bench_db apache-jira --repo apache "$DATA"/apache-jira/*.jsonl.gz
bench_db hf-datasets "$DATA/github-hf-datasets/issues.jsonl.gz"
