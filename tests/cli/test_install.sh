#!/usr/bin/env bash
# test_install.sh -- `make install DESTDIR=...` and `make uninstall`: the
# binary runs from where it was installed, every man page renders, and the
# bash completion (generated from --help, i.e. from the option tables)
# offers every command and every option of each. Uses the normal build
# (build/doppel); make builds it when needed.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
D=$T/stage
P=/opt/doppel-test
check "make install DESTDIR=... PREFIX=..." make -s install DESTDIR="$D" PREFIX="$P"
find "$D" -type f | sed "s|^$D||" | sort >"$T/files"
for f in $P/bin/doppel $P/share/man/man1/doppel.1 $P/share/man/man1/doppel-analyze.1 \
         $P/share/bash-completion/completions/doppel $P/share/zsh/site-functions/_doppel; do
    check_contains "installed: $f" "$f" "$(cat "$T/files")"
done
BIN=$D$P/bin/doppel
check_contains "the installed binary: --version" "doppel " "$("$BIN" --version)"
check_contains "the installed binary: --help" "usage: doppel" "$("$BIN" --help)"
CMDS=$("$BIN" --help | awk '/^  [a-z]/ { print $1 }' | xargs)
check_eq "fourteen commands" 14 "$(echo $CMDS | wc -w)"

# ---- man pages: one per command, each renders --------------------------------
MAN=$D$P/share/man/man1
for c in "" $CMDS; do
    page=$MAN/doppel${c:+-$c}.1
    if [ ! -f "$page" ]; then not_ok "man page of ${c:-doppel}" "missing $page"; continue; fi
    out=$(MANWIDTH=80 man -l "$page" 2>"$T/man.err")
    if [ -n "$out" ] && [ ! -s "$T/man.err" ]; then ok "man -l renders doppel${c:+-$c}.1"
    else not_ok "man -l renders doppel${c:+-$c}.1" "$(head -5 "$T/man.err")"; fi
    if [ -n "$c" ]; then
        check_contains "doppel-$c.1 has OPTIONS" "OPTIONS" "$out"
        check_contains "doppel-$c.1 documents --db" "--db PATH" "$out"
    fi
done
if command -v groff >/dev/null 2>&1; then
    w=$(groff -man -Tutf8 -ww -z "$MAN"/doppel*.1 2>&1)
    check_eq "groff: no warnings on any page" "" "$w"
fi

# ---- bash completion: every command, every option -----------------------------
COMP=$D$P/share/bash-completion/completions/doppel
# complete WORDS... -- what the completion offers for the last word
complete_words() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _doppel; echo "${COMPREPLY[*]}"' _ "$COMP" "$@"
}
got=$(complete_words doppel "")
for c in $CMDS; do check_contains "completion offers the command $c" " $c " " $got "; done
check_eq "completion of 'doppel an'" "analyze" "$(complete_words doppel an)"
for c in $CMDS; do
    got=" $(complete_words doppel "$c" -) "
    missing=""
    for o in $("$BIN" "$c" --help | sed -n '/^options:$/,/^$/p' | grep -oE '^  (-[a-zA-Z], )?--?[a-z-]+' | tr -d ',' ); do
        case $got in *" $o "*) ;; *) missing="$missing $o" ;; esac
    done
    check_eq "completion offers every option of $c" "" "$missing"
done
check_eq "completion of pairs --relation values" "duplicate related" "$(complete_words doppel pairs --relation "")"
check_eq "completion of triage --min-confidence m" "medium" "$(complete_words doppel triage 1 --min-confidence m)"
touch "$T/some.json"
check_contains "completion of import files" "$T/some.json" "$(complete_words doppel import "$T/so")"
if command -v zsh >/dev/null 2>&1; then
    check "zsh completion parses (zsh -n)" zsh -n "$D$P/share/zsh/site-functions/_doppel"
else
    ok "zsh completion parses # SKIP zsh is not installed"
fi
for c in $CMDS; do
    check_contains "zsh completion knows $c" "    $c)" "$(cat "$D$P/share/zsh/site-functions/_doppel")"
done

# ---- uninstall -----------------------------------------------------------------
check "make uninstall DESTDIR=... PREFIX=..." make -s uninstall DESTDIR="$D" PREFIX="$P"
check_eq "nothing is left but directories" "" "$(find "$D" -type f)"

echo "1..$_n"
