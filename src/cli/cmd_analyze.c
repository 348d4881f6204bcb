/* cmd_analyze.c -- `doppel analyze`: finds candidate pairs for the open
 * issues (or every item) of a repository and stores them with reasoning,
 * value and a suggested comment. The work is analyze_run() (explain module);
 * this file parses options, draws the progress bar and prints a summary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../analyze/analyze.h"

/* --max-memory: a size in bytes with an optional K, M or G (powers of
 * 1024), at least 1M (a smaller one is surely a slip: a typo'd unit), or
 * "none" for no ceiling. */
static int opt_max_memory(const char *cmd, const char *name, const char *value, void *ptr)
{
    if (!strcmp(value, "none")) {
        *(size_t *)ptr = 0;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    double unit = 1;
    if (end && *end) {
        switch (*end == 'k' ? 'K' : *end == 'm' ? 'M' : *end == 'g' ? 'G' : *end) {
        case 'K': unit = 1024.0; break;
        case 'M': unit = 1024.0 * 1024; break;
        case 'G': unit = 1024.0 * 1024 * 1024; break;
        default: unit = 0;
        }
        end++;
        if (*end == 'B' || *end == 'b') end++;
    }
    double bytes = v * unit;
    if (end == value || !end || *end || errno || !(bytes >= 1024.0 * 1024) || bytes > 1e15) {
        cli_error(cmd, "%s wants a size of at least 1M, like 1500M or 2G (or none), not '%s'", name, value);
        return -1;
    }
    *(size_t *)ptr = (size_t)bytes;
    return 0;
}

/* Analyzes one repository and prints its summary; name (may be NULL) labels
 * the summary when the store holds several. */
static int analyze_one(store *st, int64_t repo_id, const char *name, const analyze_opts *o,
                       int quiet)
{
    phase_bars b = {0};   /* --quiet drops the summary; bars show on a terminal */
    analyze_stats s;
    dp_err err;
    double t0 = dp_now();
    int rc = analyze_run(st, repo_id, o, cli_phase_progress, &b, &s, &err);
    cli_phase_finish(&b);
    if (rc != DP_OK) {
        cli_error("analyze", "%s%s%s", name ? name : "", name ? ": " : "", err.msg);
        return EXIT_FAIL;
    }
    if (s.items == 0) {   /* e.g. only comments were imported: nothing to do, exit 3 */
        cli_error("analyze", "%s%snothing to analyze: no issues or pull requests stored (comments "
                  "alone are not analyzed); import the issues first", name ? name : "", name ? ": " : "");
        return EXIT_NOTFOUND;
    }
    if (!quiet) {
        if (name) printf("== %s\n", name);
        if (s.up_to_date) {
            printf("up to date: no item changed since the last analysis (%zu items)\n", s.items);
        } else {
            printf("analyzed %zu %s of %zu items%s: %zu pairs stored (%zu already linked)\n",
                   s.queries, s.queries == 1 ? "query" : "queries", s.items,
                   s.incremental ? " (incremental)" : "", s.pairs, s.known);
            if (s.incremental) printf("changed items: %zu\n", s.changed);
            if (s.incremental && s.grow_why) printf("persisted index not grown: %s\n", s.grow_why);
            if (s.index_mapped && s.grown)
                printf("indexed: %zu of %zu items through the text pipeline, the rest from the persisted "
                       "index (grown by %zu new items)%s\n", s.reanalysed, s.items, s.grown,
                       s.index_saved ? " (index file written)" : "");
            else if (s.index_mapped)
                printf("indexed: 0 of %zu items through the text pipeline, all from the persisted index\n",
                       s.items);
            else
                printf("indexed: %zu of %zu items through the text pipeline, the rest from the "
                       "snapshot%s%s\n", s.reanalysed, s.items, s.snapshot_saved ? " (snapshot saved)" : "",
                       s.index_saved ? " (index file written)" : "");
        }
        if (s.horizon && !s.up_to_date)
            printf("horizon: %d days (items created further apart are not paired; --horizon 0 "
                   "pairs them)\n", s.horizon);
        printf("model: %s\n", s.model_desc);
        if (s.max_memory && !s.up_to_date)
            printf("memory: ceiling %zu MB, %zu MB resident after indexing; traded: %s\n",
                   s.max_memory >> 20, s.mem_base >> 20, s.traded);
        printf("time: %.2fs (load %.2fs, index %.2fs, plan %.2fs, rank %.2fs, explain+store %.2fs "
               "(explaining %.2fs of it, %zu pairs a batch))\n",
               dp_now() - t0, s.t_load, s.t_index, s.t_plan, s.t_rank, s.t_store, s.t_explain, s.batch);
    }
    return EXIT_OK;
}

int cmd_analyze(int argc, char **argv)
{
    const char *db = NULL, *repo = NULL;
    int quiet = 0;
    analyze_opts o;
    analyze_opts_default(&o);
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &repo, "R", "only this repository (default: every one in the store)"),
        CLI_FLAG("all", 0, &o.all, "query every item, not only open issues"),
        CLI_SIZE(NULL, 'k', &o.k, "N", 1, 999999, "candidates ranked per query (default 20)"),
        CLI_SIZE("keep", 0, &o.keep, "N", 0, 999999,
                 "candidates always stored per query (default 3); more are\n"
                 "stored when judged a duplicate or related with high confidence"),
        CLI_INT("threads", 0, &o.threads, "N", 0, 999999, "worker threads (default: number of CPUs)"),
        CLI_INT("horizon", 0, &o.horizon, "DAYS", 0, 36500,
                "rank only the items created within DAYS of each query,\n"
                "before or after; 0 = every item, which costs time growing\n"
                "with the square of the repository's size (default: 365 once\n"
                "a repository holds 50000 items, else 0)"),
        CLI_SET("full", 0, &o.mode, ANALYZE_FULL, "re-rank every query"),
        CLI_CALL("max-memory", 0, opt_max_memory, &o.max_memory, "SIZE",
                 "keep memory under SIZE (e.g. 1500M, 2G): does not keep the\n"
                 "index's split text (split again when explaining), recomputes\n"
                 "judge features when explaining and stores fewer pairs at a\n"
                 "time, as far as needed -- slower, never other pairs; says\n"
                 "what it traded (default 1800M: 250k items stay under 2 GB;\n"
                 "none: no ceiling)"),
        CLI_FLAG("quiet", 'q', &quiet, "no summary line"),
        CLI_DB(&db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "analyze",
        "usage: doppel analyze [--db PATH] [--repo R] [--all] [-k N] [--keep N]\n"
        "                      [--horizon DAYS] [--threads N] [--full] [--max-memory SIZE]\n"
        "                      [--quiet]\n",
        "Ranks candidates for every open issue (with --all: every issue and pull\n"
        "request) and stores the pairs worth reviewing, each with a relation\n"
        "(duplicate/related), a confidence, a value, reasoning and a suggested comment.\n"
        "Re-running replaces the pairs and keeps the verdicts. When the store holds a\n"
        "previous analysis with the same options and model, only the items changed since\n"
        "then, and the queries they affect, are re-ranked.\n",
        "Exit status 3 when there is nothing to analyze (no issues or pull requests\n"
        "stored; a repository without any is skipped when others have some).\n",
        opts, 0};
    int prc = cli_parse(&cmd, argc, argv, NULL);
    if (prc != CLI_GO) return prc;

    store *st = cli_open_store("analyze", db);
    if (!st) return EXIT_FAIL;
    dp_err err;
    int rc = EXIT_OK;
    if (repo) {
        int64_t repo_id;
        if (store_repo_resolve(st, repo, &repo_id, &err) != DP_OK) {
            cli_error("analyze", "%s", err.msg);
            rc = EXIT_FAIL;
        } else {
            rc = analyze_one(st, repo_id, NULL, &o, quiet);
        }
    } else {
        /* No --repo: every repository in the store, one after another, so a
         * store holding several projects needs no loop in the shell. One
         * with nothing to analyze is skipped (with its message); the exit
         * status is 3 only when that was true of every one. */
        repo_info *repos = NULL;
        size_t n = 0;
        if (store_repo_list(st, &repos, &n, &err) != DP_OK) {
            cli_error("analyze", "%s", err.msg);
            rc = EXIT_FAIL;
        } else if (n == 0) {
            cli_error("analyze", "the store has no repositories; import or sync some first");
            rc = EXIT_NOTFOUND;
        }
        size_t done = 0;
        for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
            int r = analyze_one(st, repos[i].id, n > 1 ? repos[i].name : NULL, &o, quiet);
            if (r == EXIT_OK) done++;
            else if (r != EXIT_NOTFOUND) rc = r;
        }
        if (rc == EXIT_OK && n > 0 && done == 0) rc = EXIT_NOTFOUND;
        for (size_t i = 0; i < n; i++) repo_info_free(&repos[i]);
        free(repos);
    }
    store_close(st);
    return rc;
}
