/* fuzz_api.c -- the HTTP API's request routing and handlers
 * (web_api_handle) with random methods, paths, query parameters and
 * bodies, over the store the browser tests serve (tests/browser/fixture.c,
 * linked in with its main renamed), created once in a temporary directory.
 *
 * Input: METHOD \n PATH \n NAME=VALUE \n ... \n \n BODY, where METHOD is
 * a name or a digit picking GET/HEAD/POST/PUT/DELETE/OPTIONS and PATH goes
 * after "/api/" (the server hands only such paths to the API). Parameters
 * arrive decoded, as the server decodes them. POSTed verdicts change the
 * store as they would in use.
 *
 * Checks: the handler never reports a store error (nothing a request says
 * may break a query); the reply is a JSON object with a status in 200..599,
 * an "error" member when the status says error, an Allow value with 405;
 * every rendered body (members ending in "_html") passes the HTML check of
 * fuzz.h, the link allowlist included. */
#include "fuzz.h"

#include <jansson.h>
#include <unistd.h>

#include "../src/web/web.h"

#ifndef FUZZ_ROOT
#define FUZZ_ROOT "."
#endif

int fixture_main(int argc, char **argv);   /* tests/browser/fixture.c */

static store *st;
static char *dir, *db;

static void cleanup(void)
{
    store_close(st);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char *p = xasprintf("%s%s", db, suffix[i]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
    free(db);
    free(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char tmpl[] = "/tmp/doppel-fuzz-api-XXXXXX";
    if (!mkdtemp(tmpl)) fuzz_fail("mkdtemp failed");
    dir = xstrdup(tmpl);
    db = xasprintf("%s/fixture.db", dir);
    char *fixtures = xstrdup(FUZZ_ROOT "/tests/fixtures/web");
    char *args[] = {"fixture", db, "--pairs", "20", "--fixtures", fixtures, NULL};
    if (fixture_main(6, args) != 0) fuzz_fail("the fixture store could not be made");
    free(fixtures);
    dp_err err;
    if (store_open(db, &st, &err) != DP_OK) fuzz_fail("store_open: %s", err.msg);
    atexit(cleanup);
    return 0;
}

static void check_html(json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            size_t kl = strlen(k);
            if (json_is_string(v) && kl >= 5 && !strcmp(k + kl - 5, "_html"))
                fuzz_check_html(json_string_value(v), k);
            else
                check_html(v);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) check_html(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
    const uint8_t *p = data;
    size_t n = size;
    char *m = fuzz_part(&p, &n, '\n');
    const char *method = m[0] >= '0' && m[0] <= '5' && !m[1] ? methods[m[0] - '0'] : m;
    char *rest = fuzz_part(&p, &n, '\n');
    char *path = xasprintf("/api/%s", rest);
    web_param params[32];
    char *pstore[32];
    size_t np = 0;
    while (n) {
        char *line = fuzz_part(&p, &n, '\n');
        if (!*line) {
            free(line);
            break;
        }
        if (np == 32) {
            free(line);
            continue;
        }
        char *eq = strchr(line, '=');
        if (eq) *eq = '\0';
        pstore[np] = line;
        params[np].name = line;
        params[np].value = eq ? eq + 1 : "";
        np++;
    }
    size_t blen = n > WEB_MAX_BODY ? WEB_MAX_BODY : n;   /* the server refuses more */

    web_reply r;
    dp_err err;
    int rc = web_api_handle(st, method, path, params, np, (const char *)p, blen, &r, &err);
    fuzz_check(rc == DP_OK, "store error for %s %s: %s", method, path, err.msg);
    fuzz_check(r.status >= 200 && r.status <= 599, "status %d", r.status);
    fuzz_check(r.body && strlen(r.body) == r.len, "reply body/len");
    fuzz_check(r.status != 405 || r.allow, "405 without Allow");
    json_error_t je;
    json_t *j = json_loadb(r.body, r.len, 0, &je);
    fuzz_check(json_is_object(j), "reply is not a JSON object: %.200s", r.body);
    fuzz_check(r.status < 400 || json_is_string(json_object_get(j, "error")), "error reply without error");
    check_html(j);
    json_decref(j);
    web_reply_free(&r);

    for (size_t i = 0; i < np; i++) free(pstore[i]);
    free(path);
    free(rest);
    free(m);
    return 0;
}
