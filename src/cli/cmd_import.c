/* cmd_import.c -- `doppel import FILE...`: reads tracker exports into the
 * store in one transaction, so a bad file leaves the store as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../ingest/ingest.h"

typedef struct import_args {
    const char *repo, *db;
    ingest_format format;
    const char **files;
    int nfiles;
} import_args;

static int parse_format(const char *cmd, const char *name, const char *value, void *ptr)
{
    (void)name;
    if (ingest_format_parse(value, ptr) == DP_OK) return 0;
    cli_error(cmd, "unknown format '%s' (github, gh, comments, jira)", value);
    return -1;
}

/* Returns CLI_GO to go on, else the exit status. a->files point into argv. */
static int parse_args(int argc, char **argv, import_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &a->repo, "OWNER/NAME", "store everything under this repository name"),
        CLI_CALL("format", 0, parse_format, &a->format, "github|gh|comments|jira", "the format (default: detect)"),
        CLI_DB(&a->db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "import",
        "usage: doppel import FILE... [--repo OWNER/NAME] [--format github|gh|comments|jira]\n"
        "                             [--db PATH]\n",
        "Reads issue exports (gzip or plain; FILE '-' is standard input) into the store:\n"
        "  github    GitHub REST issues: JSON arrays (pages may be concatenated) or NDJSON\n"
        "  gh        `gh issue list --json ...` / `gh pr list --json ...` output\n"
        "  comments  GitHub REST issue comments (/issues/comments)\n"
        "  jira      Jira REST issues: search pages {\"issues\":[...]} or one issue per line\n"
        "The format is detected per file unless --format is given. The repository comes\n"
        "from the data (repository_url, issue URLs, Jira project key) unless --repo.\n"
        "Re-importing is safe: an item is replaced only by a newer updated_at.\n"
        "A date more than a day in the future (a wrong clock) is stored as given and\n"
        "reported as a warning. A truncated or damaged .gz file is an error.\n"
        "All files are imported in one transaction; on any error nothing is written.\n",
        NULL, opts, 0};
    int rc = cli_parse(&cmd, argc, argv, &a->nfiles);
    if (rc != CLI_GO) return rc;
    if (a->nfiles == 0) return cli_usage_error(&cmd, "no input files");
    a->files = (const char **)(argv + 1);
    return CLI_GO;
}

typedef struct import_progress {
    progress bar;
    int started;
    const ingest_stats *stats;
} import_progress;

/* One bar per file over its bytes as stored (compressed for .gz), with the
 * running item count beside it. */
static void on_progress(void *ctx, const char *path, uint64_t done, uint64_t total)
{
    import_progress *ip = ctx;
    char extra[48];
    if (!ip->started) {
        const char *base = strrchr(path, '/');
        progress_start(&ip->bar, base ? base + 1 : path, (size_t)total);
        ip->started = 1;
    }
    snprintf(extra, sizeof extra, "%zu items", ip->stats->items);
    progress_update(&ip->bar, (size_t)done, extra);
}

/* Warnings go to stderr, the first WARN_SHOWN of them; the summary line
 * gives the count, so a file full of them does not drown the terminal. */
#define WARN_SHOWN 20

static void on_warning(void *ctx, const char *msg)
{
    size_t *shown = ctx;
    if (++*shown <= WARN_SHOWN) cli_error("import", "warning: %s", msg);
    else if (*shown == WARN_SHOWN + 1) cli_error("import", "warning: (further warnings not shown)");
}

static int import_all(store *st, const import_args *a, ingest_stats *stats, double *commit_s)
{
    dp_err err;
    size_t shown = 0;
    ingest_opts opts = {.format = a->format, .repo = a->repo, .progress = on_progress,
                        .warn = on_warning, .warn_ctx = &shown};
    if (store_bulk_mode(st, &err) != DP_OK || store_begin(st, &err) != DP_OK) {
        cli_error("import", "%s", err.msg);
        return EXIT_FAIL;
    }
    for (int i = 0; i < a->nfiles; i++) {
        import_progress ip = {.stats = stats};
        opts.progress_ctx = &ip;
        int rc = ingest_file(st, a->files[i], &opts, stats, &err);
        if (ip.started) progress_finish(&ip.bar);
        if (rc != DP_OK) {
            store_rollback(st);
            cli_error("import", "%s", err.msg);
            cli_error("import", "nothing was imported (the store is unchanged)");
            return EXIT_FAIL;
        }
    }
    double t0 = dp_now();
    int rc = store_commit(st, &err);
    *commit_s = dp_now() - t0;
    if (rc != DP_OK) {
        store_rollback(st);
        cli_error("import", "%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
    import_args a;
    ingest_stats stats = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_GO) return rc;
    store *st = cli_open_store("import", a.db);
    if (!st) return EXIT_FAIL;
    double t0 = dp_now(), commit_s = 0;
    rc = import_all(st, &a, &stats, &commit_s);
    double el = dp_now() - t0, mb = (double)stats.bytes / 1e6;
    if (rc == EXIT_OK) {
        char future[96] = "";
        if (stats.future_dated)
            snprintf(future, sizeof future, ", %zu dated in the future (see the warnings)",
                     stats.future_dated);
        printf("imported %d file%s: %zu items read, %zu written, %zu comments, %zu links%s, "
               "%.1f MB in %.2f s (%.1f MB/s)\n",
               a.nfiles, a.nfiles == 1 ? "" : "s", stats.items, stats.items_written,
               stats.comments, stats.links, future, mb, el, el > 0 ? mb / el : 0.0);
        /* Where the time went (see ingest_stats): the store's thread
         * bounds an import, the others run beside it. */
        printf("cpu: inflate and split %.2f s, parse %.2f s, store %.2f s, then commit %.2f s\n",
               stats.cpu_read, stats.cpu_parse, stats.cpu_write, commit_s);
    }
    store_close(st);
    return rc;
}
