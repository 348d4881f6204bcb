/* test_explain.c -- reasoning, value, suggested comment and report helpers
 * on a small hand-made corpus indexed with the real index. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "../../../src/explain/explain.h"
#include "../../../src/explain/report.h"

#define DAY 86400
#define NOW ((int64_t)1700000000)

static void mk(item *it, const char *key, const char *title, const char *body, const char *state,
               const char *reason, int64_t created)
{
    item_init(it);
    it->key = xstrdup(key);
    it->number = strtoll(key[0] >= '0' && key[0] <= '9' ? key : "0", NULL, 10);
    it->title = xstrdup(title);
    it->body = xstrdup(body);
    it->state = xstrdup(state);
    it->state_reason = xstrdup(reason);
    it->created_at = it->updated_at = created;
    if (strcmp(state, "open")) it->closed_at = created + 10 * DAY;
}

/* Docs: 0 and 1 are the planted pair (same exception, same frames, a rare
 * word, a shared label); 2..11 are unrelated filler. */
typedef struct fx {
    item items[12];
    dindex *ix;
} fx;

static const char *TRACE =
    "Crash while iterating the frobnicator cache.\n\n"
    "```\n"
    "java.util.ConcurrentModificationException\n"
    "\tat java.util.HashMap$HashIterator.nextNode(HashMap.java:1445)\n"
    "\tat org.example.cache.FrobCache.evict(FrobCache.java:88)\n"
    "\tat org.example.cache.FrobCache.put(FrobCache.java:41)\n"
    "```\n";

static const char *FILLER[10] = {
    "Documentation typo in the install guide",  "Add dark mode to the settings page",
    "Slow startup when many plugins are loaded", "Support for YAML configuration files",
    "Login button misaligned on mobile",        "Upgrade the logging library",
    "Translate the README into German",         "Export results as CSV",
    "Keyboard shortcut for search",             "Memory usage grows with open tabs",
};

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    mk(&f->items[0], "100", "FrobCache evict throws ConcurrentModificationException", TRACE,
       "closed", "completed", NOW - 300 * DAY);
    sv_push(&f->items[0].labels, "area:cache");
    for (int i = 0; i < 10; i++) {
        char key[16], body[200];
        snprintf(key, sizeof key, "%d", 101 + i);
        snprintf(body, sizeof body, "%s. Nothing else to add here, see title %d.", FILLER[i], i);
        mk(&f->items[1 + i], key, FILLER[i], body, i % 2 ? "open" : "closed", NULL,
           NOW - (250 - i) * DAY);
    }
    mk(&f->items[11], "120", "ConcurrentModificationException in FrobCache.put", TRACE, "open",
       NULL, NOW - 5 * DAY);
    sv_push(&f->items[11].labels, "area:cache");
    sv_push(&f->items[11].labels, "bug");
    f->items[11].ncomments = 4;
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dp_err err;
    assert_int_equal(index_build(f->items, 12, &p, &f->ix, &err), DP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    index_free(f->ix);
    for (int i = 0; i < 12; i++) item_free(&f->items[i]);
    free(f);
    return 0;
}

static void explain_with(fx *f, const char *relation, const item_link *links, size_t nlinks,
                         explain_out *out)
{
    match_hit h;
    memset(&h, 0, sizeof h);
    h.doc = 0;
    h.prob = 0.93;
    h.score = 3.0;
    for (int i = 0; i < FEAT_COUNT; i++) h.feat[i] = 1.0;
    explain_input in = {.ix = f->ix, .model = match_model_default(), .qdoc = 11, .cdoc = 0,
                        .hit = &h, .relation = relation, .confidence = "high", .links = links,
                        .nlinks = nlinks, .now = NOW};
    explain_pair(&in, out);
    if (getenv("EXPLAIN_DEBUG")) fprintf(stderr, "%s\n--\n%s\n--\n%s\n", out->reasoning, out->comment, out->value_detail);
}

static void test_reasoning_signals(void **state)
{
    fx *f = *state;
    explain_out o;
    explain_with(f, "duplicate", NULL, 0, &o);
    assert_non_null(strstr(o.reasoning, "`ConcurrentModificationException`"));
    /* the exception word is in exactly the two planted docs of 12 */
    assert_non_null(strstr(o.reasoning, "in 2 of 12 items"));
    assert_non_null(strstr(o.reasoning, "Same stack frame"));
    assert_non_null(strstr(o.reasoning, "FrobCache.evict"));
    assert_non_null(strstr(o.reasoning, "Both are labelled `area:cache`"));
    assert_null(strstr(o.reasoning, "`bug`"));   /* only one side has it */
    assert_non_null(strstr(o.reasoning, "#120 is an open issue"));
    assert_non_null(strstr(o.reasoning, "#100 is a closed issue"));
    assert_non_null(strstr(o.reasoning, "Filed 295 days apart"));
    assert_non_null(strstr(o.reasoning, "Model probability of a duplicate: 0.930"));
    assert_int_equal(o.known, 0);
    explain_out_free(&o);
}

static void test_reasoning_rare_word(void **state)
{
    fx *f = *state;
    explain_out o;
    explain_with(f, "duplicate", NULL, 0, &o);
    /* words of the shared trace ("frobnicator", "FrobCache", "evict") are in
     * the two planted items only: listed with their document frequency */
    const char *s = strstr(o.reasoning, "Both mention `");
    assert_non_null(s);
    const char *e = strchr(s, '\n');
    assert_non_null(e);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(e - s), s);
    assert_non_null(strstr(line, "` (in 2 of 12 items)"));
    assert_null(strstr(line, "of 12 items), `Nothing"));
    /* the error line repeating the exception is not listed again */
    assert_null(strstr(o.reasoning, "Same error line: `java.util.ConcurrentModificationException`"));
    explain_out_free(&o);
}

static void test_links_known(void **state)
{
    fx *f = *state;
    item_link l = {.src_key = "120", .dst_key = "100", .type = LINK_DUPLICATE, .source = "comment"};
    explain_out o;
    explain_with(f, "duplicate", &l, 1, &o);
    assert_int_equal(o.known, 1);
    assert_non_null(strstr(o.reasoning, "#120 is marked as a duplicate of #100 (in a comment)"));
    double known_value = o.value;
    explain_out_free(&o);

    l.type = LINK_RELATED;
    l.source = "body";
    explain_with(f, "duplicate", &l, 1, &o);
    assert_int_equal(o.known, 0);
    assert_non_null(strstr(o.reasoning, "#120 refers to #100 (in its description)"));
    assert_true(o.value > 5 * known_value);   /* known pairs rank low */
    explain_out_free(&o);

    /* the same through a linkset, link stored in the other direction */
    item_link l2 = {.src_key = "100", .dst_key = "120", .type = LINK_DUPLICATE, .source = "body"};
    explain_linkset *ls = explain_linkset_new(&l2, 1);
    size_t idx[2];
    assert_int_equal(explain_linkset_find(ls, "120", "100", idx, 2), 1);
    assert_int_equal(explain_linkset_find(ls, "120", "101", idx, 2), 0);
    explain_linkset_free(ls);
}

static void test_comment_duplicate(void **state)
{
    fx *f = *state;
    explain_out o;
    explain_with(f, "duplicate", NULL, 0, &o);
    assert_true(strncmp(o.comment, "Duplicate of #100\n", 18) == 0);
    assert_non_null(strstr(o.comment, "closed as completed"));
    assert_non_null(strstr(o.comment, "ConcurrentModificationException"));
    explain_out_free(&o);
}

static void test_comment_related(void **state)
{
    fx *f = *state;
    explain_out o;
    explain_with(f, "related", NULL, 0, &o);
    assert_null(strstr(o.comment, "Duplicate of"));
    assert_true(strncmp(o.comment, "Possibly related: #100", 22) == 0);
    assert_non_null(strstr(o.comment, "Both report `ConcurrentModificationException`"));
    explain_out_free(&o);
}

static void test_comment_pull_request(void **state)
{
    fx *f = *state;
    f->items[0].kind = ITEM_PR;   /* the fixed twin is a pull request */
    explain_out o;
    explain_with(f, "duplicate", NULL, 0, &o);
    f->items[0].kind = ITEM_ISSUE;
    assert_null(strstr(o.comment, "Duplicate of"));
    assert_true(strncmp(o.comment, "Possibly addressed by pull request #100", 39) == 0);
    assert_non_null(strstr(o.reasoning, "#100 is a closed pull request"));
    explain_out_free(&o);
}

static void test_value_order(void **state)
{
    (void)state;
    item open_q, fixed, open_c, old1, old2, wontfix;
    mk(&open_q, "10", "a", "", "open", NULL, NOW - 10 * DAY);
    mk(&fixed, "5", "a", "", "closed", "completed", NOW - 100 * DAY);
    mk(&open_c, "6", "a", "", "open", NULL, NOW - 90 * DAY);
    mk(&wontfix, "7", "a", "", "closed", "not_planned", NOW - 90 * DAY);
    mk(&old1, "1", "a", "", "closed", "completed", NOW - 2000 * DAY);
    mk(&old2, "2", "a", "", "closed", "completed", NOW - 1900 * DAY);
    double v_fixed = explain_value(&open_q, &fixed, 0.8, 0, NOW, NULL);
    double v_open = explain_value(&open_q, &open_c, 0.8, 0, NOW, NULL);
    double v_wont = explain_value(&open_q, &wontfix, 0.8, 0, NOW, NULL);
    double v_stale = explain_value(&old2, &old1, 0.8, 0, NOW, NULL);
    assert_true(v_fixed > v_open);
    assert_true(v_open > v_wont);
    assert_true(v_wont > v_stale);
    /* scaled by probability, raised by engagement, cut when known */
    assert_true(explain_value(&open_q, &fixed, 0.4, 0, NOW, NULL) < v_fixed);
    assert_true(explain_value(&open_q, &fixed, 0.8, 1, NOW, NULL) < v_stale);
    open_q.ncomments = 30;
    assert_true(explain_value(&open_q, &open_c, 0.8, 0, NOW, NULL) > v_open);
    sbuf d;
    sb_init(&d);
    double v = explain_value(&open_q, &fixed, 0.5, 0, NOW, &d);
    char want[64];
    snprintf(want, sizeof want, "value: %.3f", v);
    assert_non_null(strstr(d.s, "state (open vs closed as fixed): 3.000"));
    assert_non_null(strstr(d.s, want));
    sb_free(&d);
    item *all[] = {&open_q, &fixed, &open_c, &old1, &old2, &wontfix};
    for (size_t i = 0; i < 6; i++) item_free(all[i]);
}

static void test_jira_ref(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(explain_ref("4606", buf, sizeof buf), "#4606");
    assert_string_equal(explain_ref("HIVE-123", buf, sizeof buf), "HIVE-123");
    item a, b;
    mk(&a, "HIVE-20", "Hive metastore NPE on drop table", "NPE in metastore drop table", "open",
       NULL, NOW - DAY);
    mk(&b, "HIVE-10", "Metastore NPE when dropping a table", "NPE in metastore drop table",
       "closed", "Fixed", NOW - 50 * DAY);
    item items[2] = {b, a};
    dindex *ix;
    dp_err err;
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    assert_int_equal(index_build(items, 2, &p, &ix, &err), DP_OK);
    match_hit h = {.doc = 0, .prob = 0.95};
    explain_input in = {.ix = ix, .model = match_model_default(), .qdoc = 1, .cdoc = 0, .hit = &h,
                        .relation = "duplicate", .confidence = "high", .now = NOW};
    explain_out o;
    explain_pair(&in, &o);
    assert_true(strncmp(o.comment, "Duplicate of HIVE-10\n", 21) == 0);
    explain_out_free(&o);
    index_free(ix);
    item_free(&a);
    item_free(&b);
}

static void test_report(void **state)
{
    (void)state;
    sbuf sb;
    sb_init(&sb);
    explain_trunc(&sb, "short", 10);
    assert_string_equal(sb.s, "short");
    sb_reset(&sb);
    explain_trunc(&sb, "h\xc3\xa9llo w\xc3\xb6rld, this is long", 10);
    assert_string_equal(sb.s, "h\xc3\xa9llo w...");
    sb_reset(&sb);
    explain_trunc(&sb, "a\nb\x1b[31m", 20);
    assert_string_equal(sb.s, "a b?[31m");
    sb_reset(&sb);
    pair p = {.query_key = "5693", .cand_key = "4606", .relation = "related",
              .confidence = "high", .value = 2.2891, .reasoning = "Both mention `x_y` [here]"};
    explain_pair_line(&sb, &p, NULL, NULL, 80);
    assert_non_null(strstr(sb.s, "#5693"));
    assert_non_null(strstr(sb.s, "#4606"));
    assert_non_null(strstr(sb.s, "related \xc2\xb7 high \xc2\xb7 2.289"));
    sb_reset(&sb);
    explain_pair_markdown(&sb, &p, NULL);
    assert_non_null(strstr(sb.s, "`x_y` \\[here\\]"));
    sb_free(&sb);
    json_t *j = explain_pair_json(&p, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "reasoning")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "candidate")), "4606");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasoning_signals), cmocka_unit_test(test_reasoning_rare_word),
        cmocka_unit_test(test_links_known),       cmocka_unit_test(test_comment_duplicate),
        cmocka_unit_test(test_comment_related),   cmocka_unit_test(test_comment_pull_request),
    };
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_value_order),
        cmocka_unit_test(test_jira_ref),
        cmocka_unit_test(test_report),
    };
    int fails = cmocka_run_group_tests_name("explain", tests, setup, teardown);
    fails += cmocka_run_group_tests_name("explain-plain", plain, NULL, NULL);
    return fails;
}
