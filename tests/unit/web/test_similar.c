/* test_similar.c -- GET /api/similar without a socket (similar.h): the
 * answer's shape, the request checks, a read-only store (it never writes),
 * the kept corpus (reused, reloaded when the store changes, shared by
 * threads) and the per-client rate limit. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "testutil.h"
#include "../../../src/analyze/analyze.h"
#include "../../../src/web/similar.h"
#include "webfix.h"

typedef struct fx {
    char *path;
    store *ro;            /* what the server's GET handlers have */
    web_similar *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->path = webfix_make();
    dp_err err;
    if (store_open_readonly(f->path, &f->ro, &err) != DP_OK) return -1;
    f->s = web_similar_new(0, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    web_similar_free(f->s);
    store_close(f->ro);
    webfix_remove(f->path);
    free(f);
    return 0;
}

/* GET /api/similar with params; returns the parsed body (caller decrefs). */
static json_t *ask(fx *f, store *st, const web_param *p, size_t n, int *status)
{
    web_reply r;
    dp_err err;
    assert_int_equal(web_similar_handle(f->s, st ? st : f->ro, p, n, &r, &err), DP_OK);
    *status = r.status;
    json_error_t jerr;
    json_t *j = json_loadb(r.body, r.len, 0, &jerr);
    if (!j) fail_msg("not JSON: %s", r.body);
    web_reply_free(&r);
    return j;
}

static void test_shape(void **state)
{
    fx *f = *state;
    int st;
    web_param p[] = {{"title", "First issue"}, {"body", "Body with #2"}, {"k", "2"}};
    json_t *j = ask(f, NULL, p, 3, &st);
    assert_int_equal(st, 200);
    json_t *q = json_object_get(j, "query");
    assert_string_equal(json_string_value(json_object_get(q, "key")), "this issue");
    assert_string_equal(json_string_value(json_object_get(q, "title")), "First issue");
    json_t *c = json_object_get(j, "candidates");
    assert_true(json_array_size(c) >= 1 && json_array_size(c) <= 2);
    json_t *c0 = json_array_get(c, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "candidate")), "1");   /* the same title */
    assert_int_equal(json_integer_value(json_object_get(c0, "rank")), 1);
    assert_true(json_is_real(json_object_get(c0, "probability")));
    assert_non_null(json_string_value(json_object_get(c0, "relation")));
    assert_non_null(json_string_value(json_object_get(c0, "confidence")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(c0, "candidate_item"), "title")),
                        "First <b>issue</b>");
    assert_string_equal(json_string_value(json_object_get(j, "model")), "built-in default");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "repo"), "name")), "o/r");
    json_decref(j);
    /* the repository by name or id, k at its bounds */
    web_param by[] = {{"title", "Second issue"}, {"repo", "o/r"}, {"k", "1"}};
    j = ask(f, NULL, by, 3, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "candidates")), 1);
    json_decref(j);
    by[1].value = "1";
    by[2].value = "20";
    j = ask(f, NULL, by, 3, &st);
    assert_int_equal(st, 200);
    json_decref(j);
}

static void test_checks(void **state)
{
    fx *f = *state;
    char *long_title = calloc(1, WEB_SIMILAR_MAX_TITLE + 2), *long_body = calloc(1, WEB_SIMILAR_MAX_BODY + 2);
    memset(long_title, 'a', WEB_SIMILAR_MAX_TITLE + 1);
    memset(long_body, 'b', WEB_SIMILAR_MAX_BODY + 1);
    struct {
        web_param p[2];
        size_t n;
        int status;
    } cases[] = {
        {{{"body", "no title"}}, 1, 400},
        {{{"title", "   "}}, 1, 400},
        {{{"title", long_title}}, 1, 413},
        {{{"title", "ok"}, {"body", long_body}}, 2, 413},
        {{{"title", "bad \xff utf-8"}}, 1, 400},
        {{{"title", "ok"}, {"body", "bad \xc3"}}, 2, 400},
        {{{"title", "ok"}, {"k", "0"}}, 2, 400},
        {{{"title", "ok"}, {"k", "21"}}, 2, 400},
        {{{"title", "ok"}, {"k", "2x"}}, 2, 400},
        {{{"title", "ok"}, {"k", "-1"}}, 2, 400},
        {{{"title", "ok"}, {"repo", "nope/nope"}}, 2, 404},
        {{{"title", "ok"}, {"repo", "99"}}, 2, 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st;
        json_t *j = ask(f, NULL, cases[i].p, cases[i].n, &st);
        if (st != cases[i].status) fail_msg("case %zu: status %d, not %d", i, st, cases[i].status);
        assert_non_null(json_string_value(json_object_get(j, "error")));
        json_decref(j);
    }
    /* at the limits exactly: accepted */
    long_title[WEB_SIMILAR_MAX_TITLE] = 0;
    long_body[WEB_SIMILAR_MAX_BODY] = 0;
    web_param edge[] = {{"title", long_title}, {"body", long_body}};
    int st;
    json_decref(ask(f, NULL, edge, 2, &st));
    assert_int_equal(st, 200);
    free(long_title);
    free(long_body);
    /* two repositories: which one must be said, and the error names them */
    store *rw;
    dp_err err;
    assert_int_equal(store_open(f->path, &rw, &err), DP_OK);
    int64_t other;
    assert_int_equal(store_repo_get(rw, "o/other", 1, "github", NULL, &other, &err), DP_OK);
    webfix_item(rw, other, "5", "Elsewhere", "x", "open");
    int64_t empty;
    assert_int_equal(store_repo_get(rw, "o/empty", 1, "github", NULL, &empty, &err), DP_OK);
    store_close(rw);
    web_param t = {"title", "ok"};
    json_t *j = ask(f, NULL, &t, 1, &st);
    assert_int_equal(st, 400);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "o/other"));
    assert_null(strstr(json_string_value(json_object_get(j, "error")), f->path));   /* no server path */
    json_decref(j);
    /* a repository without items: no candidates, no error */
    web_param e[] = {{"title", "ok"}, {"repo", "o/empty"}};
    j = ask(f, NULL, e, 2, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "candidates")), 0);
    json_decref(j);
}

/* Loaded once and reused; loaded again once the store changed (asked at
 * most every WEB_SIMILAR_RECHECK_MS); the new item is then found. */
static void test_reload(void **state)
{
    fx *f = *state;
    int st;
    web_param p[] = {{"title", "Quantum flux capacitor overheats"}, {"k", "3"}};
    json_t *j = ask(f, NULL, p, 2, &st);
    assert_int_equal(st, 200);
    json_t *c0 = json_array_get(json_object_get(j, "candidates"), 0);
    assert_true(!c0 || strcmp(json_string_value(json_object_get(c0, "candidate")), "9"));
    json_decref(j);
    json_decref(ask(f, NULL, p, 2, &st));
    assert_int_equal(web_similar_loads(f->s), 1);
    store *rw;
    dp_err err;
    assert_int_equal(store_open(f->path, &rw, &err), DP_OK);
    webfix_item(rw, 1, "9", "Quantum flux capacitor overheats at night", "The flux capacitor.", "open");
    store_close(rw);
    struct timespec ts = {WEB_SIMILAR_RECHECK_MS / 1000, (WEB_SIMILAR_RECHECK_MS % 1000) * 1000000L + 100000000L};
    nanosleep(&ts, NULL);
    j = ask(f, NULL, p, 2, &st);
    assert_int_equal(web_similar_loads(f->s), 2);
    c0 = json_array_get(json_object_get(j, "candidates"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "candidate")), "9");
    json_decref(j);
    nanosleep(&ts, NULL);   /* nothing changed: checked, not loaded */
    json_decref(ask(f, NULL, p, 2, &st));
    assert_int_equal(web_similar_loads(f->s), 2);
}

/* Candidates of an answer, each "key rank relation probability". */
static char *cands_str(json_t *j)
{
    sbuf b;
    sb_init(&b);
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(j, "candidates"), i, c)
        sb_printf(&b, "%s %lld %s %.9f\n", json_string_value(json_object_get(c, "candidate")),
                  (long long)json_integer_value(json_object_get(c, "rank")),
                  json_string_value(json_object_get(c, "relation")),
                  json_real_value(json_object_get(c, "probability")));
    return b.s ? b.s : xstrdup("");
}

/* With the persisted index written (analyze does), the kept corpus is
 * sparse: it reads only the items a request needs, through its own
 * handle. Its answers are those of a corpus with every item loaded (no
 * file); after new items it grows the file by them and finds them. */
static void test_sparse(void **state)
{
    fx *f = *state;
    store *rw;
    dp_err err;
    assert_int_equal(store_open(f->path, &rw, &err), DP_OK);
    webfix_item(rw, 1, "4", "Quantum flux capacitor overheats", "The flux capacitor gets hot.", "open");
    /* one new item moves the averages (every field's: code too) well under
     * the record's bound: the file grows */
    for (int i = 0; i < 200; i++) {
        static const char *w[] = {"table", "chart", "menu", "sidebar", "footer", "modal", "tooltip", "banner",
                                  "scrolling", "resizing", "loading", "printing", "zooming"};
        char key[16], title[64], body[160];
        snprintf(key, sizeof key, "%d", 1000 + i);
        snprintf(title, sizeof title, "Widget %s renders slowly on %s", w[i % 8], w[8 + i % 5]);
        snprintf(body, sizeof body, "The %s stalls while %s the %s.\n\n```\nError: %s failed\n```\n", w[(i / 3) % 8],
                 w[8 + (i / 2) % 5], w[(i / 5) % 8], w[i % 13]);   /* no line in every body: none is a template */
        webfix_item(rw, 1, key, title, body, i % 2 ? "open" : "closed");
    }
    analyze_corpus co;   /* writes the file, stamped with the store's id */
    assert_int_equal(analyze_corpus_load(rw, 1, 1, &co, &err), DP_OK);
    assert_int_equal(co.index_saved, 1);
    analyze_corpus_free(&co);
    web_param p[] = {{"title", "Quantum flux capacitor overheats at night"}, {"body", "First issue"}, {"k", "3"}};
    int st;
    json_t *j = ask(f, NULL, p, 3, &st);
    assert_int_equal(st, 200);
    assert_int_equal(web_similar_sparse(f->s, 1), 1);
    char *sparse = cands_str(j);
    json_decref(j);
    assert_non_null(strstr(sparse, "4 1 "));
    /* the same store without the file: every item loaded, the same answer */
    char *ixf = xasprintf("%s-index-1", f->path), *moved = xasprintf("%s.moved", ixf);
    assert_int_equal(rename(ixf, moved), 0);
    web_similar *full = web_similar_new(0, 1);
    web_similar *keep = f->s;
    f->s = full;
    j = ask(f, NULL, p, 3, &st);
    assert_int_equal(web_similar_sparse(full, 1), 0);
    char *whole = cands_str(j);
    json_decref(j);
    assert_string_equal(sparse, whole);
    f->s = keep;
    web_similar_free(full);
    /* the sparse corpus fills in the background; filled, the same answer */
    for (int i = 0; i < 400 && !web_similar_filled(f->s, 1); i++) {
        struct timespec pause = {0, 50000000L};
        nanosleep(&pause, NULL);
    }
    assert_int_equal(web_similar_filled(f->s, 1), 1);
    j = ask(f, NULL, p, 3, &st);
    char *filled = cands_str(j);
    json_decref(j);
    assert_string_equal(filled, whole);
    free(filled);
    assert_int_equal(web_similar_loads(f->s), 1);
    assert_int_equal(rename(moved, ixf), 0);
    /* a new item (the same date, a higher number: after the indexed ones):
     * the file is behind by it */
    webfix_item(rw, 1, "2000", "Quantum flux capacitor overheats at night again",
                "The capacitor stalls while loading the car.\n\n```\nError: flux failed\n```\n", "open");
    store_close(rw);
    struct timespec ts = {WEB_SIMILAR_RECHECK_MS / 1000, (WEB_SIMILAR_RECHECK_MS % 1000) * 1000000L + 100000000L};
    nanosleep(&ts, NULL);
    j = ask(f, NULL, p, 3, &st);
    assert_int_equal(web_similar_loads(f->s), 2);
    assert_int_equal(web_similar_sparse(f->s, 1), 1);   /* grown, not loaded whole */
    json_t *c0 = json_array_get(json_object_get(j, "candidates"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "candidate")), "2000");
    json_decref(j);
    unlink(ixf);
    free(ixf);
    free(moved);
    free(sparse);
    free(whole);
}

typedef struct worker {
    fx *f;
    int ok;
} worker;

static void *hammer(void *ud)
{
    worker *w = ud;
    store *st;
    dp_err err;
    if (store_open_readonly(w->f->path, &st, &err) != DP_OK) return NULL;
    web_param p[] = {{"title", "Second issue"}, {"body", "a table"}};
    for (int i = 0; i < 25; i++) {
        web_reply r;
        if (web_similar_handle(w->f->s, st, p, 2, &r, &err) == DP_OK && r.status == 200) w->ok++;
        web_reply_free(&r);
    }
    store_close(st);
    return NULL;
}

/* Threads share one corpus (each with its own store handle, as the
 * server's workers): every answer is right, one load in all. */
static void test_threads(void **state)
{
    fx *f = *state;
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){f, 0};
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 25);
    }
    assert_int_equal(web_similar_loads(f->s), 1);
}

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in s = {.sin_family = AF_INET};
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static struct sockaddr_in6 v6(const char *a)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return s;
}

#define SA(x) ((const struct sockaddr *)&(x))

static void test_rate_limit(void **state)
{
    fx *f = *state;
    struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2"), lo1 = v4("127.0.0.1"), lo2 = v4("127.0.0.2");
    struct sockaddr_in6 n1 = v6("2001:db8::1"), n2 = v6("2001:db8::ffff"), other = v6("2001:db8:1::1"),
                        lo6 = v6("::1");
    unsigned wait = 0;
    int64_t t0 = 1000000;
    for (int i = 0; i < WEB_SIMILAR_BURST; i++) assert_true(web_similar_admit(f->s, SA(a), t0, &wait));
    assert_false(web_similar_admit(f->s, SA(a), t0, &wait));
    assert_int_equal(wait, 1);   /* 60 a minute: one a second */
    assert_true(web_similar_admit(f->s, SA(b), t0, &wait));   /* another client is not held back */
    assert_false(web_similar_admit(f->s, SA(a), t0 + 500, &wait));
    assert_true(web_similar_admit(f->s, SA(a), t0 + 1000, &wait));   /* refilled */
    assert_false(web_similar_admit(f->s, SA(a), t0 + 1000, &wait));
    /* an IPv6 client is its /64; loopback addresses are one client */
    for (int i = 0; i < WEB_SIMILAR_BURST; i++) assert_true(web_similar_admit(f->s, SA(n1), t0, &wait));
    assert_false(web_similar_admit(f->s, SA(n2), t0, &wait));
    assert_true(web_similar_admit(f->s, SA(other), t0, &wait));
    for (int i = 0; i < WEB_SIMILAR_BURST / 2; i++) {
        assert_true(web_similar_admit(f->s, SA(lo1), t0, &wait));
        assert_true(web_similar_admit(f->s, SA(lo6), t0, &wait));
    }
    assert_false(web_similar_admit(f->s, SA(lo2), t0, &wait));
    /* the table is bounded: many new clients later, a limited one is still
     * remembered (full buckets make room first) and a new one gets in */
    for (int i = 0; i < WEB_SIMILAR_CLIENTS + 100; i++) {
        struct sockaddr_in c = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i)};
        assert_true(web_similar_admit(f->s, SA(c), t0 + 1000, &wait));
    }
    assert_false(web_similar_admit(f->s, SA(a), t0 + 1000, &wait));
    /* a slower rate waits longer */
    web_similar *slow = web_similar_new(6, 1);
    for (int i = 0; i < WEB_SIMILAR_BURST; i++) assert_true(web_similar_admit(slow, SA(a), t0, &wait));
    assert_false(web_similar_admit(slow, SA(a), t0, &wait));
    assert_int_equal(wait, 10);
    web_similar_free(slow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
