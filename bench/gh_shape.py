#!/usr/bin/env python3
"""gh_shape.py -- one GitHub-shaped repository from ../shared/data, for the
triage benchmark (bench/triage.sh): the fake GitHub API serves it.

Usage: gh_shape.py DATA_DIR OUT.jsonl.gz HELDOUT.jsonl N

All of apache-jira (40,704 reports) and huggingface/datasets (7,258 issues
and pull requests) become GitHub REST issue objects of one repository:
huggingface keeps its numbers (1-7426); Jira reports, which have no numbers,
are numbered from 10001 in file order (title = summary, body = description,
closed when resolved, state_reason from the resolution: Duplicate ->
duplicate, Fixed -> completed, others -> not_planned). The last N Jira
reports that duplicate an earlier one (duplicates.csv) are left out and
written to HELDOUT, one {"title", "body", "duplicate_of"} per line (the
number their twin got): what bench/triage.sh files as new issues.
"""
import csv
import datetime
import glob
import gzip
import json
import os
import sys

REPO = "bench/big"
API = "https://api.github.com/repos/" + REPO


def iso(jira_time):
    if not jira_time:
        return None
    t = datetime.datetime.strptime(jira_time[:19], "%Y-%m-%dT%H:%M:%S")
    off = jira_time[-5:]   # "+0000"
    sign = 1 if off[0] == "+" else -1
    t -= sign * datetime.timedelta(hours=int(off[1:3]), minutes=int(off[3:5]))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def user(login):
    return {"login": login or "ghost", "id": 1, "type": "User"}


def from_jira(o, n):
    f = o["fields"]
    res = (f.get("resolution") or {}).get("name")
    closed = res is not None or (f.get("status") or {}).get("name") in ("Closed", "Resolved")
    reason = None
    if closed:
        reason = {"Duplicate": "duplicate", "Fixed": "completed", "Done": "completed"}.get(res, "not_planned")
    return {"id": 10 ** 9 + n, "node_id": "I_%d" % n, "number": n, "title": f.get("summary") or "",
            "body": f.get("description"), "user": user((f.get("reporter") or {}).get("name")),
            "labels": [{"name": l, "color": "ededed"} for l in f.get("labels") or []],
            "state": "closed" if closed else "open", "state_reason": reason,
            "comments": (f.get("comment") or {}).get("total") or 0,
            "created_at": iso(f.get("created")), "updated_at": iso(f.get("updated")),
            "closed_at": iso(f.get("resolutiondate")) if closed else None,
            "author_association": "NONE", "reactions": {"total_count": 0},
            "url": "%s/issues/%d" % (API, n), "repository_url": API,
            "html_url": "https://github.com/%s/issues/%d" % (REPO, n)}


def main():
    data, out, heldout, n_held = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    dups = list(csv.DictReader(open(os.path.join(data, "apache-jira", "duplicates.csv"))))
    held = {r["query"]: r["duplicate_of"] for r in dups[-n_held:]} if n_held else {}
    number, kept, items = {}, {}, 0
    with gzip.open(out, "wt", encoding="utf-8") as w:
        with gzip.open(os.path.join(data, "github-hf-datasets", "issues.jsonl.gz"), "rt", encoding="utf-8") as f:
            for line in f:
                o = json.loads(line)
                o["repository_url"] = API
                w.write(json.dumps(o, ensure_ascii=False) + "\n")
                items += 1
        n = 10001
        for path in sorted(glob.glob(os.path.join(data, "apache-jira", "*.jsonl.gz"))):
            with gzip.open(path, "rt", encoding="utf-8") as f:
                for line in f:
                    o = json.loads(line)
                    number[o["key"]] = n
                    if o["key"] in held:
                        kept[o["key"]] = o
                    else:
                        w.write(json.dumps(from_jira(o, n), ensure_ascii=False) + "\n")
                        items += 1
                    n += 1
    with open(heldout, "w", encoding="utf-8") as h:
        for key, twin in held.items():
            f = kept[key]["fields"]
            h.write(json.dumps({"title": f.get("summary") or "", "body": f.get("description") or "",
                                "duplicate_of": number.get(twin), "key": key}) + "\n")
    print("%d items in %s; %d held out in %s" % (items, out, len(held), heldout))


if __name__ == "__main__":
    sys.exit(main())
