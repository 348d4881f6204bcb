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

#include "../web/web.h"
#include "cli.h"

static void serve_usage(FILE *out)
{
    fprintf(out,
            "usage: doppel serve [--db PATH] [--port 8080] [--bind 127.0.0.1] [--token T]\n"
            "                    [--threads N]\n\n"
            "Serves the review page and its JSON API until interrupted (Ctrl-C).\n"
            "  --db PATH     the store (default $DOPPEL_DB, else ./doppel.db)\n"
            "  --port N      TCP port (default 8080; 0 picks a free one)\n"
            "  --bind ADDR   address to listen on (default 127.0.0.1). Any address that\n"
            "                is not loopback requires a token.\n"
            "  --token T     require T on every API call; open the page once as\n"
            "                http://HOST:PORT/?token=T to log in. Prefer DOPPEL_TOKEN=T:\n"
            "                other users of this machine can read a command line (ps)\n"
            "  --threads N   worker threads (default: one per CPU, 2 to 16)\n"
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

int cmd_serve(int argc, char **argv)
{
    web_config cfg = {.bind = "127.0.0.1", .port = 8080, .log = serve_log};
    const char *db = NULL;
    int token_arg = 0;
    cfg.token = getenv("DOPPEL_TOKEN");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            serve_usage(stdout);
            return EXIT_OK;
        }
        int takes = !strcmp(a, "--db") || !strcmp(a, "--port") || !strcmp(a, "--bind") ||
                    !strcmp(a, "--token") || !strcmp(a, "--threads");
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
        if (!strcmp(a, "--db")) db = v;
        else if (!strcmp(a, "--bind")) cfg.bind = v;
        else if (!strcmp(a, "--token")) cfg.token = v, token_arg = *v != 0;
        else if (!strcmp(a, "--port") && parse_uint(v, 65535, &cfg.port)) {
            cli_error("serve", "bad port '%s'", v);
            return EXIT_USAGE;
        } else if (!strcmp(a, "--threads") && (parse_uint(v, 256, &cfg.threads) || !cfg.threads)) {
            cli_error("serve", "bad thread count '%s'", v);
            return EXIT_USAGE;
        }
    }
    if (token_arg)
        fprintf(stderr, "doppel serve: warning: a --token on the command line can be read by other "
                        "users of this machine (ps); prefer DOPPEL_TOKEN\n");
    if (!db) db = getenv("DOPPEL_DB");
    cfg.db_path = db && *db ? db : STORE_DEFAULT_PATH;

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    web_server *srv;
    dp_err err;
    if (web_start(&cfg, &srv, &err) != DP_OK) {
        cli_error("serve", "%s", err.msg);
        return EXIT_FAIL;
    }
    int v6 = strchr(cfg.bind, ':') != NULL;
    printf("http://%s%s%s:%u/\n", v6 ? "[" : "", cfg.bind, v6 ? "]" : "", web_port(srv));
    fflush(stdout);
    fprintf(stderr, "doppel serve: serving %s%s; Ctrl-C to stop\n", cfg.db_path,
            cfg.token && *cfg.token ? " (token required: open the address with ?token=...)" : "");
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) continue;
    fprintf(stderr, "doppel serve: %s, finishing requests in flight\n", sig == SIGINT ? "interrupt" : "terminated");
    web_stop(srv);
    return EXIT_OK;
}
