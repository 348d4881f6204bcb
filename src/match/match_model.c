/* match_model.c -- the linear model: feature names, scoring, calibration,
 * decisions and the text format the store keeps.
 *
 * Text format (one "key value" per line; unknown keys and unknown feature
 * names are ignored so models survive feature additions):
 *     doppel-model 1
 *     trained_on <free text to end of line>
 *     trained_at <unix seconds>
 *     ntrain <queries>
 *     bias <x>
 *     platt_a <x>  platt_b <x>  platt_c <x>
 *     thr_high <x>  thr_medium <x>      (the ranker's own calibration; used only
 *                                        by a model without a judge)
 *     feature <name> <mean> <scale> <weight>
 *   and, when the model has a judge (match_judge.c):
 *     judge_link_rate <x>
 *     judge_bias <related> <duplicate>
 *     judge_cut <relation> <high> <medium>
 *     jfeature <name> <mean> <scale> <w_related> <w_duplicate>
 */
#include "match.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const feat_names[FEAT_COUNT] = {
    [FEAT_BM25F] = "bm25f",
    [FEAT_BM25_TITLE] = "bm25_title",
    [FEAT_BM25_PROSE] = "bm25_prose",
    [FEAT_BM25_CODE] = "bm25_code",
    [FEAT_BM25_LABELS] = "bm25_labels",
    [FEAT_TITLE_OVERLAP] = "title_overlap",
    [FEAT_BIGRAM_OVERLAP] = "bigram_overlap",
    [FEAT_SHARED_IDF] = "shared_idf",
    [FEAT_EXCEPTION] = "exception",
    [FEAT_FRAMES] = "frames",
    [FEAT_PATHS] = "paths",
    [FEAT_ERRORS] = "errors",
    [FEAT_LABELS] = "labels",
    [FEAT_VERSION] = "version",
    [FEAT_TIME_GAP] = "time_gap",
    [FEAT_SAME_AUTHOR] = "same_author",
    [FEAT_LEN_RATIO] = "len_ratio",
    [FEAT_KIND_SAME] = "kind_same",
    [FEAT_CROSSREF] = "crossref",
    [FEAT_RANK_BM25] = "rank_bm25",
    [FEAT_BM25_REL] = "bm25_rel",
    [FEAT_COSINE] = "cosine",
    [FEAT_TITLE_COSINE] = "title_cosine",
    [FEAT_POPULARITY] = "popularity",
    [FEAT_TYPE_SAME] = "type_same",
    [FEAT_PRIORITY_SAME] = "priority_same",
};

const char *match_feature_name(match_feature f)
{
    return (unsigned)f < FEAT_COUNT ? feat_names[f] : "?";
}

int match_feature_find(const char *name)
{
    for (int i = 0; i < FEAT_COUNT; i++)
        if (!strcmp(feat_names[i], name)) return i;
    return -1;
}

double match_score(const match_model *m, const double feat[FEAT_COUNT])
{
    double s = m->bias;
    for (int i = 0; i < FEAT_COUNT; i++)
        if (m->w[i] != 0) s += m->w[i] * (feat[i] - m->mean[i]) / m->scale[i];
    return s;
}

double match_prob(const match_model *m, double score)
{
    return match_prob_margin(m, score, 0);
}

double match_prob_margin(const match_model *m, double score, double margin)
{
    double z = m->platt_a * score + m->platt_c * margin + m->platt_b;
    if (z > 40) return 0.0;
    if (z < -40) return 1.0;
    return 1.0 / (1.0 + exp(z));
}

size_t match_top_features(const match_model *m, const double feat[FEAT_COUNT], match_feature *out,
                          size_t max)
{
    double contrib[FEAT_COUNT];
    int order[FEAT_COUNT];
    size_t n = 0;
    for (int i = 0; i < FEAT_COUNT; i++) {
        contrib[i] = m->w[i] * (feat[i] - m->mean[i]) / m->scale[i];
        if (m->w[i] != 0 && contrib[i] > 0) order[n++] = i;
    }
    /* insertion sort: FEAT_COUNT is small; ties keep feature order */
    for (size_t i = 1; i < n; i++) {
        int f = order[i];
        size_t j = i;
        while (j > 0 && contrib[order[j - 1]] < contrib[f]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = f;
    }
    if (n > max) n = max;
    for (size_t i = 0; i < n; i++) out[i] = (match_feature)order[i];
    return n;
}

void match_model_copy(match_model *dst, const match_model *src)
{
    *dst = *src;
    dst->trained_on = xstrdup(src->trained_on);
}

void match_model_free(match_model *m)
{
    if (!m) return;
    free(m->trained_on);
    m->trained_on = NULL;
}

char *match_model_to_text(const match_model *m)
{
    sbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "doppel-model 1\n");
    if (m->trained_on) {
        sb_adds(&sb, "trained_on ");
        for (const char *p = m->trained_on; *p; p++) sb_addc(&sb, *p == '\n' ? ' ' : *p);
        sb_addc(&sb, '\n');
    }
    sb_printf(&sb, "trained_at %lld\nntrain %zu\n", (long long)m->trained_at, m->ntrain);
    sb_printf(&sb, "bias %.17g\nplatt_a %.17g\nplatt_b %.17g\nplatt_c %.17g\n", m->bias, m->platt_a,
              m->platt_b, m->platt_c);
    sb_printf(&sb, "thr_high %.17g\nthr_medium %.17g\n", m->thr_high, m->thr_medium);
    for (int i = 0; i < FEAT_COUNT; i++)
        sb_printf(&sb, "feature %s %.17g %.17g %.17g\n", feat_names[i], m->mean[i], m->scale[i],
                  m->w[i]);
    const match_judge_model *j = &m->judge;
    if (j->trained) {
        sb_printf(&sb, "judge_link_rate %.17g\njudge_bias %.17g %.17g\n", j->link_rate,
                  j->b[RELATION_RELATED], j->b[RELATION_DUPLICATE]);
        for (int r = 0; r < RELATION_COUNT; r++)
            sb_printf(&sb, "judge_cut %s %.17g %.17g\n", relation_name((relation_kind)r), j->thr_high[r],
                      j->thr_medium[r]);
        for (int f = 0; f < JF_COUNT; f++)   /* a feature newer than the model: unit scale, no weight */
            sb_printf(&sb, "jfeature %s %.17g %.17g %.17g %.17g\n", match_jfeature_name((match_jfeature)f),
                      j->mean[f], j->scale[f] > 0 ? j->scale[f] : 1.0, j->w[RELATION_RELATED][f],
                      j->w[RELATION_DUPLICATE][f]);
    }
    return sb_take(&sb);
}

char *match_model_to_c(const match_model *m)
{
    sbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "    .mean = {");
    for (int i = 0; i < FEAT_COUNT; i++) sb_printf(&sb, "%s%.9g", i ? ", " : "", m->mean[i]);
    sb_printf(&sb, "},\n    .scale = {");
    for (int i = 0; i < FEAT_COUNT; i++) sb_printf(&sb, "%s%.9g", i ? ", " : "", m->scale[i]);
    sb_printf(&sb, "},\n    .w = {");
    for (int i = 0; i < FEAT_COUNT; i++) sb_printf(&sb, "%s%.9g", i ? ", " : "", m->w[i]);
    sb_printf(&sb, "},\n    .bias = %.9g,\n    .platt_a = %.9g,\n    .platt_b = %.9g,\n"
              "    .platt_c = %.9g,\n", m->bias, m->platt_a, m->platt_b, m->platt_c);
    sb_printf(&sb, "    .thr_high = %.9g,\n    .thr_medium = %.9g,\n", m->thr_high, m->thr_medium);
    sb_printf(&sb, "    .trained_at = %lld,\n    .ntrain = %zu,\n", (long long)m->trained_at,
              m->ntrain);
    const match_judge_model *j = &m->judge;
    if (j->trained) {
        sb_printf(&sb, "    .judge = {\n        .trained = 1,\n        .link_rate = %.9g,\n", j->link_rate);
        sb_printf(&sb, "        .b = {0, %.9g, %.9g},\n", j->b[RELATION_RELATED], j->b[RELATION_DUPLICATE]);
        sb_printf(&sb, "        .thr_high = {%.9g, %.9g, %.9g},\n", j->thr_high[0], j->thr_high[1], j->thr_high[2]);
        sb_printf(&sb, "        .thr_medium = {%.9g, %.9g, %.9g},\n", j->thr_medium[0], j->thr_medium[1],
                  j->thr_medium[2]);
        static const char *const arr[] = {"mean", "scale"};
        for (int a = 0; a < 2; a++) {
            const double *v = a ? j->scale : j->mean;
            sb_printf(&sb, "        .%s = {", arr[a]);
            for (int f = 0; f < JF_COUNT; f++) sb_printf(&sb, "%s%.9g", f ? ", " : "", v[f]);
            sb_adds(&sb, "},\n");
        }
        sb_adds(&sb, "        .w = {{0}");
        for (int r = 1; r < RELATION_COUNT; r++) {
            sb_adds(&sb, ",\n              {");
            for (int f = 0; f < JF_COUNT; f++) sb_printf(&sb, "%s%.9g", f ? ", " : "", j->w[r][f]);
            sb_adds(&sb, "}");
        }
        sb_adds(&sb, "},\n    },\n");
    }
    return sb_take(&sb);
}

static void model_blank(match_model *m)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < FEAT_COUNT; i++) m->scale[i] = 1.0;
    m->platt_a = -1.0;
    m->thr_high = 0.9;
    m->thr_medium = 0.5;
    for (int f = 0; f < JF_COUNT; f++) m->judge.scale[f] = 1.0;
    m->judge.link_rate = 1.0;
    for (int r = 0; r < RELATION_COUNT; r++) {
        m->judge.thr_high[r] = 0.9;
        m->judge.thr_medium[r] = 0.6;
    }
}

static int parse_num(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end != s && isfinite(*out);
}

int match_model_from_text(const char *text, match_model *out, dp_err *err)
{
    model_blank(out);
    if (!text || strncmp(text, "doppel-model 1\n", 15) != 0)
        return dp_fail(err, "not a doppel model (expected \"doppel-model 1\" first)");
    int lineno = 1;
    for (const char *p = strchr(text, '\n') + 1; *p;) {
        lineno++;
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, len);
        char key[32] = "", name[64] = "";
        double a, b, c, v;
        int ok = 1;
        if (sscanf(line, "%31s", key) != 1) {
            /* blank line */
        } else if (!strcmp(key, "trained_on")) {
            free(out->trained_on);
            out->trained_on = xstrdup(len > 11 ? line + 11 : "");
        } else if (!strcmp(key, "trained_at")) {
            ok = parse_num(line + 10, &v);
            out->trained_at = (int64_t)v;
        } else if (!strcmp(key, "ntrain")) {
            ok = parse_num(line + 6, &v) && v >= 0;
            out->ntrain = (size_t)v;
        } else if (!strcmp(key, "jfeature")) {
            double d;
            ok = sscanf(line, "jfeature %63s %lf %lf %lf %lf", name, &a, &b, &c, &d) == 5 && isfinite(a) &&
                 isfinite(b) && isfinite(c) && isfinite(d) && b > 0;
            int f = ok ? match_jfeature_find(name) : -1;
            if (f >= 0) {
                out->judge.mean[f] = a;
                out->judge.scale[f] = b;
                out->judge.w[RELATION_RELATED][f] = c;
                out->judge.w[RELATION_DUPLICATE][f] = d;
            }
        } else if (!strcmp(key, "judge_bias")) {
            ok = sscanf(line, "judge_bias %lf %lf", &a, &b) == 2 && isfinite(a) && isfinite(b);
            out->judge.b[RELATION_RELATED] = a;
            out->judge.b[RELATION_DUPLICATE] = b;
            out->judge.trained = ok;
        } else if (!strcmp(key, "judge_link_rate")) {
            ok = parse_num(line + 15, &v) && v > 0 && v <= 1;
            out->judge.link_rate = v;
        } else if (!strcmp(key, "judge_cut")) {
            relation_kind r;
            ok = sscanf(line, "judge_cut %63s %lf %lf", name, &a, &b) == 3 && isfinite(a) && isfinite(b) &&
                 relation_parse(name, &r) == 0;
            if (ok) {
                out->judge.thr_high[r] = a;
                out->judge.thr_medium[r] = b;
            }
        } else if (!strcmp(key, "feature")) {
            ok = sscanf(line, "feature %63s %lf %lf %lf", name, &a, &b, &c) == 4 && isfinite(a) &&
                 isfinite(b) && isfinite(c) && b > 0;
            int f = ok ? match_feature_find(name) : -1;
            if (f >= 0) {
                out->mean[f] = a;
                out->scale[f] = b;
                out->w[f] = c;
            }
        } else {
            double *dst = !strcmp(key, "bias")            ? &out->bias
                          : !strcmp(key, "platt_a")       ? &out->platt_a
                          : !strcmp(key, "platt_b")       ? &out->platt_b
                          : !strcmp(key, "platt_c")       ? &out->platt_c
                          : !strcmp(key, "thr_high")      ? &out->thr_high
                          : !strcmp(key, "thr_medium")    ? &out->thr_medium
                                                          : NULL;
            if (dst) ok = parse_num(line + strlen(key), dst);
        }
        free(line);
        if (!ok) {
            match_model_free(out);
            return dp_fail(err, "model line %d: bad value", lineno);
        }
        p = nl ? nl + 1 : p + len;
    }
    return DP_OK;
}
