#!/usr/bin/env bash
# cli_docs.sh -- the man pages and the bash and zsh completion, generated at
# build time from the --help of each command, which src/cli/opt.c prints from
# the command's option table. So the pages and the completion list exactly
# the options the parser accepts.
#
#   tools/cli_docs.sh BIN OUTDIR
#
# Writes OUTDIR/man/doppel.1 (the commands), OUTDIR/man/doppel-CMD.1 (one
# per command: synopsis, description, options, notes) and
# OUTDIR/completion/doppel.bash and OUTDIR/completion/_doppel (zsh).
#
# The --help layout it reads (see cli_usage in src/cli/opt.c): the usage
# line(s), a blank line, paragraphs, "options:", one entry per option
# ("  -k, --keep N        help", continuation lines indented to the help's
# column), then more paragraphs. Option values named PATH or FILE... are
# completed as file names; A|B|C as those words.
set -eu
BIN=$1
OUT=$2
mkdir -p "$OUT/man" "$OUT/completion"
VERSION=$("$BIN" --version)

# The commands and their one-line summaries: "  name     summary" lines
# of `doppel --help`.
"$BIN" --help | awk '/^  [a-z]/ { n = $1; sub(/^  [a-z]+ +/, ""); print n "\t" $0 }' >"$OUT/commands.tsv"

# roff-escapes stdin: backslashes, hyphens, leading dots and quotes.
roff_escape() {
    sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

# One command's --help as a man page on stdout.
man_page() {
    local cmd=$1 summary=$2
    local up
    up=$(echo "doppel-$cmd" | tr '[:lower:]' '[:upper:]')
    printf '.TH %s 1 "" "%s" "doppel manual"\n' "$up" "$VERSION"
    printf '.SH NAME\ndoppel\\-%s \\- %s\n' "$cmd" "$(echo "$summary" | roff_escape)"
    "$BIN" "$cmd" --help | roff_escape | awk '
        function flush_lit() { if (lit) { print ".fi"; lit = 0 } }
        function text(s) { if (s ~ /^[.\047]/) s = "\\&" s; print s }   # not a request
        BEGIN { sec = "usage" }
        sec == "usage" && /^$/ { sec = "desc"; print ".SH DESCRIPTION"; next }
        sec == "usage" {
            if (!started) { print ".SH SYNOPSIS"; print ".nf"; started = 1 }
            sub(/^usage: /, ""); sub(/^       /, ""); print; next
        }
        /^options:$/ { flush_lit(); sec = "opts"; print ".SH OPTIONS"; next }
        sec == "opts" && /^  \\-/ {
            line = $0; sub(/^  /, "", line)
            left = line; help = ""
            if (match(line, /   +/)) { left = substr(line, 1, RSTART - 1); help = substr(line, RSTART + RLENGTH) }
            # bold option names, italic value names
            n = split(left, w, " "); l = ""
            for (i = 1; i <= n; i++) l = l (i > 1 ? " " : "") (w[i] ~ /^\\-/ ? "\\fB" w[i] "\\fR" : "\\fI" w[i] "\\fR")
            print ".TP"; print l
            if (help != "") text(help)
            next
        }
        sec == "opts" && /^      / { sub(/^ +/, ""); text($0); next }
        sec == "opts" && /^$/ { sec = "notes"; print ".SH NOTES"; next }
        sec == "desc" || sec == "notes" {
            if ($0 == "") { flush_lit(); print ".PP"; next }
            if ($0 ~ /^ /) { if (!lit) { print ".nf"; lit = 1 } print; next }
            flush_lit(); print; next
        }
        END { flush_lit() }'
    printf '.SH SEE ALSO\n\\fBdoppel\\fR(1)\n'
}

# ---- man pages ----------------------------------------------------------------
{
    printf '.TH DOPPEL 1 "" "%s" "doppel manual"\n' "$VERSION"
    printf '.SH NAME\ndoppel \\- find duplicate and related issues in a tracker\n'
    printf '.SH SYNOPSIS\n.B doppel\n.I command\n.RI [ options ]\n.br\n.B doppel\n.RB [ \\-\\-help | \\-\\-version ]\n'
    printf '.SH DESCRIPTION\n'
    "$BIN" --help | sed -n '/^$/,$p' | sed '/^  [a-z]/d' | roff_escape | awk 'NF { print }'
    printf '.SH COMMANDS\n'
    while IFS=$'\t' read -r c s; do
        printf '.TP\n\\fBdoppel %s\\fR(1)\n%s\n' "$c" "$(echo "$s" | roff_escape)"
    done <"$OUT/commands.tsv"
    printf '.SH SEE ALSO\n'
    sep=""
    while IFS=$'\t' read -r c _; do printf '%s\\fBdoppel\\-%s\\fR(1)' "$sep" "$c"; sep=$',\n'; done <"$OUT/commands.tsv"
    printf '\n'
} >"$OUT/man/doppel.1"
while IFS=$'\t' read -r c s; do
    man_page "$c" "$s" >"$OUT/man/doppel-$c.1"
done <"$OUT/commands.tsv"

# ---- completion ---------------------------------------------------------------
# Each command's options as "NAME<US>ARG<US>HELP" (US: the unit separator,
# \037, which no help holds and which read does not merge; ARG empty for a flag),
# one line per spelling (-k and --keep apart).
options_of() {
    "$BIN" "$1" --help | awk '
        /^options:$/ { on = 1; next }
        on && /^$/ { exit }
        on && /^  -/ {
            line = $0; sub(/^  /, "", line)
            left = line; help = ""
            if (match(line, /   +/)) { left = substr(line, 1, RSTART - 1); help = substr(line, RSTART + RLENGTH) }
            n = split(left, w, " "); arg = ""
            for (i = 1; i <= n; i++) if (w[i] !~ /^-/) arg = w[i]
            for (i = 1; i <= n; i++) if (w[i] ~ /^-/) { o = w[i]; sub(/,$/, "", o); print o "\037" arg "\037" help }
        }'
}

# The completion of a value named ARG: "files", "words A B C" or "none".
value_kind() {
    case $1 in
        *PATH*|*FILE*) echo files ;;
        *'|'*) echo "words ${1//|/ }" ;;
        *) echo none ;;
    esac
}

CMDS=$(cut -f1 "$OUT/commands.tsv" | xargs)
{
    echo "# bash completion for doppel -- generated by tools/cli_docs.sh from --help; do not edit."
    echo "_doppel() {"
    echo '    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}'
    echo '    if [ "$COMP_CWORD" -eq 1 ]; then'
    echo "        COMPREPLY=(\$(compgen -W \"$CMDS --help --version\" -- \"\$cur\"))"
    echo '        return'
    echo '    fi'
    echo '    local opts="" args=none'
    echo '    case ${COMP_WORDS[1]} in'
    while IFS=$'\t' read -r c _; do
        opts=$(options_of "$c" | cut -d$'\037' -f1 | xargs)
        args=none
        case $c in import) args=files ;; esac
        echo "    $c)"
        echo "        case \$prev in"
        options_of "$c" | while IFS=$'\037' read -r o arg _; do
            [ -n "$arg" ] || continue
            k=$(value_kind "$arg")
            case $k in
                files) echo "            $o) COMPREPLY=(\$(compgen -f -- \"\$cur\")); return ;;" ;;
                words*) echo "            $o) COMPREPLY=(\$(compgen -W \"${k#words }\" -- \"\$cur\")); return ;;" ;;
                *) echo "            $o) COMPREPLY=(); return ;;" ;;
            esac
        done
        echo "        esac"
        echo "        opts=\"$opts\" args=$args ;;"
    done <"$OUT/commands.tsv"
    echo '    *) return ;;'
    echo '    esac'
    echo '    if [ "${cur:0:1}" = - ]; then'
    echo '        COMPREPLY=($(compgen -W "$opts" -- "$cur"))'
    echo '    elif [ "$args" = files ]; then'
    echo '        COMPREPLY=($(compgen -f -- "$cur"))'
    echo '    fi'
    echo '}'
    echo 'complete -F _doppel doppel'
} >"$OUT/completion/doppel.bash"

# zsh: _arguments specs; brackets, colons and quotes in the help are dropped.
zsh_quote() { tr -d "][:'\\\\\`"; }
{
    echo "#compdef doppel"
    echo "# zsh completion for doppel -- generated by tools/cli_docs.sh from --help; do not edit."
    echo "_doppel() {"
    echo "    local -a cmds"
    echo "    cmds=("
    while IFS=$'\t' read -r c s; do echo "        '$c:$(echo "$s" | zsh_quote)'"; done <"$OUT/commands.tsv"
    echo "    )"
    echo "    if (( CURRENT == 2 )); then"
    echo "        _describe -t commands 'doppel command' cmds"
    echo "        return"
    echo "    fi"
    echo "    words=(\"\${(@)words[2,-1]}\")"
    echo "    (( CURRENT-- ))"
    echo "    case \$words[1] in"
    while IFS=$'\t' read -r c _; do
        echo "    $c)"
        echo "        _arguments -s \\"
        options_of "$c" | while IFS=$'\037' read -r o arg help; do
            h=$(echo "$help" | zsh_quote)
            if [ -z "$arg" ]; then
                echo "            '$o[$h]' \\"
            else
                k=$(value_kind "$arg")
                case $k in
                    files) act=_files ;;
                    words*) act="(${k#words })" ;;
                    *) act=" " ;;
                esac
                echo "            '$o[$h]:$(echo "$arg" | zsh_quote):$act' \\"
            fi
        done
        case $c in
            import) echo "            '*:file:_files'" ;;
            *) echo "            '*:argument: '" ;;
        esac
        echo "        ;;"
    done <"$OUT/commands.tsv"
    echo "    esac"
    echo "}"
    echo '_doppel "$@"'
} >"$OUT/completion/_doppel"
rm -f "$OUT/commands.tsv"
