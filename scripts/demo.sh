#!/usr/bin/env bash
# demo.sh -- `make demo`: imports the bundled, invented tracker
# doppel-demo/tinyhttp (demo/README.md), analyzes it, prints the ten most
# valuable pairs and, on a terminal, opens the review page.
#
#   scripts/demo.sh path/to/doppel
#
#   DOPPEL_DB=path        store to use (default ./doppel.db)
#   DOPPEL_DEMO_SERVE=0   do not start `doppel serve` afterwards
#
# Re-running is safe: import upserts by issue number and analyze replaces
# the pairs, so the store ends up the same (verdicts are kept).
set -euo pipefail

die() { echo "demo: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: scripts/demo.sh path/to/doppel"
BIN=$1
case $BIN in */*) ;; *) BIN=./$BIN ;; esac   # a bare name would go through $PATH
[ -x "$BIN" ] || die "no doppel binary at $BIN (build it with make first)"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ISSUES=$ROOT/demo/issues.json
COMMENTS=$ROOT/demo/comments.json
for f in "$ISSUES" "$COMMENTS"; do
    [ -r "$f" ] || die "missing demo data $f"
done
# Every command gets the store from the environment, so one variable decides.
export DOPPEL_DB=${DOPPEL_DB:-./doppel.db}

# run "what" cmd... -- runs one step; on failure names it and stops. doppel
# already printed its own "doppel <cmd>: ..." message to stderr.
run() {
    local what=$1; shift
    "$@" || die "$what failed (exit status $?): $*"
}

echo "== demo: doppel-demo/tinyhttp (an invented project, see demo/README.md)"
echo "== store: $DOPPEL_DB"
run "import" "$BIN" import "$ISSUES" "$COMMENTS"
run "analyze" "$BIN" analyze --all
echo
echo "== top 10 pairs"
run "pairs" "$BIN" pairs --limit 10

# The server only makes sense for a person at a terminal; `serve --help`
# tells whether this binary has a working serve command.
if [ "${DOPPEL_DEMO_SERVE:-1}" != 0 ] && [ -t 1 ] && "$BIN" serve --help >/dev/null 2>&1; then
    echo
    echo "Review them at http://127.0.0.1:8080/ (Ctrl-C to stop)"
    exec "$BIN" serve
fi
