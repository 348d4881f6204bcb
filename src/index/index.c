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

static void process_doc(dindex *ix, text_tokenizer *tk, size_t d, ix_bag *b)
{
    ix->chash[d] = ix_item_hash(&ix->items[d]);
    if (ix->snap) {
        const ix_snap_doc *sd = ix_snap_find(ix->snap, ix->items[d].key, ix->chash[d]);
        if (sd && ix_snap_decode(ix->snap, sd, &ix->sig[d], b) == DP_OK) return;
    }
    ix_bag_reset(b);
    text_fields *tf = xmalloc(sizeof *tf);
    text_split(&ix->items[d], ix->tpl, tf);
    text_signals_extract(tf, &ix->sig[d]);
    ix_bag_fill(b, tk, tf, ix->p.bigrams);
    if (ix->p.drop_fields) {   /* split again on use, from the same item and template */
        text_fields_free(tf);
        free(tf);
        return;
    }
    atomic_store_explicit(&ix->fields[d], tf, memory_order_release);
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

typedef struct fwd_tmp { uint32_t term, idx; } fwd_tmp;

static int cmp_fwd(const void *a, const void *b)
{
    const fwd_tmp *x = a, *y = b;
    return x->term < y->term ? -1 : x->term > y->term;
}

/* Interns one doc's bag and appends its forward entries. */
static void intern_doc(dindex *ix, size_t d, const ix_bag *b, fwd_tmp **tmp, size_t *tmpcap,
                       size_t *fcap)
{
    if (b->n > *tmpcap) {
        *tmpcap = b->n * 2;
        *tmp = xrealloc(*tmp, *tmpcap * sizeof **tmp);
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->reused) {   /* already ids of the dictionary, ascending */
            (*tmp)[i].term = b->ids[i];
        } else {
            const char *s = b->str.s + b->off[i];
            (*tmp)[i].term = dict_intern(ix, s, strlen(s), b->hash[i]);
        }
        (*tmp)[i].idx = (uint32_t)i;
    }
    if (b->reused) ix->reused++;
    else if (b->n) qsort(*tmp, b->n, sizeof **tmp, cmp_fwd);   /* an empty doc has no buffer */
    size_t at = ix->fwd_off[d];
    if (at + b->n > *fcap) {
        while (at + b->n > *fcap) *fcap = *fcap ? *fcap * 2 : 1 << 20;
        ix->fwd_term = xrealloc(ix->fwd_term, *fcap * sizeof *ix->fwd_term);
        ix->fwd_tf = xrealloc(ix->fwd_tf, *fcap * sizeof *ix->fwd_tf);
    }
    for (size_t i = 0; i < b->n; i++) {
        uint32_t t = (*tmp)[i].term;
        ix->fwd_term[at + i] = t;
        memcpy(ix->fwd_tf[at + i], b->tf[(*tmp)[i].idx], sizeof ix->fwd_tf[0]);
        ix->df[t]++;
    }
    ix->fwd_off[d + 1] = at + b->n;
    memcpy(ix->len[d], b->len, sizeof ix->len[d]);
}

static void learn_template(dindex *ix)
{
    const char **bodies = xmalloc((ix->n ? ix->n : 1) * sizeof *bodies);
    for (size_t i = 0; i < ix->n; i++) bodies[i] = ix->items[i].body ? ix->items[i].body : "";
    ix->tpl = text_template_learn(bodies, ix->n);
    free(bodies);
}

static int nthreads_of(const index_params *p)
{
    int n = dp_threads(p->threads);
    return n > 64 ? 64 : n;
}

/* Interning state of the calling thread. */
typedef struct intern_st {
    fwd_tmp *tmp;
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

static void build_postings(dindex *ix)
{
    ix->post_off = xmalloc((ix->nterms + 1) * sizeof *ix->post_off);
    ix->post_off[0] = 0;
    for (size_t t = 0; t < ix->nterms; t++) ix->post_off[t + 1] = ix->post_off[t] + ix->df[t];
    size_t total = ix->post_off[ix->nterms];
    ix->post_doc = xmalloc((total ? total : 1) * sizeof *ix->post_doc);
    ix->post_imp = xmalloc((total ? total : 1) * sizeof *ix->post_imp);
    ix->maximp = xcalloc(ix->nterms ? ix->nterms : 1, sizeof *ix->maximp);
    uint64_t *cur = xmalloc((ix->nterms ? ix->nterms : 1) * sizeof *cur);
    memcpy(cur, ix->post_off, ix->nterms * sizeof *cur);
    for (size_t d = 0; d < ix->n; d++) {
        for (size_t e = ix->fwd_off[d]; e < ix->fwd_off[d + 1]; e++) {
            uint32_t t = ix->fwd_term[e];
            float imp = (float)ix_impact(ix, ix->fwd_tf[e], (uint32_t)d);
            uint64_t at = cur[t]++;
            ix->post_doc[at] = (uint32_t)d;
            ix->post_imp[at] = imp;
            if (imp > ix->maximp[t]) ix->maximp[t] = imp;
        }
    }
    free(cur);
    size_t nblk = total / IX_BLOCK + ix->nterms + 1;
    ix->blk_max = xcalloc(nblk, sizeof *ix->blk_max);
    for (uint32_t t = 0; t < ix->nterms; t++) {
        float *bm = ix->blk_max + ix_blk_base(ix, t);
        for (uint64_t i = 0; i < ix->df[t]; i++) {
            float imp = ix->post_imp[ix->post_off[t] + i];
            if (imp > bm[i / IX_BLOCK]) bm[i / IX_BLOCK] = imp;
        }
    }
}

static void build_stats(dindex *ix)
{
    for (int f = 0; f < FIELD_COUNT; f++) {
        double s = 0;
        for (size_t d = 0; d < ix->n; d++) s += ix->len[d][f];
        ix->avglen[f] = ix->n ? s / (double)ix->n : 0;
        if (ix->avglen[f] <= 0) ix->avglen[f] = 1;
    }
    ix->norm = xmalloc((ix->n ? ix->n : 1) * sizeof *ix->norm);
    for (size_t d = 0; d < ix->n; d++)
        for (int f = 0; f < FIELD_COUNT; f++) ix->norm[d][f] = ix_norm(ix, f, ix->len[d][f]);
    ix->idf = xmalloc((ix->nterms ? ix->nterms : 1) * sizeof *ix->idf);
    double N = (double)ix->n;
    for (size_t t = 0; t < ix->nterms; t++) {
        double df = ix->df[t];
        ix->idf[t] = (float)log(1.0 + (N - df + 0.5) / (df + 0.5));
    }
}

void ix_build_keys(dindex *ix)
{
    dp_idxmap_reserve(&ix->keys, ix->n + 1, NULL, NULL);   /* empty: never rehashes */
    for (size_t d = 0; d < ix->n; d++) {
        const char *k = ix->items[d].key;
        if (k && index_find(ix, k) < 0) {   /* first doc wins */
            size_t s = dp_idxmap_first(&ix->keys, dp_hash_str(k));
            while (ix->keys.slot[s]) s = dp_idxmap_step(&ix->keys, s);
            dp_idxmap_put(&ix->keys, s, (uint32_t)d);
        }
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
    dict_rebuild(ix);   /* at its final size */
    ix->toff = xrealloc(ix->toff, (ix->nterms ? ix->nterms : 1) * sizeof *ix->toff);
    ix->thash = xrealloc(ix->thash, (ix->nterms ? ix->nterms : 1) * sizeof *ix->thash);
    ix->df = xrealloc(ix->df, (ix->nterms ? ix->nterms : 1) * sizeof *ix->df);
    ix->tcap = ix->nterms;
    build_stats(ix);
    build_postings(ix);
    ix_build_keys(ix);
    info.reused = ix->reused;
    info.analysed = n - ix->reused;
    if (info_out) *info_out = info;
    *out = ix;
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
        text_fields *tf = atomic_load_explicit(&ix->fields[d], memory_order_acquire);
        if (tf) {
            text_fields_free(tf);
            free(tf);
        }
        if (ix->sig) text_signals_free(&ix->sig[d]);
    }
    free(ix->fields);
    free(ix->sig);
    text_template_free(ix->tpl);
    dp_idxmap_free(&ix->keys);
    if (ix->map) {   /* the rest lives in the mapping (index_file.c) */
        ix_file_unmap(ix);
        free(ix);
        return;
    }
    free(ix->len);
    free(ix->norm);
    free(ix->tstr);
    free(ix->toff);
    free(ix->thash);
    free(ix->df);
    dp_idxmap_free(&ix->ht);
    free(ix->idf);
    free(ix->maximp);
    free(ix->post_off);
    free(ix->post_doc);
    free(ix->post_imp);
    free(ix->blk_max);
    free(ix->fwd_off);
    free(ix->fwd_term);
    free(ix->fwd_tf);
    free(ix->chash);
    free(ix);
}

void index_fields_release(dindex *ix)
{
    for (size_t d = 0; d < ix->n; d++) {
        text_fields *tf = atomic_exchange_explicit(&ix->fields[d], NULL, memory_order_acq_rel);
        if (tf) {
            text_fields_free(tf);
            free(tf);
        }
    }
}

/* ---- accessors ---------------------------------------------------------------- */

size_t index_ndocs(const dindex *ix) { return ix->n; }
const item *index_item(const dindex *ix, uint32_t doc) { return doc < ix->n && ix->items ? &ix->items[doc] : NULL; }
const text_fields *index_doc_fields(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return NULL;
    text_fields *tf = atomic_load_explicit(&ix->fields[doc], memory_order_acquire);
    if (tf) return tf;
    text_fields *mine = xmalloc(sizeof *mine);
    text_split(&ix->items[doc], ix->tpl, mine);
    text_fields *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&ix->fields[doc], &expected, mine, memory_order_acq_rel,
                                                memory_order_acquire))
        return mine;
    text_fields_free(mine);   /* another thread was first: use its copy */
    free(mine);
    return expected;
}
const text_signals *index_doc_signals(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return NULL;
    return ix->sig ? &ix->sig[doc] : ix_file_signals(ix, doc);
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

int64_t index_find(const dindex *ix, const char *key)
{
    if (key && ix->ksort) return find_sorted(ix, key);
    if (!key || !ix->keys.cap) return -1;
    for (size_t s = dp_idxmap_first(&ix->keys, dp_hash_str(key)); ix->keys.slot[s]; s = dp_idxmap_step(&ix->keys, s)) {
        uint32_t d = ix->keys.slot[s] - 1;
        if (strcmp(ix->items[d].key, key) == 0) return d;
    }
    return -1;
}

const char *index_doc_key(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return NULL;
    if (ix->koff) return ix->koff[doc] == UINT64_MAX ? NULL : ix->kstr + ix->koff[doc];
    return ix->items[doc].key;
}

int64_t index_doc_rowid(const dindex *ix, uint32_t doc)
{
    if (doc >= ix->n) return 0;
    return ix->rowid ? ix->rowid[doc] : ix->items[doc].rowid;
}

void index_items_attach(dindex *ix, const item *items) { ix->items = items; }

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
