/* test_api.c -- web_api_handle over a real store, without a socket. */
#include <jansson.h>
#include <stdlib.h>

#include "testutil.h"
#include "../../../src/web/web.h"
#include "../../../src/explain/report.h"
#include "webfix.h"

typedef struct fx {
    char *path;
    store *st;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->path = webfix_make();
    dp_err err;
    if (store_open(f->path, &f->st, &err) != DP_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    webfix_remove(f->path);
    free(f);
    return 0;
}

/* Calls the API; returns the parsed body (caller decrefs) and the status. */
static json_t *call(fx *f, const char *method, const char *path, const web_param *p, size_t np,
                    const char *body, int *status)
{
    web_reply r;
    dp_err err;
    int rc = web_api_handle(f->st, method, path, p, np, body, body ? strlen(body) : 0, &r, &err);
    assert_int_equal(rc, DP_OK);
    *status = r.status;
    json_error_t jerr;
    json_t *j = json_loadb(r.body, r.len, 0, &jerr);
    if (!j) fail_msg("not JSON: %s", r.body);
    web_reply_free(&r);
    return j;
}

/* POSTs each of the n bodies to path: every one must be a 400. */
static void all_refused(fx *f, const char *path, const char *const *bodies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int st;
        json_decref(call(f, "POST", path, NULL, 0, bodies[i], &st));
        if (st != 400) fail_msg("%s, body [%s]: status %d", path, bodies[i], st);
    }
}

static void test_list(void **state)
{
    fx *f = *state;
    int st;
    json_t *j = call(f, "GET", "/api/pairs", NULL, 0, NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    json_t *p0 = json_array_get(json_object_get(j, "pairs"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "query")), "1");
    json_t *q = json_object_get(p0, "query_item");
    assert_string_equal(json_string_value(json_object_get(q, "display")), "#1");
    assert_string_equal(json_string_value(json_object_get(q, "title")), "First <b>issue</b>");
    json_t *p1 = json_array_get(json_object_get(j, "pairs"), 1);
    /* invalid UTF-8 is repaired, not dropped */
    assert_string_equal(json_string_value(json_object_get(json_object_get(p1, "query_item"), "title")),
                        "Bad \xef\xbf\xbd title");
    json_decref(j);
}

static void test_filters(void **state)
{
    fx *f = *state;
    int st;
    web_param rel = {"relation", "related"};
    json_t *j = call(f, "GET", "/api/pairs", &rel, 1, NULL, &st);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    web_param bad[] = {{"relation", "nope"}, {"limit", "0"}, {"limit", "9999"}, {"offset", "x"},
                       {"reviewed", "yes"}, {"sort", "random"}, {"repo", "-3"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = call(f, "GET", "/api/pairs", &bad[i], 1, NULL, &st);
        assert_int_equal(st, 400);
        assert_non_null(json_object_get(j, "error"));
        json_decref(j);
    }
    web_param empty = {"relation", ""};   /* empty means "any" */
    j = call(f, "GET", "/api/pairs", &empty, 1, NULL, &st);
    assert_int_equal(st, 200);
    json_decref(j);
}

/* Keyset paging: a full page carries the cursor of the next ("next"),
 * which the next request passes as after=; the last page has none. A
 * cursor that is not one is a 400. */
static void test_list_cursor(void **state)
{
    fx *f = *state;
    int st;
    web_param p[2] = {{"limit", "1"}, {"after", NULL}};
    json_t *a = call(f, "GET", "/api/pairs", p, 1, NULL, &st);
    assert_int_equal(st, 200);
    const char *next = json_string_value(json_object_get(a, "next"));
    assert_non_null(next);
    p[1].value = next;
    json_t *b = call(f, "GET", "/api/pairs", p, 2, NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_integer_value(json_object_get(b, "total")), 2);
    json_t *all = call(f, "GET", "/api/pairs", NULL, 0, NULL, &st);
    json_t *b0 = json_array_get(json_object_get(b, "pairs"), 0);
    json_t *all1 = json_array_get(json_object_get(all, "pairs"), 1);
    assert_int_equal(json_integer_value(json_object_get(b0, "id")), json_integer_value(json_object_get(all1, "id")));
    json_decref(all);
    p[1].value = json_string_value(json_object_get(b, "next"));
    json_t *c = call(f, "GET", "/api/pairs", p, 2, NULL, &st);   /* past the end */
    assert_int_equal(json_array_size(json_object_get(c, "pairs")), 0);
    assert_true(json_is_null(json_object_get(c, "next")));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    const char *bad[] = {"x", "v1", "p1_1", "v1_1;DROP", "v1_0"};   /* ("" means none, as for filters) */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p[1].value = bad[i];
        json_t *j = call(f, "GET", "/api/pairs", p, 2, NULL, &st);
        if (st != 400) fail_msg("after=%s: status %d", bad[i], st);
        json_decref(j);
    }
}

static void test_pair(void **state)
{
    fx *f = *state;
    int st;
    json_t *j = call(f, "GET", "/api/pairs/1", NULL, 0, NULL, &st);
    assert_int_equal(st, 200);
    json_t *q = json_object_get(j, "query_item");
    const char *html = json_string_value(json_object_get(q, "body_html"));
    assert_non_null(strstr(html, "<a href=\"https://github.com/o/r/issues/2\">#2</a>"));
    assert_null(strstr(html, "<script"));
    const char *lab = json_string_value(json_array_get(json_object_get(q, "labels"), 0));
    assert_string_equal(json_string_value(json_object_get(json_object_get(q, "label_colors"), lab)), "d73a4a");
    /* one shape: the API's pair is `doppel pairs --json`'s (explain_pair_json),
     * plus whether it waits in the apply queue */
    pair sp;
    dp_err err;
    assert_int_equal(store_pair_get(f->st, 1, &sp, &err), DP_OK);
    json_t *cli = explain_pair_json(&sp, NULL, NULL, 1);
    json_t *api = json_deep_copy(json_object_get(j, "pair"));
    assert_int_equal(json_object_del(api, "queued"), 0);
    assert_true(json_equal(cli, api));
    assert_true(json_is_array(json_object_get(api, "reasoning")));
    json_decref(api);
    json_decref(cli);
    pair_free(&sp);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "pair"), "suggested_comment")),
                        "Duplicate of #2?");
    assert_true(json_is_null(json_object_get(j, "prev")));
    assert_int_equal(json_integer_value(json_object_get(j, "next")), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "repo"), "name")), "o/r");
    json_decref(j);
}

static void test_not_found(void **state)
{
    fx *f = *state;
    const char *paths[] = {"/api/pairs/999", "/api/pairs/0", "/api/pairs/x", "/api/pairs/007",
                           "/api/items/1/77", "/api/items/9/1", "/api/zzz", "/api/pairs/1/zzz",
                           "/api/pairs/123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int st;
        json_t *j = call(f, "GET", paths[i], NULL, 0, NULL, &st);
        if (st != 404) fail_msg("%s: status %d", paths[i], st);
        json_decref(j);
    }
}

static void test_verdicts(void **state)
{
    fx *f = *state;
    int st;
    json_t *j = call(f, "POST", "/api/pairs/2/verdict", NULL, 0, "{\"verdict\":\"not_related\"}", &st);
    assert_int_equal(st, 200);
    json_decref(j);
    web_param rv = {"reviewed", "1"};
    j = call(f, "GET", "/api/pairs", &rv, 1, NULL, &st);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    const char *bad[] = {"", "{", "[]", "{\"verdict\":\"x\"}", "{\"verdict\":true}", "{\"v\":null}"};
    all_refused(f, "/api/pairs/2/verdict", bad, sizeof bad / sizeof bad[0]);
    /* the error names the verdicts the API takes (common/pair.c's names) */
    j = call(f, "POST", "/api/pairs/2/verdict", NULL, 0, "{\"verdict\":\"x\"}", &st);
    assert_int_equal(st, 400);
    assert_string_equal(json_string_value(json_object_get(j, "error")),
                        "expected {\"verdict\": \"duplicate\"|\"related\"|\"not_related\"|null}");
    json_decref(j);
    j = call(f, "POST", "/api/pairs/2/verdict", NULL, 0, "{\"verdict\":null}", &st);
    assert_int_equal(st, 200);
    json_decref(j);
    j = call(f, "GET", "/api/pairs/2", NULL, 0, NULL, &st);
    assert_true(json_is_null(json_object_get(json_object_get(j, "pair"), "verdict")));
    json_decref(j);
    j = call(f, "POST", "/api/pairs/77/verdict", NULL, 0, "{\"verdict\":null}", &st);
    assert_int_equal(st, 404);
    json_decref(j);
}

static void test_methods(void **state)
{
    fx *f = *state;
    web_reply r;
    dp_err err;
    assert_int_equal(web_api_handle(f->st, "POST", "/api/pairs/1", NULL, 0, "", 0, &r, &err), DP_OK);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "GET, HEAD");
    web_reply_free(&r);
    assert_int_equal(web_api_handle(f->st, "GET", "/api/pairs/1/verdict", NULL, 0, NULL, 0, &r, &err), DP_OK);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "POST");
    web_reply_free(&r);
}

static void test_item_and_meta(void **state)
{
    fx *f = *state;
    int st;
    json_t *j = call(f, "GET", "/api/items/1/2", NULL, 0, NULL, &st);
    assert_int_equal(st, 200);
    json_t *it = json_object_get(j, "item");
    assert_non_null(strstr(json_string_value(json_object_get(it, "body_html")), "<table>"));
    assert_string_equal(json_string_value(json_object_get(it, "url")), "https://github.com/o/r/issues/2");
    json_decref(j);
    j = call(f, "GET", "/api/meta", NULL, 0, NULL, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(j, "repos")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "labels"), 0), "name")), "bug");
    json_decref(j);
}

/* The body_html of the query item of pair 1, owned. */
static char *query_html(fx *f)
{
    int st;
    json_t *j = call(f, "GET", "/api/pairs/1", NULL, 0, NULL, &st);
    assert_int_equal(st, 200);
    json_t *q = json_object_get(j, "query_item");
    sbuf sb;
    sb_init(&sb);
    sb_adds(&sb, json_string_value(json_object_get(q, "body_html")));
    json_t *cl = json_object_get(q, "comment_list");
    for (size_t i = 0; i < json_array_size(cl); i++)
        sb_adds(&sb, json_string_value(json_object_get(json_array_get(cl, i), "body_html")));
    const char *lab = json_string_value(json_array_get(json_object_get(q, "labels"), 0));
    sb_printf(&sb, "[%s]", json_string_value(json_object_get(json_object_get(q, "label_colors"), lab)));
    json_decref(j);
    return sb_take(&sb);
}

/* Rendered bodies come from the cache the second time, and nothing the
 * store changes is served stale: not even a comment edited without any
 * timestamp moving, nor a label's new colour. */
static void test_render_cache(void **state)
{
    fx *f = *state;
    web_rcache_info a, b;
    char *first = query_html(f);
    web_rcache_stats(web_api_rcache(), &a);
    char *again = query_html(f);
    web_rcache_stats(web_api_rcache(), &b);
    assert_string_equal(first, again);
    assert_int_equal(b.misses, a.misses);
    assert_true(b.hits > a.hits);
    dp_err err;
    item it;
    item_init(&it);
    assert_int_equal(store_item_get(f->st, 1, "1", &it, &err), DP_OK);
    free(it.body);
    it.body = xstrdup("Edited *body*");
    it.updated_at += 60;
    assert_int_equal(store_item_upsert(f->st, 1, &it, NULL, &err), DP_OK);
    item_free(&it);
    char *edited = query_html(f);
    assert_non_null(strstr(edited, "Edited <em>body</em>"));
    /* a comment, then the same comment edited with no timestamp moving */
    comment cm = {.id = 77, .item_key = "1", .author = "bob", .body = "A **new** comment",
                  .created_at = 1700000200, .updated_at = 1700000200};
    assert_int_equal(store_comment_upsert(f->st, 1, &cm, &err), DP_OK);
    char *commented = query_html(f);
    assert_non_null(strstr(commented, "A <strong>new</strong> comment"));
    cm.body = "A *changed* comment";
    assert_int_equal(store_comment_upsert(f->st, 1, &cm, &err), DP_OK);
    char *changed = query_html(f);
    assert_non_null(strstr(changed, "A <em>changed</em> comment"));
    assert_null(strstr(changed, "<strong>new</strong>"));
    assert_int_equal(store_label_color_set(f->st, 1, "bug", "00ff00", &err), DP_OK);
    char *recoloured = query_html(f);
    assert_non_null(strstr(recoloured, "[00ff00]"));
    free(changed);
    free(first);
    free(again);
    free(edited);
    free(commented);
    free(recoloured);
}

static int pair_queued(fx *f, const char *path)
{
    int st;
    json_t *j = call(f, "GET", path, NULL, 0, NULL, &st);
    assert_int_equal(st, 200);
    json_t *q = json_object_get(json_object_get(j, "pair"), "queued");
    assert_true(json_is_boolean(q));
    int v = json_is_true(q);
    json_decref(j);
    return v;
}

static size_t meta_queued(fx *f)
{
    int st;
    json_t *j = call(f, "GET", "/api/meta", NULL, 0, NULL, &st);
    size_t n = (size_t)json_integer_value(json_object_get(json_array_get(json_object_get(j, "repos"), 0), "queued"));
    json_decref(j);
    return n;
}

/* The apply queue: only a pair with a verdict, of a GitHub repository; out
 * again with DELETE or when its verdict is removed. */
static void test_queue(void **state)
{
    fx *f = *state;
    int st;
    assert_false(pair_queued(f, "/api/pairs/1"));
    json_t *j = call(f, "POST", "/api/pairs/1/queue", NULL, 0, "{}", &st);
    assert_int_equal(st, 409);   /* no verdict yet */
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "no verdict"));
    json_decref(j);
    json_decref(call(f, "POST", "/api/pairs/1/verdict", NULL, 0, "{\"verdict\":\"duplicate\"}", &st));
    j = call(f, "POST", "/api/pairs/1/queue", NULL, 0, NULL, &st);   /* no body is fine */
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(j, "queued")));
    json_decref(j);
    json_decref(call(f, "POST", "/api/pairs/1/queue", NULL, 0, "{}", &st));   /* twice: still once */
    assert_int_equal(st, 200);
    assert_true(pair_queued(f, "/api/pairs/1"));
    assert_false(pair_queued(f, "/api/pairs/2"));
    assert_int_equal(meta_queued(f), 1);
    j = call(f, "DELETE", "/api/pairs/1/queue", NULL, 0, "{}", &st);
    assert_int_equal(st, 200);
    assert_true(json_is_false(json_object_get(j, "queued")));
    json_decref(j);
    assert_false(pair_queued(f, "/api/pairs/1"));
    assert_int_equal(meta_queued(f), 0);
    /* a verdict taken back takes the pair out of the queue */
    json_decref(call(f, "POST", "/api/pairs/1/queue", NULL, 0, "{}", &st));
    assert_true(pair_queued(f, "/api/pairs/1"));
    json_decref(call(f, "POST", "/api/pairs/1/verdict", NULL, 0, "{\"verdict\":null}", &st));
    assert_false(pair_queued(f, "/api/pairs/1"));
    /* bad requests */
    const char *bad[] = {"[]", "{", "\"x\""};
    all_refused(f, "/api/pairs/1/queue", bad, sizeof bad / sizeof bad[0]);
    j = call(f, "POST", "/api/pairs/99/queue", NULL, 0, "{}", &st);
    assert_int_equal(st, 404);
    json_decref(j);
    web_reply r;
    dp_err err;
    assert_int_equal(web_api_handle(f->st, "GET", "/api/pairs/1/queue", NULL, 0, NULL, 0, &r, &err), DP_OK);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "POST, DELETE");
    web_reply_free(&r);
    /* a Jira pair cannot be applied */
    int64_t jira;
    assert_int_equal(store_repo_get(f->st, "PROJ", 1, "jira", "https://jira.example", &jira, &err), DP_OK);
    webfix_item(f->st, jira, "10", "Jira one", "a", "open");
    webfix_item(f->st, jira, "11", "Jira two", "b", "open");
    pair jp;
    webfix_pair(&jp, "11", "10", 1.0, "duplicate");
    assert_int_equal(store_pairs_replace(f->st, jira, NULL, 0, &jp, 1, &err), DP_OK);
    pair_free(&jp);
    assert_int_equal(store_verdict_set(f->st, jira, "11", "10", VERDICT_DUPLICATE, &err), DP_OK);
    pair found;
    assert_int_equal(store_pair_find(f->st, jira, "11", "10", &found, &err), DP_OK);
    char *path = xasprintf("/api/pairs/%lld/queue", (long long)found.id);
    pair_free(&found);
    j = call(f, "POST", path, NULL, 0, "{}", &st);
    assert_int_equal(st, 409);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "GitHub"));
    json_decref(j);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_and_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
