/* test_features.c -- pair features (src/match/match_features.c): the pool
 * path of match_rank (interned string sets, query bitmap, field scores
 * summed in the pass over the candidate's terms) gives bit for bit the
 * rows of match_features() one by one, and the id path for indexed
 * queries agrees with the string path that non-indexed queries take. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../../src/match/match.h"
#include "../../../src/match/match_int.h"

/* A small tracker where many items share labels, components, versions,
 * authors, types, exceptions, frames and paths in varying case. */
static item *corpus(size_t n)
{
    static const char *const words[] = {"parser", "cache", "timeout", "socket", "merge",
                                        "schema", "thread", "buffer", "lock", "query"};
    static const char *const exc[] = {"NullPointerException", "IOException", "KeyError"};
    static const char *const auth[] = {"alice", "Alice", "bob", NULL, ""};
    static const char *const type[] = {"Bug", "bug", "Improvement"};
    static const char *const lab[] = {"Core", "core", "ui", "Build"};
    item *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("F-%zu", i + 1);
        v[i].number = (int64_t)i + 1;
        v[i].kind = i % 5 == 0 ? ITEM_PR : ITEM_ISSUE;
        v[i].title = xasprintf("%s %s fails with %s", words[i % 10], words[(i * 3) % 10], exc[i % 3]);
        v[i].body = xasprintf("When the %s is full the %s breaks.\n```\n%s: boom\n"
                              "  at org.x.%s.run(%s.java:%zu)\n  at org.x.Main.main(Main.java:1)\n"
                              "ERROR see src/%s.c and conf/%s.xml version 1.%zu.0\n```\n",
                              words[(i * 7) % 10], words[(i + 1) % 10], exc[(i / 2) % 3],
                              words[i % 4], words[i % 4], i % 3, words[i % 6], words[i % 3], i % 4);
        v[i].author = auth[i % 5] ? xstrdup(auth[i % 5]) : NULL;
        v[i].type = xstrdup(type[i % 3]);
        v[i].priority = i % 4 ? xstrdup(i % 2 ? "Major" : "major") : NULL;
        sv_push(&v[i].labels, lab[i % 4]);
        if (i % 3 == 0) sv_push(&v[i].labels, lab[(i + 1) % 4]);
        if (i % 2) sv_push(&v[i].components, i % 4 == 1 ? "Metastore" : "METASTORE");
        if (i % 3 == 1) sv_push(&v[i].versions, i % 2 ? "2.1.0" : "3.0.0");
        v[i].created_at = i % 7 ? 1600000000 + (int64_t)i * 3600 : 0;
    }
    return v;
}

#define N 120

/* Frees what a test built: the ctx, the index and the n items. */
static void corpus_free(match_ctx *ctx, dindex *ix, item *v, size_t n)
{
    match_ctx_free(ctx);
    index_free(ix);
    for (size_t i = 0; i < n; i++) item_free(&v[i]);
    free(v);
}

/* The pool's rows (hits of match_rank*) equal match_features() one by
 * one; counts the nonzero values of each feature into nonzero (NULL ok). */
static void assert_rows_one_by_one(const match_ctx *ctx, const match_query *mq, const match_hit *hits,
                                   size_t n, size_t *nonzero)
{
    double top = 0;
    for (size_t i = 0; i < n; i++)
        if (hits[i].bm25_rank == 0) top = hits[i].bm25;
    for (size_t i = 0; i < n; i++) {
        double f[FEAT_COUNT];
        match_features(ctx, mq, hits[i].doc, hits[i].bm25_rank, hits[i].bm25, top, f);
        for (int k = 0; k < FEAT_COUNT; k++) {
            assert_true(f[k] == hits[i].feat[k]);
            if (nonzero && f[k] != 0) nonzero[k]++;
        }
    }
}

static void test_pool_equals_one_by_one(void **state)
{
    (void)state;
    item *v = corpus(N);
    index_params p;
    index_params_default(&p);
    p.threads = 2;
    dindex *ix;
    assert_int_equal(index_build(v, N, &p, &ix, NULL), DP_OK);
    item_link links[2] = {{.src_key = (char *)"F-3", .dst_key = (char *)"F-9", .type = LINK_DUPLICATE},
                          {.src_key = (char *)"F-4", .dst_key = (char *)"F-8", .type = LINK_RELATED}};
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, links, 2);
    size_t rows = 0, nonzero[FEAT_COUNT] = {0};
    for (uint32_t q = 0; q < N; q += 7) {
        match_query mq;
        match_query_from_doc(&ctx, q, &mq);
        match_hit hits[MATCH_POOL];
        size_t n = match_rank_query(&ctx, &mq, 0, N, MATCH_POOL, hits);
        assert_true(n > 10);
        assert_rows_one_by_one(&ctx, &mq, hits, n, nonzero);
        for (size_t i = 0; i < n; i++) {
            /* and the fields of many docs equal the fields of one */
            double a[FIELD_COUNT], b[1][FIELD_COUNT];
            index_score_fields(ix, mq.q, hits[i].doc, a);
            index_score_fields_many(ix, mq.q, &hits[i].doc, 1, b);
            for (int k = 0; k < FIELD_COUNT; k++) assert_true(a[k] == b[0][k]);
            rows++;
        }
        match_query_free(&mq);
    }
    assert_true(rows > 200);
    /* the comparison saw every kind of feature at work */
    int feats[] = {FEAT_LABELS, FEAT_VERSION, FEAT_SAME_AUTHOR, FEAT_TYPE_SAME, FEAT_PRIORITY_SAME,
                   FEAT_EXCEPTION, FEAT_FRAMES, FEAT_PATHS, FEAT_ERRORS, FEAT_COSINE,
                   FEAT_TITLE_COSINE, FEAT_BIGRAM_OVERLAP, FEAT_KIND_SAME};
    for (size_t i = 0; i < sizeof feats / sizeof *feats; i++) assert_true(nonzero[feats[i]] > 0);
    corpus_free(&ctx, ix, v, N);
}

/* An indexed doc's item and signal features (hash path) equal those of the
 * same item given as new text (string path). */
static void test_hash_path_equals_string_path(void **state)
{
    (void)state;
    item *v = corpus(N);
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dindex *ix;
    assert_int_equal(index_build(v, N, &p, &ix, NULL), DP_OK);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    text_tokenizer *tk = text_tokenizer_new(NULL);
    int item_feats[] = {FEAT_LABELS, FEAT_VERSION, FEAT_TIME_GAP, FEAT_SAME_AUTHOR, FEAT_KIND_SAME,
                        FEAT_TYPE_SAME, FEAT_PRIORITY_SAME, FEAT_EXCEPTION, FEAT_FRAMES,
                        FEAT_PATHS, FEAT_ERRORS};
    size_t checked = 0;
    for (uint32_t q = 0; q < N; q += 11) {
        match_query a, b;
        match_query_from_doc(&ctx, q, &a);
        match_query_from_item(&ctx, tk, index_item(ix, q), &b);
        for (uint32_t c = 0; c < N; c += 3) {
            if (c == q) continue;
            double fa[FEAT_COUNT], fb[FEAT_COUNT];
            match_features(&ctx, &a, c, 0, 1, 1, fa);
            match_features(&ctx, &b, c, 0, 1, 1, fb);
            for (size_t k = 0; k < sizeof item_feats / sizeof *item_feats; k++)
                assert_true(fa[item_feats[k]] == fb[item_feats[k]]);
            checked++;
        }
        match_query_free(&a);
        match_query_free(&b);
    }
    assert_true(checked > 300);
    text_tokenizer_free(tk);
    corpus_free(&ctx, ix, v, N);
}

/* Case-folded string sets count each distinct string once, whatever its
 * case, as the string path does. */
static void test_folded_labels(void **state)
{
    (void)state;
    item *v = xcalloc(3, sizeof *v);
    const char *labs[3][3] = {{"Core", "core", "UI"}, {"CORE", "ui", "x"}, {"other", NULL, NULL}};
    for (size_t i = 0; i < 3; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("L-%zu", i);
        v[i].title = xstrdup("same words everywhere");
        v[i].body = xstrdup("");
        for (int j = 0; j < 3 && labs[i][j]; j++) sv_push(&v[i].labels, labs[i][j]);
    }
    dindex *ix;
    assert_int_equal(index_build(v, 3, NULL, &ix, NULL), DP_OK);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    match_query mq;
    match_query_from_doc(&ctx, 0, &mq);
    double f[FEAT_COUNT];
    match_features(&ctx, &mq, 1, 0, 1, 1, f);
    /* shared: "core" (counted once) and "ui": 2 / (3 + 3 - 2) */
    assert_true(f[FEAT_LABELS] == 2.0 / 4.0);
    match_features(&ctx, &mq, 2, 0, 1, 1, f);
    assert_true(f[FEAT_LABELS] == 0);
    match_query_free(&mq);
    corpus_free(&ctx, ix, v, 3);
}

/* The interned set ids: exact sets (exceptions, frames, paths, errors)
 * tell case apart, folded ones (labels, components, versions) do not, each
 * distinct string counts once, only the first SET_CAP (64) strings of a
 * list count -- the id path equals the string path (a query given as new
 * text) on all of it. */
static void test_set_ids_equal_string_path(void **state)
{
    (void)state;
    enum { M = 4 };
    item *v = xcalloc(M, sizeof *v);
    const char *body[M] = {
        "```\nIOException: a\n  at org.x.A.run(A.java:1)\n```\n",
        "```\nioexception: a\n  at org.x.a.run(A.java:1)\n```\n",
        "```\nIOException: a\nIOException: b\n  at org.x.A.run(A.java:1)\n```\n",
        "nothing here"};
    for (size_t i = 0; i < M; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("S-%zu", i);
        v[i].title = xstrdup("socket timeout in the reader");
        v[i].body = xstrdup(body[i]);
        v[i].created_at = 1600000000 + (int64_t)i;
    }
    /* 70 labels: the shared ones past the 64th do not count */
    for (int j = 0; j < 70; j++) {
        char b[16];
        snprintf(b, sizeof b, "L%d", j);
        sv_push(&v[0].labels, b);
        snprintf(b, sizeof b, "l%d", j >= 60 ? j : 100 + j);
        sv_push(&v[1].labels, b);
    }
    sv_push(&v[2].labels, "l3");
    sv_push(&v[2].labels, "L3");
    sv_push(&v[3].labels, "L3");
    sv_push(&v[2].versions, "1.0");
    sv_push(&v[3].versions, "1.0");
    dindex *ix;
    assert_int_equal(index_build(v, M, NULL, &ix, NULL), DP_OK);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    text_tokenizer *tk = text_tokenizer_new(NULL);
    for (uint32_t q = 0; q < M; q++) {
        match_query a, b;
        match_query_from_doc(&ctx, q, &a);
        match_query_from_item(&ctx, tk, index_item(ix, q), &b);
        for (uint32_t c = 0; c < M; c++) {
            if (c == q) continue;
            double fa[FEAT_COUNT], fb[FEAT_COUNT];
            match_features(&ctx, &a, c, 0, 1, 1, fa);
            match_features(&ctx, &b, c, 0, 1, 1, fb);
            for (int k = FEAT_EXCEPTION; k <= FEAT_VERSION; k++) assert_true(fa[k] == fb[k]);
            if (q == 0 && c == 1) {
                /* L60..L63 of doc 0's first 64 meet l60..l63; L64.. are past the cap */
                assert_true(fa[FEAT_LABELS] == 4.0 / (70.0 + 70.0 - 4.0));
                assert_true(fa[FEAT_EXCEPTION] == 0);   /* exact: IOException != ioexception */
            }
            if (q == 0 && c == 2) assert_true(fa[FEAT_EXCEPTION] == log1p(1.0));   /* counted once */
            if (q == 2 && c == 3) {
                assert_true(fa[FEAT_LABELS] == 1.0 / (2.0 + 1.0 - 1.0));   /* l3 = L3, once */
                assert_true(fa[FEAT_VERSION] == 1);
            }
        }
        match_query_free(&a);
        match_query_free(&b);
    }
    text_tokenizer_free(tk);
    corpus_free(&ctx, ix, v, M);
}

/* A BM25F query whose terms are not all the query doc's (match_rank with a
 * caller's query) has its field scores summed apart; the rows still equal
 * match_features() one by one. And the links a candidate has (popularity,
 * cross-reference), read through the per-doc link byte, are right. */
static void test_pool_caller_query_and_links(void **state)
{
    (void)state;
    item *v = corpus(N);
    dindex *ix;
    assert_int_equal(index_build(v, N, NULL, &ix, NULL), DP_OK);
    item_link links[2] = {{.src_key = (char *)"F-3", .dst_key = (char *)"F-9", .type = LINK_DUPLICATE},
                          {.src_key = (char *)"F-4", .dst_key = (char *)"F-8", .type = LINK_RELATED}};
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, links, 2);
    size_t rows = 0;
    for (uint32_t qd = 1; qd < N; qd += 13) {
        index_query q;
        index_query_from_doc(ix, (qd * 7 + 3) % N, &q);   /* another doc's words */
        match_hit hits[MATCH_POOL];
        size_t n = match_rank(&ctx, &q, qd, 0, N, MATCH_POOL, hits);
        match_query mq;
        match_query_from_doc(&ctx, qd, &mq);
        index_query_free(&mq.own_q);
        mq.has_own_q = 0;
        mq.q = &q;
        assert_rows_one_by_one(&ctx, &mq, hits, n, NULL);
        rows += n;
        match_query_free(&mq);
        index_query_free(&q);
    }
    assert_true(rows > 100);
    /* F-9 (doc 8) is a duplicate target; F-4 (doc 3) and F-8 (doc 7) are linked */
    match_query mq;
    match_query_from_doc(&ctx, 3, &mq);
    double f[FEAT_COUNT];
    match_features(&ctx, &mq, 8, 0, 1, 1, f);
    assert_true(f[FEAT_POPULARITY] == log1p(1.0));
    assert_true(f[FEAT_CROSSREF] == 0);
    match_features(&ctx, &mq, 7, 0, 1, 1, f);
    assert_true(f[FEAT_POPULARITY] == 0);
    assert_true(f[FEAT_CROSSREF] == 1);
    match_features(&ctx, &mq, 5, 0, 1, 1, f);
    assert_true(f[FEAT_POPULARITY] == 0 && f[FEAT_CROSSREF] == 0);
    match_query_free(&mq);
    corpus_free(&ctx, ix, v, N);
}

/* A sparse ctx relinked as its links grow by batches (a serve corpus
 * filling, match_ctx_relink) sees the links a ctx built with all of them
 * sees: each link counted once, typed or not, both directions. */
static void test_relink_in_batches(void **state)
{
    (void)state;
    item *v = corpus(N);
    dindex *ix;
    assert_int_equal(index_build(v, N, NULL, &ix, NULL), DP_OK);
    enum { NL = 90 };
    item_link links[NL];
    char keys[NL][2][16];
    for (size_t i = 0; i < NL; i++) {   /* repeated pairs, unknown keys, self links */
        snprintf(keys[i][0], sizeof keys[i][0], "F-%zu", (i * 7) % 40 + 1);
        snprintf(keys[i][1], sizeof keys[i][1], i % 11 == 5 ? "X-%zu" : "F-%zu", (i * 13) % 37 + 1);
        links[i] = (item_link){.src_key = keys[i][0], .dst_key = keys[i][1],
                               .type = i % 3 ? LINK_RELATED : LINK_DUPLICATE};
    }
    match_ctx all, grown;
    match_ctx_init(&all, ix, NULL, links, NL);
    match_ctx_init_sparse(&grown, ix, NULL, links, 10, item_links_any_typed(links, NL));
    match_ctx_relink(&grown, links, 35);
    match_ctx_relink(&grown, links, 35);   /* nothing new */
    match_ctx_relink(&grown, links, NL);
    size_t linked = 0;
    for (uint32_t q = 0; q < 40; q++) {
        match_query ma, mg;
        match_query_from_doc(&all, q, &ma);
        match_query_from_doc(&grown, q, &mg);
        for (uint32_t c = 0; c < 40; c++) {
            double fa[FEAT_COUNT], fg[FEAT_COUNT];
            match_features(&all, &ma, c, 0, 1, 1, fa);
            match_features(&grown, &mg, c, 0, 1, 1, fg);
            assert_true(fa[FEAT_POPULARITY] == fg[FEAT_POPULARITY]);
            assert_true(fa[FEAT_CROSSREF] == fg[FEAT_CROSSREF]);
            linked += fa[FEAT_POPULARITY] > log1p(1.0) || fa[FEAT_CROSSREF] > 0;
        }
        match_query_free(&ma);
        match_query_free(&mg);
    }
    assert_true(linked > 20);   /* the comparison saw links, some counted more than once */
    match_ctx_free(&grown);
    corpus_free(&all, ix, v, N);
}

/* match_pool_filter_bits: a power of 2, at least POOL_FILTER_MIN, grown
 * to POOL_FILTER_LOAD bits a query term but not past the first size that
 * holds every term id (where the filter is exact). */
static void test_filter_bits(void **state)
{
    (void)state;
    assert_int_equal(match_pool_filter_bits(10, 5), POOL_FILTER_MIN);
    assert_int_equal(match_pool_filter_bits(1000000, 100), POOL_FILTER_MIN);
    assert_int_equal(match_pool_filter_bits(1000000, 2000), (size_t)1 << 16);
    assert_int_equal(match_pool_filter_bits(1000000, 100000), (size_t)1 << 20);   /* holds every id */
    assert_int_equal(match_pool_filter_bits(100000, 100000), (size_t)1 << 17);
}

/* A word no other doc has: letters only, so the tokenizer keeps it whole. */
static void unique_word(size_t k, char w[16])
{
    size_t n = 0;
    w[n++] = 'z';
    w[n++] = 'q';
    do {
        w[n++] = (char)('a' + k % 26);
        k /= 26;
    } while (k && n < 14);
    w[n] = '\0';
}

/* With more term ids than the pool's filter has bits, candidate terms the
 * query lacks pass the filter (checked here: some do); the rows still
 * equal match_features() one by one, which merges the term lists. */
static void test_pool_filter_false_positives(void **state)
{
    (void)state;
    size_t n = 90, nw = 500;
    item *v = corpus(n);
    for (size_t i = 0; i < n; i++) {   /* ~45k words of one doc each, ~90k bigrams */
        sbuf b;
        sb_init(&b);
        sb_printf(&b, "%s\n", v[i].body);
        for (size_t k = 0; k < nw; k++) {
            char w[16];
            unique_word(i * nw + k, w);
            sb_printf(&b, "%s ", w);
        }
        free(v[i].body);
        v[i].body = xstrdup(b.s);
        sb_free(&b);
    }
    index_params p;
    index_params_default(&p);
    p.threads = 2;
    dindex *ix;
    assert_int_equal(index_build(v, n, &p, &ix, NULL), DP_OK);
    assert_true(index_nterms(ix) > 2 * POOL_FILTER_MIN);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    size_t passed = 0, rows = 0;
    for (uint32_t q = 0; q < n; q += 9) {
        match_query mq;
        match_query_from_doc(&ctx, q, &mq);
        size_t bits = match_pool_filter_bits(index_nterms(ix), mq.nterms);
        assert_true(bits < index_nterms(ix));   /* a filter, not the exact bitmap */
        match_hit hits[MATCH_POOL];
        size_t nh = match_rank_query(&ctx, &mq, 0, (uint32_t)n, MATCH_POOL, hits);
        assert_true(nh > 10);
        assert_rows_one_by_one(&ctx, &mq, hits, nh, NULL);
        for (size_t h = 0; h < nh; h++) {   /* terms the filter lets through that the query lacks */
            index_doc_terms cd;
            index_doc_terms_get(ix, hits[h].doc, &cd);
            for (size_t j = 0; j < cd.n; j++) {
                uint32_t t = cd.terms[j];
                int in_q = 0, bit = 0;
                for (size_t i = 0; i < mq.nterms; i++) {
                    in_q |= mq.terms[i] == t;
                    bit |= (mq.terms[i] & (bits - 1)) == (t & (bits - 1));
                }
                passed += bit && !in_q;
            }
            rows++;
        }
        match_query_free(&mq);
    }
    assert_true(rows > 50);
    assert_true(passed > 0);
    corpus_free(&ctx, ix, v, n);
}

/* Shared terms whose filter slot a pool cannot use, so it searches the
 * query's terms: two query terms on one bit (a filter smaller than the
 * term ids) and a query term at an index past the slots' range (a query
 * of more than 65534 terms). Docs of overlapping runs of words share most
 * of their terms; the last doc has 36000 words (~72000 terms). Each
 * query's pool (made here: its neighbours and the long doc; the long
 * doc's: the 100 docs before it) gives the rows of match_features() one
 * by one, and the check saw shared terms of both kinds. */
static void test_pool_filter_shared_slots(void **state)
{
    (void)state;
    enum { NS = 134, STRIDE = 300, SPAN = 600, WORDS = 40000, HUGE = 36000, SLOT_RANGE = 65534 };
    item *v = xcalloc(NS, sizeof *v);
    for (size_t i = 0; i < NS; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("W-%zu", i + 1);
        v[i].title = xstrdup("words in a row");
        size_t lo = i + 1 < NS ? i * STRIDE : 0, n = i + 1 < NS ? SPAN : HUGE;
        sbuf b;
        sb_init(&b);
        for (size_t k = lo; k < lo + n; k++) {
            char w[16];
            unique_word(k % WORDS, w);
            sb_printf(&b, "%s ", w);
        }
        v[i].body = xstrdup(b.s);
        sb_free(&b);
    }
    dindex *ix;
    assert_int_equal(index_build(v, NS, NULL, &ix, NULL), DP_OK);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    size_t on_shared_bit = 0, past_range = 0;
    for (uint32_t q = 0; q < NS; q++) {
        match_query mq;
        match_query_from_doc(&ctx, q, &mq);
        index_hit pool[MATCH_POOL];
        size_t np = 0;
        for (uint32_t d = q + 1 < NS ? (q > 2 ? q - 2 : 0) : NS - 1 - MATCH_POOL; d < NS && np < MATCH_POOL; d++)
            if (d != q && (q + 1 == NS || d <= q + 2 || d == NS - 1))
                pool[np++] = (index_hit){d, (float)index_score(ix, mq.q, d)};
        match_hit hits[MATCH_POOL];
        match_features_pool(&ctx, &mq, pool, np, hits);
        assert_rows_one_by_one(&ctx, &mq, hits, np, NULL);
        size_t bits = match_pool_filter_bits(index_nterms(ix), mq.nterms);
        uint32_t *per_bit = xcalloc(bits, sizeof *per_bit);   /* query terms on each bit */
        for (size_t i = 0; i < mq.nterms; i++) per_bit[mq.terms[i] & (bits - 1)]++;
        for (size_t h = 0; h < np; h++) {   /* the shared terms of each kind */
            index_doc_terms cd;
            index_doc_terms_get(ix, pool[h].doc, &cd);
            for (size_t i = 0, j = 0; i < mq.nterms && j < cd.n;) {
                if (mq.terms[i] < cd.terms[j]) i++;
                else if (cd.terms[j] < mq.terms[i]) j++;
                else {
                    on_shared_bit += per_bit[mq.terms[i] & (bits - 1)] > 1;
                    past_range += i >= SLOT_RANGE;
                    i++;
                    j++;
                }
            }
        }
        free(per_bit);
        match_query_free(&mq);
    }
    assert_true(on_shared_bit > 0);
    assert_true(past_range > 0);
    corpus_free(&ctx, ix, v, NS);
}

/* An indexed query's norms and counts, which a full ctx reads from its
 * per-doc table, equal those a sparse ctx (no table) sums from the
 * query's terms. */
static void test_query_stats_from_table(void **state)
{
    (void)state;
    item *v = corpus(N);
    dindex *ix;
    assert_int_equal(index_build(v, N, NULL, &ix, NULL), DP_OK);
    match_ctx full, sparse;
    match_ctx_init(&full, ix, NULL, NULL, 0);
    match_ctx_init_sparse(&sparse, ix, NULL, NULL, 0, 0);
    size_t big = 0;
    for (uint32_t q = 0; q < N; q++) {
        match_query a, b;
        match_query_from_doc(&full, q, &a);
        match_query_from_doc(&sparse, q, &b);
        assert_true(a.norm_all == b.norm_all && a.norm_all > 0);
        assert_true(a.norm_title == b.norm_title && a.norm_title > 0);
        assert_true(a.idf_mass == b.idf_mass && a.idf_mass > 0);
        assert_int_equal(a.nbigrams, b.nbigrams);
        assert_int_equal(a.ntitle_uni, b.ntitle_uni);
        big += a.nbigrams > 0;
        match_query_free(&a);
        match_query_free(&b);
    }
    assert_true(big > 0);
    match_ctx_free(&sparse);
    corpus_free(&full, ix, v, N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_equals_one_by_one),
        cmocka_unit_test(test_hash_path_equals_string_path),
        cmocka_unit_test(test_folded_labels),
        cmocka_unit_test(test_set_ids_equal_string_path),
        cmocka_unit_test(test_pool_caller_query_and_links),
        cmocka_unit_test(test_relink_in_batches),
        cmocka_unit_test(test_filter_bits),
        cmocka_unit_test(test_pool_filter_false_positives),
        cmocka_unit_test(test_pool_filter_shared_slots),
        cmocka_unit_test(test_query_stats_from_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
