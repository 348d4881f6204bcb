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
    int json, verbose;
} pairs_args;

static int parse_args(int argc, char **argv, pairs_args *a)
{
    static const char *const rels[] = {"duplicate", "related", NULL};
    static const char *const confs[] = {"high", "medium", "low", NULL};
    static const char *const states[] = {"open", "closed", NULL};
    static const char *const sorts[] = {"value", "prob", "updated", NULL};
    pair_filter_init(&a->f);
    a->f.include_known = 0;
    a->f.limit = 50;
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &a->repo, "R", "only this repository (default: all)"),
        CLI_CHOICE("relation", 0, &a->f.relation, "duplicate|related", rels, "only pairs of this relation"),
        CLI_CHOICE("confidence", 0, &a->f.confidence, "high|medium|low", confs, "only pairs of this confidence"),
        CLI_CHOICE("state", 0, &a->f.query_state, "open|closed", states, "the query item is open/closed"),
        CLI_CHOICE("cand-state", 0, &a->f.cand_state, "open|closed", states, "the candidate is open/closed"),
        CLI_STR("label", 0, &a->f.label, "L", "either item carries label L"),
        CLI_STR("text", 0, &a->f.text, "S", "S occurs in either title or key"),
        CLI_SET("unreviewed", 0, &a->f.reviewed, 0, "only pairs without a verdict"),
        CLI_SET("reviewed", 0, &a->f.reviewed, 1, "only pairs with a verdict"),
        CLI_FLAG("known", 0, &a->f.include_known, "include pairs the data already links as duplicates"),
        CLI_CHOICE("sort", 0, &a->f.sort, "value|prob|updated", sorts,
                   "order, highest first (default value; updated: the later\nupdate of the two items)"),
        CLI_SIZE("limit", 0, &a->f.limit, "N", 0, 1e12, "at most N pairs (default 50; 0 = all)"),
        CLI_SIZE("offset", 0, &a->f.offset, "N", 0, 1e12, "skip the first N pairs"),
        CLI_FLAG("json", 0, &a->json, "a JSON object {total, reviewed, pairs: [...]}"),
        CLI_FLAG("verbose", 'v', &a->verbose, "text output with reasoning and suggested comment"),
        CLI_DB(&a->db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "pairs",
        "usage: doppel pairs [--db PATH] [--repo R] [--relation duplicate|related]\n"
        "                    [--confidence high|medium|low] [--state open|closed]\n"
        "                    [--cand-state open|closed] [--label L] [--text S]\n"
        "                    [--unreviewed | --reviewed] [--known] [--sort value|prob|updated]\n"
        "                    [--limit N] [--offset N] [--json] [-v]\n",
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

int cmd_pairs(int argc, char **argv)
{
    pairs_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_GO) return rc;
    store *st = cli_open_store("pairs", a.db);
    if (!st) return EXIT_FAIL;
    dp_err err;
    /* Without --repo, pairs of every repository are listed. */
    if (a.repo && store_repo_resolve(st, a.repo, &a.f.repo_id, &err) != DP_OK) {
        cli_error("pairs", "%s", err.msg);
        store_close(st);
        return EXIT_FAIL;
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
            json_array_append_new(arr, explain_pair_json(p, hq ? &q : NULL, hc ? &c : NULL));
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
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
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
