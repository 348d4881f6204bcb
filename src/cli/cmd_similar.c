/* cmd_similar.c -- `doppel similar KEY` and `doppel similar --title T
 * --body B`: the top candidates for one item, or for an issue not filed yet
 * (a bot checking a new issue), as text, JSON or GitHub markdown. Nothing is
 * written to the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "../analyze/analyze.h"
#include "../explain/report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: doppel similar [--db PATH] [--repo R] [-k N] [--json | --markdown] [-v]\n"
            "                      (KEY | --title TEXT [--body TEXT] [--label L]...)\n"
            "\n"
            "Shows the items most likely to duplicate or relate to KEY (\"4606\", \"#4606\",\n"
            "\"HIVE-123\"), or to a new issue given by --title/--body (--body - reads standard\n"
            "input), best first, with relation, confidence and probability.\n"
            "\n"
            "  -k N          candidates shown (default 5)\n"
            "  --min-prob P  only candidates judged a duplicate or related, with that\n"
            "                relation's probability >= P (a bot might use 0.8)\n"
            "  --json        one JSON object: the query and its candidates with reasoning\n"
            "  --markdown    a GitHub markdown list, ready for a bot's comment\n"
            "  -v            text output with the reasoning of each candidate\n"
            "  --db PATH     store file (default $DOPPEL_DB, else ./doppel.db)\n"
            "Exit status 3 when KEY is not in the store.\n");
}

typedef enum { OUT_TEXT, OUT_JSON, OUT_MARKDOWN } out_mode;

typedef struct sim_args {
    const char *db, *repo, *key, *title, *body;
    strvec labels;
    size_t k;
    double min_prob;
    out_mode mode;
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

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, sim_args *a)
{
    a->k = 5;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int takes = !strcmp(o, "--db") || !strcmp(o, "--repo") || !strcmp(o, "-k") ||
                    !strcmp(o, "--title") || !strcmp(o, "--body") || !strcmp(o, "--label") ||
                    !strcmp(o, "--min-prob");
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return EXIT_OK;
        }
        if (takes && i + 1 >= argc) {
            cli_error("similar", "%s needs an argument", o);
            return EXIT_USAGE;
        }
        if (!strcmp(o, "--db")) a->db = argv[++i];
        else if (!strcmp(o, "--repo")) a->repo = argv[++i];
        else if (!strcmp(o, "--title")) a->title = argv[++i];
        else if (!strcmp(o, "--body")) a->body = argv[++i];
        else if (!strcmp(o, "--label")) sv_push(&a->labels, argv[++i]);
        else if (!strcmp(o, "--json")) a->mode = OUT_JSON;
        else if (!strcmp(o, "--markdown")) a->mode = OUT_MARKDOWN;
        else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) a->verbose = 1;
        else if (!strcmp(o, "--min-prob")) {
            char *end;
            a->min_prob = strtod(argv[++i], &end);
            if (*end || end == argv[i] || a->min_prob < 0 || a->min_prob > 1) {
                cli_error("similar", "--min-prob wants a number in [0, 1], not '%s'", argv[i]);
                return EXIT_USAGE;
            }
        } else if (!strcmp(o, "-k")) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v <= 0 || v > MATCH_POOL) {
                cli_error("similar", "-k wants 1..%d, not '%s'", MATCH_POOL, argv[i]);
                return EXIT_USAGE;
            }
            a->k = (size_t)v;
        } else if (o[0] == '-' && o[1]) {
            cli_error("similar", "unknown option '%s'", o);
            usage(stderr);
            return EXIT_USAGE;
        } else if (a->key) {
            cli_error("similar", "one KEY at a time");
            return EXIT_USAGE;
        } else {
            a->key = o[0] == '#' ? o + 1 : o;
        }
    }
    if (!a->key == !a->title) {
        cli_error("similar", a->key ? "give KEY or --title, not both" : "give KEY or --title");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (a->body && !a->title) {
        cli_error("similar", "--body needs --title");
        return EXIT_USAGE;
    }
    return -1;
}

static void print_text(const analyze_corpus *co, uint32_t qdoc, const pair_vec *pv, int verbose)
{
    const item *q = analyze_corpus_doc(co, qdoc);
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

static void print_json(const analyze_corpus *co, uint32_t qdoc, const pair_vec *pv)
{
    json_t *o = analyze_similar_json(co, analyze_corpus_doc(co, qdoc), pv);
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

int cmd_similar(int argc, char **argv)
{
    sim_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) {
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
    if (store_repo_resolve(st, a.repo, &repo, &err) != DP_OK ||
        analyze_corpus_load(st, repo, a.title ? &extra : NULL, 0, &co, &err) != DP_OK) {
        cli_error("similar", "%s", err.msg);
        goto out;
    }
    int64_t qdoc = a.title ? (int64_t)co.extra_doc : analyze_corpus_find(&co, a.key);
    if (qdoc < 0) {
        cli_error("similar", "no item '%s' in the store", a.key);
        rc = EXIT_NOTFOUND;
    } else {
        pair_vec pv = {0};
        analyze_similar(&co, (uint32_t)qdoc, a.k, (int64_t)time(NULL), &pv);
        size_t kept = 0;   /* drop the ones below --min-prob, keeping order */
        for (size_t i = 0; i < pv.n; i++) {
            int shown = a.min_prob <= 0 ||
                        (pv.v[i].relation != RELATION_NONE && pv.v[i].prob >= a.min_prob);
            if (shown) pv.v[kept++] = pv.v[i];
            else pair_free(&pv.v[i]);
        }
        pv.n = kept;
        if (a.mode == OUT_JSON) print_json(&co, (uint32_t)qdoc, &pv);
        else if (a.mode == OUT_MARKDOWN) print_markdown(&co, &pv);
        else print_text(&co, (uint32_t)qdoc, &pv, a.verbose);
        pair_vec_free(&pv);
        rc = EXIT_OK;
    }
    analyze_corpus_free(&co);
out:
    store_close(st);
    item_free(&extra);
    free(body);
    sv_free(&a.labels);
    return rc;
}
