/* gh_client.c -- GitHub REST client: one reused curl handle, GitHub headers,
 * rate-limit waits and bounded retries. See github.h for the contract. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "github.h"

#define GH_MAX_WAIT_S 3660.0
#define GH_MAX_HEADERS ((size_t)1 << 20)   /* all header lines of one answer */
#define GH_MSG_MAX 200                     /* bytes of a server message we show */

struct gh_client {
    CURL *curl;
    char *base;                 /* normalised API URL */
    char *token;                /* NULL when anonymous */
    char *user_agent;
    gh_config cfg;              /* strings above replace the cfg pointers */
    gh_stats stats;
    double last_write;          /* dp_now() when the last write started; 0 none */
    unsigned seed;
    char curl_err[CURL_ERROR_SIZE];
};

/* ---- helpers ------------------------------------------------------------ */

static char *trim_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return xstrndup(s, n);
}

char *gh_link_find(const char *h, const char *rel)
{
    /* Link: <url>; rel="next", <url>; rel="last" */
    if (!h) return NULL;
    const char *p = h;
    while ((p = strchr(p, '<'))) {
        const char *end = strchr(p, '>');
        if (!end) return NULL;
        const char *params = end + 1;
        const char *stop = strchr(params, ',');
        /* A URL may itself contain ','; the next entry starts at the next '<'
         * after a ','. Params end at the first ',' followed by '<'. */
        while (stop) {
            const char *q = stop + 1;
            while (*q == ' ') q++;
            if (*q == '<') break;
            stop = strchr(q, ',');
        }
        size_t plen = stop ? (size_t)(stop - params) : strlen(params);
        char *ps = xstrndup(params, plen);
        int match = 0;
        for (char *r = ps; (r = strstr(r, "rel=")); r += 4) {
            char *v = r + 4;
            if (*v == '"') v++;
            /* rel may hold several space-separated values */
            char *vend = v + strcspn(v, "\";,");
            for (char *t = v; t < vend;) {
                size_t tl = strcspn(t, " \";,");
                if (tl == strlen(rel) && !strncmp(t, rel, tl)) match = 1;
                t += tl;
                while (*t == ' ') t++;
            }
        }
        free(ps);
        if (match) return xstrndup(p + 1, (size_t)(end - p - 1));
        if (!stop) return NULL;
        p = stop + 1;
    }
    return NULL;
}

/* Where the authority of url starts, read as leniently as any parser
 * does: after "scheme:" and the slashes or backslashes that follow (any
 * number: browsers take any for http(s), even none, and curl one to
 * three), else at the start (without a scheme, "user:pw@host/" may still
 * be meant as credentials). */
static size_t authority_start(const char *url)
{
    if (!isalpha((unsigned char)*url)) return 0;
    size_t n = 1;
    while (isalnum((unsigned char)url[n]) || url[n] == '+' || url[n] == '-' || url[n] == '.') n++;
    if (url[n] != ':') return 0;
    size_t k = n + 1;
    while (url[k] == '/' || url[k] == '\\') k++;
    int http = (n == 4 && !strncasecmp(url, "http", 4)) || (n == 5 && !strncasecmp(url, "https", 5));
    return k > n + 1 || http ? k : 0;
}

/* Cuts the userinfo ("user:pw@", up to the LAST '@' of the authority, which
 * runs to the first of "/?#") out of u in place; 1 if there was one. */
static int cut_userinfo(char *u)
{
    char *a = u + authority_start(u);
    char *at = memrchr(a, '@', strcspn(a, "/?#"));
    if (!at) return 0;
    memmove(a, at + 1, strlen(at + 1) + 1);
    return 1;
}

/* 1 when the parameter name k[0..n) is a secret's (access_token, token,
 * client_secret), in any case and with %XX escapes decoded, as a server
 * reads it. */
static int secret_param(const char *k, size_t n)
{
    static const char *secret[] = {"access_token", "token", "client_secret"};
    char name[16];
    size_t m = 0;
    for (size_t i = 0; i < n; i++, m++) {
        if (m == sizeof name - 1) return 0;   /* longer than any secret's name */
        int c = (unsigned char)k[i];
        if (c == '%' && i + 2 < n && isxdigit((unsigned char)k[i + 1]) && isxdigit((unsigned char)k[i + 2])) {
            char hex[3] = {k[i + 1], k[i + 2], 0};
            c = (int)strtol(hex, NULL, 16);
            i += 2;
        }
        name[m] = (char)tolower(c);
    }
    name[m] = '\0';
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        if (!strcmp(name, secret[i])) return 1;
    return 0;
}

/* Appends "k=v&k=v" p[0..n) to sb with the values of secret parameters
 * replaced by REDACTED. */
static void add_params(sbuf *sb, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq && secret_param(p, (size_t)(eq - p))) {
            sb_add(sb, p, (size_t)(eq + 1 - p));
            sb_adds(sb, "REDACTED");
        } else {
            sb_add(sb, p, (size_t)(e - p));
        }
        if (amp) sb_addc(sb, '&');
        p = amp ? amp + 1 : end;
    }
}

/* Parsed the way URL parsers (curl's, a browser's) do, so that what any
 * of them would send as credentials is cut: see authority_start and
 * cut_userinfo; the query runs from the first '?' to '#'. The fragment is
 * masked too (OAuth's implicit flow puts access_token there). */
char *gh_redact_url(const char *url)
{
    if (!url) return xstrdup("(null)");
    char *u = xstrdup(url);
    /* A cut can make a scheme appear ("x@https://u@h/" becomes
     * "https://u@h/"): cut until nothing is left; each cut drops an '@'. */
    while (cut_userinfo(u)) {}
    sbuf sb;
    sb_init(&sb);
    const char *p = u + authority_start(u);
    p += strcspn(p, "/?#");   /* the authority */
    p += strcspn(p, "?#");    /* the path */
    sb_add(&sb, u, (size_t)(p - u));
    if (*p == '?') {
        size_t ql = strcspn(p + 1, "#");
        sb_addc(&sb, '?');
        add_params(&sb, p + 1, ql);
        p += 1 + ql;
    }
    if (*p == '#') {
        sb_addc(&sb, '#');
        add_params(&sb, p + 1, strlen(p + 1));
    }
    free(u);
    return sb_take(&sb);
}

static int cred_char(char ch)
{
    return isalnum((unsigned char)ch) || strchr("-._~+/=", ch);
}

/* Length of the credential run at p, 0 if too short; the "token" keyword
 * also wants a digit in it, so "token is missing" stays readable. */
static size_t cred_len(const char *p, int strict)
{
    size_t n = 0;
    int digit = 0;
    while (p[n] && cred_char(p[n])) digit |= isdigit((unsigned char)p[n++]);
    if (strict && (n < 8 || !digit)) return 0;
    return n;
}

/* At p, "Bearer"/"Basic"/"token" + separators + credential: the length up to
 * the credential and the credential's length in *cl; 0 when no match. */
static size_t keyword_cred(const char *text, const char *p, size_t *cl)
{
    static const struct { const char *w; int strict; } kw[] = {{"bearer", 0}, {"basic", 0}, {"token", 1}};
    if (p > text && isalnum((unsigned char)p[-1])) return 0;   /* "xtoken"; "access_token" is fine */
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        size_t wl = strlen(kw[i].w);
        if (strncasecmp(p, kw[i].w, wl)) continue;
        size_t k = wl;
        while (p[k] == ' ' || p[k] == '\t' || p[k] == ':' || p[k] == '=') k++;
        if (k == wl) return 0;
        *cl = cred_len(p + k, kw[i].strict);
        return *cl ? k : 0;
    }
    return 0;
}

/* Length of a GitHub token's prefix at p ("ghp_"...), 0 if none. */
static size_t gh_token_prefix(const char *p)
{
    static const char *pre[] = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        size_t pl = strlen(pre[i]);
        if (strncmp(p, pre[i], pl)) continue;
        size_t n = 0;
        while (isalnum((unsigned char)p[pl + n]) || p[pl + n] == '_') n++;
        if (n >= 10) return pl;
    }
    return 0;
}

char *gh_redact_text(const char *text, const char *secret)
{
    if (!text) return xstrdup("");
    size_t sl = secret ? strlen(secret) : 0;
    sbuf sb;
    sb_init(&sb);
    for (const char *p = text; *p;) {
        size_t k, cl;
        if (sl && !strncmp(p, secret, sl)) {
            sb_adds(&sb, "[REDACTED]");
            p += sl;
        } else if ((k = keyword_cred(text, p, &cl))) {
            sb_add(&sb, p, k);
            sb_adds(&sb, "[REDACTED]");
            p += k + cl;
        } else if ((k = gh_token_prefix(p))) {
            sb_add(&sb, p, k);
            sb_adds(&sb, "[REDACTED]");
            for (p += k; isalnum((unsigned char)*p) || *p == '_';) p++;
        } else {
            sb_addc(&sb, *p++);
        }
    }
    if (!sb.s) sb_adds(&sb, "");
    return sb_take(&sb);
}

/* Length of "scheme://host[:port]" in url, 0 if not absolute. */
static size_t origin_len(const char *url)
{
    const char *s = strstr(url, "://");
    if (!s) return 0;
    s += 3;
    return (size_t)(s - url) + strcspn(s, "/?#");
}

int gh_same_origin(const char *base, const char *url)
{
    size_t bl = origin_len(base), ul = origin_len(url);
    if (!bl || bl != ul || strncasecmp(base, url, bl)) return 0;
    const char *bp = base + bl;   /* path prefix, e.g. "/api/v3" */
    size_t bpl = strcspn(bp, "?#");
    while (bpl && bp[bpl - 1] == '/') bpl--;
    if (strncmp(url + ul, bp, bpl)) return 0;
    char c = url[ul + bpl];
    return c == '\0' || c == '/' || c == '?';
}

int gh_check_api_url(const char *url, dp_err *err)
{
    if (!url || (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) || !origin_len(url)) {
        char *red = gh_redact_url(url);
        dp_fail(err, "API URL must start with https:// (or http://): %s", red);
        free(red);
        return DP_ERR;
    }
    const char *auth = strstr(url, "://") + 3;
    size_t al = strcspn(auth, "/?#");
    int rc = DP_OK;
    char *red = gh_redact_url(url);
    if (memchr(auth, '@', al))
        rc = dp_fail(err, "API URL must not contain a user name or password (%s): put the token in "
                          "$GITHUB_TOKEN", red);
    else if (al == 0 || *auth == ':')
        rc = dp_fail(err, "API URL has no host: %s", red);
    else if (strpbrk(auth, "?#"))
        rc = dp_fail(err, "API URL must not have a query or fragment: %s", red);
    free(red);
    return rc;
}

long gh_backoff_ms(int attempt, long base_ms, long cap_ms, unsigned *seed)
{
    if (base_ms < 1) base_ms = 1;
    if (cap_ms < base_ms) cap_ms = base_ms;
    long d = base_ms;
    for (int i = 0; i < attempt && d < cap_ms; i++) d *= 2;
    if (d > cap_ms) d = cap_ms;
    long half = d / 2;
    long span = d - half;
    return half + (span > 0 ? (long)((unsigned long)rand_r(seed) % (unsigned long)(span + 1)) : 0);
}

gh_verdict gh_classify(long status, const gh_response *r, const char *body)
{
    if (status >= 500 && status <= 599) return GH_RETRY;
    if (status == 403 || status == 429) {
        if (r->retry_after >= 0) return GH_RATE_SECONDARY;
        if (r->rate_remaining == 0) return GH_RATE_PRIMARY;
        if (body && (strcasestr(body, "secondary rate limit") || strcasestr(body, "abuse")))
            return GH_RATE_SECONDARY;
        if (status == 429) return GH_RATE_SECONDARY;
        if (body && strcasestr(body, "rate limit")) return GH_RATE_PRIMARY;
        return GH_FAIL;
    }
    if ((status >= 200 && status < 300) || status == 304 || status == 404 || status == 410 ||
        status == 301 || status == 302 || status == 307 || status == 308)
        return GH_DONE;
    return GH_FAIL;
}

double gh_rate_wait_s(const gh_response *r, int64_t now, double fallback_s)
{
    double w = fallback_s;
    if (r->retry_after >= 0) w = (double)r->retry_after;
    else if (r->rate_remaining == 0 && r->rate_reset > 0) w = (double)(r->rate_reset - now) + 1.0;
    if (w < 1.0) w = 1.0;
    if (w > GH_MAX_WAIT_S) w = GH_MAX_WAIT_S;
    return w;
}

/* ---- curl plumbing ------------------------------------------------------ */

/* Why a transfer was stopped by one of our callbacks. */
typedef enum { XFER_GO = 0, XFER_CANCELLED, XFER_DEADLINE, XFER_TOO_BIG, XFER_HEADERS_TOO_BIG } xfer_stop;

/* One exchange in flight: what the curl callbacks need. */
typedef struct xfer {
    gh_client *c;
    gh_response *resp;
    double deadline;            /* dp_now() limit */
    size_t header_bytes;
    xfer_stop stop;
} xfer;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    gh_response *r = x->resp;
    size_t len = size * n;
    /* Decoded bytes: curl inflates before calling us, so a gzip bomb is cut
     * off here after max_body bytes, not after it has filled memory. */
    if (len > x->c->cfg.max_body - r->body.len) {
        x->stop = XFER_TOO_BIG;
        return 0;   /* curl fails with WRITE_ERROR */
    }
    sb_add(&r->body, p, len);
    return len;
}

/* libcurl calls this at least once a second, even while no byte moves:
 * the place to honour a signal and the deadline inside a transfer. */
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    xfer *x = ud;
    if (x->c->cfg.cancel && *x->c->cfg.cancel) x->stop = XFER_CANCELLED;
    else if (dp_now() > x->deadline) x->stop = XFER_DEADLINE;
    return x->stop != XFER_GO;   /* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

static void reset_headers(gh_response *r)
{
    free(r->etag);
    free(r->next_url);
    free(r->last_url);
    free(r->location);
    r->etag = r->next_url = r->last_url = r->location = NULL;
    r->rate_limit = r->rate_remaining = -1;
    r->rate_reset = 0;
    r->retry_after = -1;
    r->date = 0;
}

static int header_is(const char *line, size_t n, const char *name, const char **val)
{
    size_t nl = strlen(name);
    if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl)) return 0;
    *val = line + nl + 1;
    return 1;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    gh_response *r = x->resp;
    size_t len = size * n;
    const char *v;
    x->header_bytes += len;
    if (x->header_bytes > GH_MAX_HEADERS) {
        x->stop = XFER_HEADERS_TOO_BIG;
        return 0;
    }
    if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
        reset_headers(r);     /* a new response (after 100 Continue) */
        return len;
    }
    size_t vl;
#define VAL_LEN() (vl = len - (size_t)(v - line))
    if (header_is(line, len, "etag", &v)) {
        VAL_LEN();
        free(r->etag);
        r->etag = trim_dup(v, vl);
    } else if (header_is(line, len, "link", &v)) {
        VAL_LEN();
        char *h = trim_dup(v, vl);
        free(r->next_url);
        free(r->last_url);
        r->next_url = gh_link_find(h, "next");
        r->last_url = gh_link_find(h, "last");
        free(h);
    } else if (header_is(line, len, "location", &v)) {
        VAL_LEN();
        free(r->location);
        r->location = trim_dup(v, vl);
    } else if (header_is(line, len, "x-ratelimit-limit", &v)) {
        r->rate_limit = strtol(v, NULL, 10);
    } else if (header_is(line, len, "x-ratelimit-remaining", &v)) {
        r->rate_remaining = strtol(v, NULL, 10);
    } else if (header_is(line, len, "x-ratelimit-reset", &v)) {
        r->rate_reset = strtoll(v, NULL, 10);
    } else if (header_is(line, len, "date", &v)) {
        VAL_LEN();
        char *d = trim_dup(v, vl);
        time_t t = curl_getdate(d, NULL);
        free(d);
        if (t > 0) r->date = (int64_t)t;
    } else if (header_is(line, len, "retry-after", &v)) {
        /* Seconds form only; an HTTP-date falls back to the default wait. */
        char *end;
        long s = strtol(v, &end, 10);
        if (end != v && s >= 0) r->retry_after = s;
    }
#undef VAL_LEN
    return len;
}

static char *normalise_base(const char *api_url)
{
    const char *u = api_url && *api_url ? api_url : "https://api.github.com";
    size_t n = strlen(u);
    while (n && u[n - 1] == '/') n--;
    return xstrndup(u, n);
}

int gh_client_new(const gh_config *cfg, gh_client **out, dp_err *err)
{
    *out = NULL;
    static int global_done;
    if (!global_done) {
        /* Not thread-safe by curl's rules; the CLI is single-threaded here. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return dp_fail(err, "cannot initialise libcurl");
        global_done = 1;
    }
    gh_client *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->base = normalise_base(cfg->api_url);
    if (gh_check_api_url(c->base, err) != DP_OK) {
        gh_client_free(c);
        return DP_ERR;
    }
    c->token = cfg->token && *cfg->token ? xstrdup(cfg->token) : NULL;
    c->user_agent = xstrdup(cfg->user_agent ? cfg->user_agent : "doppel/0.1");
    if (c->cfg.max_tries <= 0) c->cfg.max_tries = 6;
    if (c->cfg.backoff_base_ms <= 0) c->cfg.backoff_base_ms = 1000;
    if (c->cfg.backoff_cap_ms <= 0) c->cfg.backoff_cap_ms = 60000;
    if (c->cfg.stall_timeout_s <= 0) c->cfg.stall_timeout_s = 60;
    if (c->cfg.max_rate_waits <= 0) c->cfg.max_rate_waits = 10;
    if (c->cfg.deadline_s <= 0) c->cfg.deadline_s = 300;
    if (c->cfg.max_body == 0) c->cfg.max_body = GH_DEFAULT_MAX_BODY;
    if (c->cfg.write_gap_ms == 0) c->cfg.write_gap_ms = 1000;
    if (c->cfg.max_wait_s <= 0) c->cfg.max_wait_s = (long)GH_MAX_WAIT_S;
    c->stats.rate_limit = c->stats.rate_remaining = -1;
    c->seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 8);

    c->curl = curl_easy_init();
    if (!c->curl) {
        gh_client_free(c);
        return dp_fail(err, "cannot create a curl handle");
    }
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);   /* redirects are decisions */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->cfg.deadline_s < 30 ? c->cfg.deadline_s : 30L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->cfg.stall_timeout_s);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    *out = c;
    return DP_OK;
}

void gh_client_free(gh_client *c)
{
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    if (c->token) {
        /* Best effort: do not leave the secret in freed heap memory. */
        volatile char *t = c->token;
        while (*t) *t++ = 0;
        free(c->token);
    }
    free(c->base);
    free(c->user_agent);
    free(c);
}

const gh_stats *gh_client_stats(const gh_client *c) { return &c->stats; }
const char *gh_client_base(const gh_client *c) { return c->base; }

void gh_response_free(gh_response *r)
{
    if (!r) return;
    sb_free(&r->body);
    reset_headers(r);
}

/* Sleeps `secs`, reporting the countdown; DP_ERR when cancelled. */
static int gh_sleep(gh_client *c, double secs, const char *why, dp_err *err)
{
    double end = dp_now() + secs;
    c->stats.waited_s += secs;
    for (;;) {
        if (c->cfg.cancel && *c->cfg.cancel) return dp_fail(err, "interrupted");
        double left = end - dp_now();
        if (left <= 0) break;
        if (c->cfg.on_wait) c->cfg.on_wait(c->cfg.wait_ctx, left, why);
        double step = left < 0.25 ? left : 0.25;
        struct timespec ts = {(time_t)step, (long)((step - (double)(time_t)step) * 1e9)};
        nanosleep(&ts, NULL);   /* EINTR just ends the step early */
    }
    if (c->cfg.on_wait) c->cfg.on_wait(c->cfg.wait_ctx, 0, why);
    return DP_OK;
}

/* Replaces terminal control characters (ESC, C1 controls) with '?', then
 * cuts s to at most max bytes on a UTF-8 boundary. In place. */
static void printable(char *s, size_t max)
{
    unsigned char *u = (unsigned char *)s;
    for (size_t i = 0; u[i]; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f) u[i] = '?';
        else if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) u[i] = u[i + 1] = '?';
    }
    size_t n = strlen(s);
    if (n <= max) return;
    while (max && (u[max] & 0xc0) == 0x80) max--;
    s[max] = 0;
}

/* The "message" of a GitHub error body, else its first line; secrets
 * redacted (before cutting, so half a token cannot slip through), control
 * characters replaced, at most GH_MSG_MAX bytes. Owned. */
static char *error_message(const gh_client *c, const sbuf *body)
{
    if (!body->len) return xstrdup("(empty body)");
    char *raw = NULL;
    if (body->len <= 65536) {   /* only small bodies are worth a JSON parse */
        json_t *j = json_loadb(body->s, body->len, 0, NULL);
        const char *m = json_string_value(json_object_get(j, "message"));
        if (m) raw = xstrdup(m);
        json_decref(j);
    }
    if (!raw) raw = xstrndup(body->s, strcspn(body->s, "\r\n"));
    char *msg = gh_redact_text(raw, c->token);
    free(raw);
    printable(msg, GH_MSG_MAX);
    return msg;
}

static int curl_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:   /* our cancel, deadline and size limits */
    case CURLE_OUT_OF_MEMORY:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        return 0;
    default:
        return 1;
    }
}

static struct curl_slist *build_headers(gh_client *c, const char *etag, int has_body)
{
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Accept: application/vnd.github+json");
    h = curl_slist_append(h, "X-GitHub-Api-Version: 2022-11-28");
    if (c->token) {
        char *a = xasprintf("Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, a);
        volatile char *t = a;
        while (*t) *t++ = 0;
        free(a);
    }
    if (etag && *etag) {
        char *a = xasprintf("If-None-Match: %s", etag);
        h = curl_slist_append(h, a);
        free(a);
    }
    if (has_body) {
        h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
        h = curl_slist_append(h, "Expect:");   /* no 100-continue round trip */
    }
    return h;
}

static void free_headers(struct curl_slist *h)
{
    /* The Authorization line holds the token: wipe before freeing. */
    for (struct curl_slist *p = h; p; p = p->next) {
        volatile char *t = p->data;
        while (*t) *t++ = 0;
    }
    curl_slist_free_all(h);
}

/* One request as the retry loop sees it. */
typedef struct gh_req {
    const char *method;     /* "GET", "POST", "PATCH", "PUT", "DELETE" */
    const char *url;        /* absolute, same origin as the API URL */
    const char *etag;       /* If-None-Match, NULL for none */
    const char *body;       /* JSON request body, NULL for none */
} gh_req;

static int is_write(const gh_req *rq)
{
    return strcmp(rq->method, "GET") != 0;
}

/* Sets method and body on the reused handle. HTTPGET also clears a body
 * left by an earlier write. */
static void set_method(CURL *h, const gh_req *rq)
{
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (rq->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(rq->body));
    }
    int plain = !strcmp(rq->method, "GET") || (rq->body && !strcmp(rq->method, "POST"));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, plain ? NULL : rq->method);
    /* A write never reuses a connection: libcurl resends a request whose
     * reused connection turns out dead before any answer byte, and the
     * first copy may have been applied. */
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, is_write(rq) ? 1L : 0L);
}

/* One exchange. Returns the curl code; fills resp, and *stop says which of
 * our limits ended it (XFER_GO when none did). */
static CURLcode perform(gh_client *c, const gh_req *rq, gh_response *resp, xfer_stop *stop)
{
    sb_reset(&resp->body);
    reset_headers(resp);
    resp->status = 0;
    c->curl_err[0] = 0;
    xfer x = {.c = c, .resp = resp, .deadline = dp_now() + (double)c->cfg.deadline_s};
    struct curl_slist *hdr = build_headers(c, rq->etag, rq->body != NULL);
    curl_easy_setopt(c->curl, CURLOPT_URL, rq->url);
    set_method(c->curl, rq);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &x);
    CURLcode rc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    free_headers(hdr);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    c->stats.requests++;
    if (is_write(rq)) c->stats.writes++;
    *stop = x.stop;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        c->stats.bytes += resp->body.len;
        if (resp->rate_remaining >= 0) {
            c->stats.rate_remaining = resp->rate_remaining;
            c->stats.rate_limit = resp->rate_limit;
            c->stats.rate_reset = resp->rate_reset;
        }
        if (resp->status == 304) c->stats.not_modified++;
    }
    return rc;
}

/* gh_sleep within the request's budget of waiting (max_wait_s): *waited
 * holds what the request slept so far. A wait that would exceed the budget
 * fails at once instead of sleeping first. */
static int bounded_sleep(gh_client *c, double *waited, double secs, const char *why, dp_err *err)
{
    if (*waited + secs > (double)c->cfg.max_wait_s)
        return dp_fail(err, "%s: would wait %.0f s more, beyond the limit of %ld s per request", why, secs,
                       c->cfg.max_wait_s);
    *waited += secs;
    return gh_sleep(c, secs, why, err);
}

/* Before a request: if the last answer said the budget is spent, wait for
 * the reset instead of burning a request on a certain 403. */
static int wait_for_budget(gh_client *c, double *waited, dp_err *err)
{
    if (c->stats.rate_remaining != 0 || c->stats.rate_reset <= 0) return DP_OK;
    gh_response r = {.retry_after = -1, .rate_remaining = 0, .rate_reset = c->stats.rate_reset};
    double w = gh_rate_wait_s(&r, (int64_t)time(NULL), 1.0);
    c->stats.rate_waits++;
    c->stats.rate_remaining = -1;
    return bounded_sleep(c, waited, w, "rate limit reset", err);
}

/* Before a write: GitHub asks integrations to leave about a second between
 * writes (its secondary limits punish bursts). */
static int pace_write(gh_client *c, double *waited, dp_err *err)
{
    if (c->cfg.write_gap_ms < 0 || c->last_write <= 0) return DP_OK;
    double left = c->last_write + (double)c->cfg.write_gap_ms / 1000.0 - dp_now();
    if (left <= 0) return DP_OK;
    return bounded_sleep(c, waited, left, "pacing writes", err);
}

/* Curl failures that prove the request never left: no connection was made. */
static int curl_unsent(CURLcode rc)
{
    return rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_COULDNT_CONNECT || rc == CURLE_SSL_CONNECT_ERROR;
}

/* "32 MiB", or "1000 bytes" when not a whole number of MiB. */
static void size_text(size_t n, char *buf, size_t len)
{
    if (n && n % ((size_t)1 << 20) == 0) snprintf(buf, len, "%zu MiB", n >> 20);
    else snprintf(buf, len, "%zu bytes", n);
}

/* The detail of an exchange that one of our limits stopped. */
static void stop_detail(const gh_client *c, xfer_stop stop, const gh_response *resp, char *d, size_t n)
{
    char sz[32];
    switch (stop) {
    case XFER_DEADLINE:
        snprintf(d, n, "no complete answer within the deadline of %ld s per request (%zu bytes received)",
                 c->cfg.deadline_s, resp->body.len);
        break;
    case XFER_TOO_BIG:
        size_text(c->cfg.max_body, sz, sizeof sz);
        snprintf(d, n, "the answer exceeds the size limit of %s per page (decoded)", sz);
        break;
    case XFER_HEADERS_TOO_BIG:
        size_text(GH_MAX_HEADERS, sz, sizeof sz);
        snprintf(d, n, "the response headers exceed the size limit of %s", sz);
        break;
    default:
        snprintf(d, n, "stopped");
        break;
    }
}

/* Sends rq until an answer the caller must handle (DP_OK) or a failure:
 * waits out rate limits, retries 5xx and network errors with backoff --
 * except for writes, whose 5xx and cut exchanges come back unsure (see
 * gh_write): resending them could apply them twice. */
static int request(gh_client *c, const gh_req *rq, gh_response *resp, dp_err *err)
{
    memset(resp, 0, sizeof *resp);
    sb_init(&resp->body);
    reset_headers(resp);
    if (!gh_same_origin(c->base, rq->url)) {
        char *red = gh_redact_url(rq->url);
        dp_fail(err, "refusing to %s %s: not under the API URL", rq->method, red);
        free(red);
        return DP_ERR;
    }
    int write = is_write(rq);
    int tries = 0, rate_waits = 0;
    double waited = 0;
    for (;;) {
        if (c->cfg.cancel && *c->cfg.cancel) return dp_fail(err, "interrupted");
        if (wait_for_budget(c, &waited, err) != DP_OK) return DP_ERR;
        if (write && pace_write(c, &waited, err) != DP_OK) return DP_ERR;
        if (write) c->last_write = dp_now();
        xfer_stop stop;
        CURLcode rc = perform(c, rq, resp, &stop);
        const char *why = NULL;
        char detail[256] = "";
        if (stop == XFER_CANCELLED) {
            resp->unsure = write;   /* it may have left before the signal */
            return dp_fail(err, "interrupted");
        }
        if (stop != XFER_GO) {
            stop_detail(c, stop, resp, detail, sizeof detail);
            resp->unsure = write;
            goto fail;   /* not retried: a slow or huge answer would come again */
        }
        if (rc != CURLE_OK) {
            char *m = gh_redact_text(c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc), c->token);
            printable(m, GH_MSG_MAX);
            snprintf(detail, sizeof detail, "%s", m);
            free(m);
            if (write && !curl_unsent(rc)) {
                resp->unsure = 1;
                goto fail;
            }
            if (!curl_retryable(rc)) goto fail;
            why = "network error";
        } else {
            gh_verdict v = gh_classify(resp->status, resp, sb_str(&resp->body));
            if (v == GH_DONE) return DP_OK;
            char *msg = error_message(c, &resp->body);
            snprintf(detail, sizeof detail, "HTTP %ld: %s", resp->status, msg);
            free(msg);
            if (v == GH_FAIL) goto fail;
            if (v == GH_RATE_PRIMARY || v == GH_RATE_SECONDARY) {
                /* Refused, so a write can be sent again after the wait. */
                if (++rate_waits > c->cfg.max_rate_waits) goto fail;
                /* GitHub: without Retry-After wait at least a minute for a
                 * secondary limit, longer each time it repeats; scaled by
                 * the base delay so tests are fast. */
                int doubling = rate_waits - 1 < 6 ? rate_waits - 1 : 6;
                double fallback = 60.0 * (double)c->cfg.backoff_base_ms / 1000.0 * (double)(1 << doubling);
                double w = gh_rate_wait_s(resp, (int64_t)time(NULL), fallback);
                c->stats.rate_waits++;
                c->stats.rate_remaining = -1;
                if (bounded_sleep(c, &waited, w,
                                  v == GH_RATE_PRIMARY ? "rate limit reset" : "secondary rate limit",
                                  err) != DP_OK)
                    return DP_ERR;
                continue;
            }
            if (write) {
                resp->unsure = 1;   /* a 5xx does not say whether it was applied */
                goto fail;
            }
            why = "server error";
        }
        if (tries + 1 >= c->cfg.max_tries) goto fail;
        tries++;
        c->stats.retries++;
        long ms = gh_backoff_ms(tries - 1, c->cfg.backoff_base_ms, c->cfg.backoff_cap_ms, &c->seed);
        if (bounded_sleep(c, &waited, (double)ms / 1000.0, why, err) != DP_OK) return DP_ERR;
        continue;
    fail:;
        char *red = gh_redact_url(rq->url);
        if (tries > 0)
            dp_fail(err, "%s %s: %s (after %d tries)", rq->method, red, detail, tries + 1);
        else
            dp_fail(err, "%s %s: %s", rq->method, red, detail);
        free(red);
        return DP_ERR;
    }
}

int gh_get(gh_client *c, const char *url, const char *etag, gh_response *resp, dp_err *err)
{
    gh_req rq = {.method = "GET", .url = url, .etag = etag};
    return request(c, &rq, resp, err);
}

int gh_write(gh_client *c, const char *method, const char *url, const char *json_body, gh_response *resp,
             dp_err *err)
{
    if (!method || (strcmp(method, "POST") && strcmp(method, "PATCH") && strcmp(method, "PUT") &&
                    strcmp(method, "DELETE"))) {
        memset(resp, 0, sizeof *resp);
        return dp_fail(err, "gh_write: unsupported method %s", method ? method : "(null)");
    }
    gh_req rq = {.method = method, .url = url, .body = json_body};
    return request(c, &rq, resp, err);
}
