#!/usr/bin/env bash
# test_import.sh -- `doppel import`: every input shape, counts in the store,
# idempotent re-import, newer-wins, and malformed input that must fail with
# file:line, exit 1 and a store identical to before.
source "$ROOT/tests/cli/lib.sh"
IN=$FIX/ingest
DB=$T/d.db

# What import stored is read back through doppel (show, stats --json:
# lib.sh item_q, stats_q). Only "the store is identical / unchanged" reads
# the SQLite file itself (.dump), on purpose: it checks every table and row
# of a re-import and of a failed import's rollback, which no command shows.
dump() { sqlite3 "$1" .dump; }

# ---- usage ----------------------------------------------------------------
out=$("$DOPPEL" import --help 2>&1); rc=$?
check_eq "--help exits 0" 0 "$rc"
check_contains "--help shows usage" "usage: doppel import FILE..." "$out"
"$DOPPEL" import --db "$DB" >/dev/null 2>&1; check_eq "no files is a usage error" 2 $?
"$DOPPEL" import --bogus x >/dev/null 2>&1; check_eq "unknown option is a usage error" 2 $?
"$DOPPEL" import --format xml "$IN/gh_issues.json" >/dev/null 2>&1
check_eq "unknown format is a usage error" 2 $?
"$DOPPEL" import --db "$DB" --repo >/dev/null 2>&1; check_eq "--repo without value" 2 $?

# ---- GitHub REST issues (two concatenated pages) + comments ----------------
out=$("$DOPPEL" import --db "$DB" "$IN/github_issues.json" "$IN/github_comments.json" 2>&1); rc=$?
check_eq "github import exits 0" 0 "$rc"
check_contains "summary line" "6 items read, 6 written, 3 comments, 7 links" "$out"
check_contains "summary has MB/s" "MB/s)" "$out"
check_contains "where the CPU went" "cpu: inflate and split " "$out"
check_eq "no progress bar on a non-terminal" 0 "$(printf "%s" "$out" | tr -cd "\r" | wc -c)"
check_eq "repository from repository_url" "1|acme/widgets|github" "$(stats_q "$DB" '(len(S), S[0]["repo"], S[0]["kind"])')"
check_eq "issues and pull requests" "4|2" "$(stats_q "$DB" '(S[0]["issues"], S[0]["pull_requests"])')"
check_eq "comments stored" 3 "$(stats_q "$DB" 'S[0]["comments"]')"
check_eq "links stored: 2 duplicate, 3 related, 2 fixes" "2|3|2" \
    "$(stats_q "$DB" 'tuple(S[0]["links"][t] for t in ("duplicate", "related", "fixes"))')"
check_eq "duplicate from 'Duplicate of #1'" "2>1:body" \
    "$(item_q "$DB" 2 '" ".join(l["from"] + ">" + l["to"] + ":" + l["source"] for l in I["links"] if l["type"] == "duplicate")')"
check_eq "duplicate from a comment" "4>1:comment" \
    "$(item_q "$DB" 4 '" ".join(l["from"] + ">" + l["to"] + ":" + l["source"] for l in I["links"] if l["type"] == "duplicate")')"
check_eq "fixes from pull requests" "3>1 6>5" "$(item_q "$DB" 3 'links("fixes")') $(item_q "$DB" 6 'links("fixes")')"
check_eq "every link of #1 (either direction)" "2>1:duplicate 3>1:fixes 4>1:duplicate" "$(item_q "$DB" 1 'links()')"
check_eq "label colour" "d73a4a" "$(item_q "$DB" 1 'I["label_colors"]["bug"]')"
check_eq "merged PR" "pull_request|closed|merged" "$(item_q "$DB" 3 '(I["kind"], I["state"], I["state_reason"])')"
check_eq "comments: the tracker's count and the stored ones" "0|1" "$(item_q "$DB" 3 '(I["comments"], I["comment_total"])')"

# ---- idempotent re-import -------------------------------------------------
before=$(dump "$DB")
out=$("$DOPPEL" import --db "$DB" "$IN/github_issues.json" "$IN/github_comments.json" 2>&1)
check_contains "re-import writes nothing" "6 items read, 0 written" "$out"
check_eq "re-import leaves the store identical" "$before" "$(dump "$DB")"

# ---- newer updated_at wins, older loses -------------------------------------
mk() {  # number title updated_at
    printf '{"number":%s,"node_id":"n","title":"%s","updated_at":"%s","repository_url":"https://api.github.com/repos/acme/widgets"}\n' "$@"
}
mk 4 "Renamed issue" 2024-01-01T00:00:00Z >"$T/newer.json"
mk 4 "Stale copy" 2020-01-01T00:00:00Z >"$T/older.json"
out=$("$DOPPEL" import --db "$DB" "$T/newer.json" 2>&1)
check_contains "newer copy is written" "1 items read, 1 written" "$out"
"$DOPPEL" import --db "$DB" "$T/older.json" >/dev/null 2>&1
check_eq "older copy does not win" "Renamed issue" "$(item_q "$DB" 4 'I["title"]')"
# a copy from a wrong clock is stored with a warning, and does not refuse
# the real edit that follows (newer-wins ignores a stored date that far out)
mk 4 "Clock gone wrong" 9999-12-31T00:00:00Z >"$T/future.json"
out=$("$DOPPEL" import --db "$DB" "$T/future.json" 2>&1); rc=$?
check_eq "future-dated item: imported (exit 0)" 0 "$rc"
check_contains "future-dated item: warning with file:line" \
    "warning: $T/future.json:1 (byte 0): item 4: updated 9999-12-31T00:00:00Z is more than a day in the future (a wrong clock?); stored as given" "$out"
check_contains "future-dated item: counted in the summary" "1 items read, 1 written, 0 comments, 0 links, 1 dated in the future" "$out"
mk 4 "Renamed issue" 2024-06-01T00:00:00Z >"$T/after.json"
out=$("$DOPPEL" import --db "$DB" "$T/after.json" 2>&1)
check_contains "a real edit replaces the future-dated copy" "1 items read, 1 written, 0 comments, 0 links, 0.0 MB" "$out"

# ---- gh CLI, --repo, stdin ------------------------------------------------
DB2=$T/gh.db
out=$("$DOPPEL" import --db "$DB2" "$IN/gh_issues.json" "$IN/gh_prs.json" 2>&1)
check_contains "gh import" "3 items read, 3 written" "$out"
check_eq "gh repository from url" "acme/gadgets" "$(stats_q "$DB2" '"|".join(r["repo"] for r in S)')"
check_eq "gh PR detected from /pull/: the only one" 1 "$(stats_q "$DB2" 'S[0]["pull_requests"]')"
check_eq "gh PR detected from /pull/" "pull_request|closed" "$(item_q "$DB2" 12 '(I["kind"], I["state"])')"
check_eq "gh links (all touch #10)" "3|10>12:related 11>10:duplicate 12>10:fixes" \
    "$(stats_q "$DB2" 'sum(S[0]["links"].values())')|$(item_q "$DB2" 10 'links()')"
DB3=$T/stdin.db
out=$("$DOPPEL" import --db "$DB3" --repo me/mine --format gh - <"$IN/gh_issues.json" 2>&1)
check_contains "stdin with --repo and --format" "2 items read, 2 written" "$out"
check_eq "--repo names the repository" "me/mine" "$(stats_q "$DB3" '"|".join(r["repo"] for r in S)')"

# ---- Jira search page and gzip --------------------------------------------
DB4=$T/jira.db
out=$("$DOPPEL" import --db "$DB4" "$IN/jira_search.json" 2>&1)
check_contains "jira import (5 links found, both sides of one link)" "3 items read, 3 written, 3 comments, 5 links" "$out"
check_eq "jira links stored once" 3 "$(stats_q "$DB4" 'sum(S[0]["links"].values())')"
check_eq "jira project is the repository" "1|DEMO|jira" "$(stats_q "$DB4" '(len(S), S[0]["repo"], S[0]["kind"])')"
check_eq "jira duplicate direction" "DEMO-2|DEMO-1|jira:Duplicate" \
    "$(item_q "$DB4" DEMO-2 '[(l["from"], l["to"], l["source"]) for l in I["links"] if l["type"] == "duplicate"][0]')"
check_eq "jira state from resolution" "closed|Duplicate" "$(item_q "$DB4" DEMO-2 '(I["state"], I["state_reason"])')"
DB5=$T/gz.db
gzip -c "$IN/github_issues.json" >"$T/issues.json.gz"
gzip -c "$IN/jira_search.json" >"$T/jira.json.gz"
out=$("$DOPPEL" import --db "$DB5" "$T/issues.json.gz" "$T/jira.json.gz" 2>&1)
check_contains "gzip import" "9 items read, 9 written" "$out"
check_eq "gzip gives the same items" 9 "$(stats_q "$DB5" 'sum(r["items"] for r in S)')"

# ---- an empty file imports nothing, with a warning ------------------------
: >"$T/empty.json"
out=$("$DOPPEL" import --db "$T/empty.db" "$T/empty.json" 2>&1); rc=$?
check_eq "empty file: exit 0" 0 "$rc"
check_contains "empty file: warned" "warning: $T/empty.json: no records (an empty file or an empty list)" "$out"

# ---- malformed input: exit 1, file:line in the message, store unchanged ----
GOOD='{"number":20,"node_id":"g","title":"fine","updated_at":"2025-01-01T00:00:00Z","repository_url":"https://api.github.com/repos/acme/widgets"}'
bad_case() {  # name file expected-message-part
    local name=$1 file=$2 want=$3 before after out rc
    before=$(dump "$DB")
    out=$("$DOPPEL" import --db "$DB" "$IN/gh_issues.json" "$file" 2>&1); rc=$?
    after=$(dump "$DB")
    check_eq "$name: exit 1" 1 "$rc"
    check_contains "$name: message" "$want" "$out"
    check_eq "$name: store unchanged" "$before" "$after"
    bad_out=$out
}
{ echo "["; echo "$GOOD,"; echo '{"number":21,"title":7}'; echo "]"; } >"$T/type.json"
bad_case "title a number" "$T/type.json" "type.json:3 (byte 143): title: expected string"
{ echo "$GOOD"; echo '{"number":21,,}'; } >"$T/syntax.ndjson"
bad_case "bad JSON" "$T/syntax.ndjson" "syntax.ndjson:2 (byte 154): invalid JSON"
{ echo "$GOOD"; printf '{"number":21,"title":"caf\xff"}\n'; } >"$T/utf8.json"
bad_case "invalid UTF-8" "$T/utf8.json" "utf8.json:2 (byte 165): invalid JSON: unable to decode byte 0xff"
{ echo "$GOOD"; printf '{"number":21,"title":"a\0b"}\n'; } >"$T/nul.json"
bad_case "raw NUL byte" "$T/nul.json" "nul.json:2 (byte 163): invalid JSON: control character 0x0"
{ echo "$GOOD"; printf '{"number":21,"title":"a\\u0000b"}\n'; } >"$T/esc.json"
bad_case "escaped NUL" "$T/esc.json" 'esc.json:2 (byte 171): invalid JSON: string contains \u0000'
# Texts the picking parser (yajl) would take and jansson refuses: the
# record goes to jansson, and the message is jansson's, as before.
{ echo "$GOOD"; printf '{"number":21,"title":"a\\ud800b"}\n'; } >"$T/surrogate.json"
bad_case "lone escaped surrogate" "$T/surrogate.json" \
    "surrogate.json:2 (byte 171): invalid JSON: invalid Unicode '\\uD800'"
{ echo "$GOOD"; printf '{"number":21,"title":"over\xc0\xaflong"}\n'; } >"$T/overlong.json"
bad_case "overlong UTF-8" "$T/overlong.json" "overlong.json:2 (byte 166): invalid JSON: unable to decode byte 0xc0"
{ echo "$GOOD"; printf '{"number":21,\f"title":"x"}\n'; } >"$T/formfeed.json"
bad_case "form feed between members" "$T/formfeed.json" "formfeed.json:2 (byte 154): invalid JSON: string or '}' expected"
{ echo "$GOOD"; echo '{"number":-9223372036854775808,"node_id":"n"}'; } >"$T/intmin.json"
bad_case "number -2^63 (yajl refuses, jansson takes)" "$T/intmin.json" \
    "intmin.json:2 (byte 140): number: expected a positive integer"
{ echo "$GOOD"; echo '{"number":21,"comments":9223372036854775807}'; } >"$T/count.json"
bad_case "comment count 2^63-1 (was stored as -1)" "$T/count.json" \
    "count.json:2 (byte 140): comments: expected a count from 0 to 2147483647, got 9223372036854775807"
{ echo "$GOOD"; echo '{"number":21,"reactions":{"total_count":-4}}'; } >"$T/negative.json"
bad_case "negative reaction count" "$T/negative.json" \
    "negative.json:2 (byte 140): reactions.total_count: expected a count from 0 to 2147483647, got -4"
{ echo "["; echo "$GOOD,"; printf '{"number":21,"title":"cut off'; } >"$T/trunc.json"
bad_case "truncated file" "$T/trunc.json" "trunc.json:3 (byte 143): unexpected end of input"
{ echo "$GOOD"; printf '{"number":21,"title":"big","body":"'; head -c 52428800 /dev/zero | tr '\0' a; printf '"}\n'; } >"$T/big.json"
bad_case "50 MB body" "$T/big.json" "big.json:2 (byte 140): record larger than the 16 MiB limit"
rm -f "$T/big.json"
gzip -c "$T/type.json" >"$T/type.json.gz"
bad_case "error inside gzip" "$T/type.json.gz" "type.json.gz:3 (byte 143): title: expected string"
# A damaged .jsonl.gz fails as a whole: the records before the damage are
# not imported (gzread handed them over as if the file ended there).
python3 - "$T" <<'PY'
import json, sys, zlib
d = sys.argv[1]
recs = [json.dumps({"number": i, "node_id": "n%d" % i, "title": "issue %d" % i,
                    "updated_at": "2023-01-01T00:00:00Z",
                    "repository_url": "https://api.github.com/repos/acme/widgets"}).encode() + b"\n"
        for i in range(100, 400)]
def member(data, cut=None):
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    if cut is None:
        return co.compress(data) + co.flush(), None
    head = co.compress(data[:cut]) + co.flush(zlib.Z_FULL_FLUSH)   # ends between records
    return head + co.compress(data[cut:]) + co.flush(), head
data = b"".join(recs)
whole, head = member(data, len(b"".join(recs[:147])))
files = {"mid": whole[:len(whole) // 2], "boundary": head, "size": whole[:-4], "trailer": whole[:-8],
         "garbage": whole + b"garbage\n", "second_cut": whole + whole[:30],
         "members": member(data[:5000])[0] + member(b"")[0] + member(data[5000:])[0],
         "empty": member(b"")[0]}
for name, b in files.items():
    open("%s/gz_%s.jsonl.gz" % (d, name), "wb").write(b)
PY
gzip -t "$T/gz_boundary.jsonl.gz" 2>/dev/null; check_eq "gzip -t also refuses the boundary cut" 1 $?
for c in mid boundary size trailer second_cut; do
    bad_case "gzip cut ($c)" "$T/gz_$c.jsonl.gz" "gz_$c.jsonl.gz:"
    check_contains "gzip cut ($c): says truncated" "truncated gzip file: unexpected end of file" "$bad_out"
done
bad_case "gzip with trailing garbage" "$T/gz_garbage.jsonl.gz" \
    "gz_garbage.jsonl.gz:301 (byte 47400): trailing garbage after the gzip data: not another gzip member"
out=$("$DOPPEL" import --db "$T/members.db" "$T/gz_members.jsonl.gz" "$T/gz_empty.jsonl.gz" 2>&1)
check_contains "concatenated and empty gzip members are read" "300 items read, 300 written" "$out"
# other cuts and hostile bytes: each a clear error with file:line, nothing kept
{ echo "["; echo "$GOOD,"; } >"$T/cut_array.json"
bad_case "array cut at a record boundary" "$T/cut_array.json" "cut_array.json:1 (byte 0): unexpected end of input: '[' never closed"
{ echo "$GOOD"; printf '\0\0\0\n'; } >"$T/nul_between.json"
bad_case "NUL bytes between records" "$T/nul_between.json" "nul_between.json:2 (byte 140): unexpected byte 0x00"
printf '\xff\xfe[\0{\0' >"$T/utf16.json"
bad_case "UTF-16 file" "$T/utf16.json" "utf16.json:1 (byte 0): unexpected byte 0xff"
python3 -c 'print("{\"number\":21,\"x\":" + "[" * 100000 + "]" * 100000 + "}")' >"$T/deep.json"
bad_case "record nested 100,000 deep" "$T/deep.json" "deep.json:1 (byte 2065): invalid JSON: maximum parsing depth reached"
python3 -c 'print("{\"issues\":[],\"x\":" + "[" * 100000 + "]" * 100000 + "}")' >"$T/deep_wrapper.json"
bad_case "wrapper nested 100,000 deep" "$T/deep_wrapper.json" "deep_wrapper.json:1 (byte 4112): nested more than 4096 levels deep"
mkdir -p "$T/adir"
bad_case "a directory" "$T/adir" "adir: read error: Is a directory"
bad_case "missing file" "$T/nope.json" "nope.json: cannot open"
check_eq "first file of a failed import was not kept" 0 \
    "$(stats_q "$DB" 'any(r["repo"] == "acme/gadgets" for r in S)')"

# ---- a first import (into a store without items) ---------------------------
# It writes through a rollback journal (each page once instead of to the WAL
# and again at the checkpoint); the store is back in WAL mode after it, and
# a failure leaves the store as empty as it was.
DB3=$T/first.db
"$DOPPEL" import --db "$DB3" "$T/empty.json" >/dev/null 2>&1
before=$(dump "$DB3")
out=$("$DOPPEL" import --db "$DB3" "$IN/gh_issues.json" "$T/type.json" 2>&1); rc=$?
check_eq "failed first import: exit 1" 1 "$rc"
check_contains "failed first import: message" "type.json:3 (byte 143): title: expected string" "$out"
check_eq "failed first import: store unchanged" "$before" "$(dump "$DB3")"
check_eq "failed first import: back in WAL mode, no journal left" "wal|no" \
    "$(sqlite3 "$DB3" 'PRAGMA journal_mode')|$([ -e "$DB3-journal" ] && echo yes || echo no)"
out=$("$DOPPEL" import --db "$DB3" "$IN/github_issues.json" "$IN/github_comments.json" 2>&1)
check_contains "first import" "6 items read, 6 written, 3 comments, 7 links" "$out"
check_eq "first import: back in WAL mode, no journal left" "wal|no" \
    "$(sqlite3 "$DB3" 'PRAGMA journal_mode')|$([ -e "$DB3-journal" ] && echo yes || echo no)"
# items_fts needs doppel's tokenizer (dp_trigram), which the sqlite3 shell
# lacks: its content and segment rows are read instead (the unit tests
# query it)
check_eq "first import: title index built" "6|1" \
    "$(sqlite3 "$DB3" "SELECT (SELECT count(*) FROM items_fts_content), (SELECT count(*) > 2 FROM items_fts_data)")"
echo "1..$_n"
