/* test_convert.c -- the converters: GitHub REST issue and pull request, gh
 * CLI objects, REST comments, Jira issues with links in both directions, and
 * their type errors; plus format detection. Fixtures: tests/fixtures/ingest. */
#include "testutil.h"

#include <stdlib.h>

#include "../../../src/ingest/ingest.h"

/* Record n (0-based) of a fixture file, parsed. */
static json_t *fixture_record(const char *name, int n)
{
    char path[256];
    snprintf(path, sizeof path, FIXTURES "/ingest/%s", name);
    ingest_split *sp;
    ingest_record r;
    dp_err err;
    json_t *obj = NULL;
    if (ingest_split_open(path, &sp, &err) != DP_OK) fail_msg("%s", err.msg);
    for (int i = 0; i <= n; i++)
        if (ingest_split_next(sp, &r, &err) != DP_OK) fail_msg("record %d: %s", i, err.msg);
    obj = json_loadb(r.data, r.len, 0, NULL);
    ingest_split_close(sp);
    assert_non_null(obj);
    return obj;
}

static void test_github_issue(void **state)
{
    (void)state;
    json_t *o = fixture_record("github_issues.json", 0);
    item it;
    char *repo;
    dp_err err;
    assert_int_equal(ingest_github_item(o, &it, &repo, &err), DP_OK);
    assert_string_equal(it.key, "1");
    assert_int_equal(it.number, 1);
    assert_int_equal(it.kind, ITEM_ISSUE);
    assert_string_equal(it.title, "Crash when opening a file");
    assert_string_equal(it.state, "closed");
    assert_string_equal(it.state_reason, "completed");
    assert_string_equal(it.author, "alice");
    assert_int_equal(it.created_at, 1672567200);   /* 2023-01-01T10:00:00Z */
    assert_int_equal(it.closed_at, 1672912800);
    assert_int_equal(it.labels.n, 1);
    assert_string_equal(it.labels.v[0], "bug");
    assert_int_equal(it.ncomments, 2);
    assert_int_equal(it.reactions, 3);
    assert_string_equal(it.url, "https://github.com/acme/widgets/issues/1");
    assert_string_equal(repo, "acme/widgets");
    strvec names = {0}, colors = {0};
    ingest_github_label_colors(o, &names, &colors);
    assert_int_equal(names.n, 1);
    assert_string_equal(colors.v[0], "d73a4a");
    sv_free(&names);
    sv_free(&colors);
    item_free(&it);
    free(repo);
    json_decref(o);

    /* null user, body and timestamps */
    o = fixture_record("github_issues.json", 3);
    assert_int_equal(ingest_github_item(o, &it, &repo, &err), DP_OK);
    assert_null(it.author);
    assert_string_equal(it.body, "");
    assert_int_equal(it.closed_at, 0);
    assert_string_equal(it.state, "open");
    item_free(&it);
    free(repo);
    json_decref(o);
}

static void test_github_pr(void **state)
{
    (void)state;
    json_t *o = fixture_record("github_issues.json", 2);
    item it;
    char *repo;
    dp_err err;
    assert_int_equal(ingest_github_item(o, &it, &repo, &err), DP_OK);
    assert_int_equal(it.kind, ITEM_PR);
    assert_string_equal(it.state_reason, "merged");
    item_free(&it);
    free(repo);
    json_decref(o);
    /* the second concatenated page; an open PR is not "merged" */
    o = fixture_record("github_issues.json", 5);
    assert_int_equal(ingest_github_item(o, &it, &repo, &err), DP_OK);
    assert_string_equal(it.key, "6");
    assert_int_equal(it.kind, ITEM_PR);
    assert_null(it.state_reason);
    item_free(&it);
    free(repo);
    json_decref(o);
}

static void test_gh_cli(void **state)
{
    (void)state;
    json_t *o = fixture_record("gh_issues.json", 1);
    item it;
    char *repo;
    dp_err err;
    comment_vec cv = {0};
    assert_int_equal(ingest_gh_item(o, &it, &cv, &repo, &err), DP_OK);
    assert_string_equal(it.key, "11");
    assert_int_equal(it.kind, ITEM_ISSUE);
    assert_string_equal(it.state, "closed");
    assert_string_equal(it.state_reason, "duplicate");
    assert_string_equal(it.author, "grace");
    assert_int_equal(it.closed_at, 1707091200);    /* 2024-02-05 */
    assert_string_equal(repo, "acme/gadgets");
    item_free(&it);
    free(repo);
    json_decref(o);

    o = fixture_record("gh_prs.json", 0);
    assert_int_equal(ingest_gh_item(o, &it, &cv, &repo, &err), DP_OK);
    assert_int_equal(it.kind, ITEM_PR);
    assert_string_equal(it.state, "closed");
    assert_string_equal(it.state_reason, "merged");
    item_free(&it);
    free(repo);
    json_decref(o);

    /* gh's comments array becomes comments with REST ids from the url */
    o = json_loads("{\"number\":3,\"title\":\"t\",\"state\":\"OPEN\",\"createdAt\":\"2024-01-01T00:00:00Z\","
                   "\"url\":\"https://github.com/a/b/issues/3\",\"comments\":[{\"author\":{\"login\":\"x\"},"
                   "\"body\":\"hi\",\"createdAt\":\"2024-01-02T00:00:00Z\","
                   "\"url\":\"https://github.com/a/b/issues/3#issuecomment-77\"}]}",
                   0, NULL);
    assert_int_equal(ingest_gh_item(o, &it, &cv, &repo, &err), DP_OK);
    assert_int_equal(cv.n, 1);
    assert_int_equal(cv.v[0].id, 77);
    assert_string_equal(cv.v[0].item_key, "3");
    assert_string_equal(cv.v[0].author, "x");
    assert_int_equal(it.ncomments, 1);
    comment_vec_free(&cv);
    item_free(&it);
    free(repo);
    json_decref(o);
}

static void test_github_comment(void **state)
{
    (void)state;
    json_t *o = fixture_record("github_comments.json", 2);
    comment c;
    char *repo;
    dp_err err;
    assert_int_equal(ingest_github_comment(o, &c, &repo, &err), DP_OK);
    assert_int_equal(c.id, 1003);
    assert_string_equal(c.item_key, "3");
    assert_string_equal(c.author, "carol");
    assert_string_equal(c.body, "This also fixes #4");
    assert_true(c.updated_at > c.created_at);
    assert_string_equal(repo, "acme/widgets");
    comment_free(&c);
    free(repo);
    json_decref(o);
    /* without issue_url, html_url (with its anchor) gives the number */
    o = json_loads("{\"id\":5,\"html_url\":\"https://github.com/a/b/issues/42#issuecomment-5\",\"body\":\"x\"}",
                   0, NULL);
    assert_int_equal(ingest_github_comment(o, &c, &repo, &err), DP_OK);
    assert_string_equal(c.item_key, "42");
    assert_string_equal(repo, "a/b");
    comment_free(&c);
    free(repo);
    json_decref(o);
    o = json_loads("{\"id\":5,\"body\":\"x\"}", 0, NULL);
    assert_int_equal(ingest_github_comment(o, &c, &repo, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "issue_url"));
    comment_free(&c);
    free(repo);
    json_decref(o);
}

static int has_link(const link_vec *lv, const char *src, const char *dst, link_type t,
                    const char *source)
{
    for (size_t i = 0; i < lv->n; i++)
        if (!strcmp(lv->v[i].src_key, src) && !strcmp(lv->v[i].dst_key, dst) &&
            lv->v[i].type == t && !strcmp(lv->v[i].source, source))
            return 1;
    return 0;
}

static void test_jira(void **state)
{
    (void)state;
    item it;
    comment_vec cv = {0};
    link_vec lv = {0};
    dp_err err;
    json_t *o = fixture_record("jira_search.json", 0);   /* unwrapped from "issues" */
    assert_int_equal(ingest_jira_item(o, &it, &cv, &lv, &err), DP_OK);
    assert_string_equal(it.key, "DEMO-1");
    assert_int_equal(it.number, 1);
    assert_string_equal(it.state, "open");
    assert_null(it.state_reason);
    assert_string_equal(it.author, "ivan");
    assert_string_equal(it.type, "Bug");
    assert_string_equal(it.priority, "Major");
    assert_string_equal(it.components.v[0], "core");
    assert_string_equal(it.versions.v[0], "1.0");
    assert_string_equal(it.labels.v[0], "parser");
    assert_int_equal(it.reactions, 4);
    assert_int_equal(it.created_at, 1389901197);   /* 2014-01-16T19:39:57+0000 */
    assert_string_equal(it.url, "https://jira.example.org/browse/DEMO-1");
    assert_int_equal(cv.n, 1);
    assert_int_equal(cv.v[0].id, 500);
    assert_string_equal(cv.v[0].author, "judy");
    /* inwardIssue "is duplicated by": DEMO-2 duplicates DEMO-1 */
    assert_int_equal(lv.n, 1);
    assert_true(has_link(&lv, "DEMO-2", "DEMO-1", LINK_DUPLICATE, "jira:Duplicate"));
    item_free(&it);
    comment_vec_free(&cv);
    link_vec_free(&lv);
    json_decref(o);

    o = fixture_record("jira_search.json", 1);
    assert_int_equal(ingest_jira_item(o, &it, &cv, &lv, &err), DP_OK);
    assert_string_equal(it.state, "closed");
    assert_string_equal(it.state_reason, "Duplicate");
    assert_string_equal(it.author, "Karl Cloud");   /* Cloud: displayName only */
    assert_null(it.url);
    /* outwardIssue "duplicates": DEMO-2 duplicates DEMO-1, same link as above */
    assert_int_equal(lv.n, 2);
    assert_true(has_link(&lv, "DEMO-2", "DEMO-1", LINK_DUPLICATE, "jira:Duplicate"));
    assert_true(has_link(&lv, "DEMO-2", "DEMO-3", LINK_RELATED, "jira:Reference"));
    item_free(&it);
    comment_vec_free(&cv);
    link_vec_free(&lv);
    json_decref(o);

    o = fixture_record("jira_search.json", 2);
    assert_int_equal(ingest_jira_item(o, &it, &cv, &lv, &err), DP_OK);
    assert_string_equal(it.state, "closed");
    assert_int_equal(it.ncomments, 2);
    assert_int_equal(cv.n, 2);
    assert_int_equal(cv.v[0].id, 0);
    assert_true(has_link(&lv, "DEMO-2", "DEMO-3", LINK_RELATED, "jira:Reference"));
    assert_true(has_link(&lv, "DEMO-3", "OTHER-7", LINK_RELATED, "jira:Blocker"));
    item_free(&it);
    comment_vec_free(&cv);
    link_vec_free(&lv);
    json_decref(o);

    char *p = ingest_jira_project("HADOOP-COMMON-12");
    assert_string_equal(p, "HADOOP-COMMON");
    free(p);
    assert_null(ingest_jira_project("nodash"));
}

/* A Jira instance with the Duplicate texts swapped is read by its wording. */
static void test_jira_swapped_wording(void **state)
{
    (void)state;
    json_t *o = json_loads(
        "{\"key\":\"X-1\",\"fields\":{\"summary\":\"s\",\"issuelinks\":[{\"type\":{\"name\":\"Duplicate\","
        "\"inward\":\"duplicates\",\"outward\":\"is duplicated by\"},\"outwardIssue\":{\"key\":\"X-2\"}}]}}",
        0, NULL);
    item it;
    link_vec lv = {0};
    dp_err err;
    assert_int_equal(ingest_jira_item(o, &it, NULL, &lv, &err), DP_OK);
    assert_int_equal(lv.n, 1);
    assert_true(has_link(&lv, "X-2", "X-1", LINK_DUPLICATE, "jira:Duplicate"));
    item_free(&it);
    link_vec_free(&lv);
    json_decref(o);
}

static void expect_fail(int (*conv)(json_t *, dp_err *), const char *json, const char *msg)
{
    json_error_t je;
    json_t *o = json_loads(json, JSON_ALLOW_NUL, &je);
    if (!o) fail_msg("bad test JSON: %s", je.text);
    dp_err err = {""};
    assert_int_equal(conv(o, &err), DP_ERR);
    if (!strstr(err.msg, msg)) fail_msg("message '%s' lacks '%s'", err.msg, msg);
    json_decref(o);
}

static int conv_github(json_t *o, dp_err *err)
{
    item it;
    char *repo = NULL;
    int rc = ingest_github_item(o, &it, &repo, err);
    item_free(&it);
    free(repo);
    return rc;
}

static int conv_gh(json_t *o, dp_err *err)
{
    item it;
    char *repo = NULL;
    comment_vec cv = {0};
    int rc = ingest_gh_item(o, &it, &cv, &repo, err);
    item_free(&it);
    comment_vec_free(&cv);
    free(repo);
    return rc;
}

static int conv_jira(json_t *o, dp_err *err)
{
    item it;
    comment_vec cv = {0};
    link_vec lv = {0};
    int rc = ingest_jira_item(o, &it, &cv, &lv, err);
    item_free(&it);
    comment_vec_free(&cv);
    link_vec_free(&lv);
    return rc;
}

static void test_type_errors(void **state)
{
    (void)state;
    expect_fail(conv_github, "{\"number\":1,\"title\":42}", "title: expected string, got an integer");
    expect_fail(conv_github, "{\"title\":\"x\"}", "number: missing");
    expect_fail(conv_github, "{\"number\":\"1\"}", "number: expected integer");
    expect_fail(conv_github, "{\"number\":-3}", "number: expected a positive integer");
    expect_fail(conv_github, "{\"number\":1,\"user\":\"bob\"}", "user: expected object");
    expect_fail(conv_github, "{\"number\":1,\"user\":{\"login\":7}}", "user.login: expected string");
    expect_fail(conv_github, "{\"number\":1,\"labels\":[{\"name\":null}]}", "labels[0].name: missing");
    expect_fail(conv_github, "{\"number\":1,\"created_at\":\"yesterday\"}", "created_at: bad timestamp");
    expect_fail(conv_github, "{\"number\":1,\"state\":\"weird\"}", "state: expected open, closed");
    expect_fail(conv_github, "{\"number\":1,\"body\":\"a\\u0000b\"}", "body: contains a NUL");
    expect_fail(conv_github, "[1]", "expected a JSON object");
    expect_fail(conv_gh, "{\"number\":1,\"comments\":[{\"body\":1}]}", "comments[0].body: expected string");
    expect_fail(conv_jira, "{\"key\":\"NOPE\",\"fields\":{}}", "key: expected PROJECT-123");
    expect_fail(conv_jira, "{\"key\":\"A-1\"}", "fields: missing");
    expect_fail(conv_jira, "{\"key\":\"A-1\",\"fields\":{\"summary\":[]}}", "fields.summary: expected string");
    expect_fail(conv_jira, "{\"key\":\"A-1\",\"fields\":{\"labels\":[3]}}", "fields.labels[0]: expected string");
    expect_fail(conv_jira, "{\"key\":\"A-1\",\"fields\":{\"issuelinks\":[{\"type\":{\"name\":1}}]}}",
                "fields.issuelinks[0].type.name: expected string");
    expect_fail(conv_jira, "{\"key\":\"A-1\",\"fields\":{\"comment\":{\"comments\":[{\"body\":{}}]}}}",
                "fields.comment.comments[0].body: expected string");
}

static int conv_comment(json_t *o, dp_err *err)
{
    comment c;
    char *repo = NULL;
    int rc = ingest_github_comment(o, &c, &repo, err);
    comment_free(&c);
    free(repo);
    return rc;
}

/* Counts are ints in the item: a value outside 0..INT_MAX used to be cast
 * (2^63-1 became -1, -5 stayed -5); every converter now refuses it, naming
 * the field. Ids that are not positive decimals, or too long to parse,
 * would alias other comments (strtoll saturates) and are refused too. */
static void test_counts_and_ids(void **state)
{
    (void)state;
    static const char *const big = "9223372036854775807", *const over = "2147483648";
    char json[256];
    const char *const counts[] = {"-1", over, big, "-9223372036854775808"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = counts[i];
        snprintf(json, sizeof json, "{\"number\":1,\"comments\":%s}", v);
        expect_fail(conv_github, json, "comments: expected a count from 0 to 2147483647, got ");
        snprintf(json, sizeof json, "{\"number\":1,\"reactions\":{\"total_count\":%s}}", v);
        expect_fail(conv_github, json, "reactions.total_count: expected a count");
        snprintf(json, sizeof json, "{\"number\":1,\"comments\":%s}", v);
        expect_fail(conv_gh, json, "comments: expected a count");
        snprintf(json, sizeof json, "{\"number\":1,\"reactionGroups\":[{\"users\":{\"totalCount\":%s}}]}", v);
        expect_fail(conv_gh, json, "reactionGroups[0].users.totalCount: expected a count");
        snprintf(json, sizeof json, "{\"key\":\"A-1\",\"fields\":{\"votes\":{\"votes\":%s}}}", v);
        expect_fail(conv_jira, json, "fields.votes.votes: expected a count");
        snprintf(json, sizeof json, "{\"key\":\"A-1\",\"fields\":{\"votes\":%s}}", v);
        expect_fail(conv_jira, json, "fields.votes: expected a count");
        snprintf(json, sizeof json, "{\"key\":\"A-1\",\"fields\":{\"comment\":{\"total\":%s}}}", v);
        expect_fail(conv_jira, json, "fields.comment.total: expected a count");
    }
    expect_fail(conv_github, "{\"number\":1,\"comments\":9223372036854775807}", "got 9223372036854775807");
    /* each reaction group fits, their sum does not */
    expect_fail(conv_gh,
                "{\"number\":1,\"reactionGroups\":[{\"users\":{\"totalCount\":2147483647}},"
                "{\"users\":{\"totalCount\":1}}]}",
                "reactionGroups (total): expected a count from 0 to 2147483647, got 2147483648");
    expect_fail(conv_github, "{\"number\":1,\"comments\":\"7\"}", "comments: expected integer");
    /* the largest valid count is kept as it is */
    json_t *o = json_loads("{\"number\":1,\"comments\":2147483647,\"reactions\":{\"total_count\":0}}", 0, NULL);
    item it;
    char *repo = NULL;
    dp_err err;
    assert_int_equal(ingest_github_item(o, &it, &repo, &err), DP_OK);
    assert_int_equal(it.ncomments, 2147483647);
    item_free(&it);
    json_decref(o);

    expect_fail(conv_comment, "{\"id\":-5,\"issue_url\":\"https://api.github.com/repos/o/r/issues/1\"}",
                "id: expected a positive id, got -5");
    expect_fail(conv_gh,
                "{\"number\":1,\"comments\":[{\"url\":\"https://github.com/o/r/issues/1"
                "#issuecomment-99999999999999999999\"}]}",
                "comments[0].url: bad comment id");
    expect_fail(conv_gh,
                "{\"number\":1,\"comments\":[{\"url\":\"https://github.com/o/r/issues/1#issuecomment--3\"}]}",
                "comments[0].url: bad comment id");
    expect_fail(conv_jira, "{\"key\":\"A-1\",\"fields\":{\"comment\":{\"comments\":[{\"id\":\"12x\"}]}}}",
                "fields.comment.comments[0].id: expected a positive id");
    expect_fail(conv_jira,
                "{\"key\":\"A-1\",\"fields\":{\"comment\":{\"comments\":[{\"id\":\"1234567890123456789\"}]}}}",
                "fields.comment.comments[0].id: expected a positive id");
    expect_fail(conv_jira, "{\"key\":\"A-1\",\"fields\":{\"comment\":{\"comments\":[{\"id\":-2}]}}}",
                "fields.comment.comments[0].id: expected a positive id");
}

static void test_detect(void **state)
{
    (void)state;
    static const struct { const char *json; ingest_format f; } cases[] = {
        {"{\"number\":1,\"node_id\":\"x\"}", INGEST_GITHUB},
        {"{\"number\":1,\"html_url\":\"x\"}", INGEST_GITHUB},
        {"{\"number\":1,\"createdAt\":\"x\"}", INGEST_GH_CLI},
        {"{\"id\":1,\"issue_url\":\"x\"}", INGEST_COMMENTS},
        {"{\"key\":\"A-1\",\"fields\":{}}", INGEST_JIRA},
        {"{\"number\":1}", INGEST_AUTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = json_loads(cases[i].json, 0, NULL);
        assert_int_equal(ingest_format_detect(o), cases[i].f);
        json_decref(o);
    }
    ingest_format f;
    assert_int_equal(ingest_format_parse("gh", &f), DP_OK);
    assert_int_equal(f, INGEST_GH_CLI);
    assert_string_equal(ingest_format_name(INGEST_JIRA), "jira");
    assert_int_equal(ingest_format_parse("xml", &f), DP_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_github_issue),
        cmocka_unit_test(test_github_pr),
        cmocka_unit_test(test_gh_cli),
        cmocka_unit_test(test_github_comment),
        cmocka_unit_test(test_jira),
        cmocka_unit_test(test_jira_swapped_wording),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_counts_and_ids),
        cmocka_unit_test(test_detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
