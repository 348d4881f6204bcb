#!/usr/bin/env python3
"""serve_attack.py -- hostile and normal clients for `doppel serve`
(tests/cli/test_serve_hostile.sh, bench/serve_hostile.sh). Python 3
standard library only.

  serve_attack.py slowloris HOST PORT CONNS INTERVAL SECS
      keeps CONNS connections that each send a request line, then one more
      header line every INTERVAL seconds, never finishing; reopens a
      connection 50 ms after the server closes it. Then opens none for a
      second and prints "opened=N closed=N alive=N max_life=S" (alive: the
      connections the server still holds; max_life: the longest any
      connection lived before the server closed it).
  serve_attack.py idle HOST PORT CONNS SECS
      the same with connections that send nothing at all.
  serve_attack.py probe HOST PORT PATH N [TIMEOUT [TRIES]]
      N requests one after another, each on a new connection; prints
      "ok=N fail=N p50=MS p99=MS max=MS retried=N" (latency to the complete
      answer). A request is tried up to TRIES times (default 1) before it
      counts as failed: a client that shares the attacker's address can be
      pushed out when the machine starves it between connect and send.
"""
import selectors
import socket
import sys
import time


def pct(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, max(0, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


class Hold:
    """Connections that never finish a request."""

    def __init__(self, host, port, conns, interval, secs):
        self.host, self.port, self.conns = host, port, conns
        self.interval, self.secs = interval, secs
        self.sel = selectors.DefaultSelector()
        self.opened = self.closed = 0
        self.max_life = 0.0
        self.reopen_at = []          # times at which to open a connection
        self.settle = 1.0            # then this long without opening any, so
                                     # that "alive" counts what the server holds

    def open(self, now):
        s = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        s.setblocking(False)
        try:
            s.connect_ex((self.host, self.port))
        except OSError:
            s.close()
            self.reopen_at.append(now + 0.05)
            return
        st = {"t0": now, "next": now, "n": 0, "connected": False}
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, st)
        self.opened += 1

    def drop(self, s, st, now, by_server):
        self.sel.unregister(s)
        s.close()
        if by_server:
            self.closed += 1
            self.max_life = max(self.max_life, now - st["t0"])
        self.reopen_at.append(now + 0.05)

    def first_bytes(self):
        return b""

    def tick(self, s, st, now):
        pass

    def run(self):
        start = time.monotonic()
        for _ in range(self.conns):
            self.open(start)
        while True:
            now = time.monotonic()
            if now - start >= self.secs + self.settle:
                break
            due = [t for t in self.reopen_at if t <= now]
            self.reopen_at = [t for t in self.reopen_at if t > now]
            if now - start < self.secs:      # the last second: no new ones
                for _ in due:
                    self.open(now)
            for key, ev in self.sel.select(timeout=0.05):
                s, st = key.fileobj, key.data
                if ev & selectors.EVENT_WRITE and not st["connected"]:
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        self.drop(s, st, now, False)
                        continue
                    st["connected"] = True
                    self.sel.modify(s, selectors.EVENT_READ, st)
                    try:
                        s.send(self.first_bytes())
                    except OSError:
                        self.drop(s, st, now, True)
                        continue
                    st["next"] = now + self.interval
                elif ev & selectors.EVENT_READ:
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self.drop(s, st, now, True)
            for key in list(self.sel.get_map().values()):
                s, st = key.fileobj, key.data
                if st["connected"] and now >= st["next"]:
                    st["next"] = now + self.interval
                    try:
                        self.tick(s, st, now)
                    except OSError:
                        self.drop(s, st, now, True)
        alive = len(self.sel.get_map())
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        print("opened=%d closed=%d alive=%d max_life=%.1f" % (self.opened, self.closed, alive, self.max_life))


class Slowloris(Hold):
    def first_bytes(self):
        return ("GET / HTTP/1.1\r\nHost: %s:%d\r\n" % (self.host, self.port)).encode()

    def tick(self, s, st, now):
        st["n"] += 1
        s.send(b"X-Slow-%d: %d\r\n" % (st["n"], st["n"]))


def read_answer(s):
    """One answer: the head, then Content-Length bytes of body (a server
    that keeps the connection open must not make us wait for its close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    want = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            want = int(value.strip())
    while len(body) < want:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def probe_once(host, port, req, timeout):
    """Latency in ms of one complete 200 answer, or None."""
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(req)
            data = read_answer(s)
    except OSError:
        return None
    return (time.monotonic() - t0) * 1000.0 if data.startswith(b"HTTP/1.1 200 ") else None


def probe(host, port, path, n, timeout, tries=1):
    hosthdr = "[%s]" % host if ":" in host else host
    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: */*\r\n\r\n" % (path, hosthdr, port)).encode()
    lat, fail, retried = [], 0, 0
    for _ in range(n):
        for t in range(tries):
            ms = probe_once(host, port, req, timeout)
            if ms is not None:
                break
        retried += t
        if ms is None:
            fail += 1
        else:
            lat.append(ms)
    lat.sort()
    print("ok=%d fail=%d p50=%.1f p99=%.1f max=%.1f retried=%d" % (len(lat), fail, pct(lat, 50), pct(lat, 99),
                                                                  lat[-1] if lat else float("nan"), retried))


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    mode, host, port = argv[1], argv[2], int(argv[3])
    if mode == "slowloris":
        Slowloris(host, port, int(argv[4]), float(argv[5]), float(argv[6])).run()
    elif mode == "idle":
        Hold(host, port, int(argv[4]), 3600.0, float(argv[5])).run()
    elif mode == "probe":
        probe(host, port, argv[4], int(argv[5]), float(argv[6]) if len(argv) > 6 else 10.0,
              int(argv[7]) if len(argv) > 7 else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
