/* cli.h -- the command line: one file per subcommand (cmd_<name>.c), each
 * with its usage text next to its option parsing, dispatched by main.c.
 *
 * Exit codes (documented in README.md):
 *   0  success
 *   1  failure (bad input, store error, network error)
 *   2  usage error (unknown option, missing argument)
 *   3  nothing to do / not found (e.g. `similar` of an unknown item)
 *
 * Commands print results to stdout, errors to stderr as
 * "doppel <cmd>: <message>". Progress bars go to stderr, only on a terminal.
 */
#ifndef DP_CLI_H
#define DP_CLI_H

#include <stddef.h>
#include "../store/store.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NOTFOUND = 3 };

int cmd_import(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_similar(int argc, char **argv);
int cmd_pairs(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);

/* Prints "doppel <cmd>: <msg>\n" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the store at path (NULL: $DOPPEL_DB, else ./doppel.db); prints the
 * error and returns NULL on failure. */
store *cli_open_store(const char *cmd, const char *path);

/* A progress bar on stderr; silent when stderr is not a terminal. */
typedef struct progress {
    const char *label;
    size_t total, done;
    double start, last;
    int tty;
} progress;
void progress_start(progress *p, const char *label, size_t total);
void progress_update(progress *p, size_t done, const char *extra);   /* throttled */
void progress_finish(progress *p);

/* One bar per phase of a multi-phase job (analyze_run's "index", "rank",
 * "explain"), for `analyze` and `sync --analyze`. Pass cli_phase_progress as
 * the callback and the phase_bars as its user data; call cli_phase_finish at
 * the end. quiet = 1 draws nothing. */
typedef struct phase_bars {
    progress bar;
    const char *phase;
    int quiet;
} phase_bars;
void cli_phase_progress(void *ud, const char *phase, size_t done, size_t total);
void cli_phase_finish(phase_bars *b);

#endif
