#!/usr/bin/env bash
# test_build.sh -- the Makefile's promises: flags a user's CFLAGS cannot
# drop, a clear error for a missing library, the benchmark drivers build,
# `make bench`'s script exists. (make -n: nothing is compiled here.)
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
PKGS="sqlite3 libmicrohttpd libcurl libcmark-gfm jansson yajl libutf8proc zlib libxxhash"

# ---- CFLAGS=... replaces the optimisation, not the required flags -----------
out=$(make -n -B CFLAGS=-O0 BUILD="$T/b" "$T/b/common/util.o" 2>&1)
for f in -std=c11 -Werror -Wall -Wextra -O0 "$(pkg-config --cflags $PKGS | xargs)"; do
    check_contains "make CFLAGS=-O0 keeps $f" " $f" "$out"
done
case $out in *-O2*) not_ok "make CFLAGS=-O0 drops the default -O2" "$out" ;; *) ok "make CFLAGS=-O0 drops the default -O2" ;; esac
out=$(make -n -B SAN=1 CFLAGS=-O0 BUILD="$T/b" "$T/b/common/util.o" 2>&1)
check_contains "make SAN=1 CFLAGS=-O0 keeps the sanitizers" "-fsanitize=address,undefined" "$out"

# ---- a missing library: a clear error naming the Debian package ---------------
out=$(PKG_CONFIG_LIBDIR=$T/none make -n BUILD="$T/b" 2>&1); rc=$?
check_eq "make without the libraries fails" 2 "$rc"
check_contains "the error names the missing pkg-config package" "pkg-config cannot find sqlite3" "$out"
check_contains "the error says what to install" "apt-get install libsqlite3-dev" "$out"
out=$(PKG_CONFIG_LIBDIR=$T/none make -n clean 2>&1); rc=$?
check_eq "make clean needs no library" 0 "$rc"

# ---- benchmarks -------------------------------------------------------------
check "make bench-build builds the benchmark drivers" make -s -j2 bench-build
check "bench/index_bench was built" test -x build/bench/index_bench
check "bench/store_pairs was built" test -x build/bench/store_pairs
out=$(make -n bench BENCH=nosuch 2>&1)
check_contains "make bench runs bench/run.sh" "bench/run.sh build/doppel nosuch" "$out"
out=$(bash bench/run.sh build/doppel nosuch 2>&1); rc=$?
check_eq "bench/run.sh of an unknown benchmark fails" 1 "$rc"
check_contains "... and says which" "no benchmark bench/nosuch.sh" "$out"

echo "1..$_n"
