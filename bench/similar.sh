#!/usr/bin/env bash
# similar.sh -- latency of GET /api/similar (the pre-filing lookup of
# `doppel serve`) on a repository of 48k items.
#
#   bench/similar.sh [DOPPEL] [N] [DB]     (default build/doppel, 200 requests,
#                                          a fresh store in a scratch directory)
#
# The store: all of apache-jira and huggingface/datasets in ONE repository
# (47,962 items: bench/analyze.sh's "big"), imported and analysed once (the
# analysis leaves the index snapshot a server's first load starts from).
# DB=PATH (third argument) reuses such a store. The server runs with a rate
# limit high enough for one client to measure it. Prints:
#   cold   the first request: the server loads the corpus (items, model, index)
#   warm   N requests one after another, each a different new issue (the
#          title and the first 600 bytes of the body of N items spread over
#          the store, sent as an issue form would): p50, p90, p99, max, in ms,
#          measured by the client (python, one connection per request)
#   rss    the server's resident memory after them
#   agree  for the first 10 of those issues, whether the best candidate is
#          the one `doppel similar --title --body` (the same outside query,
#          from the shell) puts first
# KEEP=1 keeps the scratch directory.
set -eu
cd "$(dirname "$0")/.."
DOPPEL=$(readlink -f "${1:-build/doppel}")
N=${2:-200}
DATA=$(cd .. && pwd)/shared/data
T=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    [ -n "${KEEP:-}" ] && echo "scratch directory: $T" || rm -rf "$T"
}
trap cleanup EXIT
if [ -n "${3:-}" ]; then
    DB=$(readlink -f "$3")
else
    if [ ! -d "$DATA/apache-jira" ]; then
        echo "skip: $DATA not found (the shared datasets live beside the checkout)"
        exit 0
    fi
    DB=$T/big.db
    t0=$(date +%s.%N)
    "$DOPPEL" import --db "$DB" --repo big "$DATA"/apache-jira/*.jsonl.gz "$DATA/github-hf-datasets/issues.jsonl.gz" >/dev/null
    "$DOPPEL" analyze --db "$DB" >/dev/null
    echo "setup: $(sqlite3 "$DB" 'select count(*) from items') items imported and analysed in" \
        "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
fi
REPO=$(sqlite3 "$DB" "select id from repositories order by (select count(*) from items i where i.repo_id = repositories.id) desc limit 1")
NAME=$(sqlite3 "$DB" "select name from repositories where id = $REPO")

"$DOPPEL" serve --db "$DB" --port 0 --similar-rate 1000000 >"$T/serve.out" 2>"$T/serve.err" &
pid=$!
for _ in $(seq 100); do [ -s "$T/serve.out" ] && break; sleep 0.1; done
URL=$(head -1 "$T/serve.out")

# The queries: N items spread over the store, as new issues.
sqlite3 -json "$DB" "select title, substr(coalesce(body, ''), 1, 600) as body from items
                     where repo_id = $REPO and deleted = 0 and length(title) > 10
                     order by (id * 7919) % 10007 limit $N" >"$T/queries.json"

python3 - "$URL" "$NAME" "$T/queries.json" "$pid" "$DOPPEL" "$DB" <<'EOF'
import json, subprocess, sys, time, urllib.parse, urllib.request
url, repo, qfile, pid, doppel, db = sys.argv[1:7]
qs = json.load(open(qfile))

def ask(q):
    p = urllib.parse.urlencode({"title": q["title"], "body": q["body"], "repo": repo, "k": 5})
    t = time.perf_counter()
    with urllib.request.urlopen(url + "api/similar?" + p) as r:
        body = json.load(r)
    return (time.perf_counter() - t) * 1000, body

cold, _ = ask({"title": "warm-up: the corpus loads now", "body": ""})
ms, first = [], []
for q in qs:
    m, b = ask(q)
    ms.append(m)
    first.append(b["candidates"][0]["candidate"] if b["candidates"] else None)
ms.sort()
pct = lambda p: ms[min(len(ms) - 1, int(p / 100 * len(ms)))]
rss = int([l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0].split()[1]) // 1024
print("cold: first request (corpus load) %.0f ms" % cold)
print("warm: %d requests, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (len(ms), pct(50), pct(90), pct(99), ms[-1]))
print("rss: server %d MB" % rss)
agree = 0
for q, f in list(zip(qs, first))[:10]:
    out = subprocess.run([doppel, "similar", "--db", db, "--repo", repo, "--title", q["title"],
                          "--body", q["body"], "-k", "5", "--json"], capture_output=True, text=True, check=True)
    c = json.loads(out.stdout)["candidates"]
    agree += bool(c) and c[0]["candidate"] == f
print("agree: best candidate the same as `doppel similar --title --body` in %d of 10" % agree)
EOF
