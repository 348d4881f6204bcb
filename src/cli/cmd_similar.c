/* cmd_similar.c -- `doppel similar KEY` and `doppel similar --title T
 * --body B`: the top candidates for one item, or for an issue not filed yet
 * (a bot checking a new issue), as text, JSON or GitHub markdown. The corpus
 * is sparse (analyze_corpus_open): with the persisted index mapped, only
 * the items the question needs are read. Nothing is written to the store
 * (but the persisted index file, when it has to be built). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "../analyze/analyze.h"
#include "../explain/report.h"

typedef enum { OUT_TEXT, OUT_JSON, OUT_MARKDOWN } out_mode;

typedef struct sim_args {
    const char *db, *repo, *key, *title, *body;
    strvec labels;
    size_t k;
    double min_prob;
    int mode;   /* out_mode */
    int verbose;
} sim_args;

static char *read_stdin(void)
{
    sbuf sb;
    sb_init(&sb);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) sb_add(&sb, buf, n);
    sb_adds(&sb, "");
    return sb_take(&sb);
}

/* Returns CLI_GO to go on, else the exit status. */
static int parse_args(int argc, char **argv, sim_args *a)
{
    a->k = 5;
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &a->repo, "R", "repository (default: the only one)"),
        CLI_SIZE(NULL, 'k', &a->k, "N", 1, MATCH_POOL, "candidates shown (default 5)"),
        CLI_STR("title", 0, &a->title, "TEXT", "a new issue's title instead of KEY"),
        CLI_STR("body", 0, &a->body, "TEXT", "its body (- reads standard input)"),
        CLI_LIST("label", 0, &a->labels, "L", "its labels (repeatable)"),
        CLI_DOUBLE("min-prob", 0, &a->min_prob, "P", 0, 1,
                   "only candidates judged a duplicate or related, with that\n"
                   "relation's probability >= P (a bot might use 0.8)"),
        CLI_SET("json", 0, &a->mode, OUT_JSON, "one JSON object: the query and its candidates with reasoning"),
        CLI_SET("markdown", 0, &a->mode, OUT_MARKDOWN, "a GitHub markdown list, ready for a bot's comment"),
        CLI_FLAG("verbose", 'v', &a->verbose, "text output with the reasoning of each candidate"),
        CLI_DB(&a->db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "similar",
        "usage: doppel similar [--db PATH] [--repo R] [-k N] [--json | --markdown] [-v]\n"
        "                      (KEY | --title TEXT [--body TEXT] [--label L]...)\n",
        "Shows the items most likely to duplicate or relate to KEY (\"4606\", \"#4606\",\n"
        "\"HIVE-123\"), or to a new issue given by --title/--body (--body - reads standard\n"
        "input), best first, with relation, confidence and probability. A new issue is\n"
        "asked of the index as it is, without joining it -- the answer GET /api/similar\n"
        "gives for the same text. Only the items a question needs are read from the store.\n",
        "Exit status 3 when KEY is not in the store.\n",
        opts, 0};
    int nkeys;
    int rc = cli_parse(&cmd, argc, argv, &nkeys);
    if (rc != CLI_GO) return rc;
    if (nkeys > 1) return cli_usage_error(&cmd, "one KEY at a time");
    if (nkeys) a->key = argv[1][0] == '#' ? argv[1] + 1 : argv[1];
    if (!a->key == !a->title) return cli_usage_error(&cmd, a->key ? "give KEY or --title, not both" : "give KEY or --title");
    if (a->body && !a->title) return cli_usage_error(&cmd, "--body needs --title");
    return CLI_GO;
}

static void print_text(const analyze_corpus *co, const item *q, const pair_vec *pv, int verbose)
{
    char qr[64];
    sbuf sb;
    sb_init(&sb);
    explain_ref(q->key, qr, sizeof qr);
    sb_printf(&sb, "%s  ", qr);
    explain_trunc(&sb, q->title, 70);
    if (strcmp(q->key, ANALYZE_NEW_KEY)) {
        sb_adds(&sb, "  (");
        explain_state_words(&sb, q);
        sb_adds(&sb, ")");
    }
    printf("%s\n", sb_str(&sb));
    if (!pv->n) printf("  no candidates\n");
    for (size_t i = 0; i < pv->n; i++) {
        const pair *p = &pv->v[i];
        const item *c = analyze_corpus_item(co, p->cand_key);
        char cr[64];
        sb_reset(&sb);
        explain_ref(p->cand_key, cr, sizeof cr);
        sb_printf(&sb, "%2zu. %-9s %-9s \xc2\xb7 %-6s \xc2\xb7 p %.3f  ", i + 1, cr, relation_name(p->relation),
                  confidence_name(p->confidence), p->prob);
        explain_trunc(&sb, c->title, 56);
        sb_adds(&sb, "  (");
        explain_state_words(&sb, c);
        sb_adds(&sb, ")");
        if (p->known) sb_adds(&sb, " [already linked]");
        printf("%s\n", sb_str(&sb));
        if (verbose) {
            for (const char *r = p->reasoning; r && *r;) {
                const char *e = strchr(r, '\n');
                int n = e ? (int)(e - r) : (int)strlen(r);
                printf("      %.*s\n", n, r);
                r = e ? e + 1 : r + n;
            }
        }
    }
    sb_free(&sb);
}

static void print_json(const analyze_corpus *co, const item *q, const pair_vec *pv)
{
    json_t *o = analyze_similar_json(co, q, pv);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    printf("%s\n", s ? s : "{}");
    free(s);
    json_decref(o);
}

static void print_markdown(const analyze_corpus *co, const pair_vec *pv)
{
    sbuf sb;
    sb_init(&sb);
    if (!pv->n) sb_adds(&sb, "No similar issues found.\n");
    else sb_adds(&sb, "Possibly similar issues:\n\n");
    for (size_t i = 0; i < pv->n; i++) {
        const item *c = analyze_corpus_item(co, pv->v[i].cand_key);
        explain_pair_markdown(&sb, &pv->v[i], c);
    }
    fputs(sb_str(&sb), stdout);
    sb_free(&sb);
}

/* Drops the candidates below --min-prob, keeping order. */
static void keep_shown(pair_vec *pv, double min_prob)
{
    size_t kept = 0;
    for (size_t i = 0; i < pv->n; i++) {
        int shown = min_prob <= 0 || (pv->v[i].relation != RELATION_NONE && pv->v[i].prob >= min_prob);
        if (shown) pv->v[kept++] = pv->v[i];
        else pair_free(&pv->v[i]);
    }
    pv->n = kept;
}

/* Ranks and prints; returns the exit status. The corpus is sparse: only the
 * query's and its candidates' items are read. A new issue (--title) is an
 * outside query against the index as it is, as GET /api/similar asks it. */
static int answer(const sim_args *a, const analyze_corpus *co, const item *extra)
{
    dp_err err;
    const item *q = extra;
    pair_vec pv = {0};
    int64_t now = (int64_t)time(NULL);
    int rc;
    if (extra) {
        rc = analyze_similar_item(co, extra, a->k, now, &pv, &err);
    } else {
        int64_t qdoc = analyze_corpus_find(co, a->key);
        if (qdoc < 0) {
            cli_error("similar", "no item '%s' in the store", a->key);
            return EXIT_NOTFOUND;
        }
        rc = analyze_similar(co, (uint32_t)qdoc, a->k, now, &pv, &err);
        q = analyze_corpus_doc(co, (uint32_t)qdoc);
    }
    if (rc != DP_OK) {
        cli_error("similar", "%s", err.msg);
        pair_vec_free(&pv);
        return EXIT_FAIL;
    }
    keep_shown(&pv, a->min_prob);
    if (a->mode == OUT_JSON) print_json(co, q, &pv);
    else if (a->mode == OUT_MARKDOWN) print_markdown(co, &pv);
    else print_text(co, q, &pv, a->verbose);
    pair_vec_free(&pv);
    return EXIT_OK;
}

int cmd_similar(int argc, char **argv)
{
    sim_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_GO) {
        sv_free(&a.labels);
        return rc;
    }
    char *body = NULL;
    if (a.body && !strcmp(a.body, "-")) body = read_stdin();
    else if (a.body) body = xstrdup(a.body);

    store *st = cli_open_store("similar", a.db);
    dp_err err;
    int64_t repo;
    analyze_corpus co;
    item extra;
    item_init(&extra);
    if (a.title) analyze_new_item(a.title, body, &a.labels, (int64_t)time(NULL), &extra);
    rc = EXIT_FAIL;
    if (!st) goto out;
    if (store_repo_resolve(st, a.repo, &repo, &err) != DP_OK || analyze_corpus_open(st, repo, 0, &co, &err) != DP_OK) {
        cli_error("similar", "%s", err.msg);
        goto out;
    }
    rc = answer(&a, &co, a.title ? &extra : NULL);
    analyze_corpus_free(&co);
out:
    store_close(st);
    item_free(&extra);
    free(body);
    sv_free(&a.labels);
    return rc;
}
