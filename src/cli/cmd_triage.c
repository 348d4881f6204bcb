/* cmd_triage.c -- `doppel triage KEY...` and `doppel watch`: the bot that
 * answers a new issue with one comment listing its likely duplicates,
 * edits that comment when the issue changes, and stops when told. Never
 * closes anything. A dry run unless --yes. See src/act/act.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../act/act.h"
#include "../sync/sync.h"
#include "cli.h"

static const char USAGE[] =
    "usage: doppel triage KEY... [--yes] [options]   answer these issues\n"
    "       doppel watch [--yes] [options]           answer every issue opened since the last\n"
    "                                                watch (run after `doppel sync`)\n"
    "\n"
    "Posts ONE comment on an open issue listing the candidates the ranker calls\n"
    "duplicates with high confidence (the calibrated cut-off), and adds a label.\n"
    "When the issue is edited, a new run edits that same comment in place. It\n"
    "never closes anything. It stops for an issue for good -- and records the\n"
    "pairs it suggested as not related -- when the stop label is added, when the\n"
    "issue's author or a maintainer reacts with a thumbs-down to its comment, or\n"
    "when its comment is deleted. The first watch only records where it starts.\n"
    "Without --yes nothing is written to GitHub: the plan is printed.\n"
    "\n"
    "  --yes                    send the plan\n"
    "  --db PATH, --repo O/R, --api-url URL   as for apply\n"
    "  -k N                     candidates listed at most (default 5)\n"
    "  --min-confidence LEVEL   high (default), medium or low\n"
    "  --related                also list related candidates\n"
    "  --label NAME             added with the comment (default \"possible-duplicate\"); --no-label\n"
    "  --stop-label NAME        stops the bot for the issue (default \"not-a-duplicate\");\n"
    "                           --no-stop-label\n"
    "  --recheck-days N         watch: also re-read the reactions on comments posted in\n"
    "                           the last N days (default 7)\n"
    "\n"
    "Token: $GITHUB_TOKEN, else $GH_TOKEN, else `gh auth token` (Issues: read and\n"
    "write). Exit status: 0 done or planned; 1 failed; 2 usage error.\n";

typedef struct tri_args {
    cli_target target;
    int yes, watch;
    long recheck_days;
    act_triage_opts t;
    strvec keys;
} tri_args;

static int parse_args(const char *cmd, int argc, char **argv, tri_args *a)
{
    a->t.label = "possible-duplicate";
    a->t.stop_label = "not-a-duplicate";
    for (int i = 1; i < argc; i++) {
        int r = cli_target_option(cmd, argc, argv, &i, &a->target);
        if (r < 0) return EXIT_USAGE;
        if (r) continue;
        const char *o = argv[i];
        int takes = !strcmp(o, "-k") || !strcmp(o, "--min-confidence") || !strcmp(o, "--label") || !strcmp(o, "--stop-label") ||
                    !strcmp(o, "--recheck-days");
        if (takes && i + 1 >= argc) {
            cli_error(cmd, "%s needs an argument", o);
            return EXIT_USAGE;
        }
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(USAGE, stdout);
            return EXIT_OK;
        } else if (!strcmp(o, "--yes")) a->yes = 1;
        else if (!strcmp(o, "--related")) a->t.related = 1;
        else if (!strcmp(o, "--label")) a->t.label = argv[++i];
        else if (!strcmp(o, "--no-label")) a->t.label = NULL;
        else if (!strcmp(o, "--stop-label")) a->t.stop_label = argv[++i];
        else if (!strcmp(o, "--no-stop-label")) a->t.stop_label = NULL;
        else if (!strcmp(o, "--min-confidence")) {
            if (confidence_parse(argv[++i], &a->t.min_confidence)) {
                cli_error(cmd, "--min-confidence wants high, medium or low");
                return EXIT_USAGE;
            }
        } else if (!strcmp(o, "-k") || !strcmp(o, "--recheck-days")) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v <= 0 || v > 50) {
                cli_error(cmd, "%s wants 1..50, not '%s'", o, argv[i]);
                return EXIT_USAGE;
            }
            if (!strcmp(o, "-k")) a->t.max_shown = (size_t)v;
            else a->recheck_days = v;
        } else if (o[0] == '-' && o[1]) {
            cli_error(cmd, "unknown option '%s'", o);
            fputs(USAGE, stderr);
            return EXIT_USAGE;
        } else if (a->watch) {
            cli_error(cmd, "watch takes no keys (it finds the new issues itself)");
            return EXIT_USAGE;
        } else {
            sv_push(&a->keys, o[0] == '#' ? o + 1 : o);
        }
    }
    if ((a->t.label && !cli_label_ok(a->t.label)) || (a->t.stop_label && !cli_label_ok(a->t.stop_label))) {
        cli_error(cmd, "a label name must be UTF-8 without control characters");
        return EXIT_USAGE;
    }
    if (!a->watch && !a->keys.n) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    return -1;
}

static int run(const char *cmd, tri_args *a)
{
    store *st = cli_open_store(cmd, a->target.db);
    if (!st) return EXIT_FAIL;
    dp_err err;
    int64_t repo = 0;
    const char *source = NULL;
    char *token = sync_find_token(&source);
    act_opts o = {0};
    cli_gh_config(&o.gh, a->target.api_url, token);
    a->t.k = a->t.max_shown > 10 ? a->t.max_shown * 2 : 10;
    act_plan plan = {0};
    int rc = EXIT_FAIL, first = 0;
    cli_signals_catch();
    if (store_repo_resolve(st, a->target.repo, &repo, &err) != DP_OK) goto fail;
    if (a->watch && act_watch_keys(st, repo, (int)a->recheck_days, &a->keys, &first, &err) != DP_OK) goto fail;
    if (first) {
        printf("watch starts here: issues opened from now on are triaged by the next runs\n");
        rc = EXIT_OK;
        goto out;
    }
    if (a->watch && !a->keys.n) {
        printf("no new or changed issues to triage\n");
        rc = act_watch_commit(st, repo, &err) == DP_OK ? EXIT_OK : EXIT_FAIL;
        if (rc != EXIT_OK) goto fail;
        goto out;
    }
    if (act_plan_triage(st, repo, &a->keys, &o, &a->t, &plan, &err) != DP_OK) goto fail;
    sbuf sb;
    sb_init(&sb);
    act_plan_print(&plan, 1, &sb);
    fputs(sb_str(&sb), stdout);
    sb_free(&sb);
    act_counts c;
    act_plan_count(&plan, &c);
    if (!a->yes) {
        if (c.todo) printf("dry run: nothing was written to GitHub; add --yes to send it\n");
        rc = EXIT_OK;
        goto out;
    }
    if (c.todo && !token) {
        dp_fail(&err, "--yes needs a token: $GITHUB_TOKEN, $GH_TOKEN or `gh auth token`");
        goto fail;
    }
    act_stats s = {0};
    if (c.todo) {
        printf("sending:\n");
        if (act_run(st, &plan, &o, cli_act_event, NULL, &s, &err) != DP_OK) goto fail;
        printf("sent %zu write%s, found %zu done already\n", s.writes, s.writes == 1 ? "" : "s", s.reconciled);
    }
    if (a->watch && act_watch_commit(st, repo, &err) != DP_OK) goto fail;
    rc = c.todo && s.units_failed ? EXIT_FAIL : EXIT_OK;
    goto out;
fail:
    if (cli_interrupted) cli_error(cmd, "interrupted: run the same command again to finish");
    else cli_error_redacted(cmd, token, err.msg);
    rc = EXIT_FAIL;
out:
    cli_signals_reset();
    act_plan_free(&plan);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    store_close(st);
    return rc;
}

static int main_common(const char *cmd, int watch, int argc, char **argv)
{
    tri_args a = {.watch = watch};
    int rc = parse_args(cmd, argc, argv, &a);
    if (rc < 0) rc = run(cmd, &a);
    sv_free(&a.keys);
    return rc;
}

int cmd_triage(int argc, char **argv)
{
    return main_common("triage", 0, argc, argv);
}

int cmd_watch(int argc, char **argv)
{
    return main_common("watch", 1, argc, argv);
}
