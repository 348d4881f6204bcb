/* cmd_pairs.c -- `doppel pairs`: lists stored pairs, highest value first,
 * with the filters of the review page (pair_filter). Pairs the data already
 * links as duplicates are hidden unless --known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../explain/report.h"

typedef struct pairs_args {
    const char *db, *repo;
    pair_filter f;
    int json, verbose, verdicts;
} pairs_args;

static int parse_args(int argc, char **argv, pairs_args *a)
{
    /* not_related pairs are not stored, so no filter offers them */
    static const int rels[] = {RELATION_DUPLICATE, RELATION_RELATED, -1};
    static const int confs[] = {CONFIDENCE_HIGH, CONFIDENCE_MEDIUM, CONFIDENCE_LOW, -1};
    static const char *const states[] = {"open", "closed", NULL};
    static const char *const sorts[] = {"value", "prob", "updated", NULL};
    pair_filter_init(&a->f);
    a->f.include_known = 0;
    a->f.limit = 50;
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &a->repo, "R", "only this repository (default: all)"),
        CLI_ENUM("relation", 0, &a->f.relation, relation_names, rels, "only pairs of this relation"),
        CLI_ENUM("confidence", 0, &a->f.confidence, confidence_names, confs, "only pairs of this confidence"),
        CLI_CHOICE("state", 0, &a->f.query_state, NULL, states, "the query item is open/closed"),
        CLI_CHOICE("cand-state", 0, &a->f.cand_state, NULL, states, "the candidate is open/closed"),
        CLI_STR("label", 0, &a->f.label, "L", "either item carries label L"),
        CLI_STR("text", 0, &a->f.text, "S", "S occurs in either title or key"),
        CLI_SET("unreviewed", 0, &a->f.reviewed, 0, "only pairs without a verdict"),
        CLI_SET("reviewed", 0, &a->f.reviewed, 1, "only pairs with a verdict"),
        CLI_FLAG("known", 0, &a->f.include_known, "include pairs the data already links as duplicates"),
        CLI_CHOICE("sort", 0, &a->f.sort, NULL, sorts,
                   "order, highest first (default value; updated: the later\nupdate of the two items)"),
        CLI_SIZE("limit", 0, &a->f.limit, "N", 0, 1e12, "at most N pairs (default 50; 0 = all)"),
        CLI_SIZE("offset", 0, &a->f.offset, "N", 0, 1e12, "skip the first N pairs"),
        CLI_FLAG("json", 0, &a->json, "a JSON object {total, reviewed, pairs: [...]}"),
        CLI_FLAG("verbose", 'v', &a->verbose, "text output with reasoning and suggested comment"),
        CLI_FLAG("verdicts", 0, &a->verdicts,
                 "list every verdict recorded instead (also those on pairs the\n"
                 "analysis no longer stores, e.g. the triage bot's), oldest first;\n"
                 "with --json: {verdicts: [{repo, query, candidate, verdict, at}]}"),
        CLI_DB(&a->db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "pairs",
        "usage: doppel pairs [--db PATH] [--repo R] [--relation duplicate|related]\n"
        "                    [--confidence high|medium|low] [--state open|closed]\n"
        "                    [--cand-state open|closed] [--label L] [--text S]\n"
        "                    [--unreviewed | --reviewed] [--known] [--sort value|prob|updated]\n"
        "                    [--limit N] [--offset N] [--json] [-v]\n"
        "       doppel pairs --verdicts [--db PATH] [--repo R] [--json]\n",
        "Lists the pairs found by `doppel analyze`, highest value first:\n"
        "  QUERY <-> CANDIDATE  relation . confidence . value  title\n",
        NULL, opts, 0};
    return cli_parse(&cmd, argc, argv, NULL);
}

static void print_indented(const char *label, const char *s)
{
    if (!s || !*s) return;
    printf("    %s\n", label);
    while (*s) {
        const char *e = strchr(s, '\n');
        int n = e ? (int)(e - s) : (int)strlen(s);
        printf("      %.*s\n", n, s);
        s = e ? e + 1 : s + n;
    }
}

/* Looks an item up for display; returns 0 when it is gone. */
static int get_item(store *st, int64_t repo, const char *key, item *it)
{
    dp_err err;
    item_init(it);
    return store_item_get(st, repo, key, it, &err) == DP_OK;
}

/* --verdicts: every verdict of the repositories (or only repo_id), as text
 * or JSON; read-only. */
static int list_verdicts(store *st, int64_t repo_id, int json)
{
    repo_info *repos = NULL;
    size_t nrepos = 0;
    dp_err err;
    if (store_repo_list(st, &repos, &nrepos, &err) != DP_OK) {
        cli_error("pairs", "%s", err.msg);
        return EXIT_FAIL;
    }
    json_t *arr = json_array();
    int rc = EXIT_OK;
    for (size_t r = 0; r < nrepos && rc == EXIT_OK; r++) {
        store_verdict_vec v = {0};
        if (repo_id && repos[r].id != repo_id) continue;
        if (store_verdicts_load(st, repos[r].id, &v, &err) != DP_OK) {
            cli_error("pairs", "%s", err.msg);
            rc = EXIT_FAIL;
        }
        for (size_t i = 0; i < v.n; i++) {
            char at[32];
            dp_format_time(v.v[i].created_at, at, sizeof at);
            if (json)
                json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "repo", repos[r].name, "query",
                                                     v.v[i].query_key, "candidate", v.v[i].cand_key, "verdict",
                                                     verdict_name(v.v[i].verdict), "at", at));
            else
                printf("#%s <-> #%s  %s  %s%s%s\n", v.v[i].query_key, v.v[i].cand_key, verdict_name(v.v[i].verdict), at,
                       nrepos > 1 ? "  " : "", nrepos > 1 ? repos[r].name : "");
        }
        store_verdict_vec_free(&v);
    }
    if (json && rc == EXIT_OK) {
        cli_json_print(json_pack("{s:O}", "verdicts", arr));
    }
    json_decref(arr);
    for (size_t r = 0; r < nrepos; r++) repo_info_free(&repos[r]);
    free(repos);
    return rc;
}

int cmd_pairs(int argc, char **argv)
{
    pairs_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_GO) return rc;
    store *st = cli_open_store("pairs", a.db);
    if (!st) return EXIT_FAIL;
    dp_err err;
    /* only reads: the whole file mapped (a text's first order seeks
     * thousands of pages: 0.25 -> 0.16 s at 725k pairs) */
    if (store_mmap_limit(st, STORE_MAP_ALL, &err) != DP_OK) {
        cli_error("pairs", "%s", err.msg);
        store_close(st);
        return EXIT_FAIL;
    }
    /* Without --repo, pairs of every repository are listed. */
    if (a.repo && store_repo_resolve(st, a.repo, &a.f.repo_id, &err) != DP_OK) {
        cli_error("pairs", "%s", err.msg);
        store_close(st);
        return EXIT_FAIL;
    }
    if (a.verdicts) {
        rc = list_verdicts(st, a.f.repo_id, a.json);
        store_close(st);
        return rc;
    }
    pair_vec pv = {0};
    size_t total = 0, reviewed = 0;
    if (store_pairs_query(st, &a.f, &pv, &total, &reviewed, &err) != DP_OK) {
        cli_error("pairs", "%s", err.msg);
        store_close(st);
        return EXIT_FAIL;
    }
    json_t *arr = a.json ? json_array() : NULL;
    sbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < pv.n; i++) {
        const pair *p = &pv.v[i];
        item q, c;
        int hq = get_item(st, p->repo_id, p->query_key, &q);
        int hc = get_item(st, p->repo_id, p->cand_key, &c);
        if (arr) {
            json_array_append_new(arr, explain_pair_json(p, hq ? &q : NULL, hc ? &c : NULL, 1));
        } else {
            sb_reset(&sb);
            explain_pair_line(&sb, p, hq ? &q : NULL, NULL, 100);
            printf("%s\n", sb_str(&sb));
            if (a.verbose) {
                if (hc) {
                    sb_reset(&sb);
                    explain_trunc(&sb, c.title, 90);
                    printf("    candidate: %s\n", sb_str(&sb));
                }
                print_indented("reasoning:", p->reasoning);
                print_indented("value:", p->value_detail);
                print_indented("suggested comment:", p->suggested_comment);
            }
        }
        item_free(&q);
        item_free(&c);
    }
    if (arr) {
        json_t *o = json_object();
        json_object_set_new(o, "total", json_integer((json_int_t)total));
        json_object_set_new(o, "reviewed", json_integer((json_int_t)reviewed));
        json_object_set_new(o, "pairs", arr);
        cli_json_print(o);
    } else if (pv.n < total) {
        printf("(%zu of %zu pairs shown; --limit 0 shows all)\n", pv.n, total);
    } else if (!total) {
        printf("no pairs%s\n", a.f.include_known ? "" : " (--known shows already-linked ones)");
    }
    sb_free(&sb);
    pair_vec_free(&pv);
    store_close(st);
    return EXIT_OK;
}
