#!/usr/bin/env bash
# sync.sh -- speed of `doppel sync` against the local fake GitHub API.
#
#   bench/sync.sh [DOPPEL] [ISSUES]          generated data (default 5000)
#   JSONL=../shared/data/github-hf-datasets/issues.jsonl.gz bench/sync.sh
#                                                       the 7,258 real REST objects
# Prints the full-sync rate (issues+comments per second, wall and CPU) and
# what a no-change incremental sync costs in requests.
set -eu
cd "$(dirname "$0")/.."
DOPPEL=${1:-build/doppel}
N=${2:-5000}
T=$(mktemp -d)
REPO=acme/widgets
args=(--issues "$N")
if [ -n "${JSONL:-}" ]; then REPO=huggingface/datasets; args=(--jsonl "$JSONL" --repo "$REPO"); fi
python3 tests/sync/fake_github.py --port-file "$T/port" --anon-limit 1000000 "${args[@]}" &
fake=$!
trap 'kill $fake 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 300); do [ -s "$T/port" ] && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat "$T/port")
stats() { python3 -c 'import sys,json,urllib.request as u; s=json.load(u.urlopen(sys.argv[1]+"/_stats")); print(s["requests"], s["not_modified"])' "$URL"; }

run() { /usr/bin/time -f "%e %U %S" "$DOPPEL" sync "$REPO" --api-url "$URL" --db "$T/db" -q 2>&1 | tail -1; }
read -r wall user sys < <(run)
items=$(python3 tests/sync/check_db.py "$T/db" - "$REPO" "select count(*) from items")
comments=$(python3 tests/sync/check_db.py "$T/db" - "$REPO" "select count(*) from comments")
python3 - "$items" "$comments" "$wall" "$user" "$sys" <<'EOF'
import sys
i, c, w, u, s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print("full sync: %d items + %d comments in %.2f s wall (%.0f objects/s); doppel CPU %.2f s (%.0f objects/CPU-s)"
      % (i, c, w, (i + c) / w, u + s, (i + c) / max(u + s, 1e-3)))
EOF
run >/dev/null          # first incremental: settles the since= URLs
read -r r0 n0 < <(stats)
run >/dev/null
read -r r1 n1 < <(stats)
echo "no-change incremental sync: $((r1 - r0)) requests, $((n1 - n0)) answered 304 (free of rate limit)"
