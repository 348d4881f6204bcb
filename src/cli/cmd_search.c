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

int cmd_search(int argc, char **argv)
{
    const char *db = NULL, *repo = NULL;
    size_t limit = 20;
    int json = 0, verbose = 0;
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &repo, "R", "repository (default: the only one)"),
        CLI_SIZE("limit", 0, &limit, "N", 1, 10000, "results (default 20)"),
        CLI_FLAG("json", 0, &json, "a JSON array of items with their scores"),
        CLI_FLAG("verbose", 'v', &verbose, "say on stderr how the index was loaded (mapped, snapshot or built)"),
        CLI_DB(&db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "search",
        "usage: doppel search [--db PATH] [--repo R] [--limit N] [--json] [-v] QUERY...\n",
        "Full-text search (BM25F) over titles, bodies, code and labels; prints the best\n"
        "matches as KEY  state  score  title. The words of QUERY are searched as one\n"
        "query; identifiers such as NullPointerException or src/io.c match as written\n"
        "(a word starting with one '-' is a word of the query).\n",
        "Exit status 3 when nothing matches.\n",
        opts, CLI_DASH_WORDS};
    int nwords;
    int prc = cli_parse(&cmd, argc, argv, &nwords);
    if (prc != CLI_GO) return prc;
    sbuf text;
    sb_init(&text);
    for (int i = 1; i <= nwords; i++) {
        if (text.len) sb_addc(&text, ' ');
        sb_adds(&text, argv[i]);
    }
    if (!text.len) {   /* also `search ""`, whose empty word still allocated the buffer */
        sb_free(&text);
        return cli_usage_error(&cmd, "no query");
    }

    int rc = EXIT_FAIL, loaded = 0;
    dp_err err;
    int64_t repo_id;
    analyze_corpus co;
    store *st = cli_open_store("search", db);
    if (!st) goto out;
    if (store_repo_resolve(st, repo, &repo_id, &err) != DP_OK ||
        analyze_corpus_load(st, repo_id, 0, &co, &err) != DP_OK) {
        cli_error("search", "%s", err.msg);
        goto out;
    }
    loaded = 1;
    if (verbose && co.index_mapped)
        fprintf(stderr, "index: %zu items, mapped from the persisted index (load %.2f s, index %.2f s)\n",
                analyze_corpus_ndocs(&co), co.t_load, co.t_index);
    else if (verbose)
        fprintf(stderr,
                "index: %zu items, %zu from the snapshot, %zu through the text pipeline%s%s; "
                "persisted index not used: %s%s (load %.2f s, index %.2f s)\n",
                analyze_corpus_ndocs(&co), co.snap.reused, co.snap.analysed,
                co.snap.unused_why ? "; snapshot not used: " : "", co.snap.unused_why ? co.snap.unused_why : "",
                co.index_file_why ? co.index_file_why : "?", co.index_saved ? " (written now)" : "",
                co.t_load, co.t_index);
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
