#!/usr/bin/env python3
"""check_writes.py -- did `doppel apply` do exactly what it planned, once?

Usage: check_writes.py DB URL REPO PLAN
  PLAN is the output of a dry run (`doppel apply`): its request lines
  ("      METHOD PATH BODY") are what must happen.
Compares, on the fake GitHub server at URL (its /_writes log and /_dump)
and in the store DB:
  1. the writes the server applied == the planned requests, as multisets
     (nothing doubled, nothing missing, nothing else);
  2. every planned comment is on its issue exactly once (by its marker),
     every planned closure is closed as a duplicate, every planned label is on;
  3. the audit: the store's done actions with a request == the applied
     writes; comments carry the server's comment id; nothing pending.
Prints one summary line; exits 1 with the differences otherwise.
"""
import collections
import json
import re
import sqlite3
import sys
import urllib.request


def main():
    db, url, repo, plan = sys.argv[1:5]
    planned = []
    for line in open(plan, encoding="utf-8"):
        m = re.match(r"^      (POST|PATCH|PUT|DELETE) (\S+)(?: (.*))?$", line.rstrip("\n"))
        if m:
            planned.append((m.group(1), m.group(2), m.group(3)))
    writes = json.load(urllib.request.urlopen(url + "/_writes"))
    dump = json.load(urllib.request.urlopen(url + "/_dump"))
    applied = [(w["method"], w["path"], w["body"] or None) for w in writes if w["applied"]]
    bad = []
    P, A = collections.Counter(planned), collections.Counter(applied)
    for k in sorted(set(P) | set(A), key=str):
        if P[k] != A[k]:
            bad.append("%s %s %s: planned %d, applied %d" % (k[0], k[1], (k[2] or "")[:80], P[k], A[k]))
    issues = {i["number"]: i for i in dump["issues"]}
    by_issue = collections.defaultdict(list)
    for c in dump["comments"]:
        by_issue[c["issue"]].append(c)
    ncomm = nclose = nlabel = 0
    for m, path, body in planned:
        n = re.search(r"/issues/(\d+)", path)
        n = int(n.group(1)) if n else None
        if m == "POST" and path.endswith("/comments"):
            ncomm += 1
            text = json.loads(body)["body"]
            marker = re.search(r"<!-- doppel:[^>]* -->", text).group(0)
            found = [c for c in by_issue[n] if marker in c["body"]]
            if len(found) != 1:
                bad.append("issue %d: %d comments with %s" % (n, len(found), marker))
        elif m == "PATCH" and re.search(r"/issues/\d+$", path):
            nclose += 1
            i = issues.get(n, {})
            if (i.get("state"), i.get("state_reason")) != ("closed", "duplicate"):
                bad.append("issue %d: %s/%s, not closed as a duplicate" % (n, i.get("state"), i.get("state_reason")))
        elif m == "POST" and path.endswith("/labels"):
            nlabel += 1
            want = json.loads(body)["labels"][0]
            if want not in issues.get(n, {}).get("labels", []):
                bad.append("issue %d: label %s missing" % (n, want))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    rid = con.execute("SELECT id FROM repositories WHERE name = ?", (repo,)).fetchone()[0]
    audit = [(m, p, b) for m, p, b in con.execute(
        "SELECT method, path, body FROM actions WHERE repo_id = ? AND state IN ('done', 'undone') "
        "AND method IS NOT NULL AND undo_of IS NULL", (rid,))]
    D = collections.Counter(audit)
    for k in sorted(set(D) | set(A), key=str):
        if D[k] != A[k]:
            bad.append("audit %s %s: %d rows, %d applied" % (k[0], k[1], D[k], A[k]))
    pending = con.execute("SELECT count(*) FROM actions WHERE repo_id = ? AND state = 'pending'", (rid,)).fetchone()[0]
    if pending:
        bad.append("%d actions still pending" % pending)
    ids = {c["id"] for c in dump["comments"]}
    for gid, path in con.execute("SELECT gh_id, path FROM actions WHERE repo_id = ? AND kind = 'comment' "
                                 "AND state = 'done'", (rid,)):
        if gid not in ids:
            bad.append("audit: comment %s on %s is not on the server" % (gid, path))
    if bad:
        print("%d differences" % len(bad))
        print("\n".join(bad[:20]))
        return 1
    print("exact: %d writes applied as planned (%d comments, %d closures, %d labels), %d in the audit, 0 pending, "
          "%d write requests received" % (len(applied), ncomm, nclose, nlabel, len(audit), len(writes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
