/* eval.h -- measuring retrieval accuracy on known duplicates.
 *
 * Protocol (standard for duplicate bug report retrieval):
 *  - Duplicate groups are the connected components of the ground-truth
 *    pairs (the store's LINK_DUPLICATE links, or a truth CSV). Every member
 *    of a group that has an earlier member is a query.
 *  - A query's candidates are the items created before it, within
 *    `window_days` (0 = all). Queries whose earlier members all fall outside
 *    the window are counted (out_of_window) but not scored.
 *  - The query is seen as filed: its title, body, labels, components,
 *    versions, type, priority, author and date -- never comments, links,
 *    state or resolution (the ranker runs with match_ctx.asof, so no link
 *    or comment pointing at the query reaches a feature; comments are not
 *    indexed at all).
 *  - Hit at k: any earlier member of the group is in the top k.
 *  - Chronological split: the oldest `split` share of queries train the
 *    model (when there are at least MATCH_MIN_TRAIN of them), the rest are
 *    test queries; with split 0 every query is a test query and opts.model
 *    ranks. Related links (LINK_RELATED) are scored the same way,
 *    separately, on items filed after the last training query.
 *  - The plain BM25 baseline (title+body, k1 1.2, b 0.75, no stemming, no
 *    bigrams, no template stripping) ranks the same test queries.
 *  - All queries (what a maintainer sees): most issues of a real tracker
 *    have no duplicate, yet analyze suggests pairs for every one. So the
 *    decisions (`duplicate . high`, the calibration table) are measured a
 *    second time with `negatives` issues outside every duplicate group,
 *    filed in the test period and sampled evenly in time, added as queries
 *    whose every suggestion is false. Each stands for neg_weight issues
 *    without a known duplicate (those of the test period / those sampled),
 *    so duplicates are as rare as in the data (base_rate = known duplicates
 *    / all issues of the test period). Training adds such issues the same
 *    way (match_trainset_add_query), for the calibration only.
 *
 * Ownership: eval_result and eval_pairs own everything in them; free with
 * the matching *_free. Errors are returned through dp_err. eval_run uses
 * `threads` worker threads internally; the functions themselves may be
 * called from one thread at a time per result.
 */
#ifndef DP_EVAL_H
#define DP_EVAL_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "../common/item.h"
#include "../match/match.h"
#include "../store/store.h"

#define EVAL_WORST 25           /* misses listed in the report */
#define EVAL_NEGATIVES 2000     /* no-duplicate queries sampled per run (default) */

/* Ground truth: (query, duplicate_of) key pairs. */
typedef struct eval_pairs {
    char **a, **b;
    size_t n, cap;
} eval_pairs;
void eval_pairs_add(eval_pairs *p, const char *a, const char *b);
void eval_pairs_free(eval_pairs *p);
/* Header "query,duplicate_of" (any order, extra columns ignored; quoted
 * fields allowed). Errors name the line. */
int eval_truth_load_csv(const char *path, eval_pairs *out, dp_err *err);

/* One repository's data, borrowed. Items sorted by created_at (as
 * store_items_load returns them). */
typedef struct eval_data {
    const char *name;
    const item *items;
    size_t nitems;
    const item_link *links;
    size_t nlinks;
    const eval_pairs *truth;    /* NULL: the LINK_DUPLICATE links */
} eval_data;

typedef struct eval_opts {
    int window_days;            /* 365; 0 = no window */
    double split;               /* 0.8; 0 = no in-run training */
    const match_model *model;   /* split 0 or too few training queries; NULL = built-in */
    int threads;                /* 0 = CPUs */
    size_t negatives;           /* no-duplicate queries sampled (EVAL_NEGATIVES; 0 = none,
                                   as many as exist when larger) */
} eval_opts;
void eval_opts_default(eval_opts *o);

typedef struct eval_metrics {
    size_t n;                   /* queries scored */
    double recall[4];           /* @1, @5, @10, @20 */
    double mrr;                 /* over the top MATCH_POOL; a miss counts 0 */
} eval_metrics;
extern const int eval_recall_k[4];

/* Ranks (1-based, 0 = not within the top MATCH_POOL) -> metrics. */
void eval_metrics_compute(const int *ranks, size_t n, eval_metrics *out);

typedef struct eval_query {
    char *key;                  /* the query */
    char *target;               /* the right answer: best-ranked earlier member */
    char *query_title, *target_title;
    int64_t created_at;
    int rank, base_rank;        /* 1-based; 0 = not in the top MATCH_POOL */
    int target_bm25_rank;       /* target's rank by BM25F among all candidates */
    int ntop;
    double top_prob[MATCH_CALIB_TOP];
    unsigned char top_true[MATCH_CALIB_TOP];
    unsigned char top_same_kind[MATCH_CALIB_TOP];   /* issue/issue or PR/PR */
} eval_query;

enum { EVAL_HIGH = 0, EVAL_MEDIUM, EVAL_LOW, EVAL_LEVELS };
#define EVAL_BINS 10

typedef struct eval_result {
    char *repo;
    size_t nitems;
    size_t nqueries, ntrain, out_of_window;
    eval_query *q;              /* test queries, chronological */
    size_t nq;
    eval_metrics learned, base, rel_learned, rel_base;
    char *model_desc;           /* which model ranked */
    int trained_in_run;
    int64_t split_time;         /* test queries are filed at or after this */
    /* the `duplicate` relation at `high` confidence, over the top
     * MATCH_CALIB_TOP suggestions of every test query */
    size_t high_pairs, high_true, high_caught;
    double high_precision, high_recall;
    size_t level_pairs[EVAL_LEVELS], level_true[EVAL_LEVELS];
    size_t bin_pairs[EVAL_BINS], bin_true[EVAL_BINS];
    double bin_prob[EVAL_BINS]; /* mean predicted probability per bin */
    /* all queries: the test queries above plus nneg sampled no-duplicate
     * queries (neg: key, title, target = their top suggestion, top_prob),
     * each weighing neg_weight. Pair counts are weighted: "pairs a
     * maintainer would see" in the test period. */
    eval_query *neg;
    size_t nneg, neg_population;    /* sampled; issues without a known duplicate */
    double neg_weight, base_rate;
    size_t neg_high;                /* sampled negatives with a duplicate . high pair */
    double all_high_pairs, all_high_precision, all_high_recall;
    double false_alarm;             /* share of no-duplicate issues given a duplicate . high */
    double all_level_pairs[EVAL_LEVELS], all_level_true[EVAL_LEVELS];
    double all_bin_pairs[EVAL_BINS], all_bin_true[EVAL_BINS], all_bin_prob[EVAL_BINS];
    double seconds_index, seconds_train, seconds_rank, qps;
    match_model model;          /* the model used (copy) */
} eval_result;
void eval_result_free(eval_result *r);

int eval_run(const eval_data *d, const eval_opts *o, eval_result *out, dp_err *err);

/* Training data for `doppel train`: every known duplicate of d as a
 * training query (features as eval computes them), plus o->negatives
 * no-duplicate queries weighted to d's base rate. Appends to ts;
 * *nqueries = known duplicates added. */
int eval_collect_trainset(const eval_data *d, const eval_opts *o, match_trainset *ts,
                          size_t *nqueries, dp_err *err);

/* Loading from the store: one repository's items and links (owned), and a
 * model from a file (`doppel train --out`) or from the store (repo name, or
 * "global" for the model trained on several repositories). */
typedef struct eval_repo_data {
    char *name;
    int64_t repo_id;
    item_vec items;
    link_vec links;
    eval_data d;                /* views the above */
} eval_repo_data;
int eval_repo_load(store *st, const char *repo, eval_repo_data *out, dp_err *err);
void eval_repo_data_free(eval_repo_data *r);
int eval_model_load_file(const char *path, match_model *out, dp_err *err);
int eval_model_load_store(store *st, const char *repo, match_model *out, dp_err *err);

/* Reports. */
void eval_report_text(const eval_result *r, FILE *out);
char *eval_report_json(const eval_result *r);          /* owned */
int eval_report_html(const eval_result *r, const char *path, dp_err *err);

#endif
