#!/usr/bin/env bash
# test_triage.sh -- `doppel triage` and `doppel watch` against the fake
# GitHub API (issue 12): one comment per issue, edited in place when the
# issue is edited (never posted again); a label; a thumbs-down from the
# author or a maintainer, the stop label, or deleting doppel's comment stops
# the bot for good and records the suggested pairs as not related; it never
# closes anything; a dry run unless --yes; exactly once across kill -9.
source "$ROOT/tests/cli/lib.sh"
source "$ROOT/tests/sync/lib.sh"
SECRET=ghp_tr1ageT3stT0kenValue1234567890abcdef
export GITHUB_TOKEN=$SECRET
export DOPPEL_WRITE_GAP_MS=0 DOPPEL_SYNC_BACKOFF_MS=20 DOPPEL_SYNC_DEADLINE_S=2 DOPPEL_SYNC_STALL_S=2
ALL=""
start_fake main --issues 150 --token "$SECRET" --realtime --recent 45
DB=$T/t.db
"$DOPPEL_FAST" sync "$REPO" --api-url "$URL" --db "$DB" -q

BOT='<!-- doppel:triage v1 -->'
bot() {  # bot ISSUE JQ -- over doppel's triage comments on ISSUE
    fake --argjson n "$1" --arg m "$BOT" "[.comments[] | select(.issue == \$n and (.body | contains(\$m)))] | $2"
}
nbot() { bot "$1" length; }
botbody() { bot "$1" '.[0].body // ""'; }
bot_id() { bot "$1" '.[0].id'; }
labels() { fake --argjson n "$1" '.issues[] | select(.number == $n) | .labels | join(",")'; }
issue() { curl -sf "${GH_HEADERS[@]}" "$URL/repos/acme/widgets/issues/$1"; }
# in_own_words -- jq: issue OF's problem told again by someone else, as a
# duplicate report is: its title, the same traceback, other words around it
# (a verbatim copy by another account reads as a clone, which is related)
in_own_words='(.title | split(" (case")[0]) as $t
    | ((.body // "") | split("```") | if length > 2 then "```" + .[1] + "```" else "" end) as $tb
    | {title: $t, body: ("I updated this morning and now this happens every time I run my pipeline.\r\n\r\n"
                         + $tb + "\r\nAny idea how to work around it?")}'
# new_dup OF [SUFFIX] -- files an issue reporting what issue OF reports; prints its number
new_dup() {
    issue "$1" | jq -c --arg s "${2:-}" "$in_own_words | .title += \$s" |
        curl -sf --data-binary @- "$URL/_control/create" | jq .number
}
# retell N OF -- issue N now reports what issue OF reports (title and body)
retell() {
    issue "$2" | jq -c --argjson n "$1" "$in_own_words | .number = \$n" |
        curl -sf -o /dev/null --data-binary @- "$URL/_control/update"
}
tri() {  # tri ARGS... -- triage against the fake; sets OUT, RC
    OUT=$("$DOPPEL" triage --db "$DB" --api-url "$URL" "$@" 2>&1); RC=$?
    ALL="$ALL$OUT"
}
watch() {
    OUT=$("$DOPPEL" watch --db "$DB" --api-url "$URL" "$@" 2>&1); RC=$?
    ALL="$ALL$OUT"
}

# ---- one issue: dry run, post, up to date, edits ---------------------------------------
A=$(new_dup 7 " again")
tri "$A"
check_eq "dry run: exit 0" 0 "$RC"
check_contains "dry run: the comment in full, with the likely duplicate" "      | - #7 (duplicate, high confidence)" "$OUT"
check_contains "dry run: the label" "add label \"possible-duplicate\" to #$A" "$OUT"
check_contains "dry run: says nothing was written" "dry run: nothing was written" "$OUT"
check_eq "dry run: no write reached the server" 0 "$(nwrites)"
"$DOPPEL" similar --db "$DB" "$A" >/dev/null 2>&1   # exit 3: not in the store
check_eq "dry run: the issue reached the store anyway (read fresh)" 0 "$?"
tri "$A" --yes
check_eq "triage --yes: exit 0" 0 "$RC"
check_eq "triage: one comment" 1 "$(nbot "$A")"
check_contains "triage: it lists #7" "- #7 (duplicate, high confidence)" "$(botbody "$A")"
check_contains "triage: the label is on" "possible-duplicate" "$(labels "$A")"
n0=$(nwrites)
tri "$A" --yes
check_contains "a rerun without change: up to date" "up to date" "$OUT"
check_eq "a rerun without change: no write" "$n0" "$(nwrites)"

# edited to report what #13 reports: the same comment is edited in place
retell "$A" 13
id0=$(bot_id "$A")
tri "$A" --yes
check_contains "edited issue: the comment is edited" "edit #$A: HTTP 200" "$OUT"
check_eq "edited issue: still one comment, the same one" "1 $id0" "$(nbot "$A") $(bot_id "$A")"
check_contains "edited issue: it lists #13 now" "- #13 (duplicate" "$(botbody "$A")"
check_eq "edited issue: no new comment was posted" 1 \
    "$(FAKE_PATH=/_writes fake --arg p "/issues/$A/comments" '[.[] | select(.method == "POST" and (.path | endswith($p)))] | length')"
# edited into something else: the comment says so, the label goes
ctl update "{\"number\": $A, \"title\": \"documentation of the yaml schema is unclear\", \"body\": \"please document the yaml config\"}"
tri "$A" --yes
check_contains "no candidate any more: the comment says so" "no longer finds likely duplicates" "$(botbody "$A")"
check_eq "no candidate any more: doppel's label is taken back" "" "$(labels "$A" | tr ',' '\n' | grep -x possible-duplicate)"
check_eq "no candidate any more: still one comment" 1 "$(nbot "$A")"
# ...and back: listed again, label again
retell "$A" 7
tri "$A" --yes
check_contains "edited back: listed again" "- #7 (duplicate" "$(botbody "$A")"
check_contains "edited back: the label again" "possible-duplicate" "$(labels "$A")"

# ---- thumbs-down ---------------------------------------------------------------------
ctl react "{\"comment\": $(bot_id "$A"), \"user\": \"passerby\", \"content\": \"-1\"}"
n0=$(nwrites)
tri "$A" --yes
check_contains "a thumbs-down from a passer-by does not stop the bot" "up to date" "$OUT"
ctl permission '{"user": "maint", "permission": "write"}'
ctl react "{\"comment\": $(bot_id "$A"), \"user\": \"maint\", \"content\": \"-1\"}"
tri "$A"
check_contains "a maintainer's thumbs-down: the plan stops" "stop: " "$OUT"
check_contains "...says whose" "@maint (a maintainer)" "$OUT"
check_contains "...and records the pair as not related" "recorded as not related" "$OUT"
tri "$A" --yes
check_eq "thumbs-down: exit 0" 0 "$RC"
check_eq "thumbs-down: the label is taken back" "" "$(labels "$A" | tr ',' '\n' | grep -x possible-duplicate)"
check_eq "thumbs-down: stored as a not_related verdict" not_related "$(verdict_of "$DB" "$A" 7)"
n0=$(nwrites)
tri "$A" --yes
check_contains "after a stop the bot stays quiet" "stopped for this issue earlier" "$OUT"
check_eq "after a stop: no write" "$n0" "$(nwrites)"
OUT=$("$DOPPEL" apply --db "$DB" 2>&1)
check_contains "apply sees the stop as a decided not-related pair" "0 units to do" "$OUT"

B=$(new_dup 37 " once more")
tri "$B" --yes
ctl react "{\"comment\": $(bot_id "$B"), \"user\": \"newbie\", \"content\": \"-1\"}"
tri "$B" --yes
check_contains "the author's thumbs-down stops the bot" "@newbie (the author)" "$OUT"

C=$(new_dup 17 " seen here too")
tri "$C" --yes
ctl label "{\"number\": $C, \"name\": \"not-a-duplicate\"}"
tri "$C" --yes
check_contains "the stop label stops the bot" "the label \"not-a-duplicate\" is on the issue" "$OUT"
check_eq "stop label: the pair is not related" not_related "$(verdict_of "$DB" "$C" 17)"

D=$(new_dup 19 " reproduced")
tri "$D" --yes
curl -sf -o /dev/null -X DELETE -H "Authorization: Bearer $SECRET" "${GH_HEADERS[@]}" \
    "$URL/repos/acme/widgets/issues/comments/$(bot_id "$D")"
tri "$D" --yes
check_contains "deleting doppel's comment stops the bot" "doppel's comment was deleted" "$OUT"
check_eq "deleted comment: not posted again" 0 "$(nbot "$D")"

# ---- what it does not touch ------------------------------------------------------------
tri 3
check_contains "a pull request is skipped" "#3 is a pull request" "$OUT"
tri 2
check_contains "a closed issue is skipped" "#2 is closed" "$OUT"
tri 9999
check_contains "an unknown issue: gone" "#9999 is gone on GitHub (HTTP 404)" "$OUT"
tri abc
check_eq "a key that is not a number: fails" 1 "$RC"
check_eq "triage never closed or reopened anything" 0 \
    "$(FAKE_PATH=/_writes fake '[.[] | select(.method == "PATCH" and (.path | test("/issues/[0-9]+$")))] | length')"

# ---- kill -9 while the server holds the answer of the posted comment ----------------------
E=$(new_dup 23 " after the upgrade")
ctl fault "{\"kind\": \"hang_after\", \"method\": \"POST\", \"path\": \"/issues/$E/comments\", \"seconds\": 30}"
DOPPEL_SYNC_DEADLINE_S=60 DOPPEL_SYNC_STALL_S=60 "$DOPPEL" triage "$E" --yes --db "$DB" --api-url "$URL" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ "$(nbot "$E")" = 1 ] && break; sleep 0.1; done
kill -9 "$pid"; wait "$pid" 2>/dev/null
ctl clear '{}'
tri "$E" --yes
check_eq "kill -9 during a hang: the rerun finishes" 0 "$RC"
check_contains "kill -9: the rerun looked first" "found done on GitHub" "$OUT"
check_eq "kill -9: exactly one comment" 1 "$(nbot "$E")"
tri "$E" --yes
check_contains "kill -9: then the label" "possible-duplicate" "$(labels "$E")"

# ---- watch ------------------------------------------------------------------------------------
WDB=$T/w.db
"$DOPPEL_FAST" sync "$REPO" --api-url "$URL" --db "$WDB" -q
OUT=$("$DOPPEL" watch --db "$WDB" --api-url "$URL" --yes 2>&1)
check_contains "the first watch only starts the watch" "watch starts here" "$OUT"
F=$(new_dup 29 " on my machine")
G=$(curl -sf --data-binary '{"title": "feature request: a dark theme for the settings dialog", "body": "too bright"}' \
    "$URL/_control/create" | jq .number)
"$DOPPEL_FAST" sync "$REPO" --api-url "$URL" --db "$WDB" -q
n0=$(nwrites)
OUT=$("$DOPPEL" watch --db "$WDB" --api-url "$URL" 2>&1)
check_contains "watch dry run: plans the new duplicate" "issue #$F" "$OUT"
check_eq "watch dry run: no write" "$n0" "$(nwrites)"
OUT=$("$DOPPEL" watch --db "$WDB" --api-url "$URL" --yes 2>&1); RC=$?
ALL="$ALL$OUT"
check_eq "watch --yes: exit 0" 0 "$RC"
check_eq "watch: comments on the new duplicate" 1 "$(nbot "$F")"
check_eq "watch: nothing on the unrelated new issue" 0 "$(nbot "$G")"
n0=$(nwrites)
OUT=$("$DOPPEL" watch --db "$WDB" --api-url "$URL" --yes 2>&1)
check_eq "watch again: no write" "$n0" "$(nwrites)"
ctl react "{\"comment\": $(bot_id "$F"), \"user\": \"newbie\", \"content\": \"-1\"}"
OUT=$("$DOPPEL" watch --db "$WDB" --api-url "$URL" --yes 2>&1)
check_contains "watch re-reads the reactions of its recent comments (no sync needed)" "@newbie (the author)" "$OUT"

H=$(new_dup 31 " here as well")
valgrind_clean "triage (dry run, ranking)" "${DOPPEL_FAST:-$DOPPEL}" triage "$H" --db "$DB" --api-url "$URL"
valgrind_clean "triage --yes" "${DOPPEL_FAST:-$DOPPEL}" triage "$H" --yes --db "$DB" --api-url "$URL"
valgrind_clean "watch --yes" "${DOPPEL_FAST:-$DOPPEL}" watch --yes --db "$WDB" --api-url "$URL"
check_fails "triage without a key is a usage error" "$DOPPEL" triage --db "$DB"
check_fails "watch takes no key" "$DOPPEL" watch 12 --db "$DB"
check_eq "the token is in no output" "" "$(printf '%s' "$ALL" | grep -o "$SECRET" | head -1)"
check_eq "the token is in no file of the stores" "" "$(cat "$T"/*.db* | grep -ao "$SECRET" | head -1)"
echo "1..$_n"
