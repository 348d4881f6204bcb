/* test_topk.c -- index_topk's scalar loops and its AVX2 and AVX-512
 * kernels (topk_simd.c) each equal to index_topk_exhaustive and to each other:
 * random corpora whose words drift over the docs (posting lists dense in
 * some windows, empty or nearly in others), duplicate docs (score ties),
 * exclusion inside and outside the range, k from 1 to far more than the
 * matches; and the candidate kernel against its scalar definition on
 * hand-made accumulators. On a CPU without a kernel's instructions (or
 * under valgrind, which hides AVX-512) that kernel's tests are skipped (cmocka's skip(): tests/run.sh counts them
 * apart). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "../../../src/index/index_int.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* Word id for doc i of n: mostly from a band that moves with i (a term's
 * postings crowd into a stretch of docs, unlike the even spread a search
 * may guess), sometimes from a few words common everywhere. */
static void word(sbuf *sb, size_t i, size_t n)
{
    uint32_t id = rnd() % 4 == 0 ? rnd() % 6 : 6 + (uint32_t)(i * 300 / n) + rnd() % 25;
    char w[8];
    snprintf(w, sizeof w, "w%c%c", 'a' + (char)(id % 26), 'a' + (char)(id / 26 % 26));
    sb_adds(sb, w);
    sb_addc(sb, ' ');
}

/* n docs; about one in dup repeats an earlier doc word for word, so
 * their scores tie exactly (0: none). */
/* n empty items keyed PREFIX-i. */
static item *keyed_items(size_t n, const char *prefix)
{
    item *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        item_init(&v[i]);
        char key[32];
        snprintf(key, sizeof key, "%s-%zu", prefix, i);
        v[i].key = xstrdup(key);
    }
    return v;
}

static item *corpus(size_t n, uint32_t dup)
{
    item *v = keyed_items(n, "T");
    for (size_t i = 0; i < n; i++) {
        if (i && dup && rnd() % dup == 0) {
            size_t j = rnd() % i;
            v[i].title = xstrdup(v[j].title);
            v[i].body = xstrdup(v[j].body);
            continue;
        }
        sbuf t, b;
        sb_init(&t);
        sb_init(&b);
        int nt = 1 + (int)(rnd() % 5), nb = (int)(rnd() % 40);
        for (int j = 0; j < nt; j++) word(&t, i, n);
        for (int j = 0; j < nb; j++) word(&b, i, n);
        v[i].title = sb_take(&t);
        v[i].body = sb_take(&b);
    }
    return v;
}

static void free_items(item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) item_free(&v[i]);
    free(v);
}

static dindex *build(item *v, size_t n)
{
    index_params p;
    index_params_default(&p);
    p.threads = 2;
    p.strip_templates = 0;
    dindex *ix;
    assert_int_equal(index_build(v, n, &p, &ix, NULL), DP_OK);
    return ix;
}

static void assert_hits_equal(const index_hit *a, size_t na, const index_hit *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].doc, b[i].doc);
        assert_true(a[i].score == b[i].score);
    }
}

static const size_t KS[] = {1, 2, 7, 20, 100, 257, 1500, 20000};
#define NK (sizeof KS / sizeof KS[0])

/* For every step-th doc's query: index_topk with the path simd asks for
 * (and, when simd, the scalar path too) equals the exhaustive top k, over
 * random k, range and exclusion. Returns the hits compared and counts
 * in *ties the adjacent hits of equal score. */
static size_t check_corpus(const dindex *ix, uint32_t step, int simd, size_t *ties)
{
    uint32_t n = (uint32_t)index_ndocs(ix);
    size_t kmax = KS[NK - 1], checked = 0;
    index_hit *a = xmalloc(kmax * sizeof *a), *b = xmalloc(kmax * sizeof *b), *c = xmalloc(kmax * sizeof *c);
    for (uint32_t d = 0; d < n; d += step) {
        index_query q;
        index_query_from_doc(ix, d, &q);
        size_t k = KS[rnd() % NK];
        uint32_t lo = rnd() % 3 == 0 ? rnd() % n : 0;
        uint32_t hi = rnd() % 3 == 0 ? lo + rnd() % (n - lo + 1) : n;
        /* the query's own doc (in or out of range), another doc, none */
        uint32_t r = rnd() % 4, ex = r == 0 ? rnd() % n : r == 1 ? UINT32_MAX : d;
        assert_int_equal(ix_topk_simd_set(simd), simd);
        size_t na = index_topk(ix, &q, lo, hi, ex, k, a);
        size_t nb = index_topk_exhaustive(ix, &q, lo, hi, ex, k, b);
        assert_hits_equal(a, na, b, nb);
        if (simd) {
            ix_topk_simd_set(0);
            size_t nc = index_topk(ix, &q, lo, hi, ex, k, c);
            assert_hits_equal(a, na, c, nc);
        }
        for (size_t i = 0; i < na; i++) {
            assert_true(a[i].doc >= lo && a[i].doc < hi && a[i].doc != ex);
            if (i && a[i].score == a[i - 1].score) (*ties)++;
        }
        checked += na;
        index_query_free(&q);
    }
    free(a);
    free(b);
    free(c);
    return checked;
}

/* Five corpora: small (one window: the first is WIN_MIN = 2048 docs),
 * mid-sized (two), two whose last window (of 8192, of 16384 docs) is cut
 * short by the corpus's end, and one past the 32768-doc windows (WIN_MAX)
 * after the pool's cutoff has risen, with ties in each. */
static void check_all(int simd)
{
    static const struct { size_t n; uint32_t dup, step; } C[] = {
        {300, 4, 1}, {3000, 6, 7}, {9000, 8, 31}, {24000, 8, 113}, {70000, 8, 997}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        item *v = corpus(C[i].n, C[i].dup);
        dindex *ix = build(v, C[i].n);
        size_t ties = 0;
        assert_true(check_corpus(ix, C[i].step, simd, &ties) > 1000);
        assert_true(ties > 10);
        index_free(ix);
        free_items(v, C[i].n);
    }
    ix_topk_simd_set(IX_SIMD_BEST);
}

/* Skips the calling test when kernel cannot run here: the CPU lacks its
 * instructions, or valgrind hides them (AVX-512). */
static void need_kernel(int kernel)
{
    if (ix_topk_simd_set(kernel) != kernel) skip();
}

static void test_scalar_equals_exhaustive(void **st)
{
    (void)st;
    check_all(0);
}

static void test_avx2_equals_exhaustive(void **st)
{
    (void)st;
    need_kernel(IX_SIMD_AVX2);
    check_all(IX_SIMD_AVX2);
}

static void test_avx512_equals_exhaustive(void **st)
{
    (void)st;
    need_kernel(IX_SIMD_AVX512);
    check_all(IX_SIMD_AVX512);
}

/* A corpus where a list's bound and its length disagree, so ordering the
 * lists by bound per posting (window_bounds) splits them otherwise than by
 * bound: a title word in most docs (long list, high bound: title weight,
 * repeated in some), a few body words in a third of the docs (long, low
 * bound), rare words in twenty docs each (short; high or low bound by
 * field). Queries of every kind of doc, k at, below and far above the
 * matches, ranges cutting the lists, exclusion in and out of the range:
 * index_topk equals the exhaustive top k on both paths. */
static item *corpus_lopsided(size_t n)
{
    item *v = keyed_items(n, "L");
    for (size_t i = 0; i < n; i++) {
        sbuf t, b;
        sb_init(&t);
        sb_init(&b);
        char w[32];
        if (rnd() % 10 < 7) sb_adds(&t, rnd() % 4 ? "hot " : "hot hot hot ");
        snprintf(w, sizeof w, "rt%zu ", (i * 7 + rnd() % 3) % (n / 20));
        if (rnd() % 2) sb_adds(&t, w);
        for (int j = 0; j < 3; j++) {
            if (rnd() % 3 == 0) sb_adds(&b, j == 0 ? "cold " : j == 1 ? "mild " : "warm ");
            snprintf(w, sizeof w, "rb%u ", (uint32_t)((i + rnd() % 50) / 20 + j * 1000));
            sb_adds(&b, w);
        }
        if (i && rnd() % 9 == 0) {   /* a copy of an earlier doc: a tie */
            size_t j = rnd() % i;
            sb_free(&t);
            sb_free(&b);
            v[i].title = xstrdup(v[j].title);
            v[i].body = xstrdup(v[j].body);
            continue;
        }
        v[i].title = sb_take(&t);
        v[i].body = sb_take(&b);
    }
    return v;
}

static void test_lopsided_lists(void **st)
{
    (void)st;
    enum { N = 12000 };
    item *v = corpus_lopsided(N);
    dindex *ix = build(v, N);
    static const size_t K[] = {1, 20, 100, 100, 100, 1000, 30000};
    index_hit *a = xmalloc(30000 * sizeof *a), *b = xmalloc(30000 * sizeof *b);
    size_t ties = 0, checked = 0;
    for (uint32_t d = 0; d < N; d += 61) {
        index_query q;
        index_query_from_doc(ix, d, &q);
        size_t k = K[rnd() % (sizeof K / sizeof K[0])];
        uint32_t lo = rnd() % 2 ? rnd() % N : 0;
        uint32_t hi = rnd() % 2 ? lo + rnd() % (N - lo + 1) : N;
        uint32_t ex = rnd() % 3 ? d : lo + rnd() % (hi - lo + 1);
        for (int simd = IX_SIMD_NONE; simd <= IX_SIMD_AVX512; simd++) {
            if (ix_topk_simd_set(simd) != simd) continue;
            size_t na = index_topk(ix, &q, lo, hi, ex, k, a);
            size_t nb = index_topk_exhaustive(ix, &q, lo, hi, ex, k, b);
            assert_hits_equal(a, na, b, nb);
            checked += na;
            for (size_t i = 1; i < na; i++) ties += a[i].score == a[i - 1].score;
        }
        index_query_free(&q);
    }
    assert_true(checked > 10000);
    assert_true(ties > 100);
    ix_topk_simd_set(IX_SIMD_BEST);
    free(a);
    free(b);
    index_free(ix);
    free_items(v, N);
}

/* k far above the matches, a query of one rare term: every match comes
 * back, in rank order, whatever the path. */
static void test_k_above_matches(void **st)
{
    (void)st;
    item *v = corpus(500, 3);
    dindex *ix = build(v, 500);
    index_query q;
    index_query_from_doc(ix, 499, &q);
    index_hit a[600], b[600];
    for (int simd = IX_SIMD_NONE; simd <= IX_SIMD_AVX512; simd++) {
        if (ix_topk_simd_set(simd) != simd) continue;
        size_t na = index_topk(ix, &q, 0, 500, UINT32_MAX, 600, a);
        size_t nb = index_topk_exhaustive(ix, &q, 0, 500, UINT32_MAX, 600, b);
        assert_true(na > 0 && na < 500);
        assert_hits_equal(a, na, b, nb);
        for (size_t i = 1; i < na; i++)
            assert_true(a[i - 1].score > a[i].score || (a[i - 1].score == a[i].score && a[i - 1].doc < a[i].doc));
    }
    ix_topk_simd_set(IX_SIMD_BEST);
    index_query_free(&q);
    index_free(ix);
    free_items(v, 500);
}

#if IX_HAVE_SIMD
/* A candidate kernel equals its definition for every length up to 70
 * (each tail of a 16- or 8-step) and a few long ones, on entries set in
 * any one of their 64 bits, negative, or zero. */
static void check_kernel(size_t (*kernel)(const int64_t *, uint32_t, uint32_t *))
{
    enum { N = 8192 };
    int64_t *acc = xmalloc(N * sizeof *acc);
    uint32_t *got = xmalloc(N * sizeof *got), *want = xmalloc(N * sizeof *want);
    static const uint32_t LONG[] = {255, 256, 257, 4095, 8191, 8192};
    for (uint32_t t = 0; t < 71 + sizeof LONG / sizeof LONG[0]; t++) {
        uint32_t nw = t <= 70 ? t : LONG[t - 71];
        for (int dens = 0; dens < 3; dens++) {
            for (uint32_t o = 0; o < N; o++) {
                int set = dens == 0 ? rnd() % 8 == 0 : dens == 1 ? rnd() % 2 : rnd() % 8 != 0;
                uint64_t x = 1ULL << (rnd() % 64);   /* one bit, or its negation */
                if (rnd() % 2) x = ~x + 1;
                if (!set) x = 0;
                memcpy(&acc[o], &x, sizeof x);
            }
            size_t nwant = 0;
            for (uint32_t o = 0; o < nw; o++)
                if (acc[o] != 0) want[nwant++] = o;
            size_t ngot = kernel(acc, nw, got);
            assert_int_equal(ngot, nwant);
            if (nwant) assert_memory_equal(got, want, nwant * sizeof *want);
        }
    }
    free(acc);
    free(got);
    free(want);
}

static void test_candidates_avx2(void **st)
{
    (void)st;
    need_kernel(IX_SIMD_AVX2);
    check_kernel(ix_candidates_avx2);
    ix_topk_simd_set(IX_SIMD_BEST);
}

static void test_candidates_avx512(void **st)
{
    (void)st;
    need_kernel(IX_SIMD_AVX512);
    check_kernel(ix_candidates_avx512);
    ix_topk_simd_set(IX_SIMD_BEST);
}
#else
static void test_candidates_avx2(void **st)
{
    (void)st;
    skip();   /* no vector kernels on this platform */
}

static void test_candidates_avx512(void **st)
{
    (void)st;
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_equals_exhaustive),
        cmocka_unit_test(test_avx2_equals_exhaustive),
        cmocka_unit_test(test_avx512_equals_exhaustive),
        cmocka_unit_test(test_k_above_matches),
        cmocka_unit_test(test_lopsided_lists),
        cmocka_unit_test(test_candidates_avx2),
        cmocka_unit_test(test_candidates_avx512),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
