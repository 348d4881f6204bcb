/* test_pack.c -- kept hits packed (analyze_pack.h): every double comes back
 * bit for bit (-0.0, NaN payloads, infinities, subnormals, floats, repeats),
 * every int as it was, records walk back to back, and the common values
 * (0, 1, repeats, floats) take fewer bytes than raw doubles. */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "../../../src/analyze/analyze_pack.h"

static double from_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* Odd doubles a pack must keep exactly, cycled through the fields. */
static const uint64_t odd_bits[] = {
    0x0000000000000000ull,   /* +0.0 */
    0x8000000000000000ull,   /* -0.0: not +0.0 */
    0x3ff0000000000000ull,   /* 1.0 */
    0xbff0000000000000ull,   /* -1.0 */
    0x3fe0000000000000ull,   /* 0.5: a float holds it */
    0x7ff0000000000000ull,   /* +inf */
    0xfff0000000000000ull,   /* -inf */
    0x7ff8000000000123ull,   /* NaN with a payload */
    0x0000000000000001ull,   /* the smallest subnormal */
    0x7fefffffffffffffull,   /* DBL_MAX: out of a float's range */
    0x47efffffe0000000ull,   /* FLT_MAX exactly */
    0x47effffff0000000ull,   /* just over FLT_MAX, not a float */
    0x3fb999999999999aull,   /* 0.1: not a float */
    0x3ff0000000000001ull,   /* just over 1.0 */
    0x36a0000000000000ull,   /* a float subnormal's value */
};
#define NODD (sizeof odd_bits / sizeof *odd_bits)

static void fill(match_hit *h, match_judgment *jd, double *jf, unsigned seed)
{
    memset(h, 0, sizeof *h);
    memset(jd, 0, sizeof *jd);
    unsigned k = seed;
    double *all[4 + FEAT_COUNT + RELATION_COUNT + 3 + JF_COUNT];
    size_t n = 0;
    all[n++] = &h->bm25;
    all[n++] = &h->score;
    all[n++] = &h->margin;
    all[n++] = &h->prob;
    for (int f = 0; f < FEAT_COUNT; f++) all[n++] = &h->feat[f];
    for (int r = 0; r < RELATION_COUNT; r++) all[n++] = &jd->p[r];
    all[n++] = &jd->p_any;
    all[n++] = &jd->p_shown;
    all[n++] = &jd->strength;
    for (int f = 0; f < JF_COUNT; f++) all[n++] = &jf[f];
    for (size_t i = 0; i < n; i++) *all[i] = from_bits(odd_bits[(i + k) % NODD]);
    h->doc = 4000000000u + seed;
    h->bm25_rank = seed % 2 ? -7 : 63;
    jd->relation = (relation_kind)(seed % RELATION_COUNT);
    jd->confidence = (confidence_level)(seed % 3);
    jd->regression = seed % 2;
    jd->pr_pair = INT32_MAX;
    jd->template_twins = INT32_MIN;
    jd->series = -1;
    jd->double_post = 128;
    jd->same_failure = 1;
    jd->failure_lifted = -65;
}

static void assert_same_hit(const match_hit *a, const match_hit *b)
{
    assert_int_equal(a->doc, b->doc);
    assert_int_equal(a->bm25_rank, b->bm25_rank);
    assert_memory_equal(&a->bm25, &b->bm25, sizeof a->bm25);
    assert_memory_equal(&a->score, &b->score, sizeof a->score);
    assert_memory_equal(&a->margin, &b->margin, sizeof a->margin);
    assert_memory_equal(&a->prob, &b->prob, sizeof a->prob);
    assert_memory_equal(a->feat, b->feat, sizeof a->feat);
}

static void assert_same_judgment(const match_judgment *a, const match_judgment *b)
{
    assert_int_equal(a->relation, b->relation);
    assert_int_equal(a->confidence, b->confidence);
    assert_memory_equal(a->p, b->p, sizeof a->p);
    assert_memory_equal(&a->p_any, &b->p_any, sizeof a->p_any);
    assert_memory_equal(&a->p_shown, &b->p_shown, sizeof a->p_shown);
    assert_memory_equal(&a->strength, &b->strength, sizeof a->strength);
    assert_int_equal(a->regression, b->regression);
    assert_int_equal(a->pr_pair, b->pr_pair);
    assert_int_equal(a->template_twins, b->template_twins);
    assert_int_equal(a->series, b->series);
    assert_int_equal(a->double_post, b->double_post);
    assert_int_equal(a->same_failure, b->same_failure);
    assert_int_equal(a->failure_lifted, b->failure_lifted);
}

/* Every odd value in every slot (the seeds shift them), with and without
 * judge features, records back to back in one buffer. */
static void test_round_trip_exact(void **st)
{
    (void)st;
    enum { N = 2 * NODD };
    unsigned char *buf = malloc(N * ANALYZE_PACK_MAX);
    match_hit h[N];
    match_judgment jd[N];
    double jf[N][JF_COUNT];
    size_t len = 0;
    for (unsigned i = 0; i < N; i++) {
        fill(&h[i], &jd[i], jf[i], i);
        size_t l = analyze_pack(buf + len, &h[i], &jd[i], i % 2 ? NULL : jf[i], (int)i - 3);
        assert_true(l <= ANALYZE_PACK_MAX);
        assert_int_equal(analyze_pack_len(buf + len), l);
        len += l;
    }
    size_t at = 0;
    for (unsigned i = 0; i < N; i++) {
        assert_true(at < len);
        match_hit h2;
        match_judgment jd2;
        double jf2[JF_COUNT];
        memset(jf2, 0x5a, sizeof jf2);
        int rank = 0;
        assert_int_equal(analyze_pack_doc(buf + at), h[i].doc);
        int has = analyze_unpack(buf + at, &h2, &jd2, jf2, &rank);
        assert_int_equal(has, i % 2 == 0);
        assert_int_equal(rank, (int)i - 3);
        assert_same_hit(&h[i], &h2);
        assert_same_judgment(&jd[i], &jd2);
        if (has) assert_memory_equal(jf2, jf[i], sizeof jf2);
        at += analyze_pack_len(buf + at);
    }
    assert_int_equal(at, len);
    free(buf);
}

/* Zeros and ones take a tag alone, a repeated double a byte, a float four:
 * a hit of such values packs far below raw doubles, distinct ones near it. */
static void test_common_values_small(void **st)
{
    (void)st;
    unsigned char buf[ANALYZE_PACK_MAX];
    match_hit h;
    match_judgment jd;
    double jf[JF_COUNT];
    memset(&h, 0, sizeof h);
    memset(&jd, 0, sizeof jd);
    for (int f = 0; f < JF_COUNT; f++) jf[f] = f % 2;   /* zeros and ones */
    size_t flags = analyze_pack(buf, &h, &jd, jf, 1);
    assert_true(flags < 48);
    const double third = 1.0 / 3;   /* not a float */
    h.score = third;
    for (int f = 0; f < FEAT_COUNT; f++) h.feat[f] = third;   /* one raw, the rest repeats */
    size_t rep = analyze_pack(buf, &h, &jd, jf, 1);
    assert_true(rep <= flags + 8 + FEAT_COUNT);
    for (int f = 0; f < FEAT_COUNT; f++) h.feat[f] = f + 2;   /* small ints: floats */
    size_t fl = analyze_pack(buf, &h, &jd, jf, 1);
    assert_true(fl <= flags + 8 + 5 * FEAT_COUNT);
    for (int f = 0; f < FEAT_COUNT; f++) h.feat[f] = third + f;   /* distinct, raw */
    size_t raw = analyze_pack(buf, &h, &jd, jf, 1);
    assert_true(raw >= flags + 8 * FEAT_COUNT);
    match_hit h2;
    match_judgment jd2;
    double jf2[JF_COUNT];
    int rank;
    analyze_unpack(buf, &h2, &jd2, jf2, &rank);
    assert_same_hit(&h, &h2);
    assert_memory_equal(jf, jf2, sizeof jf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_exact),
        cmocka_unit_test(test_common_values_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
