/* fuzz_gh_headers.c -- the GitHub client's response header parsing
 * (src/sync/github.c): the header callback curl calls once per line (ETag,
 * Link rel="next"/"last", Location, X-RateLimit-*, Retry-After), Link
 * parsing (gh_link_find), and what the client decides from them
 * (gh_classify, gh_rate_wait_s, gh_redact_url, gh_same_origin).
 *
 * github.c is included, not linked: the header callback is static (it is
 * curl's), and driving it is the point. If a change there breaks this
 * build, adapt the calls below; the target is built and run by make test.
 *
 * Input: header lines ("HTTP/1.1 403 Forbidden" sets the status, default
 * 200), an empty line, then a body (for gh_classify).
 *
 * Checks, on every URL the headers carry (Link rels, Location): the wait is
 * within [1 s, GH_MAX_WAIT_S]; gh_redact_url leaves no value of a secret
 * query parameter; gh_same_origin only accepts URLs that start with the
 * base's origin. Strict (FUZZ_STRICT_REDACT), three known
 * gaps of gh_redact_url: it cuts the userinfo at the first '@' of the
 * authority, so "https://u@x:SECRET@host/" keeps "x:SECRET@"; and it takes
 * the first "://" anywhere as the end of the scheme, so in
 * "h/?token=SECRET&u=http://x" the query is copied unmasked; and it
 * splits at a '&' before the '?' ("https://h/a&b?token=SECRET"). Without
 * the switch the checks run only on URLs that avoid these three shapes. */
#include "../src/sync/github.c"

#include "fuzz.h"

static int strict_redact;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    strict_redact = FUZZ_STRICT(REDACT);
    return 0;
}

static const char *const BASES[] = {"https://api.github.com", "https://ghe.example.com/api/v3/"};

/* The promise of gh_redact_url: no "user:pass@" left, and every secret
 * query parameter (split the way a server does: after the first '?', at
 * '&', up to '#') has the value REDACTED. */
static void check_redacted(const char *url)
{
    /* simple: http(s), at most one '@', no '&' before the query */
    size_t head = strcspn(url, "?#");
    const char *at = memchr(url, '@', head);
    int simple = (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8)) &&
                 !memchr(url, '&', head) && (!at || !memchr(at + 1, '@', head - (size_t)(at + 1 - url)));
    if (!strict_redact && !simple) {
        free(gh_redact_url(url));
        return;
    }
    char *r = gh_redact_url(url);
    const char *auth = strstr(r, "://");
    auth = auth ? auth + 3 : r;
    size_t alen = strcspn(auth, "/?#");
    fuzz_check(!strict_redact || !memchr(auth, '@', alen), "userinfo left in \"%s\" (from \"%s\")", r, url);
    const char *q = strchr(r, '?'), *hash = strchr(r, '#');
    if (q && (!hash || q < hash)) {
        const char *end = hash ? hash : r + strlen(r);
        for (const char *k = q + 1; k < end;) {
            size_t plen = strcspn(k, "&#");
            if (k + plen > end) plen = (size_t)(end - k);
            const char *eq = memchr(k, '=', plen);
            size_t klen = eq ? (size_t)(eq - k) : plen;
            static const char *secret[] = {"access_token", "token", "client_secret", NULL};
            for (int i = 0; secret[i]; i++)
                if (klen == strlen(secret[i]) && !strncasecmp(k, secret[i], klen) && eq)
                    fuzz_check((size_t)(k + plen - eq - 1) == 8 && !strncmp(eq + 1, "REDACTED", 8),
                               "secret %s not redacted in \"%s\" (from \"%s\")", secret[i], r, url);
            k += plen + 1;
        }
    }
    free(r);
}

static void check_url(const char *url)
{
    if (!url) return;
    check_redacted(url);
    for (size_t b = 0; b < sizeof BASES / sizeof BASES[0]; b++)
        if (gh_same_origin(BASES[b], url))
            fuzz_check(!strncasecmp(url, BASES[b], origin_len(BASES[b])),
                       "\"%s\" accepted as same origin as %s", url, BASES[b]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_response r;
    memset(&r, 0, sizeof r);
    reset_headers(&r);
    xfer x = {.resp = &r};   /* what curl's header callback is given */
    long status = 200;
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char *line = xstrndup(p, len);   /* curl hands NUL-free lines */
        p += len;
        size_t cl = strlen(line);
        if (cl == 0 || !strcmp(line, "\n") || !strcmp(line, "\r\n")) {
            free(line);
            break;
        }
        if (!strncmp(line, "HTTP/", 5)) {
            const char *sp = strchr(line, ' ');
            if (sp) status = strtol(sp + 1, NULL, 10);
        }
        fuzz_check(on_header(line, 1, cl, &x) == cl, "header callback did not take the line");
        const char *v;
        if (header_is(line, cl, "link", &v)) {
            /* every rel, straight from the header text */
            static const char *rels[] = {"next", "last", "prev", "first", ""};
            for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++) {
                char *u = gh_link_find(v, rels[i]);
                check_url(u);
                free(u);
            }
        }
        free(line);
    }
    sb_add(&r.body, p, (size_t)(end - p));
    gh_verdict verdict = gh_classify(status, &r, sb_str(&r.body));
    fuzz_check(verdict >= GH_DONE && verdict <= GH_FAIL, "verdict %d", (int)verdict);
    double w = gh_rate_wait_s(&r, 1700000000, 5.0);
    fuzz_check(w >= 1.0 && w <= GH_MAX_WAIT_S, "wait %g s", w);
    check_url(r.next_url);
    check_url(r.last_url);
    check_url(r.location);
    gh_response_free(&r);
    return 0;
}
