/* match_train.c -- fitting the linear ranker and its calibration.
 *
 * Weights: listwise softmax cross-entropy per query (the probability mass
 * the model puts on the query's true duplicates within its BM25F pool),
 * L2-regularised, minimised by full-batch Adam from zero. Full batch and a
 * fixed summation order make training deterministic without a seed.
 *
 * Calibration: Platt scaling (logistic regression on score and margin by
 * Newton's method, with Platt's smoothed targets) on the top
 * MATCH_CALIB_TOP hits of held-out queries -- the pairs a maintainer would
 * be shown. Held out are the latest known duplicates and, because on a real
 * tracker most issues have no duplicate at all, issues outside every
 * duplicate group (all their pairs false), weighted so that duplicates are
 * as rare as in the data. Calibrated on known duplicates alone, the top hit
 * of almost any issue would look likely. Thresholds are the lowest
 * probabilities at which weighted held-out precision still reaches the
 * targets.
 */
#include "match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void match_train_opts_default(match_train_opts *o)
{
    o->epochs = 300;
    o->lr = 0.05;
    o->l2 = 1e-3;
    o->calib_share = 0.25;
    o->high_precision = 0.96;   /* held-out precision drifts down on new data */
    o->medium_precision = 0.6;
    o->judge_high = 0.90;
    o->judge_medium = 0.65;
    o->judge_l2 = 1e-4;
}

/* ---- training sets ------------------------------------------------------ */

void match_trainset_add_query(match_trainset *ts, int64_t qtime, const match_hit *hits,
                              const unsigned char *labels, size_t n, int dup, double weight)
{
    if (ts->nq + 2 > ts->cap_q) {
        ts->cap_q = ts->cap_q ? ts->cap_q * 2 : 64;
        ts->off = xrealloc(ts->off, ts->cap_q * sizeof *ts->off);
        ts->qtime = xrealloc(ts->qtime, ts->cap_q * sizeof *ts->qtime);
        ts->qdup = xrealloc(ts->qdup, ts->cap_q * sizeof *ts->qdup);
        ts->qweight = xrealloc(ts->qweight, ts->cap_q * sizeof *ts->qweight);
    }
    if (ts->nrows + n > ts->cap_rows) {
        while (ts->nrows + n > ts->cap_rows) ts->cap_rows = ts->cap_rows ? ts->cap_rows * 2 : 1024;
        ts->feat = xrealloc(ts->feat, ts->cap_rows * sizeof *ts->feat);
        ts->label = xrealloc(ts->label, ts->cap_rows);
    }
    if (ts->nq == 0) ts->off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(ts->feat[ts->nrows + i], hits[i].feat, sizeof ts->feat[0]);
        ts->label[ts->nrows + i] = labels ? labels[i] : 0;
    }
    ts->nrows += n;
    ts->qtime[ts->nq] = qtime;
    ts->qdup[ts->nq] = (unsigned char)(dup != 0);
    ts->qweight[ts->nq] = weight;
    ts->off[++ts->nq] = ts->nrows;
}

void match_trainset_add(match_trainset *ts, int64_t qtime, const match_hit *hits,
                        const unsigned char *labels, size_t n)
{
    match_trainset_add_query(ts, qtime, hits, labels, n, 1, 1.0);
}

void match_trainset_append(match_trainset *dst, const match_trainset *src)
{
    for (size_t q = 0; q < src->nq; q++) {
        size_t a = src->off[q], n = src->off[q + 1] - a;
        match_hit *h = xmalloc((n ? n : 1) * sizeof *h);
        for (size_t i = 0; i < n; i++) memcpy(h[i].feat, src->feat[a + i], sizeof h[i].feat);
        match_trainset_add_query(dst, src->qtime[q], h, src->label + a, n, src->qdup[q],
                                 src->qweight[q]);
        free(h);
    }
}

void match_trainset_free(match_trainset *ts)
{
    free(ts->off);
    free(ts->qtime);
    free(ts->feat);
    free(ts->label);
    free(ts->qdup);
    free(ts->qweight);
    memset(ts, 0, sizeof *ts);
}

/* ---- weights ------------------------------------------------------------ */

static int usable(const match_trainset *ts, size_t q)
{
    int pos = 0, neg = 0;
    for (size_t r = ts->off[q]; r < ts->off[q + 1]; r++) {
        if (ts->label[r]) pos = 1;
        else neg = 1;
    }
    return pos && neg;
}

static void standardise(const match_trainset *ts, const size_t *qs, size_t nq, match_model *m)
{
    double sum[FEAT_COUNT] = {0}, sq[FEAT_COUNT] = {0};
    size_t rows = 0;
    for (size_t k = 0; k < nq; k++)
        for (size_t r = ts->off[qs[k]]; r < ts->off[qs[k] + 1]; r++, rows++)
            for (int f = 0; f < FEAT_COUNT; f++) sum[f] += ts->feat[r][f];
    for (int f = 0; f < FEAT_COUNT; f++) m->mean[f] = rows ? sum[f] / (double)rows : 0;
    for (size_t k = 0; k < nq; k++)
        for (size_t r = ts->off[qs[k]]; r < ts->off[qs[k] + 1]; r++)
            for (int f = 0; f < FEAT_COUNT; f++) {
                double d = ts->feat[r][f] - m->mean[f];
                sq[f] += d * d;
            }
    for (int f = 0; f < FEAT_COUNT; f++) {
        double sd = rows ? sqrt(sq[f] / (double)rows) : 0;
        m->scale[f] = sd > 1e-9 ? sd : 1.0;
    }
}

/* Loss gradient of the listwise objective over the queries qs. */
static void gradient(const match_trainset *ts, const size_t *qs, size_t nq, const match_model *m,
                     double *scratch, double g[FEAT_COUNT])
{
    memset(g, 0, FEAT_COUNT * sizeof *g);
    for (size_t k = 0; k < nq; k++) {
        size_t a = ts->off[qs[k]], n = ts->off[qs[k] + 1] - a;
        double mx = -1e300;
        for (size_t i = 0; i < n; i++) {
            scratch[i] = match_score(m, ts->feat[a + i]);
            if (scratch[i] > mx) mx = scratch[i];
        }
        double zall = 0, zpos = 0;
        for (size_t i = 0; i < n; i++) {
            double e = exp(scratch[i] - mx);
            zall += e;
            if (ts->label[a + i]) zpos += e;
            scratch[i] = e;
        }
        for (size_t i = 0; i < n; i++) {
            double d = scratch[i] / zall - (ts->label[a + i] ? scratch[i] / zpos : 0);
            if (d == 0) continue;
            for (int f = 0; f < FEAT_COUNT; f++)
                g[f] += d * (ts->feat[a + i][f] - m->mean[f]) / m->scale[f];
        }
    }
    for (int f = 0; f < FEAT_COUNT; f++) g[f] /= (double)nq;
}

static void fit_weights(const match_trainset *ts, const size_t *qs, size_t nq,
                        const match_train_opts *o, match_model *m)
{
    standardise(ts, qs, nq, m);
    memset(m->w, 0, sizeof m->w);
    m->bias = 0;
    size_t maxn = 1;
    for (size_t k = 0; k < nq; k++)
        if (ts->off[qs[k] + 1] - ts->off[qs[k]] > maxn) maxn = ts->off[qs[k] + 1] - ts->off[qs[k]];
    double *scratch = xmalloc(maxn * sizeof *scratch);
    double mom[FEAT_COUNT] = {0}, vel[FEAT_COUNT] = {0}, g[FEAT_COUNT];
    const double b1 = 0.9, b2 = 0.999;
    for (int t = 1; t <= o->epochs; t++) {
        gradient(ts, qs, nq, m, scratch, g);
        for (int f = 0; f < FEAT_COUNT; f++) {
            g[f] += 2 * o->l2 * m->w[f];
            mom[f] = b1 * mom[f] + (1 - b1) * g[f];
            vel[f] = b2 * vel[f] + (1 - b2) * g[f] * g[f];
            double mh = mom[f] / (1 - pow(b1, t)), vh = vel[f] / (1 - pow(b2, t));
            m->w[f] -= o->lr * mh / (sqrt(vh) + 1e-8);
        }
    }
    free(scratch);
}

/* ---- calibration -------------------------------------------------------- */

typedef struct scored {
    double s, g;                /* score, margin */
    double p;                   /* calibrated probability */
    double w;                   /* how many pairs of the population it stands for */
    int y;
    int dup;                    /* from a known duplicate's pool */
} scored;

static int score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    return x->s > y->s ? -1 : x->s < y->s;
}

/* Highest probability first; ties by score then margin so the order (and
 * with it the thresholds) never depends on qsort's internals. */
static int prob_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    if (x->g != y->g) return x->g > y->g ? -1 : 1;
    return y->y - x->y;
}

/* Solves the 3x3 system h d = g by Cramer's rule; 0 when singular. */
static int solve3(double h[3][3], const double g[3], double d[3])
{
    double det = h[0][0] * (h[1][1] * h[2][2] - h[1][2] * h[2][1]) -
                 h[0][1] * (h[1][0] * h[2][2] - h[1][2] * h[2][0]) +
                 h[0][2] * (h[1][0] * h[2][1] - h[1][1] * h[2][0]);
    if (fabs(det) < 1e-300) return 0;
    for (int c = 0; c < 3; c++) {
        double m[3][3];
        memcpy(m, h, sizeof m);
        for (int r = 0; r < 3; r++) m[r][c] = g[r];
        d[c] = (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])) / det;
    }
    return 1;
}

/* Platt (2000), extended with the margin: minimises the weighted log loss
 * of 1/(1+exp(a s + c g + b)) with targets smoothed towards the class
 * priors, by damped Newton steps. */
static void fit_platt(const scored *p, size_t n, double *pa, double *pb, double *pc)
{
    double npos = 0, nneg = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].y) npos += p[i].w;
        else nneg += p[i].w;
    }
    double hi = (npos + 1) / (npos + 2), lo = 1 / (nneg + 2);
    double w[3] = {0, 0, log((nneg + 1) / (npos + 1))};   /* a, c, b */
    for (int it = 0; it < 100; it++) {
        double g[3] = {0}, h[3][3] = {{1e-9, 0, 0}, {0, 1e-9, 0}, {0, 0, 1e-9}};
        for (size_t i = 0; i < n; i++) {
            double x[3] = {p[i].s, p[i].g, 1};
            double t = p[i].y ? hi : lo, z = w[0] * x[0] + w[1] * x[1] + w[2];
            double pr = 1 / (1 + exp(z));
            double d = p[i].w * (t - pr), v = p[i].w * pr * (1 - pr);
            for (int r = 0; r < 3; r++) {
                g[r] += d * x[r];
                for (int c = 0; c < 3; c++) h[r][c] += v * x[r] * x[c];
            }
        }
        double step[3];
        if (!solve3(h, g, step)) break;
        double mx = 0;
        for (int r = 0; r < 3; r++) {
            w[r] -= step[r];
            if (fabs(step[r]) > mx) mx = fabs(step[r]);
        }
        if (mx < 1e-10) break;
    }
    *pa = w[0];
    *pc = w[1];
    *pb = w[2];
}

/* Lowest probability whose prefix (all pairs at least that probable) still
 * has the target weighted precision over at least `minsup` true pairs;
 * 1.01 (never) when no such prefix exists. p is sorted by probability,
 * highest first. A cut never falls between two equally probable pairs.
 * dup_only: count only pairs of known duplicates' pools. */
static double threshold_for(const scored *p, size_t n, double target, size_t minsup,
                            int dup_only)
{
    double tp = 0, all = 0;
    size_t ntrue = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        if (dup_only && !p[i].dup) continue;
        all += p[i].w;
        if (p[i].y) {
            tp += p[i].w;
            ntrue++;
        }
        if (i + 1 < n && p[i + 1].p == p[i].p) continue;
        if (ntrue >= minsup && tp >= target * all) best = i + 1;
    }
    return best ? p[best - 1].p : 1.01;
}

static int is_dup(const match_trainset *ts, size_t q)
{
    return !ts->qdup || ts->qdup[q];
}

/* The top MATCH_CALIB_TOP of query q's pool, scored as match_rank scores
 * them, appended to p with weight w. */
static size_t top_pairs(const match_trainset *ts, size_t q, const match_model *m, double w,
                        scored **row, size_t *rowcap, scored *p)
{
    size_t a = ts->off[q], cnt = ts->off[q + 1] - a, n = 0;
    if (cnt > *rowcap) {
        *rowcap = cnt;
        *row = xrealloc(*row, *rowcap * sizeof **row);
    }
    scored *r = *row;
    for (size_t i = 0; i < cnt; i++) {
        r[i].s = match_score(m, ts->feat[a + i]);
        r[i].y = ts->label[a + i];
        r[i].w = w;
        r[i].dup = is_dup(ts, q);
    }
    qsort(r, cnt, sizeof *r, score_desc);
    for (size_t i = 0; i < cnt; i++)   /* as match_rank computes it */
        r[i].g = cnt < 2 ? 0 : r[i].s - r[i ? 0 : 1].s;
    for (size_t i = 0; i < cnt && i < MATCH_CALIB_TOP; i++) p[n++] = r[i];
    return n;
}

/* Two stages. The direction of the plane (how score and margin trade off)
 * is fitted on known duplicates alone: a clear winner is a strong hint of
 * which candidate is the duplicate, and that order is what the confidence
 * thresholds cut. Then a 1-D Platt on that logit over all queries, at the
 * base rate, rescales it so the probability means P(true duplicate) for an
 * arbitrary issue. Both are folded back into platt_a/b/c. */
static void fit_two_stage(scored *p, size_t n, match_model *m)
{
    scored *d = xmalloc((n ? n : 1) * sizeof *d);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].dup) d[nd++] = p[i];
    double a, b, c, alpha, beta, unused;
    fit_platt(d, nd, &a, &b, &c);
    for (size_t i = 0; i < n; i++) {
        d[i] = p[i];
        d[i].s = a * p[i].s + c * p[i].g + b;
        d[i].g = 0;
    }
    fit_platt(d, n, &alpha, &beta, &unused);
    free(d);
    /* 1/(1+exp(alpha z + beta)) with z = a s + c g + b */
    m->platt_a = alpha * a;
    m->platt_c = alpha * c;
    m->platt_b = alpha * b + beta;
}

/* Calibration on the held-out known duplicates dq and the no-duplicate
 * queries nq, the latter's weights multiplied by negscale. */
static void calibrate(const match_trainset *ts, const size_t *dq, size_t ndq, const size_t *ngq,
                      size_t nngq, double negscale, const match_train_opts *o, match_model *m)
{
    scored *p = xmalloc(((ndq + nngq) * MATCH_CALIB_TOP + 1) * sizeof *p);
    scored *row = NULL;
    size_t n = 0, rowcap = 0;
    for (size_t k = 0; k < ndq; k++) n += top_pairs(ts, dq[k], m, 1.0, &row, &rowcap, p + n);
    for (size_t k = 0; k < nngq; k++)
        n += top_pairs(ts, ngq[k], m, ts->qweight[ngq[k]] * negscale, &row, &rowcap, p + n);
    free(row);
    fit_two_stage(p, n, m);
    for (size_t i = 0; i < n; i++) p[i].p = match_prob_margin(m, p[i].s, p[i].g);
    qsort(p, n, sizeof *p, prob_desc);
    /* confidence: how often the suggestion is right when the issue has a
     * duplicate (held-out known duplicates); relation: duplicate when it is
     * more likely than not over all queries, and always at high */
    m->thr_high = threshold_for(p, n, o->high_precision, 10, 1);
    m->thr_medium = threshold_for(p, n, o->medium_precision, 10, 1);
    if (m->thr_medium > m->thr_high) m->thr_medium = m->thr_high;
    free(p);
}

typedef struct qkey {
    int64_t t;
    size_t q;
} qkey;

/* Chronological, ties by insertion order (qsort is not stable). */
static int qkey_cmp(const void *a, const void *b)
{
    const qkey *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->q < y->q ? -1 : x->q > y->q;
}

int match_train(const match_trainset *ts, const match_train_opts *o, match_model *out,
                dp_err *err)
{
    match_train_opts def;
    if (!o) {
        match_train_opts_default(&def);
        o = &def;
    }
    memset(out, 0, sizeof *out);
    match_model_copy(out, match_model_default());
    free(out->trained_on);
    out->trained_on = NULL;
    size_t n = ts->nq ? ts->nq : 1, nd = 0, nneg = 0, nusable = 0;
    qkey *keys = xmalloc(n * sizeof *keys);
    size_t *neg = xmalloc(n * sizeof *neg);
    for (size_t q = 0; q < ts->nq; q++) {
        if (!is_dup(ts, q)) {
            if (ts->qweight[q] > 0 && ts->off[q + 1] > ts->off[q]) neg[nneg++] = q;
            continue;
        }
        keys[nd++] = (qkey){ts->qtime[q], q};
        nusable += (size_t)usable(ts, q);
    }
    if (nusable < 2) {
        free(keys);
        free(neg);
        return dp_fail(err, "too few training queries with a duplicate in their pool (%zu)",
                       nusable);
    }
    qsort(keys, nd, sizeof *keys, qkey_cmp);
    size_t *qs = xmalloc(nd * sizeof *qs);
    for (size_t i = 0; i < nd; i++) qs[i] = keys[i].q;
    free(keys);
    /* the latest calib_share of known duplicates is held out; at least one
     * usable query stays for the weights (nusable >= 2 makes that possible) */
    size_t ncal = (size_t)((double)nd * o->calib_share);
    if (ncal < 1) ncal = 1;
    size_t first = 0;
    while (!usable(ts, qs[first])) first++;
    if (ncal > nd - first - 1) ncal = nd - first - 1;
    size_t *fit = xmalloc(nd * sizeof *fit), nfit = 0;
    for (size_t i = 0; i + ncal < nd; i++)
        if (usable(ts, qs[i])) fit[nfit++] = qs[i];
    fit_weights(ts, fit, nfit, o, out);
    /* no-duplicate queries stand for every issue without a known duplicate;
     * only ncal of the nd known duplicates are held out, so they count for
     * ncal/nd as much to keep the base rate */
    calibrate(ts, qs + (nd - ncal), ncal, neg, nneg, (double)ncal / (double)nd, o, out);
    out->ntrain = nd;
    out->trained_at = (int64_t)time(NULL);
    free(fit);
    free(qs);
    free(neg);
    return DP_OK;
}
