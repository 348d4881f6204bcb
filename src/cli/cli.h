/* cli.h -- the command line: one file per subcommand (cmd_<name>.c), each
 * with its usage text next to its option parsing, dispatched by main.c.
 *
 * Options are parsed by opt.h's table parser, which also holds the exit
 * codes (0 ok, 1 failure, 2 usage error, 3 not found) and cli_error.
 *
 * Commands print results to stdout, errors to stderr as
 * "doppel <cmd>: <message>". Progress bars go to stderr, only on a terminal.
 */
#ifndef DP_CLI_H
#define DP_CLI_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include "../store/store.h"
#include "opt.h"

int cmd_import(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_similar(int argc, char **argv);
int cmd_pairs(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_triage(int argc, char **argv);
int cmd_watch(int argc, char **argv);

/* Prints "doppel <cmd>: <msg>" with every secret masked: the token, and
 * whatever looks like a credential (a server may quote the Authorization
 * header back). */
void cli_error_redacted(const char *cmd, const char *token, const char *msg);

/* A non-negative integer from the environment; dflt when unset or bad. */
long cli_env_long(const char *name, long dflt);

/* The first SIGINT or SIGTERM sets cli_interrupted (to the signal) and
 * restores the default handlers, so a second one kills at once. Library
 * calls take &cli_interrupted as their cancel flag. */
extern volatile sig_atomic_t cli_interrupted;
void cli_signals_catch(void);
void cli_signals_reset(void);

/* --db PATH, --repo O/R and --api-url URL: the options of the commands that
 * act on GitHub (CLI_TARGET_OPTS puts the three in a table). */
typedef struct cli_target {
    const char *db, *repo, *api_url;
} cli_target;
#define CLI_TARGET_OPTS(t)                                                                  \
    CLI_DB(&(t)->db), CLI_STR("repo", 0, &(t)->repo, "O/R", "repository in the store (default: the only one)"), \
    CLI_CALL("api-url", 0, cli_opt_api_url, &(t)->api_url, "URL",                           \
             "API root (default https://api.github.com), as for sync")

/* OPT_CALL parsers (opt.h) for values checked beyond their syntax; each
 * stores into a const char ** when the value is good:
 *   cli_opt_api_url  an API root without credentials (gh_check_api_url)
 *   cli_opt_label    a GitHub label name (cli_label_ok) */
int cli_opt_api_url(const char *cmd, const char *name, const char *value, void *ptr);
int cli_opt_label(const char *cmd, const char *name, const char *value, void *ptr);

/* 1 when s can be a GitHub label name: non-empty UTF-8, no control
 * characters, at most 200 bytes (GitHub allows 50 characters). */
int cli_label_ok(const char *s);

/* The GitHub client settings of the commands that write (apply, triage,
 * watch): api_url and token as given, limits from the environment --
 * $DOPPEL_SYNC_TRIES, _BACKOFF_MS, _STALL_S, _DEADLINE_S as for sync,
 * $DOPPEL_WRITE_GAP_MS (least time between two writes, default 1000; 0
 * none) and $DOPPEL_WRITE_MAX_WAIT_S (most one request may wait for rate
 * limits, default 900) -- and &cli_interrupted as the cancel flag. */
struct gh_config;
void cli_gh_config(struct gh_config *g, const char *api_url, const char *token);

/* act_run's event callback for apply, triage and watch: one line on stdout
 * per write sent, found or failed (act_event_print). */
struct act_unit;
struct act_step;
void cli_act_event(void *ctx, const struct act_unit *u, const struct act_step *s);

/* Prints j on stdout as every --json does (indented by 2, non-ASCII
 * escaped, a newline after) and releases it (j is stolen; NULL prints
 * "null"). */
void cli_json_print(json_t *j);

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
