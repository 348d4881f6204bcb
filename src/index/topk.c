/* topk.c -- exact top-k retrieval: block-max MaxScore over document
 * windows (index_topk), its exhaustive reference and the scoring of many
 * docs for one query. Queries themselves are built in query.c.
 *
 * Pruned and exhaustive retrieval agree bit for bit: both sum the same
 * fixed-point contributions (ix_fix), and an integer sum is the same in
 * any order, so the score pruning accumulates list by list is the
 * canonical one (ix_score_exact); bounds are compared with a safety margin
 * far above the rounding of each contribution.
 *
 * Everything here reads the index only. Scratch space is per thread (a
 * pthread key; freed at thread exit), so any number of threads may query
 * at once and a warm thread queries without allocating.
 */
#include "index_int.h"
#include "../common/tls.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

/* Puts x at the root in place of the kept minimum and sifts it down. */
static void heap_sift_root(heap *hp, index_hit x)
{
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

/* Adds (doc, score) to the heap of the best k; when the heap is full the
 * worse of the new hit and the kept minimum leaves. */
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
    heap_sift_root(hp, x);
}


/* The kept hits best first: the worst leaves the min-heap first and goes
 * last (worse() is a total order, so the same list qsort would give). */
static size_t heap_out(heap *hp, index_hit *out)
{
    size_t n = hp->n;
    while (hp->n) {
        out[hp->n - 1] = hp->h[0];
        index_hit x = hp->h[--hp->n];
        if (hp->n) heap_sift_root(hp, x);
    }
    return n;
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

/* Documents are visited in windows. Small first windows fill the heap (and
 * raise theta) quickly; later ones are larger so the per-window work (one
 * bound per list) stays small next to the postings. */
#define WIN_MIN 64
#define WIN_MAX 8192

typedef struct qlist {
    const uint32_t *cur, *end;     /* postings cursor, clipped to < hi */
    const uint32_t *wend;          /* first posting past the current window */
    const uint32_t *base;          /* start of the term's list */
    const float *imp;              /* impacts parallel to base */
    const float *bmax;             /* block maxima of the list */
    double w;                      /* qw * idf */
    double wf;                     /* w * IX_FIX_ONE (ix_fix_pos) */
    double ub;                     /* w * max impact: bound over all docs */
    double wub;                    /* w * max impact within the window */
} qlist;

/* Per-thread scratch of index_topk, reused across calls so a query costs no
 * allocation once its thread has warmed up; freed at thread exit. */
typedef struct scratch {
    qlist *L;
    uint32_t *ord;                 /* lists of the window, by wub ascending */
    double *prefix;                /* prefix[i] = sum of wub of ord[0..i] */
    size_t cap;                    /* of L, ord, prefix */
    index_hit *heap;
    size_t heapcap;
    uint64_t *qbits;               /* query terms as a bitmap over term ids */
    size_t qwords;                 /* all zero between uses */
    int64_t acc[WIN_MAX];          /* partial scores of the window's docs (ix_fix units) */
    uint32_t cand[WIN_MAX];        /* candidates still alive, as offsets */
} scratch;

static void scratch_free(void *v)
{
    scratch *s = v;
    if (!s) return;
    free(s->L);
    free(s->ord);
    free(s->prefix);
    free(s->heap);
    free(s->qbits);
    free(s);
}

static dp_tls scratch_tls = DP_TLS_INIT(sizeof(scratch), scratch_free);

static scratch *scratch_get(size_t nterms, size_t k)
{
    scratch *s = dp_tls_get(&scratch_tls);
    if (nterms > s->cap) {
        s->cap = nterms * 2;
        s->L = xrealloc(s->L, s->cap * sizeof *s->L);
        s->ord = xrealloc(s->ord, s->cap * sizeof *s->ord);
        s->prefix = xrealloc(s->prefix, s->cap * sizeof *s->prefix);
    }
    if (k > s->heapcap) {
        s->heapcap = k;
        s->heap = xrealloc(s->heap, k * sizeof *s->heap);
    }
    return s;
}

static void scratch_put(scratch *s) { dp_tls_put(&scratch_tls, s); }

/* ---- scoring many docs for one query ------------------------------------- */

/* Sets the bits of q's terms in s->qbits. Returns 0 (and sets nothing) when
 * q's terms are not strictly ascending -- a caller-made query -- so the
 * callers fall back to merging. */
static int qbits_on(scratch *s, const dindex *ix, const index_query *q)
{
    for (size_t i = 1; i < q->n; i++)
        if (q->terms[i] <= q->terms[i - 1]) return 0;
    size_t words = (ix->nterms + 63) / 64;
    if (words > s->qwords) {
        free(s->qbits);
        s->qbits = xcalloc(words, sizeof *s->qbits);
        s->qwords = words;
    }
    for (size_t i = 0; i < q->n; i++)
        if (q->terms[i] < ix->nterms) s->qbits[q->terms[i] >> 6] |= 1ULL << (q->terms[i] & 63);
    return 1;
}

static void qbits_off(scratch *s, const dindex *ix, const index_query *q)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->terms[i] < ix->nterms) s->qbits[q->terms[i] >> 6] = 0;
}

static inline int qbit(const uint64_t *bits, uint32_t t)
{
    return (int)((bits[t >> 6] >> (t & 63)) & 1);
}

void index_score_fields_many(const dindex *ix, const index_query *q, const uint32_t *docs, size_t n,
                             double (*out)[FIELD_COUNT])
{
    scratch *s = scratch_get(0, 0);
    int fast = qbits_on(s, ix, q);
    for (size_t i = 0; i < n; i++) {
        uint32_t doc = docs[i];
        if (!fast || doc >= ix->n) {
            index_score_fields(ix, q, doc, out[i]);
            continue;
        }
        for (int f = 0; f < FIELD_COUNT; f++) out[i][f] = 0;
        size_t qi = 0;
        for (size_t j = ix->fwd_off[doc]; j < ix->fwd_off[doc + 1]; j++) {
            uint32_t t = ix->fwd_term[j];
            if (!qbit(s->qbits, t)) continue;
            while (q->terms[qi] != t) qi++;
            index_fields_add(ix, q, qi, doc, ix->fwd_tf[j], out[i]);
        }
    }
    if (fast) qbits_off(s, ix, q);
    scratch_put(s);
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
 * carry ~6e-8 relative error, bounds are doubles summed in their own order,
 * and each contribution of a score is rounded to 2^-33 (ix_fix): at most
 * ~1e-8 over a query's terms, far below the absolute 1e-7. */
static inline double theta_lo(float theta)
{
    return (double)theta - 1e-5 * fabs((double)theta) - 1e-7;
}

/* The query's posting lists clipped to [lo, hi); returns how many. A
 * term of a grown index may have two runs (ix_postings): each is a list of
 * its own with the term's weight -- a doc is in one run at most, so the
 * fixed-point sums, and the results, are those of one merged list. */
static size_t open_lists(const dindex *ix, const index_query *q, uint32_t lo, uint32_t hi, qlist *L)
{
    size_t nl = 0;
    for (size_t i = 0; i < q->n; i++) {
        uint32_t t = q->terms[i];
        if (t >= ix->nterms) continue;
        double w = ix_term_factor(ix, q, i);
        if (!(w > 0)) continue;
        ix_plist r[IX_MAX_RUNS];
        size_t nr = ix_postings(ix, t, r);
        for (size_t k = 0; k < nr; k++) {
            const uint32_t *b = r[k].doc, *e = r[k].doc + r[k].n;
            const uint32_t *c = lo ? lower_bound(b, e, lo) : b;
            const uint32_t *ce = hi < ix->n ? lower_bound(c, e, hi) : e;
            if (c == ce) continue;
            L[nl].cur = c;
            L[nl].end = ce;
            L[nl].wend = c;
            L[nl].base = b;
            L[nl].imp = r[k].imp;
            L[nl].bmax = r[k].bmax;
            L[nl].w = w;
            L[nl].wf = w * IX_FIX_ONE;
            L[nl].ub = w * (double)ix->maximp[t];
            L[nl].wub = 0;
            nl++;
        }
    }
    return nl;
}

/* Moves every list to the window [w0, w1) and bounds it there with the
 * maxima of the blocks the window's postings fall in. Returns the number
 * of lists with postings in the window, ordered by bound ascending in ord
 * with running sums in prefix. */
static size_t window_bounds(scratch *s, size_t nl, uint32_t w0, uint32_t w1)
{
    size_t m = 0;
    for (size_t j = 0; j < nl; j++) {
        qlist *l = &s->L[j];
        l->cur = gallop(l->cur, l->end, w0);
        l->wend = gallop(l->cur, l->end, w1);
        if (l->cur == l->wend) continue;
        size_t b0 = (size_t)(l->cur - l->base) / IX_BLOCK;
        size_t b1 = (size_t)(l->wend - 1 - l->base) / IX_BLOCK;
        float mx = 0;
        for (size_t b = b0; b <= b1; b++)
            if (l->bmax[b] > mx) mx = l->bmax[b];
        l->wub = l->w * (double)mx;
        /* insertion by bound: lists number tens, and arrive nearly sorted */
        size_t i = m++;
        while (i > 0 && s->L[s->ord[i - 1]].wub > l->wub) {
            s->ord[i] = s->ord[i - 1];
            i--;
        }
        s->ord[i] = (uint32_t)j;
    }
    for (size_t i = 0; i < m; i++) s->prefix[i] = (i ? s->prefix[i - 1] : 0) + s->L[s->ord[i]].wub;
    return m;
}

/* Adds the window postings of the essential lists ord[p..m) to acc: term
 * at a time, a tight loop per list instead of a k-way merge across many
 * lists. No per-posting mark of the docs seen: a read-modify-write of a
 * shared bitmap word chained consecutive postings (most share one) through
 * store forwarding; the candidates are read from acc instead
 * (window_candidates). */
static void window_accumulate(scratch *s, size_t p, size_t m, uint32_t w0, uint32_t w1)
{
    size_t nw = (size_t)(w1 - w0);
    memset(s->acc, 0, nw * sizeof *s->acc);
    for (size_t i = p; i < m; i++) {
        qlist *l = &s->L[s->ord[i]];
        const uint32_t *c = l->cur, *e = l->wend;
        const float *imp = l->imp + (c - l->base);
        double wf = l->wf;
        for (; c < e; c++, imp++) s->acc[*c - w0] += ix_fix_pos(wf, *imp);
        l->cur = e;
    }
}

/* The window's candidates into cand (offsets, ascending): the docs whose
 * essential sum is not zero, but exclude. A doc of an essential list whose
 * contributions all rounded to zero is left out, and could not have
 * entered: with no non-essential list its score is 0 (never kept); with
 * some, theta is set (the heap is full) and its score is at most their
 * bounds' sum (below theta) plus half a unit a list, far under theta's
 * margin (theta_lo). */
static size_t window_candidates(scratch *s, uint32_t w0, uint32_t w1, uint32_t exclude)
{
    size_t nw = (size_t)(w1 - w0), nc = 0;
    uint32_t ex = exclude - w0;          /* >= nw when outside the window */
    for (uint32_t o = 0; o < nw; o++) {
        s->cand[nc] = o;                 /* branch-free: half the docs are in */
        nc += (s->acc[o] != 0) & (o != ex);
    }
    return nc;
}

/* A list with few window postings per candidate is cheaper to sum whole
 * than to search candidate by candidate. */
static int list_dense(const qlist *l, size_t ncand)
{
    return (size_t)(l->wend - l->cur) <= 8 * ncand;
}

/* Adds non-essential list l to the n candidates. A list dense in the
 * window is summed whole (a branch-free pass over its postings); a sparse
 * one is searched for each candidate by galloping. */
static void add_list(scratch *s, qlist *l, size_t n, uint32_t w0)
{
    const uint32_t *c = l->cur, *e = l->wend;
    if (list_dense(l, n)) {
        const float *imp = l->imp + (c - l->base);
        double wf = l->wf;
        for (; c < e; c++, imp++) s->acc[*c - w0] += ix_fix_pos(wf, *imp);
    } else {
        for (size_t i = 0; i < n && c < e; i++) {
            c = gallop(c, e, w0 + s->cand[i]);
            if (c < e && *c == w0 + s->cand[i]) s->acc[s->cand[i]] += ix_fix_pos(l->wf, l->imp[c - l->base]);
        }
    }
    l->cur = e;
}

/* Keeps the candidates whose partial score plus bound can reach th. */
static size_t prune(scratch *s, size_t n, double bound, double th)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ix_unfix(s->acc[s->cand[i]]) + bound >= th) s->cand[k++] = s->cand[i];
    return k;
}

/* First doc >= from of any list, UINT32_MAX when all are exhausted. */
static uint32_t next_doc(const scratch *s, size_t nl)
{
    uint32_t d = UINT32_MAX;
    for (size_t j = 0; j < nl; j++)
        if (s->L[j].cur < s->L[j].end && *s->L[j].cur < d) d = *s->L[j].cur;
    return d;
}

/* Exact top k with block-max MaxScore over document windows.
 *
 * Each window bounds every list by the largest impact of the blocks it has
 * there, orders the lists by that bound and splits them: the weakest lists
 * whose bounds sum below theta ("non-essential") cannot lift a doc into
 * the top k on their own, so candidates come only from the essential
 * lists, summed term at a time into a window accumulator. Each candidate
 * is completed from the non-essential lists by galloping, strongest first,
 * and dropped as soon as the bound of what is left cannot reach theta; a
 * completed candidate's sum is its canonical score (fixed point: the order
 * of the lists does not matter), so results equal index_topk_exhaustive()
 * bit for bit. A window whose bounds sum
 * below theta is skipped whole, and once the lists' global bounds do, the
 * search stops. */
size_t index_topk(const dindex *ix, const index_query *q, uint32_t lo, uint32_t hi,
                  uint32_t exclude, size_t k, index_hit *out)
{
    clamp_range(ix, &lo, &hi);
    if (k == 0 || lo >= hi || q->n == 0) return 0;
    scratch *s = scratch_get(q->n * IX_MAX_RUNS, k);
    qlist *L = s->L;
    size_t nl = open_lists(ix, q, lo, hi, L);
    double total_ub = 0;
    for (size_t j = 0; j < nl; j++) total_ub += L[j].ub;
    heap hp = {s->heap, 0, k};
    double th = -1;        /* theta_lo of the heap minimum once full */
    uint32_t win = WIN_MIN;
    while (total_ub >= th) {
        uint32_t w0 = next_doc(s, nl);
        if (w0 == UINT32_MAX) break;
        uint32_t w1 = hi - w0 > win ? w0 + win : hi;
        if (win < WIN_MAX) win *= 2;
        size_t m = window_bounds(s, nl, w0, w1);
        if (s->prefix[m - 1] < th) {   /* nothing in the window can enter */
            for (size_t i = 0; i < m; i++) L[s->ord[i]].cur = L[s->ord[i]].wend;
            continue;
        }
        size_t p = 0;      /* ord[0..p) are non-essential in this window */
        while (p < m && s->prefix[p] < th) p++;
        window_accumulate(s, p, m, w0, w1);
        /* candidates: docs of the essential lists, completed list by list
         * from the strongest non-essential one down, dropping those that
         * the bound of the lists left cannot lift to theta */
        size_t nc = window_candidates(s, w0, w1, exclude);
        for (size_t i = p; i-- > 0 && nc;) {
            qlist *l = &L[s->ord[i]];
            /* prune only before a list that is searched per candidate:
             * a dense list costs the same whatever the candidates */
            if (!list_dense(l, nc)) nc = prune(s, nc, s->prefix[i], th);
            add_list(s, l, nc, w0);
        }
        for (size_t i = 0; i < p; i++) L[s->ord[i]].cur = L[s->ord[i]].wend;
        for (size_t i = 0; i < nc; i++) {
            /* complete: every list of the window was added */
            double sc = ix_unfix(s->acc[s->cand[i]]);
            if ((hp.n == hp.k && sc < th) || !((float)sc > 0)) continue;
            heap_push(&hp, w0 + s->cand[i], (float)sc);
            if (hp.n == hp.k) th = theta_lo(hp.h[0].score);
        }
    }
    size_t n = heap_out(&hp, out);
    scratch_put(s);
    return n;
}
