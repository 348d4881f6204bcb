#!/usr/bin/env python3
"""table.py DIR PROJECT... -- the accuracy table of bench/accuracy.sh from
the JSON reports `doppel eval --json` wrote (DIR/P.lopo.json and
DIR/P.chrono.json), with the bar checked on the averages.

`duplicate . high` is shown twice: on known-duplicate queries (every query
has a true answer; the bar) and on all queries (the known duplicates plus
sampled issues without a known duplicate, weighted to the base rate: the
precision a maintainer sees, and the share of issues without a duplicate
that get a duplicate . high pair)."""
import json
import sys

d, projects = sys.argv[1], sys.argv[2:]
rows = []
for p in projects:
    lo = json.load(open(f"{d}/{p}.lopo.json"))
    ch = json.load(open(f"{d}/{p}.chrono.json"))
    rows.append((p, lo, ch))

hdr = ("project   queries | LOPO  R@1   R@5  R@10   MRR | BM25 R@10  MRR | high  prec   rec"
       " | all: prec  alarm | chrono(n) R@1  R@10   MRR | BM25 R@1 R@10  MRR")
print(hdr)
print("-" * len(hdr))
keys = []
for p, lo, ch in rows:
    L, B, H, HA = lo["learned"], lo["baseline"], lo["high"], lo["high_all"]
    C, CB = ch["learned"], ch["baseline"]
    v = [L["recall@1"], L["recall@5"], L["recall@10"], L["mrr"], B["recall@10"], B["mrr"],
         H["precision"], H["recall"], C["recall@1"], C["recall@10"], C["mrr"],
         CB["recall@1"], CB["recall@10"], CB["mrr"], HA["precision"], HA["false_alarm"]]
    keys.append(v)
    print(f"{p:<10}{lo['test_queries']:>6} |     {v[0]:.3f} {v[1]:.3f} {v[2]:.3f} {v[3]:.3f} |"
          f"     {v[4]:.3f} {v[5]:.3f} |      {v[6]:.3f} {v[7]:.3f} |"
          f"     {v[14]:.3f} {v[15]:.4f} |"
          f" {ch['test_queries']:>6}   {v[8]:.3f} {v[9]:.3f} {v[10]:.3f} |"
          f"   {v[11]:.3f} {v[12]:.3f} {v[13]:.3f}")
n = len(keys)
a = [sum(k[i] for k in keys) / n for i in range(len(keys[0]))]
print("-" * len(hdr))
print(f"{'average':<16} |     {a[0]:.3f} {a[1]:.3f} {a[2]:.3f} {a[3]:.3f} |"
      f"     {a[4]:.3f} {a[5]:.3f} |      {a[6]:.3f} {a[7]:.3f} |"
      f"     {a[14]:.3f} {a[15]:.4f} |"
      f"          {a[8]:.3f} {a[9]:.3f} {a[10]:.3f} |   {a[11]:.3f} {a[12]:.3f} {a[13]:.3f}")

# pooled precision/recall of `duplicate . high` over all LOPO queries
hp = sum(lo["high"]["pairs"] for _, lo, _ in rows)
ht = sum(lo["high"]["true"] for _, lo, _ in rows)
hq = sum(lo["high"]["recall"] * lo["test_queries"] for _, lo, _ in rows)
nq = sum(lo["test_queries"] for _, lo, _ in rows)
print(f"duplicate . high on all {nq} known-duplicate LOPO queries: precision "
      f"{ht / max(hp, 1):.3f} ({ht}/{hp}), recall {hq / max(nq, 1):.3f}")
# all queries: the weighted pairs of every project (each project's sampled
# no-duplicate issues stand for all of its issues without a known duplicate)
hpa = sum(lo["high_all"]["pairs"] for _, lo, _ in rows)
npop = sum(lo["negatives"]["population"] for _, lo, _ in rows)
nflag = sum(lo["high_all"]["false_alarm"] * lo["negatives"]["population"] for _, lo, _ in rows)
print(f"duplicate . high on all queries ({nq} known duplicates + {npop} issues without one, "
      f"base rate {nq / max(nq + npop, 1):.3f}): precision {ht / max(hpa, 1):.3f} "
      f"({ht}/{hpa:.0f} weighted pairs), recall {hq / max(nq, 1):.3f}; "
      f"{100 * nflag / max(npop, 1):.2f}% of issues without a known duplicate get one")

checks = [
    ("LOPO recall@1 >= 0.62", a[0] >= 0.62),
    ("LOPO recall@10 >= 0.86", a[2] >= 0.86),
    ("LOPO MRR >= 0.70", a[3] >= 0.70),
    ("LOPO above BM25 in recall@10 and MRR on every project",
     all(k[2] > k[4] and k[3] > k[5] for k in keys)),
    ("chronological above REP (R@1 0.66, R@10 0.89, MRR 0.73)",
     a[8] > 0.66 and a[9] > 0.89 and a[10] > 0.73),
    ("high precision >= 0.90 on known duplicates (pooled and project average)",
     ht / max(hp, 1) >= 0.90 and a[6] >= 0.90),
    ("high recall >= 0.40 on known duplicates (pooled and project average)",
     hq / max(nq, 1) >= 0.40 and a[7] >= 0.40),
]
for name, ok in checks:
    print(f"{'PASS' if ok else 'FAIL'}  {name}")
