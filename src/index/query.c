/* query.c -- queries against the index: building a query from a doc or
 * from new text (with the query_max_terms cap), scoring one doc (whole,
 * or per field) and the terms two docs share. Top-k retrieval is topk.c.
 *
 * A doc's score is the sum of qw * idf * impact over its query terms, in
 * fixed point (ix_fix: exact whatever the order of the terms), rounded to
 * float once (ix_score_exact): the one canonical number that pruned and
 * exhaustive retrieval both return.
 *
 * Everything here reads the index only; any number of threads may query.
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
    double rank;     /* w * idf (* max impact): the key for query_max_terms */
} qcand;

/* The order query_max_terms keeps terms in: rank descending, then term
 * ascending -- a total order, as a query's terms are distinct. */
static inline int rank_before(const qcand *x, const qcand *y)
{
    if (x->rank != y->rank) return x->rank > y->rank;
    return x->term < y->term;
}

static int cmp_rank(const void *a, const void *b)
{
    const qcand *x = a, *y = b;
    return rank_before(x, y) ? -1 : rank_before(y, x);
}

static int cmp_term(const void *a, const void *b)
{
    const qcand *x = a, *y = b;
    return x->term < y->term ? -1 : x->term > y->term;
}

static void qc_swap(qcand *a, qcand *b)
{
    qcand t = *a;
    *a = *b;
    *b = t;
}

/* The k-th (0-based) of c[0..n) in rank_before order, k < n: a quickselect
 * on a copy (the caller keeps c's order). A doc's query has a few hundred
 * candidate terms of which 60 are kept: sorting them all by rank (qsort, a
 * merge sort through a callback) cost more than building the rest of the
 * query. Median-of-three pivots; after 64 rounds (hostile ranks) the range
 * left is sorted instead. */
static qcand kth_ranked(const qcand *c, size_t n, size_t k)
{
    qcand *v = xmalloc(n * sizeof *v);
    memcpy(v, c, n * sizeof *v);
    size_t lo = 0, hi = n - 1;   /* k is in v[lo..hi] */
    for (int round = 0; lo < hi; round++) {
        if (round == 64) {
            qsort(v + lo, hi - lo + 1, sizeof *v, cmp_rank);
            break;
        }
        size_t mid = lo + (hi - lo) / 2;
        if (rank_before(&v[mid], &v[lo])) qc_swap(&v[mid], &v[lo]);
        if (rank_before(&v[hi], &v[lo])) qc_swap(&v[hi], &v[lo]);
        if (rank_before(&v[hi], &v[mid])) qc_swap(&v[hi], &v[mid]);
        qcand p = v[mid];   /* v[lo] <= p <= v[hi]: the scans below stop there */
        size_t i = lo, j = hi;
        for (;;) {   /* Hoare: v[lo..j] <= p <= v[j+1..hi] when they cross */
            while (rank_before(&v[i], &p)) i++;
            while (rank_before(&p, &v[j])) j--;
            if (i >= j) break;
            qc_swap(&v[i], &v[j]);
            i++;
            j--;
        }
        if (k <= j) hi = j;
        else lo = j + 1;
    }
    qcand r = v[k];
    free(v);
    return r;
}

/* Keeps the best query_max_terms candidates, ordered by term id. c is in
 * term order already when sorted is set (a doc's forward list). */
static void query_finish(const dindex *ix, qcand *c, size_t n, int sorted, index_query *q)
{
    for (size_t i = 0; i < n; i++)
        if (ix_term_bigram(ix, c[i].term)) {
            c[i].w = (float)(c[i].w * ix->p.bigram_weight);
            c[i].rank = c[i].w * ix->idf[c[i].term];
        }
    size_t max = ix->p.query_max_terms > 0 ? (size_t)ix->p.query_max_terms : n;
    if (n > max) {
        /* rank by the most the term can add to any score: qw * idf times
         * the term's largest impact (a term frequent in the query but only
         * ever in long bodies weighs less than its idf suggests) */
        for (size_t i = 0; i < n; i++) c[i].rank *= ix->maximp[c[i].term];
        /* the best max are those not after the max-th: kept in place, in
         * c's order (the order is total, so exactly max of them) */
        qcand last = kth_ranked(c, n, max - 1);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!rank_before(&last, &c[i])) c[m++] = c[i];
        n = m;
    }
    if (!sorted) qsort(c, n, sizeof *c, cmp_term);
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
        query_finish(ix, NULL, 0, 1, q);
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
    query_finish(ix, c, n, 1, q);   /* forward terms ascend */
    free(c);
}

void index_query_from_item(const dindex *ix, text_tokenizer *tk, const item *it, index_query *q)
{
    memset(q, 0, sizeof *q);
    text_fields *tf = text_split_compact(it, ix->tpl);
    ix_bag b;
    memset(&b, 0, sizeof b);
    ix_bag_fill(&b, tk, tf, ix->p.bigrams);
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
    query_finish(ix, c, n, 0, q);
    free(c);
    ix_bag_free(&b);
    free(tf);
}

/* ---- scoring one doc ------------------------------------------------------------ */

/* First index >= lo of fwd_term[lo..hi) that is >= t (galloping). */
static size_t fwd_seek(const uint32_t *ft, size_t lo, size_t hi, uint32_t t)
{
    if (lo >= hi || ft[lo] >= t) return lo;
    size_t step = 1, a = lo;
    while (a + step < hi && ft[a + step] < t) {
        a += step;
        step *= 2;
    }
    size_t b = a + step < hi ? a + step + 1 : hi;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (ft[mid] < t) a = mid + 1;
        else b = mid;
    }
    return a;
}

/* The canonical score of doc: the fixed-point sum (ix_fix) of
 * qw * idf * impact, with the impact recomputed from the forward index
 * exactly as build_postings() computed the stored one. Queries built here
 * are sorted by term id, so this is one galloping merge of the query with
 * the doc's (sorted) terms; an unsorted caller-made query restarts the
 * search for each term that goes backwards. */
double ix_score_exact(const dindex *ix, const index_query *q, uint32_t doc)
{
    const uint32_t *ft = ix->fwd_term;
    size_t a = ix->fwd_off[doc], e = ix->fwd_off[doc + 1], pos = a;
    uint32_t prev = 0;
    int64_t s = 0;
    for (size_t i = 0; i < q->n && a < e; i++) {
        uint32_t t = q->terms[i];
        if (t >= ix->nterms) continue;
        pos = fwd_seek(ft, t >= prev ? pos : a, e, t);
        prev = t;
        if (pos < e && ft[pos] == t) {
            float imp = (float)ix_impact(ix, ix->fwd_tf[pos], doc);
            s += ix_fix(ix_term_factor(ix, q, i), imp);
        }
    }
    return ix_unfix(s);
}

double index_score(const dindex *ix, const index_query *q, uint32_t doc)
{
    if (doc >= ix->n) return 0;
    return (float)ix_score_exact(ix, q, doc);
}

void index_fields_add(const dindex *ix, const index_query *q, size_t qi, uint32_t doc,
                      const uint16_t tf[FIELD_COUNT], double out[FIELD_COUNT])
{
    double fac = ix_term_factor(ix, q, qi);
    for (int f = 0; f < FIELD_COUNT; f++) {
        if (!tf[f]) continue;
        double w = ix->p.weight[f] * tf[f] / ix->norm[doc][f];
        out[f] += fac * w / (ix->p.k1 + w);
    }
}

void index_score_fields(const dindex *ix, const index_query *q, uint32_t doc, double out[FIELD_COUNT])
{
    for (int f = 0; f < FIELD_COUNT; f++) out[f] = 0;
    if (doc >= ix->n) return;
    const uint32_t *ft = ix->fwd_term;
    size_t a = ix->fwd_off[doc], e = ix->fwd_off[doc + 1], pos = a;
    uint32_t prev = 0;
    for (size_t i = 0; i < q->n && a < e; i++) {
        uint32_t t = q->terms[i];
        if (t >= ix->nterms) continue;
        pos = fwd_seek(ft, t >= prev ? pos : a, e, t);   /* merge, as in ix_score_exact */
        prev = t;
        if (pos < e && ft[pos] == t) index_fields_add(ix, q, i, doc, ix->fwd_tf[pos], out);
    }
}

/* A shared term's rank as one integer, larger first: idf descending, then
 * term ascending -- the idf's bits made to order as the floats do
 * (negative ones flipped, -0 as +0, which compares equal to it), over the
 * term's complement. */
static uint64_t shared_key(float idf, uint32_t term)
{
    uint32_t b;
    idf += 0.0f;   /* -0 + 0 = +0 */
    memcpy(&b, &idf, sizeof b);
    b = b >> 31 ? ~b : b | 0x80000000u;
    return (uint64_t)b << 32 | (uint32_t)~term;
}

/* The terms both docs hold, by idf descending (ties: lower term first),
 * the first max of them. A pair's explanation asks once: its docs hold
 * a few hundred terms each and share tens to hundreds, of which the best
 * 64 are read. Merged without branches on the terms (which side moves is
 * a coin toss), and only the best max sorted: a qsort of all of them
 * through a compare callback took a third of this function's time. */
size_t index_shared_terms_with(const dindex *ix, const uint32_t *terms, size_t nterms, uint32_t b, uint32_t *out,
                               size_t max)
{
    if (b >= ix->n || max == 0) return 0;
    const uint32_t *ct = ix->fwd_term + ix->fwd_off[b];
    size_t i = 0, j = 0, ie = nterms, je = ix->fwd_off[b + 1] - ix->fwd_off[b];
    size_t cap = ie < je ? ie : je;
    uint64_t *key = xmalloc((cap ? cap : 1) * sizeof *key);
    size_t n = 0;
    while (i < ie && j < je) {   /* n < cap here: a list ends when all of the shorter matched */
        uint32_t x = terms[i], y = ct[j];
        key[n] = x;   /* kept when the two are one term */
        n += x == y;
        i += x <= y;
        j += y <= x;
    }
    for (size_t k = 0; k < n; k++) key[k] = shared_key(ix->idf[key[k]], (uint32_t)key[k]);
    if (n > max) {
        ix_select_best(key, n, max);
        n = max;
    }
    ix_keys_sort_desc(key, n);
    for (size_t k = 0; k < n; k++) out[k] = ~(uint32_t)key[k];
    free(key);
    return n;
}

size_t index_shared_terms(const dindex *ix, uint32_t a, uint32_t b, uint32_t *out, size_t max)
{
    if (a >= ix->n) return 0;
    size_t i = ix->fwd_off[a];
    return index_shared_terms_with(ix, ix->fwd_term + i, ix->fwd_off[a + 1] - i, b, out, max);
}


/* ---- how rare a phrase is --------------------------------------------------------- */

text_tokenizer *index_tokenizer_new(const dindex *ix) { return text_tokenizer_new(&ix->p.text); }

typedef struct df_walk {
    const dindex *ix;
    uint32_t min;
} df_walk;

static void on_df_token(void *v, const char *tok, size_t len, int extra)
{
    (void)extra;   /* a compound's parts count too: the whole is the rarest */
    df_walk *d = v;
    int64_t t = ix_dict_find(d->ix, tok, dp_hash(tok, len));
    if (t >= 0 && d->ix->df[t] && d->ix->df[t] < d->min) d->min = d->ix->df[t];
}

uint32_t index_text_min_df(const dindex *ix, text_tokenizer *tk, const char *s, size_t n)
{
    df_walk d = {ix, UINT32_MAX};
    text_tokenize_cb(tk, s, n, on_df_token, &d);
    return d.min == UINT32_MAX ? 0 : d.min;
}
