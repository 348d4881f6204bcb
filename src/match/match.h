/* match.h -- from retrieval candidates to ranked, calibrated pairs.
 *
 * match_rank() is the one ranking path used by analyze, similar and eval:
 * it takes the BM25F top-N from the index (N = MATCH_POOL), computes pair
 * features, scores them with a model and returns the best k by model score.
 *
 * A model is a linear scorer over standardised features (trained pairwise by
 * match_train) plus a Platt calibration (score -> probability that the pair
 * is a duplicate) and thresholds that turn the probability into relation and
 * confidence. A default model is built into the binary; `doppel train` fits
 * one on a repository's own known duplicates and the store keeps it as text
 * (match_model_to_text / match_model_from_text).
 *
 * Thread-safety: models are read-only after creation; match_rank may run on
 * many threads with one match_ctx each... the ctx is read-only too.
 */
#ifndef DP_MATCH_H
#define DP_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include "../index/index.h"

#define MATCH_POOL 100          /* BM25F candidates re-ranked per query */

/* Feature ids; names via match_feature_name(). The set is fixed by this
 * enum; model text files name features so old models load safely. */
typedef enum {
    FEAT_BM25F = 0,
    FEAT_BM25_TITLE,
    FEAT_BM25_PROSE,
    FEAT_BM25_CODE,
    FEAT_BM25_LABELS,
    FEAT_TITLE_OVERLAP,       /* Jaccard of title unigrams */
    FEAT_BIGRAM_OVERLAP,
    FEAT_SHARED_IDF,          /* idf mass of shared rare terms, normalised */
    FEAT_EXCEPTION,           /* shared exception names */
    FEAT_FRAMES,              /* shared stack frames */
    FEAT_PATHS,               /* shared file paths */
    FEAT_ERRORS,              /* shared normalised error lines */
    FEAT_LABELS,              /* label/component overlap */
    FEAT_VERSION,             /* shared affected versions */
    FEAT_TIME_GAP,            /* log(1 + days apart) */
    FEAT_SAME_AUTHOR,
    FEAT_LEN_RATIO,
    FEAT_KIND_SAME,
    FEAT_CROSSREF,            /* either links the other (not as duplicate) */
    FEAT_RANK_BM25,           /* 1/(1+bm25 rank) in the pool */
    FEAT_COUNT
} match_feature;
const char *match_feature_name(match_feature f);

typedef struct match_model {
    double mean[FEAT_COUNT], scale[FEAT_COUNT];   /* standardisation */
    double w[FEAT_COUNT];
    double bias;
    double platt_a, platt_b;          /* prob = 1 / (1 + exp(a * score + b)) */
    double thr_duplicate;             /* prob >= this: relation duplicate */
    double thr_high, thr_medium;      /* prob cut-offs for confidence */
    char *trained_on;                 /* description, owned */
    int64_t trained_at;
    size_t ntrain;
} match_model;

const match_model *match_model_default(void);          /* static, never freed */
void match_model_free(match_model *m);                 /* frees trained_on */
char *match_model_to_text(const match_model *m);       /* owned */
int match_model_from_text(const char *text, match_model *out, dp_err *err);

/* Context the features need beyond the index: known links between items
 * (cross-references) that a feature may use. Links pointing at a query are
 * hidden by eval by building the ctx without them. */
typedef struct match_ctx {
    const dindex *ix;
    const match_model *model;
    const item_link *links;     /* may be NULL */
    size_t nlinks;
    void *priv;            /* built by match_ctx_init */
} match_ctx;
void match_ctx_init(match_ctx *ctx, const dindex *ix, const match_model *m, const item_link *links,
                    size_t nlinks);
void match_ctx_free(match_ctx *ctx);

void match_features(const match_ctx *ctx, const index_query *q, uint32_t qdoc, uint32_t cdoc,
                    int bm25_rank, double bm25, double feat[FEAT_COUNT]);
double match_score(const match_model *m, const double feat[FEAT_COUNT]);
double match_prob(const match_model *m, double score);

typedef struct match_hit {
    uint32_t doc;
    double bm25;
    double score;
    double prob;
    double feat[FEAT_COUNT];
} match_hit;

/* Ranks candidates in [lo, hi) (minus qdoc) for the query; returns the number
 * written to out (room for k), best first. qdoc may be UINT32_MAX for a query
 * that is not in the index. */
size_t match_rank(const match_ctx *ctx, const index_query *q, uint32_t qdoc, uint32_t lo,
                  uint32_t hi, size_t k, match_hit *out);

/* Relation and confidence from a probability (static strings). */
void match_decide(const match_model *m, double prob, const char **relation,
                  const char **confidence);

/* Features ordered by their contribution w*x to this hit's score, largest
 * first; writes up to max feature ids. */
size_t match_top_features(const match_model *m, const double feat[FEAT_COUNT], match_feature *out,
                          size_t max);

#endif
