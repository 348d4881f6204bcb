#!/usr/bin/env bash
# install-deps.sh -- installs the Debian packages doppel needs to build, test
# and benchmark. Idempotent: does nothing when everything is present.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-dev libsqlite3-dev sqlite3 libmicrohttpd-dev
libcurl4-openssl-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libjansson-dev libyajl-dev
libstemmer-dev libutf8proc-dev libxxhash-dev zlib1g-dev libisal-dev libcmocka-dev python3 nodejs npm chromium
valgrind util-linux curl jq man-db groff-base zsh"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# nodejs/npm may come from outside Debian (nvm, nodesource): accept any node >= 18.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -vxE 'nodejs|npm' | tr '\n' ' ')
fi
missing=$(echo "$missing" | xargs)
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
