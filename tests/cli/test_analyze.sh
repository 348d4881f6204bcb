#!/usr/bin/env bash
# test_analyze.sh -- `doppel analyze` on the hand-written fixture repo
# tests/fixtures/analyze/issues.json (acme/widget, 15 items): planted
# duplicates #14~#3 (open vs fixed, same stack trace), #12~#5 (two open
# reports of one leak), #7 known duplicate of #2 ("Duplicate of #2").
source "$ROOT/tests/cli/lib.sh"
DB=$T/a.db
FIXTURE=$FIX/analyze/issues.json

check "import fixture" "$DOPPEL" import --db "$DB" "$FIXTURE"
out=$("$DOPPEL" analyze --db "$DB" 2>&1)
check_eq "analyze exits 0" 0 $?
check_contains "analyze reports queries (8 open issues)" "analyzed 8 queries of 15 items" "$out"
check_contains "analyze names the model" "model: built-in default" "$out"
# the first analysis (no pairs yet) ran on a rollback journal: WAL again after, no journal left
check_eq "first analysis leaves the store in WAL, no journal" "wal 0" \
    "$(sqlite3 "$DB" "PRAGMA journal_mode") $(ls "$DB-journal" 2>/dev/null | wc -l)"

n=$(pairs_q "$DB" 'len(P)')
[ "$n" -gt 0 ] && ok "pairs stored ($n)" || not_ok "pairs stored" "count $n"
check_eq "planted duplicate #14 -> #3 is rank 1" "3" \
    "$(pairs_q "$DB" '[p["candidate"] for p in P if p["query"] == "14" and p["rank"] == 1][0]')"
check_eq "planted duplicate #12 -> #5 is rank 1" "5" \
    "$(pairs_q "$DB" '[p["candidate"] for p in P if p["query"] == "12" and p["rank"] == 1][0]')"
# value = probability x (state x engagement): the model decides the first
# factor, the triage policy the second, which must favour the open issue
# whose twin was closed as fixed.
# #14 was filed 184 days after #3 was fixed: a possible regression, not a
# duplicate to close (related, valued as "ask", not "close")
check_eq "the report of a bug fixed long before is a possible regression" "related" \
    "$(pairs_q "$DB" 'one("14", "3")["relation"]')"
check_eq "each unordered pair stored once" "0" \
    "$(pairs_q "$DB" 'sum(1 for a in P for b in P if a["query"] == b["candidate"] and a["candidate"] == b["query"])')"
check_eq "query is always the later item (creation time)" "0" \
    "$(pairs_q "$DB" 'sum(1 for p in P if p["query_item"]["created_at"] < p["candidate_item"]["created_at"])')"
reason=$(pairs_q "$DB" 'text(one("14", "3")["reasoning"])')
check_contains "reasoning names the shared frames" "Same stack frames" "$reason"
check_contains "reasoning counts rare terms" "of 15 items)" "$reason"
check_contains "reasoning gives states and dates" "#3 is a closed issue, opened 2023-02-01" "$reason"
comment=$(pairs_q "$DB" 'one("14", "3")["suggested_comment"]')
check_contains "the regression comment asks for the version and the steps" \
    "This may be a regression of #3" "$comment"
check_contains "... and says what to tell" "Which version are you running" "$comment"
check_contains "the reasoning says why it is not a duplicate" "possible regression" "$reason"
detail=$(pairs_q "$DB" 'text(one("14", "3")["value_detail"])')
check_contains "value detail explains the stake" "stake (possible regression of a fixed item): 1.000" "$detail"

# Verdicts survive re-analysis (full and incremental).
check "set a verdict (through the review page's API)" set_verdicts "$DB" "14 3 duplicate"
check "re-analyze --full" "$DOPPEL" analyze --db "$DB" --full --quiet
check_eq "verdict kept after re-analysis" "duplicate" "$(pairs_q "$DB" 'one("14", "3")["verdict"]')"
out=$("$DOPPEL" analyze --db "$DB" 2>&1)
check_contains "unchanged store: nothing runs" "up to date: no item changed since the last analysis (15 items)" "$out"
check_eq "incremental no-op keeps the pairs" "$n" "$(pairs_q "$DB" 'len(P)')"

# A new issue arrives: only it and the queries near it are re-ranked.
cat >"$T/new.json" <<'JSON'
[{"url":"https://api.github.com/repos/acme/widget/issues/16","repository_url":"https://api.github.com/repos/acme/widget",
  "html_url":"https://github.com/acme/widget/issues/16","id":1016,"number":16,
  "title":"Stack overflow in parse_array with deeply nested JSON","user":{"login":"zed"},"labels":[],
  "state":"open","comments":0,"created_at":"2023-10-01T10:00:00Z","updated_at":"2023-10-01T10:00:00Z",
  "closed_at":null,"body":"Deeply nested JSON arrays crash widget in parse_array (src/json/parser.c).","reactions":{"total_count":0}}]
JSON
check "import one new issue" "$DOPPEL" import --db "$DB" "$T/new.json"
out=$("$DOPPEL" analyze --db "$DB" 2>&1)
check_contains "incremental run after one new issue" "(incremental)" "$out"
check_contains "one changed item" "changed items: 1" "$out"
check_contains "only the new issue went through the text pipeline" \
    "indexed: 1 of 16 items through the text pipeline, the rest from the snapshot" "$out"
check_eq "new issue paired with the parser crash" "1" \
    "$(pairs_q "$DB" 'any(p["query"] == "16" and p["candidate"] in ("3", "14") for p in P)')"
check_eq "verdict kept after the incremental run" "duplicate" \
    "$(pairs_q "$DB" 'one("14", "3")["verdict"]')"

# --all queries closed items too, and finds the known duplicate.
out=$("$DOPPEL" analyze --db "$DB" --all 2>&1)
check_contains "--all queries every item" "analyzed 16 queries of 16 items" "$out"
check_eq "known duplicate #7 -> #2 is marked known" "1" \
    "$(pairs_q "$DB" 'one("7", "2")["known"]')"
check_eq "pairs hides known pairs by default" "0" \
    "$("$DOPPEL" pairs --db "$DB" --limit 0 | grep -c '^#7 .*#2 ')"
check_eq "pairs --known shows them" "1" \
    "$("$DOPPEL" pairs --db "$DB" --known --limit 0 | grep -c '^#7 .*#2 ')"
check_contains "known reasoning cites the link" "is marked as a duplicate of #2" \
    "$(pairs_q "$DB" 'text(one("7", "2")["reasoning"])')"

# The index snapshot: saved by a full run, used by the next ones, and only
# a cache -- a damaged or missing one costs time, never a wrong result.
# The snapshot is a row of the SQLite store's caches table: these checks are
# about that file (a missing or damaged cache), so they use sqlite3.
sqlite3 "$DB" "DELETE FROM caches"   # saved afresh by the next run
check "analyze --all --full" "$DOPPEL" analyze --db "$DB" --all --full --quiet
check_eq "snapshot stored in the caches table" "1" \
    "$(sqlite3 "$DB" "SELECT count(*) > 0 FROM caches WHERE name = 'index'")"
# refix KEY FIELD=VALUE...: item KEY of the fixture with fields replaced, as a file to import
refix() {
    python3 - "$FIXTURE" "$@" <<'PY'
import json, sys
item = [i for i in json.load(open(sys.argv[1])) if str(i["number"]) == sys.argv[2]][0]
for kv in sys.argv[3:]:
    k, v = kv.split("=", 1)
    item[k] = v
print(json.dumps([item]))
PY
}
refix 14 updated_at=2024-01-01T00:00:00Z >"$T/touch14.json"
check "re-import #14 with a later updated_at, same text" "$DOPPEL" import --db "$DB" "$T/touch14.json"
out=$("$DOPPEL" analyze --db "$DB" --all 2>&1)
check_contains "a touched item with the same text is not re-analysed" \
    "indexed: 0 of 16 items through the text pipeline" "$out"
# other options rank every query, still from the snapshot; --full does not use it
out=$("$DOPPEL" analyze --db "$DB" --all -k 19 2>&1)
check_contains "other options: every query, index from the snapshot" \
    "indexed: 0 of 16 items through the text pipeline" "$out"
# every pair as "QUERY CANDIDATE RANK PROBABILITY", sorted
ranked() { pairs_q "$DB" '"\n".join(sorted("%s %s %s %.6f" % (p["query"], p["candidate"], p["rank"], p["probability"]) for p in P))'; }
k19=$(ranked)
out=$("$DOPPEL" analyze --db "$DB" --all -k 19 --full 2>&1)
check_contains "--full builds the index from scratch" "indexed: 16 of 16 items through the text pipeline" "$out"
check_eq "pairs from the snapshot = pairs from scratch" "$k19" \
    "$(ranked)"
check "analyze --all --full" "$DOPPEL" analyze --db "$DB" --all --full --quiet
sqlite3 "$DB" "UPDATE caches SET data = CAST(substr(data, 1, 40) || x'00ff00ff' || substr(data, 45) AS BLOB) WHERE name = 'index'"
rm -f "$DB"-index-*   # the persisted index would be mapped instead of building from the snapshot
out=$("$DOPPEL" analyze --db "$DB" --all -k 19 2>&1)   # other options: reads the snapshot
check_eq "damaged snapshot: analyze still succeeds" 0 $?
check_contains "damaged snapshot: every item analysed again, snapshot rewritten" \
    "indexed: 16 of 16 items through the text pipeline, the rest from the snapshot (snapshot saved)" "$out"
check_eq "damaged snapshot: same pairs" "$k19" \
    "$(ranked)"
sqlite3 "$DB" "DELETE FROM caches"
out=$("$DOPPEL" analyze --db "$DB" --all --full 2>&1)
check_contains "missing snapshot: rebuilt and saved" "(snapshot saved)" "$out"
# the snapshot is serialised on a thread of its own while the pair indexes
# are rebuilt: what is stored is the whole of it, the one a later run reads
check_eq "... stored whole" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM caches WHERE name = 'index' AND length(data) > 1000")"
rm -f "$DB"-index-*
out=$("$DOPPEL" analyze --db "$DB" --all -k 19 2>&1)
check_contains "... and read by the next run" "indexed: 0 of 16 items through the text pipeline" "$out"
check_eq "... which pairs as from scratch" "$k19" "$(ranked)"

# A wrong clock: one item dated 9999-12-31 must not freeze incremental
# analysis (the watermark was max(updated_at): every later edit was older).
refix 8 updated_at=9999-12-31T00:00:00Z >"$T/future.json"
out=$("$DOPPEL" import --db "$DB" "$T/future.json" 2>&1)
check_contains "future date: import warns with file:line" \
    "future.json:1 (byte 1): item 8: updated 9999-12-31T00:00:00Z is more than a day in the future" "$out"
check_contains "future date: counted in the summary" "1 dated in the future" "$out"
"$DOPPEL" analyze --db "$DB" --all --quiet
refix 5 updated_at=2024-02-01T00:00:00Z "title=Memory leak when reloading the config on SIGHUP" >"$T/edit5.json"
pair_id() {   # id of the stored pair 12~5 (a re-derived pair equal to the stored one keeps its id)
    "$DOPPEL" pairs --db "$DB" --json --limit 0 | python3 -c '
import json, sys
print([p["id"] for p in json.load(sys.stdin)["pairs"] if (p["query"], p["candidate"]) == ("12", "5")])'
}
before=$(pair_id)
check "import an edit of #5 dated before 9999" "$DOPPEL" import --db "$DB" "$T/edit5.json"
out=$("$DOPPEL" analyze --db "$DB" --all 2>&1)
check_contains "future date: the edit after it is analysed" "changed items: 1" "$out"
after=$(pair_id)
check "future date: the edit's queries were analysed again" grep -Eq "^analyzed [1-9][0-9]* queries .*\(incremental\)" <<<"$out"
check "future date: the pair #12~#5 was re-derived from the edit ($before -> $after)" test "$after" != "[]"
out=$("$DOPPEL" analyze --db "$DB" --all 2>&1)
check_contains "future date: then up to date" "up to date" "$out"

# A repository holding only comments: nothing to analyze (exit 3, said so).
# Beside a repository with issues it is skipped, and that one is analysed
# (the loop over repositories used to stop at the first empty one).
DBC=$T/comments.db
check "import comments only" "$DOPPEL" import --db "$DBC" --repo aaa/comments "$FIX/ingest/github_comments.json"
out=$("$DOPPEL" analyze --db "$DBC" 2>&1); rc=$?
check_eq "only comments: exit 3 (nothing to do)" 3 "$rc"
check_contains "only comments: says why" \
    "nothing to analyze: no issues or pull requests stored (comments alone are not analyzed)" "$out"
"$DOPPEL" analyze --db "$DBC" --repo aaa/comments >/dev/null 2>&1
check_eq "only comments, --repo: exit 3" 3 $?
check "import the fixture as a second repository" "$DOPPEL" import --db "$DBC" "$FIXTURE"
out=$("$DOPPEL" analyze --db "$DBC" 2>&1); rc=$?
check_eq "comments-only repository beside one with issues: exit 0" 0 "$rc"
check_contains "the comments-only one is skipped with its reason" "aaa/comments: nothing to analyze" "$out"
check_contains "the other one is analysed" "analyzed 8 queries of 15 items" "$out"

# --max-memory: a size with K/M/G, at least 1M, or none; it says what it
# traded and changes no pair (value aside: it ages with the clock between
# two runs). 1M is below what the process alone takes: every trade, and
# "still over". The default is a ceiling too (1800M), said in the summary.
for bad in 0 12 1023K 2X -1G G 1.5Q ""; do
    "$DOPPEL" analyze --db "$DB" --max-memory "$bad" >"$T/mm.out" 2>&1
    rc=$?
    check_eq "--max-memory '$bad' is a usage error" 2 "$rc"
done
check_contains "--max-memory says what it wants" "wants a size of at least 1M, like 1500M or 2G (or none), not ''" \
    "$(cat "$T/mm.out")"
"$DOPPEL" analyze --db "$DB" --max-memory 1.5Q >"$T/mm.out" 2>&1
check_contains "... naming the bad value" "not '1.5Q'" "$(cat "$T/mm.out")"
same_pairs='[(p["query"], p["candidate"], p["rank"], p["relation"], p["confidence"], p["probability"], p["score"], p["reasoning"], p["suggested_comment"], p["canonical"], p["known"]) for p in P]'
"$DOPPEL" analyze --db "$DB" --all --full --quiet --max-memory none
want=$(pairs_q "$DB" "sorted($same_pairs)")
out=$("$DOPPEL" analyze --db "$DB" --all --full --max-memory 1M 2>&1)
check_eq "--max-memory 1M exits 0" 0 $?
check_contains "--max-memory reports the ceiling and what it traded" "memory: ceiling 1 MB, " "$out"
check_contains "... which, below what the process takes, is all it can" \
    "traded: index fields not kept (split again when explained); judge features recomputed when explained; 256 pairs in flight per batch instead of 4096; " "$out"
check_contains "... ranking in passes, each storing the pairs it settles" \
    "ranking passes, each storing the pairs it settles (writers to the store wait meanwhile); still over: " "$out"
check_eq "--max-memory changes no pair" "$want" "$(pairs_q "$DB" "sorted($same_pairs)")"
out=$("$DOPPEL" analyze --db "$DB" --all --full --max-memory 1.5g 2>&1)
check_contains "--max-memory 1.5g: room enough, nothing traded" "memory: ceiling 1536 MB" "$out"
check_contains "... and says so" "traded: nothing" "$out"
out=$("$DOPPEL" analyze --db "$DB" --all --full 2>&1)
check_contains "the default ceiling is said: 1800M" "memory: ceiling 1800 MB, " "$out"
check_contains "... the fixture needs no trade under it" "traded: nothing" "$out"
check_eq "the default changes no pair" "$want" "$(pairs_q "$DB" "sorted($same_pairs)")"
out=$("$DOPPEL" analyze --db "$DB" --all --full --max-memory none 2>&1)
check_eq "--max-memory none exits 0" 0 $?
case $out in *"memory:"*) not_ok "no memory line with --max-memory none" "$out" ;;
    *) ok "no memory line with --max-memory none" ;; esac
check_contains "the time line shows the pipelined explain+store and its batch" "pairs a batch))" "$out"

# --horizon: a query ranks only the items created within DAYS of it (before
# or after; by default 365 from 50,000 items on, none below), so a full run
# costs time linear in the tracker's size. Three reports of one crash: #1 in
# 2019, #2 and #3 in 2021.
HDB=$T/horizon.db
hissue() {   # NUMBER DATE: one report of the crash
    printf '{"url":"https://api.github.com/repos/acme/h/issues/%s","repository_url":"https://api.github.com/repos/acme/h",
  "html_url":"https://github.com/acme/h/issues/%s","id":%s,"number":%s,
  "title":"Segfault in frobnicate_cache when the widget cache is empty","user":{"login":"u%s"},"labels":[],
  "state":"open","comments":0,"created_at":"%sT10:00:00Z","updated_at":"%sT10:00:00Z","closed_at":null,
  "body":"frobnicate_cache dereferences a null slot.\\n```\\nat frobnicate_cache (cache.c:41)\\nat widget_refresh (widget.c:90)\\n```","reactions":{"total_count":0}}' \
        "$1" "$1" "$((5000 + $1))" "$1" "$1" "$2" "$2"
}
hnoise() {   # NUMBER DATE: something else
    printf '{"url":"https://api.github.com/repos/acme/h/issues/%s","repository_url":"https://api.github.com/repos/acme/h",
  "html_url":"https://github.com/acme/h/issues/%s","id":%s,"number":%s,
  "title":"Docs: typo in the %s page","user":{"login":"n%s"},"labels":[],
  "state":"open","comments":0,"created_at":"%sT10:00:00Z","updated_at":"%sT10:00:00Z","closed_at":null,
  "body":"The page spells colour two ways (%s).","reactions":{"total_count":0}}' \
        "$1" "$1" "$((5000 + $1))" "$1" "$1" "$1" "$2" "$2" "$1"
}
{ echo '['; hissue 1 2019-01-10; echo ','; hissue 2 2021-06-01; echo ','; hissue 3 2021-06-20
  for i in 4 5 6 7; do echo ','; hnoise $i 2020-0$i-01; done; echo ']'; } >"$T/horizon.json"
check "import the horizon fixture" "$DOPPEL" import --db "$HDB" "$T/horizon.json"
hpairs='" ".join(sorted(p["query"] + "~" + p["candidate"] for p in P if p["candidate"] in ("1", "2", "3") and p["query"] in ("1", "2", "3")))'
out=$("$DOPPEL" analyze --db "$HDB" 2>&1)
check_eq "a small repository has no horizon by default: every pair" "2~1 3~1 3~2" "$(pairs_q "$HDB" "$hpairs")"
case $out in *"horizon:"*) not_ok "... and no horizon line" "$out" ;; *) ok "... and no horizon line" ;; esac
out=$("$DOPPEL" analyze --db "$HDB" --horizon 365 2>&1)
check_eq "--horizon 365: #3~#2 paired, #1 (2019) out of reach" "3~2" "$(pairs_q "$HDB" "$hpairs")"
check_contains "the summary names the horizon" "horizon: 365 days (items created further apart are not paired" "$out"
out=$("$DOPPEL" analyze --db "$HDB" --horizon 365 2>&1)
check_contains "the same horizon again: nothing to do" "up to date" "$out"
out=$("$DOPPEL" analyze --db "$HDB" --horizon 880 2>&1)
case $out in *"(incremental)"*|*"up to date"*) not_ok "another horizon re-ranks every query" "$out" ;;
    *) ok "another horizon re-ranks every query" ;; esac
check_eq "--horizon 880: #2 (873 days after #1) reaches #1, #3 (892 days) does not" "2~1 3~2" \
    "$(pairs_q "$HDB" "$hpairs")"
check "analyze --horizon 0" "$DOPPEL" analyze --db "$HDB" --quiet --horizon 0
check_eq "--horizon 0 ranks every item" "2~1 3~1 3~2" "$(pairs_q "$HDB" "$hpairs")"
# a new report arrives in 2022: the incremental run pairs it inside the
# horizon only (a changed item probes the queries whose range holds it)
check "analyze --horizon 365 again" "$DOPPEL" analyze --db "$HDB" --quiet --horizon 365
{ echo '['; hissue 8 2022-03-01; echo ']'; } >"$T/horizon-new.json"
check "import a new report (2022)" "$DOPPEL" import --db "$HDB" "$T/horizon-new.json"
out=$("$DOPPEL" analyze --db "$HDB" --horizon 365 2>&1)
check_contains "the new report: an incremental run" "(incremental)" "$out"
hpairs8='" ".join(sorted(p["query"] + "~" + p["candidate"] for p in P if "8" in (p["query"], p["candidate"])))'
check_eq "the new report pairs with #2 and #3 (within 365 days), not #1" "8~2 8~3" "$(pairs_q "$HDB" "$hpairs8")"
hall='" ".join(sorted(p["query"] + "~" + p["candidate"] for p in P))'
want=$(pairs_q "$HDB" "$hall")
"$DOPPEL" analyze --db "$HDB" --full --quiet --horizon 365
check_eq "... the same pairs as a full run" "$want" "$(pairs_q "$HDB" "$hall")"
for bad in -1 x 36501; do
    "$DOPPEL" analyze --db "$HDB" --horizon "$bad" >/dev/null 2>&1
    check_eq "--horizon '$bad' is a usage error" 2 $?
done

check_fails "analyze rejects -k 0" "$DOPPEL" analyze --db "$DB" -k 0
check_fails "analyze rejects unknown options" "$DOPPEL" analyze --db "$DB" --bogus
"$DOPPEL" analyze --db "$DB" --bogus >/dev/null 2>&1
check_eq "usage error exits 2" 2 $?
"$DOPPEL" analyze --db "$DB" --changed >/dev/null 2>&1
check_eq "--changed is gone (incremental is the default): usage error" 2 $?
"$DOPPEL" analyze --db "$T/empty.db" >/dev/null 2>&1
rc=$?
[ "$rc" -ne 0 ] && ok "analyze of an empty store fails ($rc)" || not_ok "analyze of an empty store fails"
out=$("$DOPPEL" analyze --help)
check_contains "analyze --help" "usage: doppel analyze" "$out"
check_eq "no progress bar when stderr is not a terminal" "" \
    "$("$DOPPEL" analyze --db "$DB" --full --quiet 2>&1 >/dev/null)"
if command -v script >/dev/null 2>&1; then   # util-linux: run under a pseudo-terminal
    out=$(script -qc "'$DOPPEL' analyze --db '$DB' --full --quiet" /dev/null 2>&1 | tr '\r' '\n')
    check_contains "progress bar on a terminal" "ranking    [####" "$out"
fi
echo "1..$_n"
