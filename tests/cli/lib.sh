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

# The tests read what doppel stored through its commands (--json), not SQL,
# so that they hold for any store backend; sqlite3 is left only where a test
# is about the SQLite file itself (atomicity, a damaged cache, seeding what no
# command writes), with a comment saying so.

# _json_eval VAR EXPR [DEFS] -- reads JSON on stdin into the python variable
# VAR, runs the python DEFS (helpers for EXPR), prints EXPR: a bool as 1 or
# 0, a tuple as its items joined by '|' (as sqlite3 prints a row).
_json_eval() {
    python3 -c '
import json, sys
g = {sys.argv[1]: json.load(sys.stdin)}
exec(sys.argv[3] if len(sys.argv) > 3 else "", g)
r = eval(sys.argv[2], g)
print(int(r) if isinstance(r, bool) else "|".join(map(str, r)) if isinstance(r, tuple) else r)' "$@"
}

# pairs_q DB EXPR -- prints the python expression EXPR evaluated over P, every
# stored pair as `doppel pairs --json --known --limit 0` gives them. one(Q, C)
# is the pair of query Q and candidate C; text(x) is a field that may be a
# list of lines or a string, as one string.
pairs_q() {
    "$DOPPEL" pairs --db "$1" --json --known --limit 0 | _json_eval P "$2" '
P = P["pairs"]
def text(x): return "\n".join(x) if isinstance(x, list) else (x or "")
def one(q, c): return [p for p in P if p["query"] == q and p["candidate"] == c][0]'
}

# item_q DB KEY EXPR [OPTION...] -- EXPR over I, the item KEY as `doppel show
# KEY --json` gives it (fails, printing nothing, when the store lacks it).
# links() is every link touching it as "FROM>TO:TYPE", links(TYPE) those of
# one type as "FROM>TO"; sorted, space-separated.
item_q() {
    local db=$1 key=$2 expr=$3
    shift 3
    "$DOPPEL" show "$key" --db "$db" --json "$@" | _json_eval I "$expr" '
def links(t=None):
    return " ".join(sorted(l["from"] + ">" + l["to"] + ("" if t else ":" + l["type"])
                           for l in I["links"] if t in (None, l["type"])))'
}

# stats_q DB EXPR -- EXPR over S, the repositories as `doppel stats --json`
# gives them (S[0] is the first).
stats_q() {
    "$DOPPEL" stats --db "$1" --json | _json_eval S "$2"
}

# set_verdicts DB "Q C VERDICT"... -- records verdicts on stored pairs as a
# reviewer does: POST /api/pairs/ID/verdict on a `doppel serve` started for
# it and stopped after (VERDICT null removes one). Fails when a pair is not
# stored or the server refuses.
set_verdicts() {
    local db=$1; shift
    local url="" pid rc=0 id spec
    "${DOPPEL_FAST:-$DOPPEL}" serve --db "$db" --port 0 >"$T/verdict-serve.url" 2>"$T/verdict-serve.err" &
    pid=$!
    for _ in $(seq 200); do url=$(head -1 "$T/verdict-serve.url"); [ -n "$url" ] && break; sleep 0.05; done
    for spec in "$@"; do
        set -- $spec
        id=$(pairs_q "$db" "one('$1', '$2')['id']" 2>/dev/null) || { rc=1; break; }
        [ "$3" = null ] && body='{"verdict":null}' || body="{\"verdict\":\"$3\"}"
        curl -sf -X POST -H 'Content-Type: application/json' -H 'X-Doppel: 1' --data "$body" \
            "${url}api/pairs/$id/verdict" >/dev/null || { rc=1; break; }
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return $rc
}

# verdict_of DB Q C -- the verdict recorded on Q <-> C (`pairs --verdicts
# --json`: also on pairs analyze did not store), or "none".
verdict_of() {
    "$DOPPEL" pairs --db "$1" --verdicts --json | python3 -c '
import json, sys
v = [x["verdict"] for x in json.load(sys.stdin)["verdicts"] if (x["query"], x["candidate"]) == tuple(sys.argv[1:3])]
print(v[-1] if v else "none")' "$2" "$3"
}
