/* common.c -- helpers shared by the subcommands: errors, store, progress. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "doppel %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
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
