#!/usr/bin/env bash
# pages.sh -- the review page's list API on a large store: what a reviewer
# waits for on the first request, after a verdict, and paging both ways.
#
#   bench/pages.sh DB [DOPPEL]          (default build/doppel)
#
# DB is an existing store with many pairs (bench/scale.sh makes one, KEEP=1;
# see README "Measured"). Each of RUNS rounds starts a new `doppel serve`
# (nothing cached in the server) and times, with a Python client:
#   first         GET /api/pairs?limit=50, the first request of the server
#   text first    GET /api/pairs?limit=50&text=TEXT, the server's first with
#                 that text (its count included)
#   after verdict a verdict POSTed, then the first page again (the counts
#                 are recounted after a write), then the verdict removed
#   deep after    the page at 80 % of the pairs by cursor (after=)
#   deep before   the page before it by cursor (before=)
#   deep offset   the same page by offset (OFFSET walks every pair before)
# and prints the median of each, with the load average: the machine may be
# shared. The store is left as it was (the verdict is removed again).
# Then, for each filter of FILTERS (one query string a line; the default is
# every kind the page offers: sorts, relation, confidence, known, reviewed,
# states, a label, texts, and some combinations), RUNS fresh servers each
# time its first request (page and counts), the same request again (warm,
# median of 5 within a server) and the next page by cursor; a table of
# medians with the count of each. FILTERS=none skips them.
# Environment: RUNS (default 5), TEXT (default timeout), FILTERS.
set -eu
cd "$(dirname "$0")/.."
DB=$(readlink -f "${1:?usage: bench/pages.sh DB [DOPPEL]}")
DOPPEL=$(readlink -f "${2:-build/doppel}")
RUNS=${RUNS:-5}
TEXT=${TEXT:-timeout}
FILTERS=${FILTERS:-"sort=prob
sort=updated
relation=duplicate
relation=related
relation=not_related
confidence=high
confidence=medium
confidence=low
known=0
reviewed=0
reviewed=1
qstate=open
cstate=closed
label=bug
text=$TEXT
text=$TEXT&sort=updated
text=$TEXT&relation=duplicate
text=$TEXT&confidence=low
text=$TEXT&reviewed=0
text=$TEXT&known=0
text=%23123
text=ab
relation=duplicate&confidence=low
relation=related&confidence=medium&sort=prob
relation=not_related&sort=updated
qstate=open&cstate=open&relation=duplicate"}
T=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
# Starts a fresh `doppel serve` ($pid) and sets URL to its address.
start_serve() {
    : >"$T/serve.out"
    "$DOPPEL" serve --db "$DB" --port 0 >"$T/serve.out" 2>"$T/serve.err" &
    pid=$!
    for _ in $(seq 300); do [ -s "$T/serve.out" ] && break; sleep 0.1; done
    URL=$(head -1 "$T/serve.out")
}
stop_serve() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$RUNS"); do
    start_serve
    python3 - "$URL" "$TEXT" <<'EOF' >>"$T/times"
import json, sys, time, urllib.parse, urllib.request
url, text = sys.argv[1], sys.argv[2]

def req(path, body=None):
    r = urllib.request.Request(url + path, data=body, method="POST" if body else "GET",
                               headers={"Content-Type": "application/json", "X-Doppel": "1"} if body else {})
    t = time.perf_counter()
    with urllib.request.urlopen(r) as a:
        out = json.load(a)
    return (time.perf_counter() - t) * 1000, out

first, d = req("api/pairs?limit=50")
total = d["total"]
tfirst, td = req("api/pairs?limit=50&text=" + urllib.parse.quote(text))
pid = d["pairs"][0]["id"]
req("api/pairs/%d/verdict" % pid, json.dumps({"verdict": "related"}).encode())
averdict, _ = req("api/pairs?limit=50")
req("api/pairs/%d/verdict" % pid, json.dumps({"verdict": None}).encode())
deep = int(total * 0.8)
_, b = req("api/pairs?limit=1&offset=%d" % (deep - 1))
after, a = req("api/pairs?limit=50&offset=%d&after=%s" % (deep, urllib.parse.quote(b["next"])))
before, p = req("api/pairs?limit=50&offset=%d&before=%s" % (deep - 50, urllib.parse.quote(a["prev"])))
offset, o = req("api/pairs?limit=50&offset=%d" % (deep - 50))
assert [x["id"] for x in p["pairs"]] == [x["id"] for x in o["pairs"]], "before= and offset disagree"
print(total, td["total"], "%.1f %.1f %.1f %.1f %.1f %.1f" % (first, tfirst, averdict, after, before, offset))
EOF
    stop_serve
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; wall clock of each request, ms)"
awk -v text="$TEXT" -v runs="$RUNS" '
    { n = $1; nt = $2; for (i = 3; i <= 8; i++) v[i, NR] = $i }
    function med(i,   a, k, j, t) {
        for (k = 1; k <= NR; k++) a[k] = v[i, k]
        for (k = 2; k <= NR; k++) for (j = k; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return a[int((NR + 1) / 2)]
    }
    END {
        printf "| %d pairs, medians of %d fresh servers | ms |\n|---|---|\n", n, runs
        printf "| first request, unfiltered page and counts | %s |\n", med(3)
        printf "| first request with text=%s (%d pairs) | %s |\n", text, nt, med(4)
        printf "| unfiltered page after a verdict | %s |\n", med(5)
        printf "| page at 80 %% by cursor (after=) | %s |\n", med(6)
        printf "| the page before it by cursor (before=) | %s |\n", med(7)
        printf "| the same page by offset | %s |\n", med(8)
    }' "$T/times"

[ "$FILTERS" = none ] && exit 0
# Each filter: RUNS fresh servers; first request, warm (median of 5), next.
echo "load before the filters: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$T/ftimes"
for i in $(seq "$RUNS"); do
    while IFS= read -r q; do
        [ -n "$q" ] || continue
        start_serve
        python3 - "$URL" "$q" <<'EOF' >>"$T/ftimes"
import json, statistics, sys, time, urllib.parse, urllib.request
url, q = sys.argv[1], sys.argv[2]

def req(path):
    t = time.perf_counter()
    with urllib.request.urlopen(url + path) as a:
        out = json.load(a)
    return (time.perf_counter() - t) * 1000, out

path = "api/pairs?limit=50&" + q
first, d = req(path)
warm = statistics.median(req(path)[0] for _ in range(5))
nxt = req(path + "&offset=50&after=" + urllib.parse.quote(d["next"]))[0] if d["next"] else -1
print("%s\t%d\t%.1f\t%.1f\t%.1f" % (q, d["total"], first, warm, nxt))
EOF
        stop_serve
    done <<<"$FILTERS"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T/ftimes" "$RUNS" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    q, n, *t = line.rstrip("\n").split("\t")
    rows.setdefault(q, [n, [], [], []])
    for k in range(3):
        rows[q][k + 1].append(float(t[k]))
print("| filter (limit=50), medians of %s fresh servers | pairs | first ms | warm ms | next page ms |" % sys.argv[2])
print("|---|---|---|---|---|")
for q, (n, f, w, x) in rows.items():
    nx = "-" if x[0] < 0 else "%.1f" % statistics.median(x)
    print("| %s | %s | %.1f | %.1f | %s |" % (q, n, statistics.median(f), statistics.median(w), nx))
EOF
