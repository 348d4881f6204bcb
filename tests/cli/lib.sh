# lib.sh -- sourced by tests/cli/test_*.sh. Gives TAP helpers, a scratch
# directory $T and PIDS: background processes a test starts (PIDS+=($!))
# are stopped when it exits. $DOPPEL is the binary under test, $ROOT the
# repository root.
set -u
: "${ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${DOPPEL:=$ROOT/build/doppel}"
FIX=$ROOT/tests/fixtures
T=$(mktemp -d)
PIDS=()
_lib_exit() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap _lib_exit EXIT
_n=0

ok()     { _n=$((_n + 1)); echo "ok $_n - $1"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $1"; [ $# -gt 1 ] && echo "#   $2"; }

# check "description" command...   -- passes when the command exits 0
check() {
    local d=$1; shift
    local out
    if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "$(echo "$out" | tail -5)"; fi
}
# check_fails "description" command...   -- passes when the command exits non-zero
check_fails() {
    local d=$1; shift
    if "$@" >/dev/null 2>&1; then not_ok "$d" "expected failure"; else ok "$d"; fi
}
# check_eq "description" expected actual
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2] got [$3]"; fi
}
# check_contains "description" needle haystack
check_contains() {
    case "$3" in *"$2"*) ok "$1" ;; *) not_ok "$1" "missing [$2] in: $(echo "$3" | head -c 400)" ;; esac
}
# valgrind_clean "name" command... -- passes when the command runs without
# invalid reads or writes, uninitialised memory or definite leaks (its own
# exit status does not count); skips when valgrind is missing. Run the
# normal build: the sanitizer build cannot run under valgrind.
valgrind_clean() {
    local name=$1; shift
    if ! command -v valgrind >/dev/null 2>&1; then
        ok "valgrind-clean: $name # SKIP valgrind is not installed"
        return
    fi
    # Exit status 99 is valgrind's verdict; others are doppel's own.
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        "$@" >"$T/vg.out" 2>"$T/vg.err"
    if [ $? -ne 99 ] && ! grep -q '^==[0-9]*==' "$T/vg.err"; then
        ok "valgrind-clean: $name"
    else
        not_ok "valgrind-clean: $name" "$(head -20 "$T/vg.err")"
    fi
}
