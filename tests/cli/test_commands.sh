#!/usr/bin/env bash
# test_commands.sh -- similar, pairs, search and stats on the fixture repo
# tests/fixtures/analyze/issues.json (see test_analyze.sh for what it plants).
source "$ROOT/tests/cli/lib.sh"
DB=$T/c.db
JSONOK='import json,sys; json.load(sys.stdin)'

check "import fixture" "$DOPPEL" import --db "$DB" "$FIX/analyze/issues.json"
check "analyze" "$DOPPEL" analyze --db "$DB" --quiet

# ---- similar
out=$("$DOPPEL" similar --db "$DB" 14)
check_eq "similar 14 exits 0" 0 $?
check_eq "similar 14: the parser crash #3 comes first" "#3" "$(echo "$out" | sed -n 2p | awk '{print $2}')"
check_contains "similar shows relation and probability" " p 0." "$out"
check_contains "similar shows the candidate state" "(closed issue, completed)" "$out"
check_eq "similar '#12' accepts a leading #: #5 first" "#5" \
    "$("$DOPPEL" similar --db "$DB" '#12' | sed -n 2p | awk '{print $2}')"
check_eq "similar -k 2 shows two candidates" 2 "$("$DOPPEL" similar --db "$DB" -k 2 14 | tail -n +2 | grep -c '^ *[0-9]\.')"
check "similar --json parses" bash -c "'$DOPPEL' similar --db '$DB' --json 14 | python3 -c '$JSONOK'"
check_eq "similar --json: first candidate is 3" "3" \
    "$("$DOPPEL" similar --db "$DB" --json 14 | python3 -c 'import json,sys; print(json.load(sys.stdin)["candidates"][0]["candidate"])')"
out=$("$DOPPEL" similar --db "$DB" --title "Memory grows after every SIGHUP config reload" \
    --body "reload_config() leaks the old config_tree")
check_contains "similar --title/--body finds the leak reports" "#5" "$(echo "$out" | sed -n 2,3p)"
check_contains "similar --title/--body finds both leak reports" "#12" "$(echo "$out" | sed -n 2,3p)"
out=$(echo "segfault in parse_array on nested arrays" | "$DOPPEL" similar --db "$DB" --title "JSON crash" --body - --markdown)
check_contains "similar --markdown is a list" "- **#" "$out"
check_contains "similar --body - reads stdin" "#3" "$out"
sim=$("$DOPPEL" similar --db "$DB" --min-prob 1 14 | tail -n +2)
check "similar --min-prob 1 keeps only certain, related candidates" \
    bash -c "printf '%s\n' \"\$1\" | grep -vE 'not_related' | grep -qvE 'p 1\.000|no candidates' && exit 1 || exit 0" _ "$sim"
"$DOPPEL" similar --db "$DB" 999 >/dev/null 2>&1
check_eq "similar of an unknown item exits 3" 3 $?
"$DOPPEL" similar --db "$DB" >/dev/null 2>&1
check_eq "similar without KEY or --title is a usage error" 2 $?
check_contains "similar --help" "usage: doppel similar" "$("$DOPPEL" similar --help)"

# ---- pairs
out=$("$DOPPEL" pairs --db "$DB")
top=$(pairs_q "$DB" '"#" + sorted((p for p in P if not p["known"]), key=lambda p: (-p["value"], p["id"]))[0]["query"]')
check_contains "pairs lists the most valuable pair first" "$top" "$(echo "$out" | head -1)"
check "pairs line has relation · confidence · value" \
    bash -c "echo \"\$1\" | head -1 | grep -qE '(duplicate|related|not_related) · (high|medium|low) · [0-9]+\.[0-9]{3}'" _ "$out"
check "pairs --json parses" bash -c "'$DOPPEL' pairs --db '$DB' --json | python3 -c '$JSONOK'"
check_eq "pairs --limit 3 --json gives 3" 3 \
    "$("$DOPPEL" pairs --db "$DB" --limit 3 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["pairs"]))')"
total=$("$DOPPEL" pairs --db "$DB" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
ctotal=$("$DOPPEL" pairs --db "$DB" --state closed --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
check_eq "pairs --state closed counts pairs whose query is closed" \
    "$(pairs_q "$DB" 'sum(1 for p in P if p["query_item"]["state"] == "closed" and not p["known"])')" "$ctotal"
[ "$total" -gt 0 ] && ok "pairs total > 0 ($total)" || not_ok "pairs total > 0"
check_eq "pairs --label parser keeps only parser pairs" "0" \
    "$("$DOPPEL" pairs --db "$DB" --label parser --limit 0 | grep -vc -e '#14' -e '#15' -e '#3' -e 'no pairs')"
check "a verdict on #14 <-> #3 (the review page's API)" set_verdicts "$DB" "14 3 duplicate"
check_contains "pairs --verdicts lists it" "#14 <-> #3  duplicate  " "$("$DOPPEL" pairs --db "$DB" --verdicts)"
check_eq "pairs --verdicts --json: the verdict" duplicate "$(verdict_of "$DB" 14 3)"
check_eq "pairs --verdicts --json: no other" none "$(verdict_of "$DB" 3 14)"
check_eq "pairs --unreviewed hides the reviewed pair" 0 \
    "$("$DOPPEL" pairs --db "$DB" --unreviewed --limit 0 | grep -c '^#14 *↔ #3 ')"
check_eq "pairs --reviewed shows it" 1 "$("$DOPPEL" pairs --db "$DB" --reviewed | grep -c '^#14 *↔ #3 ')"
check_contains "pairs -v shows reasoning and the comment" "suggested comment:" "$("$DOPPEL" pairs --db "$DB" -v --limit 1)"
"$DOPPEL" pairs --db "$DB" --relation maybe >/dev/null 2>&1
check_eq "pairs --relation with a bad value exits 2" 2 $?
check_contains "pairs --help" "usage: doppel pairs" "$("$DOPPEL" pairs --help)"

# ---- search
out=$("$DOPPEL" search --db "$DB" SIGHUP leak)
check_contains "search finds the leak reports" "#12" "$out"
check_contains "search shows state" "open" "$out"
check "search --json parses" bash -c "'$DOPPEL' search --db '$DB' --json inet_pton | python3 -c '$JSONOK'"
check_eq "search --json: inet_pton hits #2 and #7" "2 7" \
    "$("$DOPPEL" search --db "$DB" --json inet_pton | python3 -c 'import json,sys; print(" ".join(sorted(h["key"] for h in json.load(sys.stdin))))')"
out=$("$DOPPEL" search --db "$DB" "" 2>&1); rc=$?
check_eq "search \"\" is a usage error" 2 "$rc"
check_eq "search \"\" leaks nothing (LeakSanitizer)" 0 "$(printf "%s" "$out" | grep -c LeakSanitizer)"
"$DOPPEL" search --db "$DB" zzzqqqxxy >/dev/null 2>&1
check_eq "search with no match exits 3" 3 $?
check_contains "search --help" "usage: doppel search" "$("$DOPPEL" search --help)"
# search loads the index as analyze left it: mapped from the persisted
# index, else built from the snapshot analyze saved, with the results of an
# index built from scratch (a store never analysed); tests/cli/test_index_file.sh
out=$("$DOPPEL" search --db "$DB" -v inet_pton 2>&1 >/dev/null)
check_contains "search -v: the index is the one analyze persisted" "mapped from the persisted index" "$out"
rm -f "$DB"-index-*
out=$("$DOPPEL" search --db "$DB" -v inet_pton 2>&1 >/dev/null)
check_contains "search -v: else it comes from analyze's snapshot" "from the snapshot, 0 through the text pipeline" "$out"
DBS=$T/search-fresh.db
check "import fixture (never analysed)" "$DOPPEL" import --db "$DBS" "$FIX/analyze/issues.json"
out=$("$DOPPEL" search --db "$DBS" -v inet_pton 2>&1 >/dev/null)
check_contains "search -v without a snapshot builds the index" "0 from the snapshot" "$out"
check_eq "search: the same hits and scores from the snapshot as from scratch" \
    "$("$DOPPEL" search --db "$DBS" --json SIGHUP leak config)" "$("$DOPPEL" search --db "$DB" --json SIGHUP leak config)"

# ---- show
out=$("$DOPPEL" show --db "$DB" 7)
check_eq "show 7 exits 0" 0 $?
check_contains "show: key and title" "#7  MSVC link error LNK2019" "$out"
check_contains "show: state words" "closed issue, duplicate" "$out"
check_contains "show: a label with its colour" "label    windows (#d73a4a)" "$out"
check_contains "show: the link and where it was read" "#7 → #2  duplicate (from body)" "$out"
check_contains "show: stored against counted comments" "comments 0 stored (the tracker counts 1)" "$out"
check_eq "show '#15' accepts a leading #" "#15  Limit JSON parser nesting depth" "$("$DOPPEL" show --db "$DB" '#15' | head -1)"
check_eq "show --json: the item's shape" "15|pull_request|closed|parser" \
    "$(item_q "$DB" 15 '(I["key"], I["kind"], I["state"], I["labels"][0])')"
check_eq "show --json: links of either direction" "15>3:fixes" "$(item_q "$DB" 15 'links()')"
check_contains "show --json: #3 sees the pull request that fixes it" "15>3:fixes" "$(item_q "$DB" 3 'links()')"
check_eq "show --json: label colours, repo id, stored comments" "d73a4a|1|0" \
    "$(item_q "$DB" 15 '(I["label_colors"]["parser"], I["repo"], I["comment_total"])')"
check_eq "show --json --repo names the repository" "15" "$(item_q "$DB" 15 'I["key"]' --repo acme/widget)"
"$DOPPEL" show --db "$DB" 999 >/dev/null 2>&1
check_eq "show of an unknown item exits 3" 3 $?
check_contains "show of an unknown item says so" "doppel show: no item '999' in the store" \
    "$("$DOPPEL" show --db "$DB" 999 2>&1)"
"$DOPPEL" show --db "$DB" --repo nope/nope 1 >/dev/null 2>&1
check_eq "show in an unknown repository exits 1" 1 $?
# The tracker's text reaches the terminal without its control characters.
cat >"$T/evil.json" <<'EOF'
{"number":1,"node_id":"e","title":"evil \u001b[2J title","state":"closed","state_reason":"x\u001b]0;y","labels":[{"name":"l\u001b[31m","color":"ff0000"}],"user":{"login":"a\u001bb"},"updated_at":"2024-01-01T00:00:00Z","repository_url":"https://api.github.com/repos/e/vil"}
EOF
check "import an item with escape sequences" "$DOPPEL" import --db "$T/evil.db" "$T/evil.json"
out=$("$DOPPEL" show --db "$T/evil.db" 1)
check_eq "show prints no escape character" 0 "$(printf '%s' "$out" | tr -cd '\033' | wc -c)"
check_contains "show: the escape shown as '?'" "evil ?[2J title" "$out"
check_contains "show: a date the tracker did not give" "created  unknown" "$out"
check_eq "show --json keeps the title as stored" "$(printf 'evil \033[2J title')" "$(item_q "$T/evil.db" 1 'I["title"]')"
check_contains "show --help" "usage: doppel show KEY" "$("$DOPPEL" show --help)"

# ---- stats
out=$("$DOPPEL" stats --db "$DB")
check_contains "stats counts items" "items     15: 14 issues, 1 pull requests, 8 open" "$out"
check_contains "stats counts links" "1 duplicate" "$out"
check_contains "stats shows the model" "built-in default" "$out"
check_contains "stats counts verdicts" "verdicts  1: 1 duplicate" "$out"
check_eq "stats --json: pairs total matches pairs --known" \
    "$("$DOPPEL" pairs --db "$DB" --known --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')" \
    "$("$DOPPEL" stats --db "$DB" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pairs"]["total"])')"
"$DOPPEL" stats --db "$DB" --repo nope/nope >/dev/null 2>&1
check_eq "stats of an unknown repo exits 3" 3 $?
check_contains "stats --help" "usage: doppel stats" "$("$DOPPEL" stats --help)"
echo "1..$_n"
