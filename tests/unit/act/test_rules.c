/* test_rules.c -- the pure rules of acting on GitHub: pair keys, markers
 * (and hostile look-alikes), which item is kept, refused closures (both
 * items of a pair, cycles, chains), activity, comment texts. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "../../../src/act/act.h"
#include "../../../src/act/act_int.h"

static void test_pair_key(void **state)
{
    (void)state;
    static const struct { const char *a, *b, *want; } cases[] = {
        {"12", "34", "12:34"}, {"34", "12", "12:34"},
        {"9", "10", "9:10"},     /* by number, not as strings */
        {"100", "99", "99:100"},
        {"HIVE-2", "HIVE-10", "HIVE-10:HIVE-2"},   /* not numbers: as strings */
        {"7", "7", "7:7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *k = act_pair_key(cases[i].a, cases[i].b);
        assert_string_equal(k, cases[i].want);
        free(k);
    }
    static const struct { const char *in, *want; } args[] = {
        {"34:12", "12:34"}, {"#34:#12", "12:34"}, {"12:34", "12:34"}, {"#9:10", "9:10"},
        {"12", NULL}, {"12:", NULL}, {":12", NULL}, {"#:12", NULL}, {"1:2:3", NULL}, {"", NULL},
    };
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        char *k = act_pair_key_arg(args[i].in);
        if (!args[i].want) assert_null(k);
        else assert_string_equal(k, args[i].want);
        free(k);
    }
    assert_null(act_pair_key_arg(NULL));
    char *t = act_triage_key("56");
    assert_string_equal(t, "triage:56");
    free(t);
}

static void test_markers(void **state)
{
    (void)state;
    char *m = act_marker("12:34");
    assert_string_equal(m, "<!-- doppel:pair=12:34 v1 -->");
    char *body = xasprintf("Duplicate of #12\n\n%s", m);
    char *k = act_marker_parse(body);
    assert_string_equal(k, "12:34");
    free(k);
    free(body);
    free(m);
    m = act_marker("triage:56");
    assert_string_equal(m, "<!-- doppel:triage v1 -->");
    k = act_marker_parse(m);
    assert_string_equal(k, "triage");
    free(k);
    free(m);
    /* only the exact syntax counts */
    static const char *bad[] = {
        "no marker here",
        "<!-- doppel:pair=12:34 -->",             /* no version */
        "<!-- doppel:pair=12:34 v2 -->",          /* another version */
        "<!-- doppel:pair=12 v1 -->",             /* one key */
        "<!-- doppel:pair=12:34:56 v1 -->",       /* three */
        "<!-- doppel:pair=1 2:34 v1 -->",         /* a space inside */
        "<!-- doppel:pair=:34 v1 -->",
        "<!-- doppel:pair=12:<script> v1 -->",
        "<!-- doppel:triage -->",
        "<!-- doppel:pair=12:34 v1 --",           /* cut */
        "<!-- doppel:",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        k = act_marker_parse(bad[i]);
        if (k) fail_msg("accepted %s as %s", bad[i], k);
    }
    assert_null(act_marker_parse(NULL));
    /* an overlong key is refused, a bad marker before a good one is skipped */
    char longkey[200];
    memset(longkey, '1', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    body = xasprintf("<!-- doppel:pair=%s:2 v1 -->", longkey);
    assert_null(act_marker_parse(body));
    free(body);
    k = act_marker_parse("quote: <!-- doppel:pair=1 v1 --> then <!-- doppel:pair=HIVE-1:HIVE-2 v1 -->");
    assert_string_equal(k, "HIVE-1:HIVE-2");
    free(k);
}

static void mk(item *it, const char *key, const char *state, const char *reason, int64_t created, int comments)
{
    item_init(it);
    it->key = xstrdup(key);
    it->number = atoll(key);
    it->title = xstrdup("t");
    it->body = xstrdup("");
    it->state = xstrdup(state);
    it->state_reason = reason ? xstrdup(reason) : NULL;
    it->created_at = created;
    it->ncomments = comments;
}

static void choose(const item *a, const item *b, const char *kept)
{
    act_choice ch;
    act_choose(NULL, a, b, &ch);
    assert_string_equal(ch.canonical, kept);
    assert_string_equal(ch.dup, !strcmp(kept, a->key) ? b->key : a->key);
    assert_non_null(ch.rule);
    act_choose(NULL, b, a, &ch);   /* the order of the two does not matter */
    assert_string_equal(ch.canonical, kept);
}

static void test_choose(void **state)
{
    (void)state;
    item old_open, new_open, fixed, fixed_noreason, dup_closed, not_planned, busy_new, merged_pr;
    mk(&old_open, "10", "open", NULL, 100, 2);
    mk(&new_open, "20", "open", NULL, 200, 2);
    mk(&fixed, "5", "closed", "completed", 300, 0);
    mk(&fixed_noreason, "6", "closed", NULL, 50, 0);
    mk(&dup_closed, "7", "closed", "duplicate", 10, 9);
    mk(&not_planned, "8", "closed", "not_planned", 10, 9);
    mk(&busy_new, "30", "open", NULL, 400, 7);
    mk(&merged_pr, "40", "closed", "merged", 500, 0);
    choose(&fixed, &new_open, "5");          /* 2: closed as fixed is kept, even when newer */
    choose(&fixed_noreason, &new_open, "6"); /* no reason = fixed (older GitHub data) */
    choose(&merged_pr, &old_open, "40");     /* a merged fix */
    choose(&fixed, &fixed_noreason, "6");    /* both fixed: the older */
    choose(&dup_closed, &old_open, "10");    /* 3: already a duplicate */
    choose(&not_planned, &old_open, "10");   /* 4: open over closed otherwise */
    choose(&busy_new, &old_open, "30");      /* 5: more activity */
    choose(&old_open, &new_open, "10");      /* equal activity: older */
    item same_time;
    mk(&same_time, "11", "open", NULL, 100, 2);
    choose(&old_open, &same_time, "10");     /* same time: lower key */
    /* 1: the judgment's own choice, stored with the pair, comes first */
    pair p = {.canonical = "20", .comment_on = "10"};
    act_choice ch;
    act_choose(&p, &old_open, &new_open, &ch);
    assert_string_equal(ch.canonical, "20");
    assert_string_equal(ch.dup, "10");
    p.canonical = "99";                      /* a third item: the two decide alone */
    act_choose(&p, &old_open, &new_open, &ch);
    assert_string_equal(ch.canonical, "10");
    item *all[] = {&old_open, &new_open, &fixed, &fixed_noreason, &dup_closed, &not_planned, &busy_new,
                   &merged_pr, &same_time};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) item_free(all[i]);
}

static void test_refusals(void **state)
{
    (void)state;
    char buf[320];
    item a, b, c, dup_of_a, gone;
    mk(&a, "1", "open", NULL, 10, 0);
    mk(&b, "2", "open", NULL, 20, 0);
    mk(&c, "3", "open", NULL, 30, 0);
    mk(&dup_of_a, "4", "closed", "duplicate", 40, 0);
    mk(&gone, "5", "open", NULL, 50, 0);
    gone.deleted = 1;
    act_graph *g = act_graph_new();
    assert_null(act_close_refusal(g, &b, &a, buf, sizeof buf));
    assert_non_null(act_close_refusal(g, &a, &a, buf, sizeof buf));
    assert_non_null(act_close_refusal(g, &a, &gone, buf, sizeof buf));
    /* never into an item that is itself closed as a duplicate (of anything) */
    act_graph_add(g, "4", "1");
    assert_non_null(act_close_refusal(g, &a, &dup_of_a, buf, sizeof buf));
    assert_non_null(strstr(buf, "itself closed as a duplicate"));
    /* both items of one pair: 2 was closed into 1, so 1 cannot go into 2 */
    act_graph_add(g, "2", "1");
    assert_true(act_graph_reaches(g, "2", "1"));
    assert_non_null(act_close_refusal(g, &a, &b, buf, sizeof buf));
    assert_non_null(strstr(buf, "both"));
    /* a longer cycle: 3 -> 2 -> 1, so 1 -> 3 would close the loop */
    act_graph_add(g, "3", "2");
    assert_true(act_graph_reaches(g, "3", "1"));
    assert_false(act_graph_reaches(g, "1", "3"));
    assert_non_null(act_close_refusal(g, &a, &c, buf, sizeof buf));
    /* an item already marked as a duplicate of another is not re-pointed */
    assert_non_null(act_close_refusal(g, &b, &c, buf, sizeof buf));
    assert_non_null(strstr(buf, "already marked as a duplicate of #1"));
    /* the same edge again is fine (resuming a closure) */
    assert_null(act_close_refusal(g, &b, &a, buf, sizeof buf));
    /* a cycle already in the data does not hang the search */
    act_graph_add(g, "1", "3");
    assert_true(act_graph_reaches(g, "1", "2"));
    assert_false(act_graph_reaches(g, "1", "99"));
    act_graph_free(g);
    act_graph_free(NULL);
    item *all[] = {&a, &b, &c, &dup_of_a, &gone};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) item_free(all[i]);
}

static void test_activity(void **state)
{
    (void)state;
    assert_false(act_activity(100, 200, 0));    /* untouched since the verdict */
    assert_false(act_activity(200, 200, 0));    /* same second */
    assert_true(act_activity(201, 200, 0));     /* someone touched it */
    assert_false(act_activity(300, 200, 300));  /* doppel's own comment did */
    assert_true(act_activity(301, 200, 300));   /* and someone after it */
    assert_true(act_activity(250, 200, 100));   /* doppel's write before the verdict does not excuse */
}

static void test_texts(void **state)
{
    (void)state;
    char *t = act_text_duplicate("12", "12:34");
    assert_string_equal(t, "Duplicate of #12\n\n<!-- doppel:pair=12:34 v1 -->");
    free(t);
    t = act_text_related("12", "12:34");
    assert_true(!strncmp(t, "Related: #12\n", 13));
    char *k = act_marker_parse(t);
    assert_string_equal(k, "12:34");
    free(k);
    free(t);
    strvec keys = {0};
    act_triage_listed("intro\n\n- #12 (duplicate, high confidence)\n- #7 (related, high confidence)\n- #12 again\n"
                      "text - #99 not at the start\n- #x\n",
                      &keys);
    assert_int_equal(keys.n, 2);
    assert_string_equal(keys.v[0], "12");
    assert_string_equal(keys.v[1], "7");
    act_triage_listed(NULL, &keys);
    assert_int_equal(keys.n, 2);
    sv_free(&keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pair_key), cmocka_unit_test(test_markers), cmocka_unit_test(test_choose),
        cmocka_unit_test(test_refusals), cmocka_unit_test(test_activity), cmocka_unit_test(test_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
