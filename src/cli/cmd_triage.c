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

typedef struct tri_args {
    cli_target target;
    int yes, watch;
    int recheck_days;
    act_triage_opts t;
    strvec keys;
} tri_args;

static int parse_args(const char *cmd, int argc, char **argv, tri_args *a)
{
    static const int levels[] = {CONFIDENCE_HIGH, CONFIDENCE_MEDIUM, CONFIDENCE_LOW, -1};
    a->t.label = "possible-duplicate";
    a->t.stop_label = "not-a-duplicate";
    int min_conf = (int)a->t.min_confidence;
    const cli_opt opts[] = {
        CLI_FLAG("yes", 0, &a->yes, "send the plan"),
        CLI_TARGET_OPTS(&a->target),
        CLI_SIZE(NULL, 'k', &a->t.max_shown, "N", 1, 50, "candidates listed at most (default 5)"),
        CLI_ENUM("min-confidence", 0, &min_conf, confidence_names, levels, "the least confidence listed (default high)"),
        CLI_FLAG("related", 0, &a->t.related, "also list related candidates"),
        CLI_CALL("label", 0, cli_opt_label, &a->t.label, "NAME",
                 "added with the comment (default \"possible-duplicate\")"),
        CLI_CLEAR("no-label", &a->t.label, "add no label"),
        CLI_CALL("stop-label", 0, cli_opt_label, &a->t.stop_label, "NAME",
                 "stops the bot for the issue (default \"not-a-duplicate\")"),
        CLI_CLEAR("no-stop-label", &a->t.stop_label, "no stop label"),
        CLI_INT("recheck-days", 0, &a->recheck_days, "N", 1, 50,
                "watch: also re-read the reactions on comments posted in\nthe last N days (default 7)"),
        CLI_END,
    };
    const cli_cmd c = {
        cmd,
        "usage: doppel triage KEY... [--yes] [options]   answer these issues\n"
        "       doppel watch [--yes] [options]           answer every issue opened since the last\n"
        "                                                watch (run after `doppel sync`)\n",
        "Posts ONE comment on an open issue listing the candidates the ranker calls\n"
        "duplicates with high confidence (the calibrated cut-off), and adds a label.\n"
        "When the issue is edited, a new run edits that same comment in place. It\n"
        "never closes anything. It stops for an issue for good -- and records the\n"
        "pairs it suggested as not related -- when the stop label is added, when the\n"
        "issue's author or a maintainer reacts with a thumbs-down to its comment, or\n"
        "when its comment is deleted. The first watch only records where it starts.\n"
        "Without --yes nothing is written to GitHub: the plan is printed.\n",
        "Token: $GITHUB_TOKEN, else $GH_TOKEN, else `gh auth token` (Issues: read and\n"
        "write). Exit status: 0 done or planned; 1 failed; 2 usage error.\n",
        opts, 0};
    int nkeys;
    int rc = cli_parse(&c, argc, argv, &nkeys);
    if (rc != CLI_GO) return rc;
    a->t.min_confidence = (confidence_level)min_conf;
    if (a->watch && nkeys) return cli_usage_error(&c, "watch takes no keys (it finds the new issues itself)");
    if (!a->watch && !nkeys) return cli_usage_error(&c, "which issues? give their KEYs");
    for (int i = 1; i <= nkeys; i++) sv_push(&a->keys, argv[i][0] == '#' ? argv[i] + 1 : argv[i]);
    return CLI_GO;
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
    if (rc == CLI_GO) rc = run(cmd, &a);
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
