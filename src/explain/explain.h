/* explain.h -- what a maintainer reads about a pair: reasoning sentences,
 * the value (triage priority) with its breakdown, and a suggested comment.
 *
 * Everything here is derived from the two items, the index (for shared
 * rare terms and signals), the match hit (features, probability, decision)
 * and the known links. Pure functions; strings returned are owned by the
 * caller.
 */
#ifndef DP_EXPLAIN_H
#define DP_EXPLAIN_H

#include "../match/match.h"

typedef struct explain_input {
    const dindex *ix;
    const match_model *model;
    uint32_t qdoc, cdoc;
    const match_hit *hit;
    const char *relation;      /* from match_decide */
    const char *confidence;
    const item_link *links;         /* known links of the repo (may be NULL) */
    size_t nlinks;
    int64_t now;               /* "today", for staleness; seconds */
    const char *repo_url;      /* "https://github.com/o/r" or NULL */
} explain_input;

typedef struct explain_out {
    char *reasoning;           /* '\n'-separated plain sentences */
    double value;
    char *value_detail;        /* '\n'-separated "factor: x.xxx" lines */
    char *comment;             /* GitHub markdown */
    int known;                 /* already linked as duplicate */
} explain_out;

void explain_pair(const explain_input *in, explain_out *out);
void explain_out_free(explain_out *o);

#endif
