/* cmd_search.c -- `doppel search QUERY`: full-text search of a repository's
 * items with the BM25F index analyze uses (title weighted above body,
 * code-aware tokens, stemming), loaded as analyze loads it: from the index
 * snapshot in the store, so only items changed since need the text
 * pipeline. Read-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../analyze/analyze.h"
#include "../explain/explain.h"
#include "../explain/report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: doppel search [--db PATH] [--repo R] [--limit N] [--json] [-v] QUERY...\n"
            "\n"
            "Full-text search (BM25F) over titles, bodies, code and labels; prints the best\n"
            "matches as KEY  state  score  title. The words of QUERY are searched as one\n"
            "query; identifiers such as NullPointerException or src/io.c match as written.\n"
            "\n"
            "  --limit N    results (default 20)\n"
            "  --json       a JSON array of items with their scores\n"
            "  -v           say on stderr how the index was loaded (snapshot or built)\n"
            "  --db PATH    store file (default $DOPPEL_DB, else ./doppel.db)\n"
            "Exit status 3 when nothing matches.\n");
}

int cmd_search(int argc, char **argv)
{
    const char *db = NULL, *repo = NULL;
    size_t limit = 20;
    int json = 0, verbose = 0;
    sbuf text;
    sb_init(&text);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            sb_free(&text);
            return EXIT_OK;
        }
        int takes = !strcmp(o, "--db") || !strcmp(o, "--repo") || !strcmp(o, "--limit");
        if (takes && i + 1 >= argc) {
            cli_error("search", "%s needs an argument", o);
            sb_free(&text);
            return EXIT_USAGE;
        }
        if (!strcmp(o, "--db")) db = argv[++i];
        else if (!strcmp(o, "--repo")) repo = argv[++i];
        else if (!strcmp(o, "--json")) json = 1;
        else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) verbose = 1;
        else if (!strcmp(o, "--limit")) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v <= 0 || v > 10000) {
                cli_error("search", "--limit wants 1..10000, not '%s'", argv[i]);
                sb_free(&text);
                return EXIT_USAGE;
            }
            limit = (size_t)v;
        } else if (o[0] == '-' && o[1] && o[1] == '-') {
            cli_error("search", "unknown option '%s'", o);
            usage(stderr);
            sb_free(&text);
            return EXIT_USAGE;
        } else {
            if (text.len) sb_addc(&text, ' ');
            sb_adds(&text, o);
        }
    }
    if (!text.len) {   /* also `search ""`, whose empty word still allocated the buffer */
        cli_error("search", "no query");
        usage(stderr);
        sb_free(&text);
        return EXIT_USAGE;
    }

    int rc = EXIT_FAIL, loaded = 0;
    dp_err err;
    int64_t repo_id;
    analyze_corpus co;
    store *st = cli_open_store("search", db);
    if (!st) goto out;
    if (store_repo_resolve(st, repo, &repo_id, &err) != DP_OK ||
        analyze_corpus_load(st, repo_id, NULL, 0, &co, &err) != DP_OK) {
        cli_error("search", "%s", err.msg);
        goto out;
    }
    loaded = 1;
    if (verbose)
        fprintf(stderr, "index: %zu items, %zu from the snapshot, %zu through the text pipeline%s%s (%.2f s)\n",
                analyze_corpus_ndocs(&co), co.snap.reused, co.snap.analysed,
                co.snap.unused_why ? "; snapshot not used: " : "", co.snap.unused_why ? co.snap.unused_why : "",
                co.t_load + co.t_index);
    analyze_search_hit *hits = xcalloc(limit, sizeof *hits);
    size_t n = analyze_search(&co, text.s, limit, hits);
    json_t *arr = json ? json_array() : NULL;
    sbuf line;
    sb_init(&line);
    for (size_t i = 0; i < n; i++) {
        const item *it = hits[i].it;
        if (arr) {
            json_t *o = explain_item_json(it);
            json_object_set_new(o, "score", json_real(hits[i].score));
            json_array_append_new(arr, o);
            continue;
        }
        char ref[64];
        sb_reset(&line);
        explain_ref(it->key, ref, sizeof ref);
        sb_printf(&line, "%-10s %-6s %7.2f  ", ref, item_is_open(it) ? "open" : "closed",
                  hits[i].score);
        explain_trunc(&line, it->title, 72);
        printf("%s\n", sb_str(&line));
    }
    if (arr) {
        char *s = json_dumps(arr, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        printf("%s\n", s ? s : "[]");
        free(s);
        json_decref(arr);
    } else if (!n) {
        printf("no matches\n");
    }
    rc = n ? EXIT_OK : EXIT_NOTFOUND;
    sb_free(&line);
    free(hits);
out:
    if (loaded) analyze_corpus_free(&co);
    store_close(st);
    sb_free(&text);
    return rc;
}
