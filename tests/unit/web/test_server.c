/* test_server.c -- the HTTP policy of web_start/web_stop over a real socket
 * (libcurl, or raw sockets for what libcurl will not send): headers on every
 * response, Host check, token, cross-site POSTs, body limit, start-up
 * errors; the connection gate (deadline, caps, the largest request it
 * passes); gzip and ETags. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"
#include "../../../src/sync/github.h"
#include "../../../src/web/web.h"
#include "webfix.h"

typedef struct resp {
    long status;
    sbuf body, headers;
} resp;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    sb_add(ud, p, sz * n);
    return sz * n;
}

/* One request; hdrs is a NULL-terminated list of "Name: value". */
static void fetch(unsigned port, const char *method, const char *path, const char *const *hdrs,
                  const char *body, resp *r)
{
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    sb_init(&r->body);
    sb_init(&r->headers);
    struct curl_slist *hl = NULL;
    for (; hdrs && *hdrs; hdrs++) hl = curl_slist_append(hl, *hdrs);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

static void resp_free(resp *r)
{
    sb_free(&r->body);
    sb_free(&r->headers);
}

typedef struct fx {
    char *path;
    web_server *srv;
    unsigned port;
} fx;

static int start_cfg(void **state, web_config cfg)
{
    fx *f = calloc(1, sizeof *f);
    f->path = webfix_make();
    cfg.db_path = f->path;
    cfg.threads = 2;
    dp_err err;
    if (web_start(&cfg, &f->srv, &err) != DP_OK) fail_msg("web_start: %s", err.msg);
    f->port = web_port(f->srv);
    *state = f;
    return 0;
}

static int start(void **state, const char *token)
{
    return start_cfg(state, (web_config){.token = token});
}

static int setup(void **state) { return start(state, NULL); }
static int setup_token(void **state) { return start(state, "secret-token-1"); }
/* a short request deadline, few places */
static int setup_tight(void **state) { return start_cfg(state, (web_config){.head_timeout_ms = 300, .max_conns = 8}); }

#define FORMS "https://forms.example.org"
/* CORS for one origin; the default rate limit */
static int setup_cors(void **state) { return start_cfg(state, (web_config){.cors_origin = FORMS}); }

static int teardown(void **state)
{
    fx *f = *state;
    web_stop(f->srv);
    webfix_remove(f->path);
    free(f);
    return 0;
}

static void assert_secured(const char *resp);
static char *header_value(const char *resp, const char *name);

static void test_headers(void **state)
{
    fx *f = *state;
    resp r;
    fetch(f->port, "GET", "/api/pairs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers.s, "Content-Type: application/json; charset=utf-8"));
    assert_secured(r.headers.s);
    assert_non_null(strstr(r.body.s, "\"total\":2"));
    resp_free(&r);
    fetch(f->port, "GET", "/pair/1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers.s, "Content-Type: text/html"));
    resp_free(&r);
    fetch(f->port, "GET", "/nothing", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.headers.s, "Content-Security-Policy"));
    resp_free(&r);
}

static void test_host_check(void **state)
{
    fx *f = *state;
    resp r;
    const char *evil[] = {"Host: evil.example", NULL};
    fetch(f->port, "GET", "/api/pairs", evil, NULL, &r);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    char wrong_port[64];
    snprintf(wrong_port, sizeof wrong_port, "Host: 127.0.0.1:%u", f->port + 1);
    const char *wp[] = {wrong_port, NULL};
    fetch(f->port, "GET", "/", wp, NULL, &r);
    assert_int_equal(r.status, 403);
    resp_free(&r);
}

static void test_post_policy(void **state)
{
    fx *f = *state;
    resp r;
    const char *ok[] = {"Content-Type: application/json", "X-Doppel: 1", NULL};
    const char *cross[] = {"Content-Type: application/json", "X-Doppel: 1", "Origin: http://evil.example", NULL};
    const char *nocustom[] = {"Content-Type: application/json", NULL};
    const char *form[] = {"Content-Type: text/plain", "X-Doppel: 1", NULL};
    fetch(f->port, "POST", "/api/pairs/1/verdict", cross, "{\"verdict\":\"duplicate\"}", &r);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    fetch(f->port, "POST", "/api/pairs/1/verdict", nocustom, "{\"verdict\":\"duplicate\"}", &r);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    fetch(f->port, "POST", "/api/pairs/1/verdict", form, "{\"verdict\":\"duplicate\"}", &r);
    assert_int_equal(r.status, 415);
    resp_free(&r);
    char *big = xcalloc(1, WEB_MAX_BODY + 100);
    memset(big, ' ', WEB_MAX_BODY + 50);
    fetch(f->port, "POST", "/api/pairs/1/verdict", ok, big, &r);
    assert_int_equal(r.status, 413);
    resp_free(&r);
    free(big);
    fetch(f->port, "POST", "/api/pairs/1/verdict", ok, "{\"verdict\":\"duplicate\"}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* a chunked body (what node's http module sends) is read too */
    const char *chunked[] = {"Content-Type: application/json", "X-Doppel: 1", "Transfer-Encoding: chunked", NULL};
    fetch(f->port, "POST", "/api/pairs/1/verdict", chunked, "{\"verdict\":\"related\"}", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.s, "related"));
    resp_free(&r);
    fetch(f->port, "DELETE", "/api/pairs/1", NULL, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers.s, "Allow: GET, HEAD"));
    resp_free(&r);
}

static void test_token(void **state)
{
    fx *f = *state;
    resp r;
    fetch(f->port, "GET", "/api/pairs", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    const char *bad[] = {"Authorization: Bearer secret-token-2", NULL};
    fetch(f->port, "GET", "/api/pairs", bad, NULL, &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    const char *good[] = {"Authorization: Bearer secret-token-1", NULL};
    fetch(f->port, "GET", "/api/pairs", good, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    fetch(f->port, "GET", "/?token=secret-token-1", NULL, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_non_null(strstr(r.headers.s, "Set-Cookie: doppel_token=secret-token-1; Path=/; HttpOnly; SameSite=Strict"));
    resp_free(&r);
    const char *cookie[] = {"Cookie: doppel_token=secret-token-1", NULL};
    fetch(f->port, "GET", "/api/pairs", cookie, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_start_errors(void **state)
{
    (void)state;
    web_server *s;
    dp_err err;
    web_config missing = {.db_path = "/nonexistent/x.db"};
    assert_int_equal(web_start(&missing, &s, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "no such store"));
    char *path = webfix_make();
    web_config open = {.db_path = path, .bind = "0.0.0.0"};
    assert_int_equal(web_start(&open, &s, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "--token"));
    web_config weak = {.db_path = path, .token = "a b;c"};
    assert_int_equal(web_start(&weak, &s, &err), DP_ERR);
    webfix_remove(path);
    assert_true(web_is_loopback("127.0.0.1"));
    assert_true(web_is_loopback("::1"));
    assert_false(web_is_loopback("0.0.0.0"));
    assert_false(web_is_loopback("10.1.2.3"));
    web_stop(NULL);
}

static int has_header(const resp *r, const char *line)
{
    return strcasestr(r->headers.s, line) != NULL;
}

/* GET /api/similar cross-origin: only the configured origin may read it,
 * and only that route; the preflight is answered for it alone. Without
 * --cors there is no Access-Control header at all. */
static void test_cors(void **state)
{
    fx *f = *state;
    resp r;
    const char *from_forms[] = {"Origin: " FORMS, NULL};
    const char *from_evil[] = {"Origin: https://evil.example", NULL};
    fetch(f->port, "GET", "/api/similar?title=First%20issue", from_forms, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Access-Control-Allow-Origin: " FORMS "\r\n"));
    assert_true(has_header(&r, "Access-Control-Expose-Headers: Retry-After"));
    assert_true(has_header(&r, "Vary: Origin") || has_header(&r, "Vary: Accept-Encoding, Origin"));
    assert_false(has_header(&r, "Access-Control-Allow-Credentials"));
    assert_non_null(strstr(r.body.s, "\"candidates\""));
    resp_free(&r);
    fetch(f->port, "GET", "/api/similar?title=First%20issue", from_evil, NULL, &r);
    assert_int_equal(r.status, 200);   /* answered, but a browser will not let that page read it */
    assert_false(has_header(&r, "Access-Control-Allow-Origin"));
    resp_free(&r);
    fetch(f->port, "GET", "/api/pairs", from_forms, NULL, &r);   /* CORS is for /api/similar only */
    assert_false(has_header(&r, "Access-Control-Allow-Origin"));
    resp_free(&r);
    fetch(f->port, "GET", "/api/similar", from_forms, NULL, &r);   /* errors are readable too */
    assert_int_equal(r.status, 400);
    assert_true(has_header(&r, "Access-Control-Allow-Origin: " FORMS));
    resp_free(&r);
    /* the preflight */
    const char *pre[] = {"Origin: " FORMS, "Access-Control-Request-Method: GET",
                         "Access-Control-Request-Headers: authorization", NULL};
    fetch(f->port, "OPTIONS", "/api/similar", pre, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_true(has_header(&r, "Access-Control-Allow-Origin: " FORMS));
    assert_true(has_header(&r, "Access-Control-Allow-Methods: GET"));
    assert_true(has_header(&r, "Access-Control-Allow-Headers: Authorization"));
    assert_true(has_header(&r, "Access-Control-Max-Age: 600"));
    assert_true(has_header(&r, "Content-Security-Policy"));
    resp_free(&r);
    const char *pre_evil[] = {"Origin: https://evil.example", "Access-Control-Request-Method: GET", NULL};
    const char *pre_post[] = {"Origin: " FORMS, "Access-Control-Request-Method: POST", NULL};
    const char *const *refused[] = {pre_evil, pre_post};
    for (size_t i = 0; i < 2; i++) {
        fetch(f->port, "OPTIONS", "/api/similar", refused[i], NULL, &r);
        assert_int_equal(r.status, 403);
        assert_false(has_header(&r, "Access-Control-Allow-Origin"));
        resp_free(&r);
    }
    fetch(f->port, "OPTIONS", "/api/pairs", pre, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_false(has_header(&r, "Access-Control-Allow-Origin"));
    resp_free(&r);
}

static void test_cors_off(void **state)
{
    fx *f = *state;
    resp r;
    const char *from[] = {"Origin: " FORMS, NULL};
    fetch(f->port, "GET", "/api/similar?title=First%20issue", from, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_false(has_header(&r, "Access-Control-"));
    resp_free(&r);
    const char *pre[] = {"Origin: " FORMS, "Access-Control-Request-Method: GET", NULL};
    fetch(f->port, "OPTIONS", "/api/similar", pre, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_false(has_header(&r, "Access-Control-"));
    resp_free(&r);
}

/* Over the socket: WEB_SIMILAR_BURST requests pass, the next is 429 with
 * Retry-After; other routes are not limited. */
static void test_similar_rate(void **state)
{
    fx *f = *state;
    resp r;
    int limited = 0;
    for (int i = 0; i < WEB_SIMILAR_BURST + 1; i++) {
        fetch(f->port, "GET", "/api/similar?title=Second%20issue&k=1", NULL, NULL, &r);
        if (r.status == 429) {
            limited++;
            assert_true(has_header(&r, "Retry-After: "));
            char *ra = header_value(r.headers.s, "Retry-After: ");
            assert_true(atoi(ra) >= 1 && atoi(ra) <= 2);
            free(ra);
            assert_non_null(strstr(r.body.s, "too many requests"));
            assert_true(has_header(&r, "Content-Security-Policy"));
        } else {
            assert_int_equal(r.status, 200);
        }
        resp_free(&r);
    }
    assert_int_equal(limited, 1);   /* the burst passed (a refill may add one, not more) */
    fetch(f->port, "GET", "/api/pairs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    fetch(f->port, "POST", "/api/similar?title=x", NULL, NULL, &r);   /* GET only (POSTs need the headers first) */
    assert_int_equal(r.status, 403);
    resp_free(&r);
}

/* DELETE takes the same cross-site checks as POST; the queue through HTTP;
 * /apply is a page. */
static void test_queue_policy(void **state)
{
    fx *f = *state;
    resp r;
    const char *ok[] = {"Content-Type: application/json", "X-Doppel: 1", NULL};
    const char *cross[] = {"Content-Type: application/json", "X-Doppel: 1", "Origin: http://evil.example", NULL};
    const char *nocustom[] = {"Content-Type: application/json", NULL};
    fetch(f->port, "POST", "/api/pairs/1/verdict", ok, "{\"verdict\":\"duplicate\"}", &r);
    resp_free(&r);
    fetch(f->port, "POST", "/api/pairs/1/queue", cross, "{}", &r);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    fetch(f->port, "POST", "/api/pairs/1/queue", ok, "{}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    const char *const *refused[] = {cross, nocustom};
    for (size_t i = 0; i < 2; i++) {
        fetch(f->port, "DELETE", "/api/pairs/1/queue", refused[i], "{}", &r);
        assert_int_equal(r.status, 403);
        resp_free(&r);
    }
    fetch(f->port, "GET", "/api/pairs/1", NULL, NULL, &r);
    assert_non_null(strstr(r.body.s, "\"queued\":true"));
    resp_free(&r);
    fetch(f->port, "DELETE", "/api/pairs/1/queue", ok, "{}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    fetch(f->port, "PUT", "/api/pairs/1/queue", ok, "{}", &r);
    assert_int_equal(r.status, 405);
    assert_true(has_header(&r, "Allow: POST, DELETE"));
    resp_free(&r);
    fetch(f->port, "GET", "/apply", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Content-Type: text/html"));
    resp_free(&r);
    /* the plan, read-only: no --write here */
    fetch(f->port, "GET", "/api/apply", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.s, "\"write\":false"));
    resp_free(&r);
    fetch(f->port, "POST", "/api/apply", ok, "{\"repo\":1,\"confirm\":\"00000000000000000000000000000000\"}", &r);
    assert_int_equal(r.status, 403);
    resp_free(&r);
}

static void test_write_start_errors(void **state)
{
    (void)state;
    web_server *s;
    dp_err err;
    char *path = webfix_make();
    gh_config none = {0}, bad_url = {.api_url = "ftp://example.org", .token = "ghp_x"};
    web_config no_token = {.db_path = path, .write = 1, .gh = &none};
    assert_int_equal(web_start(&no_token, &s, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "needs a token"));
    web_config no_gh = {.db_path = path, .write = 1};
    assert_int_equal(web_start(&no_gh, &s, &err), DP_ERR);
    web_config url = {.db_path = path, .write = 1, .gh = &bad_url};
    assert_int_equal(web_start(&url, &s, &err), DP_ERR);
    const char *bad_origins[] = {"*", "forms.example.org", "https://forms.example.org/", "https://a.example/x",
                                 "javascript:alert(1)", "https://", "https://a b"};
    for (size_t i = 0; i < sizeof bad_origins / sizeof bad_origins[0]; i++) {
        web_config c = {.db_path = path, .cors_origin = bad_origins[i]};
        if (web_start(&c, &s, &err) != DP_ERR) fail_msg("origin [%s] accepted", bad_origins[i]);
        assert_non_null(strstr(err.msg, "CORS"));
    }
    web_config good = {.db_path = path, .cors_origin = "http://127.0.0.1:9999"};
    assert_int_equal(web_start(&good, &s, &err), DP_OK);
    web_stop(s);
    webfix_remove(path);
}

/* ---- raw sockets ---------------------------------------------------------- */

static int conn_open(const char *ip, unsigned port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Reads until the server closes (5 s at most); owned string. */
static char *read_all(int fd)
{
    sbuf b;
    sb_init(&b);
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) sb_add(&b, buf, (size_t)n);
    return sb_take(&b);
}

/* One raw request on a new connection; the whole answer (owned). */
static char *raw(unsigned port, const char *req, size_t n)
{
    int fd = conn_open("127.0.0.1", port);
    for (size_t off = 0; off < n;) {
        ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break;   /* the server may answer before reading it all */
        off += (size_t)w;
    }
    char *out = read_all(fd);
    close(fd);
    return out;
}

static int status_of(const char *resp)
{
    int st = 0;
    sscanf(resp, "HTTP/1.1 %d", &st);
    return st;
}

/* The headers every response must carry, whoever wrote it. */
static void assert_secured(const char *resp)
{
    static const char *const need[] = {"\r\nContent-Security-Policy: default-src 'self';",
                                       "frame-ancestors 'none'", "\r\nX-Content-Type-Options: nosniff\r\n",
                                       "\r\nX-Frame-Options: DENY\r\n", "\r\nReferrer-Policy: no-referrer\r\n",
                                       "\r\nConnection: close\r\n"};
    const char *end = strstr(resp, "\r\n\r\n");
    if (!end) fail_msg("no complete head in [%.200s]", resp);
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        const char *p = strstr(resp, need[i]);
        if (!p || p > end) fail_msg("missing [%s] in:\n%.*s", need[i], (int)(end - resp), resp);
    }
}

/* Sends req on a new connection; the answer must have this status and the
 * security headers. */
static void raw_expect(unsigned port, const char *req, size_t n, int status)
{
    char *r = raw(port, req, n);
    if (status_of(r) != status) fail_msg("want %d, got:\n%.300s", status, r);
    assert_secured(r);
    free(r);
}

/* 1 when the server closed fd (EOF or reset) within ms. */
static int closed_by_server(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) return 0;
    char buf[1024];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) continue;
    return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

static char *header_value(const char *resp, const char *name)
{
    const char *p = strcasestr(resp, name);
    if (!p) return NULL;
    p += strlen(name);
    return xstrndup(p, strcspn(p, "\r\n"));
}

static void test_every_response_secured(void **state)
{
    fx *f = *state;
    char req[512], *r;
    struct { const char *fmt; int status; } cases[] = {
        {"GET /?token=secret-token-1 HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", 303},
        {"GET /?token=not-the-token HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", 401},
        {"GET /nothing HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", 404},
        {"GET /api/pairs HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", 401},
        {"DELETE /api/pairs HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", 405},
        {"GET / HTTP/1.1\r\nHost: evil.example:%u\r\n\r\n", 403},
        {"GET / HTTP/2.0\r\nHost: 127.0.0.1:%u\r\n\r\n", 505},
        {"GET / HTTP/1.1\r\nX-Port: %u\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n folded\r\n\r\n", 400},
        {"POST /api/pairs/1/verdict HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"POST /api/pairs/1/verdict HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"POST /api/pairs/1/verdict HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: 5000\r\n\r\n", 413},
        {"POST /api/pairs/1/verdict HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nExpect: x\r\nContent-Length: 2\r\n\r\n{}", 417},
        {"GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = snprintf(req, sizeof req, cases[i].fmt, f->port);
        r = raw(f->port, req, (size_t)n);
        if (status_of(r) != cases[i].status) fail_msg("want %d for [%s], got:\n%.300s", cases[i].status, req, r);
        assert_secured(r);
        if (cases[i].status == 303) assert_non_null(strstr(r, "\r\nSet-Cookie: doppel_token=secret-token-1;"));
        free(r);
    }
    /* too long: request line, one header field, all of them */
    sbuf b;
    sb_init(&b);
    sb_adds(&b, "GET /");
    for (int i = 0; i < 9000; i++) sb_addc(&b, 'a');
    sb_printf(&b, " HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", f->port);
    raw_expect(f->port, b.s, b.len, 414);
    sb_reset(&b);
    sb_printf(&b, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nX-Big: ", f->port);
    for (int i = 0; i < 70000; i++) sb_addc(&b, 'a');
    sb_adds(&b, "\r\n\r\n");
    raw_expect(f->port, b.s, b.len, 431);
    sb_free(&b);
    /* not modified */
    int n = snprintf(req, sizeof req, "GET /static/app.js HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", f->port);
    r = raw(f->port, req, (size_t)n);
    char *etag = header_value(r, "\r\nETag: ");
    assert_non_null(etag);
    free(r);
    n = snprintf(req, sizeof req, "GET /static/app.js HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nIf-None-Match: %s\r\n\r\n",
                 f->port, etag);
    raw_expect(f->port, req, (size_t)n, 304);
    free(etag);
}

static void test_request_deadline(void **state)
{
    fx *f = *state;
    /* slowloris: a header line every 50 ms, never the end */
    int fd = conn_open("127.0.0.1", f->port);
    double t0 = dp_now();
    char line[64];
    int n = snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n", f->port);
    send(fd, line, (size_t)n, MSG_NOSIGNAL);
    /* wait for the answer with poll alone: closed_by_server reads (and
     * drops) what came, so asking it here lost a 408 that arrived between
     * two lines -- a failure that only a loaded machine showed */
    for (int i = 0; i < 100; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) break;
        n = snprintf(line, sizeof line, "X-Slow-%d: y\r\n", i);
        if (send(fd, line, (size_t)n, MSG_NOSIGNAL) < 0) break;
    }
    char *r = read_all(fd);
    double took = dp_now() - t0;
    close(fd);
    assert_int_equal(status_of(r), 408);
    assert_secured(r);
    free(r);
    if (took > 3.0) fail_msg("the request deadline (0.3 s) took %.1f s", took);
    /* a connection that sends nothing is closed without an answer */
    fd = conn_open("127.0.0.1", f->port);
    assert_true(closed_by_server(fd, 3000));
    close(fd);
    /* and a normal client is served */
    resp rs;
    fetch(f->port, "GET", "/api/meta", NULL, NULL, &rs);
    assert_int_equal(rs.status, 200);
    resp_free(&rs);
}

static int setup_capped(void **state) { return start_cfg(state, (web_config){.max_conns = 8}); }

/* Opens n connections from ip that each send a request line and stop. */
static void open_stalled(const char *ip, unsigned port, int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        fds[i] = conn_open(ip, port);
        send(fds[i], "GET / HTTP/1.1\r\n", 16, MSG_NOSIGNAL);
    }
}

static void test_full_house(void **state)
{
    fx *f = *state;
    int fds[20];
    open_stalled("127.0.0.1", f->port, fds, 20);
    /* the cap is 8: the 12 oldest were pushed out, the 8 newest stay */
    for (int i = 0; i < 12; i++)
        if (!closed_by_server(fds[i], 3000)) fail_msg("stalled connection %d still open", i);
    for (int i = 12; i < 20; i++)
        if (closed_by_server(fds[i], 50)) fail_msg("connection %d closed, not the oldest", i);
    /* a normal client still gets in, every time */
    for (int k = 0; k < 5; k++) {
        resp r;
        fetch(f->port, "GET", "/api/meta", NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    for (int i = 0; i < 20; i++) close(fds[i]);
}

/* A non-loopback IPv4 address of this machine, or 0. */
static int own_address(char *ip, size_t n)
{
    struct ifaddrs *ifs, *i;
    if (getifaddrs(&ifs)) return 0;
    int found = 0;
    for (i = ifs; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        const struct sockaddr_in *sa = (const struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(sa->sin_addr.s_addr) >> 24) == 127) continue;
        found = inet_ntop(AF_INET, &sa->sin_addr, ip, (socklen_t)n) != NULL;
    }
    freeifaddrs(ifs);
    return found;
}

static void test_per_address_cap(void **state)
{
    (void)state;
    char ip[64];
    if (!own_address(ip, sizeof ip)) skip();
    void *st;
    start_cfg(&st, (web_config){.bind = "0.0.0.0", .token = "secret-token-1", .max_per_ip = 4});
    fx *f = st;
    /* a remote client without the token holds at most 4 places */
    int fds[10];
    open_stalled(ip, f->port, fds, 10);
    for (int i = 0; i < 6; i++)
        if (!closed_by_server(fds[i], 3000)) fail_msg("connection %d from %s still open", i, ip);
    for (int i = 6; i < 10; i++)
        if (closed_by_server(fds[i], 50)) fail_msg("connection %d closed, not the oldest", i);
    /* loopback clients are not counted with it, and the same address still
     * gets an answer */
    int lo = conn_open("127.0.0.1", f->port);
    send(lo, "GET / HTTP/1.1\r\n", 16, MSG_NOSIGNAL);
    for (int i = 6; i < 10; i++) assert_false(closed_by_server(fds[i], 0));
    char req[200];
    int n = snprintf(req, sizeof req, "GET /api/meta HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer secret-token-1\r\n\r\n",
                     ip);
    int c = conn_open(ip, f->port);
    send(c, req, (size_t)n, MSG_NOSIGNAL);
    char *r = read_all(c);
    assert_int_equal(status_of(r), 200);
    free(r);
    close(c);
    close(lo);
    for (int i = 0; i < 10; i++) close(fds[i]);
    teardown(&st);
}

/* The largest request the gate passes fits libmicrohttpd's memory: it is
 * answered by doppel (not by libmicrohttpd's own 431); one byte more is
 * refused by the gate, with the headers. */
static void test_largest_request(void **state)
{
    fx *f = *state;
    sbuf b;
    sb_init(&b);
    sb_adds(&b, "GET /?p0=");
    size_t fill = WEB_MAX_URI - strlen("GET /?p0=") - 63 * strlen("&pNN=v") - strlen(" HTTP/1.1");
    for (size_t i = 0; i < fill; i++) sb_addc(&b, 'v');
    for (int i = 1; i < 64; i++) sb_printf(&b, "&p%02d=v", i);
    sb_adds(&b, " HTTP/1.1");
    assert_int_equal(b.len, WEB_MAX_URI);
    sb_printf(&b, "\r\nHost: 127.0.0.1:%u\r\nCookie: c0=1", f->port);
    for (int i = 1; i < 64; i++) sb_printf(&b, "; c%d=1", i);
    sb_adds(&b, "\r\n");
    for (int i = 0; i < 61; i++) sb_printf(&b, "X-F%d: y\r\n", i);
    sb_adds(&b, "X-Pad: ");
    while (b.len < WEB_MAX_HEAD - 4) sb_addc(&b, 'z');
    sb_adds(&b, "\r\n\r\n");
    assert_int_equal(b.len, WEB_MAX_HEAD);
    char *r = raw(f->port, b.s, b.len);
    assert_int_equal(status_of(r), 200);
    assert_secured(r);
    assert_non_null(strstr(r, "Content-Type: text/html"));
    free(r);
    /* the same head with the largest body: answered by doppel's API */
    char *post = xstrdup(b.s);
    memcpy(post, "POS", 3);                                    /* "GET /?" -> "POS /?" keeps the length */
    sb_reset(&b);
    sb_add(&b, post, (size_t)(strstr(post, "X-F60: ") - post));   /* a field less, for Content-Length */
    sb_adds(&b, "Content-Length: 4096\r\nX-Pad: ");
    while (b.len < WEB_MAX_HEAD - 4) sb_addc(&b, 'z');
    sb_adds(&b, "\r\n\r\n");
    assert_int_equal(b.len, WEB_MAX_HEAD);
    for (int i = 0; i < WEB_MAX_BODY; i++) sb_addc(&b, ' ');
    free(post);
    r = raw(f->port, b.s, b.len);
    assert_int_equal(status_of(r), 405);
    assert_secured(r);
    assert_non_null(strstr(r, "Content-Type: text/plain"));
    free(r);
    /* one byte more */
    sb_reset(&b);
    sb_printf(&b, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nX-Pad: ", f->port);
    while (b.len < WEB_MAX_HEAD - 3) sb_addc(&b, 'z');
    sb_adds(&b, "\r\n\r\n");
    raw_expect(f->port, b.s, b.len, 431);
    sb_free(&b);
}

/* ---- gzip and ETags -------------------------------------------------------- */

static void gunzip(const sbuf *in, sbuf *out)
{
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    sb_init(out);
    char buf[16384];
    z.next_in = (Bytef *)in->s;
    z.avail_in = (uInt)in->len;
    int rc;
    do {
        z.next_out = (Bytef *)buf;
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        assert_true(rc == Z_OK || rc == Z_STREAM_END);
        sb_add(out, buf, sizeof buf - z.avail_out);
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
}

static void test_gzip_etag(void **state)
{
    fx *f = *state;
    resp plain, gz;
    const char *ae[] = {"Accept-Encoding: gzip, deflate, br", NULL};
    fetch(f->port, "GET", "/static/app.js", NULL, NULL, &plain);
    fetch(f->port, "GET", "/static/app.js", ae, NULL, &gz);
    assert_int_equal(gz.status, 200);
    assert_null(strstr(plain.headers.s, "Content-Encoding"));
    assert_non_null(strstr(gz.headers.s, "Content-Encoding: gzip"));
    assert_non_null(strstr(gz.headers.s, "Vary: Accept-Encoding"));
    assert_non_null(strstr(plain.headers.s, "Vary: Accept-Encoding"));
    assert_non_null(strstr(gz.headers.s, "Cache-Control: no-cache"));
    assert_true(gz.body.len < plain.body.len / 2);
    sbuf un;
    gunzip(&gz.body, &un);
    assert_int_equal(un.len, plain.body.len);
    assert_memory_equal(un.s, plain.body.s, un.len);
    sb_free(&un);
    /* each form has its own validator; either, weak or not, gives 304 */
    char *e1 = header_value(plain.headers.s, "ETag: "), *e2 = header_value(gz.headers.s, "ETag: ");
    assert_non_null(e1);
    assert_non_null(e2);
    assert_string_not_equal(e1, e2);
    char h1[128], h2[128];
    snprintf(h1, sizeof h1, "If-None-Match: \"other\", W/%s", e1);
    snprintf(h2, sizeof h2, "If-None-Match: %s", e2);
    const char *c1[] = {h1, NULL}, *c2[] = {h2, "Accept-Encoding: gzip", NULL}, *c3[] = {h2, NULL};
    resp r;
    fetch(f->port, "GET", "/static/app.js", c1, NULL, &r);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body.len, 0);
    resp_free(&r);
    fetch(f->port, "GET", "/static/app.js", c2, NULL, &r);
    assert_int_equal(r.status, 304);
    resp_free(&r);
    fetch(f->port, "GET", "/static/app.js", c3, NULL, &r);   /* the gzip tag, asking for identity */
    assert_int_equal(r.status, 200);
    resp_free(&r);
    free(e1);
    free(e2);
    resp_free(&plain);
    resp_free(&gz);
    /* API answers: gzip when large enough and accepted (q > 0) */
    struct { const char *path, *ae; int gz; } cases[] = {
        {"/api/pairs/1", "Accept-Encoding: gzip", 1}, {"/api/pairs/1", "Accept-Encoding: *", 1},
        {"/api/pairs/1", "Accept-Encoding: GZIP;q=0.5", 1}, {"/api/pairs/1", "Accept-Encoding: gzip;q=0", 0},
        {"/api/pairs/1", "Accept-Encoding: identity", 0}, {"/api/pairs/1", "Accept-Encoding: *, gzip;q=0", 0},
        {"/api/pairs/1", "X-None: 1", 0}, {"/api/meta", "Accept-Encoding: gzip", 0},
    };
    fetch(f->port, "GET", "/api/pairs/1", NULL, NULL, &plain);
    assert_true(plain.body.len >= 1024);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *h[] = {cases[i].ae, NULL};
        fetch(f->port, "GET", cases[i].path, h, NULL, &r);
        assert_int_equal(r.status, 200);
        int is_gz = strstr(r.headers.s, "Content-Encoding: gzip") != NULL;
        if (is_gz != cases[i].gz) fail_msg("%s with [%s]: gzip %d", cases[i].path, cases[i].ae, is_gz);
        if (is_gz) {
            gunzip(&r.body, &un);
            assert_int_equal(un.len, plain.body.len);
            sb_free(&un);
        }
        resp_free(&r);
    }
    resp_free(&plain);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token, setup_token, teardown),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test_setup_teardown(test_every_response_secured, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_request_deadline, setup_tight, teardown),
        cmocka_unit_test_setup_teardown(test_full_house, setup_capped, teardown),
        cmocka_unit_test(test_per_address_cap),
        cmocka_unit_test_setup_teardown(test_largest_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_etag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cors, setup_cors, teardown),
        cmocka_unit_test_setup_teardown(test_cors_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_similar_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_policy, setup, teardown),
        cmocka_unit_test(test_write_start_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
