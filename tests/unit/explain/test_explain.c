/* test_explain.c -- reasoning, value, suggested comment and report helpers
 * on a small hand-made corpus indexed with the real index. */
#include "testutil.h"

#include <ctype.h>
#include <math.h>
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

/* A judgment as the judge would give it: relation rel with probability p
 * given that they are related at all (0.98). */
static match_judgment judged(relation_kind rel, double p, const item *q, const item *c)
{
    match_judgment jd;
    memset(&jd, 0, sizeof jd);
    jd.relation = rel;
    jd.p_any = rel == RELATION_NONE ? 1 - p : 0.98;
    jd.p[RELATION_DUPLICATE] = rel == RELATION_DUPLICATE ? jd.p_any * p : jd.p_any * (1 - p);
    jd.p[RELATION_RELATED] = jd.p_any - jd.p[RELATION_DUPLICATE];
    jd.p[RELATION_NONE] = 1 - jd.p_any;
    jd.p_shown = p;
    jd.strength = 0.9;
    jd.confidence = p >= 0.9 ? CONFIDENCE_HIGH : p >= 0.6 ? CONFIDENCE_MEDIUM : CONFIDENCE_LOW;
    jd.pr_pair = q && c && q->kind != c->kind;
    if (jd.pr_pair && rel == RELATION_DUPLICATE) jd.relation = RELATION_RELATED;
    return jd;
}

static void explain_full(fx *f, uint32_t q, uint32_t c, const match_judgment *jd, const double *jf,
                         uint32_t canonical, const item_link *links, size_t nlinks, explain_out *out)
{
    match_hit h;
    memset(&h, 0, sizeof h);
    h.doc = c;
    h.score = 3.0;
    for (int i = 0; i < FEAT_COUNT; i++) h.feat[i] = 1.0;
    match_ctx ctx;
    match_ctx_init(&ctx, f->ix, match_model_default(), links, nlinks);
    explain_input in = {.ix = f->ix, .model = match_model_default(), .qdoc = q, .cdoc = c,
                        .hit = &h, .jd = jd, .jf = jf, .canonical = canonical, .links = links,
                        .nlinks = nlinks, .now = NOW, .mctx = &ctx};
    explain_pair(&in, out);
    /* the lengths the store binds the texts with */
    assert_int_equal(out->reasoning_len, strlen(out->reasoning));
    assert_int_equal(out->value_detail_len, strlen(out->value_detail));
    assert_int_equal(out->comment_len, strlen(out->comment));
    match_ctx_free(&ctx);
    if (getenv("EXPLAIN_DEBUG")) fprintf(stderr, "%s\n--\n%s\n--\n%s\n", out->reasoning, out->comment, out->value_detail);
}

static void explain_with(fx *f, relation_kind rel, const item_link *links, size_t nlinks,
                         explain_out *out)
{
    match_judgment jd = judged(rel, 0.93, &f->items[11], &f->items[0]);
    explain_full(f, 11, 0, &jd, NULL, UINT32_MAX, links, nlinks, out);
}

static void test_reasoning_signals(void **state)
{
    fx *f = *state;
    explain_out o;
    explain_with(f, RELATION_DUPLICATE, NULL, 0, &o);
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
    /* the states sentence word for word, dates as dp_format_date writes them */
    char d0[16], d1[16], d2[16], want[256];
    dp_format_date(NOW - 5 * DAY, d0, sizeof d0);
    dp_format_date(NOW - 300 * DAY, d1, sizeof d1);
    dp_format_date(NOW - 290 * DAY, d2, sizeof d2);
    snprintf(want, sizeof want,
             "#120 is an open issue, opened %s; #100 is a closed issue, opened %s and closed %s as completed. "
             "Filed 295 days apart.\n", d0, d1, d2);
    assert_non_null(strstr(o.reasoning, want));
    /* the first sentence says what is shown, with the number shown */
    assert_true(!strncmp(o.reasoning, "Duplicate, high confidence (0.93)", 33));
    assert_int_equal(o.known, 0);
    explain_out_free(&o);
}

/* An index that does not keep the fields splits a doc again when asked:
 * explaining asks for them only to spell shared rare words (never for two
 * items with none), and the reasoning is the one a full index gives. */
static void test_fields_split_when_needed(void **state)
{
    fx *f = *state;
    explain_out full, fill_full;
    explain_with(f, RELATION_DUPLICATE, NULL, 0, &full);
    match_judgment jd = judged(RELATION_RELATED, 0.5, &f->items[2], &f->items[1]);
    explain_full(f, 2, 1, &jd, NULL, UINT32_MAX, NULL, 0, &fill_full);
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    p.drop_fields = 1;
    dp_err err;
    dindex *lean;
    assert_int_equal(index_build(f->items, 12, &p, &lean, &err), DP_OK);
    index_fields_release(lean);
    dindex *kept = f->ix;
    f->ix = lean;
    explain_out o, fill;
    explain_full(f, 2, 1, &jd, NULL, UINT32_MAX, NULL, 0, &fill);   /* two fillers: no shared rare word */
    assert_int_equal(index_doc_fields_held(lean, 2), 0);
    assert_int_equal(index_doc_fields_held(lean, 1), 0);
    explain_with(f, RELATION_DUPLICATE, NULL, 0, &o);
    f->ix = kept;
    assert_non_null(strstr(o.reasoning, "`frobnicator`"));   /* spelled from the query's text */
    assert_int_equal(index_doc_fields_held(lean, 11), 1);
    assert_string_equal(o.reasoning, full.reasoning);
    assert_string_equal(o.comment, full.comment);
    assert_string_equal(fill.reasoning, fill_full.reasoning);
    explain_out_free(&o);
    explain_out_free(&full);
    explain_out_free(&fill);
    explain_out_free(&fill_full);
    index_free(lean);
}

static void test_reasoning_rare_word(void **state)
{
    fx *f = *state;
    explain_out o;
    explain_with(f, RELATION_DUPLICATE, NULL, 0, &o);
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
    explain_with(f, RELATION_DUPLICATE, &l, 1, &o);
    assert_int_equal(o.known, 1);
    assert_non_null(strstr(o.reasoning, "#120 is marked as a duplicate of #100 (in a comment)"));
    double known_value = o.value;
    explain_out_free(&o);

    l.type = LINK_RELATED;
    l.source = "body";
    explain_with(f, RELATION_DUPLICATE, &l, 1, &o);
    assert_int_equal(o.known, 0);
    assert_non_null(strstr(o.reasoning, "#120 refers to #100 (in its description)"));
    assert_true(o.value > 4 * known_value);   /* known duplicates rank lowest */
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
    explain_with(f, RELATION_DUPLICATE, NULL, 0, &o);
    assert_true(strncmp(o.comment, "Duplicate of #100\n", 18) == 0);
    assert_non_null(strstr(o.comment, "closed as fixed"));
    assert_non_null(strstr(o.comment, "Please check whether the fix there solves this"));
    /* on the open report, citing the fixed one */
    assert_string_equal(o.comment_on, "120");
    assert_string_equal(o.canonical, "100");
    assert_non_null(strstr(o.comment, "ConcurrentModificationException"));
    explain_out_free(&o);
}

static void test_comment_related(void **state)
{
    fx *f = *state;
    explain_out o;
    explain_with(f, RELATION_RELATED, NULL, 0, &o);
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
    explain_with(f, RELATION_DUPLICATE, NULL, 0, &o);
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
    match_judgment dup = judged(RELATION_DUPLICATE, 0.8, &open_q, &fixed);
    double v_fixed = explain_value(&open_q, &fixed, &dup, NULL, 0, NOW, NULL);
    double v_open = explain_value(&open_q, &open_c, &dup, NULL, 0, NOW, NULL);
    double v_wont = explain_value(&open_q, &wontfix, &dup, NULL, 0, NOW, NULL);
    double v_stale = explain_value(&old2, &old1, &dup, NULL, 0, NOW, NULL);
    /* a split discussion first, then an open report of a fixed problem */
    assert_true(v_open > v_fixed);
    assert_true(v_fixed > v_wont);
    assert_true(v_wont > v_stale);
    /* the copy to close is already closed: nothing left to do */
    assert_true(explain_value(&open_q, &wontfix, &dup, &wontfix, 0, NOW, NULL) < 0.5 * v_wont);
    /* two items closed years ago: nothing left to do */
    assert_true(v_stale < 0.001 * v_open);
    /* scaled by probability, raised by engagement, cut when known */
    match_judgment weak = judged(RELATION_DUPLICATE, 0.4, &open_q, &fixed);
    assert_true(explain_value(&open_q, &fixed, &weak, NULL, 0, NOW, NULL) < v_fixed);
    assert_true(explain_value(&open_q, &fixed, &dup, NULL, 2, NOW, NULL) < 0.1 * v_fixed);
    assert_true(explain_value(&open_q, &fixed, &dup, NULL, 1, NOW, NULL) < 0.5 * v_fixed);
    /* a possible regression is not "close it, pointing at the fix" */
    match_judgment reg = judged(RELATION_RELATED, 0.9, &open_q, &fixed);
    reg.regression = 1;
    assert_true(explain_value(&open_q, &fixed, &reg, NULL, 0, NOW, NULL) < v_fixed);
    /* related and not related weigh less than a duplicate */
    match_judgment rel = judged(RELATION_RELATED, 0.8, &open_q, &open_c);
    match_judgment none = judged(RELATION_NONE, 0.8, &open_q, &open_c);
    assert_true(explain_value(&open_q, &open_c, &rel, NULL, 0, NOW, NULL) < v_open);
    assert_true(explain_value(&open_q, &open_c, &none, NULL, 0, NOW, NULL) <
                explain_value(&open_q, &open_c, &rel, NULL, 0, NOW, NULL));
    open_q.ncomments = 30;
    assert_true(explain_value(&open_q, &open_c, &dup, NULL, 0, NOW, NULL) > v_open);
    sbuf d;
    sb_init(&d);
    double v = explain_value(&open_q, &fixed, &dup, NULL, 0, NOW, &d);
    char want[64];
    snprintf(want, sizeof want, "value: %.3f", v);
    assert_non_null(strstr(d.s, "stake (open vs closed as fixed): 1.500"));
    assert_non_null(strstr(d.s, want));
    sb_free(&d);
    item *all[] = {&open_q, &fixed, &open_c, &old1, &old2, &wontfix};
    for (size_t i = 0; i < 6; i++) item_free(all[i]);
}

/* The survivor of a cluster: fixed first, then the oldest open one unless a
 * newer open one clearly carries the discussion; closed as duplicate last. */
static void test_canonical(void **state)
{
    (void)state;
    item it[5];
    mk(&it[0], "1", "a", "", "closed", "duplicate", NOW - 500 * DAY);
    mk(&it[1], "2", "a", "", "open", NULL, NOW - 400 * DAY);
    mk(&it[2], "3", "a", "", "open", NULL, NOW - 300 * DAY);
    mk(&it[3], "4", "a", "", "closed", "completed", NOW - 200 * DAY);
    mk(&it[4], "5", "a", "", "open", NULL, NOW - 100 * DAY);
    dindex *ix;
    dp_err err;
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    assert_int_equal(index_build(it, 5, &p, &ix, &err), DP_OK);
    const item *all[] = {&it[0], &it[1], &it[2], &it[3], &it[4]}, *open3[] = {&it[1], &it[2], &it[4]},
               *dupopen[] = {&it[0], &it[2]};
    assert_int_equal(explain_canonical(all, 5), 3);       /* the fixed one */
    assert_int_equal(explain_canonical(open3, 3), 0);     /* the oldest open */
    assert_int_equal(explain_canonical(dupopen, 2), 1);   /* not the one closed as a duplicate */
    char why[128];
    assert_string_equal(explain_canonical_why(&it[3], &it[1], why, sizeof why), "#4 was closed as fixed");
    assert_string_equal(explain_canonical_why(&it[2], &it[0], why, sizeof why), "#1 is already closed as a duplicate");
    it[4].ncomments = 12;                                 /* the newest carries the discussion */
    assert_int_equal(explain_canonical(open3, 3), 2);
    assert_true(!strncmp(explain_canonical_why(&it[4], &it[1], why, sizeof why), "the discussion is there (12", 27));
    index_free(ix);
    for (int i = 0; i < 5; i++) item_free(&it[i]);
}

/* Where the comment goes and what it cites: a third canonical item, a
 * regression, an unmerged pull request, nothing for "not related". */
static void test_comment_targets(void **state)
{
    fx *f = *state;
    explain_out o;
    /* two copies of a third item (doc 1): cite it, comment on the newer */
    match_judgment jd = judged(RELATION_DUPLICATE, 0.95, &f->items[11], &f->items[0]);
    explain_full(f, 11, 0, &jd, NULL, 1, NULL, 0, &o);
    assert_true(!strncmp(o.comment, "Duplicate of #101\n", 18));
    assert_non_null(strstr(o.comment, "This and #100 both look like copies of #101"));
    assert_string_equal(o.comment_on, "120");
    assert_string_equal(o.canonical, "101");
    explain_out_free(&o);
    /* a possible regression: asks, never "duplicate of" */
    jd = judged(RELATION_RELATED, 1.0, &f->items[11], &f->items[0]);
    jd.regression = 1;
    explain_full(f, 11, 0, &jd, NULL, UINT32_MAX, NULL, 0, &o);
    assert_true(!strncmp(o.comment, "This may be a regression of #100", 32));
    assert_non_null(strstr(o.comment, "Which version are you running"));
    assert_non_null(strstr(o.reasoning, "possible regression"));
    assert_string_equal(o.comment_on, "120");
    assert_null(o.canonical);
    explain_out_free(&o);
    /* the same failure alone keeps it from "not related": the first sentence
     * says so, with the floor, the wording's own number and the share */
    jd = judged(RELATION_DUPLICATE, 0.45, &f->items[11], &f->items[0]);
    jd.p[RELATION_DUPLICATE] = 0.03;
    jd.p[RELATION_RELATED] = 0.01;
    jd.p_any = 0.6;
    jd.same_failure = jd.failure_lifted = 1;
    explain_full(f, 11, 0, &jd, NULL, UINT32_MAX, NULL, 0, &o);
    assert_non_null(strstr(o.reasoning, "Duplicate, low confidence (0.45): they show the same failure"));
    assert_non_null(strstr(o.reasoning, "related at all with at least 0.60, though their wording alone gives 0.04; "
                                        "as duplicates: 0.75 of that."));
    explain_out_free(&o);
    /* not related: nothing to post */
    jd = judged(RELATION_NONE, 0.9, &f->items[11], &f->items[0]);
    explain_full(f, 11, 0, &jd, NULL, UINT32_MAX, NULL, 0, &o);
    assert_string_equal(o.comment, "");
    assert_null(o.comment_on);
    explain_out_free(&o);
    /* a pull request closed without being merged fixed nothing */
    f->items[0].kind = ITEM_PR;
    jd = judged(RELATION_RELATED, 1.0, &f->items[11], &f->items[0]);
    explain_full(f, 11, 0, &jd, NULL, UINT32_MAX, NULL, 0, &o);
    f->items[0].kind = ITEM_ISSUE;
    assert_non_null(strstr(o.comment, "closed without being merged"));
    assert_null(strstr(o.comment, "check whether it solves"));
    assert_string_equal(o.comment_on, "120");   /* on the issue */
    explain_out_free(&o);
}

/* The judge's evidence in words: opposite titles, a double post, the
 * query's own words naming the candidate. */
/* A test disabled (it[0]) and enabled again a minute later (it[1]), with
 * the bodies given, both filed by author (NULL: unknown), indexed into f2
 * (which shares the items' strings: free them once, through it). */
static void disable_enable(item it[2], const char *body0, const char *body1, const char *author, fx *f2)
{
    mk(&it[0], "HIVE-20577", "Disable TestHs2ConnectionMetricsHttp.testOpenConnectionMetrics", body0, "closed",
       "Fixed", NOW - 10 * DAY);
    mk(&it[1], "HIVE-20578", "Enable TestHs2ConnectionMetricsHttp.testOpenConnectionMetrics", body1, "open", NULL,
       NOW - 10 * DAY + 60);
    it[0].author = author ? xstrdup(author) : NULL;
    it[1].author = author ? xstrdup(author) : NULL;
    memset(f2, 0, sizeof *f2);
    f2->items[0] = it[0];
    f2->items[1] = it[1];
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dp_err err;
    assert_int_equal(index_build(f2->items, 2, &p, &f2->ix, &err), DP_OK);
}

static void test_judge_reasons(void **state)
{
    (void)state;
    item it[2];
    fx f2;
    disable_enable(it, "This has been failing in multiple UT runs", "Disabled in HIVE-20577", "vg", &f2);
    double jf[JF_COUNT] = {0};
    jf[JF_OPPOSITE] = 1;
    jf[JF_MENTION_FOLLOW] = 1;
    jf[JF_SAME_AUTHOR] = jf[JF_AUTHOR_2H] = jf[JF_AUTHOR_10MIN] = 1;
    match_judgment jd = judged(RELATION_RELATED, 0.97, &it[1], &it[0]);
    explain_out o;
    explain_full(&f2, 1, 0, &jd, jf, UINT32_MAX, NULL, 0, &o);
    assert_true(!strncmp(o.reasoning, "Related, high confidence (0.97)", 31));
    assert_non_null(strstr(o.reasoning, "HIVE-20578 names it as its origin"));
    assert_non_null(strstr(o.reasoning, "\"Disabled in HIVE-20577\""));
    assert_non_null(strstr(o.reasoning, "opposite actions (\"enable\" / \"disable\")"));
    assert_non_null(strstr(o.reasoning, "The same person filed both, 1 minute apart"));
    assert_true(!strncmp(o.comment, "Possibly related: HIVE-20577", 28));
    explain_out_free(&o);
    index_free(f2.ix);
    item_free(&it[0]);
    item_free(&it[1]);
}

/* Each sentence that quotes the judge's words, its feature set alone: the
 * words are looked up only for the features that quote them (say_judge
 * skips them otherwise), so every such feature must still get its words. */
static void test_judge_reasons_each(void **state)
{
    (void)state;
    item it[2];
    fx f2;
    disable_enable(it, "This has been failing in multiple UT runs, see HIVE-100", "Disabled in HIVE-20577 as HIVE-100 did",
                   NULL, &f2);
    static const struct {
        int feat;
        const char *said;
    } cases[] = {
        {JF_MENTION_DUP, "HIVE-20578 calls it the original: \"Disabled in HIVE-20577"},
        {JF_MENTION_FOLLOW, "HIVE-20578 names it as its origin"},
        {JF_MENTION_PLAIN, "HIVE-20578 names it: \"Disabled in HIVE-20577"},
        {JF_OPPOSITE, "opposite actions (\"enable\" / \"disable\")"},
        {JF_VERSION_ONLY, "differ only in \"enable\" / \"disable\""},
        {JF_SLOT_DIFF, "Same wording around different words: \"enable\" / \"disable\""},
        {JF_SHARED_REF, "Both name HIVE-100"},
        {-1, NULL},
    };
    match_judgment jd = judged(RELATION_RELATED, 0.97, &it[1], &it[0]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double jf[JF_COUNT] = {0};
        if (cases[i].feat >= 0) jf[cases[i].feat] = 1;
        if (cases[i].feat == JF_SLOT_DIFF) jf[JF_TITLE_OVERLAP] = 0.5;
        explain_out o;
        explain_full(&f2, 1, 0, &jd, jf, UINT32_MAX, NULL, 0, &o);
        if (cases[i].said) {
            if (!strstr(o.reasoning, cases[i].said)) fprintf(stderr, "case %zu: %s\n", i, o.reasoning);
            assert_non_null(strstr(o.reasoning, cases[i].said));
        } else {   /* none of them: not a word of it */
            assert_null(strstr(o.reasoning, "HIVE-20578 names"));
            assert_null(strstr(o.reasoning, "enable"));
            assert_null(strstr(o.reasoning, "Both name"));
        }
        explain_out_free(&o);
    }
    index_free(f2.ix);
    item_free(&it[0]);
    item_free(&it[1]);
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
    match_judgment jd = judged(RELATION_DUPLICATE, 0.95, &a, &b);
    explain_input in = {.ix = ix, .model = match_model_default(), .qdoc = 1, .cdoc = 0, .hit = &h,
                        .jd = &jd, .canonical = UINT32_MAX, .now = NOW};
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
    pair p = {.query_key = "5693", .cand_key = "4606", .relation = RELATION_RELATED,
              .confidence = CONFIDENCE_HIGH, .value = 2.2891, .reasoning = "Both mention `x_y` [here]"};
    explain_pair_line(&sb, &p, NULL, NULL, 80);
    assert_non_null(strstr(sb.s, "#5693"));
    assert_non_null(strstr(sb.s, "#4606"));
    assert_non_null(strstr(sb.s, "related \xc2\xb7 high \xc2\xb7 2.289"));
    sb_reset(&sb);
    explain_pair_markdown(&sb, &p, NULL);
    assert_non_null(strstr(sb.s, "`x_y` \\[here\\]"));
    sb_free(&sb);
    json_t *j = explain_pair_json(&p, NULL, NULL, 1);
    assert_int_equal(json_array_size(json_object_get(j, "reasoning")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "candidate")), "4606");
    json_decref(j);
}

/* A linkset grown by batches (a filling serve corpus) finds what one built
 * from all the links finds, in the same order: every link of a pair, in
 * array order. */
static void test_linkset_grow(void **state)
{
    (void)state;
    enum { NL = 200 };
    item_link links[NL];
    char keys[NL][2][16];
    for (size_t i = 0; i < NL; i++) {   /* few keys: many links per pair, both directions */
        snprintf(keys[i][0], sizeof keys[i][0], "%zu", (i * 7) % 13);
        snprintf(keys[i][1], sizeof keys[i][1], "%zu", (i * 5) % 11);
        links[i] = (item_link){.src_key = keys[i][0], .dst_key = i % 17 == 3 ? NULL : keys[i][1]};
    }
    explain_linkset *all = explain_linkset_new(links, NL);
    explain_linkset *grown = explain_linkset_new(links, 7);
    explain_linkset_grow(grown, links, 80);
    explain_linkset_grow(grown, links, 80);
    explain_linkset_grow(grown, links, NL);
    size_t seen = 0;
    for (int a = 0; a < 14; a++)
        for (int b = 0; b < 14; b++) {
            char ka[16], kb[16];
            snprintf(ka, sizeof ka, "%d", a);
            snprintf(kb, sizeof kb, "%d", b);
            size_t ia[NL], ig[NL];
            size_t na = explain_linkset_find(all, ka, kb, ia, NL);
            assert_int_equal(explain_linkset_find(grown, ka, kb, ig, NL), na);
            for (size_t i = 0; i < na; i++) {
                assert_int_equal(ia[i], ig[i]);
                if (i) assert_true(ia[i - 1] < ia[i]);
            }
            seen += na;
        }
    assert_true(seen > NL);   /* each pair asked both ways */
    explain_linkset_free(all);
    explain_linkset_free(grown);
}

/* The spelling search as it was first written (a scan of every word and
 * part), the reference explain_find_spelling must agree with. */
static int wch(unsigned char ch) { return isalnum(ch) || ch == '_' || ch >= 0x80; }
static int jch(unsigned char ch) { return ch == '.' || ch == '/' || ch == '-' || ch == ':'; }
static int ref_spells(const char *w, size_t n, const char *t, size_t tn)
{
    char low[128];   /* w's first tn bytes folded, a final y read as the stem's i */
    if (n < tn || n - tn > 5 || tn >= sizeof low) return 0;
    for (size_t i = 0; i < tn; i++) low[i] = (char)tolower((unsigned char)w[i]);
    if (tn && low[tn - 1] == 'y' && t[tn - 1] == 'i') low[tn - 1] = 'i';
    return memcmp(low, t, tn) == 0;
}
static int ref_spelling(const char *s, const char *t, char *out, size_t outn)
{
    size_t tn = strlen(t), len = strlen(s), best = 0, i = 0;
    const char *bestp = NULL;
    if (len > 65536) len = 65536;
    while (i < len) {
        if (!wch((unsigned char)s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && (wch((unsigned char)s[j]) || (jch((unsigned char)s[j]) && j + 1 < len &&
                                                         wch((unsigned char)s[j + 1]))))
            j++;
        if (ref_spells(s + i, j - i, t, tn) && (!bestp || j - i < best)) {
            bestp = s + i;
            best = j - i;
        }
        for (size_t p = i; p < j;) {
            size_t q = p;
            while (q < j && !jch((unsigned char)s[q])) q++;
            if ((p != i || q != j) && ref_spells(s + p, q - p, t, tn) && (!bestp || q - p < best)) {
                bestp = s + p;
                best = q - p;
            }
            p = q + 1;
        }
        i = j;
    }
    if (!bestp || best + 1 > outn) return 0;
    memcpy(out, bestp, best);
    out[best] = '\0';
    return 1;
}

static void spelling_is(const char *s, const char *t, const char *want)
{
    char got[64], ref[64];
    int found = explain_find_spelling(s, t, got, sizeof got);
    assert_int_equal(found, want != NULL);
    if (want) assert_string_equal(got, want);
    assert_int_equal(ref_spelling(s, t, ref, sizeof ref), found);
    if (found) assert_string_equal(ref, got);
}

/* The shortest word or part wins, the first of equals; parts of a joined
 * word count, a join not followed by a word character ends the word. */
static void test_find_spelling(void **state)
{
    (void)state;
    spelling_is("Running the runner", "run", "runner");   /* the shorter one */
    spelling_is("Runner the runner", "run", "Runner");   /* the first of equals */
    spelling_is("the runner runs", "run", "runs");
    spelling_is("see org.apache.Hive/exec", "hive", "Hive");
    spelling_is("see HiveServer2 and hive-exec", "hive", "hive");
    spelling_is("a Hive.. thing", "hive", "Hive");
    spelling_is("..hive. x", "hive", "hive");
    spelling_is("retries: retry", "retri", "retry");
    spelling_is("nothing here", "hive", NULL);
    spelling_is("hivemindsets", "hive", NULL);          /* 8 bytes longer than the stem */
    spelling_is("xhive hive", "hive", "hive");          /* not inside a word */
    spelling_is("a.hive-ish", "hive", "hive");
    spelling_is("\xc3\xa9t\xc3\xa9 \xc3\x89t\xc3\xa9", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
    spelling_is("Y y", "i", "Y");
    spelling_is("I", "I", NULL);                        /* an upper-case term folds from nothing */
    char small[4];
    assert_int_equal(explain_find_spelling("running", "run", small, sizeof small), 0);   /* does not fit */
    /* random texts of a few letters, joins and spaces, against the reference */
    const char alphabet[] = "aAbByYi.-/: _\xc3";
    const char *terms[] = {"ab", "aby", "bai", "a", "i", "ba", "abab", "\xc3" "a", "a.b", "b-a", "a:", "aB", "Ab", "yi", "abi"};
    uint32_t r = 12345;
    char text[96];
    for (int round = 0; round < 20000; round++) {
        size_t n = (r = r * 1103515245u + 12345u) >> 16 & 63;
        for (size_t k = 0; k < n; k++) {
            r = r * 1103515245u + 12345u;
            text[k] = alphabet[(r >> 16) % (sizeof alphabet - 1)];
        }
        text[n] = '\0';
        const char *t = terms[round % (int)(sizeof terms / sizeof terms[0])];
        char got[96], ref[96];
        int a = explain_find_spelling(text, t, got, sizeof got), b = ref_spelling(text, t, ref, sizeof ref);
        if (a != b || (a && strcmp(got, ref))) fail_msg("\"%s\" in \"%s\": %d \"%s\", want %d \"%s\"", t, text, a,
                                                         a ? got : "", b, b ? ref : "");
    }
}

/* explain_add_fixed writes what printf "%.*f" writes: halves exactly
 * representable (0.125, 2.5) round to even there, near-halves by their
 * exact value (2.675 is below), tiny negatives keep their sign. */
static void fixed_is(double v, int digits)
{
    char want[512];   /* 1e300 takes 301 digits */
    snprintf(want, sizeof want, "%.*f", digits, v);
    sbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "<");
    explain_add_fixed(&sb, v, digits);
    if (strcmp(sb.s + 1, want)) fail_msg("%.17g to %d places: \"%s\", want \"%s\"", v, digits, sb.s + 1, want);
    sb_free(&sb);
}

static void test_add_fixed(void **state)
{
    (void)state;
    const double cases[] = {0, -0.0, 0.125, 0.375, 2.5, 3.5, 0.0005, 0.0015, 2.675, 1.005, 0.995, 0.9995,
                            0.99949999999, 1e-9, -1e-9, -0.0004, -0.0006, -2.5, 999999.9995, 999999.4,
                            1e6, 1e300, -1e300, 123.456789, 0.045, 0.055, 1.0 / 3, 2.0 / 3, 5e-324};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int d = 0; d <= 6; d++) fixed_is(cases[i], d);
    fixed_is(NAN, 3);
    fixed_is(INFINITY, 2);
    fixed_is(-INFINITY, 0);
    fixed_is(1.5, 7);   /* more places than the fast path keeps */
    /* random values of every scale, and the exact halves of every place */
    uint64_t r = 88172645463325252ull;
    for (int round = 0; round < 200000; round++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double v = (double)(r >> 11) / 9007199254740992.0 * pow(10, (int)(r % 9) - 3);
        if (r & 1 << 20) v = -v;
        fixed_is(v, (int)(r >> 3 & 3) + (r & 4 ? 0 : 1));
        int d = (int)(r >> 40) % 4;
        fixed_is(((double)(r >> 44 & 1023) + 0.5) / pow(10, d), d);
    }
}

/* explain_has_ci answers as strcasestr does. */
static void test_has_ci(void **state)
{
    (void)state;
    const char *hay[] = {"", "a", "Foo Bar", "foo  bar", "xFOO BARx", "aaaaaaaaab", "AaAaAaB", "no match",
                         "NullPointerException at X", "\xc3\xa9t\xc3\xa9 x", "k", "bar foo"};
    const char *needle[] = {"", "a", "foo bar", "b", "AB", "aab", "aaaaaaaaaab", "nullpointer", "\xc3\xa9T",
                            "x", "foo", "bar foo x"};
    for (size_t i = 0; i < sizeof hay / sizeof hay[0]; i++)
        for (size_t k = 0; k < sizeof needle / sizeof needle[0]; k++)
            if (explain_has_ci(hay[i], needle[k]) != (strcasestr(hay[i], needle[k]) != NULL))
                fail_msg("\"%s\" in \"%s\"", needle[k], hay[i]);
    /* random texts of a few bytes against the reference */
    const char alphabet[] = "aAbB .-_\xc3";
    uint32_t r = 777;
    char text[80], ndl[6];
    for (int round = 0; round < 50000; round++) {
        size_t n = (r = r * 1103515245u + 12345u) >> 16 & 63, m = (r >> 8) % 5;
        for (size_t k = 0; k < n; k++) text[k] = alphabet[((r = r * 1103515245u + 12345u) >> 16) % (sizeof alphabet - 1)];
        for (size_t k = 0; k < m; k++) ndl[k] = alphabet[((r = r * 1103515245u + 12345u) >> 16) % (sizeof alphabet - 1)];
        text[n] = ndl[m] = '\0';
        if (explain_has_ci(text, ndl) != (strcasestr(text, ndl) != NULL)) fail_msg("\"%s\" in \"%s\"", ndl, text);
    }
}

/* explain_ref: "#" before a number, the key otherwise, cut like snprintf. */
static void test_ref(void **state)
{
    (void)state;
    char b[8];
    assert_string_equal(explain_ref("4606", b, sizeof b), "#4606");
    assert_string_equal(explain_ref("HIVE-1", b, sizeof b), "HIVE-1");
    assert_string_equal(explain_ref(NULL, b, sizeof b), "?");
    assert_string_equal(explain_ref("", b, sizeof b), "");
    assert_string_equal(explain_ref("1234567", b, sizeof b), "#123456");
    assert_string_equal(explain_ref("ABCDEFGHIJ", b, sizeof b), "ABCDEFG");
    assert_string_equal(explain_ref("12", b, 1), "");
    assert_string_equal(explain_ref("12", b, 2), "#");
}

/* The reasoning of docs 1 -> 0 of a corpus whose two first docs read
 * title0/title1 and body0/body1, among filler where "quantum" and "widget"
 * are common words (only their bigram can be rare). Owned. */
static char *bigram_reasoning(const char *title0, const char *body0, const char *title1, const char *body1)
{
    static const char *filler[] = {"quantum settings page", "widget color wrong", "quantum logs noisy",
                                   "widget tooltip missing", "quantum docs outdated", "widget docs outdated"};
    item items[8];
    mk(&items[0], "1", title0, body0, "open", NULL, NOW - 20 * DAY);
    mk(&items[1], "2", title1, body1, "open", NULL, NOW - 10 * DAY);
    for (int i = 0; i < 6; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", 3 + i);
        mk(&items[2 + i], key, filler[i], filler[i], "open", NULL, NOW - (30 + i) * DAY);
    }
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dp_err err;
    dindex *ix = NULL;
    assert_int_equal(index_build(items, 8, &p, &ix, &err), DP_OK);
    fx f = {.ix = ix};
    match_judgment jd = judged(RELATION_RELATED, 0.8, &items[1], &items[0]);
    explain_out o;
    explain_full(&f, 1, 0, &jd, NULL, UINT32_MAX, NULL, 0, &o);
    char *r = o.reasoning;
    o.reasoning = NULL;
    explain_out_free(&o);
    index_free(ix);
    for (int i = 0; i < 8; i++) item_free(&items[i]);
    return r;
}

/* A shared rare bigram is quoted as the phrase only where one of the two
 * wrote it so, whatever the case; with a stop word between its words in
 * both, it is not quoted at all. */
static void test_bigram_phrase(void **state)
{
    (void)state;
    char *r = bigram_reasoning("Quantum Widget explodes", "The QUANTUM widget explodes on save.",
                               "quantum widget explodes again", "Our quantum widget explodes when saving.");
    assert_non_null(strstr(r, "`quantum widget`"));
    free(r);
    r = bigram_reasoning("Quantum of widget explodes", "The quantum of widget explodes on save.",
                         "quantum for widget explodes again", "Our quantum for widget explodes when saving.");
    assert_null(strstr(r, "quantum widget"));
    free(r);
}

/* explain_date writes what dp_format_date (gmtime, strftime "%Y-%m-%d")
 * writes: every day around the epoch, leap days and century years, a
 * pseudo-random spread of seconds over 1000..9999, and the years outside
 * (fewer or more digits, negative times) that go through dp_format_date. */
static void date_same(int64_t t)
{
    char a[EXPLAIN_DATE_MAX], b[EXPLAIN_DATE_MAX];
    explain_date(t, a);
    dp_format_date(t, b, sizeof b);
    if (strcmp(a, b)) fail_msg("t=%lld: explain_date %s, dp_format_date %s", (long long)t, a, b);
}

static void test_date(void **state)
{
    (void)state;
    for (int64_t d = -3000; d <= 3000; d++) {
        date_same(d * DAY);
        date_same(d * DAY - 1);
        date_same(d * DAY + DAY / 2);
    }
    static const int64_t fixed[] = {0, -1, 951782400 /* 2000-02-29 */, 4107456000 /* 2100-02-28 */,
                                    4107542400 /* 2100-03-01 */, -2208988800 /* 1900-01-01 */,
                                    -30610224000 /* 1000-01-01 */, -30610224001 /* 999-12-31 */,
                                    253402300799 /* 9999-12-31 */, 253402300800 /* 10000-01-01 */,
                                    -62167219200 /* 0000-01-01 */, -62167219201};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) date_same(fixed[i]);
    uint64_t r = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {   /* xorshift over [1000-01-01, 9999-12-31] */
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        date_same(-30610224000 + (int64_t)(r % (253402300800ull + 30610224000ull)));
    }
    char b[EXPLAIN_DATE_MAX];
    assert_string_equal(explain_date(1700000000, b), "2023-11-14");
    assert_ptr_equal(explain_date(0, b), b);
}

/* "Filed N days apart" for one day (no plural), none, and numbers of
 * several digits (written without printf). */
static void test_days_apart(void **state)
{
    fx *f = *state;
    int64_t was = f->items[11].created_at;
    const struct { int64_t gap; const char *want; } cases[] = {
        {1 * DAY + 5, ". Filed 1 day apart.\n"},   {0, ". Filed 0 days apart.\n"},
        {11 * DAY, ". Filed 11 days apart.\n"},    {21 * DAY, ". Filed 21 days apart.\n"},
        {-1000 * DAY, ". Filed 1000 days apart.\n"}, {10 * DAY - 1, ". Filed 9 days apart.\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->items[11].created_at = f->items[0].created_at + cases[i].gap;
        explain_out o;
        explain_with(f, RELATION_DUPLICATE, NULL, 0, &o);
        if (!strstr(o.reasoning, cases[i].want)) fail_msg("want \"%s\" in:\n%s", cases[i].want, o.reasoning);
        explain_out_free(&o);
    }
    f->items[11].created_at = was;
}

/* explain_memmem_ci answers as memmem does in a copy of the text folded
 * by tolower: random texts over a small alphabet of letters in both
 * cases and the bytes one case bit away from them (@ ` [ {), needles of
 * every length up to past the text's (some with capitals, which no folded
 * text holds), at every offset of the text (the vector loop's edges). */
static void test_memmem_ci(void **state)
{
    (void)state;
    const char alphabet[] = "aAabB@`[{\xc3";
    uint32_t r = 31337;
    char text[80], fold[80], w[40];
    for (int round = 0; round < 60000; round++) {
        size_t n = ((r = r * 1103515245u + 12345u) >> 16) % sizeof text, m = (r >> 8) % 12;
        if (round % 7 == 0) m = (r >> 4) % sizeof w;
        for (size_t k = 0; k < n; k++) text[k] = alphabet[((r = r * 1103515245u + 12345u) >> 16) % (sizeof alphabet - 1)];
        for (size_t k = 0; k < m; k++) w[k] = alphabet[((r = r * 1103515245u + 12345u) >> 16) % (sizeof alphabet - 1)];
        if (round % 2) /* mostly folded needles, as the callers' */
            for (size_t k = 0; k < m; k++) w[k] = (char)tolower((unsigned char)w[k]);
        if (m && n >= m && round % 3 == 0) memcpy(text + (r >> 3) % (n - m + 1), w, m);   /* planted */
        for (size_t k = 0; k < n; k++) fold[k] = (char)tolower((unsigned char)text[k]);
        size_t from = n ? (r >> 5) % (n + 1) : 0;
        const char *want = memmem(fold + from, n - from, w, m), *got = explain_memmem_ci(text + from, n - from, w, m);
        ptrdiff_t wi = want ? want - fold : -1, gi = got ? got - text : -1;
        if (gi != wi) fail_msg("needle \"%.*s\" in \"%.*s\": at %td, want %td", (int)m, w, (int)(n - from), text + from, gi, wi);
    }
}

/* The code span and the markdown title as a byte at a time wrote them
 * (the references), for texts longer than the stack buffers they are
 * now written through, cut in a UTF-8 sequence, and full of escapes. */
static void code_ref(sbuf *sb, const char *s, size_t max)
{
    sb_addc(sb, '`');
    size_t n = 0;
    for (const char *p = s; *p && n < max; p++, n++) {
        char ch = *p;
        if (ch == '`') ch = '\'';
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
        sb_addc(sb, ch);
    }
    if (strlen(s) > max) {
        while (sb->len > 1 && ((unsigned char)sb->s[sb->len - 1] & 0xC0) == 0x80) sb->len--;
        if (sb->len > 1 && ((unsigned char)sb->s[sb->len - 1] & 0x80)) sb->len--;
        sb->s[sb->len] = '\0';
        sb_adds(sb, "...");
    }
    sb_addc(sb, '`');
}

static void md_title_ref(sbuf *sb, const char *s)
{
    size_t n = 0;
    for (const char *p = s ? s : ""; *p && n < 200; p++, n++) {
        if (strchr("\\`*_[]<>|~", *p)) sb_addc(sb, '\\');
        sb_addc(sb, (*p == '\n' || *p == '\r') ? ' ' : *p);
    }
}

static void test_code_and_title(void **state)
{
    (void)state;
    const char pieces[] = "ab`\n\t\r*_[]<>|~\\x\xc3\xa9\xe2\x82\xac";
    uint32_t r = 4242;
    char text[400];
    const size_t maxes[] = {0, 1, 40, 80, 120, 127, 128, 129, 300, 1000};
    for (int round = 0; round < 3000; round++) {
        size_t n = (r = r * 1103515245u + 12345u) >> 16 & 511;
        if (n >= sizeof text) n = sizeof text - 1;
        for (size_t k = 0; k < n; k++) text[k] = pieces[((r = r * 1103515245u + 12345u) >> 16) % (sizeof pieces - 1)];
        text[n] = '\0';
        sbuf a, b;
        sb_init(&a);
        sb_init(&b);
        sb_adds(&a, "x\xc3");   /* text before the span stays whole */
        sb_adds(&b, "x\xc3");
        size_t max = maxes[round % (sizeof maxes / sizeof maxes[0])];
        explain_add_code(&a, text, max);
        code_ref(&b, text, max);
        if (strcmp(a.s, b.s)) fail_msg("code of %zu bytes, max %zu: \"%s\", want \"%s\"", n, max, a.s, b.s);
        a.len = b.len = 0;
        explain_add_md_title(&a, text);
        md_title_ref(&b, text);
        a.s[a.len] = b.s[b.len] = '\0';
        if (strcmp(a.s, b.s)) fail_msg("title of %zu bytes: \"%s\", want \"%s\"", n, a.s, b.s);
        sb_free(&a);
        sb_free(&b);
    }
    sbuf t;
    sb_init(&t);
    explain_add_md_title(&t, NULL);
    assert_int_equal(t.len, 0);
    sb_free(&t);
}

/* Counts with thousands commas, as from snprintf's "%zu", cut alike. */
static void test_fmt_count(void **state)
{
    (void)state;
    const size_t v[] = {0, 7, 10, 999, 1000, 11862, 100000, 1234567, 4294967296u, (size_t)-1};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        for (size_t n = 1; n <= 32; n++) {
            char tmp[32], want[40], got[40];
            int len = snprintf(tmp, sizeof tmp, "%zu", v[i]);
            size_t o = 0;
            for (int k = 0; k < len && o + 1 < n; k++) {
                if (k > 0 && (len - k) % 3 == 0 && o + 2 < n) want[o++] = ',';
                want[o++] = tmp[k];
            }
            want[o] = '\0';
            explain_fmt_count(v[i], got, n);
            assert_string_equal(got, want);
        }
    char b[32];
    explain_fmt_count(11862, b, sizeof b);
    assert_string_equal(b, "11,862");
}

/* A linkset answers what a scan of the links answers, whichever way
 * round a pair is asked, for pairs linked and not (the lookup compares
 * hashes of the unordered pair, then the keys). */
static void test_linkset_scan(void **state)
{
    (void)state;
    enum { NL = 500, NK = 60 };
    item_link links[NL];
    char keys[NK][16];
    for (int k = 0; k < NK; k++) snprintf(keys[k], sizeof keys[k], k % 3 ? "%d" : "HIVE-%d", k * 37);
    uint32_t r = 99;
    for (size_t i = 0; i < NL; i++) {
        int a = (int)(((r = r * 1103515245u + 12345u) >> 16) % NK);
        int b = (int)(((r = r * 1103515245u + 12345u) >> 16) % NK);
        links[i] = (item_link){.src_key = keys[a], .dst_key = keys[b]};
    }
    explain_linkset *ls = explain_linkset_new(links, NL);
    size_t total = 0;
    for (int a = 0; a < NK; a++)
        for (int b = 0; b < NK; b++) {
            size_t got[NL], want[NL], nw = 0;
            for (size_t i = 0; i < NL; i++)
                if ((!strcmp(links[i].src_key, keys[a]) && !strcmp(links[i].dst_key, keys[b])) ||
                    (!strcmp(links[i].src_key, keys[b]) && !strcmp(links[i].dst_key, keys[a])))
                    want[nw++] = i;
            size_t ng = explain_linkset_find(ls, keys[a], keys[b], got, NL);
            assert_int_equal(ng, nw);
            for (size_t i = 0; i < nw; i++) assert_int_equal(got[i], want[i]);
            total += nw;
            /* a key no link has: nothing */
            assert_int_equal(explain_linkset_find(ls, keys[a], "424242", got, NL), 0);
        }
    assert_true(total >= 2 * NL - NK);   /* each link found from both ends */
    explain_linkset_free(ls);
    explain_linkset *none = explain_linkset_new(links, 0);
    size_t one[1];
    assert_int_equal(explain_linkset_find(none, keys[0], keys[1], one, 1), 0);
    explain_linkset_free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasoning_signals), cmocka_unit_test(test_reasoning_rare_word),
        cmocka_unit_test(test_fields_split_when_needed),
        cmocka_unit_test(test_links_known),       cmocka_unit_test(test_comment_duplicate),
        cmocka_unit_test(test_comment_related),   cmocka_unit_test(test_comment_pull_request),
        cmocka_unit_test(test_comment_targets),   cmocka_unit_test(test_days_apart),
    };
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_value_order),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_judge_reasons),
        cmocka_unit_test(test_judge_reasons_each),
        cmocka_unit_test(test_jira_ref),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_linkset_grow),
        cmocka_unit_test(test_find_spelling),
        cmocka_unit_test(test_add_fixed),
        cmocka_unit_test(test_has_ci),
        cmocka_unit_test(test_ref),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_bigram_phrase),
        cmocka_unit_test(test_code_and_title),
        cmocka_unit_test(test_fmt_count),
        cmocka_unit_test(test_linkset_scan),
        cmocka_unit_test(test_memmem_ci),
    };
    int fails = cmocka_run_group_tests_name("explain", tests, setup, teardown);
    fails += cmocka_run_group_tests_name("explain-plain", plain, NULL, NULL);
    return fails;
}
