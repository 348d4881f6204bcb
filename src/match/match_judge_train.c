/* match_judge_train.c -- fitting the judge: a softmax over not related /
 * related / duplicate on standardised judge features, by full-batch Adam
 * from zero (deterministic, like the ranker), then the confidence cut-offs
 * on the pairs it never saw (the latest share by query time).
 *
 * Cut-offs are fitted, not fixed at 0.9 and 0.6: "high" must hold its
 * promise -- of the pairs shown with a relation at high confidence, at
 * least 90% have it -- and a cut-off is the lowest probability at which the
 * held-out pairs at or above it keep that promise with room to spare.
 */
#include "match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CLASS 10        /* fewest duplicates and related pairs to fit on */
#define MIN_SUPPORT 10      /* fewest correct pairs behind a cut-off */
#define EPOCHS 400
#define LR 0.05
#define FOLDS 4            /* out-of-fold judgments for the cut-offs */

void match_judgeset_add(match_judgeset *js, int64_t qtime, const double jf[JF_COUNT], int label)
{
    if (js->n == js->cap) {
        js->cap = js->cap ? js->cap * 2 : 1024;
        js->jf = xrealloc(js->jf, js->cap * sizeof *js->jf);
        js->label = xrealloc(js->label, js->cap);
        js->qtime = xrealloc(js->qtime, js->cap * sizeof *js->qtime);
    }
    memcpy(js->jf[js->n], jf, sizeof js->jf[0]);
    js->label[js->n] = (unsigned char)label;
    js->qtime[js->n] = qtime;
    js->n++;
}

void match_judgeset_append(match_judgeset *dst, const match_judgeset *src)
{
    for (size_t i = 0; i < src->n; i++)
        match_judgeset_add(dst, src->qtime[i], src->jf[i], src->label[i]);
    dst->dup_closed += src->dup_closed;
    dst->dup_closed_linked += src->dup_closed_linked;
}

void match_judgeset_free(match_judgeset *js)
{
    free(js->jf);
    free(js->label);
    free(js->qtime);
    memset(js, 0, sizeof *js);
}

/* ---- the softmax ------------------------------------------------------------ */

static void standardise(const match_judgeset *js, const size_t *rows, size_t n, match_judge_model *j)
{
    for (int f = 0; f < JF_COUNT; f++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < n; i++) sum += js->jf[rows[i]][f];
        double mean = n ? sum / (double)n : 0;
        for (size_t i = 0; i < n; i++) {
            double d = js->jf[rows[i]][f] - mean;
            sq += d * d;
        }
        double sd = n ? sqrt(sq / (double)n) : 0;
        j->mean[f] = mean;
        j->scale[f] = sd > 1e-9 ? sd : 1.0;
    }
}

/* Gradient of the mean cross-entropy over the n standardised rows xs with
 * labels lab (classes RELATED and DUPLICATE; NONE is the reference at 0). */
static void gradient(const double (*xs)[JF_COUNT], const unsigned char *lab, size_t n,
                     const match_judge_model *j, double gw[RELATION_COUNT][JF_COUNT],
                     double gb[RELATION_COUNT])
{
    memset(gw, 0, sizeof(double) * RELATION_COUNT * JF_COUNT);
    memset(gb, 0, sizeof(double) * RELATION_COUNT);
    for (size_t i = 0; i < n; i++) {
        const double *x = xs[i];
        double z[RELATION_COUNT], mx = -1e300;
        for (int r = 0; r < RELATION_COUNT; r++) {
            z[r] = j->b[r];
            for (int f = 0; f < JF_COUNT; f++) z[r] += j->w[r][f] * x[f];
            if (z[r] > mx) mx = z[r];
        }
        double sum = 0;
        for (int r = 0; r < RELATION_COUNT; r++) sum += (z[r] = exp(z[r] - mx));
        for (int r = 1; r < RELATION_COUNT; r++) {
            double d = z[r] / sum - (lab[i] == r);
            gb[r] += d;
            for (int f = 0; f < JF_COUNT; f++) gw[r][f] += d * x[f];
        }
    }
    for (int r = 1; r < RELATION_COUNT; r++) {
        gb[r] /= (double)n;
        for (int f = 0; f < JF_COUNT; f++) gw[r][f] /= (double)n;
    }
}

/* Rows a softmax learns from: Relates (ambiguous) only informs the cut-offs. */
static size_t learnable(const match_judgeset *js, const size_t *rows, size_t n, size_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (js->label[rows[i]] < RELATION_COUNT) out[k++] = rows[i];
    return k;
}

static void fit(const match_judgeset *js, const size_t *all, size_t nall, double l2, match_judge_model *j)
{
    size_t *rows = xmalloc((nall ? nall : 1) * sizeof *rows);
    size_t n = learnable(js, all, nall, rows);
    standardise(js, rows, n, j);
    double (*xs)[JF_COUNT] = xmalloc((n ? n : 1) * sizeof *xs);
    unsigned char *lab = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        for (int f = 0; f < JF_COUNT; f++) xs[i][f] = (js->jf[rows[i]][f] - j->mean[f]) / j->scale[f];
        lab[i] = js->label[rows[i]];
    }
    memset(j->w, 0, sizeof j->w);
    memset(j->b, 0, sizeof j->b);
    static const double b1 = 0.9, b2 = 0.999;
    double mw[RELATION_COUNT][JF_COUNT] = {{0}}, vw[RELATION_COUNT][JF_COUNT] = {{0}};
    double mb[RELATION_COUNT] = {0}, vb[RELATION_COUNT] = {0};
    double gw[RELATION_COUNT][JF_COUNT], gb[RELATION_COUNT];
    for (int t = 1; t <= EPOCHS; t++) {
        gradient((const double (*)[JF_COUNT])xs, lab, n, j, gw, gb);
        double c1 = 1 - pow(b1, t), c2 = 1 - pow(b2, t);
        for (int r = 1; r < RELATION_COUNT; r++) {
            for (int f = 0; f < JF_COUNT; f++) {
                double g = gw[r][f] + 2 * l2 * j->w[r][f];
                mw[r][f] = b1 * mw[r][f] + (1 - b1) * g;
                vw[r][f] = b2 * vw[r][f] + (1 - b2) * g * g;
                j->w[r][f] -= LR * (mw[r][f] / c1) / (sqrt(vw[r][f] / c2) + 1e-8);
            }
            mb[r] = b1 * mb[r] + (1 - b1) * gb[r];
            vb[r] = b2 * vb[r] + (1 - b2) * gb[r] * gb[r];
            j->b[r] -= LR * (mb[r] / c1) / (sqrt(vb[r] / c2) + 1e-8);
        }
    }
    free(xs);
    free(lab);
    free(rows);
}

/* ---- the cut-offs -------------------------------------------------------------- */

typedef struct shown {
    double p;
    int ok;
} shown;

static int shown_desc(const void *a, const void *b)
{
    const shown *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return y->ok - x->ok;
}

/* Lowest p whose prefix (all pairs at least that probable, p sorted
 * descending) keeps precision >= target over >= MIN_SUPPORT correct pairs;
 * 1.01 (never) when none does. A cut never splits equal probabilities. */
static double prefix_cut(const shown *v, size_t n, double target)
{
    size_t ok = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        ok += (size_t)v[i].ok;
        if (i + 1 < n && v[i + 1].p == v[i].p) continue;
        if (ok >= MIN_SUPPORT && (double)ok >= target * (double)(i + 1)) best = i + 1;
    }
    return best ? v[best - 1].p : 1.01;
}

/* Lowest p such that the pairs in [p, hi) keep precision >= target. */
static double band_cut(const shown *v, size_t n, double hi, double target)
{
    size_t ok = 0, all = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].p >= hi) continue;
        all++;
        ok += (size_t)v[i].ok;
        if (i + 1 < n && v[i + 1].p == v[i].p) continue;
        if (ok >= MIN_SUPPORT && (double)ok >= target * (double)all) best = i + 1;
    }
    return best ? v[best - 1].p : hi;
}

/* Out-of-fold judgments: what each row would be shown as by a judge that
 * never saw it. */
typedef struct oof {
    unsigned char rel;
    double p;
} oof;

/* The cut-offs from out-of-fold judgments of the rows whose truth a link
 * gives (duplicate or related), never below the floors: a pair called
 * "high" with a probability of 0.6 would read as a contradiction. */
static void fit_cuts(const match_judgeset *js, const oof *o_rows, const match_train_opts *o,
                     match_judge_model *j)
{
    j->thr_high[RELATION_NONE] = 0.9;
    j->thr_medium[RELATION_NONE] = 0.6;
    shown *v = xmalloc((js->n ? js->n : 1) * sizeof *v);
    for (int rel = RELATION_RELATED; rel <= RELATION_DUPLICATE; rel++) {
        size_t k = 0;
        for (size_t i = 0; i < js->n; i++) {
            int truth = js->label[i];
            if (truth == RELATION_NONE || o_rows[i].rel != rel) continue;   /* unlinked: unknown */
            if (truth == MATCH_LABEL_RELATES && rel == RELATION_DUPLICATE) continue;   /* left out */
            v[k++] = (shown){o_rows[i].p, truth == rel || truth == MATCH_LABEL_RELATES};
        }
        qsort(v, k, sizeof *v, shown_desc);
        double hi = prefix_cut(v, k, o->judge_high);
        if (hi < MATCH_HIGH_FLOOR) hi = MATCH_HIGH_FLOOR;
        double med = band_cut(v, k, hi, o->judge_medium);
        if (med < MATCH_MEDIUM_FLOOR) med = MATCH_MEDIUM_FLOOR;
        j->thr_high[rel] = hi;
        j->thr_medium[rel] = med < hi ? med : hi;
    }
    free(v);
}

/* ---- the whole fit ----------------------------------------------------------- */

typedef struct rkey {
    int64_t t;
    size_t i;
} rkey;

static int rkey_cmp(const void *a, const void *b)
{
    const rkey *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* The tracker's link rate: how many of the items it closed as duplicates
 * name their twin; unknown (too few) counts as all. */
static double link_rate(const match_judgeset *js)
{
    if (js->dup_closed < 20) return 1.0;
    return (double)js->dup_closed_linked / (double)js->dup_closed;
}

int match_judge_train(const match_judgeset *js, const match_train_opts *o, match_model *m,
                      dp_err *err)
{
    match_train_opts def;
    if (!o) {
        match_train_opts_default(&def);
        o = &def;
    }
    size_t ndup = 0, nrel = 0;
    for (size_t i = 0; i < js->n; i++) {
        ndup += js->label[i] == RELATION_DUPLICATE;
        nrel += js->label[i] == RELATION_RELATED;
    }
    if (ndup < MIN_CLASS || nrel < MIN_CLASS)
        return dp_fail(err, "too few linked pairs to fit the judge (%zu duplicates, %zu related)", ndup,
                       nrel);
    rkey *k = xmalloc(js->n * sizeof *k);
    for (size_t i = 0; i < js->n; i++) k[i] = (rkey){js->qtime[i], i};
    qsort(k, js->n, sizeof *k, rkey_cmp);
    size_t *rows = xmalloc(js->n * sizeof *rows), *fitrows = xmalloc(js->n * sizeof *fitrows);
    for (size_t i = 0; i < js->n; i++) rows[i] = k[i].i;
    free(k);
    /* K folds of consecutive query times: each judged by a judge fitted on
     * the others, so the cut-offs meet pairs the judge did not see */
    oof *o_rows = xcalloc(js->n, sizeof *o_rows);
    match_model fm = *m;
    fm.trained_on = NULL;
    for (int f = 0; f < FOLDS; f++) {
        size_t lo = js->n * (size_t)f / FOLDS, hi = js->n * (size_t)(f + 1) / FOLDS, nf = 0;
        for (size_t i = 0; i < js->n; i++)
            if (i < lo || i >= hi) fitrows[nf++] = rows[i];
        memset(&fm.judge, 0, sizeof fm.judge);
        fit(js, fitrows, nf, o->judge_l2, &fm.judge);
        fm.judge.link_rate = link_rate(js);
        fm.judge.trained = 1;
        for (size_t i = lo; i < hi; i++) {
            double p[RELATION_COUNT];
            match_judgment jd;
            match_judge_probs(&fm, js->jf[rows[i]], p);
            match_judge_decide(&fm, js->jf[rows[i]], p, &jd);
            o_rows[rows[i]] = (oof){(unsigned char)jd.relation, jd.p_shown};
        }
    }
    match_judge_model *j = &m->judge;
    memset(j, 0, sizeof *j);
    fit(js, rows, js->n, o->judge_l2, j);
    j->link_rate = link_rate(js);
    j->trained = 1;
    fit_cuts(js, o_rows, o, j);
    free(o_rows);
    free(fitrows);
    free(rows);
    return DP_OK;
}
