/* cmd_sync.c -- `doppel sync OWNER/REPO`: fetch issues, pull requests,
 * comments and labels from the GitHub REST API into the store, incrementally
 * (see src/sync/sync.h for what is fetched and how a run resumes). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../analyze/analyze.h"
#include "../sync/github.h"
#include "../sync/sync.h"
#include "cli.h"

typedef struct ui {
    progress bar;
    const char *phase;
    int quiet;
} ui;

static void on_progress(void *ctx, const sync_progress *p)
{
    ui *u = ctx;
    if (u->quiet) return;
    if (u->phase != p->phase) {
        if (u->phase) progress_finish(&u->bar);
        u->phase = p->phase;
        static char label[32];
        snprintf(label, sizeof label, "sync %-8s", p->phase);
        progress_start(&u->bar, label, 0);
    }
    u->bar.total = p->pages_total > p->pages ? p->pages_total : 0;
    char extra[160], rate[48] = "";
    if (p->rate_remaining >= 0)
        snprintf(rate, sizeof rate, ", rate %ld/%ld left", p->rate_remaining, p->rate_limit);
    if (p->wait_left > 0)
        snprintf(extra, sizeof extra, "waiting %.0fs (%s)%s", p->wait_left + 0.5,
                 p->wait_reason ? p->wait_reason : "", rate);
    else
        snprintf(extra, sizeof extra, "pages, %zu items, %zu comments, %zu requests%s", p->items,
                 p->comments, p->requests, rate);
    u->bar.last = p->wait_left > 0 ? 0 : u->bar.last;   /* countdown redraws promptly */
    progress_update(&u->bar, p->pages, extra);
}

/* `--analyze`: the incremental analysis of what the sync brought in. */
static int run_analyze(store *st, int64_t repo, int quiet)
{
    analyze_opts o;
    analyze_opts_default(&o);
    analyze_stats s;
    phase_bars b = {.quiet = quiet};
    dp_err err;
    int rc = analyze_run(st, repo, &o, cli_phase_progress, &b, &s, &err);
    cli_phase_finish(&b);
    if (rc != DP_OK) {
        cli_error("sync", "analyze: %s", err.msg);
        return EXIT_FAIL;
    }
    if (quiet) return EXIT_OK;
    if (s.up_to_date)
        printf("analysis up to date: no item changed since the last one (%zu items)\n", s.items);
    else
        printf("analyzed %zu queries of %zu items%s: %zu pairs stored (%zu already linked)\n", s.queries,
               s.items, s.incremental ? " (incremental)" : "", s.pairs, s.known);
    return EXIT_OK;
}

static void print_summary(const char *repo, const sync_stats *s, const char *token_source)
{
    printf("synced %s: %zu items fetched (%zu new or changed), %zu comments, %zu labels, %zu links\n",
           repo, s->items, s->items_written, s->comments, s->labels, s->links);
    if (s->deleted) printf("marked deleted or transferred: %zu\n", s->deleted);
    printf("requests: %zu (%zu not modified, %zu retried), %.1f MB", s->requests, s->not_modified,
           s->retries, (double)s->bytes / 1e6);
    if (s->rate_remaining >= 0) printf(", rate limit %ld/%ld left", s->rate_remaining, s->rate_limit);
    printf(", %s\n", token_source ? "authenticated" : "anonymous");
    if (s->rate_waits) printf("waited %.0fs for rate limits and retries\n", s->waited_s);
}

static int parse_args(int argc, char **argv, sync_opts *o, const char **db, int *analyze, int *quiet)
{
    const cli_opt opts[] = {
        CLI_DB(db),
        CLI_CALL("api-url", 0, cli_opt_api_url, &o->api_url, "URL",
                 "API root, e.g. https://HOST/api/v3 for GitHub Enterprise\n(default https://api.github.com)"),
        CLI_FLAG("timeline", 0, &o->timeline,
                 "read the timeline of issues closed as duplicate to learn\n"
                 "their canonical issue (one request per such issue, once)"),
        CLI_FLAG("verify", 0, &o->verify,
                 "find deleted and transferred items: lists open items and\n"
                 "re-checks each stored open item missing from that list"),
        CLI_FLAG("full", 0, &o->full, "ignore the saved cursors: list everything again"),
        CLI_FLAG("analyze", 0, analyze, "run the incremental analysis afterwards"),
        CLI_FLAG("quiet", 'q', quiet, "no progress bar and no summary"),
        CLI_END,
    };
    const cli_cmd cmd = {
        "sync", "usage: doppel sync OWNER/REPO [options]\n",
        "Fetches every issue, pull request, issue comment and label colour of a GitHub\n"
        "repository. The first run fetches everything; later runs fetch only what\n"
        "changed (since= plus ETags: an unchanged repository costs no rate limit).\n"
        "An interrupted run (Ctrl-C, network loss, kill) resumes where it stopped.\n",
        "Token: $GITHUB_TOKEN, else $GH_TOKEN, else `gh auth token` (there is no\n"
        "--token option: a command line shows in `ps`). Without one, GitHub allows\n"
        "60 requests an hour. The token is never printed or stored; a server's\n"
        "message that quotes it is shown with [REDACTED]. The API URL must not hold\n"
        "a user name or password.\n"
        "\n"
        "Rate limits are waited out; 5xx and network errors are retried ($DOPPEL_SYNC_TRIES\n"
        "tries, default 6; exponential backoff from $DOPPEL_SYNC_BACKOFF_MS, default\n"
        "1000 ms, cap 60 s). Limits per request, never retried when hit:\n"
        "  $DOPPEL_SYNC_STALL_S      abort when no byte arrives for this long (default 60)\n"
        "  $DOPPEL_SYNC_DEADLINE_S   abort an answer not complete after this (default 300)\n"
        "  $DOPPEL_SYNC_MAX_PAGE_MB  largest page, decoded (default 32)\n"
        "A listing stops with an error on a rel=\"next\" cycle or when it runs far past\n"
        "the pages the server announced.\n"
        "\n"
        "Exit status: 0 done; 1 failed or interrupted (the first Ctrl-C or SIGTERM stops\n"
        "within about a second; the pages fetched before stay stored and the next run\n"
        "resumes); 2 usage error (also a user name or password in --api-url).\n",
        opts, 0};
    int nrepos;
    int rc = cli_parse(&cmd, argc, argv, &nrepos);
    if (rc != CLI_GO) return rc;
    if (nrepos == 0) return cli_usage_error(&cmd, "which repository? give OWNER/REPO");
    if (nrepos > 1) return cli_usage_error(&cmd, "one repository at a time (got '%s' and '%s')", argv[1], argv[2]);
    o->repo = argv[1];
    return CLI_GO;
}

int cmd_sync(int argc, char **argv)
{
    sync_opts o = {0};
    const char *db = NULL;
    int analyze = 0, quiet = 0;
    int rc = parse_args(argc, argv, &o, &db, &analyze, &quiet);
    if (rc != CLI_GO) return rc;
    dp_err err;
    if (sync_parse_repo(o.repo, &err) != DP_OK) {
        cli_error("sync", "%s", err.msg);
        return EXIT_USAGE;
    }
    const char *source = NULL;
    char *token = sync_find_token(&source);
    if (!token && !quiet)
        cli_error("sync", "no token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`): anonymous requests, "
                          "GitHub allows 60 an hour");
    store *st = cli_open_store("sync", db);
    if (!st) {
        free(token);
        return EXIT_FAIL;
    }
    ui u = {.quiet = quiet};
    o.token = token;
    o.backoff_base_ms = cli_env_long("DOPPEL_SYNC_BACKOFF_MS", 0);
    o.stall_timeout_s = cli_env_long("DOPPEL_SYNC_STALL_S", 0);
    o.max_tries = (int)cli_env_long("DOPPEL_SYNC_TRIES", 0);
    o.deadline_s = cli_env_long("DOPPEL_SYNC_DEADLINE_S", 0);
    long mb = cli_env_long("DOPPEL_SYNC_MAX_PAGE_MB", 0);
    o.max_page_bytes = mb > 0 && mb <= 4096 ? (size_t)mb << 20 : 0;
    o.progress = on_progress;
    o.progress_ctx = &u;
    o.cancel = &cli_interrupted;
    cli_signals_catch();

    sync_stats s;
    rc = sync_run(st, &o, &s, &err);
    cli_signals_reset();
    if (u.phase) progress_finish(&u.bar);
    if (rc != DP_OK) {
        if (cli_interrupted)
            cli_error("sync", "interrupted by %s: %zu pages were stored; run the same command again to resume",
                      cli_interrupted == SIGTERM ? "SIGTERM" : "SIGINT", s.pages);
        else
            cli_error_redacted("sync", token, err.msg);
        if (s.pages && !cli_interrupted)
            cli_error("sync", "%zu pages were stored; run the same command again to resume", s.pages);
    }
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    if (rc != DP_OK) {
        store_close(st);
        return EXIT_FAIL;
    }
    if (!quiet) print_summary(o.repo, &s, source);
    rc = analyze ? run_analyze(st, s.repo_id, quiet) : EXIT_OK;
    store_close(st);
    return rc;
}
