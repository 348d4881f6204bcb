/* cmd_stats.c -- `doppel stats`: what the store holds per repository: items
 * (issues, pull requests, open), comments, links by type, pairs by relation
 * and confidence, verdicts, the model analyze uses and when it last ran. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include <jansson.h>

#include "../analyze/analyze.h"
#include "../match/match.h"

/* The order stats are printed in. */
static const relation_kind RELS[] = {RELATION_DUPLICATE, RELATION_RELATED};
static const verdict_kind VERDICTS[] = {VERDICT_DUPLICATE, VERDICT_RELATED, VERDICT_NOT_RELATED};

typedef struct repo_stats {
    size_t issues, prs, open, comments;
    size_t links[4];                 /* by link_type; [0] unused */
    size_t pairs, known, by[2][CONFIDENCE_COUNT];   /* by[RELS index][confidence], known included */
    size_t reviewed, verdicts[3];
    char model[300];
    char last_run[32];
} repo_stats;

/* rel, conf: -1 any. */
static int count_pairs(store *st, int64_t repo, int rel, int conf, int known,
                       size_t *n, dp_err *err)
{
    pair_filter f;
    pair_filter_init(&f);
    f.repo_id = repo;
    f.relation = rel;
    f.confidence = conf;
    f.include_known = known;
    f.limit = 1;
    pair_vec pv = {0};
    int rc = store_pairs_query(st, &f, &pv, n, NULL, err);
    pair_vec_free(&pv);
    return rc;
}

static int gather_pairs(store *st, int64_t repo, repo_stats *s, dp_err *err)
{
    size_t unknown = 0;
    if (count_pairs(st, repo, -1, -1, 1, &s->pairs, err) != DP_OK ||
        count_pairs(st, repo, -1, -1, 0, &unknown, err) != DP_OK)
        return DP_ERR;
    s->known = s->pairs - unknown;
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < CONFIDENCE_COUNT; c++)
            if (count_pairs(st, repo, (int)RELS[r], c, 1, &s->by[r][c], err) != DP_OK)
                return DP_ERR;
    pair_filter f;
    pair_filter_init(&f);
    f.repo_id = repo;
    f.reviewed = 1;
    pair_vec pv = {0};
    if (store_pairs_query(st, &f, &pv, &s->reviewed, NULL, err) != DP_OK) return DP_ERR;
    for (size_t i = 0; i < pv.n; i++)
        for (int v = 0; v < 3; v++)
            if (pv.v[i].verdict == VERDICTS[v]) s->verdicts[v]++;
    pair_vec_free(&pv);
    return DP_OK;
}

/* The model analyze would use (analyze_model_load). An unreadable one is
 * reported in the model line, where `analyze` fails with the same words:
 * stats still shows the rest. */
static int gather_model(store *st, int64_t repo, repo_stats *s, dp_err *err)
{
    match_model m;
    int trained = 0;
    char *desc = NULL;
    dp_err merr;
    if (analyze_model_load(st, repo, &m, &trained, &desc, &merr) != DP_OK) {
        snprintf(s->model, sizeof s->model, "unreadable: %.250s", merr.msg);
        (void)err;
        return DP_OK;
    }
    snprintf(s->model, sizeof s->model, "%s", desc);
    free(desc);
    if (trained) match_model_free(&m);
    return DP_OK;
}

static int gather(store *st, int64_t repo, repo_stats *s, dp_err *err)
{
    memset(s, 0, sizeof *s);
    if (store_item_count(st, repo, &s->issues, &s->prs, &s->open, err) != DP_OK) return DP_ERR;
    comment_vec cv = {0};
    if (store_comments_load_all(st, repo, &cv, err) != DP_OK) return DP_ERR;
    s->comments = cv.n;
    comment_vec_free(&cv);
    link_vec lv = {0};
    if (store_links_load(st, repo, &lv, err) != DP_OK) return DP_ERR;
    for (size_t i = 0; i < lv.n; i++)
        if (lv.v[i].type >= 1 && lv.v[i].type <= 3) s->links[lv.v[i].type]++;
    link_vec_free(&lv);
    if (gather_pairs(st, repo, s, err) != DP_OK || gather_model(st, repo, s, err) != DP_OK)
        return DP_ERR;
    char *last = NULL;
    int rc = store_kv_get(st, repo, "analyze.last_run", &last, err);
    if (rc == DP_ERR) return DP_ERR;
    if (rc == DP_OK) dp_format_time(strtoll(last, NULL, 10), s->last_run, sizeof s->last_run);
    free(last);
    return DP_OK;
}

static void print_text(const repo_info *r, const repo_stats *s)
{
    printf("%s (%s)\n", r->name, r->kind ? r->kind : "?");
    printf("  items     %zu: %zu issues, %zu pull requests, %zu open\n", s->issues + s->prs,
           s->issues, s->prs, s->open);
    printf("  comments  %zu\n", s->comments);
    printf("  links    ");
    for (link_type t = LINK_DUPLICATE; t <= LINK_FIXES; t++)
        printf("%s %zu %s", t > LINK_DUPLICATE ? "," : "", s->links[t], item_link_type_name(t));
    printf("\n");
    printf("  pairs     %zu (%zu already linked)\n", s->pairs, s->known);
    for (int rel = 0; rel < 2; rel++) {
        printf("    %-10s", relation_name(RELS[rel]));
        for (int c = 0; c < CONFIDENCE_COUNT; c++)
            printf("%s%s %zu", c ? ", " : " ", confidence_name((confidence_level)c), s->by[rel][c]);
        printf("\n");
    }
    printf("  verdicts  %zu:", s->reviewed);
    for (int v = 0; v < 3; v++) printf("%s %zu %s", v ? "," : "", s->verdicts[v], verdict_name(VERDICTS[v]));
    printf("\n");
    printf("  model     %s\n", s->model);
    printf("  analyzed  %s\n", s->last_run[0] ? s->last_run : "never");
}

static json_t *to_json(const repo_info *r, const repo_stats *s)
{
    json_t *pairs = json_object(), *links = json_object(), *verd = json_object();
    json_object_set_new(pairs, "total", json_integer((json_int_t)s->pairs));
    json_object_set_new(pairs, "known", json_integer((json_int_t)s->known));
    for (int rel = 0; rel < 2; rel++) {
        json_t *o = json_object();
        for (int c = 0; c < CONFIDENCE_COUNT; c++)
            json_object_set_new(o, confidence_name((confidence_level)c), json_integer((json_int_t)s->by[rel][c]));
        json_object_set_new(pairs, relation_name(RELS[rel]), o);
    }
    for (link_type t = LINK_DUPLICATE; t <= LINK_FIXES; t++)
        json_object_set_new(links, item_link_type_name(t), json_integer((json_int_t)s->links[t]));
    json_object_set_new(verd, "total", json_integer((json_int_t)s->reviewed));
    for (int v = 0; v < 3; v++) json_object_set_new(verd, verdict_name(VERDICTS[v]), json_integer((json_int_t)s->verdicts[v]));
    return json_pack("{s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:s, s:s?}", "repo", r->name,
                     "kind", r->kind, "items", (json_int_t)(s->issues + s->prs), "issues",
                     (json_int_t)s->issues, "pull_requests", (json_int_t)s->prs, "open",
                     (json_int_t)s->open, "comments", (json_int_t)s->comments, "links", links,
                     "pairs", pairs, "verdicts", verd, "model", s->model, "last_analysis",
                     s->last_run[0] ? s->last_run : NULL);
}

int cmd_stats(int argc, char **argv)
{
    const char *db = NULL, *repo = NULL;
    int json = 0;
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &repo, "R", "only this repository"),
        CLI_FLAG("json", 0, &json, "one JSON object per repository, in an array"),
        CLI_DB(&db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "stats", "usage: doppel stats [--db PATH] [--repo R] [--json]\n",
        "Counts of items, comments, links, pairs and verdicts for each repository in\n"
        "the store (or only R), and the ranking model in use.\n",
        NULL, opts, 0};
    int prc = cli_parse(&cmd, argc, argv, NULL);
    if (prc != CLI_GO) return prc;
    store *st = cli_open_store("stats", db);
    if (!st) return EXIT_FAIL;
    dp_err err;
    repo_info *repos = NULL;
    size_t nrepos = 0;
    int64_t only = 0;
    int rc = EXIT_OK;
    if ((repo && store_repo_resolve(st, repo, &only, &err) != DP_OK) ||
        store_repo_list(st, &repos, &nrepos, &err) != DP_OK) {
        cli_error("stats", "%s", err.msg);
        store_close(st);
        return repo ? EXIT_NOTFOUND : EXIT_FAIL;
    }
    json_t *arr = json ? json_array() : NULL;
    if (!nrepos && !json) printf("the store is empty; `doppel import` or `doppel sync` first\n");
    for (size_t i = 0; i < nrepos && rc == EXIT_OK; i++) {
        if (only && repos[i].id != only) continue;
        repo_stats s;
        if (gather(st, repos[i].id, &s, &err) != DP_OK) {
            cli_error("stats", "%s", err.msg);
            rc = EXIT_FAIL;
        } else if (arr) {
            json_array_append_new(arr, to_json(&repos[i], &s));
        } else {
            print_text(&repos[i], &s);
        }
    }
    if (arr && rc == EXIT_OK) cli_json_print(arr);
    else if (arr) json_decref(arr);
    for (size_t i = 0; i < nrepos; i++) repo_info_free(&repos[i]);
    free(repos);
    store_close(st);
    return rc;
}
