/* test_write.c -- the GitHub client's writes (gh_write) and issue calls:
 * the requests built (method, path, JSON body), what is retried (nothing was
 * sent: a refused connection) and what is handed back unsure (the request
 * went out, no answer came: it may have been applied), pacing, the bound on
 * waiting, and the refusal of other hosts. A local socket that accepts and
 * hangs up stands in for a server that dies after reading a request. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "../../../src/sync/github.h"

static void test_calls(void **state)
{
    (void)state;
    gh_call c;
    gh_call_comment_create(&c, "o/r", "12", "Duplicate of #3\n\n<!-- doppel:pair=3:12 v1 -->");
    assert_string_equal(c.method, "POST");
    assert_string_equal(c.path, "/repos/o/r/issues/12/comments");
    assert_string_equal(c.body, "{\"body\":\"Duplicate of #3\\n\\n<!-- doppel:pair=3:12 v1 -->\"}");
    gh_call copy;
    gh_call_copy(&copy, &c);
    assert_string_equal(copy.body, c.body);
    gh_call_free(&copy);
    gh_call_free(&c);
    gh_call_comment_edit(&c, "o/r", 9001, "\"quoted\" \xe2\x9c\x93");
    assert_string_equal(c.method, "PATCH");
    assert_string_equal(c.path, "/repos/o/r/issues/comments/9001");
    assert_string_equal(c.body, "{\"body\":\"\\\"quoted\\\" \xe2\x9c\x93\"}");
    gh_call_free(&c);
    gh_call_comment_delete(&c, "o/r", 9001);
    assert_string_equal(c.method, "DELETE");
    assert_null(c.body);
    gh_call_free(&c);
    gh_call_issue_state(&c, "o/r", "12", "closed", "duplicate");
    assert_string_equal(c.path, "/repos/o/r/issues/12");
    assert_string_equal(c.body, "{\"state\":\"closed\",\"state_reason\":\"duplicate\"}");
    gh_call_free(&c);
    gh_call_issue_state(&c, "o/r", "12", "open", NULL);
    assert_string_equal(c.body, "{\"state\":\"open\"}");
    gh_call_free(&c);
    gh_call_label_add(&c, "o/r", "12", "possible duplicate");
    assert_string_equal(c.path, "/repos/o/r/issues/12/labels");
    assert_string_equal(c.body, "{\"labels\":[\"possible duplicate\"]}");
    gh_call_free(&c);
    /* a label (or a hostile key) cannot leave its path segment */
    gh_call_label_remove(&c, "o/r", "12", "a b/../c?d#\xc3\xa9");
    assert_string_equal(c.path, "/repos/o/r/issues/12/labels/a%20b%2F..%2Fc%3Fd%23%C3%A9");
    gh_call_free(&c);
    gh_call_label_add(&c, "o/r", "../../x", "l");
    assert_string_equal(c.path, "/repos/o/r/issues/..%2F..%2Fx/labels");
    gh_call_free(&c);
    gh_call_free(NULL);
}

static void test_answers(void **state)
{
    (void)state;
    gh_response r;
    memset(&r, 0, sizeof r);
    sb_adds(&r.body, "{\"id\": 77, \"user\": {\"login\": \"doppel-bot\"}, \"body\": \"x\"}");
    assert_int_equal(gh_answer_id(&r), 77);
    char *l = gh_answer_login(&r);
    assert_string_equal(l, "doppel-bot");
    free(l);
    sb_reset(&r.body);
    sb_adds(&r.body, "[1, 2]");
    assert_int_equal(gh_answer_id(&r), 0);
    assert_null(gh_answer_login(&r));
    sb_reset(&r.body);
    sb_adds(&r.body, "{\"id\": -5}");
    assert_int_equal(gh_answer_id(&r), 0);
    sb_reset(&r.body);
    sb_adds(&r.body, "not json");
    assert_int_equal(gh_answer_id(&r), 0);
    gh_response_free(&r);
}

/* A server that accepts connections, reads what comes, and hangs up
 * without answering. */
typedef struct hangup {
    int fd;
    int port;
    int accepted;
    pthread_t th;
} hangup;

static void *hangup_run(void *arg)
{
    hangup *h = arg;
    for (;;) {
        int c = accept(h->fd, NULL, NULL);
        if (c < 0) return NULL;
        char buf[4096];
        (void)!read(c, buf, sizeof buf);
        __atomic_add_fetch(&h->accepted, 1, __ATOMIC_SEQ_CST);
        close(c);
    }
}

static void hangup_start(hangup *h)
{
    memset(h, 0, sizeof *h);
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(h->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(h->fd, 8), 0);
    assert_int_equal(getsockname(h->fd, (struct sockaddr *)&a, &len), 0);
    h->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&h->th, NULL, hangup_run, h), 0);
}

static void hangup_stop(hangup *h)
{
    shutdown(h->fd, SHUT_RDWR);
    close(h->fd);
    pthread_join(h->th, NULL);
}

static void test_unsure(void **state)
{
    (void)state;
    hangup h;
    hangup_start(&h);
    char base[64], url[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", h.port);
    snprintf(url, sizeof url, "%s/repos/o/r/issues/1/comments", base);
    gh_config cfg = {.api_url = base, .token = "tok-SECRET-1", .max_tries = 3, .backoff_base_ms = 1,
                     .write_gap_ms = -1};
    gh_client *c;
    dp_err err;
    assert_int_equal(gh_client_new(&cfg, &c, &err), DP_OK);
    gh_response r;
    /* the request went out and no answer came: not sent again */
    assert_int_equal(gh_write(c, "POST", url, "{\"body\":\"x\"}", &r, &err), DP_ERR);
    assert_int_equal(r.unsure, 1);
    assert_int_equal(gh_client_stats(c)->requests, 1);
    assert_int_equal(gh_client_stats(c)->writes, 1);
    assert_null(strstr(err.msg, "SECRET"));
    gh_response_free(&r);
    /* a read of the same is retried: reading twice is harmless */
    assert_int_equal(gh_get(c, url, NULL, &r, &err), DP_ERR);
    assert_int_equal(r.unsure, 0);
    assert_int_equal(gh_client_stats(c)->requests, 4);
    gh_response_free(&r);
    assert_int_equal(__atomic_load_n(&h.accepted, __ATOMIC_SEQ_CST), 4);
    gh_client_free(c);
    hangup_stop(&h);
}

static void test_refused_and_paced(void **state)
{
    (void)state;
    gh_config cfg = {.api_url = "http://127.0.0.1:1", .max_tries = 2, .backoff_base_ms = 1, .write_gap_ms = 300};
    gh_client *c;
    dp_err err;
    gh_response r;
    assert_int_equal(gh_client_new(&cfg, &c, &err), DP_OK);
    assert_int_equal(gh_write(c, "GET", "http://127.0.0.1:1/x", NULL, &r, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "unsupported method"));
    gh_response_free(&r);
    assert_int_equal(gh_write(c, "PATCH", "http://evil.example/repos/o/r/issues/1", "{}", &r, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "not under the API URL"));
    gh_response_free(&r);
    assert_int_equal(gh_client_stats(c)->requests, 0);
    /* nothing listens: the request never left, so it is retried, not unsure */
    double t0 = dp_now();
    assert_int_equal(gh_write(c, "DELETE", "http://127.0.0.1:1/repos/o/r/issues/comments/5", NULL, &r, &err), DP_ERR);
    assert_int_equal(r.unsure, 0);
    assert_int_equal(gh_client_stats(c)->requests, 2);
    gh_response_free(&r);
    /* pacing: every write starts write_gap_ms after the one before */
    assert_true(dp_now() - t0 >= 0.29);
    t0 = dp_now();
    assert_int_equal(gh_write(c, "DELETE", "http://127.0.0.1:1/repos/o/r/issues/comments/5", NULL, &r, &err), DP_ERR);
    assert_true(dp_now() - t0 >= 0.29);
    gh_response_free(&r);
    gh_client_free(c);

    /* the bound on waiting: a backoff longer than it fails at once */
    gh_config slow = {.api_url = "http://127.0.0.1:1", .max_tries = 3, .backoff_base_ms = 5000, .max_wait_s = 1,
                      .write_gap_ms = -1};
    assert_int_equal(gh_client_new(&slow, &c, &err), DP_OK);
    t0 = dp_now();
    assert_int_equal(gh_write(c, "POST", "http://127.0.0.1:1/repos/o/r/issues/1/labels", "{}", &r, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "beyond the limit of 1 s"));
    assert_true(dp_now() - t0 < 2.0);
    gh_response_free(&r);
    gh_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_unsure),
        cmocka_unit_test(test_refused_and_paced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
