# lib.sh -- sourced (after tests/cli/lib.sh) by the sync CLI tests
# (tests/cli/test_sync*.sh): runs tests/sync/fake_github.py servers and
# queries them and the store. Keeps a developer's own tokens out: no
# GITHUB_TOKEN/GH_TOKEN from the environment, and a `gh` that has none.
FAKE=$ROOT/tests/sync/fake_github.py
CHECK=$ROOT/tests/sync/check_db.py
REPO=acme/widgets
unset GITHUB_TOKEN GH_TOKEN DOPPEL_DB
mkdir -p "$T/bin"
printf '#!/bin/sh\nexit 1\n' >"$T/bin/gh"
chmod +x "$T/bin/gh"
export PATH="$T/bin:$PATH"

# start_fake NAME ARGS... -- starts a server, sets URL
start_fake() {
    local name=$1; shift
    python3 "$FAKE" --port-file "$T/$name.port" "$@" 2>"$T/$name.log" &
    PIDS+=($!)
    for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
    URL=http://127.0.0.1:$(cat "$T/$name.port")
}
ctl() {  # ctl WHAT JSON -- POST /_control/WHAT to the server at $URL
    curl -sf -o /dev/null -X POST --data-binary "$2" "$URL/_control/$1"
}
# fake JQ-ARGS... -- GET $URL/_dump (or $FAKE_PATH) through jq -r, e.g.
#   fake --argjson n 5 '.issues[] | select(.number == $n) | .state'
fake() {
    curl -sf "$URL${FAKE_PATH:-/_dump}" | jq -r "$@"
}
nwrites() { FAKE_PATH=/_writes fake length; }   # write requests the server at $URL received
GH_HEADERS=(-H 'User-Agent: doppel-tests' -H 'Accept: application/vnd.github+json' -H 'X-GitHub-Api-Version: 2022-11-28')
stat() {  # stat [SERVER_URL] 'EXPR over s'   e.g. stat 's["requests"]'
    local url=$URL
    [ $# -gt 1 ] && { url=$1; shift; }
    python3 -c 'import sys,json,urllib.request as u; s=json.load(u.urlopen(sys.argv[1]+"/_stats")); print(eval(sys.argv[2]))' "$url" "$1"
}
q() { python3 "$CHECK" "$1" - "$REPO" "$2"; }      # q DB SQL (:repo = the repository's id)
same() { python3 "$CHECK" "$1" "$URL" "$REPO"; }   # "same" when DB equals the server
