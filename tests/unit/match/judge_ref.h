/* judge_ref.h -- the judge's title features computed the plain way, per
 * pair (test_judge_title and test_judge_cache hold the judge's records to
 * it): the two titles' word lists compared string by string, both docs'
 * whole term lists merged. Included by one test file each (static). */
#ifndef DP_TEST_JUDGE_REF_H
#define DP_TEST_JUDGE_REF_H

#include <math.h>

#include "../../../src/match/match.h"
#include "../../../src/match/match_int.h"

/* Rare title words on each side that the other lacks, as idf over log N,
 * by a merge of the query's and the candidate's whole term lists. */
static double ref_slot_diff(const match_ctx *ctx, const match_query *mq, uint32_t cdoc, double *shared_max)
{
    index_doc_terms cd;
    index_doc_terms_get(ctx->ix, cdoc, &cd);
    double qmax = 0, cmax = 0, smax = 0;
    size_t i = 0, j = 0;
    while (i < mq->nterms || j < cd.n) {
        uint32_t x = i < mq->nterms ? mq->terms[i] : UINT32_MAX;
        uint32_t y = j < cd.n ? cd.terms[j] : UINT32_MAX;
        if (x == y) {
            if (mq->tf[i][FIELD_TITLE] && cd.tf[j][FIELD_TITLE] && !match_term_bigram(ctx, x)) {
                double idf = index_idf(ctx->ix, x);
                if (idf > smax) smax = idf;
            }
            i++;
            j++;
            continue;
        }
        int q_side = x < y;
        uint32_t t = q_side ? x : y;
        int in_title = q_side ? mq->tf[i][FIELD_TITLE] != 0 : cd.tf[j][FIELD_TITLE] != 0;
        if (q_side) i++;
        else j++;
        if (!in_title || match_term_bigram(ctx, t)) continue;
        double idf = index_idf(ctx->ix, t);
        if (q_side && idf > qmax) qmax = idf;
        if (!q_side && idf > cmax) cmax = idf;
    }
    double norm = log(1.0 + (double)index_ndocs(ctx->ix));
    double m = qmax < cmax ? qmax : cmax;
    *shared_max = norm > 0 ? smax / norm : 0;
    return norm > 0 ? m / norm : 0;
}

/* The title features of (q, c) the judge's first way: word lists compared
 * string by string; the slot features only with mq (NULL: left as they are). */
static void ref_title_features(const match_ctx *ctx, const match_query *mq, const item *q, const item *c,
                               uint32_t cdoc, double jf[JF_COUNT])
{
    match_words qw, cw, qo, co;
    match_title_words(q->title, &qw);
    match_title_words(c->title, &cw);
    match_words_minus(&qw, &cw, &qo);
    match_words_minus(&cw, &qw, &co);
    jf[JF_OPPOSITE] = match_opposite_titles(&qo, &co);
    jf[JF_VERSION_ONLY] = match_only_versions(&qo, &co);
    jf[JF_BACKPORT] = match_backport_words(&qo) || match_backport_words(&co);
    jf[JF_TITLE_SAME] = qw.n > 0 && !qo.n && !co.n;
    jf[JF_TITLE_NAME_SWAP] = qo.n >= 1 && qo.n <= 2 && co.n >= 1 && co.n <= 2 && qw.n - qo.n >= 2;
    if (mq) jf[JF_SLOT_DIFF] = ref_slot_diff(ctx, mq, cdoc, &jf[JF_SHARED_TITLE_IDF]);
}

#endif
