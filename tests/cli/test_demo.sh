#!/usr/bin/env bash
# test_demo.sh -- the bundled demo (demo/, scripts/demo.sh):
#  1. the demo data is well formed GitHub REST JSON and agrees with the
#     answer key in demo/README.md, and make_demo.py reproduces it;
#  2. `doppel import` stores every item and comment, extracts the known
#     duplicate and fixes links, and is idempotent;
#  3. `doppel analyze --all` finds every planted duplicate pair: the
#     candidate is in the query's top 3 of `doppel similar Q --json`, and the
#     open twins of fixed bugs are among the ten most valuable pairs;
#  4. scripts/demo.sh runs (twice) and fails loudly on a bad binary.
source "${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"

DEMO=$ROOT/demo
DB=$T/demo.db
export DOPPEL_DB=$DB

# The answer key: the fenced ```answer-key block of demo/README.md.
KEY=$T/answer-key
sed -n '/^```answer-key$/,/^```$/p' "$DEMO/README.md" | sed '1d;$d' >"$KEY"
key_count() { awk -v k="$1" '$1 == k { print $2 }' "$KEY"; }
check "answer key block found in demo/README.md" test "$(key_count items)" -gt 0

# ---- 1. the data ---------------------------------------------------------
# py CODE -- runs a python3 check with the issues, comments and answer key
# loaded as I, C and K (list of split lines); an assertion fails the check.
py() {
    python3 - "$DEMO/issues.json" "$DEMO/comments.json" "$KEY" <<EOF
import json, re, sys
I = json.load(open(sys.argv[1], encoding="utf-8"))
C = json.load(open(sys.argv[2], encoding="utf-8"))
K = [l.split() for l in open(sys.argv[3]) if l.strip()]
by_n = {o["number"]: o for o in I}
def num(url): return int(url.rsplit("/", 1)[1])
def is_pr(n): return "pull_request" in by_n[n]
$1
EOF
}

check "issues.json and comments.json are JSON arrays" py '
assert isinstance(I, list) and isinstance(C, list) and I and C'

check "item, issue, PR, open, closed and comment counts match the key" py '
key = {l[0]: int(l[1]) for l in K if len(l) == 2}
prs = sum(1 for o in I if "pull_request" in o)
got = dict(items=len(I), issues=len(I) - prs, prs=prs, comments=len(C),
           open=sum(o["state"] == "open" for o in I), closed=sum(o["state"] == "closed" for o in I))
for k, v in got.items(): assert key[k] == v, (k, key[k], v)'

check "items have the REST fields with the right types" py '
for o in I:
    for f, t in [("url", str), ("repository_url", str), ("html_url", str), ("id", int), ("node_id", str),
                 ("number", int), ("title", str), ("user", dict), ("labels", list), ("state", str),
                 ("comments", int), ("created_at", str), ("updated_at", str), ("body", str),
                 ("reactions", dict), ("author_association", str)]:
        assert isinstance(o.get(f), t), (o.get("number"), f)
    assert "state_reason" in o and "closed_at" in o
    assert isinstance(o["user"]["login"], str)
    assert isinstance(o["reactions"]["total_count"], int)
    for l in o["labels"]: assert re.fullmatch(r"[0-9a-f]{6}", l["color"]) and l["name"], l
    assert o["repository_url"] == "https://api.github.com/repos/doppel-demo/tinyhttp"
    assert o["url"] == o["repository_url"] + "/issues/%d" % o["number"]'

check "numbers are 1..N and follow created_at order" py '
ns = sorted(by_n)
assert ns == list(range(1, len(I) + 1)) and len(ns) == len(I)
cs = [by_n[n]["created_at"] for n in ns]
assert all(a < b for a, b in zip(cs, cs[1:])), "created_at not increasing with number"'

check "timestamps are ISO 8601 UTC (Z) and consistent with state" py '
iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
for o in I + C:
    for f in ("created_at", "updated_at", "closed_at"):
        v = o.get(f)
        assert v is None or iso.fullmatch(v), (f, v)
    assert o["updated_at"] >= o["created_at"]
for o in I:
    assert (o["state"] == "closed") == (o["closed_at"] is not None), o["number"]
    assert o["closed_at"] is None or o["closed_at"] >= o["created_at"]
    assert o["state"] == "open" or o["updated_at"] >= o["closed_at"]'

check "pull requests carry pull_request keys, issues do not" py '
for o in I:
    if "pull_request" in o:
        p = o["pull_request"]
        for f in ("url", "html_url", "diff_url", "patch_url"): assert isinstance(p[f], str), f
        assert "merged_at" in p and "/pull/" in o["html_url"] and o["state_reason"] is None
        assert p["merged_at"] is None or p["merged_at"] == o["closed_at"]
    else:
        assert "/issues/" in o["html_url"] and "draft" not in o'

check "comments point at existing items, counts and times agree" py '
ids = [c["id"] for c in C]
assert len(set(ids)) == len(ids), "duplicate comment ids"
per = {}
for c in C:
    n = num(c["issue_url"])
    assert n in by_n, c["issue_url"]
    assert c["created_at"] >= by_n[n]["created_at"] and c["updated_at"] <= by_n[n]["updated_at"]
    assert isinstance(c["user"]["login"], str) and isinstance(c["body"], str)
    per[n] = per.get(n, 0) + 1
for n, o in by_n.items(): assert o["comments"] == per.get(n, 0), n'

check "key: dup-link items say 'duplicate of #N' in a comment" py '
for l in K:
    if l[0] != "dup-link": continue
    s, d = int(l[1]), int(l[2])
    texts = [c["body"] for c in C if num(c["issue_url"]) == s]
    assert any(re.search(r"duplicate of #%d\b" % d, t, re.I) for t in texts), (s, d)
    assert by_n[s]["state"] == "closed"'

check "key: fixes lines are PRs whose body names the issue" py '
for l in K:
    if l[0] != "fixes": continue
    s, d = int(l[1]), int(l[2])
    assert is_pr(s) and not is_pr(d), (s, d)
    assert re.search(r"\b(fixes|closes|resolves) #%d\b" % d, by_n[s]["body"], re.I), (s, d)'

check "key: planted pairs have the states their kind promises" py '
fixed = {int(l[2]) for l in K if l[0] == "fixes" and by_n[int(l[1])]["pull_request"]["merged_at"]}
kinds = {}
for l in K:
    if l[0] != "dup": continue
    q, c, kind = int(l[1]), int(l[2]), l[3]
    kinds[kind] = kinds.get(kind, 0) + 1
    assert q > c and not is_pr(q) and not is_pr(c), l
    sq, sc = by_n[q]["state"], by_n[c]["state"]
    if kind == "fixed-twin": assert sq == "open" and sc == "closed" and c in fixed, l
    if kind == "known": assert sq == "closed" and ["dup-link", l[1], l[2]] in K, l
    if kind == "split": assert sq == sc == "open", l
assert kinds.get("fixed-twin", 0) >= 2 and kinds.get("known", 0) >= 2 and kinds.get("split", 0) >= 1, kinds
assert sum(1 for l in K if l[0] == "related") >= 5'

check "the tricky issue has Unicode, emoji, a table and a task list" py '
o = by_n[43]
assert "例え" in o["body"] and "🍕" in o["body"] and "|-----|" in o["body"] and "- [ ] " in o["body"]'

check "make_demo.py reproduces the checked-in JSON" bash -c '
    cp "$1/make_demo.py" "$2/" && python3 "$2/make_demo.py" >/dev/null &&
    cmp "$1/issues.json" "$2/issues.json" && cmp "$1/comments.json" "$2/comments.json"' _ "$DEMO" "$T"

# ---- 2. import -------------------------------------------------------------
check "import the demo" "$DOPPEL" import "$DEMO/issues.json" "$DEMO/comments.json" --db "$DB"

# stats_field FIELD... -- a value from `doppel stats --json` (first repository).
stats_field() {
    "$DOPPEL" stats --json --db "$DB" 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)[0]
for k in sys.argv[1:]: v = v[k]
print(v)' "$@" 2>/dev/null
}
check_eq "stats: repository name" "doppel-demo/tinyhttp" "$(stats_field repo)"
check_eq "stats: items" "$(key_count items)" "$(stats_field items)"
check_eq "stats: issues" "$(key_count issues)" "$(stats_field issues)"
check_eq "stats: pull requests" "$(key_count prs)" "$(stats_field pull_requests)"
check_eq "stats: open" "$(key_count open)" "$(stats_field open)"
check_eq "stats: comments" "$(key_count comments)" "$(stats_field comments)"

# The known links themselves, as `doppel show --json` gives them (lib.sh
# item_q): each dup-link and fixes link of the key on its source item.
while read -r what src dst _; do
    case $what in dup-link) type=duplicate ;; fixes) type=fixes ;; *) continue ;; esac
    check_contains "the key's $what #$src -> #$dst was extracted" " $src>$dst " " $(item_q "$DB" "$src" "links('$type')") "
done <"$KEY"
# Backtrace frames (#0, #1... inside code) in #4, #21, #32 and #40 are no links.
for k in 4 21 32 40; do
    check_eq "no link from a backtrace frame number in #$k" "" \
        "$(item_q "$DB" "$k" '" ".join(l["to"] for l in I["links"] if l["from"] == I["key"] and l["to"] in "0 1 2 3 4 5 6".split())')"
done

before=$(stats_field links related)-$(stats_field links fixes)-$(stats_field items)-$(stats_field comments)
check "re-import is accepted" "$DOPPEL" import "$DEMO/issues.json" "$DEMO/comments.json" --db "$DB"
check_eq "re-import changes no counts" "$before" \
    "$(stats_field links related)-$(stats_field links fixes)-$(stats_field items)-$(stats_field comments)"

# ---- 3. analyze --------------------------------------------------------------
check "analyze --all" "$DOPPEL" analyze --all --db "$DB"

# top3 Q C -- passes when C is among the first three candidates of Q.
top3() {
    "$DOPPEL" similar "$1" --json --db "$DB" | python3 -c '
import json, sys
cands = [c["candidate"] for c in json.load(sys.stdin)["candidates"]]
if sys.argv[1] not in cands[:3]:
    sys.exit("#%s not in the top 3 of the query: %s" % (sys.argv[1], cands))' "$2"
}
while read -r what q c kind; do
    [ "$what" = dup ] || continue
    check "similar #$q finds #$c in its top 3 ($kind)" top3 "$q" "$c"
done <"$KEY"

# The open twins of fixed bugs are what a maintainer should see first.
top10=$("$DOPPEL" pairs --limit 10 --json --db "$DB" 2>&1)
while read -r what q c kind; do
    if [ "$what" != dup ] || [ "$kind" != fixed-twin ]; then continue; fi
    check "pair #$q/#$c is among the 10 most valuable" python3 -c '
import json, sys
ps = json.loads(sys.argv[1])["pairs"]
got = [{p["query"], p["candidate"]} for p in ps]
if {sys.argv[2], sys.argv[3]} not in got: sys.exit("top 10: %s" % got)' "$top10" "$q" "$c"
done <"$KEY"

# The relation shown agrees with the key: a planted duplicate the analysis
# shows is a duplicate or related (a fixed twin on an old version, a crash
# whose report shares only its trace), a hard negative is not related.
"$DOPPEL" pairs --limit 0 --json --db "$DB" >"$T/allpairs.json" 2>&1
while read -r what q c kind; do
    case $what in dup | negative) ;; *) continue ;; esac
    check "pair #$q/#$c ($what${kind:+ $kind}) is judged as the key says" python3 -c '
import json, sys
ps = {(p["query"], p["candidate"]): p["relation"] for p in json.load(open(sys.argv[1]))["pairs"]}
what, q, c, kind = sys.argv[2:6]
rel = ps.get((q, c))
if rel is None:   # a negative may rank too low to show; a linked pair is known already
    sys.exit(0 if what == "negative" or kind == "known" else "not shown")
ok = rel != "not_related" if what == "dup" else rel == "not_related"
if not ok: sys.exit("judged %s" % rel)' "$T/allpairs.json" "$what" "$q" "$c" "${kind:-}"
done <"$KEY"

# ---- 4. scripts/demo.sh --------------------------------------------------------
out=$(cd "$T" && DOPPEL_DB="$T/script.db" DOPPEL_DEMO_SERVE=0 "$ROOT/scripts/demo.sh" "$DOPPEL" 2>&1)
rc=$?
check_eq "demo.sh exits 0" 0 "$rc"
check_contains "demo.sh prints the top pairs" "top 10 pairs" "$out"
check_contains "demo.sh says the data is invented" "invented" "$out"
out=$(cd "$T" && DOPPEL_DB="$T/script.db" DOPPEL_DEMO_SERVE=0 "$ROOT/scripts/demo.sh" "$DOPPEL" 2>&1)
check_eq "demo.sh runs again on the same store" 0 "$?"
check_eq "the store the script used has every item" "$(key_count items)" \
    "$(DB=$T/script.db stats_field items)"
check "demo.sh does not start the server when stdout is not a terminal" \
    bash -c '! grep -q "Review them at" <<<"$1"' _ "$out"
out=$("$ROOT/scripts/demo.sh" "$T/no-such-doppel" 2>&1)
check_eq "demo.sh fails on a missing binary" 1 "$?"
check_contains "... with a clear message" "no doppel binary" "$out"
printf '#!/bin/sh\necho "doppel $1: boom" >&2\nexit 1\n' >"$T/broken"
chmod +x "$T/broken"
out=$(DOPPEL_DB="$T/x.db" "$ROOT/scripts/demo.sh" "$T/broken" 2>&1)
check_eq "demo.sh fails when a step fails" 1 "$?"
check_contains "... naming the step" "import failed" "$out"
