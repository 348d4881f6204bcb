/* match_rank.c -- the single ranking path: BM25F pool from the index, pair
 * features, model score, calibrated probability, best k. */
#include "match_int.h"

#include <stdlib.h>
#include <string.h>

/* The order of hit keys (match_int.h): score down, then lower doc; a
 * total order (docs are distinct), so any sort gives the same list. */
static int key_cmp(const void *a, const void *b)
{
    const hit_key *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* An insertion into the best m seen so far: a query keeps 20 of its
 * 100-deep pool, and sorting all 100 (qsort: a merge sort through a
 * compare callback) cost more than the few insertions the kept ones
 * need. key_cmp is a total order, so these are the m a sort puts first. */
void match_best_keys(hit_key *key, size_t n, size_t m)
{
    if (m > n) m = n;
    if (!m) return;
    for (size_t i = 1; i < n; i++) {
        size_t top = i < m ? i : m;   /* key[0..top) holds the best so far, sorted */
        if (top == m && key_cmp(&key[i], &key[m - 1]) >= 0) continue;
        hit_key v = key[i];
        size_t j = top == m ? m - 1 : top;   /* a full list drops its last */
        while (j > 0 && key_cmp(&v, &key[j - 1]) < 0) {
            key[j] = key[j - 1];
            j--;
        }
        key[j] = v;
    }
}

size_t match_pool(const match_ctx *ctx, const match_query *mq, uint32_t lo, uint32_t hi, index_hit *pool)
{
    if (lo >= hi) return 0;
    return index_topk(ctx->ix, mq->q, lo, hi, mq->qdoc, MATCH_POOL, pool);
}

size_t match_rank_query(const match_ctx *ctx, const match_query *mq, uint32_t lo, uint32_t hi,
                        size_t k, match_hit *out)
{
    if (!k || lo >= hi) return 0;
    index_hit pool[MATCH_POOL];
    size_t n = match_pool(ctx, mq, lo, hi, pool);
    return match_rank_pool(ctx, mq, pool, n, k, out);
}

size_t match_rank_pool(const match_ctx *ctx, const match_query *mq, const index_hit *pool, size_t n,
                       size_t k, match_hit *out)
{
    if (!k || !n) return 0;
    match_hit *hits = xmalloc(n * sizeof *hits);
    hit_key *key = xmalloc(n * sizeof *key);
    match_features_pool(ctx, mq, pool, n, hits);
    for (size_t i = 0; i < n; i++) {
        hits[i].score = match_score(ctx->model, hits[i].feat);
        key[i] = (hit_key){hits[i].score, hits[i].doc, (uint32_t)i};
    }
    size_t m = n > k ? k : n;
    match_best_keys(key, n, m > 1 ? m : 2);   /* the margin reads the second best */
    /* a clear winner is likelier right than one of several close ones */
    for (size_t i = 0; i < m; i++) {
        out[i] = hits[key[i].i];
        out[i].margin = n < 2 ? 0 : out[i].score - key[i ? 0 : 1].score;
        out[i].prob = match_prob_margin(ctx->model, out[i].score, out[i].margin);
    }
    match_prefetch_judged(ctx, out, m);   /* the caller judges them next */
    free(key);
    free(hits);
    return m;
}

size_t match_rank(const match_ctx *ctx, const index_query *q, uint32_t qdoc, uint32_t lo,
                  uint32_t hi, size_t k, match_hit *out)
{
    match_query mq;
    if (qdoc != UINT32_MAX) {
        match_query_from_doc(ctx, qdoc, &mq);
        /* rank with the caller's query, keep the doc's forward view */
        index_query_free(&mq.own_q);
        mq.has_own_q = 0;
        mq.q = q;
    } else {
        memset(&mq, 0, sizeof mq);
        mq.q = q;
        mq.qdoc = UINT32_MAX;
    }
    size_t n = match_rank_query(ctx, &mq, lo, hi, k, out);
    match_query_free(&mq);
    return n;
}
