/* test_judge_cache.c -- the judge's per-doc title records (match_doc_title,
 * src/match/match_judge.c): a doc's words made once, interned in the ctx
 * and kept there, so a judged pair only compares word ids. The cached
 * path must give, bit for bit, what the plain per-pair computation gives
 * (each pair's two titles split into word lists and compared string by
 * string, the term lists merged, every lookup made) -- on titles chosen
 * to be hard on a cache: non-ASCII bytes, empty titles, titles past the
 * 64-word cap, words cut at 31 bytes, repeated words, a word met first in
 * a query that is not indexed. Records are made once per doc and reused
 * (the same record whoever asks), and records made in another order, or
 * by two threads at once, give the same features. */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/match/match.h"
#include "../../../src/match/match_int.h"
#include "judge_ref.h"

static const char *const titles[] = {
    "",
    "Enable the parser cache",
    "Disabling parser caches",
    "enable enable enable parser parser",
    "\xc3\x9c" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 fa\xc3\xa7" "ade broken",   /* Ünïcödé façade broken */
    "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 fa\xc3\xa7" "ade broken",   /* ünïcödé: another word */
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe3\x82\xbf\xe3\x82\xa4\xe3\x83\x88\xe3\x83\xab enable cache",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe3\x82\xbf\xe3\x82\xa4\xe3\x83\x88\xe3\x83\xab disable cache",
    "\xf0\x9f\x9a\x80 launch fails on start",
    "\xf0\x9f\x9a\x80 launch fails on stop",
    "Fix crash on branch-2",
    "Fix crash on 3.1",
    "fix crash",
    "Backport crash fix",
    "Dataset alpha has missing field names",
    "Dataset beta has missing field names",
    "Parser Fails HIVE-77",
    "parser fails #12",
    "thisisaverylongwordthatgoeswaypastthirtyonebytes1 import",
    "thisisaverylongwordthatgoeswaypastthirtyonebytes2 export",
    /* past the 64-word cap, repeats included: the words after it are not read */
    "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 "
    "w26 w27 w28 w29 w30 w31 w32 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
    "w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 lock",
    "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 "
    "w26 w27 w28 w29 w30 w31 w32 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
    "w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 unlock",
    "Show hidden files, hide shown files",
    "Read read reads write writes",
    "Serialize the deserialized value",
    "Cherry pick the cache fix to release 2.x",
};
#define NT (sizeof titles / sizeof *titles)

/* The title features a cache touches. */
static const int tfeats[] = {JF_OPPOSITE, JF_VERSION_ONLY, JF_BACKPORT, JF_TITLE_SAME, JF_TITLE_NAME_SWAP,
                             JF_SLOT_DIFF, JF_SHARED_TITLE_IDF, JF_SHARED_REF};
#define NF (sizeof tfeats / sizeof *tfeats)

/* ---- the plain per-pair computation ---------------------------------------- */

static size_t ref_shared_refs(const item *q, const item *c)
{
    text_refs_opts o = {.numeric = 1, .bare = 1, .jira = 1};
    text_refs qa = {0}, ca = {0};
    text_refs_scan(q->title, &o, &qa);
    text_refs_scan(q->body, &o, &qa);
    text_refs_scan(c->title, &o, &ca);
    text_refs_scan(c->body, &o, &ca);
    size_t n = 0;
    for (size_t i = 0; i < qa.n; i++) {
        const char *k = qa.v[i].key;
        if (strcmp(k, q->key) && strcmp(k, c->key) && text_refs_find(&ca, k)) n++;
    }
    text_refs_free(&qa);
    text_refs_free(&ca);
    return n;
}

/* tfeats of (q, c) as the per-pair computation finds them; mq NULL: the
 * slot features are left out (0). */
static void ref_features(const match_ctx *ctx, const match_query *mq, const item *q, const item *c, uint32_t cdoc,
                         double jf[JF_COUNT])
{
    memset(jf, 0, JF_COUNT * sizeof *jf);
    ref_title_features(ctx, mq, q, c, cdoc, jf);
    jf[JF_SHARED_REF] = log1p((double)ref_shared_refs(q, c));
}

/* ---- the corpus ------------------------------------------------------------ */

static item *make_items(void)
{
    item *v = xcalloc(NT, sizeof *v);
    for (size_t i = 0; i < NT; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("HIVE-%zu", i + 1);
        v[i].number = (int64_t)i + 1;
        v[i].title = xstrdup(titles[i]);
        /* bodies naming other items: some pairs share a third one */
        v[i].body = xasprintf("Body %zu names HIVE-%zu and HIVE-%zu. %s", i, (i * 5 + 2) % NT + 1, i % 3 + 1,
                              titles[(i * 7 + 3) % NT]);
        v[i].created_at = 1600000000 + (int64_t)i * 3600;
    }
    return v;
}

static void items_free(item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) item_free(&v[i]);
    free(v);
}

static dindex *make_index(const item *v)
{
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dindex *ix;
    assert_int_equal(index_build(v, NT, &p, &ix, NULL), DP_OK);
    return ix;
}

/* What every test starts from: the items, their index and a tokenizer
 * (setup and teardown below; cmocka passes it as *state). */
typedef struct corpus {
    item *v;
    dindex *ix;
    text_tokenizer *tk;
} corpus;

static int corpus_setup(void **state)
{
    corpus *c = xcalloc(1, sizeof *c);
    c->v = make_items();
    c->ix = make_index(c->v);
    index_params ip;
    index_params_default(&ip);
    c->tk = text_tokenizer_new(&ip.text);
    *state = c;
    return 0;
}

static int corpus_teardown(void **state)
{
    corpus *c = *state;
    text_tokenizer_free(c->tk);
    index_free(c->ix);
    items_free(c->v, NT);
    free(c);
    return 0;
}

/* All judge features of every pair (q, c), q != c, into out[q][c], the
 * queries visited in order (dir 1) or backwards (-1): records made in
 * another order get other word ids. */
typedef double pairs_jf[NT][NT][JF_COUNT];

static void judge_all(const match_ctx *ctx, int dir, pairs_jf *out)
{
    for (size_t k = 0; k < NT; k++) {
        uint32_t q = (uint32_t)(dir > 0 ? k : NT - 1 - k);
        match_query mq;
        match_query_from_doc(ctx, q, &mq);
        match_judge_query jq;
        match_judge_prepare(ctx, &mq, &jq);
        for (uint32_t c = 0; c < NT; c++) {
            if (c == q) continue;
            match_hit h;
            memset(&h, 0, sizeof h);
            h.doc = c;
            match_judge_features(ctx, &mq, &jq, &h, 1, (*out)[q][c]);
        }
        match_judge_query_free(&jq);
        match_query_free(&mq);
    }
}

static void assert_pairs_equal(const pairs_jf *a, const pairs_jf *b, const char *what)
{
    for (size_t q = 0; q < NT; q++)
        for (size_t c = 0; c < NT; c++)
            for (int k = 0; k < JF_COUNT; k++)
                if (q != c && memcmp(&(*a)[q][c][k], &(*b)[q][c][k], sizeof(double)))
                    fail_msg("%s: q \"%s\" c \"%s\": %s is %g, was %g", what, titles[q], titles[c],
                             match_jfeature_name((match_jfeature)k), (*b)[q][c][k], (*a)[q][c][k]);
}

/* ---- the tests ------------------------------------------------------------- */

/* Every pair's cached features equal the plain computation, bit for bit,
 * and every feature compared was seen set (so each was at work). */
static void test_cached_equals_per_pair(void **state)
{
    const corpus *co = *state;
    item *v = co->v;
    dindex *ix = co->ix;
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    pairs_jf *got = xcalloc(1, sizeof *got);
    judge_all(&ctx, 1, got);
    size_t nonzero[NF] = {0};
    for (uint32_t q = 0; q < NT; q++) {
        match_query mq;
        match_query_from_doc(&ctx, q, &mq);
        for (uint32_t c = 0; c < NT; c++) {
            if (c == q) continue;
            double ref[JF_COUNT];
            ref_features(&ctx, &mq, &v[q], &v[c], c, ref);
            for (size_t k = 0; k < NF; k++) {
                double a = (*got)[q][c][tfeats[k]], b = ref[tfeats[k]];
                if (memcmp(&a, &b, sizeof a))
                    fail_msg("q \"%s\" c \"%s\": %s is %g, per pair %g", titles[q], titles[c],
                             match_jfeature_name((match_jfeature)tfeats[k]), a, b);
                nonzero[k] += a != 0;
            }
        }
        match_query_free(&mq);
    }
    for (size_t k = 0; k < NF; k++)
        if (!nonzero[k]) fail_msg("%s never set", match_jfeature_name((match_jfeature)tfeats[k]));
    free(got);
    match_ctx_free(&ctx);
}

/* A doc's record is made once and then the same for every reader: the
 * query's judge query holds it, not a copy; judging again on a warm cache,
 * or in a fresh ctx whose records are made in the reverse order (other
 * word ids), gives the same features, as does a sparse ctx. */
static void test_records_made_once(void **state)
{
    const corpus *co = *state;
    dindex *ix = co->ix;
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    pairs_jf *a = xcalloc(1, sizeof *a), *b = xcalloc(1, sizeof *b);
    judge_all(&ctx, 1, a);
    for (uint32_t d = 0; d < NT; d++) {
        const jt_rec *r = match_doc_title(&ctx, d);
        assert_non_null(r);
        assert_ptr_equal(r, match_doc_title(&ctx, d));
        match_query mq;
        match_query_judge_view(&ctx, d, &mq);
        match_judge_query jq;
        match_judge_prepare(&ctx, &mq, &jq);
        assert_ptr_equal(jq.title, r);
        match_judge_query_free(&jq);
        match_query_free(&mq);
    }
    judge_all(&ctx, 1, b);   /* warm */
    assert_pairs_equal(a, b, "warm cache");
    match_ctx_free(&ctx);
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    judge_all(&ctx, -1, b);  /* cold, the other way round */
    assert_pairs_equal(a, b, "records made in reverse");
    match_ctx_free(&ctx);
    match_ctx_init_sparse(&ctx, ix, NULL, NULL, 0, 0);
    judge_all(&ctx, -1, b);
    assert_pairs_equal(a, b, "sparse ctx");
    match_ctx_free(&ctx);
    free(a);
    free(b);
}

/* A query that is no indexed doc: an item of its own, titled title
 * (owned by it), prepared on ctx. */
typedef struct newq {
    item qi;
    match_query mq;
    match_judge_query jq;
} newq;

static void newq_make(const match_ctx *ctx, text_tokenizer *tk, char *title, newq *q)
{
    item_init(&q->qi);
    q->qi.key = xstrdup("(new)");
    q->qi.title = title;
    q->qi.body = xstrdup("");
    match_query_from_item(ctx, tk, &q->qi, &q->mq);
    match_judge_prepare(ctx, &q->mq, &q->jq);
    assert_non_null(q->jq.title);
}

static void newq_free(newq *q)
{
    match_judge_query_free(&q->jq);
    match_query_free(&q->mq);
    item_free(&q->qi);
}

/* q's word features against candidate c (doc c of v) equal the per-pair
 * ones; returns whether the titles count as the same. */
static int newq_judge(const match_ctx *ctx, const newq *q, const item *v, uint32_t c)
{
    static const int word_feats[] = {JF_OPPOSITE, JF_VERSION_ONLY, JF_BACKPORT, JF_TITLE_SAME,
                                     JF_TITLE_NAME_SWAP};
    match_hit h;
    memset(&h, 0, sizeof h);
    h.doc = c;
    double a[JF_COUNT], ref[JF_COUNT];
    match_judge_features(ctx, &q->mq, &q->jq, &h, 1, a);
    ref_features(ctx, NULL, &q->qi, &v[c], c, ref);
    for (size_t k = 0; k < sizeof word_feats / sizeof *word_feats; k++)
        if (a[word_feats[k]] != ref[word_feats[k]])
            fail_msg("new \"%s\" c \"%s\": %s is %g, per pair %g", q->qi.title, v[c].title,
                     match_jfeature_name((match_jfeature)word_feats[k]), a[word_feats[k]], ref[word_feats[k]]);
    return a[JF_TITLE_SAME] != 0;
}

/* A query that is not indexed (doppel similar --title) gets its own
 * record; its words must be the ids the docs' records give them, even
 * when the query meets a word first (the candidates' records made after
 * it). Its title features equal those of the same title as an indexed
 * doc, and the per-pair computation. */
static void test_unindexed_query(void **state)
{
    const corpus *co = *state;
    item *v = co->v;
    dindex *ix = co->ix;
    text_tokenizer *tk = co->tk;
    size_t same = 0;
    for (uint32_t d = 0; d < NT; d++) {
        match_ctx ctx;   /* fresh: no record made before the query's */
        match_ctx_init(&ctx, ix, NULL, NULL, 0);
        newq q;
        newq_make(&ctx, tk, xstrdup(titles[d]), &q);
        for (uint32_t c = 0; c < NT; c++) same += (size_t)newq_judge(&ctx, &q, v, c);
        newq_free(&q);
        match_ctx_free(&ctx);
    }
    assert_true(same >= NT - 1);   /* each non-empty title met its own doc */
}

/* Queries that are no indexed doc add no word to the ctx's table (a
 * serve's ctx lives for weeks and `similar` takes any title): after many
 * such queries, words of their own among them, and every doc's record,
 * the table holds what the docs' records alone put there. Their features
 * stay the per-pair ones, whether the docs' records were made before the
 * query or after it (test_unindexed_query: all after). */
static void test_unindexed_adds_no_words(void **state)
{
    const corpus *co = *state;
    item *v = co->v;
    dindex *ix = co->ix;
    text_tokenizer *tk = co->tk;
    match_ctx docs_only, ctx;
    match_ctx_init(&docs_only, ix, NULL, NULL, 0);
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    for (uint32_t d = 0; d < NT; d++) match_doc_title(&docs_only, d);
    size_t expect = match_jcache_words(&docs_only);
    assert_true(expect > 0);
    for (int round = 0; round < 3; round++)
        for (uint32_t d = 0; d < NT; d++) {
            newq q;   /* a doc's title with words no doc has */
            newq_make(&ctx, tk, xasprintf("%s zzquagga%d okapi%u", titles[d], round, d), &q);
            /* the docs' records: none made before the second query's, all
             * before the later ones' */
            for (uint32_t c = 0; c < NT && (round || d); c++) newq_judge(&ctx, &q, v, (c + d) % NT);
            newq_free(&q);
        }
    assert_int_equal(match_jcache_words(&ctx), expect);
    match_ctx_free(&ctx);
    match_ctx_free(&docs_only);
}

/* Two threads judging every pair on one cold ctx, each making records as
 * it meets them, give what one thread gives. */
typedef struct tjob {
    const match_ctx *ctx;
    int dir;
    pairs_jf *out;
} tjob;

static void *judge_thread(void *arg)
{
    tjob *j = arg;
    judge_all(j->ctx, j->dir, j->out);
    return NULL;
}

static void test_threads(void **state)
{
    const corpus *co = *state;
    dindex *ix = co->ix;
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    pairs_jf *one = xcalloc(1, sizeof *one), *a = xcalloc(1, sizeof *a), *b = xcalloc(1, sizeof *b);
    judge_all(&ctx, 1, one);
    match_ctx_free(&ctx);
    for (int round = 0; round < 4; round++) {
        match_ctx_init(&ctx, ix, NULL, NULL, 0);
        tjob ja = {&ctx, 1, a}, jb = {&ctx, round % 2 ? 1 : -1, b};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, judge_thread, &ja), 0);
        judge_thread(&jb);
        pthread_join(t, NULL);
        assert_pairs_equal(one, a, "thread a");
        assert_pairs_equal(one, b, "thread b");
        match_ctx_free(&ctx);
    }
    free(one);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cached_equals_per_pair, corpus_setup, corpus_teardown),
        cmocka_unit_test_setup_teardown(test_records_made_once, corpus_setup, corpus_teardown),
        cmocka_unit_test_setup_teardown(test_unindexed_query, corpus_setup, corpus_teardown),
        cmocka_unit_test_setup_teardown(test_unindexed_adds_no_words, corpus_setup, corpus_teardown),
        cmocka_unit_test_setup_teardown(test_threads, corpus_setup, corpus_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
