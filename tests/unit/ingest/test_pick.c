/* test_pick.c -- the picking parser (src/ingest/pick.c): the members it
 * keeps equal those of jansson's full parse, the records it must leave to
 * jansson (where yajl would accept what jansson refuses) come back NULL,
 * and the converters give the same item on the picked object. Fixtures:
 * tests/fixtures/ingest. fuzz/fuzz_pick.c checks the same on any input. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "../../../src/ingest/ingest.h"
#include "../../../src/ingest/ingest_int.h"

/* Picks text and checks it against jansson's tree of the same text. */
static json_t *pick_checked(const char *text, const ij_keep *keep)
{
    json_t *picked = ij_pick(text, strlen(text), keep);
    if (!picked) return NULL;
    json_t *full = json_loads(text, 0, NULL);
    assert_non_null(full);
    json_t *want = ij_project(full, keep);
    if (!json_equal(picked, want)) {
        char *a = json_dumps(picked, JSON_SORT_KEYS), *b = json_dumps(want, JSON_SORT_KEYS);
        fail_msg("picked %s\nwanted %s", a, b);
    }
    json_decref(want);
    json_decref(full);
    return picked;
}

/* Every record of a fixture: picked, equal to jansson's, and converted
 * alike (key, title, body, state, dates, labels, counts, url, repo). */
static void check_fixture(const char *name, const ij_keep *keep, int shape)
{
    char path[256];
    snprintf(path, sizeof path, FIXTURES "/ingest/%s", name);
    ingest_split *sp;
    ingest_record r;
    dp_err err;
    int n = 0;
    if (ingest_split_open(path, &sp, &err) != DP_OK) fail_msg("%s", err.msg);
    while (ingest_split_next(sp, &r, &err) == DP_OK) {
        char *text = strndup(r.data, r.len);
        json_t *picked = pick_checked(text, keep), *full = json_loads(text, 0, NULL);
        assert_non_null(picked);
        char *repo_a = NULL, *repo_b = NULL;
        if (shape == 2) {
            comment a, b;
            assert_int_equal(ingest_github_comment(picked, &a, &repo_a, &err), DP_OK);
            assert_int_equal(ingest_github_comment(full, &b, &repo_b, &err), DP_OK);
            assert_int_equal(a.id, b.id);
            assert_string_equal(a.item_key, b.item_key);
            assert_string_equal(a.body, b.body);
            assert_int_equal(a.created_at, b.created_at);
            comment_free(&a);
            comment_free(&b);
        } else {
            item a, b;
            comment_vec ca = {0}, cb = {0};
            if (shape == 0) {
                assert_int_equal(ingest_github_item(picked, &a, &repo_a, &err), DP_OK);
                assert_int_equal(ingest_github_item(full, &b, &repo_b, &err), DP_OK);
            } else {
                assert_int_equal(ingest_gh_item(picked, &a, &ca, &repo_a, &err), DP_OK);
                assert_int_equal(ingest_gh_item(full, &b, &cb, &repo_b, &err), DP_OK);
            }
            assert_string_equal(a.key, b.key);
            assert_int_equal(a.kind, b.kind);
            assert_string_equal(a.title, b.title);
            assert_string_equal(a.body, b.body);
            assert_string_equal(a.state, b.state);
            assert_true((!a.state_reason && !b.state_reason) ||
                        (a.state_reason && b.state_reason && !strcmp(a.state_reason, b.state_reason)));
            assert_int_equal(a.created_at, b.created_at);
            assert_int_equal(a.updated_at, b.updated_at);
            assert_int_equal(a.closed_at, b.closed_at);
            assert_int_equal(a.labels.n, b.labels.n);
            assert_int_equal(a.ncomments, b.ncomments);
            assert_int_equal(a.reactions, b.reactions);
            assert_int_equal(ca.n, cb.n);
            item_free(&a);
            item_free(&b);
            comment_vec_free(&ca);
            comment_vec_free(&cb);
        }
        assert_true((!repo_a && !repo_b) || (repo_a && repo_b && !strcmp(repo_a, repo_b)));
        free(repo_a);
        free(repo_b);
        json_decref(picked);
        json_decref(full);
        free(text);
        n++;
    }
    ingest_split_close(sp);
    assert_true(n > 0);
}

static void test_fixtures(void **state)
{
    (void)state;
    check_fixture("github_issues.json", ij_keep_github_item, 0);
    check_fixture("gh_issues.json", ij_keep_gh_item, 1);
    check_fixture("gh_prs.json", ij_keep_gh_item, 1);
    check_fixture("github_comments.json", ij_keep_github_comment, 2);
}

/* Only the kept members, with their types; the last of duplicates wins;
 * escapes and surrogate pairs decode as in jansson. */
static void test_selection(void **state)
{
    (void)state;
    json_t *o = pick_checked(
        "{\"id\":7,\"number\":3,\"title\":1,\"title\":\"a\\ud83d\\ude00\\u00e9\\n\","
        "\"labels\":[\"s\",{\"name\":\"n\",\"color\":\"fff\",\"id\":1},[1,2],{\"name\":{\"x\":[1]}}],"
        "\"user\":{\"login\":\"u\",\"id\":1},\"pull_request\":{\"url\":\"x\",\"merged_at\":[1]},"
        "\"reactions\":{\"total_count\":2,\"+1\":2},\"comments\":1.5,\"node_id\":\"I_1\"}",
        ij_keep_github_item);
    assert_non_null(o);
    assert_null(json_object_get(o, "id"));
    assert_null(json_object_get(o, "node_id"));
    assert_string_equal(json_string_value(json_object_get(o, "title")), "a\xf0\x9f\x98\x80\xc3\xa9\n");
    json_t *labels = json_object_get(o, "labels");
    assert_int_equal(json_array_size(labels), 4);
    assert_int_equal(json_array_size(json_array_get(labels, 2)), 0);   /* a stand-in */
    assert_null(json_object_get(json_array_get(labels, 1), "id"));
    assert_int_equal(json_object_size(json_object_get(json_array_get(labels, 3), "name")), 0);
    assert_int_equal(json_object_size(json_object_get(o, "user")), 1);
    assert_true(json_is_real(json_object_get(o, "comments")));
    json_decref(o);
}

/* What jansson refuses, or may, is left to jansson: NULL. */
static void test_left_to_jansson(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"title\":\"lone \\ud800 high\"}",
        "{\"title\":\"lone \\udc00 low\"}",
        "{\"title\":\"high then \\ud800\\u0041\"}",
        "{\"title\":\"nul \\u0000 inside\"}",
        "{\"title\":\"form\ffeed\"}",
        "{\"number\":1,\f\"title\":\"x\"}",
        "{\"number\":1,\v\"title\":\"x\"}",
        "{\"title\":\"over\xc0\xafong\"}",
        "{\"title\":\"surr\xed\xa0\x80ogate\"}",
        "{\"title\":\"past \xf4\x90\x80\x80 U+10FFFF\"}",
        "{\"number\":-9223372036854775808}",   /* jansson takes it, yajl not */
        "{\"number\":1e999}",
        "{\"number\":01}",
        "{\"title\":\"x\",}",
        "{\"title\":\"x\"} {}",
        "{\"id\":5,\"issue_url\":\"httpT00:00:0\"}\"}",   /* an unfinished string after it (fuzz_pick) */
        "{\"title\":\"x\"} \"",
        "[{\"title\":\"x\"}]",
        "\"just a string\"",
        "{\"title\":\"x\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *o = ij_pick(bad[i], strlen(bad[i]), ij_keep_github_item);
        if (o) fail_msg("picked: %s", bad[i]);
    }
    /* Nesting past the picker's limit, even in a member not kept. */
    char deep[400] = "{\"x\":";
    for (int i = 0; i < 100; i++) strcat(deep, "[");
    for (int i = 0; i < 100; i++) strcat(deep, "]");
    strcat(deep, "}");
    assert_null(ij_pick(deep, strlen(deep), ij_keep_github_item));
    /* A record with a raw NUL byte in it. */
    assert_null(ij_pick("{\"title\":\"a\0b\"}", 15, ij_keep_github_item));
}

/* What the pre-scan must find, and what it must let through, at every
 * offset inside its 16-byte steps and across their ends (0 to 40 plain
 * bytes before it, some after): a byte missed there would let yajl take a
 * record jansson refuses. */
static void test_scan_at_every_offset(void **state)
{
    (void)state;
    static const char pad[] = "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy";
    static const char *const bad[] = {
        "\\u0000", "\\udc00", "\\ud800x", "\xc0\xaf", "\xed\xa0\x80", "\f", "\v", "\xff",
    };
    static const char *const good[] = {"\xc3\xa9", "\\u00e9", "\\\\ud800", "\\n", "\xf0\x9f\x98\x80"};
    char text[160];
    for (int n = 0; n <= 40; n++) {
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            snprintf(text, sizeof text, "{\"title\":\"%.*s%s%s\"}", n, pad, bad[i], pad);
            if (ij_pick(text, strlen(text), ij_keep_github_item)) fail_msg("picked: %s", text);
        }
        /* a raw NUL byte; a vertical tab or form feed outside any string
         * (yajl takes them for whitespace) */
        int len = snprintf(text, sizeof text, "{\"title\":\"%.*s#%s\"}", n, pad, pad);
        *strchr(text, '#') = '\0';
        assert_null(ij_pick(text, (size_t)len, ij_keep_github_item));
        for (const char *ws = "\v\f"; *ws; ws++) {
            snprintf(text, sizeof text, "{\"number\":1,%*s%c\"title\":\"%s\"}", n, "", *ws, pad);
            assert_null(ij_pick(text, strlen(text), ij_keep_github_item));
        }
        for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
            snprintf(text, sizeof text, "{\"title\":\"%.*s%s%s\"}", n, pad, good[i], pad);
            json_t *o = pick_checked(text, ij_keep_github_item);
            if (!o) fail_msg("not picked: %s", text);
            json_decref(o);
        }
    }
}

/* A record picked and converted inside the per-thread arena: jansson's
 * values come from it, the item keeps its own copies (the arena's next
 * record overwrites the memory), a record larger than the arena still
 * converts whole (jansson's allocations past it come from malloc and go
 * back to free: ASan checks both), and outside an arena nothing comes
 * from it. */
static void pick_convert(const char *text, size_t len, item *it)
{
    ij_arena_begin();
    assert_int_equal(ij_arena_used(), 0);
    json_t *o = ij_pick(text, len, ij_keep_github_item);
    assert_non_null(o);
    assert_true(ij_arena_used() > 0);
    char *repo = NULL;
    dp_err err;
    item_init(it);
    assert_int_equal(ingest_github_item(o, it, &repo, &err), DP_OK);
    free(repo);
    json_decref(o);
    ij_arena_end();
}

static void test_arena(void **state)
{
    (void)state;
    ij_arena_setup();
    static const char a[] = "{\"number\":7,\"title\":\"first title\",\"body\":\"b1\","
                            "\"labels\":[{\"name\":\"bug\",\"color\":\"f00\"}],"
                            "\"html_url\":\"https://github.com/o/r/issues/7\"}";
    static const char b[] = "{\"number\":8,\"title\":\"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\","
                            "\"body\":\"YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY\"}";
    item x, y;
    pick_convert(a, strlen(a), &x);
    pick_convert(b, strlen(b), &y);
    assert_string_equal(x.key, "7");
    assert_string_equal(x.title, "first title");
    assert_string_equal(x.body, "b1");
    assert_int_equal(x.labels.n, 1);
    assert_string_equal(x.labels.v[0], "bug");
    assert_string_equal(y.title, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    item_free(&x);
    item_free(&y);
    /* 3 MB of body and 40000 labels: past the arena's MiB */
    size_t big = 3u << 20, cap = big + 40000 * 16 + 200;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, "{\"number\":9,\"labels\":[");
    for (int i = 0; i < 40000; i++) n += (size_t)snprintf(text + n, cap - n, "%s\"l%d\"", i ? "," : "", i);
    n += (size_t)snprintf(text + n, cap - n, "],\"body\":\"");
    memset(text + n, 'z', big);
    n += big;
    n += (size_t)snprintf(text + n, cap - n, "\"}");
    pick_convert(text, n, &x);
    assert_int_equal(strlen(x.body), big);
    assert_int_equal(x.labels.n, 40000);
    assert_string_equal(x.labels.v[39999], "l39999");
    item_free(&x);
    free(text);
    /* outside an arena: malloc and free */
    json_t *o = json_string("outside");
    assert_int_equal(ij_arena_used(), 0);
    json_decref(o);
    ij_arena_release();
}

/* Escapes that look like trouble but are not: picked. */
static void test_escapes_kept(void **state)
{
    (void)state;
    json_t *o = pick_checked("{\"title\":\"C:\\\\ud800\\\\u0000 \\\"q\\\" \\/ \\t\",\"body\":\"\\u0041\\uFFFF\"}",
                             ij_keep_github_item);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "title")), "C:\\ud800\\u0000 \"q\" / \t");
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_left_to_jansson),
        cmocka_unit_test(test_escapes_kept),
        cmocka_unit_test(test_scan_at_every_offset),
        cmocka_unit_test(test_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
