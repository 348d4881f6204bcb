#!/usr/bin/env bash
# triage.sh -- how long `doppel triage` takes to answer one new issue in a
# repository of 48k items, against the local fake GitHub API.
#
#   bench/triage.sh [DOPPEL] [RUNS]        (default build/doppel, 5 runs)
#
# The repository: all of apache-jira and huggingface/datasets from
# ../shared/data in one GitHub-shaped repository (bench/gh_shape.py; 47,962
# items once RUNS duplicate reports are held out). It is synced into a fresh
# store and analysed once, as the GitHub Action's `sync --analyze` leaves it.
# Each run then files one held-out report as a new issue (each duplicates an
# earlier report) and times what the Action does next:
#   sync     `doppel sync` bringing the new issue in (incremental)
#   comment  from the start of `doppel triage N --yes` to the comment's
#            arrival at the server
#   triage   the whole `doppel triage` (comment and label; writes paced
#            one second apart as for GitHub)
# Triage runs with --related --min-confidence low so that every run posts a
# comment to time (with the default, only duplicates at high confidence are
# listed, and an issue without one gets no comment; the work until the
# comment is the same either way). Prints each run, the medians, and in how
# many comments the held-out report's real twin is listed.
# KEEP=1 keeps the scratch directory (store, fake data, outputs).
set -eu
cd "$(dirname "$0")/.."
DOPPEL=$(readlink -f "${1:-build/doppel}")
RUNS=${2:-5}
DATA=$(cd .. && pwd)/shared/data
if [ ! -d "$DATA/apache-jira" ]; then
    echo "skip: $DATA not found (the shared datasets live beside the checkout)"
    exit 0
fi
T=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "scratch directory: $T"
TOKEN=ghp_benchTriageT0ken0000000000000000000000
python3 bench/gh_shape.py "$DATA" "$T/big.jsonl.gz" "$T/held.jsonl" "$RUNS"
python3 tests/sync/fake_github.py --port-file "$T/port" --jsonl "$T/big.jsonl.gz" --repo bench/big \
    --token "$TOKEN" --anon-limit 1000000 --limit 1000000 --realtime 2>"$T/fake.log" &
fake=$!
trap 'kill $fake 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.2; done
URL=http://127.0.0.1:$(cat "$T/port")
export GITHUB_TOKEN=$TOKEN DOPPEL_DB=$T/big.db
unset DOPPEL_WRITE_GAP_MS

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

t0=$(now); "$DOPPEL" sync bench/big --api-url "$URL" -q; t1=$(now)
"$DOPPEL" analyze >/dev/null; t2=$(now)
echo "setup: sync of $(sqlite3 "$DOPPEL_DB" 'select count(*) from items') items $(secs "$t0" "$t1") s," \
    "analyze $(secs "$t1" "$t2") s"

syncs="" comments="" triages="" found=0
for i in $(seq "$RUNS"); do
    line=$(sed -n "${i}p" "$T/held.jsonl")
    twin=$(jq -r .duplicate_of <<<"$line")
    n=$(jq -c '{title, body}' <<<"$line" | curl -sf --data-binary @- "$URL/_control/create" | jq .number)
    t0=$(now); "$DOPPEL" sync bench/big --api-url "$URL" -q; t1=$(now)
    /usr/bin/time -f '%M' -o "$T/rss" "$DOPPEL" triage "$n" --yes --api-url "$URL" \
        --related --min-confidence low >"$T/triage.$i.out"; t2=$(now)
    at=$(curl -sf "$URL/_writes" | jq --arg p "/issues/$n/comments" '[.[] | select(.path | endswith($p))][0].at')
    s=$(secs "$t0" "$t1"); c=$(secs "$t1" "$at"); r=$(secs "$t1" "$t2")
    body=$(curl -sf "$URL/_dump" | jq -r --argjson n "$n" '[.comments[] | select(.issue == $n)][0].body // ""')
    hit=no
    case "$body" in *"#$twin ("*) hit=yes; found=$((found + 1)) ;; esac
    echo "run $i: issue #$n ($(jq -r .key <<<"$line"), twin #$twin): sync $s s, comment posted after $c s," \
        "triage $r s, peak RSS $(($(cat "$T/rss") / 1024)) MB, twin listed: $hit"
    syncs="$syncs $s"; comments="$comments $c"; triages="$triages $r"
done
echo "median of $RUNS: sync $(echo $syncs | tr ' ' '\n' | median) s, comment posted after" \
    "$(echo $comments | tr ' ' '\n' | median) s, triage $(echo $triages | tr ' ' '\n' | median) s;" \
    "twin listed in $found of $RUNS comments"
