/* test_index.c -- BM25F index: hand-computed scores, MaxScore top-k equal
 * to exhaustive scoring (capped and uncapped queries, many windows and
 * blocks, caller-made unsorted queries), the query term cap, ranges and
 * exclusion, accessors, determinism and concurrent queries (src/index). */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../../src/index/index.h"
#include "../../../src/index/index_int.h"   /* IX_BLOCK */

static void mk(item *it, const char *key, const char *title, const char *body)
{
    item_init(it);
    it->key = xstrdup(key);
    it->title = xstrdup(title);
    it->body = xstrdup(body ? body : "");
}

static void free_items(item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) item_free(&v[i]);
    free(v);
}

/* ---- hand-checkable corpus -------------------------------------------------- */

static void tiny_params(index_params *p)
{
    index_params_default(p);
    p->k1 = 1.2;
    p->weight[FIELD_TITLE] = 3.0;
    p->b[FIELD_TITLE] = 0.5;
    p->query_k1 = 0;          /* query saturation = k1 */
    p->bigrams = 0;
    p->strip_templates = 0;
    p->query_max_terms = 0;
    p->threads = 1;
}

static void test_bm25f_hand(void **st)
{
    (void)st;
    item *v = xcalloc(3, sizeof *v);
    mk(&v[0], "A-1", "alpha beta", NULL);
    mk(&v[1], "A-2", "alpha gamma gamma", NULL);
    mk(&v[2], "A-3", "delta", NULL);
    index_params p;
    tiny_params(&p);
    dindex *ix;
    dp_err err;
    assert_int_equal(index_build(v, 3, &p, &ix, &err), DP_OK);
    assert_int_equal(index_ndocs(ix), 3);
    assert_int_equal(index_nterms(ix), 4);

    item q;
    mk(&q, "Q", "alpha gamma", NULL);
    text_tokenizer *tk = text_tokenizer_new(NULL);
    index_query qq;
    index_query_from_item(ix, tk, &q, &qq);
    assert_int_equal(qq.n, 2);
    index_hit hits[5];
    size_t n = index_topk(ix, &qq, 0, 3, UINT32_MAX, 5, hits);
    assert_int_equal(n, 2);
    assert_int_equal(hits[0].doc, 1);
    assert_int_equal(hits[1].doc, 0);

    /* By hand: N = 3, avg title length 2, title weight 3, b 0.5, k1 1.2.
     *  idf(alpha) = ln(1 + 1.5/2.5) = ln 1.6, idf(gamma) = ln(1 + 2.5/1.5) = ln(8/3)
     *  doc 1: norm = 0.5 + 0.5*3/2 = 1.25; alpha: 3/1.25 = 2.4 -> 2.4/3.6;
     *         gamma: 6/1.25 = 4.8 -> 4.8/6.0 = 0.8
     *  doc 0: norm 1; alpha: 3 -> 3/4.2
     *  query: length 2 (norm 1), tf 1: t = 3, qw = t(k1+1)/(k1+t) = 6.6/4.2 */
    double qw = 6.6 / 4.2;
    double s1 = qw * (log(1.6) * 2.4 / 3.6 + log(8.0 / 3.0) * 0.8);
    double s0 = qw * log(1.6) * 3.0 / 4.2;
    assert_float_equal(hits[0].score, s1, 1e-5);
    assert_float_equal(hits[1].score, s0, 1e-5);
    assert_float_equal(index_score(ix, &qq, 1), hits[0].score, 0);
    assert_float_equal(index_score(ix, &qq, 2), 0.0, 0);
    double f[FIELD_COUNT];
    index_score_fields(ix, &qq, 1, f);
    assert_float_equal(f[FIELD_TITLE], s1, 1e-5);
    assert_float_equal(f[FIELD_PROSE] + f[FIELD_CODE] + f[FIELD_LABELS], 0.0, 0);

    /* idf and df accessors, term strings */
    int64_t t = -1;
    for (uint32_t i = 0; i < index_nterms(ix); i++)
        if (strcmp(index_term_str(ix, i), "alpha") == 0) t = i;
    assert_true(t >= 0);
    assert_int_equal(index_df(ix, (uint32_t)t), 2);
    assert_float_equal(index_idf(ix, (uint32_t)t), log(1.6), 1e-6);
    assert_int_equal(index_find(ix, "A-2"), 1);
    assert_int_equal(index_find(ix, "nope"), -1);
    assert_string_equal(index_item(ix, 2)->key, "A-3");

    /* forward view */
    index_doc_terms dt;
    index_doc_terms_get(ix, 1, &dt);
    assert_int_equal(dt.n, 2);
    assert_int_equal(dt.len[FIELD_TITLE], 3);
    assert_true(dt.terms[0] < dt.terms[1]);
    unsigned sum = 0;
    for (size_t i = 0; i < dt.n; i++) sum += dt.tf[i][FIELD_TITLE];
    assert_int_equal(sum, 3);

    /* query from a doc: its own duplicate-free corpus has only alpha shared */
    index_query_free(&qq);
    index_query_from_doc(ix, 0, &qq);
    assert_int_equal(qq.n, 1);   /* beta is df 1: cannot match another doc */
    n = index_topk(ix, &qq, 0, 3, 0, 5, hits);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].doc, 1);
    uint32_t sh[4];
    assert_int_equal(index_shared_terms(ix, 0, 1, sh, 4), 1);
    assert_string_equal(index_term_str(ix, sh[0]), "alpha");

    index_query_free(&qq);
    text_tokenizer_free(tk);
    item_free(&q);
    index_free(ix);
    free_items(v, 3);
}

static void test_title_outweighs_body(void **st)
{
    (void)st;
    item *v = xcalloc(3, sizeof *v);
    mk(&v[0], "1", "Replication stalls", "Some unrelated text about the cluster");
    mk(&v[1], "2", "Cluster upgrade", "The replication of blocks stalls sometimes during upgrade");
    mk(&v[2], "3", "Other thing", "nothing related here at all");
    index_params p;
    index_params_default(&p);
    p.strip_templates = 0;
    dindex *ix;
    assert_int_equal(index_build(v, 3, &p, &ix, NULL), DP_OK);
    item q;
    mk(&q, "Q", "replication stalls", "");
    text_tokenizer *tk = text_tokenizer_new(NULL);
    index_query qq;
    index_query_from_item(ix, tk, &q, &qq);
    index_hit h[3];
    assert_int_equal(index_topk(ix, &qq, 0, 3, UINT32_MAX, 3, h), 2);
    assert_int_equal(h[0].doc, 0);
    assert_int_equal(h[1].doc, 1);
    index_query_free(&qq);
    text_tokenizer_free(tk);
    item_free(&q);
    index_free(ix);
    free_items(v, 3);
}

/* ---- random corpus ---------------------------------------------------------------- */

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* Zipf-ish word: small ids are much more frequent. */
static void word(sbuf *sb)
{
    uint32_t r = rnd() % 1000, id = (r * r) / 4000;   /* 0..249, skewed */
    char w[8];
    w[0] = 'q';
    w[1] = (char)('a' + id % 26);
    w[2] = (char)('a' + (id / 26) % 26);
    w[3] = 'x';
    w[4] = '\0';
    sb_adds(sb, w);
    sb_addc(sb, ' ');
}

static item *random_corpus(size_t n)
{
    item *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        sbuf t, b;
        sb_init(&t);
        sb_init(&b);
        int nt = 2 + (int)(rnd() % 6), nb = (int)(rnd() % 60);
        for (int j = 0; j < nt; j++) word(&t);
        for (int j = 0; j < nb; j++) {
            word(&b);
            if (rnd() % 12 == 0) sb_addc(&b, '\n');
        }
        if (rnd() % 3 == 0) sb_adds(&b, "\n```\nqcode qcodeb\n```\n");
        char key[32];
        snprintf(key, sizeof key, "R-%zu", i);
        mk(&v[i], key, sb_str(&t), sb_str(&b));
        if (rnd() % 4 == 0) sv_push(&v[i].labels, rnd() % 2 ? "qlabela" : "qlabelb");
        sb_free(&t);
        sb_free(&b);
    }
    return v;
}

#define NR 600

/* index_topk equals index_topk_exhaustive for every doc's query (random k,
 * range and exclusion) on an index of nd docs built with max query terms
 * qmax; returns the number of hits compared. */
static size_t topk_vs_exhaustive(size_t nd, int qmax, int step)
{
    item *v = random_corpus(nd);
    index_params p;
    index_params_default(&p);
    p.threads = 2;
    p.query_max_terms = qmax;
    dindex *ix;
    assert_int_equal(index_build(v, nd, &p, &ix, NULL), DP_OK);
    index_hit a[100], b[100];
    size_t checked = 0;
    for (uint32_t d = 0; d < nd; d += (uint32_t)step) {
        index_query q;
        index_query_from_doc(ix, d, &q);
        if (qmax) assert_true(q.n <= (size_t)qmax);
        size_t k = 1 + rnd() % (rnd() % 4 ? 40 : 100);
        uint32_t lo = rnd() % 3 == 0 ? rnd() % (uint32_t)nd : 0;
        uint32_t hi = rnd() % 3 == 0 ? lo + rnd() % ((uint32_t)nd - lo + 1) : (uint32_t)nd;
        size_t na = index_topk(ix, &q, lo, hi, d, k, a);
        size_t nb = index_topk_exhaustive(ix, &q, lo, hi, d, k, b);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(a[i].doc, b[i].doc);
            assert_true(a[i].score == b[i].score);
            assert_true(a[i].doc >= lo && a[i].doc < hi && a[i].doc != d);
            assert_float_equal(index_score(ix, &q, a[i].doc), a[i].score, 0);
            if (i) assert_true(a[i - 1].score > a[i].score ||
                               (a[i - 1].score == a[i].score && a[i - 1].doc < a[i].doc));
        }
        checked += na;
        index_query_free(&q);
    }
    index_free(ix);
    free_items(v, nd);
    return checked;
}

static void test_topk_equals_exhaustive(void **st)
{
    (void)st;
    /* uncapped and capped queries; 600 docs span several of MaxScore's
     * document windows, 5000 reach its largest windows, and the common
     * words' lists span many blocks of block-max bounds */
    assert_true(topk_vs_exhaustive(NR, 0, 3) > 1000);
    assert_true(topk_vs_exhaustive(NR, 8, 3) > 1000);
    assert_true(topk_vs_exhaustive(5000, 0, 50) > 1000);
    assert_true(topk_vs_exhaustive(5000, 20, 50) > 1000);
}

/* query_max_terms keeps the terms with the largest qw * idf * max impact,
 * with their weights unchanged. max impact * idf of term t is the best
 * score of the one-term query {t, weight 1}. */
static void test_capped_query(void **st)
{
    (void)st;
    item *v = random_corpus(300);
    index_params p;
    index_params_default(&p);
    p.query_max_terms = 0;
    dindex *full, *capped;
    assert_int_equal(index_build(v, 300, &p, &full, NULL), DP_OK);
    p.query_max_terms = 6;
    assert_int_equal(index_build(v, 300, &p, &capped, NULL), DP_OK);
    size_t cut = 0;
    for (uint32_t d = 0; d < 300; d += 5) {
        index_query qf, qc;
        index_query_from_doc(full, d, &qf);
        index_query_from_doc(capped, d, &qc);
        assert_int_equal(qc.n, qf.n < 6 ? qf.n : 6);
        for (size_t i = 1; i < qc.n; i++) assert_true(qc.terms[i - 1] < qc.terms[i]);
        double kept_min = 1e300, dropped_max = 0;
        for (size_t i = 0; i < qf.n; i++) {
            uint32_t t = qf.terms[i];
            float one = 1;
            index_query single = {&t, &one, 1};
            double best = 0;
            for (uint32_t e = 0; e < 300; e++) {
                double sc = index_score(full, &single, e);
                if (sc > best) best = sc;
            }
            double key = qf.weight[i] * best;
            int in = 0;
            for (size_t j = 0; j < qc.n; j++)
                if (qc.terms[j] == t) {
                    in = 1;
                    assert_true(qc.weight[j] == qf.weight[i]);
                }
            if (in && key < kept_min) kept_min = key;
            if (!in && key > dropped_max) dropped_max = key;
        }
        if (qf.n > 6) {
            assert_true(kept_min >= dropped_max * (1 - 1e-6));
            cut++;
        }
        index_query_free(&qf);
        index_query_free(&qc);
    }
    assert_true(cut > 20);
    index_free(full);
    index_free(capped);
    free_items(v, 300);
}

/* Terms of equal rank: the cap keeps the lowest term ids (the tie-break
 * of query_max_terms), at every cap from 1 to one past the term count. */
static void test_capped_query_ties(void **st)
{
    (void)st;
    /* two docs with the same 20 words once each: every word has the same
     * df, idf, query weight and largest impact */
    const char *words = "zqa zqb zqc zqd zqe zqf zqg zqh zqi zqj zqk zql zqm zqn zqo zqp zqq zqr zqs zqt";
    item *v = xcalloc(3, sizeof *v);
    mk(&v[0], "T-1", words, NULL);
    mk(&v[1], "T-2", words, NULL);
    mk(&v[2], "T-3", "unrelated", NULL);
    index_params p;
    tiny_params(&p);
    dindex *full;
    assert_int_equal(index_build(v, 3, &p, &full, NULL), DP_OK);
    index_query qf;
    index_query_from_doc(full, 0, &qf);
    assert_int_equal(qf.n, 20);
    for (int max = 1; max <= 21; max++) {
        p.query_max_terms = max;
        dindex *capped;
        assert_int_equal(index_build(v, 3, &p, &capped, NULL), DP_OK);
        index_query qc;
        index_query_from_doc(capped, 0, &qc);
        assert_int_equal(qc.n, max < 20 ? (size_t)max : 20);
        for (size_t i = 0; i < qc.n; i++) {   /* the first of qf's, which ascend */
            assert_int_equal(qc.terms[i], qf.terms[i]);
            assert_true(qc.weight[i] == qf.weight[i]);
        }
        index_query_free(&qc);
        index_free(capped);
    }
    index_query_free(&qf);
    index_free(full);
    free_items(v, 3);
}

/* A caller-made query in no particular term order: pruned and exhaustive
 * retrieval still agree, and fields of many docs equal fields one by one. */
static void test_unsorted_query(void **st)
{
    (void)st;
    item *v = random_corpus(NR);
    dindex *ix;
    assert_int_equal(index_build(v, NR, NULL, &ix, NULL), DP_OK);
    size_t checked = 0;
    for (uint32_t d = 0; d < NR; d += 13) {
        index_query q;
        index_query_from_doc(ix, d, &q);
        for (size_t i = 0; i < q.n / 2; i++) {   /* reverse */
            uint32_t t = q.terms[i];
            float w = q.weight[i];
            q.terms[i] = q.terms[q.n - 1 - i];
            q.weight[i] = q.weight[q.n - 1 - i];
            q.terms[q.n - 1 - i] = t;
            q.weight[q.n - 1 - i] = w;
        }
        index_hit a[30], b[30];
        size_t na = index_topk(ix, &q, 0, NR, d, 30, a);
        size_t nb = index_topk_exhaustive(ix, &q, 0, NR, d, 30, b);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na * sizeof *a);
        uint32_t docs[30];
        double many[30][FIELD_COUNT], one[FIELD_COUNT];
        for (size_t i = 0; i < na; i++) docs[i] = a[i].doc;
        index_score_fields_many(ix, &q, docs, na, many);
        for (size_t i = 0; i < na; i++) {
            index_score_fields(ix, &q, docs[i], one);
            assert_memory_equal(one, many[i], sizeof one);
        }
        checked += na;
        index_query_free(&q);
    }
    assert_true(checked > 300);
    index_free(ix);
    free_items(v, NR);
}

static void test_range_exclude(void **st)
{
    (void)st;
    item *v = xcalloc(6, sizeof *v);
    for (int i = 0; i < 6; i++) {
        char key[24];
        snprintf(key, sizeof key, "K-%d", i);
        mk(&v[i], key, "same words here", NULL);   /* all tie */
    }
    index_params p;
    index_params_default(&p);
    p.strip_templates = 0;
    dindex *ix;
    assert_int_equal(index_build(v, 6, &p, &ix, NULL), DP_OK);
    index_query q;
    index_query_from_doc(ix, 3, &q);
    index_hit h[10];
    /* ties break by lower doc; the excluded doc never appears */
    size_t n = index_topk(ix, &q, 0, 6, 3, 10, h);
    assert_int_equal(n, 5);
    uint32_t want[] = {0, 1, 2, 4, 5};
    for (size_t i = 0; i < n; i++) assert_int_equal(h[i].doc, want[i]);
    n = index_topk(ix, &q, 0, 6, 3, 2, h);
    assert_int_equal(n, 2);
    assert_int_equal(h[0].doc, 0);
    assert_int_equal(h[1].doc, 1);
    n = index_topk(ix, &q, 2, 5, 3, 10, h);
    assert_int_equal(n, 2);
    assert_int_equal(h[0].doc, 2);
    assert_int_equal(h[1].doc, 4);
    assert_int_equal(index_topk(ix, &q, 4, 4, UINT32_MAX, 10, h), 0);
    assert_int_equal(index_topk(ix, &q, 5, 99, UINT32_MAX, 10, h), 1);   /* hi clamps */
    assert_int_equal(index_topk(ix, &q, 0, 6, UINT32_MAX, 0, h), 0);
    index_query_free(&q);
    index_free(ix);
    free_items(v, 6);
}

static void test_deterministic_threads(void **st)
{
    (void)st;
    item *v = random_corpus(300);
    index_params p;
    index_params_default(&p);
    dindex *a, *b;
    p.threads = 1;
    assert_int_equal(index_build(v, 300, &p, &a, NULL), DP_OK);
    p.threads = 3;
    assert_int_equal(index_build(v, 300, &p, &b, NULL), DP_OK);
    assert_int_equal(index_nterms(a), index_nterms(b));
    for (uint32_t t = 0; t < index_nterms(a); t++)
        assert_string_equal(index_term_str(a, t), index_term_str(b, t));
    for (uint32_t d = 0; d < 300; d += 7) {
        index_query qa, qb;
        index_query_from_doc(a, d, &qa);
        index_query_from_doc(b, d, &qb);
        index_hit ha[10], hb[10];
        size_t na = index_topk(a, &qa, 0, 300, d, 10, ha);
        size_t nb = index_topk(b, &qb, 0, 300, d, 10, hb);
        assert_int_equal(na, nb);
        assert_memory_equal(ha, hb, na * sizeof *ha);
        index_query_free(&qa);
        index_query_free(&qb);
    }
    index_free(a);
    index_free(b);
    free_items(v, 300);
}

/* A corpus big enough that the build splits the inversion by term ranges
 * over threads (and learns the template on several): the file written
 * from a 3-thread build holds the very bytes of a 1-thread one --
 * postings, impacts, block maxima, template. */
static void file_bytes(const dindex *ix, const char *path, unsigned char **buf, size_t *len)
{
    dp_err err;
    assert_int_equal(index_file_save(ix, path, NULL, &err), DP_OK);
    char *data = NULL;
    assert_int_equal(dp_read_file(path, &data, len, &err), DP_OK);
    *buf = (unsigned char *)data;
    unlink(path);
}

static void test_threads_same_file(void **st)
{
    (void)st;
    enum { ND = 2500 };
    item *v = random_corpus(ND);
    for (size_t i = 0; i < ND; i += 25) {   /* a template line in 4% of the bodies */
        char *b = xasprintf("### Steps to reproduce\n%s", v[i].body);
        free(v[i].body);
        v[i].body = b;
    }
    index_params p;
    index_params_default(&p);
    dindex *a, *b;
    p.threads = 1;
    assert_int_equal(index_build(v, ND, &p, &a, NULL), DP_OK);
    p.threads = 3;
    assert_int_equal(index_build(v, ND, &p, &b, NULL), DP_OK);
    assert_true(text_template_size(index_template(a)) >= 1);
    char path[] = "/tmp/test_index_threads_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unsigned char *fa, *fb;
    size_t la, lb;
    file_bytes(a, path, &fa, &la);
    file_bytes(b, path, &fb, &lb);
    assert_true(la > (size_t)1 << 20);   /* > 65536 postings: the threaded inversion ran */
    assert_int_equal(la, lb);
    assert_memory_equal(fa, fb, la);
    free(fa);
    free(fb);
    index_free(a);
    index_free(b);
    free_items(v, ND);
}

typedef struct tjob {
    const dindex *ix;
    const index_hit *ref;   /* [NR * 10] */
    const size_t *nref;
    int bad;
} tjob;

static void *tquery(void *arg)
{
    tjob *j = arg;
    text_tokenizer *tk = text_tokenizer_new(NULL);
    for (uint32_t d = 0; d < NR; d++) {
        index_query q;
        index_query_from_doc(j->ix, d, &q);
        index_hit h[10];
        size_t n = index_topk(j->ix, &q, 0, NR, d, 10, h);
        if (n != j->nref[d] || memcmp(h, j->ref + d * 10, n * sizeof *h) != 0) j->bad++;
        index_query_free(&q);
        /* the item path too: needs its own tokenizer */
        index_query_from_item(j->ix, tk, index_item(j->ix, d), &q);
        index_query_free(&q);
    }
    text_tokenizer_free(tk);
    return NULL;
}

static void test_concurrent_queries(void **st)
{
    (void)st;
    item *v = random_corpus(NR);
    dindex *ix;
    assert_int_equal(index_build(v, NR, NULL, &ix, NULL), DP_OK);
    index_hit *ref = xmalloc(NR * 10 * sizeof *ref);
    size_t *nref = xmalloc(NR * sizeof *nref);
    for (uint32_t d = 0; d < NR; d++) {
        index_query q;
        index_query_from_doc(ix, d, &q);
        nref[d] = index_topk(ix, &q, 0, NR, d, 10, ref + d * 10);
        index_query_free(&q);
    }
    pthread_t th[4];
    tjob jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (tjob){ix, ref, nref, 0};
        assert_int_equal(pthread_create(&th[i], NULL, tquery, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].bad, 0);
    }
    free(ref);
    free(nref);
    index_free(ix);
    free_items(v, NR);
}

static void test_fields_and_signals_kept(void **st)
{
    (void)st;
    item *v = xcalloc(2, sizeof *v);
    mk(&v[0], "X-1", "Crash", "It fails\n\tat org.a.B.c(B.java:1)\n");
    mk(&v[1], "X-2", "Other", "");
    dindex *ix;
    assert_int_equal(index_build(v, 2, NULL, &ix, NULL), DP_OK);
    assert_non_null(strstr(index_doc_fields(ix, 0)->f[FIELD_CODE], "org.a.B.c"));
    assert_true(sv_contains(&index_doc_signals(ix, 0)->frames, "org.a.B.c"));
    assert_non_null(index_template(ix));
    assert_null(index_doc_fields(ix, 2));
    index_free(ix);
    free_items(v, 2);
    /* empty corpus */
    assert_int_equal(index_build(NULL, 0, NULL, &ix, NULL), DP_OK);
    assert_int_equal(index_ndocs(ix), 0);
    index_free(ix);
}

/* The fields the index keeps are compact: the struct and the four strings
 * in one block, the same text, and the strings handed in freed; a doc's
 * fields split again after a release are the same text, compact too. */
static void test_fields_compact(void **st)
{
    (void)st;
    text_fields tf = {{xstrdup("Title"), xstrdup("some prose\nmore"), xstrdup(""), xstrdup("bug\nui")}};
    text_fields *c = index_fields_compact(&tf);
    const char *want[FIELD_COUNT] = {"Title", "some prose\nmore", "", "bug\nui"};
    const char *lo = (const char *)c, *hi = lo + sizeof *c + 6 + 16 + 1 + 7;
    for (int f = 0; f < FIELD_COUNT; f++) {
        assert_string_equal(c->f[f], want[f]);
        assert_true(c->f[f] >= lo + sizeof *c && c->f[f] + strlen(want[f]) < hi);   /* in the one block */
        assert_null(tf.f[f]);   /* handed over */
    }
    free(c);   /* one free: the whole of it */

    item *v = xcalloc(1, sizeof *v);
    mk(&v[0], "X-1", "Crash", "It fails\n\tat org.a.B.c(B.java:1)\n");
    dindex *ix;
    assert_int_equal(index_build(v, 1, NULL, &ix, NULL), DP_OK);
    const text_fields *built = index_doc_fields(ix, 0);
    char *ref[FIELD_COUNT];
    for (int f = 0; f < FIELD_COUNT; f++) {
        ref[f] = xstrdup(built->f[f]);
        assert_ptr_equal(built->f[f], f ? built->f[f - 1] + strlen(built->f[f - 1]) + 1 : (const char *)(built + 1));
    }
    index_fields_release(ix);
    assert_false(index_doc_fields_held(ix, 0));
    const text_fields *again = index_doc_fields(ix, 0);
    for (int f = 0; f < FIELD_COUNT; f++) {
        assert_string_equal(again->f[f], ref[f]);
        assert_ptr_equal(again->f[f], f ? again->f[f - 1] + strlen(again->f[f - 1]) + 1 : (const char *)(again + 1));
        free(ref[f]);
    }
    index_free(ix);
    free_items(v, 1);
}

/* ix_sort_keys orders keys as qsort does (term << 32 | bag index, terms
 * distinct) at every size around the insertion cutoff and for terms of one
 * to four bytes (radix passes skipped when the largest term is small). */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_sort_keys(void **st)
{
    (void)st;
    static const size_t sizes[] = {0, 1, 2, 23, 24, 25, 26, 255, 256, 300, 4097};
    static const uint32_t spans[] = {200, 60000, 3000000, 4000000000u};
    uint64_t *v = xmalloc(4097 * sizeof *v), *want = xmalloc(4097 * sizeof *want),
             *tmp = xmalloc(4097 * sizeof *tmp);
    uint64_t r = 88172645463325252ULL;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (size_t pi = 0; pi < sizeof spans / sizeof spans[0]; pi++) {
            size_t n = sizes[si];
            uint32_t span = spans[pi] > n ? spans[pi] : (uint32_t)n + 1;
            unsigned char *used = xcalloc(span, 1);
            for (size_t i = 0; i < n; i++) {
                uint32_t t;
                do {   /* xorshift; distinct terms, as a bag's are */
                    r ^= r << 13;
                    r ^= r >> 7;
                    r ^= r << 17;
                    t = (uint32_t)(r % span);
                } while (span <= 4097 * 4 && used[t]);
                if (span <= 4097 * 4) used[t] = 1;
                v[i] = want[i] = (uint64_t)t << 32 | i;
            }
            if (n) qsort(want, n, sizeof *want, cmp_u64);
            ix_sort_keys(v, tmp, n);
            assert_memory_equal(v, want, n * sizeof *v);
            free(used);
        }
    }
    free(v);
    free(want);
    free(tmp);
}

/* A built index's postings go once ranking is over: index_postings_bytes
 * counts them (doc and impact per posting, block maxima), the release
 * frees them and leaves what explaining reads -- doc terms, df, shared
 * terms, fields -- as they were; a query then finds nothing. */
static void test_postings_release(void **st)
{
    (void)st;
    item *v = xcalloc(3, sizeof *v);
    mk(&v[0], "X-1", "alpha beta", "gamma crash");
    mk(&v[1], "X-2", "alpha gamma", "crash");
    mk(&v[2], "X-3", "delta", "");
    index_params p;
    tiny_params(&p);
    dindex *ix;
    assert_int_equal(index_build(v, 3, &p, &ix, NULL), DP_OK);
    size_t postings = 0;
    for (uint32_t d = 0; d < 3; d++) {
        index_doc_terms dt;
        index_doc_terms_get(ix, d, &dt);
        postings += dt.n;   /* a posting per (doc, term) */
    }
    size_t nterms = index_nterms(ix);
    size_t want = postings * (sizeof(uint32_t) + sizeof(float)) + (postings / IX_BLOCK + nterms + 1) * sizeof(float);
    assert_int_equal(index_postings_bytes(ix), want);
    index_query qq;
    index_query_from_doc(ix, 0, &qq);
    index_hit hits[4];
    assert_int_equal(index_topk(ix, &qq, 0, 3, 0, 4, hits), 1);
    uint32_t sh[4];
    size_t nsh = index_shared_terms(ix, 0, 1, sh, 4);
    assert_true(nsh >= 2);
    index_postings_release(ix);
    assert_int_equal(index_postings_bytes(ix), 0);
    index_postings_release(ix);   /* twice: nothing more */
    uint32_t sh2[4];
    assert_int_equal(index_shared_terms(ix, 0, 1, sh2, 4), nsh);
    assert_memory_equal(sh, sh2, nsh * sizeof *sh);
    assert_int_equal(index_df(ix, sh[0]), 2);
    assert_non_null(strstr(index_doc_fields(ix, 1)->f[FIELD_TITLE], "gamma"));
    assert_int_equal(index_topk(ix, &qq, 0, 3, 0, 4, hits), 0);
    index_query_free(&qq);
    index_free(ix);
    free_items(v, 3);
}

/* How rare a frame or an error line is: the df of its rarest indexed term,
 * tokenized as the index tokenizes (a snake_case name is a term of its own). */
static void test_text_min_df(void **st)
{
    (void)st;
    item *v = xcalloc(4, sizeof *v);
    mk(&v[0], "X-1", "Crash in th_pool_release", "socket closed");
    mk(&v[1], "X-2", "Crash again", "th_pool_release socket");
    mk(&v[2], "X-3", "Crash", "socket");
    mk(&v[3], "X-4", "Hang", "th_conn_close");
    dindex *ix;
    assert_int_equal(index_build(v, 4, NULL, &ix, NULL), DP_OK);
    text_tokenizer *tk = index_tokenizer_new(ix);
    const char *frame = "th_pool_release";
    assert_int_equal(index_text_min_df(ix, tk, frame, strlen(frame)), 2);
    const char *line = "socket error (TH_EIO): th_conn_close";   /* rarest term decides */
    assert_int_equal(index_text_min_df(ix, tk, line, strlen(line)), 1);
    const char *common = "crash socket";
    assert_int_equal(index_text_min_df(ix, tk, common, strlen(common)), 3);
    const char *none = "zebra quokka";
    assert_int_equal(index_text_min_df(ix, tk, none, strlen(none)), 0);
    const char *two = "socket th_conn_close";
    assert_int_equal(index_text_min_df(ix, tk, two, 6), 3);   /* only n bytes count: "socket" */
    text_tokenizer_free(tk);
    index_free(ix);
    free_items(v, 4);
}

/* A term's bigram bit (index_term_bigram, which query building reads
 * instead of the term's string, learnt term by term on first ask) says
 * whether its string has a space, for every term and none past them,
 * asked first or again; and a query's bigram terms weigh
 * bigram_weight times what they weigh at 1 -- the same floats -- while
 * its other terms weigh the same. */
static void test_query_bigram_bits(void **st)
{
    (void)st;
    item *v = random_corpus(NR);
    index_params p;
    index_params_default(&p);
    p.query_max_terms = 0;   /* every term, whatever its weight */
    p.bigram_weight = 1.0;
    dindex *one, *ix;
    assert_int_equal(index_build(v, NR, &p, &one, NULL), DP_OK);
    p.bigram_weight = 0.3;
    assert_int_equal(index_build(v, NR, &p, &ix, NULL), DP_OK);
    size_t seen = 0;
    for (uint32_t d = 0; d < NR; d += 7) {
        index_query a, b;
        index_query_from_doc(one, d, &a);
        index_query_from_doc(ix, d, &b);
        assert_int_equal(a.n, b.n);
        for (size_t i = 0; i < a.n; i++) {
            assert_int_equal(a.terms[i], b.terms[i]);
            int sp = strchr(index_term_str(ix, b.terms[i]), ' ') != NULL;
            assert_true(b.weight[i] == (sp ? (float)(a.weight[i] * 0.3) : a.weight[i]));
            seen += (size_t)sp;
        }
        index_query_free(&a);
        index_query_free(&b);
    }
    /* each term asked twice: learnt from its string, then read back */
    for (int pass = 0; pass < 2; pass++) {
        size_t big = 0;
        for (uint32_t t = 0; t < index_nterms(ix); t++) {
            int sp = strchr(index_term_str(ix, t), ' ') != NULL;
            assert_int_equal(index_term_bigram(ix, t), sp);
            big += (size_t)sp;
        }
        assert_true(big > 100 && big < index_nterms(ix));
    }
    assert_int_equal(index_term_bigram(ix, (uint32_t)index_nterms(ix)), 0);
    assert_true(seen > 50);
    index_free(one);
    index_free(ix);
    free_items(v, NR);
}

/* ---- keys ------------------------------------------------------------------ */

/* A word of letters only, distinct for each (c, k). */
/* v[0..n) indexed with the default parameters on `threads` threads. */
static dindex *build_default(item *v, size_t n, int threads)
{
    index_params p;
    index_params_default(&p);
    p.threads = threads;
    dindex *ix;
    dp_err err;
    assert_int_equal(index_build(v, n, &p, &ix, &err), DP_OK);
    return ix;
}

static void word_of(char *out, char c, size_t k)
{
    *out++ = c;
    do {
        *out++ = (char)('a' + k % 26);
        k /= 26;
    } while (k);
    *out++ = ' ';
    *out = 0;
}

/* Every key of a build big enough for two posting threads (the key map is
 * built beside them) is found, the first doc of a repeated key wins, and
 * keys that are not there -- many, probing past the present ones -- are
 * not found. */
static void test_find_many_keys(void **state)
{
    (void)state;
    const size_t n = 6000;
    static const size_t mods[] = {97, 89, 83, 79, 73, 71, 67, 61, 59, 53, 47, 43, 41, 37, 31, 29, 23, 19, 17};
    const size_t nmods = sizeof mods / sizeof *mods;
    item *v = calloc(n, sizeof *v);
    char key[32], text[512];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "K-%zu", i == 4000 ? (size_t)17 : i);
        char *t = text;
        for (size_t m = 0; m < nmods; m++) {
            word_of(t, (char)('a' + m), i % mods[m]);
            t += strlen(t);
        }
        mk(&v[i], key, "crash report", text);
    }
    dindex *ix = build_default(v, n, 2);
    assert_true(index_postings_bytes(ix) > ((size_t)1 << 16) * (sizeof(uint32_t) + sizeof(float)));   /* two threads */
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "K-%zu", i);
        assert_int_equal(index_find(ix, key), i == 4000 ? -1 : (int64_t)(i == 17 ? 17 : i));
    }
    for (size_t i = n; i < 3 * n; i++) {
        snprintf(key, sizeof key, "K-%zu", i);
        assert_int_equal(index_find(ix, key), -1);
    }
    assert_int_equal(index_find(ix, "K-17"), 17);
    assert_int_equal(index_find(ix, NULL), -1);
    index_free(ix);
    free_items(v, n);
}

/* The terms two docs share, as index_shared_terms gives them: by idf
 * descending, ties by lower term, the first max -- checked against a sort
 * of the forward views' intersection, for pairs sharing from none to
 * hundreds of terms (past the selection's cut) and caps from 1 up. */
typedef struct ref_shared { uint32_t term; float idf; } ref_shared;

static int ref_shared_cmp(const void *a, const void *b)
{
    const ref_shared *x = a, *y = b;
    if (x->idf != y->idf) return x->idf > y->idf ? -1 : 1;
    return x->term < y->term ? -1 : x->term > y->term;
}

static void test_shared_terms_order(void **state)
{
    (void)state;
    const size_t n = 60;
    item *v = calloc(n, sizeof *v);
    char key[32], *text = malloc(64 * 1024);
    unsigned seed = 7;
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "S-%zu", i);
        char *t = text;
        /* words of 3 kinds: in every doc (one idf, many ties), in every
         * k-th doc (a few idfs), and drawn at random (many idfs) */
        for (size_t w = 0; w < 150; w++) {
            word_of(t, 'c', w);
            t += strlen(t);
        }
        for (size_t k = 2; k < 12; k++)
            if (i % k == 0)
                for (size_t w = 0; w < 20; w++) {
                    word_of(t, (char)('d' + k), w);
                    t += strlen(t);
                }
        for (size_t w = 0; w < 200; w++) {
            seed = seed * 1103515245u + 12345u;
            word_of(t, 'r', (seed >> 16) % 600);
            t += strlen(t);
        }
        mk(&v[i], key, "shared terms", text);
    }
    dindex *ix = build_default(v, n, 1);
    static const size_t caps[] = {1, 3, 64, 100000};
    uint32_t *got = malloc(2000 * sizeof *got);
    ref_shared *want = malloc(2000 * sizeof *want);
    size_t most = 0;
    for (uint32_t a = 0; a < n; a += 7)
        for (uint32_t b = 1; b < n; b += 5) {
            index_doc_terms da, db;
            index_doc_terms_get(ix, a, &da);
            index_doc_terms_get(ix, b, &db);
            size_t nw = 0;
            for (size_t i = 0, j = 0; i < da.n && j < db.n;) {
                if (da.terms[i] < db.terms[j]) i++;
                else if (db.terms[j] < da.terms[i]) j++;
                else {
                    want[nw++] = (ref_shared){da.terms[i], (float)index_idf(ix, da.terms[i])};
                    i++;
                    j++;
                }
            }
            qsort(want, nw, sizeof *want, ref_shared_cmp);
            if (nw > most) most = nw;
            for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
                size_t max = caps[c] < 2000 ? caps[c] : 2000;
                size_t ng = index_shared_terms(ix, a, b, got, max);
                assert_int_equal(ng, nw < max ? nw : max);
                for (size_t k = 0; k < ng; k++) assert_int_equal(got[k], want[k].term);
            }
        }
    assert_true(most > 200);   /* the cut at 64 and the whole list both ran */
    free(got);
    free(want);
    free(text);
    index_free(ix);
    free_items(v, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bm25f_hand),
        cmocka_unit_test(test_find_many_keys),
        cmocka_unit_test(test_shared_terms_order),
        cmocka_unit_test(test_title_outweighs_body),
        cmocka_unit_test(test_topk_equals_exhaustive),
        cmocka_unit_test(test_capped_query),
        cmocka_unit_test(test_capped_query_ties),
        cmocka_unit_test(test_unsorted_query),
        cmocka_unit_test(test_range_exclude),
        cmocka_unit_test(test_deterministic_threads),
        cmocka_unit_test(test_threads_same_file),
        cmocka_unit_test(test_concurrent_queries),
        cmocka_unit_test(test_fields_compact),
        cmocka_unit_test(test_sort_keys),
        cmocka_unit_test(test_postings_release),
        cmocka_unit_test(test_text_min_df),
        cmocka_unit_test(test_fields_and_signals_kept),
        cmocka_unit_test(test_query_bigram_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
