#!/usr/bin/env bash
# test_options.sh -- the option parser as every command shows it (src/cli/opt.c):
# --help on stdout with exit 0, and each usage error -- a missing value, an
# unknown option, a bad value, a stray argument -- named on stderr with
# exit 2, before any store is opened.
. "$(dirname "$0")/lib.sh"
cd "$T"
CMDS="import sync analyze similar pairs search show stats serve apply triage watch train eval"

# usage_error "description" "expected message" args...
usage_error() {
    local d=$1 msg=$2; shift 2
    local err rc
    err=$("$DOPPEL" "$@" 2>&1 >/dev/null); rc=$?
    check_eq "$d: exit 2" 2 "$rc"
    check_contains "$d: says so" "$msg" "$err"
}

for c in $CMDS; do
    out=$("$DOPPEL" "$c" --help); rc=$?
    check_eq "$c --help exits 0" 0 "$rc"
    check_contains "$c --help: usage line" "usage: doppel" "$out"
    check_contains "$c --help: names the command" "doppel $c " "$out"
    check_contains "$c --help: lists --db" "--db PATH" "$out"
    check_contains "$c --help: lists -h, --help" "-h, --help" "$out"
    usage_error "$c --db (no value)" "doppel $c: --db needs a value" "$c" --db
    usage_error "$c --bogus" "doppel $c: unknown option '--bogus'" "$c" --bogus
done
check_eq "no store was created by a usage error" "" "$(ls)"

usage_error "analyze -k 0" "-k wants an integer from 1 to 999999, not '0'" analyze -k 0
usage_error "analyze stray argument" "unexpected argument 'x'" analyze x
usage_error "pairs --relation dup" "--relation wants one of duplicate, related; not 'dup'" pairs --relation dup
# The synopsis is prose; the option lines come from pair.c's names (CLI_ENUM):
# the two must agree.
ph=$("$DOPPEL" pairs --help)
for o in relation confidence; do
    check_eq "pairs --help: the synopsis's --$o values are the option's" \
        "$(printf '%s\n' "$ph" | awk -v o="--$o" '$1 == o { print $2 }')" \
        "$(printf '%s\n' "$ph" | grep -o "\[--$o [^]]*\]" | head -1 | sed "s/^\[--$o //; s/\]$//")"
done
usage_error "pairs --limit=x" "--limit wants an integer" pairs --limit=x
usage_error "pairs --json=1" "--json takes no value" pairs --json=1
usage_error "similar --min-prob 2" "--min-prob wants a number from 0 to 1, not '2'" similar --min-prob 2 1
usage_error "similar with two keys" "one KEY at a time" similar 1 2
usage_error "search without words" "no query" search
usage_error "show without a key" "which item? give its KEY" show
usage_error "show with two keys" "one KEY at a time" show 1 2
usage_error "sync without a repository" "which repository?" sync
usage_error "sync with two" "one repository at a time" sync a/b c/d
usage_error "sync --api-url with a password" "" sync a/b --api-url https://u:p@example.com
usage_error "serve --port 70000" "--port wants an integer from 0 to 65535" serve --port 70000
usage_error "apply --undo x" "--undo wants an action id" apply --undo x
usage_error "apply --pair x" "--pair wants two keys as Q:C" apply --pair x
usage_error "apply --log --undo 1" "--log, --undo and --confirm go one at a time" apply --log --undo 1
usage_error "triage without keys" "give their KEYs" triage
usage_error "watch with a key" "watch takes no keys" watch 5
usage_error "triage --min-confidence x" "--min-confidence wants one of high, medium, low" triage 1 --min-confidence x
usage_error "triage --label with a newline" "--label wants a label name" triage 1 --label "$(printf 'a\nb')"
usage_error "train --repo with --all" "--repo excludes --all/--except" train --repo a --all
usage_error "eval --model with --model-repo" "exclude each other" eval --model a --model-repo b
usage_error "import without files" "no input files" import
usage_error "import --format x" "unknown format 'x'" import --format x f.json
check_eq "still no store" "" "$(ls)"

# --name=value is --name value; -- ends the options.
out=$("$DOPPEL" search --db="$T/s.db" -- --json 2>&1); rc=$?
check_contains "search --db=PATH -- --json: --json is a word of the query" "no repository" "$out"
check "the store named by --db=PATH" test -f "$T/s.db"

# doppel itself
out=$("$DOPPEL" --help); check_eq "doppel --help exits 0" 0 $?
for c in $CMDS; do check_contains "doppel --help lists $c" "  $c " "$out"; done
"$DOPPEL" nosuch >/dev/null 2>&1; check_eq "an unknown command: exit 2" 2 $?
"$DOPPEL" >/dev/null 2>&1; check_eq "no command: exit 2" 2 $?
check_contains "doppel --version" "doppel " "$("$DOPPEL" --version)"

echo "1..$_n"
