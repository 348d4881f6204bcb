/* gate.c -- admission of HTTP connections in front of libmicrohttpd.
 *
 * Why a gate: libmicrohttpd (0.9.75) reads request heads itself, restarts
 * its timeout on every byte (one header line every few seconds keeps a
 * connection forever: slowloris), and answers heads it cannot take -- too
 * long (414, 431), unknown version (505), malformed (400) -- with responses
 * the application never sees and cannot add headers to. So doppel accepts
 * connections itself. The request is read with MSG_PEEK, which leaves the
 * bytes in the socket for libmicrohttpd to read again, and checked here
 * (gate_check: the grammar of RFC 9112, stricter than libmicrohttpd, and
 * small enough to fit its memory pool). A connection reaches the server only
 * when its whole request has arrived, within head_ms of the accept; every
 * other outcome is answered here with the same security headers. Every
 * response says "Connection: close", so each connection carries one request
 * and every request passes the gate.
 *
 * Places: at most max_conns connections at once, at most max_per_ip from one
 * remote address. All loopback clients share 127.0.0.1, so for them a per-
 * address cap could not tell an attacker from the browser: they share
 * max_conns. What keeps either kind of cap from being a denial of service is
 * the choice of victim: when a cap is reached, the connection that has gone
 * longest without finishing is closed (one still sending its request first,
 * then one whose answer is still being written), and the new one is taken.
 * A normal request finishes in milliseconds, so it is never the oldest; an
 * attacker who opens connections in a loop mostly pushes out his own.
 *
 * Table and threads: one gate thread runs an epoll loop over the listening
 * socket and the connections it owns. Every connection, also once handed
 * over, has an entry (in accept order, and by fd) so that the caps count it
 * and its deadline (life_ms) applies; the server reports its close through
 * gate_closed, called before the fd is closed, so an fd in the table is
 * always the connection it names. One mutex guards the table. */
#include "gate.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* These, with the caller's max_head, keep a request within libmicrohttpd's
 * memory pool (server.c: 32 KB), which holds the head and one record for
 * each header field, cookie and query parameter: a request that passes the
 * gate must never get libmicrohttpd's own 431 (test_server.c sends the
 * largest one). */
#define GATE_MAX_FIELDS 64      /* header fields in one request */
#define GATE_MAX_COOKIES 64     /* cookie pairs */
#define GATE_MAX_PARAMS 64      /* query parameters */
#define GATE_MAX_READS 256      /* read events before a request is whole */
#define GATE_DRAIN_MS 1000      /* reading what follows an error reply */
#define GATE_DRAIN_BYTES 65536
#define GATE_PAUSE_MS 100       /* accept paused when out of descriptors */
#define GATE_OVERSHOOT 64       /* closing connections still counted */
#define GATE_EVICT_LOOKS 4      /* requests looked at again before evicting */
#define GATE_ACCEPTS 64         /* accepts in a row before reading again */

enum { G_PENDING, G_DRAIN, G_HANDED };

typedef struct gate_conn {
    int fd;
    int state;
    int evicted;                  /* shut down, waiting for the server's close */
    uint32_t gen;                 /* tells an fd's successive connections apart */
    unsigned char key[8];         /* client address (IPv6: its /64) */
    unsigned char keylen;
    unsigned char loopback;
    struct sockaddr_storage sa;
    socklen_t salen;
    uint64_t t0, deadline;        /* ms, monotonic */
    size_t seen, drained;
    unsigned reads;
    int sent_continue;
    struct gate_conn *prev, *next;
} gate_conn;

struct web_gate {
    gate_config cfg;
    char *headers;
    int ep, wake;
    int thread_started;
    pthread_t thread;
    pthread_mutex_t mu;
    gate_conn *oldest, *newest;
    gate_conn **by_fd;
    size_t nby_fd;
    unsigned n;
    uint32_t gen;
    uint64_t next_due;            /* earliest deadline, or UINT64_MAX */
    uint64_t resume_at;           /* accept paused until (0: not paused) */
    char *buf;                    /* peek buffer: a whole request */
    size_t cap;
};

static uint64_t now_ms(void)
{
    return (uint64_t)(dp_now() * 1000.0);
}

/* ---- the request check --------------------------------------------------- */

static int tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int field_is(const char *l, size_t k, const char *name)
{
    return strlen(name) == k && !strncasecmp(l, name, k);
}

/* The request line buf[0..ll): method SP origin-form-target SP HTTP/1.x. */
static int check_request_line(const gate_config *cfg, const char *buf, size_t ll, int *http11,
                              const char **why)
{
    size_t i = 0;
    while (i < ll && i <= 32 && tchar((unsigned char)buf[i])) i++;
    if (!i || i > 32 || i >= ll || buf[i] != ' ') return *why = "malformed request line", 400;
    size_t t = ++i, params = 0;
    int query = 0;
    for (; i < ll && buf[i] != ' '; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x21 || c > 0x7e) return *why = "malformed request target", 400;
        if (c == '?') query = 1;
        params += query && c == '&';
    }
    if (i == t || buf[t] != '/') return *why = "the request target must be a path", 400;
    if (ll > cfg->max_uri) return *why = "request target too long", 414;
    if (query && params + 1 > GATE_MAX_PARAMS) return *why = "too many query parameters", 414;
    if (i >= ll) return *why = "no HTTP version", 400;
    const char *v = buf + i + 1;
    size_t vn = ll - i - 1;
    if (vn == 8 && (!memcmp(v, "HTTP/1.1", 8) || !memcmp(v, "HTTP/1.0", 8))) {
        *http11 = v[7] == '1';
        return 0;
    }
    if (vn == 8 && !memcmp(v, "HTTP/", 5) && isdigit((unsigned char)v[5]) && v[6] == '.' &&
        isdigit((unsigned char)v[7]))
        return *why = "only HTTP/1.0 and HTTP/1.1 are served", 505;
    return *why = "malformed HTTP version", 400;
}

/* What the head says about the request, as far as the gate cares. */
typedef struct gate_head {
    int http11, host, expect, chunked;
    long long clen;               /* -1: none */
    size_t fields, cookies;
} gate_head;

/* One header field l[0..ll) (no line end). */
static int check_field(const gate_config *cfg, const char *l, size_t ll, gate_head *h, const char **why)
{
    if (l[0] == ' ' || l[0] == '\t') return *why = "folded header line", 400;
    size_t k = 0;
    while (k < ll && tchar((unsigned char)l[k])) k++;
    if (!k || k >= ll || l[k] != ':') return *why = "malformed header field", 400;
    size_t v = k + 1, e = ll;
    for (size_t i = v; i < ll; i++) {
        unsigned char c = (unsigned char)l[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return *why = "control character in a header field", 400;
    }
    while (v < e && (l[v] == ' ' || l[v] == '\t')) v++;
    while (e > v && (l[e - 1] == ' ' || l[e - 1] == '\t')) e--;
    if (field_is(l, k, "Host")) {
        if (++h->host > 1) return *why = "more than one Host field", 400;
    } else if (field_is(l, k, "Content-Length")) {
        if (h->clen >= 0 || e == v || e - v > 12) return *why = "bad Content-Length", 400;
        long long n = 0;
        for (size_t i = v; i < e; i++) {
            if (!isdigit((unsigned char)l[i])) return *why = "bad Content-Length", 400;
            n = n * 10 + (l[i] - '0');
        }
        if ((unsigned long long)n > cfg->max_body) return *why = "request body too large", 413;
        h->clen = n;
    } else if (field_is(l, k, "Transfer-Encoding")) {
        if (h->chunked || e - v != 7 || strncasecmp(l + v, "chunked", 7))
            return *why = "only the chunked transfer coding is understood", 501;
        h->chunked = 1;
    } else if (field_is(l, k, "Expect")) {
        if (e - v != 12 || strncasecmp(l + v, "100-continue", 12)) return *why = "unknown expectation", 417;
        h->expect = 1;
    } else if (field_is(l, k, "Cookie")) {
        h->cookies += 1;
        for (size_t i = v; i < e; i++) h->cookies += l[i] == ';';
        if (h->cookies > GATE_MAX_COOKIES) return *why = "too many cookies", 431;
    }
    return 0;
}

/* A CRLF at b[*pos]: 1 (and past it), 0 when more bytes are needed, -1 when
 * something else is there. */
static int crlf(const char *b, size_t n, size_t *pos)
{
    if (*pos + 2 > n) return *pos < n && b[*pos] != '\r' ? -1 : 0;
    if (b[*pos] != '\r' || b[*pos + 1] != '\n') return -1;
    *pos += 2;
    return 1;
}

/* A chunked body at b[0..n) (RFC 9112 7.1, CRLF line ends, no trailer
 * fields): 1 with *used when whole, 0 when more bytes are needed, or a
 * status. Its decoded size counts against max_body, its framing against a
 * budget of as much again. */
static int check_chunked(const gate_config *cfg, const char *b, size_t n, size_t *used, const char **why)
{
    size_t pos = 0, total = 0;
    for (;;) {
        size_t st = pos, size = 0, digits = 0;
        while (pos < n && isxdigit((unsigned char)b[pos]) && digits < 8) {
            int c = tolower((unsigned char)b[pos++]);
            size = size * 16 + (size_t)(c <= '9' ? c - '0' : c - 'a' + 10);
            digits++;
        }
        if (pos < n && !digits) return *why = "malformed chunk size", 400;
        if (pos < n && b[pos] == ';')                       /* chunk extensions: ignored */
            while (pos < n && b[pos] != '\r' && b[pos] != '\n' && pos - st < 256) pos++;
        int rc = crlf(b, n, &pos);
        if (rc < 0 || pos - st > 256) return *why = "malformed chunk size line", 400;
        if (!rc) return 0;
        if (size == 0) {
            rc = crlf(b, n, &pos);
            if (rc < 0) return *why = "trailer fields are not accepted", 400;
            if (!rc) return 0;
            *used = pos;
            return 1;
        }
        if ((total += size) > cfg->max_body) return *why = "request body too large", 413;
        if (pos > 2 * cfg->max_body) return *why = "request body too large", 413;
        if (n - pos < size) return 0;
        pos += size;
        rc = crlf(b, n, &pos);
        if (rc < 0) return *why = "malformed chunk", 400;
        if (!rc) return 0;
    }
}

int gate_check(const gate_config *cfg, const char *buf, size_t n, size_t *len, const char **why,
               int *expect_continue)
{
    *expect_continue = 0;
    *why = NULL;
    const char *nl = memchr(buf, '\n', n);
    if (!nl) {
        if (n > cfg->max_uri) return *why = "request target too long", 414;
        return 0;
    }
    size_t ll = (size_t)(nl - buf);
    if (ll && buf[ll - 1] == '\r') ll--;
    gate_head h = {.clen = -1};
    int rc;
    if ((rc = check_request_line(cfg, buf, ll, &h.http11, why))) return rc;
    size_t pos = (size_t)(nl - buf) + 1;
    for (;;) {
        nl = pos < n ? memchr(buf + pos, '\n', n - pos) : NULL;
        size_t end = nl ? (size_t)(nl - buf) + 1 : n;
        if (end > cfg->max_head) return *why = "request header fields too large", 431;
        if (!nl) return 0;
        const char *l = buf + pos;
        ll = (size_t)(nl - l);
        if (ll && l[ll - 1] == '\r') ll--;
        pos = end;
        if (!ll) break;
        if (++h.fields > GATE_MAX_FIELDS) return *why = "too many header fields", 431;
        if ((rc = check_field(cfg, l, ll, &h, why))) return rc;
    }
    if (h.http11 && !h.host) return *why = "no Host field", 400;
    /* A length given twice over is how requests get smuggled. */
    if (h.chunked && (h.clen >= 0 || !h.http11))
        return *why = "Transfer-Encoding with Content-Length, or in HTTP/1.0", 400;
    size_t body = (size_t)(h.clen > 0 ? h.clen : 0);
    if (h.chunked) {
        rc = check_chunked(cfg, buf + pos, n - pos, &body, why);
        if (rc > 1) return rc;
    } else {
        rc = n - pos >= body;
    }
    if (!rc) {
        *expect_continue = h.expect;
        return 0;
    }
    *len = pos + body;
    return 1;
}

/* ---- the table ------------------------------------------------------------ */

int gate_addr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}

size_t gate_addr_key(const struct sockaddr *sa, unsigned char key[8])
{
    if (sa->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(key, a->s6_addr + 12, 4);
            return 4;
        }
        memcpy(key, a->s6_addr, 8);
        return 8;
    }
    return 0;
}

static void conn_key(gate_conn *c)
{
    const struct sockaddr *sa = (const struct sockaddr *)&c->sa;
    c->keylen = gate_addr_key(sa, c->key);
    c->loopback = (unsigned char)gate_addr_loopback(sa);
}

static int same_client(const gate_conn *a, const gate_conn *b)
{
    return a->keylen == b->keylen && !memcmp(a->key, b->key, a->keylen);
}

static void due(web_gate *g, uint64_t t)
{
    if (t < g->next_due) g->next_due = t;
}

/* Adds c at the newest end. Caller holds mu. */
static void table_add(web_gate *g, gate_conn *c)
{
    if ((size_t)c->fd >= g->nby_fd) {
        size_t nn = g->nby_fd ? g->nby_fd : 256;
        while (nn <= (size_t)c->fd) nn *= 2;
        g->by_fd = xrealloc(g->by_fd, nn * sizeof *g->by_fd);
        memset(g->by_fd + g->nby_fd, 0, (nn - g->nby_fd) * sizeof *g->by_fd);
        g->nby_fd = nn;
    }
    g->by_fd[c->fd] = c;
    c->prev = g->newest;
    c->next = NULL;
    if (g->newest) g->newest->next = c;
    else g->oldest = c;
    g->newest = c;
    g->n++;
}

/* Unlinks and frees c (its fd is closed or owned elsewhere). Caller holds mu. */
static void table_remove(web_gate *g, gate_conn *c)
{
    if (c->prev) c->prev->next = c->next;
    else g->oldest = c->next;
    if (c->next) c->next->prev = c->prev;
    else g->newest = c->prev;
    if (g->by_fd[c->fd] == c) g->by_fd[c->fd] = NULL;
    g->n--;
    free(c);
}

/* Closes a connection the gate owns. Caller holds mu. */
static void conn_close(web_gate *g, gate_conn *c)
{
    close(c->fd);
    table_remove(g, c);
}

static void conn_pending(web_gate *g, gate_conn *c, uint32_t events);

/* Makes room: closes the connection that has gone longest without
 * finishing, among those of `like`'s client (like NULL: all): one still
 * draining or sending its request first, else one handed over (shut down;
 * the server closes it). A request that has arrived whole since the gate
 * last looked is handed over, not pushed out: the gate looks again at the
 * oldest ones before choosing. Returns 0 when there was none. Caller holds
 * mu. */
static int evict(web_gate *g, const gate_conn *like)
{
    int looks = GATE_EVICT_LOOKS;
again:;
    gate_conn *handed = NULL;
    for (gate_conn *c = g->oldest; c; c = c->next) {
        if (like && !same_client(c, like)) continue;
        if (c->state == G_PENDING && looks > 0) {
            looks--;
            int fd = c->fd;
            uint32_t gen = c->gen;
            conn_pending(g, c, 0);              /* may hand over, answer or close it */
            c = (size_t)fd < g->nby_fd ? g->by_fd[fd] : NULL;
            if (!c || c->gen != gen) return 1;  /* the client had left: room made */
            if (c->state == G_HANDED) goto again;
        }
        if (c->state != G_HANDED) {
            conn_close(g, c);
            return 1;
        }
        if (!c->evicted && !handed) handed = c;
    }
    if (!handed) return 0;
    shutdown(handed->fd, SHUT_RDWR);
    handed->evicted = 1;
    return 1;
}

/* ---- replies ------------------------------------------------------------- */

static const char *reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

/* Writes an error reply (small: it fits an empty socket buffer), then reads
 * and drops what the client still sends for a moment, so that closing does
 * not reset the connection before the client has read the reply. */
static void reply(web_gate *g, gate_conn *c, int status, const char *why)
{
    char date[64], out[2048];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n%s\r\n%s\n",
                     status, reason(status), date, strlen(why) + 1, g->headers, why);
    if (n > 0 && (size_t)n < sizeof out) (void)!send(c->fd, out, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(c->fd, SHUT_WR);
    c->state = G_DRAIN;
    c->deadline = now_ms() + GATE_DRAIN_MS;
    due(g, c->deadline);
}

/* ---- events -------------------------------------------------------------- */

static void conn_handoff(web_gate *g, gate_conn *c)
{
    int fd = c->fd;
    uint32_t gen = c->gen;
    struct sockaddr_storage sa = c->sa;
    socklen_t salen = c->salen;
    epoll_ctl(g->ep, EPOLL_CTL_DEL, fd, NULL);
    c->state = G_HANDED;
    c->deadline = c->t0 + g->cfg.life_ms;
    due(g, c->deadline);
    /* From here on the server may close fd at any time (and report it):
     * c may be gone as soon as the lock is released. */
    pthread_mutex_unlock(&g->mu);
    int rc = g->cfg.handoff(g->cfg.ud, fd, (const struct sockaddr *)&sa, salen);
    pthread_mutex_lock(&g->mu);
    if (rc && (size_t)fd < g->nby_fd && g->by_fd[fd] && g->by_fd[fd]->gen == gen) table_remove(g, g->by_fd[fd]);
}

static void conn_drain(web_gate *g, gate_conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, g->buf, g->cap, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || (c->drained += (size_t)n) > GATE_DRAIN_BYTES) break;
    }
    conn_close(g, c);
}

/* New bytes (or an end) on a connection still sending its request. */
static void conn_pending(web_gate *g, gate_conn *c, uint32_t events)
{
    ssize_t n = recv(c->fd, g->buf, g->cap, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        conn_close(g, c);                       /* the client left */
        return;
    }
    int ended = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    if ((size_t)n == c->seen && !ended) return;
    c->seen = (size_t)n;
    size_t len = 0;
    const char *why;
    int expect, rc = gate_check(&g->cfg, g->buf, (size_t)n, &len, &why, &expect);
    if (rc == 1) {
        conn_handoff(g, c);
    } else if (rc) {
        reply(g, c, rc, why);
        conn_drain(g, c);
    } else if (ended) {
        conn_close(g, c);                       /* it will never be whole */
    } else if (++c->reads > GATE_MAX_READS) {
        reply(g, c, 400, "request sent in too many pieces");
        conn_drain(g, c);
    } else if (expect && !c->sent_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        (void)!send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        c->sent_continue = 1;
    }
}

static void set_listen(web_gate *g, int on)
{
    struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.u64 = UINT64_MAX};
    epoll_ctl(g->ep, EPOLL_CTL_MOD, g->cfg.listen_fd, &ev);
}

static void accept_some(web_gate *g)
{
    for (int i = 0; i < GATE_ACCEPTS; i++) {
        gate_conn *c = xcalloc(1, sizeof *c);
        c->salen = sizeof c->sa;
        c->fd = accept4(g->cfg.listen_fd, (struct sockaddr *)&c->sa, &c->salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c->fd < 0) {
            int e = errno;
            free(c);
            if (e == EINTR || e == ECONNABORTED) continue;
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                /* Out of descriptors: free one, or wait a little (the
                 * listening socket would wake us at once, forever). */
                if (!evict(g, NULL)) {
                    set_listen(g, 0);
                    g->resume_at = now_ms() + GATE_PAUSE_MS;
                    due(g, g->resume_at);
                }
            }
            return;
        }
        conn_key(c);
        c->t0 = now_ms();
        c->deadline = c->t0 + g->cfg.head_ms;
        c->gen = ++g->gen;
        unsigned same = 0;
        for (gate_conn *o = g->oldest; o; o = o->next) same += same_client(o, c) && !o->evicted;
        unsigned cap_ip = c->loopback ? g->cfg.max_conns : g->cfg.max_per_ip;
        if (same >= cap_ip) evict(g, c);
        if (g->n >= g->cfg.max_conns) evict(g, NULL);
        if (g->n >= g->cfg.max_conns + GATE_OVERSHOOT) {
            close(c->fd);                       /* nothing left to push out */
            free(c);
            continue;
        }
        table_add(g, c);
        due(g, c->deadline);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                                 .data.u64 = ((uint64_t)c->gen << 32) | (uint32_t)c->fd};
        if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev)) conn_close(g, c);
    }
}

/* Deadlines: a request not whole in time gets 408 (or, if it sent nothing
 * at all, a silent close); a draining connection is closed; a handed-over
 * one that outlived life_ms is shut down for the server to close. */
static void sweep(web_gate *g, uint64_t now)
{
    if (now < g->next_due) return;
    g->next_due = UINT64_MAX;
    if (g->resume_at && now >= g->resume_at) {
        g->resume_at = 0;
        set_listen(g, 1);
    } else if (g->resume_at) {
        due(g, g->resume_at);
    }
    for (gate_conn *c = g->oldest, *next; c; c = next) {
        next = c->next;
        if (c->deadline > now) {
            if (!c->evicted) due(g, c->deadline);
            continue;
        }
        if (c->state == G_PENDING && c->seen) {
            reply(g, c, 408, "request not received in time");
            conn_drain(g, c);
        } else if (c->state != G_HANDED) conn_close(g, c);
        else if (!c->evicted) {
            shutdown(c->fd, SHUT_RDWR);
            c->evicted = 1;
        }
    }
}

static void *gate_main(void *arg)
{
    web_gate *g = arg;
    struct epoll_event evs[64];
    for (;;) {
        pthread_mutex_lock(&g->mu);
        uint64_t now = now_ms();
        int timeout = g->next_due == UINT64_MAX ? 1000
                      : g->next_due <= now       ? 0
                      : (int)(g->next_due - now > 1000 ? 1000 : g->next_due - now);
        pthread_mutex_unlock(&g->mu);
        int n = epoll_wait(g->ep, evs, 64, timeout);
        pthread_mutex_lock(&g->mu);
        int listen_ready = 0;
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            if (d == UINT64_MAX - 1) {
                pthread_mutex_unlock(&g->mu);
                return NULL;
            }
            if (d == UINT64_MAX) {
                listen_ready = 1;
                continue;
            }
            size_t fd = (uint32_t)d;
            gate_conn *c = fd < g->nby_fd ? g->by_fd[fd] : NULL;
            if (!c || c->gen != (uint32_t)(d >> 32)) continue;   /* closed in this batch */
            if (c->state == G_PENDING) conn_pending(g, c, evs[i].events);
            else if (c->state == G_DRAIN) conn_drain(g, c);
        }
        /* New connections after the requests that arrived: a flood of
         * connects must not push out a request that is already here. */
        if (listen_ready) accept_some(g);
        sweep(g, now_ms());
        pthread_mutex_unlock(&g->mu);
    }
}

/* ---- start / stop -------------------------------------------------------- */

int gate_start(const gate_config *cfg, web_gate **out, dp_err *err)
{
    web_gate *g = xcalloc(1, sizeof *g);
    g->cfg = *cfg;
    g->headers = xstrdup(cfg->headers ? cfg->headers : "");
    g->cfg.headers = g->headers;
    g->cap = cfg->max_head + 2 * cfg->max_body + 512;   /* room for chunk framing */
    g->buf = xmalloc(g->cap);
    g->next_due = UINT64_MAX;
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    g->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&g->mu, NULL);
    *out = g;
    struct epoll_event lev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    struct epoll_event wev = {.events = EPOLLIN, .data.u64 = UINT64_MAX - 1};
    if (g->ep < 0 || g->wake < 0 || epoll_ctl(g->ep, EPOLL_CTL_ADD, cfg->listen_fd, &lev) ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, g->wake, &wev) || pthread_create(&g->thread, NULL, gate_main, g)) {
        int e = errno;
        gate_stop(g);
        gate_free(g);
        *out = NULL;
        return dp_fail(err, "cannot start the connection gate: %s", strerror(e));
    }
    g->thread_started = 1;
    return DP_OK;
}

void gate_closed(web_gate *g, int fd)
{
    pthread_mutex_lock(&g->mu);
    gate_conn *c = fd >= 0 && (size_t)fd < g->nby_fd ? g->by_fd[fd] : NULL;
    if (c && c->state == G_HANDED) table_remove(g, c);
    pthread_mutex_unlock(&g->mu);
}

void gate_stop(web_gate *g)
{
    if (!g) return;
    if (g->thread_started) {
        uint64_t one = 1;
        (void)!write(g->wake, &one, sizeof one);
        pthread_join(g->thread, NULL);
        g->thread_started = 0;
    }
    pthread_mutex_lock(&g->mu);
    for (gate_conn *c = g->oldest, *next; c; c = next) {
        next = c->next;
        if (c->state != G_HANDED) conn_close(g, c);
    }
    pthread_mutex_unlock(&g->mu);
    if (g->cfg.listen_fd >= 0) close(g->cfg.listen_fd);
    g->cfg.listen_fd = -1;
}

void gate_free(web_gate *g)
{
    if (!g) return;
    while (g->oldest) table_remove(g, g->oldest);   /* the server closed them */
    if (g->ep >= 0) close(g->ep);
    if (g->wake >= 0) close(g->wake);
    pthread_mutex_destroy(&g->mu);
    free(g->by_fd);
    free(g->buf);
    free(g->headers);
    free(g);
}
