#!/usr/bin/env python3
"""check_db.py -- compares a doppel store with the fake GitHub server's data.

Usage: check_db.py DB URL REPO     prints "same" and exits 0 when the live
(non-deleted) items and the comments of REPO in DB equal the server's /_dump
(number, title, body, state, updated_at, kind; comment id, issue, body --
comments of items marked deleted are ignored: they stay with their item),
else prints the first differences and exits 1.
       check_db.py DB - REPO SQL   prints the single value of SQL with
:repo bound to the repository id (a small query helper for the tests).
"""
import datetime
import json
import sqlite3
import sys
import urllib.request


def epoch(s):
    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def main():
    db, url, repo = sys.argv[1:4]
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    row = con.execute("SELECT id FROM repositories WHERE name = ?", (repo,)).fetchone()
    rid = row[0] if row else -1
    if url == "-":
        v = con.execute(sys.argv[4], {"repo": rid}).fetchone()
        print(v[0] if v else "")
        return 0
    dump = json.load(urllib.request.urlopen(url + "/_dump"))
    want_items = {i["number"]: (i["title"], i["body"] or "", i["state"], epoch(i["updated_at"]), int(i["pr"]))
                  for i in dump["issues"]}
    have_items = {n: (t, b, s, u, k) for n, t, b, s, u, k in con.execute(
        "SELECT number, title, body, state, updated_at, kind FROM items WHERE repo_id = ? AND deleted = 0",
        (rid,))}
    want_c = {c["id"]: (str(c["issue"]), c["body"]) for c in dump["comments"]}
    have_c = {i: (k, b) for i, k, b in con.execute(
        "SELECT tracker_id, item_key, body FROM comments c WHERE repo_id = ? AND NOT EXISTS ("
        " SELECT 1 FROM items i WHERE i.repo_id = c.repo_id AND i.key = c.item_key AND i.deleted = 1)",
        (rid,))}
    bad = []
    for name, want, have in (("item", want_items, have_items), ("comment", want_c, have_c)):
        for k in sorted(set(want) | set(have)):
            if want.get(k) != have.get(k):
                bad.append("%s %s: server %r, store %r" % (name, k, want.get(k), have.get(k)))
    if bad:
        print("%d differences (items %d/%d, comments %d/%d)" % (len(bad), len(have_items), len(want_items),
                                                                 len(have_c), len(want_c)))
        print("\n".join(x[:300] for x in bad[:5]))
        return 1
    print("same")
    return 0


if __name__ == "__main__":
    sys.exit(main())
