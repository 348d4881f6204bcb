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
 * index_topk keeps its best k in a pool (a buffer with a cutoff, selected
 * now and then) rather than the reference's heap, and finds a window's
 * candidates with a vector kernel where the CPU has one (topk_simd.c);
 * neither changes a result.
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

/* ---- top-k pool ---------------------------------------------------------------- */

/* index_topk's selection: hits better than a cutoff are appended to a
 * buffer; when it fills, the best k are selected and the k-th becomes the
 * cutoff. The hits kept are the heap's: worse() is a total order, so the
 * best k of all hits offered are one set however it is selected (the
 * exhaustive reference keeps the heap).
 *
 * A hit is one integer key, larger = better: the score's bits over the
 * complement of the doc. Scores offered are > 0 (and not NaN), and the
 * bits of positive floats order as the floats do, so key order is worse()
 * reversed -- one compare without branches, where worse() takes two. */
static inline uint64_t hit_key(uint32_t doc, float score)
{
    uint32_t b;
    memcpy(&b, &score, sizeof b);
    return (uint64_t)b << 32 | (uint32_t)~doc;
}

static inline index_hit key_hit(uint64_t key)
{
    uint32_t b = (uint32_t)(key >> 32);
    index_hit h = {(uint32_t)~(uint32_t)key, 0};
    memcpy(&h.score, &b, sizeof b);
    return h;
}

/* Room for 3 k hits over the best k (at most 4096 more): a select per
 * 3 k appends costs about one append each. */
static size_t pool_cap(size_t k)
{
    return k + (k < 4096 / 3 ? 3 * k : 4096);
}

typedef struct pool {
    uint64_t *h;                         /* [cap]: keys offered; best k among them */
    size_t n, k, cap;
    int cut_set;                         /* k hits seen: cut is the k-th best key so far */
    uint64_t cut;
} pool;

/* Keeps the best k and makes the k-th the cutoff. */
static void pool_shrink(pool *p)
{
    if (p->n > p->k) {
        ix_select_best(p->h, p->n, p->k);
        p->n = p->k;
    }
    uint64_t c = p->h[0];
    for (size_t i = 1; i < p->n; i++) c = p->h[i] < c ? p->h[i] : c;
    p->cut = c;
}

/* Offers (doc, score > 0). Returns 1 when the cutoff rose (or was first
 * set). */
static int pool_push(pool *p, uint32_t doc, float score)
{
    uint64_t x = hit_key(doc, score);
    if (p->cut_set) {
        if (x <= p->cut) return 0;
        p->h[p->n++] = x;
        if (p->n < p->cap) return 0;
    } else {
        p->h[p->n++] = x;
        if (p->n < p->k) return 0;
        p->cut_set = 1;
    }
    pool_shrink(p);
    return 1;
}

static int key_cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* See index_int.h: an insertion sort up to 256 keys (a handful of moves
 * each for the tens to hundreds kept), qsort past that. */
void ix_keys_sort_desc(uint64_t *h, size_t n)
{
    if (n > 256) {
        qsort(h, n, sizeof *h, key_cmp_desc);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t x = h[i];
        size_t j = i;
        for (; j > 0 && h[j - 1] < x; j--) h[j] = h[j - 1];
        h[j] = x;
    }
}

/* The best k hits offered, best first (the order heap_out gives). */
static size_t pool_out(pool *p, index_hit *out)
{
    if (p->n > p->k) pool_shrink(p);
    ix_keys_sort_desc(p->h, p->n);
    for (size_t i = 0; i < p->n; i++) out[i] = key_hit(p->h[i]);
    return p->n;
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

/* Documents are visited in windows, growing from WIN_MIN to WIN_MAX docs
 * so the per-window work (one bound per list) stays small next to the
 * postings. The first window has no theta and sums everything; a first
 * window of 64 docs filled the pool quickly but with a low cutoff, and
 * the windows that followed pruned little while theta climbed; a first
 * window of 2048 docs starts the rest from a cutoff near the final one
 * (analyze's queries, k = 100: 9-13 % less CPU in index_topk at 48k and
 * at 250k with a horizon, over 1k-4k). Windows of up to 32768 docs
 * rather than 8192 (the accumulator 256 KB a thread, in L2): -4 to -8 %
 * CPU in index_topk at 48k and at 250k with a horizon (`IX_AB` rounds of
 * index_bench); 65536 gave nothing more. */
#define WIN_MIN 2048
#define WIN_MAX 32768

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
    double key;                    /* wub per window posting (window_bounds) */
} qlist;

/* Per-thread scratch of index_topk, reused across calls so a query costs no
 * allocation once its thread has warmed up; freed at thread exit. */
typedef struct scratch {
    qlist *L;
    uint32_t *ord;                 /* lists of the window, by key ascending */
    double *prefix;                /* prefix[i] = sum of wub of ord[0..i] */
    size_t cap;                    /* of L, ord, prefix */
    uint64_t *heap;                /* the pool's keys: pool_cap(heapcap) */
    size_t heapcap;
    int simd;                      /* the kernel to run (ix_topk_simd) */
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
        s->heap = xrealloc(s->heap, pool_cap(k) * sizeof *s->heap);
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

/* First posting >= d in [cur, end), as gallop() finds it, for a target
 * far ahead (the end of a window): a gallop from cur probes log n far
 * apart postings one after another, each likely a cache miss. Docs spread
 * about evenly over a list, so the search starts where that spread puts
 * d and gallops from there, forward or back, over what is mostly a few
 * near lines. */
static const uint32_t *seek(const uint32_t *cur, const uint32_t *end, uint32_t d)
{
    if (cur >= end || *cur >= d) return cur;
    uint32_t first = *cur, last = end[-1];
    if (last < d) return end;
    /* now first < d <= last, so n >= 2 and the answer is in cur[1..n) */
    size_t n = (size_t)(end - cur);
    size_t g = (size_t)((double)(d - first) / ((double)(last - first) + 1) * (double)n);
    if (g < 1) g = 1;
    if (g > n - 1) g = n - 1;
    if (cur[g] < d) return gallop(cur + g, end, d);
    /* cur[g] >= d: back from g while the probes are still >= d */
    size_t hi = g, step = 1;
    while (hi > step && cur[hi - step] >= d) {
        hi -= step;
        step *= 2;
    }
    size_t lo = hi > step ? hi - step : 0;   /* cur[lo] < d <= cur[hi] */
    return lower_bound(cur + lo + 1, cur + hi, d);
}

/* at[j] = the first posting >= d in [at[j], at[j] + len[j]), for the n
 * lists side by side (len is used up). A binary search over a list not
 * read lately takes a cache miss a level, one after the other: searched
 * list by list, a query's ~60 clips chained some 700 misses in a row
 * (~8 % of index_topk's CPU at 250k items with a horizon). Here each
 * level probes every list before the next level, so their misses
 * overlap. Each search is the branch-free lower bound: [at, at + len]
 * holds the answer, and a probe halves it. */
static void seek_many(const uint32_t **at, size_t *len, size_t n, uint32_t d)
{
    int more = 1;
    while (more) {
        more = 0;
        for (size_t j = 0; j < n; j++) {
            if (len[j] <= 1) continue;
            size_t half = len[j] / 2;
            at[j] = at[j][half] < d ? at[j] + half : at[j];
            len[j] -= half;
            __builtin_prefetch(at[j] + len[j] / 2);
            more |= len[j] > 1;
        }
    }
    for (size_t j = 0; j < n; j++)
        if (len[j] == 1) at[j] += *at[j] < d;
}

/* Clips lists L[0..n) (n <= CLIP_AT_ONCE) to [lo, hi): cur to the first
 * posting >= lo (lo > 0), end to the first >= hi (clip_hi). */
#define CLIP_AT_ONCE 64
static void clip_lists(qlist *L, size_t n, uint32_t lo, uint32_t hi, int clip_hi)
{
    const uint32_t *at[CLIP_AT_ONCE];
    size_t len[CLIP_AT_ONCE];
    for (int end = 0; end < 2; end++) {   /* the start at lo, then the end at hi */
        if (end ? !clip_hi : !lo) continue;
        for (size_t j = 0; j < n; j++) {
            at[j] = L[j].cur;
            len[j] = (size_t)(L[j].end - L[j].cur);
        }
        seek_many(at, len, n, end ? hi : lo);
        for (size_t j = 0; j < n; j++) *(end ? &L[j].end : &L[j].cur) = at[j];
    }
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
            if (!r[k].n) continue;
            L[nl].cur = r[k].doc;
            L[nl].end = r[k].doc + r[k].n;
            L[nl].base = r[k].doc;
            L[nl].imp = r[k].imp;
            L[nl].bmax = r[k].bmax;
            L[nl].w = w;
            L[nl].wf = w * IX_FIX_ONE;
            L[nl].ub = w * (double)ix->maximp[t];
            L[nl].wub = 0;
            nl++;
        }
    }
    for (size_t j = 0; j < nl; j += CLIP_AT_ONCE)
        clip_lists(L + j, nl - j < CLIP_AT_ONCE ? nl - j : CLIP_AT_ONCE, lo, hi, hi < ix->n);
    size_t kept = 0;
    for (size_t j = 0; j < nl; j++) {
        if (L[j].cur == L[j].end) continue;
        L[j].wend = L[j].cur;
        L[kept++] = L[j];
    }
    return kept;
}

/* Moves every list to the window [w0, w1) and bounds it there with the
 * maxima of the blocks the window's postings fall in. Returns the number
 * of lists with postings in the window, in ord by bound per posting
 * ascending, with running sums of the bounds in prefix.
 *
 * The lists ord[0..p) whose bounds sum below theta are the non-essential
 * ones (index_topk): any set of lists with that sum would do, and the
 * cheapest split makes non-essential the lists with the most postings for
 * their bound -- a common term's low-weight list rather than a rare
 * term's handful -- since essential postings are all summed while
 * non-essential ones are summed only for candidates still alive. Ordered
 * by the bound alone, analyze's queries (tens of terms, theta about a
 * tenth of the bounds' sum) summed 45k of their 90k postings as
 * essential; by bound per posting, 28k. */
static size_t window_bounds(scratch *s, size_t nl, uint32_t w0, uint32_t w1)
{
    size_t m = 0;
    for (size_t j = 0; j < nl; j++) {
        qlist *l = &s->L[j];
        l->cur = gallop(l->cur, l->end, w0);
        l->wend = seek(l->cur, l->end, w1);
        if (l->cur == l->wend) continue;
        size_t b0 = (size_t)(l->cur - l->base) / IX_BLOCK;
        size_t b1 = (size_t)(l->wend - 1 - l->base) / IX_BLOCK;
        float mx = 0;
        for (size_t b = b0; b <= b1; b++)
            if (l->bmax[b] > mx) mx = l->bmax[b];
        l->wub = l->w * (double)mx;
        l->key = l->wub / (double)(l->wend - l->cur);
        /* insertion by key: lists number tens, and arrive nearly sorted */
        size_t i = m++;
        while (i > 0 && s->L[s->ord[i - 1]].key > l->key) {
            s->ord[i] = s->ord[i - 1];
            i--;
        }
        s->ord[i] = (uint32_t)j;
    }
    for (size_t i = 0; i < m; i++) s->prefix[i] = (i ? s->prefix[i - 1] : 0) + s->L[s->ord[i]].wub;
    return m;
}

/* acc[doc - w0] += ix_fix_pos(wf, imp) over postings [c, e) of l.
 * A window's postings of a list continue where the last window's ended,
 * but between the two the other lists' postings pass through the cache:
 * a list's next lines are seldom there yet, and the hardware prefetcher
 * does not follow as many streams as a query has lists. Prefetching
 * PF_DIST postings (1 KB) ahead, once per 16, measured 7 % less CPU. */
#define PF_DIST 256
static inline void acc_add(int64_t *acc, const qlist *l, const uint32_t *c, const uint32_t *e, uint32_t w0)
{
    const float *imp = l->imp + (c - l->base);
    double wf = l->wf;
    while (c < e) {
        __builtin_prefetch(c + PF_DIST);
        __builtin_prefetch(imp + PF_DIST);
        const uint32_t *ce = e - c > 16 ? c + 16 : e;
        for (; c < ce; c++, imp++) acc[*c - w0] += ix_fix_pos(wf, *imp);
    }
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
        acc_add(s->acc, l, l->cur, l->wend, w0);
        l->cur = l->wend;
    }
}

/* The window's candidates into cand (offsets, ascending): the docs whose
 * essential sum is not zero, but exclude. A doc of an essential list whose
 * contributions all rounded to zero is left out, and could not have
 * entered: with no non-essential list its score is 0 (never kept); with
 * some, theta is set (k hits are kept) and its score is at most their
 * bounds' sum (below theta) plus half a unit a list, far under theta's
 * margin (theta_lo). */
static size_t window_candidates(scratch *s, uint32_t w0, uint32_t w1, uint32_t exclude)
{
    uint32_t nw = w1 - w0, nc = 0;
    /* exclude is no candidate: its sum is dropped (only candidates' sums
     * are read from here on) */
    if (exclude - w0 < nw) s->acc[exclude - w0] = 0;
#if IX_HAVE_SIMD
    if (s->simd == IX_SIMD_AVX512) return ix_candidates_avx512(s->acc, nw, s->cand);
    if (s->simd == IX_SIMD_AVX2) return ix_candidates_avx2(s->acc, nw, s->cand);
#endif
    for (uint32_t o = 0; o < nw; o++) {
        s->cand[nc] = o;                 /* branch-free: half the docs are in */
        nc += s->acc[o] != 0;
    }
    return nc;
}

/* A list with few window postings per candidate is cheaper to sum whole
 * than to search candidate by candidate: a gallop costs about what summing
 * 30-50 postings does (its binary search's branches mispredict), so a
 * list is searched only with more than 48 postings a candidate (8
 * searched many lists that summing beats). */
static int list_dense(const qlist *l, size_t ncand)
{
    return (size_t)(l->wend - l->cur) <= 48 * ncand;
}

/* Adds non-essential list l to the n candidates. A list dense in the
 * window is summed whole (a branch-free pass over its postings); a sparse
 * one is searched for each candidate by galloping. */
static void add_list(scratch *s, qlist *l, size_t n, uint32_t w0)
{
    const uint32_t *c = l->cur, *e = l->wend;
    if (list_dense(l, n)) {
        acc_add(s->acc, l, c, e, w0);
    } else {
        for (size_t i = 0; i < n && c < e; i++) {
            c = gallop(c, e, w0 + s->cand[i]);
            if (c < e && *c == w0 + s->cand[i]) s->acc[s->cand[i]] += ix_fix_pos(l->wf, l->imp[c - l->base]);
        }
    }
    l->cur = e;
}

/* Keeps the candidates whose partial score plus bound can reach th, in
 * order; without branches on the scores (about half the candidates go at
 * the first prune of a window, unpredictably). */
static size_t prune(scratch *s, size_t n, double bound, double th)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s->cand[i];
        s->cand[k] = c;
        k += ix_unfix(s->acc[c]) + bound >= th;
    }
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
 * there, orders the lists by that bound per posting and splits them: the
 * first lists whose bounds sum below theta ("non-essential") cannot lift a
 * doc into the top k on their own, so candidates come only from the
 * essential lists, summed term at a time into a window accumulator. The
 * candidates are completed from the non-essential lists, last first, each
 * list summed whole or searched for them by galloping, and dropped as
 * soon as the bound of the lists left cannot reach theta; a
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
    s->simd = ix_topk_simd();
    size_t nl = open_lists(ix, q, lo, hi, L);
    double total_ub = 0;
    for (size_t j = 0; j < nl; j++) total_ub += L[j].ub;
    pool hp = {s->heap, 0, k, pool_cap(k), 0, 0};
    double th = -1;        /* theta_lo of the pool's cutoff once set */
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
            /* prune before a list with window postings for at least half
             * the candidates: it may turn sparse (searched for the few
             * left), and those left are fewer to complete; before a short
             * list the pass would cost more than summing it saves */
            if ((size_t)(l->wend - l->cur) * 2 >= nc) nc = prune(s, nc, s->prefix[i], th);
            add_list(s, l, nc, w0);
        }
        for (size_t i = 0; i < p; i++) L[s->ord[i]].cur = L[s->ord[i]].wend;
        for (size_t i = 0; i < nc; i++) {
            /* complete: every list of the window was added */
            double sc = ix_unfix(s->acc[s->cand[i]]);
            if ((hp.cut_set && sc < th) || !((float)sc > 0)) continue;
            if (pool_push(&hp, w0 + s->cand[i], (float)sc)) th = theta_lo(key_hit(hp.cut).score);
        }
        if (hp.cut_set && hp.n > hp.k) {   /* the next window prunes by the best k so far */
            pool_shrink(&hp);
            th = theta_lo(key_hit(hp.cut).score);
        }
    }
    size_t n = pool_out(&hp, out);
    scratch_put(s);
    return n;
}
