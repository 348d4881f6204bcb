/* test_apply.c -- the Apply view's server side (apply.h) without a socket
 * of its own: the plan of the queue as JSON, the confirm hash (a stale or
 * altered one is refused and nothing starts), writing off by default, and
 * runs against GitHub API URLs that refuse or never answer: the error keeps
 * the token out, the time bound stops a run, freeing the applier stops one
 * in flight. (Runs that succeed: tests/browser/apply.test.mjs, against the
 * fake GitHub API.) */
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "../../../src/web/apply.h"
#include "webfix.h"

#define SECRET "ghp_unitApplyS3cretT0ken0123456789"

typedef struct fx {
    char *path;
    store *ro, *rw;
    int hang_fd;          /* a listening socket nobody accepts on: requests hang */
    char hang_url[64];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->path = webfix_make();
    dp_err err;
    if (store_open(f->path, &f->rw, &err) != DP_OK || store_open_readonly(f->path, &f->ro, &err) != DP_OK) return -1;
    /* pair 1 <-> 2: a duplicate verdict, queued */
    if (store_verdict_set(f->rw, 1, "1", "2", VERDICT_DUPLICATE, &err) != DP_OK) return -1;
    if (store_queue_add(f->rw, 1, "1", "2", &err) != DP_OK) return -1;
    f->hang_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(f->hang_fd, (struct sockaddr *)&a, sizeof a) || listen(f->hang_fd, 8) ||
        getsockname(f->hang_fd, (struct sockaddr *)&a, &al))
        return -1;
    snprintf(f->hang_url, sizeof f->hang_url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    close(f->hang_fd);
    store_close(f->ro);
    store_close(f->rw);
    webfix_remove(f->path);
    free(f);
    return 0;
}

static json_t *parse(web_reply *r)
{
    json_error_t jerr;
    json_t *j = json_loadb(r->body, r->len, 0, &jerr);
    if (!j) fail_msg("not JSON: %s", r->body);
    web_reply_free(r);
    return j;
}

static json_t *get_plan(fx *f, web_applier *a, int *status)
{
    web_reply r;
    dp_err err;
    assert_int_equal(web_apply_get(a, f->ro, NULL, 0, &r, &err), DP_OK);
    *status = r.status;
    return parse(&r);
}

static json_t *post(web_applier *a, const char *body, int *status)
{
    web_reply r;
    dp_err err;
    web_apply_post(a, body, strlen(body), &r, &err);
    *status = r.status;
    return parse(&r);
}

static char *confirm_body(json_t *plan)
{
    return xasprintf("{\"repo\":1,\"confirm\":\"%s\"}", json_string_value(json_object_get(plan, "hash")));
}

/* Waits (bounded) for the run to end; returns the run's JSON. */
static json_t *run_end(web_applier *a)
{
    for (int i = 0; i < 3000 && web_apply_running(a); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_false(web_apply_running(a));
    web_reply r;
    web_apply_run_get(a, &r);
    json_t *j = parse(&r), *run = json_incref(json_object_get(j, "run"));
    json_decref(j);
    return run;
}

static web_applier *writer(fx *f, const char *api_url, unsigned max_s, gh_config *gh)
{
    memset(gh, 0, sizeof *gh);
    gh->api_url = api_url;
    gh->token = SECRET;
    gh->max_tries = 1;
    gh->backoff_base_ms = 1;
    gh->stall_timeout_s = 60;
    gh->write_gap_ms = -1;
    web_apply_cfg c = {.db_path = f->path, .write = 1, .gh = gh, .dup_label = "duplicate", .max_s = max_s};
    return web_applier_new(&c);
}

/* Confirms the current plan (202): the run starts. Returns the confirm
 * body, owned. */
static char *start_run(fx *f, web_applier *a)
{
    int st;
    json_t *plan = get_plan(f, a, &st);
    char *body = confirm_body(plan);
    json_decref(plan);
    json_decref(post(a, body, &st));
    assert_int_equal(st, 202);
    assert_true(web_apply_running(a));
    return body;
}

static size_t queued(fx *f)
{
    strvec q = {0}, c = {0};
    dp_err err;
    assert_int_equal(store_queue_list(f->rw, 1, &q, &c, &err), DP_OK);
    size_t n = q.n;
    sv_free(&q);
    sv_free(&c);
    return n;
}

static void test_plan_read_only(void **state)
{
    fx *f = *state;
    web_apply_cfg c = {.db_path = f->path, .dup_label = "duplicate"};
    web_applier *a = web_applier_new(&c);
    int st;
    json_t *j = get_plan(f, a, &st);
    assert_int_equal(st, 200);
    assert_true(json_is_false(json_object_get(j, "write")));
    assert_non_null(strstr(json_string_value(json_object_get(j, "write_hint")), "doppel serve --write"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "repo"), "name")), "o/r");
    json_t *units = json_object_get(j, "units");
    assert_int_equal(json_array_size(units), 1);
    json_t *u = json_array_get(units, 0);
    /* #2 was closed (as fixed: no other reason given), #1 is open: #2 is
     * kept, #1 gets the comment and is closed into it */
    assert_string_equal(json_string_value(json_object_get(u, "dup")), "1");
    assert_string_equal(json_string_value(json_object_get(u, "canonical")), "2");
    assert_string_equal(json_string_value(json_object_get(u, "state")), "todo");
    assert_int_equal(json_integer_value(json_object_get(u, "pair_id")), 1);
    json_t *s0 = json_array_get(json_object_get(u, "steps"), 0);
    assert_string_equal(json_string_value(json_object_get(s0, "kind")), "comment");
    assert_string_equal(json_string_value(json_object_get(s0, "target")), "1");
    assert_string_equal(json_string_value(json_object_get(s0, "path")), "/repos/o/r/issues/1/comments");
    assert_non_null(strstr(json_string_value(json_object_get(s0, "text")), "Duplicate of #2"));
    json_t *s1 = json_array_get(json_object_get(u, "steps"), 1);
    assert_string_equal(json_string_value(json_object_get(s1, "kind")), "close");
    assert_string_equal(json_string_value(json_object_get(s1, "arg")), "2");
    assert_string_equal(json_string_value(json_object_get(s1, "body")), "{\"state\":\"closed\",\"state_reason\":\"duplicate\"}");
    char hash[33];
    snprintf(hash, sizeof hash, "%s", json_string_value(json_object_get(j, "hash")));
    assert_int_equal(strlen(hash), 32);
    assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "+ close #1 as a duplicate of #2"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "run"), "state")), "idle");
    /* the same store, the same hash */
    json_t *again = get_plan(f, a, &st);
    assert_string_equal(json_string_value(json_object_get(again, "hash")), hash);
    json_decref(again);
    /* writing is off: refused, whatever the body */
    char *body = confirm_body(j);
    json_t *r = post(a, body, &st);
    assert_int_equal(st, 403);
    assert_false(web_apply_running(a));
    json_decref(r);
    free(body);
    json_decref(j);
    /* no label configured: no label step, another plan, another hash */
    web_apply_cfg nolabel = {.db_path = f->path};
    web_applier *b = web_applier_new(&nolabel);
    j = get_plan(f, b, &st);
    assert_string_not_equal(json_string_value(json_object_get(j, "hash")), hash);
    json_decref(j);
    web_applier_free(b);
    web_applier_free(a);
}

static void test_stale_and_bad(void **state)
{
    fx *f = *state;
    gh_config gh;
    web_applier *a = writer(f, "http://127.0.0.1:1", 0, &gh);   /* nothing listens there */
    int st;
    json_t *plan = get_plan(f, a, &st);
    assert_true(json_is_true(json_object_get(plan, "write")));
    const char *bad[] = {"", "{}", "[]", "{\"repo\":1}", "{\"repo\":0,\"confirm\":\"00000000000000000000000000000000\"}",
                         "{\"repo\":1,\"confirm\":\"0000\"}", "{\"repo\":1,\"confirm\":\"0000000000000000000000000000000G\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_decref(post(a, bad[i], &st));
        if (st != 400) fail_msg("body [%s]: status %d", bad[i], st);
    }
    json_decref(post(a, "{\"repo\":42,\"confirm\":\"00000000000000000000000000000000\"}", &st));
    assert_int_equal(st, 404);
    /* altered: refused with the current hash */
    json_t *r = post(a, "{\"repo\":1,\"confirm\":\"00000000000000000000000000000000\"}", &st);
    assert_int_equal(st, 409);
    assert_string_equal(json_string_value(json_object_get(r, "hash")), json_string_value(json_object_get(plan, "hash")));
    json_decref(r);
    /* stale: the queue changed after the plan was shown */
    char *body = confirm_body(plan);
    dp_err err;
    assert_int_equal(store_verdict_set(f->rw, 1, "3", "1", VERDICT_RELATED, &err), DP_OK);
    assert_int_equal(store_queue_add(f->rw, 1, "3", "1", &err), DP_OK);
    r = post(a, body, &st);
    assert_int_equal(st, 409);
    assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "the plan changed"));
    assert_false(web_apply_running(a));
    json_decref(r);
    /* the queue back as it was: the old confirm is good again and runs; the
     * API refuses the connection, so it fails -- without the token in sight */
    assert_int_equal(store_queue_del(f->rw, 1, "3", "1", &err), DP_OK);
    r = post(a, body, &st);
    assert_int_equal(st, 202);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "run"), "state")), "running");
    json_decref(r);
    json_t *run = run_end(a);
    assert_string_equal(json_string_value(json_object_get(run, "state")), "failed");
    const char *e = json_string_value(json_object_get(run, "error"));
    assert_non_null(e);
    assert_null(strstr(e, SECRET));
    assert_non_null(strstr(e, "stay queued"));
    char *all = json_dumps(run, 0);
    assert_null(strstr(all, SECRET));
    free(all);
    json_decref(run);
    assert_int_equal(queued(f), 1);   /* nothing was done: still queued */
    free(body);
    json_decref(plan);
    web_applier_free(a);
}

/* A run is bounded in time: against an API that never answers, it stops at
 * max_s, and what it did not do stays queued. */
static void test_deadline(void **state)
{
    fx *f = *state;
    gh_config gh;
    web_applier *a = writer(f, f->hang_url, 1, &gh);
    char *body = start_run(f, a);
    int st;
    json_decref(post(a, body, &st));   /* one run at a time */
    assert_int_equal(st, 409);
    json_t *run = run_end(a);
    assert_string_equal(json_string_value(json_object_get(run, "state")), "stopped");
    assert_non_null(strstr(json_string_value(json_object_get(run, "error")), "stopped after 1 s"));
    json_decref(run);
    assert_int_equal(queued(f), 1);
    free(body);
    web_applier_free(a);
}

/* Freeing the applier (the server stopping) stops a run in flight. */
static void test_free_while_running(void **state)
{
    fx *f = *state;
    gh_config gh;
    web_applier *a = writer(f, f->hang_url, 0, &gh);
    free(start_run(f, a));
    web_applier_free(a);   /* returns once the run has stopped (else this test hangs) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plan_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_and_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_while_running, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
