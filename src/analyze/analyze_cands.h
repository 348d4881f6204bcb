/* analyze_cands.h -- the candidate pairs of a run (internal to the
 * analyze module): every kept hit oriented (later doc, earlier doc), and
 * the old pairs an incremental run carries, sorted by pair with repeats
 * dropped before they are explained. */
#ifndef DP_ANALYZE_CANDS_H
#define DP_ANALYZE_CANDS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cand {
    uint32_t later, earlier;
    int rank;
    uint32_t canonical;        /* of its duplicate cluster; UINT32_MAX: none */
    const unsigned char *rec;  /* its packed hit (qres); NULL: an old pair */
    double p_any;              /* the judgment's (analyze_cand_cmp), when rec */
    size_t old;                /* index into the old pairs when !is_new */
    unsigned char is_new;      /* 0: an old stored pair carried over (incremental) */
    unsigned char relation;    /* the judgment's (relation_kind), when rec */
} cand;

/* By pair (later, then earlier doc), then the one to keep first: fresh
 * before stored, then (both fresh) the more probable, then the better
 * rank. qsort-shaped. */
int analyze_cand_cmp(const void *x, const void *y);

/* Candidates in runs, their concatenation in the order of the runs. */
typedef struct cand_run {
    cand *v;
    size_t n;
} cand_run;

/* The concatenation of runs[0, nr) sorted by analyze_cand_cmp, keeping the
 * first of each pair, with ties in their order (what one stable sort of
 * the concatenation gives: glibc's qsort, a merge sort, did so before).
 * Frees the runs' arrays and empties them; returns the sorted array
 * (caller frees), *nout its count. Works on up to `threads` cores; the
 * result does not depend on their number. */
cand *analyze_cands_sort_unique(cand_run *runs, size_t nr, int threads, size_t *nout);

#endif
