#!/usr/bin/env bash
# run.sh -- `make bench`: runs the benchmarks one after another and prints
# what each one prints (numbers and the commands that made them; nothing is
# timed against a bar here).
#
#   bench/run.sh BIN [NAME...]     NAME: a script of bench/ without .sh
#                                  (default: every bench/*.sh)
#   make bench BENCH="index sync"  the same through make
#
# Scripts that take the doppel binary as their first argument get BIN; the
# others build what they need themselves. Those that need ../shared/data say
# so and skip when it is absent. The whole set takes long (the 48k-item
# stores are imported and analysed several times): pick with NAME. Ends
# with the scripts that failed, if any, and exits 1 then.
set -u
cd "$(dirname "$0")/.."
BIN=${1:?usage: bench/run.sh BIN [NAME...]}
shift
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in bench/*.sh; do
        n=$(basename "$f" .sh)
        [ "$n" = run ] || names+=("$n")
    done
fi
failed=()
for n in "${names[@]}"; do
    f=bench/$n.sh
    if [ ! -f "$f" ]; then
        echo "bench/run.sh: no benchmark $f" >&2
        failed+=("$n")
        continue
    fi
    args=()
    case $n in
        accuracy|analyze|similar|sync|triage) args=("$BIN") ;;
    esac
    echo "==== bench/$n.sh ${args[*]}"
    bash "$f" "${args[@]}" || failed+=("$n")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "bench/run.sh: failed: ${failed[*]}" >&2
    exit 1
fi
