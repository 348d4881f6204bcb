#!/usr/bin/env bash
# test_apply.sh -- `doppel apply` against the fake GitHub API (issue 12):
#  1. 200 verdicts applied with kill -9 at 10 random moments, each followed
#     by a rerun: the server ends with exactly the planned writes, once each,
#     and every one of them in the audit (tests/sync/check_writes.py);
#  2. faults, each followed by a rerun, checked on the server: secondary
#     rate limits and 429 on writes, a 500 / a hang / a cut connection after
#     the write was applied (the run must look before resending), a hang
#     before it was applied, kill -9 during a hang, 422, 404 on a deleted
#     issue, a bad token, a redirect to another host;
#  3. activity since the verdict, re-confirming, undo, the log, the lock;
#  4. a dry run is the default (no write reaches the server without --yes)
#     and the token is in no output, no file and no request to another host.
# Counts are printed as TAP comments ("# kill test: ...").
source "$ROOT/tests/cli/lib.sh"
source "$ROOT/tests/sync/lib.sh"
SECRET=ghp_apPlyT3stT0kenValue1234567890abcdef
export GITHUB_TOKEN=$SECRET
export DOPPEL_WRITE_GAP_MS=0 DOPPEL_SYNC_BACKOFF_MS=20 DOPPEL_SYNC_DEADLINE_S=2 DOPPEL_SYNC_STALL_S=2
CHECKW=$ROOT/tests/sync/check_writes.py
ALL=""

at() { local u=$1; shift; URL=$u "$@"; }   # at URL CMD... -- a lib.sh helper against another server
# verdicts DB "Q C VERDICT"... -- stored as a reviewer's verdicts, given now.
# Seeded with SQL: these pairs were never stored by analyze, and the review
# page's API (lib.sh set_verdicts) judges stored pairs only.
verdicts() {
    local db=$1 v q c k sql=""
    shift
    for v in "$@"; do
        read -r q c k <<<"$v"
        sql="$sql INSERT OR REPLACE INTO verdicts SELECT id, '$q', '$c', '$k', strftime('%s', 'now') FROM repositories;"
    done
    sqlite3 "$db" "$sql"
}
# actions_q DB EXPR -- the python expression EXPR over A, the audit as
# `doppel apply --log --json` gives it (one dict per action: id, unit, kind,
# state, error, undo_of, ...); a bool prints as 1 or 0.
actions_q() {
    "$DOPPEL_FAST" apply --db "$1" --log --json | python3 -c '
import json, sys
A = json.load(sys.stdin)
r = eval(sys.argv[1])
print(int(r) if isinstance(r, bool) else r)' "$2"
}
# comments_with URL ISSUE PAIRKEY -- comments on ISSUE carrying the pair's marker
comments_with() {
    at "$1" fake --argjson n "$2" --arg m "<!-- doppel:pair=$3 v1 -->" \
        '[.comments[] | select(.issue == $n and (.body | contains($m)))] | length'
}
issue_state() {  # URL ISSUE -> "state reason"
    at "$1" fake --argjson n "$2" '.issues[] | select(.number == $n) | "\(.state) \(.state_reason)"'
}
issue_labels() { at "$1" fake --argjson n "$2" '.issues[] | select(.number == $n) | .labels | join(",")'; }
applied_to() {  # URL METHOD PATH-SUFFIX -- writes the server applied
    curl -sf "$1/_writes" |
        jq --arg m "$2" --arg p "$3" '[.[] | select(.applied and .method == $m and (.path | endswith($p)))] | length'
}
requests_at() { curl -sf "$1/_stats" | jq .requests; }   # API requests a server received

# ==== 1. 200 verdicts, kill -9 at 10 random moments =====================================
start_fake other --issues 5
OTHER=$URL
start_fake kill --issues 900 --token "$SECRET" --realtime
KURL=$URL
KDB=$T/kill.db
check "sync the 900-item repository" "$DOPPEL_FAST" sync "$REPO" --api-url "$KURL" --db "$KDB" -q
# Disjoint pairs: 120 open issues each a duplicate of one closed as fixed,
# 30 duplicates among open issues, 30 related, 20 not related.
# (Seeded with SQL, as verdicts() above.)
python3 - "$KDB" <<'EOF'
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1])
rid = con.execute("SELECT id FROM repositories").fetchone()[0]
rows = con.execute("SELECT key, state, state_reason FROM items WHERE kind = 0 ORDER BY number").fetchall()
open_ = [k for k, s, r in rows if s == "open"]
fixed = [k for k, s, r in rows if s == "closed" and r == "completed"]
pairs = [(open_[i], fixed[i], "duplicate") for i in range(120)]
o = open_[120:]
pairs += [(o[2 * i], o[2 * i + 1], "duplicate") for i in range(30)]
pairs += [(o[60 + 2 * i], o[61 + 2 * i], "related") for i in range(30)]
pairs += [(fixed[120 + 2 * i], fixed[121 + 2 * i], "not_related") for i in range(20)]
assert len(pairs) == 200 and len({k for p in pairs for k in p[:2]}) == 400
now = int(time.time())
for a, b, v in pairs:
    q, c = (a, b) if int(a) > int(b) else (b, a)   # the query is the later item, as analyze stores it
    con.execute("INSERT INTO verdicts VALUES(?, ?, ?, ?, ?)", (rid, q, c, v, now))
con.commit()
EOF
check_eq "200 verdicts stored" 200 "$("$DOPPEL_FAST" pairs --db "$KDB" --verdicts | wc -l)"

# The dry run: the plan, and not one write.
"$DOPPEL" apply --db "$KDB" >"$T/kill.plan" 2>&1; RC=$?
ALL="$ALL$(cat "$T/kill.plan")"
check_eq "dry run exits 0" 0 "$RC"
check_contains "dry run: the plan counts 200 units" "for 200 units to do" "$(tail -2 "$T/kill.plan")"
check_contains "dry run: says nothing was sent" "dry run: nothing was sent" "$(tail -1 "$T/kill.plan")"
check_contains "dry run: each comment in full" "      | Duplicate of #" "$(cat "$T/kill.plan")"
check_contains "dry run: the closure request in full" \
    'PATCH /repos/acme/widgets/issues/1 {"state":"closed","state_reason":"duplicate"}' "$(cat "$T/kill.plan")"
check_eq "dry run: no write reached the server" 0 "$(at "$KURL" nwrites)"
planned=$(grep -cE '^      (POST|PATCH|DELETE) ' "$T/kill.plan")
echo "# kill test: the plan holds $planned requests"

# Slow every answer so that the kills land inside the run: a kill comes
# after 0.3-1.3 s (0.8 on average), about 30 of the 480 writes at 25 ms
# each, so the ten runs need ~320 of them and none should find the work
# done. (At 8 ms a run got through ~70, the work was done by the seventh
# kill, and the count of hits hung on the seed: 7 of 10 in one CI run.)
ctl delay '{"seconds": 0.025}'
SEED=${APPLY_SEED:-$(date +%s)}
RANDOM=$SEED
hits=0
for i in $(seq 10); do
    "$DOPPEL" apply --yes --db "$KDB" --api-url "$KURL" >"$T/k$i.out" 2>&1 &
    pid=$!
    sleep "$(awk -v r=$((RANDOM % 100)) 'BEGIN { printf "%.2f", 0.3 + r / 100 }')"
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; hits=$((hits + 1)); fi
    wait "$pid" 2>/dev/null
    ALL="$ALL$(cat "$T/k$i.out")"
    echo "# kill $i: $(actions_q "$KDB" 'sum(a["state"] == "done" for a in A)') actions done," \
        "$(actions_q "$KDB" 'sum(a["state"] == "pending" for a in A)') pending, $(at "$KURL" nwrites) writes received"
done
ctl delay '{"seconds": 0}'
echo "# kill test: seed $SEED, $hits of 10 kills hit a running apply"
check "kill test: at least 8 of the 10 kills hit a running apply ($hits)" test "$hits" -ge 8
OUT=$("$DOPPEL" apply --yes --db "$KDB" --api-url "$KURL" 2>&1); RC=$?
ALL="$ALL$OUT"
check_eq "kill test: the last rerun finishes (exit 0)" 0 "$RC"
reconciled=$(actions_q "$KDB" 'sum((a["error"] or "").startswith("reconciled") for a in A)')
echo "# kill test: $reconciled writes were found done on GitHub after a kill instead of being sent again"
res=$(python3 "$CHECKW" "$KDB" "$KURL" "$REPO" "$T/kill.plan"); RC=$?
echo "# kill test: $res"
check_eq "kill test: the server holds exactly the planned writes, once each, all in the audit" 0 "$RC"
check_contains "kill test: 200 units' worth" "writes applied as planned" "$res"
check_eq "kill test: 20 not-related verdicts recorded as decided" 20 \
    "$(actions_q "$KDB" 'sum(a["kind"] == "decided" and a["state"] == "done" for a in A)')"
n0=$(at "$KURL" nwrites)
OUT=$("$DOPPEL" apply --yes --db "$KDB" --api-url "$KURL" 2>&1); RC=$?
check_eq "a run after everything is done exits 0" 0 "$RC"
check_contains "...and has nothing to send" "0 requests" "$OUT"
check_eq "...and writes nothing" "$n0" "$(at "$KURL" nwrites)"

# ==== 2. faults, each followed by a rerun ===========================================
start_fake f --issues 160 --token "$SECRET" --realtime
FURL=$URL
FDB=$T/f.db
"$DOPPEL_FAST" sync "$REPO" --api-url "$FURL" --db "$FDB" -q
# Open issues (odd, not a multiple of 3) paired with ones closed as fixed
# (even, not a multiple of 3 or 10): keep the fixed one, close the open one.
verdicts "$FDB" "2 1 duplicate" "5 4 duplicate" "8 7 duplicate" "13 14 duplicate" "17 16 duplicate" \
    "22 19 duplicate" "26 23 duplicate" "28 25 duplicate" "31 32 duplicate" "35 34 duplicate" \
    "38 37 duplicate" "43 41 related" "47 44 duplicate" "49 46 duplicate" "53 52 duplicate" \
    "56 55 duplicate" "61 59 related" "65 62 duplicate" "68 67 related" "74 73 duplicate"
PLANS=$T/plans.txt
: >"$PLANS"
# fault NAME PAIR FAULT-JSON -- plan PAIR, arm the fault, apply; sets OUT, RC
fault() {
    local name=$1 pair=$2 spec=$3
    "$DOPPEL" apply --db "$FDB" --pair "$pair" >>"$PLANS" 2>&1
    [ -n "$spec" ] && ctl fault "$spec"
    OUT=$("$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair "$pair" 2>&1); RC=$?
    ctl clear '{}'
    ALL="$ALL$OUT"
}
rerun() {  # PAIR -- apply it again; sets OUT, RC
    OUT=$("$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair "$1" 2>&1); RC=$?
    ALL="$ALL$OUT"
}

t0=$(date +%s.%N)
fault secondary 1:2 '{"kind": "secondary", "method": "POST", "path": "/issues/1/comments", "seconds": 1}'
check_eq "secondary limit (Retry-After) on a comment: waited, then sent (exit 0)" 0 "$RC"
check_eq "secondary limit: one comment" 1 "$(comments_with "$FURL" 1 1:2)"
check "secondary limit: it waited the second GitHub asked for" \
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a >= 1) }'
fault 429 4:5 '{"kind": "429", "method": "POST", "path": "/issues/5/labels", "seconds": 1}'
check_eq "429 on a label: waited, then sent" 0 "$RC"
check_contains "429: the label is on" duplicate "$(issue_labels "$FURL" 5)"
fault secondary_noretry 7:8 '{"kind": "secondary", "method": "PATCH", "path": "/issues/7"}'
check_eq "secondary limit without Retry-After on a closure: backed off, then sent" 0 "$RC"

fault apply_500 13:14 '{"kind": "apply_500", "method": "PATCH", "path": "/issues/13"}'
check_eq "500 after the closure was applied: exit 0" 0 "$RC"
check_contains "500: the run looked before resending" "GitHub shows it done" "$OUT"
check_eq "500: the closure is there" "closed duplicate" "$(issue_state "$FURL" 13)"
check_eq "500: the close was applied once" 1 "$(applied_to "$FURL" PATCH /issues/13)"

t0=$(date +%s.%N)
fault hang_after 16:17 '{"kind": "hang_after", "method": "POST", "path": "/issues/17/comments", "seconds": 30}'
check_eq "a hang after the comment was applied: exit 0" 0 "$RC"
check_contains "hang: the answer was lost, GitHub was read" "GitHub shows it done" "$OUT"
check_eq "hang: exactly one comment" 1 "$(comments_with "$FURL" 17 16:17)"
check "hang: bounded by the deadline (2 s), not the 30 s hang" \
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a < 15) }'

fault reset_after 19:22 '{"kind": "reset_after", "method": "POST", "path": "/issues/19/labels"}'
check_eq "connection cut after the label was applied: exit 0" 0 "$RC"
check_eq "cut: the label is on, applied once" "duplicate 1" \
    "$(issue_labels "$FURL" 19 | tr ',' '\n' | grep -x duplicate) $(applied_to "$FURL" POST /issues/19/labels)"

fault hang_before 23:26 '{"kind": "hang_before", "method": "POST", "path": "/issues/23/comments", "seconds": 30}'
check_eq "a hang before the comment was applied: looked, then sent once more (exit 0)" 0 "$RC"
check_eq "hang before: exactly one comment" 1 "$(comments_with "$FURL" 23 23:26)"

# kill -9 while the server holds the answer of an applied comment
"$DOPPEL" apply --db "$FDB" --pair 25:28 >>"$PLANS" 2>&1
ctl fault '{"kind": "hang_after", "method": "POST", "path": "/issues/25/comments", "seconds": 30}'
DOPPEL_SYNC_DEADLINE_S=60 DOPPEL_SYNC_STALL_S=60 "$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair 25:28 \
    >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ "$(comments_with "$FURL" 25 25:28)" = 1 ] && break; sleep 0.1; done
kill -9 "$pid"; wait "$pid" 2>/dev/null
ctl clear '{}'
check_eq "kill -9 during the hang: the comment is on GitHub, its action still pending" "1 1" \
    "$(comments_with "$FURL" 25 25:28) $(actions_q "$FDB" 'sum(a["unit"] == "25:28" and a["kind"] == "comment" and a["state"] == "pending" for a in A)')"
rerun 25:28
check_eq "kill -9 during the hang: the rerun finishes (exit 0)" 0 "$RC"
check_eq "kill -9 during the hang: still exactly one comment" 1 "$(comments_with "$FURL" 25 25:28)"

fault 422 31:32 '{"kind": "422", "method": "PATCH", "path": "/issues/31"}'
check_eq "422 on a closure: the unit fails (exit 1)" 1 "$RC"
check_contains "422: says what GitHub said" "HTTP 422: Validation Failed" "$OUT"
check_eq "422: recorded as failed; the label after it not sent" "failed failed" \
    "$(actions_q "$FDB" '" ".join(a["state"] for a in sorted(A, key=lambda a: a["id"]) if a["unit"] == "31:32" and a["kind"] in ("close", "label"))')"
n0=$(at "$FURL" nwrites)
rerun 31:32
check_contains "422: the next run does not retry on its own" "doppel apply --confirm 31:32" "$OUT"
check_eq "422: ...and writes nothing" "$n0" "$(at "$FURL" nwrites)"
OUT=$("$DOPPEL" apply --db "$FDB" --confirm 31:32 2>&1)
check_contains "--confirm re-confirms the verdict" "re-confirmed" "$OUT"
rerun 31:32
check_eq "422: after --confirm it is applied" 0 "$RC"
check_eq "422: the comment was not posted twice" 1 "$(comments_with "$FURL" 31 31:32)"
check_eq "422: closed now" "closed duplicate" "$(issue_state "$FURL" 31)"

fault 403 73:74 '{"kind": "403", "method": "POST", "path": "/issues/73/labels"}'
check_eq "403 (no Issues: write) on a label: the unit fails (exit 1)" 1 "$RC"
check_contains "403: says what GitHub said" "Resource not accessible by integration" "$OUT"
check_eq "403: recorded as failed" failed "$(actions_q "$FDB" '[a["state"] for a in A if a["unit"] == "73:74" and a["kind"] == "label"][0]')"
"$DOPPEL" apply --db "$FDB" --confirm 73:74 >/dev/null
rerun 73:74
check_eq "403: confirmed again, the label goes on" duplicate "$(issue_labels "$FURL" 73 | tr ',' '\n' | grep -x duplicate)"

# 404: the issue to close was deleted; the issue a related pair comments on was deleted
ctl delete '{"number": 35}'
ctl delete '{"number": 41}'
"$DOPPEL" apply --db "$FDB" --pair 34:35 >/dev/null 2>&1
OUT=$("$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair 34:35 2>&1); RC=$?
ALL="$ALL$OUT"
check_eq "deleted issue to close: skipped after reading it (exit 0)" 0 "$RC"
check_contains "deleted issue: says so" "#35 is gone on GitHub" "$OUT"
check_eq "deleted issue: marked deleted in the store" 1 "$(item_q "$FDB" 35 'I.get("deleted")')"
OUT=$("$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair 41:43 2>&1); RC=$?
ALL="$ALL$OUT"
check_eq "404 on a comment to a deleted issue: the unit fails (exit 1)" 1 "$RC"
check_contains "404: says the issue is gone" "HTTP 404" "$OUT"
check_eq "deleted issues got no applied write" "0 0" \
    "$(applied_to "$FURL" POST /issues/41/comments) $(applied_to "$FURL" PATCH /issues/35)"

# a bad token: refused before anything is sent; then the right one finishes
"$DOPPEL" apply --db "$FDB" --pair 59:61 >>"$PLANS" 2>&1
OUT=$(GITHUB_TOKEN=ghp_wr0ngT0kenValue00000000000000000000 "$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" \
    --pair 59:61 2>&1); RC=$?
ALL="$ALL$OUT"
check_eq "bad token: the run stops (exit 1)" 1 "$RC"
check_contains "bad token: says why" "Bad credentials" "$OUT"
check_eq "bad token: the intent stays pending for the next run" pending \
    "$(actions_q "$FDB" '[a["state"] for a in A if a["unit"] == "59:61" and a["kind"] == "comment"][0]')"
rerun 59:61
check_eq "bad token: the next run with the right token finishes" 0 "$RC"
check_eq "bad token: one comment" 1 "$(comments_with "$FURL" 61 59:61)"

# a redirect to another host on a write: not followed, the token stays home
fault redirect 46:49 "{\"kind\": \"redirect\", \"method\": \"PATCH\", \"path\": \"/issues/49\", \"to\": \"$OTHER\"}"
check_eq "redirect on a closure: the unit fails (exit 1)" 1 "$RC"
check_contains "redirect: not followed" "not followed" "$OUT"
check_eq "redirect: the other host got no request" 0 "$(requests_at "$OTHER")"
"$DOPPEL" apply --db "$FDB" --confirm 46:49 >/dev/null
rerun 46:49
check_eq "redirect: after --confirm the closure goes to the API host" "closed duplicate" \
    "$(issue_state "$FURL" 49)"

# ==== 3. activity, undo, log, lock ==============================================================
"$DOPPEL" apply --db "$FDB" --pair 52:53 >>"$PLANS" 2>&1
sleep 1.1
ctl comment '{"number": 53, "body": "still happens for me", "user": "someone"}'
n0=$(at "$FURL" nwrites)
OUT=$("$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair 52:53 2>&1); RC=$?
check_contains "activity on GitHub since the verdict: skipped at run time" "activity on #53 since the verdict" "$OUT"
check_eq "activity: nothing written" "$n0" "$(at "$FURL" nwrites)"
"$DOPPEL_FAST" sync "$REPO" --api-url "$FURL" --db "$FDB" -q
OUT=$("$DOPPEL" apply --db "$FDB" --pair 52:53 2>&1)
check_contains "activity: once synced, the plan says so too" "skipped -- activity on #53" "$OUT"
"$DOPPEL" apply --db "$FDB" --confirm 53:52 >/dev/null
rerun 52:53
check_eq "activity: re-confirmed, then applied" "closed duplicate" "$(issue_state "$FURL" 53)"

res=$(python3 "$CHECKW" "$FDB" "$FURL" "$REPO" "$PLANS"); RC=$?
echo "# faults: $res"
check_eq "faults: after every rerun the server holds exactly the planned writes, once each, all in the audit" 0 "$RC"

# the lock: a second apply while one is running
"$DOPPEL" apply --db "$FDB" --pair 55:56 >/dev/null 2>&1
# The first run hangs until the fault is cleared (not for a fixed time: a slow
# machine must not let it finish before the second run starts).
ctl fault '{"kind": "hang_before", "method": "POST", "path": "/issues/55/comments", "seconds": 60}'
DOPPEL_SYNC_DEADLINE_S=60 DOPPEL_SYNC_STALL_S=60 "$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair 55:56 \
    >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ "$(actions_q "$FDB" 'sum(a["unit"] == "55:56" for a in A)')" -gt 0 ] && break; sleep 0.1; done
OUT=$("$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair 55:56 2>&1); RC=$?
check_eq "a second apply while one runs: refused (exit 1)" 1 "$RC"
check_contains "the lock: says who holds it" "another doppel (pid $pid" "$OUT"
ctl clear '{}'
wait "$pid"
check_eq "the lock: the first run finished the pair alone" 1 "$(comments_with "$FURL" 55 55:56)"

# undo: dry run by default, then reopen / delete the comment / remove the label
action_id() { actions_q "$FDB" "[a['id'] for a in A if a['unit'] == '$1' and a['kind'] == '$2'][0]"; }   # UNIT KIND
id_close=$(action_id 1:2 close)
id_comment=$(action_id 1:2 comment)
id_label=$(action_id 1:2 label)
n0=$(at "$FURL" nwrites)
OUT=$("$DOPPEL" apply --db "$FDB" --undo "$id_close" 2>&1)
check_contains "undo: the dry run shows the request" 'PATCH /repos/acme/widgets/issues/1 {"state":"open","state_reason":"reopened"}' "$OUT"
check_eq "undo: the dry run writes nothing" "$n0" "$(at "$FURL" nwrites)"
for id in "$id_close" "$id_comment" "$id_label"; do
    OUT=$("$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --undo "$id" 2>&1); RC=$?
    ALL="$ALL$OUT"
    check_eq "undo of action #$id: exit 0" 0 "$RC"
done
check_eq "undo: reopened, label removed" "open reopened" "$(issue_state "$FURL" 1)"
check_eq "undo: no duplicate label left" "" "$(issue_labels "$FURL" 1 | tr ',' '\n' | grep -x duplicate)"
check_eq "undo: the comment is deleted" 0 "$(comments_with "$FURL" 1 1:2)"
check_eq "undo: recorded, and the originals marked undone" "3 3" \
    "$(actions_q "$FDB" 'sum(a["unit"] == "1:2" and a["undo_of"] is not None and a["state"] == "done" for a in A)') $(actions_q "$FDB" 'sum(a["unit"] == "1:2" and a["state"] == "undone" for a in A)')"
OUT=$("$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --undo "$id_close" 2>&1); RC=$?
check_eq "undo twice: refused" 1 "$RC"
OUT=$("$DOPPEL" apply --db "$FDB" --pair 1:2 2>&1)
check_contains "an undone pair is not applied again without --confirm" "was undone" "$OUT"
OUT=$("$DOPPEL" apply --db "$FDB" --log 2>&1)
check_contains "--log lists the undo" "(undoes #$id_close)" "$OUT"
check_contains "--log shows the request" "PATCH /repos/acme/widgets/issues/1" "$OUT"
OUT=$("$DOPPEL" apply --db "$FDB" --log --json 2>&1)
check "--log --json is JSON with the request, status and GitHub's id" jq -e '[.[] | select(.kind == "comment" and
    .state == "done")][0] | .method == "POST" and .status == 201 and .github_id > 0 and (.body | contains("Duplicate of"))' \
    <<<"$OUT"

# ==== 4. usage, dry run everywhere, valgrind, the token =========================================
FAST=${DOPPEL_FAST:-$DOPPEL}
"$DOPPEL" apply --db "$FDB" --pair 62:65 >>"$PLANS" 2>&1
valgrind_clean "apply (dry run)" "$FAST" apply --db "$FDB"
valgrind_clean "apply --yes" "$FAST" apply --yes --db "$FDB" --api-url "$FURL" --pair 62:65
valgrind_clean "apply --log --json" "$FAST" apply --log --json --db "$FDB"
valgrind_clean "apply --undo --yes" "$FAST" apply --undo "$(action_id 62:65 label)" \
    --yes --db "$FDB" --api-url "$FURL"
check_fails "apply: an unknown option is a usage error" "$DOPPEL" apply --db "$FDB" --bogus
"$DOPPEL" apply --db "$FDB" --undo x >/dev/null 2>&1
check_eq "apply --undo x: usage error (2)" 2 "$?"
"$DOPPEL" apply --db "$FDB" --api-url "http://u:pw@127.0.0.1:1" >/dev/null 2>&1
check_eq "apply: credentials in --api-url are refused (2)" 2 "$?"
OUT=$(env -u GITHUB_TOKEN "$DOPPEL" apply --yes --db "$FDB" --api-url "$FURL" --pair 67:68 2>&1); RC=$?
check_eq "apply --yes without a token: refused" 1 "$RC"
check_contains "without a token: says where to put one" "GITHUB_TOKEN" "$OUT"
check_eq "the token is in no output" "" "$(printf '%s' "$ALL" | grep -o "$SECRET" | head -1)"
check_eq "the token is in no file of the store" "" "$(cat "$T"/*.db* | grep -ao "$SECRET" | head -1)"
check_eq "no request reached the other host" 0 "$(requests_at "$OTHER")"
echo "1..$_n"
