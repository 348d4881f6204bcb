/* eval_protocol.c -- the evaluation protocol (see eval.h): duplicate groups,
 * queries, the chronological split, in-run training, and ranking every test
 * query with the learned ranker and the BM25 baseline on worker threads. */
#include "eval.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const int eval_recall_k[4] = {1, 5, 10, 20};

void eval_opts_default(eval_opts *o)
{
    o->window_days = 365;
    o->split = 0.8;
    o->model = NULL;
    o->threads = 0;
    o->negatives = EVAL_NEGATIVES;
}

void eval_pairs_add(eval_pairs *p, const char *a, const char *b)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->a = xrealloc(p->a, p->cap * sizeof *p->a);
        p->b = xrealloc(p->b, p->cap * sizeof *p->b);
    }
    p->a[p->n] = xstrdup(a);
    p->b[p->n] = xstrdup(b);
    p->n++;
}

void eval_pairs_free(eval_pairs *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->a[i]);
        free(p->b[i]);
    }
    free(p->a);
    free(p->b);
    memset(p, 0, sizeof *p);
}

/* ---- the prepared repository ------------------------------------------ */

typedef struct repo_state {
    const eval_data *d;
    dindex *ix, *base;
    uint32_t *group;            /* union-find parent per doc */
    uint32_t *gsize;            /* members per group root */
    uint32_t *queries;          /* docs that have an earlier group member, ascending */
    size_t nqueries;
    uint32_t *rel_off, *rel_nb; /* CSR of related links to earlier docs */
    uint32_t *rel_queries;
    size_t nrel;
    int window_days;
} repo_state;

static uint32_t uf_find(uint32_t *p, uint32_t x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

static void uf_union(uint32_t *p, uint32_t a, uint32_t b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b) p[a > b ? a : b] = a < b ? a : b;   /* root = oldest doc */
}

static uint32_t window_lo(const repo_state *rs, uint32_t qdoc)
{
    if (rs->window_days <= 0) return 0;
    int64_t t = rs->d->items[qdoc].created_at - (int64_t)rs->window_days * 86400;
    uint32_t lo = 0, hi = qdoc;
    while (lo < hi) {   /* first doc created at or after t */
        uint32_t mid = lo + (hi - lo) / 2;
        if (rs->d->items[mid].created_at < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int is_target(const repo_state *rs, uint32_t qdoc, uint32_t c)
{
    return c < qdoc && uf_find(rs->group, c) == uf_find(rs->group, qdoc);
}

static int is_related(const repo_state *rs, uint32_t qdoc, uint32_t c)
{
    for (uint32_t i = rs->rel_off[qdoc]; i < rs->rel_off[qdoc + 1]; i++)
        if (rs->rel_nb[i] == c) return 1;
    return 0;
}

/* Any answer inside the window? Queries without one cannot be scored. */
static int answerable(const repo_state *rs, uint32_t qdoc, int related)
{
    uint32_t lo = window_lo(rs, qdoc);
    if (related) {
        for (uint32_t i = rs->rel_off[qdoc]; i < rs->rel_off[qdoc + 1]; i++)
            if (rs->rel_nb[i] >= lo) return 1;
        return 0;
    }
    for (uint32_t c = lo; c < qdoc; c++)
        if (is_target(rs, qdoc, c)) return 1;
    return 0;
}

static void build_groups(repo_state *rs)
{
    const eval_data *d = rs->d;
    size_t n = d->nitems;
    rs->group = xmalloc((n ? n : 1) * sizeof *rs->group);
    for (size_t i = 0; i < n; i++) rs->group[i] = (uint32_t)i;
    if (d->truth) {
        for (size_t i = 0; i < d->truth->n; i++) {
            int64_t a = index_find(rs->ix, d->truth->a[i]), b = index_find(rs->ix, d->truth->b[i]);
            if (a >= 0 && b >= 0) uf_union(rs->group, (uint32_t)a, (uint32_t)b);
        }
    } else {
        for (size_t i = 0; i < d->nlinks; i++) {
            if (d->links[i].type != LINK_DUPLICATE) continue;
            int64_t a = index_find(rs->ix, d->links[i].src_key);
            int64_t b = index_find(rs->ix, d->links[i].dst_key);
            if (a >= 0 && b >= 0) uf_union(rs->group, (uint32_t)a, (uint32_t)b);
        }
    }
    rs->queries = xmalloc((n ? n : 1) * sizeof *rs->queries);
    rs->gsize = xcalloc(n ? n : 1, sizeof *rs->gsize);
    for (size_t i = 0; i < n; i++) {   /* the root is the oldest member */
        uint32_t root = uf_find(rs->group, (uint32_t)i);
        rs->gsize[root]++;
        if (root != i) rs->queries[rs->nqueries++] = (uint32_t)i;
    }
}

/* No-duplicate queries among docs [lo, hi): issues outside every duplicate
 * group that have a candidate, `want` of them evenly spread in time (the
 * same docs on every run). *population: issues of [lo, hi) with a
 * candidate and no known earlier duplicate, which the sample stands for.
 * Returns the number written to *out (owned). */
static size_t sample_negatives(const repo_state *rs, uint32_t lo, uint32_t hi, size_t want,
                               uint32_t **out, size_t *population)
{
    size_t cap = hi > lo ? hi - lo : 1, ne = 0, pop = 0;
    uint32_t *elig = xmalloc(cap * sizeof *elig);
    for (uint32_t d = lo; d < hi; d++) {
        uint32_t root = uf_find(rs->group, d);
        if (root != d || window_lo(rs, d) >= d) continue;   /* a known duplicate, or no candidate */
        pop++;
        if (rs->gsize[root] == 1) elig[ne++] = d;
    }
    *population = pop;
    size_t n = want < ne ? want : ne;
    *out = xmalloc((n ? n : 1) * sizeof **out);
    for (size_t j = 0; j < n; j++) (*out)[j] = elig[(size_t)(((double)j + 0.5) * (double)ne / (double)n)];
    free(elig);
    return n;
}

/* Related: non-duplicate links, to earlier docs outside the query's group. */
static void build_related(repo_state *rs)
{
    const eval_data *d = rs->d;
    size_t n = d->nitems;
    rs->rel_off = xcalloc(n + 1, sizeof *rs->rel_off);
    uint32_t(*e)[2] = xmalloc((d->nlinks ? d->nlinks : 1) * sizeof *e);
    size_t ne = 0;
    for (size_t i = 0; i < d->nlinks; i++) {
        if (d->links[i].type != LINK_RELATED) continue;
        int64_t a = index_find(rs->ix, d->links[i].src_key), b = index_find(rs->ix, d->links[i].dst_key);
        if (a < 0 || b < 0 || a == b) continue;
        uint32_t q = (uint32_t)(a > b ? a : b), c = (uint32_t)(a > b ? b : a);
        if (is_target(rs, q, c)) continue;
        e[ne][0] = q;
        e[ne][1] = c;
        rs->rel_off[q + 1]++;
        ne++;
    }
    for (size_t i = 0; i < n; i++) rs->rel_off[i + 1] += rs->rel_off[i];
    rs->rel_nb = xmalloc((ne ? ne : 1) * sizeof *rs->rel_nb);
    uint32_t *fill = xmalloc((n ? n : 1) * sizeof *fill);
    memcpy(fill, rs->rel_off, n * sizeof *fill);
    for (size_t i = 0; i < ne; i++) rs->rel_nb[fill[e[i][0]]++] = e[i][1];
    free(fill);
    free(e);
    rs->rel_queries = xmalloc((n ? n : 1) * sizeof *rs->rel_queries);
    for (size_t i = 0; i < n; i++)
        if (rs->rel_off[i + 1] > rs->rel_off[i]) rs->rel_queries[rs->nrel++] = (uint32_t)i;
}

static void baseline_params(index_params *p)
{
    index_params_default(p);
    p->k1 = 1.2;
    for (int f = 0; f < FIELD_COUNT; f++) {
        p->b[f] = 0.75;
        p->weight[f] = 1.0;
    }
    p->weight[FIELD_LABELS] = 0.0;   /* title + body only */
    p->bigrams = 0;
    p->strip_templates = 0;
    p->text.stem = 0;
    p->text.stopwords = 1;
    p->text.code_split = 0;
}

static void repo_free(repo_state *rs)
{
    index_free(rs->ix);
    index_free(rs->base);
    free(rs->group);
    free(rs->gsize);
    free(rs->queries);
    free(rs->rel_off);
    free(rs->rel_nb);
    free(rs->rel_queries);
}

static int repo_prepare(const eval_data *d, const eval_opts *o, int with_base, repo_state *rs,
                        dp_err *err)
{
    memset(rs, 0, sizeof *rs);
    rs->d = d;
    rs->window_days = o->window_days;
    for (size_t i = 1; i < d->nitems; i++)
        if (d->items[i].created_at < d->items[i - 1].created_at)
            return dp_fail(err, "%s: items are not sorted by creation time", d->name);
    index_params p;
    index_params_default(&p);
    p.threads = o->threads;
    if (index_build(d->items, d->nitems, &p, &rs->ix, err) != DP_OK) return DP_ERR;
    if (with_base) {
        baseline_params(&p);
        p.threads = o->threads;
        if (index_build(d->items, d->nitems, &p, &rs->base, err) != DP_OK) {
            repo_free(rs);
            return DP_ERR;
        }
    }
    build_groups(rs);
    build_related(rs);
    return DP_OK;
}

/* ---- worker threads ------------------------------------------------------ */

typedef enum { JOB_COLLECT, JOB_EVAL, JOB_RELATED, JOB_NEG } job_kind;

typedef struct job {
    job_kind kind;
    const repo_state *rs;
    const match_ctx *ctx;
    const uint32_t *queries;
    size_t n;
    size_t next;                /* shared cursor */
    pthread_mutex_t mu;
    /* outputs, one slot per query */
    match_hit **pools;          /* JOB_COLLECT: pool rows */
    size_t *npool;
    eval_query *res;            /* JOB_EVAL / JOB_RELATED / JOB_NEG */
} job;

static int rank_of_target(const repo_state *rs, int related, uint32_t qdoc, const uint32_t *docs,
                          size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (related ? is_related(rs, qdoc, docs[i]) : is_target(rs, qdoc, docs[i]))
            return (int)i + 1;
    return 0;
}

/* BM25F rank of the best answer among all candidates (for the worst-miss
 * list: how far down the right one was). Also picks that answer. */
static int full_rank(const repo_state *rs, const index_query *q, uint32_t qdoc, uint32_t lo,
                     uint32_t *target)
{
    double best = -1;
    for (uint32_t c = lo; c < qdoc; c++)
        if (is_target(rs, qdoc, c)) {
            double s = index_score(rs->ix, q, c);
            if (s > best) {
                best = s;
                *target = c;
            }
        }
    int rank = 1;
    for (uint32_t c = lo; c < qdoc; c++)
        if (c != *target && index_score(rs->ix, q, c) > best) rank++;
    return rank;
}

static void top_of(const repo_state *rs, uint32_t qdoc, const match_hit *hits, size_t n,
                   eval_query *r)
{
    r->ntop = (int)(n < MATCH_CALIB_TOP ? n : MATCH_CALIB_TOP);
    for (int k = 0; k < r->ntop; k++) {
        r->top_prob[k] = hits[k].prob;
        r->top_true[k] = (unsigned char)is_target(rs, qdoc, hits[k].doc);
        r->top_same_kind[k] =
            (unsigned char)(index_item(rs->ix, qdoc)->kind == index_item(rs->ix, hits[k].doc)->kind);
    }
}

static void neg_one(const repo_state *rs, uint32_t qdoc, const match_hit *hits, size_t n,
                    eval_query *r)
{
    top_of(rs, qdoc, hits, n, r);
    const item *qi = &rs->d->items[qdoc];
    r->key = xstrdup(qi->key);
    r->query_title = xstrdup(qi->title);
    r->created_at = qi->created_at;
    if (n) {
        r->target = xstrdup(rs->d->items[hits[0].doc].key);
        r->target_title = xstrdup(rs->d->items[hits[0].doc].title);
    }
}

static void eval_one(job *jb, size_t i)
{
    const repo_state *rs = jb->rs;
    uint32_t qdoc = jb->queries[i], lo = window_lo(rs, qdoc);
    int related = jb->kind == JOB_RELATED;
    match_query mq;
    match_query_from_doc(jb->ctx, qdoc, &mq);
    match_hit hits[MATCH_POOL];
    size_t n = match_rank_query(jb->ctx, &mq, lo, qdoc, MATCH_POOL, hits);
    if (jb->kind == JOB_COLLECT) {
        jb->pools[i] = xmalloc((n ? n : 1) * sizeof *hits);
        memcpy(jb->pools[i], hits, n * sizeof *hits);
        jb->npool[i] = n;
        match_query_free(&mq);
        return;
    }
    eval_query *r = &jb->res[i];
    if (jb->kind == JOB_NEG) {   /* every suggestion is false: only the decisions matter */
        neg_one(rs, qdoc, hits, n, r);
        match_query_free(&mq);
        return;
    }
    uint32_t docs[MATCH_POOL];
    for (size_t k = 0; k < n; k++) docs[k] = hits[k].doc;
    r->rank = rank_of_target(rs, related, qdoc, docs, n);
    index_query bq;
    index_query_from_doc(rs->base, qdoc, &bq);
    index_hit bh[MATCH_POOL];
    size_t bn = index_topk(rs->base, &bq, lo, qdoc, qdoc, MATCH_POOL, bh);
    for (size_t k = 0; k < bn; k++) docs[k] = bh[k].doc;
    r->base_rank = rank_of_target(rs, related, qdoc, docs, bn);
    index_query_free(&bq);
    if (!related) {
        top_of(rs, qdoc, hits, n, r);
        uint32_t target = UINT32_MAX;
        if (r->rank) {
            target = hits[r->rank - 1].doc;
            r->target_bm25_rank = hits[r->rank - 1].bm25_rank + 1;
        } else {
            r->target_bm25_rank = full_rank(rs, mq.q, qdoc, lo, &target);
        }
        const item *qi = &rs->d->items[qdoc];
        r->key = xstrdup(qi->key);
        r->query_title = xstrdup(qi->title);
        r->created_at = qi->created_at;
        if (target != UINT32_MAX) {
            r->target = xstrdup(rs->d->items[target].key);
            r->target_title = xstrdup(rs->d->items[target].title);
        }
    }
    match_query_free(&mq);
}

static void *worker(void *arg)
{
    job *jb = arg;
    for (;;) {
        pthread_mutex_lock(&jb->mu);
        size_t i = jb->next++;
        pthread_mutex_unlock(&jb->mu);
        if (i >= jb->n) return NULL;
        eval_one(jb, i);
    }
}

static void run_job(job *jb, int threads)
{
    pthread_mutex_init(&jb->mu, NULL);
    jb->next = 0;
    dp_run_threads(dp_threads(threads), worker, jb);
    pthread_mutex_destroy(&jb->mu);
}

/* ---- training data ------------------------------------------------------ */

/* Pools of the queries as training rows: known duplicates (dup 1, weight
 * 1) or no-duplicate queries (dup 0) of the given weight. */
static void collect(const repo_state *rs, const uint32_t *queries, size_t n, int threads, int dup,
                    double weight, match_trainset *ts)
{
    match_ctx ctx;
    match_ctx_init(&ctx, rs->ix, NULL, rs->d->links, rs->d->nlinks);
    ctx.asof = 1;
    job jb = {.kind = JOB_COLLECT, .rs = rs, .ctx = &ctx, .queries = queries, .n = n};
    jb.pools = xcalloc(n ? n : 1, sizeof *jb.pools);
    jb.npool = xcalloc(n ? n : 1, sizeof *jb.npool);
    run_job(&jb, threads);
    for (size_t i = 0; i < n; i++) {   /* in query order: deterministic */
        unsigned char lab[MATCH_POOL];
        for (size_t k = 0; k < jb.npool[i]; k++)
            lab[k] = (unsigned char)is_target(rs, queries[i], jb.pools[i][k].doc);
        match_trainset_add_query(ts, rs->d->items[queries[i]].created_at, jb.pools[i], lab,
                                 jb.npool[i], dup, weight);
        free(jb.pools[i]);
    }
    free(jb.pools);
    free(jb.npool);
    match_ctx_free(&ctx);
}

/* Queries that can be scored (an answer in the window), ascending. */
static size_t scorable(const repo_state *rs, const uint32_t *in, size_t n, int related,
                       uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (answerable(rs, in[i], related)) out[k++] = in[i];
    return k;
}

/* Sampled no-duplicate queries among docs [lo, hi), weighted to stand for
 * every issue there without a known duplicate. */
static void collect_negatives(const repo_state *rs, uint32_t lo, uint32_t hi, const eval_opts *o,
                              match_trainset *ts)
{
    uint32_t *neg;
    size_t pop, n = sample_negatives(rs, lo, hi, o->negatives, &neg, &pop);
    if (n) collect(rs, neg, n, o->threads, 0, (double)pop / (double)n, ts);
    free(neg);
}

int eval_collect_trainset(const eval_data *d, const eval_opts *o, match_trainset *ts,
                          size_t *nqueries, dp_err *err)
{
    repo_state rs;
    if (repo_prepare(d, o, 0, &rs, err) != DP_OK) return DP_ERR;
    uint32_t *qs = xmalloc((rs.nqueries ? rs.nqueries : 1) * sizeof *qs);
    size_t n = scorable(&rs, rs.queries, rs.nqueries, 0, qs);
    collect(&rs, qs, n, o->threads, 1, 1.0, ts);
    if (nqueries) *nqueries = n;
    free(qs);
    collect_negatives(&rs, 0, (uint32_t)d->nitems, o, ts);
    repo_free(&rs);
    return DP_OK;
}

/* ---- the run ------------------------------------------------------------- */

void eval_metrics_compute(const int *ranks, size_t n, eval_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (!n) return;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++)
            if (ranks[i] > 0 && ranks[i] <= eval_recall_k[k]) out->recall[k] += 1;
        if (ranks[i] > 0) out->mrr += 1.0 / ranks[i];
    }
    for (int k = 0; k < 4; k++) out->recall[k] /= (double)n;
    out->mrr /= (double)n;
}

static void metrics_of(const eval_query *q, size_t n, eval_metrics *learned, eval_metrics *base)
{
    int *a = xmalloc((n ? n : 1) * sizeof *a), *b = xmalloc((n ? n : 1) * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        a[i] = q[i].rank;
        b[i] = q[i].base_rank;
    }
    eval_metrics_compute(a, n, learned);
    eval_metrics_compute(b, n, base);
    free(a);
    free(b);
}

/* Confidence level of a suggestion, and whether it is `duplicate . high`. */
static int level_of(const match_model *m, double prob, int same_kind, int *dup_high)
{
    const char *rel, *conf;
    match_decide(m, prob, same_kind, &rel, &conf);
    int lvl = !strcmp(conf, "high") ? EVAL_HIGH : !strcmp(conf, "medium") ? EVAL_MEDIUM : EVAL_LOW;
    *dup_high = !strcmp(rel, "duplicate") && lvl == EVAL_HIGH;
    return lvl;
}

static int bin_of(double prob)
{
    int bin = (int)(prob * EVAL_BINS);
    return bin >= EVAL_BINS ? EVAL_BINS - 1 : bin < 0 ? 0 : bin;
}

/* Tallies the suggestions of queries q[0..n), each weighing w, into the
 * all-queries tables; returns how many queries got a duplicate . high. */
static size_t tally_all(eval_result *r, const eval_query *q, size_t n, double w, double psum[])
{
    size_t flagged = 0;
    for (size_t i = 0; i < n; i++) {
        int any = 0;
        for (int k = 0; k < q[i].ntop; k++) {
            int dh, lvl = level_of(&r->model, q[i].top_prob[k], q[i].top_same_kind[k], &dh), b = bin_of(q[i].top_prob[k]);
            r->all_level_pairs[lvl] += w;
            r->all_level_true[lvl] += w * q[i].top_true[k];
            if (dh) r->all_high_pairs += w;
            any |= dh;
            r->all_bin_pairs[b] += w;
            r->all_bin_true[b] += w * q[i].top_true[k];
            psum[b] += w * q[i].top_prob[k];
        }
        flagged += (size_t)any;
    }
    return flagged;
}

static void decision_metrics(eval_result *r)
{
    double psum[EVAL_BINS] = {0}, apsum[EVAL_BINS] = {0};
    for (size_t i = 0; i < r->nq; i++) {
        const eval_query *q = &r->q[i];
        int caught = 0;
        for (int k = 0; k < q->ntop; k++) {
            int dh, lvl = level_of(&r->model, q->top_prob[k], q->top_same_kind[k], &dh), bin = bin_of(q->top_prob[k]);
            r->level_pairs[lvl]++;
            r->level_true[lvl] += q->top_true[k];
            if (dh) {
                r->high_pairs++;
                r->high_true += q->top_true[k];
                if (q->top_true[k]) caught = 1;
            }
            r->bin_pairs[bin]++;
            r->bin_true[bin] += q->top_true[k];
            psum[bin] += q->top_prob[k];
        }
        r->high_caught += (size_t)caught;
    }
    r->high_precision = r->high_pairs ? (double)r->high_true / (double)r->high_pairs : 0;
    r->high_recall = r->nq ? (double)r->high_caught / (double)r->nq : 0;
    for (int b = 0; b < EVAL_BINS; b++)
        r->bin_prob[b] = r->bin_pairs[b] ? psum[b] / (double)r->bin_pairs[b] : 0;
    /* all queries: known duplicates weigh 1, each sampled negative stands
     * for neg_weight issues without a known duplicate */
    tally_all(r, r->q, r->nq, 1.0, apsum);
    r->neg_high = tally_all(r, r->neg, r->nneg, r->neg_weight, apsum);
    r->all_high_precision = r->all_high_pairs > 0 ? (double)r->high_true / r->all_high_pairs : 0;
    r->all_high_recall = r->high_recall;   /* negatives have nothing to find */
    r->false_alarm = r->nneg ? (double)r->neg_high / (double)r->nneg : 0;
    r->base_rate = r->nq + r->neg_population
                       ? (double)r->nq / (double)(r->nq + r->neg_population) : 0;
    for (int b = 0; b < EVAL_BINS; b++)
        r->all_bin_prob[b] = r->all_bin_pairs[b] > 0 ? apsum[b] / r->all_bin_pairs[b] : 0;
}

/* Trains on the queries before the split when there are enough; otherwise
 * keeps the fallback model. */
static int train_in_run(const repo_state *rs, const uint32_t *train, size_t ntrain,
                        uint32_t split_doc, const eval_opts *o, eval_result *r, dp_err *err)
{
    const match_model *fallback = o->model ? o->model : match_model_default();
    if (ntrain < MATCH_MIN_TRAIN) {
        match_model_copy(&r->model, fallback);
        return DP_OK;
    }
    match_trainset ts = {0};
    collect(rs, train, ntrain, o->threads, 1, 1.0, &ts);
    collect_negatives(rs, 0, split_doc, o, &ts);
    int rc = match_train(&ts, NULL, &r->model, err);
    match_trainset_free(&ts);
    if (rc != DP_OK) return DP_ERR;
    free(r->model.trained_on);
    r->model.trained_on = xasprintf("%s: %zu queries before the split", rs->d->name, ntrain);
    r->trained_in_run = 1;
    return DP_OK;
}

static void rank_queries(const repo_state *rs, const match_ctx *ctx, job_kind kind,
                         const uint32_t *qs, size_t n, int threads, eval_query *res)
{
    job jb = {.kind = kind, .rs = rs, .ctx = ctx, .queries = qs, .n = n, .res = res};
    run_job(&jb, threads);
}

int eval_run(const eval_data *d, const eval_opts *o, eval_result *r, dp_err *err)
{
    memset(r, 0, sizeof *r);
    r->repo = xstrdup(d->name);
    r->nitems = d->nitems;
    double t0 = dp_now();
    repo_state rs;
    if (repo_prepare(d, o, 1, &rs, err) != DP_OK) return DP_ERR;
    r->seconds_index = dp_now() - t0;
    uint32_t *qs = xmalloc((rs.nqueries ? rs.nqueries : 1) * sizeof *qs);
    size_t nq = scorable(&rs, rs.queries, rs.nqueries, 0, qs);
    r->nqueries = nq;
    r->out_of_window = rs.nqueries - nq;
    size_t ntrain = o->split > 0 ? (size_t)floor((double)nq * o->split) : 0;
    if (ntrain >= nq && nq) ntrain = nq - 1;
    r->ntrain = ntrain;
    t0 = dp_now();
    uint32_t split_doc = ntrain < nq ? qs[ntrain] : (uint32_t)d->nitems;
    if (train_in_run(&rs, qs, ntrain, split_doc, o, r, err) != DP_OK) {
        free(qs);
        repo_free(&rs);
        return DP_ERR;
    }
    r->seconds_train = dp_now() - t0;
    r->model_desc = xstrdup(r->model.trained_on ? r->model.trained_on : "(unnamed model)");
    r->split_time = ntrain < nq ? d->items[qs[ntrain]].created_at : 0;

    t0 = dp_now();
    match_ctx ctx;
    match_ctx_init(&ctx, rs.ix, &r->model, d->links, d->nlinks);
    ctx.asof = 1;
    r->nq = nq - ntrain;
    r->q = xcalloc(r->nq ? r->nq : 1, sizeof *r->q);
    rank_queries(&rs, &ctx, JOB_EVAL, qs + ntrain, r->nq, o->threads, r->q);
    /* related: items filed after the last training query */
    uint32_t *rq = xmalloc((rs.nrel ? rs.nrel : 1) * sizeof *rq);
    size_t nrel = scorable(&rs, rs.rel_queries, rs.nrel, 1, rq), first = 0;
    uint32_t cut = ntrain ? qs[ntrain - 1] : 0;
    while (ntrain && first < nrel && rq[first] <= cut) first++;
    eval_query *rel = xcalloc(nrel - first + 1, sizeof *rel);
    rank_queries(&rs, &ctx, JOB_RELATED, rq + first, nrel - first, o->threads, rel);
    /* no-duplicate queries of the test period (LOPO: all of it) */
    uint32_t *neg;
    r->nneg = sample_negatives(&rs, ntrain ? split_doc : 0, (uint32_t)d->nitems, o->negatives,
                               &neg, &r->neg_population);
    r->neg_weight = r->nneg ? (double)r->neg_population / (double)r->nneg : 0;
    r->neg = xcalloc(r->nneg ? r->nneg : 1, sizeof *r->neg);
    rank_queries(&rs, &ctx, JOB_NEG, neg, r->nneg, o->threads, r->neg);
    free(neg);
    double el = dp_now() - t0;
    r->seconds_rank = el;
    r->qps = el > 0 ? (double)(r->nq + nrel - first + r->nneg) / el : 0;
    match_ctx_free(&ctx);

    metrics_of(r->q, r->nq, &r->learned, &r->base);
    metrics_of(rel, nrel - first, &r->rel_learned, &r->rel_base);
    decision_metrics(r);
    free(rel);
    free(rq);
    free(qs);
    repo_free(&rs);
    return DP_OK;
}

static void queries_free(eval_query *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(q[i].key);
        free(q[i].target);
        free(q[i].query_title);
        free(q[i].target_title);
    }
    free(q);
}

void eval_result_free(eval_result *r)
{
    queries_free(r->q, r->nq);
    queries_free(r->neg, r->nneg);
    free(r->repo);
    free(r->model_desc);
    match_model_free(&r->model);
    memset(r, 0, sizeof *r);
}
