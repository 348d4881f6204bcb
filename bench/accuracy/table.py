#!/usr/bin/env python3
"""table.py DIR PROJECT... -- the accuracy table of bench/accuracy.sh from
the JSON reports `doppel eval --json` wrote (DIR/P.lopo.json and
DIR/P.chrono.json), with the bar checked on the averages and the pooled
set.

Retrieval: recall@k and MRR of known duplicates (LOPO and in-project
chronological split) beside the BM25 baseline.

Judgment (LOPO; every item of the project is a query, its top candidates
judged, truth from typed links -- see eval.h):
  dup P   `duplicate . high` precision, link truth, Relates left out
  dup R   share of queries with a known duplicate whose twin is shown
          `duplicate . high`
  dup Pall  the same precision over every pair shown (unlinked = wrong)
  rel P   `related . high` precision on issue/issue pairs (Relates counts
          as related)
  rel R   share of queries with a related item shown `related . high`
  Q@20/50/100  share of linked duplicates among the top pairs shown as
          duplicates in value order
The pooled row sums the counts of all projects (queue: mean of projects)."""
import json
import sys

d, projects = sys.argv[1], sys.argv[2:]
rows = []
for p in projects:
    lo = json.load(open(f"{d}/{p}.lopo.json"))
    ch = json.load(open(f"{d}/{p}.chrono.json"))
    rows.append((p, lo, ch))


def ratio(a, b):
    return a / b if b else 0.0


def judged(j):
    """(dup P, dup R, dup Pall, rel P, rel R) of one judgment object."""
    return (j["duplicate_high_precision"], j["duplicate_high_recall"],
            j["duplicate_high_precision_all"], j["related_high_precision"],
            j["related_high_recall"])


hdr = ("project   queries | LOPO  R@1   R@5  R@10   MRR | BM25 R@10  MRR |"
       " dup P  dup R  Pall | rel P  rel R | Q@20  Q@50 Q@100 |"
       " chrono(n) R@1  R@10   MRR")
print(hdr)
print("-" * len(hdr))
vals = []
for p, lo, ch in rows:
    L, B, C = lo["learned"], lo["baseline"], ch["learned"]
    j, q = lo["judgment"], lo["queue"]
    v = [L["recall@1"], L["recall@5"], L["recall@10"], L["mrr"], B["recall@10"], B["mrr"],
         *judged(j), q["precision_at_20"], q["precision_at_50"], q["precision_at_100"],
         C["recall@1"], C["recall@10"], C["mrr"]]
    vals.append(v)
    print(f"{p:<10}{lo['test_queries']:>6} |     {v[0]:.3f} {v[1]:.3f} {v[2]:.3f} {v[3]:.3f} |"
          f"     {v[4]:.3f} {v[5]:.3f} | {v[6]:.3f} {v[7]:.3f} {v[8]:.3f} | {v[9]:.3f} {v[10]:.3f} |"
          f" {v[11]:.2f}  {v[12]:.2f}  {v[13]:.2f} |"
          f" {ch['test_queries']:>6}   {v[14]:.3f} {v[15]:.3f} {v[16]:.3f}")
n = len(vals)
a = [sum(v[i] for v in vals) / n for i in range(len(vals[0]))]
print("-" * len(hdr))
print(f"{'average':<16} |     {a[0]:.3f} {a[1]:.3f} {a[2]:.3f} {a[3]:.3f} |"
      f"     {a[4]:.3f} {a[5]:.3f} | {a[6]:.3f} {a[7]:.3f} {a[8]:.3f} | {a[9]:.3f} {a[10]:.3f} |"
      f" {a[11]:.2f}  {a[12]:.2f}  {a[13]:.2f} |"
      f"          {a[14]:.3f} {a[15]:.3f} {a[16]:.3f}")


def pooled(rows):
    """The judgment measures over every project's pairs together."""
    s = {"dc": 0, "dl": 0, "ds": 0, "rc": 0, "rl": 0, "dq": 0, "dk": 0, "rq": 0, "rk": 0}
    conf = {}
    relates = {}
    failure = {}
    for _, lo, _ in rows:
        j = lo["judgment"]
        s["dc"] += j["correct"]["duplicate"]["high"]
        s["dl"] += j["linked"]["duplicate"]["high"]
        s["ds"] += j["shown"]["duplicate"]["high"]
        s["rc"] += j["related_issue_issue"]["correct"]["high"]
        s["rl"] += j["related_issue_issue"]["linked"]["high"]
        s["dq"] += j["queries_with_duplicate"]
        s["dk"] += j["caught_at_or_above"]["high"]["duplicate"]
        s["rq"] += j["queries_with_related"]
        s["rk"] += j["caught_at_or_above"]["high"]["related"]
        for t, row in j["confusion"].items():
            for sh, c in row.items():
                conf[(t, sh)] = conf.get((t, sh), 0) + c
        for sh, lv in j["relates"].items():
            relates[sh] = relates.get(sh, 0) + sum(lv.values())
        for k in ("same_failure", "same_failure_lifted"):
            for t, c in j.get(k, {}).items():
                failure[(k, t)] = failure.get((k, t), 0) + c
    return s, conf, relates, failure


s, conf, relates, failure = pooled(rows)
print(f"pooled   | duplicate . high: precision {ratio(s['dc'], s['dl']):.3f} ({s['dc']}/{s['dl']} "
      f"linked pairs), over all pairs shown {ratio(s['dc'], s['ds']):.3f} ({s['ds']} shown), "
      f"recall {ratio(s['dk'], s['dq']):.3f} ({s['dk']}/{s['dq']} queries)")
print(f"         | related . high (issue/issue): precision {ratio(s['rc'], s['rl']):.3f} "
      f"({s['rc']}/{s['rl']}), recall {ratio(s['rk'], s['rq']):.3f} ({s['rk']}/{s['rq']})")
names = ["duplicate", "related", "not_related"]
print("         | confusion (rows truth, columns shown): " + "; ".join(
    f"{t}: " + " ".join(f"{conf.get((t, sh), 0)}" for sh in names) for t in names))
print("         | Relates-linked pairs shown as: " + ", ".join(f"{k} {v}" for k, v in sorted(relates.items())))
for k, what in (("same_failure", "same failure (rare frames or error line)"),
                ("same_failure_lifted", "... lifted from not related by the floor")):
    print(f"         | {what}: " + ", ".join(f"{t} {failure.get((k, t), 0)}"
                                            for t in ("duplicate", "related", "relates", "unlinked")))

# The bar: retrieval as before, judgment as the issue asks.
bar = [("LOPO mean R@1 >= 0.65", a[0] >= 0.65), ("LOPO mean R@10 >= 0.88", a[2] >= 0.88),
       ("LOPO mean MRR >= 0.73", a[3] >= 0.73),
       ("learned beats BM25 on R@10", a[2] > a[4]),
       ("pooled duplicate.high precision >= 0.90", ratio(s["dc"], s["dl"]) >= 0.90),
       ("pooled duplicate.high recall >= 0.40", ratio(s["dk"], s["dq"]) >= 0.40),
       ("pooled related.high precision (issue/issue) >= 0.85", ratio(s["rc"], s["rl"]) >= 0.85)]
for name, ok in bar:
    print(f"{'PASS' if ok else 'FAIL'}  {name}")
