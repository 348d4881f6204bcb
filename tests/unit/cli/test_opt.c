/* test_opt.c -- the subcommands' option parser (src/cli/opt.c): every kind
 * of option, both spellings of a value, arguments kept in order, and each
 * usage error with its message and exit status 2. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../../src/cli/opt.h"
#include "../../../src/common/pair.h"
#include "../../../src/common/util.h"

typedef struct vals {
    const char *db, *repo, *rel, *label, *order;
    int all, mode, k, conf;
    size_t limit;
    double prob;
    strvec tags;
    int called;
} vals;

static int call_even(const char *cmd, const char *name, const char *value, void *ptr)
{
    int n = atoi(value);
    if (n % 2) {
        cli_error(cmd, "%s wants an even number", name);
        return -1;
    }
    *(int *)ptr = n;
    return 0;
}

static const char *const RELS[] = {"duplicate", "related", NULL};
static const char *const ORDERS[] = {"up", "down", NULL};
/* medium before high: the order given, not the enum's */
static const int CONFS[] = {CONFIDENCE_MEDIUM, CONFIDENCE_HIGH, -1};

/* Runs cli_parse over the words of args (space-separated) with a table of
 * every kind; returns its result, *err what it printed on stderr, *out on
 * stdout, *nargs the arguments left in argv[1..]. */
static int parse(const char *args, vals *v, int flags, char *err, size_t errn, char *out, size_t outn,
                 char **argv_out, int *nargs)
{
    static char buf[512];
    char *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", args);
    argv[argc++] = "test";
    for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " ")) argv[argc++] = !strcmp(t, "''") ? "" : t;
    argv[argc] = NULL;
    const cli_opt opts[] = {
        CLI_DB(&v->db),
        CLI_STR("repo", 'r', &v->repo, "R", "the repository"),
        CLI_FLAG("all", 'a', &v->all, "everything"),
        CLI_SET("full", 0, &v->mode, 7, "mode seven"),
        CLI_INT(NULL, 'k', &v->k, "N", 1, 100, "how many"),
        CLI_SIZE("limit", 0, &v->limit, "N", 0, 1000, "at most N\nsecond line of help"),
        CLI_DOUBLE("min-prob", 0, &v->prob, "P", 0, 1, "a probability"),
        CLI_CHOICE("relation", 0, &v->rel, "REL", RELS, "a relation"),
        CLI_CHOICE("order", 0, &v->order, NULL, ORDERS, "its value in the help: the choices"),
        CLI_ENUM("confidence", 'c', &v->conf, confidence_names, CONFS, "a level but low"),
        CLI_LIST("tag", 't', &v->tags, "T", "repeatable"),
        CLI_STR("label", 0, &v->label, "NAME", "a label"),
        CLI_CLEAR("no-label", &v->label, "no label"),
        CLI_CALL("even", 0, call_even, &v->called, "N", "an even number"),
        CLI_END,
    };
    const cli_cmd cmd = {"test", "usage: doppel test [options] ARG...\n", "About the test.\n", "Footer.\n", opts, flags};
    fflush(stdout);
    fflush(stderr);
    FILE *fe = tmpfile(), *fo = tmpfile();
    int save_err = dup(2), save_out = dup(1);
    dup2(fileno(fe), 2);
    dup2(fileno(fo), 1);
    int rc = cli_parse(&cmd, argc, argv, nargs);
    fflush(stdout);
    fflush(stderr);
    dup2(save_err, 2);
    dup2(save_out, 1);
    close(save_err);
    close(save_out);
    rewind(fe);
    rewind(fo);
    size_t n = fread(err, 1, errn - 1, fe);
    err[n] = 0;
    n = fread(out, 1, outn - 1, fo);
    out[n] = 0;
    fclose(fe);
    fclose(fo);
    if (argv_out)
        for (int i = 0; i < argc; i++) argv_out[i] = argv[i];
    return rc;
}

static char err[4096], out[8192];

#define PARSE(args, v, nargs) parse((args), (v), 0, err, sizeof err, out, sizeof out, argv, (nargs))

static void test_every_kind(void **state)
{
    (void)state;
    vals v = {.label = "dflt", .conf = -1};
    char *argv[32];
    int n = -1;
    int rc = PARSE("--db x.db -r o/r --all --full -k 5 --limit 0 --min-prob 0.5 --relation related "
                   "-t a --tag b --label L --even 4 --confidence=medium",
                   &v, &n);
    assert_int_equal(rc, CLI_GO);
    assert_string_equal(v.db, "x.db");
    assert_string_equal(v.repo, "o/r");
    assert_int_equal(v.all, 1);
    assert_int_equal(v.mode, 7);
    assert_int_equal(v.k, 5);
    assert_int_equal(v.limit, 0);
    assert_true(v.prob == 0.5);
    assert_string_equal(v.rel, "related");
    assert_int_equal(v.conf, CONFIDENCE_MEDIUM);
    assert_int_equal(v.tags.n, 2);
    assert_string_equal(v.tags.v[0], "a");
    assert_string_equal(v.tags.v[1], "b");
    assert_string_equal(v.label, "L");
    assert_int_equal(v.called, 4);
    assert_int_equal(n, 0);
    assert_string_equal(err, "");
    sv_free(&v.tags);
}

static void test_equals_and_clear(void **state)
{
    (void)state;
    vals v = {.label = "dflt"};
    char *argv[32];
    int n;
    assert_int_equal(PARSE("--db=a=b.db --limit=7 --no-label", &v, &n), CLI_GO);
    assert_string_equal(v.db, "a=b.db");
    assert_int_equal(v.limit, 7);
    assert_null(v.label);
    assert_int_equal(PARSE("--all=1", &v, &n), EXIT_USAGE);
    assert_non_null(strstr(err, "doppel test: --all takes no value"));
}

static void test_arguments_in_order(void **state)
{
    (void)state;
    vals v = {0};
    char *argv[32];
    int n;
    assert_int_equal(PARSE("one --all two - -- --three -k", &v, &n), CLI_GO);
    assert_int_equal(n, 5);
    assert_string_equal(argv[1], "one");
    assert_string_equal(argv[2], "two");
    assert_string_equal(argv[3], "-");   /* standard input */
    assert_string_equal(argv[4], "--three");   /* after --: not an option */
    assert_string_equal(argv[5], "-k");
    assert_int_equal(v.all, 1);
    /* a command without arguments refuses them */
    assert_int_equal(PARSE("--all stray", &v, NULL), EXIT_USAGE);
    assert_non_null(strstr(err, "unexpected argument 'stray'"));
}

static void test_dash_words(void **state)
{
    (void)state;
    vals v = {0};
    char *argv[32];
    int n;
    int rc = parse("-Xmx512m -a --all", &v, CLI_DASH_WORDS, err, sizeof err, out, sizeof out, argv, &n);
    assert_int_equal(rc, CLI_GO);
    assert_int_equal(n, 1);
    assert_string_equal(argv[1], "-Xmx512m");
    /* long options stay options */
    rc = parse("--bogus", &v, CLI_DASH_WORDS, err, sizeof err, out, sizeof out, argv, &n);
    assert_int_equal(rc, EXIT_USAGE);
    assert_non_null(strstr(err, "unknown option '--bogus'"));
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args, *msg;
    } cases[] = {
        {"--db", "doppel test: --db needs a value\n"},
        {"-k", "doppel test: -k needs a value\n"},
        {"--bogus", "doppel test: unknown option '--bogus'\n"},
        {"-z", "doppel test: unknown option '-z'\n"},
        {"-k 0", "doppel test: -k wants an integer from 1 to 100, not '0'\n"},
        {"-k 101", "doppel test: -k wants an integer from 1 to 100, not '101'\n"},
        {"-k 5x", "doppel test: -k wants an integer from 1 to 100, not '5x'\n"},
        {"-k ''", "doppel test: -k wants an integer from 1 to 100, not ''\n"},
        {"--limit -1", "doppel test: --limit wants an integer from 0 to 1000, not '-1'\n"},
        {"--limit=x", "doppel test: --limit wants an integer from 0 to 1000, not 'x'\n"},
        {"--min-prob 1.5", "doppel test: --min-prob wants a number from 0 to 1, not '1.5'\n"},
        {"--min-prob nan", "doppel test: --min-prob wants a number from 0 to 1, not 'nan'\n"},
        {"--relation dup", "doppel test: --relation wants one of duplicate, related; not 'dup'\n"},
        {"--even 3", "doppel test: --even wants an even number\n"},
        /* an enum's names come from its table; values left out are refused */
        {"-c low", "doppel test: -c wants one of medium, high; not 'low'\n"},
        {"--confidence HIGH", "doppel test: --confidence wants one of medium, high; not 'HIGH'\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vals v = {0};
        char *argv[32];
        int n;
        int rc = PARSE(cases[i].args, &v, &n);
        if (rc != EXIT_USAGE || strncmp(err, cases[i].msg, strlen(cases[i].msg)))
            fail_msg("%s: rc %d, stderr [%s]", cases[i].args, rc, err);
        /* then the usage line and where the options are listed */
        assert_non_null(strstr(err, "usage: doppel test [options] ARG...\n(doppel test --help lists the options)\n"));
        assert_string_equal(out, "");
        sv_free(&v.tags);
    }
}

static void test_help(void **state)
{
    (void)state;
    vals v = {0};
    char *argv[32];
    int n;
    assert_int_equal(PARSE("--all --help --bogus", &v, &n), EXIT_OK);
    assert_string_equal(err, "");
    const char *want =
        "usage: doppel test [options] ARG...\n"
        "\n"
        "About the test.\n"
        "\n"
        "options:\n"
        "  --db PATH           store file (default $DOPPEL_DB, else ./doppel.db)\n"
        "  -r, --repo R        the repository\n"
        "  -a, --all           everything\n"
        "  --full              mode seven\n"
        "  -k N                how many\n"
        "  --limit N           at most N\n"
        "                      second line of help\n"
        "  --min-prob P        a probability\n"
        "  --relation REL      a relation\n"
        "  --order up|down     its value in the help: the choices\n"
        "  -c, --confidence medium|high\n"
        "                      a level but low\n"
        "  -t, --tag T         repeatable\n"
        "  --label NAME        a label\n"
        "  --no-label          no label\n"
        "  --even N            an even number\n"
        "  -h, --help          this help\n"
        "\n"
        "Footer.\n";
    assert_string_equal(out, want);
    assert_int_equal(PARSE("-h", &v, &n), EXIT_OK);
    assert_string_equal(out, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_equals_and_clear),
        cmocka_unit_test(test_arguments_in_order),
        cmocka_unit_test(test_dash_words),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
