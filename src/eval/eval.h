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
 *  - Judgment (what a maintainer reads): every item of the test period is
 *    a query -- most have no duplicate, as on any tracker -- and its top
 *    MATCH_CALIB_TOP candidates are judged as analyze judges them. Each
 *    pair's relation and confidence are compared with the truth its links
 *    give: the same duplicate group; a link of a distinct relation (Jira
 *    Blocker, Regression, Cloners, Incorporates, ...; on a tracker without
 *    typed links, "#N" mentions and "fixes #N"); Jira's Relates/Reference,
 *    which joins near-duplicates as often as distinct problems, reported on
 *    its own; no link (counted as not related, a strict view: trackers
 *    leave many real duplicates unlinked). On a tracker that types its
 *    links (Jira), only typed links are truth: references in text are
 *    evidence, not a maintainer's decision.
 *  - Training (in-run and `doppel train`) also samples `negatives` issues
 *    without a known duplicate for the ranker's calibration, weighted so
 *    that duplicates are as rare as in the data.
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
    FILE *dump;                 /* NULL, or every judged pair as TSV (eval --dump-pairs) */
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
} eval_query;

enum { EVAL_HIGH = 0, EVAL_MEDIUM, EVAL_LOW, EVAL_LEVELS };
#define EVAL_BINS 10

/* The truth of a pair, from the links between its two items: the same
 * duplicate group; a link of a distinct relation (Jira Blocker,
 * Regression, Cloners, Incorporates..., GitHub "#N" mentions and "fixes
 * #N"); Jira's ambiguous Relates/Reference; nothing. */
enum { EVAL_TRUTH_NONE = 0, EVAL_TRUTH_RELATED, EVAL_TRUTH_DUP, EVAL_TRUTH_RELATES };

/* The judgment measures (see eval_judge.c): every item of the test period
 * is a query and its top MATCH_CALIB_TOP candidates are judged. Rows and
 * columns indexed by relation_kind (not related, related, duplicate),
 * levels by confidence_level (high, medium, low). */
typedef struct eval_pair_note {
    char *query, *cand, *query_title, *cand_title;   /* owned */
    double prob;
} eval_pair_note;

typedef struct eval_judgment {
    size_t queries, pairs;
    size_t confusion[RELATION_COUNT][RELATION_COUNT];   /* [truth][shown]; Relates left out,
                                                           unlinked = not related */
    size_t shown[RELATION_COUNT][EVAL_LEVELS];      /* every pair shown */
    size_t linked[RELATION_COUNT][EVAL_LEVELS];     /* ... whose truth a link gives (for
                                                       related, Relates too; else not) */
    size_t correct[RELATION_COUNT][EVAL_LEVELS];    /* ... and that truth agrees (Relates
                                                       agrees with related) */
    size_t linked_ii[EVAL_LEVELS], correct_ii[EVAL_LEVELS];  /* related, issue/issue only */
    size_t correct_all_none[EVAL_LEVELS];           /* not related shown and unlinked */
    size_t relates[RELATION_COUNT][EVAL_LEVELS];    /* Relates-linked pairs, as shown */
    size_t dup_queries, dup_caught[EVAL_LEVELS];    /* twin shown duplicate at >= level */
    size_t rel_queries, rel_caught[EVAL_LEVELS];
    size_t queue_n[3];
    double queue_at[3];                             /* precision at 20, 50, 100; value as
                                                       of each query's filing */
    size_t rbin_n[2][EVAL_BINS];                    /* reliability: [duplicate, related] */
    double rbin_p[2][EVAL_BINS], rbin_true[2][EVAL_BINS];
    size_t failure[2][4];                           /* the same failure (match.h): [all, lifted
                                                       by the floor][truth: dup, related,
                                                       Relates, unlinked] */
    eval_pair_note unlinked[EVAL_WORST];            /* most probable duplicates no link confirms */
    size_t nunlinked;
} eval_judgment;

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
    double seconds_index, seconds_train, seconds_rank, qps;
    eval_judgment judgment;
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

/* Judge training rows for `doppel train`: every query of d whose truth
 * the links record, ranked with model m as eval ranks it (see
 * match_judgeset). Appends to js. */
int eval_collect_judgeset(const eval_data *d, const eval_opts *o, const match_model *m,
                          match_judgeset *js, dp_err *err);

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
