/* cmd_search.c -- `doppel search QUERY`: full-text search of a repository's
 * items with the same BM25F index analyze uses (title weighted above body,
 * code-aware tokens, stemming). Read-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../explain/explain.h"
#include "../explain/report.h"
#include "../index/index.h"

int cmd_search(int argc, char **argv)
{
    const char *db = NULL, *repo = NULL;
    size_t limit = 20;
    int json = 0;
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &repo, "R", "repository (default: the only one)"),
        CLI_SIZE("limit", 0, &limit, "N", 1, 10000, "results (default 20)"),
        CLI_FLAG("json", 0, &json, "a JSON array of items with their scores"),
        CLI_DB(&db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "search",
        "usage: doppel search [--db PATH] [--repo R] [--limit N] [--json] QUERY...\n",
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

    int rc = EXIT_FAIL;
    dp_err err;
    int64_t repo_id;
    item_vec items = {0};
    dindex *ix = NULL;
    store *st = cli_open_store("search", db);
    if (!st) goto out;
    if (store_repo_resolve(st, repo, &repo_id, &err) != DP_OK ||
        store_items_load(st, repo_id, &items, &err) != DP_OK) {
        cli_error("search", "%s", err.msg);
        goto out;
    }
    index_params p;
    index_params_default(&p);
    if (index_build(items.v, items.n, &p, &ix, &err) != DP_OK) {
        cli_error("search", "%s", err.msg);
        goto out;
    }
    /* The query text plays the title of an item, the field searched hardest. */
    item qi;
    item_init(&qi);
    qi.key = xstrdup("(query)");
    qi.title = xstrdup(text.s);
    qi.body = xstrdup("");
    text_tokenizer *tk = text_tokenizer_new(&p.text);
    index_query q;
    index_query_from_item(ix, tk, &qi, &q);
    index_hit *hits = xcalloc(limit, sizeof *hits);
    size_t n = index_topk(ix, &q, 0, (uint32_t)index_ndocs(ix), UINT32_MAX, limit, hits);
    json_t *arr = json ? json_array() : NULL;
    sbuf line;
    sb_init(&line);
    for (size_t i = 0; i < n; i++) {
        const item *it = index_item(ix, hits[i].doc);
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
        if (it->deleted) sb_adds(&line, "  (deleted)");
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
    index_query_free(&q);
    text_tokenizer_free(tk);
    item_free(&qi);
out:
    if (ix) index_free(ix);
    item_vec_free(&items);
    store_close(st);
    sb_free(&text);
    return rc;
}
