#!/usr/bin/env bash
# pairs_api.sh -- speed of the review page's pair API (`doppel serve`) on a
# synthetic store, and of the store paths behind it.
#
#   bench/pairs_api.sh [api|store|heavy|all] [NPAIRS]      (default: api 100000)
#
#   api    builds doppel and the browser-test fixture, writes a store of
#          NPAIRS synthetic pairs (+7 hand-made ones), starts `doppel serve`
#          on a free loopback port and loads each endpoint with
#          `wrk -c $CONNS -t 2 -d ${SECS}s --latency`; prints req/s, p50,
#          p99 and the server's CPU time per request (on a busy machine the
#          CPU time is what to compare). Skipped, with a message, without wrk.
#   store  builds and runs bench/store_pairs.c: medians of every pair query
#          and neighbour lookup, for one repository and for all.
#   heavy  a pair whose items carry many comments (HADOOP-12473 <-> HADOOP-12469:
#          44 comments, ~77 KB of JSON) against a small one, on a store of
#          ../shared/data/apache-jira/hadoop.jsonl.gz (imported and analyzed
#          here, or HEAVY_DB=PATH to reuse one): the render cache's case.
#          Skipped, with a message, without the data set or wrk.
#
# Environment: BUILD (default build/bench), CONNS (32), SECS (10), HEAVY_DB.
set -eu
cd "$(dirname "$0")/.."
what=${1:-api}
N=${2:-100000}
BUILD=${BUILD:-build/bench}
CONNS=${CONNS:-32}
SECS=${SECS:-10}
case $what in api|store|heavy|all) ;; *) echo "usage: $0 [api|store|heavy|all] [NPAIRS]" >&2; exit 2 ;; esac

make -s -j2 BUILD="$BUILD" "$BUILD/doppel" "$BUILD/tests/browser/fixture"

work=$(mktemp -d /tmp/doppel-pairs-api-XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# wrk prints latencies as 812.00us, 5.93ms or 1.17s: convert to ms.
to_ms() {
    awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) }
           else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'
}

# Size of one response body, in bytes.
wrk_body_size() { python3 -c 'import sys, urllib.request; print(len(urllib.request.urlopen(sys.argv[1]).read()))' "$url$1"; }

# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

load() {
    local name=$1 path=$2 out="$work/wrk.txt"
    local t0 t1
    t0=$(cpu_ticks "$pid")
    wrk -c "$CONNS" -t 2 -d "${SECS}s" --latency "$url$path" >"$out"
    t1=$(cpu_ticks "$pid")
    local rps p50 p99 nreq bad cpu
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out" | to_ms)
    p99=$(awk '$1 == "99%" { print $2 }' "$out" | to_ms)
    nreq=$(awk '/requests in/ { print $1 }' "$out")
    bad=$(awk '/Non-2xx/ { print $NF }' "$out")
    cpu=$(awk -v t="$((t1 - t0))" -v n="$nreq" -v hz="$(getconf CLK_TCK)" \
          'BEGIN { printf "%.3f", n ? t * 1000 / hz / n : 0 }')
    printf '%-34s %8s req/s  p50 %8s ms  p99 %8s ms  server cpu %s ms/req%s\n' "$name" "$rps" "$p50" "$p99" \
        "$cpu" "${bad:+  NON-2XX: $bad}"
}

# Starts `doppel serve` on $1 in the background: sets pid and url.
start_server() {
    "$BUILD/doppel" serve --db "$1" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
    pid=$!
    for _ in $(seq 100); do grep -q '^http://' "$work/serve.out" && break; sleep 0.1; done
    url=$(sed -n 's|^\(http://[^/]*\)/$|\1|p' "$work/serve.out" | head -1)
    [ -n "$url" ] || { cat "$work/serve.err"; exit 1; }
}

stop_server() {
    kill "$pid"
    wait "$pid" || true
    pid=
}

if [ "$what" = heavy ] || [ "$what" = all ]; then
    data=../shared/data/apache-jira/hadoop.jsonl.gz
    db=${HEAVY_DB:-}
    if ! command -v wrk >/dev/null; then
        echo "pairs_api: wrk not found (apt-get install wrk); skipping the heavy-pair benchmark"
    elif [ -z "$db" ] && [ ! -f "$data" ]; then
        echo "pairs_api: $data not found; skipping the heavy-pair benchmark"
    else
        if [ -z "$db" ]; then
            db="$work/hadoop.db"
            "$BUILD/doppel" import --db "$db" "$data" >/dev/null
            "$BUILD/doppel" analyze --all --db "$db" >/dev/null
        fi
        # The pair and, for contrast, the lowest-value pair (a typical small one).
        ids=$("$BUILD/doppel" pairs --db "$db" --known --limit 0 --json | python3 -c '
import json, sys
ps = json.load(sys.stdin)["pairs"]
heavy = [p["id"] for p in ps if {p["query"], p["candidate"]} == {"HADOOP-12473", "HADOOP-12469"}]
print(heavy[0] if heavy else "", ps[-1]["id"])')
        read -r heavy small <<<"$ids"
        [ -n "$heavy" ] || { echo "pairs_api: no pair HADOOP-12473 <-> HADOOP-12469 in $db"; exit 1; }
        start_server "$db"
        bytes=$(wrk_body_size "/api/pairs/$heavy")
        echo "== HTTP: heavy pair $heavy ($bytes bytes of JSON) vs the lowest-value pair $small;" \
             "wrk -c $CONNS -t 2 -d ${SECS}s --latency, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
        load "heavy pair (44 comments)" "/api/pairs/$heavy"
        load "lowest-value pair" "/api/pairs/$small"
        stop_server
    fi
fi

if [ "$what" = api ] || [ "$what" = all ]; then
    if ! command -v wrk >/dev/null; then
        echo "pairs_api: wrk not found (apt-get install wrk); skipping the HTTP benchmark"
    else
        db="$work/pairs.db"
        "$BUILD/tests/browser/fixture" "$db" --pairs "$N"
        start_server "$db"
        mid=$((N / 2))
        echo "== HTTP: $N+7 pairs, wrk -c $CONNS -t 2 -d ${SECS}s --latency, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
        load "pair" "/api/pairs/$mid"
        load "pair, filtered" "/api/pairs/$mid?relation=duplicate&qstate=open&reviewed=0"
        load "list page (limit 100)" "/api/pairs?limit=100"
        load "list page, filtered" "/api/pairs?relation=duplicate&qstate=open&reviewed=0&limit=100"
        load "list page 50 (offset 5000)" "/api/pairs?offset=5000&limit=100"
        stop_server
    fi
fi

if [ "$what" = store ] || [ "$what" = all ]; then
    # The store benchmark links the store and common objects (make bench-build).
    make -s -j2 BUILD="$BUILD" "$BUILD/bench/store_pairs"
    echo "== store: bench/store_pairs.c, $N pairs"
    "$BUILD/bench/store_pairs" "$N"
fi
