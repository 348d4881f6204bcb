/* eval_report.c -- the truth CSV reader and the three report formats of
 * `doppel eval`: plain text, JSON (jansson) and one self-contained HTML page
 * with inline SVG (recall@k curves, calibration diagram, worst misses). */
#include "eval.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- truth CSV ------------------------------------------------------------ */

/* Splits one CSV line into fields (RFC 4180 quotes; no embedded newlines). */
static void csv_fields(const char *line, strvec *out)
{
    sbuf f;
    sb_init(&f);
    const char *p = line;
    for (;;) {
        sb_reset(&f);
        sb_adds(&f, "");
        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"' && p[1] == '"') {
                    sb_addc(&f, '"');
                    p++;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    sb_addc(&f, *p);
                }
            }
        }
        while (*p && *p != ',') sb_addc(&f, *p++);
        /* trim spaces and a CR */
        char *s = f.s;
        size_t n = f.len;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\r')) n--;
        while (n && *s == ' ') s++, n--;
        sv_push_owned(out, xstrndup(s, n));
        if (*p != ',') break;
        p++;
    }
    sb_free(&f);
}

int eval_truth_load_csv(const char *path, eval_pairs *out, dp_err *err)
{
    char *buf;
    size_t len;
    if (dp_read_file(path, &buf, &len, err) != DP_OK) return DP_ERR;
    int qcol = -1, dcol = -1, lineno = 0, rc = DP_OK;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        strvec f = {0};
        csv_fields(line, &f);
        if (qcol < 0) {
            for (size_t i = 0; i < f.n; i++) {
                if (!strcasecmp(f.v[i], "query")) qcol = (int)i;
                if (!strcasecmp(f.v[i], "duplicate_of")) dcol = (int)i;
            }
            sv_free(&f);
            if (qcol < 0 || dcol < 0) {
                rc = dp_fail(err, "%s:1: header must name the columns query and duplicate_of", path);
                break;
            }
            continue;
        }
        if (f.n == 1 && !*f.v[0]) {   /* blank line */
            sv_free(&f);
            continue;
        }
        if ((int)f.n <= qcol || (int)f.n <= dcol || !*f.v[qcol] || !*f.v[dcol]) {
            sv_free(&f);
            rc = dp_fail(err, "%s:%d: missing query or duplicate_of", path, lineno);
            break;
        }
        eval_pairs_add(out, f.v[qcol], f.v[dcol]);
        sv_free(&f);
    }
    if (rc == DP_OK && qcol < 0) rc = dp_fail(err, "%s: empty file (expected a header)", path);
    free(buf);
    return rc;
}

/* ---- text ------------------------------------------------------------------- */

static void metrics_line(FILE *out, const char *name, const eval_metrics *m)
{
    fprintf(out, "  %-16s %6.3f %6.3f %6.3f %6.3f %6.3f\n", name, m->recall[0], m->recall[1],
            m->recall[2], m->recall[3], m->mrr);
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* The headline numbers of the judgment (see eval.h for their meaning). */
typedef struct jnum {
    double dup_high_precision, dup_high_recall, dup_high_precision_all;
    double rel_high_precision, rel_high_recall, rel_high_precision_any_kind;
} jnum;

static void judgment_numbers(const eval_judgment *j, jnum *n)
{
    const int D = RELATION_DUPLICATE, R = RELATION_RELATED, H = EVAL_HIGH;
    n->dup_high_precision = ratio((double)j->correct[D][H], (double)j->linked[D][H]);
    n->dup_high_precision_all = ratio((double)j->correct[D][H], (double)j->shown[D][H]);
    n->dup_high_recall = ratio((double)j->dup_caught[H], (double)j->dup_queries);
    n->rel_high_precision = ratio((double)j->correct_ii[H], (double)j->linked_ii[H]);
    n->rel_high_precision_any_kind = ratio((double)j->correct[R][H], (double)j->linked[R][H]);
    n->rel_high_recall = ratio((double)j->rel_caught[H], (double)j->rel_queries);
}

/* Levels are confidence levels, high first. */
#define level_name(l) confidence_name((confidence_level)(l))

static void judgment_text(const eval_result *r, FILE *out)
{
    const eval_judgment *j = &r->judgment;
    jnum n;
    judgment_numbers(j, &n);
    fprintf(out, "\njudgment: %zu queries (every item of the test period), %zu pairs shown "
                 "(top %d each), truth from links\n", j->queries, j->pairs, MATCH_CALIB_TOP);
    fprintf(out, "  duplicate · high: precision %.3f (link truth, Relates left out), "
                 "%.3f over every pair shown (unlinked = wrong); recall %.3f (%zu/%zu "
                 "queries with a known duplicate)\n", n.dup_high_precision,
            n.dup_high_precision_all, n.dup_high_recall, j->dup_caught[EVAL_HIGH], j->dup_queries);
    fprintf(out, "  related · high: precision %.3f on issue/issue pairs (%.3f all kinds; "
                 "Relates counts as related); recall %.3f (%zu/%zu queries with a related item)\n",
            n.rel_high_precision, n.rel_high_precision_any_kind, n.rel_high_recall,
            j->rel_caught[EVAL_HIGH], j->rel_queries);
    fprintf(out, "  %-12s %-7s %8s %8s %9s %9s\n", "shown", "level", "pairs", "linked", "precision",
            "all");
    for (int rel = RELATION_DUPLICATE; rel >= RELATION_NONE; rel--)
        for (int l = 0; l < EVAL_LEVELS; l++) {
            double all = rel == RELATION_NONE ? ratio((double)j->correct_all_none[l], (double)j->shown[rel][l])
                                              : ratio((double)j->correct[rel][l], (double)j->shown[rel][l]);
            fprintf(out, "  %-12s %-7s %8zu %8zu %9.3f %9.3f\n", relation_name((relation_kind)rel),
                    level_name(l), j->shown[rel][l], j->linked[rel][l],
                    ratio((double)j->correct[rel][l], (double)j->linked[rel][l]), all);
        }
    fprintf(out, "  confusion (rows: truth, columns: shown; unlinked = not_related, Relates out)\n"
                 "  %-12s %12s %12s %12s\n", "", relation_name(RELATION_DUPLICATE),
            relation_name(RELATION_RELATED), relation_name(RELATION_NONE));
    for (int t = RELATION_DUPLICATE; t >= RELATION_NONE; t--)
        fprintf(out, "  %-12s %12zu %12zu %12zu\n", relation_name((relation_kind)t),
                j->confusion[t][RELATION_DUPLICATE], j->confusion[t][RELATION_RELATED],
                j->confusion[t][RELATION_NONE]);
    size_t rel_total = 0;
    for (int rel = 0; rel < RELATION_COUNT; rel++)
        for (int l = 0; l < EVAL_LEVELS; l++) rel_total += j->relates[rel][l];
    fprintf(out, "  Relates-linked pairs (%zu): shown duplicate %zu, related %zu, not related %zu\n",
            rel_total, j->relates[RELATION_DUPLICATE][0] + j->relates[RELATION_DUPLICATE][1] + j->relates[RELATION_DUPLICATE][2],
            j->relates[RELATION_RELATED][0] + j->relates[RELATION_RELATED][1] + j->relates[RELATION_RELATED][2],
            j->relates[RELATION_NONE][0] + j->relates[RELATION_NONE][1] + j->relates[RELATION_NONE][2]);
    for (int k = 0; k < 2; k++)
        fprintf(out, "  same failure%s: %zu pairs; linked as duplicates %zu, related %zu, Relates %zu; unlinked %zu\n",
                k ? ", lifted from not related by the floor" : " (rare frames or error line in common)",
                j->failure[k][0] + j->failure[k][1] + j->failure[k][2] + j->failure[k][3], j->failure[k][0],
                j->failure[k][1], j->failure[k][2], j->failure[k][3]);
    fprintf(out, "queue: share of true duplicates among the top pairs shown as duplicates, by "
                 "value: @20 %.3f, @50 %.3f, @100 %.3f\n", j->queue_at[0], j->queue_at[1], j->queue_at[2]);
}

void eval_report_text(const eval_result *r, FILE *out)
{
    char d[16] = "-";
    if (r->split_time) dp_format_date(r->split_time, d, sizeof d);
    fprintf(out, "repository %s: %zu items, %zu known duplicates as queries (%zu out of window)\n",
            r->repo, r->nitems, r->nqueries, r->out_of_window);
    fprintf(out, "model: %s\n", r->model_desc);
    fprintf(out, "split: %zu training queries, %zu test queries (filed from %s on)\n", r->ntrain,
            r->nq, d);
    fprintf(out, "\nduplicates (%zu test queries)   R@1    R@5   R@10   R@20    MRR\n", r->learned.n);
    metrics_line(out, "learned", &r->learned);
    metrics_line(out, "bm25 baseline", &r->base);
    fprintf(out, "  %-16s %6.2fx %5.2fx %5.2fx %5.2fx %5.2fx\n", "lift", ratio(r->learned.recall[0], r->base.recall[0]),
            ratio(r->learned.recall[1], r->base.recall[1]), ratio(r->learned.recall[2], r->base.recall[2]),
            ratio(r->learned.recall[3], r->base.recall[3]), ratio(r->learned.mrr, r->base.mrr));
    fprintf(out, "\nrelated links (%zu queries)      R@1    R@5   R@10   R@20    MRR\n", r->rel_learned.n);
    metrics_line(out, "learned", &r->rel_learned);
    metrics_line(out, "bm25 baseline", &r->rel_base);
    judgment_text(r, out);
    fprintf(out, "\nspeed: index %.2fs, training %.2fs, ranking and judging %.2fs (%.0f queries/s)\n",
            r->seconds_index, r->seconds_train, r->seconds_rank, r->qps);
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *metrics_json(const eval_metrics *m)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "queries", (json_int_t)m->n, "recall@1",
                     m->recall[0], "recall@5", m->recall[1], "recall@10", m->recall[2],
                     "recall@20", m->recall[3], "mrr", m->mrr);
}

/* Counts per relation shown and level: {"duplicate": {"high": n, ...}, ...}. */
static json_t *by_relation_level(const size_t v[RELATION_COUNT][EVAL_LEVELS])
{
    json_t *o = json_object();
    for (int rel = RELATION_DUPLICATE; rel >= RELATION_NONE; rel--) {
        json_t *l = json_object();
        for (int k = 0; k < EVAL_LEVELS; k++) json_object_set_new(l, level_name(k), json_integer((json_int_t)v[rel][k]));
        json_object_set_new(o, relation_name((relation_kind)rel), l);
    }
    return o;
}

/* The keys issue readers rely on: judgment.duplicate_high_precision,
 * judgment.duplicate_high_recall, judgment.related_high_precision,
 * judgment.related_high_recall, judgment.duplicate_high_precision_all,
 * judgment.relates, judgment.confusion (truth -> shown),
 * judgment.same_failure and .same_failure_lifted (by truth), and
 * queue.precision_at_20/50/100; plus the full tables behind them. */
static void judgment_json(const eval_result *r, json_t *root)
{
    const eval_judgment *j = &r->judgment;
    jnum n;
    judgment_numbers(j, &n);
    json_t *o = json_object();
    json_object_set_new(o, "queries", json_integer((json_int_t)j->queries));
    json_object_set_new(o, "pairs", json_integer((json_int_t)j->pairs));
    json_object_set_new(o, "duplicate_high_precision", json_real(n.dup_high_precision));
    json_object_set_new(o, "duplicate_high_recall", json_real(n.dup_high_recall));
    json_object_set_new(o, "related_high_precision", json_real(n.rel_high_precision));
    json_object_set_new(o, "related_high_recall", json_real(n.rel_high_recall));
    json_object_set_new(o, "duplicate_high_precision_all", json_real(n.dup_high_precision_all));
    json_object_set_new(o, "related_high_precision_any_kind", json_real(n.rel_high_precision_any_kind));
    json_object_set_new(o, "relates", by_relation_level(j->relates));
    json_t *conf = json_object();
    for (int t = RELATION_DUPLICATE; t >= RELATION_NONE; t--) {
        json_t *row = json_object();
        for (int sh = RELATION_DUPLICATE; sh >= RELATION_NONE; sh--)
            json_object_set_new(row, relation_name((relation_kind)sh), json_integer((json_int_t)j->confusion[t][sh]));
        json_object_set_new(conf, relation_name((relation_kind)t), row);
    }
    json_object_set_new(o, "confusion", conf);
    static const char *const truth_names[4] = {"duplicate", "related", "relates", "unlinked"};
    for (int k = 0; k < 2; k++) {   /* the same failure (match.h), all and lifted by the floor */
        json_t *f = json_object();
        for (int t = 0; t < 4; t++) json_object_set_new(f, truth_names[t], json_integer((json_int_t)j->failure[k][t]));
        json_object_set_new(o, k ? "same_failure_lifted" : "same_failure", f);
    }
    json_object_set_new(o, "shown", by_relation_level(j->shown));
    json_object_set_new(o, "linked", by_relation_level(j->linked));
    json_object_set_new(o, "correct", by_relation_level(j->correct));
    json_t *rec = json_object();
    for (int k = 0; k < EVAL_LEVELS; k++)
        json_object_set_new(rec, level_name(k),
                            json_pack("{s:f, s:f}", relation_name(RELATION_DUPLICATE),
                                      ratio((double)j->dup_caught[k], (double)j->dup_queries),
                                      relation_name(RELATION_RELATED), ratio((double)j->rel_caught[k], (double)j->rel_queries)));
    json_object_set_new(o, "recall_at_or_above", rec);
    json_t *ii = json_object(), *iil = json_object(), *iic = json_object();
    for (int k = 0; k < EVAL_LEVELS; k++) {
        json_object_set_new(iil, level_name(k), json_integer((json_int_t)j->linked_ii[k]));
        json_object_set_new(iic, level_name(k), json_integer((json_int_t)j->correct_ii[k]));
    }
    json_object_set_new(ii, "linked", iil);
    json_object_set_new(ii, "correct", iic);
    json_object_set_new(o, "related_issue_issue", ii);
    json_t *caught = json_object();
    for (int k = 0; k < EVAL_LEVELS; k++)
        json_object_set_new(caught, level_name(k), json_pack("{s:I, s:I}", relation_name(RELATION_DUPLICATE),
                                                              (json_int_t)j->dup_caught[k],
                                                              relation_name(RELATION_RELATED), (json_int_t)j->rel_caught[k]));
    json_object_set_new(o, "caught_at_or_above", caught);
    json_object_set_new(o, "queries_with_duplicate", json_integer((json_int_t)j->dup_queries));
    json_object_set_new(o, "queries_with_related", json_integer((json_int_t)j->rel_queries));
    json_t *rel = json_object();
    /* reliability bins: 0 duplicate, 1 related */
    static const relation_kind rn[2] = {RELATION_DUPLICATE, RELATION_RELATED};
    for (int k = 0; k < 2; k++) {
        json_t *bins = json_array();
        for (int b = 0; b < EVAL_BINS; b++)
            if (j->rbin_n[k][b])
                json_array_append_new(bins, json_pack("{s:f, s:f, s:I, s:f}", "from", (double)b / EVAL_BINS,
                                                      "mean_prob", j->rbin_p[k][b] / (double)j->rbin_n[k][b],
                                                      "pairs", (json_int_t)j->rbin_n[k][b], "share_true",
                                                      j->rbin_true[k][b] / (double)j->rbin_n[k][b]));
        json_object_set_new(rel, relation_name(rn[k]), bins);
    }
    json_object_set_new(o, "reliability", rel);
    json_t *cuts = json_object();
    for (int k = RELATION_DUPLICATE; k >= RELATION_NONE; k--)
        json_object_set_new(cuts, relation_name((relation_kind)k),
                            json_pack("{s:f, s:f}", confidence_name(CONFIDENCE_HIGH), r->model.judge.thr_high[k],
                                      confidence_name(CONFIDENCE_MEDIUM),
                                      r->model.judge.thr_medium[k]));
    json_object_set_new(o, "cutoffs", cuts);
    json_object_set_new(o, "link_rate", json_real(match_judge_link_rate(&r->model.judge)));
    json_t *ul = json_array();
    for (size_t i = 0; i < j->nunlinked; i++) {
        const eval_pair_note *u = &j->unlinked[i];
        json_array_append_new(ul, json_pack("{s:s, s:s, s:s, s:s, s:f}", "query", u->query, "title", u->query_title,
                                            "candidate", u->cand, "candidate_title", u->cand_title, "prob", u->prob));
    }
    json_object_set_new(o, "unlinked_duplicates", ul);
    json_object_set_new(root, "judgment", o);
    json_object_set_new(root, "queue", json_pack("{s:f, s:f, s:f, s:I, s:I, s:I}", "precision_at_20", j->queue_at[0],
                                                 "precision_at_50", j->queue_at[1], "precision_at_100",
                                                 j->queue_at[2], "pairs_at_20", (json_int_t)j->queue_n[0],
                                                 "pairs_at_50", (json_int_t)j->queue_n[1], "pairs_at_100",
                                                 (json_int_t)j->queue_n[2]));
}

char *eval_report_json(const eval_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "repo", json_string(r->repo));
    json_object_set_new(o, "items", json_integer((json_int_t)r->nitems));
    json_object_set_new(o, "queries", json_integer((json_int_t)r->nqueries));
    json_object_set_new(o, "out_of_window", json_integer((json_int_t)r->out_of_window));
    json_object_set_new(o, "train_queries", json_integer((json_int_t)r->ntrain));
    json_object_set_new(o, "test_queries", json_integer((json_int_t)r->nq));
    json_object_set_new(o, "model", json_string(r->model_desc));
    json_object_set_new(o, "trained_in_run", json_boolean(r->trained_in_run));
    json_object_set_new(o, "learned", metrics_json(&r->learned));
    json_object_set_new(o, "baseline", metrics_json(&r->base));
    json_object_set_new(o, "related_learned", metrics_json(&r->rel_learned));
    json_object_set_new(o, "related_baseline", metrics_json(&r->rel_base));
    judgment_json(r, o);
    json_object_set_new(o, "seconds", json_pack("{s:f, s:f, s:f}", "index", r->seconds_index,
                                                "train", r->seconds_train, "rank", r->seconds_rank));
    json_object_set_new(o, "queries_per_second", json_real(r->qps));
    json_t *tq = json_array();
    for (size_t i = 0; i < r->nq; i++)
        json_array_append_new(tq, json_pack("{s:s, s:s?, s:i, s:i}", "query", r->q[i].key, "target",
                                            r->q[i].target, "rank", r->q[i].rank, "baseline_rank",
                                            r->q[i].base_rank));
    json_object_set_new(o, "test", tq);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    char *res = xstrdup(s);
    free(s);
    return res;
}

/* ---- HTML ---------------------------------------------------------------- */

static void html_esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

#define CURVE_K 20

static void recall_curve(const eval_result *r, int base, double out[CURVE_K + 1])
{
    for (int k = 0; k <= CURVE_K; k++) out[k] = 0;
    if (!r->nq) return;
    for (size_t i = 0; i < r->nq; i++) {
        int rk = base ? r->q[i].base_rank : r->q[i].rank;
        for (int k = 1; k <= CURVE_K; k++)
            if (rk > 0 && rk <= k) out[k] += 1;
    }
    for (int k = 1; k <= CURVE_K; k++) out[k] /= (double)r->nq;
}

/* Plot area 400x240 at (50,20). */
static double px(double x, double xmax)
{
    return 50 + 400 * x / xmax;
}
static double py(double y)
{
    return 260 - 240 * y;
}

static void svg_axes(FILE *f, const char *xlabel, const char *ylabel, double xmax, int xticks)
{
    fprintf(f, "<line x1=\"50\" y1=\"260\" x2=\"450\" y2=\"260\" stroke=\"#333\"/>"
               "<line x1=\"50\" y1=\"20\" x2=\"50\" y2=\"260\" stroke=\"#333\"/>\n");
    for (int i = 0; i <= 5; i++) {
        double y = i / 5.0;
        fprintf(f, "<line x1=\"50\" y1=\"%.1f\" x2=\"450\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"44\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.1f</text>\n",
                py(y), py(y), py(y) + 4, y);
    }
    for (int i = 0; i <= xticks; i++) {
        double x = xmax * i / xticks;
        fprintf(f, "<text x=\"%.1f\" y=\"276\" text-anchor=\"middle\" font-size=\"11\">%g</text>\n",
                px(x, xmax), x);
    }
    fprintf(f, "<text x=\"250\" y=\"296\" text-anchor=\"middle\" font-size=\"12\">%s</text>"
               "<text x=\"12\" y=\"140\" font-size=\"12\" transform=\"rotate(-90 12 140)\" "
               "text-anchor=\"middle\">%s</text>\n", xlabel, ylabel);
}

static void svg_recall(FILE *f, const eval_result *r)
{
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"520\" height=\"310\" "
               "role=\"img\" aria-label=\"recall at k\">\n");
    svg_axes(f, "k", "recall@k", CURVE_K, 4);
    static const char *color[2] = {"#1f6feb", "#999"};
    static const char *name[2] = {"learned", "BM25 baseline"};
    for (int b = 0; b < 2; b++) {
        double c[CURVE_K + 1];
        recall_curve(r, b, c);
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color[b]);
        for (int k = 1; k <= CURVE_K; k++) fprintf(f, "%.1f,%.1f ", px(k, CURVE_K), py(c[k]));
        fprintf(f, "\"/>\n<text x=\"460\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">%s</text>\n",
                py(c[CURVE_K]) + (b ? 12 : -4), color[b], name[b]);
    }
    fprintf(f, "</svg>\n");
}

/* Reliability diagram of one relation (k: 0 duplicate, 1 related): per
 * bin of the probability shown (given related at all), against the share
 * of linked pairs that have that relation; the high cut-off in red. */
static void svg_reliability(FILE *f, const eval_result *r, int k)
{
    const eval_judgment *j = &r->judgment;
    const relation_kind rel = k ? RELATION_RELATED : RELATION_DUPLICATE;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"520\" height=\"310\" "
               "role=\"img\" aria-label=\"reliability, %s\">\n",
            relation_name(rel));
    svg_axes(f, "probability shown", k ? "share related" : "share duplicates", 1.0, 5);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\" "
               "stroke-dasharray=\"4 3\"/>\n", px(0, 1), py(0), px(1, 1), py(1));
    for (int b = 0; b < EVAL_BINS; b++) {
        double n = (double)j->rbin_n[k][b];
        if (n <= 0) continue;
        double share = j->rbin_true[k][b] / n;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#1f6feb\" fill-opacity=\"0.7\">"
                   "<title>%.0f pairs, %.0f%% %s</title></circle>\n",
                px(j->rbin_p[k][b] / n, 1), py(share), 3 + log1p(n), n, 100 * share, relation_name(rel));
    }
    double hi = r->model.judge.thr_high[rel];
    if (hi > 1) hi = 1;
    fprintf(f, "<line x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"260\" stroke=\"#d73a4a\"/>"
               "<text x=\"%.1f\" y=\"32\" font-size=\"11\" fill=\"#d73a4a\">high</text>\n",
            px(hi, 1), px(hi, 1), px(hi, 1) + 4);
    fprintf(f, "</svg>\n");
}

/* Worst first: not found at all, then by how far down the answer was. */
static int miss_cmp(const void *a, const void *b)
{
    const eval_query *x = *(eval_query *const *)a, *y = *(eval_query *const *)b;
    int rx = x->rank ? x->rank : 1 << 30, ry = y->rank ? y->rank : 1 << 30;
    if (rx != ry) return rx > ry ? -1 : 1;
    if (x->target_bm25_rank != y->target_bm25_rank)
        return x->target_bm25_rank > y->target_bm25_rank ? -1 : 1;
    return strcmp(x->key, y->key);
}

static void html_metrics_row(FILE *f, const char *name, const eval_metrics *m)
{
    fprintf(f, "<tr><th>%s</th><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td></tr>\n",
            name, m->recall[0], m->recall[1], m->recall[2], m->recall[3], m->mrr);
}

static void html_worst(FILE *f, const eval_result *r)
{
    const eval_query **v = xmalloc((r->nq ? r->nq : 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < r->nq; i++)
        if (r->q[i].rank != 1) v[n++] = &r->q[i];
    qsort(v, n, sizeof *v, miss_cmp);
    fprintf(f, "<h2>The %d worst misses</h2>\n<table><tr><th>query</th><th>title</th>"
               "<th>right answer</th><th>title</th><th>learned rank</th><th>BM25F rank</th>"
               "<th>baseline rank</th></tr>\n", EVAL_WORST);
    for (size_t i = 0; i < n && i < EVAL_WORST; i++) {
        const eval_query *q = v[i];
        fputs("<tr><td>", f);
        html_esc(f, q->key);
        fputs("</td><td>", f);
        html_esc(f, q->query_title);
        fputs("</td><td>", f);
        html_esc(f, q->target ? q->target : "");
        fputs("</td><td>", f);
        html_esc(f, q->target_title ? q->target_title : "");
        if (q->rank) fprintf(f, "</td><td>%d", q->rank);
        else fprintf(f, "</td><td>&gt;%d", MATCH_POOL);
        if (q->base_rank) fprintf(f, "</td><td>%d</td><td>%d</td></tr>\n", q->target_bm25_rank, q->base_rank);
        else fprintf(f, "</td><td>%d</td><td>&gt;%d</td></tr>\n", q->target_bm25_rank, MATCH_POOL);
    }
    fputs("</table>\n", f);
    free(v);
}

static void html_judgment(FILE *f, const eval_result *r)
{
    const eval_judgment *j = &r->judgment;
    jnum n;
    judgment_numbers(j, &n);
    fprintf(f, "<h2>Judgment</h2>\n<p>Every item of the test period is a query (%zu); its top %d "
               "candidates (%zu pairs) are judged as <code>analyze</code> judges them, and each "
               "pair's relation is compared with the truth its links give. <b>duplicate · high</b>: "
               "precision %.3f (link truth, Relates left out; %.3f over every pair shown, unlinked "
               "counted wrong), recall %.3f of %zu queries with a known duplicate. "
               "<b>related · high</b>: precision %.3f on issue/issue pairs (Relates counts as "
               "related), recall %.3f. Link rate used for unlinked relations: %.2f.</p>\n",
            j->queries, MATCH_CALIB_TOP, j->pairs, n.dup_high_precision, n.dup_high_precision_all,
            n.dup_high_recall, j->dup_queries, n.rel_high_precision, n.rel_high_recall,
            match_judge_link_rate(&r->model.judge));
    fputs("<table><caption>Confusion (rows: truth from links; columns: shown; unlinked counts as "
          "not related, Relates left out)</caption><tr><th></th><th>duplicate</th><th>related</th>"
          "<th>not related</th></tr>\n", f);
    for (int t = RELATION_DUPLICATE; t >= RELATION_NONE; t--)
        fprintf(f, "<tr><th>%s</th><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n",
                relation_label((relation_kind)t), j->confusion[t][RELATION_DUPLICATE],
                j->confusion[t][RELATION_RELATED], j->confusion[t][RELATION_NONE]);
    fputs("</table>\n<table><caption>Precision and recall by relation and confidence</caption>"
          "<tr><th>shown</th><th>confidence</th><th>from p</th><th>pairs</th><th>linked</th>"
          "<th>precision (links)</th><th>precision (all)</th><th>recall at or above</th>"
          "<th>Relates-linked</th></tr>\n", f);
    for (int rel = RELATION_DUPLICATE; rel >= RELATION_NONE; rel--)
        for (int l = 0; l < EVAL_LEVELS; l++) {
            double cut = l == EVAL_HIGH ? r->model.judge.thr_high[rel]
                       : l == EVAL_MEDIUM ? r->model.judge.thr_medium[rel] : 0;
            double all = rel == RELATION_NONE ? ratio((double)j->correct_all_none[l], (double)j->shown[rel][l])
                                              : ratio((double)j->correct[rel][l], (double)j->shown[rel][l]);
            double rec = rel == RELATION_DUPLICATE ? ratio((double)j->dup_caught[l], (double)j->dup_queries)
                       : rel == RELATION_RELATED ? ratio((double)j->rel_caught[l], (double)j->rel_queries) : 0;
            fprintf(f, "<tr><th>%s</th><td>%s</td><td>%.3f</td><td>%zu</td><td>%zu</td><td>%.3f</td>"
                       "<td>%.3f</td><td>%s%.3f</td><td>%zu</td></tr>\n",
                    relation_label((relation_kind)rel), level_name(l), cut > 1 ? 1.0 : cut, j->shown[rel][l],
                    j->linked[rel][l], ratio((double)j->correct[rel][l], (double)j->linked[rel][l]), all,
                    rel == RELATION_NONE ? "-" : "", rec, j->relates[rel][l]);
        }
    fprintf(f, "</table>\n<p><b>Queue</b>: of the pairs shown as duplicates, in value order, the "
               "share with a duplicate link: top 20 %.3f, top 50 %.3f, top 100 %.3f.</p>\n",
            j->queue_at[0], j->queue_at[1], j->queue_at[2]);
}

static void html_unlinked(FILE *f, const eval_result *r)
{
    const eval_judgment *j = &r->judgment;
    fprintf(f, "<h2>The most probable duplicates no link confirms</h2>\n"
               "<p>Counted as wrong in the strict view; many are duplicates nobody linked.</p>\n"
               "<table><tr><th>query</th><th>title</th><th>candidate</th><th>title</th>"
               "<th>probability</th></tr>\n");
    for (size_t i = 0; i < j->nunlinked; i++) {
        const eval_pair_note *u = &j->unlinked[i];
        fputs("<tr><td>", f);
        html_esc(f, u->query);
        fputs("</td><td>", f);
        html_esc(f, u->query_title);
        fputs("</td><td>", f);
        html_esc(f, u->cand);
        fputs("</td><td>", f);
        html_esc(f, u->cand_title);
        fprintf(f, "</td><td>%.3f</td></tr>\n", u->prob);
    }
    fputs("</table>\n", f);
}

int eval_report_html(const eval_result *r, const char *path, dp_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f) return dp_fail(err, "%s: %s", path, strerror(errno));
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>doppel eval: ", f);
    html_esc(f, r->repo);
    fputs("</title>\n<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;"
          "padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}caption{text-align:left;font-weight:600;padding:4px 0}td,th{border:1px solid "
          "#ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}"
          ".charts{display:flex;flex-wrap:wrap;gap:2em}</style></head><body>\n<h1>doppel eval: ", f);
    html_esc(f, r->repo);
    fprintf(f, "</h1>\n<p>%zu items; %zu known duplicates as queries (%zu out of window); "
               "%zu training queries, %zu test queries. Model: ",
            r->nitems, r->nqueries, r->out_of_window, r->ntrain, r->nq);
    html_esc(f, r->model_desc);
    fputs(".</p>\n<table><tr><th></th><th>R@1</th><th>R@5</th><th>R@10</th><th>R@20</th><th>MRR</th></tr>\n", f);
    html_metrics_row(f, "learned", &r->learned);
    html_metrics_row(f, "BM25 baseline", &r->base);
    html_metrics_row(f, "related: learned", &r->rel_learned);
    html_metrics_row(f, "related: BM25 baseline", &r->rel_base);
    fprintf(f, "</table>\n<p>Ranking and judging speed %.0f queries/s.</p>\n", r->qps);
    html_judgment(f, r);
    fputs("<div class=\"charts\"><figure><figcaption>Recall@k</figcaption>\n", f);
    svg_recall(f, r);
    fputs("</figure><figure><figcaption>Reliability: duplicate (probability shown, given "
          "related at all, against the share of linked pairs that are duplicates)</figcaption>\n", f);
    svg_reliability(f, r, 0);
    fputs("</figure><figure><figcaption>Reliability: related</figcaption>\n", f);
    svg_reliability(f, r, 1);
    fputs("</figure></div>\n", f);
    html_worst(f, r);
    html_unlinked(f, r);
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) return dp_fail(err, "%s: %s", path, strerror(errno));
    return DP_OK;
}
