/* eval_protocol.c -- the evaluation protocol (see eval.h): duplicate groups,
 * queries, the chronological split, in-run training, and ranking every test
 * query with the learned ranker and the BM25 baseline on worker threads. */
#include "eval_int.h"

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
    o->dump = NULL;
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

uint32_t eval_window_lo(const repo_state *rs, uint32_t qdoc)
{
    if (rs->window_days <= 0) return 0;
    int64_t t = rs->d->items[qdoc].created_at - (int64_t)rs->window_days * 86400;
    return (uint32_t)items_created_before(rs->d->items, qdoc, t);
}

int eval_link_is_truth(const repo_state *rs, const item_link *l)
{
    return !rs->typed || item_link_typed(l);
}

int eval_is_target(const repo_state *rs, uint32_t qdoc, uint32_t c)
{
    return c < qdoc && rs->group[c] == rs->group[qdoc];   /* flattened by build_groups */
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
    uint32_t lo = eval_window_lo(rs, qdoc);
    if (related) {
        for (uint32_t i = rs->rel_off[qdoc]; i < rs->rel_off[qdoc + 1]; i++)
            if (rs->rel_nb[i] >= lo) return 1;
        return 0;
    }
    for (uint32_t c = lo; c < qdoc; c++)
        if (eval_is_target(rs, qdoc, c)) return 1;
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
            if (d->links[i].type != LINK_DUPLICATE || !eval_link_is_truth(rs, &d->links[i])) continue;
            int64_t a = index_find(rs->ix, d->links[i].src_key);
            int64_t b = index_find(rs->ix, d->links[i].dst_key);
            if (a >= 0 && b >= 0) uf_union(rs->group, (uint32_t)a, (uint32_t)b);
        }
    }
    rs->queries = xmalloc((n ? n : 1) * sizeof *rs->queries);
    rs->gsize = xcalloc(n ? n : 1, sizeof *rs->gsize);
    /* Flatten: every doc points at its root (the oldest member), so worker
     * threads only read the array. */
    for (size_t i = 0; i < n; i++) rs->group[i] = uf_find(rs->group, (uint32_t)i);
    for (size_t i = 0; i < n; i++) {
        uint32_t root = rs->group[i];
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
        uint32_t root = rs->group[d];
        if (root != d || eval_window_lo(rs, d) >= d) continue;   /* a known duplicate, or no candidate */
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
        if (d->links[i].type != LINK_RELATED || !eval_link_is_truth(rs, &d->links[i])) continue;
        int64_t a = index_find(rs->ix, d->links[i].src_key), b = index_find(rs->ix, d->links[i].dst_key);
        if (a < 0 || b < 0 || a == b) continue;
        uint32_t q = (uint32_t)(a > b ? a : b), c = (uint32_t)(a > b ? b : a);
        if (eval_is_target(rs, q, c)) continue;
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
    free(rs->links);
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
    rs->typed = item_links_any_typed(d->links, d->nlinks);
    /* the links the protocol reads: the truth ones (shallow copies) */
    rs->links = xmalloc((d->nlinks ? d->nlinks : 1) * sizeof *rs->links);
    for (size_t i = 0; i < d->nlinks; i++)
        if (eval_link_is_truth(rs, &d->links[i])) rs->links[rs->nlinks++] = d->links[i];
    index_params p;
    index_params_default(&p);
    p.threads = o->threads;
    if (index_build(d->items, d->nitems, &p, &rs->ix, err) != DP_OK) {
        repo_free(rs);
        return DP_ERR;
    }
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

typedef enum { JOB_COLLECT, JOB_EVAL, JOB_RELATED } job_kind;

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
    eval_query *res;            /* JOB_EVAL / JOB_RELATED */
} job;

static int rank_of_target(const repo_state *rs, int related, uint32_t qdoc, const uint32_t *docs,
                          size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (related ? is_related(rs, qdoc, docs[i]) : eval_is_target(rs, qdoc, docs[i]))
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
        if (eval_is_target(rs, qdoc, c)) {
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

static void eval_one(job *jb, size_t i)
{
    const repo_state *rs = jb->rs;
    uint32_t qdoc = jb->queries[i], lo = eval_window_lo(rs, qdoc);
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
    match_ctx_init(&ctx, rs->ix, NULL, rs->links, rs->nlinks);
    ctx.asof = 1;
    job jb = {.kind = JOB_COLLECT, .rs = rs, .ctx = &ctx, .queries = queries, .n = n};
    jb.pools = xcalloc(n ? n : 1, sizeof *jb.pools);
    jb.npool = xcalloc(n ? n : 1, sizeof *jb.npool);
    run_job(&jb, threads);
    for (size_t i = 0; i < n; i++) {   /* in query order: deterministic */
        unsigned char lab[MATCH_POOL];
        for (size_t k = 0; k < jb.npool[i]; k++)
            lab[k] = (unsigned char)eval_is_target(rs, queries[i], jb.pools[i][k].doc);
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

int eval_collect_judgeset(const eval_data *d, const eval_opts *o, const match_model *m,
                          match_judgeset *js, dp_err *err)
{
    repo_state rs;
    if (repo_prepare(d, o, 0, &rs, err) != DP_OK) return DP_ERR;
    int rc = eval_collect_judgeset_rs(&rs, m, 0, (uint32_t)d->nitems, o->threads, js);
    repo_free(&rs);
    return rc;
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
    /* the judge, on the training period's queries ranked by that model;
     * too few linked pairs: the fallback's judge */
    match_judgeset js = {0};
    eval_collect_judgeset_rs(rs, &r->model, 0, split_doc, o->threads, &js);
    dp_err jerr;
    if (match_judge_train(&js, NULL, &r->model, &jerr) != DP_OK) r->model.judge = fallback->judge;
    match_judgeset_free(&js);
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
    match_ctx_init(&ctx, rs.ix, &r->model, rs.links, rs.nlinks);
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
    /* the judgment of every item of the test period as a query */
    eval_judge_run(&rs, &ctx, ntrain ? split_doc : 0, o->threads, o->dump, r);
    double el = dp_now() - t0;
    r->seconds_rank = el;
    r->qps = el > 0 ? (double)(r->nq + nrel - first + r->judgment.queries) / el : 0;
    match_ctx_free(&ctx);

    metrics_of(r->q, r->nq, &r->learned, &r->base);
    metrics_of(rel, nrel - first, &r->rel_learned, &r->rel_base);
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
    for (size_t i = 0; i < r->judgment.nunlinked; i++) {
        eval_pair_note *u = &r->judgment.unlinked[i];
        free(u->query);
        free(u->cand);
        free(u->query_title);
        free(u->cand_title);
    }
    queries_free(r->q, r->nq);
    free(r->repo);
    free(r->model_desc);
    match_model_free(&r->model);
    memset(r, 0, sizeof *r);
}
