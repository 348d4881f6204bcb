#!/usr/bin/env bash
# analyze.sh -- wall time and peak RSS of `doppel analyze` on the shared data:
# a full run, then the incremental runs a sync leads to.
#
#   bench/analyze.sh BIN [DB_DIR] [RUNS]
#
# Stores (in DB_DIR, default a temporary directory; never the repository):
#   hive      Hive (11,862 Jira reports)
#   big       all of apache-jira and huggingface/datasets in ONE repository
#             (47,962 items): the "50k-issue repository" of issue 5
#   hf        huggingface/datasets (7,258 GitHub issues and pull requests)
# For each store the 20 newest items are held back before the full run and
# then scenarios run in order:
#   1. analyze --all --full        (also saves the index snapshot)
#   2. analyze --all, nothing changed
#   3. the 20 held-back items arrive (as a sync would insert them), analyze --all
#   4. 20 other items get new text and a newer updated_at, analyze --all
# With MAX_MEMORY set (e.g. MAX_MEMORY=2G), scenario 1 runs again as
#   1b. analyze --all --full --max-memory $MAX_MEMORY
# and its "memory:" line says what the ceiling traded.
# Scenarios 3 and 4 run RUNS times (default 3; each time on a fresh copy of
# the store as it was after 2) and the median wall time is reported; the
# RSS shown is that of the last run.
set -eu
BIN=$(readlink -f "${1:?usage: bench/analyze.sh BIN [DB_DIR] [RUNS]}")
DATA=$(cd "$(dirname "$0")/../.." && pwd)/shared/data
DIR=${2:-$(mktemp -d)}
RUNS=${3:-3}
mkdir -p "$DIR"
if [ ! -d "$DATA" ]; then
    echo "skip: $DATA not found (the shared datasets live beside the checkout)"
    exit 0
fi

timed() {   # log, command...: runs under /usr/bin/time, prints "wall rss_mb"
    local log=$1; shift
    /usr/bin/time -f '%e %M' -o "$log.time" "$@" >"$log" 2>&1
    awk '{printf "%s %d\n", $1, $2 / 1024}' "$log.time"
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

report() {   # label, "wall rss", log
    printf '%-44s wall %6ss  peak RSS %5s MB\n' "$1" ${2% *} ${2#* }
    grep -E '^(analyzed|changed|indexed|up to date|memory|time)' "$3" | sed 's/^/    /'
}

bench_db() {   # name, import args...
    local name=$1; shift
    local db="$DIR/$name.db"
    if [ ! -f "$db" ]; then
        "$BIN" import --db "$db" "$@" >/dev/null
        # hold the 20 newest items back: they are what the next sync brings
        sqlite3 "$db" "CREATE TABLE bench_held AS SELECT * FROM items ORDER BY created_at DESC LIMIT 20;
                       DELETE FROM items WHERE id IN (SELECT id FROM bench_held);"
    fi
    r=$(timed "$DIR/$name.1" "$BIN" analyze --db "$db" --all --full)
    report "$name: analyze --all --full" "$r" "$DIR/$name.1"
    if [ -n "${MAX_MEMORY:-}" ]; then
        r=$(timed "$DIR/$name.1b" "$BIN" analyze --db "$db" --all --full --max-memory "$MAX_MEMORY")
        report "$name: analyze --all --full --max-memory $MAX_MEMORY" "$r" "$DIR/$name.1b"
    fi
    r=$(timed "$DIR/$name.2" "$BIN" analyze --db "$db" --all)
    report "$name: analyze --all (nothing changed)" "$r" "$DIR/$name.2"

    local walls3="" walls4="" i
    for i in $(seq "$RUNS"); do
        cp "$db" "$DIR/run.db"
        sqlite3 "$DIR/run.db" "INSERT INTO items SELECT * FROM bench_held;
            UPDATE items SET updated_at = (SELECT max(updated_at) FROM items) + 60
             WHERE id IN (SELECT id FROM bench_held);"
        sync   # else the timed run's first fsync flushes the copy's dirty pages
        r=$(timed "$DIR/$name.3" "$BIN" analyze --db "$DIR/run.db" --all)
        walls3="$walls3 ${r% *}"
        cp "$db" "$DIR/run.db"
        sqlite3 "$DIR/run.db" "UPDATE items SET title = title || ' (edited)',
                body = body || char(10) || 'Still happens after the latest upgrade, see the attached log.',
                updated_at = (SELECT max(updated_at) FROM items) + 60
             WHERE id IN (SELECT id FROM items ORDER BY (id * 7919) % 10007 LIMIT 20);"
        sync
        r4=$(timed "$DIR/$name.4" "$BIN" analyze --db "$DIR/run.db" --all)
        walls4="$walls4 ${r4% *}"
    done
    report "$name: 20 new items (median of $RUNS:$walls3)" "$(echo $walls3 | tr ' ' '\n' | median) ${r#* }" "$DIR/$name.3"
    report "$name: 20 edited items (median of $RUNS:$walls4)" "$(echo $walls4 | tr ' ' '\n' | median) ${r4#* }" "$DIR/$name.4"
    rm -f "$DIR/run.db" "$DIR/run.db-wal" "$DIR/run.db-shm"
}

bench_db hive "$DATA/apache-jira/hive.jsonl.gz"
bench_db big --repo big "$DATA"/apache-jira/*.jsonl.gz "$DATA/github-hf-datasets/issues.jsonl.gz"
bench_db hf "$DATA/github-hf-datasets/issues.jsonl.gz"
