#!/usr/bin/env bash
# test_valgrind.sh -- the main paths (import, analyze, similar, pairs, stats,
# search, show, eval) run valgrind-clean on the demo data: no invalid reads or
# writes, no use of uninitialised memory, no definite leaks. Uses the normal
# build ($DOPPEL_FAST): the sanitizer build cannot run under valgrind.
source "$ROOT/tests/cli/lib.sh"
BIN=${DOPPEL_FAST:-$ROOT/build/doppel}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "ok 1 - # SKIP valgrind is not installed"
    exit 0
fi
DB=$T/vg.db
vg() { local name=$1; shift; valgrind_clean "$name" "$BIN" "$@"; }
vg "import" import --db "$DB" "$ROOT/demo/issues.json" "$ROOT/demo/comments.json"
vg "analyze --all" analyze --all --db "$DB"
vg "analyze (incremental, nothing changed)" analyze --all --db "$DB"
vg "similar by key" similar 32 --db "$DB"
vg "similar --title --json" similar --title "segfault in TLS handshake" --body "crash in th_tls_handshake" --json --db "$DB"
vg "pairs --json" pairs --limit 0 --json --db "$DB"
vg "stats" stats --db "$DB"
vg "search" search tls handshake --db "$DB"
vg "show" show 1 --db "$DB"
vg "show --json" show 32 --json --db "$DB"
vg "eval" eval --split 0 --db "$DB"
vg "import of malformed input (rolled back)" import --db "$DB" "$ROOT/tests/fixtures/store/not_a_database.txt"
echo "1..$_n"
