/* cmd_eval.c -- `doppel eval`: retrieval accuracy of the ranker on the
 * repository's known duplicates, beside a plain BM25 baseline (protocol in
 * src/eval/eval.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../eval/eval.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: doppel eval [--repo NAME] [--truth FILE.csv] [--window DAYS] [--split F]\n"
            "                   [--model FILE | --model-repo NAME] [--json] [--report FILE.html]\n"
            "                   [--negatives N] [--threads N] [--db PATH]\n"
            "\n"
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
            "query unless --split is given too.\n"
            "\n"
            "  --repo NAME         repository (default: the only one)\n"
            "  --truth FILE.csv    ground truth instead of the store's duplicate links;\n"
            "                      header query,duplicate_of (extra columns ignored)\n"
            "  --window DAYS       candidates filed at most DAYS before the query (365; 0 = all)\n"
            "  --split F           share of oldest queries that train (0.8; 0 = no training)\n"
            "                      fewer than %d training queries: the fallback model ranks\n"
            "  --model FILE        rank with (fall back to) a model file from `doppel train --out`\n"
            "  --model-repo NAME   ... or with the model `doppel train` stored for NAME\n"
            "                      (\"global\": the one trained on several repositories)\n"
            "  --negatives N       issues without a known duplicate sampled for the ranker's\n"
            "                      calibration in in-run training (%d; 0 = none)\n"
            "  --json              JSON instead of text\n"
            "  --report FILE.html  also write a self-contained HTML report\n"
            "  --dump-pairs FILE   write every judged pair of the test period as TSV\n"
            "                      (truth, shown relation, probabilities, judge features)\n"
            "  --threads N         worker threads (default: CPUs)\n"
            "  --db PATH           store file (default $DOPPEL_DB, else ./doppel.db)\n",
            MATCH_MIN_TRAIN, EVAL_NEGATIVES);
}

typedef struct eval_args {
    const char *db, *repo, *truth, *model_file, *model_repo, *report, *dump;
    int json, split_given;
    eval_opts o;
} eval_args;

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end != s && !*end && *out >= lo && *out <= hi;
}

static int parse_args(int argc, char **argv, eval_args *a)
{
    memset(a, 0, sizeof *a);
    eval_opts_default(&a->o);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        double v;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return EXIT_OK;
        }
        if (!strcmp(o, "--json")) {
            a->json = 1;
            continue;
        }
        if (o[0] != '-' || i + 1 >= argc) {
            cli_error("eval", o[0] == '-' ? "%s needs an argument" : "unexpected argument '%s'", o);
            return EXIT_USAGE;
        }
        const char *arg = argv[++i];
        if (!strcmp(o, "--db")) a->db = arg;
        else if (!strcmp(o, "--repo")) a->repo = arg;
        else if (!strcmp(o, "--truth")) a->truth = arg;
        else if (!strcmp(o, "--model")) a->model_file = arg;
        else if (!strcmp(o, "--model-repo")) a->model_repo = arg;
        else if (!strcmp(o, "--report")) a->report = arg;
        else if (!strcmp(o, "--dump-pairs")) a->dump = arg;
        else if (!strcmp(o, "--window") && parse_num(arg, 0, 36500, &v)) a->o.window_days = (int)v;
        else if (!strcmp(o, "--split") && parse_num(arg, 0, 0.99, &v)) {
            a->o.split = v;
            a->split_given = 1;
        } else if (!strcmp(o, "--threads") && parse_num(arg, 1, 256, &v)) a->o.threads = (int)v;
        else if (!strcmp(o, "--negatives") && parse_num(arg, 0, 1e9, &v) && v == (double)(size_t)v)
            a->o.negatives = (size_t)v;
        else {
            cli_error("eval", "bad option or value: %s %s", o, arg);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (a->model_file && a->model_repo) {
        cli_error("eval", "--model and --model-repo exclude each other");
        return EXIT_USAGE;
    }
    if ((a->model_file || a->model_repo) && !a->split_given) a->o.split = 0;
    return -1;
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
    if (rc >= 0) return rc;
    store *st = cli_open_store("eval", a.db);
    if (!st) return EXIT_FAIL;
    rc = run(&a, st);
    store_close(st);
    return rc;
}
