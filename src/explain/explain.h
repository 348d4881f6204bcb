/* explain.h -- what a maintainer reads about a pair: reasoning sentences,
 * the value (triage priority) with its breakdown, and a suggested comment.
 *
 * Everything here is derived from the two items, the index (for shared
 * rare terms and signals), the match hit (features, probability, decision)
 * and the known links. Pure functions; strings returned are owned by the
 * caller. Thread-safe: nothing is written but the out-structs, so analyze
 * explains pairs on many threads at once (a linkset is read-only once built).
 *
 * Value (see explain_value):
 *     value = prob * state * engagement * known
 *   state      3.0  one open, the other closed as fixed (GitHub "completed" or
 *                   no reason; Jira Fixed/Done/Resolved): close the open one
 *                   pointing at the fix
 *              2.0  both open: a discussion split in two
 *              1.5  one open, the other closed for another reason
 *                   (duplicate, not planned, won't fix...)
 *              0.2 + 0.6 * exp(-age / 180 days)  both closed; age = days
 *                   since the later of their last updates
 *   engagement 1 + 0.15 * ln(1 + comments + reactions of both items)
 *   known      0.05 when the data already links them as duplicates, else 1
 *              (3.0 * 0.05 < 0.2: below even two stale closed items)
 */
#ifndef DP_EXPLAIN_H
#define DP_EXPLAIN_H

#include "../common/util.h"
#include "../match/match.h"

/* Known links indexed by unordered key pair, for fast lookups when many
 * pairs are explained. Borrows the links array (which must outlive it). */
typedef struct explain_linkset explain_linkset;
explain_linkset *explain_linkset_new(const item_link *links, size_t nlinks);
void explain_linkset_free(explain_linkset *ls);   /* NULL ok */
/* Indices (into the links array) of the links between a and b, either
 * direction; writes up to max and returns the total count. */
size_t explain_linkset_find(const explain_linkset *ls, const char *a, const char *b, size_t *out,
                            size_t max);

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
    const explain_linkset *linkset;  /* optional index of links (NULL: scan links) */
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

/* How an item is referred to in text: "#4606" for a numeric (GitHub) key,
 * the key itself otherwise ("HIVE-123"). Returns buf. */
const char *explain_ref(const char *key, char *buf, size_t n);

/* The value formula above. known: 1 when already linked as duplicates.
 * detail (may be NULL) gets the "factor: x.xxx" breakdown appended. */
double explain_value(const item *q, const item *c, double prob, int known, int64_t now,
                     sbuf *detail);

#endif
