/* cmd_pairs.c -- `doppel pairs`: lists stored pairs, highest value first,
 * with the filters of the review page (pair_filter). Pairs the data already
 * links as duplicates are hidden unless --known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../explain/report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: doppel pairs [--db PATH] [--repo R] [--relation duplicate|related]\n"
            "                    [--confidence high|medium|low] [--state open|closed]\n"
            "                    [--cand-state open|closed] [--label L] [--text S]\n"
            "                    [--unreviewed | --reviewed] [--known] [--sort value|prob|updated]\n"
            "                    [--limit N] [--offset N] [--json] [-v]\n"
            "\n"
            "Lists the pairs found by `doppel analyze`, highest value first:\n"
            "  QUERY <-> CANDIDATE  relation . confidence . value  title\n"
            "\n"
            "  --repo R        only this repository (default: all)\n"
            "  --state S       the query item is open/closed (--cand-state: the candidate)\n"
            "  --label L       either item carries label L\n"
            "  --text S        S occurs in either title or key\n"
            "  --unreviewed    only pairs without a verdict (--reviewed: only with one)\n"
            "  --known         include pairs the data already links as duplicates\n"
            "  --limit N       at most N pairs (default 50; 0 = all)\n"
            "  --json          a JSON object {total, reviewed, pairs: [...]}\n"
            "  -v              text output with reasoning and suggested comment\n"
            "  --db PATH       store file (default $DOPPEL_DB, else ./doppel.db)\n");
}

static int one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (!strcmp(v, *allowed)) return 1;
    return 0;
}

typedef struct pairs_args {
    const char *db, *repo;
    pair_filter f;
    int json, verbose;
} pairs_args;

/* The filter's enum values of already validated names. */
static int filter_relation(const char *v)
{
    relation_kind r = RELATION_NONE;
    relation_parse(v, &r);
    return (int)r;
}

static int filter_confidence(const char *v)
{
    confidence_level c = CONFIDENCE_LOW;
    confidence_parse(v, &c);
    return (int)c;
}

static int parse_args(int argc, char **argv, pairs_args *a)
{
    static const char *const rels[] = {"duplicate", "related", NULL};
    static const char *const confs[] = {"high", "medium", "low", NULL};
    static const char *const states[] = {"open", "closed", NULL};
    static const char *const sorts[] = {"value", "prob", "updated", NULL};
    pair_filter_init(&a->f);
    a->f.include_known = 0;
    a->f.limit = 50;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int takes = !strcmp(o, "--db") || !strcmp(o, "--repo") || !strcmp(o, "--relation") ||
                    !strcmp(o, "--confidence") || !strcmp(o, "--state") ||
                    !strcmp(o, "--cand-state") || !strcmp(o, "--label") || !strcmp(o, "--text") ||
                    !strcmp(o, "--sort") || !strcmp(o, "--limit") || !strcmp(o, "--offset");
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return EXIT_OK;
        }
        if (takes && i + 1 >= argc) {
            cli_error("pairs", "%s needs an argument", o);
            return EXIT_USAGE;
        }
        const char *v = takes ? argv[++i] : NULL;
        const char *const *allowed = !strcmp(o, "--relation")     ? rels
                                     : !strcmp(o, "--confidence") ? confs
                                     : !strcmp(o, "--state") || !strcmp(o, "--cand-state") ? states
                                     : !strcmp(o, "--sort")                              ? sorts
                                                                                         : NULL;
        if (allowed && !one_of(v, allowed)) {
            cli_error("pairs", "bad value for %s: '%s'", o, v);
            return EXIT_USAGE;
        }
        if (!strcmp(o, "--db")) a->db = v;
        else if (!strcmp(o, "--repo")) a->repo = v;
        else if (!strcmp(o, "--relation")) a->f.relation = filter_relation(v);
        else if (!strcmp(o, "--confidence")) a->f.confidence = filter_confidence(v);
        else if (!strcmp(o, "--state")) a->f.query_state = v;
        else if (!strcmp(o, "--cand-state")) a->f.cand_state = v;
        else if (!strcmp(o, "--label")) a->f.label = v;
        else if (!strcmp(o, "--text")) a->f.text = v;
        else if (!strcmp(o, "--sort")) a->f.sort = v;
        else if (!strcmp(o, "--unreviewed")) a->f.reviewed = 0;
        else if (!strcmp(o, "--reviewed")) a->f.reviewed = 1;
        else if (!strcmp(o, "--known")) a->f.include_known = 1;
        else if (!strcmp(o, "--json")) a->json = 1;
        else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) a->verbose = 1;
        else if (!strcmp(o, "--limit") || !strcmp(o, "--offset")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || end == v || n < 0) {
                cli_error("pairs", "bad value for %s: '%s'", o, v);
                return EXIT_USAGE;
            }
            if (!strcmp(o, "--limit")) a->f.limit = (size_t)n;
            else a->f.offset = (size_t)n;
        } else {
            cli_error("pairs", "unknown argument '%s'", o);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    return -1;
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
    if (rc >= 0) return rc;
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
