/* test_judge_title.c -- the judge's title features (src/match/match_judge.c)
 * read from the titles' word records made once per title (a query's once
 * for all its candidates: match_judge_query.title) equal, bit for bit, the
 * reference (judge_ref.h), which compares the two titles' word lists string by
 * string and merges both docs' whole term lists (the judge's first way).
 * The titles are chosen to hit every corner of that comparison: repeated
 * words, opposite actions on either side and in inflected forms, version-
 * and backport-only differences, references left out, case, words cut at
 * 31 bytes (two long words equal once cut), the 64-word cap, empty titles;
 * each body quotes another title, so a term can be in one side's title and
 * only in the other's body. The candidate's records taken from its own
 * judge query (match_judge_features_cand) give the same values too. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/match/match.h"
#include "../../../src/match/match_int.h"
#include "judge_ref.h"

static const char *const titles[] = {
    "Enable the parser cache",
    "Disable the parser cache",
    "disabled parser caching",
    "Add column to table",
    "Remove column from table",
    "removing the columns from tables",
    "Add column to table",
    "add add add column column",
    "Backport HIVE-123 fix to branch-2",
    "Fix HIVE-456 on branch-3",
    "Fix parser on 2.1.0",
    "Fix parser on 3.0.0",
    "Fix parser on v3",
    "Fix parser",
    "Cherry pick the parser fix to release 2.x",
    "Start the server",
    "Stop the server",
    "stopping servers",
    "Open the socket #12",
    "Close the socket #13",
    "Read timeout in socket",
    "Write timeout in socket",
    "Upgrade to version 5",
    "Downgrade to version 5",
    "averyveryverylongwordthatgoesonandonpastthirtyonebytesA fails",
    "averyveryverylongwordthatgoesonandonpastthirtyonebytesB fails",
    "",
    "#1 #2 HIVE-9",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh ii jj kk ll mm "
    "nn oo pp qq rr ss tt uu vv ww xx yy zz aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm "
    "enable",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh ii jj kk ll mm "
    "nn oo pp qq rr ss tt uu vv ww xx yy zz aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm "
    "disable",
    "Caf\xc3\xa9 encoding broken",
    "caf\xc3\xa9 decoding broken",
    "Import data Export data",
    "export data import data",
    "Lock the table",
    "Unlock the table",
    "Min value wrong",
    "Max value wrong",
    "Minimum and maximum",
    "Port the parser",
    "Clone of: parser fails",
    "parser fails",
    /* a rare shared title word above the words that differ */
    "Frobnicate widget crashes",
    "Frobnicate gadget crashes",
    "gadget list empty",
    "gadget menu empty",
};
#define NT (sizeof titles / sizeof *titles)

/* The titles as items, each body quoting another title. */
static item *title_items(void)
{
    item *v = xcalloc(NT, sizeof *v);
    for (size_t i = 0; i < NT; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("T-%zu", i + 1);
        v[i].number = (int64_t)i + 1;
        v[i].title = xstrdup(titles[i]);
        /* another title in the body: terms one side has in its title and
         * the other only in its body (slot_diff's shared-but-not-title case) */
        v[i].body = xasprintf("Body %zu. See also: %s", i, titles[(i * 7 + 3) % NT]);
        v[i].created_at = 1600000000 + (int64_t)i * 3600;
    }
    return v;
}

static dindex *title_index(const item *v)
{
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dindex *ix;
    assert_int_equal(index_build(v, NT, &p, &ix, NULL), DP_OK);
    return ix;
}

/* Every pair's title features against the reference, in ctx (a full one
 * lists each doc's title terms: match_doc_title_terms; a sparse one does
 * not, and slot_diff scans the forward lists). */
static void assert_titles_equal_reference(const match_ctx *ctx, const item *v)
{
    int feats[] = {JF_OPPOSITE, JF_VERSION_ONLY, JF_BACKPORT, JF_TITLE_SAME, JF_TITLE_NAME_SWAP,
                   JF_SLOT_DIFF, JF_SHARED_TITLE_IDF};
    size_t nf = sizeof feats / sizeof *feats, nonzero[sizeof feats / sizeof *feats] = {0}, pairs = 0;
    for (uint32_t q = 0; q < NT; q++) {
        match_query mq;
        match_query_from_doc(ctx, q, &mq);
        match_judge_query jq;
        match_judge_prepare(ctx, &mq, &jq);
        assert_non_null(jq.title);
        for (uint32_t c = 0; c < NT; c++) {
            if (c == q) continue;
            match_hit h;
            memset(&h, 0, sizeof h);
            h.doc = c;
            double a[JF_COUNT], b[JF_COUNT];
            match_judge_features(ctx, &mq, &jq, &h, 1, a);
            memcpy(b, a, sizeof b);   /* the features but the title's are not compared here */
            ref_title_features(ctx, &mq, &v[q], &v[c], c, b);
            /* the candidate's records from its own judge query (analyze's
             * swapped pairs) instead of made from its title */
            match_query cmq;
            match_judge_query cjq;
            match_query_judge_view(ctx, c, &cmq);
            match_judge_prepare(ctx, &cmq, &cjq);
            double d[JF_COUNT];
            match_judge_features_cand(ctx, &mq, &jq, &h, 1, &cjq, d);
            match_judge_query_free(&cjq);
            match_query_free(&cmq);
            for (int k = 0; k < JF_COUNT; k++) {
                if (a[k] != b[k])
                    fail_msg("q \"%s\" c \"%s\": feature %d is %g, the reference says %g", titles[q], titles[c], k,
                             a[k], b[k]);
                if (a[k] != d[k])
                    fail_msg("q \"%s\" c \"%s\": feature %d is %g, with the candidate's records %g", titles[q],
                             titles[c], k, a[k], d[k]);
            }
            for (size_t k = 0; k < nf; k++) nonzero[k] += a[feats[k]] != 0;
            pairs++;
        }
        match_judge_query_free(&jq);
        match_query_free(&mq);
    }
    assert_int_equal(pairs, NT * (NT - 1));
    /* every title feature was seen set, so each was compared at work */
    for (size_t k = 0; k < nf; k++) assert_true(nonzero[k] > 0);
}

static void items_free(item *v)
{
    for (size_t i = 0; i < NT; i++) item_free(&v[i]);
    free(v);
}

static void test_title_records_equal_word_lists(void **state)
{
    (void)state;
    item *v = title_items();
    dindex *ix = title_index(v);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    assert_titles_equal_reference(&ctx, v);
    match_ctx_free(&ctx);
    match_ctx_init_sparse(&ctx, ix, NULL, NULL, 0, 0);
    assert_titles_equal_reference(&ctx, v);
    match_ctx_free(&ctx);
    index_free(ix);
    items_free(v);
}

/* match_doc_title_terms lists, for each doc of a full ctx, exactly its
 * forward terms counted in the title that are not bigrams, ascending; a
 * sparse ctx lists none (NULL, and the judge scans instead). */
static void test_doc_title_terms(void **state)
{
    (void)state;
    item *v = title_items();
    dindex *ix = title_index(v);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    size_t total = 0, bigrams_left = 0;
    for (uint32_t d = 0; d < NT; d++) {
        index_doc_terms dt;
        index_doc_terms_get(ix, d, &dt);
        size_t n;
        const uint32_t *t = match_doc_title_terms(&ctx, d, &n);
        assert_non_null(t);
        size_t k = 0;
        for (size_t i = 0; i < dt.n; i++) {
            if (!dt.tf[i][FIELD_TITLE]) continue;
            if (strchr(index_term_str(ix, dt.terms[i]), ' ')) {
                bigrams_left++;
                continue;
            }
            assert_true(k < n);
            assert_int_equal(t[k], dt.terms[i]);
            k++;
        }
        assert_int_equal(k, n);
        total += n;
    }
    assert_true(total > NT);        /* the titles have words ... */
    assert_true(bigrams_left > 0);  /* ... and bigrams, which are not listed */
    size_t n = 7;
    assert_null(match_doc_title_terms(&ctx, (uint32_t)NT, &n));
    assert_int_equal(n, 0);
    match_ctx_free(&ctx);
    match_ctx_init_sparse(&ctx, ix, NULL, NULL, 0, 0);
    n = 7;
    assert_null(match_doc_title_terms(&ctx, 0, &n));
    assert_int_equal(n, 0);
    match_ctx_free(&ctx);
    index_free(ix);
    items_free(v);
}

/* ---- mentions ---------------------------------------------------------------- */

static const char *const mention_titles[][2] = {
    {"Parser fails on HIVE-2 input", "Duplicate of HIVE-3. See also HIVE-5 and HIVE-6."},
    {"Follow-up to HIVE-1", "Fixes HIVE-5 as well; HIVE-6 too"},
    {"Lock table broken", "Nothing named here"},
    {"Cache miss", "See HIVE-1 and HIVE-6"},
    {"Cache misses again", "Related: HIVE-4, HIVE-5, HIVE-6"},
    {"HIVE-4 regression", "Caused by HIVE-2"},
};
#define NM (sizeof mention_titles / sizeof *mention_titles)

/* The mention features by the first way: every lookup made. */
static void ref_mentions(const item *q, const item *c, double jf[JF_COUNT])
{
    text_refs_opts o = {.numeric = 1, .bare = 1, .jira = 1};
    text_refs qt = {0}, qa = {0}, ca = {0};
    text_refs_scan(q->title, &o, &qt);
    text_refs_scan(q->title, &o, &qa);
    text_refs_scan(q->body, &o, &qa);
    text_refs_scan(c->title, &o, &ca);
    text_refs_scan(c->body, &o, &ca);
    const text_ref *r = text_refs_find(&qa, c->key);
    jf[JF_MENTION_DUP] = r && (r->kind == TEXT_REF_DUP || r->kind == TEXT_REF_DUP_BY);
    jf[JF_MENTION_FOLLOW] = r && (r->kind == TEXT_REF_FOLLOW || r->kind == TEXT_REF_FIXES);
    jf[JF_MENTION_PLAIN] = r && !jf[JF_MENTION_DUP] && !jf[JF_MENTION_FOLLOW];
    jf[JF_MENTION_TITLE] = text_refs_find(&qt, c->key) != NULL;
    size_t n = 0;
    for (size_t i = 0; i < qa.n; i++) {
        const char *k = qa.v[i].key;
        if (strcmp(k, q->key) && strcmp(k, c->key) && text_refs_find(&ca, k)) n++;
    }
    jf[JF_SHARED_REF] = log1p((double)n);
    text_refs_free(&qt);
    text_refs_free(&qa);
    text_refs_free(&ca);
}

/* The judge's mention features (which skip the lookups that cannot find
 * anything: a title's keys are among its title + body's, a candidate that
 * names nothing shares nothing) equal every lookup made, on items that
 * name each other in titles and bodies, some naming nothing. */
static void test_mentions_equal_reference(void **state)
{
    (void)state;
    item *v = xcalloc(NM, sizeof *v);
    for (size_t i = 0; i < NM; i++) {
        item_init(&v[i]);
        v[i].key = xasprintf("HIVE-%zu", i + 1);
        v[i].number = (int64_t)i + 1;
        v[i].title = xstrdup(mention_titles[i][0]);
        v[i].body = xstrdup(mention_titles[i][1]);
        v[i].created_at = 1600000000 + (int64_t)i * 3600;
    }
    index_params p;
    index_params_default(&p);
    p.threads = 1;
    dindex *ix;
    assert_int_equal(index_build(v, NM, &p, &ix, NULL), DP_OK);
    match_ctx ctx;
    match_ctx_init(&ctx, ix, NULL, NULL, 0);
    int feats[] = {JF_MENTION_DUP, JF_MENTION_FOLLOW, JF_MENTION_PLAIN, JF_MENTION_TITLE, JF_SHARED_REF};
    size_t nf = sizeof feats / sizeof *feats, nonzero[sizeof feats / sizeof *feats] = {0};
    for (uint32_t q = 0; q < NM; q++) {
        match_query mq;
        match_query_from_doc(&ctx, q, &mq);
        match_judge_query jq;
        match_judge_prepare(&ctx, &mq, &jq);
        for (uint32_t c = 0; c < NM; c++) {
            if (c == q) continue;
            match_hit h;
            memset(&h, 0, sizeof h);
            h.doc = c;
            double a[JF_COUNT], b[JF_COUNT];
            match_judge_features(&ctx, &mq, &jq, &h, 1, a);
            ref_mentions(&v[q], &v[c], b);
            for (size_t k = 0; k < nf; k++) {
                if (a[feats[k]] != b[feats[k]])
                    fail_msg("q %u c %u: feature %s is %g, the reference says %g", q, c,
                             match_jfeature_name((match_jfeature)feats[k]), a[feats[k]], b[feats[k]]);
                nonzero[k] += a[feats[k]] != 0;
            }
        }
        match_judge_query_free(&jq);
        match_query_free(&mq);
    }
    for (size_t k = 0; k < nf; k++) assert_true(nonzero[k] > 0);
    match_ctx_free(&ctx);
    index_free(ix);
    for (size_t i = 0; i < NM; i++) item_free(&v[i]);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_title_records_equal_word_lists),
        cmocka_unit_test(test_doc_title_terms),
        cmocka_unit_test(test_mentions_equal_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
