/* fuzz_gh_headers.c -- the GitHub client's response header parsing
 * (src/sync/gh_client.c): the header callback curl calls once per line (ETag,
 * Link rel="next"/"last", Location, X-RateLimit-*, Retry-After), Link
 * parsing (gh_link_find), and what the client decides from them
 * (gh_classify, gh_rate_wait_s, gh_redact_url, gh_same_origin).
 *
 * gh_client.c is included, not linked: the header callback is static (it is
 * curl's), and driving it is the point. If a change there breaks this
 * build, adapt the calls below; the target is built and run by make test.
 *
 * Input: header lines ("HTTP/1.1 403 Forbidden" sets the status, default
 * 200), an empty line, then a body (for gh_classify).
 *
 * Checks, on every URL the headers carry (Link rels, Location): the wait is
 * within [1 s, GH_MAX_WAIT_S]; gh_redact_url leaves no userinfo and no value
 * of a secret query parameter (read as curl and browsers read URLs: see
 * url_authority); gh_same_origin only accepts URLs that start with the
 * base's origin. */
#include "../src/sync/gh_client.c"

#include "fuzz.h"

static const char *const BASES[] = {"https://api.github.com", "https://ghe.example.com/api/v3/"};

/* The authority of url as the most lenient parser reads it (*len bytes):
 * after "scheme:" and any slashes or backslashes (browsers take any number
 * for http(s), even none; curl one to three), else from the start; up to
 * the first of "/?#" (curl; browsers also stop at a backslash, sooner). */
static const char *url_authority(const char *url, size_t *len)
{
    const char *a = url;
    if (isalpha((unsigned char)*url)) {
        const char *p = url + 1;
        while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.') p++;
        if (*p == ':') {
            const char *s = p + 1;
            while (*s == '/' || *s == '\\') s++;
            size_t sl = (size_t)(p - url);
            int special = (sl == 4 && !strncasecmp(url, "http", 4)) || (sl == 5 && !strncasecmp(url, "https", 5));
            if (s > p + 1 || special) a = s;
        }
    }
    *len = strcspn(a, "/?#");
    return a;
}

/* The promise of gh_redact_url: no "user:pass@" left, and every secret
 * query parameter (split the way a server does: after the first '?', at
 * '&', up to '#') has the value REDACTED. */
static void check_redacted(const char *url)
{
    char *r = gh_redact_url(url);
    size_t alen;
    const char *auth = url_authority(r, &alen);
    fuzz_check(!memchr(auth, '@', alen), "userinfo left in \"%s\" (from \"%s\")", r, url);
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
