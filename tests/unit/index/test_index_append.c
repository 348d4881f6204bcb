/* test_index_append.c -- growing a persisted index (index_append) and the
 * statistics of record (index.h): new docs appended to an index opened from
 * its file make, bit for bit, the index a build of all the items makes with
 * the same record (terms, ids, df, idf, docs, top-k docs and scores, the
 * snapshot saved from it), and so does that index saved and opened again;
 * appending is refused, leaving the index as it was, when the new docs move
 * the averages beyond the bound, when the file was not built with the
 * record, and when the template would be learned again; a build takes the
 * record only within the bound. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/index/index.h"
#include "ixcorpus.h"

#define N 300
#define M 5

/* p with the averages a build of v[0..n) finds as its record. */
static void record_params(const item *v, size_t n, index_params *p)
{
    params(p);
    dindex *a;
    dp_err err;
    assert_int_equal(index_build(v, n, p, &a, &err), DP_OK);
    index_avglen(a, p->avglen_record);
    index_free(a);
}

/* Builds v[0..n) with p, saves it stamped {1, 42}, opens it behind {2, 42}. */
static dindex *saved_and_opened(const item *v, size_t n, const index_params *p, dindex **built)
{
    dp_err err;
    assert_int_equal(index_build(v, n, p, built, &err), DP_OK);
    index_stamp at = {1, 42}, now = {2, 42};
    assert_int_equal(index_file_save(*built, ix_path, &at, &err), DP_OK);
    dindex *ix = NULL;
    uint64_t seq = 0;
    const char *why = NULL;
    assert_int_equal(index_file_open_behind(&now, p, ix_path, &ix, &seq, &why), DP_OK);
    assert_int_equal(seq, 1);
    return ix;
}

/* a and b are the same index, bit for bit; with snap, their snapshots
 * too (a build from scratch counts the docs its template was learned on
 * anew: another snapshot header). */
static void assert_same_index(const dindex *a, const dindex *b, const item *v, int snap)
{
    assert_int_equal(index_nterms(a), index_nterms(b));
    for (uint32_t t = 0; t < index_nterms(a); t++) {
        assert_string_equal(index_term_str(a, t), index_term_str(b, t));
        assert_int_equal(index_term_bigram(b, t), strchr(index_term_str(a, t), ' ') != NULL);
        assert_true(index_idf(a, t) == index_idf(b, t));
        assert_int_equal(index_df(a, t), index_df(b, t));
    }
    double la[FIELD_COUNT], lb[FIELD_COUNT];
    index_avglen(a, la);
    index_avglen(b, lb);
    assert_memory_equal(la, lb, sizeof la);
    assert_docs_equal(a, b);
    for (uint32_t d = 0; d < index_ndocs(a); d++) {
        index_doc_terms ta, tb;
        index_doc_terms_get(a, d, &ta);
        index_doc_terms_get(b, d, &tb);
        assert_memory_equal(ta.terms, tb.terms, ta.n * sizeof *ta.terms);
        assert_int_equal(index_find(b, v[d].key), d);
        assert_string_equal(index_doc_key(b, d), v[d].key);
    }
    assert_rankings_equal(a, b, 0);
    for (uint32_t qd = 0; qd < index_ndocs(a); qd += 37) {   /* exhaustive and per field too */
        index_query q;
        index_query_from_doc(a, qd, &q);
        index_hit ha[20], hb[20];
        uint32_t n = (uint32_t)index_ndocs(a);
        size_t na = index_topk_exhaustive(a, &q, 0, n, qd, 20, ha), nb = index_topk_exhaustive(b, &q, 0, n, qd, 20, hb);
        assert_int_equal(na, nb);
        assert_memory_equal(ha, hb, na * sizeof *ha);
        double fa[FIELD_COUNT], fb[FIELD_COUNT];
        index_score_fields(a, &q, n - 1, fa);
        index_score_fields(b, &q, n - 1, fb);
        assert_memory_equal(fa, fb, sizeof fa);
        index_query_free(&q);
    }
    if (snap) assert_snapshots_equal(a, b);
}

static void test_append_equals_build(void **st)
{
    (void)st;
    item *v = corpus(N + M);
    index_params p;
    record_params(v, N, &p);
    dindex *a, *b = saved_and_opened(v, N, &p, &a);
    const char *why = "unset";
    assert_int_equal(index_term_bigram(b, 0), strchr(index_term_str(b, 0), ' ') != NULL);   /* bits made ... */
    assert_int_equal(index_append(b, v, N + M, &why), DP_OK);   /* ... and made again for the new terms */
    assert_int_equal(index_ndocs(b), N + M);
    /* a build of every item from the file's snapshot, with the record */
    sbuf snap;
    sb_init(&snap);
    index_snapshot_save(a, &snap);
    dindex *c;
    index_snap_info info;
    dp_err err;
    assert_int_equal(index_build_snap(v, N + M, &p, snap.s, snap.len, &c, &info, &err), DP_OK);
    assert_int_equal(info.reused, N);
    assert_int_equal(info.analysed, M);
    assert_same_index(c, b, v, 1);
    /* a build from scratch learns the template again: here the same one */
    dindex *d;
    assert_int_equal(index_build(v, N + M, &p, &d, &err), DP_OK);
    assert_same_index(d, b, v, 0);
    /* saved and opened again, the grown index is still that index */
    assert_int_equal(index_file_save(b, ix_path, NULL, &err), DP_OK);
    dindex *e;
    assert_int_equal(index_file_open(v, N + M, &p, ix_path, &e, &why), DP_OK);
    assert_same_index(c, e, v, 1);
    /* it is no longer the file's index: never restamped as such */
    index_stamp s = {3, 42};
    assert_int_equal(index_file_restamp(b, ix_path, &s, &err), DP_ERR);
    sb_free(&snap);
    index_free(a);
    index_free(b);
    index_free(c);
    index_free(d);
    index_free(e);
    free_items(v, N + M);
}

/* Refused with a reason containing want; the index stays the built one. */
static void expect_refused(dindex *ix, const dindex *built, const item *v, size_t ntotal, const char *want)
{
    const char *why = NULL;
    assert_int_equal(index_append(ix, v, ntotal, &why), DP_ERR);
    assert_non_null(why);
    if (!strstr(why, want)) fail_msg("refused because \"%s\", expected \"%s\"", why, want);
    assert_int_equal(index_ndocs(ix), index_ndocs(built));
    assert_rankings_equal(built, ix, 0);
}

static void test_refused(void **st)
{
    (void)st;
    item *v = corpus(N + M);
    for (size_t i = N; i < N + M; i++) {   /* new items far longer than the others */
        free(v[i].title);
        sbuf t;
        sb_init(&t);
        for (int w = 0; w < 200; w++) sb_printf(&t, "%s ", WORDS[(i + (size_t)w) % NW]);
        v[i].title = sb_take(&t);
    }
    index_params p;
    record_params(v, N, &p);
    dindex *a, *b = saved_and_opened(v, N, &p, &a);
    expect_refused(b, a, v, N + M, "move the average field lengths");
    index_free(b);
    index_free(a);
    /* a file built with other averages than the record */
    index_params q = p;
    for (int f = 0; f < FIELD_COUNT; f++) q.avglen_record[f] = 0;
    b = saved_and_opened(v, N, &q, &a);
    index_free(b);
    const char *why = NULL;
    index_stamp now = {2, 42};
    q.avglen_record[FIELD_TITLE] = p.avglen_record[FIELD_TITLE] * 1.001;
    q.avglen_record[FIELD_PROSE] = p.avglen_record[FIELD_PROSE];
    q.avglen_record[FIELD_CODE] = p.avglen_record[FIELD_CODE];
    q.avglen_record[FIELD_LABELS] = p.avglen_record[FIELD_LABELS];
    assert_int_equal(index_file_open_behind(&now, &q, ix_path, &b, NULL, &why), DP_OK);
    expect_refused(b, a, v, N + 1, "not built with the statistics of record");
    index_free(b);
    index_free(a);
    free_items(v, N + M);
    /* grown by more than a tenth since the template was learned */
    v = corpus(120);
    record_params(v, 100, &p);
    b = saved_and_opened(v, 100, &p, &a);
    expect_refused(b, a, v, 120, "template");
    index_free(b);
    index_free(a);
    free_items(v, 120);
}

/* A build takes the record within INDEX_RECORD_DRIFT of the docs' own
 * averages, and the docs' own beyond it. */
static void test_build_record(void **st)
{
    (void)st;
    item *v = corpus(N);
    index_params p;
    record_params(v, N, &p);
    double live[FIELD_COUNT], got[FIELD_COUNT];
    memcpy(live, p.avglen_record, sizeof live);
    dindex *a;
    dp_err err;
    p.avglen_record[FIELD_PROSE] = live[FIELD_PROSE] * (1 + INDEX_RECORD_DRIFT / 2);
    assert_int_equal(index_build(v, N, &p, &a, &err), DP_OK);
    index_avglen(a, got);
    assert_memory_equal(got, p.avglen_record, sizeof got);
    index_free(a);
    p.avglen_record[FIELD_PROSE] = live[FIELD_PROSE] * (1 + INDEX_RECORD_DRIFT * 2);
    assert_int_equal(index_build(v, N, &p, &a, &err), DP_OK);
    index_avglen(a, got);
    assert_memory_equal(got, live, sizeof got);
    index_free(a);
    free_items(v, N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_equals_build, ix_path_setup, ix_path_teardown),
        cmocka_unit_test_setup_teardown(test_refused, ix_path_setup, ix_path_teardown),
        cmocka_unit_test_setup_teardown(test_build_record, ix_path_setup, ix_path_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
