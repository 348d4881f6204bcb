/* main.c -- `doppel <command> [options]`: dispatches to cmd_<command>(). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"import", cmd_import, "read tracker exports (GitHub, gh, Jira JSON) into the store"},
    {"sync", cmd_sync, "fetch a GitHub repository's issues and comments, incrementally"},
    {"analyze", cmd_analyze, "find candidate pairs and store them with reasoning"},
    {"similar", cmd_similar, "top candidates for one item or for a new title/body"},
    {"pairs", cmd_pairs, "list stored pairs"},
    {"search", cmd_search, "full-text search of the store"},
    {"show", cmd_show, "one stored item: state, labels, links, comments"},
    {"stats", cmd_stats, "counts of items, links, pairs and verdicts"},
    {"serve", cmd_serve, "open the review page"},
    {"apply", cmd_apply, "carry verdicts out on GitHub: comment, close, label (dry run unless --yes)"},
    {"triage", cmd_triage, "comment likely duplicates on new issues (dry run unless --yes)"},
    {"watch", cmd_watch, "triage every issue opened since the last watch"},
    {"train", cmd_train, "fit the ranker on the repository's known duplicates"},
    {"eval", cmd_eval, "measure retrieval accuracy on known duplicates"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: doppel <command> [options]   (doppel <command> --help)\n\n");
    for (const command *c = commands; c->name; c++) fprintf(out, "  %-8s %s\n", c->name, c->summary);
    fprintf(out, "\nThe store is ./doppel.db unless --db PATH or $DOPPEL_DB says otherwise.\n"
                 "Exit status: 0 ok, 1 failure, 2 usage error, 3 not found.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("doppel 0.1\n");
        return EXIT_OK;
    }
    for (const command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "doppel: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
