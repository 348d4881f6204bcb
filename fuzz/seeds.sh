#!/usr/bin/env bash
# seeds.sh BUILD -- builds the seed corpus of every fuzz target in
# BUILD/corpus/<target>/ (make fuzz runs it) from what the tree already has:
# the test fixtures, a few records and bodies of the demo data, the small
# hand-made seeds in fuzz/seeds/<target>/ (edge cases the fixtures lack),
# gzip versions of the import seeds, and snapshots written by fuzz_snapshot
# itself. Nothing large is committed: the corpora are made here.
set -eu
cd "$(dirname "$0")/.."
B=${1:?usage: fuzz/seeds.sh BUILD}
C=$B/corpus
rm -rf "$C" "$B/regress"
mkdir -p "$C"
for t in split import pick links text markdown gh_headers gh_pages snapshot api; do mkdir -p "$C/fuzz_$t"; done

cp_seeds() {   # cp_seeds TARGET FILE...
    local t=$1; shift
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$C/fuzz_$t/$(basename "$(dirname "$f")")_$(basename "$f")"
    done
    return 0
}

# Demo data: the first records of each file as a small array and as NDJSON,
# and some bodies as plain text (the whole files are too big to be seeds).
python3 - "$C" <<'PY'
import json, sys
c = sys.argv[1]
issues = json.load(open("demo/issues.json"))
comments = json.load(open("demo/comments.json"))
def put(target, name, text):
    with open(f"{c}/fuzz_{target}/{name}", "w") as f:
        f.write(text)
for t in ("split", "import"):
    put(t, "demo_issues.json", json.dumps(issues[:2], indent=1))
    put(t, "demo_issues.jsonl", "".join(json.dumps(i) + "\n" for i in issues[2:4]))
    put(t, "demo_comments.json", json.dumps(comments[:3]))
put("gh_pages", "demo_issues.json", json.dumps(issues[:3]))
put("gh_pages", "demo_comments.json", json.dumps(comments[:3]))
put("gh_pages", "demo_issue.json", json.dumps(issues[4]))
bodies = [i.get("body") or "" for i in issues + comments]
bodies = sorted((b for b in bodies if 20 < len(b) < 3000), key=len)[-12:]
for n, b in enumerate(bodies):
    put("links", f"demo_body{n}.md", b)
    put("markdown", f"demo_body{n}.md", b)
for n, i in enumerate(issues[:6]):
    put("text", f"demo{n}", "\0".join([i.get("title") or "", i.get("body") or "",
                                       issues[-1 - n].get("body") or "",
                                       ",".join(l["name"] for l in i.get("labels", []))]))
PY

ING=(tests/fixtures/ingest/*.json tests/fixtures/analyze/issues.json)
cp_seeds split "${ING[@]}" fuzz/seeds/split/*
cp_seeds import "${ING[@]}" fuzz/seeds/split/*
for f in "$C"/fuzz_import/*; do gzip -9nc "$f" >"$f.gz"; done
# Two gzip members one after the other (valid gzip: `cat a.gz b.gz`), and
# damaged ones (issue 11 A): cut inside the data, the
# trailer dropped, bytes after the member.
G=$C/fuzz_import
cat "$G/ingest_gh_issues.json.gz" "$G/ingest_gh_prs.json.gz" >"$G/two_members.json.gz"
n=$(wc -c <"$G/ingest_github_issues.json.gz")
head -c $((n / 2)) "$G/ingest_github_issues.json.gz" >"$G/cut_half.json.gz"
head -c $((n - 8)) "$G/ingest_github_issues.json.gz" >"$G/cut_trailer.json.gz"
{ cat "$G/ingest_gh_prs.json.gz"; printf 'garbage'; } >"$G/trailing_garbage.json.gz"
# fuzz_pick takes one record: those of the GitHub fixtures and the demo, one
# a file, and the edge cases in fuzz/seeds/pick/.
python3 - "$C/fuzz_pick" tests/fixtures/ingest/github_issues.json tests/fixtures/ingest/gh_issues.json \
    tests/fixtures/ingest/gh_prs.json tests/fixtures/ingest/github_comments.json demo/issues.json \
    demo/comments.json <<'PY'
import json, os, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    text, pos, recs = open(path).read(), 0, []
    while text[pos:].strip():   # concatenated pages too
        page, end = json.JSONDecoder().raw_decode(text, pos + len(text[pos:]) - len(text[pos:].lstrip()))
        recs += page if isinstance(page, list) else [page]
        pos = end
    for n, r in enumerate(recs[:8]):
        name = f"{os.path.basename(os.path.dirname(path))}_{os.path.basename(path)}_{n}"
        with open(f"{out}/{name}", "w") as f:
            json.dump(r, f)
PY
cp_seeds pick fuzz/seeds/pick/*
cp_seeds links tests/fixtures/text/* tests/fixtures/web/*.md fuzz/seeds/links/*
# Bodies at GitHub's size limit (64 K) made of references, which once took
# minutes each (quadratic scans). They are not seeds (64 K inputs would slow
# every mutation): smoke.sh runs the files in BUILD/regress/<target>/ once,
# under its -timeout.
mkdir -p "$B/regress/fuzz_links"
python3 - "$B/regress/fuzz_links" <<'PY'
import sys
d = sys.argv[1]
open(f"{d}/regress_hash_no_spaces", "w").write(",#1" * 21000)
open(f"{d}/regress_url_no_spaces", "w").write("github.com/o/r/issues/1," * 2700)
open(f"{d}/regress_many_refs", "w").write(" ".join("#%d" % i for i in range(1, 11000)))
PY
cp_seeds markdown tests/fixtures/web/* tests/fixtures/text/* fuzz/seeds/markdown/*
for f in tests/fixtures/text/*; do
    printf 'Crash in the parser\0%s\0%s\0bug,crash' "$(cat "$f")" "$(cat tests/fixtures/web/query.md)" \
        >"$C/fuzz_text/$(basename "$f")"
done
cp_seeds gh_headers fuzz/seeds/gh_headers/*
cp_seeds gh_pages tests/fixtures/ingest/github_issues.json tests/fixtures/ingest/github_comments.json \
    fuzz/seeds/gh_pages/*
cp_seeds api fuzz/seeds/api/*
DOPPEL_FUZZ_SEED_DIR="$C/fuzz_snapshot" "$B/fuzz_snapshot" >/dev/null 2>&1 || {
    echo "seeds.sh: $B/fuzz_snapshot could not write its seeds" >&2
    exit 1
}
