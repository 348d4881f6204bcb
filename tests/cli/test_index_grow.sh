#!/usr/bin/env bash
# test_index_grow.sh -- an incremental analysis after new items grows the
# persisted index (index_append) instead of building it: it says so, runs
# only the new items through the text pipeline, and stores the very pairs
# (keys, ranks, scores, probabilities, verdicts) an analysis that builds the
# index from the snapshot stores -- both score with the statistics of record
# the first analysis kept. Items that cannot be appended (a new item dated
# among the indexed ones) are built instead, with the reason, and the file
# is written anew so that the next analysis grows it again.
source "$ROOT/tests/cli/lib.sh"
DB=$T/grow.db
IXF=$DB-index-1

# A repository of 400 similar issues (the averages of field lengths move by
# well under the record's bound of 1 % when a few more arrive), then new ones.
gen() {   # gen FIRST COUNT DAY0 OUT
    python3 - "$@" <<'PY'
import json, sys
first, count, day0, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
W = ("cache leak timeout socket parser config thread crash replica schema token memory disk queue lock "
     "retry index shard client server metric widget render upload export import login session proxy").split()
items = []
for n in range(first, first + count):
    w = lambda k: W[(n * 7 + k * 13 + (n // 3) * k) % len(W)]
    title = f"{w(1)} {w(2)} fails with {w(3)} after {w(4)} restart"
    body = (f"When the {w(5)} of the {w(6)} is busy the {w(7)} stops and {w(8)} grows. "
            f"Seen with {w(9)} and {w(10)} enabled; {w(11)} {w(12)} keeps retrying.\n\n"
            f"```\nError: {w(13)} {w(14)} failed at {w(15)}.c:{n % 97}\n```\n")
    day = day0 + n
    items.append({"url": f"https://api.github.com/repos/acme/widget/issues/{n}",
                  "html_url": f"https://github.com/acme/widget/issues/{n}", "id": 100000 + n, "number": n,
                  "title": title, "user": {"login": f"u{n % 11}"}, "labels": [{"name": "bug"}],
                  "state": "open", "comments": 0,
                  "created_at": f"{2020 + day // 360}-{1 + day % 360 // 30:02d}-{1 + day % 30:02d}T10:00:00Z",
                  "updated_at": "2029-01-01T00:00:00Z", "closed_at": None, "body": body,
                  "reactions": {"total_count": 0}})
json.dump(items, open(out, "w"))
PY
}
pairs() {   # the stored pairs, every number that ranking and judging made
    python3 - "$1" <<'PY'
import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute(
        "SELECT query_key, cand_key, rank, score, prob, relation, confidence FROM pairs ORDER BY query_key, cand_key"):
    print(*r)
PY
}
gen 1 400 0 "$T/base.json"
gen 401 3 1000 "$T/new.json"
gen 404 2 1000 "$T/more.json"
gen 406 1 -200 "$T/old.json"   # dated among the indexed items

check "import 400 items" "$DOPPEL" import --db "$DB" "$T/base.json"
check "analyze --all" "$DOPPEL" analyze --db "$DB" --all
check "... writes the persisted index" test -s "$IXF"
check_contains "... and keeps the statistics of record" "index.avglen_record" \
    "$(python3 -c 'import sqlite3, sys; print([r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT key FROM kv")])' "$DB")"
check "import 3 new items" "$DOPPEL" import --db "$DB" "$T/new.json"
cp "$DB" "$T/rebuilt.db"   # the same store, to analyze without the file
# similar (and serve's /api/similar) before analyze ran: the file is behind
# by the new items, grown by them in memory -- the answer of a full build.
ask() { "$DOPPEL" similar --db "$1" --json 402 -k 5; "$DOPPEL" similar --db "$1" --title "cache leak fails with timeout"; }
cp "$DB" "$T/similar.db"; cp "$IXF" "$T/similar.db-index-1"
grown_answer=$(ask "$T/similar.db")
check "... similar grows the file, does not rewrite it" cmp "$IXF" "$T/similar.db-index-1"
rm -f "$T/similar.db-index-1"
check_eq "similar with the file behind by new items: the answer of a full build" "$(ask "$T/similar.db")" "$grown_answer"
check_contains "... (which names a new item)" '"402"' "$grown_answer"
out=$("$DOPPEL" analyze --db "$DB" --all)
check_contains "an incremental analysis after new items" "(incremental)" "$out"
check_contains "... grows the persisted index" \
    "indexed: 3 of 403 items through the text pipeline, the rest from the persisted index (grown by 3 new items)" "$out"
out=$("$DOPPEL" analyze --db "$T/rebuilt.db" --all)
check_contains "without the file: built from the snapshot" "indexed: 3 of 403 items through the text pipeline, the rest from the snapshot" "$out"
check_contains "... and the file written" "(index file written)" "$out"
grown=$(pairs "$DB")
check "(there are pairs)" test "$(echo "$grown" | wc -l)" -gt 100
check_eq "grown and built: the same pairs, bit for bit" "$(pairs "$T/rebuilt.db")" "$grown"

# With a horizon the grown run ranks the same windows: it reads the docs'
# dates from the store by row id (it loads no item it does not rank).
HDB=$T/horizon.db
check "import 400 items (horizon)" "$DOPPEL" import --db "$HDB" "$T/base.json"
check "analyze --all --horizon 60" "$DOPPEL" analyze --db "$HDB" --all --horizon 60 --quiet
check "import 3 new items (horizon)" "$DOPPEL" import --db "$HDB" "$T/new.json"
check "... and 1 near the others' dates, 10 days after the newest indexed" "$DOPPEL" import --db "$HDB" \
    "$(gen 420 1 -10 "$T/near.json"; echo "$T/near.json")"
cp "$HDB" "$T/horizon-rebuilt.db"
rm -f "$T/horizon-rebuilt.db-index-1"
out=$("$DOPPEL" analyze --db "$HDB" --all --horizon 60)
check_contains "a grown run with a horizon" "(grown by 4 new items)" "$out"
"$DOPPEL" analyze --db "$T/horizon-rebuilt.db" --all --horizon 60 >/dev/null 2>&1
check_eq "grown and built with a horizon: the same pairs" "$(pairs "$T/horizon-rebuilt.db")" "$(pairs "$HDB")"
check_eq "no pair is more than 60 days apart" "0" "$(python3 -c '
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("""SELECT COUNT(*) FROM pairs p JOIN items a ON a.repo_id = p.repo_id AND a.key = p.query_key
  JOIN items b ON b.repo_id = p.repo_id AND b.key = p.cand_key WHERE abs(a.created_at - b.created_at) > 60 * 86400""").fetchone()[0])' "$HDB")"
check_eq "the near item is paired within its window" "1" "$(python3 -c '
import sqlite3, sys
print(int(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM pairs WHERE query_key = 420 OR cand_key = 420").fetchone()[0] > 0))' "$HDB")"

# The file is not rewritten by a run that grew it: the next grows it again.
check "import 2 more" "$DOPPEL" import --db "$DB" "$T/more.json"
check "import 2 more (copy)" "$DOPPEL" import --db "$T/rebuilt.db" "$T/more.json"
out=$("$DOPPEL" analyze --db "$DB" --all)
check_contains "the next run grows the same file by all 5" "(grown by 5 new items)" "$out"
"$DOPPEL" analyze --db "$T/rebuilt.db" --all >/dev/null 2>&1
check_eq "... with the same pairs as the copy, whose file grew by 2" "$(pairs "$T/rebuilt.db")" "$(pairs "$DB")"

# A new item that sorts among the indexed ones: built, and the file written.
check "import an item dated among the others" "$DOPPEL" import --db "$DB" "$T/old.json"
out=$("$DOPPEL" analyze --db "$DB" --all)
check_contains "an item that cannot be appended: the reason" \
    "persisted index not grown: a new item sorts among the indexed ones" "$out"
check_contains "... built from the snapshot and written" "(index file written)" "$out"
check "import 3 more" "$DOPPEL" import --db "$DB" "$(gen 407 3 2000 "$T/late.json"; echo "$T/late.json")"
check_contains "... so the next run grows it" "(grown by 3 new items)" "$("$DOPPEL" analyze --db "$DB" --all)"
# A damaged file when new items came: a cache, so analyze builds the index
# and writes the file anew, saying why -- not an error.
check "import 2 more (damaged file)" "$DOPPEL" import --db "$DB" "$(gen 410 2 2005 "$T/dmg.json"; echo "$T/dmg.json")"
printf 'X' | dd of="$IXF" bs=1 seek=100 conv=notrunc 2>/dev/null
out=$("$DOPPEL" analyze --db "$DB" --all 2>&1)
check "a damaged file after new items: analyze succeeds" test $? -eq 0
check_contains "... says why it did not grow it" "persisted index not grown: its header checksum does not match" "$out"
check_contains "... and writes it anew" "(index file written)" "$out"
check_contains "... which the next run grows" "(grown by 3 new items)" \
    "$("$DOPPEL" import --db "$DB" "$(gen 412 3 2006 "$T/after.json"; echo "$T/after.json")" >/dev/null 2>&1;
       "$DOPPEL" analyze --db "$DB" --all)"

# The canonical item of a new duplicate pair may be one that no ranked
# query's pool holds: the far end of a duplicate link of one of the pair's
# items. A grown run reads only the items it needs: it reads that one too,
# and stores the canonical item, comment and reasoning a full build stores.
CDB=$T/canon.db
python3 - "$T/base.json" "$T/canon.json" "$T/canon_new.json" <<'PY'
import json, sys
base = json.load(open(sys.argv[1]))
a = next(i for i in base if i["number"] == 7)
a["body"] += "\n\nDuplicate of #500\n"
z = dict(a, number=500, id=100500, title="Zebra quokka xylophone", body="Marimba ocelot narwhal.",
         url=a["url"].replace("/7", "/500"), html_url=a["html_url"].replace("/7", "/500"),
         created_at="2019-06-01T10:00:00Z", state="closed", closed_at="2019-07-01T10:00:00Z")
json.dump(base + [z], open(sys.argv[2], "w"))
n = dict(a, number=401, id=100401, url=a["url"].replace("/7", "/401"), html_url=a["html_url"].replace("/7", "/401"),
         created_at="2023-06-01T10:00:00Z", body=a["body"].replace("Duplicate of #500", ""))
json.dump([n], open(sys.argv[3], "w"))
PY
check "a store whose item 7 is a duplicate of 500, unlike every other" "$DOPPEL" import --db "$CDB" "$T/canon.json"
check "... analyzed (the file written)" "$DOPPEL" analyze --db "$CDB" --all
check "... then a copy of 7 arrives" "$DOPPEL" import --db "$CDB" "$T/canon_new.json"
cp "$CDB" "$T/canon_built.db"
check_contains "grown by it" "(grown by 1 new items)" "$("$DOPPEL" analyze --db "$CDB" --all 2>&1)"
"$DOPPEL" analyze --db "$T/canon_built.db" --all >/dev/null 2>&1
canon() {
    python3 - "$1" <<'PY'
import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute(
        "SELECT query_key, cand_key, relation, canonical, comment_on, suggested_comment FROM pairs_full "
        "WHERE query_key = '401' OR cand_key = '401' ORDER BY query_key, cand_key"):
    print(*r)
PY
}
check_contains "... the new pair: a duplicate whose canonical is 500" "401 7 duplicate 500" "$(canon "$CDB")"
check_eq "... as a full build says" "$(canon "$T/canon_built.db")" "$(canon "$CDB")"
echo "1..$_n"
