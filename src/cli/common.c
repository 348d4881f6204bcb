/* common.c -- helpers shared by the subcommands: errors, store, progress. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../act/act.h"
#include "../sync/github.h"
#include "cli.h"

void cli_error_redacted(const char *cmd, const char *token, const char *msg)
{
    char *safe = gh_redact_text(msg, token);
    cli_error(cmd, "%s", safe);
    free(safe);
}

long cli_env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end || n < 0) ? dflt : n;
}

volatile sig_atomic_t cli_interrupted;

static void on_signal(int sig)
{
    cli_interrupted = sig;
    signal(SIGINT, SIG_DFL);   /* a second Ctrl-C kills at once */
    signal(SIGTERM, SIG_DFL);
}

void cli_signals_catch(void)
{
    cli_interrupted = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
}

void cli_signals_reset(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

int cli_opt_api_url(const char *cmd, const char *name, const char *value, void *ptr)
{
    (void)name;
    dp_err err;
    /* Before the store is opened: credentials in the URL would be stored as
     * the repository's address and shown on the review page. */
    if (gh_check_api_url(value, &err) != DP_OK) {
        cli_error(cmd, "%s", err.msg);
        return -1;
    }
    *(const char **)ptr = value;
    return 0;
}

int cli_opt_label(const char *cmd, const char *name, const char *value, void *ptr)
{
    if (!cli_label_ok(value)) {
        cli_error(cmd, "%s wants a label name (UTF-8, no control characters)", name);
        return -1;
    }
    *(const char **)ptr = value;
    return 0;
}

int cli_label_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 200 || !dp_utf8_valid(s, n, NULL)) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

void cli_gh_config(gh_config *g, const char *api_url, const char *token)
{
    memset(g, 0, sizeof *g);
    g->api_url = api_url;
    g->token = token;
    g->max_tries = (int)cli_env_long("DOPPEL_SYNC_TRIES", 0);
    g->backoff_base_ms = cli_env_long("DOPPEL_SYNC_BACKOFF_MS", 0);
    g->stall_timeout_s = cli_env_long("DOPPEL_SYNC_STALL_S", 0);
    g->deadline_s = cli_env_long("DOPPEL_SYNC_DEADLINE_S", 0);
    long gap = cli_env_long("DOPPEL_WRITE_GAP_MS", 1000);
    g->write_gap_ms = gap ? gap : -1;
    g->max_wait_s = cli_env_long("DOPPEL_WRITE_MAX_WAIT_S", 900);
    g->cancel = &cli_interrupted;
}

void cli_act_event(void *ctx, const act_unit *u, const act_step *s)
{
    (void)ctx;
    sbuf sb;
    sb_init(&sb);
    act_event_print(u, s, &sb);
    fputs(sb_str(&sb), stdout);
    fflush(stdout);
    sb_free(&sb);
}

void cli_json_print(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_ENCODE_ANY) : NULL;
    printf("%s\n", s ? s : "null");
    free(s);
    json_decref(j);
}

store *cli_open_store(const char *cmd, const char *path)
{
    store *st = NULL;
    dp_err err;
    if (!path) path = getenv("DOPPEL_DB");
    if (!path || !*path) path = STORE_DEFAULT_PATH;
    if (store_open(path, &st, &err) != DP_OK) {
        cli_error(cmd, "%s", err.msg);
        return NULL;
    }
    return st;
}

void progress_start(progress *p, const char *label, size_t total)
{
    p->label = label;
    p->total = total;
    p->done = 0;
    p->start = p->last = dp_now();
    p->tty = isatty(2);
}

void progress_update(progress *p, size_t done, const char *extra)
{
    p->done = done;
    if (!p->tty) return;
    double now = dp_now();
    if (now - p->last < 0.1 && done != p->total) return;   /* redraw at most 10/s */
    p->last = now;
    double el = now - p->start;
    char eta[32] = "";
    if (p->total && done && done < p->total)
        snprintf(eta, sizeof eta, " ETA %.0fs", el / (double)done * (double)(p->total - done));
    if (p->total) {
        int w = 30, fill = (int)((double)w * (double)done / (double)p->total);
        fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu%s%s%s\033[K", p->label, fill,
                "##############################", w - fill, "", done, p->total, eta,
                extra ? " " : "", extra ? extra : "");
    } else {
        fprintf(stderr, "\r%s %zu%s%s\033[K", p->label, done, extra ? " " : "", extra ? extra : "");
    }
}

void progress_finish(progress *p)
{
    if (!p->tty) return;
    p->last = 0;
    progress_update(p, p->total ? p->total : p->done, NULL);
    fputc('\n', stderr);
}

void cli_phase_progress(void *ud, const char *phase, size_t done, size_t total)
{
    phase_bars *b = ud;
    if (b->quiet) return;
    if (!b->phase || strcmp(b->phase, phase) != 0) {
        if (b->phase) progress_finish(&b->bar);
        progress_start(&b->bar, !strcmp(phase, "index") ? "indexing  "
                                : !strcmp(phase, "rank") ? "ranking   "
                                                         : "explaining",
                       total);
        b->phase = phase;
    }
    progress_update(&b->bar, done, NULL);
}

void cli_phase_finish(phase_bars *b)
{
    if (b->phase && !b->quiet) progress_finish(&b->bar);
    b->phase = NULL;
}
