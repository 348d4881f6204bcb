#!/usr/bin/env bash
# test_serve_hostile.sh -- `doppel serve` against hostile clients (issue 11):
# slowloris, idle connections, oversized and malformed requests, a remote
# client without the token. Meanwhile a normal client must keep getting
# answers, with bounded latency; every answer, whoever writes it, carries the
# security headers. The attacker is tests/cli/serve_attack.py (stdlib only).
# bench/serve_hostile.sh measures the latency in more detail.
. "$(dirname "$0")/lib.sh"
ATTACK=(python3 "$ROOT/tests/cli/serve_attack.py")
DB=$T/s.db
"$DOPPEL" import --db "$DB" "$FIX/analyze/issues.json" >/dev/null 2>&1 || { not_ok "import fixture"; exit 1; }

# start_serve NAME ARGS... -- starts `doppel serve`, sets PORT and PID_NAME
start_serve() {
    local name=$1; shift
    "$DOPPEL" serve --db "$DB" --port 0 "$@" >"$T/$name.url" 2>"$T/$name.err" &
    PIDS+=($!)
    eval "PID_$name=$!"
    for _ in $(seq 100); do [ -s "$T/$name.url" ] && break; sleep 0.05; done
    PORT=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$T/$name.url")
}

# secured "desc" STATUS HEAD -- checks an answer's status and headers
secured() {
    local head=$3
    case "$head" in
    "HTTP/1.1 $2 "*) ;;
    *) not_ok "$1" "want $2, got: $(echo "$head" | head -1)"; return ;;
    esac
    for h in "Content-Security-Policy: default-src 'self'" "X-Content-Type-Options: nosniff" \
             "X-Frame-Options: DENY" "Referrer-Policy: no-referrer"; do
        case "$head" in *"$h"*) ;; *) not_ok "$1" "no [$h] in: $head"; return ;; esac
    done
    ok "$1"
}
# send -- the request on stdin to the server, on a new connection; prints the
# answer's head (bash's /dev/tcp: a Python start per request is slow)
send() {
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return
    cat >&3 2>/dev/null
    timeout 5 cat <&3 | sed '/^\r$/q'
    exec 3<&- 3>&-
}
rep() { head -c "$1" /dev/zero | tr '\0' "$2"; }

start_serve main
H="Host: 127.0.0.1:$PORT"

# ---- every answer carries the headers, also the ones for broken requests
secured "414 for a long request line" 414 "$(printf 'GET /%s HTTP/1.1\r\n%s\r\n\r\n' "$(rep 9000 a)" "$H" | send)"
secured "431 for a huge header field" 431 "$(printf 'GET / HTTP/1.1\r\n%s\r\nX-Big: %s\r\n\r\n' "$H" "$(rep 70000 b)" | send)"
secured "431 for too many header fields" 431 "$({ printf 'GET / HTTP/1.1\r\n%s\r\n' "$H"; for i in $(seq 100); do printf 'X-%d: y\r\n' "$i"; done; printf '\r\n'; } | send)"
secured "505 for HTTP/2.0" 505 "$(printf 'GET / HTTP/2.0\r\n%s\r\n\r\n' "$H" | send)"
secured "505 for HTTP/1.7" 505 "$(printf 'GET / HTTP/1.7\r\n%s\r\n\r\n' "$H" | send)"
secured "400 for HTTP/0.9" 400 "$(printf 'GET /\r\n\r\n' | send)"
secured "400 without Host" 400 "$(printf 'GET / HTTP/1.1\r\n\r\n' | send)"
secured "400 for a control character" 400 "$(printf 'GET / HTTP/1.1\r\n%s\r\nX: a\001b\r\n\r\n' "$H" | send)"
secured "501 for an unknown transfer coding" 501 "$(printf 'POST /api/pairs/1/verdict HTTP/1.1\r\n%s\r\nTransfer-Encoding: gzip\r\n\r\n' "$H" | send)"
secured "400 for a bad chunk" 400 "$(printf 'POST /api/pairs/1/verdict HTTP/1.1\r\n%s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab\r\n0\r\n\r\n' "$H" | send)"
secured "400 for Content-Length with Transfer-Encoding" 400 "$(printf 'POST /api/pairs/1/verdict HTTP/1.1\r\n%s\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' "$H" | send)"
secured "413 for a large body" 413 "$(printf 'POST /api/pairs/1/verdict HTTP/1.1\r\n%s\r\nContent-Length: 100000\r\n\r\n' "$H" | send)"
secured "404" 404 "$(printf 'GET /nothing HTTP/1.1\r\n%s\r\n\r\n' "$H" | send)"
secured "200 for a normal request" 200 "$(printf 'GET /api/pairs HTTP/1.1\r\n%s\r\n\r\n' "$H" | send)"

# ---- slowloris below the connection cap: the request deadline closes them
"${ATTACK[@]}" slowloris 127.0.0.1 "$PORT" 100 1 13 >"$T/slow1.txt" &
apid=$!
sleep 2
probe=$("${ATTACK[@]}" probe 127.0.0.1 "$PORT" /api/pairs 20 5)
wait $apid
slow=$(cat "$T/slow1.txt")
check_contains "normal client served beside 100 slowloris connections" "ok=20 fail=0" "$probe"
maxlife=$(echo "$slow" | sed -n 's/.*max_life=\([0-9.]*\).*/\1/p')
closed=$(echo "$slow" | sed -n 's/.*closed=\([0-9]*\).*/\1/p')
check "every slowloris connection closed by the 10 s request deadline ($slow)" \
    awk -v l="$maxlife" -v c="$closed" 'BEGIN { exit !(c >= 100 && l >= 9 && l <= 12) }'

# ---- slowloris above the cap (the report: 520 connections), and idle ones:
# the oldest unfinished connection makes room; a normal client keeps its
# latency bounded (p99 under 1 s here; bench/serve_hostile.sh measures it)
"${ATTACK[@]}" slowloris 127.0.0.1 "$PORT" 600 2 12 >"$T/slow2.txt" &
apid=$!
sleep 3
probe=$("${ATTACK[@]}" probe 127.0.0.1 "$PORT" /api/pairs 50 5)
wait $apid
check_contains "normal client served beside 600 slowloris connections ($probe)" "ok=50 fail=0" "$probe"
p99=$(echo "$probe" | sed -n 's/.*p99=\([0-9.]*\).*/\1/p')
check "p99 latency under slowloris is bounded ($p99 ms)" awk -v p="$p99" 'BEGIN { exit !(p < 1000) }'
alive=$(sed -n 's/.*alive=\([0-9]*\).*/\1/p' "$T/slow2.txt")
check "at most 512 connections held at once ($(cat "$T/slow2.txt"))" test "$alive" -le 512

"${ATTACK[@]}" idle 127.0.0.1 "$PORT" 600 6 >"$T/idle.txt" &
apid=$!
sleep 2
probe=$("${ATTACK[@]}" probe 127.0.0.1 "$PORT" / 20 5)
wait $apid
check_contains "normal client served beside 600 idle connections ($probe)" "ok=20 fail=0" "$probe"

# ---- a remote client without the token holds at most its per-address cap
ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -1)
if [ -n "$ip" ]; then
    start_serve open --bind 0.0.0.0 --token secret-token-1
    "${ATTACK[@]}" slowloris "$ip" "$PORT" 600 1 6 >"$T/remote.txt" &
    apid=$!
    sleep 2
    probe_lo=$("${ATTACK[@]}" probe 127.0.0.1 "$PORT" / 20 5)
    # Same address as the attacker: the gate pushes out whichever of that
    # address's connections has waited longest, so a client the machine
    # starves between connect and send can lose a try; it must get through
    # within 3 (the attacker's own connections are the ones pushed out).
    probe_ip=$("${ATTACK[@]}" probe "$ip" "$PORT" / 20 5 3)
    wait $apid
    alive=$(sed -n 's/.*alive=\([0-9]*\).*/\1/p' "$T/remote.txt")
    check "a remote address holds at most 32 connections ($(cat "$T/remote.txt"))" test "$alive" -le 32
    check_contains "loopback client served during the remote attack" "ok=20 fail=0" "$probe_lo"
    check_contains "a client at the attacker's address is served too ($probe_ip)" "ok=20 fail=0" "$probe_ip"
    secured "303 of the token exchange" 303 \
        "$(printf 'GET /?token=secret-token-1 HTTP/1.1\r\nHost: %s:%s\r\n\r\n' "$ip" "$PORT" | send)"
else
    ok "# SKIP no non-loopback address for the remote-client checks"
fi

# ---- a token on the command line is visible in ps: serve says so
start_serve tok --token secret-token-1
check_contains "--token on the command line warns" "prefer DOPPEL_TOKEN" "$(cat "$T/tok.err")"
DOPPEL_TOKEN=secret-token-1 start_serve env
check "DOPPEL_TOKEN does not warn" bash -c "! grep -q warning '$T/env.err'"

# ---- the server survived all of it, cleanly
check_contains "still answering" "ok=3 fail=0" "$("${ATTACK[@]}" probe 127.0.0.1 "$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$T/main.url")" / 3 5)"
kill -TERM "$PID_main"
wait "$PID_main"
check_eq "serve exits 0 on SIGTERM" 0 $?
check "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T/main.err'"
echo "1..$_n"
