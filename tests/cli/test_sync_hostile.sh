#!/usr/bin/env bash
# test_sync_hostile.sh -- `doppel sync` against a hostile GitHub API (issue 11,
# "keep it out" 3): tests/sync/fake_github.py in its hostile modes. Each attack
# must end with a clear error within a bounded time, leave the store
# consistent (the pages before the attack stay, the next honest run completes
# the store) and leak no secret (stdout, stderr, the store files).
# Time to abort is printed as a TAP comment ("# abort NAME: S s").
source "$ROOT/tests/cli/lib.sh"
source "$ROOT/tests/sync/lib.sh"
SECRET=ghp_h0stileT3stT0kenValue1234567890ab
# Short limits so every attack ends in seconds; the defaults are 5 min / 60 s.
export DOPPEL_SYNC_BACKOFF_MS=20 DOPPEL_SYNC_STALL_S=3 DOPPEL_SYNC_DEADLINE_S=3
export GITHUB_TOKEN=$SECRET
unset DOPPEL_SYNC_MAX_PAGE_MB
integrity() { q "$1" "pragma integrity_check"; }   # the SQLite file itself, on purpose
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
ALL=""

start_fake other --issues 10
OTHER=$URL
start_fake main --issues 300 --token "$SECRET" --anon-limit 100000

# attack NAME HOSTILE-JSON MESSAGE BOUND_S -- a fresh store, one hostile mode
# from the second issues page on (see fake_github.py); KEPT items (default
# 100: the first page) stay in the store. Sets OUT, RC, DT, DB.
attack() {
    local name=$1 mode=$2 msg=$3 bound=$4 kept=${5:-100}
    DB=$T/h-$name.db
    ctl hostile "$mode"
    local t0; t0=$(now)
    OUT=$(timeout 120 "$DOPPEL" sync "$REPO" --api-url "$URL" --db "$DB" -q 2>&1); RC=$?
    DT=$(secs "$t0" "$(now)")
    ctl clear '{}'
    ALL="$ALL$OUT"
    echo "# abort $name: $DT s"
    check_eq "$name: sync fails (status 1)" 1 "$RC"
    check_contains "$name: clear error" "$msg" "$OUT"
    check "$name: ends within ${bound} s (took $DT s)" lt "$DT" "$bound"
    check_eq "$name: the pages before the attack are stored, nothing after" "$kept" \
        "$(stats_q "$DB" 'sum(r["items"] for r in S)')"
    check_eq "$name: store passes integrity_check" ok "$(integrity "$DB")"
    "$DOPPEL" sync "$REPO" --api-url "$URL" --db "$DB" -q >/dev/null 2>&1
    check_eq "$name: the next honest run completes the store" same "$(same "$DB")"
}

# ---- D: pagination cycles ------------------------------------------------------
r0=$(stat 's["paths"].get("issues", 0)')
attack cycle_self '{"mode": "cycle_self"}' "pagination cycle" 10
check "cycle_self: stopped at once (issue pages fetched: $(( $(stat 's["paths"].get("issues", 0)') - r0 )))" \
    test $(( $(stat 's["paths"].get("issues", 0)') - r0 )) -le 6
check_contains "cycle_self: the error names the page" "/repos/acme/widgets/issues" "$OUT"
r0=$(stat 's["paths"].get("issues", 0)')
attack cycle_two '{"mode": "cycle_two"}' "pagination cycle" 10 200
check "cycle_two: stopped at once" test $(( $(stat 's["paths"].get("issues", 0)') - r0 )) -le 8
# Endless distinct pages (empty after the real last, page 3): the page cap
# derived from rel="last" stops it.
r0=$(stat 's["paths"].get("issues", 0)')
attack chain '{"mode": "chain"}' "more pages than" 60 300
n=$(( $(stat 's["paths"].get("issues", 0)') - r0 ))
check "chain: bounded by the page cap ($n issue pages)" test "$n" -le 120

# ---- E: a body that trickles 2 bytes/s ------------------------------------------
h0=$(stat 's["hostile"]')
attack trickle '{"mode": "trickle", "rate": 2}' "deadline" 12
check_contains "trickle: the error says which limit" "3 s" "$OUT"
check_eq "trickle: a deadline is not retried" 1 $(( $(stat 's["hostile"]') - h0 ))

# ---- G: a gzip bomb (256 MiB of spaces in 256 KB) ------------------------------------
attack bomb '{"mode": "bomb", "mib": 256}' "size limit" 30
check_contains "bomb: the error names the limit" "32 MiB" "$OUT"
# Peak memory on the normal build (ASan's quarantine would hide the number).
peak_rss() {  # peak_rss HOSTILE-JSON -- MB of a sync's peak RSS under that mode
    ctl hostile "$1"
    python3 -c 'import resource,subprocess,sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' \
        "${DOPPEL_FAST:-$DOPPEL}" sync "$REPO" --api-url "$URL" --db "$T/h-rss-$RANDOM.db" -q
    ctl clear '{}'
}
rss=$(peak_rss '{"mode": "bomb", "mib": 256}')
echo "# bomb: peak RSS $rss MB"
check "bomb: peak RSS stays under 120 MB ($rss MB)" test "$rss" -lt 120
ctl hostile '{"mode": "bomb", "mib": 8}'
out=$(DOPPEL_SYNC_MAX_PAGE_MB=1 "$DOPPEL" sync "$REPO" --api-url "$URL" --db "$T/h-small.db" -q 2>&1)
check_contains "DOPPEL_SYNC_MAX_PAGE_MB=1 lowers the limit" "1 MiB" "$out"
out=$(DOPPEL_SYNC_MAX_PAGE_MB=16 "$DOPPEL" sync "$REPO" --api-url "$URL" --db "$T/h-big.db" -q 2>&1)
check_contains "DOPPEL_SYNC_MAX_PAGE_MB=16 lets 8 MiB through (then it is not JSON)" "malformed JSON" "$out"
ctl clear '{}'

# ---- G: a page of a million empty objects (3 MB; ~230 MB once parsed) ------------
attack wide '{"mode": "wide"}' "JSON values" 30
rss=$(peak_rss '{"mode": "wide"}')
echo "# wide: peak RSS $rss MB"
check "wide: refused before parsing, peak RSS under 120 MB ($rss MB)" test "$rss" -lt 120

# ---- redirects and links to another host: the token stays home -------------------
attack redirect "{\"mode\": \"redirect\", \"to\": \"$OTHER\"}" "HTTP 302" 10
attack offsite_next "{\"mode\": \"offsite_next\", \"to\": \"$OTHER\"}" "is not under the API URL" 10
check_eq "the other host never got a request" 0 "$(stat "$OTHER" 's["requests"]')"

# ---- I: a server that echoes the Authorization header ------------------------------
attack echo_401 '{"mode": "echo_token", "status": 401}' "Bad credentials: Bearer [REDACTED]" 10
attack echo_500 '{"mode": "echo_token", "status": 500}' "Bad credentials: Bearer [REDACTED]" 10
check_contains "echo_500: retried, then failed" "after 6 tries" "$OUT"
check_eq "echo: the server's terminal escape is not printed" 0 "$(printf '%s' "$OUT" | grep -c $'\x1b')"

# ---- I: credentials in --api-url ----------------------------------------------------
DB=$T/h-userinfo.db
r0=$(stat 's["requests"]')
OUT=$("$DOPPEL" sync "$REPO" --api-url "http://user:pw-S3CRET-2@${URL#http://}" --db "$DB" 2>&1); RC=$?
ALL="$ALL$OUT"
check_eq "userinfo in --api-url: refused as a usage error" 2 "$RC"
check_contains "userinfo in --api-url: says why" "must not contain a user name or password" "$OUT"
check_eq "userinfo in --api-url: the password is not echoed" "" "$(echo "$OUT" | grep -o S3CRET-2)"
check_eq "userinfo in --api-url: nothing stored" "" "$(cat "$T"/h-userinfo.db* 2>/dev/null | grep -ao S3CRET-2 | head -1)"
check_eq "userinfo in --api-url: the server got no request" 0 $(( $(stat 's["requests"]') - r0 ))

# Shapes a first-'@' or unanchored-scheme parser got wrong (fuzz_gh_headers): the
# refusal names the URL, without the secret.
for u in "http://u@x:pw-S3CRET-3@${URL#http://}" "ghe.example.com/api?access_token=pw-S3CRET-3&next=http://x" \
         "https://ghe.example.com/a&b?access_token=pw-S3CRET-3"; do
    OUT=$("$DOPPEL" sync "$REPO" --api-url "$u" --db "$DB" 2>&1); RC=$?
    check_eq "bad --api-url ${u:0:24}...: refused" 2 "$RC"
    check_eq "bad --api-url ${u:0:24}...: the secret is not echoed ($OUT)" "" "$(echo "$OUT" | grep -o S3CRET-3)"
done

# ---- --timeline: marked_as_duplicate events with numbers no item can have ----------
# (fuzz_gh_pages): no link from or to a number <= 0; the honest event still counts.
DB=$T/h-timeline.db
ctl timeline '{"number": 10, "events": [
  {"event": "marked_as_duplicate", "duplicate": {"number": -5}, "canonical": {"number": 7}},
  {"event": "marked_as_duplicate", "canonical": {"number": -3}},
  {"event": "marked_as_duplicate", "duplicate": {"number": 0}, "canonical": {"number": 4}},
  {"event": "marked_as_duplicate", "canonical": {"issue": {"number": -1}}}]}'
"$DOPPEL" sync "$REPO" --api-url "$URL" --db "$DB" --timeline -q >/dev/null 2>&1
# timeline links of an item (show --json): those of 10 and of the two it names
tl() { item_q "$DB" "$1" '" ".join(sorted(l["from"] + ">" + l["to"] for l in I["links"] if l["source"] == "timeline"))'; }
check_eq "timeline: no link with a number <= 0; 10 -> 4 (a duplicate number 0 is the item itself) and the honest 10 -> 7" \
    "10>4 10>7|10>7|10>4" "$(tl 10)|$(tl 7)|$(tl 4)"

# ---- J: a token on the command line shows in `ps` ----------------------------------
out=$("$DOPPEL" serve --db "$T/nonexistent.db" --port 0 --token tok-1234567890abcdef 2>&1)
check_contains "serve --token warns that the command line is visible" "prefer DOPPEL_TOKEN" "$out"
check_contains "sync --help: the token comes from the environment" "there is no
--token option" "$("$DOPPEL" sync --help)"

# ---- E: the first SIGTERM / SIGINT ends a trickling transfer -----------------------
# sigstop SIG -- page 1 stored, page 2 trickling; one signal; exit within 2.5 s.
sigstop() {
    local sig=$1 DB=$T/h-sig$1.db
    ctl hostile '{"mode": "trickle", "rate": 2}'
    local h0; h0=$(stat 's["hostile"]')
    DOPPEL_SYNC_DEADLINE_S=600 "$DOPPEL" sync "$REPO" --api-url "$URL" --db "$DB" -q 2>"$T/sig.err" &
    local pid=$!
    for _ in $(seq 200); do
        [ "$(stat 's["hostile"]')" -gt "$h0" ] && break
        sleep 0.05
    done
    sleep 0.5
    local t0; t0=$(now)
    kill -"$sig" "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.05; waited=$((waited + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    wait "$pid"; local rc=$?
    local dt; dt=$(secs "$t0" "$(now)")
    ctl clear '{}'
    local err; err=$(cat "$T/sig.err")
    ALL="$ALL$err"
    echo "# abort SIG$sig during trickle: $dt s"
    check "SIG$sig: the first signal ends the sync within 2.5 s (took $dt s)" lt "$dt" 2.5
    check_eq "SIG$sig: exit status 1" 1 "$rc"
    check_contains "SIG$sig: says interrupted and how to resume" "run the same command again" "$err"
    check_contains "SIG$sig: names the signal" "SIG$sig" "$err"
    check_eq "SIG$sig: the page before is stored" 100 "$(stats_q "$DB" 'sum(r["items"] for r in S)')"
    "$DOPPEL" sync "$REPO" --api-url "$URL" --db "$DB" -q >/dev/null 2>&1
    check_eq "SIG$sig: the next run completes the store" same "$(same "$DB")"
}
sigstop TERM
sigstop INT

# ---- no secret anywhere ----------------------------------------------------------------
check "the token was sent (so the leak checks mean something)" test "$(stat 's["auth"]')" -gt 0
check_eq "the token never appears in any output" "" "$(echo "$ALL" | grep -o "h0stileT3st" | head -1)"
check_eq "the token never appears in the store files" "" "$(cat "$T"/*.db* | grep -ao "h0stileT3st" | head -1)"

echo "1..$_n"
