/* match_int.h -- shared by the files of the match module only. */
#ifndef DP_MATCH_INT_H
#define DP_MATCH_INT_H

#include "match.h"

/* Fills doc, bm25_rank, bm25 and feat of out[i] for each of the n pool
 * hits (best first, as index_topk returns them): the same rows as
 * match_features() one by one, computed with the query prepared once. */
void match_features_pool(const match_ctx *ctx, const match_query *mq, const index_hit *pool,
                         size_t n, match_hit *out);

#endif
