#!/usr/bin/env bash
# pairs_api.sh -- speed of the review page's pair API (`doppel serve`) on a
# synthetic store, and of the store paths behind it.
#
#   bench/pairs_api.sh [api|store|all] [NPAIRS]      (default: api 100000)
#
#   api    builds doppel and the browser-test fixture, writes a store of
#          NPAIRS synthetic pairs (+7 hand-made ones), starts `doppel serve`
#          on a free loopback port and loads each endpoint with
#          `wrk -c $CONNS -t 2 -d ${SECS}s --latency`; prints req/s, p50,
#          p99 and the server's CPU time per request (on a busy machine the
#          CPU time is what to compare). Skipped, with a message, without wrk.
#   store  builds and runs bench/store_pairs.c: medians of every pair query
#          and neighbour lookup, for one repository and for all.
#
# Environment: BUILD (default build/bench), CONNS (32), SECS (10).
set -eu
cd "$(dirname "$0")/.."
what=${1:-api}
N=${2:-100000}
BUILD=${BUILD:-build/bench}
CONNS=${CONNS:-32}
SECS=${SECS:-10}
case $what in api|store|all) ;; *) echo "usage: $0 [api|store|all] [NPAIRS]" >&2; exit 2 ;; esac

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

if [ "$what" != store ]; then
    if ! command -v wrk >/dev/null; then
        echo "pairs_api: wrk not found (apt-get install wrk); skipping the HTTP benchmark"
    else
        db="$work/pairs.db"
        "$BUILD/tests/browser/fixture" "$db" --pairs "$N"
        "$BUILD/doppel" serve --db "$db" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
        pid=$!
        for _ in $(seq 100); do grep -q '^http://' "$work/serve.out" && break; sleep 0.1; done
        url=$(sed -n 's|^\(http://[^/]*\)/$|\1|p' "$work/serve.out" | head -1)
        [ -n "$url" ] || { cat "$work/serve.err"; exit 1; }
        mid=$((N / 2))
        echo "== HTTP: $N+7 pairs, wrk -c $CONNS -t 2 -d ${SECS}s --latency, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
        load "pair" "/api/pairs/$mid"
        load "pair, filtered" "/api/pairs/$mid?relation=duplicate&qstate=open&reviewed=0"
        load "list page (limit 100)" "/api/pairs?limit=100"
        load "list page, filtered" "/api/pairs?relation=duplicate&qstate=open&reviewed=0&limit=100"
        load "list page 50 (offset 5000)" "/api/pairs?offset=5000&limit=100"
        kill "$pid"
        wait "$pid" || true
        pid=
    fi
fi

if [ "$what" != api ]; then
    # The store benchmark links the store and common objects of $BUILD.
    mkdir -p "$BUILD/bench"
    cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$BUILD/bench/store_pairs" bench/store_pairs.c \
        $(ls "$BUILD"/store/[!.]*.o "$BUILD"/common/[!.]*.o) $(pkg-config --libs sqlite3 jansson zlib libutf8proc) -lm
    echo "== store: bench/store_pairs.c, $N pairs"
    "$BUILD/bench/store_pairs" "$N"
fi
