#!/usr/bin/env python3
"""fake_github.py -- a local stand-in for the GitHub REST API, for the sync tests.

Serves one repository on 127.0.0.1 with GitHub's field names and headers:
Link pagination (page/per_page, rel next/prev/first/last), ETag and
If-None-Match -> 304 (free of rate limit), X-RateLimit-* per identity,
since=/sort=/direction=/state= filters, gzip when asked, an optional
/api/v3 prefix (GitHub Enterprise). Data is generated deterministically
(--issues N, --seed S) or loaded from a GitHub issues JSONL(.gz) file.

Write endpoints (issue 12; they need the token): POST/GET
/repos/O/R/issues/N/comments, GET/PATCH/DELETE /repos/O/R/issues/comments/ID,
PATCH /repos/O/R/issues/N (state, state_reason), POST /repos/O/R/issues/N/labels,
DELETE /repos/O/R/issues/N/labels/NAME, GET .../issues/comments/ID/reactions,
GET /repos/O/R/collaborators/U/permission. A write to a deleted issue is 404.

Control endpoints (JSON bodies), used by tests/cli/test_sync.sh and test_apply.sh:
  GET  /_stats              request counters
  GET  /_dump               the current issues (with labels) and comments
  GET  /_writes             every write request received: method, path, body,
                            status, applied (what the server state saw), at
                            (when it arrived, epoch seconds)
  POST /_control/fault      {"kind": K, "path": substr, "skip": n, "times": n, "seconds": s}
       K: rate403 | secondary | 429 | 500 | 502 | reset | truncate | slow
       write faults (optional "method": only that method):
          422 | 404 | 403       answered so, not applied (403: "Resource not
                               accessible by integration", a token without Issues: write)
          apply_500            applied, then answered 500
          hang_before          no answer for "seconds" (default 30), not applied
          hang_after           applied, then no answer for "seconds" (default 30)
          reset_after          applied, then the connection is cut
          redirect             307 to "to" + the same path (another host)
  POST /_control/clear      drop pending faults and the hostile mode
  POST /_control/update     {"number": n, "title"?, "body"?, "state"?, "state_reason"?,
                             "updated_at"?}   (updated_at: that date instead of the
                             server's clock, which it leaves alone: a future-dated item)
  POST /_control/comment    {"number": n, "body": s, "user"?, "association"?}  (bumps the issue too)
  POST /_control/react      {"comment": id, "user": login, "content": "-1"}
  POST /_control/label      {"number": n, "name": s, "remove"?: true}   (a person edits labels)
  POST /_control/permission {"user": login, "permission": "write"}
  POST /_control/create     {"title": s, "body"?: s}
  POST /_control/delete     {"number": n}    -> 410 Gone afterwards
  POST /_control/transfer   {"number": n}    -> 301 Moved afterwards
  POST /_control/timeline   {"number": n, "events": [...]}   events appended to
       issue n's timeline as given (a broken or hostile API's events)
  POST /_control/rate       {"remaining": n, "window": s}
  POST /_control/delay      {"seconds": s}   every API answer waits s
  POST /_control/reset_stats
  POST /_control/hostile    {"mode": M, "path": substr, "from_page": p, ...}   a hostile
       server from then on (until /_control/clear) for API requests whose path
       and query contain substr (default "/issues?") at page >= p (default 2):
       cycle_self    Link rel=next points to the page itself
       cycle_two     pages p and p+1 point at each other
       chain         rel=next always present (empty pages after the last),
                     rel=last stays honest
       trickle       the body goes out "rate" bytes a second (default 2)
       bomb          the body is a gzip bomb: "mib" MiB (default 256) of
                     spaces in about mib KB, Content-Encoding: gzip
       wide          the body is "count" (default 1,000,000) empty objects:
                     3 MB that a JSON parser would turn into ~230 MB
       redirect      302 to "to" + the same path and query (another host)
       offsite_next  Link rel=next points to "to" + the same path (page p+1)
       echo_token    HTTP "status" (default 401) whose message echoes the
                     Authorization header, as a broken proxy would (after
                     an ESC[2J, a terminal escape)

Usage: fake_github.py --port-file F [--repo o/r] [--issues N] [--seed S]
                      [--token T] [--anon-limit N] [--jsonl PATH] [--realtime]
                      [--recent DAYS]
--recent DAYS: the generated issues begin DAYS days before now instead of on
2020-01-01, so that an issue filed during a --realtime test is a report of
this month, not one filed years after every candidate.
"""
import argparse
import datetime
import gzip
import hashlib
import json
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "https://api.github.com"
BASE_TIME = 1577836800  # 2020-01-01T00:00:00Z

WORDS = ("parser crash memory leak timeout upload download cache index build docs "
         "window linux macos windows unicode encoding json yaml config plugin token "
         "network proxy retry stream buffer thread lock deadlock segfault import "
         "export schema migration query filter sort page label comment").split()

LABELS = [("bug", "d73a4a"), ("enhancement", "a2eeef"), ("duplicate", "cfd3d7"),
          ("question", "d876e3"), ("good first issue", "7057ff"), ("documentation", "0075ca")]
LABELS += [("area/%s-%d" % (WORDS[i % len(WORDS)], i), "%06x" % (i * 40503 % 0xFFFFFF))
           for i in range(124)]  # 130 labels: two pages


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s):
    s = s.replace("Z", "+00:00")
    return int(datetime.datetime.fromisoformat(s).timestamp())


def user(login):
    return {"login": login, "id": int(hashlib.md5(login.encode()).hexdigest()[:7], 16), "node_id": "U_" + login,
            "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4", "gravatar_id": "",
            "url": API + "/users/" + login, "html_url": "https://github.com/" + login,
            "type": "User", "site_admin": False}


class Data:
    """The repository's issues, comments and labels; all access under .lock."""

    def __init__(self, repo, n, seed, jsonl, realtime=False, base=BASE_TIME):
        self.repo = repo
        self.realtime = realtime
        self.base = base
        self.lock = threading.RLock()
        self.issues = {}     # number -> dict (GitHub issue object)
        self.gone = {}       # number -> "deleted" | "transferred"
        self.events = {}     # number -> extra timeline events (/_control/timeline)
        self.comments = {}   # id -> dict
        self.reactions = {}  # comment id -> [{"user": login, "content": "-1"}]
        self.perms = {}      # login -> repository permission
        self.cache = {}      # number/("c", id) -> json text
        self.order = None    # sorted (updated, number) cache
        self.corder = None
        rnd = random.Random(seed)
        if jsonl:
            self.load_jsonl(jsonl)
        else:
            for i in range(1, n + 1):
                self.gen_issue(i, rnd)
        self.clock = max([parse_iso(x["updated_at"]) for x in self.issues.values()] +
                         [parse_iso(c["updated_at"]) for c in self.comments.values()] + [self.base])

    def load_jsonl(self, path):
        op = gzip.open if path.endswith(".gz") else open
        with op(path, "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    o = json.loads(line)
                    self.issues[o["number"]] = o

    def urls(self, n, pr):
        base = "%s/repos/%s/issues/%d" % (API, self.repo, n)
        kind = "pull" if pr else "issues"
        return {"url": base, "repository_url": "%s/repos/%s" % (API, self.repo),
                "labels_url": base + "/labels{/name}", "comments_url": base + "/comments",
                "events_url": base + "/events", "timeline_url": base + "/timeline",
                "html_url": "https://github.com/%s/%s/%d" % (self.repo, kind, n)}

    def gen_issue(self, i, rnd):
        pr = i % 3 == 0
        created = self.base + i * 600
        updated = created + rnd.randrange(0, 30 * 86400)
        closed = i % 2 == 0
        w = [WORDS[rnd.randrange(len(WORDS))] for _ in range(6)]
        title = "%s %s fails when %s %s (case %d)" % (w[0], w[1], w[2], w[3], i)
        body = ("### Describe the bug\r\n%s %s breaks the %s.\r\n\r\n```\r\nTraceback (most recent call last):\r\n"
                "  File \"lib/%s.py\", line %d, in %s\r\nValueError: bad %s\r\n```\r\n" %
                (w[0], w[1], w[2], w[3], i % 500, w[4], w[5]))
        if i % 7 == 0:
            body += "Ünïcödé: 日本語 ✓ — \"quotes\" \\ backslash\r\n"
        if i % 10 == 0 and i > 5:
            body += "Duplicate of #%d\r\n" % (i - 5)
        reason = None
        if closed and not pr:
            reason = "duplicate" if i % 10 == 0 else "completed"
        o = {"id": 10**9 + i, "node_id": "I_%d" % i, "number": i, "title": title,
             "user": user("user%d" % (i % 50)),
             "labels": [{"id": j, "node_id": "L%d" % j, "url": "", "name": LABELS[j][0],
                         "color": LABELS[j][1], "default": j < 6, "description": None}
                        for j in sorted({i % 6, (i * 7) % 130})][: 1 + i % 2],
             "state": "closed" if closed else "open", "locked": False, "assignee": None,
             "assignees": [], "milestone": None, "comments": i % 4,
             "created_at": iso(created), "updated_at": iso(updated),
             "closed_at": iso(updated) if closed else None, "author_association": "NONE",
             "active_lock_reason": None, "body": body if i % 11 else None,
             "reactions": {"url": "", "total_count": i % 5, "+1": i % 5, "-1": 0, "laugh": 0,
                           "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
             "performed_via_github_app": None, "state_reason": reason}
        o.update(self.urls(i, pr))
        if pr:
            o["draft"] = False
            o["pull_request"] = {"url": "%s/repos/%s/pulls/%d" % (API, self.repo, i),
                                 "html_url": o["html_url"], "diff_url": o["html_url"] + ".diff",
                                 "patch_url": o["html_url"] + ".patch",
                                 "merged_at": iso(updated) if closed else None}
        self.issues[i] = o
        for j in range(i % 4):
            cid = i * 10 + j
            ct = created + (j + 1) * 3600
            cb = "Comment %d on #%d: %s seems related to %s." % (j, i, w[j % 6], w[(j + 1) % 6])
            if j == 0 and i % 10 == 0 and i > 5:
                cb = "Closing: duplicate of #%d" % (i - 4)
            self.comments[cid] = self.make_comment(cid, i, cb, ct, ct + j * 60)

    def make_comment(self, cid, number, body, created, updated):
        base = "%s/repos/%s/issues" % (API, self.repo)
        return {"url": "%s/comments/%d" % (base, cid),
                "html_url": "https://github.com/%s/issues/%d#issuecomment-%d" % (self.repo, number, cid),
                "issue_url": "%s/%d" % (base, number), "id": cid, "node_id": "IC_%d" % cid,
                "user": user("commenter%d" % (cid % 17)), "created_at": iso(created),
                "updated_at": iso(updated), "author_association": "CONTRIBUTOR", "body": body,
                "reactions": {"url": "", "total_count": 0}, "performed_via_github_app": None,
                "_n": number}

    def tick(self):
        # --realtime: changes carry the wall clock, as on GitHub (several in
        # one second share it); otherwise a counter from the data's last date.
        self.clock = max(self.clock, int(time.time())) if self.realtime else self.clock + 1
        return self.clock

    def touched(self, key):
        self.cache.pop(key, None)
        self.order = None
        self.corder = None

    def text(self, key, obj):
        t = self.cache.get(key)
        if t is None:
            t = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            self.cache[key] = t
        return t

    def issue_list(self, state, since, sort, direction):
        if self.order is None:
            self.order = sorted((parse_iso(o["updated_at"]), parse_iso(o["created_at"]), n)
                                for n, o in self.issues.items())
        rows = self.order
        idx = 0 if sort == "updated" else 1
        rows = sorted(rows, key=lambda r: (r[idx], r[2])) if idx else rows
        if direction == "desc":
            rows = list(reversed(rows))
        out = []
        for r in rows:
            o = self.issues[r[2]]
            if since is not None and r[0] < since:
                continue
            if state != "all" and o["state"] != state:
                continue
            out.append(r[2])
        return out

    def comment_list(self, since, sort, direction):
        if self.corder is None:
            self.corder = sorted((parse_iso(c["updated_at"]), parse_iso(c["created_at"]), i)
                                 for i, c in self.comments.items() if c["_n"] not in self.gone)
        rows = self.corder
        if sort == "created":
            rows = sorted(rows, key=lambda r: (r[1], r[2]))
        if direction == "desc":
            rows = list(reversed(rows))
        return [r[2] for r in rows if since is None or r[0] >= since]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_handler(data, opts, state):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def setup(self):
            super().setup()
            # Headers and body go out in separate writes: without NODELAY,
            # Nagle + delayed ACK would add 40 ms to every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.api_seen = False   # one handler per connection: counts kept-alive reuse

        # ---- plumbing ----
        def send(self, code, body=b"", headers=(), compress=True):
            if isinstance(body, str):
                body = body.encode("utf-8")
            hdrs = list(headers)
            if compress and body and "gzip" in self.headers.get("Accept-Encoding", ""):
                body = gzip.compress(body, 1)
                hdrs.append(("Content-Encoding", "gzip"))
                with data.lock:
                    state["stats"]["gzip"] += 1
            self.send_response(code)
            for k, v in hdrs:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def send_json(self, code, obj, headers=()):
            self.send(code, json.dumps(obj), [("Content-Type", "application/json; charset=utf-8")] + list(headers))

        def read_json(self):
            # A chunked body would read as {} here and a control would
            # silently do nothing (a test's delay once did): refuse it.
            if self.headers.get("Transfer-Encoding"):
                raise ValueError("a body without Content-Length")
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}")

        def rate_headers(self, ident, count):
            with data.lock:
                r = state["rate"].setdefault(ident, {"limit": opts.limit if ident != "anon" else opts.anon_limit,
                                                     "remaining": None, "reset": 0})
                now = int(time.time())
                if now >= r["reset"] or r["remaining"] is None:
                    r["remaining"] = r["limit"]
                    r["reset"] = now + state["window"]
                if state["force_rate"] is not None:
                    r["remaining"], r["reset"] = state["force_rate"]
                    state["force_rate"] = None
                exhausted = r["remaining"] <= 0
                if count and not exhausted:
                    r["remaining"] -= 1
                h = [("X-RateLimit-Limit", str(r["limit"])), ("X-RateLimit-Remaining", str(max(r["remaining"], 0))),
                     ("X-RateLimit-Reset", str(r["reset"])), ("X-RateLimit-Used", str(r["limit"] - max(r["remaining"], 0))),
                     ("X-RateLimit-Resource", "core")]
                return h, exhausted

        def take_fault(self, target):
            with data.lock:
                for f in state["faults"]:
                    if f.get("method") and f["method"] != self.command:
                        continue
                    if f.get("times", 1) > 0 and f.get("path", "") in target:
                        if f.get("skip", 0) > 0:
                            f["skip"] -= 1
                            continue
                        f["times"] = f.get("times", 1) - 1
                        state["stats"]["faults"] += 1
                        return f
            return None

        def reset_connection(self, body):
            # The headers promised the whole body; half arrives, then a TCP RST.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def prelude(self, u):
            """The checks every API request goes through: prefix, counters,
            headers, token, delay, faults, rate limit. Returns (prefix, path,
            query, target, ident, rate headers, fault) or None once answered."""
            path, q = u.path, urllib.parse.parse_qs(u.query)
            prefix = ""
            if path.startswith("/api/v3/"):
                prefix, path = "/api/v3", path[len("/api/v3"):]
            st = state["stats"]
            with data.lock:
                st["requests"] += 1
                if not self.api_seen:
                    st["connections"] += 1   # connections that carried API requests
                    self.api_seen = True
            if not self.headers.get("User-Agent"):
                self.send_json(403, {"message": "Request forbidden by administrative rules. "
                                                "Please make sure your request has a User-Agent header"})
                return None
            if ("application/vnd.github" not in self.headers.get("Accept", "") or
                    self.headers.get("X-GitHub-Api-Version") != "2022-11-28"):
                with data.lock:
                    st["bad_headers"] += 1
                self.send_json(400, {"message": "missing GitHub API headers"})
                return None
            auth = self.headers.get("Authorization")
            ident = "anon"
            if auth:
                tok = auth.split(" ", 1)[1] if " " in auth else ""
                if not opts.token or tok != opts.token:
                    with data.lock:
                        st["bad_token"] += 1
                    self.send_json(401, {"message": "Bad credentials",
                                         "documentation_url": "https://docs.github.com/rest"})
                    return None
                ident = "token"
            with data.lock:
                st["auth" if ident == "token" else "anon"] += 1
            if state["delay"]:
                time.sleep(state["delay"])
            target = path + ("?" + u.query if u.query else "")
            fault = self.take_fault(target)
            if fault and fault["kind"] == "slow":
                time.sleep(fault.get("seconds", 2))
                fault = None
            rh, exhausted = self.rate_headers(ident, count=False)
            if exhausted and not (fault and fault["kind"] in ("rate403", "secondary", "429", "500", "502")):
                self.send_json(403, {"message": "API rate limit exceeded for %s." % ident,
                                     "documentation_url": "https://docs.github.com/rest/rate-limit"}, rh)
                return None
            return prefix, path, q, target, ident, rh, fault

        # ---- dispatch ----
        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            if not path.startswith("/_control/"):
                return self.do_write()
            what = path[len("/_control/"):]
            body = self.read_json()
            with data.lock:
                res = control(data, state, what, body)
            if res is None:
                return self.send_json(404, {"message": "unknown control " + what})
            self.send_json(200, res)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            path, q = u.path, urllib.parse.parse_qs(u.query)
            if path == "/_stats":
                with data.lock:
                    return self.send_json(200, state["stats"])
            if path == "/_dump":
                with data.lock:
                    return self.send_json(200, dump(data))
            if path == "/_writes":
                with data.lock:
                    return self.send_json(200, state["writes"])
            pre = self.prelude(u)
            if pre is None:
                return
            prefix, path, q, target, ident, rh, fault = pre
            st = state["stats"]
            if fault and fault["kind"] in ("rate403", "secondary", "429", "500", "502"):
                return self.send_fault(fault, rh)
            hostile = self.hostile_for(target, q)
            if hostile and hostile["mode"] in ("redirect", "echo_token"):
                return self.send_hostile(hostile, target, prefix, rh)
            code, obj_text, extra = route(data, path, q, self, prefix)
            if hostile and hostile["mode"] in ("cycle_self", "cycle_two", "chain", "offsite_next"):
                extra = hostile_links(hostile, self, prefix, path, q, extra)
            etag = None
            if code == 200:
                etag = 'W/"%s"' % hashlib.sha256((ident + obj_text).encode("utf-8")).hexdigest()[:40]
                if self.headers.get("If-None-Match") == etag:
                    with data.lock:
                        st["not_modified"] += 1
                    rh, _ = self.rate_headers(ident, count=False)   # 304s are free
                    return self.send(304, b"", rh + [("ETag", etag)])
            rh, _ = self.rate_headers(ident, count=True)
            hdrs = rh + extra + [("Content-Type", "application/json; charset=utf-8")]
            if etag:
                hdrs.append(("ETag", etag))
            with data.lock:
                st["status_%d" % code] = st.get("status_%d" % code, 0) + 1
                ep = endpoint(path)
                st["paths"][ep] = st["paths"].get(ep, 0) + 1
            body = obj_text.encode("utf-8")
            if fault and fault["kind"] == "truncate":
                body = body[: max(1, len(body) // 2)]
            if hostile and hostile["mode"] == "trickle":
                return self.send_trickle(code, body, hdrs, hostile.get("rate", 2))
            if hostile and hostile["mode"] == "wide":
                body = b"[" + b"{}," * (hostile.get("count", 1000000) - 1) + b"{}]"
            if hostile and hostile["mode"] == "bomb":
                return self.send(code, gzip_bomb(hostile.get("mib", 256)),
                                 hdrs + [("Content-Encoding", "gzip")], compress=False)
            if fault and fault["kind"] == "reset":
                self.send_response(code)
                for k, v in hdrs:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return self.reset_connection(body)
            self.send(code, body, hdrs)

        def do_PATCH(self):
            return self.do_write()

        def do_DELETE(self):
            return self.do_write()

        def do_write(self):
            u = urllib.parse.urlsplit(self.path)
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            pre = self.prelude(u)
            if pre is None:
                return
            prefix, path, q, target, ident, rh, fault = pre
            entry = {"method": self.command, "path": prefix + path, "body": raw.decode("utf-8", "replace"),
                     "status": 0, "applied": False, "fault": fault["kind"] if fault else None, "at": time.time()}
            with data.lock:
                state["writes"].append(entry)
            kind = fault["kind"] if fault else None
            if kind in ("rate403", "secondary", "429", "500", "502"):
                entry["status"] = int(kind) if kind.isdigit() else (429 if kind == "429" else 403)
                return self.send_fault(fault, rh)
            if kind == "redirect":
                loc = fault["to"] + prefix + target
                entry["status"] = 307
                return self.send_json(307, {"message": "Temporary Redirect", "url": loc}, rh + [("Location", loc)])
            if kind in ("422", "404", "403"):
                entry["status"] = int(kind)
                msg = {"422": "Validation Failed", "404": "Not Found",
                       "403": "Resource not accessible by integration"}[kind]
                return self.send_json(int(kind), {"message": msg, "documentation_url": "https://docs.github.com/rest"}, rh)
            if kind == "hang_before":
                state["release"].wait(fault.get("seconds", 30))   # /_control/clear ends it early
                self.close_connection = True
                return
            if ident != "token":
                entry["status"] = 401
                return self.send_json(401, {"message": "Requires authentication"}, rh)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                entry["status"] = 400
                return self.send_json(400, {"message": "Problems parsing JSON"}, rh)
            with data.lock:
                code, obj = route_write(data, state, self.command, path, body)
                entry["status"] = code
                entry["applied"] = 200 <= code < 300
            rh, _ = self.rate_headers(ident, count=True)
            if kind == "apply_500":
                entry["status"] = 500
                return self.send(500, "<html><body><h1>500 Server Error</h1></body></html>",
                                 [("Content-Type", "text/html")] + rh)
            if kind == "hang_after":
                state["release"].wait(fault.get("seconds", 30))
                self.close_connection = True
                return
            if kind == "reset_after":
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                return
            if obj is None:
                return self.send(code, b"", rh)
            self.send_json(code, obj, rh)

        # ---- hostile modes (see the module docstring) ----
        def hostile_for(self, target, q):
            with data.lock:
                h = state["hostile"]
                if not h or h.get("path", "/issues?") not in target:
                    return None
                if int(q.get("page", ["1"])[-1]) < h.get("from_page", 2):
                    return None
                state["stats"]["hostile"] += 1
                return dict(h)

        def send_hostile(self, h, target, prefix, rh):
            if h["mode"] == "redirect":
                loc = h["to"] + prefix + target
                return self.send_json(302, {"message": "Found", "url": loc}, rh + [("Location", loc)])
            auth = self.headers.get("Authorization", "")
            # ...and a terminal escape sequence (clear screen), which must not reach the terminal
            return self.send_json(h.get("status", 401), {"message": "\x1b[2JBad credentials: " + auth,
                                                         "documentation_url": "https://docs.github.com/rest"}, rh)

        def send_trickle(self, code, body, hdrs, rate):
            self.send_response(code)
            for k, v in hdrs:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.close_connection = True
            try:
                for i in range(0, len(body), rate):
                    self.wfile.write(body[i:i + rate])
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass   # the client gave up: that is the point

        def send_fault(self, f, rh):
            k, secs = f["kind"], f.get("seconds", 1)
            if k == "rate403":
                reset = int(time.time()) + secs
                h = [x for x in rh if x[0] not in ("X-RateLimit-Remaining", "X-RateLimit-Reset")]
                h += [("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", str(reset))]
                return self.send_json(403, {"message": "API rate limit exceeded for 127.0.0.1.",
                                            "documentation_url": "https://docs.github.com/rest/rate-limit"}, h)
            if k == "secondary":
                h = rh + ([("Retry-After", str(secs))] if "seconds" in f else [])
                return self.send_json(403, {"message": "You have exceeded a secondary rate limit. "
                                                       "Please wait a few minutes before you try again."}, h)
            if k == "429":
                return self.send_json(429, {"message": "Too Many Requests"}, rh + [("Retry-After", str(secs))])
            code = int(k)
            return self.send(code, "<html><body><h1>%d Server Error</h1></body></html>" % code,
                             [("Content-Type", "text/html")] + rh)

    return H


def link_header(handler, prefix, path, q, page, last):
    host = handler.headers.get("Host", "127.0.0.1")
    def url(p):
        qq = {k: v[-1] for k, v in q.items()}
        qq["page"] = str(p)
        return "<http://%s%s%s?%s>" % (host, prefix, path, urllib.parse.urlencode(qq, safe=":"))
    rel = []
    if page > 1:
        rel.append('%s; rel="prev"' % url(page - 1))
    if page < last:
        rel.append('%s; rel="next"' % url(page + 1))
        rel.append('%s; rel="last"' % url(last))
    if page > 1:
        rel.append('%s; rel="first"' % url(1))
    return [("Link", ", ".join(rel))] if rel else []


def hostile_links(h, handler, prefix, path, q, extra):
    """The Link header of a listing page under a cycle/chain/offsite mode."""
    page = max(int(q.get("page", ["1"])[-1]), 1)
    host = handler.headers.get("Host", "127.0.0.1")
    def url(p, origin="http://" + host):
        qq = {k: v[-1] for k, v in q.items()}
        qq["page"] = str(p)
        return "<%s%s%s?%s>" % (origin, prefix, path, urllib.parse.urlencode(qq, safe=":"))
    last = getattr(handler, "fake_last", page)   # the honest last page, set by paginate
    mode, p0 = h["mode"], h.get("from_page", 2)
    nxt = {"cycle_self": page, "cycle_two": p0 + 1 if page == p0 else p0, "chain": page + 1,
           "offsite_next": page + 1}[mode]
    links = ['%s; rel="next"' % (url(nxt, h["to"]) if mode == "offsite_next" else url(nxt)),
             '%s; rel="last"' % url(last)]
    return [(k, v) for k, v in extra if k != "Link"] + [("Link", ", ".join(links))]


BOMBS = {}


def gzip_bomb(mib):
    """mib MiB of spaces, gzip-compressed (about 1000:1), built once."""
    if mib not in BOMBS:
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b" " * (1 << 20)
        BOMBS[mib] = b"".join([z.compress(chunk) for _ in range(mib)] + [z.flush()])
    return BOMBS[mib]


def paginate(handler, prefix, path, q, keys, render):
    per = min(int(q.get("per_page", ["30"])[-1]), 100)
    page = max(int(q.get("page", ["1"])[-1]), 1)
    last = max((len(keys) + per - 1) // per, 1)
    handler.fake_last = last
    chunk = keys[(page - 1) * per: page * per]
    text = "[" + ",".join(render(k) for k in chunk) + "]"
    return 200, text, link_header(handler, prefix, path, q, page, last)


def endpoint(path):
    """A short name for the stats: issues, comments, labels, issue, timeline."""
    if path.endswith("/issues/comments"):
        return "comments"
    if path.endswith("/issues"):
        return "issues"
    if path.endswith("/labels"):
        return "labels"
    if path.endswith("/timeline"):
        return "timeline"
    return "issue" if re.search(r"/issues/\d+$", path) else "other"


def not_found():
    return 404, json.dumps({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}), []


def route(data, path, q, handler, prefix):
    m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
    if not m or ("%s/%s" % (m.group(1), m.group(2))).lower() != data.repo.lower():
        return not_found()
    rest = m.group(3) or ""
    one = lambda k: q.get(k, [None])[-1]
    since = parse_iso(one("since")) if one("since") else None
    with data.lock:
        if rest == "/issues":
            keys = data.issue_list(one("state") or "open", since, one("sort") or "created",
                                   one("direction") or "desc")
            return paginate(handler, prefix, path, q, keys, lambda n: data.text(n, data.issues[n]))
        if rest == "/issues/comments":
            keys = data.comment_list(since, one("sort") or "created", one("direction") or "asc")
            return paginate(handler, prefix, path, q, keys,
                            lambda i: data.text(("c", i), {k: v for k, v in data.comments[i].items() if k != "_n"}))
        if rest == "/labels":
            keys = list(range(len(LABELS)))
            return paginate(handler, prefix, path, q, keys, lambda j: json.dumps(
                {"id": j, "node_id": "L%d" % j, "url": "%s/repos/%s/labels/%s" % (API, data.repo, LABELS[j][0]),
                 "name": LABELS[j][0], "color": LABELS[j][1], "default": j < 6, "description": None}))
        m3 = re.match(r"^/issues/comments/(\d+)(/reactions)?$", rest)
        if m3:
            c = data.comments.get(int(m3.group(1)))
            if c is None or c["_n"] in data.gone:
                return not_found()
            if not m3.group(2):
                return 200, json.dumps(public_comment(c)), []
            want = one("content")
            rs = [r for r in data.reactions.get(c["id"], []) if want is None or r["content"] == want]
            return paginate(handler, prefix, path, q, list(range(len(rs))), lambda i: json.dumps(
                {"id": c["id"] * 100 + i, "node_id": "R_%d" % i, "user": user(rs[i]["user"]),
                 "content": rs[i]["content"], "created_at": iso(data.clock)}))
        m4 = re.match(r"^/collaborators/([^/]+)/permission$", rest)
        if m4:
            perm = data.perms.get(m4.group(1), "read")
            return 200, json.dumps({"permission": perm, "role_name": perm, "user": user(m4.group(1))}), []
        m5 = re.match(r"^/issues/(\d+)/comments$", rest)
        if m5:
            n = int(m5.group(1))
            if n in data.gone:
                return 410, json.dumps({"message": "This issue was deleted"}), []
            if n not in data.issues:
                return not_found()
            keys = sorted(i for i, c in data.comments.items() if c["_n"] == n)
            return paginate(handler, prefix, path, q, keys, lambda i: json.dumps(public_comment(data.comments[i])))
        m2 = re.match(r"^/issues/(\d+)(/timeline)?$", rest)
        if m2:
            n = int(m2.group(1))
            g = data.gone.get(n)
            if g == "deleted":
                return 410, json.dumps({"message": "This issue was deleted"}), []
            if g == "transferred":
                host = handler.headers.get("Host", "127.0.0.1")
                loc = "http://%s%s/repos/%s-moved/issues/%d" % (host, prefix, data.repo, n)
                return 301, json.dumps({"message": "Moved Permanently", "url": loc}), [("Location", loc)]
            o = data.issues.get(n)
            if o is None:
                return not_found()
            if not m2.group(2):
                return 200, data.text(n, o), []
            return paginate(handler, prefix, path, q, timeline(data, o), lambda e: json.dumps(e))
    return not_found()


def public_comment(c):
    return {k: v for k, v in c.items() if k != "_n"}


def label_obj(name):
    for i, (n, color) in enumerate(LABELS):
        if n.lower() == name.lower():
            return {"id": i, "node_id": "L%d" % i, "url": "", "name": n, "color": color, "default": i < 6,
                    "description": None}
    return {"id": 10000 + len(name), "node_id": "LN", "url": "", "name": name, "color": "ededed",
            "default": False, "description": None}


def bump(data, n):
    o = data.issues[n]
    o["updated_at"] = iso(data.tick())
    data.touched(n)
    return o


def validation(msg):
    return 422, {"message": "Validation Failed", "errors": [{"message": msg}],
                 "documentation_url": "https://docs.github.com/rest"}


def route_write(data, state, method, path, body):
    """Applies one write to the data like GitHub; returns (status, answer or None)."""
    m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
    if not m or ("%s/%s" % (m.group(1), m.group(2))).lower() != data.repo.lower():
        return 404, {"message": "Not Found"}
    rest = urllib.parse.unquote(m.group(3) or "")
    mc = re.match(r"^/issues/comments/(\d+)$", rest)
    if mc:
        c = data.comments.get(int(mc.group(1)))
        if c is None or c["_n"] in data.gone:
            return 404, {"message": "Not Found"}
        if method == "DELETE":
            del data.comments[c["id"]]
            data.issues[c["_n"]]["comments"] -= 1
            bump(data, c["_n"])
            return 204, None
        if method == "PATCH":
            if not isinstance(body.get("body"), str) or not body["body"]:
                return validation("body is missing")
            c["body"] = body["body"]
            c["updated_at"] = iso(data.tick())
            data.corder = None
            return 200, public_comment(c)
        return 404, {"message": "Not Found"}
    mi = re.match(r"^/issues/(\d+)(/comments|/labels|/labels/(.+))?$", rest)
    if not mi:
        return 404, {"message": "Not Found"}
    n = int(mi.group(1))
    if n in data.gone or n not in data.issues:
        return 404, {"message": "Not Found"}
    o = data.issues[n]
    sub = mi.group(2) or ""
    if sub == "/comments" and method == "POST":
        text = body.get("body")
        if not isinstance(text, str) or not text:
            return validation("body is missing")
        cid = max(list(data.comments) + [10 ** 7]) + 1
        t = data.tick()
        c = data.make_comment(cid, n, text, t, t)
        c["user"] = user("doppel-bot")
        c["author_association"] = "NONE"
        data.comments[cid] = c
        o["comments"] += 1
        o["updated_at"] = iso(t)
        data.touched(n)
        return 201, public_comment(c)
    if sub == "" and method == "PATCH":
        st, reason = body.get("state"), body.get("state_reason", "absent")
        if st not in (None, "open", "closed"):
            return validation("state is not open or closed")
        if reason not in ("absent", None, "completed", "not_planned", "duplicate", "reopened"):
            return validation("state_reason is not valid")
        if st == "closed":
            o["state"] = "closed"
            o["state_reason"] = "completed" if reason in ("absent", None) else reason
            o["closed_at"] = iso(data.clock + 1)
        elif st == "open":
            o["state"] = "open"
            o["state_reason"] = "reopened"
            o["closed_at"] = None
        bump(data, n)
        return 200, o
    if sub == "/labels" and method == "POST":
        names = body.get("labels")
        if not isinstance(names, list) or not all(isinstance(x, str) and x for x in names):
            return validation("labels must be a list of names")
        have = {l["name"].lower() for l in o["labels"]}
        for x in names:
            if x.lower() not in have:
                o["labels"].append(label_obj(x))
                have.add(x.lower())
        bump(data, n)
        return 200, o["labels"]
    if mi.group(3) and method == "DELETE":
        name = mi.group(3)
        keep = [l for l in o["labels"] if l["name"].lower() != name.lower()]
        if len(keep) == len(o["labels"]):
            return 404, {"message": "Label does not exist"}
        o["labels"] = keep
        bump(data, n)
        return 200, o["labels"]
    return 404, {"message": "Not Found"}


def timeline(data, o):
    n = o["number"]
    ev = [{"id": n * 100 + 1, "event": "labeled", "actor": user("maint"), "created_at": o["created_at"],
           "label": {"name": "bug", "color": "d73a4a"}}]
    if o.get("state_reason") == "duplicate" and n > 5:
        ev.append({"id": n * 100 + 2, "event": "marked_as_duplicate", "actor": user("maint"),
                   "created_at": o["updated_at"],
                   "duplicate": {"number": n, "title": o["title"]},
                   "canonical": {"number": n - 3, "title": data.issues.get(n - 3, {}).get("title", "")}})
        ev.append({"id": n * 100 + 3, "event": "closed", "actor": user("maint"), "created_at": o["updated_at"],
                   "state_reason": "duplicate"})
    return ev + data.events.get(n, [])


def dump(data):
    return {"issues": [{"number": n, "title": o["title"], "updated_at": o["updated_at"], "state": o["state"],
                        "state_reason": o.get("state_reason"), "labels": [l["name"] for l in o["labels"]],
                        "body": o.get("body"), "pr": "pull_request" in o}
                       for n, o in sorted(data.issues.items()) if n not in data.gone],
            "comments": [{"id": i, "issue": c["_n"], "body": c["body"], "updated_at": c["updated_at"],
                          "user": c["user"]["login"]}
                         for i, c in sorted(data.comments.items()) if c["_n"] not in data.gone],
            "gone": {str(k): v for k, v in data.gone.items()}}


def control(data, state, what, b):
    if what == "fault":
        state["faults"].append(dict(b))
        return {"faults": len(state["faults"])}
    if what == "hostile":
        if b.get("mode") == "bomb":
            gzip_bomb(b.get("mib", 256))   # built now, not while the client waits
        state["hostile"] = dict(b)
        return {}
    if what == "clear":
        state["faults"].clear()
        # requests hanging on a fault answer now (as a dropped connection)
        state["release"].set()
        state["release"] = threading.Event()
        state["hostile"] = None
        return {}
    if what == "delay":
        state["delay"] = float(b.get("seconds", 0))
        return {}
    if what == "rate":
        state["window"] = int(b.get("window", 3600))
        state["force_rate"] = (int(b.get("remaining", 0)), int(time.time()) + state["window"])
        return {}
    if what == "reset_stats":
        state["stats"] = new_stats()
        return {}
    if what == "react":
        cid = int(b["comment"])
        if cid not in data.comments:
            return {"error": "no comment %d" % cid}
        data.reactions.setdefault(cid, []).append({"user": b["user"], "content": b.get("content", "-1")})
        return {}
    if what == "permission":
        data.perms[b["user"]] = b.get("permission", "write")
        return {}
    if what == "create":
        n = max(list(data.issues) + list(data.gone) + [0]) + 1
        t = data.tick()
        o = {"id": 10**9 + n, "node_id": "I_%d" % n, "number": n, "title": b["title"], "user": user("newbie"),
             "labels": [], "state": "open", "locked": False, "assignee": None, "assignees": [],
             "milestone": None, "comments": 0, "created_at": iso(t), "updated_at": iso(t), "closed_at": None,
             "author_association": "NONE", "body": b.get("body"), "reactions": {"total_count": 0},
             "state_reason": None}
        o.update(data.urls(n, False))
        data.issues[n] = o
        data.touched(n)
        return {"number": n}
    n = int(b.get("number", 0))
    if n not in data.issues:
        return {"error": "no issue %d" % n}
    o = data.issues[n]
    if what == "update":
        for k in ("title", "body", "state", "state_reason"):
            if k in b:
                o[k] = b[k]
        if b.get("state") == "closed":
            o["closed_at"] = iso(data.clock + 1)
        o["updated_at"] = b["updated_at"] if "updated_at" in b else iso(data.tick())
        data.touched(n)
        return {"updated_at": o["updated_at"]}
    if what == "label":
        if b.get("remove"):
            o["labels"] = [l for l in o["labels"] if l["name"].lower() != b["name"].lower()]
        elif b["name"].lower() not in {l["name"].lower() for l in o["labels"]}:
            o["labels"].append(label_obj(b["name"]))
        bump(data, n)
        return {"updated_at": o["updated_at"]}
    if what == "comment":
        cid = max(list(data.comments) + [0]) + 1
        t = data.tick()
        c = data.make_comment(cid, n, b.get("body", ""), t, t)
        if "user" in b:
            c["user"] = user(b["user"])
        if "association" in b:
            c["author_association"] = b["association"]
        data.comments[cid] = c
        o["comments"] += 1
        o["updated_at"] = iso(t)
        data.touched(n)
        return {"id": cid}
    if what == "timeline":
        data.events.setdefault(n, []).extend(b.get("events", []))
        return {}
    if what in ("delete", "transfer"):
        data.gone[n] = "deleted" if what == "delete" else "transferred"
        del data.issues[n]
        data.touched(n)
        return {}
    return None


def new_stats():
    return {"requests": 0, "not_modified": 0, "connections": 0, "gzip": 0, "faults": 0, "auth": 0,
            "anon": 0, "bad_token": 0, "bad_headers": 0, "hostile": 0, "paths": {}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--repo", default="acme/widgets")
    ap.add_argument("--issues", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--token", default=None)
    ap.add_argument("--limit", type=int, default=5000)
    ap.add_argument("--anon-limit", type=int, default=60)
    ap.add_argument("--jsonl", default=None)
    ap.add_argument("--realtime", action="store_true", help="new changes carry the wall clock")
    ap.add_argument("--recent", type=int, default=None, help="generated issues begin DAYS days ago")
    opts = ap.parse_args()
    base = BASE_TIME if opts.recent is None else int(time.time()) - opts.recent * 86400
    data = Data(opts.repo, opts.issues, opts.seed, opts.jsonl, opts.realtime, base)
    state = {"stats": new_stats(), "faults": [], "release": threading.Event(), "rate": {}, "window": 3600, "force_rate": None, "delay": 0.0,
             "hostile": None, "writes": []}
    srv = Server(("127.0.0.1", opts.port), make_handler(data, opts, state))
    with open(opts.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(opts.port_file + ".tmp", opts.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
