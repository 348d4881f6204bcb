/* cmd_train.c -- `doppel train`: fits the ranker on known duplicates of one
 * or several repositories and stores the model (text) in the database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../eval/eval.h"

typedef struct train_args {
    const char *db, *out;
    strvec repos, except;
    int all, print_c;
    int min_dups;
    eval_opts o;
} train_args;

static int parse_args(int argc, char **argv, train_args *a)
{
    memset(a, 0, sizeof *a);
    eval_opts_default(&a->o);
    a->min_dups = MATCH_MIN_TRAIN;
    const cli_opt opts[] = {
        CLI_LIST("repo", 0, &a->repos, "NAME", "train on this repository (repeatable; default: the only one)"),
        CLI_FLAG("all", 0, &a->all, "every repository in the store"),
        CLI_LIST("except", 0, &a->except, "NAME",
                 "every repository but NAME (repeatable; implies --all);\n"
                 "e.g. leave-one-project-out: --except HIVE --out hive.model"),
        CLI_STR("out", 0, &a->out, "FILE", "write the model to FILE instead of the store"),
        CLI_INT("window", 0, &a->o.window_days, "DAYS", 0, 2147483647, "candidate window, as in eval (365; 0 = all)"),
        CLI_SIZE("negatives", 0, &a->o.negatives, "N", 0, 2147483647,
                 "issues without a known duplicate sampled per repository for\n"
                 "the calibration (" CLI_XSTR(EVAL_NEGATIVES) "; 0 = known duplicates only)"),
        CLI_INT("min-duplicates", 0, &a->min_dups, "N", 2, 2147483647,
                "train even on as few as N known duplicates (at least 2;\n"
                "a small repository's model is noisy)"),
        CLI_INT("threads", 0, &a->o.threads, "N", 1, 256, "worker threads (default: CPUs)"),
        CLI_FLAG("print-c", 0, &a->print_c, "print the model as a C initializer (src/match/match_default.c)"),
        CLI_DB(&a->db),
        CLI_END,
    };
    const cli_cmd cmd = {
        "train",
        "usage: doppel train [--repo NAME]... [--all] [--except NAME]... [--out FILE]\n"
        "                    [--window DAYS] [--negatives N] [--min-duplicates N]\n"
        "                    [--threads N] [--print-c] [--db PATH]\n",
        "Fits the ranker's weights on known duplicates (each one a query, ranked among\n"
        "the items filed before it, seen as filed -- as `doppel eval` does), and its\n"
        "calibration on the most recent quarter of them plus issues that have no known\n"
        "duplicate, weighted so duplicates are as rare as in the data: the probability\n"
        "means \"this pair is a true duplicate\" for any issue. Deterministic: the same\n"
        "data gives the same model.\n"
        "\n"
        "One repository: the model is stored for it, and analyze, similar and eval use\n"
        "it. Several: stored as the \"global\" model (eval --model-repo global).\n"
        "With fewer than --min-duplicates known duplicates (" CLI_XSTR(MATCH_MIN_TRAIN) ") nothing is stored\n"
        "(exit 3): the built-in model is used.\n",
        NULL, opts, 0};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_GO) return rc;
    if (a->except.n) a->all = 1;
    if (a->all && a->repos.n) return cli_usage_error(&cmd, "--repo excludes --all/--except");
    return CLI_GO;
}

/* The repositories to train on, by name (NULL entry: the only one). */
static int pick_repos(store *st, const train_args *a, strvec *out)
{
    dp_err err;
    if (!a->all) {
        if (a->repos.n == 0) sv_push_owned(out, NULL);
        for (size_t i = 0; i < a->repos.n; i++) sv_push(out, a->repos.v[i]);
        return DP_OK;
    }
    repo_info *ri = NULL;
    size_t n = 0;
    if (store_repo_list(st, &ri, &n, &err) != DP_OK) {
        cli_error("train", "%s", err.msg);
        return DP_ERR;
    }
    for (size_t i = 0; i < n; i++) {
        if (!sv_contains(&a->except, ri[i].name)) sv_push(out, ri[i].name);
        repo_info_free(&ri[i]);
    }
    free(ri);
    for (size_t i = 0; i < a->except.n; i++)
        if (!sv_contains(out, a->except.v[i])) {
            int64_t id;
            if (store_repo_get(st, a->except.v[i], 0, NULL, NULL, &id, &err) != DP_OK) {
                cli_error("train", "--except %s: no such repository", a->except.v[i]);
                return DP_ERR;
            }
        }
    return DP_OK;
}

static int save(store *st, const train_args *a, const strvec *names, int64_t repo_id,
                const match_model *m)
{
    dp_err err;
    char *text = match_model_to_text(m);
    int rc = EXIT_OK;
    if (a->out) {
        FILE *f = fopen(a->out, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
            cli_error("train", "cannot write %s", a->out);
            rc = EXIT_FAIL;
        }
    } else {
        int64_t target = names->n == 1 ? repo_id : 0;
        if (store_model_save(st, target, text, m->ntrain, &err) != DP_OK) {
            cli_error("train", "%s", err.msg);
            rc = EXIT_FAIL;
        }
    }
    free(text);
    return rc;
}

static int run(store *st, const train_args *a)
{
    strvec names = {0};
    if (pick_repos(st, a, &names) != DP_OK) return EXIT_FAIL;
    match_trainset ts = {0};
    sbuf desc;
    sb_init(&desc);
    size_t total = 0;
    int64_t repo_id = 0;
    int rc = EXIT_FAIL;
    double t0 = dp_now();
    dp_err err;
    for (size_t i = 0; i < names.n; i++) {
        eval_repo_data rd;
        size_t nq = 0;
        if (eval_repo_load(st, names.v[i], &rd, &err) != DP_OK) {
            cli_error("train", "%s", err.msg);
            goto out;
        }
        int ok = eval_collect_trainset(&rd.d, &a->o, &ts, &nq, &err) == DP_OK;
        repo_id = rd.repo_id;
        if (ok) sb_printf(&desc, "%s%s (%zu)", i ? ", " : "", rd.name, nq);
        eval_repo_data_free(&rd);
        if (!ok) {
            cli_error("train", "%s", err.msg);
            goto out;
        }
        total += nq;
    }
    if (total < (size_t)a->min_dups) {
        fprintf(stderr, "doppel train: %zu known duplicates (fewer than %d): the built-in model "
                        "stays in use\n", total, a->min_dups);
        rc = EXIT_NOTFOUND;
        goto out;
    }
    match_model m;
    if (match_train(&ts, NULL, &m, &err) != DP_OK) {
        cli_error("train", "%s", err.msg);
        goto out;
    }
    /* the judge: every repository's queries whose truth its links record,
     * ranked by the model just fitted */
    match_judgeset js = {0};
    for (size_t i = 0; i < names.n; i++) {
        eval_repo_data rd;
        int ok = eval_repo_load(st, names.v[i], &rd, &err) == DP_OK;
        if (ok) {
            ok = eval_collect_judgeset(&rd.d, &a->o, &m, &js, &err) == DP_OK;
            eval_repo_data_free(&rd);
        }
        if (!ok) {
            cli_error("train", "%s", err.msg);
            match_judgeset_free(&js);
            match_model_free(&m);
            goto out;
        }
    }
    int judged = match_judge_train(&js, NULL, &m, &err) == DP_OK;
    if (!judged) {
        fprintf(stderr, "doppel train: %s: the built-in judge stays in use\n", err.msg);
        m.judge = match_model_default()->judge;
    }
    size_t jpairs = js.n;
    match_judgeset_free(&js);
    char day[16];
    dp_format_date(m.trained_at, day, sizeof day);
    m.trained_on = xasprintf("%zu known duplicates of %s (calibrated with %zu issues without "
                             "one; judge %s %zu linked-query pairs), trained %s", total, sb_str(&desc),
                             ts.nq - total, judged ? "fitted on" : "built-in, too few:", jpairs, day);
    rc = save(st, a, &names, repo_id, &m);
    if (rc == EXIT_OK) {
        if (a->print_c) {
            char *c = match_model_to_c(&m);
            fputs(c, stdout);
            free(c);
        }
        fprintf(stderr, "trained on %s in %.1fs; duplicate high >= %.3f, related high >= %.3f, "
                        "link rate %.2f; %s\n", sb_str(&desc), dp_now() - t0,
                m.judge.thr_high[RELATION_DUPLICATE], m.judge.thr_high[RELATION_RELATED],
                m.judge.link_rate,
                a->out ? a->out : names.n == 1 ? "stored for the repository" : "stored as global");
    }
    match_model_free(&m);
out:
    match_trainset_free(&ts);
    sb_free(&desc);
    sv_free(&names);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == CLI_GO) {
        store *st = cli_open_store("train", a.db);
        rc = st ? run(st, &a) : EXIT_FAIL;
        store_close(st);
    }
    sv_free(&a.repos);
    sv_free(&a.except);
    return rc;
}
