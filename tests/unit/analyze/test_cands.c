/* test_cands.c -- the candidate pairs sorted and deduplicated: the result
 * is one stable sort of the runs' concatenation by analyze_cand_cmp with
 * the first of each pair kept, whatever the number of threads and however
 * the candidates are split into runs. */
#include "testutil.h"

#include <stdlib.h>

#include "../../../src/analyze/analyze_cands.h"

static const unsigned char REC;   /* a non-NULL packed record: only its presence counts */

/* qsort by analyze_cand_cmp, ties by input position (`old` holds it):
 * the stable order, by definition. */
static int by_cmp_then_pos(const void *x, const void *y)
{
    int c = analyze_cand_cmp(x, y);
    if (c) return c;
    const cand *a = x, *b = y;
    return a->old < b->old ? -1 : a->old > b->old;
}

/* n candidates over ndocs docs with many ties: few probabilities and
 * ranks, every pair repeated. */
static cand *random_cands(size_t n, uint32_t ndocs, unsigned seed)
{
    srand(seed);
    cand *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)rand() % ndocs, b = (uint32_t)rand() % ndocs;
        int fresh = rand() % 4 != 0;
        v[i] = (cand){.later = a > b ? a : b, .earlier = a > b ? b : a, .rank = rand() % 3,
                      .canonical = UINT32_MAX, .rec = fresh ? &REC : NULL, .p_any = (rand() % 3) / 2.0,
                      .old = i, .is_new = (unsigned char)fresh};
    }
    return v;
}

/* The expected result: stable sort, then the first of each pair. */
static size_t reference(const cand *in, size_t n, cand **out)
{
    cand *v = malloc((n ? n : 1) * sizeof *v);
    memcpy(v, in, n * sizeof *v);
    qsort(v, n, sizeof *v, by_cmp_then_pos);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (!o || v[o - 1].later != v[i].later || v[o - 1].earlier != v[i].earlier) v[o++] = v[i];
    *out = v;
    return o;
}

/* in[0, n) cut into runs at the given points, sorted on `threads`. */
static cand *sorted_in_runs(const cand *in, size_t n, const size_t *cuts, size_t ncuts, int threads, size_t *nout)
{
    cand_run runs[8];
    size_t nr = 0, from = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t to = k < ncuts ? cuts[k] : n;
        runs[nr].n = to - from;
        runs[nr].v = malloc((to - from ? to - from : 1) * sizeof *in);
        memcpy(runs[nr].v, in + from, (to - from) * sizeof *in);
        nr++;
        from = to;
    }
    cand *v = analyze_cands_sort_unique(runs, nr, threads, nout);
    for (size_t r = 0; r < nr; r++) assert_null(runs[r].v);   /* freed and emptied */
    return v;
}

static void assert_same(const cand *a, const cand *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].later, b[i].later);
        assert_int_equal(a[i].earlier, b[i].earlier);
        assert_int_equal(a[i].old, b[i].old);   /* the same one of equals kept */
    }
}

/* Enough docs for several buckets chunks (so two threads share them), and
 * some long buckets (the merge sort past its insertion cut-off). */
static void test_stable_unique(void **state)
{
    (void)state;
    const size_t n = 60000;
    cand *in = random_cands(n, 9000, 7);
    for (size_t i = 0; i < 2000; i++) in[i].later = 8999;   /* one long bucket */
    for (size_t i = 0; i < 2000; i++)
        if (in[i].earlier >= 8999) in[i].earlier = 5;
    cand *want;
    size_t nwant = reference(in, n, &want);
    assert_true(nwant < n);   /* repeats were there to drop */
    const size_t cuts[] = {1, 2000, 31000, 31000};
    for (int threads = 1; threads <= 3; threads++) {
        size_t ngot;
        cand *got = sorted_in_runs(in, n, cuts, 4, threads, &ngot);
        assert_int_equal(ngot, nwant);
        assert_same(got, want, nwant);
        free(got);
        got = sorted_in_runs(in, n, NULL, 0, threads, &ngot);
        assert_int_equal(ngot, nwant);
        assert_same(got, want, nwant);
        free(got);
    }
    free(want);
    free(in);
}

/* Of two equal candidates the earlier run's is kept; a fresh one beats a
 * stored one of the same pair wherever it comes. */
static void test_ties_keep_order(void **state)
{
    (void)state;
    cand in[4] = {
        {.later = 9, .earlier = 2, .old = 0, .is_new = 0},
        {.later = 9, .earlier = 2, .rank = 1, .rec = &REC, .p_any = 0.5, .old = 1, .is_new = 1},
        {.later = 9, .earlier = 2, .rank = 1, .rec = &REC, .p_any = 0.5, .old = 2, .is_new = 1},
        {.later = 3, .earlier = 1, .old = 3, .is_new = 0},
    };
    const size_t cut[] = {2};
    size_t n;
    cand *v = sorted_in_runs(in, 4, cut, 1, 2, &n);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].old, 3);
    assert_int_equal(v[1].old, 1);
    free(v);
}

static void test_empty(void **state)
{
    (void)state;
    size_t n = 1;
    cand *v = analyze_cands_sort_unique(NULL, 0, 2, &n);
    assert_int_equal(n, 0);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stable_unique),
        cmocka_unit_test(test_ties_keep_order),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
