/* test_snapshot.c -- index snapshots (src/index/snapshot.c): a build from a
 * snapshot equals a fresh build (fields, signals, terms, scores) when
 * nothing changed and when items were appended; edited and deleted items
 * are re-analysed / dropped; the template is kept, relearned past a tenth
 * of growth; damaged, truncated or foreign snapshots are refused with a
 * reason and the build still succeeds. */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../../src/index/index.h"
#include "ixcorpus.h"

static void save(const dindex *ix, sbuf *out)
{
    sb_init(out);
    index_snapshot_save(ix, out);
}

static void test_unchanged_is_identical(void **st)
{
    (void)st;
    size_t n = 300;
    item *v = corpus(n);
    index_params p;
    params(&p);
    dindex *a, *b;
    dp_err err;
    assert_int_equal(index_build(v, n, &p, &a, &err), DP_OK);
    assert_true(text_template_size(index_template(a)) >= 1);   /* the shared line */
    sbuf snap;
    save(a, &snap);
    index_snap_info info;
    assert_int_equal(index_build_snap(v, n, &p, snap.s, snap.len, &b, &info, &err), DP_OK);
    assert_null(info.unused_why);
    assert_int_equal(info.reused, n);
    assert_int_equal(info.analysed, 0);
    assert_int_equal(info.template_learned, 0);
    assert_int_equal(index_nterms(a), index_nterms(b));
    for (uint32_t t = 0; t < index_nterms(a); t++) {
        assert_string_equal(index_term_str(a, t), index_term_str(b, t));
        assert_true(index_idf(a, t) == index_idf(b, t));
    }
    assert_docs_equal(a, b);
    assert_rankings_equal(a, b, 0);
    /* saving the rebuilt index gives the same bytes */
    sbuf again;
    save(b, &again);
    assert_int_equal(snap.len, again.len);
    assert_memory_equal(snap.s, again.s, snap.len);
    sb_free(&again);
    sb_free(&snap);
    index_free(a);
    index_free(b);
    free_items(v, n);
}

/* New items (what a sync brings): only they are analysed, and the result is
 * the fresh build's, bit for bit. */
static void test_appended_items(void **st)
{
    (void)st;
    size_t n = 300, old = 280;
    item *v = corpus(n);
    index_params p;
    params(&p);
    dindex *a, *b, *c;
    dp_err err;
    assert_int_equal(index_build(v, old, &p, &a, &err), DP_OK);
    sbuf snap;
    save(a, &snap);
    index_snap_info info;
    assert_int_equal(index_build_snap(v, n, &p, snap.s, snap.len, &b, &info, &err), DP_OK);
    assert_int_equal(info.reused, old);
    assert_int_equal(info.analysed, n - old);
    assert_int_equal(index_build(v, n, &p, &c, &err), DP_OK);
    assert_int_equal(index_nterms(b), index_nterms(c));
    assert_docs_equal(b, c);
    assert_rankings_equal(b, c, 0);
    sb_free(&snap);
    index_free(a);
    index_free(b);
    index_free(c);
    free_items(v, n);
}

/* An edited item is analysed again; a deleted one is gone, and its terms
 * leave the next snapshot. */
static void test_edited_and_deleted(void **st)
{
    (void)st;
    size_t n = 200;
    item *v = corpus(n);
    index_params p;
    params(&p);
    dindex *a, *b, *c;
    dp_err err;
    assert_int_equal(index_build(v, n, &p, &a, &err), DP_OK);
    sbuf snap;
    save(a, &snap);

    free(v[10].title);
    v[10].title = xstrdup("zanzibar quokka overflow in the widget");
    sv_push(&v[20].labels, "regression");   /* labels count as text too */
    item gone = v[30];
    memmove(&v[30], &v[31], (n - 31) * sizeof *v);
    size_t m = n - 1;
    index_snap_info info;
    assert_int_equal(index_build_snap(v, m, &p, snap.s, snap.len, &b, &info, &err), DP_OK);
    assert_int_equal(info.analysed, 2);
    assert_int_equal(info.reused, m - 2);
    assert_int_equal(index_build(v, m, &p, &c, &err), DP_OK);
    assert_docs_equal(b, c);
    assert_rankings_equal(b, c, 1e-6);
    assert_true(index_find(b, "P-31") < 0);
    int64_t d = index_find(b, "P-11");
    assert_true(d >= 0);
    assert_string_equal(index_doc_fields(b, (uint32_t)d)->f[FIELD_TITLE], "zanzibar quokka overflow in the widget");

    /* The doc's old title terms are dead in b; the next snapshot drops them. */
    sbuf snap2;
    save(b, &snap2);
    dindex *e;
    assert_int_equal(index_build_snap(v, m, &p, snap2.s, snap2.len, &e, &info, &err), DP_OK);
    assert_int_equal(info.reused, m);
    assert_int_equal(index_nterms(e), index_nterms(c));
    assert_true(index_nterms(b) > index_nterms(c));
    assert_rankings_equal(e, c, 1e-6);
    sb_free(&snap2);
    index_free(e);

    sb_free(&snap);
    index_free(a);
    index_free(b);
    index_free(c);
    item_free(&gone);
    free_items(v, m);
}

/* The template is relearned once the repository grew by more than a tenth;
 * unchanged, the snapshot stays usable. */
static void test_template_relearned(void **st)
{
    (void)st;
    size_t n = 150, old = 100;
    item *v = corpus(n);
    index_params p;
    params(&p);
    dindex *a, *b;
    dp_err err;
    assert_int_equal(index_build(v, old, &p, &a, &err), DP_OK);
    sbuf snap;
    save(a, &snap);
    index_snap_info info;
    assert_int_equal(index_build_snap(v, 110, &p, snap.s, snap.len, &b, &info, &err), DP_OK);
    assert_int_equal(info.template_learned, 0);
    assert_int_equal(info.reused, old);
    index_free(b);
    assert_int_equal(index_build_snap(v, n, &p, snap.s, snap.len, &b, &info, &err), DP_OK);
    assert_int_equal(info.template_learned, 1);
    assert_null(info.unused_why);            /* same template: still reused */
    assert_int_equal(info.reused, old);
    index_free(b);

    /* a new template line in most new bodies: relearned, differs, not used */
    for (size_t i = old; i < n; i++) {
        char *nb = xasprintf("**Environment** (please complete)\n%s", v[i].body);
        free(v[i].body);
        v[i].body = nb;
    }
    assert_int_equal(index_build_snap(v, n, &p, snap.s, snap.len, &b, &info, &err), DP_OK);
    assert_int_equal(info.template_learned, 1);
    assert_non_null(info.unused_why);
    assert_int_equal(info.reused, 0);
    assert_int_equal(info.analysed, n);
    index_free(b);
    sb_free(&snap);
    index_free(a);
    free_items(v, n);
}

/* Fields of decoded docs are split on first use; threads asking at once
 * all get the same, complete text (and nothing leaks: ASan). */
typedef struct fields_job { const dindex *ix, *fresh; int ok; } fields_job;

static void *read_fields(void *arg)
{
    fields_job *j = arg;
    j->ok = 1;
    for (uint32_t d = 0; d < index_ndocs(j->ix); d++) {
        const text_fields *a = index_doc_fields(j->ix, d), *b = index_doc_fields(j->fresh, d);
        for (int f = 0; f < FIELD_COUNT; f++)
            if (strcmp(a->f[f], b->f[f]) != 0) j->ok = 0;
        if (index_doc_fields(j->ix, d) != a) j->ok = 0;   /* installed once */
    }
    return NULL;
}

static void test_lazy_fields_concurrent(void **st)
{
    (void)st;
    size_t n = 120;
    item *v = corpus(n);
    index_params p;
    params(&p);
    dindex *a, *b;
    dp_err err;
    assert_int_equal(index_build(v, n, &p, &a, &err), DP_OK);
    sbuf snap;
    save(a, &snap);
    index_snap_info info;
    assert_int_equal(index_build_snap(v, n, &p, snap.s, snap.len, &b, &info, &err), DP_OK);
    assert_int_equal(info.reused, n);
    pthread_t th[4];
    fields_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (fields_job){b, a, 0};
        assert_int_equal(pthread_create(&th[i], NULL, read_fields, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_true(jobs[i].ok);
    }
    sb_free(&snap);
    index_free(a);
    index_free(b);
    free_items(v, n);
}

static void expect_refused(const item *v, size_t n, const index_params *p, const char *buf,
                           size_t len, const dindex *fresh)
{
    dindex *b;
    dp_err err;
    index_snap_info info;
    assert_int_equal(index_build_snap(v, n, p, buf, len, &b, &info, &err), DP_OK);
    assert_non_null(info.unused_why);
    assert_int_equal(info.reused, 0);
    assert_int_equal(info.analysed, n);
    assert_int_equal(index_nterms(b), index_nterms(fresh));
    index_free(b);
}

static void test_refused(void **st)
{
    (void)st;
    size_t n = 60;
    item *v = corpus(n);
    index_params p;
    params(&p);
    dindex *a;
    dp_err err;
    assert_int_equal(index_build(v, n, &p, &a, &err), DP_OK);
    sbuf snap;
    save(a, &snap);

    expect_refused(v, n, &p, snap.s, snap.len - 1, a);             /* truncated */
    expect_refused(v, n, &p, snap.s, 10, a);
    expect_refused(v, n, &p, "", 0, a);
    for (size_t at = 0; at < snap.len; at += snap.len / 7 + 1) {  /* one flipped byte */
        snap.s[at] ^= 0x20;
        expect_refused(v, n, &p, snap.s, snap.len, a);
        snap.s[at] ^= 0x20;
    }
    /* the format before dp_hash (FNV-1a template hashes): refused as such */
    {
        sbuf old;
        save(a, &old);
        memcpy(old.s + 8, "\2\0\0\0", 4);
        uint64_t sum = XXH3_64bits(old.s, old.len - 8);   /* a valid file of that version */
        for (int i = 0; i < 8; i++) old.s[old.len - 8 + i] = (char)(sum >> (8 * i));
        dindex *b;
        index_snap_info info;
        assert_int_equal(index_build_snap(v, n, &p, old.s, old.len, &b, &info, &err), DP_OK);
        assert_int_equal(info.reused, 0);
        assert_non_null(info.unused_why);
        assert_non_null(strstr(info.unused_why, "format version"));
        index_free(b);
        sb_free(&old);
    }
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (char)(i * 131 + 7);
    expect_refused(v, n, &p, junk, sizeof junk, a);

    /* other text options: another pipeline, refused */
    index_params q = p;
    q.text.stem = 0;
    dindex *nostem;
    assert_int_equal(index_build(v, n, &q, &nostem, &err), DP_OK);
    expect_refused(v, n, &q, snap.s, snap.len, nostem);
    index_free(nostem);

    /* scoring parameters are not part of it: reused */
    index_params r = p;
    r.k1 = 1.2;
    r.weight[FIELD_TITLE] = 2.0;
    dindex *b;
    index_snap_info info;
    assert_int_equal(index_build_snap(v, n, &r, snap.s, snap.len, &b, &info, &err), DP_OK);
    assert_int_equal(info.reused, n);
    index_free(b);

    sb_free(&snap);
    index_free(a);
    free_items(v, n);
}

/* A build that does not keep the fields (index_params.drop_fields, for
 * analyze under a memory ceiling) is the same index: the same docs --
 * their fields split again on use --, rankings bit for bit and the same
 * snapshot bytes. And it keeps none until asked: fields split on use are
 * the only ones, and index_fields_release frees them. */
static void test_drop_fields_same_index(void **st)
{
    (void)st;
    size_t n = 300;
    item *v = corpus(n);
    index_params p, lean;
    params(&p);
    params(&lean);
    lean.drop_fields = 1;
    dindex *a, *b;
    dp_err err;
    assert_int_equal(index_build(v, n, &p, &a, &err), DP_OK);
    assert_int_equal(index_build(v, n, &lean, &b, &err), DP_OK);
    assert_docs_equal(a, b);
    assert_rankings_equal(a, b, 0);
    assert_snapshots_equal(a, b);
    index_fields_release(b);   /* split again on the next use, the same text */
    for (uint32_t d = 0; d < n; d++)
        for (int f = 0; f < FIELD_COUNT; f++)
            assert_string_equal(index_doc_fields(a, d)->f[f], index_doc_fields(b, d)->f[f]);
    index_free(a);
    index_free(b);
    free_items(v, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unchanged_is_identical),
        cmocka_unit_test(test_drop_fields_same_index),
        cmocka_unit_test(test_appended_items),
        cmocka_unit_test(test_edited_and_deleted),
        cmocka_unit_test(test_template_relearned),
        cmocka_unit_test(test_lazy_fields_concurrent),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
