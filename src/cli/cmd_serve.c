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

static void serve_log(void *ud, const char *line)
{
    (void)ud;
    fprintf(stderr, "doppel serve: %s\n", line);
}

int cmd_serve(int argc, char **argv)
{
    web_config cfg = {.bind = "127.0.0.1", .port = 8080, .log = serve_log, .dup_label = "duplicate"};
    const char *db = NULL, *token_opt = NULL;
    int token_arg = 0, port = 8080, threads = 0, similar_rate = 0;
    cli_target t = {0};
    cfg.token = getenv("DOPPEL_TOKEN");
    const cli_opt opts[] = {
        CLI_DB(&db),
        CLI_INT("port", 0, &port, "N", 0, 65535, "TCP port (default 8080; 0 picks a free one)"),
        CLI_STR("bind", 0, &cfg.bind, "ADDR",
                "address to listen on (default 127.0.0.1). Any address that\n"
                "is not loopback requires a token."),
        CLI_STR("token", 0, &token_opt, "T",
                "require T on every API call; open the page once as\n"
                "http://HOST:PORT/?token=T to log in. Prefer DOPPEL_TOKEN=T:\n"
                "other users of this machine can read a command line (ps)"),
        CLI_INT("threads", 0, &threads, "N", 1, 256, "worker threads (default: one per CPU, 2 to 16)"),
        CLI_FLAG("write", 0, &cfg.write,
                 "let the Apply view carry queued verdicts out on GitHub (as\n"
                 "`doppel apply --queued --yes`); needs $GITHUB_TOKEN, else\n"
                 "$GH_TOKEN, else `gh auth token`. Without it the plan is read-only"),
        CLI_CALL("api-url", 0, cli_opt_api_url, &t.api_url, "URL",
                 "GitHub API root for --write (default https://api.github.com)"),
        CLI_CALL("label", 0, cli_opt_label, &cfg.dup_label, "NAME", "label added to a duplicate (default \"duplicate\")"),
        CLI_CLEAR("no-label", &cfg.dup_label, "add no label"),
        CLI_STR("cors", 0, &cfg.cors_origin, "ORIGIN",
                "let pages of ORIGIN (https://forms.example.org) read\n"
                "GET /api/similar; default: no cross-origin reads"),
        CLI_INT("similar-rate", 0, &similar_rate, "N", 1, 1000000,
                "GET /api/similar requests a minute per client (default 60,\n10 at once)"),
        CLI_END,
    };
    const cli_cmd cmd = {
        "serve",
        "usage: doppel serve [--db PATH] [--port 8080] [--bind 127.0.0.1] [--token T]\n"
        "                    [--threads N] [--write [--api-url URL] [--label NAME | --no-label]]\n"
        "                    [--cors ORIGIN] [--similar-rate N]\n",
        "Serves the review page and its JSON API until interrupted (Ctrl-C).\n",
        "A request must arrive whole within 10 s; at most 512 connections at once,\n"
        "32 from one remote address. The first line on stdout is the page's address.\n",
        opts, 0};
    int prc = cli_parse(&cmd, argc, argv, NULL);
    if (prc != CLI_GO) return prc;
    cfg.port = (unsigned)port;
    cfg.threads = (unsigned)threads;
    cfg.similar_per_min = (unsigned)similar_rate;
    if (token_opt) {
        cfg.token = token_opt;
        token_arg = *token_opt != 0;
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
