/* test_server.c -- the HTTP policy of web_start/web_stop over a real socket
 * (libcurl as the client): headers, Host check, token, cross-site POSTs,
 * body limit, start-up errors. */
#include <curl/curl.h>
#include <stdlib.h>

#include "testutil.h"
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

static int start(void **state, const char *token)
{
    fx *f = calloc(1, sizeof *f);
    f->path = webfix_make();
    web_config cfg = {.db_path = f->path, .port = 0, .token = token, .threads = 2};
    dp_err err;
    if (web_start(&cfg, &f->srv, &err) != DP_OK) fail_msg("web_start: %s", err.msg);
    f->port = web_port(f->srv);
    *state = f;
    return 0;
}

static int setup(void **state) { return start(state, NULL); }
static int setup_token(void **state) { return start(state, "secret-token-1"); }

static int teardown(void **state)
{
    fx *f = *state;
    web_stop(f->srv);
    webfix_remove(f->path);
    free(f);
    return 0;
}

static void test_headers(void **state)
{
    fx *f = *state;
    resp r;
    fetch(f->port, "GET", "/api/pairs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers.s, "Content-Type: application/json; charset=utf-8"));
    assert_non_null(strstr(r.headers.s, "Content-Security-Policy: default-src 'self'"));
    assert_non_null(strstr(r.headers.s, "frame-ancestors 'none'"));
    assert_non_null(strstr(r.headers.s, "X-Content-Type-Options: nosniff"));
    assert_non_null(strstr(r.headers.s, "Referrer-Policy: no-referrer"));
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

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token, setup_token, teardown),
        cmocka_unit_test(test_start_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
