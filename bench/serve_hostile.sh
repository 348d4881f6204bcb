#!/usr/bin/env bash
# serve_hostile.sh -- what a normal client of `doppel serve` sees while hostile
# clients attack it (issue 11), and what the page's files weigh on the wire.
#
#   bench/serve_hostile.sh [N]          (default N = 200 requests per probe)
#
# Builds doppel and the browser-test store (tests/browser/fixture), starts
# `doppel serve` on a free loopback port and, for each scenario, starts the
# attacker (tests/cli/serve_attack.py), waits 3 s for it to settle, then sends
# N requests for /api/pairs (for the server with a token: /) one after
# another, each on a new connection, and prints their latency (p50, p99, max,
# failures):
#   none           no attack
#   slowloris-520  the report's attack: 520 connections, one header line every 10 s
#   slowloris-600  600 connections (more than the 512 places), a line every second
#   idle-600       600 connections that send nothing
#   remote-600     600 slowloris connections from this machine's non-loopback
#                  address to a server bound to 0.0.0.0 with a token (skipped
#                  without such an address)
# Then the size of each embedded file, plain and gzip'd as served.
# Environment: BUILD (default build/bench).
set -eu
cd "$(dirname "$0")/.."
N=${1:-200}
BUILD=${BUILD:-build/bench}
ATTACK=(python3 tests/cli/serve_attack.py)

make -s -j2 BUILD="$BUILD" "$BUILD/doppel" "$BUILD/tests/browser/fixture"
work=$(mktemp -d /tmp/doppel-serve-hostile-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
"$BUILD/tests/browser/fixture" "$work/s.db" >/dev/null

serve() {   # serve NAME ARGS... -- sets PORT
    local name=$1; shift
    "$BUILD/doppel" serve --db "$work/s.db" --port 0 "$@" >"$work/$name.url" 2>/dev/null &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$work/$name.url" ] && break; sleep 0.05; done
    PORT=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$work/$name.url")
}

# scenario NAME PATH ATTACK-ARGS... (none: no attack)
scenario() {
    local name=$1 path=$2; shift 2
    local apid=
    if [ "$1" != none ]; then
        "${ATTACK[@]}" "$@" >"$work/attack.txt" &
        apid=$!
        sleep 3
    fi
    local r
    r=$("${ATTACK[@]}" probe 127.0.0.1 "$PORT" "$path" "$N" 10)
    if [ -n "$apid" ]; then kill "$apid" 2>/dev/null || true; wait "$apid" 2>/dev/null || true; fi
    printf '%-15s %s\n' "$name" "$r"
}

serve local
secs=$((N / 50 + 20))   # longer than the probe takes
echo "normal client, $N requests for /api/pairs (/ with a token), latency in ms:"
scenario none /api/pairs none
scenario slowloris-520 /api/pairs slowloris 127.0.0.1 "$PORT" 520 10 "$secs"
scenario slowloris-600 /api/pairs slowloris 127.0.0.1 "$PORT" 600 1 "$secs"
scenario idle-600 /api/pairs idle 127.0.0.1 "$PORT" 600 "$secs"
ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -1 || true)
if [ -n "$ip" ]; then
    serve open --bind 0.0.0.0 --token bench-token-1
    scenario remote-600 / slowloris "$ip" "$PORT" 600 1 "$secs"
else
    echo "remote-600      skipped: no non-loopback address"
fi

echo
echo "embedded files on the wire (bytes):"
serve files
for f in index.html app.js app.css favicon.svg; do
    plain=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT/static/$f")
    gz=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/static/$f")
    printf '%-12s %7s plain %7s gzip\n' "$f" "$plain" "$gz"
done
