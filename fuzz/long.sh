#!/usr/bin/env bash
# long.sh [SECONDS] [TARGET...] -- long fuzzing runs (the smoke test's big
# brother): builds the targets (make fuzz), then runs each TARGET (default:
# all, e.g. fuzz_split) for SECONDS (default 600) under nice, two at a time
# (FUZZ_JOBS), growing build/fuzz/longrun/<target>/ from the seed corpus (kept
# between runs, so a second run starts where the first stopped). Prints one
# line per target: executions, coverage (cov = edges, ft = features) and
# crashes; crashing inputs go to build/fuzz/artifacts/.
set -u
cd "$(dirname "$0")/.."
SECS=${1:-600}
[ $# -gt 0 ] && shift
B=build/fuzz
JOBS=${FUZZ_JOBS:-2}
make -s -j2 fuzz || exit 1
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(cd fuzz && ls fuzz_*.c | sed 's/\.c$//'))
mkdir -p "$B/longrun" "$B/artifacts"

run_one() {
    local t=$1
    mkdir -p "$B/longrun/$t"
    nice "$B/$t" -max_total_time="$SECS" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$B/artifacts/$t-" "$B/longrun/$t" "$B/corpus/$t" >"$B/longrun/$t.log" 2>&1
    local rc=$?
    local execs cov
    execs=$(grep -a -oE 'stat::number_of_executed_units: [0-9]+' "$B/longrun/$t.log" | grep -oE '[0-9]+$')
    cov=$(grep -a -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$B/longrun/$t.log" | tail -1 |
          grep -a -oE 'cov: [0-9]+ ft: [0-9]+')
    if [ "$rc" -eq 0 ]; then
        echo "$t: ${execs:-?} executions in ${SECS}s, $cov, no crash"
    else
        echo "$t: CRASH (exit $rc) after ${execs:-?} executions, $cov; see $B/longrun/$t.log"
        grep -a -E 'fuzz:|SUMMARY|Test unit written' "$B/longrun/$t.log" | head -5 | sed 's/^/    /'
    fi
}

for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    run_one "$t" &
done
wait
