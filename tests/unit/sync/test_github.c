/* test_github.c -- unit tests of the GitHub client's pure parts (Link
 * parsing, redaction, origin checks, backoff, answer classification, rate
 * waits), token discovery, repository names, and the client's refusals and
 * bounded retries against a closed local port (no network needed). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "testutil.h"
#include "../../../src/sync/github.h"
#include "../../../src/sync/sync.h"

static void test_link_find(void **state)
{
    (void)state;
    const char *h = "<https://api.github.com/repositories/1/issues?page=2&per_page=100>; rel=\"next\", "
                    "<https://api.github.com/repositories/1/issues?page=50&per_page=100>; rel=\"last\"";
    char *n = gh_link_find(h, "next"), *l = gh_link_find(h, "last");
    assert_string_equal(n, "https://api.github.com/repositories/1/issues?page=2&per_page=100");
    assert_string_equal(l, "https://api.github.com/repositories/1/issues?page=50&per_page=100");
    assert_null(gh_link_find(h, "prev"));
    assert_null(gh_link_find(NULL, "next"));
    assert_null(gh_link_find("garbage without brackets", "next"));
    free(n);
    free(l);
    /* a comma inside a URL, several rel values, first/prev before next */
    const char *h2 = "<https://x/a?labels=a,b&page=1>; rel=\"prev first\", <https://x/a?labels=a,b&page=3>; rel=\"next\"";
    n = gh_link_find(h2, "next");
    char *f = gh_link_find(h2, "first");
    assert_string_equal(n, "https://x/a?labels=a,b&page=3");
    assert_string_equal(f, "https://x/a?labels=a,b&page=1");
    free(n);
    free(f);
}

static void test_redact(void **state)
{
    (void)state;
    char *r = gh_redact_url("https://user:s3cret@ghe.example/api/v3/repos/o/r?access_token=s3cret&page=2");
    assert_null(strstr(r, "s3cret"));
    assert_string_equal(r, "https://ghe.example/api/v3/repos/o/r?access_token=REDACTED&page=2");
    free(r);
    r = gh_redact_url("https://api.github.com/repos/o/r/issues?state=all");
    assert_string_equal(r, "https://api.github.com/repos/o/r/issues?state=all");
    free(r);
    r = gh_redact_url("http://127.0.0.1:8080/x?Token=abc");
    assert_string_equal(r, "http://127.0.0.1:8080/x?Token=REDACTED");
    free(r);
}

/* The shapes the fuzz target found (fuzz/seeds/gh_headers/redact_gaps):
 * URL parsers take the userinfo up to the LAST '@' of the authority, the
 * scheme only at the start, and the query from the first '?'. */
static void test_redact_shapes(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } cases[] = {
        {"https://user@x:SECRET@api.example.com/repos/o/r", "https://api.example.com/repos/o/r"},
        {"http://u@x:SECRET@127.0.0.1:1/api", "http://127.0.0.1:1/api"},
        {"ghe.example.com/api?access_token=SECRET&next=http://x",
         "ghe.example.com/api?access_token=REDACTED&next=http://x"},
        {"https://ghe.example.com/a&b?access_token=SECRET", "https://ghe.example.com/a&b?access_token=REDACTED"},
        {"https://h/a?x=1&token=SECRET#client_secret=SECRET", "https://h/a?x=1&token=REDACTED#client_secret=REDACTED"},
        {"https://h/cb#access_token=SECRET&token_type=bearer", "https://h/cb#access_token=REDACTED&token_type=bearer"},
        {"https://h/a?access%5Ftoken=SECRET&TOKEN=SECRET", "https://h/a?access%5Ftoken=REDACTED&TOKEN=REDACTED"},
        {"user:SECRET@h/x", "h/x"},
        /* slashes and backslashes as lenient parsers take them (browsers: any
         * number for http(s), even none; curl: one to three) */
        {"https:/u:SECRET@h/x", "https:/h/x"},
        {"HTTPS:///u:SECRET@h/x", "HTTPS:///h/x"},
        {"https:\\\\u:SECRET@h/x", "https:\\\\h/x"},
        {"https:u:SECRET@h/x", "https:h/x"},
        {"x@https://u:SECRET@h/", "https://h/"},   /* a cut that makes a scheme appear */
        {"https://h/p@q?a=b@c", "https://h/p@q?a=b@c"},   /* '@' after the authority is not userinfo */
        {"https://h/x?tokens=1&token", "https://h/x?tokens=1&token"},
        {"", ""},
        {"?", "?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = gh_redact_url(cases[i].in);
        assert_string_equal(r, cases[i].want);
        free(r);
    }
}

static void test_redact_text(void **state)
{
    (void)state;
    const char *tok = "s3cr3t-t0ken-value";
    static const struct { const char *in, *secret, *want; } cases[] = {
        /* the configured token anywhere, however it is introduced */
        {"x s3cr3t-t0ken-value y s3cr3t-t0ken-value", "s3cr3t-t0ken-value", "x [REDACTED] y [REDACTED]"},
        /* a server quoting the Authorization header back (issue 11, I) */
        {"Bad credentials: Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789", NULL,
         "Bad credentials: Bearer [REDACTED]"},
        {"Authorization: bearer opaque", NULL, "Authorization: bearer [REDACTED]"},
        {"Authorization: Basic dXNlcjpwYXNz", NULL, "Authorization: Basic [REDACTED]"},
        {"Authorization: token 0123456789abcdef0123", NULL, "Authorization: token [REDACTED]"},
        {"?access_token=abc123def456&x=1", NULL, "?access_token=[REDACTED]&x=1"},
        /* GitHub tokens by their prefixes, even without a keyword */
        {"see ghp_AAAAAAAAAAAAAAAAAAAA1234 and github_pat_11ABCDEFG0123456789_xyz.", NULL,
         "see ghp_[REDACTED] and github_pat_[REDACTED]."},
        /* ordinary words stay readable */
        {"the token is missing; token required", NULL, "the token is missing; token required"},
        {"Bearer", NULL, "Bearer"},
        {"ghp_short", NULL, "ghp_short"},
        {"Not Found", "", "Not Found"},
        {"", "s3cr3t-t0ken-value", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = gh_redact_text(cases[i].in, cases[i].secret);
        assert_string_equal(r, cases[i].want);
        free(r);
    }
    char *r = gh_redact_text(NULL, tok);
    assert_string_equal(r, "");
    free(r);
}

static void test_check_api_url(void **state)
{
    (void)state;
    dp_err err;
    assert_int_equal(gh_check_api_url("https://api.github.com", &err), DP_OK);
    assert_int_equal(gh_check_api_url("http://127.0.0.1:8080/api/v3/", &err), DP_OK);
    assert_int_equal(gh_check_api_url("http://user:S3CRET@host/api", &err), DP_ERR);
    assert_non_null(strstr(err.msg, "user name or password"));
    assert_null(strstr(err.msg, "S3CRET"));
    assert_int_equal(gh_check_api_url("https://tok@host", &err), DP_ERR);
    assert_int_equal(gh_check_api_url("https://host/api?access_token=S3CRET", &err), DP_ERR);
    assert_null(strstr(err.msg, "S3CRET"));
    assert_int_equal(gh_check_api_url("https://host/api#x", &err), DP_ERR);
    assert_int_equal(gh_check_api_url("ftp://host", &err), DP_ERR);
    assert_int_equal(gh_check_api_url("https://", &err), DP_ERR);
    assert_int_equal(gh_check_api_url("https://:80/x", &err), DP_ERR);
    assert_int_equal(gh_check_api_url(NULL, &err), DP_ERR);
    /* the client refuses the same URLs */
    gh_client *c = NULL;
    gh_config cfg = {.api_url = "http://user:S3CRET@127.0.0.1:1"};
    assert_int_equal(gh_client_new(&cfg, &c, &err), DP_ERR);
    assert_null(c);
    assert_null(strstr(err.msg, "S3CRET"));
}

static void test_same_origin(void **state)
{
    (void)state;
    assert_true(gh_same_origin("https://api.github.com", "https://api.github.com/repos/o/r"));
    assert_true(gh_same_origin("https://API.github.com", "https://api.github.com/x"));
    assert_false(gh_same_origin("https://api.github.com", "https://evil.com/repos"));
    assert_false(gh_same_origin("https://api.github.com", "http://api.github.com/repos"));
    assert_false(gh_same_origin("https://api.github.com", "https://api.github.com.evil.com/x"));
    assert_false(gh_same_origin("http://127.0.0.1:80", "http://127.0.0.1:8080/x"));
    assert_true(gh_same_origin("https://h/api/v3", "https://h/api/v3/repos/o/r"));
    assert_true(gh_same_origin("https://h/api/v3/", "https://h/api/v3?x=1"));
    assert_false(gh_same_origin("https://h/api/v3", "https://h/api/v30/repos"));
    assert_false(gh_same_origin("https://h/api/v3", "https://h/other"));
    assert_false(gh_same_origin("https://h", "/relative/path"));
}

static void test_backoff(void **state)
{
    (void)state;
    unsigned seed = 42;
    for (int rep = 0; rep < 50; rep++) {
        for (int a = 0; a < 12; a++) {
            long d = 100;
            for (int i = 0; i < a && d < 5000; i++) d *= 2;
            if (d > 5000) d = 5000;
            long ms = gh_backoff_ms(a, 100, 5000, &seed);
            assert_true(ms >= d / 2);
            assert_true(ms <= d);
        }
    }
    /* jitter: not always the same value */
    long first = gh_backoff_ms(5, 100, 60000, &seed);
    int differs = 0;
    for (int i = 0; i < 20; i++) differs |= gh_backoff_ms(5, 100, 60000, &seed) != first;
    assert_true(differs);
}

static gh_response resp(long remaining, int64_t reset, long retry_after)
{
    gh_response r;
    memset(&r, 0, sizeof r);
    r.rate_limit = 5000;
    r.rate_remaining = remaining;
    r.rate_reset = reset;
    r.retry_after = retry_after;
    return r;
}

static void test_classify(void **state)
{
    (void)state;
    gh_response ok = resp(10, 0, -1);
    assert_int_equal(gh_classify(200, &ok, "[]"), GH_DONE);
    assert_int_equal(gh_classify(304, &ok, ""), GH_DONE);
    assert_int_equal(gh_classify(404, &ok, "{}"), GH_DONE);
    assert_int_equal(gh_classify(410, &ok, "{}"), GH_DONE);
    assert_int_equal(gh_classify(301, &ok, "{}"), GH_DONE);
    assert_int_equal(gh_classify(502, &ok, "<html>"), GH_RETRY);
    assert_int_equal(gh_classify(500, &ok, NULL), GH_RETRY);
    assert_int_equal(gh_classify(401, &ok, "{\"message\":\"Bad credentials\"}"), GH_FAIL);
    assert_int_equal(gh_classify(422, &ok, "{}"), GH_FAIL);
    assert_int_equal(gh_classify(403, &ok, "{\"message\":\"Resource not accessible\"}"), GH_FAIL);
    gh_response spent = resp(0, 1000, -1);
    assert_int_equal(gh_classify(403, &spent, "{\"message\":\"API rate limit exceeded\"}"), GH_RATE_PRIMARY);
    gh_response ra = resp(10, 0, 30);
    assert_int_equal(gh_classify(403, &ra, "{}"), GH_RATE_SECONDARY);
    assert_int_equal(gh_classify(429, &ok, "{}"), GH_RATE_SECONDARY);
    assert_int_equal(gh_classify(403, &ok, "{\"message\":\"You have exceeded a secondary rate limit\"}"),
                     GH_RATE_SECONDARY);
}

static void test_rate_wait(void **state)
{
    (void)state;
    gh_response r = resp(0, 1010, -1);
    assert_true(gh_rate_wait_s(&r, 1000, 60) == 11.0);     /* until reset + 1 s */
    r = resp(5, 1010, 7);
    assert_true(gh_rate_wait_s(&r, 1000, 60) == 7.0);      /* Retry-After wins */
    r = resp(5, 999999, -1);
    assert_true(gh_rate_wait_s(&r, 1000, 60) == 60.0);     /* secondary: reset is not ours */
    r = resp(0, 900, -1);
    assert_true(gh_rate_wait_s(&r, 1000, 60) == 1.0);      /* reset passed: at least 1 s */
    r = resp(0, 1000 + 86400, -1);
    assert_true(gh_rate_wait_s(&r, 1000, 60) <= 3660.0);   /* bounded */
}

static void test_parse_repo(void **state)
{
    (void)state;
    dp_err err;
    assert_int_equal(sync_parse_repo("huggingface/datasets", &err), DP_OK);
    assert_int_equal(sync_parse_repo("a-b/c.d_e", &err), DP_OK);
    assert_int_equal(sync_parse_repo("noslash", &err), DP_ERR);
    assert_int_equal(sync_parse_repo("a/b/c", &err), DP_ERR);
    assert_int_equal(sync_parse_repo("/b", &err), DP_ERR);
    assert_int_equal(sync_parse_repo("a/", &err), DP_ERR);
    assert_int_equal(sync_parse_repo("a/..", &err), DP_ERR);
    assert_int_equal(sync_parse_repo("a/b?x=1", &err), DP_ERR);
    assert_int_equal(sync_parse_repo(NULL, &err), DP_ERR);
}

static void test_find_token(void **state)
{
    (void)state;
    const char *src;
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent-dir", 1);   /* no gh */
    setenv("GITHUB_TOKEN", "tok-a", 1);
    setenv("GH_TOKEN", "tok-b", 1);
    char *t = sync_find_token(&src);
    assert_string_equal(t, "tok-a");
    assert_string_equal(src, "GITHUB_TOKEN");
    free(t);
    setenv("GITHUB_TOKEN", "", 1);           /* empty counts as unset */
    t = sync_find_token(&src);
    assert_string_equal(t, "tok-b");
    assert_string_equal(src, "GH_TOKEN");
    free(t);
    unsetenv("GITHUB_TOKEN");
    unsetenv("GH_TOKEN");
    t = sync_find_token(&src);
    assert_null(t);
    assert_null(src);
    if (old_path) setenv("PATH", old_path, 1);
    free(old_path);
}

static void test_client_refusals(void **state)
{
    (void)state;
    dp_err err;
    gh_client *c = NULL;
    gh_config cfg = {.api_url = "ftp://example.com"};
    assert_int_equal(gh_client_new(&cfg, &c, &err), DP_ERR);
    assert_null(c);
    cfg.api_url = "http://127.0.0.1:1/";
    cfg.token = "tok-SECRET";
    cfg.max_tries = 2;
    cfg.backoff_base_ms = 1;
    assert_int_equal(gh_client_new(&cfg, &c, &err), DP_OK);
    assert_string_equal(gh_client_base(c), "http://127.0.0.1:1");
    gh_response r;
    /* another host: refused before any request, so the token stays home */
    assert_int_equal(gh_get(c, "http://evil.example/repos/o/r", NULL, &r, &err), DP_ERR);
    gh_response_free(&r);
    assert_non_null(strstr(err.msg, "not under the API URL"));
    assert_int_equal(gh_client_stats(c)->requests, 0);
    /* closed port: retried, bounded, and the error names the URL only */
    assert_int_equal(gh_get(c, "http://127.0.0.1:1/repos/o/r/issues", NULL, &r, &err), DP_ERR);
    gh_response_free(&r);
    assert_non_null(strstr(err.msg, "/repos/o/r/issues"));
    assert_non_null(strstr(err.msg, "after 2 tries"));
    assert_null(strstr(err.msg, "SECRET"));
    assert_int_equal(gh_client_stats(c)->requests, 2);
    assert_int_equal(gh_client_stats(c)->retries, 1);
    gh_client_free(c);
}

static volatile sig_atomic_t cancel_flag;

static void test_cancel(void **state)
{
    (void)state;
    dp_err err;
    gh_client *c = NULL;
    cancel_flag = 1;
    gh_config cfg = {.api_url = "http://127.0.0.1:1", .cancel = &cancel_flag};
    assert_int_equal(gh_client_new(&cfg, &c, &err), DP_OK);
    gh_response r;
    assert_int_equal(gh_get(c, "http://127.0.0.1:1/x", NULL, &r, &err), DP_ERR);
    gh_response_free(&r);
    assert_string_equal(err.msg, "interrupted");
    assert_int_equal(gh_client_stats(c)->requests, 0);
    gh_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_find),    cmocka_unit_test(test_redact),
        cmocka_unit_test(test_redact_shapes),
        cmocka_unit_test(test_redact_text),  cmocka_unit_test(test_check_api_url),
        cmocka_unit_test(test_same_origin),  cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_classify),     cmocka_unit_test(test_rate_wait),
        cmocka_unit_test(test_parse_repo),   cmocka_unit_test(test_find_token),
        cmocka_unit_test(test_client_refusals), cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
