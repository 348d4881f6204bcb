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
    static const char *lv[EVAL_LEVELS] = {"high", "medium", "low"};
    fprintf(out, "\non known duplicates (%zu test queries, each has a true answer):\n", r->nq);
    fprintf(out, "duplicate · high: precision %.3f (%zu/%zu pairs), recall %.3f (%zu/%zu queries)\n",
            r->high_precision, r->high_true, r->high_pairs, r->high_recall, r->high_caught, r->nq);
    fprintf(out, "calibration, known duplicates (top %d suggestions per query): share that are "
            "true duplicates\n", MATCH_CALIB_TOP);
    for (int l = 0; l < EVAL_LEVELS; l++)
        fprintf(out, "  %-7s %6zu pairs  %6.3f\n", lv[l], r->level_pairs[l],
                r->level_pairs[l] ? (double)r->level_true[l] / (double)r->level_pairs[l] : 0.0);
    fprintf(out, "\non all queries (what a maintainer sees): the %zu known duplicates and the %zu "
            "issues\nwithout a known duplicate of the test period (%zu sampled, each weighing "
            "%.2f; base rate %.3f):\n", r->nq, r->neg_population, r->nneg, r->neg_weight,
            r->base_rate);
    fprintf(out, "duplicate · high: precision %.3f (%zu/%.0f pairs), recall %.3f; "
            "%.1f%% of issues without a duplicate get one (%zu/%zu sampled)\n",
            r->all_high_precision, r->high_true, r->all_high_pairs, r->all_high_recall,
            100 * r->false_alarm, r->neg_high, r->nneg);
    fprintf(out, "calibration, all queries (top %d suggestions per query, pairs weighted): "
            "share that are true duplicates\n", MATCH_CALIB_TOP);
    for (int l = 0; l < EVAL_LEVELS; l++)
        fprintf(out, "  %-7s %8.0f pairs  %6.3f\n", lv[l], r->all_level_pairs[l],
                ratio(r->all_level_true[l], r->all_level_pairs[l]));
    fprintf(out, "\nspeed: index %.2fs, training %.2fs, ranking %.2fs (%.0f queries/s)\n",
            r->seconds_index, r->seconds_train, r->seconds_rank, r->qps);
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *metrics_json(const eval_metrics *m)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "queries", (json_int_t)m->n, "recall@1",
                     m->recall[0], "recall@5", m->recall[1], "recall@10", m->recall[2],
                     "recall@20", m->recall[3], "mrr", m->mrr);
}

static int prob_desc(const void *a, const void *b)
{
    const eval_query *x = *(eval_query *const *)a, *y = *(eval_query *const *)b;
    double px = x->ntop ? x->top_prob[0] : 0, py_ = y->ntop ? y->top_prob[0] : 0;
    if (px != py_) return px > py_ ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The EVAL_WORST sampled no-duplicate queries whose top suggestion is the
 * most probable: where the ranker (or the ground truth) is wrong. Owned,
 * NULL-terminated. */
static const eval_query **false_alarms(const eval_result *r)
{
    const eval_query **v = xmalloc((r->nneg + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < r->nneg; i++)
        if (r->neg[i].ntop) v[n++] = &r->neg[i];
    qsort(v, n, sizeof *v, prob_desc);
    if (n > EVAL_WORST) n = EVAL_WORST;
    v[n] = NULL;
    return v;
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
    json_object_set_new(o, "high", json_pack("{s:f, s:f, s:I, s:I}", "precision", r->high_precision,
                                             "recall", r->high_recall, "pairs",
                                             (json_int_t)r->high_pairs, "true", (json_int_t)r->high_true));
    static const char *lv[EVAL_LEVELS] = {"high", "medium", "low"};
    json_t *cal = json_array();
    for (int l = 0; l < EVAL_LEVELS; l++)
        json_array_append_new(cal, json_pack("{s:s, s:I, s:I}", "confidence", lv[l], "pairs",
                                             (json_int_t)r->level_pairs[l], "true",
                                             (json_int_t)r->level_true[l]));
    json_object_set_new(o, "calibration", cal);
    json_object_set_new(o, "negatives",
                        json_pack("{s:I, s:I, s:f, s:f}", "sampled", (json_int_t)r->nneg,
                                  "population", (json_int_t)r->neg_population, "weight",
                                  r->neg_weight, "base_rate", r->base_rate));
    json_object_set_new(o, "high_all",
                        json_pack("{s:f, s:f, s:f, s:I, s:f, s:I}", "precision",
                                  r->all_high_precision, "recall", r->all_high_recall, "pairs",
                                  r->all_high_pairs, "true", (json_int_t)r->high_true,
                                  "false_alarm", r->false_alarm, "negatives_flagged",
                                  (json_int_t)r->neg_high));
    json_t *cala = json_array();
    for (int l = 0; l < EVAL_LEVELS; l++)
        json_array_append_new(cala, json_pack("{s:s, s:f, s:f}", "confidence", lv[l], "pairs",
                                              r->all_level_pairs[l], "true", r->all_level_true[l]));
    json_object_set_new(o, "calibration_all", cala);
    json_t *bins = json_array();
    for (int b = 0; b < EVAL_BINS; b++)
        json_array_append_new(bins, json_pack("{s:f, s:f, s:f, s:f, s:f}", "from",
                                              (double)b / EVAL_BINS, "to",
                                              (double)(b + 1) / EVAL_BINS, "mean_prob",
                                              r->all_bin_prob[b], "pairs", r->all_bin_pairs[b],
                                              "true", r->all_bin_true[b]));
    json_object_set_new(o, "calibration_bins_all", bins);
    const eval_query **fa = false_alarms(r);
    json_t *fal = json_array();
    for (size_t i = 0; fa[i]; i++)
        json_array_append_new(fal, json_pack("{s:s, s:s?, s:s?, s:s?, s:f}", "query", fa[i]->key,
                                             "title", fa[i]->query_title, "suggestion",
                                             fa[i]->target, "suggestion_title",
                                             fa[i]->target_title, "prob", fa[i]->top_prob[0]));
    free(fa);
    json_object_set_new(o, "no_duplicate_top", fal);
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

/* Reliability diagram: per probability bin, predicted (x) against the
 * share of true duplicates (y); all: over all queries (weighted pairs). */
static void svg_calibration(FILE *f, const eval_result *r, int all)
{
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"520\" height=\"310\" "
               "role=\"img\" aria-label=\"calibration, %s\">\n",
            all ? "all queries" : "known duplicates");
    svg_axes(f, "predicted probability", "share true duplicates", 1.0, 5);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\" "
               "stroke-dasharray=\"4 3\"/>\n", px(0, 1), py(0), px(1, 1), py(1));
    for (int b = 0; b < EVAL_BINS; b++) {
        double n = all ? r->all_bin_pairs[b] : (double)r->bin_pairs[b];
        if (n <= 0) continue;
        double share = (all ? r->all_bin_true[b] : (double)r->bin_true[b]) / n;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#1f6feb\" fill-opacity=\"0.7\">"
                   "<title>%.0f pairs, %.0f%% true</title></circle>\n",
                px(all ? r->all_bin_prob[b] : r->bin_prob[b], 1), py(share), 3 + log1p(n),
                n, 100 * share);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"260\" stroke=\"#d73a4a\"/>"
               "<text x=\"%.1f\" y=\"32\" font-size=\"11\" fill=\"#d73a4a\">high</text>\n",
            px(r->model.thr_high > 1 ? 1 : r->model.thr_high, 1),
            px(r->model.thr_high > 1 ? 1 : r->model.thr_high, 1),
            px(r->model.thr_high > 1 ? 1 : r->model.thr_high, 1) + 4);
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

/* The confidence levels, on known duplicates and over all queries. */
static void html_levels(FILE *f, const eval_result *r)
{
    static const char *lv[EVAL_LEVELS] = {"high", "medium", "low"};
    fprintf(f, "<p><b>All queries</b> (what a maintainer sees): the %zu known duplicates and "
               "the %zu issues without a known duplicate of the test period (%zu sampled, each "
               "weighing %.2f; base rate %.3f). <b>duplicate · high</b>: precision %.3f "
               "(%zu of %.0f pairs), recall %.3f; %.1f%% of issues without a duplicate get "
               "one.</p>\n", r->nq, r->neg_population, r->nneg, r->neg_weight, r->base_rate,
            r->all_high_precision, r->high_true, r->all_high_pairs, r->all_high_recall,
            100 * r->false_alarm);
    fprintf(f, "<table><tr><th>confidence</th><th>known duplicates: pairs</th><th>true</th>"
               "<th>all queries: pairs (weighted)</th><th>true</th></tr>\n");
    for (int l = 0; l < EVAL_LEVELS; l++)
        fprintf(f, "<tr><th>%s</th><td>%zu</td><td>%.3f</td><td>%.0f</td><td>%.3f</td></tr>\n",
                lv[l], r->level_pairs[l], ratio((double)r->level_true[l], (double)r->level_pairs[l]),
                r->all_level_pairs[l], ratio(r->all_level_true[l], r->all_level_pairs[l]));
    fputs("</table>\n", f);
}

static void html_false_alarms(FILE *f, const eval_result *r)
{
    const eval_query **v = false_alarms(r);
    fprintf(f, "<h2>Issues without a known duplicate, most confident suggestion first</h2>\n"
               "<p>Counted as false above; some are duplicates nobody linked.</p>\n"
               "<table><tr><th>issue</th><th>title</th><th>suggestion</th><th>title</th>"
               "<th>probability</th></tr>\n");
    for (size_t i = 0; v[i]; i++) {
        fputs("<tr><td>", f);
        html_esc(f, v[i]->key);
        fputs("</td><td>", f);
        html_esc(f, v[i]->query_title);
        fputs("</td><td>", f);
        html_esc(f, v[i]->target);
        fputs("</td><td>", f);
        html_esc(f, v[i]->target_title);
        fprintf(f, "</td><td>%.3f</td></tr>\n", v[i]->top_prob[0]);
    }
    fputs("</table>\n", f);
    free(v);
}

int eval_report_html(const eval_result *r, const char *path, dp_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f) return dp_fail(err, "%s: %s", path, strerror(errno));
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>doppel eval: ", f);
    html_esc(f, r->repo);
    fputs("</title>\n<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;"
          "padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid "
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
    fprintf(f, "</table>\n<p><b>duplicate · high</b>: precision %.3f (%zu of %zu pairs), "
               "recall %.3f (%zu of %zu queries). Ranking speed %.0f queries/s.</p>\n",
            r->high_precision, r->high_true, r->high_pairs, r->high_recall, r->high_caught, r->nq,
            r->qps);
    html_levels(f, r);
    fputs("<div class=\"charts\"><figure><figcaption>Recall@k</figcaption>\n", f);
    svg_recall(f, r);
    fputs("</figure><figure><figcaption>Calibration on known duplicates (top suggestions of "
          "queries that have a true answer)</figcaption>\n", f);
    svg_calibration(f, r, 0);
    fputs("</figure><figure><figcaption>Calibration over all queries (known duplicates and "
          "issues without one, weighted to the base rate)</figcaption>\n", f);
    svg_calibration(f, r, 1);
    fputs("</figure></div>\n", f);
    html_worst(f, r);
    html_false_alarms(f, r);
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) return dp_fail(err, "%s: %s", path, strerror(errno));
    return DP_OK;
}
