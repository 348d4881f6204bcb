#!/usr/bin/env bash
# accuracy.sh -- duplicate-retrieval accuracy on the eight apache-jira
# projects of ../shared/data: for each project the plain BM25 baseline, the
# learned ranker trained on the other seven projects only (leave-one-
# project-out: every query of the project is a test query) and the in-project
# chronological split (trained on the oldest 80% of the project's own
# duplicates; projects with fewer than 50 of them fall back to their LOPO
# model, so no test query is ever seen in training). One table row per
# project and an average row; the bar is checked at the end.
#
#   bench/accuracy.sh [path/to/doppel]
#   ACCURACY_DIR=dir  keep the store and models there (reused when present)
#
# Not a timed test: prints numbers and the commands that made them. Skips
# cleanly when the data is absent.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/doppel}
DATA=${DATA:-$ROOT/../shared/data/apache-jira}
if [ ! -d "$DATA" ]; then
    echo "accuracy: $DATA not found -- skipping (needs ../shared/data)"
    exit 0
fi
[ -x "$BIN" ] || { echo "accuracy: $BIN not built (make)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "accuracy: needs python3 for the table" >&2; exit 1; }

DIR=${ACCURACY_DIR:-$(mktemp -d)}
mkdir -p "$DIR"
DB=$DIR/all.db
now() { date +%s.%N; }

# 1. one store for the whole run
if [ ! -s "$DB" ]; then
    t0=$(now)
    echo "+ $BIN import --db $DB $DATA/*.jsonl.gz"
    "$BIN" import --db "$DB" "$DATA"/*.jsonl.gz >"$DIR/import.log" 2>&1 || { cat "$DIR/import.log"; exit 1; }
    echo "import: $(python3 -c "print(f'{$(now) - $t0:.1f}')")s"
fi

# project keys as the store names them (first key of each file)
PROJECTS=$(for f in "$DATA"/*.jsonl.gz; do
    zcat "$f" | head -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["key"].split("-")[0])'
done)

train_s=0
eval_s=0
for p in $PROJECTS; do
    t0=$(now)
    "$BIN" train --db "$DB" --except "$p" --out "$DIR/$p.model" 2>"$DIR/$p.train.log" ||
        { cat "$DIR/$p.train.log"; exit 1; }
    t1=$(now)
    "$BIN" eval --db "$DB" --repo "$p" --model "$DIR/$p.model" --json >"$DIR/$p.lopo.json" ||
        exit 1
    "$BIN" eval --db "$DB" --repo "$p" --model "$DIR/$p.model" --split 0.8 --json \
        >"$DIR/$p.chrono.json" || exit 1
    t2=$(now)
    train_s=$(python3 -c "print($train_s + $t1 - $t0)")
    eval_s=$(python3 -c "print($eval_s + $t2 - $t1)")
done
echo "commands per project P: $BIN train --db $DB --except P --out $DIR/P.model"
echo "                        $BIN eval --db $DB --repo P --model $DIR/P.model --json            (LOPO)"
echo "                        $BIN eval --db $DB --repo P --model $DIR/P.model --split 0.8 --json (chronological)"
python3 "$ROOT/bench/accuracy/table.py" "$DIR" $PROJECTS
python3 -c "print(f'total: training {$train_s:.1f}s, eval {$eval_s:.1f}s (16 eval runs)')"
