/* test_eval.c -- the evaluation protocol: metric arithmetic on a hand-made
 * case, the truth CSV, leakage (an answer planted only in the query's
 * links, state and resolution must not be found), the chronological split,
 * determinism, the judgment tallies against a judge set by hand, the judge's
 * training rows and the reports. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "../../../src/eval/eval.h"

#define EPS 1e-9

static void test_metrics_by_hand(void **state)
{
    (void)state;
    /* ranks 1, 3, miss, 12: R@1 1/4, R@5 2/4, R@10 2/4, R@20 3/4,
     * MRR (1 + 1/3 + 0 + 1/12) / 4 = 0.3541666... */
    int ranks[] = {1, 3, 0, 12};
    eval_metrics m;
    eval_metrics_compute(ranks, 4, &m);
    assert_int_equal(m.n, 4);
    assert_true(fabs(m.recall[0] - 0.25) < EPS);
    assert_true(fabs(m.recall[1] - 0.5) < EPS);
    assert_true(fabs(m.recall[2] - 0.5) < EPS);
    assert_true(fabs(m.recall[3] - 0.75) < EPS);
    assert_true(fabs(m.mrr - 0.35416666666666667) < EPS);
    eval_metrics_compute(ranks, 0, &m);
    assert_true(m.n == 0 && m.mrr == 0);
}

static void test_truth_csv(void **state)
{
    (void)state;
    eval_pairs p = {0};
    dp_err err;
    assert_int_equal(eval_truth_load_csv(FIXTURES "/eval/truth.csv", &p, &err), DP_OK);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.a[0], "T-4");
    assert_string_equal(p.b[0], "T-2");
    assert_string_equal(p.a[1], "T-7");   /* spaces trimmed */
    assert_string_equal(p.b[1], "T-4");
    assert_string_equal(p.a[2], "T-9");
    eval_pairs_free(&p);
    assert_int_equal(eval_truth_load_csv(FIXTURES "/eval/bad_header.csv", &p, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "duplicate_of"));
    eval_pairs_free(&p);
}

/* ---- synthetic repositories ------------------------------------------- */

typedef struct repo {
    item_vec items;
    link_vec links;
} repo;

static item *add(repo *r, const char *title, const char *body, int day)
{
    item *it = item_vec_push(&r->items);
    item_init(it);
    it->key = xasprintf("T-%zu", r->items.n);
    it->number = (int64_t)r->items.n;
    it->title = xstrdup(title);
    it->body = xstrdup(body);
    it->state = xstrdup("open");
    it->created_at = 1600000000 + (int64_t)day * 86400;
    return it;
}

static void add_link(repo *r, const char *a, const char *b, link_type t, const char *src)
{
    item_link *l = link_vec_push(&r->links);
    l->src_key = xstrdup(a);
    l->dst_key = xstrdup(b);
    l->type = t;
    l->source = xstrdup(src);
}

static void repo_free(repo *r)
{
    item_vec_free(&r->items);
    link_vec_free(&r->links);
}

static eval_data data_of(repo *r)
{
    eval_data d = {.name = "t", .items = r->items.v, .nitems = r->items.n,
                   .links = r->links.v, .nlinks = r->links.n};
    return d;
}

/* A model that trusts the leak-prone features only: if a link of the query
 * reached a feature, the planted answer would come first. */
static void leaky_model(match_model *m)
{
    match_model_copy(m, match_model_default());
    memset(m->w, 0, sizeof m->w);
    for (int f = 0; f < FEAT_COUNT; f++) m->mean[f] = 0, m->scale[f] = 1;
    m->w[FEAT_CROSSREF] = 100;
    m->w[FEAT_POPULARITY] = 100;
    m->w[FEAT_BM25F] = 1;
}

/* T-1 is the answer: it shares one weak word with the query; three
 * distractors share much more. The answer is planted only where the query
 * must not be seen: a related link and the duplicate link itself (the
 * ground truth), its closed state and "Duplicate" resolution. */
static void leakage_repo(repo *r)
{
    memset(r, 0, sizeof *r);
    add(r, "scheduler stalls sometimes", "the planner seems slow", 0);                 /* T-1 answer */
    add(r, "websocket reconnect loop on timeout", "client reconnect loop websocket", 1); /* T-2 */
    add(r, "websocket timeout on reconnect", "reconnect websocket timeout loop", 2);     /* T-3 */
    add(r, "reconnect loop after websocket timeout", "loop websocket", 3);               /* T-4 */
    item *q = add(r, "websocket reconnect loop timeout", "reconnect websocket loop, slow", 4); /* T-5 */
    free(q->state);
    q->state = xstrdup("closed");
    q->state_reason = xstrdup("Duplicate");
    q->closed_at = q->created_at + 86400;
    add_link(r, "T-5", "T-1", LINK_DUPLICATE, "jira:Duplicate");
    add_link(r, "T-5", "T-1", LINK_RELATED, "jira:Reference");
    add_link(r, "T-1", "T-5", LINK_RELATED, "jira:Reference");
}

static void test_leakage(void **state)
{
    (void)state;
    repo r;
    leakage_repo(&r);
    eval_data d = data_of(&r);
    match_model m;
    leaky_model(&m);
    eval_opts o;
    eval_opts_default(&o);
    o.split = 0;
    o.model = &m;
    o.threads = 2;
    eval_result res;
    dp_err err;
    assert_int_equal(eval_run(&d, &o, &res, &err), DP_OK);
    assert_int_equal(res.nqueries, 1);
    assert_int_equal(res.nq, 1);
    assert_string_equal(res.q[0].key, "T-5");
    assert_true(res.q[0].rank != 1);          /* the planted links did not help */
    assert_true(res.learned.recall[0] == 0);
    eval_result_free(&res);

    /* Control: outside the protocol (asof off, as analyze runs) the same
     * model does use the links -- so the assertion above can fail. */
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dindex *ix;
    assert_int_equal(index_build(d.items, d.nitems, &p, &ix, &err), DP_OK);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, &m, d.links, d.nlinks);
    match_query mq;
    match_query_from_doc(&ctx, 4, &mq);
    match_hit h[4];
    size_t n = match_rank_query(&ctx, &mq, 0, 4, 4, h);
    assert_true(n >= 1);
    assert_int_equal(h[0].doc, 0);
    match_query_free(&mq);
    match_ctx_free(&ctx);
    index_free(ix);
    match_model_free(&m);
    repo_free(&r);
}

/* Ten duplicate pairs, one per "topic", filed over time. */
static void topics_repo(repo *r)
{
    static const char *w[] = {"kafka", "zookeeper", "parquet", "orc", "thrift",
                              "avro", "yarn", "hdfs", "kerberos", "jdbc"};
    memset(r, 0, sizeof *r);
    for (int t = 0; t < 10; t++) {
        char a[128], b[128];
        snprintf(a, sizeof a, "%s connector crashes on start", w[t]);
        snprintf(b, sizeof b, "%s crash when the connector starts", w[t]);
        add(r, a, "stack trace attached", t * 10);
        add(r, "unrelated cleanup of build scripts", "misc", t * 10 + 1);
        add(r, b, "crash again", t * 10 + 2);
        char qa[16], qb[16];
        snprintf(qa, sizeof qa, "T-%zu", r->items.n);
        snprintf(qb, sizeof qb, "T-%zu", r->items.n - 2);
        add_link(r, qa, qb, LINK_DUPLICATE, "jira:Duplicate");
    }
}

static void test_split_and_determinism(void **state)
{
    (void)state;
    repo r;
    topics_repo(&r);
    eval_data d = data_of(&r);
    eval_opts o;
    eval_opts_default(&o);
    o.split = 0.7;
    o.threads = 3;
    eval_result a, b;
    dp_err err;
    assert_int_equal(eval_run(&d, &o, &a, &err), DP_OK);
    assert_int_equal(a.nqueries, 10);
    assert_int_equal(a.ntrain, 7);
    assert_int_equal(a.nq, 3);
    /* test queries are the newest, in order, all after the split time */
    for (size_t i = 0; i < a.nq; i++) {
        assert_true(a.q[i].created_at >= a.split_time);
        if (i) assert_true(a.q[i].created_at > a.q[i - 1].created_at);
    }
    assert_string_equal(a.q[0].key, "T-24");
    assert_true(a.learned.recall[0] == 1.0);   /* easy data */
    assert_int_equal(a.base.n, 3);
    o.threads = 1;
    assert_int_equal(eval_run(&d, &o, &b, &err), DP_OK);
    assert_true(a.learned.mrr == b.learned.mrr && a.base.mrr == b.base.mrr);
    for (size_t i = 0; i < a.nq; i++) {
        assert_int_equal(a.q[i].rank, b.q[i].rank);
    }
    assert_true(memcmp(&a.judgment.confusion, &b.judgment.confusion, sizeof a.judgment.confusion) == 0);
    /* a truth file replaces the links: only T-24 -> T-22 */
    eval_pairs t = {0};
    eval_pairs_add(&t, "T-24", "T-22");
    d.truth = &t;
    o.split = 0;
    eval_result c;
    assert_int_equal(eval_run(&d, &o, &c, &err), DP_OK);
    assert_int_equal(c.nqueries, 1);
    assert_int_equal(c.nq, 1);
    eval_result_free(&c);
    eval_pairs_free(&t);

    /* window: candidates at most 1 day older -> every answer is out */
    d.truth = NULL;
    o.window_days = 1;
    assert_int_equal(eval_run(&d, &o, &c, &err), DP_OK);
    assert_int_equal(c.nqueries, 0);
    assert_int_equal(c.out_of_window, 10);
    eval_result_free(&c);

    eval_result_free(&a);
    eval_result_free(&b);
    repo_free(&r);
}

/* A judge that reads one feature each: the same title is a duplicate, an
 * opposite action in the titles is related, anything else is nothing --
 * so what is shown is known, and the tallies can be checked by hand. */
static void judge_by_hand(match_model *m)
{
    match_model_copy(m, match_model_default());
    match_judge_model *j = &m->judge;
    memset(j, 0, sizeof *j);
    for (int f = 0; f < JF_COUNT; f++) j->scale[f] = 1;
    j->trained = 1;
    j->link_rate = 1;
    j->w[RELATION_DUPLICATE][JF_TITLE_SAME] = 20;
    j->w[RELATION_RELATED][JF_OPPOSITE] = 20;
    j->b[RELATION_DUPLICATE] = j->b[RELATION_RELATED] = -10;
    for (int r = 0; r < RELATION_COUNT; r++) {
        j->thr_high[r] = 0.8;
        j->thr_medium[r] = 0.6;
    }
}

/* Six pairs with words of their own, each a different case. */
static void judgment_repo(repo *r)
{
    memset(r, 0, sizeof *r);
    add(r, "kafka connector crash", "kafka connector crash", 0);          /* T-1 */
    add(r, "kafka connector crash", "kafka connector crash", 1);          /* T-2 dup of T-1 */
    add(r, "zookeeper session expiry", "zookeeper session", 2);           /* T-3 */
    add(r, "zookeeper session expiry", "zookeeper expiry", 3);            /* T-4 blocks T-3 */
    add(r, "enable parquet vectorized reader", "parquet vectorized", 4);  /* T-5 */
    add(r, "disable parquet vectorized reader", "parquet vectorized", 5); /* T-6 cloned from T-5 */
    add(r, "orc writer stripe", "orc writer stripe", 6);                  /* T-7 */
    add(r, "orc writer stripe size", "orc writer", 7);                    /* T-8 unlinked */
    add(r, "thrift server leak", "thrift server leak", 8);                /* T-9 */
    add(r, "thrift server leak", "thrift leak", 9);                       /* T-10 relates to T-9 */
    add(r, "avro schema evolution", "avro schema", 10);                   /* T-11 */
    add(r, "avro schema evolution", "avro evolution", 11);                /* T-12 unlinked */
    add_link(r, "T-2", "T-1", LINK_DUPLICATE, "jira:Duplicate");
    add_link(r, "T-4", "T-3", LINK_RELATED, "jira:Blocker");
    add_link(r, "T-6", "T-5", LINK_RELATED, "jira:Cloners");
    add_link(r, "T-10", "T-9", LINK_RELATED, "jira:Reference");
    add_link(r, "T-12", "T-11", LINK_RELATED, "comment");   /* not truth: the tracker types links */
}

static void test_judgment(void **state)
{
    (void)state;
    repo r;
    judgment_repo(&r);
    eval_data d = data_of(&r);
    match_model m;
    judge_by_hand(&m);
    eval_opts o;
    eval_opts_default(&o);
    o.split = 0;
    o.model = &m;
    o.threads = 2;
    eval_result res;
    dp_err err;
    assert_int_equal(eval_run(&d, &o, &res, &err), DP_OK);
    const eval_judgment *j = &res.judgment;
    const int D = RELATION_DUPLICATE, R = RELATION_RELATED, N = RELATION_NONE, H = EVAL_HIGH;
    assert_int_equal(j->queries, 11);   /* every item with something before it */
    assert_int_equal(j->pairs, 6);      /* each finds only its partner */
    /* shown duplicate . high: T-2 (duplicate), T-4 (Blocker), T-10
     * (Relates, left out) and T-12 (unlinked) */
    assert_int_equal(j->shown[D][H], 4);
    assert_int_equal(j->linked[D][H], 2);
    assert_int_equal(j->correct[D][H], 1);
    assert_int_equal(j->relates[D][H], 1);
    /* related . high: T-6, a clone -- right */
    assert_int_equal(j->shown[R][H], 1);
    assert_int_equal(j->linked_ii[H], 1);
    assert_int_equal(j->correct_ii[H], 1);
    /* not related . high: T-8, unlinked */
    assert_int_equal(j->shown[N][H], 1);
    assert_int_equal(j->correct_all_none[H], 1);
    /* confusion [truth][shown], Relates out */
    assert_int_equal(j->confusion[D][D], 1);
    assert_int_equal(j->confusion[R][D], 1);
    assert_int_equal(j->confusion[R][R], 1);
    assert_int_equal(j->confusion[N][N], 1);
    assert_int_equal(j->confusion[N][D], 1);
    /* recall: one query with a duplicate (caught), two with a distinct
     * relation (T-4 shown as a duplicate, T-6 caught) */
    assert_int_equal(j->dup_queries, 1);
    assert_int_equal(j->dup_caught[H], 1);
    assert_int_equal(j->rel_queries, 2);
    assert_int_equal(j->rel_caught[H], 1);
    /* the queue: four pairs shown as duplicates, one linked as such */
    assert_int_equal(j->queue_n[0], 4);
    assert_true(fabs(j->queue_at[0] - 0.25) < EPS);
    /* the unlinked duplicate is listed for the report */
    assert_int_equal(j->nunlinked, 1);
    assert_string_equal(j->unlinked[0].query, "T-12");
    /* the JSON keys readers rely on, with the numbers above */
    char *js = eval_report_json(&res);
    json_error_t jerr;
    json_t *o2 = json_loads(js, 0, &jerr);
    assert_non_null(o2);
    json_t *jj = json_object_get(o2, "judgment");
    assert_true(fabs(json_real_value(json_object_get(jj, "duplicate_high_precision")) - 0.5) < EPS);
    assert_true(fabs(json_real_value(json_object_get(jj, "duplicate_high_recall")) - 1.0) < EPS);
    assert_true(fabs(json_real_value(json_object_get(jj, "duplicate_high_precision_all")) - 0.25) < EPS);
    assert_true(fabs(json_real_value(json_object_get(jj, "related_high_precision")) - 1.0) < EPS);
    assert_true(fabs(json_real_value(json_object_get(jj, "related_high_recall")) - 0.5) < EPS);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(jj, "relates"), "duplicate"), "high")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(jj, "confusion"), "related"), "duplicate")), 1);
    json_t *q = json_object_get(o2, "queue");
    assert_true(fabs(json_real_value(json_object_get(q, "precision_at_20")) - 0.25) < EPS);
    assert_non_null(json_object_get(q, "precision_at_50"));
    assert_non_null(json_object_get(q, "precision_at_100"));
    json_decref(o2);
    free(js);
    eval_result_free(&res);
    match_model_free(&m);
    repo_free(&r);
}

/* Training rows: the queries whose truth links record, their pairs
 * labelled by it; an item closed as a duplicate without a link leaves its
 * pairs out; the tracker's link rate counts it. */
static void test_judgeset(void **state)
{
    (void)state;
    repo r;
    judgment_repo(&r);
    item *orphan = &r.items.v[7];   /* T-8: closed as a duplicate, no link */
    free(orphan->state);
    orphan->state = xstrdup("closed");
    orphan->state_reason = xstrdup("Duplicate");
    eval_data d = data_of(&r);
    eval_opts o;
    eval_opts_default(&o);
    o.threads = 1;
    match_judgeset js = {0};
    dp_err err;
    assert_int_equal(eval_collect_judgeset(&d, &o, match_model_default(), &js, &err), DP_OK);
    /* triaged queries: T-2, T-4, T-6, T-10 (T-12's link is not truth) */
    assert_int_equal(js.n, 4);
    int seen[RELATION_COUNT + 1] = {0};
    for (size_t i = 0; i < js.n; i++) seen[js.label[i]]++;
    assert_int_equal(seen[RELATION_DUPLICATE], 1);
    assert_int_equal(seen[RELATION_RELATED], 2);
    assert_int_equal(seen[MATCH_LABEL_RELATES], 1);
    assert_int_equal(js.dup_closed, 1);
    assert_int_equal(js.dup_closed_linked, 0);
    match_judgeset_free(&js);
    repo_free(&r);
}

static void test_reports(void **state)
{
    (void)state;
    repo r;
    topics_repo(&r);
    free(r.items.v[0].title);
    r.items.v[0].title = xstrdup("<script>alert(1)</script> & co");
    eval_data d = data_of(&r);
    eval_opts o;
    eval_opts_default(&o);
    o.split = 0;
    eval_result res;
    dp_err err;
    assert_int_equal(eval_run(&d, &o, &res, &err), DP_OK);
    res.q[0].rank = 0;   /* force a miss so the table has a row with that title */
    char path[] = "/tmp/doppel-eval-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(eval_report_html(&res, path, &err), DP_OK);
    char *html;
    size_t len;
    assert_int_equal(dp_read_file(path, &html, &len, &err), DP_OK);
    unlink(path);
    assert_true(!strncmp(html, "<!DOCTYPE html>", 15));
    assert_non_null(strstr(html, "<svg"));
    assert_non_null(strstr(html, "<polyline"));
    assert_non_null(strstr(html, "</html>"));
    assert_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "&lt;script&gt;"));
    /* tags balance */
    const char *tags[] = {"table", "svg", "tr", "figure"};
    for (size_t t = 0; t < 4; t++) {
        char open[16], close_[16];
        snprintf(open, sizeof open, "<%s", tags[t]);
        snprintf(close_, sizeof close_, "</%s>", tags[t]);
        size_t no = 0, nc = 0;
        for (const char *p = html; (p = strstr(p, open)); p++)
            if (p[strlen(open)] == '>' || p[strlen(open)] == ' ') no++;
        for (const char *p = html; (p = strstr(p, close_)); p++) nc++;
        assert_int_equal(no, nc);
    }
    free(html);
    char *js = eval_report_json(&res);
    assert_non_null(strstr(js, "\"recall@10\""));
    assert_non_null(strstr(js, "\"baseline\""));
    free(js);
    eval_result_free(&res);
    repo_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_by_hand),
        cmocka_unit_test(test_truth_csv),
        cmocka_unit_test(test_leakage),
        cmocka_unit_test(test_split_and_determinism),
        cmocka_unit_test(test_judgment),
        cmocka_unit_test(test_judgeset),
        cmocka_unit_test(test_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
