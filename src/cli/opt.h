/* opt.h -- the one option parser of the subcommands, in the manner of git's
 * parse-options: a command declares a table of its options (long name,
 * short letter, kind, where the value goes, help) and cli_parse() walks argv
 * against it. The command's --help is printed from the same table
 * (cli_usage), and the man pages and shell completion are generated from
 * that --help at build time (tools/cli_docs.sh), so the four cannot
 * disagree.
 *
 * Syntax: `--name VALUE`, `--name=VALUE`, `-k VALUE`; `--` ends the options;
 * `-` alone is an argument (standard input). Words that are not options
 * are the command's arguments, in order. -h and --help print the help on
 * stdout. Every error is a usage error: printed as "doppel CMD: ..." with
 * the usage line, on stderr, and the caller exits 2 (EXIT_USAGE):
 *   unknown option '--bogus'
 *   --db needs a value
 *   -k wants an integer from 1 to 100, not 'x'
 *   --relation wants one of duplicate, related; not 'x'
 *   --json takes no value
 * Only the CLI prints; this module uses nothing but common/.
 */
#ifndef DP_CLI_OPT_H
#define DP_CLI_OPT_H

#include <stddef.h>
#include <stdio.h>

/* Exit codes (documented in README.md):
 *   0  success
 *   1  failure (bad input, store error, network error)
 *   2  usage error (unknown option, missing or bad value, bad arguments)
 *   3  nothing to do / not found (e.g. `similar` of an unknown item) */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NOTFOUND = 3 };

/* Prints "doppel <cmd>: <msg>\n" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef enum cli_opt_kind {
    OPT_END = 0,   /* the table's last entry */
    OPT_FLAG,      /* int *: set to .ival; takes no value */
    OPT_CLEAR,     /* const char **: set to NULL (--no-label); takes no value */
    OPT_STRING,    /* const char **: the value, as given (points into argv) */
    OPT_CHOICE,    /* const char **: the value, one of .choices */
    OPT_ENUM,      /* int *: the enum value v of .vals (ending with -1) whose
                      name .choices[v] is given; .choices is the enum's name
                      table (common/pair.h: relation_names...), so the names
                      are spelled only there */
    OPT_INT,       /* int *: an integer in [.lo, .hi] */
    OPT_SIZE,      /* size_t *: an integer in [.lo, .hi] */
    OPT_DOUBLE,    /* double *: a number in [.lo, .hi] */
    OPT_LIST,      /* strvec *: every value, in order (a repeatable option) */
    OPT_CALL,      /* .call(cmd, name, value, .ptr): returns 0, or -1 after
                      printing its error (a usage error) */
} cli_opt_kind;

typedef int (*cli_opt_fn)(const char *cmd, const char *name, const char *value, void *ptr);

typedef struct cli_opt {
    const char *lname;   /* long name without "--", or NULL */
    char sname;          /* short letter, or 0 */
    cli_opt_kind kind;
    void *ptr;           /* where the value goes; see the kinds */
    const char *argh;    /* the value's name in the help ("N", "PATH"); NULL
                            for OPT_CHOICE and OPT_ENUM: the names, '|'-joined */
    const char *help;    /* one line per '\n'; lines after the first are
                            indented under it */
    int ival;            /* OPT_FLAG: the value set */
    double lo, hi;       /* OPT_INT, OPT_SIZE, OPT_DOUBLE: the range */
    const char *const *choices;   /* OPT_CHOICE: NULL-terminated; OPT_ENUM:
                                     the names indexed by value */
    cli_opt_fn call;     /* OPT_CALL */
    const int *vals;     /* OPT_ENUM: the values accepted, in the order the
                            help and errors list them; ends with -1 */
} cli_opt;

/* The table's entries, for designated-initializer-free tables. */
#define CLI_FLAG(l, s, p, h)          {(l), (s), OPT_FLAG, (p), NULL, (h), 1, 0, 0, NULL, NULL, NULL}
#define CLI_SET(l, s, p, v, h)        {(l), (s), OPT_FLAG, (p), NULL, (h), (v), 0, 0, NULL, NULL, NULL}
#define CLI_CLEAR(l, p, h)            {(l), 0, OPT_CLEAR, (p), NULL, (h), 0, 0, 0, NULL, NULL, NULL}
#define CLI_STR(l, s, p, a, h)        {(l), (s), OPT_STRING, (p), (a), (h), 0, 0, 0, NULL, NULL, NULL}
#define CLI_CHOICE(l, s, p, a, c, h)  {(l), (s), OPT_CHOICE, (p), (a), (h), 0, 0, 0, (c), NULL, NULL}
/* An enum option: CLI_ENUM("relation", 0, &rel, relation_names, vals, "help")
 * with vals = {RELATION_DUPLICATE, RELATION_RELATED, -1}; its value in the
 * help is the names joined by '|' ("duplicate|related"). */
#define CLI_ENUM(l, s, p, names, vals, h) {(l), (s), OPT_ENUM, (p), NULL, (h), 0, 0, 0, (names), NULL, (vals)}
#define CLI_INT(l, s, p, a, lo, hi, h)    {(l), (s), OPT_INT, (p), (a), (h), 0, (lo), (hi), NULL, NULL, NULL}
#define CLI_SIZE(l, s, p, a, lo, hi, h)   {(l), (s), OPT_SIZE, (p), (a), (h), 0, (lo), (hi), NULL, NULL, NULL}
#define CLI_DOUBLE(l, s, p, a, lo, hi, h) {(l), (s), OPT_DOUBLE, (p), (a), (h), 0, (lo), (hi), NULL, NULL, NULL}
#define CLI_LIST(l, s, p, a, h)       {(l), (s), OPT_LIST, (p), (a), (h), 0, 0, 0, NULL, NULL, NULL}
#define CLI_CALL(l, s, fn, p, a, h)   {(l), (s), OPT_CALL, (p), (a), (h), 0, 0, 0, NULL, (fn), NULL}
#define CLI_END                       {NULL, 0, OPT_END, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL}
/* A macro's value as a string, for help texts: CLI_XSTR(MATCH_POOL) "100". */
#define CLI_XSTR_(x) #x
#define CLI_XSTR(x) CLI_XSTR_(x)
/* --db PATH, the same in every command. */
#define CLI_DB(p) CLI_STR("db", 0, (p), "PATH", "store file (default $DOPPEL_DB, else ./doppel.db)")

/* A command: its name, its help around the option list, its options. */
typedef struct cli_cmd {
    const char *name;     /* "analyze" */
    const char *usage;    /* "usage: doppel analyze [options]\n", maybe more lines */
    const char *about;    /* paragraphs before the options, or NULL */
    const char *footer;   /* paragraphs after the options, or NULL */
    const cli_opt *opts;  /* ends with CLI_END */
    int flags;            /* CLI_DASH_WORDS */
} cli_cmd;

/* A word starting with one '-' that is no short option of the table is an
 * argument, not an unknown option (search: `doppel search -Xmx512m`). */
#define CLI_DASH_WORDS 1

/* cli_parse's "go on": the command runs. */
#define CLI_GO (-1)

/* Parses argv[1..argc-1] (argv[0] is the command's name) against c's
 * table. Returns CLI_GO with the arguments that are not options moved to
 * argv[1..*nargs] in order; EXIT_OK after printing the help (-h, --help);
 * EXIT_USAGE after printing the error. nargs may be NULL when the command
 * takes no arguments: any is then an error ("unexpected argument"). */
int cli_parse(const cli_cmd *c, int argc, char **argv, int *nargs);

/* The help: c->usage, c->about, "options:" and one entry per option
 * ("  -k, --keep N        help"), c->footer. */
void cli_usage(const cli_cmd *c, FILE *out);

/* Prints "doppel CMD: <msg>" and the usage line hint on stderr; returns
 * EXIT_USAGE, for the checks a command makes after cli_parse. */
int cli_usage_error(const cli_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
