/* server.c -- the HTTP side of `doppel serve`, on libmicrohttpd.
 *
 * A pool of worker threads, each running its own epoll loop, answers:
 *   /, /pair/ID, /item/REPO/KEY   the page (index.html; the page routes itself)
 *   /static/NAME                  the embedded assets (assets.h)
 *   /api/...                      the JSON API (api.c)
 * The security policy lives here and applies to every response:
 *  - a strict Content-Security-Policy (scripts and styles only from this
 *    origin, no inline anything, no frames, images only local or data:), plus
 *    nosniff, no referrer, no framing;
 *  - on a loopback bind the Host header must name the loopback address, so a
 *    web page whose domain was rebound to 127.0.0.1 cannot read the API;
 *  - with a token, API calls need it (Authorization: Bearer, or the HttpOnly
 *    SameSite=Strict cookie set when the page is opened with ?token=);
 *  - POSTs must carry a JSON content type and the X-Doppel header, and their
 *    Origin / Sec-Fetch-Site must be this site: a cross-site form cannot
 *    record verdicts;
 *  - request bodies are capped at WEB_MAX_BODY, headers by the connection
 *    memory limit (MHD answers 431/414 itself).
 * Each worker opens its own read-only store handle on first use (thread-
 * specific key) and answers GETs with it, lock-free; the few writes (verdict
 * POSTs) share one read-write handle under a mutex. web_stop lets requests
 * in flight finish before closing them all. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "assets.h"
#include "web.h"

#define WEB_MAX_PARAMS 32

static const char CSP[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

struct web_server {
    struct MHD_Daemon *d;
    char *db_path;
    char *token;              /* NULL when none */
    int loopback;             /* Host checking applies */
    unsigned port;
    pthread_key_t key;        /* this thread's read-only store handle */
    pthread_mutex_t mu;       /* guards handles and log */
    pthread_mutex_t wmu;      /* guards writer */
    store *writer;            /* the read-write handle for POSTs */
    store **handles;
    size_t nhandles, caphandles;
    atomic_int inflight;      /* requests between first call and completion */
    void (*log)(void *, const char *);
    void *log_ud;
};

/* Per-request state, MHD's *con_cls. */
typedef struct web_req {
    sbuf body;
    int too_big;
} web_req;

/* ---- helpers ------------------------------------------------------------ */

static store *thread_store(web_server *s, dp_err *err)
{
    store *st = pthread_getspecific(s->key);
    if (st) return st;
    if (store_open_readonly(s->db_path, &st, err) != DP_OK) return NULL;
    pthread_setspecific(s->key, st);
    pthread_mutex_lock(&s->mu);
    if (s->nhandles == s->caphandles) {
        s->caphandles = s->caphandles ? s->caphandles * 2 : 8;
        s->handles = xrealloc(s->handles, s->caphandles * sizeof *s->handles);
    }
    s->handles[s->nhandles++] = st;
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void server_log(web_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void server_log(web_server *s, const char *fmt, ...)
{
    if (!s->log) return;
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->mu);
    s->log(s->log_ud, line);
    pthread_mutex_unlock(&s->mu);
}

/* Compares without an early exit, so timing does not reveal a prefix. */
static int token_eq(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na; i++) diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (nb ? nb : 1)];
    return diff == 0;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static enum MHD_Result send_buf(web_server *s, struct MHD_Connection *c, int status,
                                const char *ctype, const void *data, size_t len, int copy,
                                const char *cache, const char *allow, const char *extra_name,
                                const char *extra_value)
{
    (void)s;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)data, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, "Cache-Control", cache ? cache : "no-store");
    if (allow) MHD_add_response_header(r, "Allow", allow);
    if (extra_name) MHD_add_response_header(r, extra_name, extra_value);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json_error(web_server *s, struct MHD_Connection *c, int status,
                                       const char *msg, const char *allow)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "{\"error\":\"%s\"}", msg);   /* msg: our own ASCII */
    return send_buf(s, c, status, "application/json; charset=utf-8", buf, (size_t)n, 1, NULL, allow,
                    NULL, NULL);
}

static enum MHD_Result send_text(web_server *s, struct MHD_Connection *c, int status, const char *msg,
                                 const char *allow)
{
    return send_buf(s, c, status, "text/plain; charset=utf-8", msg, strlen(msg), 1, NULL, allow, NULL,
                    NULL);
}

static const web_asset *asset(const char *name)
{
    for (const web_asset *a = web_assets; a->name; a++)
        if (!strcmp(a->name, name)) return a;
    return NULL;
}

/* ---- policy checks ------------------------------------------------------ */

/* On a loopback bind only loopback names may appear in Host. */
static int host_ok(web_server *s, struct MHD_Connection *c)
{
    if (!s->loopback) return 1;
    const char *h = header(c, "Host");
    if (!h) return 0;
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]", NULL};
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(h, names[i], n)) continue;
        if (!h[n]) return s->port == 80;
        if (h[n] == ':' && (unsigned)atoi(h + n + 1) == s->port) return 1;
    }
    return 0;
}

static int authorized(web_server *s, struct MHD_Connection *c)
{
    if (!s->token) return 1;
    const char *a = header(c, "Authorization");
    if (a && !strncasecmp(a, "Bearer ", 7) && token_eq(a + 7, s->token)) return 1;
    const char *ck = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "doppel_token");
    return token_eq(ck, s->token);
}

/* The request is from this site: no cross-site form or fetch. */
static int same_site(struct MHD_Connection *c)
{
    const char *sfs = header(c, "Sec-Fetch-Site");
    if (sfs && strcmp(sfs, "same-origin") && strcmp(sfs, "none")) return 0;
    const char *origin = header(c, "Origin"), *host = header(c, "Host");
    if (origin) {
        if (!host) return 0;
        const char *o = !strncmp(origin, "http://", 7) ? origin + 7
                        : !strncmp(origin, "https://", 8) ? origin + 8 : NULL;
        if (!o || strcasecmp(o, host)) return 0;
    }
    return header(c, "X-Doppel") != NULL;
}

static int json_ctype(struct MHD_Connection *c)
{
    const char *ct = header(c, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16)) return 0;
    return ct[16] == 0 || ct[16] == ';' || ct[16] == ' ';
}

/* ---- handlers ----------------------------------------------------------- */

typedef struct params_acc {
    web_param v[WEB_MAX_PARAMS];
    size_t n;
    int overflow;
} params_acc;

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    params_acc *p = cls;
    if (p->n == WEB_MAX_PARAMS) {
        p->overflow = 1;
        return MHD_NO;
    }
    p->v[p->n].name = key;
    p->v[p->n].value = value ? value : "";
    p->n++;
    return MHD_YES;
}

static enum MHD_Result handle_api(web_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, web_req *rq)
{
    int post = !strcmp(method, "POST");
    if (!authorized(s, c)) return send_json_error(s, c, 401, "missing or wrong token", NULL);
    if (post && !same_site(c)) return send_json_error(s, c, 403, "cross-site request refused", NULL);
    if (post && !json_ctype(c))
        return send_json_error(s, c, 415, "expected Content-Type: application/json", NULL);
    if (rq->too_big) return send_json_error(s, c, 413, "request body too large", NULL);
    params_acc pa = {.n = 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, &pa);
    if (pa.overflow) return send_json_error(s, c, 400, "too many parameters", NULL);
    dp_err err = {{0}};
    store *st = post ? s->writer : thread_store(s, &err);
    if (!st) {
        server_log(s, "%s %s: %s", method, url, err.msg);
        return send_json_error(s, c, 500, "store unavailable", NULL);
    }
    web_reply rep;
    if (post) pthread_mutex_lock(&s->wmu);
    int rc = web_api_handle(st, method, url, pa.v, pa.n, rq->body.s, rq->body.len, &rep, &err);
    if (post) pthread_mutex_unlock(&s->wmu);
    if (rc != DP_OK) server_log(s, "%s %s: %s", method, url, err.msg);
    enum MHD_Result ret = send_buf(s, c, rep.status, "application/json; charset=utf-8", rep.body,
                                   rep.len, 1, NULL, rep.allow, NULL, NULL);
    web_reply_free(&rep);
    return ret;
}

/* Paths the page routes itself; all get index.html so deep links work. */
static int page_route(const char *url)
{
    if (!strcmp(url, "/")) return 1;
    if (!strncmp(url, "/pair/", 6)) {
        const char *p = url + 6;
        if (!*p) return 0;
        for (; *p; p++)
            if (*p < '0' || *p > '9') return 0;
        return 1;
    }
    return !strncmp(url, "/item/", 6) && strchr(url + 6, '/') != NULL;
}

static enum MHD_Result handle_page(web_server *s, struct MHD_Connection *c, const char *url)
{
    const char *tok = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (tok && s->token && page_route(url)) {
        /* Trade the token in the URL for a cookie and drop it from the
         * address bar (and from the history). */
        if (!token_eq(tok, s->token)) return send_text(s, c, 401, "wrong token\n", NULL);
        char cookie[400];
        snprintf(cookie, sizeof cookie, "doppel_token=%s; Path=/; HttpOnly; SameSite=Strict", s->token);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, "Location", url);
        MHD_add_response_header(r, "Set-Cookie", cookie);
        MHD_add_response_header(r, "Cache-Control", "no-store");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        enum MHD_Result ret = MHD_queue_response(c, 303, r);
        MHD_destroy_response(r);
        return ret;
    }
    const web_asset *a = NULL;
    if (page_route(url)) a = asset("index.html");
    else if (!strncmp(url, "/static/", 8)) a = asset(url + 8);
    else if (!strcmp(url, "/favicon.ico")) a = asset("favicon.svg");
    if (!a) return send_text(s, c, 404, "not found\n", NULL);
    return send_buf(s, c, 200, a->mime, a->data, a->len, 0, "no-cache", NULL, NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    web_server *s = cls;
    web_req *rq = *con_cls;
    if (!rq) {
        rq = xcalloc(1, sizeof *rq);
        *con_cls = rq;
        atomic_fetch_add(&s->inflight, 1);
        /* Refuse an announced oversized body before reading any of it. */
        const char *cl = header(c, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > WEB_MAX_BODY) {
            rq->too_big = 1;
            return send_json_error(s, c, 413, "request body too large", NULL);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body.len + *upload_size > WEB_MAX_BODY) rq->too_big = 1;
        else sb_add(&rq->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    int api = !strncmp(url, "/api/", 5) || !strcmp(url, "/api");
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!host_ok(s, c)) return send_text(s, c, 403, "unexpected Host header\n", NULL);
    if (api) {
        int verdict_path = strlen(url) > 8 && !strcmp(url + strlen(url) - 8, "/verdict");
        if (!get && strcmp(method, "POST"))
            return send_json_error(s, c, 405, "method not allowed", verdict_path ? "POST" : "GET, HEAD");
        return handle_api(s, c, url, method, rq);
    }
    if (!get) return send_text(s, c, 405, "method not allowed\n", "GET, HEAD");
    return handle_page(s, c, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    web_server *s = cls;
    web_req *rq = *con_cls;
    if (!rq) return;
    sb_free(&rq->body);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

/* ---- start / stop ------------------------------------------------------- */

static int addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}

int web_is_loopback(const char *host)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (!host || getaddrinfo(host, NULL, &hints, &res)) return 0;
    int all = 1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (!addr_is_loopback(ai->ai_addr)) all = 0;
    freeaddrinfo(res);
    return all;
}

/* Tokens go into a cookie and a header: keep them to URL-safe characters. */
static int token_valid(const char *t)
{
    size_t n = strlen(t);
    if (n < 8 || n > 256) return 0;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              strchr("-._~", *t)))
            return 0;
    return 1;
}

static void close_handle(void *p)
{
    (void)p;   /* handles are closed by web_stop, which owns the list */
}

static void server_free(web_server *s)
{
    for (size_t i = 0; i < s->nhandles; i++) store_close(s->handles[i]);
    free(s->handles);
    store_close(s->writer);
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->wmu);
    free(s->db_path);
    free(s->token);
    free(s);
}

int web_start(const web_config *cfg, web_server **out, dp_err *err)
{
    const char *bind = cfg->bind && *cfg->bind ? cfg->bind : "127.0.0.1";
    const char *token = cfg->token && *cfg->token ? cfg->token : NULL;
    *out = NULL;
    if (access(cfg->db_path, F_OK))
        return dp_fail(err, "%s: no such store (run `doppel import` and `doppel analyze` first)",
                       cfg->db_path);
    int loopback = web_is_loopback(bind);
    if (!loopback && !token)
        return dp_fail(err, "binding %s exposes the store beyond this machine: give --token "
                            "(or DOPPEL_TOKEN)", bind);
    if (token && !token_valid(token))
        return dp_fail(err, "the token must be 8 to 256 characters of A-Z a-z 0-9 - . _ ~");
    /* Opening for writing first also migrates an older schema, which the
     * workers' read-only handles would refuse. */
    store *writer;
    if (store_open(cfg->db_path, &writer, err) != DP_OK) return DP_ERR;

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *res = NULL;
    char port[16];
    snprintf(port, sizeof port, "%u", cfg->port);
    int gai = getaddrinfo(bind, port, &hints, &res);
    if (gai) {
        store_close(writer);
        return dp_fail(err, "cannot resolve %s: %s", bind, gai_strerror(gai));
    }

    web_server *s = xcalloc(1, sizeof *s);
    s->db_path = xstrdup(cfg->db_path);
    s->writer = writer;
    s->token = xstrdup(token);
    s->loopback = loopback;
    s->log = cfg->log;
    s->log_ud = cfg->log_ud;
    atomic_init(&s->inflight, 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_key_create(&s->key, close_handle);
    int ncpu = dp_threads(0);
    unsigned threads = cfg->threads ? cfg->threads : ncpu < 2 ? 2 : ncpu > 16 ? 16 : (unsigned)ncpu;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
    if (res->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, res->ai_addr,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_CONNECTION_LIMIT, 512u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_END);
    freeaddrinfo(res);
    if (!s->d) {
        server_free(s);
        return dp_fail(err, "cannot listen on %s port %u (in use? permission?)", bind, cfg->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return DP_OK;
}

unsigned web_port(const web_server *s)
{
    return s->port;
}

void web_stop(web_server *s)
{
    if (!s) return;
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET) close(ls);
    /* Requests already read finish and get their answer (a verdict POST is
     * committed before it is answered); give them up to five seconds. */
    for (int i = 0; i < 500 && atomic_load(&s->inflight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    server_free(s);
}
