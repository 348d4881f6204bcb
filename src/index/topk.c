/* topk.c -- queries against the index: building a query from a doc or from
 * new text, exact top-k with MaxScore pruning, and per-doc scoring.
 *
 * Scores are sums over query terms of qw * idf * impact. To make pruned and
 * exhaustive retrieval agree bit for bit, every score that reaches the
 * result is recomputed in one canonical order (the query's term order, in
 * double, rounded to float once); pruning decisions use bounds with a small
 * safety margin so float rounding can never prune a doc that belongs in
 * the top k.
 *
 * Everything here reads the index only; scratch space lives on the stack or
 * in per-call allocations, so any number of threads may query at once.
 */
#include "index_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- queries ---------------------------------------------------------------- */

void index_query_free(index_query *q)
{
    free(q->terms);
    free(q->weight);
    q->terms = NULL;
    q->weight = NULL;
    q->n = 0;
}

typedef struct qcand {
    uint32_t term;
    float w;
    double rank;     /* w * idf: the key for query_max_terms */
} qcand;

static int cmp_rank(const void *a, const void *b)
{
    const qcand *x = a, *y = b;
    if (x->rank != y->rank) return x->rank > y->rank ? -1 : 1;
    return x->term < y->term ? -1 : x->term > y->term;
}

static int cmp_term(const void *a, const void *b)
{
    const qcand *x = a, *y = b;
    return x->term < y->term ? -1 : x->term > y->term;
}

/* Keeps the best query_max_terms candidates, then orders by term id. */
static void query_finish(const dindex *ix, qcand *c, size_t n, index_query *q)
{
    for (size_t i = 0; i < n; i++)
        if (strchr(ix->tstr + ix->toff[c[i].term], ' ')) {
            c[i].w = (float)(c[i].w * ix->p.bigram_weight);
            c[i].rank = c[i].w * ix->idf[c[i].term];
        }
    size_t max = ix->p.query_max_terms > 0 ? (size_t)ix->p.query_max_terms : n;
    if (n > max) {
        qsort(c, n, sizeof *c, cmp_rank);
        n = max;
    }
    qsort(c, n, sizeof *c, cmp_term);
    q->terms = xmalloc((n ? n : 1) * sizeof *q->terms);
    q->weight = xmalloc((n ? n : 1) * sizeof *q->weight);
    q->n = n;
    for (size_t i = 0; i < n; i++) {
        q->terms[i] = c[i].term;
        q->weight[i] = c[i].w;
    }
}

/* Query weight of a term: its BM25F impact within the query's own fields,
 * so a long body is length-normalised exactly like a long doc and cannot
 * drown the title, and repeated words saturate. */
void index_query_from_doc(const dindex *ix, uint32_t doc, index_query *q)
{
    memset(q, 0, sizeof *q);
    if (doc >= ix->n) {
        query_finish(ix, NULL, 0, q);
        return;
    }
    size_t a = ix->fwd_off[doc], b = ix->fwd_off[doc + 1];
    qcand *c = xmalloc((b - a + 1) * sizeof *c);
    size_t n = 0;
    for (size_t e = a; e < b; e++) {
        uint32_t t = ix->fwd_term[e];
        /* a term only this doc has cannot match another doc */
        if (ix->df[t] < 2) continue;
        c[n].term = t;
        c[n].w = (float)ix_query_weight(ix, ix->fwd_tf[e], ix->len[doc]);
        c[n].rank = c[n].w * ix->idf[t];
        n++;
    }
    query_finish(ix, c, n, q);
    free(c);
}

void index_query_from_item(const dindex *ix, text_tokenizer *tk, const item *it, index_query *q)
{
    memset(q, 0, sizeof *q);
    text_fields tf;
    text_split(it, ix->tpl, &tf);
    ix_bag b;
    memset(&b, 0, sizeof b);
    ix_bag_fill(&b, tk, &tf, ix->p.bigrams);
    qcand *c = xmalloc((b.n + 1) * sizeof *c);
    size_t n = 0;
    for (size_t i = 0; i < b.n; i++) {
        int64_t t = ix_dict_find(ix, b.str.s + b.off[i], b.hash[i]);
        if (t < 0) continue;
        c[n].term = (uint32_t)t;
        c[n].w = (float)ix_query_weight(ix, b.tf[i], b.len);
        c[n].rank = c[n].w * ix->idf[t];
        n++;
    }
    query_finish(ix, c, n, q);
    free(c);
    ix_bag_free(&b);
    text_fields_free(&tf);
}

/* ---- scoring one doc ------------------------------------------------------------ */

/* Impact of term t in doc, or -1 if absent (binary search in postings). */
static float posting_impact(const dindex *ix, uint32_t t, uint32_t doc)
{
    const uint32_t *lo = ix->post_doc + ix->post_off[t], *hi = ix->post_doc + ix->post_off[t + 1];
    while (lo < hi) {
        const uint32_t *mid = lo + (hi - lo) / 2;
        if (*mid < doc) lo = mid + 1;
        else hi = mid;
    }
    if (lo < ix->post_doc + ix->post_off[t + 1] && *lo == doc)
        return ix->post_imp[lo - ix->post_doc];
    return -1;
}

static inline double term_factor(const dindex *ix, const index_query *q, size_t i)
{
    return (double)q->weight[i] * (double)ix->idf[q->terms[i]];
}

double index_score(const dindex *ix, const index_query *q, uint32_t doc)
{
    if (doc >= ix->n) return 0;
    double s = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (q->terms[i] >= ix->nterms) continue;
        float imp = posting_impact(ix, q->terms[i], doc);
        if (imp >= 0) s += term_factor(ix, q, i) * (double)imp;
    }
    return (float)s;
}

/* Position of term t in doc's forward list, or -1. */
static int64_t fwd_find(const dindex *ix, uint32_t doc, uint32_t t)
{
    size_t lo = ix->fwd_off[doc], hi = ix->fwd_off[doc + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->fwd_term[mid] < t) lo = mid + 1;
        else hi = mid;
    }
    return lo < ix->fwd_off[doc + 1] && ix->fwd_term[lo] == t ? (int64_t)lo : -1;
}

void index_score_fields(const dindex *ix, const index_query *q, uint32_t doc, double out[FIELD_COUNT])
{
    for (int f = 0; f < FIELD_COUNT; f++) out[f] = 0;
    if (doc >= ix->n) return;
    for (size_t i = 0; i < q->n; i++) {
        if (q->terms[i] >= ix->nterms) continue;
        int64_t e = fwd_find(ix, doc, q->terms[i]);
        if (e < 0) continue;
        double fac = term_factor(ix, q, i);
        for (int f = 0; f < FIELD_COUNT; f++) {
            uint16_t tf = ix->fwd_tf[e][f];
            if (!tf) continue;
            double t = ix->p.weight[f] * tf / ix_norm(ix, f, ix->len[doc][f]);
            out[f] += fac * t / (ix->p.k1 + t);
        }
    }
}

typedef struct shared_t { uint32_t term; float idf; } shared_t;

static int cmp_shared(const void *a, const void *b)
{
    const shared_t *x = a, *y = b;
    if (x->idf != y->idf) return x->idf > y->idf ? -1 : 1;
    return x->term < y->term ? -1 : x->term > y->term;
}

size_t index_shared_terms(const dindex *ix, uint32_t a, uint32_t b, uint32_t *out, size_t max)
{
    if (a >= ix->n || b >= ix->n || max == 0) return 0;
    size_t i = ix->fwd_off[a], ie = ix->fwd_off[a + 1];
    size_t j = ix->fwd_off[b], je = ix->fwd_off[b + 1];
    size_t cap = (ie - i) < (je - j) ? ie - i : je - j;
    shared_t *s = xmalloc((cap ? cap : 1) * sizeof *s);
    size_t n = 0;
    while (i < ie && j < je) {
        uint32_t x = ix->fwd_term[i], y = ix->fwd_term[j];
        if (x < y) i++;
        else if (y < x) j++;
        else {
            s[n].term = x;
            s[n].idf = ix->idf[x];
            n++;
            i++;
            j++;
        }
    }
    qsort(s, n, sizeof *s, cmp_shared);
    if (n > max) n = max;
    for (size_t k = 0; k < n; k++) out[k] = s[k].term;
    free(s);
    return n;
}

/* ---- top-k heap ---------------------------------------------------------------- */

/* 1 when hit a ranks below hit b (lower score, or equal score, higher doc). */
static inline int worse(const index_hit *a, const index_hit *b)
{
    return a->score < b->score || (a->score == b->score && a->doc > b->doc);
}

typedef struct heap {
    index_hit *h;      /* min-heap by rank: h[0] is the worst kept hit */
    size_t n, k;
} heap;

static void heap_push(heap *hp, uint32_t doc, float score)
{
    index_hit x = {doc, score};
    if (hp->n < hp->k) {
        size_t i = hp->n++;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!worse(&x, &hp->h[p])) break;
            hp->h[i] = hp->h[p];
            i = p;
        }
        hp->h[i] = x;
        return;
    }
    if (!worse(&hp->h[0], &x)) return;
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const index_hit *mv = &x;
        if (l < hp->n && worse(&hp->h[l], mv)) { m = l; mv = &hp->h[l]; }
        if (r < hp->n && worse(&hp->h[r], mv)) { m = r; }
        if (m == i) break;
        hp->h[i] = hp->h[m];
        i = m;
    }
    hp->h[i] = x;
}

static int cmp_hit(const void *a, const void *b)
{
    const index_hit *x = a, *y = b;
    if (worse(x, y)) return 1;
    if (worse(y, x)) return -1;
    return 0;
}

static size_t heap_out(heap *hp, index_hit *out)
{
    memcpy(out, hp->h, hp->n * sizeof *out);
    qsort(out, hp->n, sizeof *out, cmp_hit);
    return hp->n;
}

static void clamp_range(const dindex *ix, uint32_t *lo, uint32_t *hi)
{
    if (*hi > ix->n) *hi = (uint32_t)ix->n;
    if (*lo > *hi) *lo = *hi;
}

size_t index_topk_exhaustive(const dindex *ix, const index_query *q, uint32_t lo, uint32_t hi,
                             uint32_t exclude, size_t k, index_hit *out)
{
    clamp_range(ix, &lo, &hi);
    if (k == 0 || lo >= hi) return 0;
    heap hp = {xmalloc(k * sizeof(index_hit)), 0, k};
    for (uint32_t d = lo; d < hi; d++) {
        if (d == exclude) continue;
        double s = index_score(ix, q, d);
        if (s > 0) heap_push(&hp, d, (float)s);
    }
    size_t n = heap_out(&hp, out);
    free(hp.h);
    return n;
}

/* ---- MaxScore ---------------------------------------------------------------------- */

typedef struct qlist {
    const uint32_t *cur, *end;     /* postings cursor, clipped to < hi */
    const float *imp;              /* impacts parallel to the posting docs */
    const uint32_t *base;
    double w;                      /* qw * idf */
    double ub;                     /* w * max impact */
    uint32_t qi;                   /* index in the query (canonical order) */
} qlist;

static int cmp_ub(const void *a, const void *b)
{
    const qlist *x = a, *y = b;
    if (x->ub != y->ub) return x->ub < y->ub ? -1 : 1;
    return x->qi < y->qi ? -1 : x->qi > y->qi;
}

static const uint32_t *lower_bound(const uint32_t *lo, const uint32_t *hi, uint32_t d)
{
    while (lo < hi) {
        const uint32_t *mid = lo + (hi - lo) / 2;
        if (*mid < d) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Galloping advance: first posting >= d from cur. */
static const uint32_t *gallop(const uint32_t *cur, const uint32_t *end, uint32_t d)
{
    if (cur >= end || *cur >= d) return cur;
    size_t step = 1;
    const uint32_t *lo = cur;
    while (lo + step < end && lo[step] < d) {
        lo += step;
        step *= 2;
    }
    const uint32_t *hi = lo + step < end ? lo + step + 1 : end;
    return lower_bound(lo, hi, d);
}

/* Margin under which a bound counts as "cannot reach theta": float scores
 * carry ~6e-8 relative error, bounds are summed in another order. */
static inline double theta_lo(float theta)
{
    return (double)theta - 1e-5 * fabs((double)theta) - 1e-9;
}

size_t index_topk(const dindex *ix, const index_query *q, uint32_t lo, uint32_t hi,
                  uint32_t exclude, size_t k, index_hit *out)
{
    clamp_range(ix, &lo, &hi);
    if (k == 0 || lo >= hi || q->n == 0) return 0;

    qlist *L = xmalloc(q->n * sizeof *L);
    size_t nl = 0;
    for (size_t i = 0; i < q->n; i++) {
        uint32_t t = q->terms[i];
        if (t >= ix->nterms) continue;
        double w = term_factor(ix, q, i);
        if (!(w > 0)) continue;
        const uint32_t *b = ix->post_doc + ix->post_off[t], *e = ix->post_doc + ix->post_off[t + 1];
        const uint32_t *c = lower_bound(b, e, lo);
        const uint32_t *ce = lower_bound(c, e, hi);
        if (c == ce) continue;
        L[nl].cur = c;
        L[nl].end = ce;
        L[nl].base = b;
        L[nl].imp = ix->post_imp + ix->post_off[t];
        L[nl].w = w;
        L[nl].ub = w * (double)ix->maximp[t];
        L[nl].qi = (uint32_t)i;
        nl++;
    }
    qsort(L, nl, sizeof *L, cmp_ub);
    double *prefix = xmalloc((nl + 1) * sizeof *prefix);
    for (size_t i = 0; i < nl; i++) prefix[i] = (i ? prefix[i - 1] : 0) + L[i].ub;
    /* contributions of the current doc, by canonical query position */
    double *contrib = xmalloc((q->n + 1) * sizeof *contrib);
    uint32_t *touched = xmalloc((nl + 1) * sizeof *touched);

    heap hp = {xmalloc(k * sizeof(index_hit)), 0, k};
    size_t p = 0;          /* lists [0, p) are non-essential */
    double th = -1;        /* theta_lo of the heap minimum once full */
    for (;;) {
        uint32_t d = UINT32_MAX;
        for (size_t j = p; j < nl; j++)
            if (L[j].cur < L[j].end && *L[j].cur < d) d = *L[j].cur;
        if (d == UINT32_MAX) break;
        size_t nt = 0;
        double est = 0;
        for (size_t j = p; j < nl; j++) {
            if (L[j].cur < L[j].end && *L[j].cur == d) {
                double c = L[j].w * (double)L[j].imp[L[j].cur - L[j].base];
                contrib[L[j].qi] = c;
                touched[nt++] = L[j].qi;
                est += c;
                L[j].cur++;
            }
        }
        if (d == exclude) continue;
        int pruned = 0;
        for (size_t j = p; j-- > 0;) {
            if (est + prefix[j] < th) { pruned = 1; break; }
            L[j].cur = gallop(L[j].cur, L[j].end, d);
            if (L[j].cur < L[j].end && *L[j].cur == d) {
                double c = L[j].w * (double)L[j].imp[L[j].cur - L[j].base];
                contrib[L[j].qi] = c;
                touched[nt++] = L[j].qi;
                est += c;
            }
        }
        if (pruned || (hp.n == hp.k && est < th)) continue;
        /* canonical sum: ascending query position */
        for (size_t a = 1; a < nt; a++) {
            uint32_t x = touched[a];
            size_t b = a;
            while (b > 0 && touched[b - 1] > x) { touched[b] = touched[b - 1]; b--; }
            touched[b] = x;
        }
        double s = 0;
        for (size_t a = 0; a < nt; a++) s += contrib[touched[a]];
        float fs = (float)s;
        if (!(fs > 0)) continue;
        heap_push(&hp, d, fs);
        if (hp.n == hp.k) {
            th = theta_lo(hp.h[0].score);
            while (p < nl && prefix[p] < th) p++;
        }
    }
    size_t n = heap_out(&hp, out);
    free(hp.h);
    free(L);
    free(prefix);
    free(contrib);
    free(touched);
    return n;
}
