/* analyze_cands.c -- the candidate pairs of a run, sorted and deduplicated
 * (analyze_cands.h). */
#include "analyze_cands.h"

#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

int analyze_cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->later != b->later) return a->later < b->later ? -1 : 1;
    if (a->earlier != b->earlier) return a->earlier < b->earlier ? -1 : 1;
    if (a->is_new != b->is_new) return a->is_new ? -1 : 1;   /* fresh beats stored */
    if (a->rec && b->rec && a->p_any != b->p_any) return a->p_any > b->p_any ? -1 : 1;
    return a->rank - b->rank;
}

/* A stable merge sort of v[0, n) by cand_cmp; tmp has room for n. */
static void cand_msort(cand *v, cand *tmp, size_t n)
{
    if (n <= 16) {   /* insertion: stable, moves an element only past greater ones */
        for (size_t i = 1; i < n; i++) {
            cand x = v[i];
            size_t k = i;
            for (; k > 0 && analyze_cand_cmp(&v[k - 1], &x) > 0; k--) v[k] = v[k - 1];
            v[k] = x;
        }
        return;
    }
    size_t h = n / 2;
    cand_msort(v, tmp, h);
    cand_msort(v + h, tmp + h, n - h);
    if (analyze_cand_cmp(&v[h - 1], &v[h]) <= 0) return;
    memcpy(tmp, v, n * sizeof *v);
    size_t a = 0, b = h, o = 0;
    while (a < h && b < n) v[o++] = analyze_cand_cmp(&tmp[b], &tmp[a]) < 0 ? tmp[b++] : tmp[a++];   /* ties: left first */
    while (a < h) v[o++] = tmp[a++];
    while (b < n) v[o++] = tmp[b++];
}

/* Buckets (one per later doc) sorted on all cores: workers take chunks of
 * CAND_CHUNK docs; the buckets are disjoint. */
#define CAND_CHUNK 4096
typedef struct bucket_job {
    cand *v, *tmp;
    const size_t *off;   /* bucket b is v[off[b], off[b + 1]) */
} bucket_job;

static void bucket_run(void *arg, size_t lo, size_t hi)
{
    bucket_job *j = arg;
    for (size_t b = lo; b < hi; b++) cand_msort(j->v + j->off[b], j->tmp + j->off[b], j->off[b + 1] - j->off[b]);
}

/* (analyze_cands.h) A stable counting sort by the later doc, then each
 * doc's bucket sorted (on `threads` cores): no sort of millions of
 * candidates on one core. */
cand *analyze_cands_sort_unique(cand_run *runs, size_t nr, int threads, size_t *nout)
{
    size_t n = 0;
    uint32_t maxl = 0;
    for (size_t r = 0; r < nr; r++)
        for (size_t i = 0; i < runs[r].n; i++, n++)
            if (runs[r].v[i].later > maxl) maxl = runs[r].v[i].later;
    size_t nb = n ? (size_t)maxl + 1 : 0;
    size_t *off = xcalloc(nb + 1, sizeof *off);
    for (size_t r = 0; r < nr; r++)
        for (size_t i = 0; i < runs[r].n; i++) off[runs[r].v[i].later + 1]++;
    for (size_t b = 0; b < nb; b++) off[b + 1] += off[b];
    cand *v = xmalloc((n ? n : 1) * sizeof *v);
    size_t *fill = xmalloc((nb ? nb : 1) * sizeof *fill);
    memcpy(fill, off, nb * sizeof *fill);
    for (size_t r = 0; r < nr; r++) {
        for (size_t i = 0; i < runs[r].n; i++) v[fill[runs[r].v[i].later]++] = runs[r].v[i];
        free(runs[r].v);
        runs[r] = (cand_run){NULL, 0};
    }
    free(fill);
    bucket_job j = {.v = v, .tmp = xmalloc((n ? n : 1) * sizeof *v), .off = off};
    dp_parallel_for(nb > CAND_CHUNK ? threads : 1, nb, CAND_CHUNK, bucket_run, &j);
    free(j.tmp);
    free(off);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (!o || v[o - 1].later != v[i].later || v[o - 1].earlier != v[i].earlier) v[o++] = v[i];
    *nout = o;
    return v;
}
