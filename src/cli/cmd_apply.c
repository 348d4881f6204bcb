/* cmd_apply.c -- `doppel apply`: carry the stored verdicts out on GitHub
 * (comment, close as duplicate, label), show the audit, undo an action,
 * re-confirm a verdict. A dry run unless --yes. See src/act/act.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../act/act.h"
#include "../sync/sync.h"
#include "cli.h"

typedef struct apply_args {
    cli_target t;
    const char *label, *confirm;
    int yes, log, json, verbose, queued;
    int64_t undo;
    strvec pairs;
} apply_args;

static int parse_undo(const char *cmd, const char *name, const char *value, void *ptr)
{
    char *end;
    long long v = strtoll(value, &end, 10);
    if (!*value || *end || v <= 0) {
        cli_error(cmd, "%s wants an action id (see --log), not '%s'", name, value);
        return -1;
    }
    *(int64_t *)ptr = v;
    return 0;
}

static int parse_pair(const char *cmd, const char *name, const char *value, void *ptr)
{
    char *k = act_pair_key_arg(value);
    if (!k) {
        cli_error(cmd, "%s wants two keys as Q:C, not '%s'", name, value);
        return -1;
    }
    sv_push_owned(ptr, k);
    return 0;
}

static int parse_args(int argc, char **argv, apply_args *a)
{
    a->label = "duplicate";
    const cli_opt opts[] = {
        CLI_FLAG("yes", 0, &a->yes, "send the plan"),
        CLI_TARGET_OPTS(&a->t),
        CLI_CALL("label", 0, cli_opt_label, &a->label, "NAME", "label added to a duplicate (default \"duplicate\")"),
        CLI_CLEAR("no-label", &a->label, "add no label"),
        CLI_FLAG("queued", 0, &a->queued, "only the verdicts queued for GitHub on the review page"),
        CLI_CALL("pair", 0, parse_pair, &a->pairs, "Q:C", "only this pair (repeatable)"),
        CLI_FLAG("verbose", 'v', &a->verbose, "also list pairs carried out earlier; --log: request bodies"),
        CLI_FLAG("log", 0, &a->log, "the audit: every action doppel took"),
        CLI_FLAG("json", 0, &a->json, "--log as JSON"),
        CLI_CALL("undo", 0, parse_undo, &a->undo, "ID",
                 "reverse one action (an id from --log): reopen, delete the\ncomment, remove the label"),
        CLI_STR("confirm", 0, &a->confirm, "Q:C",
                "re-confirm the verdict on a pair (after activity on it, an\nundo or a failure)"),
        CLI_END,
    };
    const cli_cmd cmd = {
        "apply",
        "usage: doppel apply [--yes] [options]     carry the stored verdicts out on GitHub\n"
        "       doppel apply --undo ID [--yes]     reverse one action: reopen, delete the comment,\n"
        "                                          remove the label\n"
        "       doppel apply --log [--json] [-v]   the audit: every action doppel took\n"
        "       doppel apply --confirm Q:C         re-confirm the verdict on a pair (after activity\n"
        "                                          on it, an undo or a failure)\n",
        "Without --yes nothing is sent: the plan is printed, every request in full.\n"
        "  duplicate    \"Duplicate of #N\" on the item that is not kept, closed as a\n"
        "               duplicate (state_reason duplicate), labelled\n"
        "  related      a short comment linking the two\n"
        "  not_related  nothing on GitHub; recorded as decided\n"
        "Which item is kept: the one closed as fixed, else an open one over one closed\n"
        "otherwise, else the one with more activity, else the older. An item with\n"
        "activity since the verdict is not closed until the verdict is re-confirmed.\n"
        "Running again never repeats a write; an interrupted run (even kill -9) is\n"
        "finished by the next one, which checks GitHub before resending anything.\n",
        "Token (needed by --yes): $GITHUB_TOKEN, else $GH_TOKEN, else `gh auth token`.\n"
        "Fine-grained: Issues read and write; classic: public_repo (repo if private).\n"
        "Writes are paced ($DOPPEL_WRITE_GAP_MS, default 1000 ms apart); rate limits are\n"
        "waited out up to $DOPPEL_WRITE_MAX_WAIT_S (default 900) per request.\n"
        "\n"
        "Exit status: 0 done or planned; 1 failed (a write failed or the run stopped:\n"
        "run again to finish); 2 usage error.\n",
        opts, 0};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_GO) return rc;
    if ((a->log != 0) + (a->undo != 0) + (a->confirm != NULL) > 1)
        return cli_usage_error(&cmd, "--log, --undo and --confirm go one at a time");
    return CLI_GO;
}

/* ---- --log ------------------------------------------------------------------- */

static json_t *action_json(const store_action *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "source", json_string(a->source));
    json_object_set_new(o, "unit", json_string(a->unit));
    json_object_set_new(o, "query", a->query_key ? json_string(a->query_key) : json_null());
    json_object_set_new(o, "candidate", a->cand_key ? json_string(a->cand_key) : json_null());
    json_object_set_new(o, "verdict", a->verdict ? json_string(a->verdict) : json_null());
    json_object_set_new(o, "verdict_at", json_integer(a->verdict_at));
    json_object_set_new(o, "kind", json_string(a->kind));
    json_object_set_new(o, "target", json_string(a->target));
    json_object_set_new(o, "arg", a->arg ? json_string(a->arg) : json_null());
    json_object_set_new(o, "method", a->method ? json_string(a->method) : json_null());
    json_object_set_new(o, "path", a->path ? json_string(a->path) : json_null());
    json_object_set_new(o, "body", a->body ? json_string(a->body) : json_null());
    json_object_set_new(o, "state", json_string(a->state));
    json_object_set_new(o, "status", json_integer(a->status));
    json_object_set_new(o, "github_id", json_integer(a->gh_id));
    json_object_set_new(o, "github_time", json_integer(a->gh_time));
    json_object_set_new(o, "error", a->error ? json_string(a->error) : json_null());
    json_object_set_new(o, "undo_of", a->undo_of ? json_integer(a->undo_of) : json_null());
    json_object_set_new(o, "created_at", json_integer(a->created_at));
    json_object_set_new(o, "done_at", json_integer(a->done_at));
    return o;
}

/* Text stored from GitHub's answers may hold anything: no control
 * characters on the terminal. */
static void put_clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

static int show_log(store *st, int64_t repo, const apply_args *a)
{
    store_action_vec v = {0};
    dp_err err;
    if (store_actions_load(st, repo, NULL, &v, &err) != DP_OK) {
        cli_error("apply", "%s", err.msg);
        return EXIT_FAIL;
    }
    if (a->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < v.n; i++) json_array_append_new(arr, action_json(&v.v[i]));
        char *s = json_dumps(arr, JSON_INDENT(2));
        printf("%s\n", s ? s : "[]");
        free(s);
        json_decref(arr);
    } else {
        if (!v.n) printf("no actions yet\n");
        for (size_t i = 0; i < v.n; i++) {
            const store_action *x = &v.v[i];
            char t[32];
            dp_format_time(x->done_at ? x->done_at : x->created_at, t, sizeof t);
            printf("#%-5lld %s  %-6s %-14s %-11s %-9s #%-7s %-7s", (long long)x->id, t, x->source, x->unit,
                   x->verdict ? x->verdict : "", x->kind, x->target, x->state);
            if (x->status) printf(" HTTP %ld", x->status);
            if (x->gh_id) printf(" id %lld", (long long)x->gh_id);
            if (x->undo_of) printf(" (undoes #%lld)", (long long)x->undo_of);
            if (x->method) {
                printf("\n       %s ", x->method);
                put_clean(x->path);
            }
            if (a->verbose && x->body) {
                printf(" ");
                put_clean(x->body);
            }
            if (x->error) {
                printf("\n       ");
                put_clean(x->error);
            }
            putchar('\n');
        }
    }
    store_action_vec_free(&v);
    return EXIT_OK;
}

/* ---- plan and run -------------------------------------------------------------- */

static void summary(const act_plan *p, int dry)
{
    act_counts c;
    act_plan_count(p, &c);
    size_t w = 0;
    for (int k = 0; k <= ACT_UNLABEL; k++) w += k == ACT_DECIDED ? 0 : c.writes[k];
    printf("%s: %zu request%s (%zu comment%s, %zu closure%s, %zu label%s", dry ? "plan" : "left", w,
           w == 1 ? "" : "s", c.writes[ACT_COMMENT], c.writes[ACT_COMMENT] == 1 ? "" : "s", c.writes[ACT_CLOSE],
           c.writes[ACT_CLOSE] == 1 ? "" : "s", c.writes[ACT_LABEL], c.writes[ACT_LABEL] == 1 ? "" : "s");
    size_t undo = c.writes[ACT_REOPEN] + c.writes[ACT_UNCOMMENT] + c.writes[ACT_UNLABEL];
    if (c.writes[ACT_EDIT]) printf(", %zu edit%s", c.writes[ACT_EDIT], c.writes[ACT_EDIT] == 1 ? "" : "s");
    if (undo) printf(", %zu undo%s", undo, undo == 1 ? "" : "s");
    printf(") for %zu unit%s to do; %zu done earlier, %zu skipped, %zu failed\n", c.todo, c.todo == 1 ? "" : "s",
           c.done, c.skipped, c.failed);
    if (dry && c.todo) printf("dry run: nothing was sent; add --yes to send it\n");
}

static int run_plan(store *st, act_plan *p, const apply_args *a, const char *token)
{
    sbuf sb;
    sb_init(&sb);
    act_plan_print(p, a->verbose, &sb);
    fputs(sb_str(&sb), stdout);
    sb_free(&sb);
    if (!a->yes) {
        summary(p, 1);
        return EXIT_OK;
    }
    act_counts c;
    act_plan_count(p, &c);
    if (!c.todo) {
        summary(p, 0);
        return c.failed ? EXIT_FAIL : EXIT_OK;
    }
    if (!token) {
        cli_error("apply", "--yes needs a token: $GITHUB_TOKEN, $GH_TOKEN or `gh auth token`");
        return EXIT_FAIL;
    }
    act_opts o = {.dup_label = a->label};
    cli_gh_config(&o.gh, a->t.api_url, token);
    act_stats s;
    dp_err err;
    printf("sending:\n");
    cli_signals_catch();
    int rc = act_run(st, p, &o, cli_act_event, NULL, &s, &err);
    cli_signals_reset();
    printf("sent %zu write%s, found %zu done already; %zu unit%s done, %zu skipped, %zu failed\n", s.writes,
           s.writes == 1 ? "" : "s", s.reconciled, s.units_done, s.units_done == 1 ? "" : "s", s.units_skipped,
           s.units_failed);
    if (rc != DP_OK) {
        if (cli_interrupted) cli_error("apply", "interrupted: run the same command again to finish");
        else cli_error_redacted("apply", token, err.msg);
        return EXIT_FAIL;
    }
    return s.units_failed ? EXIT_FAIL : EXIT_OK;
}

int cmd_apply(int argc, char **argv)
{
    apply_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_GO) {
        sv_free(&a.pairs);
        return rc;
    }
    store *st = cli_open_store("apply", a.t.db);
    if (!st) {
        sv_free(&a.pairs);
        return EXIT_FAIL;
    }
    dp_err err;
    int64_t repo = 0;
    char *token = a.yes ? sync_find_token(NULL) : NULL;
    act_plan plan = {0};
    rc = EXIT_FAIL;
    if (!a.undo && store_repo_resolve(st, a.t.repo, &repo, &err) != DP_OK) {
        cli_error("apply", "%s", err.msg);
    } else if (a.log) {
        rc = show_log(st, repo, &a);
    } else if (a.confirm) {
        int r = act_confirm(st, repo, a.confirm, &err);
        if (r == DP_OK) printf("re-confirmed the verdict on %s as of now\n", a.confirm);
        else cli_error("apply", "%s", err.msg);
        rc = r == DP_OK ? EXIT_OK : r == DP_NOTFOUND ? EXIT_NOTFOUND : EXIT_FAIL;
    } else {
        act_opts o = {.dup_label = a.label, .queued_only = a.queued, .only = a.pairs.n ? &a.pairs : NULL};
        int r = a.undo ? act_plan_undo(st, a.undo, &plan, &err) : act_plan_apply(st, repo, &o, &plan, &err);
        if (r == DP_OK) rc = run_plan(st, &plan, &a, token);
        else {
            cli_error("apply", "%s", err.msg);
            rc = r == DP_NOTFOUND ? EXIT_NOTFOUND : EXIT_FAIL;
        }
        if (r == DP_OK && !plan.n && !a.undo) printf("no verdicts to carry out%s\n", a.queued ? " in the queue" : "");
    }
    act_plan_free(&plan);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    store_close(st);
    sv_free(&a.pairs);
    return rc;
}
