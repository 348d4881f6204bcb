#!/usr/bin/env bash
# run.sh -- the whole test suite: `make test` runs this.
#
# 1. builds the normal binary, the benchmark drivers (make bench-build: so
#    they cannot rot unnoticed) and the ASan+UBSan build;
# 2. unit tests (tests/unit/<module>/test_*.c, cmocka) under the sanitizers;
# 3. CLI tests (tests/cli/test_*.sh) against the sanitizer binary;
# 4. browser and API tests (tests/browser/*.test.mjs, node:test driving
#    Debian's chromium through playwright-core; axe-core for accessibility)
#    against the normal binary;
# 5. the fuzz smoke test (fuzz/smoke.sh: every libFuzzer target for a fixed
#    number of runs; needs clang's fuzzer runtime, which CI installs).
# Every test program speaks TAP ("ok N - name" / "not ok N - name"); this
# script adds them up and ends with the line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
pass=0
fail=0
failed_names=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# Runs one test program, echoes its output, counts its TAP lines.
run_tap() {
    local name=$1; shift
    local out="$log/out.txt"
    "$@" >"$out" 2>&1
    local rc=$?
    local p f
    # A "# SKIP" directive marks a test skipped whatever precedes it
    # (cmocka's skip() prints "not ok N # SKIP reason"): neither passed
    # nor failed, and shown under the program's line.
    local s
    p=$(grep -E '^[[:space:]]*ok [0-9]+' "$out" | grep -cvE '#[[:space:]]*SKIP')
    f=$(grep -E '^[[:space:]]*not ok [0-9]+' "$out" | grep -cvE '#[[:space:]]*SKIP')
    s=$(grep -E '^[[:space:]]*(not )?ok [0-9]+' "$out" | grep -cE '#[[:space:]]*SKIP')
    # The browser tests print flat TAP through tests/browser/tap.mjs (not
    # node:test's nested reporter), so every counted line is one test.
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited with status $rc" >>"$out"; fi
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$f" -gt 0 ]; then
        failed_names+=("$name")
        echo "---- $name: $p passed, $f failed"
        cat "$out"
    elif [ "$s" -gt 0 ]; then
        echo "---- $name: $p passed, $s skipped"
        grep -E '#[[:space:]]*SKIP' "$out"
    else
        echo "---- $name: $p passed"
    fi
}

echo "== build"
if ! make -s -j2 all bench-build >"$log/build.txt" 2>&1 || ! make -s -j2 SAN=1 all unit >>"$log/build.txt" 2>&1; then
    cat "$log/build.txt"
    echo "0 passed, 1 failed"
    exit 1
fi

echo "== unit tests (ASan+UBSan)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in build/asan/tests/unit/*/test_*; do
    [ -x "$t" ] || continue
    run_tap "${t#build/asan/tests/unit/}" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done

echo "== CLI tests"
for t in tests/cli/test_*.sh; do
    [ -f "$t" ] || continue
    run_tap "$(basename "$t")" env DOPPEL="$ROOT/build/asan/doppel" DOPPEL_FAST="$ROOT/build/doppel" \
        ROOT="$ROOT" bash "$t"
done

echo "== browser and API tests"
if ls tests/browser/*.test.mjs >/dev/null 2>&1; then
    if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
        (cd tests/browser && npm ci --silent --no-audit --no-fund) >"$log/npm.txt" 2>&1 || cat "$log/npm.txt"
    fi
    for t in tests/browser/*.test.mjs; do
        run_tap "$(basename "$t")" env DOPPEL="$ROOT/build/doppel" ROOT="$ROOT" \
            node "$t"
    done
fi

echo "== fuzz smoke (libFuzzer)"
run_tap "fuzz/smoke.sh" bash fuzz/smoke.sh

if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
