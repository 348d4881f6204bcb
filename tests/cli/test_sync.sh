#!/usr/bin/env bash
# test_sync.sh -- `doppel sync` against a local fake GitHub API
# (tests/sync/fake_github.py on 127.0.0.1): full, incremental and resumed
# syncs, conditional requests, every injected fault, tokens, deleted items.
source "$ROOT/tests/cli/lib.sh"
source "$ROOT/tests/sync/lib.sh"
export DOPPEL_SYNC_BACKOFF_MS=20 DOPPEL_SYNC_STALL_S=3
sync() { "$DOPPEL" sync "$REPO" --api-url "$URL" "$@"; }

# ---- usage -------------------------------------------------------------
"$DOPPEL" sync >/dev/null 2>&1; check_eq "no repository is a usage error" 2 $?
"$DOPPEL" sync noslash --db "$T/u.db" >/dev/null 2>&1; check_eq "OWNER/REPO required" 2 $?
"$DOPPEL" sync a/b --bogus >/dev/null 2>&1; check_eq "unknown option is a usage error" 2 $?
check_contains "--help documents --verify" "--verify" "$("$DOPPEL" sync --help)"

# ---- full sync, keep-alive, gzip, headers ------------------------------------
start_fake main --issues 2000 --anon-limit 100000
DB=$T/full.db
out=$(sync --db "$DB" 2>&1); rc=$?
check_eq "full sync exits 0" 0 $rc
check_contains "summary counts the items" "2000 items fetched (2000 new or changed), 3000 comments, 130 labels" "$out"
check_contains "anonymous use is announced" "anonymous" "$out"
check_eq "store equals the server after a full sync" same "$(same "$DB")"
check_eq "full sync requests = pages (20 issues + 30 comments + 2 labels)" 52 "$(stat 's["requests"]')"
check_eq "one kept-alive connection for the whole sync" 1 "$(stat 's["connections"]')"
check_eq "bodies were gzip-compressed" 52 "$(stat 's["gzip"]')"
check_eq "GitHub headers sent on every request" 0 "$(stat 's["bad_headers"]')"
# SQL (tests/sync/lib.sh q) where no command shows it: the repository's label
# list (show gives an item's labels only), counts by close reason, and
# sync's own cursor in the kv table. The rest reads through doppel (lib.sh
# item_q, stats_q); "same" compares the whole store file with the server.
check_eq "label colours stored" 130 "$(q "$DB" "select count(*) from labels where repo_id=:repo and color<>''")"
check_eq "'Duplicate of #N' in a comment becomes a duplicate link" 1 \
    "$(item_q "$DB" 10 'sum(1 for l in I["links"] if (l["from"], l["to"], l["type"], l["source"]) == ("10", "6", "duplicate", "comment"))')"
check_eq "pull requests stored as such" 666 "$(stats_q "$DB" 'S[0]["pull_requests"]')"

# ---- incremental: no change costs nothing --------------------------------
sync --db "$DB" -q 2>/dev/null     # first incremental settles the since= URLs
r0=$(stat 's["requests"]'); n0=$(stat 's["not_modified"]')
out=$(sync --db "$DB" 2>&1)
check_eq "no-change sync: 4 requests (issues, comments, 2 label pages)" 4 $(( $(stat 's["requests"]') - r0 ))
check_eq "no-change sync: all 4 answered 304" 4 $(( $(stat 's["not_modified"]') - n0 ))
check_contains "summary reports the 304s" "(4 not modified" "$out"

# ---- incremental: only what changed ---------------------------------------
ctl update '{"number": 3, "title": "renamed three"}'
ctl update '{"number": 8, "state": "closed", "state_reason": "completed"}'
ctl comment '{"number": 11, "body": "Duplicate of #4"}'
ctl create '{"title": "brand new issue", "body": "it broke"}'
r0=$(stat 's["requests"]'); i0=$(stat 's["paths"]["issues"]')
out=$(sync --db "$DB" 2>&1)
check_eq "incremental sync exits 0" 0 $?
check_eq "incremental sync: one issues page" 1 $(( $(stat 's["paths"]["issues"]') - i0 ))
check_contains "incremental sync stored only the changed items" "(4 new or changed), 2 comments" "$out"
check_eq "store equals the server after the incremental sync" same "$(same "$DB")"
check_eq "renamed title stored" "renamed three" "$(item_q "$DB" 3 'I["title"]')"
check_eq "link from a new comment" 1 \
    "$(item_q "$DB" 11 'sum(1 for l in I["links"] if (l["from"], l["to"], l["type"]) == ("11", "4", "duplicate"))')"

# ---- GitHub Enterprise prefix ------------------------------------------------
out=$("$DOPPEL" sync "$REPO" --api-url "$URL/api/v3" --db "$T/ghe.db" 2>&1)
check_eq "--api-url https://HOST/api/v3 works" 0 $?
check_eq "GHE store equals the server" same "$(same "$T/ghe.db")"

# ---- --timeline and --verify ---------------------------------------------------
t0=$(stat 's["paths"].get("timeline", 0)')
sync --db "$DB" --timeline -q 2>/dev/null
check_eq "--timeline: marked_as_duplicate becomes a link" 1 \
    "$(item_q "$DB" 20 'sum(1 for l in I["links"] if (l["from"], l["to"], l["source"]) == ("20", "17", "timeline"))')"
t1=$(stat 's["paths"].get("timeline", 0)')
ndup=$(q "$DB" "select count(*) from items where repo_id=:repo and state='closed' and state_reason='duplicate'")
check "--timeline read one timeline per issue closed as duplicate ($ndup)" test $((t1 - t0)) -eq "$ndup" -a "$ndup" -gt 50
sync --db "$DB" --timeline -q 2>/dev/null
check_eq "--timeline reads each timeline once" "$t1" "$(stat 's["paths"].get("timeline", 0)')"

ctl delete '{"number": 5}'
ctl transfer '{"number": 7}'
sync --db "$DB" -q 2>/dev/null
check_eq "without --verify a deleted issue is still there" 0 "$(item_q "$DB" 5 'bool(I.get("deleted"))')"
out=$(sync --db "$DB" --verify 2>&1)
check_contains "--verify reports deleted/transferred" "marked deleted or transferred: 2" "$out"
check_eq "deleted (410) issue marked" 1 "$(item_q "$DB" 5 'bool(I.get("deleted"))')"
check_eq "transferred (301) issue marked" 1 "$(item_q "$DB" 7 'bool(I.get("deleted"))')"
check_eq "store equals the server after --verify" same "$(same "$DB")"

# ---- --analyze ---------------------------------------------------------------
out=$(sync --db "$DB" --analyze 2>&1)
check_contains "--analyze runs the analysis" "analyzed" "$out"

# ---- kill -9 in the middle, then resume --------------------------------------
DB=$T/kill.db
ctl delay '{"seconds": 0.2}'
"$DOPPEL" sync "$REPO" --api-url "$URL" --db "$DB" -q 2>/dev/null &
spid=$!
for _ in $(seq 200); do
    n=$(stats_q "$DB" 'sum(r["items"] for r in S)' 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 500 ] && break
    sleep 0.05
done
kill -9 $spid 2>/dev/null; wait $spid 2>/dev/null
n=$(stats_q "$DB" 'sum(r["items"] for r in S)')
check "killed mid-sync with some pages stored ($n items)" test "$n" -ge 500 -a "$n" -lt 1999
check_eq "never half a page: item count is a multiple of 100" 0 $((n % 100))
ctl delay '{"seconds": 0}'
i0=$(stat 's["paths"]["issues"]')
out=$(sync --db "$DB" 2>&1)
check_eq "resumed sync exits 0" 0 $?
i1=$(stat 's["paths"]["issues"]')
check "resume did not start over ($((i1 - i0)) issue pages)" test $((i1 - i0)) -le $(( (2001 - n) / 100 + 2 ))
check_eq "store equals the server after kill -9 and resume" same "$(same "$DB")"

# ---- Ctrl-C -------------------------------------------------------------------
DB=$T/int.db
ctl delay '{"seconds": 0.2}'
"$DOPPEL" sync "$REPO" --api-url "$URL" --db "$DB" -q 2>"$T/int.err" &
spid=$!
sleep 1
kill -INT $spid; wait $spid; rc=$?
ctl delay '{"seconds": 0}'
check_eq "Ctrl-C stops with status 1" 1 $rc
check_contains "Ctrl-C says interrupted and how to resume" "run the same command again" "$(cat "$T/int.err")"
sync --db "$DB" -q 2>/dev/null
check_eq "store equals the server after Ctrl-C and resume" same "$(same "$DB")"

# ---- faults ---------------------------------------------------------------------
start_fake small --issues 300 --anon-limit 100000
# fault_sync NAME FAULT-JSON -- fresh store, one fault, expect success and equality
fault_sync() {
    local name=$1 db=$T/f-$1.db
    ctl fault "$2"
    local r0; r0=$(stat 's["faults"]')
    out=$(sync --db "$db" 2>&1); local rc=$?
    check_eq "$name: sync succeeds" 0 $rc
    check "$name: the fault was injected" test "$(stat 's["faults"]')" -gt "$r0"
    check_eq "$name: store equals the server" same "$(same "$db")"
}
fault_sync "502 twice" '{"kind": "502", "path": "/issues?", "skip": 1, "times": 2}'
check_contains "502: retries are counted" "2 retried" "$out"
fault_sync "500" '{"kind": "500", "path": "/comments", "times": 1}'
fault_sync "connection reset mid-body" '{"kind": "reset", "path": "/issues?", "skip": 1, "times": 1}'
fault_sync "429 Retry-After" '{"kind": "429", "path": "/labels", "times": 1, "seconds": 1}'
check_contains "429: the wait is reported" "waited" "$out"
fault_sync "secondary rate limit (Retry-After)" '{"kind": "secondary", "path": "/issues?", "times": 1, "seconds": 1}'
fault_sync "secondary rate limit (no Retry-After)" '{"kind": "secondary", "path": "/comments", "times": 1}'
start=$(date +%s)
fault_sync "403 rate limit with reset" '{"kind": "rate403", "path": "/issues?", "skip": 1, "times": 1, "seconds": 2}'
check "403 rate limit: waited for the reset" test $(( $(date +%s) - start )) -ge 1
fault_sync "slow response (stall, retried)" '{"kind": "slow", "path": "/issues?", "times": 1, "seconds": 5}'
check_contains "slow response: retried after the stall" "1 retried" "$out"
fault_sync "slow response (within limits)" '{"kind": "slow", "path": "/comments", "times": 1, "seconds": 1}'
check_contains "slow response: no retry needed" "0 retried" "$out"

ctl rate '{"remaining": 0, "window": 2}'
start=$(date +%s)
out=$(sync --db "$T/f-exhausted.db" 2>&1)
check_eq "exhausted rate limit: waits for the reset, then succeeds" 0 $?
check "exhausted rate limit: waited" test $(( $(date +%s) - start )) -ge 1
check_eq "exhausted rate limit: store equals the server" same "$(same "$T/f-exhausted.db")"

DB=$T/f-truncated.db
ctl fault '{"kind": "truncate", "path": "/issues?", "skip": 1, "times": 1}'
out=$(sync --db "$DB" 2>&1); rc=$?
check_eq "truncated JSON page fails the sync" 1 $rc
check_contains "truncated JSON: error names the page" "malformed JSON page" "$out"
check_eq "truncated JSON: only the page before it is stored" 100 "$(stats_q "$DB" 'sum(r["items"] for r in S)')"
sync --db "$DB" -q 2>/dev/null
check_eq "truncated JSON: the next run completes the store" same "$(same "$DB")"

ctl fault '{"kind": "502", "path": "/issues?", "times": 20}'
out=$(sync --db "$T/f-502.db" 2>&1); rc=$?
ctl clear '{}'
check_eq "persistent 502 fails after bounded retries" 1 $rc
check_contains "persistent 502: error says how often it tried" "after 6 tries" "$out"
check_contains "persistent 502: error shows the URL" "/repos/acme/widgets/issues" "$out"

# ---- tokens -------------------------------------------------------------------
SECRET=ghp_s3cretT0kenValue1234567890
start_fake tok --issues 150 --token "$SECRET" --anon-limit 100000
out=$(GITHUB_TOKEN=$SECRET sync --db "$T/tok.db" --verify --timeline 2>&1)
check_eq "GITHUB_TOKEN: sync succeeds" 0 $?
check_contains "GITHUB_TOKEN: authenticated" "authenticated" "$out"
check_eq "GITHUB_TOKEN: every request carried it" 0 "$(stat 's["anon"]')"
a0=$(stat 's["auth"]')
out2=$(GH_TOKEN=$SECRET sync --db "$T/tok.db" 2>&1)
check "GH_TOKEN is used when GITHUB_TOKEN is absent" test "$(stat 's["auth"]')" -gt "$a0"
printf '#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo %s\n' "$SECRET" >"$T/bin/gh"
a0=$(stat 's["auth"]')
out3=$(sync --db "$T/tok.db" 2>&1)
check "gh auth token is used when no variable is set" test "$(stat 's["auth"]')" -gt "$a0"
printf '#!/bin/sh\nexit 1\n' >"$T/bin/gh"
out4=$(GITHUB_TOKEN=${SECRET}x sync --db "$T/tok.db" 2>&1); rc=$?
check_eq "a rejected token fails" 1 $rc
check_contains "a rejected token: GitHub's message shown" "Bad credentials" "$out4"
out5=$(DOPPEL_SYNC_TRIES=1 "$DOPPEL" sync "$REPO" --api-url "http://user:pw0rdX@127.0.0.1:1" --db "$T/tok2.db" 2>&1)
check_eq "credentials in --api-url are not shown in errors" "" "$(echo "$out5" | grep -o pw0rdX)"
all="$out$out2$out3$out4$out5"
check_eq "the token never appears in the output" "" "$(echo "$all" | grep -o "s3cretT0ken")"
check_eq "the token never appears in the store files" "" "$(cat "$T"/tok.db* | grep -ao "s3cretT0ken" | head -1)"

# ---- an item dated in the future does not freeze incremental sync ------------------
# (issue 11 F, in sync) The fake's clock is in 2020; the edit after the first
# sync is stamped with today's date, as GitHub stamps edits.
start_fake future --issues 30
DB=$T/future.db
ctl update '{"number": 5, "title": "from the future", "updated_at": "2999-01-01T00:00:00Z"}'
sync --db "$DB" -q 2>/dev/null
since=$(q "$DB" "select value from kv where repo_id=:repo and key='sync.issues.since'")
check "future-dated item: the stored since ($since) is not after the sync started" \
    test "$(date -u -d "$since" +%s)" -le "$(date +%s)"
ctl update "{\"number\": 7, \"title\": \"edited after\", \"updated_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}"
sync --db "$DB" -q 2>/dev/null
check_eq "future-dated item: a later edit is still fetched" "edited after" \
    "$(item_q "$DB" 7 'I["title"]')"
check_eq "future-dated item: store equals the server" same "$(same "$DB")"

echo "1..$_n"
