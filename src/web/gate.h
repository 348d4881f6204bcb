/* gate.h -- admission of HTTP connections in front of libmicrohttpd (internal
 * to src/web; server.c is its only user).
 *
 * The gate owns the listening socket. It accepts every connection itself and
 * hands one over to the HTTP server only when the whole request -- head and
 * body -- has arrived and is well formed, within bounded time and size. It
 * answers everything else itself (400, 408, 413, 414, 417, 431, 501, 505),
 * with the same security headers as every other response. It caps the
 * connections open at once, overall and per client address, and when a cap
 * is reached it closes the connection that has gone longest without
 * finishing rather than refusing the new one: a slow or idle client cannot
 * hold a place that a normal one needs.
 *
 * Ownership: gate_start takes the listening socket. A connection handed over
 * belongs to the server, which must call gate_closed() just before it closes
 * it (libmicrohttpd's NOTIFY_CONNECTION "closed" does exactly that).
 * Threads: one gate thread; gate_closed may be called from any thread. */
#ifndef DP_WEB_GATE_H
#define DP_WEB_GATE_H

#include <stddef.h>
#include <sys/socket.h>

#include "../common/util.h"

typedef struct gate_config {
    int listen_fd;             /* bound, listening, non-blocking */
    unsigned max_conns;        /* connections open at once, all clients */
    unsigned max_per_ip;       /* from one remote address (IPv6: one /64);
                                * loopback clients all share max_conns */
    unsigned head_ms;          /* the whole request must arrive within this */
    unsigned life_ms;          /* the whole exchange must end within this */
    size_t max_head;           /* request line + header fields, bytes */
    size_t max_uri;            /* request line, bytes */
    size_t max_body;           /* Content-Length, or chunked body decoded */
    const char *headers;       /* "Name: value\r\n" lines for every reply the
                                * gate writes itself; copied */
    /* Hands over a connection whose complete request is in its receive
     * queue; returns 0 when the server took it. The server owns fd either
     * way (closes it on failure). */
    int (*handoff)(void *ud, int fd, const struct sockaddr *sa, socklen_t salen);
    void *ud;
} gate_config;

typedef struct web_gate web_gate;

int gate_start(const gate_config *cfg, web_gate **out, dp_err *err);
/* The server is about to close fd, a connection the gate handed over. */
void gate_closed(web_gate *g, int fd);
/* Stops accepting: joins the gate thread, closes the listening socket and
 * the connections not handed over. Handed-over ones stay counted until
 * gate_closed. NULL ok. */
void gate_stop(web_gate *g);
/* After gate_stop and after the server closed its connections. NULL ok. */
void gate_free(web_gate *g);

/* 1 when sa is a loopback address (127/8, ::1, ::ffff:127.0.0.0/104). */
int gate_addr_loopback(const struct sockaddr *sa);
/* The key that stands for sa's client in per-client limits, written to key:
 * an IPv4 address (an IPv4-mapped IPv6 one too), or an IPv6 /64 -- one host
 * usually owns a whole /64, so a finer key would give it millions of
 * places. Returns its length (4 or 8), 0 for another family. */
size_t gate_addr_key(const struct sockaddr *sa, unsigned char key[8]);

/* The request check the gate applies, exposed for tests: on the first n
 * bytes of a connection, returns 0 while more bytes are needed, 1 when a
 * whole valid request of *len bytes (head + body) is there, or an HTTP
 * status (>= 400) with *why saying what is wrong. *expect_continue tells
 * that a complete head asks for "100 Continue" before its body. */
int gate_check(const gate_config *cfg, const char *buf, size_t n, size_t *len, const char **why,
               int *expect_continue);

#endif
