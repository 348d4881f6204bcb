/* match.h -- from retrieval candidates to ranked, calibrated pairs.
 *
 * match_rank() is the one ranking path used by analyze, similar and eval:
 * it takes the BM25F top-N from the index (N = MATCH_POOL), computes pair
 * features, scores them with a model and returns the best k by model score.
 *
 * A model is a linear scorer over standardised features (trained listwise by
 * match_train: softmax cross-entropy of the true duplicates within each
 * query's pool, i.e. a linear RankNet/ListNet) plus a Platt calibration
 * (score and margin -> probability that the pair is a true duplicate for an
 * arbitrary query, fitted on held-out queries: known duplicates and issues
 * that have no duplicate at all, the latter weighted to the tracker's base
 * rate): the pair's strength. What a pair is -- relation and confidence --
 * is the judge's (match_judge*, below): "high" from the probability at
 * which at least 90% of the out-of-fold pairs shown with that relation had
 * it (never below MATCH_HIGH_FLOOR), "medium" from where the pairs between
 * it and high reach 65% (never below MATCH_MEDIUM_FLOOR). A
 * default model is built into the binary (match_default.c); `doppel train`
 * fits one on a repository's own known duplicates and the store keeps it as
 * text (match_model_to_text / match_model_from_text).
 *
 * Leakage: with ctx->asof set (eval and training), a query sees only links
 * both of whose ends are older than the query (lower doc number), so nothing
 * that points at the query -- its own duplicate link included -- can reach a
 * feature. Query-side features read only what existed when it was filed:
 * title, body, labels, components, versions, type, priority, author and the
 * creation time -- never state, resolution, comments or links.
 *
 * Thread-safety: models are read-only after creation; the ctx is read-only
 * after match_ctx_init, so match_rank may run on many threads at once.
 * Errors: only match_model_from_text and match_train fail (dp_err).
 */
#ifndef DP_MATCH_H
#define DP_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include "../index/index.h"
#include "../common/pair.h"

#define MATCH_POOL 100          /* BM25F candidates re-ranked per query */
#define MATCH_MIN_TRAIN 50      /* fewer known duplicates: use the default model */
#define MATCH_CALIB_TOP 5       /* top hits per query that count as suggestions */

/* Feature ids; names via match_feature_name(). Model text files name
 * features, so old models load safely when features are added. */
typedef enum {
    FEAT_BM25F = 0,           /* log(1 + BM25F score) */
    FEAT_BM25_TITLE,          /* log(1 + BM25F of the candidate's title field alone) */
    FEAT_BM25_PROSE,
    FEAT_BM25_CODE,
    FEAT_BM25_LABELS,
    FEAT_TITLE_OVERLAP,       /* Jaccard of title unigrams */
    FEAT_BIGRAM_OVERLAP,      /* shared bigrams / bigrams of the smaller side */
    FEAT_SHARED_IDF,          /* idf mass of shared terms / idf mass of the query */
    FEAT_EXCEPTION,           /* log(1 + shared exception names) */
    FEAT_FRAMES,              /* log(1 + shared stack frames) */
    FEAT_PATHS,               /* log(1 + shared file paths) */
    FEAT_ERRORS,              /* log(1 + shared normalised error lines) */
    FEAT_LABELS,              /* Jaccard of labels + components */
    FEAT_VERSION,             /* 1 when an affected version is shared */
    FEAT_TIME_GAP,            /* log(1 + days apart) */
    FEAT_SAME_AUTHOR,
    FEAT_LEN_RATIO,           /* shorter / longer, in tokens */
    FEAT_KIND_SAME,
    FEAT_CROSSREF,            /* a known non-duplicate link joins the two */
    FEAT_RANK_BM25,           /* 1/(1+bm25 rank) in the pool */
    FEAT_BM25_REL,            /* BM25F / best BM25F of the pool */
    FEAT_COSINE,              /* tf-idf cosine of all unigrams */
    FEAT_TITLE_COSINE,        /* tf-idf cosine of the two titles (uni+bigrams) */
    FEAT_POPULARITY,          /* log(1 + earlier known duplicates of the candidate) */
    FEAT_TYPE_SAME,           /* same issue type (Jira) */
    FEAT_PRIORITY_SAME,       /* same priority (Jira) */
    FEAT_COUNT
} match_feature;
const char *match_feature_name(match_feature f);
/* Feature id by name, or -1. */
int match_feature_find(const char *name);

/* Judge features (match_judge.c); names via match_jfeature_name(). */
typedef enum {
    /* the ranker's evidence, and a few bends of it a linear judge needs */
    JF_SCORE = 0,             /* ranker score */
    JF_MARGIN,                /* score minus the best other score of the pool */
    JF_MARGIN_POS,            /* max(margin, 0): how clearly it is the best */
    JF_SCORE_SQ,              /* score^2 / 100 */
    JF_SCORE_MARGIN,          /* score * margin / 10 */
    JF_RANK,                  /* 1 / rank among the query's candidates */
    JF_TITLE_COSINE,
    JF_TITLE_COSINE_SQ,
    JF_COSINE,
    JF_COSINE_SQ,
    JF_BIGRAM,
    JF_BIGRAM_SQ,
    JF_SHARED_IDF,
    JF_TITLE_OVERLAP,
    JF_SIGNALS,               /* shared exceptions + frames + errors + paths (log counts) */
    JF_LABELS,
    JF_VERSION,               /* an affected version in common */
    JF_LEN_RATIO,
    JF_TIME_GAP,
    JF_KIND_SAME,
    JF_POPULARITY,
    /* who filed them, when: a double post is a duplicate, a series is not */
    JF_SAME_AUTHOR,
    JF_AUTHOR_10MIN,          /* same author within 10 minutes */
    JF_AUTHOR_2H,             /* ... within two hours */
    JF_AUTHOR_1DAY,           /* ... within a day */
    /* copies: a clone carries the description over to another reporter */
    JF_COPY_OTHER_AUTHOR,     /* cosine > 0.9, other author */
    JF_COPY_SAME_AUTHOR,      /* cosine > 0.9, same author */
    JF_TITLE_SAME,            /* the same title words */
    JF_TITLE_SAME_OTHER_AUTHOR,
    /* the text naming items */
    JF_MENTION_DUP,           /* the query calls the candidate its original ("duplicate of X") */
    JF_MENTION_FOLLOW,        /* ... its origin ("follow-up to X", "Disabled in X", "backport of X") */
    JF_MENTION_PLAIN,         /* ... names it otherwise */
    JF_MENTION_TITLE,         /* the query's title names the candidate */
    JF_QREF_TITLE,            /* the query's title names some item */
    JF_CREF_TITLE,            /* the candidate's title names some item */
    JF_SHARED_REF,            /* log(1 + third items both name): siblings under a parent */
    JF_TITLE_REFS_DIFFER,     /* both titles name items, none the same ("Backport X" / "Backport Y") */
    /* titles that differ in what matters */
    JF_OPPOSITE,              /* an opposite action (enable/disable, add/remove) */
    JF_VERSION_ONLY,          /* only branch/version words (a backport) */
    JF_BACKPORT,              /* one says backport/clone/branch where the other does not */
    JF_SLOT_DIFF,             /* each has a rare word the other lacks (one template, two
                                 names): min of their idf / log N */
    /* the candidate as it stood when the query was filed */
    JF_CAND_OPEN_AT_FILING,
    JF_CAND_FIXED_BEFORE,     /* closed as fixed before the query was filed */
    JF_FIX_AGE,               /* log(1 + days from that fix to the query) */
    JF_CAND_CLOSED_BEFORE,    /* closed otherwise before the query was filed */
    JF_LATER_VERSION,         /* fixed before, and the query names a later version */
    JF_VERSIONS_DIFFER,       /* both name affected versions, none shared */
    JF_VERSIONS_DIFFER_COS,   /* ... times cosine: a clone for another release */
    JF_FIXED_SCORE,           /* fixed before * score / 10 */
    JF_OPEN_SCORE,            /* open at filing * score / 10 */
    JF_AUTHOR_DAY_NEW_TITLE,  /* same author within a day * (1 - title cosine): a
                                 series of different reports, not a double post */
    JF_SHARED_TITLE_IDF,      /* the rarest title word both share: idf / log N (low:
                                 they share only common words) */
    JF_TITLE_NAME_SWAP,       /* the titles, word for word, differ in one or two words
                                 on each side and share at least two ("X has missing
                                 field names" / "Y has missing field names") */
    /* the same failure: evidence a text model weighs too little where it is
       rare (see MATCH_RARE_SIGNAL_*) */
    JF_RARE_FRAMES,           /* stack frames both show that few items of the corpus show */
    JF_RARE_ERRORS,           /* error lines both show, as rare */
    JF_COUNT
} match_jfeature;
const char *match_jfeature_name(match_jfeature f);
int match_jfeature_find(const char *name);   /* -1 when unknown */

/* The judge (second stage): a softmax over not related / related /
 * duplicate on standardised judge features (JF_*, see below), fitted on
 * the pairs a maintainer is shown with the truth typed links give. */
typedef struct match_judge_model {
    int trained;                          /* 0: none (a model from before the judge) */
    double mean[JF_COUNT], scale[JF_COUNT];
    double w[RELATION_COUNT][JF_COUNT];   /* row RELATION_NONE stays 0 */
    double b[RELATION_COUNT];
    double link_rate;                     /* share of real relations a tracker links (see
                                             match_judge_probs); 1 = all */
    double thr_high[RELATION_COUNT];      /* probability of the relation shown at which */
    double thr_medium[RELATION_COUNT];    /*   confidence is high / medium */
} match_judge_model;

typedef struct match_model {
    double mean[FEAT_COUNT], scale[FEAT_COUNT];   /* standardisation */
    double w[FEAT_COUNT];
    double bias;
    double platt_a, platt_b;          /* prob = 1 / (1 + exp(a * score + c * margin + b)) */
    double platt_c;                   /* margin: score minus the best other score of the pool */
    double thr_high, thr_medium;      /* prob cut-offs for confidence */
    char *trained_on;                 /* description, owned (NULL ok) */
    int64_t trained_at;
    size_t ntrain;                    /* training queries (known duplicates) */
    match_judge_model judge;
} match_model;

const match_model *match_model_default(void);          /* static, never freed */
void match_model_copy(match_model *dst, const match_model *src);   /* deep */
void match_model_free(match_model *m);                 /* frees trained_on */
char *match_model_to_text(const match_model *m);       /* owned */
int match_model_from_text(const char *text, match_model *out, dp_err *err);
/* The model as a C initializer (for regenerating match_default.c). */
char *match_model_to_c(const match_model *m);          /* owned */

/* Context the features need beyond the index: the known links (for the
 * candidate's popularity as a duplicate target and for cross-references). */
typedef struct match_ctx {
    const dindex *ix;
    const match_model *model;
    const item_link *links;     /* may be NULL */
    size_t nlinks;
    int asof;                   /* 1: only links older than the query count
                                   (eval, training); set after init */
    const char *repo_name;      /* "owner/name" for issue URLs in text; NULL ok;
                                   set after init (borrowed) */
    void *priv;                 /* built by match_ctx_init */
} match_ctx;
void match_ctx_init(match_ctx *ctx, const dindex *ix, const match_model *m, const item_link *links,
                    size_t nlinks);
/* The same for an index whose items are filled after init, a few at a time
 * (index_items_attach; analyze_corpus_open): nothing is precomputed that
 * reads an item or every doc's terms; each feature row reads the items of
 * its two docs (the string path) and the candidate's terms. The links may
 * be only those touching the docs read so far (match_ctx_relink as more
 * are read), so any_typed -- item_links_any_typed() of ALL the repo's
 * links -- is given. The same feature values as match_ctx_init; slower per
 * row, so for a few queries, not a whole analysis. */
void match_ctx_init_sparse(match_ctx *ctx, const dindex *ix, const match_model *m, const item_link *links,
                           size_t nlinks, int any_typed);
/* A sparse ctx's links grew: links must hold every link touching each doc
 * that features are asked for, and begin with the links given before (at
 * init or the last relink), which are not resolved again -- the array only
 * grows at its end (it may have moved). O(ndocs + links) without string
 * work. Not thread-safe. */
void match_ctx_relink(match_ctx *ctx, const item_link *links, size_t nlinks);
void match_ctx_free(match_ctx *ctx);

/* What a query is made of. match_query_from_doc() fills it for an indexed
 * item; match_query_from_item() for text that is not indexed (doppel
 * similar --title). Owns its arrays; free with match_query_free(). */
typedef struct match_query {
    const index_query *q;       /* the BM25F query (own_q or borrowed) */
    uint32_t qdoc;              /* doc number, UINT32_MAX when not indexed */
    const item *it;             /* as-filed fields (borrowed) */
    const uint32_t *terms;      /* distinct term ids, ascending */
    const uint16_t (*tf)[FIELD_COUNT];
    size_t nterms;
    uint32_t len[FIELD_COUNT];
    const text_signals *sig;    /* borrowed from the index, or &own_sig */
    double norm_all, norm_title, idf_mass;  /* for the similarity features */
    size_t nbigrams, ntitle_uni;
    /* private */
    index_query own_q;
    uint32_t *own_terms;
    uint16_t (*own_tf)[FIELD_COUNT];
    text_signals own_sig;
    int has_own_q, has_own_sig;
} match_query;
void match_query_from_doc(const match_ctx *ctx, uint32_t qdoc, match_query *out);
void match_query_from_item(const match_ctx *ctx, text_tokenizer *tk, const item *it,
                           match_query *out);
void match_query_free(match_query *mq);
/* Doc qdoc as the judge reads a query (match_judge_prepare, _features):
 * item, signals and forward terms only -- no BM25F query (q is NULL) and
 * no similarity norms, which only ranking needs. What analyze builds for
 * each candidate newer than its query, read from its side (~10 a query). */
void match_query_judge_view(const match_ctx *ctx, uint32_t qdoc, match_query *out);

void match_features(const match_ctx *ctx, const match_query *mq, uint32_t cdoc, int bm25_rank,
                    double bm25, double bm25_top, double feat[FEAT_COUNT]);
double match_score(const match_model *m, const double feat[FEAT_COUNT]);
double match_prob(const match_model *m, double score);   /* margin 0 */
double match_prob_margin(const match_model *m, double score, double margin);

typedef struct match_hit {
    uint32_t doc;
    int bm25_rank;              /* 0-based rank in the BM25F pool */
    double bm25;
    double score;
    double margin;              /* score - best other score in the pool */
    double prob;
    double feat[FEAT_COUNT];
} match_hit;

/* Ranks candidates in [lo, hi) (minus qdoc) for the query; returns the number
 * written to out (room for k), best first. qdoc may be UINT32_MAX for a query
 * that is not in the index (then only BM25F-derived features are filled;
 * prefer match_rank_query). Deterministic: ties break by lower doc. */
size_t match_rank(const match_ctx *ctx, const index_query *q, uint32_t qdoc, uint32_t lo,
                  uint32_t hi, size_t k, match_hit *out);
size_t match_rank_query(const match_ctx *ctx, const match_query *mq, uint32_t lo, uint32_t hi,
                        size_t k, match_hit *out);
/* match_rank_query in two steps, for a caller that must prepare the pool's
 * docs (a sparse ctx: load their items) before features are computed:
 * match_pool fills pool (room for MATCH_POOL) with the BM25F candidates and
 * returns their number; match_rank_pool ranks them. */
size_t match_pool(const match_ctx *ctx, const match_query *mq, uint32_t lo, uint32_t hi, index_hit *pool);
size_t match_rank_pool(const match_ctx *ctx, const match_query *mq, const index_hit *pool, size_t n,
                       size_t k, match_hit *out);


/* Features ordered by their contribution w*(x-mean)/scale to this hit's
 * score, largest first; writes up to max feature ids. */
size_t match_top_features(const match_model *m, const double feat[FEAT_COUNT], match_feature *out,
                          size_t max);

/* ---- judgment (match_judge.c) ----------------------------------------------
 * The ranker orders candidates; the judge says what each shown pair is:
 * duplicate, related, or not related, with a calibrated probability of
 * each. Judge features (the ranker's evidence plus what separates a
 * duplicate from a follow-up, clone, backport, regression, sibling or
 * template twin) read the query as filed and the candidate as it stood when
 * the query was filed. */

/* What the judge reads of a query once, for all its candidates. */
typedef struct match_judge_query {
    const text_refs *title_refs, *refs;   /* items its title / title+body name: an indexed
                                             doc's from the ctx's cache, else own_* */
    text_refs own_title, own_refs;
    const struct jt_rec *title;           /* its title's word records: an indexed doc's
                                             from the ctx's cache (match_doc_title), else
                                             own_trec; NULL without an item */
    struct jt_rec *own_trec;
    struct jt_local *own_local;           /* own_trec's words the ctx's table lacked
                                             (looked up again when a record made since
                                             may hold them); NULL: none */
    const uint32_t *tterms;               /* its title terms that are not bigrams,
                                             ascending: the ctx's list, else own_tterms */
    size_t ntterms;
    uint32_t *own_tterms;
    const uint8_t *tord;                  /* tterms' positions by idf, highest first (the
                                             doc's record's); NULL: not known */
    const float *tidf;                    /* index_idf of each of tterms when they are the
                                             ctx's list (match_doc_title_idf); else NULL */
    struct judge_signals *sig;            /* its frames and error lines as the same-failure
                                             features read them (owned; filled on use;
                                             NULL when the query shows neither) */
} match_judge_query;
void match_judge_prepare(const match_ctx *ctx, const match_query *mq, match_judge_query *jq);
void match_judge_query_free(match_judge_query *jq);
/* The judge features of hit h, the query's candidate at 1-based rank. */
void match_judge_features(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                          const match_hit *h, int rank, double jf[JF_COUNT]);
/* match_judge_features when the candidate's own judge query cq is at hand
 * (match_judge_prepare of a query whose item is h->doc's item): its title
 * records are read (an indexed doc's are the ctx's anyway). The same
 * values. cq NULL, or without records: as match_judge_features. */
void match_judge_features_cand(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                               const match_hit *h, int rank, const match_judge_query *cq,
                               double jf[JF_COUNT]);

/* Calibrated probabilities of the three relations (sum 1). The softmax is
 * fitted on the pairs of queries whose truth the tracker records (they
 * carry a typed link), where an unlinked candidate counts as not related.
 * Trackers leave many real relations unlinked (half of Apache's issues
 * closed as duplicates name no twin), so "related at all" is divided by
 * the tracker's link rate before the three are formed:
 *   any = min(1, (softmax_dup + softmax_related) / link_rate)
 *   p[DUPLICATE] = any * softmax_dup / (softmax_dup + softmax_related), ...
 * A model without a trained judge falls back to the ranker's probability
 * of a duplicate. */
void match_judge_probs(const match_model *m, const double jf[JF_COUNT], double p[RELATION_COUNT]);

/* What a maintainer is shown. Two questions, in order:
 *  1. Are the two related at all? No when p_any < 0.5: "not related",
 *     with probability 1 - p_any.
 *  2. Then duplicate or another relation? Duplicate when it is the likelier
 *     of the two, and the probability shown is that of the relation given
 *     that they are related at all -- p[r] / p_any -- which is what the
 *     tracker's links can confirm or refute (eval measures it so).
 * A double post -- one person, the same text (cosine >= 0.95), within ten
 * minutes -- is a duplicate whatever its new title says, and certain given
 * that they are related at all. Four policies hold the other way: an issue
 * and a pull request are never duplicates (the
 * pull request implements or fixes the issue); a report of a problem fixed
 * long before (MATCH_REGRESSION_DAYS), or fixed before a later version the
 * report names, is a possible regression -- related, not a duplicate to
 * close; two titles that share only common words around a rare name each
 * ("Add the X dataset" / "Add the Y dataset": one template filled with two
 * names) are two requests; and one person's reports of one day under titles
 * that read apart are a series (on the Apache trackers two in three such
 * linked pairs are not duplicates; a double post keeps its title). The
 * last two are related at most. Given that they are related at all, the
 * first two are certain. One floor holds the other way: a pair that shows the
 * same failure (rare stack frames or a rare error line in common, see
 * MATCH_SAME_FAILURE_*) is related at all with at least that probability;
 * when the floor alone lifts it, the relation shown is chosen as above and
 * its probability is the floor times the relation's share.
 * Confidence: high when the probability reaches judge.thr_high[relation],
 * medium at thr_medium[relation] (fitted by match_judge_train: out-of-fold
 * pairs shown high had that relation at least 90% of the time, those
 * between medium and high 65%; floors 0.8 and 0.6). */
typedef struct match_judgment {
    relation_kind relation;
    confidence_level confidence;
    double p[RELATION_COUNT];
    double p_any;               /* related at all: p[DUPLICATE] + p[RELATED] */
    double p_shown;             /* the confidence's probability (see above) */
    double strength;            /* how often pairs with this ranking evidence are
                                   duplicates among all pairs shown: the ranker's
                                   calibration over every query, divided by the link
                                   rate (capped at 1). It orders the review queue:
                                   the judge's probabilities are conditional on
                                   trackers that link (see match_judge_probs) */
    int regression;             /* a possible regression (see above) */
    int pr_pair;                /* an issue and a pull request */
    int template_twins;         /* one template filled with two names (see above) */
    int series;                 /* one person's reports of a day, titled apart (see above) */
    int double_post;            /* one person, the same text, minutes apart (see above) */
    int same_failure;           /* rare frames or an error line in common (see below) */
    int failure_lifted;         /* ... and that alone keeps it from "not related" */
} match_judgment;
#define MATCH_REGRESSION_DAYS 180   /* fixed this long before the report: a regression */
#define MATCH_TEMPLATE_NAME 0.6     /* template twins: a title word this rare (idf / log N)
                                       on each side ... */
#define MATCH_TEMPLATE_SHARED 0.45  /* ... and no shared title word rarer than this */
#define MATCH_SERIES_TITLE 0.5      /* a series: same author within a day, title cosine below */
#define MATCH_DOUBLE_POST_TEXT 0.95 /* ... unless within ten minutes and the text this alike */
/* The same failure: both show at least MATCH_SAME_FAILURE_FRAMES stack frames,
 * or one error line, that at most MATCH_RARE_SIGNAL_SHARE of the corpus (and
 * at least MATCH_RARE_SIGNAL_MIN_DF items) show -- a frame's or line's rarity
 * is that of its rarest indexed term. Judges fitted on trackers where frames
 * are shared widely (Java's) give such pairs no weight, yet three rare frames
 * in common are one crash. Such a pair is never shown "not related": it is
 * related at all with probability at least MATCH_SAME_FAILURE_ANY. */
#define MATCH_SAME_FAILURE_FRAMES 3
#define MATCH_RARE_SIGNAL_SHARE 0.001
#define MATCH_RARE_SIGNAL_MIN_DF 5
#define MATCH_SAME_FAILURE_ANY 0.6
#define MATCH_LINK_RATE_MIN 0.5     /* the correction for unlinked relations is at most 2x */
#define MATCH_HIGH_FLOOR 0.8        /* "high" never below this probability */
#define MATCH_MEDIUM_FLOOR 0.6      /* "medium" never below this one */
/* The judge's link rate, clamped to [MATCH_LINK_RATE_MIN, 1]. */
double match_judge_link_rate(const match_judge_model *j);
void match_judge_decide(const match_model *m, const double jf[JF_COUNT], const double p[RELATION_COUNT],
                        match_judgment *out);
/* The confidence of showing relation rel with probability p. */
confidence_level match_judge_level(const match_model *m, relation_kind rel, double p);
/* The words behind the title and mention features of (qdoc, cdoc), for
 * the reasoning: each string "" when there is nothing to say. */
typedef struct match_judge_reasons {
    char opposite[2][32];     /* an opposite action split between the titles, query's first */
    char diff[2][128];        /* the title words each has alone, space-separated */
    char mention[160];        /* the query's line that names the candidate, as written */
    char shared_ref[48];      /* a third item both name */
} match_judge_reasons;
void match_judge_why(const match_ctx *ctx, uint32_t qdoc, uint32_t cdoc, match_judge_reasons *out);
/* The same for a query that is not an indexed doc (match_query_from_item),
 * with the refs match_judge_prepare found in it. */
void match_judge_why_query(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                           uint32_t cdoc, match_judge_reasons *out);

/* All of the above for hit h at 1-based rank. */
void match_judge_hit(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                     const match_hit *h, int rank, match_judgment *out);

/* ---- training ------------------------------------------------------------
 * A training set is a list of queries, each with its pool of candidates
 * (feature rows) and labels (1 = an earlier member of the query's duplicate
 * group). Rows of query i are [off[i], off[i+1]). The caller fills it with
 * match_trainset_add() (a known duplicate) and match_trainset_add_query().
 *
 * Two kinds of query: known duplicates (dup 1, weight 1), which train the
 * weights and the calibration, and "no-duplicate" queries (dup 0: an issue
 * outside every duplicate group, its pool all negatives), which only the
 * calibration sees. A no-duplicate query's weight is the number of issues
 * without a known duplicate it stands for (items not sampled / sampled), so
 * that the calibration meets duplicates at the tracker's own base rate. */
typedef struct match_trainset {
    size_t nq, nrows, cap_q, cap_rows;
    size_t *off;
    int64_t *qtime;             /* per query: when it was filed (calibration
                                   holds out the latest) */
    double (*feat)[FEAT_COUNT];
    unsigned char *label;
    unsigned char *qdup;        /* per query: 1 known duplicate, 0 no-duplicate */
    double *qweight;            /* per query: issues it stands for */
} match_trainset;
void match_trainset_add(match_trainset *ts, int64_t qtime, const match_hit *hits,
                        const unsigned char *labels, size_t n);
/* Any query; labels may be NULL (all negative). */
void match_trainset_add_query(match_trainset *ts, int64_t qtime, const match_hit *hits,
                              const unsigned char *labels, size_t n, int dup, double weight);
void match_trainset_append(match_trainset *dst, const match_trainset *src);
void match_trainset_free(match_trainset *ts);

typedef struct match_train_opts {
    int epochs;                 /* full-batch Adam steps (default 300) */
    double lr;                  /* default 0.05 */
    double l2;                  /* default 1e-3 */
    double calib_share;         /* latest share of queries held out for Platt (0.25) */
    double high_precision;      /* target precision of "high" on known duplicates (0.96) */
    double medium_precision;    /* target precision of "medium" on known duplicates (0.6) */
    double judge_high;          /* held-out precision of the judge's "high" (0.9; the
                                   MATCH_HIGH_FLOOR gives room for new trackers) */
    double judge_medium;        /* ... of "medium" (0.65) */
    double judge_l2;            /* L2 of the judge's softmax (1e-4) */
} match_train_opts;
void match_train_opts_default(match_train_opts *o);

/* Fits the weights on the older (1 - calib_share) of the known duplicates
 * of ts (by qtime; those whose pool holds no true duplicate are skipped
 * there), and Platt and thresholds on the latest calib_share of them (all
 * of them: a duplicate the pool missed is a miss a maintainer meets too)
 * plus every no-duplicate query, whose weights are scaled by the held-out
 * share so that the mix keeps the base rate. Calibration is thus measured
 * on queries the weights never saw. Thresholds: the lowest probability at
 * which weighted held-out precision reaches the target.
 * Deterministic: no randomness, fixed summation order. out is initialised
 * here (caller frees with match_model_free). DP_ERR when ts has fewer than
 * 2 usable known duplicates. */
int match_train(const match_trainset *ts, const match_train_opts *o, match_model *out,
                dp_err *err);

/* ---- training the judge (match_judge_train.c) ---------------------------
 * A judge set holds the judge features of the pairs shown for queries whose
 * truth the tracker records, each labelled with the relation its links
 * give (unlinked: not related), plus the tracker's link rate for
 * duplicates: of the items it closed as duplicates, how many name their
 * twin with a link. */
typedef struct match_judgeset {
    size_t n, cap;
    double (*jf)[JF_COUNT];
    unsigned char *label;       /* relation_kind, or MATCH_LABEL_RELATES */
    int64_t *qtime;             /* when the query was filed (thresholds hold out the latest) */
    size_t dup_closed, dup_closed_linked;
} match_judgeset;
/* Jira's Relates: joins near-duplicates as often as distinct problems, so
 * the softmax does not learn from it; the related cut-offs count it as
 * related (as eval does). */
#define MATCH_LABEL_RELATES RELATION_COUNT
void match_judgeset_add(match_judgeset *js, int64_t qtime, const double jf[JF_COUNT], int label);
void match_judgeset_append(match_judgeset *dst, const match_judgeset *src);
void match_judgeset_free(match_judgeset *js);

/* Fits m->judge on js: the softmax on all rows; the confidence cut-offs on
 * out-of-fold judgments (4 folds of consecutive query times, each judged
 * by a softmax fitted on the other three): for duplicate and related, the
 * lowest probability at which the pairs shown with that relation at or
 * above it have it (link truth) at least o->judge_high of the time (high),
 * and the lowest at which the pairs between it and the high cut reach
 * o->judge_medium (medium), never below MATCH_HIGH_FLOOR /
 * MATCH_MEDIUM_FLOOR. Not related keeps 0.9 / 0.6. Deterministic. DP_ERR
 * when js holds too few duplicates or related pairs. */
int match_judge_train(const match_judgeset *js, const match_train_opts *o, match_model *m,
                      dp_err *err);

#endif
