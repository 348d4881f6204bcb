/* test_gate.c -- gate_check, the request check of the connection gate: what
 * is whole, what needs more bytes, and the status for each bad request. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "../../../src/web/gate.h"

static const gate_config CFG = {.max_head = 1024, .max_uri = 256, .max_body = 64};

/* The status gate_check gives req (0: needs more, 1: whole). */
static int check(const char *req, size_t *len, int *expect)
{
    const char *why;
    int e;
    size_t l = 0;
    int rc = gate_check(&CFG, req, strlen(req), &l, &why, &e);
    if (rc >= 400 && !why) fail_msg("status %d without a reason for: %s", rc, req);
    if (len) *len = l;
    if (expect) *expect = e;
    return rc;
}

static void is(const char *req, int want)
{
    int got = check(req, NULL, NULL);
    if (got != want) fail_msg("want %d got %d for:\n%s", want, got, req);
}

static void test_whole_and_partial(void **state)
{
    (void)state;
    size_t len;
    assert_int_equal(check("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &len, NULL), 1);
    assert_int_equal(len, 27);
    assert_int_equal(check("GET /x?a=1 HTTP/1.0\n\n", &len, NULL), 1);            /* bare LF, no Host */
    is("GET / HTTP/1.1\r\nHost: a\r\n", 0);
    is("GET / HTTP/1.1\r\nHo", 0);
    is("GET / HT", 0);
    is("", 0);
    /* the body must be there too; what follows it is not counted */
    is("POST /v HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab", 0);
    assert_int_equal(check("POST /v HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcdeXX", &len, NULL), 1);
    assert_int_equal(len, 53);
    int expect;
    assert_int_equal(check("POST /v HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", NULL,
                           &expect), 0);
    assert_int_equal(expect, 1);
    assert_int_equal(check("POST /v HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n", NULL,
                           &expect), 0);
    assert_int_equal(expect, 0);                                              /* head not whole yet */
}

static void test_bad_requests(void **state)
{
    (void)state;
    is("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    is("GET / HTTP/1.2\r\n", 505);                                            /* known at the first line */
    is("GET / HTTP/1.1x\r\n", 400);
    is("GET / http/1.1\r\n", 400);
    is("GET /\r\n\r\n", 400);                                                 /* HTTP/0.9 */
    is("GET  / HTTP/1.1\r\n", 400);
    is("GET http://evil/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    is("GET * HTTP/1.1\r\n", 400);
    is("G(T / HTTP/1.1\r\n", 400);
    is("GET /a\x01 HTTP/1.1\r\n", 400);
    is("GET /\xc3\xa9 HTTP/1.1\r\n", 400);
    is("\r\nGET / HTTP/1.1\r\n", 400);
    is("GET / HTTP/1.1\r\n\r\n", 400);                                        /* no Host */
    is("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    is("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400);
    is("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
    is("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400);
    is("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400);
    is("GET / HTTP/1.1\r\nnocolon\r\n\r\n", 400);
    is("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400);
    is("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
    is("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400);
    is("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65\r\n\r\n", 413);
    is("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400);
    is("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    is("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
    is("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400);
    is("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    is("POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", 417);
}

static void test_sizes(void **state)
{
    (void)state;
    char req[4096];
    /* a request line of max_uri bytes passes, one more is 414, known even
     * before the line ends */
    int n = snprintf(req, sizeof req, "GET /%0*d HTTP/1.1", 256 - 14, 0);
    assert_int_equal(n, 256);
    snprintf(req + n, sizeof req - (size_t)n, "\r\nHost: a\r\n\r\n");
    is(req, 1);
    snprintf(req, sizeof req, "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", 256 - 13, 0);
    is(req, 414);
    memset(req, 'a', 300);
    memcpy(req, "GET /", 5);
    req[300] = 0;
    is(req, 414);
    /* query parameters: 64 pass, 65 do not */
    char *p = req + sprintf(req, "GET /?a");
    for (int i = 1; i < 64; i++) p += sprintf(p, "&a");
    sprintf(p, " HTTP/1.1\r\nHost: a\r\n\r\n");
    is(req, 1);
    p = req + sprintf(req, "GET /?a");
    for (int i = 1; i < 65; i++) p += sprintf(p, "&a");
    sprintf(p, " HTTP/1.1\r\nHost: a\r\n\r\n");
    is(req, 414);
    /* the head: max_head bytes pass, one more is 431 (also unfinished) */
    n = sprintf(req, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    int fill = 1024 - n - 4;
    memset(req + n, 'x', (size_t)fill);
    strcpy(req + n + fill, "\r\n\r\n");
    assert_int_equal(strlen(req), 1024);
    is(req, 1);
    memmove(req + n + 1, req + n, strlen(req + n) + 1);
    is(req, 431);
    req[1000] = 0;
    memset(req + n, 'x', 1000 - (size_t)n);
    is(req, 0);
    memset(req + n, 'x', 1100 - (size_t)n);
    req[1100] = 0;
    is(req, 431);
    /* header fields: 64 pass, 65 do not; so for cookie pairs */
    p = req + sprintf(req, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < 64; i++) p += sprintf(p, "X%d: y\r\n", i);
    sprintf(p, "\r\n");
    is(req, 1);
    sprintf(p, "X: y\r\n\r\n");
    is(req, 431);
    p = req + sprintf(req, "GET / HTTP/1.1\r\nHost: a\r\nCookie: c=1");
    for (int i = 1; i < 64; i++) p += sprintf(p, "; c%d=1", i);
    sprintf(p, "\r\n\r\n");
    is(req, 1);
    sprintf(p, "; d=1\r\n\r\n");
    is(req, 431);
}

#define CHUNKED "POST /v HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

static void test_chunked(void **state)
{
    (void)state;
    size_t len;
    const char *whole = CHUNKED "5\r\nhello\r\n1;ext=x\r\n!\r\n0\r\n\r\n";
    assert_int_equal(check(whole, &len, NULL), 1);
    assert_int_equal(len, strlen(whole));
    /* every prefix needs more */
    char buf[1024];
    for (size_t k = strlen(CHUNKED); k < strlen(whole); k++) {
        memcpy(buf, whole, k);
        buf[k] = 0;
        if (check(buf, NULL, NULL) != 0) fail_msg("prefix of %zu bytes: not 0", k);
    }
    int expect;
    assert_int_equal(check("POST /v HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n", NULL, &expect), 0);
    assert_int_equal(expect, 1);
    is(CHUNKED "x\r\n", 400);
    is(CHUNKED "5 \r\nhello\r\n0\r\n\r\n", 400);
    is(CHUNKED "5\nhello\r\n0\r\n\r\n", 400);
    is(CHUNKED "5\r\nhelloX\r\n", 400);
    is(CHUNKED "0\r\nTrailer: x\r\n\r\n", 400);
    is(CHUNKED "123456789\r\n", 400);
    /* decoded size against max_body (64), framing against as much again */
    is(CHUNKED "41\r\n", 413);
    char *p = buf + sprintf(buf, CHUNKED);
    for (int i = 0; i < 40; i++) p += sprintf(p, "1\r\nx\r\n");
    assert_int_equal(check(buf, NULL, NULL), 413);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_and_partial),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
