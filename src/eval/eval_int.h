/* eval_int.h -- shared by the files of the eval module only: the prepared
 * repository (indexes, duplicate groups, related links) the protocol and
 * the judgment measures work on. */
#ifndef DP_EVAL_INT_H
#define DP_EVAL_INT_H

#include "eval.h"

typedef struct repo_state {
    const eval_data *d;
    dindex *ix, *base;
    uint32_t *group;            /* per doc: its group's root, the oldest member */
    uint32_t *gsize;            /* members per group root */
    uint32_t *queries;          /* docs that have an earlier group member, ascending */
    size_t nqueries;
    uint32_t *rel_off, *rel_nb; /* CSR of related links to earlier docs */
    uint32_t *rel_queries;
    size_t nrel;
    int window_days;
    int typed;                  /* the tracker types its links (Jira): only those are truth */
    item_link *links;           /* the truth links (views of d->links' strings), the
                                   ranker's link features read these too */
    size_t nlinks;
} repo_state;

/* 1 when link l is ground truth: on a tracker that types its links (Jira
 * issuelinks) only those, since references in text are evidence, not a
 * maintainer's decision; elsewhere every link (GitHub's conventions). */
int eval_link_is_truth(const repo_state *rs, const item_link *l);
/* First doc filed within the window before qdoc. */
uint32_t eval_window_lo(const repo_state *rs, uint32_t qdoc);
/* 1 when c is an earlier member of qdoc's duplicate group. */
int eval_is_target(const repo_state *rs, uint32_t qdoc, uint32_t c);

/* The judgment measures (eval_judge.c): every doc from first_doc on is a
 * query; its top MATCH_CALIB_TOP candidates are judged as analyze judges
 * them and compared with the truth the links give. Fills r->judgment. */
void eval_judge_run(const repo_state *rs, const match_ctx *ctx, uint32_t first_doc, int threads,
                    FILE *dump, eval_result *r);

/* Judge training rows of the queries in docs [lo, hi) whose truth the
 * tracker records (see match_judgeset), ranked with model m as-of. */
int eval_collect_judgeset_rs(const repo_state *rs, const match_model *m, uint32_t lo, uint32_t hi,
                             int threads, match_judgeset *js);

#endif
