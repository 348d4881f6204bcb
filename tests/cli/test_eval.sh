#!/usr/bin/env bash
# test_eval.sh -- `doppel eval` and `doppel train` on a tiny invented
# tracker (tests/fixtures/eval/tracker.json: 30 GitHub issues, 8 of them
# "Duplicate of #N"): text and JSON reports for both rankers, the truth CSV
# and its errors, the HTML report, a stored model that eval then uses, help
# and usage errors.
source "$ROOT/tests/cli/lib.sh"
IN=$FIX/eval
DB=$T/e.db
REPO=acme/sprocket

out=$("$DOPPEL" import --db "$DB" "$IN/tracker.json" 2>&1)
check_contains "fixture imports with its duplicate links" "30 items read, 30 written, 0 comments, 8 links" "$out"

# ---- help and usage -----------------------------------------------------------
out=$("$DOPPEL" eval --help 2>&1); rc=$?
check_eq "eval --help exits 0" 0 "$rc"
check_contains "eval --help shows usage" "usage: doppel eval" "$out"
out=$("$DOPPEL" train --help 2>&1); rc=$?
check_eq "train --help exits 0" 0 "$rc"
check_contains "train --help shows usage" "usage: doppel train" "$out"
"$DOPPEL" eval --db "$DB" --bogus 1 >/dev/null 2>&1; check_eq "eval: unknown option exits 2" 2 $?
"$DOPPEL" eval --db "$DB" --window -3 >/dev/null 2>&1; check_eq "eval: negative window exits 2" 2 $?
"$DOPPEL" eval --db "$DB" --split 1.5 >/dev/null 2>&1; check_eq "eval: split out of range exits 2" 2 $?
"$DOPPEL" train --db "$DB" --bogus >/dev/null 2>&1; check_eq "train: unknown option exits 2" 2 $?
"$DOPPEL" train --db "$DB" --min-duplicates 1 >/dev/null 2>&1; check_eq "train: --min-duplicates below 2 exits 2" 2 $?

# ---- plain text ------------------------------------------------------------------
out=$("$DOPPEL" eval --db "$DB" 2>&1); rc=$?
check_eq "eval exits 0" 0 "$rc"
check_contains "all 8 duplicates are queries" "8 known duplicates as queries" "$out"
check_contains "recall/MRR header" "R@1    R@5   R@10   R@20    MRR" "$out"
learned=$(printf '%s\n' "$out" | grep -cE '^  learned +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$')
base=$(printf '%s\n' "$out" | grep -cE '^  bm25 baseline +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$')
check_eq "a metrics line for the learned ranker (duplicates and related)" 2 "$learned"
check_eq "a metrics line for the BM25 baseline (duplicates and related)" 2 "$base"
check_contains "the judgment is reported" "queries (every item of the test period)" "$out"
check_contains "duplicate . high precision and recall" "duplicate · high: precision" "$out"
check_contains "a confusion matrix, truth by shown" "confusion (rows: truth, columns: shown" "$out"
check_contains "the review queue's precision" "queue: share of true duplicates among the top pairs" "$out"

out=$("$DOPPEL" eval --db "$DB" --window 0 --split 0 2>&1); rc=$?
check_eq "--window 0 is accepted" 0 "$rc"
check_contains "split 0: every duplicate is a test query" "0 training queries, 8 test queries" "$out"
# the fixture's duplicates share their wording: the learned ranker finds every one first
check_contains "learned ranker finds them all at rank 1" "learned           1.000  1.000  1.000  1.000  1.000" "$out"

# ---- JSON ---------------------------------------------------------------------------
"$DOPPEL" eval --db "$DB" --split 0 --json >"$T/e.json" 2>"$T/e.err"
check_eq "eval --json exits 0" 0 $?
keys=$(python3 - "$T/e.json" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
need = ["repo", "items", "queries", "test_queries", "model", "learned", "baseline",
        "related_learned", "related_baseline", "judgment", "queue", "seconds",
        "queries_per_second", "test"]
missing = [k for k in need if k not in d]
for k in ("recall@1", "recall@5", "recall@10", "recall@20", "mrr"):
    for r in ("learned", "baseline"):
        if k not in d[r]: missing.append(r + "." + k)
# the keys a reader of the judgment relies on, exactly
for k in ("duplicate_high_precision", "duplicate_high_recall", "related_high_precision",
          "related_high_recall", "duplicate_high_precision_all", "relates", "confusion"):
    if k not in d.get("judgment", {}): missing.append("judgment." + k)
for k in ("precision_at_20", "precision_at_50", "precision_at_100"):
    if k not in d.get("queue", {}): missing.append("queue." + k)
print("missing: " + ",".join(missing) if missing else
      f"ok {d['repo']} {d['items']} {d['test_queries']} {d['learned']['recall@1']:.3f}")
PY
)
check_eq "JSON parses and has every key" "ok $REPO 30 8 1.000" "$keys"
j=$(python3 -c '
import json,sys
j = json.load(open(sys.argv[1]))["judgment"]
c = j["confusion"]
rows = sum(sum(r.values()) for r in c.values())
rel = sum(sum(v.values()) for v in j["relates"].values())
shown = sum(sum(v.values()) for v in j["shown"].values())
print(j["queries"], j["queries_with_duplicate"], rows + rel == shown == j["pairs"],
      0 <= j["duplicate_high_precision"] <= 1, sorted(c) == ["duplicate", "not_related", "related"])' "$T/e.json" 2>&1)
check_eq "judgment: 29 queries, 8 with a duplicate, every pair in the confusion or Relates" \
    "29 8 True True True" "$j"

# ---- truth CSV --------------------------------------------------------------------
out=$("$DOPPEL" eval --db "$DB" --split 0 --truth "$IN/tracker_truth.csv" 2>&1); rc=$?
check_eq "--truth exits 0" 0 "$rc"
check_contains "--truth: its 3 pairs are the queries" "3 known duplicates as queries" "$out"
out=$("$DOPPEL" eval --db "$DB" --truth "$IN/bad_row.csv" 2>&1); rc=$?
check_eq "malformed truth CSV exits 1" 1 "$rc"
check_contains "error names file and line" "bad_row.csv:3: missing query or duplicate_of" "$out"
out=$("$DOPPEL" eval --db "$DB" --truth "$IN/bad_header.csv" 2>&1); rc=$?
check_eq "truth CSV without the columns exits 1" 1 "$rc"
check_contains "header error names line 1" "bad_header.csv:1: header must name the columns" "$out"
out=$("$DOPPEL" eval --db "$DB" --truth "$T/nope.csv" 2>&1); rc=$?
check_eq "missing truth file exits 1" 1 "$rc"

# ---- HTML report --------------------------------------------------------------------
"$DOPPEL" eval --db "$DB" --split 0 --report "$T/r.html" >/dev/null 2>&1
check_eq "--report exits 0" 0 $?
html=$(cat "$T/r.html" 2>/dev/null)
check_contains "report is an HTML page" "<!DOCTYPE html>" "$html"
check_contains "report has an inline <svg>" "<svg" "$html"
check_contains "report has the confusion matrix" "Confusion (rows: truth from links" "$html"
check_contains "report has a reliability diagram per relation" "Reliability: related" "$html"
check_eq "report loads nothing from elsewhere" 0 "$(grep -ciE '<(script|link|img)[^>]+(src|href)=' "$T/r.html")"
check_eq "report ends" "</body></html>" "$(tail -1 "$T/r.html")"
python3 -c 'import html.parser,sys
class P(html.parser.HTMLParser):
    pass
P().feed(open(sys.argv[1]).read())' "$T/r.html" >/dev/null 2>&1
check_eq "report parses as HTML" 0 $?
"$DOPPEL" eval --db "$DB" --report "$T/no/such/dir/r.html" >/dev/null 2>&1
check_eq "unwritable report path exits 1" 1 $?

# ---- train ----------------------------------------------------------------------------
"$DOPPEL" train --db "$DB" >/dev/null 2>"$T/t.err"; rc=$?
check_eq "train with 8 (< 50) known duplicates exits 3" 3 "$rc"
check_contains "and says the built-in model stays" "built-in model stays in use" "$(cat "$T/t.err")"
out=$("$DOPPEL" train --db "$DB" --min-duplicates 5 --out "$T/m.txt" 2>&1); rc=$?
check_eq "train --out exits 0" 0 "$rc"
check_eq "the model file is a doppel model" "doppel-model 1" "$(head -1 "$T/m.txt")"
check_contains "the model names its data" "trained_on 8 known duplicates of $REPO (8)" "$(cat "$T/m.txt")"
out=$("$DOPPEL" train --db "$DB" --min-duplicates 5 2>&1); rc=$?
check_eq "train stores the model" 0 "$rc"
check_contains "train says where" "stored for the repository" "$out"
out=$("$DOPPEL" stats --db "$DB" 2>&1)
check_contains "stats shows the trained model" "trained" "$out"
out=$("$DOPPEL" eval --db "$DB" --model-repo "$REPO" 2>&1); rc=$?
check_eq "eval --model-repo exits 0" 0 "$rc"
check_contains "eval ranks with the stored model" "model: 8 known duplicates of $REPO (8)" "$out"
out=$("$DOPPEL" eval --db "$DB" --model "$T/m.txt" 2>&1); rc=$?
check_eq "eval --model FILE exits 0" 0 "$rc"
check_contains "eval ranks with the model file" "model: 8 known duplicates of $REPO (8)" "$out"
"$DOPPEL" eval --db "$DB" --model "$T/missing.model" >/dev/null 2>&1
check_eq "missing model file exits 1" 1 $?
echo "1..$_n"
