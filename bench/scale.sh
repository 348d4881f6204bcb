#!/usr/bin/env bash
# scale.sh -- every row of the scale table (issue 14) on a synthetic GitHub
# repository of N items built from ../shared/data by bench/gen_scale.py.
#
#   bench/scale.sh N [DOPPEL]          (default build/doppel)
#
# Environment:
#   SCALE_DIR   where the generated data and the store go (default: a new
#               temporary directory, removed at the end unless KEEP=1). The
#               generated files are kept per N and seed and reused.
#   SEED        generator seed (default 1)
#   RUNS        runs of the quick rows, whose median is shown (default 5)
#   FULL_RUNS   runs of import and the full analysis, whose median is shown
#               (default 3; each is a fresh store, and the full analysis's
#               phase times are those of its median run)
#   REQUESTS    /api/similar requests after the first (default 50)
#
# Rows (wall time, CPU time -- user + sys, all threads -- and peak RSS by
# /usr/bin/time -v; the CPU time says what the code costs, the wall time
# also what the shared machine gave it):
#   import        the issues file, then the comments file, into a new store
#                 (MB/s of uncompressed JSON, from doppel's summary line)
#   full          analyze --all --full, with analyze's own phase times
#   unchanged     analyze --all with nothing changed
#   20 new        analyze --all after 20 new items arrived (RUNS times, 20
#                 more each time: held back before the full run)
#   similar       doppel similar --title T --body B, one call from the shell
#   api/similar   GET /api/similar on doppel serve: first request, warm p50/p90
#   pairs deep    GET /api/pairs?limit=50 at 80% of the pairs: by offset and
#                 by the keyset cursor; the first request (counts) and warm
#   pairs text    GET /api/pairs?limit=50&text=timeout (first and warm), and
#                 the first request of five other texts, rare to common
#   pairs label   GET /api/pairs?limit=50 with a label and a state filter
#                 (first, counts included, and further pages)
#   store         size of the store file, and per item
# Prints the machine's load average with the table: the machine is shared.
set -eu
cd "$(dirname "$0")/.."
N=${1:?usage: bench/scale.sh N [DOPPEL]}
DOPPEL=$(readlink -f "${2:-build/doppel}")
DATA=$(cd .. && pwd)/shared/data
SEED=${SEED:-1}
RUNS=${RUNS:-5}
FULL_RUNS=${FULL_RUNS:-3}
REQUESTS=${REQUESTS:-50}
if [ ! -d "$DATA/apache-jira" ] || [ ! -d "$DATA/github-hf-datasets" ]; then
    echo "skip: $DATA not found (the shared datasets live beside the checkout)"
    exit 0
fi
if [ -n "${SCALE_DIR:-}" ]; then
    T=$(readlink -f "$SCALE_DIR"); mkdir -p "$T"; OWN=0
else
    T=$(mktemp -d); OWN=1
fi
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [ "$OWN" = 1 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "data kept in $T"; fi
}
trap cleanup EXIT

median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
# timed LOG CMD...: runs CMD under /usr/bin/time -v; prints "wall_s rss_mb cpu_s"
timed() {
    local log=$1; shift
    /usr/bin/time -v -o "$log.time" "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
    awk -F': ' '/Elapsed/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]}
                /User time|System time/ {c += $2}
                /Maximum resident/ {r = $2} END {printf "%.2f %d %.2f\n", s, r / 1024, c}' "$log.time"
}
# The fields of timed's line
wall_of() { echo "$1" | cut -d' ' -f1; }
rss_of() { echo "$1" | cut -d' ' -f2; }
cpu_of() { echo "$1" | cut -d' ' -f3; }
# cpu_note "CPUS": the median CPU time and what it makes on this machine's
# cores -- the wall time the code would take with them all to itself
cpu_note() {
    local c; c=$(echo $1 | tr ' ' '\n' | median)
    awk -v c="$c" -v n="$(nproc)" 'BEGIN {printf "%.1f CPU-s (%.1f s on %d cores)", c, c / n, n}'
}
# median_run "WALLS": the index (1-based) of the run with the median wall
median_run() { echo $1 | tr ' ' '\n' | awk '{print $1, NR}' | sort -g | awk '{v[NR]=$2} END {print v[int((NR+1)/2)]}'; }
ROWS=$T/rows.txt
: >"$ROWS"
row() { printf '| %s | %s |\n' "$1" "$2" | tee -a "$ROWS"; }

GEN=$T/gen-$N-$SEED
if [ ! -s "$GEN/issues.jsonl.gz" ]; then
    python3 bench/gen_scale.py "$DATA" "$GEN" "$N" --seed "$SEED"
fi
HOLD=$((20 * RUNS))
DB=$T/scale.db

# ---- import -------------------------------------------------------------
walls=; rss=; mbs=; cwalls=; cmbs=; cpus=; ccpus=
for i in $(seq "$FULL_RUNS"); do
    rm -f "$DB" "$DB-wal" "$DB-shm"
    # the disk settled first: the store just deleted, or the generator's
    # files, still being written out would stretch the import's commit
    sync
    r=$(timed "$T/import" "$DOPPEL" import --db "$DB" "$GEN/issues.jsonl.gz")
    walls="$walls $(wall_of "$r")"; rss=$(rss_of "$r"); cpus="$cpus $(cpu_of "$r")"
    mbs="$mbs $(sed -n 's/.*MB in .* s (\([0-9.]*\) MB\/s).*/\1/p' "$T/import")"
    mb=$(sed -n 's/.* \([0-9.]*\) MB in .*/\1/p' "$T/import")
    r=$(timed "$T/import-c" "$DOPPEL" import --db "$DB" "$GEN/comments.jsonl.gz")
    cwalls="$cwalls $(wall_of "$r")"; ccpus="$ccpus $(cpu_of "$r")"
    cmbs="$cmbs $(sed -n 's/.*MB in .* s (\([0-9.]*\) MB\/s).*/\1/p' "$T/import-c")"
    cmb=$(sed -n 's/.* \([0-9.]*\) MB in .*/\1/p' "$T/import-c")
done
echo "load before the table: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| at $N items, one repository (seed $SEED) | measured |"
echo "|---|---|"
row "import of $mb MB of GitHub issue JSON (median of $FULL_RUNS:$walls)" "$(echo $walls | tr ' ' '\n' | median) s ($(echo $mbs | tr ' ' '\n' | median) MB/s), $rss MB RSS; $(cpu_note "$cpus")"
row "import of $cmb MB of comment JSON (median of $FULL_RUNS:$cwalls)" "$(echo $cwalls | tr ' ' '\n' | median) s ($(echo $cmbs | tr ' ' '\n' | median) MB/s); $(cpu_note "$ccpus")"

# Hold back the newest items: the "20 new items" runs bring them back.
sqlite3 "$DB" "CREATE TABLE bench_held AS SELECT * FROM items ORDER BY created_at DESC, id DESC LIMIT $HOLD;
               DELETE FROM items WHERE id IN (SELECT id FROM bench_held);"
# ... and their records, 20 a file in creation order: they come back the
# way new items arrive, by `doppel import`, whose commit also brings the
# title index up to date for them (items put back with SQL would leave that
# to the next doppel that writes: the analysis timed below)
python3 - "$DB" "$GEN/issues.jsonl.gz" "$T/new" <<'PY'
import gzip, json, re, sqlite3, sys
db, src, out = sys.argv[1:4]
held = [r[0] for r in sqlite3.connect(db).execute("SELECT number FROM bench_held ORDER BY created_at, id")]
want, recs = set(held), {}
with gzip.open(src, "rt", encoding="utf-8") as f:
    for line in f:
        if any(int(n) in want for n in re.findall(r'"number":\s*(\d+)', line)):
            o = json.loads(line)
            if o.get("number") in want:
                recs[o["number"]] = line
for i in range(0, len(held), 20):
    with open("%s-%d.jsonl" % (out, i // 20 + 1), "w", encoding="utf-8") as g:
        g.writelines(recs[n] for n in held[i:i + 20])
PY
cp "$DB" "$T/imported.db"

# ---- analyze ------------------------------------------------------------
walls=; rss=; cpus=
for i in $(seq "$FULL_RUNS"); do
    [ "$i" -gt 1 ] && cp "$T/imported.db" "$DB" && rm -f "$DB-wal" "$DB-shm"
    sync
    r=$(timed "$T/full-$i" "$DOPPEL" analyze --db "$DB" --all --full)
    walls="$walls $(wall_of "$r")"; cpus="$cpus $(cpu_of "$r")"
    [ "$(rss_of "$r")" -gt "${rss:-0}" ] && rss=$(rss_of "$r")   # the highest peak of the runs
done
pairs=$(sqlite3 "$DB" "SELECT count(*) FROM pairs")
m=$(median_run "$walls")
row "analyze --all --full (median of $FULL_RUNS:$walls)" "$(echo $walls | tr ' ' '\n' | median) s, $(cpu_note "$cpus"), $rss MB RSS, $pairs pairs; $(grep -m1 '^time:' "$T/full-$m" | sed 's/^time: //')"

walls=
for i in $(seq "$RUNS"); do
    r=$(timed "$T/same" "$DOPPEL" analyze --db "$DB" --all)
    walls="$walls $(wall_of "$r")"; rss=$(rss_of "$r")
done
row "analyze with nothing changed" "$(echo $walls | tr ' ' '\n' | median) s, $rss MB RSS"

walls=; iwalls=; cpus=
for i in $(seq "$RUNS"); do
    r=$(timed "$T/import20" "$DOPPEL" import --db "$DB" "$T/new-$i.jsonl")
    iwalls="$iwalls $(wall_of "$r")"
    # the disk settled first, as between a maintainer's runs: the full run
    # (a gigabyte into this store file) and the import wrote just before
    sync
    r=$(timed "$T/new20" "$DOPPEL" analyze --db "$DB" --all)
    walls="$walls $(wall_of "$r")"; rss=$(rss_of "$r"); cpus="$cpus $(cpu_of "$r")"
done
row "analyze after 20 new items (median of $RUNS:$walls)" "$(echo $walls | tr ' ' '\n' | median) s, $(cpu_note "$cpus"), $rss MB RSS; $(grep -m1 '^time:' "$T/new20" | sed 's/^time: //'); their import before it (median of $RUNS:$iwalls) $(echo $iwalls | tr ' ' '\n' | median) s"

# ---- similar from the shell ---------------------------------------------
sqlite3 -json "$DB" "SELECT title, substr(body, 1, 600) AS body FROM bench_held ORDER BY id LIMIT $RUNS" >"$T/q.json"
walls=
for i in $(seq 0 $((RUNS - 1))); do
    title=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])]["title"])' "$T/q.json" "$i")
    body=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])]["body"])' "$T/q.json" "$i")
    r=$(timed "$T/similar" "$DOPPEL" similar --db "$DB" --title "$title" --body "$body" -k 5)
    walls="$walls $(wall_of "$r")"; rss=$(rss_of "$r")
done
row "similar --title --body, one call from the shell (median of $RUNS)" "$(echo $walls | tr ' ' '\n' | median) s, $rss MB RSS"

# ---- serve ----------------------------------------------------------------
"$DOPPEL" serve --db "$DB" --port 0 --similar-rate 1000000 >"$T/serve.out" 2>"$T/serve.err" &
pid=$!
for _ in $(seq 300); do [ -s "$T/serve.out" ] && break; sleep 0.1; done
URL=$(head -1 "$T/serve.out")
sqlite3 -json "$DB" "SELECT title, substr(body, 1, 600) AS body FROM items
                     ORDER BY (id * 7919) % 10007 LIMIT $REQUESTS" >"$T/sq.json"
python3 - "$URL" "$T/sq.json" "$pid" "$pairs" "$RUNS" <<'EOF' | tee -a "$ROWS"
import json, sys, time, urllib.parse, urllib.request
url, qfile, pid, npairs, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def get(path):
    t = time.perf_counter()
    with urllib.request.urlopen(url + path) as r:
        body = json.load(r)
    return (time.perf_counter() - t) * 1000, body

def pct(ms, p):
    ms = sorted(ms)
    return ms[min(len(ms) - 1, int(p / 100 * len(ms)))]

qs = json.load(open(qfile))
cold, _ = get("api/similar?" + urllib.parse.urlencode({"title": "warm-up: the corpus loads now", "k": 5}))
ms = [get("api/similar?" + urllib.parse.urlencode({"title": q["title"], "body": q["body"], "k": 5}))[0] for q in qs]
rss = int([l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0].split()[1]) // 1024
print("| /api/similar on serve: first request, then %d warm | first %.0f ms; warm p50 %.1f ms, p90 %.1f ms; server RSS %d MB |"
      % (len(ms), cold, pct(ms, 50), pct(ms, 90), rss))

deep = max(0, int(npairs * 0.8))
first, _ = get("api/pairs?limit=50&offset=%d" % deep)
off = [get("api/pairs?limit=50&offset=%d" % deep)[0] for _ in range(runs)]
_, b = get("api/pairs?limit=1&offset=%d" % (deep - 1))
cur = urllib.parse.quote(b["next"] or "")
ks = [get("api/pairs?limit=50&offset=%d&after=%s" % (deep, cur))[0] for _ in range(runs)]
print("| /api/pairs?limit=50 at offset %d of %d pairs | keyset (after=) p50 %.1f ms; OFFSET p50 %.1f ms (first request, counts included: %.0f ms) |"
      % (deep, npairs, pct(ks, 50), pct(off, 50), first))
first, b = get("api/pairs?limit=50&text=timeout")
tx = [get("api/pairs?limit=50&text=timeout")[0] for _ in range(runs)]
first2, _ = get("api/pairs?limit=50&text=timeout&offset=50&after=%s" % urllib.parse.quote(b["next"] or ""))
print("| /api/pairs?limit=50&text=timeout (%d matches) | first %.0f ms, then p50 %.1f ms; its next page %.0f ms |"
      % (b["total"], first, pct(tx, 50), first2))
# Texts a maintainer types, from rare to common: each one's first request
# (nothing of it cached), as a new user meets them.
firsts = []
for word in ("segfault", "install", "memory leak", "crash", "error"):
    ms, b = get("api/pairs?limit=50&text=" + urllib.parse.quote(word))
    firsts.append("%s %.0f ms (%d)" % (word, ms, b["total"]))
print("| /api/pairs?limit=50&text=T, the first request of each text (matches) | %s |" % "; ".join(firsts))
for flt in ("label=bug", "qstate=open&label=enhancement"):
    first, b = get("api/pairs?limit=50&" + flt)
    ws = [get("api/pairs?limit=50&offset=%d&%s" % (50 * (i + 1), flt))[0] for i in range(runs)]
    print("| /api/pairs?limit=50&%s (%d pairs; counted from the table serve shares between its threads) | first %.0f ms, further pages p50 %.1f ms |"
          % (flt, b["total"], first, pct(ws, 50)))
EOF
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

# ---- store ----------------------------------------------------------------
size=$(stat -c %s "$DB")
items=$(sqlite3 "$DB" "SELECT count(*) FROM items")
row "store size" "$(awk -v s="$size" -v n="$items" 'BEGIN {printf "%.2f GB, %.1f KB per item (%d items)", s / 1e9, s / 1024 / n, n}')"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores; the times above are wall clock unless CPU-s)"
