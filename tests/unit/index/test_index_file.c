/* test_index_file.c -- the persisted index (src/index/index_file.c): an
 * index opened from its file equals the fresh build that wrote it, bit for
 * bit (terms, statistics, docs, top-k docs and scores, the snapshot saved
 * from it); a missing file is DP_NOTFOUND; a truncated, damaged or foreign
 * file and a stale one (an item edited, added or moved; other parameters or
 * text options) are refused with the reason, and never crash. Opened by its
 * stamp instead, it needs no item: it names its docs (key, row id) itself,
 * and another stamp (sequence or id) is refused. A sealed file opens without
 * its payload checksum while it is unchanged, and with it after any write,
 * a damaged or foreign seal, or a save; a file changed within the settle
 * time is not sealed. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../../src/index/index.h"
#include "ixcorpus.h"

#define N 300

static void build_and_save(const item *v, size_t n, const index_params *p, dindex **out)
{
    dp_err err;
    assert_int_equal(index_build(v, n, p, out, &err), DP_OK);
    assert_int_equal(index_file_save(*out, ix_path, NULL, &err), DP_OK);
}

/* Opening must fail with a reason containing want. */
static void expect_refused(const item *v, size_t n, const index_params *p, const char *want)
{
    dindex *ix = (dindex *)1;
    const char *why = NULL;
    assert_int_equal(index_file_open(v, n, p, ix_path, &ix, &why), DP_ERR);
    assert_null(ix);
    assert_non_null(why);
    if (!strstr(why, want)) fail_msg("refused because \"%s\", expected \"%s\"", why, want);
}

static void test_equals_fresh_build(void **st)
{
    (void)st;
    item *v = corpus(N);
    index_params p;
    params(&p);
    dindex *a, *b;
    build_and_save(v, N, &p, &a);
    const char *why = "unset";
    assert_int_equal(index_file_open(v, N, &p, ix_path, &b, &why), DP_OK);
    assert_true(index_is_mapped(b));
    assert_false(index_is_mapped(a));
    assert_int_equal(index_nterms(a), index_nterms(b));
    for (uint32_t t = 0; t < index_nterms(a); t++) {   /* same ids, strings, statistics */
        assert_string_equal(index_term_str(a, t), index_term_str(b, t));
        assert_true(index_idf(a, t) == index_idf(b, t));
        assert_int_equal(index_df(a, t), index_df(b, t));
    }
    assert_docs_equal(a, b);
    for (uint32_t d = 0; d < N; d++) {   /* term ids too, not only strings */
        index_doc_terms ta, tb;
        index_doc_terms_get(a, d, &ta);
        index_doc_terms_get(b, d, &tb);
        assert_memory_equal(ta.terms, tb.terms, ta.n * sizeof *ta.terms);
        assert_int_equal(index_find(b, v[d].key), index_find(a, v[d].key));
    }
    assert_rankings_equal(a, b, 0);
    /* exhaustive scoring and per-field scores agree as well */
    index_query q;
    index_query_from_doc(a, 7, &q);
    index_hit ha[20], hb[20];
    size_t na = index_topk_exhaustive(a, &q, 0, N, 7, 20, ha), nb = index_topk_exhaustive(b, &q, 0, N, 7, 20, hb);
    assert_int_equal(na, nb);
    assert_memory_equal(ha, hb, na * sizeof *ha);
    double fa[FIELD_COUNT], fb[FIELD_COUNT];
    index_score_fields(a, &q, ha[0].doc, fa);
    index_score_fields(b, &q, ha[0].doc, fb);
    assert_memory_equal(fa, fb, sizeof fa);
    index_query_free(&q);
    /* the snapshot saved from the mapped index is byte for byte the built one's */
    assert_snapshots_equal(a, b);
    index_free(a);
    index_free(b);
    free_items(v, N);
}

static void test_missing(void **st)
{
    (void)st;
    item *v = corpus(10);
    index_params p;
    params(&p);
    dindex *ix = NULL;
    const char *why = NULL;
    assert_int_equal(index_file_open(v, 10, &p, ix_path, &ix, &why), DP_NOTFOUND);
    assert_null(ix);
    free_items(v, 10);
}

static long file_size(void)
{
    struct stat sb;
    assert_int_equal(stat(ix_path, &sb), 0);
    return (long)sb.st_size;
}

static void flip(long at)
{
    FILE *f = fopen(ix_path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    int c = fgetc(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    fputc(c ^ 0x20, f);
    fclose(f);
}

static void test_damaged(void **st)
{
    (void)st;
    item *v = corpus(N);
    index_params p;
    params(&p);
    dindex *a;
    build_and_save(v, N, &p, &a);
    long size = file_size();
    /* a flipped byte anywhere: in the payload, in the header's counts, in the magic */
    long spots[] = {size - 1, size / 2, size / 3, 600, 100, 3};
    const char *reason[] = {"checksum", "checksum", "checksum", "checksum", "header checksum", "not a doppel"};
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        flip(spots[i]);
        expect_refused(v, N, &p, reason[i]);
        flip(spots[i]);
    }
    dindex *b;
    const char *why;
    assert_int_equal(index_file_open(v, N, &p, ix_path, &b, &why), DP_OK);   /* flipped back: fine */
    index_free(b);
    /* truncated: by a byte, by half, into the header, to nothing */
    long cuts[] = {size - 8, size / 2, 40, 0};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(truncate(ix_path, cuts[i]), 0);
        expect_refused(v, N, &p, "truncated");
        dp_err err;
        assert_int_equal(index_file_save(a, ix_path, NULL, &err), DP_OK);   /* rebuilt */
    }
    /* longer than written: damaged */
    FILE *f = fopen(ix_path, "ab");
    fputs("12345678", f);
    fclose(f);
    expect_refused(v, N, &p, "damaged");
    /* not a file of ours at all */
    f = fopen(ix_path, "wb");
    for (int i = 0; i < 4096; i++) fputc(i * 131 + 7, f);
    fclose(f);
    expect_refused(v, N, &p, "not a doppel");
    index_free(a);
    free_items(v, N);
}

static void test_stale(void **st)
{
    (void)st;
    item *v = corpus(N);
    index_params p;
    params(&p);
    dindex *a;
    build_and_save(v, N, &p, &a);
    /* an item edited */
    char *old = v[42].title;
    v[42].title = xstrdup("an edited title");
    expect_refused(v, N, &p, "items changed");
    free(v[42].title);
    v[42].title = old;
    /* a label edited: the pipeline reads labels too */
    sv_push(&v[9].labels, "regression");
    expect_refused(v, N, &p, "items changed");
    v[9].labels.n--;
    free(v[9].labels.v[v[9].labels.n]);
    /* an item more, an item fewer, two items swapped */
    expect_refused(v, N - 1, &p, "items changed");
    item t = v[3];
    v[3] = v[4];
    v[4] = t;
    expect_refused(v, N, &p, "items changed");
    v[4] = v[3];
    v[3] = t;
    /* other scoring parameters: the stored impacts are not theirs */
    index_params q = p;
    q.k1 = 1.2;
    expect_refused(v, N, &q, "other index parameters");
    q = p;
    q.b[FIELD_PROSE] = 0.5;
    expect_refused(v, N, &q, "other index parameters");
    /* other text options: another pipeline */
    q = p;
    q.text.stem = 0;
    expect_refused(v, N, &q, "text pipeline");
    /* query-side parameters are the caller's: accepted */
    q = p;
    q.query_max_terms = 5;
    q.threads = 1;
    dindex *b;
    const char *why;
    assert_int_equal(index_file_open(v, N, &q, ix_path, &b, &why), DP_OK);
    index_free(b);
    index_free(a);
    free_items(v, N);
}

/* Built without templates, and an empty index: both round-trip. */
static void test_edge_cases(void **st)
{
    (void)st;
    item *v = corpus(20);
    index_params p;
    params(&p);
    p.strip_templates = 0;
    dindex *a, *b;
    build_and_save(v, 20, &p, &a);
    const char *why;
    assert_int_equal(index_file_open(v, 20, &p, ix_path, &b, &why), DP_OK);
    assert_null(index_template(b));
    assert_rankings_equal(a, b, 0);
    index_free(a);
    index_free(b);
    params(&p);
    build_and_save(v, 0, &p, &a);
    assert_int_equal(index_file_open(v, 0, &p, ix_path, &b, &why), DP_OK);
    assert_int_equal(index_ndocs(b), 0);
    index_free(a);
    index_free(b);
    free_items(v, 20);
}

/* Opened by stamp: no item is given, yet the docs are named (keys, row
 * ids, index_find), the rankings are the build's, and a different sequence
 * or id -- or a file saved without a stamp -- is refused with its reason. */
static void test_stamped(void **st)
{
    (void)st;
    item *v = corpus(N);
    for (size_t d = 0; d < N; d++) v[d].rowid = 1000 + (int64_t)d * 3;
    free(v[5].key);
    v[5].key = xstrdup(v[4].key);   /* a repeated key: the first doc keeps it */
    index_params p;
    params(&p);
    dindex *a, *b = NULL;
    dp_err err;
    assert_int_equal(index_build(v, N, &p, &a, &err), DP_OK);
    index_stamp stamp = {42, 0x5eed};
    assert_int_equal(index_file_save(a, ix_path, &stamp, &err), DP_OK);
    const char *why = "unset";
    assert_int_equal(index_file_open_stamped(&stamp, &p, ix_path, &b, &why), DP_OK);
    assert_int_equal(index_ndocs(b), N);
    assert_null(index_item(b, 0));   /* no items until attached */
    for (uint32_t d = 0; d < N; d++) {
        assert_string_equal(index_doc_key(b, d), v[d].key);
        assert_int_equal(index_doc_rowid(b, d), v[d].rowid);
        assert_int_equal(index_find(b, v[d].key), index_find(a, v[d].key));
    }
    assert_int_equal(index_find(b, v[5].key), 4);
    assert_int_equal(index_find(b, "no such key"), -1);
    assert_int_equal(index_find(b, ""), -1);
    index_items_attach(b, v);
    assert_docs_equal(a, b);
    assert_rankings_equal(a, b, 0);
    index_free(b);

    const struct {
        index_stamp s;
        const char *why;
    } bad[] = {
        {{43, 0x5eed}, "the items changed since it was written"},
        {{41, 0x5eed}, "the items changed since it was written"},
        {{42, 0x5eee}, "it was not written for this store"},
        {{42, 0}, "it was not written for this store"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = (dindex *)1;
        why = NULL;
        assert_int_equal(index_file_open_stamped(&bad[i].s, &p, ix_path, &b, &why), DP_ERR);
        assert_null(b);
        assert_string_equal(why, bad[i].why);
    }
    /* a file saved without a stamp opens by content only */
    assert_int_equal(index_file_save(a, ix_path, NULL, &err), DP_OK);
    index_stamp none = {0, 0};
    assert_int_equal(index_file_open_stamped(&none, &p, ix_path, &b, &why), DP_ERR);
    assert_string_equal(why, "it was not written for this store");
    assert_int_equal(index_file_open(v, N, &p, ix_path, &b, &why), DP_OK);
    index_free(b);
    /* the stamp is in the checksummed header: a changed byte there is refused */
    assert_int_equal(index_file_save(a, ix_path, &stamp, &err), DP_OK);
    FILE *f = fopen(ix_path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 8 * 6, SEEK_SET), 0);   /* magic, version, bom, 3 fingerprints: stamp_seq */
    uint64_t seq = 43;
    assert_int_equal(fwrite(&seq, sizeof seq, 1, f), 1);
    fclose(f);
    index_stamp forged = {43, 0x5eed};
    assert_int_equal(index_file_open_stamped(&forged, &p, ix_path, &b, &why), DP_ERR);
    assert_string_equal(why, "its header checksum does not match");

    /* restamped (its content checked by the caller): the new stamp opens
     * it, the old one no longer does */
    assert_int_equal(index_file_save(a, ix_path, &stamp, &err), DP_OK);
    assert_int_equal(index_file_open(v, N, &p, ix_path, &b, &why), DP_OK);
    index_stamp later = {50, 0x5eed};
    assert_int_equal(index_file_restamp(b, ix_path, &later, &err), DP_OK);
    index_free(b);
    assert_int_equal(index_file_open_stamped(&stamp, &p, ix_path, &b, &why), DP_ERR);
    assert_int_equal(index_file_open_stamped(&later, &p, ix_path, &b, &why), DP_OK);
    assert_rankings_equal(a, (index_items_attach(b, v), b), 0);
    /* another file renamed over it since it was opened: not restamped */
    dindex *c;
    assert_int_equal(index_build(v, N - 1, &p, &c, &err), DP_OK);
    assert_int_equal(index_file_save(c, ix_path, &stamp, &err), DP_OK);
    index_stamp again = {60, 0x5eed};
    assert_int_equal(index_file_restamp(b, ix_path, &again, &err), DP_ERR);
    dindex *d;
    assert_int_equal(index_file_open_stamped(&stamp, &p, ix_path, &d, &why), DP_OK);   /* untouched */
    index_free(d);
    index_free(c);
    index_free(b);
    index_free(a);
    free_items(v, N);
}

static int seal_exists(const char *path)
{
    char sp[300];
    snprintf(sp, sizeof sp, "%s.seal", path);
    return access(sp, F_OK) == 0;
}

/* Opens path (items v); returns how many payload checksums that took. */
static uint64_t open_counting(const item *v, const index_params *p, const char *path, int want_rc,
                              const char *want_why)
{
    uint64_t before = index_file_checksums();
    dindex *ix = NULL;
    const char *why = NULL;
    assert_int_equal(index_file_open(v, N, p, path, &ix, &why), want_rc);
    if (want_why && !strstr(why, want_why)) fail_msg("refused because \"%s\", expected \"%s\"", why, want_why);
    index_free(ix);
    return index_file_checksums() - before;
}

/* Past a tick of the clock that stamps change times (coarse: ~4 ms). */
static void next_tick(void)
{
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static void test_seal(void **st)
{
    (void)st;
    item *v = corpus(N);
    index_params p;
    params(&p);
    dindex *a, *b;
    double settle = index_file_seal_settle(0);
    build_and_save(v, N, &p, &a);
    assert_false(seal_exists(ix_path));
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 1);   /* checked, then sealed */
    assert_true(seal_exists(ix_path));
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 0);   /* the seal holds */
    const char *why;
    assert_int_equal(index_file_open(v, N, &p, ix_path, &b, &why), DP_OK);
    assert_rankings_equal(a, b, 0);   /* trusted, it is still the saved index */
    index_free(b);
    /* any write to the file: checked again (and refused while damaged) */
    long size = file_size();
    next_tick();
    flip(size / 2);
    assert_int_equal(open_counting(v, &p, ix_path, DP_ERR, "checksum"), 1);
    next_tick();
    flip(size / 2);
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 1);
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 0);
    /* a damaged seal only costs a check, and is replaced */
    char sp[300];
    snprintf(sp, sizeof sp, "%s.seal", ix_path);
    FILE *f = fopen(sp, "r+b");
    assert_non_null(f);
    fputc('X', f);
    fclose(f);
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 1);
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 0);
    /* a copy with the original's seal beside it: another inode, checked */
    char cp[300], cps[310], cmd[2048];
    snprintf(cp, sizeof cp, "%s-copy", ix_path);
    snprintf(cps, sizeof cps, "%s.seal", cp);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s'", ix_path, cp, sp, cps);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(open_counting(v, &p, cp, DP_OK, NULL), 1);
    unlink(cp);
    unlink(cps);
    /* a save drops the seal of the file it replaces */
    dp_err err;
    assert_int_equal(index_file_save(a, ix_path, NULL, &err), DP_OK);
    assert_false(seal_exists(ix_path));
    /* a file changed within the settle time is checked and not sealed */
    index_file_seal_settle(3600);
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 1);
    assert_false(seal_exists(ix_path));
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 1);
    /* the writer's own check (index_file_seal): not sealed within the
     * settle time either; once settled, sealed, and opens trust it */
    uint64_t before = index_file_checksums();
    assert_int_equal(index_file_seal(ix_path, 1), 0);
    assert_false(seal_exists(ix_path));
    index_file_seal_settle(0);
    assert_int_equal(index_file_seal(ix_path, 2), 1);
    assert_int_equal(index_file_checksums() - before, 2);
    assert_true(seal_exists(ix_path));
    assert_int_equal(open_counting(v, &p, ix_path, DP_OK, NULL), 0);
    assert_int_equal(index_file_seal(ix_path, 1), 1);   /* sealed already: nothing read */
    assert_int_equal(index_file_checksums() - before, 2);
    /* a damaged file is not sealed */
    next_tick();
    flip(size / 3);
    assert_int_equal(index_file_seal(ix_path, 1), 0);
    assert_int_equal(open_counting(v, &p, ix_path, DP_ERR, "checksum"), 1);
    index_file_seal_settle(settle);
    index_free(a);
    free_items(v, N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_equals_fresh_build, ix_path_setup, ix_path_teardown),
        cmocka_unit_test_setup_teardown(test_missing, ix_path_setup, ix_path_teardown),
        cmocka_unit_test_setup_teardown(test_damaged, ix_path_setup, ix_path_teardown),
        cmocka_unit_test_setup_teardown(test_stale, ix_path_setup, ix_path_teardown),
        cmocka_unit_test_setup_teardown(test_edge_cases, ix_path_setup, ix_path_teardown),
        cmocka_unit_test_setup_teardown(test_stamped, ix_path_setup, ix_path_teardown),
        cmocka_unit_test_setup_teardown(test_seal, ix_path_setup, ix_path_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
