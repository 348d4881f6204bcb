/* index.c -- building the inverted index: parallel text pipeline, term
 * dictionary, forward index and impact-ordered postings. Queries and top-k
 * retrieval live in topk.c.
 *
 * Build runs in batches: worker threads (one text_tokenizer each) split,
 * extract signals and tokenize the docs of a batch into per-doc "bags"
 * (distinct terms with per-field counts); the calling thread then interns
 * the bags into the global dictionary strictly in doc order. Interning in
 * order makes term ids -- and therefore every float sum downstream --
 * independent of thread timing: the index is deterministic.
 *
 * Memory per (doc, term) pair: 4 (fwd term) + 8 (fwd tf) + 4 (posting doc)
 * + 4 (posting impact) = 20 bytes, plus a block maximum per 64 postings.
 */
#include "index_int.h"
#include "../common/hashmap.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BATCH 1024

void index_params_default(index_params *p)
{
    memset(p, 0, sizeof *p);
    /* Tuned on apache-jira: mean recall@10 of known duplicates over the 8
     * projects (bench/index.sh recall; sweep in bench/index.sh). Title
     * dominates; code is noisy (shared frames of common libraries) and
     * labels/components are broad (left to the ranker's label feature);
     * a higher k1 than the textbook 1.2 helps because duplicates repeat
     * their key terms; query weights are nearly linear (query_k1 large). */
    p->k1 = 2.0;
    p->query_k1 = 1000.0;
    p->weight[FIELD_TITLE] = 5.0;
    p->weight[FIELD_PROSE] = 1.0;
    p->weight[FIELD_CODE] = 0.3;
    p->weight[FIELD_LABELS] = 0.2;
    p->b[FIELD_TITLE] = 0.5;
    p->b[FIELD_PROSE] = 0.9;
    p->b[FIELD_CODE] = 0.75;
    p->b[FIELD_LABELS] = 0.3;
    p->bigrams = 1;
    p->bigram_weight = 0.3;
    p->strip_templates = 1;
    /* Long Jira bodies make queries of hundreds of terms; the best 60 by
     * weight * idf * max impact keep recall: mean R@10 0.7538 vs 0.7542
     * for all terms, R@100 0.9109 vs 0.9105 (40: 0.7520, 30: 0.7486), and
     * cut the top-k time about 3x. */
    p->query_max_terms = 60;
    text_opts_default(&p->text);
    p->threads = 0;
}

/* ---- bags: the distinct terms of one doc --------------------------------- */

void ix_bag_reset(ix_bag *b)
{
    dp_idxmap_clear(&b->ht);
    b->n = 0;
    b->str.len = 0;
    memset(b->len, 0, sizeof b->len);
    b->reused = 0;
}

void ix_bag_free(ix_bag *b)
{
    sb_free(&b->str);
    free(b->off);
    free(b->hash);
    free(b->tf);
    dp_idxmap_free(&b->ht);
    free(b->ids);
    memset(b, 0, sizeof *b);
}

static uint64_t bag_hash_of(const void *ctx, uint32_t i) { return ((const ix_bag *)ctx)->hash[i]; }

void ix_bag_reserve(ix_bag *b, size_t n)
{
    if (n <= b->cap) return;
    while (b->cap < n) b->cap = b->cap ? b->cap * 2 : 64;
    b->off = xrealloc(b->off, b->cap * sizeof *b->off);
    b->hash = xrealloc(b->hash, b->cap * sizeof *b->hash);
    b->tf = xrealloc(b->tf, b->cap * sizeof *b->tf);
}

void ix_bag_add(ix_bag *b, const char *t, size_t n, int field)
{
    dp_idxmap_reserve(&b->ht, b->n + 1 > 128 ? b->n + 1 : 128, bag_hash_of, b);
    uint64_t h = dp_hash(t, n);
    size_t s;
    for (s = dp_idxmap_first(&b->ht, h); b->ht.slot[s]; s = dp_idxmap_step(&b->ht, s)) {
        uint32_t i = b->ht.slot[s] - 1;
        if (b->hash[i] == h && strcmp(b->str.s + b->off[i], t) == 0) {
            if (b->tf[i][field] < UINT16_MAX) b->tf[i][field]++;
            return;
        }
    }
    ix_bag_reserve(b, b->n + 1);
    size_t i = b->n++;
    b->off[i] = (uint32_t)b->str.len;
    sb_add(&b->str, t, n);
    sb_addc(&b->str, '\0');
    b->hash[i] = h;
    memset(b->tf[i], 0, sizeof b->tf[i]);
    b->tf[i][field] = 1;
    dp_idxmap_put(&b->ht, s, (uint32_t)i);
}

typedef struct tok_ctx {
    ix_bag *b;
    int field;
    int bigrams;
    size_t prevlen;
    char prev[256];
    char pair[512];
} tok_ctx;

static void on_token(void *vctx, const char *tok, size_t len, int extra)
{
    tok_ctx *c = vctx;
    ix_bag_add(c->b, tok, len, c->field);
    c->b->len[c->field]++;
    if (!c->bigrams || extra) return;
    if (c->prevlen && c->prevlen + 1 + len < sizeof c->pair) {
        memcpy(c->pair, c->prev, c->prevlen);
        c->pair[c->prevlen] = ' ';
        memcpy(c->pair + c->prevlen + 1, tok, len);
        c->pair[c->prevlen + 1 + len] = '\0';
        ix_bag_add(c->b, c->pair, c->prevlen + 1 + len, c->field);
    }
    if (len < sizeof c->prev) {
        memcpy(c->prev, tok, len);
        c->prevlen = len;
    } else {
        c->prevlen = 0;
    }
}

void ix_bag_fill(ix_bag *b, text_tokenizer *tk, const text_fields *tf, int bigrams)
{
    tok_ctx c;
    c.b = b;
    for (int f = 0; f < FIELD_COUNT; f++) {
        c.field = f;
        c.bigrams = bigrams && (f == FIELD_TITLE || f == FIELD_PROSE);
        /* line by line: a bigram never spans two lines (or two labels) */
        const char *p = tf->f[f];
        while (p && *p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            c.prevlen = 0;
            text_tokenize_cb(tk, p, n, on_token, &c);
            if (!nl) break;
            p = nl + 1;
        }
    }
}

/* ---- dictionary ------------------------------------------------------------ */

static uint64_t dict_hash_of(const void *ctx, uint32_t t) { return ((const dindex *)ctx)->thash[t]; }

/* The dictionary starts at 32k terms: a repository has at least that many. */
static void dict_reserve(dindex *ix, size_t n) { dp_idxmap_reserve(&ix->ht, n > 1 << 15 ? n : 1 << 15, dict_hash_of, ix); }

/* Indexes terms 0..nterms anew (they are distinct). */
static void dict_rebuild(dindex *ix)
{
    dp_idxmap_free(&ix->ht);
    dict_reserve(ix, ix->nterms + 1);
    for (uint32_t t = 0; t < ix->nterms; t++) {
        size_t s = dp_idxmap_first(&ix->ht, ix->thash[t]);
        while (ix->ht.slot[s]) s = dp_idxmap_step(&ix->ht, s);
        dp_idxmap_put(&ix->ht, s, t);
    }
}

int64_t ix_dict_find(const dindex *ix, const char *t, uint64_t h)
{
    if (!ix->ht.cap) return -1;
    for (size_t s = dp_idxmap_first(&ix->ht, h); ix->ht.slot[s]; s = dp_idxmap_step(&ix->ht, s)) {
        uint32_t id = ix->ht.slot[s] - 1;
        if (ix->thash[id] == h && strcmp(ix->tstr + ix->toff[id], t) == 0) return id;
    }
    return -1;
}

static size_t ix_bigram_words(size_t nterms) { return nterms / 64 + 1; }

/* The two bitmaps of struct dindex's bigram, allocated on the first call
 * (zeroed: nothing known; compare-and-swap, a loser frees its copy). */
static _Atomic uint64_t *bigram_table(const dindex *ix)
{
    _Atomic uint64_t *b = atomic_load_explicit(&ix->bigram, memory_order_acquire);
    if (b) return b;
    b = xcalloc(2 * ix_bigram_words(ix->nterms), sizeof *b);
    _Atomic uint64_t *none = NULL;
    /* the slot is ix's own (allocated writable) */
    if (!atomic_compare_exchange_strong_explicit(&((dindex *)ix)->bigram, &none, b, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        free((void *)b);
        b = none;
    }
    return b;
}

int ix_term_bigram(const dindex *ix, uint32_t t)
{
    _Atomic uint64_t *known = bigram_table(ix), *big = known + ix_bigram_words(ix->nterms);
    uint64_t m = 1ULL << (t & 63);
    if (atomic_load_explicit(&known[t >> 6], memory_order_acquire) & m)
        return (atomic_load_explicit(&big[t >> 6], memory_order_relaxed) & m) != 0;
    int is = strchr(ix->tstr + ix->toff[t], ' ') != NULL;
    if (is) atomic_fetch_or_explicit(&big[t >> 6], m, memory_order_relaxed);
    atomic_fetch_or_explicit(&known[t >> 6], m, memory_order_release);   /* after its value */
    return is;
}

int index_term_bigram(const dindex *ix, uint32_t term)
{
    return term < ix->nterms && ix_term_bigram(ix, term);
}

static uint32_t dict_intern(dindex *ix, const char *t, size_t n, uint64_t h)
{
    dict_reserve(ix, ix->nterms + 1);
    size_t s;
    for (s = dp_idxmap_first(&ix->ht, h); ix->ht.slot[s]; s = dp_idxmap_step(&ix->ht, s)) {
        uint32_t id = ix->ht.slot[s] - 1;
        if (ix->thash[id] == h && strcmp(ix->tstr + ix->toff[id], t) == 0) return id;
    }
    if (ix->nterms == ix->tcap) {
        ix->tcap = ix->tcap ? ix->tcap * 2 : 1 << 15;
        ix->toff = xrealloc(ix->toff, ix->tcap * sizeof *ix->toff);
        ix->thash = xrealloc(ix->thash, ix->tcap * sizeof *ix->thash);
        ix->df = xrealloc(ix->df, ix->tcap * sizeof *ix->df);
    }
    uint32_t id = (uint32_t)ix->nterms++;
    if (ix->tstr_len + n + 1 > ix->tstr_cap) {
        ix->tstr_cap = ix->tstr_cap ? ix->tstr_cap * 2 : 1 << 20;
        while (ix->tstr_len + n + 1 > ix->tstr_cap) ix->tstr_cap *= 2;
        ix->tstr = xrealloc(ix->tstr, ix->tstr_cap);
    }
    ix->toff[id] = ix->tstr_len;
    memcpy(ix->tstr + ix->tstr_len, t, n + 1);
    ix->tstr_len += n + 1;
    ix->thash[id] = h;
    ix->df[id] = 0;
    dp_idxmap_put(&ix->ht, s, id);
    return id;
}

/* ---- build ------------------------------------------------------------------ */

typedef struct build_job {
    dindex *ix;
    size_t base, count;        /* docs [base, base+count) of this batch */
    ix_bag *bags;              /* count bags */
    atomic_size_t next;
} build_job;

typedef struct worker {
    build_job *job;
    text_tokenizer *tk;
    pthread_t th;
} worker;

/* ---- fields, kept compact ------------------------------------------------------ */

text_fields *index_fields_compact(text_fields *tf)
{
    size_t len[FIELD_COUNT], total = sizeof(text_fields);
    for (int f = 0; f < FIELD_COUNT; f++) total += (len[f] = strlen(tf->f[f])) + 1;
    text_fields *c = xmalloc(total);
    char *at = (char *)(c + 1);
    for (int f = 0; f < FIELD_COUNT; f++) {
        memcpy(at, tf->f[f], len[f] + 1);
        c->f[f] = at;
        at += len[f] + 1;
    }
    text_fields_free(tf);
    return c;
}

/* The fields of one item, split and made compact: one block. */
static text_fields *fields_split(const item *it, const text_template *tpl)
{
    return text_split_compact(it, tpl);
}

/* The text pipeline on one item: its content hash, signals, fields and
 * bag (or, from the snapshot, its decoded record; fields then stay NULL). */
static void process_item(const dindex *ix, text_tokenizer *tk, const item *it, uint64_t *chash,
                         text_signals *sig, _Atomic(text_fields *) *fields, ix_bag *b)
{
    *chash = ix_item_hash(it);
    if (ix->snap) {
        const ix_snap_doc *sd = ix_snap_find(ix->snap, it->key, *chash);
        if (sd && ix_snap_decode(ix->snap, sd, sig, b) == DP_OK) return;
    }
    ix_bag_reset(b);
    text_fields *tf = text_split_compact(it, ix->tpl);   /* kept as it is made: no copy */
    text_signals_extract(tf, sig);
    ix_bag_fill(b, tk, tf, ix->p.bigrams);
    if (ix->p.drop_fields) {   /* split again on use, from the same item and template */
        free(tf);
        return;
    }
    atomic_store_explicit(fields, tf, memory_order_release);
}

static void process_doc(dindex *ix, text_tokenizer *tk, size_t d, ix_bag *b)
{
    process_item(ix, tk, &ix->items[d], &ix->chash[d], &ix->sig[d - ix->nmapped], &ix->fields[d], b);
}

static void run_batch(worker *w)
{
    build_job *j = w->job;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->count) break;
        process_doc(j->ix, w->tk, j->base + i, &j->bags[i]);
    }
}

static void *worker_main(void *arg)
{
    run_batch(arg);
    return NULL;
}

/* A doc's forward entries before sorting: term << 32 | its index in the
 * bag. A bag's terms are distinct, so ordering the keys orders the terms
 * and no two keys tie: any correct sort gives the same order. */
#define FWD_KEY(term, idx) ((uint64_t)(term) << 32 | (uint32_t)(idx))

/* Sorts v[0..n) ascending (tmp: room for n). Bags hold hundreds of terms
 * and term ids reach millions: qsort (a merge sort calling a comparator
 * per step) cost more than interning the bag's new terms. Insertion for a
 * few keys; else an LSD radix sort on the term's bytes, only as many
 * passes as the largest term has bytes (the idx half is never a digit:
 * terms are distinct). */
void ix_sort_keys(uint64_t *v, uint64_t *tmp, size_t n)
{
    if (n <= 24) {
        for (size_t i = 1; i < n; i++) {
            uint64_t x = v[i];
            size_t j = i;
            for (; j && v[j - 1] > x; j--) v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++) max |= v[i];
    uint64_t *src = v, *dst = tmp;
    for (int shift = 32; shift < 64 && (max >> shift); shift += 8) {
        size_t cnt[256] = {0};
        for (size_t i = 0; i < n; i++) cnt[(src[i] >> shift) & 255]++;
        for (size_t k = 0, at = 0; k < 256; k++) {
            size_t c = cnt[k];
            cnt[k] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[(src[i] >> shift) & 255]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
}

/* The dictionary (1.35M terms at 250k items: a 16 MB hash, its hashes,
 * offsets and strings) is far larger than the caches, and a bag's terms
 * land at random in it: interning waited on memory. Ahead of term i, the
 * hash slot of term i + 2 * DICT_AHEAD is fetched, the entry that slot
 * names for term i + DICT_AHEAD, and that entry's string for term
 * i + DICT_AHEAD / 2 (hints only: what they fetch is not used). */
#define DICT_AHEAD 8
static void dict_prefetch(const dindex *ix, const ix_bag *b, size_t i)
{
    if (!ix->ht.cap) return;
    if (i + 2 * DICT_AHEAD < b->n) __builtin_prefetch(&ix->ht.slot[dp_idxmap_first(&ix->ht, b->hash[i + 2 * DICT_AHEAD])]);
    if (i + DICT_AHEAD < b->n) {
        uint32_t e = ix->ht.slot[dp_idxmap_first(&ix->ht, b->hash[i + DICT_AHEAD])];
        if (e) {
            __builtin_prefetch(&ix->thash[e - 1]);
            __builtin_prefetch(&ix->toff[e - 1]);
        }
    }
    if (i + DICT_AHEAD / 2 < b->n) {   /* the string strcmp reads, once its offset came */
        uint32_t e = ix->ht.slot[dp_idxmap_first(&ix->ht, b->hash[i + DICT_AHEAD / 2])];
        if (e) __builtin_prefetch(ix->tstr + ix->toff[e - 1]);
    }
}

/* Room for n bytes in the heap; a large block asks for huge pages, as
 * append fills hundreds of MB at once: a fault per 2 MB instead of per
 * 4 KB (advice: without them it is the same memory). free() frees it. */
static void *big_alloc(size_t n)
{
    void *p = NULL;
    size_t huge = (size_t)2 << 20;
    if (n >= 4 * huge && posix_memalign(&p, huge, n) == 0) {
        madvise(p, n / huge * huge, MADV_HUGEPAGE);
        return p;
    }
    return xmalloc(n ? n : 1);
}

/* p (used bytes of it written) moved to a block of cap bytes from
 * big_alloc: the forward index grows to hundreds of MB and is read at
 * random by ranking, so it is made of huge pages as it is written (a fault
 * per 2 MB) instead of 4 KB pages collapsed into huge ones afterwards
 * (MADV_COLLAPSE copies every page again: ~0.5 s of one core at 250k
 * items). Growth doubles: the copies sum to less than the final size. */
#define HUGE_GROW_MIN ((size_t)32 << 20)
static void *huge_grow(void *p, size_t used, size_t cap)
{
    /* Only blocks malloc maps on their own (>= 32 MB, its largest mmap
     * threshold): a smaller one would come from the heap, and the advice
     * would stay on that part of the heap once the block is freed, giving
     * later small allocations there huge pages (tens of MB more resident
     * at 250k items). A smaller array is collapsed once built. */
    void *c = cap >= HUGE_GROW_MIN ? big_alloc(cap) : xmalloc(cap);
    if (used) memcpy(c, p, used);
    free(p);
    return c;
}

/* The forward arrays' next capacity, for `need` entries once doc d is in:
 * the entries so far projected over all n docs, plus a tenth, and at least
 * a quarter more than cap. Doubling from 1M entries copied them six times
 * at 250k items, each copy faulting in its new block on the interning
 * thread that bounds the build: ~1 s of it, the other core idle meanwhile;
 * projected, the arrays grow about twice (the first docs are a sample).
 * Room never written is never resident; the arrays are trimmed at the end. */
static size_t fwd_next_cap(size_t need, size_t d, size_t n, size_t cap)
{
    size_t want = cap ? cap + cap / 4 : (size_t)1 << 20;
    double proj = (double)need / (double)(d + 1) * (double)n * 1.1;
    if (d >= 1000 && proj > (double)want) want = (size_t)proj;
    return want < need ? need : want;
}

/* Interns one doc's bag and appends its forward entries. */
static void intern_doc(dindex *ix, size_t d, const ix_bag *b, uint64_t **tmp, size_t *tmpcap,
                       size_t *fcap)
{
    if (2 * b->n > *tmpcap) {
        *tmpcap = b->n * 4;
        *tmp = xrealloc(*tmp, *tmpcap * sizeof **tmp);
    }
    uint64_t *key = *tmp;
    for (size_t i = 0; i < b->n; i++) {
        uint32_t t;
        if (b->reused) {   /* already ids of the dictionary, ascending */
            t = b->ids[i];
        } else {
            dict_prefetch(ix, b, i);
            t = dict_intern(ix, b->str.s + b->off[i], ix_bag_term_len(b, i), b->hash[i]);
        }
        key[i] = FWD_KEY(t, i);
    }
    if (b->reused) ix->reused++;
    else ix_sort_keys(key, key + b->n, b->n);
    size_t at = ix->fwd_off[d];
    if (at + b->n > *fcap) {
        size_t cap = fwd_next_cap(at + b->n, d, ix->n, *fcap);
        ix->fwd_term = huge_grow(ix->fwd_term, at * sizeof *ix->fwd_term, cap * sizeof *ix->fwd_term);
        ix->fwd_tf = huge_grow(ix->fwd_tf, at * sizeof *ix->fwd_tf, cap * sizeof *ix->fwd_tf);
        *fcap = cap;
    }
    for (size_t i = 0; i < b->n; i++) {
        uint32_t t = (uint32_t)(key[i] >> 32);
        ix->fwd_term[at + i] = t;
        memcpy(ix->fwd_tf[at + i], b->tf[(uint32_t)key[i]], sizeof ix->fwd_tf[0]);
        ix->df[t]++;
    }
    ix->fwd_off[d + 1] = at + b->n;
    memcpy(ix->len[d], b->len, sizeof ix->len[d]);
}

static int nthreads_of(const index_params *p)
{
    int n = dp_threads(p->threads);
    return n > 64 ? 64 : n;
}

static void learn_template(dindex *ix)
{
    const char **bodies = xmalloc((ix->n ? ix->n : 1) * sizeof *bodies);
    for (size_t i = 0; i < ix->n; i++) bodies[i] = ix->items[i].body ? ix->items[i].body : "";
    ix->tpl = text_template_learn_threads(bodies, ix->n, nthreads_of(&ix->p));
    free(bodies);
}

/* Interning state of the calling thread. */
typedef struct intern_st {
    uint64_t *tmp;                   /* keys, then the sort's scratch */
    size_t tmpcap, fcap;
} intern_st;

/* Starts the workers 1..nt-1 on *job; returns how many started. */
static int batch_start(worker *ws, int nt, build_job *job)
{
    int started = 0;
    for (int i = 1; i < nt && job->count > 1; i++) {
        ws[i].job = job;
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) break;
        started = i;
    }
    return started;
}

static void batch_setup(build_job *job, dindex *ix, size_t base, ix_bag *bags)
{
    job->ix = ix;
    job->base = base;
    job->count = ix->n - base < BATCH ? ix->n - base : BATCH;
    job->bags = bags;
    atomic_store(&job->next, 0);
}

/* Batches are pipelined: while the workers tokenize batch b+1 the calling
 * thread interns batch b (interning is serial: term ids follow doc order),
 * then joins them on what is left of b+1. The two batches touch disjoint
 * docs and bags, and only the calling thread touches the dictionary. */
static void tokenize_all(dindex *ix)
{
    int nt = nthreads_of(&ix->p);
    worker *ws = xcalloc((size_t)nt, sizeof *ws);
    ix_bag *bags[2] = {xcalloc(BATCH, sizeof(ix_bag)), xcalloc(BATCH, sizeof(ix_bag))};
    build_job job[2];
    for (int i = 0; i < nt; i++) ws[i].tk = text_tokenizer_new(&ix->p.text);
    intern_st in = {NULL, 0, 0};
    if (ix->n) {
        batch_setup(&job[0], ix, 0, bags[0]);
        int started = batch_start(ws, nt, &job[0]);
        ws[0].job = &job[0];
        run_batch(&ws[0]);
        for (int i = 1; i <= started; i++) pthread_join(ws[i].th, NULL);
    }
    for (size_t base = 0, b = 0; base < ix->n; base += BATCH, b ^= 1) {
        build_job *cur = &job[b], *nx = &job[b ^ 1];
        int started = 0, more = base + BATCH < ix->n;
        if (more) {
            batch_setup(nx, ix, base + BATCH, bags[b ^ 1]);
            started = batch_start(ws, nt, nx);
        }
        for (size_t i = 0; i < cur->count; i++)
            intern_doc(ix, base + i, &cur->bags[i], &in.tmp, &in.tmpcap, &in.fcap);
        if (more) {
            ws[0].job = nx;
            run_batch(&ws[0]);
            for (int i = 1; i <= started; i++) pthread_join(ws[i].th, NULL);
        }
    }
    free(in.tmp);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < BATCH; i++) ix_bag_free(&bags[k][i]);
        free(bags[k]);
    }
    for (int i = 0; i < nt; i++) text_tokenizer_free(ws[i].tk);
    free(ws);
}

double ix_query_weight(const dindex *ix, const uint16_t tf[FIELD_COUNT], const uint32_t len[FIELD_COUNT])
{
    double t = 0;
    for (int f = 0; f < FIELD_COUNT; f++) {
        if (!tf[f]) continue;
        t += ix->p.weight[f] * tf[f] / ix_norm(ix, f, len[f]);
    }
    double k = ix->p.query_k1 > 0 ? ix->p.query_k1 : ix->p.k1;
    return t * (k + 1) / (k + t);
}

/* Block maxima of terms [lo, hi)'s lists (post_off / post_imp) into
 * ix->blk_max (zeroed). */
static void blocks_range(dindex *ix, uint32_t lo, uint32_t hi)
{
    for (uint32_t t = lo; t < hi; t++) {
        float *bm = ix->blk_max + ix_blk_base(ix, t);
        for (uint64_t i = 0; i < ix->df[t]; i++) {
            float imp = ix->post_imp[ix->post_off[t] + i];
            if (imp > bm[i / IX_BLOCK]) bm[i / IX_BLOCK] = imp;
        }
    }
}

static void build_blocks(dindex *ix)
{
    size_t nblk = ix->post_off[ix->nterms] / IX_BLOCK + ix->nterms + 1;
    ix->blk_max = xcalloc(nblk, sizeof *ix->blk_max);
    blocks_range(ix, 0, (uint32_t)ix->nterms);
}

/* Inverting the forward index on several threads: thread k owns the terms
 * [split[k], split[k+1]) -- about a k-th of the postings each -- scans
 * every doc in order and writes only its own terms' lists (cur: each
 * term's next slot), then their block maxima. Each list is still in doc
 * order, each impact the same expression: the lists a single thread
 * makes. */
#define POST_MAX_THREADS 8
typedef struct post_job {
    dindex *ix;
    uint64_t *cur;
    uint32_t split[POST_MAX_THREADS + 1];
    int nt;
    atomic_int slot;
} post_job;

static void post_range(post_job *j, uint32_t lo, uint32_t hi)
{
    dindex *ix = j->ix;
    for (size_t d = 0; d < ix->n; d++) {
        for (size_t e = ix->fwd_off[d]; e < ix->fwd_off[d + 1]; e++) {
            uint32_t t = ix->fwd_term[e];
            if (t < lo || t >= hi) continue;
            float imp = (float)ix_impact(ix, ix->fwd_tf[e], (uint32_t)d);
            uint64_t at = j->cur[t]++;
            ix->post_doc[at] = (uint32_t)d;
            ix->post_imp[at] = imp;
            if (imp > ix->maximp[t]) ix->maximp[t] = imp;
        }
    }
    blocks_range(ix, lo, hi);
}

/* Takes ranges until none is left, then the key map: done whatever number
 * of runners start. The ranges take unequal time (a rare term's postings
 * land at random, a common one's in a row: at 250k items one runner ended
 * 0.7 s before the other): the first done builds the map (it reads only
 * the items' keys) while the other finishes, instead of the calling thread
 * alone after both (0.7 s more at 250k). */
static void *post_run(void *arg)
{
    post_job *j = arg;
    for (int k; (k = atomic_fetch_add(&j->slot, 1)) <= j->nt;) {
        if (k == j->nt) ix_build_keys(j->ix);
        else if (j->split[k] < j->split[k + 1]) post_range(j, j->split[k], j->split[k + 1]);
    }
    return NULL;
}

/* Splits the terms into nt ranges of about equal postings. */
static void post_split(const dindex *ix, int nt, uint32_t *split)
{
    uint64_t total = ix->post_off[ix->nterms];
    uint32_t t = 0;
    split[0] = 0;
    for (int k = 1; k < nt; k++) {
        uint64_t want = total / (uint64_t)nt * (uint64_t)k;
        while (t < ix->nterms && ix->post_off[t] < want) t++;
        split[k] = t;
    }
    split[nt] = (uint32_t)ix->nterms;
}

/* The postings, and the key map (ix_build_keys) beside them. */
static void build_postings(dindex *ix)
{
    ix->post_off = xmalloc((ix->nterms + 1) * sizeof *ix->post_off);
    ix->post_off[0] = 0;
    for (size_t t = 0; t < ix->nterms; t++) ix->post_off[t + 1] = ix->post_off[t] + ix->df[t];
    size_t total = ix->post_off[ix->nterms];
    ix->post_doc = xmalloc((total ? total : 1) * sizeof *ix->post_doc);
    ix->post_imp = xmalloc((total ? total : 1) * sizeof *ix->post_imp);
    ix->maximp = xcalloc(ix->nterms ? ix->nterms : 1, sizeof *ix->maximp);
    size_t nblk = total / IX_BLOCK + ix->nterms + 1;
    ix->blk_max = xcalloc(nblk, sizeof *ix->blk_max);
    post_job j = {.ix = ix, .cur = xmalloc((ix->nterms ? ix->nterms : 1) * sizeof *j.cur)};
    memcpy(j.cur, ix->post_off, ix->nterms * sizeof *j.cur);
    int nt = nthreads_of(&ix->p);
    if (nt > POST_MAX_THREADS) nt = POST_MAX_THREADS;
    if (total < ((size_t)1 << 16)) nt = 1;   /* small: a thread costs more than it saves */
    post_split(ix, nt, j.split);
    j.nt = nt;
    atomic_init(&j.slot, 0);
    dp_run_threads(nt, post_run, &j);
    free(j.cur);
    ix->post_nterms = ix->nterms;
}

/* Merges each term's runs (ix_postings) into one list: a grown index
 * saved. The impacts are the runs', so the lists are those a build of
 * the same docs makes. */
void ix_postings_merge(const dindex *ix, dindex *out)
{
    size_t nt = ix->nterms;
    uint64_t *off = xmalloc((nt + 1) * sizeof *off);
    off[0] = 0;
    for (size_t t = 0; t < nt; t++) off[t + 1] = off[t] + ix->df[t];
    size_t total = off[nt];
    uint32_t *doc = xmalloc((total ? total : 1) * sizeof *doc);
    float *imp = xmalloc((total ? total : 1) * sizeof *imp);
    for (uint32_t t = 0; t < nt; t++) {
        ix_plist r[IX_MAX_RUNS];
        size_t nr = ix_postings(ix, t, r);
        uint64_t at = off[t];
        for (size_t i = 0; i < nr; i++) {
            memcpy(doc + at, r[i].doc, r[i].n * sizeof *doc);
            memcpy(imp + at, r[i].imp, r[i].n * sizeof *imp);
            at += r[i].n;
        }
    }
    out->post_off = off;
    out->post_doc = doc;
    out->post_imp = imp;
    out->post_nterms = nt;
    out->dl.nterm = 0;
    build_blocks(out);
}

/* Each field's average length over docs [0, n) as build_stats finds it:
 * summed in doc order, so a sum taken in two parts (index_append) is the
 * same double. */
static void live_avglen(const double sum[FIELD_COUNT], size_t n, double out[FIELD_COUNT])
{
    for (int f = 0; f < FIELD_COUNT; f++) {
        out[f] = n ? sum[f] / (double)n : 0;
        if (out[f] <= 0) out[f] = 1;
    }
}

/* The averages to score with (index.h, "Statistics of record"): the record
 * when there is one and every live average is within INDEX_RECORD_DRIFT of
 * it; else the live ones. 1 when the record was taken. */
static int choose_avglen(const double live[FIELD_COUNT], const double rec[FIELD_COUNT], double out[FIELD_COUNT])
{
    int use = 0;
    for (int f = 0; f < FIELD_COUNT; f++) use |= rec[f] != 0;
    for (int f = 0; use && f < FIELD_COUNT; f++)
        if (!(rec[f] > 0) || fabs(live[f] - rec[f]) > INDEX_RECORD_DRIFT * rec[f]) use = 0;
    memcpy(out, use ? rec : live, FIELD_COUNT * sizeof *out);
    return use;
}

static void len_sum(const dindex *ix, size_t lo, size_t hi, double sum[FIELD_COUNT])
{
    for (int f = 0; f < FIELD_COUNT; f++)
        for (size_t d = lo; d < hi; d++) sum[f] += ix->len[d][f];
}

static float idf_of(double N, double df) { return (float)log(1.0 + (N - df + 0.5) / (df + 0.5)); }

/* Most terms are rare (df 1 holds half of them): the idf of each small df
 * is computed once, the same expression, so the same float -- a log per
 * distinct df instead of per term (1.35M terms at 250k items). */
#define IDF_TABLE 4096
static void build_idf(dindex *ix)
{
    ix->idf = xmalloc((ix->nterms ? ix->nterms : 1) * sizeof *ix->idf);
    double N = (double)ix->n;
    float table[IDF_TABLE];
    for (uint32_t df = 0; df < IDF_TABLE; df++) table[df] = idf_of(N, df);
    for (size_t t = 0; t < ix->nterms; t++) {
        uint32_t df = ix->df[t];
        ix->idf[t] = df < IDF_TABLE ? table[df] : idf_of(N, df);
    }
}

/* Norms of docs [lo, n) into ix->norm (room for n). */
static void build_norms(dindex *ix, size_t lo)
{
    for (size_t d = lo; d < ix->n; d++)
        for (int f = 0; f < FIELD_COUNT; f++) ix->norm[d][f] = ix_norm(ix, f, ix->len[d][f]);
}

static void build_stats(dindex *ix)
{
    double sum[FIELD_COUNT] = {0}, live[FIELD_COUNT];
    len_sum(ix, 0, ix->n, sum);
    live_avglen(sum, ix->n, live);
    choose_avglen(live, ix->p.avglen_record, ix->avglen);
    ix->norm = xmalloc((ix->n ? ix->n : 1) * sizeof *ix->norm);
    build_norms(ix, 0);
    build_idf(ix);
}

void index_avglen(const dindex *ix, double out[FIELD_COUNT]) { memcpy(out, ix->avglen, sizeof ix->avglen); }

static int64_t find_sorted(const dindex *ix, const char *key);
static uint32_t key_tag(uint64_t h) { return (uint32_t)(h >> 32); }

/* The slot of ix->keys holding key (of hash h), or the empty slot its probe
 * ends on. The slot comes from the hash's lower bits, the tag from its
 * upper half: a probe past another key reads no item for it (a random
 * miss each at 250k items) but where the tags agree. */
static size_t keys_probe(const dindex *ix, const char *key, uint64_t h)
{
    uint32_t tag = key_tag(h);
    size_t s = dp_idxmap_first(&ix->keys, h);
    for (; ix->keys.slot[s]; s = dp_idxmap_step(&ix->keys, s))
        if (ix->ktag[s] == tag && strcmp(index_doc_key(ix, ix->keys.slot[s] - 1), key) == 0) break;
    return s;
}

void ix_build_keys(dindex *ix)
{
    dp_idxmap_reserve(&ix->keys, ix->n - ix->nmapped + 1, NULL, NULL);   /* empty: never rehashes */
    ix->ktag = xcalloc(ix->keys.cap, sizeof *ix->ktag);
    for (size_t d = ix->nmapped; d < ix->n; d++) {
        const char *k = index_doc_key(ix, (uint32_t)d);
        if (!k || (ix->ksort && find_sorted(ix, k) >= 0)) continue;   /* a file's doc comes first */
        uint64_t h = dp_hash_str(k);
        size_t s = keys_probe(ix, k, h);
        if (ix->keys.slot[s]) continue;   /* first doc wins */
        dp_idxmap_put(&ix->keys, s, (uint32_t)d);
        ix->ktag[s] = key_tag(h);
    }
}

/* Preloads the dictionary with the snapshot's terms, in bulk, so that their
 * ids are the snapshot's. The terms are distinct: we wrote them, and the
 * checksum says the bytes are those we wrote. */
static void dict_preload(dindex *ix, const ix_snap *sn)
{
    size_t n = sn->nterms;
    ix->tcap = n + n / 8 + 1024;   /* room for the terms of new docs */
    ix->toff = xmalloc(ix->tcap * sizeof *ix->toff);
    ix->thash = xmalloc(ix->tcap * sizeof *ix->thash);
    ix->df = xcalloc(ix->tcap, sizeof *ix->df);
    ix->tstr_cap = sn->terms_len + (1 << 20);
    ix->tstr = xmalloc(ix->tstr_cap);
    memcpy(ix->tstr, sn->terms, sn->terms_len);
    ix->tstr_len = sn->terms_len;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(ix->tstr + off);
        ix->toff[i] = off;
        ix->thash[i] = dp_hash(ix->tstr + off, len);
        off += len + 1;
    }
    ix->nterms = n;
    dict_rebuild(ix);
}

/* Template reuse rule (see index.h): the snapshot's template while the
 * repository grew by at most a tenth since it was learned; else relearn,
 * and the snapshot stays usable only if the template came out the same. */
static const ix_snap *choose_template(dindex *ix, const ix_snap *sn, index_snap_info *info)
{
    if (!ix->p.strip_templates) {
        ix->tpl_ndocs = ix->n;
        return sn;
    }
    if (sn && ix->n <= sn->tpl_ndocs + sn->tpl_ndocs / 10) {
        ix->tpl = text_template_from_hashes(sn->tpl, sn->ntpl);
        if (ix->tpl) {
            ix->tpl_ndocs = (size_t)sn->tpl_ndocs;
            return sn;
        }
    }
    learn_template(ix);
    ix->tpl_ndocs = ix->n;
    info->template_learned = 1;
    if (!sn) return NULL;
    size_t n;
    const uint64_t *h = text_template_hashes(ix->tpl, &n);
    if (n == sn->ntpl && (!n || memcmp(h, sn->tpl, n * sizeof *h) == 0)) return sn;
    info->unused_why = "the boilerplate template changed";
    return NULL;
}

int index_build_snap(const item *items, size_t n, const index_params *p, const void *snap,
                     size_t snaplen, dindex **out, index_snap_info *info_out, dp_err *err)
{
    index_snap_info info = {0};
    *out = NULL;
    if (n >= UINT32_MAX - 1) return dp_fail(err, "index: too many documents (%zu)", n);
    if (n && !items) return dp_fail(err, "index: no items");
    dindex *ix = xcalloc(1, sizeof *ix);
    ix->items = items;
    ix->n = n;
    if (p) ix->p = *p;
    else index_params_default(&ix->p);
    if (ix->p.k1 <= 0) { free(ix); return dp_fail(err, "index: k1 must be > 0"); }
    ix_snap sn;
    int opened = snap && ix_snap_open(&sn, snap, snaplen, &ix->p, &info.unused_why) == DP_OK;
    const ix_snap *use = opened ? &sn : NULL;
    use = choose_template(ix, use, &info);
    if (use) dict_preload(ix, use);
    ix->snap = use;
    ix->fields = xcalloc(n ? n : 1, sizeof *ix->fields);
    ix->sig = xcalloc(n ? n : 1, sizeof *ix->sig);
    ix->len = xcalloc(n ? n : 1, sizeof *ix->len);
    ix->chash = xcalloc(n ? n : 1, sizeof *ix->chash);
    ix->fwd_off = xcalloc(n + 1, sizeof *ix->fwd_off);
    tokenize_all(ix);
    ix->snap = NULL;
    if (opened) ix_snap_close(&sn);
    /* trim the growable arrays to size */
    size_t total = ix->fwd_off[n];
    ix->fwd_term = xrealloc(ix->fwd_term, (total ? total : 1) * sizeof *ix->fwd_term);
    ix->fwd_tf = xrealloc(ix->fwd_tf, (total ? total : 1) * sizeof *ix->fwd_tf);
    /* a block that grew past 32 MB is huge already (huge_grow: the kernel
     * skips its pages at once); a smaller one is collapsed here */
    dp_huge_pages(ix->fwd_term, total * sizeof *ix->fwd_term);
    dp_huge_pages(ix->fwd_tf, total * sizeof *ix->fwd_tf);
    dict_rebuild(ix);   /* at its final size */
    ix->toff = xrealloc(ix->toff, (ix->nterms ? ix->nterms : 1) * sizeof *ix->toff);
    ix->thash = xrealloc(ix->thash, (ix->nterms ? ix->nterms : 1) * sizeof *ix->thash);
    ix->df = xrealloc(ix->df, (ix->nterms ? ix->nterms : 1) * sizeof *ix->df);
    ix->tcap = ix->nterms;
    build_stats(ix);
    dp_huge_pages(ix->norm, n * sizeof *ix->norm);   /* per doc, read at random by scoring */
    dp_huge_pages(ix->len, n * sizeof *ix->len);
    dp_huge_pages(ix->fwd_off, (n + 1) * sizeof *ix->fwd_off);
    build_postings(ix);
    info.reused = ix->reused;
    info.analysed = n - ix->reused;
    if (info_out) *info_out = info;
    *out = ix;
    return DP_OK;
}

/* ---- appending to an index opened from a file (index.h) --------------------- */

/* A heap copy of the first n of p's elements, with room for cap. */
static void *dup_grow(const void *p, size_t n, size_t cap, size_t size)
{
    void *c = big_alloc(cap * size);
    if (n) memcpy(c, p, n * size);
    return c;
}

typedef struct append_job {
    dindex *ix;        /* the index being made */
    size_t lo, m;      /* docs [lo, lo + m) */
    ix_bag *bags;
    atomic_size_t next;
} append_job;

static void *append_run(void *arg)
{
    append_job *j = arg;
    text_tokenizer *tk = text_tokenizer_new(&j->ix->p.text);
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->m;) process_doc(j->ix, tk, j->lo + i, &j->bags[i]);
    text_tokenizer_free(tk);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The delta segment of nx (index.h, struct dindex): the postings of the
 * new docs [n0, n), grouped by term (a counting sort over the terms they
 * hold: docs stay ascending within a term), with block maxima; max
 * impacts raised by them, as build_postings finds them. O(new postings). */
static void build_delta(dindex *nx, size_t n0)
{
    size_t lo = nx->fwd_off[n0], np = nx->fwd_off[nx->n] - lo;
    uint32_t *terms = xmalloc((np ? np : 1) * sizeof *terms);
    memcpy(terms, nx->fwd_term + lo, np * sizeof *terms);
    qsort(terms, np, sizeof *terms, cmp_u32);
    size_t nd = 0;
    for (size_t i = 0; i < np; i++)
        if (!nd || terms[nd - 1] != terms[i]) terms[nd++] = terms[i];
    ix_delta *dl = &nx->dl;
    dl->term = terms;
    dl->nterm = nd;
    dl->off = xcalloc(nd + 1, sizeof *dl->off);
    for (size_t e = lo; e < lo + np; e++) dl->off[ix_delta_find(dl, nx->fwd_term[e]) + 1]++;
    for (size_t i = 0; i < nd; i++) dl->off[i + 1] += dl->off[i];
    dl->doc = xmalloc((np ? np : 1) * sizeof *dl->doc);
    dl->imp = xmalloc((np ? np : 1) * sizeof *dl->imp);
    dl->blk = xcalloc(np / IX_BLOCK + nd + 1, sizeof *dl->blk);
    uint64_t *cur = xmalloc((nd ? nd : 1) * sizeof *cur);
    memcpy(cur, dl->off, nd * sizeof *cur);
    for (size_t d = n0; d < nx->n; d++) {
        for (size_t e = nx->fwd_off[d]; e < nx->fwd_off[d + 1]; e++) {
            uint32_t t = nx->fwd_term[e];
            size_t k = ix_delta_find(dl, t);
            uint64_t at = cur[k]++;
            float imp = (float)ix_impact(nx, nx->fwd_tf[e], (uint32_t)d);
            dl->doc[at] = (uint32_t)d;
            dl->imp[at] = imp;
            if (imp > nx->maximp[t]) nx->maximp[t] = imp;
            float *bm = dl->blk + dl->off[k] / IX_BLOCK + k + (at - dl->off[k]) / IX_BLOCK;
            if (imp > *bm) *bm = imp;
        }
    }
    free(cur);
}

/* Frees ix's arrays that are neither in its file's mapping nor in a
 * copy-on-write region, then unmaps those regions. */
static void arrays_free(dindex *ix)
{
    void *a[] = {ix->len, ix->norm, ix->tstr, ix->toff, ix->thash, ix->df, ix->ht.slot, ix->idf, ix->maximp,
                 ix->post_off, ix->post_doc, ix->post_imp, ix->blk_max, ix->fwd_off, ix->fwd_term, ix->fwd_tf,
                 ix->chash};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (!ix_file_holds(ix, a[i])) free(a[i]);
    free(ix->dl.term);
    free(ix->dl.off);
    free(ix->dl.doc);
    free(ix->dl.imp);
    free(ix->dl.blk);
    memset(&ix->dl, 0, sizeof ix->dl);
    for (size_t i = 0; i < ix->ncow; i++) munmap(ix->cow[i].base, ix->cow[i].len);
    ix->ncow = 0;
}

/* Frees what index_append made for the new docs [n0, n) of nx when it
 * refuses them. */
static void append_undo(dindex *nx, size_t n0)
{
    for (size_t d = n0; d < nx->n; d++) {
        free(atomic_load(&nx->fields[d]));   /* compact: one block */
        text_signals_free(&nx->sig[d - n0]);
    }
    free(nx->fields);
    free(nx->sig);
    arrays_free(nx);   /* the grown ones; the rest are the file's */
}

/* ix's file array arr of n elements of size, grown to cap of them for nx:
 * the file's pages, copy on write (ix_file_grow: only the pages appending
 * writes are copied), else a copy in the heap. Entries past n are zero
 * in the first case only. */
static void *grow_arr(dindex *nx, const dindex *ix, const void *arr, size_t n, size_t cap, size_t size)
{
    void *p = ix_file_grow(nx, ix, arr, cap * size);
    return p ? p : dup_grow(arr, n, cap, size);
}

/* Appending costs O(new docs' postings) plus O(terms) for the idf (N
 * changed) and a few pages per grown array: the file's postings are not
 * copied (the new docs' go to the delta segment), and its other arrays
 * are copied only where the new docs write (grow_arr). */
int index_append(dindex *ix, const item *items, size_t ntotal, const char **why)
{
    size_t n0 = ix->n, m = ntotal - n0;
    *why = NULL;
    if (!ix->map || ix->owned || ix->nmapped != n0) *why = "the index was not opened from a file, or grew already";
    else if (ntotal < n0 || ntotal >= UINT32_MAX - 1) *why = "there are fewer items than docs, or too many";
    else if (ix->p.strip_templates && ntotal > ix->tpl_ndocs + ix->tpl_ndocs / 10)
        *why = "the repository grew by more than a tenth since the template was learned";
    else if (memcmp(ix->avglen, ix->p.avglen_record, sizeof ix->avglen) != 0)
        *why = "it was not built with the statistics of record";
    if (*why) return DP_ERR;
    dindex nx = *ix;
    atomic_init(&nx.bigram, NULL);   /* made again for the grown dictionary */
    nx.items = items;
    nx.n = ntotal;
    nx.snap = NULL;
    nx.ncow = 0;
    nx.chash = grow_arr(&nx, ix, ix->chash, n0, ntotal, sizeof *nx.chash);
    nx.len = grow_arr(&nx, ix, ix->len, n0, ntotal, sizeof *nx.len);
    nx.sig = xcalloc(m ? m : 1, sizeof *nx.sig);
    nx.fields = xcalloc(ntotal ? ntotal : 1, sizeof *nx.fields);
    for (size_t d = 0; d < n0; d++) atomic_init(&nx.fields[d], atomic_load(&ix->fields[d]));
    ix_bag *bags = xcalloc(m ? m : 1, sizeof *bags);
    append_job job = {.ix = &nx, .lo = n0, .m = m, .bags = bags};
    atomic_init(&job.next, 0);
    dp_run_threads(m < 64 ? 1 : nthreads_of(&nx.p), append_run, &job);
    /* the averages with the new docs, summed as a build sums them */
    size_t nnew = 0, slen = 0;
    for (size_t i = 0; i < m; i++) {
        memcpy(nx.len[n0 + i], bags[i].len, sizeof nx.len[0]);
        nnew += bags[i].n;
        slen += bags[i].str.len;
    }
    double sum[FIELD_COUNT] = {0}, live[FIELD_COUNT], use[FIELD_COUNT];
    len_sum(&nx, 0, ntotal, sum);
    live_avglen(sum, ntotal, live);
    if (!choose_avglen(live, ix->p.avglen_record, use)) {
        for (size_t i = 0; i < m; i++) ix_bag_free(&bags[i]);
        free(bags);
        append_undo(&nx, n0);
        *why = "the new items move the average field lengths beyond the statistics of record";
        return DP_ERR;
    }
    /* the dictionary and forward index, grown where the new docs write */
    size_t nt0 = ix->nterms;
    uint64_t np0 = ix->fwd_off[n0];
    nx.tcap = nt0 + nnew + 1;
    nx.toff = grow_arr(&nx, ix, ix->toff, nt0, nx.tcap, sizeof *nx.toff);
    nx.thash = grow_arr(&nx, ix, ix->thash, nt0, nx.tcap, sizeof *nx.thash);
    nx.df = grow_arr(&nx, ix, ix->df, nt0, nx.tcap, sizeof *nx.df);
    nx.maximp = grow_arr(&nx, ix, ix->maximp, nt0, nx.tcap, sizeof *nx.maximp);
    memset(nx.maximp + nt0, 0, (nx.tcap - nt0) * sizeof *nx.maximp);   /* raised by build_delta */
    nx.tstr_cap = ix->tstr_len + slen + 1;
    nx.tstr = grow_arr(&nx, ix, ix->tstr, ix->tstr_len, nx.tstr_cap, 1);
    /* The term hash grows in place when the new terms fit at its size: the
     * slots a build at the final size makes (the same capacity, terms put
     * in id order). Else it is rehashed in the heap, as a build does. */
    int rehash = (nx.tcap + 1) * 2 > ix->ht.cap;
    nx.ht.slot = rehash ? dup_grow(ix->ht.slot, ix->ht.cap, ix->ht.cap, sizeof *nx.ht.slot)
                        : grow_arr(&nx, ix, ix->ht.slot, ix->ht.cap, ix->ht.cap, sizeof *nx.ht.slot);
    nx.fwd_off = grow_arr(&nx, ix, ix->fwd_off, n0 + 1, ntotal + 1, sizeof *nx.fwd_off);
    size_t fcap = np0 + nnew;
    nx.fwd_term = grow_arr(&nx, ix, ix->fwd_term, np0, fcap, sizeof *nx.fwd_term);
    nx.fwd_tf = grow_arr(&nx, ix, ix->fwd_tf, np0, fcap, sizeof *nx.fwd_tf);
    intern_st in = {NULL, 0, 0};
    for (size_t i = 0; i < m; i++) {
        intern_doc(&nx, n0 + i, &bags[i], &in.tmp, &in.tmpcap, &fcap);
        ix_bag_free(&bags[i]);
    }
    free(in.tmp);
    free(bags);
    if (rehash) dict_rebuild(&nx);   /* at its final size, as a build leaves it */
    build_idf(&nx);                  /* every idf moves with N */
    nx.norm = grow_arr(&nx, ix, ix->norm, n0, ntotal, sizeof *nx.norm);
    build_norms(&nx, n0);
    build_delta(&nx, n0);
    ix_build_keys(&nx);
    nx.owned = 1;
    free(ix->fields);   /* its fields moved to nx */
    free((void *)atomic_load(&ix->bigram));
    *ix = nx;
    return DP_OK;
}

int index_build(const item *items, size_t n, const index_params *p, dindex **out, dp_err *err)
{
    return index_build_snap(items, n, p, NULL, 0, out, NULL, err);
}

void index_free(dindex *ix)
{
    if (!ix) return;
    for (size_t d = 0; d < ix->n; d++) {
        free(atomic_load_explicit(&ix->fields[d], memory_order_acquire));   /* compact: one block */
        if (ix->sig && d >= ix->nmapped) text_signals_free(&ix->sig[d - ix->nmapped]);
    }
    free(ix->fields);
    free(ix->sig);
    text_template_free(ix->tpl);
    dp_idxmap_free(&ix->keys);
    free(ix->ktag);
    free((void *)atomic_load(&ix->bigram));
    arrays_free(ix);   /* those of a build or grown: the file's stay with its mapping */
    if (ix->map) ix_file_unmap(ix);
    free(ix);
}

void index_fields_release(dindex *ix)
{
    for (size_t d = 0; d < ix->n; d++)
        free(atomic_exchange_explicit(&ix->fields[d], NULL, memory_order_acq_rel));   /* compact: one block */
}

/* Whether the postings are the build's own heap arrays. */
static int postings_owned(const dindex *ix) { return !ix->map && !ix->dl.nterm && ix->post_doc; }

/* The bytes of npost postings over nterms terms, laid out as a build lays
 * them out: docs and impacts, and the block maxima (ix_blk_base: one slot
 * per IX_BLOCK postings and one more per term, and one at the end). */
static size_t lists_bytes(size_t npost, size_t nterms)
{
    return npost * (sizeof(uint32_t) + sizeof(float)) + (npost / IX_BLOCK + nterms + 1) * sizeof(float);
}

size_t index_postings_bytes(const dindex *ix)
{
    if (!postings_owned(ix)) return 0;
    return lists_bytes(ix->post_off[ix->post_nterms], ix->post_nterms);
}

size_t index_save_bytes(const dindex *ix)
{
    size_t nt = ix->nterms;
    if (!ix->dl.nterm && ix->post_nterms == nt) return 0;
    /* every posting, as merged, and the merged lists' offsets */
    return lists_bytes(ix->fwd_off[ix->n], nt) + (nt + 1) * sizeof *ix->post_off;
}

void index_postings_release(dindex *ix)
{
    if (!postings_owned(ix)) return;   /* a file's lists are its mapping's; a grown one keeps its */
    free(ix->post_doc);
    free(ix->post_imp);
    free(ix->blk_max);
    ix->post_doc = NULL;
    ix->post_imp = NULL;
    ix->blk_max = NULL;
    ix->post_nterms = 0;   /* ix_postings: no list left to read */
}

/* ---- accessors ---------------------------------------------------------------- */

size_t index_ndocs(const dindex *ix) { return ix->n; }
const item *index_item(const dindex *ix, uint32_t doc) { return doc < ix->n && ix->items ? &ix->items[doc] : NULL; }
const text_fields *index_doc_fields(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return NULL;
    text_fields *tf = atomic_load_explicit(&ix->fields[doc], memory_order_acquire);
    if (tf) return tf;
    text_fields *mine = fields_split(&ix->items[doc], ix->tpl);
    text_fields *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&ix->fields[doc], &expected, mine, memory_order_acq_rel,
                                                memory_order_acquire))
        return mine;
    free(mine);   /* another thread was first: use its copy */
    return expected;
}
int index_doc_fields_held(const dindex *ix, uint32_t doc)
{
    return doc < ix->n && atomic_load_explicit(&ix->fields[doc], memory_order_acquire) != NULL;
}
const text_signals *index_doc_signals(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return NULL;
    return doc < ix->nmapped ? ix_file_signals(ix, doc) : &ix->sig[doc - ix->nmapped];
}
const text_template *index_template(const dindex *ix) { return ix->tpl; }
size_t index_nterms(const dindex *ix) { return ix->nterms; }

/* In a mapped file's key order: the first doc whose key is key, or -1. */
static int64_t find_sorted(const dindex *ix, const char *key)
{
    size_t lo = 0, hi = ix->nksort;
    while (lo < hi) {   /* the first with a key >= key */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->kstr + ix->koff[ix->ksort[mid]], key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < ix->nksort && !strcmp(ix->kstr + ix->koff[ix->ksort[lo]], key) ? (int64_t)ix->ksort[lo] : -1;
}

/* A built index has a hash of its keys (ix_build_keys); one opened from a
 * file searches its sorted keys instead (building the hash costs more than
 * the few lookups of a reader), and a grown one those, then the hash of its
 * new docs' keys: a file's doc comes before every new one. */
int64_t index_find(const dindex *ix, const char *key)
{
    if (!key) return -1;
    if (ix->ksort) {
        int64_t d = find_sorted(ix, key);
        if (d >= 0) return d;
    }
    if (!ix->keys.cap) return -1;
    size_t s = keys_probe(ix, key, dp_hash_str(key));
    return ix->keys.slot[s] ? (int64_t)(ix->keys.slot[s] - 1) : -1;
}

const char *index_doc_key(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return NULL;
    if (doc < ix->nmapped) return ix->koff[doc] == UINT64_MAX ? NULL : ix->kstr + ix->koff[doc];
    return ix->items[doc].key;
}

int64_t index_doc_rowid(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return 0;
    return doc < ix->nmapped ? ix->rowid[doc] : ix->items[doc].rowid;
}

int64_t index_doc_created(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return 0;
    if (doc < ix->nmapped) return ix->created ? ix->created[doc] : 0;
    return ix->items[doc].created_at;
}

void index_items_attach(dindex *ix, const item *items) { ix->items = items; }
uint64_t index_item_hash(const item *it) { return ix_item_hash(it); }
uint64_t index_doc_hash(const dindex *ix, uint32_t doc) { return doc < ix->n ? ix->chash[doc] : 0; }

const char *index_term_str(const dindex *ix, uint32_t term)
{
    return term < ix->nterms ? ix->tstr + ix->toff[term] : NULL;
}

double index_idf(const dindex *ix, uint32_t term)
{
    return term < ix->nterms ? ix->idf[term] : 0.0;
}

uint32_t index_df(const dindex *ix, uint32_t term)
{
    return term < ix->nterms ? ix->df[term] : 0;
}

void index_doc_prefetch(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return;
    __builtin_prefetch(&ix->fwd_off[doc]);
    __builtin_prefetch(&ix->len[doc]);
    __builtin_prefetch(&ix->norm[doc]);
}

void index_doc_terms_prefetch(const index_doc_terms *dt)
{
    if (!dt->n) return;
    __builtin_prefetch(dt->terms);
    __builtin_prefetch(dt->terms + 16);
    __builtin_prefetch(dt->tf);
    __builtin_prefetch(dt->tf + 8);
}

void index_doc_terms_get(const dindex *ix, uint32_t doc, index_doc_terms *out)
{
    if (doc >= ix->n) {
        memset(out, 0, sizeof *out);
        return;
    }
    size_t a = ix->fwd_off[doc];
    out->terms = ix->fwd_term + a;
    out->tf = (const uint16_t(*)[FIELD_COUNT])(ix->fwd_tf + a);
    out->n = ix->fwd_off[doc + 1] - a;
    out->len = ix->len[doc];
}
