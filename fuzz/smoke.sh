#!/usr/bin/env bash
# smoke.sh -- the fuzz smoke test (make fuzz-smoke; make test runs
# it): builds the fuzz targets (make fuzz), then runs each one over its seed
# corpus plus a fixed number of mutated inputs, with a fixed seed. Speaks
# TAP: one "ok"/"not ok" per target (and one for the build). A target that
# crashes, leaks, breaks a check or spends more than 10 s on one input fails
# (slow inputs that once were quadratic are in the seeds); the input is kept
# in BUILD/artifacts/. No clang fuzzer runtime is a failure, not a skip.
#
# Runs per target are sized for ~10 s each on one idle core; FUZZ_SMOKE_SCALE
# (a factor, default 1) scales them all.
set -u
cd "$(dirname "$0")/.."
B=build/fuzz   # where make fuzz builds
SCALE=${FUZZ_SMOKE_SCALE:-1}

# target and runs (measured execs/s under ASan+UBSan: split 5k, import 1k, pick 4k,
# links 4k, text 250, markdown 1.6k, gh_headers 23k, gh_pages 5k,
# snapshot 25, api 500)
RUNS="fuzz_split 20000
fuzz_import 8000
fuzz_pick 40000
fuzz_links 50000
fuzz_text 4000
fuzz_markdown 12000
fuzz_gh_headers 200000
fuzz_gh_pages 60000
fuzz_snapshot 200
fuzz_api 6000"

n=$(echo "$RUNS" | wc -l)
echo "1..$((n + 1))"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
if ! make -s -j2 fuzz >"$log/build.txt" 2>&1; then
    echo "not ok 1 - build the fuzz targets (make fuzz)"
    sed 's/^/# /' "$log/build.txt" | tail -40
    i=1
    for t in $(echo "$RUNS" | cut -d' ' -f1); do i=$((i + 1)); echo "not ok $i - $t: not built"; done
    exit 1
fi
echo "ok 1 - build the fuzz targets (make fuzz)"

i=1
rc_all=0
mkdir -p "$B/artifacts"
while read -r t runs; do
    i=$((i + 1))
    runs=$(awk -v r="$runs" -v s="$SCALE" 'BEGIN { printf "%d", r * s }')
    work="$log/$t"
    mkdir -p "$work"
    start=$(date +%s)
    # Inputs that once were slow or crashed, run once each (not seeds: large).
    rc=0
    if [ -d "$B/regress/$t" ]; then
        "$B/$t" -timeout=10 -artifact_prefix="$B/artifacts/$t-" "$B/regress/$t"/* >"$log/$t.txt" 2>&1
        rc=$?
    fi
    # New inputs go to the scratch dir first: the seed corpus stays as made.
    [ "$rc" -eq 0 ] && "$B/$t" -runs="$runs" -seed=1 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$B/artifacts/$t-" "$work" "$B/corpus/$t" >>"$log/$t.txt" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    stats=$(grep -a -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log/$t.txt" | tail -1 | grep -a -oE 'cov: [0-9]+ ft: [0-9]+')
    if [ "$rc" -eq 0 ]; then
        echo "ok $i - $t: $runs runs in ${secs}s, $stats"
    else
        rc_all=1
        echo "not ok $i - $t: exit status $rc after ${secs}s"
        grep -a -E 'fuzz:|ERROR|SUMMARY|Test unit written|^ +#[0-9]+ 0x' "$log/$t.txt" | head -30 | sed 's/^/# /'
    fi
done <<<"$RUNS"
exit $rc_all
