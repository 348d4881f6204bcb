#!/usr/bin/env python3
"""gen_scale.py -- a synthetic GitHub repository of any size from the real
texts of ../shared/data, for bench/scale.sh.

Usage: gen_scale.py DATA_DIR OUT_DIR N [--seed S] [--plain] [--repo OWNER/NAME] [--years Y]

Writes OUT_DIR/issues.jsonl.gz (N GitHub REST issue objects, one a line:
what `doppel import` reads) and OUT_DIR/comments.jsonl.gz (REST issue
comment objects), or .jsonl with --plain. Deterministic for a seed.

The texts: all of huggingface/datasets (7,258 GitHub issues and pull
requests) and apache-jira (40,704 reports, with up to 3 of their comments),
shuffled once by the seed. Item k (1-based number) takes base text
(k-1) mod B; the first pass is the texts as they are, every later pass is
a near-duplicate of an item of the first pass with about 10% of the words of
title and body dropped (every tenth word from a random offset: cheap, and
as good as a random 10% for a bag-of-words ranker). A quarter of the
near-duplicates say "Duplicate of #M" (M: the item they copy) at the end of
their body and are closed as duplicates, as GitHub users file them.

Dates: creation times rise with the number at 25,000 items a year (about
microsoft/vscode's pace: 250,000 items span 2015-2025), with jitter -- a
tracker twice the size is twice as old, not twice as busy, as a time
horizon (analyze --horizon) needs to show its cost; --years Y spreads the
items over Y years instead; 65% of the items are closed, a few hours to a year later; items
updated after creation or closure. Pull requests: the huggingface ones stay
pull requests, a quarter of the Jira-derived ones become one (merged when
closed). Labels: the item's own plus a kind label and, sometimes, an area.
"""
import argparse
import datetime
import glob
import gzip
import json
import os
import random
import sys
import time

EPOCH = int(datetime.datetime(2015, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
YEAR = 365 * 86400
RATE = 25000          # items a year
KIND_LABELS = [("bug", "d73a4a"), ("enhancement", "a2eeef"), ("question", "d876e3"),
               ("documentation", "0075ca")]
AREA_LABELS = [("area/%s" % a, "c5def5") for a in
               ("core", "io", "cli", "web", "build", "network", "storage", "security")]
LOGINS = ["user%d" % i for i in range(5000)]


def jira_text(o):
    f = o.get("fields") or {}
    com = [(c.get("body") or "")[:2000] for c in ((f.get("comment") or {}).get("comments") or [])[:3]]
    return (f.get("summary") or "", f.get("description") or "", list(f.get("labels") or []), False, com)


def hf_text(o):
    labels = [l.get("name") for l in o.get("labels") or [] if isinstance(l, dict) and l.get("name")]
    return (o.get("title") or "", o.get("body") or "", labels, "pull_request" in o, [])


def load_bases(data):
    bases = []
    with gzip.open(os.path.join(data, "github-hf-datasets", "issues.jsonl.gz"), "rt", encoding="utf-8") as f:
        bases.extend(hf_text(json.loads(line)) for line in f)
    for path in sorted(glob.glob(os.path.join(data, "apache-jira", "*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            bases.extend(jira_text(json.loads(line)) for line in f)
    return bases


def drop_words(text, off):
    """About 10% of the words of text gone: every tenth from offset off."""
    words = text.split(" ")
    if len(words) < 4:
        return text
    del words[off::10]
    return " ".join(words)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--repo", default="scale/big")
    ap.add_argument("--years", type=float, default=0, help="span of the creation dates (default: N / 25,000)")
    a = ap.parse_args()
    span = int(a.years * YEAR) if a.years > 0 else a.n * YEAR // RATE
    rnd = random.Random(a.seed)
    t0 = time.time()
    bases = load_bases(a.data)
    rnd.shuffle(bases)
    nb = len(bases)
    os.makedirs(a.out, exist_ok=True)
    ext = ".jsonl" if a.plain else ".jsonl.gz"
    opener = (lambda p: open(p, "w", encoding="utf-8")) if a.plain else \
        (lambda p: gzip.open(p, "wt", encoding="utf-8", compresslevel=1))
    api = "https://api.github.com/repos/" + a.repo
    web = "https://github.com/" + a.repo
    ncom = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with opener(os.path.join(a.out, "issues" + ext)) as w, \
            opener(os.path.join(a.out, "comments" + ext)) as wc:
        out, outc = [], []
        for k in range(1, a.n + 1):
            title, body, labels, is_pr, comments = bases[(k - 1) % nb]
            copy_of = k - nb if k > nb else 0
            created = EPOCH + (k - 1) * span // max(a.n, 1) + rnd.randrange(3600)
            dup = False
            if copy_of:
                off = rnd.randrange(10)
                title, body = drop_words(title, off), drop_words(body, off)
                if rnd.random() < 0.25:
                    dup = True
                    body += "\n\nDuplicate of #%d" % ((k - 1) % nb + 1)
            if not is_pr and rnd.random() < 0.25 and (k - 1) % nb >= 7258:
                is_pr = True
            closed = dup or rnd.random() < 0.65
            closed_at = created + rnd.randrange(3600, 365 * 86400) if closed else None
            updated = (closed_at or created) + rnd.randrange(0, 30 * 86400)
            reason = None
            if closed:
                reason = "duplicate" if dup else ("completed" if rnd.random() < 0.8 else "not_planned")
            ls = [{"id": 1000 + i, "name": n, "color": "ededed", "default": False} for i, n in enumerate(labels)]
            kl = KIND_LABELS[rnd.randrange(len(KIND_LABELS))]
            ls.append({"id": 1, "name": kl[0], "color": kl[1], "default": True})
            if rnd.random() < 0.3:
                al = AREA_LABELS[rnd.randrange(len(AREA_LABELS))]
                ls.append({"id": 2, "name": al[0], "color": al[1], "default": False})
            if dup:
                ls.append({"id": 3, "name": "duplicate", "color": "cfd3d7", "default": True})
            uid = rnd.randrange(len(LOGINS))
            nc = len(comments)
            o = {"url": "%s/issues/%d" % (api, k), "repository_url": api,
                 "html_url": "%s/%s/%d" % (web, "pull" if is_pr else "issues", k),
                 "id": 2 * 10 ** 9 + k, "node_id": "I_scale%d" % k, "number": k, "title": title,
                 "user": {"login": LOGINS[uid], "id": 7 + uid, "type": "User"},
                 "labels": ls, "state": "closed" if closed else "open", "locked": False,
                 "assignee": None, "assignees": [], "comments": nc + rnd.randrange(3),
                 "created_at": iso(created), "updated_at": iso(updated),
                 "closed_at": iso(closed_at) if closed_at else None,
                 "author_association": "NONE", "active_lock_reason": None, "body": body,
                 "reactions": {"total_count": rnd.randrange(4) if rnd.random() < 0.2 else 0},
                 "state_reason": reason}
            if is_pr:
                o["pull_request"] = {"url": "%s/pulls/%d" % (api, k),
                                     "merged_at": iso(closed_at) if closed and not dup else None}
            out.append(dumps(o))
            for j, cb in enumerate(comments):
                ct = created + (j + 1) * rnd.randrange(600, 86400)
                outc.append(dumps({"id": 3 * 10 ** 9 + ncom, "issue_url": "%s/issues/%d" % (api, k),
                                   "html_url": "%s/issues/%d#issuecomment-%d" % (web, k, 3 * 10 ** 9 + ncom),
                                   "user": {"login": LOGINS[rnd.randrange(len(LOGINS))], "id": 9, "type": "User"},
                                   "created_at": iso(ct), "updated_at": iso(ct), "body": cb,
                                   "author_association": "NONE"}))
                ncom += 1
            if len(out) >= 4096:
                w.write("\n".join(out) + "\n")
                out = []
            if len(outc) >= 4096:
                wc.write("\n".join(outc) + "\n")
                outc = []
        if out:
            w.write("\n".join(out) + "\n")
        if outc:
            wc.write("\n".join(outc) + "\n")
    print("%d items, %d comments in %s (%d base texts, seed %d) in %.1f s"
          % (a.n, ncom, a.out, nb, a.seed, time.time() - t0))


if __name__ == "__main__":
    sys.exit(main())
