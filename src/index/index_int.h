/* index_int.h -- the index's internal layout, shared by index.c (build),
 * snapshot.c (saving and decoding snapshots), query.c (query bags, scoring
 * one doc) and topk.c (MaxScore top-k). Not part of the contract: use
 * index.h. */
#ifndef DP_INDEX_INT_H
#define DP_INDEX_INT_H

#include <stdatomic.h>

#include "index.h"
#include "../common/hashmap.h"

/* Distinct terms of one doc (or query) with per-field counts. */
typedef struct ix_bag {
    sbuf str;                        /* NUL-separated term strings */
    uint32_t *off;                   /* term i starts at str.s + off[i] */
    uint64_t *hash;
    uint16_t (*tf)[FIELD_COUNT];
    size_t n, cap;
    dp_idxmap ht;                    /* term string -> i */
    uint32_t len[FIELD_COUNT];       /* unigram tokens per field */
    /* A doc decoded from a snapshot instead: its term ids (ascending, in
     * the snapshot's dictionary) in ids[0..n), counts in tf, no strings. */
    int reused;
    uint32_t *ids;
    size_t idcap;
} ix_bag;

typedef struct ix_snap ix_snap;

/* Copy-on-write regions a grown index can hold (one per section grown). */
#define IX_COW_MAX 16

/* The delta segment of a grown index (below, struct dindex): the terms
 * with postings of new docs, ascending, term[i]'s run being
 * doc/imp[off[i] .. off[i+1]) with block maxima from blk[off[i] / IX_BLOCK
 * + i] (the layout of the main lists). All heap; nterm 0: none. */
typedef struct ix_delta {
    uint32_t *term;
    uint64_t *off;
    uint32_t *doc;
    float *imp, *blk;
    size_t nterm;
} ix_delta;

struct dindex {
    const item *items;
    size_t n;
    index_params p;
    text_template *tpl;              /* owned; NULL without stripping */
    /* [n] each doc's fields, owned. Built docs get theirs at build time;
     * docs decoded from a snapshot get them on first use (index_doc_fields
     * splits the item again, ~15 us, and installs the result with a
     * compare-and-swap so concurrent readers agree): only the docs of the
     * explained pairs ever need their text. */
    _Atomic(text_fields *) *fields;
    text_signals *sig;               /* [n - nmapped]: doc d's are sig[d - nmapped] */
    uint32_t (*len)[FIELD_COUNT];    /* [n] field lengths */
    double avglen[FIELD_COUNT];
    double (*norm)[FIELD_COUNT];     /* [n] ix_norm() of each field's length */

    /* dictionary */
    char *tstr;                      /* NUL-separated term strings */
    size_t tstr_len, tstr_cap;
    uint64_t *toff, *thash;          /* [nterms] */
    uint32_t *df;                    /* [nterms] */
    float *idf, *maximp;             /* [nterms] */
    size_t nterms, tcap;
    dp_idxmap ht;                    /* term string -> term */
    /* whether term t is a bigram ("a b"), learnt term by term on first
     * ask (ix_term_bigram), so a query tests a bit instead of reading the
     * term's string (a cache miss each) -- and a run that asks about a few
     * terms reads a few strings, not the whole dictionary's: two bitmaps
     * of ix_bigram_words(nterms) words, "known" then "is a bigram"; NULL
     * until the first ask, dropped when terms are added (index_append) */
    _Atomic(_Atomic uint64_t *) bigram;

    /* postings: term t's docs are post_doc[post_off[t] .. post_off[t+1]) */
    uint64_t *post_off;
    uint32_t *post_doc;
    float *post_imp;
    /* block maxima: the largest impact of each run of IX_BLOCK postings of
     * a list; term t's blocks start at blk_max[ix_blk_base(ix, t)] */
    float *blk_max;

    /* forward index: doc d's terms are fwd_*[fwd_off[d] .. fwd_off[d+1]) */
    uint64_t *fwd_off;
    uint32_t *fwd_term;
    uint16_t (*fwd_tf)[FIELD_COUNT];

    dp_idxmap keys;                  /* item key -> doc (the first with it) */
    uint32_t *ktag;                  /* [keys.cap] each slot's key hash, its upper half: a probe
                                        compares a key only where the tags agree */

    /* snapshots (snapshot.c) */
    uint64_t *chash;                 /* [n] ix_item_hash() of each item */
    size_t tpl_ndocs;                /* docs the template was learned on */
    const ix_snap *snap;             /* during a build only: docs to reuse */
    size_t reused;                   /* docs taken from the snapshot */

    /* An index opened from a file (index_file.c): the dictionary, postings,
     * forward index, lengths, norms and content hashes point into this
     * read-only mapping and are not freed one by one. sig is NULL: a doc's
     * signals are made on first use (ix_file_signals) into msig[doc], one
     * block each, whose vectors point at the strings in the mapping --
     * making all 250k at open cost more than the rest of opening. */
    void *map;
    size_t maplen;
    const uint64_t *sigcnt, *sigoff;   /* the file's S_SIGCNT, S_SIGOFF */
    const char *sigstr;
    uint64_t sigstr_len;
    _Atomic(text_signals *) *msig;
    /* A mapped file also names its docs, so a reader needs no item to find
     * one: doc d's key is kstr + koff[d] (koff[d] == UINT64_MAX: none), its
     * store row id rowid[d], its creation time created[d]; ksort[0..nksort) are the keyed docs in key
     * order (strcmp, then doc), which index_find searches. NULL when built. */
    const char *kstr;
    const uint64_t *koff;
    const int64_t *rowid;
    const int64_t *created;          /* [n] each doc's creation time */
    const uint32_t *ksort;
    size_t nksort;
    /* Docs [0, nmapped) take their signals and names from the mapping (all
     * of an opened file's; none of a build's). index_append() adds docs
     * after them: their signals are in sig, their names in their items;
     * keys then has every doc's key. It copies the arrays above that it must grow
     * into the heap (owned = 1) and leaves the mapping to the signals and
     * names of the first nmapped docs. */
    size_t nmapped;
    int owned;
    int mapfd;                       /* the mapped file, open while mapped */
    /* A grown index's arrays that are the file's pages mapped again, copy
     * on write, with room after them (ix_file_section_grow): the forward
     * index, dictionary, df, max impacts, lengths, norms, content hashes.
     * Appending writes only their tails and the few entries the new docs
     * touch, so only those pages are copied. Unmapped by index_free. */
    struct ix_region { void *base; size_t len; } cow[IX_COW_MAX];
    size_t ncow;

    /* Postings of a grown index (index_append): post_* above are the
     * file's lists of its post_nterms terms, untouched; the new docs'
     * postings are the delta segment dl, term by term. A term's list is
     * then two runs, the file's and the delta's (every delta doc follows
     * every file doc): ix_postings() gives both. A build has no delta
     * (dl.nterm 0, post_nterms == nterms); saving a grown index writes
     * the runs merged, as a build lays them out. */
    size_t post_nterms;
    ix_delta dl;
};
typedef struct ix_region ix_region;

/* One run of a term's postings: docs ascending, their impacts and the
 * block maxima of the run (a block per IX_BLOCK postings from doc[0]). */
typedef struct ix_plist {
    const uint32_t *doc;
    const float *imp, *bmax;
    size_t n;
} ix_plist;
/* Runs of one term at most: the file's and the delta's. */
#define IX_MAX_RUNS 2
/* Term t's nonempty runs into out[IX_MAX_RUNS], in doc order; returns how
 * many. Defined below, after ix_blk_base. */
static inline size_t ix_postings(const dindex *ix, uint32_t t, ix_plist out[IX_MAX_RUNS]);

/* The length of bag term i: the terms are NUL-terminated back to back in
 * str (ix_bag_add), so the next one's offset tells it without a strlen. */
static inline size_t ix_bag_term_len(const ix_bag *b, size_t i)
{
    return (i + 1 < b->n ? b->off[i + 1] : b->str.len) - b->off[i] - 1;
}
void ix_bag_reset(ix_bag *b);
void ix_bag_free(ix_bag *b);
void ix_bag_reserve(ix_bag *b, size_t n);   /* room for n terms */
void ix_bag_add(ix_bag *b, const char *t, size_t n, int field);
void ix_bag_fill(ix_bag *b, text_tokenizer *tk, const text_fields *tf, int bigrams);
int64_t ix_dict_find(const dindex *ix, const char *t, uint64_t h);
/* 1 when term t (< nterms) is a bigram (struct dindex, bigram): its bit
 * once known, else its string read once and the bit kept. Thread-safe
 * (threads that learn the same bit at once set the same value). */
int ix_term_bigram(const dindex *ix, uint32_t t);
/* qw * idf of query term i. */
static inline double ix_term_factor(const dindex *ix, const index_query *q, size_t i)
{
    return (double)q->weight[i] * (double)ix->idf[q->terms[i]];
}
/* Scores are sums of fixed-point contributions: qw * idf * impact in units
 * of 2^-32, rounded once per term. An integer sum does not depend on its
 * order, so the score pruned retrieval sums list by list is the very one
 * scoring a doc sums term by term -- they agree bit for bit without a
 * rescoring pass. Contributions are far below 2^31 units a term, so a sum
 * of any query's terms fits an int64. */
#define IX_FIX_ONE 4294967296.0
static inline int64_t ix_fix(double w, float imp)
{
    double x = w * (double)imp * IX_FIX_ONE;
    return x >= 0 ? (int64_t)(x + 0.5) : -(int64_t)(0.5 - x);
}
static inline double ix_unfix(int64_t sum) { return (double)sum / IX_FIX_ONE; }
/* ix_fix(w, imp) for a list's w >= 0 (impacts are >= 0) given
 * wf = w * IX_FIX_ONE, as pruned retrieval sums it posting by posting:
 * scaling by a power of two is exact (these products are far from
 * overflow and underflow), so (w * 2^32) * imp rounds to the very double
 * (w * imp) * 2^32 does, and x >= 0 needs no sign test. */
static inline int64_t ix_fix_pos(double wf, float imp)
{
    return (int64_t)(wf * (double)imp + 0.5);
}
/* The canonical score of doc (query.c): the fixed-point sum of its query
 * terms' contributions, as a double. */
double ix_score_exact(const dindex *ix, const index_query *q, uint32_t doc);
/* Query-side weight of a term with counts tf in a query of lengths len. */
double ix_query_weight(const dindex *ix, const uint16_t tf[FIELD_COUNT], const uint32_t len[FIELD_COUNT]);

/* Postings per block of blk_max: small enough that a block's maximum is a
 * much tighter bound than the list's, large enough to cost little memory
 * (4 bytes per 64 postings, plus at most one block per term). */
#define IX_BLOCK 64

/* Moves the k largest of h[0..n) (k < n; all distinct) to h[0..k), in no
 * order: quickselect, median of three as pivot, partition without
 * branches on the keys. Inline: index_topk's pool selects in its inner
 * loop (topk.c); the shared terms of a pair are cut with it too (query.c). */
static inline void ix_key_swap(uint64_t *a, uint64_t *b)
{
    uint64_t t = *a;
    *a = *b;
    *b = t;
}

static inline void ix_select_best(uint64_t *h, size_t n, size_t k)
{
    size_t lo = 0, hi = n;               /* the k-th largest is in h[lo..hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (h[mid] > h[lo]) ix_key_swap(&h[mid], &h[lo]);
        if (h[hi - 1] > h[mid]) ix_key_swap(&h[hi - 1], &h[mid]);
        if (h[mid] > h[lo]) ix_key_swap(&h[mid], &h[lo]);
        ix_key_swap(&h[mid], &h[hi - 1]);   /* pivot (the median) last */
        uint64_t pv = h[hi - 1];
        size_t st = lo;                  /* h[lo..st) > pv >= h[st..i) */
        for (size_t i = lo; i < hi - 1; i++) {
            uint64_t x = h[i];
            h[i] = h[st];
            h[st] = x;
            st += x > pv;
        }
        ix_key_swap(&h[st], &h[hi - 1]);
        if (k <= st) hi = st;
        else if (k == st + 1) return;
        else lo = st + 1;
    }
}

/* Sorts h[0..n) descending (topk.c; the pool's hits and a pair's shared
 * terms, both kept as integer keys). */
void ix_keys_sort_desc(uint64_t *h, size_t n);

/* ---- top-k kernels (topk_simd.c) ---------------------------------------- */
/* Vector kernels of topk.c with exactly its scalar loop's results; built
 * on x86-64 with gcc or clang (function target attributes, no per-file
 * flags) and run only when the CPU has the instructions. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IX_HAVE_SIMD 1
/* The offsets o < nw with acc[o] != 0 into cand, ascending; returns how
 * many. cand has room for nw. */
size_t ix_candidates_avx512(const int64_t *acc, uint32_t nw, uint32_t *cand);
size_t ix_candidates_avx2(const int64_t *acc, uint32_t nw, uint32_t *cand);
#else
#define IX_HAVE_SIMD 0
#endif
/* The kernels, as ix_topk_simd names them. */
enum { IX_SIMD_NONE = 0, IX_SIMD_AVX2 = 1, IX_SIMD_AVX512 = 2, IX_SIMD_BEST = 3 };
/* The kernel index_topk runs (IX_SIMD_NONE: the scalar loop): the best the
 * CPU has (found at the first call), unless ix_topk_simd_set chose. */
int ix_topk_simd(void);
/* For tests and benchmarks: want is a kernel (IX_SIMD_NONE forces the
 * scalar loop) or IX_SIMD_BEST. Returns the kernel now run: IX_SIMD_NONE
 * when the CPU lacks the one asked for. */
int ix_topk_simd_set(int want);

/* ---- snapshots (snapshot.c) --------------------------------------------- */

/* One doc record of an opened snapshot; pointers into the caller's buffer. */
typedef struct ix_snap_doc {
    const char *key;
    size_t keylen;
    uint64_t chash;
    const unsigned char *rec;
    size_t reclen;
} ix_snap_doc;

/* A validated snapshot: the header parsed, the doc table hashed by key.
 * Borrows the buffer given to ix_snap_open(); read-only afterwards, so the
 * build's worker threads decode docs from it concurrently. */
struct ix_snap {
    uint64_t tpl_ndocs;
    uint64_t *tpl;                   /* owned, ascending */
    size_t ntpl;
    const char *terms;               /* NUL-separated, nterms of them */
    size_t terms_len, nterms;
    ix_snap_doc *docs;               /* owned */
    size_t ndocs;
    dp_idxmap ht;                    /* owned: key -> doc */
};

/* DP_OK, or DP_ERR with *why set (static string) when the buffer is not a
 * snapshot of this format, was made with other text options or another
 * text pipeline, or fails its checksum. */
int ix_snap_open(ix_snap *s, const void *buf, size_t len, const index_params *p, const char **why);
void ix_snap_close(ix_snap *s);
/* The record of key when its content hash is chash, else NULL. */
const ix_snap_doc *ix_snap_find(const ix_snap *s, const char *key, uint64_t chash);
/* Decodes a record into signals and b (reused = 1). On a damaged record
 * returns DP_ERR with sig and b left empty. */
int ix_snap_decode(const ix_snap *s, const ix_snap_doc *d, text_signals *sig, ix_bag *b);
/* Hash of everything of an item the text pipeline reads. */
uint64_t ix_item_hash(const item *it);
/* Hash of the text pipeline's output on a fixed probe item, with the text
 * options: equal only for the same pipeline code and options. */
uint64_t ix_pipeline_fingerprint(const index_params *p);
/* The postings of ix with every term's runs merged into one list, as a
 * build lays them out: out->post_off, post_doc, post_imp, blk_max (heap,
 * the caller's), post_nterms = nterms (index.c). */
void ix_postings_merge(const dindex *ix, dindex *out);
/* Sorts v[0..n) ascending, tmp being room for n more (index.c: a build's
 * forward entries, term << 32 | bag index, whose terms are distinct --
 * only the upper half is sorted on, so keys must differ there). */
void ix_sort_keys(uint64_t *v, uint64_t *tmp, size_t n);
/* Fills ix->keys (and ix->ktag) with the keys of docs [nmapped, n) (every
 * doc's for a build; index_find searches a mapped file's docs by their
 * sorted keys); reads only the docs' keys, so it may run beside the
 * postings' build (index.c). Called once per index, on an empty key map:
 * by a build, or by the one growth index_append allows (it refuses an
 * index that grew already). */
void ix_build_keys(dindex *ix);
/* Unmaps ix->map and frees what was made from it (index_file.c). */
void ix_file_unmap(dindex *ix);
/* Array arr of the mapping (the start of a section of the file) as a
 * private, writable view with room for cap bytes: the section's pages
 * mapped from the file again (copy on write: only pages written are
 * copied), the rest anonymous zeros, recorded in nx->cow (index_free
 * unmaps it). The mapping's own pages of the section are given back: ix's
 * pointer into them may still be read (they fault in again) but is no
 * longer the one used. NULL when it cannot be had: the caller copies. */
void *ix_file_grow(dindex *nx, const dindex *ix, const void *arr, size_t cap);
/* 1 when p points into ix's mapping or one of its copy-on-write regions:
 * not the heap's to free. */
int ix_file_holds(const dindex *ix, const void *p);
/* The signals of doc of a mapped index, made on first use (thread-safe). */
const text_signals *ix_file_signals(const dindex *ix, uint32_t doc);

/* Index of term t's first block. A list of df postings starting at
 * post_off[t] has ceil(df / IX_BLOCK) blocks; floor(post_off / IX_BLOCK) + t
 * leaves room for them without storing an offset per term. */
static inline uint64_t ix_blk_base(const dindex *ix, uint32_t t)
{
    return ix->post_off[t] / IX_BLOCK + t;
}

/* The first position of dl->term holding a term >= t (the delta's terms
 * number thousands: a binary search). */
static inline size_t ix_delta_find(const ix_delta *dl, uint32_t t)
{
    size_t lo = 0, hi = dl->nterm;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dl->term[mid] < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static inline size_t ix_postings(const dindex *ix, uint32_t t, ix_plist out[IX_MAX_RUNS])
{
    size_t n = 0;
    if (t < ix->post_nterms && ix->post_off[t + 1] > ix->post_off[t]) {
        out[0].doc = ix->post_doc + ix->post_off[t];
        out[0].imp = ix->post_imp + ix->post_off[t];
        out[0].bmax = ix->blk_max + ix_blk_base(ix, t);
        out[0].n = (size_t)(ix->post_off[t + 1] - ix->post_off[t]);
        n = 1;
    }
    const ix_delta *dl = &ix->dl;
    size_t lo = dl->nterm ? ix_delta_find(dl, t) : 0;
    if (lo < dl->nterm && dl->term[lo] == t) {
        out[n].doc = dl->doc + dl->off[lo];
        out[n].imp = dl->imp + dl->off[lo];
        out[n].bmax = dl->blk + dl->off[lo] / IX_BLOCK + lo;
        out[n].n = (size_t)(dl->off[lo + 1] - dl->off[lo]);
        n++;
    }
    return n;
}

/* Length normalisation of field f: 1 - b + b * len / avglen. */
static inline double ix_norm(const dindex *ix, int f, uint32_t len)
{
    double b = ix->p.b[f];
    return 1.0 - b + b * (double)len / ix->avglen[f];
}

/* BM25F saturated weight of a term with counts tf in doc: the impact
 * stored in the postings, and recomputed from the forward index when an
 * exact score is needed (same function, so the same float). */
static inline double ix_impact(const dindex *ix, const uint16_t tf[FIELD_COUNT], uint32_t doc)
{
    double t = 0;
    for (int f = 0; f < FIELD_COUNT; f++) {
        if (!tf[f]) continue;
        t += ix->p.weight[f] * tf[f] / ix->norm[doc][f];
    }
    return t / (ix->p.k1 + t);
}

#endif
