/* cmd_serve.c -- `doppel serve`: the review page on http://127.0.0.1:8080/.
 *
 * Runs the web module's server until SIGINT or SIGTERM. The signals are
 * blocked before the server's threads start (they inherit the mask) and
 * taken here with sigwait, so shutdown happens on this thread, in order:
 * stop accepting, finish requests in flight, close the store handles. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sync/github.h"
#include "../sync/sync.h"
#include "../web/web.h"
#include "cli.h"

static void serve_usage(FILE *out)
{
    fprintf(out,
            "usage: doppel serve [--db PATH] [--port 8080] [--bind 127.0.0.1] [--token T]\n"
            "                    [--threads N] [--write [--api-url URL] [--label NAME | --no-label]]\n"
            "                    [--cors ORIGIN] [--similar-rate N]\n\n"
            "Serves the review page and its JSON API until interrupted (Ctrl-C).\n"
            "  --db PATH     the store (default $DOPPEL_DB, else ./doppel.db)\n"
            "  --port N      TCP port (default 8080; 0 picks a free one)\n"
            "  --bind ADDR   address to listen on (default 127.0.0.1). Any address that\n"
            "                is not loopback requires a token.\n"
            "  --token T     require T on every API call; open the page once as\n"
            "                http://HOST:PORT/?token=T to log in. Prefer DOPPEL_TOKEN=T:\n"
            "                other users of this machine can read a command line (ps)\n"
            "  --threads N   worker threads (default: one per CPU, 2 to 16)\n"
            "  --write       let the Apply view carry queued verdicts out on GitHub (as\n"
            "                `doppel apply --queued --yes`); needs $GITHUB_TOKEN, else\n"
            "                $GH_TOKEN, else `gh auth token`. Without it the plan is read-only\n"
            "  --api-url URL GitHub API root for --write (default https://api.github.com)\n"
            "  --label NAME  label added to a duplicate (default \"duplicate\"); --no-label\n"
            "  --cors ORIGIN let pages of ORIGIN (https://forms.example.org) read\n"
            "                GET /api/similar; default: no cross-origin reads\n"
            "  --similar-rate N  GET /api/similar requests a minute per client (default 60,\n"
            "                10 at once)\n"
            "A request must arrive whole within 10 s; at most 512 connections at once,\n"
            "32 from one remote address. The first line on stdout is the page's address.\n");
}

static void serve_log(void *ud, const char *line)
{
    (void)ud;
    fprintf(stderr, "doppel serve: %s\n", line);
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !*s || *end || *s == '-' || v > max) return -1;
    *out = (unsigned)v;
    return 0;
}

/* The options that need parsing beyond a string; -1 on a bad value (said). */
static int serve_value(const char *a, const char *v, web_config *cfg)
{
    unsigned n = 0;
    if (!strcmp(a, "--port") && parse_uint(v, 65535, &cfg->port)) {
        cli_error("serve", "bad port '%s'", v);
        return -1;
    }
    if (!strcmp(a, "--threads") && (parse_uint(v, 256, &cfg->threads) || !cfg->threads)) {
        cli_error("serve", "bad thread count '%s'", v);
        return -1;
    }
    if (!strcmp(a, "--similar-rate")) {
        if (parse_uint(v, 1000000, &n) || !n) {
            cli_error("serve", "--similar-rate wants requests a minute, 1 or more, not '%s'", v);
            return -1;
        }
        cfg->similar_per_min = n;
    }
    if (!strcmp(a, "--label") && !cli_label_ok(v)) {
        cli_error("serve", "--label wants a label name (UTF-8, no control characters)");
        return -1;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    web_config cfg = {.bind = "127.0.0.1", .port = 8080, .log = serve_log, .dup_label = "duplicate"};
    const char *db = NULL;
    int token_arg = 0;
    cli_target t = {0};
    cfg.token = getenv("DOPPEL_TOKEN");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            serve_usage(stdout);
            return EXIT_OK;
        }
        if (!strcmp(a, "--api-url")) {
            if (cli_target_option("serve", argc, argv, &i, &t) < 0) return EXIT_USAGE;
            continue;
        }
        if (!strcmp(a, "--write") || !strcmp(a, "--no-label")) {
            if (!strcmp(a, "--write")) cfg.write = 1;
            else cfg.dup_label = NULL;
            continue;
        }
        int takes = !strcmp(a, "--db") || !strcmp(a, "--port") || !strcmp(a, "--bind") ||
                    !strcmp(a, "--token") || !strcmp(a, "--threads") || !strcmp(a, "--label") ||
                    !strcmp(a, "--cors") || !strcmp(a, "--similar-rate");
        if (!takes) {
            cli_error("serve", "unknown option '%s'", a);
            serve_usage(stderr);
            return EXIT_USAGE;
        }
        if (!v) {
            cli_error("serve", "%s needs a value", a);
            return EXIT_USAGE;
        }
        i++;
        if (serve_value(a, v, &cfg)) return EXIT_USAGE;
        if (!strcmp(a, "--db")) db = v;
        else if (!strcmp(a, "--bind")) cfg.bind = v;
        else if (!strcmp(a, "--token")) cfg.token = v, token_arg = *v != 0;
        else if (!strcmp(a, "--label")) cfg.dup_label = v;
        else if (!strcmp(a, "--cors")) cfg.cors_origin = v;
    }
    if (token_arg)
        fprintf(stderr, "doppel serve: warning: a --token on the command line can be read by other "
                        "users of this machine (ps); prefer DOPPEL_TOKEN\n");
    if (!db) db = getenv("DOPPEL_DB");
    cfg.db_path = db && *db ? db : STORE_DEFAULT_PATH;
    if (t.api_url && !cfg.write) {
        cli_error("serve", "--api-url is for --write");
        return EXIT_USAGE;
    }
    /* The GitHub token: for the Apply view's writes only; never printed. */
    const char *source = NULL;
    char *gh_token = cfg.write ? sync_find_token(&source) : NULL;
    gh_config gh;
    if (cfg.write) {
        if (!gh_token) {
            cli_error("serve", "--write needs a token: $GITHUB_TOKEN, $GH_TOKEN or `gh auth token`");
            return EXIT_FAIL;
        }
        cli_gh_config(&gh, t.api_url, gh_token);
        cfg.gh = &gh;
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    web_server *srv;
    dp_err err;
    int rc = web_start(&cfg, &srv, &err);
    if (gh_token) {   /* the server keeps its own copy */
        memset(gh_token, 0, strlen(gh_token));
        free(gh_token);
    }
    if (rc != DP_OK) {
        cli_error("serve", "%s", err.msg);
        return EXIT_FAIL;
    }
    int v6 = strchr(cfg.bind, ':') != NULL;
    printf("http://%s%s%s:%u/\n", v6 ? "[" : "", cfg.bind, v6 ? "]" : "", web_port(srv));
    fflush(stdout);
    fprintf(stderr, "doppel serve: serving %s%s; Ctrl-C to stop\n", cfg.db_path,
            cfg.token && *cfg.token ? " (token required: open the address with ?token=...)" : "");
    if (cfg.write)
        fprintf(stderr, "doppel serve: the Apply view writes to GitHub (%s, token from %s)\n",
                t.api_url ? t.api_url : "https://api.github.com", source ? source : "?");
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) continue;
    fprintf(stderr, "doppel serve: %s, finishing requests in flight\n", sig == SIGINT ? "interrupt" : "terminated");
    web_stop(srv);
    return EXIT_OK;
}
