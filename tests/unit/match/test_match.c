/* test_match.c -- the ranker's model and the judge: text round trip, the
 * judge's decisions and probabilities, top features, training of both
 * (learns a planted signal, deterministic) and ranking on a tiny index. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/match/match.h"
#include "../../../src/match/match_int.h"

static void test_feature_names(void **state)
{
    (void)state;
    for (int f = 0; f < FEAT_COUNT; f++) {
        assert_string_not_equal(match_feature_name((match_feature)f), "?");
        assert_int_equal(match_feature_find(match_feature_name((match_feature)f)), f);
    }
    assert_int_equal(match_feature_find("nope"), -1);
}

static void test_text_round_trip(void **state)
{
    (void)state;
    match_model m;
    match_model_copy(&m, match_model_default());
    for (int f = 0; f < FEAT_COUNT; f++) {
        m.mean[f] = 0.1 * f;
        m.scale[f] = 1.0 + f;
        m.w[f] = -0.3 * f + 0.123456789012345;
    }
    m.platt_a = -2.5;
    m.platt_b = 1.25;
    m.thr_high = 0.87;
    m.thr_medium = 0.4;
    m.judge.trained = 1;
    m.judge.link_rate = 0.61;
    m.judge.b[RELATION_RELATED] = -1.5;
    m.judge.b[RELATION_DUPLICATE] = -2.25;
    for (int r = 0; r < RELATION_COUNT; r++) {
        m.judge.thr_high[r] = 0.8 + 0.01 * r;
        m.judge.thr_medium[r] = 0.6 + 0.01 * r;
    }
    for (int f = 0; f < JF_COUNT; f++) {
        m.judge.mean[f] = 0.01 * f;
        m.judge.scale[f] = 2.0 + f;
        m.judge.w[RELATION_RELATED][f] = 0.5 - 0.1 * f;
        m.judge.w[RELATION_DUPLICATE][f] = -0.25 + 0.07 * f;
    }
    free(m.trained_on);
    m.trained_on = xstrdup("HIVE (354)\nsecond line");
    m.trained_at = 1700000000;
    m.ntrain = 354;
    char *text = match_model_to_text(&m);
    match_model back;
    dp_err err;
    assert_int_equal(match_model_from_text(text, &back, &err), DP_OK);
    for (int f = 0; f < FEAT_COUNT; f++) {
        assert_true(back.mean[f] == m.mean[f]);
        assert_true(back.scale[f] == m.scale[f]);
        assert_true(back.w[f] == m.w[f]);
    }
    assert_true(back.platt_a == m.platt_a && back.platt_b == m.platt_b);
    assert_true(back.thr_high == m.thr_high && back.thr_medium == m.thr_medium);
    assert_true(back.judge.trained && back.judge.link_rate == m.judge.link_rate);
    assert_true(memcmp(back.judge.b, m.judge.b, sizeof m.judge.b) == 0);
    assert_true(memcmp(back.judge.thr_high, m.judge.thr_high, sizeof m.judge.thr_high) == 0);
    assert_true(memcmp(back.judge.thr_medium, m.judge.thr_medium, sizeof m.judge.thr_medium) == 0);
    assert_true(memcmp(back.judge.w, m.judge.w, sizeof m.judge.w) == 0);
    assert_true(memcmp(back.judge.mean, m.judge.mean, sizeof m.judge.mean) == 0);
    assert_true(memcmp(back.judge.scale, m.judge.scale, sizeof m.judge.scale) == 0);
    assert_string_equal(back.trained_on, "HIVE (354) second line");
    assert_int_equal(back.trained_at, 1700000000);
    assert_int_equal(back.ntrain, 354);
    free(text);
    match_model_free(&back);
    match_model_free(&m);
}

static void test_text_errors(void **state)
{
    (void)state;
    match_model m;
    dp_err err;
    assert_int_equal(match_model_from_text("hello\n", &m, &err), DP_ERR);
    assert_int_equal(match_model_from_text("doppel-model 1\nbias x\n", &m, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(match_model_from_text("doppel-model 1\nfeature bm25f 0 0 1\n", &m, &err), DP_ERR);
    /* unknown features and keys are skipped: models survive feature changes */
    assert_int_equal(match_model_from_text("doppel-model 1\nfeature gone 0 1 5\nfuture 3\n"
                                           "feature bm25f 0 2 3\n", &m, &err), DP_OK);
    assert_true(m.w[FEAT_BM25F] == 3 && m.scale[FEAT_BM25F] == 2);
    match_model_free(&m);
}

/* The built-in model with a trained judge whose cuts are 0.8 (high) and
 * 0.6 (medium) for every relation: what the decision tests decide with. */
static void decide_model(match_model *m)
{
    match_model_copy(m, match_model_default());
    m->judge.trained = 1;
    for (int r = 0; r < RELATION_COUNT; r++) {
        m->judge.thr_high[r] = 0.8;
        m->judge.thr_medium[r] = 0.6;
    }
}

/* The same failure (MATCH_SAME_FAILURE_*): three rare frames or one rare
 * error line in common keep a pair the wording calls unrelated from "not
 * related"; the relation stays the model's call, the probability shown is
 * the floor times its share; pairs the model already relates are as before. */
static void test_decide_same_failure(void **state)
{
    (void)state;
    match_model m;
    decide_model(&m);
    double jf[JF_COUNT] = {0};
    jf[JF_KIND_SAME] = 1;
    double q[RELATION_COUNT] = {[RELATION_NONE] = 0.9, [RELATION_RELATED] = 0.025, [RELATION_DUPLICATE] = 0.075};
    match_judgment jd;
    jf[JF_RARE_FRAMES] = MATCH_SAME_FAILURE_FRAMES - 1;   /* two rare frames: not enough */
    match_judge_decide(&m, jf, q, &jd);
    assert_int_equal(jd.relation, RELATION_NONE);
    assert_false(jd.same_failure || jd.failure_lifted);
    jf[JF_RARE_FRAMES] = MATCH_SAME_FAILURE_FRAMES;
    match_judge_decide(&m, jf, q, &jd);
    assert_true(jd.same_failure && jd.failure_lifted);
    assert_int_equal(jd.relation, RELATION_DUPLICATE);   /* 0.075 of 0.1 */
    assert_true(fabs(jd.p_any - MATCH_SAME_FAILURE_ANY) < 1e-12);
    assert_true(fabs(jd.p_shown - MATCH_SAME_FAILURE_ANY * 0.75) < 1e-12);
    assert_int_equal(jd.confidence, CONFIDENCE_LOW);
    jf[JF_RARE_FRAMES] = 0;   /* one rare error line is enough */
    jf[JF_RARE_ERRORS] = 1;
    jf[JF_CAND_FIXED_BEFORE] = 1;   /* ... and a regression stays related, certain given the floor */
    jf[JF_FIX_AGE] = log1p(400);
    match_judge_decide(&m, jf, q, &jd);
    assert_true(jd.failure_lifted && jd.regression);
    assert_int_equal(jd.relation, RELATION_RELATED);
    assert_true(fabs(jd.p_shown - MATCH_SAME_FAILURE_ANY) < 1e-12);
    assert_int_equal(jd.confidence, CONFIDENCE_MEDIUM);
    /* the model relates them already: no floor, the numbers of any pair */
    double p[RELATION_COUNT] = {[RELATION_NONE] = 0.02, [RELATION_RELATED] = 0.08, [RELATION_DUPLICATE] = 0.90};
    jf[JF_CAND_FIXED_BEFORE] = 0;
    jf[JF_FIX_AGE] = 0;
    match_judge_decide(&m, jf, p, &jd);
    assert_true(jd.same_failure && !jd.failure_lifted);
    assert_true(fabs(jd.p_shown - 0.90 / 0.98) < 1e-12);
    assert_int_equal(jd.confidence, CONFIDENCE_HIGH);
    match_model_free(&m);
}

/* An index of items v[0..n) (one thread) and a match context on it, no
 * model and no links; the caller frees both. */
static dindex *ctx_of(const item *v, size_t n, match_ctx *ctx)
{
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dindex *ix;
    dp_err err;
    if (index_build(v, n, &p, &ix, &err) != DP_OK) fail_msg("%s", err.msg);
    match_ctx_init(ctx, ix, NULL, NULL, 0);
    return ix;
}

/* The judge features of (q, c) as analyze computes them. */
static void judge_pair(match_ctx *ctx, uint32_t q, uint32_t c, double jf[JF_COUNT])
{
    match_query mq;
    match_query_from_doc(ctx, q, &mq);
    match_judge_query jq;
    match_judge_prepare(ctx, &mq, &jq);
    match_hit h;
    memset(&h, 0, sizeof h);
    h.doc = c;
    match_judge_features(ctx, &mq, &jq, &h, 1, jf);
    match_judge_query_free(&jq);
    match_query_free(&mq);
}

/* The same-failure features count frames and error lines both items show
 * that at most MATCH_RARE_SIGNAL_MIN_DF items of this small corpus show. */
static void test_same_failure_features(void **state)
{
    (void)state;
    enum { N = 12 };
    item *v = xcalloc(N, sizeof *v);
    for (size_t i = 0; i < N; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("F-%zu", i + 1);
        v[i].number = (int64_t)i + 1;
        v[i].created_at = 1600000000 + (int64_t)i * 3600;
        sbuf b;
        sb_init(&b);
        sb_printf(&b, "Report %zu.\n```\n", i);
        if (i < 2)   /* one crash, three rare frames */
            sb_adds(&b, "java.lang.IllegalStateException: closed\n\tat org.demo.Pool.release(Pool.java:142)\n"
                        "\tat org.demo.Request.cleanup(Request.java:311)\n\tat org.demo.Conn.close(Conn.java:203)\n");
        if (i < 8)   /* a frame most traces show */
            sb_adds(&b, "\tat java.lang.Thread.run(Thread.java:750)\n\tat org.demo.Main.loop(Main.java:9)\n"
                        "\tat org.demo.Main.start(Main.java:3)\n");
        if (i >= 10)
            sb_adds(&b, "th-get: th_request_perform: protocol error (TH_EPROTO): malformed chunk size\n");
        sb_adds(&b, "```\n");
        v[i].title = xasprintf("Problem number %zu", i);
        v[i].body = sb_take(&b);
    }
    match_ctx ctx;
    dindex *ix = ctx_of(v, N, &ctx);
    double jf[JF_COUNT];
    judge_pair(&ctx, 1, 0, jf);   /* three rare frames, three common ones */
    assert_true(jf[JF_RARE_FRAMES] == 3);
    assert_true(jf[JF_RARE_ERRORS] == 1);   /* the exception's line too */
    judge_pair(&ctx, 3, 2, jf);   /* only the common frames */
    assert_true(jf[JF_RARE_FRAMES] == 0 && jf[JF_RARE_ERRORS] == 0);
    judge_pair(&ctx, 11, 10, jf);   /* one rare error line */
    assert_true(jf[JF_RARE_ERRORS] == 1 && jf[JF_RARE_FRAMES] == 0);
    match_ctx_free(&ctx);
    index_free(ix);
    for (size_t i = 0; i < N; i++) item_free(&v[i]);
    free(v);
}

/* Strings of a (the first 64) that b shows too and at most max_df items
 * show: the same-failure count read off the strings, with no memo. */
static double rare_shared_ref(const dindex *ix, text_tokenizer *tk, const strvec *a, const strvec *b,
                              uint32_t max_df)
{
    size_t n = 0;
    for (size_t k = 0; k < a->n && k < 64; k++) {
        int in_b = 0;
        for (size_t j = 0; j < b->n && j < 64 && !in_b; j++) in_b = !strcmp(a->v[k], b->v[j]);
        uint32_t df = in_b ? index_text_min_df(ix, tk, a->v[k], strlen(a->v[k])) : 0;
        n += df && df <= max_df;
    }
    return (double)n;
}

/* The same-failure counts of every pair of a corpus where items share
 * frames and error lines in many combinations, from the memos kept in the
 * ctx (a doc's query, read twice: cold then warm), from a query's own
 * memos (the query made from its item), and from the strings directly. */
static void test_same_failure_memos_equal_reference(void **state)
{
    (void)state;
    enum { N = 14, NF = 7 };
    item *v = xcalloc(N, sizeof *v);
    for (size_t i = 0; i < N; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("M-%zu", i + 1);
        v[i].number = (int64_t)i + 1;
        v[i].created_at = 1600000000 + (int64_t)i * 3600;
        sbuf b;
        sb_init(&b);
        sb_printf(&b, "Crash %zu.\n```\njava.lang.IllegalStateException: state %zu\n", i, i % 3);
        for (size_t f = 0; f < NF; f++)   /* frame f in the items whose bit f (of i * 5 + 3) is set */
            if (((i * 5 + 3) >> (f % 4)) & 1 && (f < 4 || i % (f - 2) == 0))
                sb_printf(&b, "\tat org.demo.Part%zu.run%zu(Part%zu.java:%zu)\n", f, f, f, 10 + f);
        if (i < 5)   /* at the rarity bound, and one item past it */
            sb_adds(&b, "\tat org.demo.Edge.five(Edge.java:5)\n");
        if (i >= 8)
            sb_adds(&b, "\tat org.demo.Edge.six(Edge.java:6)\n");
        if (i % 4 == 1) sb_adds(&b, "fetch: protocol error (EPROTO): malformed chunk size\n");
        sb_adds(&b, "```\n");
        v[i].title = xasprintf("Crash in part %zu", i % 5);
        v[i].body = sb_take(&b);
    }
    match_ctx ctx;
    dindex *ix = ctx_of(v, N, &ctx);
    text_tokenizer *tk = index_tokenizer_new(ix);
    size_t nonzero = 0;
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t q = 0; q < N; q++) {
            const text_signals *qs = index_doc_signals(ix, q);
            match_query mi;
            match_query_from_item(&ctx, tk, index_item(ix, q), &mi);
            match_judge_query ji;
            match_judge_prepare(&ctx, &mi, &ji);
            for (uint32_t c = 0; c < N; c++) {
                if (c == q) continue;
                const text_signals *cs = index_doc_signals(ix, c);
                double rf = rare_shared_ref(ix, tk, &cs->frames, &qs->frames, MATCH_RARE_SIGNAL_MIN_DF);
                double re = rare_shared_ref(ix, tk, &cs->errors, &qs->errors, MATCH_RARE_SIGNAL_MIN_DF);
                double jf[JF_COUNT];
                judge_pair(&ctx, q, c, jf);
                assert_true(jf[JF_RARE_FRAMES] == rf);
                assert_true(jf[JF_RARE_ERRORS] == re);
                match_hit h;
                memset(&h, 0, sizeof h);
                h.doc = c;
                match_judge_features(&ctx, &mi, &ji, &h, 1, jf);
                assert_true(jf[JF_RARE_FRAMES] == rf);
                assert_true(jf[JF_RARE_ERRORS] == re);
                nonzero += rf > 0;
            }
            match_judge_query_free(&ji);
            match_query_free(&mi);
        }
    assert_true(nonzero > N);   /* the corpus does test something */
    text_tokenizer_free(tk);
    match_ctx_free(&ctx);
    index_free(ix);
    for (size_t i = 0; i < N; i++) item_free(&v[i]);
    free(v);
}

/* The judge's decision: related at all first, then which relation, with
 * the two policies (issue/pull request, possible regression). */
static void test_decide_and_top(void **state)
{
    (void)state;
    match_model m;
    decide_model(&m);
    double jf[JF_COUNT] = {0};
    jf[JF_KIND_SAME] = 1;
    double p[RELATION_COUNT] = {[RELATION_NONE] = 0.02, [RELATION_RELATED] = 0.08, [RELATION_DUPLICATE] = 0.90};
    match_judgment jd;
    match_judge_decide(&m, jf, p, &jd);
    assert_int_equal(jd.relation, RELATION_DUPLICATE);
    assert_true(fabs(jd.p_shown - 0.90 / 0.98) < 1e-12);   /* given related at all */
    assert_int_equal(jd.confidence, CONFIDENCE_HIGH);
    jf[JF_KIND_SAME] = 0;   /* an issue and a pull request */
    match_judge_decide(&m, jf, p, &jd);
    assert_int_equal(jd.relation, RELATION_RELATED);
    assert_true(jd.pr_pair && jd.p_shown == 1.0);
    jf[JF_KIND_SAME] = 1;   /* fixed 400 days before the report */
    jf[JF_CAND_FIXED_BEFORE] = 1;
    jf[JF_FIX_AGE] = log1p(400);
    match_judge_decide(&m, jf, p, &jd);
    assert_int_equal(jd.relation, RELATION_RELATED);
    assert_true(jd.regression);
    jf[JF_FIX_AGE] = log1p(30);   /* ... 30 days before: not yet */
    match_judge_decide(&m, jf, p, &jd);
    assert_int_equal(jd.relation, RELATION_DUPLICATE);
    jf[JF_LATER_VERSION] = 1;     /* ... unless it names a later version */
    match_judge_decide(&m, jf, p, &jd);
    assert_int_equal(jd.relation, RELATION_RELATED);
    memset(jf, 0, sizeof jf);
    jf[JF_KIND_SAME] = 1;
    double q[RELATION_COUNT] = {[RELATION_NONE] = 0.7, [RELATION_RELATED] = 0.2, [RELATION_DUPLICATE] = 0.1};
    match_judge_decide(&m, jf, q, &jd);
    assert_int_equal(jd.relation, RELATION_NONE);
    assert_true(fabs(jd.p_shown - 0.7) < 1e-12);
    assert_int_equal(jd.confidence, CONFIDENCE_MEDIUM);
    double r[RELATION_COUNT] = {[RELATION_NONE] = 0.3, [RELATION_RELATED] = 0.49, [RELATION_DUPLICATE] = 0.21};
    match_judge_decide(&m, jf, r, &jd);
    assert_int_equal(jd.relation, RELATION_RELATED);
    assert_true(fabs(jd.p_shown - 0.7) < 1e-12);
    /* one person's reports of one day under titles that read apart: a
     * series, related; the same text within ten minutes: a double post,
     * a duplicate whatever the model or the new title says */
    jf[JF_AUTHOR_1DAY] = 1;
    jf[JF_TITLE_COSINE] = 0.2;
    jf[JF_COSINE] = 0.6;
    match_judge_decide(&m, jf, p, &jd);
    assert_true(jd.series && !jd.double_post);
    assert_int_equal(jd.relation, RELATION_RELATED);
    jf[JF_AUTHOR_10MIN] = 1;
    jf[JF_COSINE] = 0.97;
    match_judge_decide(&m, jf, q, &jd);
    assert_true(jd.double_post && !jd.series);
    assert_int_equal(jd.relation, RELATION_DUPLICATE);
    assert_int_equal(jd.confidence, CONFIDENCE_HIGH);
    jf[JF_KIND_SAME] = 0;   /* never between an issue and a pull request */
    match_judge_decide(&m, jf, q, &jd);
    assert_false(jd.double_post);
    memset(jf, 0, sizeof jf);
    jf[JF_KIND_SAME] = 1;
    /* probabilities: the softmax, with "related at all" divided by the link
     * rate (unlinked relations are common) */
    memset(&m.judge, 0, sizeof m.judge);
    m.judge.trained = 1;
    for (int f = 0; f < JF_COUNT; f++) m.judge.scale[f] = 1;
    m.judge.b[RELATION_DUPLICATE] = log(0.2 / 0.7);
    m.judge.b[RELATION_RELATED] = log(0.1 / 0.7);
    m.judge.link_rate = 1;
    double s[RELATION_COUNT];
    match_judge_probs(&m, jf, s);
    assert_true(fabs(s[RELATION_DUPLICATE] - 0.2) < 1e-12 && fabs(s[RELATION_RELATED] - 0.1) < 1e-12);
    m.judge.link_rate = 0.5;
    match_judge_probs(&m, jf, s);
    assert_true(fabs(s[RELATION_DUPLICATE] - 0.4) < 1e-12 && fabs(s[RELATION_RELATED] - 0.2) < 1e-12);
    assert_true(fabs(s[RELATION_NONE] - 0.4) < 1e-12);
    m.judge.link_rate = 0.1;   /* clamped: at most twice */
    assert_true(match_judge_link_rate(&m.judge) == MATCH_LINK_RATE_MIN);
    memset(m.w, 0, sizeof m.w);
    for (int f = 0; f < FEAT_COUNT; f++) m.mean[f] = 0, m.scale[f] = 1;
    m.w[FEAT_TITLE_OVERLAP] = 1;
    m.w[FEAT_EXCEPTION] = 2;
    m.w[FEAT_TIME_GAP] = -1;
    double x[FEAT_COUNT] = {0};
    x[FEAT_TITLE_OVERLAP] = 0.5;   /* contributes 0.5 */
    x[FEAT_EXCEPTION] = 1.0;       /* contributes 2 */
    x[FEAT_TIME_GAP] = 3;          /* contributes -3: never a reason */
    match_feature top[4];
    size_t n = match_top_features(&m, x, top, 4);
    assert_int_equal(n, 2);
    assert_int_equal(top[0], FEAT_EXCEPTION);
    assert_int_equal(top[1], FEAT_TITLE_OVERLAP);
    assert_true(fabs(match_score(&m, x) - (0.5 + 2 - 3)) < 1e-12);
    match_model_free(&m);
}

/* A training set where only FEAT_EXCEPTION separates true from false
 * (others are noise from a fixed LCG): training must find it. */
static void planted_set(match_trainset *ts)
{
    uint32_t s = 12345;
    for (int q = 0; q < 120; q++) {
        match_hit h[20];
        unsigned char lab[20];
        memset(h, 0, sizeof h);
        for (int i = 0; i < 20; i++) {
            for (int f = 0; f < FEAT_COUNT; f++) {
                s = s * 1103515245u + 12345u;
                h[i].feat[f] = (double)(s >> 8) / (double)(1u << 24);
            }
            lab[i] = i == (q % 20);
            h[i].feat[FEAT_EXCEPTION] = lab[i] ? 1.0 + h[i].feat[FEAT_EXCEPTION] : h[i].feat[FEAT_EXCEPTION];
        }
        match_trainset_add(ts, 1000 + q, h, lab, 20);
    }
}

static void test_train_learns_and_is_deterministic(void **state)
{
    (void)state;
    match_trainset ts = {0};
    planted_set(&ts);
    assert_int_equal(ts.nq, 120);
    assert_int_equal(ts.nrows, 2400);
    match_model a, b;
    dp_err err;
    assert_int_equal(match_train(&ts, NULL, &a, &err), DP_OK);
    assert_int_equal(match_train(&ts, NULL, &b, &err), DP_OK);
    for (int f = 0; f < FEAT_COUNT; f++) {
        assert_true(a.w[f] == b.w[f]);          /* bit-identical */
        if (f != FEAT_EXCEPTION) assert_true(fabs(a.w[f]) < a.w[FEAT_EXCEPTION]);
    }
    assert_true(a.platt_a == b.platt_a && a.thr_high == b.thr_high);
    assert_true(a.w[FEAT_EXCEPTION] > 1.0);
    /* calibrated: a true pair is likely, a false one is not */
    double pos[FEAT_COUNT], neg[FEAT_COUNT];
    for (int f = 0; f < FEAT_COUNT; f++) pos[f] = neg[f] = 0.5;
    pos[FEAT_EXCEPTION] = 1.5;
    double sp = match_score(&a, pos), sn = match_score(&a, neg);
    assert_true(match_prob_margin(&a, sp, sp - sn) > 0.8);   /* a clear winner */
    assert_true(match_prob_margin(&a, sn, sn - sp) < 0.2);
    assert_int_equal(a.ntrain, 120);
    match_model_free(&a);
    match_model_free(&b);
    match_trainset_free(&ts);
}

/* No-duplicate queries look like the planted set's pools without the
 * true row: they must not move the weights, and weighing them as the
 * majority of a tracker must lower the probability of a winner. */
static void add_negatives(match_trainset *ts, int n, double weight)
{
    uint32_t s = 999;
    for (int q = 0; q < n; q++) {
        match_hit h[20];
        memset(h, 0, sizeof h);
        for (int i = 0; i < 20; i++)
            for (int f = 0; f < FEAT_COUNT; f++) {
                s = s * 1103515245u + 12345u;
                h[i].feat[f] = (double)(s >> 8) / (double)(1u << 24);
            }
        /* one decoy per pool looks half like a duplicate */
        h[q % 20].feat[FEAT_EXCEPTION] += 0.6;
        match_trainset_add_query(ts, 500 + q, h, NULL, 20, 0, weight);
    }
}

static void test_train_base_rate(void **state)
{
    (void)state;
    match_trainset known = {0}, mixed = {0};
    planted_set(&known);
    planted_set(&mixed);
    add_negatives(&mixed, 60, 20.0);   /* 1200 issues without a duplicate vs 120 */
    assert_int_equal(mixed.nq, 180);
    assert_true(mixed.qdup[0] == 1 && mixed.qdup[179] == 0 && mixed.qweight[179] == 20.0);
    match_model a, b;
    dp_err err;
    assert_int_equal(match_train(&known, NULL, &a, &err), DP_OK);
    assert_int_equal(match_train(&mixed, NULL, &b, &err), DP_OK);
    for (int f = 0; f < FEAT_COUNT; f++) assert_true(a.w[f] == b.w[f]);   /* weights: known only */
    assert_int_equal(b.ntrain, 120);
    double pos[FEAT_COUNT], neg[FEAT_COUNT];
    for (int f = 0; f < FEAT_COUNT; f++) pos[f] = neg[f] = 0.5;
    pos[FEAT_EXCEPTION] = 1.2;   /* a modest winner */
    double sp = match_score(&a, pos), sn = match_score(&a, neg);
    double pa = match_prob_margin(&a, sp, sp - sn), pb = match_prob_margin(&b, sp, sp - sn);
    assert_true(pb < pa);   /* rarer duplicates: the same pair is less likely one */
    assert_true(b.thr_medium <= b.thr_high);
    /* append keeps the kind and weight of every query */
    match_trainset copy = {0};
    match_trainset_append(&copy, &mixed);
    assert_int_equal(copy.nq, mixed.nq);
    assert_true(copy.qdup[179] == 0 && copy.qweight[179] == 20.0 && copy.qdup[0] == 1);
    match_model c;
    assert_int_equal(match_train(&copy, NULL, &c, &err), DP_OK);
    assert_true(c.platt_a == b.platt_a && c.thr_high == b.thr_high);   /* deterministic */
    match_model_free(&a);
    match_model_free(&b);
    match_model_free(&c);
    match_trainset_free(&known);
    match_trainset_free(&mixed);
    match_trainset_free(&copy);
}

static void test_train_too_small(void **state)
{
    (void)state;
    match_trainset ts = {0};
    match_hit h[2];
    memset(h, 0, sizeof h);
    unsigned char lab[2] = {1, 0};
    match_trainset_add(&ts, 1, h, lab, 2);
    match_model m;
    dp_err err;
    assert_int_equal(match_train(&ts, NULL, &m, &err), DP_ERR);
    match_trainset_free(&ts);
}

/* ---- ranking over a real (tiny) index ---------------------------------- */

static item *mkitems(size_t *n)
{
    static const char *t[][2] = {
        {"Build fails on Windows", "cmake error when compiling the parser"},
        {"NullPointerException in FileSystem.get", "java.lang.NullPointerException\n"
                                                   "  at org.apache.hadoop.fs.FileSystem.get(FileSystem.java:10)"},
        {"Docs typo in README", "the word recieve is misspelled"},
        {"FileSystem.get throws NullPointerException", "java.lang.NullPointerException\n"
                                                       "  at org.apache.hadoop.fs.FileSystem.get(FileSystem.java:12)"},
    };
    *n = 4;
    item *v = xcalloc(*n, sizeof *v);
    for (size_t i = 0; i < *n; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("T-%zu", i + 1);
        v[i].number = (int64_t)i + 1;
        v[i].title = xstrdup(t[i][0]);
        v[i].body = xstrdup(t[i][1]);
        v[i].state = xstrdup("open");
        v[i].created_at = 1600000000 + (int64_t)i * 86400;
    }
    return v;
}

static void test_rank(void **state)
{
    (void)state;
    size_t n;
    item *items = mkitems(&n);
    match_ctx ctx;
    dindex *ix = ctx_of(items, n, &ctx);
    match_query mq;
    match_query_from_doc(&ctx, 3, &mq);
    match_hit hits[4];
    size_t k = match_rank_query(&ctx, &mq, 0, 3, 4, hits);
    assert_true(k >= 1);
    assert_int_equal(hits[0].doc, 1);
    assert_true(hits[0].feat[FEAT_TITLE_OVERLAP] > 0.3);
    assert_true(hits[0].feat[FEAT_COSINE] > 0.3);
    assert_true(hits[0].prob >= 0 && hits[0].prob <= 1);
    for (size_t i = 1; i < k; i++) assert_true(hits[i - 1].score >= hits[i].score);
    /* the same through the compatibility entry point */
    match_hit h2[4];
    size_t k2 = match_rank(&ctx, mq.q, 3, 0, 3, 4, h2);
    assert_int_equal(k2, k);
    assert_int_equal(h2[0].doc, 1);
    /* a new text, not indexed */
    text_tokenizer *tk = text_tokenizer_new(NULL);
    item it;
    item_init(&it);
    it.title = (char *)"NullPointerException from FileSystem.get";
    it.body = (char *)"";
    match_query nq;
    match_query_from_item(&ctx, tk, &it, &nq);
    k2 = match_rank_query(&ctx, &nq, 0, 4, 2, h2);
    assert_true(k2 >= 1);
    assert_true(h2[0].doc == 1 || h2[0].doc == 3);
    match_query_free(&nq);
    text_tokenizer_free(tk);
    match_query_free(&mq);
    match_ctx_free(&ctx);
    index_free(ix);
    for (size_t i = 0; i < n; i++) item_free(&items[i]);
    free(items);
}

/* A judge set where only JF_TITLE_SAME makes a duplicate and only
 * JF_OPPOSITE makes a related pair (other features: LCG noise). */
static void planted_judgeset(match_judgeset *js, int n)
{
    uint32_t s = 777;
    for (int i = 0; i < n; i++) {
        double jf[JF_COUNT];
        for (int f = 0; f < JF_COUNT; f++) {
            s = s * 1664525u + 1013904223u;
            jf[f] = (double)(s >> 8) / (double)(1u << 24);
        }
        int kind = i % 5;   /* 1 duplicate, 1 related, 3 none */
        jf[JF_TITLE_SAME] = kind == 0;
        jf[JF_OPPOSITE] = kind == 1;
        jf[JF_KIND_SAME] = 1;
        jf[JF_CAND_FIXED_BEFORE] = 0;
        jf[JF_LATER_VERSION] = 0;
        int label = kind == 0 ? RELATION_DUPLICATE : kind == 1 ? RELATION_RELATED : RELATION_NONE;
        match_judgeset_add(js, 1600000000 + i * 3600, jf, label);
    }
}

static void test_judge_train(void **state)
{
    (void)state;
    match_judgeset js = {0};
    planted_judgeset(&js, 600);
    match_model a, b;
    match_model_copy(&a, match_model_default());
    match_model_copy(&b, match_model_default());
    dp_err err;
    assert_int_equal(match_judge_train(&js, NULL, &a, &err), DP_OK);
    assert_int_equal(match_judge_train(&js, NULL, &b, &err), DP_OK);
    assert_true(memcmp(&a.judge, &b.judge, sizeof a.judge) == 0);   /* deterministic */
    assert_true(a.judge.trained && a.judge.link_rate == 1.0);       /* no closed duplicates seen */
    double jf[JF_COUNT] = {0}, p[RELATION_COUNT];
    jf[JF_KIND_SAME] = 1;
    jf[JF_TITLE_SAME] = 1;
    match_judge_probs(&a, jf, p);
    assert_true(p[RELATION_DUPLICATE] > 0.9);
    jf[JF_TITLE_SAME] = 0;
    jf[JF_OPPOSITE] = 1;
    match_judge_probs(&a, jf, p);
    assert_true(p[RELATION_RELATED] > 0.9);
    jf[JF_OPPOSITE] = 0;
    match_judge_probs(&a, jf, p);
    assert_true(p[RELATION_NONE] > 0.9);
    /* cut-offs: clean data reaches the targets right at the floors */
    assert_true(a.judge.thr_high[RELATION_DUPLICATE] >= MATCH_HIGH_FLOOR &&
                a.judge.thr_high[RELATION_DUPLICATE] <= 1.0);
    assert_true(a.judge.thr_medium[RELATION_RELATED] >= MATCH_MEDIUM_FLOOR);
    /* the link rate: of 40 items closed as duplicates, 10 name their twin */
    js.dup_closed = 40;
    js.dup_closed_linked = 10;
    assert_int_equal(match_judge_train(&js, NULL, &b, &err), DP_OK);
    assert_true(fabs(b.judge.link_rate - 0.25) < 1e-12);
    assert_true(match_judge_link_rate(&b.judge) == MATCH_LINK_RATE_MIN);
    /* Relates rows: not learned from (weights unchanged) */
    match_judgeset more = {0};
    match_judgeset_append(&more, &js);
    double z[JF_COUNT] = {0};
    z[JF_KIND_SAME] = 1;
    for (int i = 0; i < 20; i++) match_judgeset_add(&more, 1700000000 + i, z, MATCH_LABEL_RELATES);
    match_model c;
    match_model_copy(&c, match_model_default());
    assert_int_equal(match_judge_train(&more, NULL, &c, &err), DP_OK);
    assert_true(memcmp(c.judge.w, b.judge.w, sizeof c.judge.w) == 0);
    match_judgeset_free(&more);
    /* too few linked pairs */
    match_judgeset tiny = {0};
    planted_judgeset(&tiny, 20);
    assert_int_equal(match_judge_train(&tiny, NULL, &c, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "too few"));
    match_judgeset_free(&tiny);
    match_judgeset_free(&js);
    match_model_free(&a);
    match_model_free(&b);
    match_model_free(&c);
}

/* The order match_best_keys keeps: score down, then doc up. */
static int ref_key_cmp(const void *a, const void *b)
{
    const hit_key *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* match_best_keys leaves in key[0..m) exactly what a full sort puts
 * there, for pools with many tied scores (the doc decides), m below, at
 * and above n, m 1 and 2 (the margin's second best) and empty pools. */
static void test_best_keys_equal_sort(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int round = 0; round < 400; round++) {
        size_t n = (size_t)(round % 103), m = (size_t)((round * 7) % 25);
        if (round % 11 == 0) m = n + 3;
        hit_key a[110], b[110];
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            double score = (double)((seed >> 16) % 9) - 4.0 + (round % 3 ? 0.0 : (double)i / 1000.0);
            /* distinct, and not in the order of i: ties are not settled by position */
            uint32_t doc = (uint32_t)((i * 7919 + (size_t)round) % 211);
            a[i] = b[i] = (hit_key){score, doc, (uint32_t)i};
        }
        qsort(b, n, sizeof *b, ref_key_cmp);
        match_best_keys(a, n, m);
        size_t k = m < n ? m : n;
        for (size_t i = 0; i < k; i++) {
            assert_true(a[i].score == b[i].score);
            assert_int_equal(a[i].doc, b[i].doc);
            assert_int_equal(a[i].i, b[i].i);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feature_names),
        cmocka_unit_test(test_text_round_trip),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_decide_and_top),
        cmocka_unit_test(test_decide_same_failure),
        cmocka_unit_test(test_same_failure_features),
        cmocka_unit_test(test_same_failure_memos_equal_reference),
        cmocka_unit_test(test_train_learns_and_is_deterministic),
        cmocka_unit_test(test_train_base_rate),
        cmocka_unit_test(test_train_too_small),
        cmocka_unit_test(test_judge_train),
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_best_keys_equal_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
