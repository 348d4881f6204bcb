/* cmd_eval.c -- `doppel eval`: retrieval accuracy of the ranker on the
 * repository's known duplicates, beside a plain BM25 baseline (protocol in
 * src/eval/eval.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../eval/eval.h"

typedef struct eval_args {
    const char *db, *repo, *truth, *model_file, *model_repo, *report, *dump;
    int json, split_given;
    eval_opts o;
} eval_args;

static int parse_args(int argc, char **argv, eval_args *a)
{
    memset(a, 0, sizeof *a);
    eval_opts_default(&a->o);
    double split = -1;   /* -1: not given */
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &a->repo, "NAME", "repository (default: the only one)"),
        CLI_STR("truth", 0, &a->truth, "FILE.csv",
                "ground truth instead of the store's duplicate links;\n"
                "header query,duplicate_of (extra columns ignored)"),
        CLI_INT("window", 0, &a->o.window_days, "DAYS", 0, 36500,
                "candidates filed at most DAYS before the query (365; 0 = all)"),
        CLI_DOUBLE("split", 0, &split, "F", 0, 0.99,
                   "share of oldest queries that train (0.8; 0 = no training)\n"
                   "fewer than " CLI_XSTR(MATCH_MIN_TRAIN) " training queries: the fallback model ranks"),
        CLI_STR("model", 0, &a->model_file, "FILE", "rank with (fall back to) a model file from `doppel train --out`"),
        CLI_STR("model-repo", 0, &a->model_repo, "NAME",
                "... or with the model `doppel train` stored for NAME\n"
                "(\"global\": the one trained on several repositories)"),
        CLI_SIZE("negatives", 0, &a->o.negatives, "N", 0, 1e9,
                 "issues without a known duplicate sampled for the ranker's\n"
                 "calibration in in-run training (" CLI_XSTR(EVAL_NEGATIVES) "; 0 = none)"),
        CLI_FLAG("json", 0, &a->json, "JSON instead of text"),
        CLI_STR("report", 0, &a->report, "FILE.html", "also write a self-contained HTML report"),
        CLI_STR("dump-pairs", 0, &a->dump, "FILE",
                "write every judged pair of the test period as TSV\n"
                "(truth, shown relation, probabilities, judge features)"),
        CLI_INT("threads", 0, &a->o.threads, "N", 1, 256, "worker threads (default: CPUs)"),
        CLI_DB(&a->db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "eval",
        "usage: doppel eval [--repo NAME] [--truth FILE.csv] [--window DAYS] [--split F]\n"
        "                   [--model FILE | --model-repo NAME] [--json] [--report FILE.html]\n"
        "                   [--negatives N] [--threads N] [--db PATH]\n",
        "Every known duplicate is a query; its candidates are the items filed before it\n"
        "(within the window), and it is seen as filed: title, body, labels -- never its\n"
        "comments, links, state or resolution. A query is a hit at k when an earlier\n"
        "member of its duplicate group is in the top k. Reports Recall@1/5/10/20 and\n"
        "MRR for the learned ranker and a plain BM25 baseline (title+body) on the same\n"
        "queries, and the same for related links.\n"
        "\n"
        "The judgment -- what a maintainer reads -- is measured on every item of the\n"
        "test period as a query (most have no duplicate): its top candidates are judged\n"
        "as analyze judges them, and each pair's relation and confidence are compared\n"
        "with the truth its links give (on Jira the typed issue links; Relates apart).\n"
        "Reports precision and recall of each relation at each confidence, a confusion\n"
        "matrix, how Relates-linked pairs were shown, and the share of linked\n"
        "duplicates among the top 20/50/100 duplicate pairs in value order (JSON keys\n"
        "judgment.* and queue.*; see the README).\n"
        "\n"
        "The ranker is trained in the run on the oldest queries (chronological split);\n"
        "the rest are test queries. With a model from elsewhere, every query is a test\n"
        "query unless --split is given too.\n",
        NULL, opts, 0};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_GO) return rc;
    if (a->model_file && a->model_repo) return cli_usage_error(&cmd, "--model and --model-repo exclude each other");
    if (split >= 0) {
        a->o.split = split;
        a->split_given = 1;
    }
    if ((a->model_file || a->model_repo) && !a->split_given) a->o.split = 0;
    return CLI_GO;
}

static int run(const eval_args *a, store *st)
{
    dp_err err;
    match_model model = {0};
    int have_model = 0, rc = EXIT_FAIL;
    eval_pairs truth = {0};
    eval_repo_data rd;
    eval_result res;
    if (a->model_file || a->model_repo) {
        int r = a->model_file ? eval_model_load_file(a->model_file, &model, &err)
                              : eval_model_load_store(st, a->model_repo, &model, &err);
        if (r != DP_OK) {
            cli_error("eval", "%s", err.msg);
            return EXIT_FAIL;
        }
        have_model = 1;
    }
    if (a->truth && eval_truth_load_csv(a->truth, &truth, &err) != DP_OK) {
        cli_error("eval", "%s", err.msg);
        goto out_model;
    }
    if (eval_repo_load(st, a->repo, &rd, &err) != DP_OK) {
        cli_error("eval", "%s", err.msg);
        goto out_truth;
    }
    rd.d.truth = a->truth ? &truth : NULL;
    eval_opts o = a->o;
    o.model = have_model ? &model : NULL;
    FILE *dump = NULL;
    if (a->dump && !(dump = fopen(a->dump, "w"))) {
        cli_error("eval", "%s: cannot write", a->dump);
        goto out_repo;
    }
    o.dump = dump;
    int erc = eval_run(&rd.d, &o, &res, &err);
    if (dump && fclose(dump) != 0 && erc == DP_OK) erc = dp_fail(&err, "%s: write failed", a->dump);
    if (erc != DP_OK) {
        cli_error("eval", "%s", err.msg);
        goto out_repo;
    }
    if (res.nqueries == 0) {
        cli_error("eval", "%s has no known duplicates to evaluate on", rd.name);
        rc = EXIT_NOTFOUND;
    } else if (a->report && eval_report_html(&res, a->report, &err) != DP_OK) {
        cli_error("eval", "%s", err.msg);
    } else {
        if (a->json) {
            char *js = eval_report_json(&res);
            printf("%s\n", js);
            free(js);
        } else {
            eval_report_text(&res, stdout);
        }
        rc = EXIT_OK;
    }
    eval_result_free(&res);
out_repo:
    eval_repo_data_free(&rd);
out_truth:
    eval_pairs_free(&truth);
out_model:
    match_model_free(&model);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_GO) return rc;
    store *st = cli_open_store("eval", a.db);
    if (!st) return EXIT_FAIL;
    rc = run(&a, st);
    store_close(st);
    return rc;
}
