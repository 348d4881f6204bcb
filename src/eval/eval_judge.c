/* eval_judge.c -- measuring the judgment a maintainer reads: every item of
 * the test period is a query (most have no duplicate, as on a real
 * tracker), its top candidates are judged as analyze judges them, and each
 * pair's relation and confidence are compared with the truth its links
 * give (see eval.h: typed links, Relates apart, unlinked = not related). */
#include "eval_int.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../explain/explain.h"

/* ---- truth from links ---------------------------------------------------- */

/* Jira's "Relates" (type name Reference or Relates) joins near-duplicates
 * as often as distinct problems: its own truth class. */
static int ambiguous_link(const item_link *l)
{
    const char *s = l->source;
    return s && (!strcasecmp(s, "jira:Reference") || !strcasecmp(s, "jira:Relates") ||
                 !strcasecmp(s, "jira:Related"));
}

typedef struct truth_adj {
    size_t *off;
    uint32_t *nb;
    const item_link **link;
} truth_adj;

/* Undirected CSR of the links that are not duplicate links. */
static void adj_build(const repo_state *rs, truth_adj *a)
{
    const eval_data *d = rs->d;
    size_t n = d->nitems;
    a->off = xcalloc(n + 1, sizeof *a->off);
    int64_t (*e)[2] = xmalloc((d->nlinks ? d->nlinks : 1) * sizeof *e);
    for (size_t i = 0; i < d->nlinks; i++) {
        e[i][0] = e[i][1] = -1;
        if (d->links[i].type == LINK_DUPLICATE || !eval_link_is_truth(rs, &d->links[i])) continue;
        int64_t x = index_find(rs->ix, d->links[i].src_key), y = index_find(rs->ix, d->links[i].dst_key);
        if (x < 0 || y < 0 || x == y) continue;
        e[i][0] = x;
        e[i][1] = y;
        a->off[x + 1]++;
        a->off[y + 1]++;
    }
    for (size_t i = 0; i < n; i++) a->off[i + 1] += a->off[i];
    a->nb = xmalloc((a->off[n] ? a->off[n] : 1) * sizeof *a->nb);
    a->link = xmalloc((a->off[n] ? a->off[n] : 1) * sizeof *a->link);
    size_t *fill = xmalloc((n ? n : 1) * sizeof *fill);
    memcpy(fill, a->off, n * sizeof *fill);
    for (size_t i = 0; i < d->nlinks; i++) {
        if (e[i][0] < 0) continue;
        for (int k = 0; k < 2; k++) {
            size_t at = fill[e[i][k]]++;
            a->nb[at] = (uint32_t)e[i][1 - k];
            a->link[at] = &d->links[i];
        }
    }
    free(fill);
    free(e);
}

static void adj_free(truth_adj *a)
{
    free(a->off);
    free(a->nb);
    free(a->link);
}

/* The truth of (q, c), and the link that gives it (NULL for duplicates
 * found through the group and for unlinked pairs). A distinct relation
 * beats Relates when both join them. */
static int truth_of(const repo_state *rs, const truth_adj *a, uint32_t q, uint32_t c,
                    const item_link **why)
{
    *why = NULL;
    if (rs->group[q] == rs->group[c]) return EVAL_TRUTH_DUP;
    int t = EVAL_TRUTH_NONE;
    for (size_t i = a->off[q]; i < a->off[q + 1]; i++) {
        if (a->nb[i] != c) continue;
        if (!ambiguous_link(a->link[i])) {
            *why = a->link[i];
            return EVAL_TRUTH_RELATED;
        }
        t = EVAL_TRUTH_RELATES;
        *why = a->link[i];
    }
    return t;
}

/* ---- judging every query ---------------------------------------------- */

typedef struct jrow {
    uint32_t q, c;
    int rank;
    unsigned char truth, rel, conf, same_kind;
    unsigned char same_failure, failure_lifted;
    double p[RELATION_COUNT];
    double p_shown;
    double value;
    const item_link *why;
    double jf[JF_COUNT];
} jrow;

typedef struct jjob {
    const repo_state *rs;
    const match_ctx *ctx;
    const truth_adj *adj;
    int collect;                /* training rows: no probabilities, no value */
    const uint32_t *queries;
    size_t nq;
    atomic_size_t next;
    jrow *rows;                 /* MATCH_CALIB_TOP per query */
    unsigned char *nrows;
} jjob;

/* The value of a pair as the queue showed it when the query was filed:
 * the query new and open, the candidate as it stood then, no comments yet
 * (the protocol hides them). */
static double value_asof(const item *q, const item *c, const match_judgment *jd)
{
    item qa = *q, ca = *c;
    qa.state = "open";
    qa.state_reason = NULL;
    qa.closed_at = 0;
    qa.updated_at = q->created_at;
    qa.ncomments = qa.reactions = ca.ncomments = ca.reactions = 0;
    if (!c->closed_at || c->closed_at >= q->created_at) {
        ca.state = "open";
        ca.state_reason = NULL;
        ca.closed_at = 0;
    }
    return explain_value(&qa, &ca, jd, &qa, 0, q->created_at, NULL);
}

static void judge_one(jjob *j, size_t i)
{
    const repo_state *rs = j->rs;
    uint32_t qdoc = j->queries[i], lo = eval_window_lo(rs, qdoc);
    match_query mq;
    match_query_from_doc(j->ctx, qdoc, &mq);
    match_hit hits[MATCH_CALIB_TOP];
    size_t n = match_rank_query(j->ctx, &mq, lo, qdoc, MATCH_CALIB_TOP, hits);
    match_judge_query jq;
    match_judge_prepare(j->ctx, &mq, &jq);
    const item *qi = &rs->d->items[qdoc];
    for (size_t k = 0; k < n; k++) {
        jrow *r = &j->rows[i * MATCH_CALIB_TOP + k];
        const item *ci = &rs->d->items[hits[k].doc];
        r->q = qdoc;
        r->c = hits[k].doc;
        r->rank = (int)k + 1;
        match_judge_features(j->ctx, &mq, &jq, &hits[k], r->rank, r->jf);
        r->truth = (unsigned char)truth_of(rs, j->adj, qdoc, hits[k].doc, &r->why);
        r->same_kind = qi->kind == ci->kind;
        if (j->collect) continue;
        match_judge_probs(j->ctx->model, r->jf, r->p);
        match_judgment jd;
        match_judge_decide(j->ctx->model, r->jf, r->p, &jd);
        r->rel = (unsigned char)jd.relation;
        r->p_shown = jd.p_shown;
        r->conf = (unsigned char)jd.confidence;
        r->same_failure = (unsigned char)jd.same_failure;
        r->failure_lifted = (unsigned char)jd.failure_lifted;
        r->value = value_asof(qi, ci, &jd);
    }
    j->nrows[i] = (unsigned char)n;
    match_judge_query_free(&jq);
    match_query_free(&mq);
}

static void *judge_worker(void *arg)
{
    jjob *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->nq) return NULL;
        judge_one(j, i);
    }
}

/* ---- tallies ----------------------------------------------------------------- */

static void tally(eval_judgment *jm, const jrow *r)
{
    int s = r->rel, lvl = r->conf, t = r->truth;
    jm->pairs++;
    jm->shown[s][lvl]++;
    if (t == EVAL_TRUTH_RELATES) jm->relates[s][lvl]++;
    else jm->confusion[t == EVAL_TRUTH_DUP ? RELATION_DUPLICATE : t == EVAL_TRUTH_RELATED ? RELATION_RELATED
                                                                                         : RELATION_NONE][s]++;
    int linked, ok;
    if (s == RELATION_RELATED) {   /* Relates counts as related here */
        linked = t != EVAL_TRUTH_NONE;
        ok = t == EVAL_TRUTH_RELATED || t == EVAL_TRUTH_RELATES;
        if (linked && r->same_kind) {
            jm->linked_ii[lvl]++;
            jm->correct_ii[lvl] += (size_t)ok;
        }
    } else {                       /* ... and is left out for the others */
        linked = t == EVAL_TRUTH_DUP || t == EVAL_TRUTH_RELATED;
        ok = s == RELATION_DUPLICATE && t == EVAL_TRUTH_DUP;
    }
    jm->linked[s][lvl] += (size_t)linked;
    jm->correct[s][lvl] += (size_t)(linked && ok);
    if (s == RELATION_NONE) jm->correct_all_none[lvl] += t == EVAL_TRUTH_NONE;
    if (r->same_failure) {
        int k = t == EVAL_TRUTH_DUP ? 0 : t == EVAL_TRUTH_RELATED ? 1 : t == EVAL_TRUTH_RELATES ? 2 : 3;
        jm->failure[0][k]++;
        if (r->failure_lifted) jm->failure[1][k]++;
    }
}

/* Reliability diagram: predicted probability of a relation against how
 * often the link truth has it, over pairs with link-given truth. */
static void reliability(eval_judgment *jm, const jrow *r)
{
    if (r->truth == EVAL_TRUTH_RELATES || r->truth == EVAL_TRUTH_NONE) return;
    double any = r->p[RELATION_DUPLICATE] + r->p[RELATION_RELATED];
    for (int k = 0; k < 2; k++) {
        int rel = k == 0 ? RELATION_DUPLICATE : RELATION_RELATED;
        double p = any > 0 ? r->p[rel] / any : 0;   /* as shown: given related at all */
        int b = (int)(p * EVAL_BINS);
        if (b >= EVAL_BINS) b = EVAL_BINS - 1;
        if (b < 0) b = 0;
        jm->rbin_n[k][b]++;
        jm->rbin_p[k][b] += p;
        jm->rbin_true[k][b] += (k == 0 ? r->truth == EVAL_TRUTH_DUP : r->truth == EVAL_TRUTH_RELATED);
    }
}

typedef struct vrow {
    double value;
    int truth;
    uint32_t q, c;
} vrow;

static int vrow_cmp(const void *a, const void *b)
{
    const vrow *x = a, *y = b;
    if (x->value != y->value) return x->value > y->value ? -1 : 1;
    if (x->q != y->q) return x->q < y->q ? -1 : 1;
    return x->c < y->c ? -1 : x->c > y->c;
}

/* Share of true duplicates among the top 20/50/100 pairs shown as
 * duplicates, in value order (what a maintainer reviews first). */
static void queue_precision(eval_judgment *jm, const jrow *rows, const unsigned char *nrows, size_t nq)
{
    vrow *v = xmalloc((nq * MATCH_CALIB_TOP + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < nq; i++)
        for (size_t k = 0; k < nrows[i]; k++) {
            const jrow *r = &rows[i * MATCH_CALIB_TOP + k];
            if (r->rel == RELATION_DUPLICATE) v[n++] = (vrow){r->value, r->truth, r->q, r->c};
        }
    qsort(v, n, sizeof *v, vrow_cmp);
    static const size_t at[3] = {20, 50, 100};
    for (int k = 0; k < 3; k++) {
        size_t m = n < at[k] ? n : at[k], t = 0;
        for (size_t i = 0; i < m; i++) t += v[i].truth == EVAL_TRUTH_DUP;
        jm->queue_n[k] = m;
        jm->queue_at[k] = m ? (double)t / (double)m : 0;
    }
    free(v);
}

static int jrow_prob_desc(const void *a, const void *b)
{
    const jrow *x = *(const jrow *const *)a, *y = *(const jrow *const *)b;
    double px = x->p[RELATION_DUPLICATE], py = y->p[RELATION_DUPLICATE];
    if (px != py) return px > py ? -1 : 1;
    if (x->q != y->q) return x->q < y->q ? -1 : 1;
    return x->c < y->c ? -1 : x->c > y->c;
}

/* The most probable duplicates no link confirms: where a tracker lacks a
 * link (or the judge is wrong) -- worth reading in the report. */
static void unlinked_top(const repo_state *rs, eval_judgment *jm, const jrow *rows,
                         const unsigned char *nrows, size_t nq)
{
    const jrow **v = xmalloc((nq * MATCH_CALIB_TOP + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < nq; i++)
        for (size_t k = 0; k < nrows[i]; k++) {
            const jrow *r = &rows[i * MATCH_CALIB_TOP + k];
            if (r->rel == RELATION_DUPLICATE && r->truth == EVAL_TRUTH_NONE) v[n++] = r;
        }
    qsort(v, n, sizeof *v, jrow_prob_desc);
    for (size_t i = 0; i < n && i < EVAL_WORST; i++) {
        const item *q = &rs->d->items[v[i]->q], *c = &rs->d->items[v[i]->c];
        eval_pair_note *u = &jm->unlinked[jm->nunlinked++];
        u->query = xstrdup(q->key);
        u->cand = xstrdup(c->key);
        u->query_title = xstrdup(q->title);
        u->cand_title = xstrdup(c->title);
        u->prob = v[i]->p_shown;
    }
    free(v);
}

/* Recall: of the queries with a known earlier duplicate (or a distinct
 * related item) in the window, those whose twin is shown with that
 * relation at each confidence level or above. */
static void recall(const repo_state *rs, const truth_adj *adj, eval_judgment *jm, const jrow *rows,
                   const unsigned char *nrows, const uint32_t *qs, size_t nq)
{
    for (size_t i = 0; i < nq; i++) {
        uint32_t q = qs[i], lo = eval_window_lo(rs, q);
        int has_dup = 0, has_rel = 0;
        for (uint32_t c = lo; c < q && !has_dup; c++) has_dup = eval_is_target(rs, q, c);
        for (size_t e = adj->off[q]; e < adj->off[q + 1]; e++)
            if (adj->nb[e] < q && adj->nb[e] >= lo && !ambiguous_link(adj->link[e]) &&
                rs->group[adj->nb[e]] != rs->group[q])
                has_rel = 1;
        jm->dup_queries += has_dup;
        jm->rel_queries += has_rel;
        int best_dup = -1, best_rel = -1;   /* best level at which the twin is shown */
        for (size_t k = 0; k < nrows[i]; k++) {
            const jrow *r = &rows[i * MATCH_CALIB_TOP + k];
            int lvl = 2 - r->conf;   /* high 2 ... low 0 */
            if (r->truth == EVAL_TRUTH_DUP && r->rel == RELATION_DUPLICATE && lvl > best_dup) best_dup = lvl;
            if (r->truth == EVAL_TRUTH_RELATED && r->rel == RELATION_RELATED && lvl > best_rel) best_rel = lvl;
        }
        for (int l = 0; l < EVAL_LEVELS; l++) {   /* caught at level l or above */
            if (has_dup && best_dup >= 2 - l) jm->dup_caught[l]++;
            if (has_rel && best_rel >= 2 - l) jm->rel_caught[l]++;
        }
    }
}

/* ---- dump (doppel eval --dump-pairs) -------------------------------------- */

static const char *truth_name(int t)
{
    return t == EVAL_TRUTH_DUP ? "duplicate" : t == EVAL_TRUTH_RELATED ? "related"
         : t == EVAL_TRUTH_RELATES ? "relates" : "none";
}

static void dump_rows(FILE *f, const repo_state *rs, const jrow *rows, const unsigned char *nrows,
                      size_t nq)
{
    fprintf(f, "repo\tquery\tcand\trank\ttruth\tlink\tq_closed\tc_closed\tshown\tconfidence\tvalue\tp_none\tp_related\tp_duplicate");
    for (int k = 0; k < JF_COUNT; k++) fprintf(f, "\t%s", match_jfeature_name((match_jfeature)k));
    fputc('\n', f);
    for (size_t i = 0; i < nq; i++)
        for (size_t k = 0; k < nrows[i]; k++) {
            const jrow *r = &rows[i * MATCH_CALIB_TOP + k];
            const char *link = r->why && r->why->source ? r->why->source : "";
            const item *qi = &rs->d->items[r->q], *ci = &rs->d->items[r->c];
            fprintf(f, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.6f\t%.6f\t%.6f\t%.6f", rs->d->name,
                    qi->key, ci->key, r->rank, truth_name(r->truth), link,
                    item_is_open(qi) ? "open" : qi->state_reason ? qi->state_reason : "closed",
                    item_is_open(ci) ? "open" : ci->state_reason ? ci->state_reason : "closed",
                    relation_name((relation_kind)r->rel),
                    confidence_name((confidence_level)r->conf), r->value, r->p[RELATION_NONE],
                    r->p[RELATION_RELATED], r->p[RELATION_DUPLICATE]);
            for (int f2 = 0; f2 < JF_COUNT; f2++) fprintf(f, "\t%.6g", r->jf[f2]);
            fputc('\n', f);
        }
}

/* ---- training rows (doppel train, in-run training) ---------------------------- */

static int closed_as_duplicate(const item *it)
{
    if (item_is_open(it)) return 0;
    if (it->state_reason && !strcasecmp(it->state_reason, "duplicate")) return 1;
    for (size_t i = 0; i < it->labels.n; i++)
        if (!strcasecmp(it->labels.v[i], "duplicate")) return 1;
    return 0;
}

/* Closed as a duplicate, yet no truth link names its twin: its pairs'
 * truth is unknown, not "not related". */
static int orphan_duplicate(const repo_state *rs, uint32_t d)
{
    return closed_as_duplicate(&rs->d->items[d]) && rs->gsize[rs->group[d]] < 2;
}

/* A query whose truth the tracker records: a truth link (duplicate or
 * not) to an earlier item within the window. */
static int triaged(const repo_state *rs, const truth_adj *adj, uint32_t q)
{
    uint32_t lo = eval_window_lo(rs, q);
    for (uint32_t c = lo; c < q; c++)
        if (rs->group[c] == rs->group[q]) return 1;
    for (size_t e = adj->off[q]; e < adj->off[q + 1]; e++)
        if (adj->nb[e] < q && adj->nb[e] >= lo) return 1;
    return 0;
}

int eval_collect_judgeset_rs(const repo_state *rs, const match_model *m, uint32_t lo, uint32_t hi,
                             int threads, match_judgeset *js)
{
    truth_adj adj;
    adj_build(rs, &adj);
    uint32_t *qs = xmalloc((hi > lo ? hi - lo : 1) * sizeof *qs);
    size_t nq = 0;
    for (uint32_t d = lo; d < hi; d++)
        if (eval_window_lo(rs, d) < d && triaged(rs, &adj, d)) qs[nq++] = d;
    match_ctx ctx;
    match_ctx_init(&ctx, rs->ix, m, rs->links, rs->nlinks);
    ctx.asof = 1;
    jjob j = {.rs = rs, .ctx = &ctx, .adj = &adj, .collect = 1, .queries = qs, .nq = nq};
    j.rows = xcalloc(nq * MATCH_CALIB_TOP + 1, sizeof *j.rows);
    j.nrows = xcalloc(nq + 1, 1);
    atomic_store(&j.next, 0);
    dp_run_threads(dp_threads(threads), judge_worker, &j);
    for (size_t i = 0; i < nq; i++)   /* in query order: deterministic */
        for (size_t k = 0; k < j.nrows[i]; k++) {
            const jrow *r = &j.rows[i * MATCH_CALIB_TOP + k];
            int label = r->truth == EVAL_TRUTH_DUP       ? RELATION_DUPLICATE
                      : r->truth == EVAL_TRUTH_RELATED   ? RELATION_RELATED
                      : r->truth == EVAL_TRUTH_RELATES   ? MATCH_LABEL_RELATES
                                                         : RELATION_NONE;
            if (label == RELATION_NONE && (orphan_duplicate(rs, r->q) || orphan_duplicate(rs, r->c)))
                continue;
            match_judgeset_add(js, rs->d->items[r->q].created_at, r->jf, label);
        }
    for (uint32_t d = lo; d < hi; d++)
        if (closed_as_duplicate(&rs->d->items[d])) {
            js->dup_closed++;
            js->dup_closed_linked += rs->gsize[rs->group[d]] >= 2;
        }
    free(j.rows);
    free(j.nrows);
    match_ctx_free(&ctx);
    adj_free(&adj);
    free(qs);
    return DP_OK;
}

void eval_judge_run(const repo_state *rs, const match_ctx *ctx, uint32_t first_doc, int threads,
                    FILE *dump, eval_result *r)
{
    eval_judgment *jm = &r->judgment;
    memset(jm, 0, sizeof *jm);
    size_t n = rs->d->nitems;
    uint32_t *qs = xmalloc((n ? n : 1) * sizeof *qs);
    size_t nq = 0;
    for (uint32_t d = first_doc; d < n; d++)
        if (eval_window_lo(rs, d) < d) qs[nq++] = d;
    truth_adj adj;
    adj_build(rs, &adj);
    jjob j = {.rs = rs, .ctx = ctx, .adj = &adj, .queries = qs, .nq = nq};
    j.rows = xcalloc(nq * MATCH_CALIB_TOP + 1, sizeof *j.rows);
    j.nrows = xcalloc(nq + 1, 1);
    atomic_store(&j.next, 0);
    dp_run_threads(dp_threads(threads), judge_worker, &j);
    jm->queries = nq;
    for (size_t i = 0; i < nq; i++)
        for (size_t k = 0; k < j.nrows[i]; k++) {
            tally(jm, &j.rows[i * MATCH_CALIB_TOP + k]);
            reliability(jm, &j.rows[i * MATCH_CALIB_TOP + k]);
        }
    queue_precision(jm, j.rows, j.nrows, nq);
    unlinked_top(rs, jm, j.rows, j.nrows, nq);
    recall(rs, &adj, jm, j.rows, j.nrows, qs, nq);
    if (dump) dump_rows(dump, rs, j.rows, j.nrows, nq);
    free(j.rows);
    free(j.nrows);
    adj_free(&adj);
    free(qs);
}
